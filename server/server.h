/* cpufleet's central service: the /v1 JSON API over libmicrohttpd, on the
 * storage API of db/db.h.  One event thread (epoll) reads every connection
 * and never waits on the database: a complete request is suspended and
 * handed to a pool of worker threads, which read through a pool of
 * read-only connections; every write goes through the group-committing
 * writer, so a 2xx answer means the change is on disk.  Idle connections
 * cost a socket and no thread, a client has HEADER_TIMEOUT_S to send a
 * request's headers and BODY_TIMEOUT_S for its body, and when the
 * connection table is seven eighths full the oldest idle connection makes
 * room for each new one and a client address holding half the table gets
 * no more, so clients that hold connections open without sending requests
 * cannot lock others out. */
#ifndef CF_SERVER_H
#define CF_SERVER_H

#include <stddef.h>
#include <cpufleet.h>

#define CF_SERVER_BODY_MAX_DEFAULT (1u << 20)
#define CF_SERVER_CONNS_DEFAULT 16384u
#define CF_SERVER_HEADER_TIMEOUT_DEFAULT 10u
#define CF_SERVER_BODY_TIMEOUT_DEFAULT 60u

typedef void (*cf_server_log_fn)(void *ctx, const char *msg);

struct cf_server_opts {
	const char *db_path;
	const char *listen;      /* "127.0.0.1:8080", "[::1]:0" (0: any port) */
	const char *cert_path;   /* PEM certificate and key: both for HTTPS */
	const char *key_path;
	size_t max_body;         /* bytes, 0: CF_SERVER_BODY_MAX_DEFAULT */
	unsigned readers;        /* read connections (and four workers
				  * each), 0: 8 */
	unsigned max_conns;      /* 0: CF_SERVER_CONNS_DEFAULT; either way at
				  * most what RLIMIT_NOFILE leaves */
	unsigned header_timeout_s; /* from a connection being ready for a
				    * request to its last header, 0: default */
	unsigned body_timeout_s;   /* from the last header to the body's end,
				    * 0: default */
	cf_server_log_fn log;    /* may be NULL */
	void *log_ctx;
};

struct cf_server;

/* Opens (migrating) the database, binds and starts serving. */
enum cf_err cf_server_start(const struct cf_server_opts *o,
			    struct cf_server **out, struct cf_diag *d);
/* The bound port (useful with port 0). */
unsigned cf_server_port(const struct cf_server *s);
/* The time as the server records it: RFC 3339 UTC with milliseconds. */
void cf_server_now(char *buf, size_t len);
/* Stops accepting, lets requests in flight finish and commit, closes the
 * database. */
void cf_server_stop(struct cf_server *s);

#endif
