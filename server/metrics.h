/* metrics: Prometheus text exposition on its own listener (--metrics).
 *
 * One plain thread with blocking sockets answers scrapes one at a time,
 * away from the rings: a scrape sums the workers' counters (struct stats)
 * and never touches their hot paths. Every connection gets one response
 * and is closed; a client has 2 s to send its request and take the answer. */
#ifndef RS_METRICS_H
#define RS_METRICS_H

#include <pthread.h>
#include <stddef.h>

struct server;
struct worker;

struct metrics {
	int fd;               /* the listener, -1: off */
	pthread_t thread;
	int started;
	struct server *srv;
	struct worker *ws;
	unsigned nws;
};

/* Bind and listen on cfg->metrics_addr (before privileges are dropped).
 * 0, or -errno with a message on stderr. */
int metrics_open(struct metrics *m, struct server *srv, struct worker *ws, unsigned n);

/* Serve in a thread until srv->stop; metrics_stop joins it. */
int metrics_start(struct metrics *m);
void metrics_stop(struct metrics *m);

/* The exposition text into buf (at most cap bytes); its length. For tests
 * and the thread. */
size_t metrics_render(char *buf, size_t cap, struct worker *ws, unsigned n);

#endif
