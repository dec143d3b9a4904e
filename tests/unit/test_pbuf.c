/* pbuf: only a window of the pool is posted, and the buffer handed back
 * last is posted first. Real recvs on a real ring over a socketpair. */
#include "check.h"
#include "pbuf.h"
#include "ring.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ring r;
static struct pbuf_ring pb;
static int sv[2];

/* One recv with buffer select: the buffer id, or -errno. Every completion
 * is accounted as the worker's dispatch does. */
static int recv_one(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r.uring);
	struct io_uring_cqe *cqe;

	if (write(sv[1], "x", 1) != 1)
		return -EIO;
	io_uring_prep_recv(sqe, sv[0], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	if (io_uring_submit_and_wait(&r.uring, 1) < 1 || io_uring_peek_cqe(&r.uring, &cqe))
		return -EIO;
	int res = cqe->res;
	unsigned flags = cqe->flags;
	io_uring_cqe_seen(&r.uring, cqe);
	if (flags & IORING_CQE_F_BUFFER) {
		pbuf_took(&pb);
		return (int)(flags >> IORING_CQE_BUFFER_SHIFT);
	}
	if (res == -ENOBUFS) {
		char c;
		pbuf_missed(&pb);
		if (read(sv[0], &c, 1) != 1) /* the byte is still there */
			return -EIO;
	}
	return res < 0 ? res : -EPROTO;
}

int main(void)
{
	char msg[256];

	if (ring_available(msg, sizeof(msg)) || ring_init(&r, 64, 2, 0)) {
		printf("SKIP: io_uring: %s\n", msg);
		return 77;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	int ret = pbuf_init(&pb, &r, 1024, 512, 0);
	if (ret == -EINVAL || ret == -ENOSYS || ret == -EOPNOTSUPP) {
		printf("SKIP: buffer rings: %d\n", ret);
		return 77;
	}
	CHECK(ret == 0);
	CHECK(pb.posted == PBUF_WINDOW_MIN);

	/* The window, not the pool: the first PBUF_WINDOW_MIN recvs get
	 * buffers 0, 1, ... in order, the next finds the ring empty. */
	for (int i = 0; i < PBUF_WINDOW_MIN; i++)
		CHECK(recv_one() == i);
	CHECK(recv_one() == -ENOBUFS);

	/* Hand back 7 then 5: 5 is on top, so it is posted first and is the
	 * next buffer a recv gets; the window grew with the demand. */
	pbuf_put(&pb, 7);
	pbuf_put(&pb, 5);
	pbuf_flush(&pb);
	CHECK(pb.posted == PBUF_WINDOW_MIN + 2 * (PBUF_WINDOW_MIN + 1));
	CHECK(recv_one() == 5);
	CHECK(recv_one() == 7);
	CHECK(recv_one() == PBUF_WINDOW_MIN);

	/* A quiet turn shrinks the target back: nothing more is posted
	 * while the ring holds at least the minimum. */
	unsigned before = pb.posted;
	pbuf_flush(&pb); /* demand 3 from the recvs above */
	pbuf_flush(&pb);
	CHECK(pb.posted == before);

	pbuf_free(&pb, &r);
	ring_exit(&r);
	return failures ? 1 : 0;
}
