/* x86 hooks for the engine: register naming.  The catalogue is generated
 * from cpuid.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cpufleet.h>
#include "engine/arch.h"
#include "arch/driver.h"
#include "arch/x86/x86.h"
#include "arch/x86/x86_catalog.h"
#include "engine/profile.h"
#include "engine/report.h"

bool cf_x86_leaf_indexed(uint32_t leaf)
{
	static const uint32_t indexed[] = {
		0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1d,
		0x1e, 0x1f, 0x20, 0x23, 0x24, 0x8000001d, 0x80000020, 0x80000026,
	};

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
		if (indexed[i] == leaf)
			return true;
	return false;
}

/* Exactly N hex digits at S. */
static bool hexn(const char *s, size_t n, unsigned long *out)
{
	char buf[16];
	char *end;

	if (n >= sizeof(buf) || strlen(s) < n ||
	    strspn(s, "0123456789abcdefABCDEF") < n)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtoul(buf, &end, 16);
	return true;
}

/* "CPUID_00000007_0_EBX" (subleaf in hex) or "MSR_0000010A". */
static int x86_regname_parse(const char *name, uint64_t *key)
{
	static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };
	unsigned long leaf, sub, idx;
	const char *s;
	size_t n;

	if (!strncmp(name, "MSR_", 4)) {
		if (strlen(name) != 12 || !hexn(name + 4, 8, &idx))
			return -1;
		*key = CF_X86_MSR_KEY(idx);
		return 0;
	}
	if (strncmp(name, "CPUID_", 6) != 0 || !hexn(name + 6, 8, &leaf) ||
	    name[14] != '_')
		return -1;
	s = name + 15;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n > 4 || s[n] != '_' || !hexn(s, n, &sub) ||
	    sub > CF_X86_SUB_MAX)
		return -1;
	for (unsigned r = 0; r < 4; r++) {
		if (!strcmp(s + n + 1, regs[r])) {
			*key = CF_X86_CPUID_KEY(leaf, sub, r);
			return 0;
		}
	}
	return -1;
}

static void x86_regname_format(uint64_t key, char *buf, size_t len)
{
	static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };

	if (CF_X86_IS_MSR(key))
		snprintf(buf, len, "MSR_%08X", (unsigned)(uint32_t)key);
	else if (CF_X86_IS_CPUID(key))
		snprintf(buf, len, "CPUID_%08X_%X_%s", CF_X86_LEAF(key),
			 CF_X86_SUB(key), regs[CF_X86_REG(key)]);
	else
		snprintf(buf, len, "KEY_%llx", (unsigned long long)key);
}


enum cf_err cf_x86_tsc_writable(struct cf_config *cfg)
{
	int i = cf_catalog_find_name(cfg->arch->catalog, "TSC_KHZ");
	uint64_t scaling;

	if (i < 0 || !cfg->present[i] ||
	    !cf_config_get_fact(cfg, "TSC_SCALING", &scaling) || !scaling)
		return CF_OK;
	return cf_config_set_writable(cfg, cfg->arch->catalog->regs[i].key,
				      ~0ULL);
}

bool cf_x86_vendor(const struct cf_config *cfg, char *buf, size_t len)
{
	static const unsigned order[3] = { 1, 3, 2 };
	char v[13];
	uint64_t r;

	for (int i = 0; i < 3; i++) {
		if (!cf_config_get(cfg, CF_X86_CPUID_KEY(0, 0, order[i]), &r, NULL))
			return false;
		for (int b = 0; b < 4; b++) {
			char ch = (char)((r >> (8 * b)) & 0xff);
			v[4 * i + b] = ch >= 0x20 && ch < 0x7f ? ch : '?';
		}
	}
	v[12] = '\0';
	snprintf(buf, len, "%s", v);
	return true;
}

/* The value of flag NAME in CFG: 1 set, 0 clear or absent. */
static int flag_of(const struct cf_config *cfg, const char *name)
{
	uint64_t key, v;
	const struct cf_field *f = cf_catalog_field_named(&cf_x86_catalog, name,
							   &key);

	if (!f || !cf_config_get(cfg, key, &v, NULL))
		return 0;
	return (int)((v >> f->shift) & 1);
}

/* Sets flag NAME in CFG to BIT (its register created as 0 if absent). */
static enum cf_err flag_put(struct cf_config *cfg, const char *name, int bit)
{
	uint64_t key, v = 0;
	const struct cf_field *f = cf_catalog_field_named(&cf_x86_catalog, name,
							   &key);

	if (!f)
		return CF_EINVAL;
	if (!cf_config_get(cfg, key, &v, NULL) && !bit)
		return CF_OK;
	v = bit ? v | 1ULL << f->shift : v & ~(1ULL << f->shift);
	return cf_config_set(cfg, key, v);
}

/* True if leaf LEAF subleaf 0 has any non-zero register in C. */
static bool leaf_present(const struct cf_config *c, uint32_t leaf)
{
	uint64_t v;

	for (unsigned r = 0; r < 4; r++)
		if (cf_config_get(c, CF_X86_CPUID_KEY(leaf, 0, r), &v, NULL) && v)
			return true;
	return false;
}

struct beyond {
	uint32_t max[3];         /* basic, hypervisor, extended range */
	uint64_t keys[1024];
	size_t n;
};

static int collect_beyond(void *ctx, uint64_t key, uint64_t v, uint64_t w)
{
	struct beyond *b = ctx;
	uint32_t leaf = CF_X86_LEAF(key);
	size_t r = leaf >= 0x80000000u ? 2 : leaf >= 0x40000000u ? 1 : 0;
	static const uint32_t base[3] = { 0, 0x40000000u, 0x80000000u };

	(void)v;
	(void)w;
	if (CF_X86_IS_CPUID(key) && leaf != base[r] && leaf > b->max[r] &&
	    b->n < sizeof(b->keys) / sizeof(b->keys[0]))
		b->keys[b->n++] = key;
	return 0;
}

/* A baseline's cross-register rules: a feature whose describing leaf the
 * intersection zeroed goes too (a guest would see the feature with no
 * parameters), invariant TSC only with a TSC rate the profile pins
 * (research/x86-kvm.md §4.1), and no leaf beyond its range's maximum (a
 * guest never reads it). */
static enum cf_err x86_finish(struct cf_config *c)
{
	static const struct { const char *flag; uint32_t leaf; } needs[] = {
		{ "intel_pt", 0x14 }, { "sgx", 0x12 }, { "sgx_lc", 0x12 },
		{ "cqm", 0xf },
	};
	static const uint32_t base[3] = { 0, 0x40000000u, 0x80000000u };
	struct beyond *b = calloc(1, sizeof(*b));
	uint64_t v;

	if (!b)
		return CF_ENOMEM;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (!leaf_present(c, needs[i].leaf))
			flag_put(c, needs[i].flag, 0);
	if (!cf_config_get_fact(c, "TSC_KHZ", &v))
		flag_put(c, "invtsc", 0);
	for (size_t r = 0; r < 3; r++)
		b->max[r] = cf_config_get(c, CF_X86_CPUID_KEY(base[r], 0, 0), &v,
					  NULL) ? (uint32_t)v : base[r];
	cf_config_walk(c, collect_beyond, b);
	for (size_t i = 0; i < b->n; i++)
		cf_config_unset(c, b->keys[i]);
	free(b);
	return CF_OK;
}

/* Whether WORD stands as a whole word in the space-separated LIST. */
static bool has_word(const char *list, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if ((i == 0 || list[i - 1] == ' ' || list[i - 1] == '\t') &&
		    !strncmp(list + i, word, w) &&
		    (i + w == n || list[i + w] == ' ' || list[i + w] == '\t'))
			return true;
	return false;
}

size_t cf_x86_kvm_lacks(const struct cf_report *r, const char *cpuinfo,
			char *buf, size_t len)
{
	const char *line = cpuinfo, *colon;
	size_t n = 0, used = 0, llen;

	if (len)
		buf[0] = '\0';
	if (strcmp(r->cfg->arch->name, "x86") != 0)
		return 0;
	/* The first processor's "flags\t\t: fpu vme ..." line. */
	while (line && strncmp(line, "flags", 5) != 0) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || !(colon = strchr(line, ':')))
		return 0;
	llen = strcspn(colon + 1, "\n");
	/* ISA features KVM passes through whenever the CPU has them: one
	 * missing means this KVM offers less than its CPU. */
	for (size_t l = 0; l < cf_x86_nlevels; l++) {
		for (size_t f = 0; f < cf_x86_levels[l].nflags; f++) {
			const char *name = cf_x86_levels[l].flags[f];
			if (!has_word(colon + 1, llen, name) ||
			    flag_of(r->cfg, name))
				continue;
			n++;
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used,
							 "%s%s", used ? " " : "",
							 name);
		}
	}
	return n;
}

static bool x86_vendor_hook(const struct cf_config *cfg, char *buf, size_t len)
{
	return cf_x86_vendor(cfg, buf, len);
}

enum cf_err cf_x86_level_profile(const char *name, struct cf_profile **out)
{
	const struct cf_catalog *cat = &cf_x86_catalog;
	struct cf_profile *pr = NULL;
	enum cf_err err;
	size_t upto = cf_x86_nlevels;

	*out = NULL;
	for (size_t l = 0; l < cf_x86_nlevels; l++)
		if (!strcmp(cf_x86_levels[l].name, name))
			upto = l;
	if (upto == cf_x86_nlevels)
		return CF_ENOTFOUND;
	err = cf_profile_alloc(&cf_x86_ops, &pr);
	if (err != CF_OK)
		return err;
	/* Levels are cumulative: every flag up to and including NAME's.  Only
	 * the registers holding them are in the profile, so a host of any
	 * vendor can be checked against it. */
	for (size_t l = 0; l <= upto && err == CF_OK; l++) {
		const struct cf_x86_level *lv = &cf_x86_levels[l];
		for (size_t i = 0; i < lv->nflags && err == CF_OK; i++)
			err = flag_put(pr->cfg, lv->flags[i], 1);
	}
	/* Inverted flags sharing those registers are set: a weakness the
	 * level does not care about must not make a host refuse it. */
	for (size_t r = 0; r < cat->nregs && err == CF_OK; r++) {
		uint64_t v;
		if (!cf_config_get(pr->cfg, cat->regs[r].key, &v, NULL))
			continue;
		for (int f = 0; f < cat->regs[r].nfields; f++)
			if (cat->regs[r].fields[f].policy == CF_POL_HIGHER)
				v |= cf_field_mask(&cat->regs[r].fields[f]);
		err = cf_config_set(pr->cfg, cat->regs[r].key, v);
	}
	if (err == CF_OK)
		err = cf_hostset_add(&pr->hosts, name, 0, NULL);
	if (err != CF_OK) {
		cf_profile_destroy(pr);
		return err;
	}
	pr->ngroups = 1;
	cf_config_seal(pr->cfg);
	*out = pr;
	return CF_OK;
}

enum cf_err cf_x86_profile_level(const struct cf_profile *pr, char *level,
				 size_t llen, char *missing, size_t mlen)
{
	size_t used = 0;

	if (strcmp(pr->arch->name, "x86") != 0)
		return CF_EARCH;
	if (llen)
		level[0] = '\0';
	if (mlen)
		missing[0] = '\0';
	for (size_t l = 0; l < cf_x86_nlevels; l++) {
		const struct cf_x86_level *lv = &cf_x86_levels[l];
		for (size_t i = 0; i < lv->nflags; i++) {
			int n;
			/* As glibc does: SYSCALL is implied by long mode (Intel
			 * reports it only to 64-bit code, so dumps taken by
			 * 32-bit tools read 0). */
			if (flag_of(pr->cfg, lv->flags[i]) ||
			    (!strcmp(lv->flags[i], "syscall") &&
			     flag_of(pr->cfg, "lm")))
				continue;
			n = snprintf(missing + used, mlen - used, "%s%s",
				     used ? " " : "", lv->flags[i]);
			if (n > 0 && (size_t)n < mlen - used)
				used += (size_t)n;
		}
		if (used)
			return CF_OK;
		snprintf(level, llen, "%s", lv->name);
	}
	return CF_OK;
}

/* psABI levels are cumulative, in table order. */
static bool x86_level_beyond(const char *level,
			     enum cf_err (*fn)(void *ctx, const char *feat),
			     void *ctx, enum cf_err *err)
{
	size_t top = cf_x86_nlevels;

	for (size_t l = 0; l < cf_x86_nlevels; l++)
		if (!strcasecmp(cf_x86_levels[l].name, level))
			top = l;
	if (top == cf_x86_nlevels)
		return false;
	for (size_t l = top + 1; l < cf_x86_nlevels && *err == CF_OK; l++)
		for (size_t i = 0; i < cf_x86_levels[l].nflags && *err == CF_OK;
		     i++) {
			bool below_too = false;
			for (size_t k = 0; k <= top && !below_too; k++)
				for (size_t j = 0; j < cf_x86_levels[k].nflags; j++)
					below_too = below_too ||
						!strcmp(cf_x86_levels[k].flags[j],
							cf_x86_levels[l].flags[i]);
			if (!below_too)
				*err = fn(ctx, cf_x86_levels[l].flags[i]);
		}
	return true;
}

const struct cf_arch_ops cf_x86_ops = {
	.name = "x86",
	.regs_key = "cpuid",
	.pseudo_key = NULL,
	.facts_key = NULL,
	.catalog = &cf_x86_catalog,
	.absent_is_zero = true,
	.vendor = x86_vendor_hook,
	.finish = x86_finish,
	.gates = &cf_x86_gates,
	.deps = &cf_x86_deps,
	.level_beyond = x86_level_beyond,
	.level_range = "x86-64-v1 .. x86-64-v4",
	.regname_parse = x86_regname_parse,
	.regname_format = x86_regname_format,
};
