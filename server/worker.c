/* worker: ring setup, the event loop and the one dispatch switch.
 *
 * Each loop turn: make provided buffers visible, submit every SQE prepared
 * since the last turn and wait for at least one completion in a single
 * io_uring_submit_and_wait(), then reap all CQEs in one pass. */
#include "worker.h"
#include "authgate.h"
#include "conn.h"
#include "ftab.h"
#include "hdate.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define TICK_MS 250

static const int needed_ops[] = {
	IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_STATX,
	IORING_OP_OPENAT2, IORING_OP_READ_FIXED, IORING_OP_READ, IORING_OP_SPLICE,
	IORING_OP_SHUTDOWN, IORING_OP_CLOSE, IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT,
	IORING_OP_POLL_ADD, IORING_OP_FILES_UPDATE,
};

static void clock_update(struct worker *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	w->now = (uint64_t)ts.tv_sec;
	w->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != w->date_sec) {
		w->date_sec = ts.tv_sec;
		hdate_format(ts.tv_sec, w->date);
	}
}

/* Accepts are single-shot, at most ACCEPT_DEPTH in flight and never more
 * than there are free connections: a multishot accept drains the whole
 * backlog in one go, so it cannot honour --max-connections, while this
 * never takes a connection it has no room for (the rest wait in the
 * kernel's backlog). Several listeners take turns, each with at most its
 * share of the accepts in flight, so that none waits behind another's. */
static void arm_accepts(struct worker *w)
{
	unsigned nl = w->srv->listen.n, share = ACCEPT_DEPTH / nl, full = 0;

	while (!w->accept_paused && w->acc_nfree > 0 && w->accepts < w->nfree_conns && full < nl) {
		unsigned l = w->acc_next;
		w->acc_next = (l + 1) % nl;
		if (w->lacc[l] >= share) {
			full++;
			continue;
		}
		full = 0;
		unsigned i = w->acc_free[--w->acc_nfree];
		struct accept_slot *a = &w->acc[i];
		struct io_uring_sqe *sqe = ring_sqe(&w->ring);

		a->len = sizeof(a->addr);
		a->lst = (uint8_t)l;
		/* An ordinary descriptor (sendfile needs one); conn_accepted
		 * also installs it in the connection's fixed slot. Non-blocking,
		 * so a sendfile from this thread never waits for the peer. */
		io_uring_prep_accept(sqe, w->lfd[l], &a->addr.sa, &a->len,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		io_uring_sqe_set_data64(sqe, ring_ud(OP_ACCEPT, 0, i));
		w->accepts++;
		w->lacc[l]++;
	}
}

static void arm_tick(struct worker *w)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_timeout(sqe, &w->tick, 0, 0);
	io_uring_sqe_set_data64(sqe, ring_ud(OP_TICK, 0, 0));
}

unsigned worker_sock_base(const struct config *cfg)
{
	return 2 * cfg->pipe_count + 2;
}

unsigned worker_table_size(const struct config *cfg, unsigned nconns)
{
	return worker_sock_base(cfg) + nconns;
}

void worker_close_slot(struct worker *w, int32_t slot)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_close_direct(sqe, (unsigned)slot);
	ring_untracked(sqe, OP_CLOSE);
}

void worker_close_fd(struct worker *w, int fd)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_close(sqe, fd);
	ring_untracked(sqe, OP_CLOSE);
}

static void fcache_close_fd(void *ctx, int32_t fd)
{
	worker_close_fd(ctx, fd);
}

/* A poll (not a read) so that every worker sees the one write. */
static void arm_wake(struct worker *w)
{
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_poll_add(sqe, w->srv->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ring_ud(OP_WAKE, 0, 0));
}

void worker_conn_freed(struct worker *w)
{
	if (!w->draining)
		w->accept_paused = false; /* re-armed at the end of the loop turn */
}

/* Stop accepting. Our own sockets are shut down: that ends the accepts in
 * flight and makes the kernel refuse new connections (a shared unix
 * socket is shut down by every worker; once is enough). systemd's
 * sockets must stay usable for the next instance, so only our accepts on
 * them are cancelled and new clients wait in their backlog. */
static void stop_listeners(struct worker *w)
{
	const struct listen_set *ls = &w->srv->listen;

	for (unsigned i = 0; i < ls->n; i++) {
		if (!ls->l[i].inherited) {
			shutdown(w->lfd[i], SHUT_RDWR);
			continue;
		}
		struct io_uring_sqe *sqe = ring_sqe(&w->ring);
		io_uring_prep_cancel_fd(sqe, w->lfd[i], IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, ring_ud(OP_CANCEL, 0, 0));
	}
}

/* SIGTERM/SIGINT: stop listening at once, close idle connections, let the
 * others finish their response. */
static void begin_drain(struct worker *w)
{
	w->draining = true;
	w->accept_paused = true;
	w->drain_deadline = w->now + w->cfg->drain_timeout;
	stop_listeners(w);
	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->state == CS_IDLE && c->in_len == 0 && c->held_head < 0)
			conn_close(w, c);
	}
}

static bool finished(struct worker *w)
{
	if (!w->draining) {
		if (atomic_load_explicit(&w->srv->stop, memory_order_relaxed))
			begin_drain(w);
		return false;
	}
	return w->nfree_conns == w->nconns || w->now >= w->drain_deadline;
}

static void on_accept(struct worker *w, const struct io_uring_cqe *cqe)
{
	unsigned i = ring_ud_slot(io_uring_cqe_get_data64(cqe));

	w->accepts--;
	w->lacc[w->acc[i].lst]--;
	w->acc_free[w->acc_nfree++] = (uint8_t)i;
	if (cqe->res >= 0) {
		conn_accepted(w, cqe->res, &w->acc[i].addr.sa, w->acc[i].lst);
		return;
	}
	/* Our own cancel, or the listener shut down (a shared one maybe by
	 * another worker that saw the stop first). */
	if (cqe->res == -ECANCELED || w->draining ||
	    atomic_load_explicit(&w->srv->stop, memory_order_relaxed))
		return;
	stat_add(&w->st.accept_errors, 1);
	if (cqe->res == -ENFILE || cqe->res == -EMFILE) {
		/* Out of descriptors: wait for a connection to end. */
		w->accept_paused = true;
		log_limited(&w->warn_accept, w->now, LOG_WARN,
			    "worker %u: file table full, accept paused", w->id);
		return;
	}
	log_limited(&w->warn_accept, w->now, LOG_WARN, "worker %u: accept: %s", w->id,
		    strerror(-cqe->res));
}

static void on_tick(struct worker *w)
{
	alog_tick(&w->alog, &w->srv->alog);
	for (int k = 0; k < TK_COUNT; k++) {
		struct timer_node *n;
		while ((n = timer_pop_expired(&w->timers[k], w->now_ms)))
			conn_expired(w, (struct conn *)((char *)n - offsetof(struct conn, tn)));
	}
	arm_tick(w);
}

static void dispatch(struct worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	unsigned op = ring_ud_op(ud);

	if (cqe->flags & IORING_CQE_F_BUFFER)
		pbuf_took(&w->pbufs); /* whoever the completion is for */
	switch (op) {
	case OP_ACCEPT:
		on_accept(w, cqe);
		return;
	case OP_TICK:
		on_tick(w);
		return;
	case OP_ALOG:
		alog_complete(&w->alog, ring_ud_slot(ud), cqe->res, w->now);
		return;
	case OP_AUTH:
		authgate_complete(w, cqe->res);
		return;
	case OP_WAKE: /* the loop's finished() reads srv->stop */
	case OP_CANCEL:
	case OP_CLOSE:
	case OP_INSTALL: /* a failed one fails the recv behind it, which closes */
		return; /* fire-and-forget; failures are harmless */
	default:
		break;
	}
	uint32_t slot = ring_ud_slot(ud);
	struct conn *c = slot < w->nconns ? &w->conns[slot] : NULL;
	if (!c || c->state == CS_FREE || c->gen != ring_ud_gen(ud)) {
		conn_orphan_cqe(w, op, cqe);
		return;
	}
	conn_complete(w, c, op, cqe);
}

/* Work that waits for resources freed during this turn. */
static void after_turn(struct worker *w)
{
	if (w->srv->tls)
		tls_after_turn(w);
	while (w->wait_head && w->bufs.nfree) {
		struct conn *c = w->wait_head;
		w->wait_head = c->wait_next;
		if (!w->wait_head)
			w->wait_tail = NULL;
		conn_resume(w, c);
	}
	if (w->nobuf_head && w->pbuf_held < w->pbufs.count) {
		struct conn *c = w->nobuf_head;
		w->nobuf_head = NULL;
		while (c) {
			struct conn *next = c->nobuf_next;
			c->flags &= (uint32_t)~CF_NOBUF;
			conn_rearm_recv(w, c);
			c = next;
		}
	}
	arm_accepts(w);
}

static void loop(struct worker *w)
{
	struct io_uring *ring = &w->ring.uring;

	arm_tick(w);
	arm_wake(w);
	arm_accepts(w);
	while (!finished(w)) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		pbuf_flush(&w->pbufs);
		int ret = io_uring_submit_and_wait(ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) {
			log_err("worker %u: io_uring_enter: %s", w->id, strerror(-ret));
			break;
		}
		clock_update(w);
		io_uring_for_each_cqe(ring, head, cqe) {
			dispatch(w, cqe);
			n++;
		}
		io_uring_cq_advance(ring, n);
		stat_add(&w->st.submits, 1);
		stat_add(&w->st.cqes, n);
		after_turn(w);
	}
}

/* The loop is over: let the access log writes in flight complete (for at
 * most two seconds), then write what is left synchronously. */
static void finish_log(struct worker *w)
{
	struct __kernel_timespec ts = { 0, 100 * 1000 * 1000 };
	uint64_t deadline = w->now_ms + 2000;

	alog_tick(&w->alog, &w->srv->alog);
	while (alog_busy(&w->alog) && w->now_ms < deadline) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		io_uring_submit_and_wait_timeout(&w->ring.uring, &cqe, 1, &ts, NULL);
		clock_update(w);
		io_uring_for_each_cqe(&w->ring.uring, head, cqe) {
			dispatch(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring.uring, n);
	}
	alog_finish(&w->alog);
}

static int alloc_conns(struct worker *w)
{
	unsigned n = w->nconns;

	w->conns = calloc(n, sizeof(*w->conns));
	w->free_conns = calloc(n, sizeof(*w->free_conns));
	w->in_free = calloc(n, sizeof(*w->in_free));
	w->held_next = calloc(w->cfg->recv_bufs, sizeof(*w->held_next));
	w->held_len = calloc(w->cfg->recv_bufs, sizeof(*w->held_len));
	if (!w->conns || !w->free_conns || !w->in_free || !w->held_next || !w->held_len)
		return -ENOMEM;
	/* Input buffers are touched only when used; NORESERVE keeps an idle
	 * server's footprint small however many connections it allows. */
	/* One byte more than the largest head: the parser can only call a
	 * head too large once it sees the byte past the limit. */
	w->in_size = (w->cfg->max_header_size + 1 + 1023) & ~(size_t)1023;
	if (w->srv->tls)
		w->in_size += (TLS_IN_MIN + 1023) & ~(size_t)1023;
	w->in_arena = mmap(NULL, (size_t)n * w->in_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (w->in_arena == MAP_FAILED)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		w->free_conns[i] = n - 1 - i;
		w->in_free[i] = n - 1 - i;
	}
	w->nfree_conns = w->in_nfree = n;
	return 0;
}

/* How far openat2 may follow symlinks (--follow-symlinks). Magic links
 * (/proc/self/fd/...) are never followed. */
static unsigned long long follow_flags(unsigned mode)
{
	switch (mode) {
	case FOLLOW_NEVER:
		return RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	case FOLLOW_ALWAYS:
		return RESOLVE_NO_MAGICLINKS;
	default:
		return RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	}
}

/* A random multipart boundary, so file contents cannot forge one. */
static void make_boundary(char *out, size_t cap)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	snprintf(out, cap, "rs%016llx", (unsigned long long)r);
}

static int setup(struct worker *w)
{
	const struct config *cfg = w->cfg;
	const char *missing;
	int ret;

	w->alog.fd = -1; /* teardown closes it: not fd 0 after an early failure */
#define FAIL(what) do { w->init_what = what; return ret; } while (0)
	ret = ring_init(&w->ring, cfg->ring_entries, w->srv->cq_mult, cfg->sqpoll_idle);
	if (ret)
		FAIL("io_uring_queue_init");
	ret = ring_probe_ops(&w->ring, needed_ops, sizeof(needed_ops) / sizeof(needed_ops[0]), &missing);
	if (ret) {
		w->init_what = missing;
		return ret;
	}
	int zc_op = IORING_OP_SEND_ZC;
	w->send_zc = cfg->send_zc;
	if (w->send_zc && ring_probe_ops(&w->ring, &zc_op, 1, &missing)) {
		w->send_zc = 0; /* stated in the startup line */
	}
	w->nconns = cfg->max_conns;
	w->sock_base = worker_sock_base(cfg);
	ret = ftab_init(&w->ring, worker_table_size(cfg, w->nconns));
	if (ret)
		FAIL("registering the fixed file table (raise RLIMIT_NOFILE or lower --max-connections)");
	ret = rbuf_init(&w->bufs, cfg->buf_count, cfg->buf_size);
	if (ret)
		FAIL("allocating response buffers");
	bool direct = cfg->direct_threshold || cfg->transfer == TRANSFER_DIRECT;
	ret = rbuf_init(&w->dbufs, direct ? cfg->direct_transfers * cfg->direct_depth : 0,
			cfg->direct_chunk);
	if (ret)
		FAIL("allocating O_DIRECT buffers");
	/* HTTPS: a response buffer's worth of plaintext encrypts into one
	 * tbuf with room for the record overhead and the handshake's tail. */
	ret = rbuf_init(&w->tbufs, w->srv->tls ? cfg->buf_count / 2 + 16 : 0,
			(cfg->buf_size + 32 * 1024 + 4095) & ~(uint64_t)4095);
	if (ret)
		FAIL("allocating TLS send buffers");
	if (w->srv->tls) {
		w->tlsc = calloc(cfg->max_conns, sizeof(*w->tlsc));
		w->tlsk = calloc(cfg->max_conns, sizeof(*w->tlsk)); /* untouched without kTLS */
		ret = -ENOMEM;
		if (!w->tlsc || !w->tlsk)
			FAIL("allocating TLS connection state");
		w->tls_hs_budget = cfg->tls_hs_per_turn;
		ret = stls_engine_init(&w->stls, false);
		if (!ret)
			ret = stls_engine_init(&w->stls_rx, true);
		if (ret)
			FAIL("allocating the TLS record cipher");
	}
	struct rbuf_pool *pools[] = { &w->bufs, &w->dbufs, &w->tbufs };
	rbuf_register(&w->ring, pools, 3);
	/* Under a tight RLIMIT_MEMLOCK the HTTP pools keep their registration
	 * first: ciphertext goes by plain SEND either way. */
	if (!w->bufs.registered && w->tbufs.count)
		rbuf_register(&w->ring, pools, 2);
	/* Without buffer rings, recv goes straight into the input buffer. */
	if (w->srv->pbuf_ok)
		pbuf_init(&w->pbufs, &w->ring, cfg->recv_bufs, (unsigned)cfg->recv_buf_size, 0);
	ret = pipes_init(&w->pipes, &w->ring, cfg->pipe_count, cfg->pipe_size, 0);
	if (ret)
		FAIL("creating the pipe pool");
	ret = alloc_conns(w);
	if (ret)
		FAIL("allocating connection state");
	if (w->srv->tls && !w->pbufs.active) {
		/* Touched only where used, like the input buffers. */
		w->tls_cin = mmap(NULL, (size_t)w->nconns * w->in_size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ret = -ENOMEM;
		if (w->tls_cin == MAP_FAILED) {
			w->tls_cin = NULL;
			FAIL("allocating TLS input buffers");
		}
	}
	ret = fcache_init(&w->fcache, cfg->cache_entries, cfg->cache_file_size,
			  cfg->cache_validity, fcache_close_fd, w);
	if (ret)
		FAIL("allocating the open-file cache");
	ret = alog_init(&w->alog, &w->srv->alog, &w->ring, OP_ALOG, &w->st, w->id);
	if (ret)
		FAIL("setting up the access log");
	ret = authgate_init(w);
	if (ret)
		FAIL("setting up Basic auth");
	/* Splices and cold reads run in io-wq threads: bound them. */
	unsigned iowq[2] = { cfg->iowq_max, cfg->iowq_max };
	io_uring_register_iowq_max_workers(&w->ring.uring, iowq);
#undef FAIL
	for (int k = 0; k < TK_COUNT; k++)
		timer_list_init(&w->timers[k]);
	for (unsigned i = 0; i < ACCEPT_DEPTH; i++)
		w->acc_free[i] = (uint8_t)(ACCEPT_DEPTH - 1 - i);
	w->acc_nfree = ACCEPT_DEPTH;
	w->how.flags = O_RDONLY | O_NOCTTY | O_CLOEXEC;
	w->how.resolve = follow_flags(cfg->follow_symlinks);
	w->how_dir = w->how;
	w->how_dir.flags |= O_DIRECTORY;
	make_boundary(w->boundary, sizeof(w->boundary));
	/* Read-path chunks stop short of the per-response scratch, on a page
	 * boundary. */
	w->read_chunk = (w->bufs.size - sizeof(struct scratch)) & ~(size_t)4095;
	/* Timeouts fire within a tick of their deadline. */
	w->tick.tv_nsec = TICK_MS * 1000000;
	clock_update(w);
	return 0;
}

static void teardown(struct worker *w)
{
	authgate_free(w);
	alog_free(&w->alog);
	fcache_free(&w->fcache);
	pbuf_free(&w->pbufs, &w->ring);
	pipes_free(&w->pipes, &w->ring);
	ring_exit(&w->ring); /* cancels everything and drops every fixed file */
	rbuf_free(&w->bufs);
	rbuf_free(&w->dbufs);
	rbuf_free(&w->tbufs);
	free(w->tlsc);
	stls_engine_free(&w->stls);
	stls_engine_free(&w->stls_rx);
	free(w->tlsk);
	if (w->tls_cin)
		munmap(w->tls_cin, (size_t)w->nconns * w->in_size);
	if (w->in_arena && w->in_arena != MAP_FAILED)
		munmap(w->in_arena, (size_t)w->nconns * w->in_size);
	free(w->conns);
	free(w->free_conns);
	free(w->in_free);
	free(w->held_next);
	free(w->held_len);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	w->init_err = setup(w);
	sem_post(&w->ready);
	sem_wait(&w->go);
	if (!w->init_err) {
		loop(w);
		finish_log(w);
	}
	atomic_store(&w->alog.acked, ALOG_GONE); /* a reopen need not wait for us */
	teardown(w);
	atomic_fetch_sub(&w->srv->running, 1);
	return NULL;
}

int worker_start(struct worker *w)
{
	sem_init(&w->ready, 0, 0);
	sem_init(&w->go, 0, 0);
	return -pthread_create(&w->thread, NULL, worker_main, w);
}
