/* stls: records sealed from linux/tls.h crypto infos open with an
 * independent reading of RFC 8446 §5.2 / RFC 5288 / RFC 7905 (EVP decrypt
 * here), for every cipher and version; sequence numbers advance; bounds.
 * Opening (TLS 1.3): keys from a traffic secret (RFC 8448's vector),
 * records in pieces and in place, tampering, replay, padding. */
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

	CHECK(stls_engine_init(&e, false) == 0);
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

/* RFC 8448 §3 (simple 1-RTT): the client's application traffic secret and
 * the write key and IV derived from it. */
static void test_secret_rfc8448(void)
{
	static const unsigned char secret[32] = {
		0x9e, 0x40, 0x64, 0x6c, 0xe7, 0x9a, 0x7f, 0x9d, 0xc0, 0x5a, 0xf8, 0x88, 0x9b, 0xce, 0x65, 0x52,
		0x87, 0x5a, 0xfa, 0x0b, 0x06, 0xdf, 0x00, 0x87, 0xf7, 0x92, 0xeb, 0xb7, 0xc1, 0x75, 0x04, 0xa5,
	};
	static const unsigned char key[16] = { 0x17, 0x42, 0x2d, 0xda, 0x59, 0x6e, 0xd5, 0xd9,
					       0xac, 0xd8, 0x90, 0xe3, 0xc6, 0x3f, 0x50, 0x51 };
	static const unsigned char iv[12] = { 0x5b, 0x78, 0x92, 0x3d, 0xee, 0x08,
					      0x57, 0x90, 0x33, 0xe5, 0x23, 0xd9 };
	struct stls_key k;

	CHECK(stls_key_from_secret(&k, KTLS_AES128GCM, secret, sizeof(secret)) == 0);
	CHECK(k.tls13 && k.key_len == 16 && k.seq == 0 && k.id != 0);
	CHECK(memcmp(k.key, key, 16) == 0 && memcmp(k.iv, iv, 12) == 0);
	/* The secret's length is the suite's hash's (SHA-384 for AES-256). */
	CHECK(stls_key_from_secret(&k, KTLS_AES256GCM, secret, sizeof(secret)) == -EINVAL);
	CHECK(stls_key_from_secret(&k, 0, secret, sizeof(secret)) == -EINVAL);
}

/* Open rec[0..n) (a TLS 1.3 record) with the engine, the ciphertext fed in
 * pieces of `piece` bytes, in place when out is NULL. Content length, or
 * a negative errno. */
static int open_pieces(struct stls_engine *e, struct stls_key *k, unsigned char *rec, size_t n,
		       size_t piece, unsigned char *out, unsigned *type)
{
	size_t clen = n - STLS_HDR_LEN - STLS_TAG_LEN;
	unsigned char *in = rec + STLS_HDR_LEN, *dst = out ? out : in;

	if (stls_open_begin(e, k, rec) < 0)
		return -EIO;
	for (size_t off = 0; off < clen; off += piece) {
		size_t m = clen - off < piece ? clen - off : piece;
		if (stls_open_update(e, in + off, dst + off, m) < 0)
			return -EIO;
	}
	int r = stls_open_final(e, k, in + clen);
	return r < 0 ? r : stls_inner(dst, clen, type);
}

/* Records sealed by stls_seal open with stls_open_* for every TLS 1.3
 * cipher, whole or in pieces, in place or not, the sequence advancing;
 * a changed byte, a replayed record or a wrong key are refused. */
static void test_open(void)
{
	static const unsigned ciphers[] = { TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256,
					    TLS_CIPHER_CHACHA20_POLY1305 };
	static unsigned char plain[STLS_REC_MAX], rec[STLS_REC_MAX + 64], back[STLS_REC_MAX + 64];
	static const size_t sizes[] = { 0, 1, 100, 4096, STLS_REC_MAX };
	struct stls_engine se, oe;

	CHECK(stls_engine_init(&se, false) == 0 && stls_engine_init(&oe, true) == 0);
	fill(plain, sizeof(plain), 5);
	for (unsigned ci = 0; ci < 3; ci++) {
		unsigned char info[KTLS_INFO_MAX];
		make_info(info, TLS_1_3_VERSION, ciphers[ci], 0);
		struct stls_key sk, ok;
		CHECK(stls_key_from_info(&sk, info) == 0 && stls_key_from_info(&ok, info) == 0);
		for (unsigned i = 0; i < 5; i++) {
			for (unsigned way = 0; way < 3; way++) {
				int r = stls_seal(&se, &sk, KTLS_REC_DATA, plain, sizes[i], rec, sizeof(rec));
				CHECK(r > 0);
				unsigned type = 0;
				size_t piece = way == 1 ? 7 : sizeof(rec);
				int n = open_pieces(&oe, &ok, rec, (size_t)r, piece, way == 2 ? NULL : back, &type);
				const unsigned char *got = way == 2 ? rec + STLS_HDR_LEN : back;
				CHECK(n == (int)sizes[i] && type == KTLS_REC_DATA &&
				      memcmp(got, plain, sizes[i]) == 0);
			}
		}
		CHECK(ok.seq == 15 && sk.seq == 15);
		/* An alert's type comes back. */
		int r = stls_seal(&se, &sk, KTLS_REC_ALERT, "\1\0", 2, rec, sizeof(rec));
		unsigned type = 0;
		CHECK(open_pieces(&oe, &ok, rec, (size_t)r, 64, back, &type) == 2 && type == KTLS_REC_ALERT);
		/* A changed byte of ciphertext, of the tag, of the header. */
		for (unsigned at = 0; at < 3; at++) {
			r = stls_seal(&se, &sk, KTLS_REC_DATA, plain, 500, rec, sizeof(rec));
			size_t pos = at == 0 ? 20 : at == 1 ? (size_t)r - 1 : 4;
			rec[pos] ^= at == 2 ? 0 : 1;
			if (at == 2)
				rec[0] = KTLS_REC_HANDSHAKE; /* the header is authenticated */
			CHECK(open_pieces(&oe, &ok, rec, (size_t)r, 64, back, &type) == -EBADMSG);
			ok.seq++; /* keep in step with the sealer */
		}
		/* Replayed: the sequence number has moved on. */
		r = stls_seal(&se, &sk, KTLS_REC_DATA, plain, 500, rec, sizeof(rec));
		CHECK(open_pieces(&oe, &ok, rec, (size_t)r, 64, back, &type) == 500);
		CHECK(open_pieces(&oe, &ok, rec, (size_t)r, 64, back, &type) == -EBADMSG);
		stls_key_clear(&sk);
		stls_key_clear(&ok);
	}
	/* Two connections' keys in turn on one engine. */
	unsigned char ia[KTLS_INFO_MAX], ib[KTLS_INFO_MAX];
	make_info(ia, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 0);
	make_info(ib, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 0);
	struct stls_key sa, sb, oa, ob;
	CHECK(stls_key_from_info(&sa, ia) == 0 && stls_key_from_info(&sb, ib) == 0);
	CHECK(stls_key_from_info(&oa, ia) == 0 && stls_key_from_info(&ob, ib) == 0);
	for (unsigned i = 0; i < 6; i++) {
		unsigned type;
		int r = stls_seal(&se, i % 2 ? &sb : &sa, KTLS_REC_DATA, plain, 300, rec, sizeof(rec));
		CHECK(open_pieces(&oe, i % 2 ? &ob : &oa, rec, (size_t)r, 100, back, &type) == 300);
	}
	stls_engine_free(&se);
	stls_engine_free(&oe);
}

/* RFC 8446 §5.4: zero padding after the type; all zeros is no type. */
static void test_inner(void)
{
	const unsigned char a[] = { 'h', 'i', 23, 0, 0, 0 }, b[] = { 21 }, z[] = { 0, 0, 0 };
	unsigned type = 0;

	CHECK(stls_inner(a, sizeof(a), &type) == 2 && type == 23);
	CHECK(stls_inner(b, sizeof(b), &type) == 0 && type == 21);
	CHECK(stls_inner(z, sizeof(z), &type) == -EBADMSG);
	CHECK(stls_inner(z, 0, &type) == -EBADMSG);
}

int main(void)
{
	test_round_trips();
	test_bad_info();
	test_secret_rfc8448();
	test_open();
	test_inner();
	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
