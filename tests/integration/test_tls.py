#!/usr/bin/env python3
"""HTTPS (issue #11, phase 1: user-space encryption through the ring) with
real clients. A test CA, an RSA certificate (localhost, a.test) and an ECDSA
one (b.test, *.wild.test) are made with `openssl` at test time.

curl --cacert: exact bytes of a cached small file, a large one (read path)
and an O_DIRECT one, a range, a multipart range, HEAD, keep-alive over
several requests, a listing. openssl s_client: TLS 1.2 and 1.3 accepted,
1.0/1.1 refused, ALPN http/1.1 and h2-only (no ALPN, no hang), SNI picks the
certificate (wildcards too), resumption (-sess_out/-sess_in: Reused).
Python's ssl: pipelined requests in one record, close_notify sent by the
server (keep-alive timeout and Connection: close) and honoured from the
client, --limit-rate pacing. Bad input: plain HTTP gets a plain 400 and a
close, garbage and a truncated ClientHello close, a stalled handshake ends
at --header-timeout, clients vanishing mid-handshake leak nothing (the
sanitizer build checks). SIGHUP reloads the certificate; a broken file keeps
the old one. --redirect-https (308 to https://host:port/target, bad Host ->
400), --hsts on HTTPS only, -p off, option errors, the config file, the
json access log and the metrics."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, binary, check, free_port, make_tree, metrics_reach,
                     metrics_sum, read_to_eof, run_timed, skip)
import tlscerts

if not shutil.which("openssl") or not shutil.which("curl"):
    skip("openssl and curl are needed")

TMO = 10
# The test CA and its leaves (tlscerts.py): RSA for localhost/a.test, ECDSA
# for b.test and *.wild.test, a second RSA one for the reload test.
TEST_CA = tlscerts.CA()
TEST_CA.cert("rsa", "rsa:2048", "localhost", "DNS:localhost,DNS:a.test,IP:127.0.0.1")
TEST_CA.cert("ec", "ec -pkeyopt ec_paramgen_curve:P-256", "b.test", "DNS:b.test,DNS:*.wild.test")
TEST_CA.cert("rsa2", "rsa:2048", "localhost", "DNS:localhost,IP:127.0.0.1", org="second")
CA = TEST_CA.crt


def P(name):
    return TEST_CA.path(name)


files = {
    "small.txt": b"hello over TLS\n",
    "big.bin": os.urandom(300000),
    "huge.bin": os.urandom(3 * 1024 * 1024 + 123),
    "dir/a.txt": b"a\n",
    # Cached bodies about one TLS record (16384 bytes of plaintext) with
    # their head: copied after the head into one record, or encrypted
    # straight from the cache.
    "rec/fits.bin": os.urandom(16000),
    "rec/full.bin": os.urandom(16384),
    "rec/over.bin": os.urandom(40000),
}
base, root = make_tree(files)
HTTPS_RE = tlscerts.HTTPS_RE


class TLSServer(Server):
    """The binary with an HTTPS listener; .tport is its port."""

    def __init__(self, extra=(), certs=(("rsa.crt", "rsa.key"), ("ec.crt", "ec.key")),
                 http=True, **kw):
        args = ["--tls-port", "0"]
        for c, k in certs:
            args += ["--tls-cert", c if os.path.isabs(c) else P(c),
                     "--tls-key", k if os.path.isabs(k) else P(k)]
        if not http:
            kw["args"] = ["-b", "127.0.0.1", "-p", "off", "-t", "2", root] + args + list(extra)
        super().__init__(root, extra=args + list(extra), **kw)
        m = HTTPS_RE.search(self.stderr_text())
        self.tport = int(m.group(1)) if m else None


def curl(srv, path, *opts, host="localhost"):
    url = "https://%s:%d%s" % (host, srv.tport, path)
    cmd = ["curl", "-sS", "--max-time", str(TMO), "--cacert", CA,
           "--resolve", "%s:%d:127.0.0.1" % (host, srv.tport)] + list(opts) + [url]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TMO + 5)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def s_client(srv, *opts, stdin=b"", servername=None):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.tport, "-CAfile", CA]
    if servername:
        cmd += ["-servername", servername]
    else:
        cmd += ["-noservername"]
    cmd += list(opts)
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=TMO + 5)
    return r.stdout.decode(errors="replace")


def negotiated(out):
    """The cipher s_client ended up with, None when the handshake failed."""
    m = re.search(r"Cipher is (\S+)", out)
    return m.group(1) if m and m.group(1) != "(NONE)" else None


def tls_sock(srv, server_hostname="localhost", alpn=None, ragged=True):
    ctx = ssl.create_default_context(cafile=CA)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    raw = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
    return ctx.wrap_socket(raw, server_hostname=server_hostname,
                           suppress_ragged_eofs=ragged)


def parse_responses(data):
    """[(status, headers dict, body)] of back-to-back responses."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, rest[:n]))
        data = rest[n:]
    return out


MPORT = free_port()
srv = TLSServer(["--access-log", os.path.join(base, "access.log"), "--log-format", "json",
                 "--metrics", "127.0.0.1:%d" % MPORT, "--header-timeout", "2",
                 "--keepalive-timeout", "2"])


def metrics_port(s):
    return MPORT if s is srv else None


def test_curl_bytes():
    check(srv.tport, "no HTTPS listener in the startup line: %s" % srv.stderr_text()[:400])
    for path, want in (("/small.txt", files["small.txt"]), ("/big.bin", files["big.bin"]),
                       ("/huge.bin", files["huge.bin"])):
        rc, out, err = curl(srv, path)
        check(rc == 0 and out == want, "curl %s: rc %d, %d bytes (want %d): %s"
              % (path, rc, len(out), len(want), err))
    rc, out, err = curl(srv, "/small.txt")  # now from the cache's memory
    check(rc == 0 and out == files["small.txt"], "cached small file: %r %s" % (out, err))


def test_curl_range_head_keepalive():
    rc, out, _ = curl(srv, "/big.bin", "-r", "1000-1999")
    check(out == files["big.bin"][1000:2000], "range: %d bytes" % len(out))
    rc, out, _ = curl(srv, "/big.bin", "-r", "0-9,100-109")
    check(b"multipart" not in out and out.count(b"Content-Range: bytes ") == 2,
          "multipart range body: %r" % out[:200])
    rc, out, _ = curl(srv, "/big.bin", "-I")
    check(b"200 OK" in out and b"Content-Length: 300000" in out, "HEAD: %r" % out[:300])
    rc, out, err = curl(srv, "/small.txt", "-o", "/dev/null", "-o", "/dev/null", "-o",
                        "/dev/null", "-w", "%{http_code}:%{num_connects} ",
                        "https://localhost:%d/big.bin" % srv.tport,
                        "https://localhost:%d/dir/" % srv.tport)
    codes = out.decode().split()
    check(codes == ["200:1", "200:0", "200:0"], "keep-alive: %r %s" % (codes, err))
    rc, out, _ = curl(srv, "/dir/")
    check(b"a.txt" in out, "listing over TLS: %r" % out[:200])


def test_direct_path():
    s = TLSServer(["--transfer", "direct"])
    rc, out, err = curl(s, "/huge.bin")
    check(rc == 0 and out == files["huge.bin"], "O_DIRECT over TLS: %d bytes %s" % (len(out), err))
    rc, out, err = curl(s, "/huge.bin", "-r", "5-1048580")
    check(out == files["huge.bin"][5:1048581], "O_DIRECT range over TLS: %d bytes" % len(out))
    s.stop()


def test_no_buffer_ring():
    # Plain recv into an area of the connection's own instead of provided
    # buffers (the fallback for kernels or limits without buffer rings).
    s = TLSServer(env=dict(os.environ, RINGSERVE_DISABLE="pbuf_ring"))
    check("no buffer ring" in s.stderr_text(), "pbuf_ring not disabled")
    for path in ("/small.txt", "/big.bin", "/small.txt"):
        rc, out, err = curl(s, path)
        check(rc == 0 and out == files[path[1:]], "no buffer ring %s: %s" % (path, err))
    t = tls_sock(s)
    t.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" * 3 +
              b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    r = parse_responses(read_to_eof(t))
    check(len(r) == 4 and r[3][2] == files["big.bin"], "no buffer ring, pipelined: %d" % len(r))
    c = socket.create_connection(("127.0.0.1", s.tport), timeout=TMO)
    c.sendall(b"GET / HTTP/1.1\r\n\r\n")
    check(read_to_eof(c).startswith(b"HTTP/1.1 400"), "no buffer ring: plain HTTP")
    s.stop()


def test_versions():
    out = s_client(srv, "-tls1_3")
    check("TLSv1.3" in out and negotiated(out), "TLS 1.3 refused: %s" % out[-600:])
    out = s_client(srv, "-tls1_2")
    check("TLSv1.2" in out and negotiated(out) and negotiated(out).startswith("ECDHE"),
          "TLS 1.2 refused or without ECDHE: %s" % out[-600:])
    for v in ("-tls1", "-tls1_1"):
        out = s_client(srv, v, "-cipher", "DEFAULT@SECLEVEL=0")
        check(not negotiated(out), "%s accepted: %s" % (v, out[-600:]))


def test_alpn():
    out = s_client(srv, "-alpn", "http/1.1")
    check("ALPN protocol: http/1.1" in out, "ALPN http/1.1: %s" % out[-600:])
    t0 = time.monotonic()
    out = s_client(srv, "-alpn", "h2")
    check("No ALPN negotiated" in out and negotiated(out), "h2 only: %s" % out[-600:])
    check(time.monotonic() - t0 < 5, "h2-only client hung")
    s = tls_sock(srv, alpn=["h2"])
    s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    r = parse_responses(read_to_eof(s))
    check(r and r[0][2] == files["small.txt"], "h2-only client gets HTTP/1.1: %r" % r)


def subject(out):
    m = re.search(r"subject=(.*)", out)
    return m.group(1) if m else ""


def test_sni():
    check("CN = localhost" in subject(s_client(srv)), "no SNI: not the default certificate")
    check("CN = localhost" in subject(s_client(srv, servername="a.test")), "a.test")
    check("CN = b.test" in subject(s_client(srv, servername="b.test")), "b.test: not ECDSA cert")
    out = s_client(srv, servername="x.wild.test")
    check("CN = b.test" in subject(out), "wildcard: %s" % subject(out))
    check("CN = localhost" in subject(s_client(srv, servername="unknown.test")), "unknown name")
    rc, out, err = curl(srv, "/small.txt", host="b.test")
    check(rc == 0 and out == files["small.txt"], "curl with SNI b.test: %s" % err)


def test_resumption():
    for v in ("-tls1_2", "-tls1_3"):
        sess = os.path.join(base, "sess" + v)
        req = b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        out = s_client(srv, v, "-sess_out", sess, "-ign_eof", stdin=req)
        check(negotiated(out) and os.path.exists(sess), "%s first: %s" % (v, out[-400:]))
        out = s_client(srv, v, "-sess_in", sess, "-ign_eof", stdin=req)
        check("Reused" in out, "%s not resumed: %s" % (v, out[-600:]))
    mp = metrics_port(srv)
    if mp:
        check(metrics_sum(mp, "tls_resumed_total") >= 2, "resumed handshakes not counted")


def test_pipelined():
    s = tls_sock(srv)
    reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p
                    for p in (b"/small.txt", b"/dir/a.txt", b"/nope", b"/big.bin"))
    s.sendall(reqs + b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    r = parse_responses(read_to_eof(s))
    check([x[0] for x in r] == [200, 200, 404, 200, 200], "pipelined statuses: %r"
          % [x[0] for x in r])
    check(len(r) == 5 and r[3][2] == files["big.bin"] and r[4][2] == files["small.txt"],
          "pipelined bodies")


def test_cached_record_sizes():
    # One connection, one request at a time (not pipelined: batches copy
    # anyway), each file twice: the first fills the cache, the second is
    # sent from it; exact bytes either way.
    mport = free_port()
    s = TLSServer(["--cache-file-size", "64K", "--metrics", "127.0.0.1:%d" % mport])
    c = Conn(tls_sock(s))
    names = ("rec/fits.bin", "rec/full.bin", "rec/over.bin", "small.txt")
    for name in names + names:
        c.send(b"GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % name.encode())
        r = c.read_response()
        check(r.status == 200 and r.body == files[name],
              "%s from the cache over TLS: %d bytes" % (name, len(r.body)))
    # The second round's bodies all went from the cache's memory.
    want = sum(len(files[n]) for n in names)
    got = metrics_reach(mport, "sent_bytes_total", 'path="cache"', want)
    check(got >= want, "bytes sent from the cache: %d, want at least %d" % (got, want))
    c.close()
    s.stop()


CIPHER_CASES = (
    ("TLS 1.2 AES-128-GCM", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"]),
    ("TLS 1.2 AES-256-GCM", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-GCM-SHA384"]),
    ("TLS 1.2 ChaCha20", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"]),
    ("TLS 1.3 AES-128-GCM", ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"]),
    ("TLS 1.3 AES-256-GCM", ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"]),
    ("TLS 1.3 ChaCha20", ["--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"]),
)


def test_sealed_records():
    # Without kTLS ringserve seals the records after the handshake (stls);
    # RINGSERVE_DISABLE=tls_seal leaves them to OpenSSL. Every cipher and
    # version, through both: a cached body, one over a record, the read
    # path, keep-alive across them (one curl, one connection), exact bytes.
    paths = ("/small.txt", "/rec/over.bin", "/big.bin", "/small.txt")
    want = b"".join(files[p[1:]] for p in paths)
    # Reading TLS 1.3 moves to stls too (RINGSERVE_DISABLE=tls_open: no).
    for disable in ("", "tls_seal", "tls_open"):
        sealed, opened = disable != "tls_seal", disable != "tls_open"
        mport = free_port()
        s = TLSServer(["--cache-file-size", "64K", "--metrics", "127.0.0.1:%d" % mport],
                      env=dict(os.environ, RINGSERVE_DISABLE=disable))
        line = s.stderr_text()
        check(("records sealed by ringserve" in line) == sealed, "startup line: %s" % line[:600])
        check(("TLS 1.3 records opened by ringserve" in line) == opened,
              "startup line: %s" % line[:600])
        for what, opts in CIPHER_CASES:
            # curl() puts its own URL last: the others go first, in order.
            urls = ["https://localhost:%d%s" % (s.tport, p) for p in paths[:-1]]
            rc, out, err = curl(s, paths[-1], *opts, *urls)
            check(rc == 0 and out == want, "%s, %s: rc %d, %d bytes (want %d) %s"
                  % (what, "sealed" if sealed else "OpenSSL", rc, len(out), len(want), err))
        n = metrics_sum(mport, "tls_sealed_total")
        check(n == (len(CIPHER_CASES) if sealed else 0), "tls_sealed_total %d" % n)
        n = metrics_sum(mport, "tls_opened_total")
        check(n == (3 if opened else 0), "tls_opened_total %d (the three TLS 1.3 cases)" % n)
        s.stop()


class RawTLS:
    """A TLS 1.3 client over memory BIOs: the test decides how the
    records' bytes go out (in pieces, changed)."""

    def __init__(self, srv, flush_last=True):
        ctx = ssl.create_default_context(cafile=CA)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.sock = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.feed()
        if flush_last:  # else the client's Finished waits in self.out
            self.flush()

    def flush(self):
        self.sock.sendall(self.out.read())

    def feed(self):
        d = self.sock.recv(65536)
        if not d:
            self.inc.write_eof()
        self.inc.write(d)
        return d

    def record(self, data):
        """The bytes of data as one record, not sent."""
        self.obj.write(data)
        return self.out.read()

    def read_until(self, n):
        """At least n plaintext bytes (fewer at the end)."""
        got = b""
        while len(got) < n:
            try:
                d = self.obj.read(65536)
                if not d:
                    break
                got += d
            except ssl.SSLWantReadError:
                if not self.feed():
                    break
        return got


def test_mapped_bodies():
    # Without kTLS, a file in the page cache and larger than a buffer is
    # sealed straight from a mapping of it: exact bytes whole and in
    # ranges, twice (the mapping is kept), counted under path="mapped";
    # RINGSERVE_DISABLE=tls_seal reads it into buffers instead.
    huge = files["huge.bin"]
    for disable, mapped in (("", True), ("tls_seal", False)):
        mport = free_port()
        s = TLSServer(["--metrics", "127.0.0.1:%d" % mport],
                      env=dict(os.environ, RINGSERVE_DISABLE=disable))
        urls = ["https://localhost:%d/huge.bin" % s.tport] * 2
        rc, out, err = curl(s, "/big.bin", *urls)
        check(rc == 0 and out == huge + huge + files["big.bin"],
              "mapped bodies (%s): rc %d, %d bytes %s" % (disable or "sealed", rc, len(out), err))
        rc, out, err = curl(s, "/huge.bin", "-r", "1000-2999999")
        check(rc == 0 and out == huge[1000:3000000], "mapped range: rc %d, %d bytes" % (rc, len(out)))
        want = 2 * len(huge) + len(files["big.bin"])
        n = metrics_sum(mport, "sent_bytes_total", 'path="mapped"')
        check((n >= want) if mapped else n == 0, "mapped bytes %d (%s)" % (n, disable or "sealed"))
        s.stop()


def test_mapped_truncated():
    # A file truncated while its mapping is being sealed: the response is
    # cut short by a close (SIGBUS is caught), every byte received is the
    # file's own, the server lives on and serves the new, shorter file.
    path = os.path.join(root, "shrink.bin")
    big = os.urandom(24 * 1024 * 1024)
    with open(path, "wb") as f:
        f.write(big)
    s = TLSServer(["--cache-validity", "1"])
    sock = tls_sock(s)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(b"GET /shrink.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while len(got) < 2 * 1024 * 1024:
        d = sock.recv(65536)
        if not d:
            break
        got += d
    os.truncate(path, 1024 * 1024)
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            got += d
    except (ssl.SSLError, OSError):
        pass
    sock.close()
    head, _, body = got.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200") and 0 < len(body) < len(big),
          "truncated: %d of %d body bytes" % (len(body), len(big)))
    check(body == big[:len(body)], "truncated: the bytes received are not the file's")
    check(s.alive(), "server died on the truncated mapping")
    check("a file shrank under an HTTPS response" in s.stderr_text(), "no log line for the cut")
    time.sleep(1.2)  # --cache-validity: the next request sees the new size
    rc, out, err = curl(s, "/shrink.bin")
    check(rc == 0 and out == big[:1024 * 1024], "after the cut: rc %d, %d bytes %s" % (rc, len(out), err))
    s.stop()
    os.unlink(path)


def test_opened_records():
    # stls opens the client's TLS 1.3 records from the receive buffers.
    mport = free_port()
    s = TLSServer(["--metrics", "127.0.0.1:%d" % mport])
    small = files["small.txt"]
    one = b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nX-Pad: %s\r\n\r\n"
    # 40 requests in one 16,000-byte record (more than a head may be),
    # sent 40 bytes at a time: about 400 receive buffers if they were
    # all held, more than a connection may pin; every answer comes back.
    reqs = b"".join(one % (b"p" * (400 - len(one % b""))) for _ in range(40))
    check(len(reqs) == 16000, "request bytes %d" % len(reqs))
    c = RawTLS(s)
    rec = c.record(reqs)
    check(len(rec) == 16000 + 22, "one record: %d bytes" % len(rec))
    for i in range(0, len(rec), 40):
        c.sock.sendall(rec[i:i + 40])
        time.sleep(0.001)
    r = parse_responses(c.read_until(40 * (len(small) + 150)))
    check(len(r) >= 40 and all(x[0] == 200 and x[2] == small for x in r[:40]),
          "pieces of one record: %d responses" % len(r))
    # The connection goes on: one more request, in a record of its own.
    c.sock.sendall(c.record(b"GET /dir/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    r = parse_responses(c.read_until(len(files["dir/a.txt"]) + 100))
    check(r and r[0][0] == 200 and r[0][2] == files["dir/a.txt"], "after the pieces: %r" % r[:1])
    # Our close_notify: answered with the server's, then the end.
    try:
        c.obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    c.flush()
    done = False
    for _ in range(50):
        try:
            c.obj.unwrap()
            done = True
            break
        except ssl.SSLWantReadError:
            if not c.feed():
                break
    check(done, "no close_notify in answer to ours")
    c.sock.close()
    # A changed byte of ciphertext: a bad_record_mac alert, then the close.
    # It comes in one segment with the client's Finished, so the alert is
    # written while the server's ticket is still being sent.
    c = RawTLS(s, flush_last=False)
    fin = c.out.read()
    rec = bytearray(c.record(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    rec[10] ^= 0x40
    c.sock.sendall(fin + bytes(rec))
    err = ""
    try:
        c.read_until(1)
    except ssl.SSLError as e:
        err = str(e)
    check("bad record mac" in err.lower(), "tampered record: %r" % err)
    c.sock.close()
    # Both RawTLS connections were read by stls; a TLS 1.2 one is not.
    rc, out, err = curl(s, "/small.txt", "--tlsv1.2", "--tls-max", "1.2")
    check(rc == 0 and out == small, "TLS 1.2 read by OpenSSL: rc %d %s" % (rc, err))
    n = metrics_sum(mport, "tls_opened_total")
    check(n == 2, "tls_opened_total %d, want 2" % n)
    s.stop()


def test_close_notify():
    # Keep-alive timeout (2 s): the server ends with close_notify, so a
    # strict client (ragged EOFs are errors) sees a clean end.
    s = tls_sock(srv, ragged=False)
    s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        clean = True
    except ssl.SSLEOFError:
        clean = False
    check(clean and data.endswith(files["small.txt"]), "no close_notify at keep-alive end")
    # Connection: close ends with close_notify too.
    s = tls_sock(srv, ragged=False)
    s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    try:
        read_to_eof(s)
        clean = True
    except ssl.SSLEOFError:
        clean = False
    check(clean, "no close_notify after Connection: close")
    # The client's close_notify is honoured: the server closes at once.
    s = tls_sock(srv)
    s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while not data.endswith(files["small.txt"]):
        data += s.recv(65536)
    t0 = time.monotonic()
    raw = s.unwrap()  # ours, then the server's close_notify
    raw.settimeout(3)
    try:
        while raw.recv(65536):
            pass
    except OSError:
        pass
    check(time.monotonic() - t0 < 1.5, "client close_notify not honoured")


def test_bad_input():
    s = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    out = read_to_eof(s)
    check(out.startswith(b"HTTP/1.1 400 ") and b"https" in out, "plain HTTP: %r" % out[:200])
    for data in (b"\x00\x01garbage" * 20, b"\x16\x03\x01\x00\x10\x01\x00\x00\x0c\x03\x03",
                 b"\x16\x03\x01\xff\xff" + b"\x01" * 64):
        s = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        t0 = time.monotonic()
        out = read_to_eof(s)
        check(time.monotonic() - t0 < 3, "no close after %r" % data[:8])
        check(not out or out[0] == 0x15, "not an alert after %r: %r" % (data[:8], out[:16]))
    # A handshake that stalls ends at --header-timeout (2 s).
    s = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    t0 = time.monotonic()
    read_to_eof(s)
    dt = time.monotonic() - t0
    check(1 <= dt < 5, "stalled handshake closed after %.1f s" % dt)
    # Clients vanishing mid-handshake (the sanitizer build checks leaks).
    ctx = ssl.create_default_context(cafile=CA)
    for i in range(30):
        raw = socket.create_connection(("127.0.0.1", srv.tport), timeout=TMO)
        if i % 2:
            raw.sendall(b"\x16\x03\x01\x00")
        else:  # a whole ClientHello, then gone before the server's answer is read
            inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = ctx.wrap_bio(inc, outg, server_hostname="localhost")
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            raw.sendall(outg.read())
            if i % 4 == 0:
                time.sleep(0.05)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()
    rc, out, err = curl(srv, "/small.txt")
    check(rc == 0 and out == files["small.txt"], "served after the bad input: %s" % err)
    mp = metrics_port(srv)
    if mp:
        check(metrics_sum(mp, "tls_handshake_failures_total", 'reason="plain_http"') >= 1,
              "plain_http failure not counted")
        check(metrics_sum(mp, "tls_handshake_failures_total", 'reason="timeout"') >= 1,
              "timeout failure not counted")
        check(metrics_sum(mp, "tls_handshakes_total") >= 5, "handshakes not counted")


def test_many_handshakes():
    s = TLSServer(["--tls-handshakes", "1"])
    results = []

    def one():
        rc, out, _ = curl(s, "/small.txt")
        results.append(rc == 0 and out == files["small.txt"])

    ts = [threading.Thread(target=one) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(len(results) == 16 and all(results), "concurrent handshakes, 1 per turn: %r" % results)
    s.stop()


def test_limit_rate():
    s = TLSServer(["--limit-rate", "1M"])
    t0 = time.monotonic()
    rc, out, err = curl(s, "/huge.bin")
    dt = time.monotonic() - t0
    check(out == files["huge.bin"], "paced body bytes: %d %s" % (len(out), err))
    check(2.4 <= dt <= 5, "3 MiB at 1 MiB/s took %.2f s" % dt)
    s.stop()


def openssl_subject_of_served(s):
    return subject(s_client(s))


def test_reload():
    crt, key = os.path.join(base, "live.crt"), os.path.join(base, "live.key")
    shutil.copy(P("rsa.crt"), crt)
    shutil.copy(P("rsa.key"), key)
    os.chmod(key, 0o600)
    s = TLSServer(certs=((crt, key),))
    check("O = ringserve-test" in openssl_subject_of_served(s), "first certificate")
    shutil.copy(P("rsa2.crt"), crt)
    shutil.copy(P("rsa2.key"), key)
    os.kill(s.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "reloaded" not in s.stderr_text():
        time.sleep(0.1)
    check("O = second" in openssl_subject_of_served(s), "SIGHUP: new certificate not served")
    rc, out, err = curl(s, "/small.txt")
    check(rc == 0 and out == files["small.txt"], "after reload: %s" % err)
    with open(crt, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    os.kill(s.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "TLS reload failed" not in s.stderr_text():
        time.sleep(0.1)
    lines = [l for l in s.stderr_text().splitlines() if "TLS reload failed" in l]
    check(len(lines) == 1 and crt in lines[0], "failed reload line: %r" % lines)
    check("O = second" in openssl_subject_of_served(s), "broken file: old certificate not kept")
    s.stop()


def test_redirect_hsts():
    s = TLSServer(["--redirect-https", "--hsts"])
    c = s.connect()
    c.send(b"GET /dir/a.txt?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n")
    r = c.read_response()
    check(r.status == 308 and r.headers.get("location") ==
          "https://example.com:%d/dir/a.txt?x=1" % s.tport, "redirect: %r" % r)
    check("strict-transport-security" not in r.headers, "HSTS on plain HTTP")
    c.send(b"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n")
    r = c.read_response()
    check(r.status == 308 and r.headers.get("location") == "https://[::1]:%d/" % s.tport,
          "IPv6 host redirect: %r" % r)
    c = s.connect()
    c.send(b"GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n")
    r = c.read_response()
    check(r.status == 400, "bad Host for a redirect: %r" % r)
    rc, out, err = curl(s, "/small.txt", "-D", "-")
    check(b"Strict-Transport-Security: max-age=31536000\r\n" in out, "no HSTS on HTTPS: %r"
          % out[:400])
    s.stop()
    s = TLSServer(["--hsts=600"])
    rc, out, err = curl(s, "/nope", "-D", "-")
    check(b"404" in out and b"Strict-Transport-Security: max-age=600\r\n" in out,
          "HSTS on an error: %r" % out[:300])
    c = s.connect()
    c.send(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    r = c.read_response()
    check(r.status == 200 and "strict-transport-security" not in r.headers, "HSTS on HTTP")
    s.stop()


def test_site_rules():
    # The site rules answer over HTTPS as over HTTP: Basic auth (verified
    # off the ring, the answer resumed), an error page, an extra header.
    hp = subprocess.run(["openssl", "passwd", "-5", "-salt", "saltsalt", "pw"],
                        stdout=subprocess.PIPE, timeout=TMO).stdout.decode().strip()
    auth = os.path.join(base, "htpasswd")
    with open(auth, "w") as f:
        f.write("alice:%s\n" % hp)
    with open(os.path.join(root, "e404.html"), "wb") as f:
        f.write(b"<p>custom 404</p>\n")
    s = TLSServer(["--auth-file", auth, "--auth-path", "/dir", "--error-page", "404=/e404.html",
                   "--header", "X-Site: tls"])
    rc, out, _ = curl(s, "/dir/a.txt", "-o", "/dev/null", "-w", "%{http_code}")
    check(out == b"401", "no credentials over HTTPS: %r" % out)
    rc, out, err = curl(s, "/dir/a.txt", "-u", "alice:pw")
    check(rc == 0 and out == files["dir/a.txt"], "Basic auth over HTTPS: %r %s" % (out, err))
    rc, out, _ = curl(s, "/missing", "-D", "-")
    check(b" 404 " in out and out.endswith(b"<p>custom 404</p>\n"), "error page over HTTPS: %r"
          % out[-200:])
    rc, out, _ = curl(s, "/small.txt", "-D", "-")
    check(b"X-Site: tls\r\n" in out and out.endswith(files["small.txt"]), "--header over HTTPS")
    s.stop()
    os.unlink(os.path.join(root, "e404.html"))


def test_https_only():
    s = TLSServer(http=False, ready_re=re.compile(r"listening on 127\.0\.0\.1:(\d+) \(https\)"))
    check(s.tport and "listening on 127.0.0.1:%d (https), root" % s.tport in s.stderr_text(),
          "-p off: %s" % s.stderr_text()[:300])
    rc, out, err = curl(s, "/small.txt")
    check(rc == 0 and out == files["small.txt"], "-p off: %s" % err)
    s.stop()


def run_bin(*args):
    r = subprocess.run([binary()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TMO)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def test_options():
    rc, _, err = run_bin("-b", "127.0.0.1", "-p", "0", "--tls-port", "0", root)
    check(rc == 2 and "--tls-port" in err, "--tls-port without cert: %d %s" % (rc, err))
    rc, _, err = run_bin("--tls-port", "0", "--tls-cert", P("rsa.crt"), root)
    check(rc == 2 and "--tls-key" in err, "cert without key: %d %s" % (rc, err))
    rc, _, err = run_bin("--tls-port", "0", "--tls-cert", P("rsa.crt"), "--tls-key",
                         P("rsa.key"), "--tls-min", "1.1", root)
    check(rc == 2 and "--tls-min" in err, "bad --tls-min: %d %s" % (rc, err))
    rc, _, err = run_bin("--tls-port", "70000", root)
    check(rc == 2 and "--tls-port" in err, "bad --tls-port: %d %s" % (rc, err))
    for args in (["-p", "8443"], ["-b", "127.0.0.1:8443"]):
        rc, _, err = run_bin(*args, "--tls-port", "8443", "--tls-cert", P("rsa.crt"),
                             "--tls-key", P("rsa.key"), "--check-config", root)
        check(rc == 2 and "--tls-port" in err, "HTTP and HTTPS on one port %s: %d %s"
              % (args, rc, err))
    rc, out, err = run_bin("-p", "off", "--tls-port", "8443", "--tls-cert", P("rsa.crt"),
                           "--tls-key", P("rsa.key"), "--check-config", root)
    check(rc == 0 and "port = off" in out and "tls-port = 8443" in out,
          "-p off read back: %d %s %s" % (rc, out[:200], err))
    rc, _, err = run_bin("--hsts=abc", root)
    check(rc == 2 and "--hsts" in err, "bad --hsts: %d %s" % (rc, err))
    rc, _, err = run_bin("-p", "off", root)
    check(rc == 2 and "--tls-port" in err, "-p off alone: %d %s" % (rc, err))
    rc, _, err = run_bin("--redirect-https", root)
    check(rc == 2 and "--tls-port" in err, "--redirect-https alone: %d %s" % (rc, err))
    rc, _, err = run_bin("-b", "127.0.0.1", "-p", "0", "--tls-port", "0", "--tls-cert",
                         os.path.join(base, "missing.crt"), "--tls-key", P("rsa.key"), root)
    check(rc == 1 and len(err.strip().splitlines()) == 1 and "missing.crt" in err,
          "unreadable cert: %d %r" % (rc, err))
    # A key readable by others: a warning, still serving.
    wk = os.path.join(base, "world.key")
    shutil.copy(P("rsa.key"), wk)
    os.chmod(wk, 0o644)
    s = TLSServer(certs=(("rsa.crt", wk),))
    check("readable by other users" in s.stderr_text(), "no warning for a world-readable key")
    s.stop()
    # The config file takes them; --check-config prints them back.
    conf = os.path.join(base, "tls.conf")
    with open(conf, "w") as f:
        f.write("tls-port = 0\ntls-cert = %s\ntls-key = %s\ntls-cert = %s\ntls-key = %s\n"
                "tls-min = 1.3\nhsts = 60\nredirect-https\n"
                % (P("rsa.crt"), P("rsa.key"), P("ec.crt"), P("ec.key")))
    rc, out, err = run_bin("--config", conf, "--check-config", root)
    check(rc == 0 and out.count("tls-cert = ") == 2 and "tls-min = 1.3" in out and
          "hsts = 60" in out and "redirect-https = true" in out and "tls-port = 0" in out,
          "config file: %d %s %s" % (rc, out[-800:], err))
    s = Server(root, extra=["--config", conf])
    m = HTTPS_RE.search(s.stderr_text())
    s.tport = int(m.group(1)) if m else None
    out = s_client(s, "-tls1_2")
    check(not negotiated(out), "tls-min 1.3 from the file: TLS 1.2 accepted")
    check(negotiated(s_client(s, "-tls1_3")), "tls-min 1.3: TLS 1.3 refused")
    s.stop()


def test_log_and_metrics():
    curl(srv, "/small.txt?logged")
    path = os.path.join(base, "access.log")
    entry = None
    deadline = time.monotonic() + 3
    while entry is None and time.monotonic() < deadline:
        time.sleep(0.3)
        with open(path) as f:
            for ln in f:
                if "logged" in ln:
                    entry = json.loads(ln)
    check(entry and entry.get("tls") and entry["tls"]["version"].startswith("TLSv1.") and
          entry["tls"]["cipher"] and entry["tls"]["ktls"] is False and
          entry["tls"]["resumed"] in (True, False), "json log: %r" % entry)
    mp = metrics_port(srv)
    check(mp, "metrics port")


run_timed([test_curl_bytes, test_curl_range_head_keepalive, test_direct_path, test_no_buffer_ring,
           test_versions,
           test_alpn, test_sni, test_resumption, test_pipelined, test_cached_record_sizes,
           test_sealed_records, test_mapped_bodies, test_mapped_truncated,
           test_opened_records, test_close_notify,
           test_bad_input, test_many_handshakes, test_limit_rate, test_reload,
           test_redirect_hsts, test_site_rules, test_https_only, test_options, test_log_and_metrics])
