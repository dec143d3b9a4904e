/* worker: one thread, one ring, one listener; owns its connections.
 *
 * Nothing here is shared between workers except the read-only `server`
 * (config, root directory fd, MIME table), so the hot path takes no lock. */
#ifndef RS_WORKER_H
#define RS_WORKER_H

#include <linux/openat2.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alog.h"
#include "config.h"
#include "cors.h"
#include "fcache.h"
#include "hdrs.h"
#include "http.h"
#include "listen.h"
#include "mime.h"
#include "pbuf.h"
#include "pace.h"
#include "pipes.h"
#include "rbuf.h"
#include "stls.h"
#include "resp.h"
#include "ring.h"
#include "sitepath.h"
#include "stats.h"
#include "timer.h"

#include <netinet/in.h>

struct authpool;
struct authgate;
struct tls_conn;
struct tlsctx_slot;

/* Op tags in user_data: one per kind of completion the dispatch switch
 * handles. */
enum op {
	OP_ACCEPT = 1,
	OP_RECV,
	OP_SEND,        /* a whole response in the conn's buffer */
	OP_SEND_HEAD,   /* the head before a body chain (MSG_WAITALL, linked) */
	OP_SEND_CHUNK,  /* read path: a body chunk from the buffer (linked to its read) */
	OP_STATX,
	OP_STATX_ALT,   /* a precompressed sidecar candidate */
	OP_OPEN,
	OP_OPEN_DIR,    /* confinement check before a redirect */
	OP_SEND_HEAP,   /* a generated body (directory listing) */
	OP_READ,        /* small file: the whole body after the head */
	OP_READ_CHUNK,  /* read path: one chunk */
	OP_SPLICE_IN,   /* file -> pipe */
	OP_SPLICE_OUT,  /* pipe -> socket */
	OP_SHUTDOWN,    /* a conn's socket: counted in its pending ops */
	OP_CANCEL_FD,   /* all ops on a conn's socket: counted too */
	OP_CANCEL,      /* fire-and-forget cancel by user_data */
	OP_CLOSE,
	OP_INSTALL,     /* FILES_UPDATE of an accepted socket into its slot */
	OP_TICK,
	OP_WAKE,        /* the stop eventfd became readable */
	OP_ALOG,        /* an access log write; the slot is the buffer index */
	OP_DHEAD,       /* O_DIRECT path: the head */
	OP_DSEND,       /* O_DIRECT path: a read buffer going out */
	OP_POLL_OUT,    /* waiting for room in a full socket (splice, sendfile paths) */
	OP_SF_HEAD,     /* sendfile path: the head, sent through the ring */
	OP_BATCH,       /* pipelined responses gathered in one buffer */
	OP_PACE,        /* --limit-rate: the body waits for its schedule (pace.c) */
	OP_PUMP,        /* sendfile path: a NOP, so a long body resumes next loop turn */
	OP_AUTH,        /* the auth pool wrote this worker's eventfd (authgate.c) */
	OP_TLS_SEND,    /* HTTPS: ciphertext from the tbuf (tls.c), or a NOP for an empty send */
	OP_DREAD,       /* O_DIRECT path: read into slot 0; OP_DREAD + i for slot i */
	OP_LAST = OP_DREAD + 16,
};

enum conn_state {
	CS_FREE = 0,
	CS_IDLE,      /* waiting for (the rest of) a request head */
	CS_WAITBUF,   /* a request is parsed but no response buffer is free */
	CS_STAT,      /* statx in flight */
	CS_OPEN,      /* openat2 in flight */
	CS_SEND,      /* a whole response (maybe after its read) is going out */
	CS_BATCHED,   /* the response was appended to the pipelined batch (transient) */
	CS_BATCH,     /* a batch of pipelined responses is going out */
	CS_SPLICE,    /* body going out through a pipe */
	CS_READSEND,  /* body going out through the buffer, chunk by chunk */
	CS_DIRECT,    /* body read with O_DIRECT, sent as reads complete */
	CS_SENDFILE,  /* body going out by sendfile(2) from this thread */
	CS_AUTH,      /* its password is being verified off the ring (authgate.c) */
	CS_LINGER,    /* write side shut, draining input before the close */
	CS_CLOSING,   /* cancelled; waiting for in-flight ops to complete */
};

enum conn_flag {
	CF_KEEPALIVE = 1u << 0,
	CF_HEAD = 1u << 1,       /* HEAD request: no body */
	CF_RECV_ARMED = 1u << 2,
	CF_RECV_STOP = 1u << 3,  /* recv cancelled for backpressure */
	CF_EOF = 1u << 4,        /* peer shut its write side */
	CF_CANCELLED = 1u << 5,
	CF_INDEX = 1u << 6,      /* looking up dir/index.html */
	CF_TRAILING = 1u << 7,   /* the decoded path ended in '/' */
	CF_NOBUF = 1u << 8,      /* recv ended with ENOBUFS: re-arm when buffers return */
	CF_HTTP10 = 1u << 9,
	CF_SHORT_IN = 1u << 11,  /* a splice into the pipe came up short */
	CF_FILE_CACHED = 1u << 12, /* c->file is the cache's slot: do not close it */
	CF_DIRECT = 1u << 13,      /* an O_DIRECT transfer holds a fd and buffers */
	CF_RESP = 1u << 14,        /* a response is under way: log and count it once */
	CF_PROXY = 1u << 10,       /* waiting for the PROXY protocol header (peer.c) */
	CF_SYNC = 1u << 15,        /* serve_request() is running inside conn_process() */
	CF_GATHER = 1u << 16,      /* a pipelined batch is open: responses are appended to obuf */
	CF_DEFER = 1u << 17,       /* the request cannot join the batch: answer it after the flush */
	CF_CLOSE_AFTER = 1u << 18, /* the batch's last response ends the connection */
	CF_PACED = 1u << 19,       /* the body follows the --limit-rate schedule (pace.h) */
	CF_PACE_WAIT = 1u << 20,   /* its pacing timeout is pending */
	/* site.c's steps (high bits: clear of flags other features add) */
	CF_CLEAN = 1u << 24,       /* looking up PATH.html for a missing PATH (--clean-urls) */
	CF_FALLBACK = 1u << 25,    /* looking up or sending the --fallback page */
	CF_ERRPAGE = 1u << 26,     /* looking up or sending an --error-page page */
	CF_REDIRECT = 1u << 27,    /* NAME.html found: 308 to NAME once opened (confined) */
	CF_PROBE = 1u << 28,       /* a confined O_PATH open proves a miss lies inside ROOT */
};

struct conn {
	uint32_t gen;
	uint8_t state;
	uint32_t flags;
	uint16_t pending;     /* our SQEs whose last CQE has not arrived */
	int32_t sock;         /* fixed slot (worker_sock_base + index) */
	int32_t fd;           /* the same socket as an ordinary descriptor */
	int32_t file;         /* descriptor of the file sent, or -1 */
	int32_t buf;          /* rbuf index or -1 */
	int32_t obuf;         /* rbuf of a pipelined batch being gathered or sent, or -1 */
	uint32_t olen, ooff;  /* its bytes; bytes of it sent */
	int32_t pipe;         /* pipe index or -1 */
	int32_t in;           /* input buffer index or -1 */
	uint32_t in_len;
	size_t scan;          /* parser resume point */
	uint32_t head_len;    /* bytes of the request being answered */
	uint32_t tgt_off, tgt_len;  /* path of the target, in `in` */
	uint32_t q_off, q_len;      /* its query (not always right after the path) */
	int32_t held_head, held_tail; /* provided buffers not yet copied in */
	uint32_t held_off;
	uint16_t held_count;
	uint64_t discard;     /* request body bytes still to skip */
	uint64_t off, end;    /* body range still to send: [off, end) */
	uint32_t pipe_fill;   /* bytes in the pipe not yet sent */
	uint32_t send_off, send_len;
	uint32_t chunk;       /* read path: bytes in the current chunk */
	int32_t zc_res;       /* SEND_ZC: the result, acted on at its notification */
	uint16_t base_len;    /* length of the target's path in the scratch */
	uint8_t enc_order[3]; /* acceptable precompressed codings, best first */
	uint8_t enc_n, enc_i; /* how many; which one is being looked up */
	int8_t enc;           /* the coding served, -1 for none */
	uint8_t part, nparts; /* multipart: current part; spans to send */
	struct fcache_entry *fce; /* pinned cache entry of the representation sent */
	char *heap;           /* generated body (listing), malloc'd */
	uint32_t heap_len;
	uint8_t tkind;        /* enum timer_kind of the list tn is on */
	struct timer_node tn;
	/* For the access log and metrics, per response. */
	struct alog_peer peer;      /* this request's client (peer.c) */
	struct alog_peer sock_peer; /* the connection's, after any PROXY header */
	uint8_t lst;                /* the listener it came from */
	uint8_t spath;        /* enum stat_path of the body */
	uint16_t status;      /* 0 until a response head is built */
	uint32_t hlen;        /* bytes of its HTTP head */
	uint64_t tx;          /* bytes sent, head included */
	uint64_t t0;          /* when the request arrived (worker ms) */
	struct conn *wait_next;  /* on the worker's response-buffer wait list */
	struct conn *nobuf_next; /* on the worker's provided-buffer wait list */
	struct pace pace;        /* --limit-rate schedule of the response's body */
	/* Site headers of the request being answered (headers.c), reset by
	 * each new request. */
	uint64_t hdrs_on;     /* --header rules for its path (hdrs_select) */
	uint8_t cors;         /* CORS verdict (cors.h), CORS_OFF when none */
	uint8_t auth;            /* AG_*: the auth verdict on this request (authgate.h) */
	struct tls_conn *tls;    /* HTTPS: the TLS state (tls.h), NULL for plain HTTP */
};

enum timer_kind { TK_HEADER, TK_KEEPALIVE, TK_SEND, TK_LINGER, TK_COUNT };

struct server {
	const struct config *cfg;
	int rootfd;
	struct mime_table mime;
	struct http_limits lim;
	struct resp_opts resp;
	struct hdrs_set hdrs; /* --header rules (headers.c) */
	struct cors_set cors; /* --cors origins and their lines (headers.c) */
	struct sitepath_table site; /* --fallback and --error-page paths, normalised */
	atomic_int stop;      /* set once by main: drain and exit */
	atomic_int running;   /* workers whose loop has not ended */
	int wake_fd;          /* eventfd: written once to wake every worker */
	unsigned cq_mult;     /* completion queue entries per submission queue entry */
	bool pbuf_ok;         /* provided buffer rings fit under RLIMIT_MEMLOCK */
	struct alog_shared alog;
	struct listen_set listen;
	struct authpool *auth;  /* --auth-file: the verification pool, else NULL */
	struct tlsctx_slot *tls; /* HTTPS certificates (NULL: no HTTPS listener) */
	const char *hsts;        /* --hsts header line for HTTPS responses, or NULL */
};

/* Accepts are single-shot, at most this many in flight (see arm_accepts),
 * each with room for the peer's address. */
#define ACCEPT_DEPTH 64

struct accept_slot {
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} addr;
	socklen_t len;
	uint8_t lst;          /* the listener it accepts on */
};

struct worker {
	unsigned id;
	int cpu;              /* -1: not pinned */
	pthread_t thread;
	sem_t ready;          /* posted by the worker when set up (init_err says how) */
	sem_t go;             /* posted by main once every listener listens */
	int init_err;         /* -errno of a failed start */
	const char *init_what;
	struct server *srv;
	const struct config *cfg;
	int lfd[LISTEN_MAX];  /* per listener: our own socket or the shared one */

	struct ring ring;
	struct rbuf_pool bufs;   /* response buffers: heads, small bodies, read path */
	struct rbuf_pool dbufs;  /* O_DIRECT read buffers */
	struct pbuf_ring pbufs;
	struct pipe_pool pipes;
	struct fcache fcache;
	size_t read_chunk;    /* bytes per read on the read path (before the scratch) */
	uint64_t send_zc;     /* SEND_ZC for body sends of at least this (0: off) */
	char boundary[24];    /* multipart/byteranges boundary, random per worker */

	struct conn *conns;
	unsigned nconns;
	unsigned sock_base;   /* fixed slot of connection 0's socket */
	uint32_t *free_conns;
	unsigned nfree_conns;

	char *in_arena;       /* input buffers, one per active connection */
	size_t in_size;
	uint32_t *in_free;
	unsigned in_nfree;

	int32_t *held_next;   /* per provided buffer: next in a conn's held chain */
	uint32_t *held_len;
	unsigned pbuf_held;

	struct timer_list timers[TK_COUNT];
	struct conn *wait_head, *wait_tail; /* waiting for a response buffer */
	struct conn *nobuf_head;            /* waiting for provided buffers */

	unsigned accepts;     /* accept SQEs in flight */
	uint8_t lacc[LISTEN_MAX]; /* of them, on each listener */
	unsigned acc_next;    /* the listener the next accept goes to */
	struct accept_slot acc[ACCEPT_DEPTH];
	uint8_t acc_free[ACCEPT_DEPTH];
	unsigned acc_nfree;
	struct stats st;      /* read by the metrics thread */
	struct alog alog;
	bool accept_paused;   /* fixed file table full, or draining */
	bool draining;        /* listener closed; exit when no connection is left */
	uint64_t drain_deadline;
	uint64_t now;         /* monotonic seconds (cache validity) */
	uint64_t now_ms;      /* monotonic milliseconds (timers) */
	struct log_limit warn_open, warn_accept; /* EMFILE/ENFILE and friends */
	struct log_limit warn_proxy; /* bad PROXY headers */
	time_t date_sec;
	char date[32];
	struct open_how how;      /* files: confined per --follow-symlinks */
	struct open_how how_dir;  /* the same for directories */
	struct __kernel_timespec tick;

	/* HTTPS (tls.c) */
	struct rbuf_pool tbufs;  /* ciphertext send buffers, taken while a connection sends */
	struct stls_engine stls; /* seals the records of HTTPS connections without kTLS */
	struct stls_engine stls_rx; /* opens TLS 1.3 records (tls.c takes the read keys) */
	struct tls_conn *tlsc;   /* per connection, used by those on HTTPS listeners */
	struct tls_ktls *tlsk;   /* per connection, used by those whose keys went to the kernel */
	struct tls_conn *tls_tbuf_wait, *tls_hs_wait; /* waiting for a tbuf / a turn */
	unsigned tls_hs_budget;  /* handshake steps left this loop turn */
	char *tls_cin;           /* without provided buffers: ciphertext input per connection */

	struct http_request req; /* scratch: one request is parsed at a time */
	struct conn *req_conn;   /* whose request req holds now */
	struct authgate *auth;   /* Basic auth state, NULL when off */
};

/* Create the listener-independent state and start the thread; the thread
 * sets up its ring (SINGLE_ISSUER needs the submitting thread to create it)
 * and posts `ready` with init_err set. 0 or -errno from pthread_create. */
int worker_start(struct worker *w);

/* For conn.c: a connection slot became free (resume a paused accept). */
void worker_conn_freed(struct worker *w);

/* A worker's fixed file table: two slots per pipe (plus two spare) from 0,
 * then one per connection from worker_sock_base(), at the connection's
 * index. Files are ordinary descriptors (sendfile needs them), so they take
 * no slot. */
unsigned worker_sock_base(const struct config *cfg);
unsigned worker_table_size(const struct config *cfg, unsigned nconns);

/* Close a fixed file slot / an ordinary descriptor (no completion is
 * waited for). */
void worker_close_slot(struct worker *w, int32_t slot);
void worker_close_fd(struct worker *w, int fd);

#endif
