/* check(profile, host): the answer KVM_SET_ONE_REG would give, with every
 * reason in feature words. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

/* A report with the id_regs REGS and, if not NULL, the writable masks WR. */
static struct cf_report *mk(const char *id, const char *regs, const char *wr)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{%s}%s%s%s}", regs,
			    wr ? ",\"writable\":{" : "", wr ? wr : "",
			    wr ? "}" : "");
}

static struct cf_profile *own(const struct cf_report *r)
{
	struct cf_profile *pr = NULL;

	CU_ASSERT_EQUAL(cf_profile_from_report(r, &pr), CF_OK);
	return pr;
}

static void text(const struct cf_verdict *v, size_t i, char *buf, size_t len)
{
	CU_ASSERT_EQUAL(cf_verdict_reason_text(v, i, buf, len), CF_OK);
}

static void test_check_issue_examples(void)
{
	/* The profile wants SVE2 and ASIDBits=2; n2-17 offers SVEver 0
	 * (writable) and ASIDBits 0 (not writable, as KVM reports it).  Both
	 * have SVE (PFR0.SVE 1), which SVE2 needs. */
	struct cf_report *src = mk("src", "\"ID_AA64ZFR0_EL1\":\"0x1\","
				   "\"ID_AA64PFR0_EL1\":\"0x100000000\","
				   "\"ID_AA64MMFR0_EL1\":\"0x20\"", NULL);
	struct cf_report *dst = mk("n2-17", "\"ID_AA64ZFR0_EL1\":\"0x0\","
				   "\"ID_AA64PFR0_EL1\":\"0x100000000\","
				   "\"ID_AA64MMFR0_EL1\":\"0x0\"",
				   "\"ID_AA64ZFR0_EL1\":\"0xffffffffffffffff\","
				   "\"ID_AA64MMFR0_EL1\":\"0xffffffffffffff0f\"");
	struct cf_profile *pr = own(src);
	struct cf_verdict *v = cf_verdict_create();
	char buf[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
	CU_ASSERT_EQUAL(cf_check(pr, dst, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 2);
	/* Catalogue order: ZFR0 (CRm 4) before MMFR0 (CRm 7). */
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host n2-17 lacks FEAT_SVE2: "
			       "ID_AA64ZFR0_EL1.SVEver wants 1, host offers 0");
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 0)->kind, CF_REASON_LACKS);
	text(v, 1, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_AA64MMFR0_EL1.ASIDBits is not "
				      "writable on n2-17 and differs"));
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 1)->kind, CF_REASON_NOT_WRITABLE);
	CU_ASSERT_PTR_NULL(cf_verdict_reason(v, 2));
	/* The reverse: lowering is fine where writable, ASIDBits is not. */
	cf_profile_destroy(pr);
	pr = own(dst);
	CU_ASSERT_EQUAL(cf_check(pr, src, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(src);
	cf_report_destroy(dst);
}

/* KVM's rule per register: a field counts as writable only if wholly in
 * the mask; other bits must equal. */
static void test_check_partial_mask_and_undescribed(void)
{
	struct cf_report *host = mk("h", "\"ID_AA64ISAR0_EL1\":\"0x20\","
				    "\"ID_AA64AFR0_EL1\":\"0x0\"",
				    "\"ID_AA64ISAR0_EL1\":\"0x70\","
				    "\"ID_AA64AFR0_EL1\":\"0xff\"");
	struct cf_report *want = mk("w", "\"ID_AA64ISAR0_EL1\":\"0x10\","
				    "\"ID_AA64AFR0_EL1\":\"0x1\"", NULL);
	struct cf_profile *pr = own(want);
	struct cf_verdict *v = cf_verdict_create();
	char buf[512];

	CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 2);
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 0)->kind, CF_REASON_UNDESCRIBED);
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 1)->kind, CF_REASON_NOT_WRITABLE);
	CU_ASSERT_STRING_EQUAL(cf_verdict_reason(v, 1)->field, "AES");
	text(v, 0, buf, sizeof(buf));
	/* 0x1 wanted, 0x0 offered: bit 0, by number. */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ID_AA64AFR0_EL1: bit 0, which the "
				      "catalogue does not name, differs"));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	cf_report_destroy(want);
}

static void test_check_policies(void)
{
	/* CTR_EL0: CWG=4 (27:24) higher-or-zero, L1Ip=3 (15:14) exact safe 2. */
	struct cf_report *host = mk("h", "\"CTR_EL0\":\"0x0400c000\"",
				    "\"CTR_EL0\":\"0xffffffff\"");
	struct cf_verdict *v = cf_verdict_create();
	static const struct { const char *val; bool ok; } cases[] = {
		{ "\"CTR_EL0\":\"0x0400c000\"", true },  /* equal */
		{ "\"CTR_EL0\":\"0x0000c000\"", true },  /* CWG 0 */
		{ "\"CTR_EL0\":\"0x0500c000\"", true },  /* CWG above */
		{ "\"CTR_EL0\":\"0x0300c000\"", false }, /* CWG below */
		{ "\"CTR_EL0\":\"0x04008000\"", true },  /* L1Ip PIPT->VIPT */
		{ "\"CTR_EL0\":\"0x04004000\"", false }, /* L1Ip AIVIVT */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cf_report *w = mk("w", cases[i].val, NULL);
		struct cf_profile *pr = own(w);
		CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
		if (cf_verdict_compatible(v) != cases[i].ok)
			CU_FAIL(cases[i].val);
		cf_profile_destroy(pr);
		cf_report_destroy(w);
	}
	cf_verdict_destroy(v);
	cf_report_destroy(host);
}

static void test_check_missing_register(void)
{
	struct cf_report *host = mk("h", "\"ID_AA64ISAR0_EL1\":\"0x0\"", NULL);
	struct cf_report *w = mk("w", "\"ID_AA64ISAR0_EL1\":\"0x0\","
				 "\"S3_0_C0_C6_7\":\"0x0\"", NULL);
	struct cf_profile *pr = own(w);
	struct cf_verdict *v = cf_verdict_create();
	char buf[256];

	CU_ASSERT_EQUAL(cf_check(pr, host, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host h does not report S3_0_C0_C6_7");
	/* A host reporting more than the profile lists is fine. */
	cf_profile_destroy(pr);
	pr = own(host);
	CU_ASSERT_EQUAL(cf_check(pr, w, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_report_destroy(host);
	cf_report_destroy(w);
}

/* Firmware pseudo-registers: a level above the host's is refused. */
static void test_check_firmware_registers(void)
{
	char doc[512];
	static const char *const fmt =
		"\"arm64\":{\"id_regs\":{},\"fw_regs\":{"
		"\"KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1\":\"%s\"}}";
	struct cf_report *lo = test_reportf("lo", fmt, "0x0");
	struct cf_report *hi = test_reportf("hi", fmt, "0x2"), *bad = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d;
	char buf[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(lo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hi);
	pr = own(hi);
	CU_ASSERT_EQUAL(cf_check(pr, lo, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host lo offers less: "
			       "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1.Level wants 2, "
			       "host offers 0");
	cf_profile_destroy(pr);
	pr = own(lo);
	CU_ASSERT_EQUAL(cf_check(pr, hi, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	/* A pseudo-register is refused in id_regs and vice versa. */
	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\",\"host\":"
		 "{\"id\":\"x\",\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{"
		 "\"KVM_REG_ARM_PSCI_VERSION\":\"0x10001\"}}}");
	CU_ASSERT_EQUAL(cf_report_parse(doc, strlen(doc), "x", &bad, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$.arm64.id_regs.KVM_REG_ARM_PSCI_VERSION"));
	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\",\"host\":"
		 "{\"id\":\"x\",\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{},"
		 "\"fw_regs\":{\"CTR_EL0\":\"0x1\"}}}");
	CU_ASSERT_EQUAL(cf_report_parse(doc, strlen(doc), "x", &bad, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$.arm64.fw_regs.CTR_EL0"));
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(lo);
	cf_report_destroy(hi);
}

/* Capabilities are no CPU features: the pool's common value (bool on every
 * host, count the minimum, bitmask the AND) is kept as advice, and a host
 * whose KVM reports other values is never refused for them
 * (arch/caps/caps.txt, roles). */
static void test_check_capabilities(void)
{
	static const char *const fmt =
		"\"kvm\":{\"caps\":{\"KVM_CAP_ARM_SVE\":%d,"
		"\"KVM_CAP_ARM_VM_IPA_SIZE\":%d,"
		"\"KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES\":%d,"
		"\"KVM_CAP_NOT_IN_CATALOGUE\":7}},\"arm64\":{\"id_regs\":{}}";
	struct cf_report *a = test_reportf("a", fmt, 5, 48, 3);
	struct cf_report *b = test_reportf("b", fmt, 0, 40, 5);
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	uint64_t val;
	char *json = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pr = test_baseline_of2(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 170, &val, NULL));
	CU_ASSERT_EQUAL(val, 0);      /* SVE: not on every host */
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 165, &val, NULL));
	CU_ASSERT_EQUAL(val, 40);     /* IPA: the minimum */
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, 0x1000000 + 230, &val, NULL));
	CU_ASSERT_EQUAL(val, 1);      /* ranges: 3 & 5 */
	CU_ASSERT_EQUAL(cf_profile_to_json(pr, &json), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"KVM_CAP_ARM_VM_IPA_SIZE\":\t40"));
	/* Nothing enabled: no "enabled" member. */
	CU_ASSERT_PTR_NULL(strstr(json, "\"enabled\""));
	free(json);
	CU_ASSERT_EQUAL(cf_check(pr, a, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_profile_destroy(pr);
	/* A's own profile has SVE, a larger IPA size and more ranges than b
	 * offers: none of it refuses b. */
	pr = own(a);
	CU_ASSERT_EQUAL(cf_check(pr, b, v), CF_OK);
	CU_ASSERT_EQUAL(cf_verdict_reason_count(v), 0);
	/* A report written back keeps the capability the catalogue lacks. */
	CU_ASSERT_EQUAL(cf_report_to_json(a, &json), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "KVM_CAP_NOT_IN_CATALOGUE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"KVM_CAP_ARM_SVE\":\t1"));
	free(json);
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* The issue's case: the same CPU with 128 and with 2 online CPUs.
 * KVM_CAP_NR_VCPUS is only KVM's recommended vCPU count (api.rst 4.7), a
 * property of the host, not of what a guest sees: both directions are
 * compatible, on real x86 and arm64 dumps. */
static void test_check_nr_vcpus_never_compared(void)
{
	static const char *const files[] = { "x86/spr-05.json",
					      "fleet/n1-01.json" };

	for (size_t i = 0; i < 2; i++) {
		struct cf_report *big = test_load_report_caps(files[i], "big",
			"{\"KVM_CAP_NR_VCPUS\":128,\"KVM_CAP_MAX_VCPUS\":4096,"
			"\"KVM_CAP_NR_MEMSLOTS\":32764}");
		struct cf_report *small = test_load_report_caps(files[i], "small",
			"{\"KVM_CAP_NR_VCPUS\":2,\"KVM_CAP_MAX_VCPUS\":1024,"
			"\"KVM_CAP_NR_MEMSLOTS\":509}");
		struct cf_profile *pb, *ps;
		struct cf_verdict *v = cf_verdict_create();

		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		CU_ASSERT_PTR_NOT_NULL_FATAL(small);
		pb = own(big);
		ps = own(small);
		CU_ASSERT_EQUAL(cf_check(pb, small, v), CF_OK);
		CU_ASSERT_EQUAL(cf_verdict_reason_count(v), 0);
		CU_ASSERT_EQUAL(cf_check(ps, big, v), CF_OK);
		CU_ASSERT_EQUAL(cf_verdict_reason_count(v), 0);
		cf_profile_destroy(pb);
		cf_profile_destroy(ps);
		cf_verdict_destroy(v);
		cf_report_destroy(big);
		cf_report_destroy(small);
	}
}

/* check --vcpus: "No more than max_vcpus may be added" and KVM_CAP_MAX_VCPUS
 * gives max_vcpus; without it, max_vcpus is KVM_CAP_NR_VCPUS (api.rst 4.7).
 * The lab's a72 is KVM 6.12 on arm64 with a vGICv3, which reported 512. */
static void test_check_vcpus(void)
{
	struct cf_report *a72 = test_load_report("lab/reports/a72.json");
	struct cf_report *nr = test_load_report_caps("x86/spr-05.json", "spr",
						     "{\"KVM_CAP_NR_VCPUS\":8}");
	struct cf_report *none = test_load_report("x86/spr-05.json");
	struct cf_verdict *v = cf_verdict_create();
	const struct cf_reason *r;
	char buf[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a72);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none);
	CU_ASSERT_EQUAL(cf_check_vcpus(NULL, a72, 512, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	CU_ASSERT_EQUAL(cf_check_vcpus(NULL, a72, 513, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	r = cf_verdict_reason(v, 0);
	CU_ASSERT_EQUAL(r->kind, CF_REASON_LACKS);
	CU_ASSERT_STRING_EQUAL(r->reg, "KVM_CAP_MAX_VCPUS");
	CU_ASSERT_EQUAL(r->want, 513);
	CU_ASSERT_EQUAL(r->offer, 512);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host a72 takes at most 512 vCPUs per VM "
			       "(KVM_CAP_MAX_VCPUS); the VM has 513");
	/* Without KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS stands for it. */
	CU_ASSERT_EQUAL(cf_check_vcpus(NULL, nr, 8, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	CU_ASSERT_EQUAL(cf_check_vcpus(NULL, nr, 9, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host spr takes at most 8 vCPUs per VM "
			       "(KVM_CAP_NR_VCPUS); the VM has 9");
	/* A report without capabilities cannot say. */
	CU_ASSERT_EQUAL(cf_check_vcpus(NULL, none, 1, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host spr-05 does not report "
			       "KVM_CAP_MAX_VCPUS, so no vCPU count can be judged");
	/* With a profile: its reasons, then the vCPU count's. */
	{
		struct cf_profile *pr = own(nr);
		CU_ASSERT_EQUAL(cf_check_vcpus(pr, a72, 600, v), CF_OK);
		CU_ASSERT_TRUE(cf_verdict_reason_count(v) >= 2);
		r = cf_verdict_reason(v, 0);
		CU_ASSERT_EQUAL(r->kind, CF_REASON_ARCH);
		CU_ASSERT_STRING_EQUAL(cf_verdict_reason(v, cf_verdict_reason_count(v) - 1)->reg,
				       "KVM_CAP_MAX_VCPUS");
		cf_profile_destroy(pr);
		pr = own(a72);
		CU_ASSERT_EQUAL(cf_check_vcpus(pr, a72, 600, v), CF_OK);
		CU_ASSERT_EQUAL(cf_verdict_reason_count(v), 1);
		CU_ASSERT_EQUAL(cf_check_vcpus(pr, a72, 0, v), CF_EINVAL);
		cf_profile_destroy(pr);
	}
	cf_verdict_destroy(v);
	cf_report_destroy(a72);
	cf_report_destroy(nr);
	cf_report_destroy(none);
}

static struct cf_profile *profile_text(const char *arch, const char *kvm,
				       const char *sec)
{
	char doc[1024];
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.profile/v1\","
		 "\"arch\":\"%s\",\"hosts\":[],\"kvm\":%s,\"%s\":%s}", arch,
		 kvm, arch, sec);
	if (cf_profile_parse(doc, strlen(doc), "p.json", &pr, &d) != CF_OK)
		fprintf(stderr, "\n  test profile: %s\n", d.msg);
	return pr;
}

/* A profile keeps apart what its VMs enable ("kvm.enabled": judged, the
 * destination must offer each) and the pool's common set ("kvm.caps":
 * advice, never a refusal).  The lab's n1 (KVM 6.12, QEMU neoverse-n1)
 * reported KVM_CAP_ARM_PMU_V3 1, KVM_CAP_ARM_MTE 0, KVM_CAP_ARM_SVE 0 and
 * KVM_CAP_MAX_VCPUS 512. */
static void test_check_enabled_capabilities(void)
{
	struct cf_report *n1 = test_load_report("lab/reports/n1.json");
	struct cf_report *mte = test_load_report_caps("fleet/n1-01.json", "mte",
						      "{\"KVM_CAP_ARM_MTE\":1}");
	struct cf_report *nocaps = test_load_report("fleet/n1-01.json");
	struct cf_profile *common = profile_text("arm64",
		"{\"caps\":{\"KVM_CAP_ARM_MTE\":1,\"KVM_CAP_ARM_SVE\":1,"
		"\"KVM_CAP_MAX_VCPUS\":4096,\"KVM_CAP_IRQFD\":1},"
		"\"enabled\":{\"KVM_CAP_ARM_PMU_V3\":1}}", "{\"id_regs\":{}}");
	struct cf_profile *want_mte = profile_text("arm64",
		"{\"enabled\":{\"KVM_CAP_ARM_MTE\":1}}", "{\"id_regs\":{}}");
	struct cf_verdict *v = cf_verdict_create();
	char buf[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mte);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nocaps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(common);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want_mte);
	/* The common set names MTE, SVE and 4096 vCPUs: n1 has none of it,
	 * and is compatible; its PMU is what the VMs enable. */
	CU_ASSERT_EQUAL(cf_check(common, n1, v), CF_OK);
	CU_ASSERT_EQUAL(cf_verdict_reason_count(v), 0);
	CU_ASSERT_EQUAL(cf_check(want_mte, n1, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	CU_ASSERT_EQUAL(cf_verdict_reason(v, 0)->kind, CF_REASON_LACKS);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host n1 lacks KVM_CAP_ARM_MTE, which the "
			       "profile's VMs enable");
	CU_ASSERT_EQUAL(cf_check(want_mte, mte, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	/* A host that reports no capabilities cannot show it has MTE. */
	CU_ASSERT_EQUAL(cf_check(want_mte, nocaps, v), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "host n1-01 does not report KVM_CAP_ARM_MTE, "
			       "which the profile's VMs enable");
	cf_profile_destroy(common);
	cf_profile_destroy(want_mte);
	cf_report_destroy(n1);
	cf_report_destroy(mte);
	cf_report_destroy(nocaps);

	/* x86, a bitmask (api.rst 7.7): the VMs enable both X2APIC_API bits;
	 * a host with only USE_32BIT_IDS lacks DISABLE_BROADCAST_QUIRK. */
	{
		struct cf_report *one = test_load_report_caps("x86/spr-05.json",
			"one", "{\"KVM_CAP_X2APIC_API\":1}");
		struct cf_report *both = test_load_report_caps("x86/spr-05.json",
			"both", "{\"KVM_CAP_X2APIC_API\":3}");
		struct cf_profile *pr = profile_text("x86",
			"{\"enabled\":{\"KVM_CAP_X2APIC_API\":3}}",
			"{\"vendor\":\"GenuineIntel\",\"cpuid\":[]}");

		CU_ASSERT_PTR_NOT_NULL_FATAL(one);
		CU_ASSERT_PTR_NOT_NULL_FATAL(both);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		CU_ASSERT_EQUAL(cf_check(pr, one, v), CF_OK);
		CU_ASSERT_EQUAL_FATAL(cf_verdict_reason_count(v), 1);
		text(v, 0, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, "host one lacks bits 0x2 of "
				       "KVM_CAP_X2APIC_API, which the profile's "
				       "VMs enable (host offers 0x1)");
		CU_ASSERT_EQUAL(cf_check(pr, both, v), CF_OK);
		CU_ASSERT_TRUE(cf_verdict_compatible(v));
		cf_profile_destroy(pr);
		cf_report_destroy(one);
		cf_report_destroy(both);
	}
	cf_verdict_destroy(v);
}

/* Host R's own profile with field FIELD of register REG set to VAL. */
static struct cf_profile *own_with(const struct cf_report *r, const char *reg,
				   const char *field, uint64_t val)
{
	const struct cf_catalog *cat = &cf_arm64_catalog;
	int ri = cf_catalog_find_name(cat, reg), fi;
	struct cf_profile *pr = own(r);
	struct cf_config *c = NULL;
	uint64_t v = 0;

	CU_ASSERT_FATAL(ri >= 0 && pr);
	fi = cf_catalog_find_field(&cat->regs[ri], field);
	CU_ASSERT_FATAL(fi >= 0);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(pr->cfg, &c), CF_OK);
	cf_config_unref(pr->cfg);
	pr->cfg = c;
	CU_ASSERT_FATAL(cf_config_get(c, cat->regs[ri].key, &v, NULL));
	v &= ~cf_field_mask(&cat->regs[ri].fields[fi]);
	v |= val << cat->regs[ri].fields[fi].shift;
	CU_ASSERT_EQUAL(cf_config_set(c, cat->regs[ri].key, v), CF_OK);
	return pr;
}

/* Is V's only reason a KVM rule on register REG? */
static bool kvm_rule_on(const struct cf_verdict *v, const char *reg)
{
	return cf_verdict_reason_count(v) == 1 &&
	       cf_verdict_reason(v, 0)->kind == CF_REASON_KVM_RULE &&
	       !strcmp(cf_verdict_reason(v, 0)->reg, reg);
}

/* ID_AA64PFR0_EL1.EL0 = 0 by kernel release, on the cortex-a72 lab host:
 * the arm64 lab's KVM took it on Debian's 6.12.95 and refused it on 7.3.4
 * (tests/data/lab/kvm-variants.json, tools/lab/lab.py), from "KVM: arm64:
 * Prevent userspace from disabling AArch64 support at any virtualisable
 * EL", posted 2025-04-29 during 6.15-rc; a release cpufleet cannot read
 * counts as new. */
static void test_check_kvm_rule_by_kernel(void)
{
	static const struct { const char *kernel; bool ok; } k[] = {
		{ "6.12.95+deb12-arm64", true }, { "6.14.11", true },
		{ "6.15.0", false }, { "7.3.4+deb13-arm64", false },
		{ "", false }, { "unknown", false }, { "6.x", false },
	};
	struct cf_report *r = test_load_report("lab/reports-7.3/a72.json");
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *pr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	pr = own_with(r, "ID_AA64PFR0_EL1", "EL0", 0);
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_KERNEL,
						k[i].kernel), CF_OK);
		CU_ASSERT_EQUAL(cf_check(pr, r, v), CF_OK);
		CU_ASSERT_EQUAL(cf_verdict_compatible(v), k[i].ok);
		if (!k[i].ok)
			CU_ASSERT_TRUE(kvm_rule_on(v, "ID_AA64PFR0_EL1"));
	}
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(r);
}

/* set_clidr() (arch/arm64/kvm/sys_regs.c): where the host's CTR_EL0.IDC
 * is 0 (cortex-a72 in the lab: CTR_EL0 0x8444c004), CLIDR_EL1 with LoC 0
 * or with LoUU = LoUIS = 0 is refused, one of LoUU and LoUIS at 0 taken;
 * where IDC is 1 (neoverse-n1: 0x9444c004) all are taken.  The a72's own
 * CLIDR is 0x09200003 (LoUU 1, LoC 1, LoUIS 1). */
static void test_check_kvm_rule_clidr(void)
{
	struct cf_report *a72 = test_load_report("lab/reports-7.3/a72.json");
	struct cf_report *n1 = test_load_report("lab/reports-7.3/n1.json");
	struct cf_verdict *v = cf_verdict_create();
	struct cf_profile *pr;
	char buf[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a72);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
	pr = own_with(a72, "CLIDR_EL1", "LoC", 0);
	CU_ASSERT_EQUAL(cf_check(pr, a72, v), CF_OK);
	CU_ASSERT_TRUE(kvm_rule_on(v, "CLIDR_EL1"));
	text(v, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "CTR_EL0.IDC"));
	cf_profile_destroy(pr);
	pr = own_with(a72, "CLIDR_EL1", "LoUU", 0);
	CU_ASSERT_EQUAL(cf_check(pr, a72, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_profile_destroy(pr);
	pr = own_with(a72, "CLIDR_EL1", "LoUIS", 0);
	CU_ASSERT_EQUAL(cf_check(pr, a72, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_profile_destroy(pr);
	/* n1's own CLIDR has LoUU = LoUIS = 0: fine on n1, refused on a72. */
	pr = own_with(n1, "CLIDR_EL1", "LoC", 0);
	CU_ASSERT_EQUAL(cf_check(pr, n1, v), CF_OK);
	CU_ASSERT_TRUE(cf_verdict_compatible(v));
	cf_profile_destroy(pr);
	pr = own(n1);
	CU_ASSERT_EQUAL(cf_check(pr, a72, v), CF_OK);
	CU_ASSERT_FALSE(cf_verdict_compatible(v));
	{
		size_t seen = 0;
		for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
			seen += cf_verdict_reason(v, i)->kind == CF_REASON_KVM_RULE;
		CU_ASSERT_EQUAL(seen, 1);
	}
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	cf_report_destroy(a72);
	cf_report_destroy(n1);
}

static CU_TestInfo tests[] = {
	TEST(test_check_kvm_rule_by_kernel),
	TEST(test_check_kvm_rule_clidr),
	TEST(test_check_capabilities),
	TEST(test_check_nr_vcpus_never_compared),
	TEST(test_check_vcpus),
	TEST(test_check_enabled_capabilities),
	TEST(test_check_firmware_registers),
	TEST(test_check_issue_examples),
	TEST(test_check_partial_mask_and_undescribed),
	TEST(test_check_policies),
	TEST(test_check_missing_register),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_check = { "check", NULL, NULL, NULL, NULL, tests };
