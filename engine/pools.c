/* Splitting a fleet into pools that each have a feasible baseline.
 * Architectures, and x86 CPU vendors, never share a pool; within each
 * part the hosts are taken in host-id order, so the same set of reports
 * gives the same pools in any input order. */
#include <stdlib.h>
#include <string.h>
#include "engine/pool.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "util/strset.h"

/* The part a host belongs to: architecture, then CPU vendor ("" if the
 * architecture names none). */
struct key {
	const struct cf_report *r;
	size_t idx;          /* in the caller's array */
	const char *arch;
	char vendor[32];
};

static int id_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;

	return strcmp(a->r->host_id, b->r->host_id);
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c = strcmp(a->arch, b->arch);

	if (!c)
		c = strcmp(a->vendor, b->vendor);
	return c ? c : strcmp(a->r->host_id, b->r->host_id);
}

static bool same_part(const struct key *a, const struct key *b)
{
	return !strcmp(a->arch, b->arch) && !strcmp(a->vendor, b->vendor);
}

/* K[0..N) for REPORTS, sorted by part then host id; CF_EDUPLICATE if a
 * host id appears twice. */
static enum cf_err keys_of(const struct cf_report *const *reports, size_t n,
			   struct key *k)
{
	for (size_t i = 0; i < n; i++) {
		const struct cf_arch_ops *a = reports[i]->cfg->arch;
		k[i].r = reports[i];
		k[i].idx = i;
		k[i].arch = a->name;
		if (!a->vendor || !a->vendor(reports[i]->cfg, k[i].vendor,
					     sizeof(k[i].vendor)))
			k[i].vendor[0] = '\0';
	}
	qsort(k, n, sizeof(*k), id_cmp);
	for (size_t i = 1; i < n; i++)
		if (!id_cmp(&k[i - 1], &k[i]))
			return CF_EDUPLICATE;
	qsort(k, n, sizeof(*k), key_cmp);
	return CF_OK;
}

/* Is the pool of the placed hosts K[i] (i < N) with POOL_OF[i] == P, plus
 * CAND, feasible? */
static enum cf_err feasible_with(const struct key *k, size_t n,
				 const size_t *pool_of, size_t p,
				 const struct cf_report *cand, bool *ok)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	enum cf_err err = cf_pool_create(cf_report_arch(cand), &pool);

	*ok = false;
	for (size_t i = 0; err == CF_OK && i < n; i++)
		if (pool_of[i] == p)
			err = cf_pool_add(pool, k[i].r, NULL);
	if (err == CF_OK)
		err = cf_pool_add(pool, cand, NULL);
	if (err == CF_OK)
		err = cf_baseline(pool, &pr);
	if (err == CF_OK)
		*ok = cf_profile_feasible(pr);
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	return err;
}

enum cf_err cf_pools_partition(const struct cf_report *const *reports, size_t n,
			       size_t *pool_of, size_t *npools)
{
	struct key *k = calloc(n ? n : 1, sizeof(*k));
	size_t *kpool = calloc(n ? n : 1, sizeof(*kpool));
	size_t pools = 0, part_first = 0;
	enum cf_err err = CF_OK;

	*npools = 0;
	if (!k || !kpool) {
		err = CF_ENOMEM;
		goto out;
	}
	err = keys_of(reports, n, k);
	if (err != CF_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool placed = false;
		/* A new part: its pools are new. */
		if (i && !same_part(&k[i], &k[i - 1]))
			part_first = pools;
		/* The same configuration as an earlier host: its pool. */
		for (size_t j = 0; j < i && !placed; j++) {
			if (same_part(&k[j], &k[i]) &&
			    cf_config_equal(k[j].r->cfg, k[i].r->cfg)) {
				kpool[i] = kpool[j];
				placed = true;
			}
		}
		for (size_t p = part_first; p < pools && !placed; p++) {
			bool ok;
			err = feasible_with(k, i, kpool, p, k[i].r, &ok);
			if (err != CF_OK)
				goto out;
			if (ok) {
				kpool[i] = p;
				placed = true;
			}
		}
		if (!placed)
			kpool[i] = pools++;
	}
	/* Back to the caller's order. */
	for (size_t i = 0; i < n; i++)
		pool_of[k[i].idx] = kpool[i];
	*npools = pools;
out:
	free(k);
	free(kpool);
	return err;
}


/* ---- the fewest pools, then the fewest features given up ----
 *
 * Hosts of one configuration (cf_config_equal, the identity of
 * engine/identity.h, fingerprint first) always share a pool, so both
 * strategies work on a part's distinct configurations, taken in the order
 * of their smallest host id.  First fit puts each into the first pool
 * that stays feasible with it (the same pools as cf_pools_partition).
 * The search tries, depth first, each configuration in each pool so far
 * (in pool order) and then in a new one: its first complete answer is
 * first fit, and it keeps a later one only if strictly better (fewer
 * pools, or as many and fewer features given up), so ties go to the
 * earliest in that order.  Two properties of the engine's baseline make
 * the pruning sound, and test_pools_min checks the answer against every
 * partition of real reports: a pool that is infeasible stays so when a
 * configuration joins (every conflict is hosts that disagree, and a
 * newcomer cannot make them agree), and a pool's features given up only
 * grow (its baseline can only fall). */

/* One distinct configuration of a part. */
struct conf {
	const struct cf_report *rep;  /* its host with the smallest id */
	struct cf_profile *own;       /* the baseline of a pool of it alone */
};

/* The baseline of the configurations C[i] with IN[i] (M of them): whether
 * feasible, and (if so and NAMES is not NULL) the features given up into
 * NAMES: every name the baseline of some member alone shows and the pool's
 * does not (cf_explain_profiles).  A member alone, not its own profile: a
 * feature no baseline keeps (x86 invtsc) is no loss of sharing. */
static enum cf_err evaluate(const struct conf *c, size_t m, const bool *in,
			    bool *feasible, struct cf_strset *names)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *base = NULL;
	enum cf_err err = CF_OK;

	*feasible = false;
	for (size_t i = 0; err == CF_OK && i < m; i++) {
		if (!in[i])
			continue;
		if (!pool)
			err = cf_pool_create(cf_report_arch(c[i].rep), &pool);
		if (err == CF_OK)
			err = cf_pool_add(pool, c[i].rep, NULL);
	}
	if (err == CF_OK)
		err = pool ? cf_baseline(pool, &base) : CF_EEMPTY;
	*feasible = err == CF_OK && cf_profile_feasible(base);
	for (size_t i = 0; err == CF_OK && *feasible && names && i < m; i++) {
		struct cf_explain *e = NULL;
		const char *f;
		if (!in[i])
			continue;
		err = cf_explain_profiles(c[i].own, base, &e);
		for (size_t j = 0; err == CF_OK &&
		     (f = cf_explain_only_in_a(e, j)) != NULL; j++)
			err = cf_strset_add_unique(names, f);
		cf_explain_destroy(e);
	}
	cf_profile_destroy(base);
	cf_pool_destroy(pool);
	return err;
}

/* A candidate pool's value, memoised by its set of configurations. */
struct memo {
	uint32_t mask;   /* 0: empty slot */
	bool feasible;
	size_t lost;
};

struct search {
	const struct conf *c;
	size_t m;              /* configurations, at most CF_POOLS_EXACT_MAX */
	bool *in;              /* scratch, M entries */
	struct memo *tab;
	size_t tcap, tused;
	bool stopped;          /* out of budget */
	size_t nodes;          /* calls of place */
	uint32_t *blk;         /* sets of the pools so far */
	size_t *lost;          /* their features given up */
	size_t *at;            /* pool of configuration i, now */
	size_t *best_at;
	size_t best_k;         /* 0: no answer yet */
	size_t best_lost;
};

static size_t slot(uint32_t mask, size_t cap)
{
	return (size_t)(mask * 2654435761u) & (cap - 1);
}

static enum cf_err lookup(struct search *s, uint32_t mask,
			  const struct memo **out)
{
	struct cf_strset nm = { 0 };
	enum cf_err err;
	size_t j;

	if (2 * (s->tused + 1) > s->tcap) {
		size_t cap = s->tcap ? 2 * s->tcap : 64;
		struct memo *t = calloc(cap, sizeof(*t));
		if (!t)
			return CF_ENOMEM;
		for (size_t i = 0; i < s->tcap; i++) {
			if (!s->tab[i].mask)
				continue;
			for (j = slot(s->tab[i].mask, cap); t[j].mask;
			     j = (j + 1) & (cap - 1))
				;
			t[j] = s->tab[i];
		}
		free(s->tab);
		s->tab = t;
		s->tcap = cap;
	}
	for (j = slot(mask, s->tcap); s->tab[j].mask; j = (j + 1) & (s->tcap - 1)) {
		if (s->tab[j].mask == mask) {
			*out = &s->tab[j];
			return CF_OK;
		}
	}
	for (size_t i = 0; i < s->m; i++)
		s->in[i] = mask >> i & 1;
	err = evaluate(s->c, s->m, s->in, &s->tab[j].feasible, &nm);
	s->tab[j].lost = nm.n;
	cf_strset_clear(&nm);
	if (err != CF_OK)
		return err;
	s->tab[j].mask = mask;
	s->tused++;
	*out = &s->tab[j];
	return CF_OK;
}

/* Places configuration I: pools 0..K-1 hold the ones before it and give
 * up LOST features in all. */
static enum cf_err place(struct search *s, size_t i, size_t k, size_t lost)
{
	const struct memo *e;
	enum cf_err err;

	/* Pools and features given up only grow from here. */
	if (s->stopped || (s->best_k && (k > s->best_k ||
			  (k == s->best_k && lost >= s->best_lost))))
		return CF_OK;
	if (i == s->m) {
		s->best_k = k;
		s->best_lost = lost;
		memcpy(s->best_at, s->at, s->m * sizeof(*s->at));
		return CF_OK;
	}
	if (s->best_k && (s->tused >= CF_POOLS_SEARCH_BASELINES ||
			  ++s->nodes >= CF_POOLS_SEARCH_NODES)) {
		s->stopped = true;
		return CF_OK;
	}
	for (size_t b = 0; b < k && !s->stopped; b++) {
		uint32_t old = s->blk[b];
		size_t was = s->lost[b];
		err = lookup(s, old | 1u << i, &e);
		if (err != CF_OK)
			return err;
		if (!e->feasible)
			continue;
		s->blk[b] = old | 1u << i;
		s->lost[b] = e->lost;
		s->at[i] = b;
		err = place(s, i + 1, k, lost - was + e->lost);
		s->blk[b] = old;
		s->lost[b] = was;
		if (err != CF_OK)
			return err;
	}
	if (s->stopped)
		return CF_OK;
	err = lookup(s, 1u << i, &e);
	if (err != CF_OK)
		return err;
	s->blk[k] = 1u << i;
	s->lost[k] = e->lost;
	s->at[i] = k;
	return place(s, i + 1, k + 1, lost + e->lost);
}

/* The fewest pools of C[0..M), then the fewest features given up, into
 * AT; *EXACT false when the budget ran out first. */
static enum cf_err search(const struct conf *c, size_t m, size_t *at,
			  bool *exact)
{
	struct search s = { .c = c, .m = m };
	enum cf_err err = CF_ENOMEM;

	s.in = calloc(m, sizeof(*s.in));
	s.blk = calloc(m, sizeof(*s.blk));
	s.lost = calloc(m, sizeof(*s.lost));
	s.at = calloc(m, sizeof(*s.at));
	s.best_at = at;
	if (s.in && s.blk && s.lost && s.at)
		err = place(&s, 0, 0, 0);
	*exact = !s.stopped;
	free(s.in);
	free(s.blk);
	free(s.lost);
	free(s.at);
	free(s.tab);
	return err;
}

/* First fit over C[0..M): each joins the first pool that stays feasible
 * with it, else starts one. */
static enum cf_err first_fit(const struct conf *c, size_t m, size_t *at)
{
	bool *in = calloc(m ? m : 1, sizeof(*in));
	enum cf_err err = in ? CF_OK : CF_ENOMEM;
	size_t k = 0;

	for (size_t i = 0; err == CF_OK && i < m; i++) {
		size_t b;
		bool ok = false;
		for (b = 0; err == CF_OK && !ok && b < k; b++) {
			for (size_t j = 0; j < m; j++)
				in[j] = (j < i && at[j] == b) || j == i;
			err = evaluate(c, m, in, &ok, NULL);
		}
		at[i] = ok ? b - 1 : k++;
	}
	free(in);
	return err;
}

struct cf_pools {
	size_t n, npools;
	size_t *pool_of;       /* [n] */
	struct cf_strset *up;      /* [npools], sorted */
	bool exact;
};

void cf_pools_destroy(struct cf_pools *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->up && i < p->npools; i++)
		cf_strset_clear(&p->up[i]);
	free(p->up);
	free(p->pool_of);
	free(p);
}

/* One part: K[0..N) (host-id order) into pools FIRST.. of P. */
static enum cf_err plan_part(struct cf_pools *p, const struct key *k, size_t n,
			     enum cf_pools_strategy how, size_t first)
{
	struct conf *c = calloc(n, sizeof(*c));
	size_t *conf_of = calloc(n, sizeof(*conf_of));
	size_t *at = calloc(n, sizeof(*at));
	bool *in = calloc(n, sizeof(*in));
	struct cf_strset *up;
	size_t m = 0, np = 0;
	enum cf_err err = c && conf_of && at && in ? CF_OK : CF_ENOMEM;

	for (size_t i = 0; err == CF_OK && i < n; i++) {
		const struct cf_config *cfg = k[i].r->cfg;
		size_t j;
		for (j = 0; j < m; j++)
			if (c[j].rep->cfg->fp == cfg->fp &&
			    cf_config_equal(c[j].rep->cfg, cfg))
				break;
		if (j == m) {
			struct cf_pool *alone = NULL;
			c[m].rep = k[i].r;
			err = cf_pool_create(cf_report_arch(k[i].r), &alone);
			if (err == CF_OK)
				err = cf_pool_add(alone, k[i].r, NULL);
			if (err == CF_OK)
				err = cf_baseline(alone, &c[m].own);
			cf_pool_destroy(alone);
			m++;
		}
		conf_of[i] = j;
	}
	if (err == CF_OK && how == CF_POOLS_FEWEST && m <= CF_POOLS_EXACT_MAX) {
		bool exact;
		err = search(c, m, at, &exact);
		p->exact = p->exact && exact;
	} else if (err == CF_OK) {
		err = first_fit(c, m, at);
		if (how == CF_POOLS_FEWEST)
			p->exact = false;
	}
	for (size_t j = 0; err == CF_OK && j < m; j++)
		if (at[j] + 1 > np)
			np = at[j] + 1;
	up = err == CF_OK ? realloc(p->up, (first + np) * sizeof(*up)) : NULL;
	if (err == CF_OK && !up)
		err = CF_ENOMEM;
	if (err == CF_OK) {
		p->up = up;
		memset(up + first, 0, np * sizeof(*up));
		p->npools = first + np;
	}
	for (size_t b = 0; err == CF_OK && b < np; b++) {
		bool ok;
		for (size_t j = 0; j < m; j++)
			in[j] = at[j] == b;
		err = evaluate(c, m, in, &ok, &up[first + b]);
		if (up[first + b].n)
			cf_strset_sort_unique(&up[first + b]);
	}
	for (size_t i = 0; err == CF_OK && i < n; i++)
		p->pool_of[k[i].idx] = first + at[conf_of[i]];
	for (size_t j = 0; c && j < m; j++)
		cf_profile_destroy(c[j].own);
	free(c);
	free(conf_of);
	free(at);
	free(in);
	return err;
}

enum cf_err cf_pools_plan(const struct cf_report *const *reports, size_t n,
			  enum cf_pools_strategy how, struct cf_pools **out)
{
	struct cf_pools *p = calloc(1, sizeof(*p));
	struct key *k = calloc(n ? n : 1, sizeof(*k));
	enum cf_err err = CF_OK;

	*out = NULL;
	if (!p || !k || !(p->pool_of = calloc(n ? n : 1, sizeof(size_t)))) {
		err = CF_ENOMEM;
		goto out;
	}
	if (how != CF_POOLS_FEWEST && how != CF_POOLS_FIRST_FIT) {
		err = CF_EINVAL;
		goto out;
	}
	p->n = n;
	p->exact = true;
	err = keys_of(reports, n, k);
	if (err != CF_OK)
		goto out;
	for (size_t lo = 0, hi; err == CF_OK && lo < n; lo = hi) {
		for (hi = lo + 1; hi < n && same_part(&k[lo], &k[hi]); hi++)
			;
		err = plan_part(p, k + lo, hi - lo, how, p->npools);
	}
out:
	free(k);
	if (err == CF_OK)
		*out = p;
	else
		cf_pools_destroy(p);
	return err;
}

size_t cf_pools_count(const struct cf_pools *p)
{
	return p->npools;
}

size_t cf_pools_pool_of(const struct cf_pools *p, size_t i)
{
	return i < p->n ? p->pool_of[i] : SIZE_MAX;
}

bool cf_pools_exact(const struct cf_pools *p)
{
	return p->exact;
}

size_t cf_pools_given_up_count(const struct cf_pools *p, size_t pool)
{
	return pool < p->npools ? p->up[pool].n : 0;
}

const char *cf_pools_given_up(const struct cf_pools *p, size_t pool, size_t i)
{
	return pool < p->npools && i < p->up[pool].n ? p->up[pool].v[i] : NULL;
}

size_t cf_pools_given_up_total(const struct cf_pools *p)
{
	size_t t = 0;

	for (size_t b = 0; b < p->npools; b++)
		t += p->up[b].n;
	return t;
}
