#!/usr/bin/env python3
"""--trusted-proxy: the client from X-Forwarded-For or Forwarded.

- From a trusted peer (127.0.0.1 inside 127.0.0.0/8... here only
  127.0.0.1/32), the right-most untrusted X-Forwarded-For address is the
  client in the access log; several fields form one list; a spoofed
  left part does not matter; "unknown" stops at the hop that wrote it.
- From an untrusted peer (a client bound to 127.0.0.2) the header is
  ignored, whatever it says.
- Without --trusted-proxy nothing is taken from headers.
- --real-ip-header forwarded reads Forwarded (for=, quoted IPv6 with a
  port) and then ignores X-Forwarded-For.
- Each request of a keep-alive connection has its own client.
- ringserve_forwarded_clients_total counts the requests so attributed.
- A bad CIDR is a usage error (exit 2, one line naming the option).
- With --proxy-protocol, the trust is judged on the PROXY header's client.
- --trusted-proxy unix: trusts the clients of a unix listener (a local
  reverse proxy) and no TCP peer.
"""
import os
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, binary, case, check, finish, free_port,  # noqa: E402
                     logged_peers, make_tree, metrics_sum, request)

base, root = make_tree({"a.txt": b"ok\n"})


def ask(srv, tag, headers, source="127.0.0.1", prefix=b""):
    s = socket.socket()
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", srv.port))
    with Conn(s) as c:
        c.send(prefix + request("/a.txt?" + tag, headers=headers))
        r = c.read_response()
        check(r.status == 200, "%s answered: %r" % (tag, r))


def t_xff():
    log = os.path.join(base, "xff.log")
    mport = free_port()
    srv = Server(root, extra=["--trusted-proxy", "127.0.0.1/32", "--trusted-proxy", "10.0.0.0/8",
                              "--access-log", log, "--log-format", "json",
                              "--metrics", "127.0.0.1:%d" % mport])
    ask(srv, "one", ["X-Forwarded-For: 203.0.113.1"])
    ask(srv, "chain", ["X-Forwarded-For: 198.51.100.7, 203.0.113.1, 10.0.0.2"])
    ask(srv, "spoof", ["X-Forwarded-For: 6.6.6.6, 203.0.113.2"])
    ask(srv, "fields", ["X-Forwarded-For: 198.51.100.9", "X-Forwarded-For: 10.1.1.1"])
    ask(srv, "unknown", ["X-Forwarded-For: 203.0.113.3, unknown, 10.0.0.4"])
    ask(srv, "alltrusted", ["X-Forwarded-For: 10.0.0.5, 10.0.0.6"])
    ask(srv, "port", ["X-Forwarded-For: [2001:db8::9]:4711"])
    ask(srv, "none", [])
    ask(srv, "untrusted", ["X-Forwarded-For: 203.0.113.4"], source="127.0.0.2")
    # Keep-alive: each request its own client; a refused one its peer's.
    with srv.connect() as c:
        for tag, hdr in (("ka1", ["X-Forwarded-For: 192.0.2.1"]),
                         ("ka2", ["X-Forwarded-For: 192.0.2.2"]), ("ka3", [])):
            c.send(request("/a.txt?" + tag, headers=hdr))
            check(c.read_response().status == 200, "keep-alive %s" % tag)
    want = {"one": "203.0.113.1", "chain": "203.0.113.1", "spoof": "203.0.113.2",
            "fields": "198.51.100.9", "unknown": "10.0.0.4", "alltrusted": "10.0.0.5",
            "port": "2001:db8::9", "none": "127.0.0.1", "untrusted": "127.0.0.2",
            "ka1": "192.0.2.1", "ka2": "192.0.2.2", "ka3": "127.0.0.1"}
    got = logged_peers(log, want)
    for tag, addr in want.items():
        check(got.get(tag) == addr, "%s logged as %r, want %r" % (tag, got.get(tag), addr))
    n = metrics_sum(mport, "forwarded_clients_total")
    check(n == 9, "ringserve_forwarded_clients_total %d, want 9" % n)
    srv.stop()


def t_not_trusted_by_default():
    log = os.path.join(base, "plain.log")
    srv = Server(root, extra=["--access-log", log, "--log-format", "json"])
    ask(srv, "plain", ["X-Forwarded-For: 203.0.113.1", "Forwarded: for=203.0.113.1"])
    got = logged_peers(log, ["plain"])
    check(got.get("plain") == "127.0.0.1", "no --trusted-proxy: logged %r" % got.get("plain"))
    srv.stop()


def t_forwarded():
    log = os.path.join(base, "fwd.log")
    srv = Server(root, extra=["--trusted-proxy", "127.0.0.0/8", "--real-ip-header", "forwarded",
                              "--access-log", log, "--log-format", "json"])
    ask(srv, "f1", ['Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43'])
    ask(srv, "f2", ['Forwarded: for="[2001:db8:cafe::17]:4711", for=127.0.0.9'])
    ask(srv, "f3", ['Forwarded: for=unknown'])
    ask(srv, "fxff", ["X-Forwarded-For: 203.0.113.1"])
    want = {"f1": "192.0.2.60", "f2": "2001:db8:cafe::17", "f3": "127.0.0.1",
            "fxff": "127.0.0.1"}
    got = logged_peers(log, want)
    for tag, addr in want.items():
        check(got.get(tag) == addr, "%s logged as %r, want %r" % (tag, got.get(tag), addr))
    srv.stop()


def t_after_proxy_protocol():
    log = os.path.join(base, "pp.log")
    srv = Server(root, extra=["--proxy-protocol", "--trusted-proxy", "10.9.0.0/16",
                              "--access-log", log, "--log-format", "json"])
    # The PROXY client is the trusted hop, so its X-Forwarded-For counts...
    ask(srv, "pptrusted", ["X-Forwarded-For: 203.0.113.50"],
        prefix=b"PROXY TCP4 10.9.1.1 10.0.0.1 1 80\r\n")
    # ...while the socket's own peer (127.0.0.1, the balancer) is not trusted.
    ask(srv, "ppuntrusted", ["X-Forwarded-For: 203.0.113.51"],
        prefix=b"PROXY TCP4 192.0.2.44 10.0.0.1 1 80\r\n")
    want = {"pptrusted": "203.0.113.50", "ppuntrusted": "192.0.2.44"}
    got = logged_peers(log, want)
    for tag, addr in want.items():
        check(got.get(tag) == addr, "%s logged as %r, want %r" % (tag, got.get(tag), addr))
    srv.stop()


def t_unix_trusted():
    log = os.path.join(base, "unix.log")
    path = os.path.join(base, "r.sock")
    srv = Server(root, args=["-b", "127.0.0.1", "-b", "unix:" + path, "-p", "0", "-t", "2",
                             "--trusted-proxy", "unix:", "--access-log", log,
                             "--log-format", "json", root])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    with Conn(s) as c:
        c.send(request("/a.txt?viaunix", headers=["X-Forwarded-For: 203.0.113.77"]))
        check(c.read_response().status == 200, "unix request answered")
    ask(srv, "viatcp", ["X-Forwarded-For: 203.0.113.78"])  # TCP peers are not trusted
    want = {"viaunix": "203.0.113.77", "viatcp": "127.0.0.1"}
    got = logged_peers(log, want)
    for tag, addr in want.items():
        check(got.get(tag) == addr, "%s logged as %r, want %r" % (tag, got.get(tag), addr))
    srv.stop()


def t_bad_cidr():
    for bad in ["10.0.0.0/33", "10.0.0.1/8", "example.com", "::1/129", "10.0.0.0/", ""]:
        p = subprocess.run([binary(), "-b", "127.0.0.1", "-p", "0", "--trusted-proxy", bad, root],
                           capture_output=True, timeout=5, stdin=subprocess.DEVNULL)
        err = p.stderr.decode()
        check(p.returncode == 2 and len(err.strip().splitlines()) == 1 and
              "--trusted-proxy" in err, "bad CIDR %r: exit %s, %r" % (bad, p.returncode, err))


for t in [t_xff, t_not_trusted_by_default, t_forwarded, t_after_proxy_protocol, t_unix_trusted,
          t_bad_cidr]:
    case(t)
finish()
