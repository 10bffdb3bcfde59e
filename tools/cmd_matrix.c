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
"For every ordered pair of hosts (A, B): can a guest started with A's own\n"
"profile (everything KVM offers on A) run on B?  Rows are sources, columns\n"
"destinations; `ok` or `NO` with the number of blocking reasons.  The JSON\n"
"is the server's pool matrix (README \"JSON: verdicts and matrices\").\n"
"\n"
"  -j, --json   one JSON document on stdout instead of the table\n"
"  -h, --help   this text\n"
"\n"
"exit: 0 every pair compatible, 1 some pair not, 2 usage or input error,\n"
"3 internal error\n";

int cmd_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	struct cf_matrix_cell *cell = NULL;
	const char **hosts = NULL;
	cJSON *root = NULL;
	bool json = false, all_ok = true;
	size_t w = 6, fi = 0, ti = 0;
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
	cell = calloc(rs.n * rs.n + 1, sizeof(*cell));
	hosts = calloc(rs.n + 1, sizeof(*hosts));
	if (!cell || !hosts)
		goto cleanup;
	for (size_t i = 0; i < rs.n; i++) {
		hosts[i] = cf_report_host_id(rs.r[i]);
		if (strlen(hosts[i]) > w)
			w = strlen(hosts[i]);
	}
	/* The one engine loop, as the server's pool matrix. */
	err = cf_matrix_pairs((const struct cf_report *const *)rs.r, rs.n,
			      cell, &fi, &ti);
	if (err != CF_OK) {
		if (err == CF_ENOMEM)
			goto cleanup;
		cli_error("matrix", "%s and %s have different architectures",
			  hosts[fi], hosts[ti]);
		rc = CLI_USAGE;
		goto cleanup;
	}
	for (size_t i = 0; i < rs.n * rs.n; i++)
		all_ok = all_ok && cell[i].compatible;
	if (json) {
		char *s;
		root = cJSON_CreateObject();
		if (!root || cf_matrix_to_doc(hosts, rs.n, cell, root) != CF_OK)
			goto cleanup;
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	} else {
		printf("%-*s", (int)w + 2, "from\\to");
		for (size_t j = 0; j < rs.n; j++)
			printf(" %-*s", (int)w, hosts[j]);
		printf("\n");
		for (size_t i = 0; i < rs.n; i++) {
			printf("%-*s", (int)w + 2, hosts[i]);
			for (size_t j = 0; j < rs.n; j++) {
				const struct cf_matrix_cell *x = &cell[i * rs.n + j];
				char cs[32];
				if (x->compatible)
					snprintf(cs, sizeof(cs), "ok");
				else
					snprintf(cs, sizeof(cs), "NO(%zu)",
						 x->reasons);
				printf(" %-*s", (int)w, cs);
			}
			printf("\n");
		}
	}
	rc = all_ok ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(root);
	free(cell);
	free(hosts);
	cli_free_reports(&rs);
	return rc;
}
