#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet explain [--json|--brief] REPORT_A REPORT_B\n"
"\n"
"Migration verdict both ways between two hosts: can a guest that sees all\n"
"of A's features (A's own profile) move to B, and the reverse; with the\n"
"features each host offers that the other lacks.  First one line per\n"
"direction: 'A -> B: compatible' or 'A -> B: incompatible, N blockers\n"
"(...)'; then every reason of an incompatible direction.\n"
"\n"
"  -j, --json   one JSON document on stdout instead of text\n"
"  -b, --brief  only the one-line summary per direction\n"
"  -h, --help   this text\n"
"\n"
"exit: 0 compatible both ways, 1 not, 2 usage or input error,\n"
"3 internal error\n";

static cJSON *names(const struct cf_explain *e, bool a)
{
	cJSON *arr = cJSON_CreateArray();
	const char *s;

	for (size_t i = 0; arr && (s = a ? cf_explain_only_in_a(e, i)
				      : cf_explain_only_in_b(e, i)); i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(s));
	return arr;
}

static void print_names(const char *host, const char *other,
			const struct cf_explain *e, bool a)
{
	const char *s;

	printf("only %s offers:", host);
	for (size_t i = 0; (s = a ? cf_explain_only_in_a(e, i)
				   : cf_explain_only_in_b(e, i)); i++)
		printf(" %s", s);
	if (!(a ? cf_explain_only_in_a(e, 0) : cf_explain_only_in_b(e, 0)))
		printf(" (no named feature beyond %s)", other);
	printf("\n");
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "brief", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	struct cf_explain *e = NULL;
	cJSON *root = NULL, *arr;
	bool json = false, brief = false, ok;
	const char *a, *b;
	enum cf_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jbh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'b': brief = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error("explain", "wants exactly two reports");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_reports(argv + optind, 2, &rs);
	if (rc != CLI_OK)
		return rc;
	err = cf_explain_create(rs.r[0], rs.r[1], &e);
	if (err == CF_EARCH) {
		/* Neither can take the other's guests: incompatible. */
		for (int i = 0; !json && i < 2; i++)
			printf("%s -> %s: incompatible, 1 blocker (architecture: "
			       "host is %s)\n", cf_report_host_id(rs.r[i]),
			       cf_report_host_id(rs.r[1 - i]),
			       cf_report_arch(rs.r[1 - i]));
		cli_error("explain", "%s is %s, %s is %s: incompatible both ways "
			  "(a guest never changes architecture)",
			  cf_report_host_id(rs.r[0]), cf_report_arch(rs.r[0]),
			  cf_report_host_id(rs.r[1]), cf_report_arch(rs.r[1]));
		rc = CLI_NO;
		goto cleanup;
	}
	if (err != CF_OK) {
		cli_error("explain", "%s", cf_strerror(err));
		rc = CLI_INTERNAL;
		goto cleanup;
	}
	a = cf_report_host_id(rs.r[0]);
	b = cf_report_host_id(rs.r[1]);
	ok = cf_verdict_compatible(cf_explain_a_to_b(e)) &&
	     cf_verdict_compatible(cf_explain_b_to_a(e));
	rc = CLI_INTERNAL;
	if (json) {
		char *s;
		root = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(root, "verdicts");
		if (!arr)
			goto cleanup;
		if (cli_emit_verdict(arr, b, cf_explain_a_to_b(e)) != CLI_OK ||
		    cli_emit_verdict(arr, a, cf_explain_b_to_a(e)) != CLI_OK)
			goto cleanup;
		cJSON *v0 = cJSON_GetArrayItem(arr, 0), *v1 = cJSON_GetArrayItem(arr, 1);
		cJSON_AddStringToObject(v0, "from", a);
		cJSON_AddStringToObject(v1, "from", b);
		cJSON *oa = names(e, true), *ob = names(e, false);
		if (!oa || !ob) {
			cJSON_Delete(oa);
			cJSON_Delete(ob);
			goto cleanup;
		}
		cJSON_AddItemToObject(root, "only_in_a", oa);
		cJSON_AddItemToObject(root, "only_in_b", ob);
		cJSON_AddStringToObject(root, "a", a);
		cJSON_AddStringToObject(root, "b", b);
		cJSON_AddBoolToObject(root, "compatible_both_ways", ok);
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	} else {
		const struct cf_verdict *ab = cf_explain_a_to_b(e);
		const struct cf_verdict *ba = cf_explain_b_to_a(e);
		char line[1024];

		/* The summary of each direction, then the reasons. */
		cf_verdict_summary(ab, line, sizeof(line));
		printf("%s -> %s: %s\n", a, b, line);
		cf_verdict_summary(ba, line, sizeof(line));
		printf("%s -> %s: %s\n", b, a, line);
		if (!brief) {
			if (!cf_verdict_compatible(ab)) {
				printf("%s -> %s: ", a, b);
				cli_emit_verdict(NULL, b, ab);
			}
			if (!cf_verdict_compatible(ba)) {
				printf("%s -> %s: ", b, a);
				cli_emit_verdict(NULL, a, ba);
			}
			print_names(a, b, e, true);
			print_names(b, a, e, false);
		}
	}
	rc = ok ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(root);
	cf_explain_destroy(e);
	cli_free_reports(&rs);
	return rc;
}
