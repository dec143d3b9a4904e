/* authgate: credentials on the worker; verification off it. */
#include "authgate.h"
#include "auth.h"
#include "authpool.h"
#include "conn.h"
#include "log.h"
#include "siphash.h"
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void arm_read(struct worker *w)
{
	struct authgate *g = w->auth;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	/* A blocking eventfd: the ring polls it and reads once it is
	 * written, without an io-wq thread. */
	struct authpool_outbox *o = &g->pool->out[w->id];

	io_uring_prep_read(sqe, o->efd, &o->ev, sizeof(o->ev), 0);
	io_uring_sqe_set_data64(sqe, ring_ud(OP_AUTH, 0, 0));
}

static void random_keys(uint64_t (*k)[2])
{
	if (getrandom(k, 2 * sizeof(*k), 0) == (ssize_t)(2 * sizeof(*k)))
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (size_t i = 0; i < 4; i++)
		k[i / 2][i % 2] = ((uint64_t)ts.tv_nsec + i) * 0x9e3779b97f4a7c15ull ^ (uintptr_t)k;
}

/* Take the table main published last, and say so. */
static void adopt(struct worker *w)
{
	struct authgate *g = w->auth;
	uint32_t gen = atomic_load_explicit(&g->pool->gen, memory_order_acquire);

	if (gen == g->gen)
		return;
	g->users = atomic_load_explicit(&g->pool->users, memory_order_acquire);
	g->gen = gen;
	atomic_store_explicit(&g->pool->out[w->id].acked, gen, memory_order_release);
}

int authgate_init(struct worker *w)
{
	struct authpool *p = w->srv->auth;
	struct authgate *g;

	if (!p)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	w->auth = g;
	g->pool = p;
	g->gen = 0; /* adopt() takes the current table */
	adopt(w);
	random_keys(g->key);
	int r = authcache_init(&g->cache, w->cfg->auth_cache_entries, w->cfg->auth_cache_ttl);
	if (r)
		return r;
	arm_read(w);
	return 0;
}

void authgate_free(struct worker *w)
{
	struct authgate *g = w->auth;

	if (!g)
		return;
	atomic_store_explicit(&g->pool->out[w->id].acked, AUTHPOOL_GONE, memory_order_release);
	authcache_free(&g->cache);
	explicit_bzero(g, sizeof(*g));
	free(g);
	w->auth = NULL;
}

/* ---- the step ------------------------------------------------------------ */

/* The one Authorization field; NULL when there is none, *twice when
 * there are several (refused: which one a proxy looked at is unknown). */
static const struct http_header *authorization(const struct http_request *req, bool *twice)
{
	const struct http_header *found = NULL;

	*twice = false;
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name.len != 13 || strncasecmp(h->name.p, "authorization", 13) != 0)
			continue;
		*twice = found != NULL;
		found = h;
	}
	return found;
}

/* 128 bits of keyed hash over user, password and the stored hash: a
 * password change (a reload) makes old entries miss. */
static void cache_key(const struct authgate *g, const struct auth_cred *cr,
		      const struct auth_user *u, uint64_t k[2])
{
	char buf[AUTH_USER_MAX + AUTH_PASS_MAX + AUTH_HASH_MAX + 3];
	size_t n = 0;

	memcpy(buf, cr->user, cr->user_len);
	n += cr->user_len;
	buf[n++] = '\0';
	memcpy(buf + n, cr->pass, cr->pass_len);
	n += cr->pass_len;
	buf[n++] = '\0';
	memcpy(buf + n, u->hash, u->hash_len);
	n += u->hash_len;
	k[0] = siphash24(g->key[0], buf, n);
	k[1] = siphash24(g->key[1], buf, n);
	explicit_bzero(buf, n);
}

static void challenge(struct worker *w, struct conn *c)
{
	conn_error(w, c, 401, false, w->auth->pool->challenge);
}

static void retry_after(struct worker *w, struct conn *c, int status, unsigned secs)
{
	char extra[48];

	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", secs ? secs : 1);
	conn_error(w, c, status, false, extra);
}

/* The job is queued: wait for its result without a response buffer (the
 * request is parsed again when it comes back), under the send timeout. */
static void wait_verdict(struct worker *w, struct conn *c)
{
	if (c->buf >= 0) {
		rbuf_put(&w->bufs, c->buf);
		c->buf = -1;
	}
	c->discard = 0; /* set again by the second pass */
	c->state = CS_AUTH;
	conn_touch(w, c);
}

/* Queue the verification: 0, or -EBUSY when the queue is full. */
static int submit(struct worker *w, struct conn *c, const struct auth_cred *cr,
		  const struct auth_user *u, const uint64_t key[2])
{
	struct authgate *g = w->auth;
	struct authpool_job j;

	j.slot = (uint32_t)(c - w->conns);
	j.gen = c->gen;
	j.key[0] = key[0];
	j.key[1] = key[1];
	j.ok = false;
	/* An unknown user costs a hash too, so that timing does not tell
	 * which names exist. */
	j.dummy = u == NULL;
	memcpy(j.pass, cr->pass, cr->pass_len + 1);
	const struct auth_user *h = u ? u : &g->users->v[0];
	memcpy(j.hash, h->hash, (size_t)h->hash_len + 1);
	int r = authpool_submit(g->pool, w->id, &j);
	explicit_bzero(j.pass, sizeof(j.pass));
	return r;
}

/* Credentials are present and well formed: cached, limited, or queued. */
static bool verify(struct worker *w, struct conn *c, const struct auth_cred *cr)
{
	struct authgate *g = w->auth;
	const struct auth_user *u = auth_users_find(g->users, cr->user, cr->user_len);
	uint64_t key[2] = { 0, 0 };

	if (u) {
		cache_key(g, cr, u, key);
		if (authcache_hit(&g->cache, key, w->now_ms)) {
			stat_add(&w->st.auth_cache_hits, 1);
			c->auth = AG_PASS;
			return true;
		}
	}
	unsigned wait = authpool_fail_wait(g->pool, &c->peer, w->now_ms);
	if (wait) {
		stat_add(&w->st.auth_limited, 1);
		retry_after(w, c, 429, wait);
		return false;
	}
	if (conn_defer(w, c))
		return false; /* after the pipelined batch: nothing done yet */
	if (submit(w, c, cr, u, key)) {
		stat_add(&w->st.auth_busy, 1);
		retry_after(w, c, 503, 1);
		return false;
	}
	wait_verdict(w, c);
	return false;
}

bool authgate_check(struct worker *w, struct conn *c, const struct http_request *req,
		    const char *path, size_t n)
{
	struct authgate *g = w->auth;
	char buf[AUTH_CRED_CAP + 1];
	struct auth_cred cr;
	bool twice;

	/* CORS preflights never carry credentials (Fetch spec). */
	if (!g || req->method == HTTP_M_OPTIONS || !authpool_covers(g->pool, path, n))
		return true;
	adopt(w);
	if (c->auth == AG_PASS)
		return true;
	if (c->auth == AG_FAIL) {
		challenge(w, c);
		return false;
	}
	const struct http_header *h = authorization(req, &twice);
	if (!h || twice || auth_parse_basic(h->value.p, h->value.len, buf, &cr) != 0) {
		stat_add(&w->st.auth_challenged, 1);
		challenge(w, c);
		return false;
	}
	bool ok = verify(w, c, &cr);
	explicit_bzero(buf, sizeof(buf));
	return ok;
}

/* ---- results ------------------------------------------------------------- */

/* One result: the verdict for its connection, if that connection still
 * waits for it (not closed, its slot not reused: the generation says). */
static struct conn *verdict(struct worker *w, const struct authpool_job *j)
{
	struct authgate *g = w->auth;
	struct conn *c = j->slot < w->nconns ? &w->conns[j->slot] : NULL;

	if (!c || c->state != CS_AUTH || c->gen != j->gen)
		return NULL;
	if (j->ok) {
		stat_add(&w->st.auth_ok, 1);
		authcache_put(&g->cache, j->key, w->now_ms);
		c->auth = AG_PASS;
	} else {
		stat_add(&w->st.auth_failed, 1);
		authpool_fail_note(g->pool, &c->peer, w->now_ms);
		c->auth = AG_FAIL;
	}
	return c;
}

void authgate_complete(struct worker *w, int res)
{
	struct authgate *g = w->auth;
	unsigned n;

	if (!g)
		return;
	adopt(w); /* a reload wakes us too */
	while ((n = authpool_take(g->pool, w->id, g->idx, AUTHGATE_TAKE)) > 0) {
		unsigned nready = 0;
		for (unsigned i = 0; i < n; i++) {
			struct conn *c = verdict(w, &g->pool->jobs[g->idx[i]]);
			if (c)
				g->ready[nready++] = c;
		}
		authpool_release(g->pool, g->idx, n);
		/* Served again from the top, now with c->auth set. */
		for (unsigned i = 0; i < nready; i++)
			if (g->ready[i]->state == CS_AUTH)
				conn_resume(w, g->ready[i]);
	}
	/* Anything but a transient error would fail again at once: stop
	 * reading rather than spin (waiting requests then time out). */
	if (res < 0 && res != -EINTR && res != -EAGAIN && res != -ECANCELED) {
		log_err("worker %u: auth results: read: %s; verifications stop", w->id,
			strerror(-res));
		return;
	}
	arm_read(w);
}

size_t authgate_user(struct worker *w, struct conn *c, char *out)
{
	char buf[AUTH_CRED_CAP + 1];
	struct auth_cred cr;
	bool twice;

	out[0] = '\0';
	if (!w->auth || c->auth != AG_PASS || !c->head_len)
		return 0;
	const struct http_header *h = authorization(conn_request(w, c), &twice);
	if (!h || twice || auth_parse_basic(h->value.p, h->value.len, buf, &cr) != 0)
		return 0;
	memcpy(out, cr.user, cr.user_len + 1);
	explicit_bzero(buf, sizeof(buf));
	return cr.user_len;
}
