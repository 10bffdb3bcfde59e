/* The storage API's argument rules (args.h), for every backend: no SQL,
 * no SQLite here.  The text rules themselves are util/text.h's. */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "db/args.h"
#include "util/diag.h"
#include "util/text.h"

#define LABELS_MAX 64
#define POOL_HOSTS_MAX 10000
#define LABELS_JSON_MAX (1u << 20)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum cf_err cf_db_arg_time(const char *what, const char *t,
			   struct cf_diag *d)
{
	if (cf_text_time_ok(t, CF_DB_TIME_MAX))
		return CF_OK;
	return cf_diag_set(d, CF_EINVAL, "%s: not an RFC 3339 UTC time like "
			   "2026-11-22T04:15:11Z", what);
}

enum cf_err cf_db_arg_text(const char *what, const char *s, size_t min,
			   size_t cap, struct cf_diag *d)
{
	if (cf_text_ok(s, min, cap))
		return CF_OK;
	if (!s)
		return cf_diag_set(d, CF_EINVAL, "%s: missing", what);
	if (min == 0)
		return cf_diag_set(d, CF_EINVAL, "%s: up to %zu bytes of UTF-8 "
				   "text without control characters", what,
				   cap - 1);
	return cf_diag_set(d, CF_EINVAL, "%s: %zu to %zu bytes of UTF-8 text "
			   "without control characters", what, min, cap - 1);
}

/* S[FROM..N) are hex digits, copied lower-cased to OUT[FROM..N). */
static bool hex_copy(const char *s, size_t from, size_t n, char *out)
{
	for (size_t i = from; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
			return false;
		out[i] = c;
	}
	return from < n;
}

/* Hex digits (1 to CF_DB_ID_MAX-1), lower-cased into OUT. */
static enum cf_err check_hex(const char *what, const char *s,
			     char out[CF_DB_ID_MAX], struct cf_diag *d)
{
	size_t n = s ? strnlen(s, CF_DB_ID_MAX) : 0;

	if (n >= CF_DB_ID_MAX || !hex_copy(s, 0, n, out))
		return cf_diag_set(d, CF_EINVAL, "%s: 1 to %d hex digits", what,
				   CF_DB_ID_MAX - 1);
	out[n] = '\0';
	return CF_OK;
}

/* A content identity: a version tag of lower-case letters and digits, a
 * colon and hex digits ("cfid1:..."), the hex lower-cased into OUT.  Hex
 * alone is accepted too: the form before identities had versions. */
static enum cf_err check_content(const char *s, char out[CF_DB_ID_MAX],
				 struct cf_diag *d)
{
	size_t n = s ? strnlen(s, CF_DB_ID_MAX) : 0;
	const char *colon = s && n < CF_DB_ID_MAX ? memchr(s, ':', n) : NULL;
	size_t tag = colon ? (size_t)(colon - s) + 1 : 0;

	if (!s || n >= CF_DB_ID_MAX || tag == 1 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") + 1 < tag ||
	    !hex_copy(s, tag, n, out))
		return cf_diag_set(d, CF_EINVAL, "content: a version tag, ':' "
				   "and hex digits, %d bytes at most",
				   CF_DB_ID_MAX - 1);
	memcpy(out, s, tag);
	out[n] = '\0';
	return CF_OK;
}

enum cf_err cf_db_arg_name(const char *what, const char *s,
			   struct cf_diag *d)
{
	if (cf_text_name_ok(s, CF_DB_NAME_MAX))
		return CF_OK;
	return cf_diag_set(d, CF_EINVAL, "%s: 1 to %d of A-Z a-z 0-9 . _ -, "
			   "not '.' or '..'",
			   what, CF_DB_NAME_MAX - 1);
}

enum cf_err cf_db_arg_actor(const char **actor, struct cf_diag *d)
{
	if (!*actor)
		*actor = "cli";
	return cf_db_arg_text("actor", *actor, 1, CF_DB_ID_MAX, d);
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return *s == '\0';
}

/* WHAT: an object of at most LABELS_MAX string members, keys 1 and
 * values 0 to CF_DB_NAME_MAX-1 bytes; *CANON its compact text. */
enum cf_err cf_db_arg_labels(const char *what, const char *json,
			     char **canon, struct cf_diag *d)
{
	cJSON *root = NULL;
	const cJSON *m;
	enum cf_err err = CF_OK;
	size_t n = 0;

	*canon = NULL;
	if (blank(json))
		json = "{}";
	if (strnlen(json, LABELS_JSON_MAX + 1) > LABELS_JSON_MAX) {
		err = cf_diag_set(d, CF_ETOOBIG, "%s: over %u bytes", what,
				  LABELS_JSON_MAX);
		goto out;
	}
	root = cJSON_ParseWithOpts(json, NULL, true);
	if (!root) {
		err = cf_diag_set(d, CF_ESYNTAX, "%s: not well-formed JSON",
				  what);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		err = cf_diag_set(d, CF_ESCHEMA, "%s: not a JSON object", what);
		goto out;
	}
	cJSON_ArrayForEach(m, root) {
		if (++n > LABELS_MAX) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s: more than %d labels", what,
					  LABELS_MAX);
			goto out;
		}
		if (!cf_text_ok(m->string, 1, CF_DB_NAME_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s: label %zu: keys are 1 to %d "
					  "bytes of text", what, n,
					  CF_DB_NAME_MAX - 1);
			goto out;
		}
		if (!cJSON_IsString(m) ||
		    !cf_text_ok(m->valuestring, 0, CF_DB_NAME_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s.%s: not a string of at most %d "
					  "bytes", what, m->string,
					  CF_DB_NAME_MAX - 1);
			goto out;
		}
		for (const cJSON *p = root->child; p != m; p = p->next) {
			if (strcmp(p->string, m->string) == 0) {
				err = cf_diag_set(d, CF_ESCHEMA, "%s.%s: given "
						  "twice", what, m->string);
				goto out;
			}
		}
	}
	*canon = cJSON_PrintUnformatted(root);
	if (!*canon)
		err = cf_diag_set(d, CF_ENOMEM, "%s: out of memory", what);
out:
	cJSON_Delete(root);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An array of at most POOL_HOSTS_MAX distinct host ids. */
enum cf_err cf_db_arg_hosts(const char *json, char **canon,
			    struct cf_diag *d)
{
	cJSON *root = NULL;
	const cJSON *m;
	const char **ids = NULL;
	enum cf_err err = CF_OK;
	size_t n = 0;

	*canon = NULL;
	if (blank(json))
		json = "[]";
	if (strnlen(json, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES) {
		err = cf_diag_set(d, CF_ETOOBIG, "hosts: over %u bytes",
				  CF_DOC_MAX_BYTES);
		goto out;
	}
	root = cJSON_ParseWithOpts(json, NULL, true);
	if (!root) {
		err = cf_diag_set(d, CF_ESYNTAX, "hosts: not well-formed JSON");
		goto out;
	}
	if (!cJSON_IsArray(root)) {
		err = cf_diag_set(d, CF_ESCHEMA, "hosts: not a JSON array");
		goto out;
	}
	cJSON_ArrayForEach(m, root) {
		if (n >= POOL_HOSTS_MAX) {
			err = cf_diag_set(d, CF_ESCHEMA, "hosts: more than %d",
					  POOL_HOSTS_MAX);
			goto out;
		}
		if (!cJSON_IsString(m) ||
		    !cf_text_ok(m->valuestring, 1, CF_HOST_ID_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "hosts[%zu]: not a host id (1 to %d "
					  "bytes of text)", n,
					  CF_HOST_ID_MAX - 1);
			goto out;
		}
		n++;
	}
	if (n > 1) {
		size_t i = 0;
		ids = malloc(n * sizeof(*ids));
		if (!ids) {
			err = cf_diag_set(d, CF_ENOMEM, "hosts: out of memory");
			goto out;
		}
		cJSON_ArrayForEach(m, root)
			ids[i++] = m->valuestring;
		qsort(ids, n, sizeof(*ids), cmp_str);
		for (i = 1; i < n; i++) {
			if (strcmp(ids[i - 1], ids[i]) == 0) {
				err = cf_diag_set(d, CF_EDUPLICATE, "hosts: %s "
						  "listed twice", ids[i]);
				goto out;
			}
		}
	}
	*canon = cJSON_PrintUnformatted(root);
	if (!*canon)
		err = cf_diag_set(d, CF_ENOMEM, "hosts: out of memory");
out:
	free(ids);
	cJSON_Delete(root);
	return err;
}

enum cf_err cf_db_arg_upload(const struct cf_db_upload *u,
			     char content[CF_DB_ID_MAX],
			     char fingerprint[CF_DB_ID_MAX],
			     struct cf_diag *d)
{
	enum cf_err err;

	if (!u)
		return cf_diag_set(d, CF_EINVAL, "upload: missing");
	err = cf_db_arg_text("report_id", u->report_id, 1, CF_DB_ID_MAX, d);
	if (err == CF_OK)
		err = cf_db_arg_text("host", u->host, 1, CF_HOST_ID_MAX, d);
	if (err == CF_OK)
		err = cf_db_arg_text("arch", u->arch, 1,
				     sizeof(((struct cf_db_host *)0)->arch), d);
	if (err == CF_OK)
		err = cf_db_arg_text("hostname",
				     u->hostname ? u->hostname : "", 0,
				     CF_TEXT_MAX, d);
	if (err == CF_OK)
		err = check_content(u->content, content, d);
	if (err == CF_OK)
		err = check_hex("fingerprint", u->fingerprint, fingerprint, d);
	if (err == CF_OK)
		err = cf_db_arg_text("collected_at",
				     u->collected_at ? u->collected_at : "", 0,
				     CF_DB_TIME_MAX, d);
	if (err == CF_OK)
		err = cf_db_arg_time("received_at", u->received_at, d);
	if (err == CF_OK && u->token)
		err = cf_db_arg_text("token", u->token, 1, CF_DB_ID_MAX, d);
	if (err == CF_OK && !u->body)
		err = cf_diag_set(d, CF_EINVAL, "body: missing");
	if (err == CF_OK &&
	    strnlen(u->body, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES)
		err = cf_diag_set(d, CF_ETOOBIG, "body: over %u bytes",
				  CF_DOC_MAX_BYTES);
	return err;
}
