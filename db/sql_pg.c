/* The PostgreSQL backend's own SQL (db/sql.c has what both backends
 * share; pg.c renames its ?N parameters $N): READ COMMITTED transactions,
 * tokens in insertion order (an identity column), pool membership by
 * labels with jsonb containment, and a transaction-level advisory lock
 * per profile name, so that two servers publishing one name number their
 * versions in turn. */
#include "db/pg_priv.h"
#include "db/sql_many.h"

/* A pool's members: its explicit hosts that are known, plus every host
 * whose labels contain all of its selector's (none for an empty one). */
#define POOL_MEMBERS \
	"SELECT h.id FROM pools p" \
	" CROSS JOIN LATERAL jsonb_array_elements_text(p.hosts::jsonb) m(v)" \
	" JOIN hosts h ON h.id = m.v WHERE p.name = $1" \
	" UNION" \
	" SELECT h.id FROM pools p, hosts h" \
	" WHERE p.name = $1 AND p.labels <> '{}'" \
	" AND h.labels::jsonb @> p.labels::jsonb"

const char *const cf_db_pg_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	[ST_TOKEN_LIST] =
		"SELECT id, role, host, created_at, coalesce(revoked_at, '')"
		" FROM tokens ORDER BY n",
	[ST_POOL_MEMBERS] = POOL_MEMBERS " ORDER BY 1",
	/* ST_POOL_MEMBERS's hosts, each with its latest sighting and
	 * ST_HOST_REPORT's columns, by host. */
	[ST_POOL_LATEST] =
		"WITH mem(id) AS MATERIALIZED (" POOL_MEMBERS ")"
		" SELECT s.report_uid, s.received_at, s.collected_at, r.content,"
		" c.fingerprint, r.body," CF_SQL_PREV_CONTENT ", mem.id"
		" FROM mem JOIN sightings s ON s.seq = (SELECT max(seq)"
		"  FROM sightings WHERE host_id = mem.id)"
		" JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id ORDER BY mem.id",
	[ST_PROFILE_LOCK] =
		"SELECT pg_advisory_xact_lock(hashtextextended("
		"'cpufleet.profile:' || $1::text, 0))",
	CF_SQL_MANY("(SELECT value AS v FROM"
		    " jsonb_array_elements(CAST(?1 AS jsonb)))"),
};
