#include <stdlib.h>
#include <string.h>
#include "engine/pool.h"
#include "engine/report.h"
#include "util/diag.h"

enum cf_err cf_pool_create(const char *arch, struct cf_pool **out)
{
	const struct cf_arch_ops *a = cf_arch_find(arch);
	struct cf_pool *p;

	*out = NULL;
	if (!a)
		return CF_EARCH;
	p = calloc(1, sizeof(*p));
	if (!p)
		return CF_ENOMEM;
	p->arch = a;
	*out = p;
	return CF_OK;
}

void cf_hostset_free(struct cf_hostset *h)
{
	free(h->arena);
	free(h->off);
	free(h->group);
	memset(h, 0, sizeof(*h));
}

enum cf_err cf_hostset_copy(struct cf_hostset *dst, const struct cf_hostset *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->arena = malloc(src->used ? src->used : 1);
	dst->off = malloc((src->n ? src->n : 1) * sizeof(size_t));
	dst->group = malloc((src->n ? src->n : 1) * sizeof(uint32_t));
	if (!dst->arena || !dst->off || !dst->group) {
		cf_hostset_free(dst);
		return CF_ENOMEM;
	}
	memcpy(dst->arena, src->arena, src->used);
	memcpy(dst->off, src->off, src->n * sizeof(size_t));
	memcpy(dst->group, src->group, src->n * sizeof(uint32_t));
	dst->used = dst->cap = src->used;
	dst->n = dst->ncap = src->n;
	return CF_OK;
}

void cf_pool_destroy(struct cf_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ngroups; i++)
		cf_config_unref(p->groups[i].cfg);
	free(p->groups);
	free(p->fptab);
	free(p->idtab);
	cf_hostset_free(&p->hosts);
	free(p);
}

size_t cf_pool_host_count(const struct cf_pool *p)
{
	return p->hosts.n;
}

size_t cf_pool_config_count(const struct cf_pool *p)
{
	return p->ngroups;
}

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Grows an open-addressing table of index+1 entries to keep load <= 1/2. */
static enum cf_err rehash(uint32_t **tab, size_t *cap, size_t n,
			  uint64_t (*hash)(const struct cf_pool *, uint32_t),
			  const struct cf_pool *p)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	uint32_t *t;

	if ((n + 1) * 2 <= *cap)
		return CF_OK;
	t = calloc(ncap, sizeof(*t));
	if (!t)
		return CF_ENOMEM;
	for (size_t i = 0; i < *cap; i++) {
		uint32_t e = (*tab)[i];
		if (!e)
			continue;
		size_t j = hash(p, e - 1) & (ncap - 1);
		while (t[j])
			j = (j + 1) & (ncap - 1);
		t[j] = e;
	}
	free(*tab);
	*tab = t;
	*cap = ncap;
	return CF_OK;
}

/* The host id table with room for MORE more, kept at most half full. */
static enum cf_err idtab_grow(struct cf_pool *p, size_t more)
{
	size_t cap = p->idtab_cap ? p->idtab_cap : 64;
	uint64_t *t;

	if ((p->hosts.n + more) * 2 <= p->idtab_cap)
		return CF_OK;
	while ((p->hosts.n + more) * 2 > cap)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return CF_ENOMEM;
	for (size_t i = 0; i < p->idtab_cap; i++) {
		uint64_t e = p->idtab[i];
		size_t j;
		if (!e)
			continue;
		for (j = (e >> 32) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = e;
	}
	free(p->idtab);
	p->idtab = t;
	p->idtab_cap = cap;
	return CF_OK;
}

static uint64_t fp_hash(const struct cf_pool *p, uint32_t g)
{
	return p->groups[g].cfg->fp;
}

enum cf_err cf_hostset_add(struct cf_hostset *h, const char *id, uint32_t group,
			   size_t *index)
{
	size_t len = strlen(id) + 1;

	if (h->n >= UINT32_MAX - 1)
		return CF_ETOOBIG;
	if (h->used + len > h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		while (cap < h->used + len)
			cap *= 2;
		char *a = realloc(h->arena, cap);
		if (!a)
			return CF_ENOMEM;
		h->arena = a;
		h->cap = cap;
	}
	if (h->n == h->ncap) {
		size_t cap = h->ncap ? h->ncap * 2 : 64;
		size_t *o = realloc(h->off, cap * sizeof(*o));
		if (!o)
			return CF_ENOMEM;
		h->off = o;
		uint32_t *g = realloc(h->group, cap * sizeof(*g));
		if (!g)
			return CF_ENOMEM;
		h->group = g;
		h->ncap = cap;
	}
	memcpy(h->arena + h->used, id, len);
	h->off[h->n] = h->used;
	h->group[h->n] = group;
	h->used += len;
	if (index)
		*index = h->n;
	h->n++;
	return CF_OK;
}

/* Group of CFG, creating it if new. */
static enum cf_err find_group(struct cf_pool *p, struct cf_config *cfg,
			      uint32_t host, uint32_t *out)
{
	enum cf_err err;
	size_t j;

	if (p->fptab_cap) {
		j = cfg->fp & (p->fptab_cap - 1);
		for (; p->fptab[j]; j = (j + 1) & (p->fptab_cap - 1)) {
			uint32_t g = p->fptab[j] - 1;
			if (cf_config_equal(p->groups[g].cfg, cfg)) {
				*out = g;
				p->groups[g].nhosts++;
				return CF_OK;
			}
		}
	}
	if (p->ngroups == p->gcap) {
		size_t cap = p->gcap ? p->gcap * 2 : 16;
		struct cf_group *gs = realloc(p->groups, cap * sizeof(*gs));
		if (!gs)
			return CF_ENOMEM;
		p->groups = gs;
		p->gcap = cap;
	}
	err = rehash(&p->fptab, &p->fptab_cap, p->ngroups, fp_hash, p);
	if (err != CF_OK)
		return err;
	p->groups[p->ngroups].cfg = cf_config_ref(cfg);
	p->groups[p->ngroups].first_host = host;
	p->groups[p->ngroups].nhosts = 1;
	j = cfg->fp & (p->fptab_cap - 1);
	while (p->fptab[j])
		j = (j + 1) & (p->fptab_cap - 1);
	p->fptab[j] = (uint32_t)++p->ngroups;
	*out = (uint32_t)(p->ngroups - 1);
	return CF_OK;
}

enum cf_err cf_pool_add(struct cf_pool *p, const struct cf_report *r,
			struct cf_diag *d)
{
	return cf_pool_add_as(p, r, r->host_id, d);
}

enum cf_err cf_pool_add_as(struct cf_pool *p, const struct cf_report *r,
			   const char *host_id, struct cf_diag *d)
{
	enum cf_err err;
	size_t j, idx;
	uint32_t h, g;

	if (r->cfg->arch != p->arch)
		return cf_diag_set(d, CF_EARCH,
				   "host %s is %s, the pool is %s", host_id,
				   r->cfg->arch->name, p->arch->name);
	err = idtab_grow(p, 1);
	if (err != CF_OK)
		return err;
	h = (uint32_t)strhash(host_id);
	for (j = h & (p->idtab_cap - 1); p->idtab[j];
	     j = (j + 1) & (p->idtab_cap - 1))
		if ((uint32_t)(p->idtab[j] >> 32) == h &&
		    strcmp(cf_hostset_id(&p->hosts,
					 (uint32_t)p->idtab[j] - 1),
			   host_id) == 0)
			return cf_diag_set(d, CF_EDUPLICATE,
					   "host id %s appears twice in the pool",
					   host_id);
	err = cf_hostset_add(&p->hosts, host_id, 0, &idx);
	if (err != CF_OK)
		return err;
	err = find_group(p, r->cfg, (uint32_t)idx, &g);
	if (err != CF_OK) {
		p->hosts.n--;
		p->hosts.used = p->hosts.off[idx];
		return err;
	}
	p->hosts.group[idx] = g;
	p->idtab[j] = (uint64_t)h << 32 | ((uint64_t)idx + 1);
	return CF_OK;
}

enum cf_err cf_pool_add_many(struct cf_pool *p,
			     const struct cf_report *const *rs, size_t n,
			     struct cf_diag *d)
{
	enum { AHEAD = 8 };
	enum cf_err err = idtab_grow(p, n);

	for (size_t i = 0; err == CF_OK && i < n; i++) {
		/* The table is random access: ask for a later host's slot
		 * (and, before, for its report) while this one is added. */
		if (i + 2 * AHEAD < n)
			__builtin_prefetch(rs[i + 2 * AHEAD]);
		if (i + AHEAD < n)
			__builtin_prefetch(&p->idtab[strhash(rs[i + AHEAD]->host_id) &
						     (p->idtab_cap - 1)]);
		err = cf_pool_add_as(p, rs[i], rs[i]->host_id, d);
	}
	return err;
}
