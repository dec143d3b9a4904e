/* log: one line per event on stderr, prefixed "ringserve: ". */
#ifndef RS_LOG_H
#define RS_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level;

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Repeated conditions (EMFILE on every accept, a full disk under the
 * access log) print at most one line per second per limiter; the next line
 * printed says how many were held back. */
struct log_limit {
	uint64_t sec;
	uint64_t held;
};

void log_limited(struct log_limit *l, uint64_t now_sec, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)

#endif
