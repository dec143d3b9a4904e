/* authlim: per-client failure windows in a set-associative table. */
#include "authlim.h"

#include <errno.h>
#include <stdlib.h>

#define WAYS 4

int authlim_init(struct authlim *l, unsigned entries, unsigned limit, uint64_t window_ms)
{
	unsigned n = WAYS;

	l->e = NULL;
	l->mask = 0;
	l->limit = limit;
	l->window_ms = window_ms;
	if (!limit || !entries)
		return 0;
	while (n < entries && n < (1u << 30))
		n <<= 1;
	l->e = calloc(n, sizeof(*l->e));
	if (!l->e)
		return -ENOMEM;
	l->mask = n - 1;
	return 0;
}

void authlim_free(struct authlim *l)
{
	free(l->e);
	l->e = NULL;
	l->mask = 0;
}

static struct authlim_ent *set_of(const struct authlim *l, uint64_t key)
{
	return &l->e[(unsigned)key & l->mask & ~(unsigned)(WAYS - 1)];
}

static int live(const struct authlim *l, const struct authlim_ent *e, uint64_t now)
{
	return e->count && now < e->start + l->window_ms;
}

uint64_t authlim_wait(const struct authlim *l, uint64_t key, uint64_t now_ms)
{
	if (!l->mask)
		return 0;
	const struct authlim_ent *s = set_of(l, key);
	for (int i = 0; i < WAYS; i++)
		if (s[i].key == key && live(l, &s[i], now_ms) && s[i].count >= l->limit)
			return s[i].start + l->window_ms - now_ms;
	return 0;
}

void authlim_fail(struct authlim *l, uint64_t key, uint64_t now_ms)
{
	if (!l->mask)
		return;
	struct authlim_ent *s = set_of(l, key), *v = NULL;
	for (int i = 0; i < WAYS && !v; i++)
		if (s[i].key == key && s[i].count)
			v = &s[i];
	if (v && !live(l, v, now_ms))
		v->count = 0; /* its window passed: a new one starts */
	for (int i = 0; i < WAYS && !v; i++)
		if (!live(l, &s[i], now_ms))
			v = &s[i];
	if (!v) { /* every way is a live window: drop the oldest */
		v = &s[0];
		for (int i = 1; i < WAYS; i++)
			if (s[i].start < v->start)
				v = &s[i];
	}
	if (v->key != key || !v->count) {
		v->key = key;
		v->count = 0;
		v->start = now_ms;
	}
	if (v->count < UINT32_MAX)
		v->count++;
}
