/* The x86 apply path and the guest verification: what apply.c, guest.c
 * and the command share (the public part is in include/cpufleet.h). */
#ifndef CF_X86_APPLY_H
#define CF_X86_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>


#include "engine/arch.h"


/* The options a scratch VM (apply --check-only, the guest check) runs a
 * profile with, as a VMM would: a split irqchip when the profile has
 * KVM_CAP_SPLIT_IRQCHIP, no exits disabled. */
void cf_x86_scratch_opts(const struct cf_profile *pr,
			 struct cf_x86_vm_opts *opts);

/* One CPUID entry as KVM_SET_CPUID2 gets it. */
struct cf_x86_cpuid_entry {
	uint32_t leaf, subleaf;
	bool indexed;          /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX */
	uint32_t r[4];         /* EAX, EBX, ECX, EDX */
};

/* KVM_GET_CPUID2 of a vCPU (grown on E2BIG), as a malloc'd table. */
enum cf_err cf_x86_get_cpuid(int vcpu_fd, struct cf_x86_cpuid_entry **out,
			     size_t *n, struct cf_diag *d);
/* The first entry of TAB (N entries) for LEAF and, for indexed leaves,
 * SUB, as KVM looks it up; NULL if none. */
const struct cf_x86_cpuid_entry *cf_x86_cpuid_find(
	const struct cf_x86_cpuid_entry *tab, size_t n, uint32_t leaf,
	uint32_t sub);

/* PR's CPUID registers grouped by (leaf, subleaf), ascending, registers
 * the profile lacks as 0, with the per-vCPU parts for APIC_ID filled (see
 * cf_x86_apply_vcpu).  More than MAX entries is CF_ETOOBIG. */
enum cf_err cf_x86_cpuid_table(const struct cf_profile *pr, uint32_t apic_id,
			       struct cf_x86_cpuid_entry *tab, size_t max,
			       size_t *n, struct cf_diag *d);
/* The bits of (LEAF, SUB, REG) KVM recomputes itself after KVM_SET_CPUID2
 * (research/x86-kvm.md §1.3). */
uint32_t cf_x86_runtime_bits(uint32_t leaf, uint32_t sub, unsigned reg);
/* The bits of CPUID register KEY a guest must see as set: those of fields
 * whose policy is not CF_POL_IGNORE (per-vCPU, runtime), minus the runtime
 * bits; every bit of a register the catalogue does not know. */
uint32_t cf_x86_compared_bits(const struct cf_arch_ops *a, uint64_t key);
/* The catalogue fields of KEY that overlap BITS, comma-separated into BUF
 * ("" for a register the catalogue does not know).  Returns the count. */
size_t cf_x86_fields_in(const struct cf_arch_ops *a, uint64_t key,
			uint64_t bits, char *buf, size_t len);

#endif
