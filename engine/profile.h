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
	CF_CONFLICT_KVM_RULE = 6,     /* a host's KVM refuses the combined
					 values by a rule of its own
					 (catalogue `refuse`) */
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

/* One implementation: the values of the catalogue's identity registers
 * (CF_REG_IDENTITY: MIDR_EL1, REVIDR_EL1, AIDR_EL1), in catalogue order. */
#define CF_IMPL_REGS 4
struct cf_impl {
	uint64_t val[CF_IMPL_REGS];
	uint8_t present[CF_IMPL_REGS];
};

/* A feature the baseline left out because a feature it needs is not kept
 * (the catalogue's `needs` rules, or an XSAVE layout the hosts do not
 * share). */
#define CF_DROP_REASON_MAX 512
struct cf_dropped {
	uint64_t key;
	int field;                 /* field index, -1: bits of the register */
	uint64_t from, to;         /* the field's raw value (or the register) */
	char feature[CF_TEXT_MAX]; /* what went: "avx512f" */
	char needs[CF_TEXT_MAX];   /* what it needs, in words */
	char reason[CF_DROP_REASON_MAX]; /* "dropped avx512f: needs ..., which ..." */
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

enum cf_err cf_profile_alloc(const struct cf_arch_ops *arch,
			     struct cf_profile **out);
/* Catalogue indexes of the identity registers, in catalogue order, into
 * RI; returns how many (at most CF_IMPL_REGS, gen_catalog.awk checks). */
size_t cf_impl_regs(const struct cf_catalog *cat, size_t ri[CF_IMPL_REGS]);
/* C's identity (registers RI[0..N-1]) into OUT. */
void cf_impl_of(const struct cf_config *c, const size_t *ri, size_t n,
		struct cf_impl *out);
/* Orders identities: register by register, absent before present, then
 * by value. */
int cf_impl_cmp(const struct cf_impl *a, const struct cf_impl *b, size_t n);
/* Adds IM to PR's implementations unless listed (kept ascending). */
enum cf_err cf_profile_add_impl(struct cf_profile *pr, const struct cf_impl *im);

/* "REG" or "REG.FIELD" for a conflict. */
void cf_conflict_name(const struct cf_profile *pr, const struct cf_conflict *c,
		      char *buf, size_t len);

#endif
