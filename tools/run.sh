#!/bin/sh
# `make run`: the main job on the embedded default.  Starts the central
# service on a loopback port with a fresh SQLite file, runs the agent once
# for this machine (its real KVM), loads the example fleet's reports, labels
# them, defines pools, publishes a pool's baseline and prints the verdict
# matrix, shows a drift event (a host's update breaking its pool's published
# profile) and a what-if plan, then says where to look next.  With KEEP=1
# (`make run KEEP=1`) the server keeps running instead, and the run says
# where its web page is and where the reader token to paste into it was
# written.
#
#   [KEEP=1] sh tools/run.sh BINARY [OUTDIR]
set -u
KEEP=${KEEP:-0}
BIN=$1
OUT=${2:-build/run}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
DB=$OUT/cpufleet.db
# A server still running on the last run's database holds a lock on it
# (flock, cf_server_start): removing the file under it would leave it
# serving a deleted database.
if [ -e "$DB" ] && ! flock -n "$DB" true; then
	echo "run: $DB is in use by a running cpufleet server; stop it" \
	     "(or give another OUTDIR) and run again" >&2
	exit 2
fi
rm -rf "$OUT" && mkdir -p "$OUT" || exit 2
LOG=$OUT/server.log

step() { printf '\n== %s ==\n' "$*"; }

step "1. start the server (fresh database $DB)"
"$BIN" server --listen 127.0.0.1:0 --db "$DB" >"$OUT/server.out" 2>"$LOG" &
SPID=$!
trap 'kill -TERM $SPID 2>/dev/null; wait $SPID 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
	grep -q listening "$OUT/server.out" 2>/dev/null && break
	kill -0 $SPID 2>/dev/null || { cat "$LOG"; exit 3; }
	sleep 0.05
done
cat "$OUT/server.out"
URL=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$OUT/server.out")
[ -n "$URL" ] || { echo "run: the server did not start" >&2; cat "$LOG"; exit 3; }
curl -fsS "$URL/v1/health"

ADMIN=$("$BIN" token create --db "$DB" --role admin) || exit 3
ME=$(hostname)
AGENT=$("$BIN" token create --db "$DB" --role agent --host "$ME") || exit 3
"$BIN" token list --db "$DB"

# This machine reports only where KVM is there to ask; elsewhere the run
# says so once and goes on with the example fleet.
HERE=1
if [ ! -e /dev/kvm ]; then
	HERE=0 WHY="this machine has no /dev/kvm"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	HERE=0 WHY="/dev/kvm is not readable and writable by $(id -un)"
fi
step "2. the agent, once, for this machine ($ME, $(uname -m))"
if [ "$HERE" = 1 ]; then
	"$BIN" agent --server "$URL" --token "$AGENT" --once --spool "$OUT/spool" \
		--host-id "$ME"
	rc=$?
	echo "(exit $rc)"
	if [ "$rc" != 0 ]; then
		HERE=0 WHY="the agent could not report this machine (exit $rc)"
	fi
fi
if [ "$HERE" = 0 ]; then
	echo "skipped: $WHY, so there is no report of this machine and no"
	echo "pool 'here'; everything below uses the example fleet's reports."
fi

step "3. load the example fleet's reports (imports with the admin token)"
n=0
for f in tests/data/fleet/*.json tests/data/arm64/real-writable/*.json \
	 tests/data/lab/reports/*.json; do
	"$BIN" agent --server "$URL" --token "$ADMIN" --once --quiet \
		--spool "$OUT/import-spool" --from "$f" || exit 3
	n=$((n + 1))
done
echo "uploaded $n reports"
for h in a72-01 a72-02 n1-01 n1-02 v1-01 v1-02; do
	"$BIN" hosts --server "$URL" --token "$ADMIN" label "$h" \
		cluster=example rack="r${h#*-}" >/dev/null || exit 3
done
for h in altra cortex-a72 graviton3; do
	"$BIN" hosts --server "$URL" --token "$ADMIN" label "$h" \
		cluster=real >/dev/null || exit 3
done
for h in a53 a57 a72 a76 n1 a64fx max; do
	"$BIN" hosts --server "$URL" --token "$ADMIN" label "$h" \
		cluster=lab >/dev/null || exit 3
done
"$BIN" hosts --server "$URL" --token "$ADMIN"

step "4. define pools: by label (cluster=real, cluster=example), by members (lab a76 + n1; this machine)"
"$BIN" pool --server "$URL" --token "$ADMIN" set real --label cluster=real \
	>/dev/null || exit 3
"$BIN" pool --server "$URL" --token "$ADMIN" set example \
	--label cluster=example >/dev/null || exit 3
"$BIN" pool --server "$URL" --token "$ADMIN" set lab-v82 --host a76 \
	--host n1 >/dev/null || exit 3
if [ "$HERE" = 1 ]; then
	"$BIN" pool --server "$URL" --token "$ADMIN" set here --host "$ME" \
		>/dev/null || exit 3
fi
"$BIN" pool --server "$URL" --token "$ADMIN" list

step "5. publish the pools' baselines"
"$BIN" pool --server "$URL" --token "$ADMIN" baseline real --publish \
	-o "$OUT/real-profile.json"
echo "(exit $?)"
"$BIN" pool --server "$URL" --token "$ADMIN" baseline lab-v82 --publish \
	-o "$OUT/lab-v82-profile.json"
echo "(exit $?)"
if [ "$HERE" = 1 ]; then
	"$BIN" pool --server "$URL" --token "$ADMIN" baseline here --publish \
		-o "$OUT/here-profile.json"
	echo "(exit $?)"
fi
echo "-- the example pool has no common baseline under KVM 6.12's writable"
echo "-- masks, so publishing is refused and nothing is stored:"
"$BIN" pool --server "$URL" --token "$ADMIN" baseline example --publish \
	-o "$OUT/example-profile.json"
echo "(exit $?)"

step "6. verdict matrix of pool 'real' (row: a VM started on that host; last row: the published baseline)"
"$BIN" pool --server "$URL" --token "$ADMIN" matrix real
echo "(exit $?)"
step "   and of pool 'lab-v82'"
"$BIN" pool --server "$URL" --token "$ADMIN" matrix lab-v82
echo "(exit $?)"

step "7. pre-migration checks against the server"
echo "-- can a VM started with profile lab-v82 (version 1) run on a76, n1, a57?"
"$BIN" check --server "$URL" --token "$ADMIN" --profile lab-v82@1 a76 n1 a57
echo "(exit $?: 0 = every host can run it, 1 = some cannot)"
if [ "$HERE" = 1 ]; then
	echo "-- and this machine's own published profile on this machine:"
	"$BIN" check --server "$URL" --token "$ADMIN" --profile here "$ME"
	echo "(exit $?)"
fi

step "8. drift: an x86 host, its pool's published baseline, then an update that removes TSX"
# tests/data/drift: the real spr-05 dump before and after a microcode and
# kernel update that clears HLE and RTM (tests/data/drift/make.py).
"$BIN" agent --server "$URL" --token "$ADMIN" --once --quiet \
	--spool "$OUT/import-spool" --from tests/data/drift/spr-05.json || exit 3
"$BIN" pool --server "$URL" --token "$ADMIN" set spr --host spr-05 \
	>/dev/null || exit 3
"$BIN" pool --server "$URL" --token "$ADMIN" baseline spr --publish \
	-o "$OUT/spr-profile.json"
"$BIN" agent --server "$URL" --token "$ADMIN" --once --quiet \
	--spool "$OUT/import-spool" --from tests/data/drift/spr-05-tsx-off.json ||
	exit 3
"$BIN" drift --server "$URL" --token "$ADMIN"
echo "(exit $?: 1 = a host now refuses its pool's published profile)"
curl -fsS "$URL/metrics" | grep -E '^cpufleet_(drift_events_total|hosts_refusing_published_profile) '

step "9. what-if on pool 'lab-v82': a72 joins (its lab report under Linux 7.3), n1 leaves; nothing stored"
"$BIN" pools --server "$URL" --token "$ADMIN" \
	--what-if add=tests/data/lab/reports-7.3/a72.json,remove=n1 lab-v82
echo "(exit $?: 0 = the new baseline is feasible and no host refuses it)"

if [ "$KEEP" = 1 ]; then
	step "the server keeps running (KEEP=1)"
	READER=$("$BIN" token create --db "$DB" --role reader) || exit 3
	(umask 077 && printf '%s\n' "$READER" >"$OUT/reader.token") || exit 3
	trap - EXIT INT TERM
	cat <<MSG
The server keeps running at $URL (pid $SPID, database $DB,
log $LOG).  Open its page in a browser:
  $URL/
and log in with the reader token written to $OUT/reader.token
(paste it into the page; it stays in the tab's session storage).  The admin
token is $ADMIN.  Stop the server with:
  kill $SPID
MSG
	exit 0
fi

step "where to look next"
# Every line below the first is a command to paste as it stands (the
# integration test runs them so): the server again on the address it just
# had, then what to ask it.
HOSTPORT=${URL#http://}
cat <<MSG
The server ran at $URL on database $DB; it stops now.  To look
further, paste these lines (a server on that database again, an admin token
of it, then the API and the command line against it):
  $BIN server --listen $HOSTPORT --db $DB >$OUT/server-again.log 2>&1 &
  TOKEN=$ADMIN
  U=$URL
  curl -fsS --retry 20 --retry-connrefused --retry-delay 1 \$U/v1/health; echo
  curl -fsS \$U/metrics | grep '^cpufleet_reports_uploaded_total'
  curl -fsS -H "Authorization: Bearer \$TOKEN" \$U/v1/hosts; echo
  curl -fsS -H "Authorization: Bearer \$TOKEN" \$U/v1/profiles/real/versions/1 | head -c 600; echo
  $BIN hosts --server \$U --token \$TOKEN n1-01
  $BIN pool --server \$U --token \$TOKEN matrix real || echo "(exit \$?: some pair is incompatible)"
  $BIN check --server \$U --token \$TOKEN --profile lab-v82@1 a76 n1
  $BIN drift --server \$U --token \$TOKEN spr-05 || echo "(exit \$?: a profile of its pool is now refused)"
  kill \$!; wait \$!
MSG
