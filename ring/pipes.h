/* pipes: a bounded per-worker pool of pipes for SPLICE file -> pipe -> socket.
 *
 * A pipe per connection would run into the per-user pipe memory cap
 * (pipe-user-pages-soft) at about a thousand connections; a pool does not.
 * Each pipe is resized with F_SETPIPE_SZ so one splice moves up to its size,
 * and both ends sit in the ring's fixed file table at slots
 * first_slot + 2*i (read end) and first_slot + 2*i + 1 (write end). The
 * ordinary descriptors are closed once registered: a pool costs no entries
 * of the process's fd table, so RLIMIT_NOFILE goes to connections. */
#ifndef RS_PIPES_H
#define RS_PIPES_H

#include <stddef.h>
#include <stdint.h>

struct ring;

struct pipe_pool {
	unsigned count;
	unsigned first_slot;
	size_t size;      /* smallest capacity any pipe got (for messages) */
	size_t want;      /* capacity asked for */
	uint32_t *sizes;  /* capacity of each pipe: one splice moves at most this */
	uint32_t *free;
	unsigned nfree;
	unsigned replaced; /* pipes swapped for new ones after a cut-short response */
};

/* Create `count` pipes of `size` bytes (clamped by the kernel's limits) and
 * register them. 0 or -errno. count 0 gives an empty pool. */
int pipes_init(struct pipe_pool *pp, struct ring *r, unsigned count, size_t size, unsigned first_slot);
void pipes_free(struct pipe_pool *pp, struct ring *r);

static inline int pipes_get(struct pipe_pool *pp)
{
	return pp->nfree ? (int)pp->free[--pp->nfree] : -1;
}

/* Return pipe idx. When `left` bytes still sit in it (a response cut
 * short), the pipe is replaced by a new empty one in the same slots, so the
 * next user never sends another response's bytes. */
void pipes_put(struct pipe_pool *pp, struct ring *r, int idx, size_t left);

static inline size_t pipes_size(const struct pipe_pool *pp, int idx)
{
	return pp->sizes[idx];
}

static inline unsigned pipes_slot_r(const struct pipe_pool *pp, int idx)
{
	return pp->first_slot + 2u * (unsigned)idx;
}
static inline unsigned pipes_slot_w(const struct pipe_pool *pp, int idx)
{
	return pp->first_slot + 2u * (unsigned)idx + 1u;
}

#endif
