/* Shared by the libFuzzer targets: round-trip equality of reports and
 * profiles, and the oracles of the check properties.  Each oracle is a
 * rule of KVM stated here, not a call of the engine's own acceptance
 * function (cf_field_accepts): a failed property prints what broke and
 * aborts, which libFuzzer reports as a crash with the input. */
#ifndef CF_FUZZ_UTIL_H
#define CF_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>
#include "engine/catalog.h"
#include "engine/config.h"

/* Aborts with WHAT unless COND. */
void fz_require(bool cond, const char *what, const char *detail);

/* A deterministic generator seeded from the input bytes, so a crash
 * replays from its input alone. */
struct fz_rng {
	uint64_t s;
};
void fz_rng_seed(struct fz_rng *g, const uint8_t *data, size_t size);
uint64_t fz_rng_next(struct fz_rng *g);

/* A field of a register a VMM programs with the CPU's own accessors (an
 * arm64 system register, an x86 CPUID register or MSR; not a KVM
 * capability or fact), drawn at random. */
struct fz_pick {
	size_t ri;                 /* catalogue index */
	const struct cf_reg *reg;
	const struct cf_field *f;
};
/* Draws fields of CAT at random and calls FN with each until FN has taken
 * TRIES of them (returned true) or 64 draws were made. */
void fz_each_field(const struct cf_catalog *cat, struct fz_rng *g, int tries,
		   bool (*fn)(void *ctx, const struct fz_pick *p), void *ctx);

/* Print R, parse the text, print again: both texts are the same bytes,
 * and the two reports the same (host, registers, writable masks,
 * fingerprint, content identity). */
void fz_report_round_trip(const struct cf_report *r);
/* The same for a profile: texts, architecture, hosts, implementations,
 * conflicts, register values and the capabilities its VMs enable. */
void fz_profile_round_trip(const struct cf_profile *pr);

/* PR with its register values replaced by CFG (taken over, sealed here);
 * the hosts and conflicts are not copied. */
struct cf_profile *fz_profile_with(const struct cf_profile *pr,
				   struct cf_config *cfg);
/* A host report HOST_ID offering CFG (taken over, sealed here). */
struct cf_report *fz_host_with(const char *host_id, struct cf_config *cfg);

/* Registers that describe a feature (cpuid.txt `gate=`) are judged only
 * when the profile has one of its gate flags.  True if KEY is not gated or
 * CFG has one of its gates. */
bool fz_gate_open(const struct cf_config *cfg, uint64_t key);
/* Sets KEY's first gate flag in CFG (nothing if KEY is not gated). */
enum cf_err fz_open_gate(struct cf_config *cfg, uint64_t key);

/* A field whose host value is the most it offers: a feature flag, an
 * arm64 `lower` field or an x86 `number` (catalogue policy lower).  The
 * all-ones IMPLEMENTATION DEFINED scheme (lower-impdef) is left out: there
 * all ones stands for 0. */
bool fz_field_is_lower(const struct cf_field *f);
/* The next value above RAW in the field's order (signed fields as two's
 * complement); false at the top. */
bool fz_field_up(const struct cf_field *f, uint64_t raw, uint64_t *out);
/* The next value below RAW; false at the bottom. */
bool fz_field_down(const struct cf_field *f, uint64_t raw, uint64_t *out);
/* V with field F set to RAW. */
uint64_t fz_field_put(const struct cf_field *f, uint64_t v, uint64_t raw);

/* cf_check(PR, R) says compatible; WHY names the property. */
void fz_require_accepts(const struct cf_profile *pr, const struct cf_report *r,
			const char *why);
/* cf_check(PR, R) says incompatible and one reason names register REG and
 * (unless FIELD is NULL or the reason is a missing register) FIELD. */
void fz_require_refuses(const struct cf_profile *pr, const struct cf_report *r,
			const char *reg, const char *field, const char *why);

#endif
