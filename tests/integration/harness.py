"""Shared helpers for the integration tests (Python 3 stdlib only).

A test builds a temporary root, starts the real binary on a loopback port the
kernel picks, speaks raw HTTP over plain sockets and records failures with
check(). Exit codes follow the project's convention: 0 pass, 1 fail, 77 skip.

Every socket operation has a timeout so that a hung server fails a test
instead of hanging it, and every server started here is killed when the test
process ends, whatever way it ends.
"""

import atexit
import errno
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SOCK_TIMEOUT = 5.0
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
SKIP = 77

HERE = os.path.dirname(os.path.abspath(__file__))
LISTEN_RE = re.compile(r"listening on \[?([0-9a-f.:]+)\]?:(\d+)")
# Sanitizer reports mean a bug even when the process still exits cleanly.
SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"WARNING: ThreadSanitizer")


def binary():
    """The server binary: $RINGSERVE (set by meson) or the default build."""
    path = os.environ.get("RINGSERVE") or os.path.join(
        HERE, "..", "..", "build", "server", "ringserve")
    if not os.access(path, os.X_OK):
        print("FAIL: server binary not found or not executable: %s" % path)
        sys.exit(1)
    return path


# ---------------------------------------------------------------- results

_failures = []


def check(cond, what):
    """Record a failure (and print it at once) unless cond holds."""
    if not cond:
        _failures.append(what)
        print("FAIL: %s" % what, flush=True)
    return bool(cond)


def case(fn):
    """Run one test case; an exception is one failure, not the end of the
    test, so one bug does not hide the others."""
    try:
        fn()
    except Exception:
        check(False, "%s raised:\n%s" % (fn.__name__, traceback.format_exc()))


def timed_case(fn):
    """case(fn), then how long it took."""
    t0 = time.monotonic()
    case(fn)
    print("%s: %.1f s" % (fn.__name__, time.monotonic() - t0), flush=True)


def run_concurrently(cases):
    """Run cases that mostly wait (paced downloads, timeouts) at the same
    time, each in its own thread with its own servers, and print how long
    each took: the test then lasts as long as its slowest case."""
    threads = [threading.Thread(target=timed_case, args=(fn,)) for fn in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_timed(cases):
    """Run each case, print how long it took, then finish(): the abuse
    tests report durations so a slow machine shows where time goes."""
    for fn in cases:
        timed_case(fn)
    if sanitized():
        print("(sanitizer build)")
    finish()


def finish():
    """Stop every server (checking for crashes), print a summary, exit."""
    for srv in list(_servers):
        srv.stop()
    name = os.path.basename(sys.argv[0])
    if _failures:
        print("%s: %d failure(s)" % (name, len(_failures)))
        sys.exit(1)
    print("%s: ok" % name)
    sys.exit(0)


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(SKIP)


# ---------------------------------------------------------------- files

def make_tree(files, base=None):
    """Create a temporary base dir with root/ inside it (so tests can put
    things *beside* the root) and fill root with `files`: a dict from a
    relative path to bytes (a file) or None (an empty directory).
    Returns (base, root); both are removed at exit."""
    if base is None:
        base = tempfile.mkdtemp(prefix="ringserve-it-")
        atexit.register(shutil.rmtree, base, True)
    root = os.path.join(base, "root")
    os.makedirs(root, exist_ok=True)
    for rel, data in files.items():
        path = os.path.join(root, rel)
        if data is None:
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return base, root


# ---------------------------------------------------------------- server

_servers = []


def _kill_all():
    for srv in list(_servers):
        srv.kill()


atexit.register(_kill_all)


def _on_signal(signum, frame):
    # meson kills a timed-out test with SIGTERM: take the servers with us.
    _kill_all()
    os._exit(1)


signal.signal(signal.SIGTERM, _on_signal)


class Server:
    """The binary started as `-b BIND -p 0 -t 2 ROOT EXTRA...`; the port is
    learned from its 'listening on ADDR:PORT' stderr line."""

    def __init__(self, root, extra=(), bind="127.0.0.1", threads=2,
                 args=None, prefix=(), ready_re=None, env=None, pass_fds=()):
        # prefix: a wrapper that execs the binary (prlimit, setpriv...).
        # ready_re: what the startup line must match when it does not start
        # with a TCP address (a unix socket first); host and port are then
        # its groups 1 and 2 when it has them, else None.
        self.bind = bind
        self.ready_re = ready_re
        if args is None:
            args = ["-b", bind, "-p", "0", "-t", str(threads), root]
            args += list(extra)
        self.argv = list(prefix) + [binary()] + list(args)
        self.stderr = b""
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env,
                                     pass_fds=pass_fds)
        _servers.append(self)
        self.port = None
        try:
            self.host, self.port = self._wait_listening()
        except Exception:
            self.kill()
            raise
        # Keep draining stderr so a chatty server never blocks on the pipe.
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        fd = self.proc.stderr.fileno()
        buf = b""
        while True:
            m = (self.ready_re or LISTEN_RE).search(buf.decode("utf-8", "replace"))
            if m:
                self.stderr = buf
                if m.re.groups < 2:
                    return None, None
                return m.group(1), int(m.group(2))
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("server did not report 'listening on' "
                                   "within %gs; argv=%s stderr:\n%s"
                                   % (START_TIMEOUT, self.argv,
                                      buf.decode("utf-8", "replace")))
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            chunk = os.read(fd, 65536) if r else b""
            if r and not chunk:
                rc = self.proc.wait(timeout=STOP_TIMEOUT)
                raise RuntimeError("server exited (status %s) before "
                                   "listening; argv=%s stderr:\n%s"
                                   % (rc, self.argv,
                                      buf.decode("utf-8", "replace")))
            buf += chunk

    def _drain_stderr(self):
        fd = self.proc.stderr.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.stderr += chunk

    def stderr_text(self):
        with self._lock:
            return self.stderr.decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def wait_exit(self, timeout):
        """Wait for an exit the test caused itself (any status); checks the
        stderr for sanitizer reports like stop(). Returns the status, or
        None (the server is then killed) when it did not exit in time."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        if self in _servers:
            _servers.remove(self)
        if getattr(self, "_drain", None):
            self._drain.join(timeout=2)
        err = self.stderr_text()
        m = SANITIZER_RE.search(err)
        check(not m, "sanitizer report in server stderr:\n%s"
              % err[max(0, m.start() - 200):][:6000] if m else "")
        return rc

    def connect(self, timeout=SOCK_TIMEOUT):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((self.host, self.port))
        return Conn(s)

    def kill(self):
        """Unconditional cleanup (atexit): no test leaves a process."""
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if self in _servers:
            _servers.remove(self)

    def stop(self):
        """SIGTERM, wait, SIGKILL if needed; a crash (a signal other than
        SIGTERM/SIGKILL, a non-zero exit, a sanitizer report) is a failure.
        Returns the exit status."""
        if self not in _servers:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                print("WARN: server ignored SIGTERM for %gs; killing"
                      % STOP_TIMEOUT)
                self.proc.kill()
                self.proc.wait()
        _servers.remove(self)
        if getattr(self, "_drain", None):
            self._drain.join(timeout=2)
        rc = self.proc.returncode
        err = self.stderr_text()
        ok_signal = rc in (0, -signal.SIGTERM, -signal.SIGKILL)
        check(ok_signal, "server %s exited with status %s (crash?); "
              "stderr tail:\n%s" % (self.argv, rc, err[-4000:]))
        m = SANITIZER_RE.search(err)
        check(not m, "sanitizer report in server stderr:\n%s"
              % err[max(0, m.start() - 200):][:6000] if m else "")
        return rc


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = {}      # lower-case name -> last value
        self.header_list = []  # [(lower-case name, value)] in order
        self.body = b""
        self.raw_head = b""

    def media_type(self):
        """Content-Type without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";")[0].strip() \
            .lower()

    def count(self, name):
        return sum(1 for n, _ in self.header_list if n == name)

    def __repr__(self):
        return "<%s %d %s, %d body bytes>" % (
            self.version, self.status, self.headers, len(self.body))


class Closed(Exception):
    """The peer closed before a full response arrived."""


class Conn:
    """A client connection with a read buffer, so pipelined responses that
    arrive in one recv are split correctly."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        """Read more bytes into buf; False on EOF (or reset)."""
        try:
            chunk = self.sock.recv(1 << 20)
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Closed("connection closed with %d of %d body bytes"
                             % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise Closed("connection closed mid-line; got %r"
                             % self.buf[:200])
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, method="GET"):
        """Read exactly one response. HEAD, 1xx, 204 and 304 have no body;
        otherwise the body is framed by Content-Length, chunked coding or
        the connection close."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise Closed("connection closed before a full response head;"
                             " got %r" % self.buf[:300])
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        r = Response()
        r.raw_head = head
        lines = head.split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        r.version = m.group(1).decode()
        r.status = int(m.group(2))
        r.reason = (m.group(3) or b"").decode("latin-1")
        for ln in lines[1:]:
            name, sep, value = ln.partition(b":")
            if not sep:
                raise ValueError("bad header line %r" % ln)
            n = name.decode("latin-1").lower()
            v = value.strip().decode("latin-1")
            r.header_list.append((n, v))
            r.headers[n] = v
        if method == "HEAD" or r.status < 200 or r.status in (204, 304):
            return r
        if "content-length" in r.headers:
            r.body = self._take(int(r.headers["content-length"]))
        elif "chunked" in r.headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._take(size)
                self._line()
            r.body = body
        else:
            while self._fill():
                pass
            r.body, self.buf = self.buf, b""
        return r

    def read_all(self, timeout=SOCK_TIMEOUT):
        """Everything until EOF; (bytes, closed). closed is False when the
        timeout passed first."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
            closed = True
        except socket.timeout:
            closed = False
        finally:
            self.sock.settimeout(SOCK_TIMEOUT)
        out, self.buf = self.buf, b""
        return out, closed

    def closed_by_peer(self, timeout=3.0):
        """True when the server closes (EOF or reset) within timeout with no
        further bytes. Extra bytes count as 'not closed'."""
        data, closed = self.read_all(timeout)
        return closed and not data


def request(path, method="GET", version="HTTP/1.1", host="localhost",
            headers=()):
    lines = ["%s %s %s" % (method, path, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def get(srv, path, method="GET", **kw):
    """One request on a fresh connection; returns the Response."""
    with srv.connect() as c:
        c.send(request(path, method, **kw))
        return c.read_response(method)


def raw(srv, data, method="GET"):
    """Send raw bytes on a fresh connection; (Response, conn) with the
    connection left open for closure checks (caller closes)."""
    c = srv.connect()
    c.send(data)
    return c.read_response(method), c


IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$")


def get_within(srv, path, limit, headers=()):
    """GET path on a fresh connection, all of it within `limit` seconds
    (a server that trickles a response slowly fails instead of dragging the
    test out). Returns (status, body, seconds, error): error is None when a
    complete Content-Length response arrived in time."""
    t0 = time.monotonic()
    deadline = t0 + limit
    data = bytearray()
    need = None
    status = 0
    try:
        with srv.connect(timeout=limit) as c:
            c.send(request(path, headers=["Connection: close"]
                           + list(headers)))
            while True:
                if need is None and b"\r\n\r\n" in data:
                    head, rest = bytes(data).split(b"\r\n\r\n", 1)
                    data = bytearray(rest)
                    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
                    status = int(m.group(1)) if m else -1
                    cl = re.search(rb"\r\ncontent-length: *(\d+)", head,
                                   re.I)
                    need = int(cl.group(1)) if cl else -1
                if need is not None and 0 <= need <= len(data):
                    return (status, bytes(data[:need]),
                            time.monotonic() - t0, None)
                left = deadline - time.monotonic()
                if left <= 0:
                    return (status, bytes(data), time.monotonic() - t0,
                            "not complete within %gs (%d body bytes of %s)"
                            % (limit, len(data), need))
                c.sock.settimeout(left)
                try:
                    chunk = c.sock.recv(1 << 20)
                except socket.timeout:
                    continue
                if not chunk:
                    return (status, bytes(data), time.monotonic() - t0,
                            "closed after %d body bytes of %s"
                            % (len(data), need))
                data += chunk
    except OSError as e:
        return status, bytes(data), time.monotonic() - t0, repr(e)


# ---------------------------------------------------------------- process

def sanitized():
    """True when the binary is a sanitizer build (RINGSERVE_SANITIZED=1):
    tests may shorten their loads, never drop their checks."""
    return os.environ.get("RINGSERVE_SANITIZED", "") not in ("", "0")


def proc_status_kib(pid, field="VmRSS"):
    """A '<field>: N kB' line of /proc/PID/status, in KiB (0 if absent)."""
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return 0


def fd_count(pid):
    """Open ordinary descriptors of a process (direct descriptors in an
    io_uring file table are not listed)."""
    return len(os.listdir("/proc/%d/fd" % pid))


def raise_nofile(want):
    """Raise this process's RLIMIT_NOFILE soft limit (and the hard one when
    allowed) towards `want`; returns the soft limit now in force."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard
    if soft == resource.RLIM_INFINITY or soft >= want:
        return soft if soft != resource.RLIM_INFINITY else want
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV",
              4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
              8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


def tcp_sockets(port):
    """Kernel TCP sockets (IPv4 and IPv6) whose local port is `port`: a list
    of (state name, remote port, rx_queue, tx_queue). For a listener
    rx_queue is the number of connections waiting to be accepted."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        # One large read: the kernel walks its tables once, whereas small
        # reads restart the walk by position and can skip sockets when
        # others come and go in between.
        try:
            fd = os.open(name, os.O_RDONLY)
        except OSError:
            continue
        try:
            data = b""
            while True:
                chunk = os.read(fd, 16 << 20)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        for ln in data.decode("ascii", "replace").splitlines()[1:]:
            p = ln.split()
            lport = int(p[1].rsplit(":", 1)[1], 16)
            if lport != port:
                continue
            rport = int(p[2].rsplit(":", 1)[1], 16)
            tx, rx = (int(x, 16) for x in p[4].split(":"))
            out.append((TCP_STATES.get(int(p[3], 16), p[3]), rport, rx, tx))
    return out


def check_latencies(lat, fast, what):
    """Answer times of ordinary requests made while an attack runs: each
    must be under `fast`, except that a busy machine may delay one in
    twenty (at least one) up to 2 * fast; a server that stalls behind the
    attack shows as many slow answers or one very slow one. Returns the
    slowest."""
    worst = max(lat) if lat else None
    slow = [t for t in lat if t >= fast]
    allowed = max(1, len(lat) // 20)
    check(lat and worst < 2 * fast and len(slow) <= allowed,
          "%s: %d ordinary requests, %d took %.1f s or more (at most %d "
          "may, none %.1f s), slowest %.3f s"
          % (what, len(lat), len(slow), fast, allowed, 2 * fast,
             worst if worst is not None else -1))
    return worst


def tcp_state(local_port, remote_port, addr="127.0.0.1"):
    """State of the one TCP socket (local addr:local_port, remote
    addr:remote_port), by an exact sock_diag netlink lookup: unlike a read
    of /proc/net/tcp it cannot miss a socket while others come and go.
    None when there is no such connection (any more)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    a = socket.inet_pton(fam, addr).ljust(16, b"\0")
    sockid = (struct.pack("!HH", local_port, remote_port) + a + a
              + struct.pack("=III", 0, 0xffffffff, 0xffffffff))
    req = struct.pack("=BBBBI", fam, socket.IPPROTO_TCP, 0, 0,
                      0xffffffff) + sockid
    # nlmsghdr: SOCK_DIAG_BY_FAMILY (20), NLM_F_REQUEST.
    msg = struct.pack("=IHHII", 16 + len(req), 20, 1, 1, 0) + req
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
    try:
        s.settimeout(2)
        s.sendto(msg, (0, 0))
        data = s.recv(65536)
    finally:
        s.close()
    _, typ = struct.unpack_from("=IH", data)
    if typ == 2:                            # NLMSG_ERROR
        err = struct.unpack_from("=i", data, 16)[0]
        if err == -errno.ENOENT:
            return None
        raise OSError(-err, "sock_diag lookup failed")
    state = TCP_STATES.get(data[17], str(data[17]))
    # No such connection: the lookup falls back to the listener.
    return None if state == "LISTEN" else state


# ---------------------------------------------------------------- HTTP semantics helpers

def drop_from_cache(path):
    """Evict a file's pages (POSIX_FADV_DONTNEED, no root needed): the
    server sees it cold."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _ephemeral_low():
    """The lowest port the kernel hands out to bind(0) and connect()."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host="127.0.0.1"):
    """A port nothing uses right now (for servers that need one given).
    It is drawn below the ephemeral range: a port from bind(0) is free
    only until some client elsewhere in the suite (tests run in parallel)
    connects from it, which made a server's later bind fail with
    EADDRINUSE. Ports below the range are never picked by the kernel."""
    end = max(_ephemeral_low(), 2048)  # an odd range still leaves some ports
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(1024, end)
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 1024-%d on %s" % (end - 1, host))


def http_date(ts):
    """An IMF-fixdate for a POSIX time (seconds, fractions dropped)."""
    import email.utils
    return email.utils.formatdate(int(ts), usegmt=True)


def parse_multipart(resp):
    """Split a multipart/byteranges body by the boundary in its Content-Type.
    Returns [(headers {lower-case name: value}, bytes)], or raises
    ValueError describing what is malformed."""
    ctype = resp.headers.get("content-type", "")
    m = re.match(r'\s*multipart/byteranges\s*;\s*boundary=("?)([^";]+)\1\s*$',
                 ctype, re.I)
    if not m:
        raise ValueError("not multipart/byteranges: %r" % ctype)
    delim = b"--" + m.group(2).encode("latin-1")
    body = resp.body
    # Optional preamble, then CRLF--boundary before every part.
    first = body.find(delim)
    if first < 0:
        raise ValueError("boundary %r not in body" % delim)
    if first and body[first - 2:first] != b"\r\n":
        raise ValueError("first boundary not at a line start")
    pos = first + len(delim)
    parts = []
    while True:
        if body[pos:pos + 2] == b"--":
            rest = body[pos + 2:]
            if rest not in (b"", b"\r\n"):
                raise ValueError("bytes after the closing boundary: %r"
                                 % rest[:60])
            return parts
        if body[pos:pos + 2] != b"\r\n":
            raise ValueError("no CRLF after boundary at %d" % pos)
        pos += 2
        end_head = body.find(b"\r\n\r\n", pos)
        if end_head < 0:
            raise ValueError("part head not terminated")
        headers = {}
        for ln in body[pos:end_head].split(b"\r\n"):
            if not ln:
                continue
            n, sep, v = ln.partition(b":")
            if not sep:
                raise ValueError("bad part header %r" % ln)
            headers[n.decode("latin-1").strip().lower()] = \
                v.strip().decode("latin-1")
        start = end_head + 4
        nxt = body.find(b"\r\n" + delim, start)
        if nxt < 0:
            raise ValueError("part not followed by a boundary")
        # The part's length is known from its Content-Range; use it so that
        # a boundary-like byte string inside the data cannot confuse us.
        cr = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)$",
                      headers.get("content-range", ""))
        if cr:
            n = int(cr.group(2)) - int(cr.group(1)) + 1
            if body[start + n:start + n + 2 + len(delim)] != b"\r\n" + delim:
                raise ValueError("part of %d bytes not followed by the "
                                 "boundary" % n)
            nxt = start + n
        parts.append((headers, body[start:nxt]))
        pos = nxt + 2 + len(delim)


# ------------------------------------------------------------- metrics ---

METRIC_SAMPLE_RE = re.compile(r'^(ringserve_[a-z_]+)\{([^}]*)\} (\d+)$')


def read_to_eof(sock):
    """Every byte until the peer closes."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def ipv6_loopback():
    """This host can bind ::1."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def metrics_http(port, data, host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(data)
        out = read_to_eof(s)
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode(), body.decode()


def metrics_scrape(port):
    """{(name, frozenset(labels without worker)): sum over workers}."""
    status, head, body = metrics_http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status == 200 and "text/plain; version=0.0.4" in head, "scrape: %s" % head)
    sums = {}
    typed = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = METRIC_SAMPLE_RE.match(line)
        check(m is not None, "sample line well-formed: %r" % line)
        if not m:
            continue
        check(m.group(1) in typed, "%s has a TYPE line before it" % m.group(1))
        labels = frozenset(kv for kv in m.group(2).split(",") if not kv.startswith("worker="))
        key = (m.group(1), labels)
        sums[key] = sums.get(key, 0) + int(m.group(3))
    return sums


def metrics_val(sums, name, label=None):
    return sums.get((name, frozenset([label]) if label else frozenset()), 0)


def metrics_sum(port, name, label=None):
    """ringserve_NAME (with that one label, if given) summed over workers."""
    return metrics_val(metrics_scrape(port), "ringserve_" + name, label)


def metrics_reach(port, name, label, want, within=2.0):
    """metrics_sum once it is at least `want`, or its value after `within`
    seconds. A client can hold a response's last byte before the worker
    has seen the completion that counts it."""
    deadline = time.monotonic() + within
    n = metrics_sum(port, name, label)
    while n < want and time.monotonic() < deadline:
        time.sleep(0.02)
        n = metrics_sum(port, name, label)
    return n


def metrics_text(port):
    """The exposition text of one scrape."""
    return metrics_http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")[2]


def logged_peers(log, tags, timeout=3):
    """{tag: remote_addr} from a JSON access log for requests "GET /PATH?TAG",
    once every tag is in it (lines are written at the 250 ms tick) or the
    timeout passed."""
    import json
    deadline = time.monotonic() + timeout
    out = {}
    while True:
        out = {}
        if os.path.exists(log):
            with open(log) as f:
                for ln in f:
                    e = json.loads(ln)
                    m = re.match(r"GET /\S*\?(\S+) ", e["request"])
                    if m:
                        out[m.group(1)] = e["remote_addr"]
        if all(t in out for t in tags) or time.monotonic() >= deadline:
            return out
        time.sleep(0.1)
