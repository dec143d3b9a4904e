#!/usr/bin/env python3
"""Resource exhaustion: thousands of idle connections, a tiny descriptor
limit with many concurrent clients, clients aborting mid-download, the
--max-connections limit, and a locked-memory limit too small for registered
buffers. The server must stay bounded in memory and descriptors, never hang
a client forever, and serve normally afterwards."""

import asyncio
import os
import random
import re
import select
import shutil
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_timed, Closed, Server, case, check, fd_count, finish,
                     get_within, make_tree, proc_status_kib, raise_nofile,
                     request, sanitized, tcp_sockets)

FAST = 1.0 if sanitized() else 0.5  # ordinary requests, meanwhile
N_IDLE = 5000
RSS_PER_IDLE_MAX = 2048  # bytes of server VmRSS per idle connection

have_nofile = raise_nofile(N_IDLE + 1200)
files = {
    "a.txt": b"hello a\n",
    "k1.bin": os.urandom(1024),
    "k64.bin": os.urandom(65536),
    "k100.bin": os.urandom(100 * 1024),
    "m3.bin": os.urandom(3 << 20),
    "m32.bin": os.urandom(32 << 20),
    "empty": b"",
}
base, root = make_tree(files)


def fetch(srv, path, timeout=5):
    """GET on a fresh connection; (Response, seconds)."""
    t0 = time.monotonic()
    with srv.connect(timeout=timeout) as c:
        c.send(request(path, headers=["Connection: close"]))
        r = c.read_response()
    return r, time.monotonic() - t0


def check_fast_get(srv, what, path="/k1.bin"):
    r, took = fetch(srv, path)
    check(r.status == 200 and r.body == files[path[1:]],
          "%s: GET %s: %r" % (what, path, r))
    check(took < FAST, "%s: GET %s took %.3f s (limit %.1f s)"
          % (what, path, took, FAST))
    return took


def wait_accepted(srv, timeout=10.0):
    """Wait until the server's listeners have no connection waiting to be
    accepted (their accept queues, rx_queue of LISTEN sockets, are empty)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        q = sum(rx for st, _, rx, _ in tcp_sockets(srv.port)
                if st == "LISTEN")
        if q == 0:
            return True
        time.sleep(0.05)
    return False


def server_side(srv, states=("ESTABLISHED", "CLOSE_WAIT")):
    return sum(1 for st, _, _, _ in tcp_sockets(srv.port) if st in states)


def wait_until(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


# --------------------------------------------------------------- cases

def t_idle_5000():
    """N_IDLE connections that never send: the others are still served fast,
    and the server's memory per idle connection stays small."""
    n = N_IDLE
    if have_nofile < n + 500:
        n = have_nofile - 500
        print("note: RLIMIT_NOFILE %d: using %d idle connections"
              % (have_nofile, n))
        if n < 1000:
            print("SKIP (case): RLIMIT_NOFILE too small for the idle test")
            return
    srv = Server(root, extra=["--header-timeout", "60"])
    for _ in range(20):
        fetch(srv, "/k1.bin")
    time.sleep(0.2)
    rss0 = proc_status_kib(srv.pid)
    t0 = time.monotonic()
    socks = []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect((srv.host, srv.port))
            socks.append(s)
        check(wait_accepted(srv), "%d idle connections: the server did not "
              "accept them all within 10 s" % n)
        took_open = time.monotonic() - t0
        time.sleep(0.3)
        worst = max(check_fast_get(srv, "with %d idle connections" % n)
                    for _ in range(10))
        rss1 = proc_status_kib(srv.pid)
        per = (rss1 - rss0) * 1024.0 / n
        # A read of /proc/net/tcp can miss sockets that move meanwhile:
        # take the best of a few.
        est = max(server_side(srv, ("ESTABLISHED",)) for _ in range(3))
        check(est >= n, "server side has %d established connections, "
              "expected at least %d" % (est, n))
        check(per < RSS_PER_IDLE_MAX,
              "VmRSS grew %d KiB for %d idle connections: %.0f bytes each "
              "(limit %d)" % (rss1 - rss0, n, per, RSS_PER_IDLE_MAX))
        print("idle: %d connections opened in %.1f s; VmRSS %d -> %d KiB, "
              "%.0f bytes per idle connection; slowest GET meanwhile %.3f s"
              % (n, took_open, rss0, rss1, per, worst))
    finally:
        for s in socks:
            s.close()
    left = wait_until(lambda: server_side(srv) == 0, 5.0)
    check(left, "5 s after %d idle clients closed, the server still holds "
          "%d of them (ESTABLISHED/CLOSE_WAIT)" % (n, server_side(srv)))
    check_fast_get(srv, "after the idle connections closed")
    srv.stop()


async def _client(host, port, path, body, hold, timeout):
    """One client: two requests on one connection (the second after `hold`
    seconds). Returns 'served', 'refused' (refused, reset or closed before
    any byte of an answer) or a description of what went wrong."""
    req = request(path)
    got_any = False
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), timeout)
    except (ConnectionRefusedError, ConnectionResetError):
        return "refused"
    except asyncio.TimeoutError:
        return "connect hung"
    try:
        for k in range(2):
            writer.write(req)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                          timeout)
            got_any = True
            if not head.startswith(b"HTTP/1.1 200 "):
                if k == 0 and head.startswith(b"HTTP/1.1 503 "):
                    return "refused"
                return "answer %r" % head[:40]
            m = re.search(rb"\r\nContent-Length: *(\d+)", head, re.I)
            if not m or int(m.group(1)) != len(body):
                return "bad head %r" % head[:200]
            data = await asyncio.wait_for(reader.readexactly(len(body)),
                                          timeout)
            if data != body:
                return "wrong body bytes"
            if k == 0:
                await asyncio.sleep(hold)
        return "served"
    except asyncio.TimeoutError:
        return "hung (no answer in %g s)" % timeout
    except (asyncio.IncompleteReadError, ConnectionError) as e:
        if not got_any and (not isinstance(e, asyncio.IncompleteReadError)
                            or not e.partial):
            return "refused"
        return "cut short: %r" % e
    finally:
        writer.close()


def run_clients(srv, n, path, hold, timeout):
    async def main():
        return await asyncio.gather(*[
            _client(srv.host, srv.port, path, files[path[1:]], hold, timeout)
            for _ in range(n)])
    return asyncio.run(main())


def t_nofile_64():
    nofile_case(64, 100)


def t_nofile_256():
    nofile_case(256, 400)


def t_nofile_1024():
    nofile_case(1024, 1500)


def nofile_case(limit, n):
    """Under `prlimit --nofile=LIMIT:LIMIT` the connection count is fitted
    under the limit, as large as it allows (a socket costs one descriptor,
    the rest goes to files and the process), and the startup line says what
    was reduced; N concurrent clients (more than the limit) must each be
    served or cleanly refused, none hung, and the server serves normally
    afterwards."""
    if not shutil.which("prlimit"):
        print("SKIP (case): prlimit not installed")
        return
    what = "nofile %d" % limit
    srv = Server(root, prefix=["prlimit", "--nofile=%d:%d" % (limit, limit)])
    text = srv.stderr_text()
    m = re.search(r"max (\d+) connections", text)
    per = int(m.group(1)) if m else -1
    # 2 workers: each gets about half the limit, less files and overhead
    # (about 30 descriptors of the process's own at the smallest limits).
    low = 0.35 * limit if limit >= 256 else limit / 2 - 30
    check(low <= per <= limit / 2, "%s: the startup line should give "
          "about %d connections per worker; got %r" % (what, limit // 2 - 30, text[:400]))
    check("RLIMIT_NOFILE %d: cache entries" % limit in text,
          "%s: the startup line says what was reduced: %r" % (what, text[:400]))
    t0 = time.monotonic()
    res = run_clients(srv, n, "/k64.bin", hold=0.3, timeout=15)
    took = time.monotonic() - t0
    served = res.count("served")
    refused = res.count("refused")
    bad = [r for r in res if r not in ("served", "refused")]
    check(not bad, "%s, %d clients: %d neither served nor cleanly "
          "refused, e.g. %s" % (what, n, len(bad), bad[:5]))
    check(served >= per, "%s: only %d of %d clients served" % (what, served, n))
    print("%s: max %d/worker; %d clients: %d served, %d refused in "
          "%.1f s" % (what, per, n, served, refused, took))
    check(srv.alive(), "server died under %s" % what)
    for _ in range(5):
        check_fast_get(srv, "%s, afterwards" % what)
    res = run_clients(srv, 100, "/k1.bin", hold=0, timeout=10)
    check(res.count("served") == 100, "%s, afterwards: 100 clients, "
          "%d served: %s" % (what, res.count("served"),
                             [r for r in res if r != "served"][:5]))
    srv.stop()


def t_client_aborts():
    """50 clients abort a 32 MiB download part-way (RST, plain close with
    data unread, or close before reading): the server's descriptors and
    connections return to where they were and its memory stays flat. With
    the default transfer paths and with zero-copy sends from buffers."""
    for extra in ([], ["--transfer", "read", "--send-zc=16K"]):
        aborts(extra)


def aborts(extra):
    what = "aborts %s" % " ".join(extra)
    srv = Server(root, extra=extra)
    fetch(srv, "/k64.bin")
    # Warm up: the provided receive buffers (1024 of 4 KiB per worker) are
    # used in turn, so the first few thousand receives each touch a new
    # page. Afterwards memory must stay flat.
    conns = [srv.connect() for _ in range(16)]
    for i in range(300):
        for c in conns:
            c.send(request("/a.txt"))
        for c in conns:
            c.read_response()
    for c in conns:
        c.close()
    # Each worker keeps the files it served open in its cache: let both
    # open the big file before counting (a HEAD opens it too).
    for _ in range(16):
        with srv.connect(timeout=5) as c:
            c.send(request("/m32.bin", method="HEAD", headers=["Connection: close"]))
            c.read_response("HEAD")
    time.sleep(0.2)
    fd0 = fd_count(srv.pid)
    rng = random.Random(1)
    rss = []
    for rnd in range(3):
        for batch in range(5):
            conns = []
            for i in range(10):
                c = srv.connect()
                c.send(request("/m32.bin"))
                conns.append(c)
            # Each reads part of its response (a random amount, for at
            # most 0.3 s per batch: aborting clients do not wait for a slow
            # server), then aborts in one of three ways.
            kinds = [(batch * 10 + i) % 3 for i in range(10)]
            want = {c.sock: rng.randint(1, 4 << 20)
                    for c, k in zip(conns, kinds) if k != 2}
            until = time.monotonic() + 0.3
            while want and time.monotonic() < until:
                r, _, _ = select.select(list(want), [], [],
                                        max(0, until - time.monotonic()))
                for sk in r:
                    try:
                        chunk = sk.recv(min(1 << 20, want[sk]))
                    except OSError:
                        chunk = b""
                    want[sk] -= len(chunk)
                    if not chunk or want[sk] <= 0:
                        del want[sk]
            for c, kind in zip(conns, kinds):
                if kind == 0:
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))
                c.close()
        ok = wait_until(lambda: server_side(srv) == 0, 5.0)
        check(ok, "%s, round %d: 5 s after 50 aborted downloads the "
              "server still holds %d connections"
              % (what, rnd + 1, server_side(srv)))
        same = wait_until(lambda: fd_count(srv.pid) == fd0, 3.0)
        check(same, "%s, round %d: server descriptors %d before, %d after "
              "50 aborted downloads" % (what, rnd + 1, fd0,
                                        fd_count(srv.pid)))
        rss.append(proc_status_kib(srv.pid))
    grow = (rss[-1] - rss[0]) / 1024.0
    check(grow < 4, "%s: VmRSS grew %.1f MiB over two more rounds of 50 "
          "aborted downloads (%s KiB)" % (what, grow, rss))
    print("%s: fds %d before / %d after; VmRSS after each round of 50: "
          "%s KiB" % (what, fd0, fd_count(srv.pid), rss))
    status, body, took, err = get_within(srv, "/m32.bin", 5.0)
    check(status == 200 and err is None and body == files["m32.bin"],
          "%s: GET /m32.bin after aborted downloads: %s, %d bytes in "
          "%.1f s, %s" % (what, status, len(body), took, err or "complete"))
    srv.stop()


def t_max_connections():
    """-c 4 on one worker: with 4 connections held, new clients wait (no
    answer, no close), the held ones keep being served, and each time one
    ends a waiting client gets its answer."""
    srv = Server(root, extra=["-c", "4"], threads=1)
    held = []
    for i in range(4):
        c = srv.connect()
        c.send(request("/a.txt"))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "-c 4: client %d: %r" % (i, r))
        held.append(c)
    waiting = []
    for i in range(6):
        c = srv.connect(timeout=5)   # completes in the kernel backlog
        c.send(request("/a.txt"))
        waiting.append(c)
    r, _, _ = select.select([c.sock for c in waiting], [], [], 1.0)
    check(not r, "-c 4: %d of 6 clients beyond the limit got bytes or a "
          "close while 4 connections were held" % len(r))
    for i, c in enumerate(held):
        c.send(request("/k1.bin"))
        rr = c.read_response()
        check(rr.status == 200 and rr.body == files["k1.bin"],
              "-c 4: held connection %d, second request: %r" % (i, rr))
    served = dropped = 0
    while waiting and held:
        held.pop(0).close()
        r, _, _ = select.select([c.sock for c in waiting], [], [], 3.0)
        if not check(r, "-c 4: a held connection ended but none of %d "
                     "waiting clients was answered within 3 s"
                     % len(waiting)):
            break
        time.sleep(0.2)
        r, _, _ = select.select([c.sock for c in waiting], [], [], 0)
        check(len(r) == 1, "-c 4: one held connection ended and %d of %d "
              "waiting clients got bytes or a close at once (expected "
              "exactly one answered, the others still waiting in the "
              "backlog)" % (len(r), len(waiting)))
        for c in [c for c in waiting if c.sock in r]:
            waiting.remove(c)
            try:
                rr = c.read_response()
            except (Closed, ConnectionError):
                dropped += 1
                c.close()
                continue
            check(rr.status == 200 and rr.body == files["a.txt"],
                  "-c 4: waiting client: %r" % rr)
            held.append(c)
            served += 1
    check(not dropped, "-c 4: %d of 6 clients waiting in the backlog were "
          "accepted and dropped (reset, no answer) when a slot freed"
          % dropped)
    check(served == 6, "-c 4: %d of 6 waiting clients served" % served)
    for c in held + waiting:
        c.close()
    time.sleep(0.1)
    check_fast_get(srv, "-c 4, afterwards")
    srv.stop()


def memlock_prefix():
    lim = ["prlimit", "--memlock=65536:65536"]
    if os.geteuid() != 0:
        return lim           # no CAP_IPC_LOCK anyway
    if shutil.which("setpriv"):
        return ["setpriv", "--inh-caps=-ipc_lock", "--ambient-caps=-ipc_lock",
                "--bounding-set=-ipc_lock"] + lim
    return None


def start_retrying(extra, prefix, threads, what, patience):
    """Start a server; the kernel releases the locked-memory charge of a
    ring that just ended asynchronously, so a start that fails with ENOMEM
    right after another server stopped is retried for `patience` s."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return Server(root, extra=extra, prefix=prefix, threads=threads)
        except RuntimeError as e:
            if "Cannot allocate memory" in str(e) and \
                    time.monotonic() < deadline:
                time.sleep(0.3)
                continue
            check(False, "%s: the server did not start: %s" % (what, e))
            return None


def t_memlock():
    """RLIMIT_MEMLOCK 64 KiB without CAP_IPC_LOCK: the server falls back to
    unregistered buffers and still serves exact bytes (splice and read
    paths), also concurrently; with the default 2 threads too."""
    prefix = memlock_prefix()
    if prefix is None or not shutil.which("prlimit"):
        print("SKIP (case): need prlimit and setpriv to drop CAP_IPC_LOCK")
        return
    for threads, extra in ((2, []), (1, []), (1, ["--pipes", "0"]),
                           (2, ["-q", "32"])):
        what = "memlock 64K, -t %d %s" % (threads, " ".join(extra))
        srv = start_retrying(extra, prefix, threads, what,
                             1.0 if extra == [] and threads == 2 else 3.0)
        if srv is None:
            continue
        check("unregistered buffers (RLIMIT_MEMLOCK)" in srv.stderr_text(),
              "%s: startup line does not say 'unregistered buffers "
              "(RLIMIT_MEMLOCK)': %r" % (what, srv.stderr_text()))
        with srv.connect() as c:
            for name in ("empty", "k1.bin", "k100.bin", "m3.bin") * 2:
                c.send(request("/" + name))
                r = c.read_response()
                check(r.status == 200 and r.body == files[name],
                      "%s: GET /%s: %r" % (what, name, r))
                c.send(request("/" + name, method="HEAD"))
                r = c.read_response("HEAD")
                check(r.status == 200 and r.headers.get("content-length")
                      == str(len(files[name])),
                      "%s: HEAD /%s: %r" % (what, name, r))
        res = run_clients(srv, 20, "/m3.bin", hold=0, timeout=20)
        check(res.count("served") == 20, "%s: 20 concurrent 3 MiB "
              "downloads: %s" % (what, [r for r in res
                                        if r != "served"][:5]))
        srv.stop()


run_timed([t_idle_5000, t_nofile_64, t_nofile_256, t_nofile_1024, t_client_aborts, t_max_connections,
          t_memlock])
