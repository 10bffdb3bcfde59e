/* The SQL of the statements both backends run alike (db_priv.h's ids):
 * written once, in the dialect the two share: ?N parameters (pg.c
 * renames them $N), julianday() to order times (text order is wrong when
 * only one side has a fraction; PostgreSQL's schema defines the same
 * function, pg_schema.c), a LIMIT of INT64_MAX for "all", upserts with ON
 * CONFLICT and ids with RETURNING.  What differs (transactions, pool
 * membership by JSON, the profile lock) is each backend's own table,
 * sql_sqlite.c and sql_pg.c; cf_db_sql picks. */
#include "db/db_priv.h"

#define HOST_SELECT \
	"SELECT h.id, h.arch, h.hostname, h.first_seen, h.last_seen," \
	" h.labels, (SELECT count(*) FROM reports r WHERE r.host_id = h.id)," \
	" (SELECT count(*) FROM sightings s WHERE s.host_id = h.id)" \
	" FROM hosts h "
#define PROFILE_SELECT \
	"SELECT p.name, p.version, p.pool, p.created_at, p.created_by "

static const char *const shared[ST_COUNT] = {
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SP] = "SAVEPOINT cf_sp",
	[ST_SP_RELEASE] = "RELEASE cf_sp",
	[ST_SP_ROLLBACK] = "ROLLBACK TO cf_sp",
	[ST_OP] = "SAVEPOINT cf_op",
	[ST_OP_RELEASE] = "RELEASE cf_op",
	[ST_OP_ROLLBACK] = "ROLLBACK TO cf_op",
	[ST_AUDIT_INSERT] =
		"INSERT INTO audit (at, actor, action, object, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_AUDIT_LIST] =
		"SELECT seq, at, actor, action, object, detail FROM audit"
		" ORDER BY seq DESC LIMIT ?1",
	[ST_TOKEN_INSERT] =
		"INSERT INTO tokens (id, hash, role, host, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
	[ST_TOKEN_LOOKUP] =
		"SELECT id, role, host, created_at FROM tokens"
		" WHERE hash = ?1 AND revoked_at IS NULL",
	[ST_TOKEN_GET] =
		"SELECT revoked_at IS NOT NULL FROM tokens WHERE id = ?1",
	[ST_TOKEN_REVOKE] =
		"UPDATE tokens SET revoked_at = ?2"
		" WHERE id = ?1 AND revoked_at IS NULL",
	[ST_REPORT_BODY] =
		"SELECT r.body FROM sightings s JOIN reports r"
		" ON r.id = s.report_row WHERE s.report_uid = ?1",
	[ST_HOST_LIST] = HOST_SELECT "ORDER BY h.id",
	[ST_HOST_GET] = HOST_SELECT "WHERE h.id = ?1",
	[ST_HOST_EXISTS] = "SELECT 1 FROM hosts WHERE id = ?1",
	[ST_HOST_SET_LABELS] = "UPDATE hosts SET labels = ?2 WHERE id = ?1",
	[ST_HOST_REPORT] =
		"SELECT s.report_uid, s.received_at, s.collected_at, r.content,"
		" c.fingerprint, r.body," CF_SQL_PREV_CONTENT
		" FROM sightings s JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id"
		" WHERE s.host_id = ?1 AND"
		" (CAST(?2 AS TEXT) IS NULL OR"
		" julianday(s.received_at) <= julianday(?2))"
		" ORDER BY s.seq DESC LIMIT 1",
	[ST_HOST_HISTORY] =
		"SELECT report_uid, received_at, collected_at, content,"
		" fingerprint, prev FROM ("
		" SELECT s.seq, s.report_uid, s.received_at, s.collected_at,"
		"  r.content, c.fingerprint,"
		"  lag(r.content) OVER (ORDER BY s.seq) AS prev"
		" FROM sightings s JOIN reports r ON r.id = s.report_row"
		" JOIN configs c ON c.id = r.config_id WHERE s.host_id = ?1) x"
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
		" (SELECT count(*) FROM tokens),"
		" (SELECT count(*) FROM events),"
		" (SELECT coalesce(max(seq), 0) FROM audit)",
	[ST_EVENT_INSERT] =
		"INSERT INTO events (at, host_id, arch, from_report, to_report,"
		" kernel_before, kernel_now, microcode_before, microcode_now,"
		" firmware_before, firmware_now)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" RETURNING seq",
	[ST_EVENT_FIELD_INSERT] =
		"INSERT INTO event_fields (event, seq, reg, field, feature_old,"
		" feature_new, old_value, new_value)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_EVENT_VERDICT_INSERT] =
		"INSERT INTO event_verdicts (event, seq, profile, version, pool,"
		" member, accepted_before, accepted_now, reasons)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_EVENT_LIST] =
		"SELECT seq, at, host_id, arch, from_report, to_report,"
		" kernel_before, kernel_now, microcode_before, microcode_now,"
		" firmware_before, firmware_now FROM events"
		" WHERE (CAST(?1 AS TEXT) IS NULL OR"
		" julianday(at) >= julianday(?1))"
		" AND (CAST(?2 AS TEXT) IS NULL OR host_id = ?2)"
		" ORDER BY seq DESC LIMIT ?3",
	[ST_EVENT_FIELDS] =
		"SELECT reg, field, feature_old, feature_new, old_value,"
		" new_value"
		" FROM event_fields WHERE event = ?1 ORDER BY seq",
	[ST_EVENT_VERDICTS] =
		"SELECT profile, version, pool, member, accepted_before,"
		" accepted_now, reasons FROM event_verdicts WHERE event = ?1"
		" ORDER BY seq",
};

const char *cf_db_sql(const char *const dialect[ST_COUNT], enum cf_db_st id)
{
	return dialect[id] ? dialect[id] : shared[id];
}
