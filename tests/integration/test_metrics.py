#!/usr/bin/env python3
"""The Prometheus endpoint (--metrics ADDR:PORT).

- The text is well-formed exposition format (HELP/TYPE, one sample per
  line) on GET /metrics; other paths get 404, other methods 405.
- Counters match what was done: responses by class, connections accepted
  and closed (and the open gauge back to 0), bytes by body path (cache,
  buffer, sendfile), file-cache hits and misses, pipelined batches, a header timeout counted
  and answered 408, io_uring submits and completions.
- Bad values are usage errors; a port in use exits 1 with a message.
"""
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, free_port, get,  # noqa: E402
                     make_tree, metrics_http as http, metrics_scrape as scrape,
                     metrics_val as val)

def t_counters():
    small, big = b"s" * 1000, os.urandom(1 << 20)
    _, root = make_tree({"small.txt": small, "big.bin": big})
    port = free_port()
    srv = Server(root, extra=["--metrics", "127.0.0.1:%d" % port, "--header-timeout", "1"])
    before = scrape(port)
    check(val(before, "ringserve_requests_total", 'class="2xx"') == 0, "nothing counted yet")
    for _ in range(5):
        r = get(srv, "/small.txt")
        check(r.status == 200 and r.body == small, "small: %r" % r)
    for _ in range(3):
        check(get(srv, "/nope").status == 404, "404")
    check(get(srv, "/small.txt", method="HEAD").status == 200, "HEAD")
    r = get(srv, "/big.bin")
    check(r.status == 200 and r.body == big, "big file")
    # A head that never completes: the header timeout answers 408.
    c = srv.connect(timeout=5)
    c.send(b"GET /small.txt HTTP/1.1\r\n")
    r = c.read_response("GET")
    c.close()
    check(r.status == 408, "incomplete head answered 408: %r" % r)
    conns = 5 + 3 + 1 + 1 + 1
    deadline = time.monotonic() + 5
    while True:
        s = scrape(port)
        # A scrape reads the counters one after another while the last
        # closes may still be landing: wait until one scrape is settled.
        settled = val(s, "ringserve_connections_open") == 0 and \
            val(s, "ringserve_connections_closed_total") == \
            val(s, "ringserve_connections_accepted_total")
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check(val(s, "ringserve_requests_total", 'class="2xx"') == 7, "2xx: %s" % s)
    check(val(s, "ringserve_requests_total", 'class="4xx"') == 4, "4xx (3 x 404 + 408)")
    check(val(s, "ringserve_requests_total", 'class="5xx"') == 0, "no 5xx")
    check(val(s, "ringserve_connections_accepted_total") == conns,
          "accepted %d == %d" % (val(s, "ringserve_connections_accepted_total"), conns))
    check(val(s, "ringserve_connections_closed_total") == conns, "all closed")
    check(val(s, "ringserve_connections_open") == 0, "open gauge back to 0")
    check(val(s, "ringserve_timeouts_total", 'kind="header"') == 1, "one header timeout")
    sent = {k: val(s, "ringserve_sent_bytes_total", 'path="%s"' % k)
            for k in ("other", "cache", "buffer", "splice", "direct", "listing", "sendfile")}
    # Each of the 2 workers has its own cache: at most 2 of the 5 miss.
    check(sent["cache"] >= 3 * len(small), "small file from the cache: %s" % sent)
    check(sent["buffer"] >= len(small), "first small read into a buffer: %s" % sent)
    check(sent["sendfile"] >= len(big), "big file (in the page cache) by sendfile: %s" % sent)
    check(sent["other"] > 0, "error pages and HEAD counted: %s" % sent)
    hits, misses = val(s, "ringserve_file_cache_hits_total"), val(s, "ringserve_file_cache_misses_total")
    check(hits >= 3 and misses >= 2 and hits + misses >= 10,
          "cache hits %d misses %d" % (hits, misses))
    check(val(s, "ringserve_uring_submits_total") > 0 and
          val(s, "ringserve_uring_cqes_total") >= conns, "io_uring counters")
    status, _, _ = http(port, b"GET /other HTTP/1.1\r\n\r\n")
    check(status == 404, "other path: %d" % status)
    status, _, _ = http(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    check(status == 405, "POST: %d" % status)
    status, head, body = http(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    check(status == 200 and body == "", "HEAD: %d %r" % (status, body))
    srv.stop()


def t_bad():
    _, root = make_tree({"a": b"a"})
    for bad in ("nope", "127.0.0.1", "::1:9100", "127.0.0.1:0", "127.0.0.1:70000", "[::1]"):
        p = subprocess.run([binary(), "--metrics", bad, root], capture_output=True, text=True,
                           timeout=20)
        check(p.returncode == 2 and "--metrics" in p.stderr, "--metrics %s: %d %r"
              % (bad, p.returncode, p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    p = subprocess.run([binary(), "-b", "127.0.0.1", "-p", "0", "--metrics",
                        "127.0.0.1:%d" % busy.getsockname()[1], root],
                       capture_output=True, text=True, timeout=20)
    busy.close()
    check(p.returncode == 1 and "--metrics" in p.stderr and "in use" in p.stderr,
          "metrics port in use: %d %r" % (p.returncode, p.stderr))


def t_ipv6():
    if not socket.has_ipv6:
        print("SKIP (ipv6)")
        return
    try:
        port = free_port("::1")
    except OSError:
        print("SKIP (ipv6): no ::1")
        return
    _, root = make_tree({"a": b"a"})
    srv = Server(root, extra=["--metrics", "[::1]:%d" % port])
    status, _, body = http(port, b"GET /metrics HTTP/1.0\r\n\r\n", host="::1")
    check(status == 200 and "ringserve_requests_total" in body,
          "metrics on [::1]: %d %r" % (status, body[:100]))
    srv.stop()


for fn in (t_counters, t_bad, t_ipv6):
    case(fn)
finish()
