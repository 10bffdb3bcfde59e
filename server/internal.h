/* What the server's own files share: the server, a connection's and a
 * request's state, and the functions each file offers the others
 * (server.c the lifecycle, request.c the request path, admit.c the checks
 * before a handler runs, conns.c connections and deadlines, metrics.c the
 * counters).  Handlers do not include this: they get struct cf_api_env. */
#ifndef CF_SERVER_INTERNAL_H
#define CF_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "server/server.h"
#include "server/api.h"
#include "server/tokcache.h"
#include "server/writer.h"

#define NCLASS 6   /* status classes 1xx..5xx, index 0 unused */
#define PEER_BUCKETS 4096


/* Where a connection is, for the deadlines: waiting for (the rest of) a
 * request's headers, receiving its body, or being answered. */
enum phase { PH_IDLE, PH_BODY, PH_BUSY };
enum { CLOSE_HEADER, CLOSE_BODY, CLOSE_EVICTED, CLOSE_REFUSED, CLOSE_HALF,
       NCLOSE };

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
/* How long a request's token lookup (at its headers) stands until a
 * worker runs it; a slower body is looked up again (request.c). */
#define TOKEN_FRESH_MS 100
/* The upload route's token cache (tokcache.h): how long an entry stands
 * (so long a revoked token's uploads may be read and parsed before the
 * write refuses them), and its size. */
#define TOKEN_CACHE_MS 2000
#define TOKEN_CACHE_SLOTS 256

struct track {
	int fd;
	enum phase phase;
	bool shut;             /* shutdown(2) done, libmicrohttpd closes it */
	unsigned hup;          /* reaper rounds seen half-closed, idle, drained */
	uint64_t since;        /* ms, monotonic: when PHASE began */
	struct peer *peer;
	struct track *prev, *next;
};

struct route_stats {
	unsigned long long count[NCLASS];
	unsigned long long usec;
};

/* Event threads: each accepts and reads its share of the connections. */
#define EVENT_THREADS 2

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
	/* What the handlers get: the fleet on the readers and the writer,
	 * upload counters, the metrics above. */
	struct cf_api_env env;
	/* The event threads' own read connections (token lookups), so that
	 * they never wait for a reader the workers hold. */
	pthread_mutex_t evlock[EVENT_THREADS];
	struct cf_db *evdb[EVENT_THREADS];
	struct cf_tokcache *tokcache;
	/* Open connections and their deadlines (reaper thread). */
	pthread_mutex_t clock;
	pthread_cond_t cwake;
	struct track *head, *tail;
	size_t nconns, nshut;   /* open; of them shut, closing */
	struct peer *peers[PEER_BUCKETS];
	int hupfd;              /* epoll: which connections the client shut */
	int lockfd;             /* the database file, flock()ed: one server */
	unsigned conn_limit, evict_at;
	uint64_t header_ms, body_ms;
	bool reaper_on, reaper_stop;
	pthread_t reaper;
	unsigned long long closed[NCLOSE];
	/* Requests whose handler stopped: the client had gone (atomic). */
	unsigned long long cancelled;
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
	uint64_t tok_at;       /* when TOK was looked up, cf_conns_now_ms() */
	bool tok_cached;       /* TOK came from the token cache */
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

/* server.c */
void cf_server_logf(struct cf_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* metrics.c: the server's own counters (OWNER a struct cf_server). */
char *cf_metrics_text(void *owner);

/* admit.c: route, method and credentials, from the headers alone; false
 * with RP set when refused. */
bool cf_admit_request(struct cf_server *s, struct MHD_Connection *c,
		      const char *url, const char *method, struct conn *st,
		      struct cf_api_reply *rp);
/* The body is JSON text (UTF-8, control characters escaped). */
bool cf_admit_body(const char *p, size_t n, struct cf_api_reply *rp);
/* An upload refused before its handler ran still counts as rejected. */
void cf_admit_count_refused(struct cf_server *s, const struct conn *st);

/* request.c: libmicrohttpd's callbacks and the worker threads. */
void *cf_request_on_uri(void *cls, const char *uri, struct MHD_Connection *c);
enum MHD_Result cf_request_on_request(void *cls, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_data_size, void **con_cls);
void cf_request_on_completed(void *cls, struct MHD_Connection *c,
			     void **con_cls,
			     enum MHD_RequestTerminationCode toe);
void *cf_request_worker(void *arg);

/* conns.c */
/* Milliseconds on the monotonic clock. */
uint64_t cf_conns_now_ms(void);
void cf_conns_phase(struct cf_server *s, struct MHD_Connection *c,
		    enum phase phase);
void cf_conns_on_connection(void *cls, struct MHD_Connection *c,
			    void **socket_context,
			    enum MHD_ConnectionNotificationCode code);
enum MHD_Result cf_conns_on_accept(void *cls, const struct sockaddr *addr,
				   socklen_t addrlen);
void *cf_conns_reaper(void *arg);
void cf_conns_free(struct cf_server *s);

#endif
