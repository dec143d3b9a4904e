/* rate: chunk sizes, the free bytes, the schedule's bound and timing, the
 * credit a slow reader may bank, and no overflow at the extremes. */
#include "rate.h"

#include <stdio.h>

#include "check.h"

#define NS 1000000000ull

/* A reader as fast as the schedule lets it be: send whatever is allowed,
 * sleep (virtually) when nothing is. Returns the time the last byte went;
 * checks on the way that no send ran ahead of after + rate * t, that
 * every send is a whole chunk (or the tail) and that every wait is due. */
static uint64_t drain(uint64_t rate, uint64_t after, uint64_t total, uint64_t want_max)
{
	struct rate_sched s;
	uint64_t now = 1000 * NS, t0 = now, sent = 0, waits = 0;

	rate_start(&s, rate, after, now);
	while (sent < total) {
		uint64_t want = total - sent < want_max ? total - sent : want_max, wait;
		uint64_t n = rate_allow(&s, want, now, &wait);

		if (n == 0) {
			CHECK(wait > 0);
			now += wait;
			if (++waits > 10000000) {
				CHECK(!"endless waits");
				break;
			}
			continue;
		}
		CHECK(n <= want);
		if (sent >= after) {
			CHECK(n == (want < s.chunk ? want : s.chunk));
			/* The bytes this send completes were due by now. */
			unsigned __int128 due = (unsigned __int128)rate * (now - t0) / NS + after;
			CHECK(sent + n <= due);
		}
		sent += n;
		rate_sent(&s, n);
	}
	return now - t0;
}

static void chunks(void)
{
	CHECK(rate_chunk(0) == 1);
	CHECK(rate_chunk(1) == 1);
	CHECK(rate_chunk(1000) == 1000);          /* below 4K: a second's worth */
	CHECK(rate_chunk(4096) == 4096);
	CHECK(rate_chunk(8 * 4096) == 4096);
	CHECK(rate_chunk(512000) == 64000);       /* rate / 8 */
	CHECK(rate_chunk(2u << 20) == 256 * 1024);
	CHECK(rate_chunk(1ull << 40) == RATE_CHUNK_MAX);
}

static void unlimited(void)
{
	struct rate_sched s;
	uint64_t wait = 7;

	rate_start(&s, 0, 0, 5);
	CHECK(rate_allow(&s, 1ull << 40, 5, &wait) == 1ull << 40);
	CHECK(wait == 0);
	CHECK(rate_allow(&s, 0, 5, &wait) == 0 && wait == 0);
}

static void timing(void)
{
	/* 1 MiB at 500 KiB/s: 2.048 s, to the chunk boundary. */
	uint64_t t = drain(512000, 0, 1 << 20, 1 << 30);
	CHECK(t >= 2048 * NS / 1000 && t <= 2048 * NS / 1000 + 1000);
	/* The same in small wants (the read path's 60 KiB). */
	t = drain(512000, 0, 1 << 20, 60 << 10);
	CHECK(t >= 2048 * NS / 1000 - NS / 100 && t <= 2048 * NS / 1000 + NS / 100);
	/* --limit-rate-after: the first 512 KiB are free, the rest paced. */
	t = drain(512 << 10, 512 << 10, 3 << 19, 1 << 30);
	CHECK(t >= 2 * NS - 1000 && t <= 2 * NS + 1000);
	/* A body within the free bytes never waits. */
	CHECK(drain(1000, 1 << 20, 1 << 20, 1 << 30) == 0);
	/* Low rates: a second's worth a second. */
	t = drain(1000, 0, 5000, 1 << 30);
	CHECK(t >= 5 * NS && t <= 5 * NS + 1000);
	/* High rates: 100 MiB at 1 GiB/s in 256 KiB chunks. */
	t = drain(1ull << 30, 0, 100 << 20, 1 << 30);
	CHECK(t >= 100 * NS / 1024 && t <= 100 * NS / 1024 + 1000);
}

static void first_chunk_waits(void)
{
	struct rate_sched s;
	uint64_t wait;

	/* Nothing is ahead of the schedule: the first chunk waits its time. */
	rate_start(&s, 8192, 0, 0);
	CHECK(s.chunk == 4096);
	CHECK(rate_allow(&s, 100000, 0, &wait) == 0);
	CHECK(wait == NS / 2);
	CHECK(rate_allow(&s, 100000, NS / 2 - 1, &wait) == 0 && wait == 1);
	CHECK(rate_allow(&s, 100000, NS / 2, &wait) == 4096);
	rate_sent(&s, 4096);
	/* A tail shorter than a chunk waits only for its own bytes. */
	CHECK(rate_allow(&s, 1024, NS / 2, &wait) == 0);
	CHECK(wait == NS / 8);
	CHECK(rate_allow(&s, 1024, NS / 2 + NS / 8, &wait) == 1024);
}

static void slow_reader_credit(void)
{
	struct rate_sched s;
	uint64_t wait, now = 0, burst = 0;

	rate_start(&s, 100000, 0, now);
	/* The reader stalls for a minute: it may then catch up by one
	 * second's worth at most, not sixty. */
	now += 60 * NS;
	for (;;) {
		uint64_t n = rate_allow(&s, 1 << 30, now, &wait);
		if (!n)
			break;
		burst += n;
		rate_sent(&s, n);
	}
	CHECK(burst == 100000);
	CHECK(wait > 0 && wait <= NS / 8 + 1);
	/* Then the plain pace again. */
	now += wait;
	CHECK(rate_allow(&s, 1 << 30, now, &wait) == s.chunk);
}

static void extremes(void)
{
	struct rate_sched s;
	uint64_t wait;

	/* The largest rate, a day in: no overflow, one capped chunk. */
	rate_start(&s, 1024ull << 30, 0, 0);
	CHECK(rate_allow(&s, UINT64_MAX, 86400 * NS, &wait) == RATE_CHUNK_MAX);
	/* Huge after and sent values. */
	rate_start(&s, 1, UINT64_MAX - 10, 0);
	CHECK(rate_allow(&s, UINT64_MAX, 0, &wait) == UINT64_MAX - 10);
	rate_sent(&s, UINT64_MAX - 10);
	CHECK(rate_allow(&s, 5, 0, &wait) == 0 && wait == NS);
	/* A clock before t0 (it never goes back, but be safe). */
	rate_start(&s, 4096, 0, 10 * NS);
	CHECK(rate_allow(&s, 4096, 5 * NS, &wait) == 0 && wait == NS);
}

int main(void)
{
	chunks();
	unlimited();
	timing();
	first_chunk_waits();
	slow_reader_credit();
	extremes();
	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
