#!/bin/sh
# Exit codes of every cpufleet command against the README's table (make
# cli-test runs it after tests/cli/run.sh).
#
#   sh tests/cli/exit.sh BINARY
#
# The expected codes come from README.md, "Command reference":
#   | 0 | compatible / feasible / done |
#   | 1 | incompatible / infeasible |
#   | 2 | usage or input error (the message names file, JSON path and reason; nothing is written) |
#   | 3 | internal error (out of memory, cannot write the output) |
# and, for the commands that talk to the server (README, "The central
# service", end of the agent's section): "Exit codes of the remote commands
# are the local ones; a 4xx is 2 and an unreachable server or a 5xx is 3".
# A host of another architecture than the pool or profile is an
# incompatibility (1) wherever it is met, as `check` reports it.
#
# The commands are read from `cpufleet --help` (the CLI's own command
# table); a command the walk below does not cover fails the first case.

. "$(dirname "$0")/../lib/cli.sh"

RW=tests/data/arm64/real-writable
RAW=tests/data/arm64/real
FLEET=tests/data/fleet
X86=tests/data/x86
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT

# code WANT WHAT ARGS...: runs the binary, stdin from /dev/null unless
# $STDIN names a file; a case fails when the exit code is not WANT.
code() {
	want=$1 what=$2
	shift 2
	"$BIN" "$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] ||
		bad "$what: exit $rc, want $want ($*; stderr: $(first "$T/err"))"
}

# inputs CMD ARGS...: bad input as the last argument of CMD ARGS: a
# malformed JSON file, an unknown option, a missing file; each 2.
inputs() {
	code 2 "bad JSON" "$@" "$T/bad.json"
	code 2 "unknown option" "$@" --frobnicate "$RW/altra.json"
	code 2 "missing file" "$@" "$NO"
}

# The walk: one case per command, named "walk: COMMAND".
covered=""
walk() {
	covered="$covered $1 "
	case_ "walk: $1"
}

echo '{"schema": "cpufleet.report/v1", ' >"$T/bad.json"
NO=$T/no-such-file.json
# A path whose parent is a regular file: no write can succeed there, not
# even as root (chmod does not stop root).
UNW=$T/bad.json/out.json
for p in "rw $RW/*.json" "raw $RAW/*.json" "spr $X86/spr-05.json" "n1 $FLEET/n1-01.json"; do
	set -- $p
	n=$1
	shift
	"$BIN" baseline -q -o "$T/$n.json" "$@" 2>/dev/null
done

commands=$("$BIN" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }')

walk baseline
code 0 success baseline "$RW"/*.json
code 1 infeasible baseline "$RAW"/*.json
code 1 "other architecture" baseline "$RW/altra.json" "$X86/spr-05.json"
inputs baseline
code 3 "unwritable output" baseline -o "$UNW" "$RW/altra.json"
end_

walk check
code 0 success check --profile "$T/rw.json" "$RW"/*.json
code 1 incompatible check --profile "$T/spr.json" "$X86/bergamo-04.json"
code 1 "other architecture" check --profile "$T/spr.json" "$RW/altra.json"
code 2 "bad JSON report" check --profile "$T/rw.json" "$T/bad.json"
code 2 "bad JSON profile" check --profile "$T/bad.json" "$RW/altra.json"
code 2 "unknown option" check --frobnicate --profile "$T/rw.json" "$RW/altra.json"
code 2 "missing report" check --profile "$T/rw.json" "$NO"
code 2 "missing profile" check --profile "$NO" "$RW/altra.json"
end_

walk explain
code 0 success explain "$FLEET/n1-01.json" "$FLEET/n1-02.json"
code 1 incompatible explain "$FLEET/v1-01.json" "$FLEET/n1-01.json"
code 1 "other architecture" explain "$RW/altra.json" "$X86/spr-05.json"
inputs explain "$RW/altra.json"
end_

walk matrix
code 0 success matrix "$FLEET/n1-01.json" "$FLEET/n1-02.json"
code 1 incompatible matrix "$FLEET/v1-01.json" "$FLEET/n1-01.json"
code 1 "other architecture" matrix "$RW/altra.json" "$X86/spr-05.json"
inputs matrix
end_

walk show
code 0 success show "$RW/altra.json"
code 0 "success, profile" show "$T/rw.json"
inputs show
end_

walk pools
code 0 "success, one pool" pools "$RW"/*.json
code 1 "several pools" pools "$X86"/*.json
code 1 "other architecture: several pools" pools "$RW/altra.json" "$X86/spr-05.json"
inputs pools
code 3 "unwritable directory" pools -d "$UNW" "$RW/altra.json"
end_

walk export
code 0 success export --format firecracker "$T/n1.json"
code 1 "infeasible profile" export --format firecracker "$T/raw.json"
inputs export --format firecracker
code 3 "unwritable output" export --format firecracker -o "$UNW" "$T/n1.json"
end_

walk import
echo '{"cpuid_modifiers": [{"leaf": "0x7", "subleaf": "0x0", "flags": 1, "modifiers": [{"register": "ebx", "bitmap": "0b0xxxxx"}]}]}' >"$T/tpl.json"
code 0 success import --format firecracker --host "$X86/spr-05.json" "$T/tpl.json"
code 2 "bad JSON template" import --format firecracker --host "$X86/spr-05.json" "$T/bad.json"
code 2 "bad JSON host" import --format firecracker --host "$T/bad.json" "$T/tpl.json"
code 2 "unknown option" import --frobnicate --format firecracker --host "$X86/spr-05.json" "$T/tpl.json"
code 2 "missing template" import --format firecracker --host "$X86/spr-05.json" "$NO"
code 2 "missing host" import --format firecracker --host "$NO" "$T/tpl.json"
code 3 "unwritable output" import --format firecracker --host "$X86/spr-05.json" -o "$UNW" "$T/tpl.json"
end_

# collect and apply need /dev/kvm for their success and verdicts (the lab
# and tests/kvm run them); here, what they refuse before KVM is asked.
walk collect
code 2 "unknown option" collect --frobnicate
code 2 "unknown --features" collect --features nosuchfeature
end_

walk apply
code 2 "bad JSON" apply --check-only "$T/bad.json"
code 2 "unknown option" apply --frobnicate --check-only "$T/rw.json"
code 2 "missing file" apply --check-only "$NO"
end_

if printf '%s\n' $commands | grep -qx server; then
	walk server
	code 2 "unknown option" server --frobnicate
	code 2 "database in a missing directory" server --listen 127.0.0.1:0 --db "$T/nodir/db.sqlite"
	"$BIN" server --listen 127.0.0.1:0 --db "$T/db.sqlite" >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	i=0
	while ! grep -q 'listening on' "$T/srv.out" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$T/srv.out")
	[ -n "$URL" ] || bad "server did not start: $(first "$T/srv.err")"
	end_
	# A port nothing listens on: bind one, note it, close it.
	DEAD=http://127.0.0.1:$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

	walk token
	code 0 "success, create" token create --db "$T/db.sqlite" --role admin
	tok=$(cat "$T/out")
	code 0 "success, list" token list --db "$T/db.sqlite"
	code 2 "unknown token" token revoke --db "$T/db.sqlite" 999999
	code 2 "unknown option" token create --frobnicate --db "$T/db.sqlite" --role admin
	code 2 "database in a missing directory" token list --db "$T/nodir/db.sqlite"
	end_
	export CPUFLEET_TOKEN="$tok"

	walk agent
	for f in "$RAW"/*.json "$FLEET/n1-01.json" "$FLEET/n1-02.json" "$FLEET/v1-01.json"; do
		code 0 "success, --from $f" agent --server "$URL" --once --from "$f" --spool "$T/spool"
	done
	code 2 "bad JSON" agent --server "$URL" --once --from "$T/bad.json" --spool "$T/spool"
	code 2 "missing file" agent --server "$URL" --once --from "$NO" --spool "$T/spool"
	code 2 "unknown option" agent --frobnicate --server "$URL" --once --spool "$T/spool"
	code 2 "401: unknown token" agent --server "$URL" --token nope --once --from "$RW/altra.json" --spool "$T/spool1"
	code 3 "server not listening" agent --server "$DEAD" --once --tries 1 --from "$RW/altra.json" --spool "$T/spool2"
	# Ctrl-C on a loop with reports undelivered: not 0, which the help
	# keeps for "every report delivered"; the spool keeps them (3).
	"$BIN" agent --server "$DEAD" --interval 1 --from "$RW/altra.json" --spool "$T/spool3" >/dev/null 2>"$T/err" &
	ag=$!
	i=0
	while [ -z "$(ls "$T/spool3" 2>/dev/null | grep -v rejected)" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -INT "$ag"
	wait "$ag"
	rc=$?
	[ "$rc" -eq 3 ] || bad "Ctrl-C with a report undelivered: exit $rc, want 3 ($(first "$T/err"))"
	grep -q 'not delivered' "$T/err" || bad "Ctrl-C: stderr does not say what was not delivered"
	end_

	walk hosts
	code 0 success hosts --server "$URL"
	code 0 "success, one host" hosts --server "$URL" n1-01
	code 2 "404: unknown host" hosts --server "$URL" nope
	code 2 "unknown option" hosts --frobnicate --server "$URL"
	code 3 "server not listening" hosts --server "$DEAD"
	end_

	walk pool
	code 0 "success, set" pool --server "$URL" set raw --host altra --host cortex-a72 --host graviton3
	code 0 "success, set" pool --server "$URL" set n1 --host n1-01 --host n1-02
	code 0 "success, set" pool --server "$URL" set v1n1 --host v1-01 --host n1-01
	code 0 "success, list" pool --server "$URL" list
	code 0 "success, baseline" pool --server "$URL" baseline n1
	code 0 "success, publish" pool --server "$URL" baseline n1 --publish
	code 0 "success, matrix" pool --server "$URL" matrix n1
	code 0 "success, matrix --json" pool --server "$URL" matrix n1 --json
	code 1 "infeasible baseline" pool --server "$URL" baseline raw
	code 1 "infeasible baseline, --publish" pool --server "$URL" baseline raw --publish
	code 1 "incompatible matrix" pool --server "$URL" matrix v1n1
	code 1 "incompatible matrix --json" pool --server "$URL" matrix v1n1 --json
	code 2 "404: unknown pool" pool --server "$URL" show nope
	code 2 "404: unknown pool, baseline" pool --server "$URL" baseline nope
	code 2 "unknown option" pool --frobnicate --server "$URL" list
	code 3 "server not listening" pool --server "$DEAD" list
	end_

	# n1 was published by the pool walk above (version 1).
	walk profile
	code 0 "success, list" profile --server "$URL" list
	code 0 "success, get" profile --server "$URL" get n1
	code 0 "success, get -o" profile --server "$URL" get n1@1 -o "$T/got.json"
	code 2 "404: unknown profile" profile --server "$URL" get nope
	code 2 "404: unknown version" profile --server "$URL" get n1@99
	code 2 "unknown option" profile --frobnicate --server "$URL" list
	code 3 "unwritable output" profile --server "$URL" get n1 -o "$UNW"
	code 3 "server not listening" profile --server "$DEAD" list
	end_

	# README "Drift": 0 when no event listed made a profile published for
	# the host's pool refused, 1 when one did.  tests/data/drift: the same
	# host before and after an update that cleared HLE and RTM.
	walk drift
	code 0 "no events yet" drift --server "$URL"
	code 0 "success, first report" agent --server "$URL" --once --from tests/data/drift/spr-05.json --spool "$T/spool"
	code 0 "success, set" pool --server "$URL" set spr --host spr-05
	code 0 "success, publish" pool --server "$URL" baseline spr --publish
	code 0 "an unchanged report makes no event" agent --server "$URL" --once --from tests/data/drift/spr-05.json --spool "$T/spool"
	code 0 "still no events" drift --server "$URL"
	code 0 "success, drifted report" agent --server "$URL" --once --from tests/data/drift/spr-05-tsx-off.json --spool "$T/spool"
	code 1 "the pool's profile is now refused" drift --server "$URL"
	code 1 "the same, of that host" drift --server "$URL" spr-05
	code 1 "the same, --json" drift --server "$URL" --json
	code 0 "another host: no event" drift --server "$URL" n1-01
	code 0 "none since" drift --server "$URL" --since 2999-01-01T00:00:00Z
	code 2 "400: bad --since" drift --server "$URL" --since yesterday
	code 2 "two hosts" drift --server "$URL" spr-05 n1-01
	code 2 "unknown option" drift --frobnicate --server "$URL"
	code 3 "server not listening" drift --server "$DEAD"
	end_

	case_ "check --server: the same codes as check"
	code 0 success check --server "$URL" --profile "$T/n1.json" n1-01 n1-02
	code 1 incompatible check --server "$URL" --profile "$T/n1.json" v1-01
	code 1 "incompatible, --brief" check --brief --server "$URL" --profile "$T/n1.json" v1-01 n1-01
	# As local check --brief: one summary line per host, nothing else.
	[ "$(wc -l <"$T/out")" -eq 2 ] && grep -q '^n1-01: compatible$' "$T/out" &&
		grep -q '^v1-01: incompatible, [0-9]* blockers (' "$T/out" ||
		bad "check --server --brief: $(tr '\n' '|' <"$T/out")"
	code 1 "other architecture" check --server "$URL" --profile "$T/spr.json" n1-01
	code 2 "404: unknown profile" check --server "$URL" --profile nope n1-01
	code 2 "404: unknown host" check --server "$URL" --profile "$T/n1.json" nope
	code 2 "missing profile file" check --server "$URL" --profile "$NO" n1-01
	STDIN=$T/n1.json
	code 0 "profile on standard input" check --server "$URL" --profile - n1-01
	STDIN=
	code 3 "server not listening" check --server "$DEAD" --profile "$T/n1.json" n1-01
	end_
fi

case_ "the walk covers every command of cpufleet --help"
[ -n "$commands" ] || bad "no command read from cpufleet --help"
for c in $commands; do
	case $covered in
	*" $c "*) ;;
	*) bad "command '$c' is not walked" ;;
	esac
done
end_

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
