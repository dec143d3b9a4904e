/* tlsctx: the server's TLS settings as OpenSSL contexts — certificates
 * and keys (one SSL_CTX per --tls-cert/--tls-key pair, the first the
 * default, SNI picking by the certificate's names), protocol floor, the
 * cipher policy, ALPN, and session-ticket keys shared by every worker and
 * rotated. A reload (SIGHUP) builds a whole new set and swaps it in; a
 * connection keeps the set it started with until its SSL is freed.
 *
 * No I/O here: the transport feeds the SSL objects bytes from the ring. */
#ifndef RS_TLSCTX_H
#define RS_TLSCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>

#include <openssl/ssl.h>

#define TLSCTX_PAIRS_MAX 16

struct tlsctx_pair {
	const char *cert; /* PEM: the certificate, then its chain */
	const char *key;  /* PEM private key */
};

struct tlsctx_opts {
	struct tlsctx_pair pairs[TLSCTX_PAIRS_MAX];
	unsigned npairs;
	int min_version;  /* TLS1_2_VERSION or TLS1_3_VERSION */
	bool ktls;        /* ask OpenSSL to hand the keys to the kernel */
	SSL_CTX_keylog_cb_func keylog; /* every context's key log callback, or NULL */
};

struct tlsctx_set; /* immutable once loaded; reference-counted */

/* The set in use, swapped by reloads. */
struct tlsctx_slot {
	pthread_mutex_t lock;
	struct tlsctx_set *cur;
};

/* Build a set from o. 0, or -errno / -EINVAL with one line in err. A key
 * file readable by other users gets a warning line in warn (else ""). */
int tlsctx_load(const struct tlsctx_opts *o, struct tlsctx_set **out, char *err, size_t errlen,
		char *warn, size_t warnlen);
void tlsctx_put(struct tlsctx_set *set);

/* The slot takes the set (its reference). */
void tlsctx_slot_init(struct tlsctx_slot *slot, struct tlsctx_set *set);
/* Swap in a newly loaded set; the old one lives on while SSLs use it. */
void tlsctx_slot_swap(struct tlsctx_slot *slot, struct tlsctx_set *set);
void tlsctx_slot_free(struct tlsctx_slot *slot);

/* A server-side SSL from the slot's current set (the set is held until
 * SSL_free), or NULL. */
SSL *tlsctx_ssl_new(struct tlsctx_slot *slot);

/* The pair whose certificate names `name` (SAN or subject CN, wildcards
 * as X509_check_host allows), else 0. */
unsigned tlsctx_pick(const struct tlsctx_set *set, const char *name);
unsigned tlsctx_count(const struct tlsctx_set *set);

/* Session-ticket key rotation period and how long a ticket stays usable
 * (a key is kept for two periods). */
#define TLSCTX_TICKET_ROTATE_SEC 3600
#define TLSCTX_SESSION_TIMEOUT_SEC (2 * TLSCTX_TICKET_ROTATE_SEC)

#endif
