/* /v1/health, /metrics and /v1/audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/api.h"

void cf_h_health(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db_stats st;
	int schema;
	enum cf_err err = cf_fleet_stats(&rq->env->fleet, &st, &schema);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", err == CF_OK ? "ok" : "degraded");
	cJSON_AddNumberToObject(o, "schema_version", schema);
	cJSON_AddStringToObject(o, "database", err == CF_OK ? "ok"
							    : cf_strerror(err));
	cf_api_reply_json(rp, err == CF_OK ? 200 : 503, o);
}

void cf_h_metrics(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db_stats st = { 0 };
	int schema;
	enum cf_err err = cf_fleet_stats(&rq->env->fleet, &st, &schema);
	char *own = rq->env->metrics(rq->env->owner);
	size_t cap;
	char *out;

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

static int add_audit(void *ctx, const struct cf_db_audit *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "seq", (double)a->seq);
	cJSON_AddStringToObject(o, "at", a->at);
	cJSON_AddStringToObject(o, "actor", a->actor);
	cJSON_AddStringToObject(o, "action", a->action);
	cJSON_AddStringToObject(o, "object", a->object);
	cf_api_add_stored(o, "detail", a->detail_json, "null");
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

static enum cf_err list_audit(struct cf_fleet *f, cJSON *arr, size_t limit)
{
	return cf_fleet_audit(f, limit, add_audit, arr);
}

void cf_h_audit(const struct cf_api_req *rq, struct cf_api_reply *rp)
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
	cf_api_list(rq, rp, "audit", list_audit, (size_t)limit);
}
