#include "ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set once by main before the workers start, read-only afterwards. */
static unsigned avoided;

void ring_avoid(unsigned avoid)
{
	avoided = avoid;
}

int ring_available(char *msg, size_t msglen)
{
	struct io_uring r;
	int ret = io_uring_queue_init(2, &r, 0);

	if (ret == 0) {
		io_uring_queue_exit(&r);
		return 0;
	}
	switch (-ret) {
	case ENOSYS:
		snprintf(msg, msglen, "io_uring is not available: this kernel lacks it (ENOSYS)");
		break;
	case EPERM:
	case EACCES:
		snprintf(msg, msglen,
			 "io_uring is not permitted here: check sysctl kernel.io_uring_disabled "
			 "and the container's seccomp profile (%s)", strerror(-ret));
		break;
	default:
		snprintf(msg, msglen, "io_uring setup failed: %s", strerror(-ret));
	}
	return ret;
}

static int try_init(struct ring *r, unsigned entries, unsigned cq, unsigned flags,
		    unsigned idle_ms)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.sq_thread_idle = idle_ms;
	p.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = cq;
	int ret = io_uring_queue_init_params(entries, &r->uring, &p);
	if (ret == 0) {
		r->sq_entries = p.sq_entries;
		r->cq_entries = p.cq_entries;
	}
	return ret;
}

int ring_init(struct ring *r, unsigned entries, unsigned cq_mult, unsigned sqpoll_idle_ms)
{
	unsigned cq = entries * cq_mult;
	int ret;

	memset(r, 0, sizeof(*r));
	if (sqpoll_idle_ms) {
		ret = try_init(r, entries, cq, IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER,
			       sqpoll_idle_ms);
		if (ret)
			return ret;
		r->features = RING_F_SQPOLL | RING_F_SINGLE_ISSUER;
		goto done;
	}
	/* Completions run only when this thread enters the kernel: no IPIs,
	 * no task-work interruptions in the middle of a loop turn. */
	ret = avoided & RING_AVOID_DEFER_TASKRUN ? -EINVAL :
		try_init(r, entries, cq, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, 0);
	if (ret == 0) {
		r->features = RING_F_SINGLE_ISSUER | RING_F_DEFER_TASKRUN;
		goto done;
	}
	ret = avoided & RING_AVOID_COOP_TASKRUN ? -EINVAL :
		try_init(r, entries, cq, IORING_SETUP_COOP_TASKRUN, 0);
	if (ret == 0) {
		r->features = RING_F_COOP_TASKRUN;
		goto done;
	}
	ret = try_init(r, entries, cq, 0, 0);
	if (ret)
		return ret;
done:
	/* Saves an fdget/fdput on every io_uring_enter; harmless if refused. */
	io_uring_register_ring_fd(&r->uring);
	return 0;
}

void ring_exit(struct ring *r)
{
	io_uring_queue_exit(&r->uring);
}

static const char *op_name(int op)
{
	switch (op) {
	case IORING_OP_ACCEPT: return "ACCEPT";
	case IORING_OP_RECV: return "RECV";
	case IORING_OP_SEND: return "SEND";
	case IORING_OP_STATX: return "STATX";
	case IORING_OP_OPENAT2: return "OPENAT2";
	case IORING_OP_READ_FIXED: return "READ_FIXED";
	case IORING_OP_READ: return "READ";
	case IORING_OP_SPLICE: return "SPLICE";
	case IORING_OP_SHUTDOWN: return "SHUTDOWN";
	case IORING_OP_CLOSE: return "CLOSE";
	case IORING_OP_ASYNC_CANCEL: return "ASYNC_CANCEL";
	case IORING_OP_TIMEOUT: return "TIMEOUT";
	case IORING_OP_POLL_ADD: return "POLL_ADD";
	case IORING_OP_SEND_ZC: return "SEND_ZC";
	default: return "(unnamed op)";
	}
}

int ring_probe_ops(struct ring *r, const int *ops, size_t n, const char **missing)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(&r->uring);
	int ret = 0;

	if (!p) {
		*missing = "IORING_REGISTER_PROBE";
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < n; i++) {
		if (!io_uring_opcode_supported(p, ops[i]) ||
		    (ops[i] == IORING_OP_SEND_ZC && (avoided & RING_AVOID_SEND_ZC))) {
			*missing = op_name(ops[i]);
			ret = -EOPNOTSUPP;
			break;
		}
	}
	io_uring_free_probe(p);
	return ret;
}

struct io_uring_sqe *ring_sqe(struct ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);

	/* SQ full: hand the batch to the kernel now; completions are reaped
	 * by the main loop as usual. Kernels since 5.19 take submissions even
	 * with completions in overflow, so this ends; a bound keeps a broken
	 * ring from spinning forever. */
	for (int tries = 0; !sqe && tries < 1000; tries++) {
		int ret = io_uring_submit(&r->uring);
		if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR)
			break;
		sqe = io_uring_get_sqe(&r->uring);
	}
	if (!sqe) {
		fprintf(stderr, "ringserve: io_uring submission queue stuck full\n");
		abort();
	}
	return sqe;
}

void ring_reserve(struct ring *r, unsigned n)
{
	if (io_uring_sq_space_left(&r->uring) < n)
		io_uring_submit(&r->uring);
}

const char *ring_features_str(const struct ring *r)
{
	if (r->features & RING_F_SQPOLL)
		return "sqpoll";
	if (r->features & RING_F_DEFER_TASKRUN)
		return "single_issuer+defer_taskrun";
	if (r->features & RING_F_COOP_TASKRUN)
		return "coop_taskrun";
	return "plain";
}
