#!/usr/bin/env python3
"""Precompressed sidecars (choice by Accept-Encoding q-values, stale or
non-regular sidecars ignored, headers, ranges and HEAD on them,
--no-precompressed), dotfile refusal (--dotfiles), --follow-symlinks
never|inside|always, charset parameters (--charset), --cache-control,
the Server header (--server-header), X-Content-Type-Options, and HEAD
parity with GET on every kind of response."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, case, check, finish, get, make_tree, request

T0 = 1600000000

files = {
    "app.js": b"console.log('identity bytes');\n" * 50,
    "app.js.br": b"BROTLI-SIDECAR" * 7,
    "app.js.zst": b"ZSTD-SIDECAR!" * 9,
    "app.js.gz": b"GZIP-SIDECAR" * 11,
    "onlygz.css": b"body{color:red}\n" * 30,
    "onlygz.css.gz": b"GZ-CSS" * 5,
    "stale.txt": b"fresh original text\n" * 20,
    "stale.txt.gz": b"STALE-GZ",
    "stale.txt.br": b"FRESH-BR",
    "equal.txt": b"equal mtime original\n",
    "equal.txt.gz": b"EQUAL-GZ",
    "dirside.txt": b"sidecar is a directory\n",
    "dirside.txt.gz/x": b"not a file\n",
    "orphan.gz": b"ORPHAN",
    "a.txt": b"plain text\n",
    "page.html": b"<html>page</html>\n",
    "data.json": b'{"a": 1}\n',
    "style.css": b"p{}\n",
    "blob.bin": os.urandom(3000),
    "pic.png": b"\x89PNG\r\n\x1a\n" + os.urandom(100),
    "big.bin": os.urandom(300000),
    ".env": b"SECRET=1\n",
    ".htpasswd": b"user:hash\n",
    ".git/config": b"[core]\n",
    ".git/HEAD": b"ref: refs/heads/main\n",
    "sub/.secret": b"secret\n",
    "sub/ok.txt": b"ok\n",
    ".dotdir/file.txt": b"in dot dir\n",
    "dir/index.html": b"<html>dir index</html>\n",
}
base, root = make_tree(files)
outside_dir = os.path.join(base, "outside")
os.makedirs(outside_dir)
with open(os.path.join(base, "outside.txt"), "wb") as f:
    f.write(b"OUTSIDE FILE\n")
with open(os.path.join(outside_dir, "x.txt"), "wb") as f:
    f.write(b"OUTSIDE DIR FILE\n")
SYMLINKS = {
    "in_rel": "a.txt",                               # inside, relative
    "in_abs": os.path.join(root, "a.txt"),           # inside, absolute
    "out_rel": "../outside.txt",                     # outside, relative
    "out_abs": os.path.join(base, "outside.txt"),    # outside, absolute
    "dirlink": "sub",                                # directory inside
    "sub/up": "../a.txt",                            # inside through ..
    "outdir": "../outside",                          # directory outside
    "chain": "in_rel",                               # link to a link
    "chain_out": "out_rel",                          # link to an outside link
    "dangling": "nope.txt",
    "loop1": "loop2", "loop2": "loop1",
}
for link, target in SYMLINKS.items():
    os.symlink(target, os.path.join(root, link))


def mtime(rel, t):
    p = os.path.join(root, rel)
    os.utime(p, (t, t), follow_symlinks=False)


for n in ("app.js", "app.js.br", "app.js.zst", "app.js.gz", "onlygz.css",
          "onlygz.css.gz", "equal.txt", "equal.txt.gz", "dirside.txt"):
    mtime(n, T0)
mtime("stale.txt", T0)
mtime("stale.txt.gz", T0 - 10)     # older than the file: must be ignored
mtime("stale.txt.br", T0 + 10)

srv = Server(root)


def ae(path, value, method="GET", extra=()):
    hdrs = list(extra)
    if value is not None:
        hdrs.append("Accept-Encoding: " + value)
    return get(srv, path, method=method, headers=hdrs)


SIDE = {"br": ".br", "zstd": ".zst", "gzip": ".gz", None: ""}


def check_choice(path, value, coding, what=None, s=None):
    """coding: 'br', 'zstd', 'gzip' or None (identity)."""
    s = s or srv
    what = what or "%s with Accept-Encoding %r" % (path, value)
    hdrs = [] if value is None else ["Accept-Encoding: " + value]
    r = get(s, path, headers=hdrs)
    ident = get(s, path)
    name = path.lstrip("/")
    want = files[name + SIDE[coding]]
    if not check(r.status == 200, "%s: status %d" % (what, r.status)):
        return r
    check(r.headers.get("content-encoding") == coding,
          "%s: Content-Encoding %r, want %r"
          % (what, r.headers.get("content-encoding"), coding))
    check(r.body == want, "%s: body is not %s%s (got %r...)"
          % (what, name, SIDE[coding], r.body[:20]))
    check(r.headers.get("content-length") == str(len(want)),
          "%s: Content-Length %r" % (what, r.headers.get("content-length")))
    check(r.headers.get("content-type") == ident.headers.get("content-type"),
          "%s: Content-Type %r, the original's is %r"
          % (what, r.headers.get("content-type"),
             ident.headers.get("content-type")))
    if coding:
        check("accept-encoding" in r.headers.get("vary", "").lower(),
              "%s: Vary %r" % (what, r.headers.get("vary")))
        check(r.headers.get("etag") and
              r.headers.get("etag") != ident.headers.get("etag"),
              "%s: ETag %r not distinct from the original's"
              % (what, r.headers.get("etag")))
        check(not r.headers.get("etag", "").startswith("W/"),
              "%s: sidecar ETag is weak" % what)
    return r


def sidecar_choice():
    P = "/app.js"
    table = [
        (None, None), ("identity", None), ("gzip", "gzip"), ("br", "br"),
        ("zstd", "zstd"), ("GZIP", "gzip"), ("Br", "br"),
        ("gzip, deflate", "gzip"), ("deflate", None), ("compress", None),
        ("gzip, br", "br"), ("gzip, zstd", "zstd"), ("zstd, br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"), ("br;q=0.5, gzip;q=0.6", "gzip"),
        ("gzip;q=0.5, zstd;q=0.6, br;q=0.4", "zstd"),
        ("br;q=0, gzip", "gzip"), ("br;q=0, zstd;q=0, gzip", "gzip"),
        ("gzip;q=0", None), ("gzip;q=0.000", None), ("gzip;q=0.001", "gzip"),
        ("gzip; q=0", None), ("gzip ; q=0.5", "gzip"), ("gzip;Q=0", None),
        ("*", "br"), ("*;q=0", None), ("*;q=0.5, gzip", "gzip"),
        ("br;q=0, *", "zstd"), ("br;q=0, zstd;q=0, *", "gzip"),
        ("*, br;q=0, zstd;q=0, gzip;q=0", None),
        ("br;q=0.5, zstd;q=0.5, gzip;q=0.5", "br"),
        ("zstd;q=0.9, gzip;q=0.9", "zstd"), ("gzip, br;q=1.0", "br"),
        ("identity;q=0, gzip", "gzip"), ("", None), (" , ,gzip", "gzip"),
    ]
    for value, coding in table:
        check_choice(P, value, coding)
    # Only a .gz exists: br/zstd requests get identity.
    check_choice("/onlygz.css", "br", None)
    check_choice("/onlygz.css", "br, zstd", None)
    check_choice("/onlygz.css", "br, gzip;q=0.1", "gzip")
    check_choice("/onlygz.css", "*", "gzip")


def sidecar_validity():
    # Older than the original: ignored; newer or equal: used.
    check_choice("/stale.txt", "gzip", None, "stale .gz")
    check_choice("/stale.txt", "gzip, br", "br", "stale .gz, fresh .br")
    check_choice("/equal.txt", "gzip", "gzip", "sidecar with equal mtime")
    # A sidecar that is a directory is not served.
    check_choice("/dirside.txt", "gzip", None, "sidecar is a directory")
    # No original: the sidecar alone does not make /orphan exist.
    r = ae("/orphan", "gzip")
    check(r.status == 404, "/orphan with only orphan.gz: %d, want 404"
          % r.status)
    # The sidecar itself, asked by name, is an ordinary file.
    r = ae("/app.js.gz", "gzip")
    check(r.status == 200 and r.body == files["app.js.gz"]
          and "content-encoding" not in r.headers,
          "GET /app.js.gz by name: %d, Content-Encoding %r" %
          (r.status, r.headers.get("content-encoding")))
    # The identity response of a file with sidecars also varies.
    r = ae("/app.js", None)
    check("accept-encoding" in r.headers.get("vary", "").lower(),
          "identity response of a file with sidecars: Vary %r"
          % r.headers.get("vary"))
    # Making a sidecar stale at run time takes effect (after the worker
    # caches' validity, 1 s by default).
    mtime("equal.txt.gz", T0 - 5)
    time.sleep(1.5)
    check_choice("/equal.txt", "gzip", None, "sidecar made stale at run time")
    mtime("equal.txt.gz", T0)


def sidecar_ranges_head():
    r = ae("/app.js", "gzip", extra=["Range: bytes=0-3"])
    gz = files["app.js.gz"]
    check(r.status == 206 and r.body == gz[:4]
          and r.headers.get("content-range") == "bytes 0-3/%d" % len(gz)
          and r.headers.get("content-encoding") == "gzip",
          "Range on the gzip sidecar: %r %r" % (r, r.body[:10]))
    r = ae("/app.js", "br", extra=["Range: bytes=-2,0-0"])
    check(r.status == 206 and r.media_type() == "multipart/byteranges"
          and r.headers.get("content-encoding") == "br",
          "multipart Range on br sidecar: %r" % r)
    for value in ("gzip", "br", "zstd", None):
        g = ae("/app.js", value)
        h = ae("/app.js", value, method="HEAD")
        check_head_parity(g, h, "app.js AE %r" % value)


NO_PRE = Server(root, ["--no-precompressed"])


def no_precompressed():
    for value in ("gzip", "br", "zstd", "*"):
        r = get(NO_PRE, "/app.js", headers=["Accept-Encoding: " + value])
        check(r.status == 200 and r.body == files["app.js"]
              and "content-encoding" not in r.headers,
              "--no-precompressed with %r: Content-Encoding %r"
              % (value, r.headers.get("content-encoding")))


# ------------------------------------------------------------ dotfiles

DOT_PATHS = ["/.env", "/.htpasswd", "/.git/config", "/.git/HEAD", "/.git",
             "/.git/", "/sub/.secret", "/.dotdir/file.txt", "/.dotdir/",
             "/%2eenv", "/%2Egit/config", "/sub/%2esecret", "/./.env",
             "/sub/../.env", "/.env?x=1", "/.ENV/../.env"]


def dotfiles():
    missing = get(srv, "/no-such-file")
    for p in DOT_PATHS:
        r = get(srv, p)
        check(r.status == 404, "%s -> %d, want 404" % (p, r.status))
        if r.status == 404:
            check(r.body == missing.body, "%s: 404 body differs from a "
                  "missing file's (an existence oracle)" % p)
        r = get(srv, p, method="HEAD")
        check(r.status == 404, "HEAD %s -> %d, want 404" % (p, r.status))
    # Not a dotfile: names with dots elsewhere.
    with open(os.path.join(root, "a.b.c"), "wb") as f:
        f.write(b"dots\n")
    r = get(srv, "/a.b.c")
    check(r.status == 200, "/a.b.c -> %d" % r.status)
    dot = Server(root, ["--dotfiles"])
    for p, body in (("/.env", files[".env"]),
                    ("/.git/config", files[".git/config"]),
                    ("/sub/.secret", files["sub/.secret"]),
                    ("/.dotdir/file.txt", files[".dotdir/file.txt"])):
        r = get(dot, p)
        check(r.status == 200 and r.body == body,
              "--dotfiles %s -> %d" % (p, r.status))
    r = get(dot, "/.git")
    check(r.status == 301, "--dotfiles /.git -> %d, want 301" % r.status)
    dot.stop()


# ------------------------------------------------------------ symlinks

A = files["a.txt"]
SUBOK = files["sub/ok.txt"]
OUT = b"OUTSIDE FILE\n"
OUTD = b"OUTSIDE DIR FILE\n"


def symlink_mode(mode, expect):
    s = Server(root, [] if mode is None else ["--follow-symlinks=" + mode])
    label = mode or "default(inside)"
    for path, want in expect:
        r = get(s, path)
        if want is None:
            check(r.status == 404, "symlinks %s: %s -> %d, want 404"
                  % (label, path, r.status))
        else:
            check(r.status == 200 and r.body == want,
                  "symlinks %s: %s -> %d %r, want 200 %r"
                  % (label, path, r.status, r.body[:30], want[:30]))
    # Listings must not crash on links of any kind, and every link listed
    # must answer (200, 301 for dirs, or 404 for refused links).
    r = get(s, "/")
    check(r.status == 200, "symlinks %s: root listing %d" % (label, r.status))
    r = get(s, "/?format=json")
    import json
    try:
        entries = json.loads(r.body).get("entries", [])
    except ValueError:
        entries = []
        check(False, "symlinks %s: JSON listing unreadable" % label)
    for e in entries:
        fr = get(s, "/" + e.get("href", ""))
        check(fr.status in (200, 404), "symlinks %s: listed %r -> %d"
              % (label, e.get("name"), fr.status))
        if e.get("name") in ("out_rel", "out_abs", "chain_out", "outdir") \
                and mode != "always":
            check(fr.status == 404, "symlinks %s: listed %r is served"
                  % (label, e.get("name")))
    s.stop()


def symlinks():
    regular = [("/a.txt", A), ("/sub/ok.txt", SUBOK)]
    symlink_mode(None, regular + [
        ("/in_rel", A), ("/in_abs", None), ("/out_rel", None),
        ("/out_abs", None), ("/dirlink/ok.txt", SUBOK), ("/sub/up", A),
        ("/outdir/x.txt", None), ("/chain", A), ("/chain_out", None),
        ("/dangling", None), ("/loop1", None)])
    symlink_mode("inside", regular + [
        ("/in_rel", A), ("/in_abs", None), ("/out_rel", None),
        ("/out_abs", None), ("/dirlink/ok.txt", SUBOK), ("/sub/up", A),
        ("/outdir/x.txt", None), ("/chain", A), ("/chain_out", None),
        ("/dangling", None), ("/loop1", None)])
    symlink_mode("never", regular + [
        ("/in_rel", None), ("/in_abs", None), ("/out_rel", None),
        ("/out_abs", None), ("/dirlink/ok.txt", None), ("/sub/up", None),
        ("/outdir/x.txt", None), ("/chain", None), ("/chain_out", None),
        ("/dangling", None), ("/loop1", None)])
    symlink_mode("always", regular + [
        ("/in_rel", A), ("/in_abs", A), ("/out_rel", OUT),
        ("/out_abs", OUT), ("/dirlink/ok.txt", SUBOK), ("/sub/up", A),
        ("/outdir/x.txt", OUTD), ("/chain", A), ("/chain_out", OUT),
        ("/dangling", None), ("/loop1", None)])
    # The root itself given through a symlink is fine in every mode.
    link_root = os.path.join(base, "rootlink")
    os.symlink(root, link_root)
    s = Server(link_root, ["--follow-symlinks=never"])
    r = get(s, "/a.txt")
    check(r.status == 200 and r.body == A,
          "ROOT given as a symlink, never mode: /a.txt -> %d" % r.status)
    s.stop()


# ------------------------------------------------------------ headers

TYPES = {"/a.txt": "text/plain", "/page.html": "text/html",
         "/data.json": "application/json", "/style.css": "text/css",
         "/blob.bin": "application/octet-stream", "/pic.png": "image/png"}
CHARSET_TYPES = ("/a.txt", "/page.html", "/data.json", "/style.css",
                 "/app.js")


def charset():
    default = srv
    latin = Server(root, ["--charset=iso-8859-1"])
    none = Server(root, ["--charset="])
    for path in list(TYPES) + ["/app.js"]:
        text = path in CHARSET_TYPES
        for s, cs in ((default, "utf-8"), (latin, "iso-8859-1"),
                      (none, None)):
            r = get(s, path)
            ct = r.headers.get("content-type", "")
            mt = r.media_type()
            if path in TYPES:
                check(mt == TYPES[path], "%s: media type %r, want %r"
                      % (path, mt, TYPES[path]))
            else:
                check(mt in ("application/javascript", "text/javascript"),
                      "%s: media type %r" % (path, mt))
            params = [p.strip().lower() for p in ct.split(";")[1:]]
            if text and cs:
                check(params == ["charset=" + cs],
                      "%s (charset %r): Content-Type %r" % (path, cs, ct))
            else:
                check(params == [], "%s (charset %r): Content-Type %r, want "
                      "no parameters" % (path, cs, ct))
        # A sidecar keeps the original's Content-Type, charset included.
    r = get(latin, "/app.js", headers=["Accept-Encoding: gzip"])
    check("charset=iso-8859-1" in r.headers.get("content-type", ""),
          "--charset on a sidecar response: %r"
          % r.headers.get("content-type"))
    latin.stop()
    none.stop()


CC = "public, max-age=3600, immutable"


def cache_control():
    s = Server(root, ["--cache-control=" + CC])
    r = get(s, "/a.txt")
    check(r.headers.get("cache-control") == CC and r.count("cache-control")
          == 1, "200 Cache-Control %r" % r.headers.get("cache-control"))
    et = r.headers.get("etag")
    r = get(s, "/a.txt", headers=["Range: bytes=0-1"])
    check(r.status == 206 and r.headers.get("cache-control") == CC,
          "206 Cache-Control %r" % r.headers.get("cache-control"))
    r = get(s, "/a.txt", headers=["Range: bytes=0-0,5-5"])
    check(r.status == 206 and r.headers.get("cache-control") == CC,
          "multipart 206 Cache-Control %r" % r.headers.get("cache-control"))
    r = get(s, "/a.txt", headers=["If-None-Match: " + et])
    check(r.status == 304 and r.headers.get("cache-control") == CC,
          "304 Cache-Control %r" % r.headers.get("cache-control"))
    r = get(s, "/a.txt", method="HEAD")
    check(r.headers.get("cache-control") == CC,
          "HEAD Cache-Control %r" % r.headers.get("cache-control"))
    r = get(s, "/app.js", headers=["Accept-Encoding: br"])
    check(r.headers.get("cache-control") == CC,
          "sidecar Cache-Control %r" % r.headers.get("cache-control"))
    r = get(s, "/nope")
    check(r.headers.get("cache-control") != CC,
          "404 carries the configured Cache-Control %r (errors must not be "
          "cached as the file would)" % r.headers.get("cache-control"))
    s.stop()
    # Default: none on files.
    r = get(srv, "/a.txt")
    check("cache-control" not in r.headers,
          "default Cache-Control on a file: %r"
          % r.headers.get("cache-control"))


def server_header():
    r = get(srv, "/a.txt")
    check(r.headers.get("server") == "ringserve" and r.count("server") == 1,
          "default Server %r" % r.headers.get("server"))
    for s_val in ("acme/1.2 (test)", "x"):
        s = Server(root, ["--server-header=" + s_val])
        for path in ("/a.txt", "/nope", "/"):
            r = get(s, path)
            check(r.headers.get("server") == s_val and r.count("server") == 1,
                  "--server-header %r: %s Server %r"
                  % (s_val, path, r.headers.get("server")))
        s.stop()
    s = Server(root, ["--server-header="])
    with s.connect() as c:
        c.send(request("/a.txt") + request("/nope") + request("/")
               + request("/a.txt", method="POST") + b"GET / HTTP/1.1\r\n\r\n")
        for i in range(5):
            r = c.read_response()
            check("server" not in r.headers,
                  "--server-header '': response %d (%d) has Server %r"
                  % (i, r.status, r.headers.get("server")))
    s.stop()


def nosniff():
    cases = [("/a.txt", [], 200), ("/a.txt", ["Range: bytes=0-1"], 206),
             ("/a.txt", ["Range: bytes=0-0,5-5"], 206),
             ("/a.txt", ["Range: bytes=999-"], 416), ("/nope", [], 404),
             ("/", [], 200), ("/dir", [], 301), ("/.env", [], 404)]
    for path, hdrs, st in cases:
        r = get(srv, path, headers=hdrs)
        check(r.status == st, "%s %r: %d, want %d" % (path, hdrs, r.status,
                                                      st))
        check(r.headers.get("x-content-type-options") == "nosniff",
              "%s %r (%d): X-Content-Type-Options %r"
              % (path, hdrs, r.status,
                 r.headers.get("x-content-type-options")))
    r = get(srv, "/a.txt", method="DELETE")
    check(r.status == 405 and r.headers.get("x-content-type-options")
          == "nosniff", "405: X-Content-Type-Options %r"
          % r.headers.get("x-content-type-options"))


def check_head_parity(g, h, what):
    strip = lambda r: [(n, v) for n, v in r.header_list if n != "date"]
    check(h.status == g.status, "%s: HEAD %d vs GET %d"
          % (what, h.status, g.status))
    check(strip(h) == strip(g), "%s: HEAD headers differ from GET's:\n"
          "HEAD %r\nGET  %r" % (what, strip(h), strip(g)))


def head_parity():
    paths = ["/a.txt", "/blob.bin", "/big.bin", "/app.js", "/page.html",
             "/dir/", "/", "/?format=json", "/nope", "/.env", "/dir",
             "/in_rel", "/out_rel"]
    for p in paths:
        g = get(srv, p)
        h = get(srv, p, method="HEAD")
        check_head_parity(g, h, p)
    # Ranges are ignored on HEAD: same headers as a plain GET.
    for rng in ("bytes=0-1", "bytes=0-0,200-200", "bytes=999999-"):
        g = get(srv, "/big.bin")
        h = get(srv, "/big.bin", method="HEAD", headers=["Range: " + rng])
        check_head_parity(g, h, "HEAD with Range %s" % rng)
    # HEAD then GET on one connection: HEAD sent no body.
    for p in ("/big.bin", "/a.txt", "/"):
        with srv.connect() as c:
            c.send(request(p, method="HEAD") + request("/a.txt"))
            h = c.read_response("HEAD")
            g = c.read_response()
            check(h.status == 200 and g.status == 200 and g.body == A,
                  "HEAD %s then GET on one connection: %d, %d %r"
                  % (p, h.status, g.status, g.body[:30]))
            c.sock.settimeout(0.3)
            try:
                extra = c.sock.recv(100)
            except OSError:
                extra = b""
            check(extra == b"" and c.buf == b"",
                  "HEAD %s: bytes after the responses %r"
                  % (p, (c.buf + extra)[:60]))


for fn in (sidecar_choice, sidecar_validity, sidecar_ranges_head,
           no_precompressed, dotfiles, symlinks, charset, cache_control,
           server_header, nosniff, head_parity):
    case(fn)
finish()
