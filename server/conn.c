/* conn: per-connection state machine.
 *
 * Life of a request: bytes arrive (multishot recv into provided buffers,
 * copied into the connection's input buffer) -> parse -> statx -> openat2
 * into a fixed slot -> body by one of three paths:
 *   small:  READ_FIXED behind the head in the response buffer, linked to one
 *           SEND of head+body;
 *   splice: SEND head (MSG_MORE) -> SPLICE file->pipe -> SPLICE pipe->socket,
 *           linked, one pipe-sized chunk per round;
 *   read:   when no pipe is free, READ_FIXED chunk -> SEND chunk, linked.
 * Linked sends use MSG_WAITALL so a short send fails the link instead of
 * letting later bytes overtake missing ones; a short read or splice (file
 * truncated under us) fails it too, and the connection is closed, since the
 * promised Content-Length can no longer be met. */
#include "conn.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "authgate.h"
#include "hdate.h"
#include "headers.h"
#include "log.h"
#include "path.h"
#include "peer.h"
#include "resp.h"
#include "sendfile.h"
#include "serve.h"
#include "site.h"
#include "tls.h"

#define HELD_MAX 256 /* provided buffers one connection may pin before we give up on it */

static void conn_process(struct worker *w, struct conn *c);

struct scratch *conn_scratch(struct worker *w, struct conn *c)
{
	return (struct scratch *)(rbuf_addr(&w->bufs, c->buf) + w->bufs.size - sizeof(struct scratch));
}

char *conn_in(struct worker *w, struct conn *c)
{
	return w->in_arena + (size_t)c->in * w->in_size;
}

/* Tag an SQE for c and count it as in flight (one CQE ends it, or the last
 * CQE of a multishot). */
void conn_tag(struct worker *w, struct conn *c, struct io_uring_sqe *sqe, unsigned op)
{
	io_uring_sqe_set_data64(sqe, ring_ud(op, c->gen, (uint32_t)(c - w->conns)));
	c->pending++;
}

/* Let go of the response's file: the cache keeps its descriptor open. */
static void release_file(struct worker *w, struct conn *c)
{
	if (c->file >= 0 && !(c->flags & CF_FILE_CACHED))
		worker_close_fd(w, c->file);
	c->file = -1;
	c->flags &= (uint32_t)~CF_FILE_CACHED;
	if (c->fce) {
		fcache_put(&w->fcache, c->fce);
		c->fce = NULL;
	}
}

static void timer_set(struct worker *w, struct conn *c, enum timer_kind k, unsigned secs)
{
	c->tkind = (uint8_t)k;
	timer_add(&w->timers[k], &c->tn, w->now_ms + secs * 1000ull);
}

/* ---- input ------------------------------------------------------------ */

static bool in_ensure(struct worker *w, struct conn *c)
{
	if (c->in < 0) {
		if (!w->in_nfree)
			return false;
		c->in = (int32_t)w->in_free[--w->in_nfree];
		c->in_len = 0;
	}
	return true;
}

static void in_release_if_empty(struct worker *w, struct conn *c)
{
	/* Without provided buffers a pending recv targets this buffer. */
	bool recv_into = !w->pbufs.active && (c->flags & CF_RECV_ARMED);

	if (c->in >= 0 && c->in_len == 0 && !recv_into) {
		w->in_free[w->in_nfree++] = (uint32_t)c->in;
		c->in = -1;
	}
}

static void held_push(struct worker *w, struct conn *c, unsigned bid, unsigned len)
{
	w->held_next[bid] = -1;
	w->held_len[bid] = len;
	if (c->held_tail >= 0)
		w->held_next[c->held_tail] = (int32_t)bid;
	else
		c->held_head = (int32_t)bid;
	c->held_tail = (int32_t)bid;
	c->held_count++;
	w->pbuf_held++;
}

static void held_pop(struct worker *w, struct conn *c)
{
	int32_t bid = c->held_head;

	c->held_head = w->held_next[bid];
	if (c->held_head < 0)
		c->held_tail = -1;
	c->held_count--;
	c->held_off = 0;
	w->pbuf_held--;
	pbuf_put(&w->pbufs, (unsigned)bid);
}

/* TLS: the handshake, then decrypted bytes into the input buffer. */
static void tls_refill(struct worker *w, struct conn *c)
{
	if (tls_handshake(w, c) != 1)
		return;
	while (in_ensure(w, c) && c->in_len < w->in_size) {
		int n = tls_read(w, c, conn_in(w, c) + c->in_len, w->in_size - c->in_len);
		if (n == 0)
			break;
		if (n < 0) {
			c->flags |= CF_EOF; /* close_notify or a bad record */
			break;
		}
		c->in_len += (uint32_t)n;
	}
	tls_pump(w, c); /* what reading wrote (alerts, tickets) */
}

size_t conn_held_take(struct worker *w, struct conn *c, char *dst, size_t n)
{
	size_t got = 0;

	if (c->tls && !w->pbufs.active) { /* plain recv: the ciphertext area */
		char *cin = tls_cin(w, c);
		got = n < c->tls->cin_len ? n : c->tls->cin_len;
		if (dst)
			memcpy(dst, cin, got);
		memmove(cin, cin + got, c->tls->cin_len - got);
		c->tls->cin_len -= (uint32_t)got;
		return got;
	}

	while (got < n && c->held_head >= 0) {
		unsigned bid = (unsigned)c->held_head;
		size_t k = w->held_len[bid] - c->held_off;

		if (k > n - got)
			k = n - got;
		if (dst)
			memcpy(dst + got, pbuf_addr(&w->pbufs, bid) + c->held_off, k);
		got += k;
		c->held_off += (uint32_t)k;
		if (c->held_off == w->held_len[bid])
			held_pop(w, c);
	}
	return got;
}

size_t conn_held_peek(struct worker *w, struct conn *c, unsigned char *dst, size_t n)
{
	if (c->tls && !w->pbufs.active) {
		n = n < c->tls->cin_len ? n : c->tls->cin_len;
		memcpy(dst, tls_cin(w, c), n);
		return n;
	}
	if (c->held_head < 0 || !n)
		return 0;
	unsigned bid = (unsigned)c->held_head;
	size_t k = w->held_len[bid] - c->held_off;

	k = k < n ? k : n;
	memcpy(dst, pbuf_addr(&w->pbufs, bid) + c->held_off, k);
	return k;
}

size_t conn_held_bytes(const struct worker *w, const struct conn *c)
{
	size_t n = 0;

	if (c->held_head < 0)
		return 0;
	for (int32_t b = c->held_head; b >= 0; b = w->held_next[b])
		n += w->held_len[b];
	return n - c->held_off;
}

size_t conn_held_at(const struct worker *w, const struct conn *c, size_t off,
		    const unsigned char **p)
{
	size_t skip = off + c->held_off;

	for (int32_t b = c->held_head; b >= 0; b = w->held_next[b]) {
		if (skip < w->held_len[b]) {
			*p = (const unsigned char *)pbuf_addr(&w->pbufs, (unsigned)b) + skip;
			return w->held_len[b] - skip;
		}
		skip -= w->held_len[b];
	}
	return 0;
}

void conn_held_compact(struct worker *w, struct conn *c)
{
	const size_t cap = w->pbufs.size;
	int32_t d = c->held_head, s = c->held_head;
	size_t dl = 0, so = c->held_off;

	if (s < 0)
		return;
	/* The write cursor (d, dl) never passes the read one (s, so). */
	while (s >= 0) {
		size_t avail = w->held_len[s] - so;
		int32_t next = w->held_next[s];
		while (avail) {
			if (dl == cap) {
				w->held_len[d] = (uint32_t)cap;
				d = w->held_next[d];
				dl = 0;
			}
			size_t k = avail < cap - dl ? avail : cap - dl;
			memmove(pbuf_addr(&w->pbufs, (unsigned)d) + dl,
				pbuf_addr(&w->pbufs, (unsigned)s) + so, k);
			dl += k;
			so += k;
			avail -= k;
		}
		w->held_len[d] = (uint32_t)dl;
		s = next;
		so = 0;
	}
	c->held_off = 0;
	for (int32_t b = w->held_next[d]; b >= 0;) {
		int32_t next = w->held_next[b];
		c->held_count--;
		w->pbuf_held--;
		pbuf_put(&w->pbufs, (unsigned)b);
		b = next;
	}
	w->held_next[d] = -1;
	c->held_tail = d;
}

/* Move held provided buffers into the input buffer while it has room. */
static void refill(struct worker *w, struct conn *c)
{
	if (c->tls) {
		tls_refill(w, c);
		return;
	}
	while (c->held_head >= 0 && in_ensure(w, c) && c->in_len < w->in_size) {
		unsigned bid = (unsigned)c->held_head;
		size_t n = w->held_len[bid] - c->held_off;
		size_t room = w->in_size - c->in_len;

		if (n > room)
			n = room;
		memcpy(conn_in(w, c) + c->in_len, pbuf_addr(&w->pbufs, bid) + c->held_off, n);
		c->in_len += (uint32_t)n;
		c->held_off += (uint32_t)n;
		if (c->held_off == w->held_len[bid])
			held_pop(w, c);
	}
}

static void batch_release(struct worker *w, struct conn *c);

static void cancel_recv(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_cancel64(sqe, ring_ud(OP_RECV, c->gen, (uint32_t)(c - w->conns)), 0);
	ring_untracked(sqe, OP_CANCEL);
	c->flags |= CF_RECV_STOP;
}

/* Data from provided buffer bid: copy it in, or hold it when the input
 * buffer is full (pipelined requests queue while a response is going out)
 * and stop receiving until the backlog is consumed. */
static int take_input(struct worker *w, struct conn *c, unsigned bid, unsigned len)
{
	/* TLS: ciphertext waits in the held chain, where OpenSSL reads it
	 * (tls.c's BIO); a backlog while a response is out stops the recv. */
	if (c->tls) {
		if (c->held_count >= HELD_MAX) {
			pbuf_put(&w->pbufs, bid);
			return -ENOBUFS;
		}
		held_push(w, c, bid, len);
		if (tls_needs_input(w, c)) {
			/* A record of ours not yet whole: it must arrive, in
			 * as few buffers as it fills (a client sending it in
			 * tiny pieces pins no more than that). */
			if (c->held_count > (STLS_HDR_LEN + STLS_CIPHERTEXT_MAX) / w->pbufs.size + 4)
				conn_held_compact(w, c);
		} else if (c->held_count > 4 && (c->flags & CF_RECV_ARMED) &&
			   !(c->flags & CF_RECV_STOP)) {
			cancel_recv(w, c);
		}
		return 0;
	}
	if (c->held_head < 0 && in_ensure(w, c) && w->in_size - c->in_len >= len) {
		memcpy(conn_in(w, c) + c->in_len, pbuf_addr(&w->pbufs, bid), len);
		c->in_len += len;
		pbuf_put(&w->pbufs, bid);
		return 0;
	}
	if (c->held_count >= HELD_MAX) {
		pbuf_put(&w->pbufs, bid);
		return -ENOBUFS;
	}
	held_push(w, c, bid, len);
	if ((c->flags & CF_RECV_ARMED) && !(c->flags & CF_RECV_STOP))
		cancel_recv(w, c);
	return 0;
}

void conn_rearm_recv(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->flags & (CF_RECV_ARMED | CF_EOF) || c->state == CS_CLOSING ||
	    (c->held_head >= 0 && !tls_needs_input(w, c)))
		return;
	if (w->pbufs.active) {
		if (w->pbuf_held >= w->pbufs.count) {
			if (!(c->flags & CF_NOBUF)) {
				c->flags |= CF_NOBUF;
				c->nobuf_next = w->nobuf_head;
				w->nobuf_head = c;
			}
			return;
		}
		sqe = ring_sqe(&w->ring);
		io_uring_prep_recv_multishot(sqe, c->sock, NULL, 0, 0);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
		sqe->buf_group = w->pbufs.bgid;
	} else if (c->tls) {
		if (c->tls->cin_len == w->in_size)
			return; /* the handshake or the parser makes room first */
		sqe = ring_sqe(&w->ring);
		io_uring_prep_recv(sqe, c->sock, tls_cin(w, c) + c->tls->cin_len,
				   w->in_size - c->tls->cin_len, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
	} else {
		if (!in_ensure(w, c) || c->in_len == w->in_size)
			return;
		sqe = ring_sqe(&w->ring);
		io_uring_prep_recv(sqe, c->sock, conn_in(w, c) + c->in_len,
				   w->in_size - c->in_len, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	conn_tag(w, c, sqe, OP_RECV);
	c->flags |= CF_RECV_ARMED;
	c->flags &= (uint32_t)~CF_RECV_STOP;
}

/* ---- lifecycle ---------------------------------------------------------- */

void conn_accepted(struct worker *w, int fd, const struct sockaddr *sa, unsigned lst)
{
	if (!w->nfree_conns) { /* cannot happen: accepts <= free connections */
		worker_close_fd(w, fd);
		return;
	}
	struct conn *c = &w->conns[w->free_conns[--w->nfree_conns]];
	uint32_t gen = c->gen;

	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->state = CS_IDLE;
	c->fd = fd;
	c->sock = (int32_t)(w->sock_base + (unsigned)(c - w->conns));
	c->file = c->buf = c->obuf = c->pipe = c->in = -1;
	/* Ring ops use the fixed slot (no file lookup per op), sendfile the
	 * descriptor. The update runs inline, before the recv queued after
	 * it; should it fail, that recv fails on the empty slot and the
	 * connection closes. */
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	io_uring_prep_files_update(sqe, &c->fd, 1, c->sock);
	ring_untracked(sqe, OP_INSTALL);
	c->held_head = c->held_tail = -1;
	peer_accepted(w, c, sa, lst);
	stat_add(&w->st.accepted, 1);
	timer_node_init(&c->tn);
	timer_set(w, c, TK_HEADER, w->cfg->header_timeout);
	/* HTTPS: the handshake is bounded by the header timeout too. */
	if (w->srv->listen.l[lst].tls && tls_attach(w, c) < 0) {
		conn_close(w, c);
		return;
	}
	conn_rearm_recv(w, c);
}

static void list_remove(struct conn **head, struct conn *c, size_t link_off)
{
	for (struct conn **pp = head; *pp; pp = (struct conn **)((char *)*pp + link_off)) {
		if (*pp == c) {
			*pp = *(struct conn **)((char *)c + link_off);
			return;
		}
	}
}

/* ---- accounting: metrics and the access log ---------------------------- */

/* A request (or a bad one) is being answered from now on. */
static void resp_begin(struct worker *w, struct conn *c)
{
	if (!(c->flags & CF_RESP))
		c->t0 = w->now_ms; /* a re-parse after waiting for a buffer keeps it */
	c->flags |= CF_RESP;
	c->status = 0;
	c->hlen = 0;
	c->tx = 0;
	c->spath = SP_OTHER;
	c->hdrs_on = 0; /* site headers: serve_request decides them anew */
	c->cors = CORS_OFF;
}

void conn_set_status(struct worker *w, struct conn *c, unsigned status, size_t hlen)
{
	if (!hlen) {
		const char *buf = rbuf_addr(&w->bufs, c->buf);
		const char *end = memmem(buf, w->bufs.size, "\r\n\r\n", 4);
		hlen = end ? (size_t)(end + 4 - buf) : 0;
	}
	c->status = (uint16_t)status;
	c->hlen = (uint32_t)hlen;
}

const struct http_request *conn_request(struct worker *w, struct conn *c)
{
	size_t scan = 0;

	if (w->req_conn == c)
		return &w->req;
	if (http_parse_request(conn_in(w, c), c->head_len, &scan, &w->srv->lim, &w->req) < 0)
		memset(&w->req, 0, sizeof(w->req)); /* cannot happen: it parsed before */
	w->req_conn = c;
	return &w->req;
}

static void header_field(const struct http_request *req, const char *name, const char **p,
			 size_t *n)
{
	const struct http_header *h = req ? http_find_header(req, name) : NULL;

	*p = h ? h->value.p : NULL;
	*n = h ? h->value.len : 0;
}

static void log_request(struct worker *w, struct conn *c, unsigned status)
{
	const char *in = c->in >= 0 ? conn_in(w, c) : "";
	size_t avail = c->head_len ? c->head_len : c->in >= 0 ? c->in_len : 0;
	const struct http_request *req = c->head_len ? conn_request(w, c) : NULL;
	char user[AUTH_USER_MAX + 1];
	size_t ulen = authgate_user(w, c, user);
	struct alog_entry e = {
		.peer = &c->peer,
		.req = in,
		.status = status,
		.bytes = c->tx > c->hlen ? c->tx - c->hlen : 0,
		.msec = w->now_ms - c->t0,
		.user = ulen ? user : NULL,
		.user_len = ulen,
	};

	/* The request line as received (a bad request's first line too). */
	while (e.req_len < avail && in[e.req_len] != '\r' && in[e.req_len] != '\n')
		e.req_len++;
	header_field(req, "referer", &e.referer, &e.referer_len);
	header_field(req, "user-agent", &e.agent, &e.agent_len);
	if (c->tls) {
		e.tls_version = tls_version(c);
		e.tls_cipher = tls_cipher(c);
		e.tls_resumed = tls_resumed(c);
		e.ktls = tls_ktls(c);
	}
	alog_write(&w->alog, &e, w->date_sec);
}

/* The response is over, whole or cut short: count it, log it. A client
 * that left before any head was built is logged as 499, like nginx. */
static void resp_end(struct worker *w, struct conn *c)
{
	unsigned status = c->status ? c->status : 499;

	c->flags &= (uint32_t)~CF_RESP;
	stat_add(&w->st.requests[status / 100 <= 5 ? status / 100 : 5], 1);
	stat_add(&w->st.bytes[c->spath], c->tx);
	if (w->alog.fd >= 0)
		log_request(w, c, status);
}

static void conn_free(struct worker *w, struct conn *c)
{
	if (c->flags & CF_RESP)
		resp_end(w, c);
	stat_add(&w->st.closed, 1);
	if (c->tls)
		tls_detach(w, c);
	if (c->flags & CF_DIRECT)
		direct_release(w, c);
	release_file(w, c);
	worker_close_slot(w, c->sock);
	worker_close_fd(w, c->fd);
	if (c->pipe >= 0) /* still held: a transfer cut short, maybe bytes left */
		pipes_put(&w->pipes, &w->ring, c->pipe, c->pipe_fill + 1);
	if (c->buf >= 0)
		rbuf_put(&w->bufs, c->buf);
	if (c->obuf >= 0)
		batch_release(w, c);
	free(c->heap);
	c->heap = NULL;
	while (c->held_head >= 0)
		held_pop(w, c);
	c->in_len = 0;
	in_release_if_empty(w, c);
	if (w->req_conn == c)
		w->req_conn = NULL;
	c->gen = (c->gen + 1) & 0xffffff;
	c->state = CS_FREE;
	w->free_conns[w->nfree_conns++] = (uint32_t)(c - w->conns);
	worker_conn_freed(w);
}

void conn_close(struct worker *w, struct conn *c)
{
	if (c->state == CS_CLOSING)
		return;
	timer_del(&c->tn);
	if (c->state == CS_WAITBUF) {
		list_remove(&w->wait_head, c, offsetof(struct conn, wait_next));
		w->wait_tail = NULL;
		for (struct conn *p = w->wait_head; p; p = p->wait_next)
			w->wait_tail = p;
	}
	if (c->flags & CF_NOBUF)
		list_remove(&w->nobuf_head, c, offsetof(struct conn, nobuf_next));
	pace_cancel(w, c);
	if (c->tls)
		tls_abort(w, c); /* queued sends are no longer pending */
	c->state = CS_CLOSING;
	if (c->pending == 0) {
		conn_free(w, c);
		return;
	}
	/* Shutting the socket down fails every op on it now and later (a
	 * splice still linked behind a file read included); the cancel pulls
	 * out those parked on poll. Both name the socket by its slot, and a
	 * shutdown runs in io-wq, resolving the slot only when it runs: they
	 * are counted like any op, so the slot is not closed (and handed to a
	 * new connection) before they are done. */
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	io_uring_prep_shutdown(sqe, c->sock, SHUT_RDWR);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_SHUTDOWN);
	sqe = ring_sqe(&w->ring);
	io_uring_prep_cancel_fd(sqe, c->sock, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD_FIXED);
	conn_tag(w, c, sqe, OP_CANCEL_FD);
	c->flags |= CF_CANCELLED;
}

/* Server-initiated close: shut our side, then read and drop what the client
 * still sends for a moment, so a response is not destroyed by a reset
 * triggered by unread input (lingering close). */
static void conn_linger(struct worker *w, struct conn *c)
{
	/* HTTPS: close_notify first; tls_sent comes back here once it is out. */
	if (c->tls && !(c->flags & CF_EOF) && tls_close_notify(w, c)) {
		c->state = CS_SEND; /* input waits; the send timeout bounds it */
		timer_set(w, c, TK_SEND, w->cfg->send_timeout);
		return;
	}
	if ((c->flags & CF_EOF) || w->cfg->linger_timeout == 0) {
		conn_close(w, c);
		return;
	}
	c->state = CS_LINGER;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	io_uring_prep_shutdown(sqe, c->sock, SHUT_WR);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_SHUTDOWN); /* counted: see conn_close() */
	while (c->held_head >= 0)
		held_pop(w, c);
	c->in_len = 0;
	in_release_if_empty(w, c);
	timer_set(w, c, TK_LINGER, w->cfg->linger_timeout);
	conn_rearm_recv(w, c);
}

static void release_response(struct worker *w, struct conn *c)
{
	if (c->flags & CF_DIRECT)
		direct_release(w, c);
	release_file(w, c);
	if (c->pipe >= 0) {
		pipes_put(&w->pipes, &w->ring, c->pipe, c->pipe_fill);
		c->pipe = -1;
		c->pipe_fill = 0;
	}
	if (c->buf >= 0) {
		rbuf_put(&w->bufs, c->buf);
		c->buf = -1;
	}
	if (c->tls)
		tls_idle(w, c);
	free(c->heap);
	c->heap = NULL;
	c->nparts = c->part = 0;
	c->flags &= (uint32_t)~CF_PACED;
}

/* The response is over (sent, or complete in the batch): count it and
 * drop its request from the input. */
static void response_finish(struct worker *w, struct conn *c)
{
	resp_end(w, c);
	c->auth = AG_NONE; /* the next request proves itself again */
	timer_del(&c->tn);
	release_response(w, c);
	if (c->head_len) {
		memmove(conn_in(w, c), conn_in(w, c) + c->head_len, c->in_len - c->head_len);
		c->in_len -= c->head_len;
		c->head_len = 0;
	}
	c->scan = 0;
}

/* The response is out: go on with the next request (pipelined), wait for
 * one (keep-alive) or close. */
static void response_done(struct worker *w, struct conn *c)
{
	response_finish(w, c);
	if (!(c->flags & CF_KEEPALIVE) || w->draining) {
		conn_linger(w, c);
		return;
	}
	c->state = CS_IDLE;
	timer_set(w, c, TK_KEEPALIVE, w->cfg->keepalive_timeout);
	conn_process(w, c);
}

/* ---- sending ------------------------------------------------------------ */

struct resp_conn conn_resp_ctx(struct worker *w, struct conn *c)
{
	struct resp_conn rc = {
		.date = w->date,
		.keep_alive = (c->flags & CF_KEEPALIVE) != 0,
		.minor = (c->flags & CF_HTTP10) ? 0 : 1,
		.opts = &w->srv->resp,
		.hsts = c->tls ? w->srv->hsts : NULL,
	};
	headers_resp(w, c, &rc);
	return rc;
}

/* Send bytes [from, to) of response buffer buf as op. */
static void send_buf(struct worker *w, struct conn *c, int32_t buf, uint32_t from, uint32_t to,
		     unsigned op)
{
	if (c->tls) {
		tls_send(w, c, rbuf_addr(&w->bufs, buf) + from, to - from, op, to - from);
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_send(sqe, c->sock, rbuf_addr(&w->bufs, buf) + from, to - from,
			   MSG_WAITALL | MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, op);
}

static void submit_send(struct worker *w, struct conn *c)
{
	uint32_t to = c->send_len;

	/* Paced (--limit-rate): the head alone, then the body in chunks as
	 * the schedule allows; the pacing timeout resumes here. */
	if (c->flags & CF_PACED) {
		if (c->send_off < c->pace.body) {
			to = c->pace.body;
		} else {
			uint64_t n = pace_allow(w, c, to - c->send_off);
			if (!n)
				return;
			to = c->send_off + (uint32_t)n;
		}
	}
	send_buf(w, c, c->buf, c->send_off, to, OP_SEND);
}

static void send_whole_now(struct worker *w, struct conn *c, size_t len)
{
	c->state = CS_SEND;
	c->send_off = 0;
	c->send_len = (uint32_t)len;
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
	submit_send(w, c);
}

/* ---- pipelined batches ---------------------------------------------------
 *
 * Requests that arrive together are answered together: while the input
 * holds more complete requests, each whole in-memory response (cached
 * small files, HEAD, 304, errors, redirects) is appended to one buffer,
 * obuf, and all of them leave in one send. A request whose answer needs
 * more than memory (a statx, an open, a body from the file, no free
 * buffer, no room left in obuf) is deferred: the batch is sent first and
 * the request is answered once that send is done, so responses stay in
 * request order and the batch never outgrows one response buffer. */

bool conn_defer(struct worker *w, struct conn *c)
{
	if (!(c->flags & CF_GATHER))
		return false;
	c->flags |= CF_DEFER;
	return true;
}

static bool more_input(const struct conn *c)
{
	return c->in_len > c->head_len || c->held_head >= 0;
}

bool conn_pipelined(const struct conn *c)
{
	return (c->flags & CF_GATHER) || more_input(c);
}

/* What a batch's sendmsg needs, kept at the end of the batch's own buffer
 * (obuf) so an idle connection holds nothing for it. Heads and generated
 * bodies are copied to the front of obuf; a body from the cache is not
 * copied: an iovec points into the cache and the entry stays pinned until
 * the batch is out. Over HTTPS every byte is copied (OpenSSL encrypts the
 * buffer). */
#define BATCH_IOV 64
#define BATCH_PINS 32

struct batch {
	struct msghdr msg;
	uint32_t fill;           /* bytes of obuf in use, from its start */
	uint16_t niov, first;    /* iovecs; the first not yet sent whole */
	uint16_t npin;
	struct fcache_entry *pin[BATCH_PINS];
	struct iovec iov[BATCH_IOV];
};

static struct batch *batch_of(struct worker *w, const struct conn *c)
{
	return (struct batch *)(rbuf_addr(&w->bufs, c->obuf) + w->bufs.size - sizeof(struct batch));
}

/* An empty batch: the counters and a msghdr with no name and no control
 * (the iovec and pin tables are filled before they are read). */
static void batch_open(struct batch *b)
{
	memset(&b->msg, 0, sizeof(b->msg));
	b->fill = 0;
	b->niov = b->first = b->npin = 0;
}

/* Room for copied bytes at the front of obuf. */
static uint32_t batch_room(struct worker *w, const struct conn *c)
{
	return (uint32_t)(w->bufs.size - sizeof(struct batch)) - batch_of(w, c)->fill;
}

/* Append n bytes at p to the iovecs: the caller checked a slot is free. */
static void batch_iov(struct batch *b, const char *p, size_t n)
{
	struct iovec *last = b->niov ? &b->iov[b->niov - 1] : NULL;

	if (last && (const char *)last->iov_base + last->iov_len == p) {
		last->iov_len += n;
		return;
	}
	b->iov[b->niov].iov_base = (void *)p;
	b->iov[b->niov].iov_len = n;
	b->niov++;
}

/* Copy n bytes to the front of obuf, and into the iovecs. */
static void batch_copy(struct worker *w, struct conn *c, const char *src, size_t n)
{
	struct batch *b = batch_of(w, c);
	char *dst = rbuf_addr(&w->bufs, c->obuf) + b->fill;

	if (dst != src)
		memcpy(dst, src, n);
	b->fill += (uint32_t)n;
	batch_iov(b, dst, n);
}

/* Can the batch take this response: its head (copied) and its body
 * (copied, or by reference when ref is the cache entry it comes from)? */
static bool batch_fits(struct worker *w, struct conn *c, size_t head, size_t blen,
		       const struct fcache_entry *ref)
{
	const struct batch *b = batch_of(w, c);
	size_t copied = head + (ref ? 0 : blen);

	return copied <= batch_room(w, c) && b->niov + 2 <= BATCH_IOV &&
	       (!ref || b->npin < BATCH_PINS);
}

/* Unpin what the batch references and give its buffer back. */
static void batch_release(struct worker *w, struct conn *c)
{
	struct batch *b = batch_of(w, c);

	for (unsigned i = 0; i < b->npin; i++)
		fcache_put(&w->fcache, b->pin[i]);
	rbuf_put(&w->bufs, c->obuf);
	c->obuf = -1;
	c->olen = c->ooff = 0;
}

/* Append the response (buf[0..head) then body[0..blen)) to the batch,
 * opening one when more requests wait. False: it goes on its own, now. */
static bool batch_take(struct worker *w, struct conn *c, size_t head, const char *body,
		       size_t blen, struct fcache_entry *ref)
{
	size_t len = head + blen;

	if (!(c->flags & CF_SYNC))
		return false;
	/* A paced body goes alone, on its own schedule. */
	if (pace_wanted(w, blen))
		return conn_defer(w, c);
	if (c->tls)
		ref = NULL;
	if (!(c->flags & CF_GATHER)) {
		if (!more_input(c))
			return false;
		/* A response reaching into the buffer's end, where the
		 * batch keeps its iovecs, goes alone. */
		if (head + (ref ? 0 : blen) > w->bufs.size - sizeof(struct batch))
			return false;
		/* The response's own buffer becomes the batch. */
		c->obuf = c->buf;
		c->buf = -1;
		batch_open(batch_of(w, c));
		c->olen = 0;
		c->ooff = 0;
		c->flags |= CF_GATHER;
		batch_copy(w, c, rbuf_addr(&w->bufs, c->obuf), head);
	} else if (!batch_fits(w, c, head, blen, ref)) {
		return conn_defer(w, c);
	} else {
		batch_copy(w, c, rbuf_addr(&w->bufs, c->buf), head);
	}
	if (blen && ref) {
		struct batch *b = batch_of(w, c);
		fcache_get(ref);
		b->pin[b->npin++] = ref;
		batch_iov(b, body, blen);
	} else if (blen) {
		batch_copy(w, c, body, blen);
	}
	c->olen += (uint32_t)len;
	c->tx = len;
	c->state = CS_BATCHED;
	stat_add(&w->st.batched, 1);
	return true;
}

static void submit_batch(struct worker *w, struct conn *c)
{
	struct batch *b = batch_of(w, c);

	if (c->tls) { /* copied whole: the bytes are obuf's front */
		send_buf(w, c, c->obuf, c->ooff, c->olen, OP_BATCH);
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	b->msg.msg_iov = b->iov + b->first;
	b->msg.msg_iovlen = (size_t)(b->niov - b->first);
	io_uring_prep_sendmsg(sqe, c->sock, &b->msg, MSG_WAITALL | MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_BATCH);
}

/* A short send: step the iovecs past the n bytes that left. */
static void batch_advance(struct batch *b, size_t n)
{
	while (n && b->first < b->niov) {
		struct iovec *v = &b->iov[b->first];
		if (n < v->iov_len) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= n;
			return;
		}
		n -= v->iov_len;
		b->first++;
	}
}

/* Send the gathered batch; false when there is none. */
static bool batch_flush(struct worker *w, struct conn *c)
{
	if (!(c->flags & CF_GATHER))
		return false;
	c->flags &= (uint32_t)~CF_GATHER;
	c->state = CS_BATCH;
	stat_add(&w->st.batches, 1);
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
	submit_batch(w, c);
	return true;
}

static void on_batch(struct worker *w, struct conn *c, int res)
{
	if (res <= 0) {
		conn_close(w, c);
		return;
	}
	c->ooff += (uint32_t)res;
	if (c->ooff < c->olen) {
		if (!c->tls)
			batch_advance(batch_of(w, c), (size_t)res);
		submit_batch(w, c);
		return;
	}
	batch_release(w, c);
	if (c->tls)
		tls_idle(w, c);
	timer_del(&c->tn);
	if (c->flags & CF_CLOSE_AFTER) {
		conn_linger(w, c);
		return;
	}
	c->state = CS_IDLE;
	timer_set(w, c, TK_KEEPALIVE, w->cfg->keepalive_timeout);
	conn_process(w, c);
}

/* Send buf[0..len) as the whole response (or append it to the batch). */
void conn_send_whole(struct worker *w, struct conn *c, size_t len)
{
	conn_send_mem(w, c, len, NULL, 0, NULL);
}

void conn_send_mem(struct worker *w, struct conn *c, size_t head, const char *body, size_t blen,
		   struct fcache_entry *ref)
{
	if (batch_take(w, c, head, body, blen, ref))
		return;
	/* HTTPS: a body that does not fit one record with its head is
	 * encrypted straight from the cache, no copy into the buffer; one that
	 * does is copied after the head, as a record of its own would cost
	 * more than the copy (with kTLS head and body go in one plaintext
	 * send, as over HTTP). Either way one SEND. */
	if (tls_user(c) && head + blen > STLS_REC_MAX && !pace_wanted(w, blen)) {
		c->flags &= (uint32_t)~CF_PACED;
		c->state = CS_SEND;
		c->send_off = 0;
		c->send_len = (uint32_t)(head + blen);
		timer_set(w, c, TK_SEND, w->cfg->send_timeout);
		tls_queue(w, c, rbuf_addr(&w->bufs, c->buf), (uint32_t)head, 0, 0);
		tls_send(w, c, body, (uint32_t)blen, OP_SEND, c->send_len);
		return;
	}
	if (blen)
		memcpy(rbuf_addr(&w->bufs, c->buf) + head, body, blen);
	/* Paced when the body outlasts --limit-rate-after; never a head, an
	 * error page or a multipart's closing delimiter. */
	if (pace_wanted(w, blen))
		pace_begin(w, c, (uint32_t)head);
	else
		c->flags &= (uint32_t)~CF_PACED;
	send_whole_now(w, c, head + blen);
}

bool conn_take_buf(struct worker *w, struct conn *c)
{
	if (c->buf >= 0)
		return true;
	/* HTTPS: the ciphertext buffer too (tls.c waits and resumes c). */
	if (c->tls && !tls_take_tbuf(w, c)) {
		if (conn_defer(w, c))
			return false;
		c->state = CS_WAITBUF;
		return false;
	}
	c->buf = rbuf_get(&w->bufs);
	if (c->buf >= 0)
		return true;
	if (conn_defer(w, c))
		return false;
	/* All response buffers busy: queue; conn_resume re-parses. */
	c->state = CS_WAITBUF;
	c->wait_next = NULL;
	if (w->wait_tail)
		w->wait_tail->wait_next = c;
	else
		w->wait_head = c;
	w->wait_tail = c;
	return false;
}

void conn_error(struct worker *w, struct conn *c, int status, bool close, const char *extra)
{
	if (!conn_take_buf(w, c))
		return;
	if (close)
		c->flags &= (uint32_t)~CF_KEEPALIVE;
	if (site_error_page(w, c, &status, &extra))
		return; /* --error-page: the page is on its way */
	struct resp_conn rc = conn_resp_ctx(w, c);
	int len = resp_error(rbuf_addr(&w->bufs, c->buf), w->bufs.size, status,
			     (c->flags & CF_HEAD) != 0, extra, &rc);
	if (len < 0) {
		conn_close(w, c);
		return;
	}
	conn_set_status(w, c, (unsigned)status, 0);
	conn_send_whole(w, c, (size_t)len);
}

static void prep_file_read(struct worker *w, struct conn *c, struct io_uring_sqe *sqe,
			   char *dst, unsigned len, uint64_t off)
{
	if (w->bufs.registered)
		io_uring_prep_read_fixed(sqe, c->file, dst, len, off, (int)w->bufs.index);
	else
		io_uring_prep_read(sqe, c->file, dst, len, off);
	/* HTTPS: the send cannot be linked (the bytes are encrypted in
	 * between): it waits in tls.c for this read's completion. */
	if (c->tls)
		tls_hold_next(c);
	else
		sqe->flags |= IOSQE_IO_LINK;
}

void conn_send_head(struct worker *w, struct conn *c, unsigned op, unsigned sqe_flags)
{
	/* Paced, the body's first chunk may be a pacing interval away. */
	int more = (c->flags & CF_PACED) ? 0 : MSG_MORE;

	if (c->tls) {
		if (more)
			tls_more_next(c);
		tls_send(w, c, rbuf_addr(&w->bufs, c->buf), c->send_len, op, c->send_len);
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_send(sqe, c->sock, rbuf_addr(&w->bufs, c->buf), c->send_len,
			   MSG_WAITALL | more | MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE | sqe_flags;
	conn_tag(w, c, sqe, op);
}

static void submit_head(struct worker *w, struct conn *c)
{
	conn_send_head(w, c, OP_SEND_HEAD, IOSQE_IO_LINK);
}

/* After the n bytes about to go out, does more of this response follow?
 * (MSG_MORE/SPLICE_F_MORE let TCP fill segments across sends.) */
static bool more_follows(const struct conn *c, unsigned n)
{
	/* Paced, the next bytes come a pacing interval later: holding this
	 * chunk's last segment for them would only delay it. */
	if (c->flags & CF_PACED)
		return false;
	return c->off + n < c->end || c->part + 1u < c->nparts || c->nparts > 1;
}

static void body_span(struct worker *w, struct conn *c);
static void response_done(struct worker *w, struct conn *c);

static void splice_out(struct worker *w, struct conn *c, unsigned len)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	unsigned more = more_follows(c, c->pipe_fill) ? SPLICE_F_MORE : 0;

	io_uring_prep_splice(sqe, (int)pipes_slot_r(&w->pipes, c->pipe), -1, c->sock, -1, len,
			     SPLICE_F_FD_IN_FIXED | more);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_SPLICE_OUT);
}

/* One chunk: file -> pipe linked to pipe -> socket. */
static void splice_chunk(struct worker *w, struct conn *c)
{
	uint64_t left = c->end - c->off;
	/* A pipe holds whole pages: from an unaligned offset, stop at the
	 * page boundary that keeps the chunk within the pipe's pages. */
	size_t room = pipes_size(&w->pipes, c->pipe) - (c->off & 4095);
	unsigned n = (unsigned)pace_allow(w, c, left < room ? left : room);

	if (!n)
		return; /* paced: the timeout resumes here */
	ring_reserve(&w->ring, 2);
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_splice(sqe, c->file, (int64_t)c->off, (int)pipes_slot_w(&w->pipes, c->pipe),
			     -1, n, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK; /* the pipe's slot; the file is a descriptor */
	conn_tag(w, c, sqe, OP_SPLICE_IN);
	c->chunk = n;
	/* The out half moves what the in half will have put in the pipe. */
	struct io_uring_sqe *out = ring_sqe(&w->ring);
	unsigned more = more_follows(c, n) ? SPLICE_F_MORE : 0;
	io_uring_prep_splice(out, (int)pipes_slot_r(&w->pipes, c->pipe), -1, c->sock, -1, n,
			     SPLICE_F_FD_IN_FIXED | more);
	out->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, out, OP_SPLICE_OUT);
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
}

/* One chunk: read into the buffer linked to its send. */
void conn_prep_body_send(struct worker *w, struct conn *c, struct io_uring_sqe *sqe,
			 const char *buf, unsigned n, const struct rbuf_pool *pool, int flags)
{
	int sock = c->sock;

	/* No MSG_MORE with SEND_ZC: corked bytes are not transmitted, so
	 * the notification that frees the buffer (and lets the next chunk
	 * go) would never come. */
	if (w->send_zc && n >= w->send_zc && pool->registered && peer_zc_ok(w, c))
		io_uring_prep_send_zc_fixed(sqe, sock, buf, n, flags & ~MSG_MORE, 0, pool->index);
	else
		io_uring_prep_send(sqe, sock, buf, n, flags);
	sqe->flags |= IOSQE_FIXED_FILE;
}

void conn_send_body(struct worker *w, struct conn *c, const char *buf, unsigned n,
		    const struct rbuf_pool *pool, int flags, unsigned op)
{
	if (c->tls) {
		if (flags & MSG_MORE)
			tls_more_next(c);
		tls_send(w, c, buf, n, op, n);
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	conn_prep_body_send(w, c, sqe, buf, n, pool, flags);
	conn_tag(w, c, sqe, op);
}

/* HTTPS sealed by stls: a whole file in the page cache and larger than a
 * buffer is sealed straight from a mapping of it (fcache_map), kept with
 * its cache entry, instead of being read into buffers: one copy of every
 * body byte less, and no read per 64 KiB. */
static bool map_wanted(struct worker *w, struct conn *c)
{
	struct fcache_entry *e = c->fce;

	return tls_sealed(c) && c->nparts == 1 && c->send_len + (c->end - c->off) > w->bufs.size &&
	       e && e->fd == c->file && sendfile_wanted(w, c, false) && fcache_map(e);
}

#define MAP_CHUNK (4u << 20) /* bytes of a mapping queued at once */

static void read_chunk(struct worker *w, struct conn *c)
{
	uint64_t left = c->end - c->off;
	if (c->spath == SP_MAPPED) {
		unsigned n = (unsigned)pace_allow(w, c, left < MAP_CHUNK ? left : MAP_CHUNK);
		if (!n)
			return; /* paced: the timeout resumes here */
		c->chunk = n;
		tls_mapped_next(c);
		conn_send_body(w, c, c->fce->map + c->off, n, &w->bufs, MSG_NOSIGNAL, OP_SEND_CHUNK);
		timer_set(w, c, TK_SEND, w->cfg->send_timeout);
		return;
	}
	unsigned n = (unsigned)pace_allow(w, c, left < w->read_chunk ? left : w->read_chunk);
	char *buf = rbuf_addr(&w->bufs, c->buf);

	if (!n)
		return; /* paced: the timeout resumes here */
	ring_reserve(&w->ring, 2);
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	prep_file_read(w, c, sqe, buf, n, c->off);
	conn_tag(w, c, sqe, OP_READ_CHUNK);
	c->chunk = n;
	conn_send_body(w, c, buf, n, &w->bufs,
		       MSG_WAITALL | MSG_NOSIGNAL | (more_follows(c, n) ? MSG_MORE : 0), OP_SEND_CHUNK);
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
}

/* The file is open, the head is in buf[0..send_len) and [off, end) is the
 * first (or only) byte range to send: pick the path. */
void conn_start_body(struct worker *w, struct conn *c)
{
	unsigned mode = w->cfg->transfer;
	size_t head = c->send_len;
	uint64_t len = c->end - c->off;

	if ((c->flags & CF_HEAD) || c->nparts == 0) {
		conn_send_whole(w, c, head);
		return;
	}
	if (conn_defer(w, c))
		return;
	pace_begin(w, c, (uint32_t)head);
	/* Resident bodies go by sendfile; cold large ones by O_DIRECT. */
	/* HTTPS without kTLS: no splice or sendfile (the bytes must pass
	 * through OpenSSL); buffered reads or O_DIRECT instead. With kTLS
	 * the kernel encrypts what they move. */
	bool user_tls = tls_user(c);
	if (user_tls && (mode == TRANSFER_SPLICE || mode == TRANSFER_SENDFILE))
		mode = TRANSFER_READ;
	if (!user_tls && (mode == TRANSFER_AUTO || mode == TRANSFER_SENDFILE) &&
	    sendfile_wanted(w, c, mode == TRANSFER_SENDFILE)) {
		c->spath = SP_SENDFILE;
		sendfile_start(w, c);
		return;
	}
	if (user_tls && mode == TRANSFER_AUTO && map_wanted(w, c)) {
		c->spath = SP_MAPPED;
		c->pipe = -1;
		body_span(w, c);
		return;
	}
	bool may_direct = mode == TRANSFER_AUTO || mode == TRANSFER_DIRECT;
	if (c->nparts == 1 && may_direct && direct_start(w, c, mode == TRANSFER_DIRECT)) {
		c->spath = SP_DIRECT;
		return;
	}
	/* One send for head and body; the read may overwrite the scratch,
	 * which a single range no longer needs. */
	if (c->nparts == 1 && mode != TRANSFER_SPLICE && head + len <= w->bufs.size) {
		ring_reserve(&w->ring, 2);
		struct io_uring_sqe *sqe = ring_sqe(&w->ring);
		prep_file_read(w, c, sqe, rbuf_addr(&w->bufs, c->buf) + head, (unsigned)len, c->off);
		conn_tag(w, c, sqe, OP_READ);
		c->spath = SP_BUFFER;
		send_whole_now(w, c, head + len); /* linked to its read: never batched */
		return;
	}
	c->pipe = mode == TRANSFER_READ || user_tls ? -1 : pipes_get(&w->pipes);
	c->spath = c->pipe >= 0 ? SP_SPLICE : SP_BUFFER;
	body_span(w, c);
}

/* Head (or part head) in buf[0..send_len), then the span [off, end). */
static void body_span(struct worker *w, struct conn *c)
{
	if (c->spath == SP_SENDFILE) {
		sendfile_start(w, c);
		return;
	}
	if (c->pipe >= 0 && c->tls) {
		/* kTLS: the head leaves through tls.c's queue, which cannot be
		 * linked; the splice starts at its completion (OP_SEND_HEAD). */
		c->state = CS_SPLICE;
		conn_send_head(w, c, OP_SEND_HEAD, 0);
		conn_touch(w, c);
		return;
	}
	ring_reserve(&w->ring, 3); /* head -> file -> socket, one chain */
	submit_head(w, c);
	if (c->pipe >= 0) {
		c->state = CS_SPLICE;
		splice_chunk(w, c);
	} else {
		c->state = CS_READSEND;
		read_chunk(w, c);
	}
}

void conn_touch(struct worker *w, struct conn *c)
{
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
}

/* A span is out: the next part of a multipart response, its closing
 * delimiter, or the end of the response. */
void conn_body_done(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);
	char *buf = rbuf_addr(&w->bufs, c->buf);
	size_t cap = w->bufs.size - sizeof(*sc);
	int n;

	if (c->nparts <= 1) {
		response_done(w, c);
		return;
	}
	if (c->part + 1u < c->nparts) {
		const struct range_span *sp = &sc->spans[++c->part];
		/* sc->type: looked up for the first part's head (serve.c) */
		n = range_part_head(buf, cap, w->boundary, sc->type, sp, sc->size, 0);
		if (n < 0) {
			conn_close(w, c);
			return;
		}
		c->send_len = (uint32_t)n;
		c->off = sp->start;
		c->end = sp->end;
		body_span(w, c);
		return;
	}
	n = range_part_tail(buf, cap, w->boundary);
	c->nparts = 1; /* the tail's completion ends the response */
	if (n < 0)
		conn_close(w, c);
	else
		conn_send_whole(w, c, (size_t)n);
}

/* A generated body (a listing) in c->heap, after the head in the buffer. */
void conn_send_heap(struct worker *w, struct conn *c)
{
	/* Never batched: callers defer before generating the body. */
	c->spath = SP_LISTING;
	if (c->flags & CF_HEAD) {
		conn_send_whole(w, c, c->send_len);
		return;
	}
	ring_reserve(&w->ring, 2);
	submit_head(w, c);
	if (c->tls) {
		tls_send(w, c, c->heap, c->heap_len, OP_SEND_HEAP, c->heap_len);
	} else {
		struct io_uring_sqe *sqe = ring_sqe(&w->ring);
		io_uring_prep_send(sqe, c->sock, c->heap, c->heap_len, MSG_WAITALL | MSG_NOSIGNAL);
		sqe->flags |= IOSQE_FIXED_FILE;
		conn_tag(w, c, sqe, OP_SEND_HEAP);
	}
	c->state = CS_SEND;
	timer_set(w, c, TK_SEND, w->cfg->send_timeout);
}

/* What the request just served left behind: false when the loop in
 * conn_process() must stop (the answer went asynchronous, was deferred,
 * or ended the connection). */
static bool after_serve(struct worker *w, struct conn *c)
{
	if (c->flags & CF_DEFER) {
		/* Answered again, from scratch, once the batch is out. */
		c->flags &= (uint32_t)~CF_DEFER;
		release_response(w, c);
		c->discard = 0;
		c->head_len = 0;
		c->scan = 0;
		batch_flush(w, c);
		return false;
	}
	if (c->state != CS_BATCHED)
		return false;
	response_finish(w, c);
	if (!(c->flags & CF_KEEPALIVE) || w->draining) {
		c->flags |= CF_CLOSE_AFTER;
		batch_flush(w, c);
		return false;
	}
	c->state = CS_IDLE;
	return true;
}

/* Skip request body bytes (we take none) already in the input. */
static void discard_input(struct worker *w, struct conn *c)
{
	uint64_t n = c->discard < c->in_len ? c->discard : c->in_len;

	memmove(conn_in(w, c), conn_in(w, c) + n, c->in_len - n);
	c->in_len -= (uint32_t)n;
	c->discard -= n;
	refill(w, c);
}

/* Parse and answer the complete requests the input holds (several in one
 * batch when they can be answered from memory); then wait for more bytes. */
static void conn_process(struct worker *w, struct conn *c)
{
	for (;;) {
		refill(w, c);
		if (c->state == CS_CLOSING || c->state == CS_FREE)
			return;
		if (tls_handshaking(c)) {
			/* Failing, closing or waiting for a turn or a buffer:
			 * tls.c comes back. Else more handshake bytes. */
			if (c->state != CS_IDLE || (c->tls->flags & (TLS_FAILED | TLS_WAIT_TBUF | TLS_WAIT_HS)))
				return;
			break;
		}
		if (c->flags & CF_PROXY) { /* the PROXY header comes before any request */
			int r = peer_proxy_input(w, c);
			if (r < 0) {
				conn_close(w, c);
				return;
			}
			if (r == 0)
				break;
			refill(w, c);
		}
		if (c->discard && c->in_len)
			discard_input(w, c);
		if (!c->in_len || c->discard)
			break;
		int n = http_parse_request(conn_in(w, c), c->in_len, &c->scan, &w->srv->lim, &w->req);
		w->req_conn = n > 0 ? c : NULL;
		if (n == -2 && c->in_len < w->in_size)
			break;
		peer_request(w, c, n > 0 ? &w->req : NULL); /* who asks */
		resp_begin(w, c);
		c->flags |= CF_SYNC;
		if (n == -1) {
			c->head_len = 0;
			conn_error(w, c, w->req.status, true, NULL);
		} else if (n == -2) {
			conn_error(w, c, 431, true, NULL); /* cannot happen: the parser's limits are smaller */
		} else {
			timer_del(&c->tn);
			c->head_len = (uint32_t)n;
			serve_request(w, c, &w->req);
		}
		c->flags &= (uint32_t)~CF_SYNC;
		if (!after_serve(w, c))
			return;
	}
	/* Need more bytes; send what was gathered first. */
	if (batch_flush(w, c))
		return;
	if (c->flags & CF_EOF) {
		if (c->tls && tls_close_after(w, c))
			return; /* our close_notify (or an alert) first */
		conn_close(w, c);
		return;
	}
	if (c->in_len && c->tkind == TK_KEEPALIVE)
		timer_set(w, c, TK_HEADER, w->cfg->header_timeout);
	in_release_if_empty(w, c);
	conn_rearm_recv(w, c);
}

void conn_kick(struct worker *w, struct conn *c)
{
	if (c->state == CS_IDLE)
		conn_process(w, c);
}

void conn_end(struct worker *w, struct conn *c)
{
	if (c->state != CS_CLOSING)
		conn_linger(w, c);
}

void conn_resume(struct worker *w, struct conn *c)
{
	c->state = CS_IDLE;
	c->scan = 0;
	conn_process(w, c);
}

/* ---- completions ------------------------------------------------------ */

static void on_recv(struct worker *w, struct conn *c, const struct io_uring_cqe *cqe)
{
	int res = cqe->res;

	if (res > 0) {
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			if (c->state == CS_LINGER)
				pbuf_put(&w->pbufs, bid);
			else if (take_input(w, c, bid, (unsigned)res)) {
				conn_close(w, c);
				return;
			}
		} else if (c->state != CS_LINGER) {
			if (c->tls)
				c->tls->cin_len += (uint32_t)res;
			else
				c->in_len += (uint32_t)res;
		}
	} else if (res == 0) {
		c->flags |= CF_EOF;
	} else if (res == -ENOBUFS) {
		pbuf_missed(&w->pbufs);
		conn_rearm_recv(w, c); /* queues c until buffers come back */
		return;
	} else if (res != -ECANCELED) {
		c->flags |= CF_EOF; /* reset or error: nothing more will come */
		/* A body waiting for its pacing timeout would only learn it at
		 * its next send, up to a second later: free it now. A verification's
		 * late result finds it gone. */
		if (c->state == CS_IDLE || c->state == CS_LINGER || c->state == CS_WAITBUF ||
		    c->state == CS_AUTH || (c->flags & CF_PACE_WAIT)) {
			conn_close(w, c);
			return;
		}
	}
	if (c->state == CS_LINGER) {
		if (c->flags & CF_EOF)
			conn_close(w, c);
		else
			conn_rearm_recv(w, c);
		return;
	}
	if (c->state == CS_IDLE)
		conn_process(w, c);
	/* Otherwise a response is going out; the bytes wait their turn. */
}

static void on_send(struct worker *w, struct conn *c, int res)
{
	if (res <= 0) {
		conn_close(w, c); /* peer gone, or the linked read failed */
		return;
	}
	if (c->send_off >= c->pace.body)
		pace_sent(c, (uint64_t)res);
	c->send_off += (uint32_t)res;
	if (c->send_off < c->send_len) {
		submit_send(w, c);
		return;
	}
	response_done(w, c);
}

void conn_wait_writable(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_poll_add(sqe, c->sock, POLLOUT);
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_POLL_OUT);
}

static void on_splice_out(struct worker *w, struct conn *c, int res)
{
	if (res == -ECANCELED && (c->flags & CF_SHORT_IN)) {
		c->flags &= (uint32_t)~CF_SHORT_IN;
		splice_out(w, c, c->pipe_fill);
		return;
	}
	/* The socket is non-blocking, so io-wq gives up on a full socket
	 * instead of parking a worker on it: wait for room here. */
	if (res == -EAGAIN) {
		conn_wait_writable(w, c);
		return;
	}
	if (res <= 0) {
		conn_close(w, c);
		return;
	}
	c->pipe_fill -= (uint32_t)res;
	c->off += (uint64_t)res;
	pace_sent(c, (uint64_t)res);
	if (c->pipe_fill > 0)
		splice_out(w, c, c->pipe_fill); /* short: finish this chunk */
	else if (c->off < c->end)
		splice_chunk(w, c);
	else
		conn_body_done(w, c);
}

static void on_send_chunk(struct worker *w, struct conn *c, int res)
{
	if (res < 0 || (unsigned)res != c->chunk) {
		conn_close(w, c);
		return;
	}
	c->off += c->chunk;
	pace_sent(c, c->chunk);
	if (c->off < c->end)
		read_chunk(w, c);
	else
		conn_body_done(w, c);
}

/* A whole small file was just read behind the head: keep its bytes in the
 * cache entry so the next request needs no read at all. */
static void keep_small_file(struct worker *w, struct conn *c, size_t len)
{
	struct fcache_entry *e = c->fce;

	if (!e || e->has_data || e->dead || c->off != 0 || len != e->size ||
	    len > w->fcache.data_size)
		return;
	memcpy(e->data, rbuf_addr(&w->bufs, c->buf) + c->send_len - len, len);
	e->has_data = true;
}

/* The pacing timeout: go on with the body where it waited. */
static void on_pace(struct worker *w, struct conn *c, int res)
{
	if (!pace_fired(c, res)) {
		conn_close(w, c); /* the head it was linked to failed */
		return;
	}
	conn_touch(w, c);
	switch (c->state) {
	case CS_SEND:
		submit_send(w, c);
		break;
	case CS_READSEND:
		read_chunk(w, c);
		break;
	case CS_SPLICE:
		splice_chunk(w, c);
		break;
	case CS_SENDFILE:
		sendfile_pump(w, c);
		break;
	case CS_DIRECT:
		direct_pump(w, c);
		break;
	default:
		break;
	}
}

void conn_complete(struct worker *w, struct conn *c, unsigned op, const struct io_uring_cqe *cqe)
{
	int res = cqe->res;

	/* SEND_ZC: the buffer is ours again only at the notification, so the
	 * result waits for it. */
	if (cqe->flags & IORING_CQE_F_NOTIF) {
		res = c->zc_res;
	} else if ((cqe->flags & IORING_CQE_F_MORE) && (op == OP_SEND_CHUNK || op == OP_DSEND)) {
		c->zc_res = res;
		return;
	}

	if (res > 0 && (op == OP_SEND || op == OP_SEND_HEAD || op == OP_SEND_CHUNK || op == OP_SF_HEAD ||
			op == OP_SEND_HEAP || op == OP_SPLICE_OUT || op == OP_DHEAD || op == OP_DSEND))
		c->tx += (uint64_t)res;
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->pending--;
		if (op == OP_RECV)
			c->flags &= (uint32_t)~CF_RECV_ARMED;
	}
	if (c->state == CS_CLOSING) {
		/* Only release what the completion carries. */
		if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER))
			pbuf_put(&w->pbufs, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if ((op == OP_OPEN || op == OP_OPEN_DIR) && res >= 0)
			c->file = res;
		if (c->pending == 0)
			conn_free(w, c);
		return;
	}
	switch (op) {
	case OP_RECV:
		on_recv(w, c, cqe);
		break;
	case OP_STATX:
	case OP_STATX_ALT:
	case OP_OPEN:
	case OP_OPEN_DIR:
		serve_complete(w, c, op, res);
		break;
	case OP_SEND_HEAP:
		if (res < 0 || (unsigned)res != c->heap_len)
			conn_close(w, c);
		else
			response_done(w, c);
		break;
	case OP_READ:
		if (res >= 0 && (uint64_t)res == c->end - c->off)
			keep_small_file(w, c, (size_t)res);
		/* fall through */
	case OP_READ_CHUNK:
		/* Short read: the file shrank under us. The linked send is
		 * cancelled and its completion closes the connection. */
		if (res < 0 || (uint64_t)res != (op == OP_READ ? c->end - c->off : c->chunk))
			conn_close(w, c);
		else if (c->tls)
			tls_release(w, c); /* its send may be encrypted now */
		break;
	case OP_SEND:
		on_send(w, c, res);
		break;
	case OP_BATCH:
		on_batch(w, c, res);
		break;
	case OP_SEND_HEAD:
		if (res < 0 || (unsigned)res != c->send_len)
			conn_close(w, c);
		else if (c->tls && c->state == CS_SPLICE)
			splice_chunk(w, c); /* kTLS: the body follows its head */
		break;
	case OP_SEND_CHUNK:
		on_send_chunk(w, c, res);
		break;
	case OP_SPLICE_IN:
		/* Short but not empty: the linked out half is cancelled and
		 * on_splice_out moves what did arrive. Empty: the file shrank. */
		if (res > 0)
			c->pipe_fill += (uint32_t)res;
		if (res <= 0)
			conn_close(w, c);
		else if ((unsigned)res != c->chunk)
			c->flags |= CF_SHORT_IN;
		break;
	case OP_SPLICE_OUT:
		on_splice_out(w, c, res);
		break;
	case OP_POLL_OUT:
		if (res < 0)
			conn_close(w, c);
		else if (c->state == CS_SPLICE)
			splice_out(w, c, c->pipe_fill);
		else if (c->state == CS_SENDFILE)
			sendfile_pump(w, c);
		break;
	case OP_SF_HEAD:
		sendfile_head_done(w, c, res);
		break;
	case OP_PACE:
		on_pace(w, c, res);
		break;
	case OP_TLS_SEND:
		tls_sent(w, c, res);
		break;
	case OP_PUMP:
		if (c->state == CS_SENDFILE)
			sendfile_pump(w, c);
		break;
	case OP_DHEAD:
	case OP_DSEND:
		direct_complete(w, c, op, res);
		break;
	default:
		if (op >= OP_DREAD && op < OP_LAST)
			direct_complete(w, c, op, res);
		break;
	}
}

void conn_expired(struct worker *w, struct conn *c)
{
	stat_add(&w->st.timeouts[c->tkind], 1);
	if (tls_handshaking(c)) { /* no HTTP yet either */
		tls_count_fail(w, c, TF_TIMEOUT);
		conn_close(w, c);
		return;
	}
	if (c->flags & CF_PROXY) { /* no HTTP yet: nothing to answer */
		peer_proxy_timeout(w, c);
		conn_close(w, c);
		return;
	}
	switch (c->state) {
	case CS_IDLE:
		if (c->tkind == TK_HEADER && c->in_len + c->held_count > 0) {
			/* Request head not complete in time. */
			peer_request(w, c, NULL);
			c->flags &= (uint32_t)~CF_HEAD;
			resp_begin(w, c);
			conn_error(w, c, 408, true, NULL);
			if (c->state == CS_WAITBUF)
				conn_close(w, c);
			return;
		}
		if (c->tls) { /* idle HTTPS: close_notify, then the close */
			conn_linger(w, c);
			return;
		}
		conn_close(w, c);
		return;
	default:
		conn_close(w, c);
	}
}

void conn_orphan_cqe(struct worker *w, unsigned op, const struct io_uring_cqe *cqe)
{
	if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER))
		pbuf_put(&w->pbufs, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	if ((op == OP_OPEN || op == OP_OPEN_DIR) && cqe->res >= 0)
		worker_close_fd(w, cqe->res);
}
