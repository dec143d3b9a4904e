/* listen: sockets to accept on, bound by us or passed by systemd. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define SD_FIRST_FD 3 /* SD_LISTEN_FDS_START */

void listen_describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &slen)) {
		snprintf(out, len, "?");
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *u = (const struct sockaddr_un *)&ss;
		size_t n = slen > offsetof(struct sockaddr_un, sun_path)
				   ? slen - offsetof(struct sockaddr_un, sun_path) : 0;
		if (n && u->sun_path[0] == '\0') /* abstract (only from systemd) */
			snprintf(out, len, "unix:@%.*s", (int)(n - 1), u->sun_path + 1);
		else
			snprintf(out, len, "unix:%.*s", (int)strnlen(u->sun_path, n), u->sun_path);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
	}
}

/* ---- systemd socket activation ----------------------------------------- */

static bool parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The i-th colon-separated word of LISTEN_FDNAMES. */
static void fdname(const char *names, unsigned i, char *out, size_t cap)
{
	out[0] = '\0';
	while (names && i--) {
		names = strchr(names, ':');
		if (names)
			names++;
	}
	if (names)
		snprintf(out, cap, "%.*s", (int)strcspn(names, ":"), names);
}

static int check_inherited(int fd, struct listener *l)
{
	int type = 0, acc = 0, dom = 0;
	socklen_t n = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n))
		return -errno; /* EBADF, ENOTSOCK */
	n = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &n);
	n = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &n);
	if (type != SOCK_STREAM || !acc)
		return -EINVAL;
	if (dom != AF_INET && dom != AF_INET6 && dom != AF_UNIX)
		return -EAFNOSUPPORT;
	l->kind = dom == AF_UNIX ? LK_UNIX : LK_TCP;
	return 0;
}

/* 1: the sockets are systemd's, 0: not activated, -1: bad ones. */
static int from_systemd(struct listen_set *ls, const struct config *cfg)
{
	unsigned long pid, n;
	const char *names = getenv("LISTEN_FDNAMES");

	if (!parse_ulong(getenv("LISTEN_PID"), &pid) || pid != (unsigned long)getpid())
		return 0; /* not for us (a parent's, or none) */
	if (!parse_ulong(getenv("LISTEN_FDS"), &n) || n == 0 || n > LISTEN_MAX) {
		fprintf(stderr, "ringserve: LISTEN_FDS must be 1 to %d sockets (got '%.16s')\n",
			LISTEN_MAX, getenv("LISTEN_FDS") ? getenv("LISTEN_FDS") : "");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct listener *l = &ls->l[i];
		int fd = SD_FIRST_FD + (int)i;

		memset(l, 0, sizeof(*l));
		fdname(names, i, l->fdname, sizeof(l->fdname));
		int r = check_inherited(fd, l);
		if (r) {
			fprintf(stderr, "ringserve: systemd socket %d (fd %d%s%s): %s\n", i + 1, fd,
				l->fdname[0] ? ", " : "", l->fdname,
				r == -EINVAL ? "not a listening stream socket" : strerror(-r));
			return -1;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (l->kind == LK_TCP) { /* accepted sockets inherit it, as with ours */
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		l->fd = fd;
		l->shared = l->inherited = true;
		l->proxy = cfg->proxy_protocol && l->kind == LK_TCP;
		listen_describe(fd, l->name, sizeof(l->name));
	}
	ls->n = (unsigned)n;
	ls->activated = true;
	/* Our children (none today) must not take them for theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (cfg->nbinds)
		log_info("socket activation: the %u socket%s systemd passed replace --bind", ls->n,
			 ls->n == 1 ? "" : "s");
	return 1;
}

/* ---- our own sockets ----------------------------------------------------- */

/* A path in the way of a new unix socket: replace it only when it is a
 * socket nobody accepts on (a server that died without removing it). */
static int unix_clear(const struct sockaddr_un *un, socklen_t len, const char *name)
{
	struct stat st;

	if (lstat(un->sun_path, &st)) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "ringserve: %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "ringserve: %s: the path exists and is not a socket\n", name);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "ringserve: %s: %s\n", name, strerror(errno));
		return -1;
	}
	int r = connect(fd, (const struct sockaddr *)un, len), e = errno;
	close(fd);
	/* EAGAIN: a live listener whose backlog is full. */
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		fprintf(stderr, "ringserve: %s: another server is listening on it\n", name);
		return -1;
	}
	if (e != ECONNREFUSED) {
		fprintf(stderr, "ringserve: %s: cannot tell whether it is in use: %s\n", name,
			strerror(e));
		return -1;
	}
	if (unlink(un->sun_path) && errno != ENOENT) {
		fprintf(stderr, "ringserve: %s: removing the stale socket: %s\n", name,
			strerror(errno));
		return -1;
	}
	log_info("%s: replaced a stale socket file", name);
	return 0;
}

static int unix_open(struct listener *l, const struct config *cfg)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&l->addr;
	bool bound = false;
	struct stat st;

	if (unix_clear(un, l->len, l->name))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	if (bind(fd, (const struct sockaddr *)un, l->len))
		goto err;
	bound = true;
	/* Nobody can connect before listen(), which comes after this. */
	if (chmod(un->sun_path, cfg->unix_mode))
		goto err;
	if (cfg->user[0]) {
		struct passwd *pw = getpwnam(cfg->user);
		if (!pw) {
			fprintf(stderr, "ringserve: --user: no such user '%s'\n", cfg->user);
			goto fail;
		}
		if (chown(un->sun_path, pw->pw_uid, pw->pw_gid))
			goto err;
	}
	if (lstat(un->sun_path, &st))
		goto err;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->fd = fd;
	return 0;
err:
	fprintf(stderr, "ringserve: %s: %s\n", l->name, strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	if (bound)
		unlink(un->sun_path); /* ours but unusable: do not leave it */
	return -1;
}

/* No -b: "::" serving both families, or 0.0.0.0 on a host without IPv6. */
static void default_listener(struct listener *l, const struct config *cfg)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&l->addr, 0, sizeof(l->addr));
	if (fd >= 0 || errno != EAFNOSUPPORT) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&l->addr;
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)cfg->port);
		l->len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&l->addr;
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = htons((uint16_t)cfg->port);
		l->len = sizeof(*a4);
	}
	if (fd >= 0)
		close(fd);
	snprintf(l->name, sizeof(l->name), "all interfaces port %u", cfg->port);
}

static in_port_t *port_of(struct sockaddr_storage *ss);

/* --tls-port: every TCP listener gets an HTTPS twin on the same address;
 * -p off then drops the HTTP ones (unix sockets stay: they were named). */
static void add_tls(struct listen_set *ls, const struct config *cfg)
{
	unsigned n = ls->n, out = 0;

	for (unsigned i = 0; i < n; i++) {
		if (ls->l[i].kind != LK_TCP)
			continue;
		struct listener *t = &ls->l[ls->n++];
		char name[sizeof(t->name)];
		snprintf(name, sizeof(name), "%.120s", ls->l[i].name);
		*t = ls->l[i];
		t->tls = true;
		t->proxy = false; /* PROXY before TLS is not supported */
		*port_of(&t->addr) = htons((uint16_t)cfg->tls_port);
		snprintf(t->name, sizeof(t->name), "%.120s (HTTPS port %u)", name, cfg->tls_port);
	}
	if (!cfg->http_off)
		return;
	for (unsigned i = 0; i < ls->n; i++)
		if (ls->l[i].tls || ls->l[i].kind != LK_TCP)
			ls->l[out++] = ls->l[i];
	ls->n = out;
}

int listen_setup(struct listen_set *ls, const struct config *cfg)
{
	int r = from_systemd(ls, cfg);

	if (r > 0 && cfg->tls_on)
		log_warn("--tls-port: socket activation passes the sockets; no HTTPS listener of our own");
	if (r)
		return r < 0 ? -1 : 0;
	ls->n = cfg->nbinds ? cfg->nbinds : 1;
	for (unsigned i = 0; i < ls->n; i++) {
		struct listener *l = &ls->l[i];
		memset(l, 0, sizeof(*l));
		l->fd = -1;
		if (!cfg->nbinds) {
			default_listener(l, cfg);
		} else {
			l->addr = cfg->binds[i].addr;
			l->len = cfg->binds[i].len;
			snprintf(l->name, sizeof(l->name), "%s", cfg->binds[i].str);
		}
		l->kind = l->addr.ss_family == AF_UNIX ? LK_UNIX : LK_TCP;
		l->proxy = cfg->proxy_protocol && l->kind == LK_TCP;
		if (l->kind == LK_UNIX) {
			l->shared = true;
			if (unix_open(l, cfg)) {
				ls->n = i; /* what is open so far is closed by listen_close */
				return -1;
			}
		}
	}
	if (cfg->tls_on)
		add_tls(ls, cfg);
	return 0;
}

static int tcp_open(struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, zero = 0;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto err;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* "::" serves IPv4 too unless the admin's sysctl says otherwise. */
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)ss, len))
		goto err;
	return fd;
err:;
	int e = -errno;
	close(fd);
	return e;
}

static in_port_t *port_of(struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? &((struct sockaddr_in6 *)ss)->sin6_port
					 : &((struct sockaddr_in *)ss)->sin_port;
}

int listen_worker_fds(struct listen_set *ls, int *fds)
{
	for (unsigned i = 0; i < ls->n; i++)
		fds[i] = -1;
	for (unsigned i = 0; i < ls->n; i++) {
		struct listener *l = &ls->l[i];

		if (l->shared) {
			fds[i] = l->fd;
			continue;
		}
		fds[i] = tcp_open(&l->addr, l->len);
		if (fds[i] < 0) {
			fprintf(stderr, "ringserve: cannot listen on %s: %s\n", l->name,
				strerror(-fds[i]));
			fds[i] = -1;
			listen_worker_close(ls, fds);
			return -1;
		}
		/* Port 0: the first worker's socket got a port from the kernel
		 * and every other worker joins it there. */
		if (*port_of(&l->addr) == 0) {
			struct sockaddr_storage got;
			socklen_t glen = sizeof(got);
			if (getsockname(fds[i], (struct sockaddr *)&got, &glen) == 0)
				*port_of(&l->addr) = *port_of(&got);
		}
	}
	return 0;
}

void listen_worker_close(const struct listen_set *ls, int *fds)
{
	for (unsigned i = 0; i < ls->n; i++) {
		if (!ls->l[i].shared && fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int listen_start(const struct listen_set *ls, int *const *wfds, unsigned nworkers,
		 unsigned backlog)
{
	for (unsigned i = 0; i < ls->n; i++) {
		const struct listener *l = &ls->l[i];

		for (unsigned w = 0; w < (l->shared ? 1 : nworkers); w++) {
			int fd = l->shared ? l->fd : wfds[w][i];
			if (!l->inherited && listen(fd, (int)backlog)) {
				fprintf(stderr, "ringserve: listen on %s: %s\n", l->name, strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

void listen_unlink(const struct listen_set *ls)
{
	for (unsigned i = 0; i < ls->n; i++) {
		const struct listener *l = &ls->l[i];
		const struct sockaddr_un *un = (const struct sockaddr_un *)&l->addr;
		struct stat st;

		if (l->kind != LK_UNIX || l->inherited || l->fd < 0)
			continue;
		/* Another server may have replaced it meanwhile: leave that one. */
		if (lstat(un->sun_path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
			unlink(un->sun_path);
	}
}

unsigned listen_tls_port(const struct listen_set *ls)
{
	for (unsigned i = 0; i < ls->n; i++)
		if (ls->l[i].tls)
			return ntohs(*port_of((struct sockaddr_storage *)&ls->l[i].addr));
	return 443;
}

void listen_close(struct listen_set *ls)
{
	for (unsigned i = 0; i < ls->n; i++) {
		if (ls->l[i].shared && ls->l[i].fd >= 0)
			close(ls->l[i].fd);
		ls->l[i].fd = -1;
	}
}
