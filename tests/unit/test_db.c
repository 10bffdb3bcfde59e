#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "db/db.h"
#include "profiles/doc.h"
#include "tests/unit/suites.h"

/* Each test gets a fresh directory and an open database in it; in the
 * suite db_pg the same cases run on a fresh PostgreSQL database instead
 * (PATH its URL, DIR ""). */
static char dir[64];
static char path[256];
static struct cf_db *db;
static bool on_pg;

static void set_up(void)
{
	char p[128];

	on_pg = false;
	db = test_db_open_tmp("cf_db_test", dir, p);
	snprintf(path, sizeof(path), "%s", p);
}

static void tear_down(void)
{
	test_db_close_tmp(db, dir);
	db = NULL;
}

static void set_up_pg(void)
{
	struct cf_diag d = { "" };

	on_pg = true;
	dir[0] = '\0';
	db = NULL;
	if (!test_pg_createdb(path, sizeof(path))) {
		path[0] = '\0';
		return;
	}
	if (cf_db_open(path, false, &db, &d) != CF_OK)
		fprintf(stderr, "\n  open: %s\n", d.msg);
}

static void tear_down_pg(void)
{
	cf_db_close(db);
	db = NULL;
	if (path[0])
		test_pg_dropdb(path);
}

#define T(n) "2026-11-22T04:" n "Z"   /* T("15:11") */

static enum cf_err put(const char *rid, const char *host,
		       const char *content, const char *fp, const char *at,
		       enum cf_db_put_result *res)
{
	char body[128];
	struct cf_db_upload u = {
		.report_id = rid, .host = host, .arch = "arm64",
		.hostname = "n.example", .content = content,
		.fingerprint = fp, .body = body, .collected_at = at,
		.received_at = at,
	};
	struct cf_diag d = { "" };
	enum cf_db_put_result r = 0;
	enum cf_err err;

	snprintf(body, sizeof(body), "{\"content\":\"%s\"}", content);
	err = cf_db_report_put(db, &u, res ? res : &r, &d);
	if (err != CF_OK && err != CF_ECONFLICT)
		fprintf(stderr, "\n  put %s: %s\n", rid, d.msg);
	return err;
}

static struct cf_db_stats stats(void)
{
	struct cf_db_stats s;

	CU_ASSERT_EQUAL(cf_db_stats(db, &s), CF_OK);
	return s;
}

/* Collects names (host ids, pool members, ...) joined by spaces. */
struct names {
	char text[1024];
	int n;
};

static void names_add(struct names *c, const char *s)
{
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s%s", len ? " " : "",
		 s);
	c->n++;
}

static int on_name(void *ctx, const char *name)
{
	names_add(ctx, name);
	return 0;
}

static int on_host(void *ctx, const struct cf_db_host *h)
{
	names_add(ctx, h->id);
	return 0;
}

static int on_pool(void *ctx, const struct cf_db_pool *p)
{
	names_add(ctx, p->name);
	return 0;
}

static int on_token(void *ctx, const struct cf_db_token *t)
{
	names_add(ctx, t->id);
	return 0;
}

static int on_audit(void *ctx, const struct cf_db_audit *a)
{
	names_add(ctx, a->action);
	return 0;
}

static int on_sighting(void *ctx, const struct cf_db_sighting *s)
{
	char buf[CF_DB_ID_MAX + 2];

	snprintf(buf, sizeof(buf), "%s%s", s->report_id, s->changed ? "*" : "");
	names_add(ctx, buf);
	return 0;
}

static int on_bare_sighting(void *ctx, const struct cf_db_sighting *s)
{
	names_add(ctx, s->report_id);
	return 0;
}

static int copy_host(void *ctx, const struct cf_db_host *h)
{
	struct cf_db_host *out = ctx;

	*out = *h;
	out->labels_json = strdup(h->labels_json);
	return 0;
}

static int copy_pool(void *ctx, const struct cf_db_pool *p)
{
	char *out = ctx;

	snprintf(out, 256, "%s %s %s", p->labels_json, p->hosts_json,
		 p->updated_at);
	return 0;
}

/* Runs SQL on the database through a connection of its own: SQLite's
 * result code (on PostgreSQL, SQLITE_CONSTRAINT for what a constraint or
 * trigger refused, SQLITE_ERROR for other failures). */
static int raw_exec(const char *sql)
{
	sqlite3 *h = NULL;
	int rc;

	if (on_pg) {
		rc = test_pg_sql(path, sql, NULL);
		return rc == 0 ? SQLITE_OK : rc == 1 ? SQLITE_CONSTRAINT
						     : SQLITE_ERROR;
	}
	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

static long long raw_int(const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;
	int rc;

	if (on_pg)
		return test_pg_sql(path, sql, &v) == 0 ? v : -1;
	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* ---- open ---- */

static void test_db_open_creates_schema(void)
{
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT(cf_db_schema_latest() >= 1);
	CU_ASSERT_EQUAL(cf_db_schema_version(db), cf_db_schema_latest());
	CU_ASSERT_EQUAL(raw_int("PRAGMA user_version"), cf_db_schema_latest());
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM sqlite_schema WHERE "
				"type = 'table' AND name IN ('hosts', "
				"'configs', 'reports', 'sightings', 'pools', "
				"'profile_versions', 'profile_sources', "
				"'tokens', 'audit')"), 9);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM pragma_journal_mode "
				"WHERE journal_mode = 'wal'"), 1);
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
}

static void test_db_reopen_is_idempotent(void)
{
	struct cf_diag d = { "" };
	struct cf_db_stats s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	for (int i = 0; i < 2; i++) {
		cf_db_close(db);
		db = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_db_open(path, false, &db, &d), CF_OK);
		CU_ASSERT_EQUAL(cf_db_schema_version(db),
				cf_db_schema_latest());
		s = stats();
		CU_ASSERT_EQUAL(s.hosts, 1);
		CU_ASSERT_EQUAL(s.sightings, 1);
	}
}

static void test_db_read_only(void)
{
	struct cf_diag d = { "" };
	struct cf_db *ro = NULL;
	struct cf_db_host h = { .labels_json = NULL };
	char other[192];
	FILE *f;
	bool created;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	/* With the writer still open, as the server does it... */
	CU_ASSERT_EQUAL_FATAL(cf_db_open(path, true, &ro, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_get(ro, "h1", copy_host, &h), CF_OK);
	CU_ASSERT_EQUAL(h.uploads, 1);
	free((char *)h.labels_json);
	CU_ASSERT_EQUAL(cf_db_pool_put(ro, "p", NULL, NULL, "cli", T("00:00"),
				       &created, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_begin(ro, &d), CF_EINVAL);
	cf_db_close(ro);
	ro = NULL;
	/* ...and after it closed. */
	cf_db_close(db);
	db = NULL;
	CU_ASSERT_EQUAL_FATAL(cf_db_open(path, true, &ro, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_schema_version(ro), cf_db_schema_latest());
	CU_ASSERT_EQUAL(cf_db_host_get(ro, "h1", copy_host, &h), CF_OK);
	free((char *)h.labels_json);
	cf_db_close(ro);
	ro = NULL;

	/* Read-only never creates or migrates. */
	snprintf(other, sizeof(other), "%s/absent.db", dir);
	CU_ASSERT_NOT_EQUAL(cf_db_open(other, true, &ro, &d), CF_OK);
	CU_ASSERT_PTR_NULL(ro);
	CU_ASSERT_NOT_EQUAL(access(other, F_OK), 0);
	snprintf(other, sizeof(other), "%s/empty.db", dir);
	f = fopen(other, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	CU_ASSERT_EQUAL(cf_db_open(other, true, &ro, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "run the server once to migrate"));
	CU_ASSERT_PTR_NULL(ro);
}

static void test_db_newer_or_foreign_schema(void)
{
	struct cf_diag d = { "" };
	char sql[64], other[192];
	struct cf_db *x = NULL;
	sqlite3 *h = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	cf_db_close(db);
	db = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 cf_db_schema_latest() + 1);
	CU_ASSERT_EQUAL(raw_exec(sql), SQLITE_OK);
	CU_ASSERT_EQUAL(cf_db_open(path, false, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "newer"));
	CU_ASSERT_EQUAL(cf_db_open(path, true, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NULL(x);

	/* Someone else's SQLite file is left alone. */
	snprintf(other, sizeof(other), "%s/other.db", dir);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(other, &h), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL),
			SQLITE_OK);
	sqlite3_close(h);
	CU_ASSERT_EQUAL(cf_db_open(other, false, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not a cpufleet database"));
	CU_ASSERT_PTR_NULL(x);
}

/* ---- reports ---- */

static void test_db_report_put_results(void)
{
	enum cf_db_put_result r = 0;
	struct cf_db_stats before, after;
	struct cf_diag d = { "" };
	struct cf_db_upload u = {
		.report_id = "r1", .host = "h1", .arch = "arm64",
		.hostname = "",
		.content = "bb", .fingerprint = "f1", .body = "{}",
		.collected_at = "", .received_at = T("09:00"),
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_PUT_NEW);
	CU_ASSERT_EQUAL(put("r2", "h1", "aa", "f1", T("01:00"), &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_PUT_SEEN_AGAIN);
	CU_ASSERT_EQUAL(put("r2", "h1", "aa", "f1", T("02:00"), &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_PUT_KNOWN);
	/* Hex case does not matter. */
	CU_ASSERT_EQUAL(put("r1", "h1", "AA", "F1", T("02:00"), &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_PUT_KNOWN);
	before = stats();
	CU_ASSERT_EQUAL(before.hosts, 1);
	CU_ASSERT_EQUAL(before.reports, 1);
	CU_ASSERT_EQUAL(before.sightings, 2);
	CU_ASSERT_EQUAL(before.configs, 1);

	/* The same report id with other content or another host. */
	CU_ASSERT_EQUAL(cf_db_report_put(db, &u, &r, &d), CF_ECONFLICT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "r1"));
	CU_ASSERT_EQUAL(put("r1", "h2", "aa", "f1", T("09:00"), &r),
			CF_ECONFLICT);
	after = stats();
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);

	CU_ASSERT_EQUAL(put("r3", "h1", "bb", "f2", T("03:00"), &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_PUT_NEW);
	after = stats();
	CU_ASSERT_EQUAL(after.reports, 2);
	CU_ASSERT_EQUAL(after.configs, 2);
	CU_ASSERT_EQUAL(after.sightings, 3);
}

static void test_db_report_put_validates(void)
{
	enum cf_db_put_result r = 0;
	struct cf_diag d = { "" };
	char longid[CF_HOST_ID_MAX + 1];
	struct cf_db_upload u = {
		.report_id = "r1", .host = "h1", .arch = "arm64",
		.hostname = "",
		.content = "aa", .fingerprint = "f1", .body = "{}",
		.collected_at = "", .received_at = "yesterday",
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(cf_db_report_put(db, &u, &r, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "received_at"));
	u.received_at = T("00:00");
	u.content = "not hex";
	CU_ASSERT_EQUAL(cf_db_report_put(db, &u, &r, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "content"));
	u.content = "aa";
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	u.host = longid;
	CU_ASSERT_EQUAL(cf_db_report_put(db, &u, &r, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "host"));
	u.host = "h1";
	u.body = NULL;
	CU_ASSERT_EQUAL(cf_db_report_put(db, &u, &r, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(stats().hosts, 0);
}

static void test_db_history_and_changed(void)
{
	struct names c = { "", 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "aa", "f1", T("01:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("o1", "h2", "cc", "f1", T("01:30"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r3", "h1", "bb", "f1", T("02:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r4", "h1", "aa", "f1", T("03:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r5", "h1", "aa", "f1", T("04:00"), NULL), CF_OK);
	/* Newest first; '*' marks a change from the previous sighting. */
	CU_ASSERT_EQUAL(cf_db_host_history(db, "h1", 0, on_sighting, &c),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "r5 r4* r3* r2 r1*");
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_host_history(db, "h1", 2, on_sighting, &c),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "r5 r4*");
	CU_ASSERT_EQUAL(cf_db_host_history(db, "ghost", 0, on_sighting, &c),
			CF_ENOTFOUND);
	/* A-B-A stores A twice: dedup is against the latest only. */
	CU_ASSERT_EQUAL(stats().reports, 4);
}

static void test_db_host_report_at_a_time(void)
{
	struct cf_db_sighting s;
	char *body = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("10:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "bb", "f2", T("20:00.500"), NULL),
			CF_OK);

	CU_ASSERT_EQUAL_FATAL(cf_db_host_report(db, "h1", NULL, &body, &s),
			      CF_OK);
	CU_ASSERT_STRING_EQUAL(body, "{\"content\":\"bb\"}");
	CU_ASSERT_STRING_EQUAL(s.report_id, "r2");
	CU_ASSERT_STRING_EQUAL(s.content, "bb");
	CU_ASSERT_STRING_EQUAL(s.fingerprint, "f2");
	CU_ASSERT_STRING_EQUAL(s.received_at, T("20:00.500"));
	CU_ASSERT(s.changed);
	free(body);
	body = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_db_host_report(db, "h1", T("15:00"), &body,
						&s), CF_OK);
	CU_ASSERT_STRING_EQUAL(body, "{\"content\":\"aa\"}");
	CU_ASSERT_STRING_EQUAL(s.report_id, "r1");
	free(body);
	body = NULL;
	/* 20:00 is before 20:00.500, though it sorts after it as text. */
	CU_ASSERT_EQUAL(cf_db_host_report(db, "h1", T("20:00"), NULL, &s),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(s.report_id, "r1");
	CU_ASSERT_EQUAL(cf_db_host_report(db, "h1", T("20:00.5"), NULL, &s),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(s.report_id, "r2");
	CU_ASSERT_EQUAL(cf_db_host_report(db, "h1", T("09:59"), &body, &s),
			CF_ENOTFOUND);
	CU_ASSERT_PTR_NULL(body);
	CU_ASSERT_EQUAL(cf_db_host_report(db, "ghost", NULL, &body, &s),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_host_report(db, "h1", "noon", &body, &s),
			CF_EINVAL);
}

static void test_db_config_dedup(void)
{
	struct cf_db_stats s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h2", "bb", "f1", T("00:01"), NULL), CF_OK);
	s = stats();
	CU_ASSERT_EQUAL(s.hosts, 2);
	CU_ASSERT_EQUAL(s.reports, 2);
	CU_ASSERT_EQUAL(s.configs, 1);
}

static void test_db_host_list_and_get(void)
{
	struct names c = { "", 0 };
	struct cf_db_host h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h2", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "aa", "f1", T("01:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r3", "h1", "aa", "f1", T("02:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r4", "h1", "bb", "f1", T("03:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_list(db, on_host, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h1 h2");
	CU_ASSERT_EQUAL_FATAL(cf_db_host_get(db, "h1", copy_host, &h), CF_OK);
	CU_ASSERT_STRING_EQUAL(h.id, "h1");
	CU_ASSERT_STRING_EQUAL(h.arch, "arm64");
	CU_ASSERT_STRING_EQUAL(h.hostname, "n.example");
	CU_ASSERT_STRING_EQUAL(h.first_seen, T("01:00"));
	CU_ASSERT_STRING_EQUAL(h.last_seen, T("03:00"));
	CU_ASSERT_EQUAL(h.reports, 2);
	CU_ASSERT_EQUAL(h.uploads, 3);
	CU_ASSERT_STRING_EQUAL(h.labels_json, "{}");
	free((char *)h.labels_json);
	CU_ASSERT_EQUAL(cf_db_host_get(db, "ghost", copy_host, &h),
			CF_ENOTFOUND);
}

static int count_host(void *ctx, const struct cf_db_host *h)
{
	(void)h;
	++*(int *)ctx;
	return 0;
}

/* A callback may use the handle it is called from, even the statement
 * that is running it. */
static int nested_list(void *ctx, const struct cf_db_host *h)
{
	struct cf_db_host inner;
	int n = 0;

	CU_ASSERT_EQUAL(cf_db_host_list(db, count_host, &n), CF_OK);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(cf_db_host_get(db, h->id, copy_host, &inner), CF_OK);
	CU_ASSERT_STRING_EQUAL(inner.id, h->id);
	free((char *)inner.labels_json);
	names_add(ctx, h->id);
	return 0;
}

static int stop_at_first(void *ctx, const struct cf_db_host *h)
{
	names_add(ctx, h->id);
	return 1;
}

static void test_db_callbacks_nest_and_stop(void)
{
	struct names c = { "", 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h2", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_list(db, nested_list, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h1 h2");
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_host_list(db, stop_at_first, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h1");
}

/* ---- labels ---- */

static void test_db_labels(void)
{
	struct cf_diag d = { "" };
	struct cf_db_host h;
	char many[2048];
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", "{ \"rack\": \"r1\", "
					      "\"zone\": \"a\" }", "cli",
					      T("01:00"), &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_db_host_get(db, "h1", copy_host, &h), CF_OK);
	CU_ASSERT_STRING_EQUAL(h.labels_json,
			       "{\"rack\":\"r1\",\"zone\":\"a\"}");
	free((char *)h.labels_json);

	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", "[\"x\"]", "cli",
					      T("01:00"), &d), CF_ESCHEMA);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", "{\"rack\": 7}", "cli",
					      T("01:00"), &d), CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "rack"));
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1",
					      "{\"a\":\"1\",\"a\":\"2\"}",
					      "cli", T("01:00"), &d),
			CF_ESCHEMA);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", "{\"rack\":", "cli",
					      T("01:00"), &d), CF_ESYNTAX);
	len = (size_t)snprintf(many, sizeof(many), "{");
	for (int i = 0; i < 65; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
					"%s\"k%d\":\"v\"", i ? "," : "", i);
	snprintf(many + len, sizeof(many) - len, "}");
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", many, "cli", T("01:00"),
					      &d), CF_ESCHEMA);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "ghost", "{}", "cli",
					      T("01:00"), &d), CF_ENOTFOUND);
	/* Failures changed nothing. */
	CU_ASSERT_EQUAL_FATAL(cf_db_host_get(db, "h1", copy_host, &h), CF_OK);
	CU_ASSERT_STRING_EQUAL(h.labels_json,
			       "{\"rack\":\"r1\",\"zone\":\"a\"}");
	free((char *)h.labels_json);
	/* NULL clears. */
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", NULL, "cli", T("02:00"),
					      &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_db_host_get(db, "h1", copy_host, &h), CF_OK);
	CU_ASSERT_STRING_EQUAL(h.labels_json, "{}");
	free((char *)h.labels_json);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM audit WHERE "
				"action = 'host.labels'"), 2);
}

/* ---- pools ---- */

static void test_db_pool_crud(void)
{
	struct cf_diag d = { "" };
	struct names c = { "", 0 };
	char got[256];
	bool created = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "web", "{\"rack\":\"r1\"}", NULL,
				       "cli", T("00:00"), &created, &d), CF_OK);
	CU_ASSERT(created);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "db-1.x_y", "", "[\"h2\", \"h1\"]",
				       "cli", T("00:01"), &created, &d), CF_OK);
	CU_ASSERT(created);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "web", NULL, "[\"h9\"]", "tok1",
				       T("00:02"), &created, &d), CF_OK);
	CU_ASSERT(!created);
	CU_ASSERT_EQUAL(cf_db_pool_get(db, "web", copy_pool, got), CF_OK);
	CU_ASSERT_STRING_EQUAL(got, "{} [\"h9\"] " T("00:02"));
	CU_ASSERT_EQUAL(cf_db_pool_get(db, "db-1.x_y", copy_pool, got), CF_OK);
	CU_ASSERT_STRING_EQUAL(got, "{} [\"h2\",\"h1\"] " T("00:01"));
	CU_ASSERT_EQUAL(cf_db_pool_list(db, on_pool, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "db-1.x_y web");

	CU_ASSERT_EQUAL(cf_db_pool_delete(db, "web", "cli", T("00:03"), &d),
			CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_get(db, "web", copy_pool, got),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_pool_delete(db, "web", "cli", T("00:04"), &d),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(stats().pools, 1);

	/* Bad names and bad JSON. */
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "a/b", NULL, NULL, "cli", T("00:00"),
				       &created, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "pool name"));
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "", NULL, NULL, "cli", T("00:00"),
				       &created, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_pool_get(db, "a b", copy_pool, got), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", NULL, "{}", "cli", T("00:00"),
				       &created, &d), CF_ESCHEMA);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", NULL, "[1]", "cli", T("00:00"),
				       &created, &d), CF_ESCHEMA);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", NULL, "[\"h1\",\"h1\"]",
				       "cli", T("00:00"), &created, &d),
			CF_EDUPLICATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "h1"));
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", "{\"x\":[]}", NULL, "cli",
				       T("00:00"), &created, &d), CF_ESCHEMA);
	CU_ASSERT_EQUAL(stats().pools, 1);
}

static void test_db_pool_members(void)
{
	struct cf_diag d = { "" };
	struct names c = { "", 0 };
	bool created;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h2", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r3", "h3", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r4", "h4", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h1", "{\"rack\":\"r1\","
					      "\"zone\":\"a\"}", NULL,
					      T("00:00"), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h2", "{\"rack\":\"r1\"}",
					      NULL, T("00:00"), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_host_set_labels(db, "h3", "{\"rack\":\"r2\"}",
					      NULL, T("00:00"), &d), CF_OK);

	CU_ASSERT_EQUAL(cf_db_pool_put(db, "rack1", "{\"rack\":\"r1\"}",
				       "[\"h4\", \"ghost\", \"h1\"]", "cli",
				       T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_members(db, "rack1", on_name, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h1 h2 h4");

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "r1a", "{\"zone\":\"a\","
				       "\"rack\":\"r1\"}", NULL, "cli",
				       T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_members(db, "r1a", on_name, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h1");

	/* An empty selector selects nobody. */
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "explicit", "{}", "[\"h3\"]", "cli",
				       T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_members(db, "explicit", on_name, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "h3");

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "nobody", "{\"rack\":\"r9\"}", NULL,
				       "cli", T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_members(db, "nobody", on_name, &c), CF_OK);
	CU_ASSERT_EQUAL(c.n, 0);
	CU_ASSERT_EQUAL(cf_db_pool_members(db, "ghost", on_name, &c),
			CF_ENOTFOUND);
}

/* ---- profiles ---- */

struct profile_seen {
	int version, calls;
	char pool[CF_DB_NAME_MAX], body[64], sources[256];
};

static int on_profile(void *ctx, const struct cf_db_profile *p)
{
	struct profile_seen *s = ctx;
	size_t len = 0;

	s->calls++;
	s->version = p->version;
	snprintf(s->pool, sizeof(s->pool), "%s", p->pool);
	snprintf(s->body, sizeof(s->body), "%s", p->body ? p->body : "(null)");
	s->sources[0] = '\0';
	for (size_t i = 0; i < p->nsources; i++)
		len += (size_t)snprintf(s->sources + len,
					sizeof(s->sources) - len, "%s%s@%s",
					i ? " " : "",
					p->sources[i].report_id,
					p->sources[i].host);
	return 0;
}

static int on_profile_name(void *ctx, const struct cf_db_profile *p)
{
	char buf[CF_DB_NAME_MAX + 16];

	CU_ASSERT_PTR_NULL(p->body);
	CU_ASSERT_EQUAL(p->nsources, 0);
	snprintf(buf, sizeof(buf), "%s@%d", p->name, p->version);
	names_add(ctx, buf);
	return 0;
}

static void test_db_profiles(void)
{
	const struct cf_db_source src1[] = { { "h1", "r1" }, { "h2", "r2" } };
	const struct cf_db_source src2[] = { { "h1", "r3" } };
	struct profile_seen s = { 0 };
	struct names c = { "", 0 };
	struct cf_diag d = { "" };
	int v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "base", "{\"v\":1}", "web",
					      src1, 2, "cli", T("00:00"), &v,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "base", "{\"v\":2}", "",
					      src2, 1, "tok1", T("01:00"), &v,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "other", "{}", NULL, NULL, 0,
					      NULL, T("02:00"), &v, &d), CF_OK);
	CU_ASSERT_EQUAL(v, 1);

	CU_ASSERT_EQUAL(cf_db_profile_get(db, "base", 0, on_profile, &s),
			CF_OK);
	CU_ASSERT_EQUAL(s.version, 2);
	CU_ASSERT_STRING_EQUAL(s.body, "{\"v\":2}");
	CU_ASSERT_STRING_EQUAL(s.sources, "r3@h1");
	CU_ASSERT_STRING_EQUAL(s.pool, "");
	CU_ASSERT_EQUAL(cf_db_profile_get(db, "base", 1, on_profile, &s),
			CF_OK);
	CU_ASSERT_EQUAL(s.version, 1);
	CU_ASSERT_STRING_EQUAL(s.body, "{\"v\":1}");
	CU_ASSERT_STRING_EQUAL(s.sources, "r1@h1 r2@h2");
	CU_ASSERT_STRING_EQUAL(s.pool, "web");
	CU_ASSERT_EQUAL(s.calls, 2);
	CU_ASSERT_EQUAL(cf_db_profile_get(db, "base", 3, on_profile, &s),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_profile_get(db, "ghost", 0, on_profile, &s),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_profile_get(db, "../x", 0, on_profile, &s),
			CF_EINVAL);
	CU_ASSERT_EQUAL(s.calls, 2);

	CU_ASSERT_EQUAL(cf_db_profile_list(db, "base", on_profile_name, &c),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "base@2 base@1");
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(cf_db_profile_list(db, NULL, on_profile_name, &c),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "base@2 other@1");
	CU_ASSERT_EQUAL(cf_db_profile_list(db, "ghost", on_profile_name, &c),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(stats().profiles, 2);
	CU_ASSERT_EQUAL(stats().profile_versions, 3);

	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "bad name", "{}", NULL, NULL,
					      0, "cli", T("02:00"), &v, &d),
			CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "profile name"));
}

static void test_db_profiles_are_immutable(void)
{
	const struct cf_db_source src[] = { { "h1", "r1" } };
	struct profile_seen s = { 0 };
	struct cf_diag d = { "" };
	int v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "base", "{\"v\":1}", "web",
					      src, 1, "cli", T("00:00"), &v,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(raw_exec("UPDATE profile_versions SET body = 'x'"),
			SQLITE_CONSTRAINT);
	CU_ASSERT_EQUAL(raw_exec("DELETE FROM profile_versions"),
			SQLITE_CONSTRAINT);
	CU_ASSERT_EQUAL(raw_exec("UPDATE profile_sources SET host = 'h9'"),
			SQLITE_CONSTRAINT);
	CU_ASSERT_EQUAL(raw_exec("DELETE FROM profile_sources"),
			SQLITE_CONSTRAINT);
	CU_ASSERT_EQUAL(raw_exec("INSERT INTO profile_sources VALUES "
				 "('base', 1, 1, 'h9', 'r9')"),
			SQLITE_CONSTRAINT);
	CU_ASSERT_EQUAL(cf_db_profile_get(db, "base", 1, on_profile, &s),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(s.body, "{\"v\":1}");
	CU_ASSERT_STRING_EQUAL(s.sources, "r1@h1");
}

/* ---- tokens ---- */

static void test_db_tokens(void)
{
	char admin[CF_DB_TOKEN_MAX], agent[CF_DB_TOKEN_MAX];
	char bad[CF_DB_TOKEN_MAX];
	struct cf_db_token ti, tl;
	struct names c = { "", 0 };
	struct cf_diag d = { "" };
	char sql[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL_FATAL(cf_db_token_create(db, CF_DB_ROLE_ADMIN, NULL,
						 T("00:00"), admin, &ti, &d),
			      CF_OK);
	CU_ASSERT_EQUAL(strncmp(admin, "cft_", 4), 0);
	CU_ASSERT(strlen(admin) < CF_DB_TOKEN_MAX);
	CU_ASSERT_EQUAL(strncmp(admin + 4, ti.id, strlen(ti.id)), 0);
	CU_ASSERT_EQUAL(admin[4 + strlen(ti.id)], '_');
	CU_ASSERT_EQUAL(strlen(admin + 5 + strlen(ti.id)), 64);
	CU_ASSERT_EQUAL(ti.role, CF_DB_ROLE_ADMIN);
	CU_ASSERT_STRING_EQUAL(ti.host, "");
	CU_ASSERT_STRING_EQUAL(ti.revoked_at, "");
	CU_ASSERT_EQUAL_FATAL(cf_db_token_create(db, CF_DB_ROLE_AGENT, "h1",
						 T("00:01"), agent, &ti, &d),
			      CF_OK);
	CU_ASSERT_STRING_NOT_EQUAL(admin, agent);

	CU_ASSERT_EQUAL(cf_db_token_lookup(db, agent, &tl), CF_OK);
	CU_ASSERT_STRING_EQUAL(tl.id, ti.id);
	CU_ASSERT_EQUAL(tl.role, CF_DB_ROLE_AGENT);
	CU_ASSERT_STRING_EQUAL(tl.host, "h1");
	CU_ASSERT_STRING_EQUAL(tl.created_at, T("00:01"));
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, admin, &tl), CF_OK);
	CU_ASSERT_EQUAL(tl.role, CF_DB_ROLE_ADMIN);

	/* A wrong secret, another id, or not a token at all. */
	memcpy(bad, agent, sizeof(bad));
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, bad, &tl), CF_ENOTFOUND);
	memcpy(bad, agent, sizeof(bad));
	bad[4] = bad[4] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, bad, &tl), CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, "", &tl), CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, "hunter2", &tl), CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, NULL, &tl), CF_ENOTFOUND);

	/* Only hashes are stored. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE "
		 "id || hash || host LIKE '%%%s%%' OR "
		 "id || hash || host LIKE '%%%s%%'", strrchr(admin, '_') + 1,
		 strrchr(agent, '_') + 1);
	CU_ASSERT_EQUAL(raw_int(sql), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM tokens WHERE "
				"length(hash) = 64"), 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE "
		 "detail || object LIKE '%%%s%%'", strrchr(agent, '_') + 1);
	CU_ASSERT_EQUAL(raw_int(sql), 0);

	CU_ASSERT_EQUAL(cf_db_token_list(db, on_token, &c), CF_OK);
	CU_ASSERT_EQUAL(c.n, 2);
	CU_ASSERT_EQUAL(stats().tokens, 2);

	CU_ASSERT_EQUAL(cf_db_token_revoke(db, ti.id, T("00:02"), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, agent, &tl), CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_token_revoke(db, ti.id, T("00:03"), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_token_revoke(db, "000000000000", T("00:03"), &d),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_db_token_lookup(db, admin, &tl), CF_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM audit WHERE "
				"action = 'token.revoke'"), 1);

	/* Agents name their host; others must not. */
	CU_ASSERT_EQUAL(cf_db_token_create(db, CF_DB_ROLE_AGENT, NULL,
					   T("00:04"), bad, &ti, &d),
			CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_token_create(db, CF_DB_ROLE_READER, "h1",
					   T("00:04"), bad, &ti, &d),
			CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_token_create(db, (enum cf_db_role)9, NULL,
					   T("00:04"), bad, &ti, &d),
			CF_EINVAL);
	CU_ASSERT_EQUAL(stats().tokens, 2);
}

static int revoked_of(void *ctx, const struct cf_db_token *t)
{
	if (t->revoked_at[0])
		names_add(ctx, t->id);
	return 0;
}

static void test_db_token_list_shows_revoked(void)
{
	char tok[CF_DB_TOKEN_MAX];
	struct cf_db_token ti;
	struct names c = { "", 0 };
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL_FATAL(cf_db_token_create(db, CF_DB_ROLE_READER, NULL,
						 T("00:00"), tok, &ti, &d),
			      CF_OK);
	CU_ASSERT_EQUAL(cf_db_token_revoke(db, ti.id, T("00:01"), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_token_list(db, revoked_of, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, ti.id);
}

static void test_db_roles(void)
{
	enum cf_db_role r;

	CU_ASSERT_EQUAL(cf_db_role_parse("admin", &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_ROLE_ADMIN);
	CU_ASSERT_EQUAL(cf_db_role_parse("reader", &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_ROLE_READER);
	CU_ASSERT_EQUAL(cf_db_role_parse("agent", &r), CF_OK);
	CU_ASSERT_EQUAL(r, CF_DB_ROLE_AGENT);
	CU_ASSERT_EQUAL(cf_db_role_parse("root", &r), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_role_parse(NULL, &r), CF_EINVAL);
	CU_ASSERT_STRING_EQUAL(cf_db_role_name(CF_DB_ROLE_READER), "reader");
}

/* ---- audit ---- */

struct audit_seen {
	int n;
	struct cf_db_audit a[8];
	char detail[8][128];
};

static int keep_audit(void *ctx, const struct cf_db_audit *a)
{
	struct audit_seen *s = ctx;

	if (s->n < 8) {
		s->a[s->n] = *a;
		snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s",
			 a->detail_json);
		s->n++;
	}
	return 0;
}

static void test_db_audit(void)
{
	char tok[CF_DB_TOKEN_MAX];
	struct cf_db_token ti;
	struct audit_seen s = { 0 };
	struct names c = { "", 0 };
	struct cf_diag d = { "" };
	bool created;
	int v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "web", "{\"rack\":\"r1\"}", NULL,
				       "tok1", T("00:00"), &created, &d),
			CF_OK);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "base", "{}", "web", NULL, 0,
					      "tok2", T("00:01"), &v, &d),
			CF_OK);
	CU_ASSERT_EQUAL(cf_db_token_create(db, CF_DB_ROLE_READER, NULL,
					   T("00:02"), tok, &ti, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_audit_list(db, 0, keep_audit, &s), CF_OK);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.a[0].action, "token.create");
	CU_ASSERT_STRING_EQUAL(s.a[0].actor, "cli");
	CU_ASSERT_STRING_EQUAL(s.a[0].object, ti.id);
	CU_ASSERT_STRING_EQUAL(s.a[0].at, T("00:02"));
	CU_ASSERT_STRING_EQUAL(s.a[1].action, "profile.publish");
	CU_ASSERT_STRING_EQUAL(s.a[1].actor, "tok2");
	CU_ASSERT_STRING_EQUAL(s.a[1].object, "base");
	CU_ASSERT_PTR_NOT_NULL(strstr(s.detail[1], "\"version\":1"));
	CU_ASSERT_STRING_EQUAL(s.a[2].action, "pool.put");
	CU_ASSERT_STRING_EQUAL(s.a[2].actor, "tok1");
	CU_ASSERT_STRING_EQUAL(s.a[2].object, "web");
	CU_ASSERT_PTR_NOT_NULL(strstr(s.detail[2], "\"rack\":\"r1\""));
	CU_ASSERT(s.a[0].seq > s.a[1].seq && s.a[1].seq > s.a[2].seq);
	CU_ASSERT_EQUAL(cf_db_audit_list(db, 1, on_audit, &c), CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "token.create");
	/* A refused write leaves no audit row. */
	CU_ASSERT_EQUAL(cf_db_pool_delete(db, "ghost", "cli", T("00:03"), &d),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM audit"), 3);
}

/* ---- transactions ---- */

static void test_db_savepoints_keep_other_uploads(void)
{
	struct cf_diag d = { "" };
	struct names c = { "", 0 };
	bool created;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL_FATAL(cf_db_begin(db, &d), CF_OK);
	/* As the server's writer does it: release after every upload. */
	CU_ASSERT_EQUAL(cf_db_savepoint(db, &d), CF_OK);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_release(db, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_savepoint(db, &d), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "bb", "f1", T("00:01"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", NULL, NULL, "cli", T("00:01"),
				       &created, &d), CF_OK);
	cf_db_rollback_to(db);
	CU_ASSERT_EQUAL(cf_db_release(db, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_savepoint(db, &d), CF_OK);
	/* A failing upload inside a savepoint undoes only itself. */
	CU_ASSERT_EQUAL(put("r1", "h1", "cc", "f1", T("00:02"), NULL),
			CF_ECONFLICT);
	CU_ASSERT_EQUAL(put("r3", "h1", "cc", "f1", T("00:03"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_release(db, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_commit(db, &d), CF_OK);

	CU_ASSERT_EQUAL(cf_db_host_history(db, "h1", 0, on_sighting, &c),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(c.text, "r3* r1*");
	CU_ASSERT_EQUAL(stats().pools, 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM audit"), 0);

	/* Writes inside the caller's transaction wait for its end. */
	CU_ASSERT_EQUAL_FATAL(cf_db_begin(db, &d), CF_OK);
	CU_ASSERT_EQUAL(put("r4", "h2", "aa", "f1", T("00:04"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", NULL, NULL, "cli", T("00:04"),
				       &created, &d), CF_OK);
	CU_ASSERT_EQUAL(stats().hosts, 2);
	cf_db_rollback(db);
	CU_ASSERT_EQUAL(stats().hosts, 1);
	CU_ASSERT_EQUAL(stats().pools, 0);
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
}

/* Stores BODY as an upload of HOST (x86) with CONTENT and fingerprint FP. */
static enum cf_err put_body(const char *rid, const char *host, const char *body,
			    const char *content, const char *fp, const char *at,
			    enum cf_db_put_result *res)
{
	struct cf_db_upload u = {
		.report_id = rid, .host = host, .arch = "x86",
		.hostname = host, .content = content, .fingerprint = fp,
		.body = body, .collected_at = "", .received_at = at,
	};
	struct cf_diag d = { "" };

	return cf_db_report_put(db, &u, res, &d);
}

static int on_changed(void *ctx, const struct cf_db_sighting *s)
{
	names_add(ctx, s->changed ? "changed" : "same");
	return 0;
}

/* A file written before identities were canonical (schema 1): one host
 * seen from two of its CPUs (APIC id 0 and 5 in leaf 1 EBX[31:24]) was two
 * contents and two configurations.  Opening it recomputes both from the
 * stored bodies: a retry of what was stored then is known, not a conflict,
 * and the host did not change (issue 17).  A body the build cannot read
 * keeps what it had. */
static void test_db_migration_reidentifies(void)
{
	char *cpu0 = NULL, *cpu5 = NULL, content[CF_CONTENT_ID_MAX];
	struct cf_report *r = NULL;
	enum cf_db_put_result res = 0;
	struct cf_diag d = { "" };
	struct names hist = { "", 0 };
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL_FATAL(cf_doc_read_file("tests/data/x86/spr-05.json",
					       &cpu0, &len, &d), CF_OK);
	cpu5 = strdup(cpu0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cpu5);
	memcpy(strstr(cpu5, "0x00800800"), "0x05800800", 10);
	/* As schema 1 stored them: bare hex, one content per CPU. */
	CU_ASSERT_EQUAL(put_body("a", "spr-05", cpu0, "aa", "f1", T("00:00"),
				 &res), CF_OK);
	CU_ASSERT_EQUAL(put_body("b", "spr-05", cpu5, "bb", "f2", T("00:01"),
				 &res), CF_OK);
	CU_ASSERT_EQUAL(res, CF_DB_PUT_NEW);
	CU_ASSERT_EQUAL(put_body("c", "other", "{}", "cc", "f3", T("00:02"),
				 &res), CF_OK);
	cf_db_close(db);
	db = NULL;
	/* Schema 1 had none of the later migrations' tables. */
	CU_ASSERT_EQUAL(raw_exec("DROP TABLE event_fields;"
				 " DROP TABLE event_verdicts;"
				 " DROP TABLE events;"
				 " PRAGMA user_version = 1"), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(cf_db_open(path, false, &db, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_schema_version(db), cf_db_schema_latest());
	CU_ASSERT_EQUAL(raw_int("SELECT count(DISTINCT content) FROM reports"
				" WHERE host_id = 'spr-05'"), 1);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 2);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM reports WHERE"
				" content = 'cc'"), 1);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs WHERE"
				" fingerprint = 'f3'"), 1);
	/* The retry, as this build's server computes it. */
	CU_ASSERT_EQUAL_FATAL(cf_report_parse(cpu0, len, "a", &r, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_report_content_id(r, content, sizeof(content)),
			CF_OK);
	CU_ASSERT_EQUAL(put_body("a", "spr-05", cpu0, content, "f1", T("00:03"),
				 &res), CF_OK);
	CU_ASSERT_EQUAL(res, CF_DB_PUT_KNOWN);
	CU_ASSERT_EQUAL(cf_db_host_history(db, "spr-05", 0, on_changed, &hist),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(hist.text, "same changed");
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
	cf_report_destroy(r);
	free(cpu0);
	free(cpu5);
}

static void test_db_integrity_check(void)
{
	struct cf_diag d = { "" };
	bool created;
	int v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1", T("00:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "aa", "f1", T("00:01"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "p", "{\"a\":\"b\"}", "[\"h1\"]",
				       "cli", T("00:02"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "x", "{}", "p", NULL, 0,
					      "cli", T("00:03"), &v, &d),
			CF_OK);
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
	/* A raw SQLite connection does not enforce foreign keys, nor does a
	 * PostgreSQL session as a replica (session_replication_role, which
	 * skips the constraint triggers); the check sees it. */
	CU_ASSERT_EQUAL(raw_exec(on_pg ? "SET session_replication_role ="
				 " replica; INSERT INTO sightings (report_uid,"
				 " report_row, host_id, received_at) VALUES"
				 " ('rx', 999, 'h1', '2026-11-22T05:00:00Z')"
				 : "INSERT INTO sightings (report_uid, "
				 "report_row, host_id, received_at) VALUES "
				 "('rx', 999, 'h1', '2026-11-22T05:00:00Z')"),
			SQLITE_OK);
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "sightings"));
}

/* The storage takes util/text's rules: RFC 3339 allows any number of
 * fraction digits (section 5.6, time-secfrac = "." 1*DIGIT) and only the
 * days of the month (section 5.7); the README's names are never "." or
 * "..", which no URL can name (RFC 3986 section 5.2.4). */
static void test_db_text_rules(void)
{
	struct cf_diag d = { "" };
	bool created = false;
	int v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(put("r1", "h1", "aa", "f1",
			    "2026-11-22T04:15:11.1234567890Z", NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r2", "h1", "bb", "f1", "2026-02-30T00:00:00Z",
			    NULL), CF_EINVAL);
	CU_ASSERT_EQUAL(put("r3", "h1", "bb", "f1", "2023-02-29T00:00:00Z",
			    NULL), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_host_report(db, "h1", "2026-04-31T00:00:00Z",
					  NULL, NULL), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "..", NULL, NULL, "cli",
				       T("00:00"), &created, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, ".", NULL, NULL, "cli",
				       T("00:00"), &created, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_pool_put(db, "..y", NULL, NULL, "cli",
				       T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_profile_publish(db, "..", "{}", "", NULL, 0,
					      "cli", T("00:00"), &v, &d),
			CF_EINVAL);
	CU_ASSERT_EQUAL(stats().pools, 1);
	CU_ASSERT_EQUAL(stats().profiles, 0);
}

/* Drift events (db/db.h): stored with their fields and verdicts in the
 * order given, listed newest first, filtered by time and host, limited;
 * counted by cf_db_stats.  Values are what the test stores. */
struct ev_seen {
	char hosts[256];
	size_t n;
	unsigned long long rtm_old, rtm_new;
	char reasons[128], kernel[64], pool[32];
	bool member, before, now;
};

static int ev_collect(void *ctx, const struct cf_db_event *ev)
{
	struct ev_seen *s = ctx;
	size_t len = strlen(s->hosts);

	snprintf(s->hosts + len, sizeof(s->hosts) - len, "%s%s@%s",
		 len ? " " : "", ev->host, ev->at);
	s->n++;
	if (ev->nfields == 2 && !strcmp(ev->fields[1].feature_old, "rtm") &&
	    !strcmp(ev->fields[1].feature_new, "")) {
		s->rtm_old = ev->fields[1].old_value;
		s->rtm_new = ev->fields[1].new_value;
	}
	if (ev->nverdicts == 1) {
		snprintf(s->reasons, sizeof(s->reasons), "%s",
			 ev->verdicts[0].reasons);
		snprintf(s->pool, sizeof(s->pool), "%s", ev->verdicts[0].pool);
		s->member = ev->verdicts[0].member;
		s->before = ev->verdicts[0].accepted_before;
		s->now = ev->verdicts[0].accepted_now;
	}
	snprintf(s->kernel, sizeof(s->kernel), "%s -> %s", ev->kernel[0],
		 ev->kernel[1]);
	return 0;
}

static void test_db_events(void)
{
	const struct cf_db_event_field fields[] = {
		{ "CPUID_00000007_0_EBX", "hle", "hle", "", 1, 0 },
		{ "CPUID_00000007_0_EBX", "rtm", "rtm", "", 1, 0 },
	};
	const struct cf_db_event_verdict verdicts[] = {
		{ "web", 3, "web", true, true, false, "lacks rtm\nlacks hle" },
	};
	struct cf_db_event ev = {
		.at = T("10:00"), .host = "h1", .arch = "x86",
		.from_report = "r1", .to_report = "r2",
		.kernel = { "6.1.0", "6.12.0" },
		.microcode = { "0x2b000181", "0x2b000590" },
		.nfields = 2, .fields = fields,
		.nverdicts = 1, .verdicts = verdicts,
	};
	struct cf_diag d = { "" };
	struct ev_seen s = { 0 };
	long long seq = 0, seq2 = 0;

	CU_ASSERT_EQUAL(stats().events, 0);
	CU_ASSERT_EQUAL(put("r1", "h1", "c1", "f1", T("09:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(put("r3", "h2", "c3", "f1", T("09:00"), NULL), CF_OK);
	CU_ASSERT_EQUAL(cf_db_event_add(db, &ev, &seq, &d), CF_OK);
	CU_ASSERT(seq > 0);
	ev = (struct cf_db_event){ .at = T("11:00"), .host = "h2" };
	CU_ASSERT_EQUAL(cf_db_event_add(db, &ev, &seq2, &d), CF_OK);
	CU_ASSERT(seq2 > seq);
	/* An unknown host is refused (foreign key): nothing stored. */
	ev.host = "ghost";
	CU_ASSERT_NOT_EQUAL(cf_db_event_add(db, &ev, NULL, &d), CF_OK);
	ev.host = "h2";
	ev.at = "yesterday";
	CU_ASSERT_EQUAL(cf_db_event_add(db, &ev, NULL, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(stats().events, 2);

	CU_ASSERT_EQUAL(cf_db_event_list(db, NULL, NULL, 0, ev_collect, &s),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(s.hosts, "h2@" T("11:00") " h1@" T("10:00"));
	CU_ASSERT_EQUAL(s.rtm_old, 1);
	CU_ASSERT_EQUAL(s.rtm_new, 0);
	CU_ASSERT_STRING_EQUAL(s.reasons, "lacks rtm\nlacks hle");
	CU_ASSERT_STRING_EQUAL(s.pool, "web");
	CU_ASSERT_TRUE(s.member && s.before && !s.now);
	/* The last one seen is h1's (newest first). */
	CU_ASSERT_STRING_EQUAL(s.kernel, "6.1.0 -> 6.12.0");
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(cf_db_event_list(db, T("10:30"), NULL, 0, ev_collect,
					 &s), CF_OK);
	CU_ASSERT_STRING_EQUAL(s.hosts, "h2@" T("11:00"));
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(cf_db_event_list(db, NULL, "h1", 0, ev_collect, &s),
			CF_OK);
	CU_ASSERT_STRING_EQUAL(s.hosts, "h1@" T("10:00"));
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(cf_db_event_list(db, NULL, NULL, 1, ev_collect, &s),
			CF_OK);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(cf_db_event_list(db, "soon", NULL, 1, ev_collect, &s),
			CF_EINVAL);
}

/* ---- uploads stored together ---- */

#define MANY_N      400
#define MANY_HOSTS  6

/* What a sequence of uploads must give, from a model of the rules in
 * db.h, not from the code: a report_id seen before is known (same host
 * and content) or refused; else the content of the host's latest report
 * again is seen again, other content is new; the previous report is the
 * host's latest sighting before. */
struct model {
	struct { char uid[16], host[8], content[8]; } seen[MANY_N];
	size_t nseen;
	struct { char content[8], fp[8], uid[16]; } latest[MANY_HOSTS];
	size_t reports, sightings;
	char history[MANY_HOSTS][MANY_N * 6];
};

struct want {
	enum cf_err err;
	enum cf_db_put_result res;
	char prev_report[16], prev_fp[8];
};

/* SRC into DST (CAP bytes), cut to fit. */
static void set_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void model_put(struct model *m, int h, const char *uid,
		      const char *host, const char *content, const char *fp,
		      struct want *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < m->nseen; i++) {
		if (strcmp(m->seen[i].uid, uid))
			continue;
		if (!strcmp(m->seen[i].host, host) &&
		    !strcmp(m->seen[i].content, content))
			w->res = CF_DB_PUT_KNOWN;
		else
			w->err = CF_ECONFLICT;
		return;
	}
	set_text(w->prev_report, sizeof(w->prev_report), m->latest[h].uid);
	set_text(w->prev_fp, sizeof(w->prev_fp), m->latest[h].fp);
	w->res = m->latest[h].uid[0] && !strcmp(m->latest[h].content, content)
		 ? CF_DB_PUT_SEEN_AGAIN : CF_DB_PUT_NEW;
	m->reports += w->res == CF_DB_PUT_NEW;
	m->sightings++;
	set_text(m->seen[m->nseen].uid, 16, uid);
	set_text(m->seen[m->nseen].host, 8, host);
	set_text(m->seen[m->nseen++].content, 8, content);
	set_text(m->latest[h].content, 8, content);
	set_text(m->latest[h].fp, 8, fp);
	set_text(m->latest[h].uid, 16, uid);
	/* cf_db_host_history's order: newest first. */
	char *hist = m->history[h];
	size_t a = strlen(uid), b = strlen(hist), sep = b ? 1 : 0;

	if (a + sep + b < sizeof(m->history[h])) {
		memmove(hist + a + sep, hist, b + 1);
		memcpy(hist, uid, a);
		if (sep)
			hist[a] = ' ';
	}
}

/* 400 pseudo-random uploads over 6 hosts, stored in chunks of 1 to 12
 * (a chunk ends early where a host or report_id would repeat in it, as
 * the caller must ensure), give what the model says, upload by upload:
 * result, refusal, previous report and fingerprint, and in the end the
 * same counts and each host's history. */
static void test_db_put_many_as_the_model(void)
{
	static struct model m;
	static struct cf_db_upload u[MANY_N];
	static struct cf_db_put p[MANY_N];
	static struct want w[MANY_N];
	static char uid[MANY_N][16], host[MANY_N][8], content[MANY_N][8],
		fp[MANY_N][8], body[MANY_N][48], at[MANY_N][32];
	unsigned long long seed = 20261206;
	struct cf_diag d = { "" };
	size_t start = 0, nuid = 0, chunks = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < MANY_N; i++) {
		int h, c;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		h = (int)((seed >> 33) % MANY_HOSTS);
		c = (int)((seed >> 40) % 4);  /* few contents: seen again */
		snprintf(host[i], 8, "h%d", h);
		snprintf(content[i], 8, "%x%x", h + 10, c + 10);
		snprintf(fp[i], 8, "f%d", c % 3);
		/* One in six reuses an earlier report_id: known or refused. */
		if (nuid && (seed >> 20) % 6 == 0)
			snprintf(uid[i], 16, "%s", uid[(seed >> 45) % i]);
		else
			snprintf(uid[i], 16, "r%zu", nuid++);
		snprintf(body[i], 48, "{\"content\":\"%s\"}", content[i]);
		snprintf(at[i], 32, "2026-11-22T%02zu:%02zu:%02zuZ", i / 3600,
			 i / 60 % 60, i % 60);
		u[i] = (struct cf_db_upload){
			.report_id = uid[i], .host = host[i], .arch = "arm64",
			.hostname = "", .content = content[i],
			.fingerprint = fp[i], .body = body[i],
			.collected_at = at[i], .received_at = at[i],
		};
		p[i] = (struct cf_db_put){ .u = &u[i] };
		model_put(&m, h, uid[i], host[i], content[i], fp[i], &w[i]);
	}
	while (start < MANY_N) {
		size_t end = start + 1;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		for (size_t max = 1 + (seed >> 33) % 12;
		     end < MANY_N && end - start < max; end++) {
			bool clash = false;

			for (size_t k = start; k < end; k++)
				clash |= !strcmp(host[k], host[end]) ||
					 !strcmp(uid[k], uid[end]);
			if (clash)
				break;
		}
		CU_ASSERT_EQUAL_FATAL(cf_db_report_put_many(db, p + start,
							    end - start, &d),
				      CF_OK);
		chunks++;
		start = end;
	}
	CU_ASSERT(chunks < MANY_N / 2);
	for (size_t i = 0; i < MANY_N; i++) {
		CU_ASSERT_EQUAL(p[i].err, w[i].err);
		if (w[i].err != CF_OK) {
			CU_ASSERT_PTR_NOT_NULL(strstr(p[i].diag.msg, uid[i]));
			continue;
		}
		CU_ASSERT_EQUAL(p[i].res, w[i].res);
		if (w[i].res == CF_DB_PUT_KNOWN)
			continue;
		CU_ASSERT_STRING_EQUAL(p[i].prev_report, w[i].prev_report);
		CU_ASSERT_STRING_EQUAL(p[i].prev_fingerprint, w[i].prev_fp);
	}
	CU_ASSERT_EQUAL(stats().reports, m.reports);
	CU_ASSERT_EQUAL(stats().sightings, m.sightings);
	CU_ASSERT_EQUAL(stats().hosts, MANY_HOSTS);
	for (int h = 0; h < MANY_HOSTS; h++) {
		static struct names c;
		char id[16];

		memset(&c, 0, sizeof(c));
		snprintf(id, sizeof(id), "h%u", (unsigned)h % MANY_HOSTS);
		CU_ASSERT_EQUAL(cf_db_host_history(db, id, 0, on_bare_sighting,
						   &c), CF_OK);
		CU_ASSERT_STRING_EQUAL(c.text, m.history[h]);
	}
	CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
}

/* What cf_db_report_put_many refuses as a whole, or one by one. */
static void test_db_put_many_rules(void)
{
	struct cf_db_upload u[3] = {
		{ .report_id = "r1", .host = "h1", .arch = "arm64",
		  .content = "aa", .fingerprint = "f1", .body = "{}",
		  .received_at = T("00:00") },
		{ .report_id = "r2", .host = "h2", .arch = "arm64",
		  .content = "bb", .fingerprint = "f1", .body = "{}",
		  .received_at = T("00:00") },
		{ .report_id = "r3", .host = "h3", .arch = "arm64",
		  .content = "cc", .fingerprint = "f2", .body = "{}",
		  .received_at = "yesterday" },
	};
	struct cf_db_put p[3] = { { .u = &u[0] }, { .u = &u[1] },
				  { .u = &u[2] } };
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	/* One host twice, or one report_id twice: nothing stored. */
	u[1].host = "h1";
	CU_ASSERT_EQUAL(cf_db_report_put_many(db, p, 2, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "host h1 twice"));
	u[1].host = "h2";
	u[1].report_id = "r1";
	CU_ASSERT_EQUAL(cf_db_report_put_many(db, p, 2, &d), CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "report_id r1 twice"));
	CU_ASSERT_EQUAL(stats().hosts, 0);
	u[1].report_id = "r2";
	/* An invalid one is refused alone; the others are stored. */
	CU_ASSERT_EQUAL(cf_db_report_put_many(db, p, 3, &d), CF_OK);
	CU_ASSERT_EQUAL(p[0].err, CF_OK);
	CU_ASSERT_EQUAL(p[0].res, CF_DB_PUT_NEW);
	CU_ASSERT_EQUAL(p[1].err, CF_OK);
	CU_ASSERT_EQUAL(p[2].err, CF_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(p[2].diag.msg, "received_at"));
	CU_ASSERT_EQUAL(stats().hosts, 2);
	CU_ASSERT_EQUAL(stats().configs, 1);
	CU_ASSERT_EQUAL(cf_db_report_put_many(db, p, 0, &d), CF_OK);
}

/* The cases that hold on either backend. */
#define SHARED_TESTS \
	TEST(test_db_reopen_is_idempotent), \
	TEST(test_db_report_put_results), \
	TEST(test_db_report_put_validates), \
	TEST(test_db_put_many_as_the_model), \
	TEST(test_db_put_many_rules), \
	TEST(test_db_history_and_changed), \
	TEST(test_db_host_report_at_a_time), \
	TEST(test_db_config_dedup), \
	TEST(test_db_host_list_and_get), \
	TEST(test_db_callbacks_nest_and_stop), \
	TEST(test_db_labels), \
	TEST(test_db_pool_crud), \
	TEST(test_db_pool_members), \
	TEST(test_db_profiles), \
	TEST(test_db_profiles_are_immutable), \
	TEST(test_db_tokens), \
	TEST(test_db_token_list_shows_revoked), \
	TEST(test_db_roles), \
	TEST(test_db_audit), \
	TEST(test_db_savepoints_keep_other_uploads), \
	TEST(test_db_integrity_check), \
	TEST(test_db_text_rules), \
	TEST(test_db_events)

static CU_TestInfo tests[] = {
	TEST(test_db_open_creates_schema),
	TEST(test_db_read_only),
	TEST(test_db_newer_or_foreign_schema),
	SHARED_TESTS,
	TEST(test_db_migration_reidentifies),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_db = { "db", NULL, NULL, set_up, tear_down, tests };

/* The same cases on PostgreSQL, but those about SQLite files (their
 * PostgreSQL counterparts are test_db_pg.c's) and schema 1, which only
 * SQLite files had. */
static CU_TestInfo pg_tests[] = {
	SHARED_TESTS,
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_db_pg = { "db_pg", NULL, NULL, set_up_pg, tear_down_pg,
			     pg_tests };
