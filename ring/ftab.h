/* ftab: the ring's sparse registered file table.
 *
 * Every slot has a fixed owner chosen by the caller (the worker puts its
 * pipes first, then one slot per connection at the connection's index), so
 * no slot allocator is needed on the hot path and nothing is left to the
 * kernel's allocator. */
#ifndef RS_FTAB_H
#define RS_FTAB_H

struct ring;

/* Register `total` empty slots. 0 or -errno (-EMFILE when total exceeds
 * RLIMIT_NOFILE). */
int ftab_init(struct ring *r, unsigned total);

/* Install fd in our slot `slot` (the table holds its own reference; the
 * caller may keep or close fd). 0 or -errno. */
int ftab_set(struct ring *r, unsigned slot, int fd);

#endif
