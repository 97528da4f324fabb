/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the unit test programs share: TAP results, shell commands, the
 * reference tools and loop devices.  Results are numbered in the order
 * they are printed; each program prints its plan ("1..N") itself, before
 * or after, from tap_count.
 */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#define REF_MKFS "/usr/sbin/mkfs.btrfs"
#define REF_BTRFS "/usr/bin/btrfs"

#define UNIT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Results printed so far, and how many of them failed. */
extern int tap_count;
extern int tap_failed;

/* When set, printed as "# context: ..." under every failed result. */
extern char fail_ctx[160];

/* The first failure bad() recorded since the caller last cleared it. */
extern char first_err[512];

/* One result: "ok N - ..." or "not ok N - ...". */
void ok(int cond, const char *fmt, ...) UNIT_PRINTF(2, 3);

/* One skipped result: "ok N - # SKIP ...". */
void skip(const char *fmt, ...) UNIT_PRINTF(1, 2);

/* Records the message in first_err unless one is there already; -1. */
int bad(const char *fmt, ...) UNIT_PRINTF(1, 2);

/* Pseudo-random numbers (xorshift64*) from rng_state, which must not be 0. */
extern uint64_t rng_state;
uint64_t rnd(void);
uint32_t rnd_below(uint32_t n);

/*
 * Runs the command with /bin/sh: its exit status, or -1 when it did not
 * exit normally or is too long.
 */
int run_cmd(const char *fmt, ...) UNIT_PRINTF(1, 2);

/* The first @max lines of a file as TAP comments. */
void show_file(const char *path, int max);

/* Are the reference mkfs.btrfs and btrfs installed? */
bool have_reference(void);

#define NEED_REF_MKFS	(1U << 0)
#define NEED_REF_BTRFS	(1U << 1)

/*
 * Can this process loop-mount btrfs (root, the kernel's btrfs, a loop
 * device) with the reference tools in @needs?  NULL, or why not.
 */
const char *kernel_unavailable(unsigned int needs);

/*
 * Loop devices for the space-separated image files @files, in order, one
 * a line in @dir/loops.  0, or non-zero with what was attached listed.
 */
int loop_attach(const char *dir, const char *files);

/*
 * Are the loop devices listed in @dir/loops still attached to the
 * space-separated files @files, in order?  (Other programs on the machine
 * may detach or reuse them.)
 */
bool loops_intact(const char *dir, const char *files);

/*
 * Detaches the loop devices listed in @dir/loops, after making the kernel
 * forget them as btrfs devices.
 */
void loop_detach(const char *dir);

/*
 * Mounts the filesystem on the loop devices of @dir/loops at @mnt (made if
 * needed), all devices named, three tries; the kernel's message goes to
 * @dir/mount.log.  The mount's exit status.
 */
int loop_mount(const char *dir, const char *mnt);

/* Unmounts @mnt, lazily when that fails; the first umount's status. */
int unmount(const char *mnt);

/*
 * The reference btrfs check of the space-separated image files @files
 * (several: through loop devices, found by a device scan; again, up to
 * three times, when a loop device went away meanwhile), output in
 * @dir/check.log, no result printed.  The check's exit status.
 */
int ref_check_run(const char *dir, const char *files);

/*
 * The reference btrfs check of the space-separated image files @files
 * (several: through loop devices, found by a device scan), output in
 * @dir/check.log: one result "<description> (exit N)", the log printed
 * when it fails.  The check's exit status.
 */
int ref_check_files(const char *dir, const char *files, const char *fmt, ...)
	UNIT_PRINTF(3, 4);

#endif
