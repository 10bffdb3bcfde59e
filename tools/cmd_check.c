#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "profiles/doc.h"
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet check --profile PROFILE [--vcpus N] [--json|--brief] REPORT...\n"
"       cpufleet check --server URL --profile NAME[@VERSION]|FILE [--vcpus N]\n"
"                      [--json|--brief] HOST...   (the server's latest\n"
"                      reports; same output and exit; --server URL --help)\n"
"\n"
"First one line per host: 'HOST: compatible' or 'HOST: incompatible, N\n"
"blockers (FEAT_SVE2, avx512f, ...)'; then every reason of each\n"
"incompatible host.\n"
"Says, for each host, whether KVM there would accept every register of the\n"
"profile (KVM_SET_ONE_REG under the host's limits and writable masks) and\n"
"every KVM capability the profile's VMs enable (kvm.enabled) and, when not,\n"
"every reason, in feature names.  The pool's common capabilities\n"
"(kvm.caps) are advice and never refuse a host.  A profile that keeps a\n"
"feature without one it needs (AVX2 without AVX) is refused on every host.\n"
"\n"
"  -p, --profile FILE  the profile (cpufleet.profile/v1), or a named one:\n"
"                      x86-64-v1 .. x86-64-v4 (the psABI levels), required\n"
"      --vcpus N       also: can a VM of N vCPUs be created there\n"
"                      (KVM_CAP_MAX_VCPUS; KVM_CAP_NR_VCPUS is only KVM's\n"
"                      recommended count and refuses nothing)\n"
"  -j, --json          one JSON document on stdout instead of text\n"
"  -b, --brief         only the one-line summary per host\n"
"  -h, --help          this text\n"
"\n"
"exit: 0 every host compatible, 1 some host incompatible, 2 usage or input\n"
"error, 3 internal error\n";

void cli_print_summary(const char *host, const struct cf_verdict *v)
{
	char line[1024];

	cf_verdict_summary(v, line, sizeof(line));
	printf("%s: %s\n", host, line);
}

int cli_emit_verdict(void *arr, const char *host, const struct cf_verdict *v)
{
	size_t n = cf_verdict_reason_count(v);
	char text[512];
	cJSON *o;

	if (!arr) {
		printf("%s: %s\n", host,
		       cf_verdict_compatible(v) ? "compatible" : "INCOMPATIBLE");
		for (size_t i = 0; i < n; i++) {
			cf_verdict_reason_text(v, i, text, sizeof(text));
			printf("  - %s\n", text);
		}
		return CLI_OK;
	}
	/* The one verdict shape, as the server's /v1/check gives it. */
	if (cf_verdict_entry_doc(host, v, &o) != CF_OK)
		return CLI_INTERNAL;
	if (!cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return CLI_INTERNAL;
	}
	return CLI_OK;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "vcpus", required_argument, NULL, 'V' },
		{ "brief", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_reports rs = { 0 };
	struct cf_profile *pr = NULL;
	struct cf_verdict **vs = NULL;
	const char *ppath = NULL;
	long vcpus = 0;
	cJSON *root = NULL, *arr = NULL;
	bool json = false, brief = false, all_ok = true;
	enum cf_err err;
	int c, rc;

#ifdef CF_NET
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--server", 8) ||
		    (!strcmp(argv[i], "-s")))
			return cli_remote_check(argc, argv);
#endif
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:jbh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': ppath = optarg; break;
		case 'j': json = true; break;
		case 'b': brief = true; break;
		case 'V':
			if (!cli_parse_long(optarg, 1, 4294967295L, &vcpus)) {
				cli_error("check", "--vcpus: expected a number "
					  "of vCPUs from 1, got '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (!ppath || optind >= argc) {
		cli_error("check", "%s", !ppath ? "--profile is required"
					       : "no reports given");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_profile("check", ppath, &pr);
	if (rc != CLI_OK)
		return rc;
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	vs = calloc(rs.n, sizeof(*vs));
	if (!vs)
		goto cleanup;
	if (json) {
		root = cJSON_CreateObject();
		if (!root || !cJSON_AddStringToObject(root, "profile", ppath))
			goto cleanup;
		arr = cJSON_AddArrayToObject(root, "verdicts");
		if (!arr)
			goto cleanup;
	}
	if (!cf_profile_feasible(pr))
		fprintf(stderr, "cpufleet check: warning: %s is an infeasible "
			"profile (%zu conflicts)\n", ppath,
			cf_profile_conflict_count(pr));
	for (size_t i = 0; i < rs.n; i++) {
		if (!(vs[i] = cf_verdict_create()))
			goto cleanup;
		err = vcpus ? cf_check_vcpus(pr, rs.r[i], (uint64_t)vcpus, vs[i])
			    : cf_check(pr, rs.r[i], vs[i]);
		if (err != CF_OK) {
			cli_error("check", "%s", cf_strerror(err));
			goto cleanup;
		}
		if (!cf_verdict_compatible(vs[i]))
			all_ok = false;
		if (json && cli_emit_verdict(arr, cf_report_host_id(rs.r[i]),
					     vs[i]) != CLI_OK)
			goto cleanup;
	}
	/* Text: the summary of every host first, then the reasons. */
	for (size_t i = 0; !json && i < rs.n; i++)
		cli_print_summary(cf_report_host_id(rs.r[i]), vs[i]);
	for (size_t i = 0; !json && !brief && i < rs.n; i++)
		if (!cf_verdict_compatible(vs[i]))
			cli_emit_verdict(NULL, cf_report_host_id(rs.r[i]), vs[i]);
	if (json) {
		char *s;
		if (!cJSON_AddBoolToObject(root, "compatible", all_ok))
			goto cleanup;
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	}
	rc = all_ok ? CLI_OK : CLI_NO;
cleanup:
	cJSON_Delete(root);
	for (size_t i = 0; vs && i < rs.n; i++)
		cf_verdict_destroy(vs[i]);
	free(vs);
	cf_profile_destroy(pr);
	cli_free_reports(&rs);
	return rc;
}
