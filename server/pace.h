/* pace: --limit-rate on the body paths, with ring timeouts.
 *
 * Every body path asks pace_allow() how much of its next chunk may go now
 * and records what went with pace_sent(); the schedule is rate.h's, one
 * per response, counting body bytes only (heads, multipart delimiters and
 * error pages are not paced). When nothing may go, pace_allow() submits an
 * IORING_OP_TIMEOUT for the connection (OP_PACE, counted in its pending
 * ops) and takes it off the send-timeout list: a connection waiting for its
 * own pacing is not stalled. The completion resumes the body path the
 * connection is in (conn.c). Prepared right after a head sent with
 * IOSQE_IO_LINK, the timeout is part of that chain: it starts once the head
 * is out, and a failed head cancels it. A close removes a pending timeout,
 * so a paced connection that goes away is freed at once. */
#ifndef RS_PACE_H
#define RS_PACE_H

#include <linux/time_types.h>
#include <stdbool.h>
#include <stdint.h>

#include "rate.h"

struct worker;
struct conn;

struct pace {
	struct rate_sched rs;
	struct __kernel_timespec ts; /* the pending timeout (read at submission) */
	uint32_t body;               /* single-send paths: offset of the body in the buffer */
};

/* Would a body of blen bytes be paced (it outlasts --limit-rate-after)? */
bool pace_wanted(const struct worker *w, uint64_t blen);

/* A file body starts now; `body` is where it starts in the response buffer
 * on the single-send paths (the head before it goes unpaced). Does nothing
 * without --limit-rate. */
void pace_begin(struct worker *w, struct conn *c, uint32_t body);

/* How many of the next `want` body bytes may go now (want itself when the
 * response is not paced). 0: none; the pacing timeout is then pending and
 * its completion resumes the body. */
uint64_t pace_allow(struct worker *w, struct conn *c, uint64_t want);

/* n body bytes went out. */
void pace_sent(struct conn *c, uint64_t n);

/* OP_PACE completed with res: true when the body may go on (the timer
 * expired), false when it was cancelled (the head before it failed). */
bool pace_fired(struct conn *c, int res);

/* c is closing: remove a pending pacing timeout so its completion (counted
 * in c's pending ops) comes now. */
void pace_cancel(struct worker *w, struct conn *c);

#endif
