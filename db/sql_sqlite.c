/* The SQLite backend's own SQL (db/sql.c has what both backends share):
 * BEGIN IMMEDIATE (the file's one write lock, so no other writer can
 * number a profile version meanwhile), tokens in insertion order (rowid),
 * pool membership by labels with json_each. */
#include "db/sqlite_priv.h"
#include "db/sql_many.h"

/* A pool's members: its explicit hosts that are known, plus every host
 * carrying all its selector labels (none for an empty selector). */
#define POOL_MEMBERS \
	"SELECT h.id FROM pools p, json_each(p.hosts) m, hosts h" \
	" WHERE p.name = ?1 AND h.id = m.value" \
	" UNION" \
	" SELECT h.id FROM pools p, hosts h" \
	" WHERE p.name = ?1 AND p.labels <> '{}' AND NOT EXISTS (" \
	"  SELECT 1 FROM json_each(p.labels) want WHERE NOT EXISTS (" \
	"   SELECT 1 FROM json_each(h.labels) have" \
	"   WHERE have.key = want.key AND have.value = want.value))"

const char *const cf_db_sqlite_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_TOKEN_LIST] =
		"SELECT id, role, host, created_at, coalesce(revoked_at, '')"
		" FROM tokens ORDER BY rowid",
	[ST_POOL_MEMBERS] =
		POOL_MEMBERS " ORDER BY 1",
	/* ST_POOL_MEMBERS's hosts, each with its latest sighting (the
	 * highest seq: sightings_host) and ST_HOST_REPORT's columns.  The
	 * members are sorted alone (CROSS JOIN keeps their order as the
	 * outer loop): sorting the rows with their bodies would spill 3 KB a
	 * host to a temporary file. */
	[ST_POOL_LATEST] =
		"WITH mem(id) AS MATERIALIZED (" POOL_MEMBERS " ORDER BY 1)"
		" SELECT s.report_uid, s.received_at, s.collected_at, r.content,"
		" c.fingerprint, r.body,"
		CF_SQL_PREV_CONTENT ", mem.id"
		" FROM mem CROSS JOIN sightings s ON s.seq = (SELECT max(seq)"
		"  FROM sightings WHERE host_id = mem.id)"
		" JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id",
	/* BEGIN IMMEDIATE took the file's one write lock already: no other
	 * writer can number a version meanwhile. */
	[ST_PROFILE_LOCK] = "SELECT ?1 IS NOT NULL",
	CF_SQL_MANY("(SELECT value AS v FROM json_each(?1))"),
};
