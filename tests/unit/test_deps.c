/* Dependency-safe profiles: a baseline never keeps a feature whose
 * prerequisite it lost, and check refuses a hand-made profile that keeps
 * one without the other.
 *
 * Pools are real dumps (tests/data/x86: InstLatx64; tests/data/arm64:
 * lelegard/arm-cpusysregs) next to a copy of one of them edited the way a
 * real host differs: a KVM whose XCR0 lacks a state component the CPU's
 * flags name, a Zen 2 XSAVE layout, a host booted without SVE, another
 * pointer-authentication level.  Every expectation below comes from the
 * architecture documents or the kernel, QEMU and Xen tables cited next to
 * it, never from arch/ *.txt or the engine. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include "arch/x86/x86.h"
#include "arch/x86/x86_catalog.h"
#include "engine/deps.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

/* ---- editing copies of real reports ---- */

static struct cf_config *clone_of(const char *rel)
{
	struct cf_report *r = test_load_report(rel);
	struct cf_config *c = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(r->cfg, &c), CF_OK);
	cf_report_destroy(r);
	return c;
}

static struct cf_report *as_report(struct cf_config *c, const char *id)
{
	struct cf_report *r = NULL;

	cf_config_seal(c);
	CU_ASSERT_EQUAL_FATAL(cf_report_create(id, c, &r), CF_OK);
	return r;
}

static void set(struct cf_config *c, uint64_t key, uint64_t v)
{
	CU_ASSERT_EQUAL_FATAL(cf_config_set(c, key, v), CF_OK);
}

/* Does register KEY read 0 in C (absent, or there at 0)? */
static bool reads_zero(const struct cf_config *c, uint64_t key)
{
	uint64_t v = 0;

	cf_config_get(c, key, &v, NULL);
	return v == 0;
}

/* The field FIELD of register REG (NULL: FIELD is an x86 flag name, unique
 * in the catalogue) and its register's key. */
static const struct cf_field *field_of(const struct cf_catalog *cat,
				       const char *reg, const char *field,
				       uint64_t *key)
{
	int ri, fi;

	if (!reg)
		return cf_catalog_field_named(cat, field, key);
	ri = cf_catalog_find_name(cat, reg);
	if (ri < 0)
		return NULL;
	fi = cf_catalog_find_field(&cat->regs[ri], field);
	*key = cat->regs[ri].key;
	return fi < 0 ? NULL : &cat->regs[ri].fields[fi];
}

static void put(struct cf_config *c, const char *reg, const char *field,
		uint64_t v)
{
	uint64_t key, old = 0;
	const struct cf_field *f = field_of(c->arch->catalog, reg, field, &key);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cf_config_get(c, key, &old, NULL);
	set(c, key, (old & ~cf_field_mask(f)) |
		    ((v << f->shift) & cf_field_mask(f)));
}

/* The raw value of the field in C (0 where C lacks the register). */
static uint64_t get(const struct cf_config *c, const char *reg,
		    const char *field)
{
	uint64_t key, v = 0;
	const struct cf_field *f = field_of(c->arch->catalog, reg, field, &key);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cf_config_get(c, key, &v, NULL);
	return cf_field_raw(f, v);
}

/* RS: the real report REL, and C (an edited copy of one) as host ID. */
static void pair(struct cf_report **rs, const char *rel, struct cf_config *c,
		 const char *id)
{
	rs[0] = test_load_report(rel);
	rs[1] = as_report(c, id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[0]);
}

/* pair(), and the baseline of the two. */
static struct cf_profile *pool_of(const char *arch, struct cf_report **rs,
				  const char *rel, struct cf_config *c,
				  const char *id);

static void done(struct cf_profile *pr, struct cf_report **rs)
{
	cf_profile_destroy(pr);
	cf_report_destroy(rs[0]);
	cf_report_destroy(rs[1]);
}

/* XCR0 (CPUID 0xD.0 EAX) without the AVX-512 state, bits 5-7 (opmask,
 * ZMM_Hi256, Hi16_ZMM), and without their sub-leaves 5-7 (KVM lists
 * sub-leaf n only for a supported bit n). */
static void no_avx512_state(struct cf_config *c)
{
	put(c, NULL, "xcr0_opmask", 0);
	put(c, NULL, "xcr0_zmm_hi256", 0);
	put(c, NULL, "xcr0_hi16_zmm", 0);
	for (unsigned sub = 5; sub <= 7; sub++)
		for (unsigned reg = 0; reg < 4; reg++)
			cf_config_unset(c, CF_X86_CPUID_KEY(0xd, sub, reg));
}

/* Each x86 flag named (NULL-terminated) is V in C. */
static void flags_are(const struct cf_config *c, uint64_t v, ...)
{
	va_list ap;
	const char *name;

	va_start(ap, v);
	while ((name = va_arg(ap, const char *))) {
		if (get(c, NULL, name) != v)
			fprintf(stderr, "\n  %s is %llu, want %llu\n", name,
				(unsigned long long)get(c, NULL, name),
				(unsigned long long)v);
		CU_ASSERT_EQUAL(get(c, NULL, name), v);
	}
	va_end(ap);
}

static struct cf_profile *baseline_of(const char *arch, struct cf_report **rs,
				      size_t n)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create(arch, &p), CF_OK);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, rs[i], &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

static struct cf_profile *pool_of(const char *arch, struct cf_report **rs,
				  const char *rel, struct cf_config *c,
				  const char *id)
{
	pair(rs, rel, c, id);
	return baseline_of(arch, rs, 2);
}

/* True if some reason of PR checked on R says something containing every
 * one of the NULL-terminated words. */
static bool refused_saying(const struct cf_profile *pr,
			   const struct cf_report *r, ...)
{
	struct cf_verdict *v = cf_verdict_create();
	bool found = false;
	char text[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL_FATAL(cf_check(pr, r, v), CF_OK);
	for (size_t i = 0; !found && i < cf_verdict_reason_count(v); i++) {
		va_list ap;
		const char *w;
		cf_verdict_reason_text(v, i, text, sizeof(text));
		found = true;
		va_start(ap, r);
		while ((w = va_arg(ap, const char *)))
			if (!strstr(text, w))
				found = false;
		va_end(ap);
	}
	if (!found && cf_verdict_reason_count(v)) {
		cf_verdict_reason_text(v, 0, text, sizeof(text));
		fprintf(stderr, "\n  %s: %s\n", cf_report_host_id(r), text);
	}
	cf_verdict_destroy(v);
	return found;
}

/* PR refused on HOST naming FEATURE and NEED. */
static void refused_for(const struct cf_profile *pr, const struct cf_report *host,
			const char *feature, const char *need)
{
	bool ok = refused_saying(pr, host, feature, need, NULL);

	if (!ok)
		fprintf(stderr, "  (%s needs %s)\n", feature, need);
	CU_ASSERT_TRUE(ok);
}

/* ---- x86 baselines ---- */


/* The AVX-512 flags of leaf 7 (Linux cpufeatures.h words 9, 16, 18, 12). */
static const char *const avx512[] = {
	"avx512f", "avx512dq", "avx512ifma", "avx512cd", "avx512bw",
	"avx512vl", "avx512vbmi", "avx512_vbmi2", "avx512_vnni",
	"avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16", "avx512_fp16",
};

/* Sapphire Rapids, and the same CPU on a host whose XCR0 lacks the AVX-512
 * state (opmask, ZMM_Hi256, Hi16_ZMM: CPUID 0xD.0 EAX bits 5-7 and their
 * sub-leaves 5-7) while leaf 7 still names every AVX-512 flag.  The SDM
 * (Vol. 1 15.2, "Detection of AVX-512 Foundation Instructions") has
 * software use AVX-512 only with XCR0[7:5] = 111b, and KVM refuses a guest
 * XSETBV of XCR0[7:5] unless its CPUID offers all three (__kvm_set_xcr):
 * the guest must lose AVX-512F, and with it every AVX-512 extension
 * (Linux arch/x86/kernel/cpu/cpuid-deps.c: each depends on AVX512F,
 * directly or through AVX512VL/BW).  AVX and AVX2 and their XCR0 bits stay
 * (both hosts offer them), and so does AMX, which needs XCR0 bits 17 and 18
 * (QEMU x86_ext_save_areas), both present. */
static void test_deps_x86_xcr0_lacks_avx512_state(void)
{
	struct cf_config *c = clone_of("x86/spr-05.json");
	struct cf_report *rs[2];
	struct cf_profile *pr;

	no_avx512_state(c);
	pair(rs, "x86/spr-05.json", c, "spr-no-zmm");
	/* The edit is what the test says: flags on, state off. */
	CU_ASSERT_EQUAL(get(rs[1]->cfg, NULL, "avx512f"), 1);
	pr = baseline_of("x86", rs, 2);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	for (size_t i = 0; i < sizeof(avx512) / sizeof(avx512[0]); i++)
		flags_are(pr->cfg, 0, avx512[i], NULL);
	flags_are(pr->cfg, 1, "avx", "avx2", "xcr0_avx", "amx_tile", "xcr0_xtiledata", NULL);
	/* A guest with that profile runs on both hosts. */
	CU_ASSERT_FALSE(refused_saying(pr, rs[0], "", NULL));
	CU_ASSERT_FALSE(refused_saying(pr, rs[1], "", NULL));
	done(pr, rs);
}

/* What the baseline of the pool above says it dropped, in the operator's
 * words, and that a profile document keeps the list through a save and a
 * load (the server stores and serves the document). */
static void test_deps_dropped_said_and_kept(void)
{
	struct cf_config *c = clone_of("x86/spr-05.json");
	struct cf_report *rs[2];
	struct cf_profile *pr, *back = NULL;
	char text[640], again[640], *json = NULL, *json2 = NULL;
	struct cf_diag d;

	no_avx512_state(c);
	pr = pool_of("x86", rs, "x86/spr-05.json", c, "spr-no-zmm");
	CU_ASSERT_TRUE_FATAL(cf_profile_dropped_count(pr) > 1);
	CU_ASSERT_EQUAL(cf_profile_dropped_text(pr, 0, text, sizeof(text)), CF_OK);
	CU_ASSERT_STRING_EQUAL(text, "dropped avx512f: needs XCR0 bits 5-7 "
			       "(opmask, ZMM_Hi256, Hi16_ZMM), which not every "
			       "host offers (spr-no-zmm lacks xcr0_opmask)");
	CU_ASSERT_EQUAL(cf_profile_dropped_text(pr, cf_profile_dropped_count(pr),
						text, sizeof(text)), CF_EINVAL);
	CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr, &json), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(json, strlen(json), "saved", &back,
					       &d), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_dropped_count(back), cf_profile_dropped_count(pr));
	for (size_t i = 0; i < cf_profile_dropped_count(pr); i++) {
		cf_profile_dropped_text(pr, i, text, sizeof(text));
		cf_profile_dropped_text(back, i, again, sizeof(again));
		CU_ASSERT_STRING_EQUAL(text, again);
	}
	CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(back, &json2), CF_OK);
	{
		cJSON *a = cJSON_Parse(json), *b = cJSON_Parse(json2);
		CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(a, "dropped")));
		CU_ASSERT_TRUE(cJSON_Compare(cJSON_GetObjectItem(a, "dropped"),
					     cJSON_GetObjectItem(b, "dropped"), 1));
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	free(json);
	free(json2);
	cf_profile_destroy(back);
	done(pr, rs);
}

/* Granite Rapids, and Sapphire Rapids as KVM reports it to a process that
 * did not ask for AMX permission: KVM_GET_SUPPORTED_CPUID masks XCR0 bit 18
 * (XTILEDATA, a dynamic component) by the caller's guest permission
 * (research/x86-kvm.md 1.1, arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM)) and
 * lists no sub-leaf 18, while leaf 7 keeps the AMX flags.  The tile state
 * is XCR0 bits 17 and 18 together (KVM __kvm_set_xcr refuses one without
 * the other; SDM Vol. 1 13.3), AMX-TILE owns it (QEMU x86_ext_save_areas
 * enables both components for amx-tile) and the AMX computation flags work
 * on its tiles: all of AMX goes, and with it the tile geometry leaves
 * 0x1D/0x1E, whose gates are closed.  AVX-512 stays. */
static void test_deps_x86_amx_without_tile_data(void)
{
	static const char *const amx[] = { "amx_tile", "amx_int8", "amx_bf16",
					   "amx_fp16", "xcr0_xtilecfg",
					   "xcr0_xtiledata" };
	struct cf_config *c = clone_of("x86/spr-05.json");
	struct cf_report *rs[2];
	struct cf_profile *pr;

	put(c, NULL, "xcr0_xtiledata", 0);
	for (unsigned reg = 0; reg < 4; reg++)
		cf_config_unset(c, CF_X86_CPUID_KEY(0xd, 18, reg));
	pr = pool_of("x86", rs, "x86/gnr-03.json", c, "spr-no-perm");
	flags_are(rs[1]->cfg, 1, "amx_tile", "amx_int8", NULL);
	for (size_t i = 0; i < sizeof(amx) / sizeof(amx[0]); i++)
		flags_are(pr->cfg, 0, amx[i], NULL);
	CU_ASSERT_TRUE(reads_zero(pr->cfg, CF_X86_CPUID_KEY(0x1d, 1, 0)));
	flags_are(pr->cfg, 1, "avx512f", "xcr0_hi16_zmm", NULL);
	done(pr, rs);
}

/* Bergamo (Zen 4c: PKRU state at offset 0x980, 8 bytes) and a Zen 2-like
 * host that keeps PKRU at offset 0x340 with 0x40 bytes (research/x86-kvm.md
 * 4.3: EPYC Rome; its AVX-512 state, which Rome lacks, removed so the
 * layout is consistent).  Both offer PKU and XCR0 bit 9, but the guest
 * cannot be given one layout of component 9 that both honour: the sub-leaf
 * differs, the baseline zeroes it, and a guest with XCR0[9] and a PKRU
 * component of size 0 has no place for PKRU in its XSAVE area (SDM Vol. 1
 * 13.4.3: the offset and size of each enabled component come from CPUID
 * 0xD.n).  So XCR0 bit 9 goes, and PKU, whose PKRU register is that state
 * component (QEMU x86_ext_save_areas: PKRU enabled exactly with pku). */
static void test_deps_x86_pkru_layout_differs(void)
{
	struct cf_config *c = clone_of("x86/bergamo-04.json");
	struct cf_report *rs[2];
	struct cf_profile *pr;

	for (size_t i = 0; i < sizeof(avx512) / sizeof(avx512[0]); i++)
		put(c, NULL, avx512[i], 0);
	no_avx512_state(c);
	set(c, CF_X86_CPUID_KEY(0xd, 9, 0), 0x40);
	set(c, CF_X86_CPUID_KEY(0xd, 9, 1), 0x340);
	pr = pool_of("x86", rs, "x86/bergamo-04.json", c, "rome-like");
	CU_ASSERT_EQUAL(get(rs[0]->cfg, NULL, "pku"), 1);
	CU_ASSERT_EQUAL(get(rs[1]->cfg, NULL, "xcr0_pkru"), 1);
	flags_are(pr->cfg, 0, "xcr0_pkru", "pku", NULL);
	CU_ASSERT_TRUE(reads_zero(pr->cfg, CF_X86_CPUID_KEY(0xd, 9, 1)));
	/* The AVX state's layout is the same on both: kept. */
	flags_are(pr->cfg, 1, "xcr0_avx", "avx2", NULL);
	done(pr, rs);
}

/* A host whose KVM offers nested VMX (vmx, 1.ECX[5], and the VMX
 * capability MSRs: IA32_VMX_BASIC with KVM's VMCS12 revision, the entry
 * controls) and one whose KVM does not (no vmx, no such MSRs): the guest
 * of the pool has no VMX, and the VMX capability MSRs exist only with it
 * (SDM Vol. 3 A.1; QEMU feature_dependencies: VMX -> the VMX feature
 * words), so their values need not agree: the pool has a baseline, with
 * none of them. */
static void test_deps_x86_nested_and_plain_hosts(void)
{
	struct cf_config *n = clone_of("x86/spr-05.json");
	struct cf_config *plain = clone_of("x86/spr-05.json");
	struct cf_report *rs[2];
	struct cf_profile *pr;

	put(n, NULL, "vmx", 1);
	set(n, CF_X86_MSR_KEY(0x480), 0x00da040000000004ULL);
	set(n, CF_X86_MSR_KEY(0x484), 0x0003ffff000011ffULL);
	put(plain, NULL, "vmx", 0);
	rs[0] = as_report(n, "spr-nested");
	rs[1] = as_report(plain, "spr-plain");
	pr = baseline_of("x86", rs, 2);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(get(pr->cfg, NULL, "vmx"), 0);
	CU_ASSERT_TRUE(reads_zero(pr->cfg, CF_X86_MSR_KEY(0x480)));
	CU_ASSERT_FALSE(refused_saying(pr, rs[0], "", NULL));
	CU_ASSERT_FALSE(refused_saying(pr, rs[1], "", NULL));
	done(pr, rs);
}

/* ---- x86: check refuses hand-made profiles ---- */

/* The host's own profile with EDIT applied, checked on the host the edit
 * was made to (so KVM itself would take every register). */
static struct cf_profile *own_edited(const char *rel, struct cf_report **host,
				     void (*edit)(struct cf_config *c))
{
	struct cf_config *c = clone_of(rel);
	struct cf_profile *pr = NULL;

	edit(c);
	*host = as_report(c, "edited");
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(*host, &pr), CF_OK);
	return pr;
}

static void no_avx(struct cf_config *c) { put(c, NULL, "avx", 0); }
static void no_opmask(struct cf_config *c) { put(c, NULL, "xcr0_opmask", 0); }
static void no_pkru(struct cf_config *c) { put(c, NULL, "xcr0_pkru", 0); }
static void no_tilecfg(struct cf_config *c) { put(c, NULL, "xcr0_xtilecfg", 0); }
/* Architectural LBRs (CPUID.(7,0):EDX[19]) keep their state in the
 * IA32_XSS LBR component, bit 15 (SDM Vol. 1 13.1, Vol. 3 18.1; QEMU
 * x86_ext_save_areas ARCH_LBR with arch-lbr). */
static void arch_lbr_without_state(struct cf_config *c)
{
	put(c, NULL, "arch_lbr", 1);
	put(c, NULL, "xss_lbr", 0);
}

/* VM-entry control "IA-32e mode guest" (bit 9, vmxfeatures.h/vmx.h
 * VM_ENTRY_IA32E_MODE) allowed in the nested VMX MSRs of a CPU model
 * without long mode: QEMU's feature_dependencies clear that control when
 * lm is off.  MSR 0x484 allowed-1 half is bits 63:32 (SDM Vol. 3 A.5). */
static void vmx_ia32e_without_lm(struct cf_config *c)
{
	put(c, NULL, "vmx", 1);
	set(c, CF_X86_MSR_KEY(0x484), (0x200ULL << 32) | 0x11ff);
	put(c, NULL, "lm", 0);
}

/* AVX2 without AVX (Linux cpuid-deps.c {AVX2, AVX}); AVX-512F without the
 * opmask state (SDM Vol. 1 15.2); PKU without XCR0 bit 9 (QEMU
 * x86_ext_save_areas); AMX-TILE without XTILECFG (SDM Vol. 1 13.3 and KVM
 * __kvm_set_xcr: XCR0[18:17] both or neither); the nested IA-32e entry
 * control without lm (QEMU feature_dependencies).  Each is refused on the
 * very host it came from, naming the feature and what it needs. */
static void test_deps_x86_check_refuses_hand_made(void)
{
	static const struct {
		const char *rel;
		void (*edit)(struct cf_config *c);
		const char *feature, *need;
	} cases[] = {
		{ "x86/spr-05.json", no_avx, "avx2", "avx" },
		{ "x86/spr-05.json", no_opmask, "avx512f", "opmask" },
		{ "x86/bergamo-04.json", no_pkru, "pku", "XCR0 bit 9" },
		{ "x86/gnr-03.json", no_tilecfg, "amx_tile", "XCR0 bits 17" },
		{ "x86/spr-05.json", arch_lbr_without_state, "arch_lbr",
		  "IA32_XSS bit 15" },
		{ "x86/spr-05.json", vmx_ia32e_without_lm, "IA32_VMX_ENTRY_CTLS",
		  "lm" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_report *host = NULL, *orig = test_load_report(cases[i].rel);
		struct cf_profile *pr = own_edited(cases[i].rel, &host,
						   cases[i].edit);
		CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
		refused_for(pr, host, cases[i].feature, cases[i].need);
		/* The unedited host's own profile breaks nothing. */
		cf_profile_destroy(pr);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(orig, &pr), CF_OK);
		CU_ASSERT_FALSE(refused_saying(pr, orig, "", NULL));
		cf_profile_destroy(pr);
		cf_report_destroy(host);
		cf_report_destroy(orig);
	}
}

/* ---- x86: x2APIC and TSC-deadline need an in-kernel local APIC ----
 *
 * x2APIC (CPUID.1:ECX[21]) and the TSC-deadline timer (CPUID.1:ECX[24])
 * work in a KVM guest only with a local APIC emulated in the kernel, which
 * the VMM gets from KVM_CREATE_IRQCHIP (capability KVM_CAP_IRQCHIP, api.rst
 * 4.24) or KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP) (api.rst 7.5: "Create a
 * local apic for each processor in the kernel ... instead of
 * KVM_CREATE_IRQCHIP"); api.rst "Known KVM API problems", "Local APIC
 * features": X2APIC "can only be enabled if KVM_CREATE_IRQCHIP or
 * KVM_ENABLE_CAP(KVM_CAP_IRQCHIP_SPLIT) are used"; QEMU
 * kvm_arch_get_supported_cpuid drops x2apic without an in-kernel irqchip
 * (commit 41e5e76db07b) and offers tsc-deadline only with one.  Either
 * capability will do.  The capability numbers are the kernel's
 * (<linux/kvm.h>); what KVM_CHECK_EXTENSION answered is a report's
 * kvm.caps, and apply enables what the profile's kvm.caps offer. */

/* C's report says KVM_CHECK_EXTENSION answered IRQ for KVM_CAP_IRQCHIP and
 * SPLIT for KVM_CAP_SPLIT_IRQCHIP. */
static void irqchips(struct cf_config *c, uint64_t irq, uint64_t split)
{
	CU_ASSERT_EQUAL_FATAL(cf_config_set_fixed(c, CF_CAP_KEY(KVM_CAP_IRQCHIP),
						  irq), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_config_set_fixed(c, CF_CAP_KEY(
				      KVM_CAP_SPLIT_IRQCHIP), split), CF_OK);
}

/* Is some entry of PR's dropped list a text with both words? */
static bool dropped_saying(const struct cf_profile *pr, const char *a,
			   const char *b)
{
	char text[CF_DROP_REASON_MAX];

	for (size_t i = 0; i < cf_profile_dropped_count(pr); i++) {
		cf_profile_dropped_text(pr, i, text, sizeof(text));
		if (strstr(text, a) && strstr(text, b))
			return true;
	}
	for (size_t i = 0; i < cf_profile_dropped_count(pr); i++) {
		cf_profile_dropped_text(pr, i, text, sizeof(text));
		fprintf(stderr, "\n  dropped[%zu]: %s", i, text);
	}
	fprintf(stderr, "\n  (no entry with %s and %s)\n", a, b);
	return false;
}

/* Sapphire Rapids as a KVM host reports it (on x86 KVM_CHECK_EXTENSION
 * answers 1 for both KVM_CAP_IRQCHIP and KVM_CAP_SPLIT_IRQCHIP,
 * arch/x86/kvm/x86.c kvm_vm_ioctl_check_extension), pooled with a copy
 * whose report says neither: the pool's guest cannot have an in-kernel
 * local APIC, so x2apic and tsc_deadline_timer go, each with a reason that
 * names the capabilities.  The rest of leaf 1 (tsc, sse4_2) stays.  With
 * a copy that offers only the split irqchip they stay. */
static void test_deps_x86_lapic_baseline(void)
{
	struct cf_config *a = clone_of("x86/spr-05.json");
	struct cf_config *b = clone_of("x86/spr-05.json");
	struct cf_config *s = clone_of("x86/spr-05.json");
	struct cf_report *rs[2];
	struct cf_profile *pr;

	irqchips(a, 1, 1);
	irqchips(b, 0, 0);
	irqchips(s, 0, 1);
	rs[0] = as_report(a, "spr-kvm");
	rs[1] = as_report(b, "spr-no-irqchip");
	flags_are(rs[1]->cfg, 1, "x2apic", "tsc_deadline_timer", NULL);
	pr = baseline_of("x86", rs, 2);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	flags_are(pr->cfg, 0, "x2apic", "tsc_deadline_timer", NULL);
	flags_are(pr->cfg, 1, "tsc", "sse4_2", NULL);
	CU_ASSERT_TRUE(dropped_saying(pr, "dropped x2apic", "KVM_CAP_IRQCHIP"));
	CU_ASSERT_TRUE(dropped_saying(pr, "dropped tsc_deadline_timer",
				      "KVM_CAP_SPLIT_IRQCHIP"));
	CU_ASSERT_TRUE(dropped_saying(pr, "dropped x2apic", "spr-no-irqchip"));
	/* Its guest runs on both. */
	CU_ASSERT_FALSE(refused_saying(pr, rs[0], "", NULL));
	CU_ASSERT_FALSE(refused_saying(pr, rs[1], "", NULL));
	cf_profile_destroy(pr);
	cf_report_destroy(rs[1]);
	rs[1] = as_report(s, "spr-split-only");
	pr = baseline_of("x86", rs, 2);
	flags_are(pr->cfg, 1, "x2apic", "tsc_deadline_timer", NULL);
	CU_ASSERT_EQUAL(cf_profile_dropped_count(pr), 0);
	done(pr, rs);
}

/* The reason check gives for PR on R, if one is of KIND and names both
 * words. */
static bool refused_kind(const struct cf_profile *pr, const struct cf_report *r,
			 enum cf_reason_kind kind, const char *a, const char *b)
{
	struct cf_verdict *v = cf_verdict_create();
	bool found = false;
	char text[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL_FATAL(cf_check(pr, r, v), CF_OK);
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++) {
		cf_verdict_reason_text(v, i, text, sizeof(text));
		if (cf_verdict_reason(v, i)->kind == kind && strstr(text, a) &&
		    strstr(text, b))
			found = true;
		else
			fprintf(stderr, "\n  %s: %s", cf_report_host_id(r), text);
	}
	cf_verdict_destroy(v);
	return found;
}

static void no_irqchip(struct cf_config *c) { irqchips(c, 0, 0); }
static void split_only(struct cf_config *c) { irqchips(c, 0, 1); }
static void full_irqchip(struct cf_config *c) { irqchips(c, 1, 0); }

/* A hand-made profile that keeps x2apic (and tsc_deadline_timer) while its
 * kvm.caps offer neither irqchip is refused, on the very host it came
 * from, as CF_REASON_DEPENDS naming x2apic and KVM_CAP_IRQCHIP; with
 * either capability it breaks nothing. */
static void test_deps_x86_lapic_check(void)
{
	struct cf_report *host = NULL;
	struct cf_profile *pr = own_edited("x86/spr-05.json", &host, no_irqchip);

	CU_ASSERT_TRUE(refused_kind(pr, host, CF_REASON_DEPENDS, "x2apic",
				    "KVM_CAP_IRQCHIP"));
	CU_ASSERT_TRUE(refused_kind(pr, host, CF_REASON_DEPENDS,
				    "tsc_deadline_timer", "KVM_CAP_SPLIT_IRQCHIP"));
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	pr = own_edited("x86/spr-05.json", &host, split_only);
	CU_ASSERT_FALSE(refused_saying(pr, host, "", NULL));
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	pr = own_edited("x86/spr-05.json", &host, full_irqchip);
	CU_ASSERT_FALSE(refused_saying(pr, host, "", NULL));
	cf_profile_destroy(pr);
	cf_report_destroy(host);
}

/* ---- arm64 ---- */

#define G3 "arm64/real-writable/graviton3.json"

/* Field values to put into a copy of a report; the list ends at a NULL
 * field. */
struct edit {
	const char *reg, *field;
	uint64_t v;
};

static void apply(struct cf_config *c, const struct edit *e)
{
	for (; e->field; e++)
		put(c, e->reg, e->field, e->v);
}



/* Pools of Graviton3 (Neoverse V1) and an edited copy of it, every field
 * writable (real-writable/), and the fields their baseline must have.
 *
 * graviton3-nosve: booted with SVE off (arm64.nosve: PFR0.SVE reads 0),
 * its dump still carrying the ZFR0 fields (BF16 and I8MM).  Linux reports
 * the ZFR0 features (SVE hwcaps) only when FEAT_SVE is present
 * (cpufeature.c has_sve_feature(), from "arm64: Filter out SVE hwcaps when
 * FEAT_SVE isn't implemented"): the guest without SVE sees ZFR0 at 0.
 * ISAR1's own BF16 (the Advanced SIMD form) needs no SVE and stays.
 *
 * graviton3-pauth1: APA 1 (FEAT_PAuth) where Graviton3 has 3 (FEAT_PAuth2,
 * QARMA5), GPA 1 on both.  APA combines exactly (FTR_EXACT in Linux
 * cpufeature.c, safe value 0): the baseline has APA 0, while GPA, a
 * lower-safe field, would stay 1.  Address and generic authentication go
 * together per algorithm: FEAT_PACQARMA5 is named by APA and GPA alike
 * (Arm ARM ID_AA64ISAR1_EL1), and KVM gives a vCPU pointer authentication
 * only with both PTRAUTH_ADDRESS and PTRAUTH_GENERIC (arch/arm64/kvm/arm.c,
 * system_has_full_ptr_auth()).  So GPA goes too. */
static void test_deps_arm64_baselines(void)
{
	static const struct {
		struct edit e[2];
		const char *id;
		struct { const char *reg, *field; uint64_t want; } f[4];
	} cases[] = {
		{ { { "ID_AA64PFR0_EL1", "SVE", 0 } }, "graviton3-nosve", {
			{ "ID_AA64PFR0_EL1", "SVE", 0 },
			{ "ID_AA64ZFR0_EL1", "BF16", 0 },
			{ "ID_AA64ZFR0_EL1", "I8MM", 0 },
			{ "ID_AA64ISAR1_EL1", "BF16", 1 } } },
		{ { { "ID_AA64ISAR1_EL1", "APA", 1 } }, "graviton3-pauth1", {
			{ "ID_AA64ISAR1_EL1", "APA", 0 },
			{ "ID_AA64ISAR1_EL1", "GPA", 0 } } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_config *c = clone_of(G3);
		struct cf_report *rs[2];
		struct cf_profile *pr;
		apply(c, cases[i].e);
		pr = pool_of("arm64", rs, G3, c, cases[i].id);
		CU_ASSERT_TRUE(cf_profile_feasible(pr));
		for (size_t k = 0; k < 4 && cases[i].f[k].reg; k++) {
			uint64_t got = get(pr->cfg, cases[i].f[k].reg,
					   cases[i].f[k].field);
			if (got != cases[i].f[k].want)
				fprintf(stderr, "\n  %s: %s.%s is %llu\n",
					cases[i].id, cases[i].f[k].reg,
					cases[i].f[k].field,
					(unsigned long long)got);
			CU_ASSERT_EQUAL(got, cases[i].f[k].want);
		}
		done(pr, rs);
	}
}

/* The same pair where userspace may change APA but not GPA (a KVM that
 * hid pointer authentication field by field; 6.12 lets userspace change
 * none of the four, research/arm64-kvm.md 2.4): APA still combines to 0,
 * and GPA, which has to go with it, cannot be hidden on the host that
 * fixes it: the pool has no safe baseline, and the conflict names GPA. */
static void test_deps_arm64_pauth_pair_fixed(void)
{
	struct cf_config *c = clone_of(G3);
	struct cf_report *rs[2];
	struct cf_profile *pr;
	uint64_t key;
	bool gpa = false;
	char text[512];

	put(c, "ID_AA64ISAR1_EL1", "APA", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(field_of(&cf_arm64_catalog,
					      "ID_AA64ISAR1_EL1", "GPA", &key));
	CU_ASSERT_EQUAL_FATAL(cf_config_set_writable(c, key,
						     ~0xf000000ULL), CF_OK);
	pr = pool_of("arm64", rs, G3, c, "graviton3-gpa-fixed");
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	for (size_t i = 0; i < cf_profile_conflict_count(pr); i++) {
		cf_profile_conflict_text(pr, i, text, sizeof(text));
		if (strstr(text, "ID_AA64ISAR1_EL1.GPA"))
			gpa = true;
	}
	CU_ASSERT_TRUE(gpa);
	done(pr, rs);
}





/* Hand-made arm64 profiles, each refused on the very host it came from:
 * SVE's ZFR0 features without FEAT_SVE (cpufeature.c has_sve_feature());
 * FEAT_SVE without FP (0xf: not implemented; the SVE Z registers extend
 * the FP/SIMD V registers, Arm ARM "SVE registers", and an SVE guest's
 * state is saved as a superset of its FPSIMD state); an SMFR0 field
 * without FEAT_SME (cpufeature.c has_sme_feature()); SMFR0 naming SME2
 * (SMEver 1) where PFR1.SME says SME 1 (both fields name FEAT_SME2 in the
 * Arm ARM); GPA without APA (the QARMA5 pair, as above). */
static void test_deps_arm64_check_refuses_hand_made(void)
{
	static const struct {
		struct edit e[3];
		const char *feature, *need;
	} cases[] = {
		{ { { "ID_AA64PFR0_EL1", "SVE", 0 } },
		  "ID_AA64ZFR0_EL1.BF16", "FEAT_SVE" },
		{ { { "ID_AA64PFR0_EL1", "FP", 0xf } }, "FEAT_SVE", "FEAT_FP" },
		{ { { "ID_AA64SMFR0_EL1", "FA64", 1 } }, "FEAT_SME_FA64",
		  "FEAT_SME" },
		{ { { "ID_AA64PFR1_EL1", "SME", 1 },
		    { "ID_AA64SMFR0_EL1", "SMEver", 1 } },
		  "ID_AA64SMFR0_EL1.SMEver", "FEAT_SME2" },
		{ { { "ID_AA64ISAR1_EL1", "APA", 0 } }, "ID_AA64ISAR1_EL1.GPA",
		  "ID_AA64ISAR1_EL1.APA" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_config *c = clone_of(G3);
		struct cf_report *host;
		struct cf_profile *pr = NULL;
		apply(c, cases[i].e);
		host = as_report(c, "edited");
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(host, &pr), CF_OK);
		refused_for(pr, host, cases[i].feature, cases[i].need);
		cf_profile_destroy(pr);
		cf_report_destroy(host);
	}
}

/* The real dumps are consistent: each host's own profile, and the
 * baselines of the real pools, break no rule (nothing to drop, nothing
 * refused on their own hosts). */
static void test_deps_real_hosts_consistent(void)
{
	static const char *const rels[] = {
		"x86/snb-ep.json", "x86/spr-05.json", "x86/gnr-03.json",
		"x86/bergamo-04.json", "x86/hygon-01.json",
		"arm64/real/altra.json", "arm64/real/graviton3.json",
		"arm64/real/cortex-a72.json", "fleet/n1-01.json",
		"fleet/v1-01.json", "fleet/a72-01.json",
	};

	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		struct cf_report *r = test_load_report(rels[i]);
		struct cf_profile *pr = NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &pr), CF_OK);
		if (refused_saying(pr, r, "", NULL))
			fprintf(stderr, "  %s\n", rels[i]);
		CU_ASSERT_FALSE(refused_saying(pr, r, "", NULL));
		cf_profile_destroy(pr);
		cf_report_destroy(r);
	}
}

/* The closure runs until nothing changes: idregs.txt lists the rule of
 * the SVE feature fields (ID_AA64ZFR0_EL1, meaningful only with FEAT_SVE)
 * before SVE's own (SVE needs FP and AdvSIMD: the Z registers extend the V
 * registers, Arm ARM), so Graviton3 (tests/data/arm64/real-writable: SVE 1,
 * ZFR0 0x100000100000) without FP and AdvSIMD (0xf: not implemented) loses
 * SVE in the first pass and its ZFR0 features only in the second. */
static void test_deps_closure_runs_to_a_fixed_point(void)
{
	struct cf_config *c = clone_of("arm64/real-writable/graviton3.json");
	struct cf_dep_drop *dd = NULL;
	uint64_t key = 0;
	size_t n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(field_of(c->arch->catalog, "ID_AA64ZFR0_EL1",
					      "BF16", &key));
	CU_ASSERT_EQUAL(get(c, "ID_AA64PFR0_EL1", "SVE"), 1);
	CU_ASSERT_FALSE(reads_zero(c, key));
	put(c, "ID_AA64PFR0_EL1", "FP", 0xf);
	put(c, "ID_AA64PFR0_EL1", "AdvSIMD", 0xf);
	CU_ASSERT_EQUAL(cf_deps_close(c, &dd, &n), CF_OK);
	CU_ASSERT_EQUAL(get(c, "ID_AA64PFR0_EL1", "SVE"), 0);
	CU_ASSERT_TRUE(reads_zero(c, key));
	free(dd);
	cf_config_unref(c);
}

CU_TestInfo deps_tests[] = {
	TEST(test_deps_closure_runs_to_a_fixed_point),
	TEST(test_deps_x86_xcr0_lacks_avx512_state),
	TEST(test_deps_dropped_said_and_kept),
	TEST(test_deps_x86_amx_without_tile_data),
	TEST(test_deps_x86_pkru_layout_differs),
	TEST(test_deps_x86_nested_and_plain_hosts),
	TEST(test_deps_x86_check_refuses_hand_made),
	TEST(test_deps_x86_lapic_baseline),
	TEST(test_deps_x86_lapic_check),
	TEST(test_deps_arm64_baselines),
	TEST(test_deps_arm64_pauth_pair_fixed),
	TEST(test_deps_arm64_check_refuses_hand_made),
	TEST(test_deps_real_hosts_consistent),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_deps = { "deps", NULL, NULL, NULL, NULL, deps_tests };
