#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "tools/cli_util.h"
#include "tools/remote.h"
#include "agent/agent.h"
#include "server/server.h"
#include "db/db.h"
#include "util/diag.h"

static const char help[] =
"usage: cpufleet agent --server URL [--token T | --token-file F]\n"
"                      [--once | --interval S] [--spool DIR] [--host-id ID]\n"
"                      [--features LIST] [--from REPORT] [--tries N]\n"
"                      [--backoff MIN,MAX]\n"
"\n"
"Collects this host's report (what KVM here offers a guest), spools it on\n"
"disk and uploads it to the server; when the server cannot be reached the\n"
"reports wait in the spool and are delivered, oldest first and exactly\n"
"once, when it is back.  Runs until SIGTERM, collecting every S seconds, or\n"
"once with --once (for cron).\n"
"\n"
"  -s, --server URL       the server (http:// or https://)\n"
"  -t, --token T          agent token (or CPUFLEET_TOKEN, or --token-file)\n"
"  -T, --token-file F     read the token from F\n"
"      --cacert PEM       CA certificate to trust for HTTPS\n"
"  -1, --once             one collection and delivery, then exit\n"
"  -n, --interval S       seconds between collections (default 3600)\n"
"  -S, --spool DIR        spool directory (default /var/spool/cpufleet)\n"
"  -i, --host-id ID       the report's host id (default: the hostname)\n"
"  -f, --features LIST    vCPU features to collect with (arm64)\n"
"  -F, --from REPORT      upload this report file instead of collecting\n"
"                         (imports, tests); it gets a fresh report id\n"
"      --tries N          --once: delivery attempts (default 5)\n"
"      --backoff MIN,MAX  seconds between attempts: the first wait is\n"
"                         drawn from [MIN/2, MIN], each next one from\n"
"                         [B/2, B] with B doubled up to MAX (default\n"
"                         0.5,60)\n"
"      --timeout S        give up on one request after S seconds (default\n"
"                         30; connecting: 5); the report stays spooled\n"
"  -q, --quiet            print errors only\n"
"  -h, --help             this text\n"
"\n"
"What the server answers decides what happens to a report:\n"
"  2xx (200, 201)     delivered: removed from the spool\n"
"  400 403 409 410    refused for good (a bad document, a token that may\n"
"  413 415 422        not upload it, an id taken by other content, too\n"
"                     big): moved to DIR/rejected/ with NAME.why beside it\n"
"                     (status, the server's error, the time), and the\n"
"                     reports behind it go on; move it back into DIR to\n"
"                     send it again\n"
"  401, 404, 405      the token or the URL is wrong, not the report: all\n"
"                     reports stay; --once stops at once, a loop retries\n"
"                     every MAX seconds\n"
"  5xx, 408, 429,     and no answer at all: the reports stay and the\n"
"  other 4xx          delivery is retried with the backoff\n"
"\n"
"exit: 0 every report delivered, 2 usage error, token or URL refused, or\n"
"a report rejected, 3 server unreachable (reports kept in the spool) or\n"
"internal error\n";

struct collect_ctx {
	const char *from;
	char host[CF_HOST_ID_MAX];
	uint32_t features;
	bool from_bad;       /* --from could not be read: an input error */
};

static enum cf_err new_report_id(struct cf_report *r)
{
	unsigned char b[16];
	char id[40] = "r-";
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n <= 0)
			return CF_EIO;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 + 2 * i, 3, "%02x", b[i]);
	return cf_report_set_id(r, id);
}

static enum cf_err collect(void *vctx, char **json, struct cf_diag *d)
{
	struct collect_ctx *c = vctx;
	struct cf_report *r = NULL;
	char now[CF_DB_TIME_MAX];
	enum cf_err err;

	if (c->from)
		err = cli_report_load(c->from, &r, d);
	else
		err = cli_collect_here(c->features, c->host, &r, d);
	if (err != CF_OK) {
		c->from_bad = c->from && err != CF_ENOMEM;
		return err;
	}
	if (c->from) {
		cf_server_now(now, sizeof(now));
		err = cf_report_set_collected_at(r, now);
	}
	if (err == CF_OK)
		err = new_report_id(r);
	if (err == CF_OK)
		err = cf_report_to_json(r, json);
	cf_report_destroy(r);
	if (err != CF_OK)
		return cf_diag_set(d, err, "report: %s", cf_strerror(err));
	return CF_OK;
}

static void log_line(void *ctx, const char *msg)
{
	bool quiet = *(bool *)ctx;
	char ts[40];
	time_t t = time(NULL);
	struct tm tm;

	if (quiet)
		return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s cpufleet agent: %s\n", ts, msg);
}

/* "S[.FFF]" seconds into milliseconds, 1 ms to one day. */
static bool parse_ms(const char *s, const char *end, unsigned *ms)
{
	unsigned long v = 0;
	int frac = -1;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac == 3 || v > 86400000ul)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (int scale = frac < 0 ? 3 : 3 - frac; scale > 0; scale--)
		v *= 10;
	if (v == 0 || v > 86400000ul)
		return false;
	*ms = (unsigned)v;
	return true;
}

static bool parse_backoff(const char *arg, unsigned *min_ms, unsigned *max_ms)
{
	const char *comma = strchr(arg, ',');

	return comma && parse_ms(arg, comma, min_ms) &&
	       parse_ms(comma + 1, comma + strlen(comma), max_ms) &&
	       *min_ms <= *max_ms;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'n' },
		{ "spool", required_argument, NULL, 'S' },
		{ "host-id", required_argument, NULL, 'i' },
		{ "features", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "tries", required_argument, NULL, 'R' },
		{ "backoff", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct remote_opts ro = { 0 };
	struct collect_ctx cc = { .features = CF_ARM64_FEAT_DEFAULT };
	struct cf_agent_opts ao = { .collect = collect, .collect_ctx = &cc,
				    .log = log_line, .interval_s = 3600,
				    .stop = &stop_flag };
	struct cf_agent_stats st = { 0 };
	struct cf_spool *spool = NULL;
	struct cf_diag d = { "" };
	const char *spool_dir = "/var/spool/cpufleet";
	bool quiet = false;
	enum cf_err err;
	long v;
	int c, rc;

	ao.log_ctx = &quiet;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:T:1n:S:i:f:F:qh", opts,
				NULL)) != -1) {
		switch (c) {
		case 's': case 't': case 'T': case 'C':
			if (remote_opt(&ro, c, optarg) != CLI_OK)
				return CLI_USAGE;
			break;
		case '1': ao.once = true; break;
		case 'W':
			if (!cli_parse_long(optarg, 1, 3600, &v)) {
				cli_error("agent", "--timeout %s: expected 1 to "
					  "3600 seconds", optarg);
				return CLI_USAGE;
			}
			ro.timeout_ms = v * 1000;
			break;
		case 'n': case 'R':
			if (!cli_parse_long(optarg, 1, c == 'n' ? 604800 : 1000, &v)) {
				cli_error("agent", "--%s %s: expected 1 to %d",
					  c == 'n' ? "interval" : "tries", optarg,
					  c == 'n' ? 604800 : 1000);
				return CLI_USAGE;
			}
			if (c == 'n')
				ao.interval_s = (unsigned)v;
			else
				ao.tries = (unsigned)v;
			break;
		case 'K':
			if (!parse_backoff(optarg, &ao.backoff_min_ms,
					   &ao.backoff_max_ms)) {
				cli_error("agent", "--backoff %s: expected MIN,MAX "
					  "seconds (0.001 to 86400, up to three "
					  "decimals, MIN <= MAX)", optarg);
				return CLI_USAGE;
			}
			break;
		case 'S': spool_dir = optarg; break;
		case 'i':
			if (cli_check_host_id("agent", "--host-id", optarg) !=
			    CLI_OK)
				return CLI_USAGE;
			snprintf(cc.host, sizeof(cc.host), "%s", optarg);
			break;
		case 'f':
			if (cf_arm64_parse_features(optarg, &cc.features) != CF_OK) {
				cli_error("agent", "unknown feature in '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'F': cc.from = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("agent", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (!cc.host[0] && gethostname(cc.host, sizeof(cc.host) - 1) != 0)
		snprintf(cc.host, sizeof(cc.host), "localhost");
	rc = remote_connect("agent", &ro, &ao.client);
	if (rc != CLI_OK)
		return rc;
	err = cf_spool_open(spool_dir, &spool, &d);
	if (err != CF_OK) {
		cli_error("agent", "%s", d.msg);
		rc = CLI_USAGE;
		goto cleanup;
	}
	ao.spool = spool;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	err = cf_agent_run(&ao, &st, &d);
	if (!quiet || err != CF_OK)
		fprintf(stderr, "cpufleet agent: collected %lu, delivered %lu "
			"(%lu already known), rejected %lu, %zu waiting in %s\n",
			st.collected, st.delivered, st.already_known, st.rejected,
			cf_spool_count(spool), spool_dir);
	if (err != CF_OK)
		cli_error("agent", "%s", d.msg[0] ? d.msg : cf_strerror(err));
	if (err == CF_OK && st.rejected)
		cli_error("agent", "%lu report(s) refused by the server: kept in "
			  "%s/rejected with the reason", st.rejected, spool_dir);
	rc = err == CF_OK ? (st.rejected ? CLI_USAGE : CLI_OK)
	   : cc.from_bad || err == CF_EDENIED || err == CF_EINVAL ||
	     err == CF_EARCH || err == CF_ESCHEMA || err == CF_ESYNTAX
	   ? CLI_USAGE : CLI_INTERNAL;
	/* Stopped (SIGTERM, Ctrl-C) with reports undelivered: 0 is "every
	 * report delivered" (help), so the server-unreachable code. */
	if (rc == CLI_OK && cf_spool_count(spool) > 0) {
		cli_error("agent", "stopped with %zu report(s) not delivered, "
			  "kept in %s", cf_spool_count(spool), spool_dir);
		rc = CLI_INTERNAL;
	}
cleanup:
	cf_spool_close(spool);
	cf_client_destroy(ao.client);
	return rc;
}
