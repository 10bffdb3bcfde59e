/* The what-if answer as one JSON document, for the API and the CLI. */
#include <stdlib.h>
#include "profiles/doc.h"
#include "fleet/whatif.h"

static bool add_strings(cJSON *o, const char *key, const char *const *s,
			size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(s[i])))
			return false;
	return a != NULL;
}

enum cf_err cf_whatif_to_doc(const struct cf_whatif *w, const char *pool,
			     const char *against, int version, cJSON **out)
{
	cJSON *o = cJSON_CreateObject(), *a, *it, *prof;
	const char **hosts = calloc(w->n + 1, sizeof(*hosts));
	char t[512];
	bool ok = o && hosts;

	*out = NULL;
	for (size_t i = 0; ok && i < w->n; i++)
		hosts[i] = w->m[i].id;
	ok = ok && (pool ? cJSON_AddStringToObject(o, "pool", pool)
			 : cJSON_AddNullToObject(o, "pool")) &&
	     add_strings(o, "hosts", hosts, w->n) &&
	     add_strings(o, "added", w->added, w->nadded) &&
	     add_strings(o, "removed", w->removed, w->nremoved) &&
	     cJSON_AddBoolToObject(o, "feasible", cf_profile_feasible(w->after));
	a = ok ? cJSON_AddArrayToObject(o, "conflicts") : NULL;
	for (size_t i = 0; a && i < cf_profile_conflict_count(w->after); i++) {
		cf_profile_conflict_text(w->after, i, t, sizeof(t));
		ok = ok && cJSON_AddItemToArray(a, cJSON_CreateString(t));
	}
	prof = ok && a ? cJSON_Parse(w->after_json) : NULL;
	ok = ok && a && prof && cJSON_AddItemToObject(o, "profile", prof);
	if (!ok)
		cJSON_Delete(prof);
	if (ok && against) {
		it = cJSON_AddObjectToObject(o, "against");
		ok = it && cJSON_AddStringToObject(it, "name", against) &&
		     cJSON_AddNumberToObject(it, "version", version);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "against") != NULL;
	}
	ok = ok && add_strings(o, "gained", (const char *const *)w->gained,
			       w->ngained) &&
	     add_strings(o, "lost", (const char *const *)w->lost, w->nlost);
	a = ok ? cJSON_AddArrayToObject(o, "refused") : NULL;
	for (size_t i = 0; a && ok && i < w->nrefused; i++) {
		ok = cf_verdict_entry_doc(w->refused[i].host, w->refused[i].v,
					  &it) == CF_OK;
		ok = ok && cJSON_AddItemToArray(a, it);
	}
	free(hosts);
	if (!ok || !a) {
		cJSON_Delete(o);
		return CF_ENOMEM;
	}
	*out = o;
	return CF_OK;
}
