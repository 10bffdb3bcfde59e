/* The agent's loop: collect -> spool -> drain, with exponential backoff and
 * jitter between failed drains. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent/agent.h"
#include "util/diag.h"

#define AGENT_STEP_MS 50          /* sleeps check *stop this often */
#define AGENT_LOG_MAX 1024
#define AGENT_REASON_MAX 512

static void agent_log(const struct cf_agent_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void agent_log(const struct cf_agent_opts *o, const char *fmt, ...)
{
	char msg[AGENT_LOG_MAX];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->log(o->log_ctx, msg);
}

static bool agent_stopped(const struct cf_agent_opts *o)
{
	return o->stop && *o->stop;
}

static uint64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps MS in steps, returning early once *stop is set. */
static void agent_sleep(const struct cf_agent_opts *o, uint64_t ms)
{
	uint64_t end = agent_now_ms() + ms, now;

	while (!agent_stopped(o) && (now = agent_now_ms()) < end) {
		uint64_t step = end - now < AGENT_STEP_MS ? end - now : AGENT_STEP_MS;
		struct timespec ts = { (time_t)(step / 1000),
				       (long)(step % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* xorshift64*: jitter needs no quality, only that agents desynchronise. */
static uint64_t agent_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

struct agent_backoff {
	uint64_t min_ms, max_ms, cur_ms, rng;
};

static void agent_backoff_init(struct agent_backoff *b,
			       const struct cf_agent_opts *o)
{
	struct timespec ts;

	b->min_ms = o->backoff_min_ms ? o->backoff_min_ms : 500;
	b->max_ms = o->backoff_max_ms ? o->backoff_max_ms : 60000;
	if (b->max_ms < b->min_ms)
		b->max_ms = b->min_ms;
	b->cur_ms = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	b->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)b;
	if (!b->rng)
		b->rng = 1;
}

/* The next delay after a failure: the base doubles up to the cap, and the
 * delay is drawn from [base/2, base]. */
static uint64_t agent_backoff_next(struct agent_backoff *b)
{
	uint64_t half;

	if (!b->cur_ms)
		b->cur_ms = b->min_ms;
	else
		b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
	half = b->cur_ms / 2;
	return b->cur_ms - half + agent_rand(&b->rng) % (half + 1);
}

/* What an answer to POST /v1/reports means for the entry sent. */
enum agent_verdict {
	AV_DELIVERED,  /* on the server: off the spool */
	AV_REJECT,     /* refused for good: to rejected/, go on with the next */
	AV_OPERATOR,   /* the agent's token or URL is wrong, not the report:
			* kept, and nothing behind it would fare better */
	AV_RETRY,      /* maybe not next time: kept, retried with backoff */
};

/* The statuses the agent decides on, and why; anything else is AV_RETRY
 * if 1xx, 4xx or 5xx (the agent cannot know that it is for good, and
 * keeping a report is never wrong), AV_OPERATOR if 2xx or 3xx (an answer
 * cpufleet's server does not give: a proxy or another service is at that
 * URL; redirects are not followed).  RFC 9110 section 15 for the
 * meanings. */
static const struct {
	long status;
	enum agent_verdict verdict;
} agent_statuses[] = {
	{ 200, AV_DELIVERED },  /* known: this report id is stored */
	{ 201, AV_DELIVERED },  /* new, or seen again */
	/* The document: malformed or breaking the v1 contract.  The same
	 * bytes get the same answer from any server of this version. */
	{ 400, AV_REJECT },
	/* No, an unknown or a revoked token.  Every report would get it, so
	 * setting reports aside would empty the queue for a fault of the
	 * configuration (a revoked token, a server started on the wrong
	 * database): reports wait, nothing is rejected. */
	{ 401, AV_OPERATOR },
	/* A valid token that may not upload this report: an agent token of
	 * another host (the report names a host the token is not for, as
	 * when --host-id or the hostname changed, or --from imports a
	 * report), or a reader token.  Section 15.5.4: not to be repeated
	 * with the same credentials, and this run has no others. */
	{ 403, AV_REJECT },
	/* No /v1/reports here, or not for POST: --server names another
	 * service or a wrong path prefix. */
	{ 404, AV_OPERATOR },
	{ 405, AV_OPERATOR },
	{ 408, AV_RETRY },      /* the server timed the request out */
	{ 409, AV_REJECT },     /* this report id is stored with another body */
	{ 410, AV_REJECT },     /* gone for good, by definition */
	{ 413, AV_REJECT },     /* over the server's --max-body */
	{ 415, AV_REJECT },     /* not a media type the server takes */
	{ 422, AV_REJECT },     /* well-formed but refused (section 15.5.21) */
	{ 425, AV_RETRY },      /* too early */
	{ 429, AV_RETRY },      /* too many requests */
};

static enum agent_verdict agent_verdict_of(long status)
{
	for (size_t i = 0; i < sizeof(agent_statuses) /
	     sizeof(agent_statuses[0]); i++)
		if (agent_statuses[i].status == status)
			return agent_statuses[i].verdict;
	return status >= 200 && status < 400 ? AV_OPERATOR : AV_RETRY;
}

/* The reason kept beside a rejected entry, one "key: value" a line:
 * status (or "none" when it was never sent), the server's error text,
 * and the time (UTC). */
static void agent_reason(char *buf, size_t len, long status,
			 const char *text)
{
	char st[24], ts[32];
	time_t t = time(NULL);
	struct tm tm;

	if (status)
		snprintf(st, sizeof(st), "%ld", status);
	else
		snprintf(st, sizeof(st), "none");
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, len, "status: %s\nerror: %s\ntime: %s", st, text, ts);
}

/* Delivers entry NAME: CF_OK when it left the queue (delivered or
 * rejected), else why it stays: CF_ENET (retry later), CF_EDENIED (the
 * token) or CF_EINVAL (the URL). */
static enum cf_err agent_deliver(const struct cf_agent_opts *o,
				 struct cf_agent_stats *st, const char *name,
				 const char *body, size_t len,
				 struct cf_diag *d)
{
	enum cf_err err;
	long status = 0;
	char *resp = NULL;
	char text[AGENT_REASON_MAX], reason[AGENT_REASON_MAX + 96];
	struct cf_diag cd;

	cd.msg[0] = '\0';
	err = cf_client_request(o->client, "POST", "/v1/reports", body, len,
				&status, &resp, NULL, &cd);
	if (err == CF_ENET || err == CF_ETOOBIG) {
		st->failures++;
		err = cf_diag_set(d, CF_ENET, "%s", cd.msg);
		goto cleanup;
	}
	if (err != CF_OK) {
		err = cf_diag_set(d, err, "%s", cd.msg);
		goto cleanup;
	}
	cf_client_error_text(resp, text, sizeof(text));
	switch (agent_verdict_of(status)) {
	case AV_DELIVERED:
		if ((err = cf_spool_remove(o->spool, name, d)) != CF_OK)
			goto cleanup;
		st->delivered++;
		if (status == 200)
			st->already_known++;
		agent_log(o, "delivered %s (%ld %s)", name, status,
			  status == 200 ? "already known" : "new");
		break;
	case AV_REJECT:
		agent_reason(reason, sizeof(reason), status, text);
		if ((err = cf_spool_reject(o->spool, name, reason, d)) != CF_OK)
			goto cleanup;
		st->rejected++;
		agent_log(o, "rejected %s: HTTP %ld: %s; kept in rejected/",
			  name, status, text);
		break;
	case AV_OPERATOR:
		st->failures++;
		err = status == 401 ?
			cf_diag_set(d, CF_EDENIED, "server refused the token "
				    "(HTTP 401: %s)", text) :
			cf_diag_set(d, CF_EINVAL, "server URL: HTTP %ld: %s "
				    "(no cpufleet /v1/reports there)", status,
				    text);
		break;
	case AV_RETRY:
		st->failures++;
		err = cf_diag_set(d, CF_ENET, "server answered HTTP %ld: %s",
				  status, text);
		break;
	}
cleanup:
	free(resp);
	return err;
}

enum cf_err cf_agent_drain(const struct cf_agent_opts *o,
			   struct cf_agent_stats *st, struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	struct cf_agent_stats local;
	char name[CF_SPOOL_NAME_MAX];
	char *body = NULL;
	size_t len = 0;
	struct cf_diag rd;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!o || !o->client || !o->spool)
		return cf_diag_set(d, CF_EINVAL, "agent: no client or spool");
	while (!agent_stopped(o)) {
		rd.msg[0] = '\0';
		err = cf_spool_oldest(o->spool, name, sizeof(name), &body, &len,
				      &rd);
		if (err == CF_ENOTFOUND) {
			err = CF_OK;
			break;
		}
		if (err == CF_ETOOBIG && name[0]) {
			/* Unreadable as a report: set aside, not retried. */
			char reason[AGENT_REASON_MAX + 96];
			agent_reason(reason, sizeof(reason), 0, rd.msg);
			agent_log(o, "rejected %s: %s; kept in rejected/", name,
				  rd.msg);
			if ((err = cf_spool_reject(o->spool, name, reason, d)) !=
			    CF_OK)
				break;
			st->rejected++;
			continue;
		}
		if (err != CF_OK) {
			cf_diag_set(d, err, "%s", rd.msg);
			break;
		}
		err = agent_deliver(o, st, name, body, len, d);
		free(body);
		body = NULL;
		if (err != CF_OK)
			break;
	}
	free(body);
	return err;
}

/* One collection into the spool. */
static enum cf_err agent_collect(const struct cf_agent_opts *o,
				 struct cf_agent_stats *st, struct cf_diag *d)
{
	enum cf_err err;
	char *json = NULL;

	if ((err = o->collect(o->collect_ctx, &json, d)) != CF_OK)
		goto cleanup;
	if (!json) {
		err = cf_diag_set(d, CF_EINVAL, "collect gave no report");
		goto cleanup;
	}
	if ((err = cf_spool_put(o->spool, json, strlen(json), d)) != CF_OK)
		goto cleanup;
	st->collected++;
	agent_log(o, "collected a report; %zu report(s) spooled",
		  cf_spool_count(o->spool));
cleanup:
	free(json);
	return err;
}

static void agent_add(struct cf_agent_stats *to,
		      const struct cf_agent_stats *from)
{
	to->collected += from->collected;
	to->delivered += from->delivered;
	to->already_known += from->already_known;
	to->rejected += from->rejected;
	to->failures += from->failures;
}

static enum cf_err agent_run_once(const struct cf_agent_opts *o,
				  struct cf_agent_stats *st, struct cf_diag *d)
{
	enum cf_err err;
	struct agent_backoff b;
	struct cf_agent_stats one;
	struct cf_diag ld;
	unsigned tries = o->tries ? o->tries : 5, attempt = 0;
	uint64_t wait;

	agent_backoff_init(&b, o);
	ld.msg[0] = '\0';
	if ((err = agent_collect(o, st, &ld)) != CF_OK)
		goto cleanup;
	for (;;) {
		ld.msg[0] = '\0';
		err = cf_agent_drain(o, &one, &ld);
		agent_add(st, &one);
		attempt++;
		if (err != CF_ENET)
			break;
		if (attempt >= tries) {
			agent_log(o, "server unreachable: %s; giving up after %u "
				  "attempt(s), %zu report(s) spooled", ld.msg,
				  attempt, cf_spool_count(o->spool));
			break;
		}
		wait = agent_backoff_next(&b);
		agent_log(o, "server unreachable: %s; %zu report(s) spooled, "
			  "retry in %.1f s", ld.msg, cf_spool_count(o->spool),
			  (double)wait / 1000.0);
		agent_sleep(o, wait);
		if (agent_stopped(o))
			break;  /* err stays CF_ENET: the spool is not empty */
	}
	if (err == CF_OK && agent_stopped(o) && cf_spool_count(o->spool) > 0)
		err = cf_diag_set(&ld, CF_ENET, "stopped with %zu report(s) "
				  "spooled", cf_spool_count(o->spool));
cleanup:
	if (err != CF_OK)
		cf_diag_set(d, err, "%s", ld.msg);
	return err;
}

/* Runs until stopped: every failure is logged and waited out, none ends
 * the loop. */
static enum cf_err agent_run_loop(const struct cf_agent_opts *o,
				  struct cf_agent_stats *st)
{
	enum cf_err err;
	struct agent_backoff b;
	struct cf_agent_stats one;
	struct cf_diag ld;
	uint64_t interval = (uint64_t)(o->interval_s ? o->interval_s : 1) * 1000u;
	uint64_t now, next_collect, next_drain, wait, until;

	agent_backoff_init(&b, o);
	next_collect = next_drain = agent_now_ms();
	while (!agent_stopped(o)) {
		now = agent_now_ms();
		if (now >= next_collect) {
			ld.msg[0] = '\0';
			if ((err = agent_collect(o, st, &ld)) != CF_OK)
				agent_log(o, "collection failed: %s (%s)", ld.msg,
					  cf_strerror(err));
			next_collect = now + interval;
		}
		if (now >= next_drain && cf_spool_count(o->spool) > 0) {
			ld.msg[0] = '\0';
			err = cf_agent_drain(o, &one, &ld);
			agent_add(st, &one);
			if (err == CF_EDENIED || err == CF_EINVAL) {
				/* The token or the URL: nothing the next few
				 * seconds change, but the server's side may be
				 * put right (a restored database, a fixed
				 * proxy), so slowly, at the backoff cap. */
				b.cur_ms = b.max_ms;
				wait = agent_backoff_next(&b);
				agent_log(o, "%s; %zu report(s) kept in the spool, "
					  "retry in %.1f s", ld.msg,
					  cf_spool_count(o->spool),
					  (double)wait / 1000.0);
				next_drain = agent_now_ms() + wait;
			} else if (err == CF_OK) {
				b.cur_ms = 0;
			} else {
				wait = agent_backoff_next(&b);
				agent_log(o, "%s: %s; %zu report(s) spooled, retry "
					  "in %.1f s", err == CF_ENET ?
					  "server unreachable" : "delivery failed",
					  ld.msg, cf_spool_count(o->spool),
					  (double)wait / 1000.0);
				next_drain = agent_now_ms() + wait;
			}
		}
		/* Until the next collection, or the next retry if one is due
		 * earlier (a new report does not cut a backoff short). */
		until = next_collect;
		if (cf_spool_count(o->spool) > 0 && next_drain < until)
			until = next_drain;
		now = agent_now_ms();
		if (until > now)
			agent_sleep(o, until - now);
	}
	return CF_OK;
}

enum cf_err cf_agent_run(const struct cf_agent_opts *o,
			 struct cf_agent_stats *st, struct cf_diag *d)
{
	struct cf_agent_stats local;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!o || !o->client || !o->spool || !o->collect)
		return cf_diag_set(d, CF_EINVAL, "agent: no client, spool or "
				   "collect function");
	return o->once ? agent_run_once(o, st, d) : agent_run_loop(o, st);
}
