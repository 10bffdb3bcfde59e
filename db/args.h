/* The storage API's argument rules, apart from any database: what every
 * implementation of db.h checks before it writes (times, text, names, the
 * actor, labels and member lists with their canonical JSON text, an
 * upload), so that SQLite and a second backend refuse the same input with
 * the same diagnostics.  Private to db/. */
#ifndef CF_DB_ARGS_H
#define CF_DB_ARGS_H

#include <stddef.h>
#include "db/db.h"

/* An RFC 3339 UTC time of at most CF_DB_TIME_MAX-1 bytes (util/text.h). */
enum cf_err cf_db_arg_time(const char *what, const char *t,
			   struct cf_diag *d);
/* MIN to CAP-1 bytes of UTF-8 without control characters. */
enum cf_err cf_db_arg_text(const char *what, const char *s, size_t min,
			   size_t cap, struct cf_diag *d);
/* A pool or profile name of at most CF_DB_NAME_MAX-1 bytes. */
enum cf_err cf_db_arg_name(const char *what, const char *s,
			   struct cf_diag *d);
/* *ACTOR, "cli" when NULL. */
enum cf_err cf_db_arg_actor(const char **actor, struct cf_diag *d);
/* WHAT: an object of at most 64 string members, keys 1 and values 0 to
 * CF_DB_NAME_MAX-1 bytes of text; *CANON (cJSON_free) its compact text.
 * Blank is {}. */
enum cf_err cf_db_arg_labels(const char *what, const char *json,
			     char **canon, struct cf_diag *d);
/* An array of at most 10000 distinct host ids; *CANON as above.  Blank is
 * []. */
enum cf_err cf_db_arg_hosts(const char *json, char **canon,
			    struct cf_diag *d);
/* Every field of U; the content identity and the fingerprint with their
 * hex lower-cased into CONTENT and FINGERPRINT. */
enum cf_err cf_db_arg_upload(const struct cf_db_upload *u,
			     char content[CF_DB_ID_MAX],
			     char fingerprint[CF_DB_ID_MAX],
			     struct cf_diag *d);

#endif
