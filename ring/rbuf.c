#include "rbuf.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

int rbuf_init(struct rbuf_pool *p, struct ring *r, unsigned count, size_t size)
{
	size_t total = (size_t)count * size;

	memset(p, 0, sizeof(*p));
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

	struct iovec iov = { .iov_base = p->base, .iov_len = total };
	int ret = io_uring_register_buffers(&r->uring, &iov, 1);
	p->registered = ret == 0;
	p->reg_error = ret;
	return 0;
}

void rbuf_free(struct rbuf_pool *p)
{
	if (p->base)
		munmap(p->base, p->size * p->count);
	free(p->free);
	memset(p, 0, sizeof(*p));
}
