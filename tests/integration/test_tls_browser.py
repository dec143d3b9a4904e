#!/usr/bin/env python3
"""A real browser over HTTPS (issue #11): Debian's chromium, headless,
driven over the DevTools protocol (chromium.py), trusting the test CA
through an NSS database made with `certutil` (libnss3-tools) in a HOME of
its own: Chromium on Linux reads $HOME/.pki/nssdb. No
--ignore-certificate-errors: the trust comes from that database only.

Steps: a server whose certificate comes from a CA not in the database is
refused (so the checks below could not pass by accident); the listing of
https://localhost:PORT/ loads with location.protocol 'https:' and its
links; a link is followed; a 60 s WAV (made here: Chromium plays WAV in a
<video> element, as it does for a .wav opened on its own) is loaded with
preload=metadata, seeked near its end and played: the duration is right,
playback goes on after the seek, the server's json access log shows the
media requests answered 206 (or 304 when the browser's cache
revalidates), one of them for the range the seek asked for (fewer bytes
than the file; its Content-Range, seen in the DevTools network events,
starts past the middle)."""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, finish, make_tree
from chromium import Browser, CDPError, chromium_path, run_steps
from tlscerts import CA, TLSServer, need_tool

CHROMIUM = chromium_path()
CERTUTIL = need_tool("certutil", "libnss3-tools")
T_START = time.monotonic()


def make_wav(seconds, rate=44100, channels=2):
    """A 441 Hz tone, 16-bit: 100 frames a period, so one period is made
    and repeated (a 10 MiB file in no time)."""
    period = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * i / 100))) * channels
                      for i in range(100))
    data = period * int(seconds * rate / 100)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" +
            b"fmt " + struct.pack("<I", len(fmt)) + fmt +
            b"data" + struct.pack("<I", len(data)) + data)


WAV_SECONDS = 60.0
WAV = make_wav(WAV_SECONDS)
files = {
    "hello.txt": b"hello over https\n",
    "tone.wav": WAV,
    "media.html": (b"<!DOCTYPE html><html><head><meta charset='utf-8'>"
                   b"<title>media</title></head><body>"
                   b"<video id='v' src='tone.wav' preload='metadata' controls>"
                   b"</video></body></html>\n"),
    "sub/inner.txt": b"inner\n",
}
base, root = make_tree(files)
tmp = tempfile.mkdtemp(prefix="ringserve-tlsbrowser-", dir=base)

ca = CA()
PAIR = ca.cert("localhost")
other_ca = CA("not-trusted-CA")
OTHER = other_ca.cert("other")


def nssdb(home):
    """$HOME/.pki/nssdb with the test CA trusted for TLS servers."""
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    for cmd in ([CERTUTIL, "-d", "sql:" + db, "-N", "--empty-password"],
                [CERTUTIL, "-d", "sql:" + db, "-A", "-n", "test-ca", "-t", "C,,", "-i", ca.crt]):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           stdin=subprocess.DEVNULL)
        if r.returncode:
            raise RuntimeError("%s: %s" % (cmd, r.stdout.decode(errors="replace")))
    r = subprocess.run([CERTUTIL, "-d", "sql:" + db, "-L"], stdout=subprocess.PIPE, timeout=30)
    check(b"test-ca" in r.stdout, "certutil -L does not list the CA: %r" % r.stdout)


home = os.path.join(tmp, "home")
nssdb(home)
LOG = os.path.join(base, "access.json")
srv = TLSServer(root, [PAIR], extra=["--access-log", LOG, "--log-format", "json"])
untrusted = TLSServer(root, [OTHER], threads=1)
ORIGIN = "https://localhost:%d" % srv.tport
# localhost to 127.0.0.1 only: the servers do not listen on ::1.
br = Browser(tmp, CHROMIUM, env=dict(os.environ, HOME=home),
             args=["--host-resolver-rules=MAP localhost 127.0.0.1"])


def untrusted_refused():
    url = "https://localhost:%d/hello.txt" % untrusted.tport
    br.call("Page.navigate", {"url": url})
    # The interstitial is chrome-error://chromewebdata/.
    href = br.wait_js("(location.href.indexOf('chrome-error:') === 0 || (location.href === %s "
                      "&& document.readyState === 'complete')) && location.href"
                      % json.dumps(url), 10)
    check(href and href != url, "a certificate from an untrusted CA was accepted (%r)" % href)


def listing():
    url = ORIGIN + "/"
    check(br.goto(url, 15), "listing %s did not load (at %r)" % (url, br.js("location.href")))
    check(br.js("location.protocol") == "https:", "protocol %r" % br.js("location.protocol"))
    check(br.js("document.title") == "Index of /", "listing title %r" % br.js("document.title"))
    hrefs = br.js("Array.from(document.querySelectorAll('a')).map(function(a){return a.href})")
    for rel in ("hello.txt", "tone.wav", "media.html", "sub/"):
        check(hrefs and ORIGIN + "/" + rel in hrefs, "no link to %s in %r" % (rel, hrefs))
    check(br.js("(function(){var a=document.querySelector('a[href=\"sub/\"]');"
                "if(!a) return false; a.click(); return true})()"), "no sub/ link")
    check(br.wait_loaded(ORIGIN + "/sub/"), "clicking sub/ did not load it")
    check(br.js("document.title") == "Index of /sub/", "sub title %r" % br.js("document.title"))


V = "document.getElementById('v')"


def log_entries(path):
    out = []
    if os.path.exists(LOG):
        with open(LOG) as f:
            for ln in f:
                e = json.loads(ln)
                if e["request"].split(" ")[1] == path:
                    out.append(e)
    return out


def media():
    br.call("Network.enable")
    check(br.goto(ORIGIN + "/media.html", 15), "media page did not load")
    d = br.wait_js("(function(){var v=%s; if(v.error) return 'error '+v.error.code;"
                   "return v.readyState>=1 && isFinite(v.duration) ? v.duration : 0})()" % V, 20)
    check(isinstance(d, (int, float)) and abs(d - WAV_SECONDS) < 0.1,
          "media did not load in <video>: duration/readyState gave %r" % (d,))
    # Near the end: bytes preload=metadata did not fetch.
    target = WAV_SECONDS - 3
    br.js("%s.currentTime = %g" % (V, target))
    ok = br.wait_js("!%s.seeking && %s.readyState>=2" % (V, V), 15)
    check(ok, "seek did not finish (readyState %r)" % br.js("%s.readyState" % V))
    try:
        br.js("%s.play()" % V, await_promise=True, timeout=10)
        t = br.wait_js("%s.currentTime > %g && %s.currentTime" % (V, target + 0.3, V), 8)
        check(t, "playback did not go on after the seek (at %r)" % br.js("%s.currentTime" % V))
        br.js("%s.pause()" % V)
    except CDPError as e:
        check(False, "play() failed: %s" % e)
    # What the browser saw: 206s, one starting where the seek is.
    seen = []
    for e in br.events:
        if e.get("method") == "Network.responseReceived":
            r = e["params"]["response"]
            if r["url"].startswith(ORIGIN + "/tone.wav"):
                hdrs = {k.lower(): v for k, v in r.get("headers", {}).items()}
                seen.append((r["status"], hdrs.get("content-range")))
    print("media responses seen by the browser: %r" % seen)
    starts = [int(cr.split(" ")[1].split("-")[0]) for st, cr in seen
              if st == 206 and cr and cr.startswith("bytes ") and
              cr.endswith("/%d" % len(WAV))]
    check(any(s > len(WAV) // 2 for s in starts),
          "no 206 for the seek's range (Content-Range start past the middle): %r" % seen)
    # What the server logged (lines are written at the 250 ms tick; the
    # seek's request ends with the file, so it is there soon).
    deadline = time.monotonic() + 3
    while True:
        log = log_entries("/tone.wav")
        if sum(1 for e in log if e["status"] == 206 and e["bytes"] < len(WAV) // 2) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print("access log for /tone.wav: %r" % [(e["status"], e["bytes"]) for e in log])
    # 304: the browser revalidating what its media cache holds.
    check(log and all(e["status"] in (200, 206, 304) for e in log), "tone.wav requests: %r"
          % [(e["status"], e["bytes"]) for e in log])
    check(any(e["status"] == 206 and e["bytes"] < len(WAV) // 2 for e in log),
          "no 206 for a range near the end in the access log: %r"
          % [(e["status"], e["bytes"]) for e in log])
    check(all(e.get("tls") and e["tls"]["version"].startswith("TLSv1.") for e in log),
          "access log entries without TLS: %r" % log)


run_steps(br, [untrusted_refused, listing, media], T_START, "the HTTPS browser steps")
finish()
