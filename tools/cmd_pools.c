#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet pools [-d DIR] [--json] REPORT...\n"
"\n"
"Splits the hosts into pools that each have a feasible baseline.  Hosts of\n"
"different architectures, and x86 hosts of different CPU vendors, never\n"
"share a pool; within each such part the hosts are taken in host-id order\n"
"and each joins the first pool that stays feasible with it, else starts a\n"
"new one.  The same reports in any order give the same pools.  Prints one\n"
"line per pool: its architecture (and vendor) and its hosts; with -d,\n"
"writes each pool's baseline to DIR/pool-N.json and a DIR/pools.json index\n"
"{\"pools\": [{\"profile\": \"pool-1.json\", \"arch\": ..., \"hosts\": [...]}, ...]}.\n"
"\n"
"  -d, --dir DIR  write the pools' baselines into DIR (created if missing)\n"
"  -j, --json     print the index as JSON instead of text\n"
"  -h, --help     this text\n"
"\n"
"exit: 0 one pool holds every host, 1 more than one pool, 2 usage or input\n"
"error, 3 internal error\n";

/* Pool P's entry of the index: PROFILE (its baseline's file, or NULL), its
 * architecture, vendor and hosts (in host-id order: ORDER is every report,
 * sorted by host id). */
static cJSON *pool_entry(size_t p, const char *profile,
			 const struct cli_reports *rs, const size_t *pool_of,
			 const size_t *order)
{
	cJSON *entry = cJSON_CreateObject(), *hosts = cJSON_CreateArray();
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
	if (!ok) {
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

int cmd_pools(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	const char *dir = NULL;
	size_t *pool_of = NULL, *order = NULL, npools = 0;
	cJSON *root = NULL, *arr = NULL;
	char path[4096], *text = NULL;
	bool json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("pools", "no reports given");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc != CLI_OK)
		return rc;
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
	if (cf_pools_partition((const struct cf_report *const *)rs.r, rs.n,
			       pool_of, &npools) != CF_OK)
		goto cleanup;
	if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cli_error("pools", "cannot create %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	root = cJSON_CreateObject();
	arr = root ? cJSON_AddArrayToObject(root, "pools") : NULL;
	for (size_t p = 0; arr && p < npools; p++) {
		char name[64];
		cJSON *e;
		snprintf(name, sizeof(name), "pool-%zu.json", p + 1);
		if (dir && write_pool(dir, name, p, &rs, pool_of, order) != CLI_OK)
			goto cleanup;
		e = pool_entry(p, dir ? name : NULL, &rs, pool_of, order);
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
			printf("\n");
		}
	}
	if (fflush(stdout) != 0) {
		cli_error("pools", "cannot write to stdout");
		goto cleanup;
	}
	rc = npools == 1 ? CLI_OK : CLI_NO;
cleanup:
	free(text);
	cJSON_Delete(root);
	free(order);
	free(pool_of);
	cli_free_reports(&rs);
	return rc;
}
