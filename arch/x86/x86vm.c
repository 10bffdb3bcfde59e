/* A scratch x86 KVM VM: capabilities before vCPUs, one memory slot, vCPUs
 * with kvm_run mapped, a real-mode entry and a run loop that stops at an
 * `out`.  See x86vm.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/x86vm.h"
#include "util/diag.h"

#if defined(__x86_64__)
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

struct cf_x86vm {
	int kvm, vm;
	size_t nvcpus;
	int vcpu[CF_X86VM_VCPUS_MAX];
	struct kvm_run *run[CF_X86VM_VCPUS_MAX];
	size_t run_size;
	uint8_t *ram;
};

static enum cf_err fail(struct cf_diag *d, const char *what)
{
	return cf_diag_set(d, CF_EIO, "%s: %s", what, strerror(errno));
}

void cf_x86vm_destroy(struct cf_x86vm *vm)
{
	if (!vm)
		return;
	for (size_t i = 0; i < vm->nvcpus; i++) {
		if (vm->run[i])
			munmap(vm->run[i], vm->run_size);
		if (vm->vcpu[i] >= 0)
			close(vm->vcpu[i]);
	}
	if (vm->ram)
		munmap(vm->ram, CF_X86VM_RAM_SIZE);
	if (vm->vm >= 0)
		close(vm->vm);
	if (vm->kvm >= 0)
		close(vm->kvm);
	free(vm);
}

/* /dev/kvm, the VM, the real-mode TSS and the memory slot. */
static enum cf_err open_vm(struct cf_x86vm *vm, struct cf_diag *d)
{
	struct kvm_userspace_memory_region mr;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return cf_diag_set(d, errno == ENOENT ? CF_EARCH : CF_EIO,
				   "/dev/kvm: %s", strerror(errno));
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return cf_diag_set(d, CF_EIO, "/dev/kvm: API version is not %d",
				   KVM_API_VERSION);
	vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->vm < 0)
		return fail(d, "KVM_CREATE_VM");
	/* VMX without unrestricted guest runs real mode through a vm86 TSS
	 * KVM keeps in guest memory; a no-op on AMD. */
	if (ioctl(vm->vm, KVM_SET_TSS_ADDR, CF_X86VM_TSS_ADDR) != 0)
		return fail(d, "KVM_SET_TSS_ADDR");
	vm->ram = mmap(NULL, CF_X86VM_RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return cf_diag_set(d, CF_ENOMEM, "guest RAM: %s", strerror(errno));
	}
	memset(&mr, 0, sizeof(mr));
	mr.slot = 0;
	mr.guest_phys_addr = 0;
	mr.memory_size = CF_X86VM_RAM_SIZE;
	mr.userspace_addr = (uint64_t)(uintptr_t)vm->ram;
	if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &mr) != 0)
		return fail(d, "KVM_SET_USER_MEMORY_REGION");
	return CF_OK;
}

static enum cf_err add_vcpus(struct cf_x86vm *vm, size_t n, struct cf_diag *d)
{
	int sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (sz <= 0)
		return fail(d, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)sz;
	for (size_t i = 0; i < n; i++) {
		void *run;

		vm->vcpu[i] = ioctl(vm->vm, KVM_CREATE_VCPU, (unsigned long)i);
		vm->run[i] = NULL;
		vm->nvcpus = i + 1;
		if (vm->vcpu[i] < 0)
			return fail(d, "KVM_CREATE_VCPU");
		run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, vm->vcpu[i], 0);
		if (run == MAP_FAILED)
			return fail(d, "mmap(kvm_run)");
		vm->run[i] = run;
	}
	return CF_OK;
}

enum cf_err cf_x86vm_create(const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts, size_t nvcpus,
			    struct cf_x86_apply_result *res,
			    struct cf_x86vm **out, struct cf_diag *d)
{
	struct cf_x86vm *vm = NULL;
	enum cf_err err;

	*out = NULL;
	if (nvcpus == 0 || nvcpus > CF_X86VM_VCPUS_MAX)
		return cf_diag_set(d, CF_EINVAL, "%zu vCPUs (1 to %d)", nvcpus,
				   CF_X86VM_VCPUS_MAX);
	if (pr && !res)
		return cf_diag_set(d, CF_EINVAL, "a profile needs a result");
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	vm->kvm = vm->vm = -1;
	err = open_vm(vm, d);
	if (err != CF_OK)
		goto cleanup;
	/* KVM takes VM capabilities only while no vCPU exists. */
	if (pr) {
		err = cf_x86_apply_vm(vm->vm, pr, opts, res, d);
		if (err != CF_OK)
			goto cleanup;
	}
	err = add_vcpus(vm, nvcpus, d);
	if (err != CF_OK)
		goto cleanup;
	*out = vm;
	vm = NULL;
cleanup:
	cf_x86vm_destroy(vm);
	return err;
}

enum cf_err cf_x86vm_create_applied(const struct cf_profile *pr,
				    const struct cf_x86_vm_opts *opts,
				    size_t nvcpus,
				    struct cf_x86_apply_result *res,
				    struct cf_x86vm **out, struct cf_diag *d)
{
	struct cf_x86vm *vm = NULL;
	enum cf_err err;

	*out = NULL;
	if (!pr || !res)
		return cf_diag_set(d, CF_EINVAL, "no profile or result");
	err = cf_x86vm_create(pr, opts, nvcpus, res, &vm, d);
	if (err != CF_OK)
		goto cleanup;
	for (size_t i = 0; i < vm->nvcpus && !res->refusal.refused; i++) {
		err = cf_x86_apply_vcpu(vm->vcpu[i], pr, (uint32_t)i, res, d);
		if (err != CF_OK)
			goto cleanup;
	}
	*out = vm;
	vm = NULL;
cleanup:
	cf_x86vm_destroy(vm);
	return err;
}

int cf_x86vm_kvm_fd(const struct cf_x86vm *vm) { return vm->kvm; }
int cf_x86vm_vm_fd(const struct cf_x86vm *vm) { return vm->vm; }
size_t cf_x86vm_nvcpus(const struct cf_x86vm *vm) { return vm->nvcpus; }
uint8_t *cf_x86vm_ram(struct cf_x86vm *vm) { return vm->ram; }

int cf_x86vm_vcpu_fd(const struct cf_x86vm *vm, size_t i)
{
	return i < vm->nvcpus ? vm->vcpu[i] : -1;
}

static void real_seg(struct kvm_segment *s)
{
	s->base = 0;
	s->selector = 0;
	s->limit = 0xffff;
}

enum cf_err cf_x86vm_enter_real(struct cf_x86vm *vm, size_t i, uint16_t ip,
				struct cf_diag *d)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (i >= vm->nvcpus)
		return cf_diag_set(d, CF_EINVAL, "no vCPU %zu", i);
	/* Reset state is real mode with CS = F000:FFF0 (base 0xffff0000);
	 * move CS (and the data segments) to base 0. */
	if (ioctl(vm->vcpu[i], KVM_GET_SREGS, &sregs) != 0)
		return fail(d, "KVM_GET_SREGS");
	real_seg(&sregs.cs);
	real_seg(&sregs.ds);
	real_seg(&sregs.es);
	real_seg(&sregs.fs);
	real_seg(&sregs.gs);
	real_seg(&sregs.ss);
	if (ioctl(vm->vcpu[i], KVM_SET_SREGS, &sregs) != 0)
		return fail(d, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = ip;
	regs.rflags = 0x2;
	if (ioctl(vm->vcpu[i], KVM_SET_REGS, &regs) != 0)
		return fail(d, "KVM_SET_REGS");
	return CF_OK;
}

static unsigned long long guest_rip(int fd)
{
	struct kvm_regs regs;

	return ioctl(fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : ~0ULL;
}

static const char *exit_name(uint32_t reason)
{
	static const struct { uint32_t reason; const char *name; } names[] = {
		{ KVM_EXIT_UNKNOWN, "UNKNOWN" }, { KVM_EXIT_EXCEPTION, "EXCEPTION" },
		{ KVM_EXIT_IO, "IO" }, { KVM_EXIT_HLT, "HLT" },
		{ KVM_EXIT_MMIO, "MMIO" }, { KVM_EXIT_SHUTDOWN, "SHUTDOWN "
		  "(triple fault)" }, { KVM_EXIT_FAIL_ENTRY, "FAIL_ENTRY" },
		{ KVM_EXIT_INTERNAL_ERROR, "INTERNAL_ERROR" },
		{ KVM_EXIT_X86_RDMSR, "X86_RDMSR" }, { KVM_EXIT_X86_WRMSR, "X86_WRMSR" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].reason == reason)
			return names[i].name;
	return "other";
}

enum cf_err cf_x86vm_run_to_out(struct cf_x86vm *vm, size_t i, uint16_t port,
				uint8_t *value, struct cf_diag *d)
{
	struct kvm_run *run;
	int fd;

	if (i >= vm->nvcpus)
		return cf_diag_set(d, CF_EINVAL, "no vCPU %zu", i);
	fd = vm->vcpu[i];
	run = vm->run[i];
	for (;;) {
		run->immediate_exit = 0;
		if (ioctl(fd, KVM_RUN, 0) != 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return fail(d, "KVM_RUN");
		}
		break;
	}
	if (run->exit_reason == KVM_EXIT_IO &&
	    run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port &&
	    run->io.size == 1 && run->io.count == 1 &&
	    run->io.data_offset < vm->run_size) {
		*value = ((const uint8_t *)run)[run->io.data_offset];
		return CF_OK;
	}
	if (run->exit_reason == KVM_EXIT_IO)
		return cf_diag_set(d, CF_EIO, "guest %s port 0x%x (size %u) at "
				   "RIP 0x%llx, expected an out to 0x%x",
				   run->io.direction == KVM_EXIT_IO_OUT ? "wrote"
				   : "read", run->io.port, run->io.size,
				   guest_rip(fd), port);
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		return cf_diag_set(d, CF_EIO, "KVM_RUN: exit FAIL_ENTRY (hardware "
				   "reason 0x%llx)", (unsigned long long)
				   run->fail_entry.hardware_entry_failure_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		return cf_diag_set(d, CF_EIO, "KVM_RUN: exit INTERNAL_ERROR "
				   "(suberror %u) at RIP 0x%llx",
				   run->internal.suberror, guest_rip(fd));
	return cf_diag_set(d, CF_EIO, "KVM_RUN: unexpected exit %u (%s) at RIP "
			   "0x%llx", run->exit_reason, exit_name(run->exit_reason),
			   guest_rip(fd));
}

#else

struct cf_x86vm {
	int unused;
};

static enum cf_err no_kvm(struct cf_diag *d)
{
	return cf_diag_set(d, CF_EARCH, "an x86 scratch VM needs an x86-64 "
			   "host with KVM (this is not one)");
}

enum cf_err cf_x86vm_create(const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts, size_t nvcpus,
			    struct cf_x86_apply_result *res,
			    struct cf_x86vm **out, struct cf_diag *d)
{
	(void)pr;
	(void)opts;
	(void)nvcpus;
	(void)res;
	*out = NULL;
	return no_kvm(d);
}

enum cf_err cf_x86vm_create_applied(const struct cf_profile *pr,
				    const struct cf_x86_vm_opts *opts,
				    size_t nvcpus,
				    struct cf_x86_apply_result *res,
				    struct cf_x86vm **out, struct cf_diag *d)
{
	return cf_x86vm_create(pr, opts, nvcpus, res, out, d);
}

void cf_x86vm_destroy(struct cf_x86vm *vm) { (void)vm; }
int cf_x86vm_kvm_fd(const struct cf_x86vm *vm) { (void)vm; return -1; }
int cf_x86vm_vm_fd(const struct cf_x86vm *vm) { (void)vm; return -1; }
size_t cf_x86vm_nvcpus(const struct cf_x86vm *vm) { (void)vm; return 0; }
uint8_t *cf_x86vm_ram(struct cf_x86vm *vm) { (void)vm; return NULL; }

int cf_x86vm_vcpu_fd(const struct cf_x86vm *vm, size_t i)
{
	(void)vm;
	(void)i;
	return -1;
}

enum cf_err cf_x86vm_enter_real(struct cf_x86vm *vm, size_t i, uint16_t ip,
				struct cf_diag *d)
{
	(void)vm;
	(void)i;
	(void)ip;
	return no_kvm(d);
}

enum cf_err cf_x86vm_run_to_out(struct cf_x86vm *vm, size_t i, uint16_t port,
				uint8_t *value, struct cf_diag *d)
{
	(void)vm;
	(void)i;
	(void)port;
	(void)value;
	return no_kvm(d);
}

#endif
