/* One CUnit suite per module; each test_<module>.c defines suite_<module>. */
#ifndef CF_TEST_SUITES_H
#define CF_TEST_SUITES_H

#include <CUnit/CUnit.h>
#include <cpufleet.h>
#include <cjson/cJSON.h>

#define TEST(fn) { #fn, fn }

extern CU_SuiteInfo suite_err;
extern CU_SuiteInfo suite_catalog;
extern CU_SuiteInfo suite_config;
extern CU_SuiteInfo suite_report_doc;
extern CU_SuiteInfo suite_pool;
extern CU_SuiteInfo suite_pools;
extern CU_SuiteInfo suite_baseline;
extern CU_SuiteInfo suite_check;
extern CU_SuiteInfo suite_explain;
extern CU_SuiteInfo suite_profile_doc;
extern CU_SuiteInfo suite_property;
extern CU_SuiteInfo suite_labdata;
extern CU_SuiteInfo suite_spool;
extern CU_SuiteInfo suite_agent;
extern CU_SuiteInfo suite_db;
extern CU_SuiteInfo suite_db_url;
extern CU_SuiteInfo suite_db_pg;
extern CU_SuiteInfo suite_db_pg_only;
extern CU_SuiteInfo suite_x86;
extern CU_SuiteInfo suite_x86_safety;
extern CU_SuiteInfo suite_deps;
extern CU_SuiteInfo suite_identity;
extern CU_SuiteInfo suite_sha256;
extern CU_SuiteInfo suite_idpolicy;
extern CU_SuiteInfo suite_edges;
extern CU_SuiteInfo suite_smccc;
extern CU_SuiteInfo suite_export;
extern CU_SuiteInfo suite_fleet;
extern CU_SuiteInfo suite_writer;
extern CU_SuiteInfo suite_tokcache;

/* test_writer.c: W runs a job that holds it until test_writer_release(),
 * so that the jobs queued meanwhile run as one batch, in their order;
 * test_writer_wait_queued returns once N jobs wait. */
struct cf_writer;
void test_writer_hold(struct cf_writer *w);
void test_writer_wait_queued(struct cf_writer *w, size_t n);
void test_writer_release(void);
extern CU_SuiteInfo suite_text;
extern CU_SuiteInfo suite_levels;
extern CU_SuiteInfo suite_driver;
extern CU_SuiteInfo suite_strset;
extern CU_SuiteInfo suite_kernel;

/* test_db_pg.c: the PostgreSQL cluster's base URL (CF_TEST_PG), NULL
 * without one; SQL on a database (0 done, 1 refused by a constraint or a
 * trigger, -1 another failure; *OUT the first value); a fresh database;
 * dropping it; emptying the PostgreSQL suites when there is no cluster. */
const char *test_pg_base(void);
int test_pg_sql(const char *url, const char *sql, long long *out);
bool test_pg_createdb(char *url, size_t cap);
void test_pg_dropdb(const char *url);
void test_db_pg_prepare(void);

/* A fresh directory DIR ("/tmp/PREFIX_XXXXXX") with the database PATH
 * (DIR/fleet.db) opened in it; NULL (and a message) on failure, DIR ""
 * when none was made. */
struct cf_db;
struct cf_db *test_db_open_tmp(const char *prefix, char dir[64],
			       char path[128]);
/* Closes DB (may be NULL) and removes DIR with the files in it. */
void test_db_close_tmp(struct cf_db *db, char dir[64]);
/* Loads tests/data/<rel> (tests run from the repository root). */
struct cf_report *test_load_report(const char *rel);
/* tests/data/<rel> as a JSON document, NULL (and a message) if unreadable. */
cJSON *test_load_json(const char *rel);
/* The report an (edited) JSON document is, NULL and a message if none. */
struct cf_report *test_report_of_json(const cJSON *doc);
/* DOC (an arm64 report's JSON) with the registers every KVM reports
 * (catalogue flag `required`) that its id_regs lack added as 0: tests of
 * other rules name only the registers they are about.  DOC unchanged if it
 * has no $.arm64.id_regs object.  Free the result. */
char *test_with_required(const char *doc);
/* A report of arm64 host ID whose remaining top-level members are given by
 * FMT (e.g. "\"arm64\":{\"id_regs\":{...}}"), with test_with_required();
 * NULL (and a message) if it does not parse. */
struct cf_report *test_reportf(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* tests/data/<rel> as host ID with "kvm": {"caps": CAPS} (a JSON object)
 * instead of whatever capabilities the file has: a modified copy, the file
 * is left alone. */
struct cf_report *test_load_report_caps(const char *rel, const char *id,
					const char *caps);
/* The next number of the xorshift64 generator at *STATE (not 0):
 * reproducible random tests. */
uint64_t test_rnd(uint64_t *state);
/* Does profile PR list field FI of register KEY among what its baseline
 * left out for a lost need (struct cf_dropped)? */
bool test_said_dropped(const struct cf_profile *pr, uint64_t key, int fi);
/* The baseline of the pool {A, B}. */
struct cf_profile *test_baseline_of2(const struct cf_report *a,
				     const struct cf_report *b);

#endif
