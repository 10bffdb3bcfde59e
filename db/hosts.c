/* Hosts: listed, labelled, and read back with their reports and
 * sightings as of a time (uploads store them: reports.c). */
#include <stdlib.h>
#include <string.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/text.h"

/* ---- hosts ---- */

static int host_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_host h;

	cf_db_col_copy(h.id, sizeof(h.id), s, 0);
	cf_db_col_copy(h.arch, sizeof(h.arch), s, 1);
	cf_db_col_copy(h.hostname, sizeof(h.hostname), s, 2);
	cf_db_col_copy(h.first_seen, sizeof(h.first_seen), s, 3);
	cf_db_col_copy(h.last_seen, sizeof(h.last_seen), s, 4);
	h.labels_json = cf_db_col_text(s, 5);
	h.reports = (unsigned long long)cf_db_col_int64(s, 6);
	h.uploads = (unsigned long long)cf_db_col_int64(s, 7);
	return v->fn.host(v->ctx, &h);
}

enum cf_err cf_db_host_list(struct cf_db *db, cf_db_host_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.host = fn, .ctx = ctx };

	return cf_db_walk(db, ST_HOST_LIST, false, host_row, &v, "");
}

enum cf_err cf_db_host_get(struct cf_db *db, const char *id, cf_db_host_fn fn,
			   void *ctx)
{
	struct cf_db_visit v = { .fn.host = fn, .ctx = ctx };

	if (!id)
		return CF_EINVAL;
	return cf_db_walk(db, ST_HOST_GET, true, host_row, &v, "t", id);
}

enum cf_err cf_db_host_set_labels(struct cf_db *db, const char *id,
				  const char *labels_json, const char *actor,
				  const char *now, struct cf_diag *d)
{
	char *canon = NULL;
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false;

	err = cf_db_arg_text("host", id, 1, CF_HOST_ID_MAX, d);
	if (err == CF_OK)
		err = cf_db_arg_actor(&actor, d);
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err == CF_OK)
		err = cf_db_arg_labels("labels", labels_json, &canon, d);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddRawToObject(detail, "labels", canon)) {
		err = cf_diag_set(d, CF_ENOMEM, "labels: out of memory");
		goto out;
	}
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = cf_db_exec(db, ST_HOST_SET_LABELS, "storing the labels", d, "tt",
			 id, canon);
	if (err == CF_OK && cf_db_changes(db) == 0)
		err = cf_diag_set(d, CF_ENOTFOUND, "host %s: no such host", id);
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, actor, "host.labels", id,
				      detail, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	cJSON_Delete(detail);
	cJSON_free(canon);
	return err;
}

struct report_out {
	char **body;
	struct cf_db_sighting *si;
	bool nomem;
};

static int report_row(void *ctx, const struct cf_db_row *s)
{
	struct report_out *o = ctx;

	if (o->body) {
		size_t n = cf_db_col_bytes(s, 5);
		*o->body = malloc(n + 1);
		if (!*o->body) {
			o->nomem = true;
			return 1;
		}
		if (n)
			memcpy(*o->body, cf_db_col_text(s, 5), n);
		(*o->body)[n] = '\0';
	}
	if (o->si)
		cf_db_sighting_fill(o->si, s, 6);
	return 1;
}

enum cf_err cf_db_host_report(struct cf_db *db, const char *id, const char *at,
			      char **body, struct cf_db_sighting *si)
{
	struct report_out o = { body, si, false };
	enum cf_err err;

	if (body)
		*body = NULL;
	if (!id || (at && !cf_text_time_ok(at, CF_DB_TIME_MAX)))
		return CF_EINVAL;
	err = cf_db_walk(db, ST_HOST_REPORT, true, report_row, &o, "tt", id,
			 at);
	if (err == CF_OK && o.nomem)
		err = CF_ENOMEM;
	return err;
}

static int sighting_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_sighting si;

	cf_db_sighting_fill(&si, s, 5);
	return v->fn.sighting(v->ctx, &si);
}

enum cf_err cf_db_host_history(struct cf_db *db, const char *id, size_t limit,
			       cf_db_sighting_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.sighting = fn, .ctx = ctx };
	enum cf_err err;
	bool found;

	if (!id)
		return CF_EINVAL;
	err = cf_db_query(db, ST_HOST_EXISTS, "finding the host", NULL, NULL,
			  NULL, &found, "t", id);
	if (err != CF_OK)
		return err;
	if (!found)
		return CF_ENOTFOUND;
	return cf_db_walk(db, ST_HOST_HISTORY, false, sighting_row, &v, "tl",
			  id, cf_db_limit_arg(limit));
}
