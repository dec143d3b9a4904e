#include "resid.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* cachestat(2): Linux 6.5, no glibc wrapper in Debian 12. */
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
struct rs_cachestat_range {
	uint64_t off, len;
};
struct rs_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static enum resid_method method = RESID_MINCORE;
static uint64_t page_size = 4096;

static bool have_cachestat(void)
{
	struct rs_cachestat_range r = { 0, 0 };
	struct rs_cachestat cs;

	/* A kernel that has it checks the descriptor first (EBADF); one
	 * that does not says ENOSYS. */
	return syscall(SYS_cachestat, -1, &r, &cs, 0) != 0 && errno == EBADF;
}

void resid_init(bool allow_cachestat)
{
	long ps = sysconf(_SC_PAGESIZE);

	page_size = ps > 0 ? (uint64_t)ps : 4096;
	method = allow_cachestat && have_cachestat() ? RESID_CACHESTAT : RESID_MINCORE;
}

enum resid_method resid_method(void)
{
	return method;
}

const char *resid_method_name(enum resid_method m)
{
	return m == RESID_CACHESTAT ? "cachestat" : "mincore";
}

static int by_cachestat(int fd, uint64_t first, uint64_t npages, uint64_t *cached)
{
	struct rs_cachestat_range r = { first * page_size, npages * page_size };
	struct rs_cachestat cs;

	if (syscall(SYS_cachestat, fd, &r, &cs, 0) != 0)
		return -errno;
	*cached = cs.nr_cache > npages ? npages : cs.nr_cache;
	return 0;
}

/* One window: map it (no page is touched, so nothing is faulted in or
 * read ahead), ask mincore, unmap. */
static int window(int fd, uint64_t page, uint64_t n, unsigned char *vec, uint64_t *cached)
{
	size_t len = (size_t)(n * page_size);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)(page * page_size));

	if (p == MAP_FAILED)
		return -errno;
	int ret = mincore(p, len, vec) ? -errno : 0;
	munmap(p, len);
	for (uint64_t i = 0; ret == 0 && i < n; i++)
		*cached += vec[i] & 1;
	return ret;
}

/* Short ranges page by page; long ones in RESID_WINDOWS windows from the
 * first page to the last, evenly spaced: a bounded cost per request, and
 * the fraction cached is what the caller decides on. */
static int by_mincore(int fd, uint64_t first, uint64_t npages, uint64_t *cached, uint64_t *pages)
{
	unsigned char vec[RESID_MAX_PAGES];

	*cached = 0;
	if (npages <= RESID_MAX_PAGES) {
		*pages = npages;
		return window(fd, first, npages, vec, cached);
	}
	const uint64_t w = RESID_MAX_PAGES / RESID_WINDOWS;
	for (uint64_t i = 0; i < RESID_WINDOWS; i++) {
		uint64_t at = first + (npages - w) * i / (RESID_WINDOWS - 1);
		int ret = window(fd, at, w, vec, cached);
		if (ret)
			return ret;
	}
	*pages = RESID_MAX_PAGES;
	return 0;
}

int resid_range_with(enum resid_method m, int fd, uint64_t off, uint64_t len,
		     uint64_t *cached, uint64_t *pages)
{
	if (len == 0 || off + len < off)
		return -EINVAL;
	uint64_t first = off / page_size;
	uint64_t npages = (off + len - 1) / page_size - first + 1;

	if (m == RESID_CACHESTAT) {
		*pages = npages;
		return by_cachestat(fd, first, npages, cached);
	}
	return by_mincore(fd, first, npages, cached, pages);
}

int resid_range(int fd, uint64_t off, uint64_t len, uint64_t *cached, uint64_t *pages)
{
	return resid_range_with(method, fd, off, len, cached, pages);
}
