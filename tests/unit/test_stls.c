/* stls: records sealed from linux/tls.h crypto infos open with an
 * independent reading of RFC 8446 §5.2 / RFC 5288 / RFC 7905 (EVP decrypt
 * here), for every cipher and version; sequence numbers advance; bounds. */
#include "stls.h"
#include "ktls.h"

#include <errno.h>
#include <linux/tls.h>
#include <string.h>

#include "check.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7);
}

/* An info of `cipher` for `version` with key/iv/salt bytes from seeds and
 * rec_seq = seq. Returns its length. */
static size_t make_info(unsigned char *out, unsigned version, unsigned cipher, uint64_t seq)
{
	unsigned char rs[8];

	for (int i = 7; i >= 0; i--, seq >>= 8)
		rs[i] = (unsigned char)seq;
	if (cipher == TLS_CIPHER_AES_GCM_128) {
		struct tls12_crypto_info_aes_gcm_128 g = { .info = { version, cipher } };
		fill(g.key, sizeof(g.key), 1), fill(g.iv, sizeof(g.iv), 2), fill(g.salt, sizeof(g.salt), 3);
		memcpy(g.rec_seq, rs, 8);
		memcpy(out, &g, sizeof(g));
		return sizeof(g);
	}
	if (cipher == TLS_CIPHER_AES_GCM_256) {
		struct tls12_crypto_info_aes_gcm_256 g = { .info = { version, cipher } };
		fill(g.key, sizeof(g.key), 4), fill(g.iv, sizeof(g.iv), 5), fill(g.salt, sizeof(g.salt), 6);
		memcpy(g.rec_seq, rs, 8);
		memcpy(out, &g, sizeof(g));
		return sizeof(g);
	}
	struct tls12_crypto_info_chacha20_poly1305 g = { .info = { version, cipher } };
	fill(g.key, sizeof(g.key), 7), fill(g.iv, sizeof(g.iv), 8);
	memcpy(g.rec_seq, rs, 8);
	memcpy(out, &g, sizeof(g));
	return sizeof(g);
}

/* The receiver's side, from the RFCs: plaintext length, or -1. */
static int open_record(const unsigned char *info, const unsigned char *rec, size_t len,
		       uint64_t seq, unsigned *type, unsigned char *out)
{
	struct tls_crypto_info h;
	unsigned char key[32], nonce[12], aad[13], sq[8];
	size_t klen, aad_len, off = 5;
	const EVP_CIPHER *c;
	bool tls13, gcm12;

	memcpy(&h, info, sizeof(h));
	tls13 = h.version == TLS_1_3_VERSION;
	for (int i = 7; i >= 0; i--)
		sq[i] = (unsigned char)(seq >> (8 * (7 - i)));
	if (h.cipher_type == TLS_CIPHER_CHACHA20_POLY1305) {
		struct tls12_crypto_info_chacha20_poly1305 g;
		memcpy(&g, info, sizeof(g));
		klen = 32, memcpy(key, g.key, 32), memcpy(nonce, g.iv, 12);
		c = EVP_chacha20_poly1305();
	} else if (h.cipher_type == TLS_CIPHER_AES_GCM_128) {
		struct tls12_crypto_info_aes_gcm_128 g;
		memcpy(&g, info, sizeof(g));
		klen = 16, memcpy(key, g.key, 16), memcpy(nonce, g.salt, 4), memcpy(nonce + 4, g.iv, 8);
		c = EVP_aes_128_gcm();
	} else {
		struct tls12_crypto_info_aes_gcm_256 g;
		memcpy(&g, info, sizeof(g));
		klen = 32, memcpy(key, g.key, 32), memcpy(nonce, g.salt, 4), memcpy(nonce + 4, g.iv, 8);
		c = EVP_aes_256_gcm();
	}
	(void)klen;
	gcm12 = !tls13 && h.cipher_type != TLS_CIPHER_CHACHA20_POLY1305;
	if (len < 5 + 16 || rec[1] != 3 || rec[2] != 3 || (size_t)(rec[3] << 8 | rec[4]) != len - 5)
		return -1;
	if (gcm12) { /* the explicit nonce is in the record */
		memcpy(nonce + 4, rec + 5, 8);
		off += 8;
	} else {
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= sq[i];
	}
	size_t clen = len - off - 16;
	if (tls13) {
		if (rec[0] != 23)
			return -1;
		memcpy(aad, rec, 5);
		aad_len = 5;
	} else {
		memcpy(aad, sq, 8);
		aad[8] = rec[0], aad[9] = 3, aad[10] = 3;
		aad[11] = (unsigned char)(clen >> 8), aad[12] = (unsigned char)clen;
		aad_len = 13;
	}
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = -1, l;
	if (ctx && EVP_DecryptInit_ex(ctx, c, NULL, key, nonce) &&
	    EVP_DecryptUpdate(ctx, NULL, &l, aad, (int)aad_len) &&
	    EVP_DecryptUpdate(ctx, out, &l, rec + off, (int)clen) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(rec + off + clen)) &&
	    EVP_DecryptFinal_ex(ctx, out + l, &l))
		n = (int)clen;
	EVP_CIPHER_CTX_free(ctx);
	if (n < 0)
		return -1;
	if (tls13) { /* strip the inner type (no padding from us) */
		*type = out[--n];
	} else {
		*type = rec[0];
	}
	return n;
}

static void test_round_trips(void)
{
	static const unsigned versions[] = { TLS_1_2_VERSION, TLS_1_3_VERSION };
	static const unsigned ciphers[] = { TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256,
					    TLS_CIPHER_CHACHA20_POLY1305 };
	static unsigned char plain[STLS_REC_MAX], rec[STLS_REC_MAX + 64], back[STLS_REC_MAX + 64];
	struct stls_engine e;

	CHECK(stls_engine_init(&e) == 0);
	fill(plain, sizeof(plain), 9);
	for (unsigned v = 0; v < 2; v++) {
		for (unsigned ci = 0; ci < 3; ci++) {
			unsigned char info[KTLS_INFO_MAX];
			uint64_t seq0 = 0x0102030405060708ull;
			make_info(info, versions[v], ciphers[ci], seq0);
			struct stls_key k;
			CHECK(stls_key_from_info(&k, info) == 0 && k.seq == seq0);
			/* Sizes: empty, one byte, a page, a full record; data
			 * and an alert; one after the other, so the sequence
			 * and the kept key are exercised. */
			static const size_t sizes[] = { 0, 1, 4096, STLS_REC_MAX, 300 };
			for (unsigned i = 0; i < 5; i++) {
				unsigned type = i == 4 ? KTLS_REC_ALERT : KTLS_REC_DATA;
				int r = stls_seal(&e, &k, type, plain, sizes[i], rec, sizeof(rec));
				CHECK(r == (int)(sizes[i] + stls_overhead(&k)));
				unsigned got_type = 0;
				int n = r > 0 ? open_record(info, rec, (size_t)r, seq0 + i, &got_type, back) : -1;
				CHECK(n == (int)sizes[i] && got_type == type && memcmp(back, plain, sizes[i]) == 0);
			}
			CHECK(k.seq == seq0 + 5);
			/* Too small an output, too long a record: refused, the
			 * sequence unchanged. */
			CHECK(stls_seal(&e, &k, KTLS_REC_DATA, plain, 100, rec, 100) == -ENOSPC);
			CHECK(stls_seal(&e, &k, KTLS_REC_DATA, plain, STLS_REC_MAX + 1, rec, sizeof(rec) + 0) == -ENOSPC);
			CHECK(k.seq == seq0 + 5);
			stls_key_clear(&k);
		}
	}
	/* Two keys sealing in turn on one engine (connections interleaved). */
	unsigned char ia[KTLS_INFO_MAX], ib[KTLS_INFO_MAX];
	make_info(ia, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 0);
	make_info(ib, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256, 0);
	struct stls_key a, b;
	CHECK(stls_key_from_info(&a, ia) == 0 && stls_key_from_info(&b, ib) == 0 && a.id != b.id);
	for (unsigned i = 0; i < 4; i++) {
		struct stls_key *k = i % 2 ? &b : &a;
		unsigned t;
		int r = stls_seal(&e, k, KTLS_REC_DATA, plain, 1000, rec, sizeof(rec));
		CHECK(r > 0 && open_record(i % 2 ? ib : ia, rec, (size_t)r, i / 2, &t, back) == 1000);
	}
	stls_engine_free(&e);
}

static void test_bad_info(void)
{
	struct tls12_crypto_info_aes_gcm_128 g = { .info = { 0x0301, TLS_CIPHER_AES_GCM_128 } };
	struct stls_key k;

	CHECK(stls_key_from_info(&k, &g) == -EINVAL); /* TLS 1.0 */
	g.info.version = TLS_1_3_VERSION;
	g.info.cipher_type = 55; /* CCM is 52, none is 55 */
	CHECK(stls_key_from_info(&k, &g) == -EINVAL);
	CHECK(stls_key_from_info(&k, NULL) == -EINVAL);
}

int main(void)
{
	test_round_trips();
	test_bad_info();
	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
