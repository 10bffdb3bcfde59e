/* make bench: the service's speed, measured from outside over HTTP/1.1.
 *
 *   build/bench_server build/cpufleet [--db URL]   (from the repository root)
 *
 *  1. starts `cpufleet server` on a fresh database in a temporary directory
 *     (or on the empty PostgreSQL database URL) and creates an admin token;
 *  2. uploads: 64 client threads, each on its own keep-alive connection,
 *     upload distinct reports (those of tests/data/fleet over 1000 host
 *     ids, a unique report_id each, the hostname changed in 9 of 10 so
 *     most are new content), all with the one admin token -- 1000
 *     warm-up uploads, then 3 timed trials of 20000, judged by their
 *     median;
 *  3. check latency: publishes a profile (PUT /v1/profiles/bench) and sends
 *     10000 sequential POST /v1/check on one keep-alive connection, first
 *     naming the profile, then with the profile inline;
 *  4. stops the server with SIGTERM.
 *
 * The client is plain sockets with bodies assembled by memcpy from
 * pre-split templates, so it costs the machine little next to the server.
 * Exit: 0 when both targets are met, 1 when not or when anything failed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>

#define NCLIENTS        64
#define NHOSTS          1000
#define UPLOAD_WARMUP   1000
#define UPLOAD_COUNT    20000      /* per trial */
/* Timed trials, one after the other on the same connections; the verdict
 * is their median: on a shared machine one trial can fall in a slow
 * minute (the client's own CPU for the same work varies by half). */
#define UPLOAD_TRIALS   3
#define CHECK_WARMUP    200
#define CHECK_COUNT     10000
#define UPLOAD_TARGET   5000.0     /* reports/s, at least */
#define CHECK_P99_MS    5.0        /* milliseconds, below */

#define FLEET_GLOB      "tests/data/fleet/*.json"
#define REAL_GLOB       "tests/data/arm64/real-writable/*.json"
#define TEMPLATES_MAX   64
#define FILE_MAX        (1u << 20)  /* a template or profile file */
#define RESP_MAX        (4u << 20)  /* a response, headers and body */
#define HDR_MAX         1024        /* a request's header block */
#define TOKEN_MAX       256
#define IO_TIMEOUT_S    60
#define STOP_TIMEOUT_S  30

/* ---- small helpers ---- */

/* What die() cleans up: the server and the temporary directory. */
static pid_t g_server = -1;
static char g_dir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "bench_server: remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

static void remove_dir(void)
{
	if (g_dir[0])
		nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_dir[0] = '\0';
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						      noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_server > 0) {
		kill(g_server, SIGTERM);
		waitpid(g_server, NULL, 0);
	}
	remove_dir();
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

/* Reads PATH whole (at most FILE_MAX bytes), NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	buf = xmalloc(FILE_MAX + 1);
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX)
		die("%s: unreadable or over %u bytes", path, FILE_MAX);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* ---- child processes ---- */

/* Runs ARGV; its stdout goes to OUT_FD (-1: ours), its stderr to ours or,
 * when QUIET, to /dev/null like a -1 stdout.  Returns the pid. */
static pid_t spawn(char *const argv[], int out_fd, bool quiet)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, STDERR_FILENO);
			if (out_fd < 0)
				out_fd = null;
			else if (null >= 0)
				close(null);
		}
		if (out_fd >= 0 && out_fd != STDOUT_FILENO) {
			dup2(out_fd, STDOUT_FILENO);
			close(out_fd);
		}
		execv(argv[0], argv);
		fprintf(stderr, "bench_server: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs ARGV to completion; its stdout (at most CAP-1 bytes kept) in OUT. */
static int run_capture(char *const argv[], char *out, size_t cap)
{
	int p[2];
	size_t len = 0;
	pid_t pid;

	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));
	pid = spawn(argv, p[1], false);
	close(p[1]);
	for (;;) {
		char tmp[4096];
		ssize_t n = read(p[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t k = (size_t)n;
		if (k > cap - 1 - len)
			k = cap - 1 - len;
		memcpy(out + len, tmp, k);
		len += k;
	}
	close(p[0]);
	out[len] = '\0';
	return wait_exit(pid);
}

/* user+system CPU seconds of process PID so far (from /proc/PID/stat). */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p, *end;
	unsigned long long ut, stt;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');           /* comm may hold spaces */
	if (!p)
		return -1;
	p++;
	/* fields after comm: state(3) ... utime(14) stime(15) */
	for (int field = 3; field < 14; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	ut = strtoull(p, &end, 10);
	stt = strtoull(end, &end, 10);
	return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The machine's CPU time so far, from /proc/stat's first line, in ticks:
 * busy (user, nice, system), irq (irq, softirq: mostly the loopback TCP
 * traffic, charged to no process), idle, iowait, steal. */
struct cpu_ticks {
	unsigned long long busy, irq, idle, iowait, steal;
};

static void machine_ticks(struct cpu_ticks *t)
{
	unsigned long long v[8] = { 0 };
	char line[512], *p, *end;
	FILE *f = fopen("/proc/stat", "r");

	memset(t, 0, sizeof(*t));
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && !strncmp(line, "cpu ", 4)) {
		p = line + 4;
		for (int i = 0; i < 8; i++, p = end)
			v[i] = strtoull(p, &end, 10);
	}
	fclose(f);
	/* user nice system idle iowait irq softirq steal */
	t->busy = v[0] + v[1] + v[2];
	t->irq = v[5] + v[6];
	t->idle = v[3];
	t->iowait = v[4];
	t->steal = v[7];
}

static void print_machine(void)
{
	char line[512], model[256] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		/* x86 names it "model name"; arm64 kernels have no name, so
		 * fall back on the implementer/part numbers. */
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		if (!strncmp(line, "model name", 10) ||
		    (!strncmp(line, "Hardware", 8) && !model[0])) {
			snprintf(model, sizeof(model), "%s", colon);
			if (line[0] == 'm')
				break;
		} else if (!model[0] && !strncmp(line, "CPU part", 8)) {
			snprintf(model, sizeof(model), "CPU part %s", colon);
		}
	}
	if (f)
		fclose(f);
	printf("machine: %s, nproc %ld\n", model[0] ? model : "unknown",
	       sysconf(_SC_NPROCESSORS_ONLN));
}

/* ---- HTTP/1.1 keep-alive client ---- */

struct conn {
	int fd;
	unsigned port;
	char *buf;           /* received bytes */
	size_t len;          /* bytes in buf */
	size_t used;         /* of which the last response took */
	bool reconnect;      /* the server said Connection: close */
	unsigned reconnects;
};

struct resp {
	unsigned status;
	const char *body;    /* in the connection's buffer, NUL-terminated */
	size_t len;
};

static bool conn_open(struct conn *c, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)c->port) };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return false;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errlen, "connect 127.0.0.1:%u: %s", c->port,
			 strerror(errno));
		close(c->fd);
		c->fd = -1;
		return false;
	}
	c->len = c->used = 0;
	c->reconnect = false;
	return true;
}

static bool conn_init(struct conn *c, unsigned port, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	c->buf = xmalloc(RESP_MAX + 1);
	return conn_open(c, err, errlen);
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

/* Sends every byte of IOV[0..N), however the kernel splits it. */
static bool send_all(int fd, struct iovec *iov, int n, char *err, size_t errlen)
{
	while (n > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "send: %s", strerror(errno));
			return false;
		}
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return true;
}

/* Reads more into the buffer; false at EOF, error or a full buffer. */
static bool recv_more(struct conn *c, char *err, size_t errlen)
{
	for (;;) {
		if (c->len >= RESP_MAX) {
			snprintf(err, errlen, "response over %u bytes", RESP_MAX);
			return false;
		}
		ssize_t r = recv(c->fd, c->buf + c->len, RESP_MAX - c->len, 0);
		if (r > 0) {
			c->len += (size_t)r;
			return true;
		}
		if (r < 0 && errno == EINTR)
			continue;
		snprintf(err, errlen, "recv: %s", r == 0 ? "connection closed "
			 "by the server" : errno == EAGAIN ? "timed out"
			 : strerror(errno));
		return false;
	}
}

static bool header_is(const char *line, size_t n, const char *name,
		      const char **val, size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	*val = line;
	*vlen = n;
	return true;
}

/* One request and its response on C.  The body in R stays valid until the
 * next call. */
static bool http_do(struct conn *c, const char *method, const char *path,
		    const char *token, const char *body, size_t blen,
		    struct resp *r, char *err, size_t errlen)
{
	char hdr[HDR_MAX];
	struct iovec iov[2];
	size_t hend = 0, clen = 0;
	bool have_len = false;
	int n;

	/* Drop the previous response; keep anything after it. */
	if (c->used) {
		memmove(c->buf, c->buf + c->used, c->len - c->used);
		c->len -= c->used;
		c->used = 0;
	}
	if (c->reconnect || c->fd < 0) {
		if (c->fd >= 0)
			close(c->fd);
		c->reconnects++;
		if (!conn_open(c, err, errlen))
			return false;
	}
	n = snprintf(hdr, sizeof(hdr),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
		     "%s%s%s"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", method, path, c->port,
		     token ? "Authorization: Bearer " : "", token ? token : "",
		     token ? "\r\n" : "", blen);
	if (n < 0 || (size_t)n >= sizeof(hdr)) {
		snprintf(err, errlen, "request header over %d bytes", HDR_MAX);
		return false;
	}
	iov[0] = (struct iovec){ hdr, (size_t)n };
	iov[1] = (struct iovec){ (void *)body, blen };
	if (!send_all(c->fd, iov, blen ? 2 : 1, err, errlen))
		return false;

	/* The header block. */
	for (;;) {
		const char *e = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4)
					    : NULL;
		if (e) {
			hend = (size_t)(e - c->buf) + 4;
			break;
		}
		if (!recv_more(c, err, errlen))
			return false;
	}
	if (hend < 16 || strncmp(c->buf, "HTTP/1.", 7) != 0 ||
	    c->buf[8] != ' ') {
		snprintf(err, errlen, "malformed status line: %.*s",
			 (int)(hend < 40 ? hend : 40), c->buf);
		return false;
	}
	{
		char code[4] = { c->buf[9], c->buf[10], c->buf[11], '\0' };
		char *end;
		long v = strtol(code, &end, 10);
		if (*end || v < 100 || v > 599) {
			snprintf(err, errlen, "malformed status line: %.*s",
				 (int)(hend < 40 ? hend : 40), c->buf);
			return false;
		}
		r->status = (unsigned)v;
	}
	c->reconnect = c->buf[7] == '0';   /* HTTP/1.0: closes by default */
	for (size_t at = (size_t)((char *)memmem(c->buf, hend, "\r\n", 2) -
				  c->buf) + 2; at + 2 < hend;) {
		const char *line = c->buf + at, *val;
		size_t ll = (size_t)((char *)memmem(line, hend - at, "\r\n", 2) -
				     line), vl;
		if (header_is(line, ll, "Content-Length", &val, &vl)) {
			char num[24], *end;
			unsigned long long v;
			if (vl == 0 || vl >= sizeof(num) ||
			    strspn(val, "0123456789") < vl) {
				snprintf(err, errlen, "bad Content-Length");
				return false;
			}
			memcpy(num, val, vl);
			num[vl] = '\0';
			v = strtoull(num, &end, 10);
			if (*end || v > RESP_MAX) {
				snprintf(err, errlen, "Content-Length %s over "
					 "the limit", num);
				return false;
			}
			clen = (size_t)v;
			have_len = true;
		} else if (header_is(line, ll, "Transfer-Encoding", &val, &vl)) {
			snprintf(err, errlen, "Transfer-Encoding %.*s: not "
				 "supported by this client", (int)vl, val);
			return false;
		} else if (header_is(line, ll, "Connection", &val, &vl)) {
			if (vl == 5 && !strncasecmp(val, "close", 5))
				c->reconnect = true;
			else if (vl == 10 && !strncasecmp(val, "keep-alive", 10))
				c->reconnect = false;
		}
		at += ll + 2;
	}
	if (!have_len && r->status != 204 && r->status != 304 &&
	    r->status >= 200) {
		snprintf(err, errlen, "HTTP %u without Content-Length",
			 r->status);
		return false;
	}
	if (hend + clen > RESP_MAX) {
		snprintf(err, errlen, "response over %u bytes", RESP_MAX);
		return false;
	}
	while (c->len < hend + clen)
		if (!recv_more(c, err, errlen))
			return false;
	/* One request in flight, so nothing may follow the response; the
	 * buffer has room for a NUL after RESP_MAX bytes. */
	if (c->len > hend + clen) {
		snprintf(err, errlen, "%zu unexpected bytes after the response",
			 c->len - hend - clen);
		return false;
	}
	c->buf[hend + clen] = '\0';
	r->body = c->buf + hend;
	r->len = clen;
	c->used = hend + clen;
	return true;
}

/* ---- the server under test ---- */

struct server {
	pid_t pid;
	int out;             /* its stdout, kept open */
	unsigned port;
};

static void server_start(struct server *s, const char *bin, const char *db)
{
	char *argv[] = { (char *)bin, "server", "--listen", "127.0.0.1:0",
			 "--db", (char *)db, NULL };
	char line[1024];
	size_t len = 0;
	int p[2];
	const char *at, *mark = "listening on http://127.0.0.1:";
	char *end;
	long port;

	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	s->pid = spawn(argv, p[1], false);
	g_server = s->pid;
	close(p[1]);
	s->out = p[0];
	/* Byte by byte up to the first newline: nothing more is consumed. */
	while (len < sizeof(line) - 1) {
		ssize_t n = read(s->out, line + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	at = strstr(line, mark);
	if (!at) {
		int rc = wait_exit(s->pid);
		g_server = -1;
		die("server did not start (first line: \"%s\"; exit %d)", line,
		    rc);
	}
	port = strtol(at + strlen(mark), &end, 10);
	if (end == at + strlen(mark) || port <= 0 || port > 65535)
		die("no port in \"%s\"", line);
	s->port = (unsigned)port;
}

/* SIGTERM, then its exit status (SIGKILL after STOP_TIMEOUT_S). */
static int server_stop(struct server *s)
{
	int st;
	double t0 = now_s();

	kill(s->pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);
		if (r == s->pid)
			break;
		if (r < 0 && errno != EINTR)
			die("waitpid: %s", strerror(errno));
		if (now_s() - t0 > STOP_TIMEOUT_S) {
			fprintf(stderr, "bench_server: server still running %d s "
				"after SIGTERM: killing it\n", STOP_TIMEOUT_S);
			kill(s->pid, SIGKILL);
			wait_exit(s->pid);
			g_server = -1;
			close(s->out);
			return 137;
		}
		usleep(10000);
	}
	g_server = -1;
	close(s->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- report templates ---- */

/* A fleet report split where report_id, host.id and host.hostname go, so
 * an upload's body is a few memcpy's. */
enum { HOLE_RID, HOLE_HOST, HOLE_NAME, NHOLES };

struct tmpl {
	char *part[NHOLES + 1];  /* text around the holes */
	size_t plen[NHOLES + 1];
	int hole[NHOLES];        /* which hole follows part[i] */
	char name[64];           /* the file's host id, for the hostname */
};

static struct tmpl tmpls[TEMPLATES_MAX];
static size_t ntmpls;

static void split_template(struct tmpl *t, const char *path)
{
	static const char *const marks[NHOLES] = { "@RID@", "@HOST@", "@NAME@" };
	char *text = read_file(path, NULL), *flat, *p;
	cJSON *o = cJSON_Parse(text), *host, *id;
	const char *at[NHOLES];

	if (!o || !(host = cJSON_GetObjectItemCaseSensitive(o, "host")) ||
	    !cJSON_IsString(id = cJSON_GetObjectItemCaseSensitive(host, "id")))
		die("%s: not a report with host.id", path);
	snprintf(t->name, sizeof(t->name), "%s", id->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "report_id");
	cJSON_DeleteItemFromObjectCaseSensitive(host, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(host, "hostname");
	if (!cJSON_AddStringToObject(o, "report_id", marks[HOLE_RID]) ||
	    !cJSON_AddStringToObject(host, "id", marks[HOLE_HOST]) ||
	    !cJSON_AddStringToObject(host, "hostname", marks[HOLE_NAME]))
		die("out of memory");
	flat = cJSON_PrintUnformatted(o);
	if (!flat)
		die("out of memory");
	for (int i = 0; i < NHOLES; i++) {
		at[i] = strstr(flat, marks[i]);
		if (!at[i] || strstr(at[i] + 1, marks[i]))
			die("%s: template mark %s not found once", path,
			    marks[i]);
		t->hole[i] = i;
	}
	/* The holes in document order. */
	for (int i = 1; i < NHOLES; i++)
		for (int j = i; j > 0 && at[t->hole[j]] < at[t->hole[j - 1]]; j--) {
			int x = t->hole[j];
			t->hole[j] = t->hole[j - 1];
			t->hole[j - 1] = x;
		}
	p = flat;
	for (int i = 0; i < NHOLES; i++) {
		const char *h = at[t->hole[i]];
		t->plen[i] = (size_t)(h - p);
		t->part[i] = xmalloc(t->plen[i] + 1);
		memcpy(t->part[i], p, t->plen[i]);
		t->part[i][t->plen[i]] = '\0';
		p = (char *)h + strlen(marks[t->hole[i]]);
	}
	t->plen[NHOLES] = strlen(p);
	t->part[NHOLES] = xstrdup(p);
	cJSON_free(flat);
	cJSON_Delete(o);
	free(text);
}

static void load_templates(void)
{
	glob_t g;

	if (glob(FLEET_GLOB, 0, NULL, &g) != 0 || g.gl_pathc == 0)
		die("%s: no reports (run from the repository root)", FLEET_GLOB);
	for (size_t i = 0; i < g.gl_pathc && ntmpls < TEMPLATES_MAX; i++)
		split_template(&tmpls[ntmpls++], g.gl_pathv[i]);
	globfree(&g);
}

/* Appends S[0..N) at *AT in BUF (of CAP bytes); false when full. */
static bool put(char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
	if (n > cap - *at)
		return false;
	memcpy(buf + *at, s, n);
	*at += n;
	return true;
}

static void host_id(unsigned h, char *out, size_t cap)
{
	snprintf(out, cap, "bench-%04u", h);
}

/* Upload number K: host K % NHOSTS (always the same template, so a host
 * keeps its architecture), its hostname naming generation K / NHOSTS --
 * except that in one generation of ten a host repeats the previous one's
 * name (the same content again: seen again).  Returns the body's length,
 * 0 when BUF is too small. */
static size_t upload_body(unsigned k, char *buf, size_t cap)
{
	unsigned h = k % NHOSTS, gen = k / NHOSTS;
	const struct tmpl *t = &tmpls[h % ntmpls];
	char rid[40], hid[40], name[128];
	size_t at = 0;

	if (gen > 0 && (gen + h) % 10 == 0)
		gen--;
	snprintf(rid, sizeof(rid), "bench-%u", k);
	host_id(h, hid, sizeof(hid));
	snprintf(name, sizeof(name), "%s.%s.gen%u", hid, t->name, gen);
	const char *val[NHOLES] = { rid, hid, name };
	for (int i = 0; i < NHOLES; i++)
		if (!put(buf, cap, &at, t->part[i], t->plen[i]) ||
		    !put(buf, cap, &at, val[t->hole[i]], strlen(val[t->hole[i]])))
			return 0;
	if (!put(buf, cap, &at, t->part[NHOLES], t->plen[NHOLES]))
		return 0;
	return at;
}

/* ---- uploads ---- */

struct upload_state {
	unsigned port;
	const char *token;
	pthread_barrier_t ready, go, done;
	unsigned next_warm;          /* next warm-up upload number, atomic */
	unsigned next;               /* next timed upload number, atomic */
	unsigned long long ok, failed, non201;
	double *lat;                 /* seconds, per timed upload */
	pthread_mutex_t lock;
	char first_err[512];
	unsigned reconnects;
};

static void upload_fail(struct upload_state *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void upload_fail(struct upload_state *u, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&u->lock);
	if (!u->first_err[0]) {
		va_start(ap, fmt);
		vsnprintf(u->first_err, sizeof(u->first_err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&u->lock);
}

/* Uploads numbers taken from *NEXT while under LIMIT; false after a
 * failure that leaves the connection unusable. */
static bool upload_until(struct upload_state *u, struct conn *c, char *body,
			 size_t cap, unsigned *next, unsigned limit)
{
	char err[256];

	for (;;) {
		unsigned k = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
		struct resp r;
		size_t n;
		double t0;

		if (k >= limit)
			return true;
		n = upload_body(k, body, cap);
		if (!n) {
			upload_fail(u, "upload %u: body over %zu bytes", k, cap);
			__atomic_fetch_add(&u->failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		t0 = now_s();
		if (!http_do(c, "POST", "/v1/reports", u->token, body, n, &r,
			     err, sizeof(err))) {
			upload_fail(u, "upload %u: %s", k, err);
			__atomic_fetch_add(&u->failed, 1, __ATOMIC_RELAXED);
			return false;
		}
		if (k >= UPLOAD_WARMUP)
			u->lat[(k - UPLOAD_WARMUP) % UPLOAD_COUNT] = now_s() - t0;
		if (r.status != 201) {
			upload_fail(u, "upload %u: HTTP %u: %.300s", k, r.status,
				    r.body);
			__atomic_fetch_add(&u->non201, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&u->ok, 1, __ATOMIC_RELAXED);
		}
	}
}

static void *upload_thread(void *arg)
{
	struct upload_state *u = arg;
	struct conn c;
	size_t cap = 64 * 1024;
	char *body = xmalloc(cap), err[256];
	bool up = conn_init(&c, u->port, err, sizeof(err));

	if (!up) {
		upload_fail(u, "%s", err);
		__atomic_fetch_add(&u->failed, 1, __ATOMIC_RELAXED);
	}
	pthread_barrier_wait(&u->ready);
	if (up)
		up = upload_until(u, &c, body, cap, &u->next_warm,
				  UPLOAD_WARMUP);
	for (unsigned t = 0; t < UPLOAD_TRIALS; t++) {
		pthread_barrier_wait(&u->go);
		if (up)
			up = upload_until(u, &c, body, cap, &u->next,
					  UPLOAD_WARMUP + (t + 1) * UPLOAD_COUNT);
		pthread_barrier_wait(&u->done);
	}
	__atomic_fetch_add(&u->reconnects, c.reconnects, __ATOMIC_RELAXED);
	conn_close(&c);
	free(body);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The P-th percentile (nearest rank) of sorted V[0..N). */
static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* A counter's value from the /metrics text, or -1. */
static double metric(const char *text, const char *name)
{
	size_t k = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1
								       : NULL) {
		if (!strncmp(p, name, k) && p[k] == ' ')
			return strtod(p + k + 1, NULL);
	}
	return -1;
}

/* Timed trial T (from 0): its figures printed, its rate returned. */
static double upload_trial(struct upload_state *u, unsigned t, pid_t server)
{
	double t0, t1, c0, c1, s0, s1, rate;
	struct cpu_ticks m0, m1;
	size_t nlat = 0;

	u->next = UPLOAD_WARMUP + t * UPLOAD_COUNT;
	for (size_t i = 0; i < UPLOAD_COUNT; i++)
		u->lat[i] = -1;
	pthread_barrier_wait(&u->go);            /* the trial starts */
	t0 = now_s();
	c0 = self_cpu_s();
	s0 = proc_cpu_s(server);
	machine_ticks(&m0);
	pthread_barrier_wait(&u->done);
	t1 = now_s();
	c1 = self_cpu_s();
	s1 = proc_cpu_s(server);
	machine_ticks(&m1);

	rate = (double)UPLOAD_COUNT / (t1 - t0);
	printf("uploads, trial %u of %d: %d reports from %d clients in %.2f s: "
	       "%.0f reports/s\n", t + 1, UPLOAD_TRIALS, UPLOAD_COUNT, NCLIENTS,
	       t1 - t0, rate);
	for (size_t i = 0; i < UPLOAD_COUNT; i++)
		if (u->lat[i] >= 0)
			u->lat[nlat++] = u->lat[i];
	qsort(u->lat, nlat, sizeof(*u->lat), cmp_double);
	if (nlat)
		printf("  per upload: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
		       "max %.2f ms\n", pct(u->lat, nlat, 50) * 1e3,
		       pct(u->lat, nlat, 90) * 1e3, pct(u->lat, nlat, 99) * 1e3,
		       u->lat[nlat - 1] * 1e3);
	printf("  CPU during the timed part: server %.2f s, this client "
	       "%.2f s (of %.2f s x %ld CPUs)\n", s1 - s0, c1 - c0, t1 - t0,
	       sysconf(_SC_NPROCESSORS_ONLN));
	{
		double tck = (double)sysconf(_SC_CLK_TCK);
		double busy = (double)(m1.busy - m0.busy) / tck;
		double irq = (double)(m1.irq - m0.irq) / tck;
		double idle = (double)(m1.idle - m0.idle) / tck;
		double iow = (double)(m1.iowait - m0.iowait) / tck;
		double steal = (double)(m1.steal - m0.steal) / tck;
		double all = busy + irq + idle + iow + steal;
		/* What neither side used: other processes on the machine. */
		double others = busy - (s1 - s0) - (c1 - c0);
		if (all > 0)
			printf("  machine: other processes %.2f s, irq+softirq "
			       "%.0f%%, idle %.0f%%, iowait %.0f%%, steal %.0f%%\n",
			       others > 0 ? others : 0.0, 100 * irq / all,
			       100 * idle / all, 100 * iow / all,
			       100 * steal / all);
	}
	return rate;
}

static bool bench_uploads(unsigned port, const char *token, pid_t server)
{
	static struct upload_state u;
	pthread_t th[NCLIENTS];
	double rate[UPLOAD_TRIALS], median;

	u.port = port;
	u.token = token;
	u.lat = xmalloc(UPLOAD_COUNT * sizeof(*u.lat));
	pthread_mutex_init(&u.lock, NULL);
	pthread_barrier_init(&u.ready, NULL, NCLIENTS + 1);
	pthread_barrier_init(&u.go, NULL, NCLIENTS + 1);
	pthread_barrier_init(&u.done, NULL, NCLIENTS + 1);
	for (int i = 0; i < NCLIENTS; i++)
		if (pthread_create(&th[i], NULL, upload_thread, &u) != 0)
			die("cannot start client thread %d", i);
	pthread_barrier_wait(&u.ready);          /* connected, warming up */
	for (unsigned t = 0; t < UPLOAD_TRIALS; t++)
		rate[t] = upload_trial(&u, t, server);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&u.ready);
	pthread_barrier_destroy(&u.go);
	pthread_barrier_destroy(&u.done);
	pthread_mutex_destroy(&u.lock);
	free(u.lat);

	unsigned long long timed_ok = u.ok;      /* warm-up included */
	qsort(rate, UPLOAD_TRIALS, sizeof(rate[0]), cmp_double);
	median = rate[UPLOAD_TRIALS / 2];
	printf("uploads: median of %d trials %.0f reports/s (trials %.0f to "
	       "%.0f; target >= %.0f)\n", UPLOAD_TRIALS, median, rate[0],
	       rate[UPLOAD_TRIALS - 1], UPLOAD_TARGET);
	/* What the server made of them. */
	{
		struct conn c;
		struct resp r;
		char err[256];
		if (conn_init(&c, port, err, sizeof(err)) &&
		    http_do(&c, "GET", "/metrics", NULL, NULL, 0, &r, err,
			    sizeof(err)) && r.status == 200) {
			double b = metric(r.body, "cpufleet_db_write_batches_total");
			double j = metric(r.body, "cpufleet_db_write_jobs_total");
			printf("  server: new %.0f, seen_again %.0f, known %.0f; "
			       "%.0f write jobs in %.0f transactions (%.1f per "
			       "commit)\n",
			       metric(r.body, "cpufleet_reports_uploaded_total"
				      "{result=\"new\"}"),
			       metric(r.body, "cpufleet_reports_uploaded_total"
				      "{result=\"seen_again\"}"),
			       metric(r.body, "cpufleet_reports_uploaded_total"
				      "{result=\"known\"}"),
			       j, b, b > 0 ? j / b : 0);
		} else {
			printf("  server metrics unavailable: %s\n", err);
		}
		conn_close(&c);
	}
	if (u.reconnects)
		printf("  the server closed connections: %u reconnects\n",
		       u.reconnects);
	if (u.failed || u.non201 ||
	    timed_ok != UPLOAD_WARMUP + UPLOAD_TRIALS * UPLOAD_COUNT) {
		printf("uploads: FAILED: %llu answered 201 of %d, %llu other "
		       "answers, %llu transport errors; first: %s\n", timed_ok,
		       UPLOAD_WARMUP + UPLOAD_TRIALS * UPLOAD_COUNT, u.non201,
		       u.failed,
		       u.first_err);
		return false;
	}
	return median >= UPLOAD_TARGET;
}

/* ---- check latency ---- */

/* COUNT sequential checks with BODY on C; false on any failure. */
static bool check_run(struct conn *c, const char *token, const char *body,
		      const char *label, double *p99_ms)
{
	double *lat = xmalloc(CHECK_COUNT * sizeof(*lat));
	char err[256];
	struct resp r;
	size_t blen = strlen(body);

	for (int i = 0; i < CHECK_WARMUP + CHECK_COUNT; i++) {
		double t0 = now_s();
		if (!http_do(c, "POST", "/v1/check", token, body, blen, &r, err,
			     sizeof(err))) {
			printf("check (%s): FAILED at request %d: %s\n", label, i,
			       err);
			free(lat);
			return false;
		}
		if (i >= CHECK_WARMUP)
			lat[i - CHECK_WARMUP] = now_s() - t0;
		if (r.status != 200) {
			printf("check (%s): FAILED at request %d: HTTP %u: "
			       "%.300s\n", label, i, r.status, r.body);
			free(lat);
			return false;
		}
		if (i == 0 && !strstr(r.body, "\"results\"")) {
			printf("check (%s): FAILED: unexpected answer %.300s\n",
			       label, r.body);
			free(lat);
			return false;
		}
	}
	qsort(lat, CHECK_COUNT, sizeof(*lat), cmp_double);
	*p99_ms = pct(lat, CHECK_COUNT, 99) * 1e3;
	printf("check: %d requests, p50 %.2f ms, p99 %.2f ms (target p99 < "
	       "%.0f ms) [%s; p90 %.2f ms, max %.2f ms]\n", CHECK_COUNT,
	       pct(lat, CHECK_COUNT, 50) * 1e3, *p99_ms, CHECK_P99_MS, label,
	       pct(lat, CHECK_COUNT, 90) * 1e3, lat[CHECK_COUNT - 1] * 1e3);
	free(lat);
	return true;
}

static bool bench_checks(const char *bin, const char *dir, unsigned port,
			 const char *token)
{
	char ppath[4096], hid[40], err[256];
	char *doc, *by_name, *inline_body;
	struct conn c;
	struct resp r;
	size_t dlen;
	glob_t g;
	bool ok = true;
	double p99a = 0, p99b = 0;
	cJSON *o, *pdoc, *hosts;

	/* The profile: the baseline of the three real hosts. */
	snprintf(ppath, sizeof(ppath), "%s/profile.json", dir);
	if (glob(REAL_GLOB, 0, NULL, &g) != 0 || g.gl_pathc == 0)
		die("%s: no reports (run from the repository root)", REAL_GLOB);
	{
		char **argv = xmalloc((g.gl_pathc + 6) * sizeof(*argv));
		size_t n = 0;
		argv[n++] = (char *)bin;
		argv[n++] = "baseline";
		argv[n++] = "-q";
		argv[n++] = "-o";
		argv[n++] = ppath;
		for (size_t i = 0; i < g.gl_pathc; i++)
			argv[n++] = g.gl_pathv[i];
		argv[n] = NULL;
		int rc = wait_exit(spawn(argv, -1, true));
		free(argv);
		if (rc != 0)
			die("%s baseline -o %s %s: exit %d (run it by hand to "
			    "see why)", bin, ppath, REAL_GLOB, rc);
	}
	globfree(&g);
	doc = read_file(ppath, &dlen);

	if (!conn_init(&c, port, err, sizeof(err)))
		die("%s", err);
	if (!http_do(&c, "PUT", "/v1/profiles/bench", token, doc, dlen, &r, err,
		     sizeof(err)))
		die("PUT /v1/profiles/bench: %s", err);
	if (r.status != 201)
		die("PUT /v1/profiles/bench: HTTP %u: %.300s", r.status, r.body);

	host_id(0, hid, sizeof(hid));
	o = cJSON_CreateObject();
	hosts = cJSON_AddArrayToObject(o, "hosts");
	cJSON_AddItemToArray(hosts, cJSON_CreateString(hid));
	cJSON_AddStringToObject(o, "profile", "bench");
	by_name = cJSON_PrintUnformatted(o);
	pdoc = cJSON_Parse(doc);
	if (!pdoc)
		die("%s: not JSON", ppath);
	cJSON_ReplaceItemInObjectCaseSensitive(o, "profile", pdoc);
	inline_body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!by_name || !inline_body)
		die("out of memory");

	ok = check_run(&c, token, by_name, "profile by name", &p99a) && ok;
	ok = check_run(&c, token, inline_body, "profile inline", &p99b) && ok;
	if (c.reconnects)
		printf("  the server closed the connection: %u reconnects\n",
		       c.reconnects);
	conn_close(&c);
	cJSON_free(by_name);
	cJSON_free(inline_body);
	free(doc);
	return ok && p99a < CHECK_P99_MS && p99b < CHECK_P99_MS;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	char db[256], token[TOKEN_MAX];
	struct server s;
	bool up_ok, chk_ok;
	int rc;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--db") == 0)) {
		fprintf(stderr, "usage: bench_server PATH-TO-CPUFLEET "
			"[--db URL]\n(run from the repository root; URL an "
			"empty PostgreSQL database)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_machine();
	load_templates();
	snprintf(g_dir, sizeof(g_dir), "/tmp/cpufleet-bench-XXXXXX");
	if (!mkdtemp(g_dir)) {
		g_dir[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	if (argc == 4) {
		if (strlen(argv[3]) >= sizeof(db))
			die("--db: longer than %zu bytes", sizeof(db) - 1);
		memcpy(db, argv[3], strlen(argv[3]) + 1);
	} else {
		snprintf(db, sizeof(db), "%s/bench.db", g_dir);
	}

	server_start(&s, argv[1], db);
	printf("server: pid %ld, port %u, database %s\n", (long)s.pid, s.port,
	       db);
	{
		char *targv[] = { argv[1], "token", "create", "--db", db,
				  "--role", "admin", NULL };
		rc = run_capture(targv, token, sizeof(token));
		token[strcspn(token, "\r\n")] = '\0';
		if (rc != 0 || !token[0])
			die("token create: exit %d", rc);
	}

	up_ok = bench_uploads(s.port, token, s.pid);
	chk_ok = bench_checks(argv[1], g_dir, s.port, token);

	rc = server_stop(&s);
	if (rc != 0)
		printf("server: exit %d after SIGTERM (expected 0)\n", rc);
	remove_dir();
	if (!up_ok)
		printf("bench_server: upload target missed or uploads failed\n");
	if (!chk_ok)
		printf("bench_server: check target missed or checks failed\n");
	return up_ok && chk_ok && rc == 0 ? 0 : 1;
}
