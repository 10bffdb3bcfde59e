/* A pool of hosts, deduplicated by CPU configuration: N hosts with K
 * distinct configurations cost K in the baseline. */
#ifndef CF_POOL_H
#define CF_POOL_H

#include <cpufleet.h>
#include "engine/config.h"

struct cf_group {
	struct cf_config *cfg;
	uint32_t first_host; /* index of the first host with this config */
	uint32_t nhosts;
};

/* Host ids stored back to back; ids[i] is an offset into the arena. */
struct cf_hostset {
	char *arena;
	size_t used, cap;
	size_t *off;
	uint32_t *group; /* group of host i */
	size_t n, ncap;
};

struct cf_pool {
	const struct cf_arch_ops *arch;
	struct cf_hostset hosts;
	/* Open addressing over host ids: index+1 in the low 32 bits (0 =
	 * empty), the id's hash in the high 32, so that neither a probe nor
	 * growing the table reads the ids themselves. */
	uint64_t *idtab;
	size_t idtab_cap;
	struct cf_group *groups;
	size_t ngroups, gcap;
	uint32_t *fptab;      /* open addressing over fingerprints: group+1 */
	size_t fptab_cap;
};

static inline const char *cf_hostset_id(const struct cf_hostset *h, size_t i)
{
	return h->arena + h->off[i];
}

/* Appends host ID in group GROUP; *INDEX (if not NULL) gets its index. */
enum cf_err cf_hostset_add(struct cf_hostset *h, const char *id, uint32_t group,
			   size_t *index);
/* Copies SRC into DST (DST zeroed first). */
enum cf_err cf_hostset_copy(struct cf_hostset *dst, const struct cf_hostset *src);
void cf_hostset_free(struct cf_hostset *h);

#endif
