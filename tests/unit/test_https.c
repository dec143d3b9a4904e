/* https: first-byte sniffing on the TLS port, the plain 400, the host
 * check and Location of --redirect-https, the HSTS line. */
#include "check.h"
#include "https.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_sniff(void)
{
	const unsigned char hello[] = { 0x16, 0x03, 0x01 }, get[] = "GET /", bin[] = { 0x00, 0x80 };

	CHECK(https_sniff(hello, 0) == HTTPS_MORE);
	CHECK(https_sniff(hello, 1) == HTTPS_TLS);
	CHECK(https_sniff(get, 1) == HTTPS_PLAIN);
	CHECK(https_sniff((const unsigned char *)"PRI * HTTP/2.0", 3) == HTTPS_PLAIN);
	CHECK(https_sniff(bin, 2) == HTTPS_GARBAGE);
	CHECK(https_sniff((const unsigned char *)"get", 3) == HTTPS_GARBAGE);
	CHECK(https_sniff((const unsigned char *)"\x15", 1) == HTTPS_GARBAGE); /* an alert */
}

static void test_plain_400(void)
{
	char buf[512];
	int n = https_plain_400(buf, sizeof(buf));

	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	CHECK(strstr(buf, "Connection: close\r\n") != NULL);
	const char *body = strstr(buf, "\r\n\r\n");
	CHECK(body && strstr(buf, "Content-Length: ") &&
	      (size_t)atoi(strstr(buf, "Content-Length: ") + 16) == strlen(body + 4));
	CHECK(https_plain_400(buf, 20) == -ENOSPC);
}

static void test_host(void)
{
	char out[64];

	CHECK(https_host("Example.COM", 11, out, sizeof(out)) == 11 && strcmp(out, "example.com") == 0);
	CHECK(https_host("a.b:8080", 8, out, sizeof(out)) == 3 && strcmp(out, "a.b") == 0);
	CHECK(https_host("a.b:", 4, out, sizeof(out)) == 3);
	CHECK(https_host("[::1]:80", 8, out, sizeof(out)) == 5 && strcmp(out, "[::1]") == 0);
	CHECK(https_host("[2001:DB8::1]", 13, out, sizeof(out)) == 13);
	CHECK(https_host("10.0.0.1", 8, out, sizeof(out)) == 8);
	CHECK(https_host("", 0, out, sizeof(out)) == -EINVAL);
	CHECK(https_host(":80", 3, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a b", 3, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a\"b", 3, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a/b", 3, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a@evil", 6, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a:8x", 4, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("[::1", 4, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("[]", 2, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("[::g]", 5, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("[::1]x", 6, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("a\r\nX: y", 7, out, sizeof(out)) == -EINVAL);
	CHECK(https_host("abcdefgh", 8, out, 4) == -ENOSPC);
}

static void test_location(void)
{
	char out[256];

	CHECK(https_location(out, sizeof(out), "h:80", 4, 8443, "/a/b", 4, "x=1", 3) > 0 &&
	      strcmp(out, "Location: https://h:8443/a/b?x=1\r\n") == 0);
	CHECK(https_location(out, sizeof(out), "H", 1, 443, "/", 1, NULL, 0) > 0 &&
	      strcmp(out, "Location: https://h/\r\n") == 0);
	CHECK(https_location(out, sizeof(out), "h", 1, 443, "", 0, NULL, 0) > 0 &&
	      strcmp(out, "Location: https://h/\r\n") == 0);
	CHECK(https_location(out, sizeof(out), "bad host", 8, 443, "/", 1, NULL, 0) == -EINVAL);
	CHECK(https_location(out, 20, "h", 1, 443, "/long/path/here", 15, NULL, 0) == -ENOSPC);
}

static void test_hsts(void)
{
	char out[64];

	CHECK(https_hsts(out, sizeof(out), 31536000) > 0 &&
	      strcmp(out, "Strict-Transport-Security: max-age=31536000\r\n") == 0);
	CHECK(https_hsts(out, 10, 1) == -ENOSPC);
}

int main(void)
{
	test_sniff();
	test_plain_400();
	test_host();
	test_location();
	test_hsts();
	return failures ? 1 : 0;
}
