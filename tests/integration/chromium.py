"""Headless Chromium for the browser tests: find (or, in CI, install)
Debian's chromium, and drive it over the DevTools protocol on a pipe
(--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-separated JSON; Python
stdlib only). Without chromium a test calling chromium_path() exits 77,
unless CI=true or RINGSERVE_BROWSER_INSTALL=1 (and we are root), then
`apt-get install -y chromium` is tried once."""

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

from harness import case, check, skip

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium():
    for n in NAMES:
        p = shutil.which(n)
        if p:
            return p
    return None


def install_chromium():
    want = os.environ.get("CI", "").lower() == "true" or \
        os.environ.get("RINGSERVE_BROWSER_INSTALL", "") == "1"
    if not want:
        skip("chromium not installed (set RINGSERVE_BROWSER_INSTALL=1 or "
             "CI=true to let this test apt-get install it)")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        skip("chromium not installed and cannot be installed here "
             "(not root or no apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("chromium missing: apt-get install -y chromium (may take minutes)",
          flush=True)
    cmd = "apt-get install -y -qq chromium || " \
          "(apt-get update -qq && apt-get install -y -qq chromium)"
    try:
        subprocess.run(["sh", "-c", cmd], env=env, timeout=900,
                       stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pass
    p = find_chromium()
    if not p:
        skip("chromium could not be installed")
    return p


def chromium_path():
    return find_chromium() or install_chromium()


# ------------------------------------------------------------ DevTools

class CDPError(Exception):
    pass


class Browser:
    def __init__(self, tmp, chromium, env=None, args=()):
        # env: the browser's environment (HOME decides which NSS database
        # it trusts, $HOME/.pki/nssdb); args: more command-line switches.
        self.tmp = tmp
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        # Out of the way of 3 and 4 before the child's dup2s.
        hi = []
        for fd in (to_chrome_r, from_chrome_w):
            h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            hi.append(h)
        a, b = hi

        def child_fds():
            os.dup2(a, 3)   # dup2 leaves the copies inheritable
            os.dup2(b, 4)

        self.errpath = os.path.join(tmp, "chromium.stderr")
        err = open(self.errpath, "wb")
        argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-dev-shm-usage",
                "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                "--window-size=1200,900",
                "--user-data-dir=" + os.path.join(tmp, "profile")] + \
            list(args) + ["--remote-debugging-pipe", "about:blank"]
        # Every fd Python opens is close-on-exec, so only 0-4 are passed.
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err,
                                     preexec_fn=child_fds, close_fds=False,
                                     start_new_session=True, env=env)
        err.close()
        os.close(a)
        os.close(b)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def stderr_tail(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("Browser.close", session=False)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, 9)
                except OSError:
                    pass
                self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        sid = self.session if session is None else session
        if sid:
            msg["sessionId"] = sid
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]
        return self.next_id

    def _pump(self, timeout):
        """Read what is available (waiting up to timeout); queue events,
        return responses keyed by id."""
        r, _, _ = select.select([self._r], [], [], max(0, timeout))
        out = {}
        if not r:
            return out
        chunk = os.read(self._r, 1 << 20)
        if not chunk:
            raise CDPError("chromium closed the DevTools pipe; stderr:\n"
                           + self.stderr_tail())
        self.buf += chunk
        while b"\0" in self.buf:
            raw, self.buf = self.buf.split(b"\0", 1)
            msg = json.loads(raw)
            if "id" in msg:
                out[msg["id"]] = msg
            else:
                self.events.append(msg)
        return out

    def call(self, method, params=None, session=None, timeout=10.0):
        mid = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            got = self._pump(deadline - time.monotonic())
            if mid in got:
                if "error" in got[mid]:
                    raise CDPError("%s: %r" % (method, got[mid]["error"]))
                return got[mid].get("result", {})
            if time.monotonic() > deadline:
                raise CDPError("%s: no answer in %gs" % (method, timeout))

    def wait_event(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if pred(e):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._pump(min(left, 0.2))

    def js(self, expr, await_promise=False, timeout=10.0):
        res = self.call("Runtime.evaluate",
                        {"expression": expr, "returnByValue": True,
                         "awaitPromise": await_promise}, timeout=timeout)
        if "exceptionDetails" in res:
            raise CDPError("JS %r threw %r" % (expr, res["exceptionDetails"]))
        return res.get("result", {}).get("value")

    def wait_js(self, expr, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.js(expr)
                if last:
                    return last
            except CDPError:
                pass  # navigation in progress: the context went away
            self._pump(0.1)
        return last

    def goto(self, url, timeout=10.0):
        self.call("Page.navigate", {"url": url})
        return self.wait_loaded(url, timeout)

    def wait_loaded(self, url, timeout=10.0):
        return self.wait_js("location.href === %s && document.readyState "
                            "=== 'complete'" % json.dumps(url), timeout)

    def attach_page(self):
        """A new tab, attached with Page and Runtime events on."""
        v = self.call("Browser.getVersion", session=False, timeout=20)
        print("browser: %s" % v.get("product"))
        t = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        a = self.call("Target.attachToTarget", {"targetId": t["targetId"],
                                                "flatten": True}, session=False)
        self.session = a["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")


def run_steps(br, steps, t_start, name, budget=60):
    """Attach a page, run each step as a case within `budget` seconds of
    t_start, close the browser."""
    try:
        for fn in [br.attach_page] + list(steps):
            if time.monotonic() - t_start > budget - 5:
                check(False, "time budget (%d s) used up before %s" % (budget, fn.__name__))
                break
            case(fn)
    finally:
        br.close()
    elapsed = time.monotonic() - t_start
    print("%s took %.1f s" % (name, elapsed))
    check(elapsed < budget, "%s took %.1f s (budget %d s)" % (name, elapsed, budget))
