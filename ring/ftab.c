#include "ftab.h"
#include "ring.h"

#include <errno.h>

int ftab_init(struct ring *r, unsigned reserved, unsigned total)
{
	int ret = io_uring_register_files_sparse(&r->uring, total);

	if (ret)
		return ret;
	if (reserved >= total)
		return -EINVAL;
	return io_uring_register_file_alloc_range(&r->uring, reserved, total - reserved);
}

int ftab_set(struct ring *r, unsigned slot, int fd)
{
	int ret = io_uring_register_files_update(&r->uring, slot, &fd, 1);

	return ret == 1 ? 0 : (ret < 0 ? ret : -EIO);
}
