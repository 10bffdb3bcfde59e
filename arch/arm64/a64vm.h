/* A KVM VM on an arm64 host, for collection, apply and the lab: creation
 * with the vCPU features a report is for, register access, and running a
 * small guest.  aarch64 builds only. */
#ifndef CF_A64VM_H
#define CF_A64VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>
#include "arch/arm64/regid.h"

/* vCPU features (KVM_ARM_VCPU_INIT bits). */
#define CF_A64_FEAT_PSCI   (1u << 2)
#define CF_A64_FEAT_PMU    (1u << 3)
#define CF_A64_FEAT_SVE    (1u << 4)
#define CF_A64_FEAT_PAUTH  ((1u << 5) | (1u << 6))

/* Guest memory the VM gets: IPA window and size. */
#define CF_A64_RAM_BASE 0x40000000ULL
#define CF_A64_RAM_SIZE (64u << 10)
#define CF_A64_MMIO_EXIT 0x10000000ULL /* unbacked: a store here exits */

struct cf_a64vm;

/* Opens /dev/kvm, creates a VM with an in-kernel vGICv3 and one vCPU
 * initialised with FEATURES; the vGIC and PMU are not yet initialised
 * (cf_a64vm_finish does that) so ID registers can still be written. */
enum cf_err cf_a64vm_create(uint32_t features, struct cf_a64vm **out,
			    struct cf_diag *d);
/* What a caller adds to the creation, in KVM's order: VM with the VM fd
 * before any vCPU exists (VM capabilities), VCPU with the vCPU fd between
 * KVM_ARM_VCPU_INIT and the SVE finalize (vector lengths; called only
 * with CF_A64_FEAT_SVE).  Either may be NULL; an error stops creation. */
struct cf_a64vm_steps {
	enum cf_err (*vm)(int vm_fd, void *ctx, struct cf_diag *d);
	enum cf_err (*vcpu)(int vcpu_fd, void *ctx, struct cf_diag *d);
	void *ctx;
};
enum cf_err cf_a64vm_create_with(uint32_t features,
				 const struct cf_a64vm_steps *steps,
				 struct cf_a64vm **out, struct cf_diag *d);
void cf_a64vm_destroy(struct cf_a64vm *vm);
int cf_a64vm_vm_fd(const struct cf_a64vm *vm);
int cf_a64vm_vcpu_fd(const struct cf_a64vm *vm);
int cf_a64vm_kvm_fd(const struct cf_a64vm *vm);
uint32_t cf_a64vm_features(const struct cf_a64vm *vm);

/* KVM_{GET,SET}_ONE_REG of a 64-bit register; errno-style result (0 ok). */
int cf_a64vm_get(struct cf_a64vm *vm, uint64_t id, uint64_t *val);
int cf_a64vm_set(struct cf_a64vm *vm, uint64_t id, uint64_t val);
/* Any size, VAL of the register's size. */
int cf_a64vm_get_raw(struct cf_a64vm *vm, uint64_t id, void *val);
int cf_a64vm_set_raw(struct cf_a64vm *vm, uint64_t id, const void *val);
/* KVM_GET_REG_LIST, malloc'd. */
enum cf_err cf_a64vm_reg_list(struct cf_a64vm *vm, uint64_t **ids, size_t *n);
/* KVM_ARM_GET_REG_WRITABLE_MASKS: 192 masks; false if the kernel lacks it. */
bool cf_a64vm_writable_masks(struct cf_a64vm *vm, uint64_t masks[192]);
/* KVM_CHECK_EXTENSION on the VM (falls back to /dev/kvm). */
int cf_a64vm_cap(struct cf_a64vm *vm, long cap);

/* vGIC CTRL_INIT and PMU IRQ/INIT: after ID registers, before running. */
enum cf_err cf_a64vm_finish(struct cf_a64vm *vm, struct cf_diag *d);
/* Copies CODE to guest RAM and points the vCPU at it, x-registers X[0..7]. */
enum cf_err cf_a64vm_load(struct cf_a64vm *vm, const uint32_t *code,
			  size_t nwords, const uint64_t x[8], struct cf_diag *d);
uint8_t *cf_a64vm_ram(struct cf_a64vm *vm);
/* Runs until the guest stores to CF_A64_MMIO_EXIT; *DATA gets the value.
 * Any other exit is an error (a hypercall too, unless served). */
enum cf_err cf_a64vm_run_to_mmio(struct cf_a64vm *vm, uint64_t *data,
				 struct cf_diag *d);
/* From now on cf_a64vm_run_to_mmio answers the guest's discovery
 * hypercalls (KVM_EXIT_HYPERCALL, after cf_arm64_apply_errata) from PR's
 * implementations; PR must outlive the runs. */
void cf_a64vm_serve_errata(struct cf_a64vm *vm, const struct cf_profile *pr);
/* Completes a pending MMIO exit without entering the guest, so the saved
 * state is consistent (KVM_RUN with immediate_exit). */
enum cf_err cf_a64vm_settle(struct cf_a64vm *vm, struct cf_diag *d);

#endif
