/* fuzz_sitepath: the site-path rules on what a client or an option gives.
 *
 * The input is taken three ways. As a request path (normalised as the
 * server does): the extension and clean-URL rules must agree with plain
 * references, and a 308 Location built from a clean URL must be visible
 * ASCII that normalises back to the same path. As an --error-page or
 * --fallback value: accepted values are within range, normalise, and land
 * in the page table. A violated invariant abort()s. */
#include "path.h"
#include "resp.h"
#include "sitepath.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static const struct resp_opts OPTS = { "", "", "" };

static bool ref_has_ext(const char *p, size_t n)
{
	const char *seg = p;

	for (size_t i = 0; i < n; i++)
		if (p[i] == '/')
			seg = p + i + 1;
	for (const char *q = seg + 1; q < p + n; q++)
		if (*q == '.')
			return true;
	return false;
}

static bool ends_with(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	return n >= k && memcmp(p + n - k, s, k) == 0;
}

static void check_location(const char *path, size_t k)
{
	static char head[3 * 4096 + 512], back[4096 + 8];
	struct resp_conn rc = { "Sun, 06 Nov 1994 08:49:37 GMT", true, 1, &OPTS, NULL, 0, NULL, NULL };
	int len = resp_redirect_path(head, sizeof(head), 308, path, k, "q=1", 3, true, &rc);

	REQUIRE(len > 0);
	char *loc = strstr(head, "\r\nLocation: ");
	REQUIRE(loc);
	loc += 12;
	char *eol = strstr(loc, "\r\n");
	REQUIRE(eol && eol - loc >= 5 && memcmp(eol - 4, "?q=1", 4) == 0);
	size_t ln = (size_t)(eol - loc) - 4;
	for (size_t i = 0; i < ln; i++)
		REQUIRE(loc[i] > 0x20 && loc[i] < 0x7f && loc[i] != '?' && loc[i] != '#');
	bool trailing;
	int r = path_normalize(loc, ln, back, sizeof(back), &trailing);
	size_t want = k && path[k - 1] == '/' ? k - 1 : k;
	REQUIRE(r >= 0 && (size_t)r == want && memcmp(back, path, want) == 0);
	REQUIRE(trailing == (k == 0 || path[k - 1] == '/'));
}

static void as_request_path(const char *s, size_t size)
{
	static char norm[4096];
	bool trailing;
	int r = path_normalize(s, size, norm, sizeof(norm), &trailing);

	if (r < 0)
		return;
	size_t n = (size_t)r;
	REQUIRE(sitepath_has_ext(norm, n) == ref_has_ext(norm, n));
	REQUIRE(sitepath_clean_candidate(norm, n) == (n > 0 && !ends_with(norm, n, ".html")));
	int k = sitepath_clean_url(norm, n);
	const char *seg = strrchr(norm, '/');
	seg = seg ? seg + 1 : norm;
	size_t stem = strlen(seg) >= 5 ? strlen(seg) - 5 : 0;
	bool none = !ends_with(norm, n, ".html") || stem == 0 ||
		    (stem <= 2 && memcmp(seg, "..", stem) == 0);
	REQUIRE((k < 0) == none);
	if (k < 0)
		return;
	REQUIRE(ends_with(norm, n, ".html") && (size_t)k <= n - 5);
	if ((size_t)k < n - 5)
		REQUIRE(ends_with(norm, n, "index.html") && (k == 0 || norm[k - 1] == '/') &&
			(size_t)k == n - 10);
	check_location(norm, (size_t)k);
}

static void as_option(const char *s)
{
	struct sitepath_page p;
	struct sitepath_table t;
	static char norm[4096];

	int r = sitepath_normalize(s, norm, sizeof(norm));
	if (r >= 0) {
		REQUIRE(s[0] == '/' && r > 0 && norm[r - 1] != '/');
		REQUIRE(sitepath_table_init(&t, s, NULL, 0) == 0 && strcmp(t.fallback, norm) == 0);
		sitepath_table_free(&t);
	}
	if (sitepath_parse_page(s, &p) == 0) {
		REQUIRE(p.lo >= SITEPATH_FIRST && p.hi <= SITEPATH_LAST && p.lo <= p.hi);
		REQUIRE(p.hi == p.lo || (p.lo % 100 == 0 && p.hi == p.lo + 99));
		REQUIRE(p.path[0] == '/' && p.arg == s);
		REQUIRE(sitepath_normalize(p.path, norm, sizeof(norm)) > 0);
		REQUIRE(sitepath_table_init(&t, NULL, &p, 1) == 0);
		REQUIRE(strcmp(sitepath_page_for(&t, (int)p.lo), norm) == 0);
		REQUIRE(strcmp(sitepath_page_for(&t, (int)p.hi), norm) == 0);
		REQUIRE(!sitepath_page_for(&t, (int)p.lo - 1) || p.lo % 100 != 0);
		sitepath_table_free(&t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	as_request_path(s, size); /* exactly sized: the path is not NUL-terminated */
	s[size] = '\0';
	if (strlen(s) == size)
		as_option(s);
	free(s);
	return 0;
}
