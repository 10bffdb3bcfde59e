/* GET /v1/events: drift events, newest first. */
#include <stdlib.h>
#include "server/api.h"
#include "profiles/event_doc.h"
#include "util/text.h"

#define EVENTS_DEFAULT 100
#define EVENTS_MAX 10000

struct events {
	cJSON *arr;
	bool failed;
};

static int add_event(void *ctx, const struct cf_db_event *ev)
{
	struct events *e = ctx;
	cJSON *o = NULL;

	if (cf_event_to_doc(ev, &o) != CF_OK ||
	    !cJSON_AddItemToArray(e->arr, o)) {
		cJSON_Delete(o);
		e->failed = true;
		return 1;
	}
	return 0;
}

void cf_h_events(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *since = rq->query(rq->conn, "since");
	const char *host = rq->query(rq->conn, "host");
	const char *lim = rq->query(rq->conn, "limit");
	char sn[CF_DB_TIME_MAX], *end;
	long limit = EVENTS_DEFAULT;
	enum cf_err err;
	struct events e = { NULL, false };
	cJSON *o;

	if (since && !cf_text_time_norm(since, 3, sn, sizeof(sn))) {
		cf_api_error(rp, 400, "since=%s: expected an RFC 3339 UTC time "
			     "like 2026-11-17T12:00:00Z", since);
		return;
	}
	if (lim) {
		limit = strtol(lim, &end, 10);
		if (!*lim || *end || limit < 1 || limit > EVENTS_MAX) {
			cf_api_error(rp, 400, "limit=%s: expected 1 to %d", lim,
				     EVENTS_MAX);
			return;
		}
	}
	if (host && !*host) {
		cf_api_error(rp, 400, "host=: expected a host id");
		return;
	}
	o = cJSON_CreateObject();
	e.arr = cJSON_AddArrayToObject(o, "events");
	err = e.arr ? cf_fleet_events(&rq->env->fleet, since ? sn : NULL, host,
				      (size_t)limit, add_event, &e)
		    : CF_ENOMEM;
	if (err == CF_OK && e.failed)
		err = CF_ENOMEM;
	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, 500, "events: %s", cf_strerror(err));
		return;
	}
	cf_api_reply_json(rp, 200, o);
}
