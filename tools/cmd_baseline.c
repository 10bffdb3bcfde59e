#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet baseline [-o FILE] [-q] [--enable CAP[=VALUE]]...\n"
"                         [--disable FEATS]... [--require FEATS]...\n"
"                         [--max-level LEVEL] [--kernel X.Y] REPORT...\n"
"\n"
"Computes the richest CPU profile that every host accepts, field by field\n"
"under the Arm ID-scheme policies and each host's writable masks.  Prints the\n"
"profile JSON (cpufleet.profile/v1) on stdout, or writes it durably to FILE;\n"
"an infeasible pool still gets a profile, with its `conflicts`, each also\n"
"named on stderr.  A feature whose prerequisite the pool lost (AVX-512F\n"
"without the AVX-512 XSAVE state, SVE2 without SVE) is left out too, and\n"
"the profile's `dropped` and stderr say what it needs and why it is gone.\n"
"A feasible profile's named levels follow on stderr, as `show` prints them\n"
"(x86: psABI level, richest libvirt model; arm64: Armv8.x level, core).\n"
"\n"
"KVM capabilities are no CPU features: the profile keeps the pool's common\n"
"set as advice (kvm.caps), never a refusal.  --enable names one the VMs\n"
"enable (kvm.enabled), which check then requires on every host; a host of\n"
"the pool that lacks it makes the pool infeasible.\n"
"\n"
"  -o, --output FILE  write the profile to FILE instead of stdout ('-':\n"
"                     stdout; a device or FIFO is written in place)\n"
"  -q, --quiet        do not list conflicts, what was dropped, nor the named\n"
"                     levels, on stderr\n"
"  -e, --enable CAP[=VALUE]\n"
"                     the VMs enable capability CAP, one of role guest in\n"
"                     arch/caps/caps.txt (KVM_CAP_ARM_MTE, KVM_CAP_X2APIC_API\n"
"                     ...); VALUE: the bits of a bitmask (0x3), else 1\n"
"  -d, --disable FEATS  leave out each feature of FEATS (comma-separated, as\n"
"                     `show` names them: FEAT_SVE2 or sve2, avx512f): every\n"
"                     field showing it at the richest value that does not,\n"
"                     and what needs it dropped with it\n"
"  -r, --require FEATS  each feature must be in the profile: a host lacking\n"
"                     one makes the pool infeasible (exit 1, the hosts named,\n"
"                     nothing written)\n"
"  -m, --max-level LEVEL  leave out every feature of the named levels LEVEL\n"
"                     does not include (arm64 Armv8.0 .. Armv9.3 of\n"
"                     arch/arm64/levels.txt; x86 x86-64-v1 .. x86-64-v4)\n"
"                     The masked profile is checked on every host as `check`\n"
"                     does; one that refuses it is named (exit 1).\n"
"  -k, --kernel X.Y   plan as if every host ran Linux X.Y (or X.Y.Z): each\n"
"                     host's writable masks as arch/arm64/kvm-writable.txt\n"
"                     gives them for that release (fields writable from\n"
"                     it added, those no longer writable removed; a range\n"
"                     A..B counts from B), values unchanged\n"
"\n"
"An infeasible pool's conflicts get kernel advice on stderr (without -q or\n"
"--enable, --disable, --require, --max-level): for a field some host's KVM\n"
"does not let userspace write but a later Linux does (kvm-writable.txt),\n"
"\"kernel advice: REG.FIELD: writable from Linux X.Y (... line N): with\n"
"hosts A, B on X.Y this pool becomes feasible\", said only when the\n"
"baseline recomputed with those hosts at X.Y is feasible (else \"the pool\n"
"stays infeasible: \" and what still conflicts); an approximate release is\n"
"said so.\n"
"\n"
"  -h, --help         this text\n"
"\n"
"exit: 0 feasible, 1 infeasible, 2 usage or input error, 3 internal error\n";

/* --enable CAP[=VALUE]: VALUE decimal or 0x hex, 1 if absent. */
static int enable_cap(const struct cf_pool *pool, struct cf_profile *pr,
		      const char *arg)
{
	char name[64], *end = NULL;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	unsigned long long value = 1;
	struct cf_diag d = { "" };
	enum cf_err err;

	if (n >= sizeof(name)) {
		cli_error("baseline", "--enable %s: no such capability", arg);
		return CLI_USAGE;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	if (eq) {
		errno = 0;
		value = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end || eq[1] == '-') {
			cli_error("baseline", "--enable %s: VALUE must be a number "
				  "(decimal or 0x hex)", arg);
			return CLI_USAGE;
		}
	}
	err = cf_profile_enable_cap(pr, pool, name, value, &d);
	if (err == CF_ENOMEM) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	if (err != CF_OK) {
		cli_error("baseline", "--enable %s: %s", arg, d.msg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The features of the comma-separated LISTS[0..N-1], each passed to FN
 * with CTX until it returns other than CLI_OK. */
static int each_feature(char **lists, size_t n,
			int (*fn)(void *ctx, const char *feat), void *ctx)
{
	int rc = CLI_OK;

	for (size_t i = 0; i < n && rc == CLI_OK; i++) {
		char *copy = strdup(lists[i]), *save = NULL, *tok;
		if (!copy)
			return CLI_INTERNAL;
		for (tok = strtok_r(copy, ",", &save); tok && rc == CLI_OK;
		     tok = strtok_r(NULL, ",", &save))
			rc = fn(ctx, tok);
		free(copy);
	}
	return rc;
}

struct masks {
	const struct cli_reports *rs;
	struct cf_profile *pr;
};

static int mask_err(const char *opt, const char *arg, enum cf_err err,
		    const struct cf_diag *d)
{
	if (err == CF_ENOMEM) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	cli_error("baseline", "%s %s: %s", opt, arg, d->msg);
	return CLI_USAGE;
}

/* --require FEAT: every host must show it; else the hosts that do not. */
static int require_one(void *ctx, const char *feat)
{
	const struct masks *m = ctx;
	char lack[1024] = "";
	size_t used = 0, n = 0;

	for (size_t i = 0; i < m->rs->n; i++) {
		struct cf_diag d = { "" };
		bool has;
		enum cf_err err = cf_report_shows(m->rs->r[i], feat, &has, &d);
		int w;
		if (err != CF_OK)
			return mask_err("--require", feat, err, &d);
		if (has)
			continue;
		w = snprintf(lack + used, sizeof(lack) - used, "%s%s",
			     n++ ? ", " : "", cf_report_host_id(m->rs->r[i]));
		if (w > 0 && (size_t)w < sizeof(lack) - used)
			used += (size_t)w;
	}
	if (!n)
		return CLI_OK;
	cli_error("baseline", "--require %s: not every host offers it: %s "
		  "lack%s %s", feat, lack, n == 1 ? "s" : "", feat);
	return CLI_NO;
}

/* After the masks: the profile still has it. */
static int still_has(void *ctx, const char *feat)
{
	const struct masks *m = ctx;
	struct cf_diag d = { "" };
	bool has;
	enum cf_err err = cf_profile_shows(m->pr, feat, &has, &d);

	if (err != CF_OK)
		return mask_err("--require", feat, err, &d);
	if (has)
		return CLI_OK;
	cli_error("baseline", "--require %s: the other masks take it away",
		  feat);
	return CLI_NO;
}

static int disable_one(void *ctx, const char *feat)
{
	const struct masks *m = ctx;
	struct cf_diag d = { "" };
	enum cf_err err = cf_profile_disable(m->pr, feat, &d);

	return err == CF_OK ? CLI_OK : mask_err("--disable", feat, err, &d);
}

/* Every host takes the masked profile, as `check` judges it: a mask may
 * lower a field some host cannot change. */
static int masked_ok(const struct masks *m)
{
	struct cf_verdict *v = cf_verdict_create();
	int rc = v ? CLI_OK : CLI_INTERNAL;

	for (size_t i = 0; i < m->rs->n && rc == CLI_OK; i++) {
		char text[512];
		if (cf_check(m->pr, m->rs->r[i], v) != CF_OK) {
			rc = CLI_INTERNAL;
			break;
		}
		if (cf_verdict_compatible(v))
			continue;
		cf_verdict_reason_text(v, 0, text, sizeof(text));
		cli_error("baseline", "the masked profile is refused on %s: %s",
			  cf_report_host_id(m->rs->r[i]), text);
		rc = CLI_NO;
	}
	cf_verdict_destroy(v);
	if (rc == CLI_INTERNAL)
		cli_error("baseline", "out of memory");
	return rc;
}

int cmd_baseline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "enable", required_argument, NULL, 'e' },
		{ "disable", required_argument, NULL, 'd' },
		{ "require", required_argument, NULL, 'r' },
		{ "max-level", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **enable = calloc((size_t)argc * 3, sizeof(*enable));
	char **disable = enable ? enable + argc : NULL;
	char **require = enable ? enable + 2 * argc : NULL;
	size_t nenable = 0, ndisable = 0, nrequire = 0;
	const char *max_level = NULL, *kernel = NULL;
	struct cli_reports rs = { 0 };
	struct masks m = { &rs, NULL };
	struct cf_pool *pool = NULL;
	struct cf_profile *pr = NULL;
	const char *out = NULL;
	bool quiet = false;
	struct cf_diag d = { "" };
	enum cf_err err;
	char *json = NULL;
	int c, rc;

	if (!enable) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	optind = 1;
	rc = CLI_USAGE;
	while ((c = getopt_long(argc, argv, "o:qe:d:r:m:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'e': enable[nenable++] = optarg; break;
		case 'd': disable[ndisable++] = optarg; break;
		case 'r': require[nrequire++] = optarg; break;
		case 'm': max_level = optarg; break;
		case 'k': kernel = optarg; break;
		case 'h': fputs(help, stdout); rc = CLI_OK; goto cleanup;
		default: fputs(help, stderr); goto cleanup;
		}
	}
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (optind >= argc) {
		cli_error("baseline", "no reports given");
		fputs(help, stderr);
		goto cleanup;
	}
	rc = cli_load_reports(argv + optind, argc - optind, &rs);
	if (rc == CLI_OK && kernel)
		rc = cli_kernel_plan("baseline", kernel, &rs);
	if (rc != CLI_OK)
		goto cleanup;
	rc = cli_make_pool("baseline", argv + optind, &rs, NULL, 0, &pool);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	err = cf_baseline(pool, &pr);
	if (err != CF_OK) {
		cli_error("baseline", "%s", cf_strerror(err));
		goto cleanup;
	}
	for (size_t i = 0; i < nenable; i++) {
		rc = enable_cap(pool, pr, enable[i]);
		if (rc != CLI_OK)
			goto cleanup;
	}
	/* Manual masks: what every host must offer first, then the level
	 * cap and the features taken away; the result judged on every
	 * host. */
	m.pr = pr;
	rc = each_feature(require, nrequire, require_one, &m);
	if (rc == CLI_OK && max_level) {
		err = cf_profile_max_level(pr, max_level, &d);
		if (err != CF_OK)
			rc = mask_err("--max-level", max_level, err, &d);
	}
	if (rc == CLI_OK)
		rc = each_feature(disable, ndisable, disable_one, &m);
	if (rc == CLI_OK)
		rc = each_feature(require, nrequire, still_has, &m);
	if (rc == CLI_OK && (ndisable || max_level) && cf_profile_feasible(pr))
		rc = masked_ok(&m);
	if (rc != CLI_OK)
		goto cleanup;
	rc = CLI_INTERNAL;
	if (!quiet) {
		for (size_t i = 0; i < cf_profile_dropped_count(pr); i++) {
			char text[640];
			cf_profile_dropped_text(pr, i, text, sizeof(text));
			fprintf(stderr, "%s\n", text);
		}
		for (size_t i = 0; i < cf_profile_conflict_count(pr); i++) {
			char text[512];
			cf_profile_conflict_text(pr, i, text, sizeof(text));
			fprintf(stderr, "conflict: %s\n", text);
		}
		if (!nenable && !ndisable && !nrequire && !max_level &&
		    cli_kernel_advice(stderr, &rs, pr) != CLI_OK)
			goto cleanup;
		if (cf_profile_feasible(pr)) {
			struct cli_levels lv;
			cli_levels_of(pr, &lv);
			cli_levels_print(stderr, &lv);
		}
	}
	if (out) {
		err = cf_profile_save(pr, out, &d);
		if (err != CF_OK) {
			cli_error("baseline", "%s", d.msg);
			goto cleanup;
		}
		fprintf(stderr, "baseline: %zu hosts, %zu distinct configurations, "
			"%s; profile written to %s\n", cf_pool_host_count(pool),
			cf_pool_config_count(pool),
			cf_profile_feasible(pr) ? "feasible" : "INFEASIBLE", out);
	} else {
		err = cf_profile_to_json(pr, &json);
		if (err != CF_OK) {
			cli_error("baseline", "%s", cf_strerror(err));
			goto cleanup;
		}
		if (printf("%s\n", json) < 0 || fflush(stdout) != 0) {
			cli_error("baseline", "cannot write to stdout");
			goto cleanup;
		}
	}
	rc = cf_profile_feasible(pr) ? CLI_OK : CLI_NO;
cleanup:
	free(enable);
	free(json);
	cf_profile_destroy(pr);
	cf_pool_destroy(pool);
	cli_free_reports(&rs);
	return rc;
}
