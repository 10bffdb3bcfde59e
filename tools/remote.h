/* What the commands that talk to the server share: --server, --token,
 * --token-file, --cacert, and turning answers into exit codes. */
#ifndef CF_REMOTE_H
#define CF_REMOTE_H

#include <cjson/cJSON.h>
#include "agent/client.h"

struct remote_opts {
	const char *server;
	const char *token;
	const char *token_file;
	const char *cacert;
	long timeout_ms;     /* a whole request; 0: the client's default */
};

/* Takes one of the options 's' (--server), 't' (--token), 'T'
 * (--token-file), 'C' (--cacert). */
int remote_opt(struct remote_opts *ro, int c, const char *arg);
/* The client for RO (token from --token, the first line of --token-file,
 * or CPUFLEET_TOKEN); prints what is wrong (naming the token file) and
 * returns a CLI exit code. */
int remote_connect(const char *cmd, const struct remote_opts *ro,
		   struct cf_client **out);
/* METHOD PATH with BODY (a JSON text or NULL).  2xx: CLI_OK and *OUT the
 * parsed answer (may be NULL); 4xx: prints the server's error, CLI_USAGE;
 * 5xx or no answer: prints it, CLI_INTERNAL.  *STATUS gets the status. */
int remote_call(const char *cmd, struct cf_client *c, const char *method,
		const char *path, const char *body, long *status, cJSON **out);
/* Appends SEG to the path in BUF, percent-encoding what is not
 * [A-Za-z0-9._~-]; false if it does not fit. */
bool remote_path_add(char *buf, size_t len, const char *seg);

/* One published version (the latest without @VERSION) of the profile
 * SPEC = NAME[@VERSION]: *DOC its document, NAME (NLEN bytes) and
 * *VERSION what the server says it is (either may be NULL).  Prints what
 * is wrong; returns a CLI exit code. */
int remote_profile_get(const char *cmd, struct cf_client *cl,
		       const char *spec, cJSON **doc, char *name, size_t nlen,
		       int *version);
/* The profile SPEC names: a file (or a psABI level) as cli_load_profile
 * reads it without RO->server; with it, a file if one exists, else the
 * server's NAME[@VERSION] (a psABI level name the server has no profile
 * of: the catalogue's).  NAME and *VERSION as remote_profile_get ("" and
 * 0 for a file).  Prints what is wrong; returns a CLI exit code. */
int remote_load_profile(const char *cmd, const struct remote_opts *ro,
			const char *spec, struct cf_profile **out,
			char *name, size_t nlen, int *version);

#endif
