/* A request's way through the server: its state from the request line
 * on, the body read within the limit, handed to a worker that runs the
 * route's handler, the answer sent. */
#include <poll.h>
#include <strings.h>
#include <time.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/internal.h"

#define DISCARD_MIN (64u << 10)

static const char *query_arg(void *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* The client has shut or reset its side: nothing will read the answer
 * (poll()'s POLLRDHUP, a FIN received; POLLHUP/POLLERR, a reset). */
static bool client_gone(void *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p;

	if (!ci)
		return false;
	p = (struct pollfd){ ci->connect_fd, POLLRDHUP, 0 };
	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
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
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy",
				rp->csp ? rp->csp
					: "default-src 'none'; frame-ancestors 'none'");
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

/* The request line, before libmicrohttpd decodes it: the per-request
 * state starts here, remembering what decoding would hide. */
void *cf_request_on_uri(void *cls, const char *uri,
			struct MHD_Connection *c)
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

/* Looks ST's token up again: false (RP answered 401 or 500, the token
 * out of the cache) when it no longer stands. */
static bool token_stands(struct cf_server *s, struct conn *st,
			 struct cf_api_reply *rp, const char *when)
{
	struct cf_db_token now;
	struct cf_db *db = s->env.fleet.read_get(s);
	enum cf_err err = cf_db_token_lookup(db, st->token, &now);

	s->env.fleet.read_put(s, db);
	if (err == CF_OK)
		return true;
	cf_tokcache_drop(s->tokcache, st->token);
	if (err == CF_ENOTFOUND)
		cf_api_error(rp, 401, "unknown or revoked token (revoked %s)",
			     when);
	else
		cf_api_error(rp, 500, "token lookup failed");
	return false;
}

/* Everything a complete request needs that may wait on the database: run
 * by a worker (or inline while the server stops).  A token looked up more
 * than TOKEN_FRESH_MS ago is looked up again: one revoked while a slow
 * body was arriving writes nothing.  Within that time the lookup stands,
 * as for any request under way when a token is revoked: a second round
 * trip to PostgreSQL per request cost a fifth of the upload rate (make
 * bench-server-pg).  Uploads need neither: their token is judged in the
 * transaction that would store the report (fleet.h), and one refused
 * there leaves the token cache; one from the cache refused for another
 * reason is looked up then, so that a revoked token learns nothing of its
 * request but 401. */
static void run_request(struct cf_server *s, struct conn *st)
{
	struct cf_api_reply *rp = &st->rp;

	if (st->route->access != CF_API_PUBLIC &&
	    st->route->access != CF_API_UPLOAD &&
	    cf_conns_now_ms() - st->tok_at >= TOKEN_FRESH_MS &&
	    !token_stands(s, st, rp, "while the request was received")) {
		cf_admit_count_refused(s, st);
		goto out;
	}
	st->rq.body = st->body ? st->body : "";
	st->rq.len = st->len;
	if (st->body)
		st->body[st->len] = '\0';
	if (!cf_admit_body(st->rq.body, st->rq.len, rp)) {
		cf_admit_count_refused(s, st);
		goto out;
	}
	rp->status = 500;
	st->route->fn(&st->rq, rp);
	if (rp->status == cf_api_status(CF_ECANCELED)) {
		__atomic_fetch_add(&s->cancelled, 1, __ATOMIC_RELAXED);
		cf_server_logf(s, "%s %s: the client went away; work stopped",
			       st->rq.method, st->route->pattern);
	}
out:
	if (st->route->access == CF_API_UPLOAD && rp->status == 401)
		cf_tokcache_drop(s->tokcache, st->token);
	else if (st->tok_cached && rp->status >= 400 && rp->status < 499)
		token_stands(s, st, rp, "before the request was answered");
	account(s, st, rp->status);
	if (rp->status >= 500)
		cf_server_logf(s, "%s %s: %u %s", st->rq.method, st->route->pattern,
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

void *cf_request_worker(void *arg)
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
		MHD_resume_connection(st->c);  /* cf_request_on_request sends rp */
		pthread_mutex_lock(&s->qlock);
	}
	pthread_mutex_unlock(&s->qlock);
	return NULL;
}

enum MHD_Result cf_request_on_request(void *cls, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
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
		cf_conns_phase(s, c, PH_BODY);
		if (!cf_admit_request(s, c, url, method, st, &rp))
			goto reply;
		if (!framing_ok(s, c, st, &rp)) {
			cf_admit_count_refused(s, st);
			goto reply;
		}
		st->rq.env = &s->env;
		st->rq.method = method;
		st->rq.query = query_arg;
		st->rq.gone = client_gone;
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
	cf_conns_phase(s, c, PH_BUSY);
	if (st->too_big) {
		cf_api_error(&rp, 413, "body over the limit of %zu bytes",
			     s->max_body);
		cf_admit_count_refused(s, st);
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
		cf_server_logf(s, "%s %s: %u %s", method, url, rp.status,
		      rp.body ? rp.body : "");
send:
	cf_conns_phase(s, c, PH_BUSY);
	ret = send_reply(c, &rp);
	free(rp.body);
	return ret;
}

void cf_request_on_completed(void *cls, struct MHD_Connection *c,
			     void **con_cls,
			     enum MHD_RequestTerminationCode toe)
{
	struct cf_server *s = cls;
	struct conn *st = *con_cls;

	(void)toe;
	/* Ready for the next request on this connection: its headers are
	 * due within the header deadline. */
	cf_conns_phase(s, c, PH_IDLE);
	if (st) {
		free(st->body);
		free(st->rp.body);
		free(st);
		*con_cls = NULL;
	}
}
