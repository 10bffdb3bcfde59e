/* The pair matrix: for every ordered pair of hosts, can a VM started on
 * the first's own profile move to the second.  The one loop behind
 * `cpufleet matrix` and the server's /v1/pools/{name}/matrix. */
#include <cpufleet.h>

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
			    size_t *to)
{
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *pr = NULL;
	enum cf_err err = v ? CF_OK : CF_ENOMEM;

	for (size_t i = 0; err == CF_OK && i < n; i++) {
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
