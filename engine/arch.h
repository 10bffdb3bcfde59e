/* Per-architecture operations the arch-neutral engine calls. */
#ifndef CF_ARCH_H
#define CF_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>
#include "engine/catalog.h"

struct cf_config;

struct cf_arch_ops {
	const char *name;      /* "arm64": also the report's section key */
	const char *regs_key;  /* key of the register map in that section */
	const char *pseudo_key; /* key of the pseudo-register map, or NULL */
	const char *facts_key;  /* key of the KVM facts map, or NULL */
	const struct cf_catalog *catalog;
	/* A register a host does not report reads as zero and may be set to
	 * anything (x86: a CPUID leaf KVM does not list); else it is missing,
	 * and a pool where only some hosts have it has no baseline. */
	bool absent_is_zero;
	/* The CPU vendor a configuration names, or NULL: hosts of different
	 * vendors never share a pool (x86). */
	bool (*vendor)(const struct cf_config *c, char *buf, size_t len);
	/* Rules across registers applied to a baseline after the per-field
	 * combine (x86: features whose describing leaf is gone), or NULL. */
	enum cf_err (*finish)(struct cf_config *c);
	/* Registers that matter only when the wanted side has a feature, or
	 * NULL (catalogue data: arch/x86/cpuid.txt `gate=`). */
	const struct cf_gates *gates;
	/* Features that need others, or NULL (catalogue data: `needs`). */
	const struct cf_deps *deps;
	/* Values KVM refuses by a rule of its own, or NULL (catalogue data:
	 * `refuse`). */
	const struct cf_refusals *refusals;
	/* What a whole value of register REG names, or NULL (arm64: the
	 * core of a MIDR_EL1 value); NULL hook for none. */
	const char *(*value_name)(const char *reg, uint64_t value);
	/* Encoding name of a register the catalogue lacks ("S3_0_C0_C4_7"). */
	/* Named levels (Armv8.2, x86-64-v3: the architecture's table): FN
	 * for every feature level LEVEL must not go beyond (perhaps more
	 * than once), stopping at FN's first error in *ERR; false for no
	 * level of that name.  LEVEL_RANGE names them for a message.  NULL
	 * hook: no named levels. */
	bool (*level_beyond)(const char *level,
			     enum cf_err (*fn)(void *ctx, const char *feat),
			     void *ctx, enum cf_err *err);
	const char *level_range;
	int (*regname_parse)(const char *name, uint64_t *key);
	void (*regname_format)(uint64_t key, char *buf, size_t len);
};

/* The engine's operations of architecture NAME, or NULL: its driver's
 * (arch/driver.h, the one registry). */
const struct cf_arch_ops *cf_arch_find(const char *name);

/* Register name for KEY: the catalogue's, else the encoding name. */
void cf_arch_regname(const struct cf_arch_ops *a, uint64_t key, char *buf,
		     size_t len);
/* Register key for NAME (catalogue name or encoding name); 0 on success. */
int cf_arch_regkey(const struct cf_arch_ops *a, const char *name, uint64_t *key);

/* True if KEY is a gated register and WANT, the configuration a guest is
 * given (a profile), has none of its gates: the register describes a
 * feature the guest does not have, so it is not judged, and a baseline
 * clears it. */
bool cf_arch_gate_closed(const struct cf_arch_ops *a,
			 const struct cf_config *want, uint64_t key);


#endif
