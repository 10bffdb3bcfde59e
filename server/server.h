/* cpufleet's central service: the /v1 JSON API over libmicrohttpd, on the
 * storage API of db/db.h.  Request threads read through a pool of read-only
 * connections; every write goes through the group-committing writer, so a
 * 2xx answer means the change is on disk. */
#ifndef CF_SERVER_H
#define CF_SERVER_H

#include <stddef.h>
#include <cpufleet.h>

#define CF_SERVER_BODY_MAX_DEFAULT (1u << 20)

typedef void (*cf_server_log_fn)(void *ctx, const char *msg);

struct cf_server_opts {
	const char *db_path;
	const char *listen;      /* "127.0.0.1:8080", "[::1]:0" (0: any port) */
	const char *cert_path;   /* PEM certificate and key: both for HTTPS */
	const char *key_path;
	size_t max_body;         /* bytes, 0: CF_SERVER_BODY_MAX_DEFAULT */
	unsigned readers;        /* read connections, 0: 8 */
	unsigned max_conns;      /* 0: 1024 */
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
