/* range: Range header parsing (forms, clamping, unsatisfiable and invalid
 * forms, overflow, coalescing, the DoS bounds) and multipart framing (exact
 * part heads and tail, the length against the real pieces). */
#include "range.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static struct range_span sp[RANGE_MAX_PARTS];
static unsigned n;

/* Parse from an exactly sized heap copy, so ASan sees any overread. */
static enum range_result parse_max(const char *v, uint64_t size, unsigned max)
{
	size_t len = strlen(v);
	char *c = malloc(len ? len : 1);
	enum range_result r;

	memcpy(c, v, len);
	memset(sp, 0xa5, sizeof(sp));
	r = range_parse(c, len, size, sp, max, &n);
	free(c);
	if (r != RANGE_OK && n != 0)
		failures++, fprintf(stderr, "n=%u for result %d on \"%s\"\n", n, r, v);
	return r;
}

static enum range_result parse(const char *v, uint64_t size)
{
	return parse_max(v, size, 16);
}

/* One satisfiable span [s, e). */
static int one(const char *v, uint64_t size, uint64_t s, uint64_t e)
{
	return parse(v, size) == RANGE_OK && n == 1 && sp[0].start == s && sp[0].end == e;
}

static int two(const char *v, uint64_t size, uint64_t s0, uint64_t e0, uint64_t s1,
	       uint64_t e1)
{
	return parse(v, size) == RANGE_OK && n == 2 && sp[0].start == s0 &&
	       sp[0].end == e0 && sp[1].start == s1 && sp[1].end == e1;
}

static void test_single(void)
{
	CHECK(one("bytes=0-0", 100, 0, 1));
	CHECK(one("bytes=0-99", 100, 0, 100));
	CHECK(one("bytes=10-19", 100, 10, 20));
	CHECK(one("bytes=10-", 100, 10, 100));
	CHECK(one("bytes=99-", 100, 99, 100));
	CHECK(one("bytes=-1", 100, 99, 100));
	CHECK(one("bytes=-10", 100, 90, 100));
	CHECK(one("bytes=-100", 100, 0, 100));
	CHECK(one("bytes=5-5", 100, 5, 6));
	CHECK(one("bytes=007-0010", 100, 7, 11)); /* leading zeros are digits */
	CHECK(one("BYTES=1-2", 100, 1, 3));       /* the unit is case-insensitive */
	CHECK(one("Bytes=1-2", 100, 1, 3));
}

static void test_clamp(void)
{
	CHECK(one("bytes=0-100", 100, 0, 100));
	CHECK(one("bytes=50-1000", 100, 50, 100));
	CHECK(one("bytes=-101", 100, 0, 100));  /* suffix larger than the file */
	CHECK(one("bytes=-5000", 100, 0, 100));
	CHECK(one("bytes=99-99999", 100, 99, 100));
	CHECK(one("bytes=0-0", 1, 0, 1));
	CHECK(one("bytes=-1", 1, 0, 1));
	CHECK(one("bytes=0-", 1, 0, 1));
}

static void test_unsatisfiable(void)
{
	CHECK(parse("bytes=500-", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=100-", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=100-200", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=-0", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=-000", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=100-100,200-,-0", 100) == RANGE_UNSATISFIABLE);
	/* The satisfiable ones survive, the others are dropped. */
	CHECK(one("bytes=500-600,10-19", 100, 10, 20));
	CHECK(one("bytes=-0,10-19", 100, 10, 20));
	CHECK(one("bytes=100-,99-", 100, 99, 100));
}

static void test_zero_length(void)
{
	CHECK(parse("bytes=0-", 0) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=0-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=0-100", 0) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=-1", 0) == RANGE_IGNORE);  /* the empty body is the answer */
	CHECK(parse("bytes=-100", 0) == RANGE_IGNORE);
	CHECK(parse("bytes=0-0,-5", 0) == RANGE_IGNORE);
	CHECK(parse("bytes=-5,0-0", 0) == RANGE_IGNORE);
	CHECK(parse("bytes=-0,0-", 0) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=-1,x", 0) == RANGE_IGNORE);
	CHECK(parse("bytes=0-,x", 0) == RANGE_IGNORE); /* syntax first */
}

static void test_syntax(void)
{
	static const char *const bad[] = {
		"bytes=5-2", "bytes=a-b", "items=0-1", "bytes=", "bytes=--1",
		"bytes= 0-1",   /* no OWS after "=" (range-set starts at once) */
		"bytes =0-1", "bytes", "byte=0-1", "bytess=0-1", "", "=0-1",
		"bytes=-", "bytes=0", "bytes=0-1-2", "bytes=0 -1", "bytes=0- 1",
		"bytes=- 1", "bytes=+1-2", "bytes=1-+2", "bytes=0x10-20",
		"bytes=1.5-2", "bytes=0-1;", "bytes=0-1,x", "bytes=0-1,,2-a",
		"bytes=,", "bytes=, ,", "bytes=,,,", "bytes=0-1 2-3", "bytes=0-1\r\n",
		"bytes=0-1;q=1", "bytes=\t0-1", "bytes=0-1,\v2-3", "bytes=5-4,0-1",
		"bytes=0-1,5-4", "bytes=-1-2", "bytes==0-1", "bytes:0-1",
		"bytes=99999999999999999999999-1", /* first > last even saturated */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], 100) != RANGE_IGNORE) {
			fprintf(stderr, "not ignored: \"%s\"\n", bad[i]);
			failures++;
		}
	}
	/* A NUL inside the value is just another invalid byte. */
	CHECK(range_parse("bytes=0-1\0", 10, 100, sp, 16, &n) == RANGE_IGNORE && n == 0);
	CHECK(range_parse("bytes=0-1,5", 9, 100, sp, 16, &n) == RANGE_OK && n == 1); /* len honoured */
}

static void test_list(void)
{
	/* OWS around commas, empty elements skipped. */
	CHECK(two("bytes=0-0 , 200-200", 1000, 0, 1, 200, 201));
	CHECK(two("bytes=0-0,\t200-200", 1000, 0, 1, 200, 201));
	CHECK(two("bytes=0-0 ,\t , ,200-200", 1000, 0, 1, 200, 201));
	CHECK(two("bytes=,0-0,,200-200,", 1000, 0, 1, 200, 201));
	CHECK(two("bytes=, 0-0,200-200 ,", 1000, 0, 1, 200, 201));
	CHECK(one("bytes=0-0, ", 1000, 0, 1));
	CHECK(one("bytes=0-0 ", 1000, 0, 1)); /* trailing OWS, if not trimmed */
	CHECK(one("bytes= ,0-0", 1000, 0, 1)); /* [ elem ] OWS "," : empty first */
}

static void test_overflow(void)
{
	CHECK(one("bytes=0-99999999999999999999999", 100, 0, 100));
	CHECK(one("bytes=0-18446744073709551615", 100, 0, 100));
	CHECK(one("bytes=0-18446744073709551616", 100, 0, 100));
	CHECK(one("bytes=0-9223372036854775807", 100, 0, 100));
	CHECK(one("bytes=0-9223372036854775808", 100, 0, 100));
	CHECK(parse("bytes=99999999999999999999999-", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=18446744073709551615-", 100) == RANGE_UNSATISFIABLE);
	CHECK(parse("bytes=99999999999999999999999-99999999999999999999999", 100) ==
	      RANGE_UNSATISFIABLE);
	CHECK(one("bytes=-99999999999999999999", 100, 0, 100));
	CHECK(one("bytes=-18446744073709551616", 100, 0, 100));
	CHECK(one("bytes=-00000000000000000000000000001", 100, 99, 100));
	CHECK(one("bytes=00000000000000000000000000010-", 100, 10, 100));
	/* Huge representations: no wrap anywhere. */
	CHECK(one("bytes=0-", UINT64_MAX, 0, UINT64_MAX));
	CHECK(one("bytes=-1", UINT64_MAX, UINT64_MAX - 1, UINT64_MAX));
	CHECK(one("bytes=-99999999999999999999", UINT64_MAX, 0, UINT64_MAX));
	CHECK(one("bytes=9223372036854775806-", (uint64_t)INT64_MAX,
		  (uint64_t)INT64_MAX - 1, (uint64_t)INT64_MAX));
	CHECK(parse("bytes=9223372036854775807-", (uint64_t)INT64_MAX) ==
	      RANGE_UNSATISFIABLE);
	/* 2^63 - 1 is a number, 2^63 is already "infinitely large". */
	CHECK(one("bytes=9223372036854775807-", UINT64_MAX, (uint64_t)INT64_MAX, UINT64_MAX));
	CHECK(parse("bytes=9223372036854775808-", UINT64_MAX) == RANGE_UNSATISFIABLE);
	CHECK(one("bytes=-9223372036854775807", UINT64_MAX, UINT64_MAX - (uint64_t)INT64_MAX,
		  UINT64_MAX));
	CHECK(one("bytes=-9223372036854775808", UINT64_MAX, 0, UINT64_MAX));
	CHECK(one("bytes=0-9223372036854775806", UINT64_MAX, 0, (uint64_t)INT64_MAX));
	CHECK(one("bytes=0-9223372036854775808", UINT64_MAX, 0, UINT64_MAX));
	/* Two infinitely large positions are equal, not reversed. */
	CHECK(parse("bytes=9223372036854775809-9223372036854775808", 100) ==
	      RANGE_UNSATISFIABLE);
	CHECK(one("bytes=0-,0-", (uint64_t)INT64_MAX, 0, (uint64_t)INT64_MAX)); /* 2 * size */
	CHECK(parse("bytes=0-,0-,-1", (uint64_t)INT64_MAX) == RANGE_IGNORE);
}

static void test_merge(void)
{
	/* Sorted. */
	CHECK(two("bytes=500-599,0-99", 1000, 0, 100, 500, 600));
	CHECK(two("bytes=-100,0-99", 1000, 0, 100, 900, 1000));
	/* Overlap and containment. */
	CHECK(one("bytes=0-99,50-149", 1000, 0, 150));
	CHECK(one("bytes=50-149,0-99", 1000, 0, 150));
	CHECK(one("bytes=0-999,10-20", 1000, 0, 1000));
	CHECK(one("bytes=10-20,0-999", 1000, 0, 1000));
	CHECK(one("bytes=0-99,0-99", 1000, 0, 100));
	/* Adjacency. */
	CHECK(one("bytes=0-99,100-199", 1000, 0, 200));
	CHECK(one("bytes=100-199,0-99", 1000, 0, 200));
	/* The gap rule: a gap of 79 bytes merges, 80 does not. */
	CHECK(one("bytes=0-99,179-199", 1000, 0, 200));
	CHECK(two("bytes=0-99,180-199", 1000, 0, 100, 180, 200));
	CHECK(one("bytes=179-199,0-99", 1000, 0, 200));
	CHECK(two("bytes=180-199,0-99", 1000, 0, 100, 180, 200));
	/* A late span bridging several earlier ones. */
	CHECK(one("bytes=0-0,200-200,400-400,600-600,50-550", 1000, 0, 601));
	CHECK(parse("bytes=0-0,200-200,400-400,600-600,250-349", 1000) == RANGE_OK &&
	      n == 3 && sp[0].end == 1 && sp[1].start == 200 && sp[1].end == 401 &&
	      sp[2].start == 600);
	CHECK(parse("bytes=0-0,200-200,400-400,600-600,100-500", 1000) == RANGE_OK &&
	      n == 3 && sp[1].start == 100 && sp[1].end == 501); /* gaps of 99 stay */
	/* Chains merging through the gap rule. */
	CHECK(one("bytes=0-0,80-80,160-160,240-240", 1000, 0, 241));
	CHECK(parse("bytes=0-0,81-81,162-162,243-243", 1000) == RANGE_OK && n == 4);
	/* Suffix and open ranges coalesce with the rest. */
	CHECK(one("bytes=900-950,-50", 1000, 900, 1000));
	CHECK(one("bytes=-10,995-", 1000, 990, 1000));
	CHECK(two("bytes=0-0,-1", 1000, 0, 1, 999, 1000));
}

static void test_bounds(void)
{
	char *v = malloc(16384);
	size_t o = 0;
	unsigned i;

	/* "0-," a thousand times: 1000 * size bytes as sent -> ignored. */
	o = (size_t)sprintf(v, "bytes=");
	for (i = 0; i < 1000; i++)
		o += (size_t)sprintf(v + o, "0-,");
	CHECK(parse(v, 100) == RANGE_IGNORE);
	CHECK(parse(v, 1) == RANGE_IGNORE);
	CHECK(parse_max(v, 100, RANGE_MAX_PARTS) == RANGE_IGNORE);

	/* Exactly 2 * size as sent is allowed; one byte more is not. */
	CHECK(one("bytes=0-,0-", 100, 0, 100));
	CHECK(parse("bytes=0-,0-,0-0", 100) == RANGE_IGNORE);
	CHECK(one("bytes=0-49,0-,50-99", 100, 0, 100));
	CHECK(parse("bytes=-100,-100,-1", 100) == RANGE_IGNORE);
	/* Unsatisfiable specs add nothing to the sum. */
	CHECK(one("bytes=0-,0-,100-,200-300,-0", 100, 0, 100));

	/* max spans after merging: max is fine, max + 1 is not. */
	CHECK(parse_max("bytes=0-0,100-100,200-200", 1000, 3) == RANGE_OK && n == 3);
	CHECK(parse_max("bytes=0-0,100-100,200-200,300-300", 1000, 3) == RANGE_IGNORE);
	CHECK(parse_max("bytes=0-0,100-100,200-200,300-300,0-999", 1000, 3) == RANGE_IGNORE);
	CHECK(parse_max("bytes=0-0,50-50,100-100,200-200", 1000, 2) == RANGE_OK && n == 2);
	CHECK(parse_max("bytes=0-0,100-100,200-200,300-300,400-400", 1000, 5) == RANGE_OK &&
	      n == 5);
	CHECK(parse_max("bytes=0-0", 1000, 1) == RANGE_OK && n == 1);
	CHECK(parse_max("bytes=0-0,500-500", 1000, 1) == RANGE_IGNORE);
	CHECK(parse_max("bytes=0-0", 1000, 0) == RANGE_IGNORE);
	CHECK(parse_max("bytes=500-", 100, 0) == RANGE_UNSATISFIABLE);

	/* More than RANGE_MAX_PARTS disjoint single bytes. */
	o = (size_t)sprintf(v, "bytes=");
	for (i = 0; i < RANGE_MAX_PARTS + 1; i++)
		o += (size_t)sprintf(v + o, "%u-%u,", i * 100, i * 100);
	CHECK(parse_max(v, 1000000, RANGE_MAX_PARTS) == RANGE_IGNORE);
	v[o - 1] = '\0';
	*strrchr(v, ',') = '\0'; /* exactly RANGE_MAX_PARTS */
	CHECK(parse_max(v, 1000000, RANGE_MAX_PARTS) == RANGE_OK && n == RANGE_MAX_PARTS);
	for (i = 0; i < n; i++)
		CHECK(sp[i].start == i * 100 && sp[i].end == i * 100 + 1);
	/* max above the ceiling is held to it: out[] is never overrun. */
	CHECK(parse_max(v, 1000000, 1000) == RANGE_OK && n == RANGE_MAX_PARTS);

	/* Many single bytes merging into one: fine whatever their number. */
	o = (size_t)sprintf(v, "bytes=");
	for (i = 0; i < 900; i++)
		o += (size_t)sprintf(v + o, "%u-%u,", (i * 7) % 900, (i * 7) % 900);
	CHECK(parse_max(v, 1000, 2) == RANGE_OK && n == 1 && sp[0].start == 0 &&
	      sp[0].end == 900);
	free(v);
}

/* Reference: sort and coalesce with plain loops, for small random sets. */
static unsigned ref_merge(struct range_span *a, unsigned k)
{
	unsigned m = 0;

	for (unsigned i = 1; i < k; i++)
		for (unsigned j = i; j > 0 && a[j - 1].start > a[j].start; j--) {
			struct range_span t = a[j];
			a[j] = a[j - 1];
			a[j - 1] = t;
		}
	for (unsigned i = 0; i < k; i++) {
		if (m && a[i].start < a[m - 1].end + 80) {
			if (a[i].end > a[m - 1].end)
				a[m - 1].end = a[i].end;
		} else {
			a[m++] = a[i];
		}
	}
	return m;
}

static void test_random(void)
{
	char v[1024];
	struct range_span ref[32];
	uint64_t size, a, b, sum;
	unsigned k, m, sat;
	size_t o;
	enum range_result r, want;

	srand(1);
	for (int iter = 0; iter < 20000; iter++) {
		size = (uint64_t)rand() % 2000;
		k = 1 + (unsigned)rand() % 12;
		o = (size_t)sprintf(v, "bytes=");
		sum = 0;
		sat = 0;
		m = 0;
		for (unsigned i = 0; i < k; i++) {
			a = (uint64_t)rand() % 2200;
			b = a + (uint64_t)rand() % 300;
			switch (rand() % 3) {
			case 0:
				o += (size_t)sprintf(v + o, "%" PRIu64 "-%" PRIu64 ",", a, b);
				break;
			case 1:
				o += (size_t)sprintf(v + o, "%" PRIu64 "-,", a);
				b = UINT64_MAX - 1;
				break;
			default:
				o += (size_t)sprintf(v + o, "-%" PRIu64 ",", b);
				a = b >= size ? 0 : size - b;
				b = b ? size - 1 : 0;
				if (v[o - 2] == '0' && v[o - 3] == '-')
					continue; /* "-0" */
				break;
			}
			if (a >= size)
				continue;
			ref[m].start = a;
			ref[m].end = (b < size - 1 ? b : size - 1) + 1;
			sum += ref[m].end - ref[m].start;
			m++;
			sat++;
		}
		m = ref_merge(ref, m);
		if (size == 0)
			want = strstr(v, "=-") || strstr(v, ",-") ? RANGE_IGNORE
								   : RANGE_UNSATISFIABLE;
		else if (sat == 0)
			want = RANGE_UNSATISFIABLE;
		else if (sum > 2 * size || m > 16)
			want = RANGE_IGNORE;
		else
			want = RANGE_OK;
		if (size == 0 && want == RANGE_IGNORE) { /* "-0" alone is not a suffix */
			want = RANGE_UNSATISFIABLE;
			for (char *p = v; (p = strchr(p, '-')); p++)
				if ((p[-1] == '=' || p[-1] == ',') && p[1] != '0')
					want = RANGE_IGNORE;
		}
		r = parse(v, size);
		if (r != want || (r == RANGE_OK && (n != m ||
						     memcmp(sp, ref, m * sizeof(*sp))))) {
			fprintf(stderr, "random: \"%s\" size %" PRIu64 ": %d want %d\n", v,
				size, r, want);
			failures++;
			return;
		}
	}
}

static void test_part_head(void)
{
	char buf[256];
	struct range_span s = { 0, 100 };
	static const char first[] = "--B0UND\r\nContent-Type: text/plain\r\n"
				    "Content-Range: bytes 0-99/1000\r\n\r\n";
	static const char next[] = "\r\n--B0UND\r\nContent-Type: text/plain\r\n"
				   "Content-Range: bytes 500-999/1000\r\n\r\n";
	static const char tail[] = "\r\n--B0UND--\r\n";
	int r;

	r = range_part_head(buf, sizeof(buf), "B0UND", "text/plain", &s, 1000, 1);
	CHECK(r == (int)strlen(first) && memcmp(buf, first, (size_t)r) == 0);
	s = (struct range_span){ 500, 1000 };
	r = range_part_head(buf, sizeof(buf), "B0UND", "text/plain", &s, 1000, 0);
	CHECK(r == (int)strlen(next) && memcmp(buf, next, (size_t)r) == 0);
	/* Exactly enough room, then one byte short. */
	CHECK(range_part_head(buf, strlen(next), "B0UND", "text/plain", &s, 1000, 0) ==
	      (int)strlen(next));
	memset(buf, 'z', sizeof(buf));
	CHECK(range_part_head(buf, strlen(next) - 1, "B0UND", "text/plain", &s, 1000, 0) ==
	      -ENOSPC);
	CHECK(buf[strlen(next) - 1] == 'z'); /* nothing past cap */
	CHECK(range_part_head(buf, 0, "B0UND", "text/plain", &s, 1000, 0) == -ENOSPC);

	s = (struct range_span){ 0, 1 };
	r = range_part_head(buf, sizeof(buf), "b", "a/b", &s, 1, 1);
	CHECK(r == (int)strlen("--b\r\nContent-Type: a/b\r\nContent-Range: bytes 0-0/1\r\n\r\n"));
	CHECK(memcmp(buf, "--b\r\nContent-Type: a/b\r\nContent-Range: bytes 0-0/1\r\n\r\n",
		     (size_t)r) == 0);
	s = (struct range_span){ UINT64_MAX - 1, UINT64_MAX };
	r = range_part_head(buf, sizeof(buf), "b", "a/b", &s, UINT64_MAX, 0);
	buf[r > 0 ? r : 0] = '\0';
	CHECK(strcmp(buf, "\r\n--b\r\nContent-Type: a/b\r\nContent-Range: bytes "
			  "18446744073709551614-18446744073709551614/"
			  "18446744073709551615\r\n\r\n") == 0);

	r = range_part_tail(buf, sizeof(buf), "B0UND");
	CHECK(r == (int)strlen(tail) && memcmp(buf, tail, (size_t)r) == 0);
	CHECK(range_part_tail(buf, strlen(tail), "B0UND") == (int)strlen(tail));
	CHECK(range_part_tail(buf, strlen(tail) - 1, "B0UND") == -ENOSPC);
}

/* The Content-Length must equal what is really sent, piece by piece. */
static void test_multipart_length(void)
{
	static const char *const bounds[] = { "x", "0123456789abcdef0123456789abcdef01234567" };
	static const char *const types[] = { "application/octet-stream",
					     "text/html; charset=utf-8" };
	struct range_span s[RANGE_MAX_PARTS];
	char buf[512];
	uint64_t size, total, pos;
	unsigned k;
	int r;

	srand(2);
	for (int iter = 0; iter < 5000; iter++) {
		const char *b = bounds[iter & 1], *t = types[(iter >> 1) & 1];

		size = 1 + ((uint64_t)rand() << 20 ^ (uint64_t)rand()) % (iter & 4 ? 100000 : UINT64_MAX);
		k = 1 + (unsigned)rand() % RANGE_MAX_PARTS;
		pos = 0;
		total = 0;
		for (unsigned i = 0; i < k; i++) {
			if (pos >= size) {
				k = i;
				break;
			}
			s[i].start = pos + (uint64_t)rand() % (size - pos);
			s[i].end = s[i].start + 1 + (uint64_t)rand() % (size - s[i].start);
			pos = s[i].end;
		}
		for (unsigned i = 0; i < k; i++) {
			r = range_part_head(buf, sizeof(buf), b, t, &s[i], size, i == 0);
			CHECK(r > 0);
			total += (uint64_t)r + (s[i].end - s[i].start);
		}
		r = range_part_tail(buf, sizeof(buf), b);
		CHECK(r > 0);
		total += (uint64_t)r;
		if (range_multipart_length(b, t, s, k, size) != total) {
			fprintf(stderr, "multipart length mismatch, k=%u\n", k);
			failures++;
			return;
		}
	}
	/* Worked example: two parts of 100 bytes of a 1000-byte file. */
	s[0] = (struct range_span){ 0, 100 };
	s[1] = (struct range_span){ 500, 600 };
	CHECK(range_multipart_length("B", "text/plain", s, 2, 1000) ==
	      strlen("--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-99/1000\r\n\r\n") +
	      100 +
	      strlen("\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 500-599/1000\r\n\r\n") +
	      100 + strlen("\r\n--B--\r\n"));
}

static void test_request_order(void)
{
	struct range_span o[RANGE_MAX_PARTS];
	unsigned cnt = 0;
	const char *v = "bytes=500-509,0-9,-10";

	CHECK(range_parse(v, strlen(v), 1000, o, 16, &cnt) == RANGE_OK && cnt == 3);
	range_request_order(v, strlen(v), 1000, o, cnt);
	CHECK(o[0].start == 500 && o[0].end == 510);
	CHECK(o[1].start == 0 && o[1].end == 10);
	CHECK(o[2].start == 990 && o[2].end == 1000);

	/* A merged span takes the place of its first range-spec. */
	v = "bytes=500-509,0-9,5-20,900-";
	CHECK(range_parse(v, strlen(v), 1000, o, 16, &cnt) == RANGE_OK && cnt == 3);
	range_request_order(v, strlen(v), 1000, o, cnt);
	CHECK(o[0].start == 500 && o[0].end == 510);
	CHECK(o[1].start == 0 && o[1].end == 21);
	CHECK(o[2].start == 900 && o[2].end == 1000);

	/* Unsatisfiable specs in between change nothing. */
	v = "bytes=5000-,700-799,100-199";
	CHECK(range_parse(v, strlen(v), 1000, o, 16, &cnt) == RANGE_OK && cnt == 2);
	range_request_order(v, strlen(v), 1000, o, cnt);
	CHECK(o[0].start == 700 && o[1].start == 100);
}

int main(void)
{
	test_request_order();
	test_single();
	test_clamp();
	test_unsatisfiable();
	test_zero_length();
	test_syntax();
	test_list();
	test_overflow();
	test_merge();
	test_bounds();
	test_random();
	test_part_head();
	test_multipart_length();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
