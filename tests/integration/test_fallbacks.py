#!/usr/bin/env python3
"""Every fallback the startup line can name, running and serving correctly.

Each condition starts a server, checks that the startup line names the
fallback, then serves through it: GETs of every body path (in-memory
cache, one buffer, splice or read, HEAD), single and multipart ranges,
keep-alive with pipelining, 8 concurrent downloads. Real conditions where
this machine has them, RINGSERVE_DISABLE (a testing aid) where it has not:

| startup line says | condition |
| --- | --- |
| no buffer ring (plain recv), unregistered buffers (RLIMIT_MEMLOCK) | real: prlimit --memlock=64K without CAP_IPC_LOCK |
| provided buffer ring, unregistered buffers (RLIMIT_MEMLOCK) | real: --memlock=256K (rings fit, buffers do not) |
| coop_taskrun | RINGSERVE_DISABLE=defer_taskrun |
| plain | RINGSERVE_DISABLE=defer_taskrun,coop_taskrun |
| no buffer ring (plain recv), registered buffers | RINGSERVE_DISABLE=pbuf_ring |
| no SEND_ZC (kernel) | RINGSERVE_DISABLE=send_zc with --send-zc (and SEND_ZC itself without) |
| no cachestat: residency from mincore | RINGSERVE_DISABLE=cachestat (real on Linux < 6.5: the uml suite) |
| no STATX_DIOALIGN: 4096-byte alignment | RINGSERVE_DISABLE=dioalign |

The two O_DIRECT conditions also download a cold 24 MiB file whole and in
unaligned ranges: exact bytes, sent by the direct path (metrics), and the
page cache left (almost) without it (fincore). Without a filesystem that
takes O_DIRECT here, those downloads are skipped (the uml suite runs them
on ext4).
"""
import os
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, drop_from_cache, finish, free_port,  # noqa: E402
                     get, make_tree, metrics_sum, parse_multipart, request)

MiB = 1 << 20
files = {
    "k1.bin": os.urandom(1000),          # in-memory cache
    "k40.bin": os.urandom(40000),        # one buffer, one send
    "m3.bin": os.urandom(3 * MiB + 17),  # splice (or read with --pipes 0)
    "cold.bin": os.urandom(24 * MiB + 4321),
    "dir/index.html": b"<p>index</p>\n",
}
base, root = make_tree(files)
COLD = os.path.join(root, "cold.bin")


def memlock_prefix(limit):
    lim = ["prlimit", "--memlock=%d:%d" % (limit, limit)]
    if not shutil.which("prlimit"):
        return None
    if os.geteuid() != 0:
        return lim
    if not shutil.which("setpriv"):
        return None
    return ["setpriv", "--inh-caps=-ipc_lock", "--ambient-caps=-ipc_lock",
            "--bounding-set=-ipc_lock"] + lim


def start(what, extra=(), env=None, prefix=()):
    """A server; a locked-memory charge is released asynchronously when a
    ring ends, so a start refused with ENOMEM right after another server
    stopped is retried for a while."""
    old = os.environ.get("RINGSERVE_DISABLE")
    if env is not None:
        os.environ["RINGSERVE_DISABLE"] = env
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                return Server(root, extra=list(extra), prefix=list(prefix))
            except RuntimeError as e:
                if "Cannot allocate memory" in str(e) and time.monotonic() < deadline:
                    time.sleep(0.3)
                    continue
                check(False, "%s: did not start: %s" % (what, e))
                return None
    finally:
        if old is None:
            os.environ.pop("RINGSERVE_DISABLE", None)
        else:
            os.environ["RINGSERVE_DISABLE"] = old


def startup_line(srv):
    return next((ln for ln in srv.stderr_text().splitlines() if "listening on" in ln), "")


def serves(srv, what):
    """GET every path, ranges, HEAD, keep-alive with pipelining."""
    with srv.connect() as c:
        for name in ("k1.bin", "k40.bin", "m3.bin", "k1.bin", "m3.bin"):
            c.send(request("/" + name))
            r = c.read_response()
            check(r.status == 200 and r.body == files[name],
                  "%s: GET /%s: %s, %d bytes" % (what, name, r.status, len(r.body)))
        c.send(request("/m3.bin", headers=["Range: bytes=1000-200000"]))
        r = c.read_response()
        check(r.status == 206 and r.body == files["m3.bin"][1000:200001] and
              r.headers.get("content-range") == "bytes 1000-200000/%d" % len(files["m3.bin"]),
              "%s: range: %s %r" % (what, r.status, r.headers.get("content-range")))
        c.send(request("/k40.bin", headers=["Range: bytes=0-9,-10"]))
        r = c.read_response()
        parts = parse_multipart(r) if r.status == 206 else []
        check([p for _, p in parts] == [files["k40.bin"][:10], files["k40.bin"][-10:]],
              "%s: multipart range: %s %d parts" % (what, r.status, len(parts)))
        c.send(request("/m3.bin", method="HEAD"))
        r = c.read_response("HEAD")
        check(r.status == 200 and r.headers.get("content-length") == str(len(files["m3.bin"])),
              "%s: HEAD: %r" % (what, r))
        # Pipelined on the same connection: answered in order.
        c.send(request("/k40.bin") + request("/dir/") + request("/k1.bin"))
        for want in (files["k40.bin"], files["dir/index.html"], files["k1.bin"]):
            r = c.read_response()
            check(r.status == 200 and r.body == want, "%s: pipelined: %s" % (what, r.status))
    results = []

    def one():
        try:
            results.append(get(srv, "/m3.bin").body == files["m3.bin"])
        except Exception as e:  # noqa: BLE001 - counted as a failure below
            results.append(repr(e))
    ts = [threading.Thread(target=one) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    check(results == [True] * 8, "%s: 8 concurrent downloads: %s" % (what, results))


def resident(path):
    if not shutil.which("fincore"):
        return None
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                       capture_output=True, text=True)
    try:
        return int(p.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def o_direct_works():
    try:
        os.close(os.open(COLD, os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError:
        return False


def cold_downloads(srv, mport, what):
    if not o_direct_works():
        print("SKIP (%s cold file): no O_DIRECT under %s" % (what, base))
        return
    data = files["cold.bin"]
    for rg in (None, (1, len(data) - 2), (4095, 9 * MiB + 1)):
        drop_from_cache(COLD)
        before = metrics_sum(mport, "sent_bytes_total", 'path="direct"')
        r = get(srv, "/cold.bin", headers=() if rg is None else ["Range: bytes=%d-%d" % rg])
        want = data if rg is None else data[rg[0]:rg[1] + 1]
        check(r.status == (200 if rg is None else 206) and r.body == want,
              "%s: cold %s: %s, %d bytes, exact %s" % (what, rg, r.status, len(r.body),
                                                        r.body == want))
        sent = metrics_sum(mport, "sent_bytes_total", 'path="direct"') - before
        check(sent >= len(want), "%s: cold %s went by O_DIRECT: %d direct bytes for %d"
              % (what, rg, sent, len(want)))
        res = resident(COLD)
        if res is not None:
            check(res <= 2 * MiB, "%s: cold %s left %d bytes cached" % (what, rg, res))


def condition(what, says, extra=(), env=None, prefix=(), cold=False):
    mport = free_port() if cold else None
    if cold:
        extra = list(extra) + ["--metrics", "127.0.0.1:%d" % mport]
    srv = start(what, extra, env, prefix)
    if srv is None:
        return
    line = startup_line(srv)
    for s in says:
        check(s in line, "%s: startup line lacks %r: %s" % (what, s, line))
    if env:
        check("RINGSERVE_DISABLE=%s" % env in line, "%s: line names the knob: %s" % (what, line))
    serves(srv, what)
    if cold:
        cold_downloads(srv, mport, what)
    srv.stop()


def t_memlock_64k():
    prefix = memlock_prefix(65536)
    if prefix is None:
        print("SKIP (memlock 64K): need prlimit and setpriv")
        return
    condition("memlock 64K", ["no buffer ring (plain recv)",
                              "unregistered buffers (RLIMIT_MEMLOCK)"], prefix=prefix)
    condition("memlock 64K, read path", ["unregistered buffers (RLIMIT_MEMLOCK)"],
              extra=["--pipes", "0"], prefix=prefix)


def t_memlock_256k():
    prefix = memlock_prefix(262144)
    if prefix is None:
        print("SKIP (memlock 256K): need prlimit and setpriv")
        return
    condition("memlock 256K", ["provided buffer ring", "unregistered buffers (RLIMIT_MEMLOCK)"],
              prefix=prefix)


def t_taskrun():
    condition("no DEFER_TASKRUN", [", coop_taskrun,"], env="defer_taskrun")
    condition("no COOP_TASKRUN", [", plain,"], env="defer_taskrun,coop_taskrun")


def t_pbuf_ring():
    condition("no buffer ring", ["no buffer ring (plain recv)", "registered buffers"],
              env="pbuf_ring")


def t_send_zc():
    condition("SEND_ZC", [", SEND_ZC"], extra=["--send-zc=16K"])
    condition("no SEND_ZC", ["no SEND_ZC (kernel)"], extra=["--send-zc=16K"], env="send_zc")


def t_cachestat():
    condition("no cachestat", ["no cachestat: residency from mincore, O_DIRECT for cold files"],
              env="cachestat", cold=True)


def t_dioalign():
    condition("no STATX_DIOALIGN", ["O_DIRECT for cold files (no STATX_DIOALIGN: "
                                    "4096-byte alignment)"], env="dioalign", cold=True)
    condition("no cachestat, no STATX_DIOALIGN", ["residency from mincore", "no STATX_DIOALIGN"],
              env="cachestat,dioalign", cold=True)


for fn in (t_memlock_64k, t_memlock_256k, t_taskrun, t_pbuf_ring, t_send_zc, t_cachestat,
           t_dioalign):
    case(fn)
finish()
