/* An HTTP(S) client of the central service (libcurl): the agent's uploads
 * and the command line's remote commands.  Bounded: responses over
 * CF_CLIENT_RESP_MAX are cut off with CF_ETOOBIG. */
#ifndef CF_CLIENT_H
#define CF_CLIENT_H

#include <stddef.h>
#include <cpufleet.h>

#define CF_CLIENT_RESP_MAX (16u << 20)

struct cf_client_opts {
	const char *server;       /* "http://127.0.0.1:8080" or "https://..." */
	const char *token;        /* bearer token, or NULL */
	const char *cacert;       /* PEM file to trust for HTTPS, or NULL for
				   * the system's store */
	long connect_timeout_ms;  /* 0: 5000 */
	long timeout_ms;          /* whole request, 0: 30000 */
};

struct cf_client;

/* Copies what it needs from O.  CF_EINVAL (naming it) for a URL that is not
 * http:// or https://. */
enum cf_err cf_client_create(const struct cf_client_opts *o,
			     struct cf_client **out, struct cf_diag *d);
void cf_client_destroy(struct cf_client *c);
/* METHOD PATH ("/v1/reports") with BODY (JSON, may be NULL) on one reused
 * connection.  On any HTTP answer returns CF_OK with *STATUS and *RESP (the
 * body, malloc'd, NUL-terminated); CF_ENET when no answer came (refused,
 * timeout, TLS failure), D saying which. */
enum cf_err cf_client_request(struct cf_client *c, const char *method,
			      const char *path, const char *body, size_t len,
			      long *status, char **resp, size_t *resp_len,
			      struct cf_diag *d);
/* The "error" member of a JSON error body, else the body's first line, into
 * BUF: what the CLI prints for a 4xx/5xx. */
void cf_client_error_text(const char *resp, char *buf, size_t len);

#endif
