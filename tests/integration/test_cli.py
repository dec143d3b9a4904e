#!/usr/bin/env python3
"""The command line: help, version, accepted and refused values (exit 2 with
one line naming the option), a missing ROOT, IPv6 binding, size suffixes."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, ipv6_loopback, make_tree,
                     request)

BIG = os.urandom(300000)  # larger than small --buffer-size values
base, root = make_tree({"a.txt": b"hello a\n", "big.bin": BIG})


def run(args, timeout=5):
    """Run the binary to completion. A value that is wrongly accepted makes
    it start serving, so it is killed after `timeout` (bound to loopback,
    port 0, so an accidental start collides with nothing)."""
    try:
        p = subprocess.run([binary()] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace")


def serves(extra, what, bind="127.0.0.1"):
    """Start with `extra` args and GET a small and a big file."""
    srv = Server(root, extra=extra, bind=bind)
    try:
        with srv.connect() as c:
            for name, body in [("a.txt", b"hello a\n"), ("big.bin", BIG)]:
                c.send(request("/" + name))
                r = c.read_response()
                check(r.status == 200 and r.body == body,
                      "%s: GET /%s: %r" % (what, name, r))
    finally:
        srv.stop()


def t_help():
    rc, out, err = run(["--help"])
    check(rc == 0, "--help: exit %s, want 0; stderr %r" % (rc, err))
    check("--ring-entries" in out, "--help: stdout does not mention "
          "--ring-entries: %r" % out[:500])
    check("usage" in out.lower(), "--help: no 'usage' in stdout")


def t_version():
    rc, out, err = run(["--version"])
    check(rc == 0, "--version: exit %s, want 0; stderr %r" % (rc, err))
    check(out.strip(), "--version: printed nothing on stdout")


def t_ring_entries_ok():
    for q in ["8", "256", "32768"]:
        serves(["-q", q], "-q " + q)


def t_size_suffixes():
    for v in ["64K", "128k", "1M", "64KiB"]:
        serves(["--buffer-size", v], "--buffer-size " + v)


def t_bad_values():
    lo = ["-b", "127.0.0.1", "-p", "0"]
    cases = [
        (lo + ["-q", "7", root], ("-q", "ring-entries")),
        (lo + ["-q", "100", root], ("-q", "ring-entries")),
        (lo + ["-q", "65536", root], ("-q", "ring-entries")),
        (lo + ["-q", "abc", root], ("-q", "ring-entries")),
        (["-b", "127.0.0.1", "-p", "70000", root], ("-p", "port")),
        (lo + ["-t", "0", root], ("-t", "threads")),
        (lo + ["--bogus", root], ("bogus",)),
        (lo + ["--buffer-size", "4K", root], ("buffer-size",)),
        (lo + ["--buffer-size", "64X", root], ("buffer-size",)),
        (lo + ["-q"], ("-q", "'q'", "ring-entries")),
    ]
    for args, names in cases:
        what = " ".join(a for a in args if a != root)
        rc, out, err = run(args)
        check(rc == 2, "%s: exit %s, want 2; stderr %r" % (what, rc, err))
        lines = err.rstrip("\n").split("\n") if err.strip() else []
        check(len(lines) == 1, "%s: want exactly one stderr line, got %d: %r"
              % (what, len(lines), err))
        check(any(n in err for n in names), "%s: stderr does not name the "
              "option (%s): %r" % (what, " or ".join(names), err))


def t_missing_root():
    missing = os.path.join(base, "does-not-exist")
    rc, out, err = run(["-b", "127.0.0.1", "-p", "0", missing])
    check(rc is not None and rc != 0,
          "nonexistent ROOT: exit %s, want non-zero" % rc)
    check(err.strip(), "nonexistent ROOT: no message on stderr")
    rc, out, err = run(["-b", "127.0.0.1", "-p", "0",
                        os.path.join(root, "a.txt")])
    check(rc is not None and rc != 0,
          "ROOT that is a file: exit %s, want non-zero" % rc)


def t_ipv6():
    if not ipv6_loopback():
        print("SKIP part: no IPv6 loopback")
        return
    serves([], "-b ::1", bind="::1")


for t in [t_help, t_version, t_ring_entries_ok, t_size_suffixes,
          t_bad_values, t_missing_root, t_ipv6]:
    case(t)
finish()
