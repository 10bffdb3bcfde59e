/* Kernel planning and advice over arch/arm64/kvm-writable.txt (kernel.h).
 * One loop over the table's entries; the conditions (release, stable
 * series, until=, cap=, host=aarch32) are the table's data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/kernel.h"
#include "engine/profile.h"
#include "engine/report.h"

#define ADVICE_MAX 1024

static const struct cf_kw_table *table_of(const struct cf_arch_ops *a)
{
	return strcmp(a->name, "arm64") == 0 ? &cf_arm64_kvm_writable : NULL;
}

static uint64_t kw_mask(const struct cf_kw_entry *e)
{
	uint64_t w = e->msb - e->lsb + 1u;
	return (w >= 64 ? ~0ULL : ((1ULL << w) - 1)) << e->lsb;
}

/* Digits at *P (at most 3) into *V; false for none or too many. */
static bool num(const char **p, uint32_t *v)
{
	const char *s = *p;

	*v = 0;
	while (**p >= '0' && **p <= '9' && *p - s < 4)
		*v = *v * 10 + (uint32_t)(*(*p)++ - '0');
	return *p > s && *p - s < 4;
}

static bool parse(const char *s, struct cf_kver *out, bool whole)
{
	uint32_t major, minor, patch = 0;
	const char *p = s;

	if (!num(&p, &major) || major == 0 || *p++ != '.' || !num(&p, &minor))
		return false;
	if (*p == '.') {
		p++;
		if (!num(&p, &patch))
			return false;
	}
	if (whole && *p)
		return false;
	if (!whole && *p >= '0' && *p <= '9')
		return false;
	out->mm = major * 1000 + minor;
	out->patch = patch;
	return true;
}

bool cf_kernel_parse(const char *s, struct cf_kver *out)
{
	return s && parse(s, out, true);
}

bool cf_kernel_of_release(const char *release, struct cf_kver *out)
{
	return release && parse(release, out, false);
}

bool cf_kw_writable_at(const struct cf_kw_entry *e, const struct cf_kver *k)
{
	bool w = k->mm >= e->since ||
		 (e->stable && k->mm == e->stable && k->patch >= e->stable_patch);

	return w && !(e->until_lo && k->mm >= e->until_lo);
}

/* Has host C AArch32 at EL0 (ID_AA64PFR0_EL1.EL0 = 2)? */
static bool aarch32_el0(const struct cf_config *c)
{
	const struct cf_catalog *cat = c->arch->catalog;
	int ri = cf_catalog_find_name(cat, "ID_AA64PFR0_EL1"), fi;

	if (ri < 0 || !c->present[ri])
		return false;
	fi = cf_catalog_find_field(&cat->regs[ri], "EL0");
	return fi >= 0 && cf_field_raw(&cat->regs[ri].fields[fi], c->val[ri]) == 2;
}

/* Does the table let userspace write E's field on host C under K? */
static bool host_writable(const struct cf_kw_entry *e, const struct cf_config *c,
			  const struct cf_kver *k)
{
	return cf_kw_writable_at(e, k) &&
	       (!(e->flags & CF_KW_AARCH32) || aarch32_el0(c));
}

/* The release capability NAME came with (its catalogue since=), or 0. */
static uint32_t cap_since(const struct cf_catalog *cat, const char *name)
{
	int ri = cf_catalog_find_name(cat, name);
	struct cf_kver v;

	return ri >= 0 && cat->regs[ri].since &&
	       cf_kernel_parse(cat->regs[ri].since, &v) ? v.mm : 0;
}

/* C planned at K; STRICT: an entry whose release the table gives only
 * approximately adds nothing (the host keeps its own bits there). */
static enum cf_err plan_config(const struct cf_config *c,
			       const struct cf_kw_table *t,
			       const struct cf_kver *k, bool strict,
			       struct cf_config **out)
{
	const struct cf_catalog *cat = c->arch->catalog;
	struct cf_config *n = NULL;
	enum cf_err err = cf_config_clone(c, &n);

	for (size_t i = 0; err == CF_OK && i < t->n; i++) {
		const struct cf_kw_entry *e = &t->e[i];
		int ri = cf_catalog_find_key(cat, e->key), ci;
		uint32_t since;
		if (ri < 0 || !n->present[ri])
			continue;
		if (host_writable(e, c, k) && !(strict && (e->flags & CF_KW_APPROX)))
			n->wr[ri] |= kw_mask(e);
		else if (strict && (e->flags & CF_KW_APPROX))
			continue;
		else
			n->wr[ri] &= ~kw_mask(e);
		if (!e->cap || (ci = cf_catalog_find_name(cat, e->cap)) < 0)
			continue;
		/* KVM offers the capability from its release on. */
		since = cap_since(cat, e->cap);
		if (since && k->mm >= since)
			err = cf_config_set_fixed(n, cat->regs[ci].key, 1);
		else if (n->present[ci])
			err = cf_config_set_fixed(n, cat->regs[ci].key, 0);
	}
	if (err != CF_OK) {
		cf_config_unref(n);
		return err;
	}
	n->has_writable = true;
	*out = n;
	return CF_OK;
}

static enum cf_err plan_report(const struct cf_report *r,
			       const struct cf_kver *k, bool strict,
			       struct cf_report **out)
{
	const struct cf_kw_table *t = table_of(r->cfg->arch);
	struct cf_config *n = NULL;
	enum cf_err err = cf_report_clone_as(r, r->host_id, out);

	if (err != CF_OK || !t)
		return err;
	err = plan_config(r->cfg, t, k, strict, &n);
	if (err != CF_OK) {
		cf_report_destroy(*out);
		*out = NULL;
		return err;
	}
	cf_config_seal(n);
	cf_config_unref((*out)->cfg);
	(*out)->cfg = n;
	return CF_OK;
}

enum cf_err cf_kernel_plan_report(const struct cf_report *r,
				  const struct cf_kver *k,
				  struct cf_report **out)
{
	return plan_report(r, k, false, out);
}

/* ---- advice ---- */

/* The entry for field F of register KEY: its bits exactly. */
static const struct cf_kw_entry *entry_of(const struct cf_kw_table *t,
					  uint64_t key, const struct cf_field *f)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].key == key && kw_mask(&t->e[i]) == cf_field_mask(f))
			return &t->e[i];
	return NULL;
}

static void rel_text(uint32_t mm, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u", mm / 1000, mm % 1000);
}

/* "writable from Linux 6.17 (first in 6.13..6.17; kvm-writable.txt line
 * 404)" and its conditions; LINES: the table lines, "404" or "337, 338". */
static void since_text(const struct cf_kw_table *t, const struct cf_kw_entry *e,
		       const char *lines, char *buf, size_t len)
{
	char a[16], b[16], st[64] = "", how[64];

	rel_text(e->since_lo, a, sizeof(a));
	rel_text(e->since, b, sizeof(b));
	if (e->flags & CF_KW_RANGE)
		snprintf(how, sizeof(how), "first in %s..%s; ", a, b);
	else if (e->flags & CF_KW_FIRST_UNKNOWN)
		snprintf(how, sizeof(how), "first release unknown; ");
	else if (e->flags & CF_KW_APPROX)
		snprintf(how, sizeof(how), "approximate; ");
	else
		how[0] = '\0';
	if (e->stable) {
		rel_text(e->stable, a, sizeof(a));
		snprintf(st, sizeof(st), " (and %s.%u)", a, e->stable_patch);
	}
	/* A long text is cut short, never refused. */
	if (snprintf(buf, len, "writable from Linux %s%s%s%s (%s%s line%s %s)", b,
		     st, e->cap ? " once the VMM enables " : "",
		     e->cap ? e->cap : "", how,
		     strrchr(t->file, '/') ? strrchr(t->file, '/') + 1 : t->file,
		     strchr(lines, ',') ? "s" : "", lines) < 0)
		buf[0] = '\0';
}

/* The baseline of RS with every host of LIFT (a flag per report) planned
 * at K: feasible?  Its conflicts' names into REST when not. */
static enum cf_err recompute(const struct cf_report *const *rs, size_t n,
			     const bool *lift, const struct cf_kver *k,
			     bool strict, bool *feasible, char *rest, size_t len)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	enum cf_err err = cf_pool_create(cf_report_arch(rs[0]), &p);

	for (size_t i = 0; i < n && err == CF_OK; i++) {
		struct cf_report *pl = NULL;
		if (!lift[i]) {
			err = cf_pool_add(p, rs[i], &d);
			continue;
		}
		err = plan_report(rs[i], k, strict, &pl);
		if (err == CF_OK)
			err = cf_pool_add(p, pl, &d);
		cf_report_destroy(pl);
	}
	if (err == CF_OK)
		err = cf_baseline(p, &pr);
	if (err == CF_OK) {
		*feasible = cf_profile_feasible(pr);
		rest[0] = '\0';
		for (size_t i = 0; i < pr->nconf; i++) {
			char name[96];
			size_t used = strlen(rest);
			cf_conflict_name(pr, &pr->conf[i], name, sizeof(name));
			if (strstr(rest, name))
				continue;
			/* Whole names only: what does not fit is "...". */
			if (used + strlen(name) + 8 > len) {
				if (used + 6 <= len)
					snprintf(rest + used, len - used, ", ...");
				break;
			}
			snprintf(rest + used, len - used, "%s%s", used ? ", " : "",
				 name);
		}
	}
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	return err;
}

static enum cf_err add_line(struct cf_kernel_advice *a, const char *text)
{
	char **l = realloc(a->line, (a->n + 1) * sizeof(*l));

	if (!l)
		return CF_ENOMEM;
	a->line = l;
	a->line[a->n] = strdup(text);
	if (!a->line[a->n])
		return CF_ENOMEM;
	a->n++;
	return CF_OK;
}

/* "a57, a72" from the hosts flagged in LIFT. */
static void host_list(const struct cf_report *const *rs, size_t n,
		      const bool *lift, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (lift[i]) {
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				 rs[i]->host_id);
		}
}

/* Planning LIFT at K: SURE (feasible without the table's approximate
 * releases) or APPROX (only with them); REST: what still conflicts. */
static enum cf_err try_at(const struct cf_report *const *rs, size_t n,
			  const bool *lift, const struct cf_kver *k, bool *sure,
			  bool *approx, char *rest, size_t len)
{
	enum cf_err err = recompute(rs, n, lift, k, true, sure, rest, len);

	*approx = false;
	if (err == CF_OK && !*sure)
		err = recompute(rs, n, lift, k, false, approx, rest, len);
	return err;
}

/* The sentence on what planning LIFT at K gives: "becomes feasible" only
 * when it does without the table's approximate releases, else qualified
 * when it does with them; when it does not, the first later release of
 * the table at which it does, if any. */
static enum cf_err verdict(const struct cf_kw_table *t,
			   const struct cf_report *const *rs, size_t n,
			   const bool *lift, const struct cf_kver *k,
			   char *buf, size_t len)
{
	static const char approx_text[] = " if the releases kvm-writable.txt "
					  "marks approximate hold";
	char hosts[512], rest[ADVICE_MAX / 2], other[ADVICE_MAX / 2], r[16];
	bool sure = false, approx = false;
	struct cf_kver later = { 0, 0 };
	enum cf_err err = try_at(rs, n, lift, k, &sure, &approx, rest,
				 sizeof(rest));

	if (err != CF_OK)
		return err;
	host_list(rs, n, lift, hosts, sizeof(hosts));
	rel_text(k->mm, r, sizeof(r));
	if (sure || approx) {
		snprintf(buf, len, "with hosts %s on %s this pool becomes "
			 "feasible%s", hosts, r, sure ? "" : approx_text);
		return CF_OK;
	}
	/* The table's later releases, in order. */
	for (;;) {
		uint32_t next = 0;
		for (size_t i = 0; i < t->n; i++)
			if (t->e[i].since > (later.mm ? later.mm : k->mm) &&
			    (!next || t->e[i].since < next))
				next = t->e[i].since;
		if (!next)
			break;
		later.mm = next;
		err = try_at(rs, n, lift, &later, &sure, &approx, other,
			     sizeof(other));
		if (err != CF_OK)
			return err;
		if (sure || approx)
			break;
	}
	if (sure || approx) {
		char lr[16];
		rel_text(later.mm, lr, sizeof(lr));
		snprintf(buf, len, "with hosts %s on %s the pool stays "
			 "infeasible: %s; on %s it becomes feasible%s", hosts, r,
			 rest, lr, sure ? "" : approx_text);
	} else {
		snprintf(buf, len, "with hosts %s on %s the pool stays "
			 "infeasible: %s", hosts, r, rest);
	}
	return CF_OK;
}

/* One conflict with advice: its entry, its name, the hosts whose KVM
 * lacks the field (LIFT, n flags) and why some cannot gain it (BLOCKED,
 * "" for none). */
struct item {
	const struct cf_kw_entry *e;
	char name[96];
	bool *lift;
	char blocked[256];
	bool done;
};

/* Do A and B say the same but for the field: one sentence for both. */
static bool same_group(const struct item *a, const struct item *b, size_t n)
{
	const struct cf_kw_entry *x = a->e, *y = b->e;

	return x->since == y->since && x->since_lo == y->since_lo &&
	       x->until_lo == y->until_lo && x->flags == y->flags &&
	       x->stable == y->stable && x->stable_patch == y->stable_patch &&
	       (x->cap == y->cap || (x->cap && y->cap && !strcmp(x->cap, y->cap))) &&
	       !memcmp(a->lift, b->lift, n * sizeof(*a->lift)) &&
	       !strcmp(a->blocked, b->blocked);
}

/* Conflict C's item: false when it gets no advice (no entry, no host
 * lacking the field). */
static bool item_of(const struct cf_kw_table *t, const struct cf_profile *pr,
		    const struct cf_conflict *c, const struct cf_report *const *rs,
		    size_t n, struct item *it)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	int ri = cf_catalog_find_key(cat, c->key);
	const struct cf_field *f;
	struct cf_kver hk;
	bool any = false;

	if (c->field < 0 || ri < 0 || cat->regs[ri].pseudo)
		return false;
	f = &cat->regs[ri].fields[c->field];
	it->e = entry_of(t, c->key, f);
	if (!it->e)
		return false;
	cf_conflict_name(pr, c, it->name, sizeof(it->name));
	it->blocked[0] = '\0';
	for (size_t h = 0; h < n; h++) {
		const struct cf_config *hc = rs[h]->cfg;
		uint64_t m = cf_field_mask(f);
		size_t used = strlen(it->blocked);
		it->lift[h] = false;
		if (!hc->present[ri] ||
		    (cf_config_writable(hc, (size_t)ri) & m) == m)
			continue;
		/* A host the table says cannot gain it, or whose own KVM
		 * already contradicts the table: no claim. */
		if ((it->e->flags & CF_KW_AARCH32) && !aarch32_el0(hc))
			snprintf(it->blocked + used, sizeof(it->blocked) - used,
				 "; not on %s: it has no AArch32 at EL0",
				 rs[h]->host_id);
		else if (cf_kernel_of_release(cf_report_kernel(rs[h]), &hk) &&
			 host_writable(it->e, hc, &hk))
			snprintf(it->blocked + used, sizeof(it->blocked) - used,
				 "; but %s runs %s and its KVM does not let "
				 "userspace write it", rs[h]->host_id,
				 cf_report_kernel(rs[h]));
		it->lift[h] = true;
		any = true;
	}
	return any;
}

enum cf_err cf_kernel_advise(const struct cf_report *const *rs, size_t n,
			     const struct cf_profile *pr,
			     struct cf_kernel_advice *out)
{
	const struct cf_kw_table *t = table_of(pr->arch);
	struct item *it = NULL;
	bool *flags = NULL, *all = NULL;
	struct cf_kver top = { 0, 0 };
	size_t nit = 0, ngroups = 0;
	enum cf_err err = CF_OK;

	out->line = NULL;
	out->n = 0;
	if (!t || n == 0 || cf_profile_feasible(pr) || pr->nconf == 0)
		return CF_OK;
	it = calloc(pr->nconf, sizeof(*it));
	flags = calloc((pr->nconf + 1) * n, sizeof(*flags));
	if (!it || !flags) {
		err = CF_ENOMEM;
		goto out;
	}
	all = flags + pr->nconf * n;
	for (size_t i = 0; i < pr->nconf; i++) {
		it[nit].lift = flags + nit * n;
		if (item_of(t, pr, &pr->conf[i], rs, n, &it[nit]))
			nit++;
	}
	for (size_t i = 0; i < nit && err == CF_OK; i++) {
		char names[ADVICE_MAX / 2] = "", lines[128] = "", since[384];
		char line[ADVICE_MAX], v[ADVICE_MAX];
		struct cf_kver k = { it[i].e->since, 0 };
		if (it[i].done)
			continue;
		for (size_t j = i; j < nit; j++) {
			size_t un = strlen(names), ul = strlen(lines);
			if (it[j].done || !same_group(&it[i], &it[j], n))
				continue;
			it[j].done = true;
			snprintf(names + un, sizeof(names) - un, "%s%s",
				 un ? ", " : "", it[j].name);
			snprintf(lines + ul, sizeof(lines) - ul, "%s%u",
				 ul ? ", " : "", it[j].e->line);
		}
		since_text(t, it[i].e, lines, since, sizeof(since));
		if (it[i].blocked[0]) {
			if (snprintf(line, sizeof(line), "%s: %s%s", names, since,
				     it[i].blocked) < 0)
				line[0] = '\0';
		} else {
			err = verdict(t, rs, n, it[i].lift, &k, v, sizeof(v));
			if (err != CF_OK)
				break;
			/* A long text is cut short, never refused. */
			if (snprintf(line, sizeof(line), "%s: %s: %s", names,
				     since, v) < 0)
				line[0] = '\0';
			for (size_t h = 0; h < n; h++)
				all[h] = all[h] || it[i].lift[h];
			if (it[i].e->since > top.mm)
				top.mm = it[i].e->since;
			ngroups++;
		}
		err = add_line(out, line);
	}
	if (err == CF_OK && ngroups > 1) {
		char v[ADVICE_MAX], line[ADVICE_MAX];
		err = verdict(t, rs, n, all, &top, v, sizeof(v));
		if (err == CF_OK) {
			if (snprintf(line, sizeof(line), "all of them: %s", v) < 0)
				line[0] = '\0';
			err = add_line(out, line);
		}
	}
out:
	free(it);
	free(flags);
	if (err != CF_OK)
		cf_kernel_advice_free(out);
	return err;
}

void cf_kernel_advice_free(struct cf_kernel_advice *a)
{
	for (size_t i = 0; a && i < a->n; i++)
		free(a->line[i]);
	if (a) {
		free(a->line);
		a->line = NULL;
		a->n = 0;
	}
}
