/* ktls: see ktls.h. */
#include "ktls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/tls.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

_Static_assert(sizeof(struct tls12_crypto_info_aes_gcm_256) <= KTLS_INFO_MAX, "info fits");
_Static_assert(sizeof(struct tls12_crypto_info_chacha20_poly1305) <= KTLS_INFO_MAX, "info fits");

int ktls_info_len(const void *info)
{
	struct tls_crypto_info h;

	if (!info)
		return -EINVAL;
	memcpy(&h, info, sizeof(h));
	if (h.version != TLS_1_2_VERSION && h.version != TLS_1_3_VERSION)
		return -EINVAL;
	switch (h.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		return (int)sizeof(struct tls12_crypto_info_aes_gcm_128);
	case TLS_CIPHER_AES_GCM_256:
		return (int)sizeof(struct tls12_crypto_info_aes_gcm_256);
	case TLS_CIPHER_CHACHA20_POLY1305:
		return (int)sizeof(struct tls12_crypto_info_chacha20_poly1305);
	default:
		return -EINVAL; /* CCM and the rest: our cipher policy never picks them */
	}
}

unsigned ktls_info_cipher(const void *info)
{
	struct tls_crypto_info h;

	if (ktls_info_len(info) < 0)
		return 0;
	memcpy(&h, info, sizeof(h));
	switch (h.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		return KTLS_AES128GCM;
	case TLS_CIPHER_AES_GCM_256:
		return KTLS_AES256GCM;
	default:
		return KTLS_CHACHA20POLY1305;
	}
}

/* A connected loopback TCP pair; 0 or -errno. */
static int loop_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = -errno;

	fds[0] = fds[1] = -1;
	if (l < 0)
		return r;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		goto err;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
		goto err;
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0)
		goto err;
	close(l);
	return 0;
err:
	r = -errno;
	if (fds[0] >= 0)
		close(fds[0]);
	close(l);
	fds[0] = -1;
	return r;
}

/* TLS_TX with an all-zero key of this cipher on a fresh connection. */
static bool try_cipher(uint16_t type, size_t len)
{
	union {
		struct tls_crypto_info info;
		unsigned char buf[KTLS_INFO_MAX];
	} ci;
	int fds[2];
	bool ok;

	if (loop_pair(fds))
		return false;
	memset(&ci, 0, sizeof(ci));
	ci.info.version = TLS_1_3_VERSION;
	ci.info.cipher_type = type;
	ok = ktls_ulp(fds[0]) == 0 && ktls_tx(fds[0], &ci, len) == 0;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

unsigned ktls_probe(void)
{
	unsigned m = 0;

	if (try_cipher(TLS_CIPHER_AES_GCM_128, sizeof(struct tls12_crypto_info_aes_gcm_128)))
		m |= KTLS_AES128GCM;
	if (try_cipher(TLS_CIPHER_AES_GCM_256, sizeof(struct tls12_crypto_info_aes_gcm_256)))
		m |= KTLS_AES256GCM;
	if (try_cipher(TLS_CIPHER_CHACHA20_POLY1305,
		       sizeof(struct tls12_crypto_info_chacha20_poly1305)))
		m |= KTLS_CHACHA20POLY1305;
	return m;
}

void ktls_format(unsigned mask, char *out, size_t cap)
{
	static const char *const names[] = { "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305" };
	size_t n = 0;

	if (cap)
		out[0] = '\0';
	for (unsigned i = 0; i < 3 && cap; i++) {
		if (!(mask & (1u << i)))
			continue;
		int r = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", names[i]);
		if (r < 0 || (size_t)r >= cap - n) {
			out[n] = '\0'; /* whole names only */
			return;
		}
		n += (size_t)r;
	}
}

int ktls_ulp(int fd)
{
	return setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) ? -errno : 0;
}

int ktls_tx(int fd, const void *info, size_t len)
{
	return setsockopt(fd, SOL_TLS, TLS_TX, info, (socklen_t)len) ? -errno : 0;
}

void ktls_msg_init(struct ktls_msg *m, unsigned char type, const void *p, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->iov.iov_base = (void *)p;
	m->iov.iov_len = len;
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->cm.buf;
	m->mh.msg_controllen = sizeof(m->cm.buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m->mh);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(type));
	*CMSG_DATA(cm) = type;
}
