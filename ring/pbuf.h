/* pbuf: a provided buffer ring for multishot recv.
 *
 * The kernel picks a buffer per completion, so idle connections with a recv
 * armed hold no memory. Buffers are handed back with pbuf_put() and become
 * visible to the kernel at the next pbuf_flush() (one store per loop turn). */
#ifndef RS_PBUF_H
#define RS_PBUF_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

struct ring;

struct pbuf_ring {
	struct io_uring_buf_ring *br;
	char *base;
	unsigned count;    /* power of two, <= 32768 */
	unsigned size;     /* bytes per buffer */
	unsigned pending;  /* added since the last flush */
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

static inline void pbuf_put(struct pbuf_ring *pb, unsigned bid)
{
	io_uring_buf_ring_add(pb->br, pbuf_addr(pb, bid), pb->size, (uint16_t)bid,
			      io_uring_buf_ring_mask(pb->count), (int)pb->pending++);
}

static inline void pbuf_flush(struct pbuf_ring *pb)
{
	if (pb->pending) {
		io_uring_buf_ring_advance(pb->br, (int)pb->pending);
		pb->pending = 0;
	}
}

#endif
