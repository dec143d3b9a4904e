#include "pbuf.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int pbuf_init(struct pbuf_ring *pb, struct ring *r, unsigned count, unsigned size, uint16_t bgid)
{
	size_t ring_bytes = count * sizeof(struct io_uring_buf);
	size_t data_bytes = (size_t)count * size;
	struct io_uring_buf_reg reg;
	int ret;

	memset(pb, 0, sizeof(*pb));
	if (count == 0 || (count & (count - 1)) || count > 32768)
		return -EINVAL;
	/* The ring itself must be page-aligned: mmap gives that. */
	void *mem = mmap(NULL, ring_bytes + data_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	pb->stack = malloc(count * sizeof(*pb->stack));
	if (!pb->stack) {
		munmap(mem, ring_bytes + data_bytes);
		return -ENOMEM;
	}
	pb->br = mem;
	pb->base = (char *)mem + ring_bytes;
	pb->count = count;
	pb->size = size;
	pb->bgid = bgid;
	io_uring_buf_ring_init(pb->br);

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)pb->br;
	reg.ring_entries = count;
	reg.bgid = bgid;
	ret = io_uring_register_buf_ring(&r->uring, &reg, 0);
	if (ret) {
		munmap(mem, ring_bytes + data_bytes);
		free(pb->stack);
		memset(pb, 0, sizeof(*pb));
		return ret;
	}
	/* Buffer 0 on top: the first posted are the lowest addresses. */
	for (unsigned i = count; i-- > 0;)
		pbuf_put(pb, i);
	pbuf_flush(pb);
	pb->active = true;
	return 0;
}

void pbuf_flush(struct pbuf_ring *pb)
{
	unsigned want = PBUF_WINDOW_MIN + 2 * pb->demand;
	unsigned added = 0;

	if (want > pb->count)
		want = pb->count;
	pb->demand = 0;
	while (pb->posted + added < want && pb->nstack) {
		unsigned bid = pb->stack[--pb->nstack];
		io_uring_buf_ring_add(pb->br, pbuf_addr(pb, bid), pb->size, (uint16_t)bid,
				      io_uring_buf_ring_mask(pb->count), (int)added++);
	}
	if (added) {
		io_uring_buf_ring_advance(pb->br, (int)added);
		pb->posted += added;
	}
}

void pbuf_free(struct pbuf_ring *pb, struct ring *r)
{
	if (!pb->active)
		return;
	io_uring_unregister_buf_ring(&r->uring, pb->bgid);
	free(pb->stack);
	munmap(pb->br, pb->count * sizeof(struct io_uring_buf) + (size_t)pb->count * pb->size);
	memset(pb, 0, sizeof(*pb));
}
