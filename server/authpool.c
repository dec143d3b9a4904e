/* authpool: the verification threads, the job array, the user table. */
#include "authpool.h"
#include "alog.h"
#include "config.h"
#include "log.h"
#include "siphash.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the file ------------------------------------------------------------ */

/* The whole file into a malloc'd buffer (bounded by AUTH_FILE_MAX). */
static int read_file(const char *path, char **text, size_t *len, char *msg, size_t cap)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*text = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : 0;
		snprintf(msg, cap, "%s: %s", path, e ? strerror(e) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t want = (size_t)st.st_size + 1, got = 0;
	char *buf = malloc(want);
	while (buf) {
		if (got == want) {
			/* It grew while we read: one more doubling, within bounds. */
			char *b = got > AUTH_FILE_MAX ? NULL : realloc(buf, 2 * want);
			if (!b) {
				free(buf);
				buf = NULL;
				snprintf(msg, cap, "%s: larger than %u bytes", path, AUTH_FILE_MAX);
				break;
			}
			buf = b;
			want *= 2;
		}
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, cap, "%s: %s", path, strerror(errno));
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf) {
		if (!msg[0])
			snprintf(msg, cap, "%s: out of memory", path);
		return -1;
	}
	*text = buf;
	*len = got;
	return 0;
}

int authpool_load(const char *path, struct auth_users **out, char *msg, size_t cap)
{
	char *text, why[256];
	size_t len;
	unsigned line;

	msg[0] = '\0';
	*out = NULL;
	if (read_file(path, &text, &len, msg, cap))
		return -1;
	int r = auth_users_parse(text, len, out, &line, why, sizeof(why));
	free(text);
	if (r) {
		if (line)
			snprintf(msg, cap, "%s:%u: %s", path, line, why);
		else
			snprintf(msg, cap, "%s: %s", path, why);
		return -1;
	}
	/* The format passed auth.c; this libcrypt must also take the method
	 * (LEGACY, as it calls SHA-256-crypt, and TOO_CHEAP still verify). */
	for (unsigned i = 0; i < (*out)->n; i++) {
		const struct auth_user *u = &(*out)->v[i];
		int cs = crypt_checksalt(u->hash);
		if (cs == CRYPT_SALT_INVALID || cs == CRYPT_SALT_METHOD_DISABLED) {
			snprintf(msg, cap, "%s:%u: this libcrypt does not take that hash method", path,
				 u->line);
			auth_users_free(*out);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

/* ---- the threads ------------------------------------------------------- */

static void post_result(struct authpool *p, uint32_t idx)
{
	struct authpool_outbox *o = &p->out[p->jobs[idx].worker];
	uint64_t one = 1;

	pthread_mutex_lock(&p->done_mu);
	o->idx[(o->head + o->count) % p->njobs] = idx;
	o->count++;
	pthread_mutex_unlock(&p->done_mu);
	/* Wakes the worker's armed READ; a full counter (never) only
	 * delays that wake to the next result. */
	if (write(o->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("auth: waking worker %u: %s", p->jobs[idx].worker, strerror(errno));
}

static void verify(struct authpool_job *j, struct crypt_data *cd)
{
	const char *r = crypt_r(j->pass, j->hash, cd);

	/* Failure tokens ("*0", "*1") or NULL never equal a stored hash. */
	j->ok = r && r[0] != '*' && auth_ct_equal(r, strlen(r), j->hash, strlen(j->hash)) &&
		!j->dummy;
	explicit_bzero(j->pass, sizeof(j->pass));
	explicit_bzero(cd, sizeof(*cd)); /* intermediate state of the password */
}

static void *pool_main(void *arg)
{
	struct authpool_thread *t = arg;
	struct authpool *p = t->p;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->qcount && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		uint32_t idx = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % p->queue_max;
		p->qcount--;
		pthread_mutex_unlock(&p->mu);
		verify(&p->jobs[idx], &t->cd);
		post_result(p, idx);
	}
	return NULL;
}

/* ---- setup --------------------------------------------------------------- */

static int alloc_arrays(struct authpool *p, unsigned nworkers)
{
	p->jobs = calloc(p->njobs, sizeof(*p->jobs));
	p->free_jobs = calloc(p->njobs, sizeof(*p->free_jobs));
	p->queue = calloc(p->queue_max, sizeof(*p->queue));
	p->out = calloc(nworkers, sizeof(*p->out));
	p->threads = calloc(p->nthreads, sizeof(*p->threads));
	if (!p->jobs || !p->free_jobs || !p->queue || !p->out || !p->threads)
		return -ENOMEM;
	for (unsigned i = 0; i < p->njobs; i++)
		p->free_jobs[i] = p->njobs - 1 - i;
	p->nfree = p->njobs;
	p->nworkers = nworkers;
	for (unsigned i = 0; i < nworkers; i++)
		p->out[i].efd = -1;
	for (unsigned i = 0; i < nworkers; i++) {
		struct authpool_outbox *o = &p->out[i];
		o->efd = eventfd(0, EFD_CLOEXEC);
		o->idx = calloc(p->njobs, sizeof(*o->idx));
		atomic_store(&o->acked, 1);
		if (o->efd < 0 || !o->idx)
			return o->efd < 0 ? -errno : -ENOMEM;
	}
	return 0;
}

static int set_prefixes(struct authpool *p, const struct config *cfg)
{
	p->nprefixes = cfg->nauth_paths;
	if (!p->nprefixes)
		return 0;
	p->prefixes = calloc(p->nprefixes, sizeof(*p->prefixes));
	p->prefix_len = calloc(p->nprefixes, sizeof(*p->prefix_len));
	if (!p->prefixes || !p->prefix_len)
		return -ENOMEM;
	for (unsigned i = 0; i < p->nprefixes; i++) {
		size_t cap = strlen(cfg->auth_paths[i]) + 1;
		p->prefixes[i] = malloc(cap);
		if (!p->prefixes[i])
			return -ENOMEM;
		int n = auth_prefix_normalize(cfg->auth_paths[i], p->prefixes[i], cap);
		if (n < 0)
			return n; /* config.c checked it already */
		p->prefix_len[i] = (size_t)n;
	}
	return 0;
}

static void random_key(uint64_t k[2])
{
	if (getrandom(k, 2 * sizeof(k[0]), 0) != (ssize_t)(2 * sizeof(k[0]))) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		k[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ (uintptr_t)k;
	}
}

static int start_threads(struct authpool *p)
{
	for (unsigned i = 0; i < p->nthreads; i++) {
		p->threads[i].p = p;
		int r = pthread_create(&p->threads[i].tid, NULL, pool_main, &p->threads[i]);
		if (r)
			return -r;
		p->started++;
	}
	return 0;
}

struct authpool *authpool_create(const struct config *cfg, unsigned nworkers, char *msg,
				 size_t cap)
{
	struct authpool *p = calloc(1, sizeof(*p));
	struct auth_users *users = NULL;
	int r = -ENOMEM;

	if (!p) {
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->done_mu, NULL);
	pthread_mutex_init(&p->lim_mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->path = cfg->auth_file;
	p->nthreads = cfg->auth_threads;
	p->queue_max = cfg->auth_queue;
	p->njobs = p->queue_max + p->nthreads;
	atomic_store(&p->gen, 1);
	if (authpool_load(cfg->auth_file, &users, msg, cap)) {
		authpool_destroy(p);
		return NULL;
	}
	atomic_store(&p->users, users);
	random_key(p->lim_key);
	if (auth_challenge(p->challenge, sizeof(p->challenge), cfg->auth_realm) < 0 ||
	    (r = set_prefixes(p, cfg)) || (r = alloc_arrays(p, nworkers)) ||
	    (r = authlim_init(&p->lim, cfg->auth_fail_clients, cfg->auth_fail_limit, 60000))) {
		snprintf(msg, cap, "auth setup: %s", strerror(r < 0 ? -r : EINVAL));
		authpool_destroy(p);
		return NULL;
	}
	if ((r = start_threads(p))) {
		snprintf(msg, cap, "starting auth threads: %s", strerror(-r));
		authpool_destroy(p);
		return NULL;
	}
	return p;
}

void authpool_destroy(struct authpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->threads[i].tid, NULL);
	for (unsigned i = 0; p->out && i < p->nworkers; i++) {
		if (p->out[i].efd >= 0)
			close(p->out[i].efd);
		free(p->out[i].idx);
	}
	for (unsigned i = 0; p->prefixes && i < p->nprefixes; i++)
		free(p->prefixes[i]);
	if (p->jobs)
		explicit_bzero(p->jobs, p->njobs * sizeof(*p->jobs));
	free(p->prefixes);
	free(p->prefix_len);
	free(p->jobs);
	free(p->free_jobs);
	free(p->queue);
	free(p->out);
	if (p->threads)
		explicit_bzero(p->threads, p->nthreads * sizeof(*p->threads));
	free(p->threads);
	authlim_free(&p->lim);
	auth_users_free(atomic_load(&p->users));
	for (unsigned i = 0; i < p->nretired; i++)
		auth_users_free(p->retired[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->done_mu);
	pthread_mutex_destroy(&p->lim_mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

/* ---- SIGHUP -------------------------------------------------------------- */

static bool all_moved(struct authpool *p, uint32_t gen)
{
	for (unsigned i = 0; i < p->nworkers; i++) {
		uint32_t a = atomic_load_explicit(&p->out[i].acked, memory_order_acquire);
		if (a != gen && a != AUTHPOOL_GONE)
			return false;
	}
	return true;
}

void authpool_reload(struct authpool *p)
{
	struct auth_users *nu, *old = atomic_load(&p->users);
	char msg[512];
	uint64_t one = 1;

	if (authpool_load(p->path, &nu, msg, sizeof(msg))) {
		log_err("auth reload: %s; keeping the %u users loaded before", msg, old->n);
		return;
	}
	atomic_store_explicit(&p->users, nu, memory_order_release);
	uint32_t gen = atomic_fetch_add_explicit(&p->gen, 1, memory_order_release) + 1;
	for (unsigned i = 0; i < p->nworkers; i++)
		if (write(p->out[i].efd, &one, sizeof(one)) < 0)
			log_warn("auth reload: waking worker %u: %s", i, strerror(errno));
	for (int tries = 0; tries < 500 && !all_moved(p, gen); tries++)
		usleep(10 * 1000);
	if (all_moved(p, gen)) {
		auth_users_free(old);
		log_info("auth file reloaded: %s, %u user%s", p->path, nu->n, nu->n == 1 ? "" : "s");
		return;
	}
	/* A worker stuck for 5 s may still read the old table: keep it. */
	if (p->nretired < sizeof(p->retired) / sizeof(p->retired[0]))
		p->retired[p->nretired++] = old;
	log_warn("auth file reloaded: %s, %u users; a worker did not move over, the old table "
		 "stays allocated", p->path, nu->n);
}

/* Any segment starting with '.': refused unless --dotfiles. */
static bool dotted(const char *rel)
{
	for (const char *p = rel; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (*p == '.')
			return true;
	return false;
}

void authpool_warn_served(const struct config *cfg)
{
	char *file = realpath(cfg->auth_file, NULL), *root = realpath(cfg->root, NULL);
	size_t n = root ? strlen(root) : 0;

	if (file && root && strncmp(file, root, n) == 0 && (file[n] == '/' || n == 1)) {
		const char *rel = file + n + (n > 1);
		if (cfg->dotfiles || !dotted(rel))
			log_warn("--auth-file %s lies inside ROOT and can be downloaded as /%s: move it "
				 "out, or give it a name starting with '.'", cfg->auth_file, rel);
	}
	free(file);
	free(root);
}

/* ---- worker side --------------------------------------------------------- */

bool authpool_covers(const struct authpool *p, const char *path, size_t n)
{
	if (!p->nprefixes)
		return true;
	for (unsigned i = 0; i < p->nprefixes; i++)
		if (auth_prefix_covers(p->prefixes[i], p->prefix_len[i], path, n))
			return true;
	return false;
}

int authpool_submit(struct authpool *p, unsigned worker, const struct authpool_job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->qcount >= p->queue_max || !p->nfree) {
		pthread_mutex_unlock(&p->mu);
		return -EBUSY;
	}
	uint32_t idx = p->free_jobs[--p->nfree];
	p->jobs[idx] = *j;
	p->jobs[idx].worker = worker;
	p->queue[(p->qhead + p->qcount) % p->queue_max] = idx;
	p->qcount++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

unsigned authpool_take(struct authpool *p, unsigned worker, uint32_t *idx, unsigned max)
{
	struct authpool_outbox *o = &p->out[worker];

	pthread_mutex_lock(&p->done_mu);
	unsigned n = o->count < max ? o->count : max;
	for (unsigned i = 0; i < n; i++)
		idx[i] = o->idx[(o->head + i) % p->njobs];
	o->head = (o->head + n) % p->njobs;
	o->count -= n;
	pthread_mutex_unlock(&p->done_mu);
	return n;
}

void authpool_release(struct authpool *p, const uint32_t *idx, unsigned n)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < n; i++)
		p->free_jobs[p->nfree++] = idx[i];
	pthread_mutex_unlock(&p->mu);
}

/* IPv4 by address, IPv6 by its /64 (one host holds a whole /64), unix
 * clients all in one. */
static uint64_t peer_key(const struct authpool *p, const struct alog_peer *peer)
{
	uint8_t b[9] = { peer->family };
	size_t n = peer->family == ALOG_PEER_V4 ? 4 : peer->family == ALOG_PEER_V6 ? 8 : 0;

	memcpy(b + 1, peer->addr, n);
	return siphash24(p->lim_key, b, 1 + n);
}

unsigned authpool_fail_wait(struct authpool *p, const struct alog_peer *peer, uint64_t now_ms)
{
	uint64_t key = peer_key(p, peer);

	pthread_mutex_lock(&p->lim_mu);
	uint64_t ms = authlim_wait(&p->lim, key, now_ms);
	pthread_mutex_unlock(&p->lim_mu);
	return (unsigned)((ms + 999) / 1000);
}

void authpool_fail_note(struct authpool *p, const struct alog_peer *peer, uint64_t now_ms)
{
	uint64_t key = peer_key(p, peer);

	pthread_mutex_lock(&p->lim_mu);
	authlim_fail(&p->lim, key, now_ms);
	pthread_mutex_unlock(&p->lim_mu);
}
