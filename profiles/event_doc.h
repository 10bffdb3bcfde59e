/* A drift event (db/db.h's struct cf_db_event) as one JSON object, for
 * GET /v1/events; README "Drift" describes its members. */
#ifndef CF_EVENT_DOC_H
#define CF_EVENT_DOC_H

#include <cjson/cJSON.h>
#include "db/db.h"

/* "lost" (the old value named a feature, the new one none), "gained" (the
 * reverse) or "changed". */
const char *cf_event_change_kind(const struct cf_db_event_field *f);
/* "still_accepted", "now_refused", "still_refused" or "now_accepted". */
const char *cf_event_verdict_status(const struct cf_db_event_verdict *v);
enum cf_err cf_event_to_doc(const struct cf_db_event *ev, cJSON **out);

#endif
