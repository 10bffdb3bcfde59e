/* A scratch KVM VM on an x86-64 host, for applying a profile and verifying
 * it from inside a guest: the VM with the profile's capabilities enabled
 * before any vCPU exists (research/x86-kvm.md §1.7), one memory slot of
 * CF_X86VM_RAM_SIZE bytes at guest-physical 0, vCPUs with their kvm_run
 * mapped, and a real-mode entry point.  On other hosts every function
 * that needs KVM returns CF_EARCH. */
#ifndef CF_X86VM_H
#define CF_X86VM_H

#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>
#include "arch/x86/apply.h"

#define CF_X86VM_RAM_SIZE (64u << 10)  /* guest RAM: GPA 0 .. 64 KiB */
#define CF_X86VM_VCPUS_MAX 8
/* Where KVM may put the three pages of the VMX real-mode TSS: just below
 * 4 GiB, away from RAM and the LAPIC, as QEMU does. */
#define CF_X86VM_TSS_ADDR 0xfffbd000UL

struct cf_x86vm;

/* Opens /dev/kvm and creates a VM with its memory slot.  When PR is not
 * NULL, programs PR's VM capabilities (cf_x86_apply_vm with OPTS, which may
 * be NULL) before creating NVCPUS vCPUs (1 .. CF_X86VM_VCPUS_MAX); a
 * refusal is in RES->refusal and the VM is still returned (its vCPUs are
 * created, nothing is set on them).  RES may be NULL when PR is. */
enum cf_err cf_x86vm_create(const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts, size_t nvcpus,
			    struct cf_x86_apply_result *res,
			    struct cf_x86vm **out, struct cf_diag *d);
/* cf_x86vm_create, then cf_x86_apply_vcpu on every vCPU (vCPU i gets APIC
 * id i) unless step 1 was refused; stops at the first refusal, which is in
 * RES (the VM is still returned). */
enum cf_err cf_x86vm_create_applied(const struct cf_profile *pr,
				    const struct cf_x86_vm_opts *opts,
				    size_t nvcpus,
				    struct cf_x86_apply_result *res,
				    struct cf_x86vm **out, struct cf_diag *d);
void cf_x86vm_destroy(struct cf_x86vm *vm);

int cf_x86vm_kvm_fd(const struct cf_x86vm *vm);
int cf_x86vm_vm_fd(const struct cf_x86vm *vm);
/* The fd of vCPU I, or -1 past the last. */
int cf_x86vm_vcpu_fd(const struct cf_x86vm *vm, size_t i);
size_t cf_x86vm_nvcpus(const struct cf_x86vm *vm);
/* The guest's RAM (CF_X86VM_RAM_SIZE bytes, guest-physical 0). */
uint8_t *cf_x86vm_ram(struct cf_x86vm *vm);

/* Points vCPU I at real-mode code at guest-physical IP: CS selector 0 and
 * base 0 (so CS:IP = IP), the data segments likewise, RFLAGS 2 (only the
 * reserved bit), the general registers 0.  Any 16-bit IP lies in RAM. */
enum cf_err cf_x86vm_enter_real(struct cf_x86vm *vm, size_t i, uint16_t ip,
				struct cf_diag *d);
/* Runs vCPU I until the guest writes one byte to I/O port PORT (an `out`
 * KVM hands to userspace); *VALUE gets the byte.  Any other exit (HLT,
 * another port, MMIO, shutdown, entry failure, internal error) is CF_EIO
 * naming the exit and the guest's RIP. */
enum cf_err cf_x86vm_run_to_out(struct cf_x86vm *vm, size_t i, uint16_t port,
				uint8_t *value, struct cf_diag *d);

#endif
