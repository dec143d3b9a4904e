/*
 * hsload: a load generator for new TLS handshakes, as a yardstick.
 *
 * Each of N connections does a full handshake (no session is ever kept, so
 * none is resumed), sends one GET with "Connection: close", reads the whole
 * response, and is replaced by a new connection. One thread, one epoll set,
 * non-blocking OpenSSL with the library's default client settings.
 *
 * Why not wrk: with "Connection: close" over https, wrk spends its CPU in a
 * read loop that returns EAGAIN (ERR_clear_error, BIO_new/BIO_free, read,
 * sock_poll in a profile), about 3 ms of CPU per handshake, ten times what
 * the server spends. The client then measures itself. This one waits in
 * epoll_wait between steps and costs about what the server's side costs.
 *
 *   hsload [-c CONNS] [-d SECS] https://HOST:PORT/PATH
 *
 * HOST is an IPv4 or IPv6 literal. The result is one line in the format
 * perf/bench reads from wrk:
 *
 *   BENCH requests=N bytes=N duration_us=N connect=N read=N write=N
 *         status=N timeout=N p50_us=N p99_us=N
 *
 * bytes counts whole responses only; a connection cut off by the end of the
 * run counts nothing. Exit status 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define MAX_SAMPLES (1u << 20)
#define HEAD_MAX 4096

enum phase { PH_HANDSHAKE, PH_WRITE, PH_READ };

struct slot {
	int fd;
	SSL *ssl;
	enum phase phase;
	size_t sent;
	char head[HEAD_MAX];
	size_t head_len;    /* bytes of head[] filled until the head ends */
	long long left;     /* body bytes still due, -1 until the head is read */
	size_t total;       /* response bytes so far */
	uint64_t start_ns;
};

struct load {
	SSL_CTX *ctx;
	int ep;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char req[512];
	size_t req_len;
	uint64_t requests, bytes, err_connect, err_read, err_write, err_status;
	uint32_t *lat_us;
	size_t nlat;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: hsload [-c CONNS] [-d SECS] https://HOST:PORT/PATH\n");
	exit(2);
}

/* https://HOST:PORT/PATH -> address, Host value and path. */
static int parse_url(const char *url, struct load *L, char *host, size_t hcap, const char **path)
{
	const char *p = url, *end;
	char port[8];

	if (strncmp(p, "https://", 8) != 0)
		return -1;
	p += 8;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end || end[1] != ':')
			return -1;
		snprintf(host, hcap, "%.*s", (int)(end - p - 1), p + 1);
		p = end + 2;
	} else {
		end = strchr(p, ':');
		if (!end)
			return -1;
		snprintf(host, hcap, "%.*s", (int)(end - p), p);
		p = end + 1;
	}
	end = strchr(p, '/');
	if (!end || end - p < 1 || end - p > 5)
		return -1;
	snprintf(port, sizeof(port), "%.*s", (int)(end - p), p);
	*path = end;
	memset(&L->addr, 0, sizeof(L->addr));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&L->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&L->addr;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)atoi(port));
		L->addr_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)atoi(port));
		L->addr_len = sizeof(*a6);
	} else {
		return -1;
	}
	return 0;
}

static void watch(struct load *L, struct slot *s, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	epoll_ctl(L->ep, op, s->fd, &ev);
}

/* A new connection in slot s: socket, non-blocking connect, SSL. */
static int slot_open(struct load *L, struct slot *s)
{
	s->fd = socket(L->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&L->addr, L->addr_len) < 0 && errno != EINPROGRESS) {
		int err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	s->ssl = SSL_new(L->ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
		SSL_free(s->ssl);
		close(s->fd);
		s->fd = -1;
		s->ssl = NULL;
		return -ENOMEM;
	}
	SSL_set_connect_state(s->ssl);
	s->phase = PH_HANDSHAKE;
	s->sent = s->head_len = s->total = 0;
	s->left = -1;
	s->start_ns = now_ns();
	watch(L, s, EPOLL_CTL_ADD, EPOLLOUT); /* writable: connected */
	return 0;
}

static void slot_close(struct load *L, struct slot *s)
{
	if (s->ssl)
		SSL_free(s->ssl);
	if (s->fd >= 0) {
		epoll_ctl(L->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->ssl = NULL;
	s->fd = -1;
}

/* Close s and open a new connection in its place; a failed connect counts
 * and is retried on the next turn of the loop. */
static void slot_renew(struct load *L, struct slot *s)
{
	slot_close(L, s);
	ERR_clear_error();
	if (slot_open(L, s) < 0)
		L->err_connect++;
}

/* The bytes read so far hold the whole head: status and Content-Length. */
static int read_head(struct load *L, struct slot *s)
{
	char *end = memmem(s->head, s->head_len, "\r\n\r\n", 4);

	if (!end)
		return s->head_len == sizeof(s->head) ? -1 : 0;
	size_t hl = (size_t)(end - s->head) + 4;
	if (s->head_len < 12 || memcmp(s->head, "HTTP/1.1 2", 10) != 0) {
		L->err_status++;
		return -1;
	}
	long long clen = -1;
	for (char *p = s->head; p + 16 < end; p++) {
		if ((p[0] == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
			clen = strtoll(p + 16, NULL, 10);
			break;
		}
	}
	if (clen < 0) {
		L->err_status++;
		return -1;
	}
	s->left = clen - (long long)(s->head_len - hl);
	return 1;
}

static void done(struct load *L, struct slot *s)
{
	L->requests++;
	L->bytes += s->total;
	if (L->nlat < MAX_SAMPLES)
		L->lat_us[L->nlat++] = (uint32_t)((now_ns() - s->start_ns) / 1000);
	slot_renew(L, s);
}

/* What OpenSSL wants next: wait for it, or give the connection up. */
static void want(struct load *L, struct slot *s, int r, uint64_t *err)
{
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		watch(L, s, EPOLL_CTL_MOD, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		watch(L, s, EPOLL_CTL_MOD, EPOLLOUT);
		return;
	default:
		(*err)++;
		slot_renew(L, s);
	}
}

static void step(struct load *L, struct slot *s)
{
	int r;

	if (s->phase == PH_HANDSHAKE) {
		r = SSL_do_handshake(s->ssl);
		if (r != 1) {
			want(L, s, r, &L->err_connect);
			return;
		}
		s->phase = PH_WRITE;
	}
	if (s->phase == PH_WRITE) {
		r = SSL_write(s->ssl, L->req + s->sent, (int)(L->req_len - s->sent));
		if (r <= 0) {
			want(L, s, r, &L->err_write);
			return;
		}
		s->sent += (size_t)r;
		if (s->sent < L->req_len) {
			watch(L, s, EPOLL_CTL_MOD, EPOLLOUT);
			return;
		}
		s->phase = PH_READ;
	}
	for (;;) {
		char sink[16384];
		char *dst = s->left < 0 ? s->head + s->head_len : sink;
		size_t cap = s->left < 0 ? sizeof(s->head) - s->head_len : sizeof(sink);

		r = SSL_read(s->ssl, dst, (int)cap);
		if (r <= 0) {
			want(L, s, r, &L->err_read); /* a close before the end is an error */
			return;
		}
		s->total += (size_t)r;
		if (s->left < 0) {
			s->head_len += (size_t)r;
			int h = read_head(L, s);
			if (h < 0) {
				slot_renew(L, s);
				return;
			}
			if (h == 0)
				continue;
		} else {
			s->left -= r;
		}
		if (s->left == 0) {
			done(L, s);
			return;
		}
		if (s->left < 0) {
			L->err_read++; /* more than Content-Length */
			slot_renew(L, s);
			return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t pct(struct load *L, double q)
{
	return L->nlat ? L->lat_us[(size_t)(q * (double)(L->nlat - 1))] : 0;
}

int main(int argc, char **argv)
{
	static struct slot slots[MAX_CONNS];
	struct load L = { 0 };
	int conns = 64, secs = 4, opt;
	char host[128];
	const char *path;

	while ((opt = getopt(argc, argv, "c:d:")) != -1) {
		if (opt == 'c')
			conns = atoi(optarg);
		else if (opt == 'd')
			secs = atoi(optarg);
		else
			usage();
	}
	if (optind != argc - 1 || conns < 1 || conns > MAX_CONNS || secs < 1 ||
	    parse_url(argv[optind], &L, host, sizeof(host), &path) < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	int n = snprintf(L.req, sizeof(L.req),
			 "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nConnection: close\r\n\r\n", path,
			 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "");
	if (n < 0 || (size_t)n >= sizeof(L.req))
		usage();
	L.req_len = (size_t)n;
	L.ctx = SSL_CTX_new(TLS_client_method());
	L.lat_us = malloc(MAX_SAMPLES * sizeof(*L.lat_us));
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!L.ctx || !L.lat_us || L.ep < 0) {
		fprintf(stderr, "hsload: out of memory\n");
		return 1;
	}
	SSL_CTX_set_verify(L.ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(L.ctx, SSL_SESS_CACHE_OFF); /* every handshake full */
	SSL_CTX_set_alpn_protos(L.ctx, (const unsigned char *)"\x08http/1.1", 9);

	for (int i = 0; i < conns; i++) {
		slots[i].fd = -1;
		if (slot_open(&L, &slots[i]) < 0)
			L.err_connect++;
	}
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)secs * 1000000000u;
	struct epoll_event evs[256];
	for (uint64_t t = t0; t < deadline; t = now_ns()) {
		int k = epoll_wait(L.ep, evs, 256, (int)((deadline - t) / 1000000u) + 1);
		for (int i = 0; i < k; i++)
			step(&L, evs[i].data.ptr);
		for (int i = 0; i < conns; i++) /* connects that failed at once */
			if (slots[i].fd < 0 && slot_open(&L, &slots[i]) < 0)
				L.err_connect++;
	}
	uint64_t dur_us = (now_ns() - t0) / 1000;
	qsort(L.lat_us, L.nlat, sizeof(*L.lat_us), cmp_u32);
	printf("BENCH requests=%llu bytes=%llu duration_us=%llu connect=%llu read=%llu "
	       "write=%llu status=%llu timeout=0 p50_us=%u p99_us=%u\n",
	       (unsigned long long)L.requests, (unsigned long long)L.bytes,
	       (unsigned long long)dur_us, (unsigned long long)L.err_connect,
	       (unsigned long long)L.err_read, (unsigned long long)L.err_write,
	       (unsigned long long)L.err_status, pct(&L, 0.5), pct(&L, 0.99));
	for (int i = 0; i < conns; i++)
		slot_close(&L, &slots[i]);
	SSL_CTX_free(L.ctx);
	free(L.lat_us);
	return 0;
}
