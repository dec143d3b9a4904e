/* metrics: the scrape endpoint and the exposition format. */
#include "metrics.h"
#include "listen.h"
#include "worker.h"
#include "tls.h"

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
	"other", "cache", "buffer", "splice", "direct", "listing", "sendfile", "mapped",
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

/* Counters without a label of their own, in exposition order. */
static const struct plain {
	const char *name, *help;
	size_t off;
} plain[] = {
	{ "connections_accepted_total", "Connections accepted.", OFF(accepted) },
	{ "connections_closed_total", "Connections closed.", OFF(closed) },
	{ "accept_errors_total", "Accepts that failed (file table full, ...).", OFF(accept_errors) },
	{ "file_cache_hits_total", "Lookups answered by the open-file cache.", OFF(cache_hits) },
	{ "file_cache_misses_total", "Lookups that needed a statx.", OFF(cache_misses) },
	{ "uring_submits_total", "io_uring_enter calls of the event loop.", OFF(submits) },
	{ "uring_cqes_total", "Completions reaped.", OFF(cqes) },
	{ "pipeline_batches_total", "Sends that carried the responses of several pipelined requests.",
	  OFF(batches) },
	{ "pipeline_batched_responses_total", "Responses that left in such a batch.",
	  OFF(batched) },
	{ "access_log_lines_total", "Access log lines written.", OFF(log_lines) },
	{ "access_log_sync_writes_total",
	  "Access log batches written synchronously because every buffer was in flight.",
	  OFF(log_sync_writes) },
	{ "access_log_errors_total", "Access log writes that failed.", OFF(log_errors) },
	{ "proxy_errors_total",
	  "Connections closed for a malformed, missing, oversized or late PROXY protocol header.",
	  OFF(proxy_errors) },
	{ "forwarded_clients_total",
	  "Requests whose client address a trusted proxy named (--trusted-proxy).", OFF(forwarded) },
	{ "auth_successes_total", "Password verifications that passed.", OFF(auth_ok) },
	{ "auth_failures_total", "Password verifications that failed (wrong password, unknown user).",
	  OFF(auth_failed) },
	{ "auth_cache_hits_total", "Credentials passed by the verified cache, without hashing.",
	  OFF(auth_cache_hits) },
	{ "auth_challenges_total", "401 answers to requests without or with malformed credentials.",
	  OFF(auth_challenged) },
	{ "auth_rate_limited_total", "429 answers to clients over --auth-fail-limit.",
	  OFF(auth_limited) },
	{ "auth_busy_total", "503 answers because --auth-queue verifications were waiting.",
	  OFF(auth_busy) },
	{ "tls_handshakes_total", "HTTPS handshakes completed.", OFF(tls_handshakes) },
	{ "tls_resumed_total", "Of them, sessions resumed from a ticket.", OFF(tls_resumed) },
	{ "tls_ktls_total", "HTTPS connections whose sending the kernel took over (kTLS TX).",
	  OFF(tls_ktls) },
	{ "tls_ktls_failures_total",
	  "HTTPS connections closed because the kernel refused the keys for kTLS TX.",
	  OFF(tls_ktls_failed) },
	{ "tls_sealed_total",
	  "HTTPS connections whose records ringserve seals itself after the handshake (no kTLS).",
	  OFF(tls_sealed) },
	{ "tls_opened_total",
	  "TLS 1.3 connections whose records ringserve opens itself after the handshake.",
	  OFF(tls_opened) },
};

/* A counter family with one label taking the values names[0..count). */
static void labelled(struct text *t, const char *name, const char *help, struct worker *ws,
		     unsigned n, const char *label, const char *const *names, unsigned count,
		     size_t off0)
{
	char lv[64];

	family(t, name, "counter", help);
	for (unsigned k = 0; k < count; k++) {
		snprintf(lv, sizeof(lv), "%s=\"%s\"", label, names[k]);
		per_worker(t, name, ws, n, off0 + k * sizeof(stat_t), lv);
	}
}

size_t metrics_render(char *buf, size_t cap, struct worker *ws, unsigned n)
{
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct text t = { buf, 0, cap };

	labelled(&t, "requests_total", "Responses by status class (499: client left first).", ws, n,
		 "class", classes, 5, OFF(requests[1]));
	labelled(&t, "sent_bytes_total", "Response bytes sent, heads included, by how the body was sent.",
		 ws, n, "path", stat_path_names, SP_COUNT, OFF(bytes[0]));
	labelled(&t, "timeouts_total", "Connections timed out, by timeout.", ws, n, "kind",
		 stat_timeout_names, ST_COUNT, OFF(timeouts[0]));
	labelled(&t, "tls_handshake_failures_total", "HTTPS handshakes that failed, by reason.", ws,
		 n, "reason", tls_fail_names, STAT_TLS_FAILS, OFF(tls_fail[0]));
	for (size_t k = 0; k < sizeof(plain) / sizeof(plain[0]); k++) {
		family(&t, plain[k].name, "counter", plain[k].help);
		per_worker(&t, plain[k].name, ws, n, plain[k].off, NULL);
	}
	family(&t, "connections_open", "gauge", "Connections open now.");
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = stat_get(&ws[i].st.accepted), c = stat_get(&ws[i].st.closed);
		put(&t, "ringserve_connections_open{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)(a > c ? a - c : 0));
	}
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
