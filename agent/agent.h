/* The agent's loop: collect a report, spool it, deliver the spool in order
 * with retries and backoff.  A report is removed from the spool only after
 * the server acknowledged it (2xx), and uploads are idempotent by report id,
 * so a lost acknowledgement costs a duplicate request, never a duplicate or
 * lost report. */
#ifndef CF_AGENT_H
#define CF_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <cpufleet.h>
#include "agent/client.h"
#include "agent/spool.h"

/* Makes this round's report as a report v1 JSON text (malloc'd) that
 * carries a fresh "report_id". */
typedef enum cf_err (*cf_agent_collect_fn)(void *ctx, char **json,
					   struct cf_diag *d);
/* Progress for whoever runs the agent (main() prints it). */
typedef void (*cf_agent_log_fn)(void *ctx, const char *msg);

struct cf_agent_opts {
	struct cf_client *client;
	struct cf_spool *spool;
	cf_agent_collect_fn collect;
	void *collect_ctx;
	cf_agent_log_fn log;        /* may be NULL */
	void *log_ctx;
	unsigned interval_s;        /* between collections; ignored by once */
	bool once;                  /* one collection, one drain, return */
	unsigned tries;             /* once: delivery attempts before giving
				     * up with the spool kept (0: 5) */
	unsigned backoff_min_ms;    /* first retry delay (0: 500) */
	unsigned backoff_max_ms;    /* cap, doubled each failure (0: 60000) */
	volatile sig_atomic_t *stop; /* set by a signal handler: return soon */
};

struct cf_agent_stats {
	unsigned long collected, delivered, already_known, rejected, failures;
};

/* Delivers the spool oldest first until it is empty (CF_OK), or an
 * answer keeps the oldest entry: the server cannot be reached, answers
 * 5xx, 408, 425, 429 or a 4xx the agent does not know (CF_ENET: try again
 * later), refuses the token (401: CF_EDENIED) or is no cpufleet server
 * (404, 405, another 2xx, a 3xx: CF_EINVAL).  A report refused for good
 * (400, 403, 409, 410, 413, 415, 422, or unreadable in the spool) moves to
 * rejected/ (cf_spool_reject) with "status: N", "error: TEXT" and "time:
 * UTC" lines beside it, and the next one goes; agent.c says why for each
 * status. */
enum cf_err cf_agent_drain(const struct cf_agent_opts *o,
			   struct cf_agent_stats *st, struct cf_diag *d);
/* once: collect, spool, then drain with up to TRIES attempts and backoff
 * (CF_ENET only: a refused token or wrong URL ends at once); returns the
 * drain's result.  Otherwise loops until *STOP: collect every INTERVAL_S,
 * drain between, after a failure with backoff (CF_EDENIED and CF_EINVAL
 * at the cap); returns CF_OK when stopped.  The backoff: the first delay
 * is drawn from [BACKOFF_MIN_MS/2, BACKOFF_MIN_MS], and each next one from
 * [B/2, B] with B doubled up to BACKOFF_MAX_MS. */
enum cf_err cf_agent_run(const struct cf_agent_opts *o,
			 struct cf_agent_stats *st, struct cf_diag *d);

#endif
