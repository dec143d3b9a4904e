/* rbuf: pool of equal-sized buffers in one registered region.
 *
 * The region is registered as a single iovec (buf_index 0), so READ_FIXED
 * can target any byte of any buffer. Registration is charged to
 * RLIMIT_MEMLOCK; when refused the pool still works, unregistered, and
 * callers use plain READ instead (rbuf_registered() says which). */
#ifndef RS_RBUF_H
#define RS_RBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

struct rbuf_pool {
	char *base;
	size_t size;      /* bytes per buffer */
	unsigned count;
	unsigned nfree;
	uint32_t *free;   /* stack of free indices: LIFO keeps hot buffers hot */
	bool registered;
	int reg_error;    /* -errno of a refused registration, else 0 */
};

/* 0 or -errno (-ENOMEM when the region cannot be mapped). */
int rbuf_init(struct rbuf_pool *p, struct ring *r, unsigned count, size_t size);
void rbuf_free(struct rbuf_pool *p);

static inline int rbuf_get(struct rbuf_pool *p)
{
	return p->nfree ? (int)p->free[--p->nfree] : -1;
}
static inline void rbuf_put(struct rbuf_pool *p, int idx)
{
	p->free[p->nfree++] = (uint32_t)idx;
}
static inline char *rbuf_addr(const struct rbuf_pool *p, int idx)
{
	return p->base + (size_t)idx * p->size;
}

#endif
