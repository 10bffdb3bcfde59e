/* x86 safety with an oracle of its own: hosts that lack whole CPUID leaves,
 * subleaves and feature MSRs.
 *
 * The oracle reads the catalogue TEXT (arch/x86/cpuid.txt, the file's
 * grammar in its header) with a parser of its own, and the documents as
 * JSON (cJSON): the profile as cpufleet writes it and each host's report
 * as given to the engine.  It never calls cf_check, cf_field_accepts or
 * the generated catalogue.  A profile P is safe on a host H when, register
 * by register (a CPUID register or MSR the host does not report reads as
 * zero: KVM_GET_SUPPORTED_CPUID lists what KVM offers, and a guest reading
 * an unlisted leaf gets zeros, research/x86-kvm.md §2):
 *  - every `flag` and `andset` bit set in P is set in H (the guest may
 *    use only what every host has), so a register P wants a flag of exists
 *    on H;
 *  - every `inverted` and `orset` bit set in H is set in P (a weakness of
 *    any host, a VMX control some host must keep at 1, is shown);
 *  - every `number` field of P is <= H's;
 * except in a register whose `gate=` flags P all lacks: it describes a
 * feature the guest does not have (the SDM: invalid without it), so a
 * guest never reads it.
 * Properties: the baseline of a random pool of real reports with leaves,
 * subleaves and MSRs removed from some hosts is safe on each of them; and
 * whenever the oracle finds a real host's own profile unsafe on a mutated
 * host, cf_check refuses it (no false "safe").  Reports: tests/data/x86
 * (InstLatx64 dumps, see its README). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "profiles/doc.h"
#include "tests/unit/suites.h"

/* ---- the oracle's catalogue, read from the text ---- */

#define OR_REGS 512
#define OR_NUMS 16
#define OR_GATES 4

struct oreg {
	bool msr;
	uint32_t leaf, sub, reg;  /* CPUID: reg 0..3 = eax..edx */
	uint32_t index;           /* MSR */
	uint64_t width_mask;
	uint64_t flags;    /* flag, andset (and `default flag` bits) */
	uint64_t up;       /* inverted, orset: any host's 1 must be in P */
	uint64_t covered;  /* bits some line names */
	bool default_flag;
	int nnum;
	uint8_t msb[OR_NUMS], lsb[OR_NUMS];
	char name[40];
	int ngates;        /* gate=: flags, one of which P must have */
	char gate[OR_GATES][32];
	const struct oreg *gate_reg[OR_GATES];
	unsigned gate_bit[OR_GATES];
};

static struct oreg oregs[OR_REGS];
static size_t noregs;

/* Every `flag` line: its name, register and bit (to resolve gates). */
static struct oflag {
	char name[32];
	const struct oreg *reg;
	unsigned bit;
} oflags[OR_REGS * 2];
static size_t noflags;

/* Reads "gate=a,b" into R. */
static void gates_of(struct oreg *r, char *tok)
{
	char *save = NULL, *g;

	if (!tok || strncmp(tok, "gate=", 5) != 0)
		return;
	for (g = strtok_r(tok + 5, ",", &save); g && r->ngates < OR_GATES;
	     g = strtok_r(NULL, ",", &save))
		snprintf(r->gate[r->ngates++], sizeof(r->gate[0]), "%s", g);
}

/* Points each gate at its flag's register and bit. */
static bool resolve_gates(void)
{
	for (size_t i = 0; i < noregs; i++) {
		struct oreg *r = &oregs[i];
		for (int k = 0; k < r->ngates; k++) {
			for (size_t f = 0; f < noflags && !r->gate_reg[k]; f++)
				if (!strcmp(oflags[f].name, r->gate[k])) {
					r->gate_reg[k] = oflags[f].reg;
					r->gate_bit[k] = oflags[f].bit;
				}
			if (!r->gate_reg[k])
				return false;
		}
	}
	return true;
}

/* "5" or "31:24" into a mask and its low bit. */
static bool bits_of(const char *s, uint64_t *mask, unsigned *msb, unsigned *lsb)
{
	char *end;
	unsigned long hi = strtoul(s, &end, 10), lo = hi;

	if (*end == ':')
		lo = strtoul(end + 1, &end, 10);
	if (*end || hi > 63 || lo > hi)
		return false;
	*msb = (unsigned)hi;
	*lsb = (unsigned)lo;
	*mask = (hi - lo == 63 ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1)) << lo;
	return true;
}

static bool oracle_load(void)
{
	static const char *const regnames[] = { "eax", "ebx", "ecx", "edx" };
	char *text = NULL, *line, *save = NULL;
	size_t len;
	struct cf_diag d;
	struct oreg *cur = NULL;

	if (noregs)
		return true;
	if (cf_doc_read_file("arch/x86/cpuid.txt", &text, &len, &d) != CF_OK)
		return false;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *s2 = NULL;
		char *kw, *a1, *a2, *a3, *a4;
		if (hash)
			*hash = '\0';
		kw = strtok_r(line, " \t", &s2);
		a1 = kw ? strtok_r(NULL, " \t", &s2) : NULL;
		a2 = a1 ? strtok_r(NULL, " \t", &s2) : NULL;
		a3 = a2 ? strtok_r(NULL, " \t", &s2) : NULL;
		a4 = a3 ? strtok_r(NULL, " \t", &s2) : NULL;
		if (!kw)
			continue;
		if (!strcmp(kw, "cpuid") && a3 && noregs < OR_REGS) {
			cur = &oregs[noregs++];
			memset(cur, 0, sizeof(*cur));
			cur->leaf = (uint32_t)strtoul(a1, NULL, 16);
			cur->sub = (uint32_t)strtoul(a2, NULL, 16);
			for (uint32_t r = 0; r < 4; r++)
				if (!strcmp(a3, regnames[r]))
					cur->reg = r;
			cur->width_mask = 0xffffffffULL;
			snprintf(cur->name, sizeof(cur->name), "%x.%x.%s",
				 cur->leaf, cur->sub, a3);
			/* [required] [gate=...] */
			if (a4 && strncmp(a4, "gate=", 5) != 0)
				a4 = strtok_r(NULL, " \t", &s2);
			gates_of(cur, a4);
		} else if (!strcmp(kw, "msr") && a2 && noregs < OR_REGS) {
			cur = &oregs[noregs++];
			memset(cur, 0, sizeof(*cur));
			cur->msr = true;
			cur->index = (uint32_t)strtoul(a1, NULL, 16);
			cur->width_mask = ~0ULL;
			snprintf(cur->name, sizeof(cur->name), "%s", a2);
			gates_of(cur, a3);  /* [gate=...] */
		} else if (!strcmp(kw, "fact")) {
			cur = NULL;
		} else if (!strcmp(kw, "end")) {
			if (cur && cur->default_flag)
				cur->flags |= cur->width_mask & ~cur->covered;
			cur = NULL;
		} else if (cur && !strcmp(kw, "default")) {
			cur->default_flag = a1 && !strcmp(a1, "flag");
		} else if (cur && a1) {
			uint64_t m;
			unsigned msb, lsb;
			if (!bits_of(a1, &m, &msb, &lsb))
				continue;
			cur->covered |= m;
			if (!strcmp(kw, "flag") && a2 &&
			    noflags < sizeof(oflags) / sizeof(oflags[0])) {
				struct oflag *f = &oflags[noflags++];
				snprintf(f->name, sizeof(f->name), "%s", a2);
				f->reg = cur;
				f->bit = lsb;
			}
			if (!strcmp(kw, "flag") || !strcmp(kw, "andset"))
				cur->flags |= m;
			else if (!strcmp(kw, "inverted") || !strcmp(kw, "orset"))
				cur->up |= m;
			else if (!strcmp(kw, "number") && cur->nnum < OR_NUMS) {
				cur->msb[cur->nnum] = (uint8_t)msb;
				cur->lsb[cur->nnum++] = (uint8_t)lsb;
			}
		}
	}
	free(text);
	return noregs > 0 && resolve_gates();
}

/* ---- register values from a document's JSON ---- */

static uint64_t hexval(const cJSON *s)
{
	return cJSON_IsString(s) ? strtoull(s->valuestring, NULL, 16) : 0;
}

/* The x86 section of a report or profile document. */
static const cJSON *x86_section(const cJSON *doc)
{
	return cJSON_GetObjectItemCaseSensitive(doc, "x86");
}

/* Register R's value in the document's JSON; false if it lacks it. */
static bool doc_value(const cJSON *doc, const struct oreg *r, uint64_t *v)
{
	const cJSON *sec = x86_section(doc), *e;
	static const char *const regnames[] = { "eax", "ebx", "ecx", "edx" };
	char key[16];

	if (r->msr) {
		snprintf(key, sizeof(key), "0x%08x", r->index);
		e = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(sec, "msrs"), key);
		if (!e)
			return false;
		*v = hexval(e);
		return true;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sec, "cpuid")) {
		if (hexval(cJSON_GetObjectItemCaseSensitive(e, "leaf")) == r->leaf &&
		    hexval(cJSON_GetObjectItemCaseSensitive(e, "subleaf")) ==
		    r->sub) {
			*v = hexval(cJSON_GetObjectItemCaseSensitive(
				e, regnames[r->reg]));
			return true;
		}
	}
	return false;
}

/* Register R describes a feature profile PROF leaves out: R has gates and
 * PROF none of their flags. */
static bool gate_closed(const cJSON *prof, const struct oreg *r)
{
	for (int k = 0; k < r->ngates; k++) {
		uint64_t v;
		if (doc_value(prof, r->gate_reg[k], &v) &&
		    (v >> r->gate_bit[k]) & 1)
			return false;
	}
	return r->ngates > 0;
}

/* How many registers of profile PROF are unsafe on host HOST (both JSON);
 * the first into WHY. */
static size_t unsafe(const cJSON *prof, const cJSON *host, char *why,
		     size_t len)
{
	size_t n = 0;

	why[0] = '\0';
	for (size_t i = 0; i < noregs; i++) {
		const struct oreg *r = &oregs[i];
		uint64_t pv = 0, hv = 0, m;
		bool hp = doc_value(host, r, &hv), pp = doc_value(prof, r, &pv);
		const char *what = NULL;
		if (gate_closed(prof, r))
			continue;
		if (!pp)
			pv = 0;
		if (!hp)
			hv = 0;   /* an unlisted leaf or MSR reads as zero */
		if ((m = pv & r->flags & ~hv))
			what = hp ? "flag the host lacks" :
				"flag in a register the host lacks";
		else if ((m = hv & r->up & ~pv))
			what = "host's inverted/orset bit not shown";
		for (int k = 0; !what && k < r->nnum; k++) {
			unsigned w = r->msb[k] - r->lsb[k] + 1;
			uint64_t fm = w == 64 ? ~0ULL : (1ULL << w) - 1;
			if (((pv >> r->lsb[k]) & fm) > ((hv >> r->lsb[k]) & fm)) {
				what = "number above the host's";
				m = fm << r->lsb[k];
			}
		}
		if (!what)
			continue;
		if (!n++)
			snprintf(why, len, "%s: %s (bits 0x%llx)", r->name, what,
				 (unsigned long long)m);
	}
	return n;
}

static const struct oreg *oreg_cpuid(uint32_t leaf, uint32_t sub, uint32_t reg)
{
	for (size_t i = 0; i < noregs; i++)
		if (!oregs[i].msr && oregs[i].leaf == leaf &&
		    oregs[i].sub == sub && oregs[i].reg == reg)
			return &oregs[i];
	return NULL;
}

static const struct oreg *oreg_msr(uint32_t index)
{
	for (size_t i = 0; i < noregs; i++)
		if (oregs[i].msr && oregs[i].index == index)
			return &oregs[i];
	return NULL;
}

/* ---- documents ---- */


static cJSON *profile_json(const struct cf_profile *pr)
{
	char *text = NULL;
	cJSON *j = NULL;

	if (cf_profile_to_json(pr, &text) == CF_OK)
		j = cJSON_Parse(text);
	free(text);
	return j;
}

static void set_host_id(cJSON *doc, const char *id)
{
	cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "host");

	cJSON_ReplaceItemInObjectCaseSensitive(host, "id", cJSON_CreateString(id));
	cJSON_ReplaceItemInObjectCaseSensitive(host, "hostname",
					       cJSON_CreateString(id));
}

/* Removes CPUID (LEAF, SUB) from DOC (every subleaf if SUB is -1). */
static void drop_leaf(cJSON *doc, uint32_t leaf, long sub)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(x86_section(doc), "cpuid");
	cJSON *e = arr ? arr->child : NULL, *next;

	for (; e; e = next) {
		next = e->next;
		if (hexval(cJSON_GetObjectItemCaseSensitive(e, "leaf")) == leaf &&
		    (sub < 0 || hexval(cJSON_GetObjectItemCaseSensitive(
				e, "subleaf")) == (uint64_t)sub))
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, e));
	}
}

static void drop_msr(cJSON *doc, uint32_t index)
{
	cJSON *msrs = cJSON_GetObjectItemCaseSensitive(x86_section(doc), "msrs");
	char key[16];

	snprintf(key, sizeof(key), "0x%08x", index);
	cJSON_DeleteItemFromObjectCaseSensitive(msrs, key);
	if (msrs && !msrs->child)
		cJSON_DeleteItemFromObjectCaseSensitive(
			(cJSON *)x86_section(doc), "msrs");
}

/* The baseline of the reports of DOCS[0..N-1] (a one-host pool: that
 * host's own profile, as `cpufleet baseline` writes it). */
static struct cf_profile *baseline_of_docs(cJSON **docs, size_t n)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("x86", &p), CF_OK);
	for (size_t i = 0; i < n; i++) {
		struct cf_report *r = test_report_of_json(docs[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(cf_pool_add(p, r, &d), CF_OK);
		cf_report_destroy(r);
	}
	CU_ASSERT_EQUAL(cf_baseline(p, &pr), CF_OK);
	cf_pool_destroy(p);
	return pr;
}

/* cf_check(PR, report of HOST): compatible?  Sets *NAMED when one reason
 * names register REG (may be NULL). */
static bool engine_accepts(const struct cf_profile *pr, const cJSON *host,
			   const char *reg, bool *named)
{
	struct cf_report *r = test_report_of_json(host);
	struct cf_verdict *v = cf_verdict_create();
	bool ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
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
	cf_report_destroy(r);
	return ok;
}

/* ---- tests ---- */

/* The oracle's reading of the text holds the bits the sources give:
 * CPUID.(EAX=7,ECX=0):EBX[5] AVX2 and CPUID.(EAX=7,ECX=1):EAX[4] AVX-VNNI
 * (Intel SDM Vol. 2A, CPUID, Table 3-8), IA32_ARCH_CAPABILITIES[0]
 * RDCL_NO and [2] RSBA, a weakness (Linux msr-index.h ARCH_CAP_RDCL_NO,
 * ARCH_CAP_RSBA), CPUID.80000008H:EAX[7:0] the physical-address width,
 * a count (AMD APM Vol. 3, E.4.7), and leaf 0x24 valid only with
 * CPUID.(EAX=7,ECX=1):EDX[19] AVX10 (Intel AVX10 Architecture
 * Specification, CPUID enumeration). */
static void test_x86_safety_oracle_reads_the_text(void)
{
	const struct oreg *r;
	size_t flags = 0;

	CU_ASSERT_TRUE_FATAL(oracle_load());
	for (size_t i = 0; i < noregs; i++)
		flags += (size_t)__builtin_popcountll(oregs[i].flags);
	CU_ASSERT_TRUE(flags > 300);
	r = oreg_cpuid(7, 0, 1);
	CU_ASSERT_TRUE_FATAL(r != NULL);
	CU_ASSERT_TRUE(r->flags & (1u << 5));
	r = oreg_cpuid(7, 1, 0);
	CU_ASSERT_TRUE_FATAL(r != NULL);
	CU_ASSERT_TRUE(r->flags & (1u << 4));
	r = oreg_msr(0x10a);
	CU_ASSERT_TRUE_FATAL(r != NULL);
	CU_ASSERT_TRUE(r->flags & 1);
	CU_ASSERT_TRUE(r->up & 4);
	r = oreg_cpuid(0x80000008u, 0, 0);
	CU_ASSERT_TRUE_FATAL(r != NULL);
	CU_ASSERT_TRUE(r->nnum >= 1 && r->lsb[0] == 0 && r->msb[0] == 7);
	r = oreg_cpuid(0x24, 0, 0);
	CU_ASSERT_TRUE_FATAL(r != NULL);
	CU_ASSERT_TRUE(r->ngates == 1 && r->gate_reg[0] == oreg_cpuid(7, 1, 3) &&
		       r->gate_bit[0] == 19);
}

/* The audit's case and its kin: Granite Rapids without CPUID leaf 7.1
 * (AVX-VNNI, AVX10...), without 0xD.1 (XSAVEOPT, XSAVEC...), without leaf
 * 0x14 (Processor Trace) or without IA32_ARCH_CAPABILITIES, against
 * Granite Rapids' own profile.  Where that profile wants a flag there (the
 * oracle says so from the JSON), the host lacks it: INCOMPATIBLE, naming
 * the register. */
static void test_x86_safety_gnr_lacking_leaves(void)
{
	static const struct { uint32_t leaf; long sub; uint32_t msr;
			      const char *reg; bool must_want; } cut[] = {
		{ 0x7, 1, 0, "CPUID_00000007_1_EAX", true },
		{ 0xd, 1, 0, "CPUID_0000000D_1_EAX", true },
		{ 0x14, -1, 0, "CPUID_00000014_0_EBX", false },
		{ 0, 0, 0x10a, "IA32_ARCH_CAPABILITIES", true },
	};
	cJSON *gnr = test_load_json("x86/gnr-03.json"), *pj;
	struct cf_profile *own;
	char why[256];

	CU_ASSERT_TRUE_FATAL(oracle_load());
	CU_ASSERT_PTR_NOT_NULL_FATAL(gnr);
	own = baseline_of_docs(&gnr, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	pj = profile_json(own);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pj);
	CU_ASSERT_EQUAL(unsafe(pj, gnr, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(engine_accepts(own, gnr, NULL, NULL));
	for (size_t c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		cJSON *h = cJSON_Duplicate(gnr, 1);
		size_t bad;
		bool named;
		if (cut[c].msr)
			drop_msr(h, cut[c].msr);
		else
			drop_leaf(h, cut[c].leaf, cut[c].sub);
		bad = unsafe(pj, h, why, sizeof(why));
		/* The profile does want flags in 7.1, 0xD.1 and 0x10A. */
		if (cut[c].must_want)
			CU_ASSERT_TRUE(bad > 0);
		if (bad) {
			bool ok = engine_accepts(own, h, cut[c].reg, &named);
			if (ok)
				fprintf(stderr, "\n  false safe: %s: %s\n",
					cut[c].reg, why);
			CU_ASSERT_FALSE(ok);
			CU_ASSERT_TRUE(named);
		}
		cJSON_Delete(h);
	}
	cJSON_Delete(pj);
	cf_profile_destroy(own);
	cJSON_Delete(gnr);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	return test_rnd(&rng);
}

/* A copy of BASE as host ID: some whole leaves, some subleaves (7.1, 0xD.N
 * and 0x14 more often) and the MSRs gone, a few flags cleared.  Leaves 0
 * and 1 stay: every KVM reports them. */
static cJSON *mutate(const cJSON *base, const char *id)
{
	cJSON *h = cJSON_Duplicate(base, 1);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(x86_section(h), "cpuid");
	cJSON *e, *next;
	static const char *const regnames[] = { "eax", "ebx", "ecx", "edx" };

	set_host_id(h, id);
	for (e = arr ? arr->child : NULL; e; e = next) {
		uint32_t leaf = (uint32_t)hexval(
			cJSON_GetObjectItemCaseSensitive(e, "leaf"));
		uint32_t sub = (uint32_t)hexval(
			cJSON_GetObjectItemCaseSensitive(e, "subleaf"));
		bool focus = (leaf == 7 && sub == 1) || leaf == 0xd ||
			     leaf == 0x14;
		next = e->next;
		if (leaf <= 1)
			continue;
		if (rnd() % 100 < (focus ? 25u : 5u)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, e));
			continue;
		}
		if (rnd() % 100 < 3) {       /* the whole leaf */
			while (next && hexval(cJSON_GetObjectItemCaseSensitive(
					next, "leaf")) == leaf)
				next = next->next;
			drop_leaf(h, leaf, -1);
			continue;
		}
		if (rnd() % 100 < 10) {      /* a flag or a count bit lost */
			const char *rn = regnames[rnd() % 4];
			char hex[24];
			uint64_t v = hexval(cJSON_GetObjectItemCaseSensitive(e, rn));
			v &= ~(1ULL << (rnd() % 32));
			snprintf(hex, sizeof(hex), "0x%08llx",
				 (unsigned long long)v);
			cJSON_ReplaceItemInObjectCaseSensitive(
				e, rn, cJSON_CreateString(hex));
		}
	}
	if (rnd() % 100 < 30)
		drop_msr(h, 0x10a);
	return h;
}

/* Random pools of one vendor's mutated real hosts: the baseline, when
 * feasible, is safe on every host by the oracle; and a real host's own
 * profile the oracle finds unsafe on a mutated host is refused there. */
static void test_x86_safety_random_pools(void)
{
	static const char *const files[] = {
		"x86/snb-ep.json", "x86/spr-05.json", "x86/gnr-03.json",
		"x86/bergamo-04.json", "x86/hygon-01.json",
	};
	/* Same-vendor groups of files[]: Intel, AMD, Hygon. */
	static const struct { size_t first, n; } vendor[] = {
		{ 0, 3 }, { 3, 1 }, { 4, 1 },
	};
	cJSON *base[5], *own_json[5];
	struct cf_profile *own[5];
	size_t pools = 0, feasible = 0, judged = 0, refused = 0;
	char why[256];

	CU_ASSERT_TRUE_FATAL(oracle_load());
	for (size_t i = 0; i < 5; i++) {
		base[i] = test_load_json(files[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(base[i]);
		own[i] = baseline_of_docs(&base[i], 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(own[i]);
		own_json[i] = profile_json(own[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(own_json[i]);
	}
	for (int round = 0; round < 120; round++) {
		size_t g = rnd() % 3, n = 2 + rnd() % 4, from[5];
		cJSON *hosts[5];
		struct cf_profile *pr;
		cJSON *pj;
		for (size_t h = 0; h < n; h++) {
			char id[16];
			snprintf(id, sizeof(id), "h%zu", h);
			from[h] = vendor[g].first + rnd() % vendor[g].n;
			/* Some hosts keep everything. */
			hosts[h] = rnd() % 4 == 0 ?
				cJSON_Duplicate(base[from[h]], 1) :
				mutate(base[from[h]], id);
			set_host_id(hosts[h], id);
		}
		pools++;
		pr = baseline_of_docs(hosts, n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
		pj = profile_json(pr);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pj);
		if (cf_profile_feasible(pr)) {
			feasible++;
			for (size_t h = 0; h < n; h++) {
				size_t bad = unsafe(pj, hosts[h], why,
						    sizeof(why));
				if (bad)
					fprintf(stderr, "\n  baseline unsafe on "
						"host %zu: %s\n", h, why);
				CU_ASSERT_EQUAL(bad, 0);
			}
		}
		for (size_t h = 0; h < n; h++) {
			size_t b = from[h];
			if (!unsafe(own_json[b], hosts[h], why, sizeof(why)))
				continue;
			judged++;
			if (engine_accepts(own[b], hosts[h], NULL, NULL))
				fprintf(stderr, "\n  false safe: %s's own "
					"profile on a host lacking it: %s\n",
					files[b], why);
			else
				refused++;
		}
		cJSON_Delete(pj);
		cf_profile_destroy(pr);
		for (size_t h = 0; h < n; h++)
			cJSON_Delete(hosts[h]);
	}
	CU_ASSERT_EQUAL(refused, judged);
	/* The properties were exercised, not vacuous. */
	CU_ASSERT_TRUE(feasible > pools / 2);
	CU_ASSERT_TRUE(judged > 100);
	for (size_t i = 0; i < 5; i++) {
		cJSON_Delete(own_json[i]);
		cf_profile_destroy(own[i]);
		cJSON_Delete(base[i]);
	}
}

static CU_TestInfo tests[] = {
	TEST(test_x86_safety_oracle_reads_the_text),
	TEST(test_x86_safety_gnr_lacking_leaves),
	TEST(test_x86_safety_random_pools),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_x86_safety = { "x86_safety", NULL, NULL, NULL, NULL, tests };
