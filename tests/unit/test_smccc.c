/* Errata targets: the answers to the guest's SMCCC "discover
 * implementation" calls from a profile, and the BMAP_2 value (issue 20,
 * point 4).  Every number below is the kernel's documentation's, written
 * out here, never taken from arch/arm64/smccc.h:
 *
 *  - Documentation/virt/kvm/arm/hypercalls.rst:
 *    ARM_SMCCC_VENDOR_HYP_KVM_DISCOVER_IMPL_VER_FUNC_ID, function ID
 *    0xC6000040, no arguments; returns R0 SUCCESS (0), R1 bits [31:16]
 *    major and [15:0] minor version ([63:32] zero), R2 the number of
 *    target implementations, R3 zero.
 *    ARM_SMCCC_VENDOR_HYP_KVM_DISCOVER_IMPL_CPUS_FUNC_ID, 0xC6000041,
 *    R1 the selected implementation index; returns R0 SUCCESS (0) or
 *    INVALID_PARAMETER (-3), R1 MIDR_EL1, R2 REVIDR_EL1, R3 AIDR_EL1.
 *  - include/linux/arm-smccc.h: ARM_SMCCC_CALL_VAL(type, convention, owner,
 *    number) = type << 31 | convention << 30 | owner << 24 | number, with
 *    ARM_SMCCC_FAST_CALL 1, ARM_SMCCC_SMC_64 1, ARM_SMCCC_OWNER_VENDOR_HYP
 *    6 and the KVM function numbers 64 (DISCOVER_IMPL_VER) and 65
 *    (DISCOVER_IMPL_CPUS); the callee takes the function ID from w0
 *    (arch/arm64/kvm/hypercalls.h: smccc_get_function() returns a u32).
 *  - Version 1.0: drivers/firmware/smccc/kvm_guest.c accepts only major 1.
 *  - Documentation/virt/kvm/arm/fw-pseudo-registers.rst:
 *    KVM_REG_ARM_VENDOR_HYP_BMAP_2, bit 0 DISCOVER_IMPL_VER, bit 1
 *    DISCOVER_IMPL_CPUS; arch/arm64/include/uapi/asm/kvm.h: its id is
 *    KVM_REG_ARM_FW_FEAT_BMAP_REG(3) = KVM_REG_ARM64 (0x6000000000000000)
 *    | KVM_REG_SIZE_U64 (0x0030000000000000) | 0x0016 << 16 | 3. */
#include <stdio.h>
#include <string.h>
#include "arch/arm64/smccc.h"
#include "tests/unit/suites.h"

#define CALL_VAL(type, conv, owner, num) \
	((uint64_t)(type) << 31 | (uint64_t)(conv) << 30 | \
	 (uint64_t)(owner) << 24 | (uint64_t)(num))
#define DOC_IMPL_VER  0xC6000040ULL
#define DOC_IMPL_CPUS 0xC6000041ULL
#define DOC_KVM_FEATURES 0x86000000ULL /* hypercalls.rst, HVC32 */
#define DOC_SUCCESS 0ULL
#define DOC_NOT_SUPPORTED 0xffffffffffffffffULL      /* -1 */
#define DOC_INVALID_PARAMETER 0xfffffffffffffffdULL  /* -3 */
#define DOC_VERSION_1_0 (1ULL << 16 | 0)             /* major 1, minor 0 */
#define DOC_BMAP2_ID (0x6000000000000000ULL | 0x0030000000000000ULL | \
		      0x0016ULL << 16 | 3)

/* Three implementations a pool of Cortex-A72 r0p3, Neoverse N1 r3p1 and
 * Apple M1 hosts has, ascending as a profile keeps them (MIDRs: Arm ARM
 * MIDR_EL1 layout, implementer 0x41 Arm / 0x61 Apple; REVIDR 0x1c7 and
 * the AIDR values are made up, only distinct). */
static const uint64_t want[3][3] = {
	{ 0x410fd083, 0x0, 0x0 },
	{ 0x413fd0c1, 0x1c7, 0x5 },
	{ 0x611f0231, 0x2, 0x1000 },
};

static struct cf_profile *pool_profile(void)
{
	static const char *const doc =
		"{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		"\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x410fd083\"}},"
		"\"implementations\":["
		"{\"MIDR_EL1\":\"0x410fd083\",\"REVIDR_EL1\":\"0x0\",\"AIDR_EL1\":\"0x0\"},"
		"{\"MIDR_EL1\":\"0x413fd0c1\",\"REVIDR_EL1\":\"0x1c7\",\"AIDR_EL1\":\"0x5\"},"
		"{\"MIDR_EL1\":\"0x611f0231\",\"REVIDR_EL1\":\"0x2\",\"AIDR_EL1\":\"0x1000\"}]}";
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };

	if (cf_profile_parse(doc, strlen(doc), "pool.json", &pr, &d) != CF_OK)
		fprintf(stderr, "\n  pool.json: %s\n", d.msg);
	return pr;
}

/* The function IDs are ARM_SMCCC_CALL_VAL(fast, SMC64, vendor hyp, 64/65),
 * as the documentation's literals say. */
static void test_smccc_function_ids(void)
{
	CU_ASSERT_EQUAL(CALL_VAL(1, 1, 6, 64), DOC_IMPL_VER);
	CU_ASSERT_EQUAL(CALL_VAL(1, 1, 6, 65), DOC_IMPL_CPUS);
	CU_ASSERT_EQUAL(CF_SMCCC_DISCOVER_IMPL_VER, DOC_IMPL_VER);
	CU_ASSERT_EQUAL(CF_SMCCC_DISCOVER_IMPL_CPUS, DOC_IMPL_CPUS);
	CU_ASSERT_EQUAL(CF_SMCCC_KVM_FEATURES, DOC_KVM_FEATURES);
	CU_ASSERT_EQUAL(CF_SMCCC_BMAP2_ID, DOC_BMAP2_ID);
	CU_ASSERT_EQUAL(DOC_BMAP2_ID, 0x6030000000160003ULL);
}

/* DISCOVER_IMPL_VER: success, version 1.0, the number of implementations,
 * R3 zero; its (reserved) arguments change nothing. */
static void test_smccc_version(void)
{
	struct cf_profile *pr = pool_profile();
	const uint64_t junk[3] = { 7, 8, 9 }, none[3] = { 0, 0, 0 };
	uint64_t ret[4];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	for (int j = 0; j < 2; j++) {
		memset(ret, 0xaa, sizeof(ret));
		CU_ASSERT_TRUE(cf_smccc_answer(pr, DOC_IMPL_VER, j ? junk : none, ret));
		CU_ASSERT_EQUAL(ret[0], DOC_SUCCESS);
		CU_ASSERT_EQUAL(ret[1], DOC_VERSION_1_0);
		CU_ASSERT_EQUAL(ret[1] >> 32, 0);
		CU_ASSERT_EQUAL(ret[2], 3);
		CU_ASSERT_EQUAL(ret[3], 0);
	}
	cf_profile_destroy(pr);
}

/* DISCOVER_IMPL_CPUS: index i in x1 gives implementation i's MIDR,
 * REVIDR, AIDR; an index past the list is INVALID_PARAMETER. */
static void test_smccc_cpus(void)
{
	struct cf_profile *pr = pool_profile();
	uint64_t ret[4];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	for (uint64_t i = 0; i < 3; i++) {
		const uint64_t args[3] = { i, 0, 0 };
		memset(ret, 0xaa, sizeof(ret));
		CU_ASSERT_TRUE(cf_smccc_answer(pr, DOC_IMPL_CPUS, args, ret));
		CU_ASSERT_EQUAL(ret[0], DOC_SUCCESS);
		CU_ASSERT_EQUAL(ret[1], want[i][0]);
		CU_ASSERT_EQUAL(ret[2], want[i][1]);
		CU_ASSERT_EQUAL(ret[3], want[i][2]);
	}
	static const uint64_t bad[] = { 3, 4, 1ULL << 32, 1ULL << 63,
					0xffffffffffffffffULL };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		const uint64_t args[3] = { bad[k], 0, 0 };
		CU_ASSERT_TRUE(cf_smccc_answer(pr, DOC_IMPL_CPUS, args, ret));
		CU_ASSERT_EQUAL(ret[0], DOC_INVALID_PARAMETER);
	}
	cf_profile_destroy(pr);
}

/* The function ID is w0: bits above 31 of x0 do not change the call. */
static void test_smccc_w0(void)
{
	struct cf_profile *pr = pool_profile();
	const uint64_t args[3] = { 1, 0, 0 };
	uint64_t ret[4];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_smccc_answer(pr, 0xffffffff00000000ULL | DOC_IMPL_CPUS,
				       args, ret));
	CU_ASSERT_EQUAL(ret[0], DOC_SUCCESS);
	CU_ASSERT_EQUAL(ret[1], want[1][0]);
	cf_profile_destroy(pr);
}

/* Any other call is not ours to answer: the KVM features call (KVM's own),
 * the neighbouring vendor numbers 63 and 66, the same numbers in the
 * SMC32 convention. */
static void test_smccc_other_calls(void)
{
	struct cf_profile *pr = pool_profile();
	const uint64_t args[3] = { 0, 0, 0 };
	const uint64_t others[] = { DOC_KVM_FEATURES, CALL_VAL(1, 1, 6, 63),
				    CALL_VAL(1, 1, 6, 66), CALL_VAL(1, 0, 6, 64),
				    CALL_VAL(1, 0, 6, 65) };
	uint64_t ret[4];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
		memset(ret, 0xaa, sizeof(ret));
		CU_ASSERT_FALSE(cf_smccc_answer(pr, others[k], args, ret));
		CU_ASSERT_EQUAL(ret[0], 0xaaaaaaaaaaaaaaaaULL);
	}
	cf_profile_destroy(pr);
}

/* An implementation the profile lists without REVIDR_EL1 or AIDR_EL1
 * (reports from before the catalogue had AIDR) is told with 0 there
 * (README, "The implementation identity"). */
static void test_smccc_absent_registers(void)
{
	static const char *const doc =
		"{\"schema\":\"cpufleet.profile/v1\",\"arch\":\"arm64\","
		"\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x410fd083\"}},"
		"\"implementations\":[{\"MIDR_EL1\":\"0x410fd083\"}]}";
	struct cf_profile *pr = NULL;
	struct cf_diag d;
	const uint64_t args[3] = { 0, 0, 0 };
	uint64_t ret[4];

	CU_ASSERT_EQUAL_FATAL(cf_profile_parse(doc, strlen(doc), "p.json", &pr, &d),
			      CF_OK);
	memset(ret, 0xaa, sizeof(ret));
	CU_ASSERT_TRUE(cf_smccc_answer(pr, DOC_IMPL_VER, args, ret));
	CU_ASSERT_EQUAL(ret[2], 1);
	memset(ret, 0xaa, sizeof(ret));
	CU_ASSERT_TRUE(cf_smccc_answer(pr, DOC_IMPL_CPUS, args, ret));
	CU_ASSERT_EQUAL(ret[0], DOC_SUCCESS);
	CU_ASSERT_EQUAL(ret[1], 0x410fd083);
	CU_ASSERT_EQUAL(ret[2], 0);
	CU_ASSERT_EQUAL(ret[3], 0);
	cf_profile_destroy(pr);
}

/* BMAP_2 gets bits 0 and 1 and keeps whatever else KVM reports. */
static void test_smccc_bmap2(void)
{
	CU_ASSERT_EQUAL(cf_smccc_bmap2(0), 1ULL << 0 | 1ULL << 1);
	CU_ASSERT_EQUAL(cf_smccc_bmap2(1ULL << 2), 1ULL << 0 | 1ULL << 1 | 1ULL << 2);
	CU_ASSERT_EQUAL(cf_smccc_bmap2(1ULL << 1), 1ULL << 0 | 1ULL << 1);
	CU_ASSERT_EQUAL(CF_SMCCC_BMAP2_BITS, 1ULL << 0 | 1ULL << 1);
}

/* Off arm64 the KVM part says so and arms nothing. */
static void test_smccc_not_here(void)
{
#if !defined(__aarch64__)
	struct cf_profile *pr = pool_profile();
	struct cf_arm64_errata st;
	struct cf_diag d = { "" };
	int fd = -1;
	bool handled = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	memset(&st, 0xff, sizeof(st));
	CU_ASSERT_EQUAL(cf_arm64_apply_errata(-1, &fd, 1, pr, &st, &d), CF_EARCH);
	CU_ASSERT_FALSE(st.armed);
	CU_ASSERT_EQUAL(cf_arm64_errata_exit(-1, DOC_IMPL_VER, pr, &handled, &d),
			CF_EARCH);
	CU_ASSERT_FALSE(handled);
	cf_profile_destroy(pr);
#endif
}

static CU_TestInfo tests[] = {
	TEST(test_smccc_function_ids),
	TEST(test_smccc_version),
	TEST(test_smccc_cpus),
	TEST(test_smccc_w0),
	TEST(test_smccc_other_calls),
	TEST(test_smccc_absent_registers),
	TEST(test_smccc_bmap2),
	TEST(test_smccc_not_here),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_smccc = { "smccc", NULL, NULL, NULL, NULL, tests };
