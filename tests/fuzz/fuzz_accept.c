/* fuzz_accept: the Accept header walk (accept_q, accept_type_q).
 *
 * Each input line is the value of one Accept field of a request, kept in
 * an exactly sized copy. Invariants: q-values stay within -1..1000; the
 * fields joined by commas into one give the same answers (several fields
 * are one list); upper-casing everything changes nothing (types and "q"
 * are case-insensitive); a further field "* / *;q=0" turns "nothing
 * matches" into 0 and leaves any other answer alone; no field at all is
 * 1000. A violated invariant abort()s. */
#include "accept.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

#define FIELDS 32

static struct http_request req;

/* A request whose Accept fields are vals[0..n), exactly sized copies. */
static void build(char **copies, const char *const *vals, const size_t *lens, int n)
{
	memset(&req, 0, sizeof(req));
	for (int i = 0; i < n; i++) {
		copies[i] = malloc(lens[i] ? lens[i] : 1);
		memcpy(copies[i], vals[i], lens[i]);
		req.headers[i].name = (struct http_span){ "Accept", 6 };
		req.headers[i].value = (struct http_span){ copies[i], (uint32_t)lens[i] };
	}
	req.nheaders = (uint32_t)n;
}

static void drop(char **copies, int n)
{
	for (int i = 0; i < n; i++)
		free(copies[i]);
}

struct answers {
	int html, text, json;
};

static struct answers ask(const char *const *vals, const size_t *lens, int n)
{
	char *copies[FIELDS + 1];
	struct answers a;

	build(copies, vals, lens, n);
	a.html = accept_type_q(&req, "text/html");
	a.text = accept_type_q(&req, "text/plain");
	a.json = accept_q(&req, "application/json");
	REQUIRE(a.html >= -1 && a.html <= 1000);
	REQUIRE(a.text >= -1 && a.text <= 1000);
	REQUIRE(a.json >= -1 && a.json <= 1000);
	if (n == 0)
		REQUIRE(a.html == 1000 && a.text == 1000 && a.json == -1);
	drop(copies, n);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *vals[FIELDS + 1] = { 0 };
	size_t lens[FIELDS + 1] = { 0 };
	int n = 0;
	const char *p = (const char *)data, *end = p + size;

	while (p < end && n < FIELDS) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		vals[n] = p;
		lens[n] = (size_t)((e ? e : end) - p);
		n++;
		p = e ? e + 1 : end;
	}
	struct answers a = ask(vals, lens, n);

	/* One field holding them all. */
	if (n > 0) {
		size_t total = 0;
		for (int i = 0; i < n; i++)
			total += lens[i] + 1;
		char *joined = malloc(total);
		size_t at = 0;
		for (int i = 0; i < n; i++) {
			memcpy(joined + at, vals[i], lens[i]);
			at += lens[i];
			if (i + 1 < n)
				joined[at++] = ',';
		}
		const char *jv[1] = { joined };
		struct answers b = ask(jv, &at, 1);
		REQUIRE(b.html == a.html && b.text == a.text && b.json == a.json);
		free(joined);
	}

	/* Upper case. */
	char *up = malloc(size ? size : 1);
	const char *uv[FIELDS + 1];
	for (size_t i = 0; i < size; i++)
		up[i] = (char)(data[i] >= 'a' && data[i] <= 'z' ? data[i] - 32 : data[i]);
	for (int i = 0; i < n; i++)
		uv[i] = up + (vals[i] - (const char *)data);
	struct answers u = ask(uv, lens, n);
	REQUIRE(u.html == a.html && u.text == a.text && u.json == a.json);
	free(up);

	/* A refusal of everything, most general: only fills a gap. */
	vals[n] = "*/*;q=0";
	lens[n] = 7;
	struct answers z = ask(vals, lens, n + 1);
	REQUIRE(z.html == (a.html == -1 || n == 0 ? 0 : a.html));
	REQUIRE(z.json == a.json);
	return 0;
}
