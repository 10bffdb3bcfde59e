/* The server's own counters as Prometheus text, which /metrics shows
 * before the database's figures. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/internal.h"

static const char *const close_reasons[NCLOSE] = {
	"header_timeout", "body_timeout", "evicted", "refused", "half_closed",
};

/* Appends to a growing text buffer; false when out of memory. */
struct text {
	char *p;
	size_t len, cap;
};

static bool text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p ? t->p + t->len : NULL,
			      t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if (t->p && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return true;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(t->p, cap);
		if (!p)
			return false;
		t->p = p;
		t->cap = cap;
	}
}

/* Prometheus text of the server's own counters, which /metrics shows
 * before the database's figures. */
char *cf_metrics_text(void *owner)
{
	struct cf_server *s = owner;
	struct text t = { 0 };
	struct cf_writer_stats ws;
	bool ok = true;

	ok = ok && text_add(&t, "# HELP cpufleet_http_requests_total HTTP "
			    "requests answered, by route and status class.\n"
			    "# TYPE cpufleet_http_requests_total counter\n");
	for (size_t r = 0; r <= cf_api_nroutes; r++) {
		const char *name = r < cf_api_nroutes ? cf_api_routes[r].name
						      : "unmatched";
		for (size_t c = 1; c < NCLASS; c++) {
			unsigned long long v = __atomic_load_n(&s->rst[r].count[c],
							       __ATOMIC_RELAXED);
			if (v)
				ok = ok && text_add(&t,
					"cpufleet_http_requests_total{route=\"%s\","
					"code=\"%zuxx\"} %llu\n", name, c, v);
		}
	}
	ok = ok && text_add(&t, "# HELP cpufleet_http_request_seconds_total "
			    "Time spent answering, by route.\n"
			    "# TYPE cpufleet_http_request_seconds_total counter\n");
	for (size_t r = 0; r < cf_api_nroutes; r++) {
		unsigned long long us = __atomic_load_n(&s->rst[r].usec,
							__ATOMIC_RELAXED);
		if (us)
			ok = ok && text_add(&t, "cpufleet_http_request_seconds_total"
					    "{route=\"%s\"} %llu.%06llu\n",
					    cf_api_routes[r].name, us / 1000000,
					    us % 1000000);
	}
	ok = ok && text_add(&t, "# HELP cpufleet_reports_uploaded_total Report "
			    "uploads by outcome.\n"
			    "# TYPE cpufleet_reports_uploaded_total counter\n");
	for (size_t i = 0; i < CF_API_NUPLOAD; i++)
		ok = ok && text_add(&t, "cpufleet_reports_uploaded_total{result="
				    "\"%s\"} %llu\n", cf_api_upload_names[i],
				    __atomic_load_n(&s->env.uploads[i],
						    __ATOMIC_RELAXED));
	cf_writer_stats(s->writer, &ws);
	ok = ok && text_add(&t,
		"# HELP cpufleet_db_write_batches_total Transactions committed by "
		"the writer (group commit).\n"
		"# TYPE cpufleet_db_write_batches_total counter\n"
		"cpufleet_db_write_batches_total %llu\n"
		"# HELP cpufleet_db_write_jobs_total Writes run by the writer.\n"
		"# TYPE cpufleet_db_write_jobs_total counter\n"
		"cpufleet_db_write_jobs_total %llu\n"
		"# HELP cpufleet_db_write_failures_total Writes undone "
		"(refused or failed).\n"
		"# TYPE cpufleet_db_write_failures_total counter\n"
		"cpufleet_db_write_failures_total %llu\n"
		"# HELP cpufleet_db_commit_failures_total Commits that failed.\n"
		"# TYPE cpufleet_db_commit_failures_total counter\n"
		"cpufleet_db_commit_failures_total %llu\n"
		"# HELP cpufleet_db_write_jobs_together_total Writes run "
		"together with others of their kind (uploads: a statement per "
		"table for all).\n"
		"# TYPE cpufleet_db_write_jobs_together_total counter\n"
		"cpufleet_db_write_jobs_together_total %llu\n"
		"# HELP cpufleet_db_write_together_failures_total Runs together "
		"undone, their writes then run one by one.\n"
		"# TYPE cpufleet_db_write_together_failures_total counter\n"
		"cpufleet_db_write_together_failures_total %llu\n",
		ws.batches, ws.jobs, ws.failed, ws.commits_failed, ws.together,
		ws.apart);
	pthread_mutex_lock(&s->clock);
	size_t open = s->nconns;
	unsigned long long closed[NCLOSE];
	memcpy(closed, s->closed, sizeof(closed));
	pthread_mutex_unlock(&s->clock);
	ok = ok && text_add(&t, "# HELP cpufleet_http_connections Connections "
			    "open now.\n"
			    "# TYPE cpufleet_http_connections gauge\n"
			    "cpufleet_http_connections %zu\n"
			    "# HELP cpufleet_http_connections_limit Connections "
			    "the server accepts at most.\n"
			    "# TYPE cpufleet_http_connections_limit gauge\n"
			    "cpufleet_http_connections_limit %u\n"
			    "# HELP cpufleet_http_connections_closed_total "
			    "Connections the server closed: headers or body not "
			    "received in time, idle when the table was nearly "
			    "full, refused then to a client holding half of "
			    "it, or shut by the client before a whole request.\n"
			    "# TYPE cpufleet_http_connections_closed_total "
			    "counter\n", open, s->conn_limit);
	for (size_t i = 0; i < NCLOSE; i++)
		ok = ok && text_add(&t, "cpufleet_http_connections_closed_total"
				    "{reason=\"%s\"} %llu\n", close_reasons[i],
				    closed[i]);
	ok = ok && text_add(&t, "# HELP cpufleet_http_requests_cancelled_total "
			    "Requests whose work stopped part-way because the "
			    "client had gone.\n"
			    "# TYPE cpufleet_http_requests_cancelled_total "
			    "counter\n"
			    "cpufleet_http_requests_cancelled_total %llu\n",
			    __atomic_load_n(&s->cancelled, __ATOMIC_RELAXED));
	if (!ok) {
		free(t.p);
		return NULL;
	}
	return t.p;
}
