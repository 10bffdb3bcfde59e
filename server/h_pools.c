/* /v1/pools: named host sets, their baseline and their verdict matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/api.h"
#include "profiles/doc.h"
#include "util/text.h"

static cJSON *pool_json(const struct cf_db_pool *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", p->name);
	cf_api_add_stored(o, "labels", p->labels_json, "{}");
	cf_api_add_stored(o, "hosts", p->hosts_json, "[]");
	cJSON_AddStringToObject(o, "updated_at", p->updated_at);
	return o;
}

static int add_pool(void *ctx, const struct cf_db_pool *p)
{
	cJSON_AddItemToArray(ctx, pool_json(p));
	return 0;
}

static enum cf_err list_pools(struct cf_fleet *f, cJSON *arr, size_t limit)
{
	(void)limit;
	return cf_fleet_pools(f, add_pool, arr);
}

void cf_h_pools(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cf_api_list(rq, rp, "pools", list_pools, 0);
}

struct pool_reply {
	cJSON *o, *members;
};

static int set_pool(void *ctx, const struct cf_db_pool *p)
{
	struct pool_reply *r = ctx;

	r->o = pool_json(p);
	r->members = cJSON_AddArrayToObject(r->o, "members");
	return 0;
}

static int add_member(void *ctx, const char *name)
{
	struct pool_reply *r = ctx;

	cJSON_AddItemToArray(r->members, cJSON_CreateString(name));
	return 0;
}

/* Replies the pool's definition and resolved members. */
static void reply_pool(const struct cf_api_req *rq, struct cf_api_reply *rp,
		       const char *name, unsigned status)
{
	struct pool_reply r = { NULL, NULL };
	struct cf_diag d = { "" };
	enum cf_err err = cf_fleet_pool_get(&rq->env->fleet, name, set_pool,
					    add_member, &r, &d);

	if (err != CF_OK) {
		cJSON_Delete(r.o);
		cf_api_fail(rp, err, &d);
		return;
	}
	cf_api_reply_json(rp, status, r.o);
}

void cf_h_pool(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	reply_pool(rq, rp, rq->param[0], 200);
}

void cf_h_pool_put(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *o = cf_api_body_object(rq, rp, false), *l, *h, *it;
	struct cf_diag d = { "" };
	char *lt = NULL, *ht = NULL;
	bool created = false;
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
	/* Stored as text; the storage checks every member. */
	lt = l ? cJSON_PrintUnformatted(l) : NULL;
	ht = h ? cJSON_PrintUnformatted(h) : NULL;
	err = cf_fleet_pool_put(&rq->env->fleet, rq->param[0], lt ? lt : "{}",
				ht ? ht : "[]", rq->actor, &created, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	reply_pool(rq, rp, rq->param[0], created ? 201 : 200);
cleanup:
	free(lt);
	free(ht);
	cJSON_Delete(o);
}

void cf_h_pool_delete(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	struct cf_diag d = { "" };
	enum cf_err err = cf_fleet_pool_delete(&rq->env->fleet, rq->param[0],
					       rq->actor, &d);

	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "deleted", rq->param[0]);
	cf_api_reply_json(rp, 200, r);
}

/* {"pool", "hosts": [{"id", "report_id"}], "feasible", "conflicts",
 * "profile", "published": null | {"name", "version"}}. */
static cJSON *baseline_json(const struct cf_fleet_baseline *b,
			    const char *pname)
{
	const struct cf_fleet_pool *p = b->pool;
	cJSON *o = cJSON_CreateObject(), *hosts, *confl;
	char t[512];

	cJSON_AddStringToObject(o, "pool", p->name);
	hosts = cJSON_AddArrayToObject(o, "hosts");
	for (size_t i = 0; i < p->n; i++) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "id", p->m[i].host);
		cJSON_AddStringToObject(h, "report_id", p->m[i].sighting.report_id);
		cJSON_AddItemToArray(hosts, h);
	}
	cJSON_AddBoolToObject(o, "feasible", cf_profile_feasible(b->profile));
	confl = cJSON_AddArrayToObject(o, "conflicts");
	for (size_t i = 0; i < cf_profile_conflict_count(b->profile); i++) {
		cf_profile_conflict_text(b->profile, i, t, sizeof(t));
		cJSON_AddItemToArray(confl, cJSON_CreateString(t));
	}
	cf_api_add_stored(o, "profile", b->json, "null");
	if (!b->version) {
		cJSON_AddNullToObject(o, "published");
	} else {
		cJSON *pub = cJSON_AddObjectToObject(o, "published");
		cJSON_AddStringToObject(pub, "name", pname);
		cJSON_AddNumberToObject(pub, "version", b->version);
	}
	return o;
}

void cf_h_baseline(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *pool = rq->param[0], *pname = pool;
	cJSON *in = cf_api_body_object(rq, rp, true), *it;
	struct cf_fleet f = rq->env->fleet;
	struct cf_fleet_baseline b = { 0 };
	struct cf_diag d = { "" };
	bool publish = false;
	enum cf_err err;

	if (!in)
		return;
	for (it = in->child; it; it = it->next) {
		if (!strcmp(it->string, "publish") && cJSON_IsBool(it)) {
			publish = cJSON_IsTrue(it);
		} else if (!strcmp(it->string, "name") && cJSON_IsString(it) &&
			   cf_text_name_ok(it->valuestring, CF_DB_NAME_MAX)) {
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
	f.cancelled = rq->gone;
	f.cctx = rq->conn;
	err = cf_fleet_baseline(&f, pool, publish ? pname : NULL, rq->actor,
				&b, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	cf_api_reply_json(rp, publish ? 201 : 200, baseline_json(&b, pname));
cleanup:
	cf_fleet_baseline_clear(&b);
	cJSON_Delete(in);
}

/* Every ordered pair of the pool's distinct configurations (a VM started
 * with the source's own profile, moved to the destination), each
 * configuration listing its members, and the pool's published baseline on
 * each configuration. */
void cf_h_matrix(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *pool = rq->param[0], *pname = rq->query(rq->conn, "profile");
	struct cf_fleet_matrix m;
	struct cf_fleet f = rq->env->fleet;
	struct cf_diag d = { "" };
	enum cf_err err;
	const char **hosts = NULL;
	size_t *group = NULL;
	char to[32];
	cJSON *o;
	size_t n, k;

	if (pname && !cf_text_name_ok(pname, CF_DB_NAME_MAX)) {
		cf_api_error(rp, 400, "profile=%s: expected a profile name "
			     "([A-Za-z0-9._-]{1,127})", pname);
		return;
	}
	f.cancelled = rq->gone;
	f.cctx = rq->conn;
	err = cf_fleet_matrix(&f, pool, pname, &m, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	n = m.pool->n;
	k = m.pool->ncfg;
	hosts = calloc(n + 1, sizeof(*hosts));
	group = calloc(n + 1, sizeof(*group));
	o = cJSON_CreateObject();
	for (size_t i = 0; hosts && group && i < n; i++) {
		hosts[i] = m.pool->m[i].host;
		group[i] = m.pool->m[i].config;
	}
	if (!hosts || !group || !o || !cJSON_AddStringToObject(o, "pool", pool) ||
	    cf_matrix_to_doc(hosts, n, group, k, m.cell, o) != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	if (!m.base) {
		cJSON_AddNullToObject(o, "baseline");
	} else {
		cJSON *b = cJSON_AddObjectToObject(o, "baseline"), *brow;
		cJSON_AddStringToObject(b, "profile", m.profile);
		brow = cJSON_AddArrayToObject(b, "cells");
		for (size_t j = 0; j < k; j++) {
			cf_matrix_config_name(j, to, sizeof(to));
			cJSON_AddItemToArray(brow, cf_matrix_cell_doc("to", to,
								      &m.base[j]));
		}
	}
	cf_api_reply_json(rp, 200, o);
cleanup:
	free(hosts);
	free(group);
	cf_fleet_matrix_clear(&m);
}

/* {"add": [report v1...], "remove": [host id...], "profile": name}: the
 * pool's new baseline, its features against the published version, and
 * who would refuse it (cf_whatif_to_doc).  Stores nothing. */
void cf_h_what_if(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	cJSON *in = cf_api_body_object(rq, rp, true), *it, *add = NULL,
	      *rm = NULL, *o = NULL;
	const char *profile = NULL, **remove = NULL;
	struct cf_report **rs = NULL;
	struct cf_whatif_host *hs = NULL;
	struct cf_fleet_whatif w = { 0 };
	struct cf_diag d = { "" };
	size_t nadd = 0, nrm = 0;
	enum cf_err err;

	if (!in)
		return;
	for (it = in->child; it; it = it->next) {
		if (!strcmp(it->string, "add") && cJSON_IsArray(it)) {
			add = it;
		} else if (!strcmp(it->string, "remove") && cJSON_IsArray(it)) {
			rm = it;
		} else if (!strcmp(it->string, "profile") && cJSON_IsString(it) &&
			   cf_text_name_ok(it->valuestring, CF_DB_NAME_MAX)) {
			profile = it->valuestring;
		} else {
			cf_api_error(rp, 400, "request body: $.%s: expected "
				     "\"add\": [report v1...], \"remove\": [host "
				     "id...] or \"profile\": a profile name",
				     it->string);
			goto cleanup;
		}
	}
	rs = calloc((size_t)cJSON_GetArraySize(add) + 1, sizeof(*rs));
	hs = calloc((size_t)cJSON_GetArraySize(add) + 1, sizeof(*hs));
	remove = calloc((size_t)cJSON_GetArraySize(rm) + 1, sizeof(*remove));
	if (!rs || !hs || !remove) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	cJSON_ArrayForEach(it, add) {
		char origin[64], *text = cJSON_PrintUnformatted(it);
		snprintf(origin, sizeof(origin), "request body: $.add[%zu]", nadd);
		err = text ? cf_report_parse(text, strlen(text), origin,
					     &rs[nadd], &d) : CF_ENOMEM;
		cJSON_free(text);
		if (err != CF_OK) {
			cf_api_error(rp, err == CF_ENOMEM ? 500 : 400, "%s",
				     d.msg[0] ? d.msg : cf_strerror(err));
			goto cleanup;
		}
		hs[nadd] = (struct cf_whatif_host){ cf_report_host_id(rs[nadd]),
						    rs[nadd] };
		nadd++;
	}
	cJSON_ArrayForEach(it, rm) {
		if (!cJSON_IsString(it)) {
			cf_api_error(rp, 400, "request body: $.remove[%zu]: "
				     "expected a host id", nrm);
			goto cleanup;
		}
		remove[nrm++] = it->valuestring;
	}
	err = cf_fleet_what_if(&rq->env->fleet, rq->param[0], profile,
			       hs, nadd,
			       remove, nrm, &w, &d);
	if (err != CF_OK) {
		cf_api_fail(rp, err, &d);
		goto cleanup;
	}
	if (cf_whatif_to_doc(&w.w, rq->param[0],
			     w.against[0] ? w.against : NULL, w.version,
			     &o) != CF_OK) {
		cf_api_error(rp, 500, "out of memory");
		goto cleanup;
	}
	cf_api_reply_json(rp, 200, o);
cleanup:
	cf_fleet_what_if_clear(&w);
	for (size_t i = 0; rs && i < nadd; i++)
		cf_report_destroy(rs[i]);
	free(rs);
	free(hs);
	free(remove);
	cJSON_Delete(in);
}
