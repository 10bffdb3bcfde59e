/* HTTP(S) client of the central service, over one libcurl easy handle so
 * that consecutive requests reuse the connection. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "agent/client.h"
#include "util/diag.h"
#include "util/text.h"

#define CLIENT_URL_MAX 4096
#define CLIENT_METHOD_MAX 16

struct cf_client {
	CURL *h;
	char *base;           /* server without a trailing '/' */
	char *auth;           /* "Authorization: Bearer ..." or NULL */
	char *cacert;
	long connect_ms, timeout_ms;
	char errbuf[CURL_ERROR_SIZE];
};

struct client_buf {
	char *p;
	size_t len, cap;
	bool too_big, no_mem;
};

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static CURLcode client_init_rc = CURLE_FAILED_INIT;

static void client_global_init(void)
{
	client_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *client_strdup(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

enum cf_err cf_client_create(const struct cf_client_opts *o,
			     struct cf_client **out, struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	struct cf_client *c = NULL;
	const char *host;
	size_t n, tlen;

	if (!out || !o || !o->server)
		return cf_diag_set(d, CF_EINVAL, "client: no server URL given");
	*out = NULL;
	if (strncasecmp(o->server, "http://", 7) == 0)
		host = o->server + 7;
	else if (strncasecmp(o->server, "https://", 8) == 0)
		host = o->server + 8;
	else
		return cf_diag_set(d, CF_EINVAL, "server URL '%.200s': not "
				   "http:// or https://", o->server);
	n = strlen(o->server);
	/* No control characters: they would end a header line. */
	if (*host == '\0' || *host == '/' ||
	    !cf_text_ok(o->server, 1, CLIENT_URL_MAX / 2) ||
	    strchr(o->server, ' '))
		return cf_diag_set(d, CF_EINVAL, "server URL '%.200s': no host, "
				   "too long or bad characters", o->server);
	if (o->token && !cf_text_ok(o->token, 1, 1025))
		return cf_diag_set(d, CF_EINVAL, "token: empty, too long or "
				   "bad characters");
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0)
		return cf_diag_set(d, CF_EINVAL, "client: negative timeout");
	pthread_once(&client_once, client_global_init);
	if (client_init_rc != CURLE_OK)
		return cf_diag_set(d, CF_ENET, "libcurl initialisation failed: %s",
				   curl_easy_strerror(client_init_rc));
	c = calloc(1, sizeof(*c));
	if (!c)
		return CF_ENOMEM;
	c->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 5000;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
	c->base = client_strdup(o->server);
	if (!c->base) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	if (n > 0 && c->base[n - 1] == '/')
		c->base[n - 1] = '\0';
	if (o->token) {
		tlen = strlen("Authorization: Bearer ") + strlen(o->token) + 1;
		c->auth = malloc(tlen);
		if (!c->auth) {
			err = CF_ENOMEM;
			goto cleanup;
		}
		snprintf(c->auth, tlen, "Authorization: Bearer %s", o->token);
	}
	if (o->cacert && !(c->cacert = client_strdup(o->cacert))) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	c->h = curl_easy_init();
	if (!c->h) {
		err = cf_diag_set(d, CF_ENOMEM, "libcurl: cannot create a handle");
		goto cleanup;
	}
	*out = c;
	c = NULL;
cleanup:
	cf_client_destroy(c);
	return err;
}

void cf_client_destroy(struct cf_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->base);
	free(c->auth);
	free(c->cacert);
	free(c);
}

static size_t client_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct client_buf *b = ud;
	size_t n = size * nmemb;

	if (n > CF_CLIENT_RESP_MAX || b->len + n > CF_CLIENT_RESP_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->no_mem = true;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static bool client_method_ok(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n >= CLIENT_METHOD_MAX)
		return false;
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

/* Sets every option of one request (after a reset, so nothing of the last
 * request's method or body is left). */
static CURLcode client_setup(struct cf_client *c, const char *method,
			     const char *url, const char *body, size_t len,
			     struct curl_slist *hdrs, struct client_buf *b)
{
	CURLcode rc = CURLE_OK;
	bool has_body = body || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
			!strcmp(method, "PATCH");

#define SET(opt, val) do { \
		if ((rc = curl_easy_setopt(c->h, opt, val)) != CURLE_OK) \
			return rc; \
	} while (0)
	curl_easy_reset(c->h);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_WRITEFUNCTION, client_write);
	SET(CURLOPT_WRITEDATA, b);
	SET(CURLOPT_USERAGENT, "cpufleet");
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (c->cacert)
		SET(CURLOPT_CAINFO, c->cacert);
	if (has_body) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		SET(CURLOPT_POSTFIELDS, body ? body : "");
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
	} else if (!strcmp(method, "GET")) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(method, "HEAD")) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, method);
	}
#undef SET
	return rc;
}

enum cf_err cf_client_request(struct cf_client *c, const char *method,
			      const char *path, const char *body, size_t len,
			      long *status, char **resp, size_t *resp_len,
			      struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	char url[CLIENT_URL_MAX];
	struct curl_slist *hdrs = NULL, *h;
	struct client_buf b = { 0 };
	CURLcode rc;
	long code = 0;

	if (status)
		*status = 0;
	if (resp)
		*resp = NULL;
	if (resp_len)
		*resp_len = 0;
	if (!c || !method || !path || !client_method_ok(method) ||
	    path[0] != '/' || !cf_text_ok(path, 1, SIZE_MAX) ||
	    strchr(path, ' ') ||
	    (!body && len > 0))
		return cf_diag_set(d, CF_EINVAL, "client: bad request '%s %s'",
				   method ? method : "(null)",
				   path ? path : "(null)");
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path) >=
	    sizeof(url))
		return cf_diag_set(d, CF_EINVAL, "client: URL too long");
	err = CF_ENOMEM;
	if (c->auth) {
		if (!(h = curl_slist_append(hdrs, c->auth)))
			goto cleanup;
		hdrs = h;
	}
	if (body) {
		if (!(h = curl_slist_append(hdrs, "Content-Type: application/json")))
			goto cleanup;
		hdrs = h;
	}
	/* No "Expect: 100-continue" round trip before large bodies. */
	if (!(h = curl_slist_append(hdrs, "Expect:")))
		goto cleanup;
	hdrs = h;
	err = CF_OK;
	c->errbuf[0] = '\0';
	rc = client_setup(c, method, url, body, len, hdrs, &b);
	if (rc != CURLE_OK) {
		err = cf_diag_set(d, rc == CURLE_OUT_OF_MEMORY ? CF_ENOMEM :
				  CF_EINVAL, "%s %s: libcurl: %s", method, url,
				  curl_easy_strerror(rc));
		goto cleanup;
	}
	rc = curl_easy_perform(c->h);
	if (b.too_big) {
		err = cf_diag_set(d, CF_ETOOBIG, "%s %s: response over %u bytes",
				  method, url, CF_CLIENT_RESP_MAX);
		goto cleanup;
	}
	if (b.no_mem || rc == CURLE_OUT_OF_MEMORY) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		err = cf_diag_set(d, CF_ENET, "%s %s: %s", method, url,
				  c->errbuf[0] ? c->errbuf :
				  curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (!b.p && !(b.p = calloc(1, 1))) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	if (status)
		*status = code;
	if (resp_len)
		*resp_len = b.len;
	if (resp) {
		*resp = b.p;
		b.p = NULL;
	}
cleanup:
	if (err == CF_ENOMEM)
		cf_diag_set(d, err, "%s %s: out of memory", method, path);
	/* The handle must not keep pointers into this call's locals. */
	if (c->h) {
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, (void *)NULL);
	}
	curl_slist_free_all(hdrs);
	free(b.p);
	return err;
}

/* Copies S[0..N) into BUF (size LEN) with control characters as spaces,
 * cut on a UTF-8 character boundary. */
static void client_copy_text(const char *s, size_t n, char *buf, size_t len)
{
	size_t i;

	if (n > len - 1) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	buf[i] = '\0';
}

void cf_client_error_text(const char *resp, char *buf, size_t len)
{
	cJSON *root = NULL;
	const cJSON *e;
	const char *p, *end;

	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	if (!resp)
		resp = "";
	root = cJSON_Parse(resp);
	e = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "error")
				 : NULL;
	if (cJSON_IsString(e) && e->valuestring[0]) {
		client_copy_text(e->valuestring, strlen(e->valuestring), buf, len);
		goto cleanup;
	}
	p = resp;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	end = p + strcspn(p, "\r\n");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == p)
		client_copy_text("(empty response)", 16, buf, len);
	else
		client_copy_text(p, (size_t)(end - p), buf, len);
cleanup:
	cJSON_Delete(root);
}
