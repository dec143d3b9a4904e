/* fuzz_hdrs: the --header glob matcher on request paths, and --header
 * parsing.
 *
 * The input is a glob, a newline, a path (as a client could make it after
 * decoding), a newline, then a --header argument. Invariants: the glob
 * automaton agrees with a memoised recursive reference; selecting a set
 * built from the argument picks its rule exactly when its glob matches
 * "/" + the path (or always, without a glob); an accepted argument has a
 * token name, a value without CR, LF or NUL, and writes back as exactly
 * "Name: value" CRLF. A violated invariant abort()s. */
#include "hdrs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

#define RG 64  /* reference sizes */
#define RP 256

struct ref {
	const char *g, *p;
	size_t gn, pn;
	signed char memo[RG + 1][RP + 1]; /* 0 unknown, 1 yes, -1 no */
};

/* Does p[pi..] match g[gi..]? The rules of hdrs.h, read literally. */
static bool ref(struct ref *r, size_t gi, size_t pi)
{
	signed char *m = &r->memo[gi][pi];
	const char *g = r->g;
	bool ok = false;

	if (*m)
		return *m > 0;
	if (gi == r->gn) {
		ok = pi == r->pn;
	} else if (gi + 1 < r->gn && g[gi] == '*' && g[gi + 1] == '*') {
		if (gi > 0 && g[gi - 1] == '/' && gi + 2 < r->gn && g[gi + 2] == '/')
			ok = ref(r, gi + 3, pi);
		for (size_t k = pi; !ok && k <= r->pn; k++)
			ok = ref(r, gi + 2, k);
	} else if (g[gi] == '*') {
		for (size_t k = pi; !ok && k <= r->pn; k++) {
			ok = ref(r, gi + 1, k);
			if (k < r->pn && r->p[k] == '/')
				break;
		}
	} else if (g[gi] == '?') {
		ok = pi < r->pn && r->p[pi] != '/' && ref(r, gi + 1, pi + 1);
	} else {
		ok = pi < r->pn && r->p[pi] == g[gi] && ref(r, gi + 1, pi + 1);
	}
	*m = ok ? 1 : -1;
	return ok;
}

static char *copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	return c;
}

static void check_glob(const char *g0, size_t gn, const char *p0, size_t pn)
{
	char *g = copy(g0, gn), *p = copy(p0, pn);
	bool got = hdrs_glob_match(g, gn, p, pn);

	if (gn <= RG && pn <= RP) {
		static struct ref r;
		memset(r.memo, 0, sizeof(r.memo));
		r.g = g;
		r.p = p;
		r.gn = gn;
		r.pn = pn;
		REQUIRE(got == ref(&r, 0, 0));
	}
	if (gn > HDRS_GLOB_MAX)
		REQUIRE(!got);
	free(g);
	free(p);
}

static void check_spec(const char *s, size_t n, const char *path, size_t pn)
{
	char *arg = malloc(n + 1);
	struct hdrs_spec h;
	const char *why = NULL;

	memcpy(arg, s, n);
	arg[n] = '\0';
	if (hdrs_parse(arg, &h, &why) != 0) {
		REQUIRE(why && why[0]);
		free(arg);
		return;
	}
	REQUIRE(hdrs_is_token(h.name, h.name_len) && h.value_len > 0);
	for (size_t i = 0; i < h.value_len; i++)
		REQUIRE(h.value[i] != '\r' && h.value[i] != '\n' && h.value[i] != '\0');
	REQUIRE(!h.glob || (h.glob[0] == '/' && h.glob_len <= HDRS_GLOB_MAX &&
			    !memchr(h.glob, ' ', h.glob_len)));
	struct hdrs_set set;
	const char *args[1] = { arg };
	REQUIRE(hdrs_init(&set, args, 1) == 0);
	char line[HDRS_SPEC_MAX + 8];
	int len = hdrs_write(&set, 1, line, sizeof(line));
	REQUIRE(len > 0 && (size_t)len == hdrs_line_len(&h));
	REQUIRE(memcmp(line, h.name, h.name_len) == 0 && memcmp(line + h.name_len, ": ", 2) == 0);
	REQUIRE(memcmp(line + len - 2, "\r\n", 2) == 0);
	/* The set picks the rule for the path as the glob says. */
	const char *rel = pn && path[0] == '/' ? path + 1 : path;
	size_t rn = pn && path[0] == '/' ? pn - 1 : pn;
	if (!memchr(rel, '\0', rn)) {
		char *full = malloc(rn + 1);
		full[0] = '/';
		memcpy(full + 1, rel, rn);
		bool want = !h.glob || hdrs_glob_match(h.glob, h.glob_len, full, rn + 1);
		REQUIRE((hdrs_select(&set, rel, rn, false) == 1) == want);
		free(full);
	}
	hdrs_free(&set);
	free(arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *nl1 = memchr(p, '\n', size);
	const char *g = p, *path = nl1 ? nl1 + 1 : end;
	size_t gn = (size_t)((nl1 ? nl1 : end) - p);
	const char *nl2 = memchr(path, '\n', (size_t)(end - path));
	size_t pn = (size_t)((nl2 ? nl2 : end) - path);
	const char *spec = nl2 ? nl2 + 1 : end;

	check_glob(g, gn, path, pn);
	if (!memchr(spec, '\0', (size_t)(end - spec)))
		check_spec(spec, (size_t)(end - spec), path, pn);
	return 0;
}
