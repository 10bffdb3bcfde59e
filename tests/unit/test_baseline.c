/* Baselines over the real dumps (tests/data/arm64, see its README). */
#include <stdlib.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static const char *const hosts[] = { "altra", "cortex-a72", "graviton3" };

static struct cf_profile *baseline_of(const char *dir, struct cf_report **rs)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;
	char rel[128];

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "arm64/%s/%s.json", dir, hosts[i]);
		rs[i] = test_load_report(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rs[i]);
		CU_ASSERT_EQUAL(cf_pool_add(p, rs[i], &d), CF_OK);
	}
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

static uint64_t field_of(const struct cf_profile *pr, const char *reg,
			 const char *name)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	int r = cf_catalog_find_name(cat, reg), f;
	uint64_t v = 0;

	CU_ASSERT_FATAL(r >= 0);
	f = cf_catalog_find_field(&cat->regs[r], name);
	CU_ASSERT_FATAL(f >= 0);
	CU_ASSERT_FATAL(cf_config_get(pr->cfg, cat->regs[r].key, &v, NULL));
	return cf_field_raw(&cat->regs[r].fields[f], v);
}

static void test_baseline_real_all_writable(void)
{
	struct cf_report *rs[3];
	struct cf_profile *pr = baseline_of("real-writable", rs);
	struct cf_verdict *v = cf_verdict_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(cf_check(pr, rs[i], v), CF_OK);
		CU_ASSERT_TRUE(cf_verdict_compatible(v));
	}
	/* Cortex-A72 (a Raspberry Pi) lacks the crypto extension, FP16 and
	 * LSE; only Graviton3 has SVE; all have CRC32. */
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64ISAR0_EL1", "AES"), 0);
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64ISAR0_EL1", "CRC32"), 1);
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64ISAR0_EL1", "Atomic"), 0);
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64PFR0_EL1", "SVE"), 0);
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64PFR0_EL1", "FP"), 0);
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64PFR0_EL1", "AdvSIMD"), 0);
	/* Graviton3's DoubleLock is 0xf (not implemented): signed minimum. */
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64DFR0_EL1", "DoubleLock"), 0xf);
	/* DebugVer: min(8, 8, 6) */
	CU_ASSERT_EQUAL(field_of(pr, "ID_AA64DFR0_EL1", "DebugVer"), 6);
	/* CTR_EL0.L1Ip is exact: all PIPT (3) stays PIPT. */
	CU_ASSERT_EQUAL(field_of(pr, "CTR_EL0", "L1Ip"), 3);
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(rs[i]);
}

/* The whole profile document, compared with the reviewed golden file. */
static void test_baseline_real_golden(void)
{
	struct cf_report *rs[3];
	struct cf_profile *pr = baseline_of("real-writable", rs);
	char *json = NULL, *want = NULL;
	size_t len;
	FILE *f = fopen("tests/data/golden/real-writable.profile.json", "rb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	want = calloc(1, 1 << 20);
	len = fread(want, 1, (1 << 20) - 1, f);
	fclose(f);
	while (len && want[len - 1] == '\n')
		want[--len] = '\0';
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &json), CF_OK);
	CU_ASSERT_STRING_EQUAL(json, want);
	free(json);
	free(want);
	cf_profile_destroy(pr);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(rs[i]);
}

static bool has_conflict(const struct cf_profile *pr, const char *name,
			 const char *feature)
{
	char buf[128];

	for (size_t i = 0; i < pr->nconf; i++) {
		cf_conflict_name(pr, &pr->conf[i], buf, sizeof(buf));
		if (!strcmp(buf, name) &&
		    (!feature || strstr(pr->conf[i].feature, feature)))
			return true;
	}
	return false;
}

static void test_baseline_real_no_writable_masks(void)
{
	struct cf_report *rs[3];
	struct cf_profile *pr = baseline_of("real", rs);
	char text[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(has_conflict(pr, "ID_AA64PFR0_EL1.SVE", "FEAT_SVE"));
	CU_ASSERT_TRUE(has_conflict(pr, "ID_AA64ISAR0_EL1.AES", "FEAT_PMULL"));
	CU_ASSERT_TRUE(has_conflict(pr, "ID_AA64ISAR0_EL1.Atomic", "FEAT_LSE"));
	CU_ASSERT_TRUE(has_conflict(pr, "MIDR_EL1.PartNum", NULL));
	/* Equal fields are not conflicts. */
	CU_ASSERT_FALSE(has_conflict(pr, "ID_AA64ISAR0_EL1.CRC32", NULL));
	CU_ASSERT_EQUAL(cf_profile_conflict_text(pr, 0, text, sizeof(text)),
			CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "not writable"));
	CU_ASSERT_EQUAL(cf_profile_conflict_text(pr, pr->nconf, text,
						 sizeof(text)), CF_EINVAL);
	cf_profile_destroy(pr);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(rs[i]);
}

/* One host writable, one not: the fixed value wins if the other can take
 * it, else no common value. */
static void test_baseline_fixed_value(void)
{
	static const char *const fmt =
		"\"arm64\":{\"id_regs\":{\"ID_AA64ISAR0_EL1\":\"%s\"}%s}";
	static const char *const wr =
		",\"writable\":{\"ID_AA64ISAR0_EL1\":\"0xf0\"}";
	struct cf_report *a, *b;
	struct cf_profile *pr;
	uint64_t v;

	/* a: AES=2, writable; b: AES=1, nothing writable -> 1. */
	a = test_reportf("a", fmt, "0x20", wr);
	b = test_reportf("b", fmt, "0x10", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pr = test_baseline_of2(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 3 << 14 | 6 << 3, &v, NULL));
	CU_ASSERT_EQUAL(v, 0x10);
	cf_profile_destroy(pr);
	cf_report_destroy(a);
	cf_report_destroy(b);

	/* a: AES=1 writable; b: AES=2 fixed -> a cannot be raised. */
	a = test_reportf("a", fmt, "0x10", wr);
	b = test_reportf("b", fmt, "0x20", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pr = test_baseline_of2(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(pr->nconf, 1);
	CU_ASSERT_EQUAL(pr->conf[0].kind, CF_CONFLICT_NO_COMMON);
	CU_ASSERT_STRING_EQUAL(pr->conf[0].feature, "FEAT_PMULL");
	cf_profile_destroy(pr);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

static void test_baseline_unknown_and_missing_registers(void)
{
	struct cf_report *a = test_reportf("a", "\"arm64\":{\"id_regs\":{"
		"\"S3_0_C0_C6_7\":\"0x5\",\"S3_0_C0_C7_7\":\"0x1\","
		"\"ID_AA64AFR0_EL1\":\"0x1\"}}");
	struct cf_report *b = test_reportf("b", "\"arm64\":{\"id_regs\":{"
		"\"S3_0_C0_C6_7\":\"0x5\",\"ID_AA64AFR0_EL1\":\"0x2\"}}");
	struct cf_profile *pr;
	char name[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pr = test_baseline_of2(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	/* Equal unknown register kept; missing one and differing
	 * undescribed register are conflicts. */
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 3 << 14 | 6 << 3 | 7, NULL, NULL));
	CU_ASSERT_EQUAL_FATAL(pr->nconf, 2);
	cf_conflict_name(pr, &pr->conf[0], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "ID_AA64AFR0_EL1");
	CU_ASSERT_EQUAL(pr->conf[0].kind, CF_CONFLICT_UNDESCRIBED);
	cf_conflict_name(pr, &pr->conf[1], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "S3_0_C0_C7_7");
	CU_ASSERT_EQUAL(pr->conf[1].kind, CF_CONFLICT_MISSING);
	cf_profile_destroy(pr);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* KVM facts: SVE lengths keep a common prefix, the counter frequency must
 * be equal. */
static void test_baseline_kvm_facts(void)
{
	static const char *const fmt =
		"\"arm64\":{\"id_regs\":{},\"kvm_facts\":{"
		"\"SVE_VLS\":\"%s\",\"CNTFRQ\":\"%s\"}}";
	static const struct { const char *a, *b, *fa, *fb; bool ok;
			      uint64_t vls; } cases[] = {
		{ "0xf", "0xb", "0x3b9aca00", "0x3b9aca00", true, 0x3 },
		{ "0xf", "0xf", "0x3b9aca00", "0x3b9aca00", true, 0xf },
		{ "0x1", "0x2", "0x3b9aca00", "0x3b9aca00", false, 0 },
		{ "0xf", "0xf", "0x3b9aca00", "0x2faf080", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_report *a = test_reportf("a", fmt, cases[i].a, cases[i].fa);
		struct cf_report *b = test_reportf("b", fmt, cases[i].b, cases[i].fb);
		struct cf_profile *pr;
		struct cf_verdict *v = cf_verdict_create();
		uint64_t vls = 0;
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		pr = test_baseline_of2(a, b);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		CU_ASSERT_EQUAL(cf_profile_feasible(pr), cases[i].ok);
		if (cases[i].ok) {
			CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x2000003, &vls, NULL));
			CU_ASSERT_EQUAL(vls, cases[i].vls);
			CU_ASSERT_EQUAL(cf_check(pr, a, v), CF_OK);
			CU_ASSERT_TRUE(cf_verdict_compatible(v));
			CU_ASSERT_EQUAL(cf_check(pr, b, v), CF_OK);
			CU_ASSERT_TRUE(cf_verdict_compatible(v));
		}
		cf_verdict_destroy(v);
		cf_profile_destroy(pr);
		cf_report_destroy(a);
		cf_report_destroy(b);
	}
}

/* baseline --enable: the lab's seven hosts (KVM 6.12) all reported
 * KVM_CAP_ARM_PMU_V3 1, and KVM_CAP_ARM_SVE 1 only on a64fx and max. */
static void test_baseline_enabled_capabilities(void)
{
	static const char *const lab[] = { "a53", "a57", "a72", "a76", "n1",
					   "a64fx", "max" };
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_report *rs[7];
	struct cf_diag d;
	char rel[64], buf[512];

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	for (int i = 0; i < 7; i++) {
		snprintf(rel, sizeof(rel), "lab/reports/%s.json", lab[i]);
		rs[i] = test_load_report(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rs[i]);
		CU_ASSERT_EQUAL(cf_pool_add(p, rs[i], &d), CF_OK);
	}
	CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &pr), CF_OK);
	/* The lab's hosts never share one baseline (README: 5 pools); keep
	 * only what --enable adds. */
	size_t before = cf_profile_conflict_count(pr);
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, p, "KVM_CAP_ARM_PMU_V3", 1, &d),
			CF_OK);
	CU_ASSERT_EQUAL(cf_profile_conflict_count(pr), before);
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(cf_check(pr, rs[i], v), CF_OK);
		for (size_t k = 0; k < cf_verdict_reason_count(v); k++)
			CU_ASSERT_STRING_NOT_EQUAL(cf_verdict_reason(v, k)->reg,
						   "KVM_CAP_ARM_PMU_V3");
	}
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, p, "KVM_CAP_ARM_SVE", 1, &d),
			CF_OK);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL_FATAL(cf_profile_conflict_count(pr), before + 1);
	CU_ASSERT_EQUAL(cf_profile_conflict_text(pr, before, buf, sizeof(buf)),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(buf, "KVM_CAP_ARM_SVE.bool: the profile's VMs "
			       "enable it, and a53 lacks it (offers 0)");
	/* Only a capability a VM enables, of this architecture, non-zero. */
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, p, "KVM_CAP_MAX_VCPUS", 8, &d),
			CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "a capacity"));
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, p, "KVM_CAP_SPLIT_IRQCHIP", 1,
					      &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not a KVM capability of arm64"));
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, p, "KVM_CAP_ARM_MTE", 0, &d),
			CF_EINVAL);
	for (int i = 0; i < 7; i++)
		cf_report_destroy(rs[i]);
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
}

/* CLIDR_EL1 across cache schemes (tests/data/lab/reports-7.3): cortex-a72
 * (CTR_EL0.IDC 0, CLIDR 0x09200003: LoUU 1, LoC 1, LoUIS 1) and
 * neoverse-n1 (IDC 1, CLIDR 0x02000021: LoUU 0, LoC 2, LoUIS 0).  KVM's
 * set_clidr() on the a72 refuses LoUU = LoUIS = 0 (and LoC 0), so a
 * baseline taking the smaller levels would be refused there; the levels a
 * guest is told are the larger (it cleans no less than either host needs):
 * LoUU 1, LoC 2, LoUIS 1, which both take. */
static void test_baseline_clidr_levels(void)
{
	struct cf_report *rs[2] = { test_load_report("lab/reports-7.3/a72.json"),
				    test_load_report("lab/reports-7.3/n1.json") };
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[1]);
	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(cf_pool_add(p, rs[i], &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &pr), CF_OK);
	CU_ASSERT_EQUAL(field_of(pr, "CLIDR_EL1", "LoUU"), 1);
	CU_ASSERT_EQUAL(field_of(pr, "CLIDR_EL1", "LoC"), 2);
	CU_ASSERT_EQUAL(field_of(pr, "CLIDR_EL1", "LoUIS"), 1);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(cf_check(pr, rs[i], v), CF_OK);
		for (size_t k = 0; k < cf_verdict_reason_count(v); k++)
			CU_ASSERT_NOT_EQUAL(cf_verdict_reason(v, k)->kind,
					    CF_REASON_KVM_RULE);
	}
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	cf_report_destroy(rs[0]);
	cf_report_destroy(rs[1]);
}

/* A member whose KVM would refuse the combined values by a rule of its
 * own makes the baseline infeasible, naming the rule: the cortex-a72 of
 * the 7.3 lab (ID_AA64PFR0_EL1 0x1000222, EL0 = 2, writable there) beside
 * a made-up host whose PFR0.EL0 is 0.  `lower` combines EL0 to 0, which
 * set_id_aa64pfr0_el1() refuses from Linux 6.15 (7.3.4 did, in the lab)
 * and which the a72 cannot be given; no value both take. */
static void test_baseline_kvm_rule_conflict(void)
{
	struct cf_report *a72 = test_load_report("lab/reports-7.3/a72.json");
	struct cf_report *odd = NULL;
	struct cf_config *c = NULL;
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;
	uint64_t key = 3u << 14 | 4u << 3, v = 0; /* ID_AA64PFR0_EL1 */
	bool named = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a72);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(a72->cfg, &c), CF_OK);
	CU_ASSERT_FATAL(cf_config_get(c, key, &v, NULL));
	CU_ASSERT_EQUAL(v & 0xf, 2);
	CU_ASSERT_EQUAL_FATAL(cf_config_set(c, key, v & ~0xfULL), CF_OK);
	cf_config_seal(c);
	CU_ASSERT_EQUAL_FATAL(cf_report_create("odd", c, &odd), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_add(p, a72, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_add(p, odd, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &pr), CF_OK);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	for (size_t i = 0; i < pr->nconf; i++)
		named = named || (pr->conf[i].kind == CF_CONFLICT_KVM_RULE &&
				  pr->conf[i].key == key &&
				  strstr(pr->conf[i].reason, "a72") != NULL);
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	cf_report_destroy(odd);
	cf_report_destroy(a72);
}

static CU_TestInfo tests[] = {
	TEST(test_baseline_kvm_rule_conflict),
	TEST(test_baseline_clidr_levels),
	TEST(test_baseline_enabled_capabilities),
	TEST(test_baseline_kvm_facts),
	TEST(test_baseline_real_all_writable),
	TEST(test_baseline_real_golden),
	TEST(test_baseline_real_no_writable_masks),
	TEST(test_baseline_fixed_value),
	TEST(test_baseline_unknown_and_missing_registers),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_baseline = { "baseline", NULL, NULL, NULL, NULL, tests };
