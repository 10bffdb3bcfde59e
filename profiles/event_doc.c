/* A drift event as JSON: when, which host, the cause where the reports
 * show it, each changed field with its names, and each published
 * profile's verdict before and now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profiles/event_doc.h"

const char *cf_event_change_kind(const struct cf_db_event_field *f)
{
	if (f->feature_old[0] && !f->feature_new[0])
		return "lost";
	if (!f->feature_old[0] && f->feature_new[0])
		return "gained";
	return "changed";
}

const char *cf_event_verdict_status(const struct cf_db_event_verdict *v)
{
	if (v->accepted_now)
		return v->accepted_before ? "still_accepted" : "now_accepted";
	return v->accepted_before ? "now_refused" : "still_refused";
}

static bool add_hex(cJSON *o, const char *key, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", v);
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

/* The causes: what the reports say changed of kernel, microcode and
 * firmware (an empty array: none of them, the cause is unknown). */
static bool add_cause(cJSON *o, const struct cf_db_event *ev)
{
	static const char *const what[] = { "kernel", "microcode", "firmware" };
	const char *const *pair[] = { ev->kernel, ev->microcode, ev->firmware };
	cJSON *a = cJSON_AddArrayToObject(o, "cause");

	for (size_t i = 0; a && i < 3; i++) {
		const char *old = pair[i][0] ? pair[i][0] : "";
		const char *now = pair[i][1] ? pair[i][1] : "";
		cJSON *c;

		if (!strcmp(old, now))
			continue;
		c = cJSON_CreateObject();
		if (!c || !cJSON_AddItemToArray(a, c) ||
		    !cJSON_AddStringToObject(c, "what", what[i]) ||
		    !cJSON_AddStringToObject(c, "old", old) ||
		    !cJSON_AddStringToObject(c, "new", now))
			return false;
	}
	return a != NULL;
}

static bool add_fields(cJSON *o, const struct cf_db_event *ev)
{
	cJSON *a = cJSON_AddArrayToObject(o, "changes");

	for (size_t i = 0; a && i < ev->nfields; i++) {
		const struct cf_db_event_field *f = &ev->fields[i];
		cJSON *c = cJSON_CreateObject();

		if (!c || !cJSON_AddItemToArray(a, c) ||
		    !cJSON_AddStringToObject(c, "register", f->reg) ||
		    !cJSON_AddStringToObject(c, "field", f->field) ||
		    !cJSON_AddStringToObject(c, "feature", f->feature_old[0] ?
					     f->feature_old : f->feature_new) ||
		    !cJSON_AddStringToObject(c, "feature_old", f->feature_old) ||
		    !cJSON_AddStringToObject(c, "feature_new", f->feature_new) ||
		    !add_hex(c, "old", f->old_value) ||
		    !add_hex(c, "new", f->new_value) ||
		    !cJSON_AddStringToObject(c, "change",
					     cf_event_change_kind(f)))
			return false;
	}
	return a != NULL;
}

/* The reasons, one per line as stored, as an array. */
static bool add_reasons(cJSON *o, const char *text)
{
	cJSON *a = cJSON_AddArrayToObject(o, "reasons");
	const char *s = text;

	while (a && *s) {
		size_t n = strcspn(s, "\n");
		char *line = strndup(s, n);
		cJSON *r = line ? cJSON_CreateString(line) : NULL;

		free(line);
		if (!r || !cJSON_AddItemToArray(a, r)) {
			cJSON_Delete(r);
			return false;
		}
		s += n + (s[n] == '\n');
	}
	return a != NULL;
}

static bool add_verdicts(cJSON *o, const struct cf_db_event *ev)
{
	cJSON *a = cJSON_AddArrayToObject(o, "profiles");

	for (size_t i = 0; a && i < ev->nverdicts; i++) {
		const struct cf_db_event_verdict *v = &ev->verdicts[i];
		cJSON *c = cJSON_CreateObject();

		if (!c || !cJSON_AddItemToArray(a, c) ||
		    !cJSON_AddStringToObject(c, "profile", v->profile) ||
		    !cJSON_AddNumberToObject(c, "version", v->version) ||
		    !cJSON_AddStringToObject(c, "pool", v->pool) ||
		    !cJSON_AddBoolToObject(c, "member", v->member) ||
		    !cJSON_AddBoolToObject(c, "accepted_before",
					   v->accepted_before) ||
		    !cJSON_AddBoolToObject(c, "accepted_now", v->accepted_now) ||
		    !cJSON_AddStringToObject(c, "status",
					     cf_event_verdict_status(v)) ||
		    !add_reasons(c, v->reasons))
			return false;
	}
	return a != NULL;
}

enum cf_err cf_event_to_doc(const struct cf_db_event *ev, cJSON **out)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o &&
		cJSON_AddNumberToObject(o, "seq", (double)ev->seq) &&
		cJSON_AddStringToObject(o, "at", ev->at) &&
		cJSON_AddStringToObject(o, "host", ev->host) &&
		cJSON_AddStringToObject(o, "arch", ev->arch) &&
		cJSON_AddStringToObject(o, "from_report", ev->from_report) &&
		cJSON_AddStringToObject(o, "to_report", ev->to_report) &&
		add_cause(o, ev) && add_fields(o, ev) && add_verdicts(o, ev);

	if (!ok) {
		cJSON_Delete(o);
		*out = NULL;
		return CF_ENOMEM;
	}
	*out = o;
	return CF_OK;
}
