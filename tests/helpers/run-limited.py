#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run a command with a time limit and an optional address-space cap, and
say how it ended.

Usage: run-limited.py [--timeout S] [--mem-kb N] [--status FILE] -- CMD ARGS...

stdin is /dev/null; stdout and stderr are inherited.  FILE (or stderr when
no --status) gets one line: "exit N", "signal N NAME" or "timeout S".
The exit code mimics timeout(1): N, 128+N for a signal, 124 on timeout.
No core dumps are written.
"""

import argparse
import os
import resource
import signal
import subprocess
import sys


def limits(mem_kb):
    def apply():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if mem_kb:
            size = mem_kb * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        os.setpgid(0, 0)
    return apply


def run(args):
    proc = subprocess.Popen(args.cmd, stdin=subprocess.DEVNULL,
                            preexec_fn=limits(args.mem_kb))
    try:
        rc = proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "timeout %g" % args.timeout, 124
    if rc < 0:
        sig = -rc
        return "signal %d %s" % (sig, signal.Signals(sig).name), 128 + sig
    return "exit %d" % rc, rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--mem-kb", type=int, default=0)
    ap.add_argument("--status")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.cmd and args.cmd[0] == "--":
        args.cmd = args.cmd[1:]
    if not args.cmd:
        ap.error("no command")
    try:
        status, rc = run(args)
    except OSError as exc:
        status, rc = "exit 127 (%s)" % exc, 127
    if args.status:
        with open(args.status, "w") as f:
            f.write(status + "\n")
    else:
        print(status, file=sys.stderr)
    sys.exit(rc)


if __name__ == "__main__":
    main()
