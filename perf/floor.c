/*
 * floor: the least a static file server can do per response, as a yardstick.
 *
 * One thread, one epoll set, non-blocking sockets, keep-alive, pipelined
 * requests answered in order. Nothing else: no Date header, no logging, no
 * timeouts, no ranges, GET only. Two modes:
 *
 *   mem       every regular file directly under ROOT is read at start into
 *             one buffer holding its whole response (head + body); a request
 *             costs one write() of it (the rest is kept for EPOLLOUT when the
 *             socket buffer is full);
 *   sendfile  the files are opened once at start and kept open; a request
 *             costs send(MSG_MORE) of the head, then sendfile(2) of the body
 *             in chunks of at most 2 MiB, continued on EPOLLOUT.
 *
 * perf/bench runs both beside ringserve and its peers: a server that does
 * only these syscalls per response reaches these rates, so ringserve's
 * ratio to them measures its engine rather than the client or the kernel.
 *
 *   floor --mode mem|sendfile [-p PORT] [-b ADDR] [-m MAXBYTES] ROOT
 *
 * The file set is fixed at start (files added later are 404). Files larger
 * than MAXBYTES (default 256 MiB) are left out of mem mode, so a 1 GiB test
 * file next to the hot set does not cost a GiB of memory.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_CAP 4096             /* request bytes buffered per connection */
#define CHUNK (2u << 20)        /* most bytes per sendfile() call */
#define MAX_EVENTS 256

enum mode { MODE_MEM, MODE_SENDFILE };

struct file {
	char *name;             /* path without the leading '/' */
	size_t name_len;
	char *resp;             /* mem: head + body; sendfile: head only */
	size_t resp_len;        /* bytes of resp */
	int fd;                 /* sendfile: open file; mem: -1 */
	off_t size;             /* body bytes */
};

/* One connection. While a response is in flight (out != NULL) nothing else
 * is parsed or read: responses leave in request order by construction. */
struct conn {
	int fd;
	int readable;           /* input may be waiting in the socket */
	const char *out;        /* unsent head (sendfile) or response (mem) */
	size_t out_len;
	const struct file *body; /* sendfile: body still to send, or NULL */
	off_t body_off;
	size_t in_off, in_len;  /* unparsed input: in[in_off .. in_len) */
	char in[IN_CAP];
};

static enum mode mode;
static struct file *files;
static size_t nfiles;

static const char not_found[] =
	"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	"Connection: keep-alive\r\n\r\n";

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static const char head_fmt[] =
	"HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Connection: keep-alive\r\n\r\n";

/* Read the whole of FD (SIZE bytes) into DST. */
static int read_all(int fd, char *dst, off_t size)
{
	off_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, dst + got, (size_t)(size - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* Load every regular file directly under ROOT (no subdirectories). */
static void load_files(const char *root, off_t max_mem)
{
	DIR *d = opendir(root);
	struct dirent *e;
	size_t cap = 0;

	if (!d)
		die(root);
	while ((e = readdir(d))) {
		struct stat st;
		struct file *f;
		char head[256];
		int fd, hlen;

		if (e->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    (mode == MODE_MEM && st.st_size > max_mem)) {
			if (S_ISREG(st.st_mode))
				fprintf(stderr, "floor: %s left out (%lld bytes "
					"> -m %lld)\n", e->d_name,
					(long long)st.st_size,
					(long long)max_mem);
			close(fd);
			continue;
		}
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 16;
			files = realloc(files, cap * sizeof(*files));
			if (!files)
				die("realloc");
		}
		f = &files[nfiles];
		f->name = strdup(e->d_name);
		f->name_len = strlen(e->d_name);
		f->size = st.st_size;
		hlen = snprintf(head, sizeof(head), head_fmt,
				(long long)st.st_size);
		f->resp_len = (size_t)hlen;
		if (mode == MODE_MEM)
			f->resp_len += (size_t)st.st_size;
		f->resp = malloc(f->resp_len);
		if (!f->name || !f->resp)
			die("malloc");
		memcpy(f->resp, head, (size_t)hlen);
		if (mode == MODE_MEM) {
			if (read_all(fd, f->resp + hlen, st.st_size))
				die(e->d_name);
			close(fd);
			f->fd = -1;
		} else {
			f->fd = fd;
		}
		nfiles++;
	}
	closedir(d);
}

static const struct file *lookup(const char *path, size_t len)
{
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].name_len == len &&
		    !memcmp(files[i].name, path, len))
			return &files[i];
	return NULL;
}

/*
 * Parse the next complete request in c->in and set up its response.
 * Returns 1 if one was taken, 0 if the input holds no complete head yet,
 * -1 for input we do not serve (not a GET, no path): the caller closes.
 * Only the request line is read; header fields are skipped and a request
 * body is not expected (GET).
 */
static int take_request(struct conn *c)
{
	char *p = c->in + c->in_off, *end, *path, *stop;
	size_t avail = c->in_len - c->in_off;
	const struct file *f;

	end = memmem(p, avail, "\r\n\r\n", 4);
	if (!end)
		return 0;
	if (end - p < 5 || memcmp(p, "GET /", 5))
		return -1;
	path = p + 5;
	stop = path;
	while (stop < end && *stop != ' ' && *stop != '?' && *stop != '\r')
		stop++;
	f = lookup(path, (size_t)(stop - path));
	c->in_off += (size_t)(end + 4 - p);     /* this request is consumed */
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (!f) {
		c->out = not_found;
		c->out_len = sizeof(not_found) - 1;
		return 1;
	}
	c->out = f->resp;
	c->out_len = f->resp_len;
	if (mode == MODE_SENDFILE && f->size > 0) {
		c->body = f;
		c->body_off = 0;
	}
	return 1;
}

/*
 * Send what is left of the current response. Returns 0 when it is all
 * sent, 1 when the socket buffer is full (EPOLLOUT will call again), -1 on
 * an error (the caller closes).
 */
static int push(struct conn *c)
{
	while (c->out_len) {
		ssize_t n;

		if (mode == MODE_MEM)
			n = write(c->fd, c->out, c->out_len);
		else
			n = send(c->fd, c->out, c->out_len,
				 c->body ? MSG_MORE | MSG_NOSIGNAL :
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 1 : -1;
		c->out += n;
		c->out_len -= (size_t)n;
	}
	c->out = NULL;
	while (c->body) {
		off_t left = c->body->size - c->body_off;
		ssize_t n = sendfile(c->fd, c->body->fd, &c->body_off,
				     left > CHUNK ? CHUNK : (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 1 : -1;
		if (n == 0)
			return -1;      /* the file shrank under us */
		if (c->body_off == c->body->size)
			c->body = NULL;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->fd);   /* also removes it from the epoll set */
	free(c);
}

/*
 * Make all the progress possible on C: finish the response in flight,
 * answer the next complete request in the buffer, read when the buffer has
 * no complete request. The sockets are edge-triggered, so this runs until
 * the socket would block (or a short read says its queue is empty).
 */
static void conn_run(struct conn *c)
{
	for (;;) {
		int r;
		ssize_t n;
		size_t space;

		if (c->out || c->body) {
			r = push(c);
			if (r < 0)
				goto close;
			if (r > 0)
				return;         /* wait for EPOLLOUT */
		}
		r = take_request(c);
		if (r < 0)
			goto close;
		if (r > 0)
			continue;
		if (!c->readable)
			return;
		if (c->in_off) {        /* keep the partial head at the front */
			memmove(c->in, c->in + c->in_off,
				c->in_len - c->in_off);
			c->in_len -= c->in_off;
			c->in_off = 0;
		}
		space = IN_CAP - c->in_len;
		if (!space)
			goto close;             /* head larger than IN_CAP */
		n = read(c->fd, c->in + c->in_len, space);
		if (n > 0) {
			c->in_len += (size_t)n;
			/* A short read emptied the socket's queue (epoll(7)):
			 * the next edge tells us when more arrives. */
			if ((size_t)n < space)
				c->readable = 0;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			c->readable = 0;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		goto close;                     /* EOF or error */
	}
close:
	conn_close(c);
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "floor: -b wants an IPv4 address, not %s\n",
			addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(fd, 4096))   /* as ringserve's default --backlog */
		die("listen");
	return fd;
}

/* Accept until the queue is empty; each socket joins the set once, for
 * both directions, edge-triggered: no epoll_ctl per response. */
static void accept_all(int lfd, int ep)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev;
		struct conn *c;
		int one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN; or EMFILE: retried on the next wakeup */
		}
		/* Pipelined responses must not wait for the peer's ACK. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->readable = 1;        /* the request may already be there */
		c->out = NULL;
		c->out_len = 0;
		c->body = NULL;
		c->in_off = c->in_len = 0;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			conn_close(c);
			continue;
		}
		conn_run(c);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: floor --mode mem|sendfile [-p PORT] [-b ADDR] "
		"[-m MAXBYTES] ROOT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *root = NULL, *mode_name = NULL;
	struct epoll_event evs[MAX_EVENTS], lev = { .events = EPOLLIN };
	off_t max_mem = 256ll << 20;
	int port = 8080, lfd, ep;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--mode") && i + 1 < argc)
			mode_name = argv[++i];
		else if (!strcmp(a, "-p") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(a, "-b") && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(a, "-m") && i + 1 < argc)
			max_mem = atoll(argv[++i]);
		else if (a[0] != '-' && !root)
			root = a;
		else
			usage();
	}
	if (!root || !mode_name || port < 0 || port > 65535)
		usage();
	if (!strcmp(mode_name, "mem"))
		mode = MODE_MEM;
	else if (!strcmp(mode_name, "sendfile"))
		mode = MODE_SENDFILE;
	else
		usage();

	signal(SIGPIPE, SIG_IGN);       /* write() to a closed peer: EPIPE */
	load_files(root, max_mem);
	lfd = listen_on(addr, port);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	lev.data.ptr = NULL;            /* NULL marks the listener */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev))
		die("epoll_ctl");
	printf("floor: mode %s, %zu files from %s, listening on %s:%d\n",
	       mode_name, nfiles, root, addr, port);
	fflush(stdout);

	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				accept_all(lfd, ep);
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				conn_close(c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
				c->readable = 1;
			conn_run(c);
		}
	}
}
