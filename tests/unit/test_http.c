/* http: request-head parser — valid forms, every refusal class with its exact
 * status, limits, resumable parsing at every byte boundary, helpers. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SPAN_IS(s, lit) ((s).len == strlen(lit) && memcmp((s).p, (lit), (s).len) == 0)

static const struct http_limits LIM = { 8192, 8192, 100 };
static struct http_request req;
static char *cur; /* exactly sized copy of the last input: ASan sees overreads */

static int parse_nl(const char *s, size_t n, const struct http_limits *lim)
{
	size_t scan = 0;

	free(cur);
	cur = malloc(n ? n : 1);
	memcpy(cur, s, n);
	return http_parse_request(cur, n, &scan, lim, &req);
}

static int parse(const char *s)
{
	return parse_nl(s, strlen(s), &LIM);
}

/* 0: accepted, consuming all of s; -2: incomplete; else the refusal status. */
static int verdict_nl(const char *s, size_t n, const struct http_limits *lim)
{
	int r = parse_nl(s, n, lim);

	if (r >= 0)
		return (size_t)r == n ? 0 : -100;
	return r == -2 ? -2 : req.status;
}

static int verdict(const char *s)
{
	return verdict_nl(s, strlen(s), &LIM);
}

#define H11(line, hdrs) line " HTTP/1.1\r\nHost: h\r\n" hdrs "\r\n"
#define GET11(hdrs) H11("GET /", hdrs)

static void test_basic(void)
{
	const char *s = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";

	CHECK(parse(s) == (int)strlen(s));
	CHECK(req.method == HTTP_M_GET);
	CHECK(SPAN_IS(req.method_str, "GET"));
	CHECK(SPAN_IS(req.target, "/index.html"));
	CHECK(SPAN_IS(req.path, "/index.html"));
	CHECK(req.query.len == 0);
	CHECK(req.authority.len == 0);
	CHECK(req.minor == 1);
	CHECK(req.nheaders == 1);
	CHECK(SPAN_IS(req.headers[0].name, "Host"));
	CHECK(SPAN_IS(req.headers[0].value, "example.com"));
	CHECK(SPAN_IS(req.host, "example.com"));
	CHECK(req.keep_alive);
	CHECK(!req.has_content_length);
	CHECK(req.status == 0);

	CHECK(verdict(H11("HEAD /a/b?x=1&y", "")) == 0);
	CHECK(req.method == HTTP_M_HEAD);
	CHECK(SPAN_IS(req.path, "/a/b"));
	CHECK(SPAN_IS(req.query, "x=1&y"));
	CHECK(verdict(H11("GET /a?b?c", "")) == 0);
	CHECK(SPAN_IS(req.path, "/a") && SPAN_IS(req.query, "b?c"));
	CHECK(verdict(H11("GET /a?", "")) == 0);
	CHECK(SPAN_IS(req.path, "/a") && req.query.len == 0);
	CHECK(verdict(H11("GET //x/../%2e", "")) == 0); /* path_normalize's job */
	CHECK(SPAN_IS(req.path, "//x/../%2e"));
}

static void test_methods(void)
{
	static const struct {
		const char *line;
		enum http_method m;
	} t[] = {
		{ "GET /", HTTP_M_GET },         { "HEAD /", HTTP_M_HEAD },
		{ "POST /", HTTP_M_POST },       { "PUT /", HTTP_M_PUT },
		{ "DELETE /", HTTP_M_DELETE },   { "OPTIONS /", HTTP_M_OPTIONS },
		{ "TRACE /", HTTP_M_TRACE },     { "PATCH /", HTTP_M_PATCH },
		{ "get /", HTTP_M_UNKNOWN },     { "Get /", HTTP_M_UNKNOWN },
		{ "GETX /", HTTP_M_UNKNOWN },    { "GE /", HTTP_M_UNKNOWN },
		{ "M-SEARCH /", HTTP_M_UNKNOWN }, { "BREW /", HTTP_M_UNKNOWN },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s HTTP/1.1\r\nHost: h\r\n\r\n", t[i].line);
		CHECK(verdict(buf) == 0);
		CHECK(req.method == t[i].m);
	}
	CHECK(verdict(H11("CONNECT example.com:443", "")) == 0);
	CHECK(req.method == HTTP_M_CONNECT && req.path.len == 0);
	CHECK(req.authority.len == 0); /* only absolute-form fills it */
	CHECK(verdict(H11("G(T /", "")) == 400);
	CHECK(verdict(H11("G\"T /", "")) == 400);
	CHECK(verdict(H11("GÉT /", "")) == 400);
	CHECK(verdict(H11(" GET /", "")) == 400);
	CHECK(verdict(H11("\tGET /", "")) == 400);
}

static void test_target_forms(void)
{
	CHECK(verdict(GET11("") ) == 0);
	CHECK(verdict("GET http://example.com:8080/p/q?z HTTP/1.1\r\nHost: other\r\n\r\n") == 0);
	CHECK(SPAN_IS(req.authority, "example.com:8080"));
	CHECK(SPAN_IS(req.path, "/p/q") && SPAN_IS(req.query, "z"));
	CHECK(SPAN_IS(req.host, "other"));
	CHECK(SPAN_IS(req.target, "http://example.com:8080/p/q?z"));
	CHECK(verdict(H11("GET HTTPS://Example.COM", "")) == 0);
	CHECK(SPAN_IS(req.authority, "Example.COM") && SPAN_IS(req.path, "/"));
	/* The "/" for an empty path lies inside the buffer, too. */
	CHECK(req.path.p >= cur && req.path.p < cur + strlen(H11("GET HTTPS://Example.COM", "")));
	CHECK(verdict(H11("GET http://h?q", "")) == 0);
	CHECK(SPAN_IS(req.path, "/") && SPAN_IS(req.query, "q") && SPAN_IS(req.authority, "h"));
	CHECK(verdict(H11("GET hTTp://[::1]:80/x", "")) == 0);
	CHECK(SPAN_IS(req.authority, "[::1]:80") && SPAN_IS(req.path, "/x"));
	CHECK(verdict(H11("GET ftp://h/", "")) == 400);
	CHECK(verdict(H11("GET http:///x", "")) == 400);
	CHECK(verdict(H11("GET http://", "")) == 400);
	CHECK(verdict(H11("GET http://u@h/", "")) == 400);
	CHECK(verdict(H11("GET http:/h/", "")) == 400);
	CHECK(verdict(H11("GET http://h:x/", "")) == 400);
	CHECK(verdict(H11("OPTIONS *", "")) == 0);
	CHECK(SPAN_IS(req.target, "*") && req.path.len == 0 && req.query.len == 0);
	CHECK(verdict(H11("OPTIONS **", "")) == 400);
	CHECK(verdict(H11("GET index.html", "")) == 400);
	CHECK(verdict(H11("GET ?", "")) == 400);
	CHECK(verdict(H11("GET example.com:443", "")) == 400); /* not CONNECT */
	CHECK(verdict(H11("CONNECT example.com", "")) == 400);  /* port required */
	CHECK(verdict(H11("CONNECT example.com:", "")) == 400);
	CHECK(verdict(H11("CONNECT /x", "")) == 0); /* syntax only; 405 is the caller's */
	/* target bytes: visible ASCII only */
	CHECK(verdict("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict(H11("GET /\x80", "")) == 400);
	CHECK(verdict(H11("GET /é", "")) == 400);
	CHECK(verdict(H11("GET /a\tb", "")) == 400);
	{
		static const char nul[] = "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n";
		CHECK(verdict_nl(nul, sizeof(nul) - 1, &LIM) == 400);
	}
}

static void test_request_line(void)
{
	CHECK(verdict(H11("GET  /", "")) == 400);
	CHECK(verdict("GET /  HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1 \r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\nHost: h\r\n\r\n") == 400);   /* bare LF */
	CHECK(verdict("GET / HTTP/1.1\rHost: h\r\n\r\n") == 400);   /* bare CR */
	CHECK(verdict("GET / HTTP/1.1\r\rHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET /\r\n\r\n") == 400);                     /* HTTP/0.9 */
	CHECK(verdict("GET /\r\n") == 400);
	CHECK(verdict("GET / \r\n\r\n") == 400);
	CHECK(verdict("GET\r\n\r\n") == 400);
	CHECK(verdict("\r\n\r\n") == -2); /* empty lines before a request line */
	CHECK(verdict("GET / http/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.10\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/11.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/a.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.x\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTPS/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/2.x\r\nHost: h\r\n\r\n") == 400); /* malformed beats 505 */
	/* versions */
	CHECK(verdict("GET / HTTP/1.0\r\n\r\n") == 0 && req.minor == 0);
	CHECK(verdict("GET / HTTP/1.2\r\nHost: h\r\n\r\n") == 0 && req.minor == 1);
	CHECK(verdict("GET / HTTP/1.9\r\nHost: h\r\n\r\n") == 0 && req.minor == 1);
	CHECK(verdict("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505);
	CHECK(verdict("GET / HTTP/0.9\r\nHost: h\r\n\r\n") == 505);
	CHECK(verdict("GET / HTTP/3.0\r\nHost: h\r\n\r\n") == 505);
	CHECK(verdict("GET / HTTP/9.9\r\n") == 505); /* judged at the end of the line */
	CHECK(verdict("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 505);
	CHECK(verdict("PRI * HTTP/2.0\r\n") == 505);
	CHECK(verdict("PRI * HTTP/2.0\r") == -2);
}

static void test_leading_crlf(void)
{
	const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	char buf[256];
	size_t n = 0;

	CHECK(parse(s) == (int)strlen(s));
	CHECK(SPAN_IS(req.method_str, "GET"));
	CHECK(verdict("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	CHECK(verdict(" \r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	snprintf(buf + n, sizeof(buf) - n, GET11(""));
	CHECK(verdict(buf) == 0); /* 16 leading empty lines are skipped */
	memmove(buf + 2, buf, strlen(buf) + 1);
	memcpy(buf, "\r\n", 2);
	CHECK(verdict(buf) == 400); /* the 17th is not */
}

static void test_keep_alive(void)
{
	CHECK(verdict(GET11("")) == 0 && req.keep_alive);
	CHECK(verdict(GET11("Connection: close\r\n")) == 0 && !req.keep_alive);
	CHECK(verdict(GET11("Connection: CLOSE\r\n")) == 0 && !req.keep_alive);
	CHECK(verdict(GET11("Connection: keep-alive, close\r\n")) == 0 && !req.keep_alive);
	CHECK(verdict(GET11("Connection: upgrade,close\r\n")) == 0 && !req.keep_alive);
	CHECK(verdict(GET11("Connection: keep-alive\r\nConnection: close\r\n")) == 0 &&
	      !req.keep_alive);
	CHECK(verdict(GET11("Connection: closed\r\n")) == 0 && req.keep_alive);
	CHECK(verdict(GET11("Connection: keep-alive\r\n")) == 0 && req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\n\r\n") == 0 && !req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 0 && req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\nconnection:Keep-Alive\r\n\r\n") == 0 && req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\nConnection: foo , keep-alive \r\n\r\n") == 0 &&
	      req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") == 0 &&
	      !req.keep_alive);
	CHECK(verdict("GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n") == 0 &&
	      !req.keep_alive);
}

static void test_fields(void)
{
	const char *s = GET11("X-A:  v1 \t\r\nX-B:\r\nX-C: a  b\r\nx-a: second\r\n"
			      "X-U: caf\xc3\xa9\r\nX-T:\tx\ty\t\r\n");
	const struct http_header *h;

	CHECK(verdict(s) == 0);
	CHECK(req.nheaders == 7);
	CHECK(SPAN_IS(req.headers[1].value, "v1"));
	CHECK(SPAN_IS(req.headers[1].name, "X-A"));
	CHECK(req.headers[2].value.len == 0);
	CHECK(SPAN_IS(req.headers[3].value, "a  b"));
	CHECK(SPAN_IS(req.headers[5].value, "caf\xc3\xa9"));
	CHECK(SPAN_IS(req.headers[6].value, "x\ty"));
	h = http_find_header(&req, "x-A");
	CHECK(h == &req.headers[1]); /* the first of two */
	CHECK(http_find_header(&req, "X-") == NULL);
	CHECK(http_find_header(&req, "X-Missing") == NULL);
	CHECK(http_find_header(&req, "host") == &req.headers[0]);

	CHECK(verdict(GET11("Name : v\r\n")) == 400);   /* space before colon */
	CHECK(verdict(GET11("Name\t: v\r\n")) == 400);
	CHECK(verdict(GET11("X: a\r\n b\r\n")) == 400);  /* obs-fold */
	CHECK(verdict(GET11("X: a\r\n\tb\r\n")) == 400);
	CHECK(verdict("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == 400);
	CHECK(verdict(GET11("Name v\r\n")) == 400);      /* no colon */
	CHECK(verdict(GET11("Name\r\n")) == 400);
	CHECK(verdict(GET11(": v\r\n")) == 400);         /* empty name */
	CHECK(verdict(GET11("Na(me: v\r\n")) == 400);
	CHECK(verdict(GET11("N\xc3\xa4me: v\r\n")) == 400);
	CHECK(verdict(GET11("X: a\nY: b\r\n")) == 400);  /* bare LF */
	CHECK(verdict(GET11("X: a\rY: b\r\n")) == 400);  /* bare CR */
	CHECK(verdict(GET11("X: a\r\r\n")) == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost: h\r\n\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost: h\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost: h\r\n\rx") == 400);
	CHECK(verdict(GET11("X: a\x7f\r\n")) == 400);    /* DEL */
	CHECK(verdict(GET11("X: a\x01\r\n")) == 400);
	CHECK(verdict(GET11("X: \x1b[31m\r\n")) == 400);
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
		CHECK(verdict_nl(nul, sizeof(nul) - 1, &LIM) == 400);
		CHECK(parse_nl(nul, 30, &LIM) == -1 && req.status == 400); /* at the NUL */
		CHECK(parse_nl(nul, 29, &LIM) == -2);
	}
}

static void test_host(void)
{
	CHECK(verdict("GET / HTTP/1.1\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nX: y\r\n\r\n") == 400);
	CHECK(verdict("GET http://h/ HTTP/1.1\r\n\r\n") == 400); /* still required */
	CHECK(verdict("GET http://h/ HTTP/1.0\r\n\r\n") == 0);
	CHECK(verdict("GET / HTTP/1.0\r\n\r\n") == 0 && req.host.len == 0);
	CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost:\r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.1\r\nHost:   \r\n\r\n") == 400);
	CHECK(verdict("GET / HTTP/1.0\r\nHost:\r\n\r\n") == 0 && req.host.len == 0);
	static const struct {
		const char *host;
		int want;
	} t[] = {
		{ "example.com", 0 }, { "EXAMPLE.com.", 0 }, { "localhost:8080", 0 },
		{ "127.0.0.1", 0 }, { "127.0.0.1:80", 0 }, { "[::1]", 0 },
		{ "[::1]:8080", 0 }, { "[2001:db8::7]:1", 0 }, { "my_host-1", 0 },
		{ "h:65535", 0 }, { "h:0", 0 }, { "h%41", 0 }, { "a,b", 0 },
		{ "h:", 400 }, { "h:65536", 400 }, { "h:123456", 400 }, { "h:8x", 400 },
		{ ":80", 400 }, { "h/x", 400 }, { "u@h", 400 }, { "h%4", 400 },
		{ "h%zz", 400 }, { "[::1", 400 }, { "[zz]", 400 }, { "[]", 400 },
		{ "[1.2.3.4]", 400 }, { "[::1]x", 400 }, { "a b", 400 }, { "a, b", 400 },
		{ "h\xc3\xa9", 400 }, { "h:80:80", 400 }, { "h?", 400 }, { "h#", 400 },
		{ "h\\x", 400 }, { "h:+80", 400 },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost:  %s \r\n\r\n", t[i].host);
		CHECK(verdict(buf) == t[i].want);
		if (verdict(buf) != t[i].want)
			fprintf(stderr, "  host \"%s\"\n", t[i].host);
		if (t[i].want == 0)
			CHECK(SPAN_IS(req.host, t[i].host));
	}
}

static void test_framing(void)
{
	CHECK(verdict(GET11("Transfer-Encoding: chunked\r\n")) == 400);
	CHECK(verdict(GET11("transfer-encoding: identity\r\n")) == 400);
	CHECK(verdict(GET11("Transfer-Encoding:\r\n")) == 400);
	CHECK(verdict("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
	CHECK(verdict(GET11("Content-Length: 5, chunked\r\nTransfer-Encoding: chunked\r\n")) == 400);
	CHECK(verdict(GET11("Transfer-Encodings: x\r\n")) == 0);

	CHECK(verdict(H11("POST /", "Content-Length: 5\r\n")) == 0);
	CHECK(req.has_content_length && req.content_length == 5);
	CHECK(verdict(GET11("Content-Length: 0\r\n")) == 0);
	CHECK(req.has_content_length && req.content_length == 0);
	CHECK(verdict(GET11("content-length:  7 \r\n")) == 0 && req.content_length == 7);
	CHECK(verdict(GET11("Content-Length: 007\r\n")) == 0 && req.content_length == 7);
	CHECK(verdict(GET11("Content-Length: 999999999999999999\r\n")) == 0);
	CHECK(req.content_length == 999999999999999999ull);
	CHECK(verdict(GET11("Content-Length: 1000000000000000000\r\n")) == 400); /* 19 */
	CHECK(verdict(GET11("Content-Length: 18446744073709551616\r\n")) == 400); /* 20 */
	CHECK(verdict(GET11("Content-Length: +5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: -1\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5, 5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5,5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5 5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 0x5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5a\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length:\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5\r\nContent-Length: 5\r\n")) == 400);
	CHECK(verdict(GET11("Content-Length: 5\r\ncontent-length: 6\r\n")) == 400);
	CHECK(verdict(GET11("")) == 0 && !req.has_content_length);
}

static void test_pipelined(void)
{
	const char *a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
	const char *b = "HEAD /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	char buf[256];
	size_t scan = 0;
	int r;

	snprintf(buf, sizeof(buf), "%s%s", a, b);
	r = parse(buf);
	CHECK(r == (int)strlen(a));
	CHECK(SPAN_IS(req.path, "/a") && req.keep_alive);
	r = http_parse_request(cur + strlen(a), strlen(b), &scan, &LIM, &req);
	CHECK(r == (int)strlen(b));
	CHECK(req.method == HTTP_M_HEAD && SPAN_IS(req.path, "/b") && !req.keep_alive);
	/* garbage after a complete head is the next request's problem */
	snprintf(buf, sizeof(buf), "%s\x16\x03\x01", a);
	CHECK(parse(buf) == (int)strlen(a));
	snprintf(buf, sizeof(buf), "%sGET", a);
	CHECK(parse(buf) == (int)strlen(a));
}

/* Every prefix of s is incomplete (with the scan kept, each prefix in a new
 * exactly sized buffer), then the whole of s parses as in one piece. */
static void check_every_prefix(const char *s, const struct http_limits *lim)
{
	size_t n = strlen(s), scan = 0;
	struct http_request one;
	int r;

	CHECK(parse_nl(s, n, lim) == (int)n);
	one = req;
	for (size_t k = 0; k <= n; k++) {
		char *b = malloc(k ? k : 1);
		memcpy(b, s, k);
		r = http_parse_request(b, k, &scan, lim, &req);
		CHECK(k == n ? r == (int)n : r == -2);
		if (k == n) {
			CHECK(scan == 0);
			CHECK(req.method == one.method && req.minor == one.minor);
			CHECK(req.nheaders == one.nheaders && req.keep_alive == one.keep_alive);
			CHECK(req.target.p - b == one.target.p - cur);
			CHECK(req.target.len == one.target.len);
			CHECK(req.path.len == one.path.len && req.host.len == one.host.len);
			if (one.path.len)
				CHECK(req.path.p - b == one.path.p - cur);
			if (one.host.len)
				CHECK(req.host.p - b == one.host.p - cur);
			CHECK(req.content_length == one.content_length);
		}
		free(b);
	}
}

/* The first error shows at the offending byte, however the head is fed. */
static void check_fails_at(const char *s, size_t n, size_t bad, int status,
			   const struct http_limits *lim)
{
	size_t scan = 0;
	int r;

	for (size_t k = 0; k <= n; k++) {
		r = http_parse_request(s, k, &scan, lim, &req);
		if (k <= bad)
			CHECK(r == -2);
		else
			CHECK(r == -1 && req.status == status);
		if (r == -1 && k != bad + 1)
			break;
	}
	for (size_t k = bad + 1; k <= n; k++) {
		scan = 0;
		r = http_parse_request(s, k, &scan, lim, &req);
		CHECK(r == -1 && req.status == status);
	}
}

static void test_incremental(void)
{
	const char *s;

	check_every_prefix("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &LIM);
	check_every_prefix("\r\n\r\nGET http://ex.com:1/a?b HTTP/1.1\r\nHost: h\r\n"
			   "Connection: close\r\nContent-Length: 12\r\n"
			   "X-Empty:\r\nX-Ows: \t v \t\r\n\r\n", &LIM);
	check_every_prefix("OPTIONS * HTTP/1.0\r\n\r\n", &LIM);
	check_every_prefix("BREW /pot?milk HTTP/1.9\r\nHost: [::1]:80\r\n\r\n",
			   &(struct http_limits){ 40, 45, 1 });

	s = GET11("Na me: v\r\n");
	check_fails_at(s, strlen(s), (size_t)(strchr(s, 'N') - s) + 2, 400, &LIM);
	s = "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n";
	check_fails_at(s, strlen(s), (size_t)(strstr(s, "a\nb") - s) + 1, 400, &LIM);
	s = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"; /* TLS ClientHello */
	check_fails_at(s, strlen(s), 0, 400, &LIM);
	s = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	check_fails_at(s, strlen(s), 15, 505, &LIM);
	/* semantic checks wait for the whole head */
	s = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
	check_fails_at(s, strlen(s), strlen(s) - 1, 400, &LIM);

	/* a repeated call after an error gives the same error */
	{
		size_t scan = 0;
		s = GET11("X: \x01\r\n");
		CHECK(http_parse_request(s, 20, &scan, &LIM, &req) == -2);
		CHECK(http_parse_request(s, strlen(s), &scan, &LIM, &req) == -1 && req.status == 400);
		CHECK(http_parse_request(s, strlen(s), &scan, &LIM, &req) == -1 && req.status == 400);
	}
	/* a stale scan from a longer buffer is not trusted */
	{
		size_t scan = 0;
		s = GET11("");
		CHECK(http_parse_request(s, 20, &scan, &LIM, &req) == -2);
		CHECK(http_parse_request(s, 10, &scan, &LIM, &req) == -2);
		CHECK(http_parse_request(s, strlen(s), &scan, &LIM, &req) == (int)strlen(s));
	}
}

static void test_binary(void)
{
	static const char *junk[] = {
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "\x80\x01", "\xff",
		"\x01", "{\"json\":1}", "<html>",
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		CHECK(verdict(junk[i]) == 400);
	CHECK(verdict_nl("\0\0\0\0", 4, &LIM) == 400);
	CHECK(verdict_nl("\x16", 1, &LIM) == 400);
	CHECK(verdict("") == -2);
	CHECK(verdict("G") == -2);
	CHECK(verdict("\r") == -2);
}

/* A request line of exactly `n` bytes including its CRLF. */
static void line_of(char *buf, size_t n, const char *rest)
{
	size_t pre = strlen("GET /"), post = strlen(" HTTP/1.1\r\n");

	memcpy(buf, "GET /", pre);
	memset(buf + pre, 'a', n - pre - post);
	memcpy(buf + n - post, " HTTP/1.1\r\n", post);
	strcpy(buf + n, rest);
}

static void test_limits(void)
{
	static char buf[20000];
	struct http_limits lim = { 256, 1024, 4 };
	size_t n;

	line_of(buf, 256, "Host: h\r\n\r\n");
	CHECK(verdict_nl(buf, strlen(buf), &lim) == 0);
	line_of(buf, 257, "Host: h\r\n\r\n");
	CHECK(verdict_nl(buf, strlen(buf), &lim) == 414);
	CHECK(verdict_nl(buf, 256, &lim) == -2);  /* not over yet */
	CHECK(verdict_nl(buf, 257, &lim) == 414); /* over: no need to wait for CRLF */
	line_of(buf, 5000, "");
	CHECK(verdict_nl(buf, 300, &lim) == 414);
	check_fails_at(buf, 300, 256, 414, &lim);
	/* leading empty lines are not part of the request line */
	memcpy(buf, "\r\n\r\n", 4);
	line_of(buf + 4, 256, "Host: h\r\n\r\n");
	CHECK(verdict_nl(buf, strlen(buf), &lim) == 0);

	/* head: exactly max_head is fine, one more is 431 */
	line_of(buf, 100, "Host: h\r\nX: ");
	n = strlen(buf);
	memset(buf + n, 'v', 1024 - n - 4);
	strcpy(buf + 1024 - 4, "\r\n\r\n");
	CHECK(verdict_nl(buf, 1024, &lim) == 0);
	memset(buf + n, 'v', 1024 - n - 3);
	strcpy(buf + 1024 - 3, "\r\n\r\n");
	CHECK(verdict_nl(buf, 1025, &lim) == 431);
	CHECK(verdict_nl(buf, 1024, &lim) == -2);
	check_fails_at(buf, 1025, 1024, 431, &lim);
	memset(buf + n, 'v', 5000);
	CHECK(verdict_nl(buf, 3000, &lim) == 431); /* incomplete and already over */
	/* max_line larger than max_head: the head limit still holds */
	line_of(buf, 2000, "");
	CHECK(verdict_nl(buf, 2000, &(struct http_limits){ 4096, 1024, 4 }) == 431);

	/* field count */
	CHECK(verdict_nl(GET11("A: 1\r\nB: 2\r\nC: 3\r\n"), strlen(GET11("A: 1\r\nB: 2\r\nC: 3\r\n")),
			 &lim) == 0);
	CHECK(verdict_nl(GET11("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"),
			 strlen(GET11("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n")), &lim) == 431);
	{
		const char *s = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD";
		CHECK(verdict_nl(s, strlen(s), &lim) == 431); /* at the first byte of #5 */
		CHECK(verdict_nl(s, strlen(s) - 1, &lim) == -2);
	}
	CHECK(verdict_nl(GET11(""), strlen(GET11("")), &(struct http_limits){ 256, 1024, 0 }) == 431);

	/* the hard ceiling applies whatever the runtime limit says */
	{
		struct http_limits big = { 8192, 20000, 1000 };
		n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < HTTP_MAX_HEADERS; i++)
			n += (size_t)sprintf(buf + n, "Host%s: h\r\n", i ? "x" : "");
		strcpy(buf + n, "\r\n");
		CHECK(verdict_nl(buf, n + 2, &big) == 0);
		CHECK(req.nheaders == HTTP_MAX_HEADERS);
		n += (size_t)sprintf(buf + n, "One: more\r\n\r\n");
		CHECK(verdict_nl(buf, n, &big) == 431);
	}
}

static void test_list_has(void)
{
	struct http_span v = { "a, b ,c,\tKeep-Alive\t", 20 };
	struct http_span none = { NULL, 0 };

	CHECK(http_list_has(v, "a"));
	CHECK(http_list_has(v, "b"));
	CHECK(http_list_has(v, "C"));
	CHECK(http_list_has(v, "keep-alive"));
	CHECK(!http_list_has(v, "d"));
	CHECK(!http_list_has(v, "keep"));
	CHECK(!http_list_has(v, "a, b"));
	CHECK(!http_list_has(none, "close"));
	CHECK(http_list_has((struct http_span){ ",,close,,", 9 }, "close"));
	CHECK(!http_list_has((struct http_span){ "close x", 7 }, "close"));
	CHECK(!http_list_has((struct http_span){ "closex", 6 }, "close"));
	CHECK(http_list_has((struct http_span){ "close", 5 }, "close"));
	CHECK(!http_list_has((struct http_span){ "clos", 4 }, "close"));
}

static void test_reason(void)
{
	static const int known[] = { 200, 206, 301, 302, 304, 400, 403, 404, 405, 408,
				     412, 413, 414, 416, 431, 500, 501, 503, 505 };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		CHECK(strcmp(http_reason(known[i]), "Unknown") != 0);
	CHECK(strcmp(http_reason(200), "OK") == 0);
	CHECK(strcmp(http_reason(404), "Not Found") == 0);
	CHECK(strcmp(http_reason(505), "HTTP Version Not Supported") == 0);
	CHECK(strcmp(http_reason(999), "Unknown") == 0);
	CHECK(strcmp(http_reason(-1), "Unknown") == 0);
}

int main(void)
{
	test_basic();
	test_methods();
	test_target_forms();
	test_request_line();
	test_leading_crlf();
	test_keep_alive();
	test_fields();
	test_host();
	test_framing();
	test_pipelined();
	test_incremental();
	test_binary();
	test_limits();
	test_list_has();
	test_reason();
	free(cur);
	if (failures)
		fprintf(stderr, "test_http: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
