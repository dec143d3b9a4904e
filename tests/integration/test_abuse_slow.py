#!/usr/bin/env python3
"""Slow clients: slowloris (heads trickled a byte at a time), connections
that never send, kept-alive connections left idle, and slow readers that
stop reading a large response. Each must cost the server one connection for
a bounded time, never its ability to answer everybody else quickly."""

import os
import select
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_timed, Server, case, check, check_latencies, finish,
                     get_within, make_tree, proc_status_kib, raise_nofile,
                     request, sanitized, tcp_state)

HEADER_TIMEOUT = 3
KEEPALIVE_TIMEOUT = 2
SEND_TIMEOUT = 2
# The server checks its timers once a second: a deadline of D seconds fires
# between D-1 and D+1 seconds after the event it counts from. Allow that and
# a little scheduling slack on a busy CI machine, no more.
SLACK = 1.5
# An ordinary request must be answered within this, meanwhile (a debug
# sanitizer build on a busy 2-core machine gets twice as long).
FAST = 1.0 if sanitized() else 0.5

N_SLOW = 200
N_SILENT = 20
N_IDLE_KA = 10

raise_nofile(4096)
BIG = 8 << 20
files = {
    "a.txt": b"hello a\n",
    "k16.bin": os.urandom(16384),
    "big.bin": os.urandom(BIG),
}
base, root = make_tree(files)
srv = Server(root, extra=["--header-timeout", str(HEADER_TIMEOUT),
                          "--keepalive-timeout", str(KEEPALIVE_TIMEOUT),
                          "--send-timeout", str(SEND_TIMEOUT)])


class Prober(threading.Thread):
    """Meanwhile: a fresh connection every `every` seconds asking for a small
    file, each answer timed; plus one kept-alive connection used once a
    second (longer in all than every timeout: its timers must restart on
    each request)."""

    def __init__(self, server, every=0.2, path="/k16.bin"):
        super().__init__(daemon=True)
        self.srv = server
        self.every = every
        self.path = path
        self.stop_ev = threading.Event()
        self.lat = []
        self.errors = []
        self.ka_ok = 0

    def one(self):
        t0 = time.monotonic()
        try:
            with self.srv.connect(timeout=5) as c:
                c.send(request(self.path, headers=["Connection: close"]))
                r = c.read_response()
            ok = r.status == 200 and r.body == files[self.path[1:]]
            if not ok:
                self.errors.append("fresh GET %s: %r" % (self.path, r))
        except Exception as e:  # noqa: BLE001 - recorded, checked later
            self.errors.append("fresh GET %s: %r" % (self.path, e))
        self.lat.append(time.monotonic() - t0)

    def run(self):
        self.t_start = time.monotonic()
        ka = None
        ka_t0 = 0.0
        ka_next = time.monotonic()
        while not self.stop_ev.is_set():
            self.one()
            if time.monotonic() >= ka_next:
                ka_next += 1.0
                try:
                    if ka is None:
                        ka = self.srv.connect(timeout=5)
                        ka_t0 = time.monotonic()
                    t0 = time.monotonic()
                    ka.send(request("/a.txt"))
                    r = ka.read_response()
                    self.lat.append(time.monotonic() - t0)
                    if r.status == 200 and r.body == files["a.txt"]:
                        self.ka_ok += 1
                    else:
                        self.errors.append("kept-alive GET: %r" % r)
                except Exception as e:  # noqa: BLE001
                    self.errors.append(
                        "kept-alive GET #%d (connection opened %.2f s "
                        "before, prober started %.2f s before): %r"
                        % (self.ka_ok + 1, time.monotonic() - ka_t0,
                           time.monotonic() - self.t_start, e))
                    ka = None
            self.stop_ev.wait(self.every)
        if ka is not None:
            ka.close()

    def finish(self, what):
        self.stop_ev.set()
        self.join(10)
        check(not self.errors, "%s: ordinary clients failed meanwhile: %s"
              % (what, self.errors[:5]))
        return check_latencies(self.lat, FAST, what)


def t_slowloris_and_idle():
    """N_SLOW clients trickle a never-ending head one byte every 0.5 s;
    N_SILENT connect and send nothing; N_IDLE_KA make one request and then
    go idle.
    Meanwhile ordinary clients are answered fast. The tricklers get 408 and a
    close by the header deadline (counted from the first byte, not extended
    by each new byte), the silent ones a close without a byte, the idle
    kept-alive ones a close without a byte by the keep-alive deadline."""
    head = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
    prober = Prober(srv)
    prober.start()
    conns = {}  # sock -> dict(kind, t0, data, t_end, pos)
    t_start = time.monotonic()
    for i in range(N_SLOW):
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.setblocking(False)
        s.send(head[:1])
        conns[s] = {"kind": "slow", "t0": time.monotonic(), "data": b"",
                    "end": None, "pos": 1}
    for i in range(N_SILENT):
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.setblocking(False)
        conns[s] = {"kind": "silent", "t0": time.monotonic(), "data": b"",
                    "end": None}
    for i in range(N_IDLE_KA):
        c = srv.connect()
        c.send(request("/a.txt"))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "keep-alive client %d: first GET: %r" % (i, r))
        s = c.sock
        s.setblocking(False)
        conns[s] = {"kind": "idle-ka", "t0": time.monotonic(), "data": c.buf,
                    "end": None}
    setup = time.monotonic() - t_start
    limit = max(HEADER_TIMEOUT, KEEPALIVE_TIMEOUT) + SLACK + setup + 1.0
    next_trickle = time.monotonic() + 0.5
    open_socks = set(conns)
    while open_socks and time.monotonic() - t_start < limit:
        now = time.monotonic()
        r, _, _ = select.select(list(open_socks), [], [],
                                max(0.0, min(0.1, next_trickle - now)))
        now = time.monotonic()
        for s in r:
            st = conns[s]
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                st["data"] += chunk
                continue
            st["end"] = now
            open_socks.discard(s)
        if now >= next_trickle:
            next_trickle += 0.5
            for s in list(open_socks):
                st = conns[s]
                if st["kind"] != "slow" or st["data"]:
                    continue
                try:
                    s.send(head[st["pos"]:st["pos"] + 1])
                    st["pos"] += 1
                except (BlockingIOError, ConnectionError):
                    pass
    elapsed = time.monotonic() - t_start
    # The prober's kept-alive connection must outlive both deadlines by far.
    want_ka = HEADER_TIMEOUT + KEEPALIVE_TIMEOUT + 1
    t_wait = time.monotonic()
    while prober.ka_ok < want_ka and time.monotonic() - t_wait < want_ka:
        time.sleep(0.1)
    prober.finish("slowloris")
    for s in conns:
        s.close()

    bad = {"slow": [], "silent": [], "idle-ka": []}
    for st in conns.values():
        kind = st["kind"]
        if st["end"] is None:
            bad[kind].append("still open after %.1f s (%d bytes received)"
                             % (elapsed, len(st["data"])))
            continue
        took = st["end"] - st["t0"]
        deadline = HEADER_TIMEOUT if kind != "idle-ka" else KEEPALIVE_TIMEOUT
        if not (deadline - 1.0 - 0.05 <= took <= deadline + SLACK):
            bad[kind].append("closed after %.2f s (deadline %d s)"
                             % (took, deadline))
        if kind == "slow":
            if not st["data"].startswith(b"HTTP/1.1 408 "):
                bad[kind].append("answer %r, not 408" % st["data"][:40])
            elif st["data"].count(b"HTTP/1.") != 1:
                bad[kind].append("more than one response: %r"
                                 % st["data"][:200])
        elif st["data"]:
            bad[kind].append("got bytes %r instead of a silent close"
                             % st["data"][:40])
    for kind, n in (("slow", N_SLOW), ("silent", N_SILENT),
                    ("idle-ka", N_IDLE_KA)):
        check(not bad[kind], "%s connections: %d of %d wrong, e.g. %s"
              % (kind, len(bad[kind]), n, bad[kind][:3]))
    check(prober.ka_ok >= want_ka, "the kept-alive prober connection (one "
          "request a second) got only %d answers, wanted %d"
          % (prober.ka_ok, want_ka))
    print("slowloris: %d trickling, %d silent, %d idle kept-alive closed in "
          "%.1f s; ordinary requests meanwhile: %d, slowest %.3f s"
          % (N_SLOW, N_SILENT, N_IDLE_KA, elapsed, len(prober.lat),
             max(prober.lat)))


def t_slow_read():
    """Clients with a tiny receive buffer ask for an 8 MiB file and stop
    reading. The server must drop each within about --send-timeout of the
    last progress (on the splice path, the buffered --pipes 0 path and
    zero-copy sends from buffers),
    keep answering others meanwhile, and not buffer the file in memory."""
    srv0 = Server(root, extra=["--header-timeout", str(HEADER_TIMEOUT),
                               "--send-timeout", str(SEND_TIMEOUT),
                               "--pipes", "0"])
    srvz = Server(root, extra=["--header-timeout", str(HEADER_TIMEOUT),
                               "--send-timeout", str(SEND_TIMEOUT),
                               "--transfer", "read", "--send-zc=16K"])
    servers = [srv, srv0, srvz]
    labels = ["splice", "--pipes 0", "read + --send-zc"]
    rss0 = [proc_status_kib(s.pid) for s in servers]
    n_each = 10
    probers = [Prober(s, every=0.1, path="/a.txt") for s in servers]
    for p in probers:
        p.start()
    readers = []
    for s in servers:
        for i in range(n_each):
            sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sk.settimeout(5)
            sk.connect((s.host, s.port))
            sk.sendall(request("/big.bin"))
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = sk.recv(1024)
                if not chunk:
                    break
                got += chunk
            readers.append({"srv": s, "sock": sk, "t0": time.monotonic(),
                            "port": sk.getsockname()[1], "head": got,
                            "end": None})
    for rd in readers:
        check(rd["head"].startswith(b"HTTP/1.1 200 "),
              "slow reader: response head %r" % rd["head"][:60])
    # Progress may go on a little after the client stops reading (the
    # server's send buffer grows); then --send-timeout must fire.
    limit = SEND_TIMEOUT + SLACK + 2.5
    t_start = time.monotonic()
    rss_peak = list(rss0)
    while time.monotonic() - t_start < limit:
        now = time.monotonic()
        for rd in readers:
            # The server's end of the connection leaves ESTABLISHED when the
            # server closes it (FIN_WAIT1 behind the unsent data) or resets
            # it (gone).
            if rd["end"] is None and \
                    tcp_state(rd["srv"].port, rd["port"]) != "ESTABLISHED":
                rd["end"] = now
        for i, s in enumerate(servers):
            rss_peak[i] = max(rss_peak[i], proc_status_kib(s.pid))
        if all(rd["end"] is not None for rd in readers):
            break
        time.sleep(0.05)
    worst = max(p.finish("slow read (%s)" % lb)
                for p, lb in zip(probers, labels))
    late = [rd for rd in readers if rd["end"] is None]
    check(not late, "%d of %d slow readers still connected (server side "
          "ESTABLISHED) %.1f s after their request with --send-timeout %d"
          % (len(late), len(readers), limit, SEND_TIMEOUT))
    took = [rd["end"] - rd["t0"] for rd in readers if rd["end"] is not None]
    early = [t for t in took if t < SEND_TIMEOUT - 1.0 - 0.05]
    check(not early, "slow readers dropped too early: %s" % early[:5])
    # Now read what is left: the response must end early with a close.
    short = []
    for rd in readers:
        sk = rd["sock"]
        sk.settimeout(10)
        total = len(rd["head"])
        closed = False
        try:
            while True:
                chunk = sk.recv(1 << 20)
                if not chunk:
                    closed = True
                    break
                total += len(chunk)
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
        sk.close()
        if not closed or total >= BIG:
            short.append((total, closed))
    check(not short, "slow readers: after the send timeout the response "
          "should end early with a close; got (bytes, closed) %s" % short[:5])
    for i, s in enumerate(servers):
        grow = (rss_peak[i] - rss0[i]) / 1024.0
        check(grow < 16, "server %d: VmRSS grew %.1f MiB with %d slow "
              "readers of an 8 MiB file" % (i, grow, n_each))
        mine = [rd["end"] - rd["t0"] for rd in readers
                if rd["srv"] is s and rd["end"] is not None] or [-1]
        print("slow read (%s): %d readers dropped after %.1f..%.1f s; "
              "VmRSS growth %.1f MiB" % (labels[i], n_each, min(mine),
                                         max(mine), grow))
    print("slow read: slowest ordinary request meanwhile %.3f s" % worst)
    for s, lb in zip(servers, labels):
        status, body, took, err = get_within(s, "/big.bin", 5.0)
        check(status == 200 and err is None and body == files["big.bin"],
              "%s: GET /big.bin (8 MiB) after the slow readers: %s, %d "
              "bytes in %.1f s, %s" % (lb, status, len(body), took,
                                       err or "complete"))
    srv0.stop()
    srvz.stop()


def t_alive():
    check(srv.alive(), "server died")
    with srv.connect() as c:
        c.send(request("/a.txt"))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "final GET: %r" % r)


run_timed([t_slowloris_and_idle, t_slow_read, t_alive])
