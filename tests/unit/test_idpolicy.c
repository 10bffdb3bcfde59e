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

static CU_TestInfo tests[] = {
	TEST(test_idpolicy_pmu_impdef_kept_as_0),
	TEST(test_idpolicy_pmu_impdef_baseline),
	TEST(test_idpolicy_pmu_impdef_check),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_idpolicy = { "idpolicy", NULL, NULL, NULL, NULL, tests };
