#include "fcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* FNV-1a over the path and the coding. */
static uint32_t hash_of(const char *p, size_t len, unsigned coding)
{
	uint32_t h = 2166136261u ^ coding;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static void lru_unlink(struct fcache_entry *e)
{
	e->lprev->lnext = e->lnext;
	e->lnext->lprev = e->lprev;
	e->lprev = e->lnext = e;
}

static void lru_push_front(struct fcache *fc, struct fcache_entry *e)
{
	e->lnext = fc->lru.lnext;
	e->lprev = &fc->lru;
	fc->lru.lnext->lprev = e;
	fc->lru.lnext = e;
}

int fcache_init(struct fcache *fc, unsigned count, size_t data_size, unsigned validity,
		void (*close_fd)(void *ctx, int32_t fd), void *ctx)
{
	memset(fc, 0, sizeof(*fc));
	fc->lru.lprev = fc->lru.lnext = &fc->lru;
	fc->validity = validity;
	fc->close_fd = close_fd;
	fc->ctx = ctx;
	if (count == 0)
		return 0;
	fc->nbuckets = 1;
	while (fc->nbuckets < count * 2)
		fc->nbuckets <<= 1;
	fc->entries = calloc(count, sizeof(*fc->entries));
	fc->buckets = calloc(fc->nbuckets, sizeof(*fc->buckets));
	if (!fc->entries || !fc->buckets)
		goto nomem;
	if (data_size) {
		/* Only the pages of files actually cached become resident. */
		fc->arena = mmap(NULL, (size_t)count * data_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (fc->arena == MAP_FAILED) {
			fc->arena = NULL;
			goto nomem;
		}
	}
	fc->count = count;
	fc->data_size = data_size;
	for (unsigned i = 0; i < count; i++) {
		struct fcache_entry *e = &fc->entries[i];
		e->data = fc->arena ? fc->arena + (size_t)i * data_size : NULL;
		e->fd = -1;
		e->lprev = e->lnext = e;
		e->hnext = fc->free;
		fc->free = e;
	}
	return 0;
nomem:
	free(fc->entries);
	free(fc->buckets);
	memset(fc, 0, sizeof(*fc));
	return -ENOMEM;
}

static void unmap(struct fcache_entry *e)
{
	if (e->map)
		munmap((void *)e->map, (size_t)e->size);
	e->map = NULL;
}

const char *fcache_map(struct fcache_entry *e)
{
	if (e->map || e->fd < 0 || e->kind != FC_FILE || e->size == 0)
		return e->map;
	void *p = mmap(NULL, (size_t)e->size, PROT_READ, MAP_SHARED, e->fd, 0);
	if (p != MAP_FAILED)
		e->map = p;
	return e->map;
}

void fcache_free(struct fcache *fc)
{
	for (unsigned i = 0; i < fc->count; i++)
		unmap(&fc->entries[i]);
	if (fc->arena)
		munmap(fc->arena, (size_t)fc->count * fc->data_size);
	free(fc->entries);
	free(fc->buckets);
	memset(fc, 0, sizeof(*fc));
}

static struct fcache_entry **bucket_of(struct fcache *fc, uint32_t h)
{
	return &fc->buckets[h & (fc->nbuckets - 1)];
}

/* Give an unpinned, unhashed entry back: its descriptor is closed. */
static void release(struct fcache *fc, struct fcache_entry *e)
{
	unmap(e);
	if (e->fd >= 0)
		fc->close_fd(fc->ctx, e->fd);
	e->fd = -1;
	e->hot_ms = 0;
	e->has_data = e->has_validators = false;
	e->tail.len = 0;
	e->dead = false;
	e->kind = FC_NONE;
	lru_unlink(e);
	e->hnext = fc->free;
	fc->free = e;
}

/* Take e out of the hash; free it now or when its last user lets go. */
static void retire(struct fcache *fc, struct fcache_entry *e)
{
	struct fcache_entry **pp = bucket_of(fc, e->hash);

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	if (e->refs == 0)
		release(fc, e);
	else
		e->dead = true;
}

struct fcache_entry *fcache_find(struct fcache *fc, const char *path, size_t len,
				 unsigned coding, uint64_t now, bool *fresh)
{
	*fresh = false;
	if (!fc->count || len >= FCACHE_PATH_MAX)
		return NULL;
	uint32_t h = hash_of(path, len, coding);
	for (struct fcache_entry *e = *bucket_of(fc, h); e; e = e->hnext) {
		if (e->hash == h && e->coding == coding && e->path_len == len &&
		    memcmp(e->path, path, len) == 0) {
			*fresh = now < e->validated + fc->validity;
			if (*fresh) {
				lru_unlink(e);
				lru_push_front(fc, e);
			}
			return e;
		}
	}
	return NULL;
}

/* A free entry, evicting the least recently used unpinned one if needed. */
static struct fcache_entry *take_entry(struct fcache *fc)
{
	if (!fc->free) {
		for (struct fcache_entry *e = fc->lru.lprev; e != &fc->lru; e = e->lprev) {
			if (e->refs == 0) {
				retire(fc, e);
				break;
			}
		}
	}
	struct fcache_entry *e = fc->free;
	if (e)
		fc->free = e->hnext;
	return e;
}

static bool same_file(const struct fcache_entry *e, unsigned kind, uint64_t size,
		      uint64_t ino, struct timespec mtime)
{
	return e->kind == kind && e->size == size && e->ino == ino &&
	       e->mtime.tv_sec == mtime.tv_sec && e->mtime.tv_nsec == mtime.tv_nsec;
}

struct fcache_entry *fcache_update(struct fcache *fc, const char *path, size_t len,
				   unsigned coding, unsigned kind, uint64_t size, uint64_t ino,
				   struct timespec mtime, uint64_t now)
{
	bool fresh;
	struct fcache_entry *e = fcache_find(fc, path, len, coding, now, &fresh);

	if (e && same_file(e, kind, size, ino, mtime)) {
		e->validated = now;
		lru_unlink(e);
		lru_push_front(fc, e);
		return e;
	}
	if (e)
		retire(fc, e);
	if (!fc->count || len >= FCACHE_PATH_MAX)
		return NULL;
	e = take_entry(fc);
	if (!e)
		return NULL;
	e->hash = hash_of(path, len, coding);
	e->coding = (uint8_t)coding;
	e->kind = (uint8_t)kind;
	e->path_len = (uint16_t)len;
	memcpy(e->path, path, len);
	e->size = size;
	e->ino = ino;
	e->mtime = mtime;
	e->validated = now;
	e->refs = 0;
	e->fd = -1;
	e->hot_ms = 0;
	e->has_data = e->has_validators = false;
	e->tail.len = 0;
	e->dead = false;
	struct fcache_entry **b = bucket_of(fc, e->hash);
	e->hnext = *b;
	*b = e;
	lru_push_front(fc, e);
	return e;
}

void fcache_get(struct fcache_entry *e)
{
	e->refs++;
}

void fcache_put(struct fcache *fc, struct fcache_entry *e)
{
	if (--e->refs == 0 && e->dead)
		release(fc, e);
}
