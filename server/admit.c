/* Whether a request may be answered, from its request line, headers and
 * body: the route and its {} segments, the token and its role, text that
 * is UTF-8 without control characters. */
#include <strings.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/internal.h"
#include "util/text.h"

/* Matches URL against PATTERN, capturing {} segments: 1 on a match, 0 on
 * none, -1 when the URL would match but a {} segment is too long for any
 * name or id (so the answer can say so instead of "no such endpoint"). */
static int match(const char *pattern, const char *url,
		 char param[CF_API_PARAMS][CF_HOST_ID_MAX])
{
	size_t np = 0;
	bool too_long = false;

	while (*pattern && *url) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(url, "/");
			if (n == 0 || np >= CF_API_PARAMS)
				return 0;
			if (n >= CF_HOST_ID_MAX) {
				too_long = true;
				np++;
			} else {
				memcpy(param[np], url, n);
				param[np++][n] = '\0';
			}
			url += n;
			pattern += 2;
			continue;
		}
		if (*pattern != *url)
			return 0;
		pattern++;
		url++;
	}
	if (*pattern != '\0' || *url != '\0')
		return 0;
	return too_long ? -1 : 1;
}

/* JSON text is UTF-8 with control characters only escaped (RFC 8259):
 * any other request body is refused before a handler sees it, so nothing
 * stored and served back later can be invalid JSON text. */
static bool body_text_ok(const char *p, size_t n, struct cf_api_reply *rp)
{
	bool ctrl;
	size_t i = cf_text_bad_at(p, n, CF_TEXT_CTRL_JSON, &ctrl);

	if (i == n)
		return true;
	if (ctrl)
		cf_api_error(rp, 400, "request body: control character 0x%02x "
			     "at byte %zu (JSON allows them only escaped)",
			     (unsigned char)p[i], i);
	else
		cf_api_error(rp, 400, "request body: invalid UTF-8 at byte %zu",
			     i);
	return false;
}

/* What a path may not hold, whatever the route: every {} segment is a
 * name or an id, stored as given and named again in later paths, so it
 * must be text that reads back the same (UTF-8 without control
 * characters, checked after libmicrohttpd decoded %XX), and not a dot
 * segment ("." and "..", which clients remove before sending, RFC 3986
 * section 5.2.4: such a name could be written but never read).  A %00
 * would cut the decoded path short, so PUT /v1/pools/p1%00x would change
 * p1; an encoded '/' would move a name's end.  Both are refused from the
 * raw request line. */
static bool path_ok(const struct conn *st, const char *url,
		    struct cf_api_reply *rp)
{
	size_t n = strlen(url), seg;
	bool ctrl;

	if (st->raw_nul) {
		cf_api_error(rp, 400, "the URL holds %%00 (NUL), which no name "
			     "or argument may hold");
		return false;
	}
	if (st->raw_slash) {
		cf_api_error(rp, 400, "the path holds an encoded '/' (%%2F), "
			     "which no name may hold");
		return false;
	}
	if (cf_text_bad_at(url, n, CF_TEXT_CTRL_NONE, &ctrl) != n) {
		cf_api_error(rp, 400, "the path is not UTF-8 text without "
			     "control characters (once %%XX are decoded)");
		return false;
	}
	for (const char *p = url; *p; p += seg) {
		p += strspn(p, "/");
		seg = strcspn(p, "/");
		if ((seg == 1 && p[0] == '.') ||
		    (seg == 2 && p[0] == '.' && p[1] == '.')) {
			cf_api_error(rp, 400, "the path has a '.' or '..' segment, "
				     "which is no name");
			return false;
		}
	}
	return true;
}

/* An upload refused before its handler ran still counts as rejected. */
void cf_admit_count_refused(struct cf_server *s, const struct conn *st)
{
	if (st->route && !strcmp(st->route->name, "reports"))
		cf_api_count_upload(&s->env, CF_API_UP_REJECTED);
}

/* Route, method and credentials, from the headers alone. */
/* TOK's token into ST, looked up on one of the event threads' own
 * connections: they must never wait for one of the readers the workers
 * hold, nor for each other (the first free, or the last).  Every request
 * is looked up, so a token revoked between two requests on one connection
 * kept alive refuses the second (tests/integration/adversarial.py), but
 * an upload's lookup may come from the token cache: its token is judged
 * again as the report is stored (fleet.h). */
static enum cf_err token_lookup(struct cf_server *s, const char *tok,
				struct conn *st)
{
	bool upload = st->route->access == CF_API_UPLOAD;
	enum cf_err err;
	size_t i;

	st->tok_at = cf_conns_now_ms();
	st->tok_cached = upload && cf_tokcache_get(s->tokcache, tok,
						   st->tok_at, &st->tok);
	if (st->tok_cached)
		return CF_OK;
	for (i = 0; i < EVENT_THREADS - 1; i++)
		if (pthread_mutex_trylock(&s->evlock[i]) == 0)
			break;
	if (i == EVENT_THREADS - 1)
		pthread_mutex_lock(&s->evlock[i]);
	err = cf_db_token_lookup(s->evdb[i], tok, &st->tok);
	pthread_mutex_unlock(&s->evlock[i]);
	if (upload && err == CF_OK)
		cf_tokcache_put(s->tokcache, tok, &st->tok, st->tok_at);
	return err;
}

bool cf_admit_request(struct cf_server *s, struct MHD_Connection *c,
		      const char *url, const char *method, struct conn *st,
		      struct cf_api_reply *rp)
{
	bool path_known = false, too_long = false;
	const char *auth, *tok;
	enum cf_err err;

	st->slot = cf_api_nroutes;
	if (!path_ok(st, url, rp))
		return false;
	for (size_t i = 0; i < cf_api_nroutes; i++) {
		/* Zeroed: a route's handler reads every param slot ("" for the
		 * ones its pattern does not have). */
		char param[CF_API_PARAMS][CF_HOST_ID_MAX] = { { 0 } };
		int m = match(cf_api_routes[i].pattern, url, param);
		if (m < 0)
			too_long = true;
		if (m <= 0)
			continue;
		path_known = true;
		if (strcmp(cf_api_routes[i].method, method) != 0)
			continue;
		st->route = &cf_api_routes[i];
		st->slot = i;
		memcpy(st->rq.param, param, sizeof(param));
		break;
	}
	if (!st->route) {
		if (too_long)
			cf_api_error(rp, 400, "a path segment is longer than %d "
				     "bytes (the longest name or id)",
				     CF_HOST_ID_MAX - 1);
		else if (path_known)
			cf_api_error(rp, 405, "method %s not allowed on %s",
				     method, url);
		else
			cf_api_error(rp, 404, "no such endpoint: %s", url);
		return false;
	}
	if (st->route->access == CF_API_PUBLIC)
		return true;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		cf_api_error(rp, 401, "missing bearer token "
			     "(Authorization: Bearer TOKEN)");
		return false;
	}
	tok = auth + 7;
	while (*tok == ' ')
		tok++;
	st->token = tok;
	err = token_lookup(s, tok, st);
	if (err == CF_ENOTFOUND) {
		cf_api_error(rp, 401, "unknown or revoked token");
		return false;
	}
	if (err != CF_OK) {
		cf_api_error(rp, 500, "token lookup failed: %s",
			     cf_strerror(err));
		return false;
	}
	switch (st->route->access) {
	case CF_API_UPLOAD:
		if (st->tok.role == CF_DB_ROLE_READER)
			goto denied;
		break;
	case CF_API_READ:
		if (st->tok.role == CF_DB_ROLE_AGENT)
			goto denied;
		break;
	case CF_API_ADMIN:
		if (st->tok.role != CF_DB_ROLE_ADMIN)
			goto denied;
		break;
	case CF_API_PUBLIC:
		break;
	}
	st->rq.tok = &st->tok;
	st->rq.actor = st->tok.id;
	return true;
denied:
	cf_api_error(rp, 403, "%s tokens may not %s %s",
		     cf_db_role_name(st->tok.role), method, url);
	return false;
}

bool cf_admit_body(const char *p, size_t n, struct cf_api_reply *rp)
{
	return body_text_ok(p, n, rp);
}
