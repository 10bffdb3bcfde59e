#!/bin/sh
# Tests of arch/x86/gen_cpuid.awk, the x86 catalogue generator, and of the
# real arch/x86/cpuid.txt.
#
#   sh tests/gen/x86.sh        (AWK=mawk, CC=gcc to choose the tools)
#
# Bad inputs (written below as here-documents, for the catalogue file and
# for the optional capability file): each must make the generator exit
# non-zero, print nothing on stdout and exactly one line on stderr,
# "FILE:LINE: reason", where the reason contains the case's expected text
# and LINE is the line carrying the comment "# <- error" (a case without
# the marker only needs some FILE:NUMBER:).
# Good inputs must generate silently C that compiles with
#   cc -std=c11 -Wall -Wextra -Werror -I. -Iinclude
# (from the repository root); the every-form input (with and without a
# capability file) is also linked into a program that checks the tables
# hold what the file says, and the real catalogue (alone, and with
# arch/caps/caps.txt as the Makefile runs it) into one that checks its
# invariants: every bit of every register described exactly once, keys
# ascending and as arch/x86/x86.h computes them, flag values, the facts the
# x86 code sets, levels naming flags, gates naming flags (each XSAVE
# sub-leaf gated by its own XCR0/XSS bit), `needs` terms naming fields of
# the catalogue (and the XCR0 rules of AVX-512F, PKU and AMX-TILE), spot
# checks of bit positions.
#
# Prints "ok - NAME" or "FAIL - NAME: why" per case, then "N passed,
# N failed"; exits 1 if anything failed.  POSIX sh.

here=$(dirname "$0")
cd "$here/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/gen/lib.sh
GEN=arch/x86/gen_cpuid.awk
REAL=arch/x86/cpuid.txt
CFLAGS_T="-std=c11 -Wall -Wextra -Werror -I. -Iinclude"

# ---- bad catalogues --------------------------------------------------------

# bad NAME EXPECT < input: the generator must refuse the input.
bad() {
	name="bad/$1" expect=$2
	f="$T/$1.txt"
	cat >"$f"
	line=$(grep -n '# <- error' "$f" | cut -d: -f1 | head -n 1)
	"$AWK" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$f" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$f" "$line" "$expect" quiet
}

# -- overlapping fields and fields outside the register

bad overlap "overlaps field" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 pni
  number 3:0 count   # <- error
  default zero
end
EOF

bad overlap-default-free-range "overlaps field" <<'EOF'
msr 0x485 IA32_VMX_MISC
  orset 31:0 allowed0
  andset 63:31 allowed1   # <- error
end
EOF

bad cpuid-bit-32 "outside the 32-bit register" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 32 fpu   # <- error
  default zero
end
EOF

bad cpuid-range-past-31 "outside the 32-bit register" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 32:0 max_basic_leaf   # <- error
end
EOF

bad msr-range-past-63 "outside the 64-bit register" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  equal 64:60 top   # <- error
  default flag
end
EOF

bad range-reversed "reversed" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 0:31 max_basic_leaf   # <- error
end
EOF

bad range-malformed "bad bit range" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31-0 max_basic_leaf   # <- error
end
EOF

bad flag-range "takes one bit" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 1:0 pni   # <- error
  default zero
end
EOF

bad inverted-range "takes one bit" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  inverted 3:2 rsba   # <- error
  default flag
end
EOF

bad bit-not-a-number "bad bit number" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag x pni   # <- error
  default zero
end
EOF

bad bit-leading-zero "bad bit number" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 07 est   # <- error
  default zero
end
EOF

# -- registers out of order or listed twice

bad cpuid-out-of-order "not in ascending order" <<'EOF'
cpuid 0x00000007 0x0 ebx
  default flag
end
cpuid 0x00000001 0x0 ecx   # <- error
  default flag
end
EOF

bad cpuid-reg-out-of-order "not in ascending order" <<'EOF'
cpuid 0x00000001 0x0 edx
  default flag
end
cpuid 0x00000001 0x0 ecx   # <- error
  default flag
end
EOF

bad cpuid-subleaf-out-of-order "not in ascending order" <<'EOF'
cpuid 0x00000007 0x1 eax
  default flag
end
cpuid 0x00000007 0x0 edx   # <- error
  default flag
end
EOF

bad cpuid-twice "listed twice" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
end
cpuid 0x1 0x00 ecx   # <- error
  default flag
end
EOF

bad msr-out-of-order "not in ascending order" <<'EOF'
msr 0x345 IA32_PERF_CAPABILITIES
  default equal
end
msr 0x10a IA32_ARCH_CAPABILITIES   # <- error
  default flag
end
EOF

bad msr-index-twice "not in ascending order" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  default flag
end
msr 0x10A ARCH_CAPS_AGAIN   # <- error
  default flag
end
EOF

bad msr-name-twice "listed twice" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  default flag
end
msr 0x345 IA32_ARCH_CAPABILITIES   # <- error
  default equal
end
EOF

bad cpuid-after-msr "after an MSR" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  default flag
end
cpuid 0x00000001 0x0 ecx   # <- error
  default flag
end
EOF

# -- unknown kinds, registers, keywords

bad unknown-kind "unknown line 'flg'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flg 0 pni   # <- error
  default zero
end
EOF

bad unknown-register "unknown register 'exx'" <<'EOF'
cpuid 0x00000001 0x0 exx   # <- error
  default flag
end
EOF

bad unknown-register-case "unknown register 'ECX'" <<'EOF'
cpuid 0x00000001 0x0 ECX   # <- error
  default flag
end
EOF

bad unknown-default "unknown default kind 'and'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default and   # <- error
end
EOF

bad unknown-keyword "unknown line 'register'" <<'EOF'
register 0x00000001 0x0 ecx   # <- error
end
EOF

# -- flag names

bad flag-name-twice "flag name pni already used on line 2" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 pni
  default zero
end
cpuid 0x00000001 0x0 edx
  flag 0 pni   # <- error
  default zero
end
EOF

bad runtime-name-clashes-flag "flag name apic already used" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 21 apic
  default zero
end
cpuid 0x00000001 0x0 edx
  runtime 9 apic   # <- error
  default zero
end
EOF

bad field-twice-in-register "listed twice in CPUID_00000001_0_EBX" <<'EOF'
cpuid 0x00000001 0x0 ebx
  vcpu 7:0 id
  vcpu 15:8 id   # <- error
  default vcpu
end
EOF

bad name-upper-case "bad name" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 SSE3   # <- error
  default zero
end
EOF

bad name-reserved "kept for the fields" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 bit0   # <- error
  default zero
end
EOF

# -- gates (cpuid ... gate=FLAG,...): each names a flag of another register

bad gate-unknown-flag "CPUID_0000000D_3_EAX is gated by unknown flag xcr0_mpx" <<'EOF'
cpuid 0x0000000d 0x0 eax
  flag 3 xcr0_bndregs
  default flag
end
cpuid 0x0000000d 0x3 eax gate=xcr0_mpx   # <- error
  exact0 31:0 size
end
EOF

bad gate-names-runtime "gated by runtime field osxsave, not a flag" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
  runtime 27 osxsave
end
cpuid 0x0000000d 0x2 eax gate=osxsave   # <- error
  default equal
end
EOF

bad gate-names-number "gated by unknown flag max_basic_leaf" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31:0 max_basic_leaf
end
cpuid 0x00000014 0x0 eax gate=max_basic_leaf   # <- error
  default zero
end
EOF

bad gate-self "gate sgx is a field of CPUID_00000007_0_EBX itself" <<'EOF'
cpuid 0x00000007 0x0 ebx gate=sgx   # <- error
  flag 2 sgx
  default flag
end
EOF

bad gate-twice "gate sgx listed twice" <<'EOF'
cpuid 0x00000007 0x0 ebx
  flag 2 sgx
  default flag
end
cpuid 0x00000012 0x0 eax gate=sgx,sgx   # <- error
  default zero
end
EOF

bad gate-malformed "bad gate 'gate='" <<'EOF'
cpuid 0x00000012 0x0 eax gate=   # <- error
  default zero
end
EOF

bad gate-on-msr-unknown-flag "IA32_ARCH_CAPABILITIES is gated by unknown flag sgx" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES gate=sgx   # <- error
  default flag
end
EOF

bad msr-junk "'msr' wants INDEX NAME [gate=FLAG,...]" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES required   # <- error
  default flag
end
EOF

# -- needs: features that need others (resolved once the file is read)

bad needs-unknown-flag "unknown flag or register 'avx'" <<'EOF'
cpuid 0x00000007 0x0 ebx
  flag 5 avx2
  default flag
end
needs avx2 avx   # <- error
EOF

bad needs-bit-past-field "bit 32 is not a bit of field IA32_VMX_ENTRY_CTLS.allowed1 (32 bits)" <<'EOF'
cpuid 0x80000001 0x0 edx
  flag 29 lm
  default flag
end
msr 0x484 IA32_VMX_ENTRY_CTLS
  orset 31:0 allowed0
  andset 63:32 allowed1
end
needs IA32_VMX_ENTRY_CTLS.allowed1:32 lm   # <- error
EOF

bad needs-order-on-set "IA32_VMX_VMFUNC.functions is a set of bits: '>=' wants a field with an order" <<'EOF'
msr 0x491 IA32_VMX_VMFUNC
  andset 63:0 functions
end
needs IA32_VMX_VMFUNC.functions>=2 IA32_VMX_VMFUNC[0]   # <- error
EOF

bad needs-twice "need sse2 listed twice" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
  default flag
end
needs sse sse2 sse2   # <- error
EOF

bad needs-inside-block "'needs' inside register CPUID_00000001_0_EDX" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
needs sse sse2   # <- error
  default flag
end
EOF

# -- levels

bad level-unknown-flag "unknown flag sse5" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
  default flag
end
level x86-64-v1 sse sse5 sse2   # <- error
EOF

bad level-names-runtime "runtime field osxsave, not a flag" <<'EOF'
cpuid 0x00000001 0x0 ecx
  runtime 27 osxsave
  default flag
end
level x86-64-v1 osxsave   # <- error
EOF

bad level-names-inverted "inverted field rsba, not a flag" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  inverted 2 rsba
  default flag
end
level x86-64-v1 rsba   # <- error
EOF

bad level-out-of-order "out of order" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
end
level x86-64-v2 sse   # <- error
EOF

bad level-twice "out of order" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
  default flag
end
level x86-64-v1 sse
level x86-64-v1 sse2   # <- error
EOF

bad level-flag-twice "listed twice" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
  default flag
end
level x86-64-v1 sse
level x86-64-v2 sse2 sse   # <- error
EOF

bad level-bad-name "bad level name" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
end
level v1 sse   # <- error
EOF

bad level-no-flags "'level' wants NAME FLAG" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
end
level x86-64-v1   # <- error
EOF

bad level-inside-register "inside register" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  level x86-64-v1 sse   # <- error
  default flag
end
EOF

# -- malformed lines and blocks

bad cpuid-args "'cpuid' wants LEAF SUBLEAF REG" <<'EOF'
cpuid 0x00000001 ecx   # <- error
  default flag
end
EOF

bad cpuid-flag-unknown "'cpuid' wants LEAF SUBLEAF REG [required] [gate=FLAG,...]" <<'EOF'
cpuid 0x00000001 0x0 ecx needed   # <- error
  default flag
end
EOF

bad cpuid-leaf-decimal "bad leaf" <<'EOF'
cpuid 7 0x0 ebx   # <- error
  default flag
end
EOF

bad cpuid-leaf-too-big "bad leaf" <<'EOF'
cpuid 0x100000000 0x0 ebx   # <- error
  default flag
end
EOF

bad cpuid-subleaf-too-big "bad subleaf" <<'EOF'
cpuid 0x0000000d 0x4000 eax   # <- error
  default flag
end
EOF

bad msr-args "'msr' wants INDEX NAME" <<'EOF'
msr 0x10a   # <- error
  default flag
end
EOF

bad msr-index "bad MSR index" <<'EOF'
msr 266 IA32_ARCH_CAPABILITIES   # <- error
  default flag
end
EOF

bad msr-name "bad MSR name" <<'EOF'
msr 0x10a ia32_arch_capabilities   # <- error
  default flag
end
EOF

bad field-args "'number' wants MSB:LSB NAME" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31:0   # <- error
end
EOF

bad flag-args "'flag' wants BIT NAME" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 pni sse3   # <- error
  default zero
end
EOF

bad field-outside-register "'flag' outside a register" <<'EOF'
flag 0 pni   # <- error
EOF

bad default-outside-register "'default' outside a register" <<'EOF'
default flag   # <- error
EOF

bad default-args "'default' wants KIND" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default   # <- error
end
EOF

bad default-twice "second 'default'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
  default zero   # <- error
end
EOF

bad undescribed-bits "bits 31:1 are described by no line" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 pni
end   # <- error
EOF

bad undescribed-msr-bit "bit 63 is described by no line" <<'EOF'
msr 0x10a IA32_ARCH_CAPABILITIES
  andset 62:0 most
end   # <- error
EOF

bad block-inside-block "missing 'end'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
cpuid 0x00000001 0x0 edx   # <- error
  default flag
end
EOF

bad end-outside-register "'end' outside a register" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
end
end   # <- error
EOF

bad junk-after-end "junk after 'end'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  default flag
end ecx   # <- error
EOF

bad missing-end-eof "has no 'end'" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 0 pni
  default flag
EOF

bad no-registers "no registers" <<'EOF'
# nothing but a comment
EOF

# -- facts

bad fact-args "'fact' wants NAME KEY WRITABLE" <<'EOF'
fact TSC_KHZ 0x2000002   # <- error
  default equal
end
EOF

bad fact-key-range "bad fact key" <<'EOF'
fact TSC_KHZ 0x3000000 0x0   # <- error
  default equal
end
EOF

bad fact-name "bad fact name" <<'EOF'
fact tsc_khz 0x2000002 0x0   # <- error
  default equal
end
EOF

bad fact-writable "bad writable mask" <<'EOF'
fact TSC_KHZ 0x2000002 0x11112222333344445   # <- error
  default equal
end
EOF

bad fact-out-of-order "not in ascending order" <<'EOF'
fact TSC_KHZ 0x2000002 0x0
  default equal
end
fact TSC_SCALING 0x2000001 0x0   # <- error
  default flag
end
EOF

bad fact-after-cpuid "facts come first" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31:0 max_basic_leaf
end
fact TSC_KHZ 0x2000002 0x0   # <- error
  default equal
end
EOF

bad fact-name-twice "listed twice" <<'EOF'
fact TSC_KHZ 0x2000001 0x0
  default equal
end
fact TSC_KHZ 0x2000002 0x0   # <- error
  default equal
end
EOF

# -- the capability file (second input): errors point into it

# bad_caps NAME EXPECT < caps: a good first file, then the capability lines.
bad_caps() {
	name="bad/caps-$1" expect=$2
	f="$T/caps-$1.txt"
	cat >"$f"
	line=$(grep -n '# <- error' "$f" | cut -d: -f1 | head -n 1)
	"$AWK" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$T/caps-first.txt" "$f" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$f" "$line" "$expect" quiet
}

cat >"$T/caps-first.txt" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31:0 max_basic_leaf
end
EOF

bad_caps kind "kind must be bool, count or bitmask" <<'EOF'
KVM_CAP_IRQCHIP 0 x86,arm64 bool guest
KVM_CAP_NR_VCPUS 9 all number capacity   # <- error
EOF

bad_caps order "not in ascending number order" <<'EOF'
KVM_CAP_NR_VCPUS 9 all count capacity
KVM_CAP_IRQCHIP 0 x86,arm64 bool guest   # <- error
EOF

bad_caps arch "unknown architecture 'x64'" <<'EOF'
KVM_CAP_IRQCHIP 0 x64 bool guest   # <- error
EOF

bad_caps args "capability line wants NAME NUMBER ARCHES KIND ROLE" <<'EOF'
KVM_CAP_IRQCHIP 0 bool guest   # <- error
EOF

# Every capability has a role (a line without one is the old grammar).
bad_caps no-role "capability line wants NAME NUMBER ARCHES KIND ROLE" <<'EOF'
KVM_CAP_IRQCHIP 0 x86,arm64 bool guest
KVM_CAP_NR_VCPUS 9 all count   # <- error
EOF

bad_caps role "capability role must be capacity, setting, mechanism or guest" <<'EOF'
KVM_CAP_IRQCHIP 0 x86,arm64 bool feature   # <- error
EOF

bad_caps capacity-bool "KVM_CAP_IRQFD is a capacity, so a number" <<'EOF'
KVM_CAP_IRQFD 32 x86 bool capacity   # <- error
EOF

bad_caps since "bad 'since=6' (want since=MAJOR.MINOR" <<'EOF'
KVM_CAP_IRQCHIP 0 x86 bool guest since=6.15
KVM_CAP_IRQFD 32 x86 bool mechanism since=6   # <- error
EOF

# bad_first NAME EXPECT < first: errors that belong to the first file even
# when a capability file follows.
bad_first() {
	name="bad/$1 (with a capability file)" expect=$2
	f="$T/first-$1.txt"
	cat >"$f"
	line=$(grep -n '# <- error' "$f" | cut -d: -f1 | head -n 1)
	[ -n "$line" ] || line=$(wc -l <"$f" | tr -d ' ')
	printf 'KVM_CAP_IRQCHIP 0 x86 bool guest\n' >"$T/caps-one.txt"
	"$AWK" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$f" "$T/caps-one.txt" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$f" "$line" "$expect" quiet
}

bad_first level-unknown-flag "unknown flag sse5" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
end
level x86-64-v1 sse5   # <- error
EOF

bad_first missing-end-eof "has no 'end'" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
EOF

# -- needs with a KVM capability as a need (cap:NAME) and alternatives
# (NEED|NEED): capabilities come from the capability file, those of this
# architecture only; a capability is never a FEATURE.

cat >"$T/caps-lapic.txt" <<'EOF'
KVM_CAP_IRQCHIP 0 x86,arm64,s390 bool guest
KVM_CAP_ARM_PSCI 34 arm64 bool guest
KVM_CAP_SPLIT_IRQCHIP 121 x86 bool guest
EOF

# bad_capneeds NAME EXPECT < tail: leaf 1 ECX with x2apic and
# tsc_deadline_timer, then TAIL (a bad `needs` line), then the capability
# file above as the second input.
bad_capneeds() {
	name="bad/$1 (with a capability file)" expect=$2
	f="$T/capneeds-$1.txt"
	{ printf 'cpuid 0x00000001 0x0 ecx\n  flag 21 x2apic\n'
	  printf '  flag 24 tsc_deadline_timer\n  default flag\nend\n'
	  cat; } >"$f"
	line=$(grep -n '# <- error' "$f" | cut -d: -f1 | head -n 1)
	"$AWK" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$f" "$T/caps-lapic.txt" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$f" "$line" "$expect" quiet
}

bad_capneeds needs-cap-unknown "unknown capability KVM_CAP_IRQCHIPS" <<'EOF'
needs x2apic cap:KVM_CAP_IRQCHIPS   # <- error
EOF

bad_capneeds needs-cap-other-arch "KVM_CAP_ARM_PSCI is not a capability of x86 (arm64)" <<'EOF'
needs x2apic cap:KVM_CAP_IRQCHIP|cap:KVM_CAP_ARM_PSCI   # <- error
EOF

bad_capneeds needs-cap-lower-case "unknown capability kvm_cap_irqchip" <<'EOF'
needs x2apic cap:kvm_cap_irqchip   # <- error
EOF

bad_capneeds needs-cap-empty "empty capability name in 'cap:'" <<'EOF'
needs x2apic cap:|cap:KVM_CAP_SPLIT_IRQCHIP   # <- error
EOF

bad_capneeds needs-alternative-empty-last "empty alternative in 'cap:KVM_CAP_IRQCHIP|'" <<'EOF'
needs x2apic cap:KVM_CAP_IRQCHIP| | an in-kernel local APIC   # <- error
EOF

bad_capneeds needs-alternative-empty-middle "empty alternative in 'cap:KVM_CAP_IRQCHIP||cap:KVM_CAP_SPLIT_IRQCHIP'" <<'EOF'
needs x2apic cap:KVM_CAP_IRQCHIP||cap:KVM_CAP_SPLIT_IRQCHIP   # <- error
EOF

bad_capneeds needs-alternative-empty-first "empty alternative in '|cap:KVM_CAP_SPLIT_IRQCHIP'" <<'EOF'
needs x2apic tsc_deadline_timer |cap:KVM_CAP_SPLIT_IRQCHIP   # <- error
EOF

bad_capneeds needs-cap-as-feature "cap:KVM_CAP_IRQCHIP: a capability is no FEATURE" <<'EOF'
needs cap:KVM_CAP_IRQCHIP x2apic   # <- error
EOF

bad_capneeds needs-alternative-as-feature "x2apic|tsc_deadline_timer: a FEATURE has no alternatives" <<'EOF'
needs x2apic|tsc_deadline_timer cap:KVM_CAP_IRQCHIP   # <- error
EOF

bad_capneeds needs-alternative-twice "need cap:KVM_CAP_IRQCHIP listed twice" <<'EOF'
needs x2apic cap:KVM_CAP_IRQCHIP|cap:KVM_CAP_IRQCHIP   # <- error
EOF

# Without a capability file no capability is known.
bad needs-cap-without-caps-file "unknown capability KVM_CAP_IRQCHIP" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 21 x2apic
  default flag
end
needs x2apic cap:KVM_CAP_IRQCHIP   # <- error
EOF

# ---- good catalogues -------------------------------------------------------


# gen2_ok NAME INPUT CAPS OUT.c [awk args...]: with a capability file as
# second input.
gen2_ok() {
	name=$1 input=$2 caps=$3 out=$4
	shift 4
	gen_files "$name" "$out" "$input" "$caps" -- "$@"
}



# run_check NAME GEN.c CHECK.c [cc args]: link and run a checker.
run_check() {
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS_T -o "$T/check" "$2" "$3" 2>"$T/cc"; then
		notok "$1" "does not build: $(ccerr)"
	elif ! "$T/check" >"$T/out" 2>&1; then
		notok "$1" "$(first "$T/out")"
	else
		ok "$1"
	fi
}

cat >"$T/minimal.txt" <<'EOF'
cpuid 0x00000000 0x0 eax
  number 31:0 max_basic_leaf
end
EOF
name="good/minimal"
gen_ok "$name" "$T/minimal.txt" "$T/min.c" && cc_ok "$name" "$T/min.c" && ok "$name"

name="good/minimal with -v sym=test_catalog"
if gen_ok "$name" "$T/minimal.txt" "$T/sym.c" -v sym=test_catalog; then
	if ! grep -q '^const struct cf_catalog test_catalog = {' "$T/sym.c"; then
		notok "$name" "no 'const struct cf_catalog test_catalog' in the output"
	elif cc_ok "$name" "$T/sym.c"; then
		ok "$name"
	fi
fi

# Every kind, every default, CPUID and MSR keys, levels.  Comments and odd
# spacing on purpose.
cat >"$T/every.txt" <<'EOF'
# every form the grammar has
fact TSC_KHZ 0x2000002 0xffffffff
  number 31:0 khz
  default zero
end
cpuid 0x00000001 0x0 ecx required
  flag 0 pni          # a flag
	runtime 27 osxsave
  default zero
end

cpuid 0x00000001 0x0 edx
  flag 25 sse
  flag 26 sse2
  vcpu 28 ht
  default flag
end
cpuid 0x0000000A 0x0 ebx
  inverted 0 pmu_no_cycles
  number 7:4 count
  equal 11:8 same
  default vcpu
end
cpuid 0x0000000d 0x11 eax gate=sse,pni
  equal 31:0 size
end
needs pni,sse sse2 | SSE2
needs IA32_VMX_PINBASED_CTLS.allowed1:5 CPUID_80000008_0_EAX.phys_bits>=36 IA32_ARCH_CAPABILITIES[62]
cpuid 0x0000000d 0x3FFF edx
  runtime 31:16 size_now
  default equal
end
cpuid 0x80000008 0x0 eax
  number 7:0 phys_bits
  default zero
end
msr 0x10a IA32_ARCH_CAPABILITIES
  flag 0 rdcl_no
  inverted 2 rsba
  flag 62 its_no
  default zero
end
msr 0x481 IA32_VMX_PINBASED_CTLS
  orset 31:0 allowed0
  andset 63:32 allowed1
end
msr 0xC0011029 DE_CFG
  flag 1 lfence_serializing
  default flag
end
level x86-64-v1 sse sse2
level x86-64-v2 pni
EOF

cat >"$T/check_every.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "arch/x86/x86_catalog.h"

#ifndef CPUID_BASE
#define CPUID_BASE 1ULL
#define MSR_BASE 2ULL
#endif
#define CKEY(leaf, sub, reg) (CPUID_BASE << 48 | (unsigned long long)(leaf) << 16 \
			      | (unsigned long long)(sub) << 2 | (reg))
#define MKEY(idx) (MSR_BASE << 48 | (unsigned long long)(idx))

static int bad;

#define WANT(cond) do { if (!(cond)) { \
	printf("line %d: %s\n", __LINE__, #cond); bad = 1; } } while (0)

/* Register I + 1 (0 is the fact): a CPUID register or MSR. */
static const struct cf_reg *reg(int i, const char *name,
				unsigned long long key, int nfields)
{
	const struct cf_reg *r = &cf_x86_catalog.regs[i + 1];
	WANT(strcmp(r->name, name) == 0);
	WANT(r->key == key);
	WANT(r->nfields == nfields);
	WANT(r->pseudo == 0 && r->fixed_writable == 0);
	WANT((r->flags & ~CF_REG_REQUIRED) == 0);
	return r;
}

/* The name of field FIELD of the register with KEY ("" if none). */
static const char *field_at(unsigned long long key, int field)
{
	for (size_t i = 0; i < cf_x86_catalog.nregs; i++)
		if (cf_x86_catalog.regs[i].key == key && field >= 0 &&
		    field < cf_x86_catalog.regs[i].nfields)
			return cf_x86_catalog.regs[i].fields[field].name;
	return "";
}

/* Field I of R, checked.  NVALUES 2: a flag ({0, ""}, {1, NAME}); 1: an
 * inverted bit ({1, NAME}); 0: no values. */
static void fld(const struct cf_reg *r, int i, const char *name,
		unsigned shift, unsigned width, unsigned pol, int nvalues)
{
	const struct cf_field *f;

	WANT(i < r->nfields);
	if (i >= r->nfields)
		return;
	f = &r->fields[i];
	WANT(f->name && strcmp(f->name, name) == 0);
	WANT(f->shift == shift);
	WANT(f->width == width);
	WANT(f->is_signed == 0);
	WANT(f->policy == pol);
	WANT(f->safe == 0 && f->floor_kind == 0 && f->floor == 0);
	WANT(f->nvalues == nvalues);
	WANT((nvalues == 0) == (f->values == NULL));
	if (nvalues == 2 && f->values) {
		WANT(f->values[0].value == 0 && f->values[0].features[0] == '\0');
		WANT(f->values[1].value == 1 &&
		     strcmp(f->values[1].features, name) == 0);
	}
	if (nvalues == 1 && f->values)
		WANT(f->values[0].value == 1 &&
		     strcmp(f->values[0].features, name) == 0);
}

int main(void)
{
	const struct cf_catalog *c = &cf_x86_catalog;
	const struct cf_reg *r;
	char bitn[16];
	int i;

	WANT(strcmp(c->arch, "x86") == 0);
	WANT(c->nregs == 10);
	if (c->nregs != 10)
		return 1;

	/* The fact: first (its key is below every CPUID key), pseudo 3. */
	r = &c->regs[0];
	WANT(strcmp(r->name, "TSC_KHZ") == 0);
	WANT(r->key == 0x2000002);
	WANT(r->pseudo == 3 && r->fixed_writable == 0xffffffffULL &&
	     r->flags == 0);
	WANT(r->nfields == 2);
	fld(r, 0, "bits63_32", 32, 32, CF_POL_ZERO, 0);
	fld(r, 1, "khz", 0, 32, CF_POL_LOWER, 0);

	/* flag + runtime + default zero: gaps 26:1 and 31:28. */
	r = reg(0, "CPUID_00000001_0_ECX", CKEY(1, 0, 2), 4);
	WANT(r->flags == CF_REG_REQUIRED);
	fld(r, 0, "bits31_28", 28, 4, CF_POL_ZERO, 0);
	fld(r, 1, "osxsave", 27, 1, CF_POL_IGNORE, 0);
	fld(r, 2, "bits26_1", 1, 26, CF_POL_ZERO, 0);
	fld(r, 3, "pni", 0, 1, CF_POL_LOWER, 2);

	/* default flag: one bitN field per free bit, no feature name. */
	r = reg(1, "CPUID_00000001_0_EDX", CKEY(1, 0, 3), 32);
	WANT(r->flags == 0);
	fld(r, 0, "bit31", 31, 1, CF_POL_LOWER, 0);
	fld(r, 3, "ht", 28, 1, CF_POL_IGNORE, 0);
	fld(r, 5, "sse2", 26, 1, CF_POL_LOWER, 2);
	fld(r, 6, "sse", 25, 1, CF_POL_LOWER, 2);
	for (i = 7; i < 32; i++) {
		snprintf(bitn, sizeof bitn, "bit%d", 31 - i);
		fld(r, i, bitn, (unsigned)(31 - i), 1, CF_POL_LOWER, 0);
	}

	/* inverted, number, equal, default vcpu; leaf written 0x0000000A. */
	r = reg(2, "CPUID_0000000A_0_EBX", CKEY(0xa, 0, 1), 5);
	fld(r, 0, "bits31_12", 12, 20, CF_POL_IGNORE, 0);
	fld(r, 1, "same", 8, 4, CF_POL_EQUAL, 0);
	fld(r, 2, "count", 4, 4, CF_POL_LOWER, 0);
	fld(r, 3, "bits3_1", 1, 3, CF_POL_IGNORE, 0);
	fld(r, 4, "pmu_no_cycles", 0, 1, CF_POL_HIGHER, 1);

	/* Subleaf names are hex: 0x11 is "11". */
	r = reg(3, "CPUID_0000000D_11_EAX", CKEY(0xd, 0x11, 0), 1);
	fld(r, 0, "size", 0, 32, CF_POL_EQUAL, 0);

	/* runtime over a range; default equal; the largest subleaf. */
	r = reg(4, "CPUID_0000000D_3FFF_EDX", CKEY(0xd, 0x3fff, 3), 2);
	fld(r, 0, "size_now", 16, 16, CF_POL_IGNORE, 0);
	fld(r, 1, "bits15_0", 0, 16, CF_POL_EQUAL, 0);

	/* Extended leaves keep all 32 bits of the leaf in the key. */
	r = reg(5, "CPUID_80000008_0_EAX", CKEY(0x80000008u, 0, 0), 2);
	fld(r, 0, "bits31_8", 8, 24, CF_POL_ZERO, 0);
	fld(r, 1, "phys_bits", 0, 8, CF_POL_LOWER, 0);

	/* MSRs: 64 bits wide, keys above every CPUID key. */
	r = reg(6, "IA32_ARCH_CAPABILITIES", MKEY(0x10a), 6);
	fld(r, 0, "bit63", 63, 1, CF_POL_ZERO, 0);
	fld(r, 1, "its_no", 62, 1, CF_POL_LOWER, 2);
	fld(r, 2, "bits61_3", 3, 59, CF_POL_ZERO, 0);
	fld(r, 3, "rsba", 2, 1, CF_POL_HIGHER, 1);
	fld(r, 4, "bit1", 1, 1, CF_POL_ZERO, 0);
	fld(r, 5, "rdcl_no", 0, 1, CF_POL_LOWER, 2);

	r = reg(7, "IA32_VMX_PINBASED_CTLS", MKEY(0x481), 2);
	fld(r, 0, "allowed1", 32, 32, CF_POL_AND, 0);
	fld(r, 1, "allowed0", 0, 32, CF_POL_OR, 0);

	r = reg(8, "DE_CFG", MKEY(0xc0011029u), 64);
	fld(r, 0, "bit63", 63, 1, CF_POL_LOWER, 0);
	fld(r, 62, "lfence_serializing", 1, 1, CF_POL_LOWER, 2);
	fld(r, 63, "bit0", 0, 1, CF_POL_LOWER, 0);

	for (i = 1; i < (int)c->nregs; i++)
		WANT(c->regs[i - 1].key < c->regs[i].key);

	/* needs: one entry per feature, in the order written, the line's
	 * needs shared; fields by their index in the generated register. */
	WANT(cf_x86_deps.n == 3);
	if (cf_x86_deps.n == 3) {
		const struct cf_dep *d = cf_x86_deps.d;
		const struct cf_dep_term *n = d[0].needs;
		WANT(d[0].feature.key == CKEY(1, 0, 2) &&
		     strcmp(field_at(d[0].feature.key, d[0].feature.field), "pni") == 0 &&
		     d[0].feature.kind == CF_DEP_ATLEAST && d[0].feature.value == 1);
		WANT(d[1].feature.key == CKEY(1, 0, 3) &&
		     strcmp(field_at(d[1].feature.key, d[1].feature.field), "sse") == 0);
		WANT(d[0].nneeds == 1 && d[1].needs == n && n[0].key == CKEY(1, 0, 3) &&
		     strcmp(field_at(n[0].key, n[0].field), "sse2") == 0);
		WANT(d[0].text && strcmp(d[0].text, "SSE2") == 0);
		WANT(d[2].feature.key == MKEY(0x481) &&
		     strcmp(field_at(d[2].feature.key, d[2].feature.field), "allowed1") == 0 &&
		     d[2].feature.kind == CF_DEP_BITS &&
		     d[2].feature.value == 1ULL << 5);
		WANT(d[2].nneeds == 2 && d[2].text == NULL);
		WANT(d[2].needs[0].key == CKEY(0x80000008, 0, 0) &&
		     strcmp(field_at(d[2].needs[0].key, d[2].needs[0].field), "phys_bits") == 0 &&
		     d[2].needs[0].kind == CF_DEP_ATLEAST &&
		     d[2].needs[0].value == 36);
		WANT(d[2].needs[1].key == MKEY(0x10a) && d[2].needs[1].field == -1 &&
		     d[2].needs[1].kind == CF_DEP_BITS &&
		     d[2].needs[1].value == 1ULL << 62);
	}

	/* gate=sse,pni: one row per flag, in the order written. */
	WANT(cf_x86_gates.n == 2);
	if (cf_x86_gates.n == 2) {
		const struct cf_gate *g = cf_x86_gates.g;
		WANT(g[0].key == CKEY(0xd, 0x11, 0) && g[1].key == g[0].key);
		WANT(g[0].gate_key == CKEY(1, 0, 3) && g[0].gate_bit == 25 &&
		     strcmp(g[0].gate, "sse") == 0);
		WANT(g[1].gate_key == CKEY(1, 0, 2) && g[1].gate_bit == 0 &&
		     strcmp(g[1].gate, "pni") == 0);
	}

	WANT(cf_x86_nlevels == 2);
	if (cf_x86_nlevels == 2) {
		WANT(strcmp(cf_x86_levels[0].name, "x86-64-v1") == 0);
		WANT(cf_x86_levels[0].nflags == 2);
		WANT(strcmp(cf_x86_levels[0].flags[0], "sse") == 0);
		WANT(strcmp(cf_x86_levels[0].flags[1], "sse2") == 0);
		WANT(strcmp(cf_x86_levels[1].name, "x86-64-v2") == 0);
		WANT(cf_x86_levels[1].nflags == 1);
		WANT(strcmp(cf_x86_levels[1].flags[0], "pni") == 0);
	}
	return bad;
}
EOF
name="good/every-form: generated tables hold what the file says"
gen_ok "$name" "$T/every.txt" "$T/every.c" &&
	run_check "$name" "$T/every.c" "$T/check_every.c"

# The key bases (bits 63:48) are parameters.
name="good/every-form with -v cpuid_base=3 -v msr_base=5"
if gen_ok "$name" "$T/every.txt" "$T/every35.c" -v cpuid_base=3 -v msr_base=5; then
	{ echo '#define CPUID_BASE 3ULL'; echo '#define MSR_BASE 5ULL'
	  cat "$T/check_every.c"; } >"$T/check_every35.c"
	run_check "$name" "$T/every35.c" "$T/check_every35.c"
fi

for bases in "2:1" "0:1" "1:32" "x:2"; do
	cb=${bases%:*} mb=${bases#*:}
	name="bad/key bases -v cpuid_base=$cb -v msr_base=$mb"
	if "$AWK" -v cpuid_base="$cb" -v msr_base="$mb" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$T/minimal.txt" \
		>"$T/out" 2>"$T/err"; then
		notok "$name" "exit 0, want non-zero"
	elif [ -s "$T/out" ]; then
		notok "$name" "wrote on stdout"
	elif ! grep -q 'cpuid_base' "$T/err"; then
		notok "$name" "stderr lacks 'cpuid_base' (got: $(first "$T/err"))"
	else
		ok "$name"
	fi
done

# A capability file: its lines for x86 (and "all") become pseudo-registers
# ahead of the facts, in number order; lines for other arches are left out.
cat >"$T/caps.txt" <<'EOF'
# NAME NUMBER ARCHES KIND ROLE
KVM_CAP_IRQCHIP 0 x86,arm64,s390 bool guest
KVM_CAP_ARM_PSCI 34 arm64 bool guest
KVM_CAP_NR_VCPUS 9999 all count capacity since=6.15   # a comment after the version
KVM_CAP_X86_DISABLE_EXITS 99999 x86 bitmask mechanism
EOF
cat >"$T/check_caps.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "arch/x86/x86_catalog.h"

static int bad;

#define WANT(cond) do { if (!(cond)) { \
	printf("line %d: %s\n", __LINE__, #cond); bad = 1; } } while (0)

static void cap(int i, const char *name, unsigned long long key,
		const char *kind, unsigned pol, unsigned role)
{
	const struct cf_reg *r = &cf_x86_catalog.regs[i];
	WANT(strcmp(r->name, name) == 0);
	WANT(r->key == key);
	WANT(r->pseudo == 2 && r->fixed_writable == ~0ULL && r->flags == 0);
	WANT(r->role == role);
	WANT(r->nfields == 1);
	if (r->nfields != 1)
		return;
	WANT(strcmp(r->fields[0].name, kind) == 0);
	WANT(r->fields[0].shift == 0 && r->fields[0].width == 64);
	WANT(r->fields[0].policy == pol);
	if (strcmp(kind, "bool") == 0)
		WANT(r->fields[0].nvalues == 1 && r->fields[0].values[0].value == 1 &&
		     strcmp(r->fields[0].values[0].features, name) == 0);
	else
		WANT(r->fields[0].nvalues == 0 && r->fields[0].values == NULL);
}

int main(void)
{
	WANT(cf_x86_catalog.nregs == 13);
	if (cf_x86_catalog.nregs != 13)
		return 1;
	cap(0, "KVM_CAP_IRQCHIP", 0x1000000, "bool", CF_POL_LOWER,
	    CF_ROLE_GUEST);
	cap(1, "KVM_CAP_NR_VCPUS", 0x1000000 + 9999, "count", CF_POL_LOWER,
	    CF_ROLE_CAPACITY);
	cap(2, "KVM_CAP_X86_DISABLE_EXITS", 0x1000000 + 99999, "bitmask",
	    CF_POL_AND, CF_ROLE_MECHANISM);
	WANT(cf_x86_catalog.regs[0].since == NULL);
	WANT(cf_x86_catalog.regs[1].since &&
	     strcmp(cf_x86_catalog.regs[1].since, "6.15") == 0);
	WANT(strcmp(cf_x86_catalog.regs[3].name, "TSC_KHZ") == 0);
	/* Every other register has no role. */
	for (size_t i = 3; i < cf_x86_catalog.nregs; i++)
		WANT(cf_x86_catalog.regs[i].role == CF_ROLE_NONE &&
		     cf_x86_catalog.regs[i].wcap == NULL &&
		     cf_x86_catalog.regs[i].since == NULL);
	for (size_t i = 1; i < cf_x86_catalog.nregs; i++)
		WANT(cf_x86_catalog.regs[i - 1].key < cf_x86_catalog.regs[i].key);
	return bad;
}
EOF
name="good/every-form with a capability file"
gen2_ok "$name" "$T/every.txt" "$T/caps.txt" "$T/caps.c" &&
	run_check "$name" "$T/caps.c" "$T/check_caps.c"

name="good/every-form with a capability file, -v arch=arm64"
if gen2_ok "$name" "$T/every.txt" "$T/caps.txt" "$T/capsarm.c" -v arch=arm64; then
	n=$(grep -c '^	{ "KVM_CAP_' "$T/capsarm.c")
	if [ "$n" -ne 3 ] || ! grep -q '"KVM_CAP_ARM_PSCI", 0x1000022ULL' "$T/capsarm.c"; then
		notok "$name" "want IRQCHIP, ARM_PSCI and NR_VCPUS, got $n capabilities"
	else
		ok "$name"
	fi
fi

# A capability as a need, and alternatives: each alternative is a term of
# the line's shared needs, the first of a group saying how many follow
# (alts); a capability term is its pseudo-register's one field at 1 or
# above (KVM_CHECK_EXTENSION non-zero).
cat >"$T/capneeds.txt" <<'EOF'
cpuid 0x00000001 0x0 ecx
  flag 21 x2apic
  flag 24 tsc_deadline_timer
  default flag
end
needs x2apic,tsc_deadline_timer cap:KVM_CAP_IRQCHIP|cap:KVM_CAP_SPLIT_IRQCHIP | an in-kernel local APIC
needs x2apic   tsc_deadline_timer|cap:KVM_CAP_SPLIT_IRQCHIP
EOF
cat >"$T/check_capneeds.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "arch/x86/x86_catalog.h"

static int bad;

#define WANT(cond) do { if (!(cond)) { \
	printf("line %d: %s\n", __LINE__, #cond); bad = 1; } } while (0)
#define ECX1 (1ULL << 48 | 1ULL << 16 | 2)

static int is_term(const struct cf_dep_term *t, unsigned long long key,
		   int field, unsigned kind, unsigned long long value,
		   unsigned alts)
{
	return t->key == key && t->field == field && t->kind == kind &&
	       t->value == value && t->alts == alts;
}

int main(void)
{
	const struct cf_dep *d = cf_x86_deps.d;

	/* KVM_CAP_IRQCHIP, KVM_CAP_SPLIT_IRQCHIP, leaf 1 ECX (fields 31..0,
	 * so x2apic is field 10 and tsc_deadline_timer field 7). */
	WANT(cf_x86_catalog.nregs == 3);
	WANT(cf_x86_deps.n == 3);
	if (cf_x86_deps.n != 3 || cf_x86_catalog.nregs != 3)
		return 1;
	WANT(strcmp(cf_x86_catalog.regs[2].fields[10].name, "x2apic") == 0);
	WANT(strcmp(cf_x86_catalog.regs[2].fields[7].name,
		    "tsc_deadline_timer") == 0);
	WANT(is_term(&d[0].feature, ECX1, 10, CF_DEP_ATLEAST, 1, 0));
	WANT(is_term(&d[1].feature, ECX1, 7, CF_DEP_ATLEAST, 1, 0));
	WANT(d[0].nneeds == 2 && d[1].nneeds == 2 && d[1].needs == d[0].needs);
	WANT(is_term(&d[0].needs[0], 0x1000000, 0, CF_DEP_ATLEAST, 1, 1));
	WANT(is_term(&d[0].needs[1], 0x1000000 + 121, 0, CF_DEP_ATLEAST, 1, 0));
	WANT(d[0].text && strcmp(d[0].text, "an in-kernel local APIC") == 0);
	WANT(is_term(&d[2].feature, ECX1, 10, CF_DEP_ATLEAST, 1, 0));
	WANT(d[2].nneeds == 2 && d[2].text == NULL);
	WANT(is_term(&d[2].needs[0], ECX1, 7, CF_DEP_ATLEAST, 1, 1));
	WANT(is_term(&d[2].needs[1], 0x1000000 + 121, 0, CF_DEP_ATLEAST, 1, 0));
	return bad;
}
EOF
name="good/needs with capabilities and alternatives"
gen2_ok "$name" "$T/capneeds.txt" "$T/caps-lapic.txt" "$T/capneeds.c" &&
	run_check "$name" "$T/capneeds.c" "$T/check_capneeds.c"

# No level lines: the level table is still there, empty.
cat >"$T/nolevels.txt" <<'EOF'
cpuid 0x00000001 0x0 edx
  flag 25 sse
  default flag
end
EOF
cat >"$T/check_nolevels.c" <<'EOF'
#include "arch/x86/x86_catalog.h"
int main(void)
{
	return !(cf_x86_nlevels == 0 && cf_x86_catalog.nregs == 1 &&
		 cf_x86_gates.n == 0 && cf_x86_gates.g == NULL &&
		 cf_x86_deps.n == 0 && cf_x86_deps.d == NULL);
}
EOF
name="good/no levels"
gen_ok "$name" "$T/nolevels.txt" "$T/nolevels.c" &&
	run_check "$name" "$T/nolevels.c" "$T/check_nolevels.c"

# ---- the real catalogue ----------------------------------------------------

cat >"$T/check_real.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "arch/x86/x86_catalog.h"
#if defined(__has_include)
#if __has_include("arch/x86/x86.h")
#include "arch/x86/x86.h"
#endif
#endif

static int bad;

#define WANT(cond, ...) do { if (!(cond)) { \
	printf(__VA_ARGS__); printf("\n"); bad = 1; } } while (0)

static const struct cf_field *field(const char *reg, const char *name)
{
	const struct cf_catalog *c = &cf_x86_catalog;
	for (size_t i = 0; i < c->nregs; i++) {
		if (strcmp(c->regs[i].name, reg) != 0)
			continue;
		for (int j = 0; j < c->regs[i].nfields; j++)
			if (strcmp(c->regs[i].fields[j].name, name) == 0)
				return &c->regs[i].fields[j];
	}
	return NULL;
}

/* FLAG is a field of REG at BIT with policy POL. */
static void at(const char *reg, const char *flag, unsigned bit, unsigned pol)
{
	const struct cf_field *f = field(reg, flag);
	WANT(f && f->shift == bit && f->width == 1 && f->policy == pol,
	     "%s.%s: want bit %u, policy %u", reg, flag, bit, pol);
}

/* How many flag fields in the whole catalogue carry NAME. */
static int flag_count(const char *name)
{
	const struct cf_catalog *c = &cf_x86_catalog;
	int n = 0;
	for (size_t i = 0; i < c->nregs; i++)
		for (int j = 0; j < c->regs[i].nfields; j++) {
			const struct cf_field *f = &c->regs[i].fields[j];
			if (f->policy == CF_POL_LOWER && f->nvalues == 2 &&
			    strcmp(f->values[1].features, name) == 0)
				n++;
		}
	return n;
}

int main(void)
{
	const struct cf_catalog *c = &cf_x86_catalog;
	unsigned ncpuid = 0, nmsr = 0;

	unsigned ncaps = 0, nfacts = 0;

	WANT(strcmp(c->arch, "x86") == 0, "arch is %s", c->arch);
	for (size_t i = 0; i < c->nregs; i++) {
		const struct cf_reg *r = &c->regs[i];
		unsigned width;
		unsigned long long seen = 0, all;
		unsigned leaf, sub;
		char rn[4];

		if (i > 0)
			WANT(c->regs[i - 1].key < r->key, "%s: key not ascending",
			     r->name);
		if (r->pseudo == 2) {
			/* A capability from the second file. */
			ncaps++;
			WANT(nfacts + ncpuid + nmsr == 0, "%s after other registers",
			     r->name);
			WANT(r->key >= 0x1000000 && r->key < 0x2000000 &&
			     !strncmp(r->name, "KVM_CAP_", 8) && r->nfields == 1 &&
			     r->fields[0].width == 64 && r->fixed_writable == ~0ULL,
			     "%s: capability shape", r->name);
			continue;
		}
		if (r->pseudo == 3) {
			nfacts++;
			width = 64;
			WANT(ncpuid + nmsr == 0, "fact %s after CPUID or MSR", r->name);
			WANT(r->key >= 0x2000000 && r->key < 0x3000000,
			     "%s: fact key %llx", r->name, (unsigned long long)r->key);
		} else if (sscanf(r->name, "CPUID_%8x_%x_%3s", &leaf, &sub, rn) == 3) {
			unsigned ri = strcmp(rn, "EAX") == 0 ? 0 :
				      strcmp(rn, "EBX") == 0 ? 1 :
				      strcmp(rn, "ECX") == 0 ? 2 : 3;
			width = 32;
			ncpuid++;
			WANT(nmsr == 0, "%s after an MSR", r->name);
			WANT((r->key & 3) == ri, "%s: key register", r->name);
			WANT(((r->key >> 2) & 0x3fff) == sub, "%s: key subleaf", r->name);
			WANT(((r->key >> 16) & 0xffffffffu) == leaf, "%s: key leaf", r->name);
#ifdef CF_X86_CPUID_KEY
			WANT(r->key == CF_X86_CPUID_KEY(leaf, sub, ri),
			     "%s: key %llx, arch/x86/x86.h says %llx", r->name,
			     (unsigned long long)r->key,
			     (unsigned long long)CF_X86_CPUID_KEY(leaf, sub, ri));
#endif
		} else {
			width = 64;
			nmsr++;
			WANT(r->pseudo == 0 && r->fixed_writable == 0,
			     "%s: MSR pseudo/writable", r->name);
#ifdef CF_X86_MSR_KEY
			WANT(r->key == CF_X86_MSR_KEY(r->key & 0xffffffffu),
			     "%s: key %llx is not CF_X86_MSR_KEY", r->name,
			     (unsigned long long)r->key);
#endif
		}
		all = width == 64 ? ~0ULL : (1ULL << width) - 1;
		WANT(r->nfields > 0, "%s: no fields", r->name);
		for (int j = 0; j < r->nfields; j++) {
			const struct cf_field *f = &r->fields[j];
			unsigned long long m = f->width >= 64 ? ~0ULL :
				((1ULL << f->width) - 1) << f->shift;
			WANT(f->width > 0 && f->shift + f->width <= width,
			     "%s.%s outside the register", r->name, f->name);
			WANT((seen & m) == 0, "%s.%s overlaps", r->name, f->name);
			seen |= m;
			if (j > 0)
				WANT(r->fields[j - 1].shift > f->shift,
				     "%s: fields not most significant first", r->name);
			WANT(f->policy == CF_POL_LOWER || f->policy == CF_POL_HIGHER ||
			     f->policy == CF_POL_EQUAL || f->policy == CF_POL_IGNORE ||
			     f->policy == CF_POL_OR || f->policy == CF_POL_AND ||
			     f->policy == CF_POL_ZERO || f->policy == CF_POL_EXACT ||
			     f->policy == CF_POL_RATE || f->policy == CF_POL_ANY,
			     "%s.%s: policy %u", r->name, f->name, f->policy);
			if (f->nvalues == 2)
				WANT(f->width == 1 && f->policy == CF_POL_LOWER &&
				     f->values[0].value == 0 &&
				     f->values[0].features[0] == '\0' &&
				     f->values[1].value == 1 &&
				     strcmp(f->values[1].features, f->name) == 0,
				     "%s.%s: flag values", r->name, f->name);
			else if (f->nvalues == 1)
				WANT(f->width == 1 && f->policy == CF_POL_HIGHER &&
				     f->values[0].value == 1 &&
				     strcmp(f->values[0].features, f->name) == 0,
				     "%s.%s: inverted values", r->name, f->name);
			else
				WANT(f->nvalues == 0 && f->values == NULL,
				     "%s.%s: values", r->name, f->name);
		}
		WANT(seen == all, "%s: bits %llx undescribed", r->name, all & ~seen);
	}
	WANT(ncpuid > 200 && nmsr >= 20, "%u CPUID registers, %u MSRs", ncpuid, nmsr);
#ifdef WANT_CAPS
	WANT(ncaps == WANT_CAPS, "%u capabilities, want %u", ncaps, WANT_CAPS);
#else
	WANT(ncaps == 0, "%u capabilities without a capability file", ncaps);
#endif
	/* arch/x86/collect.c and profiles/x86_doc.c set these facts. */
	{
		const struct cf_field *f = field("TSC_KHZ", "khz");
		WANT(f && f->shift == 0 && f->width == 32, "fact TSC_KHZ.khz");
		f = field("TSC_SCALING", "tsc_scaling");
		WANT(f && f->shift == 0 && f->width == 1 && f->policy == CF_POL_LOWER,
		     "fact TSC_SCALING.tsc_scaling");
		WANT(nfacts == 2, "%u facts", nfacts);
	}

	/* Spot checks against the sources. */
	at("CPUID_00000001_0_ECX", "pni", 0, CF_POL_LOWER);
	at("CPUID_00000001_0_ECX", "sse4_2", 20, CF_POL_LOWER);
	at("CPUID_00000001_0_ECX", "osxsave", 27, CF_POL_IGNORE);
	at("CPUID_00000001_0_ECX", "hypervisor", 31, CF_POL_IGNORE);
	at("CPUID_00000001_0_EDX", "apic", 9, CF_POL_IGNORE);
	at("CPUID_00000001_0_EDX", "ht", 28, CF_POL_IGNORE);
	at("CPUID_00000006_0_EAX", "arat", 2, CF_POL_LOWER);
	at("CPUID_00000007_0_EBX", "avx2", 5, CF_POL_LOWER);
	at("CPUID_00000007_0_EBX", "avx512f", 16, CF_POL_LOWER);
	at("CPUID_00000007_0_EBX", "avx512vl", 31, CF_POL_LOWER);
	at("CPUID_00000007_0_ECX", "ospke", 4, CF_POL_IGNORE);
	at("CPUID_00000007_0_ECX", "la57", 16, CF_POL_LOWER);
	at("CPUID_00000007_0_EDX", "arch_capabilities", 29, CF_POL_LOWER);
	at("CPUID_0000000A_0_EBX", "pmu_no_cycles", 0, CF_POL_HIGHER);
	at("CPUID_0000000D_0_EAX", "xcr0_hi16_zmm", 7, CF_POL_LOWER);
	at("CPUID_0000000D_0_EAX", "xcr0_xtiledata", 18, CF_POL_LOWER);
	at("CPUID_0000000D_1_EAX", "xsaves", 3, CF_POL_LOWER);
	at("CPUID_40000001_0_EAX", "pv_unhalt", 7, CF_POL_LOWER);
	at("CPUID_40000001_0_EAX", "clocksource_stable", 24, CF_POL_LOWER);
	at("CPUID_80000001_0_ECX", "lahf_lm", 0, CF_POL_LOWER);
	at("CPUID_80000001_0_ECX", "abm", 5, CF_POL_LOWER);
	at("CPUID_80000001_0_ECX", "topoext", 22, CF_POL_LOWER);
	at("CPUID_80000001_0_EDX", "syscall", 11, CF_POL_LOWER);
	at("CPUID_80000001_0_EDX", "pdpe1gb", 26, CF_POL_LOWER);
	at("CPUID_80000001_0_EDX", "lm", 29, CF_POL_LOWER);
	at("CPUID_80000007_0_EDX", "invtsc", 8, CF_POL_LOWER);
	at("CPUID_80000008_0_EBX", "amd_ssbd", 24, CF_POL_LOWER);
	at("CPUID_8000000A_0_EDX", "npt", 0, CF_POL_LOWER);
	at("IA32_ARCH_CAPABILITIES", "rsba", 2, CF_POL_HIGHER);
	at("IA32_ARCH_CAPABILITIES", "rrsba", 19, CF_POL_HIGHER);
	at("IA32_ARCH_CAPABILITIES", "bhi_no", 20, CF_POL_LOWER);
	at("IA32_ARCH_CAPABILITIES", "rfds_clear", 28, CF_POL_LOWER);
	at("IA32_VMX_EPT_VPID_CAP", "invvpid", 32, CF_POL_LOWER);
	at("DE_CFG", "lfence_serializing", 1, CF_POL_LOWER);
	{
		const struct cf_field *f = field("CPUID_80000008_0_EAX", "phys_bits");
		WANT(f && f->shift == 0 && f->width == 8 && f->policy == CF_POL_LOWER,
		     "phys_bits");
		f = field("IA32_VMX_PROCBASED_CTLS", "allowed0");
		WANT(f && f->shift == 0 && f->width == 32 && f->policy == CF_POL_OR,
		     "VMX allowed0");
		f = field("IA32_VMX_PROCBASED_CTLS", "allowed1");
		WANT(f && f->shift == 32 && f->width == 32 && f->policy == CF_POL_AND,
		     "VMX allowed1");
		f = field("CPUID_00000000_0_EBX", "vendor");
		WANT(f && f->width == 32 && f->policy == CF_POL_EQUAL, "vendor");
	}

	/* Gates: ascending, each naming one flag field of another register;
	 * every XSAVE component sub-leaf n >= 2 is gated by bit n of XCR0
	 * (0xD.0 EAX) or of IA32_XSS (0xD.1 ECX), and only by it (SDM Vol. 2A
	 * CPUID leaf 0DH: sub-leaf n is invalid without either bit). */
	for (size_t i = 0; i < cf_x86_gates.n; i++) {
		const struct cf_gate *g = &cf_x86_gates.g[i];
		const char *gr = NULL, *rn = NULL;
		unsigned leaf, sub;
		char rr[4];
		if (i > 0)
			WANT(cf_x86_gates.g[i - 1].key <= g->key, "gates not ascending");
		WANT(g->gate_key != g->key, "%s gates its own register", g->gate);
		WANT(flag_count(g->gate) == 1, "gate %s is not one flag field",
		     g->gate);
		for (size_t r = 0; r < c->nregs; r++) {
			if (c->regs[r].key == g->gate_key)
				gr = c->regs[r].name;
			if (c->regs[r].key == g->key)
				rn = c->regs[r].name;
		}
		WANT(gr && rn, "gate %s: register missing", g->gate);
		if (!gr || !rn)
			continue;
		at(gr, g->gate, g->gate_bit, CF_POL_LOWER);
		if (sscanf(rn, "CPUID_%8x_%x_%3s", &leaf, &sub, rr) == 3 &&
		    leaf == 0xd) {
			WANT(sub >= 2 && sub < 32 && g->gate_bit == sub &&
			     (strcmp(gr, "CPUID_0000000D_0_EAX") == 0 ||
			      strcmp(gr, "CPUID_0000000D_1_ECX") == 0),
			     "%s gated by %s bit %u", rn, gr, g->gate_bit);
		}
	}
	for (size_t r = 0; r < c->nregs; r++) {
		unsigned leaf, sub, n = 0;
		char rr[4];
		if (sscanf(c->regs[r].name, "CPUID_%8x_%x_%3s", &leaf, &sub, rr) != 3 ||
		    leaf != 0xd || sub < 2)
			continue;
		for (size_t i = 0; i < cf_x86_gates.n; i++)
			n += cf_x86_gates.g[i].key == c->regs[r].key;
		WANT(n == 1, "%s has %u gates", c->regs[r].name, n);
	}
	/* Leaves valid only with a feature: each of their registers is gated
	 * by exactly it.  Intel SDM Vol. 2A, CPUID: leaf
	 * 12H "Intel SGX Capability Enumeration Leaf" (with
	 * CPUID.(EAX=07H,ECX=0H):EBX.SGX = 1), leaf 14H (Intel PT,
	 * CPUID.(EAX=07H,ECX=0H):EBX[25]), leaves 1DH and 1EH (tile and TMUL
	 * information: AMX-TILE, CPUID.(EAX=07H,ECX=0H):EDX[24], or its
	 * XTILEDATA state component, XCR0[18]); the Intel AVX10 Architecture
	 * Specification, leaf 24H (CPUID.(EAX=07H,ECX=01H):EDX[19]); AMD APM
	 * Vol. 3, E.4.9: Fn8000_000A is reserved if Fn8000_0001_ECX[SVM] = 0. */
	{
		static const struct { unsigned leaf; const char *gates; } lg[] = {
			{ 0x12, "sgx" }, { 0x14, "intel_pt" },
			{ 0x1d, "amx_tile,xcr0_xtiledata" },
			{ 0x1e, "amx_tile,xcr0_xtiledata" },
			{ 0x24, "avx10" }, { 0x8000000a, "svm" },
		};
		unsigned seen[sizeof(lg) / sizeof(lg[0])] = { 0 };
		for (size_t r = 0; r < c->nregs; r++) {
			unsigned leaf, sub;
			char rr[4], got[64] = "";
			size_t k;
			if (sscanf(c->regs[r].name, "CPUID_%8x_%x_%3s", &leaf, &sub,
				   rr) != 3)
				continue;
			for (k = 0; k < sizeof(lg) / sizeof(lg[0]); k++)
				if (lg[k].leaf == leaf)
					break;
			if (k == sizeof(lg) / sizeof(lg[0]))
				continue;
			seen[k]++;
			for (size_t i = 0; i < cf_x86_gates.n; i++)
				if (cf_x86_gates.g[i].key == c->regs[r].key)
					snprintf(got + strlen(got), sizeof(got) - strlen(got),
						 "%s%s", got[0] ? "," : "",
						 cf_x86_gates.g[i].gate);
			WANT(strcmp(got, lg[k].gates) == 0, "%s gated by '%s', want '%s'",
			     c->regs[r].name, got, lg[k].gates);
		}
		for (size_t k = 0; k < sizeof(lg) / sizeof(lg[0]); k++)
			WANT(seen[k] > 0, "no register of leaf 0x%x", lg[k].leaf);
	}

	/* needs: every term a field (or bits) of a catalogue register, a
	 * value that fits; and, from the SDM (Vol. 1 15.2: AVX-512F is
	 * usable only with XCR0[7:5] = 111b; 13.3 and KVM __kvm_set_xcr:
	 * XCR0[18:17] both or neither) and QEMU's x86_ext_save_areas (PKRU
	 * with pku, the tile state with amx-tile), rules for avx512f, pku and
	 * amx_tile naming the XCR0 bits (CPUID 0xD.0 EAX) 5, 9 and 17. */
	{
		int opmask = 0, pkru = 0, tile = 0;
		for (size_t i = 0; i < cf_x86_deps.n; i++) {
			const struct cf_dep *d = &cf_x86_deps.d[i];
			for (int k = -1; k < d->nneeds; k++) {
				const struct cf_dep_term *t = k < 0 ? &d->feature :
							      &d->needs[k];
				const struct cf_reg *r = NULL;
				for (size_t j = 0; j < c->nregs; j++)
					if (c->regs[j].key == t->key)
						r = &c->regs[j];
				WANT(r, "line %u: no register %llx", d->line,
				     (unsigned long long)t->key);
				if (!r)
					continue;
				WANT(t->field < r->nfields, "line %u: field %d of %s",
				     d->line, t->field, r->name);
				if (t->field < 0 || t->field >= r->nfields)
					continue;
				const struct cf_field *f = &r->fields[t->field];
				uint64_t m = f->width >= 64 ? ~0ULL :
					     (1ULL << f->width) - 1;
				WANT(t->value && (t->value & ~m) == 0,
				     "line %u: value %llx outside %s.%s", d->line,
				     (unsigned long long)t->value, r->name, f->name);
			}
		}
		const struct cf_field *avx512f = field("CPUID_00000007_0_EBX", "avx512f");
		const struct cf_field *pku = field("CPUID_00000007_0_ECX", "pku");
		const struct cf_field *amx = field("CPUID_00000007_0_EDX", "amx_tile");
		for (size_t i = 0; i < cf_x86_deps.n; i++) {
			const struct cf_dep *d = &cf_x86_deps.d[i];
			const struct cf_field *ff = NULL;
			for (size_t j = 0; j < c->nregs; j++)
				if (c->regs[j].key == d->feature.key && d->feature.field >= 0)
					ff = &c->regs[j].fields[d->feature.field];
			for (int k = 0; k < d->nneeds; k++) {
				const struct cf_dep_term *t = &d->needs[k];
				unsigned bit = 0;
				if (t->key != CF_X86_CPUID_KEY(0xd, 0, 0) || t->field < 0)
					continue;
				for (size_t j = 0; j < c->nregs; j++)
					if (c->regs[j].key == t->key)
						bit = c->regs[j].fields[t->field].shift;
				opmask |= ff == avx512f && bit == 5;
				pkru |= ff == pku && bit == 9;
				tile |= ff == amx && bit == 17;
			}
		}
		WANT(avx512f && pku && amx, "avx512f, pku, amx_tile");
		WANT(opmask, "no rule: avx512f needs XCR0 bit 5");
		WANT(pkru, "no rule: pku needs XCR0 bit 9");
		WANT(tile, "no rule: amx_tile needs XCR0 bit 17");
	}
#ifdef WANT_CAPS
	/* x2APIC and TSC-deadline need an in-kernel local APIC: a need whose
	 * alternatives are KVM_CAP_IRQCHIP and KVM_CAP_SPLIT_IRQCHIP (api.rst
	 * 4.24, 7.5 and "Local APIC features"; numbers 0 and 121 of
	 * include/uapi/linux/kvm.h), each offered when non-zero. */
	{
		const struct cf_field *want[2] = {
			field("CPUID_00000001_0_ECX", "x2apic"),
			field("CPUID_00000001_0_ECX", "tsc_deadline_timer") };
		for (int w = 0; w < 2; w++) {
			int found = 0;
			for (size_t i = 0; i < cf_x86_deps.n; i++) {
				const struct cf_dep *d = &cf_x86_deps.d[i];
				const struct cf_field *ff = NULL;
				for (size_t j = 0; j < c->nregs; j++)
					if (c->regs[j].key == d->feature.key &&
					    d->feature.field >= 0)
						ff = &c->regs[j].fields[d->feature.field];
				for (int k = 0; ff == want[w] && k + 1 < d->nneeds; k++) {
					const struct cf_dep_term *t = &d->needs[k];
					found |= t->alts == 1 &&
						 t->key == CF_CAP_KEY(0) && t->field == 0 &&
						 t->kind == CF_DEP_ATLEAST && t->value == 1 &&
						 t[1].key == CF_CAP_KEY(121) &&
						 t[1].field == 0 &&
						 t[1].kind == CF_DEP_ATLEAST && t[1].value == 1;
				}
			}
			WANT(want[w] && found, "no rule: %s needs KVM_CAP_IRQCHIP or "
			     "KVM_CAP_SPLIT_IRQCHIP", w ? "tsc_deadline_timer" : "x2apic");
		}
	}
#endif

	/* The levels: x86-64-v1 .. v4, each flag a flag field exactly once. */
	WANT(cf_x86_nlevels == 4, "%zu levels", cf_x86_nlevels);
	for (size_t l = 0; l < cf_x86_nlevels; l++) {
		char want[32];
		snprintf(want, sizeof want, "x86-64-v%zu", l + 1);
		WANT(strcmp(cf_x86_levels[l].name, want) == 0, "level %zu is %s", l,
		     cf_x86_levels[l].name);
		WANT(cf_x86_levels[l].nflags > 0, "%s: no flags", want);
		for (size_t k = 0; k < cf_x86_levels[l].nflags; k++)
			WANT(flag_count(cf_x86_levels[l].flags[k]) == 1,
			     "%s: flag %s is not one flag field", want,
			     cf_x86_levels[l].flags[k]);
	}
	return bad;
}
EOF

# Alone, the real catalogue is refused: its `needs` name KVM capabilities
# (x2APIC and TSC-deadline need an in-kernel local APIC), which only the
# capability file defines.
name="$REAL alone is refused: its needs name capabilities"
"$AWK" -v sym=cf_x86_catalog -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$REAL" >"$T/out" 2>"$T/err"
rc=$?
refused "$name" "$REAL" "" "unknown capability KVM_CAP_" quiet

# As the Makefile runs it: with arch/caps/caps.txt as second file.
CAPS=arch/caps/caps.txt
name="$REAL + $CAPS generates and compiles"
if [ -f "$CAPS" ] &&
   gen2_ok "$name" "$REAL" "$CAPS" "$T/realcaps.c" -v sym=cf_x86_catalog &&
   cc_ok "$name" "$T/realcaps.c"; then
	ncaps=$(grep -cE '^KVM_CAP_[A-Z0-9_]+ +[0-9]+ +([a-z0-9]+,)*(x86|all)(,[a-z0-9]+)* ' "$CAPS")
	want=$(grep -cE '^[ 	]*(cpuid|msr|fact) ' "$REAL")
	want=$((want + ncaps))
	got=$(sed -n '/^static const struct cf_reg regs\[\] = {$/,/^};$/p' "$T/realcaps.c" |
		grep -c '^	{ "')
	if [ "$want" -ne "$got" ]; then
		notok "$name" "regs[] has $got entries, $REAL $want 'cpuid', 'msr' and 'fact' lines and x86 capabilities"
	else
		ok "$name"
	fi
	{ echo "#define WANT_CAPS ${ncaps}u"; cat "$T/check_real.c"; } >"$T/check_realcaps.c"
	run_check "$REAL + $CAPS: $ncaps x86 capabilities first, every bit described once, keys, flags, levels" \
		"$T/realcaps.c" "$T/check_realcaps.c"
	# Same output whatever the awk, when another one is at hand.
	for other in mawk gawk busybox; do
		command -v "$other" >/dev/null 2>&1 || continue
		[ "$other" = "$AWK" ] && continue
		a=$other
		[ "$other" = busybox ] && a="busybox awk"
		name="$REAL + $CAPS: $a gives the same C as $AWK"
		# shellcheck disable=SC2086
		if ! $a -v sym=cf_x86_catalog -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$REAL" "$CAPS" >"$T/other.c" 2>"$T/err"; then
			notok "$name" "exit non-zero: $(first "$T/err")"
		elif ! cmp -s "$T/realcaps.c" "$T/other.c"; then
			notok "$name" "outputs differ"
		else
			ok "$name"
		fi
	done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
