#!/usr/bin/env python3
"""Integration tests of cpufleet's central service: real servers on
temporary databases, driven over HTTP(S), by the agent and by the CLI.

    python3 tests/integration/run.py build/cpufleet [--backend B] [CASE...]

Run from anywhere (it changes to the repository root).  Prints "ok - NAME",
"FAIL - NAME: why" or "skip - NAME: why" per case, then "N passed, N failed,
N skipped" (the line tools/check.sh sums); exits 1 if any case failed, 2 if
the suite cannot run.  CASE arguments run only the cases
whose name contains one of them.  CPUFLEET_IT_KEEP=1 keeps the temporary
directories (databases, server logs) for a look afterwards.

Python 3 standard library only.  Every case starts its own server
(`cpufleet server --listen 127.0.0.1:0 --db TMP/db.sqlite`) and stops it
with SIGTERM, checking that it exits 0, unless the case kills it.

--backend postgresql runs the same cases on PostgreSQL: a throw-away
cluster in --pg-dir (tests/lib/pgcluster.py; build/pg by default) and a
fresh database per case in place of each SQLite file.  Cases about SQLite
files themselves say "skip - NAME: why".  Without server binaries the run
prints "skip - integration-postgresql: why" and exits 0.
"""

import copy
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = None
FLEET = ["a72-01", "a72-02", "n1-01", "n1-02", "v1-01", "v1-02"]
FLEET_DIR = "tests/data/fleet"
RW_DIR = "tests/data/arm64/real-writable"
LAB_DIR = "tests/data/lab/reports"
SPOOL_RE = re.compile(r"^[0-9]{12}\.json$")
TOKEN_RE = re.compile(r"^cft_([0-9a-f]+)_[0-9a-f]+$")
# Requests answered within this; a hung server fails the case, not the run.
HTTP_TIMEOUT = 15
# --backend postgresql: the cluster (tests/lib/pgcluster.Cluster) and psql.
PG = None
PSQL = None
CASE_TMP = None     # the running case's directory (server logs of URLs)


class Fail(Exception):
    """A case's expectation that did not hold."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %s, want %s" % (what, short(got), short(want)))


def short(v, n=200):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


# ---- processes -------------------------------------------------------------

_live = []          # servers and agents still running, killed at exit


def cli(*args, timeout=60, env=None, check_rc=None):
    """Runs the binary; returns (rc, stdout, stderr) as text."""
    e = dict(os.environ)
    e.pop("CPUFLEET_TOKEN", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN] + [str(a) for a in args], capture_output=True,
                       timeout=timeout, env=e, cwd=ROOT)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if check_rc is not None and p.returncode != check_rc:
        raise Fail("cpufleet %s: exit %d, want %d (stderr: %s)" % (
            " ".join(str(a) for a in args[:3]), p.returncode, check_rc,
            short(err.strip())))
    return p.returncode, out, err


def token(db, role, host=None):
    """A new token of ROLE in database DB: (token, token id)."""
    args = ["token", "create", "--db", db, "--role", role]
    if host:
        args += ["--host", host]
    _, out, _ = cli(*args, check_rc=0)
    t = out.strip()
    m = TOKEN_RE.match(t)
    check(m, "token create printed %r, not a cft_ID_SECRET token" % short(t))
    return t, m.group(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`cpufleet server` on DB; url is where it listens."""

    def __init__(self, db, extra=(), listen="127.0.0.1:0", binary=None):
        self.db = db
        self.log = (os.path.join(CASE_TMP or ".", db.rsplit("/", 1)[1])
                    if is_url(db) else db) + ".server.log"
        args = [binary or BIN, "server", "--listen", listen, "--db", db] + \
            list(extra)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                         stderr=logf, cwd=ROOT)
        _live.append(self.proc)
        line = b""
        deadline = time.monotonic() + 15
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not line:
                break
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                b = os.read(fd, 1)
                if not b:
                    break
                line += b
        text = line.decode("utf-8", "replace")
        m = re.search(r"listening on (https?)://(\S+):(\d+)", text)
        if not m:
            self.proc.kill()
            self.proc.wait()
            raise Fail("server did not start: stdout %r, log: %s" % (
                text, self.log_tail()))
        self.scheme = m.group(1)
        self.port = int(m.group(3))
        self.url = "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def log_tail(self, n=400):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:].strip()
        except OSError:
            return "(no log)"

    def stop(self, sig=signal.SIGTERM):
        """SIG; the server must exit 0 within 15 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Fail("server did not stop within 15 s of signal %d" % sig)
        finally:
            self.proc.stdout.close()
        if self.proc in _live:
            _live.remove(self.proc)
        eq(rc, 0, "server exit status after signal %d (log: %s)" % (
            sig, self.log_tail()))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        if self.proc in _live:
            _live.remove(self.proc)


# ---- HTTP ------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Fail("HTTP %d answer is not JSON: %r" % (
                self.status, short(self.body)))

    def error(self):
        """The "error" text of a JSON error answer."""
        d = self.json()
        check(isinstance(d, dict) and isinstance(d.get("error"), str) and
              d["error"], "HTTP %d answer has no \"error\" text: %s" % (
                  self.status, short(self.body)))
        return d["error"]

    def __repr__(self):
        return "HTTP %d %s" % (self.status, short(self.body, 160))


def started(tmp):
    """The setup most cases share: a fresh database in TMP with an admin
    and a reader token, and a server on it: (db, admin, reader, server,
    url)."""
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    rdr, _ = token(db, "reader")
    s = Server(db)
    return db, adm, rdr, s, s.url


def request(url, method, path, body=None, tok=None, headers=None, ctx=None,
            timeout=HTTP_TIMEOUT, raw_auth=None):
    """One request on a new connection.  BODY: bytes, str, a JSON-able
    object, or an iterator of bytes (sent chunked)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port,
                                           timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port,
                                          timeout=timeout)
    h = dict(headers or {})
    if tok:
        h["Authorization"] = "Bearer " + tok
    if raw_auth is not None:
        h["Authorization"] = raw_auth
    if body is not None and not isinstance(body, (bytes, str)) and \
            not hasattr(body, "__next__"):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    try:
        try:
            conn.request(method, path, body=body, headers=h)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) before reading a whole body and
            # close: its answer can still be there to read.
            if conn.sock is None:
                raise
            try:
                r = conn.getresponse()
            except (OSError, http.client.HTTPException, AttributeError):
                r = None
            if r is None:
                raise
        else:
            r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()},
                    data)
    finally:
        conn.close()


def post_headers_only(url, path, tok, length, timeout=5):
    """POST announcing a LENGTH-byte body but sending none of it: a server
    that checks Content-Length answers without waiting for the body."""
    u = urllib.parse.urlsplit(url)
    head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
                path, u.hostname, u.port, tok, length))
    with socket.create_connection((u.hostname, u.port), timeout) as sk:
        sk.sendall(head.encode())
        r = http.client.HTTPResponse(sk)
        r.begin()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()},
                    r.read())


def want(r, status, what, substr=None):
    """R has STATUS (an int, or a class like "2xx"), and with SUBSTR an
    error text containing it (or one of them, for a tuple)."""
    ok = (r.status // 100 == int(status[0])) if isinstance(status, str) \
        else r.status == status
    check(ok, "%s: %r, want %s" % (what, r, status))
    if substr is not None:
        text = r.error()
        subs = substr if isinstance(substr, tuple) else (substr,)
        check(any(s in text for s in subs),
              "%s: error %r does not name %s" % (what, text,
                                                 " or ".join(subs)))
    return r


# ---- documents and the database --------------------------------------------

_docs = {}


def doc(path):
    if path not in _docs:
        with open(os.path.join(ROOT, path), "rb") as f:
            _docs[path] = json.loads(f.read())
    return copy.deepcopy(_docs[path])


def fleet(host):
    return doc("%s/%s.json" % (FLEET_DIR, host))


def report(host="n1-01", report_id=None, new_id=None, kernel=None,
           src=None):
    """A fleet report (or SRC), with REPORT_ID, host.id NEW_ID and
    host.kernel KERNEL (a different kernel is a different content)."""
    d = doc(src) if src else fleet(host)
    if report_id is not None:
        d["report_id"] = report_id
    if new_id is not None:
        d["host"]["id"] = new_id
    if kernel is not None:
        d["host"]["kernel"] = kernel
    return d


def ms_after(t, ms):
    """RFC 3339 UTC time T (with milliseconds) plus MS milliseconds."""
    dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    dt += datetime.timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        dt.microsecond // 1000)


def upload(url, tok, d):
    return request(url, "POST", "/v1/reports", d, tok)


def is_url(db):
    return db.startswith(("postgresql://", "postgres://"))


def new_db(tmp, name="db"):
    """A fresh database for the case in TMP: a SQLite file there, or with
    --backend postgresql a new database in the cluster (its URL)."""
    if PG is None:
        return os.path.join(tmp, name + ".sqlite")
    return PG.createdb("it_%s_%s" % (os.path.basename(tmp),
                                     re.sub(r"[^a-z0-9]", "_", name.lower())))


def sql_for(db, sql):
    """SQL is one text for both backends, or {"sqlite": ..., "pg": ...}."""
    if isinstance(sql, dict):
        return sql["pg" if is_url(db) else "sqlite"]
    return sql


class DbError(Exception):
    """A statement the database refused; the text is its error."""


def pg_rows(url, sql):
    """Rows of SQL on URL through psql, as tuples; digit-only fields are
    ints (as sqlite3 gives them for integer columns)."""
    p = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-F", "\x1f", "-R",
                        "\x1e", "-v", "ON_ERROR_STOP=1", "-d", url, "-c",
                        sql], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise DbError(p.stderr.strip())
    out = p.stdout[:-1] if p.stdout.endswith("\n") else p.stdout
    rows = []
    for rec in out.split("\x1e") if out else []:
        rows.append(tuple(int(v) if re.fullmatch(r"-?[0-9]+", v) else v
                          for v in rec.split("\x1f")))
    return rows


def db_connect(path):
    c = sqlite3.connect(path, timeout=30)
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def db_tables(c):
    return [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def db_snapshot(path):
    """Every table: its row count and a hash of every row, in rowid order
    (PostgreSQL: in the order of the rows' text)."""
    snap = {}
    if is_url(path):
        for (t,) in pg_rows(path, "SELECT tablename FROM pg_tables WHERE "
                            "schemaname = 'public' ORDER BY 1"):
            rows = pg_rows(path, 'SELECT x::text FROM "%s" x ORDER BY 1' % t)
            h = hashlib.sha256(repr(rows).encode())
            snap[t] = (len(rows), h.hexdigest()[:16])
        return snap
    c = db_connect(path)
    try:
        for t in db_tables(c):
            h = hashlib.sha256()
            n = 0
            for row in c.execute('SELECT * FROM "%s" ORDER BY rowid' % t):
                h.update(repr(row).encode())
                n += 1
            snap[t] = (n, h.hexdigest()[:16])
        return snap
    finally:
        c.close()


def snap_diff(a, b):
    return ", ".join("%s %s -> %s rows%s" % (
        t, a.get(t, (0,))[0], b.get(t, (0,))[0],
        "" if a.get(t, (0,))[0] != b.get(t, (0,))[0] else " (changed)")
        for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t))


def db_query(path, sql):
    """The rows of SQL (see sql_for); DbError if the database refuses it."""
    sql = sql_for(path, sql)
    if is_url(path):
        return pg_rows(path, sql)
    c = db_connect(path)
    try:
        try:
            rows = c.execute(sql).fetchall()
            c.commit()
            return rows
        except sqlite3.DatabaseError as e:
            c.rollback()
            raise DbError(str(e))
    finally:
        c.close()


def sightings_by_uid(path):
    """report_uid -> number of sightings rows (schema of db/db.c)."""
    return dict(db_query(path, "SELECT report_uid, count(*) FROM sightings "
                         "GROUP BY report_uid"))


def integrity(path):
    """SQLite: integrity_check and foreign_key_check.  PostgreSQL checks
    its constraints on every write; what can be asked afterwards is that
    none of them was left unvalidated."""
    if is_url(path):
        eq(pg_rows(path, "SELECT conname FROM pg_constraint c JOIN "
                   "pg_namespace n ON n.oid = c.connamespace WHERE "
                   "n.nspname = 'public' AND NOT c.convalidated"), [],
           "constraints not validated")
        return
    c = db_connect(path)
    try:
        ic = [r[0] for r in c.execute("PRAGMA integrity_check")]
        fk = c.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        c.close()
    eq(ic, ["ok"], "PRAGMA integrity_check")
    eq(fk, [], "PRAGMA foreign_key_check")


SAMPLE_RE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?,?)\})?'
    r' (\S+)(?: (-?[0-9]+))?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_metrics(text):
    """Validates Prometheus text format 0.0.4; returns {(name, labels): v}
    with labels a sorted tuple of (key, value)."""
    check(text.endswith("\n"), "/metrics does not end with a newline")
    types, helps, samples = {}, set(), {}
    seen_families, current = set(), None
    for i, line in enumerate(text.split("\n")[:-1], 1):
        where = "/metrics line %d %r" % (i, short(line, 100))
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                check(re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", name),
                      where + ": bad metric name")
                if parts[1] == "HELP":
                    check(name not in helps, where + ": second HELP")
                    check(len(parts) == 4 and parts[3], where + ": no text")
                    helps.add(name)
                else:
                    check(name not in types, where + ": second TYPE")
                    check(name not in seen_families,
                          where + ": TYPE after the family's samples")
                    check(len(parts) == 4 and parts[3] in (
                        "counter", "gauge", "histogram", "summary",
                        "untyped"), where + ": bad type")
                    types[name] = parts[3]
            continue
        check(line.strip(), where + ": empty line")
        m = SAMPLE_RE.match(line)
        check(m, where + ": not `name{labels} value`")
        name, labels, value = m.group(1), m.group(2), m.group(3)
        try:
            v = float(value)
        except ValueError:
            raise Fail(where + ": value is not a number")
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and name[:-len(suf)] in types and \
                    types[name[:-len(suf)]] in ("histogram", "summary"):
                fam = name[:-len(suf)]
        check(fam in types, where + ": no TYPE line before it")
        if fam != current:
            check(fam not in seen_families,
                  where + ": samples of %s not grouped together" % fam)
            seen_families.add(fam)
            current = fam
        if types[fam] == "counter":
            check(v >= 0, where + ": negative counter")
        key = (name, tuple(sorted(LABEL_RE.findall(labels or ""))))
        check(key not in samples, where + ": duplicate sample")
        samples[key] = v
    for name in types:
        check(name in helps, "/metrics: %s has TYPE but no HELP" % name)
    return samples


def metric(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def metrics(url):
    r = want(request(url, "GET", "/metrics"), 200, "GET /metrics")
    ctype = r.headers.get("content-type", "")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
          "/metrics Content-Type %r, want text/plain; version=0.0.4" % ctype)
    return parse_metrics(r.body.decode("utf-8"))


GAUGES = ("cpufleet_hosts", "cpufleet_reports", "cpufleet_report_sightings",
          "cpufleet_configs", "cpufleet_pools", "cpufleet_profile_versions")


def gauges(url):
    s = metrics(url)
    return {g: metric(s, g) for g in GAUGES}


def spool_entries(d):
    try:
        return sorted(n for n in os.listdir(d) if SPOOL_RE.match(n))
    except FileNotFoundError:
        return []


def rejected_entries(d):
    try:
        return sorted(os.listdir(os.path.join(d, "rejected")))
    except FileNotFoundError:
        return []


def spool_ids(d):
    ids = []
    for n in spool_entries(d):
        with open(os.path.join(d, n), "rb") as f:
            ids.append(json.loads(f.read())["report_id"])
    return ids


def api_routes():
    """(method, pattern, access) of every route in the server's table, as
    `cpufleet server --routes` lists it (METHOD PATH ACCESS NAME a line)."""
    _, out, _ = cli("server", "--routes", check_rc=0)
    routes = [tuple(line.split()[:3]) for line in out.splitlines()
              if len(line.split()) == 4]
    check(routes, "no routes listed by cpufleet server --routes")
    return routes


# ---- the cases -------------------------------------------------------------

def case_list():
    """A list of (name, function) cases, and the decorator @case(NAME)
    that appends to it."""
    cases = []

    def case(name, sqlite_only=None, pg_only=None):
        """SQLITE_ONLY: why the case is about SQLite files alone (skipped,
        by name, with --backend postgresql); PG_ONLY the reverse."""
        def reg(fn):
            fn.sqlite_only = sqlite_only
            fn.pg_only = pg_only
            cases.append((name, fn))
            return fn
        return reg
    return cases, case


CASES, case = case_list()


@case("upload contract: 201 new, 200 known, seen_again, 409 conflict, "
      "host history and ?at=")
def t_upload(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    s = Server(db)
    u = s.url
    r = want(upload(u, adm, report("n1-01", "up-a")), 201, "first upload")
    d = r.json()
    eq((d.get("report_id"), d.get("host"), d.get("status")),
       ("up-a", "n1-01", "new"), "first upload answer")
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                   d.get("received_at", "")), "received_at %r" % d)
    r = want(upload(u, adm, report("n1-01", "up-a")), 200, "same report_id")
    eq(r.json().get("status"), "known", "same report_id again: status")
    # Same content under a new id: a sighting, not a new report.
    again = report("n1-01", "up-b")
    again["collected_at"] = "2026-11-23T00:00:00Z"
    r = want(upload(u, adm, again), 201, "new report_id, same content")
    eq(r.json().get("status"), "seen_again", "new id, same content: status")
    h = want(request(u, "GET", "/v1/hosts/n1-01", tok=adm), 200,
             "GET /v1/hosts/n1-01").json()
    eq(h.get("id"), "n1-01", "host id")
    eq(h.get("reports"), 1, "host's distinct reports after a seen_again")
    eq(h.get("uploads"), 2, "host's uploads (sightings)")
    hist = [x.get("report_id") for x in h.get("history", [])]
    eq(sorted(hist), ["up-a", "up-b"], "history report ids")
    eq(hist[0], "up-b", "history is newest first")
    eq([x.get("changed") for x in h["history"]], [False, True],
       "history 'changed' flags (newest first)")
    rep = h.get("report")
    check(isinstance(rep, dict), "GET host has no \"report\" object")
    eq(rep.get("schema"), "cpufleet.report/v1", "stored report schema")
    eq(rep.get("host", {}).get("id"), "n1-01", "stored report host.id")
    eq(rep.get("arm64", {}).get("id_regs"),
       fleet("n1-01")["arm64"]["id_regs"], "stored report id_regs")
    # The same id with other content is a conflict and changes nothing.
    before = db_snapshot(db)
    want(upload(u, adm, report("n1-01", "up-a", kernel="9.9.9")), 409,
         "same report_id, other content")
    want(upload(u, adm, report("v1-01", "up-a")), 409,
         "same report_id, other host")
    after = db_snapshot(db)
    check(before == after, "a 409 changed the database: " +
          snap_diff(before, after))
    first_at = h["history"][0]["received_at"]
    time.sleep(0.02)
    r = want(upload(u, adm, report("n1-01", "up-c", kernel="6.12.99")), 201,
             "changed content")
    eq(r.json().get("status"), "new", "changed content: status")
    second_at = r.json()["received_at"]
    check(second_at > first_at, "received_at did not advance: %s, %s" % (
        first_at, second_at))
    h = want(request(u, "GET", "/v1/hosts/n1-01", tok=adm), 200,
             "GET host").json()
    eq((h.get("reports"), h.get("uploads")), (2, 3), "reports, uploads")
    eq(h["report"]["host"].get("kernel"), "6.12.99", "latest report kernel")
    eq(h["history"][0].get("changed"), True, "newest sighting changed")
    # What did n1-01 offer then?
    for at, kernel, what in ((first_at, "6.12.57", "at the seen_again"),
                             (second_at, "6.12.99", "at the new report"),
                             ("2099-01-01T00:00:00Z", "6.12.99", "in 2099")):
        q = "/v1/hosts/n1-01?at=" + urllib.parse.quote(at)
        hh = want(request(u, "GET", q, tok=adm), 200, "GET " + q).json()
        eq(hh["report"]["host"].get("kernel"), kernel, "report " + what)
    # Between the two (1 ms after the seen_again): the first content.
    t = ms_after(first_at, 1)
    check(t < second_at, "no millisecond between %s and %s" % (
        first_at, second_at))
    hh = want(request(u, "GET", "/v1/hosts/n1-01?at=" + t, tok=adm), 200,
              "GET ?at= between").json()
    eq(hh["report"]["host"].get("kernel"), "6.12.57", "report between")
    eq(hh.get("sighting", {}).get("report_id"), "up-b", "sighting between")
    eq(hh.get("at"), t, "the answer's at")
    # Whole seconds are accepted too (the second after the new report).
    t = ms_after(second_at, 1000)[:19] + "Z"
    hh = want(request(u, "GET", "/v1/hosts/n1-01?at=" + t, tok=adm), 200,
              "GET ?at= in whole seconds").json()
    eq((hh.get("at"), hh["sighting"].get("report_id")),
       (t[:19] + ".000Z", "up-c"), "?at= in whole seconds")
    want(request(u, "GET", "/v1/hosts/n1-01?at=2000-01-01T00:00:00Z",
                 tok=adm), 404, "?at= before the first report", "n1-01")
    want(request(u, "GET", "/v1/hosts/n1-01?history=1", tok=adm), 200,
         "?history=1")
    hh = request(u, "GET", "/v1/hosts/n1-01?history=1", tok=adm).json()
    eq(len(hh.get("history", [])), 1, "?history=1 length")
    # No report_id: the document itself is the key.
    plain = fleet("v1-01")
    r1 = want(upload(u, adm, plain), 201, "upload without report_id")
    r2 = want(upload(u, adm, plain), 200, "same upload without report_id")
    eq(r1.json()["report_id"], r2.json()["report_id"],
       "derived report_id is stable")
    eq(r2.json()["status"], "known", "repeated id-less upload")
    hosts = want(request(u, "GET", "/v1/hosts", tok=adm), 200,
                 "GET /v1/hosts").json().get("hosts", [])
    eq([x.get("id") for x in hosts], ["n1-01", "v1-01"], "hosts listed")
    eq([(x.get("arch"), x.get("reports"), x.get("uploads")) for x in hosts],
       [("arm64", 2, 3), ("arm64", 1, 1)], "hosts' arch, reports, uploads")
    eq(hosts[0].get("hostname"), "n1-01.dc1", "hostname")
    want(request(u, "GET", "/v1/hosts/nosuch", tok=adm), 404,
         "unknown host", "nosuch")
    uids = sightings_by_uid(db)
    eq(sorted(uids), sorted(["up-a", "up-b", "up-c", r1.json()["report_id"]]),
       "sightings.report_uid in the file")
    eq(db_query(db, "SELECT count(*) FROM reports")[0][0], 3,
       "reports rows in the file")
    s.stop()
    integrity(db)


def build_with_extra_cap(tmp):
    """cpufleet built from this tree into TMP/build with one capability
    more in a copy of arch/caps/caps.txt: a line like the file's last one,
    for every architecture, numbered above every capability it lists (the
    catalogue wants ascending numbers).  Returns (binary, capability name)."""
    name = "KVM_CAP_CPUFLEET_TEST_EXTRA"
    with open(os.path.join(ROOT, "arch/caps/caps.txt")) as f:
        text = f.read()
    rows = [ln.split() for ln in text.splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]
    top = max(int(r[1]) for r in rows)
    # NAME NUMBER ARCHES and the rest of the columns as the last line has.
    extra = [name, str(top + 100), "all"] + rows[-1][3:]
    caps = os.path.join(tmp, "caps.txt")
    with open(caps, "w") as f:
        f.write(text.rstrip("\n") + "\n" + " ".join(extra) + "\n")
    build = os.path.join(tmp, "build")
    env = dict(os.environ)
    # A make above this one passes its command-line variables (BUILD, SAN)
    # down through these: this build takes only its own.
    for k in ("MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKELEVEL"):
        env.pop(k, None)
    p = subprocess.run(["make", "-C", ROOT, "-j2", "BUILD=" + build,
                        "CAPS_TXT=" + caps, "SAN=0", "V=0",
                        build + "/cpufleet"],
                       capture_output=True, timeout=1200, env=env)
    check(p.returncode == 0, "make with the extra capability: exit %d: %s" % (
        p.returncode, short(p.stderr.decode("utf-8", "replace")[-600:])))
    for arch in ("arm64", "x86"):
        with open(os.path.join(build, "gen", arch + "_catalog.c")) as f:
            check(name in f.read(), "the rebuilt %s catalogue lacks %s" % (
                arch, name))
    return os.path.join(build, "cpufleet"), name


@case("catalogue edit: the same upload after a rebuild with one more "
      "capability answers 200 known on the same database (issue 17)")
def t_catalogue_edit(tmp):
    newbin, cap = build_with_extra_cap(tmp)
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    sent = {
        "spr-05": json.dumps(report(src="tests/data/x86/spr-05.json",
                                    report_id="cat-x86")),
        "n1-01": json.dumps(report("n1-01", "cat-arm")),
    }
    s = Server(db)
    for host, body in sent.items():
        r = want(upload(s.url, adm, body), 201, host + ": first upload")
        eq(r.json().get("status"), "new", host + ": first upload status")
    s.stop()
    # The server upgraded: same database, a catalogue with one more line.
    s = Server(db, binary=newbin)
    for host, body in sent.items():
        r = upload(s.url, adm, body)
        check(r.status == 200, "%s: the same bytes again after the "
              "catalogue edit: HTTP %d %s, want 200 known" % (
                  host, r.status, short(r.body)))
        eq(r.json().get("status"), "known", host + ": status of the retry")
        # Same content under a new id: a sighting of an unchanged host.
        d = json.loads(body)
        d["report_id"] += "-2"
        r = want(upload(s.url, adm, d), 201, host + ": new id, same content")
        eq(r.json().get("status"), "seen_again",
           host + ": new id, same content, after the edit")
        # A report from an agent of the new build lists the new capability,
        # at 0 where this host's KVM lacks it: 0 is the same as absent.
        d["report_id"] += "-3"
        d.setdefault("kvm", {}).setdefault("caps", {})[cap] = 0
        r = want(upload(s.url, adm, d), 201, host + ": the new capability "
                 "at 0")
        eq(r.json().get("status"), "seen_again",
           host + ": a report listing the new capability at 0")
        h = want(request(s.url, "GET", "/v1/hosts/" + host, tok=adm), 200,
                 "GET host " + host).json()
        eq((h.get("reports"), h.get("uploads")), (1, 3),
           host + ": distinct reports, uploads")
        eq([x.get("changed") for x in h["history"]], [False, False, True],
           host + ": history 'changed' flags (newest first)")
        # The same CPU on another host: the configuration stored by the
        # old build is found by the fingerprint the new build computes.
        d = json.loads(body)
        d["report_id"] += "-twin"
        d["host"]["id"] = host + "-twin"
        r = want(upload(s.url, adm, d), 201, host + "-twin: first upload")
        eq(r.json().get("status"), "new", host + "-twin: status")
    eq(db_query(db, "SELECT count(*) FROM configs")[0][0], 2,
       "configurations stored (a twin's upload after the edit matched the "
       "fingerprint stored before it)")
    s.stop()
    integrity(db)


@case("schema 2 migration: a database whose identities schema 1 computed "
      "answers a retry with 200 known",
      sqlite_only="schema 1 existed only as SQLite files")
def t_migrate_identity(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    sent = report(src="tests/data/x86/spr-05.json", report_id="mig-a")
    s = Server(db)
    want(upload(s.url, adm, sent), 201, "first upload")
    s.stop()
    # What schema 1 stored: a bare SHA-256 for the content (of the
    # engine's arrays) and a fingerprint of the catalogue's layout.
    c = db_connect(db)
    with c:
        c.execute("UPDATE reports SET content = ?",
                  (hashlib.sha256(b"schema 1").hexdigest(),))
        c.execute("UPDATE configs SET fingerprint = '0123456789abcdef'")
        # Schema 1 had none of the later migrations' tables.
        for t in ("event_fields", "event_verdicts", "events"):
            c.execute("DROP TABLE " + t)
        c.execute("PRAGMA user_version = 1")
    c.close()
    s = Server(db)
    r = upload(s.url, adm, sent)
    check(r.status == 200, "the retry after the migration: HTTP %d %s, "
          "want 200 known" % (r.status, short(r.body)))
    eq(r.json().get("status"), "known", "status of the retry")
    # Migrations 2 (identities) and 3 (drift events) ran.
    eq(db_query(db, "PRAGMA user_version")[0][0], 3, "schema version")
    content = db_query(db, "SELECT content FROM reports")[0][0]
    check(re.match(r"^cfid1:[0-9a-f]{64}$", content),
          "stored content %r is not a cfid1 identity" % content)
    s.stop()
    integrity(db)


@case("crash: kill -9 under 16 concurrent uploaders, three times, then "
      "SIGTERM under load; every acknowledged report survives")
def t_crash(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    nthreads = 16
    acked = {}          # report_id -> host
    lock = threading.Lock()
    # Three crashes, then a clean stop under the same load (exit 0).
    for rnd, how in enumerate(("kill -9", "kill -9", "kill -9", "SIGTERM")):
        s = Server(db)
        stop = threading.Event()
        errors_before_kill = []

        def worker(t, url=s.url, rnd=rnd, stop=stop,
                   errs=errors_before_kill):
            host = "crash-%02d" % t
            i = 0
            while not stop.is_set():
                # Every other upload repeats the content: seen_again.
                rid = "k%d-%02d-%05d" % (rnd, t, i)
                d = report("n1-01", rid, new_id=host,
                           kernel="6.12.%d-%d" % (rnd, i // 2))
                try:
                    r = upload(url, adm, d)
                except Exception as e:  # noqa: BLE001 (recorded, not lost)
                    if not stop.is_set():
                        errs.append("%s: %s: %s" % (rid, type(e).__name__,
                                                    e))
                    return
                if r.status in (200, 201):
                    with lock:
                        acked[rid] = host
                elif not stop.is_set():
                    errs.append("%s: %r" % (rid, r))
                    return
                i += 1

        before = len(acked)
        threads = [threading.Thread(target=worker, args=(t,), daemon=True)
                   for t in range(nthreads)]
        for th in threads:
            th.start()
        time.sleep(1.0)
        stop.set()
        if how == "SIGTERM":
            s.stop()
        else:
            s.kill9()
        for th in threads:
            th.join(20)
            check(not th.is_alive(), "an uploader hung after the " + how)
        # Errors the instant before the kill are the kill's; later ones
        # are not counted (stop is set first).
        check(not errors_before_kill, "round %d: uploads failed before the "
              "%s: %s" % (rnd, how, "; ".join(errors_before_kill[:3])))
        check(len(acked) - before >= nthreads,
              "round %d: only %d uploads acknowledged in 1 s" % (
                  rnd, len(acked) - before))
        # Restart on the crashed file: everything acknowledged is there.
        s = Server(db)
        uids = sightings_by_uid(db)
        lost = sorted(set(acked) - set(uids))
        check(not lost, "round %d (%s): %d acknowledged uploads lost from "
              "sightings, e.g. %s" % (rnd, how, len(lost), lost[:5]))
        dup = [k for k, n in uids.items() if n != 1]
        check(not dup, "report_uid seen %s times" % dup[:3])
        integrity(db)
        by_host = {}
        for rid, host in acked.items():
            by_host.setdefault(host, set()).add(rid)
        for host, rids in sorted(by_host.items()):
            r = want(request(s.url, "GET", "/v1/hosts/%s?history=0" % host,
                             tok=adm), 200, "GET host " + host)
            hist = {x["report_id"] for x in r.json().get("history", [])}
            missing = sorted(rids - hist)
            check(not missing, "round %d: %s history lacks %s" % (
                rnd, host, missing[:5]))
        s.stop()
    integrity(db)
    s = Server(db)
    h = want(request(s.url, "GET", "/v1/health"), 200,
             "health after the crashes").json()
    eq(h.get("status"), "ok", "health status")
    g = gauges(s.url)
    eq(g["cpufleet_report_sightings"], len(sightings_by_uid(db)),
       "sightings gauge vs the file")
    eq(g["cpufleet_hosts"], nthreads, "hosts gauge")
    s.stop()


@case("two servers, one PostgreSQL database: uploads to either seen by "
      "both, a baseline published on one read on the other, concurrent "
      "publishing numbered once each, kill -9 of one under load loses no "
      "acknowledged report",
      pg_only="two servers share a database on PostgreSQL only (SQLite "
      "is one server per file)")
def t_two_servers(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    rdr, _ = token(db, "reader")
    a, b = Server(db), Server(db)
    # Uploads to either are seen by both.
    for i, h in enumerate(FLEET[:4]):
        want(upload((a, b)[i % 2].url, adm, report(h, "two-" + h)), 201,
             "upload of %s" % h)
    for srv in (a, b):
        got = sorted(x["id"] for x in want(request(
            srv.url, "GET", "/v1/hosts", tok=rdr), 200, "hosts").json()
            .get("hosts", []))
        eq(got, sorted(FLEET[:4]), "hosts listed by the server on port %d"
           % srv.port)
    # A retry on the other server of what one acknowledged is known.
    r = want(upload(b.url, adm, report(FLEET[0], "two-" + FLEET[0])), 200,
             "the same report_id on the other server")
    eq(r.json().get("status"), "known", "status of the retry")
    # A pool made and its baseline published on A is read on B.
    want(request(a.url, "PUT", "/v1/pools/n1", {"hosts": ["n1-01", "n1-02"]},
                 adm), 201, "pool on A")
    want(request(a.url, "POST", "/v1/pools/n1/baseline", {"publish": True},
                 adm), 201, "publish on A")
    pa = want(request(a.url, "GET", "/v1/profiles/n1", tok=rdr), 200,
              "profile on A").json()
    pb = want(request(b.url, "GET", "/v1/profiles/n1", tok=rdr), 200,
              "profile on B").json()
    eq(pb.get("version"), 1, "version read on B")
    eq(pb.get("profile"), pa.get("profile"), "profile read on B")
    want(request(b.url, "GET", "/v1/pools/n1", tok=rdr), 200, "pool on B")
    # Both publish the same name at once: each version once, none lost.
    results, lock = [], threading.Lock()

    def publish(srv):
        for _ in range(5):
            r = request(srv.url, "POST", "/v1/pools/n1/baseline",
                        {"publish": True}, adm)
            with lock:
                results.append((r.status, (r.json().get("published") or
                                           {}).get("version")))
    ths = [threading.Thread(target=publish, args=(srv,), daemon=True)
           for srv in (a, b, a, b)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    bad = [x for x in results if x[0] != 201]
    check(not bad, "concurrent publishing refused: %s" % bad[:3])
    eq(sorted(v for _, v in results), list(range(2, 22)),
       "versions given to 20 concurrent publications")
    vs = want(request(a.url, "GET", "/v1/profiles/n1/versions", tok=rdr),
              200, "versions").json()
    eq([x.get("version") for x in vs.get("versions", [])],
       list(range(21, 0, -1)), "versions listed, newest first")
    # Kill -9 of A while both take uploads: every acknowledged report is
    # stored, and B keeps serving.
    acked, errs, lock = {}, [], threading.Lock()
    stop = threading.Event()

    def worker(t, srv):
        host, i = "two-%02d" % t, 0
        while not stop.is_set():
            rid = "k-%02d-%05d" % (t, i)
            try:
                r = upload(srv.url, adm, report("n1-01", rid, new_id=host,
                                                kernel="6.12.%d" % i))
            except Exception:  # noqa: BLE001 (A was killed: not acked)
                if srv is b:
                    errs.append(rid)
                return
            if r.status in (200, 201):
                with lock:
                    acked[rid] = host
            elif srv is b or not stop.is_set():
                errs.append("%s: %r" % (rid, r))
                return
            i += 1
    ths = [threading.Thread(target=worker, args=(t, (a, b)[t % 2]),
                            daemon=True) for t in range(16)]
    for th in ths:
        th.start()
    time.sleep(1.0)
    a.kill9()
    time.sleep(0.5)
    stop.set()
    for th in ths:
        th.join(20)
        check(not th.is_alive(), "an uploader hung after the kill -9")
    check(not errs, "uploads to B failed: %s" % errs[:3])
    check(len(acked) >= 16, "only %d uploads acknowledged" % len(acked))
    uids = sightings_by_uid(db)
    lost = sorted(set(acked) - set(uids))
    check(not lost, "%d acknowledged uploads lost, e.g. %s" % (
        len(lost), lost[:5]))
    eq([k for k, n in uids.items() if n != 1], [], "report ids seen twice")
    integrity(db)
    want(request(b.url, "GET", "/v1/health"), 200, "B after A's kill -9")
    for t in range(16):
        host = "two-%02d" % t
        rids = {k for k, h in acked.items() if h == host}
        if not rids:
            continue
        r = want(request(b.url, "GET", "/v1/hosts/%s?history=0" % host,
                         tok=rdr), 200, "GET host " + host)
        hist = {x["report_id"] for x in r.json().get("history", [])}
        check(rids <= hist, "%s history on B lacks %s" % (
            host, sorted(rids - hist)[:5]))
    b.stop()


def agent_args(url, tok, spool, src, *extra):
    return ["agent", "--server", url, "--token", tok, "--spool", spool,
            "--from", src] + list(extra)


@case("outage: the agent spools while the server is down and delivers "
      "every report exactly once")
def t_outage(tmp):
    db = new_db(tmp)
    spool = os.path.join(tmp, "spool")
    src = FLEET_DIR + "/n1-01.json"
    agent_tok, _ = token(db, "agent", "n1-01")
    rdr, _ = token(db, "reader")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    runs = 3
    for i in range(1, runs + 1):
        rc, out, err = cli(*agent_args(url, agent_tok, spool, src, "--once",
                                       "--tries", "2", "--quiet"))
        eq(rc, 3, "agent run %d with the server down: exit (stderr %s)" % (
            i, short(err.strip())))
        eq(len(spool_entries(spool)), i, "spooled reports after run %d" % i)
    ids = spool_ids(spool)
    eq(len(set(ids)), runs, "distinct report ids in the spool")
    # A server that accepts connections but never answers: --timeout ends
    # each request, the agent exits 3 and keeps the report.
    with socket.socket() as stall:
        stall.bind(("127.0.0.1", port))
        stall.listen(16)
        t0 = time.monotonic()
        rc, out, err = cli(*agent_args(url, agent_tok, spool, src, "--once",
                                       "--tries", "2", "--timeout", "1",
                                       "--quiet"))
        took = time.monotonic() - t0
    eq(rc, 3, "agent against a stalled server: exit (stderr %s)" %
       short(err.strip()))
    check(took < 10, "agent against a stalled server took %.1f s" % took)
    check("imeout" in err or "timed out" in err,
          "agent against a stalled server says it timed out: " +
          short(err.strip()[-200:]))
    runs += 1
    eq(len(spool_entries(spool)), runs, "spooled reports after the stall")
    ids = spool_ids(spool)
    s = Server(db, listen="127.0.0.1:%d" % port)
    rc, out, err = cli(*agent_args(url, agent_tok, spool, src, "--once",
                                   "--tries", "2", "--quiet"))
    eq(rc, 0, "agent run with the server up: exit (stderr %s)" %
       short(err.strip()))
    eq(spool_entries(spool), [], "spool after delivery")
    eq(rejected_entries(spool), [], "rejected entries")
    uids = sightings_by_uid(db)
    eq(len(uids), runs + 1, "sightings on the server (one per agent run)")
    for rid in ids:
        eq(uids.get(rid), 1, "sightings of spooled report %s" % rid)
    h = want(request(url, "GET", "/v1/hosts/n1-01?history=0", tok=rdr), 200,
             "GET host").json()
    eq(h.get("uploads"), runs + 1, "host uploads")
    eq(h.get("reports"), 1, "host reports (same content each time)")
    eq(len(h.get("history", [])), runs + 1, "history length")
    # Delivered in the order collected: oldest first.
    hist = [x["report_id"] for x in reversed(h["history"])]
    eq(hist[:runs], ids, "delivery order")
    # A refused token keeps the report; the right token delivers it.
    spool3 = os.path.join(tmp, "spool3")
    rc, _, err = cli(*agent_args(url, "cft_0000000000_" + "0" * 64, spool3,
                                 src, "--once", "--tries", "2"))
    eq(rc, 2, "agent with a refused token: exit")
    check("refused the token" in err, "agent with a refused token: " +
          short(err.strip()[-200:]))
    eq(len(spool_entries(spool3)), 1, "report kept after a refused token")
    kept = spool_ids(spool3)[0]
    other = os.path.join(tmp, "n1-02.json")
    with open(other, "w") as f:
        json.dump(report("n1-02"), f)
    rc, _, err = cli(*agent_args(url, agent_tok, spool3, other, "--once",
                                 "--tries", "2"))
    eq(rc, 2, "agent token of n1-01 sending a report of n1-02: exit")
    eq(sightings_by_uid(db).get(kept), 1, "the earlier report, delivered")
    eq(spool_entries(spool3), [], "reports left after a 403")
    rj = rejected_entries(spool3)
    eq(len(rj), 2, "rejected/ after a 403: the report and its reason")
    with open(os.path.join(spool3, "rejected", rj[0])) as f:
        eq(json.load(f)["host"]["id"], "n1-02", "the report set aside")
    # A report the server refuses for good is set aside with the reason.
    adm, _ = token(db, "admin")
    spool4 = os.path.join(tmp, "spool4")
    cli(*agent_args(url, adm, spool4, src, "--once"), check_rc=0)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "wb") as f:
        f.write(json.dumps(report("n1-01", kernel="k-KERN")).encode()
                .replace(b"k-KERN", b"k-\xff"))
    rc, _, err = cli(*agent_args(url, adm, spool4, bad, "--once", "--quiet"))
    eq(rc, 2, "agent whose report the server refuses: exit (%s)" %
       short(err.strip()))
    eq(spool_entries(spool4), [], "refused report left the queue")
    rj = rejected_entries(spool4)
    eq(len(rj), 2, "rejected/ holds the report and its reason")
    with open(os.path.join(spool4, "rejected", rj[-1])) as f:
        why = f.read()
    check("status: 400\n" in why and "UTF-8" in why,
          "rejection reason: " + short(why))
    # An agent in loop mode across a server restart.
    spool2 = os.path.join(tmp, "spool2")
    tok2, _ = token(db, "agent", "v1-01")
    alog = open(os.path.join(tmp, "agent2.log"), "wb")
    ag = subprocess.Popen([BIN] + agent_args(
        url, tok2, spool2, FLEET_DIR + "/v1-01.json", "--interval", "1"),
        stdout=alog, stderr=alog, cwd=ROOT)
    _live.append(ag)

    def v1_uploads():
        return db_query(db, "SELECT count(*) FROM sightings WHERE host_id = "
                        "'v1-01'")[0][0]

    def wait_for(cond, secs, what):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if cond():
                return
            check(ag.poll() is None, "loop agent exited early (%s)" %
                  ag.returncode)
            time.sleep(0.1)
        raise Fail("timed out after %d s waiting for %s" % (secs, what))

    try:
        wait_for(lambda: v1_uploads() >= 1, 10, "the loop agent's upload")
        s.stop()
        time.sleep(2.5)
        down = len(spool_entries(spool2))
        check(down >= 1, "nothing spooled by the loop agent while the "
              "server was down")
        n_before = v1_uploads()
        s = Server(db, listen="127.0.0.1:%d" % port)
        wait_for(lambda: v1_uploads() >= n_before + down, 15,
                 "the %d spooled reports after the restart" % down)
    finally:
        if ag.poll() is None:
            ag.send_signal(signal.SIGTERM)
        try:
            arc = ag.wait(15)
        except subprocess.TimeoutExpired:
            ag.kill()
            arc = ag.wait()
        _live.remove(ag)
        alog.close()
    with open(os.path.join(tmp, "agent2.log"), "rb") as f:
        alog_text = f.read().decode("utf-8", "replace")
    m = re.search(r"collected (\d+), delivered (\d+) \((\d+) already known\)"
                  r", rejected (\d+), (\d+) waiting", alog_text)
    check(m, "loop agent printed no summary: %s" % short(alog_text[-300:]))
    collected, delivered, known, rejected, waiting = map(int, m.groups())
    # The agent's help: "0 every report delivered", 3 with reports kept in
    # the spool (one collected just before SIGTERM may still wait).
    eq(arc, 0 if waiting == 0 else 3, "loop agent exit after SIGTERM, %d "
       "waiting (log: %s)" % (waiting, short(alog_text[-300:])))
    eq(rejected, 0, "loop agent rejected reports")
    eq(len(spool_entries(spool2)), waiting, "loop agent's spool vs summary")
    on_server = db_query(db, "SELECT report_uid FROM sightings WHERE host_id "
                         "= 'v1-01'")
    eq(len(on_server), collected - waiting,
       "v1-01 sightings (collected %d, %d waiting)" % (collected, waiting))
    check(not set(r[0] for r in on_server) & set(spool_ids(spool2)),
          "a report both on the server and still spooled")
    check(delivered >= collected - waiting, "delivered %d < %d" % (
        delivered, collected - waiting))
    s.stop()
    integrity(db)


def agent_setup(tmp):
    """A database with an agent token of n1-01, and a spool path."""
    db = new_db(tmp)
    agent_tok, _ = token(db, "agent", "n1-01")
    return db, os.path.join(tmp, "spool"), agent_tok


def spool_why(d, name):
    """The reason file beside rejected entry NAME: its key: value lines."""
    with open(os.path.join(d, "rejected", name + ".why")) as f:
        text = f.read()
    why = dict(line.split(": ", 1) for line in text.splitlines())
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                   why.get("time", "")), "%s.why: time %r" % (name, text))
    return why


@case("agent: reports the server refuses for good (403, 400, 413) go to "
      "rejected/ with the reason, and the ones behind them are delivered")
def t_agent_rejects(tmp):
    db, spool, agent_tok = agent_setup(tmp)
    port = free_port()
    url = "http://127.0.0.1:%d" % port

    def put(name, d=None, raw=None):
        """Spools one report while the server is down."""
        path = os.path.join(tmp, name + ".json")
        with open(path, "wb") as f:
            f.write(raw if raw is not None else json.dumps(d).encode())
        rc, _, err = cli(*agent_args(url, agent_tok, spool, path, "--once",
                                     "--tries", "1", "--quiet"))
        eq(rc, 3, "spooling %s with the server down (%s)" % (
            name, short(err.strip())))
        return spool_entries(spool)[-1]

    good1 = put("good1", report("n1-01", kernel="6.1-good1"))
    other = put("other-host", report("n1-02"))           # 403
    bad = put("bad-utf8", raw=json.dumps(report(
        "n1-01", kernel="k-KERN")).encode().replace(b"k-KERN", b"k-\xff"))
    big = put("big", report(src=LAB_DIR + "/a53.json", new_id="n1-01"))
    good2 = put("good2", report("n1-01", kernel="6.1-good2"))
    size = {n: os.path.getsize(os.path.join(spool, n)) for n in (good1, big)}
    check(size[big] > size[good1] + 1000, "sizes %r" % size)
    limit = (size[good1] + size[big]) // 2
    s = Server(db, ["--max-body", str(limit)], listen="127.0.0.1:%d" % port)
    last = os.path.join(tmp, "good3.json")
    with open(last, "w") as f:
        json.dump(report("n1-01", kernel="6.1-good3"), f)
    rc, _, err = cli(*agent_args(url, agent_tok, spool, last, "--once"))
    eq(rc, 2, "agent whose spool holds refused reports: exit (%s)" %
       short(err.strip()[-300:]))
    check("collected 1, delivered 3 (0 already known), rejected 3, 0 "
          "waiting" in err, "agent summary: " + short(err.strip()[-300:]))
    check("kept in %s/rejected" % spool in err,
          "agent names where rejected reports are: " + short(err[-300:]))
    eq(spool_entries(spool), [], "spool after the drain")
    eq(rejected_entries(spool), sorted([other, other + ".why", bad,
                                        bad + ".why", big, big + ".why"]),
       "rejected/")
    for name, status, text in ((other, "403", "of host n1-02"),
                               (bad, "400", "UTF-8"),
                               (big, "413", "limit")):
        why = spool_why(spool, name)
        eq(why.get("status"), status, "%s.why status" % name)
        check(text in why.get("error", ""), "%s.why error %r lacks %r" % (
            name, why.get("error"), text))
    # Delivered, in the order collected, around the refused ones.
    kernels = [k for (k,) in db_query(db, {
        "sqlite": "SELECT json_extract(r.body, '$.host.kernel') FROM "
        "sightings s JOIN reports r ON r.id = s.report_row ORDER BY s.seq",
        "pg": "SELECT r.body::jsonb #>> '{host,kernel}' FROM sightings s "
        "JOIN reports r ON r.id = s.report_row ORDER BY s.seq"})]
    eq(kernels, ["6.1-good1", "6.1-good2", "6.1-good3"], "delivered kernels")
    # The refused report goes again once moved back (the README says so),
    # and is refused again the same way.
    os.rename(os.path.join(spool, "rejected", other),
              os.path.join(spool, other))
    rc, _, err = cli(*agent_args(url, agent_tok, spool, last, "--once"))
    eq(rc, 2, "agent after moving a rejected report back: exit")
    eq(rejected_entries(spool).count(other), 1, "re-rejected %s" % other)
    s.stop()


class FlakyStub:
    """An HTTP server in front of a real one: the first N503 uploads get a
    503, the next NCLOSE have their connection closed without an answer,
    the rest are passed on.  TIMES: when each upload arrived."""

    def __init__(self, upstream, n503, nclose):
        stub = self
        self.times = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get(
                    "Content-Length", "0")))
                with stub.lock:
                    stub.times.append(time.monotonic())
                    n = len(stub.times)
                if n <= n503:
                    msg = b'{"error":"stub: database busy"}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                if n <= n503 + nclose:
                    self.close_connection = True
                    return  # no answer at all
                u = urllib.parse.urlsplit(upstream)
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
                c.request("POST", self.path, body=body, headers={
                    k: self.headers[k] for k in ("Authorization",
                                                 "Content-Type")
                    if self.headers[k]})
                r = c.getresponse()
                data = r.read()
                c.close()
                self.send_response(r.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@case("agent: 5xx answers and dropped connections are retried with growing "
      "delays, up to the cap, then the report is delivered")
def t_agent_backoff(tmp):
    db, spool, agent_tok = agent_setup(tmp)
    s = Server(db)
    stub = FlakyStub(s.url, 3, 2)
    try:
        src = os.path.join(tmp, "r.json")
        with open(src, "w") as f:
            json.dump(report("n1-01", kernel="6.1-backoff"), f)
        rc, _, err = cli(*agent_args(stub.url, agent_tok, spool, src,
                                     "--once", "--tries", "8",
                                     "--backoff", "0.2,0.8"))
        t = list(stub.times)
    finally:
        stub.close()
    eq(rc, 0, "agent through the flaky stub: exit (%s)" % short(
        err.strip()[-300:]))
    eq(len(t), 6, "upload attempts (3 answered 503, 2 dropped, 1 passed)")
    eq(spool_entries(spool), [], "spool after delivery")
    eq(rejected_entries(spool), [], "nothing rejected")
    eq(db_query(db, "SELECT count(*) FROM sightings")[0][0], 1,
       "the report on the server")
    eq(err.count("retry in"), 5, "retries logged")
    # The README's schedule for --backoff 0.2,0.8: the k-th wait is drawn
    # from [B/2, B], B = 0.2 s doubled each time up to 0.8 s.  A gap also
    # holds the request itself: 0.3 s of slack above, none below.
    gaps = [b - a for a, b in zip(t, t[1:])]
    bases = [0.2, 0.4, 0.8, 0.8, 0.8]
    print("  backoff gaps: %s s (bases %s s)" % (
        ", ".join("%.3f" % g for g in gaps), ", ".join(
            "%.1f" % b for b in bases)), flush=True)
    for k, (g, b) in enumerate(zip(gaps, bases), 1):
        check(b / 2 - 0.005 <= g <= b + 0.3,
              "wait %d: %.3f s, want %.2f to %.1f s (+0.3 slack)" % (
                  k, g, b / 2, b))
    check(gaps[2] > gaps[0], "the delays grow: %r" % gaps)
    s.stop()


@case("a revoked token: refused on a connection kept alive, and while an "
      "upload's body arrives (nothing written)")
def t_revoked_during_body(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    agt, agt_id = token(db, "agent", "n1-01")
    rdr, rdr_id = token(db, "reader")
    s = Server(db)
    u = urllib.parse.urlsplit(s.url)
    # Every request is looked up, also on a connection kept alive.
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for i in range(2):
        c.request("GET", "/v1/hosts",
                  headers={"Authorization": "Bearer " + rdr})
        r = c.getresponse()
        eq(r.status, 200, "request %d on one connection" % i)
        r.read()
    cli("token", "revoke", "--db", db, rdr_id, check_rc=0)
    c.request("GET", "/v1/hosts", headers={"Authorization": "Bearer " + rdr})
    r = c.getresponse()
    eq(r.status, 401, "the same connection after the revocation")
    r.read()
    c.close()
    body = json.dumps(report("n1-01", "slow-1")).encode()
    head = ("POST /v1/reports HTTP/1.1\r\nHost: %s:%d\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (u.hostname, u.port, agt,
                                              len(body)))
    with socket.create_connection((u.hostname, u.port), 10) as sk:
        # The headers alone: the token is looked up and accepted; the
        # body comes after the revocation, and well over the server's
        # 100 ms during which the headers' lookup stands (uploads are
        # judged again as the report is stored).
        sk.sendall(head.encode() + body[:10])
        time.sleep(0.3)
        cli("token", "revoke", "--db", db, agt_id, check_rc=0)
        time.sleep(0.2)
        sk.sendall(body[10:])
        r = http.client.HTTPResponse(sk)
        r.begin()
        got = Resp(r.status, {k.lower(): v for k, v in r.getheaders()},
                   r.read())
    want(got, 401, "upload whose token was revoked during its body",
         "revoked before the report was stored")
    hosts = want(request(s.url, "GET", "/v1/hosts", tok=adm), 200,
                 "hosts").json()
    eq(hosts.get("hosts"), [], "hosts after the refused upload")
    # An upload's token may come from the server's token cache
    # (server/tokcache.h): one revoked while kept there is refused as the
    # report is stored, then leaves the cache, and the next upload is
    # refused at its headers.
    agt2, agt2_id = token(db, "agent", "n1-02")
    t0 = time.monotonic()
    want(request(s.url, "POST", "/v1/reports", report("n1-02", "c-1"),
                 tok=agt2), 201, "upload that puts its token in the cache")
    cli("token", "revoke", "--db", db, agt2_id, check_rc=0)
    got = request(s.url, "POST", "/v1/reports", report("n1-02", "c-2"),
                  tok=agt2)
    # Within the cache's 2 s, unless this machine is very slow.
    cached = time.monotonic() - t0 < 1.5
    want(got, 401, "upload with a revoked token the cache still holds",
         "revoked before the report was stored" if cached else "revoked")
    want(request(s.url, "POST", "/v1/reports", report("n1-02", "c-3"),
                 tok=agt2), 401, "the next upload with that token",
         "unknown or revoked token")
    hist = want(request(s.url, "GET", "/v1/hosts/n1-02", tok=adm), 200,
                "n1-02").json()
    eq(len(hist.get("history", [])), 1, "n1-02's reports after the "
       "revocation: the first only")
    # Revoked while cached, with a body the server refuses for itself:
    # still 401 (the token is looked up before the answer), and a valid
    # token's bad body stays 400.
    agt3, agt3_id = token(db, "agent", "v1-01")
    t0 = time.monotonic()
    want(request(s.url, "POST", "/v1/reports", report("v1-01", "d-1"),
                 tok=agt3), 201, "upload that puts its token in the cache")
    want(request(s.url, "POST", "/v1/reports", {"v": 1}, tok=agt3), 400,
         "a bad body with a valid cached token")
    cli("token", "revoke", "--db", db, agt3_id, check_rc=0)
    got = request(s.url, "POST", "/v1/reports", {"v": 1}, tok=agt3)
    cached = time.monotonic() - t0 < 1.5
    want(got, 401, "a bad body with a revoked token the cache still holds",
         "revoked before the request was answered" if cached else "revoked")
    s.stop()


@case("auth matrix: none, bad, revoked, agent, reader, admin on every route")
def t_auth(tmp):
    db = new_db(tmp)
    adm, adm_id = token(db, "admin")
    rdr, _ = token(db, "reader")
    agt, _ = token(db, "agent", "n1-01")
    rev, rev_id = token(db, "reader")
    s = Server(db)
    u = s.url
    # Setup as admin.
    for h in ("n1-01", "v1-01"):
        want(upload(u, adm, report(h, "setup-" + h)), 201, "setup upload")
    want(request(u, "PUT", "/v1/pools/p1", {"hosts": ["n1-01"]}, adm), 201,
         "setup pool")
    want(request(u, "PUT", "/v1/pools/gone", {"hosts": ["v1-01"]}, adm), 201,
         "setup pool")
    want(request(u, "POST", "/v1/pools/p1/baseline", {"publish": True}, adm),
         201, "setup publish")
    prof = request(u, "GET", "/v1/profiles/p1", tok=adm).json()["profile"]
    # Revocation takes effect at once, with the server running.
    want(request(u, "GET", "/v1/hosts", tok=rev), 200, "token before revoke")
    cli("token", "revoke", "--db", db, rev_id, check_rc=0)
    want(request(u, "GET", "/v1/hosts", tok=rev), 401,
         "token right after revoke", "revoked")
    _, out, _ = cli("token", "list", "--db", db, "--json", check_rc=0)
    listed = {t["id"]: t for t in json.loads(out)}
    check(listed.get(rev_id, {}).get("revoked_at"),
          "token list does not show the revocation")
    eq(listed.get(adm_id, {}).get("role"), "admin", "listed admin role")
    check(not any(adm in json.dumps(t) for t in listed.values()),
          "token list shows a token's secret")

    seq = [0]

    def rep_n1():
        seq[0] += 1
        return report("n1-01", "auth-%d" % seq[0])

    # (method, pattern, path, body, access) for every route; body may be
    # a function (a fresh upload each time).
    R, A, U, P = "READ", "ADMIN", "UPLOAD", "PUBLIC"
    table = [
        ("GET", "/v1/health", "/v1/health", None, P),
        ("GET", "/metrics", "/metrics", None, P),
        ("POST", "/v1/reports", "/v1/reports", rep_n1, U),
        ("GET", "/v1/hosts", "/v1/hosts", None, R),
        ("GET", "/v1/hosts/{}", "/v1/hosts/n1-01", None, R),
        ("GET", "/v1/features/{}", "/v1/features/FEAT_LSE", None, R),
        ("PUT", "/v1/hosts/{}/labels", "/v1/hosts/n1-01/labels",
         {"labels": {"rack": "r1"}}, A),
        ("GET", "/v1/pools", "/v1/pools", None, R),
        ("GET", "/v1/pools/{}", "/v1/pools/p1", None, R),
        ("PUT", "/v1/pools/{}", "/v1/pools/p2", {"hosts": ["n1-01"]}, A),
        ("DELETE", "/v1/pools/{}", "/v1/pools/gone", None, A),
        ("POST", "/v1/pools/{}/baseline", "/v1/pools/p1/baseline", {}, R),
        ("GET", "/v1/pools/{}/matrix", "/v1/pools/p1/matrix", None, R),
        ("POST", "/v1/pools/{}/what-if", "/v1/pools/p1/what-if",
         {"remove": []}, R),
        ("GET", "/v1/profiles", "/v1/profiles", None, R),
        ("GET", "/v1/profiles/{}", "/v1/profiles/p1", None, R),
        ("PUT", "/v1/profiles/{}", "/v1/profiles/custom", prof, A),
        ("GET", "/v1/profiles/{}/versions", "/v1/profiles/p1/versions",
         None, R),
        ("GET", "/v1/profiles/{}/versions/{}", "/v1/profiles/p1/versions/1",
         None, R),
        ("GET", "/v1/profiles/{}/versions/{}/export",
         "/v1/profiles/p1/versions/1/export?format=firecracker", None, R),
        ("POST", "/v1/check", "/v1/check",
         {"profile": "p1", "hosts": ["n1-01"]}, R),
        ("GET", "/v1/events", "/v1/events", None, R),
        ("GET", "/v1/audit", "/v1/audit", None, A),
        ("GET", "/", "/", None, P),
        ("GET", "/web/{}", "/web/app.js", None, P),
    ]
    access_of = {"public": P, "read": R, "admin": A, "upload": U}
    routes = {(m, p): access_of.get(a, a) for m, p, a in api_routes()}
    covered = {(m, p): acc for m, p, _, _, acc in table}
    eq(sorted(set(routes) - set(covered)), [],
       "routes of the server without a row in the auth matrix")
    for k, acc in covered.items():
        eq(routes.get(k), acc, "access of %s %s in the route table" % k)
    bad = "cft_0000000000_" + "0" * 64
    anon = [("no token", {}), ("bad token", {"tok": bad}),
            ("tampered token", {"tok": adm[:-1] + ("0" if adm[-1] != "0"
                                                   else "1")}),
            ("Basic auth", {"raw_auth": "Basic YWRtaW46YWRtaW4="}),
            ("empty bearer", {"raw_auth": "Bearer "}),
            ("revoked token", {"tok": rev})]

    def call(m, path, body, **kw):
        b = body() if callable(body) else body
        return request(u, m, path, b, **kw)

    # Everything refused first: the database must not change.
    before = db_snapshot(db)
    for m, pat, path, body, acc in table:
        for who, kw in anon:
            r = call(m, path, body, **kw)
            if acc == P:
                want(r, 200, "%s %s with %s" % (m, path, who))
            else:
                want(r, 401, "%s %s with %s" % (m, path, who), "token")
        if acc != U and acc != P:
            want(call(m, path, body, tok=agt), 403,
                 "%s %s with an agent token" % (m, path), "agent")
        if acc in (A, U):
            want(call(m, path, body, tok=rdr), 403,
                 "%s %s with a reader token" % (m, path), "reader")
    want(upload(u, agt, report("v1-01", "auth-other")), 403,
         "agent uploading another host's report", "v1-01")
    want(upload(u, agt, report("n1-01", "auth-x", new_id="n1-02")), 403,
         "agent uploading a report of a new host", "n1-02")
    want(request(u, "POST", "/v1/pools/p1/baseline", {"publish": True}, rdr),
         403, "reader publishing a baseline", "publish")
    # Reads (and a baseline without publish) by a reader change nothing.
    for m, pat, path, body, acc in table:
        if acc in (R, P):
            want(call(m, path, body, tok=rdr), "2xx",
                 "%s %s with a reader token" % (m, path))
    for m, pat, path, body, acc in table:
        if acc == P:
            want(call(m, path, body, tok=agt), 200,
                 "%s %s with an agent token" % (m, path))
    after = db_snapshot(db)
    check(before == after, "refused requests or reads changed the "
          "database: " + snap_diff(before, after))
    # Allowed writes.
    r = want(upload(u, agt, rep_n1()), 201, "agent uploading its own report")
    eq(r.json().get("host"), "n1-01", "agent upload host")
    for m, pat, path, body, acc in table:
        want(call(m, path, body, tok=adm), "2xx",
             "%s %s with an admin token" % (m, path))
    want(request(u, "POST", "/v1/pools/p1/baseline", {"publish": True}, adm),
         201, "admin publishing")
    want(upload(u, adm, report("a72-01", "auth-adm")), 201,
         "admin uploading any host's report")
    # Routing: unknown paths and methods, with or without a token.
    want(request(u, "GET", "/v1/nosuch", tok=adm), 404, "unknown endpoint",
         "no such endpoint")
    want(request(u, "DELETE", "/v1/hosts", tok=adm), 405,
         "DELETE /v1/hosts", "not allowed")
    want(request(u, "POST", "/v1/health"), 405, "POST /v1/health")
    s.stop()


@case("bad input: each refused with a 4xx naming the problem, database "
      "unchanged")
def t_bad_input(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    s = Server(db, ["--max-body", "65536"])
    u = s.url
    want(upload(u, adm, report("n1-01", "good-1")), 201, "setup upload")
    want(request(u, "PUT", "/v1/pools/p", {"hosts": ["n1-01"]}, adm), 201,
         "setup pool")
    good = json.dumps(report("n1-01", "bad-x", kernel="5.0")).encode()

    def mutate(fn):
        d = report("n1-01", "bad-x", kernel="5.0")
        fn(d)
        return json.dumps(d).encode()

    def setp(path, value):
        def fn(d):
            o = d
            for k in path[:-1]:
                o = o[k]
            o[path[-1]] = value
        return fn

    def delp(path):
        def fn(d):
            o = d
            for k in path[:-1]:
                o = o[k]
            del o[path[-1]]
        return fn

    def raw_host_field(value_bytes):
        # hostname with raw bytes the json module would escape.
        return good.replace(b'"n1-01.dc1"', b'"' + value_bytes + b'"', 1)

    nested = b'{"schema": "cpufleet.report/v1", "kvm": ' + b"[" * 5000 + \
        b"]" * 5000 + b"}"
    big = good[:-1] + b" " * (100 * 1024) + b"}"
    bad_uploads = [
        ("malformed JSON", b'{"schema": "cpufleet.report/v1", "host": ',
         400, "malformed JSON"),
        ("truncated body", good[:len(good) // 2], 400, "malformed JSON"),
        ("empty body", b"", 400, "malformed JSON"),
        ("trailing garbage", good + b"}", 400, "malformed JSON"),
        ("NUL byte in the body", good[:40] + b"\x00" + good[40:], 400,
         ("control character", "malformed JSON")),
        ("not an object", b"[1, 2, 3]", 400, "expected an object"),
        ("schema v2", mutate(setp(["schema"], "cpufleet.report/v2")), 400,
         "$.schema"),
        ("no schema", mutate(delp(["schema"])), 400, "$.schema"),
        ("no host", mutate(delp(["host"])), 400, "$.host"),
        ("host.id a number", mutate(setp(["host", "id"], 42)), 400,
         "$.host.id"),
        ("host.id empty", mutate(setp(["host", "id"], "")), 400,
         "$.host.id"),
        ("register a number",
         mutate(setp(["arm64", "id_regs", "MIDR_EL1"], 1234)), 400,
         "MIDR_EL1"),
        ("register not hex",
         mutate(setp(["arm64", "id_regs", "MIDR_EL1"], "0xZZ")), 400,
         "MIDR_EL1"),
        ("register over 64 bits",
         mutate(setp(["arm64", "id_regs", "MIDR_EL1"], "0x1" + "0" * 16)),
         400, "MIDR_EL1"),
        ("arm64 an array", mutate(setp(["arm64"], [])), 400, "$.arm64"),
        ("unknown arch", mutate(setp(["host", "arch"], "sparc64")), 400,
         ("unknown architecture", "sparc64")),
        ("report_id with a space", mutate(setp(["report_id"], "a b")), 400,
         "$.report_id"),
        ("report_id of 65 characters", mutate(setp(["report_id"], "r" * 65)),
         400, "$.report_id"),
        ("report_id empty", mutate(setp(["report_id"], "")), 400,
         "$.report_id"),
        ("report_id a number", mutate(setp(["report_id"], 7)), 400,
         "$.report_id"),
        ("report_id with a slash", mutate(setp(["report_id"], "../etc")),
         400, "$.report_id"),
        ("escaped control character in hostname",
         mutate(setp(["host", "hostname"], "a\u0001b")), 400,
         "control character"),
        ("raw control character in hostname", raw_host_field(b"a\x01b"),
         400, ("control character", "malformed JSON")),
        ("raw newline in host.id",
         good.replace(b'"id": "n1-01"', b'"id": "n1\n01"', 1), 400,
         ("control character", "malformed JSON")),
        ("invalid UTF-8 in hostname", raw_host_field(b"a\xff\xfeb"), 400,
         "UTF-8"),
        ("overlong UTF-8 in hostname", raw_host_field(b"a\xc0\xafb"), 400,
         "UTF-8"),
        ("UTF-8 encoded surrogate in hostname",
         raw_host_field(b"a\xed\xa0\x80b"), 400, "UTF-8"),
        ("truncated UTF-8 sequence in host.kernel",
         good.replace(b'"5.0"', b'"5.0\xe2\x82"', 1), 400, "UTF-8"),
        ("invalid UTF-8 in a member kept verbatim",
         good[:-1] + b', "kvm": {"note": "\xff"}}', 400, "UTF-8"),
        ("UTF-16 surrogate in hostname (escaped)",
         raw_host_field(b"a\\udc00b"), 400,
         ("malformed JSON", "UTF-8", "surrogate")),
        ("huge hostname", mutate(setp(["host", "hostname"], "h" * 20000)),
         400, "$.host.hostname"),
        ("huge host.id", mutate(setp(["host", "id"], "h" * 300)), 400,
         "$.host.id"),
        ("huge kernel string", mutate(setp(["host", "kernel"], "k" * 5000)),
         400, "$.host.kernel"),
        ("deeply nested array", b"[" * 60000, 400, "malformed JSON"),
        ("deeply nested member", nested, 400, "malformed JSON"),
        ("body over --max-body", big, 413, "limit"),
    ]
    other = [
        ("PUT", "/v1/pools/p", b'{"labels": ', 400, "malformed JSON"),
        ("PUT", "/v1/pools/p", {"labels": "cpu=n1"}, 400, "$.labels"),
        ("PUT", "/v1/pools/p", {"hosts": "n1-01"}, 400, "hosts"),
        ("PUT", "/v1/pools/p", {"hosts": [1, 2]}, 400, "hosts"),
        ("PUT", "/v1/pools/p", {"hosts": ["n1-01", "n1-01"]}, 400, "n1-01"),
        ("PUT", "/v1/pools/p", {"labels": {"cpu": 1}}, 400, "cpu"),
        ("PUT", "/v1/pools/p", {"members": []}, 400, "members"),
        ("PUT", "/v1/pools/p", [], 400, "expected an object"),
        ("PUT", "/v1/pools/bad%20name", {"hosts": []}, 400, "name"),
        ("PUT", "/v1/pools/" + "x" * 127 + "y", {"hosts": []}, 400, "name"),
        ("PUT", "/v1/hosts/n1-01/labels", {"labels": ["a"]}, 400,
         "$.labels"),
        ("PUT", "/v1/hosts/n1-01/labels", {"labels": {"k": 5}}, 400, "k"),
        ("PUT", "/v1/hosts/n1-01/labels",
         {"labels": {"k%d" % i: "v" for i in range(65)}}, 400, "labels"),
        ("PUT", "/v1/hosts/n1-01/labels", {"labels": {"k": "v" * 200}}, 400,
         "k"),
        ("PUT", "/v1/hosts/n1-01/labels", b"", 400, "malformed JSON"),
        ("POST", "/v1/check", {"profile": "p", "hosts": "n1-01"}, 400,
         "$.hosts"),
        ("POST", "/v1/check", {"profile": "p", "hosts": []}, 400, "$.hosts"),
        ("POST", "/v1/check", {"profile": 5, "hosts": ["n1-01"]}, 400,
         "$.profile"),
        ("POST", "/v1/check", {"profile": {"schema": "x"},
                               "hosts": ["n1-01"]}, 400, "schema"),
        ("POST", "/v1/check", {"profile": "p", "version": 0,
                               "hosts": ["n1-01"]}, 400, "$.version"),
        ("POST", "/v1/check", {"profile": "p", "version": "1",
                               "hosts": ["n1-01"]}, 400, "$.version"),
        ("POST", "/v1/check", {"profile": "p", "hosts": [5]}, 400, "hosts"),
        ("POST", "/v1/pools/p/baseline", {"publish": "yes"}, 400,
         "publish"),
        ("POST", "/v1/pools/p/baseline", {"name": "bad name"}, 400, "name"),
        ("POST", "/v1/pools/p/baseline", b"[", 400, "malformed JSON"),
        ("PUT", "/v1/profiles/x", b'{"schema": "cpufleet.profile/v1"', 400,
         "malformed JSON"),
        ("PUT", "/v1/profiles/x", {"schema": "cpufleet.profile/v9"}, 400,
         "schema"),
        ("PUT", "/v1/profiles/bad%20name", {}, 400, "name"),
        ("GET", "/v1/hosts/n1-01?at=yesterday", None, 400, "at="),
        ("GET", "/v1/hosts/n1-01?at=2026-11-22T00:00:00", None, 400, "at="),
        ("GET", "/v1/hosts/n1-01?history=-1", None, 400, "history="),
        ("GET", "/v1/hosts/n1-01?history=x", None, 400, "history="),
        ("GET", "/v1/profiles/p/versions/abc", None, 400, "version"),
        ("GET", "/v1/profiles/p/versions/0", None, 400, "version"),
        ("GET", "/v1/audit?limit=many", None, 400, "limit="),
    ]
    before = db_snapshot(db)
    g0 = gauges(u)
    fails = []
    for name, body, status, sub in bad_uploads:
        try:
            want(upload(u, adm, body), status, "upload: " + name, sub)
        except Fail as e:
            fails.append(str(e))
        except (OSError, http.client.HTTPException) as e:
            fails.append("upload: %s: no answer (%s)" % (name, e))
    # Refused from the headers alone, before any of the body is read.
    try:
        want(post_headers_only(u, "/v1/reports", adm, 100 * 1024), 413,
             "upload: Content-Length over --max-body, no body sent", "limit")
    except Fail as e:
        fails.append(str(e))
    except (OSError, http.client.HTTPException) as e:
        fails.append("Content-Length over the limit: no answer from the "
                     "headers alone (%s)" % e)
    # Over the limit without a Content-Length: chunked.
    try:
        chunks = iter([big[i:i + 8192] for i in range(0, len(big), 8192)])
        want(request(u, "POST", "/v1/reports", chunks, adm), 413,
             "upload: chunked body over --max-body", "limit")
    except Fail as e:
        fails.append(str(e))
    except (OSError, http.client.HTTPException) as e:
        fails.append("chunked upload over the limit: no answer (%s)" % e)
    for m, path, body, status, sub in other:
        try:
            want(request(u, m, path, body, adm), status,
                 "%s %s %s" % (m, path[:40], short(body, 40)), sub)
        except Fail as e:
            fails.append(str(e))
    check(not fails, "%d of %d refused wrongly: %s" % (
        len(fails), len(bad_uploads) + len(other) + 2, " | ".join(fails)))
    after = db_snapshot(db)
    check(before == after, "bad input changed the database: " +
          snap_diff(before, after))
    eq(gauges(u), g0, "/metrics gauges after bad input")
    m = metrics(u)
    check(metric(m, "cpufleet_reports_uploaded_total", result="rejected") >=
          len(bad_uploads) - 2, "uploads counted as rejected: %s" %
          metric(m, "cpufleet_reports_uploaded_total", result="rejected"))
    # Still serving, and a body just under the limit is accepted.
    want(request(u, "GET", "/v1/health"), 200, "health after bad input")
    ok = json.dumps(report("n1-01", "good-2", kernel="5.1")).encode()
    ok = ok[:-1] + b" " * (65536 - len(ok)) + b"}"
    eq(len(ok), 65536, "test body size")
    want(upload(u, adm, ok), 201, "upload of exactly --max-body bytes")
    # Text that is valid UTF-8 beyond ASCII is fine, and served back as is.
    d = report("n1-02", "good-3")
    d["host"]["hostname"] = "h\u00f6st-\u65e5\u672c-\U0001f600"
    want(upload(u, adm, json.dumps(d, ensure_ascii=False)), 201,
         "upload with a UTF-8 hostname")
    h = want(request(u, "GET", "/v1/hosts/n1-02", tok=adm), 200,
             "GET n1-02").json()
    eq(h.get("hostname"), d["host"]["hostname"], "UTF-8 hostname")
    s.stop()
    integrity(db)
    # Under the default 1 MiB limit: deep nesting is refused by the
    # parser, not by the size check (and must not crash the server).
    db2 = new_db(tmp, "db2")
    adm2, _ = token(db2, "admin")
    s = Server(db2)
    before = db_snapshot(db2)
    for name, body in (("100000 [", b"[" * 100000),
                       ("100000 nested objects", b'{"a":' * 100000),
                       ("report with 100000 [ in a member",
                        good[:-1] + b', "kvm": ' + b"[" * 100000 + b"}")):
        want(upload(s.url, adm2, body), 400, "upload: " + name,
             "malformed JSON")
    want(post_headers_only(s.url, "/v1/reports", adm2, 2 << 20), 413,
         "upload announcing 2 MiB under the default limit", "limit")
    want(request(s.url, "GET", "/v1/health"), 200, "health after nesting")
    after = db_snapshot(db2)
    check(before == after, "deep nesting changed the database: " +
          snap_diff(before, after))
    s.stop()


def local_baseline(tmp, name, files):
    out = os.path.join(tmp, name + ".json")
    rc, _, err = cli("baseline", "-q", "-o", out, *files)
    check(rc in (0, 1), "local baseline %s: exit %d: %s" % (name, rc, err))
    with open(out) as f:
        return out, json.load(f)


@case("pools, baselines, published profiles (immutable) and the audit log")
def t_pools(tmp):
    db = new_db(tmp)
    adm, adm_id = token(db, "admin")
    rdr, _ = token(db, "reader")
    s = Server(db)
    u = s.url
    for h in FLEET:
        want(upload(u, adm, report(h, "p-" + h)), 201, "upload " + h)
    for h in FLEET:
        r = want(request(u, "PUT", "/v1/hosts/%s/labels" % h,
                         {"labels": {"cpu": h[:-3], "dc": "dc1"}}, adm), 200,
                 "labels of " + h)
        eq(r.json().get("labels"), {"cpu": h[:-3], "dc": "dc1"},
           "labels answer")
    want(request(u, "PUT", "/v1/hosts/nosuch/labels", {"labels": {}}, adm),
         404, "labels of an unknown host", "nosuch")
    h = request(u, "GET", "/v1/hosts/v1-02", tok=rdr).json()
    eq(h.get("labels"), {"cpu": "v1", "dc": "dc1"}, "labels on GET host")
    # By labels.
    r = want(request(u, "PUT", "/v1/pools/n1", {"labels": {"cpu": "n1"}},
                     adm), 201, "PUT pool n1 (new)")
    eq(r.json().get("members"), ["n1-01", "n1-02"], "members of n1")
    r = want(request(u, "PUT", "/v1/pools/n1", {"labels": {"cpu": "n1",
                                                          "dc": "dc1"}},
                     adm), 200, "PUT pool n1 (replace)")
    eq(r.json().get("members"), ["n1-01", "n1-02"], "members of n1")
    # By hosts, with one not yet known.
    r = want(request(u, "PUT", "/v1/pools/mixed",
                     {"hosts": ["v1-01", "n1-01", "a72-01", "later-01"]},
                     adm), 201, "PUT pool mixed")
    eq(r.json().get("members"), ["a72-01", "n1-01", "v1-01"],
       "members of mixed (known hosts only)")
    r = want(request(u, "PUT", "/v1/pools/v1",
                     {"labels": {"cpu": "v1"}, "hosts": ["a72-01"]}, adm),
             201, "PUT pool v1")
    eq(r.json().get("members"), ["a72-01", "v1-01", "v1-02"],
       "members of labels + hosts")
    r = want(request(u, "PUT", "/v1/pools/v1", {"labels": {"cpu": "v1"}},
                     adm), 200, "PUT pool v1 again")
    pools = want(request(u, "GET", "/v1/pools", tok=rdr), 200,
                 "GET pools").json().get("pools", [])
    eq([p.get("name") for p in pools], ["mixed", "n1", "v1"], "pools listed")
    r = want(request(u, "GET", "/v1/pools/v1", tok=rdr), 200, "GET pool v1")
    eq((r.json().get("labels"), r.json().get("hosts"),
        r.json().get("members")), ({"cpu": "v1"}, [], ["v1-01", "v1-02"]),
       "pool v1")
    # Compute: the same profile as the local command.
    r = want(request(u, "POST", "/v1/pools/n1/baseline", {}, rdr), 200,
             "baseline of n1 (reader)").json()
    eq((r.get("feasible"), r.get("published"), r.get("conflicts")),
       (True, None, []), "baseline n1: feasible, published, conflicts")
    eq(r.get("hosts"), [{"id": "n1-01", "report_id": "p-n1-01"},
                        {"id": "n1-02", "report_id": "p-n1-02"}],
       "baseline n1 sources")
    _, local = local_baseline(tmp, "n1", [FLEET_DIR + "/n1-01.json",
                                          FLEET_DIR + "/n1-02.json"])
    eq(r.get("profile"), local, "server baseline vs `cpufleet baseline`")
    # Publish 1, 2.
    pv0 = db_query(db, "SELECT count(*) FROM profile_versions")[0][0]
    for v in (1, 2):
        r = want(request(u, "POST", "/v1/pools/n1/baseline",
                         {"publish": True}, adm), 201, "publish %d" % v)
        eq(r.json().get("published"), {"name": "n1", "version": v},
           "published")
    r = want(request(u, "POST", "/v1/pools/n1/baseline",
                     {"publish": True, "name": "n1-prod"}, adm), 201,
             "publish under another name")
    eq(r.json().get("published"), {"name": "n1-prod", "version": 1},
       "published as")
    p = want(request(u, "GET", "/v1/profiles/n1", tok=rdr), 200,
             "GET profile n1").json()
    eq((p.get("name"), p.get("version"), p.get("pool"), p.get("created_by")),
       ("n1", 2, "n1", adm_id), "latest profile n1")
    eq(p.get("profile"), local, "published profile body")
    eq(p.get("sources"), [{"host": "n1-01", "report_id": "p-n1-01"},
                          {"host": "n1-02", "report_id": "p-n1-02"}],
       "published sources")
    vs = want(request(u, "GET", "/v1/profiles/n1/versions", tok=rdr), 200,
              "versions").json().get("versions", [])
    eq([x.get("version") for x in vs], [2, 1], "versions, newest first")
    p1 = want(request(u, "GET", "/v1/profiles/n1/versions/1", tok=rdr), 200,
              "version 1").json()
    eq((p1.get("version"), p1.get("profile")), (1, local), "version 1")
    want(request(u, "GET", "/v1/profiles/n1/versions/3", tok=rdr), 404,
         "version 3", "3")
    want(request(u, "GET", "/v1/profiles/nosuch", tok=rdr), 404,
         "unknown profile", "nosuch")
    want(request(u, "GET", "/v1/profiles/nosuch/versions", tok=rdr), 404,
         "versions of an unknown profile", "nosuch")
    names = [x.get("name") for x in request(
        u, "GET", "/v1/profiles", tok=rdr).json().get("profiles", [])]
    eq(sorted(names), ["n1", "n1-prod"], "profiles listed")
    # Immutable, even to someone holding the database.
    for sql in ("UPDATE profile_versions SET body = '{}' "
                "WHERE name = 'n1' AND version = 1",
                "DELETE FROM profile_versions WHERE name = 'n1'",
                "UPDATE profile_sources SET report_id = 'x'",
                "DELETE FROM profile_sources",
                "INSERT INTO profile_sources (name, version, seq, host, "
                "report_id) VALUES ('n1', 1, 2, 'v1-01', 'x')"):
        try:
            db_query(db, sql)
        except DbError as e:
            check("immutable" in str(e), "%s failed, but not for "
                  "immutability: %s" % (sql, e))
        else:
            raise Fail("the database allowed: " + sql)
    p1b = request(u, "GET", "/v1/profiles/n1/versions/1", tok=rdr).json()
    eq(p1b, p1, "version 1 after the attempts")
    # Infeasible: 409 and nothing published.
    r = want(request(u, "POST", "/v1/pools/mixed/baseline", {}, rdr), 200,
             "baseline of mixed").json()
    eq(r.get("feasible"), False, "mixed feasible")
    check(r.get("conflicts"), "mixed: no conflicts listed")
    pv = db_query(db, "SELECT count(*) FROM profile_versions")[0][0]
    want(request(u, "POST", "/v1/pools/mixed/baseline", {"publish": True},
                 adm), 409, "publishing an infeasible baseline", "feasible")
    eq(db_query(db, "SELECT count(*) FROM profile_versions")[0][0], pv,
       "profile versions after the 409")
    eq(pv - pv0, 3, "profile versions published")
    want(request(u, "GET", "/v1/profiles/mixed", tok=rdr), 404,
         "profile of the infeasible pool")
    # Empty pool, unknown pool.
    want(request(u, "PUT", "/v1/pools/empty", {"hosts": ["nobody"]}, adm),
         201, "PUT pool of unknown hosts")
    want(request(u, "POST", "/v1/pools/empty/baseline", {}, rdr), 409,
         "baseline of an empty pool", "no member")
    want(request(u, "POST", "/v1/pools/nosuch/baseline", {}, rdr), 404,
         "baseline of an unknown pool", "nosuch")
    # The matrix.
    mx = want(request(u, "GET", "/v1/pools/n1/matrix", tok=rdr), 200,
              "matrix n1").json()
    # n1-01 and n1-02 are one configuration (the same dump, only the
    # kernel string differs: tests/data/README.md): one row, one cell, the
    # hosts listed once under it.
    eq(mx.get("hosts"), ["n1-01", "n1-02"], "matrix hosts")
    eq([(c.get("config"), c.get("hosts")) for c in mx.get("configs", [])],
       [("c1", ["n1-01", "n1-02"])], "matrix configurations")
    eq([[c.get("compatible") for c in row.get("cells", [])]
        for row in mx.get("rows", [])], [[True]], "matrix cells")
    eq([c.get("compatible") for c in (mx.get("baseline") or {}).get(
        "cells", [])], [True], "matrix baseline row")
    mx = want(request(u, "GET", "/v1/pools/mixed/matrix", tok=rdr), 200,
              "matrix mixed").json()
    eq(mx.get("baseline"), None, "matrix without a published profile")
    cells = [[c.get("compatible") for c in row["cells"]] for row in
             mx["rows"]]
    eq([cells[i][i] for i in range(3)], [True] * 3, "matrix diagonal")
    check(not all(all(r) for r in cells), "mixed matrix all compatible")
    # Delete.
    want(request(u, "DELETE", "/v1/pools/mixed", tok=adm), 200,
         "DELETE pool")
    want(request(u, "GET", "/v1/pools/mixed", tok=rdr), 404,
         "deleted pool", "mixed")
    want(request(u, "DELETE", "/v1/pools/mixed", tok=adm), 404,
         "DELETE again")
    # Membership by labels follows the hosts' labels.
    want(request(u, "PUT", "/v1/hosts/n1-02/labels",
                 {"labels": {"cpu": "retired", "dc": "dc1"}}, adm), 200,
         "relabel n1-02")
    eq(request(u, "GET", "/v1/pools/n1", tok=rdr).json().get("members"),
       ["n1-01"], "n1 members after relabelling n1-02")
    # Concurrent publications get distinct, dense versions.
    results = []

    def pub():
        try:
            results.append(request(u, "POST", "/v1/pools/v1/baseline",
                                   {"publish": True}, adm))
        except (OSError, http.client.HTTPException) as e:
            results.append(e)
    ths = [threading.Thread(target=pub) for _ in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)
    got = sorted(r.json()["published"]["version"] for r in results
                 if isinstance(r, Resp) and r.status == 201)
    eq(got, list(range(1, 9)), "versions of 8 concurrent publications "
       "(answers: %s)" % short(results))
    # A profile document put by hand.
    r = want(request(u, "PUT", "/v1/profiles/hand", local, adm), 201,
             "PUT profile")
    eq(r.json(), {"name": "hand", "version": 1}, "PUT profile answer")
    r = want(request(u, "PUT", "/v1/profiles/hand", local, adm), 201,
             "PUT profile again")
    eq(r.json().get("version"), 2, "PUT profile again: version")
    # The audit log: who did what.
    au = want(request(u, "GET", "/v1/audit?limit=0", tok=adm), 200,
              "GET audit").json().get("audit", [])
    seqs = [a.get("seq") for a in au]
    eq(seqs, sorted(seqs, reverse=True), "audit newest first")

    def rows(action, obj):
        return [a for a in au if a.get("action") == action and
                a.get("object") == obj]
    eq([a.get("actor") for a in rows("pool.put", "n1")], [adm_id] * 2,
       "pool.put n1 audit actors")
    eq([a.get("actor") for a in rows("profile.publish", "n1")], [adm_id] * 2,
       "profile.publish n1 audit actors")
    eq(len(rows("pool.delete", "mixed")), 1, "pool.delete audit rows")
    eq(len(rows("host.labels", "v1-02")), 1, "host.labels audit rows")
    eq(len(rows("profile.publish", "mixed")), 0, "audit of the refused "
       "publication")
    eq(len(rows("profile.publish", "hand")), 2, "profile.publish hand")
    check(rows("token.create", adm_id), "no token.create audit row")
    au2 = request(u, "GET", "/v1/audit?limit=2", tok=adm).json()["audit"]
    eq(au2, au[:2], "audit ?limit=2")
    s.stop()
    integrity(db)


@case("exports: GET /v1/profiles/NAME/versions/V/export in each format is "
      "`cpufleet export` of the stored version, named with its version and "
      "fingerprint; bad input a 4xx; nothing written")
def t_exports(tmp):
    db, adm, rdr, s, u = started(tmp)
    x86 = doc("tests/data/x86/spr-05.json")
    x86["report_id"] = "ex-spr"
    for d in (report("n1-01", "ex-n1"), x86):
        want(upload(u, adm, d), 201, "upload " + d["host"]["id"])
    for name, host in (("arm", "n1-01"), ("intel", "spr-05")):
        want(request(u, "PUT", "/v1/pools/" + name, {"hosts": [host]}, adm),
             201, "pool " + name)
        want(request(u, "POST", "/v1/pools/%s/baseline" % name,
                     {"publish": True}, adm), 201, "publish " + name)
    before = db_snapshot(db)
    for name, fmt, ok in (("arm", "qemu", True), ("arm", "firecracker", True),
                          ("arm", "libvirt", False), ("intel", "qemu", True),
                          ("intel", "libvirt", True),
                          ("intel", "firecracker", True)):
        path = "/v1/profiles/%s/versions/1/export?format=%s&allow_drop=1" % (
            name, fmt)
        r = request(u, "GET", path, tok=rdr)
        if not ok:
            want(r, 400, "%s as %s" % (name, fmt), "arm64")
            continue
        e = want(r, 200, "%s as %s" % (name, fmt)).json()
        stored = request(u, "GET", "/v1/profiles/%s/versions/1" % name,
                         tok=rdr).json()["profile"]
        f = os.path.join(tmp, name + ".json")
        with open(f, "w") as fh:
            json.dump(stored, fh)
        _, want_json, _ = cli("export", "--format", fmt, "--allow-drop",
                              "--json", "--name", name, "--version", "1", f,
                              check_rc=0)
        w = json.loads(want_json)
        eq((e.get("format"), e.get("profile"), e.get("version"),
            e.get("arch")), (fmt, name, 1, w["arch"]),
           "%s %s: what the export names" % (name, fmt))
        eq(e.get("text"), w["text"], "%s %s: the text of `cpufleet export`"
           % (name, fmt))
        eq(e.get("fingerprint"), w["fingerprint"],
           "%s %s: fingerprint" % (name, fmt))
        check(e["fingerprint"].startswith("sha256:") and
              len(e["fingerprint"]) == 71, "fingerprint %r" % e["fingerprint"])
        if fmt != "firecracker":
            check("profile %s version 1, fingerprint %s" % (
                name, e["fingerprint"]) in e["text"],
                "%s %s: the text names profile, version and fingerprint"
                % (name, fmt))
        # The same answer twice (a published version is immutable).
        eq(request(u, "GET", path, tok=rdr).json(), e, "%s %s again"
           % (name, fmt))
    for path, code, sub in (
            ("/v1/profiles/intel/versions/1/export", 400, "format"),
            ("/v1/profiles/intel/versions/1/export?format=vmware", 400,
             "vmware"),
            ("/v1/profiles/intel/versions/0/export?format=qemu", 400,
             "version"),
            ("/v1/profiles/intel/versions/x/export?format=qemu", 400,
             "version"),
            ("/v1/profiles/intel/versions/2/export?format=qemu", 404,
             "no version 2"),
            ("/v1/profiles/nosuch/versions/1/export?format=qemu", 404,
             "nosuch"),
            ("/v1/profiles/intel/versions/1/export?format=qemu&allow_drop=2",
             400, "allow_drop"),
            # Without allow_drop: a bit QEMU has no name for is refused,
            # named (Sapphire Rapids' SDBG, CPUID 1 ECX[11]: QEMU's
            # FEAT_1_ECX has NULL there).
            ("/v1/profiles/intel/versions/1/export?format=qemu", 400,
             "CPUID_00000001_0_ECX.sdbg")):
        want(request(u, "GET", path, tok=rdr), code, path, sub)
    eq(db_snapshot(db), before, "database after exports")
    s.stop()


@case("pools hold one architecture: a mixed PUT is a 409 that names both "
      "hosts and writes nothing; a pool mixed later by labels says so at "
      "baseline")
def t_pool_arch(tmp):
    db, adm, rdr, s, u = started(tmp)
    want(upload(u, adm, report("n1-01", "a-n1")), 201, "upload n1-01 (arm64)")
    want(upload(u, adm, report(src="tests/data/x86/spr-05.json",
                               report_id="a-spr")), 201,
         "upload spr-05 (x86)")
    before = db_snapshot(db)
    r = want(request(u, "PUT", "/v1/pools/mixed",
                     {"hosts": ["n1-01", "spr-05"]}, adm), 409,
             "PUT a pool of arm64 and x86 hosts", "architecture")
    err = r.json().get("error", "")
    for part in ("n1-01 is arm64", "spr-05 is x86",
                 "one pool per architecture"):
        check(part in err, "409 lacks %r: %s" % (part, short(err)))
    eq(snap_diff(before, db_snapshot(db)), "", "database after the 409")
    want(request(u, "GET", "/v1/pools/mixed", tok=rdr), 404,
         "the refused pool", "mixed")
    # By labels: set with one architecture, mixed when a label is added.
    for h in ("n1-01", "spr-05"):
        want(request(u, "PUT", "/v1/hosts/%s/labels" % h,
                     {"labels": {"rack": "r1" if h == "n1-01" else "r2"}},
                     adm), 200, "label " + h)
    r = want(request(u, "PUT", "/v1/pools/rack1", {"labels": {"rack": "r1"}},
                     adm), 201, "PUT pool rack1")
    eq(r.json().get("members"), ["n1-01"], "members of rack1")
    r = want(request(u, "PUT", "/v1/pools/rack1",
                     {"labels": {"rack": "r1"}, "hosts": ["spr-05"]}, adm),
             409, "PUT rack1 with an x86 member", "spr-05 is x86")
    eq(request(u, "GET", "/v1/pools/rack1", tok=rdr).json().get("hosts"), [],
       "rack1 unchanged by the refused PUT")
    want(request(u, "PUT", "/v1/hosts/spr-05/labels",
                 {"labels": {"rack": "r1"}}, adm), 200, "relabel spr-05")
    r = want(request(u, "POST", "/v1/pools/rack1/baseline", {}, rdr), 409,
             "baseline of a pool its labels made mixed", "mixes architectures")
    err = r.json().get("error", "")
    for part in ("n1-01 is arm64", "spr-05 is x86", "labels",
                 "one pool per architecture"):
        check(part in err, "409 lacks %r: %s" % (part, short(err)))
    # The command line: exit 2 (a 4xx), the server's reason on stderr.
    rc, _, err = cli("pool", "--server", u, "--token", adm, "set", "mixed",
                     "--host", "n1-01", "--host", "spr-05")
    eq(rc, 2, "pool set mixed: exit")
    check("n1-01 is arm64, spr-05 is x86" in err,
          "pool set mixed: stderr: " + short(err))
    s.stop()
    integrity(db)


def local_check(profile, files):
    rc, out, err = cli("check", "--json", "--profile", profile, *files)
    check(rc in (0, 1), "local check: exit %d: %s" % (rc, err))
    d = json.loads(out)
    return rc, {v["host"]: (v["compatible"], [x["text"] for x in v["reasons"]])
                for v in d["verdicts"]}


def upload_arm64(u, adm, prefix, lab=False):
    """Uploads the example fleet and the real-writable hosts (with LAB, the
    lab's too), report_id PREFIX + host; returns {host: file}."""
    files = {h: "%s/%s.json" % (FLEET_DIR, h) for h in FLEET}
    for n in ("altra", "graviton3", "cortex-a72"):
        files[n] = "%s/%s.json" % (RW_DIR, n)
    for n in ("a53", "a64fx", "max") if lab else ():
        files[n] = "%s/%s.json" % (LAB_DIR, n)
    for h, f in files.items():
        want(upload(u, adm, report(src=f, report_id=prefix + h)), 201,
             "upload " + h)
    return files


# The reason object of README "JSON: verdicts and matrices" (each key is
# a field of struct cf_reason in include/cpufleet.h, plus its sentence);
# "needs" only for a broken dependency.
REASON_KEYS = {"kind", "register", "field", "features", "wants", "offers",
               "text"}


@case("json: `check --json` and `matrix --json` give, locally and with "
      "--server, the one document README \"JSON: verdicts and matrices\" "
      "describes")
def t_json_shape(tmp):
    db, adm, rdr, s, u = started(tmp)
    files = upload_arm64(u, adm, "j-")
    hosts = sorted(files)
    paths = [files[h] for h in hosts]
    # The same check, here and on the server.
    prof, _ = local_baseline(tmp, "v1", [files["v1-01"], files["v1-02"]])
    rc, out, err = cli("check", "--json", "--profile", prof, *paths)
    eq(rc, 1, "local check --json: exit (stderr %s)" % short(err))
    loc = json.loads(out)
    rrc, out, err = cli("check", "--server", u, "--token", rdr, "--json",
                        "--profile", prof, *hosts)
    eq(rrc, rc, "check --server --json: exit (stderr %s)" % short(err))
    eq(json.loads(out), loc, "check --server --json: the local document")
    with open(prof) as f:
        rem = want(request(u, "POST", "/v1/check", {"profile": json.load(f),
                                                    "hosts": hosts}, rdr),
                   200, "POST /v1/check").json()
    # Transport fields, and only those, differ: the CLI names the profile
    # file it read ("profile") and lists "verdicts"; the API lists
    # "results", each with "details", the same reasons kept for its older
    # clients.
    eq(sorted(loc), ["compatible", "profile", "verdicts"], "local keys")
    eq(sorted(rem), ["compatible", "results"], "API keys")
    eq(loc["profile"], prof, "local profile")
    for x in rem["results"]:
        eq(x.get("details"), x.get("reasons"), "details of " + x["host"])
    eq([{k: v for k, v in x.items() if k != "details"}
        for x in rem["results"]], loc["verdicts"], "verdicts: API vs local")
    eq(rem["compatible"], loc["compatible"], "compatible: API vs local")
    reasons = [r for v in loc["verdicts"] for r in v["reasons"]]
    check(len(reasons) > 5, "too few reasons to compare")
    for r in reasons:
        eq(set(r) - {"needs"}, REASON_KEYS, "reason keys of %s" % r)
    check(all(sorted(v) == ["compatible", "host", "reasons", "summary"]
              for v in loc["verdicts"]), "verdict keys")
    # The same matrix: the pool of these hosts and `cpufleet matrix` on
    # their reports, in the pool's order (by host id).
    want(request(u, "PUT", "/v1/pools/j", {"hosts": hosts}, adm), 201,
         "PUT pool j")
    rc, out, err = cli("matrix", "--json", *paths)
    eq(rc, 1, "local matrix --json: exit (stderr %s)" % short(err))
    loc = json.loads(out)
    rrc, out, err = cli("pool", "--server", u, "--token", rdr, "matrix",
                        "j", "--json")
    # Local and remote: the same exit code (README's table: 1, some pair
    # incompatible).
    eq(rrc, rc, "pool --server matrix --json: exit (stderr %s)" % short(err))
    rem = json.loads(out)
    # Transport fields of the API: the pool's name and its published
    # baseline on each member ("baseline", null here: none published).
    eq(sorted(loc), ["compatible", "configs", "hosts", "rows"],
       "local matrix keys")
    eq(sorted(rem), ["baseline", "compatible", "configs", "hosts", "pool",
                     "rows"], "API matrix keys")
    eq((rem["pool"], rem["baseline"]), ("j", None), "API matrix pool")
    eq({k: rem[k] for k in loc}, loc, "matrix: API vs local")
    eq(loc["hosts"], hosts, "matrix hosts")
    # Each host once, under its configuration; a cell per pair of them:
    # the example fleet's three pairs of hosts are three configurations,
    # the three real-writable dumps three more.
    eq(sorted(h for c in loc["configs"] for h in c["hosts"]), hosts,
       "matrix hosts under their configurations")
    eq(len(loc["configs"]), 6, "matrix configurations")
    cells = [c for r in loc["rows"] for c in r["cells"]]
    eq(len(cells), len(loc["configs"]) ** 2, "matrix cells")
    check(any(not c["compatible"] for c in cells), "matrix all compatible")
    s.stop()


@case("check: POST /v1/check agrees with `cpufleet check`, by document, "
      "name and version, and with `explain` from a host; check --server")
def t_check(tmp):
    db, adm, rdr, s, u = started(tmp)
    files = upload_arm64(u, adm, "c-", lab=True)
    hosts = sorted(files)
    profiles = {
        "v1": [files["v1-01"], files["v1-02"]],
        "a72": [files["a72-01"], files["a72-02"]],
        "fleet": [files[h] for h in FLEET],
        "rw": [files[h] for h in ("altra", "graviton3", "cortex-a72")],
        "lab": [files[h] for h in ("a53", "a64fx", "max")],
    }
    paths = {}
    n_incompat = 0
    for name, srcs in profiles.items():
        path, pdoc = local_baseline(tmp, name, srcs)
        paths[name] = path
        rc, local = local_check(path, [files[h] for h in hosts])
        r = want(request(u, "POST", "/v1/check",
                         {"profile": pdoc, "hosts": hosts}, rdr), 200,
                 "check with profile %s" % name).json()
        res = r.get("results", [])
        eq([x.get("host") for x in res], hosts, "result hosts (%s)" % name)
        for x in res:
            h = x["host"]
            eq((x.get("compatible"), [r["text"] for r in x["reasons"]]),
               local[h], "profile %s on %s: server vs local" % (name, h))
            n_incompat += not x.get("compatible")
        eq(r.get("compatible"), rc == 0, "overall compatible (%s)" % name)
    check(n_incompat > 5, "too few incompatible verdicts to mean much")
    # By name and version.
    want(request(u, "PUT", "/v1/profiles/prod", json.load(open(paths["v1"])),
                 adm), 201, "PUT profile prod v1")
    want(request(u, "PUT", "/v1/profiles/prod", json.load(open(paths["a72"])),
                 adm), 201, "PUT profile prod v2")
    sel = ["a72-01", "n1-01", "v1-01"]
    for body, pname in (({"profile": "prod"}, "a72"),
                        ({"profile": "prod", "version": 2}, "a72"),
                        ({"profile": "prod", "version": 1}, "v1")):
        _, local = local_check(paths[pname], [files[h] for h in sel])
        b = dict(body, hosts=sel)
        r = want(request(u, "POST", "/v1/check", b, rdr), 200,
                 "check %s" % body).json()
        eq({x["host"]: (x["compatible"], [y["text"] for y in x["reasons"]])
            for x in r["results"]}, local, "check %s vs local" % body)
    want(request(u, "POST", "/v1/check", {"profile": "prod", "version": 3,
                                          "hosts": sel}, rdr), 404,
         "check version 3", "prod")
    want(request(u, "POST", "/v1/check", {"profile": "nosuch",
                                          "hosts": sel}, rdr), 404,
         "check with an unknown profile", "nosuch")
    want(request(u, "POST", "/v1/check", {"profile": "prod",
                                          "hosts": ["v1-01", "ghost"]},
                 rdr), 404, "check on an unknown host", "ghost")
    # "from": a host's own profile (the web page's matrix cells), as
    # local `cpufleet explain A B` judges A's on B.
    for src, dst in (("v1-01", "n1-01"), ("altra", "graviton3"),
                     ("a72-01", "a72-02")):
        r = want(request(u, "POST", "/v1/check", {"from": src,
                                                  "hosts": [dst]}, rdr),
                 200, "check from %s on %s" % (src, dst)).json()
        _, out, _ = cli("explain", "--json", files[src], files[dst])
        v = [x for x in json.loads(out)["verdicts"] if x["from"] == src][0]
        eq((r["results"][0]["compatible"],
            [x["text"] for x in r["results"][0]["reasons"]]),
           (v["compatible"], [x["text"] for x in v["reasons"]]),
           "check from %s on %s vs local explain" % (src, dst))
    want(request(u, "POST", "/v1/check", {"from": "ghost", "hosts": sel},
                 rdr), 404, "check from an unknown host", "ghost")
    want(request(u, "POST", "/v1/check", {"from": "v1-01", "profile": "prod",
                                          "hosts": sel}, rdr), 400,
         "check from a host and with a profile", "$.from")
    want(request(u, "POST", "/v1/check", {"from": 5, "hosts": sel}, rdr),
         400, "check from a number", "$.from")
    # check --server: same output and exit as the local command.
    base = ["check", "--server", u, "--token", rdr]
    for prof, sel, rc_want in (("prod@1", ["v1-01", "v1-02"], 0),
                               ("prod@1", ["v1-01", "n1-01", "a72-02"], 1),
                               ("prod", ["a72-01", "a72-02"], 0),
                               (paths["v1"], ["v1-02", "altra"], 1)):
        rc, out, err = cli(*base, "--profile", prof, *sel)
        lp = paths["v1"] if prof in ("prod@1",) or prof == paths["v1"] \
            else paths["a72"]
        lrc, lout, _ = cli("check", "--profile", lp,
                           *[files[h] for h in sel])
        eq(rc, rc_want, "check --server --profile %s %s: exit (stderr %s)"
           % (os.path.basename(prof), sel, short(err.strip())))
        eq(rc, lrc, "remote vs local exit")
        eq(out, lout, "check --server output vs local")
    rc, out, err = cli(*base, "--profile", "prod", "--json", "v1-01")
    eq(rc, 1, "check --server --json exit")
    eq(json.loads(out).get("verdicts", [{}])[0].get("host"), "v1-01",
       "check --server --json")
    rc, _, err = cli(*base, "--profile", "prod", "ghost")
    eq(rc, 2, "check --server on an unknown host: exit")
    check("ghost" in err, "check --server does not name the unknown host: "
          + short(err))
    rc, _, err = cli(*base, "--profile", "nosuch@1", "v1-01")
    eq(rc, 2, "check --server with an unknown profile: exit")
    # --vcpus: the lab's hosts reported KVM_CAP_MAX_VCPUS 512 (KVM 6.12).
    pmax, _ = local_baseline(tmp, "max", [files["max"]])
    for n, rc_want in ((512, 0), (513, 1)):
        rc, out, err = cli(*base, "--profile", pmax, "--vcpus", str(n),
                           "max")
        lrc, lout, _ = cli("check", "--profile", pmax, "--vcpus", str(n),
                           files["max"])
        eq((rc, out), (lrc, lout), "check --server --vcpus %d vs local" % n)
        eq(rc, rc_want, "check --server --vcpus %d: exit (stderr %s)"
           % (n, short(err.strip())))
    check("takes at most 512 vCPUs per VM" in out, "--vcpus 513: " +
          short(out))
    want(request(u, "POST", "/v1/check", {"profile": "prod", "vcpus": 0,
                                          "hosts": sel}, rdr), 400,
         "check with vcpus 0", "$.vcpus")
    rc, _, err = cli("check", "--server", "http://127.0.0.1:%d" % free_port(),
                     "--token", rdr, "--profile", "prod", "v1-01")
    eq(rc, 3, "check --server, server unreachable: exit")
    s.stop()


@case("check: local and --server give the same text, --json and exit, by "
      "file, NAME and NAME@V; named profiles in check, show, export and "
      "apply --check-only; profile get")
def t_check_same(tmp):
    db, adm, rdr, s, u = started(tmp)
    R = ["--server", u, "--token", rdr]
    files = upload_arm64(u, adm, "s-")
    want(upload(u, adm, report(src="tests/data/x86/spr-05.json",
                               report_id="s-spr")), 201, "upload spr-05")
    files["spr-05"] = "tests/data/x86/spr-05.json"
    # The pool of the two V1s, published as profile "v1", version 1.
    rc, _, err = cli("pool", "--server", u, "--token", adm, "set", "v1",
                     "--host", "v1-01", "--host", "v1-02")
    eq(rc, 0, "pool set v1: exit (%s)" % short(err.strip()))
    rc, out, err = cli("pool", "--server", u, "--token", adm, "baseline",
                       "v1", "--publish")
    eq(rc, 0, "pool baseline v1 --publish: exit (%s)" % short(err.strip()))
    check("published v1 version 1" in out, "publish: " + short(out))
    stored = want(request(u, "GET", "/v1/profiles/v1/versions/1", tok=rdr),
                  200, "GET profile v1 version 1").json()["profile"]
    # profile get: the stored document, to a file and to stdout.
    pfile = os.path.join(tmp, "got", "v1.json")
    os.mkdir(os.path.dirname(pfile))
    rc, out, err = cli("profile", *R, "get", "v1", "-o", pfile)
    eq(rc, 0, "profile get v1 -o: exit (%s)" % short(err.strip()))
    eq(out, "", "profile get -o: stdout")
    with open(pfile) as f:
        eq(json.load(f), stored, "profile get v1 -o: the stored version")
    eq(sorted(os.listdir(os.path.dirname(pfile))), ["v1.json"],
       "profile get -o leaves no temporary file")
    rc, out, err = cli("profile", *R, "get", "v1@1")
    eq(rc, 0, "profile get v1@1: exit (%s)" % short(err.strip()))
    eq(json.loads(out), stored, "profile get v1@1 on stdout")
    for bad, what in (("v1@2", "no version 2"), ("nosuch", "nosuch")):
        rc, out, err = cli("profile", *R, "get", bad)
        eq((rc, out), (2, ""), "profile get %s: exit, stdout" % bad)
        check(what in err, "profile get %s: %s" % (bad, short(err)))
    rc, out, _ = cli("profile", "--help")
    eq(rc, 0, "profile --help")
    check("get NAME[@VERSION]" in out, "profile --help: " + short(out))
    # check: one compatible set, one incompatible, text and JSON, each
    # profile spelling against the file `profile get` wrote.
    for sel, rc_want in ((["v1-01", "v1-02"], 0),
                         (["v1-01", "n1-01", "a72-02"], 1)):
        paths = [files[h] for h in sel]
        lrc, ltext, _ = cli("check", "--profile", pfile, *paths)
        eq(lrc, rc_want, "local check %s: exit" % sel)
        _, ljson, _ = cli("check", "--json", "--profile", pfile, *paths)
        loc = json.loads(ljson)
        for spec in ("v1", "v1@1", pfile):
            rc, text, err = cli("check", *R, "--profile", spec, *sel)
            eq((rc, text), (lrc, ltext), "check --server --profile %s %s "
               "vs local (stderr %s)" % (os.path.basename(spec), sel,
                                         short(err.strip())))
            rc, rjson, err = cli("check", *R, "--json", "--profile", spec,
                                 *sel)
            eq(rc, lrc, "check --server --json --profile %s: exit" % spec)
            # The document is the local one; "profile" is what was given.
            want_doc = dict(loc, profile=spec)
            eq(json.loads(rjson), want_doc, "check --server --json "
               "--profile %s %s vs local" % (os.path.basename(spec), sel))
            if spec == pfile:
                eq(rjson, ljson, "check --json, the same file: bytes")
    # The psABI levels are named profiles on the server too.
    lrc, ltext, _ = cli("check", "--profile", "x86-64-v3", files["spr-05"])
    rc, text, err = cli("check", *R, "--profile", "x86-64-v3", "spr-05")
    eq((rc, text), (lrc, ltext), "check --server --profile x86-64-v3 vs "
       "local (stderr %s)" % short(err.strip()))
    eq(rc, 0, "x86-64-v3 on spr-05")
    # show and export take NAME[@V] from the server as they take the file.
    lrc, ltext, _ = cli("show", pfile)
    rc, text, err = cli("show", *R, "v1@1")
    eq((rc, text), (lrc, ltext), "show --server v1@1 vs show FILE (%s)"
       % short(err.strip()))
    lrc, ltext, lerr = cli("export", "--format", "qemu", "--name", "v1",
                           "--version", "1", pfile)
    eq(lrc, 0, "export FILE: exit (%s)" % short(lerr.strip()))
    for spec in ("v1", "v1@1"):
        rc, text, err = cli("export", *R, "--format", "qemu", spec)
        eq((rc, text), (lrc, ltext), "export --server %s vs export FILE "
           "(%s)" % (spec, short(err.strip())))
    rc, _, err = cli("export", *R, "--format", "qemu", "v1@7")
    eq(rc, 2, "export --server v1@7: exit")
    check("no version 7" in err, "export v1@7: " + short(err))
    # apply --check-only opens a named profile as check does; what stops
    # it here is KVM (none on this machine) or the architecture, never
    # the name.
    for args in (["x86-64-v3"], R + ["v1@1"]):
        rc, _, err = cli("apply", "--check-only", *args)
        check("cannot open" not in err and args[-1] + ":" not in err,
              "apply --check-only %s: %s" % (args[-1], short(err.strip())))
        if rc != 0:
            check("KVM" in err or "kvm" in err, "apply --check-only %s: "
                  "stopped by something else than KVM: %s"
                  % (args[-1], short(err.strip())))
    s.stop()


@case("check --from HOST / --to HOST: where a guest started on HOST can go "
      "and whose guests may come, each pair as `explain` judges it")
def t_from_to(tmp):
    db, adm, rdr, s, u = started(tmp)
    R = ["--server", u, "--token", rdr]
    files = upload_arm64(u, adm, "ft-")
    rc, _, err = cli("pool", "--server", u, "--token", adm, "set", "fl",
                     *[a for h in FLEET for a in ("--host", h)])
    eq(rc, 0, "pool set fl: exit (%s)" % short(err.strip()))

    def explain(a, b):
        """The verdict on B of a guest started with A's own profile."""
        rc, out, err = cli("explain", "--json", files[a], files[b])
        check(rc in (0, 1), "explain %s %s: %s" % (a, b, short(err)))
        v = json.loads(out)["verdicts"][0]
        eq((v.get("from"), v.get("host")), (a, b), "explain's first verdict")
        return v

    def text(vs, brief=False):
        """As local check and explain print: one summary line per pair
        first (explain's own "summary"), then each incompatible pair's
        reasons; --brief: the summaries only."""
        lines = ["%s -> %s: %s" % (v["from"], v["host"], v["summary"])
                 for v in vs]
        for v in vs:
            if brief or v["compatible"]:
                continue
            lines.append("%s -> %s: INCOMPATIBLE" % (v["from"], v["host"]))
            lines += ["  - " + r["text"] for r in v["reasons"]]
        return "\n".join(lines) + "\n" if lines else ""

    for opt, host in (("--from", "v1-01"), ("--to", "n1-01"),
                      ("--from", "a72-01")):
        others = [h for h in FLEET if h != host]
        want_v = [explain(host, h) if opt == "--from" else explain(h, host)
                  for h in others]
        rc_want = 0 if all(v["compatible"] for v in want_v) else 1
        rc, out, err = cli("check", *R, opt, host, "--pool", "fl", "--json")
        eq(rc, rc_want, "check %s %s --pool fl --json: exit (%s)"
           % (opt, host, short(err.strip())))
        d = json.loads(out)
        eq(d.get(opt[2:]), host, "check %s: %s" % (opt, opt[2:]))
        eq(d.get("verdicts"), want_v, "check %s %s vs explain" % (opt, host))
        eq(d.get("compatible"), rc_want == 0, "check %s compatible" % opt)
        rc, out, err = cli("check", *R, opt, host, "--pool", "fl")
        eq((rc, out), (rc_want, text(want_v)), "check %s %s text" % (opt, host))
        rc, out, err = cli("check", *R, opt, host, "--pool", "fl", "--brief")
        eq((rc, out), (rc_want, text(want_v, True)),
           "check %s %s --brief" % (opt, host))
    # Both kinds of verdict, so that the comparison means something.
    rc, out, _ = cli("check", *R, "--from", "v1-01", "--pool", "fl", "--json")
    vs = json.loads(out)["verdicts"]
    check(any(v["compatible"] for v in vs) and
          any(not v["compatible"] for v in vs), "--from v1-01: one kind only")
    # Without --pool: every host the server knows but HOST; with HOSTs:
    # those.
    rc, out, err = cli("check", *R, "--from", "v1-01", "--json")
    eq(sorted(v["host"] for v in json.loads(out)["verdicts"]),
       sorted(h for h in files if h != "v1-01"), "--from without --pool")
    rc, out, err = cli("check", *R, "--to", "v1-02", "v1-01", "n1-01")
    eq(out, text([explain("v1-01", "v1-02"), explain("n1-01", "v1-02")]),
       "--to v1-02 v1-01 n1-01")
    # --from with --profile: that profile, by name or file, on the others.
    prof, _ = local_baseline(tmp, "v1s", [files["v1-01"], files["v1-02"]])
    others = [h for h in FLEET if h != "v1-01"]
    lrc, lout, _ = cli("check", "--json", "--profile", prof,
                       *[files[h] for h in others])
    want_v = [dict(v, **{"from": "v1-01"})
              for v in json.loads(lout)["verdicts"]]
    rc, out, err = cli("check", *R, "--from", "v1-01", "--profile", prof,
                       "--pool", "fl", "--json")
    eq((rc, json.loads(out).get("verdicts") if out else err),
       (lrc, want_v), "--from v1-01 --profile FILE vs check")
    # A pool of HOST alone: nowhere else to go, nothing incompatible.
    rc, _, err = cli("pool", "--server", u, "--token", adm, "set", "solo",
                     "--host", "v1-01")
    eq(rc, 0, "pool set solo: exit (%s)" % short(err.strip()))
    for opt in ("--from", "--to"):
        rc, out, err = cli("check", *R, opt, "v1-01", "--pool", "solo",
                           "--json")
        eq((rc, json.loads(out)["verdicts"] if rc == 0 else err), (0, []),
           "check %s v1-01 --pool solo" % opt)
    rc, out, err = cli("check", *R, "--from", "ghost", "--pool", "fl")
    eq(rc, 2, "--from an unknown host: exit")
    check("ghost" in err, "--from ghost: " + short(err))
    rc, _, err = cli("check", *R, "--from", "v1-01", "--to", "n1-01")
    eq(rc, 2, "--from and --to together: exit")
    s.stop()


def openssl_cert(tmp):
    cert = os.path.join(tmp, "cert.pem")
    key = os.path.join(tmp, "key.pem")
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-subj", "/CN=localhost", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2",
         "-keyout", key, "-out", cert], capture_output=True, timeout=60)
    check(p.returncode == 0, "openssl req failed: %s" % short(
        p.stderr.decode("utf-8", "replace")))
    return cert, key


@case("make run: its closing lines work as printed; a second server on a "
      "database in use, and a run that would remove it, are refused",
      sqlite_only="make run and its one-server lock use a SQLite file")
def t_make_run(tmp):
    out_dir = os.path.join(tmp, "run")
    db = os.path.join(out_dir, "cpufleet.db")

    def run_sh():
        return subprocess.run(["sh", "tools/run.sh", BIN, out_dir], cwd=ROOT,
                              capture_output=True, timeout=300)
    p = run_sh()
    text = p.stdout.decode("utf-8", "replace")
    eq(p.returncode, 0, "tools/run.sh exit (stderr: %s)" % short(
        p.stderr.decode("utf-8", "replace")))
    # The lines to paste: every indented line after the one that says so.
    tail = text.partition("paste these lines")[2].split("\n")[1:]
    lines = [x[2:] for x in tail if x.startswith("  ")]
    check(len(lines) >= 8 and lines[0].startswith(BIN + " server "),
          "make run's closing lines: %r" % lines[:3])
    script = "set -e\n" + "\n".join(lines) + "\n"
    p = subprocess.run(["sh", "-c", script], cwd=ROOT, capture_output=True,
                       timeout=120)
    got = p.stdout.decode("utf-8", "replace")
    eq(p.returncode, 0, "the pasted lines, run as printed (stderr: %s)"
       % short(p.stderr.decode("utf-8", "replace")))
    for want in ('"status":"ok"', "cpufleet_reports_uploaded_total",
                 '"n1-01"', "cpufleet.profile/v1"):
        check(want in got, "the pasted lines' output lacks %s: %s" % (
            want, short(got)))
    # One server per database: the second is refused, naming why, and
    # so is a run that would delete the database under the first.
    srv = Server(db)
    try:
        rc, _, err = cli("server", "--listen", "127.0.0.1:0", "--db", db,
                         timeout=30)
        check(rc != 0 and "in use by another cpufleet server" in err,
              "a second server on %s: exit %d, %s" % (db, rc, short(err)))
        p = run_sh()
        err = p.stderr.decode("utf-8", "replace")
        eq(p.returncode, 2, "tools/run.sh over a database in use: exit")
        check("in use by a running cpufleet server" in err,
              "tools/run.sh over a database in use: %s" % short(err))
        check(os.path.exists(db), "tools/run.sh removed a database in use")
        eq(request(srv.url, "GET", "/v1/health").status, 200,
           "health of the first server afterwards")
    finally:
        srv.stop()
    # Stopped, the database is free again.
    Server(db).stop()


@case("TLS: agent with --cacert and Python ssl upload over HTTPS; plain "
      "HTTP and untrusted clients refused")
def t_tls(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    agt, _ = token(db, "agent", "v1-01")
    cert, key = openssl_cert(tmp)
    s = Server(db, ["--cert", cert, "--key", key])
    eq(s.scheme, "https", "scheme the server announces")
    u = s.url
    ctx = ssl.create_default_context(cafile=cert)
    r = want(request(u, "GET", "/v1/health", ctx=ctx), 200, "HTTPS health")
    eq(r.json().get("status"), "ok", "health")
    want(request(u, "POST", "/v1/reports", report("n1-01", "tls-1"), adm,
                 ctx=ctx), 201, "HTTPS upload")
    spool = os.path.join(tmp, "spool")
    rc, _, err = cli(*agent_args(u, agt, spool, FLEET_DIR + "/v1-01.json",
                                 "--cacert", cert, "--once", "--tries", "2",
                                 "--quiet"))
    eq(rc, 0, "agent over HTTPS with --cacert: exit (stderr %s)" %
       short(err.strip()))
    eq(spool_entries(spool), [], "agent spool")
    h = want(request(u, "GET", "/v1/hosts", tok=adm, ctx=ctx), 200,
             "hosts").json()
    eq([x["id"] for x in h["hosts"]], ["n1-01", "v1-01"], "hosts over HTTPS")
    # Clients that do not trust the certificate.
    try:
        r = request(u, "GET", "/v1/health", ctx=ssl.create_default_context())
        raise Fail("a client without the CA got %r" % r)
    except ssl.SSLError:
        pass
    rc, _, err = cli(*agent_args(u, agt, os.path.join(tmp, "spool2"),
                                 FLEET_DIR + "/v1-01.json", "--once",
                                 "--tries", "1", "--quiet"))
    eq(rc, 3, "agent without --cacert: exit")
    eq(len(spool_entries(os.path.join(tmp, "spool2"))), 1,
       "the untrusted agent's report kept in the spool")
    rc, _, err = cli("hosts", "--server", u, "--token", adm, "--cacert",
                     cert)
    eq(rc, 0, "hosts --cacert over HTTPS: exit (stderr %s)" % short(err))
    # Plain HTTP to the TLS port.
    try:
        r = request("http://127.0.0.1:%d" % s.port, "GET", "/v1/health",
                    timeout=5)
        check(r.status // 100 != 2, "plain HTTP to the HTTPS port got %r" % r)
    except (OSError, http.client.HTTPException):
        pass
    rc, _, _ = cli("hosts", "--server", "http://127.0.0.1:%d" % s.port,
                   "--token", adm)
    eq(rc, 3, "hosts over plain HTTP to the HTTPS port: exit")
    # Still serving after those.
    want(request(u, "GET", "/v1/health", ctx=ctx), 200, "HTTPS health again")
    s.stop()
    # Plain HTTP warns where tokens would leave the machine: on every
    # address but loopback, never with TLS or on loopback.
    for listen, tls, warned in (("0.0.0.0:0", False, True),
                                ("127.0.0.1:0", False, False),
                                ("0.0.0.0:0", True, False)):
        p = Server(new_db(tmp, "w%s%d" % (listen[0], tls)),
                   ["--cert", cert, "--key", key] if tls else [],
                   listen=listen)
        time.sleep(0.2)
        p.stop()
        got = "plain HTTP on an address other than loopback" in p.log_tail()
        eq(got, warned, "server --listen %s%s: warning about plain HTTP" % (
            listen, " with TLS" if tls else ""))


@case("CLI: hosts, pool set/show/list/baseline/matrix/delete, exit codes, "
      "--help")
def t_cli(tmp):
    db = new_db(tmp)
    adm, _ = token(db, "admin")
    rdr, _ = token(db, "reader")
    for sub in (["hosts"], ["pool"], ["agent"], ["token"], ["server"],
                ["check", "--server", "http://x", "--help"]):
        args = sub if len(sub) > 1 else sub + ["--help"]
        rc, out, _ = cli(*args)
        eq(rc, 0, "cpufleet %s: exit" % " ".join(args))
        check("usage: cpufleet %s" % sub[0] in out,
              "cpufleet %s: no usage text" % " ".join(args))
        check("exit:" in out, "%s --help does not document the exit codes"
              % sub[0])
    rc, out, _ = cli("check", "--server", "http://x", "--help")
    check("--server URL" in out, "check --server --help is not the remote "
          "command's help")
    s = Server(db)
    u = s.url
    for h in FLEET:
        want(upload(u, adm, report(h, "cli-" + h)), 201, "upload")
    A = ["--server", u, "--token", adm]
    Rd = ["--server", u, "--token", rdr]
    rc, out, err = cli("hosts", *Rd)
    eq(rc, 0, "hosts: exit (%s)" % short(err))
    lines = out.strip().split("\n")
    check(lines[0].split()[:2] == ["HOST", "ARCH"], "hosts header: " +
          short(lines[0]))
    eq([ln.split()[0] for ln in lines[1:]], FLEET, "hosts listed")
    rc, out, _ = cli("hosts", *Rd, "--json")
    eq([x["id"] for x in json.loads(out)["hosts"]], FLEET, "hosts --json")
    rc, out, _ = cli("hosts", *Rd, "n1-02")
    eq(rc, 0, "hosts n1-02: exit")
    eq(json.loads(out)["report"]["host"]["id"], "n1-02", "hosts HOST report")
    rc, out, _ = cli("hosts", *Rd, "n1-02", "--at", "2099-01-01T00:00:00Z")
    eq((rc, json.loads(out).get("at")), (0, "2099-01-01T00:00:00.000Z"),
       "hosts HOST --at")
    rc, _, err = cli("hosts", *Rd, "ghost")
    eq(rc, 2, "hosts of an unknown host (404): exit")
    check("ghost" in err, "hosts ghost: error does not name it: " +
          short(err))
    rc, _, _ = cli("hosts", *Rd, "label", "n1-01", "cpu=n1")
    eq(rc, 2, "hosts label with a reader token (403): exit")
    rc, out, err = cli("hosts", *A, "label", "n1-01", "cpu=n1", "dc=dc1")
    eq(rc, 0, "hosts label: exit (%s)" % short(err))
    cli("hosts", *A, "label", "n1-02", "cpu=n1", check_rc=0)
    rc, out, _ = cli("hosts", *Rd, "--json")
    eq(json.loads(out)["hosts"][2]["labels"], {"cpu": "n1", "dc": "dc1"},
       "labels after hosts label")

    # One key at a time (the others kept), --remove, --replace; a label
    # with nothing to do is refused and changes nothing.
    def labels_of(h):
        return json.loads(cli("hosts", *Rd, h, check_rc=0)[1])["labels"]
    cli("hosts", *A, "label", "n1-01", "rack=r7", check_rc=0)
    eq(labels_of("n1-01"), {"cpu": "n1", "dc": "dc1", "rack": "r7"},
       "label HOST rack=r7 sets one key and keeps the others")
    cli("hosts", *A, "label", "n1-01", "dc=dc2", "--remove", "rack",
        check_rc=0)
    eq(labels_of("n1-01"), {"cpu": "n1", "dc": "dc2"},
       "label HOST dc=dc2 --remove rack")
    rc, _, err = cli("hosts", *A, "label", "n1-01")
    eq(rc, 2, "label HOST with nothing to do: exit")
    check("nothing to do" in err, "label HOST alone: " + short(err))
    eq(labels_of("n1-01"), {"cpu": "n1", "dc": "dc2"},
       "labels after a label with nothing to do")
    rc, _, _ = cli("hosts", *A, "--replace")
    eq(rc, 2, "--replace without label: exit")
    cli("hosts", *A, "label", "n1-01", "--replace", "cpu=n1", "dc=dc1",
        check_rc=0)
    eq(labels_of("n1-01"), {"cpu": "n1", "dc": "dc1"},
       "label HOST --replace cpu=n1 dc=dc1")
    rc, _, _ = cli("hosts", "--server", u, "--token", "cft_00_00")
    eq(rc, 2, "hosts with a bad token (401): exit")
    rc, _, _ = cli("hosts", "--server", u)
    eq(rc, 2, "hosts with no token (401): exit")
    rc, _, _ = cli("hosts", "--server", u, env={"CPUFLEET_TOKEN": rdr})
    eq(rc, 0, "hosts with CPUFLEET_TOKEN: exit")
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as f:
        f.write(rdr + "\n")
    rc, _, _ = cli("hosts", "--server", u, "--token-file", tf)
    eq(rc, 0, "hosts --token-file: exit")
    rc, _, _ = cli("hosts", "--server",
                   "http://127.0.0.1:%d" % free_port(), "--token", rdr)
    eq(rc, 3, "hosts, server unreachable: exit")
    rc, _, _ = cli("hosts")
    eq(rc, 2, "hosts without --server: exit")
    # pool
    rc, out, err = cli("pool", *A, "set", "n1", "--label", "cpu=n1")
    eq(rc, 0, "pool set by label: exit (%s)" % short(err))
    eq(json.loads(out).get("members"), ["n1-01", "n1-02"],
       "pool set answer's members")
    rc, out, err = cli("pool", *A, "set", "mixed", "--host", "n1-01",
                       "--host", "v1-01", "--host", "a72-01")
    eq(rc, 0, "pool set by hosts: exit (%s)" % short(err))
    rc, _, _ = cli("pool", *Rd, "set", "x", "--host", "n1-01")
    eq(rc, 2, "pool set with a reader token: exit")
    rc, out, _ = cli("pool", *Rd, "show", "mixed")
    eq(rc, 0, "pool show: exit")
    eq(json.loads(out).get("members"), ["a72-01", "n1-01", "v1-01"],
       "pool show members")
    rc, out, _ = cli("pool", *Rd, "list")
    eq((rc, [ln.split()[0] for ln in out.strip().split("\n")]),
       (0, ["mixed", "n1"]), "pool list")
    rc, out, err = cli("pool", *Rd, "baseline", "n1")
    eq(rc, 0, "pool baseline (feasible): exit (%s)" % short(err))
    check("baseline feasible" in out, "pool baseline output: " + short(out))
    pf = os.path.join(tmp, "n1-profile.json")
    rc, out, err = cli("pool", *A, "baseline", "n1", "--publish", "-o", pf)
    eq(rc, 0, "pool baseline --publish: exit (%s)" % short(err))
    check("published n1 version 1" in out, "publish output: " + short(out))
    with open(pf) as f:
        eq(json.load(f).get("schema"), "cpufleet.profile/v1", "-o FILE")
    rc, _, _ = cli("pool", *Rd, "baseline", "n1", "--publish")
    eq(rc, 2, "pool baseline --publish with a reader token: exit")
    rc, out, _ = cli("pool", *Rd, "baseline", "mixed")
    eq(rc, 1, "pool baseline of an infeasible pool: exit")
    check("INFEASIBLE" in out and "conflict:" in out,
          "infeasible baseline output: " + short(out))
    rc, _, err = cli("pool", *A, "baseline", "mixed", "--publish")
    # README's exit codes: infeasible is 1, with or without --publish.
    eq(rc, 1, "publishing an infeasible baseline (409): exit")
    check("no feasible baseline" in err, "publish refusal names why: " +
          short(err))
    rc, out, _ = cli("pool", *Rd, "matrix", "n1")
    eq(rc, 0, "pool matrix n1: exit")
    check("from\\to" in out and "[n1]" in out and
          "c1: n1-01 n1-02" in out, "matrix output: " + short(out))
    eq(out.count("ok"), 2, "matrix n1 cells: 1 configuration pair + 1 "
       "baseline")
    rc, out, _ = cli("pool", *Rd, "matrix", "mixed")
    # NO cells: 1 (README's table), published profile or not.
    eq(rc, 1, "pool matrix mixed (nothing published): exit")
    check("NO(" in out and "no published profile" in out,
          "matrix mixed output: " + short(out))
    rc, out, _ = cli("pool", *Rd, "matrix", "mixed", "--profile", "n1")
    eq(rc, 1, "pool matrix mixed --profile n1 (some incompatible): exit")
    rc, _, _ = cli("pool", *Rd, "show", "nosuch")
    eq(rc, 2, "pool show of an unknown pool: exit")
    rc, _, _ = cli("pool", *A, "delete", "mixed")
    eq(rc, 0, "pool delete: exit")
    rc, _, _ = cli("pool", *A, "delete", "mixed")
    eq(rc, 2, "pool delete again: exit")
    rc, _, _ = cli("pool", *A, "frobnicate", "x")
    eq(rc, 2, "pool with an unknown action: exit")
    rc, _, _ = cli("pool", "--server", "http://127.0.0.1:%d" % free_port(),
                   "--token", rdr, "list")
    eq(rc, 3, "pool list, server unreachable: exit")
    rc, _, _ = cli("token", "create", "--db", db, "--role", "agent")
    eq(rc, 2, "token create of an agent without --host: exit")
    rc, _, _ = cli("token", "create", "--db", db, "--role", "root")
    eq(rc, 2, "token create with an unknown role: exit")
    rc, _, _ = cli("token", "revoke", "--db", db, "ffffffffff")
    eq(rc, 2, "token revoke of an unknown id: exit")
    rc, _, _ = cli("server", "--db", db)
    eq(rc, 2, "server without --listen: exit")
    # A second server cannot take the port of a running one.
    try:
        rc, _, err = cli("server", "--listen", "127.0.0.1:%d" % s.port,
                         "--db", new_db(tmp, "other"),
                         timeout=5)
    except subprocess.TimeoutExpired:
        raise Fail("a second server started on the port of a running one")
    eq(rc, 2, "second server on a port in use: exit")
    check("cannot listen" in err, "port in use: " + short(err))
    garbage = os.path.join(tmp, "garbage.sqlite")
    with open(garbage, "w") as f:
        f.write("not a database\n" * 300)
    if PG is None:
        unusable = ((["--db", garbage], "a file that is not a database"),
                    (["--db", os.path.join(tmp, "nodir", "db.sqlite")],
                     "a database in a missing directory"))
    else:
        base = PG.base_url()
        unusable = ((["--db", base + "/no_such_database"],
                     "a database that does not exist"),
                    (["--db", "postgresql://cpufleet@127.0.0.1:%d/x" %
                      free_port()], "no server at the URL"))
    for args, what in unusable + (
            (["--db", db, "--cert", garbage, "--key", garbage],
             "a bad certificate"),
            (["--db", db, "--cert", garbage], "--cert without --key"),
            (["--db", db, "--max-body", "0"], "--max-body 0")):
        try:
            rc, _, err = cli("server", "--listen", "127.0.0.1:0", *args,
                             timeout=5)
        except subprocess.TimeoutExpired:
            raise Fail("server started with " + what)
        eq(rc, 2, "server with %s: exit (%s)" % (what, short(err.strip())))
    # Ids with characters that mean something in a URL round-trip.  "."
    # and ".." cannot: RFC 3986 section 2.3 makes %2E%2E the same segment
    # as "..", which section 5.2.4 removes, so no path can name them; the
    # server refuses them (issue 12), and the CLI still sends them encoded
    # so that the refusal comes back rather than another path's answer.
    odd = ["a b", "q?x=1", "h#1", "h\u00e9", "100%", ".x", "..y", "x%2Fy"]
    for dots in (".", ".."):
        want(upload(u, adm, report("n1-01", None, new_id=dots)), 400,
             "upload of host %r" % dots, "'.'")
        rc, _, err = cli("hosts", *Rd, dots)
        eq(rc, 2, "hosts %r: exit (%s)" % (dots, short(err.strip())))
        check("'..'" in err, "hosts %r: %s" % (dots, short(err.strip())))
    for hid in odd:
        want(upload(u, adm, report("n1-01", None, new_id=hid)), 201,
             "upload of host %r" % hid)
        rc, out, err = cli("hosts", *Rd, hid)
        eq(rc, 0, "hosts %r: exit (%s)" % (hid, short(err.strip())))
        eq(json.loads(out).get("id"), hid, "hosts %r: id" % hid)
        r = want(request(u, "GET", "/v1/hosts/" + urllib.parse.quote(
            hid, safe=""), tok=rdr), 200, "GET host %r" % hid)
        eq(r.json().get("id"), hid, "GET host %r: id" % hid)
        rc, _, err = cli("hosts", *A, "label", hid, "odd=yes")
        eq(rc, 0, "hosts label %r: exit (%s)" % (hid, short(err.strip())))
    rc, out, err = cli("pool", *A, "set", "..y", "--host", ".x", "--label",
                       "odd=yes")
    eq(rc, 0, "pool set ..y: exit (%s)" % short(err.strip()))
    rc, out, err = cli("pool", *Rd, "show", "..y")
    eq((rc, json.loads(out).get("members") if rc == 0 else err),
       (0, sorted(odd)), "pool show ..y members")
    rc, _, err = cli("pool", *A, "set", "..", "--host", ".x")
    eq(rc, 2, "pool set ..: exit (%s)" % short(err.strip()))
    rc, out, err = cli("check", "--server", u, "--token", rdr, "--profile",
                       "n1@1", *odd)
    eq(rc, 0, "check --server on the odd hosts: exit (%s)" % short(err))
    want(upload(u, adm, report("n1-01", None, new_id="rack1/node7")), 400,
         "upload of a host id with a '/'", "'/'")
    s.stop()


def reg_field(d, reg, hi, lo):
    """Field HI:LO of register REG in report document D (arm64)."""
    v = int(d["arm64"]["id_regs"][reg], 16)
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


@case("what-if: POST /v1/pools/NAME/what-if and `pools --server --what-if`: "
      "the new baseline, features gained and lost against the published "
      "version, the hosts that would refuse it; nothing stored")
def t_what_if(tmp):
    db, adm, rdr, s, u = started(tmp)
    files = upload_arm64(u, adm, "w-")
    want(request(u, "PUT", "/v1/pools/rw", {"hosts": ["graviton3", "altra"]},
                 adm), 201, "PUT pool rw")
    want(request(u, "PUT", "/v1/pools/v1", {"hosts": ["v1-01", "v1-02"]},
                 adm), 201, "PUT pool v1")
    for p in ("rw", "v1"):
        want(request(u, "POST", "/v1/pools/%s/baseline" % p,
                     {"publish": True}, adm), 201, "publish " + p)
    before = db_snapshot(db)
    a72 = report(src=files["cortex-a72"])
    altra = doc(files["altra"])
    grav = doc(files["graviton3"])
    # The facts, from the reports and arch/arm64/idregs.txt (the Arm ARM's
    # values): ID_AA64MMFR1_EL1.VH (11:8) 1 = FEAT_VHE, ID_AA64ISAR0_EL1.
    # Atomic (23:20) 2 = FEAT_LSE, ID_AA64PFR0_EL1.SVE (35:32) 1 = FEAT_SVE.
    for d, name in ((altra, "altra"), (grav, "graviton3")):
        eq((reg_field(d, "ID_AA64MMFR1_EL1", 11, 8),
            reg_field(d, "ID_AA64ISAR0_EL1", 23, 20)), (1, 2),
           "VH and Atomic of " + name)
    eq((reg_field(a72, "ID_AA64MMFR1_EL1", 11, 8),
        reg_field(a72, "ID_AA64ISAR0_EL1", 23, 20)), (0, 0),
       "VH and Atomic of cortex-a72")
    eq((reg_field(grav, "ID_AA64PFR0_EL1", 35, 32),
        reg_field(altra, "ID_AA64PFR0_EL1", 35, 32)), (1, 0),
       "SVE of graviton3 and altra")
    # Add a poorer host: FEAT_VHE and FEAT_LSE are lost, nothing gained;
    # every field of these reports is writable, so nobody refuses.
    r = want(request(u, "POST", "/v1/pools/rw/what-if", {"add": [a72]}, rdr),
             200, "what-if rw add cortex-a72 (reader)").json()
    eq((r.get("pool"), r.get("hosts"), r.get("feasible"), r.get("against"),
        r.get("gained"), r.get("refused")),
       ("rw", ["altra", "cortex-a72", "graviton3"], True,
        {"name": "rw", "version": 1}, [], []),
       "what-if add: pool, hosts, feasible, against, gained, refused")
    for f in ("FEAT_VHE", "FEAT_LSE"):
        check(f in r.get("lost", []), "what-if add cortex-a72: %s not among "
              "the features lost %s" % (f, r.get("lost")))
    check(isinstance(r.get("profile"), dict) and
          r["profile"].get("feasible") is True, "what-if: no new profile")
    # Remove the poorer host: FEAT_SVE (graviton3 only) is gained.
    r = want(request(u, "POST", "/v1/pools/rw/what-if", {"remove": ["altra"]},
                     rdr), 200, "what-if rw remove altra").json()
    eq((r.get("hosts"), r.get("lost"), r.get("refused")),
       (["graviton3"], [], []), "what-if remove: hosts, lost, refused")
    check("FEAT_SVE" in r.get("gained", []), "what-if remove altra: "
          "FEAT_SVE not among the features gained %s" % r.get("gained"))
    # A Neoverse N1 into the pool of the two V1s: MIDR_EL1 differs (the
    # reports' midr_el1) and these reports list no KVM capability, so no
    # KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15): KVM 6.12 cannot set
    # MIDR_EL1, the new baseline is infeasible, and every host whose
    # MIDR_EL1 differs from the new profile's refuses it, naming MIDR_EL1
    # (here the pool's own V1 hosts).
    midr = {h: fleet(h)["arm64"]["midr_el1"] for h in
            ("n1-01", "v1-01", "v1-02")}
    check(midr["n1-01"] != midr["v1-01"] and "kvm" not in fleet("v1-01"),
          "MIDR_EL1 of n1-01 and v1-01, v1-01's capabilities")
    r = want(request(u, "POST", "/v1/pools/v1/what-if",
                     {"add": [report("n1-01", "w2-n1-01")]}, rdr), 200,
             "what-if v1 add n1-01").json()
    eq(r.get("feasible"), False, "what-if v1 add n1-01: feasible")
    check(r.get("conflicts"), "what-if v1 add n1-01: no conflicts")
    pm = int(r["profile"]["arm64"]["id_regs"]["MIDR_EL1"], 16)
    want_refused = sorted(h for h, m in midr.items() if int(m, 16) != pm)
    refused = {x.get("host"): x for x in r.get("refused", [])}
    eq(sorted(refused), want_refused, "hosts refusing the new baseline "
       "(MIDR_EL1 %#x)" % pm)
    check(set(refused) & {"v1-01", "v1-02"}, "no current host refuses")
    for h, x in refused.items():
        check(x.get("compatible") is False and
              "MIDR_EL1" in json.dumps(x.get("reasons")),
              "%s's refusal does not name MIDR_EL1: %s" % (
                  h, short(json.dumps(x), 300)))
    # Bad input names what is wrong.
    want(request(u, "POST", "/v1/pools/nosuch/what-if", {"add": [a72]}, rdr),
         404, "what-if of an unknown pool", "nosuch")
    want(request(u, "POST", "/v1/pools/rw/what-if", {"remove": ["ghost-9"]},
                 rdr), 404, "what-if remove of an unknown host", "ghost-9")
    bad = report(src=files["cortex-a72"])
    bad["arm64"]["id_regs"]["ID_AA64PFR0_EL1"] = "zz"
    want(request(u, "POST", "/v1/pools/rw/what-if", {"add": [a72, bad]},
                 rdr), 400, "what-if with a malformed report",
         ("$.add[1]", "add[1]"))
    want(request(u, "POST", "/v1/pools/rw/what-if", {"bogus": 1}, rdr), 400,
         "what-if with an unknown member", "bogus")
    # The CLI asks the server.
    rc, out, err = cli("pools", "--server", u, "--token", rdr, "--what-if",
                       "add=" + files["cortex-a72"], "rw")
    eq(rc, 0, "pools --server --what-if add: exit (stderr %s)" % err)
    check("FEAT_VHE" in out and "lost" in out,
          "pools --what-if text does not name FEAT_VHE lost: %s" % short(out))
    rc, out, err = cli("pools", "--server", u, "--token", rdr, "--what-if",
                       "remove=altra", "--json", "rw")
    eq(rc, 0, "pools --server --what-if remove --json: exit (%s)" % err)
    check("FEAT_SVE" in json.loads(out).get("gained", []),
          "pools --what-if --json: FEAT_SVE not gained")
    rc, _, err = cli("pools", "--server", u, "--token", rdr, "--what-if",
                     "remove=ghost-9", "rw")
    eq(rc, 2, "pools --what-if remove=ghost-9: exit")
    check("ghost-9" in err, "pools --what-if: error does not name ghost-9")
    rc, out, err = cli("pools", "--server", u, "--token", rdr, "--what-if",
                       "add=" + files["n1-01"], "v1")
    eq(rc, 1, "pools --what-if v1 add n1-01 (infeasible): exit")
    check("REFUSED by v1-01" in out, "pools --what-if v1: %s" % short(out))
    # Nothing stored: members, published versions, every table as it was.
    after = db_snapshot(db)
    check(after == before, "what-if changed the database: %s" %
          snap_diff(before, after))
    s.stop()


def upload_configs(u, adm, n, prefix):
    """N hosts PREFIX0000... of N distinct configurations: n1-01's report
    with REVIDR_EL1 (IMPLEMENTATION DEFINED, Arm ARM D23.2) set to the
    host's number, which no rule reads but makes the configuration its
    own.  Returns the host ids."""
    ids = []
    for i in range(n):
        d = report("n1-01", "%s%04d" % (prefix, i),
                   new_id="%s%04d" % (prefix, i))
        d["arm64"]["id_regs"]["REVIDR_EL1"] = "0x%016x" % i
        want(upload(u, adm, d), 201, "upload %s%04d" % (prefix, i))
        ids.append("%s%04d" % (prefix, i))
    return ids


@case("request limits: a matrix over 256 configurations is a 413 naming "
      "the limit, 256 are computed; a client that goes away stops the "
      "work (metric and log)")
def t_limits(tmp):
    db, adm, rdr, s, u = started(tmp)
    ids = upload_configs(u, adm, 257, "cfg")
    want(request(u, "PUT", "/v1/pools/over", {"hosts": ids}, adm), 201,
         "PUT pool of 257 configurations")
    want(request(u, "GET", "/v1/pools/over/matrix", tok=rdr), 413,
         "matrix of 257 configurations",
         "over the limit of 256 configurations per matrix")
    # Its baseline needs no pair: not refused.
    want(request(u, "POST", "/v1/pools/over/baseline", {}, rdr), 200,
         "baseline of 257 configurations")
    want(request(u, "PUT", "/v1/pools/at", {"hosts": ids[:256]}, adm), 201,
         "PUT pool of 256 configurations")
    mx = want(request(u, "GET", "/v1/pools/at/matrix", tok=rdr), 200,
              "matrix of 256 configurations").json()
    eq((len(mx.get("configs", [])), len(mx.get("rows", []))), (256, 256),
       "matrix of 256: configurations and rows")
    m0 = metrics(u)
    rq = "cpufleet_http_requests_total"
    done0 = metric(m0, rq, route="matrix", code="2xx")
    eq(metric(m0, "cpufleet_http_requests_cancelled_total"), 0,
       "requests cancelled before")
    # The same matrix, its client gone as soon as it has asked: the
    # server sees the connection shut before or while it computes, and
    # stops (nobody would read the answer).
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    c.sendall(("GET /v1/pools/at/matrix HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\n\r\n" % rdr).encode())
    c.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        m = metrics(u)
        if metric(m, "cpufleet_http_requests_cancelled_total") >= 1:
            break
        time.sleep(0.1)
    eq(metric(m, "cpufleet_http_requests_cancelled_total"), 1,
       "requests cancelled after the client left")
    eq(metric(m, rq, route="matrix", code="2xx"), done0,
       "matrices answered after the client left")
    check("the client went away; work stopped" in s.log_tail(2000),
          "log: " + s.log_tail())
    s.stop()


def cpuid_flags(leaf, subleaf, reg):
    """{bit: name} of the `flag` lines of arch/x86/cpuid.txt's block for
    LEAF SUBLEAF REG (the catalogue's data: the SDM's bit names)."""
    head = "cpuid 0x%08x 0x%x %s" % (leaf, subleaf, reg)
    flags, inside = {}, False
    with open(os.path.join(ROOT, "arch/x86/cpuid.txt")) as f:
        for line in f:
            words = line.split("#")[0].split()
            if line.startswith("cpuid "):
                inside = " ".join(words) == head
            elif inside and len(words) >= 3 and words[0] == "flag":
                flags[int(words[1])] = words[2]
    return flags


def leaf7_ebx(d):
    for e in d["x86"]["cpuid"]:
        if int(e["leaf"], 16) == 7 and int(e["subleaf"], 16) == 0:
            return int(e["ebx"], 16)
    raise Fail("no leaf 7.0 in the report")


@case("drift: an update that clears HLE and RTM makes one event (cause, "
      "fields, the pool's profile now refused) in /v1/events, /metrics and "
      "cpufleet drift; unchanged reports make none; restart keeps the gauge")
def t_drift(tmp):
    db, adm, rdr, s, u = started(tmp)
    src = "tests/data/drift/spr-05.json"
    dst = "tests/data/drift/spr-05-tsx-off.json"
    before, after = doc(src), doc(dst)
    # The expectation, from the two documents and the catalogue's bit
    # names: the bits set before and clear after (tests/data/drift/make.py
    # clears 4 and 11, HLE and RTM).
    names = cpuid_flags(7, 0, "ebx")
    gone = leaf7_ebx(before) & ~leaf7_ebx(after)
    lost = sorted(names[b] for b in range(32) if gone >> b & 1)
    eq(lost, ["hle", "rtm"], "the bits the drifted report clears")

    def events(q="", tok=rdr, status=200):
        r = want(request(u, "GET", "/v1/events" + q, tok=tok), status,
                 "GET /v1/events" + q)
        return r.json()["events"] if status == 200 else None

    m = metrics(u)
    eq((metric(m, "cpufleet_drift_events_total"),
        metric(m, "cpufleet_hosts_refusing_published_profile")), (0, 0),
       "drift metrics on an empty database")
    want(upload(u, adm, report(src=src, report_id="d-1")), 201, "first")
    want(request(u, "PUT", "/v1/pools/spr", {"hosts": ["spr-05"]}, adm),
         201, "pool spr")
    want(request(u, "POST", "/v1/pools/spr/baseline", {"publish": True},
                 adm), 201, "publish spr")
    r = want(upload(u, adm, report(src=src, report_id="d-2")), 201,
             "the same report again")
    eq(r.json()["status"], "seen_again", "the same report again: status")
    eq(events(), [], "events after a first and an unchanged report")
    rc, out, _ = cli("drift", "--server", u, "--token", rdr)
    eq(rc, 0, "cpufleet drift without events: exit (%s)" % short(out))

    want(upload(u, adm, report(src=dst, report_id="d-3")), 201, "drifted")
    evs = events()
    eq(len(evs), 1, "events after the drifted report")
    ev = evs[0]
    # from_report: the host's previous upload (a sighting of d-1's
    # content), to_report: this one.
    eq((ev["host"], ev["arch"], ev["from_report"], ev["to_report"]),
       ("spr-05", "x86", "d-2", "d-3"), "event host and reports")
    eq(sorted((c["what"], c["old"], c["new"]) for c in ev["cause"]),
       [("kernel", before["host"]["kernel"], after["host"]["kernel"]),
        ("microcode", before["host"]["microcode"],
         after["host"]["microcode"])], "event cause (firmware unchanged)")
    eq(sorted((c["feature"], c["old"], c["new"], c["change"])
              for c in ev["changes"]),
       [(n, "0x1", "0x0", "lost") for n in lost], "event changes")
    eq([(p["profile"], p["version"], p["pool"], p["member"],
         p["accepted_before"], p["accepted_now"], p["status"])
        for p in ev["profiles"]],
       [("spr", 1, "spr", True, True, False, "now_refused")],
       "event profiles")
    for n in lost:
        check(any(n in t for t in ev["profiles"][0]["reasons"]),
              "the reasons name %s: %s" % (n, ev["profiles"][0]["reasons"]))
    eq(events("?host=spr-05"), evs, "?host=spr-05")
    eq(events("?host=n1-01"), [], "?host=n1-01")
    eq(events("?since=2999-01-01T00:00:00Z"), [], "?since= the future")
    eq(len(events("?since=2000-01-01T00:00:00Z&limit=1")), 1,
       "?since= the past, limit=1")
    events("?since=yesterday", status=400)
    events("?limit=0", status=400)
    events("", tok=None, status=401)

    m = metrics(u)
    eq((metric(m, "cpufleet_drift_events_total"),
        metric(m, "cpufleet_hosts_refusing_published_profile")), (1, 1),
       "drift metrics after the drift")
    rc, out, err = cli("drift", "--server", u, "--token", rdr)
    eq(rc, 1, "cpufleet drift after the drift: exit (%s)" % short(err))
    for want_text in ("spr-05: ", "kernel %s -> %s" % (
            before["host"]["kernel"], after["host"]["kernel"]),
            "microcode %s -> %s" % (before["host"]["microcode"],
                                    after["host"]["microcode"]),
            "hle 1 -> 0 (lost)", "rtm 1 -> 0 (lost)",
            "profile spr@1 (pool spr): now REFUSED"):
        check(want_text in out, "cpufleet drift lacks %r: %s" % (
            want_text, short(out, 600)))
    rc, out, _ = cli("drift", "--server", u, "--token", rdr, "--json")
    eq((rc, len(json.loads(out)["events"])), (1, 1), "cpufleet drift --json")

    # Unchanged since: no event; a restart recomputes the gauge.
    r = want(upload(u, adm, report(src=dst, report_id="d-4")), 201,
             "the drifted report again")
    eq(r.json()["status"], "seen_again", "the drifted report again")
    eq(len(events()), 1, "events after an unchanged report")
    s.stop()
    s = Server(db)
    m = metrics(s.url)
    eq((metric(m, "cpufleet_drift_events_total"),
        metric(m, "cpufleet_hosts_refusing_published_profile")), (1, 1),
       "drift metrics after a restart")
    s.stop()



@case("features: GET /v1/features/NAME lists the hosts whose architecture "
      "names the feature, offered or lacked on their latest report; 404 "
      "for a name no catalogue knows, 400 for one no name rule allows, 401 "
      "without a token")
def t_features(tmp):
    db, adm, rdr, s, u = started(tmp)
    spr, tsx = "tests/data/drift/spr-05.json", \
        "tests/data/drift/spr-05-tsx-off.json"
    want(upload(u, adm, report(src=spr, report_id="f-spr")), 201, "spr-05")
    want(upload(u, adm, report(src=tsx, report_id="f-tsx",
                               new_id="spr-05-tsx")), 201, "spr-05-tsx")
    for h in FLEET:
        want(upload(u, adm, report(h, report_id="f-" + h)), 201, h)

    def feature(name, tok=rdr, status=200, substr=None):
        r = want(request(u, "GET", "/v1/features/" + name, tok=tok), status,
                 "GET /v1/features/" + name, substr)
        return r.json() if status == 200 else None

    # x86: RTM is CPUID.(EAX=7,ECX=0):EBX bit 11 (SDM vol. 2A, CPUID;
    # the catalogue's `flag 11 rtm`); spr-05 sets it, the TSX-off report
    # (tests/data/drift/make.py clears HLE and RTM) does not.  The arm64
    # hosts' catalogue has no rtm: they are not listed.
    bit = {v: k for k, v in cpuid_flags(7, 0, "ebx").items()}["rtm"]
    eq(bit, 11, "the catalogue's bit of rtm")
    want_rtm = [{"id": "spr-05", "arch": "x86",
                 "shows": bool(leaf7_ebx(doc(spr)) >> bit & 1)},
                {"id": "spr-05-tsx", "arch": "x86",
                 "shows": bool(leaf7_ebx(doc(tsx)) >> bit & 1)}]
    eq([h["shows"] for h in want_rtm], [True, False], "rtm in the data")
    d = feature("rtm")
    eq((d["feature"], d["arch"], d["hosts"]), ("rtm", ["x86"], want_rtm),
       "GET /v1/features/rtm")
    # arm64: FEAT_LSE is ID_AA64ISAR0_EL1.Atomic (bits 23:20) >= 0b0010
    # (Arm ARM, ID_AA64ISAR0_EL1.Atomic: 0b0010 FEAT_LSE); the Cortex-A72
    # hosts (Armv8.0) have 0.
    want_lse = [{"id": h, "arch": "arm64",
                 "shows": reg_field(fleet(h), "ID_AA64ISAR0_EL1", 23, 20)
                 >= 2} for h in sorted(FLEET)]
    eq(sum(h["shows"] for h in want_lse), 4, "hosts with LSE in the data")
    d = feature("FEAT_LSE")
    eq((d["arch"], d["hosts"]), (["arm64"], want_lse),
       "GET /v1/features/FEAT_LSE")
    eq(feature("lse")["hosts"], want_lse, "GET /v1/features/lse")
    feature("no-such-feature", status=404, substr="no-such-feature")
    feature("bad!name", status=400)
    feature("rtm", tok=None, status=401)
    # A later report decides: spr-05 with TSX off now lacks rtm.
    want(upload(u, adm, report(src=tsx, report_id="f-spr-2")), 201,
         "spr-05 drifted")
    eq([h["shows"] for h in feature("rtm")["hosts"]], [False, False],
       "rtm after spr-05's TSX-off report")
    s.stop()


@case("/metrics: valid Prometheus text that counts uploads")
def t_metrics(tmp):
    db, adm, rdr, s, u = started(tmp)
    m0 = metrics(u)
    for g in GAUGES:
        eq(metric(m0, g), 0.0, "%s on an empty database" % g)
    want(upload(u, adm, report("n1-01", "m-1")), 201, "upload 1")
    want(upload(u, adm, report("n1-02", "m-2")), 201, "upload 2")
    want(upload(u, adm, report("n1-01", "m-1")), 200, "upload known")
    want(upload(u, adm, report("n1-01", "m-3")), 201, "upload seen again")
    want(upload(u, adm, b"{"), 400, "upload malformed")
    want(upload(u, adm, report("n1-01", "m-1", kernel="x")), 409,
         "upload conflict")
    want(request(u, "GET", "/v1/hosts", tok=rdr), 200, "GET hosts")
    want(request(u, "GET", "/v1/hosts"), 401, "GET hosts without a token")
    want(request(u, "GET", "/nope"), 404, "unknown path")
    m = metrics(u)
    up = "cpufleet_reports_uploaded_total"
    eq({k: metric(m, up, result=k) for k in
        ("new", "seen_again", "known", "rejected", "failed")},
       {"new": 2, "seen_again": 1, "known": 1, "rejected": 2, "failed": 0},
       "uploads by outcome")
    eq({g: metric(m, g) for g in GAUGES},
       {"cpufleet_hosts": 2, "cpufleet_reports": 2,
        "cpufleet_report_sightings": 3, "cpufleet_configs": 1,
        "cpufleet_pools": 0, "cpufleet_profile_versions": 0}, "gauges")
    rq = "cpufleet_http_requests_total"
    eq((metric(m, rq, route="reports", code="2xx"),
        metric(m, rq, route="reports", code="4xx"),
        metric(m, rq, route="hosts", code="2xx"),
        metric(m, rq, route="hosts", code="4xx"),
        metric(m, rq, route="unmatched", code="4xx")),
       (4, 2, 1, 1, 1), "requests by route and class")
    eq(metric(m, rq, route="metrics", code="2xx"), 1,
       "earlier /metrics requests counted")
    check(metric(m, "cpufleet_db_write_jobs_total") >= 5,
          "writer jobs: %s" % metric(m, "cpufleet_db_write_jobs_total"))
    check(1 <= metric(m, "cpufleet_db_write_batches_total") <=
          metric(m, "cpufleet_db_write_jobs_total"), "writer batches")
    eq(metric(m, "cpufleet_db_write_failures_total"), 1,
       "writer failures (the 409)")
    check(metric(m, "cpufleet_http_request_seconds_total",
                 route="reports") > 0, "request seconds of reports")
    # Public, also with a bad token.
    want(request(u, "GET", "/metrics", tok="nonsense"), 200,
         "/metrics with a bad token")
    s.stop()
    # SIGINT stops it as cleanly as SIGTERM, and the counters start over.
    s = Server(db)
    m = metrics(s.url)
    eq(metric(m, up, result="new"), 0, "upload counter after a restart")
    eq(metric(m, "cpufleet_reports"), 2, "reports gauge after a restart")
    s.stop(signal.SIGINT)


# ---- the runner ------------------------------------------------------------

def one_line(s):
    return s.replace("\r", "\\r").replace("\n", "\\n")


def preflight():
    """Reasons the suite cannot run, or None."""
    if not os.access(BIN, os.X_OK):
        return "%s: not an executable" % BIN
    try:
        rc, out, _ = cli("server", "--help", timeout=20)
    except (OSError, subprocess.SubprocessError) as e:
        return "%s: %s" % (BIN, e)
    if rc != 0 or "usage: cpufleet server" not in out:
        return "%s has no server command (built with NET=0?)" % BIN
    if shutil.which("openssl") is None:
        return "openssl is not installed (make deps)"
    for d in (FLEET_DIR, RW_DIR, LAB_DIR):
        if not os.path.isdir(os.path.join(ROOT, d)):
            return "%s missing" % d
    for f in ("server/routes.c",):
        if not os.path.isfile(os.path.join(ROOT, f)):
            return "%s missing" % f
    return None


def run_cases(cases, only, prefix, headings=False):
    """Runs CASES (name, fn) whose name contains one of ONLY (all without),
    each in a fresh directory under a temporary PREFIX-* directory, killing
    what a case left running; prints "ok - NAME", "FAIL - NAME: why" or,
    for a case this backend does not run, "skip - NAME: why" (with HEADINGS,
    "== NAME" first).  Returns (passed, failed, skipped)."""
    keep = os.environ.get("CPUFLEET_IT_KEEP") == "1"
    top = tempfile.mkdtemp(prefix=prefix + "-")
    passed = failed = skipped = 0
    try:
        for i, (name, fn) in enumerate(cases, 1):
            if only and not any(o in name for o in only):
                continue
            tmp = os.path.join(top, "case%02d" % i)
            os.mkdir(tmp)
            global CASE_TMP
            CASE_TMP = tmp
            if headings:
                print("== %s" % name, flush=True)
            why = fn.sqlite_only if PG is not None else fn.pg_only
            if why:
                skipped += 1
                print("skip - %s: %s" % (name, why), flush=True)
                continue
            try:
                fn(tmp)
            except Fail as e:
                failed += 1
                print("FAIL - %s: %s" % (name, one_line(str(e))),
                      flush=True)
            except Exception as e:
                failed += 1
                tb = traceback.extract_tb(e.__traceback__)
                where = "%s:%d" % (os.path.basename(tb[-1].filename),
                                   tb[-1].lineno) if tb else "?"
                print("FAIL - %s: %s: %s (at %s)" % (
                    name, type(e).__name__, one_line(short(str(e), 300)),
                    where), flush=True)
            else:
                passed += 1
                print("ok - %s" % name, flush=True)
            finally:
                for p in list(_live):
                    if p.poll() is None:
                        p.kill()
                    p.wait()
                    _live.remove(p)
    finally:
        for p in _live:
            if p.poll() is None:
                p.kill()
        if keep:
            print("kept %s" % top, file=sys.stderr)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return passed, failed, skipped


def start_postgresql(pgdir):
    """The cluster for --backend postgresql, or None and why not."""
    global PG, PSQL
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    import pgcluster
    c = pgcluster.Cluster(pgdir)
    # Stopped at the end only if this run started it (as make unit does).
    c.ours = not os.path.exists(os.path.join(pgdir, "port"))
    try:
        c.start()
    except pgcluster.Unavailable as e:
        return str(e)
    PG, PSQL = c, os.path.join(c.bindir, "psql")
    return None


def main(argv):
    global BIN
    usage = "usage: python3 tests/integration/run.py BINARY " \
        "[--backend sqlite|postgresql] [--pg-dir DIR] [CASE...]"
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(usage, file=sys.stderr)
        return 2
    BIN = os.path.abspath(argv[1])
    rest, backend, pgdir = list(argv[2:]), "sqlite", "build/pg"
    while rest and rest[0] in ("--backend", "--pg-dir") and len(rest) > 1:
        if rest[0] == "--backend":
            backend = rest[1]
        else:
            pgdir = rest[1]
        rest = rest[2:]
    if backend not in ("sqlite", "postgresql"):
        print(usage, file=sys.stderr)
        return 2
    os.chdir(ROOT)
    why = preflight()
    if why:
        print("tests/integration/run.py: cannot run: " + why,
              file=sys.stderr)
        return 2
    if backend == "postgresql":
        why = start_postgresql(pgdir)
        if why:
            print("skip - integration-postgresql: " + why)
            return 0
    t0 = time.monotonic()
    try:
        passed, failed, skipped = run_cases(CASES, rest, "cpufleet-it")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2
    finally:
        if PG is not None and PG.ours:
            PG.stop()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    print("tests/integration/run.py: %.1f s" % (time.monotonic() - t0),
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
