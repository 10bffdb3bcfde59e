#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"

enum cf_err cf_profile_alloc(const struct cf_arch_ops *arch,
			     struct cf_profile **out)
{
	struct cf_profile *pr = calloc(1, sizeof(*pr));
	enum cf_err err;

	*out = NULL;
	if (!pr)
		return CF_ENOMEM;
	pr->arch = arch;
	err = cf_config_create(arch, &pr->cfg);
	if (err != CF_OK) {
		free(pr);
		return err;
	}
	*out = pr;
	return CF_OK;
}

void cf_profile_destroy(struct cf_profile *pr)
{
	if (!pr)
		return;
	for (size_t i = 0; i < pr->nconf; i++) {
		free(pr->conf[i].gval);
		free(pr->conf[i].gpresent);
	}
	free(pr->conf);
	free(pr->doc_conflicts_json);
	for (size_t i = 0; pr->doc_conflict_text && i < pr->doc_conflicts; i++)
		free(pr->doc_conflict_text[i]);
	free(pr->doc_conflict_text);
	free(pr->impl);
	free(pr->drop);
	free(pr->doc_drops_json);
	for (size_t i = 0; pr->doc_drop_text && i < pr->doc_drops; i++)
		free(pr->doc_drop_text[i]);
	free(pr->doc_drop_text);
	cf_hostset_free(&pr->hosts);
	cf_config_unref(pr->cfg);
	cf_config_unref(pr->enabled);
	free(pr);
}

bool cf_profile_feasible(const struct cf_profile *pr)
{
	return pr->nconf == 0 && pr->doc_conflicts == 0;
}

size_t cf_profile_conflict_count(const struct cf_profile *pr)
{
	return pr->nconf ? pr->nconf : pr->doc_conflicts;
}

const char *cf_profile_arch(const struct cf_profile *pr)
{
	return pr->arch->name;
}

const struct cf_arch_ops *cf_profile_ops(const struct cf_profile *pr)
{
	return pr->arch;
}

const struct cf_config *cf_profile_config(const struct cf_profile *pr)
{
	return pr->cfg;
}

const struct cf_config *cf_profile_enabled(const struct cf_profile *pr)
{
	return pr->enabled;
}

const struct cf_conflict *cf_profile_conflict(const struct cf_profile *pr,
					      size_t i)
{
	return i < pr->nconf ? &pr->conf[i] : NULL;
}

const struct cf_dropped *cf_profile_drop(const struct cf_profile *pr, size_t i)
{
	return i < pr->ndrop ? &pr->drop[i] : NULL;
}

const struct cf_impl *cf_profile_impl(const struct cf_profile *pr, size_t i)
{
	return i < pr->nimpl ? &pr->impl[i] : NULL;
}

size_t cf_profile_host_group(const struct cf_profile *pr, size_t i)
{
	return i < pr->hosts.n ? pr->hosts.group[i] : 0;
}

size_t cf_profile_configurations(const struct cf_profile *pr)
{
	return pr->ngroups;
}

const char *cf_profile_listed(const struct cf_profile *pr,
			      enum cf_profile_list l, size_t *n)
{
	bool c = l == CF_PROFILE_CONFLICTS;

	if (n)
		*n = c ? pr->doc_conflicts : pr->doc_drops;
	return c ? pr->doc_conflicts_json : pr->doc_drops_json;
}

struct cf_config *cf_profile_values(struct cf_profile *pr)
{
	return pr->cfg;
}

enum cf_err cf_profile_add_host(struct cf_profile *pr, const char *id)
{
	return cf_hostset_add(&pr->hosts, id, 0, NULL);
}

void cf_profile_set_configurations(struct cf_profile *pr, size_t n)
{
	pr->ngroups = n;
}

static void free_texts(char **t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i]);
	free(t);
}

enum cf_err cf_profile_set_listed(struct cf_profile *pr, enum cf_profile_list l,
				  const char *json, const char *const *texts,
				  size_t n)
{
	bool c = l == CF_PROFILE_CONFLICTS;
	char *j = json ? strdup(json) : NULL;
	char **t = n ? calloc(n, sizeof(*t)) : NULL;

	if ((json && !j) || (n && !t)) {
		free(j);
		free(t);
		return CF_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (!(t[i] = strdup(texts[i]))) {
			free(j);
			free_texts(t, n);
			return CF_ENOMEM;
		}
	if (c) {
		free(pr->doc_conflicts_json);
		free_texts(pr->doc_conflict_text, pr->doc_conflicts);
		pr->doc_conflicts_json = j;
		pr->doc_conflict_text = t;
		pr->doc_conflicts = n;
	} else {
		free(pr->doc_drops_json);
		free_texts(pr->doc_drop_text, pr->doc_drops);
		pr->doc_drops_json = j;
		pr->doc_drop_text = t;
		pr->doc_drops = n;
	}
	return CF_OK;
}

bool cf_profile_vendor(const struct cf_profile *pr, char *buf, size_t len)
{
	return pr->arch->vendor && pr->arch->vendor(pr->cfg, buf, len);
}

size_t cf_impl_regs(const struct cf_catalog *cat, size_t ri[CF_IMPL_REGS])
{
	size_t n = 0;

	for (size_t i = 0; i < cat->nregs && n < CF_IMPL_REGS; i++)
		if (cat->regs[i].flags & CF_REG_IDENTITY)
			ri[n++] = i;
	return n;
}

void cf_impl_of(const struct cf_config *c, const size_t *ri, size_t n,
		struct cf_impl *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < n; k++) {
		out->present[k] = c->present[ri[k]];
		out->val[k] = c->present[ri[k]] ? c->val[ri[k]] : 0;
	}
}

int cf_impl_cmp(const struct cf_impl *a, const struct cf_impl *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (a->present[k] != b->present[k])
			return a->present[k] < b->present[k] ? -1 : 1;
		if (a->val[k] != b->val[k])
			return a->val[k] < b->val[k] ? -1 : 1;
	}
	return 0;
}

enum cf_err cf_profile_add_impl(struct cf_profile *pr, const struct cf_impl *im)
{
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(pr->arch->catalog, ri), at = 0;
	struct cf_impl *t;

	while (at < pr->nimpl && cf_impl_cmp(&pr->impl[at], im, n) < 0)
		at++;
	if (at < pr->nimpl && cf_impl_cmp(&pr->impl[at], im, n) == 0)
		return CF_OK;
	t = realloc(pr->impl, (pr->nimpl + 1) * sizeof(*t));
	if (!t)
		return CF_ENOMEM;
	pr->impl = t;
	memmove(&t[at + 1], &t[at], (pr->nimpl - at) * sizeof(*t));
	t[at] = *im;
	pr->nimpl++;
	return CF_OK;
}

void cf_conflict_name(const struct cf_profile *pr, const struct cf_conflict *c,
		      char *buf, size_t len)
{
	char reg[40];
	int i = cf_catalog_find_key(pr->arch->catalog, c->key);

	if (c->kind == CF_CONFLICT_VENDOR) {
		snprintf(buf, len, "vendor");
		return;
	}
	cf_arch_regname(pr->arch, c->key, reg, sizeof(reg));
	if (c->field >= 0 && i >= 0)
		snprintf(buf, len, "%s.%s", reg,
			 pr->arch->catalog->regs[i].fields[c->field].name);
	else
		snprintf(buf, len, "%s", reg);
}

enum cf_err cf_profile_conflict_text(const struct cf_profile *pr, size_t i,
				     char *buf, size_t len)
{
	const struct cf_conflict *c;
	char name[96];

	if (pr->nconf == 0 && i < pr->doc_conflicts && pr->doc_conflict_text) {
		snprintf(buf, len, "%s", pr->doc_conflict_text[i]);
		return CF_OK;
	}
	if (i >= pr->nconf)
		return CF_EINVAL;
	c = &pr->conf[i];
	cf_conflict_name(pr, c, name, sizeof(name));
	if (c->feature[0])
		snprintf(buf, len, "%s (%s): %s", name, c->feature, c->reason);
	else
		snprintf(buf, len, "%s: %s", name, c->reason);
	return CF_OK;
}

enum cf_err cf_profile_add_dropped(struct cf_profile *pr,
				   const struct cf_dropped *d)
{
	struct cf_dropped *t = realloc(pr->drop, (pr->ndrop + 1) * sizeof(*t));

	if (!t)
		return CF_ENOMEM;
	t[pr->ndrop++] = *d;
	pr->drop = t;
	return CF_OK;
}

size_t cf_profile_dropped_count(const struct cf_profile *pr)
{
	return pr->ndrop ? pr->ndrop : pr->doc_drops;
}

enum cf_err cf_profile_dropped_text(const struct cf_profile *pr, size_t i,
				    char *buf, size_t len)
{
	if (pr->ndrop == 0 && i < pr->doc_drops && pr->doc_drop_text) {
		snprintf(buf, len, "%s", pr->doc_drop_text[i]);
		return CF_OK;
	}
	if (i >= pr->ndrop)
		return CF_EINVAL;
	snprintf(buf, len, "%s", pr->drop[i].reason);
	return CF_OK;
}

/* Bits of fields reserved as zero for guests (x86: leaves KVM zeroes, which
 * raw CPUID dumps still carry), per catalogue register. */
static uint64_t zero_bits(const struct cf_reg *reg)
{
	return cf_reg_policy_bits(reg, CF_POL_ZERO);
}

/* R's configuration as a profile wants it: shared if nothing changes, else
 * a copy with the zero-reserved fields cleared. */
static enum cf_err own_config(const struct cf_config *c, struct cf_config **out)
{
	const struct cf_catalog *cat = c->arch->catalog;
	struct cf_config *n = NULL;
	enum cf_err err;

	for (size_t i = 0; i < c->ncat; i++) {
		uint64_t z = c->present[i] ? zero_bits(&cat->regs[i]) & c->val[i] : 0;
		if (!z)
			continue;
		if (!n) {
			err = cf_config_clone(c, &n);
			if (err != CF_OK)
				return err;
		}
		n->val[i] &= ~zero_bits(&cat->regs[i]);
	}
	if (!n) {
		*out = cf_config_ref((struct cf_config *)c);
		return CF_OK;
	}
	cf_config_seal(n);
	*out = n;
	return CF_OK;
}

enum cf_err cf_profile_from_report(const struct cf_report *r,
				   struct cf_profile **out)
{
	struct cf_profile *pr = NULL;
	enum cf_err err;

	*out = NULL;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return CF_ENOMEM;
	pr->arch = r->cfg->arch;
	err = own_config(r->cfg, &pr->cfg);
	if (err != CF_OK) {
		free(pr);
		return err;
	}
	pr->ngroups = 1;
	err = cf_hostset_add(&pr->hosts, r->host_id, 0, NULL);
	if (err == CF_OK) {
		size_t ri[CF_IMPL_REGS], n = cf_impl_regs(pr->arch->catalog, ri);
		struct cf_impl im;
		cf_impl_of(r->cfg, ri, n, &im);
		for (size_t k = 0; k < n && err == CF_OK; k++)
			if (im.present[k]) {
				err = cf_profile_add_impl(pr, &im);
				break;
			}
	}
	if (err != CF_OK) {
		cf_profile_destroy(pr);
		return err;
	}
	*out = pr;
	return CF_OK;
}
