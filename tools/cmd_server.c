#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include "tools/cli_util.h"
#include "db/db.h"
#include "server/server.h"
#include "server/api.h"

static const char help[] =
"usage: cpufleet server --listen HOST:PORT --db PATH [--cert PEM --key PEM]\n"
"                       [--max-body BYTES] [--readers N] [--max-conns N]\n"
"                       [--header-timeout S] [--body-timeout S]\n"
"       cpufleet server --routes\n"
"\n"
"Runs the central service in the foreground until SIGTERM or SIGINT: the\n"
"/v1 JSON API (reports, hosts, pools, baselines, profiles, check), /v1/health\n"
"and /metrics.  The SQLite database at PATH is created or migrated at start\n"
"and locked (flock) while the server runs: a second server on it is refused.\n"
"A postgresql:// URL as PATH is a PostgreSQL database, migrated at start and\n"
"not locked: several servers may serve one.\n"
"Plain HTTP on an address other than loopback logs a warning at start.\n"
"Port 0 picks a free port; the first line on stdout says which.\n"
"\n"
"  -l, --listen HOST:PORT  address to listen on ([::1]:PORT for IPv6)\n"
"  -d, --db PATH           the database: a file, or a postgresql:// URL\n"
"  -c, --cert PEM          certificate for HTTPS (with --key)\n"
"  -k, --key PEM           its private key\n"
"  -b, --max-body BYTES    largest request body (default 1048576)\n"
"  -r, --readers N         read connections to the database (default 8),\n"
"                          and four threads each answering requests\n"
"  -m, --max-conns N       open connections at most (default 16384, and\n"
"                          what the open files limit leaves, which the\n"
"                          server raises to its hard limit at start); once\n"
"                          seven eighths are open, each new connection\n"
"                          closes the one idle the longest, and a client\n"
"                          address holding half of them gets no more\n"
"      --header-timeout S  a connection has S seconds to send a request's\n"
"                          headers, from when it is ready for one (default\n"
"                          10); then it is closed\n"
"      --body-timeout S    and S seconds more for the body (default 60)\n"
"      --routes            list the routes and exit: METHOD PATH ACCESS NAME\n"
"                          a line, ACCESS public, upload (agent or admin),\n"
"                          read (reader or admin) or admin\n"
"  -h, --help              this text\n"
"\n"
"Connections cost a socket each and no thread: two event threads read\n"
"them all and hand complete requests to the answering threads, so idle or\n"
"slow clients do not hold up /v1/health.\n"
"\n"
"exit: 0 stopped by a signal, 2 usage error or cannot start, 3 internal error\n";

static void log_line(void *ctx, const char *msg)
{
	char ts[40];
	time_t t = time(NULL);
	struct tm tm;

	(void)ctx;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s cpufleet server: %s\n", ts, msg);
}

/* Is the HOST of LISTEN ("HOST:PORT", "[V6]:PORT") a loopback address? */
static bool listen_loopback(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char host[64];
	unsigned char a[16];
	size_t n = colon ? (size_t)(colon - listen) : 0;

	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
		listen++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, host, a) == 1 &&
	       !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
}

static bool parse_size(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > max)
		return false;
	*out = v;
	return true;
}

int cmd_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "readers", required_argument, NULL, 'r' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "header-timeout", required_argument, NULL, 'H' },
		{ "body-timeout", required_argument, NULL, 'B' },
		{ "routes", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cf_server_opts o = { .log = log_line };
	struct cf_server *s = NULL;
	struct cf_diag d = { "" };
	char shown[512];
	unsigned long long v;
	struct rlimit rl;
	sigset_t set;
	int c, sig;

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:d:c:k:b:r:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'd': o.db_path = optarg; break;
		case 'c': o.cert_path = optarg; break;
		case 'k': o.key_path = optarg; break;
		case 'b':
			if (!parse_size(optarg, CF_DOC_MAX_BYTES, &v)) {
				cli_error("server", "--max-body %s: expected 1 to "
					  "%u bytes", optarg, CF_DOC_MAX_BYTES);
				return CLI_USAGE;
			}
			o.max_body = (size_t)v;
			break;
		case 'r':
			if (!parse_size(optarg, 64, &v)) {
				cli_error("server", "--readers %s: expected 1 to 64",
					  optarg);
				return CLI_USAGE;
			}
			o.readers = (unsigned)v;
			break;
		case 'm':
			if (!parse_size(optarg, 1000000, &v)) {
				cli_error("server", "--max-conns %s: expected 1 to "
					  "1000000", optarg);
				return CLI_USAGE;
			}
			o.max_conns = (unsigned)v;
			break;
		case 'H': case 'B':
			if (!parse_size(optarg, 3600, &v)) {
				cli_error("server", "--%s %s: expected 1 to 3600 "
					  "seconds", c == 'H' ? "header-timeout" :
					  "body-timeout", optarg);
				return CLI_USAGE;
			}
			if (c == 'H')
				o.header_timeout_s = (unsigned)v;
			else
				o.body_timeout_s = (unsigned)v;
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		case 'R':
			for (size_t i = 0; i < cf_api_nroutes; i++)
				printf("%s %s %s %s\n", cf_api_routes[i].method,
				       cf_api_routes[i].pattern,
				       cf_api_access_name(cf_api_routes[i].access),
				       cf_api_routes[i].name);
			return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (!o.listen || !o.db_path || optind != argc) {
		cli_error("server", "%s", !o.listen ? "--listen is required" :
			  !o.db_path ? "--db is required" : "unexpected argument");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	/* Every thread the server starts inherits this mask, so the signals
	 * reach sigwait below and nowhere else. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Connections are descriptors: the soft limit (often 1024, as systemd
	 * sets it) up to the hard one, which only the administrator raises. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cf_server_start(&o, &s, &d) != CF_OK) {
		cli_error("server", "%s", d.msg);
		return CLI_USAGE;
	}
	cf_db_path_show(o.db_path, shown, sizeof(shown));
	printf("cpufleet server: listening on %s://%.*s:%u (database %s)\n",
	       o.cert_path ? "https" : "http",
	       (int)(strrchr(o.listen, ':') - o.listen), o.listen,
	       cf_server_port(s), shown);
	fflush(stdout);
	/* Bearer tokens travel in every request. */
	if (!o.cert_path && !listen_loopback(o.listen))
		log_line(NULL, "warning: plain HTTP on an address other than "
			 "loopback: every request's bearer token crosses the "
			 "network in clear; give --cert and --key for HTTPS");
	sigwait(&set, &sig);
	log_line(NULL, sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
	cf_server_stop(s);
	log_line(NULL, "stopped");
	return CLI_OK;
}
