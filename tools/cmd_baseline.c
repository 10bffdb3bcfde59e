#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet baseline [-o FILE] [-q] [--enable CAP[=VALUE]]... REPORT...\n"
"\n"
"Computes the richest CPU profile that every host accepts, field by field\n"
"under the Arm ID-scheme policies and each host's writable masks.  Prints the\n"
"profile JSON (cpufleet.profile/v1) on stdout, or writes it durably to FILE;\n"
"an infeasible pool still gets a profile, with its `conflicts`, each also\n"
"named on stderr.  A feature whose prerequisite the pool lost (AVX-512F\n"
"without the AVX-512 XSAVE state, SVE2 without SVE) is left out too, and\n"
"the profile's `dropped` and stderr say what it needs and why it is gone.\n"
"A feasible profile's named levels follow on stderr, as `show` prints them\n"
"(x86: psABI level, richest libvirt model; arm64: Armv8.x level, core).\n"
"\n"
"KVM capabilities are no CPU features: the profile keeps the pool's common\n"
"set as advice (kvm.caps), never a refusal.  --enable names one the VMs\n"
"enable (kvm.enabled), which check then requires on every host; a host of\n"
"the pool that lacks it makes the pool infeasible.\n"
"\n"
"  -o, --output FILE  write the profile to FILE instead of stdout ('-':\n"
"                     stdout; a device or FIFO is written in place)\n"
"  -q, --quiet        do not list conflicts, what was dropped, nor the named\n"
"                     levels, on stderr\n"
"  -e, --enable CAP[=VALUE]\n"
"                     the VMs enable capability CAP, one of role guest in\n"
"                     arch/caps/caps.txt (KVM_CAP_ARM_MTE, KVM_CAP_X2APIC_API\n"
"                     ...); VALUE: the bits of a bitmask (0x3), else 1\n"
"  -h, --help         this text\n"
"\n"
"exit: 0 feasible, 1 infeasible, 2 usage or input error, 3 internal error\n";

/* --enable CAP[=VALUE]: VALUE decimal or 0x hex, 1 if absent. */
static int enable_cap(const struct cf_pool *pool, struct cf_profile *pr,
		      const char *arg)
{
	char name[64], *end = NULL;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	unsigned long long value = 1;
	struct cf_diag d = { "" };
	enum cf_err err;

	if (n >= sizeof(name)) {
		cli_error("baseline", "--enable %s: no such capability", arg);
		return CLI_USAGE;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	if (eq) {
		errno = 0;
		value = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end || eq[1] == '-') {
			cli_error("baseline", "--enable %s: VALUE must be a number "
				  "(decimal or 0x hex)", arg);
			return CLI_USAGE;
		}
	}
	err = cf_profile_enable_cap(pr, pool, name, value, &d);
	if (err == CF_ENOMEM) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	if (err != CF_OK) {
		cli_error("baseline", "--enable %s: %s", arg, d.msg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cmd_baseline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "enable", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **enable = calloc((size_t)argc, sizeof(*enable));
	size_t nenable = 0;
	struct cli_reports rs = { 0 };
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	const char *out = NULL;
	bool quiet = false;
	struct cf_diag d = { "" };
	enum cf_err err;
	char *json = NULL;
	int c, rc;

	if (!enable) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	optind = 1;
	rc = CLI_USAGE;
	while ((c = getopt_long(argc, argv, "o:qe:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'e': enable[nenable++] = optarg; break;
		case 'h': fputs(help, stdout); rc = CLI_OK; goto cleanup;
		default: fputs(help, stderr); goto cleanup;
		}
	}
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (optind >= argc) {
		cli_error("baseline", "no reports given");
		fputs(help, stderr);
		goto cleanup;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc != CLI_OK)
		goto cleanup;
	rc = cli_make_pool("baseline", argv + optind, &rs, NULL, 0, &pool);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	err = cf_baseline(pool, &pr);
	if (err != CF_OK) {
		cli_error("baseline", "%s", cf_strerror(err));
		goto cleanup;
	}
	for (size_t i = 0; i < nenable; i++) {
		rc = enable_cap(pool, pr, enable[i]);
		if (rc != CLI_OK)
			goto cleanup;
	}
	rc = CLI_INTERNAL;
	if (!quiet) {
		for (size_t i = 0; i < cf_profile_dropped_count(pr); i++) {
			char text[640];
			cf_profile_dropped_text(pr, i, text, sizeof(text));
			fprintf(stderr, "%s\n", text);
		}
		for (size_t i = 0; i < cf_profile_conflict_count(pr); i++) {
			char text[512];
			cf_profile_conflict_text(pr, i, text, sizeof(text));
			fprintf(stderr, "conflict: %s\n", text);
		}
		if (cf_profile_feasible(pr)) {
			struct cli_levels lv;
			cli_levels_of(pr, &lv);
			cli_levels_print(stderr, &lv);
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
	free(enable);
	free(json);
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	cli_free_reports(&rs);
	return rc;
}
