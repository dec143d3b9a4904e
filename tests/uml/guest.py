#!/usr/bin/env python3
"""Runs inside the UML guest (test_uml.py's init script): the core
integration checks against $RINGSERVE on this kernel.

usage: guest.py RESULT_FILE EXT4_MOUNT

Each check appends "PASS name" or "FAIL name: what" to RESULT_FILE (on the
host, through hostfs), and "DONE" at the end; the exit status is 1 when
any check failed. Scratch files live in $TMPDIR (a tmpfs), the cold file on
the ext4 image, where O_DIRECT works and the page cache can be dropped.

- startup: the line names the kernel's real residency probe (below 6.5:
  no cachestat, mincore) and ends with the URL;
- basic serving, ranges (single, suffix, multipart, 416), keep-alive,
  pipelining, listings (HTML and JSON);
- cold file: 48 MiB on ext4, caches dropped, GET with the default
  --transfer=auto: bytes exact, sent by O_DIRECT (metrics), fincore shows
  the file not cached; again for an unaligned range;
- drain: SIGTERM while a 12 MiB download runs: new connections refused,
  the download completes exactly, exit 0;
- https: a self-signed certificate made here; curl over HTTPS (small,
  3 MiB, a range) and pipelined requests through Python's ssl, bytes
  exact; the startup line's kTLS probe says "module not loaded", then,
  after insmod of the kernel's tls.ko, "available";
- ktls: with tls.ko loaded, the kernel encrypts after the handshake: bytes
  exact over HTTPS for every body path (cache, --transfer=read, splice,
  sendfile, O_DIRECT on the ext4 image), keep-alive, TLS 1.2 and 1.3, the
  three kernel ciphers, a ticket resumed by openssl s_client, whose
  close_notify arrives; the metrics count kTLS connections and the bytes
  by splice/sendfile/direct, the json log says "ktls":true.

UML_ONLY (names, comma-separated) runs only those checks (a developer's
shortcut; the suite runs them all).
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
from harness import (Server, check, free_port, get, make_tree,  # noqa: E402
                     metrics_reach, metrics_sum, parse_multipart, read_to_eof, request)

MiB = 1 << 20
RESULT, EXT4 = sys.argv[1], sys.argv[2]
rnd = random.Random(20240611)
files = {
    "a.txt": b"hello from the guest\n",
    "k40.bin": rnd.randbytes(40000),
    "m3.bin": rnd.randbytes(3 * MiB + 17),
    "site/index.html": b"<p>site</p>\n",
    "list/one.txt": b"1\n",
    "list/two words.txt": b"2\n",
    "list/sub/x": b"x",
    "big.bin": rnd.randbytes(12 * MiB),
}
base, root = make_tree(files)
results = open(RESULT, "w")


def record(name, fn):
    before = len(harness._failures)
    t0 = time.monotonic()
    try:
        fn()
    except Exception:
        check(False, "%s raised:\n%s" % (name, traceback.format_exc()))
    new = harness._failures[before:]
    line = ("PASS %s" % name) if not new else \
        ("FAIL %s: %s" % (name, new[0].replace("\n", " | ")[:600]))
    results.write(line + "\n")
    results.flush()
    print("%s (%.1f s)" % (line, time.monotonic() - t0), flush=True)


def kernel_below(major, minor):
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(m.group(1)), int(m.group(2))) < (major, minor)


def startup_line(srv):
    return next((ln for ln in srv.stderr_text().splitlines() if "listening on" in ln), "")


srv = None


def t_startup():
    global srv
    srv = Server(root, threads=1)
    line = startup_line(srv)
    print("guest kernel %s: %s" % (os.uname().release, line), flush=True)
    if kernel_below(6, 5):
        check("no cachestat: residency from mincore, O_DIRECT for cold files" in line,
              "below 6.5 the line names the mincore fallback: %s" % line)
    else:
        check("cachestat, O_DIRECT for cold files" in line, "cachestat: %s" % line)
    check(line.endswith("; open http://127.0.0.1:%d/" % srv.port), "ends with the URL: %s" % line)


def t_basic():
    r = get(srv, "/a.txt")
    check(r.status == 200 and r.body == files["a.txt"] and r.media_type() == "text/plain",
          "GET /a.txt: %r" % r)
    for name in ("k40.bin", "m3.bin"):
        r = get(srv, "/" + name)
        check(r.status == 200 and r.body == files[name], "GET /%s: %s %d bytes"
              % (name, r.status, len(r.body)))
    r = get(srv, "/m3.bin", method="HEAD")
    check(r.status == 200 and r.headers.get("content-length") == str(len(files["m3.bin"])) and
          not r.body, "HEAD: %r" % r)
    check(get(srv, "/missing").status == 404, "404")
    r = get(srv, "/site")
    check(r.status == 301 and r.headers.get("location", "").endswith("/site/"), "301: %r" % r)
    r = get(srv, "/site/")
    check(r.status == 200 and r.body == files["site/index.html"], "index.html: %r" % r)


def t_ranges():
    data = files["m3.bin"]
    r = get(srv, "/m3.bin", headers=["Range: bytes=100-199999"])
    check(r.status == 206 and r.body == data[100:200000] and
          r.headers.get("content-range") == "bytes 100-199999/%d" % len(data), "single: %r" % r)
    r = get(srv, "/m3.bin", headers=["Range: bytes=-1000"])
    check(r.status == 206 and r.body == data[-1000:], "suffix: %r" % r)
    r = get(srv, "/k40.bin", headers=["Range: bytes=0-9,1000-1999,-5"])
    parts = parse_multipart(r) if r.status == 206 else []
    k = files["k40.bin"]
    check([p for _, p in parts] == [k[:10], k[1000:2000], k[-5:]], "multipart: %r" % r)
    r = get(srv, "/k40.bin", headers=["Range: bytes=40000-"])
    check(r.status == 416 and r.headers.get("content-range") == "bytes */40000", "416: %r" % r)


def t_keepalive():
    with srv.connect() as c:
        for path, want in (("/a.txt", files["a.txt"]), ("/m3.bin", files["m3.bin"]),
                           ("/k40.bin", files["k40.bin"])):
            c.send(request(path))
            r = c.read_response()
            check(r.status == 200 and r.body == want and
                  r.headers.get("connection", "").lower() != "close",
                  "keep-alive %s: %s" % (path, r.status))
        c.send(request("/a.txt", headers=["Connection: close"]))
        r = c.read_response()
        check(r.status == 200 and c.closed_by_peer(), "closed after Connection: close")


def t_pipelining():
    order = ["/a.txt", "/k40.bin", "/missing", "/site/", "/m3.bin", "/a.txt"]
    with srv.connect() as c:
        c.send(b"".join(request(p) for p in order))
        for p in order:
            r = c.read_response()
            want = files.get(p.strip("/")) or files.get("site/index.html")
            if p == "/missing":
                check(r.status == 404, "pipelined %s: %s" % (p, r.status))
            else:
                check(r.status == 200 and r.body == want, "pipelined %s: %s" % (p, r.status))


def t_listing():
    r = get(srv, "/list/")
    body = r.body.decode("utf-8", "replace")
    check(r.status == 200 and r.media_type() == "text/html", "listing: %r" % r)
    for name in ("one.txt", "two%20words.txt", "sub/"):
        check(name in body, "listing links %s" % name)
    r = get(srv, "/list/?format=json")
    try:
        names = [(e["name"], e["type"]) for e in json.loads(r.body)["entries"]]
    except (ValueError, KeyError, TypeError):
        names = None
    check(r.status == 200 and names == [("sub", "dir"), ("one.txt", "file"),
                                        ("two words.txt", "file")],
          "JSON listing: %s %r" % (r.status, names))
    srv.stop()


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def fincore(path):
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                       capture_output=True, text=True)
    return int(p.stdout.split()[0])


def direct_bytes(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_to_eof(s)
    return sum(int(ln.split()[-1]) for ln in data.decode().splitlines()
               if ln.startswith("ringserve_sent_bytes_total{") and 'path="direct"' in ln)


def t_cold_file():
    if not os.path.ismount(EXT4):
        check(False, "the ext4 image is not mounted at %s" % EXT4)
        return
    www = os.path.join(EXT4, "www")
    os.makedirs(www, exist_ok=True)
    path = os.path.join(www, "cold.bin")
    data = random.Random(48).randbytes(48 * MiB + 1234)
    with open(path, "wb") as f:
        f.write(data)
        os.fsync(f.fileno())
    mport = free_port()
    cold = Server(www, extra=["--metrics", "127.0.0.1:%d" % mport], threads=1)
    check("--transfer" not in " ".join(cold.argv), "default --transfer (auto)")
    for rg in (None, (4095, 20 * MiB + 3)):
        drop_caches()
        check(fincore(path) == 0, "dropped before %s: %d" % (rg, fincore(path)))
        before = direct_bytes(mport)
        r = get(cold, "/cold.bin", headers=() if rg is None else ["Range: bytes=%d-%d" % rg])
        want = data if rg is None else data[rg[0]:rg[1] + 1]
        check(r.status == (200 if rg is None else 206) and r.body == want,
              "cold %s: %s, %d bytes, exact %s" % (rg, r.status, len(r.body), r.body == want))
        sent = direct_bytes(mport) - before
        check(sent >= len(want), "cold %s by O_DIRECT: %d direct bytes" % (rg, sent))
        res = fincore(path)
        print("cold %s: %d bytes of the file in the page cache after the download"
              % (rg, res), flush=True)
        check(res == 0, "cold %s left %d bytes cached" % (rg, res))
    cold.stop()


def t_drain():
    d = Server(root, threads=1, extra=["--drain-timeout", "30"])
    data = files["big.bin"]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.settimeout(10)
    s.connect(("127.0.0.1", d.port))
    s.sendall(request("/big.bin"))
    got = b""
    while len(got) < 256 * 1024:
        got += s.recv(65536)
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
    except ConnectionRefusedError:
        refused = True
    check(refused, "a new connection is refused while draining")
    check(d.alive(), "still running while the download is in flight")
    got += read_to_eof(s)
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200") and body == data,
          "download during the drain: %r, %d of %d bytes, exact %s"
          % (head[:40], len(body), len(data), body == data))
    rc = d.wait_exit(35)
    check(rc == 0, "exit status after the drain: %s" % rc)


_cert = []


def test_cert():
    """A self-signed P-256 certificate for localhost, made once: (crt, key)."""
    if not _cert:
        d = os.path.join(base, "tls")
        os.makedirs(d, exist_ok=True)
        crt, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days",
                        "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        os.chmod(key, 0o600)
        _cert.extend((crt, key))
    return _cert


ULP = "/proc/sys/net/ipv4/tcp_available_ulp"


def tls_loaded():
    return os.path.exists(ULP) and "tls" in open(ULP).read().split()


def load_tls_module():
    """tls.ko, and the crypto modules the kernel asks for when a key is
    set (gcm, chacha20poly1305, ...): the guest's modules live in
    /usr/lib/uml/modules, so modprobe, the kernel's one included, is
    pointed there through a private root in the guest's tmpfs (nothing on
    the host is written)."""
    import shutil
    modprobe = shutil.which("modprobe")
    mods = "/usr/lib/uml/modules"
    if tls_loaded() or not modprobe or not os.path.isdir(os.path.join(mods, os.uname().release)):
        return tls_loaded()
    mroot = os.path.join(base, "modroot")
    os.makedirs(os.path.join(mroot, "lib"), exist_ok=True)
    if not os.path.exists(os.path.join(mroot, "lib", "modules")):
        os.symlink(mods, os.path.join(mroot, "lib", "modules"))
    wrapper = os.path.join(mroot, "modprobe")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s -d %s \"$@\"\n" % (modprobe, mroot))
    os.chmod(wrapper, 0o755)
    try:
        with open("/proc/sys/kernel/modprobe", "w") as f:
            f.write(wrapper + "\n")
    except OSError as e:
        print("guest: cannot set the kernel's modprobe: %s" % e, flush=True)
    p = subprocess.run([wrapper, "-a", "tls", "gcm", "ctr", "ghash-generic", "chacha20poly1305",
                        "chacha_generic", "poly1305_generic"], capture_output=True, timeout=60)
    if p.returncode:
        print("guest: modprobe: %s" % p.stderr.decode("utf-8", "replace")[-300:], flush=True)
    return tls_loaded()


def t_https():
    import shutil
    import ssl
    if not shutil.which("openssl") or not shutil.which("curl"):
        print("SKIP (https): openssl or curl missing")
        return
    crt, key = test_cert()

    def start():
        s = Server(root, threads=1, extra=["--tls-port", "0", "--tls-cert", crt, "--tls-key", key])
        m = re.search(r"127\.0\.0\.1:(\d+) \(https\)", startup_line(s))
        return s, (int(m.group(1)) if m else None), startup_line(s)

    loaded = tls_loaded()
    s, port, line = start()
    check(port, "no HTTPS listener: %s" % line)
    if not loaded:
        check("kTLS: no (module not loaded)" in line, "kTLS probe without the module: %s" % line)
    for path, want, opts in (("/a.txt", files["a.txt"], []), ("/m3.bin", files["m3.bin"], []),
                             ("/m3.bin", files["m3.bin"][5:70006], ["-r", "5-70005"])):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", crt, "--resolve",
                            "localhost:%d:127.0.0.1" % port] + opts +
                           ["https://localhost:%d%s" % (port, path)], capture_output=True,
                           timeout=30)
        check(r.returncode == 0 and r.stdout == want, "curl https %s %s: %d bytes %s"
              % (path, opts, len(r.stdout), r.stderr[-200:]))
    ctx = ssl.create_default_context(cafile=crt)
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="localhost")
    t.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n" * 3 +
              b"GET /k40.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = read_to_eof(t)
    check(got.count(b"HTTP/1.1 200 OK") == 4 and got.endswith(files["k40.bin"]),
          "pipelined over TLS: %d bytes" % len(got))
    s.stop()
    loaded = load_tls_module()
    if loaded:
        s, port, line = start()
        check("kTLS: available" in line, "kTLS probe with the module: %s" % line)
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", crt, "--resolve",
                            "localhost:%d:127.0.0.1" % port, "https://localhost:%d/m3.bin" % port],
                           capture_output=True, timeout=30)
        check(r.stdout == files["m3.bin"], "https with the tls module loaded")
        s.stop()
    else:
        print("SKIP (https, kTLS probe): tls.ko not loadable here")


def curl(port, paths, opts=(), crt=None):
    """curl over HTTPS to localhost:port (all paths on one connection):
    (returncode, stdout, stderr)."""
    crt = crt or test_cert()[0]
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--cacert", crt, "--resolve",
                        "localhost:%d:127.0.0.1" % port] + list(opts) +
                       ["https://localhost:%d%s" % (port, p) for p in paths],
                       capture_output=True, timeout=40)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")[-300:]


def https_server(root_dir, extra=(), env=None):
    crt, key = test_cert()
    mport = free_port()
    s = Server(root_dir, threads=1, extra=["--tls-port", "0", "--tls-cert", crt, "--tls-key", key,
                                           "--metrics", "127.0.0.1:%d" % mport] + list(extra),
               env=env)
    m = re.search(r"127\.0\.0\.1:(\d+) \(https\)", startup_line(s))
    return s, (int(m.group(1)) if m else 0), mport


def t_ktls():
    import shutil
    if not shutil.which("openssl") or not shutil.which("curl"):
        print("SKIP (ktls): openssl or curl missing")
        return
    if not load_tls_module():
        print("SKIP (ktls): tls.ko not loadable here")
        return
    m3 = files["m3.bin"]
    log = os.path.join(base, "ktls.log")
    # auto: the small file from the cache's memory, the hot 3 MiB one by
    # sendfile; keep-alive over one connection; TLS 1.2 and 1.3 with each
    # of the kernel's ciphers.
    s, port, mport = https_server(root, ["--access-log", log, "--log-format", "json"])
    line = startup_line(s)
    check("kTLS: available (TX by the kernel after the handshake: AES-128-GCM, AES-256-GCM, "
          "ChaCha20-Poly1305; RX in user space)" in line, "startup line: %s" % line)
    get(s, "/m3.bin")  # plain HTTP: makes it hot (and cached by the kernel)
    sf0 = metrics_sum(mport, "sent_bytes_total", 'path="sendfile"')
    rc, out, err = curl(port, ["/a.txt", "/m3.bin", "/k40.bin", "/a.txt"],
                        ["-w", "%{num_connects}\n"])
    # -w follows each body: 1 new connection, then 0 for each reuse.
    want = files["a.txt"] + b"1\n" + m3 + b"0\n" + files["k40.bin"] + b"0\n" + files["a.txt"] + b"0\n"
    check(rc == 0 and out == want, "keep-alive over kTLS, one connection: rc %d, %d bytes, "
          "exact %s, ends %r %s" % (rc, len(out), out == want, out[-12:], err))
    check(metrics_sum(mport, "tls_ktls_total") == 1, "one kTLS connection: %d"
          % metrics_sum(mport, "tls_ktls_total"))
    sf = metrics_sum(mport, "sent_bytes_total", 'path="sendfile"') - sf0
    check(sf >= len(m3), "the 3 MiB body by sendfile into kTLS: %d bytes" % sf)
    check(metrics_sum(mport, "sent_bytes_total", 'path="cache"') > 0, "small files from the cache")
    # Pipelined (a batch from memory, then a body by sendfile), and the
    # close: a close_notify, not a bare TCP end (no ragged EOF allowed).
    import ssl
    ctx = ssl.create_default_context(cafile=test_cert()[0])
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="localhost", suppress_ragged_eofs=False)
    t.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n" * 3 +
              b"GET /m3.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
              b"GET /k40.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got, clean = b"", False
    try:
        while True:
            chunk = t.recv(1 << 20)
            if not chunk:
                clean = True
                break
            got += chunk
    except (ssl.SSLError, OSError) as e:
        print("pipelined over kTLS ended with %r" % e, flush=True)
    t.close()
    check(got.count(b"HTTP/1.1 200 OK") == 5 and m3 in got and got.endswith(files["k40.bin"]),
          "pipelined over kTLS: %d bytes" % len(got))
    check(clean, "the server's close_notify ends the pipelined connection")
    for opts in (["--tlsv1.3"], ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"],
                 ["--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"],
                 ["--tlsv1.2", "--tls-max", "1.2"],
                 ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"],
                 ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305"]):
        before = metrics_sum(mport, "tls_ktls_total")
        rc, out, err = curl(port, ["/m3.bin", "/a.txt"], opts)
        check(rc == 0 and out == m3 + files["a.txt"], "curl %s: rc %d, %d bytes %s"
              % (" ".join(opts), rc, len(out), err))
        check(metrics_sum(mport, "tls_ktls_total") == before + 1, "kTLS with %s" % " ".join(opts))
    # Heads only, errors and a generated listing go through the same sends.
    rc, out, err = curl(port, ["/list/", "/missing"], ["-w", "%{http_code}\n"])
    check(rc == 0 and b"one.txt" in out and b"200\n" in out and out.endswith(b"404\n"),
          "listing and 404 over kTLS: rc %d %r %s" % (rc, out[-60:], err))
    rc, out, err = curl(port, ["/m3.bin"], ["-I"])
    check(rc == 0 and b"content-length: %d" % len(m3) in out.lower(), "HEAD over kTLS: %r" % out)
    # Resumption with a ticket (sent as a kTLS control record), and our
    # close_notify after "Connection: close", as openssl s_client sees them.
    sess = os.path.join(base, "ktls.sess")
    req = b"GET /k40.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    for n, arg in enumerate(("-sess_out", "-sess_in")):
        for ver in ("-tls1_3", "-tls1_2"):
            msgs = os.path.join(base, "ktls.msg")
            p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                "-servername", "localhost", "-CAfile", test_cert()[0], ver,
                                "-msg", "-msgfile", msgs, "-ign_eof", arg, sess + ver],
                               input=req, capture_output=True, timeout=30)
            o = p.stdout.decode("latin-1") + open(msgs, encoding="latin-1").read()
            check(("Reused," if n else "New,") in o, "s_client %s %s: %s" % (arg, ver, o[-300:]))
            check(files["k40.bin"] in p.stdout, "s_client %s %s: the body" % (arg, ver))
            check(re.search(r"<<< TLS 1\.[23], Alert \[length 0002\], warning close_notify", o),
                  "s_client %s %s: close_notify received" % (arg, ver))
    check(metrics_sum(mport, "tls_resumed_total") >= 2, "resumed: %d"
          % metrics_sum(mport, "tls_resumed_total"))
    check(metrics_sum(mport, "tls_ktls_failures_total") == 0, "no kTLS failure")
    s.stop()
    entries = [json.loads(ln) for ln in open(log) if '"tls"' in ln]
    check(entries and all(e["tls"]["ktls"] is True for e in entries),
          "json log: %d HTTPS lines, ktls %s" % (len(entries),
                                                 sorted({str(e["tls"]["ktls"]) for e in entries})))
    # Forced paths: read (buffer), splice, sendfile; pipelined requests too.
    for mode, path in (("read", "buffer"), ("splice", "splice"), ("sendfile", "sendfile")):
        s, port, mport = https_server(root, ["--transfer", mode])
        rc, out, err = curl(port, ["/m3.bin", "/big.bin"])
        check(rc == 0 and out == m3 + files["big.bin"], "--transfer=%s: rc %d, %d bytes %s"
              % (mode, rc, len(out), err))
        rc, out, err = curl(port, ["/m3.bin"], ["-r", "5-70005"])
        check(rc == 0 and out == m3[5:70006], "--transfer=%s range: %d bytes" % (mode, len(out)))
        rc, out, err = curl(port, ["/m3.bin"], ["-r", "0-9,100000-299999"])
        check(rc == 0 and m3[:10] in out and m3[100000:300000] in out and b"multipart" not in m3,
              "--transfer=%s multipart: rc %d, %d bytes %s" % (mode, rc, len(out), err))
        n = metrics_reach(mport, "sent_bytes_total", 'path="%s"' % path,
                          len(m3) + len(files["big.bin"]))
        check(n >= len(m3) + len(files["big.bin"]), "--transfer=%s: %d bytes by %s"
              % (mode, n, path))
        check(metrics_sum(mport, "tls_ktls_total") == 3, "--transfer=%s: kTLS connections %d"
              % (mode, metrics_sum(mport, "tls_ktls_total")))
        s.stop()
    # Paced (--limit-rate) splice: the chunks wait for their schedule.
    s, port, mport = https_server(root, ["--transfer", "splice", "--limit-rate", "8m"])
    t0 = time.monotonic()
    rc, out, err = curl(port, ["/m3.bin"])
    took = time.monotonic() - t0
    check(rc == 0 and out == m3, "paced splice over kTLS: rc %d, %d bytes %s" % (rc, len(out), err))
    check(took >= 0.25, "paced: %.2f s for 3 MiB at 8 MiB/s" % took)
    n = metrics_reach(mport, "sent_bytes_total", 'path="splice"', len(m3))
    check(n >= len(m3), "paced by splice: %d bytes by splice" % n)
    s.stop()
    # RINGSERVE_DISABLE=ktls: user space again, no splice or sendfile.
    s, port, mport = https_server(root, env=dict(os.environ, RINGSERVE_DISABLE="ktls"))
    check("kTLS: off (RINGSERVE_DISABLE=ktls)" in startup_line(s), "off: %s" % startup_line(s))
    rc, out, err = curl(port, ["/m3.bin"])
    check(rc == 0 and out == m3, "user-space TLS: rc %d, %d bytes %s" % (rc, len(out), err))
    check(metrics_sum(mport, "tls_ktls_total") == 0 and
          metrics_sum(mport, "sent_bytes_total", 'path="sendfile"') == 0, "no kTLS, no sendfile")
    s.stop()
    # O_DIRECT from the ext4 image.
    if not os.path.ismount(EXT4):
        check(False, "the ext4 image is not mounted at %s" % EXT4)
        return
    www = os.path.join(EXT4, "ktls")
    os.makedirs(www, exist_ok=True)
    data = random.Random(7).randbytes(6 * MiB + 333)
    with open(os.path.join(www, "d.bin"), "wb") as f:
        f.write(data)
        os.fsync(f.fileno())
    drop_caches()
    s, port, mport = https_server(www, ["--transfer", "direct"])
    rc, out, err = curl(port, ["/d.bin"])
    check(rc == 0 and out == data, "--transfer=direct: rc %d, %d bytes %s" % (rc, len(out), err))
    rc, out, err = curl(port, ["/d.bin"], ["-r", "4095-2000000"])
    check(rc == 0 and out == data[4095:2000001], "direct range: %d bytes" % len(out))
    n = metrics_sum(mport, "sent_bytes_total", 'path="direct"')
    check(n >= len(data), "--transfer=direct: %d bytes by O_DIRECT" % n)
    check(metrics_sum(mport, "tls_ktls_total") == 2, "direct: kTLS connections")
    s.stop()


CHECKS = (("startup", t_startup), ("basic", t_basic), ("ranges", t_ranges),
          ("keepalive", t_keepalive), ("pipelining", t_pipelining),
          ("listing", t_listing), ("cold-file", t_cold_file), ("drain", t_drain),
          ("https", t_https), ("ktls", t_ktls))
only = [n for n in os.environ.get("UML_ONLY", "").split(",") if n]
for name, fn in CHECKS:
    if not only or name in only:
        record(name, fn)
failed = len(harness._failures)
results.write("DONE %d\n" % failed)
results.close()
for s in list(harness._servers):
    s.kill()
sys.exit(1 if failed else 0)
