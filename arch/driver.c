/* The architecture registry. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "arch/driver.h"
#include "arch/x86/apply.h"
#include "arch/x86/x86vm.h"
#include "engine/arch.h"
#include "profiles/section.h"
#include "util/diag.h"
#if defined(__aarch64__)
#include "arch/arm64/a64vm.h"
#endif

static enum cf_err x86_collect(uint32_t features, const char *host_id,
			       struct cf_report **out, struct cf_diag *d)
{
	(void)features;
	return cf_x86_collect(host_id, out, d);
}

/* x86: the scratch VM as the guest check makes it (the profile's split
 * irqchip), and with O->guest the guest check itself. */
static enum cf_err x86_apply(const struct cf_profile *pr,
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
static enum cf_err arm64_apply(const struct cf_profile *pr,
			       const struct cf_apply_opts *o,
			       struct cf_apply_run *run, struct cf_diag *d)
{
	memset(run, 0, sizeof(*run));
#if defined(__aarch64__)
	struct cf_a64vm *vm = NULL;
	enum cf_err err = cf_a64vm_create_applied(o->features, pr, &run->refusal,
						  &vm, d);
	cf_a64vm_destroy(vm);
	return err;
#else
	(void)pr;
	(void)o;
	return cf_diag_set(d, CF_EARCH, "applying an arm64 profile needs an "
			   "arm64 host with KVM (this is not one)");
#endif
}

static const struct cf_driver drivers[] = {
	{ .ops = &cf_arm64_ops, .codec = &cf_section_regmap,
	  .machine = "aarch64", .collect = cf_arm64_collect,
	  .apply = arm64_apply, .apply_features = true },
	{ .ops = &cf_x86_ops, .codec = &cf_section_x86, .machine = "x86_64",
	  .collect = x86_collect, .apply = x86_apply, .apply_guest = true,
	  .judge_first = true, .kvm_lacks = cf_x86_kvm_lacks },
};

const struct cf_driver *cf_driver_find(const char *arch)
{
	for (size_t i = 0; arch && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strcmp(drivers[i].ops->name, arch))
			return &drivers[i];
	return NULL;
}

const struct cf_driver *cf_driver_native(void)
{
	struct utsname u;

	if (uname(&u) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strcmp(drivers[i].machine, u.machine))
			return &drivers[i];
	return NULL;
}
