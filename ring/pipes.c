#include "pipes.h"
#include "ftab.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int pipe_make(struct pipe_pool *pp, struct ring *r, unsigned i, size_t want)
{
	int *fds = pp->fds[i];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* The kernel may refuse the full size (pipe-max-size, per-user caps):
	 * keep whatever it grants and size chunks by the smallest. */
	int got = fcntl(fds[0], F_SETPIPE_SZ, (int)want);
	if (got < 0)
		got = fcntl(fds[0], F_GETPIPE_SZ);
	if (got > 0 && (size_t)got < pp->size)
		pp->size = (size_t)got;
	int ret = ftab_set(r, pipes_slot_r(pp, (int)i), fds[0]);
	if (!ret)
		ret = ftab_set(r, pipes_slot_w(pp, (int)i), fds[1]);
	return ret;
}

int pipes_init(struct pipe_pool *pp, struct ring *r, unsigned count, size_t size, unsigned first_slot)
{
	memset(pp, 0, sizeof(*pp));
	pp->devnull = -1;
	pp->first_slot = first_slot;
	pp->size = size;
	if (count == 0)
		return 0;
	pp->fds = calloc(count, sizeof(*pp->fds));
	pp->free = calloc(count, sizeof(*pp->free));
	if (!pp->fds || !pp->free)
		goto nomem;
	pp->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (unsigned i = 0; i < count; i++) {
		int ret = pipe_make(pp, r, i, size);
		if (ret) {
			pp->count = i;
			pipes_free(pp);
			return ret;
		}
		pp->count = i + 1;
		pp->free[i] = count - 1 - i;
	}
	pp->nfree = count;
	return 0;
nomem:
	free(pp->fds);
	free(pp->free);
	return -ENOMEM;
}

void pipes_put(struct pipe_pool *pp, int idx, size_t left)
{
	int *fds = pp->fds[idx];
	int inpipe = 0;

	/* Rare path (a response cut short): the bytes are in memory, so a
	 * non-blocking splice to /dev/null drains them at once. FIONREAD, not
	 * the caller's count, says how many are really there. */
	if (left > 0 && ioctl(fds[0], FIONREAD, &inpipe) == 0) {
		while (inpipe > 0) {
			ssize_t n = splice(fds[0], NULL, pp->devnull, NULL,
					   (size_t)inpipe, SPLICE_F_NONBLOCK);
			if (n <= 0)
				return; /* cannot drain: retire the pipe */
			inpipe -= (int)n;
		}
	}
	pp->free[pp->nfree++] = (uint32_t)idx;
}

void pipes_free(struct pipe_pool *pp)
{
	for (unsigned i = 0; i < pp->count; i++) {
		close(pp->fds[i][0]);
		close(pp->fds[i][1]);
	}
	if (pp->devnull >= 0)
		close(pp->devnull);
	free(pp->fds);
	free(pp->free);
	memset(pp, 0, sizeof(*pp));
}
