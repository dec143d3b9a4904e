/* url: the startup line's URLs for IPv4, IPv6 (zones percent-encoded),
 * wildcards of both families (loopback URLs and the note), short buffers
 * and families without a URL. */
#include "url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "check.h"

static char out[512];

static int v4(const char *addr, unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, addr, &a.sin_addr);
	return url_for_listener((struct sockaddr *)&a, sizeof(a), out, sizeof(out));
}

static int v6(const char *addr, unsigned port, uint32_t scope)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				  .sin6_scope_id = scope };

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	return url_for_listener((struct sockaddr *)&a, sizeof(a), out, sizeof(out));
}

static int is(int r, const char *want)
{
	if (r != (int)strlen(want) || strcmp(out, want) != 0) {
		fprintf(stderr, "  got %d '%s', want '%s'\n", r, out, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	CHECK(is(v4("127.0.0.1", 8080), "http://127.0.0.1:8080/"));
	CHECK(is(v4("192.0.2.7", 80), "http://192.0.2.7:80/"));
	CHECK(is(v4("0.0.0.0", 8080), "http://127.0.0.1:8080/ (all IPv4 interfaces: from "
				       "elsewhere use this host's name or address)"));
	CHECK(is(v6("::1", 8080, 0), "http://[::1]:8080/"));
	CHECK(is(v6("2001:db8::5", 443, 0), "http://[2001:db8::5]:443/"));
	CHECK(is(v6("::", 9, 0), "http://127.0.0.1:9/ http://[::1]:9/ (all interfaces: from "
				  "elsewhere use this host's name or address)"));
	unsigned lo = if_nametoindex("lo");
	if (lo) {
		char want[64];
		snprintf(want, sizeof(want), "http://[fe80::1%%25lo]:8080/");
		CHECK(is(v6("fe80::1", 8080, lo), want));
	}
	CHECK(is(v6("fe80::1", 8080, 999999), "http://[fe80::1%25999999]:8080/"));

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	CHECK(url_for_listener((struct sockaddr *)&a, sizeof(a), out, 23) == 22);
	CHECK(url_for_listener((struct sockaddr *)&a, sizeof(a), out, 22) == -ENOSPC && !out[0]);
	CHECK(url_for_listener((struct sockaddr *)&a, sizeof(a) - 1, out, sizeof(out)) ==
	      -EAFNOSUPPORT);
	struct sockaddr_un u = { .sun_family = AF_UNIX, .sun_path = "/run/x.sock" };
	CHECK(url_for_listener((struct sockaddr *)&u, sizeof(u), out, sizeof(out)) ==
		      -EAFNOSUPPORT && !out[0]);
	if (failures)
		fprintf(stderr, "test_url: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
