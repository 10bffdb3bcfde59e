/* What the fleet computes from stored reports: a pool resolved to its
 * members' latest reports, its baseline (and publishing it), a profile
 * checked on hosts, the pool's verdict matrix.  Each stored document is
 * parsed once per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/fleet.h"
#include "fleet/members.h"
#include "util/diag.h"

/* The latest report of HOST, parsed once. */
static enum cf_err load_latest(struct cf_db *db, const char *host,
			       struct cf_db_sighting *s, struct cf_report **out,
			       struct cf_diag *d)
{
	struct cf_diag pd = { "" };
	char *body = NULL;
	enum cf_err err = cf_db_host_report(db, host, NULL, &body, s);

	*out = NULL;
	if (err == CF_ENOTFOUND)
		return cf_diag_set(d, err, "no such host: %s", host);
	if (err == CF_OK)
		err = cf_report_parse(body, strlen(body), host, out, &pd);
	free(body);
	if (err != CF_OK)
		return cf_diag_set(d, err == CF_ENOMEM ? err : CF_EDB,
				   "stored report of %s: %s", host,
				   pd.msg[0] ? pd.msg : cf_strerror(err));
	return CF_OK;
}

/* Long work asks every this many hosts whether its caller has gone. */
#define CANCEL_EVERY 256

static enum cf_err cancelled(struct cf_diag *d)
{
	return cf_diag_set(d, CF_ECANCELED, "cancelled: the client has gone");
}

static enum cf_err check_cancel(struct cf_fleet *f, struct cf_diag *d)
{
	return f->cancelled && f->cancelled(f->cctx) ? cancelled(d) : CF_OK;
}

static bool cancel_cb(void *ctx)
{
	struct cf_fleet *f = ctx;
	return f->cancelled && f->cancelled(f->cctx);
}

/* Resolving a pool: its members' latest reports as the database hands
 * them over, told apart by the text their configuration is read from (one
 * parsed report per distinct text). */
struct resolve {
	struct cf_fleet *f;
	struct cf_fleet_pool *p;
	size_t max;                  /* members at most */
	size_t *text_of;             /* [members]: its text */
	size_t n, cap;               /* texts; table slots (a power of 2) */
	size_t room;                 /* of the arrays below and text_of */
	char **key;
	uint64_t *hash;
	struct cf_report **report;
	size_t *tab;                 /* [cap]: text + 1, 0 = empty */
	enum cf_err err;
	struct cf_diag *d;
};

/* FNV-1a's constants over 8 bytes at a time: texts run to kilobytes. */
static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL, w;
	size_t n = strlen(s), i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void resolve_free(struct resolve *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->key[i]);
		cf_report_destroy(t->report[i]);
	}
	free(t->key);
	free(t->hash);
	free(t->report);
	free(t->tab);
	free(t->text_of);
}

#define GROW(ptr, n) \
	((tmp = realloc((ptr), (n) * sizeof(*(ptr)))) ? ((ptr) = tmp, 1) : 0)

/* Room for one more member (and text): arrays doubled, the table kept at
 * most half full. */
static bool resolve_grow(struct resolve *t)
{
	struct cf_fleet_pool *p = t->p;
	void *tmp;

	if (p->n == t->room) {
		size_t r = t->room ? 2 * t->room : 64;
		if (!GROW(p->m, r) || !GROW(t->text_of, r) || !GROW(t->key, r) ||
		    !GROW(t->hash, r) || !GROW(t->report, r))
			return false;
		t->room = r;
	}
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		size_t *tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return false;
		for (size_t x = 0; x < t->n; x++) {
			size_t j = t->hash[x] & (cap - 1);
			while (tab[j])
				j = (j + 1) & (cap - 1);
			tab[j] = x + 1;
		}
		free(t->tab);
		t->tab = tab;
		t->cap = cap;
	}
	return true;
}

/* The text of BODY (HOST's latest report): found, else parsed and
 * added.  The hash finds candidates; only the whole text, compared,
 * decides. */
static enum cf_err member_text(struct resolve *t, const char *host,
			       const char *body, size_t len, size_t *which)
{
	struct cf_diag pd = { "" };
	char *key = NULL;
	enum cf_err err = cf_report_config_text(body, len, &key);
	uint64_t h;
	size_t j;

	if (err != CF_OK)
		goto bad;
	h = text_hash(key);
	for (j = h & (t->cap - 1); t->tab[j]; j = (j + 1) & (t->cap - 1)) {
		size_t x = t->tab[j] - 1;
		if (t->hash[x] == h && !strcmp(t->key[x], key)) {
			*which = x;
			free(key);
			return CF_OK;
		}
	}
	err = cf_report_parse(body, len, host, &t->report[t->n], &pd);
	if (err != CF_OK)
		goto bad;
	t->key[t->n] = key;
	t->hash[t->n] = h;
	t->tab[j] = ++t->n;
	*which = t->n - 1;
	return CF_OK;
bad:
	free(key);
	return cf_diag_set(t->d, err == CF_ENOMEM ? err : CF_EDB,
			   "stored report of %s: %s", host,
			   pd.msg[0] ? pd.msg : cf_strerror(err));
}

static int latest_member(void *ctx, const char *host,
			 const struct cf_db_sighting *s, const char *body,
			 size_t len)
{
	struct resolve *t = ctx;
	struct cf_fleet_pool *p = t->p;
	struct cf_fleet_member *m;

	if (p->n % CANCEL_EVERY == 0 &&
	    (t->err = check_cancel(t->f, t->d)) != CF_OK)
		return 1;
	if (p->n == t->max) {
		t->err = cf_diag_set(t->d, CF_ETOOBIG, "pool %s has more than "
				     "%zu members: over the limit of %zu hosts "
				     "per pool a request computes over",
				     p->name, t->max, t->max);
		return 1;
	}
	if (!resolve_grow(t)) {
		t->err = cf_diag_set(t->d, CF_ENOMEM, "out of memory");
		return 1;
	}
	m = &p->m[p->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->host, sizeof(m->host), "%s", host);
	m->sighting = *s;
	t->err = member_text(t, host, body, len, &t->text_of[p->n]);
	if (t->err != CF_OK)
		return 1;
	p->n++;
	return 0;
}

/* P's configurations: its texts grouped exactly (cf_matrix_group), each
 * keeping the report of its first text, which is its first member's. */
static enum cf_err group_texts(struct resolve *t)
{
	struct cf_fleet_pool *p = t->p;
	size_t *group = calloc(t->n + 1, sizeof(*group));
	size_t *first = calloc(t->n + 1, sizeof(*first));
	enum cf_err err = CF_ENOMEM;

	if (!group || !first)
		goto done;
	err = cf_matrix_group((const struct cf_report *const *)t->report,
			      t->n, group, first, &p->ncfg);
	if (err != CF_OK)
		goto done;
	p->cfg = calloc(p->ncfg + 1, sizeof(*p->cfg));
	if (!p->cfg) {
		err = CF_ENOMEM;
		goto done;
	}
	for (size_t k = 0; k < p->ncfg; k++) {
		p->cfg[k].report = t->report[first[k]];
		t->report[first[k]] = NULL;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct cf_fleet_config *c = &p->cfg[group[t->text_of[i]]];
		p->m[i].config = group[t->text_of[i]];
		if (c->n++ == 0)
			c->first = i;
	}
done:
	free(group);
	free(first);
	return err == CF_OK ? CF_OK : cf_diag_set(t->d, err, "out of memory");
}

enum cf_err cf_fleet_pool_resolve(struct cf_fleet *f, const char *name,
				  struct cf_fleet_pool **out,
				  struct cf_diag *d)
{
	struct cf_fleet_pool *p = calloc(1, sizeof(*p));
	struct resolve t = { .f = f, .p = p, .d = d,
			     .max = f->max_pool_hosts ? f->max_pool_hosts :
				    CF_FLEET_POOL_HOSTS_MAX };
	struct cf_db *db;
	enum cf_err err;

	*out = NULL;
	if (!p)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	snprintf(p->name, sizeof(p->name), "%s", name);
	db = f->read_get(f->ctx);
	err = cf_db_pool_latest(db, name, latest_member, &t);
	f->read_put(f->ctx, db);
	if (err == CF_ENOTFOUND)
		err = cf_diag_set(d, err, "no such pool: %s", name);
	else if (err != CF_OK)
		err = cf_diag_set(d, err, "pool %s: %s", name, cf_strerror(err));
	else if (t.err != CF_OK)
		err = t.err;
	else
		err = group_texts(&t);
	resolve_free(&t);
	if (err != CF_OK)
		cf_fleet_pool_destroy(p);
	else
		*out = p;
	return err;
}

void cf_fleet_pool_destroy(struct cf_fleet_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ncfg; i++)
		cf_report_destroy(p->cfg[i].report);
	free(p->cfg);
	free(p->m);
	free(p);
}

/* ---- baselines and profiles ---- */

struct publish_job {
	const char *name, *body, *pool, *actor;
	struct cf_db_source *src;
	size_t nsrc;
	char now[CF_DB_TIME_MAX];
	int version;
};

static enum cf_err run_publish(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct publish_job *j = arg;
	return cf_db_profile_publish(db, j->name, j->body, j->pool, j->src,
				     j->nsrc, j->actor, j->now, &j->version, d);
}

static enum cf_err publish(struct cf_fleet *f, struct publish_job *j,
			   struct cf_diag *d)
{
	enum cf_err err;

	f->now(f->ctx, j->now, sizeof(j->now));
	err = f->write(f->ctx, run_publish, NULL, j, d);
	if (err != CF_OK && d && !d->msg[0])
		cf_diag_set(d, err, "%s", cf_strerror(err));
	return err;
}

/* F's bounds on one request: its member limit and its cancelled(). */
static struct cf_whatif_bounds bounds(struct cf_fleet *f)
{
	return (struct cf_whatif_bounds){
		f->max_pool_hosts ? f->max_pool_hosts : CF_FLEET_POOL_HOSTS_MAX,
		cancel_cb, f };
}

/* The engine's pool of P's members (N > 0), each added with its
 * configuration's report: one architecture, else CF_ECONFLICT (a pool set
 * with one architecture, mixed since by labels). */
static enum cf_err engine_pool(struct cf_fleet *f,
			       const struct cf_fleet_pool *p,
			       struct cf_pool **out, struct cf_diag *d)
{
	struct cf_whatif_host *m = calloc(p->n, sizeof(*m));
	struct cf_whatif_bounds b = bounds(f);
	enum cf_err err;

	*out = NULL;
	if (!m)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++)
		m[i] = (struct cf_whatif_host){ p->m[i].host,
						p->cfg[p->m[i].config].report };
	err = cf_members_pool(p->name, m, p->n, false, &b, out, d);
	free(m);
	return err;
}

enum cf_err cf_fleet_baseline(struct cf_fleet *f, const char *name,
			      const char *publish_as, const char *actor,
			      struct cf_fleet_baseline *out,
			      struct cf_diag *d)
{
	struct cf_db_source *src = NULL;
	struct cf_pool *ep = NULL;
	char first[512];
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	err = cf_fleet_pool_resolve(f, name, &out->pool, d);
	if (err != CF_OK)
		return err;
	if (out->pool->n == 0)
		return cf_diag_set(d, CF_EEMPTY, "pool %s has no member that has "
				   "reported", name);
	err = engine_pool(f, out->pool, &ep, d);
	if (err == CF_OK && (cf_baseline(ep, &out->profile) != CF_OK ||
			     cf_profile_to_json(out->profile, &out->json) != CF_OK))
		err = cf_diag_set(d, CF_ENOMEM, "baseline: out of memory");
	cf_pool_destroy(ep);
	if (err != CF_OK || !publish_as)
		return err;
	if (!cf_profile_feasible(out->profile)) {
		cf_profile_conflict_text(out->profile, 0, first, sizeof(first));
		return cf_diag_set(d, CF_ECONFLICT, "pool %s has no feasible "
				   "baseline (%zu conflicts, first: %s); nothing "
				   "published", name,
				   cf_profile_conflict_count(out->profile), first);
	}
	src = calloc(out->pool->n, sizeof(*src));
	if (!src)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; i < out->pool->n; i++)
		src[i] = (struct cf_db_source){
			out->pool->m[i].host, out->pool->m[i].sighting.report_id };
	struct publish_job j = { .name = publish_as, .body = out->json,
				 .pool = name, .actor = actor, .src = src,
				 .nsrc = out->pool->n };
	err = publish(f, &j, d);
	out->version = err == CF_OK ? j.version : 0;
	free(src);
	return err;
}

void cf_fleet_baseline_clear(struct cf_fleet_baseline *b)
{
	cf_fleet_pool_destroy(b->pool);
	cf_profile_destroy(b->profile);
	free(b->json);
	memset(b, 0, sizeof(*b));
}

enum cf_err cf_fleet_profile_put(struct cf_fleet *f, const char *name,
				 const struct cf_profile *pr,
				 const char *actor, int *version,
				 struct cf_diag *d)
{
	struct publish_job j = { .name = name, .pool = "", .actor = actor };
	char *text = NULL;
	enum cf_err err;

	*version = 0;
	if (cf_profile_to_json(pr, &text) != CF_OK)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	j.body = text;
	err = publish(f, &j, d);
	*version = j.version;
	free(text);
	return err;
}

static int keep_body(void *ctx, const struct cf_db_profile *p)
{
	char **out = ctx;
	*out = p->body ? strdup(p->body) : NULL;
	return 0;
}

enum cf_err cf_fleet_host_profile(struct cf_fleet *f, const char *host,
				  struct cf_profile **out, struct cf_diag *d)
{
	struct cf_fleet_history h;
	struct cf_report *r = NULL;
	enum cf_err err;

	*out = NULL;
	err = cf_fleet_history(f, host, NULL, 1, &h, d);
	if (err == CF_OK)
		err = cf_report_parse(h.report, strlen(h.report), host, &r, d);
	if (err == CF_OK)
		err = cf_profile_from_report(r, out);
	cf_report_destroy(r);
	cf_fleet_history_clear(&h);
	return err;
}

enum cf_err cf_fleet_profile_load(struct cf_fleet *f, const char *name,
				  int version, struct cf_profile **out,
				  struct cf_diag *d)
{
	struct cf_diag pd = { "" };
	char *body = NULL;
	enum cf_err err = cf_fleet_profile_get(f, name, version, keep_body, &body);

	*out = NULL;
	if (err == CF_OK && !body)
		err = CF_ENOMEM;
	/* A psABI level (x86-64-v3) is a named profile of the catalogue, as
	 * for `cpufleet check` on files, unless one is published by that
	 * name. */
	if (err == CF_ENOTFOUND && !version &&
	    cf_x86_level_profile(name, out) == CF_OK)
		return CF_OK;
	if (err != CF_OK)
		return cf_diag_set(d, err, "profile %s%s%.0d: %s", name,
				   version ? " version " : "", version,
				   cf_strerror(err));
	err = cf_profile_parse(body, strlen(body), name, out, &pd);
	free(body);
	if (err != CF_OK)
		return cf_diag_set(d, err == CF_ENOMEM ? err : CF_EDB, "%s",
				   pd.msg);
	return CF_OK;
}

/* ---- check and matrix ---- */

enum cf_err cf_fleet_check(struct cf_fleet *f, const struct cf_profile *pr,
			   const char *const *hosts, size_t n, uint64_t vcpus,
			   cf_fleet_verdict_fn fn, void *ctx,
			   struct cf_diag *d)
{
	struct cf_verdict *v = cf_verdict_create();
	struct cf_db *db;
	enum cf_err err = CF_OK;

	if (!v)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	db = f->read_get(f->ctx);
	for (size_t i = 0; i < n; i++) {
		struct cf_db_sighting s;
		struct cf_report *r;

		if (i % CANCEL_EVERY == 0 && (err = check_cancel(f, d)) != CF_OK)
			break;
		err = load_latest(db, hosts[i], &s, &r, d);
		if (err != CF_OK)
			break;
		err = vcpus ? cf_check_vcpus(pr, r, vcpus, v) : cf_check(pr, r, v);
		cf_report_destroy(r);
		if (err != CF_OK) {
			err = cf_diag_set(d, err == CF_ENOMEM ? err : CF_ECONFLICT,
					  "host %s: %s", hosts[i],
					  cf_strerror(err));
			break;
		}
		if (fn(ctx, hosts[i], v))
			break;
	}
	f->read_put(f->ctx, db);
	cf_verdict_destroy(v);
	return err;
}

enum cf_err cf_fleet_matrix(struct cf_fleet *f, const char *name,
			    const char *profile, struct cf_fleet_matrix *out,
			    struct cf_diag *d)
{
	struct cf_profile *base = NULL;
	struct cf_verdict *v = NULL;
	const struct cf_report **rs = NULL;
	struct cf_fleet_pool *p;
	enum cf_err err;
	size_t k, fi = 0, ti = 0, max = f->max_matrix_configs ?
		f->max_matrix_configs : CF_FLEET_MATRIX_CONFIGS_MAX;

	memset(out, 0, sizeof(*out));
	snprintf(out->profile, sizeof(out->profile), "%s",
		 profile ? profile : name);
	err = cf_fleet_pool_resolve(f, name, &out->pool, d);
	if (err != CF_OK)
		return err;
	p = out->pool;
	k = p->ncfg;
	if (k > max)
		return cf_diag_set(d, CF_ETOOBIG, "pool %s has %zu distinct "
				   "configurations: over the limit of %zu "
				   "configurations per matrix", name, k, max);
	err = cf_fleet_profile_load(f, out->profile, 0, &base, d);
	if (err == CF_ENOTFOUND) {
		err = CF_OK;
		if (d)
			d->msg[0] = '\0';
	} else if (err != CF_OK) {
		return err;
	}
	v = cf_verdict_create();
	rs = calloc(k + 1, sizeof(*rs));
	out->cell = calloc(k * k + 1, sizeof(*out->cell));
	if (base)
		out->base = calloc(k + 1, sizeof(*out->base));
	if (!v || !rs || !out->cell || (base && !out->base)) {
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < k; i++)
		rs[i] = p->cfg[i].report;
	err = cf_matrix_pairs(rs, k, out->cell, &fi, &ti, cancel_cb, f);
	if (err == CF_ENOMEM) {
		err = cf_diag_set(d, err, "out of memory");
		goto done;
	} else if (err == CF_ECANCELED) {
		err = cancelled(d);
		goto done;
	} else if (err != CF_OK) {
		err = cf_diag_set(d, CF_ECONFLICT, "pool %s: %s and %s have "
				  "different architectures", name,
				  p->m[p->cfg[fi].first].host,
				  p->m[p->cfg[ti].first].host);
		goto done;
	}
	for (size_t j = 0; base && j < k; j++)
		if (cf_matrix_check_cell(base, p->cfg[j].report, v,
					 &out->base[j])) {
			err = cf_diag_set(d, CF_ECONFLICT, "profile %s and host %s "
					  "have different architectures",
					  out->profile, p->m[p->cfg[j].first].host);
			goto done;
		}
done:
	free(rs);
	cf_profile_destroy(base);
	cf_verdict_destroy(v);
	return err;
}

void cf_fleet_matrix_clear(struct cf_fleet_matrix *m)
{
	cf_fleet_pool_destroy(m->pool);
	free(m->cell);
	free(m->base);
	memset(m, 0, sizeof(*m));
}

/* ---- what-if ---- */

struct latest_body {
	char *body;
	int version;
};

static int keep_latest(void *ctx, const struct cf_db_profile *p)
{
	struct latest_body *l = ctx;

	l->body = p->body ? strdup(p->body) : NULL;
	l->version = p->version;
	return 0;
}

enum cf_err cf_fleet_what_if(struct cf_fleet *f, const char *name,
			     const char *profile,
			     const struct cf_whatif_host *add, size_t nadd,
			     const char *const *remove, size_t nremove,
			     struct cf_fleet_whatif *out, struct cf_diag *d)
{
	struct cf_whatif_host *cur = NULL;
	struct latest_body l = { NULL, 0 };
	struct cf_diag pd = { "" };
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	err = cf_fleet_pool_resolve(f, name, &out->pool, d);
	if (err != CF_OK)
		return err;
	profile = profile ? profile : name;
	err = cf_fleet_profile_get(f, profile, 0, keep_latest, &l);
	if (err == CF_OK && !l.body)
		err = CF_ENOMEM;
	if (err == CF_OK) {
		err = cf_profile_parse(l.body, strlen(l.body), profile,
				       &out->published, &pd);
		if (err != CF_OK)
			err = cf_diag_set(d, err == CF_ENOMEM ? err : CF_EDB,
					  "%s", pd.msg);
		snprintf(out->against, sizeof(out->against), "%s", profile);
		out->version = l.version;
	} else if (err == CF_ENOTFOUND) {
		err = CF_OK;
	} else {
		err = cf_diag_set(d, err, "profile %s: %s", profile,
				  cf_strerror(err));
	}
	free(l.body);
	cur = calloc(out->pool->n + 1, sizeof(*cur));
	if (err == CF_OK && !cur)
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; err == CF_OK && i < out->pool->n; i++)
		cur[i] = (struct cf_whatif_host){ out->pool->m[i].host,
			out->pool->cfg[out->pool->m[i].config].report };
	if (err == CF_OK) {
		struct cf_whatif_bounds b = bounds(f);
		err = cf_whatif_run(name, cur, out->pool->n, add, nadd,
					    remove, nremove, out->published, &b,
					    &out->w, d);
	}
	free(cur);
	return err;
}

void cf_fleet_what_if_clear(struct cf_fleet_whatif *w)
{
	cf_fleet_pool_destroy(w->pool);
	cf_profile_destroy(w->published);
	cf_whatif_clear(&w->w);
	memset(w, 0, sizeof(*w));
}

/* ---- features ---- */

/* Every host's id, at most MAX of them. */
struct host_ids {
	char (*id)[CF_HOST_ID_MAX];
	size_t n, room, max;
	enum cf_err err;
};

static int host_id(void *ctx, const struct cf_db_host *h)
{
	struct host_ids *ids = ctx;
	void *tmp;

	if (ids->n == ids->max) {
		ids->err = CF_ETOOBIG;
		return 1;
	}
	if (ids->n == ids->room) {
		size_t r = ids->room ? 2 * ids->room : 64;
		if (!GROW(ids->id, r)) {
			ids->err = CF_ENOMEM;
			return 1;
		}
		ids->room = r;
	}
	snprintf(ids->id[ids->n++], CF_HOST_ID_MAX, "%s", h->id);
	return 0;
}

/* The hosts' latest reports into T (T->p the scratch list of members),
 * one parsed report per distinct text. */
static enum cf_err read_latest(struct cf_db *db, struct resolve *t,
			       struct cf_diag *d)
{
	struct host_ids ids = { .max = t->max };
	enum cf_err err = cf_db_host_list(db, host_id, &ids);

	if (err == CF_OK && ids.err == CF_ETOOBIG)
		err = cf_diag_set(d, CF_ETOOBIG, "the fleet has more than %zu "
				  "hosts: over the limit of %zu hosts per "
				  "pool a request computes over", t->max, t->max);
	else if (err == CF_OK && ids.err != CF_OK)
		err = cf_diag_set(d, ids.err, "out of memory");
	else if (err != CF_OK)
		err = cf_diag_set(d, err, "hosts: %s", cf_strerror(err));
	for (size_t i = 0; err == CF_OK && i < ids.n; i++) {
		struct cf_db_sighting s;
		char *body = NULL;

		err = cf_db_host_report(db, ids.id[i], NULL, &body, &s);
		if (err == CF_ENOTFOUND) {  /* gone since the listing */
			err = CF_OK;
			continue;
		}
		if (err != CF_OK)
			err = cf_diag_set(d, err, "stored report of %s: %s",
					  ids.id[i], cf_strerror(err));
		else if (latest_member(t, ids.id[i], &s, body, strlen(body)))
			err = t->err;
		free(body);
	}
	free(ids.id);
	return err;
}

enum cf_err cf_fleet_feature(struct cf_fleet *f, const char *feature,
			     struct cf_fleet_feature *out, struct cf_diag *d)
{
	struct cf_fleet_pool p = { .name = "" };
	struct resolve t = { .f = f, .p = &p, .d = d,
			     .max = f->max_pool_hosts ? f->max_pool_hosts :
				    CF_FLEET_POOL_HOSTS_MAX };
	signed char *shows = NULL;   /* per text: -1 not named, 0, 1 */
	struct cf_db *db;
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	db = f->read_get(f->ctx);
	err = read_latest(db, &t, d);
	f->read_put(f->ctx, db);
	if (err != CF_OK)
		goto done;
	shows = calloc(t.n + 1, sizeof(*shows));
	out->h = calloc(p.n + 1, sizeof(*out->h));
	if (!shows || !out->h) {
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t x = 0; x < t.n; x++) {
		struct cf_diag sd = { "" };
		bool b = false;

		err = cf_report_shows(t.report[x], feature, &b, &sd);
		if (err == CF_ENOTFOUND) {
			shows[x] = -1;
			continue;
		}
		if (err != CF_OK) {
			cf_diag_set(d, err, "feature %s: %s", feature,
				    sd.msg[0] ? sd.msg : cf_strerror(err));
			goto done;
		}
		shows[x] = b;
	}
	err = CF_OK;
	for (size_t i = 0; i < p.n; i++) {
		size_t x = t.text_of[i], a;
		struct cf_fleet_feature_host *h = &out->h[out->n];
		const char *arch = cf_report_arch(t.report[x]);

		if (shows[x] < 0)
			continue;
		for (a = 0; a < out->narch && strcmp(out->arch[a], arch); a++)
			;
		if (a == out->narch) {
			if (a == sizeof(out->arch) / sizeof(out->arch[0]))
				continue;
			out->arch[out->narch++] = arch;
		}
		snprintf(h->host, sizeof(h->host), "%s", p.m[i].host);
		h->arch = out->arch[a];
		h->shows = shows[x] > 0;
		out->n++;
	}
	if (out->n == 0)
		err = cf_diag_set(d, CF_ENOTFOUND, "no such feature: %s (no "
				  "catalogue of the hosts' architectures names "
				  "it)", feature);
done:
	free(shows);
	free(p.m);
	resolve_free(&t);
	return err;
}

void cf_fleet_feature_clear(struct cf_fleet_feature *ft)
{
	free(ft->h);
	memset(ft, 0, sizeof(*ft));
}
