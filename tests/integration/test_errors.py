#!/usr/bin/env python3
"""Error statuses: 404, 405, 501, and every request the parser must refuse
(framing, smuggling and garbage that has sunk real servers). After a refused
request head the server answers and closes; it must stay up throughout."""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Closed, IMF_FIXDATE_RE, Server, case, check, finish,
                     get, make_tree, raw, request)

base, root = make_tree({"a.txt": b"hello a\n", "index.html": b"<p>i</p>\n"})
srv = Server(root)

H = "Host: x\r\n"


def check_error(r, want, what):
    """An error response: the expected status, Date, and a small body framed
    by Content-Length."""
    wants = want if isinstance(want, tuple) else (want,)
    check(r.status in wants, "%s: status %d, want %s" % (what, r.status,
                                                         "/".join(map(str, wants))))
    cl = r.headers.get("content-length")
    check(cl is not None, "%s: error response without Content-Length" % what)
    if cl is not None:
        check(len(r.body) == int(cl) and int(cl) < 4096,
              "%s: body %d bytes, Content-Length %s (want small)"
              % (what, len(r.body), cl))
    check(IMF_FIXDATE_RE.match(r.headers.get("date", "")),
          "%s: Date missing or malformed: %r" % (what, r.headers.get("date")))


def refused(data, want, what):
    """Send a request the parser must refuse: expect status `want`, then the
    connection closed by the server."""
    try:
        r, c = raw(srv, data)
    except (Closed, OSError, ValueError) as e:
        check(False, "%s: no response (%s: %s); request %r"
              % (what, type(e).__name__, e, data[:120]))
        return
    with c:
        check_error(r, want, what + " (request %r)" % data[:120])
        check(c.closed_by_peer(), "%s: connection not closed after %d"
              % (what, r.status))


def t_not_found():
    r = get(srv, "/missing.txt")
    check_error(r, 404, "GET /missing.txt")
    r = get(srv, "/missing.txt", method="HEAD")
    check(r.status == 404, "HEAD /missing.txt: status %d" % r.status)


def t_method_not_allowed():
    for m in ["POST", "PUT", "DELETE"]:
        r = get(srv, "/a.txt", method=m, headers=["Content-Length: 0"])
        check_error(r, 405, m + " /a.txt")
        allow = [t.strip() for t in r.headers.get("allow", "").split(",")]
        check("GET" in allow and "HEAD" in allow and "OPTIONS" in allow,
              "%s /a.txt: Allow %r lacks GET, HEAD, OPTIONS"
              % (m, r.headers.get("allow")))
    # OPTIONS is answered (CORS preflights need it): 204 with Allow.
    r = get(srv, "/a.txt", method="OPTIONS", headers=["Content-Length: 0"])
    check(r.status == 204 and r.headers.get("allow") == "GET, HEAD, OPTIONS",
          "OPTIONS /a.txt: %r" % r)


def t_not_implemented():
    for m in ["FOO", "get", "Get"]:
        r = get(srv, "/a.txt", method=m)
        check_error(r, 501, m + " /a.txt")


def t_malformed_line():
    for line in [b"GET / HTTP/1.1 extra", b"GET / FTP/1.1", b"GET / HTTP/1.x",
                 b"GET / HTTP/1", b"GET / HTTP/1.1.1",
                 b"G(T / HTTP/1.1", b"GET", b" GET / HTTP/1.1"]:
        refused(line + b"\r\n" + H.encode() + b"\r\n", 400,
                "malformed request line")


def t_host_rules():
    refused(b"GET /a.txt HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host")
    refused(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400,
            "two Host headers")
    refused(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400,
            "two identical Host headers")
    refused(b"GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400,
            "Host with a space")


def t_header_syntax():
    cases = [
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n",
         "space before colon"),
        (b"GET /a.txt HTTP/1.1\r\nHost : x\r\n\r\n", "space before colon "
         "in Host"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n  b\r\n\r\n",
         "obs-fold"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n\tb\r\n\r\n",
         "obs-fold with tab"),
        (b"GET /a.txt HTTP/1.1\nHost: x\n\n", "bare LF line endings"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\nX-Foo: y\r\n\r\n",
         "one bare LF"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Foo: a\rb\r\n\r\n",
         "bare CR in a value"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Foo: a\x00b\r\n\r\n",
         "NUL in a header value"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-F\x00o: a\r\n\r\n",
         "NUL in a header name"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
         "empty header name"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
         "header line without colon"),
    ]
    for data, what in cases:
        refused(data, 400, what)


def t_limits():
    refused(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n" + H.encode() + b"\r\n",
            414, "10000-byte request line")
    hdrs = b"".join(b"X-Hdr-%03d: " % i + b"v" * 87 + b"\r\n"
                    for i in range(200))
    assert len(hdrs) == 200 * 100
    refused(b"GET /a.txt HTTP/1.1\r\n" + H.encode() + hdrs + b"\r\n", 431,
            "200 headers of 100 bytes")


def t_versions():
    for v in [b"HTTP/2.0", b"HTTP/3.0"]:
        refused(b"GET /a.txt " + v + b"\r\n" + H.encode() + b"\r\n", 505,
                v.decode())
    r = get(srv, "/a.txt", version="HTTP/1.2")
    check(r.status == 200 and r.body == b"hello a\n",
          "HTTP/1.2 should be served as 1.1; got %r" % r)


def no_bare_answer(data, allowed, what, within=5.0):
    """Garbage or an old protocol: either an HTTP error status from
    `allowed`, or a close without any bytes; never silence (a hang) and never
    anything that is not an HTTP/1.x status line."""
    c = srv.connect()
    with c:
        t0 = time.monotonic()
        c.send(data)
        got, closed = c.read_all(timeout=within)
        dt = time.monotonic() - t0
    if not got:
        check(closed, "%s: no answer and not closed after %.1fs (hang)"
              % (what, dt))
        return
    status = got[9:12]
    check(got.startswith(b"HTTP/1.") and status.isdigit()
          and int(status) in allowed,
          "%s: want %s or a close, got %r" % (what, allowed, got[:200]))
    check(closed, "%s: answered %r but did not close within %.1fs"
          % (what, got[:12], within))


def t_old_and_foreign_protocols():
    no_bare_answer(b"GET /\r\n\r\n", (400,), "HTTP/0.9 request")
    no_bare_answer(b"GET /a.txt\r\n\r\n", (400,), "HTTP/0.9 request for a "
                   "file")
    no_bare_answer(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400, 505),
                   "HTTP/2 preface")
    # A TLS 1.2-style ClientHello record: it has no CRLF at all, so the
    # server must judge it as garbage at once instead of waiting for more.
    hello = (b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x04\x13\x01\x00\xff"
             + b"\x01\x00" + b"\x00\x00")
    hs = b"\x01" + len(hello).to_bytes(3, "big") + hello
    tls = b"\x16\x03\x01" + len(hs).to_bytes(2, "big") + hs
    no_bare_answer(tls, (400,), "TLS ClientHello", within=2.0)


def t_framing():
    cases = [
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
         b"\r\n0\r\n\r\n", "Transfer-Encoding: chunked"),
        (b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "Content-Length with Transfer-Encoding"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n"
         b"\r\n", "Transfer-Encoding: identity"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n"
         b"hello", "Content-Length: +5"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
         "Content-Length: -1"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Content-Length: 6\r\n\r\nhello!", "two different Content-Lengths"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n"
         b"hello!", "Content-Length list"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n",
         "hex Content-Length"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: "
         b"99999999999999999999\r\n\r\n", "20-digit Content-Length"),
        (b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
         "empty Content-Length"),
    ]
    for data, what in cases:
        refused(data, 400, what)


def t_still_alive():
    check(srv.alive(), "server is not running after the error cases")
    r = get(srv, "/a.txt")
    check(r.status == 200 and r.body == b"hello a\n",
          "final GET /a.txt after the error cases: %r" % r)


for t in [t_not_found, t_method_not_allowed, t_not_implemented,
          t_malformed_line, t_host_rules, t_header_syntax, t_limits,
          t_versions, t_old_and_foreign_protocols, t_framing, t_still_alive]:
    case(t)
finish()
