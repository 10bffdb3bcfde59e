#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>
#include "server/server.h"
#include "server/api.h"
#include "util/diag.h"

#define CERT_MAX (1u << 20)
#define NCLASS 6   /* status classes 1xx..5xx, index 0 unused */
#define NUPLOAD 5
/* Descriptors kept back from the connection limit: the database (writer,
 * readers and their WAL files), the listening socket, epoll, the
 * inter-thread pipe, logs. */
#define FD_RESERVE 64
#define REAP_EVERY_MS 50
#define DISCARD_MIN (64u << 10)
/* At most this many closes a round: closing thousands of connections at
 * once would hold the event threads up for everyone else. */
#define REAP_BATCH 250
/* Event threads: each accepts and reads its share of the connections. */
#define EVENT_THREADS 2
/* Half-closed connections looked at per reaper round. */
#define HUP_BATCH 256

/* Where a connection is, for the deadlines: waiting for (the rest of) a
 * request's headers, receiving its body, or being answered. */
enum phase { PH_IDLE, PH_BODY, PH_BUSY };
enum { CLOSE_HEADER, CLOSE_BODY, CLOSE_EVICTED, CLOSE_REFUSED, CLOSE_HALF,
       NCLOSE };
static const char *const close_reasons[NCLOSE] = {
	"header_timeout", "body_timeout", "evicted", "refused", "half_closed",
};
#define PEER_BUCKETS 4096

/* A client address: its connections not yet shut, and all of them (the
 * entry goes with the last).  Guarded by s->clock. */
struct peer {
	unsigned char addr[16];
	size_t len;            /* 4 (IPv4, also v4-mapped IPv6) or 16 */
	size_t n, refs;
	uint32_t hash;
	struct peer *next;
};

/* One open connection, in s->head..tail ordered by SINCE (moved to the
 * tail on every change of phase).  Guarded by s->clock. */
struct track {
	int fd;
	enum phase phase;
	bool shut;             /* shutdown(2) done, libmicrohttpd closes it */
	unsigned hup;          /* reaper rounds seen half-closed, idle, drained */
	uint64_t since;        /* ms, monotonic: when PHASE began */
	struct peer *peer;
	struct track *prev, *next;
};

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
	/* The event threads' own read connection (token lookups), so that
	 * they never wait for a reader the workers hold. */
	pthread_mutex_t evlock;
	struct cf_db *evdb;
	/* Open connections and their deadlines (reaper thread). */
	pthread_mutex_t clock;
	pthread_cond_t cwake;
	struct track *head, *tail;
	size_t nconns, nshut;   /* open; of them shut, closing */
	struct peer *peers[PEER_BUCKETS];
	int hupfd;              /* epoll: which connections the client shut */
	unsigned conn_limit, evict_at;
	uint64_t header_ms, body_ms;
	bool reaper_on, reaper_stop;
	pthread_t reaper;
	unsigned long long closed[NCLOSE];
	/* Complete requests waiting for a worker. */
	pthread_mutex_t qlock;
	pthread_cond_t qwake;
	struct conn *qhead, *qtail;
	pthread_t *workers;
	size_t nworkers;
	bool stopping;
};

/* Per-request state across libmicrohttpd's calls, made when the request
 * line has arrived (on_uri). */
struct conn {
	enum { RQ_NEW, RQ_BODY, RQ_QUEUED, RQ_DONE } state;
	const struct cf_api_route *route;
	struct cf_api_req rq;
	struct cf_db_token tok;
	const char *token;     /* the Authorization header's, in MHD's memory */
	struct MHD_Connection *c;
	struct cf_api_reply rp; /* a worker's answer, sent after the resume */
	char *body;
	size_t len, cap, dropped;
	bool too_big;
	bool raw_nul, raw_slash; /* the request line had %00 / %2F */
	struct timespec t0;
	size_t slot;
	struct conn *qnext;
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
	pthread_mutex_lock(&s->clock);
	size_t open = s->nconns;
	unsigned long long closed[NCLOSE];
	memcpy(closed, s->closed, sizeof(closed));
	pthread_mutex_unlock(&s->clock);
	ok = ok && text_add(&t, "# HELP cpufleet_http_connections Connections "
			    "open now.\n"
			    "# TYPE cpufleet_http_connections gauge\n"
			    "cpufleet_http_connections %zu\n"
			    "# HELP cpufleet_http_connections_limit Connections "
			    "the server accepts at most.\n"
			    "# TYPE cpufleet_http_connections_limit gauge\n"
			    "cpufleet_http_connections_limit %u\n"
			    "# HELP cpufleet_http_connections_closed_total "
			    "Connections the server closed: headers or body not "
			    "received in time, idle when the table was nearly "
			    "full, refused then to a client holding half of "
			    "it, or shut by the client before a whole request.\n"
			    "# TYPE cpufleet_http_connections_closed_total "
			    "counter\n", open, s->conn_limit);
	for (size_t i = 0; i < NCLOSE; i++)
		ok = ok && text_add(&t, "cpufleet_http_connections_closed_total"
				    "{reason=\"%s\"} %llu\n", close_reasons[i],
				    closed[i]);
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

/* The first byte of P[0..N) that is not UTF-8 (RFC 3629: shortest form,
 * no surrogates) or is a control character, else N; *CTRL tells which of
 * the two it was.  JSON text (RFC 8259) may hold tab, CR, LF and DEL
 * unescaped; other text none of them. */
static size_t text_bad_at(const char *p, size_t n, bool json, bool *ctrl)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, len, k;
	uint32_t cp, min;

	*ctrl = false;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (json ? c < 0x20 && c != '\t' && c != '\n' &&
				   c != '\r' : c < 0x20 || c == 0x7f) {
				*ctrl = true;
				return i;
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
			return i;
		}
		if (n - i < len)
			return i;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

/* JSON text is UTF-8 with control characters only escaped (RFC 8259):
 * any other request body is refused before a handler sees it, so nothing
 * stored and served back later can be invalid JSON text. */
static bool body_text_ok(const char *p, size_t n, struct cf_api_reply *rp)
{
	bool ctrl;
	size_t i = text_bad_at(p, n, true, &ctrl);

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
	if (text_bad_at(url, n, false, &ctrl) != n) {
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
	/* The event threads' own connection: they must never wait for one of
	 * the readers the workers hold. */
	pthread_mutex_lock(&s->evlock);
	err = cf_db_token_lookup(s->evdb, tok, &st->tok);
	pthread_mutex_unlock(&s->evlock);
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- connections and their deadlines ---- */

static void track_unlink(struct cf_server *s, struct track *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		s->tail = t->prev;
	t->prev = t->next = NULL;
}

static void track_append(struct cf_server *s, struct track *t)
{
	t->prev = s->tail;
	t->next = NULL;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
}

/* Ends connection T: shutdown(2) makes libmicrohttpd's next read see the
 * end, and it closes the connection its own way (freeing everything, then
 * calling on_connection, which unlinks T before the descriptor is closed:
 * T->fd is always still ours here).  Under s->clock. */
static void track_shut(struct cf_server *s, struct track *t, int why)
{
	if (t->shut)
		return;
	t->shut = true;
	shutdown(t->fd, SHUT_RDWR);
	s->nshut++;
	if (t->peer)
		t->peer->n--;
	s->closed[why]++;
}

/* ADDR's key: the IPv4 address (also when v4-mapped in IPv6), else the
 * IPv6 one; false for other families. */
static bool peer_key(const struct sockaddr *addr, unsigned char key[16],
		     size_t *len)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };
	const unsigned char *b;

	if (!addr)
		return false;
	if (addr->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)addr)->
		       sin_addr, 4);
		*len = 4;
		return true;
	}
	if (addr->sa_family != AF_INET6)
		return false;
	b = ((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr.s6_addr;
	if (!memcmp(b, mapped, sizeof(mapped))) {
		memcpy(key, b + 12, 4);
		*len = 4;
	} else {
		memcpy(key, b, 16);
		*len = 16;
	}
	return true;
}

/* ADDR's entry, made when MAKE (NULL without it, or out of memory).
 * Under s->clock. */
static struct peer *peer_find(struct cf_server *s,
			      const struct sockaddr *addr, bool make)
{
	unsigned char key[16];
	size_t len;
	uint32_t h = 2166136261u;  /* FNV-1a */
	struct peer *p;

	if (!peer_key(addr, key, &len))
		return NULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	for (p = s->peers[h % PEER_BUCKETS]; p; p = p->next)
		if (p->len == len && !memcmp(p->addr, key, len))
			return p;
	if (!make || !(p = calloc(1, sizeof(*p))))
		return NULL;
	memcpy(p->addr, key, len);
	p->len = len;
	p->hash = h;
	p->next = s->peers[h % PEER_BUCKETS];
	s->peers[h % PEER_BUCKETS] = p;
	return p;
}

/* A connection of P closed: the entry goes with its last.  Under
 * s->clock. */
static void peer_release(struct cf_server *s, struct peer *p)
{
	struct peer **pp;

	if (--p->refs)
		return;
	for (pp = &s->peers[p->hash % PEER_BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

static void peers_free(struct cf_server *s)
{
	for (size_t i = 0; i < PEER_BUCKETS; i++)
		while (s->peers[i]) {
			struct peer *p = s->peers[i];
			s->peers[i] = p->next;
			free(p);
		}
}

/* The connection of C enters PHASE now. */
static void track_phase(struct cf_server *s, struct MHD_Connection *c,
			enum phase phase)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct track *t = ci ? ci->socket_context : NULL;

	if (!t)
		return;
	pthread_mutex_lock(&s->clock);
	t->phase = phase;
	t->since = now_ms();
	t->hup = 0;
	track_unlink(s, t);
	track_append(s, t);
	pthread_mutex_unlock(&s->clock);
}

static void on_connection(void *cls, struct MHD_Connection *c,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct cf_server *s = cls;
	struct track *t = *socket_context, *old;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!t)
			return;
		pthread_mutex_lock(&s->clock);
		/* Under the lock, so the reaper never sees T's events after
		 * this; the descriptor is still open. */
		if (s->hupfd >= 0)
			epoll_ctl(s->hupfd, EPOLL_CTL_DEL, t->fd, NULL);
		track_unlink(s, t);
		s->nconns--;
		if (t->shut)
			s->nshut--;
		else if (t->peer)
			t->peer->n--;
		if (t->peer)
			peer_release(s, t->peer);
		pthread_mutex_unlock(&s->clock);
		free(t);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	t = calloc(1, sizeof(*t));
	if (!t || !ci) {
		free(t);
		return;  /* untracked: only libmicrohttpd's timeout ends it */
	}
	t->fd = ci->connect_fd;
	t->phase = PH_IDLE;
	t->since = now_ms();
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	pthread_mutex_lock(&s->clock);
	t->peer = ci ? peer_find(s, ci->client_addr, true) : NULL;
	if (t->peer) {
		t->peer->n++;
		t->peer->refs++;
	}
	track_append(s, t);
	s->nconns++;
	if (s->hupfd >= 0) {
		struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = t };
		epoll_ctl(s->hupfd, EPOLL_CTL_ADD, t->fd, &ev);
	}
	/* Nearly full: the connection idle the longest (the list is in order
	 * of phase start) makes room, so that clients holding connections
	 * without sending requests cannot lock new ones out. */
	if (s->nconns - s->nshut > s->evict_at)
		for (old = s->head; old && old != t; old = old->next)
			if (old->phase == PH_IDLE && !old->shut) {
				track_shut(s, old, CLOSE_EVICTED);
				break;
			}
	pthread_mutex_unlock(&s->clock);
	*socket_context = t;
}

/* The connection limit, over all event threads and not counting the
 * connections already shut (evicted, their close on its way): a flood
 * that evicts as fast as it connects must not lock new clients out while
 * the closes catch up.  libmicrohttpd's own limit, a quarter higher and
 * split between the threads, is the backstop.  Once the table is seven
 * eighths full, a client holding half of what is open gets no more: its
 * new connections are closed at once, which costs the server far less
 * than taking them and evicting others, and leaves the room to everyone
 * else. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
				 socklen_t addrlen)
{
	struct cf_server *s = cls;
	const struct peer *p;
	size_t live;
	bool room;

	(void)addrlen;
	pthread_mutex_lock(&s->clock);
	live = s->nconns - s->nshut;
	room = live < s->conn_limit;
	if (room && live >= s->evict_at &&
	    (p = peer_find(s, addr, false)) != NULL && 2 * p->n >= live)
		room = false;
	if (!room)
		s->closed[CLOSE_REFUSED]++;
	pthread_mutex_unlock(&s->clock);
	return room ? MHD_YES : MHD_NO;
}

/* Ends the connections whose client has shut its side while the server
 * waits for a request: libmicrohttpd 0.9.75 keeps one whose request line
 * never got its end of line (seen with "GET / HTTP/1.1" and a FIN) until
 * the header deadline.  Only once the connection has been waiting for a
 * request, with nothing left unread in the socket, in two rounds in a
 * row: a request that came with the FIN is libmicrohttpd's to answer.
 * Under s->clock, which also guards the epoll set's removals, so every
 * event is of a live track. */
static void reap_half_closed(struct cf_server *s)
{
	struct epoll_event ev[HUP_BATCH];
	int n = epoll_wait(s->hupfd, ev, HUP_BATCH, 0);

	for (int i = 0; i < n; i++) {
		struct track *t = ev[i].data.ptr;
		int unread = 1;

		if (t->shut || t->phase != PH_IDLE ||
		    ioctl(t->fd, FIONREAD, &unread) != 0 || unread != 0) {
			t->hup = 0;
			continue;
		}
		if (++t->hup >= 2)
			track_shut(s, t, CLOSE_HALF);
	}
}

/* Every REAP_EVERY_MS: ends the connections past their deadline (idle or
 * trickling headers, or a body that does not arrive in time).  A slow
 * client cannot hold a connection by sending a byte now and then, as it
 * can against libmicrohttpd's timeout, which counts from the last byte. */
static void *reaper_main(void *arg)
{
	struct cf_server *s = arg;
	struct timespec ts;

	uint64_t first = s->header_ms < s->body_ms ? s->header_ms : s->body_ms;

	pthread_mutex_lock(&s->clock);
	while (!s->reaper_stop) {
		uint64_t now = now_ms();
		unsigned n = 0;

		if (s->hupfd >= 0)
			reap_half_closed(s);
		/* Oldest phase first: past the first connection within both
		 * deadlines, none is late. */
		for (struct track *t = s->head; t && now - t->since > first &&
		     n < REAP_BATCH; t = t->next) {
			if (t->shut)
				continue;
			if (t->phase == PH_IDLE && now - t->since > s->header_ms)
				track_shut(s, t, CLOSE_HEADER);
			else if (t->phase == PH_BODY && now - t->since > s->body_ms)
				track_shut(s, t, CLOSE_BODY);
			else
				continue;
			n++;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAP_EVERY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cwake, &s->clock, &ts);
	}
	pthread_mutex_unlock(&s->clock);
	return NULL;
}

/* ---- requests ---- */

/* The request line, before libmicrohttpd decodes it: the per-request
 * state starts here, remembering what decoding would hide. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *st = calloc(1, sizeof(*st));

	(void)cls;
	(void)c;
	if (!st)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	st->raw_nul = strstr(uri, "%00") != NULL;
	/* In the path: a query argument is no segment. */
	for (const char *p = uri; *p && *p != '?'; p++)
		if (p[0] == '%' && p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
			st->raw_slash = true;
	return st;
}

struct hdr_count {
	unsigned clen, te;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *value)
{
	struct hdr_count *h = cls;

	(void)kind;
	(void)value;
	if (!strcasecmp(key, "Content-Length"))
		h->clen++;
	else if (!strcasecmp(key, "Transfer-Encoding"))
		h->te++;
	return MHD_YES;
}

/* How the body is delimited: one way, announced once, within the limit
 * (RFC 9112 section 6.3: two lengths, or a length beside a transfer
 * coding, are how requests get smuggled past one reader to another), and
 * none at all for the public routes, which take no body and must not let
 * a client without a token hold a connection open with one. */
static bool framing_ok(struct cf_server *s, struct MHD_Connection *c,
		       struct conn *st, struct cf_api_reply *rp)
{
	struct hdr_count h = { 0, 0 };
	const char *cl;

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &h);
	if (h.clen > 1 || (h.clen && h.te)) {
		cf_api_error(rp, 400, "%s", h.clen > 1 ?
			     "Content-Length given more than once" :
			     "both Content-Length and Transfer-Encoding");
		return false;
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (st->route->access == CF_API_PUBLIC &&
	    (h.te || (cl && strspn(cl, "0") != strlen(cl)))) {
		cf_api_error(rp, 413, "%s takes no request body",
			     st->route->pattern);
		return false;
	}
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (*end == '\0' && n > s->max_body) {
			cf_api_error(rp, 413, "body of %llu bytes is over the "
				     "limit of %zu", n, s->max_body);
			return false;
		}
	}
	return true;
}

/* Everything a complete request needs that may wait on the database: run
 * by a worker (or inline while the server stops).  The token is looked up
 * again: one revoked while the body was arriving writes nothing. */
static void run_request(struct cf_server *s, struct conn *st)
{
	struct cf_api_reply *rp = &st->rp;
	struct cf_db_token now;
	struct cf_db *db;
	enum cf_err err;

	if (st->route->access != CF_API_PUBLIC) {
		db = cf_server_reader_get(s);
		err = cf_db_token_lookup(db, st->token, &now);
		cf_server_reader_put(s, db);
		if (err != CF_OK) {
			cf_api_error(rp, err == CF_ENOTFOUND ? 401 : 500, "%s",
				     err == CF_ENOTFOUND ? "unknown or revoked "
				     "token (revoked while the request was "
				     "received)" : "token lookup failed");
			count_refused(s, st);
			goto out;
		}
	}
	st->rq.body = st->body ? st->body : "";
	st->rq.len = st->len;
	if (st->body)
		st->body[st->len] = '\0';
	if (!body_text_ok(st->rq.body, st->rq.len, rp)) {
		count_refused(s, st);
		goto out;
	}
	rp->status = 500;
	st->route->fn(&st->rq, rp);
out:
	account(s, st, rp->status);
	if (rp->status >= 500)
		logf_(s, "%s %s: %u %s", st->rq.method, st->route->pattern,
		      rp->status, rp->body ? rp->body : "");
}

/* Hands ST to the workers, its connection suspended until one has the
 * answer; false when the server is stopping (the caller runs it). */
static bool dispatch(struct cf_server *s, struct conn *st)
{
	pthread_mutex_lock(&s->qlock);
	if (s->stopping || !s->nworkers) {
		pthread_mutex_unlock(&s->qlock);
		return false;
	}
	/* Suspended before a worker can see it: the resume must come after. */
	MHD_suspend_connection(st->c);
	st->state = RQ_QUEUED;
	st->qnext = NULL;
	if (s->qtail)
		s->qtail->qnext = st;
	else
		s->qhead = st;
	s->qtail = st;
	pthread_cond_signal(&s->qwake);
	pthread_mutex_unlock(&s->qlock);
	return true;
}

static void *worker_main(void *arg)
{
	struct cf_server *s = arg;
	struct conn *st;

	pthread_mutex_lock(&s->qlock);
	for (;;) {
		while (!s->qhead && !s->stopping)
			pthread_cond_wait(&s->qwake, &s->qlock);
		if (!s->qhead)
			break;  /* stopping, and nothing left to answer */
		st = s->qhead;
		s->qhead = st->qnext;
		if (!s->qhead)
			s->qtail = NULL;
		pthread_mutex_unlock(&s->qlock);
		run_request(s, st);
		__atomic_store_n(&st->state, RQ_DONE, __ATOMIC_RELEASE);
		MHD_resume_connection(st->c);  /* on_request sends rp */
		pthread_mutex_lock(&s->qlock);
	}
	pthread_mutex_unlock(&s->qlock);
	return NULL;
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
	if (!st)
		return MHD_NO;  /* out of memory at the request line */
	switch (__atomic_load_n(&st->state, __ATOMIC_ACQUIRE)) {
	case RQ_NEW:
		st->state = RQ_BODY;
		st->c = c;
		track_phase(s, c, PH_BODY);
		if (!admit(s, c, url, method, st, &rp))
			goto reply;
		if (!framing_ok(s, c, st, &rp)) {
			count_refused(s, st);
			goto reply;
		}
		st->rq.srv = s;
		st->rq.method = method;
		st->rq.query = query_arg;
		st->rq.conn = c;
		return MHD_YES;
	case RQ_QUEUED:
		return MHD_YES;  /* not reached: suspended until RQ_DONE */
	case RQ_DONE:
		rp = st->rp;
		st->rp.body = NULL;
		goto send;
	case RQ_BODY:
		break;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (st->too_big || st->len + n > s->max_body) {
			/* Read on to answer 413 to a body that ends soon;
			 * one that goes on for another quarter of the limit
			 * (64 KiB at least) is cut. */
			size_t more = s->max_body / 4 > DISCARD_MIN ?
				      s->max_body / 4 : DISCARD_MIN;
			st->too_big = true;
			st->dropped += n;
			return st->dropped > more ? MHD_NO : MHD_YES;
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
	track_phase(s, c, PH_BUSY);
	if (st->too_big) {
		cf_api_error(&rp, 413, "body over the limit of %zu bytes",
			     s->max_body);
		count_refused(s, st);
		goto reply;
	}
	if (dispatch(s, st))
		return MHD_YES;
	run_request(s, st);
	rp = st->rp;
	st->rp.body = NULL;
	goto send;
reply:
	account(s, st, rp.status);
	if (rp.status >= 500)
		logf_(s, "%s %s: %u %s", method, url, rp.status,
		      rp.body ? rp.body : "");
send:
	track_phase(s, c, PH_BUSY);
	ret = send_reply(c, &rp);
	free(rp.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct cf_server *s = cls;
	struct conn *st = *con_cls;

	(void)toe;
	/* Ready for the next request on this connection: its headers are
	 * due within the header deadline. */
	track_phase(s, c, PH_IDLE);
	if (st) {
		free(st->body);
		free(st->rp.body);
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

/* The connection limit: O's (or the default), less what RLIMIT_NOFILE
 * leaves once the database and the rest have their descriptors, and room
 * for libmicrohttpd's backstop a quarter above it. */
static unsigned conn_limit(const struct cf_server_opts *o, size_t readers)
{
	unsigned want = o->max_conns ? o->max_conns : CF_SERVER_CONNS_DEFAULT;
	struct rlimit rl;
	rlim_t spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	spare = rl.rlim_cur > FD_RESERVE + 4 * readers ?
		rl.rlim_cur - FD_RESERVE - 4 * readers : 16;
	spare = spare / 5 * 4;
	return spare < want ? (unsigned)spare : want;
}

static void start_threads(struct cf_server *s, size_t n)
{
	s->workers = calloc(n, sizeof(*s->workers));
	for (size_t i = 0; s->workers && i < n; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			break;
		s->nworkers++;
	}
	s->reaper_on = pthread_create(&s->reaper, NULL, reaper_main, s) == 0;
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
	pthread_mutex_init(&s->clock, NULL);
	pthread_cond_init(&s->cwake, NULL);
	pthread_mutex_init(&s->evlock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qwake, NULL);
	/* Without it, only the header deadline ends a half-closed one. */
	s->hupfd = epoll_create1(EPOLL_CLOEXEC);
	s->max_body = o->max_body ? o->max_body : CF_SERVER_BODY_MAX_DEFAULT;
	s->header_ms = 1000u * (uint64_t)(o->header_timeout_s ?
		o->header_timeout_s : CF_SERVER_HEADER_TIMEOUT_DEFAULT);
	s->body_ms = 1000u * (uint64_t)(o->body_timeout_s ?
		o->body_timeout_s : CF_SERVER_BODY_TIMEOUT_DEFAULT);
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
	err = cf_db_open(o->db_path, true, &s->evdb, d);
	if (err != CF_OK)
		goto cleanup;
	s->conn_limit = conn_limit(o, s->nreaders);
	s->evict_at = s->conn_limit - s->conn_limit / 8;
	/* EVENT_THREADS event threads (epoll) for every connection; the
	 * workers, one per reader, answer the requests they suspend. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME;
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
	start_threads(s, s->nreaders);
	if (s->nworkers != s->nreaders || !s->reaper_on) {
		err = cf_diag_set(d, CF_ENOMEM, "server: cannot start threads");
		goto cleanup;
	}
	s->mhd = MHD_start_daemon(
		flags, 0, on_accept, s, on_request, s,
		/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: 1 would set
		 * SO_REUSEPORT, letting a second server bind the same port and
		 * take half the clients.  The default (SO_REUSEADDR) still
		 * allows a restart while old connections are in TIME_WAIT. */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)EVENT_THREADS,
		MHD_OPTION_CONNECTION_LIMIT,
		s->conn_limit + s->conn_limit / 4 + EVENT_THREADS,
		/* A stalled client while its answer is sent; the header and
		 * body deadlines are the reaper's. */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
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
	logf_(s, "up to %u connections (room made from %u on), headers due "
	      "in %llu s, bodies in %llu s", s->conn_limit, s->evict_at,
	      (unsigned long long)(s->header_ms / 1000),
	      (unsigned long long)(s->body_ms / 1000));
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
	/* The workers answer what is queued (and resume its connections);
	 * from here on the event thread answers requests itself, so no
	 * connection is left suspended when the daemon stops. */
	pthread_mutex_lock(&s->qlock);
	s->stopping = true;
	pthread_cond_broadcast(&s->qwake);
	pthread_mutex_unlock(&s->qlock);
	for (size_t i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->reaper_on) {
		pthread_mutex_lock(&s->clock);
		s->reaper_stop = true;
		pthread_cond_signal(&s->cwake);
		pthread_mutex_unlock(&s->clock);
		pthread_join(s->reaper, NULL);
	}
	cf_writer_stop(s->writer);
	for (size_t i = 0; s->readers && i < s->nreaders; i++)
		cf_db_close(s->readers[i]);
	cf_db_close(s->evdb);
	peers_free(s);
	if (s->hupfd >= 0)
		close(s->hupfd);
	free(s->readers);
	free(s->free_readers);
	free(s->workers);
	free(s->rst);
	free(s->cert);
	free(s->key);
	pthread_mutex_destroy(&s->rlock);
	pthread_cond_destroy(&s->rfree);
	pthread_mutex_destroy(&s->clock);
	pthread_cond_destroy(&s->cwake);
	pthread_mutex_destroy(&s->evlock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qwake);
	free(s);
}
