/*
 * transfer-lab: file -> TCP socket transfer mechanisms, measured side by side.
 *
 * For one file and a list of transfer sizes, each mechanism sends "one
 * response of SIZE bytes" (the file range [0, SIZE)) over and over on one
 * long-lived loopback TCP connection for a fixed time, and the lab reports
 * throughput (GB/s, 1e9 bytes) and sender CPU cost (CPU seconds per GiB).
 * A last pair of rows measures O_DIRECT reads alone (no socket): the disk.
 *
 * Topology:
 *   - the receiver is a separate process (fork) pinned to CPU 1: accept,
 *     recv() into a 1 MiB buffer, discard, until EOF; next connection.
 *   - the sender is this process, its main thread pinned to CPU 0; io-wq
 *     workers of every ring are pinned to CPU 0 too (io_uring_register_iowq_aff)
 *     unless --iowq-any, so all sender-side work shares one core.
 *   - CPU cost = getrusage(RUSAGE_SELF) of the sender process. That includes
 *     io-wq worker threads (they belong to the process's thread group), so the
 *     splice hop done by workers is counted. Because the receiver is another
 *     process, nothing of it is subtracted or mixed in. Note that on loopback
 *     the TCP receive processing (softirq) usually runs on the sending CPU
 *     and is charged to the sender; it is the same for every mechanism.
 *   - receiver CPU is read from /proc/<pid>/schedstat (ns) to show when a
 *     cell is receiver-bound.
 *
 * "Chunk": mechanisms that move data through a user buffer or a pipe do it in
 * chunks of min(SIZE, --chunk) bytes (default 1 MiB = default pipe-max-size);
 * the buffer (or the pipe, via F_SETPIPE_SZ) has the chunk size.
 *
 * Sender sockets use TCP_NODELAY, as ringserve does. --rounds N repeats the
 * matrix and keeps each cell's best round (for shared machines).
 *
 * Build: cc -O2 -Wall -Wextra -D_GNU_SOURCE -o transfer-lab transfer-lab.c -luring
 * Run through perf/transfer-lab (the wrapper compiles on demand).
 */

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

#define KIB (1024ull)
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)
#define RX_BUF (1 * MIB)
#define MAX_SIZES 16
#define ODIRECT_MAX_QD 4
#define ZC_BUFS 4

/* fixed file table slots */
enum { FI_FILE, FI_SOCK, FI_PIPE_R, FI_PIPE_W, FI_COUNT };

enum mech {
	M_RW, M_MMAP, M_SENDFILE, M_SPLICE,
	M_U_RW, M_U_SPLICE, M_U_ZC, M_U_ZC4,
	M_ODIRECT1, M_ODIRECT4,
	M_COUNT
};

static const struct {
	const char *key;	/* --mech name and JSON key */
	const char *label;	/* table row */
	int ring;		/* needs io_uring */
	int socket;		/* sends to the receiver */
} mechs[M_COUNT] = {
	[M_RW]       = { "read-write",      "read+write",                 0, 1 },
	[M_MMAP]     = { "mmap-write",      "mmap+write",                 0, 1 },
	[M_SENDFILE] = { "sendfile",        "sendfile",                   0, 1 },
	[M_SPLICE]   = { "splice",          "splice file>pipe>sock",      0, 1 },
	[M_U_RW]     = { "uring-read-send", "uring READ_FIXED>SEND",      1, 1 },
	[M_U_SPLICE] = { "uring-splice",    "uring SPLICE>SPLICE linked", 1, 1 },
	[M_U_ZC]     = { "uring-send-zc",   "uring READ_FIXED>SEND_ZC",   1, 1 },
	[M_U_ZC4]    = { "uring-send-zc-4buf", "uring READ_FIXED>SEND_ZC 4buf", 1, 1 },
	[M_ODIRECT1] = { "odirect-qd1",     "O_DIRECT READ_FIXED qd1",    1, 0 },
	[M_ODIRECT4] = { "odirect-qd4",     "O_DIRECT READ_FIXED qd4",    1, 0 },
};

struct cell {
	int ok;			/* 1 measured, 0 n/a */
	char why[160];		/* n/a reason */
	unsigned long long bytes, responses;
	double elapsed, cpu, rx_cpu;
	double other;		/* CPU seconds used by everything else on the machine */
};

static struct {
	size_t sizes[MAX_SIZES];
	int nsizes;
	double seconds, warmup;
	int rounds;
	size_t chunk_max;
	const char *file;
	const char *json;
	int iowq_any;
	int sel[M_COUNT];
} opt;

static struct cell cells[M_COUNT][MAX_SIZES];
static char tmpdir[4096], tmpfile_path[4200];
static pid_t rx_pid = -1;
static int rx_report = -1;	/* receiver -> sender: bytes received per connection */
static struct sockaddr_in rx_addr;
static off_t file_size;
static int ring_unavailable;	/* errno of a failed io_uring_queue_init */

/* ------------------------------------------------------------------ util */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double cpu_receiver(void)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)rx_pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns / 1e9;
}

/* busy CPU seconds of the whole machine (all CPUs), from /proc/stat */
static double cpu_machine(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	fclose(f);
	/* user nice system [idle iowait] irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}

static void cleanup(void)
{
	if (rx_pid > 0) {
		kill(rx_pid, SIGKILL);
		waitpid(rx_pid, NULL, 0);
		rx_pid = -1;
	}
	if (tmpfile_path[0]) {
		unlink(tmpfile_path);
		tmpfile_path[0] = 0;
	}
	if (tmpdir[0]) {
		rmdir(tmpdir);
		tmpdir[0] = 0;
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("transfer-lab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static const char *size_label(size_t s, char *buf, size_t len)
{
	if (s >= GIB && s % GIB == 0)
		snprintf(buf, len, "%zuG", (size_t)(s / GIB));
	else if (s >= MIB && s % MIB == 0)
		snprintf(buf, len, "%zuM", (size_t)(s / MIB));
	else if (s >= KIB && s % KIB == 0)
		snprintf(buf, len, "%zuK", (size_t)(s / KIB));
	else
		snprintf(buf, len, "%zu", s);
	return buf;
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v *= KIB; end++; break;
	case 'm': case 'M': v *= MIB; end++; break;
	case 'g': case 'G': v *= GIB; end++; break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v == 0)
		die("bad size '%s' (use e.g. 16K, 1M)", s);
	return v;
}

static size_t max_size(void)
{
	size_t m = 0;
	for (int i = 0; i < opt.nsizes; i++)
		if (opt.sizes[i] > m)
			m = opt.sizes[i];
	return m;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= r;
	}
	return 0;
}

/* -------------------------------------------------------------- receiver */

static void receiver(int lfd, int report)
{
	char *buf = malloc(RX_BUF);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	if (pin_cpu(1) < 0)
		fprintf(stderr, "transfer-lab: receiver: cannot pin to CPU 1: %s\n",
			strerror(errno));
	if (!buf)
		_exit(1);
	for (;;) {
		uint64_t total = 0;
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (;;) {
			ssize_t r = recv(c, buf, RX_BUF, 0);
			if (r > 0) {
				total += r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		close(c);
		if (write(report, &total, sizeof(total)) != sizeof(total))
			_exit(1);
	}
}

/* Bytes the receiver got on the connection just closed (-1: no answer). */
static long long receiver_count(void)
{
	struct pollfd pfd = { .fd = rx_report, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, 10000) != 1 || read(rx_report, &v, sizeof(v)) != sizeof(v))
		return -1;
	return (long long)v;
}

static void start_receiver(void)
{
	socklen_t len = sizeof(rx_addr);
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int rp[2];

	if (lfd < 0 || pipe(rp) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&rx_addr, 0, sizeof(rx_addr));
	rx_addr.sin_family = AF_INET;
	rx_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&rx_addr, sizeof(rx_addr)) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&rx_addr, &len) < 0)
		die("listen on 127.0.0.1: %s", strerror(errno));
	fflush(NULL);
	rx_pid = fork();
	if (rx_pid < 0)
		die("fork: %s", strerror(errno));
	if (rx_pid == 0) {
		close(rp[0]);
		receiver(lfd, rp[1]);
	}
	close(rp[1]);
	rx_report = rp[0];
	close(lfd);
}

static int connect_receiver(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	/* as ringserve does (server/listen.c): no Nagle delay on response tails */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (connect(fd, (struct sockaddr *)&rx_addr, sizeof(rx_addr)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* ------------------------------------------------------------------ file */

static int fs_is_memory(const char *dir)
{
	struct statfs sf;
	if (statfs(dir, &sf) < 0)
		return 1;
	return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

static void create_file(size_t size)
{
	const char *cands[] = { getenv("TMPDIR"), "/var/tmp", "/tmp", "." };
	const char *dir = NULL;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char *buf;
	int fd;

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (cands[i] && access(cands[i], W_OK) == 0 &&
		    !fs_is_memory(cands[i])) {
			dir = cands[i];
			break;
		}
	}
	if (!dir)
		die("no writable directory on a disk filesystem (TMPDIR, /var/tmp, /tmp, .); use --file");
	snprintf(tmpdir, sizeof(tmpdir), "%s/transfer-lab.XXXXXX", dir);
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = 0;
		die("mkdtemp in %s: %s", dir, strerror(errno));
	}
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/data", tmpdir);
	fd = open(tmpfile_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die("create %s: %s", tmpfile_path, strerror(errno));
	buf = malloc(MIB);
	if (!buf)
		die("out of memory");
	for (size_t off = 0; off < size; off += MIB) {
		size_t n = min_sz(MIB, size - off);
		for (size_t i = 0; i < n / 8; i++) {	/* xorshift64 */
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			memcpy(buf + i * 8, &x, 8);
		}
		int r = write_all(fd, buf, n);
		if (r < 0)
			die("write %s: %s", tmpfile_path, strerror(-r));
	}
	if (fsync(fd) < 0)
		die("fsync %s: %s", tmpfile_path, strerror(errno));
	close(fd);
	free(buf);
	opt.file = tmpfile_path;
}

static void warm_cache(int fd)
{
	char *buf = malloc(MIB);
	if (!buf)
		return;
	for (off_t off = 0; off < file_size; off += MIB)
		if (pread(fd, buf, MIB, off) <= 0)
			break;
	free(buf);
}

/* --------------------------------------------------------------- context */

struct ctx {
	int m;			/* mechanism */
	int file;		/* buffered fd (or O_DIRECT fd for M_ODIRECT*) */
	int sock;
	int pipe[2];
	size_t pipe_sz;
	char *buf;		/* nbufs chunk buffers (registered for ring mechs) */
	size_t buf_len;		/* one chunk buffer */
	int nbufs;
	int zc_pend[ZC_BUFS];	/* SEND_ZC notifications owed per buffer */
	int zc_next;
	char *dbuf[ODIRECT_MAX_QD];	/* O_DIRECT buffers */
	int qd;
	size_t dio_align;
	struct io_uring ring;
	int have_ring;
	unsigned long long sent;	/* bytes of complete responses on c->sock */
	int broken;			/* a response failed on c->sock */
	char err[160];
};

static int seterr(struct ctx *c, int e, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(e < 0 ? -e : e));
	return -1;
}

/* --------------------------------------------------- classic mechanisms */

static int resp_rw(struct ctx *c, size_t size)
{
	for (size_t off = 0; off < size;) {
		size_t n = min_sz(c->buf_len, size - off);
		ssize_t r = pread(c->file, c->buf, n, off);
		if (r <= 0)
			return seterr(c, r < 0 ? errno : EIO, "pread");
		int w = write_all(c->sock, c->buf, r);
		if (w < 0)
			return seterr(c, w, "write");
		off += r;
	}
	return 0;
}

static int resp_mmap(struct ctx *c, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, c->file, 0);
	if (p == MAP_FAILED)
		return seterr(c, errno, "mmap");
	int w = write_all(c->sock, p, size);
	munmap(p, size);
	if (w < 0)
		return seterr(c, w, "write");
	return 0;
}

static int resp_sendfile(struct ctx *c, size_t size)
{
	off_t off = 0;
	while ((size_t)off < size) {
		ssize_t r = sendfile(c->sock, c->file, &off, size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return seterr(c, r < 0 ? errno : EIO, "sendfile");
	}
	return 0;
}

static int resp_splice(struct ctx *c, size_t size)
{
	loff_t off = 0;
	while ((size_t)off < size) {
		size_t n = min_sz(c->pipe_sz, size - off);
		ssize_t r = splice(c->file, &off, c->pipe[1], NULL, n, SPLICE_F_MOVE);
		if (r <= 0)
			return seterr(c, r < 0 ? errno : EIO, "splice file>pipe");
		unsigned more = (size_t)off < size ? SPLICE_F_MORE : 0;
		while (r > 0) {
			ssize_t s = splice(c->pipe[0], NULL, c->sock, NULL, r,
					   SPLICE_F_MOVE | more);
			if (s <= 0)
				return seterr(c, s < 0 ? errno : EIO, "splice pipe>sock");
			r -= s;
		}
	}
	return 0;
}

/* ---------------------------------------------------- io_uring helpers */

static int next_cqe(struct ctx *c, uint64_t *ud, int *res, unsigned *flags)
{
	struct io_uring_cqe *cqe;
	for (;;) {
		int ret = io_uring_peek_cqe(&c->ring, &cqe);
		if (ret == 0)
			break;
		ret = io_uring_submit_and_wait(&c->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
	*ud = cqe->user_data;
	*res = cqe->res;
	*flags = cqe->flags;
	io_uring_cqe_seen(&c->ring, cqe);
	return 0;
}

/* Submit a linked pair (user_data 1 and 2) and collect both results. */
static int wait_pair(struct ctx *c, int *first, int *second)
{
	io_uring_submit_and_wait(&c->ring, 2);
	for (int got = 0; got < 2; got++) {
		uint64_t ud;
		int res;
		unsigned fl;
		int r = next_cqe(c, &ud, &res, &fl);
		if (r < 0)
			return r;
		*(ud == 1 ? first : second) = res;
	}
	return 0;
}

/* Submit the one SQE just prepared and wait for its result. */
static int wait_one(struct ctx *c, int *res)
{
	uint64_t ud;
	unsigned fl;

	io_uring_submit(&c->ring);
	return next_cqe(c, &ud, res, &fl);
}

static struct io_uring_sqe *sqe_get(struct ctx *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	if (!sqe) {
		io_uring_submit(&c->ring);
		sqe = io_uring_get_sqe(&c->ring);
	}
	return sqe;	/* the ring is never full here: at most 4 in flight */
}

/*
 * READ_FIXED linked to SEND per chunk, one registered buffer: one submit, both
 * CQEs awaited, then the buffer is free (SEND has copied it). A short send
 * (not expected with MSG_WAITALL) is completed with more SENDs.
 */
static int resp_uring_rw(struct ctx *c, size_t size)
{
	for (size_t off = 0; off < size;) {
		size_t n = min_sz(c->buf_len, size - off);
		int more = off + n < size ? MSG_MORE : 0;
		struct io_uring_sqe *sqe;
		int rd = INT32_MIN, sd = INT32_MIN;

		sqe = sqe_get(c);
		io_uring_prep_read_fixed(sqe, FI_FILE, c->buf, n, off, 0);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
		sqe->user_data = 1;
		sqe = sqe_get(c);
		io_uring_prep_send(sqe, FI_SOCK, c->buf, n, MSG_WAITALL | more);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = 2;
		int r = wait_pair(c, &rd, &sd);
		if (r < 0)
			return seterr(c, r, "io_uring wait");
		if (rd <= 0)
			return seterr(c, rd < 0 ? rd : -EIO, "read_fixed");
		if (sd < 0 && sd != -ECANCELED)
			return seterr(c, sd, "send");
		if (sd < 0)
			sd = 0;	/* short read cancelled the send: send what we have */
		while (sd < rd) {
			int res;
			sqe = sqe_get(c);
			io_uring_prep_send(sqe, FI_SOCK, c->buf + sd, rd - sd,
					   MSG_WAITALL | more);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = 3;
			r = wait_one(c, &res);
			if (r < 0)
				return seterr(c, r, "io_uring wait");
			if (res <= 0)
				return seterr(c, res < 0 ? res : -EIO, "send");
			sd += res;
		}
		off += rd;
	}
	return 0;
}

/*
 * SEND_ZC. c->nbufs registered buffers of c->buf_len used in rotation; a
 * buffer is reused only after the IORING_CQE_F_NOTIF of every send from it
 * (c->zc_pend[slot] counts the notifications still owed). With one buffer
 * every chunk waits for its notification; with several, the next chunk is
 * read and sent while earlier ones are still held by the stack.
 * user_data = slot << 8 | kind (1 read, 2 send, 3 rest of a short send).
 */
static int zc_event(struct ctx *c, uint64_t *ud, int *res, unsigned *fl)
{
	int r = next_cqe(c, ud, res, fl);
	if (r < 0)
		return seterr(c, r, "io_uring wait");
	unsigned slot = *ud >> 8, kind = *ud & 0xff;
	if (*fl & IORING_CQE_F_NOTIF) {
		c->zc_pend[slot]--;
		return 0;
	}
	if ((kind == 2 || kind == 3) && (*fl & IORING_CQE_F_MORE))
		c->zc_pend[slot]++;
	return 1;
}

static int zc_drain(struct ctx *c)
{
	for (int k = 0; k < c->nbufs; k++)
		while (c->zc_pend[k] > 0) {
			uint64_t ud; int res; unsigned fl;
			if (zc_event(c, &ud, &res, &fl) < 0)
				return -1;
		}
	return 0;
}

static int resp_uring_zc(struct ctx *c, size_t size)
{
	for (size_t off = 0; off < size;) {
		size_t n = min_sz(c->buf_len, size - off);
		int k = c->zc_next;
		char *buf = c->buf + (size_t)k * c->buf_len;
		struct io_uring_sqe *sqe;
		int rd = INT32_MIN, sd = INT32_MIN;

		c->zc_next = (k + 1) % c->nbufs;
		while (c->zc_pend[k] > 0) {	/* buffer still held by the stack */
			uint64_t ud; int res; unsigned fl;
			if (zc_event(c, &ud, &res, &fl) < 0)
				return -1;
		}
		/*
		 * No MSG_MORE with ZC: a corked tail keeps a reference to the
		 * buffer, so its notification would not come until the next send.
		 */
		sqe = sqe_get(c);
		io_uring_prep_read_fixed(sqe, FI_FILE, buf, n, off, k);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
		sqe->user_data = (uint64_t)k << 8 | 1;
		sqe = sqe_get(c);
		io_uring_prep_send_zc_fixed(sqe, FI_SOCK, buf, n, MSG_WAITALL, 0, k);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = (uint64_t)k << 8 | 2;
		io_uring_submit_and_wait(&c->ring, 2);
		while (rd == INT32_MIN || sd == INT32_MIN) {
			uint64_t ud; int res; unsigned fl;
			int r = zc_event(c, &ud, &res, &fl);
			if (r < 0)
				return -1;
			if (r == 0 || (int)(ud >> 8) != k)
				continue;
			if ((ud & 0xff) == 1)
				rd = res;
			else
				sd = res;
		}
		if (rd <= 0)
			return seterr(c, rd < 0 ? rd : -EIO, "read_fixed");
		if (sd < 0 && sd != -ECANCELED)
			return seterr(c, sd, "send_zc");
		if (sd < 0)
			sd = 0;
		while (sd < rd) {
			uint64_t ud; int res = INT32_MIN; unsigned fl;
			sqe = sqe_get(c);
			io_uring_prep_send_zc_fixed(sqe, FI_SOCK, buf + sd, rd - sd,
						    MSG_WAITALL, 0, k);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = (uint64_t)k << 8 | 3;
			io_uring_submit(&c->ring);
			for (;;) {
				int r = zc_event(c, &ud, &res, &fl);
				if (r < 0)
					return -1;
				if (r == 1 && ud == ((uint64_t)k << 8 | 3))
					break;
			}
			if (res <= 0)
				return seterr(c, res < 0 ? res : -EIO, "send_zc");
			sd += res;
		}
		off += rd;
	}
	return 0;
}

/* SPLICE file->pipe linked to SPLICE pipe->socket, all fds fixed. */
static int resp_uring_splice(struct ctx *c, size_t size)
{
	for (size_t off = 0; off < size;) {
		size_t n = min_sz(c->pipe_sz, size - off);
		unsigned more = off + n < size ? SPLICE_F_MORE : 0;
		struct io_uring_sqe *sqe;
		int r1 = INT32_MIN, r2 = INT32_MIN;

		sqe = sqe_get(c);
		io_uring_prep_splice(sqe, FI_FILE, off, FI_PIPE_W, -1, n,
				     SPLICE_F_FD_IN_FIXED | SPLICE_F_MOVE);
		sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;	/* fd_out fixed */
		sqe->user_data = 1;
		sqe = sqe_get(c);
		io_uring_prep_splice(sqe, FI_PIPE_R, -1, FI_SOCK, -1, n,
				     SPLICE_F_FD_IN_FIXED | SPLICE_F_MOVE | more);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = 2;
		int r = wait_pair(c, &r1, &r2);
		if (r < 0)
			return seterr(c, r, "io_uring wait");
		if (r1 <= 0)
			return seterr(c, r1 < 0 ? r1 : -EIO, "splice file>pipe");
		if (r2 < 0 && r2 != -ECANCELED)
			return seterr(c, r2, "splice pipe>sock");
		if (r2 < 0)
			r2 = 0;
		/* drain what is left in the pipe (short splice) */
		for (int left = r1 - r2; left > 0;) {
			int res;
			sqe = sqe_get(c);
			io_uring_prep_splice(sqe, FI_PIPE_R, -1, FI_SOCK, -1, left,
					     SPLICE_F_FD_IN_FIXED | SPLICE_F_MOVE | more);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = 3;
			r = wait_one(c, &res);
			if (r < 0)
				return seterr(c, r, "io_uring wait");
			if (res <= 0)
				return seterr(c, res < 0 ? res : -EIO, "splice pipe>sock");
			left -= res;
		}
		off += r1;
	}
	return 0;
}

/*
 * O_DIRECT: keep c->qd READ_FIXED of `unit` bytes in flight, walking the file
 * sequentially (wrapping), for `dur` seconds; then drain. Returns bytes read.
 */
static long long odirect_stream(struct ctx *c, size_t unit, double dur)
{
	off_t span = file_size - file_size % unit, next = 0;
	long long bytes = 0;
	int inflight = 0, stop = 0;
	double end = now() + dur;

	for (int s = 0; s < c->qd; s++) {
		struct io_uring_sqe *sqe = sqe_get(c);
		io_uring_prep_read_fixed(sqe, FI_FILE, c->dbuf[s], unit, next, s);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = s;
		next += unit;
		if (next + (off_t)unit > span)
			next = 0;
		inflight++;
	}
	io_uring_submit(&c->ring);
	while (inflight) {
		uint64_t ud; int res; unsigned fl;
		int r = next_cqe(c, &ud, &res, &fl);
		if (r < 0)
			return seterr(c, r, "io_uring wait");
		inflight--;
		if (res != (int)unit) {
			stop = 1;
			if (!c->err[0])
				seterr(c, res < 0 ? res : -EIO, "O_DIRECT read_fixed");
			continue;
		}
		bytes += res;
		if (stop || now() >= end) {
			stop = 1;
			continue;
		}
		struct io_uring_sqe *sqe = sqe_get(c);
		io_uring_prep_read_fixed(sqe, FI_FILE, c->dbuf[ud], unit, next, ud);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = ud;
		next += unit;
		if (next + (off_t)unit > span)
			next = 0;
		inflight++;
		io_uring_submit(&c->ring);
	}
	return c->err[0] ? -1 : bytes;
}

/* ------------------------------------------------------------ row setup */

static int ring_setup(struct ctx *c)
{
	struct io_uring_params p;
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		ret = io_uring_queue_init_params(16, &c->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0) {
		ring_unavailable = -ret;
		return seterr(c, ret, "io_uring_queue_init");
	}
	c->have_ring = 1;
	io_uring_register_ring_fd(&c->ring);
	if (!opt.iowq_any) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		ret = io_uring_register_iowq_aff(&c->ring, sizeof(set), &set);
		if (ret < 0)
			fprintf(stderr, "transfer-lab: io-wq affinity: %s (workers unpinned)\n",
				strerror(-ret));
	}

	struct io_uring_probe *probe = io_uring_get_probe_ring(&c->ring);
	if (probe) {
		int need = c->m == M_U_SPLICE ? IORING_OP_SPLICE :
			   (c->m == M_U_ZC || c->m == M_U_ZC4) ? IORING_OP_SEND_ZC :
			   IORING_OP_READ_FIXED;
		int ok = io_uring_opcode_supported(probe, need);
		io_uring_free_probe(probe);
		if (!ok)
			return seterr(c, EOPNOTSUPP, need == IORING_OP_SEND_ZC ? "SEND_ZC" :
				      c->m == M_U_SPLICE ? "SPLICE" : "READ_FIXED");
	}

	int files[FI_COUNT] = { c->file, c->sock, c->pipe[0], c->pipe[1] };
	ret = io_uring_register_files(&c->ring, files, FI_COUNT);
	if (ret < 0)
		return seterr(c, ret, "register_files");

	struct iovec iov[ODIRECT_MAX_QD > ZC_BUFS ? ODIRECT_MAX_QD : ZC_BUFS];
	int niov = 0;
	if (c->buf) {
		for (int i = 0; i < c->nbufs; i++) {
			iov[i].iov_base = c->buf + (size_t)i * c->buf_len;
			iov[i].iov_len = c->buf_len;
		}
		niov = c->nbufs;
	} else if (c->m == M_ODIRECT1 || c->m == M_ODIRECT4) {
		for (int i = 0; i < c->qd; i++) {
			iov[i].iov_base = c->dbuf[i];
			iov[i].iov_len = opt.chunk_max;
		}
		niov = c->qd;
	}
	if (niov) {
		ret = io_uring_register_buffers(&c->ring, iov, niov);
		if (ret < 0)
			return seterr(c, ret, ret == -ENOMEM ?
				      "register_buffers (RLIMIT_MEMLOCK?)" : "register_buffers");
	}
	return 0;
}

static char *alloc_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int row_setup(struct ctx *c)
{
	int m = c->m;

	c->file = c->sock = c->pipe[0] = c->pipe[1] = -1;
	if (mechs[m].socket) {
		c->file = open(opt.file, O_RDONLY);
		if (c->file < 0)
			return seterr(c, errno, "open file");
		warm_cache(c->file);
		c->sock = connect_receiver();
		if (c->sock < 0)
			return seterr(c, c->sock, "connect");
	} else {
		struct statx sx;
		c->file = open(opt.file, O_RDONLY | O_DIRECT);
		if (c->file < 0)
			return seterr(c, errno, errno == EINVAL ?
				      "O_DIRECT open (tmpfs?)" : "O_DIRECT open");
		c->dio_align = 4096;
		if (statx(c->file, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
		    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
			c->dio_align = sx.stx_dio_offset_align;
			if (sx.stx_dio_mem_align > 4096)
				return seterr(c, EINVAL, "dio mem align > 4096");
		}
		c->qd = m == M_ODIRECT4 ? 4 : 1;
		for (int i = 0; i < c->qd; i++) {
			c->dbuf[i] = alloc_buf(opt.chunk_max);	/* page aligned */
			if (!c->dbuf[i])
				return seterr(c, errno, "mmap buffer");
		}
	}
	if (m == M_RW || m == M_U_RW || m == M_U_ZC || m == M_U_ZC4) {
		c->buf_len = opt.chunk_max;
		c->nbufs = m == M_U_ZC4 ? ZC_BUFS : 1;
		c->buf = alloc_buf(c->buf_len * c->nbufs);
		if (!c->buf)
			return seterr(c, errno, "mmap buffer");
	}
	if (m == M_SPLICE || m == M_U_SPLICE) {
		if (pipe(c->pipe) < 0)
			return seterr(c, errno, "pipe");
	}
	if (mechs[m].ring)
		return ring_setup(c);
	return 0;
}

/* Resize the pipe to the chunk for this size; returns 0 or -1. */
static int pipe_resize(struct ctx *c, size_t chunk)
{
	int r = fcntl(c->pipe[1], F_SETPIPE_SZ, (int)chunk);
	if (r < 0) {
		/* over pipe-max-size without CAP_SYS_RESOURCE: keep what we have */
		r = fcntl(c->pipe[1], F_GETPIPE_SZ);
		if (r < 0)
			return seterr(c, errno, "F_GETPIPE_SZ");
		fprintf(stderr, "transfer-lab: F_SETPIPE_SZ %zu failed (%s); pipe is %d bytes\n",
			chunk, strerror(errno), r);
	}
	c->pipe_sz = min_sz((size_t)r, chunk);
	return 0;
}

static void row_teardown(struct ctx *c)
{
	if (c->have_ring)
		io_uring_queue_exit(&c->ring);
	c->have_ring = 0;
	if (c->sock >= 0) {
		close(c->sock);
		long long got = receiver_count();
		if (!c->broken && got != (long long)c->sent)
			fprintf(stderr, "transfer-lab: WARNING %s: receiver got %lld bytes, sender sent %llu\n",
				mechs[c->m].label, got, c->sent);
	}
	if (c->file >= 0)
		close(c->file);
	if (c->pipe[0] >= 0)
		close(c->pipe[0]);
	if (c->pipe[1] >= 0)
		close(c->pipe[1]);
	if (c->buf)
		munmap(c->buf, c->buf_len * c->nbufs);
	for (int i = 0; i < ODIRECT_MAX_QD; i++)
		if (c->dbuf[i])
			munmap(c->dbuf[i], opt.chunk_max);
}

/* ------------------------------------------------------------- one cell */

typedef int (*resp_fn)(struct ctx *, size_t);

static const resp_fn resp_fns[M_COUNT] = {
	[M_RW] = resp_rw, [M_MMAP] = resp_mmap, [M_SENDFILE] = resp_sendfile,
	[M_SPLICE] = resp_splice, [M_U_RW] = resp_uring_rw,
	[M_U_SPLICE] = resp_uring_splice, [M_U_ZC] = resp_uring_zc,
	[M_U_ZC4] = resp_uring_zc,
};

static void na(struct cell *out, const char *why)
{
	out->ok = 0;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

static void run_cell(struct ctx *c, size_t size, struct cell *out)
{
	size_t chunk = min_sz(size, opt.chunk_max);
	double t0, t1, cpu0, rx0, mach0, end;
	unsigned long long n = 0, bytes = 0;

	c->err[0] = 0;
	memset(out, 0, sizeof(*out));
	if (c->m == M_SPLICE || c->m == M_U_SPLICE) {
		if (pipe_resize(c, chunk) < 0)
			return na(out, c->err);
	}

	if (!mechs[c->m].socket) {
		size_t unit = chunk;
		long long b;
		if (unit % c->dio_align || (off_t)unit > file_size)
			return na(out, "size not O_DIRECT aligned / larger than file");
		posix_fadvise(c->file, 0, 0, POSIX_FADV_DONTNEED);
		if (odirect_stream(c, unit, opt.warmup) < 0)
			return na(out, c->err);
		posix_fadvise(c->file, 0, 0, POSIX_FADV_DONTNEED);
		mach0 = cpu_machine();
		cpu0 = cpu_self();
		t0 = now();
		b = odirect_stream(c, unit, opt.seconds);
		t1 = now();
		if (b < 0)
			return na(out, c->err);
		out->other = cpu_machine() - mach0 - (cpu_self() - cpu0);
		if (out->other < 0)	/* /proc/stat counts in ticks */
			out->other = 0;
		out->ok = 1;
		out->bytes = b;
		out->responses = b / unit;
		out->elapsed = t1 - t0;
		out->cpu = cpu_self() - cpu0;
		return;
	}

	resp_fn fn = resp_fns[c->m];
	end = now() + opt.warmup;
	do {
		if (fn(c, size) < 0)
			return na(out, c->err);
		c->sent += size;
	} while (now() < end);

	mach0 = cpu_machine();
	rx0 = cpu_receiver();
	cpu0 = cpu_self();
	t0 = now();
	end = t0 + opt.seconds;
	do {
		if (fn(c, size) < 0)
			return na(out, c->err);
		n++;
		bytes += size;
		c->sent += size;
		t1 = now();
	} while (t1 < end);
	if (c->nbufs && (c->m == M_U_ZC || c->m == M_U_ZC4)) {
		/* notifications still owed are part of the cost */
		if (zc_drain(c) < 0)
			return na(out, c->err);
		t1 = now();
	}
	out->cpu = cpu_self() - cpu0;
	out->rx_cpu = cpu_receiver() - rx0;
	out->other = cpu_machine() - mach0 - out->cpu - out->rx_cpu;
	if (out->other < 0)	/* /proc/stat counts in ticks */
		out->other = 0;
	out->ok = 1;
	out->bytes = bytes;
	out->responses = n;
	out->elapsed = t1 - t0;
}

/* Run one mechanism over all sizes into row[] (one connection, one ring). */
static void run_row(int m, struct cell *row)
{
	struct ctx c;
	char lab[32];

	memset(&c, 0, sizeof(c));
	c.m = m;
	if (mechs[m].ring && ring_unavailable) {
		char why[160];
		snprintf(why, sizeof(why), "io_uring unavailable: %s",
			 strerror(ring_unavailable));
		for (int i = 0; i < opt.nsizes; i++)
			na(&row[i], why);
		return;
	}
	if (row_setup(&c) < 0) {
		fprintf(stderr, "transfer-lab: %-28s n/a: %s\n", mechs[m].label, c.err);
		for (int i = 0; i < opt.nsizes; i++)
			na(&row[i], c.err);
		row_teardown(&c);
		return;
	}
	for (int i = 0; i < opt.nsizes; i++) {
		struct cell *o = &row[i];
		run_cell(&c, opt.sizes[i], o);
		size_label(opt.sizes[i], lab, sizeof(lab));
		if (o->ok)
			fprintf(stderr, "  %-28s %5s  %6.2f GB/s  %6.3f CPU s/GiB  (busy %%: sender %3.0f, receiver %3.0f, other %3.0f)\n",
				mechs[m].label, lab, o->bytes / o->elapsed / 1e9,
				o->cpu / (o->bytes / (double)GIB),
				100 * o->cpu / o->elapsed, 100 * o->rx_cpu / o->elapsed,
				100 * o->other / o->elapsed);
		else
			fprintf(stderr, "  %-28s %5s  n/a: %s\n", mechs[m].label, lab, o->why);
		if (!o->ok && mechs[m].socket) {
			/* the stream may be mid-response: start a fresh connection */
			int fd = connect_receiver();
			if (fd >= 0) {
				if (c.have_ring) {
					int r = io_uring_register_files_update(&c.ring, FI_SOCK, &fd, 1);
					if (r < 0)
						fprintf(stderr, "transfer-lab: files_update: %s\n", strerror(-r));
				}
				close(c.sock);
				receiver_count();
				c.sock = fd;
				c.sent = 0;
				c.broken = 0;
			} else {
				c.broken = 1;
			}
		}
	}
	row_teardown(&c);
}

/* ---------------------------------------------------------------- output */

static void print_table(void)
{
	char lab[32], cell[64];
	int w = 30;

	printf("\n%-*s", w, "mechanism");
	for (int i = 0; i < opt.nsizes; i++)
		printf(" | %16s", size_label(opt.sizes[i], lab, sizeof(lab)));
	printf("\n");
	for (int m = 0; m < M_COUNT; m++) {
		if (!opt.sel[m])
			continue;
		printf("%-*s", w, mechs[m].label);
		for (int i = 0; i < opt.nsizes; i++) {
			struct cell *o = &cells[m][i];
			if (o->ok)
				snprintf(cell, sizeof(cell), "%.2f (%.3f)",
					 o->bytes / o->elapsed / 1e9,
					 o->cpu / (o->bytes / (double)GIB));
			else
				snprintf(cell, sizeof(cell), "n/a");
			printf(" | %16s", cell);
		}
		printf("\n");
	}
	printf("cells: GB/s (sender CPU s/GiB); sender CPU = whole sender process incl. io-wq");
	if (opt.rounds > 1)
		printf("; best of %d rounds", opt.rounds);
	printf(".\n");

	printf("\nbusy %% of one CPU: sender/receiver/other processes (receiver ~100 = receiver-bound;\n"
	       "other > ~10 = the machine was not quiet, numbers are low and noisy)\n");
	printf("%-*s", w, "mechanism");
	for (int i = 0; i < opt.nsizes; i++)
		printf(" | %16s", size_label(opt.sizes[i], lab, sizeof(lab)));
	printf("\n");
	for (int m = 0; m < M_COUNT; m++) {
		if (!opt.sel[m])
			continue;
		printf("%-*s", w, mechs[m].label);
		for (int i = 0; i < opt.nsizes; i++) {
			struct cell *o = &cells[m][i];
			if (o->ok && mechs[m].socket)
				snprintf(cell, sizeof(cell), "%.0f/%.0f/%.0f",
					 100 * o->cpu / o->elapsed, 100 * o->rx_cpu / o->elapsed,
					 100 * o->other / o->elapsed);
			else if (o->ok)
				snprintf(cell, sizeof(cell), "%.0f/-/%.0f", 100 * o->cpu / o->elapsed,
					 100 * o->other / o->elapsed);
			else
				snprintf(cell, sizeof(cell), "n/a");
			printf(" | %16s", cell);
		}
		printf("\n");
	}
	for (int m = 0; m < M_COUNT; m++)
		for (int i = 0; i < opt.nsizes; i++)
			if (opt.sel[m] && !cells[m][i].ok) {
				printf("n/a %s %s: %s\n", mechs[m].key,
				       size_label(opt.sizes[i], lab, sizeof(lab)), cells[m][i].why);
			}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void write_json(const char *path, double total)
{
	FILE *f = fopen(path, "w");
	struct utsname u;

	if (!f) {
		fprintf(stderr, "transfer-lab: %s: %s\n", path, strerror(errno));
		return;
	}
	uname(&u);
	fprintf(f, "{\n  \"tool\": \"transfer-lab\",\n  \"rounds\": %d,\n  \"kernel\": ", opt.rounds);
	json_str(f, u.release);
	fprintf(f, ",\n  \"file\": ");
	json_str(f, opt.file);
	fprintf(f, ",\n  \"file_size\": %lld,\n  \"seconds_per_cell\": %g,\n"
		"  \"warmup_per_cell\": %g,\n  \"chunk_max\": %zu,\n"
		"  \"iowq_pinned_cpu0\": %s,\n  \"total_seconds\": %.1f,\n"
		"  \"units\": {\"gbps\": \"1e9 bytes/s\", \"cpu_s_per_gib\": "
		"\"sender process CPU seconds (RUSAGE_SELF, incl. io-wq) per 2^30 bytes\"},\n"
		"  \"sizes\": [", (long long)file_size, opt.seconds, opt.warmup,
		opt.chunk_max, opt.iowq_any ? "false" : "true", total);
	for (int i = 0; i < opt.nsizes; i++)
		fprintf(f, "%s%zu", i ? ", " : "", opt.sizes[i]);
	fprintf(f, "],\n  \"results\": [");
	int first = 1;
	for (int m = 0; m < M_COUNT; m++) {
		if (!opt.sel[m])
			continue;
		for (int i = 0; i < opt.nsizes; i++) {
			struct cell *o = &cells[m][i];
			fprintf(f, "%s\n    {\"mechanism\": \"%s\", \"label\": ",
				first ? "" : ",", mechs[m].key);
			json_str(f, mechs[m].label);
			fprintf(f, ", \"size\": %zu, ", opt.sizes[i]);
			first = 0;
			if (!o->ok) {
				fprintf(f, "\"gbps\": null, \"cpu_s_per_gib\": null, \"error\": ");
				json_str(f, o->why);
				fprintf(f, "}");
				continue;
			}
			fprintf(f, "\"gbps\": %.4f, \"cpu_s_per_gib\": %.5f, "
				"\"bytes\": %llu, \"responses\": %llu, \"elapsed\": %.4f, "
				"\"sender_cpu_s\": %.4f, ",
				o->bytes / o->elapsed / 1e9, o->cpu / (o->bytes / (double)GIB),
				o->bytes, o->responses, o->elapsed, o->cpu);
			if (mechs[m].socket)
				fprintf(f, "\"receiver_cpu_s\": %.4f, ", o->rx_cpu);
			else
				fprintf(f, "\"receiver_cpu_s\": null, ");
			fprintf(f, "\"other_cpu_s\": %.3f, ", o->other);
			fprintf(f, "\"error\": null}");
		}
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f) != 0)
		fprintf(stderr, "transfer-lab: %s: write failed\n", path);
}

/* ------------------------------------------------------------------ main */

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: transfer-lab [--sizes 16K,128K,1M,64M] [--seconds 2] [--warmup 0.25]\n"
		"                    [--file PATH] [--json FILE] [--mech a,b,...] [--chunk 1M]\n"
		"                    [--rounds N] [--iowq-any] [--quick]\n"
		"mechanisms:");
	for (int m = 0; m < M_COUNT; m++)
		fprintf(code ? stderr : stdout, " %s", mechs[m].key);
	fprintf(code ? stderr : stdout, "\n");
	exit(code);
}

static void parse_list(char *s, void (*fn)(const char *))
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		fn(tok);
}

static void add_size(const char *s)
{
	if (opt.nsizes == MAX_SIZES)
		die("too many sizes (max %d)", MAX_SIZES);
	opt.sizes[opt.nsizes++] = parse_size(s);
}

static void add_mech(const char *s)
{
	for (int m = 0; m < M_COUNT; m++)
		if (!strcmp(s, mechs[m].key)) {
			opt.sel[m] = 1;
			return;
		}
	die("unknown mechanism '%s' (see --help)", s);
}

int main(int argc, char **argv)
{
	int quick = 0, mech_given = 0;
	double t_start = now();

	opt.seconds = -1;
	opt.rounds = 1;
	opt.warmup = -1;
	opt.chunk_max = MIB;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) die("%s needs a value", a); i++; } while (0)
		if (!strcmp(a, "--sizes")) {
			NEEDV();
			char *s = strdup(v);
			opt.nsizes = 0;
			parse_list(s, add_size);
			free(s);
		} else if (!strcmp(a, "--seconds")) {
			NEEDV();
			opt.seconds = atof(v);
			if (opt.seconds <= 0)
				die("bad --seconds");
		} else if (!strcmp(a, "--warmup")) {
			NEEDV();
			opt.warmup = atof(v);
		} else if (!strcmp(a, "--file")) {
			NEEDV();
			opt.file = v;
		} else if (!strcmp(a, "--json")) {
			NEEDV();
			opt.json = v;
		} else if (!strcmp(a, "--chunk")) {
			NEEDV();
			opt.chunk_max = parse_size(v);
			if (opt.chunk_max % 4096 || opt.chunk_max > 64 * MIB)
				die("--chunk must be a multiple of 4K, at most 64M");
		} else if (!strcmp(a, "--mech")) {
			NEEDV();
			char *s = strdup(v);
			parse_list(s, add_mech);
			free(s);
			mech_given = 1;
		} else if (!strcmp(a, "--iowq-any")) {
			opt.iowq_any = 1;
		} else if (!strcmp(a, "--rounds")) {
			NEEDV();
			opt.rounds = atoi(v);
			if (opt.rounds < 1 || opt.rounds > 100)
				die("bad --rounds");
		} else if (!strcmp(a, "--quick")) {
			quick = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(0);
		} else {
			fprintf(stderr, "transfer-lab: unknown argument '%s'\n", a);
			usage(2);
		}
	}
	if (!opt.nsizes) {
		static const size_t def[] = { 16 * KIB, 128 * KIB, MIB, 64 * MIB };
		for (size_t i = 0; i < 4; i++)
			opt.sizes[opt.nsizes++] = def[i];
	}
	if (opt.seconds < 0)
		opt.seconds = quick ? 0.25 : 2.0;
	if (opt.warmup < 0)
		opt.warmup = quick ? 0.05 : 0.25;
	if (!mech_given)
		for (int m = 0; m < M_COUNT; m++)
			opt.sel[m] = 1;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);

	/* registered buffers count against RLIMIT_MEMLOCK (unless CAP_IPC_LOCK) */
	struct rlimit rl;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		struct rlimit want = { RLIM_INFINITY, RLIM_INFINITY };
		if (setrlimit(RLIMIT_MEMLOCK, &want) < 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_MEMLOCK, &rl);
		}
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		fprintf(stderr, "transfer-lab: only %ld CPU online; sender and receiver will share it\n", ncpu);

	size_t need = max_size();
	if (opt.file) {
		struct stat st;
		if (stat(opt.file, &st) < 0)
			die("%s: %s", opt.file, strerror(errno));
		if ((size_t)st.st_size < need)
			die("%s is %lld bytes, smaller than the largest size %zu",
			    opt.file, (long long)st.st_size, need);
		file_size = st.st_size;
		if (fs_is_memory(opt.file))
			fprintf(stderr, "transfer-lab: %s is on tmpfs/ramfs: O_DIRECT rows measure memory copies, not a disk\n",
				opt.file);
	} else {
		size_t sz = need < 64 * MIB ? 64 * MIB : need;
		sz = (sz + 4095) & ~(size_t)4095;
		fprintf(stderr, "transfer-lab: creating a %zu MiB test file...\n", (size_t)(sz / MIB));
		create_file(sz);
		file_size = sz;
	}

	start_receiver();
	if (pin_cpu(0) < 0)
		fprintf(stderr, "transfer-lab: cannot pin sender to CPU 0: %s\n", strerror(errno));

	fprintf(stderr, "transfer-lab: file %s (%lld bytes), %d round(s) of %g s per cell (+%g s warm-up), chunk <= %zu KiB, io-wq %s\n",
		opt.file, (long long)file_size, opt.rounds, opt.seconds, opt.warmup,
		opt.chunk_max / 1024, opt.iowq_any ? "unpinned" : "pinned to CPU 0");

	/*
	 * Rounds: the whole matrix again, mechanisms in alternating order; each
	 * cell keeps its best (highest GB/s) round, the one least disturbed by
	 * other load on a shared machine.
	 */
	for (int r = 0; r < opt.rounds; r++) {
		if (opt.rounds > 1)
			fprintf(stderr, "transfer-lab: round %d/%d\n", r + 1, opt.rounds);
		for (int k = 0; k < M_COUNT; k++) {
			int m = r % 2 ? M_COUNT - 1 - k : k;
			struct cell row[MAX_SIZES];
			if (!opt.sel[m])
				continue;
			run_row(m, row);
			for (int i = 0; i < opt.nsizes; i++) {
				struct cell *best = &cells[m][i], *o = &row[i];
				if (r == 0 || (o->ok && (!best->ok ||
				    o->bytes / o->elapsed > best->bytes / best->elapsed)))
					*best = *o;
			}
		}
	}

	double total = now() - t_start;
	print_table();
	printf("total run time %.1f s\n", total);
	if (opt.json)
		write_json(opt.json, total);
	return 0;
}
