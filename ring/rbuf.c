#include "rbuf.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

int rbuf_init(struct rbuf_pool *p, unsigned count, size_t size)
{
	size_t total = (size_t)count * size;

	memset(p, 0, sizeof(*p));
	if (count == 0)
		return 0;
	p->free = calloc(count, sizeof(*p->free));
	if (!p->free)
		return -ENOMEM;
	/* Page-aligned, so the buffers also meet O_DIRECT memory alignment. */
	p->base = mmap(NULL, total, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->base == MAP_FAILED) {
		free(p->free);
		p->base = NULL;
		return -ENOMEM;
	}
	p->size = size;
	p->count = count;
	for (unsigned i = 0; i < count; i++)
		p->free[i] = count - 1 - i; /* index 0 on top */
	p->nfree = count;
	return 0;
}

void rbuf_register(struct ring *r, struct rbuf_pool **pools, unsigned n)
{
	struct iovec iov[8];
	static char dummy[4096] __attribute__((aligned(4096)));

	if (n > 8)
		n = 8;
	memset(iov, 0, sizeof(iov));
	for (unsigned i = 0; i < n; i++) {
		/* An empty pool still needs a valid iovec to keep the indexes. */
		iov[i].iov_base = pools[i]->base ? pools[i]->base : dummy;
		iov[i].iov_len = pools[i]->base ? pools[i]->size * pools[i]->count : sizeof(dummy);
		pools[i]->index = i;
	}
	int ret = io_uring_register_buffers(&r->uring, iov, n);
	for (unsigned i = 0; i < n; i++) {
		pools[i]->registered = ret == 0;
		pools[i]->reg_error = ret;
	}
}

void rbuf_free(struct rbuf_pool *p)
{
	if (p->base)
		munmap(p->base, p->size * p->count);
	free(p->free);
	memset(p, 0, sizeof(*p));
}
