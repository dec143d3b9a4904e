/* sendfile: hot bodies by sendfile(2), called by the worker thread itself.
 *
 * io_uring has no sendfile, and its splice always runs in an io-wq worker:
 * a context switch per hop, and a worker parked on every full socket. A
 * body whose bytes are in the page cache goes out instead by sendfile(2) on
 * the connection's non-blocking socket, right here: no user-space copy, no
 * other thread. The head leaves first through the ring (MSG_MORE, so TCP
 * packs it with the body) and the body follows its completion; a full
 * socket is waited for with a ring poll. sendfile would block this thread
 * on a page-cache miss, so only resident ranges take this path. */
#ifndef RS_SENDFILE_H
#define RS_SENDFILE_H

#include <stdbool.h>

struct worker;
struct conn;

/* Should [c->off, c->end) (and the other spans of a multipart response)
 * go by sendfile? Forced (--transfer=sendfile): always. Otherwise when the
 * body is at least --sendfile-min bytes and in the page cache (resid.h),
 * unless pipelined requests wait and the cache keeps the file in memory
 * (then they are answered from there, in one batch). */
bool sendfile_wanted(struct worker *w, struct conn *c, bool forced);

/* The head (or part head) is in buf[0..send_len): send it, then the span. */
void sendfile_start(struct worker *w, struct conn *c);

/* The socket has room (or the head is out): send what fits. */
void sendfile_pump(struct worker *w, struct conn *c);

/* OP_SF_HEAD completed with res. */
void sendfile_head_done(struct worker *w, struct conn *c, int res);

#endif
