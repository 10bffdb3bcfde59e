#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "profiles/doc.h"
#include "profiles/regmap.h"
#include "util/diag.h"

static const struct cf_reg *find(const struct cf_config *cfg, uint64_t key)
{
	int i = cf_catalog_find_key(cfg->arch->catalog, key);

	return i < 0 ? NULL : &cfg->arch->catalog->regs[i];
}

static int kind_class(enum cf_regmap_kind kind)
{
	return kind == CF_REGMAP_PSEUDO ? 1 : kind == CF_REGMAP_CAPS ? 2 :
	       kind == CF_REGMAP_FACTS ? 3 : 0;
}

static int reg_class(const struct cf_reg *reg)
{
	return reg ? reg->pseudo : 0;
}

/* Capabilities: numbers; a bool capability counts as 0 or 1.  Names the
 * catalogue lacks are skipped (the report keeps them as written). */
static enum cf_err read_caps(const cJSON *obj, struct cf_config *cfg,
			     const char *origin, const char *path,
			     struct cf_diag *d)
{
	const cJSON *it;
	char p[CF_DOC_PATH_MAX];

	cJSON_ArrayForEach(it, obj) {
		int i = cf_catalog_find_name(cfg->arch->catalog, it->string);
		const struct cf_reg *reg;
		uint64_t v;
		enum cf_err err;
		snprintf(p, sizeof(p), "%s.%s", path, it->string);
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
		    it->valuedouble > 9007199254740992.0 ||
		    it->valuedouble != (double)(uint64_t)it->valuedouble)
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected a "
					   "non-negative integer", origin, p);
		if (i < 0 || cfg->arch->catalog->regs[i].pseudo != 2)
			continue;
		reg = &cfg->arch->catalog->regs[i];
		v = (uint64_t)it->valuedouble;
		err = cf_config_set_fixed(cfg, reg->key, v);
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

enum cf_err cf_regmap_read(const cJSON *obj, enum cf_regmap_kind kind,
			   struct cf_config *cfg, const char *origin,
			   const char *path, struct cf_diag *d)
{
	const cJSON *it;
	char p[CF_DOC_PATH_MAX];
	enum cf_err err;
	uint64_t key, v;

	if (kind == CF_REGMAP_CAPS)
		return read_caps(obj, cfg, origin, path, d);
	cJSON_ArrayForEach(it, obj) {
		snprintf(p, sizeof(p), "%s.%s", path, it->string);
		if (cf_arch_regkey(cfg->arch, it->string, &key) != 0)
			return cf_diag_set(d, CF_ESCHEMA,
					   "%s: %s: not a known %s register nor "
					   "an ID-space encoding name like "
					   "S3_0_C0_C4_7 (op0 3, CRn 0)",
					   origin, p, cfg->arch->name);
		const struct cf_reg *reg = find(cfg, key);
		if (reg_class(reg) != kind_class(kind) &&
		    !(kind == CF_REGMAP_WRITABLE && reg_class(reg) == 0))
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: %s", origin, p,
					   kind == CF_REGMAP_PSEUDO
					   ? "not a pseudo-register of the catalogue"
					   : kind == CF_REGMAP_FACTS
					   ? "not a KVM fact of the catalogue"
					   : reg_class(reg) == 2
					   ? "a capability belongs in kvm.caps"
					   : "a pseudo-register belongs in the "
					     "pseudo-register map");
		if (cf_config_get(cfg, key, NULL, NULL) && kind != CF_REGMAP_WRITABLE)
			return cf_diag_set(d, CF_ESCHEMA,
					   "%s: %s: register given twice", origin,
					   p);
		err = cf_doc_hex(it, origin, p, &v, d);
		if (err != CF_OK)
			return err;
		if (kind == CF_REGMAP_PSEUDO || kind == CF_REGMAP_FACTS)
			err = cf_config_set_fixed(cfg, key, v);
		else if (kind == CF_REGMAP_VALUES)
			err = cf_config_set(cfg, key, v);
		else if (!cf_config_get(cfg, key, NULL, NULL))
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s: %s: writable mask for a register "
					  "the report does not list", origin, p);
		else
			err = cf_config_set_writable(cfg, key, v);
		if (err == CF_ETOOBIG)
			return cf_diag_set(d, err, "%s: %s: more than %d registers "
					   "unknown to the catalogue", origin, p,
					   CF_EXTRA_REGS_MAX);
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

static enum cf_err put(cJSON *o, const struct cf_config *cfg, uint64_t key,
		       uint64_t v, bool number)
{
	char name[64], hex[24];

	cf_arch_regname(cfg->arch, key, name, sizeof(name));
	if (number)
		return cJSON_AddNumberToObject(o, name, (double)v) ? CF_OK
								   : CF_ENOMEM;
	cf_doc_hexstr(v, hex, sizeof(hex));
	return cJSON_AddStringToObject(o, name, hex) ? CF_OK : CF_ENOMEM;
}

enum cf_err cf_regmap_write(cJSON *parent, const char *key,
			    enum cf_regmap_kind kind,
			    const struct cf_config *cfg)
{
	const struct cf_catalog *cat = cfg->arch->catalog;
	cJSON *o;
	size_t i = 0, x = 0;
	bool any = false;

	/* An empty pseudo-register or capability map is left out. */
	for (size_t j = 0; kind_class(kind) && j < cfg->ncat; j++)
		any = any || (cfg->present[j] &&
			      cat->regs[j].pseudo == kind_class(kind));
	if (kind_class(kind) && !any)
		return CF_OK;
	o = cJSON_AddObjectToObject(parent, key);
	if (!o)
		return CF_ENOMEM;
	/* Merge catalogue and extras in key order. */
	while (i < cfg->ncat || x < cfg->nextra) {
		bool take_cat = x >= cfg->nextra ||
			(i < cfg->ncat && cat->regs[i].key < cfg->extra[x].key);
		uint64_t k, v, w;
		bool present;
		if (take_cat) {
			k = cat->regs[i].key;
			present = cfg->present[i];
			v = cfg->val[i];
			w = cfg->wr[i];
			i++;
		} else {
			k = cfg->extra[x].key;
			present = true;
			v = cfg->extra[x].value;
			w = cfg->extra[x].writable;
			x++;
		}
		if (!present)
			continue;
		if (kind == CF_REGMAP_WRITABLE && w == 0)
			continue;
		const struct cf_reg *reg = find(cfg, k);
		if (reg_class(reg) != kind_class(kind))
			continue;
		if (put(o, cfg, k, kind == CF_REGMAP_WRITABLE ? w : v,
			kind == CF_REGMAP_CAPS) != CF_OK)
			return CF_ENOMEM;
	}
	return CF_OK;
}
