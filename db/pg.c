/* The PostgreSQL backend of db.h (libpq): the connection, chosen by a
 * postgresql:// or postgres:// URL, statements prepared once per
 * connection (sql.c's and sql_pg.c's SQL) and run with text arguments,
 * rows and errors.  Migrations and the integrity check are pg_schema.c's.
 *
 * Session settings: synchronous_commit on (a commit returns once the WAL
 * is flushed, as SQLite's synchronous=FULL), a 10 s lock_timeout (as
 * SQLite's busy timeout), read-only opens default to read-only
 * transactions.  Notices are dropped: a library never prints.  Transactions
 * are READ COMMITTED: each statement sees what other writers committed,
 * and the families order concurrent writes with row locks, unique
 * constraints and a transaction-level advisory lock (sql_pg.c).  A lost
 * connection is re-made on the next statement outside a transaction.
 * Errors name the URL without its password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db/pg_priv.h"
#include "util/diag.h"

#define SESSION_RW \
	"SET synchronous_commit = on; SET lock_timeout = '10s';" \
	" SET client_min_messages = warning"
#define SESSION_RO SESSION_RW "; SET default_transaction_read_only = on"

static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* libpq's messages end in a newline; the diagnostic's does not. */
static const char *trimmed(const char *msg, char *buf, size_t cap)
{
	size_t n;

	snprintf(buf, cap, "%s", msg ? msg : "");
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

static enum cf_err sqlstate_err(const char *st)
{
	if (!st || strlen(st) != 5)
		return CF_EIO;          /* no answer: the connection failed */
	if (!strncmp(st, "23", 2) || !strcmp(st, "P0001"))
		return CF_ECONFLICT;    /* a constraint, or our triggers */
	if (!strcmp(st, "53200"))
		return CF_ENOMEM;
	if (!strncmp(st, "53", 2) || !strncmp(st, "08", 2) ||
	    !strncmp(st, "58", 2) || !strcmp(st, "25006"))
		return CF_EIO;          /* disk full, connection, read-only */
	if (!strcmp(st, "54000"))
		return CF_ETOOBIG;
	/* The rest, deadlocks and serialization failures among them (the
	 * writer's caller answers them as a failure to retry later). */
	return CF_EDB;
}

enum cf_err cf_db_pg_fail(struct cf_db *db, const PGresult *res,
			  const char *what, struct cf_diag *d)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			      : NULL;
	char buf[CF_DIAG_MAX];

	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	/* A deadlock, a serialization failure or a lock held too long by
	 * another writer (another server): nothing was stored, a retry may
	 * succeed. */
	bool busy = st && (!strcmp(st, "40P01") || !strcmp(st, "40001") ||
			   !strcmp(st, "55P03"));

	if (!msg)
		msg = PQerrorMessage(cf_pq_conn(db));
	return cf_diag_set(d, sqlstate_err(st), "database: %s: %s%s", what,
			   trimmed(msg, buf, sizeof(buf)),
			   busy ? " (a concurrent writer: nothing stored, try "
				  "again)" : "");
}

static bool ok_status(const PGresult *res)
{
	ExecStatusType s = PQresultStatus(res);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

enum cf_err cf_db_pg_exec(struct cf_db *db, const char *sql, const char *what,
			  struct cf_diag *d)
{
	PGresult *res = PQexec(cf_pq_conn(db), sql);
	enum cf_err err = ok_status(res) ? CF_OK
					 : cf_db_pg_fail(db, res, what, d);

	PQclear(res);
	return err;
}

enum cf_err cf_db_pg_int(struct cf_db *db, const char *sql, long long *out,
			 bool *found, struct cf_diag *d)
{
	PGresult *res = PQexec(cf_pq_conn(db), sql);
	enum cf_err err = CF_OK;

	*found = false;
	if (!ok_status(res))
		err = cf_db_pg_fail(db, res, sql, d);
	else if (PQntuples(res) > 0) {
		*found = true;
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	return err;
}

static const char *pq_text(const struct cf_db_row *r, int col)
{
	return PQgetvalue(r->h, r->i, col);
}

static size_t pq_bytes(const struct cf_db_row *r, int col)
{
	return (size_t)PQgetlength(r->h, r->i, col);
}

static long long pq_int64(const struct cf_db_row *r, int col)
{
	const char *t = PQgetvalue(r->h, r->i, col);

	if (!strcmp(t, "t"))        /* a boolean */
		return 1;
	return strtoll(t, NULL, 10);
}

static bool pq_null(const struct cf_db_row *r, int col)
{
	return PQgetisnull(r->h, r->i, col) != 0;
}

static bool pq_in_tx(struct cf_db *db)
{
	PGTransactionStatusType s = PQtransactionStatus(cf_pq_conn(db));

	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR ||
	       s == PQTRANS_ACTIVE;
}

static long long pq_changes(struct cf_db *db)
{
	return ((struct cf_pq *)db->be)->changes;
}

static enum cf_err pq_run(struct cf_db *db, enum cf_db_st id,
			  const struct cf_db_arg *args, int nargs,
			  cf_db_row_fn row, void *ctx, bool *any,
			  const char *what, struct cf_diag *d);
static void pq_close(struct cf_db *db);

static const struct cf_db_ops pg_ops = {
	.name = "postgresql",
	.run = pq_run,
	.in_tx = pq_in_tx,
	.changes = pq_changes,
	.col_text = pq_text,
	.col_bytes = pq_bytes,
	.col_int64 = pq_int64,
	.col_null = pq_null,
	.schema_version = cf_db_pg_schema_version,
	.integrity = cf_db_pg_integrity,
	.close = pq_close,
};

/* Statement ID's SQL with its ?N parameters as PostgreSQL's $N (outside
 * quoted text), malloc'd. */
static char *pg_text(enum cf_db_st id)
{
	char *sql = strdup(cf_db_sql(cf_db_pg_sql, id));
	bool quoted = false;

	for (char *c = sql; c && *c; c++) {
		if (*c == '\'')
			quoted = !quoted;
		else if (!quoted && *c == '?' && c[1] >= '0' && c[1] <= '9')
			*c = '$';
	}
	return sql;
}

/* The session's settings, on a new or re-made connection. */
static enum cf_err session(struct cf_db *db, struct cf_diag *d)
{
	struct cf_pq *q = db->be;

	memset(q->prepared, 0, sizeof(q->prepared));
	PQsetNoticeProcessor(q->c, no_notices, NULL);
	/* Report bodies (2-3 KB) are compressed as they are stored: lz4
	 * costs a fraction of PostgreSQL's default pglz, which took a tenth
	 * of its time in make bench-server-pg.  A server built without lz4
	 * refuses the setting and keeps pglz. */
	if (!db->readonly)
		PQclear(PQexec(q->c, "SET default_toast_compression = lz4"));
	return cf_db_pg_exec(db, db->readonly ? SESSION_RO : SESSION_RW,
			     "session settings", d);
}

/* A connection lost outside a transaction is re-made once. */
static void revive(struct cf_db *db)
{
	struct cf_pq *q = db->be;

	if (PQstatus(q->c) != CONNECTION_BAD)
		return;
	PQreset(q->c);
	if (PQstatus(q->c) == CONNECTION_OK)
		session(db, NULL);
}

static enum cf_err pq_run(struct cf_db *db, enum cf_db_st id,
			  const struct cf_db_arg *args, int nargs,
			  cf_db_row_fn row, void *ctx, bool *any,
			  const char *what, struct cf_diag *d)
{
	struct cf_pq *q = db->be;
	char num[CF_DB_ARGS_MAX][24], name[16];
	const char *vals[CF_DB_ARGS_MAX];
	struct cf_db_row r = { &pg_ops, NULL, 0 };
	PGresult *res;
	enum cf_err err = CF_OK;

	*any = false;
	q->changes = 0;
	if (!pq_in_tx(db))
		revive(db);
	snprintf(name, sizeof(name), "cf%d", (int)id);
	if (!q->prepared[id]) {
		char *sql = pg_text(id);

		if (!sql)
			return cf_diag_set(d, CF_ENOMEM, "database: %s: out of "
					   "memory", what);
		res = PQprepare(q->c, name, sql, 0, NULL);
		free(sql);
		if (!ok_status(res)) {
			err = cf_db_pg_fail(db, res, what, d);
			PQclear(res);
			return err;
		}
		PQclear(res);
		q->prepared[id] = true;
	}
	for (int i = 0; i < nargs; i++) {
		if (args[i].type == 't') {
			vals[i] = args[i].t;
			continue;
		}
		snprintf(num[i], sizeof(num[i]), "%lld", args[i].l);
		vals[i] = num[i];
	}
	res = PQexecPrepared(q->c, name, nargs, vals, NULL, NULL, 0);
	if (!ok_status(res)) {
		err = cf_db_pg_fail(db, res, what, d);
		PQclear(res);
		return err;
	}
	q->changes = strtoll(PQcmdTuples(res), NULL, 10);
	r.h = res;
	for (int i = 0; i < PQntuples(res); i++) {
		*any = true;
		r.i = i;
		if (row && row(ctx, &r) != 0)
			break;
	}
	PQclear(res);
	return err;
}

static void pq_close(struct cf_db *db)
{
	struct cf_pq *q = db->be;

	if (!q)
		return;
	PQfinish(q->c);
	free(q);
	db->be = NULL;
}

enum cf_err cf_db_pg_open(struct cf_db *db, const char *url,
			  struct cf_diag *d)
{
	struct cf_pq *q = calloc(1, sizeof(*q));
	char buf[CF_DIAG_MAX];
	enum cf_err err;

	if (!q)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	db->ops = &pg_ops;
	db->be = q;
	cf_db_path_show(url, q->where, sizeof(q->where));
	q->c = PQconnectdb(url);
	if (!q->c)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	if (PQstatus(q->c) != CONNECTION_OK)
		return cf_diag_set(d, CF_EIO, "%s: cannot connect: %s",
				   q->where,
				   trimmed(PQerrorMessage(q->c), buf,
					   sizeof(buf)));
	err = session(db, d);
	if (err == CF_OK)
		err = cf_db_pg_migrate(db, d);
	return err;
}
