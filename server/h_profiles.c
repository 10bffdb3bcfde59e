/* /v1/profiles: named, versioned profiles, published or put, and their
 * exports in the formats VMMs take. */
#include <stdlib.h>
#include <string.h>
#include "server/api.h"
#include "util/text.h"

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
		cf_api_add_stored(o, "profile", p->body, "null");
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

void cf_h_profiles(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	/* /v1/profiles lists every name; /v1/profiles/{}/versions one's. */
	const char *name = rq->param[0][0] ? rq->param[0] : NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, name ? "versions" : "profiles");
	enum cf_err err = cf_fleet_profiles(&rq->env->fleet, name, add_profile,
					    arr);

	if (err == CF_OK && name && cJSON_GetArraySize(arr) == 0)
		err = CF_ENOTFOUND;
	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, cf_api_status(err), err == CF_ENOTFOUND ?
			     "no such profile: %s" : "profiles: database error",
			     name ? name : "");
		return;
	}
	cf_api_reply_json(rp, 200, o);
}

void cf_h_profile(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *o = NULL;
	enum cf_err err;
	int v;

	if (!cf_api_parse_version(rq->param[1], &v)) {
		cf_api_error(rp, 400, "version %s: expected a number from 1",
			     rq->param[1]);
		return;
	}
	err = cf_fleet_profile_get(&rq->env->fleet, rq->param[0], v,
				   set_profile, &o);
	if (err != CF_OK) {
		if (err == CF_ENOTFOUND && v)
			cf_api_error(rp, 404, "no version %d of profile %s", v,
				     rq->param[0]);
		else
			cf_api_error(rp, cf_api_status(err), "profile %s: %s",
				     rq->param[0], err == CF_ENOTFOUND ?
				     "no such profile" : cf_strerror(err));
		return;
	}
	cf_api_reply_json(rp, 200, o);
}

void cf_h_profile_put(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	enum cf_err err;
	int version;

	if (!cf_text_name_ok(rq->param[0], CF_DB_NAME_MAX)) {
		cf_api_error(rp, 400, "profile name %s: expected "
			     "[A-Za-z0-9._-]{1,127}", rq->param[0]);
		return;
	}
	err = cf_profile_parse(rq->body, rq->len, "request body", &pr, &d);
	if (err == CF_OK)
		err = cf_fleet_profile_put(&rq->env->fleet, rq->param[0], pr,
					   rq->actor, &version, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", rq->param[0]);
	cJSON_AddNumberToObject(o, "version", version);
	cf_api_reply_json(rp, 201, o);
cleanup:
	cf_profile_destroy(pr);
}

/* GET /v1/profiles/{name}/versions/{n}/export?format=F[&allow_drop=1]:
 * the published version in a VMM's format (cf_profile_export), as
 * {"format", "arch", "profile", "version", "fingerprint", "notes",
 * "dropped", "text"}.  Reads only: a published version never changes. */
void cf_h_profile_export(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *format = rq->query(rq->conn, "format");
	const char *drop = rq->query(rq->conn, "allow_drop");
	struct cf_export_opts eo = { rq->param[0], 0, false };
	struct cf_profile *pr = NULL;
	struct cf_export *e = NULL;
	struct cf_diag d = { "" };
	char *text = NULL;
	enum cf_err err;

	if (!cf_api_parse_version(rq->param[1], &eo.version) || eo.version < 1) {
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
	err = cf_fleet_profile_load(&rq->env->fleet, rq->param[0], eo.version,
				    &pr, &d);
	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 404, "no version %d of profile %s", eo.version,
			     rq->param[0]);
		return;
	}
	if (err != CF_OK) {
		cf_api_error(rp, 500, "profile %s version %d: %s", rq->param[0],
			     eo.version, d.msg[0] ? d.msg : cf_strerror(err));
		goto cleanup;
	}
	err = cf_profile_export(pr, format, &eo, &e, &d);
	if (err == CF_OK)
		err = cf_export_to_json(e, &text);
	if (err != CF_OK) {
		cf_api_error(rp, cf_api_status(err), "profile %s version %d: %s",
			     rq->param[0], eo.version,
			     d.msg[0] ? d.msg : cf_strerror(err));
		goto cleanup;
	}
	rp->status = 200;
	rp->ctype = NULL;
	free(rp->body);
	rp->body = text;
cleanup:
	cf_export_destroy(e);
	cf_profile_destroy(pr);
}
