/* The x86 section of reports and profiles:
 *   "x86": {"vendor": "GenuineIntel",
 *           "cpuid": [{"leaf": "0x00000007", "subleaf": "0x00000000",
 *                      "eax": "0x...", "ebx": ..., "ecx": ..., "edx": ...}],
 *           "msrs": {"0x0000010a": "0x..."}, "tsc_khz": 2450000,
 *           "tsc_scaling": true}
 * msrs, tsc_khz and tsc_scaling are optional (reports converted from CPUID
 * dumps have none).  KVM_SET_CPUID2 takes any value, so every CPUID and MSR
 * bit of a report counts as writable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/x86.h"
#include "arch/driver.h"
#include "profiles/doc.h"
#include "profiles/section.h"
#include "util/diag.h"

#define CPUID_ENTRIES_MAX 4096
#define MSRS_MAX 1024

static const char *const regnames[4] = { "eax", "ebx", "ecx", "edx" };

/* "0x" + hex, at most MAX. */
static enum cf_err hex_max(const cJSON *it, const char *origin,
			   const char *path, uint64_t max, uint64_t *out,
			   struct cf_diag *d)
{
	enum cf_err err = cf_doc_hex(it, origin, path, out, d);

	if (err == CF_OK && *out > max)
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: 0x%llx is over 0x%llx",
				   origin, path, (unsigned long long)*out,
				   (unsigned long long)max);
	return err;
}

static enum cf_err read_cpuid(const cJSON *arr, struct cf_config *cfg,
			      bool report, const char *origin, struct cf_diag *d)
{
	const cJSON *e;
	char p[CF_DOC_PATH_MAX];
	size_t i = 0;
	enum cf_err err;

	if (!cJSON_IsArray(arr))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.cpuid: expected an "
				   "array of {leaf, subleaf, eax, ebx, ecx, edx}",
				   origin);
	cJSON_ArrayForEach(e, arr) {
		uint64_t leaf, sub, v;
		int n;
		if (i >= CPUID_ENTRIES_MAX)
			return cf_diag_set(d, CF_ETOOBIG, "%s: $.x86.cpuid: more "
					   "than %d entries", origin,
					   CPUID_ENTRIES_MAX);
		/* the entry's path once, each member's name put after it */
		n = snprintf(p, sizeof(p), "$.x86.cpuid[%zu]", i);
		if (!cJSON_IsObject(e))
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected an "
					   "object", origin, p);
		memcpy(p + n, ".leaf", sizeof(".leaf"));
		err = hex_max(cJSON_GetObjectItemCaseSensitive(e, "leaf"), origin,
			      p, 0xffffffffu, &leaf, d);
		if (err != CF_OK)
			return err;
		memcpy(p + n, ".subleaf", sizeof(".subleaf"));
		err = hex_max(cJSON_GetObjectItemCaseSensitive(e, "subleaf"),
			      origin, p, CF_X86_SUB_MAX, &sub, d);
		if (err != CF_OK)
			return err;
		if (cf_config_get(cfg, CF_X86_CPUID_KEY(leaf, sub, 0), NULL, NULL))
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.cpuid[%zu]: "
					   "leaf 0x%08llx subleaf 0x%llx given "
					   "twice", origin, i,
					   (unsigned long long)leaf,
					   (unsigned long long)sub);
		for (unsigned r = 0; r < 4; r++) {
			uint64_t key = CF_X86_CPUID_KEY(leaf, sub, r);
			memcpy(p + n, ".", 1);
			memcpy(p + n + 1, regnames[r], sizeof("eax"));
			err = hex_max(cJSON_GetObjectItemCaseSensitive(e, regnames[r]),
				      origin, p, 0xffffffffu, &v, d);
			if (err == CF_OK)
				err = cf_config_set(cfg, key, v);
			if (err == CF_OK && report)
				err = cf_config_set_writable(cfg, key, 0xffffffffu);
			if (err == CF_ETOOBIG)
				return cf_diag_set(d, err, "%s: %s: more than %d "
						   "registers unknown to the "
						   "catalogue", origin, p,
						   CF_EXTRA_REGS_MAX);
			if (err != CF_OK)
				return err;
		}
		i++;
	}
	return CF_OK;
}

static enum cf_err read_msrs(const cJSON *obj, struct cf_config *cfg,
			     bool report, const char *origin, struct cf_diag *d)
{
	const cJSON *it;
	char p[CF_DOC_PATH_MAX];
	size_t n = 0;
	enum cf_err err;

	cJSON_ArrayForEach(it, obj) {
		uint64_t idx, v, key;
		char *end;
		snprintf(p, sizeof(p), "$.x86.msrs.%s", it->string);
		if (++n > MSRS_MAX)
			return cf_diag_set(d, CF_ETOOBIG, "%s: $.x86.msrs: more "
					   "than %d MSRs", origin, MSRS_MAX);
		if (strncmp(it->string, "0x", 2) != 0 || strlen(it->string) < 3 ||
		    strlen(it->string) > 10 ||
		    strspn(it->string + 2, "0123456789abcdefABCDEF") !=
		    strlen(it->string) - 2)
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: an MSR index "
					   "is \"0x\" and 1 to 8 hex digits",
					   origin, p);
		idx = strtoull(it->string + 2, &end, 16);
		key = CF_X86_MSR_KEY(idx);
		if (cf_config_get(cfg, key, NULL, NULL))
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: MSR given twice",
					   origin, p);
		err = cf_doc_hex(it, origin, p, &v, d);
		if (err == CF_OK)
			err = cf_config_set(cfg, key, v);
		if (err == CF_OK && report)
			err = cf_config_set_writable(cfg, key, ~0ULL);
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

static enum cf_err x86_read(const cJSON *sec, struct cf_config *cfg,
			    bool report, const char *origin, struct cf_diag *d)
{
	const cJSON *it;
	const cJSON *msrs = NULL;
	char have[13];
	enum cf_err err;

	err = read_cpuid(cJSON_GetObjectItemCaseSensitive(sec, "cpuid"), cfg,
			 report, origin, d);
	if (err != CF_OK)
		return err;
	it = cJSON_GetObjectItemCaseSensitive(sec, "vendor");
	if (it) {
		if (!cJSON_IsString(it))
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.vendor: "
					   "expected a string", origin);
		if (cf_x86_vendor(cfg, have, sizeof(have)) && strcmp(have, it->valuestring) != 0)
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.vendor: \"%s\" "
					   "but CPUID leaf 0 says \"%s\"", origin,
					   it->valuestring, have);
	}
	err = cf_doc_object(sec, "msrs", false, origin, "$.x86", &msrs, d);
	if (err == CF_OK && msrs)
		err = read_msrs(msrs, cfg, report, origin, d);
	if (err != CF_OK)
		return err;
	it = cJSON_GetObjectItemCaseSensitive(sec, "tsc_khz");
	if (it) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
		    it->valuedouble > 4294967295.0 ||
		    it->valuedouble != (double)(uint64_t)it->valuedouble)
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.tsc_khz: "
					   "expected kHz, an integer from 1",
					   origin);
		err = cf_config_set_fact(cfg, "TSC_KHZ",
					 (uint64_t)it->valuedouble);
		if (err != CF_OK)
			return err;
	}
	it = cJSON_GetObjectItemCaseSensitive(sec, "tsc_scaling");
	if (it) {
		if (!cJSON_IsBool(it))
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.x86.tsc_scaling: "
					   "expected true or false", origin);
		err = cf_config_set_fact(cfg, "TSC_SCALING", cJSON_IsTrue(it));
		if (err != CF_OK)
			return err;
	}
	if (report) {
		cfg->has_writable = true;
		err = cf_x86_tsc_writable(cfg);
	}
	if (err == CF_OK && report)
		err = cf_section_require(cfg, origin, "$.x86.cpuid", d);
	return err;
}

struct wctx {
	cJSON *cpuid, *msrs, *entry;
	uint64_t cur;  /* (leaf, subleaf) of ENTRY */
	bool fail;
};

static int put(void *vctx, uint64_t key, uint64_t v, uint64_t wr)
{
	struct wctx *w = vctx;
	char hex[24], name[16];

	(void)wr;
	if (CF_X86_IS_MSR(key)) {
		snprintf(name, sizeof(name), "0x%08x", (unsigned)(uint32_t)key);
		cf_doc_hexstr(v, hex, sizeof(hex));
		if (!cJSON_AddStringToObject(w->msrs, name, hex))
			w->fail = true;
		return w->fail;
	}
	if (!CF_X86_IS_CPUID(key))
		return 0;
	if (!w->entry || (key & ~3ULL) != w->cur) {
		w->entry = cJSON_CreateObject();
		w->cur = key & ~3ULL;
		snprintf(hex, sizeof(hex), "0x%08x", CF_X86_LEAF(key));
		if (!w->entry || !cJSON_AddItemToArray(w->cpuid, w->entry) ||
		    !cJSON_AddStringToObject(w->entry, "leaf", hex))
			return (w->fail = true);
		snprintf(hex, sizeof(hex), "0x%08x", CF_X86_SUB(key));
		if (!cJSON_AddStringToObject(w->entry, "subleaf", hex))
			return (w->fail = true);
		for (unsigned r = 0; r < 4; r++)
			if (!cJSON_AddStringToObject(w->entry, regnames[r],
						     "0x00000000"))
				return (w->fail = true);
	}
	snprintf(hex, sizeof(hex), "0x%08x", (unsigned)v);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(w->entry,
						    regnames[CF_X86_REG(key)],
						    cJSON_CreateString(hex)))
		w->fail = true;
	return w->fail;
}

static enum cf_err x86_write(cJSON *sec, const struct cf_config *cfg,
			     bool report)
{
	struct wctx w = { 0 };
	char vendor[13];
	uint64_t v;

	(void)report;
	if (cf_x86_vendor(cfg, vendor, sizeof(vendor)) &&
	    !cJSON_AddStringToObject(sec, "vendor", vendor))
		return CF_ENOMEM;
	w.cpuid = cJSON_AddArrayToObject(sec, "cpuid");
	w.msrs = cJSON_CreateObject();
	if (!w.cpuid || !w.msrs) {
		cJSON_Delete(w.msrs);
		return CF_ENOMEM;
	}
	cf_config_walk(cfg, put, &w);
	if (w.fail || (w.msrs->child &&
		       !cJSON_AddItemToObject(sec, "msrs", w.msrs))) {
		cJSON_Delete(w.msrs);
		return CF_ENOMEM;
	}
	if (!w.msrs->child)
		cJSON_Delete(w.msrs);
	if (cf_config_get_fact(cfg, "TSC_KHZ", &v) &&
	    !cJSON_AddNumberToObject(sec, "tsc_khz", (double)v))
		return CF_ENOMEM;
	if (cf_config_get_fact(cfg, "TSC_SCALING", &v) &&
	    !cJSON_AddBoolToObject(sec, "tsc_scaling", v != 0))
		return CF_ENOMEM;
	return CF_OK;
}

static const char *const x86_keys[] = {
	"vendor", "cpuid", "msrs", "tsc_khz", "tsc_scaling", NULL,
};

const struct cf_section_codec cf_section_x86 = {
	"x86", x86_read, x86_write, x86_keys,
};
