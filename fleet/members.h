/* Fleet-private (not installed): the engine's pool of a list of members,
 * each a host id and the report of its configuration, built under a
 * request's bounds.  Baseline (fleet/compute.c) and what-if
 * (fleet/whatif.c) build their pools with it. */
#ifndef CF_MEMBERS_H
#define CF_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <cpufleet.h>
#include "fleet/whatif.h"

/* Long work asks every this many members whether its caller has gone. */
#define CF_MEMBERS_CANCEL_EVERY 256

/* CF_ECANCELED (D says the client has gone) when B's cancelled() says so,
 * else CF_OK; B NULL: never. */
enum cf_err cf_members_cancelled(const struct cf_whatif_bounds *b,
				 struct cf_diag *d);

/* The pool of M[0..N) (N > 0), each added with its report as
 * cf_pool_add_as does, asking B's cancelled() at every
 * CF_MEMBERS_CANCEL_EVERY-th member from the first.  Members of two
 * architectures are CF_ECONFLICT naming a host of each: WHAT_IF words it
 * as a change that would mix them, else as a pool whose labels now select
 * both.  POOL names the pool in messages. */
enum cf_err cf_members_pool(const char *pool, const struct cf_whatif_host *m,
			    size_t n, bool what_if,
			    const struct cf_whatif_bounds *b,
			    struct cf_pool **out, struct cf_diag *d);

#endif
