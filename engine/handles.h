/* The engine's handles (struct cf_report and cf_profile, opaque in
 * cpufleet.h) as the layers above the engine use them: the document
 * codecs and exporters (profiles/), the tools.  Constructors and accessors
 * in the engine's own types (struct cf_config, struct cf_arch_ops), never
 * the handles' layout: engine/report.h and engine/profile.h, which define
 * it, are for engine/ and arch/ only (tests/cli/layers.sh fails
 * otherwise).  Not installed: the public API stays cpufleet.h's. */
#ifndef CF_HANDLES_H
#define CF_HANDLES_H

#include <cpufleet.h>
#include "engine/arch.h"
#include "engine/config.h"

/* ---- reports ---- */

/* Takes over the caller's reference to CFG (sealed by this call). */
enum cf_err cf_report_create(const char *host_id, struct cf_config *cfg,
			     struct cf_report **out);
/* R's CPU configuration (shared, immutable). */
const struct cf_config *cf_report_config(const struct cf_report *r);
/* R's configuration replaced by T's equal one, or added to T
 * (cf_config_table_share): what a loader of many reports calls after each
 * parse, so that equal configurations are held once.  Every answer about R
 * stays the same.  CF_ENOMEM: R keeps its own. */
enum cf_err cf_report_share(struct cf_report *r, struct cf_config_table *t);

/* What a report says besides its host id, report_id and configuration,
 * as its document has it.  The texts are at most CF_TEXT_MAX - 1 bytes;
 * the JSON members are objects the engine does not model (KVM
 * capabilities it does not know, counter frequency, SVE lengths...),
 * merged into "kvm" and into the architecture's section when written. */
enum cf_report_field {
	CF_REPORT_HOSTNAME,
	CF_REPORT_KERNEL,
	CF_REPORT_MICROCODE,
	CF_REPORT_FIRMWARE,
	CF_REPORT_MACHINE_ID,
	CF_REPORT_COLLECTED_AT,
	CF_REPORT_KVM_JSON,
	CF_REPORT_ARCH_JSON,
};
/* Field F of R, NULL if R says none. */
const char *cf_report_field(const struct cf_report *r, enum cf_report_field f);
/* Sets field F of R to a copy of VALUE (NULL or "": none).  A text of
 * CF_TEXT_MAX bytes or more is CF_EINVAL, R unchanged. */
enum cf_err cf_report_set_field(struct cf_report *r, enum cf_report_field f,
				const char *value);

/* ---- profiles ---- */

/* PR's architecture, its values (capabilities: the pool's common set) and
 * the capabilities its VMs enable (NULL: none). */
const struct cf_arch_ops *cf_profile_ops(const struct cf_profile *pr);
const struct cf_config *cf_profile_config(const struct cf_profile *pr);
const struct cf_config *cf_profile_enabled(const struct cf_profile *pr);

/* What a profile lists: its conflicts, the features it left out, its
 * pool's implementations. */
#define CF_CONFLICT_REG (-1)     /* bits outside described fields */
#define CF_CONFLICT_PRESENT (-2) /* reported by some hosts only */

enum cf_conflict_kind {
	CF_CONFLICT_NOT_WRITABLE = 1, /* differs; some host cannot change it */
	CF_CONFLICT_NO_COMMON = 2,    /* no value every host accepts */
	CF_CONFLICT_UNDESCRIBED = 3,
	CF_CONFLICT_MISSING = 4,
	CF_CONFLICT_VENDOR = 5,       /* hosts of different CPU vendors */
	CF_CONFLICT_KVM_RULE = 6,     /* a host's KVM refuses the combined
					 values by a rule of its own
					 (catalogue `refuse`) */
};

struct cf_conflict {
	enum cf_conflict_kind kind;
	uint64_t key;
	int field;        /* field index, or CF_CONFLICT_REG / _PRESENT */
	uint64_t *gval;   /* per group: field value (raw) or register bits */
	uint8_t *gpresent;
	char feature[CF_TEXT_MAX];
	char reason[CF_TEXT_MAX];
};

/* One implementation: the values of the catalogue's identity registers
 * (CF_REG_IDENTITY: MIDR_EL1, REVIDR_EL1, AIDR_EL1), in catalogue order. */
#define CF_IMPL_REGS 4
struct cf_impl {
	uint64_t val[CF_IMPL_REGS];
	uint8_t present[CF_IMPL_REGS];
};

/* A feature the baseline left out because a feature it needs is not kept
 * (the catalogue's `needs` rules, or an XSAVE layout the hosts do not
 * share). */
#define CF_DROP_REASON_MAX 512
struct cf_dropped {
	uint64_t key;
	int field;                 /* field index, -1: bits of the register */
	uint64_t from, to;         /* the field's raw value (or the register) */
	char feature[CF_TEXT_MAX]; /* what went: "avx512f" */
	char needs[CF_TEXT_MAX];   /* what it needs, in words */
	char reason[CF_DROP_REASON_MAX]; /* "dropped avx512f: needs ..., which ..." */
};

/* Computed conflict, dropped feature, implementation I of PR, or NULL past
 * the last (a loaded profile has none computed: cf_profile_listed). */
const struct cf_conflict *cf_profile_conflict(const struct cf_profile *pr,
					      size_t i);
const struct cf_dropped *cf_profile_drop(const struct cf_profile *pr, size_t i);
const struct cf_impl *cf_profile_impl(const struct cf_profile *pr, size_t i);
/* Catalogue indexes of the identity registers, in catalogue order, into
 * RI; returns how many (at most CF_IMPL_REGS, gen_catalog.awk checks). */
size_t cf_impl_regs(const struct cf_catalog *cat, size_t ri[CF_IMPL_REGS]);

/* The group of PR's host I (cf_profile_host gives its id): the index of a
 * conflict's gval and gpresent; and how many configurations PR's hosts
 * have. */
size_t cf_profile_host_group(const struct cf_profile *pr, size_t i);
size_t cf_profile_configurations(const struct cf_profile *pr);

/* A loaded profile's lists as its document has them: JSON text written
 * back as is, and each entry's text (what cf_profile_conflict_text and
 * cf_profile_dropped_text give). */
enum cf_profile_list {
	CF_PROFILE_CONFLICTS,
	CF_PROFILE_DROPPED,
};
/* List L's JSON text (NULL: none) and its entries into *N (N may be
 * NULL). */
const char *cf_profile_listed(const struct cf_profile *pr,
			      enum cf_profile_list l, size_t *n);

/* Building a profile (a document's parser): an empty profile of ARCH; its
 * values, to fill and then seal (cf_config_seal); a host (group 0: a
 * document lists hosts, not their configurations) and the number of
 * configurations the profile says it has; an implementation (kept
 * ascending, each once); list L, copies of JSON and of TEXTS[0..N)
 * (replacing what L had). */
enum cf_err cf_profile_alloc(const struct cf_arch_ops *arch,
			     struct cf_profile **out);
struct cf_config *cf_profile_values(struct cf_profile *pr);
enum cf_err cf_profile_add_host(struct cf_profile *pr, const char *id);
void cf_profile_set_configurations(struct cf_profile *pr, size_t n);
enum cf_err cf_profile_add_impl(struct cf_profile *pr, const struct cf_impl *im);
enum cf_err cf_profile_set_listed(struct cf_profile *pr, enum cf_profile_list l,
				  const char *json, const char *const *texts,
				  size_t n);

#endif
