/* http: request-head parser (contract in http.h).
 *
 * One state machine, stepping a byte at a time (plain runs inside a method,
 * target, name or value in a tight loop), does every lexical check (request
 * line, field syntax, CRLF, limits). It runs in two modes that share every
 * transition:
 *  - a check-only pass that resumes from the state packed into *scan, so a
 *    head arriving in pieces is validated as it grows, each byte once;
 *  - a filling pass from byte 0 that also records spans into the request,
 *    run once the head is complete (directly, when the whole head is there
 *    on the first call, which is the common case).
 * Because the transitions are shared and depend on nothing but the bytes, a
 * head fed in pieces meets the same verdict, at the same byte, as the same
 * bytes in one piece. Checks that need a whole field value (Host,
 * Content-Length, Transfer-Encoding, Connection) and the request-target's
 * form run after the filling pass. */
#include "http.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

/* The per-connection resume state is a size_t (the contract), and the scratch
 * request is not kept between calls, so the machine state is packed into it. */
_Static_assert(sizeof(size_t) >= 8, "the parser state is packed into a 64-bit size_t");

/* RFC 9112 §2.2 asks to skip at least one empty line before a request line;
 * a bound keeps the count small enough to pack. */
#define MAX_BLANK 16

enum { LEX_DONE = 1, LEX_AGAIN = 2 }; /* lex results; errors are -status */

enum lex_state {
	S_BEGIN,    /* a request line or a leading CR */
	S_BEGIN_LF, /* the LF of a leading empty line */
	S_METHOD,
	S_TARGET0,  /* first byte of the request-target */
	S_TARGET,
	S_VERSION,  /* "HTTP/d.d" then CR; vsub indexes it */
	S_RL_LF,    /* the LF ending the request line */
	S_LINE,     /* start of a field line, or the CR of the final CRLF */
	S_NAME,
	S_VALUE,
	S_VALUE_LF,
	S_END_LF,   /* the LF ending the head */
	S_COUNT
};

struct lex {
	const char *buf;
	size_t len;
	uint32_t pos;       /* next byte to examine */
	uint32_t st;        /* enum lex_state */
	uint32_t vsub;      /* index into "HTTP/d.d\r" while in S_VERSION */
	uint32_t major_bad; /* the major version digit was not '1' */
	uint32_t blank;     /* leading empty lines skipped (request line at 2*blank) */
	uint32_t nhdr;      /* field lines started */
	uint32_t max_line, max_head, max_hdrs;
	struct http_request *req; /* NULL on a check-only pass */
};

/* RFC 9110 tchar. Range designators keep the table readable (GNU C). */
static const uint8_t tchar[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* VCHAR: request-target bytes. */
static const uint8_t vchar[256] = { ['!' ... '~'] = 1 };

/* field-value bytes: HTAB, SP, VCHAR, obs-text; every other CTL (NUL, bare
 * CR or LF, DEL...) is refused. */
static const uint8_t fieldc[256] = {
	['\t'] = 1, [' ' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void span_end(struct http_span *s, const char *end)
{
	s->len = (uint32_t)(end - s->p);
}

static void lex_init(struct lex *L, const char *buf, size_t len,
		     const struct http_limits *lim)
{
	memset(L, 0, sizeof(*L));
	L->buf = buf;
	L->len = len;
	L->max_line = lim->max_line;
	/* The head length is returned as an int. */
	L->max_head = lim->max_head < INT_MAX ? lim->max_head : INT_MAX;
	L->max_hdrs = lim->max_headers < HTTP_MAX_HEADERS ? lim->max_headers
							   : HTTP_MAX_HEADERS;
}

/* Bit layout of *scan: pos 0-31, st 32-36, vsub 37-40, major_bad 41,
 * blank 42-49, nhdr 50-57. pos fits: it never passes max_head <= INT_MAX. */
static size_t lex_pack(const struct lex *L)
{
	return (size_t)L->pos | (size_t)L->st << 32 | (size_t)L->vsub << 37 |
	       (size_t)L->major_bad << 41 | (size_t)L->blank << 42 |
	       (size_t)L->nhdr << 50;
}

/* False when the state cannot belong to this buffer and these limits (a
 * caller that did not reset scan, or a shrunk buffer): start over instead. */
static bool lex_unpack(struct lex *L, size_t s)
{
	L->pos = (uint32_t)(s & 0xffffffffu);
	L->st = (uint32_t)(s >> 32 & 0x1f);
	L->vsub = (uint32_t)(s >> 37 & 0xf);
	L->major_bad = (uint32_t)(s >> 41 & 1);
	L->blank = (uint32_t)(s >> 42 & 0xff);
	L->nhdr = (uint32_t)(s >> 50 & 0xff);
	return L->st < S_COUNT && L->vsub <= 9 && L->blank <= MAX_BLANK &&
	       L->nhdr <= L->max_hdrs && L->pos <= L->len && L->pos <= L->max_head;
}

/* Limits are judged per byte, before the byte itself, so an over-long line
 * or head fails as soon as it is over, complete or not. */
static int lex_limit(const struct lex *L)
{
	bool in_line = L->st >= S_METHOD && L->st <= S_RL_LF;

	if (in_line && L->pos - 2 * L->blank >= L->max_line)
		return -414;
	if (L->pos >= L->max_head)
		return -431;
	return 0;
}

static int st_begin(struct lex *L, unsigned char c)
{
	if (c == '\r') {
		L->st = S_BEGIN_LF;
		return 0;
	}
	if (!tchar[c]) /* TLS records (0x16) and binary stop here */
		return -400;
	if (L->req)
		L->req->method_str.p = L->buf + L->pos;
	L->st = S_METHOD;
	return 0;
}

static int st_begin_lf(struct lex *L, unsigned char c)
{
	if (c != '\n' || L->blank == MAX_BLANK)
		return -400;
	L->blank++;
	L->st = S_BEGIN;
	return 0;
}

static int st_method(struct lex *L, unsigned char c)
{
	if (tchar[c])
		return 0;
	if (c != ' ')
		return -400;
	if (L->req)
		span_end(&L->req->method_str, L->buf + L->pos);
	L->st = S_TARGET0;
	return 0;
}

/* S_TARGET0 and S_TARGET: exactly one SP on each side, visible ASCII only.
 * A CR here is HTTP/0.9 ("GET /\r\n"), which we refuse. */
static int st_target(struct lex *L, unsigned char c)
{
	if (vchar[c]) {
		if (L->st == S_TARGET0 && L->req)
			L->req->target.p = L->buf + L->pos;
		L->st = S_TARGET;
		return 0;
	}
	if (c != ' ' || L->st == S_TARGET0)
		return -400;
	if (L->req)
		span_end(&L->req->target, L->buf + L->pos);
	L->st = S_VERSION;
	L->vsub = 0;
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT CR, case-sensitive. A wrong major is only judged
 * (505) once the line is complete, so a malformed line stays a 400. */
static int st_version(struct lex *L, unsigned char c)
{
	static const char lit[] = "HTTP/?.?\r";
	uint32_t i = L->vsub;

	if (i == 5 || i == 7) {
		if (!is_digit((char)c))
			return -400;
		if (i == 5)
			L->major_bad = c != '1';
		else if (L->req)
			L->req->minor = c > '0'; /* 1.2+ is served as 1.1 */
	} else if (c != (unsigned char)lit[i]) {
		return -400;
	}
	if (++L->vsub == 9)
		L->st = S_RL_LF;
	return 0;
}

static int st_rl_lf(struct lex *L, unsigned char c)
{
	if (c != '\n')
		return -400;
	if (L->major_bad) /* HTTP/0.x, HTTP/2.0 (the h2 preface), ... */
		return -505;
	L->st = S_LINE;
	return 0;
}

/* SP or HTAB here is obs-fold (or whitespace before the first field): both
 * are refused, as they are a classic smuggling vector. */
static int st_line(struct lex *L, unsigned char c)
{
	if (c == '\r') {
		L->st = S_END_LF;
		return 0;
	}
	if (!tchar[c])
		return -400;
	if (L->nhdr == L->max_hdrs)
		return -431;
	if (L->req)
		L->req->headers[L->nhdr].name.p = L->buf + L->pos;
	L->nhdr++;
	L->st = S_NAME;
	return 0;
}

static int st_name(struct lex *L, unsigned char c)
{
	struct http_header *h;

	if (tchar[c])
		return 0;
	if (c != ':') /* includes whitespace before the colon */
		return -400;
	if (L->req) {
		h = &L->req->headers[L->nhdr - 1];
		span_end(&h->name, L->buf + L->pos);
		h->value.p = L->buf + L->pos + 1;
	}
	L->st = S_VALUE;
	return 0;
}

static int st_value(struct lex *L, unsigned char c)
{
	if (fieldc[c])
		return 0;
	if (c != '\r') /* NUL, bare LF, other CTLs */
		return -400;
	if (L->req)
		span_end(&L->req->headers[L->nhdr - 1].value, L->buf + L->pos);
	L->st = S_VALUE_LF;
	return 0;
}

/* The LF after a CR; anything else is a bare CR. */
static int st_lf(struct lex *L, unsigned char c, enum lex_state next)
{
	if (c != '\n')
		return -400;
	L->st = next;
	return 0;
}

static int lex_step(struct lex *L, unsigned char c)
{
	switch (L->st) {
	case S_BEGIN: return st_begin(L, c);
	case S_BEGIN_LF: return st_begin_lf(L, c);
	case S_METHOD: return st_method(L, c);
	case S_TARGET0:
	case S_TARGET: return st_target(L, c);
	case S_VERSION: return st_version(L, c);
	case S_RL_LF: return st_rl_lf(L, c);
	case S_LINE: return st_line(L, c);
	case S_NAME: return st_name(L, c);
	case S_VALUE: return st_value(L, c);
	case S_VALUE_LF: return st_lf(L, c, S_LINE);
	case S_END_LF: return c == '\n' ? LEX_DONE : -400;
	}
	return -400;
}

/* Skip the plain continuation bytes of a method, target, name or value in
 * one tight loop (these are most of a head). It stops before any byte that
 * a transition or a limit must judge, so the verdict is the per-byte one. */
static void lex_skip(struct lex *L)
{
	const unsigned char *p = (const unsigned char *)L->buf;
	size_t i = L->pos, end = L->len < L->max_head ? L->len : L->max_head;
	size_t line_end = (size_t)2 * L->blank + L->max_line;

	if (L->st >= S_METHOD && L->st <= S_RL_LF && line_end < end)
		end = line_end;
	switch (L->st) {
	case S_METHOD:
	case S_NAME:
		while (i < end && tchar[p[i]])
			i++;
		break;
	case S_TARGET:
		while (i < end && vchar[p[i]])
			i++;
		break;
	case S_VALUE:
		while (i < end && fieldc[p[i]])
			i++;
		break;
	default:
		return;
	}
	L->pos = (uint32_t)i;
}

/* Runs to the end of the head (LEX_DONE, pos just past it), the end of the
 * bytes (LEX_AGAIN) or the first error (-status, pos at the bad byte). */
static int lex_run(struct lex *L)
{
	int r;

	for (;;) {
		lex_skip(L);
		if (L->pos >= L->len)
			return LEX_AGAIN;
		r = lex_limit(L);
		if (!r)
			r = lex_step(L, (unsigned char)L->buf[L->pos]);
		if (r == LEX_DONE)
			L->pos++;
		if (r)
			return r;
		L->pos++;
	}
}

/* ---- checks on whole values, after the filling pass ---- */

static bool span_ieq(struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && (n == 0 || strncasecmp(s.p, lit, n) == 0);
}

static void strip_ows(struct http_span *v)
{
	while (v->len && is_ows(v->p[0])) {
		v->p++;
		v->len--;
	}
	while (v->len && is_ows(v->p[v->len - 1]))
		v->len--;
}

static enum http_method method_of(struct http_span m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} tab[] = {
		{ "GET", HTTP_M_GET },         { "HEAD", HTTP_M_HEAD },
		{ "POST", HTTP_M_POST },       { "PUT", HTTP_M_PUT },
		{ "DELETE", HTTP_M_DELETE },   { "CONNECT", HTTP_M_CONNECT },
		{ "OPTIONS", HTTP_M_OPTIONS }, { "TRACE", HTTP_M_TRACE },
		{ "PATCH", HTTP_M_PATCH },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (m.len == strlen(tab[i].name) &&
		    memcmp(m.p, tab[i].name, m.len) == 0) /* case-sensitive */
			return tab[i].m;
	return HTTP_M_UNKNOWN;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3986 reg-name byte: unreserved / sub-delims ('%' is handled apart).
 * A switch, not strchr: every request's Host goes through here. */
static bool is_regname(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	switch (c) {
	case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
	case '(': case ')': case '*': case '+': case ',': case ';': case '=':
		return true;
	default:
		return false;
	}
}

/* Length of a plausible host at p (IP-literal, IPv4 or reg-name), 0 if none.
 * Bracketed literals are only checked for IPv6 characters. */
static size_t host_len(const char *p, size_t n)
{
	size_t i = 0;
	bool colon = false;

	if (n && p[0] == '[') {
		for (i = 1; i < n && (hexval(p[i]) >= 0 || p[i] == ':' || p[i] == '.'); i++)
			colon |= p[i] == ':';
		return i < n && p[i] == ']' && colon ? i + 1 : 0;
	}
	while (i < n) {
		if (p[i] == '%' && n - i >= 3 && hexval(p[i + 1]) >= 0 &&
		    hexval(p[i + 2]) >= 0)
			i += 3;
		else if (is_regname(p[i]))
			i++;
		else
			break;
	}
	return i;
}

/* host [":" port]; the port (1-5 digits, <= 65535) is required for CONNECT. */
static bool valid_authority(const char *p, size_t n, bool need_port)
{
	size_t h = host_len(p, n);
	unsigned port = 0;

	if (h == 0)
		return false;
	if (h == n)
		return !need_port;
	if (p[h] != ':' || n - h < 2 || n - h > 6)
		return false;
	for (size_t i = h + 1; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		port = port * 10 + (unsigned)(p[i] - '0');
	}
	return port <= 65535;
}

/* path up to the first '?', query after it. */
static void split_query(struct http_request *req, const char *p, size_t n)
{
	const char *q = memchr(p, '?', n);

	req->path.p = p;
	req->path.len = (uint32_t)(q ? (size_t)(q - p) : n);
	if (q) {
		req->query.p = q + 1;
		req->query.len = (uint32_t)(n - req->path.len - 1);
	}
}

/* "http://" or "https://" (case-insensitive): length of the prefix or 0. */
static size_t scheme_len(struct http_span t)
{
	if (t.len >= 7 && strncasecmp(t.p, "http://", 7) == 0)
		return 7;
	if (t.len >= 8 && strncasecmp(t.p, "https://", 8) == 0)
		return 8;
	return 0;
}

static int parse_absolute(struct http_request *req, size_t k)
{
	const char *a = req->target.p + k, *end = req->target.p + req->target.len;
	const char *rest = a;

	while (rest < end && *rest != '/' && *rest != '?')
		rest++;
	if (!valid_authority(a, (size_t)(rest - a), false)) /* also no userinfo */
		return 400;
	req->authority.p = a;
	req->authority.len = (uint32_t)(rest - a);
	split_query(req, rest, (size_t)(end - rest));
	if (req->path.len == 0) {
		/* Empty path means "/": point at the '/' of "//" so the span
		 * stays inside the caller's buffer. */
		req->path.p = req->target.p + k - 1;
		req->path.len = 1;
	}
	return 0;
}

static int parse_target(struct http_request *req)
{
	struct http_span t = req->target;
	size_t k;

	if (t.p[0] == '/') {
		split_query(req, t.p, t.len);
		return 0;
	}
	if (t.len == 1 && t.p[0] == '*')
		return 0;
	k = scheme_len(t);
	if (k)
		return parse_absolute(req, k);
	if (req->method == HTTP_M_CONNECT && valid_authority(t.p, t.len, true))
		return 0;
	return 400;
}

/* 1*18 DIGIT: 18 digits cannot overflow a uint64_t. A list ("5, 5"), a sign
 * or a second field are all refused, as request smuggling hides there. */
static int check_content_length(struct http_request *req, struct http_span v)
{
	uint64_t n = 0;

	if (req->has_content_length || v.len == 0 || v.len > 18)
		return 400;
	for (uint32_t i = 0; i < v.len; i++) {
		if (!is_digit(v.p[i]))
			return 400;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	req->has_content_length = true;
	req->content_length = n;
	return 0;
}

struct seen {
	bool host, close, keep_alive;
};

static int check_host(struct http_request *req, struct http_span v, struct seen *s)
{
	if (s->host)
		return 400;
	s->host = true;
	req->host = v;
	if (v.len == 0) /* allowed by RFC 9110 only where 1.0 clients send it */
		return req->minor == 1 ? 400 : 0;
	return valid_authority(v.p, v.len, false) ? 0 : 400;
}

static int check_field(struct http_request *req, const struct http_header *h,
		       struct seen *s)
{
	if (span_ieq(h->name, "host"))
		return check_host(req, h->value, s);
	if (span_ieq(h->name, "content-length"))
		return check_content_length(req, h->value);
	if (span_ieq(h->name, "transfer-encoding")) /* we take no bodies */
		return 400;
	if (span_ieq(h->name, "connection")) {
		s->close |= http_list_has(h->value, "close");
		s->keep_alive |= http_list_has(h->value, "keep-alive");
	}
	return 0;
}

static int check_head(struct http_request *req)
{
	struct seen s = { 0 };
	int r;

	req->method = method_of(req->method_str);
	r = parse_target(req);
	for (uint32_t i = 0; !r && i < req->nheaders; i++) {
		strip_ows(&req->headers[i].value);
		r = check_field(req, &req->headers[i], &s);
	}
	if (r)
		return r;
	if (req->minor == 1 && !s.host)
		return 400;
	req->keep_alive = !s.close && (req->minor == 1 || s.keep_alive);
	return 0;
}

static void req_reset(struct http_request *req)
{
	static const struct http_span none;

	req->method = HTTP_M_UNKNOWN;
	req->method_str = req->target = req->path = req->query = none;
	req->authority = req->host = none;
	req->minor = 0;
	req->nheaders = 0;
	req->keep_alive = false;
	req->has_content_length = false;
	req->content_length = 0;
	req->status = 0;
}

static int fail(struct http_request *req, int status)
{
	req->status = status;
	return -1;
}

int http_parse_request(const char *buf, size_t len, size_t *scan,
		       const struct http_limits *lim, struct http_request *req)
{
	struct lex L;
	int r;

	lex_init(&L, buf, len, lim);
	if (*scan && !lex_unpack(&L, *scan))
		lex_init(&L, buf, len, lim);
	if (L.pos == 0) { /* fresh: fill as we go, one pass in the common case */
		req_reset(req);
		L.req = req;
	}
	r = lex_run(&L);
	if (r == LEX_AGAIN) {
		*scan = lex_pack(&L);
		return -2;
	}
	if (r < 0) /* *scan stays: a repeated call finds the same error */
		return fail(req, -r);
	if (!L.req) { /* completed on a check-only pass: now fill from byte 0 */
		lex_init(&L, buf, len, lim);
		req_reset(req);
		L.req = req;
		r = lex_run(&L);
		if (r != LEX_DONE) /* cannot happen: same bytes, same machine */
			return fail(req, r < 0 ? -r : 500);
	}
	*scan = 0; /* ready for the next request */
	req->nheaders = L.nhdr;
	r = check_head(req);
	return r ? fail(req, r) : (int)L.pos;
}

const struct http_header *http_find_header(const struct http_request *req,
					   const char *name)
{
	for (uint32_t i = 0; i < req->nheaders; i++)
		if (span_ieq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

bool http_list_has(struct http_span v, const char *token)
{
	size_t i = 0, j;
	struct http_span e;

	if (v.len == 0) /* v.p may be NULL */
		return token[0] == '\0';
	while (i <= v.len) {
		for (j = i; j < v.len && v.p[j] != ','; j++)
			;
		e.p = v.p + i;
		e.len = (uint32_t)(j - i);
		strip_ows(&e);
		if (span_ieq(e, token))
			return true;
		i = j + 1;
	}
	return false;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}
