#!/bin/sh
# Tests of arch/arm64/gen_kvmwr.awk, the generator of the kernel table
# (from which Linux release KVM lets userspace write each arm64 ID register
# field), and of the real arch/arm64/kvm-writable.txt.
#
#   sh tests/gen/kvmwr.sh      (make gen-test; AWK=mawk, CC=gcc to choose)
#
# Bad inputs (here-documents below, read after the real idregs.txt and
# caps.txt): each must make the generator exit non-zero, print nothing on
# stdout and one line on stderr, "FILE:LINE: reason", the reason containing
# the case's text and LINE the line marked "# <- error".  The real table
# must generate silently C that compiles with the strict flags, and a small
# table is linked into a checker that reads back what each line says.
# Prints "ok - NAME" or "FAIL - NAME: why" per case, then "N passed,
# N failed"; exits 1 if anything failed.  POSIX sh.

here=$(dirname "$0")
cd "$here/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/gen/lib.sh
GEN=arch/arm64/gen_kvmwr.awk
IDREGS=arch/arm64/idregs.txt
CAPS=arch/caps/caps.txt
CFLAGS_T="-std=c11 -Wall -Wextra -Werror -I. -Iinclude"

# refuse NAME EXPECT: the table on stdin must be refused with EXPECT.
refuse() {
	refuse_input "$1" "$2" "$IDREGS" "$CAPS"
}

refuse "unknown register" "register ID_NOPE_EL1 is not in idregs.txt" <<'X'
source s1 a commit
writable ID_NOPE_EL1 RAS 6.18 s1 # <- error
X
refuse "unknown field" "ID_AA64PFR0_EL1 has no field NOPE in idregs.txt" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 NOPE 6.18 s1 # <- error
X
refuse "field twice" "ID_AA64PFR0_EL1.RAS listed twice (line 2)" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.18 s1
writable ID_AA64PFR0_EL1 RAS 6.12 s1 # <- error
X
refuse "bits past 63" "bits 64:60: expected MSB:LSB with 63 >= MSB >= LSB" <<'X'
source s1 a commit
writable ID_ISAR0_EL1 64:60 6.18 s1 # <- error
X
refuse "release not X.Y" "SINCE 6: expected X.Y, A..B or ..B" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6 s1 # <- error
X
refuse "range reversed" "the range's first release is not below its last" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.17..6.13 s1 # <- error
X
refuse "source not defined" "source s2 is not defined by a source line before" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.18 s1+s2 # <- error
X
refuse "source defined twice" "source s1 defined twice (line 1)" <<'X'
source s1 a commit
source s1 another # <- error
X
refuse "source without text" "expected: source NAME TEXT" <<'X'
source s1 # <- error
X
refuse "unknown option" "unknown option sometimes" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.18 s1 sometimes # <- error
X
refuse "unknown capability" "KVM_CAP_NOPE is not a capability of arch/caps/caps.txt" <<'X'
source s1 a commit
writable MIDR_EL1 Variant 6.15 s1 cap=KVM_CAP_NOPE # <- error
X
refuse "until before since" "no longer writable before it is writable" <<'X'
source s1 a commit
writable ID_AA64ISAR0_EL1 TME 6.7 s1 until=6.6:s1 # <- error
X
refuse "stable series not older" "is not older than 6.18" <<'X'
source s1 a commit
writable ID_PFR0_EL1 RAS 6.18 s1 stable=6.18.3:s1 # <- error
X
refuse "stable without patch level" "expected stable=X.Y.Z:SOURCE" <<'X'
source s1 a commit
writable ID_PFR0_EL1 RAS 6.18 s1 stable=6.12:s1 # <- error
X
refuse "option twice" "option approx given twice" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.18 s1 approx approx # <- error
X
refuse "too few words" "expected: writable REGISTER FIELD SINCE SOURCE" <<'X'
source s1 a commit
writable ID_AA64PFR0_EL1 RAS 6.18 # <- error
X
refuse "unknown keyword" "unexpected line" <<'X'
source s1 a commit
readable ID_AA64PFR0_EL1 RAS 6.18 s1 # <- error
X
refuse "no writable line" "no writable line" <<'X'
source s1 a commit
X

name="real kvm-writable.txt"
if gen_files "$name" "$T/kw.c" "$IDREGS" "$CAPS" arch/arm64/kvm-writable.txt -- &&
   cc_ok "$name" "$T/kw.c"; then
	n=$(grep -c '^writable ' arch/arm64/kvm-writable.txt)
	got=$(grep -c '^	{ 0x' "$T/kw.c")
	if [ "$n" = "$got" ]; then ok "$name"; else notok "$name" "$got entries, want $n"; fi
fi

# A small table read back: each value below is what its line says (the
# encodings and bits are idregs.txt's: ID_AA64PFR0_EL1 is op0 3, CRn 0,
# CRm 4, op2 0, key 0xc020, RAS [31:28]; ID_PFR0_EL1 3 0 0 1 0, key 0xc008;
# MIDR_EL1 key 0xc000, Variant [23:20]; ID_AA64ISAR0_EL1 key 0xc030).
name="good table read back"
cat >"$T/good.txt" <<'X'
source s1 a commit
source s2 a release
writable ID_AA64PFR0_EL1 RAS 6.18 s1 approx
writable ID_PFR0_EL1 RAS 6.18 s1 stable=6.12.60:s2 host=aarch32
writable MIDR_EL1 Variant 6.15 s2 cap=KVM_CAP_ARM_WRITABLE_IMP_ID_REGS
writable ID_AA64ISAR0_EL1 TME 6.7 s1 until=6.13..7.3:s1+s2
writable ID_AA64PFR0_EL1 CSV3 5.11..6.6 s1
writable ID_AA64PFR0_EL1 GIC ..6.12 s2
writable ID_ISAR0_EL1 31:28 6.18 s1
X
cat >"$T/check.c" <<'X'
#include <stdio.h>
#include <string.h>
#include "engine/kernel.h"
static int bad;
#define WANT(c) do { if (!(c)) { printf("%s\n", #c); bad = 1; } } while (0)
int main(void)
{
	const struct cf_kw_entry *e = cf_arm64_kvm_writable.e;
	WANT(cf_arm64_kvm_writable.n == 7);
	WANT(e[0].key == 0xc020 && e[0].msb == 31 && e[0].lsb == 28 &&
	     e[0].since == 6018 && e[0].since_lo == 6018 &&
	     e[0].flags == CF_KW_APPROX && e[0].line == 3 && !e[0].cap);
	WANT(e[1].key == 0xc008 && e[1].stable == 6012 && e[1].stable_patch == 60 &&
	     e[1].flags == CF_KW_AARCH32);
	WANT(e[2].key == 0xc000 && e[2].msb == 23 && e[2].lsb == 20 && e[2].cap &&
	     !strcmp(e[2].cap, "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS"));
	WANT(e[3].key == 0xc030 && e[3].until_lo == 6013 && e[3].until == 7003 &&
	     !strcmp(e[3].sources, "s1"));
	WANT(e[4].since_lo == 5011 && e[4].since == 6006 && e[4].flags == CF_KW_RANGE);
	WANT(e[5].since_lo == 0 && e[5].since == 6012 &&
	     e[5].flags == CF_KW_FIRST_UNKNOWN);
	WANT(e[6].msb == 31 && e[6].lsb == 28 && !strcmp(e[6].field, "31:28"));
	return bad;
}
X
if gen_files "$name" "$T/good.c" "$IDREGS" "$CAPS" "$T/good.txt" -- &&
   cc_ok "$name" "$T/good.c"; then
	if ! $CC $CFLAGS_T -o "$T/check" "$T/check.c" "$T/good.c" 2>"$T/cc"; then
		notok "$name" "checker does not build: $(ccerr)"
	elif ! "$T/check" >"$T/chk" 2>&1; then
		notok "$name" "$(first "$T/chk")"
	else
		ok "$name"
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
