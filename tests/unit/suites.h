/* One CUnit suite per module; each test_<module>.c defines suite_<module>. */
#ifndef CF_TEST_SUITES_H
#define CF_TEST_SUITES_H

#include <CUnit/CUnit.h>
#include <cpufleet.h>

#define TEST(fn) { #fn, fn }

extern CU_SuiteInfo suite_err;
extern CU_SuiteInfo suite_catalog;
extern CU_SuiteInfo suite_config;
extern CU_SuiteInfo suite_report_doc;
extern CU_SuiteInfo suite_pool;
extern CU_SuiteInfo suite_baseline;
extern CU_SuiteInfo suite_check;
extern CU_SuiteInfo suite_explain;
extern CU_SuiteInfo suite_profile_doc;
extern CU_SuiteInfo suite_property;
extern CU_SuiteInfo suite_labdata;

/* Loads tests/data/<rel> (tests run from the repository root). */
struct cf_report *test_load_report(const char *rel);

#endif
