/* authcache: credentials verified recently, per worker.
 *
 * Entries are 128-bit keyed hashes of user, password and the stored hash
 * (never the password itself), each with the time it stops counting. A
 * fixed array of 4-way sets: no allocation after init, and an entry is
 * found or placed in at most four probes. A hit lets a request through
 * without running the (deliberately slow) password hash again. */
#ifndef RS_AUTHCACHE_H
#define RS_AUTHCACHE_H

#include <stdbool.h>
#include <stdint.h>

struct authcache_ent {
	uint64_t k0, k1;
	uint64_t expires; /* ms; 0: empty */
};

struct authcache {
	struct authcache_ent *e;
	unsigned mask;    /* entries - 1 (a power of two, at least 4), 0: off */
	uint64_t ttl_ms;
};

/* entries rounded up to a power of two (at least 4); 0 entries or a ttl
 * of 0 leaves the cache off (never a hit). 0 or -ENOMEM. */
int authcache_init(struct authcache *c, unsigned entries, unsigned ttl_sec);
void authcache_free(struct authcache *c);

bool authcache_hit(const struct authcache *c, const uint64_t k[2], uint64_t now_ms);

/* Remember k until now + ttl: replaces k itself, else an empty or expired
 * way of its set, else the way that expires first. */
void authcache_put(struct authcache *c, const uint64_t k[2], uint64_t now_ms);

#endif
