/* Section codecs: the register-map codec (arm64) and the table. */
#include <stdio.h>
#include <string.h>
#include "arch/driver.h"
#include "profiles/doc.h"
#include "profiles/regmap.h"
#include "profiles/section.h"
#include "util/diag.h"

const struct cf_section_codec *cf_section_codec(const struct cf_arch_ops *arch)
{
	return cf_driver_find(arch->name)->codec;
}

enum cf_err cf_section_require(const struct cf_config *cfg, const char *origin,
			       const char *path, struct cf_diag *d)
{
	const struct cf_catalog *cat = cfg->arch->catalog;

	for (size_t i = 0; i < cat->nregs; i++)
		if ((cat->regs[i].flags & CF_REG_REQUIRED) && !cfg->present[i])
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: lacks %s, which "
					   "KVM reports on every host", origin,
					   path, cat->regs[i].name);
	return CF_OK;
}

/* arm64's optional top-level midr_el1 must agree with the register map. */
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

/* The optional map KEY of SEC, read as KIND. */
static enum cf_err opt_map(const cJSON *sec, const char *key,
			   enum cf_regmap_kind kind, struct cf_config *cfg,
			   const char *origin, struct cf_diag *d)
{
	const cJSON *m = NULL;
	char p[CF_DOC_PATH_MAX];
	enum cf_err err;

	snprintf(p, sizeof(p), "$.%s", cfg->arch->name);
	err = cf_doc_object(sec, key, false, origin, p, &m, d);
	if (err != CF_OK || !m)
		return err;
	snprintf(p, sizeof(p), "$.%s.%s", cfg->arch->name, key);
	if (kind == CF_REGMAP_WRITABLE)
		cfg->has_writable = true;
	return cf_regmap_read(m, kind, cfg, origin, p, d);
}

static enum cf_err regmap_read(const cJSON *sec, struct cf_config *cfg,
			       bool report, const char *origin,
			       struct cf_diag *d)
{
	const struct cf_arch_ops *a = cfg->arch;
	const cJSON *regs;
	char p[CF_DOC_PATH_MAX];
	enum cf_err err;

	snprintf(p, sizeof(p), "$.%s", a->name);
	err = cf_doc_object(sec, a->regs_key, true, origin, p, &regs, d);
	if (err != CF_OK)
		return err;
	snprintf(p, sizeof(p), "$.%s.%s", a->name, a->regs_key);
	err = cf_regmap_read(regs, CF_REGMAP_VALUES, cfg, origin, p, d);
	if (err == CF_OK && report)
		err = fold_midr(sec, cfg, origin, d);
	if (err == CF_OK && a->pseudo_key)
		err = opt_map(sec, a->pseudo_key, CF_REGMAP_PSEUDO, cfg, origin, d);
	if (err == CF_OK && a->facts_key)
		err = opt_map(sec, a->facts_key, CF_REGMAP_FACTS, cfg, origin, d);
	/* Writable masks come after the values they belong to. */
	if (err == CF_OK && report)
		err = opt_map(sec, "writable", CF_REGMAP_WRITABLE, cfg, origin, d);
	if (err == CF_OK && report) {
		snprintf(p, sizeof(p), "$.%s.%s", a->name, a->regs_key);
		err = cf_section_require(cfg, origin, p, d);
	}
	return err;
}

static enum cf_err regmap_write(cJSON *sec, const struct cf_config *cfg,
				bool report)
{
	const struct cf_arch_ops *a = cfg->arch;
	enum cf_err err = cf_regmap_write(sec, a->regs_key, CF_REGMAP_VALUES, cfg);

	if (err == CF_OK && report && cfg->has_writable)
		err = cf_regmap_write(sec, "writable", CF_REGMAP_WRITABLE, cfg);
	if (err == CF_OK && a->pseudo_key)
		err = cf_regmap_write(sec, a->pseudo_key, CF_REGMAP_PSEUDO, cfg);
	if (err == CF_OK && a->facts_key)
		err = cf_regmap_write(sec, a->facts_key, CF_REGMAP_FACTS, cfg);
	return err;
}

static const char *const regmap_keys[] = {
	"id_regs", "writable", "fw_regs", "kvm_facts", NULL,
};

const struct cf_section_codec cf_section_regmap = {
	"arm64", regmap_read, regmap_write, regmap_keys,
};
