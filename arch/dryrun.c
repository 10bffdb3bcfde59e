/* The drivers' dry runs (`apply --check-only`), registered in
 * arch/driver.c and declared in arch/driver.h: above each architecture's
 * VM code, so the registry includes none of it. */
#include <stdlib.h>
#include <string.h>
#include "arch/driver.h"
#include "arch/x86/apply.h"
#include "arch/x86/x86vm.h"
#include "util/diag.h"
#if defined(__aarch64__)
#include "arch/arm64/a64guest.h"
#endif

/* x86: the scratch VM as the guest check makes it (the profile's split
 * irqchip), and with O->guest the guest check itself. */
enum cf_err cf_x86_dry_run(const struct cf_profile *pr,
			   const struct cf_apply_opts *o,
			   struct cf_apply_run *run, struct cf_diag *d)
{
	struct cf_x86_guest_result *g = calloc(1, sizeof(*g));
	struct cf_x86vm *vm = NULL;
	struct cf_x86_vm_opts vo;
	enum cf_err err;

	memset(run, 0, sizeof(*run));
	if (!g)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	if (o->guest) {
		err = cf_x86_guest_check(pr, g, d);
	} else {
		cf_x86_scratch_opts(pr, &vo);
		err = cf_x86vm_create_applied(pr, &vo, 1, &g->apply, &vm, d);
		cf_x86vm_destroy(vm);
	}
	if (err != CF_OK) {
		free(g);
		return err;
	}
	run->refusal = g->apply.refusal;
	run->x86 = g;
	return CF_OK;
}

/* arm64: a vCPU with O->features, ID registers first, then firmware
 * registers; KVM access exists only in aarch64 builds (the Makefile links
 * arch/arm64/a64vm.c there). */
enum cf_err cf_arm64_dry_run(const struct cf_profile *pr,
			     const struct cf_apply_opts *o,
			     struct cf_apply_run *run, struct cf_diag *d)
{
	memset(run, 0, sizeof(*run));
#if defined(__aarch64__)
	struct cf_a64vm *vm = NULL;
	enum cf_err err = cf_a64guest_create_applied(o->features, pr,
						     &run->refusal, &vm, d);
	cf_a64vm_destroy(vm);
	return err;
#else
	(void)pr;
	(void)o;
	return cf_diag_set(d, CF_EARCH, "applying an arm64 profile needs an "
			   "arm64 host with KVM (this is not one)");
#endif
}
