/* stls: see stls.h. */
#include "stls.h"

#include "ktls.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <linux/tls.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#define TAG_LEN STLS_TAG_LEN
#define HDR_LEN STLS_HDR_LEN
#define EXPLICIT_LEN 8 /* TLS 1.2 AES-GCM's nonce_explicit */

/* Key ids, per process (keys are made on worker threads): write keys
 * (from a crypto info) even, read keys (from a secret) odd, each kind
 * counting densely so that consecutive connections' keys of one kind
 * take consecutive slots. Never 0. */
static uint64_t next_id[2] = { 1, 1 };

static uint64_t new_id(unsigned kind)
{
	return __atomic_fetch_add(&next_id[kind], 1, __ATOMIC_RELAXED) << 1 | kind;
}

int stls_engine_init(struct stls_engine *e, bool decrypt)
{
	static const unsigned char zero[32];

	memset(e, 0, sizeof(*e));
	e->decrypt = decrypt;
	e->aes128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	e->aes256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	e->chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!e->aes128 || !e->aes256 || !e->chacha)
		goto fail;
	/* Set up now (keyed with zeros, never used so): OpenSSL allocates a
	 * context's state at its first init. */
	for (unsigned i = 0; i < STLS_SLOTS; i++) {
		struct stls_slot *s = &e->slot[i];
		s->ctx = EVP_CIPHER_CTX_new();
		if (!s->ctx || !EVP_CipherInit_ex(s->ctx, e->aes128, NULL, zero, zero, decrypt ? 0 : 1))
			goto fail;
		s->cipher = e->aes128;
	}
	e->cur = &e->slot[0];
	return 0;
fail:
	stls_engine_free(e);
	return -ENOMEM;
}

void stls_engine_free(struct stls_engine *e)
{
	for (unsigned i = 0; i < STLS_SLOTS; i++)
		EVP_CIPHER_CTX_free(e->slot[i].ctx);
	EVP_CIPHER_free(e->aes128);
	EVP_CIPHER_free(e->aes256);
	EVP_CIPHER_free(e->chacha);
	memset(e, 0, sizeof(*e));
}

void stls_engine_reset(struct stls_engine *e)
{
	for (unsigned i = 0; i < STLS_SLOTS; i++) {
		e->slot[i].loaded = 0;
		e->slot[i].cipher = NULL;
	}
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The 12-byte nonce base is salt || iv (AES-GCM: 4 + 8; ChaCha: 0 + 12). */
static void take(struct stls_key *k, const unsigned char *key, size_t klen,
		 const unsigned char *salt, size_t slen, const unsigned char *iv, size_t ivlen,
		 const unsigned char *rec_seq)
{
	k->key_len = (uint8_t)klen;
	memcpy(k->key, key, klen);
	if (slen)
		memcpy(k->iv, salt, slen);
	memcpy(k->iv + slen, iv, ivlen);
	k->seq = be64(rec_seq);
}

int stls_key_from_info(struct stls_key *k, const void *info)
{
	struct tls_crypto_info h;

	if (ktls_info_len(info) < 0)
		return -EINVAL;
	memcpy(&h, info, sizeof(h));
	memset(k, 0, sizeof(*k));
	k->tls13 = h.version == TLS_1_3_VERSION;
	k->cipher = (uint8_t)ktls_info_cipher(info);
	if (h.cipher_type == TLS_CIPHER_AES_GCM_128) {
		struct tls12_crypto_info_aes_gcm_128 g;
		memcpy(&g, info, sizeof(g));
		take(k, g.key, sizeof(g.key), g.salt, sizeof(g.salt), g.iv, sizeof(g.iv), g.rec_seq);
		OPENSSL_cleanse(&g, sizeof(g));
	} else if (h.cipher_type == TLS_CIPHER_AES_GCM_256) {
		struct tls12_crypto_info_aes_gcm_256 g;
		memcpy(&g, info, sizeof(g));
		take(k, g.key, sizeof(g.key), g.salt, sizeof(g.salt), g.iv, sizeof(g.iv), g.rec_seq);
		OPENSSL_cleanse(&g, sizeof(g));
	} else { /* ChaCha20-Poly1305: a 12-byte IV, no salt */
		struct tls12_crypto_info_chacha20_poly1305 g;
		memcpy(&g, info, sizeof(g));
		take(k, g.key, sizeof(g.key), NULL, 0, g.iv, sizeof(g.iv), g.rec_seq);
		OPENSSL_cleanse(&g, sizeof(g));
	}
	k->id = new_id(0);
	return 0;
}

/* HKDF-Expand-Label(secret, label, "", len) of RFC 8446 §7.1. */
static int expand_label(const char *md, const unsigned char *secret, size_t slen,
			const char *label, unsigned char *out, size_t len)
{
	unsigned char info[2 + 1 + 6 + 16 + 1];
	size_t ll = strlen(label), n = 0;
	int ok = 0;

	info[n++] = (unsigned char)(len >> 8);
	info[n++] = (unsigned char)len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll);
	n += 6 + ll;
	info[n++] = 0; /* an empty context */
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
		OSSL_PARAM_construct_end(),
	};
	if (kc && EVP_KDF_derive(kc, out, len, params) > 0)
		ok = 1;
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return ok ? 0 : -EINVAL;
}

int stls_key_from_secret(struct stls_key *k, unsigned cipher, const unsigned char *secret,
			 size_t slen)
{
	bool sha384 = cipher == KTLS_AES256GCM;
	size_t klen = cipher == KTLS_AES128GCM ? 16 : 32;

	memset(k, 0, sizeof(*k));
	if ((cipher != KTLS_AES128GCM && cipher != KTLS_AES256GCM &&
	     cipher != KTLS_CHACHA20POLY1305) || slen != (sha384 ? 48u : 32u))
		return -EINVAL;
	const char *md = sha384 ? "SHA384" : "SHA256";
	if (expand_label(md, secret, slen, "key", k->key, klen) < 0 ||
	    expand_label(md, secret, slen, "iv", k->iv, sizeof(k->iv)) < 0) {
		stls_key_clear(k);
		return -EINVAL;
	}
	k->tls13 = 1;
	k->cipher = (uint8_t)cipher;
	k->key_len = (uint8_t)klen;
	k->id = new_id(1);
	return 0;
}

void stls_key_clear(struct stls_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* TLS 1.2 AES-GCM: salt || explicit nonce (sent in the record). */
static bool explicit_nonce(const struct stls_key *k)
{
	return !k->tls13 && k->cipher != KTLS_CHACHA20POLY1305;
}

size_t stls_overhead(const struct stls_key *k)
{
	return HDR_LEN + TAG_LEN + (k->tls13 ? 1 : 0) + (explicit_nonce(k) ? EXPLICIT_LEN : 0);
}

static const EVP_CIPHER *cipher_of(const struct stls_engine *e, const struct stls_key *k)
{
	if (k->cipher == KTLS_CHACHA20POLY1305)
		return e->chacha;
	return k->key_len == 16 ? e->aes128 : e->aes256;
}

static void make_nonce(const struct stls_key *k, const unsigned char *seq, unsigned char *nonce)
{
	memcpy(nonce, k->iv, 12);
	if (explicit_nonce(k))
		memcpy(nonce + 4, seq, 8);
	else
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
}

/* The context of k keyed (once while it keeps k) and given this record's
 * nonce; e->cur. The cipher is named only when it changes: naming it again
 * would make OpenSSL free and rebuild the whole context. */
static EVP_CIPHER_CTX *load(struct stls_engine *e, const struct stls_key *k,
			    const unsigned char *nonce)
{
	struct stls_slot *s = &e->slot[(k->id >> 1) % STLS_SLOTS];
	const unsigned char *key = s->loaded == k->id ? NULL : k->key;
	const EVP_CIPHER *cipher = key ? cipher_of(e, k) : NULL;

	e->cur = s;
	if (cipher == s->cipher)
		cipher = NULL;
	if (!EVP_CipherInit_ex(s->ctx, cipher, NULL, key, nonce, e->decrypt ? 0 : 1)) {
		s->loaded = 0;
		s->cipher = NULL;
		return NULL;
	}
	s->loaded = k->id;
	if (cipher)
		s->cipher = cipher;
	return s->ctx;
}

/* The record in e->cur failed mid-way: key it anew next time. */
static void unload(struct stls_engine *e)
{
	e->cur->loaded = 0;
	e->cur->cipher = NULL;
}

int stls_seal(struct stls_engine *e, struct stls_key *k, unsigned type, const void *p, size_t n,
	      unsigned char *out, size_t cap)
{
	size_t len = n + stls_overhead(k);
	unsigned char nonce[12], aad[13], seq[8];
	int outl;

	if (n > STLS_REC_MAX || len > cap)
		return -ENOSPC;
	put_be64(seq, k->seq);
	make_nonce(k, seq, nonce);
	/* Header: TLS 1.3 hides the type (opaque_type 23); both say 0x0303. */
	unsigned char *h = out, *body = out + HDR_LEN;
	size_t frag = len - HDR_LEN;
	h[0] = (unsigned char)(k->tls13 ? KTLS_REC_DATA : type);
	h[1] = 3;
	h[2] = 3;
	h[3] = (unsigned char)(frag >> 8);
	h[4] = (unsigned char)frag;
	size_t aad_len;
	if (k->tls13) {
		memcpy(aad, h, HDR_LEN); /* RFC 8446 §5.2: the record header */
		aad_len = HDR_LEN;
	} else { /* RFC 5246 §6.2.3.3: seq, type, version, plaintext length */
		memcpy(aad, seq, 8);
		aad[8] = (unsigned char)type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = (unsigned char)(n >> 8);
		aad[12] = (unsigned char)n;
		aad_len = 13;
	}
	if (explicit_nonce(k)) {
		memcpy(body, seq, EXPLICIT_LEN);
		body += EXPLICIT_LEN;
	}
	EVP_CIPHER_CTX *ctx = load(e, k, nonce);
	if (!ctx)
		return -EIO;
	if (!EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) ||
	    !EVP_EncryptUpdate(ctx, body, &outl, p, (int)n))
		goto fail;
	size_t done = (size_t)outl;
	if (k->tls13) {
		unsigned char inner = (unsigned char)type;
		if (!EVP_EncryptUpdate(ctx, body + done, &outl, &inner, 1))
			goto fail;
		done += (size_t)outl;
	}
	if (!EVP_EncryptFinal_ex(ctx, body + done, &outl))
		goto fail;
	done += (size_t)outl;
	if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, body + done))
		goto fail;
	k->seq++;
	return (int)len;
fail:
	unload(e);
	return -EIO;
}

int stls_open_begin(struct stls_engine *e, struct stls_key *k, const unsigned char *hdr)
{
	unsigned char nonce[12], seq[8];
	int outl;

	put_be64(seq, k->seq);
	make_nonce(k, seq, nonce);
	EVP_CIPHER_CTX *ctx = load(e, k, nonce);
	if (!ctx)
		return -EIO;
	/* RFC 8446 §5.2: the additional data is the record header. */
	if (!EVP_DecryptUpdate(ctx, NULL, &outl, hdr, HDR_LEN)) {
		unload(e);
		return -EIO;
	}
	return 0;
}

int stls_open_update(struct stls_engine *e, const void *in, void *out, size_t n)
{
	int outl;

	if (!EVP_DecryptUpdate(e->cur->ctx, out, &outl, in, (int)n) || (size_t)outl != n) {
		unload(e);
		return -EIO;
	}
	return 0;
}

int stls_open_final(struct stls_engine *e, struct stls_key *k, const unsigned char *tag)
{
	unsigned char end[16];
	int outl;

	if (!EVP_CIPHER_CTX_ctrl(e->cur->ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag)) {
		unload(e);
		return -EIO;
	}
	if (EVP_DecryptFinal_ex(e->cur->ctx, end, &outl) <= 0)
		return -EBADMSG;
	k->seq++;
	return 0;
}

int stls_inner(const unsigned char *p, size_t n, unsigned *type)
{
	while (n && p[n - 1] == 0)
		n--;
	if (!n)
		return -EBADMSG;
	*type = p[n - 1];
	return (int)(n - 1);
}
