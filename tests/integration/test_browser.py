#!/usr/bin/env python3
"""A real browser against ringserve: Debian's chromium, headless, driven
over the DevTools protocol (tests/integration/chromium.py).

Steps: load the listing of a temporary root (title, links, escaped names);
follow links by clicking them (a directory, the parent, a text file, a
file with URL-special characters); download a binary file and compare its
bytes; take a screenshot of the listing into the build dir (MESON_BUILD_ROOT
or /tmp) and check it is a PNG; fetch() across origins from the page to
servers with and without --cors (the browser's own CORS checks); play a
WAV file through an <audio> element on a page served through a small
logging proxy, and check that the media loaded (duration, readyState,
playback) and that the browser's requests for it were Range requests
answered with 206.

Without chromium: exit 77, unless CI=true or RINGSERVE_BROWSER_INSTALL=1
(and we are root), then `apt-get install -y chromium` is tried once."""

import base64
import json
import math
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import wave

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, finish, make_tree
from chromium import Browser, CDPError, chromium_path, run_steps

T_START = time.monotonic()
CHROMIUM = chromium_path()
T_START = time.monotonic()  # the 60 s budget starts once chromium exists


# ------------------------------------------------------------ the site

def make_wav(seconds=6.0, rate=16000):
    """A mono 16-bit sine tone: plays in any <audio> element."""
    import io
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i
                                                    / rate)))
            for i in range(n)))
    return buf.getvalue()


WAV_SECONDS = 6.0
WAV = make_wav(WAV_SECONDS)
BIN = os.urandom(300000)          # > 256K: leaves by splice
SPECIAL = "we ird #?&%<b>.txt"    # URL-special and HTML-special characters
files = {
    "hello.txt": b"hello from ringserve\n",
    "data.bin": BIN,
    "tone.wav": WAV,
    "media.html": (b"<!DOCTYPE html><html><head><meta charset='utf-8'>"
                   b"<title>media</title></head><body>"
                   b"<audio id='a' src='tone.wav' preload='auto' controls>"
                   b"</audio></body></html>\n"),
    "sub/inner.txt": b"inner file\n",
    "caf\u00e9.txt": "caf\u00e9 \u2615\n".encode("utf-8"),
    SPECIAL: b"special name body\n",
}
base, root = make_tree(files)
srv = Server(root)
ORIGIN = "http://127.0.0.1:%d" % srv.port


# ------------------------------------------------------------ logging proxy


def _shut(*socks):
    """Both directions of each socket, ignoring ones already gone."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

class Proxy:
    """Forwards 127.0.0.1:<port> to the server and records every exchange
    as (method, target, range header, status, content-range)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.log = []
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                c.close()
                continue
            pending = []
            threading.Thread(target=self._c2s, args=(c, u, pending),
                             daemon=True).start()
            threading.Thread(target=self._s2c, args=(u, c, pending),
                             daemon=True).start()

    def _c2s(self, c, u, pending):
        buf = b""
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
                while b"\r\n\r\n" in buf:   # requests carry no bodies here
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    parts = lines[0].split(" ")
                    hdrs = {}
                    for ln in lines[1:]:
                        n, _, v = ln.partition(":")
                        hdrs[n.strip().lower()] = v.strip()
                    with self.lock:
                        pending.append([parts[0], parts[1] if len(parts) > 1
                                        else "", hdrs.get("range")])
                u.sendall(d)
        except OSError:
            pass
        _shut(u, c)

    def _s2c(self, u, c, pending):
        buf = b""
        skip_n = 0
        try:
            while True:
                d = u.recv(65536)
                if not d:
                    break
                c.sendall(d)
                buf += d
                while True:
                    if skip_n:
                        take = min(skip_n, len(buf))
                        buf, skip_n = buf[take:], skip_n - take
                        if skip_n:
                            break
                    if b"\r\n\r\n" not in buf:
                        break
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    status = int(lines[0].split(" ")[1])
                    hdrs = {}
                    for ln in lines[1:]:
                        n, _, v = ln.partition(":")
                        hdrs[n.strip().lower()] = v.strip()
                    with self.lock:
                        req = pending.pop(0) if pending else ["?", "?", None]
                        self.log.append((req[0], req[1], req[2], status,
                                         hdrs.get("content-range")))
                    if req[0] != "HEAD" and status not in (204, 304) \
                            and status >= 200:
                        skip_n = int(hdrs.get("content-length", "0"))
        except (OSError, ValueError, IndexError):
            pass
        _shut(u, c)

    def entries(self):
        with self.lock:
            return list(self.log)


# ------------------------------------------------------------ the steps

tmp = tempfile.mkdtemp(prefix="ringserve-browser-", dir=base)
br = Browser(tmp, CHROMIUM)
proxy = Proxy((srv.host, srv.port))


def click(selector_js):
    return br.js("(function(){var a=%s; if(!a) return false; a.click(); "
                 "return true;})()" % selector_js)


def by_href(href):
    return "document.querySelector('a[href=%s]')" % json.dumps(href) \
        .replace("'", "\\'")


def listing_and_links():
    url = ORIGIN + "/"
    check(br.goto(url), "listing %s did not load" % url)
    title = br.js("document.title")
    check(title == "Index of /", "listing title %r" % title)
    hrefs = br.js("Array.from(document.querySelectorAll('a'))"
                  ".map(function(a){return a.href})") or []
    for rel in ("sub/", "hello.txt", "data.bin", "tone.wav",
                "caf%C3%A9.txt"):
        check(ORIGIN + "/" + rel in hrefs,
              "listing: no link resolving to %s/%s (links %r)"
              % (ORIGIN, rel, hrefs))
    texts = br.js("Array.from(document.querySelectorAll('a'))"
                  ".map(function(a){return a.textContent})") or []
    check(SPECIAL in texts, "listing: %r not shown as text (%r)"
          % (SPECIAL, texts))
    check(not br.js("document.querySelector('b')"),
          "listing: a name's <b> became markup")
    # Directory link, then its parent link.
    check(click(by_href("sub/")), "no sub/ link to click")
    ok = br.wait_loaded(ORIGIN + "/sub/")
    check(ok, "clicking sub/ did not load /sub/ (at %r)"
          % br.js("location.href"))
    check(br.js("document.title") == "Index of /sub/",
          "sub listing title %r" % br.js("document.title"))
    check(click(by_href("../")), "no ../ link in /sub/")
    check(br.wait_loaded(ORIGIN + "/"), "clicking ../ did not go back to /")
    # A text file.
    check(click(by_href("hello.txt")), "no hello.txt link")
    check(br.wait_loaded(ORIGIN + "/hello.txt"), "hello.txt did not load")
    body = br.wait_js("document.body && document.body.innerText")
    check(body and body.strip() == "hello from ringserve",
          "hello.txt shows %r" % body)
    # The link of a name full of URL-special characters, found by its text.
    check(br.goto(url), "listing reload failed")
    found = click("Array.from(document.querySelectorAll('a')).filter("
                  "function(a){return a.textContent===%s})[0]"
                  % json.dumps(SPECIAL))
    check(found, "no link with text %r" % SPECIAL)
    if found:
        ok = br.wait_js("document.readyState==='complete' && "
                        "location.pathname!=='/'")
        body = br.wait_js("document.body && document.body.innerText")
        check(body and body.strip() == "special name body",
              "special-name link led to %r showing %r"
              % (br.js("location.href"), body))
    # A UTF-8 name.
    check(br.goto(url), "listing reload failed")
    check(click(by_href("caf%C3%A9.txt")), "no caf%C3%A9.txt link")
    body = br.wait_js("location.pathname==='/caf%C3%A9.txt' && "
                      "document.body && document.body.innerText")
    check(body and body.strip() == "caf\u00e9 \u2615",
          "caf\u00e9.txt shows %r (charset?)" % body)


def download():
    dl = os.path.join(tmp, "downloads")
    os.makedirs(dl)
    br.call("Browser.setDownloadBehavior",
            {"behavior": "allowAndName", "downloadPath": dl,
             "eventsEnabled": True}, session=False)
    check(br.goto(ORIGIN + "/"), "listing did not load for the download")
    check(click(by_href("data.bin")), "no data.bin link")
    begin = br.wait_event(lambda e: e.get("method") ==
                          "Browser.downloadWillBegin", 15)
    if not check(begin, "no download began"):
        return
    guid = begin["params"]["guid"]
    check(begin["params"].get("suggestedFilename") == "data.bin",
          "suggested filename %r" % begin["params"].get("suggestedFilename"))
    done = br.wait_event(lambda e: e.get("method") ==
                         "Browser.downloadProgress" and
                         e["params"].get("guid") == guid and
                         e["params"].get("state") in ("completed",
                                                      "canceled"), 20)
    check(done and done["params"]["state"] == "completed",
          "download did not complete: %r" % (done,))
    path = os.path.join(dl, guid)
    data = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    check(data == BIN, "downloaded %d bytes, differ from data.bin (%d)"
          % (len(data), len(BIN)))


def screenshot():
    check(br.goto(ORIGIN + "/"), "listing did not load for the screenshot")
    shot = br.call("Page.captureScreenshot", {"format": "png"}, timeout=20)
    png = base64.b64decode(shot.get("data", ""))
    out_dir = os.environ.get("MESON_BUILD_ROOT") or "/tmp"
    out = os.path.join(out_dir, "ringserve-listing.png")
    with open(out, "wb") as f:
        f.write(png)
    print("screenshot: %s (%d bytes)" % (out, len(png)))
    ok = png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    check(ok, "screenshot is not a PNG: %r" % png[:16])
    if ok:
        w, h = struct.unpack(">II", png[16:24])
        check(w >= 100 and h >= 100, "screenshot %dx%d" % (w, h))
        check(png[-8:-4] == b"IEND", "screenshot PNG is truncated")


def media():
    url = "http://127.0.0.1:%d/media.html" % proxy.port
    check(br.goto(url), "media page did not load through the proxy")
    st = br.wait_js("(function(){var a=document.getElementById('a');"
                    "if(a.error) return 'error '+a.error.code;"
                    "return a.readyState>=2 && isFinite(a.duration) ? "
                    "a.duration : 0})()", 20)
    check(isinstance(st, (int, float)) and
          abs(st - WAV_SECONDS) < 0.1,
          "audio did not load: duration/readyState gave %r" % (st,))
    # Play a moment: currentTime must advance.
    try:
        br.js("document.getElementById('a').play()", await_promise=True,
              timeout=10)
        t = br.wait_js("document.getElementById('a').currentTime > 0.2 && "
                       "document.getElementById('a').currentTime", 8)
        check(t, "audio currentTime did not advance while playing")
        br.js("document.getElementById('a').pause()")
    except CDPError as e:
        check(False, "audio play() failed: %s" % e)
    # Seek near the end: may need bytes not yet fetched.
    br.js("document.getElementById('a').currentTime = %g" %
          (WAV_SECONDS - 0.5))
    br.wait_js("!document.getElementById('a').seeking", 5)
    log = [e for e in proxy.entries() if e[1].split("?")[0] == "/tone.wav"]
    print("media requests: %r" % log)
    check(log, "the proxy saw no request for tone.wav")
    ranged = [e for e in log if e[2]]
    check(ranged, "no Range request for tone.wav: %r" % log)
    check(any(e[3] == 206 and e[4] and e[4].endswith("/%d" % len(WAV))
              for e in ranged),
          "no 206 with Content-Range .../%d for tone.wav: %r"
          % (len(WAV), log))
    check(all(e[3] in (200, 206) for e in log),
          "tone.wav request failed: %r" % log)


def cors():
    """fetch() from this origin to other ringserve instances: one that
    allows it (--cors=ORIGIN), one that allows another origin, one without
    --cors. The browser's own CORS checks decide what the page may read:
    a simple GET, a preflighted conditional range request, a 404; and what
    it may not: the other servers, a header the preflight does not allow."""
    allowed = Server(root, extra=["--cors=" + ORIGIN], threads=1)
    other = Server(root, extra=["--cors=https://elsewhere.example"], threads=1)
    plain = Server(root, threads=1)
    check(br.goto(ORIGIN + "/hello.txt"), "page for the fetches did not load")
    base_url = "http://127.0.0.1:%d/hello.txt"
    script = """(async () => {
      const out = {};
      async function f(name, url, opts) {
        try {
          const r = await fetch(url, Object.assign({cache: 'no-store'}, opts));
          out[name] = {status: r.status, body: await r.text(),
                       cr: r.headers.get('content-range'), etag: r.headers.get('etag')};
        } catch (e) { out[name] = 'error ' + e.name; }
      }
      await f('simple', %s, {});
      await f('preflighted', %s, {headers: {'If-None-Match': '"x"', 'Range': 'bytes=0-4'}});
      await f('missing', %s, {});
      await f('custom', %s, {headers: {'X-Custom': '1'}});
      await f('other', %s, {});
      await f('plain', %s, {});
      return JSON.stringify(out);
    })()""" % tuple(json.dumps(u) for u in (
        base_url % allowed.port, base_url % allowed.port,
        (base_url % allowed.port).replace("hello", "missing"), base_url % allowed.port,
        base_url % other.port, base_url % plain.port))
    got = json.loads(br.js(script, await_promise=True, timeout=20) or "{}")
    print("cors fetches: %r" % got)
    simple = got.get("simple") or {}
    check(isinstance(simple, dict) and simple.get("status") == 200 and
          simple.get("body") == "hello from ringserve\n" and simple.get("etag"),
          "allowed simple fetch: %r" % simple)
    pre = got.get("preflighted") or {}
    check(isinstance(pre, dict) and pre.get("status") == 206 and pre.get("body") == "hello" and
          pre.get("cr") == "bytes 0-4/21", "allowed preflighted range fetch: %r" % pre)
    miss = got.get("missing") or {}
    check(isinstance(miss, dict) and miss.get("status") == 404, "404 readable: %r" % miss)
    for name in ("custom", "other", "plain"):
        check(got.get(name) == "error TypeError", "%s fetch must fail: %r" % (name, got.get(name)))
    for s in (allowed, other, plain):
        s.stop()


run_steps(br, (listing_and_links, download, screenshot, cors, media), T_START, "browser test")
finish()
