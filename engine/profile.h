/* A profile: register values to program into every host of a pool, the
 * hosts it was computed for, and the conflicts that make it infeasible. */
#ifndef CF_PROFILE_H
#define CF_PROFILE_H

#include <cpufleet.h>
#include "engine/config.h"
#include "engine/pool.h"

#define CF_CONFLICT_REG (-1)     /* bits outside described fields */
#define CF_CONFLICT_PRESENT (-2) /* reported by some hosts only */

enum cf_conflict_kind {
	CF_CONFLICT_NOT_WRITABLE = 1, /* differs; some host cannot change it */
	CF_CONFLICT_NO_COMMON = 2,    /* no value every host accepts */
	CF_CONFLICT_UNDESCRIBED = 3,
	CF_CONFLICT_MISSING = 4,
	CF_CONFLICT_VENDOR = 5,       /* hosts of different CPU vendors */
};

struct cf_conflict {
	enum cf_conflict_kind kind;
	uint64_t key;
	int field;        /* field index, or CF_CONFLICT_REG / _PRESENT */
	uint64_t *gval;   /* per group: field value (raw) or register bits */
	uint8_t *gpresent;
	char feature[CF_TEXT_MAX];
	char reason[CF_TEXT_MAX];
};

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
};

enum cf_err cf_profile_alloc(const struct cf_arch_ops *arch,
			     struct cf_profile **out);
/* "REG" or "REG.FIELD" for a conflict. */
void cf_conflict_name(const struct cf_profile *pr, const struct cf_conflict *c,
		      char *buf, size_t len);

#endif
