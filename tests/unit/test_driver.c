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

static CU_TestInfo tests[] = {
	TEST(test_driver_one_registry),
	TEST(test_driver_native),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_driver = { "driver", NULL, NULL, NULL, NULL, tests };
