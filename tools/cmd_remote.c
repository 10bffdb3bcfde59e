/* Commands that ask the server: hosts, pool, and check --server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"
#include "tools/remote.h"
#include "profiles/doc.h"

#define PATH_MAX_ 1024

#define REMOTE_OPTIONS \
	{ "server", required_argument, NULL, 's' }, \
	{ "token", required_argument, NULL, 't' }, \
	{ "token-file", required_argument, NULL, 'T' }, \
	{ "cacert", required_argument, NULL, 'C' }, \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }

#define REMOTE_HELP \
"  -s, --server URL     the server (http:// or https://)\n" \
"  -t, --token T        bearer token (or CPUFLEET_TOKEN, or --token-file)\n" \
"  -T, --token-file F   read the token from F\n" \
"      --cacert PEM     CA certificate to trust for HTTPS\n" \
"  -j, --json           print the server's JSON answer\n" \
"  -h, --help           this text\n"

static void print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);
	if (s)
		printf("%s\n", s);
	cJSON_free(s);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : "";
}

/* Parses the common options and the command's own (OWN, handled by FN);
 * returns -1 to go on, else an exit code. */
typedef int (*own_opt_fn)(void *ctx, int c, const char *arg);

static int parse_opts(const char *cmd, const char *help, int argc, char **argv,
		      const struct option *extra, const char *extra_short,
		      own_opt_fn fn, void *ctx, struct remote_opts *ro,
		      bool *json)
{
	struct option opts[24] = { REMOTE_OPTIONS };
	size_t n = 6;
	char shorts[64];
	int c;

	for (size_t i = 0; extra && extra[i].name && n < 23; i++)
		opts[n++] = extra[i];
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(shorts, sizeof(shorts), "s:t:T:jh%s", extra_short);
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (c) {
		case 's': case 't': case 'T': case 'C':
			remote_opt(ro, c, optarg);
			break;
		case 'j': *json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default:
			if (fn && c != '?' && fn(ctx, c, optarg) == CLI_OK)
				break;
			if (c != '?')
				cli_error(cmd, "bad option");
			fputs(help, stderr);
			return CLI_USAGE;
		}
	}
	return -1;
}

/* ---- hosts ---- */

static const char hosts_help[] =
"usage: cpufleet hosts --server URL [--json] [HOST [--at TIME]]\n"
"       cpufleet hosts --server URL label HOST [KEY=VALUE]... [--remove KEY]...\n"
"       cpufleet hosts --server URL label HOST --replace [KEY=VALUE]...\n"
"\n"
"Lists the hosts the server knows (id, arch, labels, last report), or shows\n"
"one host's report (as of TIME, RFC 3339 UTC, when given) and history.\n"
"label sets the keys given and keeps the host's other labels, --remove\n"
"takes keys away, --replace makes the pairs given all its labels (none:\n"
"no labels); a label with nothing to do is a usage error (admin token).\n"
"\n"
"      --at TIME        the report HOST offered at TIME\n"
"      --remove KEY     label: remove KEY (repeatable)\n"
"      --replace        label: the pairs given replace every label\n"
REMOTE_HELP
"\n"
"exit: 0 done, 2 usage error or refused (4xx), 3 server error or unreachable\n";

/* The options of `hosts` beyond the remote ones. */
#define HOSTS_REMOVE_MAX 64
struct hosts_args {
	const char *at;
	const char *remove[HOSTS_REMOVE_MAX];
	size_t nremove;
	bool replace;
};

static int hosts_opt(void *ctx, int c, const char *arg)
{
	struct hosts_args *a = ctx;

	switch (c) {
	case 'a': a->at = arg; return CLI_OK;
	case 'R':
		if (a->nremove == HOSTS_REMOVE_MAX)
			return CLI_USAGE;
		a->remove[a->nremove++] = arg;
		return CLI_OK;
	case 'P': a->replace = true; return CLI_OK;
	}
	return CLI_USAGE;
}

/* label HOST ...: the server stores a host's labels whole (PUT), so
 * setting or removing keys reads the host's labels first. */
static int hosts_label(struct cf_client *cl, int argc, char **argv,
		       const struct hosts_args *a)
{
	char path[PATH_MAX_] = "/v1/hosts/";
	cJSON *body = cJSON_CreateObject(), *labels = NULL, *out = NULL;
	char *text = NULL;
	int rc = CLI_USAGE;

	if (argc < 1 || !body || !remote_path_add(path, sizeof(path), argv[0])) {
		cli_error("hosts", "label: expected HOST [KEY=VALUE]...");
		goto cleanup;
	}
	if (a->replace && a->nremove) {
		cli_error("hosts", "label: --replace and --remove together");
		goto cleanup;
	}
	if (!a->replace && !a->nremove && argc == 1) {
		cli_error("hosts", "label %s: nothing to do (KEY=VALUE, --remove "
			  "KEY, or --replace with no pairs to remove every "
			  "label)", argv[0]);
		goto cleanup;
	}
	if (!a->replace) {
		rc = remote_call("hosts", cl, "GET", path, NULL, NULL, &out);
		if (rc != CLI_OK)
			goto cleanup;
		labels = cJSON_DetachItemFromObjectCaseSensitive(out, "labels");
		cJSON_Delete(out);
		out = NULL;
		rc = CLI_USAGE;
	}
	if (!labels || !cJSON_IsObject(labels)) {
		cJSON_Delete(labels);
		labels = cJSON_CreateObject();
	}
	if (!labels || !cJSON_AddItemToObject(body, "labels", labels)) {
		cJSON_Delete(labels);
		rc = CLI_INTERNAL;
		goto cleanup;
	}
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			cli_error("hosts", "label %s: expected KEY=VALUE", argv[i]);
			goto cleanup;
		}
		*eq = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(labels, argv[i]);
		cJSON_AddStringToObject(labels, argv[i], eq + 1);
		*eq = '=';
	}
	for (size_t i = 0; i < a->nremove; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(labels, a->remove[i]);
	strncat(path, "/labels", sizeof(path) - strlen(path) - 1);
	text = cJSON_PrintUnformatted(body);
	rc = remote_call("hosts", cl, "PUT", path, text, NULL, &out);
	if (rc == CLI_OK)
		print_json(out);
cleanup:
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(out);
	return rc;
}

int cmd_hosts(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "remove", required_argument, NULL, 'R' },
		{ "replace", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	struct cf_client *cl = NULL;
	struct hosts_args ha = { 0 };
	const char *at;
	char path[PATH_MAX_] = "/v1/hosts";
	cJSON *out = NULL, *it;
	bool json = false, label;
	int rc = parse_opts("hosts", hosts_help, argc, argv, extra, "", hosts_opt,
			    &ha, &ro, &json);

	if (rc >= 0)
		return rc;
	at = ha.at;
	label = optind < argc && !strcmp(argv[optind], "label");
	if (!label && (ha.nremove || ha.replace)) {
		cli_error("hosts", "--remove and --replace go with label");
		return CLI_USAGE;
	}
	rc = remote_connect("hosts", &ro, &cl);
	if (rc != CLI_OK)
		return rc;
	if (label) {
		rc = hosts_label(cl, argc - optind - 1, argv + optind + 1, &ha);
		goto cleanup;
	}
	if (optind < argc) {
		strncat(path, "/", sizeof(path) - strlen(path) - 1);
		if (optind + 1 != argc || !remote_path_add(path, sizeof(path),
							   argv[optind])) {
			cli_error("hosts", "expected at most one HOST");
			rc = CLI_USAGE;
			goto cleanup;
		}
		if (at) {
			strncat(path, "?at=", sizeof(path) - strlen(path) - 1);
			remote_path_add(path, sizeof(path), at);
		}
	}
	rc = remote_call("hosts", cl, "GET", path, NULL, NULL, &out);
	if (rc != CLI_OK)
		goto cleanup;
	if (json || optind < argc) {
		/* One host: its report is the interesting part, as JSON. */
		print_json(out);
		goto cleanup;
	}
	printf("%-24s %-6s %-24s %7s %7s  %s\n", "HOST", "ARCH", "LAST SEEN",
	       "REPORTS", "UPLOADS", "LABELS");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "hosts")) {
		char *labels = cJSON_PrintUnformatted(
			cJSON_GetObjectItemCaseSensitive(it, "labels"));
		printf("%-24s %-6s %-24s %7d %7d  %s\n", str(it, "id"),
		       str(it, "arch"), str(it, "last_seen"),
		       cJSON_GetObjectItemCaseSensitive(it, "reports")->valueint,
		       cJSON_GetObjectItemCaseSensitive(it, "uploads")->valueint,
		       labels ? labels : "{}");
		cJSON_free(labels);
	}
cleanup:
	cJSON_Delete(out);
	cf_client_destroy(cl);
	return rc;
}

/* ---- pool ---- */

static const char pool_help[] =
"usage: cpufleet pool --server URL list\n"
"       cpufleet pool --server URL show NAME\n"
"       cpufleet pool --server URL set NAME [--label KEY=VALUE]... [--host ID]...\n"
"       cpufleet pool --server URL delete NAME\n"
"       cpufleet pool --server URL baseline NAME [--publish] [--name P] [-o FILE]\n"
"       cpufleet pool --server URL matrix NAME [--profile P]\n"
"\n"
"Pools on the server: named host sets, by labels (hosts carrying all of\n"
"them) and explicit members.  baseline computes the richest profile every\n"
"member accepts and, with --publish (admin), stores it as the next version\n"
"of profile P (default: the pool's name).  matrix shows, for every pair of\n"
"members, whether a VM started on one (its own profile) runs on the other,\n"
"and the published profile on each member.\n"
"\n"
"  -l, --label K=V      pool selector label (set; repeatable)\n"
"  -H, --host ID        explicit member (set; repeatable)\n"
"  -p, --publish        publish the baseline (baseline)\n"
"  -n, --name P         profile name to publish as / show (baseline, matrix)\n"
"      --profile P      the same, for matrix\n"
"  -o, --output FILE    write the baseline profile to FILE ('-': stdout)\n"
REMOTE_HELP
"\n"
"exit: 0 done (feasible / all compatible), 1 infeasible or incompatible,\n"
"2 usage error or refused (4xx), 3 server error or unreachable\n";

struct pool_args {
	cJSON *labels, *hosts;
	bool publish;
	const char *name, *out;
	bool bad;
};

static int pool_opt(void *ctx, int c, const char *arg)
{
	struct pool_args *a = ctx;
	char *eq;

	switch (c) {
	case 'l':
		eq = strchr(arg, '=');
		if (!eq || eq == arg) {
			cli_error("pool", "--label %s: expected KEY=VALUE", arg);
			return CLI_USAGE;
		}
		{
			char key[256];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
			cJSON_AddStringToObject(a->labels, key, eq + 1);
		}
		return CLI_OK;
	case 'H':
		cJSON_AddItemToArray(a->hosts, cJSON_CreateString(arg));
		return CLI_OK;
	case 'p': a->publish = true; return CLI_OK;
	case 'n': case 'P': a->name = arg; return CLI_OK;
	case 'o': a->out = arg; return CLI_OK;
	}
	return CLI_USAGE;
}

static int pool_matrix(const cJSON *m)
{
	const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(m, "configs"), *it;
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(m, "baseline");
	int w = 8;
	bool all = true;

	/* Each configuration with its hosts, then the pairs. */
	cJSON_ArrayForEach(it, cfgs) {
		const cJSON *h;
		printf("%s:", str(it, "config"));
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(it, "hosts"))
			printf(" %s", h->valuestring);
		printf("\n");
	}
	if (cJSON_IsObject(base) && (int)strlen(str(base, "profile")) + 2 > w)
		w = (int)strlen(str(base, "profile")) + 2;
	printf("\n%-*s", w + 2, "from\\to");
	cJSON_ArrayForEach(it, cfgs)
		printf(" %-*s", w, str(it, "config"));
	printf("\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "rows")) {
		const cJSON *c;
		printf("%-*s", w + 2, str(it, "from"));
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(it, "cells")) {
			char cell[32];
			bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				c, "compatible"));
			all = all && ok;
			if (ok)
				snprintf(cell, sizeof(cell), "ok");
			else
				snprintf(cell, sizeof(cell), "NO(%d)",
					 cJSON_GetObjectItemCaseSensitive(c,
						"reasons")->valueint);
			printf(" %-*s", w, cell);
		}
		printf("\n");
	}
	if (cJSON_IsObject(base)) {
		const cJSON *c;
		char label[160];
		snprintf(label, sizeof(label), "[%s]", str(base, "profile"));
		printf("%-*s", w + 2, label);
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(base, "cells")) {
			bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				c, "compatible"));
			char cell[32];
			all = all && ok;
			if (ok)
				snprintf(cell, sizeof(cell), "ok");
			else
				snprintf(cell, sizeof(cell), "NO(%d)",
					 cJSON_GetObjectItemCaseSensitive(c,
						"reasons")->valueint);
			printf(" %-*s", w, cell);
		}
		printf("\n");
	} else {
		printf("(no published profile to show)\n");
	}
	return all ? CLI_OK : CLI_NO;
}

int cmd_pool(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "host", required_argument, NULL, 'H' },
		{ "publish", no_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "profile", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct pool_args a = { cJSON_CreateObject(), cJSON_CreateArray(),
			       false, NULL, NULL, false };
	struct remote_opts ro = { 0 };
	struct cf_client *cl = NULL;
	char path[PATH_MAX_] = "/v1/pools", *text = NULL;
	const char *verb, *method = "GET";
	cJSON *out = NULL, *body = NULL;
	bool json = false;
	long status = 0;
	int rc = parse_opts("pool", pool_help, argc, argv, extra, "l:H:pn:o:",
			    pool_opt, &a, &ro, &json);

	if (rc >= 0)
		goto cleanup;
	rc = CLI_USAGE;
	if (optind >= argc) {
		cli_error("pool", "expected list, show, set, delete, baseline or "
			  "matrix");
		fputs(pool_help, stderr);
		goto cleanup;
	}
	verb = argv[optind];
	if (strcmp(verb, "list") != 0) {
		strncat(path, "/", sizeof(path) - strlen(path) - 1);
		if (optind + 2 != argc ||
		    !remote_path_add(path, sizeof(path), argv[optind + 1])) {
			cli_error("pool", "%s: expected one pool NAME", verb);
			goto cleanup;
		}
	} else if (optind + 1 != argc) {
		cli_error("pool", "list takes no argument");
		goto cleanup;
	}
	if (!strcmp(verb, "set")) {
		method = "PUT";
		body = cJSON_CreateObject();
		cJSON_AddItemToObject(body, "labels", a.labels);
		cJSON_AddItemToObject(body, "hosts", a.hosts);
		a.labels = a.hosts = NULL;
	} else if (!strcmp(verb, "delete")) {
		method = "DELETE";
	} else if (!strcmp(verb, "baseline")) {
		method = "POST";
		strncat(path, "/baseline", sizeof(path) - strlen(path) - 1);
		body = cJSON_CreateObject();
		cJSON_AddBoolToObject(body, "publish", a.publish);
		if (a.name)
			cJSON_AddStringToObject(body, "name", a.name);
	} else if (!strcmp(verb, "matrix")) {
		strncat(path, "/matrix", sizeof(path) - strlen(path) - 1);
		if (a.name) {
			strncat(path, "?profile=", sizeof(path) - strlen(path) - 1);
			remote_path_add(path, sizeof(path), a.name);
		}
	} else if (strcmp(verb, "show") && strcmp(verb, "list")) {
		cli_error("pool", "unknown action '%s'", verb);
		goto cleanup;
	}
	rc = remote_connect("pool", &ro, &cl);
	if (rc != CLI_OK)
		goto cleanup;
	text = body ? cJSON_PrintUnformatted(body) : NULL;
	rc = remote_call("pool", cl, method, path, text, &status, &out);
	if (rc == CLI_USAGE && status == 409 && a.publish) {
		/* 409 to a publish: infeasible (the error says so) or a pool
		 * mixed since; the baseline alone tells which. */
		cJSON *probe = NULL;
		cJSON_ReplaceItemInObjectCaseSensitive(body, "publish",
						       cJSON_CreateFalse());
		cJSON_free(text);
		text = cJSON_PrintUnformatted(body);
		if (text && remote_call("pool", cl, method, path, text, NULL,
					&probe) == CLI_OK &&
		    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(probe,
								   "feasible")))
			rc = CLI_NO;
		cJSON_Delete(probe);
		goto cleanup;
	}
	if (rc != CLI_OK)
		goto cleanup;
	if (!strcmp(verb, "matrix")) {
		/* Every pair, and the published profile on every member. */
		bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			out, "compatible"));
		const cJSON *c, *base = cJSON_GetObjectItemCaseSensitive(
			out, "baseline");
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(base,
								       "cells"))
			all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				c, "compatible"));
		if (json)
			print_json(out);
		else
			all = pool_matrix(out) == CLI_OK && all;
		rc = all ? CLI_OK : CLI_NO;
		goto cleanup;
	}
	if (!strcmp(verb, "baseline")) {
		const cJSON *pub = cJSON_GetObjectItemCaseSensitive(out, "published");
		const cJSON *conf = cJSON_GetObjectItemCaseSensitive(out, "conflicts");
		bool feas = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out,
								   "feasible"));
		if (a.out) {
			char *p = cJSON_Print(cJSON_GetObjectItemCaseSensitive(
				out, "profile"));
			int w = p ? cli_write_file("pool", a.out, p) : CLI_INTERNAL;
			cJSON_free(p);
			if (w != CLI_OK) {
				rc = CLI_INTERNAL;
				goto cleanup;
			}
		}
		if (json) {
			print_json(out);
		} else {
			const cJSON *it;
			int nh = cJSON_GetArraySize(
				cJSON_GetObjectItemCaseSensitive(out, "hosts"));
			printf("pool %s: %d host%s, baseline %s\n",
			       argv[optind + 1], nh, nh == 1 ? "" : "s",
			       feas ? "feasible" : "INFEASIBLE");
			cJSON_ArrayForEach(it, conf)
				printf("  conflict: %s\n", it->valuestring);
			if (cJSON_IsObject(pub))
				printf("published %s version %d\n", str(pub, "name"),
				       cJSON_GetObjectItemCaseSensitive(pub,
					       "version")->valueint);
			if (!a.out && !cJSON_IsObject(pub))
				print_json(cJSON_GetObjectItemCaseSensitive(
					out, "profile"));
		}
		rc = feas ? CLI_OK : CLI_NO;
		goto cleanup;
	}
	if (!strcmp(verb, "list") && !json) {
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "pools")) {
			char *l = cJSON_PrintUnformatted(
				cJSON_GetObjectItemCaseSensitive(it, "labels"));
			char *h = cJSON_PrintUnformatted(
				cJSON_GetObjectItemCaseSensitive(it, "hosts"));
			printf("%-24s labels %s hosts %s\n", str(it, "name"),
			       l ? l : "{}", h ? h : "[]");
			cJSON_free(l);
			cJSON_free(h);
		}
		goto cleanup;
	}
	print_json(out);
cleanup:
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(a.labels);
	cJSON_Delete(a.hosts);
	cJSON_Delete(out);
	cf_client_destroy(cl);
	return rc;
}

/* ---- profile ---- */

static const char profile_help[] =
"usage: cpufleet profile --server URL list\n"
"       cpufleet profile --server URL get NAME[@VERSION] [-o FILE]\n"
"\n"
"Profiles published on the server (a pool's baseline, or one PUT there).\n"
"list names each profile and its latest version; get prints one version\n"
"of one (the latest without @VERSION), the profile document as `check`,\n"
"`show`, `export` and `apply` read it, or writes it to FILE durably\n"
"(temporary file, fsync, rename; '-': stdout).\n"
"\n"
"  -o, --output FILE    get: write the profile to FILE\n"
REMOTE_HELP
"\n"
"exit: 0 done, 2 usage error or refused (4xx: no such profile or\n"
"version), 3 server error or unreachable, or FILE cannot be written\n";

static int profile_opt(void *ctx, int c, const char *arg)
{
	if (c != 'o')
		return CLI_USAGE;
	*(const char **)ctx = arg;
	return CLI_OK;
}

int cmd_profile(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	struct cf_client *cl = NULL;
	const char *outf = NULL, *verb;
	cJSON *out = NULL, *it;
	char *text = NULL;
	bool json = false;
	int rc = parse_opts("profile", profile_help, argc, argv, extra, "o:",
			    profile_opt, &outf, &ro, &json);

	if (rc >= 0)
		return rc;
	verb = optind < argc ? argv[optind] : "";
	if (!((!strcmp(verb, "list") && optind + 1 == argc && !outf) ||
	      (!strcmp(verb, "get") && optind + 2 == argc))) {
		cli_error("profile", "expected list, or get NAME[@VERSION] "
			  "[-o FILE]");
		fputs(profile_help, stderr);
		return CLI_USAGE;
	}
	rc = remote_connect("profile", &ro, &cl);
	if (rc != CLI_OK)
		return rc;
	if (!strcmp(verb, "get")) {
		rc = remote_profile_get("profile", cl, argv[optind + 1], &out,
					NULL, 0, NULL);
		if (rc == CLI_OK) {
			text = cJSON_Print(out);
			rc = text ? cli_write_file("profile", outf ? outf : "-",
						   text) : CLI_INTERNAL;
		}
		goto cleanup;
	}
	rc = remote_call("profile", cl, "GET", "/v1/profiles", NULL, NULL, &out);
	if (rc != CLI_OK || json) {
		if (rc == CLI_OK)
			print_json(out);
		goto cleanup;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "profiles")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "version");
		printf("%-24s version %d  pool %s  %s\n", str(it, "name"),
		       cJSON_IsNumber(v) ? v->valueint : 0, str(it, "pool"),
		       str(it, "created_at"));
	}
cleanup:
	free(text);
	cJSON_Delete(out);
	cf_client_destroy(cl);
	return rc;
}

/* ---- check --server ---- */

static const char check_help[] =
"usage: cpufleet check --server URL --profile NAME[@VERSION]|FILE [--vcpus N]\n"
"                      [--json|--brief] HOST...\n"
"       cpufleet check --server URL --from HOST [--profile NAME[@VERSION]]\n"
"                      [--pool P | HOST...] [--vcpus N] [--json]\n"
"       cpufleet check --server URL --to HOST [--pool P | HOST...]\n"
"                      [--vcpus N] [--json]\n"
"\n"
"Asks the server whether a profile (a published one by name, the latest or\n"
"a given version, or a profile document from FILE, '-': standard input)\n"
"runs on each HOST, as their latest reports say, and if not, every reason:\n"
"first one summary line per host, then the reasons, as local check.\n"
"--from HOST: where can a guest started on HOST (its own profile: all KVM\n"
"offers there, or --profile's) go?  Each other host of pool P, or the HOSTs\n"
"given, or every host the server knows: one `FROM -> TO: summary` line\n"
"each, then the reasons (--brief: the summaries only).  --to\n"
"HOST: the reverse, whose guests (each host's own profile) may come to HOST.\n"
"\n"
"  -p, --profile P      NAME, NAME@VERSION, or a profile file\n"
"  -b, --brief          only the one-line summary per host\n"
"      --from HOST      where a guest of HOST can go\n"
"      --to HOST        whose guests can come to HOST\n"
"      --pool P         with --from or --to: the members of pool P\n"
"      --vcpus N        also: can a VM of N vCPUs be created there\n"
"                       (KVM_CAP_MAX_VCPUS)\n"
REMOTE_HELP
"\n"
"exit: 0 every host compatible, 1 some host incompatible, 2 usage error or\n"
"refused (4xx, e.g. an unknown host), 3 server error or unreachable\n";

struct check_args {
	const char *prof;
	long vcpus;
	const char *from, *to, *pool;
	bool brief;
};

static int check_opt(void *ctx, int c, const char *arg)
{
	struct check_args *a = ctx;

	switch (c) {
	case 'p': a->prof = arg; return CLI_OK;
	case 'F': a->from = arg; return CLI_OK;
	case 'O': a->to = arg; return CLI_OK;
	case 'L': a->pool = arg; return CLI_OK;
	case 'b': a->brief = true; return CLI_OK;
	}
	if (!cli_parse_long(arg, 1, 4294967295L, &a->vcpus)) {
		cli_error("check", "--vcpus: expected a number of vCPUs from 1, "
			  "got '%s'", arg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The profile of a /v1/check body: P's document when P is a file, else
 * the name and version of NAME[@VERSION].  Prints what is wrong. */
static int check_profile_body(cJSON *body, const char *p)
{
	struct cf_diag d = { "" };
	const char *at = strchr(p, '@');
	char name[256], *file = NULL;
	size_t len;
	cJSON *pj;
	long v;

	if (strchr(p, '/') || strstr(p, ".json") || !strcmp(p, "-") ||
	    access(p, F_OK) == 0) {
		if (cli_read_file(p, &file, &len, &d) != CF_OK) {
			cli_error("check", "%s", d.msg);
			return CLI_USAGE;
		}
		pj = cJSON_ParseWithLength(file, len);
		free(file);
		if (!pj) {
			cli_error("check", "%s: not well-formed JSON", p);
			return CLI_USAGE;
		}
		cJSON_AddItemToObject(body, "profile", pj);
		return CLI_OK;
	}
	snprintf(name, sizeof(name), "%.*s",
		 (int)(at ? (size_t)(at - p) : strlen(p)), p);
	cJSON_AddStringToObject(body, "profile", name);
	if (!at)
		return CLI_OK;
	if (!cli_parse_long(at + 1, 1, 1000000000, &v)) {
		cli_error("check", "--profile %s: VERSION must be a number "
			  "from 1", p);
		return CLI_USAGE;
	}
	cJSON_AddNumberToObject(body, "version", (double)v);
	return CLI_OK;
}

/* The document `check --json` prints: KEY (if not NULL) = VAL, the
 * profile as given (if any), VERDICTS (taken), whether all are
 * compatible. */
static int print_check_doc(const char *key, const char *val, const char *prof,
			   cJSON *verdicts, bool all)
{
	cJSON *doc = cJSON_CreateObject();

	if (!doc || !verdicts) {
		cJSON_Delete(doc);
		cJSON_Delete(verdicts);
		cli_error("check", "out of memory");
		return CLI_INTERNAL;
	}
	if (key)
		cJSON_AddStringToObject(doc, key, val);
	if (prof)
		cJSON_AddStringToObject(doc, "profile", prof);
	cJSON_AddItemToObject(doc, "verdicts", verdicts);
	cJSON_AddBoolToObject(doc, "compatible", all);
	print_json(doc);
	cJSON_Delete(doc);
	return CLI_OK;
}

/* HOST's latest report on the server. */
static int host_report(struct cf_client *cl, const char *host,
		       struct cf_report **out)
{
	char path[PATH_MAX_] = "/v1/hosts/", *text = NULL;
	struct cf_diag d = { "" };
	cJSON *o = NULL;
	int rc;

	*out = NULL;
	if (!remote_path_add(path, sizeof(path), host)) {
		cli_error("check", "%s: host id too long", host);
		return CLI_USAGE;
	}
	rc = remote_call("check", cl, "GET", path, NULL, NULL, &o);
	if (rc != CLI_OK)
		return rc;
	text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o,
								       "report"));
	cJSON_Delete(o);
	if (!text || cf_report_parse(text, strlen(text), host, out, &d) != CF_OK) {
		cli_error("check", "host %s: %s", host, text ? d.msg
							     : "no report");
		rc = CLI_INTERNAL;
	}
	free(text);
	return rc;
}

/* The hosts to judge: HOSTS given, else pool P's members, else every host
 * the server knows; never SELF. */
static int where_hosts(struct cf_client *cl, const struct check_args *a,
		       char **hosts, int nhosts, const char *self,
		       cJSON **out)
{
	char path[PATH_MAX_] = "/v1/pools/";
	cJSON *o = NULL, *list = NULL, *it;
	int rc = CLI_OK;

	*out = cJSON_CreateArray();
	if (!*out)
		return CLI_INTERNAL;
	for (int i = 0; i < nhosts; i++)
		if (strcmp(hosts[i], self))
			cJSON_AddItemToArray(*out, cJSON_CreateString(hosts[i]));
	if (nhosts)
		return CLI_OK;
	if (a->pool) {
		if (!remote_path_add(path, sizeof(path), a->pool))
			return CLI_USAGE;
		rc = remote_call("check", cl, "GET", path, NULL, NULL, &o);
		list = cJSON_GetObjectItemCaseSensitive(o, "members");
	} else {
		rc = remote_call("check", cl, "GET", "/v1/hosts", NULL, NULL, &o);
		list = cJSON_GetObjectItemCaseSensitive(o, "hosts");
	}
	cJSON_ArrayForEach(it, list) {
		const char *id = cJSON_IsString(it) ? it->valuestring
						    : str(it, "id");
		if (strcmp(id, self))
			cJSON_AddItemToArray(*out, cJSON_CreateString(id));
	}
	cJSON_Delete(o);
	return rc;
}

/* --from: the server checks HOST's own profile (or --profile's) on the
 * others, as /v1/check does for any profile. */
static int where_from(struct cf_client *cl, const struct check_args *a,
		      cJSON *targets, cJSON **verdicts)
{
	struct cf_report *r = NULL;
	struct cf_profile *pr = NULL;
	cJSON *body = cJSON_CreateObject(), *out = NULL, *it;
	char *ptext = NULL, *text = NULL;
	int rc;

	*verdicts = NULL;
	rc = host_report(cl, a->from, &r);
	if (rc != CLI_OK)
		goto cleanup;
	if (cJSON_GetArraySize(targets) == 0) {
		/* Nowhere else to go: /v1/check wants one host at least. */
		*verdicts = cJSON_CreateArray();
		rc = *verdicts ? CLI_OK : CLI_INTERNAL;
		goto cleanup;
	}
	if (a->prof) {
		rc = check_profile_body(body, a->prof);
		if (rc != CLI_OK)
			goto cleanup;
	} else {
		rc = CLI_INTERNAL;
		if (cf_profile_from_report(r, &pr) != CF_OK ||
		    cf_profile_to_json(pr, &ptext) != CF_OK)
			goto cleanup;
		cJSON_AddItemToObject(body, "profile", cJSON_Parse(ptext));
	}
	if (a->vcpus)
		cJSON_AddNumberToObject(body, "vcpus", (double)a->vcpus);
	cJSON_AddItemReferenceToObject(body, "hosts", targets);
	text = cJSON_PrintUnformatted(body);
	rc = text ? remote_call("check", cl, "POST", "/v1/check", text, NULL,
				&out) : CLI_INTERNAL;
	if (rc != CLI_OK)
		goto cleanup;
	*verdicts = cJSON_DetachItemFromObjectCaseSensitive(out, "results");
	cJSON_ArrayForEach(it, *verdicts) {
		cJSON_DeleteItemFromObjectCaseSensitive(it, "details");
		cJSON_AddStringToObject(it, "from", a->from);
	}
	rc = *verdicts ? CLI_OK : CLI_INTERNAL;
cleanup:
	free(text);
	free(ptext);
	cJSON_Delete(body);
	cJSON_Delete(out);
	cf_profile_destroy(pr);
	cf_report_destroy(r);
	return rc;
}

/* --to: each other host's own profile on HOST, judged here on the
 * server's latest reports (the engine /v1/check runs). */
static int where_to(struct cf_client *cl, const struct check_args *a,
		    cJSON *sources, cJSON **verdicts)
{
	struct cf_report *target = NULL, *r = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	cJSON *it, *o;
	int rc;

	*verdicts = cJSON_CreateArray();
	if (!v || !*verdicts) {
		rc = CLI_INTERNAL;
		goto cleanup;
	}
	rc = host_report(cl, a->to, &target);
	cJSON_ArrayForEach(it, sources) {
		enum cf_err err;
		if (rc != CLI_OK)
			break;
		rc = host_report(cl, it->valuestring, &r);
		if (rc != CLI_OK)
			break;
		rc = CLI_INTERNAL;
		if (cf_profile_from_report(r, &pr) != CF_OK)
			break;
		err = a->vcpus ? cf_check_vcpus(pr, target, (uint64_t)a->vcpus, v)
			       : cf_check(pr, target, v);
		if (err != CF_OK ||
		    cf_verdict_entry_doc(a->to, v, &o) != CF_OK)
			break;
		cJSON_AddStringToObject(o, "from", it->valuestring);
		cJSON_AddItemToArray(*verdicts, o);
		cf_profile_destroy(pr);
		cf_report_destroy(r);
		pr = NULL;
		r = NULL;
		rc = CLI_OK;
	}
cleanup:
	if (rc == CLI_INTERNAL)
		cli_error("check", "out of memory");
	cf_profile_destroy(pr);
	cf_report_destroy(r);
	cf_report_destroy(target);
	cf_verdict_destroy(v);
	return rc;
}

/* check --server URL --from HOST | --to HOST [--pool P] [HOST...]: where
 * a guest started on HOST can go, or whose guests may come to HOST. */
static int where(const struct remote_opts *ro, const struct check_args *a,
		 char **hosts, int nhosts, bool json)
{
	const char *self = a->from ? a->from : a->to;
	struct cf_client *cl = NULL;
	cJSON *others = NULL, *verdicts = NULL, *it, *r;
	bool all = true;
	int rc;

	if (!self || (a->from && a->to) || (a->to && a->prof) ||
	    (a->pool && nhosts)) {
		cli_error("check", "%s", !self ? "--pool goes with --from or --to"
			  : a->from && a->to ? "--from or --to, not both"
			  : a->pool ? "--pool or HOSTs, not both"
			  : "--to judges each host's own profile: no --profile");
		return CLI_USAGE;
	}
	rc = remote_connect("check", ro, &cl);
	if (rc == CLI_OK)
		rc = where_hosts(cl, a, hosts, nhosts, self, &others);
	if (rc == CLI_OK)
		rc = a->from ? where_from(cl, a, others, &verdicts)
			     : where_to(cl, a, others, &verdicts);
	if (rc != CLI_OK)
		goto cleanup;
	/* As local check and explain: one summary line per pair first,
	 * then each incompatible pair's reasons (none with --brief). */
	cJSON_ArrayForEach(it, verdicts) {
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			it, "compatible"));
		all = all && ok;
		if (!json)
			printf("%s -> %s: %s\n", str(it, "from"), str(it, "host"),
			       str(it, "summary")[0] ? str(it, "summary") :
			       ok ? "compatible" : "incompatible");
	}
	cJSON_ArrayForEach(it, verdicts) {
		if (json || a->brief ||
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it,
								  "compatible")))
			continue;
		printf("%s -> %s: INCOMPATIBLE\n", str(it, "from"),
		       str(it, "host"));
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(it,
								       "reasons"))
			printf("  - %s\n", str(r, "text"));
	}
	if (json) {
		rc = print_check_doc(a->from ? "from" : "to", self, a->prof,
				     verdicts, all);
		verdicts = NULL;
		if (rc != CLI_OK)
			goto cleanup;
	}
	rc = all ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(others);
	cJSON_Delete(verdicts);
	cf_client_destroy(cl);
	return rc;
}

int cli_remote_check(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'V' },
		{ "brief", no_argument, NULL, 'b' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'O' },
		{ "pool", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	struct cf_client *cl = NULL;
	struct check_args ca = { NULL, 0, NULL, NULL, NULL, false };
	const char *prof;
	cJSON *body = NULL, *out = NULL, *hosts, *it;
	char *text = NULL;
	bool json = false, all = true;
	int rc = parse_opts("check", check_help, argc, argv, extra, "p:b",
			    check_opt, &ca, &ro, &json);

	if (rc >= 0)
		return rc;
	rc = CLI_USAGE;
	prof = ca.prof;
	if (ca.from || ca.to || ca.pool)
		return where(&ro, &ca, argv + optind, argc - optind, json);
	if (!prof || optind >= argc) {
		cli_error("check", "%s", !prof ? "--profile is required"
					       : "no hosts given");
		fputs(check_help, stderr);
		return CLI_USAGE;
	}
	body = cJSON_CreateObject();
	if (ca.vcpus)
		cJSON_AddNumberToObject(body, "vcpus", (double)ca.vcpus);
	hosts = cJSON_AddArrayToObject(body, "hosts");
	for (int i = optind; i < argc; i++)
		cJSON_AddItemToArray(hosts, cJSON_CreateString(argv[i]));
	rc = check_profile_body(body, prof);
	if (rc != CLI_OK)
		goto cleanup;
	rc = remote_connect("check", &ro, &cl);
	if (rc != CLI_OK)
		goto cleanup;
	text = cJSON_PrintUnformatted(body);
	rc = remote_call("check", cl, "POST", "/v1/check", text, NULL, &out);
	if (rc != CLI_OK)
		goto cleanup;
	/* As local check: the summary of every host, then the reasons. */
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "results")) {
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it,
								 "compatible"));
		all = all && ok;
		/* "details" is the API's copy of "reasons" for its older
		 * clients: not part of the verdict `check --json` prints. */
		cJSON_DeleteItemFromObjectCaseSensitive(it, "details");
		if (!json)
			printf("%s: %s\n", str(it, "host"),
			       str(it, "summary")[0] ? str(it, "summary") :
			       ok ? "compatible" : "incompatible");
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "results")) {
		const cJSON *r;
		if (json || ca.brief ||
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "compatible")))
			continue;
		printf("%s: INCOMPATIBLE\n", str(it, "host"));
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(it, "reasons"))
			printf("  - %s\n", str(r, "text"));
	}
	if (json) {
		/* The local command's document. */
		rc = print_check_doc(NULL, NULL, prof,
				     cJSON_DetachItemFromObjectCaseSensitive(
					     out, "results"), all);
		if (rc != CLI_OK)
			goto cleanup;
	}
	rc = all ? CLI_OK : CLI_NO;
cleanup:
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(out);
	cf_client_destroy(cl);
	return rc;
}
