/* sitepath: --error-page and --fallback values (accepted, refused,
 * normalised), the page table (exact codes over groups in any order), the
 * "extension in the last segment" rule and clean URL names. */
#include "sitepath.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void test_normalize(void)
{
	char out[64];

	CHECK(sitepath_normalize("/index.html", out, sizeof(out)) == 10 &&
	      strcmp(out, "index.html") == 0);
	CHECK(sitepath_normalize("//errors/./404.html", out, sizeof(out)) == 15 &&
	      strcmp(out, "errors/404.html") == 0);
	CHECK(sitepath_normalize("/a/../b%20c.html", out, sizeof(out)) == 8 &&
	      strcmp(out, "b c.html") == 0);
	CHECK(sitepath_normalize("/.errors/x", out, sizeof(out)) == 9); /* dotfiles are allowed */
	CHECK(sitepath_normalize("index.html", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/app/", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a/..", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/../etc/passwd", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/%2e%2e/x", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a%zz", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a%00b", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a\tb", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a?b", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/a#b", out, sizeof(out)) == -EINVAL);
	CHECK(sitepath_normalize("/0123456789", out, 8) == -ENAMETOOLONG);
}

static void test_parse_page(void)
{
	struct sitepath_page p;

	CHECK(sitepath_parse_page("404=/404.html", &p) == 0 && p.lo == 404 && p.hi == 404 &&
	      strcmp(p.path, "/404.html") == 0);
	CHECK(sitepath_parse_page("5xx=/50x.html", &p) == 0 && p.lo == 500 && p.hi == 599);
	CHECK(sitepath_parse_page("4XX=/e.html", &p) == 0 && p.lo == 400 && p.hi == 499);
	CHECK(sitepath_parse_page("599=/e", &p) == 0 && p.lo == 599);
	CHECK(sitepath_parse_page("400=/e", &p) == 0 && p.lo == 400);
	const char *bad[] = { "", "404", "404=", "=/x", "404=x.html", "404=/", "404=/d/",
			      "399=/x", "600=/x", "300=/x", "3xx=/x", "6xx=/x", "40=/x", "4040=/x",
			      "4x4=/x", "40x=/x", " 404=/x", "404 =/x", "404=/../x", "-404=/x",
			      "xxx=/x", "404=/a\x01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sitepath_parse_page(bad[i], &p) != -EINVAL) {
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
			failures++;
		}
	}
}

static void test_table(void)
{
	struct sitepath_page pages[4];
	struct sitepath_table t;

	/* The exact code first or last, it wins over its group. */
	CHECK(sitepath_parse_page("4xx=/errors/4xx.html", &pages[0]) == 0);
	CHECK(sitepath_parse_page("404=//errors//404.html", &pages[1]) == 0);
	CHECK(sitepath_parse_page("5xx=/50x.html", &pages[2]) == 0);
	CHECK(sitepath_parse_page("401=/login.html", &pages[3]) == 0);
	CHECK(sitepath_table_init(&t, "/app/index.html", pages, 4) == 0);
	CHECK(t.fallback && strcmp(t.fallback, "app/index.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 404), "errors/404.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 401), "login.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 403), "errors/4xx.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 499), "errors/4xx.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 503), "50x.html") == 0);
	CHECK(sitepath_page_for(&t, 200) == NULL);
	CHECK(sitepath_page_for(&t, 304) == NULL);
	CHECK(sitepath_page_for(&t, 600) == NULL);
	CHECK(sitepath_page_for(&t, -1) == NULL);
	sitepath_table_free(&t);

	struct sitepath_page rev[2] = { pages[1], pages[0] };
	CHECK(sitepath_table_init(&t, "", rev, 2) == 0);
	CHECK(t.fallback == NULL);
	CHECK(strcmp(sitepath_page_for(&t, 404), "errors/404.html") == 0);
	CHECK(strcmp(sitepath_page_for(&t, 410), "errors/4xx.html") == 0);
	CHECK(sitepath_page_for(&t, 500) == NULL);
	sitepath_table_free(&t);

	CHECK(sitepath_table_init(&t, NULL, NULL, 0) == 0 && !t.fallback &&
	      !sitepath_page_for(&t, 404));
	sitepath_table_free(&t);
	CHECK(sitepath_table_init(&t, "relative.html", NULL, 0) == -EINVAL);
}

#define EXT(s) sitepath_has_ext(s, strlen(s))

static void test_ext(void)
{
	CHECK(EXT("app.js"));
	CHECK(EXT("static/app.min.js"));
	CHECK(EXT("v1.2"));
	CHECK(EXT("a/b/file."));
	CHECK(!EXT(""));
	CHECK(!EXT("users"));
	CHECK(!EXT("users/42"));
	CHECK(!EXT("v1.2/users"));     /* a dot in an earlier segment */
	CHECK(!EXT(".well-known"));    /* a leading dot is a hidden name, not an extension */
	CHECK(!EXT("a/.config"));
	CHECK(!EXT("a/b"));
	CHECK(sitepath_has_ext("app.js/x", 6)); /* only path[0..n) counts */
}

#define CLEAN(s) sitepath_clean_url(s, strlen(s))

static void test_clean(void)
{
	CHECK(sitepath_clean_candidate("about", 5));
	CHECK(sitepath_clean_candidate("docs/guide", 10));
	CHECK(sitepath_clean_candidate("app.js", 6));
	CHECK(!sitepath_clean_candidate("", 0));
	CHECK(!sitepath_clean_candidate("about.html", 10));
	CHECK(CLEAN("about.html") == 5);
	CHECK(CLEAN("docs/guide.html") == 10);
	CHECK(CLEAN("docs/index.html") == 5);
	CHECK(CLEAN("index.html") == 0);
	CHECK(CLEAN("a/xindex.html") == 8);
	CHECK(CLEAN("a.html") == 1);
	CHECK(CLEAN(".html") == -1);
	CHECK(CLEAN("docs/.html") == -1);
	CHECK(CLEAN("..html") == -1);      /* "/." and "/.." are not names */
	CHECK(CLEAN("a/...html") == -1);
	CHECK(CLEAN("a/....html") == 5);   /* "/a/..." is one */
	CHECK(CLEAN(".x.html") == 2);
	CHECK(CLEAN("about.htm") == -1);
	CHECK(CLEAN("about.HTML") == -1); /* the lookup appends ".html": the same case back */
	CHECK(CLEAN("about") == -1);
	CHECK(CLEAN("") == -1);
}

int main(void)
{
	test_normalize();
	test_parse_page();
	test_table();
	test_ext();
	test_clean();
	return failures ? 1 : 0;
}
