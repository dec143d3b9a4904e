#!/usr/bin/env python3
"""Conditional requests (RFC 9110 §13): If-Match, If-Unmodified-Since,
If-None-Match, If-Modified-Since and If-Range each alone, then combined to
check the §13.2.2 evaluation order; the three HTTP date formats; what a 304
carries (validators, Date, Cache-Control, Vary; no body, no Content-Length)
and that the connection stays usable after it; preconditions ignored where
the response would not be 2xx; validators change when the file does."""

import calendar
import email.utils
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (IMF_FIXDATE_RE, Server, case, check, finish, get,
                     http_date, make_tree, request)

# Sun, 06 Nov 1994 08:49:37 GMT: the RFC's example date, so that the
# RFC 850 form (two-digit year) and asctime form can name it exactly.
T0 = calendar.timegm((1994, 11, 6, 8, 49, 37))
RFC850 = "Sunday, 06-Nov-94 08:49:37 GMT"
ASCTIME = "Sun Nov  6 08:49:37 1994"

files = {
    "f.txt": b"conditional body\n" * 40,
    "g.bin": os.urandom(5000),
    "frac.bin": b"fractional mtime\n",
    "z.js": b"console.log('identity');\n" * 20,
    "z.js.gz": b"GZ-SIDECAR-BYTES" * 3,
    "noindex/x.txt": b"x\n",
}
base, root = make_tree(files)
for name in ("f.txt", "g.bin", "z.js", "z.js.gz"):
    os.utime(os.path.join(root, name), (T0, T0))
# 0.7 s past a whole second: Last-Modified shows the whole second, and an
# If-Modified-Since equal to that Last-Modified must still give 304.
os.utime(os.path.join(root, "frac.bin"), ns=(T0 * 10**9 + 700000000,
                                             T0 * 10**9 + 700000000))

CC = "public, max-age=60"
srv = Server(root, ["--cache-control=" + CC])

BODY = files["f.txt"]
LM = http_date(T0)
EARLIER = http_date(T0 - 86400)
LATER = http_date(T0 + 86400)
ONE_SEC_BEFORE = http_date(T0 - 1)
ONE_SEC_AFTER = http_date(T0 + 1)
_base = get(srv, "/f.txt")
ETAG = _base.headers.get("etag", "")
WEAK = "W/" + ETAG


def req(headers, path="/f.txt", method="GET"):
    return get(srv, path, method=method, headers=list(headers))


def expect(headers, status, what, path="/f.txt", method="GET"):
    r = req(headers, path, method)
    check(r.status == status, "%s: %s %s with %r -> %d, want %d"
          % (what, method, path, headers, r.status, status))
    if r.status == status == 200 and method == "GET" and path == "/f.txt":
        check(r.body == BODY, "%s: 200 body is not the file" % what)
    if r.status == status == 206 and path == "/f.txt":
        check(r.headers.get("content-range") == "bytes 0-3/%d" % len(BODY)
              and r.body == BODY[:4], "%s: 206 %r %r"
              % (what, r.headers.get("content-range"), r.body[:20]))
    if status == 304 and r.status == 304:
        check_304(r, what, path)
    return r


def check_304(r, what, path="/f.txt", headers=()):
    """headers: those selecting the representation (Accept-Encoding)."""
    plain = get(srv, path, headers=list(headers))
    check(r.body == b"", "%s: 304 with a body" % what)
    check("content-length" not in r.headers,
          "%s: 304 with Content-Length %r"
          % (what, r.headers.get("content-length")))
    check(r.headers.get("etag") == plain.headers.get("etag"),
          "%s: 304 ETag %r, 200 has %r" % (what, r.headers.get("etag"),
                                           plain.headers.get("etag")))
    check(r.headers.get("last-modified")
          == plain.headers.get("last-modified"),
          "%s: 304 Last-Modified %r, 200 has %r"
          % (what, r.headers.get("last-modified"),
             plain.headers.get("last-modified")))
    check(IMF_FIXDATE_RE.match(r.headers.get("date", "")),
          "%s: 304 Date %r" % (what, r.headers.get("date")))
    check(r.headers.get("cache-control") == CC,
          "%s: 304 Cache-Control %r, want %r"
          % (what, r.headers.get("cache-control"), CC))
    check("content-range" not in r.headers,
          "%s: 304 with Content-Range" % what)


def basics():
    check(ETAG.startswith('"') and ETAG.endswith('"') and len(ETAG) > 2,
          "strong ETag on 200: %r" % ETAG)
    check(_base.headers.get("last-modified") == LM,
          "Last-Modified %r, want %r" % (_base.headers.get("last-modified"),
                                         LM))
    check(_base.headers.get("cache-control") == CC,
          "200 Cache-Control %r" % _base.headers.get("cache-control"))


def if_match():
    expect(["If-Match: " + ETAG], 200, "If-Match equal")
    expect(["If-Match: *"], 200, "If-Match *")
    expect(['If-Match: "other"'], 412, "If-Match other")
    expect(["If-Match: " + WEAK], 412, "If-Match weak (strong compare)")
    expect(['If-Match: "a", ' + ETAG + ', "b"'], 200, "If-Match list")
    expect(['If-Match: "a","b"'], 412, "If-Match list without ours")
    expect(['If-Match: "a"', "If-Match: " + ETAG], 200,
           "If-Match in two header lines")
    expect(["If-Match: " + ETAG[:-2] + '"'], 412, "If-Match prefix of ours")
    expect(["If-Match: " + ETAG], 200, "HEAD If-Match equal", method="HEAD")
    expect(['If-Match: "other"'], 412, "HEAD If-Match other", method="HEAD")
    # 412 with a Range: precondition first.
    expect(['If-Match: "other"', "Range: bytes=0-3"], 412,
           "If-Match other + Range")
    expect(["If-Match: " + ETAG, "Range: bytes=0-3"], 206,
           "If-Match equal + Range")


def if_unmodified_since():
    expect(["If-Unmodified-Since: " + LM], 200, "IUS = LM")
    expect(["If-Unmodified-Since: " + LATER], 200, "IUS later")
    expect(["If-Unmodified-Since: " + ONE_SEC_AFTER], 200, "IUS LM+1s")
    expect(["If-Unmodified-Since: " + EARLIER], 412, "IUS earlier")
    expect(["If-Unmodified-Since: " + ONE_SEC_BEFORE], 412, "IUS LM-1s")
    expect(["If-Unmodified-Since: " + RFC850], 200, "IUS RFC 850 = LM")
    expect(["If-Unmodified-Since: " + ASCTIME], 200, "IUS asctime = LM")
    expect(["If-Unmodified-Since: Saturday, 05-Nov-94 08:49:37 GMT"], 412,
           "IUS RFC 850 earlier")
    expect(["If-Unmodified-Since: Sat Nov  5 08:49:37 1994"], 412,
           "IUS asctime earlier")
    expect(["If-Unmodified-Since: yesterday"], 200, "IUS invalid ignored")
    expect(["If-Unmodified-Since: " + EARLIER], 412, "HEAD IUS earlier",
           method="HEAD")


def if_none_match():
    expect(["If-None-Match: " + ETAG], 304, "INM equal")
    expect(["If-None-Match: " + WEAK], 304, "INM weak (weak compare)")
    expect(["If-None-Match: *"], 304, "INM *")
    expect(['If-None-Match: "x", ' + ETAG], 304, "INM list")
    expect(['If-None-Match: "x", ' + WEAK], 304, "INM list weak")
    expect(['If-None-Match: "x"', "If-None-Match: " + ETAG], 304,
           "INM in two header lines")
    expect(['If-None-Match: "x"'], 200, "INM other")
    expect(['If-None-Match: W/"x"'], 200, "INM other weak")
    expect(["If-None-Match: " + ETAG], 304, "HEAD INM equal", method="HEAD")
    expect(['If-None-Match: "x"'], 200, "HEAD INM other", method="HEAD")
    # Range does not beat a matching INM.
    expect(["If-None-Match: " + ETAG, "Range: bytes=0-3"], 304,
           "INM equal + Range")
    expect(['If-None-Match: "x"', "Range: bytes=0-3"], 206,
           "INM other + Range")


def if_modified_since():
    expect(["If-Modified-Since: " + LM], 304, "IMS = LM")
    expect(["If-Modified-Since: " + LATER], 304, "IMS later")
    expect(["If-Modified-Since: " + ONE_SEC_AFTER], 304, "IMS LM+1s")
    expect(["If-Modified-Since: " + EARLIER], 200, "IMS earlier")
    expect(["If-Modified-Since: " + ONE_SEC_BEFORE], 200, "IMS LM-1s")
    expect(["If-Modified-Since: " + RFC850], 304, "IMS RFC 850 = LM")
    expect(["If-Modified-Since: " + ASCTIME], 304, "IMS asctime = LM")
    expect(["If-Modified-Since: Saturday, 05-Nov-94 08:49:37 GMT"], 200,
           "IMS RFC 850 earlier")
    expect(["If-Modified-Since: Sat Nov  5 08:49:37 1994"], 200,
           "IMS asctime earlier")
    for bad in ("yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 32 Nov 1994 "
                "08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "0", ""):
        expect(["If-Modified-Since: " + bad], 200, "IMS invalid %r" % bad)
    expect(["If-Modified-Since: " + LM], 304, "HEAD IMS = LM", method="HEAD")
    expect(["If-Modified-Since: " + EARLIER], 200, "HEAD IMS earlier",
           method="HEAD")
    expect(["If-Modified-Since: " + LM, "Range: bytes=0-3"], 304,
           "IMS = LM + Range")
    # A sub-second mtime: Last-Modified drops the fraction; IMS equal to
    # that Last-Modified is "not modified since".
    r = get(srv, "/frac.bin")
    lm = r.headers.get("last-modified", "")
    check(lm == LM, "frac.bin Last-Modified %r, want %r" % (lm, LM))
    r = get(srv, "/frac.bin", headers=["If-Modified-Since: " + lm])
    check(r.status == 304, "IMS = Last-Modified of a file with a sub-second"
          " mtime: %d, want 304" % r.status)


def if_range():
    R = "Range: bytes=0-3"
    expect([R, "If-Range: " + ETAG], 206, "If-Range ETag equal")
    expect([R, "If-Range: " + WEAK], 200, "If-Range weak ETag never matches")
    expect([R, 'If-Range: "other"'], 200, "If-Range other ETag")
    expect([R, "If-Range: " + LM], 206, "If-Range date = LM")
    expect([R, "If-Range: " + LATER], 200, "If-Range later date")
    expect([R, "If-Range: " + ONE_SEC_AFTER], 200, "If-Range LM+1s")
    expect([R, "If-Range: " + EARLIER], 200, "If-Range earlier date")
    expect([R, "If-Range: garbage"], 200, "If-Range garbage")
    expect(["If-Range: " + ETAG], 200, "If-Range without Range")
    expect(['If-Range: "other"'], 200, "If-Range other without Range")
    # Mismatch: the Range is ignored, so an unsatisfiable one is no 416.
    expect(["Range: bytes=99999-", 'If-Range: "other"'], 200,
           "If-Range other + unsatisfiable Range")
    r = expect(["Range: bytes=99999-", "If-Range: " + ETAG], 416,
               "If-Range equal + unsatisfiable Range")
    check(r.headers.get("content-range") == "bytes */%d" % len(BODY),
          "If-Range 416 Content-Range %r" % r.headers.get("content-range"))
    # Multipart under If-Range.
    r = req(["Range: bytes=0-0,600-600", "If-Range: " + ETAG])
    check(r.status == 206 and r.media_type() == "multipart/byteranges",
          "If-Range equal + two ranges: %r" % r)
    # HEAD: ranges ignored whatever If-Range says.
    expect([R, "If-Range: " + ETAG], 200, "HEAD If-Range equal",
           method="HEAD")


def order():
    """RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; then
    If-None-Match, else If-Modified-Since; then If-Range."""
    R = "Range: bytes=0-3"
    # Step 1 beats step 3.
    expect(['If-Match: "x"', "If-None-Match: " + ETAG], 412,
           "If-Match fails + INM matches")
    expect(["If-Match: " + ETAG, "If-None-Match: " + ETAG], 304,
           "If-Match ok + INM matches")
    expect(["If-Match: " + ETAG, 'If-None-Match: "x"'], 200,
           "If-Match ok + INM other")
    # Step 2 is skipped when If-Match is present.
    expect(["If-Match: " + ETAG, "If-Unmodified-Since: " + EARLIER], 200,
           "If-Match ok + IUS fails (IUS ignored)")
    expect(['If-Match: "x"', "If-Unmodified-Since: " + LATER], 412,
           "If-Match fails + IUS ok")
    # Step 2 beats steps 3/4.
    expect(["If-Unmodified-Since: " + EARLIER, "If-None-Match: " + ETAG],
           412, "IUS fails + INM matches")
    expect(["If-Unmodified-Since: " + EARLIER, "If-Modified-Since: " + LM],
           412, "IUS fails + IMS not modified")
    expect(["If-Unmodified-Since: " + LATER, "If-None-Match: " + ETAG],
           304, "IUS ok + INM matches")
    # Step 4 is skipped when If-None-Match is present.
    expect(['If-None-Match: "x"', "If-Modified-Since: " + LM], 200,
           "INM other + IMS not modified (IMS ignored)")
    expect(["If-None-Match: " + ETAG, "If-Modified-Since: " + EARLIER], 304,
           "INM matches + IMS modified (IMS ignored)")
    # Steps 3/4 beat step 5.
    expect(["If-None-Match: " + ETAG, R, "If-Range: " + ETAG], 304,
           "INM matches + Range + If-Range ok")
    expect(["If-Modified-Since: " + LM, R, "If-Range: " + ETAG], 304,
           "IMS not modified + Range + If-Range ok")
    expect(["If-Modified-Since: " + EARLIER, R, "If-Range: " + ETAG], 206,
           "IMS modified + Range + If-Range ok")
    expect(['If-None-Match: "x"', R, "If-Range: " + LM], 206,
           "INM other + Range + If-Range date ok")
    # All five passing -> the range.
    expect(["If-Match: " + ETAG, "If-Unmodified-Since: " + LATER,
            'If-None-Match: "x"', "If-Modified-Since: " + EARLIER, R,
            "If-Range: " + ETAG], 206, "all five pass")
    # All five present, only If-Range fails -> full 200.
    expect(["If-Match: *", 'If-None-Match: "x"', R, 'If-Range: "x"'], 200,
           "only If-Range fails")
    # Step 1 fails with everything else present.
    expect(['If-Match: "x"', "If-Unmodified-Since: " + LATER,
            "If-None-Match: " + ETAG, "If-Modified-Since: " + LM, R,
            "If-Range: " + ETAG], 412, "If-Match fails, all others present")
    expect(["If-Match: *", "If-None-Match: *"], 304, "If-Match * + INM *")


def not_2xx():
    """Preconditions are ignored when the response would not be 2xx."""
    for hdr in ('If-Match: "x"', "If-Match: *", "If-None-Match: *",
                "If-Unmodified-Since: " + EARLIER,
                "If-Modified-Since: " + LATER):
        expect([hdr], 404, "missing file with %s" % hdr, path="/nope.txt")
    expect(["If-None-Match: " + ETAG], 405, "POST with INM", method="POST")
    expect(['If-Match: "x"'], 405, "POST with If-Match other",
           method="POST")
    # A directory redirect is not 2xx either.
    expect(['If-Match: "x"'], 301, "dir redirect with If-Match other",
           path="/noindex")


def keepalive_after_304_412():
    """A 304 and 412 must be framed so the next pipelined response parses."""
    reqs = [request("/f.txt", headers=["If-None-Match: " + ETAG]),
            request("/f.txt", headers=['If-Match: "x"']),
            request("/f.txt", method="HEAD",
                    headers=["If-Modified-Since: " + LM]),
            request("/f.txt", headers=["Range: bytes=0-3",
                                       "If-Range: " + ETAG]),
            request("/f.txt")]
    with srv.connect() as c:
        c.send(b"".join(reqs))
        got = [c.read_response(m) for m in
               ("GET", "GET", "HEAD", "GET", "GET")]
        check([g.status for g in got] == [304, 412, 304, 206, 200],
              "pipelined conditionals: %r" % [g.status for g in got])
        check(got[3].body == BODY[:4] and got[4].body == BODY,
              "pipelined bodies after 304/412 wrong")


def sidecar_validators():
    """A sidecar has its own ETag; INM/If-Match/If-Range compare with the
    representation actually selected; 304 keeps Vary."""
    AE = "Accept-Encoding: gzip"
    ident = get(srv, "/z.js")
    gz = get(srv, "/z.js", headers=[AE])
    check(gz.headers.get("content-encoding") == "gzip",
          "z.js with gzip: Content-Encoding %r"
          % gz.headers.get("content-encoding"))
    et_i, et_g = ident.headers.get("etag"), gz.headers.get("etag")
    check(et_i and et_g and et_i != et_g, "sidecar ETag %r equals the "
          "original's %r" % (et_g, et_i))
    r = get(srv, "/z.js", headers=[AE, "If-None-Match: %s" % et_g])
    check(r.status == 304, "gzip INM sidecar ETag: %d" % r.status)
    if r.status == 304:
        check_304(r, "sidecar 304", "/z.js", [AE])
        check(r.headers.get("etag") == et_g, "sidecar 304 ETag %r, want %r"
              % (r.headers.get("etag"), et_g))
        check("accept-encoding" in r.headers.get("vary", "").lower(),
              "sidecar 304 without Vary: Accept-Encoding (%r)"
              % r.headers.get("vary"))
    r = get(srv, "/z.js", headers=[AE, "If-None-Match: %s" % et_i])
    check(r.status == 200 and r.body == files["z.js.gz"],
          "gzip INM with the identity ETag: %d, want 200 sidecar" % r.status)
    r = get(srv, "/z.js", headers=["If-None-Match: %s" % et_g])
    check(r.status == 200 and r.body == files["z.js"],
          "identity INM with the sidecar ETag: %d, want 200" % r.status)
    r = get(srv, "/z.js", headers=[AE, "If-Match: %s" % et_i])
    check(r.status == 412, "gzip If-Match with identity ETag: %d, want 412"
          % r.status)
    r = get(srv, "/z.js", headers=[AE, "Range: bytes=0-1",
                                   "If-Range: %s" % et_g])
    check(r.status == 206 and r.body == files["z.js.gz"][:2],
          "gzip If-Range sidecar ETag: %r" % r)
    r = get(srv, "/z.js", headers=[AE, "Range: bytes=0-1",
                                   "If-Range: %s" % et_i])
    check(r.status == 200 and r.body == files["z.js.gz"],
          "gzip If-Range with identity ETag: %r, want 200 sidecar" % r)


def validators_change():
    """Rewriting a file changes its ETag; the old one no longer matches."""
    p = os.path.join(root, "g.bin")
    old = get(srv, "/g.bin")
    et = old.headers.get("etag")
    with open(p, "wb") as f:
        f.write(os.urandom(5001))
    os.utime(p, (T0 + 10, T0 + 10))
    # Each worker trusts its cached metadata for --cache-validity (1 s by
    # default) before a statx rechecks it; wait that out for every worker.
    time.sleep(1.5)
    new = get(srv, "/g.bin")
    check(new.headers.get("etag") != et, "ETag unchanged after rewrite")
    check(new.headers.get("last-modified") == http_date(T0 + 10),
          "Last-Modified after rewrite %r" % new.headers.get("last-modified"))
    r = get(srv, "/g.bin", headers=["If-Match: " + et])
    check(r.status == 412, "If-Match old ETag after rewrite: %d" % r.status)
    r = get(srv, "/g.bin", headers=["If-None-Match: " + et])
    check(r.status == 200 and len(r.body) == 5001,
          "INM old ETag after rewrite: %d" % r.status)
    r = get(srv, "/g.bin", headers=["Range: bytes=0-0", "If-Range: " + et])
    check(r.status == 200 and len(r.body) == 5001,
          "If-Range old ETag after rewrite: %d, want 200 full" % r.status)


for fn in (basics, if_match, if_unmodified_since, if_none_match,
           if_modified_since, if_range, order, not_2xx,
           keepalive_after_304_412, sidecar_validators, validators_change):
    case(fn)
finish()
