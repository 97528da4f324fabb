#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Bad input never crashes, hangs, trips a sanitizer or writes to the image.
#
# Runs our dump-super, dump-super -f -a and dump-tree on every image of the
# peer corpus (fsck/ and fuzz/, see its README) and on small synthetic bad
# files.  A command passes when it ends by itself (no timeout, no signal),
# stderr carries no sanitizer report, a non-zero exit comes with a message,
# and the image is byte-for-byte unchanged.  Whether we succeed or fail
# where the reference did is only reported (as "# " lines): it is not what
# this file checks.
#
# Environment: BTRFS_CORPUS (default $TOP_SRCDIR/../shared/corpus),
# CORPUS_TIMEOUT (seconds per command, default 60), CORPUS_MEM_LIMIT_KB
# (address-space cap per command, default 4 GiB; not applied to ASan builds).

load ../helpers/common

SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'

setup_file() {
	export CORPUS_DIR; CORPUS_DIR=$(corpus_dir)
	export CORPUS_SKIP=
	if [ ! -f "$CORPUS_DIR/manifest.tsv" ]; then
		CORPUS_SKIP="peer corpus not found at $CORPUS_DIR (set BTRFS_CORPUS)"
	fi
}

setup() {
	require_ours
	require_python
	FAILURES="$BATS_TEST_TMPDIR/failures"
	: > "$FAILURES"
	CHECKS=0
}

# fail_note TEXT...: record a failure (reported by report_failures)
fail_note() {
	printf '%s\n' "$@" >> "$FAILURES"
}

report_failures() {
	[ -s "$FAILURES" ] || return 0
	echo "$(grep -c '^FAIL' "$FAILURES") failures in $CHECKS commands run:"
	cat "$FAILURES"
	return 1
}

# mem_limit_kb: the address-space cap, 0 (none) for ASan builds, whose
# shadow memory needs a huge address space
mem_limit_kb() {
	if grep -q __asan_init "$BTRFS_BIN" 2>/dev/null; then
		echo 0
	else
		echo "${CORPUS_MEM_LIMIT_KB:-4194304}"
	fi
}

# run_checked LABEL OUTPREFIX ARGS...: run our btrfs ARGS with a time and
# memory limit, check the no-crash rules, leave OUTPREFIX.{out,err,status}
# and set RUN_RC
run_checked() {
	local label=$1 p=$2 rc=0 status
	shift 2
	CHECKS=$((CHECKS + 1))
	TZ=UTC LC_ALL=C "$PYTHON" "$HELPERS_DIR/run-limited.py" \
		--timeout "${CORPUS_TIMEOUT:-60}" --mem-kb "$(mem_limit_kb)" \
		--status "$p.status" -- "$BTRFS_BIN" "$@" \
		> "$p.out" 2> "$p.err" || rc=$?
	RUN_RC=$rc
	status=$(cat "$p.status" 2>/dev/null || echo "unknown")
	case $status in
	timeout*) fail_note "FAIL $label: hung ($status s)" ;;
	signal*)
		fail_note "FAIL $label: crashed ($status)"
		[ ! -s "$p.err" ] || fail_note "$(tail -n 5 "$p.err")"
		;;
	exit*)
		if [ "$rc" -ge 128 ]; then
			fail_note "FAIL $label: exit code $rc (>= 128 looks like a crash)"
		fi
		;;
	*) fail_note "FAIL $label: could not run ($status)" ;;
	esac
	if grep -Eq "$SANITIZER_RE" "$p.err"; then
		fail_note "FAIL $label: sanitizer report" "$(grep -E -m 3 -A 3 "$SANITIZER_RE" "$p.err")"
	fi
	if [ "${status%% *}" = exit ] && [ "$rc" != 0 ] && [ ! -s "$p.err" ]; then
		fail_note "FAIL $label: exit code $rc without any message on stderr"
	fi
	return 0
}

# (size, mtime and the bytes a reader sees: any write moves the mtime, and
# a file system reporting holes differently after writeback does not)
fingerprint() {
	"$PYTHON" "$HELPERS_DIR/sparse-sum.py" --content "$1"
}

# ref_dump_tree_rc SET NAME: the reference's dump-tree exit code
ref_dump_tree_rc() {
	awk -F'\t' -v s="$1" -v n="$2" '$1 == s && $2 == n { print $8; exit }' \
		"$CORPUS_DIR/manifest.tsv"
}

# check_archive SET ARCHIVE: unpack one image and run every command on it
check_archive() {
	local set=$1 archive=$2 name dir img before after p ref
	name=$(basename "$archive" .raw.tar.xz)
	dir="$BATS_TEST_TMPDIR/unpack"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! tar -xSJf "$archive" -C "$dir"; then
		fail_note "FAIL $set/$name: cannot unpack $archive"
		return 0
	fi
	img=$(find "$dir" -type f | head -n 1)
	before=$(fingerprint "$img")
	p="$BATS_TEST_TMPDIR/run"
	run_checked "$set/$name: dump-super" "$p" inspect-internal dump-super "$img"
	run_checked "$set/$name: dump-super -f -a" "$p" inspect-internal dump-super -f -a "$img"
	run_checked "$set/$name: dump-tree" "$p" inspect-internal dump-tree "$img"
	after=$(fingerprint "$img")
	if [ "$before" != "$after" ]; then
		fail_note "FAIL $set/$name: the image changed (before: $before, after: $after)"
	fi
	ref=$(ref_dump_tree_rc "$set" "$name")
	if [ -n "$ref" ] && [ "$((ref == 0))" != "$((RUN_RC == 0))" ]; then
		diag "note: $set/$name: dump-tree exit code ours=$RUN_RC reference=$ref"
	fi
	rm -rf "$dir"
}

corpus_set() {
	local set=$1 archive n=0
	skip_if_reason "$CORPUS_SKIP"
	[ -d "$CORPUS_DIR/$set" ] || skip "no $set/ in $CORPUS_DIR"
	for archive in "$CORPUS_DIR/$set"/*.raw.tar.xz; do
		[ -f "$archive" ] || continue
		check_archive "$set" "$archive"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || skip "no images in $CORPUS_DIR/$set"
	report_failures
}

@test "corpus fsck images: dump-super and dump-tree end cleanly, image unchanged" {
	corpus_set fsck
}

@test "corpus fuzz images: dump-super and dump-tree end cleanly, image unchanged" {
	corpus_set fuzz
}

# --- synthetic bad inputs ----------------------------------------------------

# make_synthetic DIR: empty, zeros, truncated, not-btrfs, bad-csum
make_synthetic() {
	local d=$1 real="$1/real.img"
	truncate -s 256M "$real"
	"$ref_mkfs" -q -f "$real" >/dev/null 2>&1
	: > "$d/empty"
	head -c 1M /dev/zero > "$d/zeros"
	head -c 70K "$real" > "$d/truncated"
	if command -v mkfs.ext4 >/dev/null 2>&1; then
		truncate -s 8M "$d/not-btrfs"
		mkfs.ext4 -q -F "$d/not-btrfs" >/dev/null 2>&1
	else
		"$PYTHON" -c 'import random, sys
sys.stdout.buffer.write(random.Random(3).getrandbits(1 << 23).to_bytes(1 << 20, "little"))' \
			> "$d/not-btrfs"
	fi
	cp --sparse=always "$real" "$d/bad-csum"
	# one byte inside the checksummed part of the primary superblock
	printf '\377' | dd of="$d/bad-csum" bs=1 seek=$((65536 + 200)) conv=notrunc status=none
	rm -f "$real"
	sync
}

# expect_error LABEL PREFIX: the last run failed with a short ERROR message
expect_error() {
	local label=$1 p=$2 lines
	if [ "$RUN_RC" = 0 ]; then
		fail_note "FAIL $label: exit code 0, expected an error"
		return 0
	fi
	lines=$(wc -l < "$p.err")
	if ! grep -q '^ERROR: ..*' "$p.err" || [ "$lines" -gt 3 ]; then
		fail_note "FAIL $label: expected one clear 'ERROR: ...' line, stderr was:" \
			"$(head -n 5 "$p.err")"
	fi
}

# expect_error_or_success LABEL PREFIX: rc 0, or an error with a message
expect_error_or_success() {
	[ "$RUN_RC" = 0 ] || expect_error "$@"
}

@test "synthetic bad inputs: non-zero exit with an ERROR line, no crash" {
	local d="$BATS_TEST_TMPDIR/synthetic" p f before
	require_reference
	mkdir -p "$d"
	make_synthetic "$d"
	p="$BATS_TEST_TMPDIR/run"
	for f in empty zeros truncated not-btrfs bad-csum; do
		before=$(fingerprint "$d/$f")
		run_checked "$f: dump-tree" "$p" inspect-internal dump-tree "$d/$f"
		expect_error "$f: dump-tree" "$p"
		run_checked "$f: dump-super" "$p" inspect-internal dump-super "$d/$f"
		case $f in
		# the reference prints these superblocks (marking a bad checksum)
		truncated | bad-csum) expect_error_or_success "$f: dump-super" "$p" ;;
		*) expect_error "$f: dump-super" "$p" ;;
		esac
		run_checked "$f: dump-super -f -a" "$p" inspect-internal dump-super -f -a "$d/$f"
		expect_error_or_success "$f: dump-super -f -a" "$p"
		[ "$before" = "$(fingerprint "$d/$f")" ] ||
			fail_note "FAIL $f: the file changed"
	done
	run_checked "missing file: dump-tree" "$p" inspect-internal dump-tree "$d/no-such-file"
	expect_error "missing file: dump-tree" "$p"
	run_checked "missing file: dump-super" "$p" inspect-internal dump-super "$d/no-such-file"
	expect_error "missing file: dump-super" "$p"
	report_failures
}
