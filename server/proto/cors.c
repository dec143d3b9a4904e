/* cors: --cors origins, verdicts and their header lines (contract in
 * cors.h). Everything a response may carry is written once, in cors_init;
 * per request only the request's own header values are read. */
#include "cors.h"
#include "hdrs.h"
#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cors_safe[] = {
	"accept", "accept-language", "cache-control", "content-language", "if-match",
	"if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "range",
};
const unsigned cors_nsafe = sizeof(cors_safe) / sizeof(cors_safe[0]);

static bool is_alpha(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The parts of a serialised origin, or false. */
struct origin {
	size_t scheme_len;
	size_t host, host_len; /* offset and length */
	long port;             /* -1: none */
};

static bool parse_origin(const char *v, size_t n, struct origin *o)
{
	size_t i = 0;

	if (n == 0 || n > CORS_ORIGIN_MAX || !is_alpha(v[0]))
		return false;
	while (i < n && (is_alpha(v[i]) || is_digit(v[i]) || v[i] == '+' || v[i] == '-' ||
			 v[i] == '.'))
		i++;
	o->scheme_len = i;
	if (n - i < 3 || memcmp(v + i, "://", 3) != 0)
		return false;
	i += 3;
	o->host = i;
	if (i < n && v[i] == '[') {
		for (i++; i < n && v[i] != ']'; i++)
			if (!is_digit(v[i]) && !((v[i] | 0x20) >= 'a' && (v[i] | 0x20) <= 'f') &&
			    v[i] != ':' && v[i] != '.')
				return false;
		if (i == n || i == o->host + 1)
			return false;
		i++;
	} else {
		while (i < n && (is_alpha(v[i]) || is_digit(v[i]) || v[i] == '-' || v[i] == '.' ||
				 v[i] == '_' || v[i] == '~'))
			i++;
		if (i == o->host)
			return false;
	}
	o->host_len = i - o->host;
	o->port = -1;
	if (i < n && v[i] == ':') {
		size_t d = ++i;
		long port = 0;
		while (i < n && is_digit(v[i]) && i - d < 5)
			port = port * 10 + (v[i++] - '0');
		if (i == d || port > 65535)
			return false;
		o->port = port;
	}
	return i == n;
}

bool cors_origin_valid(const char *v, size_t n)
{
	struct origin o;

	return (n == 4 && memcmp(v, "null", 4) == 0) || parse_origin(v, n, &o);
}

int cors_normalize(const char *arg, char *out, size_t cap)
{
	size_t n = strnlen(arg, CORS_ORIGIN_MAX + 1);
	struct origin o;

	if (strcmp(arg, "*") == 0) {
		if (cap < 2)
			return -EINVAL;
		memcpy(out, "*", 2);
		return 1;
	}
	if (!parse_origin(arg, n, &o) || cap < n + 1)
		return -EINVAL;
	size_t len = o.host + o.host_len;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(is_alpha(arg[i]) ? arg[i] | 0x20 : arg[i]);
	out[len] = '\0';
	bool http = o.scheme_len == 4 && strncmp(out, "http", 4) == 0;
	bool https = o.scheme_len == 5 && strncmp(out, "https", 5) == 0;
	if (o.port >= 0 && !(http && o.port == 80) && !(https && o.port == 443))
		len += (size_t)snprintf(out + len, cap - len, ":%ld", o.port); /* fits: no longer than arg */
	return (int)len;
}

/* ---- the set ---- */

struct buf {
	char *p;
	size_t len;
};

static const char *put(struct buf *b, const char *first, ...) __attribute__((sentinel));
static const char *put(struct buf *b, const char *first, ...)
{
	const char *start = b->p + b->len;
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
	va_end(ap);
	b->p[b->len++] = '\0';
	return start;
}

int cors_init(struct cors_set *s, const char *const *args, unsigned n, unsigned max_age)
{
	char one[CORS_ORIGIN_MAX + 1];
	static const char expose[] = "Access-Control-Expose-Headers: " CORS_EXPOSE "\r\n";
	static const char vary[] = "Vary: Origin\r\n";

	memset(s, 0, sizeof(*s));
	if (n > CORS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (cors_normalize(args[i], one, sizeof(one)) < 0)
			return -EINVAL;
		s->any |= strcmp(one, "*") == 0;
	}
	snprintf(s->max_age, sizeof(s->max_age), "%u", max_age);
	if (n == 0)
		return 0;
	/* Each origin: itself, then two blocks naming it once each; the
	 * rest is fixed. Generous rather than exact. */
	size_t cap = 512 + (size_t)n * (4 * (CORS_ORIGIN_MAX + 64) + 2 * sizeof(expose));
	struct buf b = { malloc(cap), 0 };
	if (!b.p)
		return -ENOMEM;
	s->text = b.p;
	s->on = true;
	s->actual[CORS_REJECT] = s->preflight[CORS_REJECT] = put(&b, vary, NULL);
	s->preflight[CORS_ANY] = put(&b, "Access-Control-Allow-Origin: *\r\n", NULL);
	s->actual[CORS_ANY] = put(&b, "Access-Control-Allow-Origin: *\r\n", expose, NULL);
	if (s->any)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		int len = cors_normalize(args[i], one, sizeof(one));
		const char *o = put(&b, one, NULL);
		unsigned v = CORS_ORIGIN0 + s->n;
		bool dup = false;
		for (unsigned k = 0; k < s->n; k++)
			dup |= s->origin_len[k] == (size_t)len && memcmp(s->origin[k], o, (size_t)len) == 0;
		if (dup)
			continue;
		s->origin[s->n] = o;
		s->origin_len[s->n++] = (size_t)len;
		s->preflight[v] = put(&b, "Access-Control-Allow-Origin: ", one, "\r\n", vary, NULL);
		s->actual[v] = put(&b, "Access-Control-Allow-Origin: ", one, "\r\n", vary, expose, NULL);
	}
	return 0;
}

void cors_free(struct cors_set *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

unsigned cors_verdict(const struct cors_set *s, unsigned count, const char *origin, size_t len)
{
	if (!s->on)
		return CORS_OFF;
	if (count == 0)
		return s->any ? CORS_ANY : CORS_REJECT;
	if (count > 1 || !cors_origin_valid(origin, len))
		return CORS_REJECT;
	if (s->any)
		return CORS_ANY;
	for (unsigned k = 0; k < s->n; k++)
		if (s->origin_len[k] == len && memcmp(s->origin[k], origin, len) == 0)
			return CORS_ORIGIN0 + k;
	return CORS_REJECT;
}

const char *cors_lines(const struct cors_set *s, unsigned verdict)
{
	return verdict < CORS_ORIGIN0 + CORS_MAX ? s->actual[verdict] : NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int cors_safe_headers(const char *v, size_t n)
{
	unsigned items = 0;
	int safe = 0;

	if (n > CORS_REQ_HEADERS_MAX)
		return -1;
	for (size_t i = 0; i <= n;) {
		size_t e = i;
		while (e < n && v[e] != ',')
			e++;
		size_t a = i, z = e;
		while (a < z && is_ows(v[a]))
			a++;
		while (z > a && is_ows(v[z - 1]))
			z--;
		if (z > a) {
			if (!hdrs_is_token(v + a, z - a) || ++items > CORS_REQ_HEADERS_ITEMS)
				return -1;
			for (unsigned k = 0; k < cors_nsafe; k++)
				if (strlen(cors_safe[k]) == z - a && strncasecmp(v + a, cors_safe[k], z - a) == 0)
					safe |= 1 << k;
		}
		i = e + 1;
	}
	return safe;
}

/* How many fields are named `name`, and the first. */
static unsigned fields(const struct http_request *req, const char *name,
		       const struct http_header **first)
{
	size_t n = strlen(name);
	unsigned count = 0;

	*first = NULL;
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name.len == n && strncasecmp(h->name.p, name, n) == 0 && !count++)
			*first = h;
	}
	return count;
}

unsigned cors_request(const struct cors_set *s, const struct http_request *req, bool *preflight,
		      int *safe)
{
	const struct http_header *h;

	*preflight = false;
	*safe = 0;
	if (!s->on)
		return CORS_OFF;
	unsigned count = fields(req, "origin", &h);
	unsigned v = cors_verdict(s, count, h ? h->value.p : NULL, h ? h->value.len : 0);
	if (req->method != HTTP_M_OPTIONS)
		return v;
	count = fields(req, "access-control-request-method", &h);
	if (count == 0)
		return v; /* a plain OPTIONS: answered like any request */
	*preflight = true;
	if (count > 1 || !hdrs_is_token(h->value.p, h->value.len))
		return CORS_REJECT;
	count = fields(req, "access-control-request-headers", &h);
	if (count > 1)
		return CORS_REJECT;
	if (count == 1) {
		*safe = cors_safe_headers(h->value.p, h->value.len);
		if (*safe < 0) {
			*safe = 0;
			return CORS_REJECT;
		}
	}
	return v;
}

int cors_preflight_lines(const struct cors_set *s, unsigned verdict, int safe, char *out,
			 size_t cap)
{
	const char *origin = verdict < CORS_ORIGIN0 + CORS_MAX ? s->preflight[verdict] : NULL;
	size_t len = 0;
	bool first = true;

#define ADD(str)                                                        \
	do {                                                            \
		size_t n_ = strlen(str);                                \
		if (n_ > cap - len)                                     \
			return -ENOSPC;                                 \
		memcpy(out + len, str, n_);                             \
		len += n_;                                              \
	} while (0)

	if (!origin)
		return 0;
	ADD(origin);
	if (verdict == CORS_REJECT)
		return (int)len;
	ADD("Access-Control-Allow-Methods: " CORS_METHODS "\r\n");
	for (unsigned k = 0; k < cors_nsafe; k++) {
		if (!(safe >> k & 1))
			continue;
		ADD(first ? "Access-Control-Allow-Headers: " : ", ");
		ADD(cors_safe[k]);
		first = false;
	}
	if (!first)
		ADD("\r\n");
	ADD("Access-Control-Max-Age: ");
	ADD(s->max_age);
	ADD("\r\n");
#undef ADD
	return (int)len;
}
