/* resp: response heads and small error/redirect responses, written into a
 * caller's buffer (a registered buffer), never allocated. */
#ifndef RS_RESP_H
#define RS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Process-wide header settings from the command line. */
struct resp_opts {
	const char *server;        /* Server value; "" omits the header */
	const char *cache_control; /* "" omits it */
	const char *charset;       /* added to text types, JSON, JavaScript; "" none */
};

struct hdrs_set;

struct resp_conn {
	const char *date;  /* IMF-fixdate of now, HDATE_LEN chars */
	bool keep_alive;   /* false -> "Connection: close" */
	int minor;         /* HTTP/1.minor of the request: 1.0 keep-alive is explicit */
	const struct resp_opts *opts;
	/* Site rules (hdrs.h, cors.h); NULL/0: none. The --header lines
	 * picked for the path go on 2xx and 3xx responses only (like nginx's
	 * add_header: a Cache-Control meant for a file must not make a 404
	 * stick), and there replace the built-ins of their names. The CORS
	 * lines go on every response, errors too, so that a page can read
	 * the status. */
	const struct hdrs_set *hdrs;
	uint64_t hdrs_on;  /* hdrs_select() */
	const char *cors;  /* whole lines ending in CRLF */
	const char *hsts;  /* HTTPS: the Strict-Transport-Security line (CRLF-ended), or NULL */
};

struct resp_file {
	uint64_t size;     /* the representation's full size */
	uint64_t ino;
	struct timespec mtime;
	const char *type;  /* media type */
	const char *encoding; /* Content-Encoding of a precompressed variant, or NULL */
	bool vary;         /* add "Vary: Accept-Encoding" */
	bool vary_accept;  /* add "Vary: Accept" (a fallback page chosen by it) */
	const char *etag;  /* formatted already (resp_etag), or NULL */
	const char *last_modified; /* formatted already (hdate_format), or NULL */
};

/* What the head announces about the body. */
struct resp_body {
	int status;           /* 200, 206 or 304 */
	uint64_t length;      /* Content-Length (unused for 304) */
	uint64_t start, end;  /* 206 single part: bytes [start, end) */
	const char *boundary; /* 206 multipart: the boundary, else NULL */
};

#define RESP_ETAG_MAX 64

/* Strong validator from inode, size and mtime (ns): it changes whenever the
 * file is replaced or rewritten. Quoted. Returns its length. */
int resp_etag(char out[RESP_ETAG_MAX], const struct resp_file *f);

/* The head of a 200, 206 or 304 for a file, through the blank line: 304
 * carries the validators, Cache-Control and Vary of the 200 but no
 * Content-Type or Content-Length. Length or -ENOSPC. */
int resp_file_head(char *buf, size_t cap, const struct resp_file *f,
		   const struct resp_body *b, const struct resp_conn *rc);

/* A full 200's fields after the status lines (validators through
 * Content-Length) depend only on the file and the process-wide options, so
 * a caller may keep them per file: the next 200 copies them instead of
 * formatting nine fields again. `rep` keys them to the --header lines that
 * replaced built-ins; len 0: not kept yet (or too long to keep). */
#define RESP_TAIL_MAX 384
struct resp_tail {
	uint16_t len;
	uint16_t rep;
	char p[RESP_TAIL_MAX];
};

/* Whether t holds the fields a 200 with rc would get. */
bool resp_tail_ok(const struct resp_tail *t, const struct resp_conn *rc);

/* resp_file_head, reusing t for a 200 when resp_tail_ok (f->type may then
 * be NULL) and filling it when not. t NULL: resp_file_head. Only for
 * heads whose fields depend on nothing but the file: the caller passes t
 * for one file and one resp_opts. */
int resp_file_head_kept(char *buf, size_t cap, const struct resp_file *f,
			const struct resp_body *b, const struct resp_conn *rc,
			struct resp_tail *t);

/* The media type with "; charset=X" appended for text types, JSON and
 * JavaScript types when a charset is configured. Writes into out (cap
 * bytes) and returns it, or `type` itself when nothing is added or it does
 * not fit. */
const char *resp_content_type(const char *type, const char *charset, char *out, size_t cap);

/* A complete error response with a short HTML body (none when head_only).
 * 405 carries "Allow: GET, HEAD, OPTIONS"; `extra` (NULL or whole header lines
 * ending in CRLF) is added as is, e.g. "Content-Range: bytes * /10\r\n".
 * Length or -ENOSPC. */
int resp_error(char *buf, size_t cap, int status, bool head_only, const char *extra,
	       const struct resp_conn *rc);

/* 204 to OPTIONS (any target, "*" too): "Allow: GET, HEAD, OPTIONS" and
 * `extra` (NULL or whole header lines: a CORS preflight's) as is; no
 * body, no Content-Length (RFC 9110 §8.6). Length or -ENOSPC. */
int resp_options(char *buf, size_t cap, const char *extra, const struct resp_conn *rc);

/* The head of a 200 with a generated body (a directory listing): type,
 * length, "Vary: Accept", no validators. Length or -ENOSPC. */
int resp_generated_head(char *buf, size_t cap, const char *type, uint64_t length,
			const struct resp_conn *rc);

/* 301 to `path` + "/" (+ "?" query when qlen > 0). path and query are the
 * bytes from the request target, already restricted to visible ASCII by the
 * parser, so they cannot inject header lines. Length or -ENOSPC. */
int resp_redirect_slash(char *buf, size_t cap, const char *path, size_t plen,
			const char *query, size_t qlen, bool head_only, const struct resp_conn *rc);

/* The head of an error response whose body is a page file (--error-page):
 * `status` with the page's type and length, no validators, ranges or
 * Cache-Control; the 405's Allow, `extra` (NULL or whole header lines) and
 * the site's lines as resp_error() has them. Length or -ENOSPC. */
int resp_page_head(char *buf, size_t cap, int status, const char *type, uint64_t length,
		   const char *extra, const struct resp_conn *rc);

/* A redirect (`status`: 301, 308...) to "/" + path[0..plen) (+ "?" query
 * when qlen > 0). path is a decoded, normalised path: it is
 * percent-encoded here (RFC 3986 path characters stay as they are); query
 * comes from the request target, visible ASCII. Length or -ENOSPC. */
int resp_redirect_path(char *buf, size_t cap, int status, const char *path, size_t plen,
		       const char *query, size_t qlen, bool head_only, const struct resp_conn *rc);

#endif
