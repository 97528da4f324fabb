#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# libFuzzer runs of the parsers that see raw disk bytes first: the tree
# checker and printer (fuzz-tree-block) and superblock validation with the
# sys_chunk_array (fuzz-super), built with clang, ASan and UBSan, seeded
# with real blocks of the kernel-made test images. A crash, a sanitizer
# report, a leak or a timeout fails the test and names the input that did
# it. FUZZ_SECONDS (default 30) is the time per target.

load ../helpers/common

setup_file() {
	local rc=0
	images_setup_file
	export FUZZ_DIR="$BATS_FILE_TMPDIR/fuzz"
	export FUZZ_SKIP=
	"$TOP_SRCDIR/tests/fuzz/build.sh" "$FUZZ_DIR/bin" \
		> "$BATS_FILE_TMPDIR/build.log" 2>&1 || rc=$?
	if [ "$rc" = 77 ]; then
		FUZZ_SKIP=$(tail -n 1 "$BATS_FILE_TMPDIR/build.log")
		return 0
	fi
	if [ "$rc" != 0 ]; then
		echo "tests/fuzz/build.sh failed:" >&2
		tail -n 30 "$BATS_FILE_TMPDIR/build.log" >&2
		return 1
	fi
	if [ -z "$IMAGES_SKIP" ]; then
		# shellcheck disable=SC2046
		"$PYTHON" "$TOP_SRCDIR/tests/fuzz/seeds.py" "$FUZZ_DIR/seeds" \
			$(awk '{ $1 = ""; print }' "$IMAGE_MANIFEST")
	else
		mkdir -p "$FUZZ_DIR/seeds/super" "$FUZZ_DIR/seeds/tree-block"
	fi
}

setup() {
	skip_if_reason "$FUZZ_SKIP"
}

# fuzz TARGET SEEDS MAXLEN: run one target; fail with the crash report
fuzz() {
	local target=$1 seeds=$2 maxlen=$3 work="$BATS_TEST_TMPDIR/$1" rc=0
	mkdir -p "$work/corpus"
	(cd "$work" && timeout -k 10 $((${FUZZ_SECONDS:-30} + 120)) \
		"$FUZZ_DIR/bin/$target" -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=2048 -timeout=10 -max_len="$maxlen" \
		-print_final_stats=1 corpus "$FUZZ_DIR/seeds/$seeds" \
		> "$work/log" 2>&1) || rc=$?
	grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units)' "$work/log" | head -n 2
	if [ "$rc" != 0 ]; then
		echo "$target failed (exit $rc); report:"
		grep -E -A 25 'ERROR: |runtime error|Test unit written' "$work/log" | head -n 60
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null || true
		return 1
	fi
	# it must really have run: seeds loaded and inputs executed
	grep -q 'stat::number_of_executed_units: [1-9]' "$work/log"
}

@test "fuzz-tree-block: tree checker and printer on mutated tree blocks" {
	fuzz fuzz-tree-block tree-block 65537
}

@test "fuzz-super: superblock checks and sys_chunk_array on mutated superblocks" {
	fuzz fuzz-super super 4096
}
