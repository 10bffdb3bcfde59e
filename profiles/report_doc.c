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
	err = opt_string(host, "hostname", origin, "$.host", r->hostname,
			 sizeof(r->hostname), d);
	if (err == CF_OK)
		err = opt_string(host, "kernel", origin, "$.host", r->kernel,
				 sizeof(r->kernel), d);
	if (err == CF_OK)
		err = opt_string(root, "collected_at", origin, "$",
				 r->collected_at, sizeof(r->collected_at), d);
	if (err != CF_OK) {
		cf_report_destroy(r);
		return err;
	}
	*out = r;
	return CF_OK;
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
