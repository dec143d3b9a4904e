/* authcache: a set-associative table of verified credential hashes. */
#include "authcache.h"

#include <errno.h>
#include <stdlib.h>

#define WAYS 4

int authcache_init(struct authcache *c, unsigned entries, unsigned ttl_sec)
{
	unsigned n = WAYS;

	c->e = NULL;
	c->mask = 0;
	c->ttl_ms = (uint64_t)ttl_sec * 1000;
	if (!entries || !ttl_sec)
		return 0;
	while (n < entries && n < (1u << 30))
		n <<= 1;
	c->e = calloc(n, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	c->mask = n - 1;
	return 0;
}

void authcache_free(struct authcache *c)
{
	free(c->e);
	c->e = NULL;
	c->mask = 0;
}

static struct authcache_ent *set_of(const struct authcache *c, const uint64_t k[2])
{
	return &c->e[(unsigned)k[0] & c->mask & ~(unsigned)(WAYS - 1)];
}

bool authcache_hit(const struct authcache *c, const uint64_t k[2], uint64_t now_ms)
{
	if (!c->mask)
		return false;
	const struct authcache_ent *s = set_of(c, k);
	for (int i = 0; i < WAYS; i++)
		if (s[i].k0 == k[0] && s[i].k1 == k[1] && s[i].expires > now_ms)
			return true;
	return false;
}

void authcache_put(struct authcache *c, const uint64_t k[2], uint64_t now_ms)
{
	if (!c->mask)
		return;
	struct authcache_ent *s = set_of(c, k), *v = &s[0];
	for (int i = 0; i < WAYS; i++) {
		if (s[i].k0 == k[0] && s[i].k1 == k[1]) {
			v = &s[i];
			break;
		}
		if (s[i].expires < v->expires)
			v = &s[i]; /* empty (0) and expired ways sort first */
	}
	v->k0 = k[0];
	v->k1 = k[1];
	v->expires = now_ms + c->ttl_ms;
}
