/* Exports: the registry of formats, the result object, and the x86 plan
 * that QEMU's and libvirt's exports share (see export.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "profiles/export.h"
#include "arch/x86/x86.h"
#include "util/diag.h"

static const struct cf_export_ops *const formats[] = {
	&cf_export_qemu, &cf_export_libvirt, &cf_export_firecracker,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const char *const cf_export_formats[] = { "qemu", "libvirt", "firecracker",
					  NULL };

/* ---- text, notes, the result ---- */

void cf_buf_printf(struct cf_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

enum cf_err cf_buf_done(struct cf_buf *b, struct cf_export *e)
{
	if (b->oom || !b->s) {
		free(b->s);
		b->s = NULL;
		return CF_ENOMEM;
	}
	while (b->len && b->s[b->len - 1] == '\n')
		b->s[--b->len] = '\0';
	free(e->text);
	e->text = b->s;
	b->s = NULL;
	return CF_OK;
}

static enum cf_err push(char ***arr, size_t *n, const char *s)
{
	char **a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!a)
		return CF_ENOMEM;
	*arr = a;
	a[*n] = strdup(s);
	if (!a[*n])
		return CF_ENOMEM;
	(*n)++;
	return CF_OK;
}

enum cf_err cf_export_add_note(struct cf_export *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return push(&e->notes, &e->nnotes, buf);
}

enum cf_err cf_export_add_drop(struct cf_export *e, const char *what)
{
	return push(&e->dropped, &e->ndropped, what);
}

void cf_export_origin(const struct cf_export *e, char *buf, size_t len)
{
	if (e->name[0] && e->version)
		snprintf(buf, len, "cpufleet export of profile %s version %d, "
			 "fingerprint %s", e->name, e->version, e->fingerprint);
	else if (e->name[0])
		snprintf(buf, len, "cpufleet export of profile %s, fingerprint %s",
			 e->name, e->fingerprint);
	else
		snprintf(buf, len, "cpufleet export of a profile, fingerprint %s",
			 e->fingerprint);
}

void cf_export_destroy(struct cf_export *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nnotes; i++)
		free(e->notes[i]);
	for (size_t i = 0; i < e->ndropped; i++)
		free(e->dropped[i]);
	free(e->notes);
	free(e->dropped);
	free(e->text);
	free(e);
}

const char *cf_export_text(const struct cf_export *e)
{
	return e->text;
}

const char *cf_export_fingerprint(const struct cf_export *e)
{
	return e->fingerprint;
}

size_t cf_export_note_count(const struct cf_export *e)
{
	return e->nnotes;
}

const char *cf_export_note(const struct cf_export *e, size_t i)
{
	return i < e->nnotes ? e->notes[i] : NULL;
}

size_t cf_export_dropped_count(const struct cf_export *e)
{
	return e->ndropped;
}

const char *cf_export_dropped(const struct cf_export *e, size_t i)
{
	return i < e->ndropped ? e->dropped[i] : NULL;
}

enum cf_err cf_export_to_json(const struct cf_export *e, char **out)
{
	cJSON *o = cJSON_CreateObject(), *a, *d;

	*out = NULL;
	if (!o)
		return CF_ENOMEM;
	cJSON_AddStringToObject(o, "schema", "cpufleet.export/v1");
	cJSON_AddStringToObject(o, "format", e->format);
	cJSON_AddStringToObject(o, "arch", e->arch);
	if (e->name[0])
		cJSON_AddStringToObject(o, "profile", e->name);
	else
		cJSON_AddNullToObject(o, "profile");
	if (e->version)
		cJSON_AddNumberToObject(o, "version", e->version);
	else
		cJSON_AddNullToObject(o, "version");
	cJSON_AddStringToObject(o, "fingerprint", e->fingerprint);
	a = cJSON_AddArrayToObject(o, "notes");
	d = cJSON_AddArrayToObject(o, "dropped");
	for (size_t i = 0; a && i < e->nnotes; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(e->notes[i]));
	for (size_t i = 0; d && i < e->ndropped; i++)
		cJSON_AddItemToArray(d, cJSON_CreateString(e->dropped[i]));
	cJSON_AddStringToObject(o, "text", e->text ? e->text : "");
	*out = cJSON_Print(o);
	cJSON_Delete(o);
	return *out ? CF_OK : CF_ENOMEM;
}

/* ---- the registry ---- */

enum cf_err cf_profile_export(const struct cf_profile *pr, const char *format,
			      const struct cf_export_opts *opts,
			      struct cf_export **out, struct cf_diag *d)
{
	static const struct cf_export_opts none;
	const struct cf_export_ops *ops = NULL;
	struct cf_export *e;
	struct cf_sha256 h;
	char hex[CF_SHA256_HEX], *json = NULL;
	cf_export_fn fn;
	enum cf_err err;

	*out = NULL;
	if (!opts)
		opts = &none;
	for (size_t i = 0; i < NFORMATS; i++)
		if (format && !strcmp(format, formats[i]->name))
			ops = formats[i];
	if (!ops)
		return cf_diag_set(d, CF_EINVAL, "format %s: expected qemu, "
				   "libvirt or firecracker", format ? format : "(none)");
	if (!strcmp(cf_profile_ops(pr)->name, "x86"))
		fn = ops->x86;
	else if (!strcmp(cf_profile_ops(pr)->name, "arm64"))
		fn = ops->arm64;
	else
		fn = NULL;
	if (!fn)
		return cf_diag_set(d, CF_EARCH, "%s: a profile of %s: %s", ops->name,
				   cf_profile_ops(pr)->name, ops->no_arm64 && !strcmp(
				   cf_profile_ops(pr)->name, "arm64") ? ops->no_arm64 :
				   "the format has nothing for this architecture");
	if (!cf_profile_feasible(pr)) {
		char t[CF_TEXT_MAX] = "";
		cf_profile_conflict_text(pr, 0, t, sizeof(t));
		return cf_diag_set(d, CF_EINVAL, "the profile is infeasible (%zu "
				   "conflicts, first: %s): no VM configuration of "
				   "it runs on every host, so nothing is exported",
				   cf_profile_conflict_count(pr), t);
	}
	/* A guest CPU answers CPUID up to its maximum basic leaf; a profile
	 * without one (a psABI level: a requirement, not a CPU) has nothing
	 * a VMM could present. */
	if (!strcmp(cf_profile_ops(pr)->name, "x86") &&
	    !cf_export_reg(pr, CF_X86_CPUID_KEY(0, 0, 0), NULL))
		return cf_diag_set(d, CF_EINVAL, "CPUID_00000000_0_EAX.max_basic_leaf: "
				   "the profile has no maximum basic leaf, so no "
				   "CPUID leaf of it reaches a guest (a psABI level "
				   "is a requirement to check hosts against, not a "
				   "CPU to export)");
	if (opts->name && strlen(opts->name) >= CF_TEXT_MAX)
		return cf_diag_set(d, CF_EINVAL, "profile name too long");
	e = calloc(1, sizeof(*e));
	if (!e)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	snprintf(e->format, sizeof(e->format), "%s", ops->name);
	snprintf(e->arch, sizeof(e->arch), "%s", cf_profile_ops(pr)->name);
	snprintf(e->name, sizeof(e->name), "%s", opts->name ? opts->name : "");
	e->version = opts->version > 0 ? opts->version : 0;
	err = cf_profile_to_json(pr, &json);
	if (err != CF_OK) {
		cf_export_destroy(e);
		return cf_diag_set(d, err, "out of memory");
	}
	cf_sha256_init(&h);
	cf_sha256_update(&h, json, strlen(json));
	cf_sha256_hex(&h, hex);
	free(json);
	snprintf(e->fingerprint, sizeof(e->fingerprint), "sha256:%s", hex);
	err = fn(pr, opts, e, d);
	if (err == CF_OK && !e->text)
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
	if (err != CF_OK) {
		cf_export_destroy(e);
		return err;
	}
	*out = e;
	return CF_OK;
}

/* ---- x86: the plan ---- */

uint64_t cf_export_reg(const struct cf_profile *pr, uint64_t key,
		       const struct cf_reg **reg)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	int i = cf_catalog_find_key(cat, key);
	uint64_t v = 0;

	if (reg)
		*reg = i >= 0 ? &cat->regs[i] : NULL;
	return cf_config_get(cf_profile_config(pr), key, &v, NULL) ? v : 0;
}

#define CPUID(l, s, r) CF_X86_CPUID_KEY(l, s, r)
enum { EAX, EBX, ECX, EDX };

/* Bits a VMM derives from other features: never said, never compared.
 * Policy, not catalogue facts: how QEMU (and libvirt, which drives it)
 * builds these registers (target/i386/cpu.c: x86_cpu_enable_xsave_
 * components; CPUID_EXT2_AMD_ALIASES copied from FEAT_1_EDX). */
static const struct {
	uint64_t key;
	uint32_t mask;
	bool amd_only;      /* only on AMD and Hygon */
} derived[] = {
	{ CPUID(0xd, 0, EAX), 0xffffffff, false },  /* XCR0 components */
	{ CPUID(0xd, 0, EDX), 0xffffffff, false },
	{ CPUID(0xd, 1, ECX), 0xffffffff, false },  /* IA32_XSS components */
	{ CPUID(0xd, 1, EDX), 0xffffffff, false },
	{ CPUID(0x80000001, 0, EDX), 0x0183f3ff, true }, /* AMD aliases of 1.EDX */
};

static bool is_amd(const char *vendor)
{
	return !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
}

static bool is_derived(uint64_t key, unsigned bit, const char *vendor)
{
	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
		if (derived[i].key == key && (derived[i].mask >> bit & 1) &&
		    (!derived[i].amd_only || is_amd(vendor)))
			return true;
	return false;
}

/* The feature bit of catalogue register REG at BIT: a one-bit `flag`
 * (policy lower) or `inverted` (higher) field; NULL for anything else
 * (numbers, per-vCPU and run-time bits, reserved zeros). */
static const struct cf_field *flag_field(const struct cf_reg *reg, unsigned bit)
{
	for (size_t f = 0; f < reg->nfields; f++) {
		const struct cf_field *fl = &reg->fields[f];
		if (fl->shift == bit && fl->width == 1 &&
		    (fl->policy == CF_POL_LOWER || fl->policy == CF_POL_HIGHER))
			return fl;
	}
	return NULL;
}

/* Whether register KEY is out of the guest's reach in PR: a leaf above its
 * range's maximum, a leaf-7 subleaf above 7.0 EAX, or a gated register
 * whose gate the profile lacks.  Such a register reads as 0. */
static bool unreachable(const struct cf_profile *pr, uint64_t key)
{
	uint32_t leaf, base, max;

	if (CF_X86_IS_MSR(key))
		return false;
	leaf = CF_X86_LEAF(key);
	base = leaf & 0xc0000000u;
	if (leaf != base) {
		max = (uint32_t)cf_export_reg(pr, CPUID(base, 0, EAX), NULL);
		if (leaf > max)
			return true;
	}
	if (leaf == 7 && CF_X86_SUB(key) >
	    cf_export_reg(pr, CPUID(7, 0, EAX), NULL))
		return true;
	return cf_arch_gate_closed(cf_profile_ops(pr), cf_profile_config(pr), key);
}

/* Considered: a feature bit of the catalogue that no VMM derives. */
static const struct cf_field *considered(const struct cf_catalog *cat,
					 uint64_t key, unsigned bit,
					 const char *vendor)
{
	int i = cf_catalog_find_key(cat, key);

	if (i < 0 || (!CF_X86_IS_CPUID(key) && !CF_X86_IS_MSR(key)))
		return NULL;
	if (is_derived(key, bit, vendor))
		return NULL;
	return flag_field(&cat->regs[i], bit);
}

struct bitset {
	struct cf_x86_bit *b;
	size_t n, cap;
};

static enum cf_err bits_add(struct bitset *s, uint64_t key, unsigned bit,
			    const struct cf_field *f)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 128;
		struct cf_x86_bit *b = realloc(s->b, cap * sizeof(*b));
		if (!b)
			return CF_ENOMEM;
		s->b = b;
		s->cap = cap;
	}
	s->b[s->n++] = (struct cf_x86_bit){ key, (uint8_t)bit, f->name,
					    f->policy == CF_POL_HIGHER };
	return CF_OK;
}

static bool bits_has(const struct bitset *s, uint64_t key, unsigned bit)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].key == key && s->b[i].bit == bit)
			return true;
	return false;
}

/* Every feature bit the profile gives a guest. */
static enum cf_err profile_bits(const struct cf_profile *pr, const char *vendor,
				struct bitset *s)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;

	for (size_t i = 0; i < cat->nregs; i++) {
		const struct cf_reg *reg = &cat->regs[i];
		uint64_t v;
		if (!CF_X86_IS_CPUID(reg->key) && !CF_X86_IS_MSR(reg->key))
			continue;
		if (!cf_config_get(cf_profile_config(pr), reg->key, &v, NULL) || !v ||
		    unreachable(pr, reg->key))
			continue;
		for (unsigned b = 0; b < 64; b++) {
			const struct cf_field *f;
			if (!(v >> b & 1))
				continue;
			f = considered(cat, reg->key, b, vendor);
			if (f && bits_add(s, reg->key, b, f) != CF_OK)
				return CF_ENOMEM;
		}
	}
	return CF_OK;
}

/* The considered bits of libvirt model M. */
static enum cf_err model_bits(const struct cf_catalog *cat,
			      const struct cf_x86_vmm_model *m,
			      const char *vendor, struct bitset *s)
{
	for (size_t i = 0; i < m->nfeat; i++) {
		const struct cf_x86_vmm_name *n = &cf_x86_libvirt_vmm.names[m->feat[i]];
		const struct cf_field *f = considered(cat, n->key, n->bit, vendor);
		if (f && bits_add(s, n->key, n->bit, f) != CF_OK)
			return CF_ENOMEM;
	}
	return CF_OK;
}

/* The model's considered bits (MB) and every considered bit VMM names,
 * into ALL: the bits to give on or off. */
static enum cf_err named_bits(const struct cf_catalog *cat,
			      const struct cf_x86_vmm *vmm, const char *vendor,
			      const struct bitset *mb, struct bitset *all)
{
	struct bitset s = { 0 };

	for (size_t i = 0; i < mb->n; i++)
		if (bits_add(&s, mb->b[i].key, mb->b[i].bit,
			     considered(cat, mb->b[i].key, mb->b[i].bit, vendor))
		    != CF_OK)
			goto oom;
	for (size_t i = 0; i < vmm->nnames; i++) {
		const struct cf_x86_vmm_name *n = &vmm->names[i];
		const struct cf_field *f;
		if (n->newer || bits_has(&s, n->key, n->bit))
			continue;
		f = considered(cat, n->key, n->bit, vendor);
		if (f && bits_add(&s, n->key, n->bit, f) != CF_OK)
			goto oom;
	}
	*all = s;
	return CF_OK;
oom:
	free(s.b);
	return CF_ENOMEM;
}

static bool sig_match(const struct cf_x86_vmm_model *m, unsigned fam,
		      unsigned mod)
{
	for (size_t i = 0; i < m->nsigs; i++)
		if (m->sigs[i] == (fam << 8 | mod))
			return true;
	return false;
}

/* libvirt's x86DecodeUseCandidate and virCPUx86CompareCandidateFeatureList
 * for a guest CPU (libvirt/libvirt src/cpu/cpu_x86.c): a model of another
 * vendor or not meant for guests is skipped; once a model matches the
 * signature's family and model only such models count; otherwise fewer
 * features wins, each disabled feature weighing 2, 3, 4... (BASE_PENALTY
 * and up), ties going to fewer disabled ones.  Only features libvirt can
 * name count. */
struct cost {
	size_t total, disabled;
};

static struct cost cost_of(const struct bitset *want, const struct bitset *mb)
{
	struct cost c = { 0, 0 };
	size_t penalty = 2;

	for (size_t i = 0; i < want->n; i++)
		if (!bits_has(mb, want->b[i].key, want->b[i].bit) &&
		    cf_x86_vmm_name_of(&cf_x86_libvirt_vmm, want->b[i].key,
				       want->b[i].bit))
			c.total++;
	for (size_t i = 0; i < mb->n; i++)
		if (!bits_has(want, mb->b[i].key, mb->b[i].bit))
			c.disabled += penalty++;
	c.total += c.disabled;
	return c;
}

static enum cf_err choose_model(const struct cf_profile *pr,
				const struct bitset *want,
				struct cf_x86_plan *plan)
{
	const struct cf_x86_vmm *lv = &cf_x86_libvirt_vmm;
	const struct cf_x86_vmm_model *best = NULL;
	struct cost bc = { 0, 0 };

	for (size_t i = lv->nmodels; i-- > 0;) {
		const struct cf_x86_vmm_model *m = &lv->models[i];
		struct bitset mb = { 0 };
		struct cost c;
		if (!m->guest)
			continue;
		if (m->vendor && plan->vendor[0] && (!plan->vendor_name ||
						     strcmp(m->vendor, plan->vendor_name)))
			continue;
		if (model_bits(cf_profile_ops(pr)->catalog, m, plan->vendor, &mb) != CF_OK) {
			free(mb.b);
			return CF_ENOMEM;
		}
		c = cost_of(want, &mb);
		free(mb.b);
		if (best) {
			bool cs = sig_match(best, plan->family, plan->model_nr);
			bool ms = sig_match(m, plan->family, plan->model_nr);
			if (cs && !ms)
				continue;
			if (!(!cs && ms) &&
			    !(c.total < bc.total ||
			      (c.total == bc.total && c.disabled < bc.disabled)))
				continue;
		}
		best = m;
		bc = c;
	}
	plan->model = best;
	return CF_OK;
}

void cf_x86_plan_free(struct cf_x86_plan *plan)
{
	free(plan->plus);
	free(plan->minus);
	free(plan->plus_name);
	free(plan->minus_name);
	memset(plan, 0, sizeof(*plan));
}

static enum cf_err plan_push(struct cf_x86_bit **arr, const char ***names,
			     size_t *n, const struct cf_x86_bit *b,
			     const char *name)
{
	struct cf_x86_bit *a = realloc(*arr, (*n + 1) * sizeof(**arr));
	const char **na;

	if (!a)
		return CF_ENOMEM;
	*arr = a;
	na = realloc((void *)*names, (*n + 1) * sizeof(**names));
	if (!na)
		return CF_ENOMEM;
	*names = na;
	a[*n] = *b;
	na[*n] = name;
	(*n)++;
	return CF_OK;
}

static void bitname(const struct cf_profile *pr, const struct cf_x86_bit *b,
		    char *buf, size_t len)
{
	char reg[48];

	cf_arch_regname(cf_profile_ops(pr), b->key, reg, sizeof(reg));
	snprintf(buf, len, "%s.%s", reg, b->field);
}

enum cf_err cf_x86_plan_make(const struct cf_profile *pr,
			     const struct cf_x86_vmm *vmm,
			     const struct cf_export_opts *o, struct cf_export *e,
			     struct cf_x86_plan *plan, struct cf_diag *d)
{
	struct bitset want = { 0 }, mb = { 0 }, all = { 0 };
	bool explicit_bits;
	uint32_t sig = (uint32_t)cf_export_reg(pr, CPUID(1, 0, EAX), NULL);
	char name[96], cant[CF_DIAG_MAX - 128] = "";
	size_t ncant = 0, nweak = 0;
	enum cf_err err;

	memset(plan, 0, sizeof(*plan));
	/* A profile without a vendor (a psABI level) may decode into any
	 * vendor's model, as libvirt's x86Decode allows for data without one. */
	if (!cf_profile_vendor(pr, plan->vendor, sizeof(plan->vendor)))
		plan->vendor[0] = '\0';
	for (size_t i = 0; i < cf_x86_libvirt_vmm.nvendors; i++)
		if (!strcmp(cf_x86_libvirt_vmm.vendors[i].string, plan->vendor))
			plan->vendor_name = cf_x86_libvirt_vmm.vendors[i].name;
	plan->family = (sig >> 20 & 0xff) + (sig >> 8 & 0xf);
	plan->model_nr = (sig >> 12 & 0xf0) + (sig >> 4 & 0xf);
	plan->stepping = sig & 0xf;
	err = profile_bits(pr, plan->vendor, &want);
	if (err == CF_OK)
		err = choose_model(pr, &want, plan);
	if (err == CF_OK && !plan->model)
		err = cf_diag_set(d, CF_EINVAL, "CPUID_00000000_0.vendor: "
				  "libvirt's CPU map has no model for vendor %s",
				  plan->vendor);
	if (err == CF_OK)
		err = model_bits(cf_profile_ops(pr)->catalog, plan->model, plan->vendor, &mb);
	all = mb;
	/* QEMU's own model definitions are not libvirt's map of them (QEMU
	 * 7.2's EPYC-Milan has vme off, libvirt's on; its SandyBridge has
	 * xsaveopt): for a VMM other than libvirt every bit it can name is
	 * given on or off, so what its model holds does not matter. */
	explicit_bits = vmm != &cf_x86_libvirt_vmm;
	if (err == CF_OK && explicit_bits)
		err = named_bits(cf_profile_ops(pr)->catalog, vmm, plan->vendor, &mb, &all);
	for (size_t i = 0; err == CF_OK && i < want.n; i++) {
		const struct cf_x86_bit *b = &want.b[i];
		const char *n;
		if (!explicit_bits && bits_has(&mb, b->key, b->bit))
			continue;
		n = cf_x86_vmm_name_of(vmm, b->key, b->bit);
		if (n) {
			err = plan_push(&plan->plus, &plan->plus_name, &plan->nplus,
					b, n);
			continue;
		}
		bitname(pr, b, name, sizeof(name));
		if (o->allow_drop) {
			err = cf_export_add_drop(e, name);
			nweak += b->inverted;
			continue;
		}
		if (ncant++ < 5)
			snprintf(cant + strlen(cant), sizeof(cant) - strlen(cant),
				 "%s%s%s", ncant > 1 ? ", " : "", name,
				 b->inverted ? " (a weakness)" : "");
	}
	if (err == CF_OK && ncant)
		err = cf_diag_set(d, CF_EINVAL, "%zu feature bit%s of the profile "
				  "ha%s no %s name, so %s cannot give %s to a "
				  "guest: %s%s (--allow-drop leaves them out and "
				  "lists them)", ncant, ncant == 1 ? "" : "s",
				  ncant == 1 ? "s" : "ve", vmm->what, vmm->what,
				  ncant == 1 ? "it" : "them", cant,
				  ncant > 5 ? ", ..." : "");
	if (err == CF_OK && nweak)
		err = cf_export_add_note(e, "%zu of the bits left out announce a "
				     "weakness (1 = worse): a guest of this export "
				     "is not told of it", nweak);
	for (size_t i = 0; err == CF_OK && i < all.n; i++) {
		const struct cf_x86_bit *b = &all.b[i];
		const char *n;
		if (bits_has(&want, b->key, b->bit))
			continue;
		n = cf_x86_vmm_name_of(vmm, b->key, b->bit);
		if (!n) {
			bitname(pr, b, name, sizeof(name));
			err = cf_diag_set(d, CF_EINVAL, "%s: model %s has it and "
					  "the profile does not, and %s has no name "
					  "to remove it", name, plan->model->name,
					  vmm->what);
			break;
		}
		err = plan_push(&plan->minus, &plan->minus_name, &plan->nminus, b, n);
	}
	free(want.b);
	if (all.b != mb.b)
		free(all.b);
	free(mb.b);
	if (err != CF_OK) {
		if (err == CF_ENOMEM)
			cf_diag_set(d, err, "out of memory");
		cf_x86_plan_free(plan);
	}
	return err;
}

enum cf_err cf_export_note_numbers(const struct cf_profile *pr,
				   struct cf_export *e,
				   bool (*handled)(uint64_t key, const char *field),
				   const char *why)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	char reg[48];
	enum cf_err err = CF_OK;

	for (size_t i = 0; err == CF_OK && i < cat->nregs; i++) {
		const struct cf_reg *r = &cat->regs[i];
		uint64_t v;
		if (!cf_config_get(cf_profile_config(pr), r->key, &v, NULL) || !v ||
		    (r->pseudo != 0 && r->pseudo != 3) ||
		    (CF_X86_IS_CPUID(r->key) && unreachable(pr, r->key)))
			continue;
		for (size_t f = 0; err == CF_OK && f < r->nfields; f++) {
			const struct cf_field *fl = &r->fields[f];
			uint64_t raw = cf_field_raw(fl, v);
			if (!raw || fl->policy == CF_POL_IGNORE ||
			    fl->policy == CF_POL_ZERO || flag_field(r, fl->shift) == fl ||
			    (handled && handled(r->key, fl->name)))
				continue;
			cf_arch_regname(cf_profile_ops(pr), r->key, reg, sizeof(reg));
			err = cf_export_add_note(e, "%s.%s = 0x%llx is not carried: %s",
					     reg, fl->name, (unsigned long long)raw,
					     why);
		}
	}
	return err;
}

/* ---- arm64: what the ID registers say ---- */

static uint64_t field_of(const struct cf_profile *pr, const char *reg,
			 const char *field)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	int r = cf_catalog_find_name(cat, reg), f;
	uint64_t v = 0;

	if (r < 0 || (f = cf_catalog_find_field(&cat->regs[r], field)) < 0 ||
	    !cf_config_get(cf_profile_config(pr), cat->regs[r].key, &v, NULL))
		return 0;
	return cf_field_raw(&cat->regs[r].fields[f], v);
}

bool cf_export_arm64_pmu(const struct cf_profile *pr)
{
	uint64_t v = field_of(pr, "ID_AA64DFR0_EL1", "PMUVer");
	return v != 0 && v != 0xf;
}

bool cf_export_arm64_sve(const struct cf_profile *pr)
{
	return field_of(pr, "ID_AA64PFR0_EL1", "SVE") != 0;
}

bool cf_export_arm64_pauth(const struct cf_profile *pr)
{
	return field_of(pr, "ID_AA64ISAR1_EL1", "APA") ||
	       field_of(pr, "ID_AA64ISAR1_EL1", "API") ||
	       field_of(pr, "ID_AA64ISAR1_EL1", "GPA") ||
	       field_of(pr, "ID_AA64ISAR1_EL1", "GPI") ||
	       field_of(pr, "ID_AA64ISAR2_EL1", "APA3") ||
	       field_of(pr, "ID_AA64ISAR2_EL1", "GPA3");
}

enum cf_err cf_export_note_facts(const struct cf_profile *pr,
				 struct cf_export *e, const char *vmm)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	enum cf_err err = CF_OK;

	for (size_t i = 0; err == CF_OK && i < cat->nregs; i++) {
		uint64_t v;
		if (cat->regs[i].pseudo != 3 ||
		    !cf_config_get(cf_profile_config(pr), cat->regs[i].key, &v, NULL))
			continue;
		if (!strcmp(cat->regs[i].name, "SVE_VLS"))
			continue;
		err = cf_export_add_note(e, "KVM fact %s = 0x%llx is not carried by "
				     "%s: the hosts must agree on it (cpufleet "
				     "check judges it)", cat->regs[i].name,
				     (unsigned long long)v, vmm);
	}
	return err;
}
