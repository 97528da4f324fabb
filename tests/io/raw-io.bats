#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Every byte a tool reads from or writes to a device goes through the
# device interface (kernel-shared/io.h), so that the undo recorder and the
# fault injector see it.  This test greps the engine and the frontends for
# system calls that open, read, write, flush or ioctl a file outside the
# I/O layer's own files (io.c, io-faults.c, undo.c); comment lines are
# skipped.  The few that remain
# are not devices (the files restore creates, /proc and /sys); each is
# listed below by file name and exact line, so that a new one fails here
# until it is moved behind the interface or justified in this list.

load ../helpers/common

ALLOWED=$(cat <<'EOF'
mkfs-devices.c: FILE *f = fopen(path, "r");
restore-data.c: ssize_t n = pwrite(fc->fd, data, len, (off_t)off);
restore-sys.c: FILE *f = fopen(path, "re");
restore-walk.c: fd = openat(wd->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
restore-walk.c: fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
restore.c: ctx->dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
mounted.c: f = fopen(path, "r");
mounted.c: FILE *f = fopen("/proc/self/mounts", "r");
EOF
)

# raw_calls: "basename: trimmed line" for every such call in the tree
raw_calls() {
	find "$TOP_SRCDIR/kernel-shared" "$TOP_SRCDIR/common" "$TOP_SRCDIR/cmds" \
		-name '*.c' ! -name io.c ! -name io-faults.c ! -name undo.c -print0 |
		xargs -0 grep -HE '\b(pread|pwrite|pread64|pwrite64|preadv|pwritev|open|openat|fopen|ioctl|fsync|fdatasync|sync_file_range)\(' |
		sed -E 's|^.*/([^/:]+):[[:space:]]*|\1: |; s/[[:space:]]+$//' |
		grep -vE '^[^:]+: (\*|/\*|//)' | sort
}

@test "no open, read, write, flush or ioctl of a device outside the I/O layer" {
	local found unexpected

	found=$(raw_calls)
	[ -n "$found" ]
	unexpected=$(comm -23 <(echo "$found") <(echo "$ALLOWED" | sort))
	if [ -n "$unexpected" ]; then
		echo "raw I/O outside kernel-shared/io*.c and undo.c:" >&2
		echo "$unexpected" >&2
		return 1
	fi
}

@test "the grep finds the I/O layer's own calls (the pattern works)" {
	run grep -cE '\b(pread|pwrite|open|fsync|ioctl)[[:space:]]*\(' \
		"$TOP_SRCDIR/kernel-shared/io.c"
	[ "$output" -ge 5 ]
}
