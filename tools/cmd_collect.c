#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet collect [--features LIST] [--host-id ID] [-o FILE]\n"
"\n"
"Asks KVM on this host what it offers a guest whose vCPUs use the given\n"
"features: a scratch VM and vCPU, every feature ID register, the writable\n"
"masks, firmware registers, KVM capabilities and facts.  Prints the report\n"
"(cpufleet.report/v1), or writes it durably to FILE.  Needs /dev/kvm on an\n"
"arm64 host.\n"
"\n"
"  -f, --features LIST  vCPU features: psci,pmu (default), sve, pauth\n"
"  -i, --host-id ID     the report's host id (default: the hostname)\n"
"  -o, --output FILE    write the report to FILE\n"
"  -h, --help           this text\n"
"\n"
"exit: 0 collected, 2 usage error or not an arm64 KVM host, 3 internal error\n";

int cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", required_argument, NULL, 'f' },
		{ "host-id", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t features = CF_ARM64_FEAT_DEFAULT;
	const char *out = NULL;
	char id[CF_HOST_ID_MAX] = "";
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	char *json = NULL;
	enum cf_err err;
	int c, rc = CLI_INTERNAL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:i:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cf_arm64_parse_features(optarg, &features) != CF_OK) {
				cli_error("collect", "unknown feature in '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'i':
			snprintf(id, sizeof(id), "%s", optarg);
			break;
		case 'o': out = optarg; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (optind != argc) {
		fputs(help, stderr);
		return CLI_USAGE;
	}
	if (!id[0] && gethostname(id, sizeof(id) - 1) != 0)
		snprintf(id, sizeof(id), "localhost");
	err = cf_arm64_collect(features, id, &r, &d);
	if (err != CF_OK) {
		cli_error("collect", "%s", d.msg);
		return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
	}
	if (cf_report_to_json(r, &json) != CF_OK)
		goto cleanup;
	if (out) {
		if (cli_write_file("collect", out, json) != 0)
			goto cleanup;
	} else {
		printf("%s\n", json);
	}
	rc = CLI_OK;
cleanup:
	free(json);
	cf_report_destroy(r);
	return rc;
}
