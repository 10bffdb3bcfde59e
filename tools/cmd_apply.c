#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "tools/cli_source.h"
#include "tools/cli_util.h"
#include "arch/x86/apply.h"
#include "arch/x86/x86.h"
#include "arch/x86/x86vm.h"
#if defined(__aarch64__)
#include "arch/arm64/a64guest.h"
#endif

static const char help[] =
"usage: cpufleet apply --check-only [--features LIST] [--guest] [--kvm-only]\n"
"                      [--json] [--server URL] PROFILE\n"
"\n"
"Dry-runs a profile on this host: a scratch VM, the profile programmed in\n"
"the order KVM requires and every write read back.  Says whether KVM\n"
"accepted it and, if not, the register KVM refused.  VMMs call the library\n"
"on their own VMs (cf_arm64_apply*, cf_x86_apply_vm/cf_x86_apply_vcpu).\n"
"Needs /dev/kvm on a host of the profile's architecture.\n"
"\n"
"arm64: a vCPU with the given features; ID registers first, then firmware\n"
"registers.  x86: the profile's VM capabilities before the vCPU exists (a\n"
"split irqchip when the profile has one), then KVM_SET_CPUID2 with the\n"
"per-vCPU fields filled for APIC id 0, each feature MSR, the TSC rate;\n"
"read back with KVM_GET_CPUID2 (except the bits KVM recomputes),\n"
"KVM_GET_MSRS and KVM_GET_TSC_KHZ.\n"
"\n"
"  -n, --check-only     required: only a scratch VM is touched\n"
"  -f, --features LIST  arm64 vCPU features: psci,pmu (default), sve, pauth\n"
"  -k, --kvm-only       x86: do not judge the profile against this host's\n"
"                       report first; only KVM's answer\n"
"  -g, --guest          x86: then run a guest that executes CPUID for every\n"
"                       (leaf, subleaf) of the profile and compare what it\n"
"                       sees with the profile, except the fields the VMM\n"
"                       or KVM fill per vCPU or at run time\n"
"  -j, --json           one JSON document on stdout instead of text\n"
"  PROFILE              a file, a psABI level (x86-64-v1 .. x86-64-v4), or\n"
"                       with --server NAME[@VERSION]\n"
CLI_SOURCE_HELP
"  -h, --help           this text\n"
"\n"
"x86: KVM_SET_CPUID2 takes any table, so a dry run alone cannot tell\n"
"whether this host can run the profile.  First this host's report is\n"
"collected and the profile judged against it as `cpufleet check` does;\n"
"when the engine refuses (another CPU vendor, a feature this host lacks)\n"
"apply says REFUSED with every reason and KVM is not asked.  --kvm-only\n"
"skips that judgement and asks KVM alone (what KVM refuses, for VMM\n"
"developers; an x86 \"accepted\" then says nothing about this host).\n"
"\n"
"Hosts that do not honour a profile (x86).  Some hosts give a guest other\n"
"CPUID values than KVM_SET_CPUID2 was given: KVM on this host may rewrite\n"
"them (KVM_GET_CPUID2 already reads other values; upstream KVM keeps the\n"
"table as given but for the bits it recomputes), or, when this host is\n"
"itself a virtual machine, the hypervisor below may answer CPUID for the\n"
"nested guest with what it tells this host.  Such registers are listed as\n"
"\"NOT HONOURED by this host\" with the value wanted and the value seen:\n"
"a property of this host, not of the profile, so they do not fail the\n"
"check, but a guest started here sees them and is not held to the profile.\n"
"Any other difference is a mismatch and fails it.  Leaves beyond the\n"
"profile's own maximum leaf are listed and not compared.\n"
"\n"
"exit: 0 accepted (and with --guest no mismatch), 1 refused or a guest\n"
"mismatch, 2 usage or input error or no KVM for the profile's architecture\n"
"here, 3 internal error\n";

static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };

static const char *status_word(uint8_t st)
{
	return st == CF_X86_GUEST_OK ? "ok" :
	       st == CF_X86_GUEST_NOT_HONOURED ? "not_honoured" :
	       st == CF_X86_GUEST_OUT_OF_RANGE ? "out_of_range" : "mismatch";
}

static const char *why_text(uint8_t why)
{
	return why == CF_X86_WHY_KVM_REWROTE ? "KVM here rewrote it, "
	       "KVM_GET_CPUID2 reads what the guest saw; " :
	       why == CF_X86_WHY_OUTER ? "= this host's own CPUID: the "
	       "hypervisor below answered; " :
	       why == CF_X86_WHY_VENDOR ? "another vendor than this host's "
	       "CPU; " : "";
}

static const char *why_word(uint8_t why)
{
	return why == CF_X86_WHY_KVM_REWROTE ? "kvm_rewrote" :
	       why == CF_X86_WHY_OUTER ? "outer_hypervisor" :
	       why == CF_X86_WHY_VENDOR ? "vendor" : "";
}

static void hex(char *buf, size_t len, uint64_t v, int digits)
{
	snprintf(buf, len, "0x%0*llx", digits, (unsigned long long)v);
}

static cJSON *refusal_json(const struct cf_apply_refusal *ref)
{
	cJSON *o = cJSON_CreateObject();
	char h[24];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "register", ref->reg);
	cJSON_AddStringToObject(o, "field", ref->field);
	cJSON_AddNumberToObject(o, "errno", ref->err);
	hex(h, sizeof(h), ref->want, 1);
	cJSON_AddStringToObject(o, "wants", h);
	hex(h, sizeof(h), ref->got, 1);
	cJSON_AddStringToObject(o, "got", h);
	cJSON_AddStringToObject(o, "text", ref->text);
	return o;
}

static void print_refusal(const struct cf_apply_refusal *ref)
{
	printf("REFUSED: %s%s%s: %s\n", ref->reg, ref->field[0] ? "." : "",
	       ref->field, ref->text);
}

/* ---- x86 ---- */

/* "pni,ssse3" for the bits BITS of register NAME, or "". */
static void fields_of(const char *name, uint64_t bits, char *buf, size_t len)
{
	const struct cf_arch_ops *a = cf_arch_find("x86");
	uint64_t key;

	buf[0] = '\0';
	if (a && cf_arch_regkey(a, name, &key) == 0)
		cf_x86_fields_in(a, key, bits, buf, len);
}

static void x86_text_apply(const char *path, const struct cf_x86_apply_result *r)
{
	char fields[CF_TEXT_MAX];

	if (r->refusal.refused) {
		print_refusal(&r->refusal);
	} else {
		printf("accepted: KVM took every register of %s\n", path);
		printf("  capabilities enabled:");
		for (size_t i = 0; i < r->ncaps; i++)
			printf(" %s=0x%llx", r->caps[i].name,
			       (unsigned long long)r->caps[i].arg);
		printf("%s\n", r->ncaps ? "" : " none");
		printf("  read back: %zu CPUID entries (%zu registers; the bits "
		       "KVM recomputes not compared), %zu feature MSRs",
		       r->cpuid_entries, r->cpuid_regs, r->msrs);
		if (r->tsc_khz)
			printf(", TSC %llu kHz", (unsigned long long)r->tsc_khz);
		if (r->nrewritten)
			printf(": equal except %zu CPUID registers KVM on this "
			       "host rewrote (listed)\n", r->nrewritten);
		else
			printf(": equal\n");
	}
	for (size_t i = 0; i < r->ndiffs && i < CF_X86_DIFFS_MAX; i++)
		printf("  read back differs: %s wants 0x%llx, KVM reads 0x%llx\n",
		       r->diffs[i].reg, (unsigned long long)r->diffs[i].want,
		       (unsigned long long)r->diffs[i].got);
	for (size_t i = 0; i < r->nrewritten && i < CF_X86_DIFFS_MAX; i++) {
		const struct cf_x86_readback_diff *x = &r->rewritten[i];
		uint64_t diff = (x->want ^ x->got) & x->mask;
		fields_of(x->reg, diff, fields, sizeof(fields));
		printf("NOT HONOURED by this host: %s: KVM_SET_CPUID2 was given "
		       "0x%08llx, KVM_GET_CPUID2 reads 0x%08llx (differs in "
		       "0x%08llx%s%s)\n", x->reg, (unsigned long long)x->want,
		       (unsigned long long)x->got, (unsigned long long)diff,
		       fields[0] ? ": " : "", fields);
	}
	if (r->nrewritten > CF_X86_DIFFS_MAX)
		printf("  ... %zu rewritten CPUID registers in all\n",
		       r->nrewritten);
	if (r->cpuid_added)
		printf("  KVM_GET_CPUID2 also has %zu entries KVM_SET_CPUID2 was "
		       "not given\n", r->cpuid_added);
}

static cJSON *diff_list(const struct cf_x86_readback_diff *list, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	char h[24];

	for (size_t i = 0; arr && i < n && i < CF_X86_DIFFS_MAX; i++) {
		cJSON *x = cJSON_CreateObject();
		if (!x)
			break;
		cJSON_AddItemToArray(arr, x);
		cJSON_AddStringToObject(x, "register", list[i].reg);
		hex(h, sizeof(h), list[i].want, 1);
		cJSON_AddStringToObject(x, "wants", h);
		hex(h, sizeof(h), list[i].got, 1);
		cJSON_AddStringToObject(x, "got", h);
		hex(h, sizeof(h), list[i].mask, 1);
		cJSON_AddStringToObject(x, "compared", h);
	}
	return arr;
}

static cJSON *x86_json_apply(const struct cf_x86_apply_result *r)
{
	cJSON *o = cJSON_CreateObject(), *caps, *rb;

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "accepted", !r->refusal.refused);
	if (r->refusal.refused)
		cJSON_AddItemToObject(o, "refusal", refusal_json(&r->refusal));
	else
		cJSON_AddNullToObject(o, "refusal");
	caps = cJSON_AddObjectToObject(o, "capabilities");
	for (size_t i = 0; caps && i < r->ncaps; i++)
		cJSON_AddNumberToObject(caps, r->caps[i].name,
					(double)r->caps[i].arg);
	if (!r->read_back) {
		cJSON_AddNullToObject(o, "readback");
		return o;
	}
	rb = cJSON_AddObjectToObject(o, "readback");
	if (!rb)
		return o;
	cJSON_AddNumberToObject(rb, "cpuid_entries", (double)r->cpuid_entries);
	cJSON_AddNumberToObject(rb, "cpuid_registers", (double)r->cpuid_regs);
	cJSON_AddNumberToObject(rb, "msrs", (double)r->msrs);
	cJSON_AddNumberToObject(rb, "tsc_khz", (double)r->tsc_khz);
	cJSON_AddBoolToObject(rb, "equal", r->ndiffs == 0 && r->nrewritten == 0);
	cJSON_AddItemToObject(rb, "differences", diff_list(r->diffs, r->ndiffs));
	cJSON_AddNumberToObject(rb, "not_honoured_count", (double)r->nrewritten);
	cJSON_AddItemToObject(rb, "not_honoured",
			      diff_list(r->rewritten, r->nrewritten));
	cJSON_AddNumberToObject(rb, "cpuid_entries_added",
				(double)r->cpuid_added);
	return o;
}

static void x86_text_guest(const struct cf_x86_guest_result *g)
{
	char fields[CF_TEXT_MAX];

	for (size_t i = 0; i < g->nleaves; i++) {
		const struct cf_x86_guest_leaf *l = &g->leaves[i];
		if (l->status == CF_X86_GUEST_OK) {
			printf("CPUID 0x%08x.%x: ok\n", l->leaf, l->subleaf);
			continue;
		}
		if (l->status == CF_X86_GUEST_OUT_OF_RANGE) {
			printf("CPUID 0x%08x.%x: beyond the profile's maximum leaf, "
			       "not compared (guest saw 0x%08x 0x%08x 0x%08x "
			       "0x%08x)\n", l->leaf, l->subleaf, l->seen[0],
			       l->seen[1], l->seen[2], l->seen[3]);
			continue;
		}
		for (unsigned r = 0; r < 4; r++) {
			uint8_t st = l->reg_status[r];
			uint32_t diff = (l->want[r] ^ l->seen[r]) & l->compared[r];
			if (st == CF_X86_GUEST_OK)
				continue;
			cf_x86_fields_in(cf_arch_find("x86"), CF_X86_CPUID_KEY(l->leaf,
					 l->subleaf, r), diff, fields, sizeof(fields));
			printf("%s: CPUID 0x%08x.%x %s wants 0x%08x guest saw "
			       "0x%08x (%sdiffers in 0x%08x%s%s)\n",
			       st == CF_X86_GUEST_NOT_HONOURED ?
			       "NOT HONOURED by this host" : "MISMATCH",
			       l->leaf, l->subleaf, regs[r], l->want[r], l->seen[r],
			       why_text(l->why[r]), diff, fields[0] ? ": " : "",
			       fields);
		}
	}
	printf("guest: %zu leaves match, %zu not honoured by this host (listed), "
	       "%zu mismatched", g->nmatch, g->nnot_honoured, g->nmismatch);
	if (g->nout_of_range)
		printf("; %zu beyond the profile's maximum leaf (listed, not "
		       "compared)", g->nout_of_range);
	printf("%s\n", g->nested ? "" : " (this host is not nested)");
}

static cJSON *x86_json_guest(const struct cf_x86_guest_result *g)
{
	cJSON *o = cJSON_CreateObject(), *leaves;
	char h[24], fields[CF_TEXT_MAX];

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "nested", g->nested);
	cJSON_AddNumberToObject(o, "match", (double)g->nmatch);
	cJSON_AddNumberToObject(o, "not_honoured", (double)g->nnot_honoured);
	cJSON_AddNumberToObject(o, "mismatched", (double)g->nmismatch);
	cJSON_AddNumberToObject(o, "out_of_range", (double)g->nout_of_range);
	leaves = cJSON_AddArrayToObject(o, "leaves");
	for (size_t i = 0; leaves && i < g->nleaves; i++) {
		const struct cf_x86_guest_leaf *l = &g->leaves[i];
		cJSON *x = cJSON_CreateObject(), *rs;
		if (!x)
			break;
		cJSON_AddItemToArray(leaves, x);
		hex(h, sizeof(h), l->leaf, 8);
		cJSON_AddStringToObject(x, "leaf", h);
		hex(h, sizeof(h), l->subleaf, 8);
		cJSON_AddStringToObject(x, "subleaf", h);
		cJSON_AddStringToObject(x, "status", status_word(l->status));
		rs = cJSON_AddArrayToObject(x, "registers");
		for (unsigned r = 0; rs && r < 4; r++) {
			cJSON *y = cJSON_CreateObject();
			uint32_t diff = (l->want[r] ^ l->seen[r]) & l->compared[r];
			if (!y)
				break;
			cJSON_AddItemToArray(rs, y);
			cJSON_AddStringToObject(y, "register", regs[r]);
			cJSON_AddStringToObject(y, "status",
						status_word(l->reg_status[r]));
			cJSON_AddStringToObject(y, "why", why_word(l->why[r]));
			hex(h, sizeof(h), l->want[r], 8);
			cJSON_AddStringToObject(y, "wants", h);
			hex(h, sizeof(h), l->set[r], 8);
			cJSON_AddStringToObject(y, "set", h);
			hex(h, sizeof(h), l->kept[r], 8);
			cJSON_AddStringToObject(y, "kept", h);
			hex(h, sizeof(h), l->seen[r], 8);
			cJSON_AddStringToObject(y, "seen", h);
			hex(h, sizeof(h), l->compared[r], 8);
			cJSON_AddStringToObject(y, "compared", h);
			hex(h, sizeof(h), l->host[r], 8);
			cJSON_AddStringToObject(y, "host", h);
			cf_x86_fields_in(cf_arch_find("x86"), CF_X86_CPUID_KEY(l->leaf,
					 l->subleaf, r), diff, fields, sizeof(fields));
			cJSON_AddStringToObject(y, "differs_in", fields);
		}
	}
	return o;
}

static int emit_json(cJSON *root)
{
	char *text = root ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	if (!text) {
		cli_error("apply", "out of memory");
		return -1;
	}
	puts(text);
	free(text);
	return 0;
}

/* The engine's verdict on PR for this host, from a report collected now:
 * CLI_OK when compatible, CLI_NO after printing the refusal. */
static int x86_judge_here(const char *path, const struct cf_profile *pr,
			  bool json)
{
	struct cf_report *r = NULL;
	struct cf_verdict *v = NULL;
	struct cf_diag d = { "" };
	char host[CF_HOST_ID_MAX] = "", pv[16] = "", hv[16] = "";
	cJSON *root = NULL, *arr;
	enum cf_err err;
	bool vendors;
	int rc = CLI_INTERNAL;

	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	err = cli_collect_here(0, host, &r, &d);
	if (err != CF_OK) {
		cli_error("apply", "%s", d.msg);
		return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
	}
	v = cf_verdict_create();
	if (!v || cf_check(pr, r, v) != CF_OK)
		goto cleanup;
	if (cf_verdict_compatible(v)) {
		rc = CLI_OK;
		goto cleanup;
	}
	rc = CLI_NO;
	vendors = cf_profile_vendor(pr, pv, sizeof(pv)) &&
		  cf_report_vendor(r, hv, sizeof(hv)) && strcmp(pv, hv) != 0;
	if (json) {
		root = cJSON_CreateObject();
		if (!root || !cJSON_AddStringToObject(root, "profile", path) ||
		    !cJSON_AddStringToObject(root, "arch", "x86") ||
		    !cJSON_AddBoolToObject(root, "accepted", false) ||
		    !cJSON_AddStringToObject(root, "refused_by", "engine") ||
		    !cJSON_AddStringToObject(root, "profile_vendor", pv) ||
		    !cJSON_AddStringToObject(root, "host_vendor", hv) ||
		    !(arr = cJSON_AddArrayToObject(root, "verdicts")) ||
		    cli_emit_verdict(arr, host, v) != CLI_OK ||
		    !cJSON_AddNullToObject(root, "apply"))
			rc = CLI_INTERNAL;
		else {
			if (emit_json(root) != 0)   /* frees ROOT */
				rc = CLI_INTERNAL;
			root = NULL;
		}
		goto cleanup;
	}
	if (vendors)
		printf("REFUSED: %s is a profile for %s CPUs and this host's CPU "
		       "is %s: a guest would see another vendor's CPU\n", path,
		       pv, hv);
	else
		printf("REFUSED: this host cannot run %s\n", path);
	printf("  %zu reasons, as `cpufleet check` finds them against this "
	       "host's report collected now (KVM was not asked: "
	       "KVM_SET_CPUID2 takes any table):\n",
	       cf_verdict_reason_count(v));
	cli_emit_verdict(NULL, host, v);
cleanup:
	cJSON_Delete(root);
	cf_verdict_destroy(v);
	cf_report_destroy(r);
	if (rc == CLI_INTERNAL)
		cli_error("apply", "out of memory");
	return rc;
}

static int x86_apply(const char *path, const struct cf_profile *pr,
		     bool guest, bool kvm_only, bool json)
{
	struct cf_x86_guest_result *g = NULL;
	struct cf_x86_apply_result res, *r = &res;
	struct cf_x86vm *vm = NULL;
	struct cf_diag d = { "" };
	cJSON *root = NULL;
	enum cf_err err;
	int rc = kvm_only ? CLI_OK : x86_judge_here(path, pr, json);

	if (rc != CLI_OK)
		return rc;
	rc = CLI_INTERNAL;
	if (guest) {
		g = malloc(sizeof(*g));
		if (!g) {
			cli_error("apply", "out of memory");
			return CLI_INTERNAL;
		}
		err = cf_x86_guest_check(pr, g, &d);
		r = &g->apply;
	} else {
		struct cf_x86_vm_opts opts;
		/* As the guest check does: the pool's split irqchip. */
		cf_x86_scratch_opts(pr, &opts);
		err = cf_x86vm_create_applied(pr, &opts, 1, &res, &vm, &d);
	}
	if (err != CF_OK) {
		cli_error("apply", "%s", d.msg[0] ? d.msg : cf_strerror(err));
		rc = err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
		goto cleanup;
	}
	rc = r->refusal.refused ? CLI_NO : CLI_OK;
	if (g && g->ran && g->nmismatch > 0)
		rc = CLI_NO;
	if (json) {
		root = cJSON_CreateObject();
		if (root) {
			cJSON_AddStringToObject(root, "profile", path);
			cJSON_AddStringToObject(root, "arch", "x86");
			cJSON_AddItemToObject(root, "apply", x86_json_apply(r));
			if (g && g->ran)
				cJSON_AddItemToObject(root, "guest",
						      x86_json_guest(g));
			else if (g)
				cJSON_AddNullToObject(root, "guest");
		}
		if (emit_json(root) != 0)
			rc = CLI_INTERNAL;
		goto cleanup;
	}
	x86_text_apply(path, r);
	if (g && g->ran)
		x86_text_guest(g);
	else if (g)
		printf("guest: not run, KVM refused the profile\n");
cleanup:
	cf_x86vm_destroy(vm);
	free(g);
	return rc;
}

/* ---- arm64 ---- */

static int arm64_apply(const char *path, const struct cf_profile *pr,
		       uint32_t features, bool json)
{
#if defined(__aarch64__)
	struct cf_a64vm *vm = NULL;
	struct cf_apply_refusal ref;
	struct cf_diag d = { "" };
	int rc = CLI_USAGE;

	/* No usable scratch VM (no /dev/kvm...): exit 2, as --help says. */
	if (cf_a64guest_create_applied(features, pr, &ref, &vm, &d) != CF_OK) {
		cli_error("apply", "%s", d.msg);
	} else if (json) {
		cJSON *root = cJSON_CreateObject();
		rc = ref.refused ? CLI_NO : CLI_OK;
		if (root) {
			cJSON_AddStringToObject(root, "profile", path);
			cJSON_AddStringToObject(root, "arch", "arm64");
			cJSON_AddBoolToObject(root, "accepted", !ref.refused);
			if (ref.refused)
				cJSON_AddItemToObject(root, "refusal",
						      refusal_json(&ref));
			else
				cJSON_AddNullToObject(root, "refusal");
		}
		if (emit_json(root) != 0)
			rc = CLI_INTERNAL;
	} else if (ref.refused) {
		print_refusal(&ref);
		rc = CLI_NO;
	} else {
		printf("accepted: KVM took every register of %s\n", path);
		rc = CLI_OK;
	}
	cf_a64vm_destroy(vm);
	return rc;
#else
	(void)path;
	(void)pr;
	(void)features;
	(void)json;
	(void)refusal_json;
	cli_error("apply", "applying an arm64 profile needs an arm64 host with "
		  "KVM (this is not one)");
	return CLI_USAGE;
#endif
}

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check-only", no_argument, NULL, 'n' },
		{ "features", required_argument, NULL, 'f' },
		{ "guest", no_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "kvm-only", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	uint32_t features = CF_ARM64_FEAT_DEFAULT;
	struct cli_source src = { 0 };
	struct cf_profile *pr = NULL;
	bool check_only = false, have_features = false, guest = false;
	bool json = false, kvm_only = false;
	const char *arch;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nf:gjkh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': check_only = true; break;
		case 'f':
			if (cf_arm64_parse_features(optarg, &features) != CF_OK) {
				cli_error("apply", "unknown feature in '%s'", optarg);
				return CLI_USAGE;
			}
			have_features = true;
			break;
		case 'g': guest = true; break;
		case 'j': json = true; break;
		case 'k': kvm_only = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default:
			if (cli_source_opt(&src, c, optarg))
				break;
			fputs(help, stderr);
			return CLI_USAGE;
		}
	}
	if (!check_only || argc - optind != 1) {
		cli_error("apply", "%s", !check_only ? "only --check-only is "
			  "supported: a VMM applies profiles through the library"
			  : "wants exactly one profile");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	/* A named profile as check takes it: a psABI level, or with
	 * --server a published one. */
	rc = cli_load_profile_from("apply", &src, argv[optind], &pr, NULL, 0,
				   NULL);
	if (rc != CLI_OK)
		return rc;
	rc = CLI_USAGE;
	arch = cf_profile_arch(pr);
	if (strcmp(arch, "x86") == 0) {
		if (have_features)
			cli_error("apply", "--features is for arm64 profiles; %s "
				  "is an x86 profile", argv[optind]);
		else
			rc = x86_apply(argv[optind], pr, guest, kvm_only, json);
	} else if (strcmp(arch, "arm64") == 0) {
		if (guest)
			cli_error("apply", "--guest is for x86 profiles (on arm64 "
				  "the lab runs the guest check: make lab)");
		else
			rc = arm64_apply(argv[optind], pr, features, json);
	} else {
		cli_error("apply", "%s: no apply path for architecture %s",
			  argv[optind], arch);
	}
	cf_profile_destroy(pr);
	return rc;
}
