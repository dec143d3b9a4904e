/* authlim: failed logins per client address in a fixed window.
 *
 * Each client (by a keyed hash of its address) counts its failures from
 * the first one; once `limit` have failed within the window, further
 * attempts wait until the window ends. A fixed array of 4-way sets: a
 * flood of new addresses evicts the oldest windows, never allocates. Not
 * locked: the caller serializes (authpool.c holds a mutex). */
#ifndef RS_AUTHLIM_H
#define RS_AUTHLIM_H

#include <stdint.h>

struct authlim_ent {
	uint64_t key;
	uint64_t start;   /* ms of the window's first failure */
	uint32_t count;   /* 0: empty */
};

struct authlim {
	struct authlim_ent *e;
	unsigned mask;    /* entries - 1, 0: off */
	unsigned limit;
	uint64_t window_ms;
};

/* entries rounded up to a power of two (at least 4); limit 0: off. */
int authlim_init(struct authlim *l, unsigned entries, unsigned limit, uint64_t window_ms);
void authlim_free(struct authlim *l);

/* 0 when key may try now, else the ms until it may. */
uint64_t authlim_wait(const struct authlim *l, uint64_t key, uint64_t now_ms);

/* key failed once more at now_ms. */
void authlim_fail(struct authlim *l, uint64_t key, uint64_t now_ms);

#endif
