/* nofile: see nofile.h. */
#include "nofile.h"
#include "worker.h"

#include <stdio.h>

/* The smallest useful worker: this many connections and file descriptors. */
#define MIN_CONNS 4
#define MIN_FILES 4

struct note {
	char *p;
	size_t cap, len;
};

static void say(struct note *n, const char *what, unsigned long long from, unsigned long long to)
{
	if (n->len >= n->cap)
		return;
	int k = snprintf(n->p + n->len, n->cap - n->len, "%s%s %llu -> %llu",
			 n->len ? ", " : "", what, from, to);
	if (k > 0)
		n->len += (size_t)k;
}

static void shrink(struct note *n, const char *what, unsigned *v, rlim_t max)
{
	if (*v > max) {
		say(n, what, *v, max);
		*v = (unsigned)max;
	}
}

void nofile_fit(struct config *cfg, rlim_t nofile, char *note, size_t cap)
{
	struct note n = { note, cap, 0 };
	/* Each worker holds its own descriptor of every listener. */
	rlim_t per_worker = NOFILE_PER_WORKER + (cfg->nbinds > 1 ? cfg->nbinds - 1 : 0);
	rlim_t per_min = MIN_CONNS + MIN_FILES + per_worker;

	note[0] = '\0';
	/* Enough descriptors for every worker, or fewer workers. */
	rlim_t tmax = nofile > NOFILE_FIXED + per_min ? (nofile - NOFILE_FIXED) / per_min : 1;
	shrink(&n, "threads", &cfg->threads, tmax);
	rlim_t per = (nofile > NOFILE_FIXED ? nofile - NOFILE_FIXED : 0) / cfg->threads;
	per = per > per_worker ? per - per_worker : 0;
	if (per < MIN_CONNS + MIN_FILES)
		per = MIN_CONNS + MIN_FILES;

	/* Files: the cache takes at most a sixteenth of a worker's share (a
	 * quarter under a generous limit, where connections have plenty);
	 * opens in flight beyond the cache another sixteenth (at most 1024).
	 * Running out there answers 503 for that request, it never stalls
	 * the worker. */
	shrink(&n, "cache entries", &cfg->cache_entries, per >= 4096 ? per / 4 : per / 16);
	rlim_t opens = per / 16 < MIN_FILES ? MIN_FILES : per / 16 > 1024 ? 1024 : per / 16;
	shrink(&n, "O_DIRECT transfers", &cfg->direct_transfers, opens / 2);
	rlim_t conns = per - cfg->cache_entries - opens;

	/* The fixed table: pipes first, then a slot per connection. */
	rlim_t table = nofile;
	if (cfg->max_conns == 0)
		cfg->max_conns = (unsigned)(conns > 65536 ? 65536 : conns);
	else
		shrink(&n, "connections/thread", &cfg->max_conns, conns);
	if (cfg->max_conns > table - 2)
		shrink(&n, "connections/thread", &cfg->max_conns, table - 2);
	rlim_t pipes = (table - cfg->max_conns - 2) / 2;
	shrink(&n, "pipes", &cfg->pipe_count, pipes);
}
