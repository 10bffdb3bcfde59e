/* Storing a host's report: its content identity, idempotency by
 * report_id, and which hosts a token may upload for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/drift.h"
#include "fleet/fleet.h"
#include "util/diag.h"
#include "util/sha256.h"

const char *cf_fleet_upload_status_name(enum cf_fleet_upload_status s)
{
	switch (s) {
	case CF_FLEET_NEW: return "new";
	case CF_FLEET_SEEN_AGAIN: return "seen_again";
	case CF_FLEET_KNOWN: return "known";
	}
	return "?";
}

struct upload_job {
	struct cf_db_upload u;
	const struct cf_report *r;
	enum cf_db_put_result res;
	long long event;
};

/* A new report of a known host whose configuration (fingerprint) differs
 * from the one of the host's previous report: the drift event. */
static enum cf_err record_drift(struct cf_db *db, struct upload_job *j,
				const struct cf_db_put *p, struct cf_diag *d)
{
	char *body = NULL;
	enum cf_err err;

	if (p->res != CF_DB_PUT_NEW || !p->prev_report[0] ||
	    !strcmp(p->prev_fingerprint, j->u.fingerprint))
		return CF_OK;
	err = cf_db_report_body(db, p->prev_report, &body);
	if (err != CF_OK)
		return cf_diag_set(d, err, "host %s: reading its report %s: %s",
				   j->u.host, p->prev_report, cf_strerror(err));
	err = cf_fleet_drift_record(db, body, p->prev_report, j->r,
				    j->u.report_id, j->u.received_at,
				    &j->event, d);
	free(body);
	return err;
}

/* Does job I share its host or report_id with an earlier one not done? */
static bool waits(void *const *args, const bool *done, size_t i)
{
	const struct upload_job *a = args[i];

	for (size_t k = 0; k < i; k++) {
		const struct upload_job *b = args[k];

		if (!done[k] && (!strcmp(a->u.host, b->u.host) ||
				 !strcmp(a->u.report_id, b->u.report_id)))
			return true;
	}
	return false;
}

/* Stores the jobs' reports together and their drift events, in the same
 * transaction: distinct hosts and report_ids at a time, so uploads of one
 * host (or retries of one report) go in turn, in their order.  The
 * previous report each is compared with is the one the store read under
 * its host row's lock: a second server storing a report of the same host
 * meanwhile is ordered before or after, never beside. */
static enum cf_err run_uploads(struct cf_db *db, void *const *args, size_t n,
			       enum cf_err *res, struct cf_diag *diags,
			       struct cf_diag *d)
{
	struct cf_db_put *puts = calloc(n ? n : 1, sizeof(*puts));
	size_t *at = calloc(n ? n : 1, sizeof(*at)), left = n;
	bool *done = calloc(n ? n : 1, sizeof(*done));
	enum cf_err err = CF_OK;

	if (!puts || !at || !done)
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		((struct upload_job *)args[i])->event = 0;
	while (err == CF_OK && left) {
		size_t g = 0;

		for (size_t i = 0; i < n; i++) {
			if (done[i] || waits(args, done, i))
				continue;
			at[g] = i;
			puts[g++] = (struct cf_db_put){
				.u = &((struct upload_job *)args[i])->u };
		}
		err = cf_db_report_put_many(db, puts, g, d);
		for (size_t k = 0; err == CF_OK && k < g; k++) {
			size_t i = at[k];
			struct upload_job *j = args[i];

			done[i] = true;
			left--;
			res[i] = puts[k].err;
			if (res[i] != CF_OK) {
				diags[i] = puts[k].diag;
				continue;
			}
			j->res = puts[k].res;
			err = record_drift(db, j, &puts[k], d);
		}
	}
	free(puts);
	free(at);
	free(done);
	return err;
}

/* One upload alone: the batch of one. */
static enum cf_err run_upload(struct cf_db *db, void *arg, struct cf_diag *d)
{
	enum cf_err res = CF_OK, err;
	struct cf_diag diag = { "" };

	err = run_uploads(db, &arg, 1, &res, &diag, d);
	if (err == CF_OK && res != CF_OK) {
		err = res;
		if (d)
			*d = diag;
	}
	return err;
}

enum cf_err cf_fleet_upload(struct cf_fleet *f, struct cf_report *r,
			    const struct cf_db_token *tok,
			    struct cf_fleet_upload *out, struct cf_diag *d)
{
	const char *host = cf_report_host_id(r);
	const char *only_host = tok && tok->role == CF_DB_ROLE_AGENT ?
		tok->host : NULL;
	char content[CF_CONTENT_ID_MAX], fp[24], col[CF_TEXT_MAX];
	struct upload_job j = { 0 };
	char *body = NULL;
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	/* Hosts are named as one path segment, /v1/hosts/{id}, and the
	 * server decodes %2F before routing: an id with a '/' could be stored
	 * but never be read, labelled or checked. */
	if (strchr(host, '/'))
		return cf_diag_set(d, CF_EINVAL, "request body: $.host.id: \"%s\" "
				   "contains '/', which no /v1/hosts/{id} path "
				   "can name", host);
	/* Nor a dot segment, which clients remove (RFC 3986 section 5.2.4),
	 * also when sent as %2E (section 2.3). */
	if (!strcmp(host, ".") || !strcmp(host, ".."))
		return cf_diag_set(d, CF_EINVAL, "request body: $.host.id: \"%s\" "
				   "is '.' or '..', which no /v1/hosts/{id} path "
				   "can name", host);
	if (only_host && strcmp(only_host, host) != 0)
		return cf_diag_set(d, CF_EDENIED, "the agent token of host %s may "
				   "not upload a report of host %s", only_host,
				   host);
	/* The content is the report without its id and collection time, as
	 * the engine identifies it (cf_report_content_id: canonical, the same
	 * whatever this build's catalogue): two reports with equal content
	 * mean the host did not change. */
	snprintf(out->report_id, sizeof(out->report_id), "%s", cf_report_id(r));
	snprintf(col, sizeof(col), "%s", cf_report_collected_at(r));
	if (cf_report_content_id(r, content, sizeof(content)) != CF_OK)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	if (!out->report_id[0]) {
		/* No id from the sender: the same document is the same upload. */
		char h[CF_SHA256_HEX], both[CF_CONTENT_ID_MAX + CF_TEXT_MAX];
		struct cf_sha256 c;

		snprintf(both, sizeof(both), "%s%s", content, col);
		cf_sha256_init(&c);
		cf_sha256_update(&c, both, strlen(both));
		cf_sha256_hex(&c, h);
		snprintf(out->report_id, sizeof(out->report_id), "sha256-%.40s", h);
		if (cf_report_set_id(r, out->report_id) != CF_OK)
			return cf_diag_set(d, CF_EINVAL, "report_id %s",
					   out->report_id);
	}
	if (cf_report_to_json(r, &body) != CF_OK)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	snprintf(fp, sizeof(fp), "%016llx",
		 (unsigned long long)cf_report_fingerprint(r));
	f->now(f->ctx, out->received_at, sizeof(out->received_at));
	j.u = (struct cf_db_upload){
		.report_id = out->report_id, .host = host,
		.arch = cf_report_arch(r), .hostname = cf_report_hostname(r),
		.content = content, .fingerprint = fp, .body = body,
		.collected_at = col, .received_at = out->received_at,
		.token = tok ? tok->id : NULL,
	};
	j.r = r;
	err = f->write(f->ctx, run_upload, run_uploads, &j, d);
	free(body);
	if (err != CF_OK) {
		if (d && !d->msg[0])
			cf_diag_set(d, err, "%s", cf_strerror(err));
		return err;
	}
	out->status = j.res == CF_DB_PUT_NEW ? CF_FLEET_NEW
		    : j.res == CF_DB_PUT_SEEN_AGAIN ? CF_FLEET_SEEN_AGAIN
		    : CF_FLEET_KNOWN;
	out->event = j.event;
	return CF_OK;
}
