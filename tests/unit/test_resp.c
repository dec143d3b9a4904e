/* resp: exact response heads, error bodies, redirects, overflow. */
#include "resp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static const char *DATE = "Sun, 06 Nov 1994 08:49:37 GMT";

static void test_file_head(void)
{
	char buf[512];
	struct resp_file f = { .size = 1234, .ino = 0x2a, .mtime = { 784111777, 5 }, .type = "text/plain" };
	struct resp_conn rc = { DATE, true, 1 };
	int n = resp_file_head(buf, sizeof(buf), &f, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(buf, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	CHECK(strstr(buf, "\r\nContent-Length: 1234\r\n"));
	CHECK(strstr(buf, "\r\nContent-Type: text/plain\r\n"));
	CHECK(strstr(buf, "\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	CHECK(strstr(buf, "\r\nETag: \"2a-4d2-"));
	CHECK(!strstr(buf, "Connection:"));
	CHECK(n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);

	/* 1.0 keep-alive is explicit; close is announced. */
	rc.minor = 0;
	n = resp_file_head(buf, sizeof(buf), &f, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nConnection: keep-alive\r\n"));
	rc.keep_alive = false;
	n = resp_file_head(buf, sizeof(buf), &f, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nConnection: close\r\n"));

	/* Too small a buffer is reported, never overrun. */
	CHECK(resp_file_head(buf, 40, &f, &rc) == -ENOSPC);
}

static void test_etag(void)
{
	char a[RESP_ETAG_MAX], b[RESP_ETAG_MAX];
	struct resp_file f = { .size = 1, .ino = 7, .mtime = { 100, 0 } };

	resp_etag(a, &f);
	f.mtime.tv_nsec = 1; /* a rewrite within the same second still differs */
	resp_etag(b, &f);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[0] == '"' && a[strlen(a) - 1] == '"');
}

static void test_error(void)
{
	char buf[1024];
	struct resp_conn rc = { DATE, false, 1 };
	int n = resp_error(buf, sizeof(buf), 405, false, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strncmp(buf, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
	CHECK(strstr(buf, "\r\nAllow: GET, HEAD\r\n"));
	CHECK(strstr(buf, "\r\nConnection: close\r\n"));
	const char *body = strstr(buf, "\r\n\r\n");
	CHECK(body != NULL);
	if (body) {
		int clen = -1;
		const char *cl = strstr(buf, "Content-Length: ");
		if (cl)
			sscanf(cl, "Content-Length: %d", &clen);
		CHECK(clen == (int)strlen(body + 4));
		CHECK(strstr(body, "405 Method Not Allowed"));
	}
	/* HEAD: same head, no body. */
	int h = resp_error(buf, sizeof(buf), 404, true, &rc);
	CHECK(h > 0 && memcmp(buf + h - 4, "\r\n\r\n", 4) == 0);
	CHECK(resp_error(buf, 60, 404, false, &rc) == -ENOSPC);
}

static void test_redirect(void)
{
	char buf[1024];
	struct resp_conn rc = { DATE, true, 1 };
	int n = resp_redirect_slash(buf, sizeof(buf), "/a%20b", 6, "x=1", 3, false, &rc);

	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strncmp(buf, "HTTP/1.1 301 Moved Permanently\r\n", 32) == 0);
	CHECK(strstr(buf, "\r\nLocation: /a%20b/?x=1\r\n"));
	n = resp_redirect_slash(buf, sizeof(buf), "/d", 2, "", 0, true, &rc);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\r\nLocation: /d/\r\n"));
	CHECK(n > 0 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
}

int main(void)
{
	test_file_head();
	test_etag();
	test_error();
	test_redirect();
	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
