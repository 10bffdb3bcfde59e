/* The SQLite backend of db.h: the connection (WAL, synchronous=FULL,
 * foreign keys, a busy timeout), the statement cache over
 * sql_sqlite.c's table, rows and errors, and the integrity check.  The
 * migrations are sqlite_schema.c's; the SQL sql.c's and sql_sqlite.c's.
 *
 * Callbacks may call into the same handle: a cached statement still in use
 * is never reused, a fresh one is prepared instead. */
#include <stdlib.h>
#include <string.h>
#include "db/sqlite_priv.h"
#include "util/diag.h"

#define BUSY_TIMEOUT_MS 10000

enum cf_err cf_db_sqlite_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
		return CF_OK;
	case SQLITE_NOMEM:
		return CF_ENOMEM;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN:
	case SQLITE_PERM: case SQLITE_READONLY:
		return CF_EIO;
	case SQLITE_CONSTRAINT:
		return CF_ECONFLICT;
	case SQLITE_TOOBIG:
		return CF_ETOOBIG;
	default:
		return CF_EDB;
	}
}

enum cf_err cf_db_sqlite_fail(struct cf_db *db, struct cf_diag *d, int rc,
			      const char *what)
{
	enum cf_err err = cf_db_sqlite_err(rc);

	if (err == CF_OK)
		err = CF_EDB;
	return cf_diag_set(d, err, "database: %s: %s", what,
			   sqlite3_errmsg(cf_sq_handle(db)));
}

int cf_db_sqlite_vbind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 't': {
			const char *v = va_arg(ap, const char *);
			rc = v ? sqlite3_bind_text(s, i + 1, v, -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(s, i + 1);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int(s, i + 1, va_arg(ap, int));
			break;
		case 'l':
			rc = sqlite3_bind_int64(s, i + 1,
						va_arg(ap, long long));
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc;
}

/* Statement ID, from the cache or (in use further up) freshly prepared. */
static int st_get(struct cf_sq *q, enum cf_db_st id, sqlite3_stmt **out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (q->st[id] && !q->busy[id]) {
		q->busy[id] = true;
		*out = q->st[id];
		return SQLITE_OK;
	}
	rc = sqlite3_prepare_v3(q->h, cf_db_sql(cf_db_sqlite_sql, id), -1,
				q->st[id] ? 0 : SQLITE_PREPARE_PERSISTENT, &s,
				NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return rc;
	}
	if (!q->st[id]) {
		q->st[id] = s;
		q->busy[id] = true;
	}
	*out = s;
	return SQLITE_OK;
}

static void st_put(struct cf_sq *q, enum cf_db_st id, sqlite3_stmt *s)
{
	if (!s)
		return;
	if (s != q->st[id]) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	q->busy[id] = false;
}

static enum cf_err sq_run(struct cf_db *db, enum cf_db_st id,
			  const struct cf_db_arg *args, int nargs,
			  cf_db_row_fn row, void *ctx, bool *any,
			  const char *what, struct cf_diag *d);

static const char *sq_text(const struct cf_db_row *r, int col)
{
	const unsigned char *t = sqlite3_column_text(r->h, col);

	return t ? (const char *)t : "";
}

static size_t sq_bytes(const struct cf_db_row *r, int col)
{
	sqlite3_column_text(r->h, col);
	return (size_t)sqlite3_column_bytes(r->h, col);
}

static long long sq_int64(const struct cf_db_row *r, int col)
{
	return sqlite3_column_int64(r->h, col);
}

static bool sq_null(const struct cf_db_row *r, int col)
{
	return sqlite3_column_type(r->h, col) == SQLITE_NULL;
}

static bool sq_in_tx(struct cf_db *db)
{
	return !sqlite3_get_autocommit(cf_sq_handle(db));
}

static long long sq_changes(struct cf_db *db)
{
	return sqlite3_changes64(cf_sq_handle(db));
}

static enum cf_err sq_integrity(struct cf_db *db, struct cf_diag *d);
static void sq_close(struct cf_db *db);

static const struct cf_db_ops sqlite_ops = {
	.name = "sqlite",
	.run = sq_run,
	.in_tx = sq_in_tx,
	.changes = sq_changes,
	.col_text = sq_text,
	.col_bytes = sq_bytes,
	.col_int64 = sq_int64,
	.col_null = sq_null,
	.schema_version = cf_db_sqlite_schema_version,
	.integrity = sq_integrity,
	.close = sq_close,
};

static enum cf_err sq_run(struct cf_db *db, enum cf_db_st id,
			  const struct cf_db_arg *args, int nargs,
			  cf_db_row_fn row, void *ctx, bool *any,
			  const char *what, struct cf_diag *d)
{
	struct cf_sq *q = db->be;
	struct cf_db_row r = { &sqlite_ops, NULL, 0 };
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc = st_get(q, id, &s);

	*any = false;
	for (int i = 0; rc == SQLITE_OK && i < nargs; i++)
		rc = args[i].type == 't' ?
			(args[i].t ? sqlite3_bind_text(s, i + 1, args[i].t, -1,
						       SQLITE_STATIC)
				   : sqlite3_bind_null(s, i + 1)) :
			sqlite3_bind_int64(s, i + 1, args[i].l);
	r.h = s;
	for (; rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW;
	     rc = SQLITE_OK) {
		*any = true;
		if (row && row(ctx, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		err = cf_db_sqlite_fail(db, d, rc, what);
	st_put(q, id, s);
	return err;
}

static void sq_close(struct cf_db *db)
{
	struct cf_sq *q = db->be;

	if (!q)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close_v2(q->h);
	free(q);
	db->be = NULL;
}

enum cf_err cf_db_sqlite_open(struct cf_db *db, const char *path,
			      struct cf_diag *d)
{
	struct cf_sq *q = calloc(1, sizeof(*q));
	char *msg = NULL;
	int rc, flags;

	if (!q)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	db->ops = &sqlite_ops;
	db->be = q;
	/* One connection per thread, so SQLite's own mutexes are not needed. */
	flags = SQLITE_OPEN_NOMUTEX |
		(db->readonly ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &q->h, flags, NULL);
	if (rc != SQLITE_OK)
		return cf_diag_set(d, cf_db_sqlite_err(rc) == CF_EIO ? CF_EIO
								     : CF_EDB,
				   "%s: cannot open the database: %s", path,
				   q->h ? sqlite3_errmsg(q->h)
					: sqlite3_errstr(rc));
	sqlite3_busy_timeout(q->h, BUSY_TIMEOUT_MS);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	rc = sqlite3_exec(q->h, db->readonly ?
			  "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;" :
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			  " PRAGMA foreign_keys=ON;", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		enum cf_err err = cf_diag_set(d, cf_db_sqlite_err(rc) == CF_EIO
						 ? CF_EIO : CF_EDB, "%s: %s",
					      path,
					      msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return err;
	}
	return cf_db_sqlite_migrate(db, path, d);
}

static const char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* PRAGMA integrity_check, then foreign_key_check. */
static enum cf_err sq_integrity(struct cf_db *db, struct cf_diag *d)
{
	sqlite3 *h = cf_sq_handle(db);
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc;

	rc = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = cf_db_sqlite_fail(db, d, rc, "integrity_check");
		goto out;
	}
	if (strcmp(col(s, 0), "ok") != 0) {
		err = cf_diag_set(d, CF_EDB, "database: integrity_check: %s",
				  col(s, 0));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		err = cf_diag_set(d, CF_EDB, "database: foreign_key_check: %s "
				  "row %lld refers to a missing %s row",
				  col(s, 0),
				  (long long)sqlite3_column_int64(s, 1),
				  col(s, 2));
	else if (rc != SQLITE_DONE)
		err = cf_db_sqlite_fail(db, d, rc, "foreign_key_check");
out:
	sqlite3_finalize(s);
	return err;
}
