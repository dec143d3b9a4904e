/* resid: page-cache residency by cachestat and by mincore, on a file in
 * the current directory (meson runs tests in the build directory): cold
 * after POSIX_FADV_DONTNEED, warm after a read, half and half after reading
 * half with readahead off; both methods agree where both exist; ranges
 * longer than RESID_MAX_PAGES are sampled within a window's error. Skips
 * the residency cases where the filesystem keeps pages regardless (tmpfs). */
#include "resid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define PG 4096u

static const char small_name[] = "test_resid.small";
static const char sparse_name[] = "test_resid.sparse";

static void drop(int fd)
{
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static void read_range(int fd, uint64_t off, uint64_t len)
{
	static char buf[1 << 16];

	while (len) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t r = pread(fd, buf, n, (off_t)off);
		if (r <= 0)
			break;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
}

static int have_cachestat;

/* Both methods on the same range; cachestat must agree exactly with an
 * unsampled mincore. Returns mincore's count. */
static uint64_t both(int fd, uint64_t off, uint64_t len, uint64_t want_pages)
{
	uint64_t c1 = 0, p1 = 0, c2 = 0, p2 = 0;

	CHECK(resid_range_with(RESID_MINCORE, fd, off, len, &c1, &p1) == 0);
	CHECK(p1 == want_pages);
	if (have_cachestat) {
		CHECK(resid_range_with(RESID_CACHESTAT, fd, off, len, &c2, &p2) == 0);
		CHECK(p2 == want_pages && c2 == c1);
		if (c2 != c1)
			fprintf(stderr, "  cachestat %llu vs mincore %llu pages\n",
				(unsigned long long)c2, (unsigned long long)c1);
	}
	return c1;
}

static void test_args(void)
{
	uint64_t c, p;

	CHECK(resid_range(0, 0, 0, &c, &p) == -EINVAL);
	CHECK(resid_range(0, UINT64_MAX, 2, &c, &p) == -EINVAL);
	CHECK(resid_range_with(RESID_MINCORE, -1, 0, 4096, &c, &p) == -EBADF);
	CHECK(strcmp(resid_method_name(RESID_CACHESTAT), "cachestat") == 0);
	CHECK(strcmp(resid_method_name(RESID_MINCORE), "mincore") == 0);
	resid_init(false);
	CHECK(resid_method() == RESID_MINCORE);
	resid_init(true);
	have_cachestat = resid_method() == RESID_CACHESTAT;
	printf("cachestat %s\n", have_cachestat ? "available" : "not available: mincore only");
}

/* 8 MiB, every page examined. Returns 0 when the filesystem does not drop
 * pages on request (the rest would say nothing). */
static int test_small(void)
{
	const uint64_t size = 8u << 20, pages = size / PG;
	char *data = malloc(size);
	int fd = open(small_name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0 && data);
	if (fd < 0 || !data)
		return 0;
	for (uint64_t i = 0; i < size; i++)
		data[i] = (char)(i * 7 + 3);
	CHECK(write(fd, data, size) == (ssize_t)size);
	free(data);
	drop(fd);
	if (both(fd, 0, size, pages) != 0) {
		printf("SKIP (residency): pages stay cached after POSIX_FADV_DONTNEED here (tmpfs?)\n");
		close(fd);
		return 0;
	}
	/* Unaligned ends still cover whole pages. */
	CHECK(both(fd, PG - 1, 2, 2) == 0);
	CHECK(both(fd, 123, size - 200, pages) == 0);

	read_range(fd, 0, size);
	CHECK(both(fd, 0, size, pages) == pages);
	CHECK(both(fd, PG - 1, 2, 2) == 2);

	/* The first half only, no readahead beyond what is read. */
	drop(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	read_range(fd, 0, size / 2);
	uint64_t half = both(fd, 0, size, pages);
	CHECK(half == pages / 2);
	CHECK(both(fd, size / 2, size / 2, pages / 2) == 0);
	CHECK(both(fd, 0, size / 2, pages / 2) == pages / 2);
	close(fd);
	return 1;
}

/* 256 MiB sparse: longer than RESID_MAX_PAGES, so mincore samples exactly
 * that many pages; half read gives about half. */
static void test_sampled(void)
{
	const uint64_t size = 256u << 20, pages = size / PG;
	uint64_t c = 0, p = 0;
	int fd = open(sparse_name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	drop(fd);
	CHECK(resid_range_with(RESID_MINCORE, fd, 0, size, &c, &p) == 0);
	CHECK(p == RESID_MAX_PAGES && c == 0);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	read_range(fd, 0, size / 4);
	CHECK(resid_range_with(RESID_MINCORE, fd, 0, size, &c, &p) == 0);
	/* A quarter, within one window either way. */
	uint64_t w = RESID_MAX_PAGES / RESID_WINDOWS;
	CHECK(p == RESID_MAX_PAGES && c + w >= RESID_MAX_PAGES / 4 && c <= RESID_MAX_PAGES / 4 + w);
	if (have_cachestat) {
		CHECK(resid_range_with(RESID_CACHESTAT, fd, 0, size, &c, &p) == 0);
		CHECK(p == pages && c == pages / 4);
	}
	/* The default method answers for the same range. */
	CHECK(resid_range(fd, 0, size, &c, &p) == 0 && c > 0 && c <= p);
	drop(fd);
	close(fd);
}

int main(void)
{
	test_args();
	if (test_small())
		test_sampled();
	unlink(small_name);
	unlink(sparse_name);
	printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
