/* fuzz_http: the request-head parser, in one piece and in pieces.
 *
 * Each input is parsed under two sets of limits (the defaults, and small
 * ones so 414/431 are reached), once whole and once fed as growing prefixes
 * cut at points derived from the input. Both must agree exactly, every span
 * must lie inside the head, and accepted heads must satisfy what the parser
 * promises. A violated invariant abort()s. */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static const struct http_limits lims[] = {
	{ 8192, 8192, 100 },
	{ 64, 200, 4 },
};

#define NSPAN (6 + 2 * HTTP_MAX_HEADERS)

/* A parse result with spans as offsets, so runs on different copies of the
 * same bytes compare with memcmp. */
struct outcome {
	int r, status, method, minor;
	uint32_t nheaders;
	int keep_alive, has_cl;
	uint64_t cl;
	uint32_t off[NSPAN], len[NSPAN];
};

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void put_span(struct outcome *o, int i, const char *buf, int r,
		     struct http_span s)
{
	if (s.len == 0)
		return;
	REQUIRE(s.p >= buf && s.p + s.len <= buf + r);
	o->off[i] = (uint32_t)(s.p - buf);
	o->len[i] = s.len;
}

static void check_header(const struct http_header *h)
{
	REQUIRE(h->name.len > 0);
	for (uint32_t i = 0; i < h->name.len; i++)
		REQUIRE(is_tchar((unsigned char)h->name.p[i]));
	for (uint32_t i = 0; i < h->value.len; i++) {
		unsigned char c = (unsigned char)h->value.p[i];
		REQUIRE(c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	if (h->value.len) {
		REQUIRE(h->value.p[0] != ' ' && h->value.p[0] != '\t');
		REQUIRE(h->value.p[h->value.len - 1] != ' ');
		REQUIRE(h->value.p[h->value.len - 1] != '\t');
	}
}

/* keep_alive agrees with the Connection fields and the version. */
static void check_keep_alive(const struct http_request *q)
{
	bool close = false, ka = false;

	for (uint32_t i = 0; i < q->nheaders; i++) {
		const struct http_header *h = &q->headers[i];
		if (h->name.len == 10 && strncasecmp(h->name.p, "connection", 10) == 0) {
			close |= http_list_has(h->value, "close");
			ka |= http_list_has(h->value, "keep-alive");
		}
	}
	REQUIRE(q->keep_alive == (!close && (q->minor == 1 || ka)));
}

static void check_accepted(const char *buf, int r, const struct http_request *q,
			   const struct http_limits *lim)
{
	REQUIRE(r >= 16 && memcmp(buf + r - 4, "\r\n\r\n", 4) == 0);
	REQUIRE((uint32_t)r <= lim->max_head);
	REQUIRE(q->status == 0 && (q->minor == 0 || q->minor == 1));
	REQUIRE(q->method_str.len > 0 && q->target.len > 0);
	/* the request line, with " HTTP/x.y" CRLF, is within max_line */
	REQUIRE(q->target.p + q->target.len + 11 - q->method_str.p <= lim->max_line);
	REQUIRE(q->method_str.p - buf <= 32); /* at most 16 leading CRLFs */
	for (uint32_t i = 0; i < q->target.len; i++)
		REQUIRE(q->target.p[i] > 0x20 && q->target.p[i] < 0x7f);
	REQUIRE(q->nheaders <= lim->max_headers && q->nheaders <= HTTP_MAX_HEADERS);
	for (uint32_t i = 0; i < q->nheaders; i++)
		check_header(&q->headers[i]);
	if (q->minor == 1)
		REQUIRE(q->host.len > 0 && http_find_header(q, "Host"));
	if (q->target.p[0] == '/')
		REQUIRE(q->path.len > 0 && q->path.p == q->target.p);
	if (q->path.len)
		REQUIRE(q->path.p[0] == '/');
	if (q->has_content_length)
		REQUIRE(q->content_length < 1000000000000000000ull);
	REQUIRE(!http_find_header(q, "transfer-encoding"));
	check_keep_alive(q);
}

static void summarize(struct outcome *o, const char *buf, int r,
		      const struct http_request *q, const struct http_limits *lim)
{
	memset(o, 0, sizeof(*o));
	o->r = r;
	REQUIRE(r >= -2);
	if (r == -1) {
		o->status = q->status;
		REQUIRE(q->status == 400 || q->status == 414 || q->status == 431 ||
			q->status == 505);
		REQUIRE(strcmp(http_reason(q->status), "Unknown") != 0);
	}
	if (r < 0)
		return;
	check_accepted(buf, r, q, lim);
	o->method = q->method;
	o->minor = q->minor;
	o->nheaders = q->nheaders;
	o->keep_alive = q->keep_alive;
	o->has_cl = q->has_content_length;
	o->cl = q->content_length;
	put_span(o, 0, buf, r, q->method_str);
	put_span(o, 1, buf, r, q->target);
	put_span(o, 2, buf, r, q->path);
	put_span(o, 3, buf, r, q->query);
	put_span(o, 4, buf, r, q->authority);
	put_span(o, 5, buf, r, q->host);
	for (uint32_t i = 0; i < q->nheaders; i++) {
		put_span(o, 6 + 2 * (int)i, buf, r, q->headers[i].name);
		put_span(o, 7 + 2 * (int)i, buf, r, q->headers[i].value);
	}
}

/* Parse data[0..n) from an exactly sized copy, so ASan sees any overread. */
static int parse_copy(const uint8_t *data, size_t n, size_t *scan,
		      const struct http_limits *lim, struct http_request *q,
		      struct outcome *o)
{
	char *buf = malloc(n ? n : 1);
	int r;

	memcpy(buf, data, n);
	r = http_parse_request(buf, n, scan, lim, q);
	summarize(o, buf, r, q, lim);
	free(buf);
	return r;
}

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h;
}

static void sort3(size_t c[3])
{
	size_t t;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (c[j] > c[j + 1]) {
				t = c[j];
				c[j] = c[j + 1];
				c[j + 1] = t;
			}
}

static struct http_request q1, q2;
static struct outcome o1, o2;

static void one_vs_pieces(const uint8_t *data, size_t size,
			  const struct http_limits *lim)
{
	uint64_t h = fnv1a(data, size);
	size_t cut[3], scan = 0;
	int r1, r2 = -2;

	r1 = parse_copy(data, size, &scan, lim, &q1, &o1);
	REQUIRE(r1 != -2 || scan != 0 || size == 0);
	for (int i = 0; i < 3; i++)
		cut[i] = (size_t)(h >> (i * 21)) % (size + 1);
	sort3(cut);
	scan = 0;
	for (int i = 0; i < 4 && r2 == -2; i++)
		r2 = parse_copy(data, i < 3 ? cut[i] : size, &scan, lim, &q2, &o2);
	REQUIRE(r1 == r2);
	REQUIRE(memcmp(&o1, &o2, sizeof(o1)) == 0);
	if (r1 >= 0)
		REQUIRE(scan == 0);
}

/* Heads after the first (pipelining), one piece each. */
static void pipelined(const uint8_t *data, size_t size, const struct http_limits *lim)
{
	size_t at = 0, scan;
	int r;

	for (int i = 0; i < 8 && at < size; i++) {
		scan = 0;
		r = parse_copy(data + at, size - at, &scan, lim, &q1, &o1);
		if (r <= 0)
			break;
		at += (size_t)r;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		one_vs_pieces(data, size, &lims[i]);
		pipelined(data, size, &lims[i]);
	}
	return 0;
}
