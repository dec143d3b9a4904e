#!/usr/bin/env python3
"""--header: headers a site adds to its responses.

- 'Name: value' goes on every file (200, 206 single and multipart, HEAD,
  304), listing and slash-redirect response, once; not on errors (404,
  405), like nginx's add_header.
- A name ringserve sends itself (Server, Cache-Control, also from
  --cache-control, X-Content-Type-Options) is replaced, never doubled;
  the listing's own Cache-Control too.
- 'GLOB Name: value' only where the decoded, normalised path matches:
  '*' within a segment, '**' across, '/**/' also none; a glob rule wins
  over a global one of the same name, a later glob over an earlier one;
  several lines of one name and glob are all sent (Link).
- Pipelined batches, keep-alive (nothing leaks from one request to the
  next), cached small files, large bodies (sendfile/splice paths).
- curl sees the same.
- Refused at startup with exit 2 and one line naming --header: a bad
  name, CR/LF in the value, no value, a header ringserve computes, too
  many; in the config file with FILE:LINE. The file's lines repeat; a
  --header on the command line replaces them; --check-config prints them.
"""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, get, make_tree,  # noqa: E402
                     parse_multipart, request)

BIG = os.urandom(300000)
base, root = make_tree({
    "a.txt": b"plain text\n",
    "page.html": b"<html>page</html>\n",
    "assets/app.js": b"console.log(1);\n" * 20,
    "assets/app.js.map": b"{}\n",
    "assets/sub/deep.js": b"deep();\n",
    "assets/big.bin": BIG,
    "docs/index.html": b"<html>docs</html>\n",
    "list/x.txt": b"x\n",
    "with space/f.txt": b"f\n",
})

HEADERS = [
    "X-Frame-Options: DENY",
    "/assets/* Cache-Control: public, max-age=31536000",
    "Cache-Control: no-store",
    "/assets/*.map Cache-Control: no-cache",
    "Server: edge",
    "X-Content-Type-Options: nosniff",
    "/assets/* Link: </a.css>; rel=preload; as=style",
    "/assets/* Link: </b.js>; rel=preload; as=script",
    "/docs/ X-Docs: index",
    "/**.html X-Html: yes",
    "/assets/**/deep.js X-Deep: yes",
    "/with?space/* X-Space: yes",  # a glob is one word: ? stands for the blank
]
extra = ["--cache-control", "max-age=5"]
for h in HEADERS:
    extra += ["--header", h]
srv = Server(root, extra=extra)


def values(r, name):
    return [v for n, v in r.header_list if n == name]


def site_headers(r, what, cache="no-store", link=False):
    """The global rules' lines once each, the built-ins replaced."""
    check(values(r, "x-frame-options") == ["DENY"], "%s: X-Frame-Options %r"
          % (what, values(r, "x-frame-options")))
    check(values(r, "server") == ["edge"], "%s: Server %r" % (what, values(r, "server")))
    check(values(r, "cache-control") == [cache], "%s: Cache-Control %r, want [%r]"
          % (what, values(r, "cache-control"), cache))
    links = values(r, "link")
    want = ["</a.css>; rel=preload; as=style", "</b.js>; rel=preload; as=script"] if link else []
    check(links == want, "%s: Link %r, want %r" % (what, links, want))


def t_files():
    r = get(srv, "/a.txt")
    check(r.status == 200 and r.body == b"plain text\n", "GET /a.txt: %r" % r)
    site_headers(r, "GET /a.txt")
    check(values(r, "x-content-type-options") == ["nosniff"], "nosniff once: %r"
          % values(r, "x-content-type-options"))
    r = get(srv, "/assets/app.js")
    site_headers(r, "GET /assets/app.js", "public, max-age=31536000", link=True)
    r = get(srv, "/assets/app.js", method="HEAD")
    check(r.status == 200 and r.body == b"", "HEAD: %r" % r)
    site_headers(r, "HEAD /assets/app.js", "public, max-age=31536000", link=True)
    # The later, narrower glob wins; '*' stays in its segment.
    site_headers(get(srv, "/assets/app.js.map"), "GET .map", "no-cache", link=True)
    r = get(srv, "/assets/sub/deep.js")
    site_headers(r, "GET /assets/sub/deep.js")
    check(values(r, "x-deep") == ["yes"], "'/assets/**/deep.js': %r" % values(r, "x-deep"))
    # Matched on the decoded, normalised path.
    r = get(srv, "/assets/./%61pp.js")
    site_headers(r, "GET /assets/./%61pp.js", "public, max-age=31536000", link=True)
    r = get(srv, "/with%20space/f.txt")
    check(r.status == 200 and values(r, "x-space") == ["yes"], "decoded space: %r" % r)
    # A large body goes by sendfile or splice: the head is the same.
    r = get(srv, "/assets/big.bin")
    check(r.status == 200 and r.body == BIG, "big body: %r" % r)
    site_headers(r, "GET /assets/big.bin", "public, max-age=31536000", link=True)


def t_ranges_and_304():
    r = get(srv, "/assets/app.js", headers=["Range: bytes=0-3"])
    check(r.status == 206 and r.body == b"cons", "206: %r" % r)
    site_headers(r, "206", "public, max-age=31536000", link=True)
    check(r.headers.get("content-range") == "bytes 0-3/320", "206 Content-Range %r"
          % r.headers.get("content-range"))
    r = get(srv, "/assets/big.bin", headers=["Range: bytes=0-9,200000-200009"])
    check(r.status == 206, "multipart 206: %r" % r)
    site_headers(r, "multipart 206", "public, max-age=31536000", link=True)
    parts = parse_multipart(r)
    check([p[1] for p in parts] == [BIG[:10], BIG[200000:200010]], "multipart parts")
    etag = get(srv, "/assets/app.js").headers["etag"]
    r = get(srv, "/assets/app.js", headers=["If-None-Match: " + etag])
    check(r.status == 304, "304: %r" % r)
    site_headers(r, "304", "public, max-age=31536000", link=True)
    r = get(srv, "/a.txt", headers=["If-None-Match: " + get(srv, "/a.txt").headers["etag"]])
    check(r.status == 304, "304 /a.txt: %r" % r)
    site_headers(r, "304 /a.txt")


def t_listing_index_redirect():
    r = get(srv, "/list/")
    check(r.status == 200 and b"x.txt" in r.body, "listing: %r" % r)
    site_headers(r, "listing")  # its own no-cache replaced
    r = get(srv, "/docs/")
    check(r.status == 200 and r.body == b"<html>docs</html>\n", "index: %r" % r)
    site_headers(r, "GET /docs/")
    # Matched as the path asked for: /docs/, not /docs/index.html.
    check(values(r, "x-docs") == ["index"] and values(r, "x-html") == [],
          "/docs/: X-Docs %r X-Html %r" % (values(r, "x-docs"), values(r, "x-html")))
    r = get(srv, "/docs/index.html")
    check(values(r, "x-docs") == [] and values(r, "x-html") == ["yes"],
          "/docs/index.html: X-Docs %r X-Html %r" % (values(r, "x-docs"), values(r, "x-html")))
    check(values(get(srv, "/page.html"), "x-html") == ["yes"], "'/**.html' on /page.html")
    r = get(srv, "/docs")
    check(r.status == 301 and r.headers.get("location") == "/docs/", "301: %r" % r)
    site_headers(r, "301")


def t_errors_untouched():
    for path, method, status in (("/missing.txt", "GET", 404), ("/a.txt", "POST", 405),
                                 ("/assets/nope.js", "GET", 404)):
        r = get(srv, path, method=method, headers=["Content-Length: 0"])
        what = "%s %s" % (method, path)
        check(r.status == status, "%s: status %d" % (what, r.status))
        check(values(r, "x-frame-options") == [] and values(r, "link") == [],
              "%s: --header lines on an error: %r" % (what, r.header_list))
        check(values(r, "server") == ["ringserve"] and
              values(r, "x-content-type-options") == ["nosniff"],
              "%s: built-ins kept: %r" % (what, r.header_list))
        if status == 405:
            check(r.headers.get("allow") == "GET, HEAD, OPTIONS", "405 Allow %r"
                  % r.headers.get("allow"))


def t_pipelined_and_keepalive():
    reqs = [("HEAD", "/assets/app.js"), ("GET", "/a.txt"), ("GET", "/missing"),
            ("GET", "/assets/app.js"), ("GET", "/a.txt")]
    with srv.connect() as c:
        c.send(b"".join(request(p, m) for m, p in reqs))
        for m, p in reqs:
            r = c.read_response(m)
            what = "pipelined %s %s" % (m, p)
            if p == "/missing":
                check(r.status == 404 and values(r, "x-frame-options") == [], what)
            elif p.startswith("/assets/"):
                check(r.status == 200, what)
                site_headers(r, what, "public, max-age=31536000", link=True)
            else:
                check(r.status == 200 and r.body == b"plain text\n", what)
                site_headers(r, what)
        # Keep-alive: one request's rules do not leak into the next.
        for p, link in (("/assets/app.js", True), ("/a.txt", False), ("/assets/app.js", True)):
            c.send(request(p))
            r = c.read_response()
            site_headers(r, "keep-alive " + p, "public, max-age=31536000" if link else "no-store",
                         link=link)


def t_curl():
    if not shutil.which("curl"):
        print("SKIP (curl): not installed")
        return
    url = "http://127.0.0.1:%d/assets/app.js" % srv.port
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "5", url],
                       capture_output=True, text=True, timeout=10)
    lines = [ln.lower() for ln in p.stdout.splitlines()]
    check(p.returncode == 0 and "cache-control: public, max-age=31536000" in lines and
          lines.count("link: </a.css>; rel=preload; as=style") == 1 and
          "x-frame-options: deny" in lines and "server: edge" in lines,
          "curl: %r %r" % (p.stdout, p.stderr))
    p = subprocess.run(["curl", "-sS", "-I", "--max-time", "5", url.replace("app.js", "x.js")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and "x-frame-options" not in p.stdout.lower(),
          "curl 404: %r" % p.stdout)


def run(args):
    p = subprocess.run([binary()] + args, capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def t_refused():
    _, r0 = make_tree({})
    bad = ["X-A", "X A: b", "X-A: a\r\nSet-Cookie: x", "X-A: a\nb", "X-A:", "(x): y",
           "Content-Length: 3", "Vary: Cookie", "/assets/*", "/assets/* Bad Name: x",
           "Access-Control-Allow-Origin: *", "X-A: \x01"]
    for b in bad:
        rc, out, err = run(["-b", "127.0.0.1", "-p", "0", "--header", b, r0])
        check(rc == 2 and len(err.strip().splitlines()) == 1 and "--header" in err,
              "--header %r: exit %s, %r" % (b, rc, err))
    many = []
    for i in range(65):
        many += ["--header", "X-N%d: v" % i]
    rc, out, err = run(["-b", "127.0.0.1", "-p", "0"] + many + [r0])
    check(rc == 2 and "at most 64" in err, "65 --header: %s %r" % (rc, err))
    conf = os.path.join(base, "bad.conf")
    with open(conf, "w") as f:
        f.write("header = X-A: ok\nheader = Content-Type: text/plain\n")
    rc, out, err = run(["--config", conf, "--check-config", r0])
    check(rc == 2 and "bad.conf:2:" in err and "--header" in err and
          len(err.strip().splitlines()) == 1, "config file: %s %r" % (rc, err))


def t_config_file():
    _, r0 = make_tree({})
    conf = os.path.join(base, "site.conf")
    with open(conf, "w") as f:
        f.write("header = X-A: one\nheader = \"/x/* X-B: two  words\"\n")
    rc, out, err = run(["--config", conf, "--check-config", r0])
    lines = out.splitlines()
    check(rc == 0 and "header = X-A: one" in lines and
          "header = /x/* X-B: two  words" in lines, "check-config: %s %r %r" % (rc, out, err))
    rc, out, err = run(["--config", conf, "--check-config", "--header", "X-C: cmd", r0])
    lines = [ln for ln in out.splitlines() if ln.startswith("header = ")]
    check(rc == 0 and lines == ["header = X-C: cmd"], "command line wins: %r" % lines)
    # And the server applies the file's rules.
    s = Server(r0, extra=["--config", conf])
    r = get(s, "/")
    check(values(r, "x-a") == ["one"] and values(r, "x-b") == [], "file rules served: %r"
          % r.header_list)
    s.stop()


for t in [t_files, t_ranges_and_304, t_listing_index_redirect, t_errors_untouched,
          t_pipelined_and_keepalive, t_curl, t_refused, t_config_file]:
    case(t)
finish()
