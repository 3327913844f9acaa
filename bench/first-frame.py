#!/usr/bin/env python3
"""Time to first frame: `eks-runbook --target local` vs a bare Ink hello world.

Both run under a real pseudo-terminal with the project's Node; the clock stops at the first
output that contains the app's own text. Runs alternate, N rounds; prints medians and the
ratio (DESIGN.md bar: the runbook's first frame within 1.25x of the hello world's).
Usage: python3 bench/first-frame.py [rounds]
"""
import os, pty, select, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = os.path.join(ROOT, "node_modules", ".bin", "node")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
HOME = tempfile.mkdtemp(prefix="ekr-ff-")
SANDBOX = "bench-first-frame"


def first_frame(argv, marker, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execve(argv[0], argv, env)
    start = time.perf_counter()
    seen = b""
    elapsed = None
    deadline = start + 20
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if marker in seen:
                elapsed = time.perf_counter() - start
                break
    os.kill(pid, signal.SIGTERM)
    try:
        while True:  # drain so the child can exit
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r or not os.read(fd, 65536):
                break
    except OSError:
        pass
    os.waitpid(pid, 0)
    if elapsed is None:
        raise SystemExit(f"no first frame from {argv}: {seen[-500:]!r}")
    return elapsed


env = dict(os.environ, TERM="xterm-256color", EKS_RUNBOOK_HOME=HOME, EKS_RUNBOOK_SANDBOX=SANDBOX)
env.pop("CI", None)
hello, runbook = [], []
for i in range(ROUNDS):
    hello.append(first_frame([NODE, os.path.join(ROOT, "bench", "ink-hello.mjs")], b"hello from ink", env))
    runbook.append(first_frame([NODE, os.path.join(ROOT, "dist", "cli.js"), "--target", "local", "--stack", "ff"], b"eks-runbook \xc2\xb7", env))
subprocess.run([NODE, os.path.join(ROOT, "dist", "cli.js"), "sandbox", "down", "--name", SANDBOX], stdout=subprocess.DEVNULL)
h, r = statistics.median(hello), statistics.median(runbook)
print(f"ink hello world   median {h*1000:7.1f} ms  (min {min(hello)*1000:.1f}, max {max(hello)*1000:.1f})")
print(f"eks-runbook       median {r*1000:7.1f} ms  (min {min(runbook)*1000:.1f}, max {max(runbook)*1000:.1f})")
print(f"ratio {r/h:.2f}x  (goal <= 1.25x)")
