#!/usr/bin/env python3
"""The access log (--access-log, --log-format) and its rotation.

- Each format (common, combined, json): a mix of requests (200, HEAD, 206,
  304, 404, 400, 301, a hostile User-Agent) gives one parseable line each
  with the right status, body size and request line; "-" writes to stdout.
- Rotation under load: wrk hammers a file while numbered requests run on
  keep-alive connections; the log is renamed and SIGHUP / SIGUSR1 sent
  twice meanwhile. Every numbered request is in exactly one file, every
  line parses, and the files hold at least as many lines as wrk completed
  requests (none lost, none doubled).
- Bad settings: an unwritable log path exits 1 with a message; an unknown
  format is a usage error (2).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, get, make_tree,  # noqa: E402
                     raw, request)

CLF_RE = re.compile(r'^(\S+) - - \[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
                    r'"((?:[^"\\]|\\x[0-9A-F]{2})*)" (\d{3}) (\d+|-)'
                    r'(?: "((?:[^"\\]|\\x[0-9A-F]{2})*)" "((?:[^"\\]|\\x[0-9A-F]{2})*)")?$')

BODY = b"0123456789" * 100  # 1000 bytes


def parse_line(line, fmt):
    """{'request', 'status', 'bytes', 'referer', 'agent', 'addr'} or None."""
    if fmt == "json":
        try:
            d = json.loads(line)
        except ValueError:
            return None
        return {"request": d["request"], "status": d["status"], "bytes": d["bytes"],
                "referer": d["referer"], "agent": d["user_agent"], "addr": d["remote_addr"],
                "time": d["time"], "request_time": d["request_time"]}
    m = CLF_RE.match(line)
    if not m or (fmt == "combined") != (m.group(6) is not None):
        return None
    unq = lambda s: None if s in (None, "-") else s  # noqa: E731
    return {"request": m.group(3), "status": int(m.group(4)),
            "bytes": 0 if m.group(5) == "-" else int(m.group(5)),
            "referer": unq(m.group(6)), "agent": unq(m.group(7)), "addr": m.group(1)}


def read_lines(*paths):
    lines = []
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            check(not data or data.endswith(b"\n"), "%s ends with a whole line" % p)
            lines += data.decode("utf-8", "replace").splitlines()
    return lines


def mix(srv):
    """The requests of the format test: tag -> (expected status, body bytes)."""
    etag = get(srv, "/f.txt?warm").headers.get("etag")
    want = {"/f.txt?warm": (200, len(BODY))}
    get(srv, "/f.txt?get")
    want["/f.txt?get"] = (200, len(BODY))
    get(srv, "/f.txt?head", method="HEAD")
    want["/f.txt?head"] = (200, 0)
    r = get(srv, "/f.txt?range", headers=["Range: bytes=10-19"])
    check(r.status == 206, "range answered 206: %r" % r)
    want["/f.txt?range"] = (206, 10)
    r = get(srv, "/f.txt?cond", headers=["If-None-Match: %s" % etag])
    check(r.status == 304, "conditional answered 304: %r" % r)
    want["/f.txt?cond"] = (304, 0)
    r = get(srv, "/missing?nf", headers=["Referer: http://example.test/from",
                                          'User-Agent: evil "agent"\\ \xe9'])
    want["/missing?nf"] = (404, len(r.body))
    r = get(srv, "/dir?redir")
    check(r.status == 301, "directory without slash redirected: %r" % r)
    want["/dir?redir"] = (301, len(r.body))
    r, c = raw(srv, b"GET /bad?x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
    c.close()
    check(r.status == 400, "malformed header answered 400: %r" % r)
    want["/bad?x"] = (400, len(r.body))
    return want


def t_formats():
    for fmt in ("common", "combined", "json"):
        base, root = make_tree({"f.txt": BODY, "dir/index.html": b"<p>i</p>"})
        log = os.path.join(base, "access.log")
        srv = Server(root, extra=["--access-log", log, "--log-format", fmt])
        want = mix(srv)
        srv.stop()  # drains: every buffered line is written
        lines = read_lines(log)
        seen = {}
        for line in lines:
            e = parse_line(line, fmt)
            check(e is not None, "%s: line parses: %r" % (fmt, line))
            if e is None:
                continue
            check(e["addr"] == "127.0.0.1", "%s: client address: %r" % (fmt, e["addr"]))
            target = e["request"].split(" ")[1] if e["request"].count(" ") == 2 else None
            if target in want:
                check(target not in seen, "%s: %s logged once" % (fmt, target))
                seen[target] = e
        for target, (status, size) in want.items():
            e = seen.get(target)
            check(e is not None, "%s: %s is in the log:\n%s" % (fmt, target, "\n".join(lines)))
            if not e:
                continue
            check(e["status"] == status and e["bytes"] == size,
                  "%s: %s logged as %s %s, expected %s %s"
                  % (fmt, target, e["status"], e["bytes"], status, size))
            method = "HEAD" if target.endswith("?head") else "GET"
            check(e["request"] == "%s %s HTTP/1.1" % (method, target),
                  "%s: request line %r" % (fmt, e["request"]))
        nf = seen.get("/missing?nf")
        if nf and fmt != "common":
            check(nf["referer"] == "http://example.test/from", "%s: referer %r" % (fmt, nf["referer"]))
            agent = 'evil "agent"\\ \xe9' if fmt == "json" else 'evil \\x22agent\\x22\\x5C \\xE9'
            check(nf["agent"] == agent, "%s: user agent escaped: %r" % (fmt, nf["agent"]))
        if fmt == "json" and seen.get("/f.txt?get"):
            e = seen["/f.txt?get"]
            check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", e["time"]) and
                  isinstance(e["request_time"], float), "json time fields: %r" % e)
        shutil.rmtree(base, True)


def t_stdout():
    base, root = make_tree({"f.txt": BODY})
    out = os.path.join(base, "stdout")
    # A wrapper that execs the binary with stdout on a file.
    srv = Server(root, extra=["--access-log", "-", "--log-format", "common"],
                 prefix=["sh", "-c", 'exec "$0" "$@" >"%s"' % out])
    get(srv, "/f.txt?stdout")
    srv.stop()
    lines = [parse_line(ln, "common") for ln in read_lines(out)]
    check(any(e and e["request"] == "GET /f.txt?stdout HTTP/1.1" and e["status"] == 200
              for e in lines), "--access-log - writes to stdout: %r" % lines)
    shutil.rmtree(base, True)


def numbered_client(srv, ids, stop, errors):
    """Requests /f.txt?id=N on one keep-alive connection until told to stop;
    ids gets every N that was answered."""
    c = srv.connect()
    try:
        while not stop.is_set():
            n = next(NUMBERS)
            c.send(request("/f.txt?id=%d" % n))
            r = c.read_response("GET")
            if r.status != 200:
                errors.append(r.status)
                return
            ids.append(n)
    except Exception as e:  # noqa: BLE001 - reported below
        errors.append(repr(e))
    finally:
        c.close()


NUMBERS = iter(range(1, 10 ** 9))


def t_rotation():
    base, root = make_tree({"f.txt": BODY})
    log = os.path.join(base, "access.log")
    srv = Server(root, extra=["--access-log", log, "--access-log-buffer", "4K"])
    wrk = shutil.which("wrk")
    wrk_proc = None
    if wrk:
        wrk_proc = subprocess.Popen([wrk, "-t1", "-c8", "-d3s",
                                     "http://127.0.0.1:%d/f.txt" % srv.port],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
    stop, ids, errors = threading.Event(), [], []
    threads = [threading.Thread(target=numbered_client, args=(srv, ids, stop, errors))
               for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    os.rename(log, log + ".1")
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    os.rename(log, log + ".2")
    srv.proc.send_signal(signal.SIGUSR1)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(10)
    wrk_done = 0
    if wrk_proc:
        out = wrk_proc.communicate(timeout=30)[0].decode("utf-8", "replace")
        m = re.search(r"(\d+) requests in", out)
        wrk_done = int(m.group(1)) if m else 0
        check(wrk_done > 0, "wrk completed requests: %s" % out)
    check(not errors, "numbered clients: %s" % errors[:5])
    check(srv.alive(), "server alive after two reopens")
    srv.stop()
    files = [log + ".1", log + ".2", log]
    per_file = [read_lines(p) for p in files]
    for p, lines in zip(files, per_file):
        check(len(lines) > 0, "%s has lines (the reopen took effect)" % os.path.basename(p))
    logged = {}
    total = 0
    for lines in per_file:
        for line in lines:
            e = parse_line(line, "combined")
            check(e is not None, "rotated line parses: %r" % line)
            if not e:
                continue
            total += 1
            m = re.match(r"GET /f\.txt\?id=(\d+) ", e["request"])
            if m:
                logged[int(m.group(1))] = logged.get(int(m.group(1)), 0) + 1
    doubled = [n for n, k in logged.items() if k > 1]
    lost = [n for n in ids if n not in logged]
    check(not doubled, "no numbered request logged twice: %s" % doubled[:10])
    check(not lost, "no numbered request lost: %d of %d missing, e.g. %s"
          % (len(lost), len(ids), lost[:10]))
    check(total >= wrk_done + len(ids), "lines %d >= wrk's %d + numbered %d"
          % (total, wrk_done, len(ids)))
    print("rotation: %d lines in 3 files, %d numbered, wrk %d" % (total, len(ids), wrk_done))
    shutil.rmtree(base, True)


def t_bad_settings():
    base = tempfile.mkdtemp(prefix="ringserve-logs-")
    p = subprocess.run([binary(), "-p", "0", "-b", "127.0.0.1", "--access-log",
                        "/nonexistent-dir/x/access.log", base],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 1 and "--access-log" in p.stderr,
          "unwritable access log: status %d %r" % (p.returncode, p.stderr))
    p = subprocess.run([binary(), "--log-format", "fancy", base],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 2 and "--log-format" in p.stderr,
          "unknown log format: status %d %r" % (p.returncode, p.stderr))
    shutil.rmtree(base, True)


for fn in (t_formats, t_stdout, t_rotation, t_bad_settings):
    case(fn)
finish()
