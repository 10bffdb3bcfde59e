/* The fleet: what the service does with reports, pools and profiles, on
 * typed structs and engine objects.  Between the HTTP handlers (server/)
 * and storage (db/) plus the engine: no JSON tree, no HTTP status, no
 * socket here.  Every function returns an enum cf_err and, on failure, a
 * sentence in D meant for the client (naming the host, pool or profile).
 *
 * Reads borrow a connection from F (read_get/read_put); every write runs
 * as one job through F->write, inside a transaction (the server's writer
 * groups jobs; cf_fleet_direct runs each at once), so a refused write
 * changes nothing.  A stored report is parsed once per call that needs it,
 * and never printed to be parsed again. */
#ifndef CF_FLEET_H
#define CF_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cpufleet.h>
#include "db/db.h"
#include "fleet/whatif.h"

/* One write, run inside a transaction of its own (a savepoint with group
 * commit): a non-CF_OK result undoes what it wrote. */
typedef enum cf_err (*cf_fleet_write_fn)(struct cf_db *db, void *arg,
					 struct cf_diag *d);
/* Writes of one kind run together, to the effect of their
 * cf_fleet_write_fn one after the other: sets RES[I] (DIAGS[I]) of each of
 * ARGS[0..N), and a job refused wrote nothing; another return than CF_OK
 * means nothing at all may be kept (the caller undoes it and runs each
 * alone). */
typedef enum cf_err (*cf_fleet_write_many_fn)(struct cf_db *db,
					      void *const *args, size_t n,
					      enum cf_err *res,
					      struct cf_diag *diags,
					      struct cf_diag *d);

struct cf_fleet {
	/* A read connection, and giving it back. */
	struct cf_db *(*read_get)(void *ctx);
	void (*read_put)(void *ctx, struct cf_db *db);
	/* Runs FN(ARG) in a transaction; CF_OK once it is durable.  MANY
	 * (may be NULL; a writer may ignore it) may run ARG together with
	 * other jobs of the same MANY. */
	enum cf_err (*write)(void *ctx, cf_fleet_write_fn fn,
			     cf_fleet_write_many_fn many, void *arg,
			     struct cf_diag *d);
	/* The time to record: RFC 3339 UTC with milliseconds. */
	void (*now)(void *ctx, char *buf, size_t len);
	void *ctx;
	/* Has the caller gone (the server: its client disconnected)?  Long
	 * work (resolving a pool, a baseline, a matrix) asks now and then
	 * and stops with CF_ECANCELED.  NULL: never. */
	bool (*cancelled)(void *cctx);
	void *cctx;
	/* Bounds on one request's work; 0: CF_FLEET_POOL_HOSTS_MAX and
	 * CF_FLEET_MATRIX_CONFIGS_MAX below. */
	size_t max_pool_hosts, max_matrix_configs;
};

/* F on one connection DB (tests, tools): reads use it, each write is its
 * own transaction on it, NOW (may be NULL: the clock) gives the time. */
struct cf_fleet_direct {
	struct cf_db *db;
	const char *now;
};
void cf_fleet_direct(struct cf_fleet *f, struct cf_fleet_direct *dir);

/* ---- upload ---- */

/* The outcome of an upload, as /metrics counts it. */
enum cf_fleet_upload_status {
	CF_FLEET_NEW = 1,        /* content not seen before: stored */
	CF_FLEET_SEEN_AGAIN = 2, /* same content as the host's latest report */
	CF_FLEET_KNOWN = 3,      /* this report_id was stored already */
};
const char *cf_fleet_upload_status_name(enum cf_fleet_upload_status s);

struct cf_fleet_upload {
	char report_id[CF_REPORT_ID_MAX];
	char received_at[CF_DB_TIME_MAX];
	enum cf_fleet_upload_status status;
	long long event;             /* the drift event recorded, 0: none */
};
/* Stores report R (its report_id set from its content and collection time
 * when it has none: the same document is the same upload).  A new report
 * of a known host whose configuration (fingerprint) differs from the
 * host's previous report's also records a drift event in the same
 * transaction (fleet/drift.h); an unchanged or first report records none.  A host id no
 * /v1/hosts/{id} path can name ('/' in it, "." or "..") is CF_EINVAL.
 * TOK is the token it came with (NULL: a trusted caller, the CLI): an
 * agent's may upload its own host's reports only (else CF_EDENIED), and
 * one revoked by the time the report would be stored refuses it
 * (CF_EREVOKED), however recently its holder was looked up.  A report_id
 * stored already with another host or content is CF_ECONFLICT.  Nothing
 * is stored on failure. */
enum cf_err cf_fleet_upload(struct cf_fleet *f, struct cf_report *r,
			    const struct cf_db_token *tok,
			    struct cf_fleet_upload *out, struct cf_diag *d);

/* ---- hosts and their history ---- */
enum cf_err cf_fleet_hosts(struct cf_fleet *f, cf_db_host_fn fn, void *ctx);

/* A host, the report it offered at AT (NULL: its latest) and its newest
 * LIMIT sightings (0: all).  Strings are copies, free with
 * cf_fleet_history_clear. */
struct cf_fleet_history {
	struct cf_db_host host;      /* host.labels_json: LABELS below */
	char *labels;
	struct cf_db_sighting at;
	char *report;                /* the stored report document */
	struct cf_db_sighting *sightings;
	size_t n;
};
/* AT is an RFC 3339 UTC time as stored; CF_ENOTFOUND for an
 * unknown host or one that had reported nothing at AT. */
enum cf_err cf_fleet_history(struct cf_fleet *f, const char *id,
			     const char *at, size_t limit,
			     struct cf_fleet_history *out, struct cf_diag *d);
void cf_fleet_history_clear(struct cf_fleet_history *h);

/* Replaces a host's labels (an object of strings, as JSON text). */
enum cf_err cf_fleet_set_labels(struct cf_fleet *f, const char *id,
				const char *labels_json, const char *actor,
				struct cf_diag *d);

/* ---- pools ---- */
enum cf_err cf_fleet_pools(struct cf_fleet *f, cf_db_pool_fn fn, void *ctx);
/* The pool's definition (FN once) then its members (MEMBER per host id);
 * CF_ENOTFOUND "no such pool". */
enum cf_err cf_fleet_pool_get(struct cf_fleet *f, const char *name,
			      cf_db_pool_fn fn, cf_db_name_fn member,
			      void *ctx, struct cf_diag *d);
/* Creates or replaces a pool; one whose members would then be of two
 * architectures is CF_ECONFLICT and changes nothing. */
enum cf_err cf_fleet_pool_put(struct cf_fleet *f, const char *name,
			      const char *labels_json, const char *hosts_json,
			      const char *actor, bool *created,
			      struct cf_diag *d);
enum cf_err cf_fleet_pool_delete(struct cf_fleet *f, const char *name,
				 const char *actor, struct cf_diag *d);

/* Bounds on one request's work (README "Request limits"): a pool of more
 * members than this is not resolved, a matrix of more distinct
 * configurations is not computed (CF_ETOOBIG naming the limit).  The
 * memory a pool costs is about its members' ids plus one parsed report per
 * configuration; the matrix, the square of its configurations. */
#define CF_FLEET_POOL_HOSTS_MAX 50000
#define CF_FLEET_MATRIX_CONFIGS_MAX 256

/* A pool resolved: its members that have reported, by id, each with the
 * sighting of its latest report and its configuration; and the distinct
 * configurations among them (exactly as cf_matrix_group tells them
 * apart), each with the parsed report of its first member.  Work that
 * follows configurations costs their number, not the members'. */
struct cf_fleet_member {
	char host[CF_HOST_ID_MAX];
	struct cf_db_sighting sighting;
	size_t config;               /* index into cfg */
};
struct cf_fleet_config {
	struct cf_report *report;    /* its first member's, parsed */
	size_t first;                /* that member's index */
	size_t n;                    /* its members */
};
struct cf_fleet_pool {
	char name[CF_DB_NAME_MAX];
	size_t n;
	struct cf_fleet_member *m;
	size_t ncfg;
	struct cf_fleet_config *cfg;
};
/* CF_ENOTFOUND for no such pool; a stored report that does not parse is
 * CF_EDB; over F's max_pool_hosts members CF_ETOOBIG; CF_ECANCELED
 * when F's cancelled() says so.  An empty pool resolves (N = 0).  Each
 * stored report is read once; only the first of each configuration is
 * parsed in full (the others are told apart by their text less host ids,
 * names and times, then exactly). */
enum cf_err cf_fleet_pool_resolve(struct cf_fleet *f, const char *name,
				  struct cf_fleet_pool **out,
				  struct cf_diag *d);
void cf_fleet_pool_destroy(struct cf_fleet_pool *p);

/* ---- baselines and profiles ---- */
struct cf_fleet_baseline {
	struct cf_fleet_pool *pool;
	struct cf_profile *profile;
	char *json;                  /* the profile's document, as published */
	int version;                 /* the version published, 0: none */
};
/* The baseline of pool NAME's members; with PUBLISH_AS (a profile name)
 * also published as that profile's next version with the members' reports
 * as its sources.  A pool with no member that has reported is CF_EEMPTY,
 * members of two architectures CF_ECONFLICT, publishing an infeasible
 * baseline CF_ECONFLICT (nothing published).  Free with
 * cf_fleet_baseline_clear, also after a failure. */
enum cf_err cf_fleet_baseline(struct cf_fleet *f, const char *name,
			      const char *publish_as, const char *actor,
			      struct cf_fleet_baseline *out,
			      struct cf_diag *d);
void cf_fleet_baseline_clear(struct cf_fleet_baseline *b);

/* Publishes PR as the next version of NAME (no pool, no sources). */
enum cf_err cf_fleet_profile_put(struct cf_fleet *f, const char *name,
				 const struct cf_profile *pr,
				 const char *actor, int *version,
				 struct cf_diag *d);
/* Version VERSION (0: the latest) of profile NAME, parsed; CF_ENOTFOUND
 * naming it, CF_EDB if the stored document does not parse. */
enum cf_err cf_fleet_profile_load(struct cf_fleet *f, const char *name,
				  int version, struct cf_profile **out,
				  struct cf_diag *d);
/* HOST's own profile (all KVM offers there, as `check --from` builds it)
 * from its latest report; CF_ENOTFOUND naming an unknown host. */
enum cf_err cf_fleet_host_profile(struct cf_fleet *f, const char *host,
				  struct cf_profile **out, struct cf_diag *d);
enum cf_err cf_fleet_profiles(struct cf_fleet *f, const char *name,
			      cf_db_profile_fn fn, void *ctx);
enum cf_err cf_fleet_profile_get(struct cf_fleet *f, const char *name,
				 int version, cf_db_profile_fn fn, void *ctx);

/* ---- check and matrix ---- */

/* Called once per host, in order, with its verdict (valid during the
 * call); a non-zero return stops the walk. */
typedef int (*cf_fleet_verdict_fn)(void *ctx, const char *host,
				   const struct cf_verdict *v);
/* Profile PR (with VCPUS > 0: for a VM of that many vCPUs) against the
 * latest report of each of HOSTS.  CF_ENOTFOUND for a host that has not
 * reported, CF_ECONFLICT for one of another architecture than PR,
 * CF_ECANCELED when F's cancelled() says so (asked every 256 hosts); hosts
 * before it were passed to FN. */
enum cf_err cf_fleet_check(struct cf_fleet *f, const struct cf_profile *pr,
			   const char *const *hosts, size_t n, uint64_t vcpus,
			   cf_fleet_verdict_fn fn, void *ctx,
			   struct cf_diag *d);

/* Every ordered pair of the pool's distinct configurations (a VM started
 * on the first's own profile, moved to the second: cell[from * ncfg + to],
 * computed by cf_matrix_pairs as `cpufleet matrix` does) and, when profile
 * PROFILE (NULL: the pool's name) is published, its latest version on each
 * configuration (base[to]).  Over F's max_matrix_configs configurations:
 * CF_ETOOBIG. */
struct cf_fleet_matrix {
	struct cf_fleet_pool *pool;
	struct cf_matrix_cell *cell;
	struct cf_matrix_cell *base;  /* NULL: no such profile */
	char profile[CF_DB_NAME_MAX];
};
enum cf_err cf_fleet_matrix(struct cf_fleet *f, const char *name,
			    const char *profile, struct cf_fleet_matrix *out,
			    struct cf_diag *d);
void cf_fleet_matrix_clear(struct cf_fleet_matrix *m);

/* ---- what-if ---- */

/* Pool NAME with the reports ADD added (replacing a member's) and the
 * members REMOVE removed, compared with the latest published version of
 * profile PROFILE (NULL: the pool's name; none published: the baseline of
 * the members now, AGAINST ""): cf_whatif_run on the members' latest
 * reports.  Reads only: nothing is stored.  CF_ENOTFOUND naming the pool,
 * or a host to remove that is no member.  Free with
 * cf_fleet_what_if_clear, also after a failure. */
struct cf_fleet_whatif {
	struct cf_fleet_pool *pool;
	struct cf_profile *published;
	char against[CF_DB_NAME_MAX];   /* "": not published */
	int version;
	struct cf_whatif w;
};
enum cf_err cf_fleet_what_if(struct cf_fleet *f, const char *name,
			     const char *profile,
			     const struct cf_whatif_host *add, size_t nadd,
			     const char *const *remove, size_t nremove,
			     struct cf_fleet_whatif *out, struct cf_diag *d);
void cf_fleet_what_if_clear(struct cf_fleet_whatif *w);

/* ---- features ---- */

/* Which hosts offer feature FEATURE (a name `show` prints, case ignored,
 * as cf_report_shows takes it): every host whose architecture's catalogue
 * names it, judged on its latest report by cf_report_shows, by host id.
 * Each distinct configuration is parsed once.  CF_ENOTFOUND naming the
 * feature when no host's architecture names it; over F's max_pool_hosts
 * hosts CF_ETOOBIG; CF_ECANCELED when F's cancelled() says so.  ARCH: the
 * architectures that name it, in the order their first host came.  Free
 * with cf_fleet_feature_clear, also after a failure. */
struct cf_fleet_feature_host {
	char host[CF_HOST_ID_MAX];
	const char *arch;            /* one of ARCH below */
	bool shows;
};
struct cf_fleet_feature {
	size_t n, narch;
	struct cf_fleet_feature_host *h;
	const char *arch[8];         /* static strings (cf_report_arch's) */
};
enum cf_err cf_fleet_feature(struct cf_fleet *f, const char *feature,
			     struct cf_fleet_feature *out, struct cf_diag *d);
void cf_fleet_feature_clear(struct cf_fleet_feature *ft);

/* ---- drift events ---- */

/* Events newest first: received at or after SINCE (NULL: all), of HOST
 * (NULL: every host), at most LIMIT (0: all); FN as cf_db_event_list. */
enum cf_err cf_fleet_events(struct cf_fleet *f, const char *since,
			    const char *host, size_t limit,
			    cf_db_event_fn fn, void *ctx);

/* Hosts whose latest report refuses the latest version of a published
 * profile whose pool they are members of (README "Drift"): per such
 * profile one check per distinct configuration of its pool.  A pool over
 * F's max_pool_hosts, or with a stored report that does not parse, is left
 * out and counted in *SKIPPED (may be NULL). */
enum cf_err cf_fleet_hosts_refusing(struct cf_fleet *f,
				    unsigned long long *n, size_t *skipped,
				    struct cf_diag *d);

/* ---- audit and figures ---- */
enum cf_err cf_fleet_audit(struct cf_fleet *f, size_t limit,
			   cf_db_audit_fn fn, void *ctx);
/* The database's figures and schema version. */
enum cf_err cf_fleet_stats(struct cf_fleet *f, struct cf_db_stats *st,
			   int *schema);

#endif
