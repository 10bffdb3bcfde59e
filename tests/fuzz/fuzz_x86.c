/* libFuzzer target: the x86 section of reports and profiles
 * (profiles/x86_doc.c), the CPUID table as cpufleet imports it.  There is
 * no importer of CPUID text dumps in C: tools/dev/instlatx2report.py and
 * firecracker2report.py (Python, test-data converters) turn dumps into
 * report documents, and this section is where their CPUID enters the
 * library (seeds: tests/fuzz/corpus/x86, tests/data/x86).
 *
 * For a document the parser accepts, the target reads the section itself
 * (cJSON, the rules of the README's "Documents (contract v1)") and
 * requires:
 *  - the section is valid by those rules (members other than vendor,
 *    cpuid, msrs, tsc_khz and tsc_scaling are kept as written, like the
 *    engine's unmodelled data elsewhere): each CPUID entry a leaf (32 bits), a
 *    subleaf and eax..edx (32 bits) as "0x" and hex digits, no (leaf,
 *    subleaf) twice; MSR indices "0x" and 1 to 8 hex digits, no MSR twice
 *    however spelt; tsc_khz an integer from 1, tsc_scaling a boolean; a
 *    report has leaves 0 and 1;
 *  - the configuration holds exactly those registers: each entry's four
 *    values under its (leaf, subleaf), each MSR, nothing else of either
 *    kind; in a report every CPUID register writable in all 32 bits and
 *    every MSR in all 64 (KVM_SET_CPUID2 and KVM_SET_MSRS take any value,
 *    research/x86-kvm.md §2);
 *  - the vendor is CPUID leaf 0's EBX, EDX, ECX as 12 bytes, low byte
 *    first (Intel SDM Vol. 2A, CPUID leaf 0; AMD APM Vol. 3, CPUID Fn0000_
 *    0000), a byte outside printable ASCII shown as another printable
 *    character; "vendor", when given, agrees;
 *  - the order of entries and MSRs does not matter: the document with
 *    both reversed parses to the same printed text;
 *  - the printed document reads back (by the same rules) to the same
 *    entries and MSRs;
 *  - one mutation that breaks a rule is refused: an entry given twice, a
 *    leaf above 32 bits, an MSR given twice under another spelling, a
 *    vendor that contradicts leaf 0. */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include <cpufleet.h>
#include "arch/x86/x86.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct entry {
	uint32_t leaf, sub, r[4];
};
struct msr {
	uint32_t idx;
	uint64_t v;
};
struct xsec {
	struct entry *e;
	size_t n;
	struct msr *m;
	size_t nm;
	const char *vendor;          /* NULL if not given */
	bool has_khz, has_scaling;
	uint64_t khz;
	bool scaling;
};

static const char *const regnames[4] = { "eax", "ebx", "ecx", "edx" };

static void xsec_free(struct xsec *x)
{
	free(x->e);
	free(x->m);
	memset(x, 0, sizeof(*x));
}

/* "0x" (or "0X") and 1 to DIGITS hex digits, at most MAX. */
static bool hex(const cJSON *it, unsigned digits, uint64_t max, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	size_t n;

	if (!cJSON_IsString(it))
		return false;
	s = it->valuestring;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	s += 2;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n != strlen(s) || n > digits)
		return false;
	for (; *s; s++)
		v = v << 4 | (uint64_t)(*s <= '9' ? *s - '0'
					 : (*s | 0x20) - 'a' + 10);
	*out = v;
	return v <= max;
}

static bool has_entry(const struct xsec *x, uint32_t leaf, uint32_t sub,
		      size_t *at)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].leaf == leaf && x->e[i].sub == sub) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static bool has_msr(const struct xsec *x, uint32_t idx, size_t *at)
{
	for (size_t i = 0; i < x->nm; i++)
		if (x->m[i].idx == idx) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

/* Reads SEC by the README's rules into X; false (WHY set) if it breaks
 * one. */
static bool read_sec(const cJSON *sec, bool report, struct xsec *x,
		     char *why, size_t wl)
{
	const cJSON *it, *cpuid, *msrs;

	memset(x, 0, sizeof(*x));
	if (!cJSON_IsObject(sec)) {
		snprintf(why, wl, "$.x86 is not an object");
		return false;
	}
	cpuid = cJSON_GetObjectItemCaseSensitive(sec, "cpuid");
	if (!cJSON_IsArray(cpuid)) {
		snprintf(why, wl, "$.x86.cpuid: not an array");
		return false;
	}
	x->e = calloc((size_t)cJSON_GetArraySize(cpuid) + 1, sizeof(*x->e));
	if (!x->e)
		return false;
	cJSON_ArrayForEach(it, cpuid) {
		struct entry *e = &x->e[x->n];
		uint64_t leaf, sub, v;
		if (!hex(cJSON_GetObjectItemCaseSensitive(it, "leaf"), 16,
			 0xffffffffu, &leaf) ||
		    !hex(cJSON_GetObjectItemCaseSensitive(it, "subleaf"), 16,
			 CF_X86_SUB_MAX, &sub)) {
			snprintf(why, wl, "$.x86.cpuid[%zu]: bad leaf or subleaf",
				 x->n);
			return false;
		}
		if (has_entry(x, (uint32_t)leaf, (uint32_t)sub, NULL)) {
			snprintf(why, wl, "$.x86.cpuid[%zu]: leaf 0x%llx subleaf "
				 "0x%llx twice", x->n, (unsigned long long)leaf,
				 (unsigned long long)sub);
			return false;
		}
		e->leaf = (uint32_t)leaf;
		e->sub = (uint32_t)sub;
		for (int r = 0; r < 4; r++) {
			if (!hex(cJSON_GetObjectItemCaseSensitive(it, regnames[r]),
				 16, 0xffffffffu, &v)) {
				snprintf(why, wl, "$.x86.cpuid[%zu].%s: bad", x->n,
					 regnames[r]);
				return false;
			}
			e->r[r] = (uint32_t)v;
		}
		x->n++;
	}
	msrs = cJSON_GetObjectItemCaseSensitive(sec, "msrs");
	if (msrs && !cJSON_IsObject(msrs)) {
		snprintf(why, wl, "$.x86.msrs: not an object");
		return false;
	}
	x->m = calloc((size_t)cJSON_GetArraySize(msrs) + 1, sizeof(*x->m));
	if (!x->m)
		return false;
	cJSON_ArrayForEach(it, msrs) {
		cJSON key = { .type = cJSON_String, .valuestring = it->string };
		uint64_t idx, v;
		if (!hex(&key, 8, 0xffffffffu, &idx) || !hex(it, 16, ~0ULL, &v) ||
		    has_msr(x, (uint32_t)idx, NULL)) {
			snprintf(why, wl, "$.x86.msrs.%s: bad or twice", it->string);
			return false;
		}
		x->m[x->nm].idx = (uint32_t)idx;
		x->m[x->nm++].v = v;
	}
	it = cJSON_GetObjectItemCaseSensitive(sec, "vendor");
	if (it && !cJSON_IsString(it)) {
		snprintf(why, wl, "$.x86.vendor: not a string");
		return false;
	}
	x->vendor = it ? it->valuestring : NULL;
	it = cJSON_GetObjectItemCaseSensitive(sec, "tsc_khz");
	if (it) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
		    it->valuedouble > 4294967295.0 ||
		    it->valuedouble != (double)(uint64_t)it->valuedouble) {
			snprintf(why, wl, "$.x86.tsc_khz: not an integer from 1");
			return false;
		}
		x->has_khz = true;
		x->khz = (uint64_t)it->valuedouble;
	}
	it = cJSON_GetObjectItemCaseSensitive(sec, "tsc_scaling");
	if (it) {
		if (!cJSON_IsBool(it)) {
			snprintf(why, wl, "$.x86.tsc_scaling: not a boolean");
			return false;
		}
		x->has_scaling = true;
		x->scaling = cJSON_IsTrue(it);
	}
	if (report && (!has_entry(x, 0, 0, NULL) || !has_entry(x, 1, 0, NULL))) {
		snprintf(why, wl, "a report without CPUID leaf 0 or 1");
		return false;
	}
	return true;
}

/* Leaf 0's vendor as the SDM gives it agrees with TEXT: 12 characters,
 * each the byte of EBX, EDX, ECX (low byte first) where that is printable
 * ASCII, another printable character where not. */
static unsigned char vendor_byte(const struct entry *leaf0, int i)
{
	static const int order[3] = { 1, 3, 2 };   /* EBX, EDX, ECX */

	return (unsigned char)(leaf0->r[order[i / 4]] >> (8 * (i % 4)));
}

static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

static bool vendor_agrees(const struct entry *leaf0, const char *text)
{
	if (strlen(text) != 12)
		return false;
	for (int i = 0; i < 12; i++) {
		unsigned char b = vendor_byte(leaf0, i);
		unsigned char c = (unsigned char)text[i];
		if (printable(b) ? c != b : (c == b || !printable(c)))
			return false;
	}
	return true;
}

struct walk {
	const struct xsec *x;
	bool report;
	size_t ncpuid, nmsr;
	char why[160];
};

/* Every CPUID and MSR register of the configuration is one of X's. */
static int walk_one(void *vctx, uint64_t key, uint64_t v, uint64_t wr)
{
	struct walk *w = vctx;
	size_t at;

	if (CF_X86_IS_CPUID(key)) {
		w->ncpuid++;
		if (!has_entry(w->x, CF_X86_LEAF(key), CF_X86_SUB(key), &at) ||
		    w->x->e[at].r[CF_X86_REG(key)] != v ||
		    (w->report && wr != 0xffffffffu)) {
			snprintf(w->why, sizeof(w->why), "CPUID 0x%x.0x%x %s = "
				 "0x%llx (writable 0x%llx)", CF_X86_LEAF(key),
				 CF_X86_SUB(key), regnames[CF_X86_REG(key)],
				 (unsigned long long)v, (unsigned long long)wr);
			return 1;
		}
	} else if (CF_X86_IS_MSR(key)) {
		w->nmsr++;
		if (!has_msr(w->x, (uint32_t)key, &at) || w->x->m[at].v != v ||
		    (w->report && wr != ~0ULL)) {
			snprintf(w->why, sizeof(w->why), "MSR 0x%x = 0x%llx "
				 "(writable 0x%llx)", (unsigned)(uint32_t)key,
				 (unsigned long long)v, (unsigned long long)wr);
			return 1;
		}
	}
	return 0;
}

/* CFG holds exactly X's registers, vendor and TSC facts. */
static void same_registers(const struct cf_config *cfg, const struct xsec *x,
			   bool report, bool with_facts)
{
	struct walk w = { .x = x, .report = report };
	char vendor[64], d[200];
	size_t at;
	uint64_t v;

	fz_require(cf_config_walk(cfg, walk_one, &w) == 0,
		   "x86: a register the document does not give", w.why);
	fz_require(w.ncpuid == 4 * x->n && w.nmsr == x->nm,
		   "x86: every entry and MSR of the document is kept", NULL);
	if (has_entry(x, 0, 0, &at)) {
		fz_require(cf_x86_vendor(cfg, vendor, sizeof(vendor)),
			   "x86: a vendor with leaf 0", NULL);
		snprintf(d, sizeof(d), "\"%s\", leaf 0 ebx 0x%08x edx 0x%08x "
			 "ecx 0x%08x", vendor, x->e[at].r[1], x->e[at].r[3],
			 x->e[at].r[2]);
		fz_require(vendor_agrees(&x->e[at], vendor),
			   "x86: the vendor is leaf 0's EBX, EDX, ECX", d);
		fz_require(!x->vendor || !strcmp(x->vendor, vendor),
			   "x86: \"vendor\" agrees with leaf 0", d);
	} else {
		fz_require(!cf_x86_vendor(cfg, vendor, sizeof(vendor)),
			   "x86: no vendor without leaf 0", vendor);
	}
	if (!with_facts)
		return;
	fz_require(cf_config_get_fact(cfg, "TSC_KHZ", &v) == x->has_khz &&
		   (!x->has_khz || v == x->khz), "x86: tsc_khz as given", NULL);
	fz_require(cf_config_get_fact(cfg, "TSC_SCALING", &v) ==
		   x->has_scaling && (!x->has_scaling || !v == !x->scaling),
		   "x86: tsc_scaling as given", NULL);
}

/* A parsed document, either kind. */
struct doc {
	struct cf_report *r;
	struct cf_profile *p;
};

static bool parse(const char *text, size_t len, bool report, struct doc *o)
{
	struct cf_diag d;

	memset(o, 0, sizeof(*o));
	if (report)
		return cf_report_parse(text, len, "fuzz", &o->r, &d) == CF_OK;
	return cf_profile_parse(text, len, "fuzz", &o->p, &d) == CF_OK;
}

static char *print(const struct doc *o)
{
	char *s = NULL;

	if (o->r)
		cf_report_to_json(o->r, &s);
	else
		cf_profile_to_json(o->p, &s);
	return s;
}

static void doc_free(struct doc *o)
{
	cf_report_destroy(o->r);
	cf_profile_destroy(o->p);
}

static bool parses(cJSON *root, bool report)
{
	char *t = cJSON_PrintUnformatted(root);
	struct doc o;
	bool ok;

	if (!t)
		return false;
	ok = parse(t, strlen(t), report, &o);
	doc_free(&o);
	free(t);
	return ok;
}

/* Reverses the items of ARR (an array or object) in place. */
static void reverse(cJSON *arr)
{
	cJSON *items = NULL, *it;

	while ((it = arr ? arr->child : NULL)) {
		cJSON_DetachItemViaPointer(arr, it);
		it->next = items;
		items = it;
	}
	while ((it = items)) {
		items = it->next;
		it->next = it->prev = NULL;
		cJSON_AddItemToArray(arr, it);
	}
}

/* Reversed entries and MSRs: the same document. */
static void order_free(const cJSON *root, bool report, const char *printed)
{
	cJSON *dup = cJSON_Duplicate(root, true), *sec;
	char *t, *again = NULL;
	struct doc o;

	if (!dup)
		return;
	sec = cJSON_GetObjectItemCaseSensitive(dup, "x86");
	reverse(cJSON_GetObjectItemCaseSensitive(sec, "cpuid"));
	reverse(cJSON_GetObjectItemCaseSensitive(sec, "msrs"));
	t = cJSON_PrintUnformatted(dup);
	cJSON_Delete(dup);
	if (!t)
		return;
	fz_require(parse(t, strlen(t), report, &o),
		   "x86: reordered entries and MSRs still parse", NULL);
	again = print(&o);
	fz_require(again && !strcmp(again, printed),
		   "x86: the order of entries and MSRs does not matter", NULL);
	free(again);
	free(t);
	doc_free(&o);
}

/* One mutation breaking a rule, chosen by the input: refused. */
static void refuses_broken(const cJSON *root, bool report, const struct xsec *x,
			   struct fz_rng *g)
{
	cJSON *dup = cJSON_Duplicate(root, true), *sec, *cpuid, *e, *msrs;
	size_t at;
	char s[40];
	const char *what = NULL;

	if (!dup)
		return;
	sec = cJSON_GetObjectItemCaseSensitive(dup, "x86");
	cpuid = cJSON_GetObjectItemCaseSensitive(sec, "cpuid");
	switch (fz_rng_next(g) % 4) {
	case 0:   /* an entry twice, spelt in capitals */
		if (!x->n)
			break;
		at = fz_rng_next(g) % x->n;
		e = cJSON_Duplicate(cJSON_GetArrayItem(cpuid, (int)at), true);
		snprintf(s, sizeof(s), "0X%X", x->e[at].leaf);
		cJSON_ReplaceItemInObjectCaseSensitive(e, "leaf",
						       cJSON_CreateString(s));
		cJSON_AddItemToArray(cpuid, e);
		what = "x86: a (leaf, subleaf) given twice is refused";
		break;
	case 1:   /* a leaf above 32 bits */
		if (!x->n)
			break;
		at = fz_rng_next(g) % x->n;
		e = cJSON_GetArrayItem(cpuid, (int)at);
		snprintf(s, sizeof(s), "0x1%08x", x->e[at].leaf);
		cJSON_ReplaceItemInObjectCaseSensitive(e, "leaf",
						       cJSON_CreateString(s));
		what = "x86: a leaf above 32 bits is refused";
		break;
	case 2:   /* an MSR twice under another spelling */
		if (!x->nm)
			break;
		at = fz_rng_next(g) % x->nm;
		msrs = cJSON_GetObjectItemCaseSensitive(sec, "msrs");
		snprintf(s, sizeof(s), "0x%08X", x->m[at].idx);
		if (cJSON_GetObjectItemCaseSensitive(msrs, s))
			snprintf(s, sizeof(s), "0x%X", x->m[at].idx);
		if (cJSON_GetObjectItemCaseSensitive(msrs, s))
			break;
		cJSON_AddStringToObject(msrs, s, "0x0");
		what = "x86: an MSR given twice is refused";
		break;
	default:  /* a vendor that contradicts leaf 0 */
		if (!has_entry(x, 0, 0, &at))
			break;
		for (int i = 0; i < 12; i++) {
			unsigned char b = vendor_byte(&x->e[at], i);
			s[i] = printable(b) ? (char)b : '?';
		}
		s[12] = '\0';
		/* A printable byte of leaf 0 replaced by another. */
		for (int i = 0, k = (int)(fz_rng_next(g) % 12); i < 12; i++) {
			int j = (k + i) % 12;
			if (printable(vendor_byte(&x->e[at], j))) {
				s[j] = s[j] == 'A' ? 'B' : 'A';
				cJSON_DeleteItemFromObjectCaseSensitive(sec,
									"vendor");
				cJSON_AddStringToObject(sec, "vendor", s);
				what = "x86: a vendor contradicting leaf 0 is "
				       "refused";
				break;
			}
		}
		break;
	}
	if (what)
		fz_require(!parses(dup, report), what, NULL);
	cJSON_Delete(dup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	cJSON *root = cJSON_ParseWithLength(text, size), *back = NULL, *schema;
	bool report;
	struct doc o;
	struct xsec x = { 0 }, y = { 0 };
	struct fz_rng g;
	char why[200] = "", *printed = NULL;

	schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	report = !cJSON_IsString(schema) ||
		 strcmp(schema->valuestring, "cpufleet.profile/v1") != 0;
	if (!parse(text, size, report, &o))
		goto out;
	if (strcmp(o.r ? cf_report_arch(o.r) : cf_profile_arch(o.p), "x86"))
		goto out;
	fz_require(root != NULL, "x86: an accepted document is JSON", NULL);
	fz_require(read_sec(cJSON_GetObjectItemCaseSensitive(root, "x86"),
			    report, &x, why, sizeof(why)),
		   "x86: an accepted section keeps the README's rules", why);
	same_registers(o.r ? o.r->cfg : o.p->cfg, &x, report, true);
	printed = print(&o);
	if (!printed)
		goto out;
	back = cJSON_Parse(printed);
	fz_require(read_sec(cJSON_GetObjectItemCaseSensitive(back, "x86"),
			    report, &y, why, sizeof(why)),
		   "x86: the printed section keeps the README's rules", why);
	/* Printed, the section gives the same registers again. */
	same_registers(o.r ? o.r->cfg : o.p->cfg, &y, report, false);
	order_free(root, report, printed);
	fz_rng_seed(&g, data, size);
	refuses_broken(root, report, &x, &g);
out:
	xsec_free(&x);
	xsec_free(&y);
	free(printed);
	cJSON_Delete(back);
	cJSON_Delete(root);
	doc_free(&o);
	return 0;
}
