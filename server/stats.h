/* stats: per-worker counters for the metrics endpoint.
 *
 * Each counter has one writer (its worker) and is read by the metrics
 * thread at scrape time. Relaxed atomic loads and stores compile to plain
 * moves on x86-64 and arm64, so counting costs no locked instruction and
 * no shared cache line, yet the cross-thread read is not a data race. */
#ifndef RS_STATS_H
#define RS_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* How a response's body left (bytes_sent is kept per path). */
enum stat_path {
	SP_OTHER = 0, /* heads only: HEAD, 304, redirects, error pages */
	SP_CACHE,     /* from the open-file cache's memory, no read */
	SP_BUFFER,    /* read into a registered buffer, then sent */
	SP_SPLICE,    /* file -> pipe -> socket */
	SP_DIRECT,    /* O_DIRECT reads into aligned buffers */
	SP_LISTING,   /* a generated directory listing */
	SP_SENDFILE,  /* sendfile(2) from the page cache, from the worker thread */
	SP_MAPPED,    /* HTTPS in user space: sealed straight from a mapping of the page cache */
	SP_COUNT,
};

enum stat_timeout { ST_HEADER = 0, ST_KEEPALIVE, ST_SEND, ST_LINGER, ST_COUNT };

typedef _Atomic uint64_t stat_t;

#define STAT_TLS_FAILS 7 /* TF_COUNT in tls.h */

struct stats {
	stat_t requests[6];        /* by status class: [2] = 2xx ... [5] = 5xx */
	stat_t bytes[SP_COUNT];    /* response bytes (heads included) by body path */
	stat_t accepted, closed;   /* connections */
	stat_t timeouts[ST_COUNT];
	stat_t cache_hits, cache_misses;
	stat_t submits, cqes;      /* io_uring_enter calls, completions reaped */
	stat_t batches, batched;   /* pipelined batches sent, responses in them */
	stat_t accept_errors;
	stat_t log_lines, log_sync_writes, log_errors;
	stat_t proxy_errors;       /* connections closed for a bad or missing PROXY header */
	stat_t forwarded;          /* requests whose client a trusted proxy named */
	/* Basic auth (authgate.c) */
	stat_t auth_ok, auth_failed;   /* verifications that passed / failed */
	stat_t auth_cache_hits;        /* credentials passed by the verified cache */
	stat_t auth_challenged;        /* 401: no or malformed credentials */
	stat_t auth_limited, auth_busy; /* 429: too many failures; 503: queue full */
	stat_t tls_handshakes;     /* HTTPS handshakes completed */
	stat_t tls_resumed;        /* of them, resumed from a ticket */
	stat_t tls_fail[STAT_TLS_FAILS]; /* handshakes that failed, by tls.h's enum tls_fail */
	stat_t tls_ktls;           /* connections whose TX the kernel took over (kTLS) */
	stat_t tls_ktls_failed;    /* the kernel refused the keys OpenSSL had handed over: closed */
	stat_t tls_sealed;         /* connections whose records we seal (stls: no kTLS for them) */
	stat_t tls_opened;         /* TLS 1.3 connections whose records we open (stls) */
};

/* Single writer: a load and a store, no read-modify-write. */
static inline void stat_add(stat_t *s, uint64_t n)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t stat_get(const stat_t *s)
{
	return atomic_load_explicit((stat_t *)s, memory_order_relaxed);
}

extern const char *const stat_path_names[SP_COUNT];
extern const char *const stat_timeout_names[ST_COUNT];

#endif
