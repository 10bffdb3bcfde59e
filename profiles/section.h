/* The architecture section of reports and profiles ($.arm64, $.x86): each
 * architecture has a codec between its JSON shape and a configuration.
 * arm64 uses register maps ({"ID_AA64PFR0_EL1": "0x..."}); x86 a CPUID
 * array, a feature-MSR map and the TSC. */
#ifndef CF_SECTION_H
#define CF_SECTION_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "engine/config.h"

struct cf_section_codec {
	const char *arch;
	/* Reads SEC into CFG; REPORT: a report's section (writable masks),
	 * else a profile's.  Errors name ORIGIN and the JSON path. */
	enum cf_err (*read)(const cJSON *sec, struct cf_config *cfg,
			    bool report, const char *origin, struct cf_diag *d);
	/* Adds CFG's members to SEC. */
	enum cf_err (*write)(cJSON *sec, const struct cf_config *cfg,
			     bool report);
	/* The members READ consumes; a report keeps any other member of
	 * its section as written. */
	const char *const *keys;
};

/* A report must carry every catalogue register flagged CF_REG_REQUIRED
 * (what every KVM reports): else CF_ESCHEMA naming ORIGIN, PATH (where the
 * registers are) and the first one missing. */
enum cf_err cf_section_require(const struct cf_config *cfg, const char *origin,
			       const char *path, struct cf_diag *d);

/* The codec of architecture ARCH (never NULL for a known one). */
const struct cf_section_codec *cf_section_codec(const struct cf_arch_ops *arch);


#endif
