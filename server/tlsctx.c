/* tlsctx: OpenSSL contexts for the HTTPS listeners.
 *
 * Policy (issue #11): TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers only,
 * no compression, no renegotiation, ALPN http/1.1 or none, resumption by
 * stateless tickets whose keys every worker shares (one process-wide key
 * store, rotated hourly; the previous key still decrypts, and a ticket it
 * decrypted is renewed under the current one). */
#include "tlsctx.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

struct tlsctx_set {
	atomic_uint refs;
	unsigned n;
	SSL_CTX *ctx[TLSCTX_PAIRS_MAX];
	X509 *cert[TLSCTX_PAIRS_MAX]; /* owned by ctx[i] */
};

/* TLS 1.2 suites: forward secrecy and AEAD, nothing else. TLS 1.3 suites
 * are AEAD by definition; CCM is left out as nginx and h2o do. */
#define CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"
#define SUITES_13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define GROUPS "X25519:P-256:P-384"

/* ---- ticket keys ------------------------------------------------------ */

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	time_t born;
	bool set;
};

static struct {
	pthread_mutex_t lock;
	struct ticket_key cur, prev;
} keys = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int new_key(struct ticket_key *k, time_t now)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -EIO;
	k->born = now;
	k->set = true;
	return 0;
}

/* Under keys.lock: make the current key no older than one period. */
static int rotate(time_t now)
{
	if (keys.cur.set && now - keys.cur.born < TLSCTX_TICKET_ROTATE_SEC)
		return 0;
	struct ticket_key k;
	if (new_key(&k, now) < 0)
		return -EIO;
	keys.prev = keys.cur;
	keys.cur = k;
	return 0;
}

static int mac_init(EVP_MAC_CTX *hctx, unsigned char *hmac_key)
{
	OSSL_PARAM p[3];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, hmac_key, 32);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"sha256", 0);
	p[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, p);
}

/* OpenSSL's ticket callback: 1 = use (encrypt) / decrypted, 2 = decrypted
 * but renew, 0 = unknown key (full handshake), -1 = error. */
static int ticket_cb(SSL *s, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key k;
	int ret = 1;

	pthread_mutex_lock(&keys.lock);
	if (rotate(time(NULL)) < 0) {
		pthread_mutex_unlock(&keys.lock);
		return -1;
	}
	if (enc) {
		k = keys.cur;
	} else if (memcmp(name, keys.cur.name, 16) == 0) {
		k = keys.cur;
	} else if (keys.prev.set && memcmp(name, keys.prev.name, 16) == 0) {
		k = keys.prev;
		ret = 2;
	} else {
		ret = 0;
	}
	pthread_mutex_unlock(&keys.lock);
	if (ret == 0)
		return 0;
	if (enc) {
		memcpy(name, k.name, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1)
			ret = -1;
	} else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1) {
		ret = -1;
	}
	if (ret > 0 && mac_init(hctx, k.hmac) != 1)
		ret = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return ret;
}

/* ---- callbacks -------------------------------------------------------- */

static int set_index = -1;
static pthread_once_t set_index_once = PTHREAD_ONCE_INIT;

static void set_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	if (ptr)
		tlsctx_put(ptr);
}

static void make_index(void)
{
	set_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, set_free);
}

/* ALPN: http/1.1 when offered; a client offering only h2 (or anything
 * else) continues without ALPN, never a failed handshake. */
static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	for (unsigned i = 0; i < inlen;) {
		unsigned len = in[i];
		if (i + 1 + len > inlen)
			break;
		if (len == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + len;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

unsigned tlsctx_pick(const struct tlsctx_set *set, const char *name)
{
	if (!name || !*name)
		return 0;
	for (unsigned i = 0; i < set->n; i++)
		if (X509_check_host(set->cert[i], name, 0, 0, NULL) == 1)
			return i;
	return 0;
}

unsigned tlsctx_count(const struct tlsctx_set *set)
{
	return set->n;
}

/* SNI: switch to the pair naming the host; unknown names get the default
 * certificate (as nginx's default server does). */
static int sni_cb(SSL *s, int *alert, void *arg)
{
	struct tlsctx_set *set = SSL_get_ex_data(s, set_index);

	if (!set)
		return SSL_TLSEXT_ERR_OK;
	unsigned i = tlsctx_pick(set, SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));
	if (i != 0 && !SSL_set_SSL_CTX(s, set->ctx[i]))
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- loading ---------------------------------------------------------- */

static void ssl_error(char *err, size_t len, const char *what, const char *file)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "unknown error";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, len, "%s %s: %s", what, file, buf);
}

static SSL_CTX *make_ctx(const struct tlsctx_opts *o, const struct tlsctx_pair *p, char *err,
			 size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		ssl_error(err, errlen, "TLS context for", p->cert);
		return NULL;
	}
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			SSL_OP_CIPHER_SERVER_PREFERENCE;
	if (o->ktls)
		opts |= SSL_OP_ENABLE_KTLS;
	SSL_CTX_set_options(ctx, opts);
	/* Record buffers go back while a connection idles: memory per idle
	 * keep-alive connection. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_min_proto_version(ctx, o->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, CIPHERS_12) || !SSL_CTX_set_ciphersuites(ctx, SUITES_13) ||
	    !SSL_CTX_set1_groups_list(ctx, GROUPS)) {
		ssl_error(err, errlen, "TLS settings for", p->cert);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1) {
		ssl_error(err, errlen, "certificate", p->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, p->key, SSL_FILETYPE_PEM) != 1) {
		ssl_error(err, errlen, "private key", p->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "private key %s does not match certificate %s", p->key, p->cert);
		ERR_clear_error();
		goto fail;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* tickets only */
	SSL_CTX_set_timeout(ctx, TLSCTX_SESSION_TIMEOUT_SEC);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	if (o->keylog)
		SSL_CTX_set_keylog_callback(ctx, o->keylog);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void key_mode_warning(const char *key, char *warn, size_t len)
{
	struct stat st;

	if (stat(key, &st) == 0 && (st.st_mode & S_IROTH))
		snprintf(warn, len, "private key %s is readable by other users (chmod o-r)", key);
}

int tlsctx_load(const struct tlsctx_opts *o, struct tlsctx_set **out, char *err, size_t errlen,
		char *warn, size_t warnlen)
{
	pthread_once(&set_index_once, make_index);
	if (warnlen)
		warn[0] = '\0';
	if (set_index < 0 || o->npairs == 0 || o->npairs > TLSCTX_PAIRS_MAX) {
		snprintf(err, errlen, "no certificate and key to load");
		return -EINVAL;
	}
	struct tlsctx_set *set = calloc(1, sizeof(*set));
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	atomic_init(&set->refs, 1);
	for (unsigned i = 0; i < o->npairs; i++) {
		set->ctx[i] = make_ctx(o, &o->pairs[i], err, errlen);
		if (!set->ctx[i]) {
			tlsctx_put(set);
			return -EINVAL;
		}
		set->cert[i] = SSL_CTX_get0_certificate(set->ctx[i]);
		set->n = i + 1;
		if (warnlen && !warn[0])
			key_mode_warning(o->pairs[i].key, warn, warnlen);
	}
	pthread_mutex_lock(&keys.lock);
	int r = rotate(time(NULL));
	pthread_mutex_unlock(&keys.lock);
	if (r < 0) {
		snprintf(err, errlen, "no randomness for session-ticket keys");
		tlsctx_put(set);
		return r;
	}
	*out = set;
	return 0;
}

void tlsctx_put(struct tlsctx_set *set)
{
	if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < set->n; i++)
		SSL_CTX_free(set->ctx[i]);
	free(set);
}

/* ---- the slot --------------------------------------------------------- */

void tlsctx_slot_init(struct tlsctx_slot *slot, struct tlsctx_set *set)
{
	pthread_mutex_init(&slot->lock, NULL);
	slot->cur = set;
}

void tlsctx_slot_swap(struct tlsctx_slot *slot, struct tlsctx_set *set)
{
	pthread_mutex_lock(&slot->lock);
	struct tlsctx_set *old = slot->cur;
	slot->cur = set;
	pthread_mutex_unlock(&slot->lock);
	tlsctx_put(old);
}

void tlsctx_slot_free(struct tlsctx_slot *slot)
{
	tlsctx_put(slot->cur);
	slot->cur = NULL;
	pthread_mutex_destroy(&slot->lock);
}

/* A mutex per new TLS connection: uncontended it costs tens of ns, next to
 * a handshake's hundreds of µs; it makes "take a reference to the current
 * set" safe against a reload dropping the last one. */
SSL *tlsctx_ssl_new(struct tlsctx_slot *slot)
{
	pthread_mutex_lock(&slot->lock);
	struct tlsctx_set *set = slot->cur;
	if (set)
		atomic_fetch_add(&set->refs, 1);
	pthread_mutex_unlock(&slot->lock);
	if (!set)
		return NULL;
	SSL *s = SSL_new(set->ctx[0]);
	if (!s || !SSL_set_ex_data(s, set_index, set)) {
		SSL_free(s);
		tlsctx_put(set);
		return NULL;
	}
	return s;
}
