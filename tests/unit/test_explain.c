#include <string.h>
#include "tests/unit/suites.h"

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

static CU_TestInfo tests[] = {
	TEST(test_explain_graviton3_and_a72),
	TEST(test_explain_same_host),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_explain = { "explain", NULL, NULL, NULL, NULL, tests };
