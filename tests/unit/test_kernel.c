/* Kernel planning (engine/kernel.c) over arch/arm64/kvm-writable.txt.
 * Expectations come from the table's own lines (cited by line) and from
 * KVM's own answer: the writable masks the lab's 6.12.95 and 7.3.4 kernels
 * reported for the same QEMU models (tests/data/lab/reports and
 * reports-7.3).  Never from cpufleet's output. */
#include <stdio.h>
#include <string.h>
#include "engine/kernel.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static const struct cf_kw_entry *entry(const char *reg, const char *field)
{
	const struct cf_kw_table *t = &cf_arm64_kvm_writable;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].reg, reg) && !strcmp(t->e[i].field, field))
			return &t->e[i];
	return NULL;
}

static bool at(const struct cf_kw_entry *e, const char *rel)
{
	struct cf_kver k;

	CU_ASSERT_FATAL(cf_kernel_parse(rel, &k));
	return cf_kw_writable_at(e, &k);
}

static void test_kernel_parse(void)
{
	struct cf_kver k;

	CU_ASSERT(cf_kernel_parse("6.18", &k) && k.mm == 6018 && k.patch == 0);
	CU_ASSERT(cf_kernel_parse("6.12.60", &k) && k.mm == 6012 && k.patch == 60);
	CU_ASSERT(!cf_kernel_parse("6", &k));
	CU_ASSERT(!cf_kernel_parse("6.", &k));
	CU_ASSERT(!cf_kernel_parse("6.12.", &k));
	CU_ASSERT(!cf_kernel_parse("6.12-rc1", &k));
	CU_ASSERT(!cf_kernel_parse("0.9", &k));
	CU_ASSERT(!cf_kernel_parse("6.1234", &k));
	CU_ASSERT(!cf_kernel_parse("", &k));
	CU_ASSERT(cf_kernel_of_release("6.12.95+deb12-arm64", &k) &&
		  k.mm == 6012 && k.patch == 95);
	CU_ASSERT(cf_kernel_of_release("7.3.4+deb13-arm64", &k) && k.mm == 7003);
	CU_ASSERT(!cf_kernel_of_release("unknown", &k));
}

/* The table's lines, read as the header's grammar says. */
static void test_kernel_writable_at(void)
{
	/* "writable ID_AA64ISAR0_EL1 TME 6.7 isar-6.7 until=6.13..7.3:...":
	 * writable on 6.12, not from 6.13 on (the range's first release, to
	 * be safe). */
	const struct cf_kw_entry *tme = entry("ID_AA64ISAR0_EL1", "TME");
	/* "writable ID_PFR0_EL1 RAS 6.18 aa32-6.18 stable=6.12.60:..." */
	const struct cf_kw_entry *aa32 = entry("ID_PFR0_EL1", "RAS");
	/* "writable CTR_EL0 L1Ip 6.13..6.17": from 6.17 only. */
	const struct cf_kw_entry *l1ip = entry("CTR_EL0", "L1Ip");
	/* "writable ID_DFR0_EL1 CopDbg ..6.12": by 6.12. */
	const struct cf_kw_entry *copdbg = entry("ID_DFR0_EL1", "CopDbg");

	CU_ASSERT_FATAL(tme && aa32 && l1ip && copdbg);
	CU_ASSERT(!at(tme, "6.6"));
	CU_ASSERT(at(tme, "6.7"));
	CU_ASSERT(at(tme, "6.12"));
	CU_ASSERT(!at(tme, "6.13"));
	CU_ASSERT(!at(tme, "7.3"));
	CU_ASSERT(!at(aa32, "6.12"));
	CU_ASSERT(!at(aa32, "6.12.59"));
	CU_ASSERT(at(aa32, "6.12.60"));
	CU_ASSERT(!at(aa32, "6.17"));
	CU_ASSERT(at(aa32, "6.18"));
	CU_ASSERT(aa32->flags & CF_KW_AARCH32);
	CU_ASSERT(!at(l1ip, "6.13"));
	CU_ASSERT(!at(l1ip, "6.16"));
	CU_ASSERT(at(l1ip, "6.17"));
	CU_ASSERT(!at(copdbg, "6.11"));
	CU_ASSERT(at(copdbg, "6.12"));
	CU_ASSERT_STRING_EQUAL(entry("MIDR_EL1", "Variant")->cap,
			       "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
}

/* Every table field's writable bits of FROM planned at REL against TO's
 * own, KVM's answer; the number of disagreements. */
static int plan_against(const char *from, const char *rel, const char *to)
{
	struct cf_report *a = test_load_report(from), *b = test_load_report(to);
	struct cf_report *pl = NULL;
	const struct cf_kw_table *t = &cf_arm64_kvm_writable;
	const struct cf_catalog *cat;
	struct cf_kver k;
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(cf_kernel_parse(rel, &k));
	CU_ASSERT_EQUAL_FATAL(cf_kernel_plan_report(a, &k, &pl), CF_OK);
	cat = pl->cfg->arch->catalog;
	for (size_t i = 0; i < t->n; i++) {
		int ri = cf_catalog_find_key(cat, t->e[i].key);
		uint64_t m = (t->e[i].msb - t->e[i].lsb + 1u >= 64 ? ~0ULL :
			      ((1ULL << (t->e[i].msb - t->e[i].lsb + 1u)) - 1))
			     << t->e[i].lsb;
		if (ri < 0 || !pl->cfg->present[ri] || !b->cfg->present[ri])
			continue;
		if ((pl->cfg->wr[ri] & m) != (b->cfg->wr[ri] & m)) {
			printf("\n  %s planned at %s: %s.%s (line %u) 0x%llx, %s "
			       "has 0x%llx", from, rel, t->e[i].reg,
			       t->e[i].field, t->e[i].line,
			       (unsigned long long)(pl->cfg->wr[ri] & m), to,
			       (unsigned long long)(b->cfg->wr[ri] & m));
			bad++;
		}
	}
	/* Every register's value unchanged; the capability that MIDR/REVIDR/
	 * AIDR's writes need (cap=) offered as TO's KVM offers it. */
	for (size_t ri = 0; ri < cat->nregs; ri++) {
		if (cat->regs[ri].pseudo == 2) {
			if (!strcmp(cat->regs[ri].name,
				    "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS"))
				CU_ASSERT_EQUAL(pl->cfg->val[ri] != 0,
						b->cfg->val[ri] != 0);
			continue;
		}
		CU_ASSERT_EQUAL(pl->cfg->present[ri], a->cfg->present[ri]);
		CU_ASSERT_EQUAL(pl->cfg->val[ri], a->cfg->val[ri]);
	}
	cf_report_destroy(pl);
	cf_report_destroy(a);
	cf_report_destroy(b);
	return bad;
}

static void test_kernel_plan_matches_kvm(void)
{
	static const char *const models[] = { "a53", "a57", "a72", "a76", "n1",
					      "max", "a64fx" };
	char a[64], b[64];

	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		snprintf(a, sizeof(a), "lab/reports/%s.json", models[i]);
		snprintf(b, sizeof(b), "lab/reports-7.3/%s.json", models[i]);
		CU_ASSERT_EQUAL(plan_against(a, "7.3", b), 0);
		CU_ASSERT_EQUAL(plan_against(b, "6.12.95", a), 0);
	}
}

/* A report without a table (x86) is planned unchanged. */
static void test_kernel_plan_x86_unchanged(void)
{
	struct cf_report *r = test_load_report("x86/spr-05.json"), *pl = NULL;
	struct cf_kver k = { 6018, 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_kernel_plan_report(r, &k, &pl), CF_OK);
	CU_ASSERT(pl->cfg == r->cfg);
	cf_report_destroy(pl);
	cf_report_destroy(r);
}

static CU_TestInfo tests[] = {
	TEST(test_kernel_parse),
	TEST(test_kernel_writable_at),
	TEST(test_kernel_plan_matches_kvm),
	TEST(test_kernel_plan_x86_unchanged),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_kernel = { "kernel", NULL, NULL, NULL, NULL, tests };
