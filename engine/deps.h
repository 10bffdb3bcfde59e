/* Features that need others: one generic loop over an architecture's
 * dependency table (the catalogue's `needs` lines, struct cf_deps).  A
 * baseline is closed under it (cf_deps_close); a check refuses a profile
 * that breaks it. */
#ifndef CF_DEPS_H
#define CF_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/config.h"

/* T as a need: C meets it (every bit of a CF_DEP_BITS term).  A register C
 * lacks reads as 0. */
bool cf_dep_met(const struct cf_config *c, const struct cf_dep_term *t);
/* T as a feature: C has it (any bit of a CF_DEP_BITS term). */
bool cf_dep_present(const struct cf_config *c, const struct cf_dep_term *t);
/* Index of the first need of D that C does not meet, or -1. */
int cf_dep_unmet(const struct cf_config *c, const struct cf_dep *d);

/* What the closure lowered: feature DEP->feature from FROM to TO (the
 * field's raw value, or the register's value for a register term),
 * because C lacked need NEED of the rule DEP. */
struct cf_dep_drop {
	const struct cf_dep *dep;
	int need;
	uint64_t from, to;
};

/* Lowers in C, to the richest value that is no longer the feature, every
 * feature one of whose needs C does not meet, until every rule holds;
 * appends one entry per lowering to *DROPS (realloc'd, *N entries).  Of a
 * feature's unmet needs it names one the closure has not itself dropped
 * where there is one. */
enum cf_err cf_deps_close(struct cf_config *c, struct cf_dep_drop **drops,
			  size_t *n);

/* T in the operator's words into BUF: the feature names its value means
 * and where it lives ("avx512f", "FEAT_SVE (ID_AA64PFR0_EL1.SVE)",
 * "IA32_VMX_ENTRY_CTLS.allowed1 bit 9"). */
void cf_dep_term_name(const struct cf_arch_ops *a, const struct cf_dep_term *t,
		      char *buf, size_t len);
/* What was lost when T's field went from FROM to TO, the same way. */
void cf_dep_lost_name(const struct cf_arch_ops *a, const struct cf_dep_term *t,
		      uint64_t from, uint64_t to, char *buf, size_t len);
/* What D needs, for a message: its text, else need NEED's name. */
void cf_dep_needs_text(const struct cf_arch_ops *a, const struct cf_dep *d,
		       int need, char *buf, size_t len);

#endif
