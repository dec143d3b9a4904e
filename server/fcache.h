/* fcache: per-worker open-file cache.
 *
 * Maps a path (relative to the root) and a content coding to what statx
 * said about it, the descriptor it is open on, its ETag and media type
 * and, for small files, its bytes. A hit answers a request with no statx,
 * no open and (for small files) no read. Entries are trusted for
 * --cache-validity seconds, then revalidated with a statx: unchanged files
 * keep their descriptor, changed ones get a new entry. Negative entries record
 * that a precompressed sidecar does not exist, so clients that accept
 * br/zstd/gzip do not cost three lookups per request.
 *
 * Entries in use by a response are pinned (refs); eviction takes the least
 * recently used unpinned one. Nothing here touches the ring: descriptors of
 * retired entries go to the caller's close callback once unpinned. */
#ifndef RS_FCACHE_H
#define RS_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resp.h"

#define FCACHE_PATH_MAX 256  /* longer paths are not cached */
#define FCACHE_ETAG_MAX 64

enum fcache_kind { FC_NONE = 0, FC_FILE, FC_DIR };

struct fcache_entry {
	struct fcache_entry *hnext;          /* hash chain */
	struct fcache_entry *lprev, *lnext;  /* LRU, most recent first */
	uint32_t hash;
	uint16_t path_len;
	uint8_t coding;      /* 0: the file itself; 1 + enum cond_coding: a sidecar */
	uint8_t kind;        /* enum fcache_kind; FC_NONE = known not to exist */
	bool dead;           /* replaced or evicted while pinned */
	bool has_data;       /* data[] holds the whole file */
	bool has_validators; /* etag and last_modified are filled in (by the user) */
	int32_t fd;          /* open descriptor, -1 while not opened */
	uint64_t hot_ms;     /* when the whole file was last seen in the page cache */
	uint32_t refs;
	uint64_t validated;  /* clock (s) of the last statx */
	uint64_t size, ino;
	struct timespec mtime;
	char *data;          /* room for --cache-file-size bytes */
	const char *map;     /* the whole file mapped read-only (fcache_map), or NULL */
	char etag[FCACHE_ETAG_MAX];  /* the response's ETag, formatted once */
	char last_modified[32];      /* and its Last-Modified */
	struct resp_tail tail;       /* a 200's fields, kept by the user (resp.h) */
	char path[FCACHE_PATH_MAX];
};

struct fcache {
	struct fcache_entry *entries;
	unsigned count;
	struct fcache_entry **buckets;
	unsigned nbuckets;          /* power of two */
	struct fcache_entry *free;  /* via hnext */
	struct fcache_entry lru;    /* sentinel */
	char *arena;                /* count * data_size bytes, touched lazily */
	size_t data_size;
	unsigned validity;          /* seconds */
	void (*close_fd)(void *ctx, int32_t fd);
	void *ctx;
};

/* count 0 disables the cache (every lookup misses, inserts fail).
 * close_fd(ctx, fd) is called for each descriptor the cache lets go of. */
int fcache_init(struct fcache *fc, unsigned count, size_t data_size, unsigned validity,
		void (*close_fd)(void *ctx, int32_t fd), void *ctx);
void fcache_free(struct fcache *fc);

/* The entry for path/coding if it exists, whether fresh or not (NULL if
 * none). *fresh says whether it may be used without a statx at `now`. */
struct fcache_entry *fcache_find(struct fcache *fc, const char *path, size_t len,
				 unsigned coding, uint64_t now, bool *fresh);

/* Record a statx result for path/coding at `now`: kind, and for files size,
 * inode and mtime. An existing entry describing the same file (same inode,
 * size and mtime) is refreshed and returned with its descriptor and data; a
 * different one is retired (its descriptor queued for closing once unpinned) and
 * a new entry takes its place. NULL when the path is too long or every
 * entry is pinned. */
struct fcache_entry *fcache_update(struct fcache *fc, const char *path, size_t len,
				   unsigned coding, unsigned kind, uint64_t size, uint64_t ino,
				   struct timespec mtime, uint64_t now);

/* The file of a FC_FILE entry mapped whole, read-only and shared (the page
 * cache itself), made at the first call and kept until the entry goes; NULL
 * when it cannot be (no descriptor, empty, mmap failed). For HTTPS bodies
 * encrypted in user space: read from here, they need no copy into a buffer
 * first. A file truncated under the mapping makes its lost pages raise
 * SIGBUS: readers guard against that (tls.c). */
const char *fcache_map(struct fcache_entry *e);

/* Pin / unpin an entry for the duration of a response. */
void fcache_get(struct fcache_entry *e);
void fcache_put(struct fcache *fc, struct fcache_entry *e);

#endif
