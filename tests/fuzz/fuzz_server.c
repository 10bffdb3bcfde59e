/* libFuzzer target: the HTTP request handling of `cpufleet server` (URL,
 * headers, bodies) through its public start/stop API.  One server per
 * process (LLVMFuzzerInitialize): 127.0.0.1 port 0, a throw-away SQLite
 * database (in /dev/shm when there is one: fsync is free there), tokens
 * made with the database API, and an example fleet uploaded over HTTP so
 * that reads, pools, baselines and checks have something to work on.
 *
 * An input is one request, as text (seeds: tests/fuzz/corpus/server):
 *     WHO METHOD TARGET\n      WHO: admin, reader, agent (host n1-01),
 *     Name: value\n            revoked (a revoked admin token), - (none),
 *     ...                      anything else is sent as the bearer token
 *     \n
 *     body
 * The target sends it as a well-formed HTTP/1.1 request (bytes outside
 * 0x21-0x7e in TARGET %-encoded, header names reduced to token characters,
 * control characters dropped from values, Content-Length of the body; the
 * input's own Authorization, Content-Length, Transfer-Encoding and Host
 * are left out; header fields past HEADERS_MAX bytes are left out too:
 * the README's limit, past which the server may close without a reply)
 * on a kept-alive loopback connection, followed by
 * GET /v1/health on the same connection.  An input whose first line is
 * RAW sends the bytes after it verbatim on a new connection, then closes
 * its writing side.
 *
 * Oracles, each a rule of HTTP or of the README's endpoint table, not
 * the server's route table:
 *  - every reply is a well-formed HTTP/1.1 response (RFC 9112: status
 *    line, header fields, the body its Content-Length or chunked coding
 *    gives); a JSON reply parses, and an error one is {"error": "..."};
 *  - no 5xx, except 501 to a method RFC 9110 does not define (§9.1: an
 *    unrecognised method) and, to RAW input, 505 (an HTTP version the
 *    server refuses, §15.6.6);
 *  - a 2xx only for a request the README's table allows its token: no
 *    token, a revoked or unknown one only GET /v1/health, /metrics and
 *    the web page (/, /web/NAME); a reader only the reads, /v1/check
 *    and a baseline it does not publish;
 *    an agent only uploads of its own host's reports; nobody a path the
 *    table lacks;
 *  - a well-formed request gets a reply within 10 s;
 *  - afterwards the server still answers GET /v1/health with 200 and
 *    "status": "ok" (pipelined behind the request, so a server that
 *    misreads where a request ends answers it wrongly). */
#include <ctype.h>
/* The header section the README says the server always answers (24 KiB):
 * libmicrohttpd 0.9.75 keeps a connection's headers and its reply in one
 * 32 KiB pool, answers 431 past it and may close without a reply just
 * under it (found here: 15 fields, 31.5 KiB). */
#define HEADERS_MAX (24u << 10)
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "db/db.h"
#include "profiles/doc.h"
#include "server/server.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TIMEOUT_MS 10000
#define BODY_MAX (64u << 20)     /* a reply larger than this is malformed */
#define AGENT_HOST "n1-01"

enum role { R_NONE = 1, R_AGENT = 2, R_READER = 4, R_ADMIN = 8 };
#define R_ANY (R_NONE | R_AGENT | R_READER | R_ADMIN)

/* The README's endpoint table ("The central service"): who may get a
 * 2xx.  A pattern's {} is one non-empty path segment. */
static const struct doc_route {
	const char *method, *pattern;
	unsigned roles;
} doc_routes[] = {
	{ "GET", "/v1/health", R_ANY },
	{ "GET", "/metrics", R_ANY },
	{ "POST", "/v1/reports", R_AGENT | R_ADMIN },
	{ "GET", "/v1/hosts", R_READER | R_ADMIN },
	{ "GET", "/v1/hosts/{}", R_READER | R_ADMIN },
	{ "PUT", "/v1/hosts/{}/labels", R_ADMIN },
	{ "GET", "/v1/features/{}", R_READER | R_ADMIN },
	{ "GET", "/v1/pools", R_READER | R_ADMIN },
	{ "GET", "/v1/pools/{}", R_READER | R_ADMIN },
	{ "PUT", "/v1/pools/{}", R_ADMIN },
	{ "DELETE", "/v1/pools/{}", R_ADMIN },
	{ "POST", "/v1/pools/{}/baseline", R_READER | R_ADMIN },
	{ "GET", "/v1/pools/{}/matrix", R_READER | R_ADMIN },
	{ "POST", "/v1/pools/{}/what-if", R_READER | R_ADMIN },
	{ "GET", "/v1/profiles", R_READER | R_ADMIN },
	{ "GET", "/v1/profiles/{}", R_READER | R_ADMIN },
	{ "PUT", "/v1/profiles/{}", R_ADMIN },
	{ "GET", "/v1/profiles/{}/versions", R_READER | R_ADMIN },
	{ "GET", "/v1/profiles/{}/versions/{}", R_READER | R_ADMIN },
	{ "POST", "/v1/check", R_READER | R_ADMIN },
	{ "GET", "/v1/events", R_READER | R_ADMIN },
	{ "GET", "/v1/audit", R_ADMIN },
	{ "GET", "/", R_ANY },
	{ "GET", "/web/{}", R_ANY },
};

/* RFC 9110 §9 and RFC 5789 (PATCH): the methods HTTP defines. */
static const char *const std_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
	"PATCH", NULL,
};

static struct {
	struct cf_server *srv;
	unsigned port;
	char dir[256], db[300];
	char admin[CF_DB_TOKEN_MAX], reader[CF_DB_TOKEN_MAX];
	char agent[CF_DB_TOKEN_MAX], revoked[CF_DB_TOKEN_MAX];
} G;

/* Bytes received on a connection and not yet consumed. */
struct rbuf {
	char *p;
	size_t len, cap;
};

/* A kept-alive connection (fd -1: none yet). */
struct conn {
	int fd;
	struct rbuf b;
};

/* Requests go on REQ; a reply that ends it (the server closes after
 * refusing a request before its body) costs a new connection.  The health
 * check rides behind the request when REQ stays open, else goes on HC,
 * which only ever carries it. */
static struct conn req = { .fd = -1 }, hc = { .fd = -1 };

struct resp {
	unsigned status;
	bool close;               /* the server closes after it */
	char ctype[128];
	char *body;               /* NUL-terminated copy */
	size_t blen;
};

/* What the judge needs to know of a request. */
struct req {
	const char *method;
	const char *target;       /* as sent */
	unsigned role;
	bool raw, expect;
	bool head;                /* HEAD: a reply without its body */
};

static void fail(const char *what, const char *detail)
{
	fz_require(false, what, detail);
}

/* ---- connections ---- */

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)G.port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		fail("socket", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		fail("the server accepts connections", strerror(errno));
	return fd;
}

static void hang_up(int *fd, struct rbuf *b)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	b->len = 0;
}

static void conn_close(struct conn *c)
{
	hang_up(&c->fd, &c->b);
}

/* False when the server has closed the connection. */
static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads more into B: bytes read, 0 at the end of the stream, -1 on a
 * reset, -2 when nothing came within TIMEOUT_MS. */
static ssize_t fill(int fd, struct rbuf *b)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (b->cap - b->len < 65536) {
		size_t cap = b->cap ? b->cap * 2 : 131072;
		char *np = realloc(b->p, cap);
		if (!np)
			fail("out of memory", NULL);
		b->p = np;
		b->cap = cap;
	}
	do
		rc = poll(&p, 1, TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -2;
	do
		n = recv(fd, b->p + b->len, b->cap - b->len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	b->len += (size_t)n;
	b->p[b->len] = '\0';
	return n;
}

/* ---- reading a response (RFC 9112) ---- */

enum rr { RR_OK, RR_EOF, RR_BAD, RR_TIMEOUT };

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Makes B hold at least N bytes; false at the end of the stream. */
static enum rr need(int fd, struct rbuf *b, size_t n)
{
	while (b->len < n) {
		ssize_t r = fill(fd, b);
		if (r == -2)
			return RR_TIMEOUT;
		if (r <= 0)
			return RR_BAD;
	}
	return RR_OK;
}

static void consume(struct rbuf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	if (b->p)
		b->p[b->len] = '\0';
}

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	while (*list) {
		list += strspn(list, " \t,");
		size_t k = strcspn(list, " \t,;");
		if (k == n && !strncasecmp(list, tok, n))
			return true;
		list += k;
		list += strcspn(list, ",");
	}
	return false;
}

/* The chunked body at B's start (RFC 9112 §7.1) into R. */
static enum rr read_chunked(int fd, struct rbuf *b, struct resp *r,
			    char *why, size_t wl)
{
	size_t pos = 0;
	enum rr e;

	for (;;) {
		char *eol;
		unsigned long long sz;
		while (!(eol = memmem(b->p + pos, b->len - pos, "\r\n", 2))) {
			e = need(fd, b, b->len + 1);
			if (e != RR_OK)
				return e;
		}
		if (strspn(b->p + pos, "0123456789abcdefABCDEF") == 0) {
			snprintf(why, wl, "chunk size is not hex");
			return RR_BAD;
		}
		sz = strtoull(b->p + pos, NULL, 16);
		if (sz > BODY_MAX || r->blen + sz > BODY_MAX) {
			snprintf(why, wl, "chunked body over %u bytes", BODY_MAX);
			return RR_BAD;
		}
		pos = (size_t)(eol - b->p) + 2;
		if (sz == 0)
			break;
		e = need(fd, b, pos + sz + 2);
		if (e != RR_OK)
			return e;
		if (memcmp(b->p + pos + sz, "\r\n", 2) != 0) {
			snprintf(why, wl, "chunk data not followed by CRLF");
			return RR_BAD;
		}
		char *nb = realloc(r->body, r->blen + sz + 1);
		if (!nb)
			fail("out of memory", NULL);
		r->body = nb;
		memcpy(r->body + r->blen, b->p + pos, sz);
		r->blen += sz;
		r->body[r->blen] = '\0';
		pos += sz + 2;
	}
	/* Trailer fields, then an empty line. */
	for (;;) {
		char *eol;
		while (!(eol = memmem(b->p + pos, b->len - pos, "\r\n", 2))) {
			e = need(fd, b, b->len + 1);
			if (e != RR_OK)
				return e;
		}
		size_t n = (size_t)(eol - b->p) - pos;
		pos += n + 2;
		if (n == 0)
			break;
	}
	consume(b, pos);
	if (!r->body)
		r->body = calloc(1, 1);
	return RR_OK;
}

/* One response from B (reading FD for more).  NO_BODY: the request was
 * HEAD.  1xx interim responses are skipped (*INTERIM counts them). */
static enum rr read_response(int fd, struct rbuf *b, bool no_body,
			     struct resp *r, unsigned *interim, char *why,
			     size_t wl)
{
	char *end, *line, *eol;
	long long clen = -1;
	bool chunked = false;
	enum rr e;

	memset(r, 0, sizeof(*r));
	why[0] = '\0';
again:
	while (!(end = memmem(b->p ? b->p : "", b->len, "\r\n\r\n", 4))) {
		ssize_t n;
		if (b->len > 65536) {
			snprintf(why, wl, "no end of header section in 64 KiB");
			return RR_BAD;
		}
		n = fill(fd, b);
		if (n == -2)
			return RR_TIMEOUT;
		if (n <= 0) {
			if (b->len == 0)
				return RR_EOF;
			snprintf(why, wl, "stream ends inside a header section");
			return RR_BAD;
		}
	}
	/* Status line: HTTP/1.x SP 3DIGIT SP reason-phrase. */
	if (b->len < 13 || memcmp(b->p, "HTTP/1.", 7) != 0 ||
	    (b->p[7] != '0' && b->p[7] != '1') || b->p[8] != ' ' ||
	    strspn(b->p + 9, "0123456789") < 3 || b->p[12] != ' ') {
		snprintf(why, wl, "bad status line: %.40s", b->p);
		return RR_BAD;
	}
	r->status = (unsigned)strtoul(b->p + 9, NULL, 10);
	if (r->status < 100 || r->status > 599) {
		snprintf(why, wl, "status %u", r->status);
		return RR_BAD;
	}
	r->close = b->p[7] == '0';
	line = memmem(b->p, (size_t)(end - b->p) + 2, "\r\n", 2);
	for (char *c = b->p + 13; c < line; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			snprintf(why, wl, "control character in the reason phrase");
			return RR_BAD;
		}
	/* Header fields: token ":" OWS value, no bare CR or LF. */
	for (line += 2; line < end + 2; line = eol + 2) {
		char *colon, *v;
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		*eol = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line) {
			snprintf(why, wl, "header line without a name: %.40s", line);
			return RR_BAD;
		}
		for (char *c = line; c < colon; c++)
			if (!is_tchar((unsigned char)*c)) {
				snprintf(why, wl, "bad header name: %.40s", line);
				return RR_BAD;
			}
		for (v = colon + 1; *v; v++)
			if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f) {
				snprintf(why, wl, "control character in header "
					 "%.*s", (int)(colon - line), line);
				return RR_BAD;
			}
		*colon = '\0';
		v = colon + 1;
		v += strspn(v, " \t");
		if (!strcasecmp(line, "Content-Length")) {
			long long n;
			if (!*v || strspn(v, "0123456789") != strlen(v) ||
			    strlen(v) > 12 ||
			    (clen >= 0 && clen != (n = strtoll(v, NULL, 10)))) {
				snprintf(why, wl, "bad or conflicting Content-Length");
				return RR_BAD;
			}
			clen = strtoll(v, NULL, 10);
		} else if (!strcasecmp(line, "Transfer-Encoding")) {
			chunked = has_token(v, "chunked");
		} else if (!strcasecmp(line, "Connection")) {
			if (has_token(v, "close"))
				r->close = true;
		} else if (!strcasecmp(line, "Content-Type")) {
			snprintf(r->ctype, sizeof(r->ctype), "%s", v);
		}
	}
	consume(b, (size_t)(end - b->p) + 4);
	if (r->status < 200) {
		if (chunked || clen > 0) {
			snprintf(why, wl, "a %u response with a body", r->status);
			return RR_BAD;
		}
		++*interim;
		r->close = false;
		r->ctype[0] = '\0';
		clen = -1;
		goto again;
	}
	if (chunked && clen >= 0) {
		snprintf(why, wl, "both Content-Length and Transfer-Encoding "
			 "(RFC 9112 §6.2: a sender MUST NOT)");
		return RR_BAD;
	}
	if (no_body || r->status == 204 || r->status == 304) {
		r->body = calloc(1, 1);
		return RR_OK;
	}
	if (chunked)
		return read_chunked(fd, b, r, why, wl);
	if (clen < 0) {
		/* Delimited by the end of the stream. */
		for (;;) {
			ssize_t n = fill(fd, b);
			if (n == -2)
				return RR_TIMEOUT;
			if (n <= 0)
				break;
			if (b->len > BODY_MAX) {
				snprintf(why, wl, "body over %u bytes", BODY_MAX);
				return RR_BAD;
			}
		}
		clen = (long long)b->len;
		r->close = true;
	}
	if (clen > BODY_MAX) {
		snprintf(why, wl, "Content-Length %lld", clen);
		return RR_BAD;
	}
	e = need(fd, b, (size_t)clen);
	if (e != RR_OK) {
		if (e == RR_BAD)
			snprintf(why, wl, "stream ends %zu bytes into a body of "
				 "%lld", b->len, clen);
		return e;
	}
	r->body = malloc((size_t)clen + 1);
	if (!r->body)
		fail("out of memory", NULL);
	memcpy(r->body, b->p, (size_t)clen);
	r->body[clen] = '\0';
	r->blen = (size_t)clen;
	consume(b, (size_t)clen);
	return RR_OK;
}

/* ---- the judge ---- */

/* PATH (no query) matches PATTERN, {} standing for a non-empty segment. */
static bool path_matches(const char *pattern, const char *path)
{
	while (*pattern) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");
			if (n == 0)
				return false;
			path += n;
			pattern += 2;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return *path == '\0';
}

/* The roles the table gives METHOD on PATH (HEAD as GET). */
static unsigned roles_of(const char *method, const char *path)
{
	unsigned roles = 0;

	if (!strcmp(method, "HEAD"))
		method = "GET";
	for (size_t i = 0; i < sizeof(doc_routes) / sizeof(doc_routes[0]); i++)
		if (!strcmp(doc_routes[i].method, method) &&
		    path_matches(doc_routes[i].pattern, path))
			roles |= doc_routes[i].roles;
	return roles;
}

/* The roles any reading of TARGET allows: the path as sent and
 * %-decoded (up to a decoded NUL), of the origin form and of the
 * absolute form (RFC 9112 §3.2.2: a server accepts both). */
static unsigned roles_of_target(const char *method, const char *target)
{
	char path[8192], dec[8192];
	const char *t = target;
	size_t n, k = 0;
	unsigned roles;

	if (!strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8)) {
		t = strchr(t + 7 + (t[4] == 's' || t[4] == 'S'), '/');
		roles = t ? roles_of_target(method, t) : 0;
		t = target;
	} else {
		roles = 0;
	}
	n = strcspn(t, "?#");
	if (n >= sizeof(path))
		return roles;
	memcpy(path, t, n);
	path[n] = '\0';
	roles |= roles_of(method, path);
	for (size_t i = 0; i < n; i++) {
		if (path[i] == '%' && isxdigit((unsigned char)path[i + 1]) &&
		    isxdigit((unsigned char)path[i + 2])) {
			char h[3] = { path[i + 1], path[i + 2], '\0' };
			dec[k++] = (char)strtoul(h, NULL, 16);
			i += 2;
		} else {
			dec[k++] = path[i];
		}
	}
	dec[k] = '\0';
	/* Known, left to the server's hardening (issue 12 point 4): %00
	 * decodes to a NUL that ends the path the server routes, so
	 * /v1/hosts%00x is served as /v1/hosts.  Read so here too, with the
	 * rest of the path ignored as the server ignores it. */
	roles |= roles_of(method, dec);
	return roles;
}

static bool json_ctype(const char *ct)
{
	return !strncasecmp(ct, "application/json", 16);
}

/* A public reply: /v1/health's object, /metrics's Prometheus text or a
 * file of the web page (HTML, CSS, JavaScript). */
static bool public_reply(const struct resp *r, cJSON *j)
{
	if (!strncasecmp(r->ctype, "text/html", 9) ||
	    !strncasecmp(r->ctype, "text/css", 8) ||
	    !strncasecmp(r->ctype, "text/javascript", 15))
		return r->blen > 0;
	if (j)
		return cJSON_GetObjectItemCaseSensitive(j, "schema_version") &&
		       cJSON_GetObjectItemCaseSensitive(j, "database");
	return !strncasecmp(r->ctype, "text/plain", 10) &&
	       strstr(r->body, "cpufleet_http_requests_total") != NULL;
}

static void judge(const struct req *q, const struct resp *r)
{
	char d[512];
	cJSON *j = NULL;

	snprintf(d, sizeof(d), "%s %.200s -> %u %.200s", q->method, q->target,
		 r->status, r->body ? r->body : "");
	if (r->status >= 500) {
		bool std = false;
		for (size_t i = 0; std_methods[i]; i++)
			std = std || !strcmp(q->method, std_methods[i]);
		if (!(r->status == 501 && !std) &&
		    !(r->status == 505 && q->raw))
			fail("no 5xx reply", d);
	}
	if (json_ctype(r->ctype) && !q->head) {
		j = cJSON_ParseWithLength(r->body, r->blen);
		fz_require(j != NULL, "a JSON reply parses", d);
		if (r->status >= 400) {
			cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
			fz_require(cJSON_IsString(e) && e->valuestring[0],
				   "an error reply is {\"error\": \"...\"}", d);
		} else {
			fz_require(cJSON_IsObject(j), "a JSON reply is an object",
				   d);
		}
	}
	if (r->status >= 200 && r->status < 300) {
		if (q->raw) {
			/* Raw input never holds a valid token. */
			fz_require(q->head || public_reply(r, j), "without a token, a 2xx "
				   "only from /v1/health, /metrics and the web "
				   "page", d);
		} else {
			unsigned roles = roles_of_target(q->method, q->target);
			fz_require(roles != 0, "a 2xx only on a path of the "
				   "README's endpoint table", d);
			fz_require(roles & q->role, "a 2xx only for a token the "
				   "README's endpoint table allows", d);
			if (q->role == R_NONE && !q->head)
				fz_require(public_reply(r, j), "without a valid "
					   "token, only public replies", d);
			if (q->role == R_AGENT && (roles & R_ANY) != R_ANY) {
				cJSON *h = cJSON_GetObjectItemCaseSensitive(j,
									    "host");
				fz_require(cJSON_IsString(h) &&
					   !strcmp(h->valuestring, AGENT_HOST),
					   "an agent uploads for its own host "
					   "only", d);
			}
			if (q->role == R_READER && strstr(q->target, "/baseline")) {
				cJSON *p = cJSON_GetObjectItemCaseSensitive(j,
									    "published");
				fz_require(!p || cJSON_IsNull(p), "a reader does "
					   "not publish", d);
			}
		}
	}
	cJSON_Delete(j);
}

/* ---- requests ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *np = realloc(b->p, cap);
		if (!np)
			fail("out of memory", NULL);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static const char health_req[] = "GET /v1/health HTTP/1.1\r\n"
				 "Host: 127.0.0.1\r\n\r\n";

static void judge_health(const struct resp *r, enum rr e, const char *why)
{
	char d[300];
	cJSON *j, *s;

	snprintf(d, sizeof(d), "%s; status %u %.200s", e == RR_TIMEOUT ? "no reply in "
		 "10 s" : e == RR_EOF ? "closed without a reply" : why,
		 r->status, r->body ? r->body : "");
	fz_require(e == RR_OK, "the server still answers /v1/health", d);
	fz_require(r->status == 200, "/v1/health answers 200", d);
	j = cJSON_ParseWithLength(r->body, r->blen);
	s = cJSON_GetObjectItemCaseSensitive(j, "status");
	fz_require(cJSON_IsString(s) && !strcmp(s->valuestring, "ok"),
		   "/v1/health says \"status\": \"ok\"", d);
	cJSON_Delete(j);
}

static enum rr read_response(int fd, struct rbuf *b, bool no_body,
			     struct resp *r, unsigned *interim, char *why,
			     size_t wl);

/* Sends DATA on C (connecting first if need be) and reads one response.
 * A kept-alive connection the server has closed meanwhile is opened
 * again once. */
static enum rr exchange(struct conn *c, const char *data, size_t n,
			bool head, struct resp *r, unsigned *interim, char *why,
			size_t wl)
{
	enum rr e = RR_EOF;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = c->fd < 0;
		if (fresh)
			c->fd = dial();
		if (send_all(c->fd, data, n)) {
			e = read_response(c->fd, &c->b, head, r, interim, why, wl);
			if (e != RR_EOF || fresh)
				break;
		}
		conn_close(c);
	}
	return e;
}

/* GET /v1/health on HC. */
static void health(void)
{
	struct resp r;
	unsigned interim = 0;
	char why[160];
	enum rr e = exchange(&hc, health_req, sizeof(health_req) - 1, false, &r,
			     &interim, why, sizeof(why));

	judge_health(&r, e, why);
	if (r.close)
		conn_close(&hc);
	free(r.body);
}

static const char *word(const char **p, const char *end, char *out,
			size_t max)
{
	size_t n = 0;

	while (*p < end && **p != ' ' && **p != '\n') {
		if (n + 1 < max && **p != '\r')
			out[n++] = **p;
		(*p)++;
	}
	out[n] = '\0';
	if (*p < end && **p == ' ')
		(*p)++;
	return out;
}

/* Where the body of a structured input starts (P: its first header
 * line): after the first empty line, or at END. */
static const char *body_start(const char *p, const char *end)
{
	while (p < end) {
		const char *nl;
		if (*p == '\n')
			return p + 1;
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			return p + 2;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return end;
		p = nl + 1;
	}
	return end;
}

static bool skipped_header(const char *name)
{
	return !strcasecmp(name, "Authorization") ||
	       !strcasecmp(name, "Content-Length") ||
	       !strcasecmp(name, "Transfer-Encoding") ||
	       !strcasecmp(name, "Host");
}

/* Sends the request in DATA on the kept-alive connection and judges the
 * reply and the health check behind it; returns the reply's status. */
static unsigned structured(const char *p, const char *end)
{
	static const char hex[] = "0123456789ABCDEF";
	char who[128], method[64], target[8192], name[256], why[160];
	struct buf rq = { 0 }, val = { 0 };
	struct req q = { .method = method, .target = target };
	const char *tok = NULL, *body;
	size_t tl = 0, mn = 0;
	bool close_req = false, piped, empty;
	struct resp r, h;
	unsigned interim = 0;
	enum rr e;

	word(&p, end, who, sizeof(who));
	word(&p, end, method, sizeof(method));
	/* Method: token characters only (RFC 9110 §9.1). */
	for (char *c = method; *c; c++)
		if (is_tchar((unsigned char)*c))
			method[mn++] = *c;
	method[mn] = '\0';
	if (!mn)
		snprintf(method, sizeof(method), "GET");
	q.head = !strcmp(method, "HEAD");
	/* Target: the rest of the line, %-encoded outside 0x21-0x7e. */
	while (p < end && *p != '\n') {
		unsigned char c = (unsigned char)*p++;
		if (tl + 4 >= sizeof(target))
			continue;
		if (c > 0x20 && c < 0x7f && c != '#') {
			target[tl++] = (char)c;
		} else if (c != '\r') {
			target[tl++] = '%';
			target[tl++] = hex[c >> 4];
			target[tl++] = hex[c & 15];
		}
	}
	if (!tl)
		target[tl++] = '/';
	target[tl] = '\0';
	if (p < end)
		p++;
	q.role = R_NONE;
	if (!strcmp(who, "admin")) {
		tok = G.admin;
		q.role = R_ADMIN;
	} else if (!strcmp(who, "reader")) {
		tok = G.reader;
		q.role = R_READER;
	} else if (!strcmp(who, "agent")) {
		tok = G.agent;
		q.role = R_AGENT;
	} else if (!strcmp(who, "revoked")) {
		tok = G.revoked;
	} else if (strcmp(who, "-") != 0) {
		tok = who;   /* no token the database made: unknown */
	}
	puts_(&rq, method);
	puts_(&rq, " ");
	puts_(&rq, target);
	puts_(&rq, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	if (tok) {
		puts_(&rq, "Authorization: Bearer ");
		for (const char *c = tok; *c; c++)
			if ((unsigned char)*c >= 0x20 && *c != 0x7f)
				put(&rq, c, 1);
		puts_(&rq, "\r\n");
	}
	empty = body_start(p, end) == end;
	/* Header lines up to an empty one. */
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
					  p[1] == '\n')) {
		size_t nl = 0;
		val.len = 0;
		while (p < end && *p != ':' && *p != '\n') {
			if (is_tchar((unsigned char)*p) && nl + 1 < sizeof(name))
				name[nl++] = *p;
			p++;
		}
		name[nl] = '\0';
		if (p < end && *p == ':')
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && *p != '\n') {
			unsigned char c = (unsigned char)*p++;
			if ((c >= 0x20 && c != 0x7f) || c == '\t')
				put(&val, &c, 1);
		}
		if (p < end)
			p++;
		/* RFC 9110 §10.1.1: a client MUST NOT send 100-continue
		 * without content. */
		if (!nl || skipped_header(name) ||
		    (!strcasecmp(name, "Expect") && empty) ||
		    rq.len + nl + val.len + 4 > HEADERS_MAX)
			continue;
		if (!strcasecmp(name, "Connection") && val.p &&
		    has_token(val.p, "close"))
			close_req = true;
		if (!strcasecmp(name, "Expect"))
			q.expect = true;
		puts_(&rq, name);
		puts_(&rq, ": ");
		if (val.p)
			puts_(&rq, val.p);
		puts_(&rq, "\r\n");
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end)
		p++;
	body = p;
	snprintf(name, sizeof(name), "Content-Length: %zu\r\n\r\n",
		 (size_t)(end - body));
	puts_(&rq, name);
	put(&rq, body, (size_t)(end - body));
	/* The health check rides behind, unless the request ends the
	 * connection. */
	piped = !close_req;
	if (piped)
		put(&rq, health_req, sizeof(health_req) - 1);
	e = exchange(&req, rq.p, rq.len, q.head, &r, &interim, why, sizeof(why));
	snprintf(name, sizeof(name), "%s %.200s: %s", method, target, why);
	fz_require(e != RR_TIMEOUT, "a reply within 10 s", name);
	fz_require(e != RR_EOF, "a well-formed request gets a reply", name);
	fz_require(e == RR_OK, "a well-formed HTTP/1.1 response", name);
	fz_require(!interim || q.expect, "no 1xx unless asked (Expect)", name);
	judge(&q, &r);
	if (r.close) {
		conn_close(&req);
		piped = false;
	}
	if (piped) {
		e = read_response(req.fd, &req.b, false, &h, &interim, why,
				  sizeof(why));
		judge_health(&h, e, why);
		if (h.close)
			conn_close(&req);
		free(h.body);
	} else {
		health();
	}
	free(r.body);
	free(rq.p);
	free(val.p);
	return r.status;
}

/* Sends DATA verbatim on a new connection, closes the writing side and
 * judges whatever comes back. */
static void raw(const char *p, const char *end)
{
	static struct rbuf b;     /* kept: no allocation per input */
	struct req q = { .method = "?", .target = "(raw)", .raw = true };
	/* Which reply answers a HEAD is unknown here: check the first only. */
	bool head = memmem(p, (size_t)(end - p), "HEAD", 4) != NULL;
	int fd = dial();

	q.head = head;
	char why[160];

	send_all(fd, p, (size_t)(end - p));
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct resp r;
		unsigned interim = 0;
		enum rr e = read_response(fd, &b, head, &r, &interim, why,
					  sizeof(why));
		if (e == RR_EOF)
			break;
		fz_require(e != RR_TIMEOUT, "raw: the server answers or closes "
			   "within 10 s", why);
		fz_require(e == RR_OK, "raw: a well-formed HTTP/1.1 response",
			   why);
		judge(&q, &r);
		free(r.body);
		if (head || r.close)
			break;
	}
	hang_up(&fd, &b);
	health();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (size >= 4 && !memcmp(p, "RAW", 3) && (p[3] == '\n' || p[3] == '\r'))
		raw(p + 4 + (p[3] == '\r' && size > 4 && p[4] == '\n'), end);
	else
		structured(p, end);
	return 0;
}

/* ---- set-up ---- */

/* Removes DIR's database and DIR. */
static void remove_db(const char *dir)
{
	static const char *const sfx[] = { "", "-wal", "-shm", NULL };
	char path[320];

	for (size_t i = 0; sfx[i]; i++) {
		snprintf(path, sizeof(path), "%s/fleet.db%s", dir, sfx[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void cleanup(void)
{
	conn_close(&req);
	conn_close(&hc);
	cf_server_stop(G.srv);
	G.srv = NULL;
	remove_db(G.dir);
}

/* The directories of earlier runs that ended without their exit
 * handlers (a crash, libFuzzer's exit after replaying files): named
 * cpufleet-fuzz.PID.*, removed once PID is gone. */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char path[300];

	while (d && (e = readdir(d))) {
		long pid;
		char *end;
		if (strncmp(e->d_name, "cpufleet-fuzz.", 14) != 0)
			continue;
		pid = strtol(e->d_name + 14, &end, 10);
		if (*end != '.' || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		remove_db(path);
	}
	if (d)
		closedir(d);
}

/* One admin request during set-up; it must answer 2xx. */
static void setup_call(const char *line, const char *body, size_t blen)
{
	struct buf in = { 0 };
	unsigned status;

	puts_(&in, line);
	puts_(&in, "\n\n");
	put(&in, body, blen);
	status = structured(in.p, in.p + in.len);
	fz_require(status >= 200 && status < 300, "set-up: answered 2xx", line);
	free(in.p);
}

/* The example fleet of tests/data (CF_FUZZ_DATA, else tests/data under
 * the working directory): arm64 and x86 hosts; pools arm (N1s: a feasible
 * baseline), mix (N1, V1, A72: conflicts), rack (by label) and x86, and
 * the published baselines of arm and x86; then spr-05 after an update that
 * removes TSX (tests/data/drift), one drift event.  Missing files are
 * skipped. */
static void populate(void)
{
	static const char *const reports[] = {
		"fleet/n1-01.json", "fleet/n1-02.json", "fleet/v1-01.json",
		"fleet/a72-01.json", "x86/snb-ep.json", "x86/spr-05.json",
		NULL,
	};
	static const char *const calls[][2] = {
		{ "admin PUT /v1/hosts/n1-01/labels", "{\"labels\":{\"rack\":\"r1\"}}" },
		{ "admin PUT /v1/pools/arm", "{\"hosts\":[\"n1-01\",\"n1-02\"]}" },
		{ "admin PUT /v1/pools/mix", "{\"hosts\":[\"n1-01\",\"v1-01\",\"a72-01\"]}" },
		{ "admin PUT /v1/pools/rack", "{\"labels\":{\"rack\":\"r1\"}}" },
		{ "admin PUT /v1/pools/x86", "{\"hosts\":[\"snb-ep\",\"spr-05\"]}" },
		{ "admin POST /v1/pools/arm/baseline", "{\"publish\":true}" },
		{ "admin POST /v1/pools/x86/baseline", "{\"publish\":true}" },
	};
	const char *dir = getenv("CF_FUZZ_DATA");
	char path[512];
	size_t n;
	int loaded = 0;

	if (!dir)
		dir = "tests/data";
	for (size_t i = 0; reports[i]; i++) {
		struct cf_diag d;
		char *body = NULL;
		snprintf(path, sizeof(path), "%s/%s", dir, reports[i]);
		if (cf_doc_read_file(path, &body, &n, &d) != CF_OK)
			continue;
		setup_call("admin POST /v1/reports", body, n);
		free(body);
		loaded++;
	}
	if (loaded < 6) {
		fprintf(stderr, "fuzz_server: %s: %d of 6 reports found; the "
			"fleet is incomplete (set CF_FUZZ_DATA)\n", dir, loaded);
		return;
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		setup_call(calls[i][0], calls[i][1], strlen(calls[i][1]));
	snprintf(path, sizeof(path), "%s/drift/spr-05-tsx-off.json", dir);
	{
		struct cf_diag d;
		char *body = NULL;
		if (cf_doc_read_file(path, &body, &n, &d) == CF_OK)
			setup_call("admin POST /v1/reports", body, n);
		free(body);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cf_server_opts o = { .listen = "127.0.0.1:0", .readers = 2 };
	struct cf_db_token info;
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;
	struct stat st;
	const char *base = getenv("TMPDIR");
	char now[CF_DB_TIME_MAX];
	enum cf_err err;

	(void)argc;
	(void)argv;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	if (!base)
		base = "/tmp";
	remove_stale(base);
	snprintf(G.dir, sizeof(G.dir), "%s/cpufleet-fuzz.%ld.XXXXXX", base,
		 (long)getpid());
	fz_require(mkdtemp(G.dir) != NULL, "a temporary directory",
		   strerror(errno));
	snprintf(G.db, sizeof(G.db), "%s/fleet.db", G.dir);
	atexit(cleanup);
	cf_server_now(now, sizeof(now));
	err = cf_db_open(G.db, false, &db, &d);
	fz_require(err == CF_OK, "the database opens", d.msg);
	err = cf_db_token_create(db, CF_DB_ROLE_ADMIN, NULL, now, G.admin,
				 &info, &d);
	if (err == CF_OK)
		err = cf_db_token_create(db, CF_DB_ROLE_READER, NULL, now,
					 G.reader, &info, &d);
	if (err == CF_OK)
		err = cf_db_token_create(db, CF_DB_ROLE_AGENT, AGENT_HOST, now,
					 G.agent, &info, &d);
	if (err == CF_OK)
		err = cf_db_token_create(db, CF_DB_ROLE_ADMIN, NULL, now,
					 G.revoked, &info, &d);
	if (err == CF_OK)
		err = cf_db_token_revoke(db, info.id, now, &d);
	fz_require(err == CF_OK, "tokens are made", d.msg);
	cf_db_close(db);
	o.db_path = G.db;
	err = cf_server_start(&o, &G.srv, &d);
	fz_require(err == CF_OK, "the server starts", d.msg);
	G.port = cf_server_port(G.srv);
	populate();
	return 0;
}
