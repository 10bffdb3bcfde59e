#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/cli_util.h"
#include "tools/remote.h"
#include "profiles/doc.h"

int remote_opt(struct remote_opts *ro, int c, const char *arg)
{
	switch (c) {
	case 's': ro->server = arg; return CLI_OK;
	case 't': ro->token = arg; return CLI_OK;
	case 'T': ro->token_file = arg; return CLI_OK;
	case 'C': ro->cacert = arg; return CLI_OK;
	}
	return CLI_USAGE;
}

int remote_connect(const char *cmd, const struct remote_opts *ro,
		   struct cf_client **out)
{
	struct cf_client_opts o = { .server = ro->server, .cacert = ro->cacert,
				    .timeout_ms = ro->timeout_ms };
	struct cf_diag d = { "" };
	char *buf = NULL;
	size_t len;
	int rc = CLI_USAGE;

	*out = NULL;
	if (!ro->server) {
		cli_error(cmd, "--server URL is required");
		return CLI_USAGE;
	}
	o.token = ro->token ? ro->token : getenv("CPUFLEET_TOKEN");
	if (ro->token_file) {
		if (cf_doc_read_file(ro->token_file, &buf, &len, &d) != CF_OK) {
			cli_error(cmd, "%s", d.msg);
			goto cleanup;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!buf[0]) {
			cli_error(cmd, "%s: no token on its first line",
				  ro->token_file);
			goto cleanup;
		}
		o.token = buf;
	}
	if (cf_client_create(&o, out, &d) != CF_OK) {
		cli_error(cmd, "%s", d.msg);
		goto cleanup;
	}
	rc = CLI_OK;
cleanup:
	free(buf);
	return rc;
}

int remote_call(const char *cmd, struct cf_client *c, const char *method,
		const char *path, const char *body, long *status, cJSON **out)
{
	struct cf_diag d = { "" };
	char *resp = NULL, msg[512];
	size_t len = 0;
	long st = 0;
	enum cf_err err;
	int rc;

	*out = NULL;
	err = cf_client_request(c, method, path, body, body ? strlen(body) : 0,
				&st, &resp, &len, &d);
	if (status)
		*status = st;
	if (err != CF_OK) {
		cli_error(cmd, "%s", d.msg[0] ? d.msg : cf_strerror(err));
		return CLI_INTERNAL;
	}
	if (st >= 200 && st < 300) {
		*out = cJSON_Parse(resp);
		rc = CLI_OK;
	} else {
		cf_client_error_text(resp, msg, sizeof(msg));
		cli_error(cmd, "%s %s: %ld: %s", method, path, st, msg);
		rc = st >= 500 ? CLI_INTERNAL : CLI_USAGE;
	}
	free(resp);
	return rc;
}

bool remote_path_add(char *buf, size_t len, const char *seg)
{
	size_t n = strlen(buf);
	/* A "." or ".." segment would be removed from the path as a dot
	 * segment (RFC 3986; curl does), and the request would go to another
	 * path: percent-encoded, it reaches the server, which refuses it (no
	 * name or id is a dot segment). */
	bool dots = !strcmp(seg, ".") || !strcmp(seg, "..");

	for (; *seg; seg++) {
		unsigned char ch = (unsigned char)*seg;
		bool plain = !dots && ((ch >= 'A' && ch <= 'Z') ||
				       (ch >= 'a' && ch <= 'z') ||
				       (ch >= '0' && ch <= '9') ||
				       strchr("._~-", ch));
		int w = plain ? snprintf(buf + n, len - n, "%c", ch)
			      : snprintf(buf + n, len - n, "%%%02X", ch);
		if (w < 0 || (size_t)w >= len - n)
			return false;
		n += (size_t)w;
	}
	return true;
}

/* NAME[@VERSION] into the path of that version (the latest without
 * VERSION); false, printing why, if SPEC is not one. */
static bool profile_path(const char *cmd, const char *spec, char *path,
			 size_t len)
{
	const char *at = strchr(spec, '@');
	char name[256];
	long v = 0;

	if (snprintf(name, sizeof(name), "%.*s", (int)(at ? (size_t)(at - spec)
				: strlen(spec)), spec) >= (int)sizeof(name) ||
	    !name[0] || (at && !cli_parse_long(at + 1, 1, 1000000000, &v))) {
		cli_error(cmd, "%s: expected a profile NAME or NAME@VERSION "
			  "(VERSION a number from 1)", spec);
		return false;
	}
	snprintf(path, len, "/v1/profiles/");
	if (!remote_path_add(path, len, name))
		return false;
	if (v) {
		size_t n = strlen(path);
		snprintf(path + n, len - n, "/versions/%ld", v);
	}
	return true;
}

int remote_profile_get(const char *cmd, struct cf_client *cl,
		       const char *spec, cJSON **doc, char *name, size_t nlen,
		       int *version)
{
	char path[1024];
	cJSON *out = NULL, *it;
	int rc;

	*doc = NULL;
	if (!profile_path(cmd, spec, path, sizeof(path)))
		return CLI_USAGE;
	rc = remote_call(cmd, cl, "GET", path, NULL, NULL, &out);
	if (rc != CLI_OK)
		return rc;
	it = cJSON_GetObjectItemCaseSensitive(out, "profile");
	if (!cJSON_IsObject(it)) {
		cli_error(cmd, "GET %s: the answer has no profile", path);
		cJSON_Delete(out);
		return CLI_INTERNAL;
	}
	*doc = cJSON_DetachItemViaPointer(out, it);
	it = cJSON_GetObjectItemCaseSensitive(out, "name");
	if (name && nlen)
		snprintf(name, nlen, "%s", cJSON_IsString(it) ? it->valuestring
							      : "");
	it = cJSON_GetObjectItemCaseSensitive(out, "version");
	if (version)
		*version = cJSON_IsNumber(it) ? it->valueint : 0;
	cJSON_Delete(out);
	return CLI_OK;
}

int remote_load_profile(const char *cmd, const struct remote_opts *ro,
			const char *spec, struct cf_profile **out,
			char *name, size_t nlen, int *version)
{
	struct cf_client *cl = NULL;
	struct cf_diag d = { "" };
	cJSON *doc = NULL;
	enum cf_err err;
	int rc;

	*out = NULL;
	/* A file is a file, as without --server; a psABI level the server
	 * has no published profile of is the catalogue's, as /v1/check
	 * reads it. */
	if (!ro->server || strchr(spec, '/') || access(spec, F_OK) == 0)
		return cli_load_profile(cmd, spec, out);
	rc = remote_connect(cmd, ro, &cl);
	if (rc != CLI_OK)
		return rc;
	if (!strchr(spec, '@') && cf_x86_level_profile(spec, out) == CF_OK) {
		char path[1024] = "/v1/profiles/";
		long st = 0;
		char *resp = NULL;
		size_t len = 0;
		/* Only when the server has no profile of that name. */
		if (remote_path_add(path, sizeof(path), spec) &&
		    cf_client_request(cl, "GET", path, NULL, 0, &st, &resp,
				      &len, &d) == CF_OK && st == 404) {
			free(resp);
			cf_client_destroy(cl);
			return CLI_OK;
		}
		free(resp);
		cf_profile_destroy(*out);
		*out = NULL;
	}
	rc = remote_profile_get(cmd, cl, spec, &doc, name, nlen, version);
	cf_client_destroy(cl);
	if (rc != CLI_OK)
		return rc;
	err = cf_profile_from_doc(doc, spec, out, &d);
	cJSON_Delete(doc);
	if (err != CF_OK) {
		cli_error(cmd, "%s", d.msg[0] ? d.msg : cf_strerror(err));
		return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
	}
	return CLI_OK;
}
