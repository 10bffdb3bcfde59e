/* What is particular to the PostgreSQL backend: the path's scheme choosing
 * the backend, a URL's password never shown, migrations on an empty
 * database and re-open, read-only opens, a newer or foreign schema, and
 * two connections writing at once (a second server on one database, issue
 * 14 point 2).  The database cases run against the cluster whose base URL
 * is in CF_TEST_PG (the Makefile's unit target starts one with
 * tests/lib/pgcluster.py), a fresh database each; the shared cases of
 * test_db.c run there too, as the suite db_pg.  Without CF_TEST_PG the
 * suite prints "skip: db_pg: <why>". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "db/db.h"
#include "tests/unit/suites.h"

#define T(n) "2026-11-22T04:" n "Z"

const char *test_pg_base(void)
{
	const char *b = getenv("CF_TEST_PG");

	return b && *b ? b : NULL;
}

/* SQL on database URL; 0, 1 for a constraint or trigger refusing it
 * (SQLSTATE class 23, P0001), -1 otherwise.  *OUT (may be NULL) the first
 * row's first column. */
int test_pg_sql(const char *url, const char *sql, long long *out)
{
	PGconn *c = PQconnectdb(url);
	PGresult *res = NULL;
	int rc = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET client_min_messages = warning"));
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK) {
			rc = 0;
			if (out && PQntuples(res) > 0)
				*out = strtoll(PQgetvalue(res, 0, 0), NULL,
					       10);
		} else {
			const char *st = PQresultErrorField(res,
							    PG_DIAG_SQLSTATE);
			if (st && (!strncmp(st, "23", 2) ||
				   !strcmp(st, "P0001")))
				rc = 1;
		}
	}
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* A fresh, empty database: its URL into URL (CAP bytes). */
bool test_pg_createdb(char *url, size_t cap)
{
	static int seq;
	char admin[256], sql[128], name[64];

	snprintf(name, sizeof(name), "cf_t_%ld_%d", (long)getpid(), ++seq);
	snprintf(admin, sizeof(admin), "%s/postgres", test_pg_base());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (test_pg_sql(admin, sql, NULL) != 0)
		return false;
	return (size_t)snprintf(url, cap, "%s/%s", test_pg_base(), name) < cap;
}

void test_pg_dropdb(const char *url)
{
	char admin[256], sql[128];
	const char *name = strrchr(url, '/');

	if (!name || !test_pg_base())
		return;
	snprintf(admin, sizeof(admin), "%s/postgres", test_pg_base());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 name + 1);
	test_pg_sql(admin, sql, NULL);
}

/* ---- without a server ---- */

/* db.h: a postgresql:// or postgres:// URL (libpq's two URI schemes,
 * PostgreSQL 15 documentation, 34.1.1.2 "Connection URIs") is PostgreSQL,
 * anything else an SQLite file. */
static void test_db_url_scheme(void)
{
	char out[256];

	CU_ASSERT_TRUE(cf_db_is_url("postgresql://h/db"));
	CU_ASSERT_TRUE(cf_db_is_url("postgres://u@h:5432/db"));
	CU_ASSERT_FALSE(cf_db_is_url("fleet.db"));
	CU_ASSERT_FALSE(cf_db_is_url("/var/lib/postgresql/fleet.db"));
	CU_ASSERT_FALSE(cf_db_is_url("./postgresql://x"));
	CU_ASSERT_FALSE(cf_db_is_url("file:fleet.db"));
	cf_db_path_show("postgresql://u:hunter2@h:5/db?sslmode=require&"
			"password=s3cret&application_name=x", out,
			sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "postgresql://u:***@h:5/db?sslmode=require&"
			       "password=***&application_name=x");
	cf_db_path_show("postgres://u@h/db", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "postgres://u@h/db");
	cf_db_path_show("/tmp/a:b@c.db", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "/tmp/a:b@c.db");
	cf_db_path_show("postgresql://u:hunter2@h/db", out, 12);
	CU_ASSERT_PTR_NULL(strstr(out, "hunter2"));
}

/* Nothing listens on port 1: the open fails as a failure to connect, and
 * the diagnostic names the URL without its password. */
static void test_db_url_error_hides_password(void)
{
	struct cf_diag d = { "" };
	struct cf_db *x = NULL;

	CU_ASSERT_EQUAL(cf_db_open("postgresql://cf:hunter2@127.0.0.1:1/none"
				   "?connect_timeout=2", false, &x, &d),
			CF_EIO);
	CU_ASSERT_PTR_NULL(x);
	CU_ASSERT_PTR_NULL(strstr(d.msg, "hunter2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "postgresql://cf:***@127.0.0.1"));
}

static CU_TestInfo url_tests[] = {
	TEST(test_db_url_scheme),
	TEST(test_db_url_error_hides_password),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_db_url = { "db_url", NULL, NULL, NULL, NULL, url_tests };

/* ---- on a server ---- */

static char url[256];

static void pg_set_up(void)
{
	url[0] = '\0';
	if (!test_pg_createdb(url, sizeof(url)))
		url[0] = '\0';
}

static void pg_tear_down(void)
{
	if (url[0])
		test_pg_dropdb(url);
}

static long long q(const char *sql)
{
	long long v = -1;

	if (test_pg_sql(url, sql, &v) != 0)
		return -2;
	return v;
}

#define TABLES \
	"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND" \
	" tablename IN ('hosts', 'configs', 'reports', 'sightings', 'pools'," \
	" 'profile_versions', 'profile_sources', 'tokens', 'audit', 'events'," \
	" 'event_fields', 'event_verdicts')"

static void test_db_pg_migrates_empty_database(void)
{
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;
	struct cf_db_stats s;

	CU_ASSERT_FATAL(url[0] != '\0');
	CU_ASSERT_EQUAL(q(TABLES), 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(cf_db_open(url, false, &db, &d), CF_OK);
		CU_ASSERT_EQUAL(cf_db_schema_version(db), cf_db_schema_latest());
		CU_ASSERT_EQUAL(cf_db_integrity_check(db, &d), CF_OK);
		CU_ASSERT_EQUAL(cf_db_stats(db, &s), CF_OK);
		CU_ASSERT_EQUAL(s.hosts, 0);
		cf_db_close(db);
		db = NULL;
	}
	/* The version in a table, one row; every table of the schema. */
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM cf_schema"), 1);
	CU_ASSERT_EQUAL(q("SELECT version FROM cf_schema"),
			cf_db_schema_latest());
	CU_ASSERT_EQUAL(q(TABLES), 12);
}

static void test_db_pg_read_only(void)
{
	struct cf_diag d = { "" };
	struct cf_db *ro = NULL, *rw = NULL;
	struct cf_db_stats s;
	bool created = true;

	CU_ASSERT_FATAL(url[0] != '\0');
	/* Read-only never migrates: an empty database is too old. */
	CU_ASSERT_EQUAL(cf_db_open(url, true, &ro, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "run the server once to migrate"));
	CU_ASSERT_PTR_NULL(ro);
	CU_ASSERT_EQUAL(q(TABLES), 0);
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM pg_tables WHERE"
			  " tablename = 'cf_schema'"), 0);

	CU_ASSERT_EQUAL_FATAL(cf_db_open(url, false, &rw, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_db_open(url, true, &ro, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_schema_version(ro), cf_db_schema_latest());
	CU_ASSERT_EQUAL(cf_db_pool_put(ro, "p", NULL, NULL, "cli", T("00:00"),
				       &created, &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_db_begin(ro, &d), CF_EINVAL);
	/* What the writer commits, the reader sees. */
	CU_ASSERT_EQUAL(cf_db_pool_put(rw, "p", NULL, "[\"h1\"]", "cli",
				       T("00:00"), &created, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_db_stats(ro, &s), CF_OK);
	CU_ASSERT_EQUAL(s.pools, 1);
	cf_db_close(ro);
	cf_db_close(rw);
}

static void test_db_pg_newer_or_foreign_schema(void)
{
	struct cf_diag d = { "" };
	struct cf_db *x = NULL;
	char sql[64], other[256];
	long long n;

	CU_ASSERT_FATAL(url[0] != '\0');
	CU_ASSERT_EQUAL_FATAL(cf_db_open(url, false, &x, &d), CF_OK);
	cf_db_close(x);
	x = NULL;
	snprintf(sql, sizeof(sql), "UPDATE cf_schema SET version = %d",
		 cf_db_schema_latest() + 1);
	CU_ASSERT_EQUAL(q(sql), -1);   /* no row to read: done */
	CU_ASSERT_EQUAL(cf_db_open(url, false, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "newer"));
	CU_ASSERT_EQUAL(cf_db_open(url, true, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NULL(x);

	/* Someone else's database is left alone. */
	CU_ASSERT_FATAL(test_pg_createdb(other, sizeof(other)));
	CU_ASSERT_EQUAL(test_pg_sql(other, "CREATE TABLE t (x int)", NULL), 0);
	CU_ASSERT_EQUAL(cf_db_open(other, false, &x, &d), CF_EDB);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not a cpufleet database"));
	CU_ASSERT_PTR_NULL(x);
	n = -1;
	CU_ASSERT_EQUAL(test_pg_sql(other, "SELECT count(*) FROM pg_tables "
				    "WHERE schemaname = 'public'", &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	test_pg_dropdb(other);
}

/* ---- two writers at once ---- */

#define ROUNDS 15

struct writer {
	pthread_barrier_t *go;
	int who;
	enum cf_err err[ROUNDS];
	int version[ROUNDS];
	enum cf_db_put_result res[ROUNDS];
	char msg[CF_DIAG_MAX + 64];
};

/* FN in two threads, each on W[i] (cleared, who = i), started at once
 * once both connected. */
static void two_writers(void *(*fn)(void *), struct writer w[2])
{
	pthread_barrier_t go;
	pthread_t t[2];

	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].go = &go;
		w[i].who = i;
		pthread_create(&t[i], NULL, fn, &w[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
}

static void *publisher(void *arg)
{
	struct writer *w = arg;
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;

	if (cf_db_open(url, false, &db, &d) != CF_OK)
		snprintf(w->msg, sizeof(w->msg), "%s", d.msg);
	pthread_barrier_wait(w->go);
	for (int i = 0; db && i < ROUNDS; i++) {
		w->err[i] = cf_db_profile_publish(db, "base", "{}", "", NULL, 0,
						  "cli", T("00:00"),
						  &w->version[i], &d);
		if (w->err[i] != CF_OK)
			snprintf(w->msg, sizeof(w->msg), "%s", d.msg);
	}
	cf_db_close(db);
	return NULL;
}

/* db.h: each publish is "the next version of NAME".  Two servers
 * publishing one name at once still number 1..2N, each version once. */
static void test_db_pg_concurrent_publish(void)
{
	struct writer w[2];
	bool seen[2 * ROUNDS + 1] = { false };
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;

	CU_ASSERT_FATAL(url[0] != '\0');
	CU_ASSERT_EQUAL_FATAL(cf_db_open(url, false, &db, &d), CF_OK);
	cf_db_close(db);
	two_writers(publisher, w);
	for (int i = 0; i < 2; i++) {
		if (w[i].msg[0])
			fprintf(stderr, "\n  publisher %d: %s\n", i, w[i].msg);
		for (int r = 0; r < ROUNDS; r++) {
			int v = w[i].version[r];
			CU_ASSERT_EQUAL(w[i].err[r], CF_OK);
			CU_ASSERT(v >= 1 && v <= 2 * ROUNDS);
			if (v >= 1 && v <= 2 * ROUNDS) {
				CU_ASSERT_FALSE(seen[v]);
				seen[v] = true;
			}
		}
	}
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM profile_versions"), 2 * ROUNDS);
	CU_ASSERT_EQUAL(q("SELECT max(version) FROM profile_versions"),
			2 * ROUNDS);
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM audit WHERE"
			  " action = 'profile.publish'"), 2 * ROUNDS);
}

static void *uploader(void *arg)
{
	struct writer *w = arg;
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;
	char rid[32], content[32];
	struct cf_db_upload u = {
		.host = "h1", .arch = "arm64", .hostname = "", .body = "{}",
		.fingerprint = "f1", .collected_at = "",
		.received_at = T("00:00"),
	};

	if (cf_db_open(url, false, &db, &d) != CF_OK)
		snprintf(w->msg, sizeof(w->msg), "%s", d.msg);
	pthread_barrier_wait(w->go);
	for (int i = 0; db && i < 2 * ROUNDS; i++) {
		enum cf_err err;

		/* Its own report, then one both upload (content: hex). */
		if (i % 2 == 0)
			snprintf(rid, sizeof(rid), "r%d-%d", w->who, i);
		else
			snprintf(rid, sizeof(rid), "s%d", i);
		snprintf(content, sizeof(content), "%x0", i % 2 ? i : 12);
		u.report_id = rid;
		u.content = content;
		err = cf_db_report_put(db, &u, &w->res[i / 2], &d);
		if (err != CF_OK)
			snprintf(w->msg, sizeof(w->msg), "%s: %s", rid, d.msg);
		if (i % 2 == 0)
			w->err[i / 2] = err;
		else if (err != CF_OK)
			w->res[i / 2] = 0;
	}
	cf_db_close(db);
	return NULL;
}

/* db.h: the host row is "created on first report"; a report_id stored
 * once; the same report_id with the same content is KNOWN.  Two servers
 * uploading one host at once make one host and every sighting, and of the
 * reports both upload, one stores each and the other finds it known. */
static void test_db_pg_concurrent_upload(void)
{
	struct writer w[2];
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;

	CU_ASSERT_FATAL(url[0] != '\0');
	CU_ASSERT_EQUAL_FATAL(cf_db_open(url, false, &db, &d), CF_OK);
	cf_db_close(db);
	two_writers(uploader, w);
	for (int i = 0; i < 2; i++)
		if (w[i].msg[0])
			fprintf(stderr, "\n  uploader %d: %s\n", i, w[i].msg);
	for (int r = 0; r < ROUNDS; r++) {
		enum cf_db_put_result a = w[0].res[r], b = w[1].res[r];
		CU_ASSERT_EQUAL(w[0].err[r], CF_OK);
		CU_ASSERT_EQUAL(w[1].err[r], CF_OK);
		CU_ASSERT((a == CF_DB_PUT_KNOWN) != (b == CF_DB_PUT_KNOWN));
		CU_ASSERT(a != 0 && b != 0);
	}
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM hosts"), 1);
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM sightings"), 3 * ROUNDS);
	CU_ASSERT_EQUAL(q("SELECT count(DISTINCT report_uid) FROM sightings"),
			3 * ROUNDS);
	CU_ASSERT_EQUAL(q("SELECT count(*) FROM configs"), 1);
}

static CU_TestInfo pg_tests[] = {
	TEST(test_db_pg_migrates_empty_database),
	TEST(test_db_pg_read_only),
	TEST(test_db_pg_newer_or_foreign_schema),
	TEST(test_db_pg_concurrent_publish),
	TEST(test_db_pg_concurrent_upload),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_db_pg_only = { "db_pg_only", NULL, NULL, pg_set_up,
				  pg_tear_down, pg_tests };

/* Without a cluster, the PostgreSQL suites have no tests, and say so. */
void test_db_pg_prepare(void)
{
	static CU_TestInfo none[] = { CU_TEST_INFO_NULL };

	if (test_pg_base())
		return;
	printf("skip: db_pg: CF_TEST_PG is not set (make unit starts a "
	       "PostgreSQL cluster with tests/lib/pgcluster.py)\n");
	suite_db_pg.pTests = none;
	suite_db_pg_only.pTests = none;
}
