#include "ftab.h"
#include "ring.h"

#include <errno.h>

int ftab_init(struct ring *r, unsigned total)
{
	return io_uring_register_files_sparse(&r->uring, total);
}

int ftab_set(struct ring *r, unsigned slot, int fd)
{
	int ret = io_uring_register_files_update(&r->uring, slot, &fd, 1);

	return ret == 1 ? 0 : (ret < 0 ? ret : -EIO);
}
