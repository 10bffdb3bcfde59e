/* The Firecracker export and import: custom CPU templates.
 *
 * The format, from firecracker-microvm/firecracker (commit 81b38b9dad60):
 * src/vmm/src/cpu_config/templates.rs (RegisterValueFilter: a bitmap
 * string, "0b" optional, '0'/'1' force a bit, 'x' keeps the host's, '_'
 * ignored, read from the least significant end, at most the register's
 * width; KvmCapability: "N" adds capability N to the checked list, "!N"
 * removes it), templates_serde.rs (leaf, subleaf and addr: strings with
 * "0x" or "0b"), x86_64/custom_cpu_template.rs (top level
 * deny_unknown_fields: kvm_capabilities, cpuid_modifiers {leaf, subleaf,
 * flags (a number: KVM_CPUID_FLAG_*), modifiers [{register eax..edx,
 * bitmap 32}]}, msr_modifiers [{addr, bitmap 64}]),
 * aarch64/custom_cpu_template.rs (kvm_capabilities, vcpu_features
 * [{index, bitmap 32}], reg_modifiers [{addr: a KVM_{GET,SET}_ONE_REG id,
 * bitmap: 32, 64 or 128 bits by the id's size}]).
 *
 * How Firecracker applies one: x86_64/mod.rs apply_template_to_cpuid and
 * apply_template_to_msrs (value = host & ~filter | forced; a leaf,
 * subleaf or MSR the host's KVM lacks is an error), then the CPUID
 * normalisation of docs/cpu_templates/cpuid-normalization.md overwrites
 * some bits; aarch64: arch/aarch64/vcpu.rs init (vcpu_features on
 * kvm_vcpu_init.features[index], then KVM_ARM_VCPU_INIT and finalize),
 * cpu_config/aarch64/mod.rs (reg_modifiers read, changed and written with
 * KVM_SET_ONE_REG after that), arch/aarch64/mod.rs (CLIDR_EL1's cache
 * fields set from the host afterwards, override_clidr).
 *
 * The export forces every bit of every profile register but those the
 * VMM fills per vCPU; the template JSON has no room for comments (its top
 * level refuses unknown members), so provenance and notes are the
 * export's, not the file's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "profiles/export.h"
#include "profiles/doc.h"
#include "arch/x86/x86.h"
#include "util/diag.h"

#define CPUID(l, s, r) CF_X86_CPUID_KEY(l, s, r)
enum { EAX, EBX, ECX, EDX };
#define TSC_KHZ_KEY 0x2000002ULL
#define SYSREG_ID_BASE 0x6030000000130000ULL  /* KVM_REG_ARM64 | U64 | SYSREG */
#define ONE_REG_U64 0x6030000000000000ULL
#define ARM64_FEAT_PMU 3   /* KVM_ARM_VCPU_* bits (api.rst 4.82) */
#define ARM64_FEAT_SVE 4
#define ARM64_FEAT_PTRAUTH_A 5
#define ARM64_FEAT_PTRAUTH_G 6

static const char *const regnames[4] = { "eax", "ebx", "ecx", "edx" };

/* "0b" and WIDTH characters, most significant first. */
static void bitmap(char *out, unsigned width, uint64_t filter, uint64_t value)
{
	out[0] = '0';
	out[1] = 'b';
	for (unsigned i = 0; i < width; i++) {
		unsigned b = width - 1 - i;
		out[2 + i] = !(filter >> b & 1) ? 'x' : (value >> b & 1) ? '1' : '0';
	}
	out[2 + width] = '\0';
}

static cJSON *kvm_caps(const struct cf_profile *pr)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	cJSON *a = cJSON_CreateArray();
	char n[24];

	for (size_t i = 0; a && cf_profile_enabled(pr) && i < cat->nregs; i++) {
		uint64_t v;
		if (cat->regs[i].pseudo != 2 ||
		    !cf_config_get(cf_profile_enabled(pr), cat->regs[i].key, &v, NULL) || !v)
			continue;
		snprintf(n, sizeof(n), "%ld", CF_CAP_NR(cat->regs[i].key));
		cJSON_AddItemToArray(a, cJSON_CreateString(n));
	}
	return a;
}

static enum cf_err finish(cJSON *root, struct cf_export *e, struct cf_diag *d)
{
	char *s = root ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	if (!s)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	free(e->text);
	e->text = s;
	return CF_OK;
}

/* ---- x86 ---- */

enum { ANY, INTEL, AMD };

/* What Firecracker's CPUID normalisation sets after the template
 * (docs/cpu_templates/cpuid-normalization.md; only the feature bits: the
 * per-vCPU and pass-through rows are the VMM's part in cpufleet too). */
static const struct {
	uint64_t key;
	uint32_t mask, value;
	int vendor;
	const char *what;
} normalised[] = {
	{ CPUID(1, 0, ECX), 1u << 15, 0, ANY, "disables PDCM" },
	{ CPUID(1, 0, ECX), 1u << 24, 1u << 24, ANY, "enables TSC_DEADLINE" },
	{ CPUID(6, 0, EAX), 1u << 1, 0, INTEL, "disables Turbo Boost" },
	{ CPUID(6, 0, ECX), 1u << 3, 0, INTEL, "disables frequency selection" },
	{ CPUID(7, 0, EBX), 1u << 6, 1u << 6, INTEL, "sets FDP_EXCPTN_ONLY" },
	{ CPUID(7, 0, EBX), 1u << 13, 1u << 13, INTEL,
	  "sets \"deprecates FPU CS and FPU DS\"" },
	{ CPUID(7, 0, ECX), 1u << 5, 0, INTEL, "disables WAITPKG" },
	{ CPUID(0xa, 0, EAX), 0xffffffffu, 0, INTEL, "disables performance monitoring" },
	{ CPUID(0xa, 0, EBX), 0xffffffffu, 0, INTEL, "disables performance monitoring" },
	{ CPUID(0xa, 0, ECX), 0xffffffffu, 0, INTEL, "disables performance monitoring" },
	{ CPUID(0xa, 0, EDX), 0xffffffffu, 0, INTEL, "disables performance monitoring" },
	{ CPUID(7, 0, EDX), 1u << 29, 0, AMD, "marks IA32_ARCH_CAPABILITIES absent" },
	{ CPUID(0x80000001, 0, ECX), 1u << 22, 1u << 22, AMD, "sets TOPOEXT" },
};

static int vendor_kind(const struct cf_profile *pr)
{
	char v[16] = "";

	cf_profile_vendor(pr, v, sizeof(v));
	if (!strcmp(v, "GenuineIntel"))
		return INTEL;
	if (!strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine"))
		return AMD;
	return ANY;
}

/* The bits of register REG a template forces: all but the per-vCPU and
 * run-time fields (policy ignore), which the VMM fills. */
static uint64_t forced_bits(const struct cf_reg *reg, unsigned width)
{
	uint64_t all = width >= 64 ? ~0ULL : (1ULL << width) - 1;

	return reg ? all & ~cf_reg_policy_bits(reg, CF_POL_IGNORE) : all;
}

static enum cf_err note_normalised(const struct cf_profile *pr,
				   struct cf_export *e, uint64_t key,
				   uint32_t value)
{
	int vk = vendor_kind(pr);
	char reg[48];
	enum cf_err err = CF_OK;

	for (size_t i = 0; err == CF_OK &&
	     i < sizeof(normalised) / sizeof(normalised[0]); i++) {
		if (normalised[i].key != key ||
		    (normalised[i].vendor != ANY && normalised[i].vendor != vk) ||
		    (value & normalised[i].mask) == normalised[i].value)
			continue;
		cf_arch_regname(cf_profile_ops(pr), key, reg, sizeof(reg));
		err = cf_export_add_note(e, "%s: Firecracker's CPUID normalisation %s "
				     "after the template (mask 0x%08x): the guest "
				     "gets 0x%08x there, the profile says 0x%08x",
				     reg, normalised[i].what, normalised[i].mask,
				     normalised[i].value, value & normalised[i].mask);
	}
	return err;
}

/* Out of the guest's reach: above its range's maximum leaf, a leaf-7
 * subleaf above 7.0 EAX, or gated off. */
static bool reachable(const struct cf_profile *pr, uint64_t key)
{
	uint32_t leaf = CF_X86_LEAF(key), base = leaf & 0xc0000000u;

	if (leaf != base &&
	    leaf > (uint32_t)cf_export_reg(pr, CPUID(base, 0, EAX), NULL))
		return false;
	if (leaf == 7 && CF_X86_SUB(key) > cf_export_reg(pr, CPUID(7, 0, EAX), NULL))
		return false;
	return !cf_arch_gate_closed(cf_profile_ops(pr), cf_profile_config(pr), key);
}

struct walk {
	const struct cf_profile *pr;
	struct cf_export *e;
	cJSON *cpuid, *msrs;
	cJSON *leaf;            /* the current leaf's modifiers */
	uint64_t leaf_key;      /* (leaf, subleaf) of it, reg 0 */
	enum cf_err err;
};

static int x86_reg(void *ctx, uint64_t key, uint64_t value, uint64_t wr)
{
	struct walk *w = ctx;
	const struct cf_reg *reg;
	char bm[70], hex[24];
	uint64_t filt;

	(void)wr;
	cf_export_reg(w->pr, key, &reg);
	if (CF_X86_IS_MSR(key)) {
		filt = forced_bits(reg, 64);
		if (!filt)
			return 0;
		cJSON *m = cJSON_CreateObject();
		snprintf(hex, sizeof(hex), "0x%x", (unsigned)(key & 0xffffffff));
		cJSON_AddStringToObject(m, "addr", hex);
		bitmap(bm, 64, filt, value);
		cJSON_AddStringToObject(m, "bitmap", bm);
		cJSON_AddItemToArray(w->msrs, m);
		return 0;
	}
	/* A register the catalogue does not know (an XSAVE component's
	 * layout, say) that reads 0 in the profile is left out: cpufleet
	 * counts a zero register as absent, and Firecracker refuses a
	 * template naming a leaf a host's KVM does not list. */
	if (!CF_X86_IS_CPUID(key) || !reachable(w->pr, key) || (!reg && !value))
		return 0;
	w->err = note_normalised(w->pr, w->e, key, (uint32_t)value);
	if (w->err != CF_OK)
		return 1;
	filt = forced_bits(reg, 32);
	if (!filt)
		return 0;
	uint64_t lk = key & ~3ULL;
	if (!w->leaf || w->leaf_key != lk) {
		cJSON *l = cJSON_CreateObject();
		uint32_t leaf = CF_X86_LEAF(key);
		snprintf(hex, sizeof(hex), "0x%x", leaf);
		cJSON_AddStringToObject(l, "leaf", hex);
		snprintf(hex, sizeof(hex), "0x%x", CF_X86_SUB(key));
		cJSON_AddStringToObject(l, "subleaf", hex);
		/* KVM_CPUID_FLAG_SIGNIFCANT_INDEX for leaves indexed by ECX:
		 * Firecracker replaces the entry's flags with these. */
		cJSON_AddNumberToObject(l, "flags", cf_x86_leaf_indexed(leaf) ? 1 : 0);
		w->leaf = cJSON_AddArrayToObject(l, "modifiers");
		w->leaf_key = lk;
		cJSON_AddItemToArray(w->cpuid, l);
	}
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "register", regnames[CF_X86_REG(key)]);
	bitmap(bm, 32, filt, value);
	cJSON_AddStringToObject(m, "bitmap", bm);
	cJSON_AddItemToArray(w->leaf, m);
	return 0;
}

static enum cf_err fc_x86(const struct cf_profile *pr,
			  const struct cf_export_opts *o, struct cf_export *e,
			  struct cf_diag *d)
{
	cJSON *root = cJSON_CreateObject();
	struct walk w = { pr, e, NULL, NULL, NULL, 0, CF_OK };
	uint64_t khz = 0;

	(void)o;
	if (!root)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	cJSON_AddItemToObject(root, "kvm_capabilities", kvm_caps(pr));
	w.cpuid = cJSON_AddArrayToObject(root, "cpuid_modifiers");
	w.msrs = cJSON_AddArrayToObject(root, "msr_modifiers");
	if (!w.cpuid || !w.msrs) {
		cJSON_Delete(root);
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	}
	cf_config_walk(cf_profile_config(pr), x86_reg, &w);
	if (w.err == CF_OK && cf_config_get(cf_profile_config(pr), TSC_KHZ_KEY, &khz, NULL) && khz)
		w.err = cf_export_add_note(e, "the profile pins the TSC at %llu kHz: a "
				       "template has no TSC rate (Firecracker boots "
				       "at the host's, and rescales on restore)",
				       (unsigned long long)khz);
	if (w.err != CF_OK) {
		cJSON_Delete(root);
		return cf_diag_set(d, w.err, "out of memory");
	}
	return finish(root, e, d);
}

/* ---- aarch64 ---- */

/* A system register's feature-ID encoding (op0 3, CRn 0, CRm 0..7, op1 0,
 * 1 or 3: what KVM's writable masks cover and cpufleet applies). */
static bool id_range(uint64_t key)
{
	unsigned op0 = key >> 14 & 3, op1 = key >> 11 & 7, crn = key >> 7 & 15,
		 crm = key >> 3 & 15;

	return key <= 0xffff && op0 == 3 && crn == 0 && crm <= 7 &&
	       (op1 == 0 || op1 == 1 || op1 == 3);
}

static enum cf_err fc_arm64(const struct cf_profile *pr,
			    const struct cf_export_opts *o, struct cf_export *e,
			    struct cf_diag *d)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	cJSON *root = cJSON_CreateObject(), *regs, *vf, *f;
	char bm[70], hex[24], name[48];
	uint32_t feat = 0;
	uint64_t vls = 0;
	enum cf_err err = CF_OK;
	int i;

	(void)o;
	if (!root)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	i = cf_catalog_find_name(cat, "SVE_VLS");
	if (cf_export_arm64_sve(pr) && i >= 0 &&
	    cf_config_get(cf_profile_config(pr), cat->regs[i].key, &vls, NULL) && vls) {
		cJSON_Delete(root);
		return cf_diag_set(d, CF_EINVAL, "SVE_VLS: a Firecracker template "
				   "cannot set SVE vector lengths (0x%llx here): "
				   "KVM_REG_ARM64_SVE_VLS is written only before "
				   "KVM_ARM_VCPU_FINALIZE, which Firecracker runs in "
				   "vCPU init, before reg_modifiers, and its validate() "
				   "takes registers of 32 to 128 bits, not 512; the "
				   "guest would get each host's own lengths",
				   (unsigned long long)vls);
	}
	cJSON_AddItemToObject(root, "kvm_capabilities", kvm_caps(pr));
	vf = cJSON_AddArrayToObject(root, "vcpu_features");
	regs = cJSON_AddArrayToObject(root, "reg_modifiers");
	if (!vf || !regs) {
		cJSON_Delete(root);
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	}
	/* PSCI 0.2 (bit 2) Firecracker sets itself; PMU, SVE and both PAuth
	 * bits as the ID registers say. */
	feat |= cf_export_arm64_pmu(pr) ? 1u << ARM64_FEAT_PMU : 0;
	feat |= cf_export_arm64_sve(pr) ? 1u << ARM64_FEAT_SVE : 0;
	feat |= cf_export_arm64_pauth(pr) ?
		(1u << ARM64_FEAT_PTRAUTH_A | 1u << ARM64_FEAT_PTRAUTH_G) : 0;
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "index", 0);
	bitmap(bm, 32, 0x78, feat);
	cJSON_AddStringToObject(f, "bitmap", bm);
	cJSON_AddItemToArray(vf, f);
	for (size_t r = 0; err == CF_OK && r < cat->nregs; r++) {
		const struct cf_reg *reg = &cat->regs[r];
		uint64_t v, id;
		if ((reg->pseudo != 0 && reg->pseudo != 1) ||
		    !cf_config_get(cf_profile_config(pr), reg->key, &v, NULL))
			continue;
		if (reg->pseudo == 0 && !id_range(reg->key)) {
			err = cf_diag_set(d, CF_EINVAL, "%s: not a feature ID "
					  "register; only those are exported",
					  reg->name);
			break;
		}
		id = reg->pseudo ? ONE_REG_U64 | reg->key : SYSREG_ID_BASE | reg->key;
		cJSON *m = cJSON_CreateObject();
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)id);
		cJSON_AddStringToObject(m, "addr", hex);
		bitmap(bm, 64, ~0ULL, v);
		cJSON_AddStringToObject(m, "bitmap", bm);
		cJSON_AddItemToArray(regs, m);
		if (!strcmp(reg->name, "CLIDR_EL1"))
			err = cf_export_add_note(e, "CLIDR_EL1: Firecracker writes the "
					     "host's cache fields after the template "
					     "(override_clidr), so the guest reads "
					     "those, not the profile's");
		else if (reg->flags & CF_REG_IDENTITY)
			err = cf_export_add_note(e, "%s: Firecracker does not enable "
					     "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, so KVM "
					     "takes only each host's own value",
					     reg->name);
	}
	/* Registers the catalogue does not know (KVM lists every ID register
	 * encoding, reserved ones reading 0): programmed as they are, as
	 * cf_arm64_apply does, if they are feature ID registers. */
	for (size_t x = 0; err == CF_OK && x < cf_profile_config(pr)->nextra; x++) {
		uint64_t key = cf_profile_config(pr)->extra[x].key;
		cf_arch_regname(cf_profile_ops(pr), key, name, sizeof(name));
		if (!id_range(key)) {
			err = cf_diag_set(d, CF_EINVAL, "%s: not a feature ID "
					  "register; only those are exported", name);
			break;
		}
		cJSON *m = cJSON_CreateObject();
		snprintf(hex, sizeof(hex), "0x%llx",
			 (unsigned long long)(SYSREG_ID_BASE | key));
		cJSON_AddStringToObject(m, "addr", hex);
		bitmap(bm, 64, ~0ULL, cf_profile_config(pr)->extra[x].value);
		cJSON_AddStringToObject(m, "bitmap", bm);
		cJSON_AddItemToArray(regs, m);
	}
	if (err == CF_OK)
		err = cf_export_note_facts(pr, e, "a Firecracker template");
	if (err != CF_OK) {
		cJSON_Delete(root);
		return err == CF_ENOMEM ? cf_diag_set(d, err, "out of memory") : err;
	}
	return finish(root, e, d);
}

const struct cf_export_ops cf_export_firecracker = {
	.name = "firecracker",
	.x86 = fc_x86,
	.arm64 = fc_arm64,
};

/* ---- import ---- */

bool cf_fc_bitmap(const char *s, unsigned width, uint64_t *filter,
		  uint64_t *value)
{
	unsigned i = 0;

	if (!strncmp(s, "0b", 2))
		s += 2;
	*filter = *value = 0;
	for (size_t n = strlen(s); n-- > 0;) {
		char c = s[n];
		if (c == '_')
			continue;
		if (i == width || (c != '0' && c != '1' && c != 'x'))
			return false;
		if (c != 'x') {
			*filter |= 1ULL << i;
			*value |= (uint64_t)(c == '1') << i;
		}
		i++;
	}
	return true;
}

static enum cf_err parse_bitmap(const cJSON *it, unsigned width,
				const char *origin, const char *path,
				uint64_t *filter, uint64_t *value,
				struct cf_diag *d)
{
	if (!cJSON_IsString(it) || !cf_fc_bitmap(it->valuestring, width, filter,
						 value))
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected a bitmap string: "
				   "\"0b\" and at most %u of 0, 1 or x (_ between)",
				   origin, path, width);
	return CF_OK;
}

/* templates_serde.rs deserialize_from_str: "0x" hex or "0b" binary. */
static enum cf_err parse_num(const cJSON *it, uint64_t max, const char *origin,
			     const char *path, uint64_t *out, struct cf_diag *d)
{
	const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
	int base;
	char *end;
	unsigned long long v;

	if (!s || (strncmp(s, "0x", 2) && strncmp(s, "0b", 2)))
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected a string with "
				   "0x (hex) or 0b (binary)", origin, path);
	base = s[1] == 'x' ? 16 : 2;
	if (!s[2] || strchr(s + 2, '-') || strchr(s + 2, '+') || strchr(s + 2, ' '))
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: not a number: %s",
				   origin, path, s);
	v = strtoull(s + 2, &end, base);
	if (*end || v > max)
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: not a number up to 0x%llx: "
				   "%s", origin, path, (unsigned long long)max, s);
	*out = v;
	return CF_OK;
}

static enum cf_err array_of(const cJSON *root, const char *key,
			    const char *origin, const cJSON **out,
			    struct cf_diag *d)
{
	*out = cJSON_GetObjectItemCaseSensitive(root, key);
	if (*out && !cJSON_IsArray(*out))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.%s: expected an array",
				   origin, key);
	return CF_OK;
}

static enum cf_err apply_reg(struct cf_config *c, uint64_t key, uint64_t filt,
			     uint64_t val, const char *origin, const char *path,
			     const char *what, const char *host, struct cf_diag *d)
{
	uint64_t v;

	if (!cf_config_get(c, key, &v, NULL))
		return cf_diag_set(d, CF_EINVAL, "%s: %s: changes %s, which host %s "
				   "does not have (Firecracker refuses such a "
				   "template there)", origin, path, what, host);
	return cf_config_set(c, key, (v & ~filt) | (val & filt));
}

static enum cf_err import_x86(const cJSON *root, const char *origin,
			      const struct cf_report *host, struct cf_config *c,
			      struct cf_diag *d)
{
	const cJSON *arr, *e, *m;
	char p[CF_DOC_PATH_MAX], what[64];
	size_t i = 0;
	enum cf_err err = array_of(root, "cpuid_modifiers", origin, &arr, d);

	if (err != CF_OK)
		return err;
	cJSON_ArrayForEach(e, arr) {
		uint64_t leaf, sub;
		size_t j = 0;
		snprintf(p, sizeof(p), "$.cpuid_modifiers[%zu]", i);
		if (!cJSON_IsObject(e) ||
		    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "flags")) ||
		    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "modifiers")))
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected {leaf, "
					   "subleaf, flags, modifiers}", origin, p);
		snprintf(p, sizeof(p), "$.cpuid_modifiers[%zu].leaf", i);
		err = parse_num(cJSON_GetObjectItemCaseSensitive(e, "leaf"),
				0xffffffffu, origin, p, &leaf, d);
		snprintf(p, sizeof(p), "$.cpuid_modifiers[%zu].subleaf", i);
		if (err == CF_OK)
			err = parse_num(cJSON_GetObjectItemCaseSensitive(e, "subleaf"),
					0xffffffffu, origin, p, &sub, d);
		if (err == CF_OK && sub > CF_X86_SUB_MAX)
			err = cf_diag_set(d, CF_EINVAL, "%s: %s: subleaf 0x%llx is "
					  "beyond what cpufleet keeps", origin, p,
					  (unsigned long long)sub);
		if (err != CF_OK)
			return err;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(e, "modifiers")) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "register");
			unsigned ri = 4;
			uint64_t filt, val;
			snprintf(p, sizeof(p), "$.cpuid_modifiers[%zu].modifiers[%zu]",
				 i, j);
			for (unsigned k = 0; cJSON_IsString(r) && k < 4; k++)
				if (!strcmp(r->valuestring, regnames[k]))
					ri = k;
			if (ri == 4)
				return cf_diag_set(d, CF_ESCHEMA, "%s: %s.register: "
						   "expected eax, ebx, ecx or edx",
						   origin, p);
			strncat(p, ".bitmap", sizeof(p) - strlen(p) - 1);
			err = parse_bitmap(cJSON_GetObjectItemCaseSensitive(m, "bitmap"),
					   32, origin, p, &filt, &val, d);
			snprintf(what, sizeof(what), "CPUID leaf 0x%llx subleaf 0x%llx",
				 (unsigned long long)leaf, (unsigned long long)sub);
			if (err == CF_OK)
				err = apply_reg(c, CF_X86_CPUID_KEY(leaf, sub, ri), filt,
						val, origin, p, what, cf_report_host_id(host), d);
			if (err != CF_OK)
				return err;
			j++;
		}
		i++;
	}
	err = array_of(root, "msr_modifiers", origin, &arr, d);
	if (err != CF_OK)
		return err;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		uint64_t addr, filt, val;
		snprintf(p, sizeof(p), "$.msr_modifiers[%zu].addr", i);
		err = parse_num(cJSON_GetObjectItemCaseSensitive(e, "addr"),
				0xffffffffu, origin, p, &addr, d);
		snprintf(p, sizeof(p), "$.msr_modifiers[%zu].bitmap", i);
		if (err == CF_OK)
			err = parse_bitmap(cJSON_GetObjectItemCaseSensitive(e, "bitmap"),
					   64, origin, p, &filt, &val, d);
		snprintf(what, sizeof(what), "MSR 0x%llx", (unsigned long long)addr);
		if (err == CF_OK)
			err = apply_reg(c, CF_X86_MSR_KEY(addr), filt, val, origin, p,
					what, cf_report_host_id(host), d);
		if (err != CF_OK)
			return err;
		i++;
	}
	return err;
}

static enum cf_err import_arm64(const cJSON *root, const char *origin,
				const struct cf_report *host,
				struct cf_config *c, struct cf_diag *d)
{
	const struct cf_catalog *cat = c->arch->catalog;
	const cJSON *arr, *e;
	char p[CF_DOC_PATH_MAX], what[64];
	size_t i = 0;
	enum cf_err err = array_of(root, "vcpu_features", origin, &arr, d);

	if (err != CF_OK)
		return err;
	cJSON_ArrayForEach(e, arr) {
		const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
		uint64_t filt, val;
		snprintf(p, sizeof(p), "$.vcpu_features[%zu].index", i);
		if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble > 6 ||
		    ix->valuedouble != (double)(int)ix->valuedouble)
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected an index "
					   "of kvm_vcpu_init.features (0 to 6)",
					   origin, p);
		snprintf(p, sizeof(p), "$.vcpu_features[%zu].bitmap", i);
		err = parse_bitmap(cJSON_GetObjectItemCaseSensitive(e, "bitmap"), 32,
				   origin, p, &filt, &val, d);
		if (err != CF_OK)
			return err;
		i++;
	}
	err = array_of(root, "reg_modifiers", origin, &arr, d);
	if (err != CF_OK)
		return err;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		uint64_t id, key, filt, val;
		int r;
		snprintf(p, sizeof(p), "$.reg_modifiers[%zu].addr", i);
		err = parse_num(cJSON_GetObjectItemCaseSensitive(e, "addr"), ~0ULL,
				origin, p, &id, d);
		if (err != CF_OK)
			return err;
		if ((id & ~0xffffULL) == SYSREG_ID_BASE)
			key = id & 0xffff;
		else if ((id >> 32) == (ONE_REG_U64 >> 32) &&
			 (r = cf_catalog_find_key(cat, id & 0xffffffff)) >= 0 &&
			 cat->regs[r].pseudo == 1)
			key = id & 0xffffffff;
		else
			return cf_diag_set(d, CF_EINVAL, "%s: %s: 0x%llx is neither a "
					   "64-bit system register nor a firmware "
					   "register cpufleet knows", origin, p,
					   (unsigned long long)id);
		snprintf(p, sizeof(p), "$.reg_modifiers[%zu].bitmap", i);
		err = parse_bitmap(cJSON_GetObjectItemCaseSensitive(e, "bitmap"), 64,
				   origin, p, &filt, &val, d);
		cf_arch_regname(c->arch, key, what, sizeof(what));
		if (err == CF_OK)
			err = apply_reg(c, key, filt, val, origin, p, what,
					cf_report_host_id(host), d);
		if (err != CF_OK)
			return err;
		i++;
	}
	return err;
}

static enum cf_err import_caps(const cJSON *root, const char *origin,
			       struct cf_profile *pr, struct cf_diag *d)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	const cJSON *arr, *e;
	size_t i = 0;
	enum cf_err err = array_of(root, "kvm_capabilities", origin, &arr, d);

	if (err != CF_OK)
		return err;
	cJSON_ArrayForEach(e, arr) {
		const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
		char *end;
		unsigned long nr;
		int r;
		if (!s || !*s)
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.kvm_capabilities[%zu]: "
					   "expected \"N\" or \"!N\"", origin, i);
		nr = strtoul(s + (*s == '!'), &end, 10);
		if (*end || !s[*s == '!'] || nr > 0xffffffffUL)
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.kvm_capabilities[%zu]: "
					   "not a capability number: %s", origin, i, s);
		r = cf_catalog_find_key(cat, CF_CAP_KEY(nr));
		/* "N" makes Firecracker check the capability: a guest one is
		 * what the VMs enable; "!N" only drops a default check. */
		if (*s != '!' && r >= 0 && cat->regs[r].role == CF_ROLE_GUEST) {
			err = cf_profile_enable_cap(pr, NULL, cat->regs[r].name, 1, d);
			if (err != CF_OK)
				return err;
		}
		i++;
	}
	return err;
}

enum cf_err cf_profile_import_firecracker(const char *text, size_t len,
					  const char *origin,
					  const struct cf_report *host,
					  struct cf_profile **out,
					  struct cf_diag *d)
{
	static const char *const x86_keys[] = { "kvm_capabilities",
		"cpuid_modifiers", "msr_modifiers", NULL };
	static const char *const arm_keys[] = { "kvm_capabilities",
		"vcpu_features", "reg_modifiers", NULL };
	const char *const *keys;
	bool x86 = !strcmp(cf_report_config(host)->arch->name, "x86");
	struct cf_config *c = NULL;
	struct cf_report *r = NULL;
	cJSON *root = NULL, *it;
	enum cf_err err;

	*out = NULL;
	err = cf_doc_parse(text, len, origin, &root, d);
	if (err != CF_OK)
		return err;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return cf_diag_set(d, CF_ESCHEMA, "%s: $: expected an object", origin);
	}
	keys = x86 ? x86_keys : arm_keys;
	cJSON_ArrayForEach(it, root) {
		bool ok = false;
		for (size_t k = 0; keys[k]; k++)
			ok = ok || !strcmp(it->string, keys[k]);
		if (!ok) {
			err = cf_diag_set(d, CF_ESCHEMA, "%s: $.%s: not a member of "
					  "a Firecracker %s template (its top level "
					  "takes %s, %s and %s only)", origin,
					  it->string, x86 ? "x86_64" : "aarch64",
					  keys[0], keys[1], keys[2]);
			break;
		}
	}
	if (err == CF_OK)
		err = cf_config_clone(cf_report_config(host), &c);
	if (err == CF_OK)
		err = x86 ? import_x86(root, origin, host, c, d)
			  : import_arm64(root, origin, host, c, d);
	if (err == CF_OK) {
		err = cf_report_create(cf_report_host_id(host), c, &r);
		c = NULL;
	}
	if (err == CF_OK)
		err = cf_profile_from_report(r, out);
	if (err == CF_OK)
		err = import_caps(root, origin, *out, d);
	if (err != CF_OK) {
		cf_profile_destroy(*out);
		*out = NULL;
		if (err == CF_ENOMEM)
			cf_diag_set(d, err, "out of memory");
	}
	cf_config_unref(c);
	cf_report_destroy(r);
	cJSON_Delete(root);
	return err;
}
