/* What the files of the SQLite implementation of db.h share: the
 * connection, the statement table and cache (stmt.c), transactions (db.c),
 * the migrations (schema.c) and the audit row every write adds (audit.c).
 * Only SQLite-specific files include this; what a second backend would
 * share with this one is in args.h.  Not installed, not for callers. */
#ifndef CF_DB_PRIV_H
#define CF_DB_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "db/db.h"

#define CF_DB_APP_ID 0x43464c54      /* "CFLT" in the file header */

/* The statements, by family; their SQL is stmt.c's table. */
enum cf_db_st {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SP, ST_SP_RELEASE, ST_SP_ROLLBACK,
	ST_OP, ST_OP_RELEASE, ST_OP_ROLLBACK,
	ST_USER_VERSION,
	ST_AUDIT_INSERT, ST_AUDIT_LIST,
	ST_TOKEN_INSERT, ST_TOKEN_LOOKUP, ST_TOKEN_LIST, ST_TOKEN_GET,
	ST_TOKEN_REVOKE,
	ST_SIGHTING_BY_UID, ST_HOST_LATEST, ST_HOST_UPSERT, ST_CONFIG_FIND,
	ST_CONFIG_INSERT, ST_REPORT_INSERT, ST_SIGHTING_INSERT,
	ST_HOST_LIST, ST_HOST_GET, ST_HOST_EXISTS, ST_HOST_SET_LABELS,
	ST_HOST_REPORT, ST_HOST_HISTORY,
	ST_POOL_EXISTS, ST_POOL_UPSERT, ST_POOL_GET, ST_POOL_LIST,
	ST_POOL_DELETE, ST_POOL_MEMBERS, ST_POOL_LATEST,
	ST_PROFILE_NEXT, ST_PROFILE_INSERT, ST_SOURCE_INSERT, ST_PROFILE_GET,
	ST_PROFILE_SOURCES, ST_PROFILE_VERSIONS, ST_PROFILE_LATEST,
	ST_STATS,
	ST_EVENT_INSERT, ST_EVENT_FIELD_INSERT, ST_EVENT_VERDICT_INSERT,
	ST_EVENT_LIST, ST_EVENT_FIELDS, ST_EVENT_VERDICTS,
	ST_COUNT
};

struct cf_db {
	sqlite3 *h;
	bool readonly;
	sqlite3_stmt *st[ST_COUNT];
	bool busy[ST_COUNT];   /* handed out and not yet returned */
};

/* ---- stmt.c: errors, the statement cache, binding, walking rows ---- */

/* SQLite's result code as a cf_err (CF_OK for OK, ROW and DONE). */
enum cf_err cf_db_map_rc(int rc);
/* Call right after the failing call: sqlite3_errmsg is the last call's. */
enum cf_err cf_db_fail(struct cf_db *db, struct cf_diag *d, int rc,
		       const char *what);
/* For functions without a diagnostic: an error code for RC. */
enum cf_err cf_db_rc_err(int rc);
/* Statement ID, from the cache or (in use further up) freshly prepared;
 * give it back with cf_db_st_put. */
enum cf_err cf_db_st_get(struct cf_db *db, enum cf_db_st id,
			 sqlite3_stmt **out, struct cf_diag *d);
void cf_db_st_put(struct cf_db *db, enum cf_db_st id, sqlite3_stmt *s);
/* FMT: 't' const char * (NULL binds NULL), 'i' int, 'l' long long. */
int cf_db_vbind(sqlite3_stmt *s, const char *fmt, va_list ap);
int cf_db_bind(sqlite3_stmt *s, const char *fmt, ...);
/* Runs statement ID with the arguments FMT describes, to its end. */
enum cf_err cf_db_exec(struct cf_db *db, enum cf_db_st id, const char *what,
		       struct cf_diag *d, const char *fmt, ...);
/* Statement ID without arguments, its SQL as the diagnostic's "what". */
enum cf_err cf_db_st_run(struct cf_db *db, enum cf_db_st id,
			 struct cf_diag *d);
/* Steps S once unless binding failed (RC); *ROW says whether a row came. */
enum cf_err cf_db_step_once(struct cf_db *db, sqlite3_stmt *s, int rc,
			    const char *what, struct cf_diag *d, bool *row);

/* Hands a walk's row to ROW; a non-zero return stops the walk. */
typedef int (*cf_db_row_fn)(void *ctx, sqlite3_stmt *s);

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

/* Runs statement ID with the arguments FMT describes and hands each row to
 * ROW until it returns non-zero.  With MUST_FIND, no row is CF_ENOTFOUND.
 * The statement stays in use during ROW, so callbacks may call back in. */
enum cf_err cf_db_walk(struct cf_db *db, enum cf_db_st id, bool must_find,
		       cf_db_row_fn row, void *ctx, const char *fmt, ...);
/* A LIMIT argument: 0 (all) and what does not fit are -1, no limit. */
long long cf_db_limit_arg(size_t limit);
/* Column COL's text into DST (CAP bytes), cut on a UTF-8 boundary. */
void cf_db_col_copy(char *dst, size_t cap, sqlite3_stmt *s, int col);
/* Column COL's text, "" for NULL; valid until the statement moves. */
const char *cf_db_col_text(sqlite3_stmt *s, int col);
/* A sighting from columns 0-4 (report_id, received_at, collected_at,
 * content, fingerprint) and PREV_COL (the previous sighting's content). */
void cf_db_sighting_fill(struct cf_db_sighting *si, sqlite3_stmt *s,
			 int prev_col);

/* ---- db.c: a write of ours ---- */

/* A transaction, or a savepoint inside the caller's; *OWN says which. */
enum cf_err cf_db_wtx_begin(struct cf_db *db, bool *own, struct cf_diag *d);
/* Commits on ERR == CF_OK, else undoes; D keeps the first problem. */
enum cf_err cf_db_wtx_end(struct cf_db *db, bool own, enum cf_err err,
			  struct cf_diag *d);

/* ---- schema.c ---- */

/* Runs the migrations this file lacks (db.h's cf_db_open says how). */
enum cf_err cf_db_migrate(struct cf_db *db, const char *path,
			  struct cf_diag *d);

/* ---- audit.c ---- */

/* The audit row of a write, in the write's transaction; DETAIL may be
 * NULL ({}). */
enum cf_err cf_db_audit_add(struct cf_db *db, const char *at,
			    const char *actor, const char *action,
			    const char *object, const cJSON *detail,
			    struct cf_diag *d);

#endif
