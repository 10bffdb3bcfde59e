/* The /v1 endpoints: what a handler gets (the request as the server
 * decoded it, and the fleet to call), what it gives (a reply), the route
 * table the server walks, and what every handler shares: one table from
 * cf_err to HTTP status and the JSON reply helpers.  Handlers (one file
 * per resource, server/h_*.c) decode, call fleet/ and encode; they know
 * nothing of the server itself.  Internal to server/ (and the route
 * listing of `cpufleet server --routes`). */
#ifndef CF_API_H
#define CF_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <cpufleet.h>
#include "db/db.h"
#include "fleet/fleet.h"

#define CF_API_PARAMS 2

/* Who may call a route.  Agents may only upload (for their own host, which
 * the fleet checks); admin-only actions inside reader routes (publishing)
 * are checked by the handler. */
enum cf_api_access {
	CF_API_PUBLIC,   /* no token needed */
	CF_API_UPLOAD,   /* agent or admin */
	CF_API_READ,     /* reader or admin */
	CF_API_ADMIN,
};
/* "public", "upload", "read", "admin". */
const char *cf_api_access_name(enum cf_api_access a);

/* Upload outcomes, as /metrics counts them. */
enum cf_api_upload {
	CF_API_UP_NEW, CF_API_UP_SEEN_AGAIN, CF_API_UP_KNOWN,
	CF_API_UP_REJECTED, CF_API_UP_FAILED, CF_API_NUPLOAD
};
extern const char *const cf_api_upload_names[CF_API_NUPLOAD];

/* What the server lends every handler. */
struct cf_api_env {
	struct cf_fleet fleet;
	unsigned long long uploads[CF_API_NUPLOAD];  /* atomic counters */
	/* The server's own figures as Prometheus text (malloc'd, NULL when
	 * out of memory). */
	char *(*metrics)(void *owner);
	void *owner;
	/* /metrics' cpufleet_hosts_refusing_published_profile, kept while
	 * the figures it depends on (reports stored, the audit's newest row)
	 * stay the same; refusing_lock is initialised by the server. */
	pthread_mutex_t refusing_lock;
	bool refusing_known;
	unsigned long long refusing_key[2], refusing;
};
void cf_api_count_upload(struct cf_api_env *env, enum cf_api_upload what);

struct cf_api_req {
	struct cf_api_env *env;
	const char *method;
	char param[CF_API_PARAMS][CF_HOST_ID_MAX];  /* the route's {x} parts */
	const char *(*query)(void *conn, const char *key); /* query argument */
	/* Has the client gone (closed or reset its connection)?  Handlers
	 * of long work hand it to the fleet as its cancelled(). */
	bool (*gone)(void *conn);
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
	/* Content-Security-Policy; NULL: default-src 'none' (nothing a
	 * browser should load or run). */
	const char *csp;
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

/* server/routes.c */
extern const struct cf_api_route cf_api_routes[];
extern const size_t cf_api_nroutes;

/* ---- shared by the handlers (server/api.c) ---- */

/* The HTTP status of an error: one table for every handler. */
unsigned cf_api_status(enum cf_err err);
/* Sets a JSON error reply {"error": ...}. */
void cf_api_error(struct cf_api_reply *rp, unsigned status, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
/* The error reply of ERR: its status, D's message (or cf_strerror). */
void cf_api_fail(struct cf_api_reply *rp, enum cf_err err,
		 const struct cf_diag *d);
/* Replies O (taken over; NULL: out of memory). */
void cf_api_reply_json(struct cf_api_reply *rp, unsigned status, cJSON *o);
/* Adds stored JSON text (a document the service wrote itself) to O under
 * KEY as it is, without parsing it again; NULL text as FALLBACK. */
bool cf_api_add_stored(cJSON *o, const char *key, const char *text,
		       const char *fallback);
/* The request body as a JSON object (an empty body is {} when EMPTY_OK);
 * NULL with a 400 reply set. */
cJSON *cf_api_body_object(const struct cf_api_req *rq, struct cf_api_reply *rp,
			  bool empty_ok);
/* A list endpoint: {"KEY": [...]} filled by LIST. */
typedef enum cf_err (*cf_api_list_fn)(struct cf_fleet *f, cJSON *arr,
				      size_t limit);
void cf_api_list(const struct cf_api_req *rq, struct cf_api_reply *rp,
		 const char *key, cf_api_list_fn list, size_t limit);
/* A version path segment: "" is 0 (the latest), else 1..10^9. */
bool cf_api_parse_version(const char *s, int *v);

/* ---- the handlers, one file per resource ---- */
/* h_admin.c */
void cf_h_health(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_metrics(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_audit(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_reports.c */
void cf_h_upload(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_hosts.c */
void cf_h_hosts(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_host(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_host_labels(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_feature(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_pools.c */
void cf_h_pools(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_pool(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_pool_put(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_pool_delete(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_baseline(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_matrix(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_what_if(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_profiles.c */
void cf_h_profiles(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_profile(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_profile_put(const struct cf_api_req *rq, struct cf_api_reply *rp);
void cf_h_profile_export(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_check.c */
void cf_h_check(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_events.c */
void cf_h_events(const struct cf_api_req *rq, struct cf_api_reply *rp);
/* h_web.c */
void cf_h_web(const struct cf_api_req *rq, struct cf_api_reply *rp);

#endif
