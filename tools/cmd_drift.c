/* cpufleet drift: the server's drift events (GET /v1/events) in users'
 * words, oldest first: when, which host, why (kernel, microcode,
 * firmware), each feature gained or lost, and what it did to the
 * profiles published for the host's pools. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"
#include "tools/remote.h"

#define PATH_MAX_ 1024

static const char drift_help[] =
"usage: cpufleet drift --server URL [--token T|--token-file F] [--since TIME]\n"
"                      [--json] [HOST]\n"
"\n"
"Lists the drift events the server recorded, oldest first: a host's new\n"
"report offered another CPU configuration than its previous one.  Each\n"
"line names the cause the reports show (kernel release, microcode,\n"
"firmware; 'cause unknown' when none changed), every field that changed\n"
"with its feature name, and for each profile published for a pool the\n"
"host is in (and any other whose verdict changed): still accepted, now\n"
"REFUSED (with the reasons), still refused or now accepted.\n"
"\n"
"      --since TIME     events received at or after TIME (RFC 3339 UTC)\n"
"      --limit N        the newest N events (1 to 10000; default 1000)\n"
"  -s, --server URL     the server (http:// or https://)\n"
"  -t, --token T        bearer token (or CPUFLEET_TOKEN, or --token-file)\n"
"  -T, --token-file F   read the token from F\n"
"      --cacert PEM     CA certificate to trust for HTTPS\n"
"  -j, --json           print the server's JSON answer\n"
"  -h, --help           this text\n"
"\n"
"exit: 0 no event listed made a host refuse a profile published for its\n"
"pool, 1 some did (a profile accepted before is now refused), 2 usage\n"
"error or refused (4xx), 3 server error or unreachable\n";

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : "";
}

static bool flag(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int num(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(it) ? it->valueint : 0;
}

/* A field's value as the event gives it ("0x1"): small values in decimal,
 * as `show` prints flags and levels. */
static void value_text(const char *hex, char *buf, size_t len)
{
	unsigned long long v = strtoull(hex, NULL, 16);

	if (v <= 0xffff)
		snprintf(buf, len, "%llu", v);
	else
		snprintf(buf, len, "%s", hex);
}

static void print_cause(const cJSON *ev)
{
	const cJSON *c, *cause = cJSON_GetObjectItemCaseSensitive(ev, "cause");
	bool any = false;

	cJSON_ArrayForEach(c, cause) {
		printf("%s%s %s -> %s", any ? ", " : "", str(c, "what"),
		       *str(c, "old") ? str(c, "old") : "(not reported)",
		       *str(c, "new") ? str(c, "new") : "(not reported)");
		any = true;
	}
	if (!any)
		printf("cause unknown");
}

static void print_changes(const cJSON *ev)
{
	const cJSON *c, *ch = cJSON_GetObjectItemCaseSensitive(ev, "changes");
	char a[24], b[24];
	bool any = false;

	cJSON_ArrayForEach(c, ch) {
		const char *kind = str(c, "change");
		value_text(str(c, "old"), a, sizeof(a));
		value_text(str(c, "new"), b, sizeof(b));
		printf("%s", any ? ", " : "; ");
		if (*str(c, "feature"))
			printf("%s", str(c, "feature"));
		else
			printf("%s.%s", str(c, "register"), str(c, "field"));
		printf(" %s -> %s", a, b);
		if (strcmp(kind, "changed") != 0)
			printf(" (%s)", kind);
		any = true;
	}
	if (!any)
		printf("; no field named");
}

/* A profile published for one of the host's pools, accepted before and
 * refused now. */
static bool broke_pool(const cJSON *p)
{
	return flag(p, "member") && !strcmp(str(p, "status"), "now_refused");
}

/* The profiles of the host's pools, and any other whose verdict
 * changed. */
static void print_profiles(const cJSON *ev)
{
	const cJSON *p, *ps = cJSON_GetObjectItemCaseSensitive(ev, "profiles");

	cJSON_ArrayForEach(p, ps) {
		const char *st = str(p, "status");
		bool member = flag(p, "member");
		bool moved = !strcmp(st, "now_refused") ||
			     !strcmp(st, "now_accepted");
		const cJSON *r, *reasons;
		bool first = true;

		if (!member && !moved)
			continue;
		printf("; profile %s@%d", str(p, "profile"), num(p, "version"));
		if (*str(p, "pool"))
			printf(" (pool %s%s)", str(p, "pool"),
			       member ? "" : ", not a member");
		if (!strcmp(st, "still_accepted"))
			printf(": still accepted");
		else if (!strcmp(st, "now_accepted"))
			printf(": now accepted");
		else
			printf(": %s REFUSED",
			       !strcmp(st, "now_refused") ? "now" : "still");
		reasons = cJSON_GetObjectItemCaseSensitive(p, "reasons");
		if (!cJSON_GetArraySize(reasons))
			continue;
		printf(" (");
		cJSON_ArrayForEach(r, reasons) {
			printf("%s%s", first ? "" : "; ",
			       cJSON_IsString(r) ? r->valuestring : "");
			first = false;
		}
		printf(")");
	}
}

int cmd_drift(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	const char *since = NULL, *limit = "1000";
	char path[PATH_MAX_] = "/v1/events?limit=";
	struct cf_client *cl = NULL;
	cJSON *out = NULL, *evs, *ev;
	bool json = false, broke = false;
	long status = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:T:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': case 't': case 'T': case 'C':
			remote_opt(&ro, c, optarg);
			break;
		case 'S': since = optarg; break;
		case 'L': limit = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(drift_help, stdout); return CLI_OK;
		default:
			fputs(drift_help, stderr);
			return CLI_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_error("drift", "expected at most one HOST");
		fputs(drift_help, stderr);
		return CLI_USAGE;
	}
	if (!remote_path_add(path, sizeof(path), limit) ||
	    (since && (strlen(path) + 7 >= sizeof(path) ||
		       !strcat(path, "&since=") ||
		       !remote_path_add(path, sizeof(path), since))) ||
	    (optind < argc && (strlen(path) + 6 >= sizeof(path) ||
			       !strcat(path, "&host=") ||
			       !remote_path_add(path, sizeof(path),
						argv[optind])))) {
		cli_error("drift", "arguments too long");
		return CLI_USAGE;
	}
	rc = remote_connect("drift", &ro, &cl);
	if (rc != CLI_OK)
		return rc;
	rc = remote_call("drift", cl, "GET", path, NULL, &status, &out);
	cf_client_destroy(cl);
	if (rc != CLI_OK)
		goto out;
	evs = cJSON_GetObjectItemCaseSensitive(out, "events");
	if (!cJSON_IsArray(evs)) {
		cli_error("drift", "the server's answer has no events");
		rc = CLI_INTERNAL;
		goto out;
	}
	/* The server gives the newest first; people read history forwards. */
	for (int i = cJSON_GetArraySize(evs) - 1; i >= 0; i--) {
		const cJSON *p;

		ev = cJSON_GetArrayItem(evs, i);
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(
					      ev, "profiles"))
			broke = broke || broke_pool(p);
		if (json)
			continue;
		printf("%s %s: ", str(ev, "at"), str(ev, "host"));
		print_cause(ev);
		print_changes(ev);
		print_profiles(ev);
		printf("\n");
	}
	if (json) {
		char *s = cJSON_Print(out);
		if (s)
			printf("%s\n", s);
		cJSON_free(s);
	} else if (!cJSON_GetArraySize(evs)) {
		printf("no drift events%s%s\n", since ? " since " : "",
		       since ? since : "");
	}
	rc = broke ? CLI_NO : CLI_OK;
out:
	cJSON_Delete(out);
	return rc;
}
