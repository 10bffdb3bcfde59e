/* arm64 ID-register rules beyond the plain ID scheme (issue 17):
 *  - the PMU version fields' "alternative ID scheme" (0xf is an
 *    IMPLEMENTATION DEFINED PMU, i.e. no PMUv3);
 *  - the implementation identity (MIDR_EL1, REVIDR_EL1, AIDR_EL1) taken
 *    whole from one member of the pool;
 *  - the registers every KVM reports.
 * Expectations come from the kernel and the Arm ARM, cited per test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

#define DFR0_KEY (3u << 14 | 5u << 3)       /* ID_AA64DFR0_EL1 */
#define ID_DFR0_KEY (3u << 14 | 1u << 3 | 2) /* ID_DFR0_EL1 */

/* The writable masks KVM 6.12 reports (research arm64-kvm.md §2.4):
 * ID_AA64DFR0_EL1 DoubleLock, WRPs, PMUVer, DebugVer; ID_DFR0_EL1 PerfMon,
 * CopDbg. */
#define DFR_WRITABLE ",\"writable\":{\"ID_AA64DFR0_EL1\":\"0x000000f000f00f0f\"," \
	"\"ID_DFR0_EL1\":\"0x000000000f00000f\"}"

/* A host whose ID_AA64DFR0_EL1.PMUVer is PMUVER and ID_DFR0_EL1.PerfMon is
 * PERFMON (DebugVer and CopDbg 6 = Armv8.0 debug), writable or not. */
static struct cf_report *pmu_host(const char *id, unsigned pmuver,
				  unsigned perfmon, bool writable)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{"
			    "\"ID_AA64DFR0_EL1\":\"0x%x\",\"ID_DFR0_EL1\":\"0x%x\"}%s}",
			    pmuver << 8 | 6, perfmon << 24 | 6,
			    writable ? DFR_WRITABLE : "");
}

static uint64_t reg_of(const struct cf_profile *pr, uint64_t key)
{
	uint64_t v = ~0ULL;

	CU_ASSERT_TRUE(cf_config_get(pr->cfg, key, &v, NULL));
	return v;
}

/* Case 5.  Arm ARM (DDI 0487, "Alternative ID scheme used for the
 * Performance Monitors Extension version"): PMUVer/PerfMon 0xf is an
 * IMPLEMENTATION DEFINED PMU, 0x1..0xe architected versions.  The kernel
 * treats 0xf as "not implemented" when it derives KVM's limit
 * (cpuid_feature_cap_perfmon_field in arch/arm64/include/asm/cpufeature.h,
 * later kvm_arm_pmu_get_pmuver_limit: "Treat IMPLEMENTATION DEFINED
 * functionality as unimplemented"), so a PMUv3p1 host (4) and an IMP DEF
 * host (0xf) share no PMUv3: the baseline is 0, in either order. */
static void test_idpolicy_pmu_impdef_baseline(void)
{
	for (int order = 0; order < 2; order++) {
		struct cf_report *v3 = pmu_host("v3p1", 4, 4, true);
		struct cf_report *imp = pmu_host("impdef", 0xf, 0xf, true);
		struct cf_profile *pr;
		CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
		CU_ASSERT_PTR_NOT_NULL_FATAL(imp);
		pr = order ? test_baseline_of2(imp, v3) : test_baseline_of2(v3, imp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		CU_ASSERT_TRUE(cf_profile_feasible(pr));
		CU_ASSERT_EQUAL(reg_of(pr, DFR0_KEY), 0x006);      /* PMUVer 0 */
		CU_ASSERT_EQUAL(reg_of(pr, ID_DFR0_KEY), 0x6);     /* PerfMon 0 */
		cf_profile_destroy(pr);
		cf_report_destroy(v3);
		cf_report_destroy(imp);
	}
}

/* The verdict of PROFILE_HOST's own profile on HOST, and its reasons'
 * text, one a line, into BUF. */
static bool verdict(const struct cf_report *profile_host,
		    const struct cf_report *host, char *buf, size_t len)
{
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	bool ok;

	buf[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(profile_host, &pr), CF_OK);
	CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
	ok = cf_verdict_compatible(v);
	for (size_t i = 0, used = 0; i < cf_verdict_reason_count(v); i++) {
		CU_ASSERT_EQUAL(cf_verdict_reason_text(v, i, buf + used,
						       len - used), CF_OK);
		used += strlen(buf + used);
		if (used + 2 < len) {
			buf[used++] = '\n';
			buf[used] = '\0';
		}
	}
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	return ok;
}

/* Case 5, `check`, both ways.
 * - A host whose PMU is IMPLEMENTATION DEFINED offers no PMUv3: a profile
 *   wanting PMUVer 4 (PerfMon 4) is refused there, as lacking FEAT_PMUv3.
 * - A profile value 0xf is read as 0: set_id_aa64dfr0_el1() and
 *   set_id_dfr0_el1() (arch/arm64/kvm/sys_regs.c) rewrite a written IMP_DEF
 *   to 0 before checking it, so it is accepted wherever 0 is: on a
 *   writable PMUv3 host (lowering), and on a host whose value is 0 even
 *   when the field is not writable (the rewritten value equals the
 *   limit). */
static void test_idpolicy_pmu_impdef_check(void)
{
	struct cf_report *v3 = pmu_host("v3p1", 4, 4, true);
	struct cf_report *imp = pmu_host("impdef", 0xf, 0xf, true);
	struct cf_report *none_fixed = pmu_host("nopmu", 0, 0, false);
	struct cf_report *imp_fixed = pmu_host("impdef-fixed", 0xf, 0xf, false);
	struct cf_report *v3_dfr0 = test_reportf("v3-aa64", "\"arm64\":{\"id_regs\":"
		"{\"ID_AA64DFR0_EL1\":\"0x406\",\"ID_DFR0_EL1\":\"0xf000006\"}"
		DFR_WRITABLE "}");
	char buf[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(imp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none_fixed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(imp_fixed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v3_dfr0);
	CU_ASSERT_FALSE(verdict(v3, imp, buf, sizeof(buf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "lacks FEAT_PMUv3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_AA64DFR0_EL1.PMUVer wants 4"));
	/* Only the AArch32 view differs: PerfMon alone is refused. */
	CU_ASSERT_FALSE(verdict(v3, v3_dfr0, buf, sizeof(buf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_DFR0_EL1.PerfMon wants 4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "FEAT_PMUv3"));
	/* 0xf wanted reads as 0. */
	CU_ASSERT_TRUE(verdict(imp, v3, buf, sizeof(buf)));
	CU_ASSERT_TRUE(verdict(imp, none_fixed, buf, sizeof(buf)));
	/* ...but a host that cannot change its 0xf keeps it: 0 is refused
	 * there (the field must equal the host's value). */
	CU_ASSERT_FALSE(verdict(none_fixed, imp_fixed, buf, sizeof(buf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "not writable"));
	cf_report_destroy(v3);
	cf_report_destroy(imp);
	cf_report_destroy(none_fixed);
	cf_report_destroy(imp_fixed);
	cf_report_destroy(v3_dfr0);
}

/* What KVM keeps of a written register: PMUVer 0xf as 0
 * (set_id_aa64dfr0_el1()); DoubleLock 0xf is a signed "not implemented"
 * of the plain ID scheme and stays. */
static void test_idpolicy_pmu_impdef_kept_as_0(void)
{
	const struct cf_catalog *cat = &cf_arm64_catalog;
	int ri = cf_catalog_find_key(cat, DFR0_KEY);

	CU_ASSERT_FATAL(ri >= 0);
	CU_ASSERT_EQUAL(cf_reg_canon(&cat->regs[ri], 0xf00000f06ULL),
			0xf00000006ULL);
	CU_ASSERT_EQUAL(cf_reg_canon(&cat->regs[ri], 0x406), 0x406);
}

#define MIDR_KEY (3u << 14)                   /* MIDR_EL1 */
#define REVIDR_KEY (3u << 14 | 6)              /* REVIDR_EL1 */

/* The masks KVM 6.15+ reports for the implementation ID registers:
 * MIDR bits 31:0, REVIDR all (research arm64-kvm.md §2.3, §2.4), reported
 * whether or not the VMM enabled the capability (§2.5; the arm64 lab's 7.3
 * reports show them). */
#define IMPL_MASKS ",\"writable\":{\"MIDR_EL1\":\"0xffffffff\"," \
	"\"REVIDR_EL1\":\"0xffffffffffffffff\"}"
#define CAP_IMP ",\"kvm\":{\"caps\":{\"KVM_CAP_ARM_WRITABLE_IMP_ID_REGS\":%d}}"

/* A host with MIDR_EL1 MIDR and REVIDR_EL1 REVIDR, both writable (KVM
 * 6.15+: the masks, and KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, which a VMM
 * enables before creating vCPUs) or not (6.12: no mask, no capability;
 * only the host's own values). */
static struct cf_report *impl_host(const char *id, uint32_t midr,
				   uint64_t revidr, bool writable)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x%x\","
			    "\"REVIDR_EL1\":\"0x%llx\"}%s}" CAP_IMP, (unsigned)midr,
			    (unsigned long long)revidr, writable ? IMPL_MASKS : "",
			    writable ? 1 : 0);
}

/* The same with the masks KVM 6.15+ reports and CAP (1, 0, or -1: the
 * report lists no capabilities at all). */
static struct cf_report *impl_host_cap(const char *id, uint32_t midr,
				       uint64_t revidr, int cap)
{
	if (cap < 0)
		return test_reportf(id, "\"arm64\":{\"id_regs\":{\"MIDR_EL1\":"
				    "\"0x%x\",\"REVIDR_EL1\":\"0x%llx\"}" IMPL_MASKS
				    "}", (unsigned)midr, (unsigned long long)revidr);
	return test_reportf(id, "\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x%x\","
			    "\"REVIDR_EL1\":\"0x%llx\"}" IMPL_MASKS "}" CAP_IMP,
			    (unsigned)midr, (unsigned long long)revidr, cap);
}

/* The profile's "implementations" member, printed compactly ("" if none). */
static void impl_json(const struct cf_profile *pr, char *buf, size_t len)
{
	char *text = NULL, *flat;
	cJSON *root, *it;

	buf[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr, &text), CF_OK);
	root = cJSON_Parse(text);
	it = cJSON_GetObjectItemCaseSensitive(root, "implementations");
	flat = it ? cJSON_PrintUnformatted(it) : NULL;
	if (flat)
		snprintf(buf, len, "%s", flat);
	free(flat);
	cJSON_Delete(root);
	free(text);
}

/* The baseline of {A, B} is feasible with MIDR and REVIDR. */
static void identity_is(const struct cf_report *a, const struct cf_report *b,
			uint64_t midr, uint64_t revidr)
{
	struct cf_profile *pr = test_baseline_of2(a, b);

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(reg_of(pr, MIDR_KEY), midr);
	CU_ASSERT_EQUAL(reg_of(pr, REVIDR_KEY), revidr);
	cf_profile_destroy(pr);
}

/* Case 6.  A guest's MIDR_EL1 names a part and revision whose errata it
 * works around, and REVIDR_EL1 the fixes of that implementation (Arm ARM
 * D23.2 MIDR_EL1, REVIDR_EL1): a field-by-field minimum of 0x413fd0c1
 * (Neoverse N1 r3p1) and 0x611f0231 (Apple) is 0x411f0231, no CPU.  The
 * profile takes one member's MIDR_EL1 and REVIDR_EL1 whole: the member
 * with the lowest (MIDR, REVIDR) pair (README, "The implementation
 * identity"), and lists every member's pair, lowest first, whatever the
 * order the reports come in. */
static void test_idpolicy_identity_one_member(void)
{
	static const char *const want_impl =
		"[{\"MIDR_EL1\":\"0x00000000413fd0c1\","
		"\"REVIDR_EL1\":\"0x00000000000001c7\"},"
		"{\"MIDR_EL1\":\"0x00000000611f0231\","
		"\"REVIDR_EL1\":\"0x0000000000000000\"}]";

	for (int order = 0; order < 2; order++) {
		struct cf_report *n1 = impl_host("n1", 0x413fd0c1, 0x1c7, true);
		struct cf_report *apple = impl_host("apple", 0x611f0231, 0, true);
		struct cf_profile *pr;
		char buf[1024];
		CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(apple);
		identity_is(order ? apple : n1, order ? n1 : apple, 0x413fd0c1,
			    0x1c7);
		pr = order ? test_baseline_of2(apple, n1) : test_baseline_of2(n1, apple);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		impl_json(pr, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, want_impl);
		cf_profile_destroy(pr);
		cf_report_destroy(n1);
		cf_report_destroy(apple);
	}
}

/* Equal MIDRs: the lower REVIDR's member.  A host that cannot change its
 * implementation ID registers (6.12) accepts only its own, so its pair
 * is the profile's even when a writable member's is lower. */
static void test_idpolicy_identity_fixed_member(void)
{
	struct cf_report *h[3] = {
		impl_host("a", 0x413fd0c1, 0x1c7, true),
		impl_host("b", 0x413fd0c1, 0x3, true),
		impl_host("old", 0x611f0231, 0x5, false),
	};

	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
	identity_is(h[0], h[1], 0x413fd0c1, 0x3);
	identity_is(h[1], h[0], 0x413fd0c1, 0x3);
	identity_is(h[0], h[2], 0x611f0231, 0x5);
	identity_is(h[2], h[0], 0x611f0231, 0x5);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(h[i]);
}

/* `check` judges MIDR by writability, as KVM does: any value where the
 * implementation ID registers are writable (6.15+ with the capability),
 * only the host's own where not (6.12: set_invariant_sys_reg()/"-EINVAL
 * unless it is the current value"). */
static void test_idpolicy_identity_check(void)
{
	struct cf_report *n1 = impl_host("n1", 0x413fd0c1, 0x1c7, false);
	struct cf_report *apple_wr = impl_host("apple-wr", 0x611f0231, 0, true);
	struct cf_report *apple = impl_host("apple", 0x611f0231, 0, false);
	char buf[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(apple_wr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(apple);
	CU_ASSERT_TRUE(verdict(n1, apple_wr, buf, sizeof(buf)));
	CU_ASSERT_FALSE(verdict(n1, apple, buf, sizeof(buf)));
	/* The cores by Linux's cputype.h: Arm (0x41) part 0xd0c Neoverse N1,
	 * Apple (0x61) part 0x023 M1 Firestorm. */
	CU_ASSERT_STRING_EQUAL(buf, "MIDR_EL1 differs from host apple's "
			       "(0x413fd0c1 vs 0x611f0231: Neoverse N1 vs M1 "
			       "Firestorm) and host apple's KVM "
			       "lacks KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15+)\n"
			       "REVIDR_EL1 differs from host apple's (0x1c7 vs 0x0) "
			       "and host apple's KVM lacks "
			       "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15+)\n");
	cf_report_destroy(n1);
	cf_report_destroy(apple_wr);
	cf_report_destroy(apple);
}

/* Documentation/virt/kvm/api.rst, KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (7.42,
 * Linux 6.15, commit 3adaee783061): "By default, these registers are
 * visible to userspace but treated as invariant.  When this capability is
 * enabled, KVM allows userspace to change the aforementioned registers
 * before the first KVM_RUN"; a VM capability.  The writable masks say
 * nothing about it: KVM reports MIDR's 0xffffffff whether or not the VMM
 * enabled the capability (research arm64-kvm.md §2.5; the lab's 7.3
 * reports).  So another MIDR_EL1 or REVIDR_EL1 than the host's goes only
 * on a host whose KVM offers the capability (the VMM enables it there);
 * the host's own always goes (invariant: its own value). */
static void test_idpolicy_identity_needs_cap(void)
{
	/* a53 (offers it), then hosts a53's profile goes to. */
	enum { A53, CAP, NOCAP, NOCAPS, SAME, REV, N };
	struct cf_report *h[N] = {
		[A53] = impl_host_cap("a53", 0x410fd030, 0, 1),
		[CAP] = impl_host_cap("a57", 0x411fd070, 0, 1),
		[NOCAP] = impl_host_cap("a57-old", 0x411fd070, 0, 0),
		[NOCAPS] = impl_host_cap("a57-nocaps", 0x411fd070, 0, -1),
		[SAME] = impl_host_cap("a53-old", 0x410fd030, 0, 0),
		[REV] = impl_host_cap("a53-r2", 0x410fd030, 0x2, 0),
	};
	char buf[1024];

	for (int i = 0; i < N; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
	/* The capability offered: any MIDR in the mask. */
	CU_ASSERT_TRUE(verdict(h[A53], h[CAP], buf, sizeof(buf)));
	/* Not offered, or not reported: invariant, mask or not. */
	CU_ASSERT_FALSE(verdict(h[A53], h[NOCAP], buf, sizeof(buf)));
	/* cputype.h: Arm parts 0xd03 Cortex-A53, 0xd07 Cortex-A57. */
	CU_ASSERT_STRING_EQUAL(buf, "MIDR_EL1 differs from host a57-old's "
			       "(0x410fd030 vs 0x411fd070: Cortex-A53 vs "
			       "Cortex-A57) and host a57-old's KVM "
			       "lacks KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15+)\n");
	CU_ASSERT_FALSE(verdict(h[A53], h[NOCAPS], buf, sizeof(buf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "MIDR_EL1 differs from host a57-nocaps's"));
	/* Its own value goes without the capability. */
	CU_ASSERT_TRUE(verdict(h[A53], h[SAME], buf, sizeof(buf)));
	/* REVIDR_EL1 likewise. */
	CU_ASSERT_FALSE(verdict(h[A53], h[REV], buf, sizeof(buf)));
	CU_ASSERT_STRING_EQUAL(buf, "REVIDR_EL1 differs from host a53-r2's "
			       "(0x0 vs 0x2) and host a53-r2's KVM lacks "
			       "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15+)\n");
	for (int i = 0; i < N; i++)
		cf_report_destroy(h[i]);
}

/* The baseline by the same rule (api.rst 7.42 as above).  Two hosts whose
 * KVM lacks the capability cannot share another's MIDR, masks or not: no
 * common identity.  With it on both, the lowest member's.  A host with it
 * and one without (a fleet half on 6.12, half on 6.15+): the one without
 * keeps its own, and the other takes that with the capability enabled. */
static void test_idpolicy_identity_baseline_needs_cap(void)
{
	struct cf_report *h[4] = {
		impl_host_cap("a53-old", 0x410fd030, 0, 0),
		impl_host_cap("a57-old", 0x411fd070, 0, 0),
		impl_host_cap("a53", 0x410fd030, 0, 1),
		impl_host_cap("a57", 0x411fd070, 0, 1),
	};
	struct cf_profile *pr;

	for (int i = 0; i < 4; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
	pr = test_baseline_of2(h[0], h[1]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	/* The conflict says why: neither KVM offers the capability. */
	CU_ASSERT_TRUE(pr->nconf > 0);
	for (size_t i = 0; i < pr->nconf; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(pr->conf[i].reason, "lacks "
				       "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15+)"));
	cf_profile_destroy(pr);
	identity_is(h[2], h[3], 0x410fd030, 0);
	/* a57-old cannot take a53's: its own goes to both. */
	identity_is(h[2], h[1], 0x411fd070, 0);
	identity_is(h[1], h[2], 0x411fd070, 0);
	for (int i = 0; i < 4; i++)
		cf_report_destroy(h[i]);
}

/* A host whose SMCCC_ARCH_WORKAROUND_1 level (Spectre-v2: 0 NOT_AVAIL,
 * 2 NOT_REQUIRED) is LEVEL. */
static struct cf_report *wa_host(const char *id, unsigned level)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{},\"fw_regs\":{"
			    "\"KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1\":\"0x%x\"}}",
			    level);
}

/* kvm_arm_set_fw_reg() (arch/arm64/kvm/hypercalls.c) checks a written
 * SMCCC workaround level against the host's ("get_kernel_wa_level() <
 * val: -EINVAL") and stores nothing; kvm_arm_get_fw_reg() and the guest's
 * SMCCC_ARCH_FEATURES call answer with the host's.  So a guest on a host
 * whose level is NOT_REQUIRED (2) carries 2 whatever the profile said, and
 * a host with NOT_AVAIL (0) refuses it: no pool of the two (the arm64 lab
 * on 7.3 with real MIDRs: cortex-a53's guest refused on cortex-a57 at
 * KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, tests/data/lab/k7-real).  Equal
 * levels pool. */
static void test_idpolicy_checkonly_carried(void)
{
	struct cf_report *h[3] = {
		wa_host("unaffected", 2), wa_host("vulnerable", 0),
		wa_host("unaffected-2", 2),
	};
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *pr;
	char name[96];
	bool named = false;

	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
	for (int order = 0; order < 2; order++) {
		pr = order ? test_baseline_of2(h[1], h[0]) : test_baseline_of2(h[0], h[1]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		CU_ASSERT_FALSE(cf_profile_feasible(pr));
		for (size_t i = 0; i < pr->nconf; i++) {
			cf_conflict_name(pr, &pr->conf[i], name, sizeof(name));
			named |= !strcmp(name, "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1.Level");
		}
		CU_ASSERT_TRUE(named);
		/* What the profile says is refused where the guests it
		 * describes would be. */
		CU_ASSERT_EQUAL(cf_check(pr, h[1], v), CF_OK);
		CU_ASSERT_FALSE(cf_verdict_compatible(v));
		cf_profile_destroy(pr);
	}
	pr = test_baseline_of2(h[0], h[2]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(h[i]);
}

/* kvm_arm_set_fw_reg() (arch/arm64/kvm/hypercalls.c) on
 * SMCCC_ARCH_WORKAROUND_2: a written level UNKNOWN (1) is taken as
 * NOT_AVAIL (0) and AVAIL (2) as NOT_REQUIRED (3) ("Map all the possible
 * incoming states to the only two we really want to deal with"), levels
 * past 3 are -EINVAL, and the mapped level must not exceed the host's
 * (get_kernel_wa_level(): 0 or 3).  The lab's 6.12 and 7.3 took level 1
 * on a level-0 host. */
static void test_idpolicy_wa2_levels(void)
{
	static const struct {
		unsigned host, want;
		bool ok;
	} cases[] = {
		{ 0, 0, true }, { 0, 1, true }, { 0, 2, false }, { 0, 3, false },
		{ 0, 4, false }, { 3, 0, true }, { 3, 1, true }, { 3, 2, true },
		{ 3, 3, true }, { 3, 4, false }, { 3, 15, false },
	};
	const struct cf_catalog *cat = &cf_arm64_catalog;
	int ri = cf_catalog_find_key(cat, 0x140002);
	const struct cf_field *lvl = NULL;

	CU_ASSERT_FATAL(ri >= 0);
	for (size_t i = 0; i < cat->regs[ri].nfields; i++)
		if (!strcmp(cat->regs[ri].fields[i].name, "Level"))
			lvl = &cat->regs[ri].fields[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(lvl);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = cf_field_accepts(lvl, cases[i].host, true,
					    cases[i].want);
		if (got != cases[i].ok) {
			fprintf(stderr, "\n  level %u on a level-%u host: %s\n",
				cases[i].want, cases[i].host,
				got ? "accepted" : "refused");
			CU_FAIL("KVM's reading of a written SSB workaround level");
		}
	}
}

#define PROFILE_HEAD "{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\"," \
	"\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x410fd083\"}}"

/* The implementations list is read back as written (kept ascending, each
 * listed once, absent registers left out), and a malformed one is refused
 * naming file and JSON path. */
static void test_idpolicy_identity_document(void)
{
	static const char *const doc = PROFILE_HEAD ",\"implementations\":["
		"{\"MIDR_EL1\":\"0x611f0231\",\"REVIDR_EL1\":\"0x0\",\"AIDR_EL1\":\"0x2\"},"
		"{\"MIDR_EL1\":\"0x410fd083\"},"
		"{\"MIDR_EL1\":\"0x611f0231\",\"REVIDR_EL1\":\"0x0\",\"AIDR_EL1\":\"0x2\"}]}";
	static const char *const want =
		"[{\"MIDR_EL1\":\"0x00000000410fd083\"},"
		"{\"MIDR_EL1\":\"0x00000000611f0231\","
		"\"REVIDR_EL1\":\"0x0000000000000000\","
		"\"AIDR_EL1\":\"0x0000000000000002\"}]";
	static const struct { const char *tail, *msg; } bad[] = {
		{ ",\"implementations\":{}}", "p.json: $.implementations: expected an array" },
		{ ",\"implementations\":[{}]}", "p.json: $.implementations[0]: expected" },
		{ ",\"implementations\":[{\"MIDR_EL1\":\"0x1\"},{\"CTR_EL0\":\"0x1\"}]}",
		  "p.json: $.implementations[1].CTR_EL0: not an implementation identity register" },
		{ ",\"implementations\":[{\"MIDR_EL1\":7}]}",
		  "p.json: $.implementations[0].MIDR_EL1: expected" },
	};
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	char buf[1024], text[512];

	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(doc, strlen(doc), "p.json", &pr, &d),
			      CF_OK);
	impl_json(pr, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, want);
	cf_profile_destroy(pr);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pr = NULL;
		snprintf(text, sizeof(text), "%s%s", PROFILE_HEAD, bad[i].tail);
		CU_ASSERT_EQUAL(cf_profile_parse(text, strlen(text), "p.json", &pr,
						 &d), CF_ESCHEMA);
		CU_ASSERT_PTR_NULL(pr);
		if (!strstr(d.msg, bad[i].msg)) {
			fprintf(stderr, "\n  '%s' lacks '%s'\n", d.msg, bad[i].msg);
			CU_FAIL("error message");
		}
	}
}

/* Case 9.  The registers KVM lists in KVM_GET_REG_LIST for every vCPU,
 * whatever the CPU: MIDR_EL1, REVIDR_EL1 and CTR_EL0 (invariant_sys_regs
 * since arm64 KVM began, 3.11) and the Armv8.0 AArch64 feature ID
 * registers, listed since 4.15 (commit 93390c0a1b20 "arm64: KVM: Hide
 * unsupported AArch64 CPU features from guests" put every ID register of
 * op0 3, op1 0, CRn 0, CRm 1..7 in sys_reg_descs). */
static const char *const every_kvm[] = {
	"MIDR_EL1", "REVIDR_EL1", "ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1",
	"ID_AA64DFR0_EL1", "ID_AA64DFR1_EL1", "ID_AA64AFR0_EL1",
	"ID_AA64AFR1_EL1", "ID_AA64ISAR0_EL1", "ID_AA64ISAR1_EL1",
	"ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1", "CTR_EL0",
};
#define NEVERY (sizeof(every_kvm) / sizeof(every_kvm[0]))

/* Parses a report whose id_regs are every_kvm[] but SKIP (-1: none). */
static enum cf_err parse_without(int skip, struct cf_diag *d)
{
	char doc[2048];
	size_t used;
	struct cf_report *r = NULL;
	enum cf_err err;

	used = (size_t)snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\","
				"\"host\":{\"id\":\"h\",\"arch\":\"arm64\"},"
				"\"arm64\":{\"id_regs\":{");
	for (size_t i = 0; i < NEVERY; i++)
		if ((int)i != skip)
			used += (size_t)snprintf(doc + used, sizeof(doc) - used,
						 "%s\"%s\":\"0x0\"",
						 doc[used - 1] == '{' ? "" : ",",
						 every_kvm[i]);
	snprintf(doc + used, sizeof(doc) - used, "}}}");
	err = cf_report_parse(doc, strlen(doc), "r.json", &r, d);
	cf_report_destroy(r);
	return err;
}

static void test_idpolicy_required_registers(void)
{
	static const char *const empty = "{\"schema\":\"cpufleet.report/v1\","
		"\"host\":{\"id\":\"h\",\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{}}}";
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	char want[128];

	/* An empty report is refused, naming file, path and a register. */
	CU_ASSERT_EQUAL(cf_report_parse(empty, strlen(empty), "r.json", &r, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NULL(r);
	cf_report_destroy(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "r.json: $.arm64.id_regs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "MIDR_EL1"));
	CU_ASSERT_EQUAL(parse_without(-1, &d), CF_OK);
	for (size_t i = 0; i < NEVERY; i++) {
		CU_ASSERT_EQUAL(parse_without((int)i, &d), CF_ESCHEMA);
		snprintf(want, sizeof(want), "r.json: $.arm64.id_regs: lacks %s",
			 every_kvm[i]);
		if (!strstr(d.msg, want)) {
			fprintf(stderr, "\n  '%s' lacks '%s'\n", d.msg, want);
			CU_FAIL("names the missing register");
		}
	}
}

/* x86: KVM_GET_SUPPORTED_CPUID always returns leaf 0 (vendor, maximum
 * basic leaf) and leaf 1 (signature, basic features):
 * kvm_dev_ioctl_get_cpuid() (arch/x86/kvm/cpuid.c) starts from leaf 0
 * (funcs[] = { 0, 0x80000000, ... }) and goes on through every basic leaf
 * up to leaf 0's EAX, which is at least 1 on any x86-64 CPU. */
static void test_idpolicy_required_x86_leaves(void)
{
	static const char *const leaf0 =
		"{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0x1\","
		"\"ebx\":\"0x756e6547\",\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\"}";
	static const char *const leaf1 =
		"{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"eax\":\"0x806f8\","
		"\"ebx\":\"0x0\",\"ecx\":\"0x1\",\"edx\":\"0x0\"}";
	static const struct { const char *a, *b, *msg; } cases[] = {
		{ "", "", "x.json: $.x86.cpuid: lacks CPUID_00000000_0_EAX" },
		{ "L0", "", "x.json: $.x86.cpuid: lacks CPUID_00000001_0_EAX" },
		{ "L1", "", "x.json: $.x86.cpuid: lacks CPUID_00000000_0_EAX" },
		{ "L0", "L1", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[1024];
		const char *e1 = !strcmp(cases[i].a, "L0") ? leaf0 :
				 !strcmp(cases[i].a, "L1") ? leaf1 : "";
		const char *e2 = !strcmp(cases[i].b, "L1") ? leaf1 : "";
		struct cf_report *r = NULL;
		struct cf_diag d = { "" };
		enum cf_err err;
		snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\","
			 "\"host\":{\"id\":\"x\",\"arch\":\"x86\"},\"x86\":{\"cpuid\":"
			 "[%s%s%s]}}", e1, e2[0] ? "," : "", e2);
		err = cf_report_parse(doc, strlen(doc), "x.json", &r, &d);
		if (!cases[i].msg) {
			CU_ASSERT_EQUAL(err, CF_OK);
		} else {
			CU_ASSERT_EQUAL(err, CF_ESCHEMA);
			if (!strstr(d.msg, cases[i].msg)) {
				fprintf(stderr, "\n  '%s' lacks '%s'\n", d.msg,
					cases[i].msg);
				CU_FAIL("names the missing register");
			}
		}
		cf_report_destroy(r);
	}
}

static CU_TestInfo tests[] = {
	TEST(test_idpolicy_required_x86_leaves),
	TEST(test_idpolicy_required_registers),
	TEST(test_idpolicy_identity_document),
	TEST(test_idpolicy_identity_one_member),
	TEST(test_idpolicy_identity_fixed_member),
	TEST(test_idpolicy_identity_check),
	TEST(test_idpolicy_identity_needs_cap),
	TEST(test_idpolicy_identity_baseline_needs_cap),
	TEST(test_idpolicy_checkonly_carried),
	TEST(test_idpolicy_wa2_levels),
	TEST(test_idpolicy_pmu_impdef_kept_as_0),
	TEST(test_idpolicy_pmu_impdef_baseline),
	TEST(test_idpolicy_pmu_impdef_check),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_idpolicy = { "idpolicy", NULL, NULL, NULL, NULL, tests };
