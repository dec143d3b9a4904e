#include "log.h"

#include <stdarg.h>
#include <stdio.h>

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
