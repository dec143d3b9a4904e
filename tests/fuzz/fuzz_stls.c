/* fuzz_stls: TLS 1.3 records sealed and opened by stls (the code between
 * the ring and OpenSSL once the handshake is done).
 *
 * The input's first byte picks the cipher; then each record is described
 * by six bytes and its content: length (2 bytes, mod 600), the content
 * type (0 becomes 23), zero padding (0..15), the piece size the opener is
 * fed in (1..256), and a byte to change (0: none; else that position,
 * mod the record's length, is flipped; bit 1 of it also opens in place).
 * The content comes from the input,
 * repeated when it runs out. Every record must open to its exact content
 * and type, in place or not, across any pieces; a changed one must be
 * refused without advancing the sequence; the sealer and the opener stay
 * in step either way. */
#include "ktls.h"
#include "stls.h"

#include <errno.h>
#include <linux/tls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

#define CONTENT_MAX 600
#define PAD_MAX 15

static struct stls_engine seal_e, open_e;

static void make_keys(unsigned pick, struct stls_key *s, struct stls_key *o)
{
	static const unsigned ciphers[] = { TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256,
					    TLS_CIPHER_CHACHA20_POLY1305 };
	union {
		struct tls12_crypto_info_aes_gcm_128 a;
		struct tls12_crypto_info_aes_gcm_256 b;
		struct tls12_crypto_info_chacha20_poly1305 c;
	} u;

	memset(&u, 0x5a, sizeof(u));
	u.a.info.version = TLS_1_3_VERSION;
	u.a.info.cipher_type = (uint16_t)ciphers[pick % 3];
	memset(pick % 3 == 0 ? u.a.rec_seq : pick % 3 == 1 ? u.b.rec_seq : u.c.rec_seq, 0, 8);
	REQUIRE(stls_key_from_info(s, &u) == 0 && stls_key_from_info(o, &u) == 0);
}

/* Open rec[0..n) fed in pieces; in place when inplace. */
static int open_record(struct stls_key *k, unsigned char *rec, size_t n, size_t piece, bool inplace,
		       unsigned char *out, unsigned *type)
{
	size_t clen = n - STLS_HDR_LEN - STLS_TAG_LEN;
	unsigned char *in = rec + STLS_HDR_LEN, *dst = inplace ? in : out;

	if (stls_open_begin(&open_e, k, rec) < 0)
		return -EIO;
	for (size_t off = 0; off < clen; off += piece) {
		size_t m = clen - off < piece ? clen - off : piece;
		if (stls_open_update(&open_e, in + off, dst + off, m) < 0)
			return -EIO;
	}
	int r = stls_open_final(&open_e, k, in + clen);
	return r < 0 ? r : stls_inner(dst, clen, type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char plain[CONTENT_MAX + PAD_MAX + 1], rec[CONTENT_MAX + 64],
		back[CONTENT_MAX + 64];
	struct stls_key sk, ok;

	if (!seal_e.aes128)
		REQUIRE(stls_engine_init(&seal_e, false) == 0 && stls_engine_init(&open_e, true) == 0);
	if (size < 1)
		return 0;
	make_keys(data[0], &sk, &ok);
	size_t i = 1;
	for (unsigned nrec = 0; i + 5 <= size && nrec < 64; nrec++) { /* the flip byte may be missing */
		size_t len = ((size_t)data[i] << 8 | data[i + 1]) % CONTENT_MAX;
		unsigned type = data[i + 2] ? data[i + 2] : KTLS_REC_DATA;
		size_t pad = data[i + 3] % (PAD_MAX + 1), piece = 1 + data[i + 4] % 256;
		unsigned flip = i + 5 < size ? data[i + 5] : 0;
		i += 6;
		for (size_t j = 0; j < len; j++)
			plain[j] = i < size ? data[i + j % (size - i)] : (unsigned char)j;
		size_t avail = i < size ? size - i : 0;
		i += len < avail ? len : avail;
		/* content || type || zeros, sealed with type 0: stls_seal's
		 * own type byte becomes one more zero of padding. */
		plain[len] = (unsigned char)type;
		memset(plain + len + 1, 0, pad);
		int r = stls_seal(&seal_e, &sk, 0, plain, len + 1 + pad, rec, sizeof(rec));
		REQUIRE(r == (int)(len + 1 + pad + stls_overhead(&sk)));
		if (flip)
			rec[flip % (unsigned)r] ^= (unsigned char)(flip | 1);
		unsigned got = 0;
		uint64_t seq = ok.seq;
		int n = open_record(&ok, rec, (size_t)r, piece, flip & 2, back, &got);
		if (flip) {
			REQUIRE(n == -EBADMSG && ok.seq == seq);
			ok.seq = sk.seq; /* the record is gone; the next one is the sealer's */
			continue;
		}
		const unsigned char *p = (flip & 2) ? rec + STLS_HDR_LEN : back;
		REQUIRE(n == (int)len && got == type && memcmp(p, plain, len) == 0);
		REQUIRE(ok.seq == sk.seq);
	}
	stls_key_clear(&sk);
	stls_key_clear(&ok);
	return 0;
}
