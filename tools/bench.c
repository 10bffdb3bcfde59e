/* make bench: the engine's speed on a large fleet.  Not a test: it prints
 * figures for the README and exits 0 unless something fails outright.
 *
 *  1. 1,000,000 reports parsed, each from its own report document (its
 *     own host id), drawn from 50 distinct configurations, through one
 *     cf_config_table as a loader of many reports does (each parse builds
 *     its configuration whole, then finds it in the table and holds the
 *     one there instead; --unshared: each keeps its own); then pool add
 *     (cf_pool_add_many: dedup by configuration) + baseline over them;
 *  2. 1,000,000 checks of the baseline against those hosts (compatible),
 *     and 1,000,000 checks of a rich host's own profile against a poorer
 *     host (incompatible, reasons built). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "engine/check.h"
#include "engine/handles.h"

#define NREPORTS 1000000
#define NCONFIGS 50
#define NCHECKS 1000000
#define ID_DIGITS 7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *what, enum cf_err err)
{
	fprintf(stderr, "bench: %s: %s\n", what, cf_strerror(err));
	exit(1);
}

/* Would a host of SEED's values refuse C by one of KVM's own rules? */
static bool refused_by_rule(const struct cf_config *c, const struct cf_config *seed)
{
	const struct cf_refusals *rs = seed->arch->refusals;

	for (size_t i = 0; rs && i < rs->n; i++)
		if (cf_check_refused(&rs->r[i], c, seed, 0))
			return true;
	return false;
}

/* Variant I of a seed: a few lower-safe fields stepped down, so the 50
 * configurations are distinct and the pool stays feasible. */
static struct cf_config *variant(const struct cf_config *seed, int i)
{
	const struct cf_catalog *cat = seed->arch->catalog;
	struct cf_config *c = NULL;
	enum cf_err err = cf_config_clone(seed, &c);
	int changed = 0;

	if (err != CF_OK)
		die("clone", err);
	while (changed < 1 + i % 4) {
		size_t ri = rnd() % cat->nregs;
		const struct cf_reg *reg = &cat->regs[ri];
		if (!c->present[ri] || reg->nfields == 0)
			continue;
		const struct cf_field *f = &reg->fields[rnd() % reg->nfields];
		uint64_t m = cf_field_mask(f), v = cf_field_raw(f, c->val[ri]);
		uint64_t old = c->val[ri];
		/* only values the seed's own KVM takes (floors; and rules
		 * across fields), so the pool stays feasible */
		if (f->policy != CF_POL_LOWER || f->is_signed || v == 0 ||
		    (c->wr[ri] & m) != m || !cf_field_accepts(f, v, true, v - 1))
			continue;
		c->val[ri] = (c->val[ri] & ~m) | ((v - 1) << f->shift);
		if (refused_by_rule(c, seed)) {
			c->val[ri] = old;
			continue;
		}
		changed++;
	}
	return c;
}

/* A report document of configuration C with SEED's other fields, host id
 * "host-" and ID_DIGITS zeros: malloc'd into *TEXT, *DIGITS the offset of
 * the zeros in it. */
static void document(const struct cf_report *seed, struct cf_config *c,
		     char **text, size_t *digits)
{
	static const char needle[] = "\"host-0000000\"";
	struct cf_report *r = NULL;
	enum cf_err err = cf_report_create("host-0000000", cf_config_ref(c), &r);
	const char *at;

	for (int f = CF_REPORT_HOSTNAME; err == CF_OK && f <= CF_REPORT_ARCH_JSON;
	     f++)
		err = cf_report_set_field(r, (enum cf_report_field)f,
					  cf_report_field(seed, (enum cf_report_field)f));
	if (err == CF_OK)
		err = cf_report_to_json(r, text);
	if (err != CF_OK)
		die("document", err);
	cf_report_destroy(r);
	at = strstr(*text, needle);
	if (!at || strstr(at + 1, needle))
		die("document: the host id is not found once", CF_EINVAL);
	*digits = (size_t)(at - *text) + strlen("\"host-");
}

int main(int argc, char **argv)
{
	static const char *const seeds_path[] = {
		"tests/data/arm64/real-writable/altra.json",
		"tests/data/arm64/real-writable/graviton3.json",
		"tests/data/arm64/real-writable/cortex-a72.json",
	};
	struct cf_report *seeds[3], **reps;
	struct cf_config *cfgs[NCONFIGS];
	char *docs[NCONFIGS];
	size_t doclen[NCONFIGS], digits[NCONFIGS], docbytes = 0;
	struct cf_config_table *table = NULL;
	bool shared = !(argc == 2 && !strcmp(argv[1], "--unshared"));
	struct cf_pool *pool = NULL;
	struct cf_profile *base = NULL, *rich = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d;
	struct rusage ru;
	enum cf_err err;
	char id[32];
	double t0, t1, t2, t3;
	size_t incompatible = 0;

	for (int i = 0; i < 3; i++) {
		err = cf_report_load(seeds_path[i], &seeds[i], &d);
		if (err != CF_OK) {
			fprintf(stderr, "bench: %s\n", d.msg);
			return 1;
		}
	}
	for (int i = 0; i < NCONFIGS; i++) {
		bool dup;
		do {
			cfgs[i] = variant(cf_report_config(seeds[i % 3]), i);
			cf_config_seal(cfgs[i]);
			dup = false;
			for (int j = 0; j < i && !dup; j++)
				dup = cf_config_equal(cfgs[i], cfgs[j]);
			if (dup)
				cf_config_unref(cfgs[i]);
		} while (dup);
		document(seeds[i % 3], cfgs[i], &docs[i], &digits[i]);
		doclen[i] = strlen(docs[i]);
		docbytes += doclen[i];
	}
	if (argc > 2 || (argc == 2 && shared)) {
		fprintf(stderr, "usage: bench [--unshared]\n");
		return 2;
	}
	reps = malloc(NREPORTS * sizeof(*reps));
	if (!reps || !v || (shared && cf_config_table_create(&table) != CF_OK))
		die("setup", CF_ENOMEM);
	fprintf(stderr, "bench: parsing %d report documents...\n", NREPORTS);
	t0 = now();
	for (int i = 0; i < NREPORTS; i++) {
		int k = i % NCONFIGS;
		/* This report's own host id, written into its document. */
		snprintf(id, sizeof(id), "%0*d", ID_DIGITS, i);
		memcpy(docs[k] + digits[k], id, ID_DIGITS);
		err = cf_report_parse(docs[k], doclen[k], "bench", &reps[i], &d);
		if (err != CF_OK) {
			fprintf(stderr, "bench: %s\n", d.msg);
			return 1;
		}
		if (shared && (err = cf_report_share(reps[i], table)) != CF_OK)
			die("share", err);
		/* What the document says is what was written: the first of
		 * each configuration is checked whole. */
		if (i < NCONFIGS &&
		    !cf_config_equal(cf_report_config(reps[i]), cfgs[k]))
			die("parsed configuration differs from its document's",
			    CF_EINVAL);
	}
	t1 = now();
	printf("parse: %d report documents (%zu bytes each on average) in "
	       "%.3f s = %.2f us/report; configurations %s\n", NREPORTS,
	       docbytes / NCONFIGS, t1 - t0, (t1 - t0) * 1e6 / NREPORTS,
	       shared ? "shared (cf_config_table)" : "unshared (--unshared)");
	if (shared && cf_config_table_count(table) != NCONFIGS)
		die("the table holds another number of configurations", CF_EINVAL);
	cf_config_table_destroy(table);

	t0 = now();
	err = cf_pool_create("arm64", &pool);
	if (err == CF_OK)
		err = cf_pool_add_many(pool, (const struct cf_report *const *)reps,
				       NREPORTS, &d);
	if (err != CF_OK)
		die("pool", err);
	t1 = now();
	err = cf_baseline(pool, &base);
	if (err != CF_OK)
		die("baseline", err);
	t2 = now();
	printf("baseline: %d reports, %zu distinct configurations, %s\n",
	       NREPORTS, cf_pool_config_count(pool),
	       cf_profile_feasible(base) ? "feasible" : "INFEASIBLE");
	printf("baseline: pool add %.3f s + baseline %.6f s = %.3f s "
	       "(target <= 0.5 s)\n", t1 - t0, t2 - t1, t2 - t0);

	t0 = now();
	for (int i = 0; i < NCHECKS; i++) {
		cf_check(base, reps[i % NREPORTS], v);
		incompatible += !cf_verdict_compatible(v);
	}
	t1 = now();
	printf("check (baseline vs host, compatible): %d checks in %.3f s = "
	       "%.3f us/check (target < 2 us); incompatible: %zu\n", NCHECKS,
	       t1 - t0, (t1 - t0) * 1e6 / NCHECKS, incompatible);

	incompatible = 0;
	err = cf_profile_from_report(seeds[1], &rich); /* graviton3 */
	if (err != CF_OK)
		die("profile", err);
	t2 = now();
	for (int i = 0; i < NCHECKS; i++) {
		cf_check(rich, seeds[2], v); /* onto cortex-a72 */
		incompatible += !cf_verdict_compatible(v);
	}
	t3 = now();
	printf("check (graviton3 profile vs cortex-a72, %zu reasons each): "
	       "%d checks in %.3f s = %.3f us/check; incompatible: %zu\n",
	       cf_verdict_reason_count(v), NCHECKS, t3 - t2,
	       (t3 - t2) * 1e6 / NCHECKS, incompatible);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %ld MiB = %ld MB (target <= 400 MB)\n",
	       ru.ru_maxrss / 1024, ru.ru_maxrss * 1024 / 1000000);

	cf_profile_destroy(rich);
	cf_profile_destroy(base);
	cf_pool_destroy(pool);
	for (int i = 0; i < NREPORTS; i++)
		cf_report_destroy(reps[i]);
	free(reps);
	for (int i = 0; i < NCONFIGS; i++) {
		cf_config_unref(cfgs[i]);
		free(docs[i]);
	}
	for (int i = 0; i < 3; i++)
		cf_report_destroy(seeds[i]);
	cf_verdict_destroy(v);
	return 0;
}
