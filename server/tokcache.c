/* The upload route's token cache (tokcache.h): a table of SLOTS entries,
 * one per slot, found by the SHA-256 of the token (the secret itself is
 * not kept), under one mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "server/tokcache.h"
#include "util/sha256.h"

struct entry {
	char key[CF_SHA256_HEX];  /* "": empty */
	struct cf_db_token tok;
	uint64_t at;              /* looked up, ms */
};

struct cf_tokcache {
	pthread_mutex_t lock;
	uint64_t ttl;
	unsigned mask;
	struct entry e[];
};

enum cf_err cf_tokcache_create(unsigned slots, uint64_t ttl_ms,
			       struct cf_tokcache **out)
{
	struct cf_tokcache *c;

	*out = NULL;
	if (slots == 0 || (slots & (slots - 1)) != 0)
		return CF_EINVAL;
	c = calloc(1, sizeof(*c) + slots * sizeof(c->e[0]));
	if (!c)
		return CF_ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return CF_ENOMEM;
	}
	c->ttl = ttl_ms;
	c->mask = slots - 1;
	*out = c;
	return CF_OK;
}

void cf_tokcache_destroy(struct cf_tokcache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* TOKEN's key and the entry of its slot. */
static struct entry *slot(struct cf_tokcache *c, const char *token,
			  char key[CF_SHA256_HEX])
{
	struct cf_sha256 h;
	unsigned v = 0;

	cf_sha256_init(&h);
	cf_sha256_update(&h, token, strlen(token));
	cf_sha256_hex(&h, key);
	for (int i = 0; i < 8; i++)
		v = v << 4 | (unsigned)(key[i] <= '9' ? key[i] - '0' :
					key[i] - 'a' + 10);
	return &c->e[v & c->mask];
}

bool cf_tokcache_get(struct cf_tokcache *c, const char *token,
		     uint64_t now_ms, struct cf_db_token *out)
{
	char key[CF_SHA256_HEX];
	struct entry *e = slot(c, token, key);
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = !strcmp(e->key, key) && now_ms >= e->at &&
	      now_ms - e->at < c->ttl;
	if (hit)
		*out = e->tok;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void cf_tokcache_put(struct cf_tokcache *c, const char *token,
		     const struct cf_db_token *t, uint64_t now_ms)
{
	char key[CF_SHA256_HEX];
	struct entry *e = slot(c, token, key);

	pthread_mutex_lock(&c->lock);
	memcpy(e->key, key, sizeof(key));
	e->tok = *t;
	e->at = now_ms;
	pthread_mutex_unlock(&c->lock);
}

void cf_tokcache_drop(struct cf_tokcache *c, const char *token)
{
	char key[CF_SHA256_HEX];
	struct entry *e = slot(c, token, key);

	pthread_mutex_lock(&c->lock);
	if (!strcmp(e->key, key))
		e->key[0] = '\0';
	pthread_mutex_unlock(&c->lock);
}
