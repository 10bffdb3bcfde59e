/* fleet/: upload, pools, baseline and publish, check, matrix and history
 * against a temporary database.  Expectations come from the test data
 * (tests/data/README.md: n1-0x are the same Altra dump, v1-0x the same
 * Graviton3 dump, as KVM 6.12 reports them) and from the rules db/db.h and
 * fleet/fleet.h document, never from running the code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/fleet.h"
#include "tests/unit/suites.h"

static char dir[64];
static struct cf_db *db;
static struct cf_fleet_direct io;
static struct cf_fleet fl;

#define T1 "2026-11-22T04:00:00.000Z"
#define T2 "2026-11-22T05:00:00.000Z"
#define T3 "2026-11-22T06:00:00.000Z"

static void set_up(void)
{
	char path[128];

	db = test_db_open_tmp("cf_fleet_test", dir, path);
	io = (struct cf_fleet_direct){ db, T1 };
	cf_fleet_direct(&fl, &io);
}

static void tear_down(void)
{
	test_db_close_tmp(db, dir);
	db = NULL;
}

/* Uploads tests/data/fleet/HOST.json with report_id RID (NULL: none). */
static enum cf_err upload(const char *host, const char *rid,
			  const char *only, struct cf_fleet_upload *out)
{
	char rel[64];
	struct cf_fleet_upload tmp;
	struct cf_diag d = { "" };
	struct cf_report *r;
	enum cf_err err;

	snprintf(rel, sizeof(rel), "fleet/%s.json", host);
	r = test_load_report(rel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	if (rid)
		CU_ASSERT_EQUAL(cf_report_set_id(r, rid), CF_OK);
	err = cf_fleet_upload(&fl, r, only, out ? out : &tmp, &d);
	cf_report_destroy(r);
	return err;
}

static void upload_all(void)
{
	static const char *const h[] = { "n1-01", "n1-02", "v1-01", "v1-02" };

	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(upload(h[i], NULL, NULL, NULL), CF_OK);
}

static enum cf_err pool(const char *name, const char *hosts)
{
	struct cf_diag d = { "" };
	bool created;

	return cf_fleet_pool_put(&fl, name, "{}", hosts, "test", &created, &d);
}

static struct cf_db_stats stats(void)
{
	struct cf_db_stats st = { 0 };
	int schema;

	CU_ASSERT_EQUAL(cf_fleet_stats(&fl, &st, &schema), CF_OK);
	return st;
}

/* db/db.h: a new report is stored, the same report_id again is "known",
 * the same content under a new id a sighting of the host's latest. */
static void test_upload_outcomes(void)
{
	struct cf_fleet_upload u;

	CU_ASSERT_EQUAL(upload("n1-01", "r1", NULL, &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT_STRING_EQUAL(u.report_id, "r1");
	CU_ASSERT_STRING_EQUAL(u.received_at, T1);
	CU_ASSERT_EQUAL(upload("n1-01", "r1", NULL, &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_KNOWN);
	CU_ASSERT_EQUAL(upload("n1-01", "r2", NULL, &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_SEEN_AGAIN);
	CU_ASSERT_STRING_EQUAL(cf_fleet_upload_status_name(u.status),
			       "seen_again");
	/* The same report_id with another host's content: refused. */
	CU_ASSERT_EQUAL(upload("n1-02", "r1", NULL, &u), CF_ECONFLICT);
	struct cf_db_stats st = stats();
	CU_ASSERT_EQUAL(st.hosts, 1);
	CU_ASSERT_EQUAL(st.reports, 1);
	CU_ASSERT_EQUAL(st.sightings, 2);
}

/* Without a report_id the same document is the same upload. */
static void test_upload_without_id(void)
{
	struct cf_fleet_upload a, b;

	CU_ASSERT_EQUAL(upload("v1-01", NULL, NULL, &a), CF_OK);
	CU_ASSERT_EQUAL(a.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(strncmp(a.report_id, "sha256-", 7), 0);
	CU_ASSERT_EQUAL(strlen(a.report_id), 7 + 40);
	CU_ASSERT_EQUAL(upload("v1-01", NULL, NULL, &b), CF_OK);
	CU_ASSERT_EQUAL(b.status, CF_FLEET_KNOWN);
	CU_ASSERT_STRING_EQUAL(a.report_id, b.report_id);
}

/* An agent uploads for its own host only; refusals store nothing. */
static void test_upload_refused(void)
{
	struct cf_report *r = test_load_report("fleet/a72-01.json");
	struct cf_report *bad = NULL;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(upload("n1-01", "x", "n1-02", &u), CF_EDENIED);
	CU_ASSERT_EQUAL(stats().hosts, 0);
	CU_ASSERT_EQUAL(upload("n1-01", "x", "n1-01", &u), CF_OK);
	/* A host id no /v1/hosts/{id} path can name (RFC 3986 5.2.4). */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cf_report_clone_as(r, "a/b", &bad), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_upload(&fl, bad, NULL, &u, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "a/b"));
	cf_report_destroy(bad);
	bad = NULL;
	CU_ASSERT_EQUAL(cf_report_clone_as(r, "..", &bad), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_upload(&fl, bad, NULL, &u, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(stats().hosts, 1);
	cf_report_destroy(bad);
	cf_report_destroy(r);
}

/* Members are the explicit hosts that have reported, by id. */
static void test_pool_resolve(void)
{
	struct cf_fleet_pool *p = NULL;
	struct cf_diag d = { "" };

	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"v1-01\",\"ghost\",\"n1-01\"]"), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_pool_resolve(&fl, "p", &p, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(p->n, 2);
	CU_ASSERT_STRING_EQUAL(p->m[0].host, "n1-01");
	CU_ASSERT_STRING_EQUAL(p->m[1].host, "v1-01");
	CU_ASSERT_STRING_EQUAL(cf_report_host_id(p->m[1].report), "v1-01");
	CU_ASSERT_STRING_EQUAL(cf_report_arch(p->m[0].report), "arm64");
	CU_ASSERT_STRING_EQUAL(p->m[0].sighting.received_at, T1);
	cf_fleet_pool_destroy(p);
	p = NULL;
	CU_ASSERT_EQUAL(cf_fleet_pool_resolve(&fl, "nope", &p, &d),
			CF_ENOTFOUND);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "nope"));
}

/* A pool of two architectures is refused and not stored. */
static void test_pool_one_arch(void)
{
	struct cf_report *x = test_load_report("x86/spr-05.json");
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(cf_fleet_upload(&fl, x, NULL, &u, &d), CF_OK);
	cf_report_destroy(x);
	upload_all();
	CU_ASSERT_EQUAL(pool("mixed", "[\"n1-01\",\"spr-05\"]"), CF_ECONFLICT);
	CU_ASSERT_EQUAL(stats().pools, 0);
	CU_ASSERT_EQUAL(pool("arm", "[\"n1-01\",\"v1-01\"]"), CF_OK);
	CU_ASSERT_EQUAL(stats().pools, 1);
}

static int collect(void *ctx, const char *host, const struct cf_verdict *v)
{
	char *out = ctx;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s=%d ", host, cf_verdict_compatible(v));
	return 0;
}

/* The baseline of identical hosts is feasible and accepted on each;
 * publishing gives versions 1, 2... of the name (db/db.h). */
static void test_baseline_publish(void)
{
	struct cf_fleet_baseline b;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	const char *hosts[] = { "n1-01", "n1-02" };
	char seen[256] = "";

	upload_all();
	CU_ASSERT_EQUAL(pool("n1", "[\"n1-01\",\"n1-02\"]"), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "n1", NULL, "t", &b, &d), CF_OK);
	CU_ASSERT_TRUE(cf_profile_feasible(b.profile));
	CU_ASSERT_EQUAL(b.version, 0);
	CU_ASSERT_EQUAL(b.pool->n, 2);
	CU_ASSERT_PTR_NOT_NULL(b.json);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL(stats().profile_versions, 0);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "n1", "gen", "t", &b, &d), CF_OK);
	CU_ASSERT_EQUAL(b.version, 1);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "n1", "gen", "t", &b, &d), CF_OK);
	CU_ASSERT_EQUAL(b.version, 2);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_profile_load(&fl, "gen", 1, &pr, &d),
			      CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pr, hosts, 2, 0, collect, seen, &d),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(seen, "n1-01=1 n1-02=1 ");
	cf_profile_destroy(pr);
	CU_ASSERT_EQUAL(cf_fleet_profile_load(&fl, "gen", 3, &pr, &d),
			CF_ENOTFOUND);
	CU_ASSERT_PTR_NULL(pr);
}

/* A pool none of whose members has reported has no baseline. */
static void test_baseline_empty(void)
{
	struct cf_fleet_baseline b;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(pool("e", "[\"ghost\"]"), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "e", "e", "t", &b, &d),
			CF_EEMPTY);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "none", NULL, "t", &b, &d),
			CF_ENOTFOUND);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL(stats().profile_versions, 0);
}

/* A Graviton3 guest on an Altra host: ID_AA64PFR0_EL1 differs (RAS 2
 * against 1, 0x21111112 vs 0x11111112 in the dumps) in a field the 6.12
 * masks do not make writable (0x0f00ffff: bits 31:28 clear). */
static int pfr0(void *ctx, const char *host, const struct cf_verdict *v)
{
	bool *named = ctx;

	(void)host;
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		if (!strcmp(cf_verdict_reason(v, i)->reg, "ID_AA64PFR0_EL1"))
			*named = true;
	return 0;
}

static void test_check(void)
{
	struct cf_report *v1 = test_load_report("fleet/v1-01.json");
	struct cf_report *x = test_load_report("x86/spr-05.json");
	struct cf_profile *pv = NULL, *px = NULL;
	struct cf_diag d = { "" };
	const char *own[] = { "v1-02" }, *other[] = { "n1-01" };
	const char *ghost[] = { "v1-02", "ghost" };
	char seen[256] = "";
	bool named = false;

	upload_all();
	CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(v1, &pv), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(x, &px), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pv, own, 1, 0, collect, seen, &d),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(seen, "v1-02=1 ");
	seen[0] = '\0';
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pv, other, 1, 0, collect, seen, &d),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(seen, "n1-01=0 ");
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pv, other, 1, 0, pfr0, &named, &d),
			CF_OK);
	CU_ASSERT_TRUE(named);
	seen[0] = '\0';
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pv, ghost, 2, 0, collect, seen, &d),
			CF_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(seen, "v1-02=1 ");
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "ghost"));
	/* An x86 profile on an arm64 host: refused (a verdict, no error). */
	seen[0] = '\0';
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, px, own, 1, 0, collect, seen, &d),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(seen, "v1-02=0 ");
	cf_profile_destroy(pv);
	cf_profile_destroy(px);
	cf_report_destroy(v1);
	cf_report_destroy(x);
}

/* Same dump, same verdicts: n1-01 <-> n1-02 accepted; across models the
 * ID registers differ in fields KVM 6.12 keeps (MIDR_EL1 is writable only
 * with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, 6.15+): refused both ways. */
static void test_matrix(void)
{
	struct cf_fleet_matrix m;
	struct cf_fleet_baseline b;
	struct cf_diag d = { "" };

	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"n1-02\",\"v1-01\"]"), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(m.pool->n, 3);
	CU_ASSERT_PTR_NULL(m.base);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_TRUE(m.cell[i * 3 + i].compatible);
	CU_ASSERT_TRUE(m.cell[0 * 3 + 1].compatible);
	CU_ASSERT_TRUE(m.cell[1 * 3 + 0].compatible);
	CU_ASSERT_EQUAL(m.cell[0 * 3 + 1].reasons, 0);
	CU_ASSERT_FALSE(m.cell[2 * 3 + 0].compatible);
	CU_ASSERT_FALSE(m.cell[0 * 3 + 2].compatible);
	CU_ASSERT_TRUE(m.cell[2 * 3 + 0].reasons > 0);
	cf_fleet_matrix_clear(&m);
	/* With a published profile of the Altra hosts: its row. */
	CU_ASSERT_EQUAL(pool("n1", "[\"n1-01\",\"n1-02\"]"), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "n1", "n1", "t", &b, &d), CF_OK);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_matrix(&fl, "n1", NULL, &m, &d), CF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.base);
	CU_ASSERT_STRING_EQUAL(m.profile, "n1");
	CU_ASSERT_TRUE(m.base[0].compatible && m.base[1].compatible);
	cf_fleet_matrix_clear(&m);
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "nope", NULL, &m, &d),
			CF_ENOTFOUND);
	cf_fleet_matrix_clear(&m);
}

/* A host's report at a time is the last one received at or before it;
 * the history lists sightings newest first (db/db.h). */
static void test_history(void)
{
	struct cf_fleet_history h;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(upload("n1-01", "a", NULL, NULL), CF_OK);
	io.now = T3;
	CU_ASSERT_EQUAL(upload("n1-01", "b", NULL, NULL), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_history(&fl, "n1-01", T2, 0, &h, &d),
			      CF_OK);
	CU_ASSERT_STRING_EQUAL(h.at.report_id, "a");
	CU_ASSERT_STRING_EQUAL(h.host.id, "n1-01");
	CU_ASSERT_STRING_EQUAL(h.host.hostname, "n1-01.dc1");
	CU_ASSERT_STRING_EQUAL(h.labels, "{}");
	CU_ASSERT_PTR_NOT_NULL(strstr(h.report, "\"n1-01\""));
	CU_ASSERT_EQUAL_FATAL(h.n, 2);
	CU_ASSERT_STRING_EQUAL(h.sightings[0].report_id, "b");
	CU_ASSERT_STRING_EQUAL(h.sightings[1].report_id, "a");
	cf_fleet_history_clear(&h);
	CU_ASSERT_EQUAL(cf_fleet_history(&fl, "n1-01", NULL, 1, &h, &d), CF_OK);
	CU_ASSERT_STRING_EQUAL(h.at.report_id, "b");
	CU_ASSERT_EQUAL(h.n, 1);
	cf_fleet_history_clear(&h);
	CU_ASSERT_EQUAL(cf_fleet_history(&fl, "n1-01", "2026-11-21T00:00:00.000Z",
					 0, &h, &d), CF_ENOTFOUND);
	cf_fleet_history_clear(&h);
	CU_ASSERT_EQUAL(cf_fleet_history(&fl, "ghost", NULL, 0, &h, &d),
			CF_ENOTFOUND);
	cf_fleet_history_clear(&h);
}

static CU_TestInfo tests[] = {
	TEST(test_upload_outcomes),
	TEST(test_upload_without_id),
	TEST(test_upload_refused),
	TEST(test_pool_resolve),
	TEST(test_pool_one_arch),
	TEST(test_baseline_publish),
	TEST(test_baseline_empty),
	TEST(test_check),
	TEST(test_matrix),
	TEST(test_history),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_fleet = { "fleet", NULL, NULL, set_up, tear_down, tests };
