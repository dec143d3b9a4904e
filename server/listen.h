/* listen: the listeners, from -b or from systemd socket activation.
 *
 * A TCP address given with -b gets one SO_REUSEPORT socket per worker, so
 * the kernel spreads its connections across workers without a shared
 * accept queue. A unix socket (-b unix:PATH) and every socket systemd
 * passes are single sockets shared by all workers: each worker's ring
 * accepts on the same descriptor. */
#ifndef RS_LISTEN_H
#define RS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"

/* Each TCP -b may have its HTTPS twin. */
#define LISTEN_MAX (2 * CONFIG_BINDS_MAX)

enum listen_kind { LK_TCP = 0, LK_UNIX };

struct listener {
	unsigned char kind;   /* enum listen_kind */
	bool shared;          /* one socket (fd) for every worker */
	bool inherited;       /* from systemd: never listen()ed, shut down or unlinked here */
	bool proxy;           /* a PROXY protocol header comes first (--proxy-protocol, TCP) */
	bool tls;             /* HTTPS (--tls-port): the same address on the TLS port */
	int fd;               /* the shared socket, else -1 */
	struct sockaddr_storage addr; /* TCP: where each worker binds (port 0 resolved by the first) */
	socklen_t len;
	dev_t dev;            /* our unix socket file: removed at exit if it is still ours */
	ino_t ino;
	char name[160];       /* "127.0.0.1:8080", "[::1]:80", "unix:/run/a.sock", as given */
	char fdname[64];      /* LISTEN_FDNAMES entry, "" when not from systemd */
};

struct listen_set {
	struct listener l[LISTEN_MAX];
	unsigned n;
	bool activated;       /* the sockets came from systemd */
};

/* Take systemd's sockets when LISTEN_PID is our pid (LISTEN_FDS of them
 * from fd 3 on; the variables are then removed from the environment), or
 * else prepare cfg's -b listeners (no -b: all interfaces on -p), creating
 * the unix sockets now: a stale socket file (nothing accepts on it) is
 * replaced, a live one or a file that is not a socket is an error. The
 * mode and, with --user, the owner of a new unix socket are set here.
 * 0, or -1 after a one-line message on stderr. */
int listen_setup(struct listen_set *ls, const struct config *cfg);

/* One worker's descriptors: fds[i] for ls->l[i], a socket of its own
 * (bound, not listening) for per-worker TCP listeners, the shared one for
 * the others. TCP_NODELAY is set on ours because accepted sockets inherit
 * it and direct descriptors cannot be setsockopt()'d. 0, or -1 after a
 * message; fds already opened are then closed again. */
int listen_worker_fds(struct listen_set *ls, int *fds);

/* listen() on what is ours: every worker's own sockets (wfds[w][i]) and
 * the shared ones once; systemd's are listening already. 0, or -1 after
 * a message. */
int listen_start(const struct listen_set *ls, int *const *wfds, unsigned nworkers,
		 unsigned backlog);

/* Close a worker's own sockets (not the shared ones). */
void listen_worker_close(const struct listen_set *ls, int *fds);

/* At shutdown: remove our unix socket files (those still ours), so new
 * clients are refused at once. */
void listen_unlink(const struct listen_set *ls);

/* The port of the HTTPS listeners (resolved when 0 was asked), for
 * --redirect-https. */
unsigned listen_tls_port(const struct listen_set *ls);

/* Close the shared sockets, once every worker is gone. */
void listen_close(struct listen_set *ls);

/* "127.0.0.1:8080" / "[::1]:8080" / "unix:/run/a.sock" for fd's local
 * address (port 0 resolved). */
void listen_describe(int fd, char *out, size_t len);

#endif
