/* What-if on a pool: the members changed, the new baseline, its features
 * against a profile (cf_explain_profiles), and who would refuse it. */
#include <stdlib.h>
#include <string.h>
#include "fleet/members.h"
#include "fleet/whatif.h"
#include "util/diag.h"

static int by_host(const void *a, const void *b)
{
	return strcmp(((const struct cf_whatif_host *)a)->id,
		      ((const struct cf_whatif_host *)b)->id);
}

static bool member(const struct cf_whatif_host *hs, size_t n,
		   const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(hs[i].id, host))
			return true;
	return false;
}

static bool listed(const char *const *names, size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], host))
			return true;
	return false;
}

/* W->m: CUR without REMOVE and ADD's hosts, then ADD; by host id. */
static enum cf_err members(const char *pool, const struct cf_whatif_host *cur,
			   size_t ncur, const struct cf_whatif_host *add,
			   size_t nadd, const char *const *remove,
			   size_t nremove, struct cf_whatif *w,
			   struct cf_diag *d)
{
	w->m = calloc(ncur + nadd + 1, sizeof(*w->m));
	w->added = calloc(nadd + 1, sizeof(*w->added));
	w->removed = calloc(nremove + 1, sizeof(*w->removed));
	if (!w->m || !w->added || !w->removed)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	for (size_t i = 0; i < nremove; i++) {
		if (!member(cur, ncur, remove[i]))
			return cf_diag_set(d, CF_ENOTFOUND, "remove %s: no such "
					   "host in pool %s", remove[i], pool);
		w->removed[w->nremoved++] = remove[i];
	}
	for (size_t i = 0; i < nadd; i++) {
		const char *h = add[i].id;
		if (listed(w->added, w->nadded, h))
			return cf_diag_set(d, CF_EINVAL, "add: host %s given "
					   "twice", h);
		if (listed(w->removed, w->nremoved, h))
			return cf_diag_set(d, CF_EINVAL, "host %s both added "
					   "and removed", h);
		w->added[w->nadded++] = h;
	}
	for (size_t i = 0; i < ncur; i++) {
		const char *h = cur[i].id;
		if (!listed(w->removed, w->nremoved, h) &&
		    !listed(w->added, w->nadded, h))
			w->m[w->n++] = cur[i];
	}
	for (size_t i = 0; i < nadd; i++)
		w->m[w->n++] = add[i];
	if (w->n == 0)
		return cf_diag_set(d, CF_EEMPTY, "pool %s would have no host "
				   "left", pool);
	qsort(w->m, w->n, sizeof(*w->m), by_host);
	return CF_OK;
}

/* The baseline of RS (N > 0), one architecture. */
static enum cf_err baseline_of(const char *pool,
			       const struct cf_whatif_host *rs, size_t n,
			       const struct cf_whatif_bounds *b,
			       struct cf_profile **out, struct cf_diag *d)
{
	struct cf_pool *p = NULL;
	enum cf_err err = cf_members_pool(pool, rs, n, true, b, &p, d);

	if (err == CF_OK)
		err = cf_baseline(p, out);
	cf_pool_destroy(p);
	if (err == CF_ENOMEM)
		return cf_diag_set(d, err, "out of memory");
	return err;
}

/* Appends HOST's refusal V (taken over) to W. */
static enum cf_err add_refusal(struct cf_whatif *w, const char *host,
			       struct cf_verdict *v)
{
	struct cf_whatif_refusal *r = realloc(w->refused,
		(w->nrefused + 1) * sizeof(*r));

	if (!r) {
		cf_verdict_destroy(v);
		return CF_ENOMEM;
	}
	w->refused = r;
	r[w->nrefused++] = (struct cf_whatif_refusal){ host, v };
	return CF_OK;
}

/* Who of W's members refuses W->after: each distinct configuration checked
 * once, and a refused one again for each of its members under the
 * member's own host id (the report a member is given may be another
 * host's of the same configuration). */
static enum cf_err refusals(struct cf_whatif *w,
			    const struct cf_whatif_bounds *b, struct cf_diag *d)
{
	const struct cf_report **rs = calloc(w->n + 1, sizeof(*rs));
	size_t *group = calloc(w->n + 1, sizeof(*group));
	size_t *first = calloc(w->n + 1, sizeof(*first));
	bool *refused = NULL;
	struct cf_verdict *v = cf_verdict_create();
	size_t k = 0;
	enum cf_err err = CF_ENOMEM;

	if (!rs || !group || !first || !v)
		goto done;
	for (size_t i = 0; i < w->n; i++)
		rs[i] = w->m[i].report;
	err = cf_matrix_group(rs, w->n, group, first, &k);
	if (err == CF_OK && !(refused = calloc(k + 1, sizeof(*refused))))
		err = CF_ENOMEM;
	for (size_t g = 0; err == CF_OK && g < k; g++) {
		if ((err = cf_members_cancelled(b, d)) != CF_OK)
			goto done;
		err = cf_check(w->after, rs[first[g]], v);
		refused[g] = err == CF_OK && !cf_verdict_compatible(v);
	}
	for (size_t i = 0; err == CF_OK && i < w->n; i++) {
		struct cf_report *as = NULL;
		struct cf_verdict *mine;
		if (!refused[group[i]])
			continue;
		if (!(mine = cf_verdict_create()) ||
		    cf_report_clone_as(rs[i], w->m[i].id, &as) != CF_OK) {
			cf_verdict_destroy(mine);
			err = CF_ENOMEM;
			break;
		}
		err = cf_check(w->after, as, mine);
		cf_report_destroy(as);
		err = err == CF_OK ? add_refusal(w, w->m[i].id, mine)
				   : (cf_verdict_destroy(mine), err);
	}
done:
	free(rs);
	free(group);
	free(first);
	free(refused);
	cf_verdict_destroy(v);
	return err;
}

static enum cf_err copy_names(const struct cf_explain *e, bool in_a,
			      char ***out, size_t *n)
{
	const char *s;

	for (size_t i = 0; (s = in_a ? cf_explain_only_in_a(e, i)
				     : cf_explain_only_in_b(e, i)); i++) {
		char **grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown)
			return CF_ENOMEM;
		*out = grown;
		if (!((*out)[*n] = strdup(s)))
			return CF_ENOMEM;
		(*n)++;
	}
	return CF_OK;
}

enum cf_err cf_whatif_run(const char *pool,
			  const struct cf_whatif_host *cur, size_t ncur,
			  const struct cf_whatif_host *add, size_t nadd,
			  const char *const *remove, size_t nremove,
			  const struct cf_profile *against,
			  const struct cf_whatif_bounds *b,
			  struct cf_whatif *out, struct cf_diag *d)
{
	struct cf_profile *now = NULL;
	struct cf_explain *e = NULL;
	enum cf_err err;

	memset(out, 0, sizeof(*out));
	err = members(pool, cur, ncur, add, nadd, remove, nremove, out, d);
	if (err == CF_OK && b && b->max_hosts && out->n > b->max_hosts)
		return cf_diag_set(d, CF_ETOOBIG, "pool %s would have %zu "
				   "members: over the limit of %zu hosts per "
				   "pool a request computes over", pool, out->n,
				   b->max_hosts);
	if (err == CF_OK)
		err = baseline_of(pool, out->m, out->n, b, &out->after, d);
	if (err == CF_OK && cf_profile_to_json(out->after, &out->after_json))
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
	if (err == CF_OK && !against) {
		if (!ncur)
			return cf_diag_set(d, CF_EEMPTY, "pool %s has no member "
					   "that has reported", pool);
		err = baseline_of(pool, cur, ncur, b, &now, d);
		against = now;
	}
	if (err == CF_OK) {
		err = cf_explain_profiles(against, out->after, &e);
		if (err == CF_EARCH)
			err = cf_diag_set(d, CF_ECONFLICT, "pool %s: the new "
					  "baseline is %s, the profile it is "
					  "compared with %s", pool,
					  cf_profile_arch(out->after),
					  cf_profile_arch(against));
	}
	if (err == CF_OK && (copy_names(e, true, &out->lost, &out->nlost) ||
			     copy_names(e, false, &out->gained, &out->ngained)))
		err = CF_ENOMEM;
	if (err == CF_OK)
		err = refusals(out, b, d);
	if (err == CF_ENOMEM && d && !d->msg[0])
		cf_diag_set(d, err, "out of memory");
	else if (err != CF_OK && d && !d->msg[0])
		cf_diag_set(d, err, "pool %s: %s", pool, cf_strerror(err));
	cf_explain_destroy(e);
	cf_profile_destroy(now);
	return err;
}

void cf_whatif_clear(struct cf_whatif *w)
{
	free(w->m);
	free(w->added);
	free(w->removed);
	cf_profile_destroy(w->after);
	free(w->after_json);
	for (size_t i = 0; i < w->ngained; i++)
		free(w->gained[i]);
	for (size_t i = 0; i < w->nlost; i++)
		free(w->lost[i]);
	free(w->gained);
	free(w->lost);
	for (size_t i = 0; i < w->nrefused; i++)
		cf_verdict_destroy(w->refused[i].v);
	free(w->refused);
	memset(w, 0, sizeof(*w));
}
