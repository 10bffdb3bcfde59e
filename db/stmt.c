/* Running statements and reading rows, for every backend: the families
 * name a statement by id and pass arguments in a format string; the
 * backend (db->ops) runs its SQL for that id and hands rows back through
 * struct cf_db_row, read with the column readers below. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include "db/db_priv.h"
#include "util/diag.h"

/* FMT's arguments into ARGS: 't' text, 'i' int, 'l' long long. */
static int args_of(struct cf_db_arg *args, const char *fmt, va_list ap)
{
	int n = 0;

	for (; fmt[n]; n++) {
		if (n == CF_DB_ARGS_MAX)
			return -1;
		args[n].t = NULL;
		args[n].l = 0;
		args[n].type = fmt[n] == 't' ? 't' : 'l';
		switch (fmt[n]) {
		case 't':
			args[n].t = va_arg(ap, const char *);
			break;
		case 'i':
			args[n].l = va_arg(ap, int);
			break;
		case 'l':
			args[n].l = va_arg(ap, long long);
			break;
		default:
			return -1;
		}
	}
	return n;
}

static enum cf_err vquery(struct cf_db *db, enum cf_db_st id,
			  const char *what, struct cf_diag *d,
			  cf_db_row_fn row, void *ctx, bool *found,
			  const char *fmt, va_list ap)
{
	struct cf_db_arg args[CF_DB_ARGS_MAX];
	int n = args_of(args, fmt, ap);
	bool any = false;
	enum cf_err err;

	if (n < 0)
		return cf_diag_set(d, CF_EINVAL, "database: %s: bad arguments",
				   what);
	err = db->ops->run(db, id, args, n, row, ctx, &any, what, d);
	if (found)
		*found = any;
	return err;
}

enum cf_err cf_db_query(struct cf_db *db, enum cf_db_st id, const char *what,
			struct cf_diag *d, cf_db_row_fn row, void *ctx,
			bool *found, const char *fmt, ...)
{
	enum cf_err err;
	va_list ap;

	va_start(ap, fmt);
	err = vquery(db, id, what, d, row, ctx, found, fmt, ap);
	va_end(ap);
	return err;
}

int cf_db_first_int(void *ctx, const struct cf_db_row *r)
{
	*(long long *)ctx = cf_db_col_int64(r, 0);
	return 1;
}

enum cf_err cf_db_st_run(struct cf_db *db, enum cf_db_st id, struct cf_diag *d)
{
	static const char *const names[] = {
		[ST_BEGIN] = "BEGIN", [ST_COMMIT] = "COMMIT",
		[ST_ROLLBACK] = "ROLLBACK", [ST_SP] = "SAVEPOINT",
		[ST_SP_RELEASE] = "RELEASE", [ST_SP_ROLLBACK] = "ROLLBACK TO",
		[ST_OP] = "SAVEPOINT", [ST_OP_RELEASE] = "RELEASE",
		[ST_OP_ROLLBACK] = "ROLLBACK TO",
	};
	const char *what = (size_t)id < sizeof(names) / sizeof(names[0]) &&
			   names[id] ? names[id] : "statement";

	return cf_db_exec(db, id, what, d, "");
}

enum cf_err cf_db_walk(struct cf_db *db, enum cf_db_st id, bool must_find,
		       cf_db_row_fn row, void *ctx, const char *fmt, ...)
{
	enum cf_err err;
	bool any = false;
	va_list ap;

	va_start(ap, fmt);
	err = vquery(db, id, "query", NULL, row, ctx, &any, fmt, ap);
	va_end(ap);
	if (err == CF_OK && must_find && !any)
		err = CF_ENOTFOUND;
	return err;
}

long long cf_db_changes(struct cf_db *db)
{
	return db->ops->changes(db);
}

long long cf_db_limit_arg(size_t limit)
{
	return limit == 0 || limit > INT64_MAX ? INT64_MAX : (long long)limit;
}

const char *cf_db_col_text(const struct cf_db_row *r, int col)
{
	return r->ops->col_text(r, col);
}

size_t cf_db_col_bytes(const struct cf_db_row *r, int col)
{
	return r->ops->col_bytes(r, col);
}

long long cf_db_col_int64(const struct cf_db_row *r, int col)
{
	return r->ops->col_int64(r, col);
}

bool cf_db_col_null(const struct cf_db_row *r, int col)
{
	return r->ops->col_null(r, col);
}

void cf_db_col_copy(char *dst, size_t cap, const struct cf_db_row *r, int col)
{
	const unsigned char *t = (const unsigned char *)cf_db_col_text(r, col);
	size_t n = cf_db_col_bytes(r, col);

	if (n >= cap) {
		n = cap - 1;
		/* Never leave half a UTF-8 sequence behind. */
		while (n > 0 && (t[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

void cf_db_sighting_fill(struct cf_db_sighting *si, const struct cf_db_row *r,
			 int prev_col)
{
	memset(si, 0, sizeof(*si));
	cf_db_col_copy(si->report_id, sizeof(si->report_id), r, 0);
	cf_db_col_copy(si->received_at, sizeof(si->received_at), r, 1);
	cf_db_col_copy(si->collected_at, sizeof(si->collected_at), r, 2);
	cf_db_col_copy(si->content, sizeof(si->content), r, 3);
	cf_db_col_copy(si->fingerprint, sizeof(si->fingerprint), r, 4);
	si->changed = cf_db_col_null(r, prev_col) ||
		      strcmp(cf_db_col_text(r, prev_col),
			     cf_db_col_text(r, 3)) != 0;
}
