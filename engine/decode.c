/* Walks a configuration register by register and field by field, with
 * the feature names each value means. */
#include <stdio.h>
#include "engine/profile.h"
#include "engine/report.h"

static enum cf_err walk_reg(const struct cf_arch_ops *a, const struct cf_reg *reg,
			    uint64_t key, uint64_t v, uint64_t w, bool enabled,
			    cf_decode_fn fn, void *ctx)
{
	char name[40], feats[CF_TEXT_MAX];
	struct cf_decoded d = { 0 };

	cf_arch_regname(a, key, name, sizeof(name));
	d.reg = name;
	d.reg_value = v;
	d.reg_writable = w;
	d.features = "";
	d.role = reg ? cf_role_name(reg->role) : "";
	d.enabled = enabled;
	if (fn(ctx, &d))
		return CF_EINVAL;
	for (int i = 0; reg && i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		uint64_t m = cf_field_mask(f);
		d.field = f->name;
		d.value = cf_field_raw(f, v);
		d.writable = (w & m) == m;
		cf_field_features_at(f, d.value, feats, sizeof(feats));
		d.features = feats;
		if (fn(ctx, &d))
			return CF_EINVAL;
	}
	return CF_OK;
}

static enum cf_err walk(const struct cf_config *c, bool enabled,
			cf_decode_fn fn, void *ctx)
{
	const struct cf_catalog *cat = c->arch->catalog;
	enum cf_err err;

	for (size_t i = 0; i < c->ncat; i++) {
		if (!c->present[i])
			continue;
		err = walk_reg(c->arch, &cat->regs[i], cat->regs[i].key, c->val[i],
			       c->wr[i], enabled, fn, ctx);
		if (err != CF_OK)
			return err;
	}
	for (size_t x = 0; x < c->nextra; x++) {
		err = walk_reg(c->arch, NULL, c->extra[x].key, c->extra[x].value,
			       c->extra[x].writable, enabled, fn, ctx);
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

enum cf_err cf_report_decode(const struct cf_report *r, cf_decode_fn fn,
			     void *ctx)
{
	return walk(r->cfg, false, fn, ctx);
}

enum cf_err cf_profile_decode(const struct cf_profile *pr, cf_decode_fn fn,
			      void *ctx)
{
	enum cf_err err = walk(pr->cfg, false, fn, ctx);

	if (err == CF_OK && pr->enabled)
		err = walk(pr->enabled, true, fn, ctx);
	return err;
}

const char *cf_profile_host(const struct cf_profile *pr, size_t i)
{
	return i < pr->hosts.n ? cf_hostset_id(&pr->hosts, i) : NULL;
}
