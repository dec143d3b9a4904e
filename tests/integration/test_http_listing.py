#!/usr/bin/env python3
"""Directory listings: HTML (UTF-8, names HTML-escaped, links relative and
percent-encoded, directories first then case-insensitive names, sizes,
modification times, a parent link except at the root) and JSON
(?format=json or Accept: application/json). Every link of every listing is
followed and must give the right file or directory. Also: dotfiles hidden,
--listing-max-entries truncation, --no-listing, the trailing-slash 301
with its query, HEAD parity, content negotiation details."""

import calendar
import html.parser
import json
import os
import re
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, case, check, finish, get, make_tree

T_BASE = calendar.timegm((2021, 3, 4, 5, 6, 7))

# Names chosen to break naive escaping: HTML specials, URL delimiters, a
# literal %XX, a colon (a relative "a:b" would parse as a scheme), a
# backslash (browsers turn "\" into "/"), spaces, UTF-8, mixed case.
FILE_NAMES = [
    "a<b>.txt", "x&y.txt", 'q"uote.txt', "apos'.txt", "pct%20.txt",
    "100%.txt", "what?.txt", "hash#.txt", "with space.txt",
    "two  spaces.txt", "caf\u00e9.txt", "\u65e5\u672c\u8a9e.txt",
    "Zebra.txt", "apple.txt", "Mango.txt", "a:b.txt", "back\\slash.txt",
    "plus+semi;eq=.txt", "x<img src=x onerror=alert(1)>.txt",
    "all<>&\"'%?# .txt", "sized.bin", "empty.bin",
]
DIR_NAMES = ["adir", "Bdir", "dir with space", "<d>&\"'", "\u00fcn\u00ef dir",
             "empty dir"]
RAW_NAME = b"\xff\xfe.bin"      # not UTF-8

files = {}
for i, n in enumerate(FILE_NAMES):
    files[n] = ("content of %s #%d\n" % (n, i)).encode("utf-8")
files["sized.bin"] = os.urandom(12345)
files["empty.bin"] = b""
for d in DIR_NAMES:
    if d == "empty dir":
        files[d] = None
    else:
        files[d + "/inner " + d + ".txt"] = ("inner %s\n" % d).encode()
files[".hidden"] = b"secret\n"
files[".git/config"] = b"[core]\n"
files["withindex/index.html"] = b"<html>index page</html>\n"
files["withindex/other.txt"] = b"other\n"
files["many/" + "f"] = None
for i in range(7):
    files["many/m%d.txt" % i] = b"m\n"
base, root = make_tree(files)
with open(os.path.join(root.encode(), RAW_NAME), "wb") as f:
    f.write(b"raw bytes name\n")

# Distinct, fixed mtimes (a day apart) so dates can be checked exactly.
MTIME = {}
for i, n in enumerate(sorted(FILE_NAMES + DIR_NAMES)):
    t = T_BASE + i * 86400 + i * 61
    MTIME[n] = t
for n in FILE_NAMES:
    os.utime(os.path.join(root, n), (MTIME[n], MTIME[n]))
for n in DIR_NAMES:  # after the files inside them were written
    os.utime(os.path.join(root, n), (MTIME[n], MTIME[n]))

srv = Server(root)
truncating = Server(root, ["--listing-max-entries=3"])
nolist = Server(root, ["--no-listing"])
dotfiles = Server(root, ["--dotfiles"])


# ------------------------------------------------------------ HTML parsing

class Listing(html.parser.HTMLParser):
    """Collects the <title>, every anchor (href, text, inside a table?) and
    the table rows (their text and raw attribute values)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.anchors = []       # [(href, text, in_table)]
        self.rows = []          # [{"text": str, "attrs": [str], "hrefs"}]
        self._in_title = False
        self._a = None
        self._table = 0
        self._row = None

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag == "table":
            self._table += 1
        elif tag == "tr" and self._table:
            self._row = {"text": "", "attrs": [], "hrefs": []}
        elif tag == "a":
            self._a = [dict(attrs).get("href"), ""]
        if self._row is not None:
            self._row["attrs"] += [v or "" for _, v in attrs]
            if tag == "a":
                self._row["hrefs"].append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "table":
            self._table -= 1
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "a" and self._a is not None:
            self.anchors.append((self._a[0], self._a[1], self._table > 0))
            self._a = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._a is not None:
            self._a[1] += data
        if self._row is not None:
            self._row["text"] += data


def parse_html(body, what):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        check(False, "%s: listing is not valid UTF-8: %s" % (what, e))
        text = body.decode("utf-8", "replace")
    p = Listing()
    p.feed(text)
    p.close()
    return p, text


def entry_anchors(p):
    """Anchors of the entries table (the parent link included)."""
    return [(h, t) for h, t, in_table in p.anchors if in_table]


def expected_order(dirpath):
    """Names in the order the listing must show them: directories first,
    then names compared case-insensitively (ASCII case folding over the
    bytes, as a C strcasecmp does); dotfiles left out."""
    full = os.path.join(root.encode(), dirpath.encode("utf-8"))
    dirs, regs = [], []
    for n in os.listdir(full):
        if n.startswith(b"."):
            continue
        (dirs if os.path.isdir(os.path.join(full, n)) else regs).append(n)
    key = lambda b: (b.lower(), b)
    return sorted(dirs, key=key), sorted(regs, key=key)


def href_target(dirurl, href):
    """The request target a browser makes of href on page dirurl."""
    return urllib.parse.urljoin("http://h" + dirurl, href)[len("http://h"):]


URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$")


def check_href(href, name_bytes, is_dir, what):
    check(href is not None, "%s: anchor without href" % what)
    if href is None:
        return
    check(URI_CHARS.match(href),
          "%s: href %r has characters a URI may not hold raw" % (what, href))
    check(not href.startswith("/") and "://" not in href
          and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href),
          "%s: href %r is not a relative path reference" % (what, href))
    check("?" not in href and "#" not in href,
          "%s: href %r has a raw ? or # (would cut the name)" % (what, href))
    check("\\" not in href, "%s: href %r has a raw backslash" % (what, href))
    want = name_bytes + (b"/" if is_dir else b"")
    got = urllib.parse.unquote_to_bytes(href)
    if got.startswith(b"./"):
        got = got[2:]
    check(got == want, "%s: href %r decodes to %r, want %r"
          % (what, href, got, want))


def check_html_listing(dirpath, srv=srv, follow=True):
    """dirpath: '' for the root, else 'a/b' (decoded). Checks the page and
    follows every link."""
    url = "/" + urllib.parse.quote(dirpath.encode("utf-8")) + \
        ("/" if dirpath else "")
    what = "listing of %r" % ("/" + dirpath)
    r = get(srv, url)
    if not check(r.status == 200, "%s: status %d" % (what, r.status)):
        return
    check(r.headers.get("content-type", "").replace(" ", "").lower()
          == "text/html;charset=utf-8",
          "%s: Content-Type %r" % (what, r.headers.get("content-type")))
    check(r.headers.get("content-length") == str(len(r.body)),
          "%s: Content-Length does not frame the body" % what)
    p, text = parse_html(r.body, what)
    shown_path = "/" + dirpath + ("/" if dirpath else "")
    check(shown_path in p.title,
          "%s: <title> %r does not name the path" % (what, p.title))
    # Nothing from a name may appear unescaped in the markup.
    for n in FILE_NAMES + DIR_NAMES:
        if any(c in n for c in "<>\"'&") and n in text:
            check(False, "%s: name %r appears raw in the HTML" % (what, n))
    anchors = entry_anchors(p)
    parent = [a for a in anchors if a[0] in ("../", "./../")]
    if dirpath:
        check(len(parent) == 1, "%s: %d parent links in the table"
              % (what, len(parent)))
        check(anchors and anchors[0][0] in ("../", "./../"),
              "%s: the parent link is not first" % what)
    else:
        check(not any(h and href_target("/", h) == "/" and h != "/"
                      for h, _, _ in p.anchors if h and "../" in h),
              "%s: a parent link at the root" % what)
        check(not parent, "%s: parent link at the root" % what)
    entries = [a for a in anchors if a not in parent]
    dirs, regs = expected_order(dirpath)
    want = [(n, True) for n in dirs] + [(n, False) for n in regs]
    got_names = []
    for (href, txt), (n, is_dir) in zip(entries, want):
        shown = n.decode("utf-8", "replace") + ("/" if is_dir else "")
        got_names.append(txt)
        check(txt.strip() == shown.strip(),
              "%s: entry text %r, want %r (order: dirs first, then "
              "case-insensitive)" % (what, txt, shown))
        check_href(href, n, is_dir, "%s entry %r" % (what, shown))
    check(len(entries) == len(want), "%s: %d entries, want %d (%r)"
          % (what, len(entries), len(want), [t for _, t in entries]))
    # Sizes and dates in each file's row.
    rows = {}
    for row in p.rows:
        for h in row["hrefs"]:
            rows[h] = row
    for href, txt in entries:
        row = rows.get(href)
        name = urllib.parse.unquote_to_bytes(href).rstrip(b"/")
        full = os.path.join(root.encode(), dirpath.encode(), name)
        if row is None or not os.path.exists(full):
            continue
        st = os.stat(full)
        day = time.strftime("%Y-%m-%d", time.gmtime(st.st_mtime))
        blob = row["text"] + " " + " ".join(row["attrs"])
        check(day in blob, "%s: row of %r does not show its date %s: %r"
              % (what, txt, day, blob[:300]))
        if not os.path.isdir(full):
            size = st.st_size
            forms = {str(size), "{:,}".format(size)}
            check(any(re.search(r"(?<![\d,.])%s(?![\d,])" % re.escape(f),
                                blob) for f in forms),
                  "%s: row of %r does not show its size %d: %r"
                  % (what, txt, size, blob[:300]))
    if not follow:
        return
    for href, txt in anchors:
        target = href_target(url, href)
        if href in ("../", "./../"):
            pr = get(srv, target)
            check(pr.status == 200 and pr.media_type() == "text/html",
                  "%s: parent link %r -> %d" % (what, target, pr.status))
            continue
        name = urllib.parse.unquote_to_bytes(href)
        full = os.path.join(root.encode(), dirpath.encode(), name)
        fr = get(srv, target)
        if href.endswith("/"):
            check(fr.status == 200, "%s: link %r -> %r gave %d"
                  % (what, txt, target, fr.status))
        else:
            with open(full, "rb") as f:
                data = f.read()
            check(fr.status == 200 and fr.body == data,
                  "%s: link %r -> %r gave %d with %d bytes, want the file "
                  "(%d bytes)" % (what, txt, target, fr.status, len(fr.body),
                                  len(data)))


def html_root():
    check_html_listing("")


def html_subdirs():
    for d in DIR_NAMES:
        check_html_listing(d)
    check_html_listing("many")


def json_listing():
    for d in [""] + DIR_NAMES:
        url = "/" + urllib.parse.quote(d.encode()) + ("/" if d else "")
        for how, path, hdrs in (("?format=json", url + "?format=json", []),
                                ("Accept", url,
                                 ["Accept: application/json"])):
            what = "JSON listing of %r via %s" % ("/" + d, how)
            r = get(srv, path, headers=hdrs)
            if not check(r.status == 200, "%s: %d" % (what, r.status)):
                continue
            check(r.media_type() == "application/json",
                  "%s: Content-Type %r" % (what,
                                           r.headers.get("content-type")))
            ct = r.headers.get("content-type", "").lower()
            check("charset" not in ct or "utf-8" in ct,
                  "%s: charset %r" % (what, ct))
            try:
                doc = json.loads(r.body.decode("utf-8"))
            except ValueError as e:
                check(False, "%s: not JSON: %s %r" % (what, e, r.body[:200]))
                continue
            check(doc.get("path") == "/" + d + ("/" if d else ""),
                  "%s: path %r" % (what, doc.get("path")))
            check(doc.get("truncated") is False, "%s: truncated %r"
                  % (what, doc.get("truncated")))
            entries = doc.get("entries", [])
            dirs, regs = expected_order(d)
            want = [(n, "dir") for n in dirs] + [(n, "file") for n in regs]
            got = [(e.get("name"), e.get("type")) for e in entries]
            check(got == [(n.decode("utf-8", "replace"), t)
                          for n, t in want],
                  "%s: entries %r, want %r" % (what, got, want))
            for e in entries:
                href = e.get("href", "")
                raw = urllib.parse.unquote_to_bytes(href).rstrip(b"/")
                check_href(href, raw, e.get("type") == "dir",
                           "%s entry %r" % (what, e.get("name")))
                check(raw.decode("utf-8", "replace") == e.get("name"),
                      "%s: href %r does not decode to name %r"
                      % (what, href, e.get("name")))
                full = os.path.join(root.encode(), d.encode(), raw)
                st = os.stat(full)
                check(e.get("mtime") == int(st.st_mtime),
                      "%s: %r mtime %r, want %d" % (what, e.get("name"),
                                                    e.get("mtime"),
                                                    int(st.st_mtime)))
                if e.get("type") == "file":
                    check(e.get("size") == st.st_size,
                          "%s: %r size %r, want %d" % (
                              what, e.get("name"), e.get("size"),
                              st.st_size))
                    fr = get(srv, href_target(url, href))
                    with open(full, "rb") as f:
                        check(fr.status == 200 and fr.body == f.read(),
                              "%s: href %r -> %d" % (what, href, fr.status))
                else:
                    fr = get(srv, href_target(url, href))
                    check(fr.status == 200, "%s: dir href %r -> %d"
                          % (what, href, fr.status))
    # The query form with other parameters, and negotiation details.
    r = get(srv, "/?a=1&format=json")
    check(r.status == 200 and r.media_type() == "application/json",
          "/?a=1&format=json: %r" % r)
    r = get(srv, "/", headers=["Accept: text/html,application/xhtml+xml,"
                               "application/xml;q=0.9,*/*;q=0.8"])
    check(r.media_type() == "text/html", "browser Accept -> %r"
          % r.headers.get("content-type"))
    r = get(srv, "/", headers=["Accept: */*"])
    check(r.media_type() == "text/html", "Accept */* -> %r"
          % r.headers.get("content-type"))
    r = get(srv, "/", headers=["Accept: application/json;q=0, text/html"])
    check(r.media_type() == "text/html",
          "Accept: application/json;q=0, text/html -> %r (q=0 means "
          "not acceptable)" % r.headers.get("content-type"))
    # The listing varies by Accept: caches must be told (RFC 9110 §12.5.5).
    r = get(srv, "/")
    check("accept" in [v.strip().lower() for v in
                       r.headers.get("vary", "").split(",")],
          "listing without Vary: Accept (it is negotiated on Accept): "
          "Vary %r" % r.headers.get("vary"))


def raw_name_link():
    """A file name that is not UTF-8: the page is still UTF-8 and the link
    (percent-encoded raw bytes) fetches the file."""
    r = get(srv, "/")
    p, _ = parse_html(r.body, "root listing")
    hrefs = [h for h, _ in entry_anchors(p)
             if h and urllib.parse.unquote_to_bytes(h) == RAW_NAME]
    check(len(hrefs) == 1, "non-UTF-8 name: %d matching links" % len(hrefs))
    r = get(srv, "/%FF%FE.bin")
    check(r.status == 200 and r.body == b"raw bytes name\n",
          "GET /%%FF%%FE.bin -> %d" % r.status)


def dotfiles_hidden():
    for path in ("/", "/?format=json"):
        r = get(srv, path)
        check(b".hidden" not in r.body and b".git" not in r.body,
              "%s: dotfiles listed by default" % path)
    r = get(dotfiles, "/?format=json")
    names = [e["name"] for e in json.loads(r.body).get("entries", [])]
    check(".hidden" in names and ".git" in names,
          "--dotfiles: listing %r lacks .hidden/.git" % names)
    r = get(dotfiles, "/")
    p, _ = parse_html(r.body, "--dotfiles root")
    check(any(h == ".hidden" for h, _ in entry_anchors(p)),
          "--dotfiles: no .hidden link in HTML")
    check(get(dotfiles, "/.hidden").body == b"secret\n",
          "--dotfiles: .hidden not served")


def truncation():
    r = get(truncating, "/many/?format=json")
    doc = json.loads(r.body)
    check(doc.get("truncated") is True and len(doc.get("entries", [])) == 3,
          "--listing-max-entries=3: truncated %r, %d entries"
          % (doc.get("truncated"), len(doc.get("entries", []))))
    r = get(truncating, "/many/")
    p, _ = parse_html(r.body, "truncated listing")
    entries = [a for a in entry_anchors(p) if a[0] not in ("../",)]
    check(r.status == 200 and len(entries) == 3,
          "--listing-max-entries=3 HTML: %d entries" % len(entries))
    r = get(truncating, "/adir/?format=json")
    check(json.loads(r.body).get("truncated") is False,
          "--listing-max-entries=3 with 1 entry: truncated")


def no_listing():
    for path in ("/", "/adir/", "/adir/?format=json", "/empty%20dir/"):
        r = get(nolist, path)
        check(r.status == 403, "--no-listing %s -> %d, want 403"
              % (path, r.status))
        check(b"inner" not in r.body and b"apple" not in r.body,
              "--no-listing %s: body reveals entries" % path)
    r = get(nolist, "/", headers=["Accept: application/json"])
    check(r.status == 403, "--no-listing JSON Accept -> %d" % r.status)
    r = get(nolist, "/withindex/")
    check(r.status == 200 and r.body == files["withindex/index.html"],
          "--no-listing: index.html not served: %d" % r.status)
    r = get(nolist, "/apple.txt")
    check(r.status == 200, "--no-listing: file -> %d" % r.status)
    # With listings on, a directory with index.html still shows the index.
    r = get(srv, "/withindex/")
    check(r.body == files["withindex/index.html"],
          "index.html not preferred over a listing")


def slash_redirects():
    cases = [("/adir", "/adir/"), ("/adir?format=json", "/adir/?format=json"),
             ("/dir%20with%20space", "/dir%20with%20space/"),
             ("/%3Cd%3E%26%22%27", None), ("/empty%20dir", "/empty%20dir/")]
    for path, want in cases:
        r = get(srv, path)
        loc = r.headers.get("location", "")
        check(r.status == 301, "%s -> %d, want 301" % (path, r.status))
        check(URI_CHARS.match(loc) and loc,
              "%s: Location %r is not a valid URI reference" % (path, loc))
        if want:
            check(loc == want, "%s: Location %r, want %r" % (path, loc, want))
        target = loc.split("?")[0]
        check(urllib.parse.unquote(target) ==
              urllib.parse.unquote(path.split("?")[0]) + "/",
              "%s: Location %r does not decode to the slash form"
              % (path, loc))
        fr = get(srv, loc)
        check(fr.status == 200, "%s: following Location %r -> %d"
              % (path, loc, fr.status))


def head_and_misc():
    for path in ("/", "/adir/", "/?format=json", "/empty%20dir/"):
        g = get(srv, path)
        h = get(srv, path, method="HEAD")
        strip = lambda r: [(n, v) for n, v in r.header_list if n != "date"]
        check(h.status == g.status and strip(h) == strip(g),
              "HEAD %s headers differ from GET's:\n%r\n%r"
              % (path, strip(h), strip(g)))
    r = get(srv, "/empty%20dir/")
    p, _ = parse_html(r.body, "empty dir")
    anchors = entry_anchors(p)
    check([h for h, _ in anchors] == ["../"],
          "empty dir: anchors %r, want only ../" % anchors)
    r = get(srv, "/empty%20dir/?format=json")
    check(json.loads(r.body).get("entries") == [],
          "empty dir JSON entries %r" % r.body)
    r = get(srv, "/")
    check(r.headers.get("x-content-type-options") == "nosniff",
          "listing without nosniff")
    r = get(srv, "/", method="POST")
    check(r.status == 405, "POST to a listing -> %d" % r.status)


for fn in (html_root, html_subdirs, json_listing, raw_name_link,
           dotfiles_hidden, truncation, no_listing, slash_redirects,
           head_and_misc):
    case(fn)
finish()
