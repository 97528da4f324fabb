#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` on every image of the peer corpus (fsck/ and fuzz/, see
# its README): it must end by itself (no hang, no signal), without any
# sanitizer report, with a message when it fails, and leave the image
# byte-for-byte unchanged.  Our verdict (zero / non-zero exit) is compared
# with the reference's (manifest.tsv, ref_check_rc): the agreement count and
# every disagreement are printed as "# " lines, and every image must agree
# except the ones listed in KNOWN_DISAGREE below with a reason (never an
# image the reference calls clean: no false positive on a valid image).
#
# Environment: BTRFS_CORPUS (default $TOP_SRCDIR/../shared/corpus),
# CORPUS_TIMEOUT (seconds per run, default 60).

load ../helpers/common

SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'

# Images where we knowingly differ from the reference: "set/name reason".
# Only images the reference finds damaged may be listed.
KNOWN_DISAGREE=(
)

setup_file() {
	export CORPUS_DIR; CORPUS_DIR=$(corpus_dir)
	export CORPUS_SKIP=
	if [ ! -f "$CORPUS_DIR/manifest.tsv" ]; then
		CORPUS_SKIP="peer corpus not found at $CORPUS_DIR (set BTRFS_CORPUS)"
	fi
}

setup() {
	skip_if_reason "$CORPUS_SKIP"
	require_ours
	require_python
}

known_disagree() {
	local k
	for k in "${KNOWN_DISAGREE[@]}"; do
		[ "${k%% *}" = "$1" ] && return 0
	done
	return 1
}

# check_set SET: run our check on every image of SET; prints the report
check_set() {
	local set=$1 archive name dir img before after rc status ref verdict
	local agree=0 total=0 failures=0 p="$BATS_TEST_TMPDIR/run"
	for archive in "$CORPUS_DIR/$set"/*.raw.tar.xz; do
		name=$(basename "$archive" .raw.tar.xz)
		dir="$BATS_TEST_TMPDIR/unpack"
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xSJf "$archive" -C "$dir" || {
			echo "FAIL $set/$name: cannot unpack"
			failures=$((failures + 1))
			continue
		}
		img=$(find "$dir" -type f | head -n 1)
		before=$("$PYTHON" "$HELPERS_DIR/sparse-sum.py" "$img")
		rc=0
		TZ=UTC LC_ALL=C "$PYTHON" "$HELPERS_DIR/run-limited.py" \
			--timeout "${CORPUS_TIMEOUT:-60}" --mem-kb 0 \
			--status "$p.status" -- "$BTRFS_BIN" check "$img" \
			> "$p.out" 2> "$p.err" || rc=$?
		status=$(cat "$p.status" 2>/dev/null || echo unknown)
		after=$("$PYTHON" "$HELPERS_DIR/sparse-sum.py" "$img")
		total=$((total + 1))
		if [ "${status%% *}" != exit ] || [ "$rc" -ge 128 ]; then
			echo "FAIL $set/$name: did not exit normally ($status, rc $rc)"
			tail -n 5 "$p.err"
			failures=$((failures + 1))
		fi
		if grep -Eq "$SANITIZER_RE" "$p.err"; then
			echo "FAIL $set/$name: sanitizer report"
			grep -E -m 3 -A 3 "$SANITIZER_RE" "$p.err"
			failures=$((failures + 1))
		fi
		if [ "$rc" != 0 ] && ! grep -q "ERROR" "$p.err"; then
			echo "FAIL $set/$name: exit $rc without an ERROR line"
			failures=$((failures + 1))
		fi
		if [ "$before" != "$after" ]; then
			echo "FAIL $set/$name: the image changed"
			failures=$((failures + 1))
		fi
		ref=$(awk -F'\t' -v s="$set" -v n="$name" \
			'$1 == s && $2 == n { print $4; exit }' "$CORPUS_DIR/manifest.tsv")
		if [ "$((rc != 0))" = "$((ref != 0))" ]; then
			agree=$((agree + 1))
			continue
		fi
		verdict="ours $rc, reference $ref"
		if [ "$ref" != 0 ] && known_disagree "$set/$name"; then
			echo "known disagreement $set/$name: $verdict"
		else
			echo "FAIL $set/$name: verdict differs: $verdict"
			head -n 5 "$p.err"
			failures=$((failures + 1))
		fi
	done
	echo "$set: $agree of $total verdicts agree with the reference"
	return "$((failures > 0))"
}

@test "check on the fsck corpus: no crash, unchanged, verdicts agree" {
	run check_set fsck
	while IFS= read -r line; do diag "$line"; done <<<"$output"
	[ "$status" -eq 0 ]
}

@test "check on the fuzz corpus: no crash, unchanged, verdicts agree" {
	run check_set fuzz
	while IFS= read -r line; do diag "$line"; done <<<"$output"
	[ "$status" -eq 0 ]
}
