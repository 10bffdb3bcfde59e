/* A KVM VM on an arm64 host, for collection, apply and the lab: creation
 * with the vCPU features a report is for, register access, and running a
 * small guest.  aarch64 builds only. */
#ifndef CF_A64VM_H
#define CF_A64VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>

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
/* The same, programming PR's VM capabilities before the vCPU exists and its
 * SVE lengths before finalize (or VLS, 8 words, when not NULL); a refusal
 * of those fills REF and still returns the VM. */
enum cf_err cf_a64vm_create_for(uint32_t features, const struct cf_profile *pr,
				const uint64_t *vls, struct cf_apply_refusal *ref,
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

/* A VM with PR programmed in KVM's order (capabilities, SVE lengths, ID
 * and firmware registers) and, unless KVM refused (REF), the vGIC and PMU
 * initialised, ready to run. */
enum cf_err cf_a64vm_create_applied(uint32_t features,
				    const struct cf_profile *pr,
				    struct cf_apply_refusal *ref,
				    struct cf_a64vm **out, struct cf_diag *d);

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

/* ONE_REG id of a system register from its catalogue key. */
static inline uint64_t cf_a64_sysreg_id(uint64_t key)
{
	return 0x6030000000130000ULL | (key & 0xffff);
}

/* Index in KVM_ARM_GET_REG_WRITABLE_MASKS of a sysreg key, or -1 outside
 * the feature-ID range (op0 3, op1 0/1/3, CRn 0, CRm 0-7). */
int cf_a64_mask_index(uint64_t key);

/* What a KVM_GET_REG_LIST id is to the catalogue: a feature ID register,
 * a catalogue pseudo-register (firmware), or anything else; *KEY gets the
 * catalogue key of the first two. */
enum cf_a64_regclass { CF_A64_OTHER, CF_A64_ID, CF_A64_PSEUDO };
enum cf_a64_regclass cf_a64_classify(uint64_t id, uint64_t *key);
/* The ONE_REG id of a catalogue key (system or pseudo-register). */
uint64_t cf_a64_one_reg_id(uint64_t key);
/* What KVM lets userspace change in KEY: the reported mask (MASKS, from
 * cf_a64vm_writable_masks, may be NULL) or the catalogue's for pseudo-
 * registers. */
uint64_t cf_a64_writable_of(uint64_t key, const uint64_t masks[192]);

#endif
