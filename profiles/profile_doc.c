/* cpufleet.profile/v1 documents <-> struct cf_profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/handles.h"
#include "profiles/doc.h"
#include "profiles/regmap.h"
#include "profiles/section.h"
#include "util/diag.h"

#define PROFILE_SCHEMA "cpufleet.profile/v1"

/* A loaded profile's array KEY, written back as it came (JSON text). */
static enum cf_err add_as_loaded(cJSON *root, const char *key, const char *json)
{
	cJSON *arr = cJSON_Parse(json);

	if (!arr)
		return CF_ENOMEM;
	cJSON_AddItemToObject(root, key, arr);
	return CF_OK;
}

static enum cf_err add_conflicts(cJSON *root, const struct cf_profile *pr)
{
	const struct cf_arch_ops *a = cf_profile_ops(pr);
	const char *listed = cf_profile_listed(pr, CF_PROFILE_CONFLICTS, NULL);
	const struct cf_conflict *c;
	cJSON *arr;
	char name[96], hex[24];

	/* A loaded profile keeps the conflicts it came with. */
	if (!cf_profile_conflict(pr, 0) && listed)
		return add_as_loaded(root, "conflicts", listed);
	arr = cJSON_AddArrayToObject(root, "conflicts");
	if (!arr)
		return CF_ENOMEM;
	for (size_t i = 0; (c = cf_profile_conflict(pr, i)); i++) {
		cJSON *o = cJSON_CreateObject(), *vals;
		const char *id;
		int ri = cf_catalog_find_key(a->catalog, c->key);
		if (!o || !cJSON_AddItemToArray(arr, o))
			return CF_ENOMEM;
		if (c->kind == CF_CONFLICT_VENDOR)
			snprintf(name, sizeof(name), "vendor");
		else
			cf_arch_regname(a, c->key, name, sizeof(name));
		if (!cJSON_AddStringToObject(o, "register", name))
			return CF_ENOMEM;
		if (c->field >= 0 && ri >= 0) {
			if (!cJSON_AddStringToObject(o, "field",
				a->catalog->regs[ri].fields[c->field].name))
				return CF_ENOMEM;
		} else if (!cJSON_AddNullToObject(o, "field")) {
			return CF_ENOMEM;
		}
		if (!cJSON_AddStringToObject(o, "feature", c->feature))
			return CF_ENOMEM;
		vals = cJSON_AddObjectToObject(o, "values");
		if (!vals)
			return CF_ENOMEM;
		for (size_t h = 0; (id = cf_profile_host(pr, h)); h++) {
			size_t g = cf_profile_host_group(pr, h);
			cJSON *it;
			if (c->gpresent[g]) {
				cf_doc_hexstr(c->gval[g], hex, sizeof(hex));
				it = cJSON_AddStringToObject(vals, id, hex);
			} else {
				it = cJSON_AddNullToObject(vals, id);
			}
			if (!it)
				return CF_ENOMEM;
		}
		if (!cJSON_AddStringToObject(o, "reason", c->reason))
			return CF_ENOMEM;
	}
	return CF_OK;
}

/* "dropped": [{"feature": "avx512f", "register": "CPUID_00000007_0_EBX",
 * "field": "avx512f", "from": "0x1", "to": "0x0", "needs": "...",
 * "reason": "dropped avx512f: needs ..., which ..."}]: what the baseline
 * left out because a feature it needs is gone.  A loaded profile keeps
 * the list it came with. */
static enum cf_err add_dropped(cJSON *root, const struct cf_profile *pr)
{
	const struct cf_arch_ops *a = cf_profile_ops(pr);
	const char *listed = cf_profile_listed(pr, CF_PROFILE_DROPPED, NULL);
	const struct cf_dropped *d;
	cJSON *arr;
	char name[96], hex[24];

	if (!cf_profile_drop(pr, 0))
		return listed ? add_as_loaded(root, "dropped", listed) : CF_OK;
	arr = cJSON_AddArrayToObject(root, "dropped");
	if (!arr)
		return CF_ENOMEM;
	for (size_t i = 0; (d = cf_profile_drop(pr, i)); i++) {
		int ri = cf_catalog_find_key(a->catalog, d->key);
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			return CF_ENOMEM;
		cf_arch_regname(a, d->key, name, sizeof(name));
		if (!cJSON_AddStringToObject(o, "feature", d->feature) ||
		    !cJSON_AddStringToObject(o, "register", name) ||
		    !(d->field >= 0 && ri >= 0 ?
		      cJSON_AddStringToObject(o, "field", a->catalog->
					      regs[ri].fields[d->field].name) :
		      cJSON_AddNullToObject(o, "field")))
			return CF_ENOMEM;
		cf_doc_hexstr(d->from, hex, sizeof(hex));
		if (!cJSON_AddStringToObject(o, "from", hex))
			return CF_ENOMEM;
		cf_doc_hexstr(d->to, hex, sizeof(hex));
		if (!cJSON_AddStringToObject(o, "to", hex) ||
		    !cJSON_AddStringToObject(o, "needs", d->needs) ||
		    !cJSON_AddStringToObject(o, "reason", d->reason))
			return CF_ENOMEM;
	}
	return CF_OK;
}

/* "implementations": [{"MIDR_EL1": "0x...", "REVIDR_EL1": "0x..."}, ...]:
 * every member's identity registers (what a VMM lists to the guest through
 * KVM's target-implementation hypercalls). */
static enum cf_err add_impls(cJSON *root, const struct cf_profile *pr)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(cat, ri);
	const struct cf_impl *im;
	cJSON *arr;
	char hex[24];

	if (!cf_profile_impl(pr, 0))
		return CF_OK;
	arr = cJSON_AddArrayToObject(root, "implementations");
	if (!arr)
		return CF_ENOMEM;
	for (size_t i = 0; (im = cf_profile_impl(pr, i)); i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			return CF_ENOMEM;
		for (size_t k = 0; k < n; k++) {
			if (!im->present[k])
				continue;
			cf_doc_hexstr(im->val[k], hex, sizeof(hex));
			if (!cJSON_AddStringToObject(o, cat->regs[ri[k]].name, hex))
				return CF_ENOMEM;
		}
	}
	return CF_OK;
}

static enum cf_err read_impls(const cJSON *root, struct cf_profile *pr,
			      const char *origin, struct cf_diag *d)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "implementations");
	const cJSON *e, *it;
	size_t ri[CF_IMPL_REGS], n = cf_impl_regs(cat, ri), i = 0;
	char p[CF_DOC_PATH_MAX];
	enum cf_err err;

	if (!arr)
		return CF_OK;
	if (!cJSON_IsArray(arr))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.implementations: expected "
				   "an array", origin);
	cJSON_ArrayForEach(e, arr) {
		struct cf_impl im;
		memset(&im, 0, sizeof(im));
		snprintf(p, sizeof(p), "$.implementations[%zu]", i);
		if (!cJSON_IsObject(e) || !e->child)
			return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected an "
					   "object of identity registers", origin, p);
		cJSON_ArrayForEach(it, e) {
			size_t k = 0;
			while (k < n && strcmp(cat->regs[ri[k]].name, it->string))
				k++;
			snprintf(p, sizeof(p), "$.implementations[%zu].%s", i,
				 it->string);
			if (k == n)
				return cf_diag_set(d, CF_ESCHEMA, "%s: %s: not an "
						   "implementation identity register",
						   origin, p);
			err = cf_doc_hex(it, origin, p, &im.val[k], d);
			if (err != CF_OK)
				return err;
			im.present[k] = 1;
		}
		err = cf_profile_add_impl(pr, &im);
		if (err != CF_OK)
			return err;
		i++;
	}
	return CF_OK;
}

enum cf_err cf_profile_to_json(const struct cf_profile *pr, char **out)
{
	const struct cf_arch_ops *a = cf_profile_ops(pr);
	const struct cf_config *cfg = cf_profile_config(pr);
	const struct cf_config *enabled = cf_profile_enabled(pr);
	cJSON *root = cJSON_CreateObject(), *hosts, *sec;
	enum cf_err err = CF_ENOMEM;
	const char *id;

	*out = NULL;
	if (!root)
		return CF_ENOMEM;
	if (!cJSON_AddStringToObject(root, "schema", PROFILE_SCHEMA) ||
	    !cJSON_AddStringToObject(root, "arch", a->name) ||
	    !cJSON_AddBoolToObject(root, "feasible", cf_profile_feasible(pr)))
		goto cleanup;
	hosts = cJSON_AddArrayToObject(root, "hosts");
	if (!hosts)
		goto cleanup;
	for (size_t i = 0; (id = cf_profile_host(pr, i)); i++) {
		cJSON *s = cJSON_CreateString(id);
		if (!s || !cJSON_AddItemToArray(hosts, s))
			goto cleanup;
	}
	if (!cJSON_AddNumberToObject(root, "configurations", 			      (double)cf_profile_configurations(pr)))
		goto cleanup;
	{
		cJSON *kvm = cJSON_AddObjectToObject(root, "kvm");
		if (!kvm || cf_regmap_write(kvm, "caps", CF_REGMAP_CAPS, cfg)
			    != CF_OK)
			goto cleanup;
		if (enabled && cf_regmap_write(kvm, "enabled", CF_REGMAP_CAPS,
					       enabled) != CF_OK)
			goto cleanup;
		if (!kvm->child)
			cJSON_DeleteItemFromObjectCaseSensitive(root, "kvm");
	}
	sec = cJSON_AddObjectToObject(root, a->name);
	if (!sec)
		goto cleanup;
	err = cf_section_codec(a)->write(sec, cfg, false);
	if (err == CF_OK)
		err = add_impls(root, pr);
	if (err != CF_OK)
		goto cleanup;
	err = add_dropped(root, pr);
	if (err == CF_OK)
		err = add_conflicts(root, pr);
	if (err != CF_OK)
		goto cleanup;
	*out = cJSON_Print(root);
	err = *out ? CF_OK : CF_ENOMEM;
cleanup:
	cJSON_Delete(root);
	return err;
}

enum cf_err cf_profile_save(const struct cf_profile *pr, const char *path,
			    struct cf_diag *d)
{
	char *json = NULL;
	enum cf_err err = cf_profile_to_json(pr, &json);
	size_t len;

	if (err != CF_OK)
		return err;
	len = strlen(json);
	json[len] = '\n'; /* replaces the NUL; length passed explicitly */
	err = cf_doc_write_file(path, json, len + 1, d);
	free(json);
	return err;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(it) ? it->valuestring : dflt;
}

static void free_texts(char **text, size_t n)
{
	for (size_t i = 0; text && i < n; i++)
		free(text[i]);
	free(text);
}

/* Keeps ARR, a document's list L of N entries, in PR with TEXT[i] the text
 * of entry i; frees TEXT. */
static enum cf_err keep_listed(struct cf_profile *pr, enum cf_profile_list l,
			       const cJSON *arr, char **text, size_t n)
{
	char *json = cJSON_PrintUnformatted(arr);
	enum cf_err err = json ? cf_profile_set_listed(pr, l, json,
				 (const char *const *)text, n) : CF_ENOMEM;

	free(json);
	free_texts(text, n);
	return err;
}

/* $.conflicts (N > 0 entries) kept as written, with the human text of each
 * as cf_profile_conflict_text() gives it for a computed profile. */
static enum cf_err read_conflicts(const cJSON *arr, size_t n,
				  struct cf_profile *pr)
{
	char **text = calloc(n, sizeof(*text));
	const cJSON *c;
	size_t i = 0;
	char buf[512];

	if (!text)
		return CF_ENOMEM;
	cJSON_ArrayForEach(c, arr) {
		const char *reg = str_or(c, "register", "?");
		const char *field = str_or(c, "field", NULL);
		const char *feat = str_or(c, "feature", "");
		const char *why = str_or(c, "reason", "");
		snprintf(buf, sizeof(buf), "%s%s%s%s%s%s: %s", reg,
			 field ? "." : "", field ? field : "", feat[0] ? " (" : "",
			 feat, feat[0] ? ")" : "", why);
		if (!(text[i++] = strdup(buf))) {
			free_texts(text, n);
			return CF_ENOMEM;
		}
	}
	return keep_listed(pr, CF_PROFILE_CONFLICTS, arr, text, n);
}

/* $.dropped: kept as written (each entry's "reason" is its text). */
static enum cf_err read_dropped(const cJSON *root, struct cf_profile *pr,
				const char *origin, struct cf_diag *d)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	const cJSON *e;
	size_t i = 0, n;
	char p[64], buf[CF_DROP_REASON_MAX], **text;
	enum cf_err err;

	if (!arr)
		return CF_OK;
	if (!cJSON_IsArray(arr))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.dropped: expected an "
				   "array", origin);
	n = (size_t)cJSON_GetArraySize(arr);
	if (n == 0)
		return CF_OK;
	if (!(text = calloc(n, sizeof(*text))))
		return CF_ENOMEM;
	cJSON_ArrayForEach(e, arr) {
		snprintf(p, sizeof(p), "$.dropped[%zu].reason", i);
		err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(e, "reason"),
				    origin, p, buf, sizeof(buf), d);
		if (err == CF_OK && !(text[i++] = strdup(buf)))
			err = CF_ENOMEM;
		if (err != CF_OK) {
			free_texts(text, n);
			return err;
		}
	}
	return keep_listed(pr, CF_PROFILE_DROPPED, arr, text, n);
}

/* $.kvm.enabled: what the profile's VMs enable, each a capability of role
 * guest with a positive value.  A profile without it (every profile before
 * the member existed) enables nothing: its "caps" are the pool's common
 * set, advice. */
static enum cf_err read_enabled(const cJSON *en, struct cf_profile *pr,
				const char *origin, struct cf_diag *d)
{
	const cJSON *it;
	struct cf_diag why = { "" };

	cJSON_ArrayForEach(it, en) {
		enum cf_err err = CF_EINVAL;
		if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
		    it->valuedouble <= 9007199254740992.0 &&
		    it->valuedouble == (double)(uint64_t)it->valuedouble)
			err = cf_profile_enable_cap(pr, NULL, it->string,
						    (uint64_t)it->valuedouble,
						    &why);
		else
			snprintf(why.msg, sizeof(why.msg), "expected a positive "
				 "integer");
		if (err == CF_ENOMEM)
			return err;
		if (err != CF_OK)
			return cf_diag_set(d, CF_ESCHEMA, "%s: $.kvm.enabled.%s: %s",
					   origin, it->string, why.msg);
	}
	return CF_OK;
}

static enum cf_err parse_json(const cJSON *root, const char *origin,
			      struct cf_profile **out, struct cf_diag *d)
{
	const struct cf_arch_ops *arch;
	const cJSON *it, *sec;
	struct cf_profile *pr = NULL;
	char archname[32], p[CF_DOC_PATH_MAX], id[CF_HOST_ID_MAX];
	size_t nconf;
	enum cf_err err;

	if (!cJSON_IsObject(root))
		return cf_diag_set(d, CF_ESCHEMA, "%s: $: expected an object",
				   origin);
	it = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, PROFILE_SCHEMA) != 0)
		return cf_diag_set(d, CF_ESCHEMA, "%s: $.schema: expected \"%s\"",
				   origin, PROFILE_SCHEMA);
	err = cf_doc_string(cJSON_GetObjectItemCaseSensitive(root, "arch"), origin,
			    "$.arch", archname, sizeof(archname), d);
	if (err != CF_OK)
		return err;
	arch = cf_arch_find(archname);
	if (!arch)
		return cf_diag_set(d, CF_EARCH,
				   "%s: $.arch: unknown architecture \"%s\"",
				   origin, archname);
	err = cf_doc_object(root, arch->name, true, origin, "$", &sec, d);
	if (err != CF_OK)
		return err;
	err = cf_profile_alloc(arch, &pr);
	if (err != CF_OK)
		return err;
	err = cf_section_codec(arch)->read(sec, cf_profile_values(pr), false,
					   origin, d);
	if (err != CF_OK)
		goto fail;
	{
		const cJSON *kvm = NULL, *caps = NULL, *en = NULL;
		err = cf_doc_object(root, "kvm", false, origin, "$", &kvm, d);
		if (err == CF_OK && kvm)
			err = cf_doc_object(kvm, "caps", false, origin, "$.kvm",
					    &caps, d);
		if (err == CF_OK && caps)
			err = cf_regmap_read(caps, CF_REGMAP_CAPS,
					     cf_profile_values(pr), origin,
					     "$.kvm.caps", d);
		if (err == CF_OK && kvm)
			err = cf_doc_object(kvm, "enabled", false, origin, "$.kvm",
					    &en, d);
		if (err == CF_OK && en)
			err = read_enabled(en, pr, origin, d);
		if (err != CF_OK)
			goto fail;
	}
	cf_config_seal(cf_profile_values(pr));
	it = cJSON_GetObjectItemCaseSensitive(root, "hosts");
	if (it && !cJSON_IsArray(it)) {
		err = cf_diag_set(d, CF_ESCHEMA, "%s: $.hosts: expected an array",
				  origin);
		goto fail;
	}
	size_t i = 0;
	const cJSON *h;
	cJSON_ArrayForEach(h, it) {
		snprintf(p, sizeof(p), "$.hosts[%zu]", i++);
		err = cf_doc_string(h, origin, p, id, sizeof(id), d);
		if (err == CF_OK)
			err = cf_profile_add_host(pr, id);
		if (err != CF_OK)
			goto fail;
	}
	cf_profile_set_configurations(pr, 1);
	err = read_impls(root, pr, origin, d);
	if (err != CF_OK)
		goto fail;
	it = cJSON_GetObjectItemCaseSensitive(root, "conflicts");
	if (it && !cJSON_IsArray(it)) {
		err = cf_diag_set(d, CF_ESCHEMA,
				  "%s: $.conflicts: expected an array", origin);
		goto fail;
	}
	nconf = it ? (size_t)cJSON_GetArraySize(it) : 0;
	if (nconf && (err = read_conflicts(it, nconf, pr)) != CF_OK)
		goto fail;
	err = read_dropped(root, pr, origin, d);
	if (err != CF_OK)
		goto fail;
	it = cJSON_GetObjectItemCaseSensitive(root, "feasible");
	if (it && (!cJSON_IsBool(it) ||
		   cJSON_IsTrue(it) != (nconf == 0))) {
		err = cf_diag_set(d, CF_ESCHEMA, "%s: $.feasible: expected %s "
				  "(the profile lists %zu conflicts)", origin,
				  nconf ? "false" : "true", nconf);
		goto fail;
	}
	*out = pr;
	return CF_OK;
fail:
	cf_profile_destroy(pr);
	return err;
}

static enum cf_err build(const cJSON *root, const char *origin, void **out,
			 struct cf_diag *d)
{
	return parse_json(root, origin, (struct cf_profile **)out, d);
}

enum cf_err cf_profile_from_doc(const cJSON *root, const char *origin,
				struct cf_profile **out, struct cf_diag *d)
{
	return parse_json(root, origin, out, d);
}

enum cf_err cf_profile_parse(const char *text, size_t len, const char *origin,
			    struct cf_profile **out, struct cf_diag *d)
{
	return cf_doc_parse_with(text, len, origin, build, (void **)out, d);
}

enum cf_err cf_profile_load(const char *path, struct cf_profile **out,
			   struct cf_diag *d)
{
	return cf_doc_load_with(path, build, (void **)out, d);
}
