/* The /v1 endpoints.  Each handler validates everything before it writes,
 * so a 4xx answer means nothing changed; writes go through the writer and
 * are on disk when the 2xx answer leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "server/api.h"
#include "server/server.h"
#include "engine/report.h"
#include "util/sha256.h"
#include "profiles/doc.h"
#include "util/diag.h"

#define HOSTS_MAX 10000      /* hosts named in one request */
#define HISTORY_DEFAULT 100

/* ---- small helpers ---- */

static void reply_json(struct cf_api_reply *rp, unsigned status, cJSON *o)
{
	rp->status = status;
	rp->ctype = NULL;
	free(rp->body);
	rp->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!rp->body)
		cf_api_error(rp, 500, "out of memory");
}

/* Parses the request body as a JSON object (an empty body is {} when
 * EMPTY_OK); on error sets a 400 reply. */
static cJSON *body_object(const struct cf_api_req *rq, struct cf_api_reply *rp,
			  bool empty_ok)
{
	struct cf_diag d = { "" };
	cJSON *o = NULL;

	if (rq->len == 0 && empty_ok)
		return cJSON_CreateObject();
	if (cf_doc_parse(rq->body, rq->len, "request body", &o, &d) != CF_OK) {
		cf_api_error(rp, 400, "%s", d.msg);
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		cf_api_error(rp, 400, "request body: $: expected an object");
		return NULL;
	}
	return o;
}

static unsigned status_of(enum cf_err err)
{
	switch (err) {
	case CF_OK: return 200;
	case CF_ENOTFOUND: return 404;
	case CF_ECONFLICT: return 409;
	case CF_ETOOBIG: return 413;
	case CF_ENOMEM: case CF_EDB: case CF_EIO: return 500;
	default: return 400;
	}
}

static void sha256_hex(const char *data, size_t len, char out[CF_SHA256_HEX])
{
	struct cf_sha256 c;

	cf_sha256_init(&c);
	cf_sha256_update(&c, data, len);
	cf_sha256_hex(&c, out);
}

/* A time argument as stored (milliseconds always present), or false. */
static bool norm_time(const char *in, char *out, size_t len)
{
	size_t n = in ? strlen(in) : 0;
	const char *shape = "dddd-dd-ddTdd:dd:dd";

	if (n < 20 || in[n - 1] != 'Z' || len < 25)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (in[i] < '0' || in[i] > '9') : in[i] != shape[i])
			return false;
	if (n == 20) {
		snprintf(out, len, "%.19s.000Z", in);
		return true;
	}
	if (n != 24 || in[19] != '.' ||
	    strspn(in + 20, "0123456789") != 3)
		return false;
	snprintf(out, len, "%s", in);
	return true;
}

/* The latest report of HOST, parsed; 404/500 reply on failure. */
static struct cf_report *load_latest(struct cf_db *db, const char *host,
				     struct cf_db_sighting *s,
				     struct cf_api_reply *rp)
{
	struct cf_db_sighting tmp;
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	char *body = NULL;
	enum cf_err err = cf_db_host_report(db, host, NULL, &body, s ? s : &tmp);

	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "no such host: %s", host);
		return NULL;
	}
	if (err == CF_OK)
		err = cf_report_parse(body, strlen(body), host, &r, &d);
	free(body);
	if (err != CF_OK)
		cf_api_error(rp, 500, "stored report of %s: %s", host,
			     d.msg[0] ? d.msg : cf_strerror(err));
	return r;
}

/* A list endpoint: {"KEY": [...]} filled by LIST from a reader. */
typedef enum cf_err (*list_fn)(struct cf_db *db, cJSON *arr, size_t limit);

static void list_reply(const struct cf_api_req *rq, struct cf_api_reply *rp,
		       const char *key, list_fn list, size_t limit)
{
	struct cf_db *db = cf_server_reader_get(rq->srv);
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, key);
	enum cf_err err = arr ? list(db, arr, limit) : CF_ENOMEM;

	cf_server_reader_put(rq->srv, db);
	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, 500, "%s: %s", key, cf_strerror(err));
		return;
	}
	reply_json(rp, 200, o);
}

/* ---- health and metrics ---- */

static void h_health(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db *db = cf_server_reader_get(rq->srv);
	struct cf_db_stats st;
	enum cf_err err = cf_db_stats(db, &st);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", err == CF_OK ? "ok" : "degraded");
	cJSON_AddNumberToObject(o, "schema_version", cf_db_schema_version(db));
	cJSON_AddStringToObject(o, "database", err == CF_OK ? "ok"
							    : cf_strerror(err));
	cf_server_reader_put(rq->srv, db);
	reply_json(rp, err == CF_OK ? 200 : 503, o);
}

static void h_metrics(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db *db = cf_server_reader_get(rq->srv);
	struct cf_db_stats st = { 0 };
	enum cf_err err = cf_db_stats(db, &st);
	char *own = cf_server_metrics_text(rq->srv);
	size_t cap;
	char *out;

	cf_server_reader_put(rq->srv, db);
	if (err != CF_OK || !own) {
		free(own);
		cf_api_error(rp, 500, "metrics: %s", cf_strerror(err));
		return;
	}
	cap = strlen(own) + 2048;
	out = malloc(cap);
	if (!out) {
		free(own);
		cf_api_error(rp, 500, "out of memory");
		return;
	}
	snprintf(out, cap, "%s"
		 "# HELP cpufleet_hosts Hosts known to the database.\n"
		 "# TYPE cpufleet_hosts gauge\ncpufleet_hosts %llu\n"
		 "# HELP cpufleet_reports Distinct reports stored.\n"
		 "# TYPE cpufleet_reports gauge\ncpufleet_reports %llu\n"
		 "# HELP cpufleet_report_sightings Uploads recorded.\n"
		 "# TYPE cpufleet_report_sightings gauge\n"
		 "cpufleet_report_sightings %llu\n"
		 "# HELP cpufleet_configs Distinct CPU configurations.\n"
		 "# TYPE cpufleet_configs gauge\ncpufleet_configs %llu\n"
		 "# HELP cpufleet_pools Pools defined.\n"
		 "# TYPE cpufleet_pools gauge\ncpufleet_pools %llu\n"
		 "# HELP cpufleet_profile_versions Published profile versions.\n"
		 "# TYPE cpufleet_profile_versions gauge\n"
		 "cpufleet_profile_versions %llu\n",
		 own, st.hosts, st.reports, st.sightings, st.configs, st.pools,
		 st.profile_versions);
	free(own);
	free(rp->body);
	rp->body = out;
	rp->status = 200;
	rp->ctype = "text/plain; version=0.0.4";
}

/* ---- reports ---- */

struct upload_job {
	struct cf_db_upload u;
	enum cf_db_put_result res;
};

static enum cf_err run_upload(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct upload_job *j = arg;
	return cf_db_report_put(db, &j->u, &j->res, d);
}

static void h_upload(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	struct upload_job j = { 0 };
	char content[CF_CONTENT_ID_MAX], fp[24], rid[CF_REPORT_ID_MAX];
	char col[CF_TEXT_MAX];
	char now[CF_DB_TIME_MAX], *body = NULL;
	enum cf_err err;
	cJSON *o;

	err = cf_report_parse(rq->body, rq->len, "request body", &r, &d);
	if (err != CF_OK) {
		cf_api_error(rp, err == CF_ETOOBIG ? 413 : 400, "%s", d.msg);
		cf_server_count_upload(rq->srv, "rejected");
		goto cleanup;
	}
	/* Hosts are named as one path segment, /v1/hosts/{id}, and the
	 * server decodes %2F before routing: an id with a '/' could be stored
	 * but never be read, labelled or checked. */
	if (strchr(r->host_id, '/')) {
		cf_api_error(rp, 400, "request body: $.host.id: \"%s\" contains "
			     "'/', which no /v1/hosts/{id} path can name",
			     r->host_id);
		cf_server_count_upload(rq->srv, "rejected");
		goto cleanup;
	}
	/* Nor a dot segment, which clients remove (RFC 3986 section 5.2.4),
	 * also when sent as %2E (section 2.3). */
	if (!strcmp(r->host_id, ".") || !strcmp(r->host_id, "..")) {
		cf_api_error(rp, 400, "request body: $.host.id: \"%s\" is '.' or "
			     "'..', which no /v1/hosts/{id} path can name",
			     r->host_id);
		cf_server_count_upload(rq->srv, "rejected");
		goto cleanup;
	}
	if (rq->tok->role == CF_DB_ROLE_AGENT &&
	    strcmp(rq->tok->host, r->host_id) != 0) {
		cf_api_error(rp, 403, "the agent token of host %s may not upload "
			     "a report of host %s", rq->tok->host, r->host_id);
		cf_server_count_upload(rq->srv, "rejected");
		goto cleanup;
	}
	/* The content is the report without its id and collection time, as
	 * the engine identifies it (cf_report_content_id: canonical, the same
	 * whatever this build's catalogue): two reports with equal content
	 * mean the host did not change. */
	memcpy(rid, r->report_id, sizeof(rid));
	memcpy(col, r->collected_at, sizeof(col));
	if (cf_report_content_id(r, content, sizeof(content)) != CF_OK) {
		cf_api_error(rp, 500, "out of memory");
		cf_server_count_upload(rq->srv, "failed");
		goto cleanup;
	}
	if (!rid[0]) {
		/* No id from the sender: the same document is the same upload. */
		char h[65], both[CF_CONTENT_ID_MAX + CF_TEXT_MAX];
		snprintf(both, sizeof(both), "%s%s", content, col);
		sha256_hex(both, strlen(both), h);
		snprintf(rid, sizeof(rid), "sha256-%.40s", h);
		cf_report_set_id(r, rid);
	}
	if (cf_report_to_json(r, &body) != CF_OK) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	snprintf(fp, sizeof(fp), "%016llx",
		 (unsigned long long)cf_report_fingerprint(r));
	cf_server_now(now, sizeof(now));
	j.u = (struct cf_db_upload){
		.report_id = rid, .host = r->host_id,
		.arch = cf_report_arch(r), .hostname = r->hostname,
		.content = content, .fingerprint = fp, .body = body,
		.collected_at = col, .received_at = now,
	};
	err = cf_writer_run(cf_server_writer(rq->srv), run_upload, &j, &d);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		cf_server_count_upload(rq->srv, err == CF_ECONFLICT ? "rejected"
								   : "failed");
		goto cleanup;
	}
	const char *what = j.res == CF_DB_PUT_NEW ? "new"
			 : j.res == CF_DB_PUT_SEEN_AGAIN ? "seen_again" : "known";
	cf_server_count_upload(rq->srv, what);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "report_id", rid);
	cJSON_AddStringToObject(o, "host", r->host_id);
	cJSON_AddStringToObject(o, "status", what);
	cJSON_AddStringToObject(o, "received_at", now);
	reply_json(rp, j.res == CF_DB_PUT_KNOWN ? 200 : 201, o);
cleanup:
	free(body);
	cf_report_destroy(r);
}

/* ---- hosts ---- */

static cJSON *host_json(const struct cf_db_host *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *labels = cJSON_Parse(h->labels_json ? h->labels_json : "{}");

	cJSON_AddStringToObject(o, "id", h->id);
	cJSON_AddStringToObject(o, "arch", h->arch);
	cJSON_AddStringToObject(o, "hostname", h->hostname);
	cJSON_AddItemToObject(o, "labels", labels ? labels : cJSON_CreateObject());
	cJSON_AddStringToObject(o, "first_seen", h->first_seen);
	cJSON_AddStringToObject(o, "last_seen", h->last_seen);
	cJSON_AddNumberToObject(o, "reports", (double)h->reports);
	cJSON_AddNumberToObject(o, "uploads", (double)h->uploads);
	return o;
}

static int add_host(void *ctx, const struct cf_db_host *h)
{
	cJSON_AddItemToArray(ctx, host_json(h));
	return 0;
}

static enum cf_err list_hosts(struct cf_db *db, cJSON *arr, size_t limit)
{
	(void)limit;
	return cf_db_host_list(db, add_host, arr);
}

static void h_hosts(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	list_reply(rq, rp, "hosts", list_hosts, 0);
}

static int set_host(void *ctx, const struct cf_db_host *h)
{
	cJSON **out = ctx;
	*out = host_json(h);
	return 0;
}

static cJSON *sighting_json(const struct cf_db_sighting *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "report_id", s->report_id);
	cJSON_AddStringToObject(o, "received_at", s->received_at);
	cJSON_AddStringToObject(o, "collected_at", s->collected_at);
	cJSON_AddStringToObject(o, "content", s->content);
	cJSON_AddStringToObject(o, "fingerprint", s->fingerprint);
	cJSON_AddBoolToObject(o, "changed", s->changed);
	return o;
}

static int add_sighting(void *ctx, const struct cf_db_sighting *s)
{
	cJSON_AddItemToArray(ctx, sighting_json(s));
	return 0;
}

static void h_host(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *id = rq->param[0], *at = rq->query(rq->conn, "at");
	const char *lim = rq->query(rq->conn, "history");
	struct cf_db *db = cf_server_reader_get(rq->srv);
	struct cf_db_sighting s;
	char atn[CF_DB_TIME_MAX], *body = NULL, *end;
	cJSON *o = NULL, *rep, *hist;
	long limit = HISTORY_DEFAULT;
	enum cf_err err;

	if (at && !norm_time(at, atn, sizeof(atn))) {
		cf_api_error(rp, 400, "at=%s: expected an RFC 3339 UTC time "
			     "like 2026-11-17T12:00:00Z", at);
		goto cleanup;
	}
	if (lim) {
		limit = strtol(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || limit < 0 || limit > 100000) {
			cf_api_error(rp, 400, "history=%s: expected 0 to 100000",
				     lim);
			goto cleanup;
		}
	}
	err = cf_db_host_get(db, id, set_host, &o);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), err == CF_ENOTFOUND ?
			     "no such host: %s" : "host %s: database error", id);
		goto cleanup;
	}
	err = cf_db_host_report(db, id, at ? atn : NULL, &body, &s);
	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "host %s had reported nothing at %s", id,
			     at);
		goto cleanup;
	}
	rep = err == CF_OK ? cJSON_Parse(body) : NULL;
	if (!rep) {
		cf_api_error(rp, 500, "host %s: stored report unreadable", id);
		goto cleanup;
	}
	if (at)
		cJSON_AddStringToObject(o, "at", atn);
	cJSON_AddItemToObject(o, "sighting", sighting_json(&s));
	cJSON_AddItemToObject(o, "report", rep);
	hist = cJSON_AddArrayToObject(o, "history");
	err = cf_db_host_history(db, id, (size_t)limit, add_sighting, hist);
	if (err != CF_OK) {
		cf_api_error(rp, 500, "host %s: history: %s", id,
			     cf_strerror(err));
		goto cleanup;
	}
	reply_json(rp, 200, o);
	o = NULL;
cleanup:
	cf_server_reader_put(rq->srv, db);
	cJSON_Delete(o);
	free(body);
}

struct labels_job {
	const char *host, *labels, *actor;
	char now[CF_DB_TIME_MAX];
};

static enum cf_err run_labels(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct labels_job *j = arg;
	return cf_db_host_set_labels(db, j->host, j->labels, j->actor, j->now, d);
}

static void h_host_labels(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *o = body_object(rq, rp, false), *labels;
	struct labels_job j = { .host = rq->param[0], .actor = rq->actor };
	struct cf_diag d = { "" };
	char *text = NULL;
	enum cf_err err;

	if (!o)
		return;
	labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (!cJSON_IsObject(labels)) {
		cf_api_error(rp, 400, "request body: $.labels: expected an object "
			     "of strings");
		goto cleanup;
	}
	text = cJSON_PrintUnformatted(labels);
	j.labels = text;
	cf_server_now(j.now, sizeof(j.now));
	err = text ? cf_writer_run(cf_server_writer(rq->srv), run_labels, &j, &d)
		   : CF_ENOMEM;
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		goto cleanup;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "id", j.host);
	cJSON_AddItemToObject(r, "labels", cJSON_Duplicate(labels, true));
	reply_json(rp, 200, r);
cleanup:
	free(text);
	cJSON_Delete(o);
}

/* ---- pools ---- */

static int add_name(void *ctx, const char *name)
{
	cJSON_AddItemToArray(ctx, cJSON_CreateString(name));
	return 0;
}

static cJSON *pool_json(const struct cf_db_pool *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *l = cJSON_Parse(p->labels_json ? p->labels_json : "{}");
	cJSON *h = cJSON_Parse(p->hosts_json ? p->hosts_json : "[]");

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddItemToObject(o, "labels", l ? l : cJSON_CreateObject());
	cJSON_AddItemToObject(o, "hosts", h ? h : cJSON_CreateArray());
	cJSON_AddStringToObject(o, "updated_at", p->updated_at);
	return o;
}

static int add_pool(void *ctx, const struct cf_db_pool *p)
{
	cJSON_AddItemToArray(ctx, pool_json(p));
	return 0;
}

static int no_pool(void *ctx, const struct cf_db_pool *p)
{
	(void)ctx;
	(void)p;
	return 0;
}

static int set_pool(void *ctx, const struct cf_db_pool *p)
{
	cJSON **out = ctx;
	*out = pool_json(p);
	return 0;
}

static enum cf_err list_pools(struct cf_db *db, cJSON *arr, size_t limit)
{
	(void)limit;
	return cf_db_pool_list(db, add_pool, arr);
}

static void h_pools(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	list_reply(rq, rp, "pools", list_pools, 0);
}

/* The pool's definition and resolved members; NULL with a reply set. */
static cJSON *pool_with_members(struct cf_db *db, const char *name,
				struct cf_api_reply *rp)
{
	cJSON *o = NULL, *mem;
	enum cf_err err = cf_db_pool_get(db, name, set_pool, &o);

	if (err == CF_OK) {
		mem = cJSON_AddArrayToObject(o, "members");
		err = cf_db_pool_members(db, name, add_name, mem);
	}
	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, status_of(err), err == CF_ENOTFOUND ?
			     "no such pool: %s" : "pool %s: database error", name);
		return NULL;
	}
	return o;
}

static void h_pool(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db *db = cf_server_reader_get(rq->srv);
	cJSON *o = pool_with_members(db, rq->param[0], rp);

	cf_server_reader_put(rq->srv, db);
	if (o)
		reply_json(rp, 200, o);
}

struct pool_job {
	const char *name, *labels, *hosts, *actor;
	char now[CF_DB_TIME_MAX];
	bool created, del;
};

struct members {
	char (*id)[CF_HOST_ID_MAX];
	size_t n, cap;
};

static int collect_member(void *ctx, const char *name)
{
	struct members *m = ctx;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		void *p = realloc(m->id, cap * sizeof(*m->id));
		if (!p)
			return 1;
		m->id = p;
		m->cap = cap;
	}
	snprintf(m->id[m->n++], CF_HOST_ID_MAX, "%s", name);
	return 0;
}

static int host_arch(void *ctx, const struct cf_db_host *h)
{
	snprintf(ctx, 16, "%s", h->arch);
	return 0;
}

/* A pool holds hosts of one architecture (a baseline of two has no
 * meaning): refused when its members, as they are now, have two. */
static enum cf_err one_arch(struct cf_db *db, const char *name,
			    struct cf_diag *d)
{
	struct members m = { 0 };
	char a0[16] = "", ai[16] = "";
	enum cf_err err = cf_db_pool_members(db, name, collect_member, &m);

	for (size_t i = 0; err == CF_OK && i < m.n; i++) {
		err = cf_db_host_get(db, m.id[i], host_arch, i ? ai : a0);
		if (err == CF_OK && i && strcmp(a0, ai) != 0)
			err = cf_diag_set(d, CF_ECONFLICT, "pool %s would mix "
					  "architectures: %s is %s, %s is %s; a "
					  "pool's hosts share one architecture, "
					  "so define one pool per architecture",
					  name, m.id[0], a0, m.id[i], ai);
	}
	free(m.id);
	return err;
}

static enum cf_err run_pool(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct pool_job *j = arg;
	enum cf_err err;

	if (j->del)
		return cf_db_pool_delete(db, j->name, j->actor, j->now, d);
	err = cf_db_pool_put(db, j->name, j->labels, j->hosts, j->actor, j->now,
			     &j->created, d);
	/* Refused, the write is rolled back with the job's savepoint. */
	return err == CF_OK ? one_arch(db, j->name, d) : err;
}

static void h_pool_put(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *o = body_object(rq, rp, false), *l, *h, *it;
	struct pool_job j = { .name = rq->param[0], .actor = rq->actor };
	struct cf_diag d = { "" };
	char *lt = NULL, *ht = NULL;
	enum cf_err err;

	if (!o)
		return;
	for (it = o->child; it; it = it->next)
		if (strcmp(it->string, "labels") && strcmp(it->string, "hosts")) {
			cf_api_error(rp, 400, "request body: $.%s: unknown member "
				     "(a pool has \"labels\" and \"hosts\")",
				     it->string);
			goto cleanup;
		}
	l = cJSON_GetObjectItemCaseSensitive(o, "labels");
	h = cJSON_GetObjectItemCaseSensitive(o, "hosts");
	if ((l && !cJSON_IsObject(l)) || (h && !cJSON_IsArray(h))) {
		cf_api_error(rp, 400, "request body: $.%s: expected %s",
			     l && !cJSON_IsObject(l) ? "labels" : "hosts",
			     l && !cJSON_IsObject(l) ? "an object of strings"
						     : "an array of host ids");
		goto cleanup;
	}
	lt = l ? cJSON_PrintUnformatted(l) : NULL;
	ht = h ? cJSON_PrintUnformatted(h) : NULL;
	j.labels = lt ? lt : "{}";
	j.hosts = ht ? ht : "[]";
	cf_server_now(j.now, sizeof(j.now));
	err = cf_writer_run(cf_server_writer(rq->srv), run_pool, &j, &d);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		goto cleanup;
	}
	struct cf_db *db = cf_server_reader_get(rq->srv);
	cJSON *r = pool_with_members(db, j.name, rp);
	cf_server_reader_put(rq->srv, db);
	if (r)
		reply_json(rp, j.created ? 201 : 200, r);
cleanup:
	free(lt);
	free(ht);
	cJSON_Delete(o);
}

static void h_pool_delete(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct pool_job j = { .name = rq->param[0], .actor = rq->actor,
			      .del = true };
	struct cf_diag d = { "" };
	enum cf_err err;

	cf_server_now(j.now, sizeof(j.now));
	err = cf_writer_run(cf_server_writer(rq->srv), run_pool, &j, &d);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "deleted", j.name);
	reply_json(rp, 200, r);
}

/* ---- baselines and profiles ---- */

struct publish_job {
	const char *name, *body, *pool, *actor;
	struct cf_db_source *src;
	size_t nsrc;
	char now[CF_DB_TIME_MAX];
	int version;
};

static enum cf_err run_publish(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct publish_job *j = arg;
	return cf_db_profile_publish(db, j->name, j->body, j->pool, j->src,
				     j->nsrc, j->actor, j->now, &j->version, d);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < CF_DB_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") == n;
}

static void h_baseline(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *pool = rq->param[0], *pname = pool, *arch0 = NULL;
	cJSON *in = body_object(rq, rp, true), *it, *o = NULL, *hosts, *confl;
	struct members m = { 0 };
	struct cf_db_sighting *sg = NULL;
	struct cf_db_source *src = NULL;
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_db *db = NULL;
	struct cf_diag d = { "" };
	char *ptext = NULL;
	bool publish = false;
	enum cf_err err;

	if (!in)
		return;
	for (it = in->child; it; it = it->next) {
		if (!strcmp(it->string, "publish") && cJSON_IsBool(it)) {
			publish = cJSON_IsTrue(it);
		} else if (!strcmp(it->string, "name") && cJSON_IsString(it) &&
			   valid_name(it->valuestring)) {
			pname = it->valuestring;
		} else {
			cf_api_error(rp, 400, "request body: $.%s: expected "
				     "\"publish\": true|false or \"name\": a "
				     "profile name ([A-Za-z0-9._-]{1,127})",
				     it->string);
			goto cleanup;
		}
	}
	if (publish && rq->tok->role != CF_DB_ROLE_ADMIN) {
		cf_api_error(rp, 403, "%s tokens may compute a baseline but not "
			     "publish it", cf_db_role_name(rq->tok->role));
		goto cleanup;
	}
	db = cf_server_reader_get(rq->srv);
	if (cf_db_pool_get(db, pool, no_pool, NULL) == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "no such pool: %s", pool);
		goto cleanup;
	}
	err = cf_db_pool_members(db, pool, collect_member, &m);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "pool %s: %s", pool,
			     cf_strerror(err));
		goto cleanup;
	}
	if (m.n == 0) {
		cf_api_error(rp, 409, "pool %s has no member that has reported",
			     pool);
		goto cleanup;
	}
	sg = calloc(m.n, sizeof(*sg));
	src = calloc(m.n, sizeof(*src));
	if (!sg || !src) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < m.n; i++) {
		struct cf_report *r = load_latest(db, m.id[i], &sg[i], rp);
		if (!r)
			goto cleanup;
		if (!p)
			arch0 = cf_report_arch(r);
		if (!p && cf_pool_create(arch0, &p) != CF_OK) {
			cf_report_destroy(r);
			cf_api_error(rp, 500, "out of memory");
			goto cleanup;
		}
		err = cf_pool_add(p, r, &d);
		/* Set with one architecture, mixed since by labels. */
		if (err == CF_EARCH)
			cf_api_error(rp, 409, "pool %s mixes architectures: %s is "
				     "%s, %s is %s (its labels now select "
				     "both); a pool's hosts share one "
				     "architecture, so define one pool per "
				     "architecture", pool, m.id[0],
				     arch0, m.id[i], cf_report_arch(r));
		else if (err != CF_OK)
			cf_api_error(rp, 409, "pool %s: %s", pool, d.msg);
		cf_report_destroy(r);
		if (err != CF_OK)
			goto cleanup;
		src[i].host = m.id[i];
		src[i].report_id = sg[i].report_id;
	}
	cf_server_reader_put(rq->srv, db);
	db = NULL;
	if (cf_baseline(p, &pr) != CF_OK || cf_profile_to_json(pr, &ptext) != CF_OK) {
		cf_api_error(rp, 500, "baseline: out of memory");
		goto cleanup;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pool", pool);
	hosts = cJSON_AddArrayToObject(o, "hosts");
	for (size_t i = 0; i < m.n; i++) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "id", m.id[i]);
		cJSON_AddStringToObject(h, "report_id", sg[i].report_id);
		cJSON_AddItemToArray(hosts, h);
	}
	cJSON_AddBoolToObject(o, "feasible", cf_profile_feasible(pr));
	confl = cJSON_AddArrayToObject(o, "conflicts");
	for (size_t i = 0; i < cf_profile_conflict_count(pr); i++) {
		char t[512];
		cf_profile_conflict_text(pr, i, t, sizeof(t));
		cJSON_AddItemToArray(confl, cJSON_CreateString(t));
	}
	cJSON_AddItemToObject(o, "profile", cJSON_Parse(ptext));
	if (!publish) {
		cJSON_AddNullToObject(o, "published");
		reply_json(rp, 200, o);
		o = NULL;
		goto cleanup;
	}
	if (!cf_profile_feasible(pr)) {
		cf_api_error(rp, 409, "pool %s has no feasible baseline (%zu "
			     "conflicts, first: %s); nothing published", pool,
			     cf_profile_conflict_count(pr),
			     cJSON_GetArrayItem(confl, 0)->valuestring);
		goto cleanup;
	}
	struct publish_job j = { .name = pname, .body = ptext, .pool = pool,
				 .actor = rq->actor, .src = src, .nsrc = m.n };
	cf_server_now(j.now, sizeof(j.now));
	err = cf_writer_run(cf_server_writer(rq->srv), run_publish, &j, &d);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		goto cleanup;
	}
	cJSON *pub = cJSON_AddObjectToObject(o, "published");
	cJSON_AddStringToObject(pub, "name", pname);
	cJSON_AddNumberToObject(pub, "version", j.version);
	reply_json(rp, 201, o);
	o = NULL;
cleanup:
	if (db)
		cf_server_reader_put(rq->srv, db);
	cJSON_Delete(o);
	cJSON_Delete(in);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	free(ptext);
	free(src);
	free(sg);
	free(m.id);
}

static cJSON *profile_json(const struct cf_db_profile *p)
{
	cJSON *o = cJSON_CreateObject(), *s;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddNumberToObject(o, "version", p->version);
	cJSON_AddStringToObject(o, "pool", p->pool);
	cJSON_AddStringToObject(o, "created_at", p->created_at);
	cJSON_AddStringToObject(o, "created_by", p->created_by);
	if (p->body) {
		s = cJSON_AddArrayToObject(o, "sources");
		for (size_t i = 0; i < p->nsources; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "host", p->sources[i].host);
			cJSON_AddStringToObject(e, "report_id",
						p->sources[i].report_id);
			cJSON_AddItemToArray(s, e);
		}
		cJSON *b = cJSON_Parse(p->body);
		cJSON_AddItemToObject(o, "profile", b ? b : cJSON_CreateNull());
	}
	return o;
}

static int add_profile(void *ctx, const struct cf_db_profile *p)
{
	cJSON_AddItemToArray(ctx, profile_json(p));
	return 0;
}

static int set_profile(void *ctx, const struct cf_db_profile *p)
{
	cJSON **out = ctx;
	*out = profile_json(p);
	return 0;
}

static void h_profiles(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	/* /v1/profiles lists every name; /v1/profiles/{}/versions one's. */
	const char *name = rq->param[0][0] ? rq->param[0] : NULL;
	struct cf_db *db = cf_server_reader_get(rq->srv);
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, name ? "versions" : "profiles");
	enum cf_err err = cf_db_profile_list(db, name, add_profile, arr);

	cf_server_reader_put(rq->srv, db);
	if (err == CF_OK && name && cJSON_GetArraySize(arr) == 0)
		err = CF_ENOTFOUND;
	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, status_of(err), err == CF_ENOTFOUND ?
			     "no such profile: %s" : "profiles: database error",
			     name ? name : "");
		return;
	}
	reply_json(rp, 200, o);
}

/* Version N of profile NAME ("" or NULL: latest) into *OUT; reply set on
 * failure. */
static bool parse_version(const char *s, int *v)
{
	char *end;
	long n;

	if (!s || !*s) {
		*v = 0;
		return true;
	}
	n = strtol(s, &end, 10);
	if (*end || n < 1 || n > 1000000000)
		return false;
	*v = (int)n;
	return true;
}

static void h_profile(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db *db;
	cJSON *o = NULL;
	enum cf_err err;
	int v;

	if (!parse_version(rq->param[1], &v)) {
		cf_api_error(rp, 400, "version %s: expected a number from 1",
			     rq->param[1]);
		return;
	}
	db = cf_server_reader_get(rq->srv);
	err = cf_db_profile_get(db, rq->param[0], v, set_profile, &o);
	cf_server_reader_put(rq->srv, db);
	if (err != CF_OK) {
		if (err == CF_ENOTFOUND && v)
			cf_api_error(rp, 404, "no version %d of profile %s", v,
				     rq->param[0]);
		else
			cf_api_error(rp, status_of(err), "profile %s: %s",
				     rq->param[0], err == CF_ENOTFOUND ?
				     "no such profile" : cf_strerror(err));
		return;
	}
	reply_json(rp, 200, o);
}

static void h_profile_put(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	char *text = NULL;
	enum cf_err err;

	if (!valid_name(rq->param[0])) {
		cf_api_error(rp, 400, "profile name %s: expected "
			     "[A-Za-z0-9._-]{1,127}", rq->param[0]);
		return;
	}
	err = cf_profile_parse(rq->body, rq->len, "request body", &pr, &d);
	if (err == CF_OK && cf_profile_to_json(pr, &text) != CF_OK)
		err = cf_diag_set(&d, CF_ENOMEM, "out of memory");
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg);
		goto cleanup;
	}
	struct publish_job j = { .name = rq->param[0], .body = text, .pool = "",
				 .actor = rq->actor };
	cf_server_now(j.now, sizeof(j.now));
	err = cf_writer_run(cf_server_writer(rq->srv), run_publish, &j, &d);
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		goto cleanup;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j.name);
	cJSON_AddNumberToObject(o, "version", j.version);
	reply_json(rp, 201, o);
cleanup:
	free(text);
	cf_profile_destroy(pr);
}

/* ---- check ---- */

static int set_body(void *ctx, const struct cf_db_profile *p)
{
	char **out = ctx;
	*out = p->body ? strdup(p->body) : NULL;
	return 0;
}

static void h_check(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *in = body_object(rq, rp, false), *pj, *hosts, *it, *o = NULL, *res;
	cJSON *h;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = NULL;
	struct cf_db *db = NULL;
	struct cf_diag d = { "" };
	char *ptext = NULL;
	enum cf_err err;
	int version = 0, n;
	uint64_t vcpus = 0;
	bool all = true;

	if (!in)
		return;
	it = cJSON_GetObjectItemCaseSensitive(in, "vcpus");
	if (it && (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
		   it->valuedouble > 4294967295.0 ||
		   it->valuedouble != (double)(uint64_t)it->valuedouble)) {
		cf_api_error(rp, 400, "request body: $.vcpus: expected a number "
			     "of vCPUs from 1");
		goto cleanup;
	}
	vcpus = it ? (uint64_t)it->valuedouble : 0;
	pj = cJSON_GetObjectItemCaseSensitive(in, "profile");
	hosts = cJSON_GetObjectItemCaseSensitive(in, "hosts");
	it = cJSON_GetObjectItemCaseSensitive(in, "version");
	n = cJSON_GetArraySize(hosts);
	if (!cJSON_IsArray(hosts) || n == 0 || n > HOSTS_MAX) {
		cf_api_error(rp, 400, "request body: $.hosts: expected an array of "
			     "1 to %d host ids", HOSTS_MAX);
		goto cleanup;
	}
	/* The whole request is checked before anything is looked up. */
	for (h = hosts->child; h; h = h->next) {
		if (!cJSON_IsString(h)) {
			cf_api_error(rp, 400, "request body: $.hosts: expected "
				     "host id strings");
			goto cleanup;
		}
	}
	if (it && (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
		   it->valuedouble > 1e9 || it->valuedouble != (int)it->valuedouble ||
		   !cJSON_IsString(pj))) {
		cf_api_error(rp, 400, "request body: $.version: expected a number "
			     "from 1, with \"profile\" a name");
		goto cleanup;
	}
	version = it ? (int)it->valuedouble : 0;
	if (cJSON_IsString(pj)) {
		db = cf_server_reader_get(rq->srv);
		err = cf_db_profile_get(db, pj->valuestring, version, set_body,
					&ptext);
		cf_server_reader_put(rq->srv, db);
		db = NULL;
		if (err != CF_OK || !ptext) {
			cf_api_error(rp, err == CF_OK ? 500 : status_of(err),
				     "profile %s%s%.0d: %s", pj->valuestring,
				     version ? " version " : "", version,
				     err == CF_OK ? "out of memory" : cf_strerror(err));
			goto cleanup;
		}
		err = cf_profile_parse(ptext, strlen(ptext), pj->valuestring, &pr,
				       &d);
	} else if (cJSON_IsObject(pj)) {
		ptext = cJSON_PrintUnformatted(pj);
		err = ptext ? cf_profile_parse(ptext, strlen(ptext),
					       "request body $.profile", &pr, &d)
			    : CF_ENOMEM;
	} else {
		cf_api_error(rp, 400, "request body: $.profile: expected a profile "
			     "v1 document or a profile name");
		goto cleanup;
	}
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "%s", d.msg[0] ? d.msg
							  : cf_strerror(err));
		goto cleanup;
	}
	v = cf_verdict_create();
	o = cJSON_CreateObject();
	res = cJSON_AddArrayToObject(o, "results");
	if (!v || !res) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	db = cf_server_reader_get(rq->srv);
	for (it = hosts->child; it; it = it->next) {
		struct cf_report *r;
		char *rj = NULL;
		if (!cJSON_IsString(it)) {
			cf_api_error(rp, 400, "request body: $.hosts: expected "
				     "host id strings");
			goto cleanup;
		}
		r = load_latest(db, it->valuestring, NULL, rp);
		if (!r)
			goto cleanup;
		err = vcpus ? cf_check_vcpus(pr, r, vcpus, v) : cf_check(pr, r, v);
		cf_report_destroy(r);
		if (err == CF_OK)
			err = cf_verdict_to_json(v, &rj);
		if (err != CF_OK) {
			cf_api_error(rp, status_of(err) == 500 ? 500 : 409,
				     "host %s: %s", it->valuestring,
				     cf_strerror(err));
			goto cleanup;
		}
		cJSON *e = cJSON_CreateObject(), *texts, *det = cJSON_Parse(rj);
		free(rj);
		cJSON_AddItemToArray(res, e);
		cJSON_AddStringToObject(e, "host", it->valuestring);
		cJSON_AddBoolToObject(e, "compatible", cf_verdict_compatible(v));
		texts = cJSON_AddArrayToObject(e, "reasons");
		for (cJSON *x = det ? det->child : NULL; x; x = x->next)
			cJSON_AddItemToArray(texts, cJSON_CreateString(
				cJSON_GetObjectItemCaseSensitive(x, "text")->valuestring));
		cJSON_AddItemToObject(e, "details", det ? det : cJSON_CreateArray());
		all = all && cf_verdict_compatible(v);
	}
	cJSON_AddBoolToObject(o, "compatible", all);
	reply_json(rp, 200, o);
	o = NULL;
cleanup:
	if (db)
		cf_server_reader_put(rq->srv, db);
	cJSON_Delete(o);
	cJSON_Delete(in);
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	free(ptext);
}

/* ---- the pool's verdict matrix ---- */

static cJSON *cell_json(const char *key, const char *host,
			const struct cf_verdict *v)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, key, host);
	cJSON_AddBoolToObject(c, "compatible", cf_verdict_compatible(v));
	cJSON_AddNumberToObject(c, "reasons", (double)cf_verdict_reason_count(v));
	return c;
}

/* Every ordered pair of the pool's members (a VM started with the source's
 * own profile, moved to the destination), and the pool's published
 * baseline on each member. */
static void h_matrix(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *pool = rq->param[0], *pname = rq->query(rq->conn, "profile");
	struct members m = { 0 };
	struct cf_report **r = NULL;
	struct cf_profile *pr = NULL, *base = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_db *db = cf_server_reader_get(rq->srv);
	struct cf_diag d = { "" };
	char *btext = NULL;
	cJSON *o = NULL, *rows, *brow;
	enum cf_err err;

	if (pname && !valid_name(pname)) {
		cf_api_error(rp, 400, "profile=%s: expected a profile name "
			     "([A-Za-z0-9._-]{1,127})", pname);
		goto cleanup;
	}
	if (!pname)
		pname = pool;
	err = cf_db_pool_get(db, pool, no_pool, NULL);
	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "no such pool: %s", pool);
		goto cleanup;
	}
	if (err != CF_OK) {
		cf_api_error(rp, status_of(err), "pool %s: %s", pool,
			     cf_strerror(err));
		goto cleanup;
	}
	err = cf_db_pool_members(db, pool, collect_member, &m);
	if (err == CF_OK && m.n)
		r = calloc(m.n, sizeof(*r));
	if (err != CF_OK || !v || (m.n && !r)) {
		/* An invalid name is the client's: 400, not 500. */
		cf_api_error(rp, err == CF_OK ? 500 : status_of(err), "pool %s: "
			     "%s", pool, cf_strerror(err));
		goto cleanup;
	}
	for (size_t i = 0; i < m.n; i++) {
		r[i] = load_latest(db, m.id[i], NULL, rp);
		if (!r[i])
			goto cleanup;
	}
	err = cf_db_profile_get(db, pname, 0, set_body, &btext);
	if (err == CF_OK && btext) {
		err = cf_profile_parse(btext, strlen(btext), pname, &base, &d);
		if (err != CF_OK) {
			cf_api_error(rp, 500, "%s", d.msg);
			goto cleanup;
		}
	} else if (err != CF_ENOTFOUND && err != CF_OK) {
		cf_api_error(rp, 500, "profile %s: %s", pname, cf_strerror(err));
		goto cleanup;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pool", pool);
	cJSON *hl = cJSON_AddArrayToObject(o, "hosts");
	for (size_t i = 0; i < m.n; i++)
		cJSON_AddItemToArray(hl, cJSON_CreateString(m.id[i]));
	rows = cJSON_AddArrayToObject(o, "rows");
	for (size_t i = 0; i < m.n; i++) {
		cJSON *row = cJSON_CreateObject(), *cells;
		cJSON_AddItemToArray(rows, row);
		cJSON_AddStringToObject(row, "from", m.id[i]);
		cells = cJSON_AddArrayToObject(row, "cells");
		if (cf_profile_from_report(r[i], &pr) != CF_OK) {
			cf_api_error(rp, 500, "out of memory");
			goto cleanup;
		}
		for (size_t j = 0; j < m.n; j++) {
			if (cf_check(pr, r[j], v) != CF_OK) {
				cf_api_error(rp, 409, "pool %s: %s and %s have "
					     "different architectures", pool,
					     m.id[i], m.id[j]);
				goto cleanup;
			}
			cJSON_AddItemToArray(cells, cell_json("to", m.id[j], v));
		}
		cf_profile_destroy(pr);
		pr = NULL;
	}
	if (!base) {
		cJSON_AddNullToObject(o, "baseline");
	} else {
		cJSON *b = cJSON_AddObjectToObject(o, "baseline");
		cJSON_AddStringToObject(b, "profile", pname);
		brow = cJSON_AddArrayToObject(b, "cells");
		for (size_t j = 0; j < m.n; j++) {
			if (cf_check(base, r[j], v) != CF_OK) {
				cf_api_error(rp, 409, "profile %s and host %s have "
					     "different architectures", pname,
					     m.id[j]);
				goto cleanup;
			}
			cJSON_AddItemToArray(brow, cell_json("host", m.id[j], v));
		}
	}
	reply_json(rp, 200, o);
	o = NULL;
cleanup:
	cf_server_reader_put(rq->srv, db);
	cJSON_Delete(o);
	for (size_t i = 0; r && i < m.n; i++)
		cf_report_destroy(r[i]);
	free(r);
	free(m.id);
	free(btext);
	cf_profile_destroy(pr);
	cf_profile_destroy(base);
	cf_verdict_destroy(v);
}

/* ---- exports ---- */

/* GET /v1/profiles/{name}/versions/{n}/export?format=F[&allow_drop=1]:
 * the published version in a VMM's format (cf_profile_export), as
 * {"format", "arch", "profile", "version", "fingerprint", "notes",
 * "dropped", "text"}.  Reads only: a published version never changes. */
static void h_profile_export(const struct cf_api_req *rq,
			     struct cf_api_reply *rp)
{
	const char *format = rq->query(rq->conn, "format");
	const char *drop = rq->query(rq->conn, "allow_drop");
	struct cf_export_opts eo = { rq->param[0], 0, false };
	struct cf_profile *pr = NULL;
	struct cf_export *e = NULL;
	struct cf_diag d = { "" };
	struct cf_db *db;
	char *body = NULL, *text = NULL;
	enum cf_err err;

	if (!parse_version(rq->param[1], &eo.version) || eo.version < 1) {
		cf_api_error(rp, 400, "version %s: expected a number from 1",
			     rq->param[1]);
		return;
	}
	if (!format || !*format) {
		cf_api_error(rp, 400, "format: expected ?format=qemu, libvirt or "
			     "firecracker");
		return;
	}
	if (drop && strcmp(drop, "0") && strcmp(drop, "1")) {
		cf_api_error(rp, 400, "allow_drop=%s: expected 0 or 1", drop);
		return;
	}
	eo.allow_drop = drop && !strcmp(drop, "1");
	db = cf_server_reader_get(rq->srv);
	err = cf_db_profile_get(db, rq->param[0], eo.version, set_body, &body);
	cf_server_reader_put(rq->srv, db);
	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "no version %d of profile %s", eo.version,
			     rq->param[0]);
		return;
	}
	if (err == CF_OK && !body)
		err = CF_ENOMEM;
	if (err == CF_OK)
		err = cf_profile_parse(body, strlen(body), rq->param[0], &pr, &d);
	if (err != CF_OK) {
		cf_api_error(rp, 500, "profile %s version %d: %s", rq->param[0],
			     eo.version, d.msg[0] ? d.msg : cf_strerror(err));
		goto cleanup;
	}
	err = cf_profile_export(pr, format, &eo, &e, &d);
	if (err == CF_OK)
		err = cf_export_to_json(e, &text);
	if (err != CF_OK) {
		cf_api_error(rp, err == CF_ENOMEM ? 500 : 400, "profile %s version "
			     "%d: %s", rq->param[0], eo.version,
			     d.msg[0] ? d.msg : cf_strerror(err));
		goto cleanup;
	}
	rp->status = 200;
	rp->ctype = NULL;
	free(rp->body);
	rp->body = text;
	text = NULL;
cleanup:
	free(text);
	free(body);
	cf_export_destroy(e);
	cf_profile_destroy(pr);
}

/* ---- audit ---- */

static int add_audit(void *ctx, const struct cf_db_audit *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *det = cJSON_Parse(a->detail_json ? a->detail_json : "null");

	cJSON_AddNumberToObject(o, "seq", (double)a->seq);
	cJSON_AddStringToObject(o, "at", a->at);
	cJSON_AddStringToObject(o, "actor", a->actor);
	cJSON_AddStringToObject(o, "action", a->action);
	cJSON_AddStringToObject(o, "object", a->object);
	cJSON_AddItemToObject(o, "detail", det ? det : cJSON_CreateNull());
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

static enum cf_err list_audit(struct cf_db *db, cJSON *arr, size_t limit)
{
	return cf_db_audit_list(db, limit, add_audit, arr);
}

static void h_audit(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *lim = rq->query(rq->conn, "limit");
	long limit = 100;
	char *end;

	if (lim) {
		limit = strtol(lim, &end, 10);
		if (!*lim || *end || limit < 0 || limit > 100000) {
			cf_api_error(rp, 400, "limit=%s: expected 0 to 100000", lim);
			return;
		}
	}
	list_reply(rq, rp, "audit", list_audit, (size_t)limit);
}

const struct cf_api_route cf_api_routes[] = {
	{ "GET", "/v1/health", CF_API_PUBLIC, h_health, "health" },
	{ "GET", "/metrics", CF_API_PUBLIC, h_metrics, "metrics" },
	{ "POST", "/v1/reports", CF_API_UPLOAD, h_upload, "reports" },
	{ "GET", "/v1/hosts", CF_API_READ, h_hosts, "hosts" },
	{ "GET", "/v1/hosts/{}", CF_API_READ, h_host, "host" },
	{ "PUT", "/v1/hosts/{}/labels", CF_API_ADMIN, h_host_labels, "host_labels" },
	{ "GET", "/v1/pools", CF_API_READ, h_pools, "pools" },
	{ "GET", "/v1/pools/{}", CF_API_READ, h_pool, "pool" },
	{ "PUT", "/v1/pools/{}", CF_API_ADMIN, h_pool_put, "pool_put" },
	{ "DELETE", "/v1/pools/{}", CF_API_ADMIN, h_pool_delete, "pool_delete" },
	{ "POST", "/v1/pools/{}/baseline", CF_API_READ, h_baseline, "baseline" },
	{ "GET", "/v1/pools/{}/matrix", CF_API_READ, h_matrix, "matrix" },
	{ "GET", "/v1/profiles", CF_API_READ, h_profiles, "profiles" },
	{ "GET", "/v1/profiles/{}", CF_API_READ, h_profile, "profile" },
	{ "PUT", "/v1/profiles/{}", CF_API_ADMIN, h_profile_put, "profile_put" },
	{ "GET", "/v1/profiles/{}/versions", CF_API_READ, h_profiles,
	  "profile_versions" },
	{ "GET", "/v1/profiles/{}/versions/{}", CF_API_READ, h_profile,
	  "profile_version" },
	{ "GET", "/v1/profiles/{}/versions/{}/export", CF_API_READ,
	  h_profile_export, "profile_export" },
	{ "POST", "/v1/check", CF_API_READ, h_check, "check" },
	{ "GET", "/v1/audit", CF_API_ADMIN, h_audit, "audit" },
};
const size_t cf_api_nroutes = sizeof(cf_api_routes) / sizeof(cf_api_routes[0]);
