#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "tools/cli_source.h"
#include "tools/cli_util.h"
#include "fleet/whatif.h"
#include "profiles/doc.h"
#ifdef CF_NET
#include "tools/remote.h"
#endif

static const char help[] =
"usage: cpufleet pools [-d DIR] [--json] [--strategy S] [--kernel X.Y] REPORT...\n"
"       cpufleet pools --what-if add=REPORT,remove=HOST... [--json] REPORT...\n"
"       cpufleet pools --server URL --what-if add=REPORT,remove=HOST... [--json] POOL\n"
"\n"
"Splits the hosts into pools that each have a feasible baseline.  Hosts of\n"
"different architectures, and x86 hosts of different CPU vendors, never\n"
"share a pool, and hosts of one configuration always do.  A pool gives up\n"
"a feature (FEAT_/flag name) when the baseline of some member alone shows\n"
"it and the pool's baseline does not; its count is the number of such\n"
"names.  Within each part, --strategy:\n"
"  fewest     (default) the fewest pools, and among those the partition\n"
"             giving up the fewest features in all; exact up to 32 distinct\n"
"             configurations per part (beyond: first-fit; if the search runs\n"
"             out of budget: the best found, never worse than first-fit;\n"
"             either way the last line says \"not proven minimal\")\n"
"  first-fit  hosts in host-id order, each joins the first pool that stays\n"
"             feasible with it, else starts a new one\n"
"The same reports in any order give the same pools.  Prints one line per\n"
"pool: its architecture (and vendor) and its hosts, then the features it\n"
"gives up, and a total; with -d, writes each pool's baseline to\n"
"DIR/pool-N.json and a DIR/pools.json index {\"strategy\": ..., \"exact\":\n"
"..., \"given_up_total\": N, \"pools\": [{\"profile\": \"pool-1.json\",\n"
"\"arch\": ..., \"hosts\": [...], \"given_up\": [...]}, ...]}.\n"
"\n"
"With --what-if (repeatable; comma-separated add=REPORT and remove=HOST):\n"
"the baseline of the hosts given (or, with --server, of pool POOL's\n"
"members) with REPORT's host added (replacing its report if it is one) and\n"
"HOST removed; each feature it gains or loses against the baseline of the\n"
"hosts given (with --server: the pool's published profile, else its\n"
"baseline now); and the hosts after the change that would refuse it, with\n"
"every reason.  Nothing is written or stored.  Exit 0 when the new\n"
"baseline is feasible and no host refuses it, else 1.\n"
"\n"
"  -d, --dir DIR  write the pools' baselines into DIR (created if missing)\n"
"  -j, --json     print the index as JSON instead of text\n"
"  -s, --strategy S  fewest (default) or first-fit (above)\n"
"  -k, --kernel X.Y  plan as if every host ran Linux X.Y (or X.Y.Z): each\n"
"                 host's writable masks as arch/arm64/kvm-writable.txt gives\n"
"                 them for that release (a range A..B counts from B; until=\n"
"                 removes), values unchanged; the baselines of -d too\n"
"  -w, --what-if SPEC  add=REPORT,remove=HOST,...: plan a change (above)\n"
"      --server URL, --token T, --token-file F, --cacert PEM: with\n"
"                 --what-if, ask the server about its pool POOL\n"
"  -h, --help     this text\n"
"\n"
"exit: 0 one pool holds every host, 1 more than one pool, 2 usage or input\n"
"error, 3 internal error\n";

/* Pool P's entry of the index: PROFILE (its baseline's file, or NULL), its
 * architecture, vendor and hosts (in host-id order: ORDER is every report,
 * sorted by host id). */
static cJSON *pool_entry(size_t p, const char *profile,
			 const struct cli_reports *rs, const size_t *pool_of,
			 const size_t *order, const struct cf_pools *plan)
{
	cJSON *entry = cJSON_CreateObject(), *hosts = cJSON_CreateArray();
	cJSON *up = cJSON_CreateArray();
	const struct cf_report *first = NULL;
	char vendor[32];
	bool ok = entry && hosts &&
		  (!profile || cJSON_AddStringToObject(entry, "profile", profile));

	for (size_t k = 0; ok && k < rs->n; k++) {
		const struct cf_report *r = rs->r[order[k]];
		if (pool_of[order[k]] != p)
			continue;
		if (!first)
			first = r;
		ok = cJSON_AddItemToArray(hosts,
				cJSON_CreateString(cf_report_host_id(r)));
	}
	ok = ok && first &&
	     cJSON_AddStringToObject(entry, "arch", cf_report_arch(first)) &&
	     (!cf_report_vendor(first, vendor, sizeof(vendor)) ||
	      cJSON_AddStringToObject(entry, "vendor", vendor)) &&
	     cJSON_AddItemToObject(entry, "hosts", hosts);
	if (ok)
		hosts = NULL;
	for (size_t i = 0; ok && up && i < cf_pools_given_up_count(plan, p); i++)
		ok = cJSON_AddItemToArray(up, cJSON_CreateString(
				cf_pools_given_up(plan, p, i)));
	ok = ok && up && cJSON_AddItemToObject(entry, "given_up", up);
	if (!ok) {
		cJSON_Delete(up);
		cJSON_Delete(hosts);
		cJSON_Delete(entry);
		return NULL;
	}
	return entry;
}

/* Writes pool P's baseline to DIR/NAME, its hosts added in host-id order
 * (ORDER), so that its document does not depend on the input's order. */
static int write_pool(const char *dir, const char *name, size_t p,
		      const struct cli_reports *rs, const size_t *pool_of,
		      const size_t *order)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	char path[4096];
	enum cf_err err = CF_ENOMEM;
	int rc = CLI_INTERNAL;

	for (size_t k = 0; k < rs->n; k++) {
		const struct cf_report *r = rs->r[order[k]];
		if (pool_of[order[k]] != p)
			continue;
		err = pool ? CF_OK : cf_pool_create(cf_report_arch(r), &pool);
		if (err == CF_OK)
			err = cf_pool_add(pool, r, &d);
		if (err != CF_OK)
			break;
	}
	if (err == CF_OK)
		err = cf_baseline(pool, &pr);
	if (err != CF_OK) {
		cli_error("pools", "pool %zu: %s", p + 1, cf_strerror(err));
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		cli_error("pools", "%s: path too long", dir);
		goto out;
	}
	if (cf_profile_save(pr, path, &d) != CF_OK) {
		cli_error("pools", "%s", d.msg);
		goto out;
	}
	rc = CLI_OK;
out:
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	return rc;
}

static const struct cli_reports *sort_rs;

static int by_host_id(const void *a, const void *b)
{
	return strcmp(cf_report_host_id(sort_rs->r[*(const size_t *)a]),
		      cf_report_host_id(sort_rs->r[*(const size_t *)b]));
}

/* ---- what-if ---- */

#define WHATIF_MAX 256
struct whatif_args {
	char *add[WHATIF_MAX];      /* report files */
	const char *remove[WHATIF_MAX];
	int nadd;
	size_t nremove;
};

/* SPEC: add=REPORT and remove=HOST, comma-separated (cut in place). */
static int whatif_parse(struct whatif_args *a, char *spec)
{
	for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
		if (!strncmp(item, "add=", 4) && item[4] &&
		    a->nadd < WHATIF_MAX) {
			a->add[a->nadd++] = item + 4;
		} else if (!strncmp(item, "remove=", 7) && item[7] &&
			   a->nremove < WHATIF_MAX) {
			a->remove[a->nremove++] = item + 7;
		} else {
			cli_error("pools", "--what-if %s: expected add=REPORT or "
				  "remove=HOST (at most %d of each)", item,
				  WHATIF_MAX);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : "";
}

/* "KEY: a b c" or "KEY: none" from the array O[KEY]. */
static void print_list(const char *indent, const char *key, const cJSON *o)
{
	const cJSON *it, *arr = cJSON_GetObjectItemCaseSensitive(o, key);

	printf("%s%s:", indent, key);
	cJSON_ArrayForEach(it, arr)
		printf(" %s", cJSON_IsString(it) ? it->valuestring : "?");
	printf("%s\n", cJSON_GetArraySize(arr) ? "" : " none");
}

/* The what-if document (cf_whatif_to_doc) in words; the exit code. */
static int whatif_print(const cJSON *o, bool json)
{
	const cJSON *it, *r, *ag = cJSON_GetObjectItemCaseSensitive(o, "against");
	const cJSON *refused = cJSON_GetObjectItemCaseSensitive(o, "refused");
	bool feasible = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
							"feasible"));
	char *text;

	if (json) {
		text = cJSON_Print(o);
		if (!text)
			return CLI_INTERNAL;
		printf("%s\n", text);
		cJSON_free(text);
	} else {
		const cJSON *pool = cJSON_GetObjectItemCaseSensitive(o, "pool");
		printf("what-if %s%s:", cJSON_IsString(pool) ? "pool " : "on the "
		       "hosts given", cJSON_IsString(pool) ? pool->valuestring : "");
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "hosts"))
			printf(" %s", it->valuestring);
		printf("\n");
		print_list("  ", "added", o);
		print_list("  ", "removed", o);
		printf("new baseline: %s",
		       feasible ? "feasible\n" : "INFEASIBLE");
		if (!feasible)
			printf(" (%d conflicts)\n", cJSON_GetArraySize(
				cJSON_GetObjectItemCaseSensitive(o, "conflicts")));
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o,
								"conflicts"))
			printf("  conflict: %s\n", it->valuestring);
		if (cJSON_IsObject(ag))
			printf("against %s version %d:\n", jstr(ag, "name"),
			       cJSON_GetObjectItemCaseSensitive(ag, "version")
				       ->valueint);
		else
			printf("against the baseline of the hosts now:\n");
		print_list("  ", "gained", o);
		print_list("  ", "lost", o);
		if (!cJSON_GetArraySize(refused))
			printf("refused by: none\n");
		cJSON_ArrayForEach(it, refused) {
			printf("REFUSED by %s:\n", jstr(it, "host"));
			cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(
						      it, "reasons"))
				printf("  - %s\n", jstr(r, "text"));
		}
	}
	if (fflush(stdout) != 0) {
		cli_error("pools", "cannot write to stdout");
		return CLI_INTERNAL;
	}
	return feasible && !cJSON_GetArraySize(refused) ? CLI_OK : CLI_NO;
}

/* On files: the hosts of PATHS (N) changed as A says. */
static int whatif_local(struct whatif_args *a, char **paths, int n, bool json)
{
	struct cli_reports cur = { 0 }, add = { 0 };
	struct cf_whatif_host *hc = NULL, *ha = NULL;
	struct cf_whatif w = { 0 };
	struct cf_diag d = { "" };
	cJSON *o = NULL;
	enum cf_err err;
	int rc = cli_load_reports(paths, n, &cur);

	if (rc == CLI_OK && a->nadd)
		rc = cli_load_reports(a->add, a->nadd, &add);
	if (rc != CLI_OK)
		goto cleanup;
	hc = calloc(cur.n + 1, sizeof(*hc));
	ha = calloc(add.n + 1, sizeof(*ha));
	if (!hc || !ha) {
		rc = CLI_INTERNAL;
		goto cleanup;
	}
	for (size_t i = 0; i < cur.n; i++)
		hc[i] = (struct cf_whatif_host){ cf_report_host_id(cur.r[i]),
						 cur.r[i] };
	for (size_t i = 0; i < add.n; i++)
		ha[i] = (struct cf_whatif_host){ cf_report_host_id(add.r[i]),
						 add.r[i] };
	err = cf_whatif_run("of the hosts given", hc, cur.n, ha, add.n,
			    a->remove, a->nremove, NULL, NULL, &w, &d);
	if (err != CF_OK) {
		cli_error("pools", "%s", d.msg[0] ? d.msg : cf_strerror(err));
		rc = err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
		goto cleanup;
	}
	if (cf_whatif_to_doc(&w, NULL, NULL, 0, &o) != CF_OK) {
		rc = CLI_INTERNAL;
		goto cleanup;
	}
	rc = whatif_print(o, json);
cleanup:
	cJSON_Delete(o);
	cf_whatif_clear(&w);
	free(hc);
	free(ha);
	cli_free_reports(&add);
	cli_free_reports(&cur);
	return rc;
}

/* With --server: POST /v1/pools/POOL/what-if with the reports of A's files
 * (each read and checked here first, so an error names the file). */
static int whatif_remote(struct whatif_args *a, const struct cli_source *src,
			 const char *pool, bool json)
{
#ifdef CF_NET
	struct remote_opts ro = { src->server, src->token, src->token_file,
				  src->cacert, 0 };
	struct cli_reports check = { 0 };
	struct cf_client *cl = NULL;
	cJSON *body = cJSON_CreateObject(), *add, *rm, *out = NULL;
	char path[1024] = "/v1/pools/", *text = NULL;
	int rc = cli_load_reports(a->add, a->nadd, &check);

	cli_free_reports(&check);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	add = body ? cJSON_AddArrayToObject(body, "add") : NULL;
	rm = add ? cJSON_AddArrayToObject(body, "remove") : NULL;
	if (!rm)
		goto cleanup;
	for (int i = 0; i < a->nadd; i++) {
		struct cf_diag d = { "" };
		cJSON *doc = NULL;
		char *file = NULL;
		size_t len;
		if (cf_doc_read_file(a->add[i], &file, &len, &d) != CF_OK ||
		    cf_doc_parse(file, len, a->add[i], &doc, &d) != CF_OK) {
			free(file);
			cli_error("pools", "%s", d.msg);
			rc = CLI_USAGE;
			goto cleanup;
		}
		free(file);
		if (!cJSON_AddItemToArray(add, doc)) {
			cJSON_Delete(doc);
			goto cleanup;
		}
	}
	for (size_t i = 0; i < a->nremove; i++)
		if (!cJSON_AddItemToArray(rm, cJSON_CreateString(a->remove[i])))
			goto cleanup;
	if (!remote_path_add(path, sizeof(path), pool) ||
	    strlen(path) + sizeof("/what-if") > sizeof(path)) {
		cli_error("pools", "%s: pool name too long", pool);
		rc = CLI_USAGE;
		goto cleanup;
	}
	strncat(path, "/what-if", sizeof(path) - strlen(path) - 1);
	text = cJSON_PrintUnformatted(body);
	if (!text)
		goto cleanup;
	rc = remote_connect("pools", &ro, &cl);
	if (rc == CLI_OK)
		rc = remote_call("pools", cl, "POST", path, text, NULL, &out);
	if (rc == CLI_OK)
		rc = out ? whatif_print(out, json) : CLI_INTERNAL;
cleanup:
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(body);
	cf_client_destroy(cl);
	return rc;
#else
	(void)a;
	(void)src;
	(void)pool;
	(void)json;
	cli_error("pools", "--server: this build has no network client (NET=0)");
	return CLI_USAGE;
#endif
}

int cmd_pools(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "what-if", required_argument, NULL, 'w' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "strategy", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct whatif_args wa = { 0 };
	struct cli_source src = { 0 };
	bool what_if = false;
	struct cli_reports rs = { 0 };
	const char *dir = NULL, *kernel = NULL;
	size_t *pool_of = NULL, *order = NULL, npools = 0;
	cJSON *root = NULL, *arr = NULL;
	char path[4096], *text = NULL;
	bool json = false;
	enum cf_pools_strategy how = CF_POOLS_FEWEST;
	struct cf_pools *plan = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jw:s:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'k': kernel = optarg; break;
		case 'w':
			what_if = true;
			if (whatif_parse(&wa, optarg) != CLI_OK)
				return CLI_USAGE;
			break;
		case 's':
			if (!strcmp(optarg, "fewest")) {
				how = CF_POOLS_FEWEST;
			} else if (!strcmp(optarg, "first-fit")) {
				how = CF_POOLS_FIRST_FIT;
			} else {
				cli_error("pools", "--strategy %s: expected fewest "
					  "or first-fit", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default:
			if (cli_source_opt(&src, c, optarg))
				break;
			fputs(help, stderr);
			return CLI_USAGE;
		}
	}
	if (src.server && !what_if) {
		cli_error("pools", "--server goes with --what-if (the server's "
			  "pools: cpufleet pool --server URL)");
		return CLI_USAGE;
	}
	if (what_if && kernel) {
		cli_error("pools", "--kernel goes without --what-if");
		return CLI_USAGE;
	}
	if (what_if && dir) {
		cli_error("pools", "--what-if writes nothing: no -d");
		return CLI_USAGE;
	}
	if (src.server && optind + 1 != argc) {
		cli_error("pools", "--server --what-if: expected one POOL");
		return CLI_USAGE;
	}
	if (src.server)
		return whatif_remote(&wa, &src, argv[optind], json);
	if (what_if && optind < argc)
		return whatif_local(&wa, argv + optind, argc - optind, json);
	if (optind >= argc) {
		cli_error("pools", "no reports given");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc == CLI_OK && kernel)
		rc = cli_kernel_plan("pools", kernel, &rs);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	pool_of = calloc(rs.n, sizeof(*pool_of));
	order = calloc(rs.n, sizeof(*order));
	if (!pool_of || !order)
		goto cleanup;
	/* Every report by host id: a host id given twice is an input error. */
	for (size_t i = 0; i < rs.n; i++)
		order[i] = i;
	sort_rs = &rs;
	qsort(order, rs.n, sizeof(*order), by_host_id);
	for (size_t k = 1; k < rs.n; k++) {
		if (by_host_id(&order[k - 1], &order[k]) == 0) {
			size_t a = order[k - 1] < order[k] ? order[k - 1] : order[k];
			size_t b = order[k - 1] < order[k] ? order[k] : order[k - 1];
			cli_error("pools", "%s: host id %s appears twice (also in "
				  "%s)", argv[optind + b],
				  cf_report_host_id(rs.r[b]), argv[optind + a]);
			rc = CLI_USAGE;
			goto cleanup;
		}
	}
	if (cf_pools_plan((const struct cf_report *const *)rs.r, rs.n, how,
			  &plan) != CF_OK)
		goto cleanup;
	npools = cf_pools_count(plan);
	for (size_t i = 0; i < rs.n; i++)
		pool_of[i] = cf_pools_pool_of(plan, i);
	if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cli_error("pools", "cannot create %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	root = cJSON_CreateObject();
	arr = root && cJSON_AddStringToObject(root, "strategy",
			how == CF_POOLS_FEWEST ? "fewest" : "first-fit") &&
	      cJSON_AddBoolToObject(root, "exact", cf_pools_exact(plan)) &&
	      cJSON_AddNumberToObject(root, "given_up_total",
				      (double)cf_pools_given_up_total(plan))
		? cJSON_AddArrayToObject(root, "pools") : NULL;
	for (size_t p = 0; arr && p < npools; p++) {
		char name[64];
		cJSON *e;
		snprintf(name, sizeof(name), "pool-%zu.json", p + 1);
		if (dir && write_pool(dir, name, p, &rs, pool_of, order) != CLI_OK)
			goto cleanup;
		e = pool_entry(p, dir ? name : NULL, &rs, pool_of, order, plan);
		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto cleanup;
		}
	}
	if (!arr)
		goto cleanup;
	if (dir) {
		/* The index last, durably: it names only pools written. */
		text = cJSON_Print(root);
		if (!text || (size_t)snprintf(path, sizeof(path), "%s/pools.json",
					      dir) >= sizeof(path) ||
		    cli_write_file("pools", path, text) != 0)
			goto cleanup;
	}
	if (json) {
		free(text);
		text = cJSON_Print(root);
		if (!text)
			goto cleanup;
		printf("%s\n", text);
	} else {
		for (size_t p = 0; p < npools; p++) {
			cJSON *e = cJSON_GetArrayItem(arr, (int)p), *h;
			cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "vendor");
			printf("pool %zu (%s%s%s):", p + 1,
			       cJSON_GetObjectItemCaseSensitive(e, "arch")->valuestring,
			       v ? " " : "", v ? v->valuestring : "");
			cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e, "hosts"))
				printf(" %s", h->valuestring);
			printf("\n  gives up %zu feature%s%s",
			       cf_pools_given_up_count(plan, p),
			       cf_pools_given_up_count(plan, p) == 1 ? "" : "s",
			       cf_pools_given_up_count(plan, p) ? ":" : "");
			cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e, "given_up"))
				printf(" %s", h->valuestring);
			printf("\n");
		}
		printf("%zu pool%s, %zu feature%s given up (%s%s)\n", npools,
		       npools == 1 ? "" : "s", cf_pools_given_up_total(plan),
		       cf_pools_given_up_total(plan) == 1 ? "" : "s",
		       how == CF_POOLS_FEWEST ? "fewest" : "first-fit",
		       how == CF_POOLS_FIRST_FIT || cf_pools_exact(plan) ? ""
		       : ", not proven minimal");
	}
	if (fflush(stdout) != 0) {
		cli_error("pools", "cannot write to stdout");
		goto cleanup;
	}
	rc = npools == 1 ? CLI_OK : CLI_NO;
cleanup:
	free(text);
	cJSON_Delete(root);
	cf_pools_destroy(plan);
	free(order);
	free(pool_of);
	cli_free_reports(&rs);
	return rc;
}
