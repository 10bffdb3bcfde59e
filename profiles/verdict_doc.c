/* A verdict's reasons as JSON, shared by `cpufleet check --json` and the
 * server's /v1/check. */
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include <cpufleet.h>
#include "profiles/doc.h"

enum cf_err cf_verdict_to_json(const struct cf_verdict *v, char **out)
{
	size_t n = cf_verdict_reason_count(v);
	cJSON *arr = cJSON_CreateArray();
	char text[512], wb[24], ob[24];
	enum cf_err err = CF_ENOMEM;

	*out = NULL;
	if (!arr)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		const struct cf_reason *r = cf_verdict_reason(v, i);
		cJSON *ro = cJSON_CreateObject();
		if (!ro || !cJSON_AddItemToArray(arr, ro))
			goto cleanup;
		cf_verdict_reason_text(v, i, text, sizeof(text));
		snprintf(wb, sizeof(wb), "0x%llx", (unsigned long long)r->want);
		snprintf(ob, sizeof(ob), "0x%llx", (unsigned long long)r->offer);
		if (!cJSON_AddStringToObject(ro, "register", r->reg) ||
		    !(r->field ? cJSON_AddStringToObject(ro, "field", r->field)
			       : cJSON_AddNullToObject(ro, "field")) ||
		    !cJSON_AddStringToObject(ro, "features", r->features) ||
		    !cJSON_AddStringToObject(ro, "wants", wb) ||
		    !cJSON_AddStringToObject(ro, "offers", ob) ||
		    !cJSON_AddStringToObject(ro, "text", text))
			goto cleanup;
		/* A broken dependency: what the feature needs. */
		if (r->kind == CF_REASON_DEPENDS &&
		    !cJSON_AddStringToObject(ro, "needs", r->needs))
			goto cleanup;
	}
	*out = cJSON_PrintUnformatted(arr);
	if (*out)
		err = CF_OK;
cleanup:
	cJSON_Delete(arr);
	return err;
}
