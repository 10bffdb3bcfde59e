#!/bin/sh
# tools/lab/setup.sh [OUTDIR]: everything the arm64 lab needs from Debian, idempotent.
#
#   - packages: qemu-system-arm, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, cpio, and
#     through multiarch (dpkg --add-architecture arm64) libcjson-dev:arm64 and libcjson1:arm64,
#     which the lab agent links against dynamically;
#   - the apt source bookworm-backports, with exactly the URI this machine already uses for
#     bookworm (read from /etc/apt; no mirror is written here), for amd64 and arm64;
#   - the arm64 kernel that bookworm-backports' linux-image-arm64 depends on (unsigned flavour),
#     downloaded with `apt-get download` (not installed); its vmlinuz goes to
#     OUTDIR/kernel/vmlinuz (default OUTDIR: build-lab at the top of the source tree), its
#     config to OUTDIR/kernel/config, and OUTDIR/kernel/package names package and versions.
#
# When everything is present it only asks dpkg and apt-cache and returns within seconds.
# Runs as root (CI) or through sudo. Exit 0 when ready, 1 with a message otherwise.
set -eu

say() { echo "lab setup: $*"; }
die() { echo "lab setup: error: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-lab}
SUITE=bookworm
BPO=$SUITE-backports
SRCDIR=/etc/apt/sources.list.d
OURSRC=$SRCDIR/$BPO.sources
DEFAULT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PKGS="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross cpio libcjson-dev:arm64 libcjson1:arm64"

if [ "$(id -u)" = 0 ]; then
	SUDO=
else
	command -v sudo >/dev/null 2>&1 || die "not root and sudo is not installed"
	SUDO=sudo
fi
command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 ||
	die "this needs a Debian system (dpkg, apt-get)"

UPDATED=0
apt_update() {
	[ "$UPDATED" = 1 ] && return 0
	say "apt-get update"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
	UPDATED=1
}

# --- apt sources -------------------------------------------------------------------------
# Prints "URI KEYRING" of the first enabled deb source of suite $1 (deb822 .sources files first,
# then one-line sources.list files); KEYRING is "-" when the entry names none.
find_source() {
	suite=$1
	for f in "$SRCDIR"/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
		BEGIN { RS = "" }
		{
			n = split($0, line, "\n"); types = ""; uris = ""; suites = ""; key = "-"; enabled = "yes"; last = ""
			for (i = 1; i <= n; i++) {
				l = line[i]
				if (l ~ /^#/) continue
				if (l ~ /^[ \t]/) { if (last == "u") uris = uris " " l; else if (last == "s") suites = suites " " l; continue }
				last = ""
				p = index(l, ":"); if (!p) continue
				k = tolower(substr(l, 1, p - 1)); v = substr(l, p + 1)
				if (k == "types") types = v
				else if (k == "uris") { uris = v; last = "u" }
				else if (k == "suites") { suites = v; last = "s" }
				else if (k == "enabled") enabled = v
				else if (k == "signed-by") { gsub(/^[ \t]+|[ \t]+$/, "", v); if (v ~ /^\//) key = v }
			}
			gsub(/^[ \t]+|[ \t]+$/, "", enabled)
			if (enabled == "no") next
			if ((" " types " ") !~ /[ \t]deb[ \t]/) next
			ns = split(suites, s, /[ \t]+/); found = 0
			for (j = 1; j <= ns; j++) if (s[j] == suite) found = 1
			if (!found) next
			split(uris, u, /[ \t]+/); uri = (u[1] != "") ? u[1] : u[2]
			if (uri != "") { print uri, key; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list "$SRCDIR"/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
		$1 == "deb" {
			i = 2; key = "-"
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					o = $i; gsub(/[][]/, "", o)
					if (o ~ /^signed-by=/) key = substr(o, 11)
					if ($i ~ /\]$/) { i++; break }
				}
			}
			if ($(i + 1) == suite) { print $i, key; exit }
		}' "$f"
	done
}

NATIVE=$(dpkg --print-architecture)
if ! dpkg --print-foreign-architectures | grep -qx arm64 && [ "$NATIVE" != arm64 ]; then
	say "adding dpkg architecture arm64 (multiarch, for libcjson1:arm64)"
	$SUDO dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
	NEED_UPDATE=1
else
	NEED_UPDATE=0
fi

main=$(find_source "$SUITE" | head -n 1)
[ -n "$main" ] || die "no apt source for $SUITE found in /etc/apt/sources.list or $SRCDIR; cannot derive the URI for $BPO"
uri=${main% *}
key=${main#* }
[ "$key" = - ] && key=$DEFAULT_KEYRING
archs=$NATIVE
[ "$NATIVE" = arm64 ] || archs="$NATIVE arm64"
want="# Added by cpufleet tools/lab/setup.sh: the arm64 lab kernel comes from $BPO,
# from the same mirror as $SUITE.
Types: deb
URIs: $uri
Suites: $BPO
Components: main
Signed-By: $key
Architectures: $archs"
others=$(for f in /etc/apt/sources.list "$SRCDIR"/*.list "$SRCDIR"/*.sources; do
	[ -f "$f" ] && [ "$f" != "$OURSRC" ] && grep -l "^[^#]*[[:space:]]$BPO\([[:space:]]\|\$\)" "$f" 2>/dev/null
done || true)
if [ -n "$others" ] && [ ! -f "$OURSRC" ]; then
	say "$BPO already configured in $(echo $others)"
elif [ -f "$OURSRC" ] && grep -qx "URIs: $uri" "$OURSRC" && grep -qx "Suites: $BPO" "$OURSRC" &&
	grep -q "^Architectures:.*arm64" "$OURSRC"; then
	: # present, same URI as bookworm, arm64 lists included
else
	say "adding apt source $BPO ($uri, $archs) as $OURSRC"
	printf '%s\n' "$want" | $SUDO tee "$OURSRC.tmp" >/dev/null && $SUDO mv "$OURSRC.tmp" "$OURSRC" ||
		die "cannot write $OURSRC"
	NEED_UPDATE=1
fi
[ "$NEED_UPDATE" = 1 ] && apt_update

# --- packages ----------------------------------------------------------------------------
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt_update
	say "installing$missing"
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing ||
		die "apt-get install$missing failed"
else
	say "packages present ($PKGS)"
fi
for c in qemu-system-aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-readelf cpio gzip; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found after installing the packages"
done

# --- kernel ------------------------------------------------------------------------------
# KPKG/KVER: the unsigned image that linux-image-arm64 from $BPO depends on. Not "the newest
# linux-image-6.12*": bookworm-security also carries 6.12 images and they sort higher.
resolve_meta() {
	META=$(apt-cache madison linux-image-arm64:arm64 2>/dev/null |
		awk -F' *[|] *' -v s="$BPO/" 'index($3, s) {print $2; exit}')
	[ -n "$META" ]
}
resolve_kernel() {
	KPKG=; KVER=
	dep=$(apt-cache show "linux-image-arm64:arm64=$META" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',|' '\n\n' | sed 's/^ *//; s/[ (].*//' | grep '^linux-image-' | head -n 1)
	[ -n "$dep" ] || return 1
	case $dep in *-unsigned) ;; *) dep=$dep-unsigned ;; esac
	KPKG=$dep
	KVER=$(apt-cache madison "$KPKG:arm64" 2>/dev/null |
		awk -F' *[|] *' -v s="$BPO/" 'index($3, s) {print $2; exit}')
	[ -n "$KVER" ]
}

fetch_kernel() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpufleet-kernel.XXXXXX")
	# apt drops to user _apt for downloads; let it write here (else a harmless warning)
	[ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -qq "$KPKG:arm64=$KVER"); then
		rm -rf "$tmp"; return 1
	fi
	deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { rm -rf "$tmp"; return 1; }
	mkdir -p "$tmp/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
		{ rm -rf "$tmp"; die "cannot unpack /boot from $deb"; }
	vm=$(ls "$tmp"/x/boot/vmlinuz-* | head -n 1)
	cf=$(ls "$tmp"/x/boot/config-* | head -n 1)
	grep -q '^CONFIG_KVM=y' "$cf" || { rm -rf "$tmp"; die "$KPKG $KVER does not have KVM built in (CONFIG_KVM=y)"; }
	mkdir -p "$OUT/kernel"
	cp "$vm" "$OUT/kernel/vmlinuz.tmp" && mv "$OUT/kernel/vmlinuz.tmp" "$OUT/kernel/vmlinuz"
	cp "$cf" "$OUT/kernel/config"
	echo "$KPKG $KVER $META" > "$OUT/kernel/package"
	rm -rf "$tmp"
}

# OUTDIR/kernel/package: "PACKAGE VERSION META-VERSION"; the cache is valid while
# linux-image-arm64 in bookworm-backports still has META-VERSION (one apt-cache call).
if ! resolve_meta; then
	apt_update
	resolve_meta || die "linux-image-arm64:arm64 is not available from $BPO (apt-cache madison linux-image-arm64:arm64)"
fi
stamp="$OUT/kernel/package"
if [ -s "$OUT/kernel/vmlinuz" ] && [ -f "$stamp" ] && [ "$(cut -d' ' -f3 "$stamp")" = "$META" ]; then
	say "kernel $(cut -d' ' -f1,2 "$stamp") present ($OUT/kernel/vmlinuz)"
else
	resolve_kernel || die "cannot resolve the kernel package linux-image-arm64:arm64=$META depends on"
	say "downloading kernel $KPKG:arm64 $KVER from $BPO"
	if ! fetch_kernel; then
		[ "$UPDATED" = 1 ] && die "apt-get download $KPKG:arm64=$KVER failed"
		apt_update     # the lists may be older than the mirror
		resolve_meta && resolve_kernel || die "linux-image-arm64:arm64 is not available from $BPO"
		say "downloading kernel $KPKG:arm64 $KVER from $BPO"
		fetch_kernel || die "apt-get download $KPKG:arm64=$KVER failed"
	fi
	say "kernel $KPKG $KVER -> $OUT/kernel/vmlinuz"
fi
say "ready"
