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
}

static CU_TestInfo tests[] = {
	TEST(test_profile_doc_roundtrip),
	TEST(test_profile_doc_infeasible_roundtrip),
	TEST(test_profile_doc_save_failure_leaves_nothing),
	TEST(test_profile_doc_errors),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_profile_doc = { "profile_doc", NULL, NULL, NULL, NULL, tests };
