/* arm64 register ids: between the catalogue's keys, KVM's ONE_REG ids and
 * the index of KVM_ARM_GET_REG_WRITABLE_MASKS.  Pure arithmetic on the
 * catalogue, in every build: collection, apply and the lab share it
 * without needing a VM. */
#ifndef CF_REGID_H
#define CF_REGID_H

#include <stdint.h>

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
