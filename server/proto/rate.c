/* rate: see rate.h. */
#include "rate.h"

#define NS 1000000000ull

uint32_t rate_chunk(uint64_t rate)
{
	uint64_t c = rate / 8;

	if (c < RATE_CHUNK_MIN)
		c = RATE_CHUNK_MIN;
	if (c > RATE_CHUNK_MAX)
		c = RATE_CHUNK_MAX;
	/* Below 4 KiB/s a chunk is a second's worth: one send a second
	 * rather than one every few seconds. */
	if (c > rate)
		c = rate;
	return c ? (uint32_t)c : 1;
}

void rate_start(struct rate_sched *s, uint64_t rate, uint64_t after, uint64_t now_ns)
{
	s->rate = rate;
	s->after = after;
	s->base = after;
	s->t0 = now_ns;
	s->sent = 0;
	s->chunk = rate_chunk(rate);
}

/* base + rate * (now - t0), saturating: rate (up to 2^40) times a long
 * interval does not fit 64 bits, hence the 128-bit product. */
static uint64_t allowed(const struct rate_sched *s, uint64_t now_ns)
{
	uint64_t dt = now_ns > s->t0 ? now_ns - s->t0 : 0;
	unsigned __int128 b = (unsigned __int128)s->rate * dt / NS + s->base;

	return b > UINT64_MAX ? UINT64_MAX : (uint64_t)b;
}

uint64_t rate_allow(struct rate_sched *s, uint64_t want, uint64_t now_ns, uint64_t *wait_ns)
{
	*wait_ns = 0;
	if (want == 0)
		return 0;
	if (s->rate == 0)
		return want;
	/* The free bytes first, at full speed. */
	if (s->sent < s->after)
		return want < s->after - s->sent ? want : s->after - s->sent;
	uint64_t have = allowed(s, now_ns);
	uint64_t burst = s->rate > s->chunk ? s->rate : s->chunk;
	/* A slow reader banks at most a second (or a chunk) of credit. */
	if (have > s->sent && have - s->sent > burst) {
		s->base = s->sent + burst;
		s->t0 = now_ns;
		have = s->base;
	}
	uint64_t need = want < s->chunk ? want : s->chunk;
	if (have >= s->sent && have - s->sent >= need)
		return need;
	/* When does base + rate * (t - t0) reach sent + need? need is at
	 * most a chunk (256 KiB), so need * 1e9 fits 64 bits. */
	uint64_t short_by = s->sent + need - s->base;
	uint64_t dt = now_ns > s->t0 ? now_ns - s->t0 : 0;
	unsigned __int128 at = ((unsigned __int128)short_by * NS + s->rate - 1) / s->rate;
	*wait_ns = at > dt ? (uint64_t)(at - dt) : 1;
	return 0;
}

void rate_sent(struct rate_sched *s, uint64_t n)
{
	s->sent += n;
}
