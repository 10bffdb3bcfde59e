/* Splitting a fleet into pools that each have a feasible baseline.
 * Architectures, and x86 CPU vendors, never share a pool; within each
 * part the hosts are taken in host-id order, so the same set of reports
 * gives the same pools in any input order. */
#include <stdlib.h>
#include <string.h>
#include "engine/pool.h"
#include "engine/profile.h"
#include "engine/report.h"

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
	for (size_t i = 1; i < n; i++) {
		if (!id_cmp(&k[i - 1], &k[i])) {
			err = CF_EDUPLICATE;
			goto out;
		}
	}
	qsort(k, n, sizeof(*k), key_cmp);
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
