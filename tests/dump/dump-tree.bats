#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs inspect-internal dump-tree`: our output against the reference's,
# byte for byte (the version banner line aside), and equal exit codes, on
# every kernel-made image and for every option.  Multi-device images are
# given all their devices.  Where the reference prints an ERROR and still
# exits 0 (unreadable -b block, absent log tree) we exit 1 (see oracle.bash).

load ../helpers/common
load ../helpers/oracle

export ORACLE_ERROR_FAILS=1

setup_file() {
	images_setup_file
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	oracle_begin
}

# tree_each_image LABEL OPTS...: one comparison per image
tree_each_image() {
	local label=$1 name files
	shift
	while read -r name files; do
		# shellcheck disable=SC2086
		oracle_case "$name: dump-tree $label" inspect-internal dump-tree "$@" $files
	done < "$IMAGE_MANIFEST"
}

# ref_root_bytenr FILES WHAT: bytenr of a tree root from the reference's
# `dump-tree -r`; WHAT is "root tree", "chunk tree" or a key such as
# "(FS_TREE ROOT_ITEM 0)"
ref_root_bytenr() {
	local files=$1 what=$2
	# shellcheck disable=SC2086
	run_ref inspect-internal dump-tree -r $files 2>/dev/null |
		awk -v w="$what" 'index($0, w) { print $(NF - 2); exit }' | tr -d ':'
}

# ref_first_block FILES TREE KIND: first "leaf" or "node" of TREE
ref_first_block() {
	# shellcheck disable=SC2086
	run_ref inspect-internal dump-tree -t "$2" $1 2>/dev/null |
		awk -v k="$3" '$1 == k { print $2; exit }'
}

@test "dump-tree: everything (no options)" {
	tree_each_image ""
	oracle_end
}

@test "dump-tree -t root, chunk, dev, extent" {
	local t
	for t in root chunk dev extent; do
		tree_each_image "-t $t" -t "$t"
	done
	tree_each_image "-t 1" -t 1
	tree_each_image "-t ROOT_TREE" -t ROOT_TREE
	tree_each_image "--tree 3" --tree 3
	oracle_end
}

@test "dump-tree -t 5, -t fs and subvolume ids" {
	local t
	for t in 5 fs FS_TREE 256 257 258; do
		tree_each_image "-t $t" -t "$t"
	done
	oracle_end
}

@test "dump-tree -t csum" {
	tree_each_image "-t csum" -t csum
	tree_each_image "-t 7" -t 7
	oracle_end
}

@test "dump-tree -t free-space, uuid, quota, log and reloc trees" {
	local t
	for t in free-space free_space 10 uuid quota 8 TREE_LOG data_reloc DATA_RELOC_TREE; do
		tree_each_image "-t $t" -t "$t"
	done
	oracle_end
}

@test "dump-tree -t with unknown names and ids" {
	local t a
	a=$(image_files a-default)
	for t in nosuchtree 0 -1 99999 "" 18446744073709551615 1x; do
		oracle_case "-t '$t'" inspect-internal dump-tree -t "$t" "$a"
	done
	oracle_end
}

@test "dump-tree -b (root tree, chunk tree, fs tree node and leaf)" {
	local name files root chunk fsroot leaf
	while read -r name files; do
		root=$(ref_root_bytenr "$files" "root tree:")
		chunk=$(ref_root_bytenr "$files" "chunk tree:")
		fsroot=$(ref_root_bytenr "$files" "(FS_TREE ROOT_ITEM 0)")
		leaf=$(ref_first_block "$files" fs leaf)
		[ -n "$root" ] && [ -n "$chunk" ] && [ -n "$fsroot" ] && [ -n "$leaf" ] || {
			echo "$name: could not read tree roots from the reference"
			return 1
		}
		# shellcheck disable=SC2086
		{
			oracle_case "$name: -b root($root)" inspect-internal dump-tree -b "$root" $files
			oracle_case "$name: -b chunk($chunk)" inspect-internal dump-tree -b "$chunk" $files
			oracle_case "$name: -b fs($fsroot)" inspect-internal dump-tree -b "$fsroot" $files
			oracle_case "$name: -b leaf($leaf)" inspect-internal dump-tree -b "$leaf" $files
			oracle_case "$name: -b root -b leaf" inspect-internal dump-tree \
				-b "$root" -b "$leaf" $files
			oracle_case "$name: --block fs --hide-names" inspect-internal dump-tree \
				--block "$fsroot" --hide-names $files
		}
	done < "$IMAGE_MANIFEST"
	oracle_end
}

@test "dump-tree -b X --follow (bfs and dfs)" {
	local name files root fsroot
	while read -r name files; do
		root=$(ref_root_bytenr "$files" "root tree:")
		fsroot=$(ref_root_bytenr "$files" "(FS_TREE ROOT_ITEM 0)")
		[ -n "$root" ] && [ -n "$fsroot" ] || {
			echo "$name: could not read tree roots from the reference"
			return 1
		}
		# shellcheck disable=SC2086
		{
			oracle_case "$name: -b root --follow" inspect-internal dump-tree \
				-b "$root" --follow $files
			oracle_case "$name: -b fs --follow" inspect-internal dump-tree \
				-b "$fsroot" --follow $files
			oracle_case "$name: -b fs --follow --dfs" inspect-internal dump-tree \
				-b "$fsroot" --follow --dfs $files
			oracle_case "$name: -b fs --follow --bfs" inspect-internal dump-tree \
				-b "$fsroot" --follow --bfs $files
		}
	done < "$IMAGE_MANIFEST"
	oracle_end
}

@test "dump-tree -b with bad block numbers" {
	local a b
	a=$(image_files a-default)
	for b in 12345 0 4096 1099511627776 18446744073709547520 notanumber; do
		oracle_case "-b $b" inspect-internal dump-tree -b "$b" "$a"
	done
	oracle_end
}

@test "dump-tree --bfs and --dfs" {
	tree_each_image "--bfs" --bfs
	tree_each_image "--dfs" --dfs
	tree_each_image "-t fs --dfs" -t fs --dfs
	tree_each_image "-t extent --dfs" -t extent --dfs
	oracle_end
}

@test "dump-tree --hide-names" {
	tree_each_image "--hide-names" --hide-names
	tree_each_image "-t fs --dfs --hide-names" -t fs --dfs --hide-names
	oracle_end
}

@test "dump-tree -e (--extents)" {
	tree_each_image "-e" -e
	tree_each_image "--extents --csum-headers" --extents --csum-headers
	oracle_end
}

@test "dump-tree -d (--device)" {
	tree_each_image "-d" -d
	tree_each_image "--device" --device
	oracle_end
}

@test "dump-tree -r (--roots) and -R (--backups)" {
	tree_each_image "-r" -r
	tree_each_image "-R" -R
	tree_each_image "--roots --backups" --roots --backups
	oracle_end
}

@test "dump-tree -u (--uuid)" {
	tree_each_image "-u" -u
	oracle_end
}

@test "dump-tree --csum-headers and --csum-items" {
	tree_each_image "--csum-headers" --csum-headers
	tree_each_image "--csum-items" --csum-items
	tree_each_image "-t csum --csum-items" -t csum --csum-items
	tree_each_image "--csum-headers --csum-items" --csum-headers --csum-items
	oracle_end
}

@test "dump-tree on one device of a multi-device filesystem" {
	local name files first multi=0
	while read -r name files; do
		first=${files%% *}
		[ "$first" != "$files" ] || continue
		multi=1
		oracle_case "$name: first device only" inspect-internal dump-tree "$first"
		oracle_case "$name: first device --noscan" inspect-internal dump-tree --noscan "$first"
		# shellcheck disable=SC2086
		oracle_case "$name: all devices --noscan" inspect-internal dump-tree --noscan $files
	done < "$IMAGE_MANIFEST"
	[ "$multi" = 1 ] || skip "no multi-device image in the manifest"
	oracle_end
}
