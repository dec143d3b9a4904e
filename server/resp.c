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
	putf(o, "HTTP/1.1 %d %s\r\nServer: ringserve\r\nDate: ", status, http_reason(status));
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

int resp_file_head(char *buf, size_t cap, const struct resp_file *f, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	char lm[HDATE_LEN + 1], etag[RESP_ETAG_MAX];

	hdate_format(f->mtime.tv_sec, lm);
	resp_etag(etag, f);
	status_line(&o, 200, rc);
	putf(&o, "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n"
		 "Last-Modified: %s\r\nETag: %s\r\n\r\n", f->type, f->size, lm, etag);
	return done(&o);
}

int resp_error(char *buf, size_t cap, int status, bool head_only, const struct resp_conn *rc)
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
	putf(&o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", blen);
	if (!head_only)
		put(&o, body, (size_t)blen);
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
	putf(&o, "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
	     sizeof(body) - 1);
	if (!head_only)
		put(&o, body, sizeof(body) - 1);
	return done(&o);
}
