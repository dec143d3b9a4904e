#include "direct.h"
#include "conn.h"
#include "resid.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Cold: at most a quarter of the range's pages are in the page cache.
 * A warm file is cheaper to splice from memory than to read again. */
static bool is_cold(int fd, uint64_t off, uint64_t len)
{
	uint64_t cached, pages;

	if (resid_range(fd, off, len, &cached, &pages))
		return false; /* residency unknown: stay on the buffered path */
	return cached * 4 <= pages;
}

static bool use_dioalign = true;

void direct_init(bool dioalign)
{
	use_dioalign = dioalign;
}

bool direct_dioalign(void)
{
	return use_dioalign;
}

/* File offset alignment for O_DIRECT, 0 when it cannot be used. Kernels
 * before 6.1 (or RINGSERVE_DISABLE=dioalign) do not fill STATX_DIOALIGN:
 * the file opened with O_DIRECT, so its filesystem takes direct I/O, and
 * those kernels cap a block device's logical block size at the page size,
 * so page-aligned offsets, lengths and buffers always qualify. */
static uint32_t dio_align(int fd, size_t chunk)
{
	struct statx st;

	if (statx(fd, "", AT_EMPTY_PATH, use_dioalign ? STATX_DIOALIGN : STATX_BASIC_STATS, &st))
		return 0;
	if (!use_dioalign || !(st.stx_mask & STATX_DIOALIGN))
		return chunk % 4096 ? 0 : 4096;
	/* Buffers are page-aligned and chunks page multiples. */
	if (!st.stx_dio_offset_align || st.stx_dio_mem_align > 4096 ||
	    st.stx_dio_offset_align > 4096 || chunk % st.stx_dio_offset_align)
		return 0;
	return st.stx_dio_offset_align;
}

/* The confined open, again, as an ordinary O_DIRECT descriptor: these
 * syscalls run on the worker, but only for large files whose dentries the
 * ring lookup just warmed. */
static int open_direct(struct worker *w, const char *path)
{
	struct open_how how = w->how;

	how.flags = O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY;
	int fd = (int)syscall(SYS_openat2, w->srv->rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static void submit_read(struct worker *w, struct conn *c, unsigned i)
{
	struct direct_xfer *dx = &conn_scratch(w, c)->dx;
	struct direct_slot *s = &dx->slot[i];
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	char *buf = rbuf_addr(&w->dbufs, s->buf);

	if (w->dbufs.registered)
		io_uring_prep_read_fixed(sqe, dx->fd, buf, (unsigned)w->dbufs.size, dx->next_read,
					 (int)w->dbufs.index);
	else
		io_uring_prep_read(sqe, dx->fd, buf, (unsigned)w->dbufs.size, dx->next_read);
	conn_tag(w, c, sqe, OP_DREAD + i);
	s->off = dx->next_read;
	s->len = 0;
	s->state = DS_READING;
	dx->next_read += w->dbufs.size;
}

bool direct_start(struct worker *w, struct conn *c, bool forced)
{
	const struct config *cfg = w->cfg;
	struct scratch *sc = conn_scratch(w, c);
	struct direct_xfer *dx = &sc->dx;
	uint64_t len = c->end - c->off;

	if (!forced && (!cfg->direct_threshold || len < cfg->direct_threshold))
		return false;
	if (w->dbufs.nfree < cfg->direct_depth || (c->flags & CF_HEAD))
		return false;
	int fd = open_direct(w, sc->path);
	if (fd < 0)
		return false; /* e.g. EINVAL: this filesystem has no O_DIRECT */
	uint32_t align = dio_align(fd, w->dbufs.size);
	if (!align || (!forced && !is_cold(fd, c->off, len))) {
		close(fd);
		return false;
	}
	dx->fd = fd;
	dx->align = align;
	dx->next_read = c->off & ~(uint64_t)(align - 1);
	dx->read_end = c->end;
	dx->depth = (uint8_t)cfg->direct_depth;
	dx->head = 0;
	dx->head_sent = dx->sending = false;
	for (unsigned i = 0; i < dx->depth; i++) {
		dx->slot[i].buf = rbuf_get(&w->dbufs);
		dx->slot[i].state = DS_FREE;
	}
	c->flags |= CF_DIRECT;
	c->state = CS_DIRECT;

	conn_send_head(w, c, OP_DHEAD, 0);
	for (unsigned i = 0; i < dx->depth && dx->next_read < dx->read_end; i++)
		submit_read(w, c, i);
	return true;
}

/* Send the head slot's bytes when they are read and nothing else is going
 * out: sends leave strictly in file order, one at a time. */
static int try_send(struct worker *w, struct conn *c)
{
	struct direct_xfer *dx = &conn_scratch(w, c)->dx;
	struct direct_slot *s = &dx->slot[dx->head];

	if (!dx->head_sent || dx->sending || s->state != DS_READY)
		return 0;
	uint64_t from = c->off - s->off;
	uint64_t want_end = s->off + w->dbufs.size < c->end ? s->off + w->dbufs.size : c->end;
	if (s->off + s->len < want_end)
		return -EIO; /* short read before the end we promised: the file shrank */
	/* Paced: part of the slot now, the rest when the schedule allows. */
	uint64_t n = pace_allow(w, c, want_end - c->off);
	if (!n)
		return 0;
	s->state = DS_SENDING;
	dx->sending = true;
	dx->send_len = (uint32_t)n;
	conn_send_body(w, c, rbuf_addr(&w->dbufs, s->buf) + from, (unsigned)n, &w->dbufs,
		       MSG_WAITALL | MSG_NOSIGNAL | (c->off + n < c->end && !(c->flags & CF_PACED) ? MSG_MORE : 0),
		       OP_DSEND);
	return 0;
}

/* The head slot went out: reuse it for the next read, move on. A paced
 * send may have taken only part of it: the rest goes next. */
static void slot_sent(struct worker *w, struct conn *c, uint64_t n)
{
	struct direct_xfer *dx = &conn_scratch(w, c)->dx;
	unsigned i = dx->head;
	struct direct_slot *s = &dx->slot[i];

	c->off += n;
	pace_sent(c, n);
	dx->sending = false;
	if (c->off < s->off + w->dbufs.size && c->off < c->end) {
		s->state = DS_READY;
		return;
	}
	s->state = DS_FREE;
	dx->head = (uint8_t)((dx->head + 1) % dx->depth);
	if (dx->next_read < dx->read_end)
		submit_read(w, c, i);
}

void direct_complete(struct worker *w, struct conn *c, unsigned op, int res)
{
	struct direct_xfer *dx = &conn_scratch(w, c)->dx;

	if (res < 0) {
		conn_close(w, c);
		return;
	}
	if (op == OP_DHEAD) {
		if ((unsigned)res != c->send_len) {
			conn_close(w, c);
			return;
		}
		dx->head_sent = true;
	} else if (op == OP_DSEND) {
		if ((unsigned)res != dx->send_len) {
			conn_close(w, c);
			return;
		}
		slot_sent(w, c, (uint64_t)res);
		conn_touch(w, c);
		if (c->off >= c->end) {
			conn_body_done(w, c);
			return;
		}
	} else {
		struct direct_slot *s = &dx->slot[op - OP_DREAD];
		s->len = (uint32_t)res;
		s->state = DS_READY;
	}
	if (try_send(w, c))
		conn_close(w, c);
}

void direct_pump(struct worker *w, struct conn *c)
{
	if (try_send(w, c))
		conn_close(w, c);
}

void direct_release(struct worker *w, struct conn *c)
{
	struct direct_xfer *dx = &conn_scratch(w, c)->dx;

	close(dx->fd);
	for (unsigned i = 0; i < dx->depth; i++)
		rbuf_put(&w->dbufs, dx->slot[i].buf);
	c->flags &= (uint32_t)~CF_DIRECT;
}
