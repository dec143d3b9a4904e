#!/usr/bin/env python3
"""Hostile input: a seeded mutation run over valid requests, a pipelining
flood from a client that never reads, request smuggling attempts (the bytes
after a refused request must never be answered as a request), a thousand
overlapping ranges, HTTP/2 and TLS bytes on the plain port, and request
bodies on GET that must be skipped, not parsed.

ABUSE_SEED=N reruns the mutation run with another seed; each failure prints
the seed, the case number and the bytes sent."""

import asyncio
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_timed, Server, case, check, check_latencies, finish,
                     make_tree, proc_status_kib, raise_nofile, request,
                     sanitized)

HEADER_TIMEOUT = 2
FAST = 1.0 if sanitized() else 0.5  # ordinary requests, meanwhile
SECRET = b"SECRET-CONTENT-must-never-be-served\n"
N_MUTATIONS = int(os.environ.get("ABUSE_N", "1500"))
SEED = int(os.environ.get("ABUSE_SEED", "20240611"))

files = {
    "a.txt": b"hello a\n",
    "b.txt": b"hello b, second\n",
    "k16.bin": os.urandom(16384),
    "k100.bin": os.urandom(100 * 1024),
    "secret.txt": SECRET,
    "dir/index.html": b"<p>index</p>\n",
}
base, root = make_tree(files)
raise_nofile(4096)
srv = Server(root, extra=["--header-timeout", str(HEADER_TIMEOUT)])
STATUS_RE = re.compile(rb"HTTP/1\.[01] ([1-5]\d\d)[ \r]")
# What a static server may say to any of the mutated requests; anything
# else (500, 502, ...) means the input reached a path it should not.
ALLOWED = {200, 204, 206, 301, 304, 400, 403, 404, 405, 408, 411, 412, 413, 414,
           416, 417, 431, 501, 505}  # 204: OPTIONS


def alive_get(what, s=None, timed=True):
    """GET /a.txt on a new connection: exact, and (if timed) fast; returns
    the seconds it took."""
    s = s or srv
    t0 = time.monotonic()
    with s.connect() as c:
        c.send(request("/a.txt"))
        r = c.read_response()
    took = time.monotonic() - t0
    check(r.status == 200 and r.body == files["a.txt"],
          "%s: GET /a.txt: %r" % (what, r))
    if timed:
        check(took < FAST, "%s: GET /a.txt took %.3f s" % (what, took))
    return took


def read_until_close(sock, timeout):
    """(bytes, closed): all bytes until EOF or reset, or until timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except ConnectionResetError:
        return data, True
    except socket.timeout:
        return data, False


# --------------------------------------------------------------- mutator

SEEDS = [
    b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"HEAD /b.txt HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"
    b"User-Agent: mutator/1.0\r\n\r\n",
    b"GET http://localhost/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /dir/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"GET /a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /k16.bin?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=0-10\r\n"
    b"If-None-Match: \"abc\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 "
    b"08:49:37 GMT\r\n\r\n",
    b"GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\nGET /b.txt HTTP/1.1\r\n"
    b"Host: h\r\n\r\n",
    b"GET /%61.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n"
    b"Cookie: a=b; c=d\r\n\r\n",
    b"GET /dir HTTP/1.1\r\nHost: h:8080\r\nConnection: keep-alive\r\n\r\n",
]
TOKENS = [b"\r", b"\n", b"\r\n", b"\r\n\r\n", b"\0", b" ", b"\t", b":",
          b"\xff", b"\x80", b"\xc0\xae", b"%", b"%00", b"%2e%2e/", b"../",
          b"/", b"?", b"#", b",", b";", b"\"", b"\x7f", b"\x1b", b"\x0b",
          b"HTTP/1.1", b"chunked", b"-1", b"0x10"]
EXTRA_HEADERS = [
    b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity",
    b"Content-Length: -1", b"Content-Length: 1, 1", b"Content-Length: 0",
    b"Content-Length: 99999999999999999999999999", b"Host: second",
    b"Expect: 100-continue", b"Upgrade: h2c", b"Connection: Upgrade, close",
    b"Range: bytes=0-0,-1,5-", b"Range: bytes=18446744073709551615-",
    b"X-Big: " + b"a" * 10000, b"Connection: keep-alive",
    b"If-Range: \"x\"", b"Content-Length: 3",
]
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS",
           b"TRACE", b"CONNECT", b"PRI", b"get", b"G\0T", b"FOO", b"M" * 300]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9",
            b"HTTP/1.1x", b"HTTP/10.1", b"http/1.1", b"HTTP/1", b"HTTP/1.01",
            b"HTTP/9.9", b""]


def mutate_once(rng, d):
    op = rng.randrange(14)
    n = len(d)
    pos = rng.randint(0, n) if n else 0
    if op == 0 and n:                                   # bit flips
        b = bytearray(d)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if op == 1:                                         # random bytes
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return d[:pos] + junk + d[pos:]
    if op == 2:                                         # special tokens
        return d[:pos] + rng.choice(TOKENS) + d[pos:]
    if op == 3 and n:                                   # deletion
        k = rng.randint(1, 8)
        return d[:pos] + d[pos + k:]
    if op == 4 and n:                                   # truncation
        return d[:rng.randrange(n)]
    lines = d.split(b"\r\n")
    if op == 5 and len(lines) > 2:                      # duplicate a line
        i = rng.randrange(1, len(lines) - 1)
        lines.insert(i, lines[i])
        return b"\r\n".join(lines)
    if op == 6:                                         # huge numbers
        digits = str(rng.choice([2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64,
                                 10 ** 30, 10 ** 40])).encode()
        m = list(re.finditer(rb"\d+", d))
        if m:
            x = rng.choice(m)
            return d[:x.start()] + digits + d[x.end():]
        return d[:pos] + digits + d[pos:]
    if op == 7:                                         # CR/LF games
        how = rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r", b"\r\n\r\n",
                          b"\r\n "])
        if rng.random() < 0.5:
            return d.replace(b"\r\n", how, 1 + rng.randrange(3))
        return d.replace(b"\r\n", how)
    if op == 8 and len(lines) > 2:                      # obs-fold
        i = rng.randrange(1, len(lines) - 1)
        lines[i] += b"\r\n " + rng.choice([b"x", b"chunked", b"5", b""])
        return b"\r\n".join(lines)
    if op == 9 and len(lines) > 1:                      # extra header
        lines.insert(1, rng.choice(EXTRA_HEADERS))
        return b"\r\n".join(lines)
    if op == 10 and lines:                              # method
        parts = lines[0].split(b" ")
        parts[0] = rng.choice(METHODS)
        lines[0] = b" ".join(parts)
        return b"\r\n".join(lines)
    if op == 11 and lines:                              # version
        parts = lines[0].split(b" ")
        parts[-1] = rng.choice(VERSIONS)
        lines[0] = b" ".join(parts)
        return b"\r\n".join(lines)
    if op == 12:                                        # 8-bit bytes
        hi = bytes(rng.randrange(0x80, 0x100)
                   for _ in range(rng.randint(1, 6)))
        return d[:pos] + hi + d[pos:]
    if op == 13 and len(lines) > 1:                     # many headers
        many = [b"X-H%d: v" % i for i in range(rng.choice([50, 99, 150]))]
        return b"\r\n".join(lines[:1] + many + lines[1:])
    return d + b"\0"


def mutations(seed, n):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        d = rng.choice(SEEDS)
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            d = mutate_once(rng, d)
        out.append(d)
    return out


OUTCOMES = {}


async def probe(i, data, timeout, half_close):
    """Send one mutated request (then, if half_close, end our side so that
    an incomplete head meets EOF instead of the header deadline). The
    answer must be a well-formed HTTP/1.x status line and head, or a clean
    close without a byte, within timeout. Returns None when fine, else a
    description."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(srv.host, srv.port), 5)
    except Exception as e:  # noqa: BLE001
        return "connect failed: %r" % e
    got = b""
    try:
        try:
            writer.write(data)
            await writer.drain()
            if half_close:
                writer.write_eof()
        except (ConnectionError, OSError):
            pass   # the server may close before it has read it all
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in got:
            left = deadline - time.monotonic()
            if left <= 0:
                return "no answer and no close in %g s (got %r)" % (
                    timeout, got[:80])
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except asyncio.TimeoutError:
                continue
            except ConnectionError:
                chunk = b""
            if not chunk:
                if got:
                    return "closed in the middle of a response head: %r" \
                        % got[:200]
                OUTCOMES["close"] = OUTCOMES.get("close", 0) + 1
                return None     # a clean close
            got += chunk
            if len(got) >= 12 and not STATUS_RE.match(got):
                return "answer is not an HTTP/1.x status line: %r" % got[:80]
        m = STATUS_RE.match(got)
        if not m:
            return "answer is not an HTTP/1.x status line: %r" % got[:80]
        status = int(m.group(1))
        OUTCOMES[status] = OUTCOMES.get(status, 0) + 1
        if status not in ALLOWED:
            return "unexpected status %d: %r" % (status, got[:200])
        return None
    finally:
        writer.close()


def t_mutations():
    n = N_MUTATIONS
    cases = mutations(SEED, n)
    timeout = HEADER_TIMEOUT + 1 + 3.0
    bad = []
    died = []

    async def main():
        sem = asyncio.Semaphore(200)
        done = [0]

        async def one(i, d):
            async with sem:
                if died:
                    return
                err = await probe(i, d, timeout, half_close=i % 2 == 1)
                if err:
                    bad.append((i, d, err))
                done[0] += 1
                if done[0] % 100 == 0 and not srv.alive():
                    died.append(i)
        await asyncio.gather(*[one(i, d) for i, d in enumerate(cases)])
    t0 = time.monotonic()
    asyncio.run(main())
    took = time.monotonic() - t0
    check(not died, "mutation seed %d: the server died around case %s"
          % (SEED, died[:1]))
    for i, d, err in sorted(bad)[:10]:
        check(False, "mutation seed %d case %d: %s; sent %r"
              % (SEED, i, err, d[:300]))
    check(not bad, "mutation run (seed %d): %d of %d cases failed"
          % (SEED, len(bad), n))
    check(srv.alive(), "server died during the mutation run")
    if srv.alive():
        alive_get("after %d mutated requests" % n)
    print("mutations: %d requests (seed %d) in %.1f s, %d bad; answers: %s"
          % (n, SEED, took, len(bad),
             ", ".join("%s x%d" % (k, v) for k, v in
                       sorted(OUTCOMES.items(), key=lambda kv: -kv[1]))))


# --------------------------------------------------------------- pipelining

def t_pipeline_flood():
    """A client sends pipelined GETs for a 16 KiB file as fast as it can and
    never reads: the server must stop reading (backpressure) instead of
    queueing input or output without bound, and keep serving others."""
    one = request("/k16.bin")
    blob = one * (1048576 // len(one))
    target = 20 << 20
    rss0 = proc_status_kib(srv.pid)
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    s.setblocking(False)
    sent = 0
    stalled_since = None
    peak = rss0
    lat = []
    t0 = time.monotonic()
    next_probe = t0
    while sent < target:
        now = time.monotonic()
        if now >= next_probe:
            next_probe = now + 0.1
            lat.append(alive_get("during the pipelining flood",
                                 timed=False))
            peak = max(peak, proc_status_kib(srv.pid))
        _, w, _ = select.select([], [s], [], 0.05)
        if not w:
            stalled_since = stalled_since or now
            if now - stalled_since > 2.0:
                break
            continue
        try:
            off = sent % len(blob)
            k = s.send(blob[off:off + 262144])
            sent += k
            stalled_since = None
        except BlockingIOError:
            continue
        except ConnectionError as e:
            check(False, "pipelining flood: server dropped the connection "
                  "after %d bytes: %r" % (sent, e))
            break
    took = time.monotonic() - t0
    for _ in range(5):
        peak = max(peak, proc_status_kib(srv.pid))
        lat.append(alive_get("during the pipelining flood", timed=False))
        time.sleep(0.05)
    check_latencies(lat, FAST, "during the pipelining flood")
    grow = (peak - rss0) / 1024.0
    check(grow < 50, "pipelining flood: server VmRSS grew %.1f MiB" % grow)
    check(sent < target, "pipelining flood: the server (and kernel) took "
          "all %d MiB of pipelined requests from a client that never reads; "
          "no backpressure" % (target >> 20))
    print("pipelining flood: %.1f MiB accepted before the sender stalled "
          "(%.1f s); VmRSS growth %.1f MiB; slowest other request %.3f s"
          % (sent / 1048576.0, took, grow, max(lat) if lat else -1))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.2)
    check(srv.alive(), "server died after the pipelining flood")
    alive_get("after the pipelining flood")


def t_pipeline_in_order():
    """2000 pipelined GETs sent by one thread while another reads: every
    response arrives, in order, exact; the last asks to close."""
    n = 2000
    names = ["k16.bin", "a.txt", "b.txt"]
    reqs = [request("/" + names[i % 3],
                    headers=["Connection: close"] if i == n - 1 else [])
            for i in range(n)]
    c = srv.connect(timeout=10)

    def writer():
        try:
            c.sock.sendall(b"".join(reqs))
        except OSError:
            pass
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    t0 = time.monotonic()
    ok = 0
    for i in range(n):
        r = c.read_response()
        if not check(r.status == 200 and r.body == files[names[i % 3]],
                     "pipelined response %d of %d: %r" % (i + 1, n, r)):
            break
        ok += 1
    th.join(10)
    check(ok == n, "pipelined: %d of %d responses right" % (ok, n))
    if ok == n:
        check(c.closed_by_peer(), "pipelined: connection left open after "
              "the final Connection: close request")
    c.close()
    print("pipelined in order: %d requests in %.1f s"
          % (ok, time.monotonic() - t0))


# --------------------------------------------------------------- smuggling

SMUGGLED = b"GET /secret.txt HTTP/1.1\r\nHost: x\r\n\r\n"
H = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n"


def chunk_of(data):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


SMUGGLING = [
    ("CL + TE", H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n"),
    ("TE + CL", H + b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n"
     b"\r\n0\r\n\r\n"),
    ("TE chunked", H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE chunked, request in the chunk",
     H + b"Transfer-Encoding: chunked\r\n\r\n" + chunk_of(SMUGGLED)),
    ("TE chunked on POST", b"POST /a.txt HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE xchunked", H + b"Transfer-Encoding: xchunked\r\n\r\n"),
    ("TE chunked, chunked", H + b"Transfer-Encoding: chunked, chunked\r\n\r\n"
     b"0\r\n\r\n"),
    ("TE identity", H + b"Transfer-Encoding: identity\r\n\r\n"),
    ("TE with space before colon", H + b"Transfer-Encoding : chunked\r\n\r\n"
     b"0\r\n\r\n"),
    ("TE with vertical tab", H + b"Transfer-Encoding:\x0bchunked\r\n\r\n"
     b"0\r\n\r\n"),
    ("two CL, different", H + b"Content-Length: 0\r\nContent-Length: 38\r\n"
     b"\r\n"),
    ("two CL, equal", H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\n"
     b"abc"),
    ("CL list", H + b"Content-Length: 3, 3\r\n\r\nabc"),
    ("CL with garbage", H + b"Content-Length: 3x\r\n\r\nabc"),
    ("CL two numbers", H + b"Content-Length: 3 3\r\n\r\nabc"),
    ("CL plus sign", H + b"Content-Length: +3\r\n\r\nabc"),
    ("CL negative", H + b"Content-Length: -3\r\n\r\n"),
    ("CL hex", H + b"Content-Length: 0x3\r\n\r\nabc"),
    ("CL exponent", H + b"Content-Length: 3e0\r\n\r\nabc"),
    ("CL 2^64", H + b"Content-Length: 18446744073709551619\r\n\r\nabc"),
    ("CL with space before colon", H + b"Content-Length : 3\r\n\r\nabc"),
    ("CL folded (obs-fold)", H + b"Content-Length: 0\r\n 38\r\n\r\n"),
    ("obs-fold", H + b"X-A: a\r\n Content-Length: 38\r\n\r\n"),
    ("obs-fold with tab", H + b"X-A: a\r\n\tb\r\n\r\n"),
    ("bare CR in a header", H + b"X-A: a\rContent-Length: 38\r\n\r\n"),
    ("bare CR line end", b"GET /a.txt HTTP/1.1\rHost: x\r\n\r\n"),
    ("bare LF in a header", H + b"X-A: a\nContent-Length: 38\r\n\r\n"),
    ("NUL in a value", H + b"X-A: a\0b\r\n\r\n"),
    ("NUL in a name", H + b"X-\0A: b\r\n\r\n"),
    ("NUL in the target", b"GET /a.txt\0 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("CR in the target", b"GET /a.txt\r HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("LF in a value after CL", H + b"Content-Length: 38\n\r\n"),
]


def t_smuggling():
    """Each framing attack gets a 400 and a close; the request that follows
    it in the same stream (sent at once, or after the 400 arrived) must
    never be answered."""
    for name, bad in SMUGGLING:
        # 1: everything in one write.
        with srv.connect() as c:
            c.send(bad + SMUGGLED)
            data, closed = read_until_close(c.sock, 4.0)
        n_status = len(re.findall(rb"HTTP/1\.[01] \d{3} ", data))
        check(data.startswith(b"HTTP/1.1 400 "),
              "smuggling %s: answer %r, expected 400" % (name, data[:60]))
        check(closed, "smuggling %s: connection not closed after the 400"
              % name)
        check(SECRET not in data and n_status <= 1,
              "smuggling %s: the bytes after the bad request were answered "
              "as a request: %r" % (name, data[:600]))
        # 2: the follow-up request only after the 400 arrived.
        with srv.connect() as c:
            c.send(bad)
            first = b""
            c.sock.settimeout(4.0)
            try:
                while b"\r\n\r\n" not in first:
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        break
                    first += chunk
                c.sock.sendall(SMUGGLED)
            except OSError:
                pass
            data, closed = read_until_close(c.sock, 4.0)
        data = first + data
        check(data.startswith(b"HTTP/1.1 400 ") and closed
              and SECRET not in data
              and len(re.findall(rb"HTTP/1\.[01] \d{3} ", data)) == 1,
              "smuggling %s, follow-up sent after the answer: expected one "
              "400 and a close; got %r (closed=%s)" % (name, data[:600],
                                                      closed))
    alive_get("after the smuggling cases")


def t_foreign_protocols():
    """HTTP/2 prior-knowledge preface: 505 and a close; a TLS ClientHello
    and an SSH banner: 400 or a clean close; nothing behind them answered,
    and no hang."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    with srv.connect() as c:
        c.send(preface + settings + SMUGGLED)
        data, closed = read_until_close(c.sock, 4.0)
    check(data.startswith(b"HTTP/1.1 505 ") and closed
          and SECRET not in data
          and len(re.findall(rb"HTTP/1\.[01] \d{3} ", data)) == 1,
          "HTTP/2 preface: expected 505 and a close, got %r (closed=%s)"
          % (data[:300], closed))
    # An h2c-style upgrade is just an ordinary request to us.
    with srv.connect() as c:
        c.send(request("/a.txt",
                       headers=["Connection: Upgrade, HTTP2-Settings",
                                "Upgrade: h2c",
                                "HTTP2-Settings: AAMAAABkAAQAAP__"]))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "Upgrade: h2c must be ignored: %r" % r)
    # A TLS 1.3 ClientHello with SNI, as a browser sends it first.
    rnd = random.Random(7)
    sni = b"localhost"
    ext_sni = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0,
                          len(sni)) + sni
    ext_ver = b"\x00\x2b\x00\x03\x02\x03\x04"
    ext_pad = b"\x00\x15\x00\x80" + b"\0" * 128
    exts = ext_sni + ext_ver + ext_pad
    body = (b"\x03\x03" + bytes(rnd.randrange(256) for _ in range(32))
            + b"\x20" + bytes(rnd.randrange(256) for _ in range(32))
            + b"\x00\x06\x13\x01\x13\x02\x13\x03" + b"\x01\x00"
            + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    hello = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
    for name, data_out in (("TLS ClientHello", hello),
                           ("TLS ClientHello + request", hello + SMUGGLED),
                           ("SSH banner", b"SSH-2.0-OpenSSH_9.2\r\n")):
        t0 = time.monotonic()
        with srv.connect() as c:
            c.send(data_out)
            data, closed = read_until_close(c.sock, HEADER_TIMEOUT + 3.0)
        took = time.monotonic() - t0
        ok = closed and (data == b"" or (
            STATUS_RE.match(data) and int(STATUS_RE.match(data).group(1))
            in (400, 408, 505)))
        check(ok and SECRET not in data
              and len(re.findall(rb"HTTP/1\.[01] \d{3} ", data)) <= 1,
              "%s: expected 400 (or a clean close), got %r (closed=%s, "
              "%.1f s)" % (name, data[:200], closed, took))
    alive_get("after foreign protocols")


# --------------------------------------------------------------- ranges

def t_many_ranges():
    """A thousand overlapping ranges (Apache CVE-2011-3192): 200 with the
    whole file, or 206 whose body is at most twice the file; quickly."""
    size = len(files["k100.bin"])
    big = Server(root, extra=["--max-header-size", "64K"])
    cases = [
        (srv, "1000 x '0-'", ",".join(["0-"] * 1000)),
        (srv, "1000 x suffix '-102400'", ",".join(["-102400"] * 1000)),
        (big, "1000 tiny ranges", ",".join("%d-%d" % (2 * i, 2 * i)
                                           for i in range(1000))),
        (big, "1000 distinct overlapping",
         ",".join("%d-%d" % (i * 50, size - 1 - i * 50)
                  for i in range(1000))),
        (big, "1000 x '0-' and '1-'", ",".join(["0-", "1-"] * 1000)),
        (srv, "end past 2^64", "0-18446744073709551617"),
        (srv, "start 2^63", "9223372036854775808-"),
        (srv, "suffix 2^63", "-9223372036854775808"),
    ]
    for s, name, spec in cases:
        t0 = time.monotonic()
        with s.connect(timeout=10) as c:
            c.send(request("/k100.bin", headers=["Range: bytes=" + spec]))
            r = c.read_response()
        took = time.monotonic() - t0
        if r.status == 200:
            ok = r.body == files["k100.bin"]
        elif r.status == 206:
            ok = 0 < len(r.body) <= 2 * size
        elif r.status == 416:
            ok = "2^" in name   # unsatisfiable only for the huge numbers
        else:
            ok = False
        check(ok, "Range %s: %d with %d body bytes (file %d)"
              % (name, r.status, len(r.body), size))
        check(took < 2.0, "Range %s: answer took %.2f s" % (name, took))
    alive_get("after many ranges")
    alive_get("after many ranges (64K head server)", big)
    big.stop()


# --------------------------------------------------------------- bodies

def body_with_request(n):
    """n bytes of request body that look like a request for the secret."""
    b = SMUGGLED + b"x" * n
    return b[:n]


def t_get_with_body():
    """A GET with a small body on a kept-alive connection, then another
    request: both answered, the body skipped (never parsed as a request),
    however the bytes are split."""
    body = body_with_request(100)
    first = H + b"Content-Length: 100\r\n\r\n"
    second = b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    splits = {
        "one write": [first + body + second],
        "head / body / next": [first, body, second],
        "body in pieces": [first + body[:1], body[1:40], body[40:] + second],
        "head+part / rest+next": [first + body[:50], body[50:] + second],
    }
    for name, pieces in splits.items():
        with srv.connect() as c:
            for p in pieces:
                c.send(p)
                time.sleep(0.05)
            r1 = c.read_response()
            r2 = c.read_response()
            check(r1.status == 200 and r1.body == files["a.txt"],
                  "GET with body (%s): first answer %r" % (name, r1))
            check(r2.status == 200 and r2.body == files["b.txt"],
                  "GET with body (%s): second answer %r (the body was "
                  "parsed as a request?)" % (name, r2))
            data, closed = read_until_close(c.sock, 0.3)
            check(not data and not closed,
                  "GET with body (%s): after the two answers got %r, "
                  "closed=%s; expected nothing, connection kept"
                  % (name, data[:200], closed))
    # HEAD with a body, the same.
    with srv.connect() as c:
        c.send(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
               b"\r\n" + body + second)
        r1 = c.read_response("HEAD")
        r2 = c.read_response()
        check(r1.status == 200 and r2.status == 200
              and r2.body == files["b.txt"],
              "HEAD with body then GET: %r, %r" % (r1, r2))
        data, closed = read_until_close(c.sock, 0.5)
        check(not data, "HEAD with body: extra bytes %r" % data[:200])
    # A body of exactly max-header-size (8K) is still skipped...
    body8k = body_with_request(8192)
    with srv.connect() as c:
        c.send(H + b"Content-Length: 8192\r\n\r\n" + body8k + second)
        r1 = c.read_response()
        r2 = c.read_response()
        check(r1.status == 200 and r1.body == files["a.txt"]
              and r2.status == 200 and r2.body == files["b.txt"],
              "GET with an 8 KiB body then GET: %r, %r" % (r1, r2))
        data, _ = read_until_close(c.sock, 0.5)
        check(not data, "GET with an 8 KiB body: extra bytes %r" % data[:200])
    # ...one byte more is refused with 413 and a close, the body unread.
    with srv.connect() as c:
        c.send(H + b"Content-Length: 8193\r\n\r\n" + body_with_request(8193)
               + second)
        data, closed = read_until_close(c.sock, 4.0)
        check(data.startswith(b"HTTP/1.1 413 ") and closed
              and SECRET not in data
              and len(re.findall(rb"HTTP/1\.[01] \d{3} ", data)) == 1,
              "GET with an 8193-byte body: expected one 413 and a close, "
              "got %r (closed=%s)" % (data[:300], closed))
    alive_get("after the bodies")


run_timed([t_smuggling, t_foreign_protocols, t_get_with_body, t_many_ranges,
          t_pipeline_in_order, t_pipeline_flood, t_mutations])
