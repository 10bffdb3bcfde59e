/* x86 register keys and CPUID facts shared by the catalogue, the
 * documents, collection and the apply path. */
#ifndef CF_X86_H
#define CF_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>

/* Capabilities (0x1000000+) and facts (0x2000000+) sort first, then CPUID
 * output registers, then feature MSRs. */
#define CF_X86_CPUID_BASE (1ULL << 48)
#define CF_X86_MSR_BASE (2ULL << 48)
#define CF_X86_CPUID_KEY(leaf, sub, reg) \
	(CF_X86_CPUID_BASE | (uint64_t)(leaf) << 16 | \
	 ((uint64_t)(sub) & 0x3fff) << 2 | (uint64_t)(reg))
#define CF_X86_MSR_KEY(idx) (CF_X86_MSR_BASE | (uint64_t)(uint32_t)(idx))
#define CF_X86_IS_CPUID(key) (((key) >> 48) == 1)
#define CF_X86_IS_MSR(key) (((key) >> 48) == 2)
#define CF_X86_LEAF(key) ((uint32_t)((key) >> 16))
#define CF_X86_SUB(key) ((uint32_t)(((key) >> 2) & 0x3fff))
#define CF_X86_REG(key) ((unsigned)((key) & 3))
#define CF_X86_SUB_MAX 0x3fff

/* Leaves whose ECX input (subleaf) selects the output: KVM marks their
 * entries KVM_CPUID_FLAG_SIGNIFCANT_INDEX. */
bool cf_x86_leaf_indexed(uint32_t leaf);

struct cf_config;
/* With TSC scaling a host runs a guest at any rate: TSC_KHZ becomes
 * writable (policy `rate`); without, only its own within 250 ppm. */
enum cf_err cf_x86_tsc_writable(struct cf_config *cfg);
/* The vendor string of CPUID leaf 0 (EBX, EDX, ECX), if CFG has it. */
bool cf_x86_vendor(const struct cf_config *cfg, char *buf, size_t len);

#endif
