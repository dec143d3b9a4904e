/* fuzz_cors: the Origin check, the Access-Control-Request-Headers filter
 * and whole requests against CORS sets.
 *
 * The input is an Origin value, a newline, an Access-Control-Request-
 * Headers value, a newline, then a raw request head. Invariants: a valid
 * Origin normalises to a valid origin no longer than itself, and again to
 * itself; a list verdict names an origin only when the bytes are that
 * origin's; "*" answers every valid Origin and no invalid one; every line a
 * verdict or a preflight carries is "Name: value" CRLF with no other CR or
 * LF, and never holds bytes of the request; the filter's bits name
 * elements of the list, and it refuses what is over its limits. Every
 * value is handed over in an exactly sized copy (ASan sees overreads). A
 * violated invariant abort()s. */
#include "cors.h"
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

static const char *const LIST[] = { "https://a.example", "http://localhost:8080",
				    "http://[::1]:3000" };
static struct cors_set list, any;
static bool ready;

static void setup(void)
{
	static const char *const star[] = { "*" };

	if (ready)
		return;
	REQUIRE(cors_init(&list, LIST, 3, 600) == 0);
	REQUIRE(cors_init(&any, star, 1, 600) == 0);
	ready = true;
}

/* Whole lines "Name: value\r\n", nothing else. */
static void well_formed(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *colon = memchr(s + i, ':', n - i);
		REQUIRE(colon && colon > s + i);
		const char *crlf = memchr(s + i, '\r', n - i);
		REQUIRE(crlf && crlf > colon && (size_t)(crlf - s) + 1 < n && crlf[1] == '\n');
		for (const char *p = s + i; p < crlf; p++)
			REQUIRE(*p != '\n' && *p != '\0');
		i = (size_t)(crlf - s) + 2;
	}
}

static char *copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	return c;
}

static void check_origin(const char *o, size_t n)
{
	char *c = copy(o, n);
	bool ok = cors_origin_valid(c, n);

	if (ok && !(n == 4 && memcmp(c, "null", 4) == 0) && !memchr(c, '\0', n)) {
		char *z = malloc(n + 1), out[CORS_ORIGIN_MAX + 1], again[CORS_ORIGIN_MAX + 1];
		memcpy(z, c, n);
		z[n] = '\0';
		int len = cors_normalize(z, out, sizeof(out));
		REQUIRE(len > 0 && (size_t)len <= n && cors_origin_valid(out, (size_t)len));
		REQUIRE(cors_normalize(out, again, sizeof(again)) == len && strcmp(out, again) == 0);
		free(z);
	}
	unsigned v = cors_verdict(&list, 1, c, n);
	REQUIRE(v == CORS_REJECT || (v >= CORS_ORIGIN0 && v < CORS_ORIGIN0 + 3));
	if (v >= CORS_ORIGIN0)
		REQUIRE(ok && strlen(LIST[v - CORS_ORIGIN0]) == n &&
			memcmp(LIST[v - CORS_ORIGIN0], c, n) == 0);
	REQUIRE(cors_verdict(&any, 1, c, n) == (ok ? CORS_ANY : CORS_REJECT));
	REQUIRE(cors_verdict(&list, 2, c, n) == CORS_REJECT);
	const char *lines = cors_lines(&list, v);
	REQUIRE(lines);
	well_formed(lines, strlen(lines));
	free(c);
}

static void check_request_headers(const char *h, size_t n)
{
	char *c = copy(h, n);
	int safe = cors_safe_headers(c, n);

	REQUIRE(safe >= -1 && safe < (1 << cors_nsafe));
	if (n > CORS_REQ_HEADERS_MAX)
		REQUIRE(safe == -1);
	for (unsigned k = 0; safe > 0 && k < cors_nsafe; k++) {
		if (!(safe >> k & 1))
			continue;
		/* The name is an element: bounded by the ends, commas or blanks. */
		size_t len = strlen(cors_safe[k]);
		bool found = false;
		for (size_t i = 0; i + len <= n && !found; i++)
			found = strncasecmp(c + i, cors_safe[k], len) == 0 &&
				(i == 0 || c[i - 1] == ',' || c[i - 1] == ' ' || c[i - 1] == '\t') &&
				(i + len == n || c[i + len] == ',' || c[i + len] == ' ' ||
				 c[i + len] == '\t');
		REQUIRE(found);
	}
	char out[1024];
	for (unsigned v = CORS_REJECT; v < CORS_ORIGIN0 + 3; v++) {
		int len = cors_preflight_lines(&list, v, safe < 0 ? 0 : safe, out, sizeof(out));
		REQUIRE(len > 0);
		well_formed(out, (size_t)len);
	}
	free(c);
}

static void check_request(const char *r, size_t n)
{
	static struct http_request req;
	static const struct http_limits lim = { 8192, 16384, 100 };
	char *c = copy(r, n);
	size_t scan = 0;
	bool pre;
	int safe;

	if (http_parse_request(c, n, &scan, &lim, &req) > 0) {
		unsigned v = cors_request(&list, &req, &pre, &safe);
		REQUIRE(v == CORS_REJECT || (v >= CORS_ORIGIN0 && v < CORS_ORIGIN0 + 3));
		REQUIRE(!pre || req.method == HTTP_M_OPTIONS);
		REQUIRE(safe >= 0 && safe < (1 << cors_nsafe));
		v = cors_request(&any, &req, &pre, &safe);
		REQUIRE(v == CORS_ANY || v == CORS_REJECT);
	}
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *nl1 = memchr(p, '\n', size);
	const char *o = p, *h = nl1 ? nl1 + 1 : end;
	size_t on = (size_t)((nl1 ? nl1 : end) - p);
	const char *nl2 = memchr(h, '\n', (size_t)(end - h));
	size_t hn = (size_t)((nl2 ? nl2 : end) - h);
	const char *r = nl2 ? nl2 + 1 : end;

	setup();
	check_origin(o, on);
	check_request_headers(h, hn);
	check_request(r, (size_t)(end - r));
	return 0;
}
