/* authpool: password verification off the rings, and the user table.
 *
 * bcrypt and friends cost tens of milliseconds by design; a worker that
 * ran one would stall every connection on its ring. So a worker hands a
 * job (password, stored hash) to a small pool of threads and goes on; the
 * thread runs crypt_r with its own struct crypt_data, compares in constant
 * time and puts the result in the worker's outbox, then writes the
 * worker's eventfd, on which the worker keeps a ring READ armed
 * (authgate.c). Jobs live in a fixed array (--auth-queue waiting plus one
 * per thread running); a job slot is free again only once its worker has
 * taken the result, so an outbox can never overflow.
 *
 * The user table is immutable. SIGHUP loads a new one and publishes it
 * with a generation; each worker moves over when it sees the generation
 * change (its eventfd is written to wake it) and says so; the old table is
 * freed once every worker has moved. Jobs carry a copy of the hash, so the
 * threads never read a table.
 *
 * The failure limiter (authlim.h) is shared by all workers, so a client
 * gets --auth-fail-limit tries a minute whichever worker its connections
 * land on; it is touched only by requests that would start a
 * verification, under a mutex. */
#ifndef RS_AUTHPOOL_H
#define RS_AUTHPOOL_H

#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "authlim.h"

struct config;
struct alog_peer;

#define AUTHPOOL_GONE UINT32_MAX /* acked by a worker that has stopped */

/* One verification and its result. */
struct authpool_job {
	uint32_t worker;         /* whose outbox gets the result (set by submit) */
	uint32_t slot, gen;      /* the connection waiting for it */
	uint64_t key[2];         /* its verified-cache key */
	bool dummy;              /* unknown user: hashed for the time it takes, never ok */
	bool ok;                 /* result */
	char pass[AUTH_PASS_MAX + 1];
	char hash[AUTH_HASH_MAX + 1];
};

/* Results for one worker: job indices in a ring the size of the job
 * array, filled by pool threads, emptied by the worker. */
struct authpool_outbox {
	int efd;                 /* eventfd the worker reads through its ring */
	uint64_t ev;             /* what that READ fills (here, it outlives the worker) */
	_Atomic uint32_t acked;  /* the table generation it uses (or GONE) */
	uint32_t *idx;
	unsigned head, count;    /* under the pool's done lock */
};

/* A pool thread and its crypt_data (32 KiB, allocated once). */
struct authpool_thread {
	struct authpool *p;
	pthread_t tid;
	struct crypt_data cd;
};

struct authpool {
	const char *path;        /* --auth-file */
	char challenge[AUTH_CHALLENGE_MAX]; /* the WWW-Authenticate line */
	char **prefixes;         /* --auth-path, normalized; none: everything */
	size_t *prefix_len;
	unsigned nprefixes;
	unsigned nthreads, njobs, queue_max;
	struct authpool_job *jobs;
	uint32_t *free_jobs;     /* stack of free job indices */
	unsigned nfree;
	uint32_t *queue;         /* FIFO of jobs waiting for a thread */
	unsigned qhead, qcount;
	struct authpool_outbox *out; /* one per worker */
	unsigned nworkers;
	struct authpool_thread *threads;
	unsigned started;
	bool stop;               /* under mu */
	pthread_mutex_t mu;      /* jobs, free_jobs, queue, stop */
	pthread_cond_t cv;       /* a job was queued, or stop */
	pthread_mutex_t done_mu; /* the outboxes */
	pthread_mutex_t lim_mu;
	struct authlim lim;
	uint64_t lim_key[2];
	/* The user table: the current one and its generation. */
	_Atomic(struct auth_users *) users;
	_Atomic uint32_t gen;
	struct auth_users *retired[8]; /* tables a worker had not left in time */
	unsigned nretired;
};

/* Read and check an auth file. 0 and *out, or -1 with a one-line reason
 * in msg ("FILE: reason" or "FILE:LINE: reason"). */
int authpool_load(const char *path, struct auth_users **out, char *msg, size_t cap);

/* Everything --auth-file needs, for n workers: the table (loaded now),
 * prefixes, challenge, jobs, outboxes and the threads, started. NULL with
 * msg set on failure. */
struct authpool *authpool_create(const struct config *cfg, unsigned nworkers, char *msg,
				 size_t cap);

/* Stop the threads (jobs left are dropped) and free it all. Call once no
 * worker runs. */
void authpool_destroy(struct authpool *p);

/* SIGHUP: load the file again; on success publish it, wake the workers,
 * wait (up to 5 s) for each to move over, free the old table. A failure
 * keeps the old users and logs why, in one line. */
void authpool_reload(struct authpool *p);

/* Warn (one line) when --auth-file lies inside ROOT under a name that
 * would be served: its hashes could be downloaded. */
void authpool_warn_served(const struct config *cfg);

/* Does the request path (root-relative, as path_normalize gives it) need
 * credentials? */
bool authpool_covers(const struct authpool *p, const char *path, size_t n);

/* Worker side. Queue a copy of job j for worker: 0, or -EBUSY when
 * --auth-queue jobs are already waiting (or no job slot is free). */
int authpool_submit(struct authpool *p, unsigned worker, const struct authpool_job *j);

/* Up to max finished jobs of this worker: their indices into idx; the
 * caller reads p->jobs[idx[i]] and then gives them back with
 * authpool_release. Returns how many. */
unsigned authpool_take(struct authpool *p, unsigned worker, uint32_t *idx, unsigned max);
void authpool_release(struct authpool *p, const uint32_t *idx, unsigned n);

/* The failure limiter: 0 when peer may try now, else seconds to wait
 * (rounded up); and one more failure of peer. */
unsigned authpool_fail_wait(struct authpool *p, const struct alog_peer *peer, uint64_t now_ms);
void authpool_fail_note(struct authpool *p, const struct alog_peer *peer, uint64_t now_ms);

#endif
