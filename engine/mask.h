/* What the manual masks share with the named levels (engine/mask.c). */
#ifndef CF_MASK_H
#define CF_MASK_H

#include <stdbool.h>
#include "engine/config.h"

/* Whether C's registers show FEAT: some field at a value naming it (a
 * lower field's values below its own count, as cf_field_features_at
 * says).  FEAT as users write it: case ignored, FEAT_ optional. */
bool cf_mask_shows(const struct cf_config *c, const char *feat);

#endif
