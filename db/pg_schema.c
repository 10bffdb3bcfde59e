/* The PostgreSQL schema: its migrations, numbered as SQLite's
 * (sqlite_schema.c) and append only, each in a transaction of its own
 * under a transaction-level advisory lock (two servers starting on a new
 * database migrate it once); the version is the one row of cf_schema.
 * And the integrity check. */
#include <stdio.h>
#include <string.h>
#include "db/pg_priv.h"
#include "util/diag.h"

/* The key of the migration lock ("CFLT" as in SQLite's application id). */
#define MIGRATE_LOCK "SELECT pg_advisory_xact_lock(1128680532)"

/* Published means frozen, whoever holds a connection. */
#define FROZEN(table) \
	"CREATE TRIGGER " table "_frozen BEFORE UPDATE OR DELETE ON " table \
	" FOR EACH ROW EXECUTE FUNCTION cf_frozen();" \
	"CREATE TRIGGER " table "_frozen_t BEFORE TRUNCATE ON " table \
	" FOR EACH STATEMENT EXECUTE FUNCTION cf_frozen();"

static const char *const migrations[] = {
	/* 1: the first schema.  Keys sort as bytes (COLLATE "C"), as in
	 * SQLite.  julianday() as SQLite's (days since noon UTC of
	 * 4714-11-24 BC, proleptic Gregorian: the Unix epoch is day
	 * 2440587.5), exact, so that db/sql.c's statements order times
	 * alike on both. */
	"CREATE FUNCTION julianday(t text) RETURNS numeric LANGUAGE sql"
	" STABLE STRICT AS $$SELECT extract(epoch FROM t::timestamptz)"
	" / 86400 + 2440587.5$$;"
	"CREATE TABLE hosts ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" arch text NOT NULL,"
	" hostname text NOT NULL DEFAULT '',"
	" first_seen text NOT NULL,"
	" last_seen text NOT NULL,"
	" labels text NOT NULL DEFAULT '{}'"
	"  CHECK (jsonb_typeof(labels::jsonb) = 'object'));"
	"CREATE TABLE configs ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" fingerprint text NOT NULL UNIQUE,"
	" arch text NOT NULL,"
	" first_seen text NOT NULL);"
	"CREATE TABLE reports ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" host_id text COLLATE \"C\" NOT NULL REFERENCES hosts(id),"
	" config_id bigint NOT NULL REFERENCES configs(id),"
	" content text NOT NULL,"
	" body text NOT NULL,"
	" collected_at text NOT NULL DEFAULT '',"
	" received_at text NOT NULL);"
	"CREATE INDEX reports_host ON reports(host_id, id);"
	"CREATE TABLE sightings ("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" report_uid text NOT NULL UNIQUE,"
	" report_row bigint NOT NULL REFERENCES reports(id),"
	" host_id text COLLATE \"C\" NOT NULL REFERENCES hosts(id),"
	" received_at text NOT NULL,"
	" collected_at text NOT NULL DEFAULT '');"
	"CREATE INDEX sightings_host ON sightings(host_id, seq);"
	"CREATE INDEX sightings_report ON sightings(report_row);"
	"CREATE TABLE pools ("
	" name text COLLATE \"C\" PRIMARY KEY,"
	" labels text NOT NULL DEFAULT '{}'"
	"  CHECK (jsonb_typeof(labels::jsonb) = 'object'),"
	" hosts text NOT NULL DEFAULT '[]'"
	"  CHECK (jsonb_typeof(hosts::jsonb) = 'array'),"
	" created_at text NOT NULL,"
	" updated_at text NOT NULL);"
	"CREATE TABLE profile_versions ("
	" name text COLLATE \"C\" NOT NULL,"
	" version integer NOT NULL CHECK (version >= 1),"
	" body text NOT NULL,"
	" pool text NOT NULL DEFAULT '',"
	" created_at text NOT NULL,"
	" created_by text NOT NULL,"
	" nsources bigint NOT NULL DEFAULT 0 CHECK (nsources >= 0),"
	" PRIMARY KEY (name, version));"
	"CREATE TABLE profile_sources ("
	" name text COLLATE \"C\" NOT NULL,"
	" version integer NOT NULL,"
	" seq bigint NOT NULL,"
	" host text NOT NULL,"
	" report_id text NOT NULL,"
	" PRIMARY KEY (name, version, seq),"
	" FOREIGN KEY (name, version)"
	"  REFERENCES profile_versions(name, version));"
	"CREATE FUNCTION cf_frozen() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION 'published profiles are immutable'; END$$;"
	FROZEN("profile_versions") FROZEN("profile_sources")
	/* A version's source list has the length it was published with: with
	 * the primary key, no source can be added afterwards. */
	"CREATE FUNCTION cf_sealed() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN IF NEW.seq < 0 OR NEW.seq >= coalesce((SELECT nsources"
	" FROM profile_versions WHERE name = NEW.name AND"
	" version = NEW.version), 0) THEN"
	" RAISE EXCEPTION 'published profiles are immutable'; END IF;"
	" RETURN NEW; END$$;"
	"CREATE TRIGGER profile_sources_sealed BEFORE INSERT ON"
	" profile_sources FOR EACH ROW EXECUTE FUNCTION cf_sealed();"
	"CREATE TABLE tokens ("
	" n bigint GENERATED ALWAYS AS IDENTITY,"
	" id text PRIMARY KEY,"
	" hash text NOT NULL UNIQUE,"
	" role integer NOT NULL CHECK (role IN (1, 2, 3)),"
	" host text NOT NULL DEFAULT '',"
	" created_at text NOT NULL,"
	" revoked_at text,"
	" CHECK ((role = 1) = (host <> '')));"
	"CREATE TABLE audit ("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" at text NOT NULL,"
	" actor text NOT NULL,"
	" action text NOT NULL,"
	" object text NOT NULL DEFAULT '',"
	" detail text NOT NULL DEFAULT '{}');",
	/* 2: SQLite's migration 2 recomputed identities that schema 1 had
	 * stored; a PostgreSQL database is made by a build that computes
	 * them canonically already, so this step changes nothing. */
	NULL,
	/* 3: drift events (issue 13). */
	"CREATE TABLE events ("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" at text NOT NULL,"
	" host_id text COLLATE \"C\" NOT NULL REFERENCES hosts(id),"
	" arch text NOT NULL,"
	" from_report text NOT NULL,"
	" to_report text NOT NULL,"
	" kernel_before text NOT NULL DEFAULT '',"
	" kernel_now text NOT NULL DEFAULT '',"
	" microcode_before text NOT NULL DEFAULT '',"
	" microcode_now text NOT NULL DEFAULT '',"
	" firmware_before text NOT NULL DEFAULT '',"
	" firmware_now text NOT NULL DEFAULT '');"
	"CREATE INDEX events_host ON events(host_id, seq);"
	"CREATE TABLE event_fields ("
	" event bigint NOT NULL REFERENCES events(seq),"
	" seq bigint NOT NULL,"
	" reg text NOT NULL,"
	" field text NOT NULL,"
	" feature_old text NOT NULL DEFAULT '',"
	" feature_new text NOT NULL DEFAULT '',"
	" old_value bigint NOT NULL,"
	" new_value bigint NOT NULL,"
	" PRIMARY KEY (event, seq));"
	"CREATE TABLE event_verdicts ("
	" event bigint NOT NULL REFERENCES events(seq),"
	" seq bigint NOT NULL,"
	" profile text NOT NULL,"
	" version integer NOT NULL,"
	" pool text NOT NULL DEFAULT '',"
	" member integer NOT NULL CHECK (member IN (0, 1)),"
	" accepted_before integer NOT NULL CHECK (accepted_before IN (0, 1)),"
	" accepted_now integer NOT NULL CHECK (accepted_now IN (0, 1)),"
	" reasons text NOT NULL DEFAULT '',"
	" PRIMARY KEY (event, seq));",
};
#define SCHEMA_LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(SCHEMA_LATEST == CF_DB_SCHEMA_LATEST,
	       "one schema version for both backends");

/* The database's version: 0 without cf_schema; *OTHERS: tables of
 * someone else in our schema (no cf_schema but tables). */
static enum cf_err version_of(struct cf_db *db, int *v, bool *others,
			      struct cf_diag *d)
{
	long long n = 0;
	bool found = false;
	enum cf_err err;

	*v = 0;
	*others = false;
	err = cf_db_pg_int(db, "SELECT count(*) FROM pg_tables WHERE"
			   " schemaname = current_schema() AND"
			   " tablename = 'cf_schema'", &n, &found, d);
	if (err != CF_OK)
		return err;
	if (n == 0) {
		err = cf_db_pg_int(db, "SELECT count(*) FROM pg_tables WHERE"
				   " schemaname = current_schema()", &n,
				   &found, d);
		*others = err == CF_OK && n > 0;
		return err;
	}
	err = cf_db_pg_int(db, "SELECT max(version) FROM cf_schema", &n,
			   &found, d);
	if (err == CF_OK)
		*v = (int)n;
	return err;
}

int cf_db_pg_schema_version(struct cf_db *db)
{
	int v = -1;
	bool others;

	if (version_of(db, &v, &others, NULL) != CF_OK)
		return -1;
	return v;
}

/* One migration step, V to V+1, inside the lock; *DONE: another process
 * was first. */
static enum cf_err migrate_step(struct cf_db *db, int *v, struct cf_diag *d)
{
	const char *where = ((struct cf_pq *)db->be)->where;
	char sql[96];
	bool others;
	enum cf_err err = cf_db_pg_exec(db, MIGRATE_LOCK, "migration lock", d);

	/* Another process may have migrated while we waited. */
	if (err == CF_OK)
		err = version_of(db, v, &others, d);
	if (err != CF_OK || *v >= SCHEMA_LATEST)
		return err;
	if (*v == 0 && others)
		return cf_diag_set(d, CF_EDB, "%s: not a cpufleet database",
				   where);
	if (*v == 0)
		err = cf_db_pg_exec(db, "CREATE TABLE cf_schema (version"
				    " integer NOT NULL); INSERT INTO cf_schema"
				    " VALUES (0)", "schema version table", d);
	if (err == CF_OK && migrations[*v])
		err = cf_db_pg_exec(db, migrations[*v], "migration", d);
	snprintf(sql, sizeof(sql), "UPDATE cf_schema SET version = %d", *v + 1);
	if (err == CF_OK)
		err = cf_db_pg_exec(db, sql, "schema version", d);
	if (err != CF_OK) {
		char why[CF_DIAG_MAX];

		snprintf(why, sizeof(why), "%s", d ? d->msg : "");
		return cf_diag_set(d, err, "%s: migration to schema version %d:"
				   " %s", where, *v + 1, why);
	}
	++*v;
	return CF_OK;
}

enum cf_err cf_db_pg_migrate(struct cf_db *db, struct cf_diag *d)
{
	const char *where = ((struct cf_pq *)db->be)->where;
	enum cf_err err;
	bool others;
	int v = 0;

	err = version_of(db, &v, &others, d);
	if (err != CF_OK)
		return err;
	if (v == 0 && others)
		return cf_diag_set(d, CF_EDB, "%s: not a cpufleet database",
				   where);
	err = cf_db_version_ok(db, where, v, d);
	if (err != CF_OK)
		return err;
	while (err == CF_OK && v < SCHEMA_LATEST) {
		err = cf_db_st_run(db, ST_BEGIN, d);
		if (err != CF_OK)
			return err;
		err = migrate_step(db, &v, d);
		err = cf_db_wtx_end(db, true, err, d);
	}
	if (err == CF_OK && v > SCHEMA_LATEST)
		err = cf_diag_set(d, CF_EDB, "%s: schema version %d is newer "
				  "than this build's %d", where, v,
				  SCHEMA_LATEST);
	return err;
}

/* ---- the integrity check ---- */

/* Each foreign key: its table, the referenced one, its name, the join
 * condition and the "referencing columns not null" condition. */
#define FOREIGN_KEYS \
	"SELECT c.conrelid::regclass::text, c.confrelid::regclass::text," \
	" c.conname, string_agg(format('p.%I = t.%I', pa.attname," \
	" ta.attname), ' AND ' ORDER BY k.n)," \
	" string_agg(format('t.%I IS NOT NULL', ta.attname), ' AND '" \
	" ORDER BY k.n)" \
	" FROM pg_constraint c" \
	" CROSS JOIN LATERAL unnest(c.conkey, c.confkey)" \
	"  WITH ORDINALITY AS k(a, b, n)" \
	" JOIN pg_attribute ta ON ta.attrelid = c.conrelid AND ta.attnum = k.a" \
	" JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.b" \
	" WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace" \
	" GROUP BY c.oid, c.conrelid, c.confrelid, c.conname ORDER BY 3"

/* The first row of SQL's as "<col 0> <col 1>" into D (CF_EDB), if any. */
static enum cf_err none_expected(struct cf_db *db, const char *sql,
				 const char *what, struct cf_diag *d)
{
	PGresult *res = PQexec(cf_pq_conn(db), sql);
	enum cf_err err = CF_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		err = cf_db_pg_fail(db, res, what, d);
	else if (PQntuples(res) > 0)
		err = cf_diag_set(d, CF_EDB, "database: %s: %s %s", what,
				  PQgetvalue(res, 0, 0),
				  PQnfields(res) > 1 ? PQgetvalue(res, 0, 1)
						     : "");
	PQclear(res);
	return err;
}

/* What a PostgreSQL database can be checked for from a client: the schema
 * version is this build's; no constraint is left NOT VALID and no index
 * invalid (pg_constraint.convalidated, pg_index.indisvalid); and, as
 * SQLite's foreign_key_check, every foreign key's rows have their
 * referenced row (a session with session_replication_role = replica
 * skips the checks that would have refused them).  Page-level corruption
 * is the server's business (data checksums, pg_amcheck). */
enum cf_err cf_db_pg_integrity(struct cf_db *db, struct cf_diag *d)
{
	int v = cf_db_pg_schema_version(db);
	PGresult *res;
	enum cf_err err;

	if (v != SCHEMA_LATEST)
		return cf_diag_set(d, CF_EDB, "database: schema version %d, "
				   "not %d", v, SCHEMA_LATEST);
	err = none_expected(db, "SELECT conrelid::regclass::text, conname"
			    " FROM pg_constraint WHERE NOT convalidated AND"
			    " connamespace = current_schema()::regnamespace",
			    "constraint not validated", d);
	if (err == CF_OK)
		err = none_expected(db, "SELECT c.relname, x.relname FROM"
				    " pg_index i JOIN pg_class x ON"
				    " x.oid = i.indexrelid JOIN pg_class c ON"
				    " c.oid = i.indrelid WHERE c.relnamespace ="
				    " current_schema()::regnamespace AND NOT"
				    " (i.indisvalid AND i.indisready)",
				    "index invalid", d);
	if (err != CF_OK)
		return err;
	res = PQexec(cf_pq_conn(db), FOREIGN_KEYS);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		err = cf_db_pg_fail(db, res, "foreign keys", d);
	for (int i = 0; err == CF_OK && i < PQntuples(res); i++) {
		char sql[1024], what[256];

		snprintf(sql, sizeof(sql), "SELECT '%s row', 'refers to a"
			 " missing %s row' FROM %s t WHERE %s AND NOT EXISTS"
			 " (SELECT 1 FROM %s p WHERE %s) LIMIT 1",
			 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			 PQgetvalue(res, i, 0), PQgetvalue(res, i, 4),
			 PQgetvalue(res, i, 1), PQgetvalue(res, i, 3));
		snprintf(what, sizeof(what), "foreign key %s",
			 PQgetvalue(res, i, 2));
		err = none_expected(db, sql, what, d);
	}
	PQclear(res);
	return err;
}
