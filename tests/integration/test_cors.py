#!/usr/bin/env python3
"""--cors and OPTIONS.

- Without --cors, OPTIONS (any path, '*' too, HTTP/1.0 too) gets 204 with
  Allow: GET, HEAD, OPTIONS and no Access-Control-* header, even when it
  looks like a preflight; keep-alive goes on after it.
- --cors alone: Access-Control-Allow-Origin: * and the exposed headers on
  files, ranges, 304s, listings and errors, with or without an Origin, and
  no Vary: Origin.
- --cors=ORIGIN (repeatable): the matching origin echoed (as configured,
  normalised) with Vary: Origin; another origin, none, a malformed, huge or
  repeated one: Vary: Origin alone; status and body unchanged.
- Preflights (OPTIONS + Access-Control-Request-Method): 204 with the
  methods, the safe requested headers only (Range, If-*...), Max-Age from
  --cors-max-age; never a lookup (a missing or dot path answers the same);
  a malformed or huge request-headers list or method gets no CORS headers.
- Pipelined preflights and GETs stay in order; curl -H Origin sees it.
- Bad --cors / --cors-max-age values: exit 2, one line naming the option.
"""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, get, make_tree,  # noqa: E402
                     request)

base, root = make_tree({
    "a.txt": b"0123456789abcdef\n",
    "app.js": b"console.log(2);\n" * 10,
    "app.js.gz": b"\x1f\x8b pretend",
    "dir/x.txt": b"x\n",
    ".env": b"SECRET\n",
})
EXPOSE = "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified"
A = "https://a.example"
L = "http://localhost:8080"


def values(r, name):
    return [v for n, v in r.header_list if n == name]


def cors_names(r):
    return [n for n, _ in r.header_list if n.startswith("access-control-")]


def preflight(origin, method="GET", req_headers=None, path="/a.txt"):
    h = ["Origin: " + origin] if origin else []
    h.append("Access-Control-Request-Method: " + method)
    if req_headers is not None:
        h.append("Access-Control-Request-Headers: " + req_headers)
    return h


def t_no_cors():
    srv = Server(root)
    for target in ("/a.txt", "/missing", "*", "/.env"):
        r = get(srv, target, method="OPTIONS")
        check(r.status == 204 and r.headers.get("allow") == "GET, HEAD, OPTIONS" and
              "content-length" not in r.headers and not cors_names(r),
              "OPTIONS %s without --cors: %r" % (target, r))
    r = get(srv, "/a.txt", method="OPTIONS", headers=preflight(A, req_headers="range"))
    check(r.status == 204 and not cors_names(r) and "vary" not in r.headers,
          "preflight without --cors: %r" % r)
    r = get(srv, "/a.txt", headers=["Origin: " + A])
    check(r.status == 200 and not cors_names(r) and values(r, "vary") == ["Accept-Encoding"],
          "GET with Origin, no --cors: %r" % r)
    with srv.connect() as c:
        c.send(b"OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + request("/a.txt"))
        r1 = c.read_response("OPTIONS")
        r2 = c.read_response()
        check(r1.status == 204 and r1.version == "HTTP/1.1" and
              r2.status == 200 and r2.body == b"0123456789abcdef\n",
              "OPTIONS * (1.0 keep-alive) then GET: %r %r" % (r1, r2))
    srv.stop()


def t_any():
    srv = Server(root, extra=["--cors"])
    for what, hdrs in (("no Origin", []), ("Origin", ["Origin: https://x.example"]),
                       ("Origin null", ["Origin: null"])):
        r = get(srv, "/a.txt", headers=hdrs)
        check(r.status == 200 and r.body == b"0123456789abcdef\n", "%s: %r" % (what, r))
        check(values(r, "access-control-allow-origin") == ["*"] and
              values(r, "access-control-expose-headers") == [EXPOSE] and
              "Origin" not in values(r, "vary"), "--cors, %s: %r" % (what, r.header_list))
    for path, status, hdrs in (("/missing", 404, []), ("/a.txt", 206, ["Range: bytes=0-3"]),
                               ("/dir/", 200, []), ("/a.txt", 405, ["Content-Length: 0"])):
        r = get(srv, path, method="POST" if status == 405 else "GET",
                headers=hdrs + ["Origin: https://x.example"])
        check(r.status == status and values(r, "access-control-allow-origin") == ["*"],
              "--cors on %d: %r" % (status, r.header_list))
    etag = get(srv, "/a.txt").headers["etag"]
    r = get(srv, "/a.txt", headers=["If-None-Match: " + etag, "Origin: https://x.example"])
    check(r.status == 304 and values(r, "access-control-allow-origin") == ["*"],
          "--cors on 304: %r" % r.header_list)
    # A bad Origin: no CORS headers, but Vary so no cache hands this on.
    for bad in ("https://x.example/path", "x.example", "https://" + "h" * 400,
                "https://a b"):
        r = get(srv, "/a.txt", headers=["Origin: " + bad])
        check(r.status == 200 and r.body == b"0123456789abcdef\n" and not cors_names(r) and
              sorted(values(r, "vary")) == ["Accept-Encoding", "Origin"],
              "--cors, Origin %r: %r" % (bad[:40], r.header_list))
    r = get(srv, "/a.txt", headers=["Origin: https://x.example", "Origin: https://y.example"])
    check(not cors_names(r), "two Origins: %r" % r.header_list)
    r = get(srv, "/a.txt", method="OPTIONS", headers=preflight("https://x.example", req_headers="x-y"))
    check(r.status == 204 and values(r, "access-control-allow-origin") == ["*"] and
          "access-control-allow-headers" not in r.headers, "preflight under *: %r" % r.header_list)
    srv.stop()


def t_list():
    srv = Server(root, extra=["--cors=" + A, "--cors=HTTP://LocalHost:8080", "--cors-max-age", "600"])
    for origin in (A, L):
        r = get(srv, "/app.js", headers=["Origin: " + origin, "Accept-Encoding: gzip"])
        check(r.status == 200 and r.headers.get("content-encoding") == "gzip", "gz: %r" % r)
        check(values(r, "access-control-allow-origin") == [origin] and
              values(r, "access-control-expose-headers") == [EXPOSE] and
              sorted(values(r, "vary")) == ["Accept-Encoding", "Origin"],
              "Origin %s: %r" % (origin, r.header_list))
    for what, hdrs in (("other", ["Origin: https://b.example"]), ("none", []),
                       ("upper case", ["Origin: https://A.example"]),
                       ("default port", ["Origin: https://a.example:443"]),
                       ("trailing slash", ["Origin: https://a.example/"]),
                       ("twice", ["Origin: " + A, "Origin: " + A]),
                       ("huge", ["Origin: https://" + "a" * 5000])):
        r = get(srv, "/a.txt", headers=hdrs)
        check(r.status == 200 and r.body == b"0123456789abcdef\n" and not cors_names(r) and
              "Origin" in values(r, "vary"), "Origin %s: %r" % (what, r.header_list))
    r = get(srv, "/missing", headers=["Origin: " + A])
    check(r.status == 404 and values(r, "access-control-allow-origin") == [A],
          "404 carries CORS: %r" % r.header_list)
    srv.stop()


def t_preflight():
    srv = Server(root, extra=["--cors=" + A, "--cors-max-age=600"])
    r = get(srv, "/a.txt", method="OPTIONS",
            headers=preflight(A, req_headers="Range, x-custom, if-none-match,,"))
    check(r.status == 204 and r.body == b"", "preflight: %r" % r)
    check(r.headers.get("allow") == "GET, HEAD, OPTIONS", "Allow %r" % r.headers.get("allow"))
    check(values(r, "access-control-allow-origin") == [A] and values(r, "vary") == ["Origin"] and
          values(r, "access-control-allow-methods") == ["GET, HEAD, OPTIONS"] and
          values(r, "access-control-allow-headers") == ["if-none-match, range"] and
          values(r, "access-control-max-age") == ["600"] and
          "access-control-expose-headers" not in r.headers and "content-length" not in r.headers,
          "preflight headers: %r" % r.header_list)
    # No lookup: a missing file, a dotfile, a directory, '*' answer alike.
    want = sorted((n, v) for n, v in r.header_list if n != "date")
    for target in ("/missing", "/.env", "/dir", "*"):
        r2 = get(srv, target, method="OPTIONS",
                 headers=preflight(A, req_headers="Range, x-custom, if-none-match,,"))
        got = sorted((n, v) for n, v in r2.header_list if n != "date")
        check(r2.status == 204 and got == want, "preflight %s: %r" % (target, r2.header_list))
    r = get(srv, "/a.txt", method="OPTIONS", headers=preflight(A, method="PUT"))
    check(r.status == 204 and values(r, "access-control-allow-methods") == ["GET, HEAD, OPTIONS"] and
          "access-control-allow-headers" not in r.headers, "PUT preflight: %r" % r.header_list)
    for what, hdrs in (("other origin", preflight("https://b.example")),
                       ("bad list", preflight(A, req_headers="range; x")),
                       ("huge list", preflight(A, req_headers=", ".join(["x-h%d" % i for i in range(300)]))),
                       ("bad method", preflight(A, method="G(T")),
                       ("two methods", preflight(A) + ["Access-Control-Request-Method: GET"])):
        r = get(srv, "/a.txt", method="OPTIONS", headers=hdrs)
        check(r.status == 204 and r.headers.get("allow") == "GET, HEAD, OPTIONS" and
              not cors_names(r) and values(r, "vary") == ["Origin"],
              "preflight, %s: %r" % (what, r.header_list))
    # An OPTIONS with Origin but no request method is not a preflight.
    r = get(srv, "/a.txt", method="OPTIONS", headers=["Origin: " + A])
    check(r.status == 204 and values(r, "access-control-allow-origin") == [A] and
          values(r, "access-control-expose-headers") == [EXPOSE] and
          "access-control-allow-methods" not in r.headers, "plain OPTIONS: %r" % r.header_list)
    # Pipelined: preflight, GET, preflight, 404, in order, on one connection.
    reqs = [("OPTIONS", "/a.txt", preflight(A, req_headers="range")),
            ("GET", "/a.txt", ["Origin: " + A, "Range: bytes=0-1"]),
            ("OPTIONS", "*", []),
            ("GET", "/nope", ["Origin: https://b.example"])]
    with srv.connect() as c:
        c.send(b"".join(request(p, m, headers=h) for m, p, h in reqs))
        got = [c.read_response(m) for m, _, _ in reqs]
    check(got[0].status == 204 and values(got[0], "access-control-allow-headers") == ["range"],
          "pipelined preflight: %r" % got[0].header_list)
    check(got[1].status == 206 and got[1].body == b"01" and
          values(got[1], "access-control-allow-origin") == [A], "pipelined 206: %r" % got[1])
    check(got[2].status == 204 and not cors_names(got[2]), "pipelined OPTIONS *: %r" % got[2])
    check(got[3].status == 404 and not cors_names(got[3]) and values(got[3], "vary") == ["Origin"],
          "pipelined 404: %r" % got[3].header_list)
    srv.stop()


def t_curl():
    if not shutil.which("curl"):
        print("SKIP (curl): not installed")
        return
    srv = Server(root, extra=["--cors=" + A])
    url = "http://127.0.0.1:%d/a.txt" % srv.port
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "5",
                        "-H", "Origin: " + A, url], capture_output=True, text=True, timeout=10)
    lines = [ln.strip().lower() for ln in p.stdout.splitlines()]
    check(p.returncode == 0 and "access-control-allow-origin: " + A in lines and
          "vary: origin" in lines, "curl -H Origin: %r %r" % (p.stdout, p.stderr))
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "5",
                        "-X", "OPTIONS", "-H", "Origin: " + A,
                        "-H", "Access-Control-Request-Method: GET",
                        "-H", "Access-Control-Request-Headers: range", url],
                       capture_output=True, text=True, timeout=10)
    lines = [ln.strip().lower() for ln in p.stdout.splitlines()]
    check(p.returncode == 0 and lines and lines[0].startswith("http/1.1 204") and
          "access-control-allow-headers: range" in lines and
          "access-control-max-age: 7200" in lines, "curl preflight: %r %r" % (p.stdout, p.stderr))
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "5",
                        "-H", "Origin: https://evil.example", url],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and "access-control" not in p.stdout.lower(),
          "curl, other origin: %r" % p.stdout)
    srv.stop()


def t_bad_options():
    _, r0 = make_tree({})
    for args, name in ((["--cors=null"], "--cors"), (["--cors=https://a.example/"], "--cors"),
                       (["--cors=a.example"], "--cors"), (["--cors="], "--cors"),
                       (["--cors=https://a:99999"], "--cors"),
                       (["--cors-max-age=86401"], "--cors-max-age"),
                       (["--cors-max-age=-1"], "--cors-max-age")):
        p = subprocess.run([binary(), "-b", "127.0.0.1", "-p", "0"] + args + [r0],
                           capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and
              p.stderr.startswith("ringserve: " + name), "%s: exit %s, %r"
              % (args, p.returncode, p.stderr))
    many = ["--cors=https://h%d.example" % i for i in range(33)]
    p = subprocess.run([binary(), "-p", "0"] + many + [r0], capture_output=True, text=True,
                       timeout=10, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and "at most 32" in p.stderr, "33 --cors: %r" % p.stderr)
    # The config file: 'cors' alone is '*'.
    conf = os.path.join(base, "c.conf")
    with open(conf, "w") as f:
        f.write("cors\ncors = https://b.example\n")
    p = subprocess.run([binary(), "--config", conf, "--check-config", r0], capture_output=True,
                       text=True, timeout=10)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and "cors = *" in lines and "cors = https://b.example" in lines,
          "config cors: %r" % p.stdout[-300:])


for t in [t_no_cors, t_any, t_list, t_preflight, t_curl, t_bad_options]:
    case(t)
finish()
