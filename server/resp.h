/* resp: response heads and small error/redirect responses, written into a
 * caller's buffer (a registered buffer), never allocated. */
#ifndef RS_RESP_H
#define RS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct resp_conn {
	const char *date;  /* IMF-fixdate of now, HDATE_LEN chars */
	bool keep_alive;   /* false -> "Connection: close" */
	int minor;         /* HTTP/1.minor of the request: 1.0 keep-alive is explicit */
};

struct resp_file {
	uint64_t size;     /* Content-Length */
	uint64_t ino;
	struct timespec mtime;
	const char *type;  /* media type */
};

#define RESP_ETAG_MAX 64

/* Strong validator from inode, size and mtime (ns): it changes whenever the
 * file is replaced or rewritten. Quoted. Returns its length. */
int resp_etag(char out[RESP_ETAG_MAX], const struct resp_file *f);

/* "HTTP/1.1 200 OK" head for a file, through the blank line. Length or
 * -ENOSPC. */
int resp_file_head(char *buf, size_t cap, const struct resp_file *f, const struct resp_conn *rc);

/* A complete error response with a short HTML body (none when head_only).
 * 405 carries "Allow: GET, HEAD". Length or -ENOSPC. */
int resp_error(char *buf, size_t cap, int status, bool head_only, const struct resp_conn *rc);

/* 301 to `path` + "/" (+ "?" query when qlen > 0). path and query are the
 * bytes from the request target, already restricted to visible ASCII by the
 * parser, so they cannot inject header lines. Length or -ENOSPC. */
int resp_redirect_slash(char *buf, size_t cap, const char *path, size_t plen,
			const char *query, size_t qlen, bool head_only, const struct resp_conn *rc);

#endif
