/* The storage API (db.h) over SQLite: opening (connection settings, then
 * schema.c's migrations), transactions, the integrity check and the
 * figures.  The table families are in their own files: hosts.c (hosts,
 * reports, sightings), pools.c, profiles.c, tokens.c, audit.c; the
 * statements in stmt.c; argument rules any backend shares in args.c.
 *
 * Where db.h left room, this implementation decides:
 *  - Times must be RFC 3339 UTC (util/text.h; CF_EINVAL otherwise).
 *    Text order is wrong when only one side has a fraction ("...11.5Z"
 *    sorts before "...11Z"), so comparisons go through julianday().
 *  - Every write runs in a transaction of its own, or, when the caller has
 *    one open, in a nested savepoint, so a failed write leaves nothing
 *    behind either way.  cf_db_rollback_to keeps the savepoint (as SQL's
 *    ROLLBACK TO does): the caller still releases it.
 *  - ACTOR NULL means "cli".  The first sighting of a host counts as
 *    changed.  cf_db_profile_list with an unknown NAME is CF_ENOTFOUND.
 *    Unparsable labels/hosts JSON is CF_ESYNTAX, a host listed twice in a
 *    pool CF_EDUPLICATE.  cf_db_stats counts revoked tokens too.
 *  - Callbacks may call into the same handle (stmt.c). */
#include <stdlib.h>
#include <string.h>
#include "db/db_priv.h"
#include "util/diag.h"

#define BUSY_TIMEOUT_MS 10000

/* ---- transactions ---- */

/* A write of ours: a transaction, or a savepoint inside the caller's. */
enum cf_err cf_db_wtx_begin(struct cf_db *db, bool *own, struct cf_diag *d)
{
	*own = false;
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	*own = sqlite3_get_autocommit(db->h) != 0;
	return cf_db_st_run(db, *own ? ST_BEGIN : ST_OP, d);
}

/* Commits on ERR == CF_OK, else undoes; D keeps the first problem. */
enum cf_err cf_db_wtx_end(struct cf_db *db, bool own, enum cf_err err,
			  struct cf_diag *d)
{
	if (err == CF_OK) {
		err = cf_db_st_run(db, own ? ST_COMMIT : ST_OP_RELEASE, d);
		if (err == CF_OK)
			return CF_OK;
	}
	/* Some errors (a full disk) end the transaction on their own. */
	if (sqlite3_get_autocommit(db->h))
		return err;
	if (own) {
		cf_db_st_run(db, ST_ROLLBACK, NULL);
	} else {
		cf_db_st_run(db, ST_OP_ROLLBACK, NULL);
		cf_db_st_run(db, ST_OP_RELEASE, NULL);
	}
	return err;
}

enum cf_err cf_db_begin(struct cf_db *db, struct cf_diag *d)
{
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	return cf_db_st_run(db, ST_BEGIN, d);
}

enum cf_err cf_db_commit(struct cf_db *db, struct cf_diag *d)
{
	return cf_db_st_run(db, ST_COMMIT, d);
}

void cf_db_rollback(struct cf_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		cf_db_st_run(db, ST_ROLLBACK, NULL);
}

enum cf_err cf_db_savepoint(struct cf_db *db, struct cf_diag *d)
{
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	return cf_db_st_run(db, ST_SP, d);
}

enum cf_err cf_db_release(struct cf_db *db, struct cf_diag *d)
{
	return cf_db_st_run(db, ST_SP_RELEASE, d);
}

void cf_db_rollback_to(struct cf_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		cf_db_st_run(db, ST_SP_ROLLBACK, NULL);
}

/* ---- open, close ---- */

enum cf_err cf_db_open(const char *path, bool readonly, struct cf_db **out,
		       struct cf_diag *d)
{
	struct cf_db *db = NULL;
	enum cf_err err;
	char *msg = NULL;
	int rc, flags;

	if (!out)
		return cf_diag_set(d, CF_EINVAL, "database: no result pointer");
	*out = NULL;
	if (!path || !*path)
		return cf_diag_set(d, CF_EINVAL, "database: no path");
	db = calloc(1, sizeof(*db));
	if (!db)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	db->readonly = readonly;
	/* One connection per thread, so SQLite's own mutexes are not needed. */
	flags = SQLITE_OPEN_NOMUTEX |
		(readonly ? SQLITE_OPEN_READONLY
			  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		err = cf_diag_set(d, cf_db_map_rc(rc) == CF_EIO ? CF_EIO
								: CF_EDB,
				  "%s: cannot open the database: %s", path,
				  db->h ? sqlite3_errmsg(db->h)
					: sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	rc = sqlite3_exec(db->h, readonly ?
			  "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;" :
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			  " PRAGMA foreign_keys=ON;", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err = cf_diag_set(d, cf_db_map_rc(rc) == CF_EIO ? CF_EIO
								: CF_EDB,
				  "%s: %s", path,
				  msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	err = cf_db_migrate(db, path, d);
	if (err != CF_OK)
		goto fail;
	*out = db;
	return CF_OK;
fail:
	cf_db_close(db);
	return err;
}

void cf_db_close(struct cf_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close_v2(db->h);
	free(db);
}

enum cf_err cf_db_integrity_check(struct cf_db *db, struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc;

	rc = sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = cf_db_fail(db, d, rc, "integrity_check");
		goto out;
	}
	if (strcmp(cf_db_col_text(s, 0), "ok") != 0) {
		err = cf_diag_set(d, CF_EDB, "database: integrity_check: %s",
				  cf_db_col_text(s, 0));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &s,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		err = cf_diag_set(d, CF_EDB, "database: foreign_key_check: %s "
				  "row %lld refers to a missing %s row",
				  cf_db_col_text(s, 0),
				  (long long)sqlite3_column_int64(s, 1),
				  cf_db_col_text(s, 2));
	else if (rc != SQLITE_DONE)
		err = cf_db_fail(db, d, rc, "foreign_key_check");
out:
	sqlite3_finalize(s);
	return err;
}

/* ---- figures ---- */

enum cf_err cf_db_stats(struct cf_db *db, struct cf_db_stats *out)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	err = cf_db_st_get(db, ST_STATS, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = cf_db_rc_err(rc);
		goto out;
	}
	out->hosts = (unsigned long long)sqlite3_column_int64(s, 0);
	out->reports = (unsigned long long)sqlite3_column_int64(s, 1);
	out->sightings = (unsigned long long)sqlite3_column_int64(s, 2);
	out->configs = (unsigned long long)sqlite3_column_int64(s, 3);
	out->pools = (unsigned long long)sqlite3_column_int64(s, 4);
	out->profiles = (unsigned long long)sqlite3_column_int64(s, 5);
	out->profile_versions = (unsigned long long)sqlite3_column_int64(s, 6);
	out->tokens = (unsigned long long)sqlite3_column_int64(s, 7);
	out->events = (unsigned long long)sqlite3_column_int64(s, 8);
	out->audit_seq = (unsigned long long)sqlite3_column_int64(s, 9);
out:
	cf_db_st_put(db, ST_STATS, s);
	return err;
}
