/* Verdicts and pair matrices as JSON: the one encoder behind
 * `cpufleet check|explain|apply|matrix --json` and the server's /v1/check
 * and /v1/pools/{name}/matrix.  README "JSON: verdicts and matrices"
 * describes the shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cpufleet.h>
#include "profiles/doc.h"

/* enum cf_reason_kind's names in the documents, by value. */
static const char *const kind_names[] = {
	[CF_REASON_LACKS] = "lacks",
	[CF_REASON_NOT_WRITABLE] = "not_writable",
	[CF_REASON_NOT_ACCEPTED] = "not_accepted",
	[CF_REASON_UNDESCRIBED] = "undescribed",
	[CF_REASON_MISSING_REG] = "missing_register",
	[CF_REASON_ARCH] = "arch",
	[CF_REASON_NEEDS_CAP] = "needs_cap",
	[CF_REASON_DEPENDS] = "depends",
	[CF_REASON_KVM_RULE] = "kvm_rule",
};

static const char *kind_name(enum cf_reason_kind k)
{
	size_t n = sizeof(kind_names) / sizeof(kind_names[0]);

	return (size_t)k < n && kind_names[k] ? kind_names[k] : "unknown";
}

enum cf_err cf_verdict_to_doc(const struct cf_verdict *v, cJSON **out)
{
	size_t n = cf_verdict_reason_count(v);
	cJSON *arr = cJSON_CreateArray();
	char text[512], wb[24], ob[24];

	*out = NULL;
	if (!arr)
		return CF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct cf_reason *r = cf_verdict_reason(v, i);
		cJSON *ro = cJSON_CreateObject();
		if (!ro || !cJSON_AddItemToArray(arr, ro))
			goto cleanup;
		cf_verdict_reason_text(v, i, text, sizeof(text));
		snprintf(wb, sizeof(wb), "0x%llx", (unsigned long long)r->want);
		snprintf(ob, sizeof(ob), "0x%llx", (unsigned long long)r->offer);
		if (!cJSON_AddStringToObject(ro, "kind", kind_name(r->kind)) ||
		    !cJSON_AddStringToObject(ro, "register", r->reg) ||
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
		/* KVM's own rule, in words. */
		if (r->kind == CF_REASON_KVM_RULE &&
		    !cJSON_AddStringToObject(ro, "rule", r->needs))
			goto cleanup;
	}
	*out = arr;
	return CF_OK;
cleanup:
	cJSON_Delete(arr);
	return CF_ENOMEM;
}

enum cf_err cf_verdict_entry_doc(const char *host, const struct cf_verdict *v,
				 cJSON **out)
{
	cJSON *o = cJSON_CreateObject(), *rs = NULL;
	char sum[1024];

	*out = NULL;
	cf_verdict_summary(v, sum, sizeof(sum));
	if (!o || cf_verdict_to_doc(v, &rs) != CF_OK ||
	    !cJSON_AddStringToObject(o, "host", host) ||
	    !cJSON_AddBoolToObject(o, "compatible", cf_verdict_compatible(v)) ||
	    !cJSON_AddStringToObject(o, "summary", sum) ||
	    !cJSON_AddItemToObject(o, "reasons", rs)) {
		cJSON_Delete(rs);   /* never in O when we get here */
		cJSON_Delete(o);
		return CF_ENOMEM;
	}
	*out = o;
	return CF_OK;
}

/* What reason R blocks on, in users' words: its feature names, else the
 * register and field. */
static void blocker_name(const struct cf_verdict *v, const struct cf_reason *r,
			 char *buf, size_t len)
{
	const char *w = cf_verdict_value_name(v, r->reg, r->want);
	const char *o = cf_verdict_value_name(v, r->reg, r->offer);
	const char *topic = cf_verdict_reason_topic(v, r);

	if (r->kind == CF_REASON_NEEDS_CAP && w && o)
		snprintf(buf, len, "%s %s (host %s)", r->reg, w, o);
	else if (r->kind == CF_REASON_ARCH)
		snprintf(buf, len, "architecture: host is %s", r->reg);
	else if (r->field && !strcmp(r->field, "vendor"))
		snprintf(buf, len, "CPU vendor");
	else if (topic)
		snprintf(buf, len, "%s", topic);
	else if (r->kind == CF_REASON_DEPENDS)
		snprintf(buf, len, "%s without %s", r->features, r->needs);
	else if (r->features[0]) {
		/* "FEAT_PAN,FEAT_PAN2": one blocker, so not the list's ", ". */
		snprintf(buf, len, "%s", r->features);
		for (char *c = buf; (c = strchr(c, ',')); c++)
			*c = '/';
	}
	else if (r->field)
		snprintf(buf, len, "%s.%s", r->reg, r->field);
	else
		snprintf(buf, len, "%s", r->reg);
}

void cf_verdict_summary(const struct cf_verdict *v, char *buf, size_t len)
{
	size_t n = cf_verdict_reason_count(v), shown = 0, at;
	char name[2 * CF_TEXT_MAX + 16], prev[2 * CF_TEXT_MAX + 16];

	if (!len)
		return;
	if (cf_verdict_compatible(v)) {
		snprintf(buf, len, "compatible");
		return;
	}
	snprintf(buf, len, "incompatible, %zu blocker%s (", n,
		 n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		blocker_name(v, cf_verdict_reason(v, i), name, sizeof(name));
		for (size_t j = 0; j < i && !seen; j++) {
			blocker_name(v, cf_verdict_reason(v, j), prev,
				     sizeof(prev));
			seen = !strcmp(prev, name);
		}
		if (seen)
			continue;
		at = strlen(buf);
		if (shown == 4) {
			snprintf(buf + at, len - at, ", ...");
			break;
		}
		snprintf(buf + at, len - at, "%s%s", shown ? ", " : "", name);
		shown++;
	}
	at = strlen(buf);
	snprintf(buf + at, len - at, ")");
}

enum cf_err cf_verdict_to_json(const struct cf_verdict *v, char **out)
{
	cJSON *arr;
	enum cf_err err = cf_verdict_to_doc(v, &arr);

	*out = NULL;
	if (err != CF_OK)
		return err;
	*out = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return *out ? CF_OK : CF_ENOMEM;
}

/* ---- the pair matrix ---- */

cJSON *cf_matrix_cell_doc(const char *key, const char *host,
			  const struct cf_matrix_cell *c)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, key, host) ||
		  !cJSON_AddBoolToObject(o, "compatible", c->compatible) ||
		  !cJSON_AddNumberToObject(o, "reasons", (double)c->reasons))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void cf_matrix_config_name(size_t g, char *buf, size_t len)
{
	snprintf(buf, len, "c%zu", g + 1);
}

enum cf_err cf_matrix_to_doc(const char *const *hosts, size_t n,
			     const size_t *group, size_t ngroups,
			     const struct cf_matrix_cell *cell, cJSON *o)
{
	cJSON *hl = cJSON_AddArrayToObject(o, "hosts");
	cJSON *cl = cJSON_AddArrayToObject(o, "configs");
	cJSON *rows = cJSON_AddArrayToObject(o, "rows");
	cJSON **members = calloc(ngroups + 1, sizeof(*members));
	enum cf_err err = CF_ENOMEM;
	char from[32], to[32];
	bool all = true;

	if (!hl || !cl || !rows || !members)
		goto done;
	for (size_t g = 0; g < ngroups; g++) {
		cJSON *c = cJSON_CreateObject();
		cf_matrix_config_name(g, from, sizeof(from));
		if (!c || !cJSON_AddItemToArray(cl, c) ||
		    !cJSON_AddStringToObject(c, "config", from) ||
		    !(members[g] = cJSON_AddArrayToObject(c, "hosts")))
			goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(hl, cJSON_CreateString(hosts[i])) ||
		    !cJSON_AddItemToArray(members[group[i]],
					  cJSON_CreateString(hosts[i])))
			goto done;
	for (size_t i = 0; i < ngroups; i++) {
		cJSON *row = cJSON_CreateObject(), *cells;
		cf_matrix_config_name(i, from, sizeof(from));
		if (!row || !cJSON_AddItemToArray(rows, row) ||
		    !cJSON_AddStringToObject(row, "from", from) ||
		    !(cells = cJSON_AddArrayToObject(row, "cells")))
			goto done;
		for (size_t j = 0; j < ngroups; j++) {
			const struct cf_matrix_cell *c = &cell[i * ngroups + j];
			cf_matrix_config_name(j, to, sizeof(to));
			if (!cJSON_AddItemToArray(cells,
				cf_matrix_cell_doc("to", to, c)))
				goto done;
			all = all && c->compatible;
		}
	}
	err = cJSON_AddBoolToObject(o, "compatible", all) ? CF_OK : CF_ENOMEM;
done:
	free(members);
	return err;
}
