#!/bin/sh
# `make check`: every suite in turn, each one's output shown as it runs and
# kept in $LOGDIR/SUITE.log, then one summary line per suite and a closing
# `check: N passed, N failed, N skipped` line. A failing suite does not stop
# the others; the exit status is 1 when any suite failed.
#
#   sh tools/check.sh SUITE=COMMAND...
#
# A suite's counts are the sums of every `[word: ]N passed, N failed[, N
# skipped]` line it printed and of CUnit's `tests` summary rows (a make
# target that runs several scripts prints one line each). A suite that printed
# no counts but a `skip - WHY` line is one skipped suite, named with WHY (no
# /dev/kvm, another architecture). A suite that exits non-zero with passing
# counts, or prints no counts at all, counts as one failure.
set -u
LOGDIR=${LOGDIR:-build/check}
mkdir -p "$LOGDIR" || exit 2
SUMMARY=$LOGDIR/summary.txt
: >"$SUMMARY"
tp=0 tf=0 ts=0

for arg in "$@"; do
	name=${arg%%=*}
	cmd=${arg#*=}
	log=$LOGDIR/$name.log
	printf '\n==== check: %s (%s) ====\n' "$name" "$cmd"
	start=$(date +%s)
	# the suite's status survives the pipe through a file
	{ sh -c "$cmd" 2>&1; echo $? >"$log.rc"; } | tee "$log"
	rc=$(cat "$log.rc"); rm -f "$log.rc"
	secs=$(($(date +%s) - start))
	# p f s why: counts from the log, why = first skip reason
	set -- $(awk '
		match($0, /^([A-Za-z0-9_.\/-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/) {
			line = $0; sub(/^[A-Za-z0-9_.\/-]+: /, "", line)
			split(line, w, /[ ,]+/)
			p += w[1]; f += w[3]; s += (w[5] == "") ? 0 : w[5]; have = 1
		}
		$1 == "tests" && NF == 6 && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {
			p += $4; f += $5; have = 1
		}
		END { if (have) print p + 0, f + 0, s + 0; else print "-", "-", "-" }' "$log")
	p=$1 f=$2 s=$3
	why=$(sed -n 's/^skip - //p' "$log" | head -n 1)
	if [ "$p" = - ]; then
		if [ "$rc" = 0 ] && [ -n "$why" ]; then
			p=0 f=0 s=1
		else
			p=0 f=1 s=0
			why="exit $rc and no counts printed"
		fi
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		why="exit $rc although its counts show no failure"
	fi
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
	line="$name: $p passed, $f failed, $s skipped ($secs s)"
	if [ "$f" != 0 ]; then
		line="$line: FAILED${why:+ ($why)}; log: $log"
	elif [ "$s" != 0 ] && [ "$p" = 0 ]; then
		line="$line: skipped: $why"
	fi
	echo "$line" >>"$SUMMARY"
	printf '==== %s\n' "$line"
done

printf '\n==== check: summary (logs in %s) ====\n' "$LOGDIR"
cat "$SUMMARY"
echo "check: $tp passed, $tf failed, $ts skipped"
[ "$tf" = 0 ]
