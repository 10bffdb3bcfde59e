/* The generic loops over the level and core tables (arch/arm64/levels.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "arch/arm64/levels.h"
#include "engine/catalog.h"
#include "engine/config.h"
#include "engine/mask.h"
#include "engine/profile.h"

/* Whether NAME stands as a whole item of LIST, items separated by SEP. */
static bool listed(const char *list, const char *name, char sep)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == sep) && (p[n] == sep || p[n] == '\0'))
			return true;
	return false;
}

/* Whether level L is reached; its unshown features (and its bases') are
 * appended to MISSING (if not NULL) at *USED, each once. */
static bool reaches(const struct cf_config *cfg, size_t l, char *missing,
		    size_t mlen, size_t *used)
{
	const struct cf_arm64_level *lv = &cf_arm64_levels[l];
	bool ok = true;

	for (size_t b = 0; b < lv->nbases; b++)
		ok = reaches(cfg, lv->bases[b], missing, mlen, used) && ok;
	for (size_t i = 0; i < lv->nfeats; i++) {
		const char *f = lv->feats[i];
		int n;
		if (cf_mask_shows(cfg, f))
			continue;
		ok = false;
		if (!missing || listed(missing, f, ' '))
			continue;
		n = snprintf(missing + *used, mlen - *used, "%s%s",
			     *used ? " " : "", f);
		if (n > 0 && (size_t)n < mlen - *used)
			*used += (size_t)n;
	}
	return ok;
}

void cf_arm64_level_of(const struct cf_config *cfg, char *level, size_t llen,
		       char *missing, size_t mlen)
{
	size_t top = cf_arm64_nlevels, used = 0;

	if (llen)
		level[0] = '\0';
	if (mlen)
		missing[0] = '\0';
	for (size_t l = 0; l < cf_arm64_nlevels; l++)
		if (reaches(cfg, l, NULL, 0, NULL))
			top = l;
	if (top < cf_arm64_nlevels)
		snprintf(level, llen, "%s", cf_arm64_levels[top].name);
	top = top == cf_arm64_nlevels ? 0 : top + 1;
	if (top < cf_arm64_nlevels && mlen)
		reaches(cfg, top, missing, mlen, &used);
}

const char *cf_arm64_core_name(uint64_t midr)
{
	unsigned imp = (unsigned)(midr >> 24 & 0xff);
	unsigned part = (unsigned)(midr >> 4 & 0xfff);

	for (size_t i = 0; i < cf_arm64_ncores; i++)
		if (cf_arm64_cores[i].implementer == imp &&
		    cf_arm64_cores[i].part == part)
			return cf_arm64_cores[i].name;
	return NULL;
}

void cf_arm64_midr_text(uint64_t midr, char *buf, size_t len)
{
	unsigned imp = (unsigned)(midr >> 24 & 0xff);
	const char *core = cf_arm64_core_name(midr), *iname = NULL;
	char icode[8];

	for (size_t i = 0; i < cf_arm64_nimplementers; i++)
		if (cf_arm64_implementers[i].code == imp)
			iname = cf_arm64_implementers[i].name;
	snprintf(icode, sizeof(icode), "0x%02x", imp);
	snprintf(buf, len, "%s (MIDR 0x%08llx: implementer %s, part 0x%03x, "
		 "r%up%u)", core ? core : "unknown core",
		 (unsigned long long)(midr & 0xffffffff), iname ? iname : icode,
		 (unsigned)(midr >> 4 & 0xfff), (unsigned)(midr >> 20 & 0xf),
		 (unsigned)(midr & 0xf));
}

enum cf_err cf_arm64_profile_level(const struct cf_profile *pr, char *level,
				   size_t llen, char *missing, size_t mlen)
{
	if (strcmp(pr->arch->name, "arm64") != 0)
		return CF_EARCH;
	cf_arm64_level_of(pr->cfg, level, llen, missing, mlen);
	return CF_OK;
}

enum cf_err cf_arm64_profile_core(const struct cf_profile *pr, char *buf,
				  size_t len)
{
	const struct cf_catalog *cat = &cf_arm64_catalog;
	uint64_t midr;

	if (len)
		buf[0] = '\0';
	if (strcmp(pr->arch->name, "arm64") != 0)
		return CF_EARCH;
	for (size_t r = 0; r < cat->nregs; r++)
		if (!strcmp(cat->regs[r].name, "MIDR_EL1") &&
		    cf_config_get(pr->cfg, cat->regs[r].key, &midr, NULL)) {
			cf_arm64_midr_text(midr, buf, len);
			return CF_OK;
		}
	return CF_ENOTFOUND;
}

/* --max-level: the features of every level LEVEL does not include, not
 * also one of a level it includes. */
static void arm64_closure(size_t l, bool *in)
{
	in[l] = true;
	for (size_t b = 0; b < cf_arm64_levels[l].nbases; b++)
		arm64_closure(cf_arm64_levels[l].bases[b], in);
}

static bool arm64_included(const bool *in, const char *feat)
{
	for (size_t l = 0; l < cf_arm64_nlevels; l++)
		for (size_t i = 0; in[l] && i < cf_arm64_levels[l].nfeats; i++)
			if (!strcmp(cf_arm64_levels[l].feats[i], feat))
				return true;
	return false;
}

bool cf_arm64_level_beyond(const char *level,
			   enum cf_err (*fn)(void *ctx, const char *feat),
			   void *ctx, enum cf_err *err)
{
	bool in[64] = { false };
	size_t top = cf_arm64_nlevels;

	for (size_t l = 0; l < cf_arm64_nlevels && l < 64; l++)
		if (!strcasecmp(cf_arm64_levels[l].name, level))
			top = l;
	if (top == cf_arm64_nlevels)
		return false;
	arm64_closure(top, in);
	for (size_t l = 0; l < cf_arm64_nlevels && *err == CF_OK; l++)
		for (size_t i = 0; !in[l] && i < cf_arm64_levels[l].nfeats &&
		     *err == CF_OK; i++)
			if (!arm64_included(in, cf_arm64_levels[l].feats[i]))
				*err = fn(ctx, cf_arm64_levels[l].feats[i]);
	return true;
}
