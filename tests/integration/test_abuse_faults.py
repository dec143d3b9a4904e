#!/usr/bin/env python3
"""Faults around the server: files truncated or replaced while they are
being sent, SIGTERM while large downloads are in flight (and a second one
that must end the process at once), and the slowhttptest tool's attacks
when it is installed. The server must never send bytes that are not from
the file, must finish what it promised, and must keep serving."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_timed, Server, case, check, check_latencies, drop_from_cache,
                     finish, get_within, make_tree, raise_nofile, request, sanitized)

FAST = 1.0 if sanitized() else 0.5  # ordinary requests, meanwhile
MiB = 1 << 20


_FILL = bytes(random.Random(5).randrange(256) for _ in range(4096))


def pattern(tag, size):
    """size bytes in 4 KiB blocks, each starting with the file's tag and its
    own offset, then random filler: any byte received out of place (another
    offset, another file, zeros) differs from the file."""
    n = (size + 4095) // 4096
    blocks = []
    for i in range(n):
        hdr = b"%s %013x\n" % (tag, i * 4096)
        blocks.append(hdr + _FILL[len(hdr):])
    return b"".join(blocks)[:size]


raise_nofile(4096)
BIG = 64 * MiB
files = {
    "a.txt": b"hello a\n",
    "trunc-splice.bin": pattern(b"TS", BIG),
    "trunc-sendfile.bin": pattern(b"TF", BIG),
    "trunc-read.bin": pattern(b"TR", BIG),
    "trunc-direct.bin": pattern(b"TD", BIG),
    "trunc-zc.bin": pattern(b"TZ", BIG),
    "replace.bin": pattern(b"R1", 16 * MiB),
    "m32.bin": pattern(b"M32", 32 * MiB),
}
base, root = make_tree(files)


def start(extra=()):
    return Server(root, extra=list(extra))


def quick_get(srv, what, path="/a.txt", timed=True):
    t0 = time.monotonic()
    with srv.connect() as c:
        c.send(request(path, headers=["Connection: close"]))
        r = c.read_response()
    took = time.monotonic() - t0
    want = files[path[1:]] if path[1:] in files else None
    check(r.status == 200 and (want is None or r.body == want),
          "%s: GET %s: %r" % (what, path, r))
    if timed:
        check(took < FAST, "%s: GET %s took %.3f s" % (what, path, took))
    return took


class Download:
    """A GET on its own socket with a small receive buffer, read on demand:
    the test decides when the client reads, so it can act mid-response."""

    def __init__(self, srv, path, rcvbuf=256 * 1024, extra_headers=()):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((srv.host, srv.port))
        self.sock.sendall(request(path, headers=list(extra_headers)))
        self.buf = b""
        self.closed = False
        while b"\r\n\r\n" not in self.buf:
            if not self._recv():
                raise RuntimeError("no response head: %r" % self.buf[:200])
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        self.body = bytearray(rest)   # appends stay linear
        self.head = head
        m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
        self.length = int(m.group(1)) if m else -1
        self.status = int(head[9:12])

    def _recv(self, n=1 << 20):
        try:
            chunk = self.sock.recv(n)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        if hasattr(self, "body"):
            self.body += chunk
        else:
            self.buf += chunk
        return True

    def read_upto(self, n, limit=10.0):
        """Read until n body bytes, the close, or `limit` seconds; True
        when n bytes arrived."""
        deadline = time.monotonic() + limit
        try:
            while len(self.body) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                if not self._recv(min(1 << 20, n - len(self.body))):
                    break
        except socket.timeout:
            pass
        return len(self.body) >= n

    def read_body(self, timeout=20):
        """Read to the end of the body or the close, for at most `timeout`
        seconds in all; returns True if the connection was closed."""
        self.read_upto(self.length, timeout)
        return self.closed

    def close(self):
        self.sock.close()


def o_direct_works(path):
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError:
        return False


def t_truncate():
    """A 64 MiB file truncated to about 1 MiB while it is being sent: the
    response ends early with a close, every byte received is the file's
    own, and the next request gets the smaller file exactly (at once, or
    once --cache-validity has passed; an answer before that may only be a
    prefix of the file cut short by a close). On the sendfile path (the
    default for a file in the page cache), the splice path, the buffered
    path (--pipes 0), zero-copy sends (--send-zc) and the O_DIRECT path for
    cold files."""
    variants = [("trunc-sendfile.bin", "sendfile", [], MiB),
                ("trunc-splice.bin", "splice", ["--transfer", "splice"], MiB),
                ("trunc-read.bin", "--pipes 0", ["--pipes", "0"], MiB),
                ("trunc-zc.bin", "read + --send-zc",
                 ["--transfer", "read", "--send-zc=16K"], MiB + 5)]
    dpath = os.path.join(root, "trunc-direct.bin")
    if o_direct_works(dpath):
        variants.append(("trunc-direct.bin", "O_DIRECT",
                         ["--direct-threshold", "8M"], MiB + 123))
    else:
        print("note: O_DIRECT not supported under %s; direct variant "
              "skipped" % root)
    for name, label, extra, new_size in variants:
        srv = start(extra + ["--cache-validity", "1"])
        path = os.path.join(root, name)
        orig = files[name]
        if label == "O_DIRECT":
            drop_from_cache(path)
        d = Download(srv, "/" + name)
        check(d.status == 200 and d.length == BIG,
              "truncate %s: head %r" % (label, d.head[:200]))
        t_r = time.monotonic()
        check(d.read_upto(4 * MiB, 5.0), "truncate %s: the first 4 MiB did "
              "not arrive within 5 s (%d bytes in %.1f s): the transfer "
              "stalls" % (label, len(d.body), time.monotonic() - t_r))
        os.truncate(path, new_size)
        t0 = time.monotonic()
        closed = d.read_body(timeout=10)
        took = time.monotonic() - t0
        got = len(d.body)
        check(closed and got < BIG,
              "truncate %s: expected the response cut short by a close; got "
              "%d of %d bytes, closed=%s" % (label, got, BIG, closed))
        if d.body != orig[:got]:
            bad_at = next(i for i in range(got) if d.body[i] != orig[i])
            check(False, "truncate %s: byte %d of the body is not the file's "
                  "(got %r, file has %r)" % (label, bad_at,
                                             d.body[bad_at:bad_at + 64],
                                             orig[bad_at:bad_at + 64]))
        d.close()
        check(srv.alive(), "truncate %s: server died" % label)
        want = orig[:new_size]
        t1 = time.monotonic()
        stale = 0
        while True:
            status, body, took_get, err = get_within(srv, "/" + name, 5.0)
            if status == 200 and err is None and body == want:
                break
            stale += 1
            # Before revalidation: the old size promised, then a close
            # after the file's own bytes.
            ok = status == 200 and err is not None and \
                err.startswith("closed") and orig.startswith(body)
            if not check(ok and time.monotonic() - t1 < 2.5,
                         "truncate %s: next GET after %.1f s: %s, %d body "
                         "bytes, %s%s"
                         % (label, time.monotonic() - t1, status, len(body),
                            err or "complete",
                            "" if orig.startswith(body) else
                            " (not the file's bytes)")):
                break
            time.sleep(0.1)
        print("truncate (%s): got %.1f MiB of %d MiB, then a close %.2f s "
              "after reading resumed; %d stale answer(s) before the %d-byte "
              "file" % (label, got / MiB, BIG // MiB, took, stale, new_size))
        quick_get(srv, "after the truncation")
        srv.stop()


def t_replace():
    """replace.bin renamed over while it is being sent: the response in
    flight is the old file, whole and exact; the next request (same
    connection and a new one) gets the new file, with a new ETag."""
    srv = start(["--cache-validity", "1"])
    old = files["replace.bin"]
    new = pattern(b"R2", 8 * MiB + 5)
    path = os.path.join(root, "replace.bin")
    d = Download(srv, "/replace.bin")
    etag0 = re.search(rb"\r\netag: *(\S+)", d.head, re.I)
    check(d.read_upto(2 * MiB, 5.0), "replace: the first 2 MiB did not "
          "arrive within 5 s")
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(new)
    os.rename(tmp, path)
    closed = d.read_body()
    check(not closed and d.body == old,
          "replace: the response in flight should be the old file whole "
          "(%d bytes); got %d bytes, exact=%s, closed=%s"
          % (len(old), len(d.body), d.body == old, closed))
    # The open-file cache may trust what it knows for --cache-validity; in
    # that window an answer is the old file or the new one, whole, never a
    # mix (old size with new bytes, or the other way round).
    t1 = time.monotonic()
    answers = []
    conn = d.sock.makefile("rb")
    while True:
        d.sock.sendall(request("/replace.bin"))
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            ln = conn.readline()
            if not ln:
                break
            head += ln
        m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
        body = conn.read(int(m.group(1))) if m else b""
        etag = re.search(rb"\r\netag: *(\S+)", head, re.I)
        kind = "new" if body == new else "old" if body == old else "mixed"
        answers.append(kind)
        if kind != "old" or time.monotonic() - t1 > 2.5:
            break
        time.sleep(0.1)
    check(answers[-1] == "new", "replace: GETs on the same connection after "
          "the rename: %s (each must be the old or the new file whole, and "
          "the new one within --cache-validity 1 s + 1 s)" % answers)
    check(etag0 and etag and etag0.group(1) != etag.group(1),
          "replace: ETag unchanged after the file was replaced: %s / %s"
          % (etag0 and etag0.group(1), etag and etag.group(1)))
    conn.close()
    d.close()
    with srv.connect(timeout=10) as c:
        c.send(request("/replace.bin"))
        r = c.read_response()
        check(r.status == 200 and r.body == new,
              "replace: GET on a new connection: %d, %d bytes"
              % (r.status, len(r.body)))
    print("replace: in-flight response was the old file whole; answers after "
          "the rename: %s" % answers)
    srv.stop()


def connect_refused(srv, within):
    """Poll until a new connection is refused; seconds taken, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < within:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((srv.host, srv.port))
        except (ConnectionRefusedError, ConnectionResetError):
            return time.monotonic() - t0
        except socket.timeout:
            pass
        finally:
            s.close()
        time.sleep(0.02)
    return None


def t_sigterm_drain():
    """SIGTERM with four large downloads in flight, one idle kept-alive
    connection and one that sent nothing: new connections are refused at
    once, the idle ones are closed, the four downloads complete exactly,
    and the process exits 0 once they are done."""
    srv = start(["--drain-timeout", "20"])
    idle = srv.connect()
    idle.send(request("/a.txt"))
    r = idle.read_response()
    check(r.status == 200, "sigterm: idle connection's request: %r" % r)
    silent = srv.connect()
    time.sleep(0.1)
    downloads = [Download(srv, "/m32.bin") for _ in range(4)]
    for d in downloads:
        d.read_upto(MiB, 5.0)
    srv.proc.send_signal(signal.SIGTERM)
    took = connect_refused(srv, 1.5)
    check(took is not None and took < 0.5, "sigterm: new connections still "
          "accepted %s s after SIGTERM (expected refused at once)"
          % ("1.5" if took is None else "%.2f" % took))
    for name, c in (("idle kept-alive", idle), ("silent", silent)):
        check(c.closed_by_peer(3.0), "sigterm: the %s connection was not "
              "closed" % name)
        c.close()
    check(srv.alive(), "sigterm: the server exited with downloads in flight")
    results = [None] * 4

    def finish_dl(i, d):
        # A slowish reader: the drain must wait for it.
        deadline = time.monotonic() + 15
        while len(d.body) < d.length and time.monotonic() < deadline:
            d.read_upto(min(d.length, len(d.body) + 4 * MiB),
                        max(0.1, deadline - time.monotonic()))
            if d.closed:
                break
            time.sleep(0.1)
        results[i] = d.body == files["m32.bin"]
    ths = [threading.Thread(target=finish_dl, args=(i, d))
           for i, d in enumerate(downloads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(30)
    t_done = time.monotonic()
    check(all(results), "sigterm: downloads in flight complete and exact: %s "
          "(bytes %s)" % (results, [len(d.body) for d in downloads]))
    closed_after = []
    for d in downloads:
        d.sock.settimeout(3)
        try:
            extra = d.sock.recv(65536)
        except ConnectionResetError:
            extra = b""
        except socket.timeout:
            extra = None
        closed_after.append(extra == b"")
        d.close()
    check(all(closed_after), "sigterm: after their response the draining "
          "server should close the download connections (and send nothing "
          "more): %s" % closed_after)
    rc = srv.wait_exit(10)
    exit_after = time.monotonic() - t_done
    check(rc == 0, "sigterm: exit status %r after the drain, expected 0"
          % rc)
    check(exit_after < 3.0, "sigterm: exited %.1f s after the last download "
          "ended" % exit_after)
    print("sigterm: listener refused after %s s; 4 downloads exact=%s; exit "
          "%r %.2f s after they ended; connections closed after=%s"
          % ("%.2f" % took if took is not None else "never", results, rc,
             exit_after, closed_after))


def t_second_signal():
    """A second SIGTERM during the drain ends the process at once, status 1,
    even with a client that stopped reading a large response."""
    srv = start(["--drain-timeout", "20"])
    d = Download(srv, "/m32.bin", rcvbuf=16384)
    d.read_upto(100 * 1024, 5.0)
    srv.proc.send_signal(signal.SIGTERM)
    took = connect_refused(srv, 1.5)
    check(took is not None, "second signal: new connections still accepted "
          "1.5 s after the first SIGTERM")
    time.sleep(0.3)
    check(srv.alive(), "second signal: the server exited after the first "
          "SIGTERM although a response was in flight")
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.wait_exit(5)
    took2 = time.monotonic() - t0
    check(rc == 1, "second signal: exit status %r, expected 1" % rc)
    check(rc is not None and took2 < 1.5, "second signal: exit took %.2f s"
          % took2)
    d.close()
    print("second signal: exit %r %.2f s after the second SIGTERM"
          % (rc, took2))


def t_slowhttptest():
    """slowhttptest's slowloris (-H), slow read (-X) and range (-R) attacks
    at once against 127.0.0.1 for 6 s; ordinary requests stay fast during
    and after."""
    tool = shutil.which("slowhttptest")
    if not tool:
        print("SKIP (case): slowhttptest is not installed "
              "(apt-get install slowhttptest)")
        return
    srv = start()
    url = "http://127.0.0.1:%d" % srv.port
    length = "6"
    cmds = [
        [tool, "-H", "-c", "200", "-r", "100", "-i", "1", "-l", length,
         "-u", url + "/a.txt"],
        [tool, "-X", "-c", "200", "-r", "100", "-l", length, "-w", "512",
         "-y", "1024", "-n", "1", "-z", "32", "-k", "3",
         "-u", url + "/m32.bin"],
        [tool, "-R", "-c", "50", "-r", "50", "-l", length, "-a", "5",
         "-b", "2000", "-u", url + "/replace.bin"],
    ]
    procs = [subprocess.Popen(c, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for c in cmds]
    outs = [b""] * len(procs)

    def collect(i, p):
        outs[i] = p.communicate()[0]
    ths = [threading.Thread(target=collect, args=(i, p), daemon=True)
           for i, p in enumerate(procs)]
    for t in ths:
        t.start()
    lat = []
    t0 = time.monotonic()
    while any(p.poll() is None for p in procs):
        if time.monotonic() - t0 > 25:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            check(False, "slowhttptest did not end within 25 s")
            break
        lat.append(quick_get(srv, "during slowhttptest", timed=False))
        time.sleep(0.2)
    for t in ths:
        t.join(5)
    for i, p in enumerate(procs):
        text = re.sub(r"\x1b\[[0-9;]*m", "", outs[i].decode("utf-8",
                                                              "replace"))
        tail = [" ".join(ln.split()) for ln in text.splitlines()
                if "service" in ln or "closed" in ln]
        if p.returncode not in (0, None):
            print("note: %s exited %s: %s" % (" ".join(cmds[i][1:2]),
                                              p.returncode, text[-300:]))
        print("slowhttptest %s: %s" % (cmds[i][1], tail[-2:]))
    check(len(lat) >= 10, "slowhttptest: only %d ordinary requests made "
          "during the attacks" % len(lat))
    check_latencies(lat, FAST, "during slowhttptest")
    for _ in range(5):
        quick_get(srv, "after slowhttptest")
    check(srv.alive(), "slowhttptest: server died")
    print("slowhttptest: %d ordinary requests during the attacks, slowest "
          "%.3f s" % (len(lat), max(lat) if lat else -1))
    srv.stop()


run_timed([t_truncate, t_replace, t_sigterm_drain, t_second_signal,
          t_slowhttptest])
