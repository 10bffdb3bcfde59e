/* fleet/: upload, pools, baseline and publish, check, matrix and history
 * against a temporary database.  Expectations come from the test data
 * (tests/data/README.md: n1-0x are the same Altra dump, v1-0x the same
 * Graviton3 dump, as KVM 6.12 reports them) and from the rules db/db.h and
 * fleet/fleet.h document, never from running the code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "fleet/fleet.h"
#include "server/writer.h"
#include "tests/unit/suites.h"

static char dir[64], path[128];
static struct cf_db *db;
static struct cf_fleet_direct io;
static struct cf_fleet fl;

#define T1 "2026-11-22T04:00:00.000Z"
#define T2 "2026-11-22T05:00:00.000Z"
#define T3 "2026-11-22T06:00:00.000Z"

static void set_up(void)
{
	db = test_db_open_tmp("cf_fleet_test", dir, path);
	io = (struct cf_fleet_direct){ db, T1 };
	cf_fleet_direct(&fl, &io);
}

static void tear_down(void)
{
	test_db_close_tmp(db, dir);
	db = NULL;
}

/* Uploads tests/data/fleet/HOST.json with report_id RID (NULL: none),
 * with token TOK (NULL: none). */
static enum cf_err upload_tok(const char *host, const char *rid,
			     const struct cf_db_token *tok,
			     struct cf_fleet_upload *out)
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
	err = cf_fleet_upload(&fl, r, tok, out ? out : &tmp, &d);
	cf_report_destroy(r);
	return err;
}

static enum cf_err upload(const char *host, const char *rid,
			  struct cf_fleet_upload *out)
{
	return upload_tok(host, rid, NULL, out);
}

/* A new token of ROLE (HOST: an agent's) in the test's database. */
static struct cf_db_token new_token(enum cf_db_role role, const char *host)
{
	char secret[CF_DB_TOKEN_MAX];
	struct cf_db_token t;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(cf_db_token_create(db, role, host, T1, secret, &t, &d),
			CF_OK);
	return t;
}

static void upload_all(void)
{
	static const char *const h[] = { "n1-01", "n1-02", "v1-01", "v1-02" };

	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(upload(h[i], NULL, NULL), CF_OK);
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

	CU_ASSERT_EQUAL(upload("n1-01", "r1", &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT_STRING_EQUAL(u.report_id, "r1");
	CU_ASSERT_STRING_EQUAL(u.received_at, T1);
	CU_ASSERT_EQUAL(upload("n1-01", "r1", &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_KNOWN);
	CU_ASSERT_EQUAL(upload("n1-01", "r2", &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_SEEN_AGAIN);
	CU_ASSERT_STRING_EQUAL(cf_fleet_upload_status_name(u.status),
			       "seen_again");
	/* The same report_id with another host's content: refused. */
	CU_ASSERT_EQUAL(upload("n1-02", "r1", &u), CF_ECONFLICT);
	struct cf_db_stats st = stats();
	CU_ASSERT_EQUAL(st.hosts, 1);
	CU_ASSERT_EQUAL(st.reports, 1);
	CU_ASSERT_EQUAL(st.sightings, 2);
}

/* Without a report_id the same document is the same upload. */
static void test_upload_without_id(void)
{
	struct cf_fleet_upload a, b;

	CU_ASSERT_EQUAL(upload("v1-01", NULL, &a), CF_OK);
	CU_ASSERT_EQUAL(a.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(strncmp(a.report_id, "sha256-", 7), 0);
	CU_ASSERT_EQUAL(strlen(a.report_id), 7 + 40);
	CU_ASSERT_EQUAL(upload("v1-01", NULL, &b), CF_OK);
	CU_ASSERT_EQUAL(b.status, CF_FLEET_KNOWN);
	CU_ASSERT_STRING_EQUAL(a.report_id, b.report_id);
}

/* fleet.h: a token revoked by the time the report would be stored refuses
 * it, whoever looked the token up before (the server's header check), and
 * stores nothing; a retry of a stored report too.  A token id no token
 * has is refused alike; other tokens are not affected. */
static void test_upload_revoked_token(void)
{
	struct cf_db_token agent = new_token(CF_DB_ROLE_AGENT, "n1-01");
	struct cf_db_token admin = new_token(CF_DB_ROLE_ADMIN, NULL);
	struct cf_db_token gone = admin;
	struct cf_diag d = { "" };
	struct cf_fleet_upload u;

	CU_ASSERT_EQUAL(upload_tok("n1-01", "a", &agent, &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(cf_db_token_revoke(db, agent.id, T1, &d), CF_OK);
	/* The caller still holds the token as it was looked up. */
	CU_ASSERT_STRING_EQUAL(agent.revoked_at, "");
	CU_ASSERT_EQUAL(upload_tok("n1-01", "b", &agent, &u), CF_EREVOKED);
	CU_ASSERT_EQUAL(upload_tok("n1-01", "a", &agent, &u), CF_EREVOKED);
	snprintf(gone.id, sizeof(gone.id), "%s", "0000000000");
	CU_ASSERT_EQUAL(upload_tok("n1-02", "c", &gone, &u), CF_EREVOKED);
	struct cf_db_stats st = stats();
	CU_ASSERT_EQUAL(st.hosts, 1);
	CU_ASSERT_EQUAL(st.reports, 1);
	CU_ASSERT_EQUAL(st.sightings, 1);
	CU_ASSERT_EQUAL(upload_tok("n1-02", "c", &admin, &u), CF_OK);
	CU_ASSERT_EQUAL(upload("n1-01", "b", &u), CF_OK);
	CU_ASSERT_EQUAL(stats().sightings, 3);
}

/* An agent uploads for its own host only; refusals store nothing. */
static void test_upload_refused(void)
{
	struct cf_report *r = test_load_report("fleet/a72-01.json");
	struct cf_report *bad = NULL;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };

	struct cf_db_token n1_02 = new_token(CF_DB_ROLE_AGENT, "n1-02");
	struct cf_db_token n1_01 = new_token(CF_DB_ROLE_AGENT, "n1-01");

	CU_ASSERT_EQUAL(upload_tok("n1-01", "x", &n1_02, &u), CF_EDENIED);
	CU_ASSERT_EQUAL(stats().hosts, 0);
	CU_ASSERT_EQUAL(upload_tok("n1-01", "x", &n1_01, &u), CF_OK);
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
	CU_ASSERT_EQUAL_FATAL(p->ncfg, 2);
	CU_ASSERT_STRING_EQUAL(cf_report_host_id(p->cfg[p->m[1].config].report),
			       "v1-01");
	CU_ASSERT_STRING_EQUAL(cf_report_arch(p->cfg[p->m[0].config].report),
			       "arm64");
	CU_ASSERT_STRING_EQUAL(p->m[0].sighting.received_at, T1);
	cf_fleet_pool_destroy(p);
	p = NULL;
	CU_ASSERT_EQUAL(cf_fleet_pool_resolve(&fl, "nope", &p, &d),
			CF_ENOTFOUND);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "nope"));
}

/* A member's report is its latest sighting's (db/db.h): a second upload
 * of another content replaces the first, one of the same content is a
 * sighting of it. */
static void test_pool_latest(void)
{
	struct cf_fleet_pool *p = NULL;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(upload("n1-01", "old", NULL), CF_OK);
	CU_ASSERT_EQUAL(upload("v1-01", "v", NULL), CF_OK);
	io.now = T2;
	CU_ASSERT_EQUAL(upload("n1-02", "x", NULL), CF_OK);
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"v1-01\"]"), CF_OK);
	io.now = T3;
	CU_ASSERT_EQUAL(upload("n1-01", "new", NULL), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_pool_resolve(&fl, "p", &p, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(p->n, 2);
	CU_ASSERT_STRING_EQUAL(p->m[0].host, "n1-01");
	CU_ASSERT_STRING_EQUAL(p->m[0].sighting.report_id, "new");
	CU_ASSERT_STRING_EQUAL(p->m[0].sighting.received_at, T3);
	CU_ASSERT_FALSE(p->m[0].sighting.changed);
	CU_ASSERT_STRING_EQUAL(p->m[1].sighting.report_id, "v");
	CU_ASSERT_TRUE(p->m[1].sighting.changed);
	cf_fleet_pool_destroy(p);
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

/* The cell of hosts I -> J of M: that of their configurations. */
#define CELL(m, i, j) \
	((m).cell[(m).pool->m[i].config * (m).pool->ncfg + (m).pool->m[j].config])

/* Same dump, same verdicts: n1-01 <-> n1-02 accepted; across models the
 * ID registers differ in fields KVM 6.12 keeps (MIDR_EL1 is writable only
 * with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, 6.15+): refused both ways.
 * n1-01 and n1-02 differ only in their kernel release and names
 * (tests/data/README.md), so they are one configuration: its hosts are
 * listed once under it, and a pair of them is one cell. */
static void test_matrix(void)
{
	struct cf_fleet_matrix m;
	struct cf_fleet_baseline b;
	struct cf_diag d = { "" };

	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"n1-02\",\"v1-01\"]"), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(m.pool->n, 3);
	CU_ASSERT_EQUAL_FATAL(m.pool->ncfg, 2);
	CU_ASSERT_EQUAL(m.pool->m[0].config, 0);
	CU_ASSERT_EQUAL(m.pool->m[1].config, 0);
	CU_ASSERT_EQUAL(m.pool->m[2].config, 1);
	CU_ASSERT_EQUAL(m.pool->cfg[0].n, 2);
	CU_ASSERT_EQUAL(m.pool->cfg[0].first, 0);
	CU_ASSERT_EQUAL(m.pool->cfg[1].n, 1);
	CU_ASSERT_EQUAL(m.pool->cfg[1].first, 2);
	CU_ASSERT_PTR_NULL(m.base);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_TRUE(CELL(m, i, i).compatible);
	CU_ASSERT_TRUE(CELL(m, 0, 1).compatible);
	CU_ASSERT_TRUE(CELL(m, 1, 0).compatible);
	CU_ASSERT_EQUAL(CELL(m, 0, 1).reasons, 0);
	CU_ASSERT_FALSE(CELL(m, 2, 0).compatible);
	CU_ASSERT_FALSE(CELL(m, 0, 2).compatible);
	CU_ASSERT_TRUE(CELL(m, 2, 0).reasons > 0);
	cf_fleet_matrix_clear(&m);
	/* With a published profile of the Altra hosts: its row. */
	CU_ASSERT_EQUAL(pool("n1", "[\"n1-01\",\"n1-02\"]"), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "n1", "n1", "t", &b, &d), CF_OK);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_matrix(&fl, "n1", NULL, &m, &d), CF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.base);
	CU_ASSERT_STRING_EQUAL(m.profile, "n1");
	CU_ASSERT_EQUAL_FATAL(m.pool->ncfg, 1);
	CU_ASSERT_TRUE(m.base[m.pool->m[0].config].compatible &&
		       m.base[m.pool->m[1].config].compatible);
	cf_fleet_matrix_clear(&m);
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "nope", NULL, &m, &d),
			CF_ENOTFOUND);
	cf_fleet_matrix_clear(&m);
}

/* Uploads FILE's report as host AS (NULL: its own), report_id RID. */
static struct cf_report *upload_as(const char *file, const char *as,
				   const char *rid)
{
	struct cf_report *r = test_load_report(file), *c = NULL;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	if (as) {
		CU_ASSERT_EQUAL_FATAL(cf_report_clone_as(r, as, &c), CF_OK);
		cf_report_destroy(r);
		r = c;
	}
	CU_ASSERT_EQUAL(cf_report_set_id(r, rid), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_upload(&fl, r, NULL, &u, &d), CF_OK);
	return r;
}

/* The baseline over a pool's distinct configurations is the baseline over
 * its hosts: the expectation is the plain per-host loop (every host's own
 * report added to an engine pool, cf_baseline, the document) on the same
 * tests/data reports, then with hosts duplicated (copies under new ids),
 * which must add hosts to the document and no configuration. */
static void test_baseline_configs(void)
{
	/* By host id, the order of the pool's members. */
	static const struct { const char *file, *as; } h[] = {
		{ "fleet/a72-01.json", NULL }, { "fleet/a72-01.json", "a72-09" },
		{ "fleet/n1-01.json", NULL }, { "fleet/n1-02.json", NULL },
		{ "fleet/n1-01.json", "n1-03" }, { "fleet/n1-02.json", "n1-04" },
		{ "fleet/v1-01.json", NULL }, { "fleet/v1-02.json", NULL },
		{ "fleet/v1-02.json", "v1-03" },
	};
	/* The files as they are, then with the copies. */
	static const bool in[2][9] = {
		{ 1, 0, 1, 1, 0, 0, 1, 1, 0 }, { 1, 1, 1, 1, 1, 1, 1, 1, 1 },
	};
	struct cf_report *r[9];
	struct cf_fleet_baseline b;
	struct cf_diag d = { "" };
	char rid[16], hosts[512];

	for (size_t i = 0; i < 9; i++) {
		snprintf(rid, sizeof(rid), "r%zu", i);
		r[i] = upload_as(h[i].file, h[i].as, rid);
	}
	for (size_t k = 0; k < 2; k++) {
		struct cf_pool *ep = NULL;
		struct cf_profile *pr = NULL;
		char *want = NULL;
		size_t n = 0, len = 0;

		CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &ep), CF_OK);
		len += (size_t)snprintf(hosts + len, sizeof(hosts) - len, "[");
		for (size_t i = 0; i < 9; i++) {
			if (!in[k][i])
				continue;
			CU_ASSERT_EQUAL(cf_pool_add(ep, r[i], &d), CF_OK);
			len += (size_t)snprintf(hosts + len, sizeof(hosts) - len,
						"%s\"%s\"", n++ ? "," : "",
						cf_report_host_id(r[i]));
		}
		snprintf(hosts + len, sizeof(hosts) - len, "]");
		CU_ASSERT_EQUAL_FATAL(cf_baseline(ep, &pr), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr, &want), CF_OK);
		CU_ASSERT_EQUAL(pool("dup", hosts), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_fleet_baseline(&fl, "dup", NULL, "t", &b,
							&d), CF_OK);
		/* n1 (2 kernels, one configuration), v1, a72. */
		CU_ASSERT_EQUAL(b.pool->ncfg, 3);
		CU_ASSERT_EQUAL(b.pool->n, n);
		CU_ASSERT_EQUAL(cf_pool_config_count(ep), 3);
		CU_ASSERT_STRING_EQUAL(b.json, want);
		cf_fleet_baseline_clear(&b);
		free(want);
		cf_profile_destroy(pr);
		cf_pool_destroy(ep);
	}
	for (size_t i = 0; i < 9; i++)
		cf_report_destroy(r[i]);
}

/* tests/data/x86/spr-05.json as host ID, with leaf 0x3 (all four
 * registers 0 in the dump) left out when DROP. */
static struct cf_report *spr(const char *id, bool drop)
{
	cJSON *doc = test_load_json("x86/spr-05.json"), *arr, *l, *next;
	struct cf_report *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
			     "host"), "id"), id);
	arr = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "x86"), "cpuid");
	for (l = arr->child; drop && l; l = next) {
		next = l->next;
		if (!strcmp(cJSON_GetObjectItem(l, "leaf")->valuestring,
			    "0x00000003"))
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, l));
	}
	r = test_report_of_json(doc);
	cJSON_Delete(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

/* Configurations are told apart exactly, never by a hash alone: a leaf of
 * zeros present in one report and absent from another leaves the
 * fingerprint alike (x86 reads an absent leaf as 0: engine/identity.h),
 * yet the two are two configurations (a leaf the host does not report is
 * one KVM may not offer), as cf_pool groups them; hosts of equal ones
 * share a group whatever their names. */
static void test_group_exact(void)
{
	struct cf_report *r[4] = { spr("a", false), spr("b", true),
				   spr("c", false), spr("d", true) };
	struct cf_pool *ep = NULL;
	struct cf_fleet_pool *p = NULL;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };
	size_t group[4], first[4], k = 0;

	CU_ASSERT_EQUAL(cf_report_fingerprint(r[0]), cf_report_fingerprint(r[1]));
	CU_ASSERT_EQUAL(cf_pool_create("x86", &ep), CF_OK);
	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(cf_pool_add(ep, r[i], &d), CF_OK);
	CU_ASSERT_EQUAL(cf_pool_config_count(ep), 2);
	cf_pool_destroy(ep);
	CU_ASSERT_EQUAL_FATAL(cf_matrix_group((const struct cf_report *const *)r,
					      4, group, first, &k), CF_OK);
	CU_ASSERT_EQUAL_FATAL(k, 2);
	CU_ASSERT_EQUAL(group[0], 0);
	CU_ASSERT_EQUAL(group[1], 1);
	CU_ASSERT_EQUAL(group[2], 0);
	CU_ASSERT_EQUAL(group[3], 1);
	CU_ASSERT_EQUAL(first[0], 0);
	CU_ASSERT_EQUAL(first[1], 1);
	/* The same through the fleet, from stored documents. */
	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(cf_fleet_upload(&fl, r[i], NULL, &u, &d), CF_OK);
	CU_ASSERT_EQUAL(pool("x", "[\"a\",\"b\",\"c\",\"d\"]"), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_pool_resolve(&fl, "x", &p, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(p->ncfg, 2);
	CU_ASSERT_EQUAL(p->m[0].config, p->m[2].config);
	CU_ASSERT_EQUAL(p->m[1].config, p->m[3].config);
	CU_ASSERT_NOT_EQUAL(p->m[0].config, p->m[1].config);
	cf_fleet_pool_destroy(p);
	for (size_t i = 0; i < 4; i++)
		cf_report_destroy(r[i]);
}

/* A pool over the member limit, a matrix over the configuration limit:
 * refused (CF_ETOOBIG) with the limit named, nothing computed. */
static void test_limits(void)
{
	struct cf_fleet_matrix m;
	struct cf_fleet_pool *p = NULL;
	struct cf_diag d = { "" };

	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"n1-02\",\"v1-01\"]"), CF_OK);
	fl.max_pool_hosts = 2;
	CU_ASSERT_EQUAL(cf_fleet_pool_resolve(&fl, "p", &p, &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "limit of 2 hosts"));
	fl.max_pool_hosts = 3;
	CU_ASSERT_EQUAL(cf_fleet_pool_resolve(&fl, "p", &p, &d), CF_OK);
	cf_fleet_pool_destroy(p);
	/* Three hosts, two configurations. */
	fl.max_matrix_configs = 1;
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "limit of 1 configurations"));
	CU_ASSERT_PTR_NULL(m.cell);
	cf_fleet_matrix_clear(&m);
	fl.max_matrix_configs = 2;
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_OK);
	cf_fleet_matrix_clear(&m);
}

/* cancelled() answers true from its STOP_AT-th call on. */
static int calls, stop_at;

static bool stop_now(void *ctx)
{
	(void)ctx;
	return ++calls >= stop_at;
}

/* Long work asks cancelled() and stops with CF_ECANCELED: at the first
 * member of a pool, between the rows of a matrix, before the first host
 * of a check (and every 256 after).  n1-01's own profile is accepted on
 * n1-01 and refused on v1-01 (test_check). */
static void test_cancel(void)
{
	struct cf_fleet_matrix m;
	struct cf_fleet_baseline b;
	struct cf_report *r = test_load_report("fleet/n1-01.json");
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	const char *hosts[] = { "n1-01", "v1-01" };
	char seen[256] = "";

	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"v1-01\"]"), CF_OK);
	fl.cancelled = stop_now;
	calls = 0;
	stop_at = 1;
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "p", NULL, "t", &b, &d),
			CF_ECANCELED);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT_PTR_NULL(b.profile);
	cf_fleet_baseline_clear(&b);
	/* Two members: one question while resolving, then one a row. */
	calls = 0;
	stop_at = 3;
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_ECANCELED);
	CU_ASSERT_EQUAL(calls, 3);
	cf_fleet_matrix_clear(&m);
	calls = 0;
	stop_at = 100;
	CU_ASSERT_EQUAL(cf_fleet_matrix(&fl, "p", NULL, &m, &d), CF_OK);
	CU_ASSERT_EQUAL(calls, 3);
	cf_fleet_matrix_clear(&m);
	/* A check asks before its first host: no verdict given. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &pr), CF_OK);
	calls = 0;
	stop_at = 1;
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pr, hosts, 2, 0, collect, seen, &d),
			CF_ECANCELED);
	CU_ASSERT_STRING_EQUAL(seen, "");
	stop_at = 100;
	CU_ASSERT_EQUAL(cf_fleet_check(&fl, pr, hosts, 2, 0, collect, seen, &d),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(seen, "n1-01=1 v1-01=0 ");
	cf_profile_destroy(pr);
	cf_report_destroy(r);
	fl.cancelled = NULL;
}

/* A what-if is bounded as the pool it changes: members added beyond
 * max_pool_hosts are refused (CF_ETOOBIG) with the limit named, and it
 * stops with CF_ECANCELED when cancelled() says so, asked once while
 * resolving the two members and again at the first member of the changed
 * pool. */
static void test_what_if_bounds(void)
{
	struct cf_report *a72 = test_load_report("fleet/a72-01.json");
	const struct cf_whatif_host add[] = { { "a72-01", a72 } };
	const char *rm[] = { "v1-01" };
	struct cf_fleet_whatif w;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(a72);
	upload_all();
	CU_ASSERT_EQUAL(pool("p", "[\"n1-01\",\"v1-01\"]"), CF_OK);
	fl.max_pool_hosts = 2;
	CU_ASSERT_EQUAL(cf_fleet_what_if(&fl, "p", NULL, add, 1, NULL, 0, &w,
					 &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "limit of 2 hosts"));
	CU_ASSERT_PTR_NULL(w.w.after);
	cf_fleet_what_if_clear(&w);
	CU_ASSERT_EQUAL(cf_fleet_what_if(&fl, "p", NULL, add, 1, rm, 1, &w,
					 &d), CF_OK);
	CU_ASSERT_EQUAL(w.w.n, 2);
	cf_fleet_what_if_clear(&w);
	fl.max_pool_hosts = 0;
	fl.cancelled = stop_now;
	calls = 0;
	stop_at = 2;
	CU_ASSERT_EQUAL(cf_fleet_what_if(&fl, "p", NULL, add, 1, NULL, 0, &w,
					 &d), CF_ECANCELED);
	CU_ASSERT_EQUAL(calls, 2);
	CU_ASSERT_PTR_NULL(w.w.after);
	cf_fleet_what_if_clear(&w);
	calls = 0;
	stop_at = 100;
	CU_ASSERT_EQUAL(cf_fleet_what_if(&fl, "p", NULL, add, 1, NULL, 0, &w,
					 &d), CF_OK);
	CU_ASSERT_EQUAL(w.w.n, 3);
	cf_fleet_what_if_clear(&w);
	fl.cancelled = NULL;
	cf_report_destroy(a72);
}

/* Which hosts offer a feature: every host whose architecture names it,
 * by id, on its latest report.  FEAT_LSE is ID_AA64ISAR0_EL1.Atomic
 * (bits 23:20) >= 0b0010 (Arm ARM); the dumps hold 0x0 there for a72-01
 * (Cortex-A72, Armv8.0) and 0x2 for n1-* and v1-*.  rtm (an x86 CPUID
 * bit) names nothing on arm64: CF_ENOTFOUND naming it.  Bounded by
 * max_pool_hosts and cancelled() as a pool is. */
static void test_feature(void)
{
	static const char *const want[] = { "a72-01", "n1-01", "n1-02",
					    "v1-01", "v1-02" };
	struct cf_fleet_feature ft;
	struct cf_diag d = { "" };

	upload_all();
	CU_ASSERT_EQUAL(upload("a72-01", NULL, NULL), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_fleet_feature(&fl, "FEAT_LSE", &ft, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(ft.n, 5);
	CU_ASSERT_EQUAL_FATAL(ft.narch, 1);
	CU_ASSERT_STRING_EQUAL(ft.arch[0], "arm64");
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_STRING_EQUAL(ft.h[i].host, want[i]);
		CU_ASSERT_STRING_EQUAL(ft.h[i].arch, "arm64");
		CU_ASSERT_EQUAL(ft.h[i].shows, i > 0);
	}
	cf_fleet_feature_clear(&ft);
	CU_ASSERT_EQUAL(cf_fleet_feature(&fl, "rtm", &ft, &d), CF_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "rtm"));
	CU_ASSERT_EQUAL(ft.n, 0);
	cf_fleet_feature_clear(&ft);
	fl.max_pool_hosts = 4;
	CU_ASSERT_EQUAL(cf_fleet_feature(&fl, "FEAT_LSE", &ft, &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "limit of 4 hosts"));
	cf_fleet_feature_clear(&ft);
	fl.max_pool_hosts = 5;
	CU_ASSERT_EQUAL(cf_fleet_feature(&fl, "FEAT_LSE", &ft, &d), CF_OK);
	cf_fleet_feature_clear(&ft);
	fl.max_pool_hosts = 0;
	fl.cancelled = stop_now;
	calls = 0;
	stop_at = 1;
	CU_ASSERT_EQUAL(cf_fleet_feature(&fl, "FEAT_LSE", &ft, &d),
			CF_ECANCELED);
	cf_fleet_feature_clear(&ft);
	fl.cancelled = NULL;
}

/* A host's report at a time is the last one received at or before it;
 * the history lists sightings newest first (db/db.h). */
static void test_history(void)
{
	struct cf_fleet_history h;
	struct cf_diag d = { "" };

	CU_ASSERT_EQUAL(upload("n1-01", "a", NULL), CF_OK);
	io.now = T3;
	CU_ASSERT_EQUAL(upload("n1-01", "b", NULL), CF_OK);
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

/* Drift (issue 13).  tests/data/drift/ (made by make.py there from the
 * real spr-05 dump): spr-05.json offers HLE and RTM (CPUID 7.0 EBX bits 4
 * and 11 set), spr-05-tsx-off.json is the same host after a microcode and
 * kernel update with exactly those two bits cleared, as an update that
 * disables TSX does.  So the event names exactly hle and rtm, 1 -> 0, the
 * kernel and microcode the two files give, and the pool's published
 * baseline (which has TSX: both bits were set on its only member) is
 * accepted before and refused now. */
struct drift_seen {
	size_t n, nfields, nverdicts;
	char fields[256], cause[256], verdict[256], reasons[1024];
};

static int drift_collect(void *ctx, const struct cf_db_event *ev)
{
	struct drift_seen *s = ctx;
	size_t len = 0;

	s->n++;
	s->nfields = ev->nfields;
	s->nverdicts = ev->nverdicts;
	s->fields[0] = '\0';
	for (size_t i = 0; i < ev->nfields; i++)
		len += (size_t)snprintf(s->fields + len, sizeof(s->fields) - len,
					"%s%s.%s=%s:%llu->%llu", i ? " " : "",
					ev->fields[i].reg, ev->fields[i].field,
					ev->fields[i].feature_old,
					ev->fields[i].old_value,
					ev->fields[i].new_value);
	snprintf(s->cause, sizeof(s->cause), "%s %s->%s %s->%s", ev->host,
		 ev->kernel[0], ev->kernel[1], ev->microcode[0],
		 ev->microcode[1]);
	len = 0;
	s->verdict[0] = '\0';
	for (size_t i = 0; i < ev->nverdicts; i++) {
		const struct cf_db_event_verdict *v = &ev->verdicts[i];
		len += (size_t)snprintf(s->verdict + len,
					sizeof(s->verdict) - len, "%s%s@%d "
					"pool=%s member=%d before=%d now=%d",
					i ? ";" : "", v->profile, v->version,
					v->pool, v->member, v->accepted_before,
					v->accepted_now);
		if (!i)
			snprintf(s->reasons, sizeof(s->reasons), "%s",
				 v->reasons);
	}
	return 0;
}

static enum cf_err upload_file(const char *rel, const char *rid,
			       struct cf_fleet_upload *u)
{
	struct cf_report *r = test_load_report(rel);
	struct cf_diag d = { "" };
	enum cf_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cf_report_set_id(r, rid), CF_OK);
	err = cf_fleet_upload(&fl, r, NULL, u, &d);
	cf_report_destroy(r);
	return err;
}

static void test_drift_event(void)
{
	struct cf_fleet_baseline b;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };
	struct drift_seen s = { 0 };
	unsigned long long refusing = 9;
	size_t skipped = 9;

	/* A first report of a new host: no event. */
	CU_ASSERT_EQUAL(upload_file("drift/spr-05.json", "a", &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(u.event, 0);
	CU_ASSERT_EQUAL(pool("spr", "[\"spr-05\"]"), CF_OK);
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "spr", "spr", "t", &b, &d),
			CF_OK);
	CU_ASSERT_EQUAL(b.version, 1);
	cf_fleet_baseline_clear(&b);
	/* A second version: guests started on version 1 still run, so a
	 * drift names what it does to each version (issue 13: "every
	 * published profile version"). */
	CU_ASSERT_EQUAL(cf_fleet_baseline(&fl, "spr", "spr", "t", &b, &d),
			CF_OK);
	CU_ASSERT_EQUAL(b.version, 2);
	cf_fleet_baseline_clear(&b);
	CU_ASSERT_EQUAL(cf_fleet_hosts_refusing(&fl, &refusing, &skipped, &d),
			CF_OK);
	CU_ASSERT_EQUAL(refusing, 0);
	CU_ASSERT_EQUAL(skipped, 0);
	/* The same report again: no event. */
	CU_ASSERT_EQUAL(upload_file("drift/spr-05.json", "b", &u), CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_SEEN_AGAIN);
	CU_ASSERT_EQUAL(u.event, 0);
	CU_ASSERT_EQUAL(stats().events, 0);

	io.now = T2;
	CU_ASSERT_EQUAL(upload_file("drift/spr-05-tsx-off.json", "c", &u),
			CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT(u.event > 0);
	CU_ASSERT_EQUAL(stats().events, 1);
	CU_ASSERT_EQUAL(cf_fleet_events(&fl, NULL, NULL, 0, drift_collect, &s),
			CF_OK);
	CU_ASSERT_EQUAL(s.n, 1);
	/* Exactly the two bits cleared, in the decoder's order. */
	CU_ASSERT_EQUAL(s.nfields, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fields,
				      "CPUID_00000007_0_EBX.hle=hle:1->0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fields,
				      "CPUID_00000007_0_EBX.rtm=rtm:1->0"));
	CU_ASSERT_STRING_EQUAL(s.cause, "spr-05 6.1.0-13-amd64->6.1.0-18-amd64 "
			       "0x2b000181->0x2b000590");
	CU_ASSERT_EQUAL(s.nverdicts, 2);
	CU_ASSERT_STRING_EQUAL(s.verdict, "spr@2 pool=spr member=1 before=1 "
			       "now=0;spr@1 pool=spr member=1 before=1 now=0");
	CU_ASSERT_PTR_NOT_NULL(strstr(s.reasons, "hle"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.reasons, "rtm"));
	CU_ASSERT_EQUAL(cf_fleet_hosts_refusing(&fl, &refusing, NULL, &d),
			CF_OK);
	CU_ASSERT_EQUAL(refusing, 1);

	/* Unchanged again, and a retry of the drifted upload: no event. */
	io.now = T3;
	CU_ASSERT_EQUAL(upload_file("drift/spr-05-tsx-off.json", "d", &u),
			CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_SEEN_AGAIN);
	CU_ASSERT_EQUAL(upload_file("drift/spr-05-tsx-off.json", "c", &u),
			CF_OK);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_KNOWN);
	CU_ASSERT_EQUAL(u.event, 0);
	CU_ASSERT_EQUAL(stats().events, 1);
	/* Filters: by host, by time. */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(cf_fleet_events(&fl, NULL, "other", 0, drift_collect,
					&s), CF_OK);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(cf_fleet_events(&fl, T3, NULL, 0, drift_collect, &s),
			CF_OK);
	CU_ASSERT_EQUAL(s.n, 0);
}

/* Only the microcode changed (a new report: its content differs), the
 * configuration did not: no event. */
static void test_drift_identity_only(void)
{
	cJSON *doc = test_load_json("drift/spr-05.json");
	struct cf_report *r;
	struct cf_fleet_upload u;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(upload_file("drift/spr-05.json", "a", &u), CF_OK);
	cJSON_ReplaceItemInObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "host"), "microcode",
		cJSON_CreateString("0x2b000603"));
	r = test_report_of_json(doc);
	cJSON_Delete(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(cf_fleet_upload(&fl, r, NULL, &u, &d), CF_OK);
	cf_report_destroy(r);
	CU_ASSERT_EQUAL(u.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(u.event, 0);
	CU_ASSERT_EQUAL(stats().events, 0);
}

/* ---- uploads through the server's writer, run together ---- */

static struct cf_writer *wr;

static enum cf_err writer_write(void *ctx, cf_fleet_write_fn fn,
				cf_fleet_write_many_fn many, void *arg,
				struct cf_diag *d)
{
	(void)ctx;
	return cf_writer_run(wr, fn, many, arg, d);
}

struct queued {
	const char *file, *rid;
	struct cf_fleet *f;
	struct cf_fleet_upload u;
	enum cf_err err;
};

static void *run_upload_file(void *arg)
{
	struct queued *q = arg;
	struct cf_report *r = test_load_report(q->file);
	struct cf_diag d = { "" };

	q->err = CF_EINVAL;
	if (r && cf_report_set_id(r, q->rid) == CF_OK)
		q->err = cf_fleet_upload(q->f, r, NULL, &q->u, &d);
	cf_report_destroy(r);
	return NULL;
}

/* Four uploads queued at once behind a blocker give what they would one
 * after the other (fleet/fleet.h, db/db.h): two reports of one host in
 * turn, the second a drift event; a retry of the first known; another
 * host new.  All four run together: none is undone and rerun alone. */
static void test_upload_together(void)
{
	struct queued q[] = {
		{ .file = "drift/spr-05.json", .rid = "a" },
		{ .file = "drift/spr-05-tsx-off.json", .rid = "c" },
		{ .file = "drift/spr-05.json", .rid = "a" },
		{ .file = "fleet/n1-01.json", .rid = "n" },
	};
	struct cf_fleet wf = fl;
	struct cf_writer_stats st;
	struct cf_diag d = { "" };
	struct cf_db *w = NULL;
	pthread_t t[4];

	CU_ASSERT_EQUAL_FATAL(cf_db_open(path, false, &w, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_writer_start(w, &wr, &d), CF_OK);
	wf.write = writer_write;
	test_writer_hold(wr);
	/* One at a time, so that the queue has them in this order. */
	for (size_t i = 0; i < 4; i++) {
		q[i].f = &wf;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL,
						     run_upload_file, &q[i]), 0);
		test_writer_wait_queued(wr, i + 1);
	}
	test_writer_release();
	for (size_t i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cf_writer_stats(wr, &st);
	cf_writer_stop(wr);

	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(q[i].err, CF_OK);
	CU_ASSERT_EQUAL(q[0].u.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(q[0].u.event, 0);
	CU_ASSERT_EQUAL(q[1].u.status, CF_FLEET_NEW);
	CU_ASSERT(q[1].u.event > 0);
	CU_ASSERT_EQUAL(q[2].u.status, CF_FLEET_KNOWN);
	CU_ASSERT_EQUAL(q[3].u.status, CF_FLEET_NEW);
	CU_ASSERT_EQUAL(st.together, 4);
	CU_ASSERT_EQUAL(st.apart, 0);
	CU_ASSERT_EQUAL(stats().events, 1);
	CU_ASSERT_EQUAL(stats().reports, 3);
	CU_ASSERT_EQUAL(stats().sightings, 3);
}

static CU_TestInfo tests[] = {
	TEST(test_upload_outcomes),
	TEST(test_drift_event),
	TEST(test_upload_together),
	TEST(test_drift_identity_only),
	TEST(test_upload_without_id),
	TEST(test_upload_refused),
	TEST(test_upload_revoked_token),
	TEST(test_pool_resolve),
	TEST(test_pool_latest),
	TEST(test_pool_one_arch),
	TEST(test_baseline_publish),
	TEST(test_baseline_empty),
	TEST(test_check),
	TEST(test_matrix),
	TEST(test_baseline_configs),
	TEST(test_group_exact),
	TEST(test_limits),
	TEST(test_cancel),
	TEST(test_what_if_bounds),
	TEST(test_history),
	TEST(test_feature),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_fleet = { "fleet", NULL, NULL, set_up, tear_down, tests };
