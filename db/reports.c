/* Storing uploads: the host row, the CPU configuration (deduplicated by
 * fingerprint), the report (deduplicated by content against the host's
 * latest) and a sighting.  Many uploads are stored together, with one
 * statement per table over the rows of all (sql_many.h), so that the
 * server's group commit costs PostgreSQL a few round trips per batch, not
 * a dozen per upload; one upload alone is the batch of one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"

_Static_assert(CF_CONTENT_ID_MAX <= CF_DB_ID_MAX,
	       "a content identity must fit");

/* A put being stored, and what the reads found for it. */
struct item {
	struct cf_db_put *p;
	char content[CF_DB_ID_MAX], fp[CF_DB_ID_MAX];  /* as validated */
	bool live;      /* to be stored (neither refused nor known) */
	bool same;      /* content as the host's latest: a sighting only */
	long long row;  /* its report's row */
	long long cfg;  /* its configuration's id */
};

/* The valid puts, by host (also the order the host rows are locked in, so
 * two writers cannot wait on each other) and by report_id. */
struct batch {
	struct item **by_host, **by_uid;
	size_t n;
	bool nomem;
};

static int cmp_host(const void *a, const void *b)
{
	return strcmp((*(struct item *const *)a)->p->u->host,
		      (*(struct item *const *)b)->p->u->host);
}

static int cmp_uid(const void *a, const void *b)
{
	return strcmp((*(struct item *const *)a)->p->u->report_id,
		      (*(struct item *const *)b)->p->u->report_id);
}

/* The item of host (BY_UID false) or report_id KEY, or NULL. */
static struct item *find(const struct batch *b, bool by_uid, const char *key)
{
	struct item *const *v = by_uid ? b->by_uid : b->by_host;
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cf_db_upload *u = v[mid]->p->u;
		int c = strcmp(key, by_uid ? u->report_id : u->host);

		if (c == 0)
			return v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Appends to ROWS one row of FMT's values, texts all: 't' a string (NULL
 * is ""), 'l' a long long. */
static bool row_add(cJSON *rows, const char *fmt, ...)
{
	cJSON *r = cJSON_CreateArray();
	bool ok = r != NULL;
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; ok && *f; f++) {
		char num[24];
		const char *t;

		if (*f == 'l') {
			snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
			t = num;
		} else {
			t = va_arg(ap, const char *);
		}
		ok = cJSON_AddItemToArray(r, cJSON_CreateString(t ? t : ""));
	}
	va_end(ap);
	if (ok && cJSON_AddItemToArray(rows, r))
		return true;
	cJSON_Delete(r);
	return false;
}

/* After ERR (CF_OK: go on), runs ID over ROWS (consumed; BUILT: complete;
 * nothing is run for an empty array), each result row to FN. */
static enum cf_err run_rows(struct cf_db *db, enum cf_err err,
			    enum cf_db_st id, cJSON *rows, bool built,
			    const char *what, cf_db_row_fn fn, void *ctx,
			    struct cf_diag *d)
{
	char *txt = NULL;

	if (err == CF_OK && (!rows || !built))
		err = cf_diag_set(d, CF_ENOMEM, "database: %s: out of memory",
				  what);
	if (err == CF_OK && cJSON_GetArraySize(rows) > 0) {
		txt = cJSON_PrintUnformatted(rows);
		err = txt ? cf_db_query(db, id, what, d, fn, ctx, NULL, "t", txt)
			  : cf_diag_set(d, CF_ENOMEM, "database: %s: out of "
					"memory", what);
	}
	cJSON_free(txt);
	cJSON_Delete(rows);
	return err;
}

/* ST_UID_MANY's rows: one whose token is revoked is refused; a report_id
 * stored already is known (same host and content) or refused. */
static int uid_row(void *ctx, const struct cf_db_row *r)
{
	struct item *it = find(ctx, true, cf_db_col_text(r, 0));
	bool same_host, same_content;

	if (!it || !it->live)
		return 0;
	if (cf_db_col_int64(r, 3) != 1) {
		it->live = false;
		it->p->err = cf_diag_set(&it->p->diag, CF_EREVOKED,
					 "report_id %s: token %s was revoked "
					 "before the report was stored",
					 it->p->u->report_id, it->p->u->token);
		return 0;
	}
	if (cf_db_col_null(r, 1))
		return 0;
	it->live = false;
	same_host = strcmp(cf_db_col_text(r, 1), it->p->u->host) == 0;
	same_content = strcmp(cf_db_col_text(r, 2), it->content) == 0;
	if (same_host && same_content)
		it->p->res = CF_DB_PUT_KNOWN;
	else
		it->p->err = cf_diag_set(&it->p->diag, CF_ECONFLICT,
					 "report_id %s: stored already with "
					 "another %s", it->p->u->report_id,
					 same_host ? "content" : "host");
	return 0;
}

/* ST_HOST_LATEST_MANY's rows: the host's latest report. */
static int latest_row(void *ctx, const struct cf_db_row *r)
{
	struct item *it = find(ctx, false, cf_db_col_text(r, 0));

	if (!it || !it->live || cf_db_col_null(r, 1))
		return 0;
	cf_db_col_copy(it->p->prev_report, sizeof(it->p->prev_report), r, 1);
	it->row = cf_db_col_int64(r, 2);
	it->same = strcmp(cf_db_col_text(r, 3), it->content) == 0;
	cf_db_col_copy(it->p->prev_fingerprint,
		       sizeof(it->p->prev_fingerprint), r, 4);
	return 0;
}

/* Configuration rows (fingerprint, id): every new report of it. */
static int config_row(void *ctx, const struct cf_db_row *r)
{
	const struct batch *b = ctx;
	const char *fp = cf_db_col_text(r, 0);
	long long id = cf_db_col_int64(r, 1);

	if (cf_db_col_null(r, 1))
		return 0;  /* not stored yet */
	for (size_t i = 0; i < b->n; i++)
		if (b->by_host[i]->live && !b->by_host[i]->same &&
		    strcmp(b->by_host[i]->fp, fp) == 0)
			b->by_host[i]->cfg = id;
	return 0;
}

/* ST_REPORT_INSERT_MANY's rows (host, id). */
static int report_row(void *ctx, const struct cf_db_row *r)
{
	struct item *it = find(ctx, false, cf_db_col_text(r, 0));

	if (it)
		it->row = cf_db_col_int64(r, 1);
	return 0;
}

static bool is_new(const struct item *it)
{
	return it->live && !it->same;
}

/* Rows of the new reports' configurations with no id yet, each once:
 * [fingerprint] or, with FULL, [fingerprint, arch, first_seen]. */
static cJSON *config_rows(const struct batch *b, bool full, bool *built)
{
	cJSON *rows = cJSON_CreateArray();

	*built = rows != NULL;
	for (size_t i = 0; *built && i < b->n; i++) {
		const struct item *it = b->by_host[i];
		bool first = is_new(it) && it->cfg == 0;

		for (size_t k = 0; first && k < i; k++)
			first = !(is_new(b->by_host[k]) && b->by_host[k]->cfg == 0 &&
				  strcmp(b->by_host[k]->fp, it->fp) == 0);
		if (first)
			*built = full ? row_add(rows, "ttt", it->fp, it->p->u->arch,
						it->p->u->received_at)
				      : row_add(rows, "t", it->fp);
	}
	return rows;
}

/* The configurations of the new reports: found, else added (another
 * writer adding one meanwhile: found again). */
static enum cf_err configs(struct cf_db *db, struct batch *b,
			   struct cf_diag *d)
{
	static const struct { enum cf_db_st id; bool full; } step[] = {
		{ ST_CONFIG_FIND_MANY, false },
		{ ST_CONFIG_INSERT_MANY, true },
		{ ST_CONFIG_FIND_MANY, false },
	};
	enum cf_err err = CF_OK;

	for (size_t s = 0; err == CF_OK && s < 3; s++) {
		bool built;
		cJSON *rows = config_rows(b, step[s].full, &built);

		err = run_rows(db, err, step[s].id, rows, built,
			       "storing the configurations", config_row, b, d);
	}
	for (size_t i = 0; err == CF_OK && i < b->n; i++)
		if (is_new(b->by_host[i]) && b->by_host[i]->cfg == 0)
			err = cf_diag_set(d, CF_EDB, "database: configuration "
					  "%s vanished", b->by_host[i]->fp);
	return err;
}

/* One try at storing B's live puts, in the caller's transaction. */
static enum cf_err store(struct cf_db *db, struct batch *b, struct cf_diag *d)
{
	cJSON *rows = cJSON_CreateArray();
	bool ok = rows != NULL;
	enum cf_err err;

	for (size_t i = 0; ok && i < b->n; i++)
		ok = row_add(rows, "tt", b->by_uid[i]->p->u->report_id,
			     b->by_uid[i]->p->u->token);
	err = run_rows(db, CF_OK, ST_UID_MANY, rows, ok,
		       "finding the report ids", uid_row, b, d);

	/* The host rows first: their locks (PostgreSQL's row locks,
	 * SQLite's write lock) order concurrent uploads of one host, so the
	 * latest report read next is the one the other writer committed. */
	rows = cJSON_CreateArray();
	ok = rows != NULL;
	for (size_t i = 0; ok && i < b->n; i++) {
		const struct cf_db_upload *u = b->by_host[i]->p->u;

		if (b->by_host[i]->live)
			ok = row_add(rows, "tttt", u->host, u->arch,
				     u->hostname, u->received_at);
	}
	err = run_rows(db, err, ST_HOST_UPSERT_MANY, rows, ok,
		       "storing the hosts", NULL, NULL, d);

	rows = cJSON_CreateArray();
	ok = rows != NULL;
	for (size_t i = 0; ok && i < b->n; i++)
		if (b->by_host[i]->live)
			ok = row_add(rows, "t", b->by_host[i]->p->u->host);
	err = run_rows(db, err, ST_HOST_LATEST_MANY, rows, ok,
		       "finding the hosts' latest reports", latest_row, b, d);

	if (err == CF_OK)
		err = configs(db, b, d);

	rows = cJSON_CreateArray();
	ok = rows != NULL;
	for (size_t i = 0; ok && i < b->n; i++) {
		struct item *it = b->by_host[i];
		const struct cf_db_upload *u = it->p->u;

		if (is_new(it)) {
			it->row = 0;
			ok = row_add(rows, "tltttt", u->host, it->cfg,
				     it->content, u->body, u->collected_at,
				     u->received_at);
		}
	}
	err = run_rows(db, err, ST_REPORT_INSERT_MANY, rows, ok,
		       "storing the reports", report_row, b, d);
	for (size_t i = 0; err == CF_OK && i < b->n; i++)
		if (b->by_host[i]->live && b->by_host[i]->row == 0)
			err = cf_diag_set(d, CF_EDB, "database: the report of "
					  "%s got no row",
					  b->by_host[i]->p->u->report_id);

	rows = cJSON_CreateArray();
	ok = rows != NULL;
	for (size_t i = 0; ok && i < b->n; i++) {
		struct item *it = b->by_host[i];
		const struct cf_db_upload *u = it->p->u;

		if (it->live)
			ok = row_add(rows, "tlttt", u->report_id, it->row,
				     u->host, u->received_at, u->collected_at);
	}
	err = run_rows(db, err, ST_SIGHTING_INSERT_MANY, rows, ok,
		       "storing the sightings", NULL, NULL, d);

	for (size_t i = 0; err == CF_OK && i < b->n; i++)
		if (b->by_host[i]->live)
			b->by_host[i]->p->res = b->by_host[i]->same ?
				CF_DB_PUT_SEEN_AGAIN : CF_DB_PUT_NEW;
	return err;
}

/* Validates every put (a refused one keeps its error); B gets the valid
 * ones, sorted. */
static enum cf_err prepare(struct item *it, struct cf_db_put *puts, size_t n,
			   struct batch *b, struct cf_diag *d)
{
	b->n = 0;
	for (size_t i = 0; i < n; i++) {
		it[i].p = &puts[i];
		puts[i].err = cf_db_arg_upload(puts[i].u, it[i].content,
					       it[i].fp, &puts[i].diag);
		if (puts[i].err == CF_OK) {
			b->by_host[b->n] = &it[i];
			b->by_uid[b->n++] = &it[i];
		}
	}
	qsort(b->by_host, b->n, sizeof(*b->by_host), cmp_host);
	qsort(b->by_uid, b->n, sizeof(*b->by_uid), cmp_uid);
	for (size_t i = 1; i < b->n; i++) {
		if (!cmp_host(&b->by_host[i - 1], &b->by_host[i]))
			return cf_diag_set(d, CF_EINVAL, "uploads stored "
					   "together: host %s twice",
					   b->by_host[i]->p->u->host);
		if (!cmp_uid(&b->by_uid[i - 1], &b->by_uid[i]))
			return cf_diag_set(d, CF_EINVAL, "uploads stored "
					   "together: report_id %s twice",
					   b->by_uid[i]->p->u->report_id);
	}
	return CF_OK;
}

enum cf_err cf_db_report_put_many(struct cf_db *db, struct cf_db_put *puts,
				  size_t n, struct cf_diag *d)
{
	struct item *it = calloc(n ? n : 1, sizeof(*it));
	struct batch b = {
		.by_host = calloc(n ? n : 1, sizeof(*b.by_host)),
		.by_uid = calloc(n ? n : 1, sizeof(*b.by_uid)),
	};
	enum cf_err err;

	if (!it || !b.by_host || !b.by_uid) {
		err = cf_diag_set(d, CF_ENOMEM, "database: out of memory");
		goto out;
	}
	err = prepare(it, puts, n, &b, d);
	/* Another writer (a second server on PostgreSQL) may store one of
	 * these report ids or hosts between our reads and writes: its unique
	 * constraint refuses ours, undone whole; once more, the reads see
	 * what it stored and answer as for a retry. */
	for (int tries = 0; err == CF_OK && b.n && tries < 3; tries++) {
		bool own;

		if (tries && d)
			d->msg[0] = '\0';

		for (size_t i = 0; i < b.n; i++) {
			struct item *x = b.by_host[i];

			x->live = true;
			x->same = false;
			x->row = x->cfg = 0;
			x->p->err = CF_OK;
			x->p->res = 0;
			x->p->prev_report[0] = x->p->prev_fingerprint[0] = '\0';
		}
		err = cf_db_wtx_begin(db, &own, d);
		if (err != CF_OK)
			break;
		err = store(db, &b, d);
		err = cf_db_wtx_end(db, own, err, d);
		if (err != CF_ECONFLICT)
			break;
		if (tries < 2)
			err = CF_OK;
	}
out:
	free(it);
	free(b.by_host);
	free(b.by_uid);
	return err;
}

enum cf_err cf_db_report_put(struct cf_db *db, const struct cf_db_upload *u,
			     enum cf_db_put_result *res, struct cf_diag *d)
{
	struct cf_db_put p = { .u = u };
	enum cf_err err = cf_db_report_put_many(db, &p, 1, d);

	if (err == CF_OK && p.err != CF_OK) {
		err = p.err;
		if (d)
			*d = p.diag;
	}
	if (err == CF_OK && res)
		*res = p.res;
	return err;
}

struct body_out {
	char *body;
	bool nomem;
};

static int body_row(void *ctx, const struct cf_db_row *r)
{
	struct body_out *o = ctx;
	size_t n = cf_db_col_bytes(r, 0);

	o->body = malloc(n + 1);
	if (!o->body) {
		o->nomem = true;
		return 1;
	}
	if (n)
		memcpy(o->body, cf_db_col_text(r, 0), n);
	o->body[n] = '\0';
	return 1;
}

enum cf_err cf_db_report_body(struct cf_db *db, const char *report_id,
			      char **body)
{
	struct body_out o = { NULL, false };
	enum cf_err err;

	*body = NULL;
	if (!report_id)
		return CF_EINVAL;
	err = cf_db_walk(db, ST_REPORT_BODY, true, body_row, &o, "t",
			 report_id);
	if (err == CF_OK && o.nomem)
		err = CF_ENOMEM;
	if (err == CF_OK)
		*body = o.body;
	else
		free(o.body);
	return err;
}
