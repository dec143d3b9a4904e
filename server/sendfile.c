/* sendfile: see sendfile.h. */
#include "sendfile.h"
#include "conn.h"
#include "resid.h"
#include "worker.h"

#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* A whole file found resident is trusted for this long before it is
 * checked again: one check per file per tick instead of one per response.
 * An eviction inside the window costs at worst a short blocking read. */
#define HOT_TRUST_MS 250

/* Every page of [off, off + len) is in the page cache (sampled by
 * resid for long ranges without cachestat). */
static bool resident(int fd, uint64_t off, uint64_t len)
{
	uint64_t cached, pages;

	if (len == 0)
		return true;
	return resid_range(fd, off, len, &cached, &pages) == 0 && cached == pages;
}

bool sendfile_wanted(struct worker *w, struct conn *c, bool forced)
{
	struct fcache_entry *e = c->fce;

	if (forced)
		return true;
	if (c->end - c->off < w->cfg->sendfile_min)
		return false;
	/* Pipelined requests are answered from memory, together: a file
	 * the cache keeps in memory is read once for them, then sent from
	 * there. A lone request costs less by sendfile (no copy at all). */
	if (e && conn_pipelined(c) && e->size <= w->fcache.data_size &&
	    c->send_len + e->size <= w->bufs.size)
		return false;
	/* A cached file is checked whole, so every range of it is covered. */
	if (e && e->fd == c->file) {
		if (e->hot_ms && w->now_ms - e->hot_ms < HOT_TRUST_MS)
			return true;
		if (!resident(c->file, 0, e->size))
			return false;
		e->hot_ms = w->now_ms;
		return true;
	}
	return c->nparts == 1 && resident(c->file, c->off, c->end - c->off);
}

void sendfile_start(struct worker *w, struct conn *c)
{
	c->state = CS_SENDFILE;
	conn_send_head(w, c, OP_SF_HEAD, 0);
	conn_touch(w, c);
}

void sendfile_head_done(struct worker *w, struct conn *c, int res)
{
	if (res < 0 || (uint32_t)res != c->send_len) {
		conn_close(w, c);
		return;
	}
	sendfile_pump(w, c);
}

/* This body had its share of the loop turn: a NOP brings it back in the
 * next one, after the completions that came meanwhile (small requests
 * included) have been served. */
static void yield_turn(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_nop(sqe);
	conn_tag(w, c, sqe, OP_PUMP);
}

void sendfile_pump(struct worker *w, struct conn *c)
{
	/* A fast reader keeps the socket writable: without a bound, one
	 * call after another would fill it for as long as the reader keeps
	 * up, and every other connection would wait for that. */
	uint64_t turn = w->cfg->turn_bytes ? w->cfg->turn_bytes : UINT64_MAX;

	while (c->off < c->end) {
		if (turn == 0) {
			yield_turn(w, c);
			return;
		}
		uint64_t left = c->end - c->off;
		uint64_t want = left < turn ? left : turn;
		size_t n = (size_t)pace_allow(w, c, want < (1u << 30) ? want : (1u << 30));
		if (n == 0)
			return; /* paced: the timeout resumes here */
		off_t off = (off_t)c->off;
		ssize_t r = sendfile(c->fd, c->file, &off, n);

		if (r > 0) {
			c->off += (uint64_t)r;
			c->tx += (uint64_t)r;
			turn -= (uint64_t)r;
			pace_sent(c, (uint64_t)r);
			conn_touch(w, c);
			if ((size_t)r < n) {
				/* Short: the socket is full. Waiting now saves the
				 * call that would only say EAGAIN. */
				conn_wait_writable(w, c);
				return;
			}
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			conn_wait_writable(w, c);
			return;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* 0: the file shrank under us; else the peer is gone. */
		conn_close(w, c);
		return;
	}
	conn_body_done(w, c);
}
