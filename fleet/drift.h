/* Drift (fleet/drift.c): what changed between a host's previous report
 * and its new one, and what that does to the published profiles.  Internal
 * to fleet/: the upload records it, tests read it. */
#ifndef CF_FLEET_DRIFT_H
#define CF_FLEET_DRIFT_H

#include <stdbool.h>
#include <stdint.h>
#include <cpufleet.h>
#include "db/db.h"

/* A guest-visible field whose value changed, with the names the engine's
 * decoder gives the old and the new value (FEAT_*, cpuinfo flags; "" for
 * none). */
struct cf_fleet_drift_field {
	char reg[64], field[64];
	char feature_old[CF_TEXT_MAX], feature_new[CF_TEXT_MAX];
	uint64_t old_value, new_value;
};
/* The latest version of a published profile on the old and the new
 * report; REASONS (malloc'd, one per line) when the new one refuses it. */
struct cf_fleet_drift_verdict {
	char profile[CF_DB_NAME_MAX];
	int version;
	char pool[CF_DB_NAME_MAX];
	bool member, accepted_before, accepted_now;
	char *reasons;
};
struct cf_fleet_drift {
	struct cf_fleet_drift_field *fields;
	size_t nfields, capf;
	struct cf_fleet_drift_verdict *verdicts;
	size_t nverdicts;
};

/* The fields that differ between OLD (NULL or another architecture:
 * none) and NOW, and the latest version of each published profile of
 * NOW's architecture checked once on each (one check per profile and
 * report, whatever the fleet's size), read through DB.  Free with
 * cf_fleet_drift_clear, also after a failure. */
enum cf_err cf_fleet_drift_compute(struct cf_db *db, const char *host,
				   const struct cf_report *old,
				   const struct cf_report *now,
				   struct cf_fleet_drift *dr);
void cf_fleet_drift_clear(struct cf_fleet_drift *dr);

/* Computes the drift from the stored OLD_BODY (sighting OLD_REPORT) to
 * NOW (sighting NEW_REPORT, received AT) and stores it as an event in
 * DB's open transaction; *EVENT its number. */
enum cf_err cf_fleet_drift_record(struct cf_db *db, const char *old_body,
				  const char *old_report,
				  const struct cf_report *now,
				  const char *new_report, const char *at,
				  long long *event, struct cf_diag *d);

#endif
