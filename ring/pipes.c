#include "pipes.h"
#include "ftab.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Create pipe i, resize it and install both ends in its slots (replacing
 * whatever was there). */
static int pipe_make(struct pipe_pool *pp, struct ring *r, unsigned i)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* The kernel may refuse the full size (pipe-max-size, per-user caps):
	 * keep whatever it grants; chunks through this pipe use that size. */
	int got = fcntl(fds[0], F_SETPIPE_SZ, (int)pp->want);
	if (got < 0)
		got = fcntl(fds[0], F_GETPIPE_SZ);
	if (got <= 0)
		got = 4096;
	pp->sizes[i] = (uint32_t)got;
	if ((size_t)got < pp->size)
		pp->size = (size_t)got;
	int ret = ftab_set(r, pipes_slot_r(pp, (int)i), fds[0]);
	if (!ret)
		ret = ftab_set(r, pipes_slot_w(pp, (int)i), fds[1]);
	close(fds[0]);
	close(fds[1]);
	return ret;
}

int pipes_init(struct pipe_pool *pp, struct ring *r, unsigned count, size_t size, unsigned first_slot)
{
	memset(pp, 0, sizeof(*pp));
	pp->first_slot = first_slot;
	pp->size = pp->want = size;
	if (count == 0)
		return 0;
	pp->free = calloc(count, sizeof(*pp->free));
	pp->sizes = calloc(count, sizeof(*pp->sizes));
	if (!pp->free || !pp->sizes) {
		free(pp->free);
		free(pp->sizes);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < count; i++) {
		int ret = pipe_make(pp, r, i);
		if (ret) {
			pp->count = i;
			pipes_free(pp, r);
			return ret;
		}
		pp->count = i + 1;
		pp->free[i] = count - 1 - i;
	}
	pp->nfree = count;
	return 0;
}

void pipes_put(struct pipe_pool *pp, struct ring *r, int idx, size_t left)
{
	/* Rare path: a response cut short. A failed replacement retires the
	 * pipe (the pool shrinks by one) rather than risk stale bytes. */
	if (left > 0) {
		if (pipe_make(pp, r, (unsigned)idx))
			return;
		pp->replaced++;
	}
	pp->free[pp->nfree++] = (uint32_t)idx;
}

void pipes_free(struct pipe_pool *pp, struct ring *r)
{
	int none[2] = { -1, -1 };

	/* Dropping the slots releases the pipes; ring exit would too. */
	for (unsigned i = 0; i < pp->count; i++)
		io_uring_register_files_update(&r->uring, pipes_slot_r(pp, (int)i), none, 2);
	free(pp->free);
	free(pp->sizes);
	memset(pp, 0, sizeof(*pp));
}
