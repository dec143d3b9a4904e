/* pbuf: a provided buffer ring for multishot recv.
 *
 * The kernel picks a buffer per completion, so idle connections with a recv
 * armed hold no memory. Buffers are handed back with pbuf_put() and become
 * visible to the kernel at the next pbuf_flush() (one store per loop turn).
 *
 * The kernel takes buffers in ring order, so a ring holding every free
 * buffer would walk the whole pool, one cold page per request (1024 x 4 KiB
 * cost 20% of a 128 KiB response's CPU). Only a window is posted: twice
 * what the last turn asked for, at least PBUF_WINDOW_MIN; the rest wait in
 * a stack whose top, the buffer returned last and still in cache, is posted
 * first. */
#ifndef RS_PBUF_H
#define RS_PBUF_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

struct ring;

#define PBUF_WINDOW_MIN 32

struct pbuf_ring {
	struct io_uring_buf_ring *br;
	char *base;
	uint16_t *stack;   /* free buffers not in the ring, last returned on top */
	unsigned nstack;
	unsigned count;    /* power of two, <= 32768 */
	unsigned size;     /* bytes per buffer */
	unsigned posted;   /* in the ring, not yet taken by the kernel */
	unsigned demand;   /* taken or missed since the last flush */
	uint16_t bgid;
	bool active;
};

/* 0, or -errno when the kernel refuses buffer rings (callers then recv into
 * their own buffers). */
int pbuf_init(struct pbuf_ring *pb, struct ring *r, unsigned count, unsigned size, uint16_t bgid);
void pbuf_free(struct pbuf_ring *pb, struct ring *r);

static inline char *pbuf_addr(const struct pbuf_ring *pb, unsigned bid)
{
	return pb->base + (size_t)bid * pb->size;
}

/* A buffer handed back (after its completion was seen). */
static inline void pbuf_put(struct pbuf_ring *pb, unsigned bid)
{
	pb->stack[pb->nstack++] = (uint16_t)bid;
}

/* A completion carried a buffer: the kernel took it from the ring. */
static inline void pbuf_took(struct pbuf_ring *pb)
{
	pb->posted--;
	pb->demand++;
}

/* A recv found the ring empty (-ENOBUFS): it wanted one more. */
static inline void pbuf_missed(struct pbuf_ring *pb)
{
	pb->demand++;
}

/* Top the ring up to the window; once per loop turn, before the submit. */
void pbuf_flush(struct pbuf_ring *pb);

#endif
