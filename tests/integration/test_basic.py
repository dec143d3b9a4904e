#!/usr/bin/env python3
"""GET and HEAD of files of many sizes (around buffer and page edges), media
types, validators, index files, directory redirects, target forms."""

import email.utils
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (IMF_FIXDATE_RE, Server, case, check, finish, get,
                     make_tree, request)

MiB = 1 << 20
# Sizes straddle the edges a server cares about: empty, one byte, 1K/4K
# pages, 64K buffers, 256K pipes, and large files that take many sends.
SIZES = [0, 1, 100, 1023, 1024, 4095, 4096, 65535, 65536, 100000, 262144,
         MiB, 3 * MiB + 17, 8 * MiB]

files = {"f%d.bin" % n: os.urandom(n) for n in SIZES}
files.update({
    "a.txt": b"hello a\n",
    "index.html": b"<html>root index</html>\n",
    "style.css": b"body { color: red }\n",
    "page.html": b"<html>page</html>\n",
    "data.zzqq": b"unknown extension\n",
    "noext": b"no extension\n",
    "sub/index.html": b"<html>sub index</html>\n",
    "sub/b.txt": b"sub b\n",
    "with space.txt": b"space in name\n",
    "caf\u00e9.txt": b"utf-8 name\n",
    "noindex/c.txt": b"c\n",
})
TYPES = {".html": "text/html", ".css": "text/css", ".txt": "text/plain",
         ".bin": "application/octet-stream",
         ".zzqq": "application/octet-stream",
         "": "application/octet-stream"}

base, root = make_tree(files)
srv = Server(root)


def expect_type(name):
    return TYPES[os.path.splitext(name)[1]]


def check_common(r, what):
    """Headers every successful file response carries."""
    check("date" in r.headers and IMF_FIXDATE_RE.match(r.headers["date"]),
          "%s: Date missing or not IMF-fixdate: %r"
          % (what, r.headers.get("date")))
    check(r.count("date") <= 1, "%s: more than one Date" % what)
    check(r.headers.get("server"), "%s: no Server header" % what)
    check(r.count("content-length") == 1,
          "%s: Content-Length count %d" % (what, r.count("content-length")))


def check_file(r, name, what):
    data = files[name]
    check(r.status == 200, "%s: status %d, want 200" % (what, r.status))
    if r.status != 200:
        return
    check_common(r, what)
    check(r.headers.get("content-length") == str(len(data)),
          "%s: Content-Length %r, want %d"
          % (what, r.headers.get("content-length"), len(data)))
    check(r.media_type() == expect_type(name),
          "%s: Content-Type %r, want %s"
          % (what, r.headers.get("content-type"), expect_type(name)))
    lm = r.headers.get("last-modified", "")
    check(IMF_FIXDATE_RE.match(lm),
          "%s: Last-Modified missing or not IMF-fixdate: %r" % (what, lm))
    mtime = os.stat(os.path.join(root, name)).st_mtime
    want_lm = email.utils.formatdate(int(mtime), usegmt=True)
    check(lm == want_lm, "%s: Last-Modified %r, file mtime is %r"
          % (what, lm, want_lm))
    etag = r.headers.get("etag", "")
    check(len(etag) >= 2 and etag[0] == '"' and etag[-1] == '"'
          and '"' not in etag[1:-1],
          "%s: ETag not a quoted strong tag: %r" % (what, etag))


def t_get_sizes():
    etags = {}
    for n in SIZES:
        name = "f%d.bin" % n
        r = get(srv, "/" + name)
        check_file(r, name, "GET /" + name)
        check(r.body == files[name], "GET /%s: body differs (%d bytes, want "
              "%d)" % (name, len(r.body), n))
        etags.setdefault(r.headers.get("etag"), []).append(name)
    dup = {k: v for k, v in etags.items() if len(v) > 1}
    check(not dup, "same ETag for different files: %s" % dup)


def t_head_then_get_same_conn():
    """HEAD must carry the GET headers and no body: a stray body would be
    read as the start of the next response on this keep-alive connection."""
    names = ["f%d.bin" % n for n in SIZES] + [
        "a.txt", "style.css", "page.html", "data.zzqq", "noext"]
    with srv.connect() as c:
        for name in names:
            c.send(request("/" + name, "HEAD"))
            h = c.read_response("HEAD")
            check_file(h, name, "HEAD /" + name)
            c.send(request("/" + name))
            g = c.read_response("GET")
            check_file(g, name, "GET /%s after HEAD" % name)
            check(g.body == files[name],
                  "GET /%s after HEAD: body differs (HEAD sent a body?)"
                  % name)
            for hdr in ("content-length", "content-type", "etag",
                        "last-modified"):
                check(h.headers.get(hdr) == g.headers.get(hdr),
                      "HEAD/GET /%s: %s differs: %r vs %r"
                      % (name, hdr, h.headers.get(hdr), g.headers.get(hdr)))


def t_types():
    for name in ["a.txt", "style.css", "page.html", "data.zzqq", "noext"]:
        r = get(srv, "/" + name)
        check_file(r, name, "GET /" + name)
        check(r.body == files[name], "GET /%s: body differs" % name)


def t_index():
    r = get(srv, "/")
    check(r.status == 200 and r.body == files["index.html"],
          "GET /: want root index.html, got %r" % r)
    check(r.media_type() == "text/html",
          "GET /: Content-Type %r" % r.headers.get("content-type"))
    r = get(srv, "/sub/")
    check(r.status == 200 and r.body == files["sub/index.html"],
          "GET /sub/: want sub/index.html, got %r" % r)
    r = get(srv, "/sub/b.txt")
    check(r.status == 200 and r.body == files["sub/b.txt"],
          "GET /sub/b.txt: got %r" % r)


def location_path(loc):
    """Location may be a path or an absolute URL; return its path+query."""
    if "://" in loc:
        loc = "/" + loc.split("://", 1)[1].partition("/")[2]
    return loc


def t_dir_redirect():
    r = get(srv, "/sub")
    check(r.status == 301, "GET /sub: status %d, want 301" % r.status)
    check(location_path(r.headers.get("location", "")) == "/sub/",
          "GET /sub: Location %r, want /sub/" % r.headers.get("location"))
    check_common(r, "GET /sub")
    r = get(srv, "/sub?x=1")
    check(r.status == 301, "GET /sub?x=1: status %d, want 301" % r.status)
    check(location_path(r.headers.get("location", "")) in
          ("/sub/", "/sub/?x=1"),
          "GET /sub?x=1: Location %r" % r.headers.get("location"))


def t_query_and_encoding():
    for target, name in [("/a.txt?x=1", "a.txt"),
                         ("/a.txt?", "a.txt"),
                         ("/with%20space.txt", "with space.txt"),
                         ("/caf%C3%A9.txt", "caf\u00e9.txt"),
                         ("/caf%c3%a9.txt", "caf\u00e9.txt"),
                         ("/%61.txt", "a.txt"),
                         ("/sub/./b.txt", "sub/b.txt"),
                         ("/sub//b.txt", "sub/b.txt"),
                         ("/noindex/../a.txt", "a.txt")]:
        r = get(srv, target)
        check(r.status == 200 and r.body == files[name],
              "GET %s: want %s, got %r" % (target, name, r))


def t_absolute_form():
    for target in ["http://localhost/a.txt", "http://example.com/a.txt",
                   "http://localhost:8080/a.txt?q=1"]:
        r = get(srv, target)
        check(r.status == 200 and r.body == files["a.txt"],
              "GET %s: want a.txt, got %r" % (target, r))


def t_dir_without_index():
    r = get(srv, "/noindex/")
    check(r.status in (200, 403),
          "GET /noindex/: status %d, want 403 (or 200 listing)" % r.status)
    r = get(srv, "/missing-dir/")
    check(r.status == 404, "GET /missing-dir/: status %d, want 404"
          % r.status)


def t_http10():
    r = get(srv, "/a.txt", version="HTTP/1.0", host=None)
    check(r.status == 200 and r.body == files["a.txt"],
          "HTTP/1.0 GET without Host: got %r" % r)


for t in [t_get_sizes, t_head_then_get_same_conn, t_types, t_index,
          t_dir_redirect, t_query_and_encoding, t_absolute_form,
          t_dir_without_index, t_http10]:
    case(t)
check(srv.alive(), "server died during the test")
finish()
