/* nofile: fit the connection count, the open-file cache and the pipe pool
 * under RLIMIT_NOFILE.
 *
 * The limit bounds two things. The process's descriptors, shared by every
 * worker: a socket per connection, the cache's open files, opens in flight
 * (uncached files, directory checks, O_DIRECT transfers), plus a few per
 * process and per worker (rings, listeners, logs). And each worker's fixed
 * file table, which the kernel refuses beyond the limit: two slots per
 * pipe and one per connection. */
#ifndef RS_NOFILE_H
#define RS_NOFILE_H

#include <stddef.h>
#include <sys/resource.h>

#include "config.h"

/* Descriptors needed besides connections and files: stdio, the root, the
 * wake eventfd, metrics, the access log, and per worker its ring, its
 * listener and its log descriptor. */
#define NOFILE_FIXED 16
#define NOFILE_PER_WORKER 4

/* Shrink what does not fit under `nofile` (threads, cache entries, pipes,
 * O_DIRECT transfers, an explicit --max-connections) and derive the
 * connection count when it is 0. What was reduced and why goes to
 * note[0..cap) ("" when nothing was). */
void nofile_fit(struct config *cfg, rlim_t nofile, char *note, size_t cap);

#endif
