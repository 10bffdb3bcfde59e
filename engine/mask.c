/* Manual masks on a profile: a feature taken away (`baseline --disable`),
 * a named level not to go beyond (`--max-level`), and whether a host or a
 * profile shows a feature (`--require`).  Features are the catalogue's
 * names (the values of arch/arm64/idregs.txt, the flags of
 * arch/x86/cpuid.txt), matched as users write them: case ignored, FEAT_
 * optional; levels are those of arch/arm64/levels.txt and the psABI's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/catalog.h"
#include "engine/deps.h"
#include "engine/mask.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "util/diag.h"

/* Whether the catalogue name CAT is what the user wrote as USER (LEN
 * bytes): case ignored, its FEAT_ prefix optional. */
static bool same_name(const char *user, size_t len, const char *cat)
{
	if (strlen(cat) == len && !strncasecmp(user, cat, len))
		return true;
	return !strncmp(cat, "FEAT_", 5) && strlen(cat + 5) == len &&
	       !strncasecmp(user, cat + 5, len);
}

/* Whether the comma-separated LIST names FEAT; its spelling there into
 * CANON (CF_TEXT_MAX bytes) if not NULL. */
static bool names(const char *list, const char *feat, char *canon)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		char item[CF_TEXT_MAX];
		if (n < sizeof(item)) {
			memcpy(item, p, n);
			item[n] = '\0';
			if (same_name(feat, strlen(feat), item)) {
				if (canon)
					snprintf(canon, CF_TEXT_MAX, "%s", item);
				return true;
			}
		}
		p += n + (p[n] == ',');
	}
	return false;
}

/* The lowest value of field F (in the field's order) that names FEAT; false
 * if none does. */
static bool lowest_naming(const struct cf_field *f, const char *feat,
			  uint64_t *lo, char *canon)
{
	bool found = false;

	for (int i = 0; i < f->nvalues; i++)
		if (names(f->values[i].features, feat, canon) &&
		    (!found || cf_field_cmp(f, f->values[i].value, *lo) < 0)) {
			*lo = f->values[i].value;
			found = true;
		}
	return found;
}

static bool known(const struct cf_catalog *cat, const char *feat, char *canon)
{
	uint64_t lo;

	for (size_t r = 0; r < cat->nregs; r++)
		for (int f = 0; f < cat->regs[r].nfields; f++)
			if (lowest_naming(&cat->regs[r].fields[f], feat, &lo,
					  canon))
				return true;
	return false;
}

bool cf_mask_shows(const struct cf_config *c, const char *feat)
{
	const struct cf_catalog *cat = c->arch->catalog;
	char buf[CF_TEXT_MAX * 4];

	for (size_t r = 0; r < cat->nregs; r++) {
		uint64_t v;
		if (!cf_config_get(c, cat->regs[r].key, &v, NULL))
			continue;
		for (int f = 0; f < cat->regs[r].nfields; f++) {
			const struct cf_field *fd = &cat->regs[r].fields[f];
			if (cf_field_features_at(fd, cf_field_raw(fd, v), buf,
						 sizeof(buf)) &&
			    names(buf, feat, NULL))
				return true;
		}
	}
	return false;
}

static enum cf_err shows_in(const struct cf_config *c, const char *feat,
			    bool *out, struct cf_diag *d)
{
	char canon[CF_TEXT_MAX];

	*out = false;
	if (!known(c->arch->catalog, feat, canon))
		return cf_diag_set(d, CF_ENOTFOUND, "%s: no %s feature of that "
				   "name (names as `cpufleet show` prints them)",
				   feat, c->arch->name);
	*out = cf_mask_shows(c, feat);
	return CF_OK;
}

enum cf_err cf_report_shows(const struct cf_report *r, const char *feature,
			    bool *out, struct cf_diag *d)
{
	return shows_in(r->cfg, feature, out, d);
}

enum cf_err cf_profile_shows(const struct cf_profile *pr, const char *feature,
			     bool *out, struct cf_diag *d)
{
	return shows_in(pr->cfg, feature, out, d);
}

/* The richest value of F below LO, the lowest value naming the feature:
 * what the field becomes without it.  False if there is none (an
 * unsigned 0, or an exact field whose safe value is not below). */
static bool below(const struct cf_field *f, uint64_t lo, uint64_t *out)
{
	uint64_t all = f->width < 64 ? (1ULL << f->width) - 1 : ~0ULL;

	switch (f->policy) {
	case CF_POL_LOWER:
	case CF_POL_LOWER_IMPDEF:
		if (f->is_signed) {
			/* 0 -> all ones (-1: not implemented); the most
			 * negative value has nothing below it. */
			if (f->width < 64 && lo == 1ULL << (f->width - 1))
				return false;
			*out = (lo - 1) & all;
			return true;
		}
		if (lo == 0)
			return false;
		*out = lo - 1;
		return true;
	case CF_POL_EXACT:
		/* KVM takes the host's value or the safe one. */
		*out = f->safe;
		return cf_field_cmp(f, f->safe, lo) < 0;
	default:
		return false;
	}
}

/* Lowers in C every field whose value shows FEAT to the richest value that
 * does not.  *FOUND: some field names it. */
static enum cf_err take_away(struct cf_config *c, const char *feat,
			     bool *found, struct cf_diag *d)
{
	const struct cf_catalog *cat = c->arch->catalog;

	for (size_t r = 0; r < cat->nregs; r++) {
		const struct cf_reg *reg = &cat->regs[r];
		uint64_t v;
		bool have = cf_config_get(c, reg->key, &v, NULL);
		for (int f = 0; f < reg->nfields; f++) {
			const struct cf_field *fd = &reg->fields[f];
			uint64_t lo, to;
			char canon[CF_TEXT_MAX];
			if (!lowest_naming(fd, feat, &lo, canon))
				continue;
			*found = true;
			if (!below(fd, lo, &to))
				return cf_diag_set(d, CF_EINVAL, "%s: %s.%s cannot "
						   "be lowered below it: a "
						   "profile cannot leave it out",
						   canon, reg->name, fd->name);
			if (!have || cf_field_cmp(fd, cf_field_raw(fd, v), lo) < 0)
				continue;
			v = (v & ~cf_field_mask(fd)) | (to << fd->shift);
			if (cf_config_set(c, reg->key, v) != CF_OK)
				return cf_diag_set(d, CF_ENOMEM, "out of memory");
		}
	}
	return CF_OK;
}

struct masking {
	struct cf_config *c;
	struct cf_diag *d;
};

static enum cf_err take_away_fn(void *ctx, const char *feat)
{
	struct masking *m = ctx;
	bool found = false;

	return take_away(m->c, feat, &found, m->d);
}

/* Records what closing C under the catalogue's `needs` rules lowered. */
static enum cf_err close_deps(struct cf_profile *pr, struct cf_config *c,
			      const char *why)
{
	struct cf_dep_drop *dd = NULL;
	size_t n = 0;
	enum cf_err err;

	if (!c->arch->deps)
		return CF_OK;
	err = cf_deps_close(c, &dd, &n);
	for (size_t i = 0; i < n && err == CF_OK; i++) {
		const struct cf_dep_term *ft = &dd[i].dep->feature;
		struct cf_dropped x = { .key = ft->key, .field = ft->field,
					.from = dd[i].from, .to = dd[i].to };
		cf_dep_lost_name(c->arch, ft, x.from, x.to, x.feature,
				 sizeof(x.feature));
		cf_dep_needs_text(c->arch, dd[i].dep, dd[i].need, x.needs,
				  sizeof(x.needs));
		if (snprintf(x.reason, sizeof(x.reason), "dropped %s: needs "
			     "%s, which %s took away", x.feature, x.needs,
			     why) < 0)
			x.reason[0] = '\0';
		err = cf_profile_add_dropped(pr, &x);
	}
	free(dd);
	return err;
}

/* Runs FN on a private copy of PR's values and, if it succeeds, makes the
 * copy (closed under `needs`) PR's. */
static enum cf_err masked(struct cf_profile *pr, const char *why,
			  enum cf_err (*fn)(struct cf_config *c, const void *arg,
					    struct cf_diag *d),
			  const void *arg, struct cf_diag *d)
{
	struct cf_config *c = NULL;
	enum cf_err err = cf_config_clone(pr->cfg, &c);

	if (err != CF_OK)
		return cf_diag_set(d, err, "out of memory");
	err = fn(c, arg, d);
	if (err == CF_OK)
		err = close_deps(pr, c, why);
	if (err != CF_OK) {
		cf_config_unref(c);
		return d->msg[0] ? err : cf_diag_set(d, err, "%s",
						     cf_strerror(err));
	}
	cf_config_seal(c);
	cf_config_unref(pr->cfg);
	pr->cfg = c;
	return CF_OK;
}

static enum cf_err disable_fn(struct cf_config *c, const void *arg,
			      struct cf_diag *d)
{
	const char *feat = arg;
	bool found = false;
	enum cf_err err = take_away(c, feat, &found, d);

	if (err == CF_OK && !found)
		err = cf_diag_set(d, CF_ENOTFOUND, "%s: no %s feature of that "
				  "name (names as `cpufleet show` prints them)",
				  feat, c->arch->name);
	return err;
}

enum cf_err cf_profile_disable(struct cf_profile *pr, const char *feature,
			       struct cf_diag *d)
{
	char why[CF_TEXT_MAX + 16];

	snprintf(why, sizeof(why), "--disable %s", feature);
	return masked(pr, why, disable_fn, feature, d);
}

static enum cf_err level_fn(struct cf_config *c, const void *arg,
			    struct cf_diag *d)
{
	const char *level = arg;
	struct masking m = { c, d };
	enum cf_err err = CF_OK;

	if (!c->arch->level_beyond)
		return cf_diag_set(d, CF_ENOTFOUND, "%s: %s has no named levels",
				   level, c->arch->name);
	if (!c->arch->level_beyond(level, take_away_fn, &m, &err))
		return cf_diag_set(d, CF_ENOTFOUND, "%s: no %s level of that "
				   "name (%s)", level, c->arch->name,
				   c->arch->level_range);
	return err;
}

enum cf_err cf_profile_max_level(struct cf_profile *pr, const char *level,
				 struct cf_diag *d)
{
	char why[CF_TEXT_MAX + 16];

	snprintf(why, sizeof(why), "--max-level %s", level);
	return masked(pr, why, level_fn, level, d);
}
