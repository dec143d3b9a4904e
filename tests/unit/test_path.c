/* path: percent-decoding, dot segments, refusals and the length cap. */
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static char out[4096];
static bool ts;

/* Normalize s from an exactly sized copy into a cap-sized heap buffer (so
 * ASan catches a write past cap), leaving the result in out. */
static int norm_cap(const char *s, size_t n, size_t cap)
{
	char *src = malloc(n ? n : 1), *dst = malloc(cap ? cap : 1);
	int r;

	memcpy(src, s, n);
	memset(out, 0x55, sizeof(out));
	ts = false;
	r = path_normalize(src, n, dst, cap, &ts);
	if (r >= 0)
		memcpy(out, dst, (size_t)r + 1);
	free(src);
	free(dst);
	return r;
}

static int norm(const char *s)
{
	return norm_cap(s, strlen(s), sizeof(out));
}

/* s normalizes to want, with the trailing-slash flag tr. */
#define OK(s, want, tr)                                                     \
	do {                                                                \
		CHECK(norm(s) == (int)strlen(want));                        \
		CHECK(strcmp(out, want) == 0);                              \
		CHECK(ts == (tr));                                          \
	} while (0)
#define BAD(s, err) CHECK(norm(s) == -(err))

static void test_plain(void)
{
	OK("/", "", true);
	OK("/a", "a", false);
	OK("/a/b", "a/b", false);
	OK("/a/b/", "a/b", true);
	OK("/index.html", "index.html", false);
	OK("//a///b", "a/b", false);
	OK("//", "", true);
	OK("///a//", "a", true);
	OK("/a b", "a b", false);              /* the parser never sends one, but fine */
	OK("/a\\..\\b", "a\\..\\b", false);      /* backslash is an ordinary byte */
	OK("/..\\", "..\\", false);
	OK("/\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", false); /* raw UTF-8 */
	OK("/%C3%A9", "\xc3\xa9", false);                      /* encoded UTF-8 */
	OK("/%c0%ae%c0%ae/x", "\xc0\xae\xc0\xae/x", false);    /* overlong: just bytes */
	BAD("", EINVAL);
	BAD("a", EINVAL);
	BAD("a/b", EINVAL);
	BAD("%2fa", EINVAL);                                     /* must start with a raw '/' */
	CHECK(norm_cap("/abc", 0, sizeof(out)) == -EINVAL);     /* len 0 */
}

static void test_dots(void)
{
	OK("/.", "", true);
	OK("/./", "", true);
	OK("/a/./b", "a/b", false);
	OK("/a/.", "a", true);
	OK("/a/../b", "b", false);
	OK("/a/..", "", true);
	OK("/a/b/..", "a", true);
	OK("/a/b/../", "a", true);
	OK("/a/b/../../c/./d/..", "c", true);
	OK("/...", "...", false);
	OK("/.../..", "", true);
	OK("/a/.b/..c/c..", "a/.b/..c/c..", false);
	OK("/.hidden", ".hidden", false);
	OK("/a//..", "", true); /* the empty segment is merged, not popped */
	BAD("/..", EINVAL);
	BAD("/../", EINVAL);
	BAD("/../a", EINVAL);
	BAD("/a/../..", EINVAL);
	BAD("/a/../../b", EINVAL);
	BAD("/./../a", EINVAL);
	BAD("/a/b/../../../etc/passwd", EINVAL);
	BAD("//..//a", EINVAL);
}

static void test_escapes(void)
{
	OK("/%61%62", "ab", false);
	OK("/a%20b", "a b", false);
	OK("/%7e", "~", false);
	OK("/%2e", "", true);                 /* "." */
	OK("/a/%2e%2e", "", true);            /* ".." */
	OK("/a/b/%2E%2e/", "a", true);
	OK("/a/.%2e/b", "b", false);
	OK("/a%2fb", "a/b", false);           /* %2f splits segments */
	OK("/a%2Fb%2f", "a/b", true);
	OK("/%2f%2f", "", true);
	OK("/a/b%2f..", "a", true);           /* decoded "/.." pops b */
	OK("/%252e", "%2e", false);           /* decoded once only */
	OK("/%252e%252e/x", "%2e%2e/x", false);
	OK("/%25", "%", false);
	OK("/%5c..%5c", "\\..\\", false);
	OK("/%80%ff", "\x80\xff", false);
	BAD("/%2e%2e", EINVAL);
	BAD("/%2E%2E/", EINVAL);
	BAD("/a/%2e%2e/%2e%2e", EINVAL);
	BAD("/%2f..", EINVAL);
	BAD("/a%2f..%2f..", EINVAL);
	BAD("/%00", EINVAL);
	BAD("/a%00.html", EINVAL);
	BAD("/%0a", EINVAL);
	BAD("/%0D%0A", EINVAL);
	BAD("/%1f", EINVAL);
	BAD("/%7f", EINVAL);
	BAD("/%09", EINVAL);
	BAD("/%", EINVAL);
	BAD("/%4", EINVAL);
	BAD("/a%", EINVAL);
	BAD("/%zz", EINVAL);
	BAD("/%g0", EINVAL);
	BAD("/%0g", EINVAL);
	BAD("/% 1", EINVAL);
	BAD("/%%41", EINVAL);
	BAD("/a\tb", EINVAL);                 /* raw control bytes too */
	BAD("/a\x7f", EINVAL);
	CHECK(norm_cap("/a\0b", 4, sizeof(out)) == -EINVAL);
}

static void test_cap(void)
{
	char src[600], want[600];

	/* result "abc" needs 4 bytes with its NUL */
	CHECK(norm_cap("/abc", 4, 4) == 3 && strcmp(out, "abc") == 0);
	CHECK(norm_cap("/abc", 4, 3) == -ENAMETOOLONG);
	CHECK(norm_cap("/abc/", 5, 4) == 3 && ts);
	CHECK(norm_cap("/a/b", 4, 4) == 3 && strcmp(out, "a/b") == 0);
	CHECK(norm_cap("/a/b", 4, 3) == -ENAMETOOLONG);
	CHECK(norm_cap("/", 1, 1) == 0 && out[0] == '\0');
	CHECK(norm_cap("/", 1, 0) == -ENAMETOOLONG);
	CHECK(norm_cap("/%61", 4, 2) == 1);   /* judged on the decoded length */
	/* the cap applies to the result, not to the way there */
	CHECK(norm_cap("/abcdefgh/..", 12, 1) == 0 && ts);
	CHECK(norm_cap("/x/abcdefgh/../y", 16, 4) == 3 && strcmp(out, "x/y") == 0);
	CHECK(norm_cap("/x/abcdefgh/p/q/../../../y", 26, 4) == 3 && strcmp(out, "x/y") == 0);
	CHECK(norm_cap("/x/abcdefgh/p/q/../../y", 23, 4) == -ENAMETOOLONG);
	CHECK(norm_cap("/abcdefgh/../..", 15, 4) == -EINVAL); /* EINVAL wins */
	CHECK(norm_cap("/abcdefgh/%zz", 13, 4) == -EINVAL);

	/* a long path exactly at the boundary */
	src[0] = '/';
	memset(src + 1, 'a', 300);
	memcpy(src + 301, "/bb", 3);
	memset(want, 'a', 300);
	memcpy(want + 300, "/bb", 4);
	CHECK(norm_cap(src, 304, 304) == 303 && strcmp(out, want) == 0);
	CHECK(norm_cap(src, 304, 303) == -ENAMETOOLONG);
	CHECK(norm_cap(src, 304, 4096) == 303);
}

int main(void)
{
	test_plain();
	test_dots();
	test_escapes();
	test_cap();
	if (failures)
		fprintf(stderr, "test_path: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
