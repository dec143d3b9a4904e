/* ftab: the ring's sparse registered file table.
 *
 * Slots [0, reserved) are ours to fill (pipes); the kernel allocates the rest
 * (IORING_FILE_INDEX_ALLOC) for accepted sockets and opened files, so no
 * user-space slot allocator is needed on the hot path. */
#ifndef RS_FTAB_H
#define RS_FTAB_H

struct ring;

/* Register `total` empty slots and hand [reserved, total) to the kernel's
 * allocator. 0 or -errno (-EMFILE when total exceeds RLIMIT_NOFILE). */
int ftab_init(struct ring *r, unsigned reserved, unsigned total);

/* Install fd in our slot `slot` (the table holds its own reference; the
 * caller may keep or close fd). 0 or -errno. */
int ftab_set(struct ring *r, unsigned slot, int fd);

#endif
