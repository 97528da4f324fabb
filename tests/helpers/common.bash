# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the bats tests.  Use from a .bats file with
#   load ../helpers/common
#
# Exports / variables:
#   TOP_SRCDIR   source tree (exported by tests/run-tests.sh; guessed otherwise)
#   BTRFS_BIN    our btrfs binary (exported by tests/run-tests.sh)
#   MKFS_BIN     our mkfs.btrfs (default: beside BTRFS_BIN)
#   ref_btrfs, ref_mkfs   the reference btrfs-progs, by explicit path
#   HELPERS_DIR  this directory
# Both tools run with TZ=UTC LC_ALL=C so dates and sorting agree.
#
# Prerequisites: require_root, require_loop, require_kernel_btrfs,
# require_reference and require_ours call `skip "reason"` (require_ours
# fails instead: a missing build is an error, not a reason to skip).
# bats 1.8 cannot skip from setup_file, so each has a check_* twin that
# prints the reason and returns 1; setup_file can store the reason in an
# exported variable and `setup` can skip with it (see skip_if_reason).

HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HELPERS_DIR/../.." && pwd)}
BTRFS_BIN=${BTRFS_BIN:-$TOP_SRCDIR/btrfs}
# our mkfs.btrfs: beside our btrfs in the build tree
MKFS_BIN=${MKFS_BIN:-$(dirname "$BTRFS_BIN")/mkfs.btrfs}
ref_btrfs=/bin/btrfs
ref_mkfs=/sbin/mkfs.btrfs
if [ -z "${PYTHON:-}" ]; then
	# the system python starts faster than a pyenv shim
	if [ -x /usr/bin/python3 ]; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=$(command -v python3 || echo python3)
	fi
fi
export TZ=UTC LC_ALL=C
export TOP_SRCDIR BTRFS_BIN MKFS_BIN

# --- prerequisite checks ---------------------------------------------------

check_root() {
	[ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
}

check_loop() {
	check_root || return 1
	[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || true
	losetup -f >/dev/null 2>&1 || { echo "no free loop device"; return 1; }
}

check_kernel_btrfs() {
	grep -qw btrfs /proc/filesystems 2>/dev/null || modprobe btrfs 2>/dev/null || true
	grep -qw btrfs /proc/filesystems 2>/dev/null ||
		{ echo "kernel has no btrfs support"; return 1; }
}

check_reference() {
	[ -x "$ref_btrfs" ] && [ -x "$ref_mkfs" ] ||
		{ echo "reference btrfs-progs not installed ($ref_btrfs, $ref_mkfs)"; return 1; }
}

check_python() {
	[ -x "$PYTHON" ] || { echo "python3 not found"; return 1; }
}

_require() {
	local reason
	reason=$("$1") || skip "$reason"
}

require_root() { _require check_root; }
require_loop() { _require check_loop; }
require_kernel_btrfs() { _require check_kernel_btrfs; }
require_reference() { _require check_reference; }
require_python() { _require check_python; }

# require_ours: our binary must exist; a missing build fails the test
require_ours() {
	if [ ! -x "$BTRFS_BIN" ]; then
		echo "our btrfs binary is missing: BTRFS_BIN=$BTRFS_BIN" >&2
		return 1
	fi
}

# skip_if_reason TEXT: skip the current test when TEXT is not empty
skip_if_reason() {
	[ -z "$1" ] || skip "$1"
}

# diag TEXT...: a "# "-prefixed line in the TAP stream (bats fd 3)
diag() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line" >&3
	done
}

# --- running the tools -----------------------------------------------------

# run_ours ARGS... / run_ref ARGS...: run a tool in the fixed environment
run_ours() { TZ=UTC LC_ALL=C "$BTRFS_BIN" "$@"; }
run_ref() { TZ=UTC LC_ALL=C "$ref_btrfs" "$@"; }

# filter_banner: drop the first line if it is a version banner
# ("btrfs-progs v6.2", "btrfs-tools v0.1.0"); every other line passes
filter_banner() {
	sed -E '1{/^btrfs-(progs|tools) v[0-9][^ ]*$/d}'
}

# ref_super_field IMG FIELD: a value from the reference dump-super
ref_super_field() {
	run_ref inspect-internal dump-super "$1" 2>/dev/null |
		awk -v f="$2" '$1 == f { print $2; exit }'
}

# --- cleanup ----------------------------------------------------------------
# Register what a test creates; cleanup_all (call it from teardown) undoes
# it in reverse order and never fails.

_CLEANUP_MOUNTS=()
_CLEANUP_LOOPS=()
_CLEANUP_PATHS=()

track_mount() { _CLEANUP_MOUNTS+=("$@"); }
track_loop() { _CLEANUP_LOOPS+=("$@"); }
track_path() { _CLEANUP_PATHS+=("$@"); }

# cleanup_mount DIR: unmount DIR (lazily if busy) if it is a mountpoint
cleanup_mount() {
	local m=$1 i
	for ((i = 0; i < 3; i++)); do
		mountpoint -q "$m" 2>/dev/null || return 0
		umount "$m" 2>/dev/null && return 0
		sleep 0.2
	done
	umount -l "$m" 2>/dev/null || true
}

# cleanup_loop DEV: forget DEV in the btrfs device list and detach it
cleanup_loop() {
	local dev=$1
	[ -b "$dev" ] || return 0
	"$ref_btrfs" device scan --forget "$dev" >/dev/null 2>&1 || true
	losetup -d "$dev" 2>/dev/null || true
}

# cleanup_loops_of FILE: detach every loop device backed by FILE
cleanup_loops_of() {
	local dev
	for dev in $(losetup -j "$1" -O NAME -n 2>/dev/null); do
		cleanup_loop "$dev"
	done
}

# cleanup_path PATH: remove PATH (refuses "/" and empty paths)
cleanup_path() {
	case $1 in
	"" | / | /*/..* ) return 0 ;;
	esac
	rm -rf -- "$1" 2>/dev/null || true
}

cleanup_all() {
	local i
	for ((i = ${#_CLEANUP_MOUNTS[@]} - 1; i >= 0; i--)); do
		cleanup_mount "${_CLEANUP_MOUNTS[i]}"
	done
	for ((i = ${#_CLEANUP_LOOPS[@]} - 1; i >= 0; i--)); do
		cleanup_loop "${_CLEANUP_LOOPS[i]}"
	done
	for ((i = ${#_CLEANUP_PATHS[@]} - 1; i >= 0; i--)); do
		cleanup_path "${_CLEANUP_PATHS[i]}"
	done
	_CLEANUP_MOUNTS=()
	_CLEANUP_LOOPS=()
	_CLEANUP_PATHS=()
	return 0
}

# --- test images ------------------------------------------------------------

# images_setup_file: for setup_file; builds or reuses the image cache and
# exports IMAGE_MANIFEST (path of the manifest) or IMAGES_SKIP (a reason).
# A build failure fails setup_file with the builder's log.
images_setup_file() {
	local reason log check
	export IMAGES_SKIP=
	export IMAGE_CACHE=${BTRFS_TEST_IMAGES:-/var/tmp/btrfs-test-images}
	export IMAGE_MANIFEST="$IMAGE_CACHE/manifest"
	reason=$(check_reference) || { IMAGES_SKIP=$reason; return 0; }
	"$HELPERS_DIR/make-images.sh" -l "$IMAGE_CACHE" >/dev/null 2>&1 && return 0
	for check in check_root check_loop check_kernel_btrfs check_python; do
		reason=$("$check") || { IMAGES_SKIP="cannot build test images: $reason"; return 0; }
	done
	log="${BATS_FILE_TMPDIR:-/tmp}/make-images.log"
	if ! "$HELPERS_DIR/make-images.sh" "$IMAGE_CACHE" > "$log.out" 2> "$log"; then
		echo "make-images.sh failed:" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

# image_names: names from the manifest, one per line
image_names() {
	awk '{ print $1 }' "$IMAGE_MANIFEST"
}

# image_files NAME: the image's device files, space separated
image_files() {
	awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$IMAGE_MANIFEST"
}

# corpus_dir: the peer corpus (see ../shared/corpus/README.md): $BTRFS_CORPUS,
# else ../shared/corpus beside the source tree, else the workplace's
# /work/shared/corpus (a checkout made elsewhere); prints the first that
# exists, or the first candidate when none does (for the skip message)
corpus_dir() {
	local d
	for d in ${BTRFS_CORPUS:+"$BTRFS_CORPUS"} "$TOP_SRCDIR/../shared/corpus" \
		/work/shared/corpus; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	echo "${BTRFS_CORPUS:-$TOP_SRCDIR/../shared/corpus}"
}
