/* cpufleet.report/v1 documents -> struct cf_report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/handles.h"
#include "profiles/doc.h"
#include "profiles/regmap.h"
#include "profiles/section.h"
#include "util/diag.h"
#include "util/text.h"

#define REPORT_SCHEMA "cpufleet.report/v1"

static enum cf_err opt_string(const cJSON *obj, const char *key,
			      const char *origin, const char *path, char *out,
			      size_t max, struct cf_diag *d)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[CF_DOC_PATH_MAX];

	if (!it)
		return CF_OK;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	return cf_doc_string(it, origin, p, out, max, d);
}

/* The report's texts: where its document has each. */
static const struct {
	enum cf_report_field f;
	const char *key;
	bool in_host;
} texts[] = {
	{ CF_REPORT_HOSTNAME, "hostname", true },
	{ CF_REPORT_KERNEL, "kernel", true },
	{ CF_REPORT_MICROCODE, "microcode", true },
	{ CF_REPORT_FIRMWARE, "firmware", true },
	{ CF_REPORT_MACHINE_ID, "machine_id", true },
	{ CF_REPORT_COLLECTED_AT, "collected_at", false },
};

static enum cf_err parse_json(const cJSON *root, const char *origin,
			      struct cf_report **out, struct cf_diag *d)
{
	enum cf_err err;
	const cJSON *host, *sec, *it;
	const struct cf_section_codec *codec;
	const struct cf_arch_ops *arch;
	struct cf_config *cfg = NULL;
	struct cf_report *r = NULL;
	char id[CF_HOST_ID_MAX], archname[32], rid[CF_REPORT_ID_MAX] = "";
	const char *why;

	if (!cJSON_IsObject(root))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $: expected an object",
				   origin);
	it = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, REPORT_SCHEMA) != 0)
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.schema: expected \"%s\"",
				   origin, REPORT_SCHEMA);
	err = cf_doc_object(root, "host", true, origin, "$", &host, d);
	if (err != CF_OK)
		return err;
	err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(host, "id"), origin,
			    "$.host.id", id, sizeof(id), d);
	if (err != CF_OK)
		return err;
	/* The server's rule, here too: a report it would refuse is refused
	 * before an agent spools it, and no output carries invalid text. */
	why = cf_text_host_id_why(id, sizeof(id));
	if (why && strstr(why, "UTF-8"))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.host.id: %s", origin, why);
	if (why)
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.host.id: \"%s\" %s",
				   origin, id, why);
	err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(host, "arch"),
			    origin, "$.host.arch", archname, sizeof(archname), d);
	if (err != CF_OK)
		return err;
	arch = cf_arch_find(archname);
	if (!arch)
		return cf_diag_set(d, CF_EARCH,
				   "%s: $.host.arch: unknown architecture \"%s\"",
				   origin, archname);
	err = cf_doc_object(root, arch->name, true, origin, "$", &sec, d);
	if (err != CF_OK)
		return err;
	codec = cf_section_codec(arch);
	err = cf_config_create(arch, &cfg);
	if (err != CF_OK)
		return err;
	err = codec->read(sec, cfg, true, origin, d);
	if (err == CF_OK) {
		const cJSON *kvm = NULL, *caps = NULL;
		err = cf_doc_object(root, "kvm", false, origin, "$", &kvm, d);
		if (err == CF_OK && kvm)
			err = cf_doc_object(kvm, "caps", false, origin, "$.kvm", &caps, d);
		if (err == CF_OK && caps)
			err = cf_regmap_read(caps, CF_REGMAP_CAPS, cfg, origin,
					     "$.kvm.caps", d);
	}
	if (err != CF_OK) {
		cf_config_unref(cfg);
		return err;
	}
	err = cf_report_create(id, cfg, &r);
	if (err != CF_OK)
		return err;
	/* Keep what the engine does not model, to write it back. */
	it = cJSON_GetObjectItemCaseSensitive(root, "kvm");
	if (cJSON_IsObject(it)) {
		char *t = cJSON_PrintUnformatted(it);
		err = t ? cf_report_set_field(r, CF_REPORT_KVM_JSON, t)
			: CF_ENOMEM;
		free(t);
		if (err != CF_OK) {
			cf_report_destroy(r);
			return err;
		}
	}
	{
		/* The section's other members, in order: copied one by one,
		 * not the whole section (its CPUID list is most of a report). */
		cJSON *rest = cJSON_CreateObject();
		char *t = NULL;
		for (it = sec->child; rest && it; it = it->next) {
			const char *const *k = codec->keys;
			cJSON *copy;
			while (*k && strcmp(*k, it->string) != 0)
				k++;
			if (*k)
				continue;
			if (!(copy = cJSON_Duplicate(it, 1)) ||
			    !cJSON_AddItemToObject(rest, it->string, copy)) {
				cJSON_Delete(copy);
				cJSON_Delete(rest);
				rest = NULL;
			}
		}
		if (!rest) {
			cf_report_destroy(r);
			return CF_ENOMEM;
		}
		err = rest->child && !(t = cJSON_PrintUnformatted(rest)) ?
		      CF_ENOMEM : cf_report_set_field(r, CF_REPORT_ARCH_JSON, t);
		free(t);
		cJSON_Delete(rest);
	}
	for (size_t i = 0; err == CF_OK && i < sizeof(texts) / sizeof(texts[0]);
	     i++) {
		char buf[CF_TEXT_MAX] = "";
		err = opt_string(texts[i].in_host ? host : root, texts[i].key,
				 origin, texts[i].in_host ? "$.host" : "$", buf,
				 sizeof(buf), d);
		if (err == CF_OK)
			err = cf_report_set_field(r, texts[i].f, buf);
	}
	if (err == CF_OK)
		err = opt_string(root, "report_id", origin, "$", rid,
				 sizeof(rid), d);
	if (err == CF_OK && rid[0] && cf_report_set_id(r, rid) != CF_OK)
		err = cf_diag_set(d, CF_ESCHEMA, "%s: $.report_id: expected 1 to "
				  "64 of A-Z a-z 0-9 . _ : -", origin);
	if (err != CF_OK) {
		cf_report_destroy(r);
		return err;
	}
	*out = r;
	return CF_OK;
}

/* ---- the text a configuration is read from ----
 * What parse_json reads a configuration from: $.host.arch, the
 * architecture's section and $.kvm.caps.  Found as they stand in the
 * text, without building a tree: equal texts are equal JSON, which parses
 * to equal configurations.  A document the scanner does not follow (a key
 * written with escapes, say) goes through cJSON instead: a text of
 * another form, which at worst keeps two equal configurations apart. */

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Past the string at P (its opening quote), NULL if it does not end. */
static const char *skip_string(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the value at P, NULL if it does not end. */
static const char *skip_value(const char *p, const char *e)
{
	int depth = 0;

	if (p >= e)
		return NULL;
	if (*p == '"')
		return skip_string(p, e);
	if (*p != '{' && *p != '[') {
		while (p < e && *p != ',' && *p != '}' && *p != ']' &&
		       *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p;
	}
	while (p < e) {
		if (*p == '"') {
			if (!(p = skip_string(p, e)))
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The first member KEY (written without escapes) of the object at P:
 * its value in [*VB, *VE).  False if absent or not scanned. */
static bool find_member(const char *p, const char *e, const char *key,
			const char **vb, const char **ve)
{
	size_t klen = strlen(key);

	p = skip_ws(p, e);
	if (p >= e || *p++ != '{')
		return false;
	for (;;) {
		const char *kb, *ke, *v;
		p = skip_ws(p, e);
		if (p >= e || *p != '"')
			return false;
		kb = p + 1;
		if (!(ke = skip_string(p, e)))
			return false;
		p = skip_ws(ke, e);
		if (p >= e || *p != ':')
			return false;
		v = skip_ws(p + 1, e);
		if (!(p = skip_value(v, e)))
			return false;
		if ((size_t)(ke - 1 - kb) == klen && !memcmp(kb, key, klen)) {
			*vb = v;
			*ve = p;
			return true;
		}
		p = skip_ws(p, e);
		if (p >= e || *p++ != ',')
			return false;
	}
}

/* "r" then each part as LENGTH:BYTES; false if not scanned. */
static bool scan_config_text(const char *text, size_t len, char **out)
{
	const char *e = text + len, *hb, *he, *ab, *ae, *sb, *se, *kb, *ke;
	const char *cb = "", *ce = cb;
	char arch[32];
	size_t n;

	if (!find_member(text, e, "host", &hb, &he) ||
	    !find_member(hb, he, "arch", &ab, &ae) || *ab != '"' ||
	    (size_t)(ae - ab - 2) >= sizeof(arch) ||
	    memchr(ab + 1, '\\', (size_t)(ae - ab - 2)))
		return false;
	memcpy(arch, ab + 1, (size_t)(ae - ab - 2));
	arch[ae - ab - 2] = '\0';
	if (!find_member(text, e, arch, &sb, &se))
		return false;
	if (find_member(text, e, "kvm", &kb, &ke)) {
		if (*kb != '{')
			return false;
		if (!find_member(kb, ke, "caps", &cb, &ce))
			cb = ce = "";
	}
	n = (size_t)(ae - ab) + (size_t)(se - sb) + (size_t)(ce - cb) + 80;
	if (!(*out = malloc(n)))
		return true;
	snprintf(*out, n, "r%zu:%.*s%zu:%.*s%zu:%.*s", (size_t)(ae - ab),
		 (int)(ae - ab), ab, (size_t)(se - sb), (int)(se - sb), sb,
		 (size_t)(ce - cb), (int)(ce - cb), cb);
	return true;
}

enum cf_err cf_report_config_text(const char *text, size_t len, char **out)
{
	cJSON *root, *parts;
	const cJSON *host, *arch, *kvm;
	enum cf_err err = CF_ESCHEMA;

	*out = NULL;
	if (scan_config_text(text, len, out))
		return *out ? CF_OK : CF_ENOMEM;
	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return CF_ESYNTAX;
	host = cJSON_GetObjectItemCaseSensitive(root, "host");
	arch = cJSON_GetObjectItemCaseSensitive(host, "arch");
	kvm = cJSON_GetObjectItemCaseSensitive(root, "kvm");
	if (!cJSON_IsString(arch) ||
	    !cJSON_GetObjectItemCaseSensitive(root, arch->valuestring))
		goto done;
	err = CF_ENOMEM;
	parts = cJSON_CreateArray();
	if (!parts)
		goto done;
	/* "j" and the parts as a JSON array: never a scanned text. */
	if (cJSON_AddItemToArray(parts, cJSON_CreateString(arch->valuestring)) &&
	    cJSON_AddItemReferenceToArray(parts,
		cJSON_GetObjectItemCaseSensitive(root, arch->valuestring)) &&
	    (!cJSON_GetObjectItemCaseSensitive(kvm, "caps") ||
	     cJSON_AddItemReferenceToArray(parts,
		cJSON_GetObjectItemCaseSensitive(kvm, "caps")))) {
		char *j = cJSON_PrintUnformatted(parts);
		size_t n = j ? strlen(j) + 2 : 0;
		if (j && (*out = malloc(n)))
			snprintf(*out, n, "j%s", j);
		free(j);
	}
	cJSON_Delete(parts);
	err = *out ? CF_OK : CF_ENOMEM;
done:
	cJSON_Delete(root);
	return err;
}

/* Adds the members of the JSON object TEXT to OBJ, skipping keys OBJ has. */
static enum cf_err merge(cJSON *obj, const char *text)
{
	cJSON *extra, *it, *next;

	if (!text)
		return CF_OK;
	extra = cJSON_Parse(text);
	if (!cJSON_IsObject(extra)) {
		cJSON_Delete(extra);
		return CF_EINVAL;
	}
	for (it = extra->child; it; it = next) {
		next = it->next;
		if (cJSON_GetObjectItemCaseSensitive(obj, it->string))
			continue;
		cJSON_DetachItemViaPointer(extra, it);
		cJSON_AddItemToObject(obj, it->string, it);
	}
	cJSON_Delete(extra);
	return CF_OK;
}

enum cf_err cf_report_to_json(const struct cf_report *r, char **out)
{
	const struct cf_config *cfg = cf_report_config(r);
	const struct cf_arch_ops *a = cfg->arch;
	const char *kvm_json = cf_report_field(r, CF_REPORT_KVM_JSON);
	cJSON *root = cJSON_CreateObject(), *host, *sec, *kvm;
	enum cf_err err = CF_ENOMEM;
	const char *text;

	*out = NULL;
	if (!root || !cJSON_AddStringToObject(root, "schema", REPORT_SCHEMA) ||
	    (cf_report_id(r)[0] &&
	     !cJSON_AddStringToObject(root, "report_id", cf_report_id(r))))
		goto cleanup;
	host = cJSON_AddObjectToObject(root, "host");
	if (!host || !cJSON_AddStringToObject(host, "id", cf_report_host_id(r)))
		goto cleanup;
	/* In the document's order: id, hostname, arch, kernel, microcode,
	 * firmware, machine_id. */
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cJSON *o = texts[i].in_host ? host : root;
		if ((text = cf_report_field(r, texts[i].f)) &&
		    !cJSON_AddStringToObject(o, texts[i].key, text))
			goto cleanup;
		if (texts[i].f == CF_REPORT_HOSTNAME &&
		    !cJSON_AddStringToObject(host, "arch", a->name))
			goto cleanup;
	}
	kvm = cJSON_AddObjectToObject(root, "kvm");
	if (!kvm || cf_regmap_write(kvm, "caps", CF_REGMAP_CAPS, cfg) != CF_OK)
		goto cleanup;
	if (kvm_json) {
		cJSON *caps = cJSON_GetObjectItemCaseSensitive(kvm, "caps");
		cJSON *old = cJSON_Parse(kvm_json);
		cJSON *oc = cJSON_GetObjectItemCaseSensitive(old, "caps");
		/* Capabilities the catalogue does not know, kept as written. */
		if (caps && cJSON_IsObject(oc)) {
			char *t = cJSON_PrintUnformatted(oc);
			enum cf_err me = t ? merge(caps, t) : CF_ENOMEM;
			free(t);
			if (me != CF_OK) {
				cJSON_Delete(old);
				goto cleanup;
			}
		}
		cJSON_Delete(old);
		if (merge(kvm, kvm_json) != CF_OK)
			goto cleanup;
	}
	if (!kvm->child)
		cJSON_DeleteItemFromObjectCaseSensitive(root, "kvm");
	sec = cJSON_AddObjectToObject(root, a->name);
	if (!sec)
		goto cleanup;
	err = cf_section_codec(a)->write(sec, cfg, true);
	if (err == CF_OK)
		err = merge(sec, cf_report_field(r, CF_REPORT_ARCH_JSON));
	if (err != CF_OK)
		goto cleanup;
	*out = cJSON_Print(root);
	err = *out ? CF_OK : CF_ENOMEM;
cleanup:
	cJSON_Delete(root);
	return err;
}

static enum cf_err build(const cJSON *root, const char *origin, void **out,
			 struct cf_diag *d)
{
	return parse_json(root, origin, (struct cf_report **)out, d);
}

enum cf_err cf_report_parse(const char *text, size_t len, const char *origin,
			    struct cf_report **out, struct cf_diag *d)
{
	return cf_doc_parse_with(text, len, origin, build, (void **)out, d);
}

enum cf_err cf_report_load(const char *path, struct cf_report **out,
			   struct cf_diag *d)
{
	return cf_doc_load_with(path, build, (void **)out, d);
}
