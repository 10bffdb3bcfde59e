/* /v1/hosts: the hosts that have reported, one host with its report and
 * history, its labels. */
#include <stdlib.h>
#include <string.h>
#include "server/api.h"
#include "util/text.h"

#define HISTORY_DEFAULT 100

static cJSON *host_json(const struct cf_db_host *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", h->id);
	cJSON_AddStringToObject(o, "arch", h->arch);
	cJSON_AddStringToObject(o, "hostname", h->hostname);
	cf_api_add_stored(o, "labels", h->labels_json, "{}");
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

static enum cf_err list_hosts(struct cf_fleet *f, cJSON *arr, size_t limit)
{
	(void)limit;
	return cf_fleet_hosts(f, add_host, arr);
}

void cf_h_hosts(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cf_api_list(rq, rp, "hosts", list_hosts, 0);
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

void cf_h_host(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *id = rq->param[0], *at = rq->query(rq->conn, "at");
	const char *lim = rq->query(rq->conn, "history");
	struct cf_fleet_history h;
	struct cf_diag d = { "" };
	char atn[CF_DB_TIME_MAX], *end;
	long limit = HISTORY_DEFAULT;
	enum cf_err err;
	cJSON *o, *hist;

	if (at && !cf_text_time_norm(at, 3, atn, sizeof(atn))) {
		cf_api_error(rp, 400, "at=%s: expected an RFC 3339 UTC time "
			     "like 2026-11-17T12:00:00Z", at);
		return;
	}
	if (lim) {
		limit = strtol(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || limit < 0 || limit > 100000) {
			cf_api_error(rp, 400, "history=%s: expected 0 to 100000",
				     lim);
			return;
		}
	}
	err = cf_fleet_history(&rq->env->fleet, id, at ? atn : NULL,
			       (size_t)limit, &h, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	o = host_json(&h.host);
	if (at)
		cJSON_AddStringToObject(o, "at", atn);
	cJSON_AddItemToObject(o, "sighting", sighting_json(&h.at));
	cf_api_add_stored(o, "report", h.report, "null");
	hist = cJSON_AddArrayToObject(o, "history");
	for (size_t i = 0; i < h.n; i++)
		cJSON_AddItemToArray(hist, sighting_json(&h.sightings[i]));
	cf_api_reply_json(rp, 200, o);
cleanup:
	cf_fleet_history_clear(&h);
}

void cf_h_host_labels(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *o = cf_api_body_object(rq, rp, false), *labels;
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
	/* Stored as text; the storage checks every member. */
	text = cJSON_PrintUnformatted(labels);
	err = text ? cf_fleet_set_labels(&rq->env->fleet, rq->param[0], text,
					 rq->actor, &d)
		   : CF_ENOMEM;
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "id", rq->param[0]);
	cJSON_AddItemToObject(r, "labels", cJSON_Duplicate(labels, true));
	cf_api_reply_json(rp, 200, r);
cleanup:
	free(text);
	cJSON_Delete(o);
}

/* GET /v1/features/{name}: which hosts offer a feature, which lack it. */
void cf_h_feature(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *name = rq->param[0];
	struct cf_fleet_feature ft;
	struct cf_diag d = { "" };
	enum cf_err err;
	cJSON *o, *arch, *hosts;

	if (!cf_text_name_ok(name, CF_DB_NAME_MAX)) {
		cf_api_error(rp, 400, "feature name: expected 1 to %d of "
			     "A-Z a-z 0-9 . _ -", CF_DB_NAME_MAX - 1);
		return;
	}
	err = cf_fleet_feature(&rq->env->fleet, name, &ft, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "feature", name);
	arch = cJSON_AddArrayToObject(o, "arch");
	for (size_t a = 0; arch && a < ft.narch; a++)
		cJSON_AddItemToArray(arch, cJSON_CreateString(ft.arch[a]));
	hosts = cJSON_AddArrayToObject(o, "hosts");
	for (size_t i = 0; hosts && i < ft.n; i++) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "id", ft.h[i].host);
		cJSON_AddStringToObject(h, "arch", ft.h[i].arch);
		cJSON_AddBoolToObject(h, "shows", ft.h[i].shows);
		cJSON_AddItemToArray(hosts, h);
	}
	cf_api_reply_json(rp, 200, o);
cleanup:
	cf_fleet_feature_clear(&ft);
}
