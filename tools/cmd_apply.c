#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli_util.h"
#if defined(__aarch64__)
#include "arch/arm64/a64vm.h"
#endif

static const char help[] =
"usage: cpufleet apply --check-only [--features LIST] PROFILE\n"
"\n"
"Dry-runs a profile on this host: a scratch VM and vCPU with the given\n"
"vCPU features, the profile programmed in the order KVM requires (ID\n"
"registers first, then firmware registers) and every write read back.\n"
"Says whether KVM accepted it and, if not, the register and field KVM\n"
"refused.  VMMs call cf_arm64_apply() from the library on their own VM.\n"
"Needs /dev/kvm on an arm64 host.\n"
"\n"
"  -n, --check-only     required: only a scratch VM is touched\n"
"  -f, --features LIST  vCPU features: psci,pmu (default), sve, pauth\n"
"  -h, --help           this text\n"
"\n"
"exit: 0 accepted, 1 refused, 2 usage or input error or not an arm64 KVM\n"
"host, 3 internal error\n";

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check-only", no_argument, NULL, 'n' },
		{ "features", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t features = CF_ARM64_FEAT_DEFAULT;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	bool check_only = false;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': check_only = true; break;
		case 'f':
			if (cf_arm64_parse_features(optarg, &features) != CF_OK) {
				cli_error("apply", "unknown feature in '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (!check_only || argc - optind != 1) {
		cli_error("apply", "%s", !check_only ? "only --check-only is "
			  "supported: a VMM applies profiles through the library"
			  : "wants exactly one profile");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	if (cf_profile_load(argv[optind], &pr, &d) != CF_OK) {
		fprintf(stderr, "cpufleet: %s\n", d.msg);
		return CLI_USAGE;
	}
#if defined(__aarch64__)
	{
		struct cf_a64vm *vm = NULL;
		struct cf_apply_refusal ref;
		/* No usable scratch VM (no /dev/kvm...): exit 2, as --help says. */
		if (cf_a64vm_create_applied(features, pr, &ref, &vm, &d) != CF_OK) {
			cli_error("apply", "%s", d.msg);
		} else if (ref.refused) {
			printf("REFUSED: %s%s%s: %s\n", ref.reg, ref.field[0] ? "." : "",
			       ref.field, ref.text);
			rc = CLI_NO;
		} else {
			printf("accepted: KVM took every register of %s\n",
			       argv[optind]);
			rc = CLI_OK;
		}
		cf_a64vm_destroy(vm);
	}
#else
	(void)features;
	cli_error("apply", "applying an arm64 profile needs an arm64 host with "
		  "KVM (this is not one)");
#endif
	cf_profile_destroy(pr);
	return rc;
}
