/* metrics: the scrape endpoint and the exposition format. */
#include "metrics.h"
#include "listen.h"
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RENDER_CAP (64 * 1024)

const char *const stat_path_names[SP_COUNT] = {
	"other", "cache", "buffer", "splice", "direct", "listing",
};
const char *const stat_timeout_names[ST_COUNT] = {
	"header", "keepalive", "send", "linger",
};

struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->len >= t->cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP ringserve_%s %s\n# TYPE ringserve_%s %s\n", name, help, name, type);
}

/* One sample per worker of the counter at byte offset `off` in struct
 * stats, with an extra label when given. */
static void per_worker(struct text *t, const char *name, struct worker *ws, unsigned n,
		       size_t off, const char *label)
{
	for (unsigned i = 0; i < n; i++) {
		const stat_t *v = (const stat_t *)((const char *)&ws[i].st + off);
		put(t, "ringserve_%s{worker=\"%u\"%s%s} %llu\n", name, i, label ? "," : "",
		    label ? label : "", (unsigned long long)stat_get(v));
	}
}

#define OFF(field) offsetof(struct stats, field)

size_t metrics_render(char *buf, size_t cap, struct worker *ws, unsigned n)
{
	struct text t = { buf, 0, cap };
	char label[64];

	family(&t, "requests_total", "counter", "Responses by status class (499: client left first).");
	for (unsigned k = 1; k <= 5; k++) {
		snprintf(label, sizeof(label), "class=\"%uxx\"", k);
		per_worker(&t, "requests_total", ws, n, OFF(requests[k]), label);
	}
	family(&t, "sent_bytes_total", "counter",
	       "Response bytes sent, heads included, by how the body was sent.");
	for (unsigned k = 0; k < SP_COUNT; k++) {
		snprintf(label, sizeof(label), "path=\"%s\"", stat_path_names[k]);
		per_worker(&t, "sent_bytes_total", ws, n, OFF(bytes[k]), label);
	}
	family(&t, "connections_accepted_total", "counter", "Connections accepted.");
	per_worker(&t, "connections_accepted_total", ws, n, OFF(accepted), NULL);
	family(&t, "connections_closed_total", "counter", "Connections closed.");
	per_worker(&t, "connections_closed_total", ws, n, OFF(closed), NULL);
	family(&t, "connections_open", "gauge", "Connections open now.");
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = stat_get(&ws[i].st.accepted), c = stat_get(&ws[i].st.closed);
		put(&t, "ringserve_connections_open{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)(a > c ? a - c : 0));
	}
	family(&t, "accept_errors_total", "counter", "Accepts that failed (file table full, ...).");
	per_worker(&t, "accept_errors_total", ws, n, OFF(accept_errors), NULL);
	family(&t, "timeouts_total", "counter", "Connections timed out, by timeout.");
	for (unsigned k = 0; k < ST_COUNT; k++) {
		snprintf(label, sizeof(label), "kind=\"%s\"", stat_timeout_names[k]);
		per_worker(&t, "timeouts_total", ws, n, OFF(timeouts[k]), label);
	}
	family(&t, "file_cache_hits_total", "counter", "Lookups answered by the open-file cache.");
	per_worker(&t, "file_cache_hits_total", ws, n, OFF(cache_hits), NULL);
	family(&t, "file_cache_misses_total", "counter", "Lookups that needed a statx.");
	per_worker(&t, "file_cache_misses_total", ws, n, OFF(cache_misses), NULL);
	family(&t, "uring_submits_total", "counter", "io_uring_enter calls of the event loop.");
	per_worker(&t, "uring_submits_total", ws, n, OFF(submits), NULL);
	family(&t, "uring_cqes_total", "counter", "Completions reaped.");
	per_worker(&t, "uring_cqes_total", ws, n, OFF(cqes), NULL);
	family(&t, "access_log_lines_total", "counter", "Access log lines written.");
	per_worker(&t, "access_log_lines_total", ws, n, OFF(log_lines), NULL);
	family(&t, "access_log_sync_writes_total", "counter",
	       "Access log batches written synchronously because every buffer was in flight.");
	per_worker(&t, "access_log_sync_writes_total", ws, n, OFF(log_sync_writes), NULL);
	family(&t, "access_log_errors_total", "counter", "Access log writes that failed.");
	per_worker(&t, "access_log_errors_total", ws, n, OFF(log_errors), NULL);
	return t.len;
}

/* ---- the endpoint ----------------------------------------------------- */

int metrics_open(struct metrics *m, struct server *srv, struct worker *ws, unsigned n)
{
	const struct config *cfg = srv->cfg;
	int one = 1;

	m->fd = -1;
	m->srv = srv;
	m->ws = ws;
	m->nws = n;
	if (!cfg->metrics_str)
		return 0;
	int fd = socket(cfg->metrics_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cfg->metrics_addr, cfg->metrics_len) ||
	    listen(fd, 64))
		goto err;
	m->fd = fd;
	return 0;
err:;
	int e = errno;
	fprintf(stderr, "ringserve: --metrics %s: %s\n", cfg->metrics_str, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

/* Read the request head (bounded, with the socket's timeout), answer. */
static void serve_one(struct metrics *m, int fd, char *body)
{
	char req[2048], head[256];
	size_t got = 0;
	struct timeval tv = { 2, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	bool get = strncmp(req, "GET ", 4) == 0, head_only = strncmp(req, "HEAD ", 5) == 0;
	const char *target = req + (get ? 4 : 5);
	bool ok = (get || head_only) && (strncmp(target, "/metrics ", 9) == 0 ||
					 strncmp(target, "/ ", 2) == 0);
	size_t len = 0;
	int status = ok ? 200 : (get || head_only) ? 404 : 405;

	if (ok)
		len = metrics_render(body, RENDER_CAP, m->ws, m->nws);
	int h = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Method Not Allowed",
			 ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", len);
	send(fd, head, (size_t)h, MSG_NOSIGNAL | (len && !head_only ? MSG_MORE : 0));
	if (!head_only && len)
		send(fd, body, len, MSG_NOSIGNAL);
}

static void *metrics_main(void *arg)
{
	struct metrics *m = arg;
	char *body = malloc(RENDER_CAP);

	while (body && !atomic_load(&m->srv->stop)) {
		struct pollfd pfd = { m->fd, POLLIN, 0 };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		int fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(m, fd, body);
		close(fd);
	}
	free(body);
	return NULL;
}

int metrics_start(struct metrics *m)
{
	if (m->fd < 0)
		return 0;
	int ret = pthread_create(&m->thread, NULL, metrics_main, m);
	m->started = ret == 0;
	return -ret;
}

void metrics_stop(struct metrics *m)
{
	if (m->started)
		pthread_join(m->thread, NULL);
	m->started = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
