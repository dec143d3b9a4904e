/* ringserve: a static HTTP/1.1 file server on io_uring.
 *
 * main parses the command line, checks that io_uring is usable, opens the
 * root and one listener per worker, starts the workers and waits for a
 * signal. Exit status: 0 clean shutdown, 1 runtime failure, 2 usage error. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alog.h"
#include "authpool.h"
#include "config.h"
#include "direct.h"
#include "fallback.h"
#include "headers.h"
#include "nofile.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "resid.h"
#include "ring.h"
#include "url.h"
#include "worker.h"
#include "https.h"
#include "ktls.h"
#include "tls.h"
#include "tlsctx.h"

/* Raise a soft limit to its hard limit; returns the soft limit in force. */
static rlim_t raise_limit(int res)
{
	struct rlimit rl;

	if (getrlimit(res, &rl))
		return 0;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(res, &rl);
		getrlimit(res, &rl);
	}
	return rl.rlim_cur;
}

/* True when memory the kernel pins for us is charged to RLIMIT_MEMLOCK:
 * no CAP_IPC_LOCK (bit 14 of CapEff) and a finite limit. */
static bool memlock_charged(rlim_t *limit)
{
	char line[128];
	unsigned long long caps = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");
	struct rlimit rl;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (f)
		fclose(f);
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return false;
	*limit = rl.rlim_cur;
	return !(caps & (1ull << 14));
}

static rlim_t pages(rlim_t bytes)
{
	return (bytes + 4095) & ~(rlim_t)4095;
}

/* Under a charged RLIMIT_MEMLOCK every ring and buffer ring counts against
 * it: pick the largest completion queue that lets all workers' rings fit,
 * and keep provided buffer rings only if they fit too (else recv goes into
 * connection buffers). Registered buffers fall back on their own. */
static void fit_memlock(struct server *srv, const struct config *cfg)
{
	rlim_t limit;
	unsigned mult = 8;

	srv->cq_mult = mult;
	srv->pbuf_ok = true;
	if (!memlock_charged(&limit))
		return;
	rlim_t ring = 0;
	for (; mult >= 1; mult /= 2) {
		rlim_t cq = (rlim_t)cfg->ring_entries * mult;
		ring = pages((rlim_t)cfg->ring_entries * 64) + pages(cq * 16 + cfg->ring_entries * 4 + 256);
		if (ring * cfg->threads <= limit || mult == 1)
			break;
	}
	srv->cq_mult = mult ? mult : 1;
	rlim_t pbuf = pages((rlim_t)cfg->recv_bufs * 16);
	srv->pbuf_ok = (ring + pbuf) * cfg->threads <= limit;
	log_warn("RLIMIT_MEMLOCK is %llu bytes without CAP_IPC_LOCK: completion queues of %u "
		 "entries%s; buffers may be unregistered", (unsigned long long)limit,
		 cfg->ring_entries * srv->cq_mult, srv->pbuf_ok ? "" : ", no provided buffer rings");
}

/* The i-th CPU this process may run on, or -1. */
static int nth_cpu(unsigned i)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	int count = CPU_COUNT(&set);
	if (count <= 0)
		return -1;
	unsigned want = i % (unsigned)count;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && want-- == 0)
			return cpu;
	return -1;
}

static int open_root(const char *root)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "ringserve: cannot serve '%s': %s\n", root, strerror(errno));
	return fd;
}

static int start_workers(struct server *srv, struct worker *ws, unsigned n)
{
	const struct config *cfg = srv->cfg;

	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &ws[i];
		memset(w, 0, sizeof(*w));
		w->id = i;
		w->srv = srv;
		w->cfg = cfg;
		w->cpu = cfg->pin_cpus ? nth_cpu(i) : -1;
		if (listen_worker_fds(&srv->listen, w->lfd))
			return -1;
		atomic_fetch_add(&srv->running, 1);
		int ret = worker_start(w);
		if (ret)
			atomic_fetch_sub(&srv->running, 1);
		if (ret == 0) {
			sem_wait(&w->ready);
			ret = w->init_err;
		}
		if (ret) {
			fprintf(stderr, "ringserve: worker %u: %s: %s\n", i,
				w->init_what ? w->init_what : "start", strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/* Ask every worker to drain and wake it now rather than at its next tick. */
static void request_stop(struct server *srv)
{
	uint64_t one = 1;

	atomic_store(&srv->stop, 1);
	if (write(srv->wake_fd, &one, sizeof(one)) < 0)
		log_warn("waking workers: %s", strerror(errno));
}

/* Wait until every worker has drained (each ends by --drain-timeout); a
 * second signal ends the process at once. */
static void wait_drained(struct server *srv, const sigset_t *sigs)
{
	struct timespec poll = { 0, 100 * 1000 * 1000 };

	while (atomic_load(&srv->running) > 0) {
		int sig = sigtimedwait(sigs, NULL, &poll);
		if (sig == SIGHUP || sig == SIGUSR1)
			continue; /* a log rotation while draining: the old file is fine */
		if (sig > 0) {
			log_warn("%s again: exiting without draining", strsignal(sig));
			_exit(1);
		}
	}
}

/* Every worker is set up: listen now, then let the workers accept. */
static int open_gates(struct server *srv, struct worker *ws, unsigned n)
{
	int **fds = calloc(n, sizeof(*fds));

	if (!fds) {
		fprintf(stderr, "ringserve: out of memory\n");
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		fds[i] = ws[i].lfd;
	int ret = listen_start(&srv->listen, fds, n, srv->cfg->backlog);
	free(fds);
	return ret;
}

/* --user: after binding (so port 80 works) and after the workers pinned
 * their buffers, become NAME for good. glibc applies it to every thread;
 * io_uring takes the submitter's credentials for each request, so every
 * open from now on is checked as NAME. */
static int drop_privileges(const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (!pw) {
		fprintf(stderr, "ringserve: --user: no such user '%s'\n", name);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		fprintf(stderr, "ringserve: --user %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "ringserve: --user %s: privileges could be regained\n", name);
		return -1;
	}
	return 0;
}

/* Workers wait on `go` after setup, started or failed alike. */
static void release_workers(struct worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ws[i].thread)
			sem_post(&ws[i].go);
}

static void join_workers(struct server *srv, struct worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (ws[i].thread)
			pthread_join(ws[i].thread, NULL);
		listen_worker_close(&srv->listen, ws[i].lfd);
	}
	listen_close(&srv->listen);
}

/* --access-log: the file every worker duplicates at start. */
static int open_access_log(struct server *srv, const struct config *cfg)
{
	srv->alog.path = cfg->access_log;
	srv->alog.format = cfg->log_format;
	srv->alog.buf_size = cfg->access_log_buf;
	atomic_store(&srv->alog.fd, -1);
	atomic_store(&srv->alog.gen, 1);
	if (!cfg->access_log[0])
		return 0;
	int fd = alog_open_file(cfg->access_log);
	if (fd < 0) {
		fprintf(stderr, "ringserve: --access-log %s: %s\n", cfg->access_log, strerror(-fd));
		return -1;
	}
	atomic_store(&srv->alog.fd, fd);
	return 0;
}

/* SIGHUP/SIGUSR1: open the log file again (logrotate renamed it) and hand
 * it to the workers; the old descriptor closes once every worker has moved
 * over (each at its next tick), so no line is lost or written twice. */
static void reopen_access_log(struct server *srv, struct worker *ws, unsigned n)
{
	int old = atomic_load(&srv->alog.fd);

	if (old < 0 || strcmp(srv->alog.path, "-") == 0)
		return;
	int fd = alog_open_file(srv->alog.path);
	if (fd < 0) {
		log_err("reopening %s: %s; still writing to the old file", srv->alog.path,
			strerror(-fd));
		return;
	}
	atomic_store(&srv->alog.fd, fd);
	uint32_t gen = atomic_fetch_add_explicit(&srv->alog.gen, 1, memory_order_release) + 1;
	for (int tries = 0; tries < 500; tries++) { /* ticks are 250 ms: 5 s is plenty */
		unsigned moved = 0;
		for (unsigned i = 0; i < n; i++) {
			uint32_t a = atomic_load_explicit(&ws[i].alog.acked, memory_order_acquire);
			moved += a == gen || a == ALOG_GONE || !ws[i].thread;
		}
		if (moved == n) {
			close(old);
			log_info("access log reopened: %s", srv->alog.path);
			return;
		}
		usleep(10 * 1000);
	}
	log_warn("access log reopened, but a worker did not move over; the old descriptor stays open");
}

/* ---- HTTPS ---------------------------------------------------------------- */

static struct tlsctx_opts tls_opts;
static struct tlsctx_slot tls_slot;
static char hsts_line[64];

static bool ktls_disabled; /* RINGSERVE_DISABLE=ktls */
static bool tls_seal_disabled; /* RINGSERVE_DISABLE=tls_seal */
static bool tls_open_disabled; /* RINGSERVE_DISABLE=tls_open */
static char ktls_line[192];  /* the probe's result, for the startup line */

/* kTLS needs the kernel's tls module, listed as an upper layer protocol
 * once loaded, and its ciphers (ktls_probe). Probed once, at start: a
 * module loaded later is used after a restart. True when some cipher can
 * go to the kernel. */
static bool probe_ktls(void)
{
	char buf[256] = "", names[96];
	bool ulp = false;

	if (ktls_disabled) {
		snprintf(ktls_line, sizeof(ktls_line), "kTLS: off (RINGSERVE_DISABLE=ktls)");
		return false;
	}
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");
	if (!f) {
		snprintf(ktls_line, sizeof(ktls_line), "kTLS: no (no tcp_available_ulp)");
		return false;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
		ulp |= strcmp(tok, "tls") == 0;
	if (!ulp) {
		snprintf(ktls_line, sizeof(ktls_line), "kTLS: no (module not loaded)");
		return false;
	}
	unsigned ciphers = ktls_probe();
	tls_set_ktls(ciphers);
	if (!ciphers) {
		snprintf(ktls_line, sizeof(ktls_line),
			 "kTLS: no (the kernel took no cipher: crypto modules missing?)");
		return false;
	}
	ktls_format(ciphers, names, sizeof(names));
	snprintf(ktls_line, sizeof(ktls_line),
		 "kTLS: available (TX by the kernel after the handshake: %s; RX in user space)", names);
	return true;
}

/* Certificates are read now, before --user drops privileges. 0, or the
 * exit status after one line (1: a file cannot be used). */
static int setup_tls(struct server *srv, const struct config *cfg)
{
	char err[512], warn[512];
	struct tlsctx_set *set;

	if (!cfg->tls_on)
		return 0;
	if (tls_global_init()) {
		fprintf(stderr, "ringserve: out of memory setting up TLS\n");
		return 1;
	}
	for (unsigned i = 0; i < cfg->ntls_certs; i++)
		tls_opts.pairs[i] = (struct tlsctx_pair){ cfg->tls_certs[i], cfg->tls_keys[i] };
	tls_opts.npairs = cfg->ntls_certs;
	tls_opts.min_version = cfg->tls_min ? TLS1_3_VERSION : TLS1_2_VERSION;
	/* OpenSSL hands the keys to our BIO only when asked to: for the
	 * kernel, or for stls where the kernel cannot take them. */
	bool kernel = probe_ktls();
	tls_opts.ktls = kernel || !tls_seal_disabled;
	tls_set_seal(!tls_seal_disabled);
	if (!tls_seal_disabled) {
		size_t l = strlen(ktls_line);
		snprintf(ktls_line + l, sizeof(ktls_line) - l, "; %s records sealed by ringserve",
			 kernel ? "other" : "user-space");
	}
	/* TLS 1.3 read keys come only through the key log (stls.h). */
	tls_set_open(!tls_open_disabled);
	if (!tls_open_disabled) {
		tls_opts.keylog = tls_keylog;
		size_t l = strlen(ktls_line);
		snprintf(ktls_line + l, sizeof(ktls_line) - l, "; TLS 1.3 records opened by ringserve");
	}
	if (tlsctx_load(&tls_opts, &set, err, sizeof(err), warn, sizeof(warn))) {
		fprintf(stderr, "ringserve: --tls-cert/--tls-key: %s\n", err);
		return 1;
	}
	if (warn[0])
		log_warn("%s", warn);
	tlsctx_slot_init(&tls_slot, set);
	srv->tls = &tls_slot;
	if (cfg->hsts && https_hsts(hsts_line, sizeof(hsts_line), cfg->hsts) > 0)
		srv->hsts = hsts_line;
	return 0;
}

/* SIGHUP: new handshakes get the files as they are now; connections keep
 * the set they started with. A set that fails to load changes nothing. */
static void reload_tls(struct server *srv)
{
	char err[512], warn[512];
	struct tlsctx_set *set;

	if (!srv->tls)
		return;
	if (tlsctx_load(&tls_opts, &set, err, sizeof(err), warn, sizeof(warn))) {
		log_err("TLS reload failed, keeping the certificates in use: %s", err);
		return;
	}
	if (warn[0])
		log_warn("%s", warn);
	tlsctx_slot_swap(srv->tls, set);
	log_info("TLS certificates reloaded (%u)", tls_opts.npairs);
}

/* How cold files are found and aligned, for the startup line. */
static void describe_direct(const struct config *cfg, char *out, size_t cap)
{
	const char *align = direct_dioalign() ? "alignment per file from statx"
					      : "no STATX_DIOALIGN: 4096-byte alignment";

	if (!cfg->direct_threshold && cfg->transfer != TRANSFER_DIRECT)
		snprintf(out, cap, "O_DIRECT off");
	else if (resid_method() == RESID_CACHESTAT)
		snprintf(out, cap, "cachestat, O_DIRECT for cold files (%s)", align);
	else
		snprintf(out, cap, "no cachestat: residency from mincore, O_DIRECT for cold files (%s)",
			 align);
}

/* "127.0.0.1:8080, unix:/run/a.sock (systemd: web)": every listener with
 * its port resolved; urls gets what a person can open for the TCP ones. */
static void describe_listeners(const struct server *srv, const struct worker *w, char *out,
			       size_t cap, char *urls, size_t ucap)
{
	const struct listen_set *ls = &srv->listen;
	size_t n = 0, u = 0;

	out[0] = urls[0] = '\0';
	for (unsigned i = 0; i < ls->n && n < cap; i++) {
		char one[160], url[256];
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);

		listen_describe(w->lfd[i], one, sizeof(one));
		if (ls->l[i].tls)
			snprintf(one + strlen(one), sizeof(one) - strlen(one), " (https)");
		n += (size_t)snprintf(out + n, cap - n, "%s%s%s%s%s%s", i ? ", " : "", one,
				      ls->activated ? " (systemd" : "",
				      ls->activated && ls->l[i].fdname[0] ? ": " : "",
				      ls->activated ? ls->l[i].fdname : "", ls->activated ? ")" : "");
		if (u < ucap && getsockname(w->lfd[i], (struct sockaddr *)&ss, &slen) == 0 &&
		    url_for_listener((struct sockaddr *)&ss, slen, url, sizeof(url)) > 0)
			u += (size_t)snprintf(urls + u, ucap - u, "%s%s%s", u ? " " : "",
					      ls->l[i].tls && strncmp(url, "http://", 7) == 0 ? "https://" : "",
					      ls->l[i].tls && strncmp(url, "http://", 7) == 0 ? url + 7 : url);
	}
}

/* fit_note: what nofile_fit() reduced ("" when nothing). */
static void print_banner(const struct server *srv, const struct worker *w, unsigned disabled,
			 rlim_t nofile, const char *fit_note)
{
	static const char *const formats[] = { "common", "combined", "json" };
	const struct config *cfg = srv->cfg;
	char addr[1024], direct[128], extra[768], urls[1024];

	describe_listeners(srv, w, addr, sizeof(addr), urls, sizeof(urls));
	describe_direct(cfg, direct, sizeof(direct));
	int n = snprintf(extra, sizeof(extra), "%s", w->send_zc ? ", SEND_ZC" :
			 cfg->send_zc ? ", no SEND_ZC (kernel)" : "");
	if (cfg->access_log[0])
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, ", access log %s (%s)",
			      cfg->access_log, formats[cfg->log_format]);
	if (cfg->metrics_str)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, ", metrics on %s", cfg->metrics_str);
	if (cfg->proxy_protocol)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, ", PROXY protocol on TCP");
	if (srv->tls)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      ", HTTPS on port %u (%u certificate%s, TLS %s+%s%s, %s)", listen_tls_port(&srv->listen),
			      cfg->ntls_certs, cfg->ntls_certs == 1 ? "" : "s", cfg->tls_min ? "1.3" : "1.2",
			      cfg->hsts ? ", HSTS" : "", cfg->redirect_https ? ", HTTP redirects" : "",
			      ktls_line);
	if (cfg->ntrusted)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      ", client from %s via %u trusted CIDR%s",
			      cfg->real_ip_header == REALIP_FORWARDED ? "Forwarded" : "X-Forwarded-For",
			      cfg->ntrusted, cfg->ntrusted == 1 ? "" : "s");
	if (srv->auth) {
		unsigned users = atomic_load(&srv->auth->users)->n;
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, ", Basic auth: %u user%s for %s",
			      users, users == 1 ? "" : "s",
			      cfg->nauth_paths ? "the --auth-path prefixes" : "every path");
	}
	if (fit_note[0])
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, ", RLIMIT_NOFILE %llu: %s",
			      (unsigned long long)nofile, fit_note);
	if (disabled) {
		char names[128];
		fallback_format(disabled, names, sizeof(names));
		snprintf(extra + n, sizeof(extra) - (size_t)n, ", RINGSERVE_DISABLE=%s (testing)", names);
	}
	fprintf(stderr, "ringserve %s: listening on %s, root %s, %u thread%s, ring %u, "
		"max %u connections/thread, %s, %s, %s, splice chunk %zu, %s%s%s%s\n",
		RS_VERSION, addr, cfg->root, cfg->threads, cfg->threads == 1 ? "" : "s",
		cfg->ring_entries, cfg->max_conns, ring_features_str(&w->ring),
		w->pbufs.active ? "provided buffer ring" : "no buffer ring (plain recv)",
		w->bufs.registered ? "registered buffers" : "unregistered buffers (RLIMIT_MEMLOCK)",
		w->pipes.size, direct, extra, urls[0] ? "; open " : "", urls);
}

/* RINGSERVE_DISABLE (fallback.h), read once: the rings, the residency
 * probe and the alignment lookup behave as without those features. */
static int apply_disable(unsigned *disabled)
{
	char bad[64];

	if (fallback_parse(getenv("RINGSERVE_DISABLE"), disabled, bad, sizeof(bad))) {
		fprintf(stderr, "ringserve: RINGSERVE_DISABLE: unknown feature '%s' (known: %s)\n",
			bad, fallback_names);
		return -1;
	}
	ring_avoid((*disabled & FB_DEFER_TASKRUN ? RING_AVOID_DEFER_TASKRUN : 0) |
		   (*disabled & FB_COOP_TASKRUN ? RING_AVOID_COOP_TASKRUN : 0) |
		   (*disabled & FB_SEND_ZC ? RING_AVOID_SEND_ZC : 0));
	resid_init(!(*disabled & FB_CACHESTAT));
	ktls_disabled = (*disabled & FB_KTLS) != 0;
	tls_seal_disabled = (*disabled & FB_TLS_SEAL) != 0;
	tls_open_disabled = (*disabled & FB_TLS_OPEN) != 0;
	direct_init(!(*disabled & FB_DIOALIGN));
	return 0;
}

/* --check-config: everything that can be known without binding or
 * starting workers: the options and the file (config_parse did those), the
 * root is a directory, the --user exists. */
static int check_config(const struct config *cfg, unsigned disabled)
{
	int fd = open_root(cfg->root);

	if (fd < 0)
		return 2;
	close(fd);
	if (cfg->user[0] && !getpwnam(cfg->user)) {
		fprintf(stderr, "ringserve: --user: no such user '%s'\n", cfg->user);
		return 2;
	}
	if (cfg->auth_file[0]) {
		struct auth_users *u;
		char msg[512];
		if (authpool_load(cfg->auth_file, &u, msg, sizeof(msg))) {
			fprintf(stderr, "ringserve: --auth-file %s\n", msg);
			return 2;
		}
		auth_users_free(u);
	}
	config_print(cfg, stdout);
	if (disabled) {
		char names[128];
		fallback_format(disabled, names, sizeof(names));
		printf("# RINGSERVE_DISABLE=%s (testing aid)\n", names);
	}
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct server srv;
	char msg[256];
	sigset_t sigs;
	unsigned disabled = 0;
	int sig, status = 1;

	int ret = config_parse(&cfg, argc, argv, stdout, stderr);
	if (ret)
		return ret == 1 ? 0 : 2;
	log_level = (int)cfg.log_level; /* the enum's order is log.h's */
	if (apply_disable(&disabled))
		return 2;
	if (cfg.check_config)
		return check_config(&cfg, disabled);
	if (ring_available(msg, sizeof(msg))) {
		fprintf(stderr, "ringserve: %s\n", msg);
		return 1;
	}
	srv.cfg = &cfg;
	srv.wake_fd = eventfd(0, EFD_CLOEXEC);
	if (srv.wake_fd < 0) {
		fprintf(stderr, "ringserve: eventfd: %s\n", strerror(errno));
		return 1;
	}
	srv.rootfd = open_root(cfg.root);
	if (srv.rootfd < 0)
		return 2;
	rlim_t nofile = raise_limit(RLIMIT_NOFILE);
	raise_limit(RLIMIT_MEMLOCK);
	/* Buffers hold a statx result at their tail: keep them page-sized. */
	cfg.buf_size = (cfg.buf_size + 4095) & ~(uint64_t)4095;
	char fit_note[256];
	nofile_fit(&cfg, nofile, fit_note, sizeof(fit_note));
	fit_memlock(&srv, &cfg);
	if (disabled & FB_PBUF_RING)
		srv.pbuf_ok = false;
	if (open_access_log(&srv, &cfg))
		return 1;
	ret = setup_tls(&srv, &cfg);
	if (ret)
		return ret;
	ret = mime_load(&srv.mime, NULL);
	if (ret == -ENOMEM) {
		fprintf(stderr, "ringserve: out of memory loading MIME types\n");
		return 1;
	}
	if (ret)
		log_warn("/etc/mime.types: %s; using the built-in MIME table", strerror(-ret));
	srv.lim.max_line = (uint32_t)cfg.max_line;
	srv.lim.max_head = (uint32_t)cfg.max_header_size;
	srv.lim.max_headers = cfg.max_headers;
	srv.resp.server = cfg.server_header;
	srv.resp.cache_control = cfg.cache_control;
	srv.resp.charset = cfg.charset;
	if (headers_setup(&srv, &cfg)) {
		headers_free(&srv);
		mime_free(&srv.mime);
		fprintf(stderr, "ringserve: out of memory building --header and --cors\n");
		return 1;
	}
	if (sitepath_table_init(&srv.site, cfg.fallback, cfg.error_pages, cfg.nerror_pages)) {
		headers_free(&srv);
		mime_free(&srv.mime);
		fprintf(stderr, "ringserve: out of memory building --fallback and --error-page\n");
		return 1;
	}

	/* Workers inherit this mask: signals are taken here, by sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* After the mask: the pool's threads must not take the signals. */
	if (cfg.nauth_paths && !cfg.auth_file[0])
		log_warn("--auth-path has no effect without --auth-file");
	if (cfg.auth_file[0]) {
		char amsg[640];
		srv.auth = authpool_create(&cfg, cfg.threads, amsg, sizeof(amsg));
		if (!srv.auth) {
			fprintf(stderr, "ringserve: --auth-file %s\n", amsg);
			mime_free(&srv.mime);
			return 1;
		}
		authpool_warn_served(&cfg);
	}

	if (listen_setup(&srv.listen, &cfg)) {
		listen_unlink(&srv.listen);
		listen_close(&srv.listen);
		authpool_destroy(srv.auth);
		mime_free(&srv.mime);
		headers_free(&srv);
		return 1;
	}
	struct worker *ws = calloc(cfg.threads, sizeof(*ws));
	struct metrics metrics = { .fd = -1 };
	if (!ws) {
		fprintf(stderr, "ringserve: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < cfg.threads; i++)
		for (unsigned j = 0; j < LISTEN_MAX; j++)
			ws[i].lfd[j] = -1;
	if (start_workers(&srv, ws, cfg.threads) == 0 && open_gates(&srv, ws, cfg.threads) == 0 &&
	    metrics_open(&metrics, &srv, ws, cfg.threads) == 0 &&
	    (!cfg.user[0] || drop_privileges(cfg.user) == 0) && metrics_start(&metrics) == 0) {
		release_workers(ws, cfg.threads);
		print_banner(&srv, &ws[0], disabled, nofile, fit_note);
		while (sigwait(&sigs, &sig) == 0 && (sig == SIGHUP || sig == SIGUSR1)) {
			reopen_access_log(&srv, ws, cfg.threads);
			if (sig == SIGHUP && srv.auth)
				authpool_reload(srv.auth); /* the auth file, into a new table */
			if (sig == SIGHUP)
				reload_tls(&srv);
		}
		log_info("%s: closing listeners, draining (at most %u s)", strsignal(sig),
			 cfg.drain_timeout);
		listen_unlink(&srv.listen);
		request_stop(&srv);
		wait_drained(&srv, &sigs);
		status = 0;
	} else {
		listen_unlink(&srv.listen);
		request_stop(&srv);
		release_workers(ws, cfg.threads);
	}
	metrics_stop(&metrics);
	join_workers(&srv, ws, cfg.threads);
	authpool_destroy(srv.auth); /* no worker reads its tables any more */
	if (atomic_load(&srv.alog.fd) >= 0)
		close(atomic_load(&srv.alog.fd));
	free(ws);
	if (srv.tls)
		tlsctx_slot_free(srv.tls);
	mime_free(&srv.mime);
	headers_free(&srv);
	sitepath_table_free(&srv.site);
	close(srv.rootfd);
	return status;
}
