#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/cli_util.h"
#include "arch/driver.h"

static const char help[] =
"usage: cpufleet collect [--features LIST] [--host-id ID] [-o FILE]\n"
"\n"
"Asks KVM on this host what it offers a guest.  arm64: a scratch VM and\n"
"vCPU with the given features, every feature ID register, the writable\n"
"masks, firmware registers, KVM capabilities and facts.  x86-64:\n"
"KVM_GET_SUPPORTED_CPUID, the feature MSRs, the TSC rate and scaling, the\n"
"capabilities.  Prints the report (cpufleet.report/v1), or writes it\n"
"durably to FILE.  Needs /dev/kvm.\n"
"\n"
"  -f, --features LIST  arm64 vCPU features: psci,pmu (default), sve, pauth\n"
"  -i, --host-id ID     the report's host id (default: the hostname)\n"
"  -o, --output FILE    write the report to FILE ('-': stdout; a device or\n"
"                       FIFO is written in place)\n"
"  -h, --help           this text\n"
"\n"
"x86-64: when KVM here offers fewer ISA features than /proc/cpuinfo shows\n"
"(a nested or restricted KVM), a warning on stderr names them: every\n"
"baseline with this host loses them.\n"
"\n"
"exit: 0 collected, 2 usage error or no KVM here, 3 internal error\n";

/* Warns when KVM offers fewer of the CPU's ISA flags than the CPU has. */
static void warn_thin(const struct cf_report *r)
{
	const struct cf_driver *drv = cf_driver_find(cf_report_arch(r));
	static char cpuinfo[65536];
	char lacks[512];
	size_t n, got;
	FILE *f;

	if (!drv || !drv->kvm_lacks)
		return;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	/* The first processor's block holds the flags line. */
	got = fread(cpuinfo, 1, sizeof(cpuinfo) - 1, f);
	fclose(f);
	cpuinfo[got] = '\0';
	n = drv->kvm_lacks(r, cpuinfo, lacks, sizeof(lacks));
	if (n)
		fprintf(stderr, "cpufleet collect: warning: KVM here offers less "
			"than this CPU: %zu ISA feature%s in /proc/cpuinfo but not "
			"in KVM_GET_SUPPORTED_CPUID (a nested or restricted KVM?): "
			"%s; every baseline with this host lacks %s\n", n,
			n == 1 ? "" : "s", lacks, n == 1 ? "it" : "them");
}

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
			if (cli_check_host_id("collect", "--host-id", optarg) !=
			    CLI_OK)
				return CLI_USAGE;
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
	err = cli_collect_here(features, id, &r, &d);
	if (err != CF_OK) {
		cli_error("collect", "%s", d.msg);
		return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
	}
	warn_thin(r);
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
