/* Migration both ways between two hosts: a guest started with host A's own
 * profile moving to B, and the reverse, plus the feature-level difference. */
#include <stdlib.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"

#define NAMES_MAX 256

struct cf_explain {
	struct cf_verdict *ab, *ba;
	char *only_a[NAMES_MAX], *only_b[NAMES_MAX];
	size_t na, nb;
};

void cf_explain_destroy(struct cf_explain *e)
{
	if (!e)
		return;
	cf_verdict_destroy(e->ab);
	cf_verdict_destroy(e->ba);
	for (size_t i = 0; i < e->na; i++)
		free(e->only_a[i]);
	for (size_t i = 0; i < e->nb; i++)
		free(e->only_b[i]);
	free(e);
}

/* Splits the comma-separated NAMES into LIST, skipping duplicates. */
static enum cf_err push_names(char **list, size_t *n, const char *names)
{
	const char *s = names;

	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		bool dup = false;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = strlen(list[i]) == len && !strncmp(list[i], s, len);
		if (!dup && len && *n < NAMES_MAX) {
			char *c = strndup(s, len);
			if (!c)
				return CF_ENOMEM;
			list[(*n)++] = c;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	return CF_OK;
}

/* Adds to LIST the names in HAVE that are not in OTHER. */
static enum cf_err push_missing(char **list, size_t *n, const char *have,
				const char *other)
{
	char one[CF_TEXT_MAX];
	const char *s = have;

	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *o = other;
		bool found = false;
		while (*o && !found) {
			const char *oe = strchr(o, ',');
			size_t ol = oe ? (size_t)(oe - o) : strlen(o);
			found = ol == len && !strncmp(o, s, len);
			o += ol;
			if (*o == ',')
				o++;
		}
		if (!found && len < sizeof(one)) {
			memcpy(one, s, len);
			one[len] = '\0';
			enum cf_err err = push_names(list, n, one);
			if (err != CF_OK)
				return err;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	return CF_OK;
}

static enum cf_err diff_features(struct cf_explain *e, const struct cf_config *a,
				 const struct cf_config *b)
{
	const struct cf_catalog *cat = a->arch->catalog;
	char fa[CF_TEXT_MAX], fb[CF_TEXT_MAX];
	enum cf_err err;

	for (size_t ri = 0; ri < cat->nregs; ri++) {
		const struct cf_reg *reg = &cat->regs[ri];
		if (!a->present[ri] || !b->present[ri] || a->val[ri] == b->val[ri])
			continue;
		/* Of the capabilities, only those a guest sees are features. */
		if (reg->pseudo == 2 && reg->role != CF_ROLE_GUEST)
			continue;
		for (int fi = 0; fi < reg->nfields; fi++) {
			const struct cf_field *f = &reg->fields[fi];
			uint64_t va = cf_field_raw(f, a->val[ri]);
			uint64_t vb = cf_field_raw(f, b->val[ri]);
			if (va == vb)
				continue;
			cf_field_features_at(f, va, fa, sizeof(fa));
			cf_field_features_at(f, vb, fb, sizeof(fb));
			err = push_missing(e->only_a, &e->na, fa, fb);
			if (err == CF_OK)
				err = push_missing(e->only_b, &e->nb, fb, fa);
			if (err != CF_OK)
				return err;
		}
	}
	return CF_OK;
}

/* An empty explanation: both verdicts, no features; *E is freed by
 * cf_explain_destroy, also on failure. */
static enum cf_err explain_new(struct cf_explain **e)
{
	*e = calloc(1, sizeof(**e));
	if (!*e)
		return CF_ENOMEM;
	(*e)->ab = cf_verdict_create();
	(*e)->ba = cf_verdict_create();
	return (*e)->ab && (*e)->ba ? CF_OK : CF_ENOMEM;
}

enum cf_err cf_explain_create(const struct cf_report *a,
			      const struct cf_report *b, struct cf_explain **out)
{
	struct cf_explain *e = NULL;
	struct cf_profile *pa = NULL, *pb = NULL;
	enum cf_err err;

	*out = NULL;
	if (a->cfg->arch != b->cfg->arch)
		return CF_EARCH;
	err = explain_new(&e);
	if (err != CF_OK)
		goto cleanup;
	err = cf_profile_from_report(a, &pa);
	if (err == CF_OK)
		err = cf_profile_from_report(b, &pb);
	if (err == CF_OK)
		err = cf_check(pa, b, e->ab);
	if (err == CF_OK)
		err = cf_check(pb, a, e->ba);
	if (err == CF_OK)
		err = diff_features(e, a->cfg, b->cfg);
	if (err == CF_OK) {
		*out = e;
		e = NULL;
	}
cleanup:
	cf_profile_destroy(pa);
	cf_profile_destroy(pb);
	cf_explain_destroy(e);
	return err;
}

enum cf_err cf_explain_profiles(const struct cf_profile *a,
				const struct cf_profile *b,
				struct cf_explain **out)
{
	struct cf_explain *e = NULL;
	enum cf_err err;

	*out = NULL;
	if (a->arch != b->arch)
		return CF_EARCH;
	err = explain_new(&e);
	if (err == CF_OK)
		err = diff_features(e, a->cfg, b->cfg);
	if (err == CF_OK)
		*out = e;
	else
		cf_explain_destroy(e);
	return err;
}

const struct cf_verdict *cf_explain_a_to_b(const struct cf_explain *e)
{
	return e->ab;
}

const struct cf_verdict *cf_explain_b_to_a(const struct cf_explain *e)
{
	return e->ba;
}

const char *cf_explain_only_in_a(const struct cf_explain *e, size_t i)
{
	return i < e->na ? e->only_a[i] : NULL;
}

const char *cf_explain_only_in_b(const struct cf_explain *e, size_t i)
{
	return i < e->nb ? e->only_b[i] : NULL;
}
