/* fuzz_range: range_parse against its invariants and a naive reference,
 * and the multipart framing against the real pieces.
 *
 * Input: 8 bytes little-endian, whose low 40 bits are the representation
 * size and whose next byte picks max (0 -> RANGE_MAX_PARTS), then the Range
 * value. The reference splits the value on commas, keeps every satisfiable
 * span in a plain sorted array, and after each range-spec coalesces all of
 * them from scratch; range_parse must reach the same verdict and spans.
 * A violated invariant abort()s. */
#include "range.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

#define GAP 80
#define INF UINT64_MAX

static const char boundary[] = "0123456789abcdef0123456789abcdef01234567";
static const char ctype[] = "application/octet-stream";

/* ---- reference ---- */

struct ref {
	uint64_t size;
	unsigned max;
	struct range_span *all; /* every satisfiable span so far, as sent */
	unsigned nall;
	unsigned __int128 sent;
	bool suffix, ignore;
	struct range_span merged[RANGE_MAX_PARTS + 1];
	unsigned nmerged;
};

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* Digits to a value, INF when past 2^63 - 1: compare as decimal strings. */
static uint64_t ref_num(const char *s, size_t n)
{
	char tmp[32];

	while (n > 1 && s[0] == '0')
		s++, n--;
	if (n > 19 || (n == 19 && memcmp(s, "9223372036854775807", 19) > 0))
		return INF;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return strtoull(tmp, NULL, 10);
}

/* Insert the newest span (all[nall - 1]) in start order, then coalesce
 * the whole list from scratch; stop counting past max. */
static void ref_merge(struct ref *r)
{
	struct range_span x = r->all[r->nall - 1];
	unsigned i = r->nall - 1, m = 0;

	for (; i > 0 && r->all[i - 1].start > x.start; i--)
		r->all[i] = r->all[i - 1];
	r->all[i] = x;
	for (i = 0; i < r->nall && m <= r->max; i++) {
		if (m && (unsigned __int128)r->all[i].start <
				 (unsigned __int128)r->merged[m - 1].end + GAP) {
			if (r->all[i].end > r->merged[m - 1].end)
				r->merged[m - 1].end = r->all[i].end;
		} else {
			r->merged[m++] = r->all[i];
		}
	}
	r->nmerged = m;
}

/* One trimmed, non-empty element. -1 on a syntax error. */
static int ref_spec(struct ref *r, const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	size_t an, bn;
	uint64_t a, b;

	if (!dash)
		return -1;
	an = (size_t)(dash - s);
	bn = n - an - 1;
	if (an == 0) { /* "-n" */
		if (!all_digits(dash + 1, bn))
			return -1;
		b = ref_num(dash + 1, bn);
		r->suffix |= b > 0;
		if (b == 0 || r->size == 0)
			return 0;
		a = b >= r->size ? 0 : r->size - b;
		b = r->size - 1;
	} else {
		if (!all_digits(s, an) || (bn && !all_digits(dash + 1, bn)))
			return -1;
		a = ref_num(s, an);
		b = bn ? ref_num(dash + 1, bn) : INF;
		if (b < a)
			return -1;
		if (a >= r->size)
			return 0;
		if (b >= r->size)
			b = r->size - 1;
	}
	r->all[r->nall].start = a;
	r->all[r->nall].end = b + 1;
	r->sent += b + 1 - a;
	r->nall++;
	if (r->sent > (unsigned __int128)2 * r->size)
		r->ignore = true;
	ref_merge(r);
	if (r->nmerged > r->max)
		r->ignore = true;
	return 0;
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

static enum range_result ref_parse(struct ref *r, const char *v, size_t len)
{
	size_t i, j, a, b;
	bool any = false;

	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return RANGE_IGNORE;
	r->all = malloc(len * sizeof(*r->all));
	for (i = 6; i <= len && !r->ignore; i = j + 1) {
		for (j = i; j < len && v[j] != ','; j++)
			;
		for (a = i; a < j && ows(v[a]); a++)
			;
		for (b = j; b > a && ows(v[b - 1]); b--)
			;
		if (a == b)
			continue;
		if (i == 6 && a != i) /* no OWS right after "=" */
			return RANGE_IGNORE;
		if (ref_spec(r, v + a, b - a))
			return RANGE_IGNORE;
		any = true;
	}
	if (r->ignore || !any)
		return RANGE_IGNORE;
	if (r->size == 0)
		return r->suffix ? RANGE_IGNORE : RANGE_UNSATISFIABLE;
	return r->nall ? RANGE_OK : RANGE_UNSATISFIABLE;
}

/* ---- multipart framing ---- */

static void check_multipart(const struct range_span *sp, unsigned n, uint64_t size)
{
	char buf[256];
	uint64_t total = 0, s, e, z;
	int r;

	for (unsigned i = 0; i < n; i++) {
		r = range_part_head(buf, sizeof(buf) - 1, boundary, ctype, &sp[i], size, i == 0);
		REQUIRE(r > 0 && (size_t)r < sizeof(buf));
		REQUIRE(range_part_head(buf, (size_t)r - 1, boundary, ctype, &sp[i], size,
					i == 0) == -ENOSPC);
		r = range_part_head(buf, (size_t)r, boundary, ctype, &sp[i], size, i == 0);
		buf[r] = '\0';
		REQUIRE(strncmp(buf, i ? "\r\n--" : "--", i ? 4 : 2) == 0);
		REQUIRE(sscanf(strstr(buf, "Content-Range: "),
			       "Content-Range: bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &s, &e,
			       &z) == 3);
		REQUIRE(s == sp[i].start && e == sp[i].end - 1 && z == size);
		REQUIRE(strcmp(buf + r - 4, "\r\n\r\n") == 0);
		total += (uint64_t)r + (sp[i].end - sp[i].start);
	}
	r = range_part_tail(buf, sizeof(buf), boundary);
	REQUIRE(r == (int)strlen(boundary) + 8);
	total += (uint64_t)r;
	REQUIRE(range_multipart_length(boundary, ctype, sp, n, size) == total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct range_span out[RANGE_MAX_PARTS + 1], canary;
	struct ref ref = { 0 };
	uint64_t raw = 0, size;
	unsigned max, n = 12345;
	enum range_result r, want;
	char *v;

	if (len < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		raw = raw << 8 | data[i];
	size = raw & ((UINT64_C(1) << 40) - 1);
	max = RANGE_MAX_PARTS - (unsigned)(raw >> 40 & 0xff) % RANGE_MAX_PARTS;
	len -= 8;
	v = malloc(len ? len : 1); /* exactly sized: ASan sees overreads */
	memcpy(v, data + 8, len);
	memset(out, 0x5a, sizeof(out));
	canary = out[max];

	r = range_parse(v, len, size, out, max, &n);
	REQUIRE(r == RANGE_IGNORE || r == RANGE_OK || r == RANGE_UNSATISFIABLE);
	REQUIRE(memcmp(&out[max], &canary, sizeof(canary)) == 0);
	if (r != RANGE_OK) {
		REQUIRE(n == 0);
	} else {
		REQUIRE(n >= 1 && n <= max);
		for (unsigned i = 0; i < n; i++) {
			REQUIRE(out[i].start < out[i].end && out[i].end <= size);
			/* sorted, disjoint, and coalesced: neighbours >= GAP apart */
			REQUIRE(i == 0 || out[i].start >= out[i - 1].end + GAP);
		}
		check_multipart(out, n, size);
	}

	ref.size = size;
	ref.max = max;
	want = ref_parse(&ref, v, len);
	REQUIRE(r == want);
	if (r == RANGE_OK)
		REQUIRE(n == ref.nmerged && memcmp(out, ref.merged, n * sizeof(*out)) == 0);
	free(ref.all);
	free(v);
	return 0;
}
