#!/usr/bin/env python3
"""Persistent connections: many requests per connection, HTTP/1.0 and
Connection: close rules, pipelining in order, requests split across reads."""

import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, finish, make_tree, request)

files = {
    "a.txt": b"hello a\n",
    "b.html": b"<p>b</p>\n",
    "k4.bin": os.urandom(4096),
    "k100.bin": os.urandom(100000),
    "m1.bin": os.urandom(1 << 20),
}
base, root = make_tree(files)
srv = Server(root)


def conn_tokens(r):
    return [t.strip().lower()
            for t in r.headers.get("connection", "").split(",") if t.strip()]


def t_hundred_sequential():
    names = ["a.txt", "k4.bin", "b.html", "k100.bin"]
    with srv.connect() as c:
        for i in range(100):
            name = names[i % len(names)]
            c.send(request("/" + name))
            r = c.read_response()
            if not check(r.status == 200 and r.body == files[name],
                         "request %d (/%s) on one connection: %r"
                         % (i + 1, name, r)):
                return
            check("close" not in conn_tokens(r),
                  "request %d: server said Connection: close" % (i + 1))


def t_http10_default_close():
    with srv.connect() as c:
        c.send(request("/a.txt", version="HTTP/1.0", host=None))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "HTTP/1.0 GET: %r" % r)
        check("keep-alive" not in conn_tokens(r),
              "HTTP/1.0 without keep-alive: response says %r"
              % r.headers.get("connection"))
        check(c.closed_by_peer(), "HTTP/1.0 without keep-alive: connection "
              "left open after the response")


def t_http10_keepalive():
    with srv.connect() as c:
        for i in range(3):
            c.send(request("/a.txt", version="HTTP/1.0", host=None,
                           headers=["Connection: keep-alive"]))
            r = c.read_response()
            check(r.status == 200 and r.body == files["a.txt"],
                  "HTTP/1.0 keep-alive request %d: %r" % (i + 1, r))
            check("keep-alive" in conn_tokens(r),
                  "HTTP/1.0 keep-alive request %d: response Connection %r"
                  % (i + 1, r.headers.get("connection")))
        # A 1.0 request without the token ends the connection.
        c.send(request("/a.txt", version="HTTP/1.0", host=None))
        r = c.read_response()
        check(r.status == 200, "HTTP/1.0 final request: %r" % r)
        check(c.closed_by_peer(), "HTTP/1.0 final request without "
              "keep-alive: connection left open")


def t_connection_close():
    with srv.connect() as c:
        c.send(request("/k4.bin", headers=["Connection: close"]))
        r = c.read_response()
        check(r.status == 200 and r.body == files["k4.bin"],
              "Connection: close GET: %r" % r)
        check("close" in conn_tokens(r), "Connection: close request: "
              "response Connection %r" % r.headers.get("connection"))
        check(c.closed_by_peer(), "Connection: close: server left the "
              "connection open")
    # Also when the token is one of several, in another case.
    with srv.connect() as c:
        c.send(request("/a.txt", headers=["Connection: foo, CLOSE"]))
        r = c.read_response()
        check(r.status == 200, "Connection: foo, CLOSE: %r" % r)
        check(c.closed_by_peer(), "Connection: foo, CLOSE: connection left "
              "open")


def t_pipelined():
    targets = ["/a.txt", "/m1.bin", "/missing", "/k4.bin", "/b.html",
               "/k100.bin", "/a.txt", "/m1.bin", "/nope/x", "/k4.bin"]
    assert len(targets) == 10
    with srv.connect() as c:
        c.send(b"".join(request(t) for t in targets))
        for i, t in enumerate(targets):
            r = c.read_response()
            name = t[1:]
            if name in files:
                ok = r.status == 200 and r.body == files[name]
            else:
                ok = r.status == 404
            if not check(ok, "pipelined response %d (%s) wrong or out of "
                         "order: %r" % (i + 1, t, r)):
                return
        # The connection is still usable after the burst.
        c.send(request("/a.txt"))
        r = c.read_response()
        check(r.status == 200 and r.body == files["a.txt"],
              "request after pipelined burst: %r" % r)


def t_pipelined_ending_in_close():
    with srv.connect() as c:
        c.send(request("/a.txt") + request("/k100.bin") +
               request("/b.html", headers=["Connection: close"]) +
               request("/a.txt"))
        for name in ["a.txt", "k100.bin", "b.html"]:
            r = c.read_response()
            check(r.status == 200 and r.body == files[name],
                  "pipelined with close, /%s: %r" % (name, r))
        check(c.closed_by_peer(), "after a pipelined Connection: close the "
              "server answered more requests or left the connection open")


def t_pipelined_head_get():
    with srv.connect() as c:
        c.send(request("/k100.bin", "HEAD") + request("/k100.bin") +
               request("/a.txt", "HEAD") + request("/a.txt"))
        h = c.read_response("HEAD")
        g = c.read_response()
        check(h.status == 200 and h.headers.get("content-length") == "100000",
              "pipelined HEAD /k100.bin: %r" % h)
        check(g.status == 200 and g.body == files["k100.bin"],
              "GET /k100.bin after pipelined HEAD: %r" % g)
        h = c.read_response("HEAD")
        g = c.read_response()
        check(h.status == 200 and h.headers.get("content-length") == "8",
              "pipelined HEAD /a.txt: %r" % h)
        check(g.status == 200 and g.body == files["a.txt"],
              "GET /a.txt after pipelined HEAD: %r" % g)


def t_split_request():
    """A request head arriving in pieces must be parsed once complete."""
    req = request("/a.txt", headers=["User-Agent: split-test"])
    with srv.connect() as c:
        for cut in [(5, 17, 30), (len(req) - 2, len(req) - 1)]:
            prev = 0
            for pos in cut:
                c.send(req[prev:pos])
                prev = pos
                time.sleep(0.05)
            c.send(req[prev:])
            r = c.read_response()
            check(r.status == 200 and r.body == files["a.txt"],
                  "request split at %s: %r" % (cut, r))


def t_client_aborts():
    """Clients that reset or vanish mid-response (pipelined, mid-body, before
    reading anything) must cost the server nothing but the connection."""
    for i in range(20):
        c = srv.connect()
        c.send(request("/m1.bin") * 3)
        if i % 2:
            c.sock.recv(1000 + i * 7000)
        # SO_LINGER 0: close sends RST, as a killed client does.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.close()
    for _ in range(20):
        c = srv.connect()
        c.send(request("/m1.bin"))
        c.close()
    time.sleep(0.2)
    check(srv.alive(), "server died after clients aborted mid-response")
    with srv.connect() as c:
        c.send(request("/m1.bin"))
        r = c.read_response()
        check(r.status == 200 and r.body == files["m1.bin"],
              "GET after client aborts: %r" % r)


for t in [t_hundred_sequential, t_http10_default_close, t_http10_keepalive,
          t_connection_close, t_pipelined, t_pipelined_ending_in_close,
          t_pipelined_head_get, t_split_request, t_client_aborts]:
    case(t)
check(srv.alive(), "server died during the test")
finish()
