/* pace: see pace.h. */
#include "pace.h"
#include "conn.h"
#include "worker.h"

#include <errno.h>
#include <time.h>

/* The worker's clock is coarse (a jiffy): the schedule needs a finer one
 * to keep its chunks evenly spaced. One vDSO call per paced chunk. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool pace_wanted(const struct worker *w, uint64_t blen)
{
	return w->cfg->limit_rate && blen > w->cfg->limit_rate_after;
}

void pace_begin(struct worker *w, struct conn *c, uint32_t body)
{
	if (!w->cfg->limit_rate)
		return;
	rate_start(&c->pace.rs, w->cfg->limit_rate, w->cfg->limit_rate_after, now_ns());
	c->pace.body = body;
	c->flags |= CF_PACED;
}

static void arm(struct worker *w, struct conn *c, uint64_t wait_ns)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	c->pace.ts.tv_sec = (long long)(wait_ns / 1000000000ull);
	c->pace.ts.tv_nsec = (long long)(wait_ns % 1000000000ull);
	io_uring_prep_timeout(sqe, &c->pace.ts, 0, 0);
	conn_tag(w, c, sqe, OP_PACE);
	c->flags |= CF_PACE_WAIT;
	/* Waiting for our own schedule is not a stalled peer. */
	timer_del(&c->tn);
}

uint64_t pace_allow(struct worker *w, struct conn *c, uint64_t want)
{
	uint64_t wait, n;

	if (!(c->flags & CF_PACED))
		return want;
	if (c->flags & CF_PACE_WAIT)
		return 0; /* already waiting (O_DIRECT reads complete meanwhile) */
	n = rate_allow(&c->pace.rs, want, now_ns(), &wait);
	if (n == 0 && want)
		arm(w, c, wait);
	return n;
}

void pace_sent(struct conn *c, uint64_t n)
{
	if (c->flags & CF_PACED)
		rate_sent(&c->pace.rs, n);
}

bool pace_fired(struct conn *c, int res)
{
	c->flags &= (uint32_t)~CF_PACE_WAIT;
	return res == -ETIME;
}

void pace_cancel(struct worker *w, struct conn *c)
{
	if (!(c->flags & CF_PACE_WAIT))
		return;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	/* Not armed yet (still behind its head): the head fails on the
	 * shutdown and takes the timeout with it; this then fails harmlessly. */
	io_uring_prep_timeout_remove(sqe, ring_ud(OP_PACE, c->gen, (uint32_t)(c - w->conns)), 0);
	ring_untracked(sqe, OP_CANCEL);
}
