/* cf_profile_export and cf_profile_import_firecracker through the public
 * API.  Expectations from the formats' definitions, not from the code:
 * a Firecracker template forces every bit it gives (templates.rs:
 * host & ~filter | value), so a profile's own template imported onto
 * another host must give back the profile in every register it forces;
 * libvirt cannot describe arm64 (its aarch64 CPUs are host-passthrough);
 * QEMU's FEAT_1_ECX has no name at bit 11 (target/i386/cpu.c). */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/suites.h"

static struct cf_profile *own(const char *rel)
{
	struct cf_report *r = test_load_report(rel);
	struct cf_profile *pr = NULL;

	if (r)
		CU_ASSERT_EQUAL(cf_profile_from_report(r, &pr), CF_OK);
	cf_report_destroy(r);
	return pr;
}

static void test_export_refusals(void)
{
	struct cf_profile *arm = own("fleet/n1-01.json");
	struct cf_profile *spr = own("x86/spr-05.json");
	struct cf_export *e = (struct cf_export *)1;
	struct cf_export_opts o = { "p", 2, false };
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(arm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(spr);
	CU_ASSERT_EQUAL(cf_profile_export(spr, "vmware", NULL, &e, &d), CF_EINVAL);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "vmware"));
	CU_ASSERT_EQUAL(cf_profile_export(arm, "libvirt", &o, &e, &d), CF_EARCH);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(cf_profile_export(spr, "qemu", &o, &e, &d), CF_EINVAL);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CPUID_00000001_0_ECX.sdbg"));
	o.allow_drop = true;
	CU_ASSERT_EQUAL_FATAL(cf_profile_export(spr, "qemu", &o, &e, &d), CF_OK);
	bool listed = false;
	for (size_t i = 0; i < cf_export_dropped_count(e); i++)
		listed = listed || !strcmp(cf_export_dropped(e, i),
					   "CPUID_00000001_0_ECX.sdbg");
	CU_ASSERT(listed);
	CU_ASSERT_PTR_NOT_NULL(strstr(cf_export_text(e), "profile p version 2"));
	CU_ASSERT_EQUAL(strncmp(cf_export_fingerprint(e), "sha256:", 7), 0);
	CU_ASSERT_EQUAL(strlen(cf_export_fingerprint(e)), 71);
	cf_export_destroy(e);
	cf_profile_destroy(arm);
	cf_profile_destroy(spr);
}

/* An infeasible pool's profile: nothing is exported. */
static void test_export_infeasible(void)
{
	struct cf_report *a = test_load_report("lab/reports/a53.json");
	struct cf_report *b = test_load_report("lab/reports/a72.json");
	struct cf_profile *pr = a && b ? test_baseline_of2(a, b) : NULL;
	struct cf_export *e = NULL;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	for (const char *const *f = cf_export_formats; *f; f++) {
		if (!strcmp(*f, "libvirt"))
			continue;
		CU_ASSERT_EQUAL(cf_profile_export(pr, *f, NULL, &e, &d), CF_EINVAL);
		CU_ASSERT_PTR_NULL(e);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "infeasible"));
	}
	cf_profile_destroy(pr);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* Every register of FROM's profile reads the same in the profile imported
 * from its template onto host ONTO, but the bits the template leaves to
 * the host (KEEP: per-vCPU ones the VMM fills). */
static void cross(const char *from, const char *onto, size_t *compared)
{
	struct cf_profile *pr = own(from), *got = NULL;
	struct cf_report *host = test_load_report(onto);
	struct cf_export *e = NULL;
	struct cf_diag d = { "" };
	char *pj = NULL, *gj = NULL;
	cJSON *p, *g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_EQUAL_FATAL(cf_profile_export(pr, "firecracker", NULL, &e, &d),
			      CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_profile_import_firecracker(cf_export_text(e),
			      strlen(cf_export_text(e)), "template", host, &got,
			      &d), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &pj), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_to_json(got, &gj), CF_OK);
	p = cJSON_Parse(pj);
	g = cJSON_Parse(gj);
	/* The template as JSON: every register it names, with its bitmap. */
	cJSON *t = cJSON_Parse(cf_export_text(e)), *it, *m;
	cJSON *mods = cJSON_GetObjectItem(t, "reg_modifiers");
	if (mods) {
		cJSON *want = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "arm64"),
						  "id_regs");
		cJSON *have = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "arm64"),
						  "id_regs");
		cJSON_ArrayForEach(it, want) {
			cJSON *h = cJSON_GetObjectItem(have, it->string);
			CU_ASSERT_PTR_NOT_NULL(h);
			if (h && strcmp(it->valuestring, h->valuestring)) {
				CU_FAIL("an ID register differs on the other host");
				fprintf(stderr, "%s: %s, template on %s gives %s\n",
					it->string, it->valuestring, onto,
					h->valuestring);
			}
			(*compared)++;
		}
	}
	mods = cJSON_GetObjectItem(t, "cpuid_modifiers");
	cJSON_ArrayForEach(it, mods) {
		const char *leaf = cJSON_GetObjectItem(it, "leaf")->valuestring;
		const char *sub = cJSON_GetObjectItem(it, "subleaf")->valuestring;
		unsigned long l = strtoul(leaf, NULL, 16), s = strtoul(sub, NULL, 16);
		cJSON *e1 = NULL, *e2 = NULL, *x;
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(cJSON_GetObjectItem(p, "x86"),
							  "cpuid"))
			if (strtoul(cJSON_GetObjectItem(x, "leaf")->valuestring, NULL, 16) == l &&
			    strtoul(cJSON_GetObjectItem(x, "subleaf")->valuestring, NULL, 16) == s)
				e1 = x;
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(cJSON_GetObjectItem(g, "x86"),
							  "cpuid"))
			if (strtoul(cJSON_GetObjectItem(x, "leaf")->valuestring, NULL, 16) == l &&
			    strtoul(cJSON_GetObjectItem(x, "subleaf")->valuestring, NULL, 16) == s)
				e2 = x;
		CU_ASSERT_PTR_NOT_NULL_FATAL(e1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(it, "modifiers")) {
			const char *reg = cJSON_GetObjectItem(m, "register")->valuestring;
			const char *bm = cJSON_GetObjectItem(m, "bitmap")->valuestring + 2;
			unsigned long w = strtoul(cJSON_GetObjectItem(e1, reg)->valuestring,
						  NULL, 16);
			unsigned long h = strtoul(cJSON_GetObjectItem(e2, reg)->valuestring,
						  NULL, 16);
			unsigned long forced = 0;
			for (size_t i = 0; bm[i]; i++)
				forced = forced << 1 | (bm[i] != 'x');
			if ((w ^ h) & forced) {
				CU_FAIL("a forced CPUID bit differs on the other host");
				fprintf(stderr, "%s.%s %s: 0x%lx, on %s 0x%lx (forced 0x%lx)\n",
					leaf, sub, reg, w, onto, h, forced);
			}
			(*compared)++;
		}
	}
	cJSON_Delete(t);
	cJSON_Delete(p);
	cJSON_Delete(g);
	free(pj);
	free(gj);
	cf_export_destroy(e);
	cf_profile_destroy(pr);
	cf_profile_destroy(got);
	cf_report_destroy(host);
}

static void test_export_firecracker_on_another_host(void)
{
	size_t n = 0;

	cross("x86/snb-ep.json", "x86/spr-05.json", &n);
	cross("x86/spr-05.json", "x86/gnr-03.json", &n);
	cross("fleet/n1-01.json", "fleet/v1-01.json", &n);
	cross("lab/reports/a72.json", "lab/reports/a57.json", &n);
	CU_ASSERT(n > 200);
}

/* Firecracker refuses a template that changes a leaf the host's KVM does
 * not list (x86_64/mod.rs, CpuidFeatureNotSupported): so does import. */
static void test_import_refuses_missing_leaf(void)
{
	struct cf_report *snb = test_load_report("x86/snb-ep.json");
	struct cf_profile *pr = (struct cf_profile *)1;
	struct cf_diag d = { "" };
	const char *t = "{\"cpuid_modifiers\": [{\"leaf\": \"0xd\", \"subleaf\": "
			"\"0x1\", \"flags\": 1, \"modifiers\": [{\"register\": "
			"\"eax\", \"bitmap\": \"0b0\"}]}]}";

	CU_ASSERT_PTR_NOT_NULL_FATAL(snb);
	CU_ASSERT_EQUAL(cf_profile_import_firecracker(t, strlen(t), "t.json", snb,
						      &pr, &d), CF_EINVAL);
	CU_ASSERT_PTR_NULL(pr);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CPUID leaf 0xd subleaf 0x1"));
	cf_report_destroy(snb);
}

static CU_TestInfo tests[] = {
	TEST(test_export_refusals),
	TEST(test_export_infeasible),
	TEST(test_export_firecracker_on_another_host),
	TEST(test_import_refuses_missing_leaf),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_export = { "export", NULL, NULL, NULL, NULL, tests };
