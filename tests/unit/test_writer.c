/* The server's writer (server/writer.c): jobs queued at once with the
 * same cf_writer_many_fn run together in one call, each with its own
 * result; when that call fails, what it wrote is undone and each job runs
 * alone.  On an SQLite file, uploads as the jobs. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "db/db.h"
#include "server/writer.h"
#include "tests/unit/suites.h"

#define K 6

static char dir[64], path[128];
static struct cf_db *db;

static void set_up(void)
{
	db = test_db_open_tmp("cf_writer_test", dir, path);
}

/* The database's figures, read on a connection of its own. */
static struct cf_db_stats figures(void)
{
	struct cf_db_stats s = { 0 };
	struct cf_diag d = { "" };
	struct cf_db *r = NULL;

	CU_ASSERT_EQUAL(cf_db_open(path, true, &r, &d), CF_OK);
	if (r)
		CU_ASSERT_EQUAL(cf_db_stats(r, &s), CF_OK);
	cf_db_close(r);
	return s;
}

static void tear_down(void)
{
	/* The writer closed DB. */
	db = NULL;
	test_db_close_tmp(NULL, dir);
}

struct job {
	struct cf_db_upload u;
	char rid[16], host[16], content[16];
	enum cf_db_put_result res;
};

static struct job jobs[K];
static int ones, manys;
static size_t many_n;
static bool many_fails;

/* ---- a gate a first job waits at, so that the others queue behind it
 * (test_fleet.c's uploads too) ---- */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open, blocking;
static pthread_t gate_thread;

static enum cf_err blocker(struct cf_db *d, void *arg, struct cf_diag *diag)
{
	(void)d;
	(void)arg;
	(void)diag;
	pthread_mutex_lock(&gate_lock);
	blocking = true;
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return CF_OK;
}

static void *run_blocker(void *arg)
{
	struct cf_diag d = { "" };

	cf_writer_run(arg, blocker, NULL, NULL, &d);
	return NULL;
}

void test_writer_hold(struct cf_writer *w)
{
	gate_open = blocking = false;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&gate_thread, NULL, run_blocker,
					     w), 0);
	for (bool b = false; !b; usleep(1000)) {
		pthread_mutex_lock(&gate_lock);
		b = blocking;  /* the writer runs the blocker */
		pthread_mutex_unlock(&gate_lock);
	}
}

void test_writer_wait_queued(struct cf_writer *w, size_t n)
{
	struct cf_writer_stats st;

	do {
		usleep(1000);
		cf_writer_stats(w, &st);
	} while (st.waiting < n);
}

void test_writer_release(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	pthread_join(gate_thread, NULL);
}

static enum cf_err one(struct cf_db *d, void *arg, struct cf_diag *diag)
{
	struct job *j = arg;

	__atomic_fetch_add(&ones, 1, __ATOMIC_SEQ_CST);
	return cf_db_report_put(d, &j->u, &j->res, diag);
}

/* Stores each job, refuses job 2 (CF_EINVAL) with a sentence naming it;
 * with MANY_FAILS, then fails as a statement would. */
static enum cf_err many(struct cf_db *d, void *const *args, size_t n,
			enum cf_err *res, struct cf_diag *diags,
			struct cf_diag *diag)
{
	manys++;
	many_n = n;
	for (size_t i = 0; i < n; i++) {
		struct job *j = args[i];

		if (j == &jobs[2]) {
			res[i] = CF_EINVAL;
			snprintf(diags[i].msg, sizeof(diags[i].msg), "job %s "
				 "refused", j->rid);
			continue;
		}
		res[i] = cf_db_report_put(d, &j->u, &j->res, diag);
		if (res[i] != CF_OK)
			return res[i];
	}
	if (many_fails) {
		snprintf(diag->msg, sizeof(diag->msg), "a statement failed");
		return CF_EDB;
	}
	return CF_OK;
}

struct runner {
	struct cf_writer *w;
	struct job *j;
	enum cf_err err;
	struct cf_diag d;
};

static void *run_job(void *arg)
{
	struct runner *r = arg;

	r->err = cf_writer_run(r->w, one, many, r->j, &r->d);
	return NULL;
}

/* K uploads queued behind a blocker; returns once all are answered. */
static void run_k(struct cf_writer *w, struct runner *r)
{
	pthread_t t[K];

	ones = manys = 0;
	many_n = 0;
	test_writer_hold(w);
	for (int i = 0; i < K; i++) {
		struct job *j = &jobs[i];

		snprintf(j->rid, sizeof(j->rid), "r%d", i);
		snprintf(j->host, sizeof(j->host), "h%d", i);
		snprintf(j->content, sizeof(j->content), "a%d", i);
		j->u = (struct cf_db_upload){
			.report_id = j->rid, .host = j->host, .arch = "x86",
			.hostname = "", .content = j->content,
			.fingerprint = "f1", .body = "{}", .collected_at = "",
			.received_at = "2026-12-06T22:00:00Z",
		};
		r[i] = (struct runner){ .w = w, .j = j };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, run_job,
						     &r[i]), 0);
	}
	test_writer_wait_queued(w, K);
	test_writer_release();
	for (int i = 0; i < K; i++)
		pthread_join(t[i], NULL);
}

/* A writer on the suite's database, the K uploads run through it. */
static struct cf_writer *run_writer(bool fails, struct runner *r)
{
	struct cf_diag d = { "" };
	struct cf_writer *w = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL_FATAL(cf_writer_start(db, &w, &d), CF_OK);
	many_fails = fails;
	run_k(w, r);
	return w;
}

static void test_writer_runs_together(void)
{
	struct cf_writer_stats st;
	struct runner r[K];
	struct cf_writer *w = run_writer(false, r);
	struct cf_db_stats s;

	CU_ASSERT_EQUAL(manys, 1);
	CU_ASSERT_EQUAL(many_n, K);
	CU_ASSERT_EQUAL(ones, 0);
	for (int i = 0; i < K; i++) {
		CU_ASSERT_EQUAL(r[i].err, i == 2 ? CF_EINVAL : CF_OK);
		if (i == 2)
			CU_ASSERT_STRING_EQUAL(r[i].d.msg, "job r2 refused");
	}
	cf_writer_stats(w, &st);
	CU_ASSERT_EQUAL(st.together, K);
	CU_ASSERT_EQUAL(st.apart, 0);
	CU_ASSERT_EQUAL(st.failed, 1);
	/* The blocker's batch, then one for the K. */
	CU_ASSERT_EQUAL(st.batches, 2);
	cf_writer_stop(w);
	s = figures();
	CU_ASSERT_EQUAL(s.sightings, K - 1);
}

static void test_writer_reruns_alone(void)
{
	struct cf_writer_stats st;
	struct runner r[K];
	struct cf_writer *w = run_writer(true, r);
	struct cf_db_stats s;

	CU_ASSERT_EQUAL(manys, 1);
	/* Alone, job 2 is stored too: only the call together refused it.
	 * Each is new: nothing of the call together was kept. */
	CU_ASSERT_EQUAL(ones, K);
	for (int i = 0; i < K; i++) {
		CU_ASSERT_EQUAL(r[i].err, CF_OK);
		CU_ASSERT_EQUAL(jobs[i].res, CF_DB_PUT_NEW);
	}
	cf_writer_stats(w, &st);
	CU_ASSERT_EQUAL(st.together, 0);
	CU_ASSERT_EQUAL(st.apart, 1);
	/* What the failed call stored was undone: each report once. */
	cf_writer_stop(w);
	s = figures();
	CU_ASSERT_EQUAL(s.sightings, K);
	CU_ASSERT_EQUAL(s.reports, K);
}

static CU_TestInfo tests[] = {
	TEST(test_writer_runs_together),
	TEST(test_writer_reruns_alone),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_writer = { "writer", NULL, NULL, set_up, tear_down,
			      tests };
