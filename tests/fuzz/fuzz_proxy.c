/* fuzz_proxy: the PROXY protocol header parser, whole and in pieces.
 *
 * Each input is parsed under three bounds (the smallest allowed, the
 * default, the protocol's own). A header found must lie inside the input
 * and within its bound (v1: 107 bytes ending in CRLF; v2: at least 16);
 * parsing any prefix must either need more bytes or give the same answer
 * as the whole, with the same fields; the header alone parses the same.
 * A violated invariant abort()s. */
#include "proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static const size_t bounds[] = { PROXY_V2_UNIX, 2048, 65535 + 16 };

static int parse_copy(const uint8_t *data, size_t n, size_t max, struct proxy_hdr *h)
{
	char *buf = malloc(n ? n : 1);
	int r;

	memcpy(buf, data, n);
	memset(h, 0xa5, sizeof(*h));
	r = proxy_parse(buf, n, max, h);
	free(buf);
	return r;
}

static void check_found(const uint8_t *data, size_t size, size_t max, int r,
			const struct proxy_hdr *h)
{
	REQUIRE((size_t)r <= size);
	REQUIRE(h->version == 1 || h->version == 2);
	REQUIRE(h->has_addr == 0 || h->has_addr == 1);
	if (h->version == 1) {
		REQUIRE(r <= PROXY_V1_MAX && r >= 15);
		REQUIRE(memcmp(data, "PROXY ", 6) == 0 && data[r - 2] == '\r' && data[r - 1] == '\n');
		for (int i = 0; i < r - 2; i++)
			REQUIRE(data[i] >= 0x20 && data[i] < 0x7f);
	} else {
		REQUIRE((size_t)r <= max && r >= PROXY_V2_MIN);
		REQUIRE((size_t)r == PROXY_V2_MIN + (size_t)(data[14] << 8 | data[15]));
	}
}

static void one(const uint8_t *data, size_t size, size_t max)
{
	struct proxy_hdr whole, part;
	int r = parse_copy(data, size, max, &whole);

	REQUIRE(r == PROXY_ERROR || r == PROXY_NEED_MORE || r > 0);
	if (r > 0) {
		check_found(data, size, max, r, &whole);
		int again = parse_copy(data, (size_t)r, max, &part);
		REQUIRE(again == r && memcmp(&part, &whole, sizeof(part)) == 0);
	}
	/* Every prefix of a short input, a few of a long one. */
	size_t step = size <= 128 ? 1 : size / 7 + 1;
	for (size_t n = 0; n < size; n += step) {
		int p = parse_copy(data, n, max, &part);
		if (p == PROXY_NEED_MORE)
			continue;
		REQUIRE(p == r);
		if (p > 0)
			REQUIRE(memcmp(&part, &whole, sizeof(part)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		one(data, size, bounds[i]);
	return 0;
}
