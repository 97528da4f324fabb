#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` on every kernel-made image (tests/helpers/make-images.sh):
# no false positive.  Ours and the reference must both exit 0 and say "no
# error found", and our closing summary (bytes used, csum bytes, tree bytes
# per kind, waste, data allocated / referenced) must equal the reference's
# line for line.  The image must be unchanged.

load ../helpers/common

setup_file() {
	images_setup_file
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	require_reference
	require_python
}

# summary: the lines from "found ... bytes used" on, from stdin
summary() {
	sed -n '/^found [0-9]* bytes used/,$p'
}

@test "every kernel-made image checks clean, summary equal to the reference's" {
	local name files first before after ours ref bad=0
	while read -r name files; do
		first=${files%% *}
		before=$("$PYTHON" "$HELPERS_DIR/sparse-sum.py" "$first")
		# shellcheck disable=SC2086
		ours=$(run_ours check $files 2>"$BATS_TEST_TMPDIR/err") || {
			echo "$name: our check failed:" >&2
			head -20 "$BATS_TEST_TMPDIR/err" >&2
			bad=1
			continue
		}
		# the reference takes one device and finds the others itself
		ref=$(run_ref check "$first" 2>/dev/null) || {
			echo "$name: the reference check fails on it" >&2
			bad=1
			continue
		}
		if [ -s "$BATS_TEST_TMPDIR/err" ]; then
			echo "$name: our check printed on stderr:" >&2
			head -5 "$BATS_TEST_TMPDIR/err" >&2
			bad=1
		fi
		if ! diff <(summary <<<"$ref") <(summary <<<"$ours") >&2; then
			echo "$name: summary differs from the reference's (above)" >&2
			bad=1
		fi
		grep -q "^found [0-9]* bytes used, no error found$" <<<"$ours" || bad=1
		after=$("$PYTHON" "$HELPERS_DIR/sparse-sum.py" "$first")
		if [ "$before" != "$after" ]; then
			echo "$name: the image changed" >&2
			bad=1
		fi
	done < "$IMAGE_MANIFEST"
	[ "$bad" = 0 ]
}

@test "lowmem mode, -Q and --check-data-csum also pass every image" {
	local name files bad=0
	while read -r name files; do
		# shellcheck disable=SC2086
		if ! run_ours check --mode=lowmem -Q --check-data-csum $files \
				>/dev/null 2>"$BATS_TEST_TMPDIR/err"; then
			echo "$name:" >&2
			head -10 "$BATS_TEST_TMPDIR/err" >&2
			bad=1
		fi
		if ! run_ref check --check-data-csum "${files%% *}" >/dev/null 2>&1; then
			echo "$name: the reference --check-data-csum fails" >&2
			bad=1
		fi
	done < "$IMAGE_MANIFEST"
	[ "$bad" = 0 ]
}
