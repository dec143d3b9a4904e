"""Operating ringserve: privilege drop, installation, man page, unit.

- --user nobody (as root): every thread runs as nobody afterwards, files
  only root may read get 403, others are served; --sqpoll with --user is a
  usage error.
- `meson install --destdir` puts the binary, ringserve.1,
  ringserve.service, ringserve.socket beside it, the config file, the
  example config and the logrotate example where they belong; the man page
  renders without warnings and lists every option of --help, the config
  file syntax and the environment; the unit's ExecStart is the installed
  binary reading the installed config file, which --check-config accepts;
  the example lists every option and, every setting uncommented, is
  accepted too; systemd-analyze verifies the units where it exists.
- The installed logrotate snippet, pointed at a temporary log directory
  and the test server's pid, rotates the live access log: lines before the
  rotation are in access.log.1, lines after it in a new access.log.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, binary, case, check, finish, get,  # noqa: E402
                     make_tree)


def t_user():
    if os.geteuid() != 0:
        print("SKIP (user): not root")
        return
    _, root = make_tree({"open.txt": b"for all", "secret.txt": b"root only"})
    os.chmod(root, 0o755)
    os.chmod(os.path.dirname(root), 0o755)
    os.chmod(os.path.join(root, "secret.txt"), 0o600)
    srv = Server(root, extra=["--user", "nobody"])
    uids = set()
    for tid in os.listdir("/proc/%d/task" % srv.pid):
        with open("/proc/%d/task/%s/status" % (srv.pid, tid)) as f:
            for line in f:
                if line.startswith("Uid:"):
                    uids.add(tuple(line.split()[1:]))
    nobody = str(__import__("pwd").getpwnam("nobody").pw_uid)
    check(uids == {(nobody,) * 4}, "every thread runs as nobody: %s" % uids)
    r = get(srv, "/open.txt")
    check(r.status == 200 and r.body == b"for all", "readable file served: %r" % r)
    r = get(srv, "/secret.txt")
    check(r.status == 403, "root-only file refused after the drop: %r" % r)
    srv.stop()
    p = subprocess.run([binary(), "--user", "nobody", "--sqpoll", root],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "--sqpoll" in p.stderr, "--sqpoll with --user refused: %r" % p.stderr)
    p = subprocess.run([binary(), "--user", "no-such-user-here", "-p", "0", root],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 1 and "no such user" in p.stderr, "unknown user: %r" % p.stderr)


def t_install():
    builddir = os.path.dirname(os.path.dirname(os.path.abspath(binary())))
    if not os.path.exists(os.path.join(builddir, "meson-private")) or not shutil.which("meson"):
        print("SKIP (install): no meson build dir at %s" % builddir)
        return
    dest = tempfile.mkdtemp(prefix="ringserve-dest-")
    try:
        p = subprocess.run(["meson", "install", "-C", builddir, "--no-rebuild",
                            "--destdir", dest], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "meson install: %s" % p.stderr[-500:])
        files = {}
        for d, _, names in os.walk(dest):
            for n in names:
                files[n] = os.path.join(d, n)
        for n in ("ringserve", "ringserve.1", "ringserve.service", "ringserve.socket",
                  "ringserve.logrotate",
                  "ringserve.conf", "ringserve.conf.example"):
            check(n in files, "%s installed (got %s)" % (n, sorted(files)))
        if "ringserve.conf" in files:
            check(files["ringserve.conf"].endswith("/etc/ringserve/ringserve.conf"),
                  "config under etc/ringserve: %s" % files["ringserve.conf"])
            config_file(files["ringserve.conf"])
        if "ringserve.conf.example" in files:
            check(files["ringserve.conf.example"].endswith(
                "/share/doc/ringserve/examples/ringserve.conf.example"),
                "example config under share/doc: %s" % files["ringserve.conf.example"])
            example_config(files["ringserve.conf.example"])
        if "ringserve.socket" in files and "ringserve.service" in files:
            socket_unit(files["ringserve.socket"], files["ringserve.service"])
        if "ringserve.logrotate" in files:
            check(files["ringserve.logrotate"].endswith("/share/doc/ringserve/examples/ringserve.logrotate"),
                  "logrotate example under share/doc: %s" % files["ringserve.logrotate"])
            logrotate(files["ringserve.logrotate"])
        if "ringserve.1" in files:
            check(files["ringserve.1"].endswith("/man/man1/ringserve.1"), "man page in man1")
            man_page(files["ringserve.1"])
        if "ringserve.service" in files and "ringserve" in files and "ringserve.conf" in files:
            unit(files["ringserve.service"], files["ringserve"][len(dest):],
                 files["ringserve.conf"][len(dest):], dest)
    finally:
        shutil.rmtree(dest, True)


def check_config(path, *args):
    """--check-config on path with ROOT given on the command line (the
    file's /srv/www need not exist here): (status, stdout, stderr)."""
    _, root = make_tree({})
    p = subprocess.run([binary(), "--config", path, "--check-config"] + list(args) + [root],
                       capture_output=True, text=True, timeout=10)
    return p.returncode, p.stdout, p.stderr


def config_file(path):
    text = open(path).read()
    rc, out, err = check_config(path)
    check(rc == 0 and not err, "installed config accepted: %s %r" % (rc, err))
    lines = out.splitlines()
    for want in ("port = 80", "access-log = /var/log/ringserve/access.log"):
        check(want in lines, "installed config sets %r: %s" % (want, out[:600]))
    check(re.search(r"(?m)^root = /srv/www$", text), "installed config serves /srv/www")


def example_config(path):
    text = open(path).read()
    helped = subprocess.run([binary(), "--help"], capture_output=True, text=True).stdout
    names = set(re.findall(r"(?m)^  (?:-\S, |    )--([a-z0-9-]+)", helped))
    listed = set(re.findall(r"(?m)^#([a-z0-9-]+) = ", text))
    want = names - {"help", "version", "config", "check-config"}
    check(listed == want, "example lists every option: missing %s, extra %s"
          % (sorted(want - listed), sorted(listed - want)))
    on = os.path.join(os.path.dirname(path), "all-on.conf")
    with open(on, "w") as f:
        f.write(re.sub(r"(?m)^#([a-z])", r"\1", text))
    rc, out, err = check_config(on)
    check(rc == 0 and not err, "the example, every setting on, accepted: %s %r" % (rc, err))
    os.unlink(on)


def logrotate(snippet):
    if not shutil.which("logrotate"):
        print("SKIP (logrotate): not installed")
        return
    text = open(snippet).read()
    check("/var/log/ringserve/*.log {" in text and "postrotate" in text, "snippet shape")
    base, root = make_tree({"f.txt": b"rotate me"})
    logdir = os.path.join(base, "logs")
    os.mkdir(logdir, 0o700)
    log = os.path.join(logdir, "access.log")
    srv = Server(root, extra=["--access-log", log])
    get(srv, "/f.txt?before")
    time.sleep(0.4)  # the 250 ms tick writes the batch
    conf = os.path.join(base, "rotate.conf")
    text = text.replace("/var/log/ringserve/*.log", logdir + "/*.log")
    text = re.sub(r"(?m)^(\s*)systemctl kill .*$", r"\1kill -HUP %d" % srv.pid, text)
    with open(conf, "w") as f:
        f.write(text)
    os.chmod(conf, 0o644)
    p = subprocess.run(["logrotate", "-f", "-s", os.path.join(base, "state"), conf],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "logrotate: %s" % p.stderr[-500:])
    time.sleep(0.6)  # the workers move to the new file at their next tick
    get(srv, "/f.txt?after")
    srv.stop()
    old = open(log + ".1").read() if os.path.exists(log + ".1") else ""
    new = open(log).read() if os.path.exists(log) else ""
    check("?before" in old and "?after" not in old, "rotated file holds the old lines: %r" % old)
    check("?after" in new and "?before" not in new, "new file holds the new lines: %r" % new)
    shutil.rmtree(base, True)


def man_page(path):
    text = open(path).read()
    helped = subprocess.run([binary(), "--help"], capture_output=True, text=True).stdout
    for opt in set(re.findall(r"--[a-z][a-z-]+", helped)):
        check(opt.replace("-", "\\-") in text, "man page lists %s" % opt)
    for sect in ("SIGNALS", "EXIT STATUS", "EXAMPLES", "ACCESS LOG", "METRICS", "SECURITY",
                 "CONFIGURATION FILE", "ENVIRONMENT"):
        check(".SH %s" % sect in text, "man page has %s" % sect)
    if not shutil.which("man"):
        print("SKIP (man render): no man")
        return
    p = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
    check(p.returncode == 0 and not p.stderr.strip(), "man renders cleanly: %r" % p.stderr[:300])
    check("--max-connections" in p.stdout, "rendered page shows the options")
    check("SIGHUP" in p.stdout and "ringserve_requests_total" in p.stdout,
          "rendered page documents rotation and metrics")
    check("RINGSERVE_DISABLE" in p.stdout and "--check-config prints" in p.stdout,
          "rendered page documents the config file and RINGSERVE_DISABLE")


def unit(path, installed_bin, installed_conf, dest):
    text = open(path).read()
    m = re.search(r"^ExecStart=(\S+) --config (\S+)$", text, re.M)
    check(m and m.group(1) == installed_bin, "ExecStart is the installed binary: %s vs %s"
          % (m and m.group(1), installed_bin))
    check(m and m.group(2) == installed_conf, "ExecStart reads the installed config: %s vs %s"
          % (m and m.group(2), installed_conf))
    for key in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                "LimitNOFILE=", "LimitMEMLOCK=", "ReadOnlyPaths=/srv/www", "Restart=on-failure",
                "RestartPreventExitStatus=2", "LogsDirectory=ringserve",
                "ExecReload=/bin/kill -HUP $MAINPID"):
        check(key in text, "unit has %s" % key)
    if not shutil.which("systemd-analyze"):
        print("SKIP (unit verify): no systemd-analyze")
        return
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True,
                       timeout=60)
    errors = [ln for ln in p.stderr.splitlines() if "ringserve" in ln and "not executable" not in ln]
    check(not errors, "systemd-analyze verify: %s" % errors)


def socket_unit(path, service):
    check(os.path.dirname(path) == os.path.dirname(service),
          "ringserve.socket next to ringserve.service: %s" % path)
    text = open(path).read()
    for key in ("ListenStream=80", "NoDelay=true", "FileDescriptorName=", "BindIPv6Only=both",
                "WantedBy=sockets.target"):
        check(key in text, "socket unit has %s" % key)
    if not shutil.which("systemd-analyze"):
        print("SKIP (socket unit verify): no systemd-analyze")
        return
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", path, service],
                       capture_output=True, text=True, timeout=60)
    errors = [ln for ln in p.stderr.splitlines() if "ringserve" in ln and "not executable" not in ln]
    check(not errors, "systemd-analyze verify of the socket unit: %s" % errors)


for fn in (t_user, t_install):
    case(fn)
finish()
