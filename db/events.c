/* Drift events: a host's configuration changed between two of its
 * reports.  An event row, its changed fields and the verdict of each
 * published profile version before and now, written in the upload's
 * transaction and listed newest first. */
#include <stdlib.h>
#include <string.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/text.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

static enum cf_err event_check(const struct cf_db_event *ev,
			       struct cf_diag *d)
{
	enum cf_err err = cf_db_arg_time("event time", ev->at, d);

	if (err == CF_OK)
		err = cf_db_arg_text("event host", ev->host, 1, CF_HOST_ID_MAX,
				     d);
	if (err == CF_OK && (ev->nfields > CF_DB_EVENT_PARTS_MAX ||
			     ev->nverdicts > CF_DB_EVENT_PARTS_MAX))
		err = cf_diag_set(d, CF_ETOOBIG, "event: more than %d fields "
				  "or verdicts", CF_DB_EVENT_PARTS_MAX);
	if (err == CF_OK && ((ev->nfields && !ev->fields) ||
			     (ev->nverdicts && !ev->verdicts)))
		err = cf_diag_set(d, CF_EINVAL, "event: fields or verdicts "
				  "missing");
	return err;
}

enum cf_err cf_db_event_add(struct cf_db *db, const struct cf_db_event *ev,
			    long long *seq, struct cf_diag *d)
{
	enum cf_err err = event_check(ev, d);
	long long id = 0;
	bool own = false;

	if (err != CF_OK)
		return err;
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		return err;
	err = cf_db_int(db, ST_EVENT_INSERT, "storing the event", d, &id, NULL,
			"ttttttttttt", ev->at, ev->host, nz(ev->arch),
			 nz(ev->from_report), nz(ev->to_report),
			 nz(ev->kernel[0]), nz(ev->kernel[1]),
			 nz(ev->microcode[0]), nz(ev->microcode[1]),
			nz(ev->firmware[0]), nz(ev->firmware[1]));
	for (size_t i = 0; err == CF_OK && i < ev->nfields; i++) {
		const struct cf_db_event_field *f = &ev->fields[i];
		err = cf_db_exec(db, ST_EVENT_FIELD_INSERT,
				 "storing an event's field", d, "llttttll", id,
				 (long long)i, nz(f->reg), nz(f->field),
				 nz(f->feature_old), nz(f->feature_new),
				 (long long)f->old_value,
				 (long long)f->new_value);
	}
	for (size_t i = 0; err == CF_OK && i < ev->nverdicts; i++) {
		const struct cf_db_event_verdict *v = &ev->verdicts[i];
		err = cf_db_exec(db, ST_EVENT_VERDICT_INSERT,
				 "storing an event's verdict", d, "lltitiiit",
				 id, (long long)i, nz(v->profile), v->version,
				 nz(v->pool), (int)v->member,
				 (int)v->accepted_before, (int)v->accepted_now,
				 nz(v->reasons));
	}
	err = cf_db_wtx_end(db, own, err, d);
	if (err == CF_OK && seq)
		*seq = id;
	return err;
}

/* ---- listing ---- */

/* An event's parts as read, with copies of their strings. */
struct parts {
	struct cf_db_event_field *f;
	size_t nf, capf;
	struct cf_db_event_verdict *v;
	size_t nv, capv;
	bool nomem;
};

static char *dup_col(struct parts *p, const struct cf_db_row *s, int col)
{
	char *c = strdup(cf_db_col_text(s, col));

	if (!c)
		p->nomem = true;
	return c;
}

/* ARR with room for one more of N (CAP doubled when full), or NULL with
 * ARR unchanged. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *t;

	if (n < *cap)
		return arr;
	t = realloc(arr, (*cap ? 2 * *cap : 16) * size);
	if (t)
		*cap = *cap ? 2 * *cap : 16;
	return t;
}

static int field_row(void *ctx, const struct cf_db_row *s)
{
	struct parts *p = ctx;
	struct cf_db_event_field *f = grow(p->f, &p->capf, p->nf,
					  sizeof(*p->f));

	if (!f) {
		p->nomem = true;
		return 1;
	}
	p->f = f;
	f = &p->f[p->nf++];
	f->reg = dup_col(p, s, 0);
	f->field = dup_col(p, s, 1);
	f->feature_old = dup_col(p, s, 2);
	f->feature_new = dup_col(p, s, 3);
	f->old_value = (unsigned long long)cf_db_col_int64(s, 4);
	f->new_value = (unsigned long long)cf_db_col_int64(s, 5);
	return p->nomem;
}

static int verdict_row(void *ctx, const struct cf_db_row *s)
{
	struct parts *p = ctx;
	struct cf_db_event_verdict *v = grow(p->v, &p->capv, p->nv,
					    sizeof(*p->v));

	if (!v) {
		p->nomem = true;
		return 1;
	}
	p->v = v;
	v = &p->v[p->nv++];
	v->profile = dup_col(p, s, 0);
	v->version = (int)cf_db_col_int64(s, 1);
	v->pool = dup_col(p, s, 2);
	v->member = cf_db_col_int64(s, 3) != 0;
	v->accepted_before = cf_db_col_int64(s, 4) != 0;
	v->accepted_now = cf_db_col_int64(s, 5) != 0;
	v->reasons = dup_col(p, s, 6);
	return p->nomem;
}

static void parts_clear(struct parts *p)
{
	for (size_t i = 0; i < p->nf; i++) {
		free((char *)p->f[i].reg);
		free((char *)p->f[i].field);
		free((char *)p->f[i].feature_old);
		free((char *)p->f[i].feature_new);
	}
	for (size_t i = 0; i < p->nv; i++) {
		free((char *)p->v[i].profile);
		free((char *)p->v[i].pool);
		free((char *)p->v[i].reasons);
	}
	free(p->f);
	free(p->v);
}

struct list_ctx {
	struct cf_db *db;
	cf_db_event_fn fn;
	void *ctx;
	enum cf_err err;
};

static int event_row(void *ctx, const struct cf_db_row *s)
{
	struct list_ctx *l = ctx;
	struct parts p = { 0 };
	struct cf_db_event ev = { 0 };
	int stop = 0;

	ev.seq = cf_db_col_int64(s, 0);
	ev.at = cf_db_col_text(s, 1);
	ev.host = cf_db_col_text(s, 2);
	ev.arch = cf_db_col_text(s, 3);
	ev.from_report = cf_db_col_text(s, 4);
	ev.to_report = cf_db_col_text(s, 5);
	for (int i = 0; i < 2; i++) {
		ev.kernel[i] = cf_db_col_text(s, 6 + i);
		ev.microcode[i] = cf_db_col_text(s, 8 + i);
		ev.firmware[i] = cf_db_col_text(s, 10 + i);
	}
	l->err = cf_db_walk(l->db, ST_EVENT_FIELDS, false, field_row, &p,
			    "l", ev.seq);
	if (l->err == CF_OK)
		l->err = cf_db_walk(l->db, ST_EVENT_VERDICTS, false,
				    verdict_row, &p, "l", ev.seq);
	if (l->err == CF_OK && p.nomem)
		l->err = CF_ENOMEM;
	if (l->err == CF_OK) {
		ev.fields = p.f;
		ev.nfields = p.nf;
		ev.verdicts = p.v;
		ev.nverdicts = p.nv;
		stop = l->fn(l->ctx, &ev);
	}
	parts_clear(&p);
	return l->err != CF_OK || stop;
}

enum cf_err cf_db_event_list(struct cf_db *db, const char *since,
			     const char *host, size_t limit,
			     cf_db_event_fn fn, void *ctx)
{
	struct list_ctx l = { db, fn, ctx, CF_OK };
	enum cf_err err;

	if (since && !cf_text_time_ok(since, CF_DB_TIME_MAX))
		return CF_EINVAL;
	err = cf_db_walk(db, ST_EVENT_LIST, false, event_row, &l, "ttl",
			 since, host, cf_db_limit_arg(limit));
	return err != CF_OK ? err : l.err;
}
