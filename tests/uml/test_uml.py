#!/usr/bin/env python3
"""The uml suite: the core integration checks on Debian's 6.1 kernel.

Boots user-mode-linux (linux.uml, Debian's 6.1 kernel built as a program)
with the host's root over hostfs and an ext4 image as /dev/ubda, and runs
guest.py inside it as part of PID 1 against $RINGSERVE (the release build
under ./run test). The guest writes one line per check to a result file in
this test's private temporary directory (over hostfs) and prints a marker
line on the console; this side reads both.

Exit 77 (skip) where linux.uml, mkfs.ext4 or the launcher is missing, on a
host that is not x86-64, for an AddressSanitizer build (it cannot map its
shadow under UML; a UBSan-only build runs), or when the guest never starts; 1 when a check
fails, the guest ends without a result, or the run passes its timeout
(UML_TIMEOUT seconds, default 150; the whole run takes 20-60 s).
UML_ONLY=name,... runs only those checks of guest.py.
"""
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
START = "UML-GUEST-START"
RESULT = "UML-RESULT"
IMAGE_MIB = 160

# Inside the guest: no AVX from glibc or OpenSSL (uml_launch.c says why).
GLIBC_TUNABLES = ("glibc.cpu.hwcaps=-AVX,-AVX2,-AVX_Fast_Unaligned_Load,-AVX512F,"
                  "-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-ERMS,-FSRM")
OPENSSL_IA32CAP = "~0x1800000000000000:0"   # no OSXSAVE, no AVX; no leaf-7 features

INIT = """#!/bin/sh
# PID 1 of the guest: written by test_uml.py, runs guest.py, powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME={tmp}
export GLIBC_TUNABLES={tunables} OPENSSL_ia32cap='{ia32cap}'
export TMPDIR={tmp}/scratch RINGSERVE={ringserve} PYTHONDONTWRITEBYTECODE=1 UML_ONLY='{only}'
export UBSAN_OPTIONS='{ubsan}'
echo {start} "$(uname -r)"
mount -t proc proc /proc
# Private scratch space: the root is the host's, read-write.
mount -t tmpfs -o size=256m tmpfs {tmp}/scratch
mount -t ext4 /dev/ubda {tmp}/ext4 || echo "guest: mounting the ext4 image failed"
ip link set lo up
python3 {guest} {tmp}/result {tmp}/ext4
echo {result} rc=$?
umount {tmp}/ext4 2>/dev/null
sync
poweroff -f
"""


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(SKIP)


def asan_linked(binary):
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in p.stdout


def find_uml():
    for p in (os.environ.get("LINUX_UML"), shutil.which("linux.uml"), "/usr/bin/linux.uml"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def main():
    if platform.machine() != "x86_64":
        skip("user-mode-linux runs here only on x86-64 hosts")
    uml = find_uml()
    if not uml:
        skip("linux.uml not installed (apt-get install user-mode-linux)")
    launch = os.environ.get("UML_LAUNCH", "")
    if not os.access(launch, os.X_OK):
        skip("UML_LAUNCH (the uml_launch helper) not built: %r" % launch)
    if not shutil.which("mkfs.ext4"):
        skip("mkfs.ext4 not installed (e2fsprogs)")
    ringserve = os.path.abspath(os.environ.get("RINGSERVE") or
                                os.path.join(HERE, "..", "..", "build", "server", "ringserve"))
    if not os.access(ringserve, os.X_OK):
        print("FAIL: server binary not found: %s" % ringserve)
        return 1
    if asan_linked(ringserve):
        # UML maps the guest's programs where ASan wants its shadow
        # ("Shadow memory range interleaves with an existing memory
        # mapping"): no AddressSanitizer binary starts in the guest.
        skip("%s is built with AddressSanitizer, which cannot run under UML" % ringserve)
    timeout = float(os.environ.get("UML_TIMEOUT", "150"))

    tmp = tempfile.mkdtemp(prefix="ringserve-uml-")
    try:
        return boot(uml, launch, ringserve, tmp, timeout)
    finally:
        shutil.rmtree(tmp, True)


def boot(uml, launch, ringserve, tmp, timeout):
    for d in ("scratch", "ext4", "uml"):
        os.mkdir(os.path.join(tmp, d))
    image = os.path.join(tmp, "disk.img")
    with open(image, "wb") as f:
        f.truncate(IMAGE_MIB << 20)
    p = subprocess.run(["mkfs.ext4", "-q", "-F", image], capture_output=True, text=True)
    if p.returncode != 0:
        skip("mkfs.ext4 failed: %s" % p.stderr.strip())
    init = os.path.join(tmp, "init.sh")
    with open(init, "w") as f:
        f.write(INIT.format(tmp=tmp, tunables=GLIBC_TUNABLES, ia32cap=OPENSSL_IA32CAP,
                            ringserve=ringserve, start=START, result=RESULT,
                            only=re.sub(r"[^a-z0-9_,-]", "", os.environ.get("UML_ONLY", "")),
                            ubsan=re.sub(r"[^A-Za-z0-9_=:,./-]", "",
                                         os.environ.get("UBSAN_OPTIONS", "")),
                            guest=os.path.join(HERE, "guest.py")))
    os.chmod(init, 0o755)
    argv = [launch, uml, "mem=768M", "rootfstype=hostfs", "rootflags=/", "rw",
            "init=" + init, "con=null", "con0=fd:0,fd:1", "ubd0=" + image,
            "umid=ringserve-%d" % os.getpid(), "uml_dir=" + os.path.join(tmp, "uml")]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)   # UML's helper processes are in its group
        out, _ = proc.communicate()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    took = time.monotonic() - t0
    console = out.decode("utf-8", "replace")
    if START not in console:
        print(console[-3000:])
        skip("linux.uml did not start a guest (status %s after %.0f s)"
             % (proc.returncode, took))
    # The guest's part of the console, for the test log.
    print(console[console.index(START):])
    res = os.path.join(tmp, "result")
    lines = open(res).read().splitlines() if os.path.exists(res) else []
    fails = [ln for ln in lines if ln.startswith("FAIL")]
    done = [ln for ln in lines if ln.startswith("DONE")]
    print("uml: %d checks passed, %d failed, %.0f s" %
          (sum(ln.startswith("PASS") for ln in lines), len(fails), took))
    if timed_out:
        print("FAIL: the UML run passed its %g s timeout" % timeout)
        return 1
    for ln in fails:
        print(ln)
    if not done or (not fails and ("%s rc=0" % RESULT) not in console):
        print("FAIL: the guest ended without a complete result (%s)" % (done or "no DONE line"))
        return 1
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
