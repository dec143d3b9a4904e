#!/usr/bin/env python3
"""--limit-rate, --limit-rate-after and --turn-bytes through the real binary.

- 1 MiB at --limit-rate 512K arrives in 2 s (the measured rate within 10%
  of the limit) on every body path, each proven by the path's sent-bytes
  metric: a whole-buffer read then the open-file cache's memory (one
  keep-alive connection: a paced response does not end it), READ+SEND
  chunks (--transfer=read), splice, sendfile and O_DIRECT (forced).
- A Range is a body: 600000 bytes of it take 600000/RATE; a multipart
  response is paced and intact.
- --limit-rate-after: the first SIZE bytes come at once, the rest at RATE.
- --limit-rate 0 (the default) is no limit.
- A client that resets a paced connection is freed at once (its pending
  pacing timeout removed): the socket is gone, connections_open drops, and
  the server serves on.
- The send timeout does not fire while a body waits for its own schedule
  (--send-timeout 1 at 2 KiB/s, one chunk a second).
- Pipelined requests for a cached file behind a paced one: each paced in
  turn, answered in order, and the connection stays usable.
- --turn-bytes: sendfile bodies yield the loop after that many bytes (more
  loop turns than the body has turn-sized pieces), concurrent downloads
  stay exact and a small request is answered while they run; 0 is no bound.
- Bad values exit 2 with one line naming the option; the config file takes
  the options too and --check-config prints them back.
"""
import os
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, check, free_port,  # noqa: E402
                     make_tree, metrics_reach, metrics_sum, request,
                     run_concurrently, run_timed)

MiB = 1 << 20
RATE = 512 * 1024
BIG = os.urandom(MiB)
LARGE = os.urandom(8 * MiB)
base, root = make_tree({"big.bin": BIG, "large.bin": LARGE, "small.txt": b"small\n",
                        "mid.bin": BIG[:64 * 1024], "tiny.bin": BIG[:4096]})


def timed_get(c, path, headers=()):
    """(Response, seconds from the request to its last byte) on conn c."""
    t0 = time.monotonic()
    c.send(request(path, headers=headers))
    r = c.read_response()
    return r, time.monotonic() - t0


def check_rate(what, nbytes, secs, rate=RATE):
    got = nbytes / secs if secs > 0 else float("inf")
    check(abs(got - rate) <= 0.10 * rate,
          "%s: %d bytes in %.3f s = %.0f B/s, want %d B/s within 10%%"
          % (what, nbytes, secs, got, rate))


def path_bytes(mport, path):
    return metrics_sum(mport, "sent_bytes_total", 'path="%s"' % path)


def path_sent(mport, path, before, want=MiB):
    """Bytes counted on the path since `before`."""
    return metrics_reach(mport, "sent_bytes_total", 'path="%s"' % path, before + want) - before


def limited(extra=(), rate="512K"):
    mport = free_port()
    srv = Server(root, extra=["--limit-rate", rate, "--metrics", "127.0.0.1:%d" % mport]
                 + list(extra))
    return srv, mport


def paced_download(srv, mport, path, what, transfer_path):
    before = path_bytes(mport, transfer_path)
    with srv.connect(timeout=10) as c:
        r, secs = timed_get(c, "/big.bin")
    check(r.status == 200 and r.body == BIG, "%s: 200 and the exact bytes: %r" % (what, r))
    check_rate(what, len(r.body), secs)
    sent = path_sent(mport, transfer_path, before)
    check(sent >= MiB, "%s went by the %s path: %d bytes there" % (what, transfer_path, sent))


def t_cache_and_buffer():
    # The first request reads the file whole behind its head (a buffer
    # of 2 MiB holds both) and keeps it; the second is sent from memory.
    # Both on one keep-alive connection.
    srv, mport = limited(["--cache-file-size", "1M", "--buffer-size", "2M", "--buffers", "16",
                          "--sendfile-min", "4M"])
    with srv.connect(timeout=10) as c:
        for what, p in (("whole-buffer read", "buffer"), ("cache", "cache")):
            before = path_bytes(mport, p)
            r, secs = timed_get(c, "/big.bin")
            check(r.status == 200 and r.body == BIG, "%s: exact bytes: %r" % (what, r))
            check_rate(what, len(r.body), secs)
            sent = path_sent(mport, p, before)
            check(sent >= MiB, "%s went by the %s path: %d bytes there" % (what, p, sent))
        # Keep-alive after the paced responses: a small one, at once.
        r, secs = timed_get(c, "/small.txt")
        check(r.status == 200 and r.body == b"small\n" and secs < 0.5,
              "keep-alive after paced responses: %r in %.3f s" % (r, secs))
    srv.stop()


def t_path(transfer, p):
    def fn():
        srv, mport = limited(["--transfer=" + transfer])
        paced_download(srv, mport, "/big.bin", "--transfer=" + transfer, p)
        srv.stop()
    fn.__name__ = "t_path_" + transfer
    return fn


def o_direct_works():
    try:
        os.close(os.open(os.path.join(root, "big.bin"), os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError:
        return False


def t_direct():
    if not o_direct_works():
        print("SKIP (O_DIRECT case): no O_DIRECT under %s" % base)
        return
    srv, mport = limited(["--transfer=direct", "--direct-chunk", "256K"])
    paced_download(srv, mport, "/big.bin", "--transfer=direct", "direct")
    srv.stop()


def t_range():
    srv, mport = limited()
    with srv.connect(timeout=10) as c:
        r, secs = timed_get(c, "/big.bin", ["Range: bytes=1000-600999"])
        check(r.status == 206 and r.body == BIG[1000:601000], "range: 206, exact: %r" % r)
        check_rate("a 600000-byte range", len(r.body), secs)
        # Multipart: paced as one body, every part intact.
        r, secs = timed_get(c, "/big.bin", ["Range: bytes=0-99999,500000-599999"])
        check(r.status == 206 and b"multipart" in r.headers.get("content-type", "").encode(),
              "multipart range: %r" % r)
        check(BIG[:100000] in r.body and BIG[500000:600000] in r.body,
              "multipart parts intact")
        check(secs >= 200000 / RATE * 0.9, "multipart paced: %.3f s for 200000 bytes" % secs)
    srv.stop()


def t_after():
    srv, mport = limited(["--limit-rate-after", "512K"])
    with srv.connect(timeout=10) as c:
        t0 = time.monotonic()
        c.send(request("/big.bin"))
        sock = c.sock
        data = b""
        t_free = None
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < MiB:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            body = data.partition(b"\r\n\r\n")[2]
            if t_free is None and len(body) >= 512 * 1024:
                t_free = time.monotonic() - t0
        secs = time.monotonic() - t0
        body = data.partition(b"\r\n\r\n")[2]
        check(body == BIG, "limit-rate-after: exact bytes (%d)" % len(body))
        check(t_free is not None and t_free < 0.5,
              "the first 512 KiB at full speed: %s s" % t_free)
        # The other 512 KiB at RATE: one second.
        check_rate("after the first 512K", MiB - 512 * 1024, secs)
    srv.stop()


def t_no_limit():
    for extra in (["--limit-rate", "0"], []):
        mport = free_port()
        srv = Server(root, extra=extra + ["--metrics", "127.0.0.1:%d" % mport])
        with srv.connect(timeout=10) as c:
            r, secs = timed_get(c, "/big.bin")
        check(r.status == 200 and r.body == BIG and secs < 0.6,
              "%s: 1 MiB unpaced: %r in %.3f s" % (extra or "default", r, secs))
        srv.stop()


def open_conns(mport, want, within):
    """connections_open once it is `want` or `within` seconds passed."""
    deadline = time.monotonic() + within
    n = metrics_sum(mport, "connections_open")
    while n != want and time.monotonic() < deadline:
        time.sleep(0.02)
        n = metrics_sum(mport, "connections_open")
    return n


def t_close_while_paced():
    # 4 KiB/s: the first chunk waits a whole second for its schedule.
    srv, mport = limited(rate="4K")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    s.sendall(request("/big.bin"))
    time.sleep(0.3)  # the head arrives, unread; the body waits
    check(metrics_sum(mport, "connections_open") == 1, "paced connection open")
    # Unread bytes: close() sends a reset, which the server's recv sees
    # while the body waits for its pacing timeout: freed at once (the
    # timeout removed), not when it would have fired.
    t0 = time.monotonic()
    s.close()
    n = open_conns(mport, 0, 0.4)
    check(n == 0, "reset paced connection freed within 0.4 s: %d open after %.2f s"
          % (n, time.monotonic() - t0))
    # A FIN (everything read so far): a half-close may still read, so the
    # body goes on until a send fails; then it is freed too.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    s.sendall(request("/big.bin"))
    s.recv(1 << 16)
    s.close()
    n = open_conns(mport, 0, 4.0)
    check(n == 0, "closed paced connection freed: %d open" % n)
    with srv.connect(timeout=10) as c:
        r, secs = timed_get(c, "/small.txt")
        check(r.status == 200 and r.body == b"small\n", "serving on after closes: %r" % r)
    srv.stop()


def t_send_timeout_not_while_paced():
    # 2 KiB/s: one 2 KiB chunk a second, each wait as long as the send
    # timeout; the timeout must not count the waits.
    mport = free_port()
    srv = Server(root, extra=["--limit-rate", "2K", "--send-timeout", "1",
                              "--metrics", "127.0.0.1:%d" % mport])
    with srv.connect(timeout=10) as c:
        r, secs = timed_get(c, "/tiny.bin")
    check(r.status == 200 and r.body == BIG[:4096], "4 KiB at 2 KiB/s: %r" % r)
    check(1.8 <= secs <= 2.6, "4 KiB at 2 KiB/s in %.3f s, want 2" % secs)
    n = metrics_sum(mport, "timeouts_total", 'kind="send"')
    check(n == 0, "no send timeout while paced: %d" % n)
    srv.stop()


def t_pipelined():
    # 64 KiB from the cache's memory, three times in one write, at 1 MiB/s:
    # none batched (each paced on its own), in order, 3 * 1/16 s.
    srv, mport = limited(["--cache-file-size", "64K", "--sendfile-min", "1M"], rate="1M")
    with srv.connect(timeout=10) as c:
        r, _ = timed_get(c, "/mid.bin")  # warm: read once, kept
        t0 = time.monotonic()
        c.send(request("/mid.bin") * 3 + request("/small.txt"))
        rs = [c.read_response() for _ in range(4)]
        secs = time.monotonic() - t0
    check(all(x.status == 200 and x.body == BIG[:64 * 1024] for x in rs[:3]),
          "pipelined paced responses exact")
    check(rs[3].body == b"small\n", "the small one last, in order")
    check(0.17 <= secs <= 0.4, "3 x 64 KiB at 1 MiB/s in %.3f s, want 0.19" % secs)
    check(metrics_sum(mport, "pipeline_batched_responses_total") <= 1,
          "paced responses not batched")
    srv.stop()


def t_turn_bytes():
    for turn in ("16K", "0"):
        mport = free_port()
        srv = Server(root, extra=["--transfer=sendfile", "--turn-bytes", turn, "-t", "1",
                                  "--metrics", "127.0.0.1:%d" % mport])
        sub0 = metrics_sum(mport, "uring_submits_total")
        results = []

        def download():
            with srv.connect(timeout=20) as c:
                c.send(request("/large.bin"))
                results.append(c.read_response().body == LARGE)

        ths = [threading.Thread(target=download) for _ in range(4)]
        for t in ths:
            t.start()
        with srv.connect(timeout=10) as c:
            r, secs = timed_get(c, "/small.txt")
            check(r.status == 200 and r.body == b"small\n",
                  "turn-bytes %s: small request during downloads: %r" % (turn, r))
        for t in ths:
            t.join(30)
        check(results == [True] * 4, "turn-bytes %s: 4 x 8 MiB exact: %s" % (turn, results))
        turns = metrics_sum(mport, "uring_submits_total") - sub0
        print("turn-bytes %s: %d loop turns" % (turn, turns))
        if turn == "16K":
            # Each body comes back once per turn: at least 512 turns for
            # 8 MiB in 16 KiB pieces (the four may share them).
            check(turns >= 8 * MiB // (16 * 1024),
                  "turn-bytes 16K: %d loop turns for 512 pieces each" % turns)
        srv.stop()


def run(args, timeout=10):
    p = subprocess.run([binary()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def t_bad_values_and_config():
    for opt, val in (("--limit-rate", "fast"), ("--limit-rate", "-1"), ("--limit-rate", "5X"),
                     ("--limit-rate", "2000G"), ("--limit-rate-after", "1.5M"),
                     ("--turn-bytes", "2G"), ("--turn-bytes", "")):
        rc, out, err = run([opt, val, "--check-config", root])
        check(rc == 2 and err.count("\n") == 1 and opt in err,
              "%s %r: exit %s, one line naming it: %r" % (opt, val, rc, err))
    path = os.path.join(base, "rate.conf")
    with open(path, "w") as f:
        f.write("limit-rate = 500K\nlimit-rate-after = 1M\nturn-bytes = 512K\n")
    rc, out, err = run(["--config", path, "--check-config", root])
    check(rc == 0 and "limit-rate = 500K\n" in out and "limit-rate-after = 1M\n" in out
          and "turn-bytes = 512K\n" in out, "config file: %s %r %r" % (rc, out[-400:], err))
    rc, out, err = run(["--check-config", root])
    check(rc == 0 and "limit-rate = 0\n" in out and "turn-bytes = 1M\n" in out,
          "defaults: %r" % out[-400:])
    with open(path, "w") as f:
        f.write("limit-rate = lots\n")
    rc, out, err = run(["--config", path, "--check-config", root])
    check(rc == 2 and "rate.conf:1" in err and "limit-rate" in err, "bad file value: %r" % err)
    rc, out, err = run(["--help"])
    check(all(o in out for o in ("--limit-rate=RATE", "--limit-rate-after=SIZE",
                                 "--turn-bytes=SIZE")), "--help lists the options")


# The paced cases spend their time waiting on the pacing: together they
# take as long as the slowest (each has its own servers and ports).
run_concurrently([t_cache_and_buffer, t_path("read", "buffer"), t_path("splice", "splice"),
                  t_path("sendfile", "sendfile"), t_direct, t_range, t_after,
                  t_close_while_paced, t_send_timeout_not_while_paced])
run_timed([t_bad_values_and_config, t_no_limit, t_pipelined, t_turn_bytes])
