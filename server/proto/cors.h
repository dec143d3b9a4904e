/* cors: cross-origin resource sharing for the files (--cors[=ORIGIN]).
 *
 * The allowed origins are checked and normalised at startup; every line
 * a response can carry is precomputed then, so a request costs one
 * verdict (cors_verdict, from its Origin header) and a pointer to the
 * verdict's lines (cors_lines). The bytes of a request's Origin are never
 * copied into a response: a matching origin is answered with the
 * configured copy of itself.
 *
 * - "*" (--cors alone) allows every origin: "Access-Control-Allow-Origin:
 *   *" on every response, the same for everyone, so caches need no Vary.
 * - A list of origins: a request from one of them gets it echoed and
 *   "Vary: Origin"; any other request gets "Vary: Origin" alone.
 * - An Origin that is malformed, longer than CORS_ORIGIN_MAX or sent twice
 *   gets no CORS headers, only "Vary: Origin" (also under "*": a shared
 *   cache must not hand that answer to browsers asking with a good
 *   Origin). Nothing else about the response changes.
 * - Actual responses also expose the headers a range or cache-aware
 *   client reads (CORS_EXPOSE). A preflight (OPTIONS with
 *   Access-Control-Request-Method) gets the methods, the requested
 *   headers that are safe for GET and HEAD on files (Range, If-*, Accept,
 *   ...; others are left out and the browser refuses the request), and
 *   Access-Control-Max-Age. A malformed or huge request-method or
 *   request-headers value gets no CORS headers, as a bad Origin does.
 * Credentials (Access-Control-Allow-Credentials) are not offered. */
#ifndef RS_CORS_H
#define RS_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_MAX 32               /* --cors given at most this often */
#define CORS_ORIGIN_MAX 300       /* scheme "://" 253-byte host ":" port, with room */
#define CORS_REQ_HEADERS_MAX 1024 /* a longer Access-Control-Request-Headers is refused */
#define CORS_REQ_HEADERS_ITEMS 64 /* and so is one naming more headers */
#define CORS_METHODS "GET, HEAD, OPTIONS"
#define CORS_EXPOSE "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified"

/* What a request's Origin earns it; kept per request (a uint8_t). */
enum {
	CORS_OFF = 0,     /* no --cors: nothing is added */
	CORS_REJECT,      /* "Vary: Origin" alone */
	CORS_ANY,         /* "*" */
	CORS_ORIGIN0,     /* CORS_ORIGIN0 + k: the k-th configured origin */
};

/* Is v[0..n) a serialised origin as browsers send it: scheme "://" host
 * [":" port] (scheme letters, digits, '+', '-', '.' after a letter; host
 * a name of letters, digits, '-', '.', '_', '~' or an [IPv6] literal;
 * port 1 to 5 digits up to 65535), or "null", at most CORS_ORIGIN_MAX
 * bytes? */
bool cors_origin_valid(const char *v, size_t n);

/* Check one --cors argument: "*" or an origin (not "null"). The origin is
 * written to out (cap bytes, CORS_ORIGIN_MAX + 1 suffice) as browsers
 * serialise it: scheme and host lower-cased, the default port of http
 * (80) and https (443) dropped. Length written, or -EINVAL. */
int cors_normalize(const char *arg, char *out, size_t cap);

struct cors_set {
	bool on;               /* --cors given */
	bool any;              /* "*" among them */
	unsigned n;            /* origins (when !any) */
	const char *origin[CORS_MAX];
	size_t origin_len[CORS_MAX];
	const char *actual[CORS_ORIGIN0 + CORS_MAX];   /* lines by verdict, NULL: none */
	const char *preflight[CORS_ORIGIN0 + CORS_MAX]; /* the origin part of a preflight */
	char max_age[16];      /* Access-Control-Max-Age value */
	char *text;            /* one allocation */
};

/* Build from n arguments (each accepted by cors_normalize; n = 0: CORS off)
 * and the preflight max-age in seconds. 0, -EINVAL, -ENOMEM. */
int cors_init(struct cors_set *s, const char *const *args, unsigned n, unsigned max_age);
void cors_free(struct cors_set *s);

/* The verdict for a request whose Origin header fields are given: count
 * of them (0: none), the first one's value. */
unsigned cors_verdict(const struct cors_set *s, unsigned count, const char *origin, size_t len);

/* The lines of an actual response for the verdict (each ending in CRLF),
 * or NULL when there are none. */
const char *cors_lines(const struct cors_set *s, unsigned verdict);

/* The safe headers of an Access-Control-Request-Headers list v[0..n) as a
 * bit set of CORS_SAFE indices; -1 when the list is malformed (an element
 * that is not a token), longer than CORS_REQ_HEADERS_MAX bytes or names
 * more than CORS_REQ_HEADERS_ITEMS headers. Empty elements are allowed
 * (RFC 9110 §5.6.1). */
int cors_safe_headers(const char *v, size_t n);

/* The headers cors_safe_headers() picks from, lower-case. */
extern const char *const cors_safe[];
extern const unsigned cors_nsafe;

/* A request's verdict: from its Origin fields, and for a preflight
 * (OPTIONS with Access-Control-Request-Method: *preflight set) also from
 * that method (one token) and its Access-Control-Request-Headers (at
 * most one field, cors_safe_headers() >= 0; *safe gets its bits): a bad
 * one makes the verdict CORS_REJECT. */
struct http_request;
unsigned cors_request(const struct cors_set *s, const struct http_request *req, bool *preflight,
		      int *safe);

/* The CORS lines of a preflight, into out: the verdict's origin lines and,
 * for an allowed origin, Allow-Methods, Allow-Headers (the set bits of
 * `safe`, when any) and Max-Age. Length, or -ENOSPC. */
int cors_preflight_lines(const struct cors_set *s, unsigned verdict, int safe, char *out,
			 size_t cap);

#endif
