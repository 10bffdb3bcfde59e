/* The storage API (db.h), whatever the backend: opening (the path
 * chooses: a postgresql:// or postgres:// URL is PostgreSQL, pg.c;
 * anything else an SQLite file, sqlite.c), transactions, the integrity
 * check and the figures.  The table families are in their own files:
 * hosts.c (hosts, reports, sightings), pools.c, profiles.c, tokens.c,
 * events.c, audit.c; they run statements by id through stmt.c, and each
 * backend has its SQL for those ids (sql_sqlite.c, sql_pg.c); argument
 * rules in args.c.
 *
 * Where db.h left room, this implementation decides:
 *  - Times must be RFC 3339 UTC (util/text.h; CF_EINVAL otherwise).
 *    Text order is wrong when only one side has a fraction ("...11.5Z"
 *    sorts before "...11Z"), so comparisons go through the backend's
 *    time type (julianday(), timestamptz).
 *  - Every write runs in a transaction of its own, or, when the caller has
 *    one open, in a nested savepoint, so a failed write leaves nothing
 *    behind either way.  cf_db_rollback_to keeps the savepoint (as SQL's
 *    ROLLBACK TO does): the caller still releases it.
 *  - ACTOR NULL means "cli".  The first sighting of a host counts as
 *    changed.  cf_db_profile_list with an unknown NAME is CF_ENOTFOUND.
 *    Unparsable labels/hosts JSON is CF_ESYNTAX, a host listed twice in a
 *    pool CF_EDUPLICATE.  cf_db_stats counts revoked tokens too.
 *  - Callbacks may call into the same handle.
 *  - On PostgreSQL a read-only open is a connection whose transactions are
 *    read-only (default_transaction_read_only), and the integrity check is
 *    pg.c's (the schema version, constraints and indexes valid). */
#include <stdlib.h>
#include <string.h>
#include "db/db_priv.h"
#include "util/diag.h"

/* ---- transactions ---- */

/* A write of ours: a transaction, or a savepoint inside the caller's. */
enum cf_err cf_db_wtx_begin(struct cf_db *db, bool *own, struct cf_diag *d)
{
	*own = false;
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	*own = !db->ops->in_tx(db);
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
	if (!db->ops->in_tx(db))
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
	if (db->ops->in_tx(db))
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
	if (db->ops->in_tx(db))
		cf_db_st_run(db, ST_SP_ROLLBACK, NULL);
}

/* ---- open, close ---- */

bool cf_db_is_url(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 ||
	       strncmp(path, "postgres://", 11) == 0;
}

/* The first SCHEME://USER:PASSWORD@ password and every password=VALUE of
 * the query become "***". */
void cf_db_path_show(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://"), *end, *at = NULL, *colon = NULL;
	size_t n = 0;

	if (!cap)
		return;
	out[0] = '\0';
#define PUT(s, len) do { size_t l_ = (len); \
		if (n + l_ >= cap) l_ = cap - 1 - n; \
		memcpy(out + n, (s), l_); n += l_; out[n] = '\0'; } while (0)
	if (!p) {
		PUT(url, strlen(url));
		return;
	}
	p += 3;
	end = p + strcspn(p, "/?#");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at)
		colon = memchr(p, ':', (size_t)(at - p));
	if (colon) {
		PUT(url, (size_t)(colon + 1 - url));
		PUT("***", 3);
		url = at;
	}
	/* The query's password=..., up to the next '&'. */
	for (const char *q = url; *q;) {
		const char *pw = strstr(q, "password=");
		if (!pw) {
			PUT(q, strlen(q));
			break;
		}
		PUT(q, (size_t)(pw + 9 - q));
		PUT("***", 3);
		q = pw + 9 + strcspn(pw + 9, "&#");
	}
#undef PUT
}

enum cf_err cf_db_open(const char *path, bool readonly, struct cf_db **out,
		       struct cf_diag *d)
{
	struct cf_db *db = NULL;
	enum cf_err err;

	if (!out)
		return cf_diag_set(d, CF_EINVAL, "database: no result pointer");
	*out = NULL;
	if (!path || !*path)
		return cf_diag_set(d, CF_EINVAL, "database: no path");
	db = calloc(1, sizeof(*db));
	if (!db)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	db->readonly = readonly;
	err = cf_db_is_url(path) ? cf_db_pg_open(db, path, d)
				 : cf_db_sqlite_open(db, path, d);
	if (err != CF_OK) {
		cf_db_close(db);
		return err;
	}
	*out = db;
	return CF_OK;
}

void cf_db_close(struct cf_db *db)
{
	if (!db)
		return;
	if (db->ops)
		db->ops->close(db);
	free(db);
}

enum cf_err cf_db_version_ok(struct cf_db *db, const char *where, int v,
			     struct cf_diag *d)
{
	if (v > CF_DB_SCHEMA_LATEST)
		return cf_diag_set(d, CF_EDB, "%s: schema version %d is newer "
				   "than this build's %d", where, v,
				   CF_DB_SCHEMA_LATEST);
	if (v < CF_DB_SCHEMA_LATEST && db->readonly)
		return cf_diag_set(d, CF_EDB, "%s: schema version %d is older "
				   "than this build's %d: run the server once "
				   "to migrate", where, v, CF_DB_SCHEMA_LATEST);
	return CF_OK;
}

int cf_db_schema_latest(void)
{
	return CF_DB_SCHEMA_LATEST;
}

int cf_db_schema_version(struct cf_db *db)
{
	return db->ops->schema_version(db);
}

enum cf_err cf_db_integrity_check(struct cf_db *db, struct cf_diag *d)
{
	return db->ops->integrity(db, d);
}

/* ---- figures ---- */

static int stats_row(void *ctx, const struct cf_db_row *r)
{
	struct cf_db_stats *out = ctx;
	unsigned long long *f[] = {
		&out->hosts, &out->reports, &out->sightings, &out->configs,
		&out->pools, &out->profiles, &out->profile_versions,
		&out->tokens, &out->events, &out->audit_seq,
	};

	for (int i = 0; i < (int)(sizeof(f) / sizeof(f[0])); i++)
		*f[i] = (unsigned long long)cf_db_col_int64(r, i);
	return 1;
}

enum cf_err cf_db_stats(struct cf_db *db, struct cf_db_stats *out)
{
	memset(out, 0, sizeof(*out));
	return cf_db_walk(db, ST_STATS, true, stats_row, out, "");
}
