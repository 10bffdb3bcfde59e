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

/* A parsed architecture section, kept by a struct cf_report_cache: the
 * configuration its bytes read to (without kvm.caps) and its other
 * members' text (CF_REPORT_ARCH_JSON, NULL if none). */
struct cached_section {
	uint64_t hash;
	const struct cf_arch_ops *arch;
	char *text;
	size_t len;
	struct cf_config *cfg;
	char *rest;
};

/* The section SEC's members the codec does not read, in order, as
 * compact JSON into *OUT (NULL if none): copied one by one, not the whole
 * section (its CPUID list is most of a report). */
static enum cf_err rest_text(const cJSON *sec,
			     const struct cf_section_codec *codec, char **out)
{
	cJSON *rest = cJSON_CreateObject();
	const cJSON *it;

	*out = NULL;
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
	if (!rest)
		return CF_ENOMEM;
	if (rest->child && !(*out = cJSON_PrintUnformatted(rest))) {
		cJSON_Delete(rest);
		return CF_ENOMEM;
	}
	cJSON_Delete(rest);
	return CF_OK;
}

/* ROOT as a report; the architecture section's configuration and other
 * members from CACHED when given (ROOT's section is then not read). */
static enum cf_err parse_json(const cJSON *root, const char *origin,
			      const struct cached_section *cached,
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
	if (cached) {
		/* Without kvm.caps the configuration is the section's alone:
		 * shared (sealed, as cf_report_clone_as shares one); with
		 * them, a copy they are read into. */
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kvm");
		if (cached->arch != arch)
			return CF_EINVAL;
		if (!cJSON_GetObjectItemCaseSensitive(k, "caps"))
			cfg = cf_config_ref(cached->cfg);
		else if ((err = cf_config_clone(cached->cfg, &cfg)) != CF_OK)
			return err;
	} else {
		err = cf_config_create(arch, &cfg);
		if (err != CF_OK)
			return err;
		err = codec->read(sec, cfg, true, origin, d);
	}
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
	if (cached)
		err = cached->rest ? cf_report_set_field(r, CF_REPORT_ARCH_JSON,
							 cached->rest) : CF_OK;
	else {
		char *t = NULL;
		err = rest_text(sec, codec, &t);
		if (err == CF_OK && t)
			err = cf_report_set_field(r, CF_REPORT_ARCH_JSON, t);
		free(t);
	}
	if (err != CF_OK) {
		cf_report_destroy(r);
		return err;
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

/* The bytes the scanner stops at: bit 0 in a string (" and \\), any bit
 * outside one (those and the brackets); it passes over every other. */
static const unsigned char stops[256] = {
	['"'] = 3, ['\\'] = 3, ['{'] = 2, ['}'] = 2, ['['] = 2, [']'] = 2,
};

/* Past the string at P (its opening quote), NULL if it does not end. */
static const char *skip_string(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		while (p < e && !(stops[(unsigned char)*p] & 1))
			p++;
		if (p >= e)
			break;
		if (*p == '\\')
			p++;
		else
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
		while (p < e && !stops[(unsigned char)*p])
			p++;
		if (p >= e)
			break;
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
 * its value in [*VB, *VE).  False if absent or not scanned.  HINT (HLEN
 * bytes, a whole value the scanner passed over before), when the value
 * starts with it, is that value: the scan would end at the same byte. */
static bool find_member_hint(const char *p, const char *e, const char *key,
			     const char *hint, size_t hlen, const char **vb,
			     const char **ve)
{
	size_t klen = strlen(key);

	p = skip_ws(p, e);
	if (p >= e || *p++ != '{')
		return false;
	for (;;) {
		const char *kb, *ke, *v;
		bool match;
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
		match = (size_t)(ke - 1 - kb) == klen && !memcmp(kb, key, klen);
		if (match && hint && (size_t)(e - v) >= hlen &&
		    !memcmp(v, hint, hlen)) {
			*vb = v;
			*ve = v + hlen;
			return true;
		}
		if (!(p = skip_value(v, e)))
			return false;
		if (match) {
			*vb = v;
			*ve = p;
			return true;
		}
		p = skip_ws(p, e);
		if (p >= e || *p++ != ',')
			return false;
	}
}

static bool find_member(const char *p, const char *e, const char *key,
			const char **vb, const char **ve)
{
	return find_member_hint(p, e, key, NULL, 0, vb, ve);
}

/* $.host.arch of the document [TEXT, E), a string without escapes, into
 * NAME (SIZE bytes) and its quoted value to [*AB, *AE); false if not
 * scanned. */
static bool scan_arch(const char *text, const char *e, char *name,
		      size_t size, const char **ab, const char **ae)
{
	const char *hb, *he;

	if (!find_member(text, e, "host", &hb, &he) ||
	    !find_member(hb, he, "arch", ab, ae) || **ab != '"' ||
	    (size_t)(*ae - *ab - 2) >= size ||
	    memchr(*ab + 1, '\\', (size_t)(*ae - *ab - 2)))
		return false;
	memcpy(name, *ab + 1, (size_t)(*ae - *ab - 2));
	name[*ae - *ab - 2] = '\0';
	return true;
}

/* "r" then each part as LENGTH:BYTES; false if not scanned. */
static bool scan_config_text(const char *text, size_t len, char **out)
{
	const char *e = text + len, *ab, *ae, *sb, *se, *kb, *ke;
	const char *cb = "", *ce = cb;
	char arch[32];
	size_t n;

	if (!scan_arch(text, e, arch, sizeof(arch), &ab, &ae) ||
	    !find_member(text, e, arch, &sb, &se))
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
	return parse_json(root, origin, NULL, (struct cf_report **)out, d);
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

/* ---- a cache of parsed architecture sections ----
 * A fleet's hosts of one model report the same section, byte for byte.
 * With a cache, a report whose section's bytes were read before is parsed
 * as its skeleton (the text with that section written {}), and the
 * section's configuration is a copy of the one read then.  The skeleton
 * and the section parse as the whole text would (one JSON value put in
 * place of another), so the report is the one cf_report_parse gives;
 * anything else (a section not read yet that fails, a skeleton that
 * fails, a text the scanner does not follow) goes through
 * cf_report_parse, whose errors are the ones given. */

#define CACHE_MAX 1024		/* sections kept; others parse as usual */

struct cf_report_cache {
	struct cached_section *e;	/* open addressing, cap a power of 2 */
	size_t n, cap;
	size_t last;			/* the entry used last, if n */
};

enum cf_err cf_report_cache_create(struct cf_report_cache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? CF_OK : CF_ENOMEM;
}

void cf_report_cache_destroy(struct cf_report_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->e[i].text) {
			free(c->e[i].text);
			free(c->e[i].rest);
			cf_config_unref(c->e[i].cfg);
		}
	free(c->e);
	free(c);
}

/* FNV-1a over 8-byte words (and the tail by bytes). */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h ^ n;
}

/* The slot of the section TEXT (LEN bytes) of ARCH: its entry, or the
 * empty slot it would take. */
static struct cached_section *slot(struct cf_report_cache *c,
				   const struct cf_arch_ops *arch,
				   const char *text, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (c->cap - 1);

	while (c->e[i].text && !(c->e[i].hash == h && c->e[i].arch == arch &&
				 c->e[i].len == len &&
				 !memcmp(c->e[i].text, text, len)))
		i = (i + 1) & (c->cap - 1);
	return &c->e[i];
}

static enum cf_err grow(struct cf_report_cache *c)
{
	size_t cap = c->cap ? 2 * c->cap : 64;
	struct cached_section *old = c->e, *e = calloc(cap, sizeof(*e));
	size_t ocap = c->cap;

	if (!e)
		return CF_ENOMEM;
	c->e = e;
	c->cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].text)
			*slot(c, old[i].arch, old[i].text, old[i].len,
			      old[i].hash) = old[i];
	free(old);
	return CF_OK;
}

/* The section TEXT (LEN bytes) of ARCH read (from the cache, or parsed
 * alone and then kept); NULL if it does not read or the cache is full. */
static const struct cached_section *section(struct cf_report_cache *c,
					    const struct cf_arch_ops *arch,
					    const char *text, size_t len,
					    const char *origin)
{
	uint64_t h = hash_bytes(text, len);
	struct cached_section *s, n = { h, arch, NULL, len, NULL, NULL };
	struct cf_diag d = { "" };
	cJSON *root = NULL;
	const cJSON *sec;
	enum cf_err err;
	char *wrap;

	if (c->cap) {
		s = slot(c, arch, text, len, h);
		if (s->text) {
			c->last = (size_t)(s - c->e);
			return s;
		}
	}
	if (c->n >= CACHE_MAX || (2 * (c->n + 1) > c->cap && grow(c) != CF_OK))
		return NULL;
	/* parsed one level down, as in its document ([ ] for { }): cJSON's
	 * nesting limit counts the same */
	if (!(wrap = malloc(len + 2)))
		return NULL;
	wrap[0] = '[';
	memcpy(wrap + 1, text, len);
	wrap[len + 1] = ']';
	err = cf_doc_parse(wrap, len + 2, origin, &root, &d);
	free(wrap);
	if (err != CF_OK)
		return NULL;
	sec = root->child;
	err = cJSON_IsObject(sec) && !sec->next ?
	      cf_config_create(arch, &n.cfg) : CF_EINVAL;
	if (err == CF_OK)
		err = cf_section_codec(arch)->read(sec, n.cfg, true, origin, &d);
	if (err == CF_OK)
		err = rest_text(sec, cf_section_codec(arch), &n.rest);
	if (err == CF_OK && !(n.text = malloc(len)))
		err = CF_ENOMEM;
	cJSON_Delete(root);
	if (err != CF_OK) {
		cf_config_unref(n.cfg);
		free(n.rest);
		return NULL;
	}
	memcpy(n.text, text, len);
	s = slot(c, arch, text, len, h);
	*s = n;
	c->n++;
	c->last = (size_t)(s - c->e);
	return s;
}

/* TEXT as a report through the cache C; other than CF_OK: parse it as
 * usual (nothing is set in the caller's diagnostics). */
static enum cf_err parse_cached(struct cf_report_cache *c, const char *text,
				size_t len, const char *origin,
				struct cf_report **out)
{
	const char *e = text + len, *ab, *ae, *sb, *se;
	const struct cached_section *sec, *last;
	const struct cf_arch_ops *arch;
	struct cf_diag d = { "" };
	cJSON *root = NULL;
	char name[32], *skel;
	size_t n;
	enum cf_err err;

	if (len > CF_DOC_MAX_BYTES ||
	    !scan_arch(text, e, name, sizeof(name), &ab, &ae) ||
	    !(arch = cf_arch_find(name)))
		return CF_EINVAL;
	/* the section used last, if this one has its bytes: no scan, no hash */
	last = c->n && c->e[c->last].arch == arch ? &c->e[c->last] : NULL;
	if (!find_member_hint(text, e, arch->name, last ? last->text : NULL,
			      last ? last->len : 0, &sb, &se) || *sb != '{')
		return CF_EINVAL;
	if (last && (size_t)(se - sb) == last->len &&
	    !memcmp(sb, last->text, last->len))
		sec = last;
	else if (!(sec = section(c, arch, sb, (size_t)(se - sb), origin)))
		return CF_EINVAL;
	n = (size_t)(sb - text) + 2 + (size_t)(e - se);
	if (!(skel = malloc(n + 1)))
		return CF_ENOMEM;
	memcpy(skel, text, (size_t)(sb - text));
	memcpy(skel + (sb - text), "{}", 2);
	memcpy(skel + (sb - text) + 2, se, (size_t)(e - se));
	skel[n] = '\0';
	err = cf_doc_parse(skel, n, origin, &root, &d);
	if (err == CF_OK)
		err = parse_json(root, origin, sec, out, &d);
	cJSON_Delete(root);
	free(skel);
	return err;
}

enum cf_err cf_report_parse_cached(struct cf_report_cache *c, const char *text,
				   size_t len, const char *origin,
				   struct cf_report **out, struct cf_diag *d)
{
	*out = NULL;
	if (c && parse_cached(c, text, len, origin, out) == CF_OK)
		return CF_OK;
	return cf_report_parse(text, len, origin, out, d);
}

enum cf_err cf_report_load_cached(struct cf_report_cache *c, const char *path,
				  struct cf_report **out, struct cf_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	enum cf_err err;

	*out = NULL;
	err = cf_doc_read_file(path, &buf, &len, d);
	if (err == CF_OK)
		err = cf_report_parse_cached(c, buf, len, path, out, d);
	free(buf);
	return err;
}
