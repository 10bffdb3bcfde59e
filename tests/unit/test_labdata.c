/* The engine against real KVM: the reports the arm64 lab collected and the
 * verdicts KVM gave when guests moved between those hosts
 * (tests/data/lab, made by `make lab`). */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "engine/config.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static const char *const hosts[] = {
	"a53", "a57", "a72", "a76", "n1", "a64fx", "max",
};
#define NHOSTS (sizeof(hosts) / sizeof(hosts[0]))

static struct cf_report *lab[NHOSTS];

static int lab_init(void)
{
	char rel[64];

	for (size_t i = 0; i < NHOSTS; i++) {
		snprintf(rel, sizeof(rel), "lab/reports/%s.json", hosts[i]);
		lab[i] = test_load_report(rel);
		if (!lab[i])
			return 1;
	}
	return 0;
}

static int lab_clean(void)
{
	for (size_t i = 0; i < NHOSTS; i++)
		cf_report_destroy(lab[i]);
	return 0;
}

static int index_of(const char *h)
{
	for (size_t i = 0; i < NHOSTS; i++)
		if (!strcmp(hosts[i], h))
			return (int)i;
	return -1;
}

static cJSON *lab_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 21);
	cJSON *j = NULL;
	size_t n;

	if (f && buf) {
		n = fread(buf, 1, (1 << 21) - 1, f);
		j = cJSON_ParseWithLength(buf, n);
	}
	if (f)
		fclose(f);
	free(buf);
	return j;
}

/* The pools the engine makes of the lab's hosts. */
static void test_labdata_pools(void)
{
	size_t pool_of[NHOSTS], n = 0;

	CU_ASSERT_EQUAL_FATAL(cf_pools_partition((const struct cf_report *const *)lab,
						 NHOSTS, pool_of, &n), CF_OK);
	/* a53 | a57 a72 | a76 n1 | a64fx | max */
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(pool_of[1], pool_of[2]);
	CU_ASSERT_EQUAL(pool_of[3], pool_of[4]);
	CU_ASSERT_NOT_EQUAL(pool_of[0], pool_of[1]);
	CU_ASSERT_NOT_EQUAL(pool_of[5], pool_of[3]);
	CU_ASSERT_NOT_EQUAL(pool_of[6], pool_of[3]);
}

/* check(A's own profile, B) gives KVM's verdict for every ordered pair,
 * and names the register KVM refused. */
static void test_labdata_check_agrees_with_kvm(void)
{
	cJSON *j = lab_json("tests/data/lab/kvm-verdicts.json"), *it;
	struct cf_verdict *v = cf_verdict_create();
	int pairs = 0, agree = 0, named = 0, refused = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "verdicts")) {
		const char *from = cJSON_GetObjectItem(it, "from")->valuestring;
		const char *to = cJSON_GetObjectItem(it, "to")->valuestring;
		const char *prof = cJSON_GetObjectItem(it, "profile")->valuestring;
		const cJSON *reg = cJSON_GetObjectItem(it, "kvm_refused_register");
		bool kvm_ok = cJSON_IsTrue(cJSON_GetObjectItem(it, "kvm_ok"));
		int a = index_of(from), b = index_of(to);
		struct cf_profile *pr = NULL;
		if (strcmp(prof, "own") != 0)
			continue;
		CU_ASSERT_FATAL(a >= 0 && b >= 0);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(lab[a], &pr), CF_OK);
		CU_ASSERT_EQUAL(cf_check(pr, lab[b], v), CF_OK);
		pairs++;
		if (cf_verdict_compatible(v) == kvm_ok)
			agree++;
		else
			fprintf(stderr, "\n  %s -> %s: kvm %d engine %d", from, to,
				kvm_ok, cf_verdict_compatible(v));
		if (!kvm_ok && cJSON_IsString(reg)) {
			refused++;
			for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
				if (!strcmp(cf_verdict_reason(v, i)->reg, reg->valuestring)) {
					named++;
					break;
				}
		}
		cf_profile_destroy(pr);
	}
	CU_ASSERT_EQUAL(pairs, (int)(NHOSTS * NHOSTS));
	CU_ASSERT_EQUAL(agree, pairs);
	CU_ASSERT_TRUE(refused > 0);
	CU_ASSERT_EQUAL(named, refused);
	cf_verdict_destroy(v);
	cJSON_Delete(j);
}

/* With SVE vCPUs: a64fx offers 128, 256 and 512-bit vectors, max every
 * length to 2048; KVM refused each other's lengths, and so does check. */
static void test_labdata_sve_lengths(void)
{
	struct cf_report *a = test_load_report("lab/sve/a64fx.json");
	struct cf_report *m = test_load_report("lab/sve/max.json");
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	bool named = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(m, &pr), CF_OK);
	CU_ASSERT_EQUAL(cf_check(pr, a, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		named = named || !strcmp(cf_verdict_reason(v, i)->reg, "SVE_VLS");
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(a);
	cf_report_destroy(m);
}

/* One-field variants of each host's own profile that KVM judged in the lab
 * (a step up and down per field, exact to SAFE, floors, fields KVM cannot
 * change, undescribed bits, SVE lengths, PMU counters, and each `refuse`
 * line's values): what KVM refused the engine refuses, naming the
 * register; what KVM took the engine takes.  FILE holds KVM's verdicts,
 * DIR the reports of the hosts that gave them, SVE the reports of the SVE
 * run (NULL: FILE has none). */
static void variants_agree(const char *file, const char *dir, const char *sve_dir,
			   int want_min)
{
	cJSON *j = lab_json(file), *it;
	struct cf_report *rep[NHOSTS], *sve[2] = { NULL, NULL };
	struct cf_verdict *v = cf_verdict_create();
	int n = 0, bad = 0, refused = 0;
	char rel[96];

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	for (size_t i = 0; i < NHOSTS; i++) {
		snprintf(rel, sizeof(rel), "%s/%s.json", dir, hosts[i]);
		rep[i] = test_load_report(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rep[i]);
	}
	for (int i = 0; sve_dir && i < 2; i++) {
		snprintf(rel, sizeof(rel), "%s/%s.json", sve_dir, i ? "max" : "a64fx");
		sve[i] = test_load_report(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sve[i]);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "variants")) {
		const char *host = cJSON_GetArrayItem(it, 0)->valuestring;
		const char *feat = cJSON_GetArrayItem(it, 1)->valuestring;
		const char *name = cJSON_GetArrayItem(it, 2)->valuestring;
		uint64_t key = strtoull(cJSON_GetArrayItem(it, 3)->valuestring, NULL, 16);
		uint64_t val = strtoull(cJSON_GetArrayItem(it, 4)->valuestring, NULL, 16);
		bool kvm_ok = cJSON_IsTrue(cJSON_GetArrayItem(it, 5));
		const cJSON *reg = cJSON_GetArrayItem(it, 6);
		int h = index_of(host);
		const struct cf_report *r = strstr(feat, "sve") ?
			sve[!strcmp(host, "max")] : h >= 0 ? rep[h] : NULL;
		struct cf_profile *pr = NULL;
		struct cf_config *c = NULL;
		bool ok, named = false;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &pr), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_config_clone(pr->cfg, &c), CF_OK);
		cf_config_unref(pr->cfg);
		pr->cfg = c;
		CU_ASSERT_EQUAL_FATAL(cf_config_set(c, key, val), CF_OK);
		CU_ASSERT_EQUAL(cf_check(pr, r, v), CF_OK);
		ok = cf_verdict_compatible(v);
		for (size_t i = 0; !kvm_ok && i < cf_verdict_reason_count(v); i++)
			named = named || !strcmp(cf_verdict_reason(v, i)->reg,
						 reg->valuestring);
		n++;
		refused += !kvm_ok;
		if (kvm_ok ? !ok : ok || !named) {
			bad++;
			fprintf(stderr, "\n  %s %s = 0x%llx: kvm %s, engine %s%s", host,
				name, (unsigned long long)val,
				kvm_ok ? "took it" : reg->valuestring,
				ok ? "compatible" : "incompatible",
				!kvm_ok && !ok ? " (another register)" : "");
		}
		cf_profile_destroy(pr);
	}
	CU_ASSERT_TRUE(n > want_min);
	CU_ASSERT_TRUE(refused > 0 && refused < n);
	CU_ASSERT_EQUAL(bad, 0);
	cf_verdict_destroy(v);
	for (size_t i = 0; i < NHOSTS; i++)
		cf_report_destroy(rep[i]);
	cf_report_destroy(sve[0]);
	cf_report_destroy(sve[1]);
	cJSON_Delete(j);
}

/* Debian's 6.12.95: 4088 variants, 2026-12-06. */
static void test_labdata_variants(void)
{
	variants_agree("tests/data/lab/kvm-variants.json", "lab/reports", "lab/sve",
		       4000);
}

/* Debian's 7.3.4: 3461 variants of the every-model run, 2026-12-06, among
 * them the `refuse` lines' (set_clidr()'s LoC and LoUU+LoUIS, EL0/EL1 = 0,
 * which 7.3 refuses and 6.12 takes). */
static void test_labdata_variants_7_3(void)
{
	variants_agree("tests/data/lab/kvm-variants-7.3.json", "lab/reports-7.3",
		       NULL, 3400);
}

/* Does V name register REG? */
static bool names(const struct cf_verdict *v, const char *reg)
{
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		if (!strcmp(cf_verdict_reason(v, i)->reg, reg))
			return true;
	return false;
}

/* The arm64 lab with each model's own MIDR (tests/data/lab/real-midr:
 * cortex-a53, -a57, -a72 on Debian's 6.12 and 7.3 kernels).  For every
 * guest saved on A under A's own profile or A's pool baseline and restored
 * on B, check gives KVM's verdict and names the register KVM refused: on
 * 6.12 MIDR_EL1 (no KVM_CAP_ARM_WRITABLE_IMP_ID_REGS: the identity is
 * invariant), on 7.3 none of the identity registers (the lab enabled the
 * capability where the MIDR differed, as cf_arm64_apply_vm does).  And
 * every one-field variant of MIDR_EL1, REVIDR_EL1 and AIDR_EL1 that KVM
 * judged on its host: taken on 7.3 within the mask, refused outside it
 * and on 6.12. */
static void test_labdata_real_midr(void)
{
	static const char *const kernels[] = { "6.12", "7.3" };
	static const char *const rh[] = { "a53", "a57", "a72" };
	cJSON *j = lab_json("tests/data/lab/real-midr/kvm-verdicts.json"), *it;
	struct cf_report *r[2][3];
	struct cf_profile *own[2][3], *bl[2][3];
	struct cf_verdict *v = cf_verdict_create();
	int cells = 0, bad = 0, vars = 0, midr_refused = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	for (int k = 0; k < 2; k++) {
		size_t pool_of[3], np = 0;
		char rel[64];
		for (int h = 0; h < 3; h++) {
			snprintf(rel, sizeof(rel), "lab/real-midr/%s/%s.json",
				 kernels[k], rh[h]);
			r[k][h] = test_load_report(rel);
			CU_ASSERT_PTR_NOT_NULL_FATAL(r[k][h]);
			CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r[k][h], &own[k][h]),
					      CF_OK);
		}
		CU_ASSERT_EQUAL_FATAL(cf_pools_partition((const struct cf_report *const *)r[k],
							 3, pool_of, &np), CF_OK);
		for (int h = 0; h < 3; h++) {
			struct cf_pool *p = NULL;
			struct cf_diag d;
			CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
			for (int m = 0; m < 3; m++)
				if (pool_of[m] == pool_of[h])
					CU_ASSERT_EQUAL(cf_pool_add(p, r[k][m], &d), CF_OK);
			CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &bl[k][h]), CF_OK);
			cf_pool_destroy(p);
		}
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "verdicts")) {
		int k = !strcmp(cJSON_GetObjectItem(it, "kernel")->valuestring, "7.3");
		const char *from = cJSON_GetObjectItem(it, "from")->valuestring;
		const char *to = cJSON_GetObjectItem(it, "to")->valuestring;
		bool is_own = !strcmp(cJSON_GetObjectItem(it, "profile")->valuestring, "own");
		const cJSON *reg = cJSON_GetObjectItem(it, "kvm_refused_register");
		bool kvm_ok = cJSON_IsTrue(cJSON_GetObjectItem(it, "kvm_ok"));
		int a = -1, b = -1;
		bool ok;
		for (int h = 0; h < 3; h++) {
			a = !strcmp(rh[h], from) ? h : a;
			b = !strcmp(rh[h], to) ? h : b;
		}
		CU_ASSERT_FATAL(a >= 0 && b >= 0);
		/* The guest starts on A and moves to B. */
		struct cf_profile *pr = is_own ? own[k][a] : bl[k][a];
		CU_ASSERT_EQUAL(cf_check(pr, r[k][a], v), CF_OK);
		ok = cf_verdict_compatible(v);
		CU_ASSERT_EQUAL(cf_check(pr, r[k][b], v), CF_OK);
		ok = ok && cf_verdict_compatible(v);
		cells++;
		midr_refused += !kvm_ok && !strcmp(reg->valuestring, "MIDR_EL1");
		if (ok != kvm_ok || (!kvm_ok && !names(v, reg->valuestring))) {
			bad++;
			fprintf(stderr, "\n  %s %s -> %s (%s): kvm %s, engine %s",
				kernels[k], from, to, is_own ? "own" : "baseline",
				kvm_ok ? "ok" : reg->valuestring, ok ? "ok" : "refuses");
		}
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "variants")) {
		int k = !strcmp(cJSON_GetArrayItem(it, 0)->valuestring, "7.3"), h = 0;
		uint64_t key = strtoull(cJSON_GetArrayItem(it, 3)->valuestring, NULL, 16);
		uint64_t val = strtoull(cJSON_GetArrayItem(it, 4)->valuestring, NULL, 16);
		bool kvm_ok = cJSON_IsTrue(cJSON_GetArrayItem(it, 5));
		const cJSON *reg = cJSON_GetArrayItem(it, 6);
		struct cf_profile *pr = NULL;
		struct cf_config *c = NULL;
		while (h < 2 && strcmp(rh[h], cJSON_GetArrayItem(it, 1)->valuestring))
			h++;
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r[k][h], &pr), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_config_clone(pr->cfg, &c), CF_OK);
		cf_config_unref(pr->cfg);
		pr->cfg = c;
		CU_ASSERT_EQUAL_FATAL(cf_config_set(c, key, val), CF_OK);
		CU_ASSERT_EQUAL(cf_check(pr, r[k][h], v), CF_OK);
		vars++;
		if (cf_verdict_compatible(v) != kvm_ok ||
		    (!kvm_ok && !names(v, reg->valuestring))) {
			bad++;
			fprintf(stderr, "\n  %s %s %s = 0x%llx: kvm %s, engine %s",
				kernels[k], rh[h], cJSON_GetArrayItem(it, 2)->valuestring,
				(unsigned long long)val, kvm_ok ? "took it" : "refused",
				cf_verdict_compatible(v) ? "takes it" : "refuses");
		}
		cf_profile_destroy(pr);
	}
	CU_ASSERT_EQUAL(cells, 36);
	CU_ASSERT_EQUAL(midr_refused, 12);  /* all on 6.12 */
	CU_ASSERT_TRUE(vars > 40);
	CU_ASSERT_EQUAL(bad, 0);
	for (int k = 0; k < 2; k++)
		for (int h = 0; h < 3; h++) {
			cf_profile_destroy(own[k][h]);
			cf_profile_destroy(bl[k][h]);
			cf_report_destroy(r[k][h]);
		}
	cf_verdict_destroy(v);
	cJSON_Delete(j);
}

static CU_TestInfo tests[] = {
	TEST(test_labdata_real_midr),
	TEST(test_labdata_variants),
	TEST(test_labdata_variants_7_3),
	TEST(test_labdata_sve_lengths),
	TEST(test_labdata_pools),
	TEST(test_labdata_check_agrees_with_kvm),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_labdata = { "labdata", lab_init, lab_clean, NULL, NULL, tests };
