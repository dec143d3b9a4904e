#!/usr/bin/env python3
"""HAProxy in front of ringserve, on 127.0.0.1 (Debian package haproxy).

- mode tcp with `send-proxy-v2`: ringserve --proxy-protocol logs the
  client HAProxy accepted (bound to 127.0.0.2 here), not HAProxy's own
  address; a keep-alive client's requests all carry it; large bodies pass.
- mode http with `option forwardfor`: with --trusted-proxy 127.0.0.1 the
  client (127.0.0.3) comes from X-Forwarded-For, a spoofed header sent by
  the client itself is not believed; without --trusted-proxy the log shows
  HAProxy's address.
- HAProxy's own health checks with the PROXY header (check-send-proxy)
  are not counted as errors.
"""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, case, check, finish, free_port, logged_peers,  # noqa: E402
                     make_tree, metrics_sum, request, skip)

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy")
                                      else None)
if not HAPROXY:
    skip("haproxy not installed")

BIG = os.urandom(2 << 20)
base, root = make_tree({"a.txt": b"behind haproxy\n", "big.bin": BIG})


def via(port, source, reqs):
    """Requests on one keep-alive connection from `source`; the responses."""
    s = socket.socket()
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    out = []
    with Conn(s) as c:
        for target, headers in reqs:
            c.send(request(target, headers=headers))
            out.append(c.read_response())
    return out


def start_haproxy(cfg_text):
    cfg = os.path.join(base, "haproxy-%d.cfg" % len(os.listdir(base)))
    with open(cfg, "w") as f:
        f.write(cfg_text)
    p = subprocess.Popen([HAPROXY, "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    atexit.register(lambda: p.poll() is None and p.kill())
    return p


def wait_port(port, proc):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("haproxy exited: %s" % proc.stderr.read().decode())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("haproxy did not listen on %d" % port)


def stop_haproxy(p):
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


GLOBAL = """global
    maxconn 200
defaults
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""


def t_send_proxy_v2():
    log = os.path.join(base, "tcp.log")
    mport = free_port()
    srv = Server(root, extra=["--proxy-protocol", "--access-log", log, "--log-format", "json",
                              "--metrics", "127.0.0.1:%d" % mport])
    front = free_port()
    hp = start_haproxy(GLOBAL + """
frontend f
    mode tcp
    bind 127.0.0.1:%d
    default_backend b
backend b
    mode tcp
    server s1 127.0.0.1:%d send-proxy-v2 check check-send-proxy inter 200ms
""" % (front, srv.port))
    try:
        wait_port(front, hp)
        rs = via(front, "127.0.0.2", [("/a.txt?t1", []), ("/a.txt?t2", []),
                                       ("/big.bin?t3", [])])
        check([r.status for r in rs] == [200, 200, 200], "through haproxy: %r" % rs)
        check(rs[2].body == BIG, "2 MiB through haproxy exact")
        time.sleep(0.7)  # a few health checks
    finally:
        stop_haproxy(hp)
    got = logged_peers(log, ["t1", "t2", "t3"])
    for t in ("t1", "t2", "t3"):
        check(got.get(t) == "127.0.0.2", "%s logged as %r, want the client 127.0.0.2"
              % (t, got.get(t)))
    n = metrics_sum(mport, "proxy_errors_total")
    check(n == 0, "haproxy's connections and health checks are no PROXY errors: %d" % n)
    srv.stop()


def t_forwardfor():
    log = os.path.join(base, "http.log")
    trusting = Server(root, extra=["--trusted-proxy", "127.0.0.1", "--access-log", log,
                                   "--log-format", "json"])
    plain_log = os.path.join(base, "http-plain.log")
    plain = Server(root, extra=["--access-log", plain_log, "--log-format", "json"])
    f1, f2 = free_port(), free_port()
    hp = start_haproxy(GLOBAL + """
frontend f1
    mode http
    bind 127.0.0.1:%d
    option forwardfor
    default_backend b1
backend b1
    mode http
    server s1 127.0.0.1:%d
frontend f2
    mode http
    bind 127.0.0.1:%d
    option forwardfor
    default_backend b2
backend b2
    mode http
    server s2 127.0.0.1:%d
""" % (f1, trusting.port, f2, plain.port))
    try:
        wait_port(f1, hp)
        wait_port(f2, hp)
        rs = via(f1, "127.0.0.3", [("/a.txt?h1", []),
                                    ("/a.txt?h2", ["X-Forwarded-For: 6.6.6.6"])])
        check([r.status for r in rs] == [200, 200], "http through haproxy: %r" % rs)
        rs = via(f2, "127.0.0.3", [("/a.txt?p1", [])])
        check(rs[0].status == 200, "http to the untrusting one: %r" % rs)
    finally:
        stop_haproxy(hp)
    got = logged_peers(log, ["h1", "h2"])
    check(got.get("h1") == "127.0.0.3", "X-Forwarded-For from a trusted haproxy: %r"
          % got.get("h1"))
    check(got.get("h2") == "127.0.0.3", "a spoofed X-Forwarded-For is not believed: %r"
          % got.get("h2"))
    got = logged_peers(plain_log, ["p1"])
    check(got.get("p1") == "127.0.0.1", "without --trusted-proxy haproxy itself: %r"
          % got.get("p1"))
    trusting.stop()
    plain.stop()


for t in [t_send_proxy_v2, t_forwardfor]:
    case(t)
finish()
