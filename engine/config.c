#include <stdlib.h>
#include <string.h>
#include "engine/config.h"
#include "engine/identity.h"

enum cf_err cf_config_create(const struct cf_arch_ops *arch,
			     struct cf_config **out)
{
	struct cf_config *c = calloc(1, sizeof(*c));
	size_t n = arch->catalog->nregs;

	*out = NULL;
	if (!c)
		return CF_ENOMEM;
	c->refs = 1;
	c->arch = arch;
	c->ncat = n;
	/* One block for the three per-register arrays. */
	c->val = calloc(n ? n : 1, 2 * sizeof(uint64_t) + 1);
	if (!c->val) {
		free(c);
		return CF_ENOMEM;
	}
	c->wr = c->val + n;
	c->present = (uint8_t *)(c->wr + n);
	*out = c;
	return CF_OK;
}

enum cf_err cf_config_clone(const struct cf_config *c, struct cf_config **out)
{
	struct cf_config *n = NULL;
	enum cf_err err = cf_config_create(c->arch, &n);

	*out = NULL;
	if (err != CF_OK)
		return err;
	memcpy(n->val, c->val, c->ncat * (2 * sizeof(uint64_t) + 1));
	if (c->nextra) {
		n->extra = malloc(c->nextra * sizeof(*n->extra));
		if (!n->extra) {
			cf_config_unref(n);
			return CF_ENOMEM;
		}
		memcpy(n->extra, c->extra, c->nextra * sizeof(*n->extra));
		n->nextra = n->extra_cap = c->nextra;
	}
	n->has_writable = c->has_writable;
	*out = n;
	return CF_OK;
}

struct cf_config *cf_config_ref(struct cf_config *c)
{
	if (c)
		c->refs++;
	return c;
}

void cf_config_unref(struct cf_config *c)
{
	if (!c || --c->refs > 0)
		return;
	free(c->val);
	free(c->extra);
	free(c);
}

/* Slot of KEY among the extras, inserting a zeroed one if asked. */
static struct cf_extra *extra_slot(struct cf_config *c, uint64_t key, bool add)
{
	size_t lo = 0, hi = c->nextra;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->extra[mid].key == key)
			return &c->extra[mid];
		if (c->extra[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!add || c->nextra >= CF_EXTRA_REGS_MAX)
		return NULL;
	if (c->nextra == c->extra_cap) {
		size_t cap = c->extra_cap ? c->extra_cap * 2 : 8;
		struct cf_extra *e = realloc(c->extra, cap * sizeof(*e));
		if (!e)
			return NULL;
		c->extra = e;
		c->extra_cap = cap;
	}
	memmove(&c->extra[lo + 1], &c->extra[lo],
		(c->nextra - lo) * sizeof(*c->extra));
	c->nextra++;
	memset(&c->extra[lo], 0, sizeof(*c->extra));
	c->extra[lo].key = key;
	return &c->extra[lo];
}

enum cf_err cf_config_set(struct cf_config *c, uint64_t key, uint64_t value)
{
	int i = cf_catalog_find_key(c->arch->catalog, key);
	struct cf_extra *e;

	if (i >= 0) {
		c->val[i] = value;
		c->present[i] = 1;
		return CF_OK;
	}
	e = extra_slot(c, key, true);
	if (!e)
		return c->nextra >= CF_EXTRA_REGS_MAX ? CF_ETOOBIG : CF_ENOMEM;
	e->value = value;
	return CF_OK;
}

/* A mask for a register the report does not list is kept only for catalogue
 * registers; for unknown ones the value must come first. */
enum cf_err cf_config_set_writable(struct cf_config *c, uint64_t key,
				   uint64_t mask)
{
	int i = cf_catalog_find_key(c->arch->catalog, key);
	struct cf_extra *e;

	if (i >= 0) {
		c->wr[i] = mask;
		return CF_OK;
	}
	e = extra_slot(c, key, false);
	if (e)
		e->writable = mask;
	return CF_OK;
}

enum cf_err cf_config_set_fixed(struct cf_config *c, uint64_t key,
				uint64_t value)
{
	int i = cf_catalog_find_key(c->arch->catalog, key);
	const struct cf_reg *reg;
	enum cf_err err;

	if (i < 0 || !c->arch->catalog->regs[i].pseudo)
		return CF_EINVAL;
	reg = &c->arch->catalog->regs[i];
	if (reg->pseudo == 2 && reg->nfields && !strcmp(reg->fields[0].name, "bool"))
		value = value != 0;
	err = cf_config_set(c, key, value);
	if (err == CF_OK)
		err = cf_config_set_writable(c, key, reg->fixed_writable);
	return err;
}

bool cf_config_get(const struct cf_config *c, uint64_t key, uint64_t *value,
		   uint64_t *writable)
{
	int i = cf_catalog_find_key(c->arch->catalog, key);
	const struct cf_extra *e;

	if (i >= 0) {
		if (!c->present[i])
			return false;
		if (value)
			*value = c->val[i];
		if (writable)
			*writable = c->wr[i];
		return true;
	}
	e = extra_slot((struct cf_config *)c, key, false);
	if (!e)
		return false;
	if (value)
		*value = e->value;
	if (writable)
		*writable = e->writable;
	return true;
}

/* Catalogue index of the capability register I needs to be written, or -1. */
static int wcap_index(const struct cf_config *c, size_t i)
{
	const struct cf_catalog *cat = c->arch->catalog;

	return cat->regs[i].wcap ? cf_catalog_find_name(cat, cat->regs[i].wcap) : -1;
}

bool cf_config_wcap_offered(const struct cf_config *c, size_t i)
{
	int ci;

	if (!c->arch->catalog->regs[i].wcap)
		return true;
	ci = wcap_index(c, i);
	return ci >= 0 && c->present[ci] && c->val[ci] != 0;
}

uint64_t cf_config_writable(const struct cf_config *c, size_t i)
{
	return cf_config_wcap_offered(c, i) ? c->wr[i] : 0;
}

size_t cf_config_caps_needed(const struct cf_config *want,
			     const struct cf_config *host, size_t *out,
			     size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < want->ncat; i++) {
		int ci = wcap_index(want, i);
		size_t k = 0;
		if (ci < 0 || !want->present[i] || !host->present[i] ||
		    want->val[i] == host->val[i])
			continue;
		while (k < n && out[k] != (size_t)ci)
			k++;
		if (k == n && n < max)
			out[n++] = (size_t)ci;
	}
	return n;
}

void cf_config_seal(struct cf_config *c)
{
	c->fp = cf_identity_fingerprint(c);
}

bool cf_config_equal(const struct cf_config *a, const struct cf_config *b)
{
	if (a == b)
		return true;
	if (a->arch != b->arch || a->has_writable != b->has_writable ||
	    a->nextra != b->nextra || a->fp != b->fp)
		return false;
	if (memcmp(a->val, b->val, a->ncat * (2 * sizeof(uint64_t) + 1)) != 0)
		return false;
	for (size_t i = 0; i < a->nextra; i++)
		if (a->extra[i].key != b->extra[i].key ||
		    a->extra[i].value != b->extra[i].value ||
		    a->extra[i].writable != b->extra[i].writable)
			return false;
	return true;
}

void cf_config_clear_per_vcpu(struct cf_config *c)
{
	const struct cf_catalog *cat = c->arch->catalog;

	for (size_t i = 0; i < c->ncat; i++)
		if (c->present[i])
			c->val[i] &= ~cf_reg_policy_bits(&cat->regs[i],
							 CF_POL_IGNORE);
}

enum cf_err cf_config_set_caps(struct cf_config *c,
			       int (*check)(void *ctx, long nr), void *ctx)
{
	const struct cf_catalog *cat = c->arch->catalog;
	enum cf_err err;

	for (size_t i = 0; i < cat->nregs; i++) {
		const struct cf_reg *reg = &cat->regs[i];
		int v;
		if (reg->pseudo != 2)
			continue;
		v = check(ctx, CF_CAP_NR(reg->key));
		err = cf_config_set_fixed(c, reg->key, v < 0 ? 0 : (uint64_t)v);
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

enum cf_err cf_config_set_fact(struct cf_config *c, const char *name,
			       uint64_t value)
{
	int i = cf_catalog_find_name(c->arch->catalog, name);

	if (i < 0 || c->arch->catalog->regs[i].pseudo != 3)
		return CF_EINVAL;
	return cf_config_set_fixed(c, c->arch->catalog->regs[i].key, value);
}

bool cf_config_get_fact(const struct cf_config *c, const char *name,
			uint64_t *value)
{
	int i = cf_catalog_find_name(c->arch->catalog, name);

	if (i < 0 || c->arch->catalog->regs[i].pseudo != 3 || !c->present[i])
		return false;
	*value = c->val[i];
	return true;
}

int cf_config_walk(const struct cf_config *c,
		   int (*fn)(void *ctx, uint64_t key, uint64_t value,
			     uint64_t writable),
		   void *ctx)
{
	const struct cf_catalog *cat = c->arch->catalog;
	size_t i = 0, x = 0;
	int rc;

	while (i < c->ncat || x < c->nextra) {
		if (x >= c->nextra ||
		    (i < c->ncat && cat->regs[i].key < c->extra[x].key)) {
			rc = c->present[i] ? fn(ctx, cat->regs[i].key, c->val[i],
						c->wr[i]) : 0;
			i++;
		} else {
			rc = fn(ctx, c->extra[x].key, c->extra[x].value,
				c->extra[x].writable);
			x++;
		}
		if (rc)
			return rc;
	}
	return 0;
}

void cf_config_unset(struct cf_config *c, uint64_t key)
{
	int i = cf_catalog_find_key(c->arch->catalog, key);

	if (i >= 0) {
		c->present[i] = 0;
		c->val[i] = 0;
		c->wr[i] = 0;
		return;
	}
	for (size_t x = 0; x < c->nextra; x++) {
		if (c->extra[x].key != key)
			continue;
		memmove(&c->extra[x], &c->extra[x + 1],
			(c->nextra - x - 1) * sizeof(c->extra[0]));
		c->nextra--;
		return;
	}
}

struct cf_config_table {
	struct cf_config **slot; /* open addressing by fingerprint, NULL = empty */
	size_t cap, n;
};

enum cf_err cf_config_table_create(struct cf_config_table **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? CF_OK : CF_ENOMEM;
}

void cf_config_table_destroy(struct cf_config_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		cf_config_unref(t->slot[i]);
	free(t->slot);
	free(t);
}

size_t cf_config_table_count(const struct cf_config_table *t)
{
	return t->n;
}

/* The slot of a configuration equal to C in SLOT[CAP], else the empty
 * one where C would go. */
static size_t table_slot(struct cf_config *const *slot, size_t cap,
			 const struct cf_config *c)
{
	size_t j = c->fp & (cap - 1);

	while (slot[j] && !cf_config_equal(slot[j], c))
		j = (j + 1) & (cap - 1);
	return j;
}

enum cf_err cf_config_table_share(struct cf_config_table *t,
				  struct cf_config **c)
{
	size_t j;

	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct cf_config **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return CF_ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i])
				slot[table_slot(slot, cap, t->slot[i])] = t->slot[i];
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	j = table_slot(t->slot, t->cap, *c);
	if (t->slot[j]) {
		if (t->slot[j] != *c) {
			cf_config_unref(*c);
			*c = cf_config_ref(t->slot[j]);
		}
		return CF_OK;
	}
	t->slot[j] = cf_config_ref(*c);
	t->n++;
	return CF_OK;
}
