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
 * a TSC (khz 0: none). */
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
		 "\"ebx\":\"0x0\",\"ecx\":\"%s\",\"edx\":\"0x0\"}%s]%s}}",
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
	TEST(test_x86_baseline_intel_golden),
	TEST(test_x86_vendors_never_share_a_pool),
	TEST(test_x86_absent_leaf_is_zero),
	TEST(test_x86_tsc_rate),
	TEST(test_x86_level_profiles),
	TEST(test_x86_finish_rules),
	TEST(test_x86_property_random_pools),
	TEST(test_x86_kvm_lacks_what_cpuinfo_has),
	TEST(test_x86_vendor_of_report_and_profile),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_x86 = { "x86", NULL, NULL, NULL, NULL, tests };
