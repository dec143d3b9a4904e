#!/usr/bin/env python3
"""--fallback, --error-page and --clean-urls through the real binary, with
raw HTTP and curl.

- Fallback: a missing GET/HEAD path without an extension in its last
  segment, from a client that takes text/html (browsers, curl's */*, no
  Accept at all), gets the fallback page with 200, Cache-Control: no-cache
  (even with --cache-control) and Vary: Accept; ETag, 304, ranges and HEAD
  work on it. A missing asset (/x.js), an API client (Accept:
  application/json), text/html;q=0, other methods, dotfiles, symlinks out
  of ROOT and traversal do not get it. A missing fallback file is a 404.
- Error pages: the page's bytes with the original status and headers
  (Allow on 405, Content-Range on 416, Connection: close on 400), its own
  Content-Type and length, no validators, no ranges, no 304; HEAD gets the
  head and keep-alive goes on; an exact CODE beats its group; a missing
  page or one outside ROOT gives the built-in body with the original
  status; requests that do not parse get the built-in body; large pages
  go through every --transfer path.
- Clean URLs: /about from about.html; /about.html gets 308 to /about (query
  kept, percent-encoding kept right), /docs/index.html to /docs/; a
  directory beats NAME.html; precompressed sidecars still apply.
- Pipelined requests mixing all of these are answered in order, with and
  without the open-file cache; the access log has the status sent.
- Bad values exit 2 with one line naming the option, on the command line
  and in a config file; --check-config gives the options back.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, get, make_tree,  # noqa: E402
                     raw, request)

INDEX = b"<!doctype html><title>app</title><div id=app></div>\n"
ABOUT = b"<html>about page</html>\n"
PAGE404 = b"<html><h1>custom not found</h1></html>\n"
PAGE4XX = b"<html>some client error</html>\n"
PAGE416 = b"<html>bad range page</html>\n"
PAGE5XX = b"<html>server trouble</html>\n"
BIG404 = os.urandom(300000)
APPJS = b"console.log('app');\n"
BROWSER = ("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
           "image/avif,image/webp,*/*;q=0.8")

files = {
    "index.html": INDEX,
    "app.js": APPJS,
    "a.txt": b"0123456789",
    "about.html": ABOUT,
    "about.html.gz": b"GZ-ABOUT",
    "docs/index.html": b"<html>docs index</html>\n",
    "docs/guide.html": b"<html>guide</html>\n",
    "both.html": b"<html>both as a file</html>\n",
    "both/index.html": b"<html>both as a directory</html>\n",
    "caf\u00e9.html": b"<html>cafe</html>\n",
    "sp ace.html": b"<html>space</html>\n",
    "noindex/f.txt": b"f\n",
    "404.html": PAGE404,
    ".errors/4xx.html": PAGE4XX,
    "errors/416.html": PAGE416,
    "errors/50x.html": PAGE5XX,
    "big404.htm": BIG404,
    ".git/config": b"[core]\n",
}
base, root = make_tree(files)
with open(os.path.join(base, "outside.html"), "wb") as f:
    f.write(b"<html>OUTSIDE</html>\n")
os.makedirs(os.path.join(base, "outdir"))
with open(os.path.join(base, "outdir", "real"), "wb") as f:
    f.write(b"OUTSIDE REAL\n")
os.symlink("docs", os.path.join(root, "inlinkdir"))
os.symlink("../outside.html", os.path.join(root, "escape"))
os.symlink("../outside.html", os.path.join(root, "escape.html"))
os.symlink("../outdir", os.path.join(root, "escapedir"))
os.symlink("../outside.html", os.path.join(root, "outpage.html"))
# The sidecar must not be older than its original.
now = time.time()
os.utime(os.path.join(root, "about.html.gz"), (now + 1, now + 1))

ALOG = os.path.join(base, "access.log")
SITE = ["--fallback", "/index.html", "--clean-urls", "--no-listing",
        "--error-page", "404=/404.html", "--error-page", "4xx=/.errors/4xx.html",
        "--error-page", "416=//errors/./416.html", "--error-page", "5xx=/errors/50x.html"]
site = Server(root, extra=SITE + ["--access-log", ALOG, "--log-format", "json"])


def ask(srv, path, headers=(), method="GET", version="HTTP/1.1"):
    with srv.connect() as c:
        c.send(request(path, method, version=version, headers=list(headers)))
        return c.read_response(method)


def is_builtin(r, status):
    return ("<h1>%d " % status).encode() in r.body and r.status == status


def url(srv, path):
    return "http://127.0.0.1:%d%s" % (srv.port, path)


# ---------------------------------------------------------------- fallback

def t_fallback_routes():
    for hdrs, what in (([BROWSER], "browser"), ([], "no Accept"), (["Accept: */*"], "*/*"),
                       (["Accept: text/*;q=0.5"], "text/*"),
                       (["Accept: application/json", "Accept: text/html;q=0.1"], "two fields")):
        for path in ("/users/42", "/users/42/", "/v1.2/users", "/deep/a/b/c"):
            r = ask(site, path, hdrs)
            check(r.status == 200 and r.body == INDEX, "%s %s: fallback: %r" % (what, path, r))
            check(r.media_type() == "text/html", "%s %s: type %r" % (what, path, r.headers))
            check(r.headers.get("cache-control") == "no-cache", "%s: no-cache: %r" % (what, r.headers))
            vary = ",".join(v for n, v in r.header_list if n == "vary")
            check("Accept" in [v.strip() for v in vary.split(",")], "%s: Vary: Accept: %r"
                  % (what, r.header_list))
    for hdrs, what in ((["Accept: application/json"], "json"),
                       (["Accept: text/html;q=0, */*"], "html refused"),
                       (["Accept: image/webp,image/*"], "images"),
                       (["Accept: */*;q=0"], "nothing")):
        r = ask(site, "/users/42", hdrs)
        check(r.status == 404 and r.body == PAGE404, "%s: 404 page, not the app: %r" % (what, r))
    for path in ("/missing.js", "/static/app.min.css", "/v1.2"):
        r = ask(site, path, [BROWSER])
        check(r.status == 404 and r.body == PAGE404, "%s: a missing asset is 404: %r" % (path, r))
    r = ask(site, "/app.js", [BROWSER])
    check(r.status == 200 and r.body == APPJS and "no-cache" not in r.headers.get("cache-control", ""),
          "existing files are themselves: %r" % r)
    r = ask(site, "/docs", [BROWSER])
    check(r.status == 301 and r.headers.get("location") == "/docs/", "a directory still redirects: %r" % r)
    r = ask(site, "/docs/", [BROWSER])
    check(r.status == 200 and b"docs index" in r.body, "a directory's index: %r" % r)
    r = ask(site, "/users/42", [BROWSER], method="POST")
    check(r.status == 405 and r.headers.get("allow") == "GET, HEAD, OPTIONS" and r.body == PAGE4XX,
          "POST gets no fallback: %r" % r)


def t_fallback_head_cond_range():
    with site.connect() as c:
        c.send(request("/users/1", "HEAD", headers=[BROWSER]))
        r = c.read_response("HEAD")
        check(r.status == 200 and r.headers.get("content-length") == str(len(INDEX)) and not r.body,
              "HEAD: the GET's head: %r" % r)
        etag = r.headers.get("etag")
        c.send(request("/users/2", headers=[BROWSER, "If-None-Match: %s" % etag]))
        r = c.read_response()
        check(r.status == 304 and r.headers.get("cache-control") == "no-cache" and not r.body,
              "If-None-Match: 304 with no-cache: %r" % r)
        c.send(request("/users/3", headers=[BROWSER, "Range: bytes=0-8"]))
        r = c.read_response()
        check(r.status == 206 and r.body == INDEX[:9], "Range on the fallback: %r" % r)
        c.send(request("/app.js"))
        r = c.read_response()
        check(r.status == 200 and r.body == APPJS, "keep-alive after the fallback: %r" % r)


def t_fallback_rules_first():
    # Dotfile, symlink and traversal rules come before the fallback.
    for path in ("/.git/config", "/.well-known/thing", "/a/.hidden"):
        r = ask(site, path, [BROWSER])
        check(r.status == 404 and r.body == PAGE404, "%s: dotfile rule first: %r" % (path, r))
    # Through a symlink out of ROOT, what exists there and what does not
    # look the same: 404, never the app.
    for path in ("/escape", "/escapedir", "/escapedir/x", "/escapedir/real", "/escapedir/x/y"):
        r = ask(site, path, [BROWSER])
        check(r.status == 404 and b"OUTSIDE" not in r.body and r.body != INDEX,
              "%s: a symlink out of ROOT is 404, not the app: %r" % (path, r))
    r = ask(site, "/inlinkdir/x", [BROWSER])
    check(r.status == 200 and r.body == INDEX, "through a symlink inside ROOT: the app: %r" % r)
    srv = Server(root, extra=["--fallback", "/index.html", "--follow-symlinks", "never"])
    r = ask(srv, "/inlinkdir/x", [BROWSER])
    check(is_builtin(r, 404), "--follow-symlinks never: no app through a symlink: %r" % r)
    r = ask(srv, "/users/1", [BROWSER])
    check(r.status == 200 and r.body == INDEX, "--follow-symlinks never: routes still: %r" % r)
    srv.stop()
    srv = Server(root, extra=["--fallback", "/index.html", "--follow-symlinks", "always"])
    r = ask(srv, "/escapedir/x", [BROWSER])
    check(r.status == 200 and r.body == INDEX, "--follow-symlinks always: outside is inside: %r" % r)
    srv.stop()
    for path in ("/../etc/passwd", "/%2e%2e/x", "/a%00b", "/a%zz"):
        r = ask(site, path, [BROWSER])
        check(r.status == 400 and r.body == PAGE4XX, "%s: refused, no fallback: %r" % (path, r))


def t_fallback_curl():
    if not shutil.which("curl"):
        print("SKIP (curl): not installed")
        return
    p = subprocess.run(["curl", "-s", "--max-time", "5", url(site, "/users/42")],
                       capture_output=True, timeout=10)
    check(p.returncode == 0 and p.stdout == INDEX, "curl: the app: %r" % p.stdout[:100])
    p = subprocess.run(["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        "-H", "Accept: application/json", url(site, "/users/42")],
                       capture_output=True, timeout=10)
    check(p.stdout == b"404", "curl as an API client: %r" % p.stdout)
    p = subprocess.run(["curl", "-sI", "--max-time", "5", url(site, "/users/42")],
                       capture_output=True, timeout=10)
    check(p.stdout.startswith(b"HTTP/1.1 200") and b"no-cache" in p.stdout.lower(),
          "curl -I: %r" % p.stdout[:300])


def t_fallback_missing_and_cache_control():
    srv = Server(root, extra=["--fallback", "/nope.html", "--error-page", "404=/missing.html"])
    r = ask(srv, "/users/1", [BROWSER])
    check(is_builtin(r, 404), "missing fallback and page: the built-in 404: %r" % r)
    srv.stop()
    srv = Server(root, extra=["--fallback", "/docs"])
    r = ask(srv, "/users/1", [BROWSER])
    check(is_builtin(r, 404), "a directory as the fallback: 404: %r" % r)
    srv.stop()
    srv = Server(root, extra=["--fallback", "/index.html", "--cache-control", "public, max-age=60"])
    r = ask(srv, "/users/1", [BROWSER])
    check(r.status == 200 and r.headers.get("cache-control") == "no-cache",
          "the app's shell is no-cache whatever --cache-control says: %r" % r)
    r = ask(srv, "/app.js")
    check(r.headers.get("cache-control") == "public, max-age=60", "files keep it: %r" % r)
    # The file's own head is kept per cache entry (one connection: one
    # worker's cache); the fallback's differs and must not take it, nor
    # leave its own for the file.
    with srv.connect() as c:
        for path, cc, vary in (("/index.html", "public, max-age=60", False),
                               ("/users/7", "no-cache", True),
                               ("/index.html", "public, max-age=60", False),
                               ("/users/8", "no-cache", True)):
            c.send(request(path, headers=[BROWSER]))
            r = c.read_response()
            varies = "Accept" in [v.strip() for n, v in r.header_list if n == "vary"
                                  for v in v.split(",")]
            check(r.status == 200 and r.body == INDEX and r.headers.get("cache-control") == cc
                  and varies == vary, "%s after the other: %r" % (path, r.header_list))
    srv.stop()


# ---------------------------------------------------------------- error pages

def t_error_page_404():
    r = ask(site, "/nothing.txt")
    check(r.status == 404 and r.body == PAGE404, "404 page: %r" % r)
    check(r.media_type() == "text/html" and r.headers.get("content-length") == str(len(PAGE404)),
          "its type and length: %r" % r.headers)
    for h in ("etag", "last-modified", "accept-ranges", "cache-control", "content-range"):
        check(h not in r.headers, "no %s on an error page: %r" % (h, r.headers))
    with site.connect() as c:
        c.send(request("/nothing.txt", "HEAD"))
        r = c.read_response("HEAD")
        check(r.status == 404 and r.headers.get("content-length") == str(len(PAGE404)) and not r.body,
              "HEAD: the head only: %r" % r)
        for hdr in ("Range: bytes=0-3", "If-None-Match: *", "If-Modified-Since: Sun, 06 Nov 2094 "
                    "08:49:37 GMT", "If-Match: \"nope\""):
            c.send(request("/nothing.txt", headers=[hdr]))
            r = c.read_response()
            check(r.status == 404 and r.body == PAGE404, "%s: no 206/304/412 on a page: %r" % (hdr, r))
        c.send(request("/a.txt"))
        r = c.read_response()
        check(r.status == 200 and r.body == b"0123456789", "keep-alive after pages: %r" % r)


def t_error_page_statuses():
    r = ask(site, "/a.txt", method="POST")
    check(r.status == 405 and r.headers.get("allow") == "GET, HEAD, OPTIONS" and r.body == PAGE4XX,
          "405 keeps Allow: %r" % r)
    r = ask(site, "/a.txt", ["Range: bytes=99-"])
    check(r.status == 416 and r.headers.get("content-range") == "bytes */10" and r.body == PAGE416,
          "416 keeps Content-Range, its exact page beats 4xx: %r" % r)
    r = ask(site, "/noindex/")
    check(r.status == 403 and r.body == PAGE4XX, "403 (--no-listing) gets the 4xx page: %r" % r)
    r = ask(site, "/.errors/4xx.html")
    check(r.status == 404 and r.body == PAGE404, "the pages' dot directory is not served: %r" % r)
    r = ask(site, "/a%zz")
    check(r.status == 400 and r.body == PAGE4XX and r.headers.get("connection") == "close",
          "400 for a bad path: the page, then close: %r" % r)
    r = ask(site, "/", method="BREW")
    check(r.status == 501 and r.body == PAGE5XX, "501 gets the 5xx page: %r" % r)
    # Requests that did not parse get the built-in body.
    r, c = raw(site, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
    c.close()
    check(is_builtin(r, 400), "a malformed request: the built-in 400: %r" % r)
    r, c = raw(site, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    c.close()
    check(r.status == 505 and b"<h1>505 " in r.body, "505: built-in: %r" % r)


def t_error_page_fails():
    srv = Server(root, extra=["--error-page", "404=/nope.html", "--error-page", "403=/outpage.html",
                              "--error-page", "405=/docs", "--no-listing"])
    r = ask(srv, "/nothing.txt")
    check(is_builtin(r, 404), "missing page: built-in 404: %r" % r)
    r = ask(srv, "/noindex/")
    check(is_builtin(r, 403) and b"OUTSIDE" not in r.body,
          "a page outside ROOT: the built-in 403, not its bytes: %r" % r)
    r = ask(srv, "/a.txt", method="POST")
    check(is_builtin(r, 405) and r.headers.get("allow") == "GET, HEAD, OPTIONS",
          "a directory as the page: built-in 405 with Allow: %r" % r)
    with srv.connect() as c:
        for _ in range(3):
            c.send(request("/nothing.txt"))
            r = c.read_response()
            check(is_builtin(r, 404), "again on one connection: %r" % r)
    srv.stop()


def t_error_page_big():
    for mode in ("auto", "splice", "read", "sendfile", "direct"):
        srv = Server(root, extra=["--error-page", "404=/big404.htm", "--transfer", mode])
        with srv.connect() as c:
            c.send(request("/x") + request("/x", "HEAD") + request("/y"))
            for method in ("GET", "HEAD", "GET"):
                r = c.read_response(method)
                want = b"" if method == "HEAD" else BIG404
                check(r.status == 404 and r.body == want and
                      r.headers.get("content-length") == str(len(BIG404)),
                      "--transfer %s: %s big page: %d %d bytes" % (mode, method, r.status, len(r.body)))
        srv.stop()


# ---------------------------------------------------------------- clean URLs

def t_clean_urls():
    r = ask(site, "/about")
    check(r.status == 200 and r.body == ABOUT and r.media_type() == "text/html", "/about: %r" % r)
    for path, loc in (("/about.html", "/about"), ("/about.html?x=1&y", "/about?x=1&y"),
                      ("/docs/guide.html", "/docs/guide"), ("/docs/index.html", "/docs/"),
                      ("/index.html", "/"), ("/docs/index.html?q", "/docs/?q"),
                      ("/caf%C3%A9.html", "/caf%C3%A9"), ("/sp%20ace.html", "/sp%20ace"),
                      ("/docs//./guide.html", "/docs/guide")):
        r = ask(site, path)
        check(r.status == 308 and r.headers.get("location") == loc,
              "%s: 308 to %s: %r" % (path, loc, r))
    r = ask(site, "/about.html", method="HEAD")
    check(r.status == 308 and r.headers.get("location") == "/about" and not r.body, "HEAD 308: %r" % r)
    for path, body in (("/docs/guide", b"guide"), ("/caf%C3%A9", b"cafe"), ("/sp%20ace", b"space"),
                       ("/both/", b"both as a directory")):
        r = ask(site, path)
        check(r.status == 200 and body in r.body, "%s: %r" % (path, r))
    r = ask(site, "/both")
    check(r.status == 301 and r.headers.get("location") == "/both/", "a directory wins: %r" % r)
    r = ask(site, "/about", ["Accept-Encoding: gzip"])
    check(r.status == 200 and r.body == b"GZ-ABOUT" and r.headers.get("content-encoding") == "gzip",
          "the sidecar of about.html: %r" % r)
    r = ask(site, "/nowhere.html")
    check(r.status == 404 and r.body == PAGE404, "a missing NAME.html: 404: %r" % r)
    r = ask(site, "/escape.html")
    check(r.status == 404 and "location" not in r.headers,
          "a NAME.html outside ROOT: 404, no redirect telling it exists: %r" % r)
    r = ask(site, "/escape")
    check(r.status == 404 and b"OUTSIDE" not in r.body, "clean lookup confined too: %r" % r)
    # Clean URLs before the fallback.
    r = ask(site, "/about", [BROWSER])
    check(r.status == 200 and r.body == ABOUT, "clean URL before the fallback: %r" % r)
    r = ask(site, "/nowhere", [BROWSER])
    check(r.status == 200 and r.body == INDEX, "then the fallback: %r" % r)
    srv = Server(root, extra=["--clean-urls"])
    r = ask(srv, "/docs/guide/")
    check(is_builtin(r, 404), "NAME/ is not NAME.html: %r" % r)
    r = ask(srv, "/users/1", [BROWSER])
    check(is_builtin(r, 404), "no fallback without --fallback: %r" % r)
    if shutil.which("curl"):
        p = subprocess.run(["curl", "-sL", "--max-time", "5", url(srv, "/about.html?z=1")],
                           capture_output=True, timeout=10)
        check(p.returncode == 0 and p.stdout == ABOUT, "curl -L follows the 308: %r" % p.stdout)
        p = subprocess.run(["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w",
                            "%{http_code} %{redirect_url}", url(srv, "/docs/index.html")],
                           capture_output=True, timeout=10)
        check(p.stdout.decode() == "308 %s" % url(srv, "/docs/"), "curl sees 308: %r" % p.stdout)
    else:
        print("SKIP (curl): not installed")
    srv.stop()


def t_without_options():
    srv = Server(root)
    r = ask(srv, "/about")
    check(is_builtin(r, 404), "no --clean-urls: /about is 404: %r" % r)
    r = ask(srv, "/about.html")
    check(r.status == 200 and r.body == ABOUT, "no --clean-urls: /about.html itself: %r" % r)
    r = ask(srv, "/users/1", [BROWSER])
    check(is_builtin(r, 404), "no --fallback: 404: %r" % r)
    srv.stop()


# ---------------------------------------------------------------- with --header and --cors

def t_site_headers_and_cors():
    srv = Server(root, extra=SITE + ["--cors", "--header", "X-Frame-Options: DENY",
                                     "--header", "/users/* Cache-Control: max-age=5"])
    acao = "access-control-allow-origin"
    r = ask(srv, "/users/1", [BROWSER, "Origin: http://a.example"])
    check(r.status == 200 and r.body == INDEX and r.headers.get(acao) == "*" and
          r.headers.get("x-frame-options") == "DENY" and
          r.headers.get("cache-control") == "max-age=5" and r.count("cache-control") == 1,
          "fallback: CORS, --header lines of the path asked for, its Cache-Control wins: %r" % r)
    r = ask(srv, "/other/route", [BROWSER])
    check(r.status == 200 and r.headers.get("cache-control") == "no-cache" and
          r.headers.get("x-frame-options") == "DENY", "fallback elsewhere: no-cache: %r" % r)
    r = ask(srv, "/nothing.txt", ["Origin: http://a.example"])
    check(r.status == 404 and r.body == PAGE404 and r.headers.get(acao) == "*" and
          "x-frame-options" not in r.headers, "error page: CORS, no --header lines: %r" % r)
    r = ask(srv, "/about.html")
    check(r.status == 308 and r.headers.get("x-frame-options") == "DENY" and
          r.headers.get(acao) == "*", "308: as redirects are: %r" % r)
    r = ask(srv, "/missing", ["Origin: http://a.example", "Access-Control-Request-Method: GET"],
            method="OPTIONS")
    check(r.status == 204 and not r.body, "a preflight is answered before any site path: %r" % r)
    r = ask(srv, "/a.txt", method="POST")
    check(r.status == 405 and r.body == PAGE4XX and r.headers.get(acao) == "*",
          "405 page with CORS: %r" % r)
    srv.stop()


# ---------------------------------------------------------------- with --auth-file

def t_auth():
    import base64
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    pw = os.path.join(base, "htpasswd")
    with open(pw, "w") as f:
        f.write("ann:%s\n" % lib.crypt(b"secret", lib.crypt_gensalt(b"$2b$", 4, None, 0)).decode())
    page401 = b"<html>please log in</html>\n"
    with open(os.path.join(root, "401.html"), "wb") as f:
        f.write(page401)
    srv = Server(root, extra=SITE + ["--error-page", "401=/401.html", "--auth-file", pw,
                                     "--auth-path", "/docs", "--auth-path", "/users"])
    ok = "Authorization: Basic " + base64.b64encode(b"ann:secret").decode()
    for path in ("/users/1", "/docs/index.html", "/docs/nothing.js", "/docs/guide"):
        r = ask(srv, path, [BROWSER])
        check(r.status == 401 and r.body == page401 and
              r.headers.get("www-authenticate", "").startswith("Basic realm="),
              "%s without credentials: 401 page, challenge kept, nothing else told: %r" % (path, r))
    r = ask(srv, "/users/1", [BROWSER], method="HEAD")
    check(r.status == 401 and not r.body and "www-authenticate" in r.headers and
          r.headers.get("content-length") == str(len(page401)), "HEAD 401: %r" % r)
    r = ask(srv, "/users/1", [BROWSER, ok])
    check(r.status == 200 and r.body == INDEX, "with credentials: the app: %r" % r)
    r = ask(srv, "/docs/index.html", [ok])
    check(r.status == 308 and r.headers.get("location") == "/docs/", "then the 308: %r" % r)
    r = ask(srv, "/docs/guide", [ok])
    check(r.status == 200 and b"guide" in r.body, "then the clean URL: %r" % r)
    r = ask(srv, "/docs/nothing.js", [ok])
    check(r.status == 404 and r.body == PAGE404, "then the 404 page: %r" % r)
    r = ask(srv, "/users/1", [BROWSER, "Authorization: Basic " +
                              base64.b64encode(b"ann:wrong").decode()])
    check(r.status == 401 and r.body == page401, "a wrong password: the 401 page: %r" % r)
    srv.stop()
    # The file sent decides too: a protected NAME.html protects /NAME, a
    # protected fallback every app route.
    srv = Server(root, extra=SITE + ["--auth-file", pw, "--auth-path", "/about.html",
                                     "--auth-path", "/index.html"])
    for path in ("/about", "/users/1"):
        r = ask(srv, path, [BROWSER])
        check(r.status == 401 and "www-authenticate" in r.headers,
              "%s serves a protected file: 401 first: %r" % (path, r))
    r = ask(srv, "/about", [BROWSER, ok])
    check(r.status == 200 and r.body == ABOUT, "/about with credentials: %r" % r)
    r = ask(srv, "/users/1", [BROWSER, ok])
    check(r.status == 200 and r.body == INDEX, "app route with credentials: %r" % r)
    r = ask(srv, "/a.txt")
    check(r.status == 200, "an unprotected file needs nothing: %r" % r)
    srv.stop()
    os.unlink(os.path.join(root, "401.html"))


# ---------------------------------------------------------------- pipelining, logs

PIPE = [
    ("GET", "/users/7", [BROWSER], 200, INDEX),
    ("GET", "/app.js", [], 200, APPJS),
    ("GET", "/nothing.txt", [], 404, PAGE404),
    ("HEAD", "/nothing.txt", [], 404, b""),
    ("GET", "/about", [], 200, ABOUT),
    ("GET", "/about.html", [], 308, None),
    ("GET", "/users/8", ["Accept: application/json"], 404, PAGE404),
    ("GET", "/docs/index.html", [], 308, None),
    ("POST", "/a.txt", ["Content-Length: 0"], 405, PAGE4XX),
    ("GET", "/a.txt", ["Range: bytes=99-"], 416, PAGE416),
    ("HEAD", "/users/9", [BROWSER], 200, b""),
    ("GET", "/big404.htm", [], 200, BIG404),
    ("GET", "/a.txt", [], 200, b"0123456789"),
]


def pipeline(srv, what):
    with srv.connect() as c:
        c.send(b"".join(request(p, m, headers=h) for m, p, h, _, _ in PIPE))
        for m, p, h, status, body in PIPE:
            r = c.read_response(m)
            check(r.status == status and (body is None or r.body == body),
                  "%s: pipelined %s %s: %r (want %d)" % (what, m, p, r, status))


def t_pipeline():
    for _ in range(2):  # cold, then from the open-file cache
        pipeline(site, "cache")
    srv = Server(root, extra=SITE + ["--cache-entries", "0"])
    for _ in range(2):
        pipeline(srv, "no cache")
    srv.stop()


def t_access_log():
    for path, hdrs in (("/users/5?tag=fb", [BROWSER]), ("/nothing?tag=e404", ["Accept: text/css"]),
                       ("/about.html?tag=r308", []), ("/a.txt?tag=e416", ["Range: bytes=50-"])):
        ask(site, path, hdrs)
    want = {"fb": 200, "e404": 404, "r308": 308, "e416": 416}
    got = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(got) < len(want):
        time.sleep(0.3)  # the log is written each 250 ms
        got = {}
        with open(ALOG) as f:
            for ln in f:
                e = json.loads(ln)
                for tag in want:
                    if ("tag=" + tag) in e.get("request", ""):
                        got[tag] = e.get("status")
    for tag, status in want.items():
        check(got.get(tag) == status, "access log: %s logged %r, want %d" % (tag, got.get(tag), status))


# ---------------------------------------------------------------- options

def run(args, timeout=5):
    try:
        p = subprocess.run([binary()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "(started serving)"


def t_bad_values():
    lo = ["-b", "127.0.0.1", "-p", "0"]
    cases = [(["--error-page", v], "--error-page") for v in
             ("abc", "404", "404=", "=/x.html", "404=x.html", "404=/", "404=/dir/", "399=/x",
              "600=/x", "6xx=/x", "3xx=/x", "40=/x", "4x4=/x", "404=/../x", "404=/a%zz",
              "404=/a\tb", "")]
    cases += [(["--error-page", "404=/a.html", "--error-page", "404=/b.html"], "--error-page"),
              (["--error-page", "4xx=/a.html", "--error-page", "4XX=/b.html"], "--error-page")]
    cases += [(["--fallback", v], "--fallback") for v in
              ("index.html", "/", "/app/", "/../index.html", "/%2e%2e/x", "/a%00", "/a?b")]
    cases += [(["--clean-urls=yes"], "--clean-urls")]
    for args, name in cases:
        rc, out, err = run(lo + args + [root])
        check(rc == 2 and err.endswith("\n") and err.count("\n") == 1 and name in err,
              "%r: exit %s, stderr %r" % (args, rc, err))
    for name in ("--fallback", "--error-page"):  # the argument left out
        rc, out, err = run([name])
        check(rc == 2 and err.count("\n") == 1 and name in err, "%s alone: %s %r" % (name, rc, err))
    many = []
    for code in range(400, 465):
        many += ["--error-page", "%d=/e.html" % code]
    rc, out, err = run(lo + many + [root])
    check(rc == 2 and "at most 64" in err, "65 pages: %s %r" % (rc, err))


def t_config_file():
    conf = os.path.join(base, "site.conf")
    with open(conf, "w") as f:
        f.write("root = %s\nfallback = /index.html\nerror-page = 404=/404.html\n"
                "error-page = 5xx=/errors/50x.html\nclean-urls\n" % root)
    rc, out, err = run(["--config", conf, "--check-config"])
    lines = out.splitlines()
    for want in ("fallback = /index.html", "error-page = 404=/404.html",
                 "error-page = 5xx=/errors/50x.html", "clean-urls = true"):
        check(want in lines, "--check-config prints %r: %s" % (want, out[-800:]))
    check(rc == 0 and not err, "--check-config: %s %r" % (rc, err))
    again = os.path.join(base, "again.conf")
    with open(again, "w") as f:
        f.write(out)
    rc2, out2, err2 = run(["--config", again, "--check-config"])
    check(rc2 == 0 and out2 == out, "the printed settings read back the same: %s %r" % (rc2, err2))
    rc, out, err = run(["--check-config", root])
    check("# error-page: none" in out.splitlines() and 'fallback = ""' in out.splitlines() and
          "clean-urls = false" in out.splitlines(), "defaults printed: %r" % out[-600:])
    # The command line replaces the file's pages.
    rc, out, err = run(["--config", conf, "--error-page", "404=/other.html", "--check-config"])
    pages = [ln for ln in out.splitlines() if ln.startswith("error-page")]
    check(pages == ["error-page = 404=/other.html"], "command line wins: %r" % pages)
    srv = Server(None, args=["--config", conf, "-b", "127.0.0.1", "-p", "0", "-t", "1"])
    check(get(srv, "/users/1").body == INDEX and get(srv, "/nothing.txt").body == PAGE404 and
          get(srv, "/about").body == ABOUT, "served as the file says")
    srv.stop()
    for text, line in (("error-page = 404\n", 1), ("clean-urls\nfallback = rel.html\n", 2),
                       ("error-page = 404=/a\nerror-page = 404=/b\n", 2),
                       ("clean-urls = maybe\n", 1)):
        with open(conf, "w") as f:
            f.write(text)
        rc, out, err = run(["--config", conf, "--check-config", root])
        check(rc == 2 and err.count("\n") == 1 and ("%s:%d: " % (conf, line)) in err,
              "%r: exit %s, %r" % (text, rc, err))


for t in (t_fallback_routes, t_fallback_head_cond_range, t_fallback_rules_first, t_fallback_curl,
          t_fallback_missing_and_cache_control, t_error_page_404, t_error_page_statuses,
          t_error_page_fails, t_error_page_big, t_clean_urls, t_without_options,
          t_site_headers_and_cors, t_auth, t_pipeline,
          t_access_log, t_bad_values, t_config_file):
    case(t)
finish()
