/* Where a command's PROFILE comes from: a file, a psABI level, or with
 * --server a profile published there.  Apart from tools/cli_util so the
 * server client (tools/remote) and the local helpers need not know each
 * other. */
#ifndef CF_CLI_SOURCE_H
#define CF_CLI_SOURCE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <cpufleet.h>

/* Where a command that takes a PROFILE may fetch it by name: --server URL,
 * --token T, --token-file F, --cacert PEM (as `cpufleet pool` takes them). */
struct cli_source {
	const char *server, *token, *token_file, *cacert;
};
#define CLI_SOURCE_OPT 0x1000
#define CLI_SOURCE_OPTIONS \
	{ "server", required_argument, NULL, CLI_SOURCE_OPT + 's' }, \
	{ "token", required_argument, NULL, CLI_SOURCE_OPT + 't' }, \
	{ "token-file", required_argument, NULL, CLI_SOURCE_OPT + 'T' }, \
	{ "cacert", required_argument, NULL, CLI_SOURCE_OPT + 'C' }
#define CLI_SOURCE_HELP \
"      --server URL     PROFILE may be NAME or NAME@VERSION, a profile\n" \
"                       published there (a file is still read as a file);\n" \
"                       --token T, --token-file F, --cacert PEM as for\n" \
"                       `cpufleet profile`\n"
/* Takes option C (one of CLI_SOURCE_OPTIONS); false if it is not one. */
bool cli_source_opt(struct cli_source *s, int c, const char *arg);
/* The profile SPEC: as cli_load_profile reads it without S->server; with
 * it, a file if one exists, else the server's NAME[@VERSION] (a psABI
 * level the server has no profile of: the catalogue's).  NAME (NLEN
 * bytes) and *VERSION get what the server calls it ("" and 0 otherwise;
 * either may be NULL).  Prints the error; returns a CLI exit code. */
int cli_load_profile_from(const char *cmd, const struct cli_source *s,
			  const char *spec, struct cf_profile **out,
			  char *name, size_t nlen, int *version);

#endif
