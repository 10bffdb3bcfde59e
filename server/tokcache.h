/* Tokens looked up at an upload's headers, kept a short while: a client
 * that uploads again and again costs no database round trip there.  Only
 * the upload route reads it, because an upload's token is judged again in
 * the transaction that would store the report (fleet.h): a revoked token
 * still kept here is refused there, and dropped here then.  Every other
 * route looks each request's token up. */
#ifndef CF_SERVER_TOKCACHE_H
#define CF_SERVER_TOKCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"

struct cf_tokcache;

/* A cache of SLOTS entries (a power of two), each kept TTL_MS. */
enum cf_err cf_tokcache_create(unsigned slots, uint64_t ttl_ms,
			       struct cf_tokcache **out);
void cf_tokcache_destroy(struct cf_tokcache *c);
/* TOKEN's record into *OUT if kept and younger than the TTL at NOW_MS. */
bool cf_tokcache_get(struct cf_tokcache *c, const char *token,
		     uint64_t now_ms, struct cf_db_token *out);
/* Keeps T as TOKEN's record, looked up at NOW_MS (another token in its
 * slot makes way). */
void cf_tokcache_put(struct cf_tokcache *c, const char *token,
		     const struct cf_db_token *t, uint64_t now_ms);
/* Forgets TOKEN. */
void cf_tokcache_drop(struct cf_tokcache *c, const char *token);

#endif
