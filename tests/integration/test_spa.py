#!/usr/bin/env python3
"""A single-page app in headless Chromium (tests/integration/chromium.py).

The site server runs with `--fallback /index.html`. The browser opens a
deep link that is no file (/projects/42/settings): the fallback answers
it with the app's shell, whose script and stylesheet come from their own
paths (the script renders the route, the stylesheet colours it). The
script then fetch()es JSON from two other servers on other ports (other
origins): one started with `--cors=<the site's origin>` must be readable,
one without --cors must be refused by the browser. A missing /app.js is
still a 404 (no fallback for names with an extension)."""

import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, finish, get, make_tree
from chromium import Browser, chromium_path, run_steps

CHROMIUM = chromium_path()
T_START = time.monotonic()

SHELL = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>spa</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body><div id="route">loading</div>
<script src="/assets/app.js"></script></body></html>
"""
SCRIPT = b"""
document.getElementById('route').textContent = location.pathname;
window.apiResults = {};
function probe(name, url) {
  fetch(url).then(function (r) { return r.json(); })
    .then(function (j) { window.apiResults[name] = 'ok:' + j.answer; })
    .catch(function (e) { window.apiResults[name] = 'refused:' + e.name; });
}
probe('cors', window.API_CORS);
probe('plain', window.API_PLAIN);
"""
STYLE = b"#route { color: rgb(1, 2, 3); }\n"

base, root = make_tree({"index.html": SHELL, "assets/app.js": SCRIPT,
                        "assets/app.css": STYLE})
site = Server(root, ["--fallback", "/index.html"])
ORIGIN = "http://127.0.0.1:%d" % site.port
_, api_root = make_tree({"data.json": b'{"answer": 42}\n'},
                        base=tempfile.mkdtemp(prefix="ringserve-api-", dir=base))
api_cors = Server(api_root, ["--cors=" + ORIGIN])
api_plain = Server(api_root)
# The shell learns the API addresses from a tiny config script the
# test adds in front of app.js (the ports are only known now).
with open(os.path.join(root, "index.html"), "wb") as f:
    f.write(SHELL.replace(
        b'<script src="/assets/app.js">',
        ("<script>window.API_CORS='http://127.0.0.1:%d/data.json';"
         "window.API_PLAIN='http://127.0.0.1:%d/data.json';</script>"
         '<script src="/assets/app.js">' % (api_cors.port, api_plain.port)).encode()))

tmp = tempfile.mkdtemp(prefix="ringserve-spa-", dir=base)
br = Browser(tmp, CHROMIUM)


def deep_link():
    url = ORIGIN + "/projects/42/settings"
    check(br.goto(url), "deep link %s did not load" % url)
    route = br.wait_js("document.getElementById('route').textContent !== "
                       "'loading' && document.getElementById('route').textContent")
    check(route == "/projects/42/settings",
          "the app's script did not run on the deep link: route %r" % route)
    colour = br.js("getComputedStyle(document.getElementById('route')).color")
    check(colour == "rgb(1, 2, 3)", "the app's stylesheet did not apply: %r" % colour)
    status = br.js("performance.getEntriesByType('navigation')[0].responseStatus")
    check(status in (200, None), "deep link status %r, want 200" % status)


def cross_origin():
    res = br.wait_js("window.apiResults && window.apiResults.cors && "
                     "window.apiResults.plain && JSON.stringify(window.apiResults)", 10)
    got = json.loads(res) if res else {}
    check(got.get("cors") == "ok:42",
          "fetch() from a --cors server was not readable: %r" % got)
    check(str(got.get("plain", "")).startswith("refused:"),
          "fetch() from a server without --cors was not refused: %r" % got)


def raw_checks():
    r = get(site, "/projects/42/settings", headers=["Accept: text/html"])
    check(r.status == 200 and r.body == open(os.path.join(root, "index.html"), "rb").read(),
          "deep link over HTTP: %s" % r.status)
    r = get(site, "/app.js")
    check(r.status == 404, "missing /app.js: %s, want 404 (no fallback)" % r.status)
    r = get(site, "/assets/app.js")
    check(r.status == 200 and r.body == SCRIPT, "script by its own path: %s" % r.status)


run_steps(br, (deep_link, cross_origin, raw_checks), T_START, "spa test")
finish()
