/* Errata targets (KVM 6.15+): the guest's SMCCC "discover implementation"
 * hypercalls answered with a profile's implementations, so that a guest
 * applies the errata workarounds of every CPU of its pool, not only of the
 * MIDR it reads.  The numbers are the kernel's:
 *
 *  - Documentation/virt/kvm/arm/hypercalls.rst:
 *    ARM_SMCCC_VENDOR_HYP_KVM_DISCOVER_IMPL_VER_FUNC_ID = 0xC6000040
 *    (HVC64; no argument; R0 SUCCESS (0), R1 bits [31:16] major and
 *    [15:0] minor version, bits [63:32] zero, R2 the number of target
 *    implementations, R3 zero) and
 *    ARM_SMCCC_VENDOR_HYP_KVM_DISCOVER_IMPL_CPUS_FUNC_ID = 0xC6000041
 *    (R1 the selected implementation index; R0 SUCCESS (0) or
 *    INVALID_PARAMETER (-3), R1 MIDR_EL1, R2 REVIDR_EL1, R3 AIDR_EL1 of
 *    that implementation).  Both are KVM vendor hypervisor service
 *    (owner 6) function numbers 64 and 65 (include/linux/arm-smccc.h:
 *    ARM_SMCCC_KVM_FUNC_DISCOVER_IMPL_VER 64, _CPUS 65), so
 *    ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID (0x86000000) reports them
 *    in R2, the bitmap of function numbers 64-95, bits 0 and 1.
 *  - Version 1.0 (0x00010000): the guest side
 *    (drivers/firmware/smccc/kvm_guest.c, kvm_arm_target_impl_cpu_init)
 *    takes the list only when the major version is 1.
 *  - Return codes, include/linux/arm-smccc.h: SMCCC_RET_SUCCESS 0,
 *    SMCCC_RET_NOT_SUPPORTED -1, SMCCC_RET_INVALID_PARAMETER -3.
 *  - Documentation/virt/kvm/arm/fw-pseudo-registers.rst:
 *    KVM_REG_ARM_VENDOR_HYP_BMAP_2 controls vendor hypervisor calls
 *    64-127; bit 0 DISCOVER_IMPL_VER, bit 1 DISCOVER_IMPL_CPUS, both
 *    reset to 0; -EBUSY once a vCPU has run.  Its ONE_REG id
 *    (arch/arm64/include/uapi/asm/kvm.h) is
 *    KVM_REG_ARM_FW_FEAT_BMAP_REG(3) = KVM_REG_ARM64 | KVM_REG_SIZE_U64 |
 *    (0x0016 << 16) | 3 = 0x6030000000160003.
 *
 * The pure part (the answers) builds everywhere and is unit-tested; the
 * KVM part (cf_arm64_apply_errata, cf_arm64_errata_exit in cpufleet.h)
 * needs an arm64 host. */
#ifndef CF_SMCCC_H
#define CF_SMCCC_H

#include <stdbool.h>
#include <stdint.h>
#include <cpufleet.h>

#define CF_SMCCC_KVM_FEATURES       0x86000000u
#define CF_SMCCC_DISCOVER_IMPL_VER  0xc6000040u
#define CF_SMCCC_DISCOVER_IMPL_CPUS 0xc6000041u
#define CF_SMCCC_IMPL_VERSION       0x00010000u  /* 1.0 */

#define CF_SMCCC_SUCCESS            0ULL
#define CF_SMCCC_NOT_SUPPORTED      ((uint64_t)-1)
#define CF_SMCCC_INVALID_PARAMETER  ((uint64_t)-3)

#define CF_SMCCC_BMAP2_ID    0x6030000000160003ULL
#define CF_SMCCC_BMAP2_BITS  0x3ULL  /* DISCOVER_IMPL_VER | _CPUS */

/* One implementation as the guest is told of it: MIDR_EL1, REVIDR_EL1,
 * AIDR_EL1; a register the profile's entry lacks is 0. */
struct cf_smccc_impl {
	uint64_t midr, revidr, aidr;
};

/* PR's implementation I (I < pr->nimpl) into OUT. */
void cf_smccc_impl(const struct cf_profile *pr, size_t i,
		   struct cf_smccc_impl *out);

/* The answer, x0..x3 into RET, to the call FUNC_ID (the guest's w0) whose
 * arguments x1..x3 are ARGS[0..2], from PR's implementations; false (RET
 * untouched) when FUNC_ID is neither discovery call. */
bool cf_smccc_answer(const struct cf_profile *pr, uint64_t func_id,
		     const uint64_t args[3], uint64_t ret[4]);

/* KVM_REG_ARM_VENDOR_HYP_BMAP_2 with the discovery calls offered, from
 * the value CUR KVM reports. */
uint64_t cf_smccc_bmap2(uint64_t cur);

#endif
