/* conn: the connection state machine, one handler per completion kind.
 *
 * A connection answers one request at a time; pipelined requests wait in its
 * input buffer, so responses leave in request order. Those answered from
 * memory are gathered into one send (at most one response buffer). */
#ifndef RS_CONN_H
#define RS_CONN_H

#include <liburing.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "direct.h"
#include "range.h"
#include "resp.h"

struct worker;
struct conn;

#define PATH_CAP 4096

/* Per-response scratch at the tail of the response buffer: what the request
 * decided (statx results, path, ranges), kept while the response is built
 * and sent. The read path's chunks stop before it; the single-send path
 * may overwrite it once the file is open. */
struct scratch {
	alignas(8) struct statx stx; /* the target */
	struct statx alt;            /* a precompressed candidate */
	struct range_span spans[RANGE_MAX_PARTS];
	const char *type;            /* Content-Type of the target (maybe ctype) */
	char ctype[128];             /* the type with its charset */
	uint64_t size;               /* size of the representation sent */
	struct direct_xfer dx;       /* O_DIRECT transfer state */
	char path[PATH_CAP + 32];    /* + room for "/index.html" or ".br" */
	struct open_how probe;       /* site.c: O_PATH, confined as files are */
	uint16_t page_status;        /* site.c: the status an error page is sent with */
	char page_extra[512];        /* and the header lines given with it */
};

/* A socket accepted as descriptor fd from peer `sa` on listener lst. */
struct sockaddr;
void conn_accepted(struct worker *w, int fd, const struct sockaddr *sa, unsigned lst);

/* A completion for c (generation already checked). */
void conn_complete(struct worker *w, struct conn *c, unsigned op, const struct io_uring_cqe *cqe);

/* The timer list c was on expired. */
void conn_expired(struct worker *w, struct conn *c);

/* A response buffer or provided buffers became free for a waiting c. */
void conn_resume(struct worker *w, struct conn *c);
void conn_rearm_recv(struct worker *w, struct conn *c);

/* Start closing: cancel what is in flight, free c once it all completes. */
void conn_close(struct worker *w, struct conn *c);

/* ---- the response machinery, for serve.c ---- */

struct scratch *conn_scratch(struct worker *w, struct conn *c);
char *conn_in(struct worker *w, struct conn *c);          /* the input buffer */
void conn_tag(struct worker *w, struct conn *c, struct io_uring_sqe *sqe, unsigned op);
struct resp_conn conn_resp_ctx(struct worker *w, struct conn *c);

/* Take a response buffer; false when none is free (c then waits and its
 * request is parsed again when one is). */
bool conn_take_buf(struct worker *w, struct conn *c);

/* A pipelined batch is being gathered and this request needs more than
 * memory to be answered: true, and the caller returns at once without
 * side effects; the request is answered again after the batch is sent.
 * Called before any statx, open, file body or generated body. */
bool conn_defer(struct worker *w, struct conn *c);

/* Pipelined requests wait behind this one, or a batch is being gathered. */
bool conn_pipelined(const struct conn *c);

/* A complete error response; `close` ends the connection after it. */
void conn_error(struct worker *w, struct conn *c, int status, bool close, const char *extra);

/* The response being built has this status and an HTTP head of hlen
 * bytes (0: find the end of the head in the buffer), for the log. */
void conn_set_status(struct worker *w, struct conn *c, unsigned status, size_t hlen);

/* The request c is answering, parsed again into w->req if another
 * connection's request was parsed since (its head stays in the input
 * buffer until the response is done). */
struct http_request;
const struct http_request *conn_request(struct worker *w, struct conn *c);

/* Send buf[0..len) as the whole response. */
void conn_send_whole(struct worker *w, struct conn *c, size_t len);

/* The same with the head in buf[0..head) and the body in memory elsewhere
 * (the open-file cache): the body is copied once into the send buffer, or
 * a pipelined batch sends it from there uncopied when ref is the cache
 * entry it belongs to (pinned until the batch is out). head + blen must
 * fit the buffer. */
struct fcache_entry;
void conn_send_mem(struct worker *w, struct conn *c, size_t head, const char *body, size_t blen,
		   struct fcache_entry *ref);

/* The file is open in c->file and the head is in buf[0..send_len): send
 * nparts spans (0: head only; 1: [off, end); more: multipart from
 * scratch->spans). */
void conn_start_body(struct worker *w, struct conn *c);

/* Prepare a send of a body chunk from a pool buffer to c's socket: SEND_ZC
 * from the registered buffer when --send-zc allows (and the socket takes
 * it), else SEND. */
struct rbuf_pool;
void conn_prep_body_send(struct worker *w, struct conn *c, struct io_uring_sqe *sqe,
			 const char *buf, unsigned n, const struct rbuf_pool *pool, int flags);

/* The same, whole: prepare, tag as op and, for HTTPS, queue it in tls.c
 * instead (every body send goes through here). */
void conn_send_body(struct worker *w, struct conn *c, const char *buf, unsigned n,
		    const struct rbuf_pool *pool, int flags, unsigned op);

/* For tls.c: take up to n held (received, not yet consumed) bytes /
 * copy the first ones without consuming them. */
size_t conn_held_take(struct worker *w, struct conn *c, char *dst, size_t n);
size_t conn_held_peek(struct worker *w, struct conn *c, unsigned char *dst, size_t n);
/* (dst NULL: the bytes are dropped.) With provided buffers: the held bytes
 * in all; the run of them that starts off bytes in (*p, its length, 0
 * past the end); the held bytes repacked into as few buffers as they fill. */
size_t conn_held_bytes(const struct worker *w, const struct conn *c);
size_t conn_held_at(const struct worker *w, const struct conn *c, size_t off,
		    const unsigned char **p);
void conn_held_compact(struct worker *w, struct conn *c);
/* Process input if c is idle; end c as the server does (lingering close). */
void conn_kick(struct worker *w, struct conn *c);
void conn_end(struct worker *w, struct conn *c);

/* Poll the socket for room (OP_POLL_OUT); the completion continues the
 * body path the connection is in. */
void conn_wait_writable(struct worker *w, struct conn *c);

/* Send the head in buf[0..send_len) with MSG_MORE (the body follows), as
 * op, with these extra SQE flags (IOSQE_IO_LINK to chain the body). */
void conn_send_head(struct worker *w, struct conn *c, unsigned op, unsigned sqe_flags);

/* Progress on a body: push the send timeout back. */
void conn_touch(struct worker *w, struct conn *c);

/* The current body span is out (next multipart part, or the end). */
void conn_body_done(struct worker *w, struct conn *c);

/* The head in buf[0..send_len), then c->heap[0..heap_len). */
void conn_send_heap(struct worker *w, struct conn *c);

/* For a completion whose conn was freed (never expected): release what the
 * CQE carries (a provided buffer, an opened slot). */
void conn_orphan_cqe(struct worker *w, unsigned op, const struct io_uring_cqe *cqe);

#endif
