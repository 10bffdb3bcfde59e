/* The generated arm64 catalogue: encodings, policies the issue requires,
 * internal consistency, and the field-level acceptance rule. */
#include <string.h>
#include "engine/arch.h"
#include "tests/unit/suites.h"

static const struct cf_catalog *cat = &cf_arm64_catalog;

static const struct cf_field *field(const char *reg, const char *name)
{
	int r = cf_catalog_find_name(cat, reg), f;

	if (r < 0)
		return NULL;
	f = cf_catalog_find_field(&cat->regs[r], name);
	return f < 0 ? NULL : &cat->regs[r].fields[f];
}

/* KVM_{GET,SET}_ONE_REG id of a system register (research §2.6). */
static uint64_t one_reg_id(const char *reg)
{
	int r = cf_catalog_find_name(cat, reg);
	return r < 0 ? 0 : 0x6030000000130000ULL | cat->regs[r].key;
}

static void test_catalog_known_encodings(void)
{
	CU_ASSERT_EQUAL(one_reg_id("MIDR_EL1"), 0x603000000013C000ULL);
	CU_ASSERT_EQUAL(one_reg_id("ID_AA64PFR0_EL1"), 0x603000000013C020ULL);
	CU_ASSERT_EQUAL(one_reg_id("CLIDR_EL1"), 0x603000000013C801ULL);
	CU_ASSERT_EQUAL(one_reg_id("CTR_EL0"), 0x603000000013D801ULL);
	/* op0=3 op1=0 CRn=0 CRm=6 op2=0 */
	CU_ASSERT_EQUAL(one_reg_id("ID_AA64ISAR0_EL1"),
			0x6030000000130000ULL | 3 << 14 | 6 << 3);
	CU_ASSERT_EQUAL(one_reg_id("ID_AA64ZFR0_EL1"),
			0x6030000000130000ULL | 3 << 14 | 4 << 3 | 4);
	CU_ASSERT_EQUAL(one_reg_id("ID_AA64MMFR4_EL1"),
			0x6030000000130000ULL | 3 << 14 | 7 << 3 | 4);
	CU_ASSERT_EQUAL(one_reg_id("MVFR2_EL1"),
			0x6030000000130000ULL | 3 << 14 | 3 << 3 | 2);
	CU_ASSERT_EQUAL(one_reg_id("AIDR_EL1"),
			0x6030000000130000ULL | 3 << 14 | 1 << 11 | 7);
}

static void test_catalog_required_registers(void)
{
	static const char *const need[] = {
		"ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1", "ID_AA64PFR2_EL1",
		"ID_AA64ZFR0_EL1", "ID_AA64SMFR0_EL1", "ID_AA64FPFR0_EL1",
		"ID_AA64DFR0_EL1", "ID_AA64DFR1_EL1", "ID_AA64ISAR0_EL1",
		"ID_AA64ISAR1_EL1", "ID_AA64ISAR2_EL1", "ID_AA64ISAR3_EL1",
		"ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1", "ID_AA64MMFR2_EL1",
		"ID_AA64MMFR3_EL1", "ID_AA64MMFR4_EL1", "CTR_EL0", "CLIDR_EL1",
		"MIDR_EL1", "REVIDR_EL1", "AIDR_EL1", "ID_PFR0_EL1",
		"ID_PFR1_EL1", "ID_PFR2_EL1", "ID_DFR0_EL1", "ID_DFR1_EL1",
		"ID_AFR0_EL1", "ID_MMFR0_EL1", "ID_MMFR1_EL1", "ID_MMFR2_EL1",
		"ID_MMFR3_EL1", "ID_MMFR4_EL1", "ID_MMFR5_EL1", "ID_ISAR0_EL1",
		"ID_ISAR1_EL1", "ID_ISAR2_EL1", "ID_ISAR3_EL1", "ID_ISAR4_EL1",
		"ID_ISAR5_EL1", "ID_ISAR6_EL1", "MVFR0_EL1", "MVFR1_EL1",
		"MVFR2_EL1",
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (cf_catalog_find_name(cat, need[i]) < 0)
			CU_FAIL(need[i]);
	}
}

static void test_catalog_policies_follow_kvm(void)
{
	static const char *const sg[][2] = {
		{ "ID_AA64PFR0_EL1", "FP" }, { "ID_AA64PFR0_EL1", "AdvSIMD" },
		{ "ID_AA64MMFR0_EL1", "TGran4" }, { "ID_AA64MMFR0_EL1", "TGran64" },
		{ "ID_AA64DFR0_EL1", "DoubleLock" },
	};
	static const struct { const char *r, *f; uint64_t safe; } ex[] = {
		{ "ID_AA64ISAR1_EL1", "API", 0 }, { "ID_AA64ISAR1_EL1", "APA", 0 },
		{ "ID_AA64ISAR2_EL1", "APA3", 0 },
		{ "ID_AA64MMFR0_EL1", "TGran4_2", 1 },
		{ "ID_AA64MMFR0_EL1", "TGran16_2", 1 },
		{ "ID_AA64MMFR0_EL1", "TGran64_2", 1 },
		{ "CTR_EL0", "L1Ip", 2 },
	};
	const struct cf_field *f;

	for (size_t i = 0; i < sizeof(sg) / sizeof(sg[0]); i++) {
		f = field(sg[i][0], sg[i][1]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_TRUE(f->is_signed);
		CU_ASSERT_EQUAL(f->policy, CF_POL_LOWER);
	}
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		f = field(ex[i].r, ex[i].f);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(f->policy, CF_POL_EXACT);
		CU_ASSERT_EQUAL(f->safe, ex[i].safe);
	}
	f = field("ID_AA64MMFR1_EL1", "SpecSEI");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_HIGHER);
	f = field("CTR_EL0", "CWG");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_HIGHER0);
	f = field("CTR_EL0", "ERG");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_HIGHER0);
	/* PMUVer was signed until upstream d1dcc20bcc40 made it unsigned, so
	 * that PMUv3p8 (8) ranks above PMUv3 (1); 0xf is "no PMUv3" (the
	 * alternative ID scheme), below PMUv3 both ways. */
	f = field("ID_AA64DFR0_EL1", "PMUVer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_LOWER_IMPDEF);
	CU_ASSERT_FALSE(f->is_signed);
	CU_ASSERT_TRUE(cf_field_accepts(f, 8, true, 1));
	CU_ASSERT_FALSE(cf_field_accepts(f, 1, true, 8));
	CU_ASSERT_FALSE(cf_field_accepts(f, 0xf, true, 1));
	CU_ASSERT_TRUE(cf_field_accepts(f, 1, true, 0xf));
	f = field("ID_DFR0_EL1", "PerfMon");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_LOWER_IMPDEF);
	f = field("ID_AA64DFR0_EL1", "DebugVer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->policy, CF_POL_LOWER);
	CU_ASSERT_FALSE(f->is_signed);
	f = field("ID_AA64ISAR0_EL1", "AES");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->shift, 4);
	CU_ASSERT_EQUAL(f->width, 4);
	f = field("ID_AA64PFR0_EL1", "SVE");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->shift, 32);
	f = field("ID_AA64MMFR0_EL1", "ASIDBits");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->shift, 4);
}

static void test_catalog_feature_names(void)
{
	char buf[CF_TEXT_MAX];
	const struct cf_field *aes = field("ID_AA64ISAR0_EL1", "AES");
	const struct cf_field *fp = field("ID_AA64PFR0_EL1", "FP");
	const struct cf_field *sve2 = field("ID_AA64ZFR0_EL1", "SVEver");

	CU_ASSERT_PTR_NOT_NULL_FATAL(aes);
	CU_ASSERT_EQUAL(cf_field_features_at(aes, 1, buf, sizeof(buf)), 1);
	CU_ASSERT_STRING_EQUAL(buf, "FEAT_AES");
	CU_ASSERT_EQUAL(cf_field_features_at(aes, 2, buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "FEAT_AES,FEAT_PMULL");
	CU_ASSERT_EQUAL(cf_field_features_between(aes, 1, 2, buf, sizeof(buf)), 1);
	CU_ASSERT_STRING_EQUAL(buf, "FEAT_PMULL");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sve2);
	cf_field_features_between(sve2, 0, 1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "FEAT_SVE2");
	/* Signed: 0xf (-1, not implemented) < 0 (FEAT_FP) < 1 (FEAT_FP16). */
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	cf_field_features_between(fp, 0xf, 1, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "FEAT_FP"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "FEAT_FP16"));
	cf_field_features_at(fp, 0xf, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	/* An IMPLEMENTATION DEFINED PMU (0xf) has none of the PMUv3 features. */
	cf_field_features_at(field("ID_AA64DFR0_EL1", "PMUVer"), 0xf, buf,
			     sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	cf_field_features_at(field("ID_AA64DFR0_EL1", "PMUVer"), 4, buf,
			     sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "FEAT_PMUv3,FEAT_PMUv3p1");
}

/* The generator refuses these; the generated table must agree. */
static void test_catalog_consistent(void)
{
	for (size_t r = 0; r < cat->nregs; r++) {
		const struct cf_reg *reg = &cat->regs[r];
		uint64_t seen = 0;
		if (r)
			CU_ASSERT_TRUE(cat->regs[r - 1].key < reg->key);
		CU_ASSERT_EQUAL(cf_catalog_find_key(cat, reg->key), (int)r);
		for (int i = 0; i < reg->nfields; i++) {
			const struct cf_field *f = &reg->fields[i];
			uint64_t m = cf_field_mask(f);
			uint64_t vmax = f->width >= 64 ? ~0ULL
						       : (1ULL << f->width) - 1;
			CU_ASSERT_TRUE(f->width >= 1 && f->shift + f->width <= 64);
			CU_ASSERT_EQUAL(seen & m, 0);
			seen |= m;
			CU_ASSERT_TRUE(f->safe <= vmax);
			for (int v = 0; v < f->nvalues; v++)
				CU_ASSERT_TRUE(f->values[v].value <= vmax);
		}
		CU_ASSERT_EQUAL(cf_reg_described(reg), seen);
	}
}

/* Every capability has a role (arch/caps/caps.txt), no other register
 * has one; a few roles as Documentation/virt/kvm/api.rst gives them. */
static void test_catalog_capability_roles(void)
{
	static const struct {
		const char *arch, *cap;
		unsigned role;
	} want[] = {
		/* 4.7: KVM_CREATE_VCPU adds no more than max_vcpus. */
		{ "arm64", "KVM_CAP_MAX_VCPUS", CF_ROLE_CAPACITY },
		{ "x86", "KVM_CAP_NR_VCPUS", CF_ROLE_CAPACITY },
		/* 7.28: enabled by the VMM before any vCPU, the guest sees MTE. */
		{ "arm64", "KVM_CAP_ARM_MTE", CF_ROLE_GUEST },
		/* 7.7: changes the LAPIC state format. */
		{ "x86", "KVM_CAP_X2APIC_API", CF_ROLE_GUEST },
		/* 4.75: eventfd injection, the VMM's plumbing. */
		{ "x86", "KVM_CAP_IRQFD", CF_ROLE_MECHANISM },
		/* 7.35 and 7.39: KVM's defaults of values a VMM sets. */
		{ "x86", "KVM_CAP_X86_APIC_BUS_CYCLES_NS", CF_ROLE_SETTING },
		{ "arm64", "KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE", CF_ROLE_SETTING },
		/* api.rst, KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES: the block
		 * sizes KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE may be set to. */
		{ "arm64", "KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES", CF_ROLE_SETTING },
		/* 4.24: the in-kernel interrupt controller the guest sees. */
		{ "x86", "KVM_CAP_IRQCHIP", CF_ROLE_GUEST },
		{ "arm64", "KVM_CAP_IRQCHIP", CF_ROLE_GUEST },
		/* api.rst: KVM_SET_USER_MEMORY_REGION (4.35), the manual
		 * protection of KVM_GET_DIRTY_LOG/KVM_CLEAR_DIRTY_LOG for the
		 * VMM's dirty tracking, KVM_CAP_ARM_USER_IRQ's timer and PMU
		 * levels for a user-space irqchip: none is seen by the guest. */
		{ "x86", "KVM_CAP_USER_MEMORY", CF_ROLE_MECHANISM },
		{ "x86", "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", CF_ROLE_MECHANISM },
		{ "arm64", "KVM_CAP_ARM_USER_IRQ", CF_ROLE_MECHANISM },
	};
	static const char *const arches[] = { "arm64", "x86" };

	for (size_t k = 0; k < 2; k++) {
		const struct cf_catalog *c = cf_arch_find(arches[k])->catalog;
		size_t ncaps = 0;
		for (size_t r = 0; r < c->nregs; r++) {
			const struct cf_reg *reg = &c->regs[r];
			if (reg->pseudo != 2) {
				CU_ASSERT_EQUAL(reg->role, CF_ROLE_NONE);
				continue;
			}
			ncaps++;
			CU_ASSERT(reg->role >= CF_ROLE_CAPACITY &&
				  reg->role <= CF_ROLE_GUEST);
			CU_ASSERT_STRING_NOT_EQUAL(cf_role_name(reg->role), "");
		}
		CU_ASSERT(ncaps > 40);
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cf_catalog *c = cf_arch_find(want[i].arch)->catalog;
		int r = cf_catalog_find_name(c, want[i].cap);
		CU_ASSERT_FATAL(r >= 0);
		CU_ASSERT_EQUAL(c->regs[r].role, want[i].role);
	}
}

/* Registers only a capability makes writable (`wcap=`): api.rst 7.42,
 * KVM_CAP_ARM_WRITABLE_IMP_ID_REGS: "This capability changes the behavior
 * of the registers that identify a PE implementation of the Arm
 * architecture: MIDR_EL1, REVIDR_EL1, and AIDR_EL1" -- exactly these three,
 * and the capability a VM enables (role guest, on or off), with the
 * version that brought it (6.15).  Every `wcap` names a capability of the
 * same catalogue. */
static void test_catalog_write_caps(void)
{
	static const char *const imp[] = { "MIDR_EL1", "REVIDR_EL1", "AIDR_EL1" };
	static const char *const arches[] = { "arm64", "x86" };
	const struct cf_catalog *c = &cf_arm64_catalog;
	size_t n = 0;

	for (size_t k = 0; k < 2; k++) {
		const struct cf_catalog *ck = cf_arch_find(arches[k])->catalog;
		for (size_t r = 0; r < ck->nregs; r++) {
			int ci;
			if (!ck->regs[r].wcap)
				continue;
			ci = cf_catalog_find_name(ck, ck->regs[r].wcap);
			CU_ASSERT_FATAL(ci >= 0);
			CU_ASSERT_EQUAL(ck->regs[ci].pseudo, 2);
			CU_ASSERT_EQUAL(ck->regs[ci].role, CF_ROLE_GUEST);
			CU_ASSERT_STRING_EQUAL(ck->regs[ci].fields[0].name, "bool");
			n++;
		}
	}
	CU_ASSERT_EQUAL(n, 3);
	for (size_t i = 0; i < 3; i++) {
		int r = cf_catalog_find_name(c, imp[i]);
		CU_ASSERT_FATAL(r >= 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c->regs[r].wcap);
		CU_ASSERT_STRING_EQUAL(c->regs[r].wcap,
				       "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
	}
	n = (size_t)cf_catalog_find_name(c, "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
	CU_ASSERT_EQUAL(c->regs[n].key, CF_CAP_KEY(239));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->regs[n].since);
	CU_ASSERT_STRING_EQUAL(c->regs[n].since, "6.15");
}

static void test_catalog_regname_roundtrip(void)
{
	const struct cf_arch_ops *a = cf_arch_find("arm64");
	char buf[40];
	uint64_t key;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NULL(cf_arch_find("sparc"));
	CU_ASSERT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C4_7", &key), 0);
	CU_ASSERT_EQUAL(key, 3 << 14 | 4 << 3 | 7);
	cf_arch_regname(a, key, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ID_AA64FPFR0_EL1");
	CU_ASSERT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C6_7", &key), 0);
	cf_arch_regname(a, key, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "S3_0_C0_C6_7");
	CU_ASSERT_EQUAL(cf_arch_regkey(a, "ID_AA64PFR0_EL1", &key), 0);
	CU_ASSERT_EQUAL(key, 3 << 14 | 4 << 3);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "S4_0_C0_C4_7", &key), 0);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C16_7", &key), 0);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C4_7x", &key), 0);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C4_", &key), 0);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "S3_0_C0_C004_7", &key), 0);
	CU_ASSERT_NOT_EQUAL(cf_arch_regkey(a, "NOT_A_REG", &key), 0);
}

/* The KVM rule per policy (research §2.3), on raw 4-bit values. */
static void test_catalog_field_accepts(void)
{
	const struct cf_field *aes = field("ID_AA64ISAR0_EL1", "AES");
	const struct cf_field *fp = field("ID_AA64PFR0_EL1", "FP");
	const struct cf_field *sei = field("ID_AA64MMFR1_EL1", "SpecSEI");
	const struct cf_field *cwg = field("CTR_EL0", "CWG");
	const struct cf_field *tg = field("ID_AA64MMFR0_EL1", "TGran4_2");

	CU_ASSERT_TRUE(cf_field_accepts(aes, 2, true, 0));
	CU_ASSERT_TRUE(cf_field_accepts(aes, 2, true, 1));
	CU_ASSERT_TRUE(cf_field_accepts(aes, 2, true, 2));
	CU_ASSERT_FALSE(cf_field_accepts(aes, 2, true, 3));
	CU_ASSERT_FALSE(cf_field_accepts(aes, 2, false, 1));
	CU_ASSERT_TRUE(cf_field_accepts(aes, 2, false, 2));
	/* signed: 0xf is below 0 and 1 */
	CU_ASSERT_TRUE(cf_field_accepts(fp, 1, true, 0xf));
	CU_ASSERT_TRUE(cf_field_accepts(fp, 1, true, 0));
	CU_ASSERT_FALSE(cf_field_accepts(fp, 0xf, true, 0));
	CU_ASSERT_FALSE(cf_field_accepts(fp, 0, true, 1));
	/* higher-safe */
	CU_ASSERT_TRUE(cf_field_accepts(sei, 0, true, 1));
	CU_ASSERT_FALSE(cf_field_accepts(sei, 1, true, 0));
	/* higher-or-zero: 0 always, above the limit when the limit is not 0 */
	CU_ASSERT_TRUE(cf_field_accepts(cwg, 4, true, 0));
	CU_ASSERT_TRUE(cf_field_accepts(cwg, 4, true, 5));
	CU_ASSERT_FALSE(cf_field_accepts(cwg, 4, true, 3));
	CU_ASSERT_FALSE(cf_field_accepts(cwg, 0, true, 4));
	/* exact: the limit or the safe value only */
	CU_ASSERT_TRUE(cf_field_accepts(tg, 2, true, 1));
	CU_ASSERT_FALSE(cf_field_accepts(tg, 2, true, 0));
	CU_ASSERT_FALSE(cf_field_accepts(tg, 2, true, 3));
}

/* Values KVM's setters refuse outright, whatever the policy says. */
static void test_catalog_floors(void)
{
	const struct cf_field *dv = field("ID_AA64DFR0_EL1", "DebugVer");
	const struct cf_field *cd = field("ID_DFR0_EL1", "CopDbg");
	const struct cf_field *pm = field("ID_DFR0_EL1", "PerfMon");

	CU_ASSERT_PTR_NOT_NULL_FATAL(dv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
	CU_ASSERT_TRUE(cf_field_accepts(dv, 8, true, 6));
	CU_ASSERT_FALSE(cf_field_accepts(dv, 8, true, 5));
	CU_ASSERT_TRUE(cf_field_accepts(dv, 5, true, 5)); /* the host's own */
	CU_ASSERT_FALSE(cf_field_accepts(cd, 8, true, 0));
	CU_ASSERT_TRUE(cf_field_accepts(pm, 4, true, 0));
	CU_ASSERT_TRUE(cf_field_accepts(pm, 4, true, 3));
	CU_ASSERT_FALSE(cf_field_accepts(pm, 4, true, 2));
}

/* KVM's SVE rule: no length above the host's largest, and up to the
 * largest wanted exactly the host's lengths. */
static void test_catalog_sve_prefix(void)
{
	const struct cf_field *f = field("SVE_VLS", "VQs");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_TRUE(cf_field_accepts(f, 0xb, true, 0x3));   /* 128, 256 */
	CU_ASSERT_TRUE(cf_field_accepts(f, 0xb, true, 0xb));
	CU_ASSERT_FALSE(cf_field_accepts(f, 0xb, true, 0x2));  /* a hole */
	CU_ASSERT_FALSE(cf_field_accepts(f, 0xb, true, 0xf));  /* 384 absent */
	CU_ASSERT_FALSE(cf_field_accepts(f, 0xb, true, 0x1b)); /* above max */
	CU_ASSERT_FALSE(cf_field_accepts(f, 0xb, true, 0x0));  /* empty */
}

static CU_TestInfo tests[] = {
	TEST(test_catalog_sve_prefix),
	TEST(test_catalog_floors),
	TEST(test_catalog_known_encodings),
	TEST(test_catalog_required_registers),
	TEST(test_catalog_policies_follow_kvm),
	TEST(test_catalog_feature_names),
	TEST(test_catalog_consistent),
	TEST(test_catalog_capability_roles),
	TEST(test_catalog_write_caps),
	TEST(test_catalog_regname_roundtrip),
	TEST(test_catalog_field_accepts),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_catalog = { "catalog", NULL, NULL, NULL, NULL, tests };
