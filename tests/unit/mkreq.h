/* mkreq: a parsed request for the unit tests of modules that read one. */
#ifndef RS_MKREQ_H
#define RS_MKREQ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const struct http_limits MKREQ_LIM = { 8192, 8192, 100 };
static struct http_request mkreq_req;
static char *mkreq_cur; /* exactly sized copy of the last head: ASan sees overreads */

/* Parse "METHOD / HTTP/1.1", Host and the given header lines (each ending
 * in CRLF); exits when it does not parse. Valid until the next call. */
static const struct http_request *mkreq(const char *method, const char *hdrs)
{
	char head[4096];
	size_t scan = 0;
	int n = snprintf(head, sizeof(head), "%s / HTTP/1.1\r\nHost: h\r\n%s\r\n", method, hdrs);

	free(mkreq_cur);
	mkreq_cur = malloc((size_t)n);
	memcpy(mkreq_cur, head, (size_t)n);
	if (http_parse_request(mkreq_cur, (size_t)n, &scan, &MKREQ_LIM, &mkreq_req) != n) {
		fprintf(stderr, "test request did not parse: %s\n", hdrs);
		exit(1);
	}
	return &mkreq_req;
}

static void mkreq_free(void)
{
	free(mkreq_cur);
	mkreq_cur = NULL;
}

#endif
