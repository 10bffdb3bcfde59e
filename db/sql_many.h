/* The statements that store uploads (db/reports.c), written once for both
 * backends over ROWS: the rows of argument ?1, a JSON array whose every
 * element is an array of texts, as a table with one column v (the row);
 * (v ->> N) is its Nth text.  Each backend's SQL table puts its own ROWS
 * in (sql_sqlite.c: json_each, sql_pg.c: json_array_elements), so one
 * statement stores the rows of many uploads: a round trip to PostgreSQL
 * per table, not per upload. */
#ifndef CF_DB_SQL_MANY_H
#define CF_DB_SQL_MANY_H

/* The upsert of a host row: first and last seen widen, never shrink. */
#define CF_SQL_HOST_UPSERT_SET \
	" ON CONFLICT (id) DO UPDATE SET" \
	" arch = excluded.arch, hostname = excluded.hostname," \
	" first_seen = CASE WHEN julianday(excluded.first_seen) <" \
	"  julianday(hosts.first_seen) THEN excluded.first_seen" \
	"  ELSE hosts.first_seen END," \
	" last_seen = CASE WHEN julianday(excluded.last_seen) >=" \
	"  julianday(hosts.last_seen) THEN excluded.last_seen" \
	"  ELSE hosts.last_seen END"

/* Each row's lookups are scalar subqueries by key (a unique index, or
 * the newest entry of sightings_host), never a join of the rows with a
 * table: planned while a table is small, such a join becomes a hash of the
 * whole table, kept as the generic plan of a prepared statement. */
/* Column COL of row x's host's latest sighting s, JOIN (reports r, ...). */
#define CF_SQL_LATEST(COL, JOIN) \
	" (SELECT " COL " FROM sightings s" JOIN \
	"  WHERE s.host_id = (x.v ->> 0) ORDER BY s.seq DESC LIMIT 1)"
#define CF_SQL_LATEST_REPORT " JOIN reports r ON r.id = s.report_row"

#define CF_SQL_MANY(ROWS) \
	/* [report_id, token id or ""] -> report_id, its host, its content \
	 * (NULLs for one not stored), 1 if the token is live (or none was \
	 * given), else 0. */ \
	[ST_UID_MANY] = \
		"SELECT (x.v ->> 0), (SELECT s.host_id FROM sightings s" \
		"  WHERE s.report_uid = (x.v ->> 0))," \
		" (SELECT r.content FROM sightings s" \
		"  JOIN reports r ON r.id = s.report_row" \
		"  WHERE s.report_uid = (x.v ->> 0))," \
		" CASE WHEN (x.v ->> 1) = '' OR EXISTS (SELECT 1 FROM tokens t" \
		"  WHERE t.id = (x.v ->> 1) AND t.revoked_at IS NULL)" \
		"  THEN 1 ELSE 0 END FROM " ROWS " x", \
	/* [host, arch, hostname, received_at] */ \
	[ST_HOST_UPSERT_MANY] = \
		"INSERT INTO hosts (id, arch, hostname, first_seen, last_seen)" \
		" SELECT (x.v ->> 0), (x.v ->> 1), (x.v ->> 2), (x.v ->> 3)," \
		" (x.v ->> 3) FROM " ROWS " x WHERE true" \
		CF_SQL_HOST_UPSERT_SET, \
	/* [host] -> host, its latest sighting's report_id, that report's \
	 * row, content and configuration fingerprint (NULLs for a host \
	 * without one). */ \
	[ST_HOST_LATEST_MANY] = \
		"SELECT (x.v ->> 0), " CF_SQL_LATEST("s.report_uid", "") "," \
		CF_SQL_LATEST("s.report_row", "") "," \
		CF_SQL_LATEST("r.content", CF_SQL_LATEST_REPORT) "," \
		CF_SQL_LATEST("c.fingerprint", CF_SQL_LATEST_REPORT \
			      " JOIN configs c ON c.id = r.config_id") \
		" FROM " ROWS " x", \
	/* [fingerprint] -> fingerprint, id (NULL: none) */ \
	[ST_CONFIG_FIND_MANY] = \
		"SELECT (x.v ->> 0), (SELECT c.id FROM configs c" \
		" WHERE c.fingerprint = (x.v ->> 0)) FROM " ROWS " x", \
	/* [fingerprint, arch, first_seen] -> fingerprint, id of those \
	 * added (one another writer added meanwhile gives no row) */ \
	[ST_CONFIG_INSERT_MANY] = \
		"INSERT INTO configs (fingerprint, arch, first_seen)" \
		" SELECT (x.v ->> 0), (x.v ->> 1), (x.v ->> 2) FROM " ROWS " x" \
		" WHERE true ON CONFLICT (fingerprint) DO NOTHING" \
		" RETURNING fingerprint, id", \
	/* [host, config id, content, body, collected_at, received_at] \
	 * -> host, the report's row id */ \
	[ST_REPORT_INSERT_MANY] = \
		"INSERT INTO reports (host_id, config_id, content, body," \
		" collected_at, received_at) SELECT (x.v ->> 0)," \
		" CAST((x.v ->> 1) AS BIGINT), (x.v ->> 2), (x.v ->> 3)," \
		" (x.v ->> 4), (x.v ->> 5) FROM " ROWS " x" \
		" RETURNING host_id, id", \
	/* [report_id, report row id, host, received_at, collected_at], \
	 * numbered (seq) in the array's order */ \
	[ST_SIGHTING_INSERT_MANY] = \
		"INSERT INTO sightings (report_uid, report_row, host_id," \
		" received_at, collected_at) SELECT (x.v ->> 0)," \
		" CAST((x.v ->> 1) AS BIGINT), (x.v ->> 2), (x.v ->> 3)," \
		" (x.v ->> 4) FROM " ROWS " x"

#endif
