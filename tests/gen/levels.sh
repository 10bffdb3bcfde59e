#!/bin/sh
# Tests of arch/arm64/gen_levels.awk, the generator of the arm64 level and
# core-name tables, and of the real arch/arm64/levels.txt.
#
#   sh tests/gen/levels.sh     (make gen-test; AWK=mawk, CC=gcc to choose)
#
# Bad inputs (here-documents below, read after the real idregs.txt): each
# must make the generator exit non-zero, print nothing on stdout and one
# line on stderr, "FILE:LINE: reason", the reason containing the case's
# text and LINE the line marked "# <- error".  The real levels.txt must
# generate silently C that compiles with the strict flags.
# Prints "ok - NAME" or "FAIL - NAME: why" per case, then "N passed,
# N failed"; exits 1 if anything failed.  POSIX sh.

here=$(dirname "$0")
cd "$here/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/gen/lib.sh
GEN=arch/arm64/gen_levels.awk
IDREGS=arch/arm64/idregs.txt
CFLAGS_T="-std=c11 -Wall -Wextra -Werror -I. -Iinclude"

# refuse NAME EXPECT: the levels file on stdin must be refused with EXPECT.
refuse() {
	refuse_input "$1" "$2" "$IDREGS"
}

refuse "unknown feature" "FEAT_NOPE is no FEAT_* name of idregs.txt" <<'X'
level Armv8.0
  FEAT_AA64EL0 FEAT_NOPE # <- error
end
X
refuse "base not listed before" "base Armv8.1 is not a level listed before" <<'X'
level Armv8.0
end
level Armv8.2 Armv8.1 # <- error
end
X
refuse "level twice" "level Armv8.0 listed twice" <<'X'
level Armv8.0
end
level Armv8.0 # <- error
end
X
refuse "feature twice in a level" "FEAT_LSE listed twice" <<'X'
level Armv8.1
  FEAT_LSE
  FEAT_LSE # <- error
end
X
refuse "missing end" "missing end" <<'X'
level Armv8.0
  FEAT_AA64EL0
X
refuse "core of an unknown implementer" "which no implementer line names" <<'X'
level Armv8.0
end
core 0x41 0xd0c Neoverse N1 # <- error
X
refuse "core twice" "core 0x41 0xd0c listed twice" <<'X'
level Armv8.0
end
implementer 0x41 Arm
core 0x41 0xd0c Neoverse N1
core 0x41 0xd0c Neoverse N1 again # <- error
X
refuse "part out of range" "PART below 0x1000" <<'X'
level Armv8.0
end
implementer 0x41 Arm
core 0x41 0x1000 Too wide # <- error
X
refuse "implementer twice" "implementer 0x41 listed twice" <<'X'
level Armv8.0
end
implementer 0x41 Arm
implementer 0x41 Arm again # <- error
X

name="real levels.txt"
if gen_files "$name" "$T/levels.c" "$IDREGS" arch/arm64/levels.txt -- &&
   cc_ok "$name" "$T/levels.c"; then
	ok "$name"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
