/* The /v1 endpoints, as a route table the server walks, and what a handler
 * gets from the server.  Internal to server/. */
#ifndef CF_API_H
#define CF_API_H

#include <stdbool.h>
#include <stddef.h>
#include <cpufleet.h>
#include "db/db.h"
#include "server/writer.h"

#define CF_API_PARAMS 2

struct cf_server;

/* Who may call a route.  Agents may only upload (for their own host, which
 * the handler checks); admin-only actions inside reader routes (publishing)
 * are checked by the handler too. */
enum cf_api_access {
	CF_API_PUBLIC,   /* no token needed */
	CF_API_UPLOAD,   /* agent or admin */
	CF_API_READ,     /* reader or admin */
	CF_API_ADMIN,
};

struct cf_api_req {
	struct cf_server *srv;
	const char *method;
	char param[CF_API_PARAMS][CF_HOST_ID_MAX];  /* the route's {x} parts */
	const char *(*query)(void *conn, const char *key); /* query argument */
	void *conn;
	const char *body;        /* NUL-terminated */
	size_t len;
	const struct cf_db_token *tok;  /* NULL on public routes */
	const char *actor;       /* token id, for the audit log */
};

struct cf_api_reply {
	unsigned status;
	char *body;              /* malloc'd */
	const char *ctype;       /* NULL: application/json */
};

typedef void (*cf_api_handler)(const struct cf_api_req *rq,
			       struct cf_api_reply *rp);

struct cf_api_route {
	const char *method;
	const char *pattern;     /* "/v1/hosts/{}" ; {} matches one segment */
	enum cf_api_access access;
	cf_api_handler fn;
	const char *name;        /* metrics label */
};

extern const struct cf_api_route cf_api_routes[];
extern const size_t cf_api_nroutes;

/* Sets a JSON error reply {"error": ...}. */
void cf_api_error(struct cf_api_reply *rp, unsigned status, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* What the server lends its handlers. */
struct cf_db *cf_server_reader_get(struct cf_server *s);
void cf_server_reader_put(struct cf_server *s, struct cf_db *db);
struct cf_writer *cf_server_writer(struct cf_server *s);
/* Prometheus text of the server's own counters, appended by /metrics. */
char *cf_server_metrics_text(struct cf_server *s);
/* Counts an upload's outcome for /metrics ("new", "seen_again", ...). */
void cf_server_count_upload(struct cf_server *s, const char *result);

#endif
