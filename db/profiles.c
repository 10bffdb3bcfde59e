/* Profiles: named, versioned, frozen once published (the schema's
 * triggers refuse any change), with the sightings each was computed from. */
#include <stdlib.h>
#include <string.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/text.h"

#define SOURCES_MAX 1000000

enum cf_err cf_db_profile_publish(struct cf_db *db, const char *name,
				  const char *body, const char *pool,
				  const struct cf_db_source *sources,
				  size_t nsources, const char *actor,
				  const char *now, int *version,
				  struct cf_diag *d)
{
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false, row = false;
	long long next = 1;
	int v = 1;

	err = cf_db_arg_name("profile name", name, d);
	if (err == CF_OK && pool && *pool)
		err = cf_db_arg_name("pool name", pool, d);
	if (err == CF_OK)
		err = cf_db_arg_actor(&actor, d);
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err == CF_OK && !body)
		err = cf_diag_set(d, CF_EINVAL, "profile body: missing");
	if (err == CF_OK &&
	    strnlen(body, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES)
		err = cf_diag_set(d, CF_ETOOBIG, "profile body: over %u bytes",
				  CF_DOC_MAX_BYTES);
	if (err == CF_OK && nsources > SOURCES_MAX)
		err = cf_diag_set(d, CF_ETOOBIG, "sources: more than %d",
				  SOURCES_MAX);
	if (err == CF_OK && nsources && !sources)
		err = cf_diag_set(d, CF_EINVAL, "sources: missing");
	for (size_t i = 0; err == CF_OK && i < nsources; i++) {
		if (!cf_text_ok(sources[i].host, 1, CF_HOST_ID_MAX) ||
		    !cf_text_ok(sources[i].report_id, 1, CF_DB_ID_MAX))
			err = cf_diag_set(d, CF_EINVAL, "sources[%zu]: a "
					  "host id and a report id", i);
	}
	if (err != CF_OK)
		goto out;
	if (!pool)
		pool = "";
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	/* Writers publishing NAME at once take turns (the backend's lock,
	 * held until the transaction ends), so each numbers the version
	 * after the other's; (name, version) is unique besides. */
	err = cf_db_exec(db, ST_PROFILE_LOCK, "locking the profile name", d,
			 "t", name);
	if (err == CF_OK)
		err = cf_db_int(db, ST_PROFILE_NEXT, "numbering the version", d,
				&next, &row, "t", name);
	if (err != CF_OK)
		goto out;
	if (next < 1 || next > 0x7fffffff) {
		err = cf_diag_set(d, CF_EDB, "profile %s: version %lld out of "
				  "range", name, next);
		goto out;
	}
	v = (int)next;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddNumberToObject(detail, "version", v) ||
	    !cJSON_AddStringToObject(detail, "pool", pool) ||
	    !cJSON_AddNumberToObject(detail, "sources", (double)nsources)) {
		err = cf_diag_set(d, CF_ENOMEM, "profile: out of memory");
		goto out;
	}
	err = cf_db_exec(db, ST_PROFILE_INSERT, "storing the profile", d,
			 "tittttl", name, v, body, pool, now, actor,
			 (long long)nsources);
	for (size_t i = 0; err == CF_OK && i < nsources; i++)
		err = cf_db_exec(db, ST_SOURCE_INSERT, "storing a source", d,
				 "tiltt", name, v, (long long)i,
				 sources[i].host, sources[i].report_id);
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, actor, "profile.publish", name,
				      detail, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	if (err == CF_OK && version)
		*version = v;
	cJSON_Delete(detail);
	return err;
}

static void profile_fill(struct cf_db_profile *p, const struct cf_db_row *s)
{
	memset(p, 0, sizeof(*p));
	cf_db_col_copy(p->name, sizeof(p->name), s, 0);
	p->version = (int)cf_db_col_int64(s, 1);
	cf_db_col_copy(p->pool, sizeof(p->pool), s, 2);
	cf_db_col_copy(p->created_at, sizeof(p->created_at), s, 3);
	cf_db_col_copy(p->created_by, sizeof(p->created_by), s, 4);
}

struct source_copy {
	char host[CF_HOST_ID_MAX];
	char report_id[CF_DB_ID_MAX];
};

/* A profile's sources, copied out of their statement. */
struct source_list {
	struct source_copy *copy;
	size_t n, cap;
	bool nomem;
};

static int source_row(void *ctx, const struct cf_db_row *s)
{
	struct source_list *l = ctx;
	struct source_copy *c;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 16;
		void *q = realloc(l->copy, ncap * sizeof(*l->copy));
		if (!q) {
			l->nomem = true;
			return 1;
		}
		l->copy = q;
		l->cap = ncap;
	}
	c = &l->copy[l->n++];
	cf_db_col_copy(c->host, sizeof(c->host), s, 0);
	cf_db_col_copy(c->report_id, sizeof(c->report_id), s, 1);
	return 0;
}

struct get_ctx {
	struct cf_db *db;
	cf_db_profile_fn fn;
	void *ctx;
	enum cf_err err;
};

/* The version's row: its sources read, then the caller's callback. */
static int get_row(void *ctx, const struct cf_db_row *s)
{
	struct get_ctx *g = ctx;
	struct source_list l = { NULL, 0, 0, false };
	struct cf_db_source *pub = NULL;
	struct cf_db_profile p;

	profile_fill(&p, s);
	p.body = cf_db_col_text(s, 5);
	g->err = cf_db_walk(g->db, ST_PROFILE_SOURCES, false, source_row, &l,
			    "ti", p.name, p.version);
	if (g->err == CF_OK && l.nomem)
		g->err = CF_ENOMEM;
	if (g->err == CF_OK && l.n) {
		pub = calloc(l.n, sizeof(*pub));
		if (!pub)
			g->err = CF_ENOMEM;
		for (size_t i = 0; pub && i < l.n; i++) {
			pub[i].host = l.copy[i].host;
			pub[i].report_id = l.copy[i].report_id;
		}
	}
	if (g->err == CF_OK) {
		p.nsources = l.n;
		p.sources = pub;
		g->fn(g->ctx, &p);
	}
	free(pub);
	free(l.copy);
	return 1;
}

enum cf_err cf_db_profile_get(struct cf_db *db, const char *name, int version,
			      cf_db_profile_fn fn, void *ctx)
{
	struct get_ctx g = { db, fn, ctx, CF_OK };
	enum cf_err err;

	if (!cf_text_name_ok(name, CF_DB_NAME_MAX) || version < 0)
		return CF_EINVAL;
	err = cf_db_walk(db, ST_PROFILE_GET, true, get_row, &g, "ti", name,
			 version);
	return err != CF_OK ? err : g.err;
}

static int profile_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_profile p;

	profile_fill(&p, s);
	return v->fn.profile(v->ctx, &p);
}

enum cf_err cf_db_profile_list(struct cf_db *db, const char *name,
			       cf_db_profile_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.profile = fn, .ctx = ctx };

	if (!name)
		return cf_db_walk(db, ST_PROFILE_LATEST, false, profile_row,
				  &v, "");
	if (!cf_text_name_ok(name, CF_DB_NAME_MAX))
		return CF_EINVAL;
	return cf_db_walk(db, ST_PROFILE_VERSIONS, true, profile_row, &v, "t",
			  name);
}
