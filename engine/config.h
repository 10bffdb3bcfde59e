/* A host's CPU configuration: register values (KVM's limits), writable
 * masks and which registers are present.  Immutable once sealed and shared
 * by reference between reports, pools and profiles. */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <cpufleet.h>
#include "engine/arch.h"

struct cf_extra {
	uint64_t key;
	uint64_t value;
	uint64_t writable;
};

struct cf_config {
	unsigned refs;
	const struct cf_arch_ops *arch;
	size_t ncat;          /* = arch->catalog->nregs */
	uint64_t *val;        /* [ncat] */
	uint64_t *wr;         /* [ncat] writable masks */
	uint8_t *present;     /* [ncat] */
	struct cf_extra *extra; /* registers unknown to the catalogue, by key */
	size_t nextra;
	size_t extra_cap;
	bool has_writable;    /* the report had a writable section */
	uint64_t fp;          /* fingerprint, valid once sealed */
};

enum cf_err cf_config_create(const struct cf_arch_ops *arch,
			     struct cf_config **out);
struct cf_config *cf_config_ref(struct cf_config *c);
/* A private, unsealed copy of C. */
enum cf_err cf_config_clone(const struct cf_config *c, struct cf_config **out);
void cf_config_unref(struct cf_config *c);
enum cf_err cf_config_set(struct cf_config *c, uint64_t key, uint64_t value);
enum cf_err cf_config_set_writable(struct cf_config *c, uint64_t key,
				   uint64_t mask);
/* A catalogue register that is not a system register (pseudo-register,
 * capability, fact): VALUE with the writable mask the catalogue gives it; a
 * bool capability counts as 0 or 1.  CF_EINVAL for other keys. */
enum cf_err cf_config_set_fixed(struct cf_config *c, uint64_t key,
				uint64_t value);
/* Every capability pseudo-register of the catalogue, from CHECK (KVM_CHECK_
 * EXTENSION as a VMM would ask it; a negative answer counts as 0). */
enum cf_err cf_config_set_caps(struct cf_config *c,
			       int (*check)(void *ctx, long nr), void *ctx);
/* The catalogue fact NAME (a `fact` entry); CF_EINVAL if it has none. */
enum cf_err cf_config_set_fact(struct cf_config *c, const char *name,
			       uint64_t value);
/* Removes KEY from an unsealed configuration (no-op if absent). */
void cf_config_unset(struct cf_config *c, uint64_t key);
/* The value of catalogue fact NAME, if present. */
bool cf_config_get_fact(const struct cf_config *c, const char *name,
			uint64_t *value);
/* Calls FN for every present register in key order (catalogue and extras
 * merged); a non-zero return stops the walk and is returned. */
int cf_config_walk(const struct cf_config *c,
		   int (*fn)(void *ctx, uint64_t key, uint64_t value,
			     uint64_t writable),
		   void *ctx);
/* True if KEY is present; fills VALUE and WRITABLE (either may be NULL). */
bool cf_config_get(const struct cf_config *c, uint64_t key, uint64_t *value,
		   uint64_t *writable);
/* Does host C offer the capability that catalogue register I needs before
 * KVM takes another value there (its `wcap`: KVM_CHECK_EXTENSION non-zero
 * in C's report)?  True for a register without one. */
bool cf_config_wcap_offered(const struct cf_config *c, size_t i);
/* What KVM lets userspace change in catalogue register I of host C: the
 * reported writable mask, or nothing where the register's `wcap` is not
 * offered (api.rst: MIDR/REVIDR/AIDR stay invariant without
 * KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, whatever the mask says). */
uint64_t cf_config_writable(const struct cf_config *c, size_t i);
/* The capabilities a VM given WANT (a profile) must enable on a host
 * configured HOST before creating vCPUs: for every catalogue register with
 * a `wcap` whose value in WANT differs from HOST's, that capability's
 * catalogue index, each once, into OUT (at most MAX); returns how many.
 * check (cf_check) and apply (cf_arm64_apply_vm) both follow it. */
size_t cf_config_caps_needed(const struct cf_config *want,
			     const struct cf_config *host, size_t *out,
			     size_t max);
/* Sets the fingerprint: the canonical identity of engine/identity.h, which
 * neither the catalogue's layout nor per-vCPU bits change. */
void cf_config_seal(struct cf_config *c);
/* The same values, masks and registers, both sealed.  Stricter than equal
 * fingerprints (per-vCPU bits, a register at 0 or absent): a pool groups by
 * it, so its baseline does not depend on which host came first. */
bool cf_config_equal(const struct cf_config *a, const struct cf_config *b);
/* Sets to 0, in every register C has, the bits of the catalogue's fields
 * that KVM or the VMM fill per vCPU or at run time (policy CF_POL_IGNORE:
 * x86 `vcpu` and `runtime` fields, such as the APIC ids of leaves 1, 0xB
 * and 0x1F): a collected report then reads the same on every CPU. */
void cf_config_clear_per_vcpu(struct cf_config *c);

/* ---- shared configurations ----
 * A table of sealed configurations, one of each: whoever builds many
 * reports (a loader of many files, the bench) hands one table to all of
 * them, and a configuration equal (cf_config_equal) to one already there
 * is replaced by that one, so N reports of K distinct configurations hold
 * K.  Nothing global: the table is its caller's, used by one thread at a
 * time (reference counts are not atomic), and may be destroyed while the
 * configurations it handed out live on (each keeps its references). */
struct cf_config_table;

enum cf_err cf_config_table_create(struct cf_config_table **out);
void cf_config_table_destroy(struct cf_config_table *t);
/* *C (sealed) replaced by T's configuration equal to it, the caller's
 * reference moving there; else *C added to T.  CF_ENOMEM: both unchanged. */
enum cf_err cf_config_table_share(struct cf_config_table *t,
				  struct cf_config **c);
/* How many distinct configurations T holds. */
size_t cf_config_table_count(const struct cf_config_table *t);

#endif
