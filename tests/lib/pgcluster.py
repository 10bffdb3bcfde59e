#!/usr/bin/env python3
"""A throw-away PostgreSQL cluster for the tests: initdb, start, stop.

    pgcluster.py start DIR          prints the base URL postgresql://cpufleet@127.0.0.1:PORT
    pgcluster.py createdb DIR NAME  prints postgresql://cpufleet@127.0.0.1:PORT/NAME
    pgcluster.py stop DIR
    pgcluster.py run DIR VAR CMD...  CMD with VAR set to the base URL (to ""
                                     after "skip: postgresql: why" without a
                                     server); stops the cluster after if it
                                     started it; exits with CMD's status

DIR (e.g. build/pg) holds the data directory, the log and the socket (as
root, when the postgres user cannot reach DIR, e.g. in a clone under a
private mktemp directory, they go to /tmp/cpufleet-pg-<hash of DIR>, which
DIR/home names; DIR keeps the port file).  The
cluster trusts local connections of its one role, cpufleet, a superuser (it
creates a database per test case).  Durability is PostgreSQL's default
(fsync, synchronous_commit): the tests that kill servers rely on it.
initdb refuses to run as root, so as root the cluster belongs to the
`postgres` user that Debian's package creates.  Without server binaries,
`start` prints "skip: postgresql: <why>" and exits 77.
Also a module: Cluster(DIR).start(), .createdb(name), .stop().
"""
import glob
import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys

SKIP = 77
ROLE = "cpufleet"


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the text says why."""


def _bindir():
    """The newest installed server's binaries (Debian keeps them off PATH)."""
    found = []
    for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        m = re.search(r"/postgresql/(\d+)/", p)
        if m:
            found.append((int(m.group(1)), os.path.dirname(p)))
    if found:
        return max(found)[1]
    p = shutil.which("initdb")
    if p:
        return os.path.dirname(os.path.realpath(p))
    raise Unavailable("no initdb (Debian package postgresql)")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, top):
        self.top = os.path.abspath(top)
        # Where the data directory, log and socket live: TOP, unless the
        # postgres user cannot reach it (a clone under a private mktemp
        # directory); then a directory of its own under /tmp, named after
        # TOP, which TOP's "home" file names.
        self.home = self.top
        self.data = os.path.join(self.home, "data")
        self.bindir = None
        self.port = None
        self.user = None   # the OS user the server runs as (root: postgres)

    def _as_owner(self, argv, **kw):
        if self.user:
            argv = ["runuser", "-u", self.user, "--"] + argv
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, **kw)

    def _prepare(self):
        self.bindir = _bindir()
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and no postgres user")
            self.user = "postgres"
            os.makedirs(self.top, exist_ok=True)
            os.chown(self.top, pw.pw_uid, pw.pw_gid)
            if self._as_owner(["test", "-w", self.top]).returncode != 0:
                self.home = "/tmp/cpufleet-pg-" + hashlib.sha256(
                    self.top.encode()).hexdigest()[:12]
                os.makedirs(self.home, exist_ok=True)
                os.chown(self.home, pw.pw_uid, pw.pw_gid)
                os.chmod(self.home, 0o755)
                self.data = os.path.join(self.home, "data")
                with open(os.path.join(self.top, "home"), "w") as f:
                    f.write(self.home + "\n")
        else:
            os.makedirs(self.top, exist_ok=True)
        os.chmod(self.top, 0o700 if not self.user else 0o755)

    def base_url(self):
        return "postgresql://%s@127.0.0.1:%d" % (ROLE, self.port)

    def _running(self):
        r = self._as_owner([os.path.join(self.bindir, "pg_ctl"), "status",
                            "-D", self.data])
        return r.returncode == 0

    def start(self):
        """Starts the cluster (made first if absent); its base URL."""
        self._prepare()
        portfile = os.path.join(self.top, "port")
        if os.path.exists(os.path.join(self.data, "PG_VERSION")) and \
                os.path.exists(portfile) and self._running():
            with open(portfile) as f:
                self.port = int(f.read())
            return self.base_url()
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            shutil.rmtree(self.data, ignore_errors=True)
            r = self._as_owner([os.path.join(self.bindir, "initdb"), "-D",
                                self.data, "-U", ROLE, "--auth=trust",
                                "-E", "UTF8", "--locale=C", "--no-sync"])
            if r.returncode != 0:
                raise Unavailable("initdb failed: " + r.stdout.strip()[-300:])
        self.port = _free_port()
        # Servers under test open a writer and several readers each; the
        # two-server and 64-client cases need more than the default 100.
        opts = "-p %d -k %s -c listen_addresses=127.0.0.1 " \
               "-c max_connections=400" % (self.port, self.home)
        r = self._as_owner([os.path.join(self.bindir, "pg_ctl"), "start",
                            "-w", "-t", "60", "-D", self.data, "-l",
                            os.path.join(self.home, "log"), "-o", opts])
        if r.returncode != 0:
            log = ""
            try:
                with open(os.path.join(self.home, "log")) as f:
                    log = f.read()[-500:]
            except OSError:
                pass
            raise Unavailable("pg_ctl start failed: %s %s" %
                              (r.stdout.strip()[-300:], log))
        with open(portfile, "w") as f:
            f.write(str(self.port))
        return self.base_url()

    def createdb(self, name):
        """A new empty database NAME (dropped first if it exists); its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError("database name %r: lower-case letters, digits "
                             "and _ only" % name)
        psql = [os.path.join(self.bindir, "psql"), "-X", "-q", "-v",
                "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", ROLE, "-d", "postgres"]
        for sql in ("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name,
                    "CREATE DATABASE %s" % name):
            r = subprocess.run(psql + ["-c", sql], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise RuntimeError("%s: %s" % (sql, r.stdout.strip()))
        return "%s/%s" % (self.base_url(), name)

    def stop(self):
        if self.bindir is None:
            try:
                self._prepare()
            except Unavailable:
                return
        if os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._as_owner([os.path.join(self.bindir, "pg_ctl"), "stop",
                            "-D", self.data, "-m", "fast", "-w"])
        try:
            os.unlink(os.path.join(self.top, "port"))
        except OSError:
            pass


def run(top, var, cmd):
    """CMD with VAR the cluster's base URL; one line in a Makefile recipe,
    as tools/mutate/run.py runs `make -n` output line by line."""
    c = Cluster(top)
    ours = not os.path.exists(os.path.join(c.top, "port"))
    env = dict(os.environ)
    try:
        env[var] = c.start()
    except Unavailable as e:
        print("skip: postgresql: %s" % e, flush=True)
        env[var], ours = "", False
    try:
        return subprocess.run(cmd, env=env).returncode
    finally:
        if ours:
            c.stop()


def main(argv):
    if len(argv) >= 5 and argv[1] == "run":
        return run(argv[2], argv[3], argv[4:])
    if len(argv) < 3 or argv[1] not in ("start", "createdb", "stop") or \
            (argv[1] == "createdb") != (len(argv) == 4) or len(argv) > 4:
        sys.stderr.write("usage: pgcluster.py start|stop DIR | "
                         "createdb DIR NAME | run DIR VAR CMD...\n")
        return 2
    c = Cluster(argv[2])
    try:
        if argv[1] == "start":
            print(c.start())
        elif argv[1] == "createdb":
            c.start()
            print(c.createdb(argv[3]))
        else:
            c.stop()
    except Unavailable as e:
        print("skip: postgresql: %s" % e)
        return SKIP
    except (RuntimeError, ValueError) as e:
        sys.stderr.write("pgcluster: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
