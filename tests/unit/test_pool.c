#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/pool.h"
#include "engine/handles.h"
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

struct host_pool {
	const char *id;
	size_t pool;
};

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct host_pool *)a)->id,
		      ((const struct host_pool *)b)->id);
}

/* Pools of a list of reports, as "host:pool" words in host-id order, so
 * that two orders of the same reports compare as strings. */
static void pools_of(struct cf_report **r, size_t n, char *out, size_t len,
		     size_t *npools)
{
	size_t pool_of[32], used = 0;
	struct host_pool hp[32];

	CU_ASSERT_FATAL(n <= 32);
	CU_ASSERT_EQUAL_FATAL(cf_pools_partition((const struct cf_report *const *)r,
						 n, pool_of, npools), CF_OK);
	for (size_t i = 0; i < n; i++)
		hp[i] = (struct host_pool){ cf_report_host_id(r[i]), pool_of[i] };
	qsort(hp, n, sizeof(hp[0]), by_id);
	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s:%zu ",
					 hp[i].id, hp[i].pool);
}

/* The same reports in orders A and B: the same pools. */
static void want_same_pools(struct cf_report **a, struct cf_report **b,
			    size_t n)
{
	char sa[2048], sb[2048];
	size_t na = 0, nb = 0;

	pools_of(a, n, sa, sizeof(sa), &na);
	pools_of(b, n, sb, sizeof(sb), &nb);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_STRING_EQUAL(sa, sb);
}

/* Issue 17 case 7: a real mixed fleet.  Architectures never share a pool,
 * nor do x86 vendors (AMD, Intel and Hygon hosts refuse each other's
 * guests: the vendor string of CPUID leaf 0 differs), and the same reports
 * in any order give the same pools. */
static void test_pool_partition_mixed_fleet_any_order(void)
{
	static const char *const files[] = {
		"x86/bergamo-04.json", "x86/gnr-03.json", "x86/hygon-01.json",
		"x86/snb-ep.json", "x86/spr-05.json",
		"arm64/real-writable/altra.json",
		"arm64/real-writable/cortex-a72.json",
		"arm64/real-writable/graviton3.json",
	};
	enum { N = sizeof(files) / sizeof(files[0]) };
	struct cf_report *r[N], *rev[N];
	size_t pool_of[N], n1 = 0;

	for (size_t i = 0; i < N; i++) {
		r[i] = test_load_report(files[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
		rev[N - 1 - i] = r[i];
	}
	CU_ASSERT_EQUAL_FATAL(cf_pools_partition((const struct cf_report *const *)r,
						 N, pool_of, &n1), CF_OK);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			char vi[32] = "", vj[32] = "";
			if (pool_of[i] != pool_of[j])
				continue;
			CU_ASSERT_STRING_EQUAL(cf_report_arch(r[i]),
					       cf_report_arch(r[j]));
			cf_report_vendor(r[i], vi, sizeof(vi));
			cf_report_vendor(r[j], vj, sizeof(vj));
			CU_ASSERT_STRING_EQUAL(vi, vj);
		}
	/* bergamo-04 AMD, hygon-01 Hygon, spr-05 Intel. */
	CU_ASSERT_NOT_EQUAL(pool_of[0], pool_of[2]);
	CU_ASSERT_NOT_EQUAL(pool_of[0], pool_of[4]);
	CU_ASSERT_NOT_EQUAL(pool_of[2], pool_of[4]);
	/* Every arm64 field of these three is writable (tests/data/README). */
	CU_ASSERT_EQUAL(pool_of[5], pool_of[6]);
	CU_ASSERT_EQUAL(pool_of[5], pool_of[7]);
	want_same_pools(r, rev, N);
	for (size_t i = 0; i < N; i++)
		cf_report_destroy(r[i]);
}

/* The sixteen arm64 reports of tests/data (example fleet, the lab's
 * hosts, the real dumps): forwards, backwards and interleaved, one answer.
 * Before, in report order, these gave 9 pools one way and 8 the other. */
static void test_pool_partition_order_free(void)
{
	static const char *const files[] = {
		"fleet/a72-01.json", "fleet/a72-02.json", "fleet/n1-01.json",
		"fleet/n1-02.json", "fleet/v1-01.json", "fleet/v1-02.json",
		"lab/reports/a53.json", "lab/reports/a57.json",
		"lab/reports/a64fx.json", "lab/reports/a72.json",
		"lab/reports/a76.json", "lab/reports/max.json",
		"lab/reports/n1.json", "arm64/real-writable/altra.json",
		"arm64/real-writable/cortex-a72.json",
		"arm64/real-writable/graviton3.json",
	};
	enum { N = sizeof(files) / sizeof(files[0]) };
	struct cf_report *r[N], *o[N];

	for (size_t i = 0; i < N; i++) {
		r[i] = test_load_report(files[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	for (size_t i = 0; i < N; i++)
		o[i] = r[N - 1 - i];
	want_same_pools(r, o, N);
	for (size_t i = 0; i < N; i++)
		o[i] = r[(i * 5) % N];  /* 5 and 16 are coprime */
	want_same_pools(r, o, N);
	for (size_t i = 0; i < N; i++)
		cf_report_destroy(r[i]);
}

/* One host id twice (the raw and the writable dump of one machine). */
static void test_pool_partition_duplicate_id(void)
{
	struct cf_report *r[2] = {
		test_load_report("arm64/real/altra.json"),
		test_load_report("arm64/real-writable/altra.json"),
	};
	size_t pool_of[2], n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r[1]);
	CU_ASSERT_EQUAL(cf_pools_partition((const struct cf_report *const *)r, 2,
					   pool_of, &n), CF_EDUPLICATE);
	cf_report_destroy(r[0]);
	cf_report_destroy(r[1]);
}

/* A configuration table hands out one object per configuration, and only
 * for configurations equal in every value, writable bit and present
 * register (engine/config.h: cf_config_equal is stricter than the
 * fingerprint, which reads a register at 0 as absent). */
static void test_config_table_shares_equal_only(void)
{
	struct cf_report *a = test_load_report("arm64/real-writable/altra.json");
	struct cf_report *b = test_load_report("arm64/real-writable/altra.json");
	struct cf_config_table *t = NULL;
	struct cf_config *ca, *cb, *wr = NULL, *gone = NULL, *added = NULL, *c;
	const struct cf_catalog *cat;
	size_t cap;
	int afr0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(cf_config_table_create(&t), CF_OK);
	ca = cf_config_ref((struct cf_config *)cf_report_config(a));
	cb = cf_config_ref((struct cf_config *)cf_report_config(b));
	CU_ASSERT_PTR_NOT_EQUAL(ca, cb); /* two parses, two objects */
	CU_ASSERT_EQUAL(cf_config_table_share(t, &ca), CF_OK);
	CU_ASSERT_EQUAL(cf_config_table_share(t, &cb), CF_OK);
	CU_ASSERT_PTR_EQUAL(ca, cb);
	CU_ASSERT_PTR_EQUAL(ca, cf_report_config(a));
	CU_ASSERT_EQUAL(cf_config_table_count(t), 1);
	/* One writable bit: bit 0 of CTR_EL0's mask (the file writes all
	 * ones there). */
	cat = ca->arch->catalog;
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(ca, &wr), CF_OK);
	c = wr;
	c->wr[cf_catalog_find_name(cat, "CTR_EL0")] ^= 1;
	cf_config_seal(wr);
	CU_ASSERT_EQUAL(cf_config_table_share(t, &wr), CF_OK);
	CU_ASSERT_PTR_EQUAL(wr, c);
	CU_ASSERT_PTR_NOT_EQUAL(wr, ca);
	/* One present register: ID_AA64AFR0_EL1, 0 in the file, left out. */
	afr0 = cf_catalog_find_name(cat, "ID_AA64AFR0_EL1");
	CU_ASSERT_FATAL(afr0 >= 0 && ca->present[afr0] && ca->val[afr0] == 0);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(ca, &gone), CF_OK);
	c = gone;
	cf_config_unset(gone, cat->regs[afr0].key);
	cf_config_seal(gone);
	CU_ASSERT_EQUAL(cf_config_table_share(t, &gone), CF_OK);
	CU_ASSERT_PTR_EQUAL(gone, c);
	CU_ASSERT_PTR_NOT_EQUAL(gone, ca);
	/* One more: a capability the file does not list, at 0.  The same
	 * fingerprint (cpufleet.h: a capability at 0 counts as absent in the
	 * identity), another configuration. */
	for (cap = 0; cap < cat->nregs; cap++)
		if (cat->regs[cap].pseudo == 2 && !ca->present[cap])
			break;
	CU_ASSERT_FATAL(cap < cat->nregs);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(ca, &added), CF_OK);
	c = added;
	CU_ASSERT_EQUAL(cf_config_set_fixed(added, cat->regs[cap].key, 0), CF_OK);
	cf_config_seal(added);
	CU_ASSERT_EQUAL(added->fp, ca->fp);
	CU_ASSERT_EQUAL(cf_config_table_share(t, &added), CF_OK);
	CU_ASSERT_PTR_EQUAL(added, c);
	CU_ASSERT_PTR_NOT_EQUAL(added, ca);
	CU_ASSERT_EQUAL(cf_config_table_count(t), 4);
	/* The table may go first: what it handed out keeps its references. */
	cf_config_table_destroy(t);
	CU_ASSERT_EQUAL(ca->val[afr0], 0);
	cf_config_unref(ca);
	cf_config_unref(cb);
	cf_config_unref(wr);
	cf_config_unref(gone);
	cf_config_unref(added);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* The baseline of reports sharing their configurations through a table
 * and that of the same files parsed each on its own: the same profile
 * document byte for byte, the same verdicts, fingerprints and identities.
 * n1-01 and n1-02 are one CPU (tests/data/fleet: only the host id, name and
 * kernel differ), so shared they are one object. */
static void test_pool_shared_same_profile(void)
{
	static const char *const files[] = {
		"fleet/n1-01.json", "fleet/n1-02.json", "fleet/v1-01.json",
		"fleet/v1-02.json", "fleet/a72-01.json", "fleet/a72-02.json",
	};
	enum { N = sizeof(files) / sizeof(files[0]) };
	struct cf_report *own[N], *shared[N];
	struct cf_config_table *t = NULL;
	struct cf_pool *p[2] = { NULL, NULL };
	struct cf_profile *pr[2] = { NULL, NULL };
	struct cf_verdict *v = cf_verdict_create();
	char *doc[2] = { NULL, NULL };
	struct cf_diag d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL_FATAL(cf_config_table_create(&t), CF_OK);
	for (size_t i = 0; i < N; i++) {
		own[i] = test_load_report(files[i]);
		shared[i] = test_load_report(files[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(own[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(shared[i]);
		CU_ASSERT_EQUAL(cf_report_share(shared[i], t), CF_OK);
	}
	CU_ASSERT_PTR_EQUAL(cf_report_config(shared[0]),
			    cf_report_config(shared[1]));
	CU_ASSERT_PTR_NOT_EQUAL(cf_report_config(own[0]),
				cf_report_config(own[1]));
	CU_ASSERT_EQUAL(cf_config_table_count(t), 3);
	cf_config_table_destroy(t);
	for (int k = 0; k < 2; k++) {
		struct cf_report **rs = k ? shared : own;
		CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p[k]), CF_OK);
		for (size_t i = 0; i < N; i++)
			CU_ASSERT_EQUAL(cf_pool_add(p[k], rs[i], &d), CF_OK);
		CU_ASSERT_EQUAL(cf_pool_config_count(p[k]), 3);
		CU_ASSERT_EQUAL_FATAL(cf_baseline(p[k], &pr[k]), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr[k], &doc[k]), CF_OK);
	}
	CU_ASSERT_STRING_EQUAL(doc[0], doc[1]);
	for (size_t i = 0; i < N; i++) {
		char *vd[2] = { NULL, NULL }, *rd[2] = { NULL, NULL };
		char id[2][CF_CONTENT_ID_MAX];
		for (int k = 0; k < 2; k++) {
			struct cf_report **rs = k ? shared : own;
			CU_ASSERT_EQUAL(cf_check(pr[k], rs[i], v), CF_OK);
			CU_ASSERT_EQUAL(cf_verdict_to_json(v, &vd[k]), CF_OK);
			CU_ASSERT_EQUAL(cf_report_content_id(rs[i], id[k],
							     sizeof(id[k])), CF_OK);
			CU_ASSERT_EQUAL(cf_report_to_json(rs[i], &rd[k]), CF_OK);
		}
		CU_ASSERT_STRING_EQUAL(vd[0] ? vd[0] : "", vd[1] ? vd[1] : "");
		CU_ASSERT_STRING_EQUAL(id[0], id[1]);
		CU_ASSERT_STRING_EQUAL(rd[0] ? rd[0] : "", rd[1] ? rd[1] : "");
		CU_ASSERT_EQUAL(cf_report_fingerprint(own[i]),
				cf_report_fingerprint(shared[i]));
		for (int k = 0; k < 2; k++) {
			free(vd[k]);
			free(rd[k]);
		}
	}
	for (int k = 0; k < 2; k++) {
		free(doc[k]);
		cf_profile_destroy(pr[k]);
		cf_pool_destroy(p[k]);
	}
	for (size_t i = 0; i < N; i++) {
		cf_report_destroy(own[i]);
		cf_report_destroy(shared[i]);
	}
	cf_verdict_destroy(v);
}

/* cf_pool_add_many is cf_pool_add in order (cpufleet.h): the same hosts,
 * groups and baseline document; a duplicate id stops it, the hosts before
 * it added. */
static void test_pool_add_many_as_one_by_one(void)
{
	enum { N = 3000 };
	struct cf_report *seed[2] = { test_load_report("fleet/n1-01.json"),
				      test_load_report("fleet/v1-01.json") };
	struct cf_report *rs[N];
	struct cf_pool *p[2] = { NULL, NULL };
	struct cf_profile *pr[2] = { NULL, NULL };
	char *doc[2] = { NULL, NULL }, id[32];
	struct cf_diag d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed[1]);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "h-%d", i);
		CU_ASSERT_EQUAL_FATAL(cf_report_clone_as(seed[i % 3 == 0], id,
							 &rs[i]), CF_OK);
	}
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p[k]), CF_OK);
		if (k)
			CU_ASSERT_EQUAL(cf_pool_add_many(p[k],
				(const struct cf_report *const *)rs, N, &d), CF_OK);
		for (int i = 0; !k && i < N; i++)
			CU_ASSERT_EQUAL(cf_pool_add(p[k], rs[i], &d), CF_OK);
		CU_ASSERT_EQUAL(cf_pool_host_count(p[k]), N);
		CU_ASSERT_EQUAL(cf_pool_config_count(p[k]), 2);
		CU_ASSERT_EQUAL_FATAL(cf_baseline(p[k], &pr[k]), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr[k], &doc[k]), CF_OK);
	}
	CU_ASSERT_STRING_EQUAL(doc[0], doc[1]);
	/* Again on the second pool: the first host is there already. */
	CU_ASSERT_EQUAL(cf_pool_add_many(p[1], (const struct cf_report *const *)
					 (rs + N - 1), 1, &d), CF_EDUPLICATE);
	CU_ASSERT_EQUAL(cf_pool_host_count(p[1]), N);
	for (int k = 0; k < 2; k++) {
		free(doc[k]);
		cf_profile_destroy(pr[k]);
		cf_pool_destroy(p[k]);
	}
	for (int i = 0; i < N; i++)
		cf_report_destroy(rs[i]);
	cf_report_destroy(seed[0]);
	cf_report_destroy(seed[1]);
}

static CU_TestInfo tests[] = {
	TEST(test_pool_partition),
	TEST(test_pool_partition_mixed_fleet_any_order),
	TEST(test_pool_partition_order_free),
	TEST(test_pool_partition_duplicate_id),
	TEST(test_pool_dedups_by_configuration),
	TEST(test_pool_rejects_unknown_arch),
	TEST(test_pool_empty_baseline),
	TEST(test_config_table_shares_equal_only),
	TEST(test_pool_shared_same_profile),
	TEST(test_pool_add_many_as_one_by_one),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_pool = { "pool", NULL, NULL, NULL, NULL, tests };
