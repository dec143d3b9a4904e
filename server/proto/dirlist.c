/* dirlist: directory listings.
 *
 * Reading: the directory is reopened with openat(dirfd, ".") instead of
 * dup(), because a dup shares the file offset and getdents64 would move the
 * caller's. Names are appended to one arena; since the arena may move when
 * it grows, entries record only lengths while reading and get their name
 * pointers once the arena is final (names are stored in entry order, so
 * offsets follow from the lengths).
 *
 * Rendering: one growable buffer with a sticky error, so the writers are
 * straight-line code and the error is checked once at the end. Every name
 * goes through two encoders: html/json text (invalid UTF-8 shown as U+FFFD)
 * and a percent-encoded relative link that keeps the original bytes, so
 * distinct names that display alike still link to the right file. */
#include "dirlist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DENTS_BUF (32u << 10)
#define CRUMBS_MAX 64   /* deeper urls get a plain heading: the "../"
			   chains of linked crumbs grow quadratically */

/* The kernel's struct linux_dirent64; glibc exposes it only from 2.30 on
 * and under a different name, so it is spelled out here. */
struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* ---- reading ---- */

static int grow_entries(struct dirlist *dl)
{
	unsigned cap = dl->cap ? dl->cap * 2 : 64;
	struct dirlist_entry *e;

	if (cap < dl->cap)
		return -ENOMEM;
	e = realloc(dl->entries, (size_t)cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	dl->entries = e;
	dl->cap = cap;
	return 0;
}

static int append_name(struct dirlist *dl, const char *name, size_t len)
{
	size_t need = dl->names_len + len + 1;

	if (need > dl->names_cap) {
		size_t cap = dl->names_cap ? dl->names_cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(dl->names, cap);
		if (!p)
			return -ENOMEM;
		dl->names = p;
		dl->names_cap = cap;
	}
	memcpy(dl->names + dl->names_len, name, len + 1);
	dl->names_len = need;
	return 0;
}

static bool skip_name(const char *name, bool show_dot)
{
	if (name[0] != '.')
		return false;
	if (!show_dot)
		return true;
	return name[1] == '\0' || (name[1] == '.' && name[2] == '\0');
}

/* 0 added or skipped (cannot be stat'ed), 1 when it would be entry
 * max_entries + 1 (the listing is truncated), -errno. */
static int add_entry(struct dirlist *dl, int dirfd, const char *name,
		     unsigned max_entries)
{
	struct statx stx;
	struct dirlist_entry *e;
	size_t len = strlen(name);
	int ret;

	/* Follows symlinks, so a link to a directory lists as one and a
	 * dangling link fails here and is left out. AT_NO_AUTOMOUNT: listing
	 * a directory should not mount whatever sits under it. */
	if (statx(dirfd, name, AT_NO_AUTOMOUNT,
		  STATX_TYPE | STATX_SIZE | STATX_MTIME, &stx) < 0)
		return 0;
	if (dl->count == max_entries) {
		/* Stat'ed first, so an entry that would not have been listed
		 * does not mark the listing truncated. */
		dl->truncated = true;
		return 1;
	}
	if (dl->count == dl->cap && (ret = grow_entries(dl)) < 0)
		return ret;
	if ((ret = append_name(dl, name, len)) < 0)
		return ret;
	e = &dl->entries[dl->count++];
	e->name = NULL;
	e->name_len = (uint32_t)len;
	e->is_dir = S_ISDIR(stx.stx_mode);
	e->size = e->is_dir ? 0 : stx.stx_size;
	e->mtime = (time_t)stx.stx_mtime.tv_sec;
	return 0;
}

/* Walk one getdents64 batch. 1 when truncated, else 0 or -errno. */
static int add_batch(struct dirlist *dl, int dirfd, const char *buf,
		     long n, unsigned max_entries, bool show_dot)
{
	for (long off = 0; off < n;) {
		const struct dent64 *d = (const void *)(buf + off);
		int ret;

		off += d->d_reclen;
		if (skip_name(d->d_name, show_dot))
			continue;
		ret = add_entry(dl, dirfd, d->d_name, max_entries);
		if (ret)
			return ret;
	}
	return 0;
}

static void fix_name_pointers(struct dirlist *dl)
{
	size_t off = 0;

	for (unsigned i = 0; i < dl->count; i++) {
		dl->entries[i].name = dl->names + off;
		off += (size_t)dl->entries[i].name_len + 1;
	}
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct dirlist_entry *a = pa, *b = pb;
	const unsigned char *x = (const void *)a->name;
	const unsigned char *y = (const void *)b->name;

	if (a->is_dir != b->is_dir)
		return a->is_dir ? -1 : 1;
	for (size_t i = 0;; i++) {
		int cx = lower(x[i]), cy = lower(y[i]);

		if (cx != cy)
			return cx - cy;
		if (!cx)
			break;
	}
	return strcmp(a->name, b->name); /* "A" and "a": a stable order */
}

int dirlist_read(int dirfd, struct dirlist *dl, unsigned max_entries,
		 bool show_dot)
{
	char *buf = NULL;
	int fd, ret = 0;
	long n;

	memset(dl, 0, sizeof(*dl));
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(DENTS_BUF); /* off the stack: worker stacks may be small */
	if (!buf) {
		ret = -ENOMEM;
		goto err;
	}
	while ((n = syscall(SYS_getdents64, fd, buf, DENTS_BUF)) > 0) {
		ret = add_batch(dl, dirfd, buf, n, max_entries, show_dot);
		if (ret < 0)
			goto err;
		if (ret > 0)
			break;
	}
	if (n < 0) {
		ret = -errno;
		goto err;
	}
	free(buf);
	close(fd);
	fix_name_pointers(dl);
	if (dl->count > 1)
		qsort(dl->entries, dl->count, sizeof(*dl->entries), cmp_entry);
	return 0;
err:
	free(buf);
	close(fd);
	dirlist_free(dl);
	return ret;
}

void dirlist_free(struct dirlist *dl)
{
	free(dl->entries);
	free(dl->names);
	memset(dl, 0, sizeof(*dl));
}

/* ---- output buffer ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static bool reserve(struct buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->cap - b->len >= n)
		return true;
	cap = b->cap ? b->cap : 8192;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			goto oom;
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p)
		goto oom;
	b->p = p;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

static void put(struct buf *b, const void *s, size_t n)
{
	if (reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putc_(struct buf *b, char c)
{
	put(b, &c, 1);
}

__attribute__((format(printf, 2, 3)))
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[128]; /* only short numeric fields go through here */
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Hand the buffer over NUL-terminated (callers may treat it as a string),
 * or free it. */
static int finish(struct buf *b, char **out, size_t *len)
{
	putc_(b, '\0');
	if (b->oom) {
		free(b->p);
		*out = NULL;
		*len = 0;
		return -ENOMEM;
	}
	*out = b->p;
	*len = b->len - 1;
	return 0;
}

/* ---- encoders ---- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if s[0] does not
 * start one: no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Display text for an HTML body or attribute. Control characters (C0, DEL,
 * C1) are parse errors in HTML and invisible anyway, so they show as
 * U+FFFD like invalid bytes do. */
static void put_html(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const void *)s;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_len(u + i, n - i, &cp);

		if (!k || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			puts_(b, REPLACEMENT);
			i += k ? k : 1;
			continue;
		}
		switch (cp) {
		case '&': puts_(b, "&amp;"); break;
		case '<': puts_(b, "&lt;"); break;
		case '>': puts_(b, "&gt;"); break;
		case '"': puts_(b, "&quot;"); break;
		case '\'': puts_(b, "&#39;"); break;
		default: put(b, u + i, k);
		}
		i += k;
	}
}

static void put_json_str(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const void *)s;

	putc_(b, '"');
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_len(u + i, n - i, &cp);

		if (!k) {
			puts_(b, REPLACEMENT);
			i++;
			continue;
		}
		if (cp < 0x20)
			putf(b, "\\u%04x", (unsigned)cp);
		else if (cp == '"' || cp == '\\')
			put(b, (const char[]){ '\\', (char)cp }, 2);
		else
			put(b, u + i, k);
		i += k;
	}
	putc_(b, '"');
}

/* Bytes kept as-is in a link: RFC 3986 unreserved plus the sub-delims and
 * '@' that mean nothing to HTML or to our path decoder. Left out on
 * purpose: '&' and '\'' (HTML), ':' (a first segment "javascript:x" would
 * read as a scheme), and everything else (gen-delims, '%', space, quotes,
 * '\\', controls, bytes >= 0x80). */
static bool link_safe(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~!$()*+,;=@", c) != NULL;
}

/* A relative link to the entry: its name, percent-encoded, with "/" for a
 * directory. Output is plain ASCII with no HTML-special byte, so it can go
 * into a quoted attribute or a JSON string unescaped. */
static void put_href(struct buf *b, const struct dirlist_entry *e)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const void *)e->name;

	for (size_t i = 0; i < e->name_len; i++) {
		if (link_safe(u[i]))
			putc_(b, (char)u[i]);
		else
			put(b, (const char[]){ '%', hex[u[i] >> 4], hex[u[i] & 15] }, 3);
	}
	if (e->is_dir)
		putc_(b, '/');
}

/* ---- HTML ---- */

static const char html_style[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mu:#6e7781;"
	"--bd:#e5e7eb;--hv:#f6f8fa;--ln:#0b62d6}"
	"@media(prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;"
	"--mu:#8b949e;--bd:#21262d;--hv:#161b22;--ln:#58a6ff}}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--fg);"
	"font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"Noto Sans\",sans-serif}"
	"main{max-width:64rem;margin:0 auto;padding:2rem 1.25rem}"
	"h1{font-size:1.3rem;font-weight:600;margin:0 0 1.25rem;"
	"overflow-wrap:anywhere}"
	"h1 a{color:inherit}"
	"table{width:100%;border-collapse:collapse}"
	"th{font-size:.78rem;font-weight:600;text-transform:uppercase;"
	"letter-spacing:.04em;color:var(--mu);text-align:left;"
	"padding:.45rem .75rem;border-bottom:1px solid var(--bd)}"
	"td{padding:.4rem .75rem;border-bottom:1px solid var(--bd)}"
	"tbody tr:hover{background:var(--hv)}"
	"td.n{overflow-wrap:anywhere}"
	".s,.m{text-align:right;white-space:nowrap;"
	"font-variant-numeric:tabular-nums;width:1%}"
	".m,.s{color:var(--mu)}"
	"a{color:var(--ln);text-decoration:none}"
	"a:hover{text-decoration:underline}"
	"td.n a.d{font-weight:600}"
	"footer,.note{color:var(--mu);font-size:.85rem;margin-top:1rem}"
	".note{padding:.6rem .75rem;border:1px solid var(--bd);"
	"border-radius:6px}"
	"@media(max-width:36rem){main{padding:1rem .5rem}"
	"th,td{padding:.35rem .4rem}.m{white-space:normal}"
	".m span{white-space:nowrap}}";

/* "Index of /a/b/" with each ancestor linked ("../../", "../"); the last
 * segment is the current directory and stays plain. */
static void put_heading(struct buf *b, const char *url, size_t n)
{
	size_t slashes = 0, start = 0;

	for (size_t i = 0; i < n; i++)
		slashes += url[i] == '/';
	puts_(b, "<h1>Index of ");
	if (slashes > CRUMBS_MAX || !n || url[n - 1] != '/') {
		put_html(b, url, n);
		puts_(b, "</h1>\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (url[i] != '/')
			continue;
		if (--slashes == 0) { /* the current directory */
			put_html(b, url + start, i + 1 - start);
			break;
		}
		puts_(b, "<a href=\"");
		for (size_t k = 0; k < slashes; k++)
			puts_(b, "../");
		puts_(b, "\">");
		put_html(b, url + start, i + 1 - start);
		puts_(b, "</a>");
		start = i + 1;
	}
	puts_(b, "</h1>\n");
}

/* Digits grouped by thousands: "1,234,567". */
static void fmt_grouped(char *dst, size_t cap, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	size_t o = 0;

	for (int i = 0; i < n && o + 2 < cap; i++) {
		if (i && (n - i) % 3 == 0)
			dst[o++] = ',';
		dst[o++] = tmp[i];
	}
	dst[o] = '\0';
}

/* "512 B", "1.2 KiB", "34 MiB": one decimal below 10 units, like ls -h. */
static void put_human_size(struct buf *b, uint64_t v)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		putf(b, "%" PRIu64 " B", v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (d < 9.95)
		putf(b, "%.1f %s", d, unit[u]);
	else if (d < 1023.5 || u == 5)
		putf(b, "%.0f %s", d, unit[u]);
	else /* rounds up to 1024 of this unit: say 1.0 of the next */
		putf(b, "1.0 %s", unit[u + 1]);
}

static void put_mtime(struct buf *b, time_t t)
{
	struct tm tm;
	char iso[32], day[16], hm[8];

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		puts_(b, "<td class=\"m\">-</td>");
		return;
	}
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	strftime(hm, sizeof hm, "%H:%M", &tm);
	/* The span keeps the date whole when a narrow screen wraps the
	 * cell: the break falls between date and time, not at a hyphen. */
	putf(b, "<td class=\"m\"><time datetime=\"%s\"><span>%s</span> %s"
	     "</time></td>", iso, day, hm);
}

static void put_row(struct buf *b, const struct dirlist_entry *e)
{
	char grouped[40];

	puts_(b, "<tr><td class=\"n\"><a ");
	if (e->is_dir)
		puts_(b, "class=\"d\" ");
	puts_(b, "href=\"");
	put_href(b, e);
	puts_(b, "\">");
	put_html(b, e->name, e->name_len);
	if (e->is_dir)
		putc_(b, '/');
	puts_(b, "</a></td>");
	if (e->is_dir) {
		puts_(b, "<td class=\"s\">-</td>");
	} else {
		fmt_grouped(grouped, sizeof grouped, e->size);
		putf(b, "<td class=\"s\" title=\"%s bytes\">", grouped);
		put_human_size(b, e->size);
		puts_(b, "</td>");
	}
	put_mtime(b, e->mtime);
	puts_(b, "</tr>\n");
}

static void put_footer(struct buf *b, const struct dirlist *dl)
{
	unsigned dirs = 0;

	for (unsigned i = 0; i < dl->count; i++)
		dirs += dl->entries[i].is_dir;
	if (dl->truncated)
		putf(b, "<p class=\"note\">Listing truncated: only the first "
		     "%u entries are shown.</p>\n", dl->count);
	putf(b, "<footer>%u director%s, %u file%s</footer>\n", dirs,
	     dirs == 1 ? "y" : "ies", dl->count - dirs,
	     dl->count - dirs == 1 ? "" : "s");
}

int dirlist_html(const struct dirlist *dl, const char *url, size_t url_len,
		 char **out, size_t *len)
{
	struct buf b = { 0 };
	bool root = url_len == 1 && url[0] == '/';

	puts_(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		  "<meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" "
		  "content=\"width=device-width,initial-scale=1\">"
		  "<meta name=\"color-scheme\" content=\"light dark\">"
		  "\n<title>Index of ");
	put_html(&b, url, url_len);
	puts_(&b, "</title>\n<style>");
	puts_(&b, html_style);
	puts_(&b, "</style></head>\n<body><main>\n");
	put_heading(&b, url, url_len);
	puts_(&b, "<table>\n<thead><tr><th>Name</th><th class=\"s\">Size</th>"
		  "<th class=\"m\">Modified (UTC)</th></tr></thead>\n<tbody>\n");
	if (!root)
		puts_(&b, "<tr><td class=\"n\"><a class=\"d\" href=\"../\">../"
			  "</a></td><td class=\"s\"></td><td class=\"m\"></td>"
			  "</tr>\n");
	for (unsigned i = 0; i < dl->count; i++)
		put_row(&b, &dl->entries[i]);
	puts_(&b, "</tbody>\n</table>\n");
	put_footer(&b, dl);
	puts_(&b, "</main></body></html>\n");
	return finish(&b, out, len);
}

/* ---- JSON ---- */

int dirlist_json(const struct dirlist *dl, const char *url, size_t url_len,
		 char **out, size_t *len)
{
	struct buf b = { 0 };

	puts_(&b, "{\"path\":");
	put_json_str(&b, url, url_len);
	putf(&b, ",\"truncated\":%s,\"entries\":[",
	     dl->truncated ? "true" : "false");
	for (unsigned i = 0; i < dl->count; i++) {
		const struct dirlist_entry *e = &dl->entries[i];

		puts_(&b, i ? ",\n{\"name\":" : "\n{\"name\":");
		put_json_str(&b, e->name, e->name_len);
		putf(&b, ",\"type\":\"%s\",\"size\":%" PRIu64
		     ",\"mtime\":%lld,\"href\":\"",
		     e->is_dir ? "dir" : "file", e->size,
		     (long long)e->mtime);
		put_href(&b, e);
		puts_(&b, "\"}");
	}
	puts_(&b, "]}\n");
	return finish(&b, out, len);
}
