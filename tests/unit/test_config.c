#include "arch/driver.h"
#include "engine/config.h"
#include "tests/unit/suites.h"

#define PFR0 (3 << 14 | 4 << 3)
#define UNKNOWN (3 << 14 | 6 << 3 | 7) /* S3_0_C0_C6_7 */

static struct cf_config *mk(uint64_t pfr0, uint64_t wr, uint64_t extra)
{
	struct cf_config *c = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_config_create(&cf_arm64_ops, &c), CF_OK);
	CU_ASSERT_EQUAL(cf_config_set(c, PFR0, pfr0), CF_OK);
	CU_ASSERT_EQUAL(cf_config_set_writable(c, PFR0, wr), CF_OK);
	if (extra)
		CU_ASSERT_EQUAL(cf_config_set(c, UNKNOWN, extra), CF_OK);
	cf_config_seal(c);
	return c;
}

static void test_config_fingerprint(void)
{
	struct cf_config *a = mk(0x11, 0xf0, 0), *b = mk(0x11, 0xf0, 0);
	struct cf_config *c = mk(0x12, 0xf0, 0), *d = mk(0x11, 0xff, 0);
	struct cf_config *e = mk(0x11, 0xf0, 5);

	CU_ASSERT_EQUAL(a->fp, b->fp);
	CU_ASSERT_TRUE(cf_config_equal(a, b));
	CU_ASSERT_NOT_EQUAL(a->fp, c->fp);
	CU_ASSERT_FALSE(cf_config_equal(a, c));
	CU_ASSERT_NOT_EQUAL(a->fp, d->fp);
	CU_ASSERT_FALSE(cf_config_equal(a, d));
	CU_ASSERT_NOT_EQUAL(a->fp, e->fp);
	CU_ASSERT_FALSE(cf_config_equal(a, e));
	cf_config_unref(a);
	cf_config_unref(b);
	cf_config_unref(c);
	cf_config_unref(d);
	cf_config_unref(e);
}

static void test_config_extras_sorted_and_bounded(void)
{
	struct cf_config *c = NULL;
	uint64_t v;
	int added = 0;

	CU_ASSERT_EQUAL_FATAL(cf_config_create(&cf_arm64_ops, &c), CF_OK);
	/* op0=2 encodings are never in the ID catalogue. */
	for (uint64_t k = 600; k > 0; k--)
		if (cf_config_set(c, 2ULL << 14 | k, k) == CF_OK)
			added++;
	CU_ASSERT_EQUAL(added, CF_EXTRA_REGS_MAX);
	CU_ASSERT_EQUAL(cf_config_set(c, 2ULL << 14 | 1000, 1), CF_ETOOBIG);
	for (size_t i = 1; i < c->nextra; i++)
		CU_ASSERT_TRUE(c->extra[i - 1].key < c->extra[i].key);
	CU_ASSERT_TRUE(cf_config_get(c, 2ULL << 14 | 600, &v, NULL));
	CU_ASSERT_EQUAL(v, 600);
	CU_ASSERT_FALSE(cf_config_get(c, 2ULL << 14 | 1, NULL, NULL));
	CU_ASSERT_FALSE(cf_config_get(c, PFR0, NULL, NULL));
	cf_config_unref(c);
}

static CU_TestInfo tests[] = {
	TEST(test_config_fingerprint),
	TEST(test_config_extras_sorted_and_bounded),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_config = { "config", NULL, NULL, NULL, NULL, tests };
