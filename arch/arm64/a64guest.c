#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "arch/arm64/a64guest.h"
#include "arch/arm64/kvm_uapi.h"
#include "util/diag.h"

#define SVE_VLS_ID 0x606000000015ffffULL

struct steps_ctx {
	const struct cf_profile *pr;
	const uint64_t *vls;
	struct cf_apply_refusal *ref;
};

static enum cf_err vm_step(int vm_fd, void *ctx, struct cf_diag *d)
{
	struct steps_ctx *s = ctx;

	return s->pr ? cf_arm64_apply_vm(vm_fd, s->pr, NULL, d) : CF_OK;
}

static enum cf_err vcpu_step(int vcpu_fd, void *ctx, struct cf_diag *d)
{
	struct steps_ctx *s = ctx;

	if (s->vls) {
		struct kvm_one_reg r = { .id = SVE_VLS_ID,
					 .addr = (uint64_t)(uintptr_t)s->vls };
		if (ioctl(vcpu_fd, KVM_SET_ONE_REG, &r) == 0)
			return CF_OK;
		if (!s->ref)
			return cf_diag_set(d, CF_EIO, "KVM_REG_ARM64_SVE_VLS: %s",
					   strerror(errno));
		/* A refusal, not a failure: the caller reports it. */
		s->ref->refused = true;
		s->ref->err = errno;
		snprintf(s->ref->reg, sizeof(s->ref->reg), "SVE_VLS");
		snprintf(s->ref->text, sizeof(s->ref->text),
			 "KVM_REG_ARM64_SVE_VLS: %s", strerror(errno));
		return CF_OK;
	}
	if (s->pr && s->ref)
		return cf_arm64_apply_vcpu(vcpu_fd, s->pr, s->ref, d);
	return CF_OK;
}

enum cf_err cf_a64guest_create(uint32_t features, const struct cf_profile *pr,
			       const uint64_t *vls, struct cf_apply_refusal *ref,
			       struct cf_a64vm **out, struct cf_diag *d)
{
	struct steps_ctx s = { .pr = pr, .vls = vls, .ref = ref };
	struct cf_a64vm_steps steps = { vm_step, vcpu_step, &s };

	if (ref)
		memset(ref, 0, sizeof(*ref));
	return cf_a64vm_create_with(features, &steps, out, d);
}

enum cf_err cf_a64guest_create_applied(uint32_t features,
				       const struct cf_profile *pr,
				       struct cf_apply_refusal *ref,
				       struct cf_a64vm **out,
				       struct cf_diag *d)
{
	enum cf_err err = cf_a64guest_create(features, pr, NULL, ref, out, d);
	int vcpu;

	if (err != CF_OK || ref->refused)
		return err;
	vcpu = cf_a64vm_vcpu_fd(*out);
	err = cf_arm64_apply(cf_a64vm_vm_fd(*out), &vcpu, 1, pr, ref, d);
	if (err == CF_OK && !ref->refused)
		err = cf_a64vm_finish(*out, d);
	if (err != CF_OK) {
		cf_a64vm_destroy(*out);
		*out = NULL;
	}
	return err;
}
