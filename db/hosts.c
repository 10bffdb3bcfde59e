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

/* The id of FINGERPRINT's configuration, adding it if new. */
static enum cf_err config_id(struct cf_db *db, const struct cf_db_upload *u,
			     const char *fingerprint, long long *id,
			     struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool row = false;

	err = cf_db_st_get(db, ST_CONFIG_FIND, &s, d);
	if (err == CF_OK)
		err = cf_db_step_once(db, s, cf_db_bind(s, "t", fingerprint),
				      "finding the configuration", d, &row);
	if (row)
		*id = sqlite3_column_int64(s, 0);
	cf_db_st_put(db, ST_CONFIG_FIND, s);
	if (err != CF_OK || row)
		return err;
	err = cf_db_exec(db, ST_CONFIG_INSERT, "storing the configuration", d,
			 "ttt", fingerprint, u->arch, u->received_at);
	*id = sqlite3_last_insert_rowid(db->h);
	return err;
}

static enum cf_err report_put(struct cf_db *db, const struct cf_db_upload *u,
			      const char *content, const char *fingerprint,
			      enum cf_db_put_result *res, struct cf_diag *d)
{
	const char *collected = u->collected_at ? u->collected_at : "";
	sqlite3_stmt *s = NULL;
	long long row = 0, cfg = 0;
	enum cf_err err;
	bool found = false, same_host = false, same = false;

	/* Statements are read out and reset before the writes. */
	err = cf_db_st_get(db, ST_SIGHTING_BY_UID, &s, d);
	if (err == CF_OK)
		err = cf_db_step_once(db, s, cf_db_bind(s, "t", u->report_id),
				      "finding the report id", d, &found);
	if (found) {
		same_host = strcmp(cf_db_col_text(s, 0), u->host) == 0;
		same = strcmp(cf_db_col_text(s, 1), content) == 0;
	}
	cf_db_st_put(db, ST_SIGHTING_BY_UID, s);
	if (err != CF_OK)
		return err;
	if (found && same_host && same) {
		*res = CF_DB_PUT_KNOWN;
		return CF_OK;
	}
	if (found)
		return cf_diag_set(d, CF_ECONFLICT, "report_id %s: stored "
				   "already with another %s", u->report_id,
				   same_host ? "content" : "host");

	same = false;
	err = cf_db_st_get(db, ST_HOST_LATEST, &s, d);
	if (err == CF_OK)
		err = cf_db_step_once(db, s, cf_db_bind(s, "t", u->host),
				      "finding the host's latest report", d,
				      &found);
	if (found) {
		row = sqlite3_column_int64(s, 0);
		same = strcmp(cf_db_col_text(s, 1), content) == 0;
	}
	cf_db_st_put(db, ST_HOST_LATEST, s);
	if (err != CF_OK)
		return err;

	err = cf_db_exec(db, ST_HOST_UPSERT, "storing the host", d, "tttt",
			 u->host, u->arch, u->hostname ? u->hostname : "",
			 u->received_at);
	if (err == CF_OK && !same) {
		err = config_id(db, u, fingerprint, &cfg, d);
		if (err == CF_OK)
			err = cf_db_exec(db, ST_REPORT_INSERT,
					 "storing the report", d, "tltttt",
					 u->host, cfg, content, u->body,
					 collected, u->received_at);
		row = sqlite3_last_insert_rowid(db->h);
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
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		return err;
	err = report_put(db, u, content, fingerprint, &r, d);
	err = cf_db_wtx_end(db, own, err, d);
	if (err == CF_OK && res)
		*res = r;
	return err;
}

/* ---- hosts ---- */

static int host_row(void *ctx, sqlite3_stmt *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_host h;

	cf_db_col_copy(h.id, sizeof(h.id), s, 0);
	cf_db_col_copy(h.arch, sizeof(h.arch), s, 1);
	cf_db_col_copy(h.hostname, sizeof(h.hostname), s, 2);
	cf_db_col_copy(h.first_seen, sizeof(h.first_seen), s, 3);
	cf_db_col_copy(h.last_seen, sizeof(h.last_seen), s, 4);
	h.labels_json = cf_db_col_text(s, 5);
	h.reports = (unsigned long long)sqlite3_column_int64(s, 6);
	h.uploads = (unsigned long long)sqlite3_column_int64(s, 7);
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

static enum cf_err host_exists(struct cf_db *db, const char *id, bool *found,
			       struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	*found = false;
	err = cf_db_st_get(db, ST_HOST_EXISTS, &s, d);
	if (err != CF_OK)
		goto out;
	rc = cf_db_bind(s, "t", id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*found = true;
	else if (rc != SQLITE_DONE)
		err = cf_db_fail(db, d, rc, "finding the host");
out:
	cf_db_st_put(db, ST_HOST_EXISTS, s);
	return err;
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
	if (err == CF_OK && sqlite3_changes(db->h) == 0)
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

void cf_db_sighting_fill(struct cf_db_sighting *si, sqlite3_stmt *s,
			 int prev_col)
{
	memset(si, 0, sizeof(*si));
	cf_db_col_copy(si->report_id, sizeof(si->report_id), s, 0);
	cf_db_col_copy(si->received_at, sizeof(si->received_at), s, 1);
	cf_db_col_copy(si->collected_at, sizeof(si->collected_at), s, 2);
	cf_db_col_copy(si->content, sizeof(si->content), s, 3);
	cf_db_col_copy(si->fingerprint, sizeof(si->fingerprint), s, 4);
	si->changed = sqlite3_column_type(s, prev_col) == SQLITE_NULL ||
		      strcmp(cf_db_col_text(s, prev_col),
			     cf_db_col_text(s, 3)) != 0;
}

enum cf_err cf_db_host_report(struct cf_db *db, const char *id, const char *at,
			      char **body, struct cf_db_sighting *si)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	if (body)
		*body = NULL;
	if (!id || (at && !cf_text_time_ok(at, CF_DB_TIME_MAX)))
		return CF_EINVAL;
	err = cf_db_st_get(db, ST_HOST_REPORT, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = cf_db_bind(s, "tt", id, at);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		err = CF_ENOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		err = cf_db_rc_err(rc);
		goto out;
	}
	if (body) {
		size_t n = (size_t)sqlite3_column_bytes(s, 5);
		*body = malloc(n + 1);
		if (!*body) {
			err = CF_ENOMEM;
			goto out;
		}
		if (n)
			memcpy(*body, cf_db_col_text(s, 5), n);
		(*body)[n] = '\0';
	}
	if (si)
		cf_db_sighting_fill(si, s, 6);
out:
	cf_db_st_put(db, ST_HOST_REPORT, s);
	return err;
}

static int sighting_row(void *ctx, sqlite3_stmt *s)
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
	err = host_exists(db, id, &found, NULL);
	if (err != CF_OK)
		return err;
	if (!found)
		return CF_ENOTFOUND;
	return cf_db_walk(db, ST_HOST_HISTORY, false, sighting_row, &v, "tl",
			  id, cf_db_limit_arg(limit));
}
