/* Internal check entry points, for the apply path. */
#ifndef CF_CHECK_H
#define CF_CHECK_H

#include <stdbool.h>
#include <cpufleet.h>
#include "engine/arch.h"

/* Resets V to host HOST and adds the reasons KVM would refuse WANT for
 * register KEY on a host with limit LIM and writable mask WR; WCAP_OFFERED:
 * whether the host offers the capability the catalogue says KEY needs to
 * change (`wcap`; ignored for other registers). */
enum cf_err cf_check_register(struct cf_verdict *v, const struct cf_arch_ops *a,
			      const char *host, uint64_t key, uint64_t want,
			      uint64_t lim, uint64_t wr, bool wcap_offered);

/* Does the host (HC, Linux KERNEL as major * 1000 + minor, 0 not known)
 * refuse what profile PC asks by the catalogue's rule R?  Never where
 * every register R reads in the profile is the host's own (KVM made
 * them). */
bool cf_check_refused(const struct cf_refusal *r, const struct cf_config *pc,
		      const struct cf_config *hc, uint32_t kernel);

#endif
