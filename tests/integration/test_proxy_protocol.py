#!/usr/bin/env python3
"""--proxy-protocol: PROXY v1/v2 headers from a raw client, and bad ones.

- v1 TCP4, TCP6 (and an IPv4-mapped TCP6 source), UNKNOWN; v2 TCP4 with
  TLVs, TCP6, LOCAL, AF_UNSPEC, AF_UNIX: each answered, and the access log
  shows the header's source (UNKNOWN, LOCAL and AF_UNSPEC keep the
  socket's peer, AF_UNIX logs "unix:").
- One header then keep-alive requests: all logged with its client; a
  header written one byte at a time works too.
- Refused, each by a close without a byte and counted in
  ringserve_proxy_errors_total: no header (plain HTTP, TLS), a v1 line
  over 107 bytes, bad numbers and addresses, a bare LF, a v2 length over
  --max-proxy-header, a header cut short by the client, and a slowloris
  header (closed by --header-timeout, not extended by each byte). A silent
  connection is closed at the timeout without being counted. Garbage is
  refused at once, not at a limit.
- A unix listener beside it expects no header.
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, case, check, finish, free_port, make_tree,  # noqa: E402
                     logged_peers, metrics_sum, request, sanitized)

BODY = b"proxied\n"
base, root = make_tree({"a.txt": BODY})
LOG = os.path.join(base, "access.log")
SOCK = os.path.join(base, "s.sock")
MPORT = free_port()
HEADER_TIMEOUT = 2
srv = Server(root, args=["-b", "127.0.0.1", "-b", "unix:" + SOCK, "-p", "0", "-t", "2",
                         "--proxy-protocol", "--header-timeout", str(HEADER_TIMEOUT),
                         "--access-log", LOG, "--log-format", "json",
                         "--metrics", "127.0.0.1:%d" % MPORT, root])
expected_errors = 0


def v2(cmd, fam, body):
    return (b"\r\n\r\n\0\r\nQUIT\n" + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body))
            + body)


def v2_inet(src, dst, sport, dport, tlvs=b""):
    return v2(1, 0x11, socket.inet_aton(src) + socket.inet_aton(dst)
              + struct.pack("!HH", sport, dport) + tlvs)


def v2_inet6(src, dst, sport, dport):
    return v2(1, 0x21, socket.inet_pton(socket.AF_INET6, src)
              + socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!HH", sport, dport))


def served(header, tag, n=1, split=False):
    """Header then n keep-alive GETs of /a.txt?tag-i; all must be 200."""
    with srv.connect() as c:
        if split:
            for b in header:
                c.sock.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            c.sock.sendall(header)
        for i in range(n):
            c.send(request("/a.txt?%s-%d" % (tag, i)))
            r = c.read_response()
            check(r.status == 200 and r.body == BODY, "%s: request %d answered: %r"
                  % (tag, i, r))


def refused(data, what, counted=True, shut=False, max_time=1.0):
    """data then (maybe) a half-close: closed without a byte, in time."""
    global expected_errors
    t0 = time.monotonic()
    with srv.connect() as c:
        try:
            c.sock.sendall(data)
            if shut:
                c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # a reset while still sending: closed indeed
        closed = c.closed_by_peer(timeout=HEADER_TIMEOUT + 3)
    dt = time.monotonic() - t0
    check(closed, "%s: closed without an answer" % what)
    check(dt < max_time, "%s: closed after %.2f s (at most %.1f)" % (what, dt, max_time))
    if counted:
        expected_errors += 1


def t_good():
    served(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 80\r\n", "v1tcp4")
    served(b"PROXY TCP6 2001:db8::7 2001:db8::1 4711 80\r\n", "v1tcp6")
    served(b"PROXY TCP6 ::ffff:192.0.2.9 ::ffff:10.0.0.1 4711 80\r\n", "v1mapped")
    served(b"PROXY UNKNOWN\r\n", "v1unknown")
    served(b"PROXY UNKNOWN 2001:db8::1 2001:db8::2 1 2\r\n", "v1unknown2")
    served(v2_inet("203.0.113.5", "10.0.0.1", 1234, 80,
                   b"\x01\x00\x02h2" + b"\x04\x00\x05\x00\x00\x00\x00\x00"), "v2tcp4")
    served(v2_inet6("2001:db8::beef", "2001:db8::1", 1234, 80), "v2tcp6")
    served(v2(0, 0x11, os.urandom(12)), "v2local")
    served(v2(1, 0x00, b""), "v2unspec")
    served(v2(1, 0x31, b"/client".ljust(108, b"\0") + b"/server".ljust(108, b"\0")), "v2unix")
    served(b"PROXY TCP4 198.51.100.77 10.0.0.1 1 80\r\n", "keepalive", n=3)
    served(v2_inet("198.51.100.88", "10.0.0.1", 1, 80), "split", split=True)
    # The header and the request in one segment.
    with srv.connect() as c:
        c.send(b"PROXY TCP4 198.51.100.99 10.0.0.1 1 80\r\n" + request("/a.txt?oneseg"))
        r = c.read_response()
        check(r.status == 200, "header and request in one send: %r" % r)


def t_good_logged():
    want = {
        "v1tcp4-0": "192.0.2.1", "v1tcp6-0": "2001:db8::7", "v1mapped-0": "192.0.2.9",
        "v1unknown-0": "127.0.0.1", "v1unknown2-0": "127.0.0.1", "v2tcp4-0": "203.0.113.5",
        "v2tcp6-0": "2001:db8::beef", "v2local-0": "127.0.0.1", "v2unspec-0": "127.0.0.1",
        "v2unix-0": "unix:", "keepalive-0": "198.51.100.77", "keepalive-1": "198.51.100.77",
        "keepalive-2": "198.51.100.77", "split-0": "198.51.100.88", "oneseg": "198.51.100.99",
    }
    got = logged_peers(LOG, want)
    for tag, addr in want.items():
        check(got.get(tag) == addr, "%s logged as %r, want %r" % (tag, got.get(tag), addr))


def t_refused():
    refused(request("/a.txt"), "plain HTTP without a header")
    refused(bytes.fromhex("160301") + os.urandom(200), "TLS ClientHello")
    refused(b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n", "v1 line of 116 bytes")
    refused(b"PROXY UNKNOWN " + b"x" * 120, "v1 of 134 bytes without CRLF")
    for bad in [b"PROXY TCP4 192.0.2.1 10.0.0.1 65536 80\r\n",
                b"PROXY TCP4 192.0.2.1 10.0.0.1 -1 80\r\n",
                b"PROXY TCP4 192.0.2.1 10.0.0.1 080 80\r\n",
                b"PROXY TCP4 192.0.2.1 10.0.0.1 99999999999 80\r\n",
                b"PROXY TCP4 192.0.2.256 10.0.0.1 1 80\r\n",
                b"PROXY TCP4 2001:db8::1 10.0.0.1 1 80\r\n",
                b"PROXY TCP6 192.0.2.1 10.0.0.1 1 80\r\n",
                b"PROXY TCP4 192.0.2.1  10.0.0.1 1 80\r\n",
                b"PROXY TCP4 192.0.2.1 10.0.0.1 1 80\n",
                b"PROXY UDP4 192.0.2.1 10.0.0.1 1 80\r\n",
                b"proxy TCP4 192.0.2.1 10.0.0.1 1 80\r\n"]:
        refused(bad + request("/a.txt"), "bad v1 %r" % bad)
    refused(v2(1, 0x11, bytes(3000)), "v2 over --max-proxy-header (16 + 3000 bytes)")
    hdr = v2(1, 0x11, bytes(2100))
    refused(hdr[:16], "v2 length over the limit, refused from its first 16 bytes")
    refused(v2(1, 0x12, bytes(12)), "v2 over UDP")
    refused(v2(2, 0x11, bytes(12)), "v2 command 2")
    refused(v2(1, 0x11, bytes(12) + b"\x01\x00\x09ab"), "v2 with a TLV cut short")
    refused(b"PROXY TCP4 192.0.2.1 10.0", "v1 cut short by the client", shut=True)
    refused(v2_inet("192.0.2.1", "10.0.0.1", 1, 80)[:20], "v2 cut short by the client",
            shut=True)
    # Slowloris: a byte every 0.4 s is not enough to keep it open.
    global expected_errors
    line = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 80\r\n"
    t0 = time.monotonic()
    with srv.connect() as c:
        c.sock.settimeout(0.4)
        closed_at = None
        for b in line:
            try:
                c.sock.sendall(bytes([b]))
                if c.sock.recv(1) == b"":
                    closed_at = time.monotonic()
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_at = time.monotonic()
                break
    check(closed_at is not None, "slowloris on the header: closed before it was complete")
    if closed_at:
        dt = closed_at - t0
        check(HEADER_TIMEOUT - 0.3 <= dt <= HEADER_TIMEOUT + 1.2,
              "slowloris closed after %.2f s (header timeout %d)" % (dt, HEADER_TIMEOUT))
    expected_errors += 1
    # Silent: closed at the timeout, but no PROXY error.
    refused(b"", "silent connection", counted=False, max_time=HEADER_TIMEOUT + 1.5)
    # Still serving.
    served(b"PROXY TCP4 192.0.2.200 10.0.0.1 1 80\r\n", "after")


def t_counted():
    deadline = time.monotonic() + 2
    n = -1
    while time.monotonic() < deadline:
        n = metrics_sum(MPORT, "proxy_errors_total")
        if n == expected_errors:
            break
        time.sleep(0.1)
    check(n == expected_errors, "ringserve_proxy_errors_total %d, want %d" % (n, expected_errors))
    check("PROXY" in srv.stderr_text(), "the refusals are reported on stderr")


def t_unix_needs_no_header():
    p = subprocess.run(["curl", "-s", "--max-time", "5", "--unix-socket", SOCK,
                        "http://localhost/a.txt?unix"], capture_output=True, timeout=10)
    check(p.returncode == 0 and p.stdout == BODY, "unix listener without a header: %r" % (p,))


for t in [t_good, t_good_logged, t_refused, t_counted, t_unix_needs_no_header]:
    case(t)
if sanitized():
    print("(sanitizer build)")
finish()
