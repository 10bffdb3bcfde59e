/* The engine's pool of a list of members, bounded and cancellable. */
#include "fleet/members.h"
#include "util/diag.h"

enum cf_err cf_members_cancelled(const struct cf_whatif_bounds *b,
				 struct cf_diag *d)
{
	if (b && b->cancelled && b->cancelled(b->ctx))
		return cf_diag_set(d, CF_ECANCELED, "cancelled: the client "
				   "has gone");
	return CF_OK;
}

static enum cf_err mixed(const char *pool, const struct cf_whatif_host *a,
			 const struct cf_whatif_host *b, bool what_if,
			 struct cf_diag *d)
{
	if (what_if)
		return cf_diag_set(d, CF_ECONFLICT, "pool %s would mix "
				   "architectures: %s is %s, %s is %s", pool,
				   a->id, cf_report_arch(a->report), b->id,
				   cf_report_arch(b->report));
	return cf_diag_set(d, CF_ECONFLICT, "pool %s mixes architectures: %s "
			   "is %s, %s is %s (its labels now select both); a "
			   "pool's hosts share one architecture, so define one "
			   "pool per architecture", pool, a->id,
			   cf_report_arch(a->report), b->id,
			   cf_report_arch(b->report));
}

enum cf_err cf_members_pool(const char *pool, const struct cf_whatif_host *m,
			    size_t n, bool what_if,
			    const struct cf_whatif_bounds *b,
			    struct cf_pool **out, struct cf_diag *d)
{
	struct cf_diag pd = { "" };
	enum cf_err err;

	*out = NULL;
	if (cf_pool_create(cf_report_arch(m[0].report), out) != CF_OK)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (i % CF_MEMBERS_CANCEL_EVERY == 0 &&
		    (err = cf_members_cancelled(b, d)) != CF_OK)
			return err;
		err = cf_pool_add_as(*out, m[i].report, m[i].id, &pd);
		if (err == CF_EARCH)
			return mixed(pool, &m[0], &m[i], what_if, d);
		if (err == CF_ENOMEM)
			return cf_diag_set(d, err, "out of memory");
		if (err != CF_OK)
			return cf_diag_set(d, CF_ECONFLICT, "pool %s: %s", pool,
					   pd.msg);
	}
	return CF_OK;
}
