/* alog: access log lines, batched per worker and written through the ring. */
#include "alog.h"
#include "config.h"
#include "log.h"
#include "ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest output of each client-controlled field: the line always fits in
 * struct alog's line buffer, escaped bytes included. */
#define REQ_MAX 2048
#define HDR_MAX 1024
#define USER_MAX 1024

int alog_open_file(const char *path)
{
	int fd = strcmp(path, "-") == 0 ? fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
		 : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

	return fd < 0 ? -errno : fd;
}

/* ---- formatting ------------------------------------------------------- */

struct out {
	char *p, *end;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > (size_t)(o->end - o->p))
		n = (size_t)(o->end - o->p);
	memcpy(o->p, s, n);
	o->p += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	put(o, tmp, (size_t)n);
}

/* Client bytes inside quotes, at most max output bytes. CLF escapes like
 * nginx (\xHH for '"', '\\', control and non-ASCII bytes); JSON escapes as
 * \u00HH so the line is valid JSON whatever the client sent. */
static void put_escaped(struct out *o, const char *s, size_t n, size_t max, bool json)
{
	static const char hex[] = "0123456789ABCDEF";
	char *stop = o->p + max < o->end ? o->p + max : o->end;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];
		size_t len = 1;

		e[0] = (char)c;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			if (json && (c == '"' || c == '\\')) {
				e[0] = '\\';
				e[1] = (char)c;
				len = 2;
			} else if (json) {
				memcpy(e, "\\u00", 4);
				e[4] = hex[c >> 4];
				e[5] = hex[c & 15];
				len = 6;
			} else {
				e[0] = '\\';
				e[1] = 'x';
				e[2] = hex[c >> 4];
				e[3] = hex[c & 15];
				len = 4;
			}
		}
		if (len > (size_t)(stop - o->p))
			return; /* cut at a whole escape */
		memcpy(o->p, e, len);
		o->p += len;
	}
}

static void put_field(struct out *o, const char *s, size_t n, size_t max, bool json)
{
	if (!s) {
		puts_(o, json ? "null" : "\"-\"");
		return;
	}
	put(o, "\"", 1);
	put_escaped(o, s, n, max, json);
	put(o, "\"", 1);
}

void alog_peer_str(const struct alog_peer *peer, char *out, size_t cap)
{
	snprintf(out, cap, "-");
	if (peer && peer->family == ALOG_PEER_UNIX)
		snprintf(out, cap, "unix:");
	else if (peer && cap >= INET6_ADDRSTRLEN)
		inet_ntop(peer->family == ALOG_PEER_V6 ? AF_INET6 : AF_INET, peer->addr, out,
			  (socklen_t)cap);
}

static void put_peer(struct out *o, const struct alog_peer *peer)
{
	char host[INET6_ADDRSTRLEN];

	alog_peer_str(peer, host, sizeof(host));
	puts_(o, host);
}

/* CLF's %u: the user unquoted, so bytes that could end the field (blanks,
 * quotes) are escaped too; "-" when none. */
static void put_user(struct out *o, const struct alog_entry *e)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!e->user) {
		put(o, "-", 1);
		return;
	}
	for (size_t i = 0; i < e->user_len && i < 255; i++) {
		unsigned char c = (unsigned char)e->user[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '[' || c == ']') {
			char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			put(o, x, 4);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
}

size_t alog_format(char *buf, size_t cap, unsigned format, const struct alog_entry *e,
		   const char *tclf, const char *tiso)
{
	struct out o = { buf, buf + cap - 1 }; /* room for the newline */
	char ms[48];

	if (format == LOGF_JSON) {
		puts_(&o, "{\"time\":\"");
		puts_(&o, tiso);
		puts_(&o, "\",\"remote_addr\":\"");
		put_peer(&o, e->peer);
		if (e->user) { /* only then: lines without auth stay as they were */
			puts_(&o, "\",\"remote_user\":");
			put_field(&o, e->user, e->user_len, USER_MAX, true);
			puts_(&o, ",\"request\":");
		} else {
			puts_(&o, "\",\"request\":");
		}
		put_field(&o, e->req, e->req_len, REQ_MAX, true);
		puts_(&o, ",\"status\":");
		put_uint(&o, e->status);
		puts_(&o, ",\"bytes\":");
		put_uint(&o, e->bytes);
		puts_(&o, ",\"referer\":");
		put_field(&o, e->referer, e->referer_len, HDR_MAX, true);
		puts_(&o, ",\"user_agent\":");
		put_field(&o, e->agent, e->agent_len, HDR_MAX, true);
		if (e->tls_version) {
			puts_(&o, ",\"tls\":{\"version\":\"");
			puts_(&o, e->tls_version);
			puts_(&o, "\",\"cipher\":\"");
			puts_(&o, e->tls_cipher ? e->tls_cipher : "");
			puts_(&o, e->tls_resumed ? "\",\"resumed\":true" : "\",\"resumed\":false");
			puts_(&o, e->ktls ? ",\"ktls\":true}" : ",\"ktls\":false}");
		}
		snprintf(ms, sizeof(ms), ",\"request_time\":%llu.%03u}",
			 (unsigned long long)(e->msec / 1000), (unsigned)(e->msec % 1000));
		puts_(&o, ms);
	} else {
		/* %h %l %u [%t] "%r" %>s %b, then "%{Referer}i" "%{User-agent}i" */
		put_peer(&o, e->peer);
		puts_(&o, " - ");
		put_user(&o, e);
		puts_(&o, " [");
		puts_(&o, tclf);
		puts_(&o, "] ");
		put_field(&o, e->req, e->req_len, REQ_MAX, false);
		put(&o, " ", 1);
		put_uint(&o, e->status);
		put(&o, " ", 1);
		if (e->bytes)
			put_uint(&o, e->bytes);
		else
			put(&o, "-", 1); /* CLF: no body */
		if (format == LOGF_COMBINED) {
			put(&o, " ", 1);
			put_field(&o, e->referer, e->referer_len, HDR_MAX, false);
			put(&o, " ", 1);
			put_field(&o, e->agent, e->agent_len, HDR_MAX, false);
		}
	}
	*o.p++ = '\n';
	return (size_t)(o.p - buf);
}

static void update_time(struct alog *a, time_t now)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (now == a->tsec)
		return;
	a->tsec = now;
	gmtime_r(&now, &tm);
	snprintf(a->tclf, sizeof(a->tclf), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
		 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(a->tiso, sizeof(a->tiso), "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- writing ---------------------------------------------------------- */

int alog_init(struct alog *a, const struct alog_shared *sh, struct ring *r, unsigned op,
	      struct stats *st, unsigned worker)
{
	a->fd = -1;
	a->ring = r;
	a->op = op;
	a->st = st;
	a->worker = worker;
	a->format = sh->format;
	a->gen = atomic_load(&sh->gen);
	atomic_store(&a->acked, a->gen);
	int fd = atomic_load(&sh->fd);
	if (fd < 0)
		return 0;
	a->cap = sh->buf_size;
	a->mem = malloc(ALOG_NBUF * a->cap);
	if (!a->mem)
		return -ENOMEM;
	a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return a->fd < 0 ? -errno : 0;
}

static char *buf_at(struct alog *a, unsigned i)
{
	return a->mem + (size_t)i * a->cap;
}

static void submit(struct alog *a, unsigned i)
{
	struct io_uring_sqe *sqe = ring_sqe(a->ring);

	/* Offset -1: the file position, i.e. the end for an O_APPEND file
	 * and the only choice for a pipe or terminal. */
	io_uring_prep_write(sqe, a->bfd[i], buf_at(a, i) + a->done[i], a->len[i] - a->done[i],
			    (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ring_ud(a->op, 0, i));
}

/* Blocking write of buffer i (every buffer busy, or at exit). */
static void write_sync(struct alog *a, unsigned i)
{
	const char *p = buf_at(a, i);
	size_t left = a->len[i];

	while (left) {
		ssize_t n = write(a->fd, p, left);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { a->fd, POLLOUT, 0 };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			stat_add(&a->st->log_errors, 1);
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	a->len[i] = 0;
	stat_add(&a->st->log_sync_writes, 1);
}

/* Hand the active buffer to the kernel and move on to a free one. */
static void flush(struct alog *a)
{
	unsigned i = a->active;

	if (a->len[i] == 0)
		return;
	for (unsigned k = 1; k < ALOG_NBUF; k++) {
		unsigned next = (i + k) % ALOG_NBUF;
		if (!(a->busy & (1u << next))) {
			a->busy |= 1u << i;
			a->bfd[i] = a->fd;
			a->done[i] = 0;
			submit(a, i);
			a->active = next;
			return;
		}
	}
	write_sync(a, i); /* all in flight: wait here rather than drop lines */
}

void alog_write(struct alog *a, const struct alog_entry *e, time_t now)
{
	if (a->fd < 0)
		return;
	update_time(a, now);
	size_t n = alog_format(a->line, sizeof(a->line), a->format, e, a->tclf, a->tiso);
	if (n > a->cap)
		n = a->cap; /* a 4K buffer and a huge line: cut it, keep the newline */
	if (a->len[a->active] + n > a->cap)
		flush(a);
	memcpy(buf_at(a, a->active) + a->len[a->active], a->line, n);
	buf_at(a, a->active)[a->len[a->active] + n - 1] = '\n';
	a->len[a->active] += (uint32_t)n;
	stat_add(&a->st->log_lines, 1);
}

static bool fd_in_flight(const struct alog *a, int fd)
{
	for (unsigned i = 0; i < ALOG_NBUF; i++)
		if ((a->busy & (1u << i)) && a->bfd[i] == fd)
			return true;
	return false;
}

void alog_tick(struct alog *a, const struct alog_shared *sh)
{
	if (a->fd < 0)
		return;
	uint32_t gen = atomic_load_explicit(&sh->gen, memory_order_acquire);
	if (gen != a->gen) {
		int fd = fcntl(atomic_load(&sh->fd), F_DUPFD_CLOEXEC, 3);
		if (fd >= 0) {
			flush(a); /* what was logged before the reopen: the old file */
			int old = a->fd;
			a->fd = fd;
			if (!fd_in_flight(a, old))
				close(old);
		} else {
			log_warn("worker %u: access log reopen: %s (keeping the old file)",
				 a->worker, strerror(errno));
		}
		a->gen = gen;
		atomic_store_explicit(&a->acked, gen, memory_order_release);
	}
	flush(a);
}

void alog_complete(struct alog *a, unsigned i, int res, uint64_t now_sec)
{
	if (i >= ALOG_NBUF || !(a->busy & (1u << i)))
		return;
	if (res > 0 && a->done[i] + (uint32_t)res < a->len[i]) {
		a->done[i] += (uint32_t)res; /* short write (a pipe): the rest */
		submit(a, i);
		return;
	}
	if (res <= 0) {
		stat_add(&a->st->log_errors, 1);
		log_limited(&a->warn, now_sec, LOG_WARN, "worker %u: access log write: %s",
			    a->worker, res ? strerror(-res) : "nothing written");
	}
	int fd = a->bfd[i];
	a->busy &= ~(1u << i);
	a->len[i] = a->done[i] = 0;
	if (fd != a->fd && !fd_in_flight(a, fd))
		close(fd); /* the last write to a rotated-away file */
}

bool alog_busy(const struct alog *a)
{
	return a->busy != 0;
}

void alog_finish(struct alog *a)
{
	if (a->fd < 0)
		return;
	if (a->len[a->active])
		write_sync(a, a->active);
}

/* Buffers still in flight (the exit wait timed out) keep their old
 * descriptors: leaked rather than closed under a write. */
void alog_free(struct alog *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	free(a->mem);
	a->mem = NULL;
}
