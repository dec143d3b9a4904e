/* https: the pure rules of the HTTPS listeners — what the first bytes on
 * the TLS port are, the plain-text 400 for plain HTTP there, the Location
 * of --redirect-https and the Strict-Transport-Security line of --hsts. */
#ifndef RS_HTTPS_H
#define RS_HTTPS_H

#include <stddef.h>

#define HTTPS_SNIFF_LEN 1 /* the first byte decides */

enum { HTTPS_MORE = 0, HTTPS_TLS, HTTPS_PLAIN, HTTPS_GARBAGE };

/* p[0..n) are the first bytes received on an HTTPS listener: HTTPS_TLS
 * for a handshake record (0x16), HTTPS_PLAIN for what starts like an HTTP
 * request (an upper-case letter: a method), HTTPS_GARBAGE for anything
 * else (OpenSSL answers that with an alert), HTTPS_MORE when n is 0. */
int https_sniff(const unsigned char *p, size_t n);

/* The complete plain-text 400 response (Connection: close) for plain HTTP
 * on the HTTPS port into out[0..cap). Length or -ENOSPC. */
int https_plain_400(char *out, size_t cap);

/* The host of a Host header value without its port, checked: a DNS name
 * (letters, digits, '-', '.', '_', '~'; lower-cased), an IPv4 address or
 * a bracketed IPv6 literal. Writes it into out (NUL-terminated) and
 * returns its length, or -EINVAL for an empty or unsafe value. */
int https_host(const char *host, size_t hlen, char *out, size_t cap);

/* "Location: https://HOST[:PORT]PATH[?QUERY]\r\n" into out (port left out
 * when 443). path and query are request-target bytes the parser allowed
 * (visible ASCII); an empty path becomes "/". Length, -EINVAL for a bad
 * host, -ENOSPC. */
int https_location(char *out, size_t cap, const char *host, size_t hlen, unsigned port,
		   const char *path, size_t plen, const char *query, size_t qlen);

/* "Strict-Transport-Security: max-age=SECONDS\r\n". Length or -ENOSPC. */
int https_hsts(char *out, size_t cap, unsigned seconds);

#endif
