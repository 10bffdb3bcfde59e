/* Shared pieces of the cpufleet subcommands. */
#ifndef CF_CLI_UTIL_H
#define CF_CLI_UTIL_H

#include <stdio.h>
#include <cpufleet.h>

/* Exit codes: stable, documented in README. */
enum {
	CLI_OK = 0,         /* compatible / feasible / done */
	CLI_NO = 1,         /* incompatible / infeasible */
	CLI_USAGE = 2,      /* usage or input error */
	CLI_INTERNAL = 3,   /* out of memory, cannot write output */
};

struct cli_reports {
	struct cf_report **r;
	size_t n;
};

/* PATH's bytes (malloc'd, NUL-terminated), "-" being standard input: read
 * once and kept, so that every "-" of one command reads the same document;
 * errors name it "stdin".  cf_doc_read_file's limits. */
enum cf_err cli_read_file(const char *path, char **buf, size_t *len,
			  struct cf_diag *d);
/* cf_report_load and cf_profile_load through cli_read_file. */
enum cf_err cli_report_load(const char *path, struct cf_report **out,
			    struct cf_diag *d);
enum cf_err cli_profile_load(const char *path, struct cf_profile **out,
			     struct cf_diag *d);
/* A host id given on the command line (OPT names the option): NULL if
 * fine, else printed as "--host-id 'ID': why" and CLI_USAGE. */
int cli_check_host_id(const char *cmd, const char *opt, const char *id);

/* Loads every path; on the first bad one prints its error and returns
 * CLI_USAGE (nothing is kept). */
int cli_load_reports(char **paths, int n, struct cli_reports *out);
void cli_free_reports(struct cli_reports *rs);
/* --kernel SPEC (X.Y or X.Y.Z): every report of RS replaced by its host
 * planned as if it ran that Linux (arch/arm64/kvm-writable.txt's writable
 * fields as of that release; values unchanged).  Prints the error;
 * returns a CLI exit code. */
int cli_kernel_plan(const char *cmd, const char *spec, struct cli_reports *rs);
/* Kernel advice on PR, the baseline of RS: one "kernel advice: ..." line
 * each on F.  Returns a CLI exit code. */
int cli_kernel_advice(FILE *f, const struct cli_reports *rs,
		      const struct cf_profile *pr);
void cli_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A profile from PATH, or the named profile PATH is (x86-64-v1..v4) when
 * no such file exists.  Prints the error; returns a CLI exit code. */
int cli_load_profile(const char *cmd, const char *path, struct cf_profile **out);
/* Reads a report or a profile: exactly one of *report / *profile is set. */
int cli_load_any(const char *path, struct cf_report **report,
		 struct cf_profile **profile);

/* Adds a host's verdict to ARR (a cJSON array) or, if ARR is NULL, prints
 * it as text. */
int cli_emit_verdict(void *arr, const char *host, const struct cf_verdict *v);
/* "HOST: compatible" or "HOST: incompatible, N blockers (...)" on stdout
 * (cf_verdict_summary). */
void cli_print_summary(const char *host, const struct cf_verdict *v);

/* A pool of the reports RS (loaded from PATHS), all of them when POOL_OF is
 * NULL, else those with POOL_OF[i] == P.  A mixed architecture or a host id
 * seen twice is a usage error naming the file; returns a CLI exit code. */
int cli_make_pool(const char *cmd, char **paths, const struct cli_reports *rs,
		  const size_t *pool_of, size_t p, struct cf_pool **out);
/* Writes TEXT and a newline to PATH durably ("-": standard output; see
 * cf_doc_write_file for links, devices and FIFOs); prints the error and
 * returns CLI_INTERNAL (cannot write the output), else CLI_OK. */
int cli_write_file(const char *cmd, const char *path, const char *text);

/* This host's report, by the probe of the architecture this build runs on
 * (FEATURES: arm64 vCPU features; x86 has none). */
enum cf_err cli_collect_here(uint32_t features, const char *host_id,
			     struct cf_report **out, struct cf_diag *d);
/* A decimal in [MIN, MAX] (the whole string); false otherwise. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* The named levels `show` and `baseline` print beside a profile, as VMware
 * EVC names a generation.  x86: the psABI level and the richest libvirt
 * named model; arm64: the Armv8.x/9.x level and the core of MIDR_EL1. */
struct cli_levels {
	bool x86, arm64;
	char level[32];      /* x86-64-vN or ArmvN.M; "" below the first */
	char missing[512];   /* what the next level lacks, space-separated */
	char model[64];      /* x86: the model, "" for none */
	char source[64];     /* x86: "libvirt 9.0.0 cpu_map" */
	char core[160];      /* arm64: cf_arm64_profile_core's text, or "" */
};
void cli_levels_of(const struct cf_profile *pr, struct cli_levels *out);
/* Its lines ("psABI level: ...", "named model: ...", "architecture level:
 * ...", "core: ...") on F. */
void cli_levels_print(FILE *f, const struct cli_levels *lv);

int cmd_baseline(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_drift(int argc, char **argv);
/* check --server: the same verdicts, from the server's reports. */
int cli_remote_check(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_matrix(int argc, char **argv);
int cmd_pools(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif
