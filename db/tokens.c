/* Tokens: made from the system's random source, stored only as SHA-256
 * hashes, looked up by hash, revoked.
 *
 * Tokens are "cft_<10 hex id>_<64 hex secret>" (79 bytes): with a 12-hex
 * id the text would need 82 bytes, more than CF_DB_TOKEN_MAX (80).  The
 * id's length is TOKEN_ID_BYTES below; raise it once CF_DB_TOKEN_MAX
 * allows (the static assertion checks the fit). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "db/args.h"
#include "db/db_priv.h"
#include "util/diag.h"
#include "util/sha256.h"

#define TOKEN_ID_BYTES 5
#define TOKEN_SECRET_BYTES 32
#define TOKEN_PREFIX "cft_"
#define TOKEN_LEN (sizeof(TOKEN_PREFIX) - 1 + 2 * TOKEN_ID_BYTES + 1 + \
		   2 * TOKEN_SECRET_BYTES)
_Static_assert(TOKEN_LEN < CF_DB_TOKEN_MAX, "token text must fit");
_Static_assert(2 * TOKEN_ID_BYTES < CF_DB_ID_MAX, "token id must fit");

const char *cf_db_role_name(enum cf_db_role r)
{
	switch (r) {
	case CF_DB_ROLE_AGENT: return "agent";
	case CF_DB_ROLE_READER: return "reader";
	case CF_DB_ROLE_ADMIN: return "admin";
	}
	return "unknown";
}

enum cf_err cf_db_role_parse(const char *name, enum cf_db_role *out)
{
	static const enum cf_db_role roles[] = {
		CF_DB_ROLE_AGENT, CF_DB_ROLE_READER, CF_DB_ROLE_ADMIN,
	};

	for (size_t i = 0; name && i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(name, cf_db_role_name(roles[i])) == 0) {
			*out = roles[i];
			return CF_OK;
		}
	}
	return CF_EINVAL;
}

static enum cf_err random_bytes(unsigned char *buf, size_t n,
				struct cf_diag *d)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cf_diag_set(d, CF_EIO, "getrandom: %s",
					   strerror(errno));
		got += (size_t)r;
	}
	return CF_OK;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void token_hash(const char *text, char out[CF_SHA256_HEX])
{
	struct cf_sha256 ctx;

	cf_sha256_init(&ctx);
	cf_sha256_update(&ctx, text, strlen(text));
	cf_sha256_hex(&ctx, out);
	explicit_bzero(&ctx, sizeof(ctx));
}

static bool lower_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") >= n;
}

static void token_fill(struct cf_db_token *t, const struct cf_db_row *s,
		       bool revoked)
{
	int role = (int)cf_db_col_int64(s, 1);

	memset(t, 0, sizeof(*t));
	cf_db_col_copy(t->id, sizeof(t->id), s, 0);
	t->role = (enum cf_db_role)role;
	cf_db_col_copy(t->host, sizeof(t->host), s, 2);
	cf_db_col_copy(t->created_at, sizeof(t->created_at), s, 3);
	if (revoked)
		cf_db_col_copy(t->revoked_at, sizeof(t->revoked_at), s, 4);
}

/* One attempt: fresh id and secret into TEXT, the row inserted. */
static enum cf_err token_insert(struct cf_db *db, enum cf_db_role role,
				const char *host, const char *now,
				char text[TOKEN_LEN + 1], char *id,
				struct cf_diag *d)
{
	unsigned char raw[TOKEN_ID_BYTES + TOKEN_SECRET_BYTES];
	char hash[CF_SHA256_HEX];
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	enum cf_err err;

	err = random_bytes(raw, sizeof(raw), d);
	if (err != CF_OK)
		goto out;
	memcpy(text, TOKEN_PREFIX, plen);
	hex_encode(raw, TOKEN_ID_BYTES, text + plen);
	text[plen + 2 * TOKEN_ID_BYTES] = '_';
	hex_encode(raw + TOKEN_ID_BYTES, TOKEN_SECRET_BYTES,
		   text + plen + 2 * TOKEN_ID_BYTES + 1);
	memcpy(id, text + plen, 2 * TOKEN_ID_BYTES);
	id[2 * TOKEN_ID_BYTES] = '\0';
	token_hash(text, hash);
	err = cf_db_exec(db, ST_TOKEN_INSERT, "storing the token", d, "ttitt",
			 id, hash, (int)role, host ? host : "", now);
	/* A clash of random ids inserts nothing (ON CONFLICT DO NOTHING),
	 * which leaves the transaction usable on every backend. */
	if (err == CF_OK && cf_db_changes(db) == 0)
		err = cf_diag_set(d, CF_ECONFLICT, "token: id in use");
out:
	explicit_bzero(raw, sizeof(raw));
	return err;
}

enum cf_err cf_db_token_create(struct cf_db *db, enum cf_db_role role,
			       const char *host, const char *now,
			       char *token, struct cf_db_token *info,
			       struct cf_diag *d)
{
	char text[TOKEN_LEN + 1], id[CF_DB_ID_MAX];
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false;

	if (token)
		token[0] = '\0';
	if (!token) {
		err = cf_diag_set(d, CF_EINVAL, "token: no buffer");
		goto out;
	}
	if (role != CF_DB_ROLE_AGENT && role != CF_DB_ROLE_READER &&
	    role != CF_DB_ROLE_ADMIN) {
		err = cf_diag_set(d, CF_EINVAL, "token: unknown role %d",
				  (int)role);
		goto out;
	}
	if (role == CF_DB_ROLE_AGENT)
		err = cf_db_arg_text("token host", host, 1, CF_HOST_ID_MAX, d);
	else if (host)
		err = cf_diag_set(d, CF_EINVAL, "token: only agent tokens name "
				  "a host");
	else
		err = CF_OK;
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddStringToObject(detail, "role",
						cf_db_role_name(role)) ||
	    (host && !cJSON_AddStringToObject(detail, "host", host))) {
		err = cf_diag_set(d, CF_ENOMEM, "token: out of memory");
		goto out;
	}
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	/* A clash of random ids is unlikely, but cheap to survive. */
	for (int tries = 0; tries < 4; tries++) {
		err = token_insert(db, role, host, now, text, id, d);
		if (err != CF_ECONFLICT)
			break;
	}
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, "cli", "token.create", id,
				      detail, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	if (err == CF_OK) {
		memcpy(token, text, TOKEN_LEN + 1);
		if (info) {
			memset(info, 0, sizeof(*info));
			memcpy(info->id, id, strlen(id) + 1);
			info->role = role;
			if (host)
				memcpy(info->host, host, strlen(host) + 1);
			memcpy(info->created_at, now, strlen(now) + 1);
		}
	}
	explicit_bzero(text, sizeof(text));
	cJSON_Delete(detail);
	return err;
}

struct lookup {
	const char *id;       /* the id part of the token offered */
	bool match;
	struct cf_db_token t;
};

static int lookup_row(void *ctx, const struct cf_db_row *s)
{
	struct lookup *l = ctx;

	l->match = cf_db_col_bytes(s, 0) == 2 * TOKEN_ID_BYTES &&
		   memcmp(cf_db_col_text(s, 0), l->id, 2 * TOKEN_ID_BYTES) == 0;
	if (l->match)
		token_fill(&l->t, s, false);
	return 1;
}

enum cf_err cf_db_token_lookup(struct cf_db *db, const char *token,
			       struct cf_db_token *info)
{
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	char hash[CF_SHA256_HEX];
	struct lookup l;
	enum cf_err err;
	bool found = false;

	/* Only what could be ours costs a hash and a query. */
	if (!token || strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN ||
	    memcmp(token, TOKEN_PREFIX, plen) != 0 ||
	    !lower_hex(token + plen, 2 * TOKEN_ID_BYTES) ||
	    token[plen + 2 * TOKEN_ID_BYTES] != '_' ||
	    !lower_hex(token + plen + 2 * TOKEN_ID_BYTES + 1,
		       2 * TOKEN_SECRET_BYTES))
		return CF_ENOTFOUND;
	memset(&l, 0, sizeof(l));
	l.id = token + plen;
	token_hash(token, hash);
	err = cf_db_query(db, ST_TOKEN_LOOKUP, "finding the token", NULL,
			  lookup_row, &l, &found, "t", hash);
	if (err == CF_OK && (!found || !l.match))
		err = CF_ENOTFOUND;
	if (err == CF_OK && info)
		*info = l.t;
	return err;
}

static int token_row(void *ctx, const struct cf_db_row *s)
{
	const struct cf_db_visit *v = ctx;
	struct cf_db_token t;

	token_fill(&t, s, true);
	return v->fn.token(v->ctx, &t);
}

enum cf_err cf_db_token_list(struct cf_db *db, cf_db_token_fn fn, void *ctx)
{
	struct cf_db_visit v = { .fn.token = fn, .ctx = ctx };

	return cf_db_walk(db, ST_TOKEN_LIST, false, token_row, &v, "");
}

enum cf_err cf_db_token_revoke(struct cf_db *db, const char *id,
			       const char *now, struct cf_diag *d)
{
	enum cf_err err;
	bool own = false, tx = false, found = false;
	long long revoked = 0;

	err = cf_db_arg_text("token id", id, 1, CF_DB_ID_MAX, d);
	if (err == CF_OK)
		err = cf_db_arg_time("now", now, d);
	if (err != CF_OK)
		goto out;
	err = cf_db_wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = cf_db_int(db, ST_TOKEN_GET, "reading the token", d, &revoked,
			&found, "t", id);
	if (err == CF_OK && !found)
		err = cf_diag_set(d, CF_ENOTFOUND, "token %s: no such token",
				  id);
	if (err != CF_OK || revoked)
		goto out;   /* revoked before: nothing to do */
	err = cf_db_exec(db, ST_TOKEN_REVOKE, "revoking the token", d, "tt", id,
			 now);
	if (err == CF_OK)
		err = cf_db_audit_add(db, now, "cli", "token.revoke", id,
				      NULL, d);
out:
	if (tx)
		err = cf_db_wtx_end(db, own, err, d);
	return err;
}
