/* The audit table: the row every write of pools, profiles, labels and
 * tokens adds in its own transaction, and the list. */
#include "db/db_priv.h"
#include "util/diag.h"

/* DETAIL may be NULL ({}). */
enum cf_err cf_db_audit_add(struct cf_db *db, const char *at,
			    const char *actor, const char *action,
			    const char *object, const cJSON *detail,
			    struct cf_diag *d)
{
	char *text = NULL;
	enum cf_err err;

	if (detail) {
		text = cJSON_PrintUnformatted(detail);
		if (!text)
			return cf_diag_set(d, CF_ENOMEM,
					   "audit: out of memory");
	}
	err = cf_db_exec(db, ST_AUDIT_INSERT, "writing the audit row", d,
			 "ttttt", at, actor, action, object,
			 text ? text : "{}");
	cJSON_free(text);
	return err;
}

static int audit_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_audit a;

	a.seq = cf_db_col_int64(s, 0);
	cf_db_col_copy(a.at, sizeof(a.at), s, 1);
	cf_db_col_copy(a.actor, sizeof(a.actor), s, 2);
	cf_db_col_copy(a.action, sizeof(a.action), s, 3);
	cf_db_col_copy(a.object, sizeof(a.object), s, 4);
	a.detail_json = cf_db_col_text(s, 5);
	return v->fn.audit(v->ctx, &a);
}

enum cf_err cf_db_audit_list(struct cf_db *db, size_t limit, cf_db_audit_fn fn,
			     void *ctx)
{
	struct cf_db_visit v = { .fn.audit = fn, .ctx = ctx };

	return cf_db_walk(db, ST_AUDIT_LIST, false, audit_row, &v, "l",
			  cf_db_limit_arg(limit));
}
