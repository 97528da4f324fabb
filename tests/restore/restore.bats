#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# btrfs restore against the kernel: every kernel-made image is mounted
# read-only (a copy), its content manifest (tests/helpers/manifest.py:
# path, type, size, sha256, link target, hard link group, and with -m/-x
# mode, owner, mtime, device numbers, xattrs) taken, then unmounted and
# restored with our tool; the manifests of the restored tree must be the
# same.  Damaged images are made here by overwriting blocks on disk at their
# physical offsets (from the chunk items the reference prints); the restore must
# name the damage, restore everything else exactly, and exit 1.
#
# Needs root, loop devices, the kernel's btrfs, the reference btrfs-progs
# (mkfs, dump-tree) and python3; skips otherwise.
# Environment: BTRFS_CORPUS (default $TOP_SRCDIR/../shared/corpus),
# RESTORE_TIMEOUT (seconds per corpus image, default 60).

load ../helpers/common

SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'
MANIFEST="$HELPERS_DIR/manifest.py"

setup_file() {
	local check reason
	export RESTORE_SKIP=
	for check in check_root check_loop check_kernel_btrfs check_reference check_python; do
		reason=$("$check") || { RESTORE_SKIP=$reason; return 0; }
	done
	images_setup_file
	[ -z "$IMAGES_SKIP" ] || RESTORE_SKIP=$IMAGES_SKIP
}

setup() {
	require_ours
	skip_if_reason "$RESTORE_SKIP"
	W="$BATS_TEST_TMPDIR/w"
	mkdir -p "$W"
}

teardown() {
	cleanup_all
}

# --- helpers ------------------------------------------------------------------

# copy_image NAME: copies of the image's files in $W, their paths in IMG
copy_image() {
	local f
	IMG=()
	for f in $(image_files "$1"); do
		cp --sparse=always "$f" "$W/$(basename "$f")"
		IMG+=("$W/$(basename "$f")")
	done
}

# attach_all FILES...: loop devices in DEVS (tracked for cleanup)
attach_all() {
	local f dev
	DEVS=()
	for f in "$@"; do
		dev=$(losetup -f --show "$f")
		track_loop "$dev"
		DEVS+=("$dev")
	done
}

# mount_ro MNT: mount DEVS read-only at the top level, without log replay
mount_ro() {
	local opts=ro,rescue=nologreplay,subvolid=5
	[ "${#DEVS[@]}" -lt 2 ] || opts="$opts,device=${DEVS[1]}"
	mkdir -p "$1"
	mount -t btrfs -o "$opts" "${DEVS[0]}" "$1"
	track_mount "$1"
}

# take_manifests PREFIX FILES...: PREFIX.content (top subvolume only, what
# a plain restore gives: no symlinks or special files) and PREFIX.full
# (every subvolume, metadata and xattrs, as -m -S -x -s gives)
take_manifests() {
	local prefix=$1 d
	shift
	attach_all "$@"
	d="$W/mnt"
	mount_ro "$d"
	"$PYTHON" "$MANIFEST" --one-fs "$d" | content_filter > "$prefix.content"
	"$PYTHON" "$MANIFEST" --meta --xattrs "$d" > "$prefix.full"
	cleanup_all
}

# content_filter: what a restore without -S / -m gives (no symlinks or
# special files); never fails, even when nothing is left
content_filter() {
	grep -Ev $'\t(symlink|fifo|socket|chardev|blockdev)\t' || true
}

# restore_to DIR ARGS...: run our restore with ARGS into a new DIR; output
# in DIR.out / DIR.err, exit code in RC
restore_to() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	RC=0
	run_ours restore "$@" "$dir" > "$dir.out" 2> "$dir.err" || RC=$?
	if grep -Eq "$SANITIZER_RE" "$dir.err"; then
		cat "$dir.err" >&2
		return 1
	fi
}

# same_manifest EXPECTED ACTUAL: fail with the first differences
same_manifest() {
	if ! diff -u "$1" "$2" > "$W/diff"; then
		echo "manifests differ ($1 vs $2):" >&2
		head -n 40 "$W/diff" >&2
		return 1
	fi
}

# placeholder_filter: a snapshot shows a nested subvolume as an empty
# directory whose mtime the kernel makes up at lookup time: blank it
placeholder_filter() {
	awk -F'\t' -v OFS='\t' '$1 ~ /^snap1(-ro)?\/nested$/ { $9 = "-" } { print }'
}

no_groups() {
	awk -F'\t' -v OFS='\t' '{ $6 = "-"; print }'
}

# file_logical IMGMNT REL: btrfs logical address of the first extent of a
# file (FIEMAP's physical offset is btrfs's logical address)
file_logical() {
	filefrag -v -b4096 "$1/$2" | awk '$1 == "0:" { gsub(/[.:]/, " ", $0); print $4 * 4096; exit }'
}

# physical COPY LOGICAL FILE...: "FILE OFFSET" of copy COPY of LOGICAL, from
# the chunk items the reference's dump-tree prints (single, DUP and RAID1
# style profiles: stripe COPY-1 holds copy COPY); FILE is the image of the
# stripe's devid, the images given in devid order
physical() {
	local copy=$1 logical=$2 devid off
	shift 2
	read -r devid off < <(run_ref inspect-internal dump-tree -t chunk "$1" 2>/dev/null |
		awk -v L="$logical" -v want=$((copy - 1)) '
		/CHUNK_ITEM/ { s = $0; sub(/.*CHUNK_ITEM /, "", s); sub(/\).*/, "", s); start = s + 0 }
		$1 == "length" { len = $2 + 0 }
		$1 == "stripe" && $3 == "devid" && $2 == want && L >= start && L < start + len {
			print $4, $6 + (L - start); exit
		}')
	[ -n "$devid" ] || return 0
	eval "echo \"\${$devid}\" $off"
}

# scribble DEVICE OFFSET BYTES: overwrite with random bytes
scribble() {
	head -c "$3" /dev/urandom |
		dd of="$1" bs=4096 seek="$(($2 / 4096))" conv=notrunc,fsync status=none
}

# --- command line ----------------------------------------------------------------

@test "restore: usage errors and a missing destination" {
	local img
	copy_image a-default
	img=${IMG[0]}
	run run_ours restore
	[ "$status" = 1 ]
	[[ "$output" == *"not enough arguments"* ]]
	run run_ours restore "$img"
	[ "$status" = 1 ]
	[[ "$output" == *"not enough arguments"* ]]
	run run_ours restore -u 3 "$img" "$W/x"
	[ "$status" = 1 ]
	[[ "$output" == *"super mirror must be 0 to 2"* ]]
	run run_ours restore -r abc "$img" "$W/x"
	[ "$status" = 1 ]
	[[ "$output" == *"invalid number for -r"* ]]
	run run_ours restore --bogus "$img" "$W/x"
	[ "$status" = 1 ]
	run run_ours restore "$img" "$W/does-not-exist"
	[ "$status" = 1 ]
	[[ "$output" == "ERROR: cannot open destination directory"*"No such file or directory"* ]]
	mkdir "$W/d"
	run run_ours restore --path-regex '(' "$img" "$W/d"
	[ "$status" = 1 ]
	[[ "$output" == *"invalid --path-regex"* ]]
	run run_ours restore "$W/nothing.img" "$W/d"
	[ "$status" = 1 ]
	[[ "$output" == "ERROR: "* ]]
	[ -z "$(ls -A "$W/d")" ]
}

@test "restore -l lists the same roots as the reference" {
	local name
	for name in a-default k-quota i-raid1; do
		copy_image "$name"
		# the reference may warn about a device it did not scan
		run_ref restore -l "${IMG[@]}" | grep -v '^warning, device' > "$W/ref.l"
		run_ours restore -l "${IMG[@]}" > "$W/ours.l"
		diff -u "$W/ref.l" "$W/ours.l"
		# a destination after the devices is ignored, as by the reference
		mkdir -p "$W/dest"
		run_ours restore -l "${IMG[@]}" "$W/dest" > "$W/ours.ld" 2> "$W/ours.ld.err"
		diff -u "$W/ref.l" "$W/ours.ld"
		[ "$(cat "$W/ours.ld.err")" = "WARNING: -l lists the tree roots only: $W/dest is ignored" ]
		run_ours restore -l "${IMG[@]}" "$W/not-yet" > "$W/ours.ln" 2> "$W/ours.ln.err"
		diff -u "$W/ref.l" "$W/ours.ln"
		[ "$(cat "$W/ours.ln.err")" = "WARNING: -l lists the tree roots only: $W/not-yet is ignored" ]
		rm -f "${IMG[@]}"
	done
}

# --- kernel-made images -------------------------------------------------------------

@test "every kernel-made image restores to its mounted content manifest" {
	local name failed=0
	for name in $(image_names); do
		copy_image "$name"
		take_manifests "$W/$name" "${IMG[@]}"
		restore_to "$W/out-$name" "${IMG[@]}"
		if [ "$RC" != 0 ]; then
			echo "$name: exit $RC: $(head -n 3 "$W/out-$name.err")" >&2
			failed=1
		fi
		"$PYTHON" "$MANIFEST" "$W/out-$name" > "$W/$name.restored"
		same_manifest "$W/$name.content" "$W/$name.restored" || failed=1
		grep -q ", 0 errors$" "$W/out-$name.out" || failed=1
		diag "$name: $(tail -n 1 "$W/out-$name.out")"
		rm -rf "$W/out-$name" "${IMG[@]}"
	done
	[ "$failed" = 0 ]
}

@test "restore -m -S -x -s: modes, owners, times, xattrs, special files, subvolumes" {
	local name failed=0
	for name in $(image_names); do
		copy_image "$name"
		take_manifests "$W/$name" "${IMG[@]}"
		restore_to "$W/out-$name" -m -S -x -s "${IMG[@]}"
		if [ "$RC" != 0 ]; then
			echo "$name: exit $RC: $(head -n 3 "$W/out-$name.err")" >&2
			failed=1
		fi
		"$PYTHON" "$MANIFEST" --meta --xattrs "$W/out-$name" |
			placeholder_filter > "$W/$name.restored"
		placeholder_filter < "$W/$name.full" > "$W/$name.expected"
		same_manifest "$W/$name.expected" "$W/$name.restored" || failed=1
		rm -rf "$W/out-$name" "${IMG[@]}"
	done
	[ "$failed" = 0 ]
}

@test "fresh image: zstd inline blocks, lzo and zlib, sockets, nodatasum, sparse output" {
	local img="$W/fresh.img" mnt="$W/fmnt" alloc
	truncate -s 512M "$img"
	"$ref_mkfs" -q -f --csum sha256 "$img" >/dev/null
	attach_all "$img"
	mkdir -p "$mnt"
	mount -t btrfs -o compress-force=zstd "${DEVS[0]}" "$mnt"
	track_mount "$mnt"
	"$PYTHON" - "$mnt" <<'EOF'
import os, random, socket, sys
m = sys.argv[1]
rng = random.Random(5)
os.mkdir(m + "/zstd")
for i, n in enumerate((1, 300, 1000, 2047, 3000, 3999)):
    with open(m + "/zstd/inline%d" % i, "wb") as f:
        f.write((b"compressible text %d " % i) * (n // 20 + 1))
    os.truncate(m + "/zstd/inline%d" % i, n)
with open(m + "/zstd/big", "wb") as f:
    for i in range(3000):
        f.write(b"line %d of a big compressible file\n" % i)
s = socket.socket(socket.AF_UNIX)
s.bind(m + "/zstd/sock")
s.close()
os.link(m + "/zstd/big", m + "/big-link")
EOF
	mount -o remount,compress=lzo "$mnt"
	"$PYTHON" - "$mnt" <<'EOF'
import os, sys
m = sys.argv[1]
os.mkdir(m + "/lzo")
with open(m + "/lzo/text", "wb") as f:
    for i in range(40000):
        f.write(b"lzo %d\n" % i)
with open(m + "/lzo/small", "wb") as f:
    f.write(b"x" * 1500)
fd = os.open(m + "/lzo/sparse", os.O_CREAT | os.O_WRONLY, 0o600)
os.pwrite(fd, b"tail" * 1000, 50 << 20)
os.close(fd)
EOF
	mount -o remount,compress=zlib "$mnt"
	mkdir "$mnt/zlib" "$mnt/nocow"
	seq 1 100000 > "$mnt/zlib/numbers"
	chattr +C "$mnt/nocow" 2>/dev/null || true
	head -c 300000 /dev/urandom > "$mnt/nocow/file"
	sync
	"$PYTHON" "$MANIFEST" --meta --xattrs "$mnt" > "$W/fresh.full"
	cleanup_all
	restore_to "$W/out" -m -S -x "$img"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" --meta --xattrs "$W/out" > "$W/fresh.restored"
	same_manifest "$W/fresh.full" "$W/fresh.restored"
	grep -q $'^zstd/sock\tsocket\t' "$W/fresh.restored"
	grep -q $'^zstd/big\tfile\t.*\tbig-link\t' "$W/fresh.restored"
	# a 50 MiB file with 4000 bytes of data stays sparse
	alloc=$(du -k "$W/out/lzo/sparse" | cut -f1)
	[ "$alloc" -lt 1024 ]
}

# --- options ------------------------------------------------------------------------

@test "restore -D lists every file and creates nothing" {
	copy_image a-default
	take_manifests "$W/a" "${IMG[@]}"
	restore_to "$W/out" -D "${IMG[@]}"
	[ "$RC" = 0 ]
	[ -z "$(ls -A "$W/out")" ]
	awk -F'\t' '{ print $1 }' "$W/a.content" | sort > "$W/expected"
	# paths are printed raw; compare the ASCII-named ones
	sed -n "s|^$W/out/||p" "$W/out.out" | LC_ALL=C grep -v '[^!-~]' | sort > "$W/listed"
	LC_ALL=C grep -v '\\x' "$W/expected" > "$W/expected.ascii"
	diff -u "$W/expected.ascii" "$W/listed"
	grep -q "^Would restore: " "$W/out.out"
}

@test "restore --include, --exclude and --path-regex select paths" {
	copy_image a-default
	take_manifests "$W/a" "${IMG[@]}"
	restore_to "$W/inc" --include /extents --include links/sub/ "${IMG[@]}"
	[ "$RC" = 0 ]
	# only one name of the hard-linked file is restored: no link group
	"$PYTHON" "$MANIFEST" "$W/inc" | no_groups > "$W/inc.man"
	grep -E $'^(extents|links|links/sub)(/[^\t]*)?\t' "$W/a.content" |
		grep -Ev $'^links/[^s\t][^\t]*\t|^links/sym' | no_groups > "$W/inc.expected"
	same_manifest "$W/inc.expected" "$W/inc.man"

	[ ! -s "$W/inc.err" ]

	# an --include that restores nothing is named
	restore_to "$W/none" --include /no/such/path --include subvol/extents --include /extents "${IMG[@]}"
	[ "$RC" = 0 ]
	[ "$(cat "$W/none.err")" = "WARNING: --include /no/such/path matches nothing
WARNING: --include /subvol/extents is in a subvolume, which is not restored without -s" ]
	[ -d "$W/none/extents" ] && [ ! -e "$W/none/subvol" ]
	restore_to "$W/none-s" -s --include subvol/extents "${IMG[@]}"
	[ "$RC" = 0 ]
	[ ! -s "$W/none-s.err" ]
	[ -d "$W/none-s/subvol/extents" ]

	restore_to "$W/exc" --exclude bigdir --exclude /names "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/exc" > "$W/exc.man"
	grep -Ev $'^(bigdir|names)(/[^\t]*)?\t' "$W/a.content" > "$W/exc.expected"
	same_manifest "$W/exc.expected" "$W/exc.man"

	restore_to "$W/re" -c --path-regex '^/(|SPARSE(|/.*))$' "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/re" > "$W/re.man"
	grep -E $'^sparse(/[^\t]*)?\t' "$W/a.content" > "$W/re.expected"
	same_manifest "$W/re.expected" "$W/re.man"
}

@test "existing files are kept without -o and replaced with -o" {
	local n
	copy_image b-node4k
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/first"
	echo changed > "$W/out/extents/big"
	RC=0
	run_ours restore "${IMG[@]}" "$W/out" > "$W/again.out" 2> "$W/again.err" || RC=$?
	[ "$RC" = 0 ]
	# one summary line, not one line per file
	n=$(grep -c $'\tfile\t' "$W/first")
	[ "$(cat "$W/again.err")" = "WARNING: $n files already exist in $W/out and were skipped; use -o to overwrite" ]
	grep -q "^Restored: 0 files, " "$W/again.out"
	[ "$(cat "$W/out/extents/big")" = changed ]
	# one file: singular words
	RC=0
	run_ours restore --include /extents/big "${IMG[@]}" "$W/out" > "$W/one.out" 2> "$W/one.err" || RC=$?
	[ "$RC" = 0 ]
	[ "$(cat "$W/one.err")" = "WARNING: 1 file already exists in $W/out and was skipped; use -o to overwrite" ]
	grep -qx "Restored: 0 files, 1 directory, 0 symlinks, 0 special files, 0 hard links, 0 bytes (0.00B), 0 errors" "$W/one.out"
	# -v names each of them
	RC=0
	run_ours restore -v "${IMG[@]}" "$W/out" > "$W/v.out" 2> "$W/v.err" || RC=$?
	[ "$RC" = 0 ]
	grep -qx "WARNING: skipping existing $W/out/extents/big (use -o to overwrite)" "$W/v.err"
	[ "$(grep -c "^WARNING: skipping existing " "$W/v.err")" = "$n" ]
	[ "$(cat "$W/out/extents/big")" = changed ]
	RC=0
	run_ours restore -o "${IMG[@]}" "$W/out" > "$W/o.out" 2> "$W/o.err" || RC=$?
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/second"
	same_manifest "$W/first" "$W/second"
}

@test "a mounted source is refused unless --force is given" {
	copy_image c-node64k
	attach_all "${IMG[0]}"
	mount_ro "$W/mnt"
	mkdir -p "$W/out"
	run run_ours restore "${IMG[0]}" "$W/out"
	[ "$status" = 1 ]
	[ "$output" = "ERROR: ${IMG[0]} is mounted on $W/mnt; unmount it first (or use --force)" ]
	run run_ours restore "${DEVS[0]}" "$W/out"
	[ "$status" = 1 ]
	[ "$output" = "ERROR: ${DEVS[0]} is mounted on $W/mnt; unmount it first (or use --force)" ]
	[ -z "$(ls -A "$W/out")" ]
	run run_ours restore --force "${IMG[0]}" "$W/out"
	[ "$status" = 0 ]
	[ -f "$W/out/extents/big" ]
}

@test "alternate starting points: -r, -f, -t, -u 2 and -d" {
	local sub_bytenr tree_root
	copy_image a-default
	attach_all "${IMG[@]}"
	mount_ro "$W/mnt"
	"$PYTHON" "$MANIFEST" --one-fs "$W/mnt" | content_filter > "$W/top"
	"$PYTHON" "$MANIFEST" --one-fs "$W/mnt/subvol" | content_filter > "$W/subvol"
	cleanup_all
	[ -s "$W/subvol" ]

	restore_to "$W/r" -r 256 "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/r" > "$W/r.man"
	same_manifest "$W/subvol" "$W/r.man"

	sub_bytenr=$(run_ours restore -l "${IMG[@]}" | awk '$3 == "(256" { print $6 }')
	[ -n "$sub_bytenr" ]
	restore_to "$W/f" -f "$sub_bytenr" "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/f" > "$W/f.man"
	same_manifest "$W/subvol" "$W/f.man"

	tree_root=$(ref_super_field "${IMG[0]}" root)
	restore_to "$W/t" -t "$tree_root" "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/t" > "$W/t.man"
	same_manifest "$W/top" "$W/t.man"

	restore_to "$W/d" -d "${IMG[@]}"
	[ "$RC" = 0 ]
	grep -q "^Using objectid 256 for first dir$" "$W/d.out"
	"$PYTHON" "$MANIFEST" "$W/d" > "$W/d.man"
	same_manifest "$W/top" "$W/d.man"

	# superblock copy 2 lies past the end of a 512 MiB image
	restore_to "$W/u2" -u 2 "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "no valid btrfs superblock" "$W/u2.err"
}

# --- damage -------------------------------------------------------------------------

@test "raid1 with a bad copy of file data restores exactly from the other copy" {
	local a b pa pb
	copy_image i-raid1
	attach_all "${IMG[@]}"
	mount_ro "$W/mnt"
	"$PYTHON" "$MANIFEST" --one-fs "$W/mnt" | content_filter > "$W/src"
	a=$(file_logical "$W/mnt" extents/onepiece)
	b=$(file_logical "$W/mnt" extents/big)
	cleanup_all
	[ -n "$a" ] && [ -n "$b" ]
	# copy 1 of one file and copy 2 of another: whichever copy is read
	# first, one of them has to be repaired from the other
	pa=$(physical 1 "$a" "${IMG[@]}")
	pb=$(physical 2 "$b" "${IMG[@]}")
	[ -n "$pa" ] && [ -n "$pb" ]
	[ "${pa% *}" != "${pb% *}" ]
	scribble $pa 8192
	scribble $pb 4096
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	same_manifest "$W/src" "$W/restored"
	grep -q "^Data sectors read from another copy: " "$W/out.out"
}

@test "raid1 with one device missing (--noscan) restores everything" {
	copy_image i-raid1
	take_manifests "$W/r" "${IMG[@]}"
	restore_to "$W/out" --noscan "${IMG[0]}"
	[ "$RC" = 0 ]
	grep -q "WARNING: device 2 is missing" "$W/out.err"
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	same_manifest "$W/r.content" "$W/restored"
}

@test "data failing its checksum is reported with file and offset; -i writes it" {
	local a p
	copy_image a-default
	attach_all "${IMG[@]}"
	mount_ro "$W/mnt"
	"$PYTHON" "$MANIFEST" --one-fs "$W/mnt" | content_filter > "$W/src"
	a=$(file_logical "$W/mnt" extents/onepiece)
	cleanup_all
	p=$(physical 1 "$((a + 8192))" "${IMG[@]}")
	[ -n "$p" ]
	scribble $p 4096
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "ERROR: $W/out/extents/onepiece: data at file offset 8192 (disk bytenr $((a + 8192)), 1 sector) fails its checksum on every copy" "$W/out.err"
	[ ! -e "$W/out/extents/onepiece" ]
	grep -q ", 1 error$" "$W/out.out"
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	grep -v $'^extents/onepiece\t' "$W/src" > "$W/expected"
	same_manifest "$W/expected" "$W/restored"

	restore_to "$W/out-i" -i "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "written as read" "$W/out-i.err"
	[ "$(stat -c %s "$W/out-i/extents/onepiece")" = 307200 ]
	# the damaged sector was written, so the file differs from the source
	if grep -q "^extents/onepiece	file	307200	$(sha256sum < "$W/out-i/extents/onepiece" | cut -d' ' -f1)	" "$W/src"; then
		false
	fi
	dd if="$W/out-i/extents/onepiece" bs=4096 skip=2 count=1 status=none | cmp - <(dd if="${IMG[0]}" bs=4096 skip=$((${p#* } / 4096)) count=1 status=none)
}

@test "data beyond the end of a truncated device is named as such; -i counts what it wrote" {
	local a p n_all n_err
	copy_image a-default
	attach_all "${IMG[@]}"
	mount_ro "$W/mnt"
	a=$(file_logical "$W/mnt" extents/onepiece)
	cleanup_all
	p=$(physical 1 "$a" "${IMG[@]}")
	[ -n "$p" ]
	restore_to "$W/all" "${IMG[@]}"
	[ "$RC" = 0 ]
	n_all=$(sed -n 's/^Restored: \([0-9]*\) files, .*/\1/p' "$W/all.out")
	[ -n "$n_all" ]
	# the device ends where the file's data begins
	truncate -s "${p#* }" "${IMG[0]}"
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -qx "ERROR: $W/out/extents/onepiece: data at file offset 0 (disk bytenr $a, 75 sectors) lies beyond the end of device 1" "$W/out.err"
	if grep -q "checksum" "$W/out.err"; then false; fi
	[ ! -e "$W/out/extents/onepiece" ]
	restore_to "$W/out-i" -i "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -qx "ERROR: $W/out-i/extents/onepiece: data at file offset 0 (disk bytenr $a, 75 sectors) lies beyond the end of device 1; written as zeros" "$W/out-i.err"
	# every file is written, and each damaged one is counted once
	n_err=$(sed -n "s|^ERROR: $W/out-i/\(.*\): data at .*|\1|p" "$W/out-i.err" | sort -u | wc -l)
	[ "$n_err" -gt 0 ]
	grep -qx "Restored: $n_all files, .*, $n_err errors\?" "$W/out-i.out"
	grep -qx "Files written with errors (-i): $n_err" "$W/out-i.out"
	[ "$(stat -c %s "$W/out-i/extents/onepiece")" = 307200 ]
	cmp "$W/out-i/extents/onepiece" <(head -c 307200 /dev/zero)
}

@test "data on a missing device is named as such" {
	local d1="$W/d1.img" d2="$W/d2.img"
	truncate -s 256M "$d1" "$d2"
	"$ref_mkfs" -q -f -d raid0 -m raid1 "$d1" "$d2" >/dev/null
	attach_all "$d1" "$d2"
	mkdir -p "$W/mnt"
	mount -t btrfs -o "device=${DEVS[1]}" "${DEVS[0]}" "$W/mnt"
	track_mount "$W/mnt"
	head -c 1048576 /dev/urandom > "$W/mnt/f"
	cleanup_all
	restore_to "$W/out" --noscan "$d1"
	[ "$RC" = 1 ]
	grep -Eqx "ERROR: $W/out/f: data at file offset (0|65536) \(disk bytenr [0-9]+, 128 sectors\) is on missing device 2" "$W/out.err"
	restore_to "$W/out-i" -i --noscan "$d1"
	[ "$RC" = 1 ]
	grep -Eqx "ERROR: $W/out-i/f: data at file offset (0|65536) \(disk bytenr [0-9]+, 128 sectors\) is on missing device 2; written as zeros" "$W/out-i.err"
	grep -qx "Restored: 1 file, 0 directories, 0 symlinks, 0 special files, 0 hard links, 1048576 bytes (1.00MiB), 1 error" "$W/out-i.out"
	grep -qx "Files written with errors (-i): 1" "$W/out-i.out"
}

@test "a corrupted compressed extent is reported, the rest restored" {
	local a p
	copy_image j-compress
	attach_all "${IMG[@]}"
	mount_ro "$W/mnt"
	"$PYTHON" "$MANIFEST" --one-fs "$W/mnt" > "$W/src"
	a=$(file_logical "$W/mnt" compress-zstd/text-1m)
	cleanup_all
	p=$(physical 1 "$a" "${IMG[@]}")
	[ -n "$p" ]
	scribble $p 4096
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "ERROR: $W/out/compress-zstd/text-1m: data at file offset 0 (disk bytenr $a, 1 sector) fails its checksum" "$W/out.err"
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	grep -v $'^compress-zstd/text-1m\t' "$W/src" > "$W/expected"
	same_manifest "$W/expected" "$W/restored"
	# with -i the garbage is fed to zstd, which must refuse it cleanly
	restore_to "$W/out-i" -i "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "cannot decompress the zstd extent at file offset 0 (disk bytenr $a)" "$W/out-i.err"
}

@test "a bad primary superblock is refused; -u 1 restores everything" {
	copy_image a-default
	take_manifests "$W/a" "${IMG[@]}"
	dd if=/dev/zero of="${IMG[0]}" bs=4096 seek=16 count=1 conv=notrunc status=none
	restore_to "$W/out0" "${IMG[@]}"
	[ "$RC" = 1 ]
	# the mirrors are valid: they are suggested
	[ "$(cat "$W/out0.err")" = "ERROR: ${IMG[0]}: no valid btrfs superblock: bad magic (try -u 1 or -u 2)" ]
	restore_to "$W/out1" -u 1 "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/out1" > "$W/restored"
	same_manifest "$W/a.content" "$W/restored"
}

@test "a destroyed fs tree leaf is named; everything else is restored exactly" {
	local leaf nodesize copy p n_src n_out
	copy_image m-many
	take_manifests "$W/m" "${IMG[@]}"
	nodesize=$(ref_super_field "${IMG[0]}" nodesize)
	# a leaf from the middle of the fs tree, among those holding inode
	# items (a leaf of only DIR_ITEMs is never read: restore walks the
	# DIR_INDEX keys)
	run_ref inspect-internal dump-tree -t 5 "${IMG[0]}" |
		awk '$1 == "leaf" { leaf = $2 } $1 == "node" { leaf = "" }
		     /item [0-9]+ key \([0-9]+ INODE_ITEM 0\) / && leaf != "" && leaf != last {
			print leaf; last = leaf
		     }' > "$W/leaves"
	leaf=$(sed -n "$(( $(wc -l < "$W/leaves") / 2 ))p" "$W/leaves")
	[ -n "$leaf" ]
	for copy in 1 2; do
		p=$(physical $copy "$leaf" "${IMG[@]}")
		[ -z "$p" ] || dd if=/dev/zero of="${p% *}" bs=4096 seek=$((${p#* } / 4096)) \
			count=$((nodesize / 4096)) conv=notrunc status=none
	done
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "ERROR: cannot read tree block $leaf (.*): skipping the items of inodes [0-9]* to [0-9]*" "$W/out.err"
	grep -q "^Unreadable tree blocks skipped: 1$" "$W/out.out"
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	# nothing restored differs from the source; only some files are missing
	comm -13 "$W/m.content" "$W/restored" > "$W/extra"
	[ ! -s "$W/extra" ] || { head "$W/extra" >&2; false; }
	n_src=$(wc -l < "$W/m.content")
	n_out=$(wc -l < "$W/restored")
	diag "restored $n_out of $n_src entries"
	[ "$n_out" -lt "$n_src" ]
	[ "$n_out" -gt $((n_src * 9 / 10)) ]
}

@test "destroyed extent and free space trees do not stop a restore" {
	local tree bytenr copy p nodesize
	copy_image b-node4k
	take_manifests "$W/b" "${IMG[@]}"
	nodesize=$(ref_super_field "${IMG[0]}" nodesize)
	for tree in EXTENT_TREE FREE_SPACE_TREE; do
		bytenr=$(run_ours restore -l "${IMG[@]}" |
			awk -v t="($tree" '$3 == t { print $6 }')
		[ -n "$bytenr" ]
		for copy in 1 2; do
			p=$(physical $copy "$bytenr" "${IMG[@]}")
			[ -z "$p" ] || dd if=/dev/zero of="${p% *}" bs=4096 \
				seek=$((${p#* } / 4096)) count=$((nodesize / 4096)) \
				conv=notrunc status=none
		done
	done
	# the reference's dump-tree no longer reads the extent tree
	if run_ref inspect-internal dump-tree -t extent "${IMG[0]}" 2>/dev/null |
		grep -q "EXTENT_ITEM"; then
		false
	fi
	restore_to "$W/out" "${IMG[@]}"
	[ "$RC" = 0 ]
	"$PYTHON" "$MANIFEST" "$W/out" > "$W/restored"
	same_manifest "$W/b.content" "$W/restored"
}

# --- peer corpus ---------------------------------------------------------------------

@test "corpus images: restore ends cleanly, no crash or sanitizer report" {
	local dir archive img status n=0 bad=0
	dir=$(corpus_dir)
	[ -f "$dir/manifest.tsv" ] || skip "peer corpus not found at $dir (set BTRFS_CORPUS)"
	for archive in "$dir"/fsck/*.raw.tar.xz "$dir"/fuzz/*.raw.tar.xz; do
		[ -f "$archive" ] || continue
		rm -rf "$W/u" "$W/o"
		mkdir -p "$W/u" "$W/o"
		tar -xSJf "$archive" -C "$W/u" || { echo "cannot unpack $archive" >&2; bad=1; continue; }
		img=$(find "$W/u" -type f | head -n 1)
		RC=0
		TZ=UTC LC_ALL=C "$PYTHON" "$HELPERS_DIR/run-limited.py" \
			--timeout "${RESTORE_TIMEOUT:-60}" --status "$W/status" -- \
			"$BTRFS_BIN" restore -i -m -S -x -s "$img" "$W/o" \
			> "$W/out" 2> "$W/err" || RC=$?
		status=$(cat "$W/status" 2>/dev/null || echo unknown)
		n=$((n + 1))
		case $status in
		exit*) ;;
		*) echo "$(basename "$archive"): $status" >&2; bad=1 ;;
		esac
		if grep -Eq "$SANITIZER_RE" "$W/err"; then
			echo "$(basename "$archive"): sanitizer report" >&2
			grep -E -m 3 -A 3 "$SANITIZER_RE" "$W/err" >&2
			bad=1
		fi
		if [ "$RC" != 0 ] && ! grep -q '^ERROR: ' "$W/err"; then
			echo "$(basename "$archive"): exit $RC without an ERROR line" >&2
			bad=1
		fi
	done
	[ "$n" -gt 0 ] || skip "no images in $dir"
	diag "$n corpus images restored"
	[ "$bad" = 0 ]
}

# --- hostile names ---------------------------------------------------------------------

# patch_names IMG NODESIZE OLD NEW: replace the bytes OLD by NEW (same
# length) in every tree block of IMG that holds them and fix the blocks'
# crc32c, as a damaged or forged filesystem could hold them
patch_names() {
	"$PYTHON" - "$@" <<'PYEOF'
import mmap, struct, sys

img, nodesize, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode()
assert len(old) == len(new)
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)

def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

patched = 0
with open(img, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    pos = m.find(old)
    while pos >= 0:
        start = pos - pos % nodesize
        block = m[start:start + nodesize]
        if struct.unpack_from("<I", block)[0] == crc32c(block[32:]):
            block = block.replace(old, new)
            m[start:start + nodesize] = struct.pack("<I", crc32c(block[32:])) + block[4:]
            patched += 1
        pos = m.find(old, pos + 1)
    m.flush()
print(patched)
PYEOF
}

@test "names with '/' from a forged tree are refused, nothing lands outside" {
	local nodesize n
	copy_image a-default
	take_manifests "$W/a" "${IMG[@]}"
	nodesize=$(ref_super_field "${IMG[0]}" nodesize)
	[ "$(ref_super_field "${IMG[0]}" csum_type)" = "0" ] || skip "needs a crc32c image"
	n=$(patch_names "${IMG[0]}" "$nodesize" "space in name" "sp/../../name")
	[ "$n" -gt 0 ]
	mkdir -p "$W/deep/er"
	restore_to "$W/deep/er/out" -m -S -x "${IMG[@]}"
	[ "$RC" = 1 ]
	grep -q "ERROR: refusing entry [0-9]* of directory $W/deep/er/out/names: it contains '/'" "$W/deep/er/out.err"
	[ ! -e "$W/deep/name" ] && [ ! -e "$W/deep/er/name" ] && [ ! -e "$W/deep/er/out/name" ]
	"$PYTHON" "$MANIFEST" "$W/deep/er/out" | content_filter |
		awk -F'\t' -v OFS='\t' '{ NF = 6; print }' > "$W/restored"
	grep -v $'^names/space\\\\x20in\\\\x20name\t' "$W/a.content" > "$W/expected"
	same_manifest "$W/expected" "$W/restored"
}
