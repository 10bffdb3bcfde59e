/* The storage API of the central service.  SQLite is the embedded default;
 * PostgreSQL is behind the same functions, so nothing here names a
 * SQLite type.  One struct cf_db is one connection: not thread-safe, a
 * server opens one writer and several readers.
 *
 * Times are RFC 3339 UTC strings chosen by the caller ("2026-11-22T04:15:11Z",
 * optionally with ".123" milliseconds), so tests control the clock; they sort
 * as text.  Every write that changes pools, profiles or tokens also writes an
 * audit row in the same transaction. */
#ifndef CF_DB_H
#define CF_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <cpufleet.h>

#define CF_DB_TIME_MAX 32       /* an RFC 3339 time, bytes incl. NUL */
#define CF_DB_ID_MAX 72         /* report ids, content hashes, token ids */
#define CF_DB_NAME_MAX 128      /* pool and profile names, label keys/values */
#define CF_DB_TOKEN_MAX 80      /* a token as handed to its holder */

struct cf_db;

/* Opens (creating it if absent, unless READONLY) the database at PATH:
 * a postgresql:// or postgres:// URL is a PostgreSQL database (libpq's URL
 * syntax; the database must exist, its tables are made here), anything
 * else an SQLite file: WAL journal, synchronous=FULL, foreign keys on, a
 * busy timeout.  The schema migrations not yet applied run in order,
 * each in its own transaction.  A read-only open of a database whose
 * schema is older than this build's is CF_EDB ("run the server once to migrate").  Migration 2
 * recomputes every stored report's content identity and configuration
 * fingerprint from its body (schema 1 hashed the catalogue's layout); a
 * body this build cannot read keeps its old ones. */
enum cf_err cf_db_open(const char *path, bool readonly, struct cf_db **out,
		       struct cf_diag *d);
void cf_db_close(struct cf_db *db);
/* PATH names a PostgreSQL database (a postgresql:// or postgres:// URL). */
bool cf_db_is_url(const char *path);
/* PATH as it may be shown in logs and errors: a URL's password (in its
 * user information or a password= parameter) becomes "***". */
void cf_db_path_show(const char *path, char *out, size_t cap);
/* The schema version this build writes, and the one of the open file. */
int cf_db_schema_latest(void);
int cf_db_schema_version(struct cf_db *db);
/* SQLite: PRAGMA integrity_check and foreign_key_check.  PostgreSQL: the
 * schema version, constraints validated, indexes valid and every foreign
 * key's rows referring to existing rows (pg_schema.c).  CF_OK or CF_EDB
 * with the first problem in D. */
enum cf_err cf_db_integrity_check(struct cf_db *db, struct cf_diag *d);

/* Group commit: the server's writer runs many uploads in one transaction,
 * each inside a savepoint so one failed upload does not undo the others. */
enum cf_err cf_db_begin(struct cf_db *db, struct cf_diag *d);
enum cf_err cf_db_commit(struct cf_db *db, struct cf_diag *d);
void cf_db_rollback(struct cf_db *db);
enum cf_err cf_db_savepoint(struct cf_db *db, struct cf_diag *d);
enum cf_err cf_db_release(struct cf_db *db, struct cf_diag *d);
void cf_db_rollback_to(struct cf_db *db);

/* ---- tokens: stored as SHA-256 hashes, never in clear ---- */
enum cf_db_role {
	CF_DB_ROLE_AGENT = 1,   /* uploads reports for its own host only */
	CF_DB_ROLE_READER = 2,  /* reads everything, computes, checks */
	CF_DB_ROLE_ADMIN = 3,   /* everything, uploads for any host */
};
const char *cf_db_role_name(enum cf_db_role r);
/* "admin" -> CF_DB_ROLE_ADMIN; CF_EINVAL for anything else. */
enum cf_err cf_db_role_parse(const char *name, enum cf_db_role *out);

struct cf_db_token {
	char id[CF_DB_ID_MAX];          /* public id, shown by list, used by revoke */
	enum cf_db_role role;
	char host[CF_HOST_ID_MAX];      /* agents only, else "" */
	char created_at[CF_DB_TIME_MAX];
	char revoked_at[CF_DB_TIME_MAX]; /* "" while valid */
};
/* Makes a token from the system's random source: "cft_<id>_<secret>" with a
 * 256-bit secret; writes it to TOKEN (CF_DB_TOKEN_MAX bytes) and stores only
 * its hash.  HOST is required for agents and must be NULL otherwise. */
enum cf_err cf_db_token_create(struct cf_db *db, enum cf_db_role role,
			       const char *host, const char *now,
			       char *token, struct cf_db_token *info,
			       struct cf_diag *d);
/* The token's record if TOKEN is known and not revoked, else CF_ENOTFOUND. */
enum cf_err cf_db_token_lookup(struct cf_db *db, const char *token,
			       struct cf_db_token *info);
typedef int (*cf_db_token_fn)(void *ctx, const struct cf_db_token *t);
enum cf_err cf_db_token_list(struct cf_db *db, cf_db_token_fn fn, void *ctx);
/* CF_ENOTFOUND if no token has that id; revoking twice is CF_OK. */
enum cf_err cf_db_token_revoke(struct cf_db *db, const char *id,
			       const char *now, struct cf_diag *d);

/* ---- reports ---- */
struct cf_db_upload {
	const char *report_id;    /* idempotency key, chosen by the agent */
	const char *host;         /* host.id */
	const char *arch;
	const char *hostname;     /* may be "" */
	const char *content;      /* the report's content identity without
				   * its report_id and collected_at ("cfid1:"
				   * and hex, cf_report_content_id): equal
				   * content means an unchanged host */
	const char *fingerprint;  /* the CPU configuration's fingerprint (hex) */
	const char *body;         /* the report v1 document */
	const char *collected_at; /* may be "" */
	const char *received_at;
	const char *token;        /* the public id of the token it came with,
				   * or NULL (a caller trusted as it is: the
				   * CLI, tools).  A token revoked, or gone,
				   * refuses it (CF_EREVOKED), judged in the
				   * transaction that would store it */
};
enum cf_db_put_result {
	CF_DB_PUT_NEW = 1,        /* a report not seen before: stored */
	CF_DB_PUT_SEEN_AGAIN = 2, /* same content as the host's latest report:
				   * recorded as a sighting, body not stored */
	CF_DB_PUT_KNOWN = 3,      /* this report_id was stored already */
};
/* Stores an upload: the host row (created on first report), the CPU
 * configuration (deduplicated by fingerprint), the report (deduplicated by
 * content against the host's latest) and a sighting (report_id,
 * received_at).  The same report_id with another host or content is
 * CF_ECONFLICT and changes nothing.  cf_db_report_put_many of one. */
enum cf_err cf_db_report_put(struct cf_db *db, const struct cf_db_upload *u,
			     enum cf_db_put_result *res, struct cf_diag *d);

/* One upload of cf_db_report_put_many, and what storing it gave: ERR
 * (CF_OK, or why this one was refused, with DIAG), RES, and the host's
 * latest report before it, read under the host row's lock: its report_id
 * and configuration fingerprint ("" when the host had none; not read for
 * CF_DB_PUT_KNOWN). */
struct cf_db_put {
	const struct cf_db_upload *u;
	enum cf_err err;
	struct cf_diag diag;
	enum cf_db_put_result res;
	char prev_report[CF_DB_ID_MAX];
	char prev_fingerprint[CF_DB_ID_MAX];
};
/* Stores PUTS[0..N) as cf_db_report_put would one after another, with
 * one statement per table for all of them, in the caller's transaction (a
 * savepoint) or one of its own.  Their hosts, and their report_ids, must
 * be distinct (else CF_EINVAL and nothing is stored).  CF_OK: each put's
 * ERR is its outcome, and a refused one stored nothing.  Another error
 * (a statement failed) stored nothing at all. */
enum cf_err cf_db_report_put_many(struct cf_db *db, struct cf_db_put *puts,
				  size_t n, struct cf_diag *d);
/* The stored document of the report sighted as REPORT_ID into *BODY
 * (free()); CF_ENOTFOUND when no sighting has that id. */
enum cf_err cf_db_report_body(struct cf_db *db, const char *report_id,
			      char **body);

struct cf_db_host {
	char id[CF_HOST_ID_MAX];
	char arch[16];
	char hostname[CF_TEXT_MAX];
	char first_seen[CF_DB_TIME_MAX];  /* first received_at */
	char last_seen[CF_DB_TIME_MAX];   /* last received_at */
	unsigned long long reports;       /* distinct contents stored */
	unsigned long long uploads;       /* sightings */
	const char *labels_json;          /* {"rack":"r1"}; valid during the
					   * callback / until the next call */
};
typedef int (*cf_db_host_fn)(void *ctx, const struct cf_db_host *h);
/* Every host, by id.  A non-zero return from FN stops the walk. */
enum cf_err cf_db_host_list(struct cf_db *db, cf_db_host_fn fn, void *ctx);
/* One host: FN is called once, or CF_ENOTFOUND. */
enum cf_err cf_db_host_get(struct cf_db *db, const char *id, cf_db_host_fn fn,
			   void *ctx);
/* Replaces a host's labels with LABELS_JSON, an object of string values
 * (keys and values at most CF_DB_NAME_MAX-1 bytes, at most 64 labels);
 * CF_ESCHEMA naming the bad member, CF_ENOTFOUND for an unknown host. */
enum cf_err cf_db_host_set_labels(struct cf_db *db, const char *id,
				  const char *labels_json, const char *actor,
				  const char *now, struct cf_diag *d);

/* The report a host offered at time AT (NULL: its latest): the body of the
 * last sighting received at or before AT.  *BODY is malloc'd. */
struct cf_db_sighting {
	char report_id[CF_DB_ID_MAX];
	char received_at[CF_DB_TIME_MAX];
	char collected_at[CF_DB_TIME_MAX];
	char content[CF_DB_ID_MAX];
	char fingerprint[CF_DB_ID_MAX];
	bool changed;  /* content differs from the host's previous sighting */
};
enum cf_err cf_db_host_report(struct cf_db *db, const char *id, const char *at,
			      char **body, struct cf_db_sighting *s);
typedef int (*cf_db_sighting_fn)(void *ctx, const struct cf_db_sighting *s);
/* A host's sightings, newest first, at most LIMIT (0: all). */
enum cf_err cf_db_host_history(struct cf_db *db, const char *id, size_t limit,
			       cf_db_sighting_fn fn, void *ctx);

/* ---- pools: named host sets by labels and/or explicit members ---- */
struct cf_db_pool {
	char name[CF_DB_NAME_MAX];
	const char *labels_json;  /* selector: hosts carrying all these labels */
	const char *hosts_json;   /* explicit members: ["h1", "h2"] */
	char updated_at[CF_DB_TIME_MAX];
};
/* Creates or replaces a pool; *CREATED says which.  Names are
 * [A-Za-z0-9._-]{1,127}.  Explicit members need not be known hosts yet. */
enum cf_err cf_db_pool_put(struct cf_db *db, const char *name,
			   const char *labels_json, const char *hosts_json,
			   const char *actor, const char *now, bool *created,
			   struct cf_diag *d);
typedef int (*cf_db_pool_fn)(void *ctx, const struct cf_db_pool *p);
enum cf_err cf_db_pool_get(struct cf_db *db, const char *name,
			   cf_db_pool_fn fn, void *ctx);
enum cf_err cf_db_pool_list(struct cf_db *db, cf_db_pool_fn fn, void *ctx);
enum cf_err cf_db_pool_delete(struct cf_db *db, const char *name,
			      const char *actor, const char *now,
			      struct cf_diag *d);
typedef int (*cf_db_name_fn)(void *ctx, const char *name);
/* The pool's members that have reported: explicit members that are known
 * hosts, plus every host carrying all selector labels (none if the selector
 * is empty), by id. */
enum cf_err cf_db_pool_members(struct cf_db *db, const char *name,
			       cf_db_name_fn fn, void *ctx);
/* The same members, each with its latest sighting and that report's body
 * (LEN bytes; valid during the call), in one statement: FN per member,
 * by id; a non-zero return stops the walk.  CF_ENOTFOUND for no pool. */
typedef int (*cf_db_latest_fn)(void *ctx, const char *host,
			       const struct cf_db_sighting *s,
			       const char *body, size_t len);
enum cf_err cf_db_pool_latest(struct cf_db *db, const char *name,
			      cf_db_latest_fn fn, void *ctx);

/* ---- profiles: named, versioned, immutable once published ---- */
struct cf_db_source {
	const char *host;
	const char *report_id;  /* the sighting the baseline was computed from */
};
/* Publishes BODY (a profile v1 document) as the next version of NAME
 * (version 1 for a new name) computed from POOL (may be "") and SOURCES. */
enum cf_err cf_db_profile_publish(struct cf_db *db, const char *name,
				  const char *body, const char *pool,
				  const struct cf_db_source *sources,
				  size_t nsources, const char *actor,
				  const char *now, int *version,
				  struct cf_diag *d);
struct cf_db_profile {
	char name[CF_DB_NAME_MAX];
	int version;
	char pool[CF_DB_NAME_MAX];
	char created_at[CF_DB_TIME_MAX];
	char created_by[CF_DB_ID_MAX];
	const char *body;          /* valid during the callback */
	size_t nsources;
	const struct cf_db_source *sources;  /* valid during the callback */
};
typedef int (*cf_db_profile_fn)(void *ctx, const struct cf_db_profile *p);
/* VERSION 0 means the latest.  CF_ENOTFOUND for no such name or version. */
enum cf_err cf_db_profile_get(struct cf_db *db, const char *name, int version,
			      cf_db_profile_fn fn, void *ctx);
/* Every version of NAME (newest first), or with NAME NULL the latest
 * version of every profile; BODY and SOURCES are not loaded (NULL, 0). */
enum cf_err cf_db_profile_list(struct cf_db *db, const char *name,
			       cf_db_profile_fn fn, void *ctx);

/* ---- audit ---- */
struct cf_db_audit {
	long long seq;
	char at[CF_DB_TIME_MAX];
	char actor[CF_DB_ID_MAX];     /* token id, or "cli" */
	char action[32];              /* "pool.put", "profile.publish", ... */
	char object[CF_DB_NAME_MAX];
	const char *detail_json;
};
typedef int (*cf_db_audit_fn)(void *ctx, const struct cf_db_audit *a);
/* Newest first, at most LIMIT (0: all). */
enum cf_err cf_db_audit_list(struct cf_db *db, size_t limit, cf_db_audit_fn fn,
			     void *ctx);

/* ---- drift events: a host's configuration changed between reports ---- */
/* One field of the configuration that changed, with the names a user
 * knows its old and new values by (FEAT_*, cpuinfo flags; "" for none). */
struct cf_db_event_field {
	const char *reg;
	const char *field;
	const char *feature_old, *feature_new;
	unsigned long long old_value, new_value;
};
/* A published profile version checked on the host's previous report and
 * on the new one; MEMBER: the host is a member of the profile's pool. */
struct cf_db_event_verdict {
	const char *profile;
	int version;
	const char *pool;          /* "" for a profile of no pool */
	bool member;
	bool accepted_before, accepted_now;
	const char *reasons;       /* refused now: the check's reasons, one per
				    * line; else "" */
};
struct cf_db_event {
	long long seq;             /* set by cf_db_event_add */
	const char *at;            /* when the new report was received */
	const char *host, *arch;
	const char *from_report, *to_report;  /* report ids (sightings) */
	/* The cause where the reports show it: [0] before, [1] now. */
	const char *kernel[2], *microcode[2], *firmware[2];
	size_t nfields;
	const struct cf_db_event_field *fields;
	size_t nverdicts;
	const struct cf_db_event_verdict *verdicts;
};
/* Stores EV (of a known host, in the caller's transaction or its own);
 * *SEQ (may be NULL) gets its number.  At most CF_DB_EVENT_PARTS_MAX
 * fields and as many verdicts. */
#define CF_DB_EVENT_PARTS_MAX 100000
enum cf_err cf_db_event_add(struct cf_db *db, const struct cf_db_event *ev,
			    long long *seq, struct cf_diag *d);
typedef int (*cf_db_event_fn)(void *ctx, const struct cf_db_event *ev);
/* Events newest first: those received at or after SINCE (NULL: all), of
 * HOST (NULL: every host), at most LIMIT (0: all).  Strings and arrays are
 * valid during the callback; a non-zero return stops the walk. */
enum cf_err cf_db_event_list(struct cf_db *db, const char *since,
			     const char *host, size_t limit,
			     cf_db_event_fn fn, void *ctx);

/* ---- figures for /metrics ---- */
struct cf_db_stats {
	unsigned long long hosts, reports, sightings, configs, pools,
		profiles, profile_versions, tokens, events;
	/* The newest audit row's number: it moves with every change of
	 * pools, profiles, labels or tokens. */
	unsigned long long audit_seq;
};
enum cf_err cf_db_stats(struct cf_db *db, struct cf_db_stats *out);

#endif
