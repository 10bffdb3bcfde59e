# What the command-line test scripts share (tests/cli/*.sh, each sourcing
# this with its own arguments, BINARY): $BIN, the binary's absolute path;
# the repository root as the working directory; tests/lib/cases.sh; and the
# helpers below.  A script's usage error exits 2.

if [ $# -ne 1 ]; then
	echo "usage: sh $0 BINARY" >&2
	exit 2
fi
BIN=$1
case $BIN in
/*) ;;
*) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
	echo "$0: $BIN: not an executable" >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/lib/cases.sh

# run ARGS...: runs the binary; stdout in $T/out, stderr in $T/err, exit in $rc.
run() {
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

want_rc() {
	[ "$rc" -eq "$1" ] || bad "exit $rc, want $1 (stderr: $(first "$T/err"))"
}

# out_has / err_has STRING: fixed-string search.
out_has() {
	grep -qF -- "$1" "$T/out" || bad "stdout lacks '$1'"
}

err_has() {
	grep -qF -- "$1" "$T/err" || bad "stderr lacks '$1' (got: $(first "$T/err"))"
}

out_lacks() {
	! grep -qF -- "$1" "$T/out" || bad "stdout has '$1'"
}

err_empty() {
	[ ! -s "$T/err" ] || bad "stderr not empty: $(first "$T/err")"
}
