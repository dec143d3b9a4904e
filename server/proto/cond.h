/* cond: conditional requests (RFC 9110 §13) and content-coding negotiation.
 *
 * Evaluated in the order of §13.2.2: If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since, then If-Range decides whether Range is
 * honoured. */
#ifndef RS_COND_H
#define RS_COND_H

#include <stdbool.h>
#include <time.h>

#include "http.h"

enum cond_result {
	COND_PROCEED = 0,            /* answer normally (200/206) */
	COND_NOT_MODIFIED = 304,     /* GET/HEAD only */
	COND_PRECONDITION_FAILED = 412,
};

/* The representation's validators: etag is the quoted strong ETag as sent in
 * responses ("\"...\""), mtime its Last-Modified (seconds). */
struct cond_validators {
	const char *etag;
	size_t etag_len;
	time_t mtime;
};

/* Evaluate If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since of req for a GET or HEAD of an existing resource.
 * - If-Match: "*" or a list of entity-tags; strong comparison (a W/ tag
 *   never matches); no match -> 412. When If-Match is present,
 *   If-Unmodified-Since is not evaluated.
 * - If-Unmodified-Since (only without If-Match): valid date and
 *   mtime > date -> 412; invalid date ignored.
 * - If-None-Match: "*" or a list; weak comparison (W/"x" matches "x");
 *   a match -> 304. When present, If-Modified-Since is not evaluated.
 * - If-Modified-Since (only without If-None-Match): valid date and
 *   mtime <= date -> 304; invalid date ignored.
 * A malformed entity-tag list is treated as matching nothing.
 * Several header fields of the same name are combined as one list. */
enum cond_result cond_evaluate(const struct http_request *req, const struct cond_validators *v);

/* If-Range: true when Range should be honoured: no If-Range header, or an
 * If-Range whose strong entity-tag equals v->etag, or whose HTTP date equals
 * v->mtime exactly. A weak tag, another tag, another or invalid date ->
 * false (send the whole representation with 200). */
bool cond_if_range(const struct http_request *req, const struct cond_validators *v);

/* Content codings ringserve can serve precompressed, in server preference. */
enum cond_coding { CODING_BR = 0, CODING_ZSTD = 1, CODING_GZIP = 2, CODING_COUNT };

/* From the request's Accept-Encoding header(s) (absent -> none acceptable,
 * i.e. identity only), fill order[] with the acceptable codings, highest
 * q-value first, ties broken by server preference (br, zstd, gzip); q=0
 * excludes a coding; "*" covers codings not listed by name (with its q);
 * "x-gzip" counts as gzip; tokens are case-insensitive; q-values per
 * RFC 9110 §12.4.2 ("q=1", "q=0.5", "q=0.001"); a malformed element is
 * ignored. Returns how many entries were written (0..CODING_COUNT). */
unsigned cond_accept_codings(const struct http_request *req, enum cond_coding order[CODING_COUNT]);

/* "br" / "zstd" / "gzip" (for Content-Encoding) and the file suffix
 * ".br" / ".zst" / ".gz". */
const char *cond_coding_name(enum cond_coding c);
const char *cond_coding_suffix(enum cond_coding c);

#endif
