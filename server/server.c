#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>
#include "server/server.h"
#include "server/api.h"
#include "util/diag.h"

#define CERT_MAX (1u << 20)
#define NCLASS 6   /* status classes 1xx..5xx, index 0 unused */
#define NUPLOAD 5

static const char *const upload_results[NUPLOAD] = {
	"new", "seen_again", "known", "rejected", "failed",
};

struct route_stats {
	unsigned long long count[NCLASS];
	unsigned long long usec;
};

struct cf_server {
	struct MHD_Daemon *mhd;
	struct cf_writer *writer;
	pthread_mutex_t rlock;
	pthread_cond_t rfree;
	struct cf_db **readers;
	size_t nreaders, nfree;
	struct cf_db **free_readers;
	size_t max_body;
	unsigned port;
	cf_server_log_fn log;
	void *log_ctx;
	char *cert, *key;
	/* One slot per route plus one for requests that matched none. */
	struct route_stats *rst;
	unsigned long long uploads[NUPLOAD];
};

/* Per-request state across libmicrohttpd's calls. */
struct conn {
	const struct cf_api_route *route;
	struct cf_api_req rq;
	struct cf_db_token tok;
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec t0;
	size_t slot;
};

static void logf_(struct cf_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct cf_server *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_ctx, msg);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct cf_server *s = cls;
	char msg[512];
	size_t n;

	if (!s->log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	s->log(s->log_ctx, msg);
}

void cf_server_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

struct cf_db *cf_server_reader_get(struct cf_server *s)
{
	struct cf_db *db;

	pthread_mutex_lock(&s->rlock);
	while (s->nfree == 0)
		pthread_cond_wait(&s->rfree, &s->rlock);
	db = s->free_readers[--s->nfree];
	pthread_mutex_unlock(&s->rlock);
	return db;
}

void cf_server_reader_put(struct cf_server *s, struct cf_db *db)
{
	pthread_mutex_lock(&s->rlock);
	s->free_readers[s->nfree++] = db;
	pthread_cond_signal(&s->rfree);
	pthread_mutex_unlock(&s->rlock);
}

struct cf_writer *cf_server_writer(struct cf_server *s)
{
	return s->writer;
}

void cf_server_count_upload(struct cf_server *s, const char *result)
{
	for (size_t i = 0; i < NUPLOAD; i++)
		if (!strcmp(result, upload_results[i]))
			__atomic_fetch_add(&s->uploads[i], 1, __ATOMIC_RELAXED);
}

/* Appends to a growing text buffer; false when out of memory. */
struct text {
	char *p;
	size_t len, cap;
};

static bool text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p ? t->p + t->len : NULL,
			      t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if (t->p && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return true;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(t->p, cap);
		if (!p)
			return false;
		t->p = p;
		t->cap = cap;
	}
}

char *cf_server_metrics_text(struct cf_server *s)
{
	struct text t = { 0 };
	struct cf_writer_stats ws;
	bool ok = true;

	ok = ok && text_add(&t, "# HELP cpufleet_http_requests_total HTTP "
			    "requests answered, by route and status class.\n"
			    "# TYPE cpufleet_http_requests_total counter\n");
	for (size_t r = 0; r <= cf_api_nroutes; r++) {
		const char *name = r < cf_api_nroutes ? cf_api_routes[r].name
						      : "unmatched";
		for (size_t c = 1; c < NCLASS; c++) {
			unsigned long long v = __atomic_load_n(&s->rst[r].count[c],
							       __ATOMIC_RELAXED);
			if (v)
				ok = ok && text_add(&t,
					"cpufleet_http_requests_total{route=\"%s\","
					"code=\"%zuxx\"} %llu\n", name, c, v);
		}
	}
	ok = ok && text_add(&t, "# HELP cpufleet_http_request_seconds_total "
			    "Time spent answering, by route.\n"
			    "# TYPE cpufleet_http_request_seconds_total counter\n");
	for (size_t r = 0; r < cf_api_nroutes; r++) {
		unsigned long long us = __atomic_load_n(&s->rst[r].usec,
							__ATOMIC_RELAXED);
		if (us)
			ok = ok && text_add(&t, "cpufleet_http_request_seconds_total"
					    "{route=\"%s\"} %llu.%06llu\n",
					    cf_api_routes[r].name, us / 1000000,
					    us % 1000000);
	}
	ok = ok && text_add(&t, "# HELP cpufleet_reports_uploaded_total Report "
			    "uploads by outcome.\n"
			    "# TYPE cpufleet_reports_uploaded_total counter\n");
	for (size_t i = 0; i < NUPLOAD; i++)
		ok = ok && text_add(&t, "cpufleet_reports_uploaded_total{result="
				    "\"%s\"} %llu\n", upload_results[i],
				    __atomic_load_n(&s->uploads[i],
						    __ATOMIC_RELAXED));
	cf_writer_stats(s->writer, &ws);
	ok = ok && text_add(&t,
		"# HELP cpufleet_db_write_batches_total Transactions committed by "
		"the writer (group commit).\n"
		"# TYPE cpufleet_db_write_batches_total counter\n"
		"cpufleet_db_write_batches_total %llu\n"
		"# HELP cpufleet_db_write_jobs_total Writes run by the writer.\n"
		"# TYPE cpufleet_db_write_jobs_total counter\n"
		"cpufleet_db_write_jobs_total %llu\n"
		"# HELP cpufleet_db_write_failures_total Writes undone "
		"(refused or failed).\n"
		"# TYPE cpufleet_db_write_failures_total counter\n"
		"cpufleet_db_write_failures_total %llu\n"
		"# HELP cpufleet_db_commit_failures_total Commits that failed.\n"
		"# TYPE cpufleet_db_commit_failures_total counter\n"
		"cpufleet_db_commit_failures_total %llu\n",
		ws.batches, ws.jobs, ws.failed, ws.commits_failed);
	if (!ok) {
		free(t.p);
		return NULL;
	}
	return t.p;
}

void cf_api_error(struct cf_api_reply *rp, unsigned status, const char *fmt,
		  ...)
{
	char msg[CF_DIAG_MAX + 128];
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rp->body);
	rp->status = status;
	rp->ctype = NULL;
	rp->body = NULL;
	if (o && cJSON_AddStringToObject(o, "error", msg))
		rp->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}

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

static const char *query_arg(void *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_reply(struct MHD_Connection *c,
				  struct cf_api_reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = rp->body;
	size_t len;

	if (!body) {
		/* Out of memory building the reply: still answer. */
		static const char oom[] = "{\"error\":\"out of memory\"}";
		rp->status = 500;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1,
						       (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		len = strlen(body);
		if (len && body[len - 1] != '\n' && !rp->ctype) {
			char *nb = realloc(body, len + 2);
			if (nb) {
				body = nb;
				body[len++] = '\n';
				body[len] = '\0';
			}
		}
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
	}
	rp->body = NULL;
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				rp->ctype ? rp->ctype : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void account(struct cf_server *s, struct conn *st, unsigned status)
{
	struct timespec t1;
	size_t cls = status / 100;
	unsigned long long us;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (unsigned long long)(t1.tv_sec - st->t0.tv_sec) * 1000000ull +
	     (unsigned long long)((t1.tv_nsec - st->t0.tv_nsec) / 1000);
	if (cls >= NCLASS)
		cls = 5;
	__atomic_fetch_add(&s->rst[st->slot].count[cls], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->rst[st->slot].usec, us, __ATOMIC_RELAXED);
}

/* JSON text is UTF-8 with control characters only escaped (RFC 8259):
 * any other request body is refused before a handler sees it, so nothing
 * stored and served back later can be invalid JSON text. */
static bool body_text_ok(const char *p, size_t n, struct cf_api_reply *rp)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, len, k;
	uint32_t cp, min;

	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
				cf_api_error(rp, 400, "request body: control "
					     "character 0x%02x at byte %zu (JSON "
					     "allows them only escaped)", c, i);
				return false;
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (n - i < len)
			goto bad;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += len;
	}
	return true;
bad:
	cf_api_error(rp, 400, "request body: invalid UTF-8 at byte %zu", i);
	return false;
}

/* An upload refused before its handler ran still counts as rejected. */
static void count_refused(struct cf_server *s, const struct conn *st)
{
	if (st->route && !strcmp(st->route->name, "reports"))
		cf_server_count_upload(s, "rejected");
}

/* Route, method and credentials, from the headers alone. */
static bool admit(struct cf_server *s, struct MHD_Connection *c,
		  const char *url, const char *method, struct conn *st,
		  struct cf_api_reply *rp)
{
	bool path_known = false, too_long = false;
	const char *auth, *tok;
	struct cf_db *db;
	enum cf_err err;

	st->slot = cf_api_nroutes;
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
	db = cf_server_reader_get(s);
	err = cf_db_token_lookup(db, tok, &st->tok);
	cf_server_reader_put(s, db);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct cf_server *s = cls;
	struct conn *st = *con_cls;
	struct cf_api_reply rp = { 0 };
	enum MHD_Result ret;

	(void)version;
	if (!st) {
		const char *cl;
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->t0);
		*con_cls = st;
		if (!admit(s, c, url, method, st, &rp))
			goto reply;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 "Content-Length");
		if (cl) {
			char *end;
			unsigned long long n = strtoull(cl, &end, 10);
			if (*end == '\0' && n > s->max_body) {
				cf_api_error(&rp, 413, "body of %llu bytes is "
					     "over the limit of %zu", n,
					     s->max_body);
				count_refused(s, st);
				goto reply;
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (st->too_big || st->len + n > s->max_body) {
			st->too_big = true;
			return MHD_YES;
		}
		if (st->len + n + 1 > st->cap) {
			size_t cap = st->cap ? st->cap : 16384;
			while (cap < st->len + n + 1)
				cap *= 2;
			if (cap > s->max_body + 1)
				cap = s->max_body + 1;
			char *p = realloc(st->body, cap);
			if (!p)
				return MHD_NO;
			st->body = p;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload_data, n);
		st->len += n;
		return MHD_YES;
	}
	if (st->too_big) {
		cf_api_error(&rp, 413, "body over the limit of %zu bytes",
			     s->max_body);
		count_refused(s, st);
		goto reply;
	}
	st->rq.srv = s;
	st->rq.method = method;
	st->rq.query = query_arg;
	st->rq.conn = c;
	st->rq.body = st->body ? st->body : "";
	st->rq.len = st->len;
	if (st->body)
		st->body[st->len] = '\0';
	if (!body_text_ok(st->rq.body, st->rq.len, &rp)) {
		count_refused(s, st);
		goto reply;
	}
	rp.status = 500;
	st->route->fn(&st->rq, &rp);
reply:
	account(s, st, rp.status);
	if (rp.status >= 500)
		logf_(s, "%s %s: %u %s", method, url, rp.status,
		      rp.body ? rp.body : "");
	ret = send_reply(c, &rp);
	free(rp.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn *st = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (st) {
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

static enum cf_err read_pem(const char *path, char **out, struct cf_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	enum cf_err err = CF_EIO;

	if (!f)
		return cf_diag_set(d, CF_EIO, "%s: %s", path, strerror(errno));
	buf = malloc(CERT_MAX + 1);
	if (!buf) {
		err = cf_diag_set(d, CF_ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	n = fread(buf, 1, CERT_MAX + 1, f);
	if (ferror(f) || n == 0 || n > CERT_MAX) {
		err = cf_diag_set(d, CF_EIO, "%s: %s", path,
				  n > CERT_MAX ? "larger than 1 MiB"
					       : "empty or unreadable");
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	err = CF_OK;
cleanup:
	free(buf);
	fclose(f);
	return err;
}

/* "host:port" or "[v6]:port" into an address. */
static enum cf_err parse_listen(const char *listen, struct addrinfo **ai,
				struct cf_diag *d)
{
	char host[256], port[16];
	const char *colon, *h = listen;
	size_t hl;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	int rc;

	colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: expected "
				   "HOST:PORT", listen);
	hl = (size_t)(colon - listen);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return cf_diag_set(d, CF_EINVAL, "--listen %s: expected "
				   "HOST:PORT", listen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	if (strtol(port, NULL, 10) > 65535)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: port over 65535",
				   listen);
	rc = getaddrinfo(host, port, &hints, ai);
	if (rc != 0)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: %s", listen,
				   gai_strerror(rc));
	return CF_OK;
}

enum cf_err cf_server_start(const struct cf_server_opts *o,
			    struct cf_server **out, struct cf_diag *d)
{
	struct cf_server *s = calloc(1, sizeof(*s));
	struct addrinfo *ai = NULL;
	struct cf_db *wdb = NULL;
	enum cf_err err = CF_ENOMEM;
	unsigned flags;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	if (!s)
		return cf_diag_set(d, CF_ENOMEM, "server: out of memory");
	pthread_mutex_init(&s->rlock, NULL);
	pthread_cond_init(&s->rfree, NULL);
	s->max_body = o->max_body ? o->max_body : CF_SERVER_BODY_MAX_DEFAULT;
	s->log = o->log;
	s->log_ctx = o->log_ctx;
	s->rst = calloc(cf_api_nroutes + 1, sizeof(*s->rst));
	if (!s->rst)
		goto cleanup;
	if ((o->cert_path == NULL) != (o->key_path == NULL)) {
		err = cf_diag_set(d, CF_EINVAL, "HTTPS needs both --cert and --key");
		goto cleanup;
	}
	err = parse_listen(o->listen, &ai, d);
	if (err != CF_OK)
		goto cleanup;
	err = cf_db_open(o->db_path, false, &wdb, d);
	if (err != CF_OK)
		goto cleanup;
	err = cf_writer_start(wdb, &s->writer, d);
	wdb = NULL;
	if (err != CF_OK)
		goto cleanup;
	s->nreaders = o->readers ? o->readers : 8;
	s->readers = calloc(s->nreaders, sizeof(*s->readers));
	s->free_readers = calloc(s->nreaders, sizeof(*s->free_readers));
	if (!s->readers || !s->free_readers) {
		err = cf_diag_set(d, CF_ENOMEM, "server: out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < s->nreaders; i++) {
		err = cf_db_open(o->db_path, true, &s->readers[i], d);
		if (err != CF_OK)
			goto cleanup;
		s->free_readers[s->nfree++] = s->readers[i];
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
		MHD_USE_POLL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->cert_path) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			err = cf_diag_set(d, CF_EINVAL, "this libmicrohttpd has "
					  "no TLS support");
			goto cleanup;
		}
		err = read_pem(o->cert_path, &s->cert, d);
		if (err == CF_OK)
			err = read_pem(o->key_path, &s->key, d);
		if (err != CF_OK)
			goto cleanup;
		flags |= MHD_USE_TLS;
	}
	s->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: 1 would set
		 * SO_REUSEPORT, letting a second server bind the same port and
		 * take half the clients.  The default (SO_REUSEADDR) still
		 * allows a restart while old connections are in TIME_WAIT. */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)(o->max_conns ? o->max_conns : 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
		s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
		MHD_OPTION_HTTPS_MEM_KEY, s->key,
		MHD_OPTION_END);
	if (!s->mhd) {
		err = cf_diag_set(d, CF_EIO, "cannot listen on %s (in use, or "
				  "a bad certificate or key)", o->listen);
		goto cleanup;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	s = NULL;
	err = CF_OK;
cleanup:
	if (ai)
		freeaddrinfo(ai);
	cf_db_close(wdb);
	cf_server_stop(s);
	return err;
}

unsigned cf_server_port(const struct cf_server *s)
{
	return s->port;
}

void cf_server_stop(struct cf_server *s)
{
	if (!s)
		return;
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	cf_writer_stop(s->writer);
	for (size_t i = 0; s->readers && i < s->nreaders; i++)
		cf_db_close(s->readers[i]);
	free(s->readers);
	free(s->free_readers);
	free(s->rst);
	free(s->cert);
	free(s->key);
	pthread_mutex_destroy(&s->rlock);
	pthread_cond_destroy(&s->rfree);
	free(s);
}
