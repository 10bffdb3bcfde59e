/* make bench: the service's computations on a large pool of few
 * configurations.  Not a test: it prints figures for the README and exits
 * 0 unless something fails outright.
 *
 * `bench_fleet` stores 10,000 hosts in a fresh database, each a copy of
 * one of 3 reports of tests/data (host 'h00000'... takes seed i % 3), in
 * a pool "all"; then runs itself again on that database (`bench_fleet
 * DB`), so that the peak RSS it prints is that of the computations alone:
 * the pool's baseline (as POST /v1/pools/all/baseline does it), its
 * verdict matrix and that matrix's JSON document (as GET
 * /v1/pools/all/matrix sends it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "fleet/fleet.h"
#include "profiles/doc.h"

#define NHOSTS 10000

/* The three hosts of the golden baseline (tests/data/golden): a feasible
 * pool, as a real one would be. */
static const char *const seeds[] = {
	"tests/data/arm64/real-writable/altra.json",
	"tests/data/arm64/real-writable/graviton3.json",
	"tests/data/arm64/real-writable/cortex-a72.json",
};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (user + system): what the work cost, on a
 * machine that others share. */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, enum cf_err err, const struct cf_diag *d)
{
	fprintf(stderr, "bench_fleet: %s: %s\n", what,
		d && d->msg[0] ? d->msg : cf_strerror(err));
	exit(1);
}

/* Every upload inside the one transaction populate() opened. */
static enum cf_err bulk_write(void *ctx, cf_fleet_write_fn fn,
			      cf_fleet_write_many_fn many, void *arg,
			      struct cf_diag *d)
{
	(void)many;
	return fn(ctx, arg, d);
}

static struct cf_db *bulk_get(void *ctx)
{
	return ctx;
}

static void bulk_put(void *ctx, struct cf_db *db)
{
	(void)ctx;
	(void)db;
}

static void fixed_now(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "2026-12-06T00:00:00.000Z");
}

static void populate(const char *path)
{
	struct cf_report *seed[NSEEDS];
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;
	struct cf_fleet f;
	char id[16], *hosts = malloc(NHOSTS * 10 + 16);
	size_t used = 0;
	bool created;
	enum cf_err err;
	double t0 = now();

	if (!hosts)
		die("hosts", CF_ENOMEM, NULL);
	for (size_t i = 0; i < NSEEDS; i++)
		if ((err = cf_report_load(seeds[i], &seed[i], &d)) != CF_OK)
			die(seeds[i], err, &d);
	if ((err = cf_db_open(path, false, &db, &d)) != CF_OK)
		die(path, err, &d);
	f = (struct cf_fleet){ bulk_get, bulk_put, bulk_write, fixed_now, db,
			       NULL, NULL, 0, 0 };
	if ((err = cf_db_begin(db, &d)) != CF_OK)
		die("begin", err, &d);
	hosts[used++] = '[';
	for (size_t i = 0; i < NHOSTS; i++) {
		struct cf_fleet_upload u;
		struct cf_report *r = NULL;
		snprintf(id, sizeof(id), "h%05zu", i);
		if ((err = cf_report_clone_as(seed[i % NSEEDS], id, &r)) != CF_OK)
			die("clone", err, NULL);
		if ((err = cf_fleet_upload(&f, r, NULL, &u, &d)) != CF_OK)
			die("upload", err, &d);
		cf_report_destroy(r);
		used += (size_t)snprintf(hosts + used, 16, "%s\"%s\"",
					 i ? "," : "", id);
	}
	snprintf(hosts + used, 2, "]");
	if ((err = cf_fleet_pool_put(&f, "all", "{}", hosts, "bench", &created,
				     &d)) != CF_OK)
		die("pool", err, &d);
	if ((err = cf_db_commit(db, &d)) != CF_OK)
		die("commit", err, &d);
	cf_db_close(db);
	for (size_t i = 0; i < NSEEDS; i++)
		cf_report_destroy(seed[i]);
	free(hosts);
	printf("fleet: %d hosts of %zu configurations stored in %.2f s\n",
	       NHOSTS, NSEEDS, now() - t0);
}

static void measure(const char *path)
{
	struct cf_fleet_direct dir = { NULL, NULL };
	struct cf_fleet_baseline b;
	struct cf_fleet_matrix m;
	struct cf_diag d = { "" };
	struct cf_fleet f;
	struct rusage ru;
	const char **hosts;
	size_t *group;
	cJSON *o;
	char *text;
	enum cf_err err;
	double t0, t1, t2, c0, c1, c2;

	if ((err = cf_db_open(path, false, &dir.db, &d)) != CF_OK)
		die(path, err, &d);
	cf_fleet_direct(&f, &dir);
	t0 = now();
	c0 = cpu();
	err = cf_fleet_baseline(&f, "all", NULL, "bench", &b, &d);
	if (err != CF_OK)
		die("baseline", err, &d);
	t1 = now();
	c1 = cpu();
	printf("fleet: baseline of %zu hosts (%zu configurations): %.3f s "
	       "(%.3f s CPU), feasible: %s\n", b.pool->n, b.pool->ncfg,
	       t1 - t0, c1 - c0,
	       cf_profile_feasible(b.profile) ? "yes" : "no");
	cf_fleet_baseline_clear(&b);
	t1 = now();
	c1 = cpu();
	if ((err = cf_fleet_matrix(&f, "all", NULL, &m, &d)) != CF_OK)
		die("matrix", err, &d);
	o = cJSON_CreateObject();
	hosts = calloc(m.pool->n + 1, sizeof(*hosts));
	group = calloc(m.pool->n + 1, sizeof(*group));
	for (size_t i = 0; hosts && group && i < m.pool->n; i++) {
		hosts[i] = m.pool->m[i].host;
		group[i] = m.pool->m[i].config;
	}
	if (!o || !hosts || !group ||
	    cf_matrix_to_doc(hosts, m.pool->n, group, m.pool->ncfg, m.cell,
			     o) != CF_OK ||
	    !(text = cJSON_PrintUnformatted(o)))
		die("matrix document", CF_ENOMEM, NULL);
	t2 = now();
	c2 = cpu();
	printf("fleet: matrix of %zu hosts (%zu configurations) and its "
	       "document: %.3f s (%.3f s CPU), %zu bytes of JSON\n",
	       m.pool->n, m.pool->ncfg, t2 - t1, c2 - c1, strlen(text));
	free(text);
	free(hosts);
	free(group);
	cJSON_Delete(o);
	cf_fleet_matrix_clear(&m);
	cf_db_close(dir.db);
	getrusage(RUSAGE_SELF, &ru);
	printf("fleet: peak RSS of baseline + matrix: %.1f MiB\n",
	       (double)ru.ru_maxrss / 1024.0);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/cf_bench_fleetXXXXXX", path[64], wal[80];
	pid_t pid;
	int st;

	if (argc == 2) {
		measure(argv[1]);
		return 0;
	}
	if (!mkdtemp(dir))
		die("mkdtemp", CF_EIO, NULL);
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	populate(path);
	if (getenv("BENCH_KEEP")) {
		printf("%s\n", path);
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], path, (char *)NULL);
		_exit(127);
	}
	st = pid > 0 && waitpid(pid, &st, 0) == pid ? st : -1;
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
	return st == 0 ? 0 : 1;
}
