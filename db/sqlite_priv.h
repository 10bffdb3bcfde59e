/* What the SQLite backend's files share (sqlite.c: the connection and
 * statements; sql_sqlite.c: the SQL; sqlite_schema.c: the migrations).
 * Only they include sqlite3.h.  Not installed. */
#ifndef CF_DB_SQLITE_PRIV_H
#define CF_DB_SQLITE_PRIV_H

#include <sqlite3.h>
#include "db/db_priv.h"

#define CF_DB_APP_ID 0x43464c54      /* "CFLT" in the file header */

struct cf_sq {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
	bool busy[ST_COUNT];   /* handed out and not yet returned */
};

extern const char *const cf_db_sqlite_sql[ST_COUNT];

static inline sqlite3 *cf_sq_handle(struct cf_db *db)
{
	return ((struct cf_sq *)db->be)->h;
}

/* SQLite's result code as a cf_err (CF_OK for OK, ROW and DONE). */
enum cf_err cf_db_sqlite_err(int rc);
/* Call right after the failing call: sqlite3_errmsg is the last call's. */
enum cf_err cf_db_sqlite_fail(struct cf_db *db, struct cf_diag *d, int rc,
			      const char *what);
/* FMT: 't' const char * (NULL binds NULL), 'i' int, 'l' long long. */
int cf_db_sqlite_vbind(sqlite3_stmt *s, const char *fmt, va_list ap);

/* sqlite_schema.c: runs the migrations this file lacks. */
enum cf_err cf_db_sqlite_migrate(struct cf_db *db, const char *path,
				 struct cf_diag *d);
int cf_db_sqlite_schema_version(struct cf_db *db);

#endif
