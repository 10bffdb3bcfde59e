/* arm64 named levels: the Armv8.x/9.x level an ID-register set reaches and
 * the core its MIDR_EL1 names (arch/arm64/levels.txt), on the lab's reports
 * (QEMU 7.2 TCG models under KVM 6.12, tests/data/lab) and the real dumps
 * (tests/data/arm64/real).  Each expectation comes from the core's
 * Technical Reference Manual and the Arm ARM (DDI 0487, A2: the features
 * each Armv8.N extension makes mandatory), read against the register
 * values by hand; where a report shows less than the core has, the comment
 * names the field that keeps it lower.  Never from cpufleet's output. */
#include <stdio.h>
#include <string.h>
#include "arch/arm64/levels.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static void level_of(const char *rel, char *level, size_t llen, char *missing,
		     size_t mlen)
{
	struct cf_report *r = test_load_report(rel);
	struct cf_profile *own = NULL;

	level[0] = missing[0] = '\0';
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &own), CF_OK);
	CU_ASSERT_EQUAL(cf_arm64_profile_level(own, level, llen, missing, mlen),
			CF_OK);
	cf_profile_destroy(own);
	cf_report_destroy(r);
}

static void test_levels_lab_models(void)
{
	static const struct { const char *file, *level, *missing; } want[] = {
		/* Cortex-A53, A57, A72 TRMs: Armv8.0-A.  ISAR0.Atomic = 0
		 * (no LSE), ISAR0.RDM = 0, MMFR1 = 0 (no PAN, LOR, VH, HPD). */
		{ "lab/reports/a53.json", "Armv8.0",
		  "FEAT_LSE FEAT_RDM FEAT_PAN FEAT_LOR FEAT_VHE FEAT_HPDS" },
		{ "lab/reports/a57.json", "Armv8.0",
		  "FEAT_LSE FEAT_RDM FEAT_PAN FEAT_LOR FEAT_VHE FEAT_HPDS" },
		{ "lab/reports/a72.json", "Armv8.0",
		  "FEAT_LSE FEAT_RDM FEAT_PAN FEAT_LOR FEAT_VHE FEAT_HPDS" },
		/* Cortex-A76 and Neoverse N1 TRMs: Armv8.2-A (with the
		 * Armv8.3 LDAPR, ISAR1.LRCPC = 1, but no pointer
		 * authentication, ISAR1.APA/API = 0, FJCVTZS or FCMLA). */
		{ "lab/reports/a76.json", "Armv8.2",
		  "FEAT_PAuth FEAT_JSCVT FEAT_FCMA" },
		{ "lab/reports/n1.json", "Armv8.2",
		  "FEAT_PAuth FEAT_JSCVT FEAT_FCMA" },
		/* A64FX is Armv8.2-A with SVE (Fujitsu's A64FX
		 * specification), but QEMU's a64fx model shows
		 * ID_AA64PFR0_EL1.RAS = 0 (0x01110111): without FEAT_RAS,
		 * mandatory in Armv8.2, the report reaches Armv8.1. */
		{ "lab/reports/a64fx.json", "Armv8.1", "FEAT_RAS" },
		/* QEMU's max has Armv8.3+ features, but the lab's vCPUs had
		 * no pointer authentication (KVM_ARM_VCPU_PTRAUTH_* not
		 * requested): ISAR1.APA = API = 0 and ISAR2.APA3 = 0; JSCVT
		 * (ISAR1 = 0x0011111100211002: 1), FCMA (1) and LRCPC (2)
		 * are there. */
		{ "lab/reports/max.json", "Armv8.2", "FEAT_PAuth" },
		/* The 7.3 kernel's reports: the same models, the same
		 * levels (KVM 7.3 hides nothing 6.12 showed here). */
		{ "lab/reports-7.3/n1.json", "Armv8.2",
		  "FEAT_PAuth FEAT_JSCVT FEAT_FCMA" },
		{ "lab/reports-7.3/a53.json", "Armv8.0",
		  "FEAT_LSE FEAT_RDM FEAT_PAN FEAT_LOR FEAT_VHE FEAT_HPDS" },
		/* Ampere Altra (Neoverse N1 TRM: Armv8.2-A), a dump of the
		 * whole host. */
		{ "arm64/real/altra.json", "Armv8.2",
		  "FEAT_PAuth FEAT_JSCVT FEAT_FCMA" },
		/* Graviton3 is Neoverse V1 (TRM: Armv8.4-A), but this dump was
		 * read from user space, where Linux shows only the fields
		 * it exposes to EL0: ID_AA64ISAR0_EL1.TLB and
		 * ID_AA64MMFR2_EL1.TTL read 0, so Armv8.3. */
		{ "arm64/real/graviton3.json", "Armv8.3",
		  "FEAT_TLBIOS FEAT_TLBIRANGE FEAT_TTL" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char level[32], missing[256];
		level_of(want[i].file, level, sizeof(level), missing,
			 sizeof(missing));
		if (strcmp(level, want[i].level) ||
		    strcmp(missing, want[i].missing))
			fprintf(stderr, "\n  %s: %s (%s)\n", want[i].file, level,
				missing);
		CU_ASSERT_STRING_EQUAL(level, want[i].level);
		CU_ASSERT_STRING_EQUAL(missing, want[i].missing);
	}
}

/* MIDR_EL1 values of the TRMs ("MIDR_EL1, Main ID Register"), the part
 * numbers as Linux's cputype.h has them. */
static void test_levels_core_names(void)
{
	static const struct { const char *file, *text; } want[] = {
		/* QEMU's cortex-a53 (r0p4), a57 (r1p0), a72 (r0p3) with
		 * their own MIDR (--midr real). */
		{ "lab/real-midr/6.12/a53.json",
		  "Cortex-A53 (MIDR 0x410fd034: implementer Arm, part 0xd03, r0p4)" },
		{ "lab/real-midr/6.12/a57.json",
		  "Cortex-A57 (MIDR 0x411fd070: implementer Arm, part 0xd07, r1p0)" },
		{ "lab/real-midr/7.3/a72.json",
		  "Cortex-A72 (MIDR 0x410fd083: implementer Arm, part 0xd08, r0p3)" },
		/* Ampere Altra: Neoverse N1 r3p1; Graviton3: Neoverse V1
		 * r1p1. */
		{ "arm64/real/altra.json",
		  "Neoverse N1 (MIDR 0x413fd0c1: implementer Arm, part 0xd0c, r3p1)" },
		{ "arm64/real/graviton3.json",
		  "Neoverse V1 (MIDR 0x411fd401: implementer Arm, part 0xd40, r1p1)" },
		/* The lab's pinned MIDR: implementer 0x00 (reserved for
		 * software use), no core. */
		{ "lab/reports/n1.json",
		  "unknown core (MIDR 0x000f0010: implementer 0x00, part 0x001, r0p0)" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct cf_report *r = test_load_report(want[i].file);
		struct cf_profile *own = NULL;
		char text[160];
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &own), CF_OK);
		CU_ASSERT_EQUAL(cf_arm64_profile_core(own, text, sizeof(text)),
				CF_OK);
		CU_ASSERT_STRING_EQUAL(text, want[i].text);
		cf_profile_destroy(own);
		cf_report_destroy(r);
	}
	/* Other implementers, by their cputype.h numbers: Fujitsu 0x46
	 * A64FX 0x001, Ampere 0xc0 AmpereOne 0xac3, Apple 0x61 M1
	 * Firestorm 0x023, Arm Neoverse V2 0xd4f. */
	CU_ASSERT_STRING_EQUAL(cf_arm64_core_name(0x461f0010), "A64FX");
	CU_ASSERT_STRING_EQUAL(cf_arm64_core_name(0xc00fac30), "AmpereOne");
	CU_ASSERT_STRING_EQUAL(cf_arm64_core_name(0x611f0231), "M1 Firestorm");
	CU_ASSERT_STRING_EQUAL(cf_arm64_core_name(0x410fd4f0), "Neoverse V2");
	CU_ASSERT_PTR_NULL(cf_arm64_core_name(0x41000000));
}

/* An x86 profile has no Armv8 level and no MIDR. */
static void test_levels_other_arch(void)
{
	struct cf_report *r = test_load_report("x86/snb-ep.json");
	struct cf_profile *own = NULL;
	char level[32], missing[64], core[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(r, &own), CF_OK);
	CU_ASSERT_EQUAL(cf_arm64_profile_level(own, level, sizeof(level),
					       missing, sizeof(missing)),
			CF_EARCH);
	CU_ASSERT_EQUAL(cf_arm64_profile_core(own, core, sizeof(core)),
			CF_EARCH);
	cf_profile_destroy(own);
	cf_report_destroy(r);
}

static CU_TestInfo tests[] = {
	TEST(test_levels_lab_models),
	TEST(test_levels_core_names),
	TEST(test_levels_other_arch),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_levels = { "levels", NULL, NULL, NULL, NULL, tests };
