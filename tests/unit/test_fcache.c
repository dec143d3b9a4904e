/* fcache: hits, validity, revalidation, replacement, pinning, eviction. */
#include "fcache.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static int closed[64], nclosed;

static void on_close(void *ctx, int32_t slot)
{
	(void)ctx;
	if (nclosed < 64)
		closed[nclosed++] = slot;
}

static struct fcache_entry *put_file(struct fcache *fc, const char *p, uint64_t ino, long mt, uint64_t now)
{
	struct timespec t = { mt, 0 };
	return fcache_update(fc, p, strlen(p), 0, FC_FILE, 100, ino, t, now);
}

int main(void)
{
	struct fcache fc;
	bool fresh;

	CHECK(fcache_init(&fc, 4, 1024, 2, on_close, NULL) == 0);
	CHECK(fcache_find(&fc, "a", 1, 0, 0, &fresh) == NULL);

	/* Insert, hit while fresh, stale after the validity. */
	struct fcache_entry *a = put_file(&fc, "a", 1, 10, 100);
	CHECK(a && a->kind == FC_FILE && a->fd == -1);
	a->fd = 7;
	CHECK(fcache_find(&fc, "a", 1, 0, 101, &fresh) == a && fresh);
	CHECK(fcache_find(&fc, "a", 1, 0, 102, &fresh) == a && !fresh);
	/* The coding is part of the key. */
	CHECK(fcache_find(&fc, "a", 1, 1, 101, &fresh) == NULL);

	/* Revalidation of the same file keeps the descriptor; a change replaces it. */
	CHECK(put_file(&fc, "a", 1, 10, 103) == a && a->fd == 7);
	CHECK(fcache_find(&fc, "a", 1, 0, 104, &fresh) == a && fresh);
	struct fcache_entry *a2 = put_file(&fc, "a", 1, 11, 105); /* mtime changed */
	CHECK(a2 != NULL && a2->fd == -1);
	CHECK(nclosed == 1 && closed[0] == 7);

	/* A pinned entry replaced is released only when unpinned. */
	a2->fd = 8;
	fcache_get(a2);
	struct fcache_entry *a3 = put_file(&fc, "a", 2, 11, 106); /* new inode */
	CHECK(a3 != a2 && nclosed == 1);
	fcache_put(&fc, a2);
	CHECK(nclosed == 2 && closed[1] == 8);

	/* Eviction takes the least recently used unpinned entry. */
	struct fcache_entry *b = put_file(&fc, "b", 3, 1, 110);
	struct fcache_entry *c = put_file(&fc, "c", 4, 1, 110);
	struct fcache_entry *d = put_file(&fc, "d", 5, 1, 110);
	CHECK(b && c && d);
	b->fd = 20;
	fcache_get(a3);                                     /* a3 is the oldest: pinned */
	CHECK(fcache_find(&fc, "c", 1, 0, 110, &fresh) == c); /* c recently used */
	struct fcache_entry *e = put_file(&fc, "e", 6, 1, 111);
	CHECK(e != NULL);
	CHECK(fcache_find(&fc, "b", 1, 0, 111, &fresh) == NULL); /* b evicted */
	CHECK(nclosed == 3 && closed[2] == 20);
	CHECK(fcache_find(&fc, "a", 1, 0, 111, &fresh) == a3);   /* pinned one kept */
	fcache_put(&fc, a3);

	/* Negative entries and long paths. */
	struct timespec z = { 0, 0 };
	struct fcache_entry *n = fcache_update(&fc, "x.gz", 4, 3, FC_NONE, 0, 0, z, 120);
	CHECK(n && n->kind == FC_NONE);
	CHECK(fcache_find(&fc, "x.gz", 4, 3, 121, &fresh) == n && fresh);
	char longp[FCACHE_PATH_MAX + 1];
	memset(longp, 'p', sizeof(longp));
	CHECK(fcache_update(&fc, longp, sizeof(longp), 0, FC_FILE, 1, 1, z, 120) == NULL);

	/* Every entry pinned: no room, nothing breaks. */
	struct fcache_entry *all[4];
	for (int i = 0; i < 4; i++) {
		char p[2] = { (char)('k' + i), 0 };
		all[i] = put_file(&fc, p, 100 + i, 1, 130);
		CHECK(all[i] != NULL);
		fcache_get(all[i]);
	}
	CHECK(put_file(&fc, "z", 9, 1, 131) == NULL);
	for (int i = 0; i < 4; i++)
		fcache_put(&fc, all[i]);
	CHECK(put_file(&fc, "z", 9, 1, 131) != NULL);
	fcache_free(&fc);

	/* A disabled cache misses and refuses. */
	CHECK(fcache_init(&fc, 0, 0, 1, on_close, NULL) == 0);
	CHECK(put_file(&fc, "a", 1, 1, 1) == NULL);
	CHECK(fcache_find(&fc, "a", 1, 0, 1, &fresh) == NULL);
	fcache_free(&fc);

	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
