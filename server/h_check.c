/* POST /v1/check: a profile (published, by name, or inline, or a host's
 * own: "from") against the latest report of each host named. */
#include <stdint.h>
#include <stdlib.h>
#include "server/api.h"
#include "profiles/doc.h"
#include "util/diag.h"

#define HOSTS_MAX 10000      /* hosts named in one request */

/* The one verdict shape (profiles/doc.h), plus "details": the same
 * reasons again, kept for clients of the API before "reasons" were
 * objects (they read the objects there). */
static int add_result(void *ctx, const char *host, const struct cf_verdict *v)
{
	cJSON *res = ctx, *e = NULL, *det;

	if (cf_verdict_entry_doc(host, v, &e) != CF_OK)
		return 1;
	det = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "reasons"),
			      true);
	if (!det || !cJSON_AddItemToObject(e, "details", det) ||
	    !cJSON_AddItemToArray(res, e)) {
		cJSON_Delete(det);
		cJSON_Delete(e);
		return 1;
	}
	return 0;
}

void cf_h_check(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *in = cf_api_body_object(rq, rp, false), *pj, *hosts, *it, *h;
	cJSON *from;
	cJSON *o = NULL, *res;
	struct cf_fleet f = rq->env->fleet;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	const char **ids = NULL;
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
	from = cJSON_GetObjectItemCaseSensitive(in, "from");
	hosts = cJSON_GetObjectItemCaseSensitive(in, "hosts");
	it = cJSON_GetObjectItemCaseSensitive(in, "version");
	n = cJSON_GetArraySize(hosts);
	if (!cJSON_IsArray(hosts) || n == 0 || n > HOSTS_MAX) {
		cf_api_error(rp, 400, "request body: $.hosts: expected an array of "
			     "1 to %d host ids", HOSTS_MAX);
		goto cleanup;
	}
	/* The whole request is checked before anything is looked up. */
	ids = calloc((size_t)n, sizeof(*ids));
	if (!ids) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	n = 0;
	for (h = hosts->child; h; h = h->next) {
		if (!cJSON_IsString(h)) {
			cf_api_error(rp, 400, "request body: $.hosts: expected "
				     "host id strings");
			goto cleanup;
		}
		ids[n++] = h->valuestring;
	}
	if (it && (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
		   it->valuedouble > 1e9 || it->valuedouble != (int)it->valuedouble ||
		   !cJSON_IsString(pj))) {
		cf_api_error(rp, 400, "request body: $.version: expected a number "
			     "from 1, with \"profile\" a name");
		goto cleanup;
	}
	version = it ? (int)it->valuedouble : 0;
	if (from && (pj || it || !cJSON_IsString(from))) {
		cf_api_error(rp, 400, "request body: $.from: expected a host id, "
			     "without \"profile\" or \"version\"");
		goto cleanup;
	}
	if (from) {
		err = cf_fleet_host_profile(&rq->env->fleet, from->valuestring,
					    &pr, &d);
	} else if (cJSON_IsString(pj)) {
		err = cf_fleet_profile_load(&rq->env->fleet, pj->valuestring,
					    version, &pr, &d);
	} else if (cJSON_IsObject(pj)) {
		/* Parsed with the body already: built from its tree. */
		err = cf_profile_from_doc(pj, "request body $.profile", &pr, &d);
	} else {
		cf_api_error(rp, 400, "request body: $.profile: expected a profile "
			     "v1 document or a profile name");
		goto cleanup;
	}
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	o = cJSON_CreateObject();
	res = cJSON_AddArrayToObject(o, "results");
	if (!res) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	f.cancelled = rq->gone;
	f.cctx = rq->conn;
	err = cf_fleet_check(&f, pr, ids, (size_t)n, vcpus, add_result, res,
			     &d);
	if (err == CF_OK && cJSON_GetArraySize(res) != n)
		err = cf_diag_set(&d, CF_ENOMEM, "out of memory");
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	for (it = res->child; it; it = it->next)
		all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					  it, "compatible"));
	cJSON_AddBoolToObject(o, "compatible", all);
	cf_api_reply_json(rp, 200, o);
	o = NULL;
cleanup:
	cJSON_Delete(o);
	cJSON_Delete(in);
	free(ids);
	cf_profile_destroy(pr);
}
