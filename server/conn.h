/* conn: the connection state machine, one handler per completion kind.
 *
 * A connection answers one request at a time; pipelined requests wait in its
 * input buffer, so responses leave in request order and queued output is
 * bounded by one response. */
#ifndef RS_CONN_H
#define RS_CONN_H

#include <liburing.h>

struct worker;
struct conn;

/* A socket accepted into fixed slot `slot`. */
void conn_accepted(struct worker *w, int slot);

/* A completion for c (generation already checked). */
void conn_complete(struct worker *w, struct conn *c, unsigned op, const struct io_uring_cqe *cqe);

/* The timer list c was on expired. */
void conn_expired(struct worker *w, struct conn *c);

/* A response buffer or provided buffers became free for a waiting c. */
void conn_resume(struct worker *w, struct conn *c);
void conn_rearm_recv(struct worker *w, struct conn *c);

/* Start closing: cancel what is in flight, free c once it all completes. */
void conn_close(struct worker *w, struct conn *c);

/* For a completion whose conn was freed (never expected): release what the
 * CQE carries (a provided buffer, an opened slot). */
void conn_orphan_cqe(struct worker *w, unsigned op, const struct io_uring_cqe *cqe);

#endif
