# What the sh test scripts share (sourced from the repository root): a
# temporary directory $T, removed at exit, and the cases and their tally.
#
#   case_ "NAME"; ...checks, each calling bad "why" when it fails...; end_
#
# prints "ok - NAME" or "FAIL - NAME: why; why"; skip_ "NAME" "why" one
# that cannot run here.  The script ends with
# echo "$pass passed, $fail failed" (", $skipped skipped" if it skips).

T=$(mktemp -d) || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 2' HUP INT TERM

pass=0
fail=0
skipped=0
name=""
why=""

# case_ NAME: starts a test case; end_ reports it.
case_() {
	name=$1
	why=""
}

end_() {
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "FAIL - $name: ${why%; }"
	fi
}

bad() {
	why="$why$1; "
}

# skip_ NAME WHY: a case that cannot run here, and why.
skip_() {
	skipped=$((skipped + 1))
	echo "skip - $1: $2"
}

# First line of a file, cut short, for messages.
first() {
	if [ -s "$1" ]; then
		head -n 1 "$1" | cut -c 1-200
	else
		echo "(empty)"
	fi
}
