#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
