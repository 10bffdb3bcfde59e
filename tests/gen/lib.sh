# What both generator test scripts share (sourced from the repository
# root): the tools, a temporary directory, and the tally.

AWK=${AWK:-awk}
CC=${CC:-cc}
CAPSLIB=arch/caps/caps.awk
DEPSLIB=arch/deps.awk

# $T, the tally and first (the first line of a file, for messages).
. tests/lib/cases.sh

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

notok() {
	fail=$((fail + 1))
	echo "FAIL - $1: $2"
}

# gen_files NAME OUT INPUT... [-- awk args...]: runs the generator ($GEN,
# after $CAPSLIB and $DEPSLIB) on the INPUTs into OUT; expects exit 0 and no stderr.
gen_files() {
	name=$1 out=$2
	shift 2
	inputs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		inputs="$inputs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	"$AWK" "$@" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" $inputs >"$out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		notok "$name" "generator exit $rc: $(first "$T/err")"
		return 1
	fi
	if [ -s "$T/err" ]; then
		notok "$name" "generator wrote on stderr: $(first "$T/err")"
		return 1
	fi
	return 0
}

# gen_ok NAME INPUT OUT.c [awk args...]: one input.
gen_ok() {
	name=$1 input=$2 out=$3
	shift 3
	gen_files "$name" "$out" "$input" -- "$@"
}

# The first error line of the compiler's output.
ccerr() {
	e=$(grep 'error' "$T/cc" | head -n 1)
	[ -n "$e" ] || e=$(first "$T/cc")
	echo "$e"
}

# cc_ok NAME FILE.c: compile with the strict flags ($CFLAGS_T).
cc_ok() {
	# shellcheck disable=SC2086
	if $CC $CFLAGS_T -c "$2" -o "$T/obj.o" 2>"$T/cc"; then
		return 0
	fi
	notok "$1" "does not compile: $(ccerr)"
	return 1
}

# refused NAME FILE LINE EXPECT [quiet]: judges the generator run just made
# ($rc, $T/out, $T/err) on FILE, which it had to refuse: a non-zero exit and
# exactly one line on stderr, "FILE:LINE: ..." (any LINE when LINE is
# empty) containing EXPECT; with "quiet", nothing on stdout either.
refused() {
	why=""
	if [ "$rc" -eq 0 ]; then
		why="exit 0, want non-zero"
	elif [ "${5:-}" = quiet ] && [ -s "$T/out" ]; then
		why="wrote on stdout: $(first "$T/out")"
	elif [ -n "$3" ] && ! grep -qF "$2:$3: " "$T/err"; then
		why="stderr lacks '$2:$3: ' (got: $(first "$T/err"))"
	elif [ -z "$3" ] && ! grep -q "^$2:[0-9][0-9]*: " "$T/err"; then
		why="stderr lacks '$2:LINE: ' (got: $(first "$T/err"))"
	elif ! grep -qF -- "$4" "$T/err"; then
		why="stderr lacks '$4' (got: $(first "$T/err"))"
	elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
		why="want exactly one line on stderr, got $(wc -l <"$T/err")"
	fi
	if [ -z "$why" ]; then ok "$1"; else notok "$1" "$why"; fi
}

# refuse_input NAME EXPECT INPUT...: the file on stdin, read by the
# generator ($GEN, alone) after the INPUTs, must be refused with EXPECT
# (see refused; the offending line is marked "# <- error").
refuse_input() {
	name=$1 expect=$2
	shift 2
	cat >"$T/in.txt"
	line=$(grep -n '# <- error' "$T/in.txt" | cut -d: -f1 | head -n 1)
	"$AWK" -f "$GEN" "$@" "$T/in.txt" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$T/in.txt" "$line" "$expect" quiet
}
