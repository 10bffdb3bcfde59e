/* Splitting a fleet into pools that each have a feasible baseline. */
#include <stdlib.h>
#include "engine/pool.h"
#include "engine/profile.h"
#include "engine/report.h"

/* Is the pool of the reports R[i] with POOL_OF[i] == P, plus CAND,
 * feasible? */
static enum cf_err feasible_with(const struct cf_report *const *r, size_t n,
				 const size_t *pool_of, size_t p,
				 const struct cf_report *cand, bool *ok)
{
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	enum cf_err err = cf_pool_create(cf_report_arch(cand), &pool);

	*ok = false;
	for (size_t i = 0; err == CF_OK && i < n; i++)
		if (pool_of[i] == p)
			err = cf_pool_add(pool, r[i], NULL);
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
	size_t pools = 0;
	enum cf_err err;

	*npools = 0;
	for (size_t i = 0; i < n; i++) {
		size_t p;
		bool placed = false;
		/* The same configuration as an earlier host: its pool. */
		for (size_t j = 0; j < i && !placed; j++) {
			if (cf_config_equal(reports[j]->cfg, reports[i]->cfg)) {
				pool_of[i] = pool_of[j];
				placed = true;
			}
		}
		for (p = 0; p < pools && !placed; p++) {
			bool ok;
			err = feasible_with(reports, i, pool_of, p, reports[i], &ok);
			if (err != CF_OK)
				return err;
			if (ok) {
				pool_of[i] = p;
				placed = true;
			}
		}
		if (!placed)
			pool_of[i] = pools++;
	}
	*npools = pools;
	return CF_OK;
}
