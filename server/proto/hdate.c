/* hdate: HTTP dates without libc's locale- and TZ-dependent time functions.
 *
 * strftime() follows LC_TIME and gmtime()/timegm() are either not reentrant
 * or not standard, so the calendar arithmetic is done here on day counts:
 * the proleptic Gregorian calendar is handled as 400-year eras of 146097
 * days, with years starting on March 1 so that the leap day is the last day
 * of the (shifted) year and month lengths follow a fixed 153-day pattern. */
#include "hdate.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define SECS_PER_DAY 86400
#define DAYS_PER_ERA 146097        /* days in 400 Gregorian years */
#define EPOCH_SHIFT 719468         /* days from 0000-03-01 to 1970-01-01 */
#define HDATE_MIN_T (-62167219200LL) /* 0000-01-01 00:00:00: 4-digit floor */
#define HDATE_MAX_T 253402300799LL   /* 9999-12-31 23:59:59: 4-digit ceiling */

static const char wday_short[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const wday_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};
static const char mon_short[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

struct civil {
	int64_t year;
	unsigned mon;  /* 1..12 */
	unsigned day;  /* 1..31 */
	unsigned hour, min, sec;
};

/* Floor division: C rounds toward zero, dates before an era boundary need
 * rounding toward minus infinity. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void civil_from_days(int64_t days, struct civil *c)
{
	int64_t z = days + EPOCH_SHIFT;
	int64_t era = floor_div(z, DAYS_PER_ERA);
	int64_t doe = z - era * DAYS_PER_ERA;                 /* 0..146096 */
	/* Remove the leap days seen so far in the era, then divide by 365. */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                     /* 0 = March */

	c->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	c->mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	c->year = era * 400 + yoe + (c->mon <= 2);
}

static int64_t days_from_civil(int64_t year, unsigned mon, unsigned day)
{
	int64_t y = year - (mon <= 2);  /* Jan and Feb end the shifted year */
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t mp = mon > 2 ? mon - 3 : mon + 9;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void hdate_format(time_t t, char out[HDATE_LEN + 1])
{
	int64_t s = (int64_t)t;
	int64_t days, secs;
	struct civil c;

	/* The format has room for four year digits only; clamp rather than
	 * emit a malformed header. */
	if (s < HDATE_MIN_T)
		s = HDATE_MIN_T;
	if (s > HDATE_MAX_T)
		s = HDATE_MAX_T;
	days = floor_div(s, SECS_PER_DAY);
	secs = s - days * SECS_PER_DAY;
	civil_from_days(days, &c);

	/* 1970-01-01 was a Thursday (index 4). */
	memcpy(out, wday_short[(days % 7 + 7 + 4) % 7], 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, c.day);
	out[7] = ' ';
	memcpy(out + 8, mon_short[c.mon - 1], 3);
	out[11] = ' ';
	put2(out + 12, (unsigned)(c.year / 100));
	put2(out + 14, (unsigned)(c.year % 100));
	out[16] = ' ';
	put2(out + 17, (unsigned)(secs / 3600));
	out[19] = ':';
	put2(out + 20, (unsigned)(secs / 60 % 60));
	out[22] = ':';
	put2(out + 23, (unsigned)(secs % 60));
	memcpy(out + 25, " GMT", 5); /* includes the NUL */
}

/* ---- parsing: every field has a fixed width, so work on offsets ---- */

static int digits(const char *p, unsigned n, unsigned *v)
{
	unsigned r = 0;

	for (unsigned i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		r = r * 10 + (unsigned)(p[i] - '0');
	}
	*v = r;
	return 0;
}

/* Names are case-sensitive (RFC 9110 §5.6.7). */
static int match3(const char *p, const char names[][4], unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (memcmp(p, names[i], 3) == 0)
			return (int)i;
	return -1;
}

static int parse_month(const char *p, struct civil *c)
{
	int m = match3(p, mon_short, 12);

	if (m < 0)
		return -EINVAL;
	c->mon = (unsigned)m + 1;
	return 0;
}

/* "HH:MM:SS"; ranges are checked later with the date. */
static int parse_time(const char *p, struct civil *c)
{
	if (p[2] != ':' || p[5] != ':')
		return -EINVAL;
	if (digits(p, 2, &c->hour) || digits(p + 3, 2, &c->min) ||
	    digits(p + 6, 2, &c->sec))
		return -EINVAL;
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(const char *s, struct civil *c)
{
	unsigned y;

	if (match3(s, wday_short, 7) < 0 || memcmp(s + 3, ", ", 2) != 0 ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -EINVAL;
	if (digits(s + 5, 2, &c->day) || parse_month(s + 8, c) ||
	    digits(s + 12, 4, &y) || parse_time(s + 17, c))
		return -EINVAL;
	c->year = y;
	return 0;
}

/* "Sun Nov  6 08:49:37 1994": the day is "06" or " 6" (date3). */
static int parse_asctime(const char *s, struct civil *c)
{
	unsigned y;

	if (match3(s, wday_short, 7) < 0 || s[3] != ' ' || s[7] != ' ' ||
	    s[10] != ' ' || s[19] != ' ')
		return -EINVAL;
	if (s[8] == ' ' ? digits(s + 9, 1, &c->day) : digits(s + 8, 2, &c->day))
		return -EINVAL;
	if (parse_month(s + 4, c) || parse_time(s + 11, c) ||
	    digits(s + 20, 4, &y))
		return -EINVAL;
	c->year = y;
	return 0;
}

/* RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means
 * the most recent past year with those digits. Working in whole years,
 * pick the year with those last digits in (now - 50, now + 50]. */
static int64_t expand_year(unsigned yy, int64_t now_year)
{
	int64_t d = ((int64_t)yy - now_year % 100 + 100) % 100;

	return now_year + (d > 50 ? d - 100 : d);
}

static int64_t current_year(void)
{
	struct civil c;

	civil_from_days(floor_div((int64_t)time(NULL), SECS_PER_DAY), &c);
	return c.year;
}

/* "Sunday, 06-Nov-94 08:49:37 GMT": the day name is 6..9 bytes long,
 * everything after it is 24 bytes. */
static int parse_rfc850(const char *s, size_t len, struct civil *c)
{
	size_t n = len - 24;
	unsigned yy;
	int ok = 0;

	if (len < 6 + 24 || len > 9 + 24)
		return -EINVAL;
	for (unsigned i = 0; i < 7; i++)
		ok |= strlen(wday_long[i]) == n && memcmp(s, wday_long[i], n) == 0;
	s += n;
	if (!ok || memcmp(s, ", ", 2) != 0 || s[4] != '-' || s[8] != '-' ||
	    s[11] != ' ' || memcmp(s + 20, " GMT", 4) != 0)
		return -EINVAL;
	if (digits(s + 2, 2, &c->day) || parse_month(s + 5, c) ||
	    digits(s + 9, 2, &yy) || parse_time(s + 12, c))
		return -EINVAL;
	c->year = expand_year(yy, current_year());
	return 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned char len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	unsigned leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	return len[m - 1] + (m == 2 ? leap : 0);
}

/* Field ranges, then seconds since the epoch. The weekday name is checked
 * for validity but not against the date, as most servers do: a client's
 * wrong weekday is not worth turning a conditional request into a full one.
 * Second 60 (leap second) is accepted and counts as :00 of the next minute. */
static int civil_to_time(const struct civil *c, time_t *out)
{
	int64_t v;

	if (c->year < 1970 || c->day < 1 || c->day > month_days(c->year, c->mon) ||
	    c->hour > 23 || c->min > 59 || c->sec > 60)
		return -EINVAL;
	v = days_from_civil(c->year, c->mon, c->day) * SECS_PER_DAY +
	    c->hour * 3600 + c->min * 60 + c->sec;
	if ((int64_t)(time_t)v != v)  /* 32-bit time_t past 2038 */
		return -EINVAL;
	*out = (time_t)v;
	return 0;
}

int hdate_parse(const char *s, size_t len, time_t *out)
{
	struct civil c;
	int r;

	if (s == NULL || len < 24)
		return -EINVAL;
	/* The three formats differ at byte 3: ',' for IMF-fixdate, ' ' for
	 * asctime, a letter for RFC 850's long day name. */
	if (s[3] == ',')
		r = len == HDATE_LEN ? parse_imf(s, &c) : -EINVAL;
	else if (s[3] == ' ')
		r = len == 24 ? parse_asctime(s, &c) : -EINVAL;
	else
		r = parse_rfc850(s, len, &c);
	if (r)
		return r;
	return civil_to_time(&c, out);
}
