#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int log_level = LOG_INFO;

void log_msg(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fputs per line so lines from several workers never interleave. */
	fprintf(stderr, "ringserve: %s\n", line);
}

void log_limited(struct log_limit *l, uint64_t now_sec, int level, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	if (level > log_level)
		return;
	if (l->sec == now_sec + 1) { /* + 1: a zeroed limiter has printed nothing yet */
		l->held++;
		return;
	}
	l->sec = now_sec + 1;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (l->held)
		log_msg(level, "%s (%llu more like this in the last second)", line,
			(unsigned long long)l->held);
	else
		log_msg(level, "%s", line);
	l->held = 0;
}
