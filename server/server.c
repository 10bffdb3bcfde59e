/* The server's lifecycle: the database connections (a writer, a pool of
 * readers) lent to the handlers through struct cf_api_env, the listening
 * daemon, its threads, and stopping it all in order. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "server/server.h"
#include "server/internal.h"
#include "util/diag.h"

#define CERT_MAX (1u << 20)
/* Descriptors kept back from the connection limit: the database (writer,
 * readers and their WAL files), the listening socket, epoll, the
 * inter-thread pipe, logs. */
#define FD_RESERVE 64
/* Threads answering requests, per read connection (--readers). */
#define WORKERS_PER_READER 8

void cf_server_logf(struct cf_server *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_ctx, msg);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct cf_server *s = cls;
	char msg[512];
	size_t n;

	if (!s->log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	s->log(s->log_ctx, msg);
}

void cf_server_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static struct cf_db *reader_get(void *ctx)
{
	struct cf_server *s = ctx;
	struct cf_db *db;

	pthread_mutex_lock(&s->rlock);
	while (s->nfree == 0)
		pthread_cond_wait(&s->rfree, &s->rlock);
	db = s->free_readers[--s->nfree];
	pthread_mutex_unlock(&s->rlock);
	return db;
}

static void reader_put(void *ctx, struct cf_db *db)
{
	struct cf_server *s = ctx;

	pthread_mutex_lock(&s->rlock);
	s->free_readers[s->nfree++] = db;
	pthread_cond_signal(&s->rfree);
	pthread_mutex_unlock(&s->rlock);
}

static enum cf_err write_job(void *ctx, cf_fleet_write_fn fn,
			     cf_fleet_write_many_fn many, void *arg,
			     struct cf_diag *d)
{
	return cf_writer_run(((struct cf_server *)ctx)->writer, fn, many, arg,
			     d);
}

static void now_text(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	cf_server_now(buf, len);
}

static enum cf_err read_pem(const char *path, char **out, struct cf_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	enum cf_err err = CF_EIO;

	if (!f)
		return cf_diag_set(d, CF_EIO, "%s: %s", path, strerror(errno));
	buf = malloc(CERT_MAX + 1);
	if (!buf) {
		err = cf_diag_set(d, CF_ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	n = fread(buf, 1, CERT_MAX + 1, f);
	if (ferror(f) || n == 0 || n > CERT_MAX) {
		err = cf_diag_set(d, CF_EIO, "%s: %s", path,
				  n > CERT_MAX ? "larger than 1 MiB"
					       : "empty or unreadable");
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	err = CF_OK;
cleanup:
	free(buf);
	fclose(f);
	return err;
}

/* "host:port" or "[v6]:port" into an address. */
static enum cf_err parse_listen(const char *listen, struct addrinfo **ai,
				struct cf_diag *d)
{
	char host[256], port[16];
	const char *colon, *h = listen;
	size_t hl;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	int rc;

	colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: expected "
				   "HOST:PORT", listen);
	hl = (size_t)(colon - listen);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return cf_diag_set(d, CF_EINVAL, "--listen %s: expected "
				   "HOST:PORT", listen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	if (strtol(port, NULL, 10) > 65535)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: port over 65535",
				   listen);
	rc = getaddrinfo(host, port, &hints, ai);
	if (rc != 0)
		return cf_diag_set(d, CF_EINVAL, "--listen %s: %s", listen,
				   gai_strerror(rc));
	return CF_OK;
}

/* The connection limit: O's (or the default), less what RLIMIT_NOFILE
 * leaves once the database and the rest have their descriptors, and room
 * for libmicrohttpd's backstop a quarter above it. */
static unsigned conn_limit(const struct cf_server_opts *o, size_t readers)
{
	unsigned want = o->max_conns ? o->max_conns : CF_SERVER_CONNS_DEFAULT;
	struct rlimit rl;
	rlim_t spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	spare = rl.rlim_cur > FD_RESERVE + 4 * readers ?
		rl.rlim_cur - FD_RESERVE - 4 * readers : 16;
	spare = spare / 5 * 4;
	return spare < want ? (unsigned)spare : want;
}

static void start_threads(struct cf_server *s, size_t n)
{
	s->workers = calloc(n, sizeof(*s->workers));
	for (size_t i = 0; s->workers && i < n; i++) {
		if (pthread_create(&s->workers[i], NULL, cf_request_worker, s) != 0)
			break;
		s->nworkers++;
	}
	s->reaper_on = pthread_create(&s->reaper, NULL, cf_conns_reaper, s) == 0;
}

/* One server per database: two would each keep their own statement cache,
 * readers and group commit on one file, and `make run` must be able to
 * tell that a database is in use before it removes it.  flock(2) on the
 * file itself (SQLite's own locks are fcntl(2) ones, which flock does not
 * touch), held until the server stops; the file is made here if need be,
 * as SQLite would.  A PostgreSQL database (a URL) is not locked: several
 * servers share one, the database orders their writes. */
static enum cf_err lock_db(struct cf_server *s, const char *path,
			   struct cf_diag *d)
{
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lockfd < 0)
		return cf_diag_set(d, CF_EIO, "%s: %s", path, strerror(errno));
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0)
		return CF_OK;
	if (errno == EWOULDBLOCK)
		return cf_diag_set(d, CF_ECONFLICT, "%s: in use by another "
				   "cpufleet server (one server per database)",
				   path);
	return cf_diag_set(d, CF_EIO, "%s: cannot lock: %s", path,
			   strerror(errno));
}

enum cf_err cf_server_start(const struct cf_server_opts *o,
			    struct cf_server **out, struct cf_diag *d)
{
	struct cf_server *s = calloc(1, sizeof(*s));
	struct addrinfo *ai = NULL;
	struct cf_db *wdb = NULL;
	enum cf_err err = CF_ENOMEM;
	unsigned flags;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	if (!s)
		return cf_diag_set(d, CF_ENOMEM, "server: out of memory");
	pthread_mutex_init(&s->rlock, NULL);
	pthread_cond_init(&s->rfree, NULL);
	pthread_mutex_init(&s->clock, NULL);
	pthread_cond_init(&s->cwake, NULL);
	for (size_t i = 0; i < EVENT_THREADS; i++)
		pthread_mutex_init(&s->evlock[i], NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qwake, NULL);
	/* Without it, only the header deadline ends a half-closed one. */
	s->hupfd = epoll_create1(EPOLL_CLOEXEC);
	s->lockfd = -1;
	s->max_body = o->max_body ? o->max_body : CF_SERVER_BODY_MAX_DEFAULT;
	s->header_ms = 1000u * (uint64_t)(o->header_timeout_s ?
		o->header_timeout_s : CF_SERVER_HEADER_TIMEOUT_DEFAULT);
	s->body_ms = 1000u * (uint64_t)(o->body_timeout_s ?
		o->body_timeout_s : CF_SERVER_BODY_TIMEOUT_DEFAULT);
	s->log = o->log;
	s->log_ctx = o->log_ctx;
	s->env = (struct cf_api_env){
		.fleet = { reader_get, reader_put, write_job, now_text, s },
		.metrics = cf_metrics_text, .owner = s,
	};
	pthread_mutex_init(&s->env.refusing_lock, NULL);
	s->rst = calloc(cf_api_nroutes + 1, sizeof(*s->rst));
	if (!s->rst)
		goto cleanup;
	if ((o->cert_path == NULL) != (o->key_path == NULL)) {
		err = cf_diag_set(d, CF_EINVAL, "HTTPS needs both --cert and --key");
		goto cleanup;
	}
	err = parse_listen(o->listen, &ai, d);
	if (err != CF_OK)
		goto cleanup;
	err = cf_db_is_url(o->db_path) ? CF_OK : lock_db(s, o->db_path, d);
	if (err != CF_OK)
		goto cleanup;
	err = cf_db_open(o->db_path, false, &wdb, d);
	if (err != CF_OK)
		goto cleanup;
	err = cf_writer_start(wdb, &s->writer, d);
	wdb = NULL;
	if (err != CF_OK)
		goto cleanup;
	s->nreaders = o->readers ? o->readers : 8;
	s->readers = calloc(s->nreaders, sizeof(*s->readers));
	s->free_readers = calloc(s->nreaders, sizeof(*s->free_readers));
	if (!s->readers || !s->free_readers) {
		err = cf_diag_set(d, CF_ENOMEM, "server: out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < s->nreaders; i++) {
		err = cf_db_open(o->db_path, true, &s->readers[i], d);
		if (err != CF_OK)
			goto cleanup;
		s->free_readers[s->nfree++] = s->readers[i];
	}
	for (size_t i = 0; i < EVENT_THREADS; i++) {
		err = cf_db_open(o->db_path, true, &s->evdb[i], d);
		if (err != CF_OK)
			goto cleanup;
	}
	err = cf_tokcache_create(TOKEN_CACHE_SLOTS, TOKEN_CACHE_MS,
				 &s->tokcache);
	if (err != CF_OK) {
		cf_diag_set(d, err, "server: out of memory");
		goto cleanup;
	}
	s->conn_limit = conn_limit(o, s->nreaders);
	s->evict_at = s->conn_limit - s->conn_limit / 8;
	/* EVENT_THREADS event threads (epoll) for every connection; the
	 * workers answer the requests they suspend. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->cert_path) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			err = cf_diag_set(d, CF_EINVAL, "this libmicrohttpd has "
					  "no TLS support");
			goto cleanup;
		}
		err = read_pem(o->cert_path, &s->cert, d);
		if (err == CF_OK)
			err = read_pem(o->key_path, &s->key, d);
		if (err != CF_OK)
			goto cleanup;
		flags |= MHD_USE_TLS;
	}
	/* More workers than readers: an upload waits for the writer's group
	 * commit without a reader, and the more wait at once, the fewer
	 * commits (and round trips to PostgreSQL) they take. */
	start_threads(s, s->nreaders * WORKERS_PER_READER);
	if (s->nworkers != s->nreaders * WORKERS_PER_READER || !s->reaper_on) {
		err = cf_diag_set(d, CF_ENOMEM, "server: cannot start threads");
		goto cleanup;
	}
	s->mhd = MHD_start_daemon(
		flags, 0, cf_conns_on_accept, s, cf_request_on_request, s,
		/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: 1 would set
		 * SO_REUSEPORT, letting a second server bind the same port and
		 * take half the clients.  The default (SO_REUSEADDR) still
		 * allows a restart while old connections are in TIME_WAIT. */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)EVENT_THREADS,
		MHD_OPTION_CONNECTION_LIMIT,
		s->conn_limit + s->conn_limit / 4 + EVENT_THREADS,
		/* A stalled client while its answer is sent; the header and
		 * body deadlines are the reaper's. */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_URI_LOG_CALLBACK, cf_request_on_uri, s,
		MHD_OPTION_NOTIFY_CONNECTION, cf_conns_on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, cf_request_on_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
		s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
		MHD_OPTION_HTTPS_MEM_KEY, s->key,
		MHD_OPTION_END);
	if (!s->mhd) {
		err = cf_diag_set(d, CF_EIO, "cannot listen on %s (in use, or "
				  "a bad certificate or key)", o->listen);
		goto cleanup;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	cf_server_logf(s, "up to %u connections (room made from %u on), headers due "
	      "in %llu s, bodies in %llu s", s->conn_limit, s->evict_at,
	      (unsigned long long)(s->header_ms / 1000),
	      (unsigned long long)(s->body_ms / 1000));
	*out = s;
	s = NULL;
	err = CF_OK;
cleanup:
	if (ai)
		freeaddrinfo(ai);
	cf_db_close(wdb);
	cf_server_stop(s);
	return err;
}

unsigned cf_server_port(const struct cf_server *s)
{
	return s->port;
}

void cf_server_stop(struct cf_server *s)
{
	if (!s)
		return;
	/* The workers answer what is queued (and resume its connections);
	 * from here on the event thread answers requests itself, so no
	 * connection is left suspended when the daemon stops. */
	pthread_mutex_lock(&s->qlock);
	s->stopping = true;
	pthread_cond_broadcast(&s->qwake);
	pthread_mutex_unlock(&s->qlock);
	for (size_t i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->reaper_on) {
		pthread_mutex_lock(&s->clock);
		s->reaper_stop = true;
		pthread_cond_signal(&s->cwake);
		pthread_mutex_unlock(&s->clock);
		pthread_join(s->reaper, NULL);
	}
	cf_writer_stop(s->writer);
	for (size_t i = 0; s->readers && i < s->nreaders; i++)
		cf_db_close(s->readers[i]);
	for (size_t i = 0; i < EVENT_THREADS; i++)
		cf_db_close(s->evdb[i]);
	cf_tokcache_destroy(s->tokcache);
	cf_conns_free(s);
	if (s->hupfd >= 0)
		close(s->hupfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->readers);
	free(s->free_readers);
	free(s->workers);
	free(s->rst);
	free(s->cert);
	free(s->key);
	pthread_mutex_destroy(&s->rlock);
	pthread_cond_destroy(&s->rfree);
	pthread_mutex_destroy(&s->clock);
	pthread_cond_destroy(&s->cwake);
	for (size_t i = 0; i < EVENT_THREADS; i++)
		pthread_mutex_destroy(&s->evlock[i]);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->env.refusing_lock);
	pthread_cond_destroy(&s->qwake);
	free(s);
}
