#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet matrix [--json] REPORT...\n"
"\n"
"For every ordered pair of hosts (A, B): can a guest started with A's own\n"
"profile (everything KVM offers on A) run on B?  Rows are sources, columns\n"
"destinations; `ok` or `NO` with the number of blocking reasons.\n"
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
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = NULL;
	cJSON *root = NULL, *rows = NULL;
	bool json = false, all_ok = true;
	size_t w = 6;
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
	v = cf_verdict_create();
	if (!v)
		goto cleanup;
	for (size_t i = 0; i < rs.n; i++)
		if (strlen(cf_report_host_id(rs.r[i])) > w)
			w = strlen(cf_report_host_id(rs.r[i]));
	if (json) {
		root = cJSON_CreateObject();
		rows = cJSON_AddArrayToObject(root, "pairs");
		if (!rows)
			goto cleanup;
	} else {
		printf("%-*s", (int)w + 2, "from\\to");
		for (size_t j = 0; j < rs.n; j++)
			printf(" %-*s", (int)w, cf_report_host_id(rs.r[j]));
		printf("\n");
	}
	for (size_t i = 0; i < rs.n; i++) {
		err = cf_profile_from_report(rs.r[i], &pr);
		if (err != CF_OK)
			goto cleanup;
		if (!json)
			printf("%-*s", (int)w + 2, cf_report_host_id(rs.r[i]));
		for (size_t j = 0; j < rs.n; j++) {
			char cell[32];
			err = cf_check(pr, rs.r[j], v);
			if (err != CF_OK)
				goto cleanup;
			if (!cf_verdict_compatible(v))
				all_ok = false;
			if (json) {
				if (cli_emit_verdict(rows, cf_report_host_id(rs.r[j]),
						     v) != CLI_OK)
					goto cleanup;
				cJSON_AddStringToObject(
					cJSON_GetArrayItem(rows,
						cJSON_GetArraySize(rows) - 1),
					"from", cf_report_host_id(rs.r[i]));
				continue;
			}
			if (cf_verdict_compatible(v))
				snprintf(cell, sizeof(cell), "ok");
			else
				snprintf(cell, sizeof(cell), "NO(%zu)",
					 cf_verdict_reason_count(v));
			printf(" %-*s", (int)w, cell);
		}
		if (!json)
			printf("\n");
		cf_profile_destroy(pr);
		pr = NULL;
	}
	if (json) {
		char *s;
		cJSON_AddBoolToObject(root, "compatible", all_ok);
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	}
	rc = all_ok ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(root);
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cli_free_reports(&rs);
	return rc;
}
