/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The words for what the tree printer meets while printing (struct
 * btrfs_print_problem, kernel-shared/print-tree.h), shared by every command
 * that prints trees.  The lines are those of the reference btrfs-progs 6.2.
 */
#ifndef BTRFS_CMDS_PRINT_PROBLEM_H
#define BTRFS_CMDS_PRINT_PROBLEM_H

#include "kernel-shared/print-tree.h"

/*
 * A sink for btrfs_print_opts.problem: flush @out (a FILE *, the stream the
 * tree is printed to, so the message lands after the text before it), then
 * print @p on stderr in the reference's words.
 */
void print_tree_problem(void *out, const struct btrfs_print_problem *p);

#endif
