#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include "engine/profile.h"
#include "tests/unit/suites.h"

static struct cf_profile *fleet_profile(void)
{
	static const char *const ids[] = { "n1-01", "v1-01", "a72-01" };
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;
	char rel[64];

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "fleet/%s.json", ids[i]);
		struct cf_report *r = test_load_report(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(cf_pool_add(p, r, &d), CF_OK);
		cf_report_destroy(r);
	}
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

static void test_profile_doc_roundtrip(void)
{
	struct cf_profile *pr = fleet_profile(), *back = NULL;
	char dir[] = "/tmp/cf-test-XXXXXX", path[128];
	struct cf_diag d;
	DIR *dh;
	struct dirent *de;
	int files = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	CU_ASSERT_EQUAL_FATAL(cf_profile_save(pr, path, &d), CF_OK);
	/* Nothing but the profile is left behind. */
	dh = opendir(dir);
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.')
			files++;
	closedir(dh);
	CU_ASSERT_EQUAL(files, 1);
	CU_ASSERT_EQUAL_FATAL(cf_profile_load(path, &back, &d), CF_OK);
	CU_ASSERT_TRUE(cf_config_equal(pr->cfg, back->cfg));
	CU_ASSERT_EQUAL(back->hosts.n, 3);
	CU_ASSERT_STRING_EQUAL(cf_profile_host(back, 1), "v1-01");
	CU_ASSERT_EQUAL(cf_profile_feasible(back), cf_profile_feasible(pr));
	CU_ASSERT_EQUAL(cf_profile_conflict_count(back),
			cf_profile_conflict_count(pr));
	unlink(path);
	rmdir(dir);
	cf_profile_destroy(back);
	cf_profile_destroy(pr);
}

/* An infeasible profile loaded and written again keeps its conflicts. */
static void test_profile_doc_infeasible_roundtrip(void)
{
	struct cf_profile *pr = fleet_profile(), *back = NULL, *again = NULL;
	char *a = NULL, *b = NULL;
	struct cf_diag d;

	CU_ASSERT_FALSE_FATAL(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(pr, &a), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(a, strlen(a), "a", &back, &d),
			      CF_OK);
	CU_ASSERT_FALSE(cf_profile_feasible(back));
	CU_ASSERT_EQUAL(cf_profile_conflict_count(back),
			cf_profile_conflict_count(pr));
	CU_ASSERT_EQUAL_FATAL(cf_profile_to_json(back, &b), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_parse(b, strlen(b), "b", &again, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_conflict_count(again),
			cf_profile_conflict_count(pr));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"reason\""));
	{
		char t1[512], t2[512];
		CU_ASSERT_EQUAL(cf_profile_conflict_text(pr, 0, t1, sizeof(t1)),
				CF_OK);
		CU_ASSERT_EQUAL(cf_profile_conflict_text(back, 0, t2, sizeof(t2)),
				CF_OK);
		CU_ASSERT_STRING_EQUAL(t1, t2);
	}
	free(a);
	free(b);
	cf_profile_destroy(again);
	cf_profile_destroy(back);
	cf_profile_destroy(pr);
}

static void test_profile_doc_save_failure_leaves_nothing(void)
{
	struct cf_profile *pr = fleet_profile();
	struct cf_diag d;

	CU_ASSERT_EQUAL(cf_profile_save(pr, "/nonexistent-dir/p.json", &d),
			CF_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "/nonexistent-dir/p.json"));
	cf_profile_destroy(pr);
}

static void expect_error(const char *text, const char *part)
{
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };

	CU_ASSERT_NOT_EQUAL(cf_profile_parse(text, strlen(text), "p.json", &pr,
					     &d), CF_OK);
	CU_ASSERT_PTR_NULL(pr);
	if (!strstr(d.msg, part)) {
		fprintf(stderr, "\n  message '%s' lacks '%s'\n", d.msg, part);
		CU_FAIL("message");
	}
}

static void test_profile_doc_errors(void)
{
	expect_error("{\"schema\":\"cpufleet.report/v1\"}", "p.json: $.schema");
	expect_error("{\"schema\":\"cpufleet.profile/v1\"}", "$.arch");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"mips\"}",
		     "$.arch: unknown architecture");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{\"CTR_EL0\":\"zz\"}}}",
		     "$.arm64.id_regs.CTR_EL0");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"hosts\":[1]}", "$.hosts[0]");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"conflicts\":{}}",
		     "$.conflicts");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"feasible\":\"yes\"}",
		     "$.feasible");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"feasible\":true,"
		     "\"conflicts\":[{}]}", "$.feasible: expected false");
	/* What a VM enables: only a guest capability of the architecture. */
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"kvm\":{\"enabled\":"
		     "{\"KVM_CAP_MAX_VCPUS\":8}}}",
		     "$.kvm.enabled.KVM_CAP_MAX_VCPUS: a capacity, not a "
		     "capability a VM enables");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"kvm\":{\"enabled\":"
		     "{\"KVM_CAP_IRQFD\":1}}}",
		     "$.kvm.enabled.KVM_CAP_IRQFD: a mechanism, not a "
		     "capability a VM enables");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"kvm\":{\"enabled\":"
		     "{\"KVM_CAP_X2APIC_API\":1}}}",
		     "$.kvm.enabled.KVM_CAP_X2APIC_API: not a KVM capability "
		     "of arm64");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"kvm\":{\"enabled\":"
		     "{\"KVM_CAP_ARM_MTE\":0}}}",
		     "$.kvm.enabled.KVM_CAP_ARM_MTE: expected a positive integer");
	expect_error("{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		     "\"arm64\":{\"id_regs\":{}},\"kvm\":{\"enabled\":[]}}",
		     "$.kvm.enabled");
}

/* "kvm.enabled" survives a save and a load; a profile written before it
 * existed (only "kvm.caps", the pool's common set) still loads, and its
 * capabilities are read as that common set: advice, nothing enabled. */
static void test_profile_doc_enabled_roundtrip(void)
{
	static const char old[] =
		"{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		"\"hosts\":[\"a\"],\"configurations\":1,\"kvm\":{\"caps\":"
		"{\"KVM_CAP_ARM_MTE\":1,\"KVM_CAP_NR_VCPUS\":128}},"
		"\"arm64\":{\"id_regs\":{}},\"conflicts\":[]}";
	static const char with[] =
		"{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		"\"hosts\":[\"a\"],\"kvm\":{\"caps\":{\"KVM_CAP_ARM_MTE\":1},"
		"\"enabled\":{\"KVM_CAP_ARM_MTE\":5,\"KVM_CAP_ARM_PMU_V3\":1}},"
		"\"arm64\":{\"id_regs\":{}},\"conflicts\":[]}";
	struct cf_profile *pr = NULL, *back = NULL;
	struct cf_diag d;
	char *j1 = NULL, *j2 = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(old, strlen(old), "old.json", &pr,
					       &d), CF_OK);
	CU_ASSERT_PTR_NULL(pr->enabled);
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &j1), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"KVM_CAP_NR_VCPUS\":\t128"));
	CU_ASSERT_PTR_NULL(strstr(j1, "\"enabled\""));
	free(j1);
	cf_profile_destroy(pr);

	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(with, strlen(with), "new.json",
					       &pr, &d), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(pr->enabled);
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &j1), CF_OK);
	/* A bool capability counts as 1. */
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"enabled\":\t{\n\t\t\t\"KVM_CAP_ARM_PMU_V3\":"
				      "\t1,\n\t\t\t\"KVM_CAP_ARM_MTE\":\t1\n"));
	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(j1, strlen(j1), "back.json", &back,
					       &d), CF_OK);
	CU_ASSERT_EQUAL(cf_profile_to_json(back, &j2), CF_OK);
	CU_ASSERT_STRING_EQUAL(j1, j2);
	free(j1);
	free(j2);
	cf_profile_destroy(pr);
	cf_profile_destroy(back);
}

static CU_TestInfo tests[] = {
	TEST(test_profile_doc_roundtrip),
	TEST(test_profile_doc_infeasible_roundtrip),
	TEST(test_profile_doc_save_failure_leaves_nothing),
	TEST(test_profile_doc_errors),
	TEST(test_profile_doc_enabled_roundtrip),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_profile_doc = { "profile_doc", NULL, NULL, NULL, NULL, tests };
