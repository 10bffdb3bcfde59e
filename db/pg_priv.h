/* What the PostgreSQL backend's files share (pg.c: the connection,
 * statements, rows and errors; sql_pg.c: the SQL; pg_schema.c: the
 * migrations and the integrity check).  Only they include libpq-fe.h.
 * Not installed. */
#ifndef CF_DB_PG_PRIV_H
#define CF_DB_PG_PRIV_H

#include <libpq-fe.h>
#include "db/db_priv.h"

struct cf_pq {
	PGconn *c;
	bool prepared[ST_COUNT];
	long long changes;     /* rows the last statement changed */
	char where[256];       /* the URL without its password, for errors */
};

extern const char *const cf_db_pg_sql[ST_COUNT];

static inline PGconn *cf_pq_conn(struct cf_db *db)
{
	return ((struct cf_pq *)db->be)->c;
}

/* RES's error (NULL: the connection's) as a cf_err, with "database: WHAT:
 * <message>" in D. */
enum cf_err cf_db_pg_fail(struct cf_db *db, const PGresult *res,
			  const char *what, struct cf_diag *d);
/* SQL (one or more statements, no arguments) to its end. */
enum cf_err cf_db_pg_exec(struct cf_db *db, const char *sql, const char *what,
			  struct cf_diag *d);
/* SQL's first row's first column as an integer; *FOUND whether a row came. */
enum cf_err cf_db_pg_int(struct cf_db *db, const char *sql, long long *out,
			 bool *found, struct cf_diag *d);

/* pg_schema.c */
enum cf_err cf_db_pg_migrate(struct cf_db *db, struct cf_diag *d);
int cf_db_pg_schema_version(struct cf_db *db);
enum cf_err cf_db_pg_integrity(struct cf_db *db, struct cf_diag *d);

#endif
