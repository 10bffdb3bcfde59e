/* The SQLite schema: its migrations, append only (a file's user_version
 * is the number it has run), each in a transaction of its own, and
 * migration 2, which recomputes the stored reports' identities.
 * pg_schema.c is PostgreSQL's list, numbered alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db/sqlite_priv.h"
#include "util/diag.h"

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
	{ "PRAGMA application_id = 1128680532;"  /* CF_DB_APP_ID */
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
	/* 3: drift events (issue 13): a host's configuration changed between
	 * two of its reports; the fields, and each published profile's
	 * verdict before and now. */
	{ "CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at TEXT NOT NULL,"
	" host_id TEXT NOT NULL REFERENCES hosts(id),"
	" arch TEXT NOT NULL,"
	" from_report TEXT NOT NULL,"
	" to_report TEXT NOT NULL,"
	" kernel_before TEXT NOT NULL DEFAULT '',"
	" kernel_now TEXT NOT NULL DEFAULT '',"
	" microcode_before TEXT NOT NULL DEFAULT '',"
	" microcode_now TEXT NOT NULL DEFAULT '',"
	" firmware_before TEXT NOT NULL DEFAULT '',"
	" firmware_now TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX events_host ON events(host_id, seq);"
	"CREATE TABLE event_fields ("
	" event INTEGER NOT NULL REFERENCES events(seq),"
	" seq INTEGER NOT NULL,"
	" reg TEXT NOT NULL,"
	" field TEXT NOT NULL,"
	" feature_old TEXT NOT NULL DEFAULT '',"
	" feature_new TEXT NOT NULL DEFAULT '',"
	" old_value INTEGER NOT NULL,"
	" new_value INTEGER NOT NULL,"
	" PRIMARY KEY (event, seq));"
	"CREATE TABLE event_verdicts ("
	" event INTEGER NOT NULL REFERENCES events(seq),"
	" seq INTEGER NOT NULL,"
	" profile TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" pool TEXT NOT NULL DEFAULT '',"
	" member INTEGER NOT NULL CHECK (member IN (0, 1)),"
	" accepted_before INTEGER NOT NULL CHECK (accepted_before IN (0, 1)),"
	" accepted_now INTEGER NOT NULL CHECK (accepted_now IN (0, 1)),"
	" reasons TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (event, seq));", NULL },
};
#define SCHEMA_LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(SCHEMA_LATEST == CF_DB_SCHEMA_LATEST,
	       "one schema version for both backends");

static enum cf_err pragma_int(struct cf_db *db, const char *sql, int *out,
			      struct cf_diag *d)
{
	sqlite3_stmt *s = NULL;
	enum cf_err err = CF_OK;
	int rc = sqlite3_prepare_v2(cf_sq_handle(db), sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	else
		err = cf_db_sqlite_fail(db, d, rc, sql);
	sqlite3_finalize(s);
	return err;
}

enum cf_err cf_db_sqlite_migrate(struct cf_db *db, const char *path,
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
	if ((v > 0 || app != 0) && app != CF_DB_APP_ID)
		return cf_diag_set(d, CF_EDB, "%s: not a cpufleet database",
				   path);
	err = cf_db_version_ok(db, path, v, d);
	if (err != CF_OK)
		return err;
	while (v < SCHEMA_LATEST) {
		char *msg = NULL;
		int rc;

		err = cf_db_st_run(db, ST_BEGIN, d);
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
			cf_db_wtx_end(db, true, err, d);
			if (err != CF_OK)
				return err;
			break;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (migrations[v].run) {
			err = migrations[v].run(db, d);
			if (err != CF_OK)
				return cf_db_wtx_end(db, true, err, d);
			rc = SQLITE_OK;
		} else {
			rc = sqlite3_exec(cf_sq_handle(db), migrations[v].sql, NULL, NULL,
					  &msg);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(cf_sq_handle(db), sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			err = cf_diag_set(d, CF_EDB, "%s: migration to schema "
					  "version %d: %s", path, v + 1,
					  msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			return cf_db_wtx_end(db, true, err, d);
		}
		err = cf_db_wtx_end(db, true, CF_OK, d);
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

int cf_db_sqlite_schema_version(struct cf_db *db)
{
	int v = -1;

	if (pragma_int(db, "PRAGMA user_version", &v, NULL) != CF_OK)
		return -1;
	return v;
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
	int rc = sqlite3_prepare_v2(cf_sq_handle(db), sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return cf_db_sqlite_fail(db, d, rc, sql);
	}
	va_start(ap, fmt);
	rc = cf_db_sqlite_vbind(s, fmt, ap);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	got = rc == SQLITE_ROW;
	err = got || rc == SQLITE_DONE ? CF_OK
				       : cf_db_sqlite_fail(db, d, rc, sql);
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
	int rc = sqlite3_prepare_v2(cf_sq_handle(db), sql, -1, &s, NULL);

	*out = NULL;
	*n = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *text = sqlite3_column_text(s, 2);
		const char *body = text ? (const char *)text : "";
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
		enum cf_err err = cf_db_sqlite_fail(db, d, rc, "reading the reports");
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
			cfg = sqlite3_last_insert_rowid(cf_sq_handle(db));
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
