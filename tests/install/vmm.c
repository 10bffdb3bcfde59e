/* What a VMM does with libcpufleet, built by tests/install/run.sh against
 * the installed library with `pkg-config --cflags --libs cpufleet` alone
 * (only <cpufleet.h>, nothing of the source tree).
 *
 *   vmm own REPORT PROFILE       the host's own profile (all KVM offers
 *                                there: a guest started on it), saved
 *   vmm baseline PROFILE REPORT...  the pool's baseline, saved
 *   vmm check PROFILE REPORT...  may a guest with PROFILE start on (or
 *                                migrate to) each host?
 *
 * check prints one line per host: "HOST: accepted", or "HOST: refused:"
 * and every register the library names, once each, in its order.  Exit 0
 * every host accepted (or the profile saved), 1 some host refused or the
 * baseline infeasible, 2 an error (printed with the library's message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpufleet.h>

static int fail(const char *what, enum cf_err err, const struct cf_diag *d)
{
	fprintf(stderr, "vmm: %s: %s\n", what,
		d && d->msg[0] ? d->msg : cf_strerror(err));
	return 2;
}

static int own(const char *report, const char *out)
{
	struct cf_report *r = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	enum cf_err err;
	int rc = 0;

	err = cf_report_load(report, &r, &d);
	if (err != CF_OK)
		return fail(report, err, &d);
	err = cf_profile_from_report(r, &pr);
	if (err == CF_OK)
		err = cf_profile_save(pr, out, &d);
	if (err != CF_OK)
		rc = fail(out, err, &d);
	cf_profile_destroy(pr);
	cf_report_destroy(r);
	return rc;
}

static int baseline(const char *out, char **reports, int n)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	enum cf_err err;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		struct cf_report *r = NULL;

		err = cf_report_load(reports[i], &r, &d);
		if (err == CF_OK && !p)
			err = cf_pool_create(cf_report_arch(r), &p);
		if (err == CF_OK)
			err = cf_pool_add(p, r, &d);
		if (err != CF_OK)
			rc = fail(reports[i], err, &d);
		cf_report_destroy(r);
	}
	if (rc == 0) {
		err = cf_baseline(p, &pr);
		if (err == CF_OK)
			err = cf_profile_save(pr, out, &d);
		if (err != CF_OK)
			rc = fail(out, err, &d);
		else if (!cf_profile_feasible(pr))
			rc = 1;
		printf("baseline of %zu hosts: %s\n", cf_pool_host_count(p),
		       rc == 0 ? "feasible" : "INFEASIBLE");
	}
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	return rc;
}

/* "HOST: accepted" or "HOST: refused: REG REG ..." (each register once). */
static void print_verdict(const struct cf_report *r, const struct cf_verdict *v)
{
	size_t n = cf_verdict_reason_count(v);

	printf("%s: %s", cf_report_host_id(r),
	       cf_verdict_compatible(v) ? "accepted" : "refused:");
	for (size_t i = 0; i < n; i++) {
		const char *reg = cf_verdict_reason(v, i)->reg;
		size_t j = 0;

		while (j < i && strcmp(cf_verdict_reason(v, j)->reg, reg))
			j++;
		if (j == i)
			printf(" %s", reg);
	}
	printf("\n");
}

static int check(const char *profile, char **reports, int n)
{
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d = { "" };
	enum cf_err err;
	int rc = 0;

	if (!v)
		return fail("verdict", CF_ENOMEM, NULL);
	err = cf_profile_load(profile, &pr, &d);
	if (err != CF_OK) {
		cf_verdict_destroy(v);
		return fail(profile, err, &d);
	}
	for (int i = 0; i < n && rc != 2; i++) {
		struct cf_report *r = NULL;

		err = cf_report_load(reports[i], &r, &d);
		if (err == CF_OK)
			err = cf_check(pr, r, v);
		if (err != CF_OK) {
			rc = fail(reports[i], err, &d);
		} else {
			print_verdict(r, v);
			if (!cf_verdict_compatible(v))
				rc = 1;
		}
		cf_report_destroy(r);
	}
	cf_profile_destroy(pr);
	cf_verdict_destroy(v);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "own"))
		return own(argv[2], argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "baseline"))
		return baseline(argv[2], argv + 3, argc - 3);
	if (argc >= 4 && !strcmp(argv[1], "check"))
		return check(argv[2], argv + 3, argc - 3);
	fprintf(stderr, "usage: vmm own REPORT PROFILE | baseline PROFILE "
		"REPORT... | check PROFILE REPORT...\n");
	return 2;
}
