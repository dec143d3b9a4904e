#!/usr/bin/env python3
"""The startup line ends with the URLs a person can open, and they work.

- -b 127.0.0.1 / -b ::1: exactly that address's URL, last on the line.
- no -b (all interfaces, "::" serving both families) and -b 0.0.0.0: the
  loopback URLs and a note; a GET through each URL is answered.
- The line keeps what tests and tools parse: "listening on ADDR:PORT".
"""
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, finish, ipv6_loopback, make_tree,  # noqa: E402
                     read_to_eof, request)

_, root = make_tree({"a.txt": b"opened\n"})
URL_RE = re.compile(r"http://(\[[0-9a-f:]+\]|[0-9.]+):(\d+)/")


def startup_line(srv):
    for ln in srv.stderr_text().splitlines():
        if "listening on" in ln:
            return ln
    return ""


def fetch(url):
    m = URL_RE.fullmatch(url)
    host = m.group(1).strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.settimeout(5)
        s.connect((host, int(m.group(2))))
        s.sendall(request("/a.txt", headers=["Connection: close"]))
        return read_to_eof(s)


def expect(bind, want_hosts, note):
    args = ["-p", "0", "-t", "1", root]
    if bind is not None:
        args = ["-b", bind] + args
    srv = Server(None, args=args)
    line = startup_line(srv)
    check(re.search(r"listening on \[?[0-9a-f.:]+\]?:%d," % srv.port, line),
          "%s: 'listening on ADDR:PORT' kept: %r" % (bind, line))
    tail = line.split("; open ", 1)[1] if "; open " in line else ""
    urls = URL_RE.findall(tail)
    got = [h for h, _ in urls]
    check(got == want_hosts and all(int(p) == srv.port for _, p in urls),
          "%s: URLs %s, want %s on port %d: %r" % (bind, got, want_hosts, srv.port, line))
    check(("this host's name" in tail) == note, "%s: the note: %r" % (bind, tail))
    if not note:
        check(line.endswith("/") and URL_RE.fullmatch(tail),
              "%s: the line ends with the URL: %r" % (bind, line))
    for h, p in urls:
        url = "http://%s:%s/" % (h, p)
        data = fetch(url)
        check(data.startswith(b"HTTP/1.1 200") and data.endswith(b"opened\n"),
              "%s: GET through %s: %r" % (bind, url, data[:100]))
    srv.stop()


def t_loopback():
    expect("127.0.0.1", ["127.0.0.1"], False)
    expect("0.0.0.0", ["127.0.0.1"], True)


def t_ipv6():
    if not ipv6_loopback():
        print("SKIP (ipv6): no IPv6 loopback")
        return
    expect("::1", ["[::1]"], False)
    expect(None, ["127.0.0.1", "[::1]"], True)


for fn in (t_loopback, t_ipv6):
    case(fn)
finish()
