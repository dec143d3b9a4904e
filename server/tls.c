/* tls: OpenSSL driven from ring completions (see tls.h).
 *
 * Output is one linear registered buffer per sending connection (tbuf):
 * OpenSSL's records are appended at out_len by our BIO's write, one SEND
 * covers [out_sent, out_len) and a short send is finished before anything
 * else is reported. Plaintext is handed to SSL_write in runs of whole
 * 16 KiB records that fit the room left, so a write never half-fits and
 * every record but a response's last is full. */
#include "tls.h"
#include "conn.h"
#include "worker.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "https.h"
#include "tlsctx.h"
#include "log.h"

#define REC_OVERHEAD 64u /* header, tag, content type, padding: 22 (1.3) or 29 (1.2) */

const char *const tls_fail_names[TF_COUNT] = {
	"plain_http", "version", "cipher", "bad_record", "timeout", "eof", "other",
};

static BIO_METHOD *bio_method;

static struct tls_conn *T(const struct conn *c)
{
	return c->tls;
}

char *tls_cin(struct worker *w, struct conn *c)
{
	return w->tls_cin + (size_t)(c - w->conns) * w->in_size;
}

/* ---- the send buffer --------------------------------------------------- */

/* Queue t at the end of a wait list (send buffers or handshake slots);
 * flag says it is on that list. */
static void wait_push(struct tls_conn **head, struct tls_conn *t, uint32_t flag)
{
	if (t->flags & flag)
		return;
	t->flags |= flag;
	t->wait_next = NULL;
	struct tls_conn **pp = head;
	while (*pp)
		pp = &(*pp)->wait_next;
	*pp = t;
}

static void wait_tbuf(struct worker *w, struct tls_conn *t)
{
	wait_push(&w->tls_tbuf_wait, t, TLS_WAIT_TBUF);
}

static void unlink_wait(struct tls_conn **head, struct tls_conn *t)
{
	for (struct tls_conn **pp = head; *pp; pp = &(*pp)->wait_next)
		if (*pp == t) {
			*pp = t->wait_next;
			return;
		}
}

static bool get_tbuf(struct worker *w, struct tls_conn *t)
{
	if (t->tbuf >= 0)
		return true;
	t->tbuf = rbuf_get(&w->tbufs);
	if (t->tbuf >= 0) {
		t->out_len = t->out_sent = 0;
		return true;
	}
	wait_tbuf(w, t);
	return false;
}

bool tls_take_tbuf(struct worker *w, struct conn *c)
{
	/* kTLS: responses go from their own memory; the tbuf only carries
	 * control records, taken when one is written. */
	if (T(c)->flags & TLS_KTLS_ON)
		return true;
	return get_tbuf(w, T(c));
}

void tls_idle(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (!t || t->tbuf < 0 || t->qn || t->inflight || t->out_len || c->buf >= 0 || c->obuf >= 0 ||
	    (t->flags & TLS_CLOSE_AFTER))
		return;
	rbuf_put(&w->tbufs, t->tbuf);
	t->tbuf = -1;
}

/* A file truncated under its mapping: reading a page past the new end
 * raises SIGBUS. The seals that read a mapping run with a way back here
 * (per thread); any other SIGBUS gets the default action, a core, when the
 * access repeats. The sealing context is left mid-record by the jump:
 * it is reset, and the connection ends as at a short read. */
static __thread sigjmp_buf *bus_jump;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (bus_jump)
		siglongjmp(*bus_jump, 1);
	signal(sig, SIG_DFL);
}

static int seal_mapped(struct worker *w, struct tls_conn *t, unsigned type, const void *p,
		       size_t n, unsigned char *out, size_t room)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		bus_jump = NULL;
		stls_engine_reset(&w->stls);
		return -EFAULT;
	}
	bus_jump = &jb;
	int r = stls_seal(&w->stls, &t->seal, type, p, n, out, room);
	bus_jump = NULL;
	return r;
}

/* p[0..n) sealed as one record of `type` after the ciphertext in t's tbuf
 * (t has one), guarded when p is a file mapping: the record's length, or
 * stls_seal's error (-EFAULT: the mapping lost a page). */
static int seal_record(struct worker *w, struct tls_conn *t, unsigned type, const void *p,
		       size_t n, bool mapped)
{
	unsigned char *out = (unsigned char *)rbuf_addr(&w->tbufs, t->tbuf) + t->out_len;
	size_t room = w->tbufs.size - t->out_len;
	int r = mapped ? seal_mapped(w, t, type, p, n, out, room)
		       : stls_seal(&w->stls, &t->seal, type, p, n, out, room);

	if (r > 0) {
		t->out_len += (uint32_t)r;
		t->cwritten += (uint64_t)r;
	}
	return r;
}

/* ---- the BIO: reads from the held receive buffers, writes to the tbuf -- */

static int bio_write(BIO *b, const char *data, int n)
{
	struct tls_conn *t = BIO_get_data(b);
	struct worker *w = t->w;

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (!get_tbuf(w, t)) {
		BIO_set_retry_write(b);
		return -1;
	}
	size_t room = w->tbufs.size - t->out_len;
	if (room == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	if (t->flags & TLS_SEAL) {
		/* OpenSSL's own record (a ticket, Finished, an alert): sealed
		 * now, so that sequence numbers follow the order of writing. */
		size_t n1 = (size_t)n < STLS_REC_MAX ? (size_t)n : STLS_REC_MAX;
		int r = seal_record(w, t, t->ctrl_type ? t->ctrl_type : KTLS_REC_DATA, data, n1, false);
		if (r == -ENOSPC) {
			BIO_set_retry_write(b);
			return -1;
		}
		if (r < 0)
			return -1;
		t->ctrl_type = 0; /* one write per control record, as OpenSSL's socket BIO */
		return (int)n1;
	}
	if (t->flags & TLS_KTLS_SET) {
		/* A plaintext record: kept whole, with its type. */
		if ((size_t)n > room) {
			BIO_set_retry_write(b);
			return -1;
		}
		if (t->k->rn == TLS_RECS)
			return -1; /* cannot happen: a handful of records at most */
	} else if ((size_t)n > room) {
		n = (int)room;
	}
	memcpy(rbuf_addr(&w->tbufs, t->tbuf) + t->out_len, data, (size_t)n);
	t->out_len += (uint32_t)n;
	t->cwritten += (uint64_t)n;
	if (t->flags & TLS_KTLS_SET) {
		struct tls_ktls *k = t->k;
		unsigned i = (k->rhead + k->rn++) % TLS_RECS;
		k->recs[i].end = t->cwritten;
		k->recs[i].type = t->ctrl_type ? t->ctrl_type : KTLS_REC_DATA;
		t->ctrl_type = 0; /* one write per control record, as OpenSSL's socket BIO */
	}
	return n;
}

static int bio_read(BIO *b, char *out, int n)
{
	struct tls_conn *t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	size_t got = conn_held_take(t->w, t->c, out, (size_t)n);
	if (got)
		return (int)got;
	if (t->c->flags & CF_EOF)
		return 0;
	BIO_set_retry_read(b);
	return -1;
}

static int ktls_apply(struct tls_conn *t);
static unsigned ktls_ciphers; /* set once before the workers start */
static bool seal_records = true;
static bool open_records = true;

void tls_set_ktls(unsigned ciphers)
{
	ktls_ciphers = ciphers;
}

void tls_set_seal(bool on)
{
	seal_records = on;
}

void tls_set_open(bool on)
{
	open_records = on;
}

/* The KTLS_* bit of a TLS 1.3 suite, 0 for any other. */
static unsigned suite_cipher(const SSL_CIPHER *sc)
{
	switch (sc ? SSL_CIPHER_get_protocol_id(sc) : 0) {
	case 0x1301:
		return KTLS_AES128GCM;
	case 0x1302:
		return KTLS_AES256GCM;
	case 0x1303:
		return KTLS_CHACHA20POLY1305;
	default:
		return 0;
	}
}

static int unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "CLIENT_TRAFFIC_SECRET_0 <client random> <secret>", both in hex (the
 * NSS key log format): the client's first application key, derived
 * before its Finished arrives. Every other line is ignored. */
void tls_keylog(const SSL *ssl, const char *line)
{
	static const char tag[] = "CLIENT_TRAFFIC_SECRET_0 ";
	struct tls_conn *t = SSL_get_app_data(ssl);
	unsigned char secret[48];
	size_t n = 0;

	if (!t || !open_records || strncmp(line, tag, sizeof(tag) - 1) != 0)
		return;
	const char *p = strchr(line + sizeof(tag) - 1, ' ');
	if (!p)
		return;
	for (p++; p[0] && p[1] && n < sizeof(secret); p += 2) {
		int hi = unhex(p[0]), lo = unhex(p[1]);
		if (hi < 0 || lo < 0)
			return;
		secret[n++] = (unsigned char)(hi << 4 | lo);
	}
	const SSL_CIPHER *sc = SSL_get_pending_cipher(ssl);
	if (!sc)
		sc = SSL_get_current_cipher(ssl);
	if (*p == 0 && SSL_version(ssl) == TLS1_3_VERSION)
		stls_key_from_secret(&t->open, suite_cipher(sc), secret, n); /* id 0 if it fails */
	OPENSSL_cleanse(secret, sizeof(secret));
}

/* OpenSSL's new write keys for the kernel (BIO_CTRL_SET_KTLS, after the
 * BIO was flushed: TLS 1.3 right after the server Finished, TLS 1.2 after
 * its ChangeCipherSpec). Accepting (1) means every record OpenSSL writes
 * from now on is plaintext, so the answer must hold: the upper layer is
 * attached now (its base mode passes bytes through unchanged), the keys
 * are kept, and TLS_TX follows once the ciphertext written before this
 * point is out (tls_sent), or at once when it already is. 0: the
 * connection stays in user space (RX, an unknown cipher, no module). */
static long ktls_set(struct tls_conn *t, long is_tx, const void *info)
{
	int len = ktls_info_len(info);

	if (!is_tx || (t->flags & (TLS_KTLS_SET | TLS_SEAL)) || len < 0 || len > KTLS_INFO_MAX)
		return 0;
	if (!(ktls_info_cipher(info) & ktls_ciphers) || ktls_ulp(t->c->fd) < 0) {
		/* No kernel for it: we seal the records (stls.h). */
		if (!seal_records || stls_key_from_info(&t->seal, info) < 0)
			return 0;
		t->flags |= TLS_SEAL;
		stat_add(&t->w->st.tls_sealed, 1);
		return 1;
	}
	t->k = &t->w->tlsk[t->c - t->w->conns];
	memset(t->k, 0, sizeof(*t->k));
	memcpy(t->k->info, info, (size_t)len);
	t->k->len = (uint8_t)len;
	t->k->at = t->cwritten;
	if (t->csent == t->cwritten && !t->inflight && ktls_apply(t) < 0)
		return 0; /* nothing written since: user space goes on unharmed */
	t->flags |= TLS_KTLS_SET;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_conn *t = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* tls_pump sends what was written */
	case KTLS_BIO_SET:
		return ktls_set(t, num, ptr);
	case KTLS_BIO_GET_SEND:
		/* From the hand-over on: OpenSSL must write plaintext (its
		 * sequence numbers now belong to the kernel, or to stls). */
		return (t->flags & (TLS_KTLS_SET | TLS_SEAL)) != 0;
	case KTLS_BIO_SET_CTRL_MSG: /* only asked once the keys were taken */
		t->ctrl_type = (uint8_t)num;
		return 0;
	case KTLS_BIO_CLEAR_CTRL_MSG:
		t->ctrl_type = 0;
		return 0;
	default: /* KTLS_BIO_GET_RECV included: reading stays in OpenSSL */
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

int tls_global_init(void)
{
	if (bio_method)
		return 0;
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringserve-ring");
	if (!bio_method || !BIO_meth_set_write(bio_method, bio_write) ||
	    !BIO_meth_set_read(bio_method, bio_read) || !BIO_meth_set_ctrl(bio_method, bio_ctrl) ||
	    !BIO_meth_set_create(bio_method, bio_create))
		return -ENOMEM;
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

int tls_attach(struct worker *w, struct conn *c)
{
	struct tls_conn *t = &w->tlsc[c - w->conns];

	memset(t, 0, sizeof(*t));
	t->w = w;
	t->c = c;
	t->tbuf = -1;
	t->ssl = tlsctx_ssl_new(w->srv->tls);
	if (!t->ssl)
		return -ENOMEM;
	BIO *b = BIO_new(bio_method);
	if (!b) {
		SSL_free(t->ssl);
		t->ssl = NULL;
		return -ENOMEM;
	}
	BIO_set_data(b, t);
	SSL_set_bio(t->ssl, b, b);
	SSL_set_app_data(t->ssl, t); /* for tls_keylog */
	SSL_set_accept_state(t->ssl);
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->tls = t;
	return 0;
}

static void unwait(struct worker *w, struct tls_conn *t)
{
	if (t->flags & TLS_WAIT_TBUF)
		unlink_wait(&w->tls_tbuf_wait, t);
	if (t->flags & TLS_WAIT_HS)
		unlink_wait(&w->tls_hs_wait, t);
	t->flags &= ~(uint32_t)(TLS_WAIT_TBUF | TLS_WAIT_HS);
}

void tls_count_fail(struct worker *w, struct conn *c, enum tls_fail why)
{
	struct tls_conn *t = T(c);

	if (!t || (t->flags & TLS_COUNTED))
		return;
	t->flags |= TLS_COUNTED;
	stat_add(&w->st.tls_fail[why], 1);
}

void tls_abort(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	for (unsigned i = 0; i < t->qn; i++)
		if (t->q[(t->qhead + i) % TLS_QMAX].op)
			c->pending--;
	t->qn = 0;
	unwait(w, t);
}

void tls_detach(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (!(t->flags & TLS_ESTABLISHED))
		tls_count_fail(w, c, TF_EOF); /* nothing else was: it left */
	tls_abort(w, c);
	if (t->k)
		OPENSSL_cleanse(t->k->info, sizeof(t->k->info)); /* keys never applied */
	if (t->flags & TLS_SEAL)
		stls_key_clear(&t->seal);
	if (t->open.id)
		stls_key_clear(&t->open);
	SSL_free(t->ssl); /* the BIO with it; OpenSSL's buffers are released */
	t->ssl = NULL;
	if (t->tbuf >= 0)
		rbuf_put(&w->tbufs, t->tbuf);
	t->tbuf = -1;
	c->tls = NULL;
}

bool tls_handshaking(const struct conn *c)
{
	return c->tls && !(c->tls->flags & TLS_ESTABLISHED);
}

/* ---- output -------------------------------------------------------------- */

/* The tbuf's next bytes: ciphertext (before kTLS, or written before the
 * switch) in one SEND; after the switch one plaintext record per SENDMSG,
 * its type in the cmsg. */
static void submit(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (t->inflight || t->out_sent == t->out_len)
		return;
	char *p = rbuf_addr(&w->tbufs, t->tbuf) + t->out_sent;
	uint32_t len = t->out_len - t->out_sent;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	if (!(t->flags & TLS_KTLS_ON)) {
		if ((t->flags & TLS_KTLS_SET) && t->k->at - t->csent < len)
			len = (uint32_t)(t->k->at - t->csent); /* up to the switch */
		io_uring_prep_send(sqe, c->sock, p, len, MSG_NOSIGNAL | MSG_WAITALL);
	} else {
		struct tls_ktls *k = t->k; /* set: TLS_KTLS_ON */
		unsigned char type = KTLS_REC_DATA;
		if (k->rn) {
			uint64_t end = k->recs[k->rhead].end;
			type = k->recs[k->rhead].type;
			if (end - t->csent < len)
				len = (uint32_t)(end - t->csent);
		}
		/* No MSG_MORE: the kernel refuses it with a record type. */
		ktls_msg_init(&k->msg, type, p, len);
		io_uring_prep_sendmsg(sqe, c->sock, &k->msg.mh, MSG_NOSIGNAL);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_TLS_SEND);
	t->inflight = true;
	t->inflight_ent = false;
	t->inflight_end = t->out_sent + len;
}

/* A NOP whose completion reports what needs no bytes. */
static void submit_nop(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	io_uring_prep_nop(sqe);
	conn_tag(w, c, sqe, OP_TLS_SEND);
	t->inflight = true;
	t->inflight_ent = false;
	t->inflight_end = t->out_sent;
}

static enum tls_fail fail_reason(void)
{
	unsigned long e = ERR_peek_error();

	if (!e)
		return TF_EOF;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return TF_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SUITABLE_KEY_SHARE:
	case SSL_R_NO_SHARED_GROUPS:
		return TF_CIPHER;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_LENGTH_MISMATCH:
	case SSL_R_BAD_PACKET_LENGTH:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_BAD_EXTENSION:
	case SSL_R_LENGTH_TOO_SHORT:
		return TF_BAD_RECORD;
	default:
		return TF_OTHER;
	}
}

/* End c once its output is out. Never closes synchronously: callers of
 * tls_send go on using c after it returns. With nothing to send, a NOP's
 * completion does it. */
static void close_soon(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	t->flags |= TLS_CLOSE_AFTER;
	submit(w, c);
	if (!t->inflight)
		submit_nop(w, c);
}

/* Fatal: what OpenSSL wrote (an alert) goes out, then the connection
 * closes; no SSL call after this. */
static void fail(struct worker *w, struct conn *c, enum tls_fail why)
{
	tls_count_fail(w, c, why);
	ERR_clear_error();
	T(c)->flags |= TLS_FAILED;
	close_soon(w, c);
}

/* Plain HTTP on the HTTPS port: a plain-text 400 (as nginx answers), then
 * the close. */
static void plain_400(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	tls_count_fail(w, c, TF_PLAIN_HTTP);
	t->flags |= TLS_FAILED;
	if (!get_tbuf(w, t)) {
		unwait(w, t); /* no buffer: just the close */
	} else {
		int n = https_plain_400(rbuf_addr(&w->tbufs, t->tbuf), w->tbufs.size);
		if (n > 0)
			t->out_len = (uint32_t)n;
	}
	close_soon(w, c);
}

/* Plaintext bytes for one SSL_write: whole records that fit the room. */
static uint32_t write_len(const struct worker *w, const struct tls_conn *t, uint32_t left)
{
	size_t room = w->tbufs.size - t->out_len;
	size_t recs = room / (STLS_REC_MAX + REC_OVERHEAD);
	size_t n = recs * STLS_REC_MAX;

	if (n == 0 && room > REC_OVERHEAD)
		n = room - REC_OVERHEAD;
	return left < n ? left : (uint32_t)n;
}

/* Compact the unsent ciphertext to the front (only between sends). */
static void compact(struct worker *w, struct tls_conn *t)
{
	if (t->inflight || t->tbuf < 0 || t->out_sent == 0)
		return;
	char *b = rbuf_addr(&w->tbufs, t->tbuf);
	memmove(b, b + t->out_sent, t->out_len - t->out_sent);
	t->out_len -= t->out_sent;
	t->out_sent = 0;
}

/* kTLS: the tbuf's records first, then the head queued send's plaintext
 * from the caller's memory, one SEND at a time (a short one is finished
 * before the next: no MSG_WAITALL on tls_sw), MSG_MORE when more of the
 * response follows. */
static void ktls_pump(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (t->inflight)
		return;
	if (t->out_sent < t->out_len) {
		submit(w, c);
		return;
	}
	if (!t->qn || !(t->flags & TLS_KTLS_ON))
		return;
	struct tls_ent *e = &t->q[t->qhead];
	if (e->hold)
		return;
	if (e->enc == e->len) {
		submit_nop(w, c);
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	io_uring_prep_send(sqe, c->sock, e->p + e->enc, e->len - e->enc,
			   MSG_NOSIGNAL | (e->more ? MSG_MORE : 0));
	sqe->flags |= IOSQE_FIXED_FILE;
	conn_tag(w, c, sqe, OP_TLS_SEND);
	t->inflight = true;
	t->inflight_ent = true;
}

/* stls: the next piece of e sealed from the caller's memory straight into
 * the tbuf, a record of up to 16 KiB. Its plaintext bytes, 0 when the tbuf
 * is full for now, -1 when the connection failed. */
static int seal_some(struct worker *w, struct conn *c, struct tls_ent *e)
{
	struct tls_conn *t = T(c);
	size_t over = stls_overhead(&t->seal);
	size_t room = w->tbufs.size - t->out_len;
	size_t n = e->len - e->enc;

	if (n > STLS_REC_MAX)
		n = STLS_REC_MAX;
	if (room < n + over) {
		/* A record cut to the room, unless that leaves under 1 KiB:
		 * the send in flight makes room for a fuller one. */
		if (room < over + 1024)
			return 0;
		n = room - over;
	}
	int r = seal_record(w, t, KTLS_REC_DATA, e->p + e->enc, n, e->mapped);
	if (r < 0) {
		if (r == -EFAULT)
			log_warn("worker %u: a file shrank under an HTTPS response; closing the connection",
				 w->id);
		fail(w, c, TF_OTHER);
		return -1;
	}
	return (int)n;
}

/* The same through SSL_write (before the hand-over, or RINGSERVE_DISABLE=
 * tls_seal): whole records that fit, the same length again after a retry. */
static int write_some(struct worker *w, struct conn *c, struct tls_ent *e)
{
	struct tls_conn *t = T(c);
	uint32_t n = e->retry ? e->retry : write_len(w, t, e->len - e->enc);

	if (n == 0)
		return 0; /* full: the send in flight makes room */
	int r = SSL_write(t->ssl, e->p + e->enc, (int)n);
	if (r <= 0) {
		if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_WRITE) {
			e->retry = n;
			return 0;
		}
		fail(w, c, TF_OTHER);
		return -1;
	}
	e->retry = 0;
	return r;
}

void tls_pump(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (!t)
		return;
	if (t->flags & TLS_FAILED) {
		/* Nothing more is encrypted, but what was (an alert written
		 * while a send was in flight) still goes before the close. */
		submit(w, c);
		return;
	}
	compact(w, t);
	if (t->flags & TLS_KTLS_SET) {
		ktls_pump(w, c);
		return;
	}
	for (unsigned i = 0; i < t->qn; i++) {
		struct tls_ent *e = &t->q[(t->qhead + i) % TLS_QMAX];
		if (e->hold)
			break;
		while (e->enc < e->len) {
			if (!get_tbuf(w, t))
				goto out;
			int r = (t->flags & TLS_SEAL) ? seal_some(w, c, e) : write_some(w, c, e);
			if (r < 0)
				return;
			if (r == 0)
				goto out;
			e->enc += (uint32_t)r;
			e->cend = t->cwritten;
		}
	}
out:
	submit(w, c);
	/* A send with nothing left to encrypt and nothing in flight (all
	 * of it empty) still needs its completion: a NOP brings it. */
	if (!t->inflight && t->qn && t->q[t->qhead].enc == t->q[t->qhead].len &&
	    !t->q[t->qhead].hold)
		submit_nop(w, c);
}

void tls_queue(struct worker *w, struct conn *c, const char *p, uint32_t len, unsigned op,
	       uint32_t res)
{
	struct tls_conn *t = T(c);

	if (t->qn == TLS_QMAX) { /* cannot happen: callers keep two at most */
		log_err("worker %u: TLS send queue full; closing the connection", w->id);
		t->flags |= TLS_FAILED;
		close_soon(w, c);
		return;
	}
	struct tls_ent *e = &t->q[(t->qhead + t->qn++) % TLS_QMAX];
	*e = (struct tls_ent){ .p = p, .len = len, .res = res, .op = (uint8_t)op,
			       .cend = t->cwritten, .hold = (t->flags & TLS_HOLD_NEXT) != 0,
			       .more = (t->flags & TLS_MORE_NEXT) != 0,
			       .mapped = (t->flags & TLS_MAPPED_NEXT) != 0 };
	t->flags &= ~(uint32_t)(TLS_HOLD_NEXT | TLS_MORE_NEXT | TLS_MAPPED_NEXT);
	if (op)
		c->pending++; /* as conn_tag counts an SQE; its completion ends it */
}

void tls_send(struct worker *w, struct conn *c, const char *p, uint32_t len, unsigned op,
	      uint32_t res)
{
	tls_queue(w, c, p, len, op, res);
	tls_pump(w, c);
}

void tls_hold_next(struct conn *c)
{
	c->tls->flags |= TLS_HOLD_NEXT;
}

void tls_more_next(struct conn *c)
{
	c->tls->flags |= TLS_MORE_NEXT;
}

bool tls_ktls(const struct conn *c)
{
	return c->tls && (c->tls->flags & TLS_KTLS_ON);
}

bool tls_sealed(const struct conn *c)
{
	return c->tls && (c->tls->flags & TLS_SEAL);
}

void tls_mapped_next(struct conn *c)
{
	c->tls->flags |= TLS_MAPPED_NEXT;
}

bool tls_user(const struct conn *c)
{
	return c->tls && !(c->tls->flags & TLS_KTLS_ON);
}

/* The ciphertext written before the switch is out: the kernel takes the
 * keys (kept no longer than needed). */
static int ktls_apply(struct tls_conn *t)
{
	int r = ktls_tx(t->c->fd, t->k->info, t->k->len);

	OPENSSL_cleanse(t->k->info, sizeof(t->k->info));
	if (r < 0)
		return r;
	t->flags |= TLS_KTLS_ON;
	stat_add(&t->w->st.tls_ktls, 1);
	return 0;
}

/* The handshake is done and nothing of the switch is still going out. */
static bool ktls_drained(const struct tls_conn *t)
{
	return !(t->flags & TLS_KTLS_SET) ||
	       ((t->flags & TLS_KTLS_ON) && !t->inflight && t->out_sent == t->out_len);
}

void tls_release(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	for (unsigned i = 0; i < t->qn; i++) {
		struct tls_ent *e = &t->q[(t->qhead + i) % TLS_QMAX];
		if (e->hold) {
			e->hold = false;
			break;
		}
	}
	tls_pump(w, c);
}

/* The queued sends whose ciphertext is all out complete, in order. */
static bool deliver(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);
	uint32_t gen = c->gen;

	while (t->qn) {
		struct tls_ent *e = &t->q[t->qhead];
		if (e->hold || e->enc < e->len || e->cend > t->csent)
			break;
		struct io_uring_cqe cqe = { .res = (int32_t)e->res };
		unsigned op = e->op;
		t->qhead = (uint8_t)((t->qhead + 1) % TLS_QMAX);
		t->qn--;
		if (!op)
			continue;
		conn_complete(w, c, op, &cqe);
		if (c->gen != gen || c->state == CS_CLOSING || c->state == CS_FREE || c->tls != t)
			return false;
	}
	return true;
}

void tls_sent(struct worker *w, struct conn *c, int res)
{
	struct tls_conn *t = T(c);

	t->inflight = false;
	if (t->inflight_ent) { /* kTLS: plaintext of the head queued send */
		if (res <= 0) {
			conn_close(w, c);
			return;
		}
		t->q[t->qhead].enc += (uint32_t)res; /* short: ktls_pump sends the rest */
	} else {
		if (res < 0 || (res == 0 && t->inflight_end != t->out_sent)) {
			conn_close(w, c);
			return;
		}
		t->out_sent += (uint32_t)res;
		t->csent += (uint64_t)res;
		if (t->out_sent < t->inflight_end) {
			submit(w, c); /* a short send: finish it first */
			return;
		}
		struct tls_ktls *k = t->k;
		while (k && k->rn && k->recs[k->rhead].end <= t->csent) {
			k->rhead = (uint8_t)((k->rhead + 1) % TLS_RECS);
			k->rn--;
		}
		/* The kernel refusing keys OpenSSL already gave up: no way
		 * back to user space for this connection. */
		int r;
		if ((t->flags & TLS_KTLS_SET) && !(t->flags & TLS_KTLS_ON) && t->csent == t->k->at &&
		    (r = ktls_apply(t)) < 0) {
			stat_add(&w->st.tls_ktls_failed, 1);
			log_warn("worker %u: kTLS TX refused by the kernel (%s); closing the connection",
				 w->id, strerror(-r));
			conn_close(w, c);
			return;
		}
		if (t->out_sent == t->out_len)
			t->out_len = t->out_sent = 0;
	}
	if (!deliver(w, c))
		return;
	tls_pump(w, c);
	if ((t->flags & TLS_CLOSE_AFTER) && !t->inflight && t->out_len == t->out_sent) {
		t->flags &= ~(uint32_t)TLS_CLOSE_AFTER;
		if (t->qn) /* failed with sends queued: they will never go */
			conn_close(w, c);
		else
			conn_end(w, c);
		return;
	}
	tls_idle(w, c);
	if ((t->flags & TLS_KTLS_WAIT) && ktls_drained(t)) {
		t->flags &= ~(uint32_t)TLS_KTLS_WAIT;
		conn_kick(w, c); /* the requests that came meanwhile */
	}
}

bool tls_close_notify(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (!t || (t->flags & (TLS_FAILED | TLS_NOTIFIED)) || !(t->flags & TLS_ESTABLISHED))
		return false;
	t->flags |= TLS_NOTIFIED;
	if (SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
	submit(w, c);
	if (!t->inflight)
		return false;
	t->flags |= TLS_CLOSE_AFTER;
	return true;
}

/* ---- input ---------------------------------------------------------------- */

static void established(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	t->flags |= TLS_ESTABLISHED | TLS_COUNTED;
	stat_add(&w->st.tls_handshakes, 1);
	if (SSL_session_reused(t->ssl))
		stat_add(&w->st.tls_resumed, 1);
	/* TLS 1.3 reading moves to stls when OpenSSL has read exactly the
	 * handshake (it reads a record at a time: no read-ahead) and the
	 * records wait in provided buffers (without them the ciphertext area
	 * is smaller than a record). The client's next record is then its
	 * first under the key from tls_keylog, sequence number 0. */
	if (t->open.id && w->pbufs.active && !SSL_has_pending(t->ssl) &&
	    SSL_version(t->ssl) == TLS1_3_VERSION) {
		t->flags |= TLS_OPEN;
		stat_add(&w->st.tls_opened, 1);
	} else if (t->open.id) {
		stls_key_clear(&t->open);
	}
}

int tls_handshake(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	if (t->flags & (TLS_FAILED | TLS_WAIT_TBUF | TLS_WAIT_HS))
		return -1;
	if (t->flags & TLS_ESTABLISHED)
		return (t->flags & TLS_KTLS_WAIT) ? 0 : 1;
	if (!(t->flags & TLS_SNIFFED)) {
		unsigned char head[HTTPS_SNIFF_LEN];
		size_t n = conn_held_peek(w, c, head, sizeof(head));
		int k = https_sniff(head, n);
		if (k == HTTPS_MORE)
			return 0;
		t->flags |= TLS_SNIFFED;
		if (k == HTTPS_PLAIN) {
			plain_400(w, c);
			return -1;
		}
	}
	/* A flood of new handshakes must not starve established traffic. */
	if (w->tls_hs_budget == 0) {
		wait_push(&w->tls_hs_wait, t, TLS_WAIT_HS);
		return -1;
	}
	w->tls_hs_budget--;
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		established(w, c);
		tls_pump(w, c); /* tickets, the server's Finished (1.2) */
		/* kTLS: the switch and its records go out before any response
		 * (those leave by other paths); tls_sent kicks c then. */
		if (!ktls_drained(t)) {
			t->flags |= TLS_KTLS_WAIT;
			return 0;
		}
		return 1;
	}
	int err = SSL_get_error(t->ssl, r);
	if (err == SSL_ERROR_WANT_READ) {
		tls_pump(w, c);
		return (t->flags & TLS_FAILED) ? -1 : 0;
	}
	if (err == SSL_ERROR_WANT_WRITE) /* no tbuf: resumed when one is free */
		return -1;
	fail(w, c, fail_reason());
	return -1;
}

/* The client's close_notify: the end of input, answered with ours. */
static void peer_notified(struct tls_conn *t)
{
	if (t->flags & TLS_NOTIFIED)
		return;
	t->flags |= TLS_NOTIFIED;
	SSL_shutdown(t->ssl);
}

/* The length of the record whose header is h (a TLS 1.3 record after the
 * handshake: type 23, 0x0303, a tag and a type byte at least), or -1. */
static int record_len(const unsigned char *h)
{
	size_t len = (size_t)h[3] << 8 | h[4];

	if (h[0] != KTLS_REC_DATA || h[1] != 3 || h[2] != 3 || len < STLS_TAG_LEN + 1 ||
	    len > STLS_CIPHERTEXT_MAX)
		return -1;
	return (int)len;
}

/* n held bytes from off on, across buffers; false if fewer are held. */
static bool held_copy(const struct worker *w, const struct conn *c, size_t off, unsigned char *dst,
		      size_t n)
{
	while (n) {
		const unsigned char *p;
		size_t k = conn_held_at(w, c, off, &p);
		if (!k)
			return false;
		k = k < n ? k : n;
		memcpy(dst, p, k);
		dst += k;
		off += k;
		n -= k;
	}
	return true;
}

bool tls_needs_input(const struct worker *w, const struct conn *c)
{
	unsigned char h[STLS_HDR_LEN];

	if (!c->tls || !(c->tls->flags & TLS_OPEN) || (c->tls->flags & TLS_FAILED))
		return false;
	if (!held_copy(w, c, 0, h, sizeof(h)))
		return true;
	int len = record_len(h);
	return len >= 0 && conn_held_bytes(w, c) < STLS_HDR_LEN + (size_t)len;
}

/* A fatal alert of ours (RFC 8446 §6.2) before the close, when we seal. */
static void open_fail(struct worker *w, struct conn *c, unsigned char desc)
{
	struct tls_conn *t = T(c);
	const unsigned char alert[2] = { 2, desc };

	if ((t->flags & TLS_SEAL) && get_tbuf(w, t))
		seal_record(w, t, KTLS_REC_ALERT, alert, sizeof(alert), false);
	t->flags |= TLS_FAILED;
}

/* stls: whole records from the held buffers, decrypted straight into dst
 * when it has room for all of a record's plaintext (else 0: the parser
 * makes room first). Bytes, 0 for none yet, -1 at the end (close_notify)
 * or on a broken record. */
static int open_read(struct worker *w, struct conn *c, char *dst, size_t room)
{
	struct tls_conn *t = T(c);
	unsigned char h[STLS_HDR_LEN], tag[STLS_TAG_LEN];

	for (;;) {
		if (!held_copy(w, c, 0, h, sizeof(h)))
			goto short_input;
		int len = record_len(h);
		if (len < 0) {
			open_fail(w, c, 50); /* decode_error */
			return -1;
		}
		size_t clen = (size_t)len - STLS_TAG_LEN, off = STLS_HDR_LEN;
		if (conn_held_bytes(w, c) < STLS_HDR_LEN + (size_t)len)
			goto short_input;
		if (room < clen)
			return 0;
		if (stls_open_begin(&w->stls_rx, &t->open, h) < 0)
			goto broken;
		while (off < STLS_HDR_LEN + clen) {
			const unsigned char *p;
			size_t k = conn_held_at(w, c, off, &p);
			if (k > STLS_HDR_LEN + clen - off)
				k = STLS_HDR_LEN + clen - off;
			if (stls_open_update(&w->stls_rx, p, dst + off - STLS_HDR_LEN, k) < 0)
				goto broken;
			off += k;
		}
		held_copy(w, c, off, tag, sizeof(tag));
		if (stls_open_final(&w->stls_rx, &t->open, tag) < 0) {
			open_fail(w, c, 20); /* bad_record_mac */
			return -1;
		}
		conn_held_take(w, c, NULL, STLS_HDR_LEN + (size_t)len);
		unsigned type;
		int n = stls_inner((unsigned char *)dst, clen, &type);
		if (n < 0) {
			open_fail(w, c, 10); /* unexpected_message */
			return -1;
		}
		if (type == KTLS_REC_DATA && n > 0)
			return n;
		if (type == KTLS_REC_DATA)
			continue; /* an empty record: allowed */
		if (type == KTLS_REC_ALERT && n == 2 && dst[1] == 0) {
			peer_notified(t);
			ERR_clear_error();
			return -1;
		}
		/* Another alert ends the connection; a post-handshake message
		 * (a KeyUpdate: a new read key) is not followed. */
		if (type == KTLS_REC_ALERT)
			t->flags |= TLS_FAILED;
		else
			open_fail(w, c, 10); /* unexpected_message */
		return -1;
	}
short_input:
	if (!(c->flags & CF_EOF))
		return 0;
	t->flags |= TLS_FAILED; /* the client left mid-record */
	return -1;
broken:
	t->flags |= TLS_FAILED;
	return -1;
}

int tls_read(struct worker *w, struct conn *c, char *dst, size_t room)
{
	struct tls_conn *t = T(c);

	if (t->flags & (TLS_FAILED | TLS_WAIT_TBUF))
		return 0;
	if (t->flags & TLS_OPEN)
		return open_read(w, c, dst, room);
	/* Nothing received and nothing decrypted left over: SSL_read could
	 * only say "want read", after allocating and freeing its record
	 * buffer (SSL_MODE_RELEASE_BUFFERS) and queueing an error. */
	unsigned char b;
	if (!SSL_has_pending(t->ssl) && !conn_held_peek(w, c, &b, 1) && !(c->flags & CF_EOF))
		return 0;
	int r = SSL_read(t->ssl, dst, room > INT32_MAX ? INT32_MAX : (int)room);
	if (r > 0)
		return r;
	int err = SSL_get_error(t->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	/* close_notify (honoured: the end of input, answered with ours) or
	 * a broken record. */
	if (err == SSL_ERROR_ZERO_RETURN)
		peer_notified(t);
	else
		t->flags |= TLS_FAILED;
	ERR_clear_error();
	return -1;
}

bool tls_close_after(struct worker *w, struct conn *c)
{
	struct tls_conn *t = T(c);

	submit(w, c);
	if (!t->inflight)
		return false;
	t->flags |= TLS_CLOSE_AFTER;
	return true;
}

/* ---- the loop's leftovers -------------------------------------------------- */

void tls_after_turn(struct worker *w)
{
	w->tls_hs_budget = w->cfg->tls_hs_per_turn;
	while (w->tls_tbuf_wait && w->tbufs.nfree) {
		struct tls_conn *t = w->tls_tbuf_wait;
		w->tls_tbuf_wait = t->wait_next;
		t->flags &= ~(uint32_t)TLS_WAIT_TBUF;
		struct conn *c = t->c;
		if (c->state == CS_WAITBUF) {
			conn_resume(w, c);
		} else {
			tls_pump(w, c);
			conn_kick(w, c);
		}
	}
	while (w->tls_hs_wait && w->tls_hs_budget) {
		struct tls_conn *t = w->tls_hs_wait;
		w->tls_hs_wait = t->wait_next;
		t->flags &= ~(uint32_t)TLS_WAIT_HS;
		conn_kick(w, t->c);
	}
}

/* ---- for the access log ------------------------------------------------------ */

const char *tls_version(const struct conn *c)
{
	return c->tls && c->tls->ssl ? SSL_get_version(c->tls->ssl) : NULL;
}

const char *tls_cipher(const struct conn *c)
{
	return c->tls && c->tls->ssl ? SSL_get_cipher_name(c->tls->ssl) : NULL;
}

bool tls_resumed(const struct conn *c)
{
	return c->tls && c->tls->ssl && SSL_session_reused(c->tls->ssl);
}
