/* alog: the access log, one line per response, written through the ring.
 *
 * Each worker formats lines into the active one of ALOG_NBUF buffers and
 * hands a buffer to the kernel as one IORING_OP_WRITE when it is full or
 * at the 250 ms tick, then goes on in the next free one; the worker never
 * waits for the disk unless every buffer is still in flight, and then it
 * writes synchronously rather than lose a line.
 *
 * Reopening (SIGHUP/SIGUSR1, for log rotation): main opens the new file
 * and bumps a generation; each worker, at its next tick, sends what it
 * holds to the old file, takes its own duplicate of the new one and says
 * so (acked); the old descriptor closes once the writes on it complete.
 * Every line goes to exactly one of the two files. */
#ifndef RS_ALOG_H
#define RS_ALOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "stats.h"

struct ring;

#define ALOG_NBUF 4
#define ALOG_GONE UINT32_MAX /* acked by a worker that has stopped */

/* What main shares with the workers. */
struct alog_shared {
	const char *path;     /* --access-log; "-" is stdout */
	unsigned format;      /* LOGF_* */
	size_t buf_size;
	_Atomic int fd;       /* main's descriptor of the current file, -1: off */
	_Atomic uint32_t gen; /* bumped after fd changes */
};

/* The client's address, kept per connection (17 bytes, not a sockaddr).
 * A client on a unix socket has no address: it is logged as "unix:". */
enum { ALOG_PEER_V4 = 0, ALOG_PEER_V6 = 1, ALOG_PEER_UNIX = 2 };

struct alog_peer {
	uint8_t addr[16];     /* network order; IPv4 in the first 4 bytes */
	uint8_t family;       /* ALOG_PEER_* */
};

/* One response, as the access log sees it. Strings are not terminated;
 * NULL prints as "-". */
struct alog_entry {
	const struct alog_peer *peer;
	const char *req;      /* request line, "" when none was read */
	size_t req_len;
	const char *referer, *agent;
	size_t referer_len, agent_len;
	const char *user;     /* the authenticated user (Basic auth), NULL: none */
	size_t user_len;
	unsigned status;
	uint64_t bytes;       /* body bytes sent */
	uint64_t msec;        /* from the request's arrival to the last byte */
	const char *tls_version, *tls_cipher; /* HTTPS (json format), else NULL */
	bool tls_resumed;
	bool ktls;
};

struct alog {
	int fd;               /* this worker's duplicate, -1: logging off */
	uint32_t gen;
	_Atomic uint32_t acked; /* the generation this worker writes to */
	unsigned format;
	size_t cap;
	char *mem;            /* ALOG_NBUF buffers of cap bytes */
	uint32_t len[ALOG_NBUF];
	uint32_t done[ALOG_NBUF]; /* bytes of an in-flight buffer already written */
	int bfd[ALOG_NBUF];   /* the descriptor an in-flight buffer goes to */
	unsigned busy;        /* bit i: buffer i is in flight */
	unsigned active;
	unsigned op;          /* user_data op tag; the slot is the buffer index */
	struct ring *ring;
	struct stats *st;
	unsigned worker;
	struct log_limit warn; /* write errors */
	time_t tsec;
	char tclf[48];        /* "22/Nov/2026:02:15:03 +0000" */
	char tiso[48];        /* "2026-11-22T02:15:03+00:00" */
	char line[8192];
};

/* main: open sh->path (stdout for "-"), or -errno. */
int alog_open_file(const char *path);

/* Worker side. alog_init with sh->fd < 0 leaves logging off (fd -1). */
int alog_init(struct alog *a, const struct alog_shared *sh, struct ring *r, unsigned op,
	      struct stats *st, unsigned worker);
void alog_free(struct alog *a);

/* Append one line (now: wall-clock seconds, for the timestamp). */
void alog_write(struct alog *a, const struct alog_entry *e, time_t now);

/* The tick: take a new file after a reopen, hand the batch to the kernel. */
void alog_tick(struct alog *a, const struct alog_shared *sh);

/* A write completed for buffer idx. */
void alog_complete(struct alog *a, unsigned idx, int res, uint64_t now_sec);

/* At exit, once no write is in flight (alog_busy false): write the rest
 * synchronously. */
bool alog_busy(const struct alog *a);
void alog_finish(struct alog *a);

/* The peer as a log line shows it ("192.0.2.1", "2001:db8::1", "unix:",
 * "-" for none) into out[0..cap). */
void alog_peer_str(const struct alog_peer *peer, char *out, size_t cap);

/* Formatting, exposed for unit tests: the line for e into out (at most cap
 * bytes, newline included); its length. */
size_t alog_format(char *out, size_t cap, unsigned format, const struct alog_entry *e,
		   const char *tclf, const char *tiso);

#endif
