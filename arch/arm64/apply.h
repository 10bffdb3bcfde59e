/* The apply path's refusal naming, shared with the lab agent's restore. */
#ifndef CF_APPLY_H
#define CF_APPLY_H

#include <stdbool.h>
#include <cpufleet.h>
#include "engine/arch.h"

/* Fills REF for KEY refused by KVM (ERR, or 0 when the write read back as
 * GOT), naming the field the way check() would on HOST ("" = this host)
 * with limit LIM and writable mask WR; WCAP: whether the host offers the
 * capability KEY needs to take another value (catalogue `wcap`; true for
 * registers without one). */
void cf_arm64_refusal(struct cf_apply_refusal *ref, const struct cf_arch_ops *a,
		      const char *host, uint64_t key, uint64_t want, uint64_t lim,
		      uint64_t wr, bool wcap, int err, uint64_t got);

#endif
