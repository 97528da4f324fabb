#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the set of kernel-made btrfs images used by the oracle tests.
#
# usage: make-images.sh [-f] [-l] [CACHEDIR]
#   -f   rebuild even if the cache is current
#   -l   only print the manifest of a current cache; exit 1 if not built
#   CACHEDIR defaults to $BTRFS_TEST_IMAGES or /var/tmp/btrfs-test-images
#
# Each image is made by the reference mkfs.btrfs, loop-mounted, filled by
# fill.py (fixed seeds) and unmounted.  The cache is reused while the hash
# of this script and fill.py stays the same; otherwise it is rebuilt.
#
# Output (stdout), one line per image: NAME FILE [FILE...]
# (absolute paths; several files for multi-device images).  The same lines
# are kept in CACHEDIR/manifest.  Needs root, loop devices, the kernel's
# btrfs and the reference tools; exits 77 when one of them is missing.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REF_MKFS=${REF_MKFS:-/sbin/mkfs.btrfs}
REF_BTRFS=${REF_BTRFS:-/bin/btrfs}
if [ -z "${PYTHON:-}" ]; then
	# the system python starts faster than a pyenv shim
	if [ -x /usr/bin/python3 ]; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=$(command -v python3 || echo python3)
	fi
fi
FILL="$HERE/fill.py"

force=0
list_only=0
while getopts "fl" opt; do
	case $opt in
	f) force=1 ;;
	l) list_only=1 ;;
	*) echo "usage: $0 [-f] [-l] [CACHEDIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
CACHE=${1:-${BTRFS_TEST_IMAGES:-/var/tmp/btrfs-test-images}}

case $CACHE in
*[[:space:]]*) echo "make-images: cache path must not contain spaces" >&2; exit 2 ;;
esac

MOUNTS=()
LOOPS=()
BUILD=
DEV=

log() { echo "make-images: $*" >&2; }
die() { log "$*"; exit 1; }

script_hash() {
	cat "${BASH_SOURCE[0]}" "$FILL" | sha256sum | cut -d' ' -f1
}

cache_current() {
	local name files f
	[ -f "$CACHE/stamp" ] && [ -f "$CACHE/manifest" ] || return 1
	[ "$(cat "$CACHE/stamp")" = "$(script_hash)" ] || return 1
	while read -r name files; do
		for f in $files; do
			[ -f "$f" ] || return 1
		done
	done < "$CACHE/manifest"
	return 0
}

check_prereqs() {
	[ "$(id -u)" = 0 ] || { log "needs root"; exit 77; }
	[ -x "$REF_MKFS" ] && [ -x "$REF_BTRFS" ] || { log "reference btrfs-progs missing"; exit 77; }
	grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || true
	grep -qw btrfs /proc/filesystems || { log "kernel has no btrfs"; exit 77; }
	losetup -f >/dev/null 2>&1 || { log "no free loop device"; exit 77; }
	[ -x "$PYTHON" ] || { log "python3 missing"; exit 77; }
}

# --- loop / mount bookkeeping (everything undone by release_all) ---------

# attach FILE: sets $DEV to the new loop device (no subshell, so the
# device is recorded for release_all)
attach() {
	DEV=$(losetup -f --show "$1") || die "losetup failed for $1"
	LOOPS+=("$DEV")
}

do_mount() {
	local opts=$1 dev=$2 mnt=$3
	mkdir -p "$mnt"
	mount -t btrfs ${opts:+-o "$opts"} "$dev" "$mnt" || die "mount -o '$opts' $dev failed"
	MOUNTS+=("$mnt")
}

release_all() {
	local m d
	for m in "${MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	MOUNTS=()
	for d in "${LOOPS[@]}"; do
		"$REF_BTRFS" device scan --forget "$d" >/dev/null 2>&1 || true
		losetup -d "$d" 2>/dev/null || true
	done
	LOOPS=()
}

unmount_all() {
	local m
	for m in "${MOUNTS[@]}"; do
		umount "$m" || die "umount $m failed"
	done
	MOUNTS=()
	release_all
}

on_exit() {
	local rc=$?
	release_all
	[ -n "$BUILD" ] && rm -rf "$BUILD"
	exit $rc
}

# --- building blocks ------------------------------------------------------

new_files() {
	local size=$1 f
	shift
	for f in "$@"; do
		rm -f "$f"
		truncate -s "$size" "$f"
	done
}

mkfs_ref() {
	"$REF_MKFS" -q -f "$@" >/dev/null || die "mkfs.btrfs $* failed"
}

fill() {
	"$PYTHON" "$FILL" "$@" || die "fill.py $* failed"
}

add_subvolumes() {
	local mnt=$1
	"$REF_BTRFS" -q subvolume create "$mnt/subvol" >/dev/null
	fill basic "$mnt/subvol" --seed 11 --files 200
	"$REF_BTRFS" -q subvolume snapshot "$mnt/subvol" "$mnt/snap" >/dev/null
	"$REF_BTRFS" -q subvolume snapshot -r "$mnt/subvol" "$mnt/snap-ro" >/dev/null
	echo changed > "$mnt/snap/inline/small03"
	rm -rf "$mnt/snap/bigdir"
}

# simple IMAGE: mkfs options, mount options, fill profile args
simple_image() {
	local img=$1 size=$2 mkopts=$3 mntopts=$4 dev mnt
	shift 4
	new_files "$size" "$img"
	# shellcheck disable=SC2086
	mkfs_ref $mkopts "$img"
	attach "$img"
	dev=$DEV
	mnt="$BUILD/mnt"
	do_mount "$mntopts" "$dev" "$mnt"
	fill "$@" "$mnt"
	sync
	unmount_all
}

# --- the image set --------------------------------------------------------

img_a_default() {
	local img=$1 dev mnt="$BUILD/mnt"
	new_files 512M "$img"
	mkfs_ref -L oracle-default "$img"
	attach "$img"
	dev=$DEV
	do_mount "" "$dev" "$mnt"
	fill basic "$mnt" --seed 1
	add_subvolumes "$mnt"
	unmount_all
}

img_b_node4k() {
	simple_image "$1" 512M "-n 4096 -d dup -L oracle-4k" "" basic --seed 2
}

img_c_node64k() {
	simple_image "$1" 512M "-n 65536 -L oracle-64k" "" basic --seed 3
}

img_d_xxhash() {
	simple_image "$1" 512M "--csum xxhash -m single" "" basic --seed 4 --files 1000
}

img_e_sha256() {
	simple_image "$1" 512M "--csum sha256" "" basic --seed 5 --files 1000
}

img_f_blake2() {
	simple_image "$1" 512M "--csum blake2" "" basic --seed 6 --files 1000
}

img_g_v1cache() {
	local img=$1 opts=space_cache=v1 dev mnt="$BUILD/mnt"
	# the kernel writes no v1 cache for block groups under 100 MiB, and
	# data block groups get big enough only on a fs of a few GiB
	new_files 4G "$img"
	mkfs_ref -O ^no-holes,^skinny-metadata -R ^free-space-tree "$img"
	attach "$img"
	dev=$DEV
	mkdir -p "$mnt"
	if ! mount -t btrfs -o "$opts" "$dev" "$mnt" 2>/dev/null; then
		log "kernel refuses space_cache=v1; building g-v1cache without it"
		opts=
		do_mount "" "$dev" "$mnt"
	else
		MOUNTS+=("$mnt")
	fi
	fill basic "$mnt" --seed 7 --files 1000
	unmount_all
}

img_h_mixed() {
	simple_image "$1" 256M "--mixed -L oracle-mixed" "" basic --seed 8 --files 1000
}

img_i_raid1() {
	local img1=$1 img2=$2 dev1 dev2 mnt="$BUILD/mnt"
	new_files 512M "$img1" "$img2"
	mkfs_ref -d raid1 -m raid1 -L oracle-raid1 "$img1" "$img2"
	attach "$img1"
	dev1=$DEV
	attach "$img2"
	dev2=$DEV
	do_mount "device=$dev2" "$dev1" "$mnt"
	fill basic "$mnt" --seed 9 --files 1000
	unmount_all
}

img_j_compress() {
	local img=$1 dev mnt="$BUILD/mnt" alg
	new_files 512M "$img"
	mkfs_ref -L oracle-compress "$img"
	attach "$img"
	dev=$DEV
	do_mount "compress=zlib" "$dev" "$mnt"
	fill compress "$mnt" --seed 10 --tag zlib
	for alg in lzo zstd; do
		mount -o "remount,compress=$alg" "$mnt" || die "remount compress=$alg failed"
		fill compress "$mnt" --seed 10 --tag "$alg"
	done
	mount -o remount,compress-force=zstd:3 "$mnt" || die "remount compress-force failed"
	fill compress "$mnt" --seed 12 --tag zstd-force
	unmount_all
}

img_k_quota() {
	local img=$1 dev mnt="$BUILD/mnt"
	new_files 512M "$img"
	mkfs_ref -L oracle-quota "$img"
	attach "$img"
	dev=$DEV
	do_mount "" "$dev" "$mnt"
	"$REF_BTRFS" quota enable "$mnt"
	"$REF_BTRFS" -q subvolume create "$mnt/sv1" >/dev/null
	"$REF_BTRFS" -q subvolume create "$mnt/sv1/nested" >/dev/null
	"$REF_BTRFS" -q subvolume create "$mnt/sv2" >/dev/null
	"$REF_BTRFS" -q subvolume create "$mnt/doomed" >/dev/null
	fill basic "$mnt/sv1" --seed 13 --files 300
	fill quota "$mnt/sv1/nested" --seed 14
	fill quota "$mnt/sv2" --seed 15
	fill quota "$mnt/doomed" --seed 16
	"$REF_BTRFS" -q subvolume snapshot "$mnt/sv1" "$mnt/snap1" >/dev/null
	"$REF_BTRFS" -q subvolume snapshot -r "$mnt/sv1" "$mnt/snap1-ro" >/dev/null
	rm -rf "$mnt/snap1/bigdir" "$mnt/snap1/extents"
	echo modified > "$mnt/snap1/links/target"
	"$REF_BTRFS" qgroup create 1/100 "$mnt"
	"$REF_BTRFS" qgroup assign --no-rescan "$mnt/sv1" 1/100 "$mnt" >/dev/null 2>&1 ||
		"$REF_BTRFS" qgroup assign "$mnt/sv1" 1/100 "$mnt"
	"$REF_BTRFS" qgroup limit 100M "$mnt/sv1"
	"$REF_BTRFS" qgroup limit -e 50M "$mnt/sv2"
	"$REF_BTRFS" qgroup limit 1G 1/100 "$mnt"
	"$REF_BTRFS" -q subvolume delete "$mnt/doomed" >/dev/null
	# commit now so the cleaner drops the subvolume without waiting 30s
	"$REF_BTRFS" filesystem sync "$mnt"
	"$REF_BTRFS" subvolume sync "$mnt" >/dev/null
	"$REF_BTRFS" subvolume set-default "$mnt/sv2"
	"$REF_BTRFS" quota rescan -w "$mnt" >/dev/null
	sync
	unmount_all
}

img_l_logtree() {
	local img=$1 src="$BUILD/l-source.img" dev mnt="$BUILD/mnt" log_root
	new_files 512M "$src"
	mkfs_ref -L oracle-log "$src"
	attach "$src"
	dev=$DEV
	do_mount "commit=300,nodiscard" "$dev" "$mnt"
	fill basic "$mnt" --seed 17 --files 300
	sync
	fill log "$mnt" --seed 18
	# the log tree is on disk now; snapshot the backing file before unmount
	cp --sparse=always "$src" "$img"
	unmount_all
	rm -f "$src"
	log_root=$("$REF_BTRFS" inspect-internal dump-super "$img" | awk '$1 == "log_root" { print $2 }')
	[ -n "$log_root" ] && [ "$log_root" != 0 ] || die "l-logtree: copy has no log tree (log_root=$log_root)"
}

img_m_many() {
	simple_image "$1" 1G "-n 16384" "" many --seed 19 --files 20000
}

# name  function  number-of-devices
IMAGES="
a-default img_a_default 1
b-node4k img_b_node4k 1
c-node64k img_c_node64k 1
d-xxhash img_d_xxhash 1
e-sha256 img_e_sha256 1
f-blake2 img_f_blake2 1
g-v1cache img_g_v1cache 1
h-mixed img_h_mixed 1
i-raid1 img_i_raid1 2
j-compress img_j_compress 1
k-quota img_k_quota 1
l-logtree img_l_logtree 1
m-many img_m_many 1
"

build_all() {
	local name fn ndev files i start manifest="$BUILD/manifest"
	: > "$manifest"
	while read -r name fn ndev; do
		[ -n "$name" ] || continue
		files=()
		for ((i = 1; i <= ndev; i++)); do
			if [ "$ndev" = 1 ]; then
				files+=("$CACHE/$name.img")
			else
				files+=("$CACHE/$name.$i.img")
			fi
		done
		start=$SECONDS
		log "building $name"
		local tmpfiles=()
		for i in "${files[@]}"; do tmpfiles+=("$BUILD/$(basename "$i")"); done
		"$fn" "${tmpfiles[@]}" < /dev/null
		release_all
		echo "$name ${files[*]}" >> "$manifest"
		log "built $name in $((SECONDS - start))s"
	done <<< "$IMAGES"
}

install_build() {
	local f
	rm -f "$CACHE"/*.img "$CACHE/manifest" "$CACHE/stamp"
	for f in "$BUILD"/*.img; do
		mv "$f" "$CACHE/"
	done
	mv "$BUILD/manifest" "$CACHE/manifest"
	script_hash > "$CACHE/stamp"
}

main() {
	mkdir -p "$CACHE"
	# readers without write access (non-root) may still list a built cache
	if [ -w "$CACHE" ]; then
		exec 9> "$CACHE/.lock"
		flock 9
	elif exec 9< "$CACHE/.lock"; then
		flock -s 9
	fi
	if [ "$list_only" = 1 ]; then
		cache_current || die "image cache $CACHE is not built"
		cat "$CACHE/manifest"
		return 0
	fi
	if [ "$force" = 0 ] && cache_current; then
		cat "$CACHE/manifest"
		return 0
	fi
	check_prereqs
	trap on_exit EXIT
	trap 'exit 130' INT TERM
	rm -rf "$CACHE"/build.*
	BUILD=$(mktemp -d "$CACHE/build.XXXXXX")
	build_all
	install_build
	cat "$CACHE/manifest"
}

main
