/* fuzz_https: what the HTTPS listener does with the first bytes and with
 * the Host header of --redirect-https.
 *
 * The input's first byte picks the port (443 or not), the rest is a Host
 * value, then (after a NUL, if any) a path. Sniffing must answer for any
 * bytes; a host the check accepts must hold only the allowed characters
 * (so no header can be injected), lower-cased, and be no longer than the
 * input; a Location built from it must be one CRLF-terminated line that
 * starts with "Location: https://" and carries the path as given. */
#include "https.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static int allowed(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~' || c == '[' || c == ']' || c == ':';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[512], loc[2048];

	int k = https_sniff(data, size);
	REQUIRE(k == HTTPS_MORE || k == HTTPS_TLS || k == HTTPS_PLAIN || k == HTTPS_GARBAGE);
	REQUIRE((k == HTTPS_MORE) == (size == 0));
	if (size < 1)
		return 0;
	unsigned port = data[0] & 1 ? 443 : 8443;
	const char *h = (const char *)data + 1;
	size_t n = size - 1;
	const char *nul = memchr(h, '\0', n);
	size_t hlen = nul ? (size_t)(nul - h) : n;
	const char *path = nul ? nul + 1 : "/";
	size_t plen = nul ? n - hlen - 1 : 1;

	int r = https_host(h, hlen, host, sizeof(host));
	if (r >= 0) {
		REQUIRE((size_t)r <= hlen && strlen(host) == (size_t)r && r > 0);
		for (int i = 0; i < r; i++)
			REQUIRE(allowed(host[i]));
	}
	/* The parser hands only visible ASCII as a path: keep to that. */
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f)
			return 0;
	r = https_location(loc, sizeof(loc), h, hlen, port, path, plen, "q", 1);
	if (r > 0) {
		REQUIRE((size_t)r == strlen(loc));
		REQUIRE(strncmp(loc, "Location: https://", 18) == 0);
		REQUIRE(r >= 2 && loc[r - 2] == '\r' && loc[r - 1] == '\n');
		REQUIRE(!memchr(loc, '\r', (size_t)r - 2) && !memchr(loc, '\n', (size_t)r - 2));
		REQUIRE(strstr(loc, "?q\r\n") != NULL);
	}
	return 0;
}
