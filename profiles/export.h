/* Exports: what the formats share.  One ops table per format
 * (export_qemu.c, export_libvirt.c, export_firecracker.c); export.c holds
 * the registry, the result object, and the x86 plan both QEMU and libvirt
 * start from: the profile's feature bits over a named model chosen the way
 * libvirt chooses one. */
#ifndef CF_EXPORT_H
#define CF_EXPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <cpufleet.h>
#include "engine/handles.h"
#include "arch/x86/vmm.h"
#include "util/sha256.h"

struct cf_export {
	char format[16];
	char arch[16];
	char name[CF_TEXT_MAX];
	int version;
	char fingerprint[8 + CF_SHA256_HEX];
	char *text;
	char **notes;
	size_t nnotes;
	char **dropped;
	size_t ndropped;
};

typedef enum cf_err (*cf_export_fn)(const struct cf_profile *pr,
				    const struct cf_export_opts *o,
				    struct cf_export *e, struct cf_diag *d);

struct cf_export_ops {
	const char *name;
	cf_export_fn x86;
	cf_export_fn arm64;     /* NULL: nothing to say for arm64 ... */
	const char *no_arm64;   /* ... and why */
};

extern const struct cf_export_ops cf_export_qemu;
extern const struct cf_export_ops cf_export_libvirt;
extern const struct cf_export_ops cf_export_firecracker;

/* A growing text; OOM sticks and is reported by cf_buf_done. */
struct cf_buf {
	char *s;
	size_t len, cap;
	bool oom;
};
void cf_buf_printf(struct cf_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands B's text to E (CF_ENOMEM if anything failed). */
enum cf_err cf_buf_done(struct cf_buf *b, struct cf_export *e);

enum cf_err cf_export_add_note(struct cf_export *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum cf_err cf_export_add_drop(struct cf_export *e, const char *what);
/* "cpufleet export of profile NAME version V, fingerprint sha256:..."
 * ("of a profile file" without a name). */
void cf_export_origin(const struct cf_export *e, char *buf, size_t len);

/* One feature bit of an x86 profile. */
struct cf_x86_bit {
	uint64_t key;
	uint8_t bit;
	const char *field;   /* the catalogue's field name */
	bool inverted;       /* a weakness (policy higher): a guest must be told */
};

/* The x86 plan: the libvirt model a guest CPU of the profile decodes into
 * (libvirt's x86Decode over arch/x86/libvirt.txt), and the bits to add to
 * it and remove from it, each with VMM's name (NULL: VMM has none). */
struct cf_x86_plan {
	const struct cf_x86_vmm_model *model;
	char vendor[16];               /* "GenuineIntel" */
	const char *vendor_name;       /* libvirt's "Intel", or NULL */
	unsigned family, model_nr, stepping;
	struct cf_x86_bit *plus, *minus;
	const char **plus_name, **minus_name;
	size_t nplus, nminus;
};

/* Builds PLAN for VMM's names.  A bit the profile sets that VMM cannot name
 * is refused naming it (CF_EINVAL), or with O->allow_drop left out of the
 * plan and listed in E; a bit of the model the profile lacks that VMM
 * cannot remove is refused always. */
enum cf_err cf_x86_plan_make(const struct cf_profile *pr,
			     const struct cf_x86_vmm *vmm,
			     const struct cf_export_opts *o, struct cf_export *e,
			     struct cf_x86_plan *plan, struct cf_diag *d);
void cf_x86_plan_free(struct cf_x86_plan *plan);

/* The profile's value of register KEY (0 when absent), and the catalogue
 * register, or NULL. */
uint64_t cf_export_reg(const struct cf_profile *pr, uint64_t key,
		       const struct cf_reg **reg);
/* Notes, for every non-zero field of PR that is no feature bit and that
 * the exporter did not carry (HANDLED says which: key and field name),
 * "REG.FIELD = VALUE is not carried: WHY". */
enum cf_err cf_export_note_numbers(const struct cf_profile *pr,
				   struct cf_export *e,
				   bool (*handled)(uint64_t key, const char *field),
				   const char *why);

/* Firecracker's RegisterValueFilter (templates.rs): a bitmap string, "0b"
 * optional, read from its end, '_' skipped, '0'/'1' forcing a bit into
 * *FILTER and *VALUE, 'x' keeping the host's; false for another character
 * or more than WIDTH (<= 64) digits. */
bool cf_fc_bitmap(const char *s, unsigned width, uint64_t *filter,
		  uint64_t *value);

/* arm64: what the ID registers say a vCPU was created with.  KVM exposes
 * these fields only with the vCPU feature: ID_AA64DFR0_EL1.PMUVer reads 0
 * without KVM_ARM_VCPU_PMU_V3, ID_AA64PFR0_EL1.SVE without
 * KVM_ARM_VCPU_SVE, the PAuth fields of ID_AA64ISAR1/2_EL1 without the
 * PTRAUTH features (arch/arm64/kvm/sys_regs.c, research arm64-kvm.md). */
bool cf_export_arm64_pmu(const struct cf_profile *pr);
bool cf_export_arm64_sve(const struct cf_profile *pr);
bool cf_export_arm64_pauth(const struct cf_profile *pr);
/* Notes for PR's KVM facts but SVE_VLS: VMM does not carry them. */
enum cf_err cf_export_note_facts(const struct cf_profile *pr,
				 struct cf_export *e, const char *vmm);

#endif
