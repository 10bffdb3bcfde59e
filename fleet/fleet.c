/* The fleet's plumbing (a connection of its own for tests and tools) and
 * the reads and writes that pass straight to storage: hosts, labels,
 * pools, profiles, audit.  Computations are in fleet/compute.c, uploads in
 * fleet/upload.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fleet/fleet.h"
#include "util/diag.h"

/* ---- one connection, a transaction per write ---- */

static struct cf_db *direct_get(void *ctx)
{
	return ((struct cf_fleet_direct *)ctx)->db;
}

static void direct_put(void *ctx, struct cf_db *db)
{
	(void)ctx;
	(void)db;
}

static enum cf_err direct_write(void *ctx, cf_fleet_write_fn fn,
				cf_fleet_write_many_fn many, void *arg,
				struct cf_diag *d)
{
	struct cf_db *db = ((struct cf_fleet_direct *)ctx)->db;
	enum cf_err err = cf_db_begin(db, d);

	(void)many;
	if (err != CF_OK)
		return err;
	err = fn(db, arg, d);
	if (err != CF_OK) {
		cf_db_rollback(db);
		return err;
	}
	return cf_db_commit(db, d);
}

static void direct_now(void *ctx, char *buf, size_t len)
{
	const struct cf_fleet_direct *dir = ctx;
	struct timespec ts;
	struct tm tm;

	if (dir->now) {
		snprintf(buf, len, "%s", dir->now);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void cf_fleet_direct(struct cf_fleet *f, struct cf_fleet_direct *dir)
{
	*f = (struct cf_fleet){ direct_get, direct_put, direct_write,
				direct_now, dir, NULL, NULL, 0, 0 };
}

/* ---- hosts ---- */

enum cf_err cf_fleet_hosts(struct cf_fleet *f, cf_db_host_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_host_list(db, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}

static int keep_host(void *ctx, const struct cf_db_host *h)
{
	struct cf_fleet_history *o = ctx;

	o->host = *h;
	o->host.labels_json = NULL;
	o->labels = strdup(h->labels_json ? h->labels_json : "{}");
	return o->labels ? 0 : 1;
}

static int keep_sighting(void *ctx, const struct cf_db_sighting *s)
{
	struct cf_fleet_history *o = ctx;
	void *p = realloc(o->sightings, (o->n + 1) * sizeof(*o->sightings));

	if (!p)
		return 1;
	o->sightings = p;
	o->sightings[o->n++] = *s;
	return 0;
}

enum cf_err cf_fleet_history(struct cf_fleet *f, const char *id,
			     const char *at, size_t limit,
			     struct cf_fleet_history *out, struct cf_diag *d)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	err = cf_db_host_get(db, id, keep_host, out);
	if (err == CF_OK && !out->labels)
		err = CF_ENOMEM;
	if (err != CF_OK) {
		err = cf_diag_set(d, err, err == CF_ENOTFOUND ? "no such host: %s"
				  : "host %s: database error", id);
		goto done;
	}
	err = cf_db_host_report(db, id, at, &out->report, &out->at);
	if (err == CF_ENOTFOUND) {
		err = cf_diag_set(d, err, "host %s had reported nothing at %s",
				  id, at ? at : "all");
		goto done;
	}
	if (err != CF_OK) {
		err = cf_diag_set(d, err, "host %s: stored report unreadable", id);
		goto done;
	}
	err = cf_db_host_history(db, id, limit, keep_sighting, out);
	if (err != CF_OK)
		err = cf_diag_set(d, err, "host %s: history: %s", id,
				  cf_strerror(err));
done:
	f->read_put(f->ctx, db);
	out->host.labels_json = out->labels;
	return err;
}

void cf_fleet_history_clear(struct cf_fleet_history *h)
{
	free(h->labels);
	free(h->report);
	free(h->sightings);
	memset(h, 0, sizeof(*h));
}

struct labels_job {
	const char *host, *labels, *actor;
	char now[CF_DB_TIME_MAX];
};

static enum cf_err run_labels(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct labels_job *j = arg;
	return cf_db_host_set_labels(db, j->host, j->labels, j->actor, j->now, d);
}

enum cf_err cf_fleet_set_labels(struct cf_fleet *f, const char *id,
				const char *labels_json, const char *actor,
				struct cf_diag *d)
{
	struct labels_job j = { id, labels_json, actor, "" };

	f->now(f->ctx, j.now, sizeof(j.now));
	return f->write(f->ctx, run_labels, NULL, &j, d);
}

/* ---- pools ---- */

enum cf_err cf_fleet_pools(struct cf_fleet *f, cf_db_pool_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_pool_list(db, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}

enum cf_err cf_fleet_pool_get(struct cf_fleet *f, const char *name,
			      cf_db_pool_fn fn, cf_db_name_fn member,
			      void *ctx, struct cf_diag *d)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_pool_get(db, name, fn, ctx);

	if (err == CF_OK)
		err = cf_db_pool_members(db, name, member, ctx);
	f->read_put(f->ctx, db);
	if (err != CF_OK)
		return cf_diag_set(d, err, err == CF_ENOTFOUND ? "no such pool: %s"
				   : "pool %s: database error", name);
	return CF_OK;
}

struct ids {
	char (*id)[CF_HOST_ID_MAX];
	size_t n, cap;
};

static int collect_id(void *ctx, const char *name)
{
	struct ids *m = ctx;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		void *p = realloc(m->id, cap * sizeof(*m->id));
		if (!p)
			return 1;
		m->id = p;
		m->cap = cap;
	}
	snprintf(m->id[m->n++], CF_HOST_ID_MAX, "%s", name);
	return 0;
}

static int host_arch(void *ctx, const struct cf_db_host *h)
{
	snprintf(ctx, 16, "%s", h->arch);
	return 0;
}

/* A pool holds hosts of one architecture (a baseline of two has no
 * meaning): refused when its members, as they are now, have two. */
static enum cf_err one_arch(struct cf_db *db, const char *name,
			    struct cf_diag *d)
{
	struct ids m = { 0 };
	char a0[16] = "", ai[16] = "";
	enum cf_err err = cf_db_pool_members(db, name, collect_id, &m);

	for (size_t i = 0; err == CF_OK && i < m.n; i++) {
		err = cf_db_host_get(db, m.id[i], host_arch, i ? ai : a0);
		if (err == CF_OK && i && strcmp(a0, ai) != 0)
			err = cf_diag_set(d, CF_ECONFLICT, "pool %s would mix "
					  "architectures: %s is %s, %s is %s; a "
					  "pool's hosts share one architecture, "
					  "so define one pool per architecture",
					  name, m.id[0], a0, m.id[i], ai);
	}
	free(m.id);
	return err;
}

struct pool_job {
	const char *name, *labels, *hosts, *actor;
	char now[CF_DB_TIME_MAX];
	bool created, del;
};

static enum cf_err run_pool(struct cf_db *db, void *arg, struct cf_diag *d)
{
	struct pool_job *j = arg;
	enum cf_err err;

	if (j->del)
		return cf_db_pool_delete(db, j->name, j->actor, j->now, d);
	err = cf_db_pool_put(db, j->name, j->labels, j->hosts, j->actor, j->now,
			     &j->created, d);
	/* Refused, the write is rolled back with the job's transaction. */
	return err == CF_OK ? one_arch(db, j->name, d) : err;
}

enum cf_err cf_fleet_pool_put(struct cf_fleet *f, const char *name,
			      const char *labels_json, const char *hosts_json,
			      const char *actor, bool *created,
			      struct cf_diag *d)
{
	struct pool_job j = { .name = name, .labels = labels_json,
			      .hosts = hosts_json, .actor = actor };
	enum cf_err err;

	f->now(f->ctx, j.now, sizeof(j.now));
	err = f->write(f->ctx, run_pool, NULL, &j, d);
	*created = j.created;
	return err;
}

enum cf_err cf_fleet_pool_delete(struct cf_fleet *f, const char *name,
				 const char *actor, struct cf_diag *d)
{
	struct pool_job j = { .name = name, .actor = actor, .del = true };

	f->now(f->ctx, j.now, sizeof(j.now));
	return f->write(f->ctx, run_pool, NULL, &j, d);
}

/* ---- profiles, audit, figures ---- */

enum cf_err cf_fleet_profiles(struct cf_fleet *f, const char *name,
			      cf_db_profile_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_profile_list(db, name, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}

enum cf_err cf_fleet_profile_get(struct cf_fleet *f, const char *name,
				 int version, cf_db_profile_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_profile_get(db, name, version, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}

enum cf_err cf_fleet_audit(struct cf_fleet *f, size_t limit,
			   cf_db_audit_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_audit_list(db, limit, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}

enum cf_err cf_fleet_stats(struct cf_fleet *f, struct cf_db_stats *st,
			   int *schema)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_stats(db, st);

	*schema = cf_db_schema_version(db);
	f->read_put(f->ctx, db);
	return err;
}

/* ---- drift events ---- */

enum cf_err cf_fleet_events(struct cf_fleet *f, const char *since,
			    const char *host, size_t limit,
			    cf_db_event_fn fn, void *ctx)
{
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = cf_db_event_list(db, since, host, limit, fn, ctx);

	f->read_put(f->ctx, db);
	return err;
}
