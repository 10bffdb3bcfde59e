#!/bin/sh
# Runs the libFuzzer targets built in build-fuzz/ (make fuzz, fuzz-smoke,
# fuzz-merge call it):
#
#   sh tests/fuzz/run.sh fuzz  TARGET...   explore each for FUZZ_RUNS
#                                          executions or FUZZ_S seconds,
#                                          whichever ends first (60 s if
#                                          neither is given)
#   sh tests/fuzz/run.sh smoke TARGET...   replay the committed corpus and
#                                          run a few thousand new inputs
#   sh tests/fuzz/run.sh merge TARGET...   minimise every corpus into
#                                          tests/fuzz/corpus/NAME
#
# TARGET is fuzz_NAME.  Its corpus grows in build-fuzz/corpus/NAME (out of
# git), seeded from the committed set tests/fuzz/corpus/NAME, the inputs of
# bugs found and fixed (tests/fuzz/regress/NAME, kept by name) and from the
# documents of tests/data (copied, or for the server made into requests by
# tests/fuzz/server_seeds.py, into build-fuzz/seeds/NAME).  A crash or a
# broken property stops the run with the input in build-fuzz/NAME-crash-*.
# Each target prints one line: executions, seconds, exec/s, coverage (cov:
# edges, ft: features), corpus size; its whole output is in
# build-fuzz/TARGET.MODE.log.
set -u
OUT=${FUZZ_DIR:-build-fuzz}
mode=$1
shift
# ASan's quarantine of freed memory at 16 MiB instead of 256: freed blocks
# are still poisoned for many inputs, and the fuzzer spends a third less
# time in page faults (measured on fuzz_report).
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
export ASAN_OPTIONS

# Options of one target.
opts() {
	case $1 in
	fuzz_server)
		# Small requests; leaks are checked at exit, not per input (the
		# server's threads and caches outlive an input).
		echo "-max_len=4096 -detect_leaks=0 -dict=tests/fuzz/server.dict" ;;
	*)	echo "-max_len=65536" ;;
	esac
}

# build-fuzz/seeds/NAME from tests/data.
seeds() {
	d=$OUT/seeds/$2
	rm -rf "$d" && mkdir -p "$d" || exit 2
	case $1 in
	fuzz_report)
		for f in tests/data/arm64/*/*.json tests/data/fleet/*.json \
		    tests/data/lab/reports/*.json tests/data/lab/sve/*.json \
		    tests/data/x86/*.json; do
			cp "$f" "$d/$(echo "$f" | tr / _)"
		done ;;
	fuzz_profile)
		for f in tests/data/golden/*.json tests/data/x86/golden/*.json; do
			cp "$f" "$d/$(echo "$f" | tr / _)"
		done ;;
	fuzz_x86)
		for f in tests/data/x86/*.json tests/data/x86/golden/*.json; do
			cp "$f" "$d/$(echo "$f" | tr / _)"
		done ;;
	fuzz_server)
		python3 tests/fuzz/server_seeds.py "$d" || exit 2 ;;
	esac
}

# The committed inputs of NAME: its corpus and its regression inputs.
committed() {
	for d in "tests/fuzz/corpus/$1" "tests/fuzz/regress/$1"; do
		[ -d "$d" ] && echo "$d"
	done
}

# One line of figures from a libFuzzer log.
figures() {
	awk -v t="$1" '
		/^#[0-9]+/ && / cov: / {
			for (i = 1; i <= NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
				if ($i == "corp:") corp = $(i + 1)
			}
		}
		/^Done [0-9]+ runs in / { runs = $2; secs = $5 }
		/^stat::average_exec_per_sec:/ { eps = $2 }
		END {
			printf "%s: %s runs in %s s (%s exec/s), cov %s, ft %s, " \
			       "corpus %s (inputs/bytes), 0 crashes\n",
			       t, runs, secs, eps, cov, ft, corp
		}' "$2"
}

failed=0
for t in "$@"; do
	name=${t#fuzz_}
	bin=$OUT/$t
	log=$OUT/$t.$mode.log
	[ "$mode" = smoke ] || seeds "$t" "$name"
	case $mode in
	fuzz)
		mkdir -p "$OUT/corpus/$name"
		# FUZZ_RUNS executions, FUZZ_S seconds: whichever comes first.
		limit=
		[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS"
		[ -n "${FUZZ_S:-}" ] && limit="$limit -max_total_time=$FUZZ_S"
		[ -n "$limit" ] || limit=-max_total_time=60
		# shellcheck disable=SC2046
		"$bin" $(opts "$t") $limit -print_final_stats=1 \
		    -artifact_prefix="$OUT/$name-" "$OUT/corpus/$name" \
		    $(committed "$name") "$OUT/seeds/$name" >"$log" 2>&1 ;;
	smoke)
		# A fixed seed: the same inputs every run.
		case $t in
		fuzz_server) runs=3000 ;;
		fuzz_x86) runs=10000 ;;
		*) runs=20000 ;;
		esac
		rm -rf "$OUT/smoke/$name" && mkdir -p "$OUT/smoke/$name"
		# shellcheck disable=SC2046
		"$bin" $(opts "$t") -runs=$runs -seed=1 -print_final_stats=1 \
		    -artifact_prefix="$OUT/$name-" "$OUT/smoke/$name" \
		    $(committed "$name") >"$log" 2>&1 ;;
	merge)
		new=$OUT/merge/$name
		rm -rf "$new" && mkdir -p "$new" "$OUT/corpus/$name"
		# shellcheck disable=SC2046
		"$bin" $(opts "$t") -merge=1 -artifact_prefix="$OUT/$name-" \
		    "$new" $(committed "$name") "$OUT/seeds/$name" \
		    "$OUT/corpus/$name" >"$log" 2>&1 &&
		rm -rf "tests/fuzz/corpus/$name" &&
		mv "$new" "tests/fuzz/corpus/$name" &&
		echo "fuzz-merge: $t: $(ls "tests/fuzz/corpus/$name" | wc -l)" \
		     "inputs, $(du -sk "tests/fuzz/corpus/$name" | cut -f1) KiB" ;;
	*)	echo "usage: run.sh fuzz|smoke|merge TARGET..." >&2; exit 2 ;;
	esac
	rc=$?
	if [ $rc -ne 0 ]; then
		tail -40 "$log"
		echo "fuzz-$mode: $t FAILED (exit $rc; input in $OUT/$name-*)"
		failed=$((failed + 1))
	elif [ "$mode" != merge ]; then
		figures "$t" "$log"
	fi
done
[ "$mode" = smoke ] &&
	echo "fuzz-smoke: $(($# - failed)) passed, $failed failed"
[ $failed -eq 0 ]
