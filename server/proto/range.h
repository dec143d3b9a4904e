/* range: the Range request header (RFC 9110 §14), bytes unit only.
 *
 * Parsing is overflow-safe (a number past 2^63 is never wrapped) and the
 * work is bounded: ranges are sorted and coalesced, and a request whose
 * ranges still number more than the caller's maximum, or add up to more than
 * the file, is answered as if it had no Range (200, whole file), which
 * defuses the overlapping-ranges attack (Apache CVE-2011-3192). */
#ifndef RS_RANGE_H
#define RS_RANGE_H

#include <stddef.h>
#include <stdint.h>

#define RANGE_MAX_PARTS 64 /* hard ceiling for callers' arrays */

struct range_span {
	uint64_t start; /* first byte */
	uint64_t end;   /* one past the last byte: [start, end), end <= size */
};

enum range_result {
	RANGE_IGNORE = 0,  /* no usable Range: answer 200 with the whole file */
	RANGE_OK = 1,      /* *n >= 1 satisfiable spans, sorted, disjoint */
	RANGE_UNSATISFIABLE = 2, /* 416 with "Content-Range: bytes * /size" */
};

/* Parse the value of a Range header (v[0..len), OWS already trimmed) for a
 * representation of `size` bytes into out[0..max) (max <= RANGE_MAX_PARTS).
 * - Unit "bytes" is case-insensitive; another unit, or any syntax error
 *   anywhere in the list -> RANGE_IGNORE.
 * - "a-b" (b >= a, else syntax error), "a-" and "-n"; OWS around commas;
 *   empty list elements (", ,") are allowed and skipped; at least one
 *   range-spec is required.
 * - A range whose start is >= size is unsatisfiable and dropped; "-0" is
 *   unsatisfiable; ends are clamped to size. No satisfiable range left ->
 *   RANGE_UNSATISFIABLE.
 * - size == 0: any "-n" with n > 0 -> RANGE_IGNORE (the empty body is the
 *   answer), otherwise RANGE_UNSATISFIABLE.
 * - Spans are sorted by start and merged when they overlap or when the gap
 *   between them is smaller than 80 bytes (a part header costs about that).
 * - More than `max` spans after merging (judged after each range-spec, in
 *   the order sent, so out[] never overflows), or more than 2 * size bytes
 *   in the ranges as sent (before merging) -> RANGE_IGNORE.
 * - Numbers: decimal digits only; a value that does not fit in 63 bits
 *   is treated as "infinitely large" (a first-byte-pos that large is
 *   unsatisfiable, a last-byte-pos that large is clamped, a suffix that
 *   large means the whole file). */
enum range_result range_parse(const char *v, size_t len, uint64_t size,
			      struct range_span *out, unsigned max, unsigned *n);

/* Put spans[0..n) (from a RANGE_OK range_parse of the same header) in the
 * order the client asked for them: by the first range-spec each span
 * absorbed (RFC 9110 §15.3.7.2). The parts of a multipart response go out
 * in that order. */
void range_request_order(const char *v, size_t len, uint64_t size,
			 struct range_span *spans, unsigned n);

/* multipart/byteranges. The boundary is a fixed string of at most
 * RANGE_BOUNDARY_MAX chars chosen by the caller (no '-' prefix). */
#define RANGE_BOUNDARY_MAX 40

/* The bytes that precede part i's body: "\r\n--B\r\nContent-Type: T\r\n
 * Content-Range: bytes S-E/SIZE\r\n\r\n" (the first part starts without the
 * leading CRLF). Length or -ENOSPC. */
int range_part_head(char *buf, size_t cap, const char *boundary, const char *type,
		    const struct range_span *sp, uint64_t size, int first);

/* The closing delimiter "\r\n--B--\r\n". Length or -ENOSPC. */
int range_part_tail(char *buf, size_t cap, const char *boundary);

/* Content-Length of the whole multipart body for spans[0..n). */
uint64_t range_multipart_length(const char *boundary, const char *type,
				const struct range_span *spans, unsigned n, uint64_t size);

#endif
