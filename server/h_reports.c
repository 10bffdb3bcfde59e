/* POST /v1/reports: an agent's (or an admin's) report of a host. */
#include <stdlib.h>
#include "server/api.h"

static const enum cf_api_upload counted[] = {
	[CF_FLEET_NEW] = CF_API_UP_NEW,
	[CF_FLEET_SEEN_AGAIN] = CF_API_UP_SEEN_AGAIN,
	[CF_FLEET_KNOWN] = CF_API_UP_KNOWN,
};

void cf_h_upload(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	struct cf_fleet_upload u;
	enum cf_err err;
	cJSON *o;

	err = cf_report_parse(rq->body, rq->len, "request body", &r, &d);
	if (err == CF_OK)
		err = cf_fleet_upload(&rq->env->fleet, r, rq->tok, &u, &d);
	if (err != CF_OK) {
		/* The sender's fault (nothing stored), or the server's. */
		cf_api_fail(rp, err, &d);
		cf_api_count_upload(rq->env, cf_api_status(err) < 500 ?
				    CF_API_UP_REJECTED : CF_API_UP_FAILED);
		goto cleanup;
	}
	cf_api_count_upload(rq->env, counted[u.status]);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "report_id", u.report_id);
	cJSON_AddStringToObject(o, "host", cf_report_host_id(r));
	cJSON_AddStringToObject(o, "status", cf_fleet_upload_status_name(u.status));
	cJSON_AddStringToObject(o, "received_at", u.received_at);
	cf_api_reply_json(rp, u.status == CF_FLEET_KNOWN ? 200 : 201, o);
cleanup:
	cf_report_destroy(r);
}
