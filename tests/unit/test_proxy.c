/* proxy_parse: v1 and v2 headers, every prefix of a valid header, and the
 * refusals (missing, malformed, oversized, unsupported). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "proxy.h"

#define MAX 2048

static int parse(const void *buf, size_t len, struct proxy_hdr *h)
{
	/* An exactly sized copy, so an overread shows under ASan. */
	char *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	int r = proxy_parse(copy, len, MAX, h);
	free(copy);
	return r;
}

/* Every proper prefix of buf[0..hlen) needs more; the whole parses to hlen. */
static int whole_and_prefixes(const void *buf, size_t len, size_t hlen, struct proxy_hdr *h)
{
	for (size_t i = 0; i < hlen; i++) {
		int r = parse(buf, i, h);
		if (r != PROXY_NEED_MORE) {
			fprintf(stderr, "  prefix of %zu bytes: %d\n", i, r);
			return 0;
		}
	}
	return parse(buf, len, h) == (int)hlen;
}

static void test_v1(void)
{
	struct proxy_hdr h;
	const char *t4 = "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\nGET / HTTP/1.1\r\n";
	size_t l4 = strlen("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n");

	CHECK(whole_and_prefixes(t4, strlen(t4), l4, &h));
	CHECK(h.version == 1 && h.has_addr && h.family == AF_INET);
	CHECK(memcmp(h.src, "\xc0\x00\x02\x01", 4) == 0 && memcmp(h.dst, "\xc6\x33\x64\x16", 4) == 0);
	CHECK(h.sport == 56324 && h.dport == 443);

	const char *t6 = "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n";
	CHECK(whole_and_prefixes(t6, strlen(t6), strlen(t6), &h));
	CHECK(h.family == AF_INET6 && h.src[0] == 0x20 && h.src[15] == 1 && h.dst[10] == 0xff);
	CHECK(h.sport == 0 && h.dport == 65535);

	const char *u1 = "PROXY UNKNOWN\r\n";
	CHECK(whole_and_prefixes(u1, strlen(u1), strlen(u1), &h) && h.has_addr == 0);
	const char *u2 = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\nX";
	CHECK(whole_and_prefixes(u2, strlen(u2), strlen(u2) - 1, &h) && h.has_addr == 0);

	/* The longest line the spec allows, and one byte more. */
	char line[160];
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + PROXY_V1_MAX - 2, "\r\n", 2);
	CHECK(parse(line, PROXY_V1_MAX, &h) == PROXY_V1_MAX);
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + PROXY_V1_MAX - 1, "\r\n", 2);
	CHECK(parse(line, PROXY_V1_MAX + 1, &h) == PROXY_ERROR);
	/* 107 bytes without the CRLF: refused now, not after more bytes. */
	CHECK(parse(line, PROXY_V1_MAX, &h) == PROXY_ERROR);
	CHECK(parse(line, PROXY_V1_MAX - 1, &h) == PROXY_NEED_MORE);

	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n\r\n",
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n",
		"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",
		"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP6 ::1 :::1 1 2\r\n",
		"PROXY TCP6 [::1] ::1 1 2\r\n",
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY UNKNOWN \x01\r\n",
		"PROXY UNKNOWN\n",
		"PROXY\r\n",
		"PROXY \r\n",
		"\r\n\r\n\0\r\nQUIX",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 12 : strlen(bad[i]);
		if (parse(bad[i], n, &h) != PROXY_ERROR) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			failures++;
		}
	}
	/* Garbage fails at its first byte, not at a limit. */
	CHECK(parse("G", 1, &h) == PROXY_ERROR);
	CHECK(parse("\x16\x03\x01", 3, &h) == PROXY_ERROR);
	CHECK(parse("PROXY X", 7, &h) == PROXY_ERROR);
	CHECK(parse("PROXY TCP4 1.2.3.4 5", 20, &h) == PROXY_NEED_MORE);
	CHECK(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, &h) == PROXY_NEED_MORE);
	CHECK(parse("", 0, &h) == PROXY_NEED_MORE);
}

/* A v2 header: signature, ver_cmd, fam, then `body` of blen bytes. */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *body, size_t blen)
{
	memcpy(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

static void test_v2(void)
{
	uint8_t buf[70000], body[66000];
	struct proxy_hdr h;
	size_t n;

	memcpy(body, "\xc0\x00\x02\x01\x0a\x00\x00\x01\x1f\x90\x01\xbb", 12);
	n = v2(buf, 0x21, 0x11, body, 12);
	memcpy(buf + n, "GET", 3);
	CHECK(whole_and_prefixes(buf, n + 3, n, &h));
	CHECK(h.version == 2 && h.has_addr && h.family == AF_INET && h.src[0] == 192 &&
	      h.dst[0] == 10 && h.sport == 8080 && h.dport == 443);

	memset(body, 0, 36);
	body[0] = 0x20;
	body[1] = 0x01;
	body[15] = 7;
	body[31] = 1;
	body[32] = 0x12;
	body[33] = 0x34;
	/* With TLVs: an ALPN (type 1) and a NOOP (type 4) padding. */
	memcpy(body + 36, "\x01\x00\x02h2\x04\x00\x03\x00\x00\x00", 11);
	n = v2(buf, 0x21, 0x21, body, 47);
	CHECK(whole_and_prefixes(buf, n, n, &h));
	CHECK(h.family == AF_INET6 && h.src[15] == 7 && h.dst[15] == 1 && h.sport == 0x1234);

	/* LOCAL: the connection's own endpoints, whatever the block holds. */
	n = v2(buf, 0x20, 0x00, body, 0);
	CHECK(whole_and_prefixes(buf, n, n, &h) && h.has_addr == 0);
	n = v2(buf, 0x20, 0x77, "junk", 4);
	CHECK(parse(buf, n, &h) == (int)n && h.has_addr == 0);
	/* PROXY over AF_UNSPEC: keep the endpoints too. */
	n = v2(buf, 0x21, 0x00, "\x03\x00\x00", 3);
	CHECK(parse(buf, n, &h) == (int)n && h.has_addr == 0);
	/* AF_UNIX stream: a unix client. */
	memset(body, 0, 216);
	n = v2(buf, 0x21, 0x31, body, 216);
	CHECK(n == PROXY_V2_UNIX && parse(buf, n, &h) == (int)n && h.has_addr &&
	      h.family == AF_UNIX);

	/* Refused. */
	memcpy(body, "\xc0\x00\x02\x01\x0a\x00\x00\x01\x1f\x90\x01\xbb", 12);
	n = v2(buf, 0x11, 0x11, body, 12); /* version 1 in the binary form */
	CHECK(parse(buf, 13, &h) == PROXY_ERROR);
	n = v2(buf, 0x22, 0x11, body, 12); /* command 2 */
	CHECK(parse(buf, 13, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x12, body, 12); /* UDP */
	CHECK(parse(buf, 14, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x41, body, 12); /* unknown family */
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x13, body, 12);
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x11, body, 11); /* shorter than two IPv4 addresses */
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x21, body, 35);
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	memcpy(body + 12, "\x01\x00\x05h2", 5); /* a TLV longer than what is left */
	n = v2(buf, 0x21, 0x11, body, 17);
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	memcpy(body + 12, "\x01\x00", 2); /* a cut TLV head */
	n = v2(buf, 0x21, 0x11, body, 14);
	CHECK(parse(buf, n, &h) == PROXY_ERROR);
	/* Larger than allowed: refused as soon as the length is known. */
	memset(body, 0, sizeof(body));
	n = v2(buf, 0x21, 0x11, body, MAX - 16 + 1);
	CHECK(parse(buf, 16, &h) == PROXY_ERROR);
	n = v2(buf, 0x21, 0x11, body, MAX - 16);
	memcpy(body + 12, "\x04\x07\xe1", 3); /* NOOP filling the rest */
	n = v2(buf, 0x21, 0x11, body, MAX - 16);
	CHECK(parse(buf, n, &h) == MAX);
	CHECK(parse(buf, n - 1, &h) == PROXY_NEED_MORE);
	/* The largest v2 header there is, when allowed. */
	memcpy(body + 12, "\x04\xff\xf0", 3); /* NOOP of 65520 bytes */
	n = v2(buf, 0x21, 0x11, body, 65535);
	CHECK(proxy_parse((const char *)buf, n, 65535 + 16, &h) == 65535 + 16);
	CHECK(proxy_parse((const char *)buf, n, 65535 + 15, &h) == PROXY_ERROR);
	/* A bad signature byte anywhere in the first 12 fails at once. */
	for (int i = 1; i < 12; i++) {
		n = v2(buf, 0x21, 0x11, body, 12);
		buf[i] ^= 0x40;
		CHECK(parse(buf, (size_t)i + 1, &h) == PROXY_ERROR);
	}
}

int main(void)
{
	test_v1();
	test_v2();
	return failures ? 1 : 0;
}
