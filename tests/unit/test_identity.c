/* Canonical identities (engine/identity.c): the fingerprint and the content
 * identity of a report depend on what it says, not on the CPU of the host
 * it was collected on (issue 17 case 3) nor on the catalogue's layout
 * (case 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "arch/x86/x86.h"
#include "engine/identity.h"
#include "engine/report.h"
#include "profiles/doc.h"
#include "tests/unit/suites.h"

#define SPR "x86/spr-05.json"

/* ---- documents ---- */

static cJSON *load_doc(const char *rel)
{
	cJSON *o = test_load_json(rel);

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	return o;
}

static struct cf_report *parse_doc(const cJSON *o)
{
	struct cf_report *r = test_report_of_json(o);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

/* The x86 report's CPUID entry (LEAF, SUB), or NULL. */
static cJSON *cpuid_entry(cJSON *doc, uint32_t leaf, uint32_t sub)
{
	cJSON *x86 = cJSON_GetObjectItemCaseSensitive(doc, "x86");
	cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(x86, "cpuid")) {
		const char *l = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "leaf"));
		const char *s = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "subleaf"));
		if (l && s && strtoul(l, NULL, 16) == leaf &&
		    strtoul(s, NULL, 16) == sub)
			return e;
	}
	return NULL;
}

static uint32_t get_reg(cJSON *doc, uint32_t leaf, uint32_t sub,
			const char *reg)
{
	cJSON *e = cpuid_entry(doc, leaf, sub);
	const char *v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, reg));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	return (uint32_t)strtoul(v, NULL, 16);
}

static void set_reg(cJSON *doc, uint32_t leaf, uint32_t sub, const char *reg,
		    uint32_t value)
{
	cJSON *e = cpuid_entry(doc, leaf, sub);
	char hex[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	snprintf(hex, sizeof(hex), "0x%08x", value);
	cJSON_ReplaceItemInObjectCaseSensitive(e, reg, cJSON_CreateString(hex));
}

/* What CPUID shows on another logical CPU of the same host, and what the
 * OS of the host changes: the fields the Intel SDM (Vol. 2A, CPUID)
 * defines per logical processor or by the OS's own settings.  No flag of
 * a feature changes. */
static void other_cpu(cJSON *doc, uint32_t apic_id)
{
	/* 01H:EBX[31:24] Initial APIC ID. */
	set_reg(doc, 1, 0, "ebx", (get_reg(doc, 1, 0, "ebx") & 0x00ffffff) |
				  apic_id << 24);
	/* 0BH and 1FH: EDX[31:0] x2APIC ID of the current logical processor. */
	set_reg(doc, 0xb, 0, "edx", apic_id);
	set_reg(doc, 0xb, 1, "edx", apic_id);
	set_reg(doc, 0x1f, 0, "edx", apic_id);
	set_reg(doc, 0x1f, 1, "edx", apic_id);
	/* 01H:ECX[27] OSXSAVE: the OS set CR4.OSXSAVE. */
	set_reg(doc, 1, 0, "ecx", get_reg(doc, 1, 0, "ecx") ^ 1u << 27);
	/* 0DH.0:EBX: the XSAVE area size of the features enabled in XCR0. */
	set_reg(doc, 0xd, 0, "ebx", get_reg(doc, 0xd, 0, "ebx") + 0x40);
}

static void content_id(const struct cf_report *r, char id[CF_CONTENT_ID_MAX])
{
	CU_ASSERT_EQUAL(cf_report_content_id(r, id, CF_CONTENT_ID_MAX), CF_OK);
}

/* A and B have one fingerprint and one content identity (SAME), or other
 * ones (!SAME). */
static void expect_same_reports(const struct cf_report *a,
				const struct cf_report *b, bool same)
{
	char ia[CF_CONTENT_ID_MAX], ib[CF_CONTENT_ID_MAX];

	content_id(a, ia);
	content_id(b, ib);
	CU_ASSERT_EQUAL(cf_report_fingerprint(a) == cf_report_fingerprint(b),
			same);
	CU_ASSERT_EQUAL(strcmp(ia, ib) == 0, same);
}

/* The same for the reports of documents A and B (deleted here). */
static void expect_same(cJSON *a, cJSON *b, bool same)
{
	struct cf_report *ra = parse_doc(a), *rb = parse_doc(b);

	expect_same_reports(ra, rb, same);
	cf_report_destroy(ra);
	cf_report_destroy(rb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* ---- case 3: the CPU a report was collected on ---- */

static void test_identity_per_vcpu_bits_do_not_count(void)
{
	cJSON *b = load_doc(SPR), *c = load_doc(SPR);

	other_cpu(b, 5);
	expect_same(load_doc(SPR), b, true);
	/* Control: 07H.0:EBX[16] AVX512F, a feature flag (SDM). */
	set_reg(c, 7, 0, "ebx", get_reg(c, 7, 0, "ebx") ^ 1u << 16);
	expect_same(load_doc(SPR), c, false);
}

/* Adds CPUID entry (LEAF, SUB) with EDX = X2APIC to the x86 report DOC. */
static void add_entry(cJSON *doc, uint32_t leaf, uint32_t sub, uint32_t ecx,
		      uint32_t x2apic)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "x86"), "cpuid");
	cJSON *e = cJSON_CreateObject();
	char hex[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	snprintf(hex, sizeof(hex), "0x%08x", leaf);
	cJSON_AddStringToObject(e, "leaf", hex);
	snprintf(hex, sizeof(hex), "0x%08x", sub);
	cJSON_AddStringToObject(e, "subleaf", hex);
	cJSON_AddStringToObject(e, "eax", "0x00000000");
	cJSON_AddStringToObject(e, "ebx", "0x00000000");
	snprintf(hex, sizeof(hex), "0x%08x", ecx);
	cJSON_AddStringToObject(e, "ecx", hex);
	snprintf(hex, sizeof(hex), "0x%08x", x2apic);
	cJSON_AddStringToObject(e, "edx", hex);
	cJSON_AddItemToArray(list, e);
}

/* Kernels before commit 45e966fcca03 (2022) list every topology subleaf
 * of 0xB and 0x1F up to the first invalid one; SDM Vol. 2A CPUID.0BH: an
 * invalid subleaf has EAX = EBX = 0, ECX[7:0] = the subleaf, ECX[15:8] =
 * 0 and still the x2APIC id in EDX.  Two CPUs, one identity. */
static void test_identity_old_kernel_topology_subleaves(void)
{
	cJSON *a = load_doc(SPR), *b = load_doc(SPR);

	add_entry(a, 0xb, 2, 2, 0);
	add_entry(b, 0xb, 2, 2, 9);
	/* 0x1F on a CPU with SMT, core, module, tile, die, die group. */
	add_entry(a, 0x1f, 6, 6, 0);
	add_entry(b, 0x1f, 6, 6, 9);
	expect_same(a, b, true);
}

/* The normaliser `collect` applies: one host reads the same on every CPU,
 * in the values themselves. */
static void test_identity_collect_normaliser(void)
{
	cJSON *a = load_doc(SPR), *b = load_doc(SPR);
	struct cf_report *ra, *rb;
	struct cf_config *ca = NULL, *cb = NULL;
	uint64_t v, flags7;

	other_cpu(b, 0x2a);
	ra = parse_doc(a);
	rb = parse_doc(b);
	CU_ASSERT_TRUE(cf_config_get(ra->cfg, CF_X86_CPUID_KEY(7, 0, 1), &flags7,
				     NULL));
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(ra->cfg, &ca), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(rb->cfg, &cb), CF_OK);
	cf_config_clear_per_vcpu(ca);
	cf_config_clear_per_vcpu(cb);
	/* SDM: 01H:EBX[31:24] and 0BH/1FH EDX are APIC ids, filled per vCPU. */
	CU_ASSERT_TRUE(cf_config_get(cb, CF_X86_CPUID_KEY(1, 0, 1), &v, NULL));
	CU_ASSERT_EQUAL(v >> 24, 0);
	CU_ASSERT_TRUE(cf_config_get(cb, CF_X86_CPUID_KEY(0xb, 0, 3), &v, NULL));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(cf_config_get(cb, CF_X86_CPUID_KEY(0x1f, 1, 3), &v, NULL));
	CU_ASSERT_EQUAL(v, 0);
	/* 01H:ECX[27] OSXSAVE follows the OS. */
	CU_ASSERT_TRUE(cf_config_get(cb, CF_X86_CPUID_KEY(1, 0, 2), &v, NULL));
	CU_ASSERT_EQUAL(v & 1u << 27, 0);
	/* Feature flags stay: 07H.0:EBX as the dump has it. */
	CU_ASSERT_TRUE(cf_config_get(cb, CF_X86_CPUID_KEY(7, 0, 1), &v, NULL));
	CU_ASSERT_EQUAL(v, flags7);
	/* Byte for byte the same configuration. */
	CU_ASSERT_EQUAL_FATAL(ca->ncat, cb->ncat);
	CU_ASSERT_EQUAL(memcmp(ca->val, cb->val, ca->ncat * sizeof(*ca->val)), 0);
	CU_ASSERT_EQUAL(memcmp(ca->wr, cb->wr, ca->ncat * sizeof(*ca->wr)), 0);
	CU_ASSERT_EQUAL(memcmp(ca->present, cb->present, ca->ncat), 0);
	cf_config_unref(ca);
	cf_config_unref(cb);
	cf_report_destroy(ra);
	cf_report_destroy(rb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* ---- case 4: the catalogue's layout ---- */

/* A copy of A's catalogue with the registers EXTRA added (in key order),
 * as a catalogue edit would make it. */
struct edited {
	struct cf_catalog cat;
	struct cf_arch_ops ops;
	struct cf_reg *regs;
};

static void edit_catalogue(struct edited *e, const struct cf_arch_ops *a,
			   const struct cf_reg *extra, size_t nextra)
{
	const struct cf_catalog *cat = a->catalog;
	size_t n = 0, x = 0;

	e->regs = calloc(cat->nregs + nextra, sizeof(*e->regs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e->regs);
	for (size_t i = 0; i < cat->nregs || x < nextra;) {
		if (x < nextra && (i == cat->nregs ||
				   extra[x].key < cat->regs[i].key))
			e->regs[n++] = extra[x++];
		else
			e->regs[n++] = cat->regs[i++];
	}
	e->cat = (struct cf_catalog){ cat->arch, e->regs, n };
	e->ops = *a;
	e->ops.catalog = &e->cat;
}

static int copy_reg(void *ctx, uint64_t key, uint64_t value, uint64_t wr)
{
	struct cf_config *to = ctx;

	if (cf_config_set(to, key, value) != CF_OK ||
	    cf_config_set_writable(to, key, wr) != CF_OK)
		return 1;
	return 0;
}

/* R as the build with catalogue OPS reads it: the same registers. */
static struct cf_report *reread(const struct cf_report *r,
				const struct cf_arch_ops *ops)
{
	struct cf_config *c = NULL;
	struct cf_report *out = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_config_create(ops, &c), CF_OK);
	CU_ASSERT_EQUAL(cf_config_walk(r->cfg, copy_reg, c), 0);
	c->has_writable = r->cfg->has_writable;
	CU_ASSERT_EQUAL_FATAL(cf_report_create(r->host_id, c, &out), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_HOSTNAME,
					    cf_report_hostname(r)), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_KERNEL,
					    cf_report_kernel(r)), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_MACHINE_ID,
			cf_report_field(r, CF_REPORT_MACHINE_ID)), CF_OK);
	/* What the engine does not model is kept as written. */
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_KVM_JSON,
			cf_report_field(r, CF_REPORT_KVM_JSON)), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_ARCH_JSON,
			cf_report_field(r, CF_REPORT_ARCH_JSON)), CF_OK);
	return out;
}

static const struct cf_field bool_cap[] = {
	{ "bool", 0, 64, 0, CF_POL_LOWER, 0, NULL, 0, 0, 0, NULL, 0, NULL, 0, 0 },
};

/* R with capability KEY at VALUE, as an agent of that build lists it. */
static struct cf_report *with_cap(const struct cf_report *r, uint64_t key,
				  uint64_t value)
{
	struct cf_config *c = NULL;
	struct cf_report *out = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_config_clone(r->cfg, &c), CF_OK);
	CU_ASSERT_EQUAL(cf_config_set_fixed(c, key, value), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_create(r->host_id, c, &out), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(out, CF_REPORT_HOSTNAME,
					    cf_report_hostname(r)), CF_OK);
	return out;
}

static void test_identity_catalogue_edit(void)
{
	/* One capability more (a number no KVM has) and one CPUID register
	 * the catalogue did not list (leaf 3, the processor serial number,
	 * which spr-05's dump has at 0). */
	const struct cf_reg extra[] = {
		{ "KVM_CAP_TEST_EXTRA", CF_CAP_KEY(999), bool_cap, 1, 2, ~0ULL, 0,
		  CF_ROLE_GUEST, NULL, NULL },
		{ "CPUID_00000003_0_EAX", CF_X86_CPUID_KEY(3, 0, 0), NULL, 0, 0,
		  0, 0, CF_ROLE_NONE, NULL, NULL },
	};
	struct edited e;
	struct cf_report *old = test_load_report("x86/spr-05.json");
	struct cf_report *now, *lists;

	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	edit_catalogue(&e, old->cfg->arch, extra, 2);
	now = reread(old, &e.ops);
	expect_same_reports(old, now, true);
	/* An agent of the new build lists the new capability, 0 here. */
	lists = with_cap(now, CF_CAP_KEY(999), 0);
	expect_same_reports(old, lists, true);
	cf_report_destroy(lists);
	/* Control: a host that has it. */
	lists = with_cap(now, CF_CAP_KEY(999), 1);
	expect_same_reports(old, lists, false);
	cf_report_destroy(lists);
	cf_report_destroy(now);
	cf_report_destroy(old);
	free(e.regs);
}

/* The same on arm64, with the fleet's N1: a capability more changes
 * nothing; an ID register at 0 is not an absent one there. */
static void test_identity_catalogue_edit_arm64(void)
{
	const struct cf_reg extra[] = {
		{ "KVM_CAP_TEST_EXTRA", CF_CAP_KEY(999), bool_cap, 1, 2, ~0ULL, 0,
		  CF_ROLE_GUEST, NULL, NULL },
	};
	struct edited e;
	struct cf_report *old = test_load_report("fleet/n1-01.json");
	struct cf_report *now;
	struct cf_config *c = NULL;
	/* S3_0_C0_C7_7: an ID-space encoding no catalogue names. */
	const uint64_t unnamed = 3 << 14 | 7 << 3 | 7;

	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	edit_catalogue(&e, old->cfg->arch, extra, 1);
	now = reread(old, &e.ops);
	expect_same_reports(old, now, true);
	CU_ASSERT_EQUAL_FATAL(cf_config_clone(old->cfg, &c), CF_OK);
	CU_ASSERT_EQUAL(cf_config_set(c, unnamed, 0), CF_OK);
	cf_config_seal(c);
	CU_ASSERT_NOT_EQUAL(c->fp, old->cfg->fp);
	CU_ASSERT_FALSE(cf_config_equal(c, old->cfg));
	cf_config_unref(c);
	cf_report_destroy(now);
	cf_report_destroy(old);
	free(e.regs);
}

/* x86: a leaf listed with zeros is a leaf not listed (KVM reads both as 0);
 * spr-05's dump lists leaf 3 with zeros. */
static void test_identity_x86_zero_leaf_is_absent(void)
{
	cJSON *b = load_doc(SPR);
	cJSON *list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(b, "x86"), "cpuid");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cpuid_entry(b, 3, 0));
	cJSON_Delete(cJSON_DetachItemViaPointer(list, cpuid_entry(b, 3, 0)));
	expect_same(load_doc(SPR), b, true);
}

/* Capabilities count by name, known to the catalogue or not, 0 as absent;
 * members the engine does not model count whatever their order. */
static void test_identity_document_members(void)
{
	static const char *const kvm[] = {
		NULL,
		"{\"caps\":{\"KVM_CAP_NOT_IN_ANY_CATALOGUE\":0,"
		"\"KVM_CAP_IRQCHIP\":0}}",
		"{\"caps\":{\"KVM_CAP_NOT_IN_ANY_CATALOGUE\":1}}",
		"{\"x\":1,\"y\":{\"b\":2,\"a\":3}}",
		"{\"y\":{\"a\":3,\"b\":2},\"x\":1}",
		"{\"x\":1,\"y\":{\"b\":2,\"a\":4}}",
	};
	char id[6][CF_CONTENT_ID_MAX];

	for (size_t i = 0; i < 6; i++) {
		cJSON *doc = load_doc("fleet/n1-01.json");
		struct cf_report *r;
		if (kvm[i])
			cJSON_AddItemToObject(doc, "kvm", cJSON_Parse(kvm[i]));
		r = parse_doc(doc);
		content_id(r, id[i]);
		cf_report_destroy(r);
		cJSON_Delete(doc);
	}
	CU_ASSERT_STRING_EQUAL(id[0], id[1]);
	CU_ASSERT_STRING_NOT_EQUAL(id[0], id[2]);
	CU_ASSERT_STRING_NOT_EQUAL(id[0], id[3]);
	CU_ASSERT_STRING_EQUAL(id[3], id[4]);
	CU_ASSERT_STRING_NOT_EQUAL(id[3], id[5]);
}

/* Written and read back, a report keeps its identity; the text is the
 * version tag and a SHA-256 in hex. */
static void test_identity_round_trip_and_form(void)
{
	static const char *const files[] = { "x86/spr-05.json",
					     "fleet/n1-01.json",
					     "arm64/real-writable/altra.json" };

	for (size_t i = 0; i < 3; i++) {
		struct cf_report *r = test_load_report(files[i]), *back = NULL;
		char a[CF_CONTENT_ID_MAX], b[CF_CONTENT_ID_MAX], *text = NULL;
		struct cf_diag d;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(cf_report_to_json(r, &text), CF_OK);
		CU_ASSERT_EQUAL(cf_report_parse(text, strlen(text), "back", &back,
						&d), CF_OK);
		content_id(r, a);
		content_id(back, b);
		CU_ASSERT_STRING_EQUAL(a, b);
		CU_ASSERT_EQUAL(cf_report_fingerprint(r),
				cf_report_fingerprint(back));
		CU_ASSERT_EQUAL(strlen(a), 6 + 64);
		CU_ASSERT_EQUAL(strncmp(a, "cfid1:", 6), 0);
		CU_ASSERT_EQUAL(strspn(a + 6, "0123456789abcdef"), 64);
		CU_ASSERT_EQUAL(cf_report_content_id(r, a, 70), CF_EINVAL);
		free(text);
		cf_report_destroy(back);
		cf_report_destroy(r);
	}
}

static CU_TestInfo tests[] = {
	TEST(test_identity_per_vcpu_bits_do_not_count),
	TEST(test_identity_old_kernel_topology_subleaves),
	TEST(test_identity_collect_normaliser),
	TEST(test_identity_catalogue_edit),
	TEST(test_identity_catalogue_edit_arm64),
	TEST(test_identity_x86_zero_leaf_is_absent),
	TEST(test_identity_document_members),
	TEST(test_identity_round_trip_and_form),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_identity = { "identity", NULL, NULL, NULL, NULL, tests };
