#!/bin/sh
# tools/lab/setup.sh [OUTDIR]: everything the arm64 lab needs from Debian, idempotent.
#
#   - packages: qemu-system-arm, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, cpio, and
#     through multiarch (dpkg --add-architecture arm64) libcjson-dev:arm64 and libcjson1:arm64,
#     which the lab agent links against dynamically;
#   - the lab's host kernels, one per suite, fetched the same way (LAB_KERNELS, comma-separated,
#     picks some; default all):
#         6.12   bookworm-backports   -> OUTDIR/kernel-6.12/
#         7.x    trixie-backports     -> OUTDIR/kernel-7.x/
#     each the arm64 unsigned image that the suite's linux-image-arm64 depends on, downloaded
#     with `apt-get download` (not installed) through a private apt state per suite,
#     OUTDIR/apt/SUITE/ (its own sources file, lists and cache: nothing under /etc/apt changes),
#     from exactly the URI and keyring this machine already uses for bookworm (read from
#     /etc/apt; no mirror is written). Per kernel: vmlinuz, config (from the image package,
#     or from the linux-base package it depends on, as trixie-backports' 7.x ships it; it
#     must say CONFIG_KVM=y) and `package`: "PACKAGE VERSION META-VERSION SUITE RELEASE".
#
# When everything is present it only asks dpkg and apt-cache and returns within seconds; a
# suite's lists are refreshed once they are a day old (the newest kernel there at the time).
# Runs as root (CI) or through sudo (the packages; the kernels' private apt state needs neither).
# Exit 0 when ready, 1 with a message otherwise.
set -eu

say() { echo "lab setup: $*"; }
die() { echo "lab setup: error: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-lab}
SUITE=bookworm      # the system's suite whose URI and keyring the kernels come through
SRCDIR=/etc/apt/sources.list.d
DEFAULT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PKGS="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross cpio libcjson-dev:arm64 libcjson1:arm64"
# SELECTOR SUITE RELEASE-PREFIX: the lab's host kernels; a suite whose kernel no longer
# starts with RELEASE-PREFIX is an error (the selector would lie).
KERNELS="6.12 bookworm-backports 6.12.
7.x trixie-backports 7."
WANT=$(echo "${LAB_KERNELS:-6.12,7.x}" | tr ',' ' ')
for w in $WANT; do
	echo "$KERNELS" | awk -v w="$w" '$1 == w {f = 1} END {exit !f}' ||
		die "LAB_KERNELS: unknown kernel '$w' (known: $(echo "$KERNELS" | awk '{printf "%s%s", s, $1; s = ","}'))"
done

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
[ -n "$main" ] || die "no apt source for $SUITE found in /etc/apt/sources.list or $SRCDIR; cannot derive the URI for the lab kernels"
URI=${main% *}
KEYRING=${main#* }
[ "$KEYRING" = - ] && KEYRING=$DEFAULT_KEYRING
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

# --- kernels -----------------------------------------------------------------------------
# A private apt state per suite: OUT/apt/SUITE/{SUITE.sources,lists,cache}. AO: its options.
private_apt() {
	A=$OUT/apt/$1
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" || die "cannot create $A"
	src="Types: deb
URIs: $URI
Suites: $1
Components: main
Signed-By: $KEYRING
Architectures: arm64"
	if [ ! -f "$A/$1.sources" ] || [ "$(cat "$A/$1.sources")" != "$src" ]; then
		printf '%s\n' "$src" >"$A/$1.sources"
		rm -f "$A"/lists/*_* "$A/updated" # lists of another URI or keyring
	fi
	AO="-o Dir::Etc::SourceList=$A/$1.sources -o Dir::Etc::SourceParts=/dev/null
	    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
	    -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache -o Dir::State::Status=/dev/null
	    -o APT::Architecture=arm64 -o APT::Architectures=arm64"
}
# shellcheck disable=SC2086
private_update() {
	say "apt-get update ($1, private lists in $(basename "$OUT")/apt/$1)"
	apt-get $AO update -qq && touch "$A/updated"
}
# apt keeps the server's time on an unchanged InRelease: our own stamp says when we asked
lists_fresh() {
	[ -n "$(find "$A/updated" -mmin -1440 2>/dev/null)" ] && ls "$A"/lists/*_InRelease >/dev/null 2>&1
}
# madison PACKAGE SUITE: its version in SUITE (the private lists hold that suite only)
# shellcheck disable=SC2086
madison() {
	apt-cache $AO madison "$1:arm64" 2>/dev/null | awk -F' *[|] *' -v s="$2/" 'index($3, s) {print $2; exit}'
}
# depends PACKAGE VERSION: the names in its first Depends line, one a line
# shellcheck disable=SC2086
depends() {
	apt-cache $AO show "$1:arm64=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',|' '\n\n' | sed 's/^ *//; s/[ (:].*//'
}
# IMG IVER: the package holding the image that linux-image-arm64=$META of $SUITE depends on,
# RELEASE its uname -r. bookworm: linux-image-RELEASE-unsigned (/boot/vmlinuz-RELEASE);
# trixie-backports 7.x: linux-image-RELEASE -> linux-binary-RELEASE, image in
# linux-binary-unsigned-RELEASE (usr/lib/modules/RELEASE/vmlinuz.unsigned).
resolve_image() {
	IMG=; IVER=
	dep=$(depends linux-image-arm64 "$META" | grep '^linux-image-' | head -n 1)
	[ -n "$dep" ] || return 1
	RELEASE=${dep#linux-image-}
	RELEASE=${RELEASE%-unsigned}
	for c in "linux-image-$RELEASE-unsigned" "linux-binary-unsigned-$RELEASE"; do
		v=$(madison "$c" "$SUITE_K")
		if [ -n "$v" ]; then IMG=$c; IVER=$v; return 0; fi
	done
	return 1
}
# download PACKAGE VERSION DIR: the .deb into DIR; prints its path
# shellcheck disable=SC2086
download() {
	# apt drops to user _apt for downloads; let it write there (else a harmless warning)
	[ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$3" 2>/dev/null || true
	(cd "$3" && apt-get $AO download -qq "$1:arm64=$2") || return 1
	ls "$3"/"$1"_*.deb 2>/dev/null | head -n 1
}
# extract DEB DIR PATTERN...: the first member matching each pattern, into DIR; prints their paths
extract() {
	deb=$1 dir=$2; shift 2
	list=$(dpkg-deb --fsys-tarfile "$deb" | tar -t) || return 1
	for pat in "$@"; do
		m=$(echo "$list" | grep -x "$pat" | head -n 1)
		[ -n "$m" ] || { echo -; continue; }
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" "$m" || return 1
		echo "$dir/$m"
	done
}
fetch_kernel() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpufleet-kernel.XXXXXX")
	deb=$(download "$IMG" "$IVER" "$tmp") && [ -n "$deb" ] || { rm -rf "$tmp"; return 1; }
	mkdir -p "$tmp/x"
	got=$(extract "$deb" "$tmp/x" "./boot/vmlinuz-$RELEASE" "./usr/lib/modules/$RELEASE/vmlinuz.*" \
		"./boot/config-$RELEASE" "./usr/lib/modules/$RELEASE/config") ||
		{ rm -rf "$tmp"; die "cannot unpack $deb"; }
	# shellcheck disable=SC2086
	set -- $got
	vm=$1; [ "$vm" = - ] && vm=$2
	cf=$3; [ "$cf" = - ] && cf=$4
	[ "$vm" != - ] || { rm -rf "$tmp"; die "$IMG $IVER holds no vmlinuz for $RELEASE"; }
	if [ "$cf" = - ] && depends "$IMG" "$IVER" | grep -qx "linux-base-$RELEASE"; then
		# the config ships in the base files package the image depends on
		bdeb=$(download "linux-base-$RELEASE" "$IVER" "$tmp") && [ -n "$bdeb" ] ||
			{ rm -rf "$tmp"; return 1; }
		cf=$(extract "$bdeb" "$tmp/x" "./usr/lib/modules/$RELEASE/config" "./boot/config-$RELEASE" |
			grep -v '^-$' | head -n 1)
		[ -n "$cf" ] || cf=-
	fi
	if [ "$cf" != - ]; then
		grep -q '^CONFIG_KVM=y' "$cf" || { rm -rf "$tmp"; die "$IMG $IVER does not have KVM built in (CONFIG_KVM=y)"; }
	else
		say "warning: no config shipped with $IMG $IVER: KVM is checked by the boot itself"
	fi
	mkdir -p "$KDIR"
	rm -f "$KDIR/config"
	cp "$vm" "$KDIR/vmlinuz.tmp" && mv "$KDIR/vmlinuz.tmp" "$KDIR/vmlinuz"
	[ "$cf" = - ] || cp "$cf" "$KDIR/config"
	echo "$IMG $IVER $META $SUITE_K $RELEASE" >"$KDIR/package"
	rm -rf "$tmp"
}

# kernel SELECTOR SUITE PREFIX: OUT/kernel-SELECTOR from SUITE. The cache is valid while the
# suite's linux-image-arm64 still has the META-VERSION in OUT/kernel-SELECTOR/package.
kernel() {
	SEL=$1 SUITE_K=$2 PREFIX=$3
	KDIR=$OUT/kernel-$SEL
	stamp=$KDIR/package
	private_apt "$SUITE_K"
	fresh=0
	if ! lists_fresh; then
		if private_update "$SUITE_K"; then
			fresh=1
		elif [ -s "$KDIR/vmlinuz" ] && [ -f "$stamp" ]; then
			say "warning: apt-get update of $SUITE_K failed; keeping kernel $(cut -d' ' -f1,2 "$stamp")"
			return 0
		else
			die "apt-get update of $SUITE_K ($URI) failed"
		fi
	fi
	META=$(madison linux-image-arm64 "$SUITE_K")
	if [ -z "$META" ] && [ "$fresh" = 0 ]; then
		private_update "$SUITE_K" || die "apt-get update of $SUITE_K ($URI) failed"
		fresh=1
		META=$(madison linux-image-arm64 "$SUITE_K")
	fi
	[ -n "$META" ] || die "linux-image-arm64:arm64 is not available from $SUITE_K ($URI)"
	if [ -s "$KDIR/vmlinuz" ] && [ -f "$stamp" ] && [ "$(cut -d' ' -f3 "$stamp")" = "$META" ]; then
		say "kernel $SEL: $(cut -d' ' -f1,2 "$stamp") present ($KDIR/vmlinuz)"
		return 0
	fi
	resolve_image || die "$SUITE_K: no unsigned image for linux-image-arm64:arm64=$META"
	case $RELEASE in
	"$PREFIX"*) ;;
	*) die "kernel $SEL: $SUITE_K's linux-image-arm64 $META is Linux $RELEASE, not $PREFIX*" ;;
	esac
	say "kernel $SEL: downloading $IMG:arm64 $IVER from $SUITE_K"
	if ! fetch_kernel; then
		[ "$fresh" = 1 ] && die "apt-get download $IMG:arm64=$IVER failed"
		private_update "$SUITE_K" || die "apt-get update of $SUITE_K ($URI) failed"  # lists older than the mirror
		META=$(madison linux-image-arm64 "$SUITE_K")
		resolve_image || die "$SUITE_K: no unsigned image for linux-image-arm64:arm64=$META"
		say "kernel $SEL: downloading $IMG:arm64 $IVER from $SUITE_K"
		fetch_kernel || die "apt-get download $IMG:arm64=$IVER failed"
	fi
	say "kernel $SEL: $IMG $IVER (Linux $RELEASE) -> $KDIR"
}

# the layout before two kernels: one OUT/kernel
[ -f "$OUT/kernel/package" ] && rm -rf "$OUT/kernel"
for w in $WANT; do
	# shellcheck disable=SC2046
	kernel $(echo "$KERNELS" | awk -v w="$w" '$1 == w')
done
say "ready"
