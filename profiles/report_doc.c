/* cpufleet.report/v1 documents -> struct cf_report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/report.h"
#include "profiles/doc.h"
#include "profiles/regmap.h"
#include "util/diag.h"

#define REPORT_SCHEMA "cpufleet.report/v1"

static enum cf_err opt_string(const cJSON *obj, const char *key,
			      const char *origin, const char *path, char *out,
			      size_t max, struct cf_diag *d)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[CF_DOC_PATH_MAX];

	if (!it)
		return CF_OK;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	return cf_doc_string(it, origin, p, out, max, d);
}

/* The optional top-level midr_el1 must agree with id_regs.MIDR_EL1. */
static enum cf_err fold_midr(const cJSON *sec, struct cf_config *cfg,
			     const char *origin, struct cf_diag *d)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(sec, "midr_el1");
	enum cf_err err;
	uint64_t key, v, have;

	if (!it || cf_arch_regkey(cfg->arch, "MIDR_EL1", &key) != 0)
		return CF_OK;
	err = cf_doc_hex(it, origin, "$.arm64.midr_el1", &v, d);
	if (err != CF_OK)
		return err;
	if (!cf_config_get(cfg, key, &have, NULL))
		return cf_config_set(cfg, key, v);
	if (have != v)
		return cf_diag_set(d, CF_ESCHEMA,
				   "%s: $.arm64.midr_el1: differs from "
				   "$.arm64.id_regs.MIDR_EL1", origin);
	return CF_OK;
}

static enum cf_err parse_json(const cJSON *root, const char *origin,
			      struct cf_report **out, struct cf_diag *d)
{
	enum cf_err err;
	const cJSON *host, *sec, *regs, *wr, *it, *fw = NULL;
	const struct cf_arch_ops *arch;
	struct cf_config *cfg = NULL;
	struct cf_report *r = NULL;
	char id[CF_HOST_ID_MAX], archname[32], p[CF_DOC_PATH_MAX];

	if (!cJSON_IsObject(root))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $: expected an object",
				   origin);
	it = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, REPORT_SCHEMA) != 0)
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.schema: expected \"%s\"",
				   origin, REPORT_SCHEMA);
	err = cf_doc_object(root, "host", true, origin, "$", &host, d);
	if (err != CF_OK)
		return err;
	err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(host, "id"), origin,
			    "$.host.id", id, sizeof(id), d);
	if (err != CF_OK)
		return err;
	err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(host, "arch"),
			    origin, "$.host.arch", archname, sizeof(archname), d);
	if (err != CF_OK)
		return err;
	arch = cf_arch_find(archname);
	if (!arch)
		return cf_diag_set(d, CF_EARCH,
				   "%s: $.host.arch: unknown architecture \"%s\"",
				   origin, archname);
	snprintf(p, sizeof(p), "$.%s", arch->name);
	err = cf_doc_object(root, arch->name, true, origin, "$", &sec, d);
	if (err != CF_OK)
		return err;
	err = cf_doc_object(sec, arch->regs_key, true, origin, p, &regs, d);
	if (err != CF_OK)
		return err;
	err = cf_doc_object(sec, "writable", false, origin, p, &wr, d);
	if (err != CF_OK)
		return err;
	if (arch->pseudo_key) {
		err = cf_doc_object(sec, arch->pseudo_key, false, origin, p, &fw, d);
		if (err != CF_OK)
			return err;
	}
	err = cf_config_create(arch, &cfg);
	if (err != CF_OK)
		return err;
	snprintf(p, sizeof(p), "$.%s.%s", arch->name, arch->regs_key);
	err = cf_regmap_read(regs, CF_REGMAP_VALUES, cfg, origin, p, d);
	if (err == CF_OK)
		err = fold_midr(sec, cfg, origin, d);
	if (err == CF_OK) {
		const cJSON *kvm = NULL, *caps = NULL;
		err = cf_doc_object(root, "kvm", false, origin, "$", &kvm, d);
		if (err == CF_OK && kvm)
			err = cf_doc_object(kvm, "caps", false, origin, "$.kvm", &caps, d);
		if (err == CF_OK && caps)
			err = cf_regmap_read(caps, CF_REGMAP_CAPS, cfg, origin,
					     "$.kvm.caps", d);
	}
	if (err == CF_OK && arch->facts_key) {
		const cJSON *facts = NULL;
		err = cf_doc_object(sec, arch->facts_key, false, origin, p, &facts, d);
		if (err == CF_OK && facts) {
			char fp[CF_DOC_PATH_MAX];
			snprintf(fp, sizeof(fp), "$.%s.%s", arch->name, arch->facts_key);
			err = cf_regmap_read(facts, CF_REGMAP_FACTS, cfg, origin, fp, d);
		}
	}
	if (err == CF_OK && fw) {
		snprintf(p, sizeof(p), "$.%s.%s", arch->name, arch->pseudo_key);
		err = cf_regmap_read(fw, CF_REGMAP_PSEUDO, cfg, origin, p, d);
	}
	if (err == CF_OK && wr) {
		snprintf(p, sizeof(p), "$.%s.writable", arch->name);
		cfg->has_writable = true;
		err = cf_regmap_read(wr, CF_REGMAP_WRITABLE, cfg, origin, p, d);
	}
	if (err != CF_OK) {
		cf_config_unref(cfg);
		return err;
	}
	err = cf_report_create(id, cfg, &r);
	if (err != CF_OK)
		return err;
	/* Keep what the engine does not model, to write it back. */
	it = cJSON_GetObjectItemCaseSensitive(root, "kvm");
	if (cJSON_IsObject(it)) {
		r->kvm_json = cJSON_PrintUnformatted(it);
		if (!r->kvm_json) {
			cf_report_destroy(r);
			return CF_ENOMEM;
		}
	}
	{
		cJSON *rest = cJSON_Duplicate(sec, 1);
		if (!rest) {
			cf_report_destroy(r);
			return CF_ENOMEM;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(rest, arch->regs_key);
		cJSON_DeleteItemFromObjectCaseSensitive(rest, "writable");
		if (arch->pseudo_key)
			cJSON_DeleteItemFromObjectCaseSensitive(rest, arch->pseudo_key);
		if (arch->facts_key)
			cJSON_DeleteItemFromObjectCaseSensitive(rest, arch->facts_key);
		if (rest->child)
			r->arch_json = cJSON_PrintUnformatted(rest);
		cJSON_Delete(rest);
	}
	err = opt_string(host, "hostname", origin, "$.host", r->hostname,
			 sizeof(r->hostname), d);
	if (err == CF_OK)
		err = opt_string(host, "kernel", origin, "$.host", r->kernel,
				 sizeof(r->kernel), d);
	if (err == CF_OK)
		err = opt_string(host, "machine_id", origin, "$.host",
				 r->machine_id, sizeof(r->machine_id), d);
	if (err == CF_OK)
		err = opt_string(root, "collected_at", origin, "$",
				 r->collected_at, sizeof(r->collected_at), d);
	if (err == CF_OK)
		err = opt_string(root, "report_id", origin, "$", r->report_id,
				 sizeof(r->report_id), d);
	if (err == CF_OK && r->report_id[0] &&
	    cf_report_set_id(r, r->report_id) != CF_OK)
		err = cf_diag_set(d, CF_ESCHEMA, "%s: $.report_id: expected 1 to "
				  "64 of A-Z a-z 0-9 . _ : -", origin);
	if (err != CF_OK) {
		cf_report_destroy(r);
		return err;
	}
	*out = r;
	return CF_OK;
}

/* Adds the members of the JSON object TEXT to OBJ, skipping keys OBJ has. */
static enum cf_err merge(cJSON *obj, const char *text)
{
	cJSON *extra, *it, *next;

	if (!text)
		return CF_OK;
	extra = cJSON_Parse(text);
	if (!cJSON_IsObject(extra)) {
		cJSON_Delete(extra);
		return CF_EINVAL;
	}
	for (it = extra->child; it; it = next) {
		next = it->next;
		if (cJSON_GetObjectItemCaseSensitive(obj, it->string))
			continue;
		cJSON_DetachItemViaPointer(extra, it);
		cJSON_AddItemToObject(obj, it->string, it);
	}
	cJSON_Delete(extra);
	return CF_OK;
}

enum cf_err cf_report_to_json(const struct cf_report *r, char **out)
{
	const struct cf_arch_ops *a = r->cfg->arch;
	cJSON *root = cJSON_CreateObject(), *host, *sec, *kvm;
	enum cf_err err = CF_ENOMEM;

	*out = NULL;
	if (!root || !cJSON_AddStringToObject(root, "schema", REPORT_SCHEMA) ||
	    (r->report_id[0] &&
	     !cJSON_AddStringToObject(root, "report_id", r->report_id)))
		goto cleanup;
	host = cJSON_AddObjectToObject(root, "host");
	if (!host || !cJSON_AddStringToObject(host, "id", r->host_id) ||
	    (r->hostname[0] &&
	     !cJSON_AddStringToObject(host, "hostname", r->hostname)) ||
	    !cJSON_AddStringToObject(host, "arch", a->name) ||
	    (r->kernel[0] && !cJSON_AddStringToObject(host, "kernel", r->kernel)) ||
	    (r->machine_id[0] &&
	     !cJSON_AddStringToObject(host, "machine_id", r->machine_id)))
		goto cleanup;
	if (r->collected_at[0] &&
	    !cJSON_AddStringToObject(root, "collected_at", r->collected_at))
		goto cleanup;
	kvm = cJSON_AddObjectToObject(root, "kvm");
	if (!kvm || cf_regmap_write(kvm, "caps", CF_REGMAP_CAPS, r->cfg) != CF_OK)
		goto cleanup;
	if (r->kvm_json) {
		cJSON *caps = cJSON_GetObjectItemCaseSensitive(kvm, "caps");
		cJSON *old = cJSON_Parse(r->kvm_json);
		cJSON *oc = cJSON_GetObjectItemCaseSensitive(old, "caps");
		/* Capabilities the catalogue does not know, kept as written. */
		if (caps && cJSON_IsObject(oc)) {
			char *t = cJSON_PrintUnformatted(oc);
			enum cf_err me = t ? merge(caps, t) : CF_ENOMEM;
			free(t);
			if (me != CF_OK) {
				cJSON_Delete(old);
				goto cleanup;
			}
		}
		cJSON_Delete(old);
		if (merge(kvm, r->kvm_json) != CF_OK)
			goto cleanup;
	}
	if (!kvm->child)
		cJSON_DeleteItemFromObjectCaseSensitive(root, "kvm");
	sec = cJSON_AddObjectToObject(root, a->name);
	if (!sec)
		goto cleanup;
	err = cf_regmap_write(sec, a->regs_key, CF_REGMAP_VALUES, r->cfg);
	if (err == CF_OK && r->cfg->has_writable)
		err = cf_regmap_write(sec, "writable", CF_REGMAP_WRITABLE, r->cfg);
	if (err == CF_OK && a->pseudo_key)
		err = cf_regmap_write(sec, a->pseudo_key, CF_REGMAP_PSEUDO, r->cfg);
	if (err == CF_OK && a->facts_key)
		err = cf_regmap_write(sec, a->facts_key, CF_REGMAP_FACTS, r->cfg);
	if (err == CF_OK)
		err = merge(sec, r->arch_json);
	if (err != CF_OK)
		goto cleanup;
	*out = cJSON_Print(root);
	err = *out ? CF_OK : CF_ENOMEM;
cleanup:
	cJSON_Delete(root);
	return err;
}

static enum cf_err build(const cJSON *root, const char *origin, void **out,
			 struct cf_diag *d)
{
	return parse_json(root, origin, (struct cf_report **)out, d);
}

enum cf_err cf_report_parse(const char *text, size_t len, const char *origin,
			    struct cf_report **out, struct cf_diag *d)
{
	return cf_doc_parse_with(text, len, origin, build, (void **)out, d);
}

enum cf_err cf_report_load(const char *path, struct cf_report **out,
			   struct cf_diag *d)
{
	return cf_doc_load_with(path, build, (void **)out, d);
}
