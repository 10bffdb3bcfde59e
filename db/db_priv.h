/* What the files of db/ share, whatever the backend: the statement ids,
 * the backend interface (one struct cf_db_ops per backend: SQLite in
 * sqlite.c, PostgreSQL in pg.c, each with its own SQL table for the same
 * ids), the neutral helpers that run statements and read rows (stmt.c),
 * transactions (db.c) and the audit row every write adds (audit.c).  The
 * table families (hosts.c, pools.c, ...) use only this header, so their
 * logic exists once.  Not installed, not for callers. */
#ifndef CF_DB_PRIV_H
#define CF_DB_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "db/db.h"

/* The schema version both backends' migration lists reach. */
#define CF_DB_SCHEMA_LATEST 3

/* The statements, by family; each backend's table has their SQL. */
enum cf_db_st {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SP, ST_SP_RELEASE, ST_SP_ROLLBACK,
	ST_OP, ST_OP_RELEASE, ST_OP_ROLLBACK,
	ST_AUDIT_INSERT, ST_AUDIT_LIST,
	ST_TOKEN_INSERT, ST_TOKEN_LOOKUP, ST_TOKEN_LIST, ST_TOKEN_GET,
	ST_TOKEN_REVOKE,
	ST_UID_MANY, ST_HOST_UPSERT_MANY, ST_HOST_LATEST_MANY,
	ST_CONFIG_FIND_MANY, ST_CONFIG_INSERT_MANY, ST_REPORT_INSERT_MANY,
	ST_SIGHTING_INSERT_MANY, ST_REPORT_BODY,
	ST_HOST_LIST, ST_HOST_GET, ST_HOST_EXISTS, ST_HOST_SET_LABELS,
	ST_HOST_REPORT, ST_HOST_HISTORY,
	ST_POOL_EXISTS, ST_POOL_UPSERT, ST_POOL_GET, ST_POOL_LIST,
	ST_POOL_DELETE, ST_POOL_MEMBERS, ST_POOL_LATEST,
	ST_PROFILE_LOCK, ST_PROFILE_NEXT, ST_PROFILE_INSERT, ST_SOURCE_INSERT,
	ST_PROFILE_GET, ST_PROFILE_SOURCES, ST_PROFILE_VERSIONS,
	ST_PROFILE_LATEST,
	ST_STATS,
	ST_EVENT_INSERT, ST_EVENT_FIELD_INSERT, ST_EVENT_VERDICT_INSERT,
	ST_EVENT_LIST, ST_EVENT_FIELDS, ST_EVENT_VERDICTS,
	ST_COUNT
};

/* The content of the host's sighting before sighting S's (a column). */
#define CF_SQL_PREV_CONTENT \
	" (SELECT r2.content FROM sightings s2" \
	"  JOIN reports r2 ON r2.id = s2.report_row" \
	"  WHERE s2.host_id = s.host_id AND s2.seq < s.seq" \
	"  ORDER BY s2.seq DESC LIMIT 1)"

/* sql.c: statement ID's SQL, DIALECT's (a backend's table) if it has one,
 * else the one both backends share. */
const char *cf_db_sql(const char *const dialect[ST_COUNT], enum cf_db_st id);

/* A backend's current row: H and I are the backend's (a statement, or a
 * result and a row number). */
struct cf_db_row {
	const struct cf_db_ops *ops;
	void *h;
	int i;
};
/* Hands a row to its reader; a non-zero return stops the walk. */
typedef int (*cf_db_row_fn)(void *ctx, const struct cf_db_row *r);

/* One argument of a statement: 't' text (T, NULL binds NULL) or 'l' an
 * integer (L). */
struct cf_db_arg {
	char type;
	const char *t;
	long long l;
};
#define CF_DB_ARGS_MAX 16

/* What a backend supplies.  RUN runs statement ID with ARGS, hands each
 * row to ROW (may be NULL) until it returns non-zero, says in *ANY whether
 * a row came and, on failure, puts "database: WHAT: <reason>" in D (may be
 * NULL).  Results stay valid while ROW runs, which may call back in. */
struct cf_db_ops {
	const char *name;
	enum cf_err (*run)(struct cf_db *db, enum cf_db_st id,
			   const struct cf_db_arg *args, int nargs,
			   cf_db_row_fn row, void *ctx, bool *any,
			   const char *what, struct cf_diag *d);
	/* Inside a transaction (also a failed one not yet rolled back). */
	bool (*in_tx)(struct cf_db *db);
	/* Rows the last statement run inserted, updated or deleted. */
	long long (*changes)(struct cf_db *db);
	const char *(*col_text)(const struct cf_db_row *r, int col);
	size_t (*col_bytes)(const struct cf_db_row *r, int col);
	long long (*col_int64)(const struct cf_db_row *r, int col);
	bool (*col_null)(const struct cf_db_row *r, int col);
	int (*schema_version)(struct cf_db *db);
	enum cf_err (*integrity)(struct cf_db *db, struct cf_diag *d);
	void (*close)(struct cf_db *db);
};

struct cf_db {
	const struct cf_db_ops *ops;
	bool readonly;
	void *be;              /* the backend's connection state */
};

/* ---- the backends (sqlite.c, pg.c) ---- */

/* Connects DB->be to PATH (DB->readonly set), runs the migrations. */
enum cf_err cf_db_sqlite_open(struct cf_db *db, const char *path,
			      struct cf_diag *d);
enum cf_err cf_db_pg_open(struct cf_db *db, const char *url,
			  struct cf_diag *d);

/* ---- stmt.c: running statements, reading rows ---- */

/* Runs ID with the arguments FMT describes ('t' const char *, 'i' int,
 * 'l' long long) and hands each row to ROW (may be NULL) until it returns
 * non-zero; *FOUND (may be NULL) says whether a row came. */
enum cf_err cf_db_query(struct cf_db *db, enum cf_db_st id, const char *what,
			struct cf_diag *d, cf_db_row_fn row, void *ctx,
			bool *found, const char *fmt, ...);
/* Runs ID to its end. */
#define cf_db_exec(db, id, what, d, ...) \
	cf_db_query((db), (id), (what), (d), NULL, NULL, NULL, __VA_ARGS__)
/* The first row's column 0 as an integer into *OUT (long long *); *FOUND
 * as above. */
#define cf_db_int(db, id, what, d, out, found, ...) \
	cf_db_query((db), (id), (what), (d), cf_db_first_int, (out), (found), \
		    __VA_ARGS__)
/* A row reader: column 0 as an integer into *CTX (long long *), then
 * stop. */
int cf_db_first_int(void *ctx, const struct cf_db_row *r);
/* Statement ID without arguments. */
enum cf_err cf_db_st_run(struct cf_db *db, enum cf_db_st id,
			 struct cf_diag *d);
/* As cf_db_query without a diagnostic; with MUST_FIND, no row is
 * CF_ENOTFOUND. */
enum cf_err cf_db_walk(struct cf_db *db, enum cf_db_st id, bool must_find,
		       cf_db_row_fn row, void *ctx, const char *fmt, ...);
/* Rows the last statement changed. */
long long cf_db_changes(struct cf_db *db);

/* The caller's callback and its context, for a row converter. */
struct cf_db_visit {
	union {
		cf_db_audit_fn audit;
		cf_db_token_fn token;
		cf_db_host_fn host;
		cf_db_sighting_fn sighting;
		cf_db_pool_fn pool;
		cf_db_name_fn name;
		cf_db_latest_fn latest;
		cf_db_profile_fn profile;
	} fn;
	void *ctx;
};

/* A LIMIT argument: 0 (all) and what does not fit are INT64_MAX. */
long long cf_db_limit_arg(size_t limit);
/* Column COL's text into DST (CAP bytes), cut on a UTF-8 boundary. */
void cf_db_col_copy(char *dst, size_t cap, const struct cf_db_row *r,
		    int col);
/* Column COL's text, "" for NULL; valid until the row moves. */
const char *cf_db_col_text(const struct cf_db_row *r, int col);
size_t cf_db_col_bytes(const struct cf_db_row *r, int col);
long long cf_db_col_int64(const struct cf_db_row *r, int col);
bool cf_db_col_null(const struct cf_db_row *r, int col);
/* A sighting from columns 0-4 (report_id, received_at, collected_at,
 * content, fingerprint) and PREV_COL (the previous sighting's content). */
void cf_db_sighting_fill(struct cf_db_sighting *si, const struct cf_db_row *r,
			 int prev_col);

/* ---- db.c: a write of ours, the schema version ---- */

/* A database (WHERE, as shown) of schema V: CF_EDB when it is newer than
 * this build's, or older and DB is read-only (it cannot migrate). */
enum cf_err cf_db_version_ok(struct cf_db *db, const char *where, int v,
			     struct cf_diag *d);

/* A transaction, or a savepoint inside the caller's; *OWN says which. */
enum cf_err cf_db_wtx_begin(struct cf_db *db, bool *own, struct cf_diag *d);
/* Commits on ERR == CF_OK, else undoes; D keeps the first problem. */
enum cf_err cf_db_wtx_end(struct cf_db *db, bool own, enum cf_err err,
			  struct cf_diag *d);

/* ---- audit.c ---- */

/* The audit row of a write, in the write's transaction; DETAIL may be
 * NULL ({}). */
enum cf_err cf_db_audit_add(struct cf_db *db, const char *at,
			    const char *actor, const char *action,
			    const char *object, const cJSON *detail,
			    struct cf_diag *d);

#endif
