/* Commands that ask the server: hosts, pool, and check --server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(m, "hosts"), *it;
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(m, "baseline");
	int w = 6;
	bool all = true;

	cJSON_ArrayForEach(it, hosts)
		if ((int)strlen(it->valuestring) > w)
			w = (int)strlen(it->valuestring);
	if (cJSON_IsObject(base) && (int)strlen(str(base, "profile")) > w)
		w = (int)strlen(str(base, "profile"));
	printf("%-*s", w + 2, "from\\to");
	cJSON_ArrayForEach(it, hosts)
		printf(" %-*s", w, it->valuestring);
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

/* ---- check --server ---- */

static const char check_help[] =
"usage: cpufleet check --server URL --profile NAME[@VERSION]|FILE [--vcpus N]\n"
"                      [--json|--brief] HOST...\n"
"\n"
"Asks the server whether a profile (a published one by name, the latest or\n"
"a given version, or a profile document from FILE, '-': standard input)\n"
"runs on each HOST, as their latest reports say, and if not, every reason:\n"
"first one summary line per host, then the reasons, as local check.\n"
"\n"
"  -p, --profile P      NAME, NAME@VERSION, or a profile file\n"
"  -b, --brief          only the one-line summary per host\n"
"      --vcpus N        also: can a VM of N vCPUs be created there\n"
"                       (KVM_CAP_MAX_VCPUS)\n"
REMOTE_HELP
"\n"
"exit: 0 every host compatible, 1 some host incompatible, 2 usage error or\n"
"refused (4xx, e.g. an unknown host), 3 server error or unreachable\n";

struct check_args {
	const char *prof;
	long vcpus;
	bool brief;
};

static int check_opt(void *ctx, int c, const char *arg)
{
	struct check_args *a = ctx;

	if (c == 'p') {
		a->prof = arg;
		return CLI_OK;
	}
	if (c == 'b') {
		a->brief = true;
		return CLI_OK;
	}
	if (!cli_parse_long(arg, 1, 4294967295L, &a->vcpus)) {
		cli_error("check", "--vcpus: expected a number of vCPUs from 1, "
			  "got '%s'", arg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cli_remote_check(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'V' },
		{ "brief", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	struct cf_client *cl = NULL;
	struct cf_diag d = { "" };
	struct check_args ca = { NULL, 0, false };
	const char *prof;
	cJSON *body = NULL, *out = NULL, *hosts, *it;
	char *text = NULL, *file = NULL, name[256];
	bool json = false, all = true;
	size_t len;
	int rc = parse_opts("check", check_help, argc, argv, extra, "p:b",
			    check_opt, &ca, &ro, &json);

	if (rc >= 0)
		return rc;
	rc = CLI_USAGE;
	prof = ca.prof;
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
	if (strchr(prof, '/') || strstr(prof, ".json") || !strcmp(prof, "-")) {
		cJSON *pj;
		if (cli_read_file(prof, &file, &len, &d) != CF_OK) {
			cli_error("check", "%s", d.msg);
			goto cleanup;
		}
		pj = cJSON_ParseWithLength(file, len);
		if (!pj) {
			cli_error("check", "%s: not well-formed JSON", prof);
			goto cleanup;
		}
		cJSON_AddItemToObject(body, "profile", pj);
	} else {
		const char *at = strchr(prof, '@');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(at ? (size_t)(at - prof) : strlen(prof)), prof);
		cJSON_AddStringToObject(body, "profile", name);
		if (at) {
			long v;
			if (!cli_parse_long(at + 1, 1, 1000000000, &v)) {
				cli_error("check", "--profile %s: VERSION must be "
					  "a number from 1", prof);
				goto cleanup;
			}
			cJSON_AddNumberToObject(body, "version", (double)v);
		}
	}
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
	if (json)
		print_json(out);
	rc = all ? CLI_OK : CLI_NO;
cleanup:
	free(text);
	free(file);
	cJSON_Delete(body);
	cJSON_Delete(out);
	cf_client_destroy(cl);
	return rc;
}
