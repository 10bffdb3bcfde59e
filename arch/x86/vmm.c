/* Lookups in the VMM name tables (arch/x86/vmm.h), and the richest named
 * model a profile satisfies. */
#include <stdio.h>
#include <string.h>
#include "arch/x86/vmm.h"
#include "arch/x86/x86.h"
#include "engine/config.h"
#include "engine/profile.h"

const char *cf_x86_vmm_name_of(const struct cf_x86_vmm *v, uint64_t key,
			       unsigned bit)
{
	for (size_t i = 0; i < v->nnames; i++)
		if (v->names[i].key == key && v->names[i].bit == bit)
			return v->names[i].newer ? NULL : v->names[i].name;
	return NULL;
}

/* Whether CFG has every feature bit of model M, and M's vendor if any. */
static bool satisfies(const struct cf_x86_vmm *v, const struct cf_x86_vmm_model *m,
		      const struct cf_config *cfg, const char *vendor)
{
	if (m->vendor) {
		const char *want = NULL;
		for (size_t i = 0; i < v->nvendors; i++)
			if (!strcmp(v->vendors[i].name, m->vendor))
				want = v->vendors[i].string;
		if (!want || strcmp(want, vendor))
			return false;
	}
	for (size_t i = 0; i < m->nfeat; i++) {
		const struct cf_x86_vmm_name *n = &v->names[m->feat[i]];
		uint64_t val;
		if (!cf_config_get(cfg, n->key, &val, NULL) || !(val >> n->bit & 1))
			return false;
	}
	return true;
}

const struct cf_x86_vmm_model *cf_x86_vmm_richest(const struct cf_x86_vmm *v,
						  const struct cf_config *cfg)
{
	const struct cf_x86_vmm_model *best = NULL;
	char vendor[16] = "";

	if (!cf_x86_vendor(cfg, vendor, sizeof(vendor)))
		vendor[0] = '\0';
	for (size_t i = 0; i < v->nmodels; i++) {
		const struct cf_x86_vmm_model *m = &v->models[i];
		if ((!best || m->nfeat >= best->nfeat) &&
		    satisfies(v, m, cfg, vendor))
			best = m;
	}
	return best;
}

enum cf_err cf_x86_profile_model(const struct cf_profile *pr, char *name,
				 size_t nlen, char *source, size_t slen)
{
	const struct cf_x86_vmm *lv = &cf_x86_libvirt_vmm;
	const struct cf_x86_vmm_model *m;

	if (nlen)
		name[0] = '\0';
	if (slen)
		source[0] = '\0';
	if (strcmp(pr->arch->name, "x86") != 0)
		return CF_EARCH;
	snprintf(source, slen, "%s %s cpu_map", lv->what, lv->version);
	m = cf_x86_vmm_richest(lv, pr->cfg);
	if (!m)
		return CF_ENOTFOUND;
	snprintf(name, nlen, "%s", m->name);
	return CF_OK;
}
