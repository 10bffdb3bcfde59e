/* Drift: a host's new report has another configuration than its previous
 * one.  What changed (each guest-visible field, named as the engine's
 * decoder names its values), why where the reports say (kernel,
 * microcode, firmware), and what it does to the published profiles (each
 * profile's every version checked once on the old report and once on the
 * new), recorded as one event in the upload's transaction.  Also the
 * figure /metrics shows: hosts refusing a profile published for their
 * pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fleet/drift.h"
#include "fleet/fleet.h"
#include "util/diag.h"
#include "util/strset.h"

/* ---- the fields that changed ---- */

struct dfield {
	char *reg, *field, *features;
	uint64_t value;
	bool seen;                    /* matched by the other report */
};

struct dlist {
	struct dfield *f;
	size_t n, cap;
	bool nomem;
};

static void dlist_clear(struct dlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->f[i].reg);
		free(l->f[i].field);
		free(l->f[i].features);
	}
	free(l->f);
	memset(l, 0, sizeof(*l));
}

/* The fields a guest sees: a register's fields, not KVM's own figures
 * (capabilities of another role than "guest"). */
static int collect_field(void *ctx, const struct cf_decoded *dc)
{
	struct dlist *l = ctx;
	struct dfield *f;

	if (!dc->field || (dc->role[0] && strcmp(dc->role, "guest") != 0))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct dfield *t = realloc(l->f, cap * sizeof(*t));
		if (!t) {
			l->nomem = true;
			return 1;
		}
		l->f = t;
		l->cap = cap;
	}
	f = &l->f[l->n];
	*f = (struct dfield){ strdup(dc->reg), strdup(dc->field),
			      strdup(dc->features), dc->value, false };
	l->n++;
	if (!f->reg || !f->field || !f->features) {
		l->nomem = true;
		return 1;
	}
	return 0;
}

static enum cf_err decode_fields(const struct cf_report *r, struct dlist *l)
{
	enum cf_err err = cf_report_decode(r, collect_field, l);

	return l->nomem ? CF_ENOMEM : err;
}

/* OLD's entry for NEW's field NF; both lists are in the catalogue's
 * order, so the search starts where the last one ended. */
static struct dfield *find_field(struct dlist *old, const struct dfield *nf,
				 size_t *cursor)
{
	for (size_t k = 0; k < old->n; k++) {
		size_t i = (*cursor + k) % old->n;
		if (!strcmp(old->f[i].reg, nf->reg) &&
		    !strcmp(old->f[i].field, nf->field)) {
			*cursor = i + 1;
			return &old->f[i];
		}
	}
	return NULL;
}

static enum cf_err add_change(struct cf_fleet_drift *dr, const char *reg,
			      const char *field, const char *fold,
			      const char *fnew, uint64_t a, uint64_t b)
{
	struct cf_fleet_drift_field *c;

	if (dr->nfields == dr->capf) {
		size_t cap = dr->capf ? 2 * dr->capf : 16;
		struct cf_fleet_drift_field *t =
			realloc(dr->fields, cap * sizeof(*t));
		if (!t)
			return CF_ENOMEM;
		dr->fields = t;
		dr->capf = cap;
	}
	c = &dr->fields[dr->nfields++];
	memset(c, 0, sizeof(*c));
	snprintf(c->reg, sizeof(c->reg), "%s", reg);
	snprintf(c->field, sizeof(c->field), "%s", field);
	snprintf(c->feature_old, sizeof(c->feature_old), "%s", fold);
	snprintf(c->feature_new, sizeof(c->feature_new), "%s", fnew);
	c->old_value = a;
	c->new_value = b;
	return CF_OK;
}

/* Every guest-visible field whose value differs between OLD and NEW; a
 * field one of them lacks counts as 0 there (a register KVM no longer
 * reports offers nothing). */
static enum cf_err diff_fields(const struct cf_report *old,
			       const struct cf_report *now,
			       struct cf_fleet_drift *dr)
{
	struct dlist a = { 0 }, b = { 0 };
	size_t cursor = 0;
	enum cf_err err = decode_fields(old, &a);

	if (err == CF_OK)
		err = decode_fields(now, &b);
	for (size_t i = 0; err == CF_OK && i < b.n; i++) {
		struct dfield *o = find_field(&a, &b.f[i], &cursor);
		if (o)
			o->seen = true;
		if (o && o->value == b.f[i].value)
			continue;
		if (!o && !b.f[i].value)
			continue;
		err = add_change(dr, b.f[i].reg, b.f[i].field,
				 o ? o->features : "", b.f[i].features,
				 o ? o->value : 0, b.f[i].value);
	}
	for (size_t i = 0; err == CF_OK && i < a.n; i++)
		if (!a.f[i].seen && a.f[i].value)
			err = add_change(dr, a.f[i].reg, a.f[i].field,
					 a.f[i].features, "", a.f[i].value, 0);
	dlist_clear(&a);
	dlist_clear(&b);
	return err;
}

/* ---- what it does to the published profiles ---- */

struct latest {
	struct cf_fleet_drift_verdict *v;
	size_t n, cap;
	bool nomem;
};

static int add_latest(void *ctx, const struct cf_db_profile *p)
{
	struct latest *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct cf_fleet_drift_verdict *t =
			realloc(l->v, cap * sizeof(*t));
		if (!t) {
			l->nomem = true;
			return 1;
		}
		l->v = t;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	snprintf(l->v[l->n].profile, sizeof(l->v[l->n].profile), "%s",
		 p->name);
	snprintf(l->v[l->n].pool, sizeof(l->v[l->n].pool), "%s", p->pool);
	l->v[l->n].version = p->version;
	l->n++;
	return 0;
}

struct find_member {
	const char *host;
	bool found;
};

static int is_member(void *ctx, const char *name)
{
	struct find_member *m = ctx;

	if (!strcmp(name, m->host))
		m->found = true;
	return m->found;
}

struct body {
	char *text;
};

static int keep_body(void *ctx, const struct cf_db_profile *p)
{
	struct body *b = ctx;

	b->text = strdup(p->body ? p->body : "");
	return 0;
}

/* Version V->version of profile V->profile, parsed. */
static enum cf_err load_profile(struct cf_db *db,
				const struct cf_fleet_drift_verdict *v,
				struct cf_profile **out)
{
	struct body b = { NULL };
	enum cf_err err = cf_db_profile_get(db, v->profile, v->version,
					    keep_body, &b);

	*out = NULL;
	if (err == CF_OK && !b.text)
		err = CF_ENOMEM;
	if (err == CF_OK)
		err = cf_profile_parse(b.text, strlen(b.text), v->profile, out,
				       NULL);
	free(b.text);
	return err;
}

/* The reasons V refuses, one per line, malloc'd. */
static char *reasons_text(const struct cf_verdict *v)
{
	size_t n = cf_verdict_reason_count(v), len = 0, cap = 1;
	char line[512], *out;

	for (size_t i = 0; i < n; i++) {
		cf_verdict_reason_text(v, i, line, sizeof(line));
		cap += strlen(line) + 1;
	}
	out = malloc(cap);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		cf_verdict_reason_text(v, i, line, sizeof(line));
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					i ? "\n" : "", line);
	}
	return out;
}

/* Every version of every published profile of NOW's architecture (a
 * guest started on an older version still runs), newest first, checked
 * once on OLD (may be NULL: another architecture) and once on NOW, into
 * DR's verdicts. */
static enum cf_err check_profiles(struct cf_db *db, const char *host,
				  const struct cf_report *old,
				  const struct cf_report *now,
				  struct cf_fleet_drift *dr)
{
	struct latest names = { 0 }, l = { 0 };
	struct cf_verdict *v = cf_verdict_create();
	enum cf_err err = v ? cf_db_profile_list(db, NULL, add_latest, &names)
			    : CF_ENOMEM;
	size_t kept = 0;

	if (err == CF_OK && names.nomem)
		err = CF_ENOMEM;
	for (size_t i = 0; err == CF_OK && i < names.n; i++)
		err = cf_db_profile_list(db, names.v[i].profile, add_latest,
					 &l);
	free(names.v);

	if (err == CF_OK && l.nomem)
		err = CF_ENOMEM;
	for (size_t i = 0; err == CF_OK && i < l.n; i++) {
		struct cf_fleet_drift_verdict e = l.v[i];
		struct cf_profile *pr = NULL;
		struct find_member m = { host, false };

		/* A profile this build cannot read says nothing here. */
		if (load_profile(db, &e, &pr) != CF_OK ||
		    strcmp(cf_profile_arch(pr), cf_report_arch(now)) != 0) {
			cf_profile_destroy(pr);
			continue;
		}
		if (e.pool[0]) {
			err = cf_db_pool_members(db, e.pool, is_member, &m);
			if (err == CF_ENOTFOUND)  /* the pool went since */
				err = CF_OK;
		}
		e.member = m.found;
		if (err == CF_OK && old)
			err = cf_check(pr, old, v);
		if (err == CF_OK && old)
			e.accepted_before = cf_verdict_compatible(v);
		if (err == CF_OK)
			err = cf_check(pr, now, v);
		if (err == CF_OK) {
			e.accepted_now = cf_verdict_compatible(v);
			if (!e.accepted_now && !(e.reasons = reasons_text(v)))
				err = CF_ENOMEM;
		}
		cf_profile_destroy(pr);
		if (err == CF_OK)
			l.v[kept++] = e;
	}
	cf_verdict_destroy(v);
	dr->verdicts = l.v;
	dr->nverdicts = kept;
	return err;
}

void cf_fleet_drift_clear(struct cf_fleet_drift *dr)
{
	for (size_t i = 0; i < dr->nverdicts; i++)
		free(dr->verdicts[i].reasons);
	free(dr->verdicts);
	free(dr->fields);
	memset(dr, 0, sizeof(*dr));
}

enum cf_err cf_fleet_drift_compute(struct cf_db *db, const char *host,
				   const struct cf_report *old,
				   const struct cf_report *now,
				   struct cf_fleet_drift *dr)
{
	bool same_arch = old && !strcmp(cf_report_arch(old),
					 cf_report_arch(now));
	enum cf_err err = CF_OK;

	memset(dr, 0, sizeof(*dr));
	if (same_arch)
		err = diff_fields(old, now, dr);
	if (err == CF_OK)
		err = check_profiles(db, host, same_arch ? old : NULL, now, dr);
	return err;
}

/* ---- storing it ---- */

enum cf_err cf_fleet_drift_record(struct cf_db *db, const char *old_body,
				  const char *old_report,
				  const struct cf_report *now,
				  const char *new_report, const char *at,
				  long long *event, struct cf_diag *d)
{
	struct cf_report *old = NULL;
	struct cf_fleet_drift dr;
	struct cf_db_event ev = { 0 };
	struct cf_db_event_field *f = NULL;
	struct cf_db_event_verdict *v = NULL;
	const char *host = cf_report_host_id(now);
	enum cf_err err;

	/* A stored report this build cannot read leaves the fields unknown;
	 * the verdicts now are still worth recording. */
	if (cf_report_parse(old_body, strlen(old_body), "stored report", &old,
			    NULL) != CF_OK)
		old = NULL;
	err = cf_fleet_drift_compute(db, host, old, now, &dr);
	if (err == CF_OK && dr.nfields &&
	    !(f = calloc(dr.nfields, sizeof(*f))))
		err = CF_ENOMEM;
	if (err == CF_OK && dr.nverdicts &&
	    !(v = calloc(dr.nverdicts, sizeof(*v))))
		err = CF_ENOMEM;
	if (err != CF_OK) {
		err = cf_diag_set(d, err, "host %s: drift: %s", host,
				  cf_strerror(err));
		goto out;
	}
	for (size_t i = 0; i < dr.nfields; i++) {
		const struct cf_fleet_drift_field *c = &dr.fields[i];
		f[i] = (struct cf_db_event_field){
			c->reg, c->field, c->feature_old, c->feature_new,
			c->old_value, c->new_value };
	}
	for (size_t i = 0; i < dr.nverdicts; i++) {
		const struct cf_fleet_drift_verdict *c = &dr.verdicts[i];
		v[i] = (struct cf_db_event_verdict){
			c->profile, c->version, c->pool, c->member,
			c->accepted_before, c->accepted_now,
			c->reasons ? c->reasons : "" };
	}
	ev = (struct cf_db_event){
		.at = at, .host = host, .arch = cf_report_arch(now),
		.from_report = old_report, .to_report = new_report,
		.kernel = { old ? cf_report_kernel(old) : "",
			    cf_report_kernel(now) },
		.microcode = { old ? cf_report_microcode(old) : "",
			       cf_report_microcode(now) },
		.firmware = { old ? cf_report_firmware(old) : "",
			      cf_report_firmware(now) },
		.nfields = dr.nfields, .fields = f,
		.nverdicts = dr.nverdicts, .verdicts = v,
	};
	err = cf_db_event_add(db, &ev, event, d);
out:
	free(f);
	free(v);
	cf_fleet_drift_clear(&dr);
	cf_report_destroy(old);
	return err;
}

/* ---- hosts refusing a profile published for their pool ---- */

/* The members of the pool PR was published for that refuse it, into S. */
static enum cf_err pool_refusing(struct cf_fleet *f, const char *pool,
				 const struct cf_profile *pr,
				 struct cf_verdict *v, struct cf_strset *s,
				 size_t *skipped, struct cf_diag *d)
{
	struct cf_fleet_pool *p = NULL;
	enum cf_err err = cf_fleet_pool_resolve(f, pool, &p, d);

	if (err != CF_OK && err != CF_ENOMEM) {
		/* A pool deleted since has no members; one over the bound, or
		 * with a stored report this build cannot read, is left out
		 * (and counted): the figure never fails /metrics. */
		if (err != CF_ENOTFOUND && skipped)
			(*skipped)++;
		if (d)
			d->msg[0] = '\0';
		cf_fleet_pool_destroy(p);
		return CF_OK;
	}
	for (size_t c = 0; err == CF_OK && c < p->ncfg; c++) {
		const struct cf_report *r = p->cfg[c].report;
		if (strcmp(cf_report_arch(r), cf_profile_arch(pr)) != 0)
			continue;
		err = cf_check(pr, r, v);
		if (err != CF_OK || cf_verdict_compatible(v))
			continue;
		for (size_t k = 0; err == CF_OK && k < p->n; k++)
			if (p->m[k].config == c)
				err = cf_strset_add(s, p->m[k].host);
	}
	cf_fleet_pool_destroy(p);
	return err;
}

enum cf_err cf_fleet_hosts_refusing(struct cf_fleet *f,
				    unsigned long long *n, size_t *skipped,
				    struct cf_diag *d)
{
	struct latest l = { 0 };
	struct cf_strset s = { 0 };
	struct cf_verdict *v = cf_verdict_create();
	struct cf_db *db = f->read_get(f->ctx);
	enum cf_err err = v ? cf_db_profile_list(db, NULL, add_latest, &l)
			    : CF_ENOMEM;

	f->read_put(f->ctx, db);
	*n = 0;
	if (skipped)
		*skipped = 0;
	if (err == CF_OK && l.nomem)
		err = CF_ENOMEM;
	for (size_t i = 0; err == CF_OK && i < l.n; i++) {
		struct cf_profile *pr = NULL;

		if (!l.v[i].pool[0])
			continue;
		/* A profile this build cannot read is counted by no one. */
		if (cf_fleet_profile_load(f, l.v[i].profile, l.v[i].version,
					  &pr, NULL) != CF_OK)
			continue;
		err = pool_refusing(f, l.v[i].pool, pr, v, &s, skipped, d);
		cf_profile_destroy(pr);
	}
	if (err == CF_OK) {
		cf_strset_sort_unique(&s);
		*n = s.n;
	}
	cf_strset_clear(&s);
	free(l.v);
	cf_verdict_destroy(v);
	if (err != CF_OK && d && !d->msg[0])
		cf_diag_set(d, err, "%s", cf_strerror(err));
	return err;
}
