/* x86: the catalogue on real CPUID dumps (tests/data/x86, converted from
 * InstLatx64), golden baselines, the vendor and TSC rules, absent leaves,
 * psABI levels, and property tests over random pools of mutated real hosts:
 * every host accepts the baseline, the baseline is maximal (a flag is kept
 * iff every host has it, a count is the minimum) and inverted flags are
 * never lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/x86.h"
#include "arch/x86/x86_catalog.h"
#include "arch/x86/vmm.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "profiles/doc.h"
#include "tests/unit/suites.h"

static const char *const intel[] = { "x86/snb-ep.json", "x86/spr-05.json",
				     "x86/gnr-03.json" };

static struct cf_profile *baseline_of(struct cf_report **rs, size_t n)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("x86", &p), CF_OK);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, rs[i], &d), CF_OK);
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

/* The value of flag field NAME in CFG: 1, 0, or -1 if the catalogue has no
 * such flag. */
static int flag(const struct cf_config *cfg, const char *name)
{
	uint64_t key, v = 0;
	const struct cf_field *f = cf_catalog_field_named(&cf_x86_catalog, name,
							   &key);

	if (!f)
		return -1;
	cf_config_get(cfg, key, &v, NULL);
	return (int)((v >> f->shift) & 1);
}

static bool all_compatible(const struct cf_profile *pr, struct cf_report **rs,
			   size_t n)
{
	struct cf_verdict *v = cf_verdict_create();
	bool ok = v != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		ok = cf_check(pr, rs[i], v) == CF_OK && cf_verdict_compatible(v);
		if (!ok && v && cf_verdict_reason_count(v)) {
			char t[512];
			cf_verdict_reason_text(v, 0, t, sizeof(t));
			fprintf(stderr, "\n  %s: %s\n", cf_report_host_id(rs[i]), t);
		}
	}
	cf_verdict_destroy(v);
	return ok;
}

static void test_x86_dumps_load_with_their_levels(void)
{
	static const struct { const char *file, *vendor, *level; } want[] = {
		{ "x86/snb-ep.json", "GenuineIntel", "x86-64-v2" },
		{ "x86/spr-05.json", "GenuineIntel", "x86-64-v4" },
		{ "x86/gnr-03.json", "GenuineIntel", "x86-64-v4" },
		{ "x86/bergamo-04.json", "AuthenticAMD", "x86-64-v4" },
		{ "x86/hygon-01.json", "HygonGenuine", "x86-64-v3" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct cf_report *r = test_load_report(want[i].file);
		struct cf_profile *own = NULL;
		char vendor[16], level[32], missing[256];
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_STRING_EQUAL(cf_report_arch(r), "x86");
		CU_ASSERT_TRUE(cf_x86_vendor(r->cfg, vendor, sizeof(vendor)));
		CU_ASSERT_STRING_EQUAL(vendor, want[i].vendor);
		CU_ASSERT_EQUAL(cf_profile_from_report(r, &own), CF_OK);
		CU_ASSERT_EQUAL(cf_x86_profile_level(own, level, sizeof(level),
						     missing, sizeof(missing)),
				CF_OK);
		CU_ASSERT_STRING_EQUAL(level, want[i].level);
		cf_profile_destroy(own);
		cf_report_destroy(r);
	}
}

/* The richest libvirt named model of each dump, by a hand check against
 * libvirt 9.0.0's CPU map (/usr/share/libvirt/cpu_map, x86_<Model>.xml and
 * x86_features.xml), not by cpufleet: the model has every feature of its
 * file set in the dump, and the richer models (more features) each lack
 * one, named here with its bit.  tests/x86/libvirt_models.py makes the same
 * judgement from the XML for `make cli-test`.
 *   snb-ep:  SandyBridge (38 features); SandyBridge-IBRS (39) needs
 *            spec-ctrl, CPUID.(7,0):EDX[26], clear in the dump (taken
 *            before the IBRS microcode).
 *   spr-05, gnr-03: Cooperlake (83); Icelake-Server (86) and
 *            Icelake-Server-noTSX (84) need mpx, CPUID.(7,0):EBX[14], which
 *            Intel dropped after Ice Lake; every richer Intel model needs
 *            mpx or more.
 *   bergamo-04: EPYC-Milan (85), the richest AMD model of 9.0.0.
 *   hygon-01: Dhyana (64); EPYC (66) and EPYC-IBPB (67) name vendor AMD,
 *            and the dump's vendor is HygonGenuine. */
static void test_x86_named_models(void)
{
	static const struct { const char *file, *model; } want[] = {
		{ "x86/snb-ep.json", "SandyBridge" },
		{ "x86/spr-05.json", "Cooperlake" },
		{ "x86/gnr-03.json", "Cooperlake" },
		{ "x86/bergamo-04.json", "EPYC-Milan" },
		{ "x86/hygon-01.json", "Dhyana" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct cf_report *r = test_load_report(want[i].file);
		struct cf_profile *own = NULL;
		char name[64], source[64];
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(cf_profile_from_report(r, &own), CF_OK);
		CU_ASSERT_EQUAL(cf_x86_profile_model(own, name, sizeof(name),
						     source, sizeof(source)),
				CF_OK);
		CU_ASSERT_STRING_EQUAL(name, want[i].model);
		CU_ASSERT_STRING_EQUAL(source, "libvirt 9.0.0 cpu_map");
		cf_profile_destroy(own);
		cf_report_destroy(r);
	}
}

/* The rule on a table of our own, over snb-ep (fpu is CPUID.1:EDX[0], sse
 * EDX[25], sse2 EDX[26], avx2 CPUID.(7,0):EBX[5], clear on Sandy Bridge):
 * the model with more bits wins; of equals the later; a model naming
 * another vendor, or one bit the host lacks, never. */
static void test_x86_named_model_rule(void)
{
	static const struct cf_x86_vmm_name names[] = {
		{ CF_X86_CPUID_KEY(1, 0, 3), 0, "fpu", false },
		{ CF_X86_CPUID_KEY(1, 0, 3), 25, "sse", false },
		{ CF_X86_CPUID_KEY(1, 0, 3), 26, "sse2", false },
		{ CF_X86_CPUID_KEY(7, 0, 1), 5, "avx2", false },
	};
	static const struct cf_x86_vmm_vendor vendors[] = {
		{ "Intel", "GenuineIntel" }, { "AMD", "AuthenticAMD" },
	};
	static const uint16_t f2a[] = { 0, 1 }, f2b[] = { 1, 2 },
			      f3amd[] = { 0, 1, 2 }, f3avx2[] = { 0, 1, 3 };
	struct cf_x86_vmm_model models[] = {
		{ "two-a", NULL, true, NULL, 0, f2a, 2 },
		{ "two-b", "Intel", true, NULL, 0, f2b, 2 },
		{ "three-amd", "AMD", true, NULL, 0, f3amd, 3 },
		{ "three-avx2", NULL, true, NULL, 0, f3avx2, 3 },
	};
	struct cf_x86_vmm v = { "test", names, 4, vendors, 2, models, 4, "0" };
	struct cf_report *r = test_load_report("x86/snb-ep.json");
	const struct cf_x86_vmm_model *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	m = cf_x86_vmm_richest(&v, r->cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->name, "two-b");
	/* The same two in the other order: the later one again. */
	models[0].name = "two-b'";
	models[1].name = "two-a'";
	models[0].feat = f2b;
	models[1].feat = f2a;
	models[1].vendor = NULL;
	m = cf_x86_vmm_richest(&v, r->cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->name, "two-a'");
	/* On Bergamo (AuthenticAMD, AVX2: CPUID.(7,0):EBX = 0xf1bf97a9, bit 5
	 * set) both threes fit and beat the twos; of the two threes the
	 * later. */
	cf_report_destroy(r);
	r = test_load_report("x86/bergamo-04.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	m = cf_x86_vmm_richest(&v, r->cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->name, "three-avx2");
	models[3].feat = f2a;
	models[3].nfeat = 2;
	m = cf_x86_vmm_richest(&v, r->cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->name, "three-amd");
	cf_report_destroy(r);
}

/* The three Intel generations: feasible, accepted by each, and equal to the
 * golden profile.  The golden file is an expectation, never regenerated with
 * cpufleet: tests/data/x86/golden/README.md says where each value comes from
 * and tests/gen/golden.py derives its feature bits again without the engine;
 * a change to it is reviewed by hand. */
static void test_x86_baseline_intel_golden(void)
{
	struct cf_report *rs[3];
	struct cf_profile *pr;
	char *json = NULL, *golden = NULL;
	size_t len;
	struct cf_diag d;

	for (size_t i = 0; i < 3; i++) {
		rs[i] = test_load_report(intel[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rs[i]);
	}
	pr = baseline_of(rs, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(all_compatible(pr, rs, 3));
	/* Sandy Bridge bounds it: AVX and AES stay, AVX2 and AVX-512 go. */
	CU_ASSERT_EQUAL(flag(pr->cfg, "avx"), 1);
	CU_ASSERT_EQUAL(flag(pr->cfg, "aes"), 1);
	CU_ASSERT_EQUAL(flag(pr->cfg, "pclmulqdq"), 1);
	CU_ASSERT_EQUAL(flag(pr->cfg, "avx2"), 0);
	CU_ASSERT_EQUAL(flag(pr->cfg, "avx512f"), 0);
	CU_ASSERT_EQUAL(flag(pr->cfg, "xcr0_opmask"), 0);
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &json), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_doc_read_file("tests/data/x86/golden/intel.json",
					       &golden, &len, &d), CF_OK);
	/* The golden file ends with a newline, the JSON text does not. */
	CU_ASSERT_TRUE(json && len == strlen(json) + 1 &&
		       !strncmp(golden, json, strlen(json)));
	free(json);
	free(golden);
	cf_profile_destroy(pr);
	for (size_t i = 0; i < 3; i++)
		cf_report_destroy(rs[i]);
}

static void test_x86_vendors_never_share_a_pool(void)
{
	struct cf_report *rs[2] = { test_load_report("x86/spr-05.json"),
				    test_load_report("x86/bergamo-04.json") };
	struct cf_profile *pr;
	char t[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[1]);
	pr = baseline_of(rs, 2);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(cf_profile_conflict_text(pr, 0, t, sizeof(t)), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "hosts of different vendors never "
				      "share a pool: spr-05 is GenuineIntel, "
				      "bergamo-04 is AuthenticAMD"));
	cf_profile_destroy(pr);
	cf_report_destroy(rs[0]);
	cf_report_destroy(rs[1]);
}

/* A host named ID: leaf 0 of VENDOR, leaf 1 ECX, an optional leaf 0x24 and
 * a TSC (khz 0: none).  Leaf 1 EDX holds FPU, FXSR, SSE and SSE2 (bits 0,
 * 24-26), which the SSE3 of the ECX values below needs (Linux
 * cpuid-deps.c). */
static struct cf_report *host(const char *id, const char *ecx1, bool leaf24,
			      unsigned khz, bool scaling)
{
	char body[1024], tsc[96] = "";

	if (khz)
		snprintf(tsc, sizeof(tsc), ",\"tsc_khz\":%u,\"tsc_scaling\":%s",
			 khz, scaling ? "true" : "false");
	snprintf(body, sizeof(body),
		 "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"%s\","
		 "\"arch\":\"x86\"},\"x86\":{\"cpuid\":["
		 "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0x24\","
		 "\"ebx\":\"0x756e6547\",\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\"},"
		 "{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"eax\":\"0x806f8\","
		 "\"ebx\":\"0x0\",\"ecx\":\"%s\",\"edx\":\"0x7000001\"}%s]%s}}",
		 id, ecx1, leaf24 ? ",{\"leaf\":\"0x24\",\"subleaf\":\"0x0\","
		 "\"eax\":\"0x0\",\"ebx\":\"0x70001\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}"
		 : "", tsc);
	struct cf_report *r = NULL;
	struct cf_diag d;
	if (cf_report_parse(body, strlen(body), id, &r, &d) != CF_OK)
		fprintf(stderr, "\n  %s: %s\n", id, d.msg);
	return r;
}

/* A leaf one host lacks reads as zero there: no conflict, the leaf's
 * features are simply not in the baseline. */
static void test_x86_absent_leaf_is_zero(void)
{
	struct cf_report *rs[2] = { host("a", "0x1", true, 0, false),
				    host("b", "0x3", false, 0, false) };
	struct cf_profile *pr;
	uint64_t v = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[1]);
	pr = baseline_of(rs, 2);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(all_compatible(pr, rs, 2));
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, CF_X86_CPUID_KEY(0x24, 0, 1), &v,
				     NULL));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(flag(pr->cfg, "pni"), 1);  /* 1.ECX bit 0 on both */
	cf_profile_destroy(pr);
	cf_report_destroy(rs[0]);
	cf_report_destroy(rs[1]);
}

static size_t tsc_conflicts(struct cf_report **rs, size_t n, uint64_t *khz)
{
	struct cf_profile *pr = baseline_of(rs, n);
	size_t c = cf_profile_conflict_count(pr);

	*khz = 0;
	cf_config_get_fact(pr->cfg, "TSC_KHZ", khz);
	if (c == 0)
		CU_ASSERT_TRUE(all_compatible(pr, rs, n));
	cf_profile_destroy(pr);
	return c;
}

/* A host without TSC scaling runs a guest only at its own rate, within
 * KVM's 250 ppm; one with scaling runs it at any. */
static void test_x86_tsc_rate(void)
{
	struct cf_report *a = host("a", "0x1", false, 2300000, false);
	struct cf_report *near = host("near", "0x1", false, 2300500, false);
	struct cf_report *far = host("far", "0x1", false, 2400000, false);
	struct cf_report *sc = host("sc", "0x1", false, 2400000, true);
	struct cf_report *rs[2];
	uint64_t khz;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(near);
	CU_ASSERT_PTR_NOT_NULL_FATAL(far);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	rs[0] = a, rs[1] = near;   /* 217 ppm apart */
	CU_ASSERT_EQUAL(tsc_conflicts(rs, 2, &khz), 0);
	CU_ASSERT_TRUE(khz == 2300000 || khz == 2300500);
	rs[1] = far;               /* 4.3% apart, neither scales */
	CU_ASSERT_EQUAL(tsc_conflicts(rs, 2, &khz), 1);
	rs[1] = sc;                /* the scaling host runs a's rate */
	CU_ASSERT_EQUAL(tsc_conflicts(rs, 2, &khz), 0);
	CU_ASSERT_EQUAL(khz, 2300000);
	cf_report_destroy(a);
	cf_report_destroy(near);
	cf_report_destroy(far);
	cf_report_destroy(sc);
}

/* The named level profiles agree with the level show computes: a host runs
 * x86-64-vN exactly when its own level is vN or above. */
static void test_x86_level_profiles(void)
{
	static const char *const files[] = {
		"x86/snb-ep.json", "x86/spr-05.json", "x86/gnr-03.json",
		"x86/bergamo-04.json", "x86/hygon-01.json",
	};
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *lp = NULL;

	CU_ASSERT_EQUAL(cf_x86_level_profile("x86-64-v5", &lp), CF_ENOTFOUND);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct cf_report *r = test_load_report(files[i]);
		struct cf_profile *own = NULL;
		char level[32], missing[256];
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &own), CF_OK);
		cf_x86_profile_level(own, level, sizeof(level), missing,
				     sizeof(missing));
		for (size_t l = 0; l < cf_x86_nlevels; l++) {
			bool reaches = strcmp(level, cf_x86_levels[l].name) >= 0;
			CU_ASSERT_EQUAL_FATAL(cf_x86_level_profile(
				cf_x86_levels[l].name, &lp), CF_OK);
			CU_ASSERT_EQUAL(cf_check(lp, r, v), CF_OK);
			CU_ASSERT_EQUAL(cf_verdict_compatible(v), reaches);
			cf_profile_destroy(lp);
		}
		cf_profile_destroy(own);
		cf_report_destroy(r);
	}
	cf_verdict_destroy(v);
}

/* Cross-register rules after intersection: invariant TSC only with a TSC
 * rate, Processor Trace only with its leaf, and no leaf beyond its range's
 * maximum. */
static void test_x86_finish_rules(void)
{
	struct cf_report *rs[2] = { test_load_report("x86/spr-05.json"),
				    test_load_report("x86/gnr-03.json") };
	struct cf_profile *pr;
	uint64_t max = 0;
	bool beyond = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs[1]);
	CU_ASSERT_EQUAL(flag(rs[0]->cfg, "invtsc"), 1);
	CU_ASSERT_EQUAL(flag(rs[0]->cfg, "intel_pt"), 1);
	pr = baseline_of(rs, 2);
	CU_ASSERT_TRUE_FATAL(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(flag(pr->cfg, "invtsc"), 0);   /* no tsc_khz */
	CU_ASSERT_EQUAL(flag(pr->cfg, "intel_pt"), 0); /* leaf 0x14 zeroed */
	CU_ASSERT_EQUAL(flag(pr->cfg, "avx512f"), 1);
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, CF_X86_CPUID_KEY(0, 0, 0), &max,
				     NULL));
	for (size_t i = 0; i < pr->cfg->ncat; i++) {
		uint64_t k = pr->arch->catalog->regs[i].key;
		if (pr->cfg->present[i] && CF_X86_IS_CPUID(k) &&
		    CF_X86_LEAF(k) < 0x40000000u && CF_X86_LEAF(k) > max)
			beyond = true;
	}
	CU_ASSERT_FALSE(beyond);
	CU_ASSERT_TRUE(all_compatible(pr, rs, 2));
	cf_profile_destroy(pr);
	cf_report_destroy(rs[0]);
	cf_report_destroy(rs[1]);
}

/* Leaf 1, which every report carries (KVM reports it on every host): a
 * Cascade Lake signature (Firecracker's fingerprint), no features. */
#define LEAF1 "{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"eax\":\"0x50657\"," \
	      "\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"},"

/* An Intel host ID whose XCR0 support (CPUID 0xD.0 EAX) is XCR0 and, when
 * BNDREGS_OFF is non-zero, which lists XSAVE sub-leaves 3 and 4 (MPX's
 * BNDREGS and BNDCSR: 64 bytes each, BNDCSR at 0x400, BNDREGS at
 * BNDREGS_OFF; 0x3c0 on Intel, as in Firecracker's Cascade Lake
 * fingerprint and research/x86-kvm.md §4.3). */
static struct cf_report *xsave_host(const char *id, unsigned xcr0,
				    unsigned bndregs_off)
{
	char body[1024], mpx[256] = "";
	struct cf_report *r = NULL;
	struct cf_diag d;

	if (bndregs_off)
		snprintf(mpx, sizeof(mpx),
			 ",{\"leaf\":\"0xd\",\"subleaf\":\"0x3\",\"eax\":\"0x40\","
			 "\"ebx\":\"0x%x\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}"
			 ",{\"leaf\":\"0xd\",\"subleaf\":\"0x4\",\"eax\":\"0x40\","
			 "\"ebx\":\"0x400\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}",
			 bndregs_off);
	snprintf(body, sizeof(body),
		 "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"%s\","
		 "\"arch\":\"x86\"},\"x86\":{\"cpuid\":["
		 "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0xd\","
		 "\"ebx\":\"0x756e6547\",\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\"},"
		 LEAF1
		 "{\"leaf\":\"0xd\",\"subleaf\":\"0x0\",\"eax\":\"0x%x\","
		 "\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}%s]}}",
		 id, xcr0, mpx);
	if (cf_report_parse(body, strlen(body), id, &r, &d) != CF_OK)
		fprintf(stderr, "\n  %s: %s\n", id, d.msg);
	return r;
}

/* True if the verdict of PR on R names register REG. */
static bool names_reg(const struct cf_profile *pr, const struct cf_report *r,
		      const char *reg)
{
	struct cf_verdict *v = cf_verdict_create();
	bool found = false;

	CU_ASSERT_EQUAL_FATAL(cf_check(pr, r, v), CF_OK);
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		found |= !strcmp(cf_verdict_reason(v, i)->reg, reg);
	cf_verdict_destroy(v);
	return found;
}

/* SDM Vol. 2A, CPUID leaf 0DH: sub-leaf n (n >= 2) is invalid, all zero,
 * when neither 0xD.0 EAX/EDX (XCR0) nor 0xD.1 ECX/EDX (IA32_XSS) has bit n;
 * such a component cannot be enabled, so its layout means nothing.  A
 * profile without XCR0 bits 3 and 4 (MPX, 0x2e7 as Firecracker's T2CL
 * leaves a Cascade Lake guest) runs where sub-leaves 3 and 4 are absent
 * (Ice Lake: XCR0 0x2e7) or laid out otherwise; with the bits the sub-leaves
 * are judged as before. */
static void test_x86_gated_xsave_subleaf(void)
{
	struct cf_report *guest = xsave_host("cl-t2cl", 0x2e7, 0x3c0);
	struct cf_report *mpx = xsave_host("cl", 0x2ff, 0x3c0);
	struct cf_report *il = xsave_host("il", 0x2e7, 0);
	struct cf_report *other = xsave_host("other", 0x2ff, 0x380);
	struct cf_profile *pr = NULL;
	struct cf_report *rs[1];
	uint64_t v = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(guest);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mpx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(il);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	/* The gate closed: not judged, whatever the host has there. */
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(guest, &pr), CF_OK);
	CU_ASSERT_FALSE(names_reg(pr, il, "CPUID_0000000D_3_EAX"));
	CU_ASSERT_FALSE(names_reg(pr, il, "CPUID_0000000D_4_EBX"));
	CU_ASSERT_TRUE(all_compatible(pr, &il, 1));
	CU_ASSERT_TRUE(all_compatible(pr, &other, 1));
	cf_profile_destroy(pr);
	/* The gate open: a host without the component, or with another
	 * layout of it, is refused at the sub-leaf. */
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(mpx, &pr), CF_OK);
	CU_ASSERT_TRUE(names_reg(pr, il, "CPUID_0000000D_3_EBX"));
	CU_ASSERT_TRUE(names_reg(pr, other, "CPUID_0000000D_3_EBX"));
	CU_ASSERT_FALSE(names_reg(pr, other, "CPUID_0000000D_4_EBX"));
	CU_ASSERT_TRUE(all_compatible(pr, &mpx, 1));
	cf_profile_destroy(pr);
	/* The baseline clears a sub-leaf whose component it leaves out and
	 * keeps one it keeps. */
	rs[0] = guest;
	pr = baseline_of(rs, 1);
	CU_ASSERT_TRUE(!cf_config_get(pr->cfg, CF_X86_CPUID_KEY(0xd, 3, 1), &v,
				      NULL) || v == 0);
	cf_profile_destroy(pr);
	rs[0] = mpx;
	pr = baseline_of(rs, 1);
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, CF_X86_CPUID_KEY(0xd, 3, 1), &v,
				     NULL) && v == 0x3c0);
	cf_profile_destroy(pr);
	cf_report_destroy(guest);
	cf_report_destroy(mpx);
	cf_report_destroy(il);
	cf_report_destroy(other);
}

/* ---- properties over random pools of mutated real hosts ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* BASE with some flags cleared, inverted flags set and counts lowered. */
static struct cf_report *mutate(const struct cf_report *base, int id)
{
	const struct cf_catalog *cat = &cf_x86_catalog;
	struct cf_config *c = NULL;
	struct cf_report *r = NULL;
	char name[32];

	CU_ASSERT_EQUAL_FATAL(cf_config_clone(base->cfg, &c), CF_OK);
	for (size_t i = 0; i < cat->nregs; i++) {
		if (!c->present[i])
			continue;
		for (int f = 0; f < cat->regs[i].nfields; f++) {
			const struct cf_field *fd = &cat->regs[i].fields[f];
			uint64_t m = cf_field_mask(fd), fv;
			if (rnd() % 100 >= 15)
				continue;
			fv = cf_field_raw(fd, c->val[i]);
			if (fd->policy == CF_POL_LOWER && fd->width == 1)
				fv = 0;                      /* a flag lost */
			else if (fd->policy == CF_POL_HIGHER && fd->width == 1)
				fv = 1;                      /* a weakness */
			else if (fd->policy == CF_POL_LOWER && fv)
				fv = rnd() % fv;             /* a smaller count */
			c->val[i] = (c->val[i] & ~m) | ((fv << fd->shift) & m);
		}
	}
	cf_config_seal(c);
	snprintf(name, sizeof(name), "m%d", id);
	CU_ASSERT_EQUAL_FATAL(cf_report_create(name, c, &r), CF_OK);
	return r;
}

/* An Intel host ID with maximum basic leaf MAXLEAF, leaf 7.0 EAX (highest
 * subleaf) MAX7 and the further CPUID entries MORE (JSON, each starting
 * with a comma). */
static struct cf_report *leaves_host(const char *id, unsigned maxleaf,
				     unsigned max7, const char *more)
{
	char body[2048];
	struct cf_report *r = NULL;
	struct cf_diag d;

	snprintf(body, sizeof(body),
		 "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"%s\","
		 "\"arch\":\"x86\"},\"x86\":{\"cpuid\":["
		 "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0x%x\","
		 "\"ebx\":\"0x756e6547\",\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\"},"
		 LEAF1
		 "{\"leaf\":\"0x7\",\"subleaf\":\"0x0\",\"eax\":\"0x%x\","
		 "\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}%s]}}",
		 id, maxleaf, max7, more);
	if (cf_report_parse(body, strlen(body), id, &r, &d) != CF_OK)
		fprintf(stderr, "\n  %s: %s\n", id, d.msg);
	return r;
}

/* The highest leaf and subleaf numbers are the guest's own: KVM answers
 * CPUID from the table the VMM gives it, a leaf above the maximum from
 * that table too (arch/x86/kvm/cpuid.c, kvm_cpuid and
 * get_out_of_range_cpuid_entry), whatever the host's KVM reports.  What
 * a host must offer is the content of each leaf: a guest listing leaves up
 * to 0x1B and 7.2 runs on a host whose KVM stops at 0x16 and 7.0 (Ice Lake
 * and Cascade Lake in Firecracker's fingerprints) when those leaves are
 * zero, and is refused at a leaf that holds something. */
static void test_x86_leaf_maxima_are_the_guests(void)
{
	static const char zeros[] =
		",{\"leaf\":\"0x7\",\"subleaf\":\"0x1\",\"eax\":\"0x0\","
		"\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}"
		",{\"leaf\":\"0x1b\",\"subleaf\":\"0x0\",\"eax\":\"0x0\","
		"\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}";
	/* 7.1 EAX[4] AVX-VNNI (SDM Vol. 2A leaf 07H); leaf 0x19 EBX[0]
	 * AESKLE (Key Locker, leaf 19H). */
	static const char vnni[] =
		",{\"leaf\":\"0x7\",\"subleaf\":\"0x1\",\"eax\":\"0x10\","
		"\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}";
	static const char kl[] =
		",{\"leaf\":\"0x19\",\"subleaf\":\"0x0\",\"eax\":\"0x0\","
		"\"ebx\":\"0x1\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}";
	struct cf_report *il = leaves_host("il", 0x1b, 2, zeros);
	struct cf_report *il_vnni = leaves_host("il-vnni", 0x1b, 2, vnni);
	struct cf_report *il_kl = leaves_host("il-kl", 0x1b, 2, kl);
	struct cf_report *cl = leaves_host("cl", 0x16, 0, "");
	struct cf_profile *pr = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(il);
	CU_ASSERT_PTR_NOT_NULL_FATAL(il_vnni);
	CU_ASSERT_PTR_NOT_NULL_FATAL(il_kl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(il, &pr), CF_OK);
	CU_ASSERT_TRUE(all_compatible(pr, &cl, 1));
	cf_profile_destroy(pr);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(il_vnni, &pr), CF_OK);
	CU_ASSERT_TRUE(names_reg(pr, cl, "CPUID_00000007_1_EAX"));
	CU_ASSERT_FALSE(names_reg(pr, cl, "CPUID_00000000_0_EAX"));
	cf_profile_destroy(pr);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(il_kl, &pr), CF_OK);
	CU_ASSERT_TRUE(names_reg(pr, cl, "CPUID_00000019_0_EBX"));
	cf_profile_destroy(pr);
	cf_report_destroy(il);
	cf_report_destroy(il_vnni);
	cf_report_destroy(il_kl);
	cf_report_destroy(cl);
}

/* False if CPUID register KEY describes a feature the configuration C
 * lacks, so that the register is invalid (all zero) for it: an XSAVE
 * component sub-leaf n >= 2 without bit n in XCR0 (0xD.0 EDX:EAX) or
 * IA32_XSS (0xD.1 EDX:ECX) (SDM Vol. 2A CPUID leaf 0DH); SGX's leaf 0x12
 * without sgx and PT's 0x14 without intel_pt (SDM Vol. 3D, Vol. 3C); AMX's
 * 0x1D and 0x1E without amx_tile and XCR0 bit 18, AVX10's 0x24 without
 * avx10, SVM's 0x8000000A without svm (KVM arch/x86/kvm/cpuid.c zeroes
 * each without its feature).  Likewise the feature MSRs a flag enumerates:
 * IA32_ARCH_CAPABILITIES with 7.0 EDX[29] (SDM Vol. 2A CPUID leaf 07H),
 * IA32_PERF_CAPABILITIES with PDCM, 1.ECX[15] (leaf 01H), the VMX
 * capability MSRs 0x480-0x492 with VMX, 1.ECX[5] (SDM Vol. 3 A.1). */
static bool describes_kept_feature(const struct cf_config *c, uint64_t key)
{
	uint32_t leaf = CF_X86_LEAF(key), sub = CF_X86_SUB(key);
	uint64_t lo = 0, hi = 0, xcr0, xss;

	if (CF_X86_IS_MSR(key)) {
		uint32_t idx = (uint32_t)key;
		if (idx == 0x10a)
			return flag(c, "arch_capabilities") == 1;
		if (idx == 0x345)
			return flag(c, "pdcm") == 1;
		if (idx >= 0x480 && idx <= 0x492)
			return flag(c, "vmx") == 1;
		return true;
	}
	if (!CF_X86_IS_CPUID(key))
		return true;
	cf_config_get(c, CF_X86_CPUID_KEY(0xd, 0, 0), &lo, NULL);
	cf_config_get(c, CF_X86_CPUID_KEY(0xd, 0, 3), &hi, NULL);
	xcr0 = hi << 32 | lo;
	lo = hi = 0;
	cf_config_get(c, CF_X86_CPUID_KEY(0xd, 1, 2), &lo, NULL);
	cf_config_get(c, CF_X86_CPUID_KEY(0xd, 1, 3), &hi, NULL);
	xss = hi << 32 | lo;
	switch (leaf) {
	case 0xd:
		return sub < 2 || sub > 63 || ((xcr0 | xss) >> sub & 1);
	case 0x12:
		return flag(c, "sgx") == 1;
	case 0x14:
		return flag(c, "intel_pt") == 1;
	case 0x1d:
	case 0x1e:
		return flag(c, "amx_tile") == 1 || (xcr0 >> 18 & 1);
	case 0x24:
		return flag(c, "avx10") == 1;
	case 0x8000000a:
		return flag(c, "svm") == 1;
	}
	return true;
}

static void test_x86_property_random_pools(void)
{
	const struct cf_catalog *cat = &cf_x86_catalog;
	struct cf_report *base[3];
	size_t checked_flags = 0, checked_inverted = 0;

	for (size_t i = 0; i < 3; i++) {
		base[i] = test_load_report(intel[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(base[i]);
	}
	for (int round = 0; round < 200; round++) {
		size_t n = 2 + rnd() % 4;
		struct cf_report *rs[5];
		struct cf_profile *pr;
		for (size_t h = 0; h < n; h++)
			rs[h] = mutate(base[rnd() % 3], (int)h);
		pr = baseline_of(rs, n);
		CU_ASSERT_TRUE_FATAL(cf_profile_feasible(pr));
		CU_ASSERT_TRUE(all_compatible(pr, rs, n));
		for (size_t i = 0; i < cat->nregs; i++) {
			uint64_t pv = 0;
			if (!cf_config_get(pr->cfg, cat->regs[i].key, &pv, NULL))
				continue;
			/* A register describing a feature the baseline left
			 * out reads 0. */
			if (!describes_kept_feature(pr->cfg, cat->regs[i].key)) {
				CU_ASSERT_EQUAL(pv, 0);
				continue;
			}
			for (int f = 0; f < cat->regs[i].nfields; f++) {
				const struct cf_field *fd = &cat->regs[i].fields[f];
				uint64_t want_and = 1, want_or = 0, want_min = ~0ULL;
				for (size_t h = 0; h < n; h++) {
					uint64_t hv = 0;
					cf_config_get(rs[h]->cfg, cat->regs[i].key,
						      &hv, NULL);
					hv = cf_field_raw(fd, hv);
					want_and &= hv;
					want_or |= hv;
					if (hv < want_min)
						want_min = hv;
				}
				uint64_t got = cf_field_raw(fd, pv);
				/* x86_finish's cross-register rules: these go
				 * when their leaf or a TSC rate is missing. */
				if (!strcmp(fd->name, "invtsc") ||
				    !strcmp(fd->name, "intel_pt") ||
				    !strcmp(fd->name, "sgx") ||
				    !strcmp(fd->name, "sgx_lc") ||
				    !strcmp(fd->name, "cqm"))
					continue;
				if (fd->policy == CF_POL_LOWER && fd->width == 1) {
					/* A flag every host has goes only
					 * where the baseline says it left it
					 * out: a mutated host may keep a
					 * feature it lost a need of (AVX2
					 * without AVX; tests/unit/test_deps.c
					 * tests what the baseline does). */
					if (!(got == 0 && want_and == 1 &&
					      test_said_dropped(pr, cat->regs[i].key, f)))
						CU_ASSERT_EQUAL(got, want_and);
					checked_flags++;
				} else if (fd->policy == CF_POL_HIGHER &&
					   fd->width == 1) {
					/* an inverted flag is never lost */
					CU_ASSERT_EQUAL(got, want_or);
					checked_inverted++;
				} else if (fd->policy == CF_POL_LOWER) {
					CU_ASSERT_EQUAL(got, want_min);
				}
			}
		}
		cf_profile_destroy(pr);
		for (size_t h = 0; h < n; h++)
			cf_report_destroy(rs[h]);
	}
	CU_ASSERT_TRUE(checked_flags > 10000);
	CU_ASSERT_TRUE(checked_inverted > 100);
	for (size_t i = 0; i < 3; i++)
		cf_report_destroy(base[i]);
}

/* Clears flag NAME in report R's configuration. */
static void clear_flag(struct cf_report *r, const char *name)
{
	uint64_t key, v = 0;
	const struct cf_field *f = cf_catalog_field_named(&cf_x86_catalog, name,
							   &key);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cf_config_get(r->cfg, key, &v, NULL);
	CU_ASSERT_EQUAL(cf_config_set(r->cfg, key, v & ~(1ULL << f->shift)),
			CF_OK);
}

/* A thin KVM (nested here: SUPPORTED_CPUID without SSE4.2 on an AVX-512
 * CPU): collect names the ISA flags /proc/cpuinfo has and KVM lacks.  The
 * cpuinfo text is of the /proc/cpuinfo layout (Documentation/filesystems/
 * proc.rst: "flags" line of each processor). */
static void test_x86_kvm_lacks_what_cpuinfo_has(void)
{
	static const char cpuinfo[] =
		"processor\t: 0\nvendor_id\t: GenuineIntel\n"
		"model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
		"flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr "
		"pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall "
		"nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology "
		"cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic "
		"movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm "
		"avx2 bmi1 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl\n"
		"bugs\t\t: spectre_v1\n\nprocessor\t: 1\n";
	struct cf_report *r = test_load_report("x86/spr-05.json");
	char buf[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* Sapphire Rapids' own KVM report offers every one of them. */
	CU_ASSERT_EQUAL(cf_x86_kvm_lacks(r, cpuinfo, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
	clear_flag(r, "sse4_2");
	clear_flag(r, "avx512f");
	/* Not in the cpuinfo line: the CPU lacks it too, nothing to say. */
	clear_flag(r, "fsrm");
	CU_ASSERT_EQUAL(cf_x86_kvm_lacks(r, cpuinfo, buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "sse4_2 avx512f");
	/* No flags line (not /proc/cpuinfo): nothing claimed. */
	CU_ASSERT_EQUAL(cf_x86_kvm_lacks(r, "processor\t: 0\n", buf,
					 sizeof(buf)), 0);
	cf_report_destroy(r);
}

/* The vendor of a report and of the profile made from it (leaf 0). */
static void test_x86_vendor_of_report_and_profile(void)
{
	struct cf_report *r = test_load_report("x86/bergamo-04.json");
	struct cf_profile *pr = NULL;
	char v[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(cf_report_vendor(r, v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "AuthenticAMD");
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &pr), CF_OK);
	CU_ASSERT_TRUE(cf_profile_vendor(pr, v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "AuthenticAMD");
	cf_profile_destroy(pr);
	cf_report_destroy(r);
}

static CU_TestInfo tests[] = {
	TEST(test_x86_dumps_load_with_their_levels),
	TEST(test_x86_named_models),
	TEST(test_x86_named_model_rule),
	TEST(test_x86_baseline_intel_golden),
	TEST(test_x86_vendors_never_share_a_pool),
	TEST(test_x86_absent_leaf_is_zero),
	TEST(test_x86_tsc_rate),
	TEST(test_x86_level_profiles),
	TEST(test_x86_finish_rules),
	TEST(test_x86_gated_xsave_subleaf),
	TEST(test_x86_leaf_maxima_are_the_guests),
	TEST(test_x86_property_random_pools),
	TEST(test_x86_kvm_lacks_what_cpuinfo_has),
	TEST(test_x86_vendor_of_report_and_profile),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_x86 = { "x86", NULL, NULL, NULL, NULL, tests };
