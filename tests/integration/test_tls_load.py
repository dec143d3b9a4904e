#!/usr/bin/env python3
"""wrk over https:// (issue #11): load through the TLS layer, and a
certificate reload under that load.

t_load: 64 keep-alive connections for 2 s on a 1 KiB and a 1 MiB file:
no socket error, no non-2xx, requests done, the bytes exact afterwards.
Not a benchmark (see perf/); skipped under sanitizers like test_wrk.

t_reload_under_load: two wrk runs for 4 s, one keep-alive, one with
`Connection: close` (a new handshake for every request), while the
certificate files are replaced and SIGHUP sent, then a broken certificate
written and SIGHUP sent again. Both wrk runs report no failed request;
a new handshake gets the new certificate (its DER compared with the file)
and keeps it after the broken reload; the reload lines are there; the
metrics count no handshake failure from the first reload on. Under sanitizers with fewer
connections: the reload racing live handshakes is what ASan should see."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (check, free_port, make_tree, metrics_scrape, metrics_sum, run_timed,
                     sanitized, skip)
from tlscerts import CA, TLSServer, cert_der, https_get, served_der

WRK = shutil.which("wrk")
if not WRK:
    skip("wrk is not installed")

ca = CA()
RSA = ca.cert("rsa")
RSA2 = ca.cert("rsa2", org="second")
files = {"k1.bin": os.urandom(1024), "m1.bin": os.urandom(1 << 20)}
base, root = make_tree(files)


def wrk_start(port, name, conns, secs, headers=()):
    url = "https://127.0.0.1:%d/%s" % (port, name)
    cmd = [WRK, "-t1", "-c%d" % conns, "-d%ds" % secs, "--timeout", "5s"]
    for h in headers:
        cmd += ["-H", h]
    p = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    p.what = "wrk -c%d %s%s" % (conns, url, " " + " ".join(headers) if headers else "")
    return p


def wrk_result(p, secs):
    """Wait for a wrk started by wrk_start; check it failed no request and
    did some. Returns the number of requests done."""
    try:
        out, err = p.communicate(timeout=secs + 20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        check(False, "%s did not finish" % p.what)
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    check(p.returncode == 0, "%s: exit %s: %s %s" % (p.what, p.returncode, out, err))
    m = re.search(r"(\d+) requests in", out)
    n = int(m.group(1)) if m else 0
    check(n > 0, "%s: no requests completed:\n%s" % (p.what, out))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    check(not m, "%s: %s" % (p.what, m.group(0) if m else ""))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    check(not m, "%s: %s" % (p.what, m.group(0) if m else ""))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    tr = re.search(r"Transfer/sec:\s+(\S+)", out)
    print("%s: %d requests, %s req/s, %s/s" % (p.what, n, rps.group(1) if rps else "?",
                                                 tr.group(1) if tr else "?"), flush=True)
    return n


def t_load():
    if sanitized():
        print("SKIP (t_load): sanitizer build, load proves little there")
        return
    srv = TLSServer(root, [RSA])
    for name in ("k1.bin", "m1.bin"):
        wrk_result(wrk_start(srv.tport, name, 64, 2), 2)
        check(srv.alive(), "server died under wrk on /%s" % name)
        if not srv.alive():
            return
        r = https_get(srv.tport, "/" + name, ca.crt)
        check(r.status == 200 and r.body == files[name], "GET /%s after wrk: %r" % (name, r))
    srv.stop()


def wait_line(srv, text, count, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.stderr_text().count(text) >= count:
            return True
        time.sleep(0.05)
    return False


def served_after(port, want, timeout=3):
    """The DER a new handshake gets, polled until it is `want` (a reload
    is done by the main thread; workers take the new set at their next
    handshake)."""
    deadline = time.monotonic() + timeout
    while True:
        got = served_der(port)
        if got == want or time.monotonic() >= deadline:
            return got
        time.sleep(0.05)


def failures(mport):
    """{reason: count} of the failed handshakes, the non-zero ones."""
    out = {}
    for (name, labels), v in metrics_scrape(mport).items():
        if name == "ringserve_tls_handshake_failures_total" and v:
            out[",".join(sorted(labels))] = v
    return out


def t_reload_under_load():
    crt, key = os.path.join(base, "live.crt"), os.path.join(base, "live.key")
    shutil.copy(RSA[0], crt)
    shutil.copy(RSA[1], key)
    os.chmod(key, 0o600)
    mport = free_port()
    srv = TLSServer(root, [(crt, key)], extra=["--metrics", "127.0.0.1:%d" % mport])
    old, new = cert_der(RSA[0]), cert_der(RSA2[0])
    check(old != new, "the two test certificates are the same")
    check(served_der(srv.tport) == old, "first certificate not served")
    secs = 4
    ka, close = (8, 2) if sanitized() else (32, 8)
    loads = [wrk_start(srv.tport, "k1.bin", ka, secs),
             wrk_start(srv.tport, "k1.bin", close, secs, ["Connection: close"])]
    t0 = time.monotonic()
    time.sleep(1)
    # wrk opens and closes one plain TCP connection to probe the address
    # before its load: one "eof" failure per run, counted before the reloads.
    before = failures(mport)
    # A good new pair, written before the signal (the reload reads both).
    shutil.copy(RSA2[0], crt)
    shutil.copy(RSA2[1], key)
    os.kill(srv.pid, signal.SIGHUP)
    check(wait_line(srv, "TLS certificates reloaded", 1), "no reload line: %s"
          % srv.stderr_text()[-600:])
    check(served_after(srv.tport, new) == new, "SIGHUP under load: new certificate not served")
    time.sleep(max(0, 2.3 - (time.monotonic() - t0)))
    with open(crt, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    os.kill(srv.pid, signal.SIGHUP)
    check(wait_line(srv, "TLS reload failed", 1), "broken certificate not refused: %s"
          % srv.stderr_text()[-600:])
    lines = [ln for ln in srv.stderr_text().splitlines() if "TLS reload failed" in ln]
    check(len(lines) == 1 and crt in lines[0], "failed reload line: %r" % lines)
    check(served_der(srv.tport) == new, "broken file: the certificate in use not kept")
    # Scraped while wrk still runs: when it stops, the handshakes it has
    # in flight end as failures, which are no sign of a reload problem.
    fails = failures(mport)
    fails = {k: v - before.get(k, 0) for k, v in fails.items() if v != before.get(k, 0)}
    check(time.monotonic() - t0 < secs - 0.3, "the reloads took too long to check under load")
    done = [wrk_result(p, secs) for p in loads]
    print("handshakes with Connection: close: %d" % done[1])
    # After the load: still the new certificate, still serving.
    check(served_der(srv.tport) == new, "after the load: not the new certificate")
    r = https_get(srv.tport, "/k1.bin", ca.crt)
    check(r.status == 200 and r.body == files["k1.bin"], "GET after the reloads: %r" % r)
    check(srv.alive(), "server died during the reloads")
    hs = metrics_sum(mport, "tls_handshakes_total")
    check(hs >= done[1], "handshakes counted %d, wrk made %d" % (hs, done[1]))
    check(not fails, "handshake failures during the reloads: %r" % fails)
    srv.stop()


run_timed([t_load, t_reload_under_load])
