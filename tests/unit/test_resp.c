/* resp: exact response heads, error bodies, redirects, overflow. */
#include "resp.h"
#include "hdrs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define STARTS(s, lit) (strncmp((s), (lit), strlen(lit)) == 0)

static const char *DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
static const struct resp_opts OPTS = { "ringserve", "", "utf-8" };

static void test_file_head(void)
{
	char buf[512];
	struct resp_file f = { .size = 1234, .ino = 0x2a, .mtime = { 784111777, 5 }, .type = "text/plain" };
	struct resp_body b = { 200, 1234, 0, 1234, NULL };
	struct resp_conn rc = { DATE, true, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 200 OK\r\n"));
	CHECK(strstr(buf, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	CHECK(strstr(buf, "\r\nContent-Length: 1234\r\n"));
	CHECK(strstr(buf, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	CHECK(strstr(buf, "\r\nAccept-Ranges: bytes\r\n"));
	CHECK(strstr(buf, "\r\nX-Content-Type-Options: nosniff\r\n"));
	CHECK(strstr(buf, "\r\nServer: ringserve\r\n"));
	CHECK(!strstr(buf, "Cache-Control"));
	CHECK(!strstr(buf, "Vary"));
	CHECK(strstr(buf, "\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	CHECK(strstr(buf, "\r\nETag: \"2a-4d2-"));
	CHECK(!strstr(buf, "Connection:"));
	CHECK(n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);

	/* 1.0 keep-alive is explicit; close is announced. */
	rc.minor = 0;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nConnection: keep-alive\r\n"));
	rc.keep_alive = false;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nConnection: close\r\n"));

	/* Too small a buffer is reported, never overrun. */
	CHECK(resp_file_head(buf, 40, &f, &b, &rc) == -ENOSPC);
}

static void test_partial_and_304(void)
{
	char buf[1024];
	struct resp_opts opts = { "", "max-age=60", "" };
	struct resp_file f = { .size = 1000, .ino = 1, .mtime = { 784111777, 0 },
			       .type = "text/css", .encoding = "br", .vary = true };
	struct resp_body b = { 206, 100, 10, 110, NULL };
	struct resp_conn rc = { DATE, true, 1, &opts, NULL, 0, NULL, NULL };
	int n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);

	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 206 Partial Content\r\n"));
	CHECK(strstr(buf, "\r\nContent-Range: bytes 10-109/1000\r\n"));
	CHECK(strstr(buf, "\r\nContent-Length: 100\r\n"));
	CHECK(strstr(buf, "\r\nContent-Encoding: br\r\n"));
	CHECK(strstr(buf, "\r\nVary: Accept-Encoding\r\n"));
	CHECK(strstr(buf, "\r\nCache-Control: max-age=60\r\n"));
	CHECK(strstr(buf, "\r\nContent-Type: text/css\r\n")); /* no charset configured */
	CHECK(!strstr(buf, "Server:"));                          /* hidden */

	b.boundary = "BOUND";
	b.length = 500;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nContent-Type: multipart/byteranges; boundary=BOUND\r\n"));
	CHECK(!strstr(buf, "Content-Range"));

	/* 304: validators, caching headers, no body headers. */
	b.status = 304;
	b.boundary = NULL;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 304 Not Modified\r\n"));
	CHECK(strstr(buf, "\r\nETag: \""));
	CHECK(strstr(buf, "\r\nLast-Modified: "));
	CHECK(strstr(buf, "\r\nCache-Control: max-age=60\r\n"));
	CHECK(strstr(buf, "\r\nVary: Accept-Encoding\r\n"));
	CHECK(!strstr(buf, "Content-Length"));
	CHECK(!strstr(buf, "Content-Type"));
}

static void test_content_type(void)
{
	char out[64];

	CHECK(strcmp(resp_content_type("text/html", "utf-8", out, sizeof(out)), "text/html; charset=utf-8") == 0);
	CHECK(strcmp(resp_content_type("application/json", "utf-8", out, sizeof(out)), "application/json; charset=utf-8") == 0);
	CHECK(strcmp(resp_content_type("application/javascript", "utf-8", out, sizeof(out)), "application/javascript; charset=utf-8") == 0);
	CHECK(strcmp(resp_content_type("image/png", "utf-8", out, sizeof(out)), "image/png") == 0);
	CHECK(strcmp(resp_content_type("text/html", "", out, sizeof(out)), "text/html") == 0);
	CHECK(strcmp(resp_content_type("text/html", "utf-8", out, 8), "text/html") == 0); /* does not fit */
}

static void test_etag(void)
{
	char a[RESP_ETAG_MAX], b[RESP_ETAG_MAX];
	struct resp_file f = { .size = 1, .ino = 7, .mtime = { 100, 0 } };

	resp_etag(a, &f);
	f.mtime.tv_nsec = 1; /* a rewrite within the same second still differs */
	resp_etag(b, &f);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[0] == '"' && a[strlen(a) - 1] == '"');
}

static void test_error(void)
{
	char buf[1024];
	struct resp_conn rc = { DATE, false, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_error(buf, sizeof(buf), 405, false, NULL, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
	CHECK(strstr(buf, "\r\nAllow: GET, HEAD, OPTIONS\r\n"));
	CHECK(strstr(buf, "\r\nConnection: close\r\n"));
	const char *body = strstr(buf, "\r\n\r\n");
	CHECK(body != NULL);
	if (body) {
		int clen = -1;
		const char *cl = strstr(buf, "Content-Length: ");
		if (cl)
			sscanf(cl, "Content-Length: %d", &clen);
		CHECK(clen == (int)strlen(body + 4));
		CHECK(strstr(body, "405 Method Not Allowed"));
	}
	/* HEAD: same head, no body. */
	int h = resp_error(buf, sizeof(buf), 404, true, NULL, &rc);
	CHECK(h > 0 && memcmp(buf + h - 4, "\r\n\r\n", 4) == 0);
	CHECK(resp_error(buf, 60, 404, false, NULL, &rc) == -ENOSPC);
	n = resp_error(buf, sizeof(buf), 416, false, "Content-Range: bytes */10\r\n", &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nContent-Range: bytes */10\r\n"));
}

static void test_redirect(void)
{
	char buf[1024];
	struct resp_conn rc = { DATE, true, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_redirect_slash(buf, sizeof(buf), "/a%20b", 6, "x=1", 3, false, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 301 Moved Permanently\r\n"));
	CHECK(strstr(buf, "\r\nLocation: /a%20b/?x=1\r\n"));
	n = resp_redirect_slash(buf, sizeof(buf), "/d", 2, "", 0, true, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nLocation: /d/\r\n"));
	CHECK(n > 0 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
}

/* How often `line` (a whole "Name: value" line) appears in buf. */
static int lines(const char *buf, const char *line)
{
	char want[256];
	int n = 0;

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	for (const char *p = buf; (p = strstr(p, want)) != NULL; p++)
		n++;
	return n;
}

/* --header lines and CORS lines: which responses carry them, and the
 * built-ins they replace. */
static void test_site(void)
{
	char buf[2048];
	const char *args[] = { "X-Frame-Options: DENY", "Server: edge", "Cache-Control: no-store",
			       "X-Content-Type-Options: nosniff-please" };
	struct hdrs_set set;
	struct resp_opts opts = { "ringserve", "max-age=60", "utf-8" };
	struct resp_file f = { .size = 10, .ino = 1, .mtime = { 784111777, 0 }, .type = "text/plain" };
	struct resp_body b = { 200, 10, 0, 10, NULL };
	struct resp_conn rc = { DATE, true, 1, &opts, NULL, 0, NULL, NULL };
	const char *cors = "Access-Control-Allow-Origin: *\r\n";
	int n;

	CHECK(hdrs_init(&set, args, 4) == 0);
	rc.hdrs = &set;
	rc.hdrs_on = 1; /* X-Frame-Options only: nothing replaced */
	rc.cors = cors;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Server: ringserve") == 1);
	CHECK(lines(buf, "Cache-Control: max-age=60") == 1);
	CHECK(lines(buf, "Access-Control-Allow-Origin: *") == 1);
	CHECK(n > 0 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);

	rc.hdrs_on = 0xf; /* all: the built-ins of those names step aside */
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "Server: edge") == 1 && !strstr(buf, "Server: ringserve"));
	CHECK(lines(buf, "Cache-Control: no-store") == 1 && !strstr(buf, "max-age=60"));
	CHECK(lines(buf, "X-Content-Type-Options: nosniff-please") == 1 &&
	      lines(buf, "X-Content-Type-Options: nosniff") == 0);
	/* 206 and 304 the same. */
	struct resp_body part = { 206, 2, 0, 2, NULL };
	n = resp_file_head(buf, sizeof(buf), &f, &part, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Cache-Control: no-store") == 1);
	CHECK(strstr(buf, "\r\nContent-Range: bytes 0-1/10\r\n") != NULL);
	struct resp_body nm = { 304, 0, 0, 0, NULL };
	n = resp_file_head(buf, sizeof(buf), &f, &nm, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Cache-Control: no-store") == 1);
	CHECK(lines(buf, "Access-Control-Allow-Origin: *") == 1 && !strstr(buf, "max-age=60"));
	/* Listings and redirects. */
	n = resp_generated_head(buf, sizeof(buf), "text/html", 5, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Cache-Control: no-store") == 1);
	CHECK(!strstr(buf, "no-cache") && lines(buf, "Vary: Accept") == 1);
	n = resp_redirect_slash(buf, sizeof(buf), "/d", 2, "", 0, false, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Server: edge") == 1);
	CHECK(lines(buf, "X-Content-Type-Options: nosniff") == 0);
	/* Errors: CORS, but no --header lines and the built-ins as they are. */
	n = resp_error(buf, sizeof(buf), 404, false, NULL, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(!strstr(buf, "X-Frame-Options") && lines(buf, "Server: ringserve") == 1);
	CHECK(lines(buf, "X-Content-Type-Options: nosniff") == 1);
	CHECK(lines(buf, "Access-Control-Allow-Origin: *") == 1);
	/* Error pages as errors; clean URL redirects as redirects. */
	n = resp_page_head(buf, sizeof(buf), 404, "text/html", 5, NULL, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(!strstr(buf, "X-Frame-Options") && lines(buf, "Server: ringserve") == 1);
	CHECK(lines(buf, "X-Content-Type-Options: nosniff") == 1);
	CHECK(lines(buf, "Access-Control-Allow-Origin: *") == 1);
	n = resp_redirect_path(buf, sizeof(buf), 308, "about", 5, NULL, 0, false, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "X-Frame-Options: DENY") == 1 && lines(buf, "Server: edge") == 1);
	CHECK(lines(buf, "X-Content-Type-Options: nosniff") == 0);
	CHECK(lines(buf, "X-Content-Type-Options: nosniff-please") == 1);
	CHECK(lines(buf, "Access-Control-Allow-Origin: *") == 1 && lines(buf, "Location: /about") == 1);
	/* The fallback's no-cache gives way to a --header Cache-Control. */
	struct resp_opts fb = { "ringserve", "no-cache", "utf-8" };
	rc.opts = &fb;
	f.vary_accept = true;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "Cache-Control: no-store") == 1 && !strstr(buf, "no-cache"));
	CHECK(lines(buf, "Vary: Accept") == 1);
	rc.hdrs_on = 1;
	n = resp_file_head(buf, sizeof(buf), &f, &b, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(lines(buf, "Cache-Control: no-cache") == 1);
	rc.opts = &opts;
	/* Too small: reported, never overrun. */
	CHECK(resp_file_head(buf, 200, &f, &b, &rc) == -ENOSPC);
	hdrs_free(&set);
}

/* A kept 200 tail gives exactly the head resp_file_head builds, whatever
 * the connection; other statuses and other --header replacements do not
 * use it. */
static void test_kept_tail(void)
{
	char want[1024], got[1024];
	const char *args[] = { "Cache-Control: no-store" };
	struct hdrs_set set;
	struct resp_opts opts = { "ringserve", "max-age=60", "utf-8" };
	struct resp_file f = { .size = 10, .ino = 7, .mtime = { 784111777, 3 }, .type = "text/css",
			       .encoding = "gzip", .vary = true };
	struct resp_body b = { 200, 10, 0, 10, NULL };
	struct resp_conn rc = { DATE, true, 1, &opts, NULL, 0, NULL, NULL };
	struct resp_tail t = { 0 };
	int n, m;

	CHECK(hdrs_init(&set, args, 1) == 0);
	CHECK(!resp_tail_ok(&t, &rc));
	n = resp_file_head(want, sizeof(want), &f, &b, &rc);
	m = resp_file_head_kept(got, sizeof(got), &f, &b, &rc, &t);
	CHECK(n > 0 && m == n && memcmp(want, got, (size_t)n) == 0);
	CHECK(resp_tail_ok(&t, &rc) && t.len > 0 && t.len < n);
	CHECK(memcmp(got + n - t.len, t.p, t.len) == 0 && STARTS(t.p, "Last-Modified: "));

	/* Kept: no type needed, the connection's lines still its own. */
	struct resp_file bare = f;
	bare.type = NULL;
	rc.keep_alive = false;
	rc.date = "Mon, 07 Nov 1994 08:49:37 GMT";
	n = resp_file_head(want, sizeof(want), &f, &b, &rc);
	m = resp_file_head_kept(got, sizeof(got), &bare, &b, &rc, &t);
	CHECK(n > 0 && m == n && memcmp(want, got, (size_t)n) == 0);
	got[m > 0 ? m : 0] = 0;
	CHECK(strstr(got, "\r\nConnection: close\r\n") && strstr(got, "Mon, 07 Nov"));

	/* A 206 and a 304 are built, and leave the tail as it was. */
	struct resp_tail before = t;
	struct resp_body part = { 206, 5, 0, 5, NULL };
	n = resp_file_head(want, sizeof(want), &f, &part, &rc);
	m = resp_file_head_kept(got, sizeof(got), &f, &part, &rc, &t);
	CHECK(n > 0 && m == n && memcmp(want, got, (size_t)n) == 0);
	struct resp_body nm = { 304, 0, 0, 0, NULL };
	n = resp_file_head(want, sizeof(want), &f, &nm, &rc);
	m = resp_file_head_kept(got, sizeof(got), &f, &nm, &rc, &t);
	CHECK(n > 0 && m == n && memcmp(want, got, (size_t)n) == 0);
	CHECK(t.len == before.len && memcmp(t.p, before.p, t.len) == 0);

	/* A --header that replaces Cache-Control: not this tail; rebuilt. */
	rc.hdrs = &set;
	rc.hdrs_on = 1;
	CHECK(!resp_tail_ok(&t, &rc));
	n = resp_file_head(want, sizeof(want), &f, &b, &rc);
	m = resp_file_head_kept(got, sizeof(got), &f, &b, &rc, &t);
	CHECK(n > 0 && m == n && memcmp(want, got, (size_t)n) == 0);
	got[m > 0 ? m : 0] = 0;
	CHECK(lines(got, "Cache-Control: no-store") == 1 && !strstr(got, "max-age"));
	CHECK(resp_tail_ok(&t, &rc));
	rc.hdrs_on = 0;
	CHECK(!resp_tail_ok(&t, &rc));

	/* Too small a buffer for the kept tail: reported, never overrun. */
	rc.hdrs_on = 1;
	CHECK(resp_file_head_kept(got, 120, &bare, &b, &rc, &t) == -ENOSPC);
	hdrs_free(&set);
}

static void test_options(void)
{
	char buf[512];
	struct resp_conn rc = { DATE, true, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_options(buf, sizeof(buf), NULL, &rc);

	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 204 No Content\r\n"));
	CHECK(strstr(buf, "\r\nAllow: GET, HEAD, OPTIONS\r\n") && !strstr(buf, "Content-Length"));
	CHECK(n > 0 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
	rc.cors = "Vary: Origin\r\n";
	n = resp_options(buf, sizeof(buf), "Access-Control-Max-Age: 5\r\n", &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nVary: Origin\r\n") && strstr(buf, "\r\nAccess-Control-Max-Age: 5\r\n"));
	CHECK(resp_options(buf, 50, NULL, &rc) == -ENOSPC);
}

/* --error-page heads: the error's status and headers, the page's type
 * and length, nothing a file's 200 would carry. */
static void test_page_head(void)
{
	char buf[512];
	struct resp_conn rc = { DATE, true, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_page_head(buf, sizeof(buf), 404, "text/html; charset=utf-8", 1234, NULL, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 404 Not Found\r\n"));
	CHECK(strstr(buf, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	CHECK(strstr(buf, "\r\nContent-Length: 1234\r\n\r\n"));
	CHECK(strstr(buf, "\r\nX-Content-Type-Options: nosniff\r\n"));
	CHECK(!strstr(buf, "ETag") && !strstr(buf, "Last-Modified") && !strstr(buf, "Accept-Ranges"));
	CHECK(!strstr(buf, "Allow"));
	CHECK(n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
	n = resp_page_head(buf, sizeof(buf), 405, "text/html", 5, NULL, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nAllow: GET, HEAD, OPTIONS\r\n"));
	n = resp_page_head(buf, sizeof(buf), 401, "text/html", 5,
			   "WWW-Authenticate: Basic realm=\"x\"\r\n", &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 401 "));
	CHECK(strstr(buf, "\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"));
	rc.keep_alive = false;
	n = resp_page_head(buf, sizeof(buf), 416, "text/html", 5, "Content-Range: bytes */10\r\n", &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nContent-Range: bytes */10\r\n"));
	CHECK(strstr(buf, "\r\nConnection: close\r\n"));
	CHECK(resp_page_head(buf, 60, 404, "text/html", 5, NULL, &rc) == -ENOSPC);
}

/* --clean-urls' 308: the decoded path percent-encoded, the query kept. */
static void test_redirect_path(void)
{
	char buf[512];
	struct resp_conn rc = { DATE, true, 1, &OPTS, NULL, 0, NULL, NULL };
	int n = resp_redirect_path(buf, sizeof(buf), 308, "about", 5, NULL, 0, false, &rc);

	buf[n > 0 ? n : 0] = 0;
	CHECK(STARTS(buf, "HTTP/1.1 308 Permanent Redirect\r\n"));
	CHECK(strstr(buf, "\r\nLocation: /about\r\n"));
	CHECK(strstr(buf, "</html>\n"));
	n = resp_redirect_path(buf, sizeof(buf), 308, "docs/", 5, "a=1&b", 5, true, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nLocation: /docs/?a=1&b\r\n"));
	CHECK(n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0); /* HEAD: no body */
	n = resp_redirect_path(buf, sizeof(buf), 308, "", 0, NULL, 0, false, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nLocation: /\r\n"));
	/* Spaces, '%', '?', '#', CR/LF-free by construction, UTF-8 bytes. */
	n = resp_redirect_path(buf, sizeof(buf), 308, "a b%?#\xc3\xa9~;=@:", 13, NULL, 0, false, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nLocation: /a%20b%25%3F%23%C3%A9~;=@:\r\n"));
	CHECK(resp_redirect_path(buf, 50, 308, "about", 5, NULL, 0, false, &rc) == -ENOSPC);
}

int main(void)
{
	test_site();
	test_options();
	test_file_head();
	test_kept_tail();
	test_etag();
	test_partial_and_304();
	test_content_type();
	test_error();
	test_redirect();
	test_page_head();
	test_redirect_path();
	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
