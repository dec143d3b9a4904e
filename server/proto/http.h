/* http: resumable, non-copying HTTP/1.x request-head parser.
 *
 * The parser never copies: every span points into the caller's buffer, which
 * must stay unchanged while the request is in use. It is resumable in the
 * picohttpparser sense: the caller keeps `scan` between calls so the search
 * for the end of the head never re-reads bytes already searched, and the full
 * parse runs once, when the head is complete. */
#ifndef RS_HTTP_H
#define RS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 128 /* hard ceiling; the runtime limit is http_limits */

enum http_method {
	HTTP_M_UNKNOWN = 0, /* a valid token we do not implement -> 501 */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_CONNECT,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
};

struct http_span {
	const char *p;
	uint32_t len;
};

struct http_header {
	struct http_span name;  /* as sent (compare case-insensitively) */
	struct http_span value; /* leading/trailing OWS stripped */
};

struct http_limits {
	uint32_t max_line;    /* request line incl. CRLF; longer -> 414 */
	uint32_t max_head;    /* whole head incl. final CRLF; larger -> 431 */
	uint32_t max_headers; /* header field count (<= HTTP_MAX_HEADERS); more -> 431 */
};

struct http_request {
	enum http_method method;
	struct http_span method_str;
	struct http_span target; /* request-target exactly as sent */
	struct http_span path;   /* origin-form path ("/..."), query removed; for
				  * absolute-form the path part ("/" if empty);
				  * empty for "*" and authority-form */
	struct http_span query;  /* after '?', without it; len 0 if none */
	struct http_span authority; /* from absolute-form, else len 0 */
	int minor;               /* HTTP/1.minor, 0 or 1 (1.2+ reported as 1) */
	uint32_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];

	/* Derived while parsing. */
	struct http_span host;   /* Host header value (len 0 if absent) */
	bool keep_alive;         /* 1.1: unless "Connection: close";
				  * 1.0: only with "Connection: keep-alive" */
	bool has_content_length;
	uint64_t content_length;
	int status;              /* on -1: the status to answer (400, 414, 431, 505) */
};

/* Parse one request head from buf[0..len).
 * `*scan` must be 0 for a new request and is kept by the caller between calls
 * on the same growing buffer.
 * Returns the head length (bytes consumed, through the final CRLF CRLF),
 * -1 on a malformed or refused request (req->status says which status), or
 * -2 when more bytes are needed. Incomplete input is still checked as far as
 * it goes, so garbage (TLS records, binary) fails at once instead of waiting
 * for a limit, and an over-long line or head fails as soon as it is over.
 *
 * Refused with 400: bare CR or LF, obs-fold, whitespace before ':', invalid
 * token or field bytes (incl. NUL), HTTP/1.1 without Host, two Hosts, invalid
 * Host, Transfer-Encoding, invalid or conflicting Content-Length, malformed
 * request line or version, no version (HTTP/0.9). 505: major version other
 * than 1. The method is reported, not judged: 405/501 are the caller's. */
int http_parse_request(const char *buf, size_t len, size_t *scan,
		       const struct http_limits *lim, struct http_request *req);

/* First header named `name` (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req,
					   const char *name);

/* True when `v` contains `token` as a comma-separated list element
 * (case-insensitive, OWS around elements ignored). */
bool http_list_has(struct http_span v, const char *token);

/* Status reason phrase ("OK", "Not Found"...), "Unknown" when none. */
const char *http_reason(int status);

#endif
