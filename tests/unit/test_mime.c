/* mime: loading a mime.types file, lookup rules, built-in fallback. */
#include "mime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define IS(t, name, want) CHECK(strcmp(mime_lookup((t), (name), strlen(name)), (want)) == 0)

static const char sample[] =
	"# comment line\n"
	"\n"
	"   # indented comment with text/fake fake\n"
	"text/html\t\t\t\thtml htm shtml\n"
	"text/css css\n"
	"text/x-other html css otherext\n"          /* later duplicates lose */
	"application/gzip gz\n"
	"application/x-tar tar\n"
	"image/JPEG JPG jpeg\n"                      /* ext lower-cased, type kept */
	"text/plain txt # trailing comment ignored\n"
	"noslash ignoredext\n"                       /* not a type: line skipped */
	"application/x-lonely\n"                     /* type without extensions */
	"application/x-crlf crlf\r\n"
	"application/x-long abcdefghijabcdefghijabcdefghijab "
	"abcdefghijabcdefghijabcdefghijabc\n"        /* 32 kept, 33 skipped */
	"   text/x-indented   ind   \n"
	"application/x-last last";                   /* no final newline */

static char *write_temp(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/test_mime.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	return path;
}

static void test_file(void)
{
	struct mime_table t;
	char *path = write_temp(sample, sizeof sample - 1);

	CHECK(path != NULL);
	if (!path)
		return;
	CHECK(mime_load(&t, path) == 0);
	unlink(path);
	CHECK(t.builtin == 0);
	IS(&t, "index.html", "text/html");
	IS(&t, "a.htm", "text/html");
	IS(&t, "a.shtml", "text/html");
	IS(&t, "style.css", "text/css");             /* first mapping wins */
	IS(&t, "x.otherext", "text/x-other");
	IS(&t, "INDEX.HTML", "text/html");           /* case-insensitive */
	IS(&t, "photo.JpG", "image/JPEG");
	IS(&t, "photo.jpeg", "image/JPEG");
	IS(&t, "readme.txt", "text/plain");
	IS(&t, "x.trailing", MIME_DEFAULT);
	IS(&t, "x.comment", MIME_DEFAULT);
	IS(&t, "x.ignoredext", MIME_DEFAULT);
	IS(&t, "x.fake", MIME_DEFAULT);
	IS(&t, "x.crlf", "application/x-crlf");
	IS(&t, "x.ind", "text/x-indented");
	IS(&t, "x.last", "application/x-last");
	IS(&t, "x.abcdefghijabcdefghijabcdefghijab", "application/x-long");
	IS(&t, "x.abcdefghijabcdefghijabcdefghijabc", MIME_DEFAULT);
	/* last extension of the last segment */
	IS(&t, "archive.tar.gz", "application/gzip");
	IS(&t, "archive.tar", "application/x-tar");
	IS(&t, "/srv/www.d/page.html", "text/html");
	IS(&t, "/srv/site.html/readme", MIME_DEFAULT);
	IS(&t, "/srv/site.html/", MIME_DEFAULT);
	/* dotfiles and degenerate names */
	IS(&t, ".html", MIME_DEFAULT);
	IS(&t, "/srv/.html", MIME_DEFAULT);
	IS(&t, ".config.css", "text/css");
	IS(&t, "file.", MIME_DEFAULT);
	IS(&t, "noext", MIME_DEFAULT);
	IS(&t, "", MIME_DEFAULT);
	IS(&t, ".", MIME_DEFAULT);
	IS(&t, "..", MIME_DEFAULT);
	IS(&t, "x.unknown", MIME_DEFAULT);
	/* length-bounded: "a.html" seen as "a.ht" */
	CHECK(strcmp(mime_lookup(&t, "a.html", 4), MIME_DEFAULT) == 0);
	CHECK(strcmp(mime_lookup(&t, "a.htm.png", 5), "text/html") == 0);
	/* embedded NUL never matches */
	CHECK(strcmp(mime_lookup(&t, "a.ht\0l", 6), MIME_DEFAULT) == 0);
	mime_free(&t);
	CHECK(t.slots == NULL && t.nslots == 0);
	IS(&t, "a.html", MIME_DEFAULT);              /* freed table is inert */
	mime_free(&t);                               /* and freeing is idempotent */
}

static void check_builtin(const struct mime_table *t)
{
	CHECK(t->builtin == 1);
	IS(t, "index.html", "text/html");
	IS(t, "INDEX.HTM", "text/html");
	IS(t, "app.css", "text/css");
	IS(t, "app.js", "text/javascript");
	IS(t, "mod.mjs", "text/javascript");
	IS(t, "f.woff2", "font/woff2");
	IS(t, "x.tar.gz", "application/gzip");
	IS(t, "a.csv", "text/csv");
	IS(t, "a.bin", MIME_DEFAULT);
}

static void test_fallback(void)
{
	static const char nul_file[] = "text/html ht\0ml html\ntext/css css\n";
	struct mime_table t;
	char *path;

	CHECK(mime_load(&t, "/nonexistent/dir/mime.types") == -ENOENT);
	check_builtin(&t);
	mime_free(&t);

	CHECK(mime_load(&t, "/") == -EISDIR);        /* read() on a directory */
	check_builtin(&t);
	mime_free(&t);

	/* a stray NUL ends its line; the next line still loads */
	path = write_temp(nul_file, sizeof nul_file - 1);
	CHECK(path != NULL);
	if (path) {
		CHECK(mime_load(&t, path) == 0);
		unlink(path);
		IS(&t, "a.ht", "text/html");
		IS(&t, "a.html", MIME_DEFAULT);
		IS(&t, "a.css", "text/css");
		mime_free(&t);
	}

	/* a file without one mapping is treated as unusable */
	path = write_temp("# nothing\n\n", 11);
	CHECK(path != NULL);
	if (path) {
		CHECK(mime_load(&t, path) == -ENODATA);
		unlink(path);
		check_builtin(&t);
		mime_free(&t);
	}
}

/* A big generated file: many distinct keys survive growth and probing. */
static void test_many(void)
{
	struct mime_table t;
	size_t cap = 5000 * 32, len = 0;
	char *text = malloc(cap), *path, name[32];
	int ok = 1;

	if (!text) {
		failures++;
		return;
	}
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len, "type/t%d e%d x%d\n",
					i % 7, i, i);
	path = write_temp(text, len);
	free(text);
	CHECK(path != NULL);
	if (!path)
		return;
	CHECK(mime_load(&t, path) == 0);
	unlink(path);
	CHECK(t.count == 10000);
	for (int i = 0; i < 5000 && ok; i++) {
		char want[16];

		snprintf(want, sizeof want, "type/t%d", i % 7);
		snprintf(name, sizeof name, "f.E%d", i);
		ok = strcmp(mime_lookup(&t, name, strlen(name)), want) == 0;
	}
	CHECK(ok);
	IS(&t, "f.e5000", MIME_DEFAULT);
	mime_free(&t);
}

static void test_system(void)
{
	struct mime_table t;
	int r = mime_load(&t, NULL);

	/* Whatever the host has, html must resolve. */
	CHECK(r == 0 || t.builtin);
	IS(&t, "index.html", "text/html");
	mime_free(&t);
}

int main(void)
{
	test_file();
	test_fallback();
	test_many();
	test_system();
	if (failures)
		fprintf(stderr, "test_mime: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
