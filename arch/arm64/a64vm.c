#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arch/arm64/a64vm.h"
#include "arch/arm64/kvm_uapi.h"
#include "engine/catalog.h"
#include "util/diag.h"

#define GIC_DIST_BASE 0x08000000ULL
#define GIC_REDIST_BASE 0x080a0000ULL
#define PMU_PPI 23

struct cf_a64vm {
	int kvm, vm, vcpu, gic;
	uint32_t features;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	const struct cf_profile *errata; /* answers KVM_EXIT_HYPERCALL */
};

void cf_a64vm_destroy(struct cf_a64vm *vm)
{
	if (!vm)
		return;
	if (vm->ram)
		munmap(vm->ram, CF_A64_RAM_SIZE);
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->gic >= 0)
		close(vm->gic);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->vm >= 0)
		close(vm->vm);
	if (vm->kvm >= 0)
		close(vm->kvm);
	free(vm);
}

static enum cf_err fail(struct cf_diag *d, const char *what)
{
	return cf_diag_set(d, CF_EIO, "%s: %s", what, strerror(errno));
}

static enum cf_err set_attr(int fd, uint32_t group, uint64_t attr,
			    const void *addr)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)addr,
	};
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) == 0 ? CF_OK : CF_EIO;
}

enum cf_err cf_a64vm_create(uint32_t features, struct cf_a64vm **out,
			    struct cf_diag *d)
{
	return cf_a64vm_create_with(features, NULL, out, d);
}

enum cf_err cf_a64vm_create_with(uint32_t features,
				 const struct cf_a64vm_steps *steps,
				 struct cf_a64vm **out, struct cf_diag *d)
{
	struct cf_a64vm *vm = calloc(1, sizeof(*vm));
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	struct kvm_userspace_memory_region mr;
	struct kvm_vcpu_init init;
	uint64_t dist = GIC_DIST_BASE, redist = GIC_REDIST_BASE;
	enum cf_err err = CF_EIO;
	int sz;

	*out = NULL;
	if (!vm)
		return CF_ENOMEM;
	vm->kvm = vm->vm = vm->vcpu = vm->gic = -1;
	vm->features = features;
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		err = fail(d, "/dev/kvm");
		goto fail;
	}
	/* Type 0 asks for a 40-bit IPA, which hosts with a smaller limit
	 * refuse; our RAM sits at 1 GiB, so 32 bits would do. */
	int ipa = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	vm->vm = ioctl(vm->kvm, KVM_CREATE_VM,
		       ipa > 0 && ipa < 40 ? (unsigned long)(ipa & 0xff) : 0UL);
	if (vm->vm < 0) {
		err = fail(d, "KVM_CREATE_VM");
		goto fail;
	}
	/* The vGIC exists before the vCPUs; it is initialised later. */
	if (ioctl(vm->vm, KVM_CREATE_DEVICE, &cd) != 0) {
		err = fail(d, "KVM_CREATE_DEVICE(vGICv3)");
		goto fail;
	}
	vm->gic = (int)cd.fd;
	if (set_attr(vm->gic, KVM_DEV_ARM_VGIC_GRP_ADDR,
		     KVM_VGIC_V3_ADDR_TYPE_DIST, &dist) != CF_OK ||
	    set_attr(vm->gic, KVM_DEV_ARM_VGIC_GRP_ADDR,
		     KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist) != CF_OK) {
		err = fail(d, "vGIC addresses");
		goto fail;
	}
	vm->ram = mmap(NULL, CF_A64_RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		err = CF_ENOMEM;
		goto fail;
	}
	memset(&mr, 0, sizeof(mr));
	mr.guest_phys_addr = CF_A64_RAM_BASE;
	mr.memory_size = CF_A64_RAM_SIZE;
	mr.userspace_addr = (uint64_t)(uintptr_t)vm->ram;
	if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &mr) != 0) {
		err = fail(d, "KVM_SET_USER_MEMORY_REGION");
		goto fail;
	}
	/* VM capabilities before any vCPU exists. */
	if (steps && steps->vm) {
		err = steps->vm(vm->vm, steps->ctx, d);
		if (err != CF_OK)
			goto fail;
	}
	vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0) {
		err = fail(d, "KVM_CREATE_VCPU");
		goto fail;
	}
	sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0) {
		err = fail(d, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	vm->run_size = (size_t)sz;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		err = fail(d, "mmap(kvm_run)");
		goto fail;
	}
	memset(&init, 0, sizeof(init));
	if (ioctl(vm->vm, KVM_ARM_PREFERRED_TARGET, &init) != 0) {
		err = fail(d, "KVM_ARM_PREFERRED_TARGET");
		goto fail;
	}
	init.features[0] = features;
	if (ioctl(vm->vcpu, KVM_ARM_VCPU_INIT, &init) != 0) {
		err = cf_diag_set(d, CF_EIO, "KVM_ARM_VCPU_INIT(features 0x%x): %s",
				  features, strerror(errno));
		goto fail;
	}
	if (features & CF_A64_FEAT_SVE) {
		int what = KVM_ARM_VCPU_SVE;
		/* Vector lengths: only before finalize. */
		if (steps && steps->vcpu) {
			err = steps->vcpu(vm->vcpu, steps->ctx, d);
			if (err != CF_OK)
				goto fail;
		}
		if (ioctl(vm->vcpu, KVM_ARM_VCPU_FINALIZE, &what) != 0) {
			err = fail(d, "KVM_ARM_VCPU_FINALIZE(SVE)");
			goto fail;
		}
	}
	*out = vm;
	return CF_OK;
fail:
	cf_a64vm_destroy(vm);
	return err;
}

int cf_a64vm_vm_fd(const struct cf_a64vm *vm) { return vm->vm; }
int cf_a64vm_vcpu_fd(const struct cf_a64vm *vm) { return vm->vcpu; }
int cf_a64vm_kvm_fd(const struct cf_a64vm *vm) { return vm->kvm; }
uint32_t cf_a64vm_features(const struct cf_a64vm *vm) { return vm->features; }
uint8_t *cf_a64vm_ram(struct cf_a64vm *vm) { return vm->ram; }

int cf_a64vm_get_raw(struct cf_a64vm *vm, uint64_t id, void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vm->vcpu, KVM_GET_ONE_REG, &r) == 0 ? 0 : errno;
}

int cf_a64vm_set_raw(struct cf_a64vm *vm, uint64_t id, const void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vm->vcpu, KVM_SET_ONE_REG, &r) == 0 ? 0 : errno;
}

int cf_a64vm_get(struct cf_a64vm *vm, uint64_t id, uint64_t *val)
{
	return cf_a64vm_get_raw(vm, id, val);
}

int cf_a64vm_set(struct cf_a64vm *vm, uint64_t id, uint64_t val)
{
	return cf_a64vm_set_raw(vm, id, &val);
}

enum cf_err cf_a64vm_reg_list(struct cf_a64vm *vm, uint64_t **ids, size_t *n)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;

	*ids = NULL;
	*n = 0;
	if (ioctl(vm->vcpu, KVM_GET_REG_LIST, &probe) == 0 || errno != E2BIG ||
	    probe.n == 0 || probe.n > 65536)
		return CF_EIO;
	list = malloc(sizeof(*list) + probe.n * sizeof(uint64_t));
	if (!list)
		return CF_ENOMEM;
	list->n = probe.n;
	if (ioctl(vm->vcpu, KVM_GET_REG_LIST, list) != 0) {
		free(list);
		return CF_EIO;
	}
	*ids = malloc(list->n * sizeof(uint64_t));
	if (!*ids) {
		free(list);
		return CF_ENOMEM;
	}
	memcpy(*ids, list->reg, list->n * sizeof(uint64_t));
	*n = list->n;
	free(list);
	return CF_OK;
}

int cf_a64vm_cap(struct cf_a64vm *vm, long cap)
{
	int r = ioctl(vm->vm, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? ioctl(vm->kvm, KVM_CHECK_EXTENSION, cap) : r;
}

bool cf_a64vm_writable_masks(struct cf_a64vm *vm, uint64_t masks[192])
{
	struct reg_mask_range r;
	int ranges = cf_a64vm_cap(vm, KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES);

	if (ranges <= 0 || !(ranges & (1 << KVM_ARM_FEATURE_ID_RANGE)))
		return false;
	memset(&r, 0, sizeof(r));
	memset(masks, 0, KVM_ARM_FEATURE_ID_RANGE_SIZE * sizeof(uint64_t));
	r.addr = (uint64_t)(uintptr_t)masks;
	r.range = KVM_ARM_FEATURE_ID_RANGE;
	return ioctl(vm->vm, KVM_ARM_GET_REG_WRITABLE_MASKS, &r) == 0;
}

enum cf_err cf_a64vm_finish(struct cf_a64vm *vm, struct cf_diag *d)
{
	int irq = PMU_PPI;

	if (set_attr(vm->gic, KVM_DEV_ARM_VGIC_GRP_CTRL,
		     KVM_DEV_ARM_VGIC_CTRL_INIT, NULL) != CF_OK)
		return fail(d, "vGIC CTRL_INIT");
	if (!(vm->features & CF_A64_FEAT_PMU))
		return CF_OK;
	if (set_attr(vm->vcpu, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ,
		     &irq) != CF_OK)
		return fail(d, "PMU IRQ");
	if (set_attr(vm->vcpu, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT,
		     NULL) != CF_OK)
		return fail(d, "PMU INIT");
	return CF_OK;
}

#define CORE_REG(field) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))

enum cf_err cf_a64vm_load(struct cf_a64vm *vm, const uint32_t *code,
			  size_t nwords, const uint64_t x[8], struct cf_diag *d)
{
	if (nwords * 4 > CF_A64_RAM_SIZE / 4)
		return cf_diag_set(d, CF_ETOOBIG, "guest code of %zu words", nwords);
	memcpy(vm->ram, code, nwords * 4);
	__builtin___clear_cache((char *)vm->ram, (char *)vm->ram + nwords * 4);
	if (cf_a64vm_set(vm, CORE_REG(regs.pc), CF_A64_RAM_BASE) != 0)
		return fail(d, "set PC");
	for (int i = 0; i < 8; i++)
		if (cf_a64vm_set(vm, CORE_REG(regs.regs[i]), x[i]) != 0)
			return fail(d, "set x-register");
	return CF_OK;
}

enum cf_err cf_a64vm_run_to_mmio(struct cf_a64vm *vm, uint64_t *data,
				 struct cf_diag *d)
{
	for (;;) {
		vm->run->immediate_exit = 0;
		if (ioctl(vm->vcpu, KVM_RUN, 0) != 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return fail(d, "KVM_RUN");
		}
		if (vm->run->exit_reason == KVM_EXIT_MMIO &&
		    vm->run->mmio.is_write &&
		    vm->run->mmio.phys_addr == CF_A64_MMIO_EXIT) {
			uint64_t v = 0;
			memcpy(&v, vm->run->mmio.data,
			       vm->run->mmio.len <= 8 ? vm->run->mmio.len : 8);
			*data = v;
			return CF_OK;
		}
		if (vm->run->exit_reason == KVM_EXIT_HYPERCALL && vm->errata) {
			bool handled = false;
			enum cf_err err = cf_arm64_errata_exit(vm->vcpu,
				vm->run->hypercall.nr, vm->errata, &handled, d);
			if (err != CF_OK)
				return err;
			if (handled)
				continue;
		}
		if (vm->run->exit_reason == KVM_EXIT_HYPERCALL)
			return cf_diag_set(d, CF_EIO, "unexpected hypercall exit "
					   "(function 0x%llx)", (unsigned long long)
					   vm->run->hypercall.nr);
		return cf_diag_set(d, CF_EIO, "unexpected exit %u (mmio addr 0x%llx)",
				   vm->run->exit_reason,
				   (unsigned long long)vm->run->mmio.phys_addr);
	}
}

void cf_a64vm_serve_errata(struct cf_a64vm *vm, const struct cf_profile *pr)
{
	vm->errata = pr;
}

enum cf_err cf_a64vm_settle(struct cf_a64vm *vm, struct cf_diag *d)
{
	vm->run->immediate_exit = 1;
	if (ioctl(vm->vcpu, KVM_RUN, 0) == 0 || errno != EINTR) {
		vm->run->immediate_exit = 0;
		return fail(d, "KVM_RUN(immediate_exit)");
	}
	vm->run->immediate_exit = 0;
	return CF_OK;
}
