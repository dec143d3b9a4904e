/* hdate: formatting against gmtime_r+strftime, parsing of the three
 * RFC 9110 formats, and strict rejection of malformed dates. */
#include "hdate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define EXAMPLE_T ((time_t)784111777) /* RFC 9110's Sun, 06 Nov 1994 08:49:37 */

static int parse(const char *s, time_t *t)
{
	return hdate_parse(s, strlen(s), t);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so failures reproduce */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* One timestamp: our output equals strftime's in the C locale, and both
 * the IMF-fixdate and asctime forms parse back to t. */
static int check_one(time_t t)
{
	char ours[HDATE_LEN + 1], ref[64], asc[64];
	struct tm tm;
	time_t back = -1;
	int bad = 0;

	hdate_format(t, ours);
	if (!gmtime_r(&t, &tm))
		return 1;
	strftime(ref, sizeof ref, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	strftime(asc, sizeof asc, "%a %b %e %H:%M:%S %Y", &tm);
	bad |= strcmp(ours, ref) != 0 || strlen(ours) != HDATE_LEN;
	bad |= hdate_parse(ours, HDATE_LEN, &back) != 0 || back != t;
	bad |= parse(asc, &back) != 0 || back != t;
	if (bad)
		fprintf(stderr, "t=%lld ours='%s' ref='%s' asc='%s'\n",
			(long long)t, ours, ref, asc);
	return bad;
}

static void test_roundtrip(void)
{
	const time_t max = (time_t)253402300799LL; /* 9999-12-31 23:59:59 */
	static const long long fixed[] = {
		0, 1, 59, 60, 86399, 86400, 68169600 /* 1972-02-29 */,
		951782400 /* 2000-02-29 */, 951868800 /* 2000-03-01 */,
		1234567890, 2147483647, 4107542400LL /* 2100-03-01 */,
		4107456000LL /* 2100-02-28 */, 253402300799LL,
	};
	int bad = 0;

	if (sizeof(time_t) < 8)
		return;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		bad += check_one((time_t)fixed[i]);
	for (int i = 0; i < 10000 && bad < 10; i++)
		bad += check_one((time_t)(rng() % ((uint64_t)max + 1)));
	CHECK(bad == 0);
}

static void test_examples(void)
{
	char buf[HDATE_LEN + 1];
	time_t t = 0;

	hdate_format(EXAMPLE_T, buf);
	CHECK(strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	hdate_format(0, buf);
	CHECK(strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);

	CHECK(parse("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == EXAMPLE_T);
	t = 0;
	CHECK(parse("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0 && t == EXAMPLE_T);
	t = 0;
	CHECK(parse("Sun Nov  6 08:49:37 1994", &t) == 0 && t == EXAMPLE_T);
	t = 0;
	CHECK(parse("Sun Nov 06 08:49:37 1994", &t) == 0 && t == EXAMPLE_T);
	/* length-bounded: bytes after len are ignored */
	t = 0;
	CHECK(hdate_parse("Sun, 06 Nov 1994 08:49:37 GMTxyz", HDATE_LEN, &t) == 0 &&
	      t == EXAMPLE_T);
	/* every long day name is accepted (weekday is not checked vs date) */
	CHECK(parse("Wednesday, 06-Nov-94 08:49:37 GMT", &t) == 0 && t == EXAMPLE_T);
	CHECK(parse("Friday, 06-Nov-94 08:49:37 GMT", &t) == 0);
	CHECK(parse("Thu, 01 Jan 1970 00:00:00 GMT", &t) == 0 && t == 0);
	CHECK(parse("Thu, 29 Feb 2024 12:00:00 GMT", &t) == 0 && t == 1709208000);
	CHECK(parse("Tue, 29 Feb 2000 00:00:00 GMT", &t) == 0 && t == 951782400);
	/* leap second: accepted, counts as the next minute's :00 */
	CHECK(parse("Sat, 31 Dec 2016 23:59:60 GMT", &t) == 0 && t == 1483228800);
	if (sizeof(time_t) >= 8) {
		CHECK(parse("Fri, 31 Dec 9999 23:59:59 GMT", &t) == 0 &&
		      t == (time_t)253402300799LL);
	}
}

/* Two-digit years: within (now - 50, now + 50], per RFC 9110 §5.6.7. */
static void test_rfc850_years(void)
{
	struct tm now;
	time_t t = time(NULL), got;
	char buf[64];
	int y;

	gmtime_r(&t, &now);
	y = now.tm_year + 1900;
	for (int d = -49; d <= 50; d += 11) {
		struct tm tm = { .tm_year = y + d - 1900, .tm_mon = 5, .tm_mday = 15 };
		time_t want = timegm(&tm);

		if (y + d < 1970 || want == (time_t)-1)
			continue;
		snprintf(buf, sizeof buf, "Monday, 15-Jun-%02d 00:00:00 GMT",
			 (y + d) % 100);
		got = 0;
		CHECK(parse(buf, &got) == 0 && got == want);
	}
	/* 51 years ahead means 49 years ago */
	snprintf(buf, sizeof buf, "Monday, 15-Jun-%02d 00:00:00 GMT", (y + 51) % 100);
	{
		struct tm tm = { .tm_year = y - 49 - 1900, .tm_mon = 5, .tm_mday = 15 };

		got = 0;
		CHECK(parse(buf, &got) == 0 && got == timegm(&tm));
	}
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994 08:49:37",          /* missing GMT */
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37 gmt",
		"Sun, 06 Nov 1994 08:49:37 GMT ",     /* trailing junk */
		"Sun, 06 Nov 1994 08:49:37 GMTx",
		" Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",   /* wrong weekday width */
		"Su, 06 Nov 1994 08:49:37 GMT",
		"Sun,  6 Nov 1994 08:49:37 GMT",      /* day must be 2DIGIT */
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",      /* case-sensitive */
		"sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 November 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37  GMT",
		"Sun, 06 Nov 1994 08-49-37 GMT",
		"Sun, 06 Nov 199a 08:49:37 GMT",
		"Sun, 06 Nov +994 08:49:37 GMT",
		"Sun, 32 Jan 1994 08:49:37 GMT",      /* 32 Jan */
		"Sun, 00 Jan 1994 08:49:37 GMT",
		"Thu, 29 Feb 1900 00:00:00 GMT",      /* 1900 is not leap */
		"Thu, 29 Feb 2023 00:00:00 GMT",
		"Thu, 31 Apr 2023 00:00:00 GMT",
		"Thu, 30 Feb 2024 00:00:00 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 23:60:00 GMT",
		"Sun, 06 Nov 1994 23:59:61 GMT",
		"Wed, 31 Dec 1969 23:59:59 GMT",      /* before the epoch */
		"Sun, 06 Xyz 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37",         /* RFC 850 */
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 6-Nov-94 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sundy, 06-Nov-94 08:49:37 GMT",
		"sunday, 06-Nov-94 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT ",
		"Sunday, 31-Nov-94 08:49:37 GMT",
		"Sunday, 06 Nov 94 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",            /* asctime */
		"Sun Nov  6 08:49:37 1994 ",
		"Sun Nov 6  08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov  6 08:49:37 1994 GMT",
		"Sun Nov 31 08:49:37 1994",
		"Sun Nov  0 08:49:37 1994",
		"Sun Nov x6 08:49:37 1994",
		"Sun  Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37x1994",
		"Sun Nov  6 08:49:37 199",
		"Sun Nov  6 08:49:37 199x",
		"Sun Nov  6 08:4x:37 1994",
		"Sun, 06 Nov 1994 08:49:3x GMT",
		"Sunday, 06-Nov-9x 08:49:37 GMT",
		"Sunday, 06-Nov-94 x8:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GM",      /* too short for RFC 850 */
		"Sunday, 06-Nov-94 08:49:37 GMT GMT",
	};
	time_t t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = 12345;
		if (parse(bad[i], &t) != -EINVAL || t != 12345) {
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
			failures++;
		}
	}
	CHECK(hdate_parse(NULL, 0, &t) == -EINVAL);
	/* embedded NUL within len */
	CHECK(hdate_parse("Sun, 06 Nov 1994 08:49:37 G\0T", HDATE_LEN, &t) == -EINVAL);
}

static void test_clamp(void)
{
	char buf[HDATE_LEN + 1];

	if (sizeof(time_t) < 8)
		return;
	hdate_format((time_t)253402300800LL, buf);
	CHECK(strcmp(buf, "Fri, 31 Dec 9999 23:59:59 GMT") == 0);
	hdate_format((time_t)-1, buf);
	CHECK(strcmp(buf, "Wed, 31 Dec 1969 23:59:59 GMT") == 0);
	hdate_format((time_t)INT64_MIN, buf);
	CHECK(strcmp(buf, "Sat, 01 Jan 0000 00:00:00 GMT") == 0);
}

int main(void)
{
	test_examples();
	test_roundtrip();
	test_rfc850_years();
	test_malformed();
	test_clamp();
	if (failures)
		fprintf(stderr, "test_hdate: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
