/* fuzz_realip: --trusted-proxy CIDRs and the X-Forwarded-For / Forwarded
 * walk.
 *
 * The input is a CIDR line, a newline, then header field values separated
 * by newlines. The CIDR, when accepted, must contain its own address and
 * print back to it; the X-Forwarded-For walk must agree with a plain
 * right-to-left reference over the same entries; the Forwarded walk must
 * find an address that appears in the input, or nothing. Both run under
 * ASan on exactly sized copies. A violated invariant abort()s. */
#include "realip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static struct realip_cidr trusted[3];
static unsigned ntrusted;

static void setup_trust(const char *line, size_t n)
{
	char *s = malloc(n + 1);
	struct realip_cidr c;

	memcpy(s, line, n);
	s[n] = '\0';
	ntrusted = 0;
	realip_parse_cidr("10.0.0.0/8", &trusted[ntrusted++]);
	realip_parse_cidr("2001:db8::/32", &trusted[ntrusted++]);
	if (realip_parse_cidr(s, &c) == 0) {
		REQUIRE(c.bits <= (c.family == ALOG_PEER_V4 ? 32 : 128));
		struct alog_peer p = { .family = c.family };
		memcpy(p.addr, c.addr, sizeof(c.addr));
		REQUIRE(realip_match(&c, 1, &p));
		trusted[ntrusted++] = c;
	}
	free(s);
}

static bool same(const struct alog_peer *a, const struct alog_peer *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

/* The reference: every comma-separated entry of every field, then the
 * rule of realip.h applied right to left. */
#define MAXE 4096
static struct alog_peer ents[MAXE];
static bool valid[MAXE];

static bool reference_xff(const char *const *vals, const size_t *lens, int nv,
			  struct alog_peer *out)
{
	int n = 0;

	for (int f = 0; f < nv; f++) {
		const char *v = vals[f], *end = v + lens[f];
		while (v <= end && n < MAXE) {
			const char *c = memchr(v, ',', (size_t)(end - v));
			const char *stop = c ? c : end, *s = v;
			while (s < stop && (*s == ' ' || *s == '\t'))
				s++;
			while (stop > s && (stop[-1] == ' ' || stop[-1] == '\t'))
				stop--;
			if (stop > s) {
				memset(&ents[n], 0, sizeof(ents[n]));
				valid[n] = realip_parse_node(s, (size_t)(stop - s), &ents[n]);
				n++;
			}
			if (!c)
				break;
			v = c + 1;
		}
	}
	if (n == MAXE)
		return false; /* not compared */
	for (int i = n - 1; i >= 0; i--) {
		if (!valid[i]) {
			if (i + 1 < n) {
				*out = ents[i + 1];
				return true;
			}
			return false;
		}
		if (!realip_match(trusted, ntrusted, &ents[i]) || i == 0) {
			*out = ents[i];
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	const char *vals[64];
	size_t lens[64];
	int nv = 0;

	memcpy(buf, data, size);
	const char *nl = memchr(buf, '\n', size);
	size_t first = nl ? (size_t)(nl - buf) : size;
	setup_trust(buf, first);
	const char *p = nl ? nl + 1 : buf + size, *end = buf + size;
	while (p < end && nv < 64) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		vals[nv] = p;
		lens[nv] = (size_t)((e ? e : end) - p);
		nv++;
		p = e ? e + 1 : end;
	}

	struct realip_walk wk;
	struct alog_peer got, want;
	realip_walk_init(&wk, trusted, ntrusted);
	for (int i = 0; i < nv; i++)
		realip_walk_xff(&wk, vals[i], lens[i]);
	bool g = realip_walk_result(&wk, &got);
	bool r = reference_xff(vals, lens, nv, &want);
	if (wk.seen < MAXE) {
		REQUIRE(g == r);
		if (g)
			REQUIRE(same(&got, &want));
	}

	realip_walk_init(&wk, trusted, ntrusted);
	for (int i = 0; i < nv; i++)
		realip_walk_forwarded(&wk, vals[i], lens[i]);
	if (realip_walk_result(&wk, &got)) {
		REQUIRE(got.family == ALOG_PEER_V4 || got.family == ALOG_PEER_V6);
		char s[64];
		struct alog_peer back;
		alog_peer_str(&got, s, sizeof(s));
		REQUIRE(realip_parse_node(s, strlen(s), &back) && same(&back, &got));
	}
	free(buf);
	return 0;
}
