#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet baseline [-o FILE] [-q] REPORT...\n"
"\n"
"Computes the richest CPU profile that every host accepts, field by field\n"
"under the Arm ID-scheme policies and each host's writable masks.  Prints the\n"
"profile JSON (cpufleet.profile/v1) on stdout, or writes it durably to FILE;\n"
"an infeasible pool still gets a profile, with its `conflicts`, each also\n"
"named on stderr.\n"
"\n"
"  -o, --output FILE  write the profile to FILE instead of stdout ('-':\n"
"                     stdout; a device or FIFO is written in place)\n"
"  -q, --quiet        do not list conflicts on stderr\n"
"  -h, --help         this text\n"
"\n"
"exit: 0 feasible, 1 infeasible, 2 usage or input error, 3 internal error\n";

int cmd_baseline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	const char *out = NULL;
	bool quiet = false;
	struct cf_diag d = { "" };
	enum cf_err err;
	char *json = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (optind >= argc) {
		cli_error("baseline", "no reports given");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc != CLI_OK)
		return rc;
	rc = cli_make_pool("baseline", argv + optind, &rs, NULL, 0, &pool);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	err = cf_baseline(pool, &pr);
	if (err != CF_OK) {
		cli_error("baseline", "%s", cf_strerror(err));
		goto cleanup;
	}
	if (!quiet) {
		for (size_t i = 0; i < cf_profile_conflict_count(pr); i++) {
			char text[512];
			cf_profile_conflict_text(pr, i, text, sizeof(text));
			fprintf(stderr, "conflict: %s\n", text);
		}
	}
	if (out) {
		err = cf_profile_save(pr, out, &d);
		if (err != CF_OK) {
			cli_error("baseline", "%s", d.msg);
			goto cleanup;
		}
		fprintf(stderr, "baseline: %zu hosts, %zu distinct configurations, "
			"%s; profile written to %s\n", cf_pool_host_count(pool),
			cf_pool_config_count(pool),
			cf_profile_feasible(pr) ? "feasible" : "INFEASIBLE", out);
	} else {
		err = cf_profile_to_json(pr, &json);
		if (err != CF_OK) {
			cli_error("baseline", "%s", cf_strerror(err));
			goto cleanup;
		}
		if (printf("%s\n", json) < 0 || fflush(stdout) != 0) {
			cli_error("baseline", "cannot write to stdout");
			goto cleanup;
		}
	}
	rc = cf_profile_feasible(pr) ? CLI_OK : CLI_NO;
cleanup:
	free(json);
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	cli_free_reports(&rs);
	return rc;
}
