/* ring: io_uring setup, feature probing, SQE acquisition and user_data.
 *
 * user_data packs an op tag (8 bits), a generation (24 bits) and a slot
 * (32 bits), so one switch dispatches every completion and a completion for
 * a slot that has since been reused is recognised by its stale generation. */
#ifndef RS_RING_H
#define RS_RING_H

#include <liburing.h>

/* From the kernel ABI, for headers older than the running kernel. */
#ifndef IORING_CQE_F_NOTIF
#define IORING_CQE_F_NOTIF (1U << 3)
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ring_feature {
	RING_F_SINGLE_ISSUER = 1u << 0,
	RING_F_DEFER_TASKRUN = 1u << 1,
	RING_F_COOP_TASKRUN = 1u << 2,
	RING_F_SQPOLL = 1u << 3,
};

struct ring {
	struct io_uring uring;
	unsigned features; /* enum ring_feature bits actually in use */
	unsigned sq_entries, cq_entries;
};

static inline uint64_t ring_ud(unsigned op, uint32_t gen, uint32_t slot)
{
	return ((uint64_t)(op & 0xff) << 56) | ((uint64_t)(gen & 0xffffff) << 32) | slot;
}
static inline unsigned ring_ud_op(uint64_t ud) { return (unsigned)(ud >> 56); }
static inline uint32_t ring_ud_gen(uint64_t ud) { return (uint32_t)(ud >> 32) & 0xffffff; }
static inline uint32_t ring_ud_slot(uint64_t ud) { return (uint32_t)ud; }

/* After the prep of an SQE whose completion nobody waits for (close,
 * cancel, a table update): only a failure posts a CQE, tagged op. */
static inline void ring_untracked(struct io_uring_sqe *sqe, unsigned op)
{
	io_uring_sqe_set_data64(sqe, ring_ud(op, 0, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* 0 when this process may create rings at all; else -errno with a one-line
 * explanation in msg (io_uring disabled by sysctl or seccomp, old kernel). */
int ring_available(char *msg, size_t msglen);

/* Testing aid (RINGSERVE_DISABLE): behave as a kernel without these, for
 * every ring created afterwards. Call before any ring_init. */
enum ring_avoid {
	RING_AVOID_DEFER_TASKRUN = 1u << 0, /* ring_init skips SINGLE_ISSUER|DEFER_TASKRUN */
	RING_AVOID_COOP_TASKRUN = 1u << 1,  /* ... and COOP_TASKRUN */
	RING_AVOID_SEND_ZC = 1u << 2,       /* ring_probe_ops reports SEND_ZC missing */
};
void ring_avoid(unsigned avoid);

/* Create a ring of `entries` SQEs and a CQ `cq_mult` times larger, with the
 * best task-running mode the kernel accepts (SINGLE_ISSUER|DEFER_TASKRUN,
 * then COOP_TASKRUN, then plain). sqpoll_idle_ms > 0 asks for a kernel
 * submission thread instead (SQPOLL excludes DEFER_TASKRUN). Must be
 * called on the thread that will submit. 0 or -errno. */
int ring_init(struct ring *r, unsigned entries, unsigned cq_mult, unsigned sqpoll_idle_ms);
void ring_exit(struct ring *r);

/* 0 when every opcode in ops[] is supported; else -EOPNOTSUPP and *missing
 * names the first one that is not. */
int ring_probe_ops(struct ring *r, const int *ops, size_t n, const char **missing);

/* An SQE for an io_uring_prep_*() call. When the SQ is full the pending
 * ones are submitted (without waiting) to make room; never NULL (a ring
 * whose queue cannot drain at all ends the process with a message). */
struct io_uring_sqe *ring_sqe(struct ring *r);

/* Make room for n SQEs in a row: a linked chain must reach the kernel in
 * one submission, since a chain is cut at the end of each one (a send
 * would then not wait for its read). Submits what is queued if needed. */
void ring_reserve(struct ring *r, unsigned n);

/* Human-readable list of features in use, for the startup line. */
const char *ring_features_str(const struct ring *r);

#endif
