/* What-if on a pool: its members changed (reports added, hosts removed),
 * the new baseline, the features it gains and loses against a profile
 * (the pool's published version, or the baseline of its members now),
 * and the members after the change that would refuse it.  On engine
 * objects only (no storage, no JSON tree): it stores nothing, so the
 * server and `cpufleet pools --what-if` on files share it. */
#ifndef CF_WHATIF_H
#define CF_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <cpufleet.h>

/* A host: its id and the report of its configuration (whose own host id
 * is not used, as cf_pool_add_as). */
struct cf_whatif_host {
	const char *id;
	const struct cf_report *report;
};

struct cf_whatif_refusal {
	const char *host;            /* a member's host id */
	struct cf_verdict *v;        /* why it refuses the new baseline */
};

struct cf_whatif {
	struct cf_whatif_host *m;    /* the members after the change, by host
					id (borrowed from the caller) */
	size_t n;
	const char **added, **removed; /* host ids, as given */
	size_t nadded, nremoved;
	struct cf_profile *after;    /* the new baseline (maybe infeasible) */
	char *after_json;            /* its document */
	char **gained, **lost;       /* FEAT_ / flag names against AGAINST */
	size_t ngained, nlost;
	struct cf_whatif_refusal *refused;
	size_t nrefused;
};

/* A request's bounds: more members after the change than MAX_HOSTS (0: no
 * limit) is CF_ETOOBIG naming the limit, nothing computed; CANCELLED (NULL:
 * never) is asked while the pools are built and before each
 * configuration's check, and a true answer stops the work with
 * CF_ECANCELED. */
struct cf_whatif_bounds {
	size_t max_hosts;
	bool (*cancelled)(void *ctx);
	void *ctx;
};

/* The pool POOL (a name for messages) of members CUR, without the hosts
 * REMOVE (each must be a member: else CF_ENOTFOUND naming it and POOL)
 * and with the reports ADD (one of a member's host replaces that
 * member's; a host id twice in ADD is CF_EINVAL); its baseline compared
 * with AGAINST (NULL: the baseline of CUR).  No member left is CF_EEMPTY,
 * two architectures CF_ECONFLICT naming a host of each.  Free OUT with
 * cf_whatif_clear, also after a failure.  Under bounds B (NULL:
 * none).  Members are checked once per distinct configuration
 * (cf_matrix_group); only a configuration the new baseline is refused on
 * is checked again for each of its members, so each refusal names its
 * own host. */
enum cf_err cf_whatif_run(const char *pool,
			  const struct cf_whatif_host *cur, size_t ncur,
			  const struct cf_whatif_host *add, size_t nadd,
			  const char *const *remove, size_t nremove,
			  const struct cf_profile *against,
			  const struct cf_whatif_bounds *b,
			  struct cf_whatif *out, struct cf_diag *d);
void cf_whatif_clear(struct cf_whatif *w);

#endif
