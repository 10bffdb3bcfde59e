/* Report documents: the v1 contract, and errors that name file, JSON path
 * and reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/report.h"
#include "profiles/doc.h"
#include "tests/unit/suites.h"

#define HDR "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\",\"arch\":\"arm64\"},"

static enum cf_err parse(const char *text, struct cf_report **r,
			 struct cf_diag *d)
{
	return cf_report_parse(text, strlen(text), "in.json", r, d);
}

/* TEXT, completed with the registers every KVM reports (valid reports). */
static enum cf_err parse_full(const char *text, struct cf_report **r,
			      struct cf_diag *d)
{
	char *full = test_with_required(text);
	enum cf_err err = full ? parse(full, r, d) : CF_ENOMEM;

	free(full);
	return err;
}

static void expect_error(const char *text, enum cf_err want, const char *part)
{
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	enum cf_err err = parse(text, &r, &d);

	CU_ASSERT_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(r);
	if (!strstr(d.msg, part) || strncmp(d.msg, "in.json", 7) != 0) {
		fprintf(stderr, "\n  message '%s' lacks '%s'\n", d.msg, part);
		CU_FAIL("message");
	}
	cf_report_destroy(r);
}

static void test_report_doc_minimal(void)
{
	struct cf_report *r = NULL;
	struct cf_diag d;
	uint64_t v;

	CU_ASSERT_EQUAL_FATAL(parse_full(HDR "\"arm64\":{\"id_regs\":{"
				    "\"ID_AA64ISAR0_EL1\":\"0x10\"}}}", &r, &d),
			      CF_OK);
	CU_ASSERT_STRING_EQUAL(cf_report_host_id(r), "h1");
	CU_ASSERT_STRING_EQUAL(cf_report_arch(r), "arm64");
	CU_ASSERT_TRUE(cf_config_get(r->cfg, 3 << 14 | 6 << 3, &v, NULL));
	CU_ASSERT_EQUAL(v, 0x10);
	CU_ASSERT_FALSE(r->cfg->has_writable);
	cf_report_destroy(r);
}

static void test_report_doc_unknown_register_kept(void)
{
	struct cf_report *r = NULL;
	struct cf_diag d;
	uint64_t v, w;

	CU_ASSERT_EQUAL_FATAL(parse_full(HDR "\"arm64\":{\"id_regs\":{"
				    "\"S3_0_C0_C6_7\":\"0xabc\"},\"writable\":{"
				    "\"S3_0_C0_C6_7\":\"0xf\"}}}", &r, &d), CF_OK);
	CU_ASSERT_EQUAL(r->cfg->nextra, 1);
	CU_ASSERT_TRUE(cf_config_get(r->cfg, 3 << 14 | 6 << 3 | 7, &v, &w));
	CU_ASSERT_EQUAL(v, 0xabc);
	CU_ASSERT_EQUAL(w, 0xf);
	cf_report_destroy(r);
}

static void test_report_doc_midr_folded(void)
{
	struct cf_report *r = NULL;
	struct cf_diag d;
	uint64_t v;

	CU_ASSERT_EQUAL_FATAL(parse_full(HDR "\"arm64\":{\"id_regs\":{},"
				    "\"midr_el1\":\"0x414fd0c1\"}}", &r, &d),
			      CF_OK);
	CU_ASSERT_TRUE(cf_config_get(r->cfg, 3 << 14, &v, NULL));
	CU_ASSERT_EQUAL(v, 0x414fd0c1);
	cf_report_destroy(r);
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"MIDR_EL1\":\"0x1\"},"
		     "\"midr_el1\":\"0x2\"}}", CF_ESCHEMA, "$.arm64.midr_el1");
}

static void test_report_doc_errors_name_path(void)
{
	expect_error("{\"schema\":", CF_ESYNTAX, "in.json:1:");
	expect_error("{\n\"a\": [1,\n}", CF_ESYNTAX, "in.json:3:");
	expect_error("[]", CF_ESCHEMA, "$: expected an object");
	expect_error("{\"schema\":\"x\"}", CF_ESCHEMA, "$.schema");
	expect_error("{\"schema\":\"cpufleet.report/v1\"}", CF_ESCHEMA,
		     "$.host");
	expect_error("{\"schema\":\"cpufleet.report/v1\",\"host\":{"
		     "\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{}}}",
		     CF_ESCHEMA, "$.host.id");
	expect_error("{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"\","
		     "\"arch\":\"arm64\"},\"arm64\":{\"id_regs\":{}}}",
		     CF_ESCHEMA, "$.host.id");
	expect_error("{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"a\","
		     "\"arch\":\"sparc\"}}", CF_EARCH, "$.host.arch");
	expect_error(HDR "\"x86\":{}}", CF_ESCHEMA, "$.arm64");
	expect_error(HDR "\"arm64\":{}}", CF_ESCHEMA, "$.arm64.id_regs");
	expect_error(HDR "\"arm64\":{\"id_regs\":[]}}", CF_ESCHEMA,
		     "$.arm64.id_regs: expected an object");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":17}}}",
		     CF_ESCHEMA, "$.arm64.id_regs.ID_AA64PFR0_EL1: expected");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":"
		     "\"0x12345678901234567\"}}}", CF_ESCHEMA,
		     "$.arm64.id_regs.ID_AA64PFR0_EL1");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":"
		     "\"12\"}}}", CF_ESCHEMA, "$.arm64.id_regs.ID_AA64PFR0_EL1");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":"
		     "\"0xg\"}}}", CF_ESCHEMA, "$.arm64.id_regs.ID_AA64PFR0_EL1");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR9_EL1\":"
		     "\"0x0\"}}}", CF_ESCHEMA,
		     "$.arm64.id_regs.ID_AA64PFR9_EL1: not a known arm64 register");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":\"0x0\","
		     "\"ID_AA64PFR0_EL1\":\"0x1\"}}}", CF_ESCHEMA, "twice");
	expect_error(HDR "\"arm64\":{\"id_regs\":{\"ID_AA64PFR0_EL1\":\"0x0\"},"
		     "\"writable\":{\"ID_AA64PFR1_EL1\":\"0xf\"}}}", CF_ESCHEMA,
		     "$.arm64.writable.ID_AA64PFR1_EL1");
	expect_error(HDR "\"arm64\":{\"id_regs\":{},\"writable\":7}}",
		     CF_ESCHEMA, "$.arm64.writable");
	/* Any member given twice: the document would mean whichever one a
	 * reader takes, and its identity with it. */
	expect_error(HDR "\"kvm\":{\"caps\":{\"KVM_CAP_X\":1,\"KVM_CAP_X\":2}},"
		     "\"arm64\":{\"id_regs\":{}}}", CF_ESCHEMA,
		     "$.kvm.caps.KVM_CAP_X: given twice");
	expect_error(HDR "\"arm64\":{\"id_regs\":{},\"more\":[{\"a\":1},"
		     "{\"b\":1,\"b\":1}]}}", CF_ESCHEMA,
		     "$.arm64.more[1].b: given twice");
	expect_error(HDR "\"arm64\":{\"id_regs\":{}},\"arm64\":{}}",
		     CF_ESCHEMA, "$.arm64: given twice");
}

/* JSON allows \u0000 in a string (RFC 8259 section 7), but a C string ends
 * there: the host id below would be read as "n1-01", so it is refused with
 * its position (column 51: the backslash).  A literal backslash before "u0000" is no NUL. */
static void test_report_doc_nul_escape(void)
{
	struct cf_report *r = NULL;
	struct cf_diag d;

	expect_error("{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":"
		     "\"n1-01\\u0000x\",\"arch\":\"arm64\"},\"arm64\":{"
		     "\"id_regs\":{}}}", CF_ESCHEMA, "in.json:1:51: \\u0000");
	expect_error(HDR "\"arm64\":{\"id_regs\":{}},\"note\":\"\\u0000\"}",
		     CF_ESCHEMA, "\\u0000");
	CU_ASSERT_EQUAL(parse_full("{\"schema\":\"cpufleet.report/v1\",\"host\""
				   ":{\"id\":\"h1\",\"arch\":\"arm64\",\"hostname\""
				   ":\"a\\\\u0000\"},\"arm64\":{\"id_regs\":{}}}",
				   &r, &d), CF_OK);
	if (r)
		CU_ASSERT_STRING_EQUAL(cf_report_hostname(r), "a\\u0000");
	cf_report_destroy(r);
}

static void test_report_doc_too_big(void)
{
	struct cf_report *r = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL(cf_report_parse("{}", CF_DOC_MAX_BYTES + 1, "big.json",
					&r, &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "big.json"));
	CU_ASSERT_EQUAL(cf_report_load("tests/data/no-such-file.json", &r, &d),
			CF_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "no-such-file.json"));
}

static void test_report_doc_golden(void)
{
	struct cf_report *r = test_load_report("arm64/real/graviton3.json");
	uint64_t v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(cf_report_host_id(r), "graviton3");
	/* Graviton3 (Neoverse V1) has SVE: ID_AA64PFR0_EL1.SVE = 1. */
	CU_ASSERT_TRUE(cf_config_get(r->cfg, 3 << 14 | 4 << 3, &v, NULL));
	CU_ASSERT_EQUAL((v >> 32) & 0xf, 1);
	/* MIDR: Arm (0x41), part 0xd40 (Neoverse V1). */
	CU_ASSERT_TRUE(cf_config_get(r->cfg, 3 << 14, &v, NULL));
	CU_ASSERT_EQUAL((v >> 24) & 0xff, 0x41);
	CU_ASSERT_EQUAL((v >> 4) & 0xfff, 0xd40);
	cf_report_destroy(r);
}

static void test_report_doc_roundtrip(void)
{
	static const char *const doc =
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h\","
		"\"arch\":\"arm64\",\"kernel\":\"6.12.95\"},"
		"\"kvm\":{\"caps\":{\"KVM_CAP_ARM_VM_IPA_SIZE\":40}},"
		"\"arm64\":{\"id_regs\":{\"CTR_EL0\":\"0x84448004\","
		"\"S3_0_C0_C6_7\":\"0x5\"},\"writable\":{\"CTR_EL0\":\"0xff\"},"
		"\"fw_regs\":{\"KVM_REG_ARM_PSCI_VERSION\":\"0x10001\"},"
		"\"cntfrq\":62500000}}";
	struct cf_report *a = NULL, *b = NULL;
	struct cf_diag d;
	char *j1 = NULL, *j2 = NULL;

	CU_ASSERT_EQUAL_FATAL(parse_full(doc, &a, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(a, &j1), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_parse(j1, strlen(j1), "j1", &b, &d), CF_OK);
	CU_ASSERT_TRUE(cf_config_equal(a->cfg, b->cfg));
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(b, &j2), CF_OK);
	CU_ASSERT_STRING_EQUAL(j1, j2);
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"KVM_CAP_ARM_VM_IPA_SIZE\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"cntfrq\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"S3_0_C0_C6_7\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(j1, "\"fw_regs\""));
	free(j1);
	free(j2);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

/* $.host.microcode (the revision as the kernel prints it in
 * /sys/devices/system/cpu/cpu0/microcode/version) and $.host.firmware
 * (/sys/class/dmi/id/bios_version) are optional: kept and written back
 * when given, absent when not; they say who the host is, not what it
 * offers, so the configuration's fingerprint is the same with or without
 * them, but the content identity differs (a microcode update is a new
 * report). */
static void test_report_doc_microcode_firmware(void)
{
	cJSON *doc = test_load_json("x86/spr-05.json"), *host;
	struct cf_report *a = NULL, *b = NULL, *c = NULL;
	char ia[CF_CONTENT_ID_MAX], ib[CF_CONTENT_ID_MAX];
	struct cf_diag d = { "" };
	char *j = NULL, *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	host = cJSON_GetObjectItemCaseSensitive(doc, "host");
	b = test_report_of_json(doc);
	cJSON_AddStringToObject(host, "microcode", "0x2b000590");
	cJSON_AddStringToObject(host, "firmware", "2.1.5");
	a = test_report_of_json(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(cf_report_microcode(a), "0x2b000590");
	CU_ASSERT_STRING_EQUAL(cf_report_firmware(a), "2.1.5");
	CU_ASSERT_STRING_EQUAL(cf_report_microcode(b), "");
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(a, &j), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_parse(j, strlen(j), "j", &c, &d), CF_OK);
	CU_ASSERT_STRING_EQUAL(cf_report_microcode(c), "0x2b000590");
	CU_ASSERT_STRING_EQUAL(cf_report_firmware(c), "2.1.5");
	cf_report_destroy(c);
	c = NULL;
	free(j);
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(b, &j), CF_OK);
	CU_ASSERT_PTR_NULL(strstr(j, "microcode"));
	CU_ASSERT_PTR_NULL(strstr(j, "firmware"));
	free(j);
	CU_ASSERT_EQUAL(cf_report_fingerprint(a), cf_report_fingerprint(b));
	CU_ASSERT_EQUAL(cf_report_content_id(a, ia, sizeof(ia)), CF_OK);
	CU_ASSERT_EQUAL(cf_report_content_id(b, ib, sizeof(ib)), CF_OK);
	CU_ASSERT_STRING_NOT_EQUAL(ia, ib);
	/* Not a string: refused, naming the path. */
	cJSON_ReplaceItemInObjectCaseSensitive(host, "microcode",
					       cJSON_CreateNumber(43));
	text = cJSON_PrintUnformatted(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(cf_report_parse(text, strlen(text), "bad", &c, &d),
			CF_ESCHEMA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$.host.microcode"));
	free(text);
	cJSON_Delete(doc);
	cf_report_destroy(a);
	cf_report_destroy(b);
	cf_report_destroy(c);
}

/* The text of tests/data/REL's configuration (printed by cJSON, as the
 * server stores documents), with "host" renamed to HOSTKEY when not NULL. */
static char *config_text_of(const char *rel, const char *hostkey)
{
	cJSON *doc = test_load_json(rel);
	char *text, *out = NULL, *at;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	if (hostkey && (at = strstr(text, "\"host\"")) != NULL) {
		size_t n = strlen(text) + strlen(hostkey) + 1;
		char *t = malloc(n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		snprintf(t, n, "%.*s%s%s", (int)(at - text), text, hostkey,
			 at + 6);
		free(text);
		text = t;
	}
	CU_ASSERT_EQUAL(cf_report_config_text(text, strlen(text), &out), CF_OK);
	free(text);
	return out;
}

/* The text a configuration is read from leaves out host ids, names,
 * kernel and times (n1-01 and n1-02 differ only there:
 * tests/data/README.md) and keeps the registers (n1 against v1, two
 * dumps); a key written with an escape (RFC 8259 section 7: "\u0068" is
 * "h") is read all the same, in a text of the other form; what is no JSON
 * or no report says so. */
static void test_report_config_text(void)
{
	char *a = config_text_of("fleet/n1-01.json", NULL);
	char *b = config_text_of("fleet/n1-02.json", NULL);
	char *c = config_text_of("fleet/v1-01.json", NULL);
	char *x = config_text_of("fleet/n1-01.json", "\"\\u0068ost\"");
	char *y = config_text_of("fleet/n1-02.json", "\"\\u0068ost\"");
	char *z = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(y);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_PTR_NULL(strstr(a, "n1-01"));
	CU_ASSERT_PTR_NULL(strstr(a, "6.12.57"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "ID_AA64PFR0_EL1"));
	CU_ASSERT_STRING_EQUAL(x, y);
	CU_ASSERT_STRING_NOT_EQUAL(x, a);
	CU_ASSERT_EQUAL(cf_report_config_text("{\"host\": {", 11, &z),
			CF_ESYNTAX);
	CU_ASSERT_EQUAL(cf_report_config_text("{}", 2, &z), CF_ESCHEMA);
	CU_ASSERT_PTR_NULL(z);
	free(a);
	free(b);
	free(c);
	free(x);
	free(y);
}

/* engine/handles.h: a report's texts and unmodelled members through
 * cf_report_field/cf_report_set_field, as the codec writes them.  The
 * limit is the field's size, CF_TEXT_MAX bytes with the NUL
 * (include/cpufleet.h). */
static void test_report_fields(void)
{
	struct cf_report *r = test_load_report("arm64/real-writable/altra.json");
	char big[CF_TEXT_MAX + 1], *json = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	memset(big, 'a', sizeof(big) - 1);
	big[CF_TEXT_MAX] = '\0';
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_HOSTNAME, "h1.dc"),
			CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_HOSTNAME, big),
			CF_EINVAL);   /* CF_TEXT_MAX bytes: one too many */
	CU_ASSERT_STRING_EQUAL(cf_report_field(r, CF_REPORT_HOSTNAME), "h1.dc");
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_KERNEL, big + 1),
			CF_OK);       /* CF_TEXT_MAX - 1 bytes fit */
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_MACHINE_ID, ""), CF_OK);
	CU_ASSERT_PTR_NULL(cf_report_field(r, CF_REPORT_MACHINE_ID));
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_KVM_JSON,
					    "{\"probe\": 7}"), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(r, &json), CF_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"hostname\":\t\"h1.dc\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"probe\":\t7"));
	CU_ASSERT_PTR_NULL(strstr(json, "machine_id"));
	free(json);
	cf_report_destroy(r);
}

/* Each text of a report set on its own, in any order, one set from
 * another of the same report: every other keeps its value (engine/
 * handles.h: a set changes field F only). */
static void test_report_fields_independent(void)
{
	static const char *const val[] = {
		"h.dc", "6.12.57", "0x2b000590", "1.2.3", "abc",
		"2026-12-06T00:00:00Z", "{\"k\":1}", "{\"a\":2}",
	};
	enum { N = sizeof(val) / sizeof(val[0]) };
	struct cf_report *r = test_load_report("arm64/real-writable/altra.json");

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(N, CF_REPORT_ARCH_JSON + 1);
	for (int f = N - 1; f >= 0; f--)
		CU_ASSERT_EQUAL(cf_report_set_field(r, f, val[f]), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_id(r, "rid-1"), CF_OK);
	/* The kernel from the hostname: both read the same afterwards. */
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_KERNEL,
			cf_report_field(r, CF_REPORT_HOSTNAME)), CF_OK);
	CU_ASSERT_EQUAL(cf_report_set_field(r, CF_REPORT_FIRMWARE, NULL), CF_OK);
	for (int f = 0; f < N; f++) {
		const char *want = f == CF_REPORT_KERNEL ? val[CF_REPORT_HOSTNAME] :
				   f == CF_REPORT_FIRMWARE ? NULL : val[f];
		const char *got = cf_report_field(r, f);
		if (want) {
			CU_ASSERT_STRING_EQUAL(got ? got : "(none)", want);
		} else {
			CU_ASSERT_PTR_NULL(got);
		}
	}
	CU_ASSERT_STRING_EQUAL(cf_report_id(r), "rid-1");
	CU_ASSERT_STRING_EQUAL(cf_report_host_id(r), "altra");
	CU_ASSERT_STRING_EQUAL(cf_report_firmware(r), "");
	CU_ASSERT_STRING_EQUAL(cf_report_kernel(r), "h.dc");
	cf_report_destroy(r);
}

/* What the agent reads as the microcode revision.  The kernel prints it
 * as "microcode\t: 0x%x" in /proc/cpuinfo (arch/x86/kernel/cpu/proc.c)
 * and "0x%x\n" in cpu0's microcode/version (arch/x86/kernel/cpu/
 * microcode/core.c); 0x2b000590 is spr-05's revision after the update of
 * tests/data/drift.  Sysfs first; /proc/cpuinfo when sysfs is absent; ""
 * when neither says (an arm64 cpuinfo has no such line). */
static void test_report_read_microcode(void)
{
	char dir[] = "/tmp/cf-mcXXXXXX", sysfs[64], cpuinfo[64], buf[64];
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(sysfs, sizeof(sysfs), "%s/version", dir);
	snprintf(cpuinfo, sizeof(cpuinfo), "%s/cpuinfo", dir);
	f = fopen(cpuinfo, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 143\n"
	      "stepping\t: 8\nmicrocode\t: 0x2b000181\ncpu MHz\t\t: 2100.000\n"
	      "\nprocessor\t: 1\nmicrocode\t: 0x2b000182\n", f);
	fclose(f);
	cf_report_read_microcode(sysfs, cpuinfo, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0x2b000181");
	f = fopen(sysfs, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("0x2b000590\n", f);
	fclose(f);
	cf_report_read_microcode(sysfs, cpuinfo, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0x2b000590");
	remove(sysfs);
	f = fopen(cpuinfo, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", f);
	fclose(f);
	cf_report_read_microcode(sysfs, cpuinfo, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	remove(cpuinfo);
	rmdir(dir);
}

/* The x86 section's errors name the entry and member, as JSONPath
 * writes them ($.x86.cpuid[N].MEMBER), and a member given twice deep in a
 * document is named with its whole path, cut at CF_DOC_PATH_MAX - 1 bytes
 * as the path buffer holds it. */
#define X86HDR "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\"," \
	"\"arch\":\"x86\"},\"x86\":{\"cpuid\":["
#define X86E0 "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0x1\"," \
	"\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}"
static void test_report_doc_x86_paths(void)
{
	char *doc, key[300];
	size_t n;

	expect_error(X86HDR X86E0 ",{\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
		     "\"eax\":\"0x0\",\"ebx\":\"0x0\",\"ecx\":\"zz\",\"edx\":\"0x0\"}"
		     "]}}", CF_ESCHEMA, "in.json: $.x86.cpuid[1].ecx");
	expect_error(X86HDR X86E0 ",{\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
		     "\"eax\":\"0x0\",\"ebx\":\"0x0\",\"ecx\":\"0x0\"}]}}",
		     CF_ESCHEMA, "in.json: $.x86.cpuid[1].edx");
	expect_error(X86HDR "{\"leaf\":\"0x0\",\"subleaf\":\"0x100000000\","
		     "\"eax\":\"0x1\",\"ebx\":\"0x0\",\"ecx\":\"0x0\",\"edx\":\"0x0\"}"
		     "]}}", CF_ESCHEMA, "in.json: $.x86.cpuid[0].subleaf");
	expect_error(X86HDR "{\"subleaf\":\"0x0\"}]}}", CF_ESCHEMA,
		     "in.json: $.x86.cpuid[0].leaf");
	expect_error(X86HDR X86E0 ",7]}}", CF_ESCHEMA,
		     "in.json: $.x86.cpuid[1]: expected an object");
	/* member given twice, at an index of two digits */
	expect_error(HDR "\"arm64\":{\"id_regs\":{},\"more\":[0,1,2,3,4,5,6,7,"
		     "8,9,{\"b\":1},{\"b\":1,\"a\":{\"c\":[{\"d\":1,\"d\":2}]}}]}}",
		     CF_ESCHEMA, "in.json: $.arm64.more[11].a.c[0].d: given twice");
	/* of 17 members (sorted, not pairwise), the name first in strcmp
	 * order of those given twice */
	expect_error(HDR "\"arm64\":{\"id_regs\":{},\"o\":{\"q\":1,\"b\":1,"
		     "\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,"
		     "\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"q\":2,\"p\":1,\"p\":2}}}",
		     CF_ESCHEMA, "in.json: $.arm64.o.p: given twice");
	expect_error(HDR "\"arm64\":{\"id_regs\":{},\"o\":{\"q\":1,\"p\":1,"
		     "\"q\":2,\"p\":2}}}", CF_ESCHEMA,
		     "in.json: $.arm64.o.p: given twice");
	/* a 299-byte key: the path "$.arm64." + it is cut to 255 bytes */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	n = strlen(HDR) + 2 * sizeof(key) + 64;
	doc = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	snprintf(doc, n, HDR "\"arm64\":{\"id_regs\":{},\"%s\":{\"b\":1,"
		 "\"b\":2}}}", key);
	memcpy(key, "$.arm64.", 8);
	snprintf(key + 255, sizeof(key) - 255, ".b: given twice");
	expect_error(doc, CF_ESCHEMA, key);
	free(doc);
}

/* What the x86 codec does not read (members other than vendor, cpuid,
 * msrs, tsc_khz, tsc_scaling) is kept and written back after them, in
 * the document's order, with its contents. */
static void test_report_doc_x86_rest_kept_in_order(void)
{
	cJSON *doc = test_load_json("x86/spr-05.json"), *x86;
	struct cf_report *r = NULL;
	struct cf_diag d = { "" };
	char *text, *out = NULL;
	const char *z, *a, *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	x86 = cJSON_GetObjectItemCaseSensitive(doc, "x86");
	cJSON_AddItemToObject(x86, "zeta", cJSON_Parse("{\"n\":[1,{\"m\":2}]}"));
	cJSON_AddStringToObject(x86, "alpha", "first?");
	/* a member before the codec's keys: named, then moved first */
	{
		cJSON *early = cJSON_CreateNumber(7);
		cJSON_AddItemToObject(x86, "early", early);
		cJSON_DetachItemViaPointer(x86, early);
		cJSON_InsertItemInArray(x86, 0, early);
	}
	text = cJSON_PrintUnformatted(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(cf_report_parse(text, strlen(text), "x.json", &r,
					      &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_report_to_json(r, &out), CF_OK);
	c = strstr(out, "\"cpuid\"");
	z = strstr(out, "\"zeta\"");
	a = strstr(out, "\"alpha\"");
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"early\":\t7"));
	CU_ASSERT_TRUE(c && z && a && c < strstr(out, "\"early\"") &&
		       strstr(out, "\"early\"") < z && z < a);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"m\":\t2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"alpha\":\t\"first?\""));
	free(out);
	free(text);
	cf_report_destroy(r);
	cJSON_Delete(doc);
}

/* A file is read whole whatever size it claims: /proc files say 0 bytes
 * (st_size) and hold more; a regular file is read exactly. */
static void test_doc_read_file_sizes(void)
{
	struct cf_diag d = { "" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	long n;

	CU_ASSERT_EQUAL_FATAL(cf_doc_read_file("/proc/self/status", &buf, &len,
					       &d), CF_OK);
	CU_ASSERT_TRUE(len > 2);
	CU_ASSERT_EQUAL(strlen(buf), len);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nVmRSS:"));
	free(buf);
	CU_ASSERT_EQUAL_FATAL(cf_doc_read_file("tests/data/x86/gnr-03.json",
					       &buf, &len, &d), CF_OK);
	f = fopen("tests/data/x86/gnr-03.json", "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	CU_ASSERT_EQUAL((long)len, n);
	CU_ASSERT_EQUAL(buf[len], '\0');
	CU_ASSERT_EQUAL(buf[len - 1], '\n');
	free(buf);
}

/* A report parsed through a cache of sections is the report
 * cf_report_parse gives (the reference: the parse without a cache): the
 * same document written back, the same configuration; the first time a
 * section is seen and every time after, with and without kvm.caps, over
 * the real x86 and arm64 reports. */
static void same_through_cache(struct cf_report_cache *c, const char *text,
			       const char *origin)
{
	struct cf_report *a = NULL, *b = NULL;
	struct cf_diag da = { "" }, db = { "" };
	enum cf_err ea = cf_report_parse(text, strlen(text), origin, &a, &da);
	enum cf_err eb = cf_report_parse_cached(c, text, strlen(text), origin,
						&b, &db);
	char *ja = NULL, *jb = NULL;

	CU_ASSERT_EQUAL(ea, eb);
	CU_ASSERT_STRING_EQUAL(da.msg, db.msg);
	if (ea != eb || strcmp(da.msg, db.msg) != 0)
		fprintf(stderr, "\n  %s: '%s' / '%s'\n", origin, da.msg, db.msg);
	if (ea == CF_OK && eb == CF_OK) {
		CU_ASSERT_TRUE(cf_config_equal(a->cfg, b->cfg));
		CU_ASSERT_EQUAL(cf_report_to_json(a, &ja), CF_OK);
		CU_ASSERT_EQUAL(cf_report_to_json(b, &jb), CF_OK);
		CU_ASSERT_TRUE(ja && jb && !strcmp(ja, jb));
	}
	free(ja);
	free(jb);
	cf_report_destroy(a);
	cf_report_destroy(b);
}

static void test_report_cache_same_reports(void)
{
	static const char *const files[] = {
		"x86/spr-05.json", "x86/gnr-03.json", "x86/snb-ep.json",
		"x86/bergamo-04.json", "x86/hygon-01.json",
		"arm64/real/graviton3.json", "arm64/real/altra.json",
	};
	struct cf_report_cache *c = NULL;

	CU_ASSERT_EQUAL_FATAL(cf_report_cache_create(&c), CF_OK);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			cJSON *doc = test_load_json(files[i]), *host, *kvm;
			char id[32], *text;
			CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
			host = cJSON_GetObjectItemCaseSensitive(doc, "host");
			snprintf(id, sizeof(id), "h-%d-%zu", round, i);
			cJSON_ReplaceItemInObjectCaseSensitive(host, "id",
				cJSON_CreateString(id));
			text = cJSON_Print(doc);
			same_through_cache(c, text, files[i]);
			free(text);
			/* the same section with kvm.caps: read into a copy */
			cJSON_DeleteItemFromObjectCaseSensitive(doc, "kvm");
			kvm = cJSON_AddObjectToObject(doc, "kvm");
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(kvm, "caps"),
						round ? "KVM_CAP_X2APIC_API" :
						"KVM_CAP_ARM_MTE", 1);
			text = cJSON_Print(doc);
			same_through_cache(c, text, files[i]);
			free(text);
			cJSON_Delete(doc);
		}
	/* a section of the same length as one read before, one digit apart */
	for (int v = 0; v < 2; v++) {
		cJSON *doc = test_load_json("x86/spr-05.json"), *e;
		char *text;
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(doc, "x86"), "cpuid"), 7);
		cJSON_ReplaceItemInObjectCaseSensitive(e, "ebx",
			cJSON_CreateString(v ? "0x00000001" : "0x00000000"));
		text = cJSON_Print(doc);
		same_through_cache(c, text, "digit.json");
		free(text);
		cJSON_Delete(doc);
	}
	cf_report_cache_destroy(c);
}

/* A document whose section was read before is still refused as
 * cf_report_parse refuses it, with the same message: its other parts are
 * wrong, the section's key is given twice, text follows it, or it has
 * a \u0000 outside the section. */
static void test_report_cache_same_errors(void)
{
	static const char *const bad[] = {
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h 1\","
		"\"arch\":\"x86\"},\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v2\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"x86\":%s,\"x86\":{}}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"x86\":%s} x",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\",\"arch\":\"x86\"},\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\",\"hostname\":\"a\\u0000\"},\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"kvm\":{\"caps\":{\"KVM_CAP_NOPE\":\"x\"}},"
		"\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"kvm\":7,\"x86\":%s}",
		"{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":\"h1\","
		"\"arch\":\"x86\"},\"x86\":%s",
	};
	cJSON *doc = test_load_json("x86/gnr-03.json");
	struct cf_report_cache *c = NULL;
	char *sec, *good;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL_FATAL(cf_report_cache_create(&c), CF_OK);
	sec = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "x86"));
	n = strlen(sec) + 512;
	good = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	snprintf(good, n, "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":"
		 "\"h1\",\"arch\":\"x86\"},\"x86\":%s}", sec);
	same_through_cache(c, good, "good.json");	/* the section is kept */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = malloc(n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		snprintf(text, n, bad[i], sec);
		same_through_cache(c, text, "bad.json");
		free(text);
	}
	/* nested near cJSON's limit (CJSON_NESTING_LIMIT, 1000): the
	 * section counts its depth from the document's */
	for (size_t k = 995; k <= 1000; k++) {
		size_t m = strlen(sec) + 2 * k + 600;
		char *text = malloc(m), *deep = malloc(2 * k + 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
		memset(deep, '[', k);
		memset(deep + k, ']', k);
		deep[2 * k] = '\0';
		snprintf(text, m, "{\"schema\":\"cpufleet.report/v1\",\"host\":"
			 "{\"id\":\"h1\",\"arch\":\"x86\"},\"x86\":%.*s,"
			 "\"deep\":%s}}", (int)(strlen(sec) - 1), sec, deep);
		same_through_cache(c, text, "deep.json");
		free(deep);
		free(text);
	}
	/* a section that does not read: refused alike, every time */
	snprintf(good, n, "{\"schema\":\"cpufleet.report/v1\",\"host\":{\"id\":"
		 "\"h1\",\"arch\":\"x86\"},\"x86\":{\"cpuid\":7}}");
	same_through_cache(c, good, "bad.json");
	same_through_cache(c, good, "bad.json");
	free(good);
	free(sec);
	cJSON_Delete(doc);
	cf_report_cache_destroy(c);
}

static CU_TestInfo tests[] = {
	TEST(test_report_fields),
	TEST(test_report_fields_independent),
	TEST(test_report_doc_roundtrip),
	TEST(test_report_doc_minimal),
	TEST(test_report_doc_unknown_register_kept),
	TEST(test_report_doc_midr_folded),
	TEST(test_report_doc_errors_name_path),
	TEST(test_report_doc_nul_escape),
	TEST(test_report_doc_too_big),
	TEST(test_report_doc_x86_paths),
	TEST(test_report_doc_x86_rest_kept_in_order),
	TEST(test_doc_read_file_sizes),
	TEST(test_report_cache_same_reports),
	TEST(test_report_cache_same_errors),
	TEST(test_report_doc_golden),
	TEST(test_report_config_text),
	TEST(test_report_doc_microcode_firmware),
	TEST(test_report_read_microcode),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_report_doc = { "report_doc", NULL, NULL, NULL, NULL, tests };
