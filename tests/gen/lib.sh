# What both generator test scripts share (sourced from the repository
# root): the tools, a temporary directory, and the tally.

AWK=${AWK:-awk}
CC=${CC:-cc}
CAPSLIB=arch/caps/caps.awk

T=$(mktemp -d) || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 2' HUP INT TERM

pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

notok() {
	fail=$((fail + 1))
	echo "FAIL - $1: $2"
}

# The first line of a file, cut short: for messages.
firstline() {
	if [ -s "$1" ]; then
		head -n 1 "$1" | cut -c 1-200
	else
		echo "(nothing)"
	fi
}
