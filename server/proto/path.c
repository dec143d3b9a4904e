/* path: request path -> root-relative name (contract in path.h).
 *
 * The path is taken one segment at a time. A segment ends at a '/' raw or
 * decoded ("%2f" splits segments too, so it cannot smuggle a separator past
 * the dot-segment logic). Each segment is scanned once to validate it and
 * learn its decoded length and whether it is "." or "..", then decoded into
 * dst if it is a name. dst never holds a leading, trailing or doubled '/':
 * segments are joined with exactly one '/', and the caller learns about a
 * trailing '/' from *trailing_slash.
 *
 * "Does not fit" is judged on the final result, not on the way: a long
 * segment later removed by ".." is fine. Once a name does not fit, further
 * names are only counted (depth) until a ".." pops back past it. */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>

enum seg_kind { SEG_EMPTY, SEG_DOT, SEG_DOTDOT, SEG_NAME };

struct seg {
	size_t start, end;   /* raw bytes [start, end) of src, no separator */
	size_t dlen;         /* decoded length */
	enum seg_kind kind;
	bool last;           /* ended at the end of src, not at a '/' */
};

struct out {
	char *dst;
	size_t cap;          /* <= INT_MAX, so the length fits the return */
	size_t len;          /* bytes in dst, valid only while !ovf */
	size_t depth;        /* names currently on the path */
	bool ovf;            /* a name did not fit... */
	size_t ovf_depth;    /* ...when the path had this many names */
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoded byte at src[*i], advancing *i past it; -1 for a malformed
 * escape or a control byte (raw or decoded: no file name needs one, and NUL
 * would cut the name short). */
static int next_byte(const char *src, size_t len, size_t *i)
{
	unsigned char c = (unsigned char)src[*i];
	int hi, lo;

	if (c == '%') {
		if (len - *i < 3)
			return -1;
		hi = hexval((unsigned char)src[*i + 1]);
		lo = hexval((unsigned char)src[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		c = (unsigned char)(hi << 4 | lo);
		*i += 3;
	} else {
		*i += 1;
	}
	return c < 0x20 || c == 0x7f ? -1 : c;
}

/* Scan the segment starting at *i and step *i past its separator. */
static int seg_scan(const char *src, size_t len, size_t *i, struct seg *s)
{
	size_t dots = 0, at;
	int c;

	s->start = *i;
	s->dlen = 0;
	s->last = true;
	while (*i < len) {
		at = *i;
		c = next_byte(src, len, i);
		if (c < 0)
			return -EINVAL;
		if (c == '/') {
			s->end = at;
			s->last = false;
			break;
		}
		s->dlen++;
		dots += c == '.';
	}
	if (s->last)
		s->end = len;
	if (s->dlen == 0)
		s->kind = SEG_EMPTY;
	else if (dots == s->dlen && s->dlen <= 2)
		s->kind = s->dlen == 1 ? SEG_DOT : SEG_DOTDOT;
	else
		s->kind = SEG_NAME;
	return 0;
}

/* Append a name, or only count it when it (or an earlier one) did not fit. */
static void out_push(struct out *o, const char *src, const struct seg *s)
{
	size_t sep = o->len > 0, i = s->start;

	if (!o->ovf && o->len + sep + s->dlen < o->cap) { /* '<': room for NUL */
		if (sep)
			o->dst[o->len++] = '/';
		while (i < s->end) /* validated by seg_scan */
			o->dst[o->len++] = (char)next_byte(src, s->end, &i);
	} else if (!o->ovf) {
		o->ovf = true;
		o->ovf_depth = o->depth;
	}
	o->depth++;
}

/* Drop the last name (the caller checked depth > 0). */
static void out_pop(struct out *o)
{
	o->depth--;
	if (o->ovf) {
		/* dst still ends where the name that did not fit would start. */
		if (o->depth == o->ovf_depth)
			o->ovf = false;
		return;
	}
	while (o->len > 0 && o->dst[o->len - 1] != '/')
		o->len--;
	if (o->len > 0)
		o->len--; /* its separator */
}

static int fail(char *dst, size_t cap, int err)
{
	if (cap)
		dst[0] = '\0';
	return err;
}

int path_normalize(const char *src, size_t len, char *dst, size_t cap,
		   bool *trailing_slash)
{
	struct out o = { .dst = dst, .cap = cap < INT_MAX ? cap : INT_MAX };
	struct seg s = { .kind = SEG_EMPTY, .last = false };
	size_t i = 1;

	*trailing_slash = false;
	if (len == 0 || src[0] != '/')
		return fail(dst, cap, -EINVAL);
	while (!s.last) {
		if (seg_scan(src, len, &i, &s) < 0)
			return fail(dst, cap, -EINVAL);
		if (s.kind == SEG_NAME)
			out_push(&o, src, &s);
		else if (s.kind == SEG_DOTDOT && o.depth == 0)
			return fail(dst, cap, -EINVAL); /* above the root */
		else if (s.kind == SEG_DOTDOT)
			out_pop(&o);
	}
	if (o.ovf || o.cap == 0)
		return fail(dst, cap, -ENAMETOOLONG);
	dst[o.len] = '\0';
	/* "/a/", "/a/." and "/a/b/.." all name the directory a/. */
	*trailing_slash = s.kind != SEG_NAME || o.depth == 0;
	return (int)o.len;
}
