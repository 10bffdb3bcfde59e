/* Rules at their edges, where `make mutate` (tools/mutate/) found a change
 * of the engine or a catalogue that no other test saw: each test names the
 * mutants it kills, and takes its expectation from a source outside
 * cpufleet (the kernel, the Intel SDM, the Arm ARM, libvirt), cited where
 * it is used.  None reads a policy from the catalogue under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "arch/x86/x86.h"
#include "arch/x86/x86_catalog.h"
#include "engine/arch.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

/* ---- x86 documents written here ---- */

#define GENUINE_INTEL "\"ebx\":\"0x756e6547\",\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\""
#define AUTHENTIC_AMD "\"ebx\":\"0x68747541\",\"ecx\":\"0x444d4163\",\"edx\":\"0x69746e65\""

/* An x86 report of host ID: leaf 0 (maximum basic leaf 0xD, VENDOR's
 * string), leaf 1 (ECX 0x80000021: SSE3, VMX, hypervisor; VMX because the
 * VMX capability MSRs exist only where CPUID.01H:ECX[5] is 1, SDM Vol. 3D
 * Appendix A.1), leaf 6 (EAX 0x4:
 * ARAT, all KVM offers there), leaf 1 EBX EBX1, the CPUID entries CPUID_MORE (",{...}..."),
 * then X86_MORE in the x86 section (",\"msrs\":{...}", ",\"tsc_khz\":...")
 * and TOP after it (",\"kvm\":{...}"); each may be "". */
static struct cf_report *x86_doc_regs(const char *id, const char *vendor,
				      unsigned ebx1, unsigned ecx1,
				      const char *cpuid_more,
				      const char *x86_more, const char *top)
{
	char body[4096];
	struct cf_report *r = NULL;
	struct cf_diag d;

	snprintf(body, sizeof(body),
		 "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"%s\","
		 "\"arch\":\"x86\"},\"x86\":{\"cpuid\":["
		 "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0xd\",%s},"
		 "{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"eax\":\"0x806f8\","
		 "\"ebx\":\"0x%x\",\"ecx\":\"0x%x\",\"edx\":\"0x0\"},"
		 "{\"leaf\":\"0x6\",\"subleaf\":\"0x0\",\"eax\":\"0x4\","
		 "\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}%s]%s}%s}",
		 id, vendor, ebx1, ecx1, cpuid_more, x86_more, top);
	if (cf_report_parse(body, strlen(body), id, &r, &d) != CF_OK)
		fprintf(stderr, "\n  %s: %s\n", id, d.msg);
	return r;
}

/* Leaf 1 ECX 0x80000021 (see above). */
static struct cf_report *x86_doc_ebx(const char *id, const char *vendor,
				     unsigned ebx1, const char *cpuid_more,
				     const char *x86_more, const char *top)
{
	return x86_doc_regs(id, vendor, ebx1, 0x80000021, cpuid_more, x86_more,
			    top);
}

/* The same, leaf 1 EBX 0. */
static struct cf_report *x86_doc(const char *id, const char *vendor,
				 const char *cpuid_more, const char *x86_more,
				 const char *top)
{
	return x86_doc_ebx(id, vendor, 0, cpuid_more, x86_more, top);
}

/* The one-host baseline of R: R's own profile. */
static struct cf_profile *own_profile(const struct cf_report *r)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create(cf_report_arch(r), &p), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, r, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

/* The baseline of the pool {A, B} (x86 or arm64). */
static struct cf_profile *pool_of(const struct cf_report *a,
				  const struct cf_report *b)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create(cf_report_arch(a), &p), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, a, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, b, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

/* cf_check(PR, R): compatible?  *NAMED (may be NULL): some reason is about
 * register REG. */
static bool accepts(const struct cf_profile *pr, const struct cf_report *r,
		    const char *reg, bool *named)
{
	struct cf_verdict *v = cf_verdict_create();
	bool ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(cf_check(pr, r, v), CF_OK);
	ok = cf_verdict_compatible(v);
	if (named) {
		*named = false;
		for (size_t i = 0; reg && i < cf_verdict_reason_count(v); i++)
			if (!strcmp(cf_verdict_reason(v, i)->reg, reg))
				*named = true;
	}
	cf_verdict_destroy(v);
	return ok;
}

/* PR as a document with one value changed, parsed again: MSR (e.g.
 * "0xc0011029") set to HEX, or, if MSR is NULL, register REG ("eax"...) of
 * CPUID leaf LEAF (every subleaf).  A profile written by hand or by another
 * tool, which no baseline makes. */
static struct cf_profile *profile_edited_sub(const struct cf_profile *pr,
					     const char *msr, uint32_t leaf,
					     long subleaf, const char *reg,
					     const char *hex);

static struct cf_profile *profile_edited(const struct cf_profile *pr,
					 const char *msr, uint32_t leaf,
					 const char *reg, const char *hex)
{
	return profile_edited_sub(pr, msr, leaf, -1, reg, hex);
}

/* The same, only sub-leaf SUBLEAF of LEAF (-1: every one). */
static struct cf_profile *profile_edited_sub(const struct cf_profile *pr,
					     const char *msr, uint32_t leaf,
					     long subleaf, const char *reg,
					     const char *hex)
{
	struct cf_profile *out = NULL;
	struct cf_diag d;
	char *text = NULL, *edited;
	cJSON *doc, *x86, *e;

	if (cf_profile_to_json(pr, &text) != CF_OK)
		return NULL;
	doc = cJSON_Parse(text);
	free(text);
	x86 = cJSON_GetObjectItemCaseSensitive(doc, "x86");
	if (msr) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(x86, "msrs");
		if (!m)
			m = cJSON_AddObjectToObject(x86, "msrs");
		cJSON_DeleteItemFromObjectCaseSensitive(m, msr);
		cJSON_AddStringToObject(m, msr, hex);
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(x86, "cpuid")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "leaf");
		const cJSON *sl = cJSON_GetObjectItemCaseSensitive(e, "subleaf");
		if (!msr && cJSON_IsString(l) &&
		    strtoul(l->valuestring, NULL, 16) == leaf &&
		    (subleaf < 0 || (cJSON_IsString(sl) &&
		     strtol(sl->valuestring, NULL, 16) == subleaf)))
			cJSON_ReplaceItemInObjectCaseSensitive(
				e, reg, cJSON_CreateString(hex));
	}
	edited = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (edited && cf_profile_parse(edited, strlen(edited), "edited", &out,
				       &d) != CF_OK)
		fprintf(stderr, "\n  edited profile: %s\n", d.msg);
	free(edited);
	return out;
}

/* arch/x86/kvm/x86.c, adjust_tsc_khz(): KHZ moved by PPM, rounded down. */
static uint64_t adjust_tsc_khz(uint64_t khz, int64_t ppm)
{
	return khz * (uint64_t)(1000000 + ppm) / 1000000;
}

/* ---- tests ---- */

/* KVM_SET_TSC_KHZ without TSC scaling (arch/x86/kvm/x86.c,
 * kvm_set_tsc_khz(): a rate within [adjust_tsc_khz(khz, -250),
 * adjust_tsc_khz(khz, 250)], bounds included, needs no scaling;
 * adjust_tsc_khz() = khz * (1000000 + ppm) / 1000000, tsc_tolerance_ppm
 * 250; below that set_tsc_khz() fails, "user requested TSC rate below
 * hardware speed").  On a 2,000,000 kHz host: 1,999,500 is taken,
 * 1,999,499 is not; a pool of the 2,000,000 and 1,999,500 kHz hosts runs
 * at a rate inside both windows.  Kills accept-rate-strict and
 * accept-rate-ppm. */
static void test_edges_tsc_tolerance(void)
{
	struct cf_report *host = x86_doc("host", GENUINE_INTEL, "",
		",\"tsc_khz\":2000000,\"tsc_scaling\":false", "");
	struct cf_report *edge = x86_doc("edge", GENUINE_INTEL, "",
		",\"tsc_khz\":1999500,\"tsc_scaling\":false", "");
	struct cf_report *past = x86_doc("past", GENUINE_INTEL, "",
		",\"tsc_khz\":1999499,\"tsc_scaling\":false", "");
	struct cf_profile *pe, *pp, *pool;
	uint64_t khz = 0;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(edge);
	CU_ASSERT_PTR_NOT_NULL_FATAL(past);
	pe = own_profile(edge);
	pp = own_profile(past);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pe);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
	CU_ASSERT_TRUE(accepts(pe, host, "TSC_KHZ", NULL));
	CU_ASSERT_FALSE(accepts(pp, host, "TSC_KHZ", &named));
	CU_ASSERT_TRUE(named);
	/* A pool of the two: a rate inside both hosts' windows exists
	 * (1,999,500), and the baseline takes one. */
	pool = pool_of(host, edge);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(cf_profile_feasible(pool));
	CU_ASSERT_TRUE(cf_config_get_fact(pool->cfg, "TSC_KHZ", &khz));
	CU_ASSERT_TRUE(khz >= adjust_tsc_khz(2000000, -250) &&
		       khz <= adjust_tsc_khz(2000000, 250));
	CU_ASSERT_TRUE(khz >= adjust_tsc_khz(1999500, -250) &&
		       khz <= adjust_tsc_khz(1999500, 250));
	cf_profile_destroy(pool);
	cf_profile_destroy(pe);
	cf_profile_destroy(pp);
	cf_report_destroy(host);
	cf_report_destroy(edge);
	cf_report_destroy(past);
}

/* ---- VMX capability MSRs against KVM's own restore rules ---- */

/* arch/x86/kvm/vmx/nested.c, is_bitwise_subset(). */
static bool bitwise_subset(uint64_t superset, uint64_t subset, uint64_t mask)
{
	superset &= mask;
	subset &= mask;
	return (superset | subset) == superset;
}

enum vmx_rule { VMX_CONTROL, VMX_SUBSET, VMX_FIXED0, VMX_MISC, VMX_BASIC,
		VMX_ANY };

/* Whether KVM_SET_MSRS of DATA succeeds on a host whose value is HOST:
 * vmx_set_vmx_msr() and the vmx_restore_*() functions it calls
 * (arch/x86/kvm/vmx/nested.c), transcribed. */
static bool kvm_takes(enum vmx_rule rule, uint64_t host, uint64_t data)
{
	switch (rule) {
	case VMX_CONTROL:
		/* vmx_restore_control_msr(): "Check must-be-1 bits are still
		 * 1" (31:0), "Check must-be-0 bits are still 0" (63:32). */
		return bitwise_subset(data, host, 0xffffffffULL) &&
		       bitwise_subset(host, data, 0xffffffff00000000ULL);
	case VMX_SUBSET:
		/* vmx_restore_vmx_ept_vpid_cap(): "Every bit is either
		 * reserved or a feature bit"; VMFUNC: "data &
		 * ~vmcs_config.nested.vmfunc_controls" -> -EINVAL. */
		return bitwise_subset(host, data, ~0ULL);
	case VMX_FIXED0:
		/* vmx_restore_fixed0_msr(): the must-be-1 bits stay set. */
		return bitwise_subset(data, host, ~0ULL);
	case VMX_MISC:
		/* vmx_restore_vmx_misc(): features and reserved bits a subset;
		 * the preemption-timer rate equal (the pin-based controls
		 * allow the timer); CR3-target count and MSR-list size not
		 * above; MSEG revision equal. */
		if (!bitwise_subset(host, data, 1ULL << 5 | 7ULL << 6 | 1ULL << 14 |
				    1ULL << 15 | 7ULL << 28 | 0x1fULL << 9 |
				    1ULL << 31))
			return false;
		return (data & 0x1f) == (host & 0x1f) &&
		       (data >> 16 & 0x1ff) <= (host >> 16 & 0x1ff) &&
		       (data >> 25 & 7) <= (host >> 25 & 7) &&
		       data >> 32 == host >> 32;
	case VMX_BASIC:
		/* vmx_restore_vmx_basic(): features (49, 54, 55) and reserved
		 * bits (31, 47:45, 63:56) a subset, no 32-bit addresses (48),
		 * the revision equal, the VMCS size not below the host's. */
		if (!bitwise_subset(host, data, 1ULL << 49 | 1ULL << 54 |
				    1ULL << 55 | 1ULL << 31 | 7ULL << 45 |
				    0xffULL << 56))
			return false;
		return !(data & 1ULL << 48) &&
		       (data & 0x7fffffff) == (host & 0x7fffffff) &&
		       (host >> 32 & 0x1fff) <= (data >> 32 & 0x1fff);
	case VMX_ANY:
		/* IA32_VMX_VMCS_ENUM: stored as given. */
		return true;
	}
	return false;
}

/* Where the engine refuses, on purpose, a one-bit change KVM takes: a
 * larger VMCS, another memory type or no dual-monitor treatment in
 * IA32_VMX_BASIC (KVM does not check the type, and a guest must not be
 * told more than the host's VMCS size), and a VMCS_ENUM index above the
 * host's (KVM keeps any value, but a guest reading fields its KVM does
 * not know fails). */
static bool engine_stricter_ok(uint32_t index, uint64_t host, int bit)
{
	bool set = !(host >> bit & 1);

	if (index == 0x480)
		return (bit >= 32 && bit <= 44 && set) ||
		       (bit >= 50 && bit <= 53) || (bit == 49 && !set);
	if (index == 0x48a)
		return set;
	return false;
}

struct vmx_msr {
	uint32_t index;
	enum vmx_rule rule;
	uint64_t host;
};

/* An Intel report (x86_doc) carrying every MSR of MSR[0..N), the one at
 * FLIP (SIZE_MAX: none) with bit BIT changed. */
static struct cf_report *vmx_doc(const char *id, const struct vmx_msr *msr,
				 size_t n, size_t flip, int bit)
{
	char more[1024];
	size_t len = 0;

	len += (size_t)snprintf(more, sizeof(more), ",\"msrs\":{");
	for (size_t i = 0; i < n && len < sizeof(more); i++)
		len += (size_t)snprintf(more + len, sizeof(more) - len,
			"%s\"0x%08x\":\"0x%016llx\"", i ? "," : "",
			msr[i].index, (unsigned long long)(msr[i].host ^
			(i == flip ? 1ULL << bit : 0)));
	if (len < sizeof(more))
		snprintf(more + len, sizeof(more) - len, "}");
	return x86_doc(id, GENUINE_INTEL, "", more, "");
}

/* A control a host lacks that the one-bit guest turns on, where the
 * control exists only with a CPU feature these documents do not offer, so
 * the guest's own profile rightly leaves it out and there is nothing to
 * judge (QEMU target/i386/cpu.c feature_dependencies; SDM Vol. 3D
 * A.3.3, A.4, A.5): VM-exit "clear IA32_BNDCFGS" (23) and VM-entry "load
 * IA32_BNDCFGS" (16) need MPX; the secondary controls enable RDTSCP (3),
 * RDRAND exiting (11), enable INVPCID (12), RDSEED exiting (16), enable
 * XSAVES (20) and enable user wait and pause (26) need their instruction.
 * Allowed-1 control N is bit N + 32. */
static bool vmx_feature_control(uint32_t index, uint64_t host, int bit)
{
	static const int sec[] = { 3, 11, 12, 16, 20, 26 };

	if (host >> bit & 1)
		return false;
	if (index == 0x483 || index == 0x48f)
		return bit == 23 + 32;
	if (index == 0x484 || index == 0x490)
		return bit == 16 + 32;
	if (index == 0x48b)
		for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
			if (bit == sec[i] + 32)
				return true;
	return false;
}

/* Every VMX capability MSR a host reports, one bit changed at a time (all
 * 64): the engine never takes a value KVM refuses there (no false safe),
 * and takes every value KVM takes except where engine_stricter_ok() says.
 * The MSRs KVM derives and never restores are judged by the SDM's meaning
 * of their halves, the same rule: IA32_VMX_PINBASED/PROCBASED/EXIT/ENTRY
 * _CTLS (vmx_set_vmx_msr(): "return -EINVAL", they follow the TRUE_ ones;
 * SDM Vol. 3D A.3.1-A.5: bits 31:0 allowed-0, a 1 is a control that must
 * be 1; 63:32 allowed-1, a 0 is a control that must be 0) and
 * IA32_VMX_PROCBASED_CTLS3 (A.3.4: all 64 bits allowed-1).  CR0/CR4_FIXED1
 * follow the vCPU's CPUID and are not judged.  Host and guest carry every
 * MSR (one host's set, the primary controls allowing secondary and
 * tertiary ones, SDM A.3.2), so the controls that exist only with another
 * MSR's control are judged too; vmx_feature_control() names the five
 * one-bit guests with nothing to judge.  A pool of two hosts whose
 * pin-based controls differ forces what either forces and allows what both
 * allow.  Kills accept-or-subset, combine-or-and and the catalogue's
 * orset/andset, equal, number and default mutants of these MSRs. */
static void test_edges_vmx_msrs(void)
{
	static const struct vmx_msr msr[] = {
		{ 0x480, VMX_BASIC, 0x00d8100011e57ed0ULL },
		{ 0x481, VMX_CONTROL, 0x0000007f00000016ULL },
		{ 0x482, VMX_CONTROL, 0xfffbfffe0401e172ULL },
		{ 0x483, VMX_CONTROL, 0x003fffff00036dffULL },
		{ 0x484, VMX_CONTROL, 0x0000f3ff000011ffULL },
		{ 0x485, VMX_MISC, 0x00000000200401e5ULL },
		{ 0x486, VMX_FIXED0, 0x0000000080000021ULL },
		{ 0x488, VMX_FIXED0, 0x0000000000002000ULL },
		{ 0x48a, VMX_ANY, 0x000000000000002eULL },
		{ 0x48b, VMX_CONTROL, 0x1237bfff00000000ULL },
		{ 0x48c, VMX_SUBSET, 0x00000f0106734141ULL },
		{ 0x48d, VMX_CONTROL, 0x0000007f00000016ULL },
		{ 0x48e, VMX_CONTROL, 0xfffbfffe04006172ULL },
		{ 0x48f, VMX_CONTROL, 0x003fffff00036dfbULL },
		{ 0x490, VMX_CONTROL, 0x0000f3ff000011fbULL },
		{ 0x491, VMX_SUBSET, 0x0000000000000001ULL },
		{ 0x492, VMX_SUBSET, 0x000000000000000fULL },
	};
	const size_t n = sizeof(msr) / sizeof(msr[0]);
	size_t judged = 0, bad = 0;
	struct cf_report *host;

	host = vmx_doc("host", msr, n, SIZE_MAX, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 64; bit++) {
			uint64_t data = msr[i].host ^ 1ULL << bit;
			struct cf_report *guest;
			struct cf_profile *pr;
			bool kvm, engine;
			if (vmx_feature_control(msr[i].index, msr[i].host, bit))
				continue;
			guest = vmx_doc("guest", msr, n, i, bit);
			CU_ASSERT_PTR_NOT_NULL_FATAL(guest);
			pr = own_profile(guest);
			CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
			kvm = kvm_takes(msr[i].rule, msr[i].host, data);
			engine = accepts(pr, host, NULL, NULL);
			judged++;
			if ((engine && !kvm) ||
			    (!engine && kvm &&
			     !engine_stricter_ok(msr[i].index, msr[i].host, bit))) {
				if (!bad++)
					fprintf(stderr, "\n  MSR 0x%x bit %d: KVM %s, "
						"engine %s\n", msr[i].index, bit,
						kvm ? "takes it" : "refuses it",
						engine ? "takes it" : "refuses it");
			}
			cf_profile_destroy(pr);
			cf_report_destroy(guest);
		}
	}
	cf_report_destroy(host);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(judged, 17 * 64 - 5);
}

/* A pool of two hosts whose TRUE pin-based controls differ: the profile
 * forces every control either forces (allowed-0 a superset of both) and
 * allows only what both allow (allowed-1 within both), the one value
 * vmx_restore_control_msr() takes on each; and it is feasible. */
static void test_edges_vmx_pool(void)
{
	struct cf_report *a = x86_doc("a", GENUINE_INTEL, "",
		",\"msrs\":{\"0x0000048d\":\"0x0000007f00000016\"}", "");
	struct cf_report *b = x86_doc("b", GENUINE_INTEL, "",
		",\"msrs\":{\"0x0000048d\":\"0x0000003f00000006\"}", "");
	struct cf_profile *pool;
	uint64_t v = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pool = pool_of(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(cf_profile_feasible(pool));
	CU_ASSERT_TRUE(cf_config_get(pool->cfg, CF_X86_MSR_KEY(0x48d), &v, NULL));
	CU_ASSERT_TRUE(kvm_takes(VMX_CONTROL, 0x0000007f00000016ULL, v));
	CU_ASSERT_TRUE(kvm_takes(VMX_CONTROL, 0x0000003f00000006ULL, v));
	cf_profile_destroy(pool);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* The VMX capability MSRs exist only where CPUID.01H:ECX.VMX[5] is 1 (SDM
 * Vol. 3D A.1: "These MSRs ... are accessible only if CPUID.1:ECX.VMX =
 * 1"; QEMU feature_dependencies: VMX -> the VMX feature words): a guest
 * without VMX has none, so what a profile without vmx carries there
 * describes nothing the guest can read.  The profile of a nested-VMX host
 * with vmx cleared runs on a host whose KVM has no nested VMX (no vmx, no
 * such MSRs; the edited profile's leaf 1 ECX keeps only the hypervisor
 * bit, as SSE3 needs the SSE2 these documents lack).  The nested host's MSRs are KVM's nested values
 * (arch/x86/kvm/vmx/nested.c, nested_vmx_setup_ctls_msrs(): MISC with the
 * emulated preemption-timer rate 5, HLT and wait-for-SIPI, SAVE_EFER_LMA;
 * the primary controls allow "activate tertiary controls"; the tertiary
 * ones allow bits 0-3).  Kills the catalogue's gate-dropped mutants of the
 * VMX MSRs. */
static void test_edges_vmx_gated_without_vmx(void)
{
	struct cf_report *nested = x86_doc("nested", GENUINE_INTEL, "",
		",\"msrs\":{\"0x00000480\":\"0x00d8100011e57ed0\","
		"\"0x00000482\":\"0xfffbfffe0401e172\","
		"\"0x00000485\":\"0x0000000000000165\","
		"\"0x00000492\":\"0x000000000000000f\"}", "");
	struct cf_report *plain = x86_doc_regs("plain", GENUINE_INTEL, 0,
					       0x80000001, "", "", "");
	struct cf_profile *pr, *novmx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(nested);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	pr = own_profile(nested);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(accepts(pr, plain, NULL, NULL));
	novmx = profile_edited(pr, NULL, 1, "ecx", "0x80000000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(novmx);
	CU_ASSERT_TRUE(accepts(novmx, plain, NULL, NULL));
	CU_ASSERT_TRUE(accepts(novmx, nested, NULL, NULL));
	cf_profile_destroy(novmx);
	cf_profile_destroy(pr);
	cf_report_destroy(nested);
	cf_report_destroy(plain);
}

/* Features no CPU has without another, each a profile of Sapphire Rapids
 * (spr-05, which has them all) edited to lack the need, refused on that
 * very host naming the register of the feature kept:
 *  - FXSR without the x87 FPU (Linux arch/x86/kernel/cpu/cpuid-deps.c:
 *    { X86_FEATURE_FXSR, X86_FEATURE_FPU }): leaf 1 EDX bit 0 cleared;
 *  - SSE state in XCR0 without x87 state (SDM Vol. 1 13.3: "XCR0[0] is
 *    always 1", XSETBV #GP with it 0; CPUID.(EAX=0DH,ECX=0):EAX lists the
 *    XCR0 bits that may be 1): 0xD.0 EAX bit 0 cleared;
 *  - AVX without AVX state in XCR0 (SDM Vol. 1 14.3: software may use AVX
 *    only where XCR0[2:1] = 11b; Linux cpuid-deps.c { X86_FEATURE_AVX,
 *    X86_FEATURE_XSAVE }): 0xD.0 EAX bit 2 cleared, AVX (leaf 1 ECX bit
 *    28) kept.
 * Kills cpuid:needs-fxsr>fpu:dropped, cpuid:needs-xcr0_sse>xcr0_x87:dropped
 * and cpuid:needs-avx>xsave:dropped. */
static void test_edges_x86_needs(void)
{
	static const struct { uint32_t leaf; int reg; const char *name;
			      int clear; const char *named; } edit[] = {
		{ 0x1, 3, "edx", 0, "CPUID_00000001_0_EDX" },
		{ 0xd, 0, "eax", 0, "CPUID_0000000D_0_EAX" },
		{ 0xd, 0, "eax", 2, "CPUID_00000001_0_ECX" },
	};
	struct cf_report *spr = test_load_report("x86/spr-05.json");
	struct cf_profile *pr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(spr);
	pr = own_profile(spr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(accepts(pr, spr, NULL, NULL));
	for (size_t i = 0; i < sizeof(edit) / sizeof(edit[0]); i++) {
		struct cf_profile *bad;
		uint64_t v = 0;
		char hex[24];
		bool named;
		CU_ASSERT_TRUE(cf_config_get(pr->cfg, CF_X86_CPUID_KEY(
			edit[i].leaf, 0, edit[i].reg), &v, NULL));
		CU_ASSERT_EQUAL(v >> edit[i].clear & 1, 1);
		snprintf(hex, sizeof(hex), "0x%llx",
			 (unsigned long long)(v & ~(1ULL << edit[i].clear)));
		bad = profile_edited_sub(pr, NULL, edit[i].leaf, 0,
					 edit[i].name, hex);
		CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
		CU_ASSERT_FALSE(accepts(bad, spr, edit[i].named, &named));
		CU_ASSERT_TRUE(named);
		if (!named)
			fprintf(stderr, "\n  %s bit %d cleared: %s not named\n",
				edit[i].name, edit[i].clear, edit[i].named);
		cf_profile_destroy(bad);
	}
	cf_profile_destroy(pr);
	cf_report_destroy(spr);
}

/* Nested VMX capabilities that exist only with another feature, each a
 * nested host's profile edited to lack the need, refused on that host
 * naming the register of what it keeps:
 *  - the secondary control "RDRAND exiting" (11) without RDRAND (leaf 1
 *    ECX bit 30): QEMU's feature_dependencies clear it where RDRAND is off
 *    ({ FEAT_1_ECX, CPUID_EXT_RDRAND } -> VMX_SECONDARY_EXEC_RDRAND_EXITING),
 *    and KVM takes it out of the nested MSR for a guest without RDRAND
 *    (arch/x86/kvm/vmx/vmx.c, vmx_secondary_exec_control():
 *    vmx_adjust_sec_exec_exiting(..., rdrand, RDRAND));
 *  - IA32_VMX_VMFUNC without the secondary control "enable VM functions"
 *    (13): the MSR exists only with that control's 1-setting allowed (SDM
 *    Vol. 3D A.11).
 * Allowed-1 control N is bit N + 32 (SDM Vol. 3D A.3.3).  Kills
 * cpuid:needs-IA32_VMX_PROCBASED_CTLS2.allowed1:11>rdrand:dropped and
 * cpuid:needs-IA32_VMX_VMFUNC>IA32_VMX_PROCBASED_CTLS2.allowed1:13:dropped
 * and deps-present-all (VMFUNC is a FEATURE of 64 bits, one of them set). */
static void test_edges_vmx_needs(void)
{
	static const struct { const char *msr, *hex, *named; } edit[] = {
		/* leaf 1 ECX: hypervisor and VMX, no RDRAND (SSE3 needs
		 * SSE2, which these documents lack) */
		{ NULL, "0x80000020", "IA32_VMX_PROCBASED_CTLS2" },
		/* secondary controls without bit 45 */
		{ "0x0000048b", "0x12379fff00000000", "IA32_VMX_VMFUNC" },
	};
	struct cf_report *host = x86_doc_regs("nested", GENUINE_INTEL, 0,
		0xc0000021, "",
		",\"msrs\":{\"0x00000482\":\"0xfffbfffe0401e172\","
		"\"0x0000048b\":\"0x1237bfff00000000\","
		"\"0x00000491\":\"0x0000000000000001\"}", "");
	struct cf_profile *pr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	pr = own_profile(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(accepts(pr, host, NULL, NULL));
	for (size_t i = 0; i < sizeof(edit) / sizeof(edit[0]); i++) {
		struct cf_profile *bad = profile_edited(pr, edit[i].msr, 1,
							"ecx", edit[i].hex);
		bool named;
		CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
		CU_ASSERT_FALSE(accepts(bad, host, edit[i].named, &named));
		CU_ASSERT_TRUE(named);
		if (!named)
			fprintf(stderr, "\n  %s not named\n", edit[i].named);
		cf_profile_destroy(bad);
	}
	cf_profile_destroy(pr);
	cf_report_destroy(host);
}

/* A guest CPU of one vendor on a host of another is incompatible whatever
 * the features (libvirt src/cpu/cpu_x86.c, x86Compute(): "host CPU vendor
 * does not match required CPU vendor" -> VIR_CPU_COMPARE_INCOMPATIBLE).
 * An Intel host's own profile on an AMD host with the same leaves: refused,
 * naming the vendor register.  Kills accept-equal-true. */
static void test_edges_vendor(void)
{
	struct cf_report *intel = x86_doc("intel", GENUINE_INTEL, "", "", "");
	struct cf_report *amd = x86_doc("amd", AUTHENTIC_AMD, "", "", "");
	struct cf_profile *pr;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(intel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(amd);
	pr = own_profile(intel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(accepts(pr, intel, "CPUID_00000000_0_EBX", NULL));
	CU_ASSERT_FALSE(accepts(pr, amd, "CPUID_00000000_0_EBX", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(pr);
	cf_report_destroy(intel);
	cf_report_destroy(amd);
}

/* KVM_GET_SUPPORTED_CPUID leaf 6 EAX is ARAT (bit 2) alone
 * (arch/x86/kvm/cpuid.c, __do_cpuid_func(), case 6: "entry->eax = 0x4;
 * allow ARAT"), so a guest may never see, say, HWP (bit 7, SDM Vol. 2A
 * CPUID leaf 06H): a profile document wanting it (written by hand or by
 * another tool) is refused on a host whose report has 6.EAX = 0x4.
 * Kills accept-zero-any. */
static void test_edges_bits_kvm_never_offers(void)
{
	struct cf_report *host = x86_doc("host", GENUINE_INTEL, "", "", "");
	struct cf_profile *own, *hwp;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	own = own_profile(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	/* Leaf 6 EAX: ARAT and HWP. */
	hwp = profile_edited(own, NULL, 6, "eax", "0x00000084");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hwp);
	CU_ASSERT_TRUE(accepts(own, host, "CPUID_00000006_0_EAX", NULL));
	CU_ASSERT_FALSE(accepts(hwp, host, "CPUID_00000006_0_EAX", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(own);
	cf_profile_destroy(hwp);
	cf_report_destroy(host);
}

/* Signed ID fields are 4-bit two's complement (Arm ARM DDI 0487, D19.1.3,
 * "Principles of the ID scheme for fields in ID registers": a signed field
 * with its top bit set is negative, 0b1111 = -1 = not implemented).  For
 * every signed field of the arm64 catalogue, each of the 16 values reads
 * as (v ^ 8) - 8 and they order so.  Kills sign-bit. */
static void test_edges_signed_fields(void)
{
	const struct cf_arch_ops *a = cf_arch_find("arm64");
	size_t nsigned = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	for (size_t i = 0; i < a->catalog->nregs; i++) {
		const struct cf_reg *reg = &a->catalog->regs[i];
		for (int k = 0; k < reg->nfields; k++) {
			const struct cf_field *f = &reg->fields[k];
			if (!f->is_signed)
				continue;
			nsigned++;
			CU_ASSERT_EQUAL(f->width, 4);
			for (uint64_t v = 0; v < 16; v++) {
				int64_t want = (int64_t)(v ^ 8) - 8;
				CU_ASSERT_EQUAL(cf_field_get(f, v << f->shift), want);
				for (uint64_t u = 0; u < 16; u++) {
					int64_t wu = (int64_t)(u ^ 8) - 8;
					int c = cf_field_cmp(f, v, u);
					CU_ASSERT_EQUAL(c, (want > wu) - (want < wu));
				}
			}
		}
	}
	/* Linux's FTR_SIGNED fields (arch/arm64/kernel/cpufeature.c) are
	 * there: FP, AdvSIMD, TGran4, TGran64, DoubleLock... */
	CU_ASSERT_TRUE(nsigned >= 8);
}

/* KVM_ENABLE_CAP(KVM_CAP_X2APIC_API) fails on a KVM that does not offer
 * it (Documentation/virt/kvm/api.rst 7.7, and 4.37: "Not all extensions
 * are enabled by default"; KVM_CHECK_EXTENSION returns 0 for one it lacks,
 * 4.4), so a profile whose VMs enable it is refused on a host that shows
 * no such capability: its report has no KVM capabilities at all (a report
 * converted from a CPUID dump), or the bit is not among them.  Kills
 * enabled-absent-offered. */
static void test_edges_enabled_cap_not_shown(void)
{
	struct cf_report *with = x86_doc("with", GENUINE_INTEL, "", "",
		",\"kvm\":{\"caps\":{\"KVM_CAP_X2APIC_API\":3}}");
	struct cf_report *none = x86_doc("none", GENUINE_INTEL, "", "", "");
	struct cf_profile *pr;
	struct cf_diag d;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(with);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none);
	pr = own_profile(with);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, NULL, "KVM_CAP_X2APIC_API",
					      3, &d), CF_OK);
	CU_ASSERT_TRUE(accepts(pr, with, "KVM_CAP_X2APIC_API", NULL));
	CU_ASSERT_FALSE(accepts(pr, none, "KVM_CAP_X2APIC_API", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(pr);
	cf_report_destroy(with);
	cf_report_destroy(none);
}

/* A guest of A judged on B, both written here: compatible?  *NAMED (if
 * not NULL): a reason names REG. */
static bool a_on_b(const struct cf_report *a, const struct cf_report *b,
		   const char *reg, bool *named)
{
	struct cf_profile *pr = own_profile(a);
	bool ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	ok = accepts(pr, b, reg, named);
	cf_profile_destroy(pr);
	return ok;
}

#define LEAF(l, s, a, b, c, d) ",{\"leaf\":\"" l "\",\"subleaf\":\"" s \
	"\",\"eax\":\"" a "\",\"ebx\":\"" b "\",\"ecx\":\"" c "\",\"edx\":\"" d "\"}"

/* A guest told of a deprecation its host does not have is safe: CPUID
 * 7.0 EBX bit 6 (FDP_EXCPTN_ONLY: the x87 data pointer updated only on
 * x87 exceptions) and bit 13 (FPU CS and DS deprecated) say what software
 * may no longer rely on (SDM Vol. 2A, CPUID leaf 07H), and a CPU that
 * still keeps that state serves it as well; KVM takes a leaf the host
 * lacks (arch/x86/kvm/cpuid.c, kvm_set_cpuid(): kvm_check_cpuid() checks
 * only the XSAVE sizes and the guest's MAXPHYADDR).  The profile of a host
 * with leaf 7 holding only those two bits runs on one whose CPUID has no
 * leaf 7 at all.  Kills check-absent-fixed. */
static void test_edges_deprecation_on_older_host(void)
{
	struct cf_report *newer = x86_doc("newer", GENUINE_INTEL,
		LEAF("0x7", "0x0", "0x0", "0x2040", "0x0", "0x0"), "", "");
	struct cf_report *older = x86_doc("older", GENUINE_INTEL, "", "", "");
	struct cf_profile *pr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(newer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(older);
	pr = own_profile(newer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(accepts(pr, older, NULL, NULL));
	cf_profile_destroy(pr);
	cf_report_destroy(newer);
	cf_report_destroy(older);
}

/* CPUID.(EAX=0DH,ECX=2):EAX is the size of the AVX state component in the
 * XSAVE area of this CPU (Intel SDM Vol. 2A, CPUID leaf 0DH sub-leaf n >=
 * 2; Vol. 1, 13.2), which KVM passes on as the hardware gives it
 * (arch/x86/kvm/cpuid.c, __do_cpuid_func(), case 0xd): XSAVE on the host
 * writes that many bytes whatever the guest was told, so a guest told
 * another size is refused there, naming the sub-leaf.  Kills the
 * catalogue mutant cpuid:CPUID_0000000D_2_EAX.size:exact0>number. */
static void test_edges_xsave_component_size(void)
{
	struct cf_report *host = x86_doc("host", GENUINE_INTEL,
		LEAF("0xd", "0x0", "0x7", "0x340", "0x340", "0x0")
		LEAF("0xd", "0x2", "0x100", "0x240", "0x0", "0x0"), "", "");
	struct cf_report *other = x86_doc("other", GENUINE_INTEL,
		LEAF("0xd", "0x0", "0x7", "0x340", "0x340", "0x0")
		LEAF("0xd", "0x2", "0x80", "0x240", "0x0", "0x0"), "", "");
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_FALSE(a_on_b(other, host, "CPUID_0000000D_2_EAX", &named));
	CU_ASSERT_TRUE(named);
	cf_report_destroy(host);
	cf_report_destroy(other);
}

/* KVM's leaves 0x40000000.. start with the signature "KVMKVMKVM\0\0\0"
 * (Documentation/virt/kvm/x86/cpuid.rst: "This function queries the
 * presence of KVM cpuid leafs"); a guest that sees none uses no KVM
 * paravirtual feature, and KVM_SET_CPUID2 takes a table without them.  So
 * a report of a bare-metal dump (no such leaves) pools with a KVM host:
 * the profile has no signature, and both take it.  Kills the catalogue
 * mutant cpuid:CPUID_40000000_0_EDX.signature:exact0>equal. */
static void test_edges_kvm_signature(void)
{
	struct cf_report *kvm = x86_doc("kvm", GENUINE_INTEL,
		LEAF("0x40000000", "0x0", "0x40000001", "0x4b4d564b",
		     "0x564b4d56", "0x4d"), "", "");
	struct cf_report *bare = x86_doc("bare", GENUINE_INTEL, "", "", "");
	struct cf_profile *pool;
	uint64_t v = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(kvm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bare);
	pool = pool_of(kvm, bare);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(cf_profile_feasible(pool));
	if (cf_config_get(pool->cfg, CF_X86_CPUID_KEY(0x40000000u, 0, 3), &v, NULL))
		CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(accepts(pool, kvm, NULL, NULL));
	CU_ASSERT_TRUE(accepts(pool, bare, NULL, NULL));
	cf_profile_destroy(pool);
	cf_report_destroy(kvm);
	cf_report_destroy(bare);
}

/* KVM_GET_SUPPORTED_CPUID gives in leaf 0AH EAX[7:0] the highest
 * architectural PMU version KVM emulates (arch/x86/kvm/cpuid.c, case 0xa:
 * "eax.split.version_id = kvm_pmu_cap.version"; api.rst 4.46: what KVM
 * supports, to build KVM_SET_CPUID2's table from).  A guest told version 5
 * would use what a version-2 KVM does not emulate: refused there; version
 * 2 on a version-5 host is taken.  Kills the catalogue mutant
 * cpuid:CPUID_0000000A_0_EAX.version:number>pick. */
static void test_edges_pmu_version(void)
{
	struct cf_report *v2 = x86_doc("v2", GENUINE_INTEL,
		LEAF("0xa", "0x0", "0x07300402", "0x0", "0x0", "0x603"), "", "");
	struct cf_report *v5 = x86_doc("v5", GENUINE_INTEL,
		LEAF("0xa", "0x0", "0x07300405", "0x0", "0x0", "0x603"), "", "");
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v5);
	CU_ASSERT_FALSE(a_on_b(v5, v2, "CPUID_0000000A_0_EAX", &named));
	CU_ASSERT_TRUE(named);
	CU_ASSERT_TRUE(a_on_b(v2, v5, NULL, NULL));
	cf_report_destroy(v2);
	cf_report_destroy(v5);
}

/* Leaf 0AH EBX bit i = 1: architectural event i is not available (Intel
 * SDM Vol. 2A, CPUID leaf 0AH, EBX; EAX[31:24] says how many bits are
 * valid).  Bit 13, beyond the events cpuid.txt names, on a host with 14
 * valid bits: a guest told the event is there (0) is refused on the host
 * that lacks it (1).  Kills the catalogue mutant
 * cpuid:CPUID_0000000A_0_EBX:default-equal>vcpu. */
static void test_edges_pmu_event_unavailable(void)
{
	struct cf_report *lacks = x86_doc("lacks", GENUINE_INTEL,
		LEAF("0xa", "0x0", "0x0e300405", "0x2000", "0x0", "0x603"), "", "");
	struct cf_report *has = x86_doc("has", GENUINE_INTEL,
		LEAF("0xa", "0x0", "0x0e300405", "0x0", "0x0", "0x603"), "", "");
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lacks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(has);
	CU_ASSERT_FALSE(a_on_b(has, lacks, "CPUID_0000000A_0_EBX", &named));
	CU_ASSERT_TRUE(named);
	cf_report_destroy(lacks);
	cf_report_destroy(has);
}

/* The highest extended leaf is the guest's own: KVM answers CPUID from the
 * table the VMM set, a leaf above its maximum from that table too
 * (arch/x86/kvm/cpuid.c, kvm_cpuid(), get_out_of_range_cpuid_entry()), and
 * KVM_SET_CPUID2 does not compare it with the host's.  A guest whose table
 * goes to 0x80000008 (that leaf all zeros) runs on a host whose own goes to
 * 0x80000001.  Kills the catalogue mutant
 * cpuid:CPUID_80000000_0_EAX.max_ext_leaf:pick>number. */
static void test_edges_max_extended_leaf(void)
{
	struct cf_report *hi = x86_doc("hi", GENUINE_INTEL,
		LEAF("0x80000000", "0x0", "0x80000008", "0x0", "0x0", "0x0")
		LEAF("0x80000008", "0x0", "0x0", "0x0", "0x0", "0x0"), "", "");
	struct cf_report *lo = x86_doc("lo", GENUINE_INTEL,
		LEAF("0x80000000", "0x0", "0x80000001", "0x0", "0x0", "0x0"), "",
		"");

	CU_ASSERT_PTR_NOT_NULL_FATAL(hi);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lo);
	CU_ASSERT_TRUE(a_on_b(hi, lo, NULL, NULL));
	cf_report_destroy(hi);
	cf_report_destroy(lo);
}

/* Per-vCPU values the VMM fills for the topology it builds (QEMU,
 * target/i386/cpu.c, cpu_x86_cpuid(), cases 1 and 0x80000008): leaf 1 EBX
 * brand index (7:0), CLFLUSH size, logical count and initial APIC id (Intel
 * SDM Vol. 2A, CPUID.01H:EBX), and 0x80000008 ECX ApicIdSize (15:12, AMD
 * APM Vol. 3, Fn8000_0008_ECX).  Hosts that differ only there take each
 * other's guests and pool.  Kills the catalogue mutants
 * cpuid:CPUID_00000001_0_EBX.brand_index:vcpu>equal and
 * cpuid:CPUID_80000008_0_ECX.apic_id_size:vcpu>number. */
static void test_edges_per_vcpu_fields(void)
{
	struct cf_report *a = x86_doc_ebx("a", AUTHENTIC_AMD, 0x01080801,
		LEAF("0x80000000", "0x0", "0x80000008", "0x0", "0x0", "0x0")
		LEAF("0x80000008", "0x0", "0x0", "0x0", "0x7007", "0x0"), "", "");
	struct cf_report *b = x86_doc_ebx("b", AUTHENTIC_AMD, 0x3f100802,
		LEAF("0x80000000", "0x0", "0x80000008", "0x0", "0x0", "0x0")
		LEAF("0x80000008", "0x0", "0x0", "0x0", "0x403f", "0x0"), "", "");
	struct cf_profile *pool;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_TRUE(a_on_b(a, b, NULL, NULL));
	CU_ASSERT_TRUE(a_on_b(b, a, NULL, NULL));
	pool = pool_of(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(cf_profile_feasible(pool));
	cf_profile_destroy(pool);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* DE_CFG (MSR 0xC0011029): KVM takes from userspace only the bits it
 * reports (arch/x86/kvm/svm/svm.c, svm_set_msr(), MSR_AMD64_DE_CFG: "if
 * (data & ~supported_de_cfg) return 1"), LFENCE_SERIALIZE (bit 1) alone.
 * The own profile of a report with bit 2 set too carries a value KVM takes
 * on a host reporting 0x2; a profile document with bit 2 is refused there.
 * Kills the catalogue mutant cpuid:DE_CFG:default-zero>vcpu. */
static void test_edges_de_cfg(void)
{
	struct cf_report *host = x86_doc("host", AUTHENTIC_AMD, "",
		",\"msrs\":{\"0xc0011029\":\"0x2\"}", "");
	struct cf_report *more = x86_doc("more", AUTHENTIC_AMD, "",
		",\"msrs\":{\"0xc0011029\":\"0x6\"}", "");
	struct cf_profile *own, *doc;
	uint64_t v = ~0ULL;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(more);
	own = own_profile(more);
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	CU_ASSERT_TRUE(cf_config_get(own->cfg, CF_X86_MSR_KEY(0xc0011029u), &v,
				     NULL));
	CU_ASSERT_EQUAL(v & ~0x2ULL, 0);
	CU_ASSERT_TRUE(accepts(own, host, NULL, NULL));
	doc = profile_edited(own, "0xc0011029", 0, NULL, "0x6");
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_FALSE(accepts(doc, host, "DE_CFG", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(own);
	cf_profile_destroy(doc);
	cf_report_destroy(host);
	cf_report_destroy(more);
}

/* ---- KVM capabilities ---- */

/* What KVM_CHECK_EXTENSION returns for these capabilities, from the
 * kernel's kvm_vm_ioctl_check_extension() (arch/x86/kvm/x86.c,
 * arch/arm64/kvm/arm.c) and kvm_vm_ioctl_check_extension_generic()
 * (virt/kvm/kvm_main.c): a yes/no (bool), a number (count) or a set of
 * bits (bitmask), as arch/caps/caps.txt must say.  Kills the catalogue
 * mutants caps:...:bool>count, bitmask>count and count>bitmask. */
static void test_edges_cap_kinds(void)
{
	static const struct { const char *arch, *cap, *kind; } want[] = {
		/* arm.c: "r = cpus_have_final_cap(ARM64_HAS_HCR_NV1)" */
		{ "arm64", "KVM_CAP_ARM_EL2_E2H0", "bool" },
		/* arm.c: with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS..., "r = 1" */
		{ "arm64", "KVM_CAP_ARM_SEA_TO_USER", "bool" },
		/* x86.c: "r = kvm_caps.supported_quirks" */
		{ "x86", "KVM_CAP_DISABLE_QUIRKS2", "bitmask" },
		/* kvm_main.c: kvm_gmem_get_supported_flags() */
		{ "x86", "KVM_CAP_GUEST_MEMFD_FLAGS", "bitmask" },
		/* kvm_main.c: "KVM_DIRTY_RING_MAX_ENTRIES * sizeof(struct
		 * kvm_dirty_gfn)", a size in bytes */
		{ "x86", "KVM_CAP_DIRTY_LOG_RING_ACQ_REL", "count" },
		/* x86.c: "r = APIC_BUS_CYCLE_NS_DEFAULT", nanoseconds */
		{ "x86", "KVM_CAP_X86_APIC_BUS_CYCLES_NS", "count" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cf_catalog *c = cf_arch_find(want[i].arch)->catalog;
		int r = cf_catalog_find_name(c, want[i].cap);
		CU_ASSERT_FATAL(r >= 0);
		CU_ASSERT_STRING_EQUAL(c->regs[r].fields[0].name, want[i].kind);
	}
}

/* KVM_ENABLE_CAP(KVM_CAP_DISABLE_QUIRKS2) fails with a quirk KVM_CHECK_
 * EXTENSION does not list (arch/x86/kvm/x86.c, kvm_vm_ioctl_enable_cap():
 * "if (cap->args[0] & ~kvm_caps.supported_quirks) break" with r =
 * -EINVAL): VMs that disable quirk 0 are refused on a host that can
 * disable only quirk 1, though 1 < 2 as numbers. */
static void test_edges_quirks_are_bits(void)
{
	struct cf_report *host = x86_doc("host", GENUINE_INTEL, "", "",
		",\"kvm\":{\"caps\":{\"KVM_CAP_DISABLE_QUIRKS2\":2}}");
	struct cf_profile *pr;
	struct cf_diag d;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(host);
	pr = own_profile(host);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_EQUAL(cf_profile_enable_cap(pr, NULL, "KVM_CAP_DISABLE_QUIRKS2",
					      1, &d), CF_OK);
	CU_ASSERT_FALSE(accepts(pr, host, "KVM_CAP_DISABLE_QUIRKS2", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(pr);
	cf_report_destroy(host);
}

/* A pool's common value of a set of flags is the flags every host offers
 * (the AND): KVM_CAP_GUEST_MEMFD_FLAGS lists the flags KVM_CREATE_GUEST_
 * MEMFD takes (virt/kvm/kvm_main.c, kvm_gmem_get_supported_flags()); of
 * 0x3 and 0x5 only flag 0 is taken by both. */
static void test_edges_pool_flag_caps(void)
{
	struct cf_report *a = x86_doc("a", GENUINE_INTEL, "", "",
		",\"kvm\":{\"caps\":{\"KVM_CAP_GUEST_MEMFD_FLAGS\":3}}");
	struct cf_report *b = x86_doc("b", GENUINE_INTEL, "", "",
		",\"kvm\":{\"caps\":{\"KVM_CAP_GUEST_MEMFD_FLAGS\":5}}");
	const struct cf_catalog *c = cf_arch_find("x86")->catalog;
	int r = cf_catalog_find_name(c, "KVM_CAP_GUEST_MEMFD_FLAGS");
	struct cf_profile *pool;
	uint64_t v = 0;

	CU_ASSERT_FATAL(r >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pool = pool_of(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(cf_config_get(pool->cfg, c->regs[r].key, &v, NULL));
	CU_ASSERT_EQUAL(v, 1);
	cf_profile_destroy(pool);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* What each capability role does, judged by what a VM can do with the
 * capability (Documentation/virt/kvm/api.rst, linux-next): a capability
 * whose state the guest sees or must migrate is one a profile's VMs may
 * enable, and then a host without it is refused, naming it, and a host
 * with it is not; one the guest never sees (the VMM's ioctls, exits and
 * dirty logging), a default the VMM may set, or a VM size limit cannot be
 * enabled by a profile, and only a vCPU limit (4.7: KVM_CREATE_VCPU
 * refuses more than KVM_CAP_MAX_VCPUS) sends the user to check --vcpus.
 * Kills the catalogue's role mutants (guest <-> mechanism, setting ->
 * capacity). */
enum cap_does { CAP_ENABLE, CAP_NO_ENABLE, CAP_VCPUS };

static void test_edges_cap_roles(void)
{
	static const struct { const char *arch, *cap; enum cap_does does;
			      uint64_t val; } want[] = {
		/* 4.24 KVM_CREATE_IRQCHIP: the interrupt controller the
		 * guest programs; 4.26/4.27 KVM_GET/SET_IRQCHIP move its
		 * state. */
		{ "x86", "KVM_CAP_IRQCHIP", CAP_ENABLE, 1 },
		{ "arm64", "KVM_CAP_IRQCHIP", CAP_ENABLE, 1 },
		/* 7.7: 32-bit APIC ids, the LAPIC state format. */
		{ "x86", "KVM_CAP_X2APIC_API", CAP_ENABLE, 3 },
		/* 4.35 KVM_SET_USER_MEMORY_REGION, the VMM's memory slots. */
		{ "x86", "KVM_CAP_USER_MEMORY", CAP_NO_ENABLE, 1 },
		/* 7.18: how KVM_GET_DIRTY_LOG/KVM_CLEAR_DIRTY_LOG protect
		 * pages for the VMM's dirty tracking. */
		{ "x86", "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", CAP_NO_ENABLE, 3 },
		/* 8.9: timer and PMU levels reported to a user-space
		 * irqchip in kvm_run. */
		{ "arm64", "KVM_CAP_ARM_USER_IRQ", CAP_NO_ENABLE, 1 },
		/* 7.x KVM_CAP_ARM_SEA_TO_USER: external aborts exit to the
		 * VMM. */
		{ "arm64", "KVM_CAP_ARM_SEA_TO_USER", CAP_NO_ENABLE, 1 },
		/* 7.39 and KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES: the eager-split
		 * chunk size and the sizes it may take, host page-table
		 * tuning. */
		{ "arm64", "KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE", CAP_NO_ENABLE, 1 },
		{ "arm64", "KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES", CAP_NO_ENABLE, 1 },
		/* 7.35: the APIC bus period the VMM may set. */
		{ "x86", "KVM_CAP_X86_APIC_BUS_CYCLES_NS", CAP_NO_ENABLE, 1 },
		/* 4.7 */
		{ "x86", "KVM_CAP_MAX_VCPUS", CAP_VCPUS, 8 },
		{ "arm64", "KVM_CAP_MAX_VCPUS", CAP_VCPUS, 8 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool x86 = !strcmp(want[i].arch, "x86");
		char caps[128];
		struct cf_report *with, *none;
		struct cf_profile *pr;
		struct cf_diag d;
		enum cf_err err;
		bool named;

		snprintf(caps, sizeof(caps), ",\"kvm\":{\"caps\":{\"%s\":%llu}}",
			 want[i].cap, (unsigned long long)want[i].val);
		with = x86 ? x86_doc("with", GENUINE_INTEL, "", "", caps)
			   : test_load_report("lab/reports/n1.json");
		none = x86 ? x86_doc("none", GENUINE_INTEL, "", "", "")
			   : test_reportf("none", "\"arm64\":{\"id_regs\":{}}");
		CU_ASSERT_PTR_NOT_NULL_FATAL(with);
		CU_ASSERT_PTR_NOT_NULL_FATAL(none);
		pr = own_profile(with);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		err = cf_profile_enable_cap(pr, NULL, want[i].cap, want[i].val, &d);
		if (want[i].does == CAP_ENABLE) {
			if (err != CF_OK)
				fprintf(stderr, "\n  %s %s: %s\n", want[i].arch,
					want[i].cap, d.msg);
			CU_ASSERT_EQUAL(err, CF_OK);
			CU_ASSERT_TRUE(accepts(pr, with, want[i].cap, &named));
			CU_ASSERT_FALSE(named);
			CU_ASSERT_FALSE(accepts(pr, none, want[i].cap, &named));
			CU_ASSERT_TRUE(named);
		} else {
			if (err != CF_EINVAL)
				fprintf(stderr, "\n  %s %s: enabled\n",
					want[i].arch, want[i].cap);
			CU_ASSERT_EQUAL(err, CF_EINVAL);
			CU_ASSERT_EQUAL(strstr(d.msg, "--vcpus") != NULL,
					want[i].does == CAP_VCPUS);
		}
		cf_profile_destroy(pr);
		cf_report_destroy(with);
		cf_report_destroy(none);
	}
}

/* ---- arm64 ---- */

#define ID_DFR0_KEY (3u << 14 | 1u << 3 | 2)  /* ID_DFR0_EL1: 3 0 0 1 2 */

/* An arm64 host whose ID_DFR0_EL1 has PerfMon PERFMON and CopDbg 6
 * (Armv8.0 debug), both writable (the mask KVM 6.12 reports,
 * research/arm64-kvm.md 2.4: PerfMon 27:24, CopDbg 3:0). */
static struct cf_report *perfmon_host(const char *id, unsigned perfmon)
{
	return test_reportf(id, "\"arm64\":{\"id_regs\":{\"ID_DFR0_EL1\":"
			    "\"0x%x\"},\"writable\":{\"ID_DFR0_EL1\":"
			    "\"0x000000000f00000f\"}}", perfmon << 24 | 6);
}

/* KVM's setter refuses a non-zero PerfMon below PMUv3 (3) whatever the
 * host (arch/arm64/kvm/sys_regs.c, set_id_dfr0_el1(): "perfmon != 0 &&
 * perfmon < ID_DFR0_EL1_PerfMon_PMUv3" -> -EINVAL), and PerfMon is
 * FTR_LOWER_SAFE for a write (arm64_check_features()).  So a host whose
 * limit is 1 takes only 0, one whose limit is 4 takes 0, 3 and 4: a pool
 * of the two is feasible at PerfMon 0.  (No KVM reports a limit of 1 or
 * 2, which derives from PMUVer, but a report may say so.)  Kills
 * dofield-floor-fallback. */
static void test_edges_floor_in_a_pool(void)
{
	struct cf_report *v1 = perfmon_host("v1", 1);
	struct cf_report *v3 = perfmon_host("v3", 4);
	struct cf_profile *pr;
	uint64_t v = ~0ULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
	pr = pool_of(v1, v3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_TRUE(cf_profile_feasible(pr));
	CU_ASSERT_TRUE(cf_config_get(pr->cfg, ID_DFR0_KEY, &v, NULL));
	CU_ASSERT_EQUAL(v >> 24 & 0xf, 0);
	CU_ASSERT_EQUAL(v & 0xf, 6);
	cf_profile_destroy(pr);
	cf_report_destroy(v1);
	cf_report_destroy(v3);
}

/* A register one host's KVM lists (KVM_GET_REG_LIST) and another's does
 * not: KVM_SET_ONE_REG of it fails there (Documentation/virt/kvm/api.rst
 * 4.68, "ENOENT: no such register"), so the saved state of a vCPU of the
 * first cannot be restored on the second: no common profile.  And a
 * register no catalogue describes, reported by both with different
 * values: KVM keeps every bit outside the writable mask at the host's
 * value (sys_regs.c, arm64_check_features(): "(val & ~mask) != (limit &
 * ~mask)" -> -E2BIG), and nothing marks it writable, so again none.
 * Kills missing-reg-ignored and extras-unequal. */
static void test_edges_registers_not_everywhere(void)
{
	struct cf_report *a = test_reportf("a", "\"arm64\":{\"id_regs\":{"
		"\"ID_AA64MMFR4_EL1\":\"0x0\",\"S3_0_C0_C7_7\":\"0x1\"}}");
	struct cf_report *b = test_reportf("b", "\"arm64\":{\"id_regs\":{"
		"\"S3_0_C0_C7_7\":\"0x1\"}}");
	struct cf_report *c = test_reportf("c", "\"arm64\":{\"id_regs\":{"
		"\"S3_0_C0_C7_7\":\"0x2\"}}");
	struct cf_profile *pr;
	char name[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	pr = pool_of(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL_FATAL(pr->nconf, 1);
	cf_conflict_name(pr, &pr->conf[0], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "ID_AA64MMFR4_EL1");
	cf_profile_destroy(pr);
	pr = pool_of(b, c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_FALSE(cf_profile_feasible(pr));
	CU_ASSERT_EQUAL_FATAL(pr->nconf, 1);
	cf_conflict_name(pr, &pr->conf[0], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "S3_0_C0_C7_7");
	cf_profile_destroy(pr);
	cf_report_destroy(a);
	cf_report_destroy(b);
	cf_report_destroy(c);
}

/* KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 (arch/arm64/kvm/hypercalls.c,
 * kvm_arm_set_fw_reg(): the level written, NOT_AVAIL 0 / UNKNOWN 1 read as
 * NOT_AVAIL and AVAIL 2 / NOT_REQUIRED 3 as NOT_REQUIRED, must not exceed
 * the host's, get_kernel_wa_level(): "We can deal with NOT_AVAIL on
 * NOT_REQUIRED, but not the other way around").  A guest of a host that
 * needs no SSB workaround (3) cannot go to one without it (0); the other
 * way it can.  Kills the catalogue mutants
 * idregs:KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2.Level:lower>any and
 * idregs:KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2:writable>0. */
static void test_edges_ssb_workaround_level(void)
{
	static const char *const fmt = "\"arm64\":{\"id_regs\":{},"
		"\"fw_regs\":{\"KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2\":\"%s\"}}";
	struct cf_report *safe = test_reportf("safe", fmt, "0x3");
	struct cf_report *bare = test_reportf("bare", fmt, "0x0");
	struct cf_profile *ps, *pb;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(safe);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bare);
	ps = own_profile(safe);
	pb = own_profile(bare);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	CU_ASSERT_FALSE(accepts(ps, bare, "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2",
				&named));
	CU_ASSERT_TRUE(named);
	CU_ASSERT_TRUE(accepts(pb, safe, NULL, NULL));
	cf_profile_destroy(ps);
	cf_profile_destroy(pb);
	cf_report_destroy(safe);
	cf_report_destroy(bare);
}

/* KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3 (hypercalls.c, kvm_arm_set_fw_reg():
 * "if (get_kernel_wa_level(reg->id) < val) return -EINVAL", the level a
 * 4-bit number, 0 NOT_AVAIL, 1 AVAIL, 2 NOT_REQUIRED): a level of 8 (a
 * profile written by another tool, or a later SMCCC) is above a host's 2,
 * so refused there; the levels are numbers, not signed ID fields.  And 0
 * is below every level: taken.  Kills the catalogue mutants
 * idregs:KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3.Level:unsigned>signed and
 * idregs:KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3:writable>0. */
static void test_edges_bhb_workaround_level(void)
{
	static const char *const fmt = "\"arm64\":{\"id_regs\":{},"
		"\"fw_regs\":{\"KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3\":\"%s\"}}";
	struct cf_report *zero = test_reportf("zero", fmt, "0x0");
	struct cf_report *two = test_reportf("two", fmt, "0x2");
	struct cf_report *eight = test_reportf("eight", fmt, "0x8");
	struct cf_profile *pe, *pz;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(zero);
	CU_ASSERT_PTR_NOT_NULL_FATAL(two);
	CU_ASSERT_PTR_NOT_NULL_FATAL(eight);
	pe = own_profile(eight);
	pz = own_profile(zero);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pe);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pz);
	CU_ASSERT_FALSE(accepts(pe, two, "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3",
				&named));
	CU_ASSERT_TRUE(named);
	/* 0 (NOT_AVAIL) is below any host's level: taken. */
	CU_ASSERT_TRUE(accepts(pz, two, NULL, NULL));
	cf_profile_destroy(pe);
	cf_profile_destroy(pz);
	cf_report_destroy(zero);
	cf_report_destroy(two);
	cf_report_destroy(eight);
}

/* The in-kernel vGIC (KVM fact VGIC: 2 or 3) is the device a VMM creates
 * and restores (Documentation/virt/kvm/devices/arm-vgic.rst and
 * arm-vgic-v3.rst: KVM_DEV_TYPE_ARM_VGIC_V2, _V3, each with its own saved
 * state).  A GICv3 host creates a GICv2 only if its hardware can emulate
 * one (arch/arm64/kvm/vgic/vgic-init.c, kvm_vgic_create(): "type ==
 * KVM_DEV_TYPE_ARM_VGIC_V2 && !kvm_vgic_global_state.can_emulate_gicv2" ->
 * -ENODEV), which no report says, and a GICv2 host has no GICv3 to
 * create: a guest of one model is refused on a host of the other, either
 * way.  Kills idregs:VGIC:writable>all. */
static void test_edges_vgic_model(void)
{
	static const char *const fmt = "\"arm64\":{\"id_regs\":{},"
		"\"kvm_facts\":{\"VGIC\":\"%s\"}}";
	struct cf_report *v2 = test_reportf("v2", fmt, "0x2");
	struct cf_report *v3 = test_reportf("v3", fmt, "0x3");
	struct cf_profile *p2, *p3;
	bool named;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
	p2 = own_profile(v2);
	p3 = own_profile(v3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p3);
	CU_ASSERT_FALSE(accepts(p2, v3, "VGIC", &named));
	CU_ASSERT_TRUE(named);
	CU_ASSERT_FALSE(accepts(p3, v2, "VGIC", &named));
	CU_ASSERT_TRUE(named);
	cf_profile_destroy(p2);
	cf_profile_destroy(p3);
	cf_report_destroy(v2);
	cf_report_destroy(v3);
}

static CU_TestInfo tests[] = {
	TEST(test_edges_tsc_tolerance),
	TEST(test_edges_vmx_msrs),
	TEST(test_edges_vmx_pool),
	TEST(test_edges_vmx_gated_without_vmx),
	TEST(test_edges_x86_needs),
	TEST(test_edges_vmx_needs),
	TEST(test_edges_vendor),
	TEST(test_edges_bits_kvm_never_offers),
	TEST(test_edges_deprecation_on_older_host),
	TEST(test_edges_enabled_cap_not_shown),
	TEST(test_edges_xsave_component_size),
	TEST(test_edges_kvm_signature),
	TEST(test_edges_pmu_version),
	TEST(test_edges_pmu_event_unavailable),
	TEST(test_edges_max_extended_leaf),
	TEST(test_edges_per_vcpu_fields),
	TEST(test_edges_de_cfg),
	TEST(test_edges_cap_kinds),
	TEST(test_edges_quirks_are_bits),
	TEST(test_edges_cap_roles),
	TEST(test_edges_pool_flag_caps),
	TEST(test_edges_signed_fields),
	TEST(test_edges_floor_in_a_pool),
	TEST(test_edges_registers_not_everywhere),
	TEST(test_edges_ssb_workaround_level),
	TEST(test_edges_bhb_workaround_level),
	TEST(test_edges_vgic_model),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_edges = { "edges", NULL, NULL, NULL, NULL, tests };
