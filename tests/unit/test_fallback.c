/* fallback: RINGSERVE_DISABLE lists, every name, unknown and empty words
 * (named in the error, cut and without control bytes), and formatting
 * that parses back to the same mask. */
#include "fallback.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static unsigned parse_ok(const char *s)
{
	unsigned m = 0xdead;
	char bad[32] = "untouched";

	CHECK(fallback_parse(s, &m, bad, sizeof(bad)) == 0);
	CHECK(strcmp(bad, "untouched") == 0);
	return m;
}

static const char *parse_bad(const char *s)
{
	static char bad[8];
	unsigned m = 0xdead;

	CHECK(fallback_parse(s, &m, bad, sizeof(bad)) == -EINVAL);
	CHECK(m == 0xdead);
	return bad;
}

int main(void)
{
	char out[256];

	CHECK(parse_ok(NULL) == 0);
	CHECK(parse_ok("") == 0);
	CHECK(parse_ok("defer_taskrun") == FB_DEFER_TASKRUN);
	CHECK(parse_ok("coop_taskrun") == FB_COOP_TASKRUN);
	CHECK(parse_ok("pbuf_ring") == FB_PBUF_RING);
	CHECK(parse_ok("send_zc") == FB_SEND_ZC);
	CHECK(parse_ok("cachestat") == FB_CACHESTAT);
	CHECK(parse_ok("dioalign") == FB_DIOALIGN);
	CHECK(parse_ok("cachestat,defer_taskrun,cachestat") == (FB_CACHESTAT | FB_DEFER_TASKRUN));
	CHECK(parse_ok("ktls") == FB_KTLS);
	CHECK(parse_ok("tls_seal") == FB_TLS_SEAL);
	CHECK(parse_ok("tls_open") == FB_TLS_OPEN);
	CHECK(parse_ok(fallback_names) == 0x1ff);

	CHECK(strcmp(parse_bad("bogus"), "bogus") == 0);
	CHECK(strcmp(parse_bad("cachestat,bogus"), "bogus") == 0);
	CHECK(strcmp(parse_bad("cachestat,"), "") == 0);
	CHECK(strcmp(parse_bad(",cachestat"), "") == 0);
	CHECK(strcmp(parse_bad("CACHESTAT"), "CACHEST") == 0); /* cut to the buffer */
	CHECK(strcmp(parse_bad("cachestat "), "cachest") == 0);
	CHECK(strcmp(parse_bad("a\nb"), "a?b") == 0);
	CHECK(strcmp(parse_bad("cache"), "cache") == 0);

	for (unsigned m = 0; m < 64; m++) {
		fallback_format(m, out, sizeof(out));
		CHECK(parse_ok(out) == m);
	}
	fallback_format(FB_CACHESTAT | FB_DEFER_TASKRUN, out, sizeof(out));
	CHECK(strcmp(out, "defer_taskrun,cachestat") == 0);
	fallback_format(FB_CACHESTAT | FB_DEFER_TASKRUN, out, 16);
	CHECK(strcmp(out, "defer_taskrun") == 0);
	fallback_format(0, out, sizeof(out));
	CHECK(out[0] == '\0');
	if (failures)
		fprintf(stderr, "test_fallback: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
