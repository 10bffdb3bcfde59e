#include <stdio.h>
#include <string.h>
#include "engine/pool.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static void test_pool_dedups_by_configuration(void)
{
	struct cf_report *a = test_load_report("fleet/n1-01.json");
	struct cf_report *b = test_load_report("fleet/n1-02.json");
	struct cf_report *c = test_load_report("fleet/v1-01.json");
	struct cf_pool *p = NULL;
	struct cf_diag d;
	char id[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Same CPU, different kernel strings: one configuration. */
	CU_ASSERT_EQUAL(cf_report_fingerprint(a), cf_report_fingerprint(b));
	CU_ASSERT_NOT_EQUAL(cf_report_fingerprint(a), cf_report_fingerprint(c));
	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_add(p, a, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_add(p, b, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_add(p, c, &d), CF_OK);
	for (int i = 0; i < 5000; i++) {
		struct cf_report *x = NULL;
		snprintf(id, sizeof(id), "clone-%d", i);
		CU_ASSERT_EQUAL_FATAL(cf_report_clone_as(i % 2 ? a : c, id, &x),
				      CF_OK);
		CU_ASSERT_EQUAL(cf_pool_add(p, x, &d), CF_OK);
		cf_report_destroy(x);
	}
	CU_ASSERT_EQUAL(cf_pool_host_count(p), 5003);
	CU_ASSERT_EQUAL(cf_pool_config_count(p), 2);
	CU_ASSERT_EQUAL(p->groups[0].nhosts + p->groups[1].nhosts, 5003);
	/* Host ids survive the reports. */
	CU_ASSERT_STRING_EQUAL(cf_hostset_id(&p->hosts, 5002), "clone-4999");
	/* A duplicate id is refused and changes nothing. */
	CU_ASSERT_EQUAL(cf_pool_add(p, a, &d), CF_EDUPLICATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "n1-01"));
	CU_ASSERT_EQUAL(cf_pool_host_count(p), 5003);
	cf_pool_destroy(p);
	cf_report_destroy(a);
	cf_report_destroy(b);
	cf_report_destroy(c);
}

static void test_pool_rejects_unknown_arch(void)
{
	struct cf_pool *p = NULL;

	CU_ASSERT_EQUAL(cf_pool_create("vax", &p), CF_EARCH);
	CU_ASSERT_PTR_NULL(p);
	cf_pool_destroy(NULL);
}

static void test_pool_empty_baseline(void)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_EEMPTY);
	CU_ASSERT_PTR_NULL(pr);
	cf_pool_destroy(p);
}

static void test_pool_partition(void)
{
	static const char *const fleet[] = {
		"fleet/a72-01.json", "fleet/n1-01.json", "fleet/a72-02.json",
		"fleet/v1-01.json", "fleet/n1-02.json",
	};
	static const char *const real[] = {
		"arm64/real-writable/altra.json", "arm64/real-writable/graviton3.json",
		"arm64/real-writable/cortex-a72.json",
	};
	struct cf_report *r[5];
	size_t pool_of[5], n = 0;

	for (int i = 0; i < 5; i++) {
		r[i] = test_load_report(fleet[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	/* KVM 6.12 cannot hide FP16, RAS or VHE: one pool per core. */
	CU_ASSERT_EQUAL(cf_pools_partition((const struct cf_report *const *)r,
					   5, pool_of, &n), CF_OK);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(pool_of[0], 0);
	CU_ASSERT_EQUAL(pool_of[1], 1);
	CU_ASSERT_EQUAL(pool_of[2], 0);
	CU_ASSERT_EQUAL(pool_of[3], 2);
	CU_ASSERT_EQUAL(pool_of[4], 1);
	for (int i = 0; i < 5; i++)
		cf_report_destroy(r[i]);
	/* Everything writable: one pool. */
	for (int i = 0; i < 3; i++) {
		r[i] = test_load_report(real[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	CU_ASSERT_EQUAL(cf_pools_partition((const struct cf_report *const *)r,
					   3, pool_of, &n), CF_OK);
	CU_ASSERT_EQUAL(n, 1);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(r[i]);
}

static CU_TestInfo tests[] = {
	TEST(test_pool_partition),
	TEST(test_pool_dedups_by_configuration),
	TEST(test_pool_rejects_unknown_arch),
	TEST(test_pool_empty_baseline),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_pool = { "pool", NULL, NULL, NULL, NULL, tests };
