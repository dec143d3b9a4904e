#!/usr/bin/env python3
"""HTTP Basic auth: --auth-file, --auth-realm, --auth-path and the limits.

- curl -u with the right password gets the file; without credentials, with
  a wrong password or an unknown user: 401 with the challenge
  (WWW-Authenticate: Basic realm="...", charset="UTF-8"), keep-alive kept.
- Nothing about files shows before authentication: a missing file, a
  forbidden one, a directory (listing or redirect), a 304 and a range all
  answer 401 alike; after it they get their own statuses.
- --auth-path covers whole segments (/private, /private/x, not
  /privateer), after decoding and dot removal (%70rivate, /a/../private).
  Without --auth-path every path needs credentials. OPTIONS never does.
- Malformed Authorization values (not Basic, bad or non-canonical base64,
  no colon, a NUL, over 1 KiB, two fields) get 401, never a crash.
- Startup: a missing file or a bad line (plain, DES, MD5, $apr1$, a
  duplicate user) exits 1 with one line naming the file and line; bad
  option values exit 2 naming the option; --check-config reads the file.
- SIGHUP reloads the file (a user added, one removed, a password
  changed); a broken file at SIGHUP keeps the old users and says why.
- An auth file inside ROOT under a name that would be served is warned
  about at startup (a '.' name is not: it is never served).
- A bcrypt verification in flight (cost 12) does not delay other
  connections on the same worker: 20 plain requests finish first, fast.
- Pipelined requests behind a verification keep their order.
- --auth-fail-limit: failures beyond it get 429 with Retry-After, from
  that client only; --auth-queue full gets 503; the verified cache and
  the metrics counters; the access log names the user.
- A client that leaves while its verification runs breaks nothing.
"""
import base64
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, binary, case, check, finish, free_port,  # noqa: E402
                     make_tree, metrics_sum, request, sanitized)

base, root = make_tree({
    "private/s.txt": b"secret\n",
    "private/sub/deep.txt": b"deep\n",
    "private/index/index.html": b"<p>idx</p>\n",
    "private/noindex/x.txt": b"x\n",
    "privateer/p.txt": b"public pirate\n",
    "pub/a.txt": b"public\n",
    "big.bin": b"B" * 100000,
})
os.chmod(os.path.join(root, "private", "noindex"), 0o755)

_libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
_libcrypt.crypt_gensalt.restype = ctypes.c_char_p
_libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
_libcrypt.crypt.restype = ctypes.c_char_p
_libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def mkhash(password, prefix="$2b$", rounds=4):
    setting = _libcrypt.crypt_gensalt(prefix.encode(), rounds, None, 0)
    return _libcrypt.crypt(password.encode(), setting).decode()


def write_users(path, users):
    with open(path, "w") as f:
        for name, h in users:
            f.write("%s:%s\n" % (name, h))


HTPASSWD = os.path.join(base, "htpasswd")
write_users(HTPASSWD, [("alice", mkhash("wonderland")),
                       ("bob", mkhash("builder", "$6$", 0)),
                       ("carol", mkhash("c4r0l", "$y$", 0)),
                       ("dave", mkhash("d", "$5$", 0))])


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return "Authorization: Basic " + token


def ask(srv, path, headers=(), method="GET", conn=None):
    c = conn or srv.connect()
    try:
        c.send(request(path, method, headers=list(headers)))
        return c.read_response(method)
    finally:
        if conn is None:
            c.close()


def curl(srv, path, *args):
    p = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                        *args, "http://127.0.0.1:%d%s" % (srv.port, path)],
                       capture_output=True, text=True, timeout=20)
    return p.stdout.strip()


CHALLENGE = 'Basic realm="ringserve", charset="UTF-8"'


def t_curl_and_raw():
    srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-path", "/private"])
    if shutil.which("curl"):
        for user, pw in (("alice", "wonderland"), ("bob", "builder"), ("carol", "c4r0l"),
                         ("dave", "d")):
            got = curl(srv, "/private/s.txt", "-u", "%s:%s" % (user, pw))
            check(got == "200", "curl -u %s (the right password): %s" % (user, got))
        got = curl(srv, "/private/s.txt", "-u", "alice:wrong")
        check(got == "401", "curl -u alice:wrong: %s" % got)
        got = curl(srv, "/private/s.txt")
        check(got == "401", "curl without -u: %s" % got)
    r = ask(srv, "/private/s.txt")
    check(r.status == 401 and r.headers.get("www-authenticate") == CHALLENGE,
          "no credentials: 401 with the challenge: %r" % r)
    check(r.headers.get("connection", "").lower() != "close", "401 keeps the connection: %r" % r)
    r = ask(srv, "/private/s.txt", [basic("alice", "wonderland")])
    check(r.status == 200 and r.body == b"secret\n", "alice: %r" % r)
    for who in (basic("alice", "wonderlan"), basic("alice", "wonderland "), basic("Alice", "wonderland"),
                basic("mallory", "x"), basic("", "")):
        r = ask(srv, "/private/s.txt", [who])
        check(r.status == 401 and r.headers.get("www-authenticate") == CHALLENGE,
              "%s: 401: %r" % (who, r))
    r = ask(srv, "/private/s.txt", method="HEAD")
    check(r.status == 401 and r.body == b"", "HEAD: 401 without a body: %r" % r)
    # Keep-alive: a 401, then the same connection authenticates.
    with srv.connect() as c:
        check(ask(srv, "/private/s.txt", conn=c).status == 401, "keep-alive: first 401")
        r = ask(srv, "/private/s.txt", [basic("bob", "builder")], conn=c)
        check(r.status == 200 and r.body == b"secret\n", "keep-alive: then 200: %r" % r)
        r = ask(srv, "/private/s.txt", conn=c)
        check(r.status == 401, "keep-alive: each request proves itself: %r" % r)
    # Outside the prefix: no credentials needed, segment-aware.
    for path, body in (("/pub/a.txt", b"public\n"), ("/privateer/p.txt", b"public pirate\n")):
        r = ask(srv, path)
        check(r.status == 200 and r.body == body, "%s needs no credentials: %r" % (path, r))
    for path in ("/private", "/private/", "/%70rivate/s.txt", "/pub/../private/s.txt",
                 "//private//s.txt", "/private/sub/deep.txt", "/private?x=1"):
        r = ask(srv, path)
        check(r.status == 401, "%s is covered: %r" % (path, r))
    srv.stop()


def t_no_leaks():
    """Before authentication every covered path looks the same."""
    srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-path", "/private"])
    forbidden = os.path.join(root, "private", "locked.txt")
    with open(forbidden, "wb") as f:
        f.write(b"locked\n")
    os.chmod(forbidden, 0)
    ok = basic("alice", "wonderland")
    etag = ask(srv, "/private/s.txt", [ok]).headers.get("etag")
    cases = [("/private/missing.txt", [], 404), ("/private/locked.txt", [], None),
             ("/private/noindex/", [], 200), ("/private/index", [], 301),
             ("/private/s.txt", ["If-None-Match: %s" % etag], 304),
             ("/private/s.txt", ["Range: bytes=0-1"], 206),
             ("/private/s.txt", ["Range: bytes=100-200"], 416),
             ("/private/s.txt/", [], 404)]
    heads = set()
    for path, hdrs, after in cases:
        r = ask(srv, path, hdrs)
        check(r.status == 401, "%s %s before auth: 401, got %r" % (path, hdrs, r))
        heads.add((r.status, r.body, tuple(sorted(k for k, _ in r.header_list))))
        if after is not None:
            r = ask(srv, path, hdrs + [ok])
            check(r.status == after, "%s %s after auth: %d, got %r" % (path, hdrs, after, r))
    check(len(heads) == 1, "every 401 is the same response: %d kinds" % len(heads))
    os.unlink(forbidden)
    srv.stop()


def t_everything_and_realm():
    srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-realm", 'Team "A" \\ B'])
    want = 'Basic realm="Team \\"A\\" \\\\ B", charset="UTF-8"'
    for path in ("/", "/pub/a.txt", "/big.bin"):
        r = ask(srv, path)
        check(r.status == 401 and r.headers.get("www-authenticate") == want,
              "no --auth-path: %s needs credentials, realm escaped: %r" % (path, r))
    r = ask(srv, "/big.bin", [basic("carol", "c4r0l")])
    check(r.status == 200 and len(r.body) == 100000, "a large body after auth: %r" % r)
    # CORS preflights never carry credentials: OPTIONS is not challenged.
    r = ask(srv, "/pub/a.txt", ["Origin: http://example.com",
                                "Access-Control-Request-Method: GET"], method="OPTIONS")
    check(r.status != 401, "OPTIONS is not challenged: %r" % r)
    srv.stop()


def t_malformed():
    srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-path", "/private"])
    good = base64.b64encode(b"alice:wonderland").decode()
    bad_values = [
        "Bearer " + good, "Basic", "Basic ", "Basic" + good, "Basi " + good, "Digest x=y",
        "Basic !!!!", "Basic " + good[:-1], "Basic " + good + "=", "Basic " + good + " x",
        "Basic QR==", "Basic " + base64.b64encode(b"alicewonderland").decode(),
        "Basic " + base64.b64encode(b"alice:wonder\x00land").decode(),
        "Basic " + base64.b64encode(b"alice:won\x7fderland").decode(),
        "Basic " + "QUJD" * 300, "Basic " + base64.b64encode(b"a:" + b"x" * 800).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
    ]
    with srv.connect() as c:
        for v in bad_values:
            r = ask(srv, "/private/s.txt", ["Authorization: " + v], conn=c)
            check(r.status == 401 and r.headers.get("www-authenticate") == CHALLENGE,
                  "Authorization %r...: 401, got %r" % (v[:40], r))
        r = ask(srv, "/private/s.txt", ["Authorization: Basic " + good,
                                        "Authorization: Basic " + good], conn=c)
        check(r.status == 401, "two Authorization fields: 401, got %r" % r)
        r = ask(srv, "/private/s.txt", ["authorization:   bAsIc    " + good + "  "], conn=c)
        check(r.status == 200, "case-insensitive scheme and name, extra blanks: %r" % r)
    check(srv.alive(), "the server survived every malformed value")
    srv.stop()


def run_bin(args, timeout=10):
    p = subprocess.run([binary()] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def t_startup_errors():
    common = ["-b", "127.0.0.1", "-p", "0", "-t", "1", root]
    rc, _, err = run_bin(["--auth-file", os.path.join(base, "nope")] + common)
    check(rc == 1 and err.count("\n") == 1 and "nope" in err and "No such file" in err,
          "missing file: exit 1, one line: %s %r" % (rc, err))
    rc, _, err = run_bin(["--auth-file", base] + common)
    check(rc == 1 and err.count("\n") == 1 and "not a regular file" in err,
          "a directory: exit 1, one line: %s %r" % (rc, err))
    if os.geteuid() != 0:
        locked = os.path.join(base, "locked")
        shutil.copy(HTPASSWD, locked)
        os.chmod(locked, 0)
        rc, _, err = run_bin(["--auth-file", locked] + common)
        check(rc == 1 and err.count("\n") == 1, "unreadable: exit 1, one line: %s %r" % (rc, err))
    good = "alice:%s\n" % mkhash("x")
    for bad, why in (("plain", "plain-text"), ("abCDefghijk12", "DES"),
                     ("$1$abc$0123456789012345678901", "MD5"),
                     ("$apr1$abc$0123456789012345678901", "$apr1$"),
                     ("$2b$04$tooshort", "malformed bcrypt")):
        path = os.path.join(base, "bad.htpasswd")
        with open(path, "w") as f:
            f.write("# users\n" + good + "\nbob:" + bad + "\n")
        rc, _, err = run_bin(["--auth-file", path] + common)
        check(rc == 1 and err.count("\n") == 1 and (path + ":4:") in err and why in err,
              "%s on line 4: exit 1, one line with FILE:4: %s %r" % (why, rc, err))
        rc, _, err = run_bin(["--auth-file", path, "--check-config", root])
        check(rc == 2 and (path + ":4:") in err, "--check-config refuses it too: %s %r" % (rc, err))
    with open(path, "w") as f:
        f.write(good + good)
    rc, _, err = run_bin(["--auth-file", path] + common)
    check(rc == 1 and ":2:" in err and "already on line 1" in err, "duplicate: %s %r" % (rc, err))
    with open(path, "w") as f:
        f.write("# nobody yet\n")
    rc, _, err = run_bin(["--auth-file", path] + common)
    check(rc == 1 and "no users" in err, "no users: %s %r" % (rc, err))
    rc, out, err = run_bin(["--auth-file", HTPASSWD, "--auth-path", "/private", "--check-config", root])
    check(rc == 0 and "auth-path = /private" in out, "--check-config with a good file: %s %r" % (rc, err))
    for opt, val in (("--auth-realm", ""), ("--auth-realm", "caf\u00e9"), ("--auth-path", "private"),
                     ("--auth-path", "/../x"), ("--auth-threads", "0"), ("--auth-queue", "0"),
                     ("--auth-cache-ttl", "x"), ("--auth-cache-entries", "-1"),
                     ("--auth-fail-limit", "1e3"), ("--auth-fail-clients", "8")):
        rc, _, err = run_bin([opt, val, "--auth-file", HTPASSWD] + common)
        check(rc == 2 and err.count("\n") == 1 and opt in err,
              "%s %r: exit 2 naming it: %s %r" % (opt, val, rc, err))
    # The config file takes the options too, repeated ones repeated.
    conf = os.path.join(base, "auth.conf")
    with open(conf, "w") as f:
        f.write("auth-file = %s\nauth-path = /private\nauth-path = /pub\nauth-realm = \"r r\"\n"
                % HTPASSWD)
    rc, out, err = run_bin(["--config", conf, "--check-config", root])
    check(rc == 0 and "auth-path = /private\nauth-path = /pub\n" in out,
          "config file: %s %r %r" % (rc, out[-300:], err))
    srv = Server(root, extra=["--config", conf])
    check(ask(srv, "/pub/a.txt").status == 401, "config file's --auth-path applies")
    check(ask(srv, "/privateer/p.txt").status == 200, "and only it")
    srv.stop()


def t_file_inside_root():
    for name, warned in (("users.txt", True), (".htpasswd", False)):
        inside = os.path.join(root, name)
        shutil.copy(HTPASSWD, inside)
        srv = Server(root, extra=["--auth-file", inside, "--auth-path", "/private"])
        time.sleep(0.1)
        got = "lies inside ROOT" in srv.stderr_text()
        check(got == warned, "%s inside ROOT: warned %s, want %s" % (name, got, warned))
        if warned:
            r = ask(srv, "/" + name)
            check(r.status == 200, "(as the warning says, it is served: %r)" % r)
        srv.stop()
        os.unlink(inside)


def wait_for(fn, timeout=6.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def t_reload():
    path = os.path.join(base, "reload.htpasswd")
    write_users(path, [("alice", mkhash("one")), ("bob", mkhash("bob"))])
    srv = Server(root, extra=["--auth-file", path, "--auth-path", "/private"])
    st = lambda u, p: ask(srv, "/private/s.txt", [basic(u, p)]).status  # noqa: E731
    check(st("alice", "one") == 200 and st("bob", "bob") == 200 and st("carol", "c") == 401,
          "before the reload")
    write_users(path, [("alice", mkhash("two")), ("carol", mkhash("c", "$y$", 0))])
    os.kill(srv.pid, signal.SIGHUP)
    check(wait_for(lambda: st("carol", "c") == 200), "after SIGHUP carol is in")
    check(st("bob", "bob") == 401, "bob is out")
    check(st("alice", "one") == 401, "alice's old password is refused (cached or not)")
    check(st("alice", "two") == 200, "alice's new one works")
    check(wait_for(lambda: "auth file reloaded" in srv.stderr_text()), "the reload is logged")
    # A broken file at SIGHUP: the old users stay, one line says why.
    with open(path, "a") as f:
        f.write("eve:$apr1$x$y\n")
    os.kill(srv.pid, signal.SIGHUP)
    check(wait_for(lambda: "keeping the 2 users" in srv.stderr_text()),
          "a bad file at SIGHUP is refused: %r" % srv.stderr_text()[-400:])
    check(st("carol", "c") == 200 and st("alice", "two") == 200, "the old users stay")
    check(any((path + ":3:") in ln for ln in srv.stderr_text().splitlines()),
          "the message names the line")
    os.unlink(path)
    os.kill(srv.pid, signal.SIGHUP)
    check(wait_for(lambda: "No such file" in srv.stderr_text()), "a missing file at SIGHUP")
    check(st("carol", "c") == 200, "still the old users")
    check(srv.alive(), "alive after the reloads")
    srv.stop()


def t_inflight_does_not_block():
    """One worker, one auth thread; a cost-12 bcrypt (~250 ms) in flight."""
    slow = os.path.join(base, "slow.htpasswd")
    write_users(slow, [("slow", mkhash("pw", "$2b$", 12))])
    srv = Server(root, threads=1, extra=["--auth-file", slow, "--auth-path", "/private",
                                         "--auth-threads", "1"])
    ask(srv, "/pub/a.txt")  # warm the file cache
    done = {}

    def verify():
        t0 = time.monotonic()
        r = ask(srv, "/private/s.txt", [basic("slow", "pw")])
        done["status"], done["t"], done["end"] = r.status, time.monotonic() - t0, time.monotonic()

    th = threading.Thread(target=verify)
    th.start()
    time.sleep(0.03)
    lat = []
    t0 = time.monotonic()
    for _ in range(20):
        t = time.monotonic()
        r = ask(srv, "/pub/a.txt")
        lat.append(time.monotonic() - t)
        check(r.status == 200, "plain request during the verification: %r" % r)
    plain_end = time.monotonic()
    total = plain_end - t0
    th.join(10)
    check(done.get("status") == 200, "the slow verification passed: %r" % done)
    check(done.get("end", 0) > plain_end,
          "the verification was still running when the 20 plain requests were done "
          "(it took %.3f s, they %.3f s)" % (done.get("t", -1), total))
    print("in flight: 20 plain requests in %.3f s (slowest %.4f s) during a %.3f s verification"
          % (total, max(lat), done.get("t", -1)), flush=True)
    limit = 0.15 if not sanitized() else 0.2
    check(total < limit and total < done.get("t", 0) / 2,
          "20 plain requests in %.3f s (max one %.3f s) while one bcrypt ran %.3f s"
          % (total, max(lat), done.get("t", -1)))
    # The second time the cache answers at once.
    t = time.monotonic()
    r = ask(srv, "/private/s.txt", [basic("slow", "pw")])
    check(r.status == 200 and time.monotonic() - t < 0.1,
          "cached: %.3f s %r" % (time.monotonic() - t, r))
    srv.stop()


def t_pipelined():
    slow = os.path.join(base, "pipe.htpasswd")
    write_users(slow, [("slow", mkhash("pw", "$2b$", 10)), ("fast", mkhash("f"))])
    srv = Server(root, threads=1, extra=["--auth-file", slow, "--auth-path", "/private"])
    reqs = [("/private/s.txt", [basic("slow", "pw")], 200, b"secret\n"),
            ("/pub/a.txt", [], 200, b"public\n"),
            ("/private/s.txt", [basic("slow", "nope")], 401, None),
            ("/private/s.txt", [], 401, None),
            ("/privateer/p.txt", [], 200, b"public pirate\n"),
            ("/private/sub/deep.txt", [basic("fast", "f")], 200, b"deep\n"),
            ("/private/s.txt", [basic("slow", "pw")], 200, b"secret\n"),
            ("/pub/a.txt", [], 200, b"public\n")]
    with srv.connect() as c:
        c.send(b"".join(request(p, headers=h) for p, h, _, _ in reqs))
        for i, (p, h, status, body) in enumerate(reqs):
            r = c.read_response()
            check(r.status == status and (body is None or r.body == body),
                  "pipelined #%d %s: %d %r, got %r" % (i, p, status, body, r))
    srv.stop()


def t_rate_limit_and_metrics():
    mport = free_port()
    srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-path", "/private",
                              "--auth-fail-limit", "3", "--metrics", "127.0.0.1:%d" % mport])
    for i in range(3):
        r = ask(srv, "/private/s.txt", [basic("alice", "bad%d" % i)])
        check(r.status == 401, "failure %d: 401, got %r" % (i + 1, r))
    r = ask(srv, "/private/s.txt", [basic("alice", "bad")])
    ra = r.headers.get("retry-after", "")
    check(r.status == 429 and ra.isdigit() and 1 <= int(ra) <= 60,
          "over the limit: 429 with Retry-After (1..60): %r" % r)
    r = ask(srv, "/private/s.txt", [basic("bob", "builder")])
    check(r.status == 429, "the right password, not verified yet, is limited too: %r" % r)
    r = ask(srv, "/private/s.txt")
    check(r.status == 401, "no credentials: still the challenge: %r" % r)
    check(ask(srv, "/pub/a.txt").status == 200, "unprotected paths are not limited")
    # Another client address is not affected.
    s = socket.socket()
    s.settimeout(5)
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", srv.port))
    with Conn(s) as c:
        r = ask(srv, "/private/s.txt", [basic("bob", "builder")], conn=c)
        check(r.status == 200, "127.0.0.2 may still log in: %r" % r)
        r = ask(srv, "/private/s.txt", [basic("bob", "builder")], conn=c)
        check(r.status == 200, "and again (cached): %r" % r)
    m = lambda n: metrics_sum(mport, n)  # noqa: E731
    check(m("auth_failures_total") == 3, "3 failures counted: %d" % m("auth_failures_total"))
    check(m("auth_rate_limited_total") == 2, "2 limited: %d" % m("auth_rate_limited_total"))
    check(m("auth_successes_total") == 1, "1 verified: %d" % m("auth_successes_total"))
    check(m("auth_cache_hits_total") == 1, "1 cache hit: %d" % m("auth_cache_hits_total"))
    check(m("auth_challenges_total") == 1, "1 challenge: %d" % m("auth_challenges_total"))
    check(metrics_sum(mport, "requests_total", 'class="4xx"') == 6, "6 4xx answers")
    srv.stop()


def t_cache_off_and_queue():
    mport = free_port()
    slow = os.path.join(base, "queue.htpasswd")
    write_users(slow, [("slow", mkhash("pw", "$2b$", 12))])
    srv = Server(root, threads=1, extra=["--auth-file", slow, "--auth-threads", "1",
                                         "--auth-queue", "1", "--auth-cache-ttl", "0",
                                         "--metrics", "127.0.0.1:%d" % mport])
    out = []
    lock = threading.Lock()

    def one():
        r = ask(srv, "/pub/a.txt", [basic("slow", "pw")])
        with lock:
            out.append((r.status, r.headers.get("retry-after")))

    ths = [threading.Thread(target=one) for _ in range(4)]
    for t in ths:
        t.start()
        time.sleep(0.02)
    for t in ths:
        t.join(15)
    statuses = sorted(s for s, _ in out)
    check(statuses.count(200) >= 2 and statuses.count(503) >= 1 and set(statuses) <= {200, 503},
          "one running, one queued, the rest 503: %r" % out)
    check(all(ra == "1" for s, ra in out if s == 503), "503 says Retry-After: 1: %r" % out)
    n = metrics_sum(mport, "auth_busy_total")
    check(n == statuses.count(503), "auth_busy_total %d" % n)
    # No cache: each request is verified again.
    before = metrics_sum(mport, "auth_successes_total")
    for _ in range(2):
        check(ask(srv, "/pub/a.txt", [basic("slow", "pw")]).status == 200, "verified again")
    check(metrics_sum(mport, "auth_successes_total") == before + 2, "--auth-cache-ttl 0: no hits")
    check(metrics_sum(mport, "auth_cache_hits_total") == 0, "no cache hits")
    srv.stop()


def t_client_leaves_during_verification():
    slow = os.path.join(base, "leave.htpasswd")
    write_users(slow, [("slow", mkhash("pw", "$2b$", 11))])
    srv = Server(root, threads=1, extra=["--auth-file", slow, "--auth-threads", "1",
                                         "--auth-cache-ttl", "0"])
    # Clients that send and vanish: their slots are reused by others while
    # the late results arrive.
    for _ in range(6):
        c = srv.connect()
        c.send(request("/pub/a.txt", headers=[basic("slow", "pw")]))
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        c.close()  # a reset
    r = ask(srv, "/pub/a.txt", [basic("slow", "pw")])
    check(r.status == 200, "a later client is answered: %r" % r)
    check(srv.alive(), "alive after the late results")
    # A verification that outlasts --send-timeout closes the connection.
    srv.stop()
    write_users(slow, [("slow", mkhash("pw", "$2b$", 15))])
    srv = Server(root, threads=1, extra=["--auth-file", slow, "--send-timeout", "1"])
    with srv.connect() as c:
        c.send(request("/pub/a.txt", headers=[basic("slow", "pw")]))
        t0 = time.monotonic()
        data, closed = c.read_all(timeout=6)
        took = time.monotonic() - t0
    check(closed, "a verification past --send-timeout ends the connection (%.1f s, %r)"
          % (took, data[:80]))
    r = ask(srv, "/pub/a.txt")
    check(r.status == 401 and srv.alive(), "the server goes on: %r" % r)
    srv.stop()


def t_access_log():
    log = os.path.join(base, "auth.log")
    jlog = os.path.join(base, "auth.json")
    for path, fmt in ((log, "common"), (jlog, "json")):
        srv = Server(root, extra=["--auth-file", HTPASSWD, "--auth-path", "/private",
                                  "--access-log", path, "--log-format", fmt])
        ask(srv, "/private/s.txt?ok", [basic("bob", "builder")])
        ask(srv, "/private/s.txt?bad", [basic("bob", "nope")])
        ask(srv, "/pub/a.txt?anon")
        srv.stop()
    lines = open(log).read().splitlines()
    ok = [ln for ln in lines if "?ok " in ln]
    bad = [ln for ln in lines if "?bad " in ln]
    anon = [ln for ln in lines if "?anon " in ln]
    check(ok and ok[0].startswith("127.0.0.1 - bob ["), "common: %%u is the user: %r" % ok)
    check(bad and bad[0].startswith("127.0.0.1 - - [") and " 401 " in bad[0],
          "a refused user is not logged as one: %r" % bad)
    check(anon and anon[0].startswith("127.0.0.1 - - ["), "anonymous: %r" % anon)
    recs = [json.loads(ln) for ln in open(jlog)]
    by = {r["request"].split("?")[1].split()[0]: r for r in recs}
    check(by.get("ok", {}).get("remote_user") == "bob", "json remote_user: %r" % by.get("ok"))
    check("remote_user" not in by.get("bad", {"remote_user": 1}), "no remote_user on a 401")
    check("remote_user" not in by.get("anon", {"remote_user": 1}), "none without auth")


case(t_curl_and_raw)
case(t_no_leaks)
case(t_everything_and_realm)
case(t_malformed)
case(t_startup_errors)
case(t_file_inside_root)
case(t_reload)
case(t_inflight_does_not_block)
case(t_pipelined)
case(t_rate_limit_and_metrics)
case(t_cache_off_and_queue)
case(t_client_leaves_during_verification)
case(t_access_log)
finish()
