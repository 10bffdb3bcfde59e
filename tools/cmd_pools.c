#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet pools [-d DIR] REPORT...\n"
"\n"
"Splits the hosts into pools that each have a feasible baseline: each host,\n"
"in the order given, joins the first pool that stays feasible with it, else\n"
"starts a new one.  Prints one line per pool (its hosts); with -d, writes\n"
"each pool's baseline to DIR/pool-N.json and a DIR/pools.json index\n"
"{\"pools\": [{\"profile\": \"pool-1.json\", \"hosts\": [...]}, ...]}.\n"
"\n"
"  -d, --dir DIR  write the pools' baselines into DIR (created if missing)\n"
"  -h, --help     this text\n"
"\n"
"exit: 0 one pool holds every host, 1 more than one pool, 2 usage or input\n"
"error, 3 internal error\n";

/* Writes pool P's baseline to DIR/pool-N.json and adds it to INDEX. */
static int write_pool(const char *dir, size_t p, char **paths,
		      const struct cli_reports *rs, const size_t *pool_of,
		      cJSON *index)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	char path[4096], name[64];
	cJSON *entry, *hosts;
	enum cf_err err;
	int rc = cli_make_pool("pools", paths, rs, pool_of, p, &pool);

	if (rc != CLI_OK)
		goto out;
	rc = CLI_INTERNAL;
	err = cf_baseline(pool, &pr);
	if (err != CF_OK) {
		cli_error("pools", "pool %zu: %s", p + 1, cf_strerror(err));
		goto out;
	}
	snprintf(name, sizeof(name), "pool-%zu.json", p + 1);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		cli_error("pools", "%s: path too long", dir);
		goto out;
	}
	if (cf_profile_save(pr, path, &d) != CF_OK) {
		cli_error("pools", "%s", d.msg);
		goto out;
	}
	entry = cJSON_CreateObject();
	if (!entry || !cJSON_AddItemToArray(index, entry) ||
	    !cJSON_AddStringToObject(entry, "profile", name))
		goto out;
	hosts = cJSON_AddArrayToObject(entry, "hosts");
	if (!hosts)
		goto out;
	for (size_t i = 0; i < rs->n; i++)
		if (pool_of[i] == p &&
		    !cJSON_AddItemToArray(hosts,
				cJSON_CreateString(cf_report_host_id(rs->r[i]))))
			goto out;
	rc = CLI_OK;
out:
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	return rc;
}

int cmd_pools(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	const char *dir = NULL;
	size_t *pool_of = NULL, npools = 0;
	char path[4096];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
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
	/* One pool of everything first: the same checks as baseline's. */
	{
		struct cf_pool *all = NULL;
		rc = cli_make_pool("pools", argv + optind, &rs, NULL, 0, &all);
		cf_pool_destroy(all);
		if (rc != CLI_OK)
			goto cleanup;
	}
	rc = CLI_INTERNAL;
	pool_of = calloc(rs.n, sizeof(*pool_of));
	if (!pool_of ||
	    cf_pools_partition((const struct cf_report *const *)rs.r, rs.n,
			       pool_of, &npools) != CF_OK)
		goto cleanup;
	for (size_t p = 0; p < npools; p++) {
		printf("pool %zu:", p + 1);
		for (size_t i = 0; i < rs.n; i++)
			if (pool_of[i] == p)
				printf(" %s", cf_report_host_id(rs.r[i]));
		printf("\n");
	}
	if (dir) {
		cJSON *root = cJSON_CreateObject(), *arr;
		char *text = NULL;
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			cli_error("pools", "cannot create %s: %s", dir,
				  strerror(errno));
			cJSON_Delete(root);
			goto cleanup;
		}
		arr = root ? cJSON_AddArrayToObject(root, "pools") : NULL;
		for (size_t p = 0; arr && p < npools; p++)
			if (write_pool(dir, p, argv + optind, &rs, pool_of, arr)
			    != CLI_OK) {
				cJSON_Delete(root);
				goto cleanup;
			}
		/* The index last, durably: it names only pools written. */
		text = arr ? cJSON_Print(root) : NULL;
		cJSON_Delete(root);
		if (!text || (size_t)snprintf(path, sizeof(path), "%s/pools.json",
					      dir) >= sizeof(path) ||
		    cli_write_file("pools", path, text) != 0) {
			free(text);
			goto cleanup;
		}
		free(text);
	}
	rc = npools == 1 ? CLI_OK : CLI_NO;
cleanup:
	free(pool_of);
	cli_free_reports(&rs);
	return rc;
}
