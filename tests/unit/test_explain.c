#include <string.h>
#include "tests/unit/suites.h"
#include "fleet/whatif.h"

static bool listed(const struct cf_explain *e, bool a, const char *feat)
{
	const char *s;

	for (size_t i = 0; (s = a ? cf_explain_only_in_a(e, i)
				   : cf_explain_only_in_b(e, i)); i++)
		if (!strcmp(s, feat))
			return true;
	return false;
}

static bool reason_names(const struct cf_verdict *v, const char *feat)
{
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		if (strstr(cf_verdict_reason(v, i)->features, feat))
			return true;
	return false;
}

static void test_explain_graviton3_and_a72(void)
{
	struct cf_report *g = test_load_report("arm64/real-writable/graviton3.json");
	struct cf_report *a = test_load_report("arm64/real-writable/cortex-a72.json");
	struct cf_explain *e = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(cf_explain_create(g, a, &e), CF_OK);
	/* Graviton3 -> A72: the A72 lacks SVE, AES, LSE, FP16... */
	CU_ASSERT_FALSE(cf_verdict_compatible(cf_explain_a_to_b(e)));
	CU_ASSERT_TRUE(reason_names(cf_explain_a_to_b(e), "FEAT_SVE"));
	CU_ASSERT_TRUE(reason_names(cf_explain_a_to_b(e), "FEAT_AES"));
	CU_ASSERT_TRUE(listed(e, true, "FEAT_SVE"));
	CU_ASSERT_TRUE(listed(e, true, "FEAT_LSE"));
	CU_ASSERT_FALSE(listed(e, false, "FEAT_SVE"));
	/* ...and Graviton3 lacks the A72's DoubleLock (0xf = not
	 * implemented), so the reverse is refused too. */
	CU_ASSERT_FALSE(cf_verdict_compatible(cf_explain_b_to_a(e)));
	CU_ASSERT_TRUE(reason_names(cf_explain_b_to_a(e), "FEAT_DoubleLock"));
	CU_ASSERT_TRUE(listed(e, false, "FEAT_DoubleLock"));
	CU_ASSERT_PTR_NULL(cf_explain_only_in_a(e, 10000));
	cf_explain_destroy(e);
	cf_report_destroy(g);
	cf_report_destroy(a);
}

static void test_explain_same_host(void)
{
	struct cf_report *g = test_load_report("fleet/n1-01.json");
	struct cf_report *h = test_load_report("fleet/n1-02.json");
	struct cf_explain *e = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL_FATAL(cf_explain_create(g, h, &e), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(cf_explain_a_to_b(e)));
	CU_ASSERT_TRUE(cf_verdict_compatible(cf_explain_b_to_a(e)));
	CU_ASSERT_PTR_NULL(cf_explain_only_in_a(e, 0));
	CU_ASSERT_PTR_NULL(cf_explain_only_in_b(e, 0));
	cf_explain_destroy(e);
	cf_report_destroy(g);
	cf_report_destroy(h);
}

/* What-if on the real hosts: a host re-added replaces its report (same
 * content: nothing gained or lost), and each bad change is refused with
 * the host named.  The features: graviton3's ID_AA64PFR0_EL1.SVE is 1
 * (FEAT_SVE, arch/arm64/idregs.txt), altra's 0. */
static void test_whatif_edges(void)
{
	struct cf_report *g = test_load_report("arm64/real-writable/graviton3.json");
	struct cf_report *a = test_load_report("arm64/real-writable/altra.json");
	struct cf_report *a2 = test_load_report("arm64/real-writable/altra.json");
	struct cf_report *x = test_load_report("x86/spr-05.json");
	const struct cf_whatif_host cur[] = { { "graviton3", g },
					      { "altra", a } };
	const struct cf_whatif_host add[] = { { "altra", a2 }, { "altra", a2 } };
	const struct cf_whatif_host addx[] = { { "spr-05", x } };
	const char *rm[] = { "graviton3", "altra" }, *ghost[] = { "ghost-9" };
	struct cf_whatif w;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, add, 1, NULL, 0, NULL, NULL, &w,
				      &d), CF_OK);
	CU_ASSERT_EQUAL(w.n, 2);
	CU_ASSERT_PTR_EQUAL(w.m[0].report, a2); /* by host id: altra first */
	CU_ASSERT_EQUAL(w.ngained + w.nlost + w.nrefused, 0);
	cf_whatif_clear(&w);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, NULL, 0, rm + 1, 1, NULL,
				      NULL, &w, &d), CF_OK);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_EQUAL(w.nlost, 0);
	bool sve = false;
	for (size_t i = 0; i < w.ngained; i++)
		sve = sve || !strcmp(w.gained[i], "FEAT_SVE");
	CU_ASSERT_TRUE(sve);
	cf_whatif_clear(&w);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, add, 2, NULL, 0, NULL, NULL, &w,
				      &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "altra"));
	cf_whatif_clear(&w);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, NULL, 0, rm, 2, NULL, NULL, &w,
				      &d), CF_EEMPTY);
	cf_whatif_clear(&w);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, NULL, 0, ghost, 1, NULL, NULL, &w,
				      &d), CF_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "ghost-9"));
	cf_whatif_clear(&w);
	CU_ASSERT_EQUAL(cf_whatif_run("p", cur, 2, addx, 1, NULL, 0, NULL, NULL, &w,
				      &d), CF_ECONFLICT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "spr-05"));
	cf_whatif_clear(&w);
	cf_report_destroy(g);
	cf_report_destroy(a);
	cf_report_destroy(a2);
	cf_report_destroy(x);
}

static CU_TestInfo tests[] = {
	TEST(test_whatif_edges),
	TEST(test_explain_graviton3_and_a72),
	TEST(test_explain_same_host),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_explain = { "explain", NULL, NULL, NULL, NULL, tests };
