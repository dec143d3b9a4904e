/* stls: see stls.h. */
#include "stls.h"

#include "ktls.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <linux/tls.h>
#include <openssl/crypto.h>

#define TAG_LEN 16
#define HDR_LEN 5
#define EXPLICIT_LEN 8 /* TLS 1.2 AES-GCM's nonce_explicit */

static uint64_t next_id = 1; /* per process; keys are made on worker threads */

int stls_engine_init(struct stls_engine *e)
{
	memset(e, 0, sizeof(*e));
	e->ctx = EVP_CIPHER_CTX_new();
	e->aes128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	e->aes256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	e->chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!e->ctx || !e->aes128 || !e->aes256 || !e->chacha) {
		stls_engine_free(e);
		return -ENOMEM;
	}
	return 0;
}

void stls_engine_free(struct stls_engine *e)
{
	EVP_CIPHER_CTX_free(e->ctx);
	EVP_CIPHER_free(e->aes128);
	EVP_CIPHER_free(e->aes256);
	EVP_CIPHER_free(e->chacha);
	memset(e, 0, sizeof(*e));
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
	k->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
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

int stls_seal(struct stls_engine *e, struct stls_key *k, unsigned type, const void *p, size_t n,
	      unsigned char *out, size_t cap)
{
	size_t len = n + stls_overhead(k);
	unsigned char nonce[12], aad[13], seq[8];
	int outl;

	if (n > STLS_REC_MAX || len > cap)
		return -ENOSPC;
	put_be64(seq, k->seq);
	memcpy(nonce, k->iv, sizeof(nonce));
	if (explicit_nonce(k))
		memcpy(nonce + 4, seq, 8);
	else
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
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
	/* The key is set once per run of records for one connection. */
	const unsigned char *key = e->loaded == k->id ? NULL : k->key;
	if (!EVP_EncryptInit_ex(e->ctx, key ? cipher_of(e, k) : NULL, NULL, key, nonce))
		goto fail;
	e->loaded = k->id;
	if (!EVP_EncryptUpdate(e->ctx, NULL, &outl, aad, (int)aad_len) ||
	    !EVP_EncryptUpdate(e->ctx, body, &outl, p, (int)n))
		goto fail;
	size_t done = (size_t)outl;
	if (k->tls13) {
		unsigned char inner = (unsigned char)type;
		if (!EVP_EncryptUpdate(e->ctx, body + done, &outl, &inner, 1))
			goto fail;
		done += (size_t)outl;
	}
	if (!EVP_EncryptFinal_ex(e->ctx, body + done, &outl))
		goto fail;
	done += (size_t)outl;
	if (!EVP_CIPHER_CTX_ctrl(e->ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, body + done))
		goto fail;
	k->seq++;
	return (int)len;
fail:
	e->loaded = 0;
	return -EIO;
}
