#include "resp.h"
#include "hdate.h"
#include "hdrs.h"
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

/* Numbers without printf: these run for every response. */
static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + sizeof(tmp) - n, n);
}

static void put_hex(struct out *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = digits[v & 15];
		v >>= 4;
	} while (v);
	put(o, tmp + sizeof(tmp) - n, n);
}

/* "Name: value\r\n" */
static void put_field(struct out *o, const char *name, const char *value)
{
	puts_(o, name);
	puts_(o, ": ");
	puts_(o, value);
	puts_(o, "\r\n");
}

static int done(struct out *o)
{
	return o->over ? -ENOSPC : (int)o->len;
}

/* The built-ins (HDRS_R_*) that --header lines replace in this response. */
static unsigned replaced(int status, const struct resp_conn *rc)
{
	return rc->hdrs && status < 400 ? hdrs_replaces(rc->hdrs, rc->hdrs_on) : 0;
}

/* The site's lines: CORS always, --header lines on 2xx and 3xx. */
static void site_lines(struct out *o, int status, const struct resp_conn *rc)
{
	if (rc->cors)
		puts_(o, rc->cors);
	if (!rc->hdrs || status >= 400 || o->over)
		return;
	int n = hdrs_write(rc->hdrs, rc->hdrs_on, o->p + o->len, o->cap - o->len);
	if (n < 0)
		o->over = true;
	else
		o->len += (size_t)n;
}

static void status_line(struct out *o, int status, const struct resp_conn *rc)
{
	const struct resp_opts *opt = rc->opts;

	puts_(o, "HTTP/1.1 ");
	put_u64(o, (uint64_t)status);
	puts_(o, " ");
	puts_(o, http_reason(status));
	puts_(o, "\r\n");
	if (opt && opt->server[0] && !(replaced(status, rc) & HDRS_R_SERVER))
		put_field(o, "Server", opt->server);
	puts_(o, "Date: ");
	put(o, rc->date, HDATE_LEN);
	puts_(o, "\r\n");
	if (rc->hsts)
		puts_(o, rc->hsts);
	if (!rc->keep_alive)
		puts_(o, "Connection: close\r\n");
	else if (rc->minor == 0)
		puts_(o, "Connection: keep-alive\r\n");
	site_lines(o, status, rc);
}

int resp_etag(char out[RESP_ETAG_MAX], const struct resp_file *f)
{
	uint64_t ns = (uint64_t)f->mtime.tv_sec * 1000000000u + (uint64_t)f->mtime.tv_nsec;
	struct out o = { out, 0, RESP_ETAG_MAX - 1, false };

	puts_(&o, "\"");
	put_hex(&o, f->ino);
	puts_(&o, "-");
	put_hex(&o, f->size);
	puts_(&o, "-");
	put_hex(&o, ns);
	puts_(&o, "\"");
	out[o.len] = '\0'; /* 3 * 16 hex digits + 4 fit in RESP_ETAG_MAX */
	return (int)o.len;
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
	struct out o = { out, 0, cap - 1, false };
	puts_(&o, type);
	puts_(&o, "; charset=");
	puts_(&o, charset);
	if (o.over)
		return type;
	out[o.len] = '\0';
	return out;
}

/* Validators and caching headers: the same on a 200, 206 and 304. */
static void validators(struct out *o, const struct resp_file *f, const struct resp_conn *rc,
		       unsigned rep)
{
	char lm[HDATE_LEN + 1], etag[RESP_ETAG_MAX];

	if (!f->last_modified)
		hdate_format(f->mtime.tv_sec, lm);
	if (!f->etag)
		resp_etag(etag, f);
	put_field(o, "Last-Modified", f->last_modified ? f->last_modified : lm);
	put_field(o, "ETag", f->etag ? f->etag : etag);
	if (rc->opts && rc->opts->cache_control[0] && !(rep & HDRS_R_CACHE_CONTROL))
		put_field(o, "Cache-Control", rc->opts->cache_control);
	if (f->vary)
		puts_(o, "Vary: Accept-Encoding\r\n");
	if (f->vary_accept)
		puts_(o, "Vary: Accept\r\n");
}

bool resp_tail_ok(const struct resp_tail *t, const struct resp_conn *rc)
{
	return t->len && t->rep == replaced(200, rc);
}

/* The fields after the status lines, through the blank line. */
static void file_fields(struct out *o, const struct resp_file *f, const struct resp_body *b,
			const struct resp_conn *rc, unsigned rep)
{
	char ctype[160];

	validators(o, f, rc, rep);
	if (b->status == 304) {
		puts_(o, "\r\n");
		return;
	}
	if (!(rep & HDRS_R_NOSNIFF))
		puts_(o, "X-Content-Type-Options: nosniff\r\n");
	puts_(o, "Accept-Ranges: bytes\r\n");
	if (f->encoding)
		put_field(o, "Content-Encoding", f->encoding);
	if (b->status == 206 && b->boundary) {
		puts_(o, "Content-Type: multipart/byteranges; boundary=");
		puts_(o, b->boundary);
		puts_(o, "\r\n");
	} else {
		put_field(o, "Content-Type",
			  resp_content_type(f->type, rc->opts ? rc->opts->charset : NULL, ctype, sizeof(ctype)));
		if (b->status == 206) {
			puts_(o, "Content-Range: bytes ");
			put_u64(o, b->start);
			puts_(o, "-");
			put_u64(o, b->end - 1);
			puts_(o, "/");
			put_u64(o, f->size);
			puts_(o, "\r\n");
		}
	}
	puts_(o, "Content-Length: ");
	put_u64(o, b->length);
	puts_(o, "\r\n\r\n");
}

int resp_file_head_kept(char *buf, size_t cap, const struct resp_file *f,
			const struct resp_body *b, const struct resp_conn *rc,
			struct resp_tail *t)
{
	struct out o = { buf, 0, cap, false };
	unsigned rep = replaced(b->status, rc);

	status_line(&o, b->status, rc);
	if (b->status != 200)
		t = NULL;
	if (t && resp_tail_ok(t, rc)) {
		put(&o, t->p, t->len);
		return done(&o);
	}
	size_t from = o.len;
	file_fields(&o, f, b, rc, rep);
	if (t && !o.over && o.len - from <= sizeof(t->p) && rep <= UINT16_MAX) {
		memcpy(t->p, o.p + from, o.len - from);
		t->len = (uint16_t)(o.len - from);
		t->rep = (uint16_t)rep;
	}
	return done(&o);
}

int resp_file_head(char *buf, size_t cap, const struct resp_file *f,
		   const struct resp_body *b, const struct resp_conn *rc)
{
	return resp_file_head_kept(buf, cap, f, b, rc, NULL);
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
		puts_(&o, "Allow: GET, HEAD, OPTIONS\r\n");
	if (extra)
		puts_(&o, extra);
	putf(&o, "X-Content-Type-Options: nosniff\r\n"
		 "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", blen);
	if (!head_only)
		put(&o, body, (size_t)blen);
	return done(&o);
}

int resp_options(char *buf, size_t cap, const char *extra, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };

	status_line(&o, 204, rc);
	puts_(&o, "Allow: GET, HEAD, OPTIONS\r\n");
	if (extra)
		puts_(&o, extra);
	puts_(&o, "\r\n");
	return done(&o);
}

int resp_generated_head(char *buf, size_t cap, const char *type, uint64_t length,
			const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	unsigned rep = replaced(200, rc);

	status_line(&o, 200, rc);
	if (!(rep & HDRS_R_NOSNIFF))
		puts_(&o, "X-Content-Type-Options: nosniff\r\n");
	if (!(rep & HDRS_R_CACHE_CONTROL))
		puts_(&o, "Cache-Control: no-cache\r\n");
	/* Listings are HTML or JSON by the Accept header. */
	putf(&o, "Vary: Accept\r\nContent-Type: %s\r\nContent-Length: %" PRIu64 "\r\n\r\n",
	     type, length);
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
	puts_(&o, "\r\n");
	if (!(replaced(301, rc) & HDRS_R_NOSNIFF))
		puts_(&o, "X-Content-Type-Options: nosniff\r\n");
	putf(&o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
	     sizeof(body) - 1);
	if (!head_only)
		put(&o, body, sizeof(body) - 1);
	return done(&o);
}

int resp_page_head(char *buf, size_t cap, int status, const char *type, uint64_t length,
		   const char *extra, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };

	/* The headers of resp_error(), with the page for the body. */
	status_line(&o, status, rc);
	if (status == 405)
		puts_(&o, "Allow: GET, HEAD, OPTIONS\r\n");
	if (extra)
		puts_(&o, extra);
	puts_(&o, "X-Content-Type-Options: nosniff\r\n");
	put_field(&o, "Content-Type", type);
	puts_(&o, "Content-Length: ");
	put_u64(&o, length);
	puts_(&o, "\r\n\r\n");
	return done(&o);
}

/* RFC 3986 pchar and '/': unreserved, sub-delims, ':' and '@'. */
static bool path_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~!$&'()*+,;=:@/", c));
}

static void put_encoded(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (path_char(c))
			put(o, s + i, 1);
		else
			put(o, (const char[]){ '%', hex[c >> 4], hex[c & 15] }, 3);
	}
}

int resp_redirect_path(char *buf, size_t cap, int status, const char *path, size_t plen,
		       const char *query, size_t qlen, bool head_only, const struct resp_conn *rc)
{
	struct out o = { buf, 0, cap, false };
	char body[128];
	int blen = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1></body></html>\n", status,
			    http_reason(status));

	status_line(&o, status, rc);
	puts_(&o, "Location: /");
	put_encoded(&o, path, plen);
	if (qlen) {
		puts_(&o, "?");
		put(&o, query, qlen);
	}
	puts_(&o, "\r\n");
	if (!(replaced(status, rc) & HDRS_R_NOSNIFF))
		puts_(&o, "X-Content-Type-Options: nosniff\r\n");
	putf(&o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", blen);
	if (!head_only)
		put(&o, body, (size_t)blen);
	return done(&o);
}
