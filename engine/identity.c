/* The canonical identities of engine/identity.h and the report's content
 * identity (cf_report_content_id). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "engine/identity.h"
#include "engine/report.h"
#include "util/sha256.h"

/* One canonical entry. */
struct entry {
	uint64_t key, value, writable;
	bool cap;
};

/* Walks a configuration's entries: catalogue and extras merged in key
 * order, the rules of identity.h applied. */
struct canon {
	const struct cf_config *c;
	size_t i, x;
};

static bool canon_next(struct canon *it, struct entry *e)
{
	const struct cf_config *c = it->c;
	const struct cf_catalog *cat = c->arch->catalog;

	while (it->i < c->ncat || it->x < c->nextra) {
		const struct cf_reg *reg = NULL;
		if (it->x >= c->nextra || (it->i < c->ncat &&
		    cat->regs[it->i].key < c->extra[it->x].key)) {
			size_t i = it->i++;
			uint64_t per_vcpu;
			if (!c->present[i])
				continue;
			reg = &cat->regs[i];
			per_vcpu = cf_reg_policy_bits(reg, CF_POL_IGNORE);
			e->key = reg->key;
			e->value = c->val[i] & ~per_vcpu;
			e->writable = reg->pseudo ? 0 : c->wr[i] & ~per_vcpu;
		} else {
			const struct cf_extra *x = &c->extra[it->x++];
			e->key = x->key;
			e->value = x->value;
			e->writable = x->writable;
		}
		e->cap = reg && reg->pseudo == 2;
		if (e->value == 0 && (c->arch->absent_is_zero ||
				      (reg && reg->pseudo)))
			continue;
		return true;
	}
	return false;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

uint64_t cf_identity_fingerprint(const struct cf_config *c)
{
	const char *s = CF_IDENTITY_VERSION;
	struct canon it = { c, 0, 0 };
	struct entry e;
	uint64_t h = 0;

	for (; *s; s++)
		h = mix(h, (uint8_t)*s);
	for (s = c->arch->name; *s; s++)
		h = mix(h, (uint8_t)*s);
	h = mix(h, c->has_writable);
	while (canon_next(&it, &e)) {
		h = mix(h, e.key);
		h = mix(h, e.value);
		h = mix(h, e.writable);
	}
	return h;
}

/* ---- the report's content identity ---- */

static void put_u64(struct cf_sha256 *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	cf_sha256_update(h, b, sizeof(b));
}

static void put_str(struct cf_sha256 *h, const char *s)
{
	cf_sha256_update(h, s, strlen(s) + 1);
}

struct cap {
	const char *name;
	uint64_t value;
};

static int cap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cap *)a)->name,
		      ((const struct cap *)b)->name);
}

/* Orders every object's members by key, at every depth. */
static enum cf_err sort_keys(cJSON *o)
{
	cJSON **kids, *it;
	size_t n = 0;

	for (it = o->child; it; it = it->next) {
		if (sort_keys(it) != CF_OK)
			return CF_ENOMEM;
		n++;
	}
	if (!cJSON_IsObject(o) || n < 2)
		return CF_OK;
	kids = malloc(n * sizeof(*kids));
	if (!kids)
		return CF_ENOMEM;
	n = 0;
	while (o->child)
		kids[n++] = cJSON_DetachItemViaPointer(o, o->child);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(kids[j - 1]->string,
						   kids[j]->string) > 0; j--) {
			cJSON *t = kids[j];
			kids[j] = kids[j - 1];
			kids[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(o, kids[i]);
	free(kids);
	return CF_OK;
}

/* O (NULL: nothing) as JSON text with its members in key order. */
static enum cf_err put_json(struct cf_sha256 *h, cJSON *o)
{
	char *text;

	if (!o || !o->child) {
		put_str(h, "");
		return CF_OK;
	}
	if (sort_keys(o) != CF_OK || !(text = cJSON_PrintUnformatted(o)))
		return CF_ENOMEM;
	put_str(h, text);
	free(text);
	return CF_OK;
}

/* The capabilities the report lists, by name: its document's kvm.caps as
 * written (a capability the catalogue does not know counts as one it
 * knows), one the catalogue knows at the value the configuration read
 * (a bool one written 2 counts as 1, as the report is written back), then
 * those of the configuration the document lacks (a report collected here
 * and never written). */
static enum cf_err put_caps(struct cf_sha256 *h, const struct cf_config *c,
			    const cJSON *doc)
{
	const struct cf_catalog *cat = c->arch->catalog;
	struct cap *caps;
	size_t n = 0, max = (size_t)cJSON_GetArraySize(doc);
	const cJSON *it;

	for (size_t i = 0; i < c->ncat; i++)
		max += cat->regs[i].pseudo == 2 && c->present[i];
	caps = malloc((max ? max : 1) * sizeof(*caps));
	if (!caps)
		return CF_ENOMEM;
	cJSON_ArrayForEach(it, doc) {
		uint64_t key, v = cJSON_IsNumber(it) && it->valuedouble >= 1
				  ? (uint64_t)it->valuedouble : 0;
		if (cf_arch_regkey(c->arch, it->string, &key) == 0)
			cf_config_get(c, key, &v, NULL);
		if (v)
			caps[n++] = (struct cap){ it->string, v };
	}
	for (size_t i = 0; i < c->ncat; i++) {
		if (cat->regs[i].pseudo != 2 || !c->present[i] || !c->val[i] ||
		    cJSON_GetObjectItemCaseSensitive(doc, cat->regs[i].name))
			continue;
		caps[n++] = (struct cap){ cat->regs[i].name, c->val[i] };
	}
	qsort(caps, n, sizeof(*caps), cap_cmp);
	put_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		put_str(h, caps[i].name);
		put_u64(h, caps[i].value);
	}
	free(caps);
	return CF_OK;
}

enum cf_err cf_report_content_id(const struct cf_report *r, char *buf,
				 size_t len)
{
	const struct cf_config *c = r->cfg;
	const char *mid = cf_report_field(r, CF_REPORT_MACHINE_ID);
	const char *kvm_json = cf_report_field(r, CF_REPORT_KVM_JSON);
	const char *arch_json = cf_report_field(r, CF_REPORT_ARCH_JSON);
	const char *text[] = { CF_IDENTITY_VERSION, c->arch->name, r->host_id,
			       cf_report_hostname(r), cf_report_kernel(r),
			       mid ? mid : "" };
	struct canon it = { c, 0, 0 };
	struct cf_sha256 h;
	struct entry e;
	cJSON *kvm = NULL, *caps = NULL, *rest = NULL;
	char hex[CF_SHA256_HEX];
	enum cf_err err = CF_ENOMEM;
	uint64_t n = 0;

	if (!buf || len < CF_CONTENT_ID_MAX)
		return CF_EINVAL;
	buf[0] = '\0';
	if ((kvm_json && !(kvm = cJSON_Parse(kvm_json))) ||
	    (arch_json && !(rest = cJSON_Parse(arch_json))))
		goto cleanup;
	caps = cJSON_DetachItemFromObjectCaseSensitive(kvm, "caps");
	cf_sha256_init(&h);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		put_str(&h, text[i]);
	/* The microcode and firmware versions count when the report says
	 * them (a microcode update is a new report), and a report without
	 * them keeps the identity it had before they were added. */
	if (cf_report_field(r, CF_REPORT_MICROCODE) ||
	    cf_report_field(r, CF_REPORT_FIRMWARE)) {
		put_str(&h, "\001host.microcode,firmware");
		put_str(&h, cf_report_microcode(r));
		put_str(&h, cf_report_firmware(r));
	}
	put_u64(&h, c->has_writable);
	/* The registers (capabilities come by name, below). */
	while (canon_next(&it, &e))
		n += !e.cap;
	put_u64(&h, n);
	it = (struct canon){ c, 0, 0 };
	while (canon_next(&it, &e)) {
		if (e.cap)
			continue;
		put_u64(&h, e.key);
		put_u64(&h, e.value);
		put_u64(&h, e.writable);
	}
	err = put_caps(&h, c, caps);
	/* What the engine does not model, as written. */
	if (err == CF_OK)
		err = put_json(&h, kvm);
	if (err == CF_OK)
		err = put_json(&h, rest);
	if (err == CF_OK) {
		cf_sha256_hex(&h, hex);
		snprintf(buf, len, "%s:%s", CF_IDENTITY_VERSION, hex);
	}
cleanup:
	cJSON_Delete(caps);
	cJSON_Delete(kvm);
	cJSON_Delete(rest);
	return err;
}
