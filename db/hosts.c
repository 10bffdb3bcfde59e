/* Hosts, their reports and sightings: an upload stores the host, the CPU
 * configuration (deduplicated by fingerprint), the report (deduplicated by
 * content against the host's latest) and a sighting; hosts are listed,
 * labelled and read back as of a time. */
#include <stdlib.h>
#include <string.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/text.h"

_Static_assert(CF_CONTENT_ID_MAX <= CF_DB_ID_MAX,
	       "a content identity must fit");

/* ---- reports ---- */

/* The id of FINGERPRINT's configuration, adding it if new.  Another
 * writer may add it meanwhile: the insert then does nothing and the second
 * look finds theirs. */
static enum cf_err config_id(struct cf_db *db, const struct cf_db_upload *u,
			     const char *fingerprint, long long *id,
			     struct cf_diag *d)
{
	bool row = false;
	enum cf_err err = cf_db_int(db, ST_CONFIG_FIND,
				    "finding the configuration", d, id, &row,
				    "t", fingerprint);

	if (err != CF_OK || row)
		return err;
	err = cf_db_int(db, ST_CONFIG_INSERT, "storing the configuration", d,
			id, &row, "ttt", fingerprint, u->arch, u->received_at);
	if (err == CF_OK && !row)
		err = cf_db_int(db, ST_CONFIG_FIND, "finding the configuration",
				d, id, &row, "t", fingerprint);
	if (err == CF_OK && !row)
		err = cf_diag_set(d, CF_EDB, "database: configuration %s "
				  "vanished", fingerprint);
	return err;
}

/* Row readers of report_put: a text column compared with CTX's. */
struct cmp2 {
	const char *a, *b;       /* compared with columns 1 (A) and 0 (B) */
	bool eq_a, eq_b;
	long long id;            /* column 0 as an integer */
};

static int cmp_row(void *ctx, const struct cf_db_row *r)
{
	struct cmp2 *c = ctx;

	c->id = cf_db_col_int64(r, 0);
	c->eq_b = c->b && strcmp(cf_db_col_text(r, 0), c->b) == 0;
	c->eq_a = strcmp(cf_db_col_text(r, 1), c->a) == 0;
	return 1;
}

/* *OURS: a conflict found by the reads, not by a constraint. */
static enum cf_err report_put(struct cf_db *db, const struct cf_db_upload *u,
			      const char *content, const char *fingerprint,
			      enum cf_db_put_result *res, bool *ours,
			      struct cf_diag *d)
{
	const char *collected = u->collected_at ? u->collected_at : "";
	struct cmp2 uid = { content, u->host, false, false, 0 };
	struct cmp2 last = { content, NULL, false, false, 0 };
	long long row = 0, cfg = 0;
	enum cf_err err;
	bool found = false, same = false;

	err = cf_db_query(db, ST_SIGHTING_BY_UID, "finding the report id", d,
			  cmp_row, &uid, &found, "t", u->report_id);
	if (err != CF_OK)
		return err;
	if (found && uid.eq_b && uid.eq_a) {
		*res = CF_DB_PUT_KNOWN;
		return CF_OK;
	}
	*ours = found;
	if (found)
		return cf_diag_set(d, CF_ECONFLICT, "report_id %s: stored "
				   "already with another %s", u->report_id,
				   uid.eq_b ? "content" : "host");

	/* The host row first: its lock (PostgreSQL's row lock, SQLite's
	 * write lock) orders concurrent uploads of one host, so the latest
	 * report read next is the one the other writer committed. */
	err = cf_db_exec(db, ST_HOST_UPSERT, "storing the host", d, "tttt",
			 u->host, u->arch, u->hostname ? u->hostname : "",
			 u->received_at);
	if (err == CF_OK)
		err = cf_db_query(db, ST_HOST_LATEST, "finding the host's "
				  "latest report", d, cmp_row, &last, &found,
				  "t", u->host);
	if (err != CF_OK)
		return err;
	if (found) {
		row = last.id;
		same = last.eq_a;
	}
	if (!same) {
		err = config_id(db, u, fingerprint, &cfg, d);
		if (err == CF_OK)
			err = cf_db_int(db, ST_REPORT_INSERT,
					"storing the report", d, &row, NULL,
					"tltttt", u->host, cfg, content,
					u->body, collected, u->received_at);
	}
	if (err == CF_OK)
		err = cf_db_exec(db, ST_SIGHTING_INSERT,
				 "storing the sighting", d, "tlttt", u->report_id,
				 row, u->host, u->received_at, collected);
	if (err == CF_OK)
		*res = same ? CF_DB_PUT_SEEN_AGAIN : CF_DB_PUT_NEW;
	return err;
}

enum cf_err cf_db_report_put(struct cf_db *db, const struct cf_db_upload *u,
			     enum cf_db_put_result *res, struct cf_diag *d)
{
	char content[CF_DB_ID_MAX], fingerprint[CF_DB_ID_MAX];
	enum cf_db_put_result r = CF_DB_PUT_NEW;
	enum cf_err err;
	bool own;

	err = cf_db_arg_upload(u, content, fingerprint, d);
	if (err != CF_OK)
		return err;
	/* Another writer (a second server on PostgreSQL) may store the same
	 * report id or host between our reads and writes: its unique
	 * constraint refuses ours, undone whole; once more, the reads see
	 * what it stored and answer as for a retry. */
	for (int tries = 0; tries < 3; tries++) {
		bool ours = false;

		err = cf_db_wtx_begin(db, &own, d);
		if (err != CF_OK)
			return err;
		err = report_put(db, u, content, fingerprint, &r, &ours, d);
		err = cf_db_wtx_end(db, own, err, d);
		if (err != CF_ECONFLICT || ours)
			break;
	}
	if (err == CF_OK && res)
		*res = r;
	return err;
}

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
