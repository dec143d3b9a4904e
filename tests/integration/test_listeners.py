#!/usr/bin/env python3
"""Listeners: several -b at once, unix sockets, and the refusals.

- TCP and unix:PATH together: curl --unix-socket and a TCP client both
  served; the unix clients are logged as "unix:", the TCP ones by address;
  the socket file has --unix-mode (0660 by default) and is removed at exit.
- Every worker accepts on the shared unix socket and on each TCP address
  (the per-worker accept counters of the metrics).
- A unix socket only (no TCP listener at all).
- A stale socket file (nothing accepts on it) is replaced; a live one is
  an error with one line and is left alone; so is a path that is not a
  socket.
- The same listener twice is a usage error (exit 2, one line); two TCP
  ports of which one is taken: exit 1, one line, and the unix socket it
  had created already is removed again.
- SIGTERM: the unix socket refuses new clients at once and the server
  exits 0.
"""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, binary, case, check, finish, free_port,  # noqa: E402
                     make_tree, metrics_text, request)

BODY = b"hello over a socket\n"
base, root = make_tree({"a.txt": BODY, "big.bin": os.urandom(3 << 20)})
os.chmod(base, 0o755)  # --user nobody reads the root too
UNIX_READY = re.compile(r"listening on ")


def run(args, timeout=5):
    """The binary run to completion: (status, stderr)."""
    try:
        p = subprocess.run([binary()] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode("utf-8", "replace")


def unix_conn(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return Conn(s)


def unix_get(path, target="/a.txt"):
    with unix_conn(path) as c:
        c.send(request(target))
        return c.read_response()


def curl_unix(path, target="/a.txt"):
    p = subprocess.run(["curl", "-s", "--max-time", "5", "--unix-socket", path,
                        "http://localhost" + target], capture_output=True, timeout=10)
    return p.returncode, p.stdout


def one_line(err):
    return len(err.strip().splitlines()) == 1


def read_log(path):
    with open(path) as f:
        return [json.loads(ln) for ln in f if ln.strip()]


def metric(text, name):
    """{worker: value} of a per-worker counter."""
    out = {}
    for m in re.finditer(r'^ringserve_%s\{worker="(\d+)"\} (\d+)$' % name, text, re.M):
        out[int(m.group(1))] = int(m.group(2))
    return out


def t_tcp_and_unix():
    path = os.path.join(base, "s.sock")
    log = os.path.join(base, "both.log")
    mport = free_port()
    srv = Server(root, args=["-b", "127.0.0.1", "-b", "unix:" + path, "-p", "0", "-t", "2",
                             "--access-log", log, "--log-format", "json",
                             "--metrics", "127.0.0.1:%d" % mport, root])
    check("unix:" + path in srv.stderr_text(), "startup line names the unix socket: %r"
          % srv.stderr_text())
    st = os.stat(path)
    check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660,
          "socket file with mode 0660: %o" % st.st_mode)
    rc, out = curl_unix(path)
    check(rc == 0 and out == BODY, "curl --unix-socket: rc %s, %r" % (rc, out))
    rc, out = curl_unix(path, "/big.bin")
    with open(os.path.join(root, "big.bin"), "rb") as f:
        check(rc == 0 and out == f.read(), "3 MiB over the unix socket: rc %s, %d bytes"
              % (rc, len(out)))
    with srv.connect() as c:
        c.send(request("/a.txt?tcp"))
        r = c.read_response()
        check(r.status == 200 and r.body == BODY, "TCP beside it: %r" % r)
    # Both workers accept on both listeners: many clients at once.
    def client(i):
        if i % 2:
            unix_get(path, "/a.txt?u%d" % i)
        else:
            with srv.connect() as c:
                c.send(request("/a.txt?t%d" % i))
                c.read_response()
    for _ in range(4):
        ts = [threading.Thread(target=client, args=(i,)) for i in range(40)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    acc = metric(metrics_text(mport), "connections_accepted_total")
    check(len(acc) == 2 and sum(acc.values()) >= 163 and min(acc.values()) > 0,
          "connections spread over both workers: %r" % acc)
    srv.stop()
    check(not os.path.exists(path), "socket file removed at exit")
    lines = read_log(log)
    byreq = {e["request"].split(" ")[1]: e["remote_addr"] for e in lines}
    check(byreq.get("/a.txt") == "unix:", "unix client logged as unix: %r" % byreq.get("/a.txt"))
    check(byreq.get("/a.txt?tcp") == "127.0.0.1", "TCP client logged by address")
    check(byreq.get("/a.txt?u1") == "unix:" and byreq.get("/a.txt?t0") == "127.0.0.1",
          "both kinds under load logged right")


def t_unix_only_mode_and_user():
    path = os.path.join(base, "only.sock")
    srv = Server(root, args=["-b", "unix:" + path, "--unix-mode", "0600", "-t", "1", root],
                 ready_re=UNIX_READY)
    st = os.stat(path)
    check(stat.S_IMODE(st.st_mode) == 0o600, "--unix-mode 0600: %o" % st.st_mode)
    r = unix_get(path)
    check(r.status == 200 and r.body == BODY, "unix-only server: %r" % r)
    srv.stop()
    if os.geteuid() != 0:
        print("SKIP part: --user ownership needs root")
        return
    # --user: the socket belongs to that user, who can then remove it.
    srv = Server(root, args=["-b", "unix:" + path, "--user", "nobody", "-t", "1", root],
                 ready_re=UNIX_READY)
    import pwd
    st = os.stat(path)
    nobody = pwd.getpwnam("nobody")
    check(st.st_uid == nobody.pw_uid and st.st_gid == nobody.pw_gid,
          "socket owned by --user: %d:%d" % (st.st_uid, st.st_gid))
    r = unix_get(path)
    check(r.status == 200, "served after dropping to nobody: %r" % r)
    srv.stop()


def t_stale_socket_replaced():
    path = os.path.join(base, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays, nobody accepts: a server that died
    check(os.path.exists(path), "stale socket file made")
    srv = Server(root, args=["-b", "unix:" + path, "-t", "1", root], ready_re=UNIX_READY)
    check("replaced a stale socket" in srv.stderr_text(), "says it replaced the stale file")
    r = unix_get(path)
    check(r.status == 200, "served on the replaced socket: %r" % r)
    srv.stop()


def t_live_socket_refused():
    path = os.path.join(base, "live.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    try:
        rc, err = run(["-b", "unix:" + path, "-t", "1", root])
        check(rc == 1 and one_line(err) and path in err and "listening" in err,
              "live socket in the way: exit %s, %r" % (rc, err))
        check(os.path.exists(path), "the live socket's file is left alone")
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(2)
        c.connect(path)  # still the other server's
        c.close()
    finally:
        s.close()
    # Its backlog full does not make it look stale.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path + "2")
    s.listen(0)
    held = []
    try:
        for _ in range(3):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(path + "2")
            except (BlockingIOError, OSError):
                pass
            held.append(c)
        rc, err = run(["-b", "unix:" + path + "2", "-t", "1", root])
        check(rc == 1 and one_line(err) and os.path.exists(path + "2"),
              "live socket with a full backlog: exit %s, %r" % (rc, err))
    finally:
        for c in held:
            c.close()
        s.close()
    # A path that is not a socket is never removed.
    reg = os.path.join(base, "regular")
    with open(reg, "w") as f:
        f.write("keep me")
    rc, err = run(["-b", "unix:" + reg, "-t", "1", root])
    check(rc == 1 and one_line(err) and "not a socket" in err,
          "regular file in the way: exit %s, %r" % (rc, err))
    with open(reg) as f:
        check(f.read() == "keep me", "the regular file is untouched")


def t_duplicates_and_conflicts():
    for args in (["-b", "127.0.0.1", "-b", "127.0.0.1:8080"],
                 ["-b", "127.0.0.1:9", "-b", "127.0.0.1:9"],
                 ["-b", "[::1]:80", "-b", "::1", "-p", "80"],
                 ["-b", "unix:/tmp/x.sock", "-b", "unix:/tmp/x.sock"]):
        rc, err = run(args + [root])
        check(rc == 2 and one_line(err) and "same listener" in err,
              "%s: exit %s, %r" % (" ".join(args), rc, err))
    # A taken port: exit 1 naming it; the unix socket made first is gone.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    path = os.path.join(base, "early.sock")
    try:
        rc, err = run(["-b", "unix:" + path, "-b", "127.0.0.1:%d" % port, "-t", "1", root])
        check(rc == 1 and one_line(err) and "127.0.0.1:%d" % port in err,
              "port in use: exit %s, %r" % (rc, err))
        check(not os.path.exists(path), "the unix socket of a failed start is removed")
    finally:
        busy.close()


def t_two_tcp_ports():
    p1, p2 = free_port(), free_port()
    srv = Server(root, args=["-b", "127.0.0.1:%d" % p1, "-b", "127.0.0.1:%d" % p2, "-t", "2",
                             root])
    for p in (p1, p2):
        with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
            c = Conn(s)
            c.send(request("/a.txt"))
            r = c.read_response()
            check(r.status == 200 and r.body == BODY, "port %d served: %r" % (p, r))
    srv.stop()


def t_sigterm_refuses_unix():
    path = os.path.join(base, "term.sock")
    srv = Server(root, args=["-b", "unix:" + path, "-b", "127.0.0.1", "-p", "0", "-t", "2",
                             root], ready_re=UNIX_READY)
    c = unix_conn(path)
    c.send(request("/big.bin"))
    time.sleep(0.05)
    srv.proc.send_signal(15)
    time.sleep(0.5)
    try:
        unix_conn(path, timeout=1).close()
        refused = False
    except OSError:
        refused = True
    check(refused, "new unix clients refused after SIGTERM")
    r = c.read_response()
    check(r.status == 200 and len(r.body) == 3 << 20, "download in flight finishes: %r" % r)
    c.close()
    rc = srv.wait_exit(10)
    check(rc == 0, "exit 0 after the drain: %s" % rc)


for t in [t_tcp_and_unix, t_unix_only_mode_and_user, t_stale_socket_replaced,
          t_live_socket_refused, t_duplicates_and_conflicts, t_two_tcp_ports,
          t_sigterm_refuses_unix]:
    case(t)
finish()
