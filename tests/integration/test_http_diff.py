#!/usr/bin/env python3
"""Differential test against nginx: the same request corpus (ranges of
many forms, conditionals built from each server's own ETag and
Last-Modified, HEAD, 404s, 405s, percent-encoded names, directory
redirects, dotfiles, symlinks, precompressed .gz) goes to ringserve and to
an nginx started here with an equivalent configuration; status codes must
agree, and so must the bytes wherever the body is the file's (200/206,
multipart parts parsed back), Content-Range, Content-Length on HEAD,
Content-Encoding, and the path a 301 points to.

Where the two legitimately differ, ALLOWED (below) documents why; for
those requests only ringserve is checked, against the behaviour the
reason names. Skips (77) when nginx is not installed.

RINGSERVE_DIFF_VERBOSE=1 prints every request's pair of results."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness
from harness import (Server, case, check, finish, free_port, get, make_tree,
                     parse_multipart, skip)

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
if not os.access(NGINX, os.X_OK):
    skip("nginx not installed (%s)" % NGINX)
VERBOSE = os.environ.get("RINGSERVE_DIFF_VERBOSE", "") not in ("", "0")

T0 = 1500000000           # fixed mtimes, well in the past
BIGN = 300007

files = {
    "f1000.bin": os.urandom(1000),
    "t.txt": b"0123456789abcdefghijklmnopqrstuvwxyz\n" * 3,
    "empty.bin": b"",
    "one.bin": b"1",
    "big.bin": os.urandom(BIGN),
    "with space.txt": b"space\n",
    "caf\u00e9.txt": b"utf-8 name\n",
    "100%.txt": b"percent\n",
    "plus+name.txt": b"plus\n",
    "site/index.html": b"<html>site index</html>\n",
    "site/page.html": b"<html>page</html>\n",
    "nodir/x.txt": b"x\n",
    "sp ace/y.txt": b"y\n",
    ".env": b"SECRET=1\n",
    ".git/config": b"[core]\n",
    "sub/.hidden": b"hidden\n",
    "g.js": b"function f() { return 42; }\n" * 40,
    "g.js.gz": b"\x1f\x8b PRETEND GZIP BYTES " * 4,
    "s.txt": b"stale sidecar original\n" * 10,
    "s.txt.gz": b"\x1f\x8b STALE",
}
base, root = make_tree(files)
with open(os.path.join(base, "outside.txt"), "wb") as f:
    f.write(b"outside\n")
os.symlink("t.txt", os.path.join(root, "in_rel"))
os.symlink("../outside.txt", os.path.join(root, "out_rel"))
for dirpath, dirs, names in os.walk(root):
    for n in names + dirs:
        p = os.path.join(dirpath, n)
        os.utime(p, (T0, T0), follow_symlinks=False)
os.utime(os.path.join(root, "s.txt.gz"), (T0 - 100, T0 - 100))


# ------------------------------------------------------------ nginx

def nginx_has(module_flag):
    out = subprocess.run([NGINX, "-V"], capture_output=True, text=True,
                         timeout=10)
    return module_flag in out.stdout + out.stderr


GZIP_STATIC = nginx_has("--with-http_gzip_static_module")


class Nginx:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ringserve-nginx-", dir=base)
        self.proc = None
        for attempt in range(5):
            self.port = free_port()
            if self._start():
                return
        raise RuntimeError("nginx did not start:\n" + self.err())

    def err(self):
        try:
            with open(os.path.join(self.dir, "stderr")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def _start(self):
        d = self.dir
        mime = "include /etc/nginx/mime.types;" \
            if os.path.exists("/etc/nginx/mime.types") else ""
        gz = "gzip_static on; gzip_vary on;" if GZIP_STATIC else ""
        conf = """
daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    %(mime)s
    default_type application/octet-stream;
    sendfile on;
    etag on;
    max_ranges 16;
    if_modified_since before;
    disable_symlinks off;
    absolute_redirect off;
    server_tokens off;
    autoindex off;
    %(gz)s
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
        location ~ /\\. { return 404; }
    }
}
""" % {"d": d, "mime": mime, "gz": gz, "port": self.port, "root": root}
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        errf = open(os.path.join(d, "stderr"), "w")
        self.proc = subprocess.Popen(
            [NGINX, "-p", d, "-c", path, "-e", os.path.join(d, "error.log")],
            stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        errf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                self.host = "127.0.0.1"
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def connect(self, timeout=5.0):
        from harness import Conn
        s = socket.create_connection(("127.0.0.1", self.port),
                                     timeout=timeout)
        return Conn(s)

    def kill(self):
        """For the harness's cleanup (atexit, SIGTERM from meson)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in harness._servers:
            harness._servers.remove(self)

    def stop(self):
        if self in harness._servers:
            harness._servers.remove(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


ngx = Nginx()
harness._servers.append(ngx)   # killed with the servers on any exit
rs = Server(root, ["--no-listing"])


# ------------------------------------------------------------ corpus

def validators(srv, path, headers=()):
    r = get(srv, path, method="HEAD", headers=list(headers))
    return r.headers.get("etag", ""), r.headers.get("last-modified", "")


def httpdate_shift(lm, secs):
    import email.utils
    t = email.utils.parsedate_to_datetime(lm).timestamp()
    return email.utils.formatdate(t + secs, usegmt=True)


L = 1000
SEVENTEEN = ",".join("%d-%d" % (i * 50, i * 50) for i in range(17))
SIXTEEN_FAR = ",".join("%d-%d" % (i * 10000, i * 10000) for i in range(16))
SEVENTEEN_FAR = ",".join("%d-%d" % (i * 10000, i * 10000) for i in range(17))

# (label, method, path, [headers]); {etag} {weak} {lm} {lm-1} {lm+1}
# {early} {late} are filled in per server with that server's validators.
CORPUS = [
    ("plain", "GET", "/f1000.bin", []),
    ("plain text", "GET", "/t.txt", []),
    ("empty", "GET", "/empty.bin", []),
    ("big", "GET", "/big.bin", []),
    ("head", "HEAD", "/f1000.bin", []),
    ("head big", "HEAD", "/big.bin", []),
    ("head empty", "HEAD", "/empty.bin", []),
    # single ranges
    ("r 0-0", "GET", "/f1000.bin", ["Range: bytes=0-0"]),
    ("r 0-9", "GET", "/f1000.bin", ["Range: bytes=0-9"]),
    ("r 10-", "GET", "/f1000.bin", ["Range: bytes=10-"]),
    ("r -10", "GET", "/f1000.bin", ["Range: bytes=-10"]),
    ("r -1", "GET", "/f1000.bin", ["Range: bytes=-1"]),
    ("r 999-", "GET", "/f1000.bin", ["Range: bytes=999-"]),
    ("r 0-", "GET", "/f1000.bin", ["Range: bytes=0-"]),
    ("r clamp end", "GET", "/f1000.bin", ["Range: bytes=500-5000"]),
    ("r clamp suffix", "GET", "/f1000.bin", ["Range: bytes=-5000"]),
    ("r huge end", "GET", "/f1000.bin",
     ["Range: bytes=0-99999999999999999999"]),
    ("r 1000-", "GET", "/f1000.bin", ["Range: bytes=1000-"]),
    ("r 1000-2000", "GET", "/f1000.bin", ["Range: bytes=1000-2000"]),
    ("r huge start", "GET", "/f1000.bin",
     ["Range: bytes=99999999999999999999-"]),
    ("r -0", "GET", "/f1000.bin", ["Range: bytes=-0"]),
    ("r big middle", "GET", "/big.bin", ["Range: bytes=65530-200000"]),
    ("r big suffix", "GET", "/big.bin", ["Range: bytes=-70000"]),
    ("r one byte file", "GET", "/one.bin", ["Range: bytes=0-0"]),
    ("r one byte file suffix", "GET", "/one.bin", ["Range: bytes=-1"]),
    # invalid / foreign
    ("r items unit", "GET", "/f1000.bin", ["Range: items=0-9"]),
    ("r garbage", "GET", "/f1000.bin", ["Range: bytes=abc"]),
    ("r empty set", "GET", "/f1000.bin", ["Range: bytes="]),
    ("r dash only", "GET", "/f1000.bin", ["Range: bytes=-"]),
    ("r no equals", "GET", "/f1000.bin", ["Range: bytes 0-9"]),
    ("r reversed", "GET", "/f1000.bin", ["Range: bytes=5-4"]),
    ("r three numbers", "GET", "/f1000.bin", ["Range: bytes=1-2-3"]),
    ("r upper unit", "GET", "/f1000.bin", ["Range: Bytes=0-9"]),
    # multiple ranges
    ("m two far", "GET", "/f1000.bin", ["Range: bytes=0-9,500-509"]),
    ("m unsorted", "GET", "/f1000.bin", ["Range: bytes=500-509,0-9"]),
    ("m first last", "GET", "/f1000.bin", ["Range: bytes=0-0,-1"]),
    ("m three", "GET", "/f1000.bin", ["Range: bytes=0-99,400-499,900-"]),
    ("m spaces", "GET", "/f1000.bin", ["Range: bytes=0-1, 500-501"]),
    ("m close", "GET", "/f1000.bin", ["Range: bytes=0-9,50-59"]),
    ("m overlap", "GET", "/f1000.bin", ["Range: bytes=0-99,50-149"]),
    ("m adjacent", "GET", "/f1000.bin", ["Range: bytes=0-9,10-19"]),
    ("m one unsatisfiable", "GET", "/f1000.bin",
     ["Range: bytes=0-9,5000-6000"]),
    ("m all unsatisfiable", "GET", "/f1000.bin",
     ["Range: bytes=1000-,2000-"]),
    ("m sum over file", "GET", "/f1000.bin", ["Range: bytes=0-600,500-999"]),
    ("m 3x file", "GET", "/f1000.bin", ["Range: bytes=0-,0-,0-"]),
    ("m 16 far", "GET", "/big.bin", ["Range: bytes=" + SIXTEEN_FAR]),
    ("m 17 far", "GET", "/big.bin", ["Range: bytes=" + SEVENTEEN_FAR]),
    ("m 17 close", "GET", "/big.bin", ["Range: bytes=" + SEVENTEEN]),
    ("m big", "GET", "/big.bin",
     ["Range: bytes=0-9,100000-165535,-7"]),
    # zero-length file
    ("z suffix", "GET", "/empty.bin", ["Range: bytes=-5"]),
    ("z 0-", "GET", "/empty.bin", ["Range: bytes=0-"]),
    ("z 0-0", "GET", "/empty.bin", ["Range: bytes=0-0"]),
    # HEAD with ranges
    ("head range", "HEAD", "/f1000.bin", ["Range: bytes=0-9"]),
    ("head range 416", "HEAD", "/f1000.bin", ["Range: bytes=5000-"]),
    # conditionals
    ("c if-match eq", "GET", "/t.txt", ["If-Match: {etag}"]),
    ("c if-match star", "GET", "/t.txt", ["If-Match: *"]),
    ("c if-match other", "GET", "/t.txt", ['If-Match: "zz"']),
    ("c if-match weak", "GET", "/t.txt", ["If-Match: {weak}"]),
    ("c if-match list", "GET", "/t.txt", ['If-Match: "zz", {etag}']),
    ("c ius eq", "GET", "/t.txt", ["If-Unmodified-Since: {lm}"]),
    ("c ius early", "GET", "/t.txt", ["If-Unmodified-Since: {early}"]),
    ("c ius late", "GET", "/t.txt", ["If-Unmodified-Since: {late}"]),
    ("c inm eq", "GET", "/t.txt", ["If-None-Match: {etag}"]),
    ("c inm weak", "GET", "/t.txt", ["If-None-Match: {weak}"]),
    ("c inm star", "GET", "/t.txt", ["If-None-Match: *"]),
    ("c inm other", "GET", "/t.txt", ['If-None-Match: "zz"']),
    ("c inm list", "GET", "/t.txt", ['If-None-Match: "zz", {etag}']),
    ("c inm head", "HEAD", "/t.txt", ["If-None-Match: {etag}"]),
    ("c ims eq", "GET", "/t.txt", ["If-Modified-Since: {lm}"]),
    ("c ims late", "GET", "/t.txt", ["If-Modified-Since: {late}"]),
    ("c ims early", "GET", "/t.txt", ["If-Modified-Since: {early}"]),
    ("c ims lm-1", "GET", "/t.txt", ["If-Modified-Since: {lm-1}"]),
    ("c ims invalid", "GET", "/t.txt", ["If-Modified-Since: whenever"]),
    ("c ims head", "HEAD", "/t.txt", ["If-Modified-Since: {lm}"]),
    ("c ir etag", "GET", "/t.txt", ["Range: bytes=0-3", "If-Range: {etag}"]),
    ("c ir weak", "GET", "/t.txt", ["Range: bytes=0-3", "If-Range: {weak}"]),
    ("c ir other", "GET", "/t.txt", ["Range: bytes=0-3", 'If-Range: "zz"']),
    ("c ir date", "GET", "/t.txt", ["Range: bytes=0-3", "If-Range: {lm}"]),
    ("c ir date+1", "GET", "/t.txt",
     ["Range: bytes=0-3", "If-Range: {lm+1}"]),
    ("c ir date-1", "GET", "/t.txt",
     ["Range: bytes=0-3", "If-Range: {lm-1}"]),
    ("c ir no range", "GET", "/t.txt", ["If-Range: {etag}"]),
    ("c order im fail inm eq", "GET", "/t.txt",
     ['If-Match: "zz"', "If-None-Match: {etag}"]),
    ("c order ius fail inm eq", "GET", "/t.txt",
     ["If-Unmodified-Since: {early}", "If-None-Match: {etag}"]),
    ("c order im ok ius fail", "GET", "/t.txt",
     ["If-Match: {etag}", "If-Unmodified-Since: {early}"]),
    ("c order inm other ims eq", "GET", "/t.txt",
     ['If-None-Match: "zz"', "If-Modified-Since: {lm}"]),
    ("c order inm eq ims early", "GET", "/t.txt",
     ["If-None-Match: {etag}", "If-Modified-Since: {early}"]),
    ("c order inm eq range", "GET", "/t.txt",
     ["If-None-Match: {etag}", "Range: bytes=0-3"]),
    ("c order im fail range", "GET", "/t.txt",
     ['If-Match: "zz"', "Range: bytes=0-3"]),
    ("c missing if-match", "GET", "/nope.txt", ['If-Match: "zz"']),
    # errors and methods
    ("404", "GET", "/nope.txt", []),
    ("404 head", "HEAD", "/nope.txt", []),
    ("404 in dir", "GET", "/site/nope.html", []),
    ("405 post", "POST", "/t.txt", []),
    ("405 put", "PUT", "/t.txt", []),
    ("405 delete", "DELETE", "/t.txt", []),
    ("options", "OPTIONS", "/t.txt", []),
    ("unknown method", "FROB", "/t.txt", []),
    ("lower-case method", "get", "/t.txt", []),
    # names and paths
    ("pct space", "GET", "/with%20space.txt", []),
    ("pct utf8", "GET", "/caf%C3%A9.txt", []),
    ("pct utf8 lower", "GET", "/caf%c3%a9.txt", []),
    ("pct letters", "GET", "/%74.txt", []),
    ("pct percent", "GET", "/100%25.txt", []),
    ("plus literal", "GET", "/plus+name.txt", []),
    ("plus encoded", "GET", "/plus%2Bname.txt", []),
    ("query ignored", "GET", "/t.txt?x=1&y=%zz", []),
    ("dot segment", "GET", "/site/../t.txt", []),
    ("double slash", "GET", "//t.txt", []),
    ("dot dot above root", "GET", "/../t.txt", []),
    ("encoded dot dot", "GET", "/%2e%2e/t.txt", []),
    ("bad escape", "GET", "/%zz.txt", []),
    ("nul escape", "GET", "/t.txt%00.html", []),
    ("encoded slash", "GET", "/site%2Fpage.html", []),
    # directories
    ("dir index", "GET", "/site/", []),
    ("dir index file", "GET", "/site/index.html", []),
    ("dir redirect", "GET", "/site", []),
    ("dir redirect query", "GET", "/site?a=1", []),
    ("dir redirect encoded", "GET", "/sp%20ace", []),
    ("dir no index", "GET", "/nodir/", []),
    ("dir head redirect", "HEAD", "/site", []),
    ("root no index", "GET", "/", []),
    # dotfiles, symlinks
    ("dot env", "GET", "/.env", []),
    ("dot git", "GET", "/.git/config", []),
    ("dot git dir", "GET", "/.git/", []),
    ("dot in sub", "GET", "/sub/.hidden", []),
    ("dot encoded", "GET", "/%2eenv", []),
    ("symlink inside", "GET", "/in_rel", []),
    ("symlink outside", "GET", "/out_rel", []),
]
if GZIP_STATIC:
    CORPUS += [
        ("gz plain", "GET", "/g.js", []),
        ("gz gzip", "GET", "/g.js", ["Accept-Encoding: gzip"]),
        ("gz gzip deflate", "GET", "/g.js",
         ["Accept-Encoding: gzip, deflate"]),
        ("gz q=0", "GET", "/g.js", ["Accept-Encoding: gzip;q=0"]),
        ("gz br only", "GET", "/g.js", ["Accept-Encoding: br"]),
        ("gz identity", "GET", "/g.js", ["Accept-Encoding: identity"]),
        ("gz range", "GET", "/g.js",
         ["Accept-Encoding: gzip", "Range: bytes=0-4"]),
        ("gz head", "HEAD", "/g.js", ["Accept-Encoding: gzip"]),
        ("gz inm", "GET", "/g.js",
         ["Accept-Encoding: gzip", "If-None-Match: {gzetag}"]),
        ("gz stale", "GET", "/s.txt", ["Accept-Encoding: gzip"]),
        ("gz by name", "GET", "/g.js.gz", []),
    ]


# ------------------------------------------------------------ allow-list

def full(name):
    return ("200", files[name])


def part(name, a, b):
    return ("206", "bytes %d-%d/%d" % (a, b, len(files[name])),
            files[name][a:b + 1])


# label -> (why ringserve differs from nginx and is right, what ringserve
# must answer). The expectation is one of:
#   ("200", bytes)                     full body
#   ("206", content-range, bytes)      one range
#   ("206m", [(a, b), ...], name)      multipart with these parts
#   (status,)                          status only
ALLOWED = {
    "r huge end": (
        "a last-pos past the end is clamped to the file (RFC 9110 "
        "§14.1.2), however many digits it has; nginx answers 416 once "
        "the number overflows its off_t", part("f1000.bin", 0, 999)),
    "r garbage": (
        "a syntactically invalid Range is ignored (RFC 9110 §14.2: 200 "
        "full); nginx answers 416", full("f1000.bin")),
    "r dash only": (
        "'bytes=-' is not a range-spec: the header is ignored (200); "
        "nginx answers 416", full("f1000.bin")),
    "r three numbers": (
        "'bytes=1-2-3' is not a range-spec: the header is ignored (200); "
        "nginx answers 416", full("f1000.bin")),
    "z 0-": (
        "on a zero-length file only a non-zero suffix range is satisfiable "
        "(RFC 9110 §14.1.1), so 'bytes=0-' gets 416 with 'bytes */0'; "
        "nginx skips range processing for empty files and answers 200",
        ("416",)),
    "z 0-0": (
        "as 'z 0-': unsatisfiable on a zero-length file -> 416; nginx 200",
        ("416",)),
    "c order im ok ius fail": (
        "RFC 9110 §13.2.2 step 2: If-Unmodified-Since is only evaluated "
        "when If-Match is absent, so a matching If-Match wins (200); nginx "
        "evaluates both and answers 412", full("t.txt")),
    "c order inm eq ims early": (
        "RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match "
        "is present, so the matching If-None-Match gives 304; nginx "
        "requires both to pass and answers 200", ("304",)),
    "gz range": (
        "Range applies to the selected representation (here the gzip "
        "sidecar's bytes, RFC 9110 §14.1); nginx's gzip_static disables "
        "ranges and answers 200 with the whole .gz",
        ("206", "bytes 0-4/%d" % len(files["g.js.gz"]),
         files["g.js.gz"][:5])),
    "r reversed": (
        "last-pos < first-pos makes the range-spec invalid, so the Range "
        "header is ignored (RFC 9110 §14.1.1/§14.2: 200); nginx answers "
        "416", full("f1000.bin")),
    "m close": (
        "ringserve coalesces ranges less than 80 bytes apart into one "
        "(allowed by RFC 9110 §14.2, and cheaper than a multipart for "
        "both ends); nginx sends each range as its own part",
        part("f1000.bin", 0, 59)),
    "m overlap": (
        "overlapping ranges are coalesced (RFC 9110 §14.2 allows it; "
        "Apache CVE-2011-3192); nginx sends a multipart with overlapping "
        "parts", part("f1000.bin", 0, 149)),
    "m adjacent": (
        "adjacent ranges are coalesced into one single-part 206; nginx "
        "sends two parts", part("f1000.bin", 0, 19)),
    "m sum over file": (
        "nginx answers 200 as soon as the ranges add up to more than the "
        "file; ringserve coalesces the overlap into one range covering the "
        "file and only refuses past twice the file",
        part("f1000.bin", 0, 999)),
    "m 17 close": (
        "nginx's max_ranges counts ranges before coalescing (17 > 16 -> "
        "200); ringserve counts parts after coalescing, and these 17 "
        "ranges 50 bytes apart coalesce into one",
        part("big.bin", 0, 800)),
    "head range": (
        "Range is defined for GET only and MUST be ignored for other "
        "methods (RFC 9110 §14.2); nginx answers HEAD with 206",
        ("200", None)),
    "head range 416": (
        "Range is ignored on HEAD (RFC 9110 §14.2): 200; nginx answers "
        "416", ("200", None)),
    "options": (
        "OPTIONS is answered 204 with Allow (RFC 9110 §9.3.7), without a "
        "lookup, so that CORS preflights (--cors) work; nginx's static "
        "module answers 405", ("204",)),
    "unknown method": (
        "an unrecognised method gets 501 (RFC 9110 §9.1 SHOULD); nginx "
        "answers 405 for any method its static module does not serve",
        ("501",)),
    "lower-case method": (
        "methods are case-sensitive tokens (RFC 9110 §9.1): 'get' is a "
        "valid but unknown method -> 501; nginx's parser only accepts "
        "upper-case methods and answers 400", ("501",)),
    "symlink outside": (
        "ringserve's default --follow-symlinks=inside refuses symlinks "
        "leading out of ROOT (the safe default the issue asks for); the "
        "nginx config under comparison uses disable_symlinks off",
        ("404",)),
    "gz stale": (
        "a sidecar older than its file is stale and ignored; nginx "
        "gzip_static does not compare modification times and serves it",
        full("s.txt")),
}


# ------------------------------------------------------------ running

def fill(hdrs, v):
    out = []
    for h in hdrs:
        for k, val in v.items():
            h = h.replace("{%s}" % k, val)
        out.append(h)
    return out


def server_vars(srv):
    et, lm = validators(srv, "/t.txt")
    v = {"etag": et, "weak": "W/" + et if et else "", "lm": lm,
         "lm-1": httpdate_shift(lm, -1), "lm+1": httpdate_shift(lm, 1),
         "early": httpdate_shift(lm, -86400),
         "late": httpdate_shift(lm, 86400)}
    v["gzetag"] = validators(srv, "/g.js", ["Accept-Encoding: gzip"])[0]
    return v


def send(srv, method, path, hdrs):
    from harness import request
    with srv.connect() as c:
        c.send(request(path, method, headers=hdrs + ["Connection: close"]))
        return c.read_response(method)


def summary(r, method):
    """What we compare: status, and the body as file bytes or parts."""
    s = {"status": r.status}
    if r.status in (200, 206) and method == "GET":
        if r.media_type() == "multipart/byteranges":
            try:
                s["parts"] = [(h.get("content-range"), b)
                              for h, b in parse_multipart(r)]
            except ValueError as e:
                s["parts"] = "malformed: %s" % e
        else:
            s["body"] = r.body
            s["content-range"] = r.headers.get("content-range")
    if r.status == 416:
        s["content-range"] = r.headers.get("content-range")
    if method == "HEAD" and r.status in (200, 206):
        s["content-length"] = r.headers.get("content-length")
    if r.status in (200, 206, 304):
        s["content-encoding"] = r.headers.get("content-encoding")
    if r.status in (301, 302, 307, 308):
        loc = r.headers.get("location", "")
        s["location"] = re.sub(r"^https?://[^/]+", "", loc)
    return s


def short(s):
    out = dict(s)
    if isinstance(out.get("body"), bytes):
        out["body"] = "%d bytes %r" % (len(out["body"]), out["body"][:16])
    if isinstance(out.get("parts"), list):
        out["parts"] = [(cr, len(b)) for cr, b in out["parts"]]
    return out


def check_expectation(label, r, want, method):
    if want is None:
        return
    if not check(str(r.status) == want[0].rstrip("m"),
                 "%s: ringserve %d, allow-list says %s (%s)"
                 % (label, r.status, want[0], ALLOWED[label][0])):
        return
    if want[0] == "200" and len(want) > 1 and want[1] is not None:
        check(r.body == want[1], "%s: ringserve 200 body is not the file"
              % label)
    if want[0] == "206":
        check(r.headers.get("content-range") == want[1]
              and r.body == want[2],
              "%s: ringserve 206 %r with %d bytes, want %r"
              % (label, r.headers.get("content-range"), len(r.body),
                 want[1]))


def differential():
    vr, vn = server_vars(rs), server_vars(ngx)
    check(vr["etag"] and vn["etag"], "no ETag from one server: %r %r"
          % (vr["etag"], vn["etag"]))
    check(vr["lm"] == vn["lm"], "Last-Modified differs: %r vs %r"
          % (vr["lm"], vn["lm"]))
    agreed = allowed_same = 0
    for label, method, path, hdrs in CORPUS:
        r1 = send(rs, method, path, fill(hdrs, vr))
        r2 = send(ngx, method, path, fill(hdrs, vn))
        s1, s2 = summary(r1, method), summary(r2, method)
        if VERBOSE:
            print("%-28s ringserve %r\n%-28s nginx     %r"
                  % (label, short(s1), "", short(s2)))
        if label in ALLOWED:
            check_expectation(label, r1, ALLOWED[label][1], method)
            if s1 == s2:
                allowed_same += 1
                print("note: %r is allow-listed but both servers agree now"
                      % label)
            continue
        if check(s1 == s2, "%s: %s %s %r\n  ringserve %r\n  nginx     %r"
                 % (label, method, path, hdrs, short(s1), short(s2))):
            agreed += 1
    print("%d requests agree, %d allow-listed (%d of those agree anyway)"
          % (agreed, len([c for c in CORPUS if c[0] in ALLOWED]),
             allowed_same))
    unknown = set(ALLOWED) - set(c[0] for c in CORPUS)
    check(not unknown, "allow-list names unknown requests: %r" % unknown)


case(differential)
ngx.stop()
finish()
