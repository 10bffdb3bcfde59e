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

/* Hosts refusing a profile published for their pool: computed from the
 * database (bounded as cf_fleet_hosts_refusing says) when the reports or
 * the audit moved since the last time, else the value kept. */
static enum cf_err refusing(struct cf_api_env *env,
			    const struct cf_db_stats *st,
			    unsigned long long *out)
{
	struct cf_diag d = { "" };
	enum cf_err err = CF_OK;

	pthread_mutex_lock(&env->refusing_lock);
	if (!env->refusing_known || env->refusing_key[0] != st->reports ||
	    env->refusing_key[1] != st->audit_seq) {
		err = cf_fleet_hosts_refusing(&env->fleet, &env->refusing,
					      NULL, &d);
		env->refusing_known = err == CF_OK;
		env->refusing_key[0] = st->reports;
		env->refusing_key[1] = st->audit_seq;
	}
	*out = env->refusing;
	pthread_mutex_unlock(&env->refusing_lock);
	return err;
}

void cf_h_metrics(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_db_stats st = { 0 };
	int schema;
	unsigned long long nref = 0;
	enum cf_err err = cf_fleet_stats(&rq->env->fleet, &st, &schema);
	char *own = rq->env->metrics(rq->env->owner);
	size_t cap;
	char *out;

	if (err == CF_OK)
		err = refusing(rq->env, &st, &nref);
	if (err != CF_OK || !own) {
		free(own);
		cf_api_error(rp, 500, "metrics: %s", cf_strerror(err));
		return;
	}
	cap = strlen(own) + 4096;
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
		 "cpufleet_profile_versions %llu\n"
		 "# HELP cpufleet_drift_events_total Drift events recorded: a "
		 "host's new report had another configuration.\n"
		 "# TYPE cpufleet_drift_events_total counter\n"
		 "cpufleet_drift_events_total %llu\n"
		 "# HELP cpufleet_hosts_refusing_published_profile Hosts whose "
		 "latest report refuses the latest version of a profile "
		 "published for a pool they are members of.\n"
		 "# TYPE cpufleet_hosts_refusing_published_profile gauge\n"
		 "cpufleet_hosts_refusing_published_profile %llu\n",
		 own, st.hosts, st.reports, st.sightings, st.configs, st.pools,
		 st.profile_versions, st.events, nref);
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
