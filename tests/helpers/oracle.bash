# SPDX-License-Identifier: GPL-2.0
# Reference comparison ("oracle") for bats tests.  Load after common:
#   load ../helpers/common
#   load ../helpers/oracle
#
#   oracle_begin
#   oracle_case "a-default: -t root" inspect-internal dump-tree -t root IMG
#   ...
#   oracle_end          # fails the test and prints a report on any mismatch
#
# oracle_case runs `btrfs ARGS...` with our binary and with the reference,
# each under `timeout` with TZ=UTC LC_ALL=C, and compares:
#   - stdout, after filter_banner, byte for byte;
#   - exit codes; with ORACLE_ERROR_FAILS=1 (dump-tree), where the
#     reference prints an "ERROR:" line yet exits 0 (a block it could not
#     read, a tree that is not there), we must exit 1: an error is never a
#     success (scan errors about other block devices aside: a stale loop
#     device is not the filesystem's business). dump-super -F prints ERROR lines about the garbage it was
#     forced to dump and succeeds, as the reference does;
#   - our stderr must carry no sanitizer report.
# stderr text is shown in the report but only compared when
# ORACLE_STDERR=strict.
#
# Environment:
#   ORACLE_TIMEOUT    seconds per command (default 120)
#   ORACLE_MAX_DIFFS  mismatches shown in full in the report (default 5)
#   ORACLE_DIFF_LINES diff lines shown per mismatch (default 40)
#   ORACLE_SAVE_DIR   if set, outputs of mismatching cases are copied here

ORACLE_SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'

oracle_begin() {
	ORACLE_DIR="${BATS_TEST_TMPDIR:-$(mktemp -d)}/oracle"
	rm -rf "$ORACLE_DIR"
	mkdir -p "$ORACLE_DIR"
	ORACLE_N=0
	ORACLE_BAD=0
	: > "$ORACLE_DIR/mismatches"
}

# _oracle_run TOOL PREFIX ARGS...: PREFIX.out (filtered), .err, .rc
_oracle_run() {
	local tool=$1 prefix=$2 rc=0
	shift 2
	TZ=UTC LC_ALL=C timeout -k 5 "${ORACLE_TIMEOUT:-120}" "$tool" "$@" \
		> "$prefix.raw" 2> "$prefix.err" < /dev/null || rc=$?
	filter_banner < "$prefix.raw" > "$prefix.out"
	rm -f "$prefix.raw"
	echo "$rc" > "$prefix.rc"
}

# oracle_case LABEL ARGS...: compare one command; a mismatch is recorded
# for oracle_end (always returns 0, so it is safe under bats' errexit)
oracle_case() {
	local label=$1 p why=() rc_ours rc_ref
	shift
	ORACLE_N=$((ORACLE_N + 1))
	p="$ORACLE_DIR/$ORACLE_N"
	printf '%s\n' "$label" > "$p.label"
	printf '%q ' btrfs "$@" > "$p.cmd"
	_oracle_run "$BTRFS_BIN" "$p.ours" "$@"
	_oracle_run "${ref_btrfs:?load common first}" "$p.ref" "$@"
	rc_ours=$(cat "$p.ours.rc")
	rc_ref=$(cat "$p.ref.rc")
	if [ "${ORACLE_ERROR_FAILS:-0}" = 1 ] && [ "$rc_ref" = 0 ] &&
		grep '^ERROR: ' "$p.ref.err" | grep -qv '^ERROR: cannot scan '; then
		[ "$rc_ours" = 1 ] ||
			why+=("exit code ours=$rc_ours, expected 1 (the reference printed an ERROR but exited 0)")
	else
		[ "$rc_ours" = "$rc_ref" ] || why+=("exit code ours=$rc_ours reference=$rc_ref")
	fi
	[ "$rc_ours" != 124 ] || why+=("ours timed out")
	cmp -s "$p.ref.out" "$p.ours.out" || why+=("stdout differs")
	if grep -Eq "$ORACLE_SANITIZER_RE" "$p.ours.err"; then
		why+=("sanitizer report on stderr")
	fi
	if [ "${ORACLE_STDERR:-}" = strict ] && ! cmp -s "$p.ref.err" "$p.ours.err"; then
		why+=("stderr differs")
	fi
	if [ ${#why[@]} -eq 0 ]; then
		rm -f "$p".*	# keep only what a report needs
		return 0
	fi
	ORACLE_BAD=$((ORACLE_BAD + 1))
	printf '%s\t%s\n' "$ORACLE_N" "$(IFS=';'; echo "${why[*]}")" >> "$ORACLE_DIR/mismatches"
	return 0
}

# _oracle_show N REASON: the report block of one mismatch
_oracle_show() {
	local p="$ORACLE_DIR/$1" reason=$2 lines=${ORACLE_DIFF_LINES:-40}
	echo "=== $(cat "$p.label"): $reason"
	echo "    command: $(cat "$p.cmd")"
	if ! cmp -s "$p.ref.out" "$p.ours.out"; then
		diff -u --label reference --label ours "$p.ref.out" "$p.ours.out" | head -n "$lines"
	fi
	if ! cmp -s "$p.ref.err" "$p.ours.err"; then
		echo "--- reference stderr (head):"
		head -n 5 "$p.ref.err"
		echo "--- our stderr (head):"
		head -n 10 "$p.ours.err"
	fi
}

_oracle_save() {
	local n=$1 dest
	[ -n "${ORACLE_SAVE_DIR:-}" ] || return 0
	dest="$ORACLE_SAVE_DIR/${BATS_TEST_NAME:-oracle}"
	mkdir -p "$dest"
	cp "$ORACLE_DIR/$n".* "$dest/" 2>/dev/null || true
}

# oracle_end: print a report of every mismatch and fail if there was one
oracle_end() {
	local n why shown=0 max=${ORACLE_MAX_DIFFS:-5}
	[ "$ORACLE_BAD" -eq 0 ] && return 0
	echo "$ORACLE_BAD of $ORACLE_N comparisons with the reference failed"
	while IFS=$'\t' read -r n why; do
		_oracle_save "$n"
		if [ "$shown" -lt "$max" ]; then
			_oracle_show "$n" "$why"
		else
			echo "=== $(cat "$ORACLE_DIR/$n.label"): $why (diff not shown)"
		fi
		shown=$((shown + 1))
	done < "$ORACLE_DIR/mismatches"
	return 1
}
