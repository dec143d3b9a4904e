#include "resp.h"
#include "hdate.h"
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A bounded appender: the first overflow sticks, so callers check once. */
struct out {
	char *p;
	size_t len, cap;
	bool over;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->over || n > o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->over)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->over = true;
	else
		o->len += (size_t)n;
}

static int done(struct out *o)
{
	return o->over ? -ENOSPC : (int)o->len;
}

static void status_line(struct out *o, int status, const struct resp_conn *rc)
{
	const struct resp_opts *opt = rc->opts;

	putf(o, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	if (opt && opt->server[0])
		putf(o, "Server: %s\r\n", opt->server);
	puts_(o, "Date: ");
	put(o, rc->date, HDATE_LEN);
	puts_(o, "\r\n");
	if (!rc->keep_alive)
		puts_(o, "Connection: close\r\n");
	else if (rc->minor == 0)
		puts_(o, "Connection: keep-alive\r\n");
}

int resp_etag(char out[RESP_ETAG_MAX], const struct resp_file *f)
{
	uint64_t ns = (uint64_t)f->mtime.tv_sec * 1000000000u + (uint64_t)f->mtime.tv_nsec;

	return snprintf(out, RESP_ETAG_MAX, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
			f->ino, f->size, ns);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *resp_content_type(const char *type, const char *charset, char *out, size_t cap)
{
	bool textual = starts(type, "text/") || strcmp(type, "application/json") == 0 ||
		       strcmp(type, "application/javascript") == 0 ||
		       strcmp(type, "application/manifest+json") == 0;

	if (!textual || !charset || !charset[0] || strchr(type, ';'))
		return type;
	int n = snprintf(out, cap, "%s; charset=%s", type, charset);
	return n > 0 && (size_t)n < cap ? out : type;
}

/* Validators and caching headers: the same on a 200, 206 and 304. */
static void validators(struct out *o, const struct resp_file *f, const struct resp_conn *rc)
{
	char lm[HDATE_LEN + 1], etag[RESP_ETAG_MAX];

	hdate_format(f->mtime.tv_sec, lm);
	resp_etag(etag, f);
	putf(o, "Last-Modified: %s\r\nETag: %s\r\n", lm, etag);
	if (rc->opts && rc->opts->cache_control[0])
		putf(o, "Cache-Control: %s\r\n", rc->opts->cache_control);
	if (f->vary)
		puts_(o, "Vary: Accept-Encoding\r\n");
}

int resp_file_head(char *buf, size_t cap, const struct resp_file *f,
		   const struct resp_body *b, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	char ctype[160];

	status_line(&o, b->status, rc);
	validators(&o, f, rc);
	if (b->status == 304) {
		puts_(&o, "\r\n");
		return done(&o);
	}
	puts_(&o, "X-Content-Type-Options: nosniff\r\nAccept-Ranges: bytes\r\n");
	if (f->encoding)
		putf(&o, "Content-Encoding: %s\r\n", f->encoding);
	if (b->status == 206 && b->boundary) {
		putf(&o, "Content-Type: multipart/byteranges; boundary=%s\r\n", b->boundary);
	} else {
		putf(&o, "Content-Type: %s\r\n",
		     resp_content_type(f->type, rc->opts ? rc->opts->charset : NULL, ctype, sizeof(ctype)));
		if (b->status == 206)
			putf(&o, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
			     b->start, b->end - 1, f->size);
	}
	putf(&o, "Content-Length: %" PRIu64 "\r\n\r\n", b->length);
	return done(&o);
}

int resp_error(char *buf, size_t cap, int status, bool head_only, const char *extra,
	       const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	char body[160];
	const char *reason = http_reason(status);
	int blen = snprintf(body, sizeof(body),
			    "<html><head><title>%d %s</title></head>"
			    "<body><h1>%d %s</h1></body></html>\n",
			    status, reason, status, reason);

	status_line(&o, status, rc);
	if (status == 405)
		puts_(&o, "Allow: GET, HEAD\r\n");
	if (extra)
		puts_(&o, extra);
	putf(&o, "X-Content-Type-Options: nosniff\r\n"
		 "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", blen);
	if (!head_only)
		put(&o, body, (size_t)blen);
	return done(&o);
}

int resp_generated_head(char *buf, size_t cap, const char *type, uint64_t length,
			const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };

	status_line(&o, 200, rc);
	/* Listings are HTML or JSON by the Accept header. */
	putf(&o, "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nVary: Accept\r\n"
		 "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n\r\n", type, length);
	return done(&o);
}

int resp_redirect_slash(char *buf, size_t cap, const char *path, size_t plen,
			const char *query, size_t qlen, bool head_only, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	static const char body[] = "<html><body><h1>301 Moved Permanently</h1></body></html>\n";

	status_line(&o, 301, rc);
	puts_(&o, "Location: ");
	put(&o, path, plen);
	puts_(&o, "/");
	if (qlen) {
		puts_(&o, "?");
		put(&o, query, qlen);
	}
	putf(&o, "\r\nX-Content-Type-Options: nosniff\r\n"
		 "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
	     sizeof(body) - 1);
	if (!head_only)
		put(&o, body, sizeof(body) - 1);
	return done(&o);
}
