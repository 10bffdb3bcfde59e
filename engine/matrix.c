/* The pair matrix: for every ordered pair of hosts, can a VM started on
 * the first's own profile move to the second.  The one loop behind
 * `cpufleet matrix` and the server's /v1/pools/{name}/matrix, run once per
 * pair of distinct configurations (cf_matrix_group), never per pair of
 * hosts. */
#include <stdlib.h>
#include <cpufleet.h>
#include "engine/report.h"

enum cf_err cf_matrix_check_cell(const struct cf_profile *pr,
				 const struct cf_report *r,
				 struct cf_verdict *v, struct cf_matrix_cell *c)
{
	enum cf_err err = cf_check(pr, r, v);

	if (err == CF_OK)
		*c = (struct cf_matrix_cell){ cf_verdict_compatible(v),
					      cf_verdict_reason_count(v) };
	return err;
}

enum cf_err cf_matrix_pairs(const struct cf_report *const *r, size_t n,
			    struct cf_matrix_cell *cell, size_t *from,
			    size_t *to, bool (*stop)(void *ctx), void *ctx)
{
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *pr = NULL;
	enum cf_err err = v ? CF_OK : CF_ENOMEM;

	for (size_t i = 0; err == CF_OK && i < n; i++) {
		if (stop && stop(ctx)) {
			err = CF_ECANCELED;
			break;
		}
		err = cf_profile_from_report(r[i], &pr);
		for (size_t j = 0; err == CF_OK && j < n; j++) {
			err = cf_matrix_check_cell(pr, r[j], v, &cell[i * n + j]);
			if (err != CF_OK) {
				*from = i;
				*to = j;
			}
		}
		cf_profile_destroy(pr);
		pr = NULL;
	}
	cf_verdict_destroy(v);
	return err;
}

/* Open addressing over the groups' fingerprints: group + 1, 0 = empty. */
enum cf_err cf_matrix_group(const struct cf_report *const *r, size_t n,
			    size_t *group, size_t *first, size_t *ngroups)
{
	size_t cap = 16, k = 0;
	size_t *tab;

	while (cap < 2 * n)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return CF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct cf_config *c = r[i]->cfg;
		size_t j = c->fp & (cap - 1);
		for (; tab[j]; j = (j + 1) & (cap - 1))
			if (cf_config_equal(r[first[tab[j] - 1]]->cfg, c))
				break;
		if (!tab[j]) {
			first[k] = i;
			tab[j] = ++k;
		}
		group[i] = tab[j] - 1;
	}
	free(tab);
	*ngroups = k;
	return CF_OK;
}
