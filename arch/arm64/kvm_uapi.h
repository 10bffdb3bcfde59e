/* KVM UAPI newer than the 6.1 headers Debian's aarch64 cross toolchain
 * carries; numbers from include/uapi/linux/kvm.h and
 * arch/arm64/include/uapi/asm/kvm.h. */
#ifndef CF_KVM_UAPI_H
#define CF_KVM_UAPI_H

#include <linux/kvm.h>

#ifndef KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES
#define KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES 230
#endif
#ifndef KVM_CAP_ARM_WRITABLE_IMP_ID_REGS
#define KVM_CAP_ARM_WRITABLE_IMP_ID_REGS 239
#endif
#ifndef KVM_ARM_GET_REG_WRITABLE_MASKS
struct reg_mask_range {
	__u64 addr;
	__u32 range;
	__u32 reserved[13];
};
#define KVM_ARM_GET_REG_WRITABLE_MASKS _IOR(KVMIO, 0xb6, struct reg_mask_range)
#endif
#ifndef KVM_ARM_FEATURE_ID_RANGE
#define KVM_ARM_FEATURE_ID_RANGE 0
#define KVM_ARM_FEATURE_ID_RANGE_SIZE (3 * 8 * 8)
#endif

#ifndef KVM_ARM_VM_SMCCC_CTRL
/* The SMCCC filter (6.4), a device attribute on the VM fd:
 * Documentation/virt/kvm/devices/vm.rst, group KVM_ARM_VM_SMCCC_CTRL,
 * attribute KVM_ARM_VM_SMCCC_FILTER. */
#define KVM_ARM_VM_SMCCC_CTRL 0
#define KVM_ARM_VM_SMCCC_FILTER 0
enum kvm_smccc_filter_action {
	KVM_SMCCC_FILTER_HANDLE = 0,
	KVM_SMCCC_FILTER_DENY,
	KVM_SMCCC_FILTER_FWD_TO_USER,
};
struct kvm_smccc_filter {
	__u32 base;
	__u32 nr_functions;
	__u8 action;
	__u8 pad[15];
};
#endif

#endif
