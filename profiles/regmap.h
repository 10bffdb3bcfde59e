/* Register maps in documents: {"ID_AA64PFR0_EL1": "0x...", "S3_0_C0_C4_7": ...}. */
#ifndef CF_REGMAP_H
#define CF_REGMAP_H

#include <cjson/cJSON.h>
#include "engine/config.h"

enum cf_regmap_kind {
	CF_REGMAP_VALUES,   /* system registers */
	CF_REGMAP_WRITABLE, /* their writable masks */
	CF_REGMAP_PSEUDO,   /* pseudo-registers, writable as the catalogue says */
	CF_REGMAP_CAPS,     /* KVM capabilities: {"KVM_CAP_...": number} */
	CF_REGMAP_FACTS,    /* KVM facts, writable as the catalogue says */
};

/* Each kind's registers: 0 system, 1 ONE_REG pseudo, 2 capability. */

/* Reads OBJ (at JSON path PATH) into CFG. */
enum cf_err cf_regmap_read(const cJSON *obj, enum cf_regmap_kind kind,
			   struct cf_config *cfg, const char *origin,
			   const char *path, struct cf_diag *d);
/* Adds an object KEY under PARENT with CFG's present registers in
 * encoding order (writable masks when KIND says so, zero masks omitted). */
enum cf_err cf_regmap_write(cJSON *parent, const char *key,
			    enum cf_regmap_kind kind,
			    const struct cf_config *cfg);

#endif
