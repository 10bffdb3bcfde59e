#!/bin/sh
# What `make install` gives a user, tried as a user would (make install-test):
#
#   sh tests/install/run.sh [BUILD]        (BUILD: the build directory, build)
#
# Installs into a temporary DESTDIR with PREFIX=/usr/local; builds
# tests/install/vmm.c, a VMM-style program, with `pkg-config --cflags --libs
# cpufleet` alone and runs it on the lab's reports, whose verdicts come from
# real KVM (tests/data/lab/kvm-verdicts.json), not from the library; links
# it statically too; checks the soname, the header, the exported symbols,
# the bash completion and the man page against every command's --help, and
# the systemd units with systemd-analyze; then `make uninstall` must leave
# no file.  Prints "ok - NAME", "FAIL - NAME: why" or "skip - NAME: why"
# per case, then "N passed, N failed, N skipped"; exits 1 if anything
# failed, 2 if it cannot run.

BUILD=${1:-build}
MAKE=${MAKE:-make}
cd "$(dirname "$0")/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/lib/cases.sh
D=$T/dest                       # DESTDIR
P=/usr/local                    # PREFIX
LAB=tests/data/lab
unset CPATH C_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH PKG_CONFIG_LIBDIR

# pc ARGS...: pkg-config on the DESTDIR (its .pc; paths under DESTDIR).
pc() {
	PKG_CONFIG_PATH=$D$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D \
		pkg-config "$@"
}

# kvm FROM TO PROFILE: what KVM itself did in the lab with FROM's PROFILE
# ("own" or "baseline") on TO: "accepted" or "refused REGISTER".
kvm() {
	python3 -c 'import json, sys
f, t, p = sys.argv[2:5]
v = [v for v in json.load(open(sys.argv[1]))["verdicts"]
     if (v["from"], v["to"], v["profile"]) == (f, t, p)][0]
print("accepted" if v["kvm_ok"] else "refused " + v["kvm_refused_register"])' \
		"$LAB/kvm-verdicts.json" "$1" "$2" "$3"
}

# agrees OUT HOST KVM: the line "HOST: ..." of OUT says what KVM said:
# "HOST: accepted", or "HOST: refused:" naming the register KVM refused.
agrees() {
	line=$(grep "^$2: " "$1")
	case $3 in
	accepted)
		[ "$line" = "$2: accepted" ] ||
			bad "KVM accepted on $2, vmm says '$line'" ;;
	refused*)
		case "$line " in
		"$2: refused:"*" ${3#refused } "*) ;;
		*) bad "KVM refused on $2 at ${3#refused }, vmm says '$line'" ;;
		esac ;;
	esac
}

# The long options a command's --help names (its usage and option lines).
help_opts() {
	"$D$P/bin/cpufleet" "$@" --help 2>/dev/null |
		grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# Every command `cpufleet --help` lists.
commands() {
	"$D$P/bin/cpufleet" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'
}

# ---- make install ------------------------------------------------------------

case_ "make install PREFIX=$P DESTDIR=..."
$MAKE -s BUILD="$BUILD" install PREFIX=$P DESTDIR="$D" >"$T/install.log" 2>&1 ||
	bad "exit $? ($(tail -n 1 "$T/install.log"))"
end_

# The layout the usual conventions give (GNU coding standards, FHS, the
# pkg-config and bash-completion search paths, systemd's unit path).
case_ "the files: binary, library, header, .pc, man page, completion, units"
for f in bin/cpufleet lib/libcpufleet.a include/cpufleet.h \
	lib/pkgconfig/cpufleet.pc share/man/man1/cpufleet.1 \
	share/bash-completion/completions/cpufleet \
	lib/systemd/system/cpufleet-server.service \
	lib/systemd/system/cpufleet-agent.service \
	lib/systemd/system/cpufleet-agent.timer; do
	[ -f "$D$P/$f" ] || bad "no $P/$f"
done
[ -x "$D$P/bin/cpufleet" ] || bad "$P/bin/cpufleet not executable"
end_

VERSION=$(pc --modversion cpufleet 2>"$T/pcerr")
MAJOR=${VERSION%%.*}
LIB=$D$P/lib

case_ "pkg-config --modversion cpufleet: MAJOR.MINOR.PATCH"
echo "$VERSION" | grep -qx '[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*' ||
	bad "'$VERSION' ($(first "$T/pcerr"))"
end_

case_ "libcpufleet.so.$VERSION, its soname link and the dev link"
[ -f "$LIB/libcpufleet.so.$VERSION" ] && [ ! -L "$LIB/libcpufleet.so.$VERSION" ] ||
	bad "no real file libcpufleet.so.$VERSION"
[ "$(readlink "$LIB/libcpufleet.so.$MAJOR")" = "libcpufleet.so.$VERSION" ] ||
	bad "libcpufleet.so.$MAJOR -> '$(readlink "$LIB/libcpufleet.so.$MAJOR")'"
[ "$(readlink "$LIB/libcpufleet.so")" = "libcpufleet.so.$MAJOR" ] ||
	bad "libcpufleet.so -> '$(readlink "$LIB/libcpufleet.so")'"
end_

case_ "readelf -d: SONAME libcpufleet.so.$MAJOR"
readelf -d "$LIB/libcpufleet.so.$VERSION" >"$T/dyn" 2>&1 || bad "readelf failed"
grep -q "(SONAME).*\[libcpufleet\.so\.$MAJOR\]" "$T/dyn" ||
	bad "$(grep SONAME "$T/dyn" || echo "no SONAME")"
end_

case_ "pkg-config --cflags --libs cpufleet: the DESTDIR's include and lib"
flags=$(pc --cflags --libs cpufleet 2>"$T/pcerr") || bad "$(first "$T/pcerr")"
for w in "-I$D$P/include" "-L$LIB" -lcpufleet; do
	case " $flags " in *" $w "*) ;; *) bad "'$flags' lacks $w" ;; esac
done
end_

# ---- the public header and the library's symbols ----------------------------

case_ "cpufleet.h alone compiles as C11 -pedantic and as C++"
printf '#include <cpufleet.h>\nint main(void) { return CF_OK; }\n' >"$T/h.c"
cc -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only $(pc --cflags cpufleet) \
	"$T/h.c" 2>"$T/err" || bad "C: $(first "$T/err")"
if command -v c++ >/dev/null; then
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only -x c++ \
		$(pc --cflags cpufleet) "$T/h.c" 2>"$T/err" || bad "C++: $(first "$T/err")"
fi
end_

case_ "every function cpufleet.h declares is exported by libcpufleet.so"
grep -o '\bcf_[a-z0-9_]*(' "$D$P/include/cpufleet.h" | tr -d '(' | sort -u >"$T/decl"
nm -D --defined-only "$LIB/libcpufleet.so.$VERSION" | awk '{print $3}' |
	sort -u >"$T/dynsym"
[ "$(wc -l <"$T/decl")" -gt 40 ] || bad "only $(wc -l <"$T/decl") declarations found"
missing=$(comm -23 "$T/decl" "$T/dynsym" | tr '\n' ' ')
[ -z "$missing" ] || bad "not exported: $missing"
end_

# ---- a VMM built with pkg-config alone ----------------------------------------

case_ "vmm.c builds with pkg-config --cflags --libs cpufleet alone"
cp tests/install/vmm.c "$T/vmm.c"
(cd "$T" && cc -std=c11 -Wall -Wextra -pedantic -Werror -o vmm vmm.c \
	$(pc --cflags --libs cpufleet)) 2>"$T/err" || bad "$(first "$T/err")"
(cd "$T" && cc -M $(pc --cflags cpufleet) vmm.c) | grep -q "$D$P/include/cpufleet.h" ||
	bad "cpufleet.h not taken from the DESTDIR"
end_

case_ "vmm needs libcpufleet.so.$MAJOR and finds it in the DESTDIR"
readelf -d "$T/vmm" | grep -q "(NEEDED).*\[libcpufleet\.so\.$MAJOR\]" ||
	bad "NEEDED: $(readelf -d "$T/vmm" | grep NEEDED | tr -s ' ' | tr '\n' ' ')"
LD_LIBRARY_PATH=$LIB ldd "$T/vmm" | grep -q "libcpufleet.so.$MAJOR => $LIB/" ||
	bad "ldd: $(LD_LIBRARY_PATH=$LIB ldd "$T/vmm" | grep cpufleet)"
end_

vmm() {
	LD_LIBRARY_PATH=$LIB "$T/vmm" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# Host A's own profile (a guest started on A) on host B, as KVM in the lab
# judged it (a53 -> a57 refused at CTR_EL0, a57 -> a72 accepted, a72 -> a57
# refused at ID_MMFR0_EL1, at the time of writing).
for pair in a53:a57 a57:a72 a72:a57; do
	a=${pair%:*}
	b=${pair#*:}
	want=$(kvm "$a" "$b" own)
	case_ "vmm: a guest started on $a, on $b: as KVM said ($want)"
	vmm own "$LAB/reports/$a.json" "$T/$a.profile.json"
	[ "$rc" -eq 0 ] || bad "own: exit $rc: $(first "$T/err")"
	vmm check "$T/$a.profile.json" "$LAB/reports/$b.json"
	case $want in accepted) w=0 ;; *) w=1 ;; esac
	[ "$rc" -eq "$w" ] || bad "check: exit $rc, want $w: $(first "$T/err")"
	agrees "$T/out" "$b" "$want"
	end_
done

# The lab's pool {a57, a72}: its baseline on both and on a53.
case_ "vmm: the baseline of a57 and a72, on a57, a72 and a53: as KVM said"
vmm baseline "$T/pool.json" "$LAB/reports/a57.json" "$LAB/reports/a72.json"
[ "$rc" -eq 0 ] || bad "baseline: exit $rc: $(first "$T/err") $(first "$T/out")"
vmm check "$T/pool.json" "$LAB/reports/a57.json" "$LAB/reports/a72.json" \
	"$LAB/reports/a53.json"
cp "$T/out" "$T/pool.out"
for h in a57 a72 a53; do
	agrees "$T/pool.out" "$h" "$(kvm a57 "$h" baseline)"
done
[ "$(grep -c . "$T/pool.out")" -eq 3 ] || bad "$(grep -c . "$T/pool.out") lines, want 3"
end_

# Static: libcpufleet.a, and what it needs from pkg-config --static (libcjson
# through Requires.private).  Debian ships libcjson only as a shared
# library, so libcjson and libc stay dynamic.
case_ "vmm links libcpufleet.a with pkg-config --static; runs without the .so"
slibs=$(pc --static --libs cpufleet | sed 's/-lcpufleet\b/-l:libcpufleet.a/')
(cd "$T" && cc -std=c11 -Wall -Wextra -pedantic -Werror -o vmm-static vmm.c \
	$(pc --cflags cpufleet) $slibs) 2>"$T/err" || bad "$(first "$T/err")"
if [ -x "$T/vmm-static" ]; then
	! readelf -d "$T/vmm-static" | grep -q 'NEEDED.*libcpufleet' ||
		bad "still needs libcpufleet.so"
	"$T/vmm-static" check "$T/pool.json" "$LAB/reports/a57.json" \
		"$LAB/reports/a72.json" "$LAB/reports/a53.json" >"$T/out" 2>"$T/err"
	cmp -s "$T/out" "$T/pool.out" || bad "output differs: $(first "$T/out")"
fi
end_

# ---- bash completion -----------------------------------------------------------

COMP=$D$P/share/bash-completion/completions/cpufleet
# complete_ WORDS...: what the completion offers for the last word.
complete_() {
	bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cpufleet
		printf "%s\n" "${COMPREPLY[@]}"' sh "$COMP" "$@" 2>&1
}

case_ "bash completion loads: complete -p cpufleet"
out=$(bash -c 'source "$1" && complete -p cpufleet' sh "$COMP" 2>&1) || bad "$out"
case $out in *" cpufleet") ;; *) bad "'$out'" ;; esac
end_

case_ "bash completion: 'cpufleet ba' completes to baseline"
[ "$(complete_ cpufleet ba)" = baseline ] || bad "got '$(complete_ cpufleet ba)'"
end_

case_ "bash completion offers every command of cpufleet --help"
complete_ cpufleet "" >"$T/cmds"
n=0
for c in $(commands); do
	n=$((n + 1))
	grep -qx "$c" "$T/cmds" || bad "not offered: $c"
done
[ "$n" -ge 13 ] || bad "only $n commands in cpufleet --help"
end_

case_ "bash completion offers each command's options, as its --help names them"
for c in $(commands); do
	{ help_opts "$c"; [ "$c" = check ] && help_opts check --server x; } |
		sort -u >"$T/want"
	complete_ cpufleet "$c" -- | sort -u >"$T/got"
	m=$(comm -23 "$T/want" "$T/got" | tr '\n' ' ')
	[ -z "$m" ] || bad "$c: not offered: $m"
	x=$(comm -13 "$T/want" "$T/got" | tr '\n' ' ')
	[ -z "$x" ] || bad "$c: offered but not in --help: $x"
done
end_

# ---- man page ------------------------------------------------------------------

case_ "every man page renders without a warning (man --warnings -l)"
n=0
for m in "$D$P"/share/man/man*/*; do
	n=$((n + 1))
	MANWIDTH=80 man --warnings -l "$m" >"$T/man.txt" 2>"$T/err" ||
		bad "$m: exit $?"
	[ ! -s "$T/err" ] || bad "$m: $(first "$T/err")"
	[ "$(grep -c . "$T/man.txt")" -gt 100 ] || bad "$m: renders almost nothing"
done
[ "$n" -ge 1 ] || bad "no man page installed"
end_

case_ "cpufleet(1) has every command and every option of its --help"
MAN=$D$P/share/man/man1/cpufleet.1
sed 's/\\-/-/g' "$MAN" >"$T/man.src"
for c in $(commands); do
	grep -q "^\.SS \"cpufleet $c\b" "$T/man.src" || bad "no section for $c"
	for o in $(help_opts "$c"); do
		grep -q -- "$o\([^a-z0-9-]\|$\)" "$T/man.src" || bad "$c $o missing"
	done
done
end_

# ---- systemd units ---------------------------------------------------------------

# systemd-analyze verify wants ExecStart's binary where the unit says, so it
# runs on a second install into a real directory ($T/prefix, no DESTDIR),
# whose units must be those of the first with that prefix.
R=$T/prefix
UNITS="cpufleet-server.service cpufleet-agent.service cpufleet-agent.timer"
case_ "make install PREFIX=\$T/prefix: units that differ only in the prefix"
$MAKE -s BUILD="$BUILD" install PREFIX="$R" >"$T/install2.log" 2>&1 ||
	bad "exit $? ($(tail -n 1 "$T/install2.log"))"
for u in $UNITS; do
	sed "s|$R/|$P/|g" "$R/lib/systemd/system/$u" |
		cmp -s - "$D$P/lib/systemd/system/$u" || bad "$u differs"
done
grep -q "^ExecStart=$R/bin/cpufleet server " "$R/lib/systemd/system/cpufleet-server.service" ||
	bad "server's ExecStart is not $R/bin/cpufleet server"
end_

if command -v systemd-analyze >/dev/null; then
	case_ "systemd-analyze verify: the units, man page found, no warning"
	(cd "$R/lib/systemd/system" && MANPATH=$R/share/man \
		systemd-analyze verify $UNITS) >"$T/verify" 2>&1 ||
		bad "exit $?"
	[ ! -s "$T/verify" ] || bad "$(first "$T/verify")"
	end_

	case_ "systemd-analyze verify: the server with the TLS drop-in"
	DI=$R/lib/systemd/system/cpufleet-server.service.d
	mkdir -p "$DI"
	cp "$R/share/doc/cpufleet/examples/cpufleet-server-tls.conf" "$DI/tls.conf"
	(cd "$R/lib/systemd/system" && MANPATH=$R/share/man \
		systemd-analyze verify cpufleet-server.service) >"$T/verify" 2>&1 ||
		bad "exit $?"
	[ ! -s "$T/verify" ] || bad "$(first "$T/verify")"
	rm -r "$DI"
	end_

	# systemd's own exposure score (0 best, 10 worst; 2.0 or less is
	# "OK"): a budget, so that no hardening line goes away unnoticed.
	case_ "systemd-analyze security: exposure 2.0 or less for both services"
	for u in cpufleet-server.service cpufleet-agent.service; do
		(cd "$R/lib/systemd/system" && systemd-analyze security \
			--offline=yes --threshold=20 --no-pager "$u") >"$T/sec" 2>&1 ||
			bad "$u: $(grep 'Overall exposure' "$T/sec" || first "$T/sec")"
	done
	end_
else
	for c in "systemd-analyze verify: the units" \
		"systemd-analyze verify: the TLS drop-in" \
		"systemd-analyze security"; do
		skip_ "$c" "systemd-analyze is not installed (Debian package systemd)"
	done
fi

# What the units must have (issue 10), read from the units themselves.
case_ "units: own user and state, hardening, token as a credential"
S=$R/lib/systemd/system/cpufleet-server.service
A=$R/lib/systemd/system/cpufleet-agent.service
for l in DynamicUser=yes StateDirectory=cpufleet ProtectSystem=strict \
	NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
	ProtectKernelTunables=yes CapabilityBoundingSet= \
	SystemCallFilter=@system-service \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
	grep -qx "$l" "$S" || bad "server lacks $l"
done
for l in Type=oneshot StateDirectory=cpufleet-agent \
	'DeviceAllow=/dev/kvm rw' ProtectSystem=strict NoNewPrivileges=yes \
	CapabilityBoundingSet= "EnvironmentFile=/etc/cpufleet/agent.env" \
	LoadCredential=token:/etc/cpufleet/agent.token; do
	grep -qx "$l" "$A" || bad "agent lacks $l"
done
grep -q -- '--once' "$A" || bad "agent not --once"
grep -q -- '--token-file %d/token' "$A" || bad "agent token not from %d/token"
! grep -q -- '--token ' "$A" || bad "agent has --token on its command line"
end_

case_ "make uninstall PREFIX=\$T/prefix leaves no file"
$MAKE -s BUILD="$BUILD" uninstall PREFIX="$R" >"$T/un2.log" 2>&1 || bad "exit $?"
left=$(find "$R" ! -type d | head -n 3 | tr '\n' ' ')
[ -z "$left" ] || bad "left: $left"
end_

# ---- make uninstall --------------------------------------------------------------

case_ "make uninstall PREFIX=$P DESTDIR=... leaves no file"
$MAKE -s BUILD="$BUILD" uninstall PREFIX=$P DESTDIR="$D" >"$T/un.log" 2>&1 ||
	bad "exit $?"
left=$(find "$D" ! -type d | head -n 5 | tr '\n' ' ')
[ -z "$left" ] || bad "left: $left"
end_

# Other directories, as a distribution would give them.
case_ "BINDIR, LIBDIR, INCLUDEDIR, MANDIR, SYSTEMDUNITDIR elsewhere; then uninstall"
D2=$T/dest2
set -- PREFIX=/usr BINDIR=/usr/sbin LIBDIR=/usr/lib/x86_64-linux-gnu \
	INCLUDEDIR=/usr/include/cpufleet MANDIR=/usr/share/man \
	SYSTEMDUNITDIR=/lib/systemd/system DESTDIR="$D2"
$MAKE -s BUILD="$BUILD" install "$@" >"$T/install3.log" 2>&1 || bad "install: exit $?"
for f in /usr/sbin/cpufleet /usr/lib/x86_64-linux-gnu/libcpufleet.so.$VERSION \
	/usr/lib/x86_64-linux-gnu/pkgconfig/cpufleet.pc \
	/usr/include/cpufleet/cpufleet.h /usr/share/man/man1/cpufleet.1 \
	/lib/systemd/system/cpufleet-server.service; do
	[ -e "$D2$f" ] || bad "no $f"
done
got=$(PKG_CONFIG_PATH=$D2/usr/lib/x86_64-linux-gnu/pkgconfig \
	pkg-config --variable=libdir cpufleet):$(PKG_CONFIG_PATH=$D2/usr/lib/x86_64-linux-gnu/pkgconfig \
	pkg-config --variable=includedir cpufleet)
[ "$got" = /usr/lib/x86_64-linux-gnu:/usr/include/cpufleet ] ||
	bad ".pc libdir:includedir is $got"
grep -q "^ExecStart=/usr/sbin/cpufleet " "$D2/lib/systemd/system/cpufleet-server.service" ||
	bad "unit's ExecStart is not /usr/sbin/cpufleet"
$MAKE -s BUILD="$BUILD" uninstall "$@" >"$T/un3.log" 2>&1 || bad "uninstall: exit $?"
left=$(find "$D2" ! -type d | head -n 3 | tr '\n' ' ')
[ -z "$left" ] || bad "left: $left"
end_

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
