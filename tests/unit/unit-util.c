// SPDX-License-Identifier: GPL-2.0
/*
 * What the unit test programs share; see unit-util.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit-util.h"

int tap_count;
int tap_failed;
char fail_ctx[160];
char first_err[512];
uint64_t rng_state = 1;

void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond && fail_ctx[0])
		printf("# context: %s\n", fail_ctx);
	fflush(stdout);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %d - # SKIP ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int bad(const char *fmt, ...)
{
	va_list ap;

	if (!first_err[0]) {
		va_start(ap, fmt);
		vsnprintf(first_err, sizeof(first_err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

int run_cmd(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int len, st;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(cmd))
		return -1;
	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

void show_file(const char *path, int max)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && n < max && fgets(line, sizeof(line), f)) {
		printf("# %s", line);
		n++;
	}
	if (f)
		fclose(f);
}

bool have_reference(void)
{
	return access(REF_MKFS, X_OK) == 0 && access(REF_BTRFS, X_OK) == 0;
}

const char *kernel_unavailable(unsigned int needs)
{
	if (geteuid() != 0)
		return "kernel mount needs root";
	if ((needs & NEED_REF_MKFS) && access(REF_MKFS, X_OK))
		return "no reference " REF_MKFS;
	if ((needs & NEED_REF_BTRFS) && access(REF_BTRFS, X_OK))
		return "no reference " REF_BTRFS;
	if (run_cmd("grep -qw btrfs /proc/filesystems || modprobe btrfs "
		    ">/dev/null 2>&1") != 0)
		return "the kernel has no btrfs";
	if (run_cmd("losetup -f >/dev/null 2>&1") != 0)
		return "no loop device";
	return NULL;
}

int loop_attach(const char *dir, const char *files)
{
	return run_cmd(": >'%s/loops' && for f in %s; do losetup -f --show "
		       "$f >>'%s/loops' || exit 1; done", dir, files, dir);
}

void loop_detach(const char *dir)
{
	/*
	 * The kernel keeps every scanned btrfs device in its list until told
	 * to forget it; an entry left for a loop device that is gone refuses
	 * (EEXIST) a later device of the same fsid and devid with a lower
	 * generation, which is what copies of one image are.
	 */
	run_cmd("for l in $(cat '%s/loops' 2>/dev/null); do "
		"[ -x " REF_BTRFS " ] && " REF_BTRFS " device scan --forget $l "
		">/dev/null 2>&1; losetup -d $l; done", dir);
}

int loop_mount(const char *dir, const char *mnt)
{
	return run_cmd("mkdir -p '%s' && for try in 1 2 3; do mount -o "
		       "\"$(sed 's/^/device=/' '%s/loops' | paste -sd,)\" "
		       "$(head -n1 '%s/loops') '%s' 2>'%s/mount.log' && "
		       "exit 0; sleep 1; done; cat '%s/mount.log' >&2; exit 1",
		       mnt, dir, dir, mnt, dir, dir);
}

int unmount(const char *mnt)
{
	int rc = run_cmd("umount '%s'", mnt);

	if (rc)
		run_cmd("umount -l '%s'", mnt);
	return rc;
}

/* The number of space-separated words of @s, and a copy of the first. */
static int words(const char *s, char *first, size_t len)
{
	int n = 0;

	first[0] = '\0';
	while (*s) {
		size_t w;

		s += strspn(s, " ");
		w = strcspn(s, " ");
		if (!w)
			break;
		if (!n++)
			snprintf(first, len, "%.*s", (int)w, s);
		s += w;
	}
	return n;
}

bool loops_intact(const char *dir, const char *files)
{
	return run_cmd("i=0; for f in %s; do i=$((i + 1)); "
		       "l=$(sed -n \"${i}p\" '%s/loops'); [ -n \"$l\" ] && "
		       "[ \"$(losetup -n -O BACK-FILE --list \"$l\" 2>/dev/null)\" "
		       "= \"$(readlink -f \"$f\")\" ] || exit 1; done",
		       files, dir) == 0;
}

int ref_check_run(const char *dir, const char *files)
{
	char img[1024];
	int rc = -1;

	if (words(files, img, sizeof(img)) == 1)
		return run_cmd(REF_BTRFS " check '%s' >'%s/check.log' 2>&1", img,
			       dir);
	for (int try = 0; try < 3; try++) {
		bool intact;

		rc = loop_attach(dir, files);
		if (rc) {
			printf("# no loop devices for %s\n", files);
			loop_detach(dir);
			return rc;
		}
		rc = run_cmd(REF_BTRFS " device scan $(cat '%s/loops') "
			     ">/dev/null 2>&1; " REF_BTRFS " check "
			     "$(head -n1 '%s/loops') >'%s/check.log' 2>&1",
			     dir, dir, dir);
		intact = loops_intact(dir, files);
		loop_detach(dir);
		if (intact)
			return rc;
		printf("# a loop device of %s went away during the check: "
		       "again\n", files);
	}
	return rc;
}

int ref_check_files(const char *dir, const char *files, const char *fmt, ...)
{
	char what[512], log[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(log, sizeof(log), "%s/check.log", dir);
	rc = ref_check_run(dir, files);
	ok(rc == 0, "%s (exit %d)", what, rc);
	if (rc)
		show_file(log, 30);
	return rc;
}
