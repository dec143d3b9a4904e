/* rate: the byte schedule of --limit-rate and --limit-rate-after.
 *
 * One schedule per response body (nginx's limit_rate is per request). The
 * first `after` bytes go at full speed; from then on, at time t the body
 * may have sent at most
 *
 *     base + rate * (t - t0)
 *
 * bytes, with base = after and t0 = the start of the body. Bytes go in
 * chunks of rate_chunk() (about an eighth of a second's worth), each one
 * only once the schedule covers its last byte: a body of N bytes past
 * `after` takes N / rate seconds, and a reader is never ahead of the
 * schedule. A reader slower than the rate banks at most one second's worth
 * (or one chunk) of credit, so it cannot later burst far above the rate.
 *
 * Pure arithmetic on a caller's clock (nanoseconds); no I/O. */
#ifndef RS_RATE_H
#define RS_RATE_H

#include <stdint.h>

#define RATE_CHUNK_MIN 4096u
#define RATE_CHUNK_MAX (256u * 1024)

struct rate_sched {
	uint64_t rate;   /* bytes per second; 0: no limit */
	uint64_t after;  /* bytes sent before the limit applies */
	uint64_t base;   /* bytes the schedule allowed at t0 */
	uint64_t t0;     /* ns, on the caller's clock */
	uint64_t sent;   /* body bytes sent so far */
	uint32_t chunk;  /* rate_chunk(rate) */
};

/* Bytes per paced send at this rate: rate/8 within [RATE_CHUNK_MIN,
 * RATE_CHUNK_MAX], but never more than one second's worth (so a low rate
 * still sends at least once a second); at least 1. */
uint32_t rate_chunk(uint64_t rate);

/* A new body starts now. rate 0: no limit. */
void rate_start(struct rate_sched *s, uint64_t rate, uint64_t after, uint64_t now_ns);

/* How many of the next `want` bytes may be sent now: 0 when none may, and
 * then *wait_ns (> 0) is how long until min(want, chunk) may. Never more
 * than `want`; under the limit never more than one chunk. May move the
 * schedule forward (the credit bound); `want` 0 gives 0 with *wait_ns 0. */
uint64_t rate_allow(struct rate_sched *s, uint64_t want, uint64_t now_ns, uint64_t *wait_ns);

/* n more body bytes have gone out. */
void rate_sent(struct rate_sched *s, uint64_t n);

#endif
