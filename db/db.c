/* The storage API (db.h) over SQLite.
 *
 * Where db.h left room, this file decides:
 *  - Tokens are "cft_<10 hex id>_<64 hex secret>" (79 bytes): with a 12-hex
 *    id the text would need 82 bytes, more than CF_DB_TOKEN_MAX (80).  The
 *    id's length is TOKEN_ID_BYTES below; raise it once CF_DB_TOKEN_MAX
 *    allows (the static assertion checks the fit).
 *  - Times must be "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (CF_EINVAL otherwise).
 *    Text order is wrong when only one side has a fraction ("...11.5Z"
 *    sorts before "...11Z"), so comparisons go through julianday().
 *  - Every write runs in a transaction of its own, or, when the caller has
 *    one open, in a nested savepoint, so a failed write leaves nothing
 *    behind either way.  cf_db_rollback_to keeps the savepoint (as SQL's
 *    ROLLBACK TO does): the caller still releases it.
 *  - ACTOR NULL means "cli".  The first sighting of a host counts as
 *    changed.  cf_db_profile_list with an unknown NAME is CF_ENOTFOUND.
 *    Unparsable labels/hosts JSON is CF_ESYNTAX, a host listed twice in a
 *    pool CF_EDUPLICATE.  cf_db_stats counts revoked tokens too.
 *  - Callbacks may call into the same handle: a cached statement still in
 *    use is never reused, a fresh one is prepared instead. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "db/db.h"
#include "util/diag.h"
#include "util/sha256.h"

#define BUSY_TIMEOUT_MS 10000
#define APP_ID 0x43464c54            /* "CFLT" in the file header */
#define LABELS_MAX 64
#define POOL_HOSTS_MAX 10000
#define LABELS_JSON_MAX (1u << 20)
#define SOURCES_MAX 1000000
#define TOKEN_ID_BYTES 5
#define TOKEN_SECRET_BYTES 32
#define TOKEN_PREFIX "cft_"
#define TOKEN_LEN (sizeof(TOKEN_PREFIX) - 1 + 2 * TOKEN_ID_BYTES + 1 + \
		   2 * TOKEN_SECRET_BYTES)
_Static_assert(TOKEN_LEN < CF_DB_TOKEN_MAX, "token text must fit");
_Static_assert(2 * TOKEN_ID_BYTES < CF_DB_ID_MAX, "token id must fit");
_Static_assert(CF_CONTENT_ID_MAX <= CF_DB_ID_MAX, "a content identity must fit");

/* ---- schema ---- */

#define FROZEN \
	" BEGIN SELECT RAISE(ABORT, 'published profiles are immutable'); END;"

static enum cf_err reidentify(struct cf_db *db, struct cf_diag *d);

/* Append only: a file's user_version is the number of these it has run.
 * Each is SQL or a function, run in a transaction of its own. */
static const struct migration {
	const char *sql;
	enum cf_err (*run)(struct cf_db *db, struct cf_diag *d);
} migrations[] = {
	/* 1: the first schema. */
	{ "PRAGMA application_id = 1128680532;"  /* APP_ID */
	"CREATE TABLE hosts ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" arch TEXT NOT NULL,"
	" hostname TEXT NOT NULL DEFAULT '',"
	" first_seen TEXT NOT NULL,"
	" last_seen TEXT NOT NULL,"
	" labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)));"
	"CREATE TABLE configs ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL UNIQUE,"
	" arch TEXT NOT NULL,"
	" first_seen TEXT NOT NULL);"
	"CREATE TABLE reports ("
	" id INTEGER PRIMARY KEY,"
	" host_id TEXT NOT NULL REFERENCES hosts(id),"
	" config_id INTEGER NOT NULL REFERENCES configs(id),"
	" content TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" collected_at TEXT NOT NULL DEFAULT '',"
	" received_at TEXT NOT NULL);"
	"CREATE INDEX reports_host ON reports(host_id, id);"
	"CREATE TABLE sightings ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" report_uid TEXT NOT NULL UNIQUE,"
	" report_row INTEGER NOT NULL REFERENCES reports(id),"
	" host_id TEXT NOT NULL REFERENCES hosts(id),"
	" received_at TEXT NOT NULL,"
	" collected_at TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX sightings_host ON sightings(host_id, seq);"
	"CREATE INDEX sightings_report ON sightings(report_row);"
	"CREATE TABLE pools ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),"
	" hosts TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(hosts)),"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL);"
	"CREATE TABLE profile_versions ("
	" name TEXT NOT NULL,"
	" version INTEGER NOT NULL CHECK (version >= 1),"
	" body TEXT NOT NULL,"
	" pool TEXT NOT NULL DEFAULT '',"
	" created_at TEXT NOT NULL,"
	" created_by TEXT NOT NULL,"
	" nsources INTEGER NOT NULL DEFAULT 0 CHECK (nsources >= 0),"
	" PRIMARY KEY (name, version));"
	"CREATE TABLE profile_sources ("
	" name TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" host TEXT NOT NULL,"
	" report_id TEXT NOT NULL,"
	" PRIMARY KEY (name, version, seq),"
	" FOREIGN KEY (name, version)"
	"  REFERENCES profile_versions(name, version));"
	/* Published means frozen, whoever holds a connection. */
	"CREATE TRIGGER profile_versions_frozen_u"
	" BEFORE UPDATE ON profile_versions" FROZEN
	"CREATE TRIGGER profile_versions_frozen_d"
	" BEFORE DELETE ON profile_versions" FROZEN
	"CREATE TRIGGER profile_sources_frozen_u"
	" BEFORE UPDATE ON profile_sources" FROZEN
	"CREATE TRIGGER profile_sources_frozen_d"
	" BEFORE DELETE ON profile_sources" FROZEN
	/* A version's source list has the length it was published with: with
	 * the primary key, no source can be added afterwards. */
	"CREATE TRIGGER profile_sources_sealed BEFORE INSERT ON profile_sources"
	" WHEN NEW.seq < 0 OR NEW.seq >= coalesce((SELECT nsources FROM"
	" profile_versions WHERE name = NEW.name AND version = NEW.version), 0)"
	FROZEN
	"CREATE TABLE tokens ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" hash TEXT NOT NULL UNIQUE,"
	" role INTEGER NOT NULL CHECK (role IN (1, 2, 3)),"
	" host TEXT NOT NULL DEFAULT '',"
	" created_at TEXT NOT NULL,"
	" revoked_at TEXT,"
	" CHECK ((role = 1) = (host <> '')));"
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at TEXT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL DEFAULT '',"
	" detail TEXT NOT NULL DEFAULT '{}');", NULL },
	/* 2: the engine's canonical identities ("cfid1:" content identities
	 * and fingerprints, issue 17): recomputed for every stored report. */
	{ NULL, reidentify },
};
#define SCHEMA_LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- the statement cache ---- */

enum st_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SP, ST_SP_RELEASE, ST_SP_ROLLBACK,
	ST_OP, ST_OP_RELEASE, ST_OP_ROLLBACK,
	ST_USER_VERSION,
	ST_AUDIT_INSERT, ST_AUDIT_LIST,
	ST_TOKEN_INSERT, ST_TOKEN_LOOKUP, ST_TOKEN_LIST, ST_TOKEN_GET,
	ST_TOKEN_REVOKE,
	ST_SIGHTING_BY_UID, ST_HOST_LATEST, ST_HOST_UPSERT, ST_CONFIG_FIND,
	ST_CONFIG_INSERT, ST_REPORT_INSERT, ST_SIGHTING_INSERT,
	ST_HOST_LIST, ST_HOST_GET, ST_HOST_EXISTS, ST_HOST_SET_LABELS,
	ST_HOST_REPORT, ST_HOST_HISTORY,
	ST_POOL_EXISTS, ST_POOL_UPSERT, ST_POOL_GET, ST_POOL_LIST,
	ST_POOL_DELETE, ST_POOL_MEMBERS,
	ST_PROFILE_NEXT, ST_PROFILE_INSERT, ST_SOURCE_INSERT, ST_PROFILE_GET,
	ST_PROFILE_SOURCES, ST_PROFILE_VERSIONS, ST_PROFILE_LATEST,
	ST_STATS,
	ST_COUNT
};

#define HOST_SELECT \
	"SELECT h.id, h.arch, h.hostname, h.first_seen, h.last_seen," \
	" h.labels, (SELECT count(*) FROM reports r WHERE r.host_id = h.id)," \
	" (SELECT count(*) FROM sightings s WHERE s.host_id = h.id)" \
	" FROM hosts h "
#define PROFILE_SELECT \
	"SELECT p.name, p.version, p.pool, p.created_at, p.created_by "

static const char *const st_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SP] = "SAVEPOINT cf_sp",
	[ST_SP_RELEASE] = "RELEASE cf_sp",
	[ST_SP_ROLLBACK] = "ROLLBACK TO cf_sp",
	[ST_OP] = "SAVEPOINT cf_op",
	[ST_OP_RELEASE] = "RELEASE cf_op",
	[ST_OP_ROLLBACK] = "ROLLBACK TO cf_op",
	[ST_USER_VERSION] = "PRAGMA user_version",
	[ST_AUDIT_INSERT] =
		"INSERT INTO audit (at, actor, action, object, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_AUDIT_LIST] =
		"SELECT seq, at, actor, action, object, detail FROM audit"
		" ORDER BY seq DESC LIMIT ?1",
	[ST_TOKEN_INSERT] =
		"INSERT INTO tokens (id, hash, role, host, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TOKEN_LOOKUP] =
		"SELECT id, role, host, created_at FROM tokens"
		" WHERE hash = ?1 AND revoked_at IS NULL",
	[ST_TOKEN_LIST] =
		"SELECT id, role, host, created_at, coalesce(revoked_at, '')"
		" FROM tokens ORDER BY rowid",
	[ST_TOKEN_GET] =
		"SELECT revoked_at IS NOT NULL FROM tokens WHERE id = ?1",
	[ST_TOKEN_REVOKE] =
		"UPDATE tokens SET revoked_at = ?2"
		" WHERE id = ?1 AND revoked_at IS NULL",
	[ST_SIGHTING_BY_UID] =
		"SELECT s.host_id, r.content FROM sightings s"
		" JOIN reports r ON r.id = s.report_row"
		" WHERE s.report_uid = ?1",
	[ST_HOST_LATEST] =
		"SELECT s.report_row, r.content FROM sightings s"
		" JOIN reports r ON r.id = s.report_row WHERE s.host_id = ?1"
		" ORDER BY s.seq DESC LIMIT 1",
	[ST_HOST_UPSERT] =
		"INSERT INTO hosts (id, arch, hostname, first_seen, last_seen)"
		" VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET"
		" arch = excluded.arch, hostname = excluded.hostname,"
		" first_seen = CASE WHEN julianday(excluded.first_seen) <"
		"  julianday(first_seen) THEN excluded.first_seen"
		"  ELSE first_seen END,"
		" last_seen = CASE WHEN julianday(excluded.last_seen) >="
		"  julianday(last_seen) THEN excluded.last_seen"
		"  ELSE last_seen END",
	[ST_CONFIG_FIND] = "SELECT id FROM configs WHERE fingerprint = ?1",
	[ST_CONFIG_INSERT] =
		"INSERT INTO configs (fingerprint, arch, first_seen)"
		" VALUES (?1, ?2, ?3)",
	[ST_REPORT_INSERT] =
		"INSERT INTO reports (host_id, config_id, content, body,"
		" collected_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_SIGHTING_INSERT] =
		"INSERT INTO sightings (report_uid, report_row, host_id,"
		" received_at, collected_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_HOST_LIST] = HOST_SELECT "ORDER BY h.id",
	[ST_HOST_GET] = HOST_SELECT "WHERE h.id = ?1",
	[ST_HOST_EXISTS] = "SELECT 1 FROM hosts WHERE id = ?1",
	[ST_HOST_SET_LABELS] = "UPDATE hosts SET labels = ?2 WHERE id = ?1",
	[ST_HOST_REPORT] =
		"SELECT s.report_uid, s.received_at, s.collected_at, r.content,"
		" c.fingerprint, r.body,"
		" (SELECT r2.content FROM sightings s2"
		"  JOIN reports r2 ON r2.id = s2.report_row"
		"  WHERE s2.host_id = s.host_id AND s2.seq < s.seq"
		"  ORDER BY s2.seq DESC LIMIT 1)"
		" FROM sightings s JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id"
		" WHERE s.host_id = ?1 AND"
		" (?2 IS NULL OR julianday(s.received_at) <= julianday(?2))"
		" ORDER BY s.seq DESC LIMIT 1",
	[ST_HOST_HISTORY] =
		"SELECT report_uid, received_at, collected_at, content,"
		" fingerprint, prev FROM ("
		" SELECT s.seq, s.report_uid, s.received_at, s.collected_at,"
		"  r.content, c.fingerprint,"
		"  lag(r.content) OVER (ORDER BY s.seq) AS prev"
		" FROM sightings s JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id WHERE s.host_id = ?1)"
		" ORDER BY seq DESC LIMIT ?2",
	[ST_POOL_EXISTS] = "SELECT 1 FROM pools WHERE name = ?1",
	[ST_POOL_UPSERT] =
		"INSERT INTO pools (name, labels, hosts, created_at,"
		" updated_at) VALUES (?1, ?2, ?3, ?4, ?4)"
		" ON CONFLICT (name) DO UPDATE SET"
		" labels = excluded.labels, hosts = excluded.hosts,"
		" updated_at = excluded.updated_at",
	[ST_POOL_GET] =
		"SELECT name, labels, hosts, updated_at FROM pools"
		" WHERE name = ?1",
	[ST_POOL_LIST] =
		"SELECT name, labels, hosts, updated_at FROM pools"
		" ORDER BY name",
	[ST_POOL_DELETE] = "DELETE FROM pools WHERE name = ?1",
	[ST_POOL_MEMBERS] =
		"SELECT h.id FROM pools p, json_each(p.hosts) m, hosts h"
		" WHERE p.name = ?1 AND h.id = m.value"
		" UNION"
		" SELECT h.id FROM pools p, hosts h"
		" WHERE p.name = ?1 AND p.labels <> '{}' AND NOT EXISTS ("
		"  SELECT 1 FROM json_each(p.labels) want WHERE NOT EXISTS ("
		"   SELECT 1 FROM json_each(h.labels) have"
		"   WHERE have.key = want.key AND have.value = want.value))"
		" ORDER BY 1",
	[ST_PROFILE_NEXT] =
		"SELECT coalesce(max(version), 0) + 1 FROM profile_versions"
		" WHERE name = ?1",
	[ST_PROFILE_INSERT] =
		"INSERT INTO profile_versions (name, version, body, pool,"
		" created_at, created_by, nsources)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_SOURCE_INSERT] =
		"INSERT INTO profile_sources (name, version, seq, host,"
		" report_id) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PROFILE_GET] =
		PROFILE_SELECT ", p.body FROM profile_versions p"
		" WHERE p.name = ?1 AND p.version = CASE WHEN ?2 > 0 THEN ?2"
		" ELSE (SELECT max(version) FROM profile_versions"
		" WHERE name = ?1) END",
	[ST_PROFILE_SOURCES] =
		"SELECT host, report_id FROM profile_sources"
		" WHERE name = ?1 AND version = ?2 ORDER BY seq",
	[ST_PROFILE_VERSIONS] =
		PROFILE_SELECT "FROM profile_versions p WHERE p.name = ?1"
		" ORDER BY p.version DESC",
	[ST_PROFILE_LATEST] =
		PROFILE_SELECT "FROM profile_versions p WHERE p.version ="
		" (SELECT max(version) FROM profile_versions q"
		" WHERE q.name = p.name) ORDER BY p.name",
	[ST_STATS] =
		"SELECT (SELECT count(*) FROM hosts),"
		" (SELECT count(*) FROM reports),"
		" (SELECT count(*) FROM sightings),"
		" (SELECT count(*) FROM configs),"
		" (SELECT count(*) FROM pools),"
		" (SELECT count(DISTINCT name) FROM profile_versions),"
		" (SELECT count(*) FROM profile_versions),"
		" (SELECT count(*) FROM tokens)",
};

struct cf_db {
	sqlite3 *h;
	bool readonly;
	sqlite3_stmt *st[ST_COUNT];
	bool busy[ST_COUNT];   /* handed out and not yet returned */
};

static enum cf_err map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
		return CF_OK;
	case SQLITE_NOMEM:
		return CF_ENOMEM;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN:
	case SQLITE_PERM: case SQLITE_READONLY:
		return CF_EIO;
	case SQLITE_CONSTRAINT:
		return CF_ECONFLICT;
	case SQLITE_TOOBIG:
		return CF_ETOOBIG;
	default:
		return CF_EDB;
	}
}

/* Call right after the failing call: sqlite3_errmsg is the last call's. */
static enum cf_err db_fail(struct cf_db *db, struct cf_diag *d, int rc,
			   const char *what)
{
	enum cf_err err = map_rc(rc);

	if (err == CF_OK)
		err = CF_EDB;
	return cf_diag_set(d, err, "database: %s: %s", what,
			   sqlite3_errmsg(db->h));
}

/* For functions without a diagnostic: an error code for RC. */
static enum cf_err rc_err(int rc)
{
	enum cf_err err = map_rc(rc);

	return err == CF_OK ? CF_EDB : err;
}

static enum cf_err st_get(struct cf_db *db, enum st_id id, sqlite3_stmt **out,
			  struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (db->st[id] && !db->busy[id]) {
		db->busy[id] = true;
		*out = db->st[id];
		return CF_OK;
	}
	/* Not cached yet, or in use by a caller further up (a callback that
	 * called back in): a statement of its own. */
	rc = sqlite3_prepare_v3(db->h, st_sql[id], -1,
				db->st[id] ? 0 : SQLITE_PREPARE_PERSISTENT, &s,
				NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return db_fail(db, d, rc, "prepare");
	}
	if (!db->st[id]) {
		db->st[id] = s;
		db->busy[id] = true;
	}
	*out = s;
	return CF_OK;
}

static void st_put(struct cf_db *db, enum st_id id, sqlite3_stmt *s)
{
	if (!s)
		return;
	if (s != db->st[id]) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	db->busy[id] = false;
}

/* FMT: 't' const char * (NULL binds NULL), 'i' int, 'l' long long. */
static int vbind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 't': {
			const char *v = va_arg(ap, const char *);
			rc = v ? sqlite3_bind_text(s, i + 1, v, -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(s, i + 1);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int(s, i + 1, va_arg(ap, int));
			break;
		case 'l':
			rc = sqlite3_bind_int64(s, i + 1,
						va_arg(ap, long long));
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc;
}

static int bind(sqlite3_stmt *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, fmt, ap);
	va_end(ap);
	return rc;
}

/* Runs statement ID with the arguments FMT describes, to its end. */
static enum cf_err exec_st(struct cf_db *db, enum st_id id, const char *what,
			   struct cf_diag *d, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	va_list ap;
	int rc;

	err = st_get(db, id, &s, d);
	if (err != CF_OK)
		goto out;
	va_start(ap, fmt);
	rc = vbind(s, fmt, ap);
	va_end(ap);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		rc = SQLITE_OK;
	if (rc != SQLITE_DONE)
		err = db_fail(db, d, rc, what);
out:
	st_put(db, id, s);
	return err;
}

/* Steps S once unless binding failed (RC); *ROW says whether a row came. */
static enum cf_err step_once(struct cf_db *db, sqlite3_stmt *s, int rc,
			     const char *what, struct cf_diag *d, bool *row)
{
	*row = false;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*row = true;
	else if (rc != SQLITE_DONE)
		return db_fail(db, d, rc, what);
	return CF_OK;
}

/* Hands a walk's row to ROW; a non-zero return stops the walk. */
typedef int (*row_fn)(void *ctx, sqlite3_stmt *s);

/* The caller's callback and its context, for a row converter. */
struct visit {
	union {
		cf_db_audit_fn audit;
		cf_db_token_fn token;
		cf_db_host_fn host;
		cf_db_sighting_fn sighting;
		cf_db_pool_fn pool;
		cf_db_name_fn name;
		cf_db_profile_fn profile;
	} fn;
	void *ctx;
};

/* Runs statement ID with the arguments FMT describes and hands each row to
 * ROW until it returns non-zero.  With MUST_FIND, no row is CF_ENOTFOUND.
 * The statement stays in use during ROW, so callbacks may call back in. */
static enum cf_err walk(struct cf_db *db, enum st_id id, bool must_find,
			row_fn row, void *ctx, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool any = false;
	va_list ap;
	int rc;

	err = st_get(db, id, &s, NULL);
	if (err != CF_OK)
		goto out;
	va_start(ap, fmt);
	rc = vbind(s, fmt, ap);
	va_end(ap);
	for (; rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW;
	     rc = SQLITE_OK) {
		any = true;
		if (row(ctx, s) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		err = rc_err(rc);
	else if (must_find && !any)
		err = CF_ENOTFOUND;
out:
	st_put(db, id, s);
	return err;
}

/* A LIMIT argument: 0 (all) and what does not fit are -1, no limit. */
static long long limit_arg(size_t limit)
{
	return limit == 0 || limit > INT64_MAX ? -1LL : (long long)limit;
}

static void col_copy(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (n >= cap) {
		n = cap - 1;
		/* Never leave half a UTF-8 sequence behind. */
		while (n > 0 && (t[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static const char *col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

/* ---- validation ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int num2(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DDTHH:MM:SS[.1 to 9 digits]Z" */
static bool time_ok(const char *t)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n = 0;

	if (!t)
		return false;
	for (i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !is_digit(t[i]) : t[i] != pat[i])
			return false;
	if (t[i] == '.') {
		for (i++; is_digit(t[i]) && n <= 9; i++)
			n++;
		if (n == 0 || n > 9)
			return false;
	}
	if (t[i] != 'Z' || t[i + 1] != '\0')
		return false;
	return num2(t + 5) >= 1 && num2(t + 5) <= 12 && num2(t + 8) >= 1 &&
	       num2(t + 8) <= 31 && num2(t + 11) <= 23 && num2(t + 14) <= 59 &&
	       num2(t + 17) <= 59;
}

static enum cf_err check_time(const char *what, const char *t,
			      struct cf_diag *d)
{
	if (time_ok(t))
		return CF_OK;
	return cf_diag_set(d, CF_EINVAL, "%s: not an RFC 3339 UTC time like "
			   "2026-11-22T04:15:11Z", what);
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, min;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2; min = 0x80; cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3; min = 0x800; cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4; min = 0x10000; cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* Text of MIN to CAP-1 bytes: UTF-8 without control characters. */
static bool text_ok(const char *s, size_t min, size_t cap)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, cap);
	if (n < min || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return utf8_ok((const unsigned char *)s, n);
}

static enum cf_err check_text(const char *what, const char *s, size_t min,
			      size_t cap, struct cf_diag *d)
{
	if (text_ok(s, min, cap))
		return CF_OK;
	if (!s)
		return cf_diag_set(d, CF_EINVAL, "%s: missing", what);
	if (min == 0)
		return cf_diag_set(d, CF_EINVAL, "%s: up to %zu bytes of UTF-8 "
				   "text without control characters", what,
				   cap - 1);
	return cf_diag_set(d, CF_EINVAL, "%s: %zu to %zu bytes of UTF-8 text "
			   "without control characters", what, min, cap - 1);
}

/* S[FROM..N) are hex digits, copied lower-cased to OUT[FROM..N). */
static bool hex_copy(const char *s, size_t from, size_t n, char *out)
{
	for (size_t i = from; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
			return false;
		out[i] = c;
	}
	return from < n;
}

/* Hex digits (1 to CF_DB_ID_MAX-1), lower-cased into OUT. */
static enum cf_err check_hex(const char *what, const char *s,
			     char out[CF_DB_ID_MAX], struct cf_diag *d)
{
	size_t n = s ? strnlen(s, CF_DB_ID_MAX) : 0;

	if (n >= CF_DB_ID_MAX || !hex_copy(s, 0, n, out))
		return cf_diag_set(d, CF_EINVAL, "%s: 1 to %d hex digits", what,
				   CF_DB_ID_MAX - 1);
	out[n] = '\0';
	return CF_OK;
}

/* A content identity: a version tag of lower-case letters and digits, a
 * colon and hex digits ("cfid1:..."), the hex lower-cased into OUT.  Hex
 * alone is accepted too: the form before identities had versions. */
static enum cf_err check_content(const char *s, char out[CF_DB_ID_MAX],
				 struct cf_diag *d)
{
	size_t n = s ? strnlen(s, CF_DB_ID_MAX) : 0;
	const char *colon = s && n < CF_DB_ID_MAX ? memchr(s, ':', n) : NULL;
	size_t tag = colon ? (size_t)(colon - s) + 1 : 0;

	if (!s || n >= CF_DB_ID_MAX || tag == 1 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") + 1 < tag ||
	    !hex_copy(s, tag, n, out))
		return cf_diag_set(d, CF_EINVAL, "content: a version tag, ':' "
				   "and hex digits, %d bytes at most",
				   CF_DB_ID_MAX - 1);
	memcpy(out, s, tag);
	out[n] = '\0';
	return CF_OK;
}

static bool name_ok(const char *s)
{
	size_t n = s ? strnlen(s, CF_DB_NAME_MAX) : 0;

	if (n == 0 || n >= CF_DB_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_digit(c) && !(c >= 'a' && c <= 'z') &&
		    !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

static enum cf_err check_name(const char *what, const char *s,
			      struct cf_diag *d)
{
	if (name_ok(s))
		return CF_OK;
	return cf_diag_set(d, CF_EINVAL, "%s: 1 to %d of A-Z a-z 0-9 . _ -",
			   what, CF_DB_NAME_MAX - 1);
}

static enum cf_err check_actor(const char **actor, struct cf_diag *d)
{
	if (!*actor)
		*actor = "cli";
	return check_text("actor", *actor, 1, CF_DB_ID_MAX, d);
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return *s == '\0';
}

/* WHAT: an object of at most LABELS_MAX string members, keys 1 and
 * values 0 to CF_DB_NAME_MAX-1 bytes; *CANON its compact text. */
static enum cf_err labels_parse(const char *what, const char *json,
				char **canon, struct cf_diag *d)
{
	cJSON *root = NULL;
	const cJSON *m;
	enum cf_err err = CF_OK;
	size_t n = 0;

	*canon = NULL;
	if (blank(json))
		json = "{}";
	if (strnlen(json, LABELS_JSON_MAX + 1) > LABELS_JSON_MAX) {
		err = cf_diag_set(d, CF_ETOOBIG, "%s: over %u bytes", what,
				  LABELS_JSON_MAX);
		goto out;
	}
	root = cJSON_ParseWithOpts(json, NULL, true);
	if (!root) {
		err = cf_diag_set(d, CF_ESYNTAX, "%s: not well-formed JSON",
				  what);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		err = cf_diag_set(d, CF_ESCHEMA, "%s: not a JSON object", what);
		goto out;
	}
	cJSON_ArrayForEach(m, root) {
		if (++n > LABELS_MAX) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s: more than %d labels", what,
					  LABELS_MAX);
			goto out;
		}
		if (!text_ok(m->string, 1, CF_DB_NAME_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s: label %zu: keys are 1 to %d "
					  "bytes of text", what, n,
					  CF_DB_NAME_MAX - 1);
			goto out;
		}
		if (!cJSON_IsString(m) ||
		    !text_ok(m->valuestring, 0, CF_DB_NAME_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "%s.%s: not a string of at most %d "
					  "bytes", what, m->string,
					  CF_DB_NAME_MAX - 1);
			goto out;
		}
		for (const cJSON *p = root->child; p != m; p = p->next) {
			if (strcmp(p->string, m->string) == 0) {
				err = cf_diag_set(d, CF_ESCHEMA, "%s.%s: given "
						  "twice", what, m->string);
				goto out;
			}
		}
	}
	*canon = cJSON_PrintUnformatted(root);
	if (!*canon)
		err = cf_diag_set(d, CF_ENOMEM, "%s: out of memory", what);
out:
	cJSON_Delete(root);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An array of at most POOL_HOSTS_MAX distinct host ids. */
static enum cf_err hosts_parse(const char *json, char **canon,
			       struct cf_diag *d)
{
	cJSON *root = NULL;
	const cJSON *m;
	const char **ids = NULL;
	enum cf_err err = CF_OK;
	size_t n = 0;

	*canon = NULL;
	if (blank(json))
		json = "[]";
	if (strnlen(json, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES) {
		err = cf_diag_set(d, CF_ETOOBIG, "hosts: over %u bytes",
				  CF_DOC_MAX_BYTES);
		goto out;
	}
	root = cJSON_ParseWithOpts(json, NULL, true);
	if (!root) {
		err = cf_diag_set(d, CF_ESYNTAX, "hosts: not well-formed JSON");
		goto out;
	}
	if (!cJSON_IsArray(root)) {
		err = cf_diag_set(d, CF_ESCHEMA, "hosts: not a JSON array");
		goto out;
	}
	cJSON_ArrayForEach(m, root) {
		if (n >= POOL_HOSTS_MAX) {
			err = cf_diag_set(d, CF_ESCHEMA, "hosts: more than %d",
					  POOL_HOSTS_MAX);
			goto out;
		}
		if (!cJSON_IsString(m) ||
		    !text_ok(m->valuestring, 1, CF_HOST_ID_MAX)) {
			err = cf_diag_set(d, CF_ESCHEMA,
					  "hosts[%zu]: not a host id (1 to %d "
					  "bytes of text)", n,
					  CF_HOST_ID_MAX - 1);
			goto out;
		}
		n++;
	}
	if (n > 1) {
		size_t i = 0;
		ids = malloc(n * sizeof(*ids));
		if (!ids) {
			err = cf_diag_set(d, CF_ENOMEM, "hosts: out of memory");
			goto out;
		}
		cJSON_ArrayForEach(m, root)
			ids[i++] = m->valuestring;
		qsort(ids, n, sizeof(*ids), cmp_str);
		for (i = 1; i < n; i++) {
			if (strcmp(ids[i - 1], ids[i]) == 0) {
				err = cf_diag_set(d, CF_EDUPLICATE, "hosts: %s "
						  "listed twice", ids[i]);
				goto out;
			}
		}
	}
	*canon = cJSON_PrintUnformatted(root);
	if (!*canon)
		err = cf_diag_set(d, CF_ENOMEM, "hosts: out of memory");
out:
	free(ids);
	cJSON_Delete(root);
	return err;
}

/* ---- transactions ---- */

static enum cf_err st_run(struct cf_db *db, enum st_id id, struct cf_diag *d)
{
	return exec_st(db, id, st_sql[id], d, "");
}

/* A write of ours: a transaction, or a savepoint inside the caller's. */
static enum cf_err wtx_begin(struct cf_db *db, bool *own, struct cf_diag *d)
{
	*own = false;
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	*own = sqlite3_get_autocommit(db->h) != 0;
	return st_run(db, *own ? ST_BEGIN : ST_OP, d);
}

/* Commits on ERR == CF_OK, else undoes; D keeps the first problem. */
static enum cf_err wtx_end(struct cf_db *db, bool own, enum cf_err err,
			   struct cf_diag *d)
{
	if (err == CF_OK) {
		err = st_run(db, own ? ST_COMMIT : ST_OP_RELEASE, d);
		if (err == CF_OK)
			return CF_OK;
	}
	/* Some errors (a full disk) end the transaction on their own. */
	if (sqlite3_get_autocommit(db->h))
		return err;
	if (own) {
		st_run(db, ST_ROLLBACK, NULL);
	} else {
		st_run(db, ST_OP_ROLLBACK, NULL);
		st_run(db, ST_OP_RELEASE, NULL);
	}
	return err;
}

enum cf_err cf_db_begin(struct cf_db *db, struct cf_diag *d)
{
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	return st_run(db, ST_BEGIN, d);
}

enum cf_err cf_db_commit(struct cf_db *db, struct cf_diag *d)
{
	return st_run(db, ST_COMMIT, d);
}

void cf_db_rollback(struct cf_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		st_run(db, ST_ROLLBACK, NULL);
}

enum cf_err cf_db_savepoint(struct cf_db *db, struct cf_diag *d)
{
	if (db->readonly)
		return cf_diag_set(d, CF_EINVAL, "database: opened read-only");
	return st_run(db, ST_SP, d);
}

enum cf_err cf_db_release(struct cf_db *db, struct cf_diag *d)
{
	return st_run(db, ST_SP_RELEASE, d);
}

void cf_db_rollback_to(struct cf_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		st_run(db, ST_SP_ROLLBACK, NULL);
}

/* ---- open, close, schema ---- */

static enum cf_err pragma_int(struct cf_db *db, const char *sql, int *out,
			      struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	else
		err = db_fail(db, d, rc, sql);
	sqlite3_finalize(s);
	return err;
}

static enum cf_err migrate(struct cf_db *db, const char *path,
			   struct cf_diag *d)
{
	enum cf_err err;
	int v = 0, app = 0, objects = 0;
	char sql[64];

	err = pragma_int(db, "PRAGMA user_version", &v, d);
	if (err == CF_OK)
		err = pragma_int(db, "PRAGMA application_id", &app, d);
	if (err != CF_OK)
		return err;
	if ((v > 0 || app != 0) && app != APP_ID)
		return cf_diag_set(d, CF_EDB, "%s: not a cpufleet database",
				   path);
	if (v > SCHEMA_LATEST)
		return cf_diag_set(d, CF_EDB, "%s: schema version %d is newer "
				   "than this build's %d", path, v,
				   SCHEMA_LATEST);
	if (v < SCHEMA_LATEST && db->readonly)
		return cf_diag_set(d, CF_EDB, "%s: schema version %d is older "
				   "than this build's %d: run the server once "
				   "to migrate", path, v, SCHEMA_LATEST);
	while (v < SCHEMA_LATEST) {
		char *msg = NULL;
		int rc;

		err = st_run(db, ST_BEGIN, d);
		if (err != CF_OK)
			return err;
		/* Another process may have migrated while we waited. */
		err = pragma_int(db, "PRAGMA user_version", &v, d);
		if (err == CF_OK && v == 0)
			err = pragma_int(db, "SELECT count(*) FROM "
					 "sqlite_schema", &objects, d);
		if (err == CF_OK && objects > 0)
			err = cf_diag_set(d, CF_EDB, "%s: not a cpufleet "
					  "database", path);
		if (err != CF_OK || v >= SCHEMA_LATEST) {
			wtx_end(db, true, err, d);
			if (err != CF_OK)
				return err;
			break;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (migrations[v].run) {
			err = migrations[v].run(db, d);
			if (err != CF_OK)
				return wtx_end(db, true, err, d);
			rc = SQLITE_OK;
		} else {
			rc = sqlite3_exec(db->h, migrations[v].sql, NULL, NULL,
					  &msg);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			err = cf_diag_set(d, CF_EDB, "%s: migration to schema "
					  "version %d: %s", path, v + 1,
					  msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			return wtx_end(db, true, err, d);
		}
		err = wtx_end(db, true, CF_OK, d);
		if (err != CF_OK)
			return err;
		v++;
	}
	if (v > SCHEMA_LATEST)
		return cf_diag_set(d, CF_EDB, "%s: schema version %d is newer "
				   "than this build's %d", path, v,
				   SCHEMA_LATEST);
	return CF_OK;
}

enum cf_err cf_db_open(const char *path, bool readonly, struct cf_db **out,
		       struct cf_diag *d)
{
	struct cf_db *db = NULL;
	enum cf_err err;
	char *msg = NULL;
	int rc, flags;

	if (!out)
		return cf_diag_set(d, CF_EINVAL, "database: no result pointer");
	*out = NULL;
	if (!path || !*path)
		return cf_diag_set(d, CF_EINVAL, "database: no path");
	db = calloc(1, sizeof(*db));
	if (!db)
		return cf_diag_set(d, CF_ENOMEM, "database: out of memory");
	db->readonly = readonly;
	/* One connection per thread, so SQLite's own mutexes are not needed. */
	flags = SQLITE_OPEN_NOMUTEX |
		(readonly ? SQLITE_OPEN_READONLY
			  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		err = cf_diag_set(d, map_rc(rc) == CF_EIO ? CF_EIO : CF_EDB,
				  "%s: cannot open the database: %s", path,
				  db->h ? sqlite3_errmsg(db->h)
					: sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	rc = sqlite3_exec(db->h, readonly ?
			  "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;" :
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			  " PRAGMA foreign_keys=ON;", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err = cf_diag_set(d, map_rc(rc) == CF_EIO ? CF_EIO : CF_EDB,
				  "%s: %s", path,
				  msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	err = migrate(db, path, d);
	if (err != CF_OK)
		goto fail;
	*out = db;
	return CF_OK;
fail:
	cf_db_close(db);
	return err;
}

void cf_db_close(struct cf_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close_v2(db->h);
	free(db);
}

int cf_db_schema_latest(void)
{
	return SCHEMA_LATEST;
}

int cf_db_schema_version(struct cf_db *db)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (st_get(db, ST_USER_VERSION, &s, NULL) == CF_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	st_put(db, ST_USER_VERSION, s);
	return v;
}

enum cf_err cf_db_integrity_check(struct cf_db *db, struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc;

	rc = sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = db_fail(db, d, rc, "integrity_check");
		goto out;
	}
	if (strcmp(col_text(s, 0), "ok") != 0) {
		err = cf_diag_set(d, CF_EDB, "database: integrity_check: %s",
				  col_text(s, 0));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &s,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		err = cf_diag_set(d, CF_EDB, "database: foreign_key_check: %s "
				  "row %lld refers to a missing %s row",
				  col_text(s, 0),
				  (long long)sqlite3_column_int64(s, 1),
				  col_text(s, 2));
	else if (rc != SQLITE_DONE)
		err = db_fail(db, d, rc, "foreign_key_check");
out:
	sqlite3_finalize(s);
	return err;
}

/* ---- audit ---- */

/* DETAIL may be NULL ({}). */
static enum cf_err audit_add(struct cf_db *db, const char *at,
			     const char *actor, const char *action,
			     const char *object, const cJSON *detail,
			     struct cf_diag *d)
{
	char *text = NULL;
	enum cf_err err;

	if (detail) {
		text = cJSON_PrintUnformatted(detail);
		if (!text)
			return cf_diag_set(d, CF_ENOMEM,
					   "audit: out of memory");
	}
	err = exec_st(db, ST_AUDIT_INSERT, "writing the audit row", d, "ttttt",
		      at, actor, action, object, text ? text : "{}");
	cJSON_free(text);
	return err;
}

static int audit_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_audit a;

	a.seq = sqlite3_column_int64(s, 0);
	col_copy(a.at, sizeof(a.at), s, 1);
	col_copy(a.actor, sizeof(a.actor), s, 2);
	col_copy(a.action, sizeof(a.action), s, 3);
	col_copy(a.object, sizeof(a.object), s, 4);
	a.detail_json = col_text(s, 5);
	return v->fn.audit(v->ctx, &a);
}

enum cf_err cf_db_audit_list(struct cf_db *db, size_t limit, cf_db_audit_fn fn,
			     void *ctx)
{
	struct visit v = { .fn.audit = fn, .ctx = ctx };

	return walk(db, ST_AUDIT_LIST, false, audit_row, &v, "l",
		    limit_arg(limit));
}

/* ---- tokens ---- */

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
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static void token_fill(struct cf_db_token *t, sqlite3_stmt *s, bool revoked)
{
	int role = sqlite3_column_int(s, 1);

	memset(t, 0, sizeof(*t));
	col_copy(t->id, sizeof(t->id), s, 0);
	t->role = (enum cf_db_role)role;
	col_copy(t->host, sizeof(t->host), s, 2);
	col_copy(t->created_at, sizeof(t->created_at), s, 3);
	if (revoked)
		col_copy(t->revoked_at, sizeof(t->revoked_at), s, 4);
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
	err = exec_st(db, ST_TOKEN_INSERT, "storing the token", d, "ttitt", id,
		      hash, (int)role, host ? host : "", now);
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
		err = check_text("token host", host, 1, CF_HOST_ID_MAX, d);
	else if (host)
		err = cf_diag_set(d, CF_EINVAL, "token: only agent tokens name "
				  "a host");
	else
		err = CF_OK;
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddStringToObject(detail, "role",
						cf_db_role_name(role)) ||
	    (host && !cJSON_AddStringToObject(detail, "host", host))) {
		err = cf_diag_set(d, CF_ENOMEM, "token: out of memory");
		goto out;
	}
	err = wtx_begin(db, &own, d);
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
		err = audit_add(db, now, "cli", "token.create", id, detail, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
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

enum cf_err cf_db_token_lookup(struct cf_db *db, const char *token,
			       struct cf_db_token *info)
{
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	char hash[CF_SHA256_HEX];
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	/* Only what could be ours costs a hash and a query. */
	if (!token || strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN ||
	    memcmp(token, TOKEN_PREFIX, plen) != 0 ||
	    !lower_hex(token + plen, 2 * TOKEN_ID_BYTES) ||
	    token[plen + 2 * TOKEN_ID_BYTES] != '_' ||
	    !lower_hex(token + plen + 2 * TOKEN_ID_BYTES + 1,
		       2 * TOKEN_SECRET_BYTES))
		return CF_ENOTFOUND;
	token_hash(token, hash);
	err = st_get(db, ST_TOKEN_LOOKUP, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = bind(s, "t", hash);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		err = CF_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		err = rc_err(rc);
	} else if (strlen(col_text(s, 0)) != 2 * TOKEN_ID_BYTES ||
		   memcmp(col_text(s, 0), token + plen, 2 * TOKEN_ID_BYTES)) {
		err = CF_ENOTFOUND;
	} else if (info) {
		token_fill(info, s, false);
	}
out:
	st_put(db, ST_TOKEN_LOOKUP, s);
	return err;
}

static int token_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_token t;

	token_fill(&t, s, true);
	return v->fn.token(v->ctx, &t);
}

enum cf_err cf_db_token_list(struct cf_db *db, cf_db_token_fn fn, void *ctx)
{
	struct visit v = { .fn.token = fn, .ctx = ctx };

	return walk(db, ST_TOKEN_LIST, false, token_row, &v, "");
}

enum cf_err cf_db_token_revoke(struct cf_db *db, const char *id,
			       const char *now, struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool own = false, tx = false, found = false, revoked;

	err = check_text("token id", id, 1, CF_DB_ID_MAX, d);
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err != CF_OK)
		goto out;
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = st_get(db, ST_TOKEN_GET, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", id), "reading the token", d,
				&found);
	revoked = found && sqlite3_column_int(s, 0);
	st_put(db, ST_TOKEN_GET, s);
	if (err == CF_OK && !found)
		err = cf_diag_set(d, CF_ENOTFOUND, "token %s: no such token",
				  id);
	if (err != CF_OK || revoked)
		goto out;   /* revoked before: nothing to do */
	err = exec_st(db, ST_TOKEN_REVOKE, "revoking the token", d, "tt", id,
		      now);
	if (err == CF_OK)
		err = audit_add(db, now, "cli", "token.revoke", id, NULL, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
	return err;
}

/* ---- reports ---- */

static enum cf_err check_upload(const struct cf_db_upload *u,
				char content[CF_DB_ID_MAX],
				char fingerprint[CF_DB_ID_MAX],
				struct cf_diag *d)
{
	enum cf_err err;

	if (!u)
		return cf_diag_set(d, CF_EINVAL, "upload: missing");
	err = check_text("report_id", u->report_id, 1, CF_DB_ID_MAX, d);
	if (err == CF_OK)
		err = check_text("host", u->host, 1, CF_HOST_ID_MAX, d);
	if (err == CF_OK)
		err = check_text("arch", u->arch, 1,
				 sizeof(((struct cf_db_host *)0)->arch), d);
	if (err == CF_OK)
		err = check_text("hostname", u->hostname ? u->hostname : "", 0,
				 CF_TEXT_MAX, d);
	if (err == CF_OK)
		err = check_content(u->content, content, d);
	if (err == CF_OK)
		err = check_hex("fingerprint", u->fingerprint, fingerprint, d);
	if (err == CF_OK)
		err = check_text("collected_at",
				 u->collected_at ? u->collected_at : "", 0,
				 CF_DB_TIME_MAX, d);
	if (err == CF_OK)
		err = check_time("received_at", u->received_at, d);
	if (err == CF_OK && !u->body)
		err = cf_diag_set(d, CF_EINVAL, "body: missing");
	if (err == CF_OK &&
	    strnlen(u->body, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES)
		err = cf_diag_set(d, CF_ETOOBIG, "body: over %u bytes",
				  CF_DOC_MAX_BYTES);
	return err;
}

/* The report row of FINGERPRINT's config, adding the config if new. */
/* The id of FINGERPRINT's configuration, adding it if new. */
static enum cf_err config_id(struct cf_db *db, const struct cf_db_upload *u,
			     const char *fingerprint, long long *id,
			     struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool row = false;

	err = st_get(db, ST_CONFIG_FIND, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", fingerprint),
				"finding the configuration", d, &row);
	if (row)
		*id = sqlite3_column_int64(s, 0);
	st_put(db, ST_CONFIG_FIND, s);
	if (err != CF_OK || row)
		return err;
	err = exec_st(db, ST_CONFIG_INSERT, "storing the configuration", d,
		      "ttt", fingerprint, u->arch, u->received_at);
	*id = sqlite3_last_insert_rowid(db->h);
	return err;
}

static enum cf_err report_put(struct cf_db *db, const struct cf_db_upload *u,
			      const char *content, const char *fingerprint,
			      enum cf_db_put_result *res, struct cf_diag *d)
{
	const char *collected = u->collected_at ? u->collected_at : "";
	sqlite3_stmt *s = NULL;
	long long row = 0, cfg = 0;
	enum cf_err err;
	bool found = false, same_host = false, same = false;

	/* Statements are read out and reset before the writes. */
	err = st_get(db, ST_SIGHTING_BY_UID, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", u->report_id),
				"finding the report id", d, &found);
	if (found) {
		same_host = strcmp(col_text(s, 0), u->host) == 0;
		same = strcmp(col_text(s, 1), content) == 0;
	}
	st_put(db, ST_SIGHTING_BY_UID, s);
	if (err != CF_OK)
		return err;
	if (found && same_host && same) {
		*res = CF_DB_PUT_KNOWN;
		return CF_OK;
	}
	if (found)
		return cf_diag_set(d, CF_ECONFLICT, "report_id %s: stored "
				   "already with another %s", u->report_id,
				   same_host ? "content" : "host");

	same = false;
	err = st_get(db, ST_HOST_LATEST, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", u->host),
				"finding the host's latest report", d, &found);
	if (found) {
		row = sqlite3_column_int64(s, 0);
		same = strcmp(col_text(s, 1), content) == 0;
	}
	st_put(db, ST_HOST_LATEST, s);
	if (err != CF_OK)
		return err;

	err = exec_st(db, ST_HOST_UPSERT, "storing the host", d, "tttt",
		      u->host, u->arch, u->hostname ? u->hostname : "",
		      u->received_at);
	if (err == CF_OK && !same) {
		err = config_id(db, u, fingerprint, &cfg, d);
		if (err == CF_OK)
			err = exec_st(db, ST_REPORT_INSERT,
				      "storing the report", d, "tltttt",
				      u->host, cfg, content, u->body,
				      collected, u->received_at);
		row = sqlite3_last_insert_rowid(db->h);
	}
	if (err == CF_OK)
		err = exec_st(db, ST_SIGHTING_INSERT, "storing the sighting", d,
			      "tlttt", u->report_id, row, u->host,
			      u->received_at, collected);
	if (err == CF_OK)
		*res = same ? CF_DB_PUT_SEEN_AGAIN : CF_DB_PUT_NEW;
	return err;
}

/* ---- migration 2: canonical identities ---- */

/* Runs SQL with the arguments FMT describes (as bind does), stepping once;
 * the first column of a row into *OUT (if not NULL).  *ROW (if not NULL)
 * says whether one came. */
static enum cf_err mig_sql(struct cf_db *db, struct cf_diag *d, const char *sql,
			   long long *out, bool *row, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool got = false;
	va_list ap;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return db_fail(db, d, rc, sql);
	}
	va_start(ap, fmt);
	rc = vbind(s, fmt, ap);
	va_end(ap);
	err = step_once(db, s, rc, sql, d, &got);
	if (got && out)
		*out = sqlite3_column_int64(s, 0);
	if (row)
		*row = got;
	sqlite3_finalize(s);
	return err;
}

struct reid {
	long long id, config;
	bool ok;                 /* the body parsed */
	char content[CF_CONTENT_ID_MAX];
	char fp[24];
	char arch[16];
};

/* Reads every report row and computes its identities from its body. */
static enum cf_err reid_read(struct cf_db *db, struct reid **out, size_t *n,
			     struct cf_diag *d)
{
	const char *sql = "SELECT id, config_id, body FROM reports ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct reid *v = NULL;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);

	*out = NULL;
	*n = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *body = col_text(s, 2);
		struct cf_report *r = NULL;
		struct reid *e;

		rc = SQLITE_OK;
		if (*n == cap) {
			struct reid *t = realloc(v, (cap ? 2 * cap : 64) *
						 sizeof(*v));
			if (!t) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = t;
			cap = cap ? 2 * cap : 64;
		}
		e = &v[(*n)++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(s, 0);
		e->config = sqlite3_column_int64(s, 1);
		/* A body this build no longer reads keeps its identities: a
		 * retry of it is refused as before, nothing is lost. */
		if (cf_report_parse(body, strlen(body), "stored report", &r,
				    NULL) == CF_OK &&
		    cf_report_content_id(r, e->content,
					 sizeof(e->content)) == CF_OK) {
			e->ok = true;
			snprintf(e->fp, sizeof(e->fp), "%016llx",
				 (unsigned long long)cf_report_fingerprint(r));
			snprintf(e->arch, sizeof(e->arch), "%s",
				 cf_report_arch(r));
		}
		cf_report_destroy(r);
	}
	if (rc != SQLITE_DONE) {
		enum cf_err err = db_fail(db, d, rc, "reading the reports");
		sqlite3_finalize(s);
		free(v);
		*n = 0;
		return err;
	}
	sqlite3_finalize(s);
	*out = v;
	return CF_OK;
}

/* Migration 2: each stored report's content identity and its
 * configuration's fingerprint as the engine computes them now (canonical:
 * engine/identity.h), from the stored body.  Configurations that now have
 * one fingerprint (the same CPU seen on two of its CPUs, say) become one,
 * keeping the earliest.  Runs inside the migration's transaction. */
static enum cf_err reidentify(struct cf_db *db, struct cf_diag *d)
{
	struct reid *v = NULL;
	size_t n = 0;
	enum cf_err err = reid_read(db, &v, &n, d);

	/* Old fingerprints move aside (':' is no hex digit), so that a new
	 * one never meets an old one. */
	if (err == CF_OK)
		err = mig_sql(db, d, "UPDATE configs SET fingerprint = 'old:' ||"
			      " fingerprint", NULL, NULL, "");
	for (size_t i = 0; i < n && err == CF_OK; i++) {
		long long cfg = v[i].config;
		bool found = false, old = false;

		if (!v[i].ok)
			continue;
		err = mig_sql(db, d, "UPDATE reports SET content = ?2 WHERE id = ?1",
			      NULL, NULL, "lt", v[i].id, v[i].content);
		if (err == CF_OK)
			err = mig_sql(db, d, "SELECT id FROM configs WHERE"
				      " fingerprint = ?1", &cfg, &found, "t",
				      v[i].fp);
		if (err == CF_OK && !found)
			err = mig_sql(db, d, "SELECT 1 FROM configs WHERE id = ?1"
				      " AND fingerprint LIKE 'old:%'", NULL,
				      &old, "l", v[i].config);
		if (err == CF_OK && !found && old)
			/* The first report of its configuration renames it. */
			err = mig_sql(db, d, "UPDATE configs SET fingerprint ="
				      " ?2, arch = ?3 WHERE id = ?1", NULL, NULL,
				      "ltt", v[i].config, v[i].fp, v[i].arch);
		else if (err == CF_OK && !found) {
			err = mig_sql(db, d, "INSERT INTO configs (fingerprint,"
				      " arch, first_seen) SELECT ?2, ?3,"
				      " first_seen FROM configs WHERE id = ?1",
				      NULL, NULL, "ltt", v[i].config, v[i].fp,
				      v[i].arch);
			cfg = sqlite3_last_insert_rowid(db->h);
		}
		if (err == CF_OK && cfg != v[i].config)
			err = mig_sql(db, d, "UPDATE reports SET config_id = ?2"
				      " WHERE id = ?1", NULL, NULL, "ll",
				      v[i].id, cfg);
	}
	if (err == CF_OK)
		err = mig_sql(db, d, "DELETE FROM configs WHERE fingerprint LIKE"
			      " 'old:%' AND id NOT IN (SELECT config_id FROM"
			      " reports)", NULL, NULL, "");
	/* Those of reports this build could not read keep theirs. */
	if (err == CF_OK)
		err = mig_sql(db, d, "UPDATE configs SET fingerprint ="
			      " substr(fingerprint, 5) WHERE fingerprint LIKE"
			      " 'old:%'", NULL, NULL, "");
	free(v);
	return err;
}

enum cf_err cf_db_report_put(struct cf_db *db, const struct cf_db_upload *u,
			     enum cf_db_put_result *res, struct cf_diag *d)
{
	char content[CF_DB_ID_MAX], fingerprint[CF_DB_ID_MAX];
	enum cf_db_put_result r = CF_DB_PUT_NEW;
	enum cf_err err;
	bool own;

	err = check_upload(u, content, fingerprint, d);
	if (err != CF_OK)
		return err;
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		return err;
	err = report_put(db, u, content, fingerprint, &r, d);
	err = wtx_end(db, own, err, d);
	if (err == CF_OK && res)
		*res = r;
	return err;
}

/* ---- hosts ---- */

static int host_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_host h;

	col_copy(h.id, sizeof(h.id), s, 0);
	col_copy(h.arch, sizeof(h.arch), s, 1);
	col_copy(h.hostname, sizeof(h.hostname), s, 2);
	col_copy(h.first_seen, sizeof(h.first_seen), s, 3);
	col_copy(h.last_seen, sizeof(h.last_seen), s, 4);
	h.labels_json = col_text(s, 5);
	h.reports = (unsigned long long)sqlite3_column_int64(s, 6);
	h.uploads = (unsigned long long)sqlite3_column_int64(s, 7);
	return v->fn.host(v->ctx, &h);
}

enum cf_err cf_db_host_list(struct cf_db *db, cf_db_host_fn fn, void *ctx)
{
	struct visit v = { .fn.host = fn, .ctx = ctx };

	return walk(db, ST_HOST_LIST, false, host_row, &v, "");
}

enum cf_err cf_db_host_get(struct cf_db *db, const char *id, cf_db_host_fn fn,
			   void *ctx)
{
	struct visit v = { .fn.host = fn, .ctx = ctx };

	if (!id)
		return CF_EINVAL;
	return walk(db, ST_HOST_GET, true, host_row, &v, "t", id);
}

static enum cf_err host_exists(struct cf_db *db, const char *id, bool *found,
			       struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	*found = false;
	err = st_get(db, ST_HOST_EXISTS, &s, d);
	if (err != CF_OK)
		goto out;
	rc = bind(s, "t", id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*found = true;
	else if (rc != SQLITE_DONE)
		err = db_fail(db, d, rc, "finding the host");
out:
	st_put(db, ST_HOST_EXISTS, s);
	return err;
}

enum cf_err cf_db_host_set_labels(struct cf_db *db, const char *id,
				  const char *labels_json, const char *actor,
				  const char *now, struct cf_diag *d)
{
	char *canon = NULL;
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false;

	err = check_text("host", id, 1, CF_HOST_ID_MAX, d);
	if (err == CF_OK)
		err = check_actor(&actor, d);
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err == CF_OK)
		err = labels_parse("labels", labels_json, &canon, d);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddRawToObject(detail, "labels", canon)) {
		err = cf_diag_set(d, CF_ENOMEM, "labels: out of memory");
		goto out;
	}
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = exec_st(db, ST_HOST_SET_LABELS, "storing the labels", d, "tt", id,
		      canon);
	if (err == CF_OK && sqlite3_changes(db->h) == 0)
		err = cf_diag_set(d, CF_ENOTFOUND, "host %s: no such host", id);
	if (err == CF_OK)
		err = audit_add(db, now, actor, "host.labels", id, detail, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
	cJSON_Delete(detail);
	cJSON_free(canon);
	return err;
}

static void sighting_fill(struct cf_db_sighting *si, sqlite3_stmt *s,
			  int prev_col)
{
	memset(si, 0, sizeof(*si));
	col_copy(si->report_id, sizeof(si->report_id), s, 0);
	col_copy(si->received_at, sizeof(si->received_at), s, 1);
	col_copy(si->collected_at, sizeof(si->collected_at), s, 2);
	col_copy(si->content, sizeof(si->content), s, 3);
	col_copy(si->fingerprint, sizeof(si->fingerprint), s, 4);
	si->changed = sqlite3_column_type(s, prev_col) == SQLITE_NULL ||
		      strcmp(col_text(s, prev_col), col_text(s, 3)) != 0;
}

enum cf_err cf_db_host_report(struct cf_db *db, const char *id, const char *at,
			      char **body, struct cf_db_sighting *si)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	if (body)
		*body = NULL;
	if (!id || (at && !time_ok(at)))
		return CF_EINVAL;
	err = st_get(db, ST_HOST_REPORT, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = bind(s, "tt", id, at);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		err = CF_ENOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		err = rc_err(rc);
		goto out;
	}
	if (body) {
		size_t n = (size_t)sqlite3_column_bytes(s, 5);
		*body = malloc(n + 1);
		if (!*body) {
			err = CF_ENOMEM;
			goto out;
		}
		if (n)
			memcpy(*body, col_text(s, 5), n);
		(*body)[n] = '\0';
	}
	if (si)
		sighting_fill(si, s, 6);
out:
	st_put(db, ST_HOST_REPORT, s);
	return err;
}

static int sighting_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_sighting si;

	sighting_fill(&si, s, 5);
	return v->fn.sighting(v->ctx, &si);
}

enum cf_err cf_db_host_history(struct cf_db *db, const char *id, size_t limit,
			       cf_db_sighting_fn fn, void *ctx)
{
	struct visit v = { .fn.sighting = fn, .ctx = ctx };
	enum cf_err err;
	bool found;

	if (!id)
		return CF_EINVAL;
	err = host_exists(db, id, &found, NULL);
	if (err != CF_OK)
		return err;
	if (!found)
		return CF_ENOTFOUND;
	return walk(db, ST_HOST_HISTORY, false, sighting_row, &v, "tl", id,
		    limit_arg(limit));
}

/* ---- pools ---- */

enum cf_err cf_db_pool_put(struct cf_db *db, const char *name,
			   const char *labels_json, const char *hosts_json,
			   const char *actor, const char *now, bool *created,
			   struct cf_diag *d)
{
	char *labels = NULL, *hosts = NULL;
	cJSON *detail = NULL;
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	bool own = false, tx = false, existed = false;

	err = check_name("pool name", name, d);
	if (err == CF_OK)
		err = check_actor(&actor, d);
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err == CF_OK)
		err = labels_parse("labels", labels_json, &labels, d);
	if (err == CF_OK)
		err = hosts_parse(hosts_json, &hosts, d);
	if (err != CF_OK)
		goto out;
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = st_get(db, ST_POOL_EXISTS, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", name),
				"finding the pool", d, &existed);
	st_put(db, ST_POOL_EXISTS, s);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddBoolToObject(detail, "created", !existed) ||
	    !cJSON_AddRawToObject(detail, "labels", labels) ||
	    !cJSON_AddRawToObject(detail, "hosts", hosts)) {
		err = cf_diag_set(d, CF_ENOMEM, "pool: out of memory");
		goto out;
	}
	err = exec_st(db, ST_POOL_UPSERT, "storing the pool", d, "tttt", name,
		      labels, hosts, now);
	if (err == CF_OK)
		err = audit_add(db, now, actor, "pool.put", name, detail, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
	if (err == CF_OK && created)
		*created = !existed;
	cJSON_Delete(detail);
	cJSON_free(labels);
	cJSON_free(hosts);
	return err;
}

static int pool_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_pool p;

	col_copy(p.name, sizeof(p.name), s, 0);
	p.labels_json = col_text(s, 1);
	p.hosts_json = col_text(s, 2);
	col_copy(p.updated_at, sizeof(p.updated_at), s, 3);
	return v->fn.pool(v->ctx, &p);
}

enum cf_err cf_db_pool_get(struct cf_db *db, const char *name,
			   cf_db_pool_fn fn, void *ctx)
{
	struct visit v = { .fn.pool = fn, .ctx = ctx };

	if (!name_ok(name))
		return CF_EINVAL;
	return walk(db, ST_POOL_GET, true, pool_row, &v, "t", name);
}

enum cf_err cf_db_pool_list(struct cf_db *db, cf_db_pool_fn fn, void *ctx)
{
	struct visit v = { .fn.pool = fn, .ctx = ctx };

	return walk(db, ST_POOL_LIST, false, pool_row, &v, "");
}

enum cf_err cf_db_pool_delete(struct cf_db *db, const char *name,
			      const char *actor, const char *now,
			      struct cf_diag *d)
{
	enum cf_err err;
	bool own = false, tx = false;

	err = check_name("pool name", name, d);
	if (err == CF_OK)
		err = check_actor(&actor, d);
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err != CF_OK)
		goto out;
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = exec_st(db, ST_POOL_DELETE, "deleting the pool", d, "t", name);
	if (err == CF_OK && sqlite3_changes(db->h) == 0)
		err = cf_diag_set(d, CF_ENOTFOUND, "pool %s: no such pool",
				  name);
	if (err == CF_OK)
		err = audit_add(db, now, actor, "pool.delete", name, NULL, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
	return err;
}

static int count_one(void *ctx, const struct cf_db_pool *p)
{
	(void)p;
	*(bool *)ctx = true;
	return 0;
}

static int name_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;

	return v->fn.name(v->ctx, col_text(s, 0));
}

enum cf_err cf_db_pool_members(struct cf_db *db, const char *name,
			       cf_db_name_fn fn, void *ctx)
{
	struct visit v = { .fn.name = fn, .ctx = ctx };
	enum cf_err err;
	bool found = false;

	err = cf_db_pool_get(db, name, count_one, &found);
	if (err != CF_OK)
		return err;
	return walk(db, ST_POOL_MEMBERS, false, name_row, &v, "t", name);
}

/* ---- profiles ---- */

enum cf_err cf_db_profile_publish(struct cf_db *db, const char *name,
				  const char *body, const char *pool,
				  const struct cf_db_source *sources,
				  size_t nsources, const char *actor,
				  const char *now, int *version,
				  struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	cJSON *detail = NULL;
	enum cf_err err;
	bool own = false, tx = false, row = false;
	int v = 1;

	err = check_name("profile name", name, d);
	if (err == CF_OK && pool && *pool)
		err = check_name("pool name", pool, d);
	if (err == CF_OK)
		err = check_actor(&actor, d);
	if (err == CF_OK)
		err = check_time("now", now, d);
	if (err == CF_OK && !body)
		err = cf_diag_set(d, CF_EINVAL, "profile body: missing");
	if (err == CF_OK &&
	    strnlen(body, CF_DOC_MAX_BYTES + 1) > CF_DOC_MAX_BYTES)
		err = cf_diag_set(d, CF_ETOOBIG, "profile body: over %u bytes",
				  CF_DOC_MAX_BYTES);
	if (err == CF_OK && nsources > SOURCES_MAX)
		err = cf_diag_set(d, CF_ETOOBIG, "sources: more than %d",
				  SOURCES_MAX);
	if (err == CF_OK && nsources && !sources)
		err = cf_diag_set(d, CF_EINVAL, "sources: missing");
	for (size_t i = 0; err == CF_OK && i < nsources; i++) {
		if (!text_ok(sources[i].host, 1, CF_HOST_ID_MAX) ||
		    !text_ok(sources[i].report_id, 1, CF_DB_ID_MAX))
			err = cf_diag_set(d, CF_EINVAL, "sources[%zu]: a "
					  "host id and a report id", i);
	}
	if (err != CF_OK)
		goto out;
	if (!pool)
		pool = "";
	err = wtx_begin(db, &own, d);
	if (err != CF_OK)
		goto out;
	tx = true;
	err = st_get(db, ST_PROFILE_NEXT, &s, d);
	if (err == CF_OK)
		err = step_once(db, s, bind(s, "t", name),
				"numbering the version", d, &row);
	if (row)
		v = sqlite3_column_int(s, 0);
	st_put(db, ST_PROFILE_NEXT, s);
	if (err != CF_OK)
		goto out;
	detail = cJSON_CreateObject();
	if (!detail || !cJSON_AddNumberToObject(detail, "version", v) ||
	    !cJSON_AddStringToObject(detail, "pool", pool) ||
	    !cJSON_AddNumberToObject(detail, "sources", (double)nsources)) {
		err = cf_diag_set(d, CF_ENOMEM, "profile: out of memory");
		goto out;
	}
	err = exec_st(db, ST_PROFILE_INSERT, "storing the profile", d,
		      "tittttl", name, v, body, pool, now, actor,
		      (long long)nsources);
	for (size_t i = 0; err == CF_OK && i < nsources; i++)
		err = exec_st(db, ST_SOURCE_INSERT, "storing a source", d,
			      "tiltt", name, v, (long long)i, sources[i].host,
			      sources[i].report_id);
	if (err == CF_OK)
		err = audit_add(db, now, actor, "profile.publish", name,
				detail, d);
out:
	if (tx)
		err = wtx_end(db, own, err, d);
	if (err == CF_OK && version)
		*version = v;
	cJSON_Delete(detail);
	return err;
}

static void profile_fill(struct cf_db_profile *p, sqlite3_stmt *s)
{
	memset(p, 0, sizeof(*p));
	col_copy(p->name, sizeof(p->name), s, 0);
	p->version = sqlite3_column_int(s, 1);
	col_copy(p->pool, sizeof(p->pool), s, 2);
	col_copy(p->created_at, sizeof(p->created_at), s, 3);
	col_copy(p->created_by, sizeof(p->created_by), s, 4);
}

struct source_copy {
	char host[CF_HOST_ID_MAX];
	char report_id[CF_DB_ID_MAX];
};

/* A profile's sources, copied out of their statement. */
struct source_list {
	struct source_copy *copy;
	size_t n, cap;
	bool nomem;
};

static int source_row(void *ctx, sqlite3_stmt *s)
{
	struct source_list *l = ctx;
	struct source_copy *c;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 16;
		void *q = realloc(l->copy, ncap * sizeof(*l->copy));
		if (!q) {
			l->nomem = true;
			return 1;
		}
		l->copy = q;
		l->cap = ncap;
	}
	c = &l->copy[l->n++];
	col_copy(c->host, sizeof(c->host), s, 0);
	col_copy(c->report_id, sizeof(c->report_id), s, 1);
	return 0;
}

enum cf_err cf_db_profile_get(struct cf_db *db, const char *name, int version,
			      cf_db_profile_fn fn, void *ctx)
{
	struct source_list l = { NULL, 0, 0, false };
	struct cf_db_source *pub = NULL;
	struct cf_db_profile p;
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	if (!name_ok(name) || version < 0)
		return CF_EINVAL;
	err = st_get(db, ST_PROFILE_GET, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = bind(s, "ti", name, version);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		err = CF_ENOTFOUND;
	else if (rc != SQLITE_ROW)
		err = rc_err(rc);
	if (err != CF_OK)
		goto out;
	profile_fill(&p, s);
	p.body = col_text(s, 5);

	err = walk(db, ST_PROFILE_SOURCES, false, source_row, &l, "ti", name,
		   p.version);
	if (err == CF_OK && l.nomem)
		err = CF_ENOMEM;
	if (err != CF_OK)
		goto out;
	if (l.n) {
		pub = calloc(l.n, sizeof(*pub));
		if (!pub) {
			err = CF_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < l.n; i++) {
			pub[i].host = l.copy[i].host;
			pub[i].report_id = l.copy[i].report_id;
		}
	}
	p.nsources = l.n;
	p.sources = pub;
	fn(ctx, &p);
out:
	st_put(db, ST_PROFILE_GET, s);
	free(pub);
	free(l.copy);
	return err;
}

static int profile_row(void *ctx, sqlite3_stmt *s)
{
	const struct visit *v = ctx;
	struct cf_db_profile p;

	profile_fill(&p, s);
	return v->fn.profile(v->ctx, &p);
}

enum cf_err cf_db_profile_list(struct cf_db *db, const char *name,
			       cf_db_profile_fn fn, void *ctx)
{
	struct visit v = { .fn.profile = fn, .ctx = ctx };

	if (!name)
		return walk(db, ST_PROFILE_LATEST, false, profile_row, &v, "");
	if (!name_ok(name))
		return CF_EINVAL;
	return walk(db, ST_PROFILE_VERSIONS, true, profile_row, &v, "t",
		    name);
}

/* ---- figures ---- */

enum cf_err cf_db_stats(struct cf_db *db, struct cf_db_stats *out)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	err = st_get(db, ST_STATS, &s, NULL);
	if (err != CF_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = rc_err(rc);
		goto out;
	}
	out->hosts = (unsigned long long)sqlite3_column_int64(s, 0);
	out->reports = (unsigned long long)sqlite3_column_int64(s, 1);
	out->sightings = (unsigned long long)sqlite3_column_int64(s, 2);
	out->configs = (unsigned long long)sqlite3_column_int64(s, 3);
	out->pools = (unsigned long long)sqlite3_column_int64(s, 4);
	out->profiles = (unsigned long long)sqlite3_column_int64(s, 5);
	out->profile_versions = (unsigned long long)sqlite3_column_int64(s, 6);
	out->tokens = (unsigned long long)sqlite3_column_int64(s, 7);
out:
	st_put(db, ST_STATS, s);
	return err;
}
