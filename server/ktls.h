/* ktls: the kernel's TLS (TX) for an established HTTPS connection.
 *
 * OpenSSL (SSL_OP_ENABLE_KTLS) hands our BIO the kernel's crypto info for
 * the new write keys (BIO_CTRL_SET_KTLS) and from then on writes records
 * as plaintext: application data bare, other records (NewSessionTicket,
 * the TLS 1.2 Finished, alerts) after BIO_CTRL_SET_KTLS_TX_SEND_CTRL_MSG
 * with their type, to be sent with a TLS_SET_RECORD_TYPE cmsg. tls.c
 * drives that; this module holds what touches the kernel's ABI: which
 * crypto infos the kernel takes, the setsockopts, the control message.
 * No liburing here: the SENDMSG is prepared by the caller from ktls_msg.
 *
 * Only TX: with TLS_RX a record that is not application data fails a plain
 * recv with -EIO and needs recvmsg for its cmsg, which the multishot recv
 * into provided buffers cannot give; OpenSSL 3.0 offers RX for TLS 1.2
 * only anyway. Reading stays in OpenSSL (user space). */
#ifndef RS_KTLS_H
#define RS_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* OpenSSL 3.0 keeps these BIO controls internal (include/internal/bio.h);
 * a BIO of our own receives them all the same. */
#define KTLS_BIO_SET 72          /* BIO_CTRL_SET_KTLS: num = is_tx, ptr = crypto info */
#define KTLS_BIO_GET_SEND 73     /* BIO_CTRL_GET_KTLS_SEND (public) */
#define KTLS_BIO_SET_CTRL_MSG 74 /* BIO_CTRL_SET_KTLS_TX_SEND_CTRL_MSG: num = record type */
#define KTLS_BIO_CLEAR_CTRL_MSG 75 /* BIO_CTRL_CLEAR_KTLS_TX_CTRL_MSG */
#define KTLS_BIO_GET_RECV 76     /* BIO_CTRL_GET_KTLS_RECV (public) */

#define KTLS_INFO_MAX 56 /* the largest crypto info we accept (AES-256-GCM, ChaCha20-Poly1305) */

/* Record types (RFC 8446 ContentType). */
#define KTLS_REC_ALERT 21
#define KTLS_REC_HANDSHAKE 22
#define KTLS_REC_DATA 23

/* The kernel's size of the crypto info OpenSSL passed (a struct
 * tls12_crypto_info_* of linux/tls.h, named by its leading version and
 * cipher_type): TLS 1.2 or 1.3 with AES-128-GCM, AES-256-GCM or
 * ChaCha20-Poly1305, else -EINVAL (the connection stays in user space).
 * Read from the info itself, not from OpenSSL's wrapper, whose layout
 * depends on the kernel headers it was built against. */
int ktls_info_len(const void *info);

/* Cipher bits: what the kernel was found to take (ktls_probe). */
enum ktls_cipher {
	KTLS_AES128GCM = 1u << 0,
	KTLS_AES256GCM = 1u << 1,
	KTLS_CHACHA20POLY1305 = 1u << 2,
};

/* The bit of the info's cipher, 0 for one we never use. */
unsigned ktls_info_cipher(const void *info);

/* Which ciphers this kernel encrypts with: each tried once on a loopback
 * TCP connection of our own with a dummy key, at startup (the crypto
 * modules load on first use, as they would for a client's connection).
 * OpenSSL's hand-over cannot be taken back, so a cipher the kernel would
 * refuse must be known before: connections using it stay in user space.
 * 0 without the tls module or a loopback interface. */
unsigned ktls_probe(void);

/* Names of the ciphers in mask ("AES-128-GCM, ..."). */
void ktls_format(unsigned mask, char *out, size_t cap);

/* Attach the tls upper layer to the TCP socket (nothing changes on the
 * wire until ktls_tx). 0 or -errno. */
int ktls_ulp(int fd);

/* The kernel encrypts from now on. 0 or -errno. */
int ktls_tx(int fd, const void *info, size_t len);

/* One non-data record for IORING_OP_SENDMSG: msghdr, iovec and cmsg in
 * one place that lives until the completion (in the connection's state). */
struct ktls_msg {
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(unsigned char))];
	} cm;
};

/* Fill m for p[0..len) as a record of type `type`. */
void ktls_msg_init(struct ktls_msg *m, unsigned char type, const void *p, size_t len);

#endif
