#!/usr/bin/env python3
"""Range requests (RFC 9110 §14): single ranges of every form with exact
bytes and Content-Range, clamping, the 416 forms, invalid or foreign ranges
ignored (200), multipart/byteranges parsed back part by part, coalescing of
close or overlapping ranges, the --max-ranges cap and the "more than twice
the file" refusal, zero-length files, overflow-safe numbers, Range ignored
on HEAD, keep-alive framing after 206/416, and every serving path (small
file in one buffer, read path with tiny buffers, splice, sendfile)."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, finish, get, make_tree,
                     parse_multipart, request)

MiB = 1 << 20
MERGE_GAP = 80          # ranges closer than this are coalesced
BIG = 3 * MiB + 17      # splice path (> buffer and pipe sizes)

files = {
    "f1000.bin": os.urandom(1000),
    "f1.bin": b"Z",
    "f100000.bin": os.urandom(100000),
    "big.bin": os.urandom(BIG),
    "empty.bin": b"",
    "t.txt": b"0123456789abcdefghijklmnopqrstuvwxyz\n",
    "dir/index.html": b"<html>i</html>\n",
}
base, root = make_tree(files)

# Default server (sendfile for bodies in the page cache), one forced to
# splice, one forced to sendfile (every body, multipart parts included), then one with no splice and
# small buffers (read path, many reads per body), so the same ranges are
# checked on every way a body can leave. The smallest legal buffer (16K)
# gets its own probe first: a server that hangs there would otherwise cost
# a socket timeout per request below.
# "direct": files of 64K and more that are not in the page cache are read
# with O_DIRECT; rng() evicts the file's pages before each request so that
# unaligned ranges go through the aligned-read path.
direct = Server(root, ["--direct-threshold=64K"])
servers = [("default", Server(root)),
           ("splice", Server(root, ["--transfer=splice"])),
           ("sendfile", Server(root, ["--transfer=sendfile"])),
           ("read-16K", Server(root, ["--pipes=0", "--buffer-size=16K"])),
           ("direct", direct)]


def evict(name):
    fd = os.open(os.path.join(root, name), os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
capped = Server(root, ["--max-ranges=2"])


def probe_read_16k():
    srv = Server(root, ["--pipes=0", "--buffer-size=16K"])
    try:
        ok = True
        for name in ("f100000.bin", "big.bin"):
            r = get(srv, "/" + name)
            ok &= check(r.status == 200 and r.body == files[name],
                        "read-16K GET %s: %r" % (name, r))
            r = get(srv, "/" + name, headers=["Range: bytes=5000-20000"])
            ok &= check(r.status == 206 and
                        r.body == files[name][5000:20001],
                        "read-16K Range 5000-20000 on %s: %r" % (name, r))
    except Exception as e:
        check(False, "read-16K server (--pipes=0 --buffer-size=16K): GET of a "
              "file larger than one buffer failed: %r" % e)
        ok = False
    if ok:
        servers.append(("read-16K", srv))
    else:
        srv.kill()  # it may be spinning; its own failure is recorded


def rng(srv, name, spec, method="GET", extra=()):
    hdrs = list(extra)
    if spec is not None:
        hdrs.append("Range: " + spec)
    if srv is direct:
        evict(name)
    return get(srv, "/" + name, method=method, headers=hdrs)


def resolve(spec, length):
    """Our own reading of one byte-range-spec: (first, last) clamped, or
    None when unsatisfiable. Syntax is assumed valid."""
    a, b = spec.split("-")
    if a == "":
        n = int(b)
        if n == 0 or length == 0:
            return None
        return (max(0, length - n), length - 1)
    first = int(a)
    last = int(b) if b else length - 1
    if first >= length:
        return None
    return (first, min(last, length - 1))


def check_206(r, name, first, last, what):
    data = files[name]
    L = len(data)
    if not check(r.status == 206, "%s: status %d, want 206 (%r)"
                 % (what, r.status, r.raw_head[:300])):
        return
    cr = r.headers.get("content-range")
    check(cr == "bytes %d-%d/%d" % (first, last, L),
          "%s: Content-Range %r, want bytes %d-%d/%d"
          % (what, cr, first, last, L))
    check(r.headers.get("content-length") == str(last - first + 1),
          "%s: Content-Length %r, want %d"
          % (what, r.headers.get("content-length"), last - first + 1))
    check(r.body == data[first:last + 1],
          "%s: body differs from file bytes %d-%d (got %d bytes)"
          % (what, first, last, len(r.body)))
    check(r.count("content-range") == 1, "%s: Content-Range count %d"
          % (what, r.count("content-range")))
    check("etag" in r.headers and "last-modified" in r.headers,
          "%s: 206 without ETag/Last-Modified" % what)
    check(not r.media_type().startswith("multipart/"),
          "%s: a single range sent as multipart" % what)


def check_200_full(r, name, what):
    data = files[name]
    if not check(r.status == 200, "%s: status %d, want 200 full"
                 % (what, r.status)):
        return
    check("content-range" not in r.headers,
          "%s: 200 with Content-Range %r" % (what,
                                             r.headers.get("content-range")))
    check(r.body == data, "%s: 200 body is not the whole file (%d of %d)"
          % (what, len(r.body), len(data)))
    check(r.headers.get("accept-ranges") == "bytes",
          "%s: Accept-Ranges %r, want bytes"
          % (what, r.headers.get("accept-ranges")))


def check_416(r, name, what):
    L = len(files[name])
    check(r.status == 416, "%s: status %d, want 416" % (what, r.status))
    check(r.headers.get("content-range") == "bytes */%d" % L,
          "%s: 416 Content-Range %r, want bytes */%d"
          % (what, r.headers.get("content-range"), L))
    check(r.headers.get("content-length") == str(len(r.body)),
          "%s: 416 Content-Length does not frame the body" % what)


def check_multipart(r, name, want, what):
    """want: [(first, last)] in the order the parts must come."""
    data = files[name]
    L = len(data)
    if not check(r.status == 206, "%s: status %d, want 206 multipart"
                 % (what, r.status)):
        return
    check(r.media_type() == "multipart/byteranges",
          "%s: Content-Type %r" % (what, r.headers.get("content-type")))
    check("content-range" not in r.headers,
          "%s: multipart with a top-level Content-Range" % what)
    check(r.headers.get("content-length") == str(len(r.body)),
          "%s: Content-Length %r vs %d body bytes"
          % (what, r.headers.get("content-length"), len(r.body)))
    try:
        parts = parse_multipart(r)
    except ValueError as e:
        check(False, "%s: malformed multipart body: %s" % (what, e))
        return
    got = []
    plain = get(servers[0][1], "/" + name, method="HEAD")
    for i, (h, body) in enumerate(parts):
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)$", h.get("content-range", ""))
        if not check(m, "%s: part %d Content-Range %r"
                     % (what, i, h.get("content-range"))):
            continue
        a, b, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
        got.append((a, b))
        check(total == L, "%s: part %d complete length %d, want %d"
              % (what, i, total, L))
        check(body == data[a:b + 1], "%s: part %d bytes differ from file "
              "bytes %d-%d" % (what, i, a, b))
        check(h.get("content-type") == plain.headers.get("content-type"),
              "%s: part %d Content-Type %r, want %r" % (
                  what, i, h.get("content-type"),
                  plain.headers.get("content-type")))
    check(got == want, "%s: parts %r, want %r" % (what, got, want))


# ------------------------------------------------------------ single ranges

SINGLE = ["0-0", "0-9", "10-19", "5-", "-1", "-10", "0-", "-999999",
          "0-99999999", "999-", "998-999", "500-500", "1-998"]


def single_ranges():
    for label, srv in servers:
        for name in ("f1000.bin", "t.txt", "f1.bin"):
            L = len(files[name])
            for spec in SINGLE:
                what = "%s %s bytes=%s" % (label, name, spec)
                r = rng(srv, name, "bytes=" + spec)
                want = resolve(spec, L)
                if want is None:
                    check_416(r, name, what)
                else:
                    check_206(r, name, want[0], want[1], what)


def large_file_paths():
    """Ranges that cross 4K pages, 8K/64K buffers and 256K pipes, on the
    splice and read paths."""
    specs = ["0-0", "65530-65545", "65536-131071", "262000-1048600",
             "%d-" % (BIG - 5), "-100000", "1-%d" % (BIG - 2),
             "%d-%d" % (MiB - 1, 2 * MiB), "0-", "4095-4096"]
    for label, srv in servers:
        for name, L in (("big.bin", BIG), ("f100000.bin", 100000)):
            for spec in specs:
                want = resolve(spec, L)
                what = "%s %s bytes=%s" % (label, name, spec)
                r = rng(srv, name, "bytes=" + spec)
                if want is None:
                    check_416(r, name, what)
                else:
                    check_206(r, name, want[0], want[1], what)


def unsatisfiable():
    for label, srv in servers:
        for spec in ("1000-", "1000-1000", "1000-2000", "5000-", "-0",
                     "1000-,2000-", "-0,1000-"):
            check_416(rng(srv, "f1000.bin", "bytes=" + spec), "f1000.bin",
                      "%s bytes=%s" % (label, spec))
    # 416 on the big file too (splice path not involved, but the length is).
    check_416(rng(servers[0][1], "big.bin", "bytes=%d-" % BIG), "big.bin",
              "big.bin bytes=LEN-")


def ignored_ranges():
    """Invalid syntax or a unit we do not know: the header is ignored."""
    bad = ["bytes=", "bytes=-", "bytes=abc", "bytes=1-2-3", "bytes=5-4",
           "bytes=0-1,5-4", "bytes=--1", "bytes=1--2", "bytes=+1-2",
           "bytes=0x10-0x20", "bytes=1 -2", "bytes=,", "bytes 0-1",
           "bytes:0-1", "items=0-1", "none", "=0-1", "bytes=0-1;x",
           "bytes=-1-", "bytes=0.5-1"]
    for label, srv in servers:
        for spec in bad:
            check_200_full(rng(srv, "f1000.bin", spec), "f1000.bin",
                           "%s Range: %s" % (label, spec))


def unit_case_and_lists():
    srv = servers[0][1]
    # Range units are case-insensitive (RFC 9110 §14.1).
    check_206(rng(srv, "t.txt", "Bytes=0-1"), "t.txt", 0, 1, "Bytes=0-1")
    check_206(rng(srv, "t.txt", "BYTES=2-3"), "t.txt", 2, 3, "BYTES=2-3")
    # OWS around commas and empty list elements (RFC 9110 §5.6.1).
    check_multipart(rng(srv, "f1000.bin", "bytes=0-1 , 500-501"),
                    "f1000.bin", [(0, 1), (500, 501)], "OWS around comma")
    check_multipart(rng(srv, "f1000.bin", "bytes=0-1,\t500-501"),
                    "f1000.bin", [(0, 1), (500, 501)], "HTAB after comma")
    check_multipart(rng(srv, "f1000.bin", "bytes=0-1,,500-501"),
                    "f1000.bin", [(0, 1), (500, 501)], "empty list element")


def overflow():
    """Numbers past 2^63 and 2^64 never wrap: a huge last-pos is clamped,
    a huge first-pos is unsatisfiable, a huge suffix is the whole file."""
    srv = servers[0][1]
    for big in ("9223372036854775807", "9223372036854775808",
                "18446744073709551615", "18446744073709551616",
                "99999999999999999999999999999999"):
        check_206(rng(srv, "f1000.bin", "bytes=0-" + big), "f1000.bin",
                  0, 999, "bytes=0-" + big)
        check_206(rng(srv, "f1000.bin", "bytes=10-" + big), "f1000.bin",
                  10, 999, "bytes=10-" + big)
        check_206(rng(srv, "f1000.bin", "bytes=-" + big), "f1000.bin",
                  0, 999, "bytes=-" + big)
        check_416(rng(srv, "f1000.bin", "bytes=%s-" % big), "f1000.bin",
                  "bytes=%s-" % big)
        check_416(rng(srv, "f1000.bin", "bytes=%s-%s" % (big, big)),
                  "f1000.bin", "bytes=%s-%s" % (big, big))
    # first-pos beyond 2^64 paired with a small last-pos: not a valid
    # range (last < first), whatever the wrap would make of it.
    check_200_full(rng(srv, "f1000.bin", "bytes=18446744073709551617-5"),
                   "f1000.bin", "bytes=2^64+1-5")


def multipart():
    for label, srv in servers:
        f = "f1000.bin"
        check_multipart(rng(srv, f, "bytes=0-9,500-509"), f,
                        [(0, 9), (500, 509)], label + " two parts")
        # Parts not coalesced with others keep the request's order (RFC
        # 9110 §15.3.7.2: the server SHOULD send them in the order the
        # range-specs appeared; nginx does).
        check_multipart(rng(srv, f, "bytes=500-509,0-9"), f,
                        [(500, 509), (0, 9)], label + " request order kept")
        check_multipart(rng(srv, f, "bytes=0-0,-1"), f,
                        [(0, 0), (999, 999)], label + " first and last byte")
        check_multipart(rng(srv, f, "bytes=900-,0-99,400-499"), f,
                        [(900, 999), (0, 99), (400, 499)],
                        label + " three parts in request order")
        check_multipart(rng(srv, f, "bytes=0-99,400-499,900-"), f,
                        [(0, 99), (400, 499), (900, 999)],
                        label + " three parts, ascending")
        # Exactly MERGE_GAP apart: not merged; one less: merged.
        check_multipart(rng(srv, f, "bytes=0-9,%d-%d" % (
            10 + MERGE_GAP, 20 + MERGE_GAP)), f,
            [(0, 9), (10 + MERGE_GAP, 20 + MERGE_GAP)],
            label + " gap of %d" % MERGE_GAP)
        check_206(rng(srv, f, "bytes=0-9,%d-%d" % (
            9 + MERGE_GAP, 20 + MERGE_GAP)), f, 0, 20 + MERGE_GAP,
            label + " gap of %d merged" % (MERGE_GAP - 1))
        # Overlapping and adjacent ranges coalesce into one plain 206.
        check_206(rng(srv, f, "bytes=0-99,50-149"), f, 0, 149,
                  label + " overlap")
        check_206(rng(srv, f, "bytes=0-9,10-19"), f, 0, 19,
                  label + " adjacent")
        check_206(rng(srv, f, "bytes=0-9,50-59"), f, 0, 59,
                  label + " close")
        check_206(rng(srv, f, "bytes=-5,-5"), f, 995, 999,
                  label + " same suffix twice")
        check_206(rng(srv, f, "bytes=100-200,150-160"), f, 100, 200,
                  label + " contained")
        # Unsatisfiable members are dropped, the rest served.
        check_206(rng(srv, f, "bytes=0-9,5000-6000"), f, 0, 9,
                  label + " one satisfiable of two")
        check_206(rng(srv, f, "bytes=1000-,0-0"), f, 0, 0,
                  label + " unsatisfiable first")
        check_multipart(rng(srv, f, "bytes=0-0,2000-,900-909"), f,
                        [(0, 0), (900, 909)],
                        label + " two satisfiable of three")
        # Clamped end inside a multipart.
        check_multipart(rng(srv, f, "bytes=0-0,900-5000"), f,
                        [(0, 0), (900, 999)], label + " clamped part")
        # Big file, parts on both sides of buffer/pipe edges.
        spec = "bytes=0-9,65530-65545,%d-%d,-7" % (MiB - 3, 2 * MiB + 3)
        check_multipart(rng(srv, "big.bin", spec), "big.bin",
                        [(0, 9), (65530, 65545), (MiB - 3, 2 * MiB + 3),
                         (BIG - 7, BIG - 1)], label + " big file parts")


def caps():
    srv = servers[0][1]
    f = "f100000.bin"
    sixteen = ["%d-%d" % (i * 1000, i * 1000) for i in range(16)]
    check_multipart(rng(srv, f, "bytes=" + ",".join(sixteen)), f,
                    [(i * 1000, i * 1000) for i in range(16)],
                    "16 parts (the default cap)")
    seventeen = ["%d-%d" % (i * 1000, i * 1000) for i in range(17)]
    check_200_full(rng(srv, f, "bytes=" + ",".join(seventeen)), f,
                   "17 parts > --max-ranges 16")
    # 40 ranges that merge into 2 parts are fine: the cap is after merging.
    many = ["%d-%d" % (i, i + 1) for i in range(0, 40)] + ["5000-5001"]
    check_multipart(rng(srv, f, "bytes=" + ",".join(many)), f,
                    [(0, 40), (5000, 5001)], "41 ranges merging into 2")
    # --max-ranges=2.
    check_multipart(rng(capped, f, "bytes=0-0,1000-1000"), f,
                    [(0, 0), (1000, 1000)], "max-ranges=2: two parts")
    check_200_full(rng(capped, f, "bytes=0-0,1000-1000,2000-2000"), f,
                   "max-ranges=2: three parts")
    check_206(rng(capped, f, "bytes=0-0,10-10,20-20"), f, 0, 20,
              "max-ranges=2: three ranges merging into one")
    # More than twice the file in total -> 200 full.
    check_200_full(rng(srv, "f1000.bin", "bytes=0-,0-,0-"), "f1000.bin",
                   "3x the file")
    check_200_full(rng(srv, "f1000.bin", "bytes=" + ",".join(["0-"] * 1000)),
                   "f1000.bin", "bytes=0- x1000")
    check_200_full(rng(srv, "f1000.bin", "bytes=" + ",".join(["-600"] * 4)),
                   "f1000.bin", "4 suffixes of 600")
    # Exactly twice the file is still allowed (and merges into one).
    check_206(rng(srv, "f1000.bin", "bytes=0-,0-"), "f1000.bin", 0, 999,
              "2x the file")
    # Amplification bound: ranges summing past the file never produce
    # much more than the file itself.
    r = rng(srv, "big.bin", "bytes=" + ",".join(
        ["0-%d" % (BIG - 1)] * 300))
    check(r.status in (200, 206) and len(r.body) <= BIG + 4096,
          "300 whole-file ranges on big.bin: status %d, %d body bytes"
          % (r.status, len(r.body)))


def zero_length():
    srv = servers[0][1]
    for spec in ("-5", "-1", "-999999999999999999999"):
        r = rng(srv, "empty.bin", "bytes=" + spec)
        check(r.status == 200 and r.body == b""
              and r.headers.get("content-length") == "0"
              and "content-range" not in r.headers,
              "empty file bytes=%s: %r, want 200 empty" % (spec, r))
    for spec in ("0-", "0-0", "0-10", "5-", "-0"):
        check_416(rng(srv, "empty.bin", "bytes=" + spec), "empty.bin",
                  "empty file bytes=" + spec)


def head_and_methods():
    for label, srv in servers:
        for spec in ("bytes=0-9", "bytes=0-9,500-509", "bytes=5000-"):
            r = rng(srv, "f1000.bin", spec, method="HEAD")
            check(r.status == 200, "%s HEAD %s: status %d, want 200 (Range "
                  "ignored on HEAD)" % (label, spec, r.status))
            check(r.headers.get("content-length") == "1000"
                  and "content-range" not in r.headers,
                  "%s HEAD %s: headers %r" % (label, spec, r.headers))
            check(r.headers.get("accept-ranges") == "bytes",
                  "%s HEAD %s: no Accept-Ranges" % (label, spec))
    srv = servers[0][1]
    r = rng(srv, "f1000.bin", "bytes=0-9", method="POST")
    check(r.status == 405, "POST with Range: %d, want 405" % r.status)
    r = rng(srv, "missing.bin", "bytes=0-9")
    check(r.status == 404, "Range on missing file: %d, want 404" % r.status)
    r = rng(srv, "missing.bin", "bytes=5000-")
    check(r.status == 404, "unsatisfiable Range on missing file: %d" %
          r.status)
    r = rng(srv, "dir/", "bytes=0-3")
    check(r.status in (200, 206), "Range on index.html: %d" % r.status)
    if r.status == 206:
        check(r.body == b"<htm", "Range on dir index body %r" % r.body)


def accept_ranges_and_validators():
    srv = servers[0][1]
    r = rng(srv, "f1000.bin", None)
    check_200_full(r, "f1000.bin", "plain GET")
    r2 = rng(srv, "f1000.bin", "bytes=0-1")
    check(r2.headers.get("etag") == r.headers.get("etag")
          and r2.headers.get("last-modified")
          == r.headers.get("last-modified"),
          "206 validators differ from 200's: %r vs %r" % (r2.headers,
                                                          r.headers))
    check(r2.headers.get("content-type") == r.headers.get("content-type"),
          "206 Content-Type %r vs 200 %r" % (r2.headers.get("content-type"),
                                             r.headers.get("content-type")))


def keepalive_framing():
    """206, multipart 206, 416 and 200 pipelined on one connection: each
    must be framed exactly so the next one parses."""
    for label, srv in servers:
        specs = ["bytes=0-9", "bytes=0-0,500-509", "bytes=5000-", None,
                 "bytes=-3", "bytes=abc", "bytes=0-9,900-"]
        with srv.connect() as c:
            data = b"".join(request("/f1000.bin", headers=(
                ["Range: " + s] if s else [])) for s in specs)
            c.send(data)
            got = [c.read_response() for _ in specs]
            statuses = [g.status for g in got]
            check(statuses == [206, 206, 416, 200, 206, 200, 206],
                  "%s pipelined statuses %r" % (label, statuses))
            check(got[0].body == files["f1000.bin"][:10]
                  and got[4].body == files["f1000.bin"][-3:],
                  "%s pipelined 206 bodies wrong" % label)
            # And the connection is still usable.
            c.send(request("/t.txt", headers=["Range: bytes=-1"]))
            last = c.read_response()
            check(last.status == 206 and last.body == b"\n",
                  "%s request after pipelined ranges: %r" % (label, last))


for fn in (probe_read_16k, single_ranges, large_file_paths, unsatisfiable, ignored_ranges,
           unit_case_and_lists, overflow, multipart, caps, zero_length,
           head_and_methods, accept_ranges_and_validators, keepalive_framing):
    case(fn)
finish()
