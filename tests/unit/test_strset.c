/* util/strset.c: what the pools' features given up and the drift gauge's
 * host ids are collected in. */
#include <string.h>
#include "util/strset.h"
#include "tests/unit/suites.h"

static void test_strset_unique_and_sorted(void)
{
	struct cf_strset s = { 0 };
	/* More than the first allocation (16), with repeats. */
	static const char *const in[] = {
		"n1", "a72", "n1", "v2", "a72", "a53", "v1", "a57", "a76", "x1",
		"x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "a53", "n1",
	};
	static const char *const want[] = {
		"a53", "a57", "a72", "a76", "n1", "v1", "v2", "x1", "x2", "x3",
		"x4", "x5", "x6", "x7", "x8", "x9",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CU_ASSERT_EQUAL(cf_strset_add(&s, in[i]), CF_OK);
	CU_ASSERT_EQUAL(s.n, 20);
	cf_strset_sort_unique(&s);
	CU_ASSERT_EQUAL_FATAL(s.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s.n; i++)
		CU_ASSERT_STRING_EQUAL(s.v[i], want[i]);
	cf_strset_clear(&s);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_PTR_NULL(s.v);
	/* Empty: nothing to sort. */
	cf_strset_sort_unique(&s);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void test_strset_add_unique_keeps_order(void)
{
	struct cf_strset s = { 0 };
	char buf[8] = "FEAT_X";

	CU_ASSERT_EQUAL(cf_strset_add_unique(&s, "FEAT_SVE"), CF_OK);
	CU_ASSERT_EQUAL(cf_strset_add_unique(&s, buf), CF_OK);
	CU_ASSERT_EQUAL(cf_strset_add_unique(&s, "FEAT_SVE"), CF_OK);
	/* A copy: the caller's buffer may change. */
	buf[5] = 'Y';
	CU_ASSERT_EQUAL(cf_strset_add_unique(&s, buf), CF_OK);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.v[0], "FEAT_SVE");
	CU_ASSERT_STRING_EQUAL(s.v[1], "FEAT_X");
	CU_ASSERT_STRING_EQUAL(s.v[2], "FEAT_Y");
	cf_strset_clear(&s);
}

static CU_TestInfo tests[] = {
	TEST(test_strset_unique_and_sorted),
	TEST(test_strset_add_unique_keeps_order),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_strset = { "strset", NULL, NULL, NULL, NULL, tests };
