/* The upload route's token cache (server/tokcache.h): a token put is got
 * back until its TTL has passed, forgotten when dropped, and a token
 * never put (or one that another pushed out of its slot) is not got. */
#include <stdio.h>
#include <string.h>
#include "server/tokcache.h"
#include "tests/unit/suites.h"

#define A "cft_aaaaaaaaaa_0000000000000000000000000000000000000000000000000000000000000001"
#define B "cft_bbbbbbbbbb_0000000000000000000000000000000000000000000000000000000000000002"

static struct cf_db_token tok(const char *id, enum cf_db_role role,
			      const char *host)
{
	struct cf_db_token t = { .role = role };

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.host, sizeof(t.host), "%s", host);
	snprintf(t.created_at, sizeof(t.created_at), "%s",
		 "2026-12-07T00:00:00Z");
	return t;
}

static void test_tokcache_ttl_and_drop(void)
{
	struct cf_db_token a = tok("aaaaaaaaaa", CF_DB_ROLE_AGENT, "n1-01");
	struct cf_db_token got;
	struct cf_tokcache *c = NULL;

	CU_ASSERT_EQUAL(cf_tokcache_create(3, 2000, &c), CF_EINVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(cf_tokcache_create(256, 2000, &c), CF_OK);
	CU_ASSERT_FALSE(cf_tokcache_get(c, A, 1000, &got));
	cf_tokcache_put(c, A, &a, 1000);
	memset(&got, 0, sizeof(got));
	CU_ASSERT_TRUE(cf_tokcache_get(c, A, 1000, &got));
	CU_ASSERT_STRING_EQUAL(got.id, "aaaaaaaaaa");
	CU_ASSERT_EQUAL(got.role, CF_DB_ROLE_AGENT);
	CU_ASSERT_STRING_EQUAL(got.host, "n1-01");
	/* Another token, and the same one a character shorter. */
	CU_ASSERT_FALSE(cf_tokcache_get(c, B, 1000, &got));
	CU_ASSERT_FALSE(cf_tokcache_get(c, "cft_aaaaaaaaaa_0", 1000, &got));
	/* Kept for 2000 ms: at 2999 still, at 3000 no more. */
	CU_ASSERT_TRUE(cf_tokcache_get(c, A, 2999, &got));
	CU_ASSERT_FALSE(cf_tokcache_get(c, A, 3000, &got));
	/* A clock before the lookup (another thread's older reading). */
	CU_ASSERT_FALSE(cf_tokcache_get(c, A, 999, &got));
	cf_tokcache_put(c, A, &a, 5000);
	CU_ASSERT_TRUE(cf_tokcache_get(c, A, 5001, &got));
	cf_tokcache_drop(c, B);             /* not kept: changes nothing */
	CU_ASSERT_TRUE(cf_tokcache_get(c, A, 5001, &got));
	cf_tokcache_drop(c, A);
	CU_ASSERT_FALSE(cf_tokcache_get(c, A, 5001, &got));
	cf_tokcache_destroy(c);
}

/* One slot: the second token takes it, the first is looked up again. */
static void test_tokcache_slot_taken(void)
{
	struct cf_db_token a = tok("aaaaaaaaaa", CF_DB_ROLE_ADMIN, "");
	struct cf_db_token b = tok("bbbbbbbbbb", CF_DB_ROLE_READER, "");
	struct cf_db_token got;
	struct cf_tokcache *c = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_tokcache_create(1, 2000, &c), CF_OK);
	cf_tokcache_put(c, A, &a, 0);
	cf_tokcache_put(c, B, &b, 0);
	CU_ASSERT_FALSE(cf_tokcache_get(c, A, 1, &got));
	CU_ASSERT_TRUE(cf_tokcache_get(c, B, 1, &got));
	CU_ASSERT_STRING_EQUAL(got.id, "bbbbbbbbbb");
	CU_ASSERT_EQUAL(got.role, CF_DB_ROLE_READER);
	cf_tokcache_drop(c, A);             /* B's slot: B stays */
	CU_ASSERT_TRUE(cf_tokcache_get(c, B, 1, &got));
	cf_tokcache_destroy(c);
}

static CU_TestInfo tests[] = {
	TEST(test_tokcache_ttl_and_drop),
	TEST(test_tokcache_slot_taken),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_tokcache = { "tokcache", NULL, NULL, NULL, NULL, tests };
