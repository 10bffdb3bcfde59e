/* The architecture registry (arch/driver.c): every architecture is one
 * driver, found by name and as this machine's, and every layer reaches the
 * same one. */
#include <string.h>
#include <sys/utsname.h>
#include "arch/driver.h"
#include "engine/arch.h"
#include "profiles/section.h"
#include "tests/unit/suites.h"

static void test_driver_one_registry(void)
{
	static const char *const arches[] = { "arm64", "x86" };

	for (size_t i = 0; i < 2; i++) {
		const struct cf_driver *d = cf_driver_find(arches[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_STRING_EQUAL(d->ops->name, arches[i]);
		CU_ASSERT_STRING_EQUAL(d->arch, arches[i]);
		/* the engine's and the documents' lookups land on it */
		CU_ASSERT_PTR_EQUAL(cf_arch_find(arches[i]), d->ops);
		CU_ASSERT_PTR_EQUAL(cf_section_codec(d->ops), d->codec);
		CU_ASSERT_PTR_NOT_NULL(d->collect);
	}
	CU_ASSERT_PTR_EQUAL(cf_section_codec(&cf_x86_ops), &cf_section_x86);
	CU_ASSERT_PTR_EQUAL(cf_section_codec(&cf_arm64_ops), &cf_section_regmap);
	CU_ASSERT_PTR_NULL(cf_driver_find("riscv64"));
	CU_ASSERT_PTR_NULL(cf_driver_find(NULL));
	CU_ASSERT_PTR_NULL(cf_arch_find("ARM64"));
}

/* This machine's driver is the one whose machine name uname(2) gives:
 * x86_64 -> x86, aarch64 -> arm64 (what `uname -m` prints there). */
static void test_driver_native(void)
{
	struct utsname u;
	const struct cf_driver *d = cf_driver_native();

	CU_ASSERT_EQUAL_FATAL(uname(&u), 0);
	if (!strcmp(u.machine, "x86_64")) {
		CU_ASSERT_TRUE(d && !strcmp(d->ops->name, "x86"));
	} else if (!strcmp(u.machine, "aarch64")) {
		CU_ASSERT_TRUE(d && !strcmp(d->ops->name, "arm64"));
	} else {
		CU_ASSERT_PTR_NULL(d);
	}
}

/* `cpufleet apply` reaches KVM through the driver too, and the driver says
 * which options its dry run takes: arm64 vCPU features (KVM_ARM_VCPU_*),
 * x86 the guest check, and x86 is judged on this host first because
 * KVM_SET_CPUID2 takes any table (README, `apply`).  Off its own machines
 * a dry run refuses with CF_EARCH naming the architecture, touching
 * nothing (include/cpufleet.h: arm64 KVM "need an arm64 host with
 * /dev/kvm; elsewhere they return CF_EARCH"). */
static void test_driver_apply(void)
{
	const struct cf_driver *a = cf_driver_find("arm64");
	const struct cf_driver *x = cf_driver_find("x86");

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL(a->apply);
	CU_ASSERT_PTR_NOT_NULL(x->apply);
	CU_ASSERT_TRUE(a->apply_features);
	CU_ASSERT_FALSE(x->apply_features);
	CU_ASSERT_TRUE(x->apply_guest);
	CU_ASSERT_FALSE(a->apply_guest);
	CU_ASSERT_TRUE(x->judge_first);
	CU_ASSERT_FALSE(a->judge_first);
	/* collect's thin-KVM warning compares /proc/cpuinfo's ISA flags:
	 * x86's "flags" line; arm64 has no such comparison (README,
	 * `collect`). */
	CU_ASSERT_PTR_EQUAL(x->kvm_lacks, cf_x86_kvm_lacks);
	CU_ASSERT_PTR_NULL(a->kvm_lacks);
#if !defined(__aarch64__)
	struct cf_report *r = test_load_report("arm64/real-writable/altra.json");
	struct cf_profile *pr = NULL;
	struct cf_apply_opts o = { CF_ARM64_FEAT_DEFAULT, false };
	struct cf_apply_run run;
	struct cf_diag d = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &pr), CF_OK);
	CU_ASSERT_EQUAL(a->apply(pr, &o, &run, &d), CF_EARCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "arm64"));
	CU_ASSERT_PTR_NULL(run.x86);
	cf_profile_destroy(pr);
	cf_report_destroy(r);
#endif
}

static CU_TestInfo tests[] = {
	TEST(test_driver_one_registry),
	TEST(test_driver_native),
	TEST(test_driver_apply),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_driver = { "driver", NULL, NULL, NULL, NULL, tests };
