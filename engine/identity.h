/* Canonical identities (version "cfid1") of configurations and reports:
 * what a report says, never how the catalogue lays it out.
 *
 *  - A register counts by its encoding (x86 CPUID leaf, subleaf and
 *    register or MSR index; arm64 op0..op2; a capability's KVM_CAP number;
 *    a fact's key), in encoding order, whichever slot the catalogue gives
 *    it and whether the catalogue knows it or not.
 *  - The bits of fields filled per vCPU or at run time (policy
 *    CF_POL_IGNORE: the x86 `vcpu` and `runtime` kinds) count as 0.
 *  - A register that is then 0 counts as absent where an absent register
 *    means 0: every x86 register (KVM reads a leaf it does not list as 0
 *    and takes any value there: absent_is_zero), and on every architecture
 *    the pseudo-registers (capabilities, facts, firmware registers:
 *    KVM_CHECK_EXTENSION's 0 is "not offered").  An arm64 ID register at 0
 *    counts: there an absent register is a missing one.
 *  - Writable masks count for system registers (arm64 reports carry them);
 *    a pseudo-register's mask is the catalogue's, not the report's, and
 *    does not count.
 * So adding a register, capability or field to a catalogue changes no
 * identity of a report that does not carry it, nor of one that lists it at
 * 0.  (The report's content identity also takes capabilities by name from
 * the document, so one the catalogue learns changes it in no report but
 * one that wrote a bool capability above 1, which then counts as 1; the
 * fingerprint covers the configuration only, which then holds it.)
 * Changing a field's kind to or from vcpu/runtime does change identities:
 * such an edit needs a database migration that recomputes the stored ones
 * (db/db.c, migration 2). */
#ifndef CF_IDENTITY_H
#define CF_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include "engine/config.h"

#define CF_IDENTITY_VERSION "cfid1"

/* 64-bit fingerprint of C's canonical entries (cf_config_seal keeps it). */
uint64_t cf_identity_fingerprint(const struct cf_config *c);

#endif
