/* tls: the transport between the ring and OpenSSL (HTTPS listeners).
 *
 * All socket I/O stays on the ring. Ciphertext arrives with the ordinary
 * multishot recv into provided buffers, which wait on the connection's
 * held chain; a BIO method of our own (no memory BIO, no copy into one)
 * lets OpenSSL read straight from those buffers, and decrypted bytes go
 * into the connection's input buffer for the HTTP parser. Outgoing
 * plaintext (every send site of conn.c, direct.c: heads, whole responses,
 * batches, body chunks, listings) is queued here with the op it stands
 * for; it is encrypted into a registered send buffer (tbuf) in full 16 KiB
 * records and leaves with one ring SEND (OP_TLS_SEND) at a time. When the
 * ciphertext covering a queued send is all out, its completion is handed
 * to conn_complete() as if the plaintext send had completed whole.
 *
 * Without kTLS a body cannot go by splice or sendfile: conn.c keeps TLS
 * connections on the READ_FIXED and O_DIRECT paths. A file read that
 * would be linked to its send is submitted alone and the send waits here
 * (tls_hold_next / tls_release) until the read completes.
 *
 * With kTLS (ktls.h; the tls module loaded): OpenSSL hands the write keys
 * to our BIO at the end of the handshake and writes later records as
 * plaintext. The kernel takes them (TLS_TX) once every ciphertext byte
 * written before is out; records other than application data (tickets,
 * the TLS 1.2 Finished, alerts) go from the tbuf by SENDMSG with their
 * record type in a cmsg. The HTTP side starts only when that switch is
 * done (tls_handshake returns 1 then). From there queued sends leave as
 * plaintext straight from the caller's memory, one ring SEND at a time
 * (without MSG_WAITALL, which the kernel's tls_sw refuses: a short send is
 * finished here before its completion is reported), and conn.c sends
 * bodies by splice and sendfile into the socket again (tls_ktls). */
#ifndef RS_TLS_H
#define RS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ktls.h"
#include "stls.h"

struct worker;
struct conn;

#define TLS_QMAX 4 /* plaintext sends queued per connection (2 are in use at most today) */

struct tls_ent {
	const char *p;      /* plaintext, owned by the caller until its completion */
	uint32_t len, enc;  /* bytes; bytes encrypted so far */
	uint32_t res;       /* the result its completion reports */
	uint32_t retry;     /* a write that wanted room is retried with this length */
	uint64_t cend;      /* ciphertext counter after its last byte */
	uint8_t op;         /* enum op of the completion; 0: none */
	bool hold;          /* waits for tls_release (its file read) */
	bool more;          /* kTLS: more of the response follows (MSG_MORE) */
	bool mapped;        /* p is a file mapping: sealed with SIGBUS guarded */
};

enum tls_flag {
	TLS_ESTABLISHED = 1u << 0,
	TLS_SNIFFED = 1u << 1,     /* the first byte was looked at */
	TLS_HOLD_NEXT = 1u << 2,   /* the next queued send waits for a read */
	TLS_CLOSE_AFTER = 1u << 3, /* close once the output is out */
	TLS_NOTIFIED = 1u << 4,    /* close_notify written */
	TLS_FAILED = 1u << 5,      /* handshake failed or plain HTTP: no more SSL calls */
	TLS_WAIT_TBUF = 1u << 6,   /* on the worker's tbuf wait list */
	TLS_WAIT_HS = 1u << 7,     /* on the worker's handshake wait list */
	TLS_COUNTED = 1u << 8,     /* its handshake outcome is counted */
	TLS_KTLS_SET = 1u << 9,    /* OpenSSL handed over the write keys: records are plaintext */
	TLS_KTLS_ON = 1u << 10,    /* ... and the kernel took them (TLS_TX applied) */
	TLS_KTLS_WAIT = 1u << 11,  /* established; HTTP waits until the switch is out */
	TLS_MORE_NEXT = 1u << 12,  /* the next queued send is followed by more (kTLS) */
	TLS_SEAL = 1u << 13,       /* OpenSSL handed over the write keys to us: stls seals */
	TLS_OPEN = 1u << 14,       /* stls opens the client's records (`open`): no more SSL_read */
	TLS_MAPPED_NEXT = 1u << 15, /* the next queued send is a file mapping's bytes */
};

/* HTTPS input buffers have room for a whole record's plaintext after the
 * largest unfinished head: stls opens a record only into room for all of
 * it, and the parser makes room only by finishing heads. */
#define TLS_IN_MIN (STLS_CIPHERTEXT_MAX + 1024)

#define TLS_RECS 8 /* kTLS: plaintext records waiting in the tbuf */

/* Handshake failures, by reason (metrics). */
enum tls_fail {
	TF_PLAIN_HTTP = 0, /* the first byte was not a handshake record: 400 */
	TF_VERSION,        /* no common protocol version (TLS 1.0/1.1 clients) */
	TF_CIPHER,         /* no common cipher or group */
	TF_BAD_RECORD,     /* not TLS, or a malformed ClientHello */
	TF_TIMEOUT,        /* not done within --header-timeout */
	TF_EOF,            /* the client left mid-handshake */
	TF_OTHER,
	TF_COUNT,
};
extern const char *const tls_fail_names[TF_COUNT];

/* kTLS: the keys until applied, the records written since (each ends at
 * a cwritten count), the SENDMSG in flight. Kept apart from tls_conn, in an
 * array touched only by connections whose keys went to the kernel: without
 * kTLS an idle HTTPS connection does not pay for it. */
struct tls_ktls {
	uint64_t at;                /* cwritten when OpenSSL switched */
	uint8_t len;                /* of info */
	uint8_t rhead, rn;
	unsigned char info[KTLS_INFO_MAX];
	struct {
		uint64_t end;
		uint8_t type;
	} recs[TLS_RECS];
	struct ktls_msg msg;
};

struct tls_conn {
	SSL *ssl;
	struct worker *w;
	struct conn *c;
	int32_t tbuf;               /* tbufs index or -1 */
	uint32_t out_len, out_sent; /* ciphertext in the tbuf; of it sent */
	uint32_t inflight_end;      /* end of the SEND in flight */
	bool inflight;
	bool inflight_ent;          /* kTLS: it is the head queued send's plaintext, not the tbuf */
	uint32_t flags;
	uint64_t cwritten, csent;   /* ciphertext bytes ever written / sent */
	struct tls_ent q[TLS_QMAX];
	uint8_t qhead, qn;
	uint32_t cin_len;           /* without provided buffers: ciphertext in tls_cin() */
	struct tls_conn *wait_next; /* tbuf or handshake wait list */
	struct tls_ktls *k;         /* from OpenSSL's offer of the keys on; else NULL */
	uint8_t ctrl_type;          /* kTLS or stls: the next BIO write is a record of this type (0: data) */
	struct stls_key seal;       /* TLS_SEAL: the write keys */
	struct stls_key open;       /* the client's TLS 1.3 key from tls_keylog (id 0: none) */
};

/* Without provided buffer rings (RINGSERVE_DISABLE=pbuf_ring, a tight
 * RLIMIT_MEMLOCK) the recv of an HTTPS connection lands here, an
 * input-sized area of its own, instead of in the held chain. */
char *tls_cin(struct worker *w, struct conn *c);

/* One-time setup of the BIO method; 0 or -ENOMEM. */
int tls_global_init(void);
/* Before the workers start: the ciphers the kernel takes (ktls_probe);
 * OpenSSL's hand-over of any other is declined (user space). */
void tls_set_ktls(unsigned ciphers);
/* Whether OpenSSL's write keys are taken for stls where the kernel cannot
 * have them (default on; RINGSERVE_DISABLE=tls_seal turns it off). */
void tls_set_seal(bool on);
/* Whether TLS 1.3 records are opened by stls (default on;
 * RINGSERVE_DISABLE=tls_open leaves reading to SSL_read). */
void tls_set_open(bool on);
/* The key log callback (tlsctx_opts.keylog) that takes the client's
 * TLS 1.3 application traffic secret for stls. */
void tls_keylog(const SSL *ssl, const char *line);
/* stls opens c's records and the held bytes are not yet a whole record:
 * the receive goes on while they are held. */
bool tls_needs_input(const struct worker *w, const struct conn *c);

/* A connection accepted on an HTTPS listener: its SSL. 0 or -errno. */
int tls_attach(struct worker *w, struct conn *c);
/* The connection is freed: the SSL too, the tbuf back. */
void tls_detach(struct worker *w, struct conn *c);
/* It is closing: queued sends are dropped (their pending counts with them). */
void tls_abort(struct worker *w, struct conn *c);

/* Run the handshake on the held ciphertext. 1: established (decrypt with
 * tls_read), 0: more bytes needed, -1: stop (failing, closing, waiting). */
int tls_handshake(struct worker *w, struct conn *c);
/* Decrypt into dst[0..room). Bytes, 0 when more ciphertext is needed, -1
 * at the end (close_notify, or an error). */
int tls_read(struct worker *w, struct conn *c, char *dst, size_t room);

/* Queue p[0..len) for the socket; its completion (op, result res) comes
 * once the ciphertext is out. op 0: no completion (a part of a larger
 * send whose last part reports). */
void tls_send(struct worker *w, struct conn *c, const char *p, uint32_t len, unsigned op,
	      uint32_t res);
/* The same, without starting to encrypt and send: the next tls_send's
 * bytes go in the same SEND as these. */
void tls_queue(struct worker *w, struct conn *c, const char *p, uint32_t len, unsigned op,
	      uint32_t res);
/* The next tls_send waits for tls_release (a file read fills it). */
void tls_hold_next(struct conn *c);
/* More of the response follows the next tls_send (kTLS: MSG_MORE, so the
 * kernel fills its records across sends; ignored in user space). */
void tls_more_next(struct conn *c);
/* The kernel encrypts c's output (kTLS TX): sends are plaintext, bodies
 * may go by splice and sendfile. */
bool tls_ktls(const struct conn *c);
/* HTTPS encrypted in user space (no kTLS for c): its bodies must pass
 * through memory, so no splice or sendfile. */
bool tls_user(const struct conn *c);
/* stls seals c's records (a file mapping may be the plaintext: its
 * truncation is caught, which SSL_write could not survive). */
bool tls_sealed(const struct conn *c);
/* The next queued send reads a file mapping (fcache_map). */
void tls_mapped_next(struct conn *c);
void tls_release(struct worker *w, struct conn *c);
/* Encrypt what can be and send it. */
void tls_pump(struct worker *w, struct conn *c);
/* OP_TLS_SEND completed. */
void tls_sent(struct worker *w, struct conn *c, int res);

/* A response needs the send buffer: false when none is free (c waits and
 * is resumed with conn_resume). */
bool tls_take_tbuf(struct worker *w, struct conn *c);
/* Let the tbuf go when nothing needs it. */
void tls_idle(struct worker *w, struct conn *c);

/* The server ends the connection: queue close_notify. True when it was
 * queued (conn_end is called again once it is out). */
bool tls_close_notify(struct worker *w, struct conn *c);

/* The input ended: true when output is still going out (the close comes
 * through conn_end once it is). */
bool tls_close_after(struct worker *w, struct conn *c);

/* The header timeout fired before the handshake finished: count it. */
bool tls_handshaking(const struct conn *c);
void tls_count_fail(struct worker *w, struct conn *c, enum tls_fail why);

/* Start of a loop turn's leftovers: run waiting handshakes and sends. */
void tls_after_turn(struct worker *w);

/* For the access log: version ("TLSv1.3"), cipher, resumed. */
const char *tls_version(const struct conn *c);
const char *tls_cipher(const struct conn *c);
bool tls_resumed(const struct conn *c);

#endif
