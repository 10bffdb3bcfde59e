#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/driver.h"
#include "engine/handles.h"
#include "engine/kernel.h"
#include "util/diag.h"
#include "profiles/doc.h"
#include "tools/cli_util.h"
#include "util/text.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cpufleet %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_make_pool(const char *cmd, char **paths, const struct cli_reports *rs,
		  const size_t *pool_of, size_t p, struct cf_pool **out)
{
	struct cf_diag d = { "" };
	enum cf_err err = cf_pool_create(cf_report_arch(rs->r[0]), out);

	for (size_t i = 0; err == CF_OK && i < rs->n; i++) {
		if (pool_of && pool_of[i] != p)
			continue;
		err = cf_pool_add(*out, rs->r[i], &d);
		if (err == CF_EARCH || err == CF_EDUPLICATE) {
			cli_error(cmd, "%s: %s", paths[i], d.msg);
			cf_pool_destroy(*out);
			*out = NULL;
			/* Another architecture: no profile both can take,
			 * an infeasible pool (README's exit codes). */
			return err == CF_EARCH ? CLI_NO : CLI_USAGE;
		}
	}
	if (err != CF_OK) {
		cli_error(cmd, "%s", cf_strerror(err));
		cf_pool_destroy(*out);
		*out = NULL;
		return CLI_INTERNAL;
	}
	return CLI_OK;
}

int cli_write_file(const char *cmd, const char *path, const char *text)
{
	size_t n = strlen(text);
	char *buf;
	struct cf_diag d;
	enum cf_err err;

	if (!strcmp(path, "-")) {
		if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
			cli_error(cmd, "cannot write to stdout");
			return CLI_INTERNAL;
		}
		return CLI_OK;
	}
	buf = malloc(n + 2);
	if (!buf)
		return CLI_INTERNAL;
	memcpy(buf, text, n);
	buf[n] = '\n';
	err = cf_doc_write_file(path, buf, n + 1, &d);
	free(buf);
	if (err != CF_OK) {
		cli_error(cmd, "%s", d.msg);
		return CLI_INTERNAL;
	}
	return CLI_OK;
}

/* Standard input, once read. */
static char *stdin_text;
static size_t stdin_len;

static enum cf_err read_stdin(struct cf_diag *d)
{
	size_t cap = 65536, n = 0, got;
	char *b = malloc(cap + 1), *nb;

	if (!b)
		return CF_ENOMEM;
	while ((got = fread(b + n, 1, cap - n, stdin)) > 0) {
		n += got;
		if (n > CF_DOC_MAX_BYTES) {
			free(b);
			return cf_diag_set(d, CF_ETOOBIG, "stdin: larger than "
					   "%u bytes", CF_DOC_MAX_BYTES);
		}
		if (n == cap) {
			cap *= 2;
			nb = realloc(b, cap + 1);
			if (!nb) {
				free(b);
				return CF_ENOMEM;
			}
			b = nb;
		}
	}
	if (ferror(stdin)) {
		free(b);
		return cf_diag_set(d, CF_EIO, "stdin: read error: %s",
				   strerror(errno));
	}
	b[n] = '\0';
	stdin_text = b;
	stdin_len = n;
	return CF_OK;
}

enum cf_err cli_read_file(const char *path, char **buf, size_t *len,
			  struct cf_diag *d)
{
	enum cf_err err;

	if (strcmp(path, "-") != 0)
		return cf_doc_read_file(path, buf, len, d);
	*buf = NULL;
	if (!stdin_text && (err = read_stdin(d)) != CF_OK)
		return err;
	*buf = malloc(stdin_len + 1);
	if (!*buf)
		return CF_ENOMEM;
	memcpy(*buf, stdin_text, stdin_len + 1);
	*len = stdin_len;
	return CF_OK;
}

/* A report (REPORT) or a profile from standard input, into *R or *P. */
static enum cf_err load_stdin(struct cf_report **r, struct cf_profile **p,
			      struct cf_diag *d)
{
	char *text;
	size_t len;
	enum cf_err err = cli_read_file("-", &text, &len, d);

	if (err == CF_OK)
		err = r ? cf_report_parse(text, len, "stdin", r, d)
			: cf_profile_parse(text, len, "stdin", p, d);
	free(text);
	return err;
}

enum cf_err cli_report_load(const char *path, struct cf_report **out,
			    struct cf_diag *d)
{
	*out = NULL;
	return strcmp(path, "-") ? cf_report_load(path, out, d)
				 : load_stdin(out, NULL, d);
}

enum cf_err cli_profile_load(const char *path, struct cf_profile **out,
			     struct cf_diag *d)
{
	*out = NULL;
	return strcmp(path, "-") ? cf_profile_load(path, out, d)
				 : load_stdin(NULL, out, d);
}

int cli_check_host_id(const char *cmd, const char *opt, const char *id)
{
	const char *why = cf_text_host_id_why(id, CF_HOST_ID_MAX);

	if (!why)
		return CLI_OK;
	cli_error(cmd, "%s '%s': %s", opt, id, why);
	return CLI_USAGE;
}

void cli_free_reports(struct cli_reports *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		cf_report_destroy(rs->r[i]);
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

int cli_kernel_plan(const char *cmd, const char *spec, struct cli_reports *rs)
{
	struct cf_kver k;

	if (!cf_kernel_parse(spec, &k)) {
		cli_error(cmd, "--kernel %s: expected a Linux release X.Y or "
			  "X.Y.Z (6.18, 6.12.60)", spec);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct cf_report *pl = NULL;
		if (cf_kernel_plan_report(rs->r[i], &k, &pl) != CF_OK) {
			cli_error(cmd, "out of memory");
			return CLI_INTERNAL;
		}
		cf_report_destroy(rs->r[i]);
		rs->r[i] = pl;
	}
	return CLI_OK;
}

int cli_kernel_advice(FILE *f, const struct cli_reports *rs,
		      const struct cf_profile *pr)
{
	struct cf_kernel_advice a;

	if (cf_kernel_advise((const struct cf_report *const *)rs->r, rs->n, pr,
			     &a) != CF_OK) {
		cli_error("baseline", "out of memory");
		return CLI_INTERNAL;
	}
	for (size_t i = 0; i < a.n; i++)
		fprintf(f, "kernel advice: %s\n", a.line[i]);
	cf_kernel_advice_free(&a);
	return CLI_OK;
}

/* Equal configurations of the reports loaded are held once (a table for
 * the loading only: the reports keep theirs). */
int cli_load_reports(char **paths, int n, struct cli_reports *out)
{
	struct cf_diag d = { "" };
	struct cf_config_table *t = NULL;
	struct cf_report_cache *cache = NULL;

	out->n = 0;
	out->r = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->r));
	/* Hosts of one model share their section's bytes: read it once (the
	 * cache); equal configurations are then held once (the table). */
	if (!out->r || cf_config_table_create(&t) != CF_OK ||
	    cf_report_cache_create(&cache) != CF_OK) {
		cf_config_table_destroy(t);
		free(out->r);
		out->r = NULL;
		return CLI_INTERNAL;
	}
	for (int i = 0; i < n; i++) {
		enum cf_err err = strcmp(paths[i], "-") ?
			cf_report_load_cached(cache, paths[i], &out->r[i], &d) :
			cli_report_load(paths[i], &out->r[i], &d);
		if (err == CF_OK) {
			out->n++;
			err = cf_report_share(out->r[i], t);
		}
		if (err != CF_OK) {
			cf_config_table_destroy(t);
			cf_report_cache_destroy(cache);
			fprintf(stderr, "cpufleet: %s\n",
				d.msg[0] ? d.msg : cf_strerror(err));
			cli_free_reports(out);
			return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
		}
	}
	cf_report_cache_destroy(cache);
	cf_config_table_destroy(t);
	return CLI_OK;
}

int cli_load_profile(const char *cmd, const char *path, struct cf_profile **out)
{
	struct cf_diag d = { "" };
	enum cf_err err;

	*out = NULL;
	if (!strchr(path, '/') && strcmp(path, "-") != 0 &&
	    access(path, F_OK) != 0 && cf_x86_level_profile(path, out) == CF_OK)
		return CLI_OK;
	err = cli_profile_load(path, out, &d);
	if (err != CF_OK) {
		cli_error(cmd, "%s", d.msg[0] ? d.msg : cf_strerror(err));
		return err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
	}
	return CLI_OK;
}

int cli_load_any(const char *path, struct cf_report **report,
		 struct cf_profile **profile)
{
	struct cf_diag dr = { "" }, dp = { "" };
	enum cf_err er, ep;

	*report = NULL;
	*profile = NULL;
	if (!strchr(path, '/') && strcmp(path, "-") != 0 &&
	    access(path, F_OK) != 0 && cf_x86_level_profile(path, profile) == CF_OK)
		return CLI_OK;
	er = cli_report_load(path, report, &dr);
	if (er == CF_OK)
		return CLI_OK;
	if (er != CF_ESCHEMA || !strstr(dr.msg, "$.schema")) {
		fprintf(stderr, "cpufleet: %s\n", dr.msg[0] ? dr.msg : cf_strerror(er));
		return CLI_USAGE;
	}
	ep = cli_profile_load(path, profile, &dp);
	if (ep == CF_OK)
		return CLI_OK;
	if (strstr(dp.msg, "$.schema"))
		fprintf(stderr, "cpufleet: %s: $.schema: expected "
			"\"cpufleet.report/v1\" or \"cpufleet.profile/v1\"\n",
			path);
	else
		fprintf(stderr, "cpufleet: %s\n", dp.msg[0] ? dp.msg : cf_strerror(ep));
	return CLI_USAGE;
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum cf_err cli_collect_here(uint32_t features, const char *host_id,
			     struct cf_report **out, struct cf_diag *d)
{
	const struct cf_driver *drv = cf_driver_native();

	if (!drv)
		return cf_diag_set(d, CF_EARCH, "no architecture of cpufleet "
				   "runs on this machine");
	return drv->collect(features, host_id, out, d);
}

void cli_levels_of(const struct cf_profile *pr, struct cli_levels *out)
{
	memset(out, 0, sizeof(*out));
	out->x86 = cf_x86_profile_level(pr, out->level, sizeof(out->level),
					out->missing,
					sizeof(out->missing)) == CF_OK;
	if (out->x86)
		cf_x86_profile_model(pr, out->model, sizeof(out->model),
				     out->source, sizeof(out->source));
	out->arm64 = cf_arm64_profile_level(pr, out->level, sizeof(out->level),
					    out->missing,
					    sizeof(out->missing)) == CF_OK;
	if (out->arm64)
		cf_arm64_profile_core(pr, out->core, sizeof(out->core));
}

void cli_levels_print(FILE *f, const struct cli_levels *lv)
{
	const char *lacks = lv->missing[0] ? " (next level lacks: " : "";
	const char *close = lv->missing[0] ? ")" : "";

	if (lv->x86) {
		fprintf(f, "psABI level: %s%s%s%s\n",
			lv->level[0] ? lv->level : "below x86-64-v1", lacks,
			lv->missing, close);
		fprintf(f, "named model: %s (%s)\n",
			lv->model[0] ? lv->model : "none", lv->source);
	}
	if (lv->arm64) {
		fprintf(f, "architecture level: %s%s%s%s\n",
			lv->level[0] ? lv->level : "below Armv8.0", lacks,
			lv->missing, close);
		if (lv->core[0])
			fprintf(f, "core: %s\n", lv->core);
	}
}

