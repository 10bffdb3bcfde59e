#!/bin/sh
# tools/lab/mkinitrd.sh AGENT OUT: the lab's base initramfs (gzip'd newc cpio) for an
# aarch64 ELF agent, static or dynamic:
#   /init                              the agent
#   /lib/aarch64-linux-gnu/<soname>    every shared library it needs, transitively (readelf -d
#                                      NEEDED), searched in the directories below
#   <PT_INTERP>                        the dynamic loader (/lib/ld-linux-aarch64.so.1)
#   /dev /proc /sys /tmp /lab/in       empty; lab.py appends a second archive with /lab/in/*
# Both glibc loaders (libc6:arm64 and libc6-arm64-cross) search /lib/aarch64-linux-gnu by
# default, so no ld.so.cache is needed. /dev/console comes from the kernel's built-in
# initramfs, which is unpacked before this one.
set -eu

LIBDIRS="/usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu /usr/aarch64-linux-gnu/lib"
READELF=${READELF:-aarch64-linux-gnu-readelf}

die() { echo "mkinitrd: error: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 AGENT OUT" >&2; exit 2; }
AGENT=$1
OUT=$2
[ -f "$AGENT" ] || die "$AGENT: no such file"
for c in "$READELF" cpio gzip; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (run tools/lab/setup.sh)"
done

is_aarch64() { "$READELF" -h "$1" 2>/dev/null | grep -q 'Machine:[[:space:]]*AArch64'; }
needed() { "$READELF" -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'; }
interp() { "$READELF" -l "$1" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\].*/\1/p'; }
find_lib() {
	for d in $LIBDIRS; do
		if [ -e "$d/$1" ] && is_aarch64 "$d/$1"; then echo "$d/$1"; return 0; fi
	done
	return 1
}

is_aarch64 "$AGENT" || die "$AGENT is not an aarch64 ELF file"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/cpufleet-initrd.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT INT TERM
mkdir -p "$STAGE/dev" "$STAGE/proc" "$STAGE/sys" "$STAGE/tmp" "$STAGE/lab/in" "$STAGE/lib/aarch64-linux-gnu"
cp "$AGENT" "$STAGE/init"
chmod 0755 "$STAGE/init"

# Libraries, breadth first over NEEDED entries.
todo=$(needed "$AGENT")
ip=$(interp "$AGENT")
[ -n "$ip" ] && todo="$todo $(basename "$ip")"
have=" "
libs=
while [ -n "$(echo $todo)" ]; do
	set -- $todo
	name=$1; shift; todo="$*"
	case $have in *" $name "*) continue ;; esac
	src=$(find_lib "$name") || die "$name (needed by $AGENT) not found for aarch64 in $LIBDIRS (run tools/lab/setup.sh)"
	cp -L "$src" "$STAGE/lib/aarch64-linux-gnu/$name"
	have="$have$name "
	libs="$libs $name"
	todo="$todo $(needed "$src")"
done
if [ -n "$ip" ]; then
	case $ip in /*) ;; *) die "$AGENT: relative program interpreter $ip" ;; esac
	if [ "$ip" != "/lib/aarch64-linux-gnu/$(basename "$ip")" ]; then
		mkdir -p "$STAGE$(dirname "$ip")"
		ln -s "/lib/aarch64-linux-gnu/$(basename "$ip")" "$STAGE$ip"
	fi
fi

mkdir -p "$(dirname "$OUT")"
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -9 -n > "$OUT.tmp" || die "cannot write $OUT"
mv "$OUT.tmp" "$OUT"
if [ -n "$ip" ]; then
	echo "mkinitrd: $OUT: /init ($(basename "$AGENT"), dynamic, interpreter $ip) +$libs, $(wc -c < "$OUT") bytes"
else
	echo "mkinitrd: $OUT: /init ($(basename "$AGENT"), static), $(wc -c < "$OUT") bytes"
fi
