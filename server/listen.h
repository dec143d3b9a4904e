/* listen: one SO_REUSEPORT listening socket per worker, so the kernel spreads
 * connections across workers without any shared accept queue or lock. */
#ifndef RS_LISTEN_H
#define RS_LISTEN_H

#include <stddef.h>

struct config;

/* A socket bound to cfg's address and `port` (0: the kernel picks; *bound
 * gets the port actually bound), not yet listening: listen() comes once
 * every worker is ready, so no connection is taken by a server that then
 * fails to start. TCP_NODELAY is set here because accepted sockets inherit
 * it and direct descriptors cannot be setsockopt()'d. fd or -errno. */
int listen_open(const struct config *cfg, unsigned port, unsigned *bound);

/* "127.0.0.1:8080" / "[::1]:8080" for fd's local address. */
void listen_describe(int fd, char *out, size_t len);

#endif
