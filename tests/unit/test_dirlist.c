/* dirlist: reading a real directory (hostile names, symlinks, dotfiles,
 * truncation), the sort order, and the exact escaping of names in the HTML
 * text, the links and the JSON, which is also parsed back by python3 when
 * it is installed. Run under ASan, the frees are checked too. */
#include "dirlist.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define KNOWN_SIZE 1234567
#define KNOWN_MTIME 1700000000 /* 2023-11-14 22:13:20 UTC */

static char tmpdir[] = "/tmp/test_dirlist.XXXXXX";

static const char *const files[] = {
	"<>&\"'%?#", "a.txt", "a:b", "B.txt", "bad\xff\xfename", "caf\xc3\xa9",
	"ctl\x01", "javascript:alert(1)", "with space", "X", "x",
	"\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
};
static const char *const dirs[] = { "adir", "Zdir" };

/* Sorted as dirlist_read must sort them with show_dot off: directories
 * (the symlink to one included) first, then ASCII case-insensitively, with
 * "X" before "x" by raw bytes. */
static const char *const sorted[] = {
	"adir", "link2dir", "Zdir",
	"<>&\"'%?#", "a.txt", "a:b", "B.txt", "bad\xff\xfename", "caf\xc3\xa9",
	"ctl\x01", "javascript:alert(1)", "with space", "X", "x",
	"\xe6\x97\xa5\xe6\x9c\xac",
};
#define NSORTED (sizeof(sorted) / sizeof(sorted[0]))

static int make_file(int dfd, const char *name, off_t size)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (size && ftruncate(fd, size) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int populate(int dfd)
{
	const struct timespec ts[2] = { { KNOWN_MTIME, 0 }, { KNOWN_MTIME, 0 } };

	/* a.txt gets a known size (sparse, so it costs nothing) and mtime */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (make_file(dfd, files[i], strcmp(files[i], "a.txt") ? 0 :
					     KNOWN_SIZE) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdirat(dfd, dirs[i], 0755) < 0)
			return -1;
	if (mkdirat(dfd, ".dotdir", 0755) < 0 ||
	    make_file(dfd, ".hidden", 0) < 0 ||
	    make_file(dfd, "adir/inner", 0) < 0 ||
	    symlinkat("adir", dfd, "link2dir") < 0 ||
	    symlinkat("no-such-target", dfd, "dangling") < 0)
		return -1;
	return utimensat(dfd, "a.txt", ts, 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool has(const char *out, const char *s)
{
	return strstr(out, s) != NULL;
}

static const struct dirlist_entry *find(const struct dirlist *dl,
					const char *name)
{
	for (unsigned i = 0; i < dl->count; i++)
		if (!strcmp(dl->entries[i].name, name))
			return &dl->entries[i];
	return NULL;
}

static void test_read(int dfd)
{
	struct dirlist dl;
	const struct dirlist_entry *e;
	off_t pos = lseek(dfd, 0, SEEK_CUR);

	CHECK(dirlist_read(dfd, &dl, 1000, false) == 0);
	CHECK(dl.count == NSORTED);
	CHECK(!dl.truncated);
	for (unsigned i = 0; i < dl.count && i < NSORTED; i++) {
		CHECK(strcmp(dl.entries[i].name, sorted[i]) == 0);
		CHECK(dl.entries[i].name_len == strlen(sorted[i]));
		if (strcmp(dl.entries[i].name, sorted[i]))
			fprintf(stderr, "  [%u] got '%s' want '%s'\n", i,
				dl.entries[i].name, sorted[i]);
	}
	CHECK(find(&dl, "dangling") == NULL);
	CHECK(find(&dl, ".hidden") == NULL);
	CHECK((e = find(&dl, "link2dir")) && e->is_dir);
	CHECK((e = find(&dl, "a.txt")) && !e->is_dir &&
	      e->size == KNOWN_SIZE && e->mtime == KNOWN_MTIME);
	dirlist_free(&dl);
	CHECK(dl.entries == NULL && dl.names == NULL && dl.count == 0);
	dirlist_free(&dl); /* twice is harmless */

	/* the caller's fd: same offset, still open, still readable */
	CHECK(lseek(dfd, 0, SEEK_CUR) == pos);
	CHECK(fcntl(dfd, F_GETFD) >= 0);

	CHECK(dirlist_read(dfd, &dl, 1000, true) == 0);
	CHECK(dl.count == NSORTED + 2);
	CHECK(dl.count >= 2 && strcmp(dl.entries[0].name, ".dotdir") == 0);
	CHECK(dl.count >= 5 && strcmp(dl.entries[4].name, ".hidden") == 0 &&
	      !dl.entries[4].is_dir);
	CHECK(find(&dl, ".") == NULL && find(&dl, "..") == NULL);
	dirlist_free(&dl);

	CHECK(dirlist_read(dfd, &dl, 3, false) == 0);
	CHECK(dl.count == 3 && dl.truncated);
	dirlist_free(&dl);
	CHECK(dirlist_read(dfd, &dl, NSORTED, false) == 0);
	CHECK(dl.count == NSORTED && !dl.truncated);
	dirlist_free(&dl);
	CHECK(dirlist_read(dfd, &dl, 0, false) == 0);
	CHECK(dl.count == 0 && dl.truncated);
	dirlist_free(&dl);
}

static void test_read_errors(int dfd)
{
	struct dirlist dl;
	int fd = openat(dfd, "a.txt", O_RDONLY);

	CHECK(fd >= 0);
	CHECK(dirlist_read(fd, &dl, 10, false) == -ENOTDIR);
	CHECK(dl.count == 0 && dl.entries == NULL && !dl.truncated);
	dirlist_free(&dl);
	close(fd);
	CHECK(dirlist_read(-1, &dl, 10, false) == -EBADF);
	CHECK(dl.count == 0);
}

static void test_html(int dfd)
{
	static const char evil[] = "/<script>alert(1)</script>/";
	struct dirlist dl;
	char *out;
	size_t len;

	CHECK(dirlist_read(dfd, &dl, 1000, false) == 0);
	CHECK(dirlist_html(&dl, "/x/", 3, &out, &len) == 0);
	CHECK(len == strlen(out));
	CHECK(has(out, "<meta charset=\"utf-8\">"));
	CHECK(has(out, "<meta name=\"viewport\""));
	CHECK(has(out, "<title>Index of /x/</title>"));
	CHECK(has(out, "href=\"../\">../</a>"));
	/* names shown HTML-escaped, links percent-encoded */
	CHECK(has(out, "href=\"%3C%3E%26%22%27%25%3F%23\">"
		       "&lt;&gt;&amp;&quot;&#39;%?#</a>"));
	CHECK(has(out, "href=\"with%20space\">with space</a>"));
	CHECK(has(out, "href=\"a%3Ab\">a:b</a>"));
	CHECK(has(out, "href=\"javascript%3Aalert(1)\""));
	CHECK(!has(out, "href=\"javascript:"));
	CHECK(has(out, "href=\"caf%C3%A9\">caf\xc3\xa9</a>"));
	CHECK(has(out, "href=\"%E6%97%A5%E6%9C%AC\">"
		       "\xe6\x97\xa5\xe6\x9c\xac</a>"));
	CHECK(has(out, "href=\"bad%FF%FEname\">"
		       "bad\xef\xbf\xbd\xef\xbf\xbdname</a>"));
	CHECK(has(out, "href=\"ctl%01\">ctl\xef\xbf\xbd</a>"));
	CHECK(!has(out, "\xff") && !has(out, "\x01"));
	CHECK(has(out, "href=\"adir/\">adir/</a>"));
	CHECK(has(out, "href=\"link2dir/\">link2dir/</a>"));
	CHECK(!has(out, "dangling"));
	/* size and mtime of a.txt; directories have no size */
	CHECK(has(out, "title=\"1,234,567 bytes\">1.2 MiB</td>"));
	CHECK(has(out, "<time datetime=\"2023-11-14T22:13:20Z\">"
		       "<span>2023-11-14</span> 22:13</time>"));
	CHECK(has(out, "<td class=\"s\">-</td>"));
	CHECK(!has(out, "<script") && !has(out, "truncated"));
	free(out);

	CHECK(dirlist_html(&dl, "/", 1, &out, &len) == 0);
	CHECK(!has(out, "../"));
	CHECK(has(out, "<title>Index of /</title>"));
	free(out);

	CHECK(dirlist_html(&dl, evil, strlen(evil), &out, &len) == 0);
	CHECK(!has(out, "<script"));
	CHECK(has(out, "<title>Index of /&lt;script&gt;alert(1)&lt;/script&gt;/"
		       "</title>"));
	CHECK(has(out, "&lt;script&gt;alert(1)&lt;/"));
	free(out);
	dirlist_free(&dl);

	CHECK(dirlist_read(dfd, &dl, 2, false) == 0);
	CHECK(dirlist_html(&dl, "/", 1, &out, &len) == 0);
	CHECK(has(out, "truncated"));
	free(out);
	dirlist_free(&dl);
}

/* 1 valid, 0 invalid, -1 python3 unavailable. */
static int python_json_ok(const char *json, size_t len)
{
	char path[] = "/tmp/test_dirlist_json.XXXXXX";
	char cmd[512];
	int fd, rc;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, json, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	/* Parse, and check a few decoded values beyond syntax. */
	snprintf(cmd, sizeof cmd,
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));"
		 " e=d[\"entries\"];"
		 " assert d[\"path\"]==\"/q\\\"\\\\/\" and d[\"truncated\"] is False;"
		 " assert len(e)==%zu and e[0][\"type\"]==\"dir\";"
		 " assert e[3][\"name\"]==\"<>&\\\"\\x27%%?#\";"
		 " assert \"ctl\\x01\" in [x[\"name\"] for x in e]' %s",
		 NSORTED, path);
	rc = system(cmd);
	unlink(path);
	return rc == 0;
}

static void test_json(int dfd)
{
	static const char url[] = "/q\"\\/";
	struct dirlist dl;
	char *out;
	size_t len;
	int py;

	CHECK(dirlist_read(dfd, &dl, 1000, false) == 0);
	CHECK(dirlist_json(&dl, url, strlen(url), &out, &len) == 0);
	CHECK(len == strlen(out));
	CHECK(has(out, "{\"path\":\"/q\\\"\\\\/\",\"truncated\":false,"));
	CHECK(has(out, "{\"name\":\"<>&\\\"'%?#\",\"type\":\"file\",\"size\":0,"));
	CHECK(has(out, "\"href\":\"%3C%3E%26%22%27%25%3F%23\"}"));
	CHECK(has(out, "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":1234567,"
		       "\"mtime\":1700000000,\"href\":\"a.txt\"}"));
	CHECK(has(out, "{\"name\":\"adir\",\"type\":\"dir\","));
	CHECK(has(out, "\"href\":\"adir/\"}"));
	CHECK(has(out, "\"name\":\"bad\xef\xbf\xbd\xef\xbf\xbdname\""));
	CHECK(has(out, "\"href\":\"bad%FF%FEname\"}"));
	CHECK(has(out, "\"name\":\"ctl\\u0001\""));
	CHECK(has(out, "\"href\":\"javascript%3Aalert(1)\"}"));
	CHECK(!has(out, "\xff"));
	py = python_json_ok(out, len);
	if (py < 0)
		fprintf(stderr, "python3 missing: JSON parse check skipped\n");
	else
		CHECK(py == 1);
	free(out);
	dirlist_free(&dl);

	CHECK(dirlist_read(dfd, &dl, 1, false) == 0);
	CHECK(dirlist_json(&dl, "/", 1, &out, &len) == 0);
	CHECK(has(out, "\"truncated\":true,"));
	free(out);
	dirlist_free(&dl);
}

int main(void)
{
	int dfd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 77;
	}
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || populate(dfd) < 0) {
		/* e.g. a file system refusing invalid UTF-8 names */
		perror("populating the test directory");
		if (dfd >= 0)
			close(dfd);
		cleanup();
		return 77;
	}
	test_read(dfd);
	test_read_errors(dfd);
	test_html(dfd);
	test_json(dfd);
	close(dfd);
	cleanup();
	return failures ? 1 : 0;
}
