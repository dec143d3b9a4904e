#!/usr/bin/env python3
"""A short wrk load (64 keep-alive connections) on a small and a large file:
no socket errors, no non-2xx responses, the server survives. Not a
benchmark (see perf/); skipped under sanitizers, where load proves little
and takes long."""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, finish, get, make_tree, skip)

if os.environ.get("RINGSERVE_SANITIZED"):
    skip("RINGSERVE_SANITIZED is set")
WRK = shutil.which("wrk")
if not WRK:
    skip("wrk is not installed")

files = {"k1.bin": os.urandom(1024), "m1.bin": os.urandom(1 << 20)}
base, root = make_tree(files)
srv = Server(root)


def run_wrk(name):
    url = "http://127.0.0.1:%d/%s" % (srv.port, name)
    cmd = [WRK, "-t1", "-c64", "-d2s", "--latency", url]
    p = subprocess.run(cmd, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace")
    what = "wrk on /%s" % name
    check(p.returncode == 0, "%s: wrk exit %d: %s %s"
          % (what, p.returncode, out, p.stderr.decode("utf-8", "replace")))
    m = re.search(r"(\d+) requests in", out)
    n = int(m.group(1)) if m else 0
    check(n > 0, "%s: no requests completed:\n%s" % (what, out))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    check(not m or all(int(x) == 0 for x in m.groups()),
          "%s: %s" % (what, m.group(0) if m else ""))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    check(not m, "%s: %s" % (what, m.group(0) if m else ""))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    print("%s: %d requests, %s req/s" % (what, n, rps.group(1) if rps else "?"))


def t_load():
    for name in ["k1.bin", "m1.bin"]:
        run_wrk(name)
        check(srv.alive(), "server died under wrk on /%s" % name)
        if not srv.alive():
            return
        r = get(srv, "/" + name)
        check(r.status == 200 and r.body == files[name],
              "GET /%s after wrk: %r" % (name, r))


case(t_load)
finish()
