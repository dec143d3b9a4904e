/* hdrs: --header parsing and refusals, the glob rules (against a plain
 * backtracking reference on every small glob and path), rule selection
 * (globs winning over global rules, later globs over earlier ones,
 * several lines of one name), replaced built-ins, limits. */
#include "hdrs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static void test_parse(void)
{
	struct hdrs_spec h;
	const char *why = NULL;

	CHECK(hdrs_parse("X-Frame-Options: DENY", &h, &why) == 0);
	CHECK(!h.glob && h.name_len == 15 && strncmp(h.name, "X-Frame-Options", 15) == 0);
	CHECK(h.value_len == 4 && strncmp(h.value, "DENY", 4) == 0 && h.replaces == 0);
	CHECK(hdrs_line_len(&h) == strlen("X-Frame-Options: DENY\r\n"));

	CHECK(hdrs_parse("/assets/* Cache-Control: public, max-age=31536000", &h, &why) == 0);
	CHECK(h.glob_len == 9 && strncmp(h.glob, "/assets/*", 9) == 0);
	CHECK(h.value_len == 24 && h.replaces == HDRS_R_CACHE_CONTROL);

	/* Blanks: around the value dropped, inside kept; tabs between glob and name. */
	CHECK(hdrs_parse("X-A:b", &h, &why) == 0 && h.value_len == 1);
	CHECK(hdrs_parse("X-A: \t a \t b \t", &h, &why) == 0 && h.value_len == 5 &&
	      strncmp(h.value, "a \t b", 5) == 0);
	CHECK(hdrs_parse("/x\t\t X-A: b", &h, &why) == 0 && h.glob_len == 2);
	CHECK(hdrs_parse("X-U: caf\xc3\xa9", &h, &why) == 0); /* obs-text is allowed */
	CHECK(hdrs_parse("server: x", &h, &why) == 0 && h.replaces == HDRS_R_SERVER);
	CHECK(hdrs_parse("X-CONTENT-TYPE-OPTIONS: nosniff", &h, &why) == 0 &&
	      h.replaces == HDRS_R_NOSNIFF);
	CHECK(hdrs_parse("access-control-allow-credentials: true", &h, &why) == -EINVAL &&
	      strstr(why, "--cors"));
	CHECK(hdrs_parse("Link: </a.css>; rel=preload; as=style", &h, &why) == 0);
	CHECK(hdrs_parse("!#$%&'*+-.^_`|~09az: x", &h, &why) == 0);

	static const char *const bad[] = {
		"", "X-A", "X A: b", "X-A : b", "X-A:", "X-A:   \t", "X(A): b", "X@A: b",
		": b", "X-A: a\r\nB: c", "X-A: a\nb", "X-A: a\rb", "X-A: \x01", "X-A: \x7f",
		"X-\x80: b", "/glob", "/glob  ", "/a\x01 X: y", " X-A: b", "/a /b X: y",
		"Content-Length: 5", "content-type: text/plain", "Vary: Cookie", "ETag: \"x\"",
		"Connection: close", "Transfer-Encoding: chunked", "Date: x", "Last-Modified: x",
		"Location: /", "Allow: GET", "Accept-Ranges: none", "Content-Range: x",
		"Content-Encoding: gzip", "Access-Control-Allow-Origin: *",
		"/x access-control-max-age: 5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (hdrs_parse(bad[i], &h, &why) != -EINVAL || !why || !why[0]) {
			fprintf(stderr, "  accepted: '%s'\n", bad[i]);
			failures++;
		}
	}

	/* Lengths: the glob and the whole argument. */
	char arg[HDRS_SPEC_MAX + 64];
	memset(arg, 'a', sizeof(arg));
	arg[0] = '/';
	memcpy(arg + HDRS_GLOB_MAX, " X: y", 6);
	CHECK(hdrs_parse(arg, &h, &why) == 0 && h.glob_len == HDRS_GLOB_MAX);
	arg[HDRS_GLOB_MAX] = 'a';
	memcpy(arg + HDRS_GLOB_MAX + 1, " X: y", 6);
	CHECK(hdrs_parse(arg, &h, &why) == -EINVAL && strstr(why, "glob"));
	memcpy(arg, "X: ", 3);
	memset(arg + 3, 'v', sizeof(arg) - 3);
	arg[HDRS_SPEC_MAX] = '\0';
	CHECK(hdrs_parse(arg, &h, &why) == 0);
	arg[HDRS_SPEC_MAX] = 'v';
	arg[HDRS_SPEC_MAX + 1] = '\0';
	CHECK(hdrs_parse(arg, &h, &why) == -EINVAL && strstr(why, "4096"));
}

/* The reference: plain recursion over the rules of hdrs.h. */
static bool ref(const char *g0, const char *g, const char *p)
{
	if (!*g)
		return !*p;
	if (g[0] == '*' && g[1] == '*') {
		if (g > g0 && g[-1] == '/' && g[2] == '/' && ref(g0, g + 3, p))
			return true;
		for (size_t k = 0;; k++) {
			if (ref(g0, g + 2, p + k))
				return true;
			if (!p[k])
				return false;
		}
	}
	if (g[0] == '*') {
		for (size_t k = 0;; k++) {
			if (ref(g0, g + 1, p + k))
				return true;
			if (!p[k] || p[k] == '/')
				return false;
		}
	}
	if (g[0] == '?')
		return *p && *p != '/' && ref(g0, g + 1, p + 1);
	return *p == *g && ref(g0, g + 1, p + 1);
}

static bool m(const char *g, const char *p)
{
	return hdrs_glob_match(g, strlen(g), p, strlen(p));
}

static void test_glob(void)
{
	static const struct {
		const char *g, *p;
		bool want;
	} t[] = {
		{ "/assets/*", "/assets/app.js", true },
		{ "/assets/*", "/assets/", true },
		{ "/assets/*", "/assets/a/b.js", false },
		{ "/assets/*", "/assets", false },
		{ "/assets/*", "/assetsx/a", false },
		{ "/assets/**", "/assets/a/b/c.js", true },
		{ "/assets/**", "/assets/", true },
		{ "/**.js", "/a/b/c.js", true },
		{ "/**.js", "/a.css", false },
		{ "/**/*.js", "/app.js", true },
		{ "/**/*.js", "/a/b/app.js", true },
		{ "/a/**/b", "/a/b", true },
		{ "/a/**/b", "/a/x/y/b", true },
		{ "/a/**/b", "/ab", false },
		{ "/**/", "/", true },
		{ "/**/", "/a", false },
		{ "/**/", "/a/", true },
		{ "/a/**/b", "/a//b", true },
		{ "/a**/b", "/a/b", true },
		{ "/a**/b", "/b", false },
		{ "/*.html", "/index.html", true },
		{ "/*.html", "/d/index.html", false },
		{ "/?.txt", "/a.txt", true },
		{ "/?.txt", "/ab.txt", false },
		{ "/?", "//", false },
		{ "/", "/", true },
		{ "/", "/a", false },
		{ "/a", "/a", true },
		{ "/A", "/a", false },
		{ "/*", "/", true },
		{ "/a*b*c", "/aXbYc", true },
		{ "/a*b*c", "/aXbY/c", false },
		{ "/**", "/", true },
		{ "/***", "/a/b", true },
		{ "/a b", "/a b", true },
		{ "/[ab]", "/[ab]", true },
		{ "/[ab]", "/a", false },
		{ "/caf\xc3\xa9/*", "/caf\xc3\xa9/x", true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (m(t[i].g, t[i].p) != t[i].want || ref(t[i].g, t[i].g, t[i].p) != t[i].want) {
			fprintf(stderr, "  glob '%s' on '%s': got %d, reference %d, want %d\n", t[i].g,
				t[i].p, m(t[i].g, t[i].p), ref(t[i].g, t[i].g, t[i].p), t[i].want);
			failures++;
		}
	}

	/* Every glob over {a, /, *, ?} up to 6 bytes on every path over
	 * {a, b, /} up to 6 bytes: the automaton agrees with the reference. */
	static const char ga[] = "a/*?", pa[] = "ab/";
	char g[8], p[8];
	unsigned bad = 0;
	for (unsigned gl = 0; gl <= 6; gl++) {
		unsigned gn = 1;
		for (unsigned i = 0; i < gl; i++)
			gn *= 4;
		for (unsigned gi = 0; gi < gn; gi++) {
			for (unsigned i = 0, x = gi; i < gl; i++, x /= 4)
				g[i] = ga[x % 4];
			g[gl] = '\0';
			for (unsigned pl = 0; pl <= 6; pl++) {
				unsigned pn = 1;
				for (unsigned i = 0; i < pl; i++)
					pn *= 3;
				for (unsigned pi = 0; pi < pn; pi++) {
					for (unsigned i = 0, x = pi; i < pl; i++, x /= 3)
						p[i] = pa[x % 3];
					p[pl] = '\0';
					if (m(g, p) != ref(g, g, p) && bad++ < 5)
						fprintf(stderr, "  glob '%s' on '%s': %d, reference %d\n", g, p,
							m(g, p), ref(g, g, p));
				}
			}
		}
	}
	CHECK(bad == 0);

	/* A glob that makes a backtracking matcher explode, on a long path. */
	char path[4100];
	path[0] = '/';
	memset(path + 1, 'a', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';
	const char *evil = "/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
	clock_t t0 = clock();
	for (int i = 0; i < 10; i++)
		CHECK(!m(evil, path));
	CHECK(!m("/**a**a**a**a**a**a**a**a**a**a**b", path));
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(secs < 2.0); /* linear in each length: well under a millisecond each */

	char long_glob[HDRS_GLOB_MAX + 2];
	memset(long_glob, '*', sizeof(long_glob) - 1);
	long_glob[sizeof(long_glob) - 1] = '\0';
	CHECK(!m(long_glob, "/a")); /* over the limit: matches nothing */
	long_glob[HDRS_GLOB_MAX] = '\0';
	CHECK(m(long_glob, "/a/b"));
}

static uint64_t sel(const struct hdrs_set *s, const char *rel, bool trailing)
{
	return hdrs_select(s, rel, strlen(rel), trailing);
}

static const char *written(const struct hdrs_set *s, uint64_t on)
{
	static char out[HDRS_TEXT_MAX + 1];
	int n = hdrs_write(s, on, out, sizeof(out) - 1);

	out[n < 0 ? 0 : n] = '\0';
	return out;
}

static void test_set(void)
{
	const char *args[] = {
		"X-Frame-Options: DENY",                       /* 0 */
		"Cache-Control: no-cache",                     /* 1 */
		"/assets/* Cache-Control: max-age=31536000",   /* 2 */
		"/assets/*.map Cache-Control: no-store",       /* 3 */
		"/assets/* Link: </a.css>; rel=preload",       /* 4 */
		"/assets/* Link: </b.js>; rel=preload",        /* 5 */
		"/dir/ X-Dir: yes",                            /* 6 */
		"/ X-Root: yes",                               /* 7 */
		"/**.html Server: pages",                      /* 8 */
	};
	struct hdrs_set s;

	CHECK(hdrs_init(&s, args, 9) == 0 && s.n == 9);
	CHECK(sel(&s, "a.txt", false) == (1u << 0 | 1u << 1));
	CHECK(strcmp(written(&s, sel(&s, "a.txt", false)),
		     "X-Frame-Options: DENY\r\nCache-Control: no-cache\r\n") == 0);
	/* A glob wins over the global rule, whatever the order... */
	CHECK(sel(&s, "assets/app.js", false) == (1u << 0 | 1u << 2 | 1u << 4 | 1u << 5));
	CHECK(strcmp(written(&s, sel(&s, "assets/app.js", false)),
		     "X-Frame-Options: DENY\r\nCache-Control: max-age=31536000\r\n"
		     "Link: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n") == 0);
	/* ...and a later glob over an earlier one. */
	CHECK(sel(&s, "assets/app.js.map", false) == (1u << 0 | 1u << 3 | 1u << 4 | 1u << 5));
	CHECK(sel(&s, "assets/sub/x.js", false) == (1u << 0 | 1u << 1));
	CHECK(sel(&s, "dir", true) == (1u << 0 | 1u << 1 | 1u << 6));
	CHECK(sel(&s, "dir", false) == (1u << 0 | 1u << 1));
	CHECK(sel(&s, "", true) == (1u << 0 | 1u << 1 | 1u << 7));
	CHECK(sel(&s, "", false) == (1u << 0 | 1u << 1 | 1u << 7));
	CHECK(hdrs_replaces(&s, sel(&s, "a.txt", false)) == HDRS_R_CACHE_CONTROL);
	CHECK(hdrs_replaces(&s, sel(&s, "d/x.html", false)) ==
	      (HDRS_R_CACHE_CONTROL | HDRS_R_SERVER));
	CHECK(hdrs_replaces(&s, 0) == 0);
	/* Too small an output is reported. */
	char small[10];
	CHECK(hdrs_write(&s, 1, small, sizeof(small)) == -ENOSPC);
	CHECK(hdrs_write(&s, 0, small, 0) == 0);
	hdrs_free(&s);

	/* Empty, too many, too much. */
	CHECK(hdrs_init(&s, NULL, 0) == 0 && s.n == 0 && sel(&s, "a", false) == 0);
	hdrs_free(&s);
	const char *many[HDRS_MAX + 1];
	for (int i = 0; i <= HDRS_MAX; i++)
		many[i] = "X-A: b";
	CHECK(hdrs_init(&s, many, HDRS_MAX) == 0);
	CHECK(sel(&s, "x", false) == ~0ull); /* one name, one glob: every line */
	hdrs_free(&s);
	CHECK(hdrs_init(&s, many, HDRS_MAX + 1) == -EINVAL);
	static char big[3][3100];
	const char *bigs[3];
	for (int i = 0; i < 3; i++) {
		memset(big[i], 'v', sizeof(big[i]) - 1);
		memcpy(big[i], "X-B: ", 5);
		big[i][sizeof(big[i]) - 1] = '\0';
		bigs[i] = big[i];
	}
	CHECK(hdrs_init(&s, bigs, 2) == 0);
	hdrs_free(&s);
	CHECK(hdrs_init(&s, bigs, 3) == -E2BIG);
	const char *bad[] = { "X-A: b", "Content-Length: 1" };
	CHECK(hdrs_init(&s, bad, 2) == -EINVAL);
}

int main(void)
{
	test_parse();
	test_glob();
	test_set();
	return failures ? 1 : 0;
}
