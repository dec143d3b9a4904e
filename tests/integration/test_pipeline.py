#!/usr/bin/env python3
"""Pipelined requests answered in batches.

- 16 GETs of a cached small file in one write: 16 right responses in order,
  and the metrics say they left in one send (one batch of 16).
- A mix in one write: cached file, HEAD, 304, a range, 404, 405, a redirect,
  a listing, a large file (sendfile) and an uncached file between cached
  ones: every response right and in request order (the ones that need a
  statx, an open or a file body end a batch and are answered after it).
- 400 requests of a 1000-byte file in one write: more than one response
  buffer, so several batches; all 400 right, in order.
- Request bodies (Content-Length) between pipelined requests are skipped.
- A bad request or `Connection: close` in the middle: the responses before
  it, its own, then the connection closes; nothing after it is answered.
- HTTP/1.0 requests (no keep-alive) pipelined: one answer, then close.
- Cached bodies leave a batch uncopied (iovecs into the cache): 32
  responses of a 16,000-byte file in at most two batches (copied, eight
  would be needed), exact even when a slow reader makes every send short;
  a file replaced while its batch waits for the reader still sends the
  bytes the batch took (the entry is pinned), the next request the new
  ones; a client that leaves mid-batch costs the server nothing.
"""
import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, finish, free_port, make_tree,  # noqa: E402
                     metrics_scrape, metrics_val, request)

SMALL = b"pipelined small file\n" * 20
K1 = (bytes(range(256)) * 4)[:1000]
BIG = os.urandom(3 << 20)
UNCACHED = b"u" * 3000
K16 = os.urandom(16000)
_, root = make_tree({"s.txt": SMALL, "k1.bin": K1, "big.bin": BIG, "k16.bin": K16, "r16.bin": K16,
                     "u.bin": UNCACHED, "d/a.txt": b"a", "d/b.txt": b"b"})
mport = free_port()
srv = Server(root, threads=1, extra=["--metrics", "127.0.0.1:%d" % mport,
                                     "--cache-file-size", "16K"])


def counters():
    s = metrics_scrape(mport)
    return (metrics_val(s, "ringserve_pipeline_batches_total"),
            metrics_val(s, "ringserve_pipeline_batched_responses_total"))


def warm(c, path):
    """A first GET on this connection's worker puts the file in its cache."""
    c.send(request(path))
    r = c.read_response()
    check(r.status == 200, "warm-up %s: %r" % (path, r))


def pipelined_gets(path, body, n):
    """n GETs of a cached file in one write, each answer checked; returns
    the batches and batched responses the metrics counted meanwhile."""
    with srv.connect() as c:
        warm(c, path)
        b0, n0 = counters()
        c.send(b"".join(request(path) for _ in range(n)))
        for i in range(n):
            r = c.read_response()
            check(r.status == 200 and r.body == body, "%s response %d: %r" % (path, i, r))
        b1, n1 = counters()
    return b1 - b0, n1 - n0


@case
def t_sixteen_in_one_send():
    batches, batched = pipelined_gets("/s.txt", SMALL, 16)
    check(batches == 1 and batched == 16,
          "16 pipelined cached GETs: %d batches, %d batched responses "
          "(want 1 and 16)" % (batches, batched))


@case
def t_mixed_in_order():
    with srv.connect() as c:
        warm(c, "/s.txt")
        etag = None
        c.send(request("/s.txt"))
        r = c.read_response()
        etag = r.headers.get("etag")
        reqs = [
            (request("/s.txt"), "GET", 200, SMALL),
            (request("/s.txt", method="HEAD"), "HEAD", 200, b""),
            (request("/s.txt", headers=["If-None-Match: %s" % etag]), "GET", 304, b""),
            (request("/s.txt", headers=["Range: bytes=5-9"]), "GET", 206, SMALL[5:10]),
            (request("/nope.txt"), "GET", 404, None),
            (request("/s.txt", method="DELETE"), "GET", 405, None),
            (request("/s.txt"), "GET", 200, SMALL),
            (request("/d"), "GET", 301, None),
            (request("/d/"), "GET", 200, None),
            (request("/s.txt"), "GET", 200, SMALL),
            (request("/big.bin"), "GET", 200, BIG),
            (request("/s.txt"), "GET", 200, SMALL),
            (request("/u.bin"), "GET", 200, UNCACHED),
            (request("/s.txt"), "GET", 200, SMALL),
            (request("/big.bin", headers=["Range: bytes=1000-1999"]), "GET", 206, BIG[1000:2000]),
            (request("/s.txt"), "GET", 200, SMALL),
        ]
        c.send(b"".join(r[0] for r in reqs))
        for i, (_, method, status, body) in enumerate(reqs):
            r = c.read_response(method)
            check(r.status == status, "mixed %d: status %d, want %d" % (i, r.status, status))
            if body is not None:
                check(r.body == body, "mixed %d: body of %d bytes, want %d"
                      % (i, len(r.body), len(body)))
            if i == 8:
                check(b"a.txt" in r.body and b"b.txt" in r.body, "listing: %r" % r.body[:200])
        c.send(request("/s.txt"))
        check(c.read_response().body == SMALL, "connection usable after the mix")


@case
def t_many_batches():
    n = 400
    with srv.connect() as c:
        warm(c, "/k1.bin")
        b0, n0 = counters()
        c.send(b"".join(request("/k1.bin") for _ in range(n)))
        for i in range(n):
            r = c.read_response()
            check(r.status == 200 and r.body == K1, "response %d of %d: %r" % (i, n, r))
        b1, n1 = counters()
        check(b1 - b0 >= 2, "%d responses of ~1.2 KB need more than one 64 KiB "
              "batch: %d batches" % (n, b1 - b0))
        check(n1 - n0 >= n - 2 * (b1 - b0), "batched responses %d of %d" % (n1 - n0, n))


@case
def t_bodies_skipped():
    with srv.connect() as c:
        warm(c, "/s.txt")
        body_req = (b"GET /s.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
                    b"hello world")
        c.send(body_req + request("/s.txt") + body_req + request("/s.txt"))
        for i in range(4):
            r = c.read_response()
            check(r.status == 200 and r.body == SMALL, "with bodies, %d: %r" % (i, r))


@case
def t_bad_request_ends_it():
    with srv.connect() as c:
        warm(c, "/s.txt")
        c.send(request("/s.txt") + request("/s.txt") + b"BAD\x01 / HTTP/1.1\r\n\r\n"
               + request("/s.txt"))
        for i in range(2):
            r = c.read_response()
            check(r.status == 200 and r.body == SMALL, "before the bad one, %d: %r" % (i, r))
        r = c.read_response()
        check(r.status == 400, "the bad request: %r" % r)
        check(c.closed_by_peer(), "closed after the 400, nothing more answered")


@case
def t_close_ends_it():
    with srv.connect() as c:
        warm(c, "/s.txt")
        c.send(request("/s.txt") + request("/s.txt", headers=["Connection: close"])
               + request("/s.txt") + request("/s.txt"))
        for i in range(2):
            r = c.read_response()
            check(r.status == 200 and r.body == SMALL, "up to the close, %d: %r" % (i, r))
        check(r.headers.get("connection", "").lower() == "close", "says close: %r" % r)
        check(c.closed_by_peer(), "closed after Connection: close")


def slow_conn():
    """A connection with a small receive buffer: the server's sends of a
    large batch come back short and must go on where they stopped."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", srv.port))
    s.settimeout(10)
    return s


def read_n(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return data


@case
def t_cached_bodies_uncopied():
    batches, batched = pipelined_gets("/k16.bin", K16, 32)
    check(batches <= 2 and batched >= 31,
          "32 pipelined 16,000-byte cached GETs: %d batches, %d batched "
          "(want at most 2 and 31 or more: bodies are not copied into "
          "the 64 KiB batch buffer)" % (batches, batched))


@case
def t_short_sends_and_replace():
    path = os.path.join(root, "r16.bin")
    with srv.connect() as c:
        warm(c, "/r16.bin")
    s = slow_conn()
    head = request("/r16.bin")
    s.sendall(head * 32)
    time.sleep(0.3)  # the batch is taken; its send waits for the reader
    new = os.urandom(16000)
    with open(path + ".new", "wb") as f:
        f.write(new)
    os.rename(path + ".new", path)
    got = b""
    # Read slowly: every send of the batch is cut short by the receive buffer.
    while got.count(b"HTTP/1.1 200") < 32 or not got.endswith(K16):
        chunk = s.recv(3000)
        if not chunk:
            break
        got += chunk
        time.sleep(0.001)
    s.close()
    parts = got.split(b"HTTP/1.1 200 OK\r\n")[1:]
    bodies = [p.partition(b"\r\n\r\n")[2] for p in parts]
    check(len(bodies) == 32 and all(b == K16 for b in bodies),
          "32 batched responses over short sends, all the bytes taken "
          "before the file was replaced: %d responses, %d exact"
          % (len(bodies), sum(b == K16 for b in bodies)))
    time.sleep(1.2)  # past --cache-validity: the change is seen
    with srv.connect() as c:
        c.send(request("/r16.bin"))
        r = c.read_response()
        check(r.status == 200 and r.body == new, "after the replace: the new bytes")


@case
def t_leave_mid_batch():
    for _ in range(3):
        s = slow_conn()
        s.sendall(request("/k16.bin") * 32)
        read_n(s, 20000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        s.close()  # a reset, the batch half sent
    time.sleep(0.2)
    with srv.connect() as c:
        c.send(request("/k16.bin") * 4)
        rs = [c.read_response() for _ in range(4)]
        check(all(r.status == 200 and r.body == K16 for r in rs),
              "serving on after clients left mid-batch")


@case
def t_http10():
    with srv.connect() as c:
        warm(c, "/s.txt")
        c.send(request("/s.txt", version="HTTP/1.0") * 3)
        r = c.read_response()
        check(r.status == 200 and r.body == SMALL, "HTTP/1.0: %r" % r)
        check(c.closed_by_peer(), "HTTP/1.0 without keep-alive: closed after one")


finish()
