/* The richest profile every host of a pool accepts.  One loop over the
 * catalogue; per field, each distinct configuration either has the field
 * writable (it accepts what the policy allows) or fixed (it accepts only
 * its own value).  Fixed values must agree and be acceptable to the
 * writable hosts; without fixed values the policy combines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/check.h"
#include "engine/deps.h"
#include "engine/profile.h"
#include "util/diag.h"

struct bctx {
	const struct cf_pool *pool;
	struct cf_profile *pr;
	size_t cap;
	size_t donor; /* the group whose identity registers the profile takes */
};

static enum cf_err add_conflict(struct bctx *b, enum cf_conflict_kind kind,
				uint64_t key, int field,
				struct cf_conflict **out)
{
	struct cf_profile *pr = b->pr;
	size_t ng = b->pool->ngroups;
	struct cf_conflict *c;

	if (pr->nconf == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		c = realloc(pr->conf, cap * sizeof(*c));
		if (!c)
			return CF_ENOMEM;
		pr->conf = c;
		b->cap = cap;
	}
	c = &pr->conf[pr->nconf];
	memset(c, 0, sizeof(*c));
	c->gval = calloc(ng, sizeof(uint64_t));
	c->gpresent = calloc(ng, 1);
	if (!c->gval || !c->gpresent) {
		free(c->gval);
		free(c->gpresent);
		return CF_ENOMEM;
	}
	c->kind = kind;
	c->key = key;
	c->field = field;
	pr->nconf++;
	*out = c;
	return CF_OK;
}

/* First host of a group, for messages. */
static const char *ghost(const struct bctx *b, size_t g)
{
	return cf_hostset_id(&b->pool->hosts, b->pool->groups[g].first_host);
}

/* Why register RI stays fixed on groups G1 and G2 (SIZE_MAX: none) when
 * it is only for want of the capability its `wcap` names: "; host X's KVM
 * lacks CAP (Linux 6.15+)", or "" for any other reason. */
static void wcap_note(const struct bctx *b, size_t ri, size_t g1, size_t g2,
		      char *buf, size_t len)
{
	const struct cf_catalog *cat = b->pool->arch->catalog;
	const size_t gs[2] = { g1, g2 };
	char cap[96], who[2 * CF_HOST_ID_MAX + 16] = "";

	buf[0] = '\0';
	if (!cat->regs[ri].wcap)
		return;
	for (int k = 0; k < 2; k++) {
		const struct cf_config *cfg;
		if (gs[k] == SIZE_MAX || (k == 1 && gs[1] == gs[0]))
			continue;
		cfg = b->pool->groups[gs[k]].cfg;
		if (cf_config_wcap_offered(cfg, ri))
			continue;
		snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%s",
			 who[0] ? " and " : "", ghost(b, gs[k]));
	}
	if (!who[0])
		return;
	cf_catalog_cap_text(cat, cat->regs[ri].wcap, cap, sizeof(cap));
	snprintf(buf, len, "; the KVM of %s lacks %s", who, cap);
}

static uint64_t combine(const struct cf_field *f, uint64_t a, uint64_t b)
{
	switch (f->policy) {
	case CF_POL_LOWER:
		return cf_field_cmp(f, a, b) <= 0 ? a : b;
	case CF_POL_LOWER_IMPDEF:
		/* What the smaller stands for: an IMPLEMENTATION DEFINED PMU
		 * counts as none. */
		return cf_field_canon(f, cf_field_cmp(f, a, b) <= 0 ? a : b);
	case CF_POL_HIGHER:
		return cf_field_cmp(f, a, b) >= 0 ? a : b;
	case CF_POL_HIGHER0:
		if (a == 0 || b == 0)
			return 0;
		return cf_field_cmp(f, a, b) >= 0 ? a : b;
	case CF_POL_EXACT:
		return a == b ? a : f->safe;
	case CF_POL_ANY:
		return a < b ? a : b;
	case CF_POL_ANY_MAX:
		return a > b ? a : b;
	case CF_POL_AND:
		return a & b;
	case CF_POL_OR:
		return a | b;
	case CF_POL_EQUAL:
		return a;  /* a host that differs refuses it: a conflict */
	case CF_POL_IGNORE:
	case CF_POL_ZERO:
		return 0;
	case CF_POL_RATE:
		return a < b ? a : b;
	case CF_POL_PREFIX: {
		/* The lengths both have, up to the first they disagree on. */
		uint64_t diff = a ^ b, keep;
		if (!diff)
			return a;
		keep = (1ULL << __builtin_ctzll(diff)) - 1;
		return a & keep;
	}
	}
	return a;
}

static void field_features(const struct cf_field *f, const struct cf_pool *p,
			   const uint64_t *raws, char *buf, size_t len)
{
	uint64_t lo = raws[0], hi = raws[0];

	for (size_t g = 1; g < p->ngroups; g++) {
		if (cf_field_cmp(f, raws[g], lo) < 0)
			lo = raws[g];
		if (cf_field_cmp(f, raws[g], hi) > 0)
			hi = raws[g];
	}
	cf_field_features_between(f, lo, hi, buf, len);
}

/* The first configuration that would refuse V, or SIZE_MAX; each as KVM
 * would judge it, with the field writable there or not (an absent register
 * of an absent-is-zero arch is writable). */
static size_t refuser(const struct cf_field *f, const struct cf_pool *p,
		      size_t ri, const uint64_t *raws, uint64_t v)
{
	uint64_t m = cf_field_mask(f);

	for (size_t g = 0; g < p->ngroups; g++) {
		const struct cf_config *cfg = p->groups[g].cfg;
		bool wr = !cfg->present[ri] ||
			  (cf_config_writable(cfg, ri) & m) == m;
		if (!cf_field_accepts(f, raws[g], wr, v))
			return g;
	}
	return SIZE_MAX;
}

/* ---- implementation identity (catalogue flag `identity`) ---- */

struct cand {
	struct cf_impl t;
	size_t g, n;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = cf_impl_cmp(&x->t, &y->t, x->n);

	/* Equal identities are equal values: any of them will do, but
	 * qsort wants a total order. */
	return c ? c : (x->g > y->g) - (x->g < y->g);
}

/* Would every group take group C's identity registers, field by field as
 * KVM judges them? */
static bool identity_accepted(const struct cf_pool *p, const size_t *ri,
			      size_t n, size_t c)
{
	const struct cf_catalog *cat = p->arch->catalog;

	for (size_t k = 0; k < n; k++) {
		const struct cf_reg *reg = &cat->regs[ri[k]];
		const struct cf_config *cc = p->groups[c].cfg;
		if (!cc->present[ri[k]])
			continue;
		for (int fi = 0; fi < reg->nfields; fi++) {
			const struct cf_field *f = &reg->fields[fi];
			uint64_t m = cf_field_mask(f);
			uint64_t want = cf_field_raw(f, cc->val[ri[k]]);
			for (size_t g = 0; g < p->ngroups; g++) {
				const struct cf_config *cfg = p->groups[g].cfg;
				if (cfg->present[ri[k]] &&
				    !cf_field_accepts(f, cf_field_raw(f, cfg->val[ri[k]]),
						      (cf_config_writable(cfg, ri[k]) &
						       m) == m, want))
					return false;
			}
		}
	}
	return true;
}

/* Can group G not change some field of its identity registers? */
static bool identity_fixed(const struct cf_pool *p, const size_t *ri, size_t n,
			   size_t g)
{
	const struct cf_config *cfg = p->groups[g].cfg;

	for (size_t k = 0; k < n; k++) {
		uint64_t d = cf_reg_described(&p->arch->catalog->regs[ri[k]]);
		if (cfg->present[ri[k]] &&
		    (cf_config_writable(cfg, ri[k]) & d) != d)
			return true;
	}
	return false;
}

/* The member whose identity the profile takes: of the groups in ascending
 * order of identity, the first every group accepts; failing that the
 * first that cannot change its own (the conflicts then name the fields),
 * else the first.  Independent of the order the hosts came in. */
static enum cf_err choose_donor(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(p->arch->catalog, ri);
	struct cand *c;
	size_t pick = SIZE_MAX;

	b->donor = 0;
	if (n == 0)
		return CF_OK;
	c = malloc(p->ngroups * sizeof(*c));
	if (!c)
		return CF_ENOMEM;
	for (size_t g = 0; g < p->ngroups; g++) {
		cf_impl_of(p->groups[g].cfg, ri, n, &c[g].t);
		c[g].g = g;
		c[g].n = n;
	}
	qsort(c, p->ngroups, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < p->ngroups && pick == SIZE_MAX; i++)
		if (identity_accepted(p, ri, n, c[i].g))
			pick = c[i].g;
	for (size_t i = 0; i < p->ngroups && pick == SIZE_MAX; i++)
		if (identity_fixed(p, ri, n, c[i].g))
			pick = c[i].g;
	b->donor = pick == SIZE_MAX ? c[0].g : pick;
	free(c);
	return CF_OK;
}

/* Every member's identity, as the pool's implementations. */
static enum cf_err implementations(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(p->arch->catalog, ri);
	enum cf_err err = CF_OK;

	for (size_t g = 0; g < p->ngroups && err == CF_OK; g++) {
		struct cf_impl im;
		cf_impl_of(p->groups[g].cfg, ri, n, &im);
		for (size_t k = 0; k < n; k++)
			if (im.present[k]) {
				err = cf_profile_add_impl(b->pr, &im);
				break;
			}
	}
	return err;
}

static enum cf_err do_field(struct bctx *b, size_t ri, int fi, uint64_t *out,
			    uint64_t *raws)
{
	const struct cf_pool *p = b->pool;
	const struct cf_field *f = &p->arch->catalog->regs[ri].fields[fi];
	uint64_t m = cf_field_mask(f), cand = 0;
	size_t fixed_g = SIZE_MAX, bad_g = SIZE_MAX;
	bool differ = false;
	char note[CF_TEXT_MAX / 2], v1[48], v2[48];
	struct cf_conflict *c;
	enum cf_err err;

	for (size_t g = 0; g < p->ngroups; g++) {
		const struct cf_config *cfg = p->groups[g].cfg;
		/* An absent register of an absent-is-zero arch: 0, writable. */
		bool zero = !cfg->present[ri];
		raws[g] = zero ? 0 : cf_field_raw(f, cfg->val[ri]);
		if (g && raws[g] != raws[0])
			differ = true;
		if (!zero && (cf_config_writable(cfg, ri) & m) != m) {
			if (fixed_g == SIZE_MAX)
				fixed_g = g;
			else if (bad_g == SIZE_MAX &&
				 !cf_field_accepts(f, raws[g], false,
						   raws[fixed_g]))
				bad_g = g;  /* fixed too, and cannot take it */
		}
	}
	if (!differ) {
		*out = f->policy == CF_POL_ZERO ? 0 : raws[0];
		return CF_OK;
	}
	/* KVM checks a write to this register but keeps nothing (catalogue
	 * `checkonly`: the SMCCC workaround levels, kvm_arm_set_fw_reg()):
	 * a guest on a host carries that host's own value whatever the
	 * profile says, so every host must take every host's.  If one does
	 * not, the profile takes the highest value, which only hosts whose
	 * guests carry exactly it accept. */
	if (p->arch->catalog->regs[ri].flags & CF_REG_CHECKONLY) {
		size_t top = 0, from = 0, no = SIZE_MAX;
		for (size_t g = 1; g < p->ngroups; g++)
			if (cf_field_cmp(f, raws[g], raws[top]) > 0)
				top = g;
		for (size_t g = 0; g < p->ngroups && no == SIZE_MAX; g++) {
			no = refuser(f, p, ri, raws, raws[g]);
			from = g;
		}
		if (no != SIZE_MAX) {
			err = add_conflict(b, CF_CONFLICT_NO_COMMON,
					   p->arch->catalog->regs[ri].key, fi, &c);
			if (err != CF_OK)
				return err;
			cf_field_value_text(f, raws[from], v1, sizeof(v1));
			cf_field_value_text(f, raws[no], v2, sizeof(v2));
			snprintf(c->reason, sizeof(c->reason),
				 "a guest on %s carries its %s whatever the "
				 "profile says (KVM checks a write here and keeps "
				 "nothing), and %s (offering %s) refuses it",
				 ghost(b, from), v1, ghost(b, no), v2);
			fixed_g = top;
			goto record;
		}
	}
	/* Fixed values that differ may still name the same thing (a PMU
	 * version of 0xf is written as 0): one every host takes goes. */
	for (size_t g = 0; bad_g != SIZE_MAX && g < p->ngroups; g++) {
		const struct cf_config *cfg = p->groups[g].cfg;
		if (cfg->present[ri] && (cf_config_writable(cfg, ri) & m) != m &&
		    refuser(f, p, ri, raws, raws[g]) == SIZE_MAX) {
			*out = raws[g];
			return CF_OK;
		}
	}
	if (bad_g != SIZE_MAX) {
		err = add_conflict(b, CF_CONFLICT_NOT_WRITABLE,
				   p->arch->catalog->regs[ri].key, fi, &c);
		if (err != CF_OK)
			return err;
		wcap_note(b, ri, fixed_g, bad_g, note, sizeof(note));
		cf_field_value_text(f, raws[fixed_g], v1, sizeof(v1));
		cf_field_value_text(f, raws[bad_g], v2, sizeof(v2));
		/* A long text is cut short, never refused. */
		if (snprintf(c->reason, sizeof(c->reason),
			     "differs between hosts and is not writable on %s "
			     "(%s) nor on %s (%s)%s", ghost(b, fixed_g), v1,
			     ghost(b, bad_g), v2, note) < 0)
			c->reason[0] = '\0';
		goto record;
	}
	if (p->arch->catalog->regs[ri].flags & CF_REG_IDENTITY) {
		/* The whole identity of one member, never a mix. */
		const struct cf_config *dc = p->groups[b->donor].cfg;
		cand = raws[b->donor];
		fixed_g = dc->present[ri] &&
			  (cf_config_writable(dc, ri) & m) != m ? b->donor : SIZE_MAX;
	} else if (fixed_g != SIZE_MAX) {
		cand = raws[fixed_g];
	} else {
		cand = raws[0];
		for (size_t g = 1; g < p->ngroups; g++)
			cand = combine(f, cand, raws[g]);
		/* A floor can leave the combined value unacceptable to some
		 * host; then the richest lower value all accept, if any (0
		 * passes a "non-zero" floor). */
		if (refuser(f, p, ri, raws, cand) != SIZE_MAX &&
		    (f->policy == CF_POL_LOWER ||
		     f->policy == CF_POL_LOWER_IMPDEF) &&
		    !f->is_signed && f->width <= 8) {
			for (uint64_t v = cand; v-- > 0;) {
				if (refuser(f, p, ri, raws, v) == SIZE_MAX) {
					*out = v;
					return CF_OK;
				}
			}
		}
	}
	size_t no = refuser(f, p, ri, raws, cand);
	if (no != SIZE_MAX) {
		err = add_conflict(b, CF_CONFLICT_NO_COMMON,
				   p->arch->catalog->regs[ri].key, fi, &c);
		if (err != CF_OK)
			return err;
		wcap_note(b, ri, fixed_g, no, note, sizeof(note));
		cf_field_value_text(f, cand, v1, sizeof(v1));
		cf_field_value_text(f, raws[no], v2, sizeof(v2));
		if (fixed_g != SIZE_MAX) {
			if (snprintf(c->reason, sizeof(c->reason),
				     "not writable on %s, which offers %s, and "
				     "%s (offering %s) cannot be set to that%s",
				     ghost(b, fixed_g), v1, ghost(b, no), v2,
				     note) < 0)
				c->reason[0] = '\0';
		} else
			snprintf(c->reason, sizeof(c->reason),
				 "no value every host accepts: %s cannot be set "
				 "to %s (offers %s)", ghost(b, no), v1, v2);
		if (fixed_g == SIZE_MAX)
			fixed_g = 0;
		goto record;
	}
	*out = cand;
	return CF_OK;
record:
	for (size_t g = 0; g < p->ngroups; g++) {
		c->gval[g] = raws[g];
		c->gpresent[g] = 1;
	}
	field_features(f, p, raws, c->feature, sizeof(c->feature));
	*out = raws[fixed_g];
	return CF_OK;
}

static enum cf_err missing(struct bctx *b, uint64_t key, size_t absent_g,
			   const uint8_t *present, const uint64_t *vals)
{
	struct cf_conflict *c;
	enum cf_err err = add_conflict(b, CF_CONFLICT_MISSING, key,
				       CF_CONFLICT_PRESENT, &c);

	if (err != CF_OK)
		return err;
	for (size_t g = 0; g < b->pool->ngroups; g++) {
		c->gpresent[g] = present[g];
		c->gval[g] = vals[g];
	}
	snprintf(c->reason, sizeof(c->reason),
		 "reported by some hosts but not by %s", ghost(b, absent_g));
	return CF_OK;
}

static enum cf_err undescribed(struct bctx *b, uint64_t key, uint64_t mask,
			       const uint64_t *vals, size_t g_diff)
{
	struct cf_conflict *c;
	enum cf_err err = add_conflict(b, CF_CONFLICT_UNDESCRIBED, key,
				       CF_CONFLICT_REG, &c);

	if (err != CF_OK)
		return err;
	for (size_t g = 0; g < b->pool->ngroups; g++) {
		c->gval[g] = vals[g];
		c->gpresent[g] = 1;
	}
	snprintf(c->reason, sizeof(c->reason),
		 "bits 0x%llx outside described fields differ between %s and %s",
		 (unsigned long long)mask, ghost(b, 0), ghost(b, g_diff));
	return CF_OK;
}

static enum cf_err do_catalog_reg(struct bctx *b, size_t ri, uint64_t *raws,
				  uint8_t *present, uint64_t *vals)
{
	const struct cf_pool *p = b->pool;
	const struct cf_reg *reg = &p->arch->catalog->regs[ri];
	uint64_t und = ~cf_reg_described(reg), v = 0;
	size_t npresent = 0, absent_g = 0, g_diff = 0;
	enum cf_err err;

	for (size_t g = 0; g < p->ngroups; g++) {
		present[g] = p->groups[g].cfg->present[ri];
		vals[g] = present[g] ? p->groups[g].cfg->val[ri] : 0;
		if (present[g])
			npresent++;
		else
			absent_g = g;
	}
	if (npresent == 0)
		return CF_OK;
	if (npresent < p->ngroups && !p->arch->absent_is_zero)
		return missing(b, reg->key, absent_g, present, vals);
	for (size_t g = 1; g < p->ngroups; g++)
		if ((vals[g] ^ vals[0]) & und)
			g_diff = g;
	if (g_diff) {
		err = undescribed(b, reg->key, und, vals, g_diff);
		if (err != CF_OK)
			return err;
	}
	v = vals[0] & und;
	for (int fi = 0; fi < reg->nfields; fi++) {
		const struct cf_field *f = &reg->fields[fi];
		uint64_t fv;
		err = do_field(b, ri, fi, &fv, raws);
		if (err != CF_OK)
			return err;
		v |= (fv << f->shift) & cf_field_mask(f);
	}
	return cf_config_set(b->pr->cfg, reg->key, v);
}

/* Registers the catalogue does not know: equal everywhere or a conflict. */
static enum cf_err do_extras(struct bctx *b, uint8_t *present, uint64_t *vals)
{
	const struct cf_pool *p = b->pool;
	enum cf_err err;

	/* Every key that any group has; walk each group's sorted list. */
	for (size_t g0 = 0; g0 < p->ngroups; g0++) {
		const struct cf_config *cg = p->groups[g0].cfg;
		for (size_t x = 0; x < cg->nextra; x++) {
			uint64_t key = cg->extra[x].key;
			size_t npresent = 0, absent_g = 0, g_diff = 0;
			bool seen = false;
			for (size_t g = 0; g < g0 && !seen; g++)
				seen = cf_config_get(p->groups[g].cfg, key, NULL,
						     NULL);
			if (seen)
				continue;
			for (size_t g = 0; g < p->ngroups; g++) {
				present[g] = cf_config_get(p->groups[g].cfg, key,
							   &vals[g], NULL);
				if (present[g])
					npresent++;
				else
					absent_g = g;
			}
			if (npresent < p->ngroups && !p->arch->absent_is_zero) {
				err = missing(b, key, absent_g, present, vals);
				if (err != CF_OK)
					return err;
				continue;
			}
			for (size_t g = 0; g < p->ngroups; g++) {
				if (!present[g])
					vals[g] = 0;
				if (vals[g] != vals[0])
					g_diff = g;
			}
			/* Registers no catalogue describes: equal everywhere,
			 * or, where absent means zero, left out (0). */
			if (g_diff && p->arch->absent_is_zero)
				err = cf_config_set(b->pr->cfg, key, 0);
			else if (g_diff)
				err = undescribed(b, key, ~0ULL, vals, g_diff);
			else
				err = cf_config_set(b->pr->cfg, key, vals[0]);
			if (err != CF_OK)
				return err;
		}
	}
	return CF_OK;
}

/* A register describing a feature the baseline leaves out is cleared: the
 * guest reads 0 there, as from a CPU without the feature. */
static enum cf_err clear_gated(struct cf_config *c)
{
	const struct cf_gates *gs = c->arch->gates;
	enum cf_err err = CF_OK;

	for (size_t i = 0; gs && i < gs->n && err == CF_OK; i++) {
		uint64_t key = gs->g[i].key, v;
		if ((i > 0 && gs->g[i - 1].key == key) ||
		    !cf_config_get(c, key, &v, NULL) || v == 0 ||
		    !cf_arch_gate_closed(c->arch, c, key))
			continue;
		err = cf_config_set(c, key, 0);
	}
	return err;
}

/* ---- features whose prerequisite the baseline lost ---- */

/* Did the baseline already drop something of register KEY, field FIELD
 * (either -1: any of the register)? */
static bool was_dropped(const struct cf_profile *pr, uint64_t key, int field)
{
	for (size_t i = 0; i < pr->ndrop; i++)
		if (pr->drop[i].key == key &&
		    (pr->drop[i].field == field || pr->drop[i].field < 0 ||
		     field < 0))
			return true;
	return false;
}

/* The host G's raw value of field F of catalogue register RI (0 where it
 * lacks the register), and whether it can change it. */
static uint64_t host_raw(const struct cf_pool *p, size_t g, size_t ri,
			 const struct cf_field *f, bool *writable)
{
	const struct cf_config *cfg = p->groups[g].cfg;
	uint64_t m = cf_field_mask(f);

	*writable = !cfg->present[ri] || (cfg->wr[ri] & m) == m;
	return cfg->present[ri] ? cf_field_raw(f, cfg->val[ri]) : 0;
}

/* Every host must take the lowered register value V of catalogue register
 * RI; each field some host cannot take it in is a conflict (a KVM that
 * does not let userspace hide the feature). */
static enum cf_err drop_taken(struct bctx *b, size_t ri, uint64_t v,
			      const struct cf_dropped *d)
{
	const struct cf_reg *reg = &b->pool->arch->catalog->regs[ri];
	struct cf_conflict *c;
	enum cf_err err;

	for (int fi = 0; fi < reg->nfields; fi++) {
		const struct cf_field *f = &reg->fields[fi];
		uint64_t want = cf_field_raw(f, v);
		size_t no = SIZE_MAX;
		bool wr;
		if ((d->field >= 0 && d->field != fi) ||
		    (d->field < 0 && !((d->from ^ d->to) & cf_field_mask(f))))
			continue;
		for (size_t g = 0; g < b->pool->ngroups && no == SIZE_MAX; g++) {
			uint64_t lim = host_raw(b->pool, g, ri, f, &wr);
			if (!cf_field_accepts(f, lim, wr, want))
				no = g;
		}
		if (no == SIZE_MAX)
			continue;
		err = add_conflict(b, CF_CONFLICT_NO_COMMON, reg->key, fi, &c);
		if (err != CF_OK)
			return err;
		for (size_t g = 0; g < b->pool->ngroups; g++) {
			c->gval[g] = host_raw(b->pool, g, ri, f, &wr);
			c->gpresent[g] = 1;
		}
		cf_field_features_between(f, want, cf_field_raw(f, d->from),
					  c->feature, sizeof(c->feature));
		/* A long text is cut short, never refused. */
		if (snprintf(c->reason, sizeof(c->reason), "%s must go (it needs "
			     "%s), and %s cannot hide it: not writable there "
			     "(offers 0x%llx)", d->feature, d->needs, ghost(b, no),
			     (unsigned long long)c->gval[no]) < 0)
			c->reason[0] = '\0';
	}
	return CF_OK;
}

/* An XSAVE component's layout, the AMX geometry: a register that
 * describes what its gates enable, with a field the hosts must share
 * (exact0: identical, else 0).  When they differ the baseline has 0 there,
 * so the features the register describes go with it. */
static enum cf_err unshared_layouts(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	const struct cf_catalog *cat = p->arch->catalog;
	const struct cf_gates *gs = p->arch->gates;
	struct cf_profile *pr = b->pr;
	enum cf_err err = CF_OK;

	for (size_t i = 0; gs && i < gs->n && err == CF_OK; i++) {
		int ri = cf_catalog_find_key(cat, gs->g[i].key), gri;
		const struct cf_reg *reg;
		const struct cf_field *f = NULL;
		size_t g1 = 0;
		uint64_t pv = 0, gv = 0;
		if (ri < 0)
			continue;
		reg = &cat->regs[ri];
		cf_config_get(pr->cfg, reg->key, &pv, NULL);
		for (int fi = 0; fi < reg->nfields && !f; fi++) {
			const struct cf_field *e = &reg->fields[fi];
			bool wr;
			if (e->policy != CF_POL_EXACT ||
			    cf_field_raw(e, pv) != e->safe)
				continue;
			for (size_t g = 1; g < p->ngroups && !f; g++)
				if (host_raw(p, g, ri, e, &wr) !=
				    host_raw(p, 0, ri, e, &wr)) {
					f = e;
					g1 = g;
				}
		}
		gri = cf_catalog_find_key(cat, gs->g[i].gate_key);
		if (!f || gri < 0 ||
		    !cf_config_get(pr->cfg, gs->g[i].gate_key, &gv, NULL) ||
		    !((gv >> gs->g[i].gate_bit) & 1))
			continue;
		{
			struct cf_dropped d = { .key = gs->g[i].gate_key, .field = -1,
						.from = gv };
			bool wr;
			char name[48];
			for (int fi = 0; fi < cat->regs[gri].nfields; fi++)
				if (cat->regs[gri].fields[fi].shift ==
				    gs->g[i].gate_bit)
					d.field = fi;
			d.to = gv & ~(1ULL << gs->g[i].gate_bit);
			if (d.field >= 0) {
				d.from = 1;
				d.to = 0;
			}
			snprintf(name, sizeof(name), "%s.%s", reg->name, f->name);
			snprintf(d.feature, sizeof(d.feature), "%s", gs->g[i].gate);
			snprintf(d.needs, sizeof(d.needs), "%s alike on every host",
				 name);
			snprintf(d.reason, sizeof(d.reason), "dropped %s: %s, which "
				 "describes it, differs between hosts (%s 0x%llx, "
				 "%s 0x%llx), so the baseline zeroes it",
				 d.feature, name, ghost(b, 0),
				 (unsigned long long)host_raw(p, 0, ri, f, &wr),
				 ghost(b, g1),
				 (unsigned long long)host_raw(p, g1, ri, f, &wr));
			err = cf_config_set(pr->cfg, gs->g[i].gate_key, gv &
					    ~(1ULL << gs->g[i].gate_bit));
			if (err == CF_OK)
				err = cf_profile_add_dropped(pr, &d);
			if (err == CF_OK)
				err = drop_taken(b, (size_t)gri, gv &
						 ~(1ULL << gs->g[i].gate_bit), &d);
		}
	}
	return err;
}

/* Closes the profile under the architecture's dependency table, and says
 * of each feature it left out what it needs and why the pool lacks it. */
/* A member whose KVM refuses the combined values by a rule of its own
 * (the catalogue's `refuse`; a member's kernel is not known here, so
 * every such rule counts): a conflict on the register. */
static enum cf_err kvm_rules(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	const struct cf_refusals *rs = p->arch->refusals;
	struct cf_conflict *c;
	enum cf_err err;

	for (size_t i = 0; rs && i < rs->n; i++)
		for (size_t g = 0; g < p->ngroups; g++) {
			const struct cf_refuse_term *t = &rs->r[i].want[0];
			int ri = cf_catalog_find_key(p->arch->catalog, t->key);
			if (!cf_check_refused(&rs->r[i], b->pr->cfg,
					      p->groups[g].cfg, 0))
				continue;
			err = add_conflict(b, CF_CONFLICT_KVM_RULE, t->key,
					   t->field, &c);
			if (err != CF_OK)
				return err;
			for (size_t k = 0; k < p->ngroups; k++)
				c->gpresent[k] = cf_config_get(p->groups[k].cfg,
							      t->key, &c->gval[k],
							      NULL);
			for (size_t k = 0; k < p->ngroups; k++)
				c->gval[k] = cf_field_raw(&p->arch->catalog->regs[ri]
							   .fields[t->field],
							  c->gval[k]);
			snprintf(c->reason, sizeof(c->reason), "%s refuses the "
				 "combined value: %s", ghost(b, g), rs->r[i].text);
			break;
		}
	return CF_OK;
}

static enum cf_err close_deps(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	const struct cf_arch_ops *a = p->arch;
	struct cf_profile *pr = b->pr;
	struct cf_dep_drop *dd = NULL;
	size_t n = 0;
	enum cf_err err = cf_deps_close(pr->cfg, &dd, &n);

	for (size_t i = 0; i < n && err == CF_OK; i++) {
		const struct cf_dep *dep = dd[i].dep;
		const struct cf_dep_term *ft = &dep->feature;
		struct cf_dropped d = { .key = ft->key, .field = ft->field,
					.from = dd[i].from, .to = dd[i].to };
		char need[CF_TEXT_MAX], which[CF_TEXT_MAX + CF_HOST_ID_MAX];
		size_t lack = SIZE_MAX;
		int ri = cf_catalog_find_key(a->catalog, ft->key);
		bool gone = false;
		uint64_t v = 0;
		cf_dep_lost_name(a, ft, d.from, d.to, d.feature, sizeof(d.feature));
		cf_dep_needs_text(a, dep, dd[i].need, d.needs, sizeof(d.needs));
		/* Alternatives: a host lacks them all. */
		cf_dep_need_name(a, dep, dd[i].need, " and ", need, sizeof(need));
		for (size_t g = 0; g < p->ngroups && lack == SIZE_MAX; g++)
			if (!cf_dep_need_offered(p->groups[g].cfg, dep,
						 dd[i].need))
				lack = g;
		for (int k = dd[i].need; k < dep->nneeds && !gone &&
		     k <= dd[i].need + dep->needs[dd[i].need].alts; k++)
			gone = was_dropped(pr, dep->needs[k].key,
					   dep->needs[k].field);
		if (gone)
			snprintf(which, sizeof(which), "which is dropped too");
		else if (lack != SIZE_MAX)
			snprintf(which, sizeof(which), "which not every host "
				 "offers (%s lacks %s)", ghost(b, lack), need);
		else
			snprintf(which, sizeof(which), "which every host offers "
				 "but not alike, so the baseline leaves %s out",
				 need);
		if (snprintf(d.reason, sizeof(d.reason), "dropped %s: needs %s, %s",
			     d.feature, d.needs, which) < 0)
			d.reason[0] = '\0';
		err = cf_profile_add_dropped(pr, &d);
		if (err == CF_OK && ri >= 0 &&
		    cf_config_get(pr->cfg, ft->key, &v, NULL))
			err = drop_taken(b, (size_t)ri, v, &d);
	}
	free(dd);
	return err;
}

/* Does register KEY describe a feature profile C leaves out, every gate
 * of it a register the baseline has already combined (one of lower key)? */
static bool gated_off(const struct cf_config *c, uint64_t key)
{
	const struct cf_gates *gs = c->arch->gates;

	for (size_t i = 0; gs && i < gs->n; i++)
		if (gs->g[i].key == key && gs->g[i].gate_key >= key)
			return false;
	return cf_arch_gate_closed(c->arch, c, key);
}

/* Register RI at 0 in the profile, where some host has it. */
static enum cf_err gated_zero(struct bctx *b, size_t ri)
{
	for (size_t g = 0; g < b->pool->ngroups; g++)
		if (b->pool->groups[g].cfg->present[ri])
			return cf_config_set(b->pr->cfg,
					     b->pool->arch->catalog->regs[ri].key, 0);
	return CF_OK;
}

/* One conflict, up front, when the hosts' CPU vendors differ. */
static enum cf_err vendors(struct bctx *b)
{
	const struct cf_pool *p = b->pool;
	char v0[32], vg[32];
	struct cf_conflict *c;
	enum cf_err err;

	if (!p->arch->vendor || !p->arch->vendor(p->groups[0].cfg, v0, sizeof(v0)))
		return CF_OK;
	for (size_t g = 1; g < p->ngroups; g++) {
		if (!p->arch->vendor(p->groups[g].cfg, vg, sizeof(vg)) ||
		    !strcmp(v0, vg))
			continue;
		err = add_conflict(b, CF_CONFLICT_VENDOR, 0, CF_CONFLICT_REG, &c);
		if (err != CF_OK)
			return err;
		snprintf(c->reason, sizeof(c->reason), "hosts of different "
			 "vendors never share a pool: %s is %s, %s is %s",
			 ghost(b, 0), v0, ghost(b, g), vg);
		return CF_OK;
	}
	return CF_OK;
}

enum cf_err cf_baseline(const struct cf_pool *p, struct cf_profile **out)
{
	struct bctx b = { .pool = p };
	struct cf_profile *pr = NULL;
	uint64_t *raws = NULL, *vals = NULL;
	uint8_t *present = NULL;
	enum cf_err err;

	*out = NULL;
	if (p->ngroups == 0)
		return CF_EEMPTY;
	err = cf_profile_alloc(p->arch, &pr);
	if (err != CF_OK)
		return err;
	b.pr = pr;
	raws = malloc(p->ngroups * sizeof(*raws));
	vals = malloc(p->ngroups * sizeof(*vals));
	present = malloc(p->ngroups);
	if (!raws || !vals || !present) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	err = cf_hostset_copy(&pr->hosts, &p->hosts);
	if (err != CF_OK)
		goto cleanup;
	pr->ngroups = p->ngroups;
	err = vendors(&b);
	if (err == CF_OK)
		err = choose_donor(&b);
	if (err == CF_OK)
		err = implementations(&b);
	if (err != CF_OK)
		goto cleanup;
	for (size_t ri = 0; ri < p->arch->catalog->nregs; ri++) {
		/* A register describing a feature the profile already left
		 * out reads 0: its hosts need not agree on it. */
		if (gated_off(pr->cfg, p->arch->catalog->regs[ri].key))
			err = gated_zero(&b, ri);
		else
			err = do_catalog_reg(&b, ri, raws, present, vals);
		if (err != CF_OK)
			goto cleanup;
	}
	err = do_extras(&b, present, vals);
	if (err == CF_OK && p->arch->finish)
		err = p->arch->finish(pr->cfg);
	if (err == CF_OK)
		err = unshared_layouts(&b);
	if (err == CF_OK)
		err = close_deps(&b);
	if (err == CF_OK)
		err = clear_gated(pr->cfg);
	if (err == CF_OK)
		err = kvm_rules(&b);
	if (err != CF_OK)
		goto cleanup;
	cf_config_seal(pr->cfg);
	*out = pr;
	pr = NULL;
cleanup:
	cf_profile_destroy(pr);
	free(raws);
	free(vals);
	free(present);
	return err;
}

/* Capabilities a profile's VMs enable (arch/caps/caps.txt role "guest"):
 * kept apart from the pool's common set in PR->cfg, and judged. */
enum cf_err cf_profile_enable_cap(struct cf_profile *pr, const struct cf_pool *p,
				  const char *name, uint64_t value,
				  struct cf_diag *d)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	int ri = cf_catalog_find_name(cat, name);
	const struct cf_reg *reg;
	const struct cf_field *f;
	struct bctx b = { .pool = p, .pr = pr, .cap = pr->nconf };
	struct cf_conflict *c = NULL;
	enum cf_err err;

	if (ri < 0 || cat->regs[ri].pseudo != 2)
		return cf_diag_set(d, CF_EINVAL, "not a KVM capability of %s "
				   "(arch/caps/caps.txt)", pr->arch->name);
	reg = &cat->regs[ri];
	f = &reg->fields[0];
	if (reg->role != CF_ROLE_GUEST)
		return cf_diag_set(d, CF_EINVAL, "a %s, not a capability a VM "
				   "enables%s", cf_role_name(reg->role),
				   reg->role == CF_ROLE_CAPACITY ? " (check "
				   "--vcpus judges a VM's vCPU count)" : "");
	if (value == 0)
		return cf_diag_set(d, CF_EINVAL, "expected a positive integer "
				   "(1 for a capability that is on or off)");
	if (p && p->arch != pr->arch)
		return cf_diag_set(d, CF_EARCH, "the pool is %s, the profile %s",
				   p->arch->name, pr->arch->name);
	if (!pr->enabled) {
		err = cf_config_create(pr->arch, &pr->enabled);
		if (err != CF_OK)
			return err;
	}
	err = cf_config_set_fixed(pr->enabled, reg->key, value);
	if (err != CF_OK)
		return err;
	cf_config_get(pr->enabled, reg->key, &value, NULL);
	for (size_t g = 0; p && g < p->ngroups; g++) {
		const struct cf_config *cfg = p->groups[g].cfg;
		bool have = cfg->present[ri] || p->arch->absent_is_zero;
		uint64_t hv = cfg->present[ri] ? cfg->val[ri] : 0;
		if (have && cf_field_accepts(f, hv, true, value))
			continue;
		if (!c) {
			err = add_conflict(&b, CF_CONFLICT_NO_COMMON, reg->key, 0,
					   &c);
			if (err != CF_OK)
				return err;
			if (!have)
				snprintf(c->reason, sizeof(c->reason), "the "
					 "profile's VMs enable it, and %s does "
					 "not report it", ghost(&b, g));
			else
				snprintf(c->reason, sizeof(c->reason), "the "
					 "profile's VMs enable it, and %s lacks "
					 "it (offers %s%llx)", ghost(&b, g),
					 hv < 10 ? "" : "0x",
					 (unsigned long long)hv);
		}
	}
	for (size_t g = 0; c && g < p->ngroups; g++) {
		const struct cf_config *cfg = p->groups[g].cfg;
		c->gpresent[g] = cfg->present[ri] || p->arch->absent_is_zero;
		c->gval[g] = cfg->present[ri] ? cfg->val[ri] : 0;
	}
	return CF_OK;
}
