/* range: the Range request header and multipart/byteranges framing.
 *
 * The spans are kept in the caller's out[] as a sorted, already coalesced
 * set while the list is read: each new span is merged into it at once. So
 * memory is the caller's max spans and the work is O(len + count * max),
 * whatever the client sends. Because of that, "more than max spans after
 * merging" is judged on the set as it stands after each range-spec: a
 * request that lists more than max far-apart ranges and only later bridges
 * them is ignored (RFC 9110 §14.2 lets a server ignore many small ranges
 * that are not in ascending order). Answering 200 is always correct. */
#include "range.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Two spans closer than this are sent as one part: a part head costs
 * about this much, so the gap bytes are cheaper than another part. */
#define RANGE_GAP 80

/* A number past 2^63 - 1: "infinitely large", never wrapped. */
#define RANGE_INF UINT64_MAX

static const char unit[] = "bytes=";

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Read 1*DIGIT at *p, saturating at RANGE_INF once the value no longer
 * fits in 63 bits (leading zeros do not count). -EINVAL when no digit. */
static int read_num(const char **p, const char *e, uint64_t *out)
{
	const char *s = *p;
	uint64_t x = 0;

	for (; *p < e && is_digit(**p); (*p)++) {
		uint64_t d = (uint64_t)(**p - '0');

		if (x != RANGE_INF)
			x = x > ((uint64_t)INT64_MAX - d) / 10 ? RANGE_INF : x * 10 + d;
	}
	*out = x;
	return *p == s ? -EINVAL : 0;
}

struct range_state {
	uint64_t size;
	uint64_t budget;    /* 2 * size: bytes allowed as sent (exact for any
			     * off_t size; saturated past 2^63) */
	uint64_t sent;      /* bytes of satisfiable ranges as sent, clamped */
	bool suffix;        /* a "-n" with n > 0 was seen (matters for size 0) */
	bool too_many;      /* the coalesced set outgrew max, or sent > budget */
	struct range_span *out;
	unsigned max, n;
};

/* True when spans a (first) and b, a.start <= b.start, are sent as one part. */
static bool close_enough(uint64_t a_end, uint64_t b_start)
{
	return b_start < a_end || b_start - a_end < RANGE_GAP;
}

/* Merge [s, e) into the sorted set. The set keeps gaps of at least
 * RANGE_GAP between neighbours, so the spans that absorb [s, e) are one
 * run out[i..j), and the merged span cannot reach out[i-1] or out[j]. */
static void add_span(struct range_state *st, uint64_t s, uint64_t e)
{
	struct range_span *o = st->out;
	unsigned i = 0, j;

	if (e - s > st->budget - st->sent) {
		st->too_many = true;
		return;
	}
	st->sent += e - s;
	while (i < st->n && !close_enough(o[i].end, s))
		i++;
	for (j = i; j < st->n && close_enough(e, o[j].start); j++)
		;
	if (j > i) {
		o[i].start = s < o[i].start ? s : o[i].start;
		o[i].end = e > o[j - 1].end ? e : o[j - 1].end;
		memmove(o + i + 1, o + j, (st->n - j) * sizeof(*o));
		st->n -= j - i - 1;
		return;
	}
	if (st->n == st->max) {
		st->too_many = true;
		return;
	}
	memmove(o + i + 1, o + i, (st->n - i) * sizeof(*o));
	o[i].start = s;
	o[i].end = e;
	st->n++;
}

/* One range-spec at *p: "a-b", "a-" or "-n". -EINVAL on a syntax error. */
static int read_spec(const char **p, const char *e, struct range_state *st)
{
	uint64_t a, b = RANGE_INF;

	if (**p == '-') {
		(*p)++;
		if (read_num(p, e, &b))
			return -EINVAL;
		if (b == 0 || st->size == 0) { /* nothing to send, or "-0" */
			st->suffix |= b > 0;
			return 0;
		}
		add_span(st, b >= st->size ? 0 : st->size - b, st->size);
		return 0;
	}
	if (read_num(p, e, &a) || *p == e || **p != '-')
		return -EINVAL;
	(*p)++;
	if (*p < e && is_digit(**p) && (read_num(p, e, &b) || b < a))
		return -EINVAL;
	if (a < st->size) /* else unsatisfiable: dropped */
		add_span(st, a, (b < st->size - 1 ? b : st->size - 1) + 1);
	return 0;
}

/* range-set = 1#range-spec, i.e. [ spec ] *( OWS "," OWS [ spec ] ): no OWS
 * directly after "=", empty elements allowed. Stops early once the answer
 * is bound to be RANGE_IGNORE. 0, or -EINVAL on a syntax error / no spec. */
static int read_set(const char *p, const char *e, struct range_state *st)
{
	bool any = false;

	for (;;) {
		if (p < e && (is_digit(*p) || *p == '-')) {
			if (read_spec(&p, e, st))
				return -EINVAL;
			if (st->too_many)
				return 0;
			any = true;
		}
		while (p < e && is_ows(*p))
			p++;
		if (p == e)
			return any ? 0 : -EINVAL;
		if (*p++ != ',')
			return -EINVAL;
		while (p < e && is_ows(*p))
			p++;
	}
}

enum range_result range_parse(const char *v, size_t len, uint64_t size,
			      struct range_span *out, unsigned max, unsigned *n)
{
	struct range_state st = {
		.size = size,
		.budget = size > UINT64_MAX / 2 ? UINT64_MAX : 2 * size,
		.out = out,
		.max = max < RANGE_MAX_PARTS ? max : RANGE_MAX_PARTS,
	};

	*n = 0;
	if (len < sizeof(unit) - 1 || strncasecmp(v, unit, sizeof(unit) - 1) != 0)
		return RANGE_IGNORE;
	if (read_set(v + sizeof(unit) - 1, v + len, &st) || st.too_many)
		return RANGE_IGNORE;
	if (size == 0) /* an empty body answers a suffix request (RFC 9110 §14.1.3) */
		return st.suffix ? RANGE_IGNORE : RANGE_UNSATISFIABLE;
	if (st.n == 0)
		return RANGE_UNSATISFIABLE;
	*n = st.n;
	return RANGE_OK;
}

/* The first byte a syntactically valid spec at *p asks for (clamped as
 * range_parse does), or RANGE_INF when it asks for nothing; *p moves past
 * the spec. */
static uint64_t spec_start(const char **p, const char *e, uint64_t size)
{
	uint64_t a = 0, b = 0;

	if (**p == '-') {
		(*p)++;
		read_num(p, e, &b);
		return b == 0 ? RANGE_INF : b >= size ? 0 : size - b;
	}
	read_num(p, e, &a);
	if (*p < e && **p == '-')
		(*p)++;
	if (*p < e && is_digit(**p))
		read_num(p, e, &b);
	return a < size ? a : RANGE_INF;
}

void range_request_order(const char *v, size_t len, uint64_t size,
			 struct range_span *spans, unsigned n)
{
	const char *p = v + sizeof(unit) - 1, *e = v + len;
	unsigned rank[RANGE_MAX_PARTS], next = 0;

	if (len < sizeof(unit) - 1 || n > RANGE_MAX_PARTS)
		return;
	for (unsigned k = 0; k < n; k++)
		rank[k] = RANGE_MAX_PARTS;
	while (p < e && next < n) {
		if (is_digit(*p) || *p == '-') {
			uint64_t s = spec_start(&p, e, size);
			for (unsigned k = 0; k < n; k++) {
				if (s >= spans[k].start && s < spans[k].end) {
					if (rank[k] == RANGE_MAX_PARTS)
						rank[k] = next++;
					break;
				}
			}
			continue;
		}
		p++;
	}
	/* Insertion sort by rank: n is small (at most --max-ranges). */
	for (unsigned i = 1; i < n; i++) {
		struct range_span sp = spans[i];
		unsigned r = rank[i], j = i;
		for (; j > 0 && rank[j - 1] > r; j--) {
			spans[j] = spans[j - 1];
			rank[j] = rank[j - 1];
		}
		spans[j] = sp;
		rank[j] = r;
	}
}

/* A bounded appender: the length grows even past cap, so one walk both
 * formats and measures, and the measurement is what the format writes. */
struct out_buf {
	char *p;
	size_t cap;
	uint64_t len;
};

static void put(struct out_buf *b, const char *s, size_t n)
{
	if (b->p && b->len < b->cap)
		memcpy(b->p + b->len, s, b->cap - b->len < n ? b->cap - b->len : n);
	b->len += n;
}

static void put_str(struct out_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_u64(struct out_buf *b, uint64_t x)
{
	char d[20];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	put(b, d + i, sizeof(d) - i);
}

/* A NULL or empty type leaves the Content-Type line out. */
static void put_head(struct out_buf *b, const char *boundary, const char *type,
		     const struct range_span *sp, uint64_t size, int first)
{
	put_str(b, first ? "--" : "\r\n--");
	put_str(b, boundary);
	if (type && *type) {
		put_str(b, "\r\nContent-Type: ");
		put_str(b, type);
	}
	put_str(b, "\r\nContent-Range: bytes ");
	put_u64(b, sp->start);
	put_str(b, "-");
	put_u64(b, sp->end - 1);
	put_str(b, "/");
	put_u64(b, size);
	put_str(b, "\r\n\r\n");
}

static void put_tail(struct out_buf *b, const char *boundary)
{
	put_str(b, "\r\n--");
	put_str(b, boundary);
	put_str(b, "--\r\n");
}

static int done(const struct out_buf *b)
{
	return b->len > b->cap || b->len > INT32_MAX ? -ENOSPC : (int)b->len;
}

int range_part_head(char *buf, size_t cap, const char *boundary, const char *type,
		    const struct range_span *sp, uint64_t size, int first)
{
	struct out_buf b = { buf, cap, 0 };

	put_head(&b, boundary, type, sp, size, first);
	return done(&b);
}

int range_part_tail(char *buf, size_t cap, const char *boundary)
{
	struct out_buf b = { buf, cap, 0 };

	put_tail(&b, boundary);
	return done(&b);
}

uint64_t range_multipart_length(const char *boundary, const char *type,
				const struct range_span *spans, unsigned n, uint64_t size)
{
	struct out_buf b = { NULL, 0, 0 };

	for (unsigned i = 0; i < n; i++) {
		put_head(&b, boundary, type, &spans[i], size, i == 0);
		b.len += spans[i].end - spans[i].start;
	}
	put_tail(&b, boundary);
	return b.len;
}
