#!/usr/bin/env python3
"""The configuration file and --check-config, through the real binary.

- A server started with --config serves what the file says (root, headers,
  listing off), with the command line winning where both speak (the port
  and address the harness gives); a file may give the port alone.
- --check-config prints the settings in the file's syntax and exits 0; its
  output, used as a config file, prints the same again.
- Errors exit 2 with one line: FILE:LINE for unknown options, bad values,
  bad syntax; a missing file; ROOT not a directory; an unknown user; an
  unknown RINGSERVE_DISABLE word. --help works with a broken file.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, free_port, get,  # noqa: E402
                     make_tree)

base, root = make_tree({"a.txt": b"hello from the config root\n", "sub/b.txt": b"b\n"})


def conf(name, text):
    path = os.path.join(base, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, env=None, timeout=10):
    p = subprocess.run([binary()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def one_line(err):
    return err.endswith("\n") and err.count("\n") == 1


def t_serves_from_file():
    path = conf("serve.conf", "# ringserve test\nroot = %s\n"
                "cache-control = public, max-age=60   # a minute\n"
                "server-header = \"test # 1\"\nno-listing\nport = 1\n" % root)
    srv = Server(None, args=["--config", path, "-b", "127.0.0.1", "-p", "0", "-t", "1"])
    r = get(srv, "/a.txt")
    check(r.status == 200 and r.body == b"hello from the config root\n",
          "file's root served: %r" % r)
    check(r.headers.get("cache-control") == "public, max-age=60", "file's Cache-Control: %r"
          % r.headers)
    check(r.headers.get("server") == "test # 1", "quoted Server header: %r" % r.headers)
    check(get(srv, "/sub/").status == 403, "no-listing from the file")
    check(srv.port != 1, "the command line's port won over the file's")
    srv.stop()


def t_port_from_file():
    port = free_port()
    path = conf("port.conf", "bind = 127.0.0.1\nport = %d\nthreads = 1\n" % port)
    srv = Server(None, args=["--config", path, root])
    check(srv.port == port, "listening on the file's port %d: %d" % (port, srv.port))
    check(get(srv, "/a.txt").status == 200, "served on the file's port")
    srv.stop()


def t_check_config():
    path = conf("check.conf", "port = 8099\nthreads = 3\nroot = %s\n"
                "server-header = \" spaced \"\ndotfiles = true\n" % root)
    rc, out, err = run(["--config", path, "--check-config", "-t", "2"])
    check(rc == 0 and not err, "--check-config: %s %r" % (rc, err))
    lines = out.splitlines()
    for want in ("port = 8099", "threads = 2", "root = %s" % root,
                 "server-header = \" spaced \"", "dotfiles = true", "buffer-size = 64K",
                 "transfer = auto"):
        check(want in lines, "--check-config prints %r: %s" % (want, out[:2000]))
    again = conf("again.conf", out)
    rc2, out2, err2 = run(["--config", again, "--check-config"])
    check(rc2 == 0 and out2 == out, "the printed settings read back the same: %s %r\n%s"
          % (rc2, err2, out2[:400]))
    env = dict(os.environ, RINGSERVE_DISABLE="cachestat,defer_taskrun")
    rc, out, err = run(["--check-config", root], env=env)
    check(rc == 0 and "# RINGSERVE_DISABLE=defer_taskrun,cachestat" in out,
          "--check-config names RINGSERVE_DISABLE: %r" % out[-200:])


def t_errors():
    cases = [
        ("port = 80\nprot = 80\n", 2, "unknown option 'prot'"),
        ("\n\nthreads = 0\n", 3, "--threads"),
        ("x = \"open\n", 1, "unterminated"),
        ("dotfiles = maybe\n", 1, "flag"),
        ("buffer-size = 5X\n", 1, "--buffer-size"),
        ("# ok\n--port = 80\n", 2, "'--'"),
        ("config = /etc/other.conf\n", 1, "command line only"),
    ]
    for text, line, want in cases:
        path = conf("bad.conf", text)
        rc, out, err = run(["--config", path, "--check-config", root])
        check(rc == 2 and one_line(err) and ("%s:%d: " % (path, line)) in err and want in err
              and not out, "%r: exit %s, stderr %r" % (text, rc, err))
        # Without --check-config the server refuses to start the same way.
        rc, out, err = run(["--config", path, "-b", "127.0.0.1", "-p", "0", root])
        check(rc == 2 and one_line(err) and want in err, "%r at start: %s %r" % (text, rc, err))
    rc, out, err = run(["--config", os.path.join(base, "missing.conf"), "--check-config"])
    check(rc == 2 and one_line(err) and "No such file" in err, "missing file: %s %r" % (rc, err))
    rc, out, err = run(["--config", base, "--check-config"])
    check(rc == 2 and one_line(err) and "not a regular file" in err, "a directory: %r" % err)
    rc, out, err = run(["--check-config", os.path.join(root, "a.txt")])
    check(rc == 2 and one_line(err), "ROOT not a directory: %s %r" % (rc, err))
    rc, out, err = run(["--check-config", "--user", "no-such-user-here", root])
    check(rc == 2 and one_line(err) and "no such user" in err, "unknown user: %s %r" % (rc, err))
    rc, out, err = run(["--check-config", root],
                       env=dict(os.environ, RINGSERVE_DISABLE="cachestat,nope"))
    check(rc == 2 and one_line(err) and "'nope'" in err, "bad RINGSERVE_DISABLE: %s %r"
          % (rc, err))
    path = conf("bad.conf", "port = bad\n")
    rc, out, err = run(["--config", path, "--help"])
    check(rc == 0 and "--check-config" in out and "Configuration file:" in out,
          "--help with a broken file: %s %r" % (rc, err))


for fn in (t_serves_from_file, t_port_from_file, t_check_config, t_errors):
    case(fn)
finish()
