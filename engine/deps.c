/* Features that need others: the generic loop over struct cf_deps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/deps.h"

static const struct cf_reg *reg_of(const struct cf_arch_ops *a, uint64_t key)
{
	int i = cf_catalog_find_key(a->catalog, key);

	return i < 0 ? NULL : &a->catalog->regs[i];
}

static const struct cf_field *field_of(const struct cf_reg *r,
				       const struct cf_dep_term *t)
{
	return r && t->field >= 0 && t->field < r->nfields ? &r->fields[t->field]
							    : NULL;
}

/* T's raw value in C: its field's, or the whole register's. */
static uint64_t term_raw(const struct cf_config *c, const struct cf_dep_term *t,
			 const struct cf_field **fp)
{
	uint64_t v = 0;

	*fp = field_of(reg_of(c->arch, t->key), t);
	cf_config_get(c, t->key, &v, NULL);
	return *fp ? cf_field_raw(*fp, v) : v;
}

bool cf_dep_met(const struct cf_config *c, const struct cf_dep_term *t)
{
	const struct cf_field *f;
	uint64_t raw = term_raw(c, t, &f);

	if (t->kind == CF_DEP_BITS)
		return (raw & t->value) == t->value;
	return f && cf_field_cmp(f, raw, t->value) >= 0;
}

bool cf_dep_present(const struct cf_config *c, const struct cf_dep_term *t)
{
	const struct cf_field *f;
	uint64_t raw = term_raw(c, t, &f);

	if (t->kind == CF_DEP_BITS)
		return (raw & t->value) != 0;
	return f && cf_field_cmp(f, raw, t->value) >= 0;
}

int cf_dep_unmet(const struct cf_config *c, const struct cf_dep *d)
{
	for (int i = 0; i < d->nneeds; i++)
		if (!cf_dep_met(c, &d->needs[i]))
			return i;
	return -1;
}

/* The value just below V in the field's order (for a signed field, 0 goes
 * to all ones: -1, "not implemented"). */
static uint64_t below(const struct cf_field *f, uint64_t v)
{
	uint64_t m = f->width >= 64 ? ~0ULL : (1ULL << f->width) - 1;

	return (v - 1) & m;
}

static bool same_term(const struct cf_dep_term *a, const struct cf_dep_term *b)
{
	return a->key == b->key && a->field == b->field && a->kind == b->kind &&
	       a->value == b->value;
}

/* Did one of the drops FIRST..N-1 lower what T reads? */
static bool dropped(const struct cf_dep_drop *drops, size_t first, size_t n,
		    const struct cf_dep_term *t)
{
	for (size_t i = first; i < n; i++) {
		const struct cf_dep_term *f = &drops[i].dep->feature;
		if (f->key == t->key &&
		    (f->field == t->field || f->field < 0 || t->field < 0))
			return true;
	}
	return false;
}

static enum cf_err lower(struct cf_config *c, const struct cf_dep_term *t,
			 uint64_t *from, uint64_t *to)
{
	const struct cf_field *f;
	uint64_t raw = term_raw(c, t, &f), v = 0;

	cf_config_get(c, t->key, &v, NULL);
	*from = raw;
	*to = t->kind == CF_DEP_BITS || !f ? raw & ~t->value : below(f, t->value);
	if (f)
		v = (v & ~cf_field_mask(f)) | (*to << f->shift);
	else
		v = *to;
	return cf_config_set(c, t->key, v);
}

static enum cf_err record(struct cf_dep_drop **drops, size_t *n,
			  const struct cf_dep_drop *d)
{
	struct cf_dep_drop *t = realloc(*drops, (*n + 1) * sizeof(*t));

	if (!t)
		return CF_ENOMEM;
	t[*n] = *d;
	*drops = t;
	(*n)++;
	return CF_OK;
}

enum cf_err cf_deps_close(struct cf_config *c, struct cf_dep_drop **drops,
			  size_t *n)
{
	const struct cf_deps *ds = c->arch->deps;
	size_t first = *n;
	bool changed = true;
	enum cf_err err;

	while (ds && changed) {
		changed = false;
		for (size_t i = 0; i < ds->n; i++) {
			const struct cf_dep *d = &ds->d[i];
			struct cf_dep_drop dr = { d, cf_dep_unmet(c, d), 0, 0 };
			if (dr.need < 0 || !cf_dep_present(c, &d->feature))
				continue;
			/* Name a need the closure did not drop itself, from
			 * any rule of this feature, where there is one. */
			for (size_t j = 0; j < ds->n &&
			     dropped(*drops, first, *n,
				     &dr.dep->needs[dr.need]); j++) {
				int u;
				if (!same_term(&ds->d[j].feature, &d->feature))
					continue;
				for (u = 0; u < ds->d[j].nneeds; u++)
					if (!cf_dep_met(c, &ds->d[j].needs[u]) &&
					    !dropped(*drops, first, *n,
						     &ds->d[j].needs[u]))
						break;
				if (u < ds->d[j].nneeds) {
					dr.dep = &ds->d[j];
					dr.need = u;
				}
			}
			err = lower(c, &d->feature, &dr.from, &dr.to);
			if (err == CF_OK)
				err = record(drops, n, &dr);
			if (err != CF_OK)
				return err;
			changed = true;
		}
	}
	return CF_OK;
}

/* NAMES (feature names, possibly "") and where F lives, into BUF. */
static void with_place(const struct cf_reg *r, const struct cf_field *f,
		       const char *names, const char *suffix, char *buf,
		       size_t len)
{
	if (names[0] && f && !strcmp(names, f->name) && !suffix[0])
		snprintf(buf, len, "%s", names);
	else if (names[0])
		snprintf(buf, len, "%s (%s.%s%s)", names, r->name, f->name,
			 suffix);
	else
		snprintf(buf, len, "%s.%s%s", r->name, f->name, suffix);
}

/* MASK as " bit N", " bits HI:LO" or " bits 0x..." ("" for ALL). */
static void bits_text(uint64_t mask, uint64_t all, char *buf, size_t len)
{
	int lo, hi;

	if (mask == all || mask == 0) {
		if (len)
			buf[0] = '\0';
		return;
	}
	lo = __builtin_ctzll(mask);
	hi = 63 - __builtin_clzll(mask);
	if (lo == hi)
		snprintf(buf, len, " bit %d", lo);
	else if ((mask >> lo) == ((hi - lo == 63) ? ~0ULL :
				 (2ULL << (hi - lo)) - 1))
		snprintf(buf, len, " bits %d:%d", hi, lo);
	else
		snprintf(buf, len, " bits 0x%llx", (unsigned long long)mask);
}

/* The name of T where the field went from FROM to TO (ATLEAST terms) or
 * lost bits MASK (BITS terms). */
static void name_of(const struct cf_arch_ops *a, const struct cf_dep_term *t,
		    uint64_t from, uint64_t to, uint64_t mask, char *buf,
		    size_t len)
{
	const struct cf_reg *r = reg_of(a, t->key);
	const struct cf_field *f = field_of(r, t);
	char names[CF_TEXT_MAX], bits[48], reg[40];

	if (!f) {
		cf_arch_regname(a, t->key, reg, sizeof(reg));
		bits_text(mask, ~0ULL, bits, sizeof(bits));
		snprintf(buf, len, "%s%s", reg, bits);
		return;
	}
	if (t->kind == CF_DEP_BITS) {
		bits_text(mask, cf_field_mask(f) >> f->shift, bits, sizeof(bits));
		with_place(r, f, "", bits, buf, len);
		return;
	}
	cf_field_features_between(f, to, from, names, sizeof(names));
	if (names[0] || t->value == (f->is_signed ? 0 : 1)) {
		with_place(r, f, names, "", buf, len);
		return;
	}
	snprintf(bits, sizeof(bits), " >= %llu", (unsigned long long)t->value);
	with_place(r, f, "", bits, buf, len);
}

void cf_dep_term_name(const struct cf_arch_ops *a, const struct cf_dep_term *t,
		      char *buf, size_t len)
{
	const struct cf_field *f = field_of(reg_of(a, t->key), t);

	name_of(a, t, t->value, f && t->kind != CF_DEP_BITS ? below(f, t->value)
							    : 0,
		t->value, buf, len);
}

void cf_dep_lost_name(const struct cf_arch_ops *a, const struct cf_dep_term *t,
		      uint64_t from, uint64_t to, char *buf, size_t len)
{
	name_of(a, t, from, to, from & ~to, buf, len);
}

void cf_dep_needs_text(const struct cf_arch_ops *a, const struct cf_dep *d,
		       int need, char *buf, size_t len)
{
	if (d->text)
		snprintf(buf, len, "%s", d->text);
	else if (need >= 0 && need < d->nneeds)
		cf_dep_term_name(a, &d->needs[need], buf, len);
	else if (len)
		buf[0] = '\0';
}
