/* A profile: register values to program into every host of a pool, the
 * hosts it was computed for, and the conflicts that make it infeasible. */
#ifndef CF_PROFILE_H
#define CF_PROFILE_H

#include <cpufleet.h>
#include "engine/config.h"
#include "engine/pool.h"
#include "engine/handles.h"

struct cf_profile {
	const struct cf_arch_ops *arch;
	struct cf_config *cfg;     /* values; writable masks unused.  Its
				      capabilities are the pool's common
				      set: advice, never judged */
	struct cf_config *enabled; /* capabilities the profile's VMs enable
				      (role guest), each judged; NULL: none */
	struct cf_hostset hosts;   /* group[i] indexes the conflicts' gval */
	size_t ngroups;
	struct cf_conflict *conf;
	size_t nconf;
	size_t doc_conflicts;      /* conflicts listed in a parsed document */
	char *doc_conflicts_json;  /* and their JSON text, written back as is */
	char **doc_conflict_text;  /* [doc_conflicts] "REG.FIELD (FEAT): reason" */
	struct cf_impl *impl;      /* the pool's implementations: every member's
				      identity, distinct, ascending */
	size_t nimpl;
	struct cf_dropped *drop;   /* what the baseline left out, in order */
	size_t ndrop;
	size_t doc_drops;          /* entries of a parsed document's "dropped" */
	char *doc_drops_json;      /* and their JSON text, written back as is */
	char **doc_drop_text;      /* [doc_drops] their "reason" */
};

/* Appends D to PR's dropped features. */
enum cf_err cf_profile_add_dropped(struct cf_profile *pr,
				   const struct cf_dropped *d);

/* C's identity (registers RI[0..N-1]) into OUT. */
void cf_impl_of(const struct cf_config *c, const size_t *ri, size_t n,
		struct cf_impl *out);
/* Orders identities: register by register, absent before present, then
 * by value. */
int cf_impl_cmp(const struct cf_impl *a, const struct cf_impl *b, size_t n);

/* "REG" or "REG.FIELD" for a conflict. */
void cf_conflict_name(const struct cf_profile *pr, const struct cf_conflict *c,
		      char *buf, size_t len);

#endif
