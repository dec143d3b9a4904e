/* rbuf: pools of equal-sized buffers, each pool one registered region.
 *
 * Each pool's region is one registered iovec (its buf_index), so READ_FIXED
 * can target any byte of any buffer. Registration is charged to
 * RLIMIT_MEMLOCK; when refused the pools still work, unregistered, and
 * callers use plain READ instead (p->registered says which). Regions are
 * page-aligned, which also meets O_DIRECT's memory alignment. */
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
	unsigned index;   /* buf_index for READ_FIXED when registered */
	int reg_error;    /* -errno of a refused registration, else 0 */
};

/* 0 or -errno (-ENOMEM when the region cannot be mapped). count 0 gives
 * an empty pool. */
int rbuf_init(struct rbuf_pool *p, unsigned count, size_t size);

/* Register pools[0..n) as buffer indexes 0..n-1 in one call (empty pools
 * take an index too). Refusal leaves them all unregistered; the error is in
 * each pool's reg_error. */
void rbuf_register(struct ring *r, struct rbuf_pool **pools, unsigned n);
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
