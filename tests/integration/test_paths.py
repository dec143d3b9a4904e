"""Serving paths: the open-file cache and O_DIRECT for large cold files.

- cache: repeated requests serve the same bytes; an edited file is seen
  after --cache-validity; a deleted file turns into 404; a replaced file
  (new inode) is served anew.
- direct: a file at or over --direct-threshold that is not in the page
  cache is served with O_DIRECT: exact bytes (whole and ranges starting and
  ending off the alignment), and the page cache is left (almost) empty of
  it. Skipped where the root's filesystem refuses O_DIRECT (tmpfs).
"""
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, case, check, drop_from_cache, finish, get,  # noqa: E402
                     make_tree)

BIG = 24 * 1024 * 1024 + 12345


def resident_bytes(path):
    """Bytes of path in the page cache (fincore, util-linux), or None."""
    if not shutil.which("fincore"):
        return None
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True)
    try:
        return int(out.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def o_direct_works(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        os.close(fd)
        return True
    except OSError:
        return False


def t_cache_sees_edits():
    _, root = make_tree({"f.txt": b"one", "g.txt": b"keep"})
    srv = Server(root, extra=["--cache-validity", "1"])
    for _ in range(3):
        r = get(srv, "/f.txt")
        check(r.status == 200 and r.body == b"one", "cached read: %r" % r)
    with open(os.path.join(root, "f.txt"), "wb") as f:
        f.write(b"two, longer")
    time.sleep(2.2)
    r = get(srv, "/f.txt")
    check(r.status == 200 and r.body == b"two, longer", "edit seen after validity: %r" % r)
    # Replaced by rename: a new inode.
    tmp = os.path.join(root, "f.new")
    with open(tmp, "wb") as f:
        f.write(b"three")
    os.rename(tmp, os.path.join(root, "f.txt"))
    time.sleep(2.2)
    r = get(srv, "/f.txt")
    check(r.status == 200 and r.body == b"three", "replacement seen: %r" % r)
    os.unlink(os.path.join(root, "f.txt"))
    time.sleep(2.2)
    r = get(srv, "/f.txt")
    check(r.status == 404, "deleted file is 404: %r" % r)
    r = get(srv, "/g.txt")
    check(r.status == 200 and r.body == b"keep", "other file unaffected: %r" % r)
    srv.stop()


def t_cache_off():
    _, root = make_tree({"f.txt": b"x" * 100})
    srv = Server(root, extra=["--cache-entries", "0"])
    for _ in range(3):
        r = get(srv, "/f.txt")
        check(r.status == 200 and r.body == b"x" * 100, "no cache: %r" % r)
    srv.stop()


def t_direct():
    data = os.urandom(BIG)
    base, root = make_tree({"big.bin": data})
    path = os.path.join(root, "big.bin")
    if not o_direct_works(path):
        print("note: O_DIRECT not supported under %s; direct case skipped" % base)
        return
    srv = Server(root, extra=["--direct-threshold", "8M", "--direct-depth", "4",
                              "--direct-chunk", "256K"], threads=1)
    ranges = [None, (0, BIG - 1), (1, BIG - 2), (4095, 9 * 1024 * 1024),
              (8 * 1024 * 1024 - 1, BIG - 1)]
    for rg in ranges:
        drop_from_cache(path)
        headers = () if rg is None else ("Range: bytes=%d-%d" % rg,)
        r = get(srv, "/big.bin", headers=headers)
        want = data if rg is None else data[rg[0]:rg[1] + 1]
        check(r.status == (200 if rg is None else 206) and r.body == want,
              "direct %s: status %s, %d bytes, equal=%s"
              % (rg, r.status, len(r.body or b""), r.body == want))
        res = resident_bytes(path)
        if res is not None:
            check(res <= 2 * 1024 * 1024,
                  "direct %s left %d bytes of the file in the page cache" % (rg, res))
    # Warm file: the buffered path, same bytes.
    with open(path, "rb") as f:
        f.read()
    r = get(srv, "/big.bin")
    check(r.status == 200 and r.body == data, "warm file served exactly")
    srv.stop()


def t_direct_below_threshold():
    data = os.urandom(3 * 1024 * 1024)
    _, root = make_tree({"mid.bin": data})
    path = os.path.join(root, "mid.bin")
    drop_from_cache(path)
    srv = Server(root, extra=["--direct-threshold", "8M"])
    r = get(srv, "/mid.bin")
    check(r.status == 200 and r.body == data, "below threshold served exactly")
    srv.stop()


def fetch_all(srv, paths, timeout=60):
    """Send one GET per path, each on its own connection, all at once, then
    read every response; returns (status, body) per path."""
    import select
    import socket
    socks = []
    for p in paths:
        sk = socket.create_connection((srv.host, srv.port), timeout=10)
        sk.sendall(("GET /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % p).encode())
        sk.setblocking(False)
        socks.append(sk)
    data = {sk: bytearray() for sk in socks}
    open_ = set(socks)
    end = time.monotonic() + timeout
    while open_ and time.monotonic() < end:
        ready, _, _ = select.select(list(open_), [], [], 1.0)
        for sk in ready:
            try:
                chunk = sk.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if chunk:
                data[sk] += chunk
            else:
                open_.discard(sk)
                sk.close()
    out = []
    for sk in socks:
        head, _, body = bytes(data[sk]).partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else None
        out.append((status, body))
    return out


def t_tiny_ring():
    """An 8-entry ring under 150 simultaneous downloads: the submission
    queue fills in the middle of linked chains (head -> read/splice ->
    send), and no chain may be cut in two (a send would then not wait for
    its read, and bytes from elsewhere would go out)."""
    files = {"m.bin": os.urandom(1024 * 1024 + 7), "s.bin": os.urandom(30000),
             "k.bin": os.urandom(200000)}
    _, root = make_tree(files)
    srv = Server(root, extra=["-q", "8", "--pipes", "4", "--cache-entries", "0"], threads=1)
    for rnd in range(3):
        names = [("m.bin", "s.bin", "k.bin")[i % 3] for i in range(150)]
        got = fetch_all(srv, names)
        bad = [(n, st, len(b)) for n, (st, b) in zip(names, got) if st != 200 or b != files[n]]
        check(not bad, "tiny ring round %d: %d wrong responses, e.g. %s" % (rnd, len(bad), bad[:3]))
    srv.stop()


for fn in (t_cache_sees_edits, t_cache_off, t_direct, t_direct_below_threshold, t_tiny_ring):
    case(fn)
finish()
