/* cf_pools_plan: the fewest pools, then the fewest features given up. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/suites.h"

#define R(p) ((const struct cf_report *const *)(p))

/* An arm64 host whose ID_AA64ISAR0_EL1 is ISAR0 and whose writable mask
 * for it is WR ("" for none). */
static struct cf_report *isar0_host(const char *id, const char *isar0,
				    const char *wr)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{\"ID_AA64ISAR0_EL1\":"
			    "\"%s\"}%s%s%s}", isar0,
			    wr[0] ? ",\"writable\":{\"ID_AA64ISAR0_EL1\":\"" : "",
			    wr, wr[0] ? "\"}" : "");
}

/* P's answer for the reports O[0..N) as a string: "host:pool " for each
 * report of BASE (the same reports, perhaps in another order), then each
 * pool's features given up, "pool:name,name;". */
static void answer(const struct cf_pools *p, struct cf_report **o,
		   struct cf_report **base, size_t n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		for (size_t j = 0; j < n && used < len; j++)
			if (o[j] == base[i])
				used += (size_t)snprintf(out + used, len - used,
							 "%s:%zu ",
							 cf_report_host_id(o[j]),
							 cf_pools_pool_of(p, j));
	for (size_t b = 0; b < cf_pools_count(p) && used < len; b++) {
		used += (size_t)snprintf(out + used, len - used, "%zu:", b);
		for (size_t j = 0; j < cf_pools_given_up_count(p, b) && used < len; j++)
			used += (size_t)snprintf(out + used, len - used, "%s,",
						 cf_pools_given_up(p, b, j));
		if (used < len)
			used += (size_t)snprintf(out + used, len - used, ";");
	}
}

/* Fields of ID_AA64ISAR0_EL1 (Arm ARM D19.2.61; arch/arm64/idregs.txt
 * transcribes it): AES bits [7:4] (1 FEAT_AES, 2 FEAT_PMULL as well), SHA1
 * bits [11:8] (1 FEAT_SHA1).  A field a host's KVM lets userspace write
 * (its bits in the writable mask) can be lowered to the pool's value; one
 * it cannot write must be the pool's value already.  So a pool is feasible
 * when, for each field, the hosts that cannot write it agree on one value
 * and the others offer at least that much (test_baseline_fixed_value).
 *
 * The four hosts (host ids in the order first fit takes them):
 *          AES          SHA1
 *   a   1 fixed      1 writable     ISAR0 0x110, writable 0xf00
 *   b   2 writable   1 fixed        ISAR0 0x120, writable 0x0f0
 *   c   1 fixed      0 fixed        ISAR0 0x010, nothing writable
 *   d   2 fixed      1 writable     ISAR0 0x120, writable 0xf00
 * Pairs: a+b feasible (AES 1, b lowers 2 to 1: b gives up FEAT_PMULL);
 * a+c feasible (AES 1, SHA1 0: a lowers SHA1, gives up FEAT_SHA1); b+d
 * feasible (AES 2, SHA1 1: nothing given up); a+d (AES fixed 1 and 2), b+c
 * (SHA1 fixed 1 and 0) and c+d (AES fixed 1 and 2) infeasible.
 * First fit: a; b joins a; c cannot join {a,b} (b+c); d cannot join
 * {a,b} (a+d) nor {c} (c+d): 3 pools {a,b} {c} {d}.
 * Fewest: any pool of three holds one of the infeasible pairs, so at
 * least 2 pools, and the only pairing of feasible pairs covering all four
 * is {a,c} {b,d}: 2 pools, giving up FEAT_SHA1 (pool {a,c}) and nothing. */
static void four_hosts(struct cf_report *r[4])
{
	r[0] = isar0_host("a", "0x110", "0xf00");
	r[1] = isar0_host("b", "0x120", "0x0f0");
	r[2] = isar0_host("c", "0x010", "");
	r[3] = isar0_host("d", "0x120", "0xf00");
	for (int i = 0; i < 4; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
}

static void test_pools_fewer_than_first_fit(void)
{
	struct cf_report *r[4];
	struct cf_pools *ff = NULL, *fw = NULL;
	char got[256];

	four_hosts(r);
	CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), 4, CF_POOLS_FIRST_FIT, &ff),
			      CF_OK);
	answer(ff, r, r, 4, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "a:0 b:0 c:1 d:2 0:FEAT_PMULL,;1:;2:;");
	CU_ASSERT_EQUAL(cf_pools_count(ff), 3);
	CU_ASSERT_EQUAL(cf_pools_given_up_total(ff), 1);

	CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), 4, CF_POOLS_FEWEST, &fw),
			      CF_OK);
	CU_ASSERT_TRUE(cf_pools_exact(fw));
	/* Pools numbered by first host id: {a,c} then {b,d}. */
	answer(fw, r, r, 4, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "a:0 b:1 c:0 d:1 0:FEAT_SHA1,;1:;");
	CU_ASSERT_EQUAL(cf_pools_count(fw), 2);
	CU_ASSERT_EQUAL(cf_pools_given_up_total(fw), 1);
	CU_ASSERT_PTR_NULL(cf_pools_given_up(fw, 1, 0));
	cf_pools_destroy(ff);
	cf_pools_destroy(fw);
	for (int i = 0; i < 4; i++)
		cf_report_destroy(r[i]);
}

/* As many pools, fewer features given up.  AES only (fields as above):
 *          AES
 *   p   1 fixed        ISAR0 0x010
 *   q   2 writable     ISAR0 0x020, writable 0x0f0
 *   r   2 fixed        ISAR0 0x020
 * p+q feasible (AES 1: q gives up FEAT_PMULL), q+r feasible (AES 2,
 * nothing), p+r infeasible (fixed 1 and 2), so at least 2 pools.  First
 * fit: {p,q} {r}, FEAT_PMULL given up; fewest: {p} {q,r}, nothing. */
static void test_pools_fewer_features_than_first_fit(void)
{
	struct cf_report *r[3] = {
		isar0_host("p", "0x010", ""),
		isar0_host("q", "0x020", "0x0f0"),
		isar0_host("r", "0x020", ""),
	};
	struct cf_pools *ff = NULL, *fw = NULL;
	char got[256];

	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), 3, CF_POOLS_FIRST_FIT, &ff),
			      CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), 3, CF_POOLS_FEWEST, &fw),
			      CF_OK);
	answer(ff, r, r, 3, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "p:0 q:0 r:1 0:FEAT_PMULL,;1:;");
	answer(fw, r, r, 3, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "p:0 q:1 r:1 0:;1:;");
	CU_ASSERT_EQUAL(cf_pools_given_up_total(fw), 0);
	cf_pools_destroy(ff);
	cf_pools_destroy(fw);
	for (int i = 0; i < 3; i++)
		cf_report_destroy(r[i]);
}

/* ---- the oracle: every partition, by brute force ---- */

#define ORACLE_MAX 12

/* The features some member of the set MASK (of R[0..N), one configuration
 * each) gives up in their pool, by the definition (cpufleet.h): names the
 * baseline of the member alone shows and the pool's baseline lacks,
 * distinct.  -1 for an infeasible set. */
static long oracle_lost(struct cf_report **r, size_t n, unsigned mask)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *base = NULL;
	char seen[64][64];
	long lost = 0;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create(cf_report_arch(r[0]), &pool), CF_OK);
	for (size_t i = 0; i < n; i++)
		if (mask >> i & 1)
			CU_ASSERT_EQUAL_FATAL(cf_pool_add(pool, r[i], NULL), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_baseline(pool, &base), CF_OK);
	cf_pool_destroy(pool);
	if (!cf_profile_feasible(base)) {
		cf_profile_destroy(base);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct cf_profile *alone = NULL;
		struct cf_explain *e = NULL;
		const char *f;
		if (!(mask >> i & 1))
			continue;
		CU_ASSERT_EQUAL_FATAL(cf_pool_create(cf_report_arch(r[i]), &pool),
				      CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_pool_add(pool, r[i], NULL), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_baseline(pool, &alone), CF_OK);
		cf_pool_destroy(pool);
		CU_ASSERT_EQUAL_FATAL(cf_explain_profiles(alone, base, &e), CF_OK);
		for (size_t j = 0; (f = cf_explain_only_in_a(e, j)); j++) {
			long k;
			for (k = 0; k < lost && strcmp(seen[k], f); k++)
				;
			if (k == lost) {
				CU_ASSERT_FATAL(lost < 64 && strlen(f) < 64);
				snprintf(seen[lost++], sizeof(seen[0]), "%s", f);
			}
		}
		cf_explain_destroy(e);
		cf_profile_destroy(alone);
	}
	cf_profile_destroy(base);
	return lost;
}

/* Every partition of R[0..N) (restricted growth strings): the fewest
 * pools whose sets are all feasible, and the fewest features given up
 * among those; cf_pools_plan must give both, with pools that are feasible
 * and give up what the oracle says they do. */
static void want_minimal(struct cf_report **r, size_t n)
{
	static long lost[1u << ORACLE_MAX];
	size_t rgs[ORACLE_MAX] = { 0 }, maxv[ORACLE_MAX] = { 0 };
	size_t best_k = 0, partitions = 0;
	long best_lost = 0, total = 0;
	struct cf_pools *p = NULL;

	CU_ASSERT_FATAL(n >= 1 && n <= ORACLE_MAX);
	for (unsigned m = 1; m < 1u << n; m++)
		lost[m] = oracle_lost(r, n, m);
	for (;;) {
		unsigned blk[ORACLE_MAX] = { 0 };
		size_t k = 0, i;
		long sum = 0;
		bool ok = true;
		for (i = 0; i < n; i++) {
			blk[rgs[i]] |= 1u << i;
			if (rgs[i] + 1 > k)
				k = rgs[i] + 1;
		}
		for (i = 0; i < k && ok; i++) {
			ok = lost[blk[i]] >= 0;
			sum += lost[blk[i]];
		}
		partitions++;
		if (ok && (!best_k || k < best_k ||
			   (k == best_k && sum < best_lost))) {
			best_k = k;
			best_lost = sum;
		}
		/* The next restricted growth string. */
		for (i = n - 1; i >= 1 && rgs[i] == maxv[i] + 1; i--)
			rgs[i] = 0;
		if (i == 0)
			break;
		rgs[i]++;
		for (size_t j = i + 1; j < n; j++)
			maxv[j] = rgs[j - 1] > maxv[j - 1] ? rgs[j - 1] : maxv[j - 1];
	}
	CU_ASSERT(partitions > n);
	CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), n, CF_POOLS_FEWEST, &p), CF_OK);
	CU_ASSERT_TRUE(cf_pools_exact(p));
	CU_ASSERT_EQUAL(cf_pools_count(p), best_k);
	CU_ASSERT_EQUAL((long)cf_pools_given_up_total(p), best_lost);
	for (size_t b = 0; b < cf_pools_count(p); b++) {
		unsigned m = 0;
		for (size_t i = 0; i < n; i++)
			if (cf_pools_pool_of(p, i) == b)
				m |= 1u << i;
		CU_ASSERT_FATAL(m != 0);
		CU_ASSERT(lost[m] >= 0);
		CU_ASSERT_EQUAL((long)cf_pools_given_up_count(p, b), lost[m]);
		total += lost[m];
	}
	CU_ASSERT_EQUAL(total, best_lost);
	cf_pools_destroy(p);
}

/* The lab's seven hosts on each kernel, and a fleet half upgraded: five
 * cores on 6.12 and on 7.3 (115975 partitions). */
static void test_pools_min(void)
{
	static const char *const cores[] = { "a53", "a57", "a64fx", "a72",
					     "a76", "max", "n1" };
	static const char *const dirs[] = { "lab/reports", "lab/reports-7.3" };
	struct cf_report *r[ORACLE_MAX];
	char rel[64], id[32];

	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < 7; i++) {
			snprintf(rel, sizeof(rel), "%s/%s.json", dirs[d], cores[i]);
			r[i] = test_load_report(rel);
			CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
		}
		want_minimal(r, 7);
		for (size_t i = 0; i < 7; i++)
			cf_report_destroy(r[i]);
	}
	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < 5; i++) {
			struct cf_report *x;
			static const char *const five[] = { "a53", "a57", "a72",
							    "a76", "n1" };
			snprintf(rel, sizeof(rel), "%s/%s.json", dirs[d], five[i]);
			snprintf(id, sizeof(id), "%s-%s", five[i], d ? "7.3" : "6.12");
			x = test_load_report(rel);
			CU_ASSERT_PTR_NOT_NULL_FATAL(x);
			CU_ASSERT_EQUAL_FATAL(cf_report_clone_as(x, id,
								 &r[d * 5 + i]),
					      CF_OK);
			cf_report_destroy(x);
		}
	}
	want_minimal(r, 10);
	for (size_t i = 0; i < 10; i++)
		cf_report_destroy(r[i]);
}

/* The constructed hosts above, checked by the oracle too. */
static void test_pools_min_constructed(void)
{
	struct cf_report *r[4];

	four_hosts(r);
	want_minimal(r, 4);
	for (int i = 0; i < 4; i++)
		cf_report_destroy(r[i]);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every report tests/data/REL/ *.json holds (in name order) appended to
 * R[*N..MAX), each host id with SUFFIX appended. */
static void load_dir(const char *rel, const char *suffix,
		     struct cf_report **r, size_t *n, size_t max)
{
	char path[256], *names[64];
	size_t k = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "tests/data/%s", rel);
	d = opendir(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
			CU_ASSERT_FATAL(k < 64);
			names[k] = strdup(e->d_name);
			CU_ASSERT_PTR_NOT_NULL_FATAL(names[k]);
			k++;
		}
	}
	closedir(d);
	qsort(names, k, sizeof(names[0]), by_name);
	for (size_t i = 0; i < k; i++) {
		struct cf_report *x;
		char id[CF_HOST_ID_MAX];
		snprintf(path, sizeof(path), "%s/%s", rel, names[i]);
		free(names[i]);
		x = test_load_report(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		CU_ASSERT_FATAL(*n < max);
		snprintf(id, sizeof(id), "%s%s", cf_report_host_id(x), suffix);
		CU_ASSERT_EQUAL_FATAL(cf_report_clone_as(x, id, &r[(*n)++]), CF_OK);
		cf_report_destroy(x);
	}
}

/* Every arm64 and x86 report of tests/data with distinct host ids (the
 * lab's 7.3 hosts renamed): in three orders, one answer for each
 * strategy; first fit is cf_pools_partition's; hosts of one
 * configuration share a pool. */
static void test_pools_order_free(void)
{
	enum { MAX = 64 };
	struct cf_report *r[MAX], *o[MAX];
	size_t pool_of[MAX], np = 0, N = 0;

	load_dir("fleet", "", r, &N, MAX);
	load_dir("lab/reports", "", r, &N, MAX);
	load_dir("lab/reports-7.3", "-7.3", r, &N, MAX);
	load_dir("arm64/real-writable", "", r, &N, MAX);
	load_dir("x86", "", r, &N, MAX);
	CU_ASSERT_EQUAL_FATAL(N, 6 + 7 + 7 + 3 + 5);
	for (int how = CF_POOLS_FEWEST; how <= CF_POOLS_FIRST_FIT; how++) {
		static char want[8192], got[8192];
		struct cf_pools *p = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), N, how, &p), CF_OK);
		answer(p, r, r, N, want, sizeof(want));
		for (size_t i = 0; i < N; i++)
			for (size_t j = 0; j < N; j++)
				if (cf_report_fingerprint(r[i]) ==
				    cf_report_fingerprint(r[j]))
					CU_ASSERT_EQUAL(cf_pools_pool_of(p, i),
							cf_pools_pool_of(p, j));
		if (how == CF_POOLS_FIRST_FIT) {
			CU_ASSERT_EQUAL_FATAL(cf_pools_partition(R(r), N, pool_of,
								 &np), CF_OK);
			CU_ASSERT_EQUAL(np, cf_pools_count(p));
			for (size_t i = 0; i < N; i++)
				CU_ASSERT_EQUAL(pool_of[i], cf_pools_pool_of(p, i));
		}
		cf_pools_destroy(p);
		for (size_t perm = 0; perm < 2; perm++) {
			/* Reversed; then i*5 mod 28 (5 and 28 coprime). */
			for (size_t i = 0; i < N; i++)
				o[i] = perm ? r[(i * 5) % N] : r[N - 1 - i];
			CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(o), N, how, &p),
					      CF_OK);
			answer(p, o, r, N, got, sizeof(got));
			CU_ASSERT_STRING_EQUAL(got, want);
			cf_pools_destroy(p);
		}
	}
	for (size_t i = 0; i < N; i++)
		cf_report_destroy(r[i]);
}

/* CF_POOLS_EXACT_MAX configurations are searched, one more is not: 33
 * hosts whose ID_AA64ISAR0_EL1 differ in six one-bit fields (CRC32
 * [19:16], RDM [31:28], SM3 [39:36], SM4 [43:40], DP [47:44], FHM [51:48];
 * Arm ARM D19.2.61), every field writable: one pool either way (each
 * host can be lowered to the common value), proven only for 32. */
static void test_pools_exact_limit(void)
{
	static const int shift[6] = { 16, 28, 36, 40, 44, 48 };
	enum { N = CF_POOLS_EXACT_MAX + 1 };
	struct cf_report *r[N];

	for (int i = 0; i < N; i++) {
		char id[16], v[24];
		uint64_t val = 0;
		for (int b = 0; b < 6; b++)
			if (i >> b & 1)
				val |= 1ull << shift[b];
		snprintf(id, sizeof(id), "h%02d", i);
		snprintf(v, sizeof(v), "0x%llx", (unsigned long long)val);
		r[i] = isar0_host(id, v, "0xfffffffffffffff0");
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	for (int n = N - 1; n <= N; n++) {
		struct cf_pools *p = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_pools_plan(R(r), (size_t)n,
						    CF_POOLS_FEWEST, &p), CF_OK);
		CU_ASSERT_EQUAL(cf_pools_count(p), 1);
		CU_ASSERT_EQUAL(cf_pools_exact(p), n == N - 1);
		cf_pools_destroy(p);
	}
	for (int i = 0; i < N; i++)
		cf_report_destroy(r[i]);
}

/* One host id twice (two configurations of "a"), an unknown strategy. */
static void test_pools_bad_input(void)
{
	struct cf_report *r[4];
	struct cf_pools *p = (struct cf_pools *)r;

	four_hosts(r);
	cf_report_destroy(r[3]);
	r[3] = isar0_host("a", "0x120", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r[3]);
	for (int how = CF_POOLS_FEWEST; how <= CF_POOLS_FIRST_FIT; how++) {
		CU_ASSERT_EQUAL(cf_pools_plan(R(r), 4, how, &p), CF_EDUPLICATE);
		CU_ASSERT_PTR_NULL(p);
	}
	CU_ASSERT_EQUAL(cf_pools_plan(R(r), 3, (enum cf_pools_strategy)7, &p),
			CF_EINVAL);
	CU_ASSERT_PTR_NULL(p);
	cf_pools_destroy(NULL);
	for (int i = 0; i < 4; i++)
		cf_report_destroy(r[i]);
}

static CU_TestInfo tests[] = {
	TEST(test_pools_fewer_than_first_fit),
	TEST(test_pools_fewer_features_than_first_fit),
	TEST(test_pools_min_constructed),
	TEST(test_pools_min),
	TEST(test_pools_order_free),
	TEST(test_pools_exact_limit),
	TEST(test_pools_bad_input),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_pools = { "pools", NULL, NULL, NULL, NULL, tests };
