/* A VM with a profile programmed, for `apply --check-only` and the lab:
 * cf_a64vm's creation with the apply library's steps added in KVM's
 * order.  Above both, so the apply library's scratch VM (a64vm) and this
 * never call each other.  aarch64 builds only. */
#ifndef CF_A64GUEST_H
#define CF_A64GUEST_H

#include <stdint.h>
#include <cpufleet.h>
#include "arch/arm64/a64vm.h"

/* A VM whose VM capabilities are PR's (when PR is not NULL) and whose SVE
 * lengths are VLS (8 words) or, with PR and REF, PR's; a refusal of the
 * lengths fills REF and still returns the VM. */
enum cf_err cf_a64guest_create(uint32_t features, const struct cf_profile *pr,
			       const uint64_t *vls, struct cf_apply_refusal *ref,
			       struct cf_a64vm **out, struct cf_diag *d);
/* A VM with PR programmed in KVM's order (capabilities, SVE lengths, ID
 * and firmware registers) and, unless KVM refused (REF), the vGIC and PMU
 * initialised, ready to run. */
enum cf_err cf_a64guest_create_applied(uint32_t features,
				       const struct cf_profile *pr,
				       struct cf_apply_refusal *ref,
				       struct cf_a64vm **out,
				       struct cf_diag *d);

#endif
