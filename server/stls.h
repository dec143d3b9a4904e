/* stls: TLS records sealed by us, after OpenSSL's handshake, where the
 * kernel cannot take the keys (no kTLS).
 *
 * OpenSSL hands the write keys to our BIO as it would to the kernel (a
 * linux/tls.h crypto info, ktls.h) and from then on passes plaintext:
 * records of its own (tickets, the TLS 1.2 Finished, alerts) through the
 * BIO with their type, and application data never, since tls.c no longer
 * calls SSL_write: it seals the caller's bytes (the file cache, a read
 * buffer) straight into the ciphertext buffer, one pass over them. SSL_write
 * would copy them into OpenSSL's record buffer first and the BIO would copy
 * the ciphertext out again: two copies of every body byte, plus a record
 * buffer allocated and freed per record (SSL_MODE_RELEASE_BUFFERS).
 *
 * Records are RFC 8446 §5.2 (TLS 1.3: outer type 23, the real type after
 * the data, nonce = IV xor sequence) or RFC 5288 / RFC 7905 (TLS 1.2:
 * AES-GCM with an explicit nonce, here the sequence number; ChaCha20-Poly1305
 * with IV xor sequence).
 *
 * Reading, TLS 1.3 only: OpenSSL 3.0 offers no read keys for TLS 1.3
 * (kTLS RX is 1.2-only there), so tls.c takes the client's application
 * traffic secret from the key log callback, stls_key_from_secret derives
 * the key and IV (RFC 8446 §7.3), and the records after the handshake are
 * opened here, straight from the receive buffers into the HTTP input
 * buffer: SSL_read would copy each record into a record buffer it
 * allocates and frees per record, decrypt, and copy the plaintext out. */
#ifndef RS_STLS_H
#define RS_STLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define STLS_REC_MAX 16384 /* plaintext bytes in one record */
#define STLS_HDR_LEN 5
#define STLS_TAG_LEN 16
/* TLS 1.3's limit on a record's encrypted fragment (RFC 8446 §5.2). */
#define STLS_CIPHERTEXT_MAX (STLS_REC_MAX + 256)

/* A connection's write keys: from OpenSSL's crypto info, then the sequence
 * number of the next record. */
struct stls_key {
	uint64_t id;         /* unique per key while the process runs (stls_engine reuse) */
	uint64_t seq;
	uint8_t tls13;       /* else TLS 1.2 */
	uint8_t cipher;      /* enum ktls_cipher bit */
	uint8_t key_len;     /* 16 or 32 */
	uint8_t key[32];
	uint8_t iv[12];      /* 1.3 and ChaCha: the static IV; 1.2 AES-GCM: the 4-byte salt */
};

/* Cipher contexts an engine keeps keyed: a key's id picks one. Keying a
 * context (the AES key schedule, GHASH's table, OpenSSL's parameter
 * lookups) costs about as much as sealing a 1 KiB record; with one context
 * per active connection, that is paid once per connection, not per record.
 * All are set up at start (about 1 KiB each), so no memory comes or goes
 * with connections. */
#define STLS_SLOTS 128

struct stls_slot {
	EVP_CIPHER_CTX *ctx;
	uint64_t loaded;          /* id of the key in ctx, 0: none */
	const EVP_CIPHER *cipher; /* the cipher ctx was set up with, NULL: none */
};

/* Per worker and direction. */
struct stls_engine {
	struct stls_slot slot[STLS_SLOTS];
	struct stls_slot *cur;    /* the record being opened */
	EVP_CIPHER *aes128, *aes256, *chacha;
	bool decrypt;             /* an engine opens or seals, never both */
};

/* 0 or -ENOMEM. decrypt: an engine for stls_open_*. */
int stls_engine_init(struct stls_engine *e, bool decrypt);
void stls_engine_free(struct stls_engine *e);

/* Forget what the contexts hold, after a seal cut short (a SIGBUS while
 * reading its plaintext): the next records set them up anew. */
void stls_engine_reset(struct stls_engine *e);

/* The key from a linux/tls.h crypto info of a cipher we seal (ktls.h
 * names them): 0, or -EINVAL. */
int stls_key_from_info(struct stls_key *k, const void *info);

/* A TLS 1.3 read key from a traffic secret of slen bytes (the hash's
 * size): cipher is a KTLS_* bit, the hash SHA-384 for AES-256-GCM and
 * SHA-256 otherwise; the sequence number starts at 0. 0 or -EINVAL. */
int stls_key_from_secret(struct stls_key *k, unsigned cipher, const unsigned char *secret,
			 size_t slen);

/* Forget the key material (the connection ends). */
void stls_key_clear(struct stls_key *k);

/* Bytes a record adds to n bytes of plaintext. */
size_t stls_overhead(const struct stls_key *k);

/* Seal p[0..n) (n <= STLS_REC_MAX) as one record of `type` into out[0..cap):
 * the record's length, or -ENOSPC (cap too small), -EIO (the cipher
 * failed). The key's sequence number advances on success only. */
int stls_seal(struct stls_engine *e, struct stls_key *k, unsigned type, const void *p, size_t n,
	      unsigned char *out, size_t cap);

/* Open one TLS 1.3 record of the key k: begin with its header (type 23,
 * 0x0303, the fragment's length, checked by the caller), then the
 * fragment's ciphertext (its length less the tag) in as many pieces as it
 * comes in, decrypted to out (in == out allowed), then the tag. Final
 * returns 0 when the record is authentic (its sequence number advances),
 * -EBADMSG when not; the others 0 or -EIO. */
int stls_open_begin(struct stls_engine *e, struct stls_key *k, const unsigned char *hdr);
int stls_open_update(struct stls_engine *e, const void *in, void *out, size_t n);
int stls_open_final(struct stls_engine *e, struct stls_key *k, const unsigned char *tag);

/* The inner plaintext of p[0..n): its content type in *type, its length
 * without the type and the zero padding returned; -EBADMSG if it is all
 * zeros (RFC 8446 §5.4). */
int stls_inner(const unsigned char *p, size_t n, unsigned *type);

#endif
