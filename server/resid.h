/* resid: how much of a byte range of a file is in the page cache.
 *
 * direct.c reads a large file with O_DIRECT only when it is cold, so it
 * must ask the kernel what is cached, on every kernel ringserve runs on:
 * cachestat(2) where it exists (Linux 6.5), else mincore(2) on a short-lived
 * read-only shared mapping of the range. Neither reads, faults in or
 * reorders a page. */
#ifndef RS_RESID_H
#define RS_RESID_H

#include <stdbool.h>
#include <stdint.h>

enum resid_method { RESID_CACHESTAT = 0, RESID_MINCORE };

/* Ranges longer than this many pages are sampled by mincore: that many
 * pages in RESID_WINDOWS evenly spaced windows, so a warm 1 GiB file costs
 * about what a 16 MiB one does (a page-cache lookup per page). */
#define RESID_MAX_PAGES 4096u
#define RESID_WINDOWS 64u

/* Pick the method once, before the workers start: cachestat when the
 * kernel has it and allow_cachestat is set (RINGSERVE_DISABLE=cachestat
 * clears it to exercise the fallback), else mincore. */
void resid_init(bool allow_cachestat);

enum resid_method resid_method(void);
const char *resid_method_name(enum resid_method m);

/* Of the pages covering [off, off + len), *pages were examined and *cached
 * of those are in the page cache (cachestat: every page; mincore: all of
 * them up to RESID_MAX_PAGES, else a sample of that many). fd is an
 * ordinary descriptor of a regular file (O_DIRECT is fine). 0, or -errno
 * (len 0 is -EINVAL; a file that cannot be mapped gives mmap's error). */
int resid_range(int fd, uint64_t off, uint64_t len, uint64_t *cached, uint64_t *pages);

/* The same with an explicit method, for tests comparing the two. */
int resid_range_with(enum resid_method m, int fd, uint64_t off, uint64_t len,
		     uint64_t *cached, uint64_t *pages);

#endif
