/* The x86 catalogue generated from arch/x86/cpuid.txt by
 * arch/x86/gen_cpuid.awk: CPUID output registers and feature MSRs, and the
 * x86-64 psABI micro-architecture levels. */
#ifndef CF_X86_CATALOG_H
#define CF_X86_CATALOG_H

#include <stddef.h>
#include "engine/catalog.h"

/* One psABI level (x86-64-v1 .. x86-64-v4).  Levels are cumulative: each
 * lists only the flags it adds to the one before, by the names of the
 * catalogue's flag fields (the Linux /proc/cpuinfo spelling). */
struct cf_x86_level {
	const char *name;
	const char *const *flags;
	size_t nflags;
};

extern const struct cf_catalog cf_x86_catalog;
/* Lowest level first; cf_x86_nlevels entries. */
extern const struct cf_x86_level cf_x86_levels[];
extern const size_t cf_x86_nlevels;
/* Registers that matter only with a feature (cpuid.txt `gate=`). */
extern const struct cf_gates cf_x86_gates;
/* Features that need others (cpuid.txt `needs`). */
extern const struct cf_deps cf_x86_deps;

#endif
