/* ktls: which crypto infos go to the kernel (and how long they are), the
 * control-record message, the cipher names; the probe on this kernel.
 * Linking tls.c's BIO to a kernel with the tls module is the uml suite's
 * t_ktls. */
#include "check.h"
#include "ktls.h"

#include <errno.h>
#include <string.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <unistd.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* OpenSSL 3.0's wrapper on Linux: the kernel's struct in a union, then
 * its length; ktls_info_len reads only the leading version and cipher. */
struct openssl_info {
	union {
		struct tls12_crypto_info_aes_gcm_128 gcm128;
		struct tls12_crypto_info_aes_gcm_256 gcm256;
		struct tls12_crypto_info_chacha20_poly1305 chacha;
		unsigned char pad[KTLS_INFO_MAX];
	};
	size_t len;
};

static struct openssl_info info(uint16_t version, uint16_t cipher)
{
	struct openssl_info o;

	memset(&o, 0xa5, sizeof(o)); /* key bytes: anything */
	o.gcm128.info.version = version;
	o.gcm128.info.cipher_type = cipher;
	return o;
}

static void test_info_len(void)
{
	struct openssl_info o = info(TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128);

	CHECK(ktls_info_len(&o) == (int)sizeof(struct tls12_crypto_info_aes_gcm_128));
	CHECK(ktls_info_cipher(&o) == KTLS_AES128GCM);
	o = info(TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256);
	CHECK(ktls_info_len(&o) == (int)sizeof(struct tls12_crypto_info_aes_gcm_256));
	CHECK(ktls_info_len(&o) <= KTLS_INFO_MAX);
	CHECK(ktls_info_cipher(&o) == KTLS_AES256GCM);
	o = info(TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305);
	CHECK(ktls_info_len(&o) == (int)sizeof(struct tls12_crypto_info_chacha20_poly1305));
	CHECK(ktls_info_len(&o) <= KTLS_INFO_MAX);
	CHECK(ktls_info_cipher(&o) == KTLS_CHACHA20POLY1305);
	/* CCM (never in our policy), unknown ciphers and versions: no. */
	o = info(TLS_1_2_VERSION, TLS_CIPHER_AES_CCM_128);
	CHECK(ktls_info_len(&o) == -EINVAL && ktls_info_cipher(&o) == 0);
	o = info(TLS_1_2_VERSION, 0xffff);
	CHECK(ktls_info_len(&o) == -EINVAL && ktls_info_cipher(&o) == 0);
	o = info(0x0302, TLS_CIPHER_AES_GCM_128); /* TLS 1.1 */
	CHECK(ktls_info_len(&o) == -EINVAL && ktls_info_cipher(&o) == 0);
	CHECK(ktls_info_len(NULL) == -EINVAL && ktls_info_cipher(NULL) == 0);
}

static void test_msg(void)
{
	struct ktls_msg m;
	const char alert[2] = { 1, 0 };

	ktls_msg_init(&m, KTLS_REC_ALERT, alert, sizeof(alert));
	CHECK(m.mh.msg_iov == &m.iov && m.mh.msg_iovlen == 1);
	CHECK(m.iov.iov_base == alert && m.iov.iov_len == 2);
	CHECK(m.mh.msg_name == NULL && m.mh.msg_flags == 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m.mh);
	CHECK(c && c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_SET_RECORD_TYPE);
	CHECK(c && c->cmsg_len == CMSG_LEN(1) && *CMSG_DATA(c) == KTLS_REC_ALERT);
	CHECK(c && CMSG_NXTHDR(&m.mh, c) == NULL);
	ktls_msg_init(&m, KTLS_REC_HANDSHAKE, "x", 1);
	CHECK(*CMSG_DATA(CMSG_FIRSTHDR(&m.mh)) == KTLS_REC_HANDSHAKE);
}

static void test_format(void)
{
	char b[96];

	ktls_format(0, b, sizeof(b));
	CHECK(strcmp(b, "") == 0);
	ktls_format(KTLS_AES128GCM | KTLS_AES256GCM | KTLS_CHACHA20POLY1305, b, sizeof(b));
	CHECK(strcmp(b, "AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305") == 0);
	ktls_format(KTLS_CHACHA20POLY1305, b, sizeof(b));
	CHECK(strcmp(b, "ChaCha20-Poly1305") == 0);
	ktls_format(KTLS_AES128GCM | KTLS_AES256GCM, b, 16); /* whole names only */
	CHECK(strcmp(b, "AES-128-GCM") == 0);
}

static void test_probe(void)
{
	/* Whatever this kernel has, the answer is a mask of our bits; a
	 * kernel without the tls upper layer (TCP_ULP: ENOENT) takes none. */
	unsigned m = ktls_probe();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK((m & ~7u) == 0);
	CHECK(fd >= 0);
	if (fd >= 0 && ktls_ulp(fd) == -ENOENT)
		CHECK(m == 0);
	printf("this kernel's kTLS ciphers: mask %u\n", m);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	test_info_len();
	test_msg();
	test_format();
	test_probe();
	return failures ? 1 : 0;
}
