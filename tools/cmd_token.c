#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"
#include "db/db.h"
#include "server/server.h"

static const char help[] =
"usage: cpufleet token create --db PATH --role admin|reader|agent [--host ID]\n"
"       cpufleet token list --db PATH [--json]\n"
"       cpufleet token revoke --db PATH TOKEN-ID\n"
"\n"
"Manages the server's bearer tokens, directly in its database (the server\n"
"may be running).  create prints the new token on stdout: it is shown once\n"
"and stored only as a SHA-256 hash.  An agent token (--host required)\n"
"uploads reports for that host only; a reader reads and checks; an admin\n"
"does everything, including uploads for any host.\n"
"\n"
"  -d, --db PATH    the server's database (a file or a postgresql:// URL)\n"
"  -r, --role ROLE  admin, reader or agent\n"
"  -H, --host ID    the agent's host id\n"
"  -j, --json       list as JSON\n"
"  -h, --help       this text\n"
"\n"
"exit: 0 done, 2 usage error or no such token, 3 internal error\n";

static int print_token(void *ctx, const struct cf_db_token *t)
{
	cJSON *arr = ctx;

	if (!arr) {
		printf("%-14s %-7s %-20s %-24s %s\n", t->id,
		       cf_db_role_name(t->role), t->host[0] ? t->host : "-",
		       t->created_at, t->revoked_at[0] ? t->revoked_at : "valid");
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o))
		return 1;
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "role", cf_db_role_name(t->role));
	if (t->host[0])
		cJSON_AddStringToObject(o, "host", t->host);
	cJSON_AddStringToObject(o, "created_at", t->created_at);
	if (t->revoked_at[0])
		cJSON_AddStringToObject(o, "revoked_at", t->revoked_at);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "host", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *role = NULL, *host = NULL, *verb;
	struct cf_db *db = NULL;
	struct cf_db_token info;
	struct cf_diag d = { "" };
	char token[CF_DB_TOKEN_MAX], now[CF_DB_TIME_MAX];
	enum cf_db_role r = CF_DB_ROLE_READER;
	cJSON *arr = NULL;
	bool json = false;
	enum cf_err err;
	int c, rc = CLI_USAGE;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return CLI_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "list") &&
			 strcmp(argv[1], "revoke"))) {
		cli_error("token", "expected create, list or revoke");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	verb = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:r:H:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': path = optarg; break;
		case 'r': role = optarg; break;
		case 'H': host = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (!path) {
		cli_error("token", "--db is required");
		return CLI_USAGE;
	}
	if (!strcmp(verb, "create")) {
		if (!role || cf_db_role_parse(role, &r) != CF_OK) {
			cli_error("token", "--role must be admin, reader or agent");
			return CLI_USAGE;
		}
		if ((r == CF_DB_ROLE_AGENT) != (host != NULL)) {
			cli_error("token", "%s", host ? "--host is for agent tokens "
				  "only" : "an agent token needs --host ID");
			return CLI_USAGE;
		}
	}
	if (optind != argc - (!strcmp(verb, "revoke") ? 1 : 0)) {
		cli_error("token", "%s", !strcmp(verb, "revoke") ?
			  "revoke takes one token id" : "unexpected argument");
		return CLI_USAGE;
	}
	err = cf_db_open(path, !strcmp(verb, "list"), &db, &d);
	if (err != CF_OK) {
		cli_error("token", "%s", d.msg);
		return CLI_USAGE;
	}
	cf_server_now(now, sizeof(now));
	if (!strcmp(verb, "create")) {
		err = cf_db_token_create(db, r, host, now, token, &info, &d);
		if (err == CF_OK)
			printf("%s\n", token);
	} else if (!strcmp(verb, "revoke")) {
		err = cf_db_token_revoke(db, argv[optind], now, &d);
		if (err == CF_OK)
			printf("revoked %s\n", argv[optind]);
	} else {
		arr = json ? cJSON_CreateArray() : NULL;
		if (!json)
			printf("%-14s %-7s %-20s %-24s %s\n", "ID", "ROLE", "HOST",
			       "CREATED", "STATE");
		err = cf_db_token_list(db, print_token, arr);
		if (err == CF_OK && json) {
			char *s = cJSON_Print(arr);
			if (s)
				printf("%s\n", s);
			cJSON_free(s);
		}
	}
	if (err != CF_OK) {
		cli_error("token", "%s", d.msg[0] ? d.msg : cf_strerror(err));
		rc = err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
		goto cleanup;
	}
	rc = CLI_OK;
cleanup:
	cJSON_Delete(arr);
	cf_db_close(db);
	return rc;
}
