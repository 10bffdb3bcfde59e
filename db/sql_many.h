/* The statements that store uploads (db/reports.c), written once for both
 * backends over ROWS: the rows of argument ?1, a JSON array whose every
 * element is an array of texts, as a table with one column v (the row);
 * (v ->> N) is its Nth text.  Each backend's SQL table puts its own ROWS
 * in (sql_sqlite.c: json_each, sql_pg.c: the schema's cf_rows), so one
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

#define CF_SQL_MANY(ROWS) \
	/* [report_id] -> report_id, its host, its content (none for one \
	 * not stored).  Each row looks its sighting up by key, whatever \
	 * the planner guesses of the array's size: a join could scan \
	 * every sighting. */ \
	[ST_UID_MANY] = \
		"SELECT y.u, s.host_id, r.content FROM" \
		" (SELECT (x.v ->> 0) AS u, (SELECT s2.seq FROM sightings s2" \
		"  WHERE s2.report_uid = (x.v ->> 0)) AS m FROM " ROWS " x) y" \
		" JOIN sightings s ON s.seq = y.m" \
		" JOIN reports r ON r.id = s.report_row", \
	/* [host, arch, hostname, received_at] */ \
	[ST_HOST_UPSERT_MANY] = \
		"INSERT INTO hosts (id, arch, hostname, first_seen, last_seen)" \
		" SELECT (x.v ->> 0), (x.v ->> 1), (x.v ->> 2), (x.v ->> 3)," \
		" (x.v ->> 3) FROM " ROWS " x WHERE true" \
		CF_SQL_HOST_UPSERT_SET, \
	/* [host] -> host, its latest sighting's report_id, that report's \
	 * row, content and configuration fingerprint (hosts without a \
	 * sighting give no row).  The newest seq first, per host \
	 * (sightings_host), then that one sighting by its key. */ \
	[ST_HOST_LATEST_MANY] = \
		"SELECT y.h, s.report_uid, r.id, r.content, c.fingerprint FROM" \
		" (SELECT (x.v ->> 0) AS h, (SELECT max(s2.seq) FROM sightings" \
		"  s2 WHERE s2.host_id = (x.v ->> 0)) AS m FROM " ROWS " x) y" \
		" JOIN sightings s ON s.seq = y.m" \
		" JOIN reports r ON r.id = s.report_row" \
		" JOIN configs c ON c.id = r.config_id", \
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
