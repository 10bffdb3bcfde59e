/* check(profile, host): the answer KVM_SET_ONE_REG would give, with every
 * reason in feature words. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

/* A report with the id_regs REGS and, if not NULL, the writable masks WR. */
static struct cf_report *mk(const char *id, const char *regs, const char *wr)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{%s}%s%s%s}", regs,
			    wr ? ",\"writable\":{" : "", wr ? wr : "",
			    wr ? "}" : "");
}

static struct cf_profile *own(const struct cf_report *r)
{
	struct cf_profile *pr = NULL;

	CU_ASSERT_EQUAL(cf_profile_from_report(r, &pr), CF_OK);
	return pr;
}

static void text(const struct cf_verdict *v, size_t i, char *buf, size_t len)
{
	CU_ASSERT_EQUAL(cf_verdict_reason_text(v, i, buf, len), CF_OK);
}

static void test_check_issue_examples(void)
{
	/* The profile wants SVE2 and ASIDBits=2; n2-17 offers SVEver 0
	 * (writable) and ASIDBits 0 (not writable, as KVM reports it). */
	struct cf_report *src = mk("src", "\"ID_AA64ZFR0_EL1\":\"0x1\","
				   "\"ID_AA64MMFR0_EL1\":\"0x20\"", NULL);
	struct cf_report *dst = mk("n2-17", "\"ID_AA64ZFR0_EL1\":\"0x0\","
				   "\"ID_AA64MMFR0_EL1\":\"0x0\"",
				   "\"ID_AA64ZFR0_EL1\":\"0xffffffffffffffff\","
				   "\"ID_AA64MMFR0_EL1\":\"0xffffffffffffff0f\"");
	struct cf_profile *pr = own(src);
	struct cf_verdict *v = cf_verdict_create();
	char buf[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
	CU_ASSERT_EQUAL(cf_check(pr, dst, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 2);
	/* Catalogue order: ZFR0 (CRm 4) before MMFR0 (CRm 7). */
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host n2-17 lacks FEAT_SVE2: "
			       "ID_AA64ZFR0_EL1.SVEver wants 1, host offers 0");
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 0)->kind, CF_REASON_LACKS);
	text(v, 1, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_AA64MMFR0_EL1.ASIDBits is not "
				      "writable on n2-17 and differs"));
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 1)->kind, CF_REASON_NOT_WRITABLE);
	CU_ASSERT_PTR_NULL(cf_verdict_reason(v, 2));
	/* The reverse: lowering is fine where writable, ASIDBits is not. */
	cf_profile_destroy(pr);
	pr = own(dst);
	CU_ASSERT_EQUAL(cf_check(pr, src, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(src);
	cf_report_destroy(dst);
}

/* KVM's rule per register: a field counts as writable only if wholly in
 * the mask; other bits must equal. */
static void test_check_partial_mask_and_undescribed(void)
{
	struct cf_report *host = mk("h", "\"ID_AA64ISAR0_EL1\":\"0x20\","
				    "\"ID_AA64AFR0_EL1\":\"0x0\"",
				    "\"ID_AA64ISAR0_EL1\":\"0x70\","
				    "\"ID_AA64AFR0_EL1\":\"0xff\"");
	struct cf_report *want = mk("w", "\"ID_AA64ISAR0_EL1\":\"0x10\","
				    "\"ID_AA64AFR0_EL1\":\"0x1\"", NULL);
	struct cf_profile *pr = own(want);
	struct cf_verdict *v = cf_verdict_create();
	char buf[512];

	CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 2);
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 0)->kind, CF_REASON_UNDESCRIBED);
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 1)->kind, CF_REASON_NOT_WRITABLE);
	CU_ASSERT_STRING_EQUAL(cf_verdict_reason(v, 1)->field, "AES");
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_AA64AFR0_EL1: bits outside"));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	cf_report_destroy(want);
}

static void test_check_policies(void)
{
	/* CTR_EL0: CWG=4 (27:24) higher-or-zero, L1Ip=3 (15:14) exact safe 2. */
	struct cf_report *host = mk("h", "\"CTR_EL0\":\"0x0400c000\"",
				    "\"CTR_EL0\":\"0xffffffff\"");
	struct cf_verdict *v = cf_verdict_create();
	static const struct { const char *val; bool ok; } cases[] = {
		{ "\"CTR_EL0\":\"0x0400c000\"", true },  /* equal */
		{ "\"CTR_EL0\":\"0x0000c000\"", true },  /* CWG 0 */
		{ "\"CTR_EL0\":\"0x0500c000\"", true },  /* CWG above */
		{ "\"CTR_EL0\":\"0x0300c000\"", false }, /* CWG below */
		{ "\"CTR_EL0\":\"0x04008000\"", true },  /* L1Ip PIPT->VIPT */
		{ "\"CTR_EL0\":\"0x04004000\"", false }, /* L1Ip AIVIVT */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_report *w = mk("w", cases[i].val, NULL);
		struct cf_profile *pr = own(w);
		CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
		if (cf_verdict_compatible(v) != cases[i].ok)
			CU_FAIL(cases[i].val);
		cf_profile_destroy(pr);
		cf_report_destroy(w);
	}
	cf_verdict_destroy(v);
	cf_report_destroy(host);
}

static void test_check_missing_register(void)
{
	struct cf_report *host = mk("h", "\"ID_AA64ISAR0_EL1\":\"0x0\"", NULL);
	struct cf_report *w = mk("w", "\"ID_AA64ISAR0_EL1\":\"0x0\","
				 "\"S3_0_C0_C6_7\":\"0x0\"", NULL);
	struct cf_profile *pr = own(w);
	struct cf_verdict *v = cf_verdict_create();
	char buf[256];

	CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host h does not report S3_0_C0_C6_7");
	/* A host reporting more than the profile lists is fine. */
	cf_profile_destroy(pr);
	pr = own(host);
	CU_ASSERT_EQUAL(cf_check(pr, w, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	cf_report_destroy(w);
}

/* Firmware pseudo-registers: a level above the host's is refused. */
static void test_check_firmware_registers(void)
{
	char doc[512];
	static const char *const fmt =
		"\"arm64\":{\"id_regs\":{},\"fw_regs\":{"
		"\"KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1\":\"%s\"}}";
	struct cf_report *lo = test_reportf("lo", fmt, "0x0");
	struct cf_report *hi = test_reportf("hi", fmt, "0x2"), *bad = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d;
	char buf[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(lo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hi);
	pr = own(hi);
	CU_ASSERT_EQUAL(cf_check(pr, lo, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host lo offers less: "
			       "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1.Level wants 2, "
			       "host offers 0");
	cf_profile_destroy(pr);
	pr = own(lo);
	CU_ASSERT_EQUAL(cf_check(pr, hi, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	/* A pseudo-register is refused in id_regs and vice versa. */
	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\",\"host\":"
		 "{\"id\":\"x\",\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{"
		 "\"KVM_REG_ARM_PSCI_VERSION\":\"0x10001\"}}}");
	CU_ASSERT_EQUAL(cf_report_parse(doc, strlen(doc), "x", &bad, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$.arm64.id_regs.KVM_REG_ARM_PSCI_VERSION"));
	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\",\"host\":"
		 "{\"id\":\"x\",\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{},"
		 "\"fw_regs\":{\"CTR_EL0\":\"0x1\"}}}");
	CU_ASSERT_EQUAL(cf_report_parse(doc, strlen(doc), "x", &bad, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$.arm64.fw_regs.CTR_EL0"));
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(lo);
	cf_report_destroy(hi);
}

/* Capabilities: bool on every host, count the minimum, bitmask the AND. */
static void test_check_capabilities(void)
{
	static const char *const fmt =
		"\"kvm\":{\"caps\":{\"KVM_CAP_ARM_SVE\":%d,"
		"\"KVM_CAP_ARM_VM_IPA_SIZE\":%d,"
		"\"KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES\":%d,"
		"\"KVM_CAP_NOT_IN_CATALOGUE\":7}},\"arm64\":{\"id_regs\":{}}";
	char buf[256];
	struct cf_report *a = test_reportf("a", fmt, 5, 48, 3);
	struct cf_report *b = test_reportf("b", fmt, 0, 40, 5);
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	uint64_t val;
	char *json = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pr = test_baseline_of2(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 170, &val, NULL));
	CU_ASSERT_EQUAL(val, 0);      /* SVE: not on every host */
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 165, &val, NULL));
	CU_ASSERT_EQUAL(val, 40);     /* IPA: the minimum */
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 230, &val, NULL));
	CU_ASSERT_EQUAL(val, 1);      /* ranges: 3 & 5 */
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &json), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"KVM_CAP_ARM_VM_IPA_SIZE\":\t40"));
	free(json);
	cf_profile_destroy(pr);
	pr = own(a);
	CU_ASSERT_EQUAL(cf_check(pr, b, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 3);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host b offers less: KVM_CAP_ARM_VM_IPA_SIZE.count "
			       "wants 0x30, host offers 0x28");
	text(v, 1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host b lacks KVM_CAP_ARM_SVE: KVM_CAP_ARM_SVE.bool "
			       "wants 1, host offers 0");
	text(v, 2, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES.bitmask"));
	/* A report written back keeps the capability the catalogue lacks. */
	CU_ASSERT_EQUAL(cf_report_to_json(a, &json), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "KVM_CAP_NOT_IN_CATALOGUE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"KVM_CAP_ARM_SVE\":\t1"));
	free(json);
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

static CU_TestInfo tests[] = {
	TEST(test_check_capabilities),
	TEST(test_check_firmware_registers),
	TEST(test_check_issue_examples),
	TEST(test_check_partial_mask_and_undescribed),
	TEST(test_check_policies),
	TEST(test_check_missing_register),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_check = { "check", NULL, NULL, NULL, NULL, tests };
