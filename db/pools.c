/* Pools: named host sets by labels and/or explicit members. */
#include <stdlib.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/text.h"

enum cf_err cf_db_pool_put(struct cf_db *db, const char *name,
			   const char *labels_json, const char *hosts_json,
			   const char *actor, const char *now, bool *created,
			   struct cf_diag *d)
{
	char *labels = NULL, *hosts = NULL;
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false, existed = false;

	err = cf_db_arg_name("pool name", name, d);
	if (err == CF_OK)
		err = cf_db_arg_actor(&actor, d);
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err == CF_OK)
		err = cf_db_arg_labels("labels", labels_json, &labels, d);
	if (err == CF_OK)
		err = cf_db_arg_hosts(hosts_json, &hosts, d);
	if (err != CF_OK)
		goto out;
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = cf_db_query(db, ST_POOL_EXISTS, "finding the pool", d, NULL,
			  NULL, &existed, "t", name);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddBoolToObject(detail, "created", !existed) ||
	    !cJSON_AddRawToObject(detail, "labels", labels) ||
	    !cJSON_AddRawToObject(detail, "hosts", hosts)) {
		err = cf_diag_set(d, CF_ENOMEM, "pool: out of memory");
		goto out;
	}
	err = cf_db_exec(db, ST_POOL_UPSERT, "storing the pool", d, "tttt",
			 name, labels, hosts, now);
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, actor, "pool.put", name,
				      detail, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	if (err == CF_OK && created)
		*created = !existed;
	cJSON_Delete(detail);
	cJSON_free(labels);
	cJSON_free(hosts);
	return err;
}

static int pool_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_pool p;

	cf_db_col_copy(p.name, sizeof(p.name), s, 0);
	p.labels_json = cf_db_col_text(s, 1);
	p.hosts_json = cf_db_col_text(s, 2);
	cf_db_col_copy(p.updated_at, sizeof(p.updated_at), s, 3);
	return v->fn.pool(v->ctx, &p);
}

enum cf_err cf_db_pool_get(struct cf_db *db, const char *name,
			   cf_db_pool_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.pool = fn, .ctx = ctx };

	if (!cf_text_name_ok(name, CF_DB_NAME_MAX))
		return CF_EINVAL;
	return cf_db_walk(db, ST_POOL_GET, true, pool_row, &v, "t", name);
}

enum cf_err cf_db_pool_list(struct cf_db *db, cf_db_pool_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.pool = fn, .ctx = ctx };

	return cf_db_walk(db, ST_POOL_LIST, false, pool_row, &v, "");
}

enum cf_err cf_db_pool_delete(struct cf_db *db, const char *name,
			      const char *actor, const char *now,
			      struct cf_diag *d)
{
	enum cf_err err;
	bool own = false, tx = false;

	err = cf_db_arg_name("pool name", name, d);
	if (err == CF_OK)
		err = cf_db_arg_actor(&actor, d);
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err != CF_OK)
		goto out;
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = cf_db_exec(db, ST_POOL_DELETE, "deleting the pool", d, "t", name);
	if (err == CF_OK && cf_db_changes(db) == 0)
		err = cf_diag_set(d, CF_ENOTFOUND, "pool %s: no such pool",
				  name);
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, actor, "pool.delete", name,
				      NULL, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	return err;
}

static int count_one(void *ctx, const struct cf_db_pool *p)
{
	(void)p;
	*(bool *)ctx = true;
	return 0;
}

static int name_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;

	return v->fn.name(v->ctx, cf_db_col_text(s, 0));
}

static int latest_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_sighting si;

	cf_db_sighting_fill(&si, s, 6);
	return v->fn.latest(v->ctx, cf_db_col_text(s, 7), &si,
			    cf_db_col_text(s, 5),
			    cf_db_col_bytes(s, 5));
}

/* Statement ST's rows for pool NAME, once the pool is known to exist. */
static enum cf_err walk_pool(struct cf_db *db, const char *name,
			     enum cf_db_st st, cf_db_row_fn row,
			     struct cf_db_visit *v)
{
	bool found = false;
	enum cf_err err = cf_db_pool_get(db, name, count_one, &found);

	if (err != CF_OK)
		return err;
	return cf_db_walk(db, st, false, row, v, "t", name);
}

enum cf_err cf_db_pool_latest(struct cf_db *db, const char *name,
			      cf_db_latest_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.latest = fn, .ctx = ctx };

	return walk_pool(db, name, ST_POOL_LATEST, latest_row, &v);
}

enum cf_err cf_db_pool_members(struct cf_db *db, const char *name,
			       cf_db_name_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.name = fn, .ctx = ctx };

	return walk_pool(db, name, ST_POOL_MEMBERS, name_row, &v);
}
