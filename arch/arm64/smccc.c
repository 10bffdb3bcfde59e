/* Errata targets (KVM 6.15+): the guest's SMCCC "discover implementation"
 * calls, answered from a profile's implementations (numbers and sources
 * in arch/arm64/smccc.h). */
#include <errno.h>
#include <string.h>
#include "arch/arm64/smccc.h"
#include "engine/profile.h"
#include "util/diag.h"

void cf_smccc_impl(const struct cf_profile *pr, size_t i,
		   struct cf_smccc_impl *out)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(cat, ri);

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < n; k++) {
		const char *name = cat->regs[ri[k]].name;
		uint64_t v = pr->impl[i].present[k] ? pr->impl[i].val[k] : 0;
		if (!strcmp(name, "MIDR_EL1"))
			out->midr = v;
		else if (!strcmp(name, "REVIDR_EL1"))
			out->revidr = v;
		else if (!strcmp(name, "AIDR_EL1"))
			out->aidr = v;
	}
}

bool cf_smccc_answer(const struct cf_profile *pr, uint64_t func_id,
		     const uint64_t args[3], uint64_t ret[4])
{
	struct cf_smccc_impl im;

	/* The function ID is w0 (SMCCC; KVM's smccc_get_function()). */
	switch ((uint32_t)func_id) {
	case CF_SMCCC_DISCOVER_IMPL_VER:
		ret[0] = CF_SMCCC_SUCCESS;
		ret[1] = CF_SMCCC_IMPL_VERSION;
		ret[2] = pr->nimpl;
		ret[3] = 0;
		return true;
	case CF_SMCCC_DISCOVER_IMPL_CPUS:
		if (args[0] >= pr->nimpl) {
			ret[0] = CF_SMCCC_INVALID_PARAMETER;
			ret[1] = ret[2] = ret[3] = 0;
			return true;
		}
		cf_smccc_impl(pr, (size_t)args[0], &im);
		ret[0] = CF_SMCCC_SUCCESS;
		ret[1] = im.midr;
		ret[2] = im.revidr;
		ret[3] = im.aidr;
		return true;
	default:
		return false;
	}
}

uint64_t cf_smccc_bmap2(uint64_t cur)
{
	return cur | CF_SMCCC_BMAP2_BITS;
}

#if defined(__aarch64__)
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include "arch/arm64/kvm_uapi.h"

/* x0..x3 (KVM_REG_ARM_CORE, offsets in 32-bit words of struct kvm_regs). */
static uint64_t xreg(int i)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offsetof(struct kvm_regs, regs.regs[0]) / sizeof(uint32_t) +
		(uint64_t)i * 2);
}

/* KVM_GET_ONE_REG or KVM_SET_ONE_REG (REQ) of a 64-bit register; errno. */
static int one_reg(int fd, unsigned long req, uint64_t id, uint64_t *v)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)v };
	return ioctl(fd, req, &r) == 0 ? 0 : errno;
}

enum cf_err cf_arm64_apply_errata(int vm_fd, const int *vcpu_fds,
				  size_t nvcpus, const struct cf_profile *pr,
				  struct cf_arm64_errata *out,
				  struct cf_diag *d)
{
	/* Documentation/virt/kvm/devices/vm.rst, group KVM_ARM_VM_SMCCC_CTRL:
	 * [base, base + nr_functions) gets ACTION. */
	struct kvm_smccc_filter f = {
		.base = CF_SMCCC_DISCOVER_IMPL_VER, .nr_functions = 2,
		.action = KVM_SMCCC_FILTER_FWD_TO_USER,
	};
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
		.addr = (uint64_t)(uintptr_t)&f,
	};
	uint64_t cur = 0, back = 0;
	int e;

	memset(out, 0, sizeof(*out));
	if (strcmp(pr->arch->name, "arm64") != 0)
		return cf_diag_set(d, CF_EARCH, "profile is for %s", pr->arch->name);
	if (nvcpus == 0)
		return cf_diag_set(d, CF_EINVAL, "no vCPU");
	if (pr->nimpl == 0) {
		snprintf(out->why, sizeof(out->why), "the profile lists no "
			 "implementations");
		return CF_OK;
	}
	/* Ask before changing anything: a KVM without either stays as it was. */
	e = one_reg(vcpu_fds[0], KVM_GET_ONE_REG, CF_SMCCC_BMAP2_ID, &cur);
	if (e == ENOENT) {
		snprintf(out->why, sizeof(out->why), "KVM lacks "
			 "KVM_REG_ARM_VENDOR_HYP_BMAP_2 (KVM_GET_ONE_REG: %s; "
			 "Linux 6.15+)", strerror(e));
		return CF_OK;
	}
	if (e)
		return cf_diag_set(d, CF_EIO, "KVM_GET_ONE_REG "
				   "KVM_REG_ARM_VENDOR_HYP_BMAP_2: %s", strerror(e));
	if (ioctl(vm_fd, KVM_HAS_DEVICE_ATTR, &attr) != 0) {
		snprintf(out->why, sizeof(out->why), "KVM lacks the SMCCC filter "
			 "(KVM_HAS_DEVICE_ATTR KVM_ARM_VM_SMCCC_FILTER: %s; Linux "
			 "6.4+)", strerror(errno));
		return CF_OK;
	}
	if (ioctl(vm_fd, KVM_SET_DEVICE_ATTR, &attr) != 0) {
		e = errno;
		return cf_diag_set(d, CF_EIO, "KVM_ARM_VM_SMCCC_FILTER 0x%x+2 "
				   "FWD_TO_USER: %s%s", f.base, strerror(e),
				   e == EBUSY ? " (a vCPU has run)" :
				   e == EEXIST ? " (already filtered)" : "");
	}
	/* The bitmap is VM-wide behind a per-vCPU view: every vCPU, each
	 * read back. */
	for (size_t v = 0; v < nvcpus; v++) {
		e = one_reg(vcpu_fds[v], KVM_GET_ONE_REG, CF_SMCCC_BMAP2_ID, &cur);
		cur = cf_smccc_bmap2(cur);
		if (!e)
			e = one_reg(vcpu_fds[v], KVM_SET_ONE_REG, CF_SMCCC_BMAP2_ID,
				    &cur);
		if (!e)
			e = one_reg(vcpu_fds[v], KVM_GET_ONE_REG, CF_SMCCC_BMAP2_ID,
				    &back);
		if (e || back != cur)
			return cf_diag_set(d, CF_EIO, "KVM_REG_ARM_VENDOR_HYP_BMAP_2 "
					   "0x%llx on vCPU %zu: %s",
					   (unsigned long long)cur, v,
					   e ? strerror(e) : "not kept");
	}
	out->armed = true;
	out->nimpl = pr->nimpl;
	return CF_OK;
}

enum cf_err cf_arm64_errata_exit(int vcpu_fd, uint64_t nr,
				 const struct cf_profile *pr, bool *handled,
				 struct cf_diag *d)
{
	uint64_t x[4], ret[4];
	int e = 0;

	*handled = false;
	if ((uint32_t)nr != CF_SMCCC_DISCOVER_IMPL_VER &&
	    (uint32_t)nr != CF_SMCCC_DISCOVER_IMPL_CPUS)
		return CF_OK;
	/* api.rst, KVM_EXIT_HYPERCALL on arm64: nr is the function ID, the
	 * arguments are read from the vCPU's GPRs; the PC already points
	 * past the call. */
	for (int i = 0; i < 4 && !e; i++)
		e = one_reg(vcpu_fd, KVM_GET_ONE_REG, xreg(i), &x[i]);
	if (e)
		return cf_diag_set(d, CF_EIO, "KVM_GET_ONE_REG x0-x3: %s", strerror(e));
	if (!cf_smccc_answer(pr, nr, &x[1], ret))
		return CF_OK;
	for (int i = 0; i < 4 && !e; i++)
		e = one_reg(vcpu_fd, KVM_SET_ONE_REG, xreg(i), &ret[i]);
	if (e)
		return cf_diag_set(d, CF_EIO, "KVM_SET_ONE_REG x0-x3: %s", strerror(e));
	*handled = true;
	return CF_OK;
}

#else

enum cf_err cf_arm64_apply_errata(int vm_fd, const int *vcpu_fds,
				  size_t nvcpus, const struct cf_profile *pr,
				  struct cf_arm64_errata *out,
				  struct cf_diag *d)
{
	(void)vm_fd;
	(void)vcpu_fds;
	(void)nvcpus;
	(void)pr;
	memset(out, 0, sizeof(*out));
	return cf_diag_set(d, CF_EARCH, "serving the discovery hypercalls needs "
			   "an arm64 host with KVM");
}

enum cf_err cf_arm64_errata_exit(int vcpu_fd, uint64_t nr,
				 const struct cf_profile *pr, bool *handled,
				 struct cf_diag *d)
{
	(void)vcpu_fd;
	(void)nr;
	(void)pr;
	*handled = false;
	return cf_diag_set(d, CF_EARCH, "serving the discovery hypercalls needs "
			   "an arm64 host with KVM");
}

#endif
