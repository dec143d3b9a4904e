#!/usr/bin/env python3
"""Nothing outside ROOT is ever served: dot segments in every encoding,
NUL, backslash, overlong UTF-8, absolute-form targets, and symlinks that
point out of the root. A legit symlink inside the root still works."""

import os
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Closed, Server, case, check, finish, make_tree)

MARKER = ("SECRET-" + uuid.uuid4().hex).encode()
PASSWD_MARK = b"root:x:0:0"

base, root = make_tree({
    "a.txt": b"hello a\n",
    "a/inner.txt": b"inner\n",
    "sub/b.txt": b"sub b\n",
})
# Secrets live beside the root, at the places the attacks aim at.
with open(os.path.join(base, "secret.txt"), "wb") as f:
    f.write(MARKER + b" beside root\n")
os.makedirs(os.path.join(base, "secret"))
with open(os.path.join(base, "secret", "secret.txt"), "wb") as f:
    f.write(MARKER + b" in secret dir\n")
with open(os.path.join(base, "secret", "index.html"), "wb") as f:
    f.write(MARKER + b" index outside\n")

os.symlink(os.path.join(base, "secret", "secret.txt"),
           os.path.join(root, "abs_link.txt"))
os.symlink("../secret/secret.txt", os.path.join(root, "rel_link.txt"))
os.symlink(os.path.join(base, "secret"), os.path.join(root, "dir_link"))
os.symlink("../secret", os.path.join(root, "rel_dir_link"))
os.symlink("/etc/passwd", os.path.join(root, "passwd_link"))
os.symlink("a.txt", os.path.join(root, "good_link.txt"))
os.symlink("../a.txt", os.path.join(root, "sub", "good_up_link.txt"))

srv = Server(root)


def exchange(data, method="GET"):
    """Send one raw request; return all bytes the server sends before it
    closes or goes quiet."""
    with srv.connect() as c:
        c.send(data)
        try:
            r = c.read_response(method)
        except Closed as e:
            return None, str(e).encode()
        rest, _ = c.read_all(timeout=0.3)
        return r, r.raw_head + b"\r\n\r\n" + r.body + rest


def must_refuse(target, what=None, raw_line=None):
    line = raw_line or b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    what = what or repr(target)
    r, everything = exchange(line)
    check(MARKER not in everything and PASSWD_MARK not in everything,
          "%s: response leaks a file from outside the root: %r"
          % (what, everything[:300]))
    if r is None:
        # A close without an answer leaks nothing; still note it.
        check(False, "%s: no response (%r)" % (what, everything[:200]))
        return
    check(r.status in (400, 403, 404),
          "%s: status %d, want 400/403/404" % (what, r.status))


ATTACKS = [
    b"/../secret.txt",
    b"/..%2fsecret.txt",
    b"/..%2Fsecret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/.%2e/secret.txt",
    b"/%252e%252e/secret.txt",
    b"/%252e%252e%252fsecret.txt",
    b"/a/../../secret.txt",
    b"/a/%2e%2e/%2e%2e/secret.txt",
    b"/sub/../../secret/secret.txt",
    b"/..\\secret.txt",
    b"/a\\..\\..\\secret.txt",
    b"/%00",
    b"/a.txt%00.html",
    b"/%00../secret.txt",
    b"/%c0%ae%c0%ae/secret.txt",
    b"/%c0%ae%c0%ae%c0%afsecret.txt",
    b"/%e0%80%ae%e0%80%ae/secret.txt",
    b"/../../../../../../etc/passwd",
    b"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"//etc/passwd",
    b"/etc/passwd",
    b"/abs_link.txt",
    b"/rel_link.txt",
    b"/dir_link/secret.txt",
    b"/dir_link/",
    b"/dir_link/index.html",
    b"/rel_dir_link/secret.txt",
    b"/rel_dir_link/",
    b"/passwd_link",
    b"/secret.txt",
    b"/secret/secret.txt",
]


def t_attacks():
    for target in ATTACKS:
        must_refuse(target)


def t_absolute_form():
    for target in [b"http://x/../secret.txt", b"http://x/%2e%2e/secret.txt",
                   b"http://x/a/../../secret.txt", b"http://x/abs_link.txt",
                   b"http://x/../../../../etc/passwd"]:
        must_refuse(target, "absolute-form %r" % target)


def t_head_attacks():
    for target in [b"/../secret.txt", b"/abs_link.txt", b"/dir_link/secret.txt"]:
        r, everything = exchange(b"HEAD " + target +
                                 b" HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD")
        check(r is not None and r.status in (400, 403, 404),
              "HEAD %r: %r" % (target, r))


def t_legit_links():
    for target, body in [(b"/good_link.txt", b"hello a\n"),
                         (b"/sub/good_up_link.txt", b"hello a\n"),
                         (b"/a/inner.txt", b"inner\n"),
                         (b"/a/../a.txt", b"hello a\n")]:
        r, _ = exchange(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(r is not None and r.status == 200 and r.body == body,
              "GET %r (inside the root) should be served: %r" % (target, r))


def t_still_alive():
    check(srv.alive(), "server died during the attacks")
    r, _ = exchange(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    check(r is not None and r.status == 200, "final GET /a.txt: %r" % r)


for t in [t_attacks, t_absolute_form, t_head_attacks, t_legit_links,
          t_still_alive]:
    case(t)
finish()
