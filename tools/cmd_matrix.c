#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "profiles/doc.h"
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet matrix [--json] REPORT...\n"
"\n"
"For every ordered pair of the reports' distinct CPU configurations (A, B):\n"
"can a guest started with A's own profile (everything KVM offers on A) run\n"
"on a host of B?  Hosts of one configuration are listed once, under it\n"
"(c1, c2...); rows are sources, columns destinations; `ok` or `NO` with the\n"
"number of blocking reasons.  The JSON is the server's pool matrix (README\n"
"\"JSON: verdicts and matrices\").\n"
"\n"
"  -j, --json   one JSON document on stdout instead of the table\n"
"  -h, --help   this text\n"
"\n"
"exit: 0 every pair compatible, 1 some pair not, 2 usage or input error,\n"
"3 internal error\n";

/* The table: each configuration and its hosts, then the pairs. */
static void print_table(const char *const *hosts, size_t n,
			const size_t *group, size_t k,
			const struct cf_matrix_cell *cell)
{
	char name[32], cs[32];

	for (size_t g = 0; g < k; g++) {
		cf_matrix_config_name(g, name, sizeof(name));
		printf("%s:", name);
		for (size_t i = 0; i < n; i++)
			if (group[i] == g)
				printf(" %s", hosts[i]);
		printf("\n");
	}
	printf("\n%-8s", "from\\to");
	for (size_t j = 0; j < k; j++) {
		cf_matrix_config_name(j, name, sizeof(name));
		printf(" %-8s", name);
	}
	printf("\n");
	for (size_t i = 0; i < k; i++) {
		cf_matrix_config_name(i, name, sizeof(name));
		printf("%-8s", name);
		for (size_t j = 0; j < k; j++) {
			const struct cf_matrix_cell *x = &cell[i * k + j];
			if (x->compatible)
				snprintf(cs, sizeof(cs), "ok");
			else
				snprintf(cs, sizeof(cs), "NO(%zu)", x->reasons);
			printf(" %-8s", cs);
		}
		printf("\n");
	}
}

int cmd_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	struct cf_matrix_cell *cell = NULL;
	const struct cf_report **reps = NULL;
	const char **hosts = NULL;
	size_t *group = NULL, *first = NULL;
	cJSON *root = NULL;
	bool json = false, all_ok = true;
	size_t k = 0, fi = 0, ti = 0;
	enum cf_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("matrix", "no reports given");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc != CLI_OK)
		return rc;
	rc = CLI_INTERNAL;
	hosts = calloc(rs.n + 1, sizeof(*hosts));
	group = calloc(rs.n + 1, sizeof(*group));
	first = calloc(rs.n + 1, sizeof(*first));
	reps = calloc(rs.n + 1, sizeof(*reps));
	if (!hosts || !group || !first || !reps)
		goto cleanup;
	for (size_t i = 0; i < rs.n; i++)
		hosts[i] = cf_report_host_id(rs.r[i]);
	/* The one engine loop, as the server's pool matrix: once per pair of
	 * distinct configurations. */
	if (cf_matrix_group((const struct cf_report *const *)rs.r, rs.n, group,
			    first, &k) != CF_OK)
		goto cleanup;
	for (size_t g = 0; g < k; g++)
		reps[g] = rs.r[first[g]];
	cell = calloc(k * k + 1, sizeof(*cell));
	if (!cell)
		goto cleanup;
	err = cf_matrix_pairs(reps, k, cell, &fi, &ti, NULL, NULL);
	if (err != CF_OK) {
		if (err == CF_ENOMEM)
			goto cleanup;
		cli_error("matrix", "%s and %s have different architectures",
			  hosts[first[fi]], hosts[first[ti]]);
		rc = CLI_USAGE;
		goto cleanup;
	}
	for (size_t i = 0; i < k * k; i++)
		all_ok = all_ok && cell[i].compatible;
	if (json) {
		char *s;
		root = cJSON_CreateObject();
		if (!root || cf_matrix_to_doc(hosts, rs.n, group, k, cell,
					      root) != CF_OK)
			goto cleanup;
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	} else {
		print_table(hosts, rs.n, group, k, cell);
	}
	rc = all_ok ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(root);
	free(cell);
	free(hosts);
	free(group);
	free(first);
	free(reps);
	cli_free_reports(&rs);
	return rc;
}
