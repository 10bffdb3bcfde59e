/* The agent and its HTTP client against a scripted libmicrohttpd server. */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include "agent/agent.h"
#include "agent/client.h"
#include "agent/spool.h"
#include "tests/unit/suites.h"

#define SRV_SCRIPT_MAX 8
#define SRV_REQ_MAX 32
#define LOG_MAX 32

/* A server that answers request i with script[i] (the last one repeats)
 * and records what it got. */
struct srv {
	struct MHD_Daemon *daemon;
	unsigned short port;
	char url[64];
	pthread_mutex_t mu;
	unsigned script[SRV_SCRIPT_MAX];
	size_t nscript;
	const char *resp;          /* body of non-2xx answers, or NULL */
	const char *big;           /* if set, every answer is BIG_LEN bytes */
	unsigned delay_ms;         /* stall this long before answering */
	size_t big_len;
	size_t nreq;
	char *body[SRV_REQ_MAX];
	size_t body_len[SRV_REQ_MAX];
	char method[SRV_REQ_MAX][16];
	char path[SRV_REQ_MAX][64];
	char auth[SRV_REQ_MAX][128];
	char ctype[SRV_REQ_MAX][64];
};

struct srv_upload {
	char *p;
	size_t len, cap;
};

static void srv_copy_header(struct MHD_Connection *c, const char *key,
			    char *out, size_t len)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, key);

	snprintf(out, len, "%s", v ? v : "");
}

static enum MHD_Result srv_handler(void *cls, struct MHD_Connection *c,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **req_cls)
{
	struct srv *s = cls;
	struct srv_upload *u = *req_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status;
	size_t i;
	const char *body;
	char ok[64];

	(void)version;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*req_cls = u;
		return MHD_YES;
	}
	if (*upload_size) {
		if (u->len + *upload_size + 1 > u->cap) {
			size_t cap = (u->len + *upload_size + 1) * 2;
			char *p = realloc(u->p, cap);
			if (!p)
				return MHD_NO;
			u->p = p;
			u->cap = cap;
		}
		memcpy(u->p + u->len, upload, *upload_size);
		u->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->mu);
	i = s->nreq++;
	status = s->script[i < s->nscript ? i : s->nscript - 1];
	if (i < SRV_REQ_MAX) {
		s->body[i] = malloc(u->len + 1);
		if (s->body[i]) {
			if (u->len)
				memcpy(s->body[i], u->p, u->len);
			s->body[i][u->len] = '\0';
		}
		s->body_len[i] = u->len;
		snprintf(s->method[i], sizeof(s->method[i]), "%s", method);
		snprintf(s->path[i], sizeof(s->path[i]), "%s", url);
		srv_copy_header(c, "Authorization", s->auth[i],
				sizeof(s->auth[i]));
		srv_copy_header(c, "Content-Type", s->ctype[i],
				sizeof(s->ctype[i]));
	}
	pthread_mutex_unlock(&s->mu);
	if (s->delay_ms)
		usleep(s->delay_ms * 1000u);
	if (s->big) {
		r = MHD_create_response_from_buffer(s->big_len, (void *)s->big,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		if (status < 300 || !s->resp) {
			snprintf(ok, sizeof(ok), "{\"status\":%u}", status);
			body = ok;
		} else {
			body = s->resp;
		}
		r = MHD_create_response_from_buffer(strlen(body), (void *)body,
						    MHD_RESPMEM_MUST_COPY);
	}
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void srv_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct srv_upload *u = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->p);
		free(u);
		*req_cls = NULL;
	}
}

/* Starts S on 127.0.0.1 with a free port, answering STATUSES in turn. */
static void srv_start(struct srv *s, const unsigned *statuses, size_t n,
		      const char *resp)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	for (size_t i = 0; i < n && i < SRV_SCRIPT_MAX; i++)
		s->script[s->nscript++] = statuses[i];
	s->resp = resp;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
				     NULL, srv_handler, s,
				     MHD_OPTION_SOCK_ADDR, &sin,
				     MHD_OPTION_NOTIFY_COMPLETED, srv_completed,
				     NULL, MHD_OPTION_END);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->daemon);
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(info);
	s->port = info->port;
	CU_ASSERT_NOT_EQUAL_FATAL(s->port, 0);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
}

static size_t srv_nreq(struct srv *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->nreq;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void srv_stop(struct srv *s)
{
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	for (size_t i = 0; i < SRV_REQ_MAX; i++)
		free(s->body[i]);
	pthread_mutex_destroy(&s->mu);
}

/* A port on 127.0.0.1 that nothing listens on. */
static unsigned short closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned short port = 0;

	CU_ASSERT_FATAL(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	CU_ASSERT_NOT_EQUAL_FATAL(port, 0);
	return port;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* What the agent logged; sets *STOP once a message contains STOP_ON. */
struct log_rec {
	char msg[LOG_MAX][256];
	size_t n;
	const char *stop_on;
	volatile sig_atomic_t *stop;
};

static void log_cb(void *ctx, const char *msg)
{
	struct log_rec *l = ctx;

	if (l->n < LOG_MAX)
		snprintf(l->msg[l->n++], sizeof(l->msg[0]), "%s", msg);
	if (l->stop_on && l->stop && strstr(msg, l->stop_on))
		*l->stop = 1;
}

static bool logged(const struct log_rec *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->msg[i], needle))
			return true;
	return false;
}

struct collector {
	int n;
};

static enum cf_err collect_cb(void *ctx, char **json, struct cf_diag *d)
{
	struct collector *c = ctx;
	char buf[128];
	size_t len;

	(void)d;
	c->n++;
	len = (size_t)snprintf(buf, sizeof(buf), "{\"schema\":\"cpufleet.report"
			       "/v1\",\"report_id\":\"r-%d\"}", c->n);
	*json = malloc(len + 1);
	if (!*json)
		return CF_ENOMEM;
	memcpy(*json, buf, len + 1);
	return CF_OK;
}

/* A spool in a fresh directory, a client of URL, and options using both. */
struct fixture {
	char dir[64];
	struct cf_spool *spool;
	struct cf_client *client;
	struct cf_agent_opts o;
	struct log_rec log;
	struct collector col;
	volatile sig_atomic_t stop;
	struct cf_agent_stats st;
	struct cf_diag d;
};

static void fx_init(struct fixture *f, const char *url)
{
	struct cf_client_opts co = { .server = url, .token = "tok-1",
				     .connect_timeout_ms = 2000,
				     .timeout_ms = 5000 };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/cf_agent_XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(f->dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(f->dir, &f->spool, &f->d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_client_create(&co, &f->client, &f->d), CF_OK);
	f->o.client = f->client;
	f->o.spool = f->spool;
	f->o.collect = collect_cb;
	f->o.collect_ctx = &f->col;
	f->o.log = log_cb;
	f->o.log_ctx = &f->log;
	f->o.backoff_min_ms = 10;
	f->o.backoff_max_ms = 40;
	f->o.stop = &f->stop;
	f->log.stop = &f->stop;
}

static void fx_put(struct fixture *f, const char *body)
{
	CU_ASSERT_EQUAL(cf_spool_put(f->spool, body, strlen(body), &f->d), CF_OK);
}

/* Entries {"n":1} to {"n":N}, in that order. */
static void fx_put_n(struct fixture *f, int n)
{
	for (int i = 1; i <= n; i++) {
		char b[32];
		snprintf(b, sizeof(b), "{\"n\":%d}", i);
		fx_put(f, b);
	}
}

/* Request I carried entry {"n":I+1}. */
static bool srv_got_n(const struct srv *s, int i)
{
	char want[32];

	snprintf(want, sizeof(want), "{\"n\":%d}", i + 1);
	return s->body[i] && !strcmp(s->body[i], want);
}

static void fx_done(struct fixture *f)
{
	cf_client_destroy(f->client);
	cf_spool_close(f->spool);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool fx_exists(const struct fixture *f, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return stat(path, &st) == 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_agent_delivers_in_order(void)
{
	static const unsigned script[] = { 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 1, NULL);
	fx_init(&f, s.url);
	fx_put_n(&f, 3);
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(srv_nreq(&s), 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(srv_got_n(&s, i));
		CU_ASSERT_STRING_EQUAL(s.method[i], "POST");
		CU_ASSERT_STRING_EQUAL(s.path[i], "/v1/reports");
		CU_ASSERT_STRING_EQUAL(s.auth[i], "Bearer tok-1");
		CU_ASSERT_STRING_EQUAL(s.ctype[i], "application/json");
	}
	CU_ASSERT_EQUAL(f.st.delivered, 3);
	CU_ASSERT_EQUAL(f.st.already_known, 0);
	CU_ASSERT_EQUAL(f.st.failures, 0);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_FALSE(fx_exists(&f, "000000000001.json"));
	CU_ASSERT_TRUE(logged(&f.log, "delivered 000000000001.json (201 new)"));
	CU_ASSERT_TRUE(logged(&f.log, "delivered 000000000003.json (201 new)"));
	/* An empty spool is delivered at once, without a request. */
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL(srv_nreq(&s), 3);
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_already_known(void)
{
	static const unsigned script[] = { 200, 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 2, NULL);
	fx_init(&f, s.url);
	fx_put(&f, "{\"n\":1}");
	fx_put(&f, "{\"n\":2}");
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL(f.st.delivered, 2);
	CU_ASSERT_EQUAL(f.st.already_known, 1);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_TRUE(logged(&f.log, "delivered 000000000001.json (200 "
			      "already known)"));
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_retry_after_503(void)
{
	static const unsigned script[] = { 503, 503, 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 3, "{\"error\":\"database busy\"}");
	fx_init(&f, s.url);
	f.o.once = true;
	f.o.tries = 5;
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(srv_nreq(&s), 3);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(s.body[i], "\"report_id\":\"r-1\""));
	CU_ASSERT_EQUAL(f.st.collected, 1);
	CU_ASSERT_EQUAL(f.st.delivered, 1);
	CU_ASSERT_EQUAL(f.st.failures, 2);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_TRUE(logged(&f.log, "server unreachable: server answered "
			      "HTTP 503: database busy; 1 report(s) spooled, "
			      "retry in"));
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_once_gives_up_after_tries(void)
{
	static const unsigned script[] = { 503 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 1, NULL);
	fx_init(&f, s.url);
	f.o.once = true;
	f.o.tries = 3;
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.d.msg, "503"));
	CU_ASSERT_EQUAL(srv_nreq(&s), 3);
	CU_ASSERT_EQUAL(f.st.failures, 3);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 1);
	CU_ASSERT_TRUE(fx_exists(&f, "000000000001.json"));
	CU_ASSERT_TRUE(logged(&f.log, "giving up after 3 attempt(s)"));
	fx_done(&f);
	srv_stop(&s);
}

/* NAME.why: "status: N", "error: TEXT" and "time: YYYY-MM-DDTHH:MM:SSZ"
 * lines. */
static void check_why(const struct fixture *f, const char *name,
		      const char *status, const char *error)
{
	char path[256], buf[1024], want[600];
	FILE *fp;
	size_t n;
	const char *t;

	snprintf(path, sizeof(path), "%s/rejected/%s.why", f->dir, name);
	fp = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	snprintf(want, sizeof(want), "status: %s\nerror: %s\ntime: ", status,
		 error);
	CU_ASSERT_NSTRING_EQUAL(buf, want, strlen(want));
	t = buf + (strncmp(buf, want, strlen(want)) ? 0 : strlen(want));
	CU_ASSERT_EQUAL(strlen(t), 21);  /* 2026-12-06T07:00:00Z\n */
	CU_ASSERT(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
		  t[16] == ':' && t[19] == 'Z' && t[20] == '\n');
}

static void test_agent_reject_on_409(void)
{
	static const unsigned script[] = { 409, 413, 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 3, "{\"error\":\"report id reused with another "
		  "body\"}");
	fx_init(&f, s.url);
	fx_put(&f, "{\"n\":1}");
	fx_put(&f, "{\"n\":2}");
	fx_put(&f, "{\"n\":3}");
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL(srv_nreq(&s), 3);
	CU_ASSERT_EQUAL(f.st.rejected, 2);
	CU_ASSERT_EQUAL(f.st.delivered, 1);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_TRUE(fx_exists(&f, "rejected/000000000001.json"));
	CU_ASSERT_TRUE(fx_exists(&f, "rejected/000000000002.json"));
	CU_ASSERT_FALSE(fx_exists(&f, "rejected/000000000003.json"));
	check_why(&f, "000000000001.json", "409",
		  "report id reused with another body");
	CU_ASSERT_TRUE(logged(&f.log, "rejected 000000000001.json: HTTP 409"));
	fx_done(&f);
	srv_stop(&s);
}

/* What each answer does to the one report sent, as the agent's --help and
 * the README state it: delivered (off the spool), rejected (to rejected/,
 * the drain goes on), or kept, with the drain's result saying why. */
static void test_agent_status_table(void)
{
	static const struct {
		unsigned status;
		enum { DELIVERED, REJECTED, KEPT } fate;
		enum cf_err err;
	} cases[] = {
		{ 200, DELIVERED, CF_OK }, { 201, DELIVERED, CF_OK },
		{ 400, REJECTED, CF_OK }, { 403, REJECTED, CF_OK },
		{ 409, REJECTED, CF_OK }, { 410, REJECTED, CF_OK },
		{ 413, REJECTED, CF_OK }, { 415, REJECTED, CF_OK },
		{ 422, REJECTED, CF_OK },
		{ 401, KEPT, CF_EDENIED }, { 404, KEPT, CF_EINVAL },
		{ 405, KEPT, CF_EINVAL }, { 204, KEPT, CF_EINVAL },
		{ 302, KEPT, CF_EINVAL },
		{ 408, KEPT, CF_ENET }, { 425, KEPT, CF_ENET },
		{ 429, KEPT, CF_ENET }, { 418, KEPT, CF_ENET },
		{ 500, KEPT, CF_ENET }, { 502, KEPT, CF_ENET },
		{ 503, KEPT, CF_ENET }, { 504, KEPT, CF_ENET },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srv s;
		struct fixture f;
		enum cf_err err;

		srv_start(&s, &cases[i].status, 1, "{\"error\":\"why\"}");
		fx_init(&f, s.url);
		fx_put(&f, "{\"n\":1}");
		err = cf_agent_drain(&f.o, &f.st, &f.d);
		if (err != cases[i].err)
			fprintf(stderr, "\n  HTTP %u: %s\n", cases[i].status,
				cf_strerror(err));
		CU_ASSERT_EQUAL(err, cases[i].err);
		CU_ASSERT_EQUAL(srv_nreq(&s), 1);
		CU_ASSERT_EQUAL(fx_exists(&f, "000000000001.json"),
				cases[i].fate == KEPT);
		CU_ASSERT_EQUAL(fx_exists(&f, "rejected/000000000001.json"),
				cases[i].fate == REJECTED);
		if (cases[i].fate == REJECTED) {
			char st[8];
			snprintf(st, sizeof(st), "%u", cases[i].status);
			check_why(&f, "000000000001.json", st, "why");
		}
		CU_ASSERT_EQUAL(f.st.delivered, cases[i].fate == DELIVERED);
		CU_ASSERT_EQUAL(f.st.rejected, cases[i].fate == REJECTED);
		fx_done(&f);
		srv_stop(&s);
	}
}

/* A refused report never holds up the ones behind it. */
static void test_agent_reject_does_not_block(void)
{
	static const unsigned script[] = { 201, 403, 422, 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 4, "{\"error\":\"agent tokens of host a may "
		  "not upload a report of host b\"}");
	fx_init(&f, s.url);
	fx_put_n(&f, 4);
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(srv_nreq(&s), 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_TRUE(srv_got_n(&s, i));
	CU_ASSERT_EQUAL(f.st.delivered, 2);
	CU_ASSERT_EQUAL(f.st.rejected, 2);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	check_why(&f, "000000000002.json", "403", "agent tokens of host a may "
		  "not upload a report of host b");
	check_why(&f, "000000000003.json", "422", "agent tokens of host a may "
		  "not upload a report of host b");
	fx_done(&f);
	srv_stop(&s);
}

/* A refused token is no fault of the reports: they all stay, and --once
 * makes no more attempts. */
static void test_agent_denied_on_401(void)
{
	static const unsigned script[] = { 401 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 1, "{\"error\":\"unknown token\"}");
	fx_init(&f, s.url);
	fx_put(&f, "{\"n\":1}");
	fx_put(&f, "{\"n\":2}");
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_EDENIED);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.d.msg, "unknown token"));
	CU_ASSERT_EQUAL(srv_nreq(&s), 1);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 2);
	CU_ASSERT_TRUE(fx_exists(&f, "000000000001.json"));
	CU_ASSERT_FALSE(fx_exists(&f, "rejected/000000000001.json"));
	/* once: a refused token is final, no retries. */
	f.o.once = true;
	f.o.tries = 5;
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_EDENIED);
	CU_ASSERT_EQUAL(srv_nreq(&s), 2);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 3);
	CU_ASSERT_EQUAL(f.st.rejected, 0);
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_enet_closed_port(void)
{
	char url[64];
	struct fixture f;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
	fx_init(&f, url);
	fx_put(&f, "{\"n\":1}");
	f.d.msg[0] = '\0';
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.d.msg, url));
	CU_ASSERT_EQUAL(f.st.failures, 1);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 1);
	CU_ASSERT_TRUE(fx_exists(&f, "000000000001.json"));
	/* once mode: TRIES attempts, then the spool is kept. */
	f.o.once = true;
	f.o.tries = 2;
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_ENET);
	CU_ASSERT_EQUAL(f.st.failures, 2);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 2);
	fx_done(&f);
}

/* A server that accepts but does not answer: the request gives up after
 * the client's timeout and the report stays in the spool. */
static void test_agent_timeout(void)
{
	static const unsigned script[] = { 201 };
	struct cf_client_opts co = { .connect_timeout_ms = 500,
				     .timeout_ms = 300 };
	struct timespec t0, t1;
	struct srv s;
	struct fixture f;
	double secs;

	srv_start(&s, script, 1, NULL);
	s.delay_ms = 1500;
	fx_init(&f, s.url);
	cf_client_destroy(f.client);
	co.server = s.url;
	CU_ASSERT_EQUAL_FATAL(cf_client_create(&co, &f.client, &f.d), CF_OK);
	f.o.client = f.client;
	fx_put(&f, "{\"n\":1}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(cf_agent_drain(&f.o, &f.st, &f.d), CF_ENET);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	CU_ASSERT_TRUE(secs < 1.2);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.d.msg, "imeout") ? f.d.msg
			       : strstr(f.d.msg, "timed out"));
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 1);
	CU_ASSERT_TRUE(fx_exists(&f, "000000000001.json"));
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_once_end_to_end(void)
{
	static const unsigned script[] = { 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 1, NULL);
	fx_init(&f, s.url);
	/* Left over from an earlier run: delivered first. */
	fx_put(&f, "{\"report_id\":\"old\"}");
	f.o.once = true;
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL(f.col.n, 1);
	CU_ASSERT_EQUAL_FATAL(srv_nreq(&s), 2);
	CU_ASSERT_STRING_EQUAL(s.body[0], "{\"report_id\":\"old\"}");
	CU_ASSERT_STRING_EQUAL(s.body[1], "{\"schema\":\"cpufleet.report/v1\","
			       "\"report_id\":\"r-1\"}");
	CU_ASSERT_EQUAL(f.st.collected, 1);
	CU_ASSERT_EQUAL(f.st.delivered, 2);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_TRUE(logged(&f.log, "collected a report; 2 report(s) spooled"));
	CU_ASSERT_TRUE(logged(&f.log, "delivered 000000000002.json (201 new)"));
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_loop_until_stop(void)
{
	static const unsigned script[] = { 201 };
	struct srv s;
	struct fixture f;
	uint64_t t0;

	srv_start(&s, script, 1, NULL);
	fx_init(&f, s.url);
	f.o.interval_s = 60;
	f.log.stop_on = "delivered";
	t0 = now_ms();
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT(now_ms() - t0 < 2000);
	CU_ASSERT_EQUAL(f.st.collected, 1);
	CU_ASSERT_EQUAL(f.st.delivered, 1);
	CU_ASSERT_EQUAL(srv_nreq(&s), 1);
	fx_done(&f);
	srv_stop(&s);
}

/* A loop agent whose token is refused keeps its reports and keeps trying,
 * at the backoff cap: a server put right later gets them. */
static void test_agent_loop_denied(void)
{
	static const unsigned script[] = { 401, 401, 201 };
	struct srv s;
	struct fixture f;

	srv_start(&s, script, 3, "{\"error\":\"unknown or revoked token\"}");
	fx_init(&f, s.url);
	f.o.interval_s = 60;
	f.log.stop_on = "delivered";
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_OK);
	CU_ASSERT_EQUAL(srv_nreq(&s), 3);
	CU_ASSERT_EQUAL(f.st.delivered, 1);
	CU_ASSERT_EQUAL(f.st.rejected, 0);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 0);
	CU_ASSERT_TRUE(logged(&f.log, "server refused the token (HTTP 401: "
			      "unknown or revoked token); 1 report(s) kept in "
			      "the spool, retry in"));
	fx_done(&f);
	srv_stop(&s);
}

static void test_agent_stop_during_backoff(void)
{
	static const unsigned script[] = { 503 };
	struct srv s;
	struct fixture f;
	uint64_t t0;

	srv_start(&s, script, 1, NULL);
	fx_init(&f, s.url);
	f.o.once = true;
	f.o.backoff_min_ms = 20000;
	f.o.backoff_max_ms = 60000;
	f.log.stop_on = "retry in";
	t0 = now_ms();
	CU_ASSERT_EQUAL(cf_agent_run(&f.o, &f.st, &f.d), CF_ENET);
	CU_ASSERT(now_ms() - t0 < 1000);
	CU_ASSERT_EQUAL(srv_nreq(&s), 1);
	CU_ASSERT_EQUAL(cf_spool_count(f.spool), 1);
	fx_done(&f);
	srv_stop(&s);
}

static void test_client_bad_urls(void)
{
	static const char *const bad[] = { "ftp://x", "localhost:8080", "http://",
					   "https:///v1", "file:///etc/passwd",
					   "http://a b" };
	struct cf_client_opts co = { 0 };
	struct cf_client *c = NULL;
	struct cf_diag d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		co.server = bad[i];
		CU_ASSERT_EQUAL(cf_client_create(&co, &c, &d), CF_EINVAL);
		CU_ASSERT_PTR_NULL(c);
	}
	co.server = "ftp://x";
	cf_client_create(&co, &c, &d);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "ftp://x"));
	co.server = "http://h";
	co.token = "a\r\nX-Evil: 1";
	CU_ASSERT_EQUAL(cf_client_create(&co, &c, &d), CF_EINVAL);
	co.token = NULL;
	co.server = "HTTPS://h.example/";
	CU_ASSERT_EQUAL(cf_client_create(&co, &c, &d), CF_OK);
	cf_client_destroy(c);
}

static void test_client_get_trailing_slash(void)
{
	static const unsigned script[] = { 200, 404 };
	struct srv s;
	struct cf_client_opts co = { 0 };
	struct cf_client *c = NULL;
	struct cf_diag d;
	char url[80], *resp = NULL;
	long status = 0;
	size_t len = 0;

	srv_start(&s, script, 2, "{\"error\":\"no such host\"}");
	snprintf(url, sizeof(url), "%s/", s.url);
	co.server = url;
	CU_ASSERT_EQUAL_FATAL(cf_client_create(&co, &c, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_client_request(c, "GET", "/v1/hosts", NULL, 0, &status,
					  &resp, &len, &d), CF_OK);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(resp, "{\"status\":200}");
	CU_ASSERT_EQUAL(len, strlen(resp));
	free(resp);
	/* Any HTTP answer is CF_OK; the status tells. */
	CU_ASSERT_EQUAL(cf_client_request(c, "DELETE", "/v1/hosts/x", NULL, 0,
					  &status, &resp, &len, &d), CF_OK);
	CU_ASSERT_EQUAL(status, 404);
	CU_ASSERT_STRING_EQUAL(resp, "{\"error\":\"no such host\"}");
	free(resp);
	CU_ASSERT_EQUAL(cf_client_request(c, "GET", "no-slash", NULL, 0, &status,
					  &resp, &len, &d), CF_EINVAL);
	CU_ASSERT_EQUAL_FATAL(srv_nreq(&s), 2);
	CU_ASSERT_STRING_EQUAL(s.path[0], "/v1/hosts");
	CU_ASSERT_STRING_EQUAL(s.method[0], "GET");
	CU_ASSERT_STRING_EQUAL(s.method[1], "DELETE");
	CU_ASSERT_STRING_EQUAL(s.auth[0], "");   /* no token, no header */
	CU_ASSERT_STRING_EQUAL(s.ctype[0], "");  /* no body, no type */
	cf_client_destroy(c);
	srv_stop(&s);
}

static void test_client_response_too_big(void)
{
	static const unsigned script[] = { 200 };
	struct srv s;
	struct cf_client_opts co = { 0 };
	struct cf_client *c = NULL;
	struct cf_diag d;
	char *big, *resp = NULL;
	long status = 0;
	size_t len = 0;

	big = malloc(CF_CLIENT_RESP_MAX + 1u);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', CF_CLIENT_RESP_MAX + 1u);
	srv_start(&s, script, 1, NULL);
	s.big = big;
	s.big_len = CF_CLIENT_RESP_MAX + 1u;
	co.server = s.url;
	CU_ASSERT_EQUAL_FATAL(cf_client_create(&co, &c, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_client_request(c, "GET", "/big", NULL, 0, &status,
					  &resp, &len, &d), CF_ETOOBIG);
	CU_ASSERT_PTR_NULL(resp);
	/* Exactly the limit is fine, and the handle is still usable. */
	s.big_len = CF_CLIENT_RESP_MAX;
	CU_ASSERT_EQUAL(cf_client_request(c, "GET", "/big", NULL, 0, &status,
					  &resp, &len, &d), CF_OK);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_EQUAL(len, CF_CLIENT_RESP_MAX);
	free(resp);
	cf_client_destroy(c);
	srv_stop(&s);
	free(big);
}

static void test_client_error_text(void)
{
	char buf[64], small[8];

	cf_client_error_text("{\"error\":\"report id reused\"}", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "report id reused");
	cf_client_error_text("  Bad Gateway\r\n<html>...</html>", buf,
			     sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Bad Gateway");
	cf_client_error_text("{\"error\":42}", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":42}");
	cf_client_error_text("", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "(empty response)");
	cf_client_error_text(NULL, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "(empty response)");
	cf_client_error_text("{\"error\":\"tab\\there\"}", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "tab here");
	cf_client_error_text("{\"error\":\"a much longer message\"}", small,
			     sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "a much ");
	/* Cut on a character boundary: "ab" + U+00E9 (2 bytes) in 4 bytes. */
	cf_client_error_text("{\"error\":\"ab\\u00e9\\u00e9\"}", small, 4);
	CU_ASSERT_STRING_EQUAL(small, "ab");
}

static CU_TestInfo tests[] = {
	TEST(test_agent_delivers_in_order),
	TEST(test_agent_already_known),
	TEST(test_agent_retry_after_503),
	TEST(test_agent_once_gives_up_after_tries),
	TEST(test_agent_reject_on_409),
	TEST(test_agent_status_table),
	TEST(test_agent_reject_does_not_block),
	TEST(test_agent_denied_on_401),
	TEST(test_agent_enet_closed_port),
	TEST(test_agent_timeout),
	TEST(test_agent_once_end_to_end),
	TEST(test_agent_loop_until_stop),
	TEST(test_agent_loop_denied),
	TEST(test_agent_stop_during_backoff),
	TEST(test_client_bad_urls),
	TEST(test_client_get_trailing_slash),
	TEST(test_client_response_too_big),
	TEST(test_client_error_text),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_agent = { "agent", NULL, NULL, NULL, NULL, tests };
