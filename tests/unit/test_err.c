#include <string.h>
#include "tests/unit/suites.h"

static void test_err_every_code_has_a_string(void)
{
	for (int e = CF_OK; e < CF_ERR_LAST; e++) {
		const char *s = cf_strerror((enum cf_err)e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_STRING_NOT_EQUAL(s, "unknown error");
		for (int f = CF_OK; f < e; f++)
			CU_ASSERT_STRING_NOT_EQUAL(s, cf_strerror((enum cf_err)f));
	}
	CU_ASSERT_STRING_EQUAL(cf_strerror(CF_ERR_LAST), "unknown error");
}

static CU_TestInfo tests[] = {
	TEST(test_err_every_code_has_a_string),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_err = { "err", NULL, NULL, NULL, NULL, tests };
