#!/usr/bin/env python3
"""systemd socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES).

- Started by systemd-socket-activate with a TCP and a unix socket (named
  web and local): both served, the startup line names
  them, -b is replaced (and says so), --proxy-protocol applies to the TCP one only; SIGTERM
  lets a download finish, accepts no new client but leaves systemd's sockets
  open (the client waits in the backlog), exits 0 and leaves the unix socket
  file in place.
- LISTEN_PID of another process: ignored, -b is bound as usual.
- fd 3 a regular file, a socket that does not listen, a datagram socket,
  LISTEN_FDS of 0 or garbage: exit 1 with one line.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, binary, case, check, finish, free_port,  # noqa: E402
                     make_tree, request, skip)

ACTIVATE = shutil.which("systemd-socket-activate")
base, root = make_tree({"a.txt": b"activated\n", "big.bin": os.urandom(3 << 20)})
READY = re.compile(r"listening on (127\.0\.0\.1):(\d+)")


def unix_get(path, target):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    with Conn(s) as c:
        c.send(request(target))
        return c.read_response()


def t_activated():
    port = free_port()
    path = os.path.join(base, "sa.sock")
    log = os.path.join(base, "sa.log")
    # systemd-socket-activate execs the server at the first client, as
    # systemd would: that client must be answered too.
    first = {}

    def trigger():
        for _ in range(100):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        else:
            return
        with Conn(s) as c:
            c.send(b"PROXY TCP4 192.0.2.250 10.0.0.1 1 80\r\n" + request("/a.txt?first"))
            first["r"] = c.read_response()
    t = threading.Thread(target=trigger, daemon=True)
    t.start()
    srv = Server(root, args=["-t", "2", "-b", "127.0.0.1:1", "--proxy-protocol",
                             "--access-log", log, "--log-format", "json", root],
                 prefix=[ACTIVATE, "-l", "127.0.0.1:%d" % port, "-l", path,
                         "--fdname=web:local"], ready_re=READY)
    t.join(10)
    check(first.get("r") is not None and first["r"].status == 200,
          "the client that started it answered: %r" % first.get("r"))
    err = srv.stderr_text()
    check(srv.port == port, "serves systemd's port %d, not -b's: %s" % (port, srv.port))
    check("127.0.0.1:%d (systemd: web)" % port in err and
          "unix:%s (systemd: local)" % path in err, "startup line names both: %r" % err)
    check("replace --bind" in err, "says -b is replaced: %r" % err)
    for i in range(20):
        with srv.connect() as c:
            c.send(b"PROXY TCP4 192.0.2.%d 10.0.0.1 1 80\r\n" % (i + 1)
                   + request("/a.txt?tcp%d" % i))
            r = c.read_response()
            check(r.status == 200 and r.body == b"activated\n", "TCP %d: %r" % (i, r))
        r = unix_get(path, "/a.txt?unix%d" % i)
        check(r.status == 200, "unix %d: %r" % (i, r))
    # Plain HTTP on the TCP socket: PROXY header expected, so closed.
    with srv.connect() as c:
        c.send(request("/a.txt?plain"))
        check(c.closed_by_peer(), "TCP without a PROXY header closed")
    # SIGTERM while a download is in flight: systemd's socket stays open
    # (a new client connects and waits in the backlog for the next
    # instance) but is not accepted any more.
    # A small receive buffer keeps the download in flight while the
    # test does not read (loopback buffers would take it whole).
    ds = socket.socket()
    ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ds.settimeout(5)
    ds.connect(("127.0.0.1", port))
    dl = Conn(ds)
    dl.send(b"PROXY UNKNOWN\r\n" + request("/big.bin"))
    dl.sock.recv(1000)
    srv.proc.send_signal(15)
    time.sleep(0.5)
    late = socket.create_connection(("127.0.0.1", port), timeout=2)
    late.sendall(b"PROXY UNKNOWN\r\n" + request("/a.txt?late"))
    late.settimeout(0.5)
    try:
        got = late.recv(100)
    except socket.timeout:
        got = None
    check(got is None, "no answer to a client after SIGTERM: %r" % got)
    rest, _ = dl.read_all(timeout=5)
    check(len(rest) > (3 << 20) - 1000, "download in flight finished: %d bytes" % len(rest))
    dl.close()
    rc = srv.wait_exit(10)
    late.close()
    check(rc == 0, "exit 0 on SIGTERM: %s" % rc)
    check(os.path.exists(path), "systemd's socket file is not removed")
    with open(log) as f:
        addrs = {json.loads(ln)["request"].split(" ")[1]: json.loads(ln)["remote_addr"]
                 for ln in f}
    check(addrs.get("/a.txt?tcp3") == "192.0.2.4" and addrs.get("/a.txt?unix3") == "unix:",
          "logged peers: %r" % {k: v for k, v in addrs.items() if k.endswith("3")})


def t_other_pid():
    env = dict(os.environ, LISTEN_PID="1", LISTEN_FDS="1")
    srv = Server(root, env=env)  # -b 127.0.0.1 -p 0
    check("systemd" not in srv.stderr_text(), "another process's LISTEN_PID ignored")
    with srv.connect() as c:
        c.send(request("/a.txt"))
        check(c.read_response().status == 200, "served on -b")
    srv.stop()


WRAP = r"""
import os, socket, sys
kind, fds = sys.argv[1], sys.argv[2]
if kind == "file":
    fd = os.open("/etc/hostname" if os.path.exists("/etc/hostname") else "/dev/null", os.O_RDONLY)
elif kind == "bound":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); fd = s.detach()
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); fd = s.detach()
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); fd = s.detach()
if fd != 3:
    os.dup2(fd, 3)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = fds
os.execv(sys.argv[3], sys.argv[3:])
"""


def t_bad_sockets():
    for kind, fds, what, says in [
            ("file", "1", "a regular file", "fd 3): Socket operation on non-socket"),
            ("bound", "1", "a socket that does not listen", "not a listening stream socket"),
            ("udp", "1", "a datagram socket", "not a listening stream socket"),
            ("listen", "0", "LISTEN_FDS=0", "LISTEN_FDS must be"),
            ("listen", "x", "LISTEN_FDS=x", "LISTEN_FDS must be"),
            ("listen", "2", "LISTEN_FDS=2 with only fd 3 open", "systemd socket 2 (fd 4)")]:
        p = subprocess.run([sys.executable, "-c", WRAP, kind, fds, binary(), "-t", "1", root],
                           capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        err = p.stderr.decode()
        check(p.returncode == 1 and len(err.strip().splitlines()) == 1 and says in err,
              "%s: exit %s, want 1 with one line saying %r: %r" % (what, p.returncode, says, err))


if not ACTIVATE:
    skip("systemd-socket-activate not installed (Debian package systemd)")
for t in [t_activated, t_other_pid, t_bad_sockets]:
    case(t)
finish()
