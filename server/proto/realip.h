/* realip: the client's address behind trusted proxies (--trusted-proxy).
 *
 * Pure: CIDR lists, address literals, and the walk over X-Forwarded-For or
 * Forwarded (RFC 7239) values that finds the client. No allocation; the
 * values are read in place.
 *
 * The rule (nginx's real_ip_recursive): read the addresses from right to
 * left, that is from the hop nearest to us outwards, skipping every one
 * inside a trusted CIDR; the first untrusted one is the client. When all
 * are trusted, the left-most is. An entry that is not an address
 * ("unknown", an obfuscated "_name", garbage) stops the walk: the client
 * is then the nearest address accepted so far (the trusted hop that wrote
 * it), or the connection's own peer when there is none, since nothing
 * further left was vouched for by anyone we trust. */
#ifndef RS_REALIP_H
#define RS_REALIP_H

#include <stdbool.h>
#include <stddef.h>

#include "alog.h"

struct realip_cidr {
	uint8_t addr[16];   /* network order, host bits zero */
	uint8_t family;     /* ALOG_PEER_V4, ALOG_PEER_V6 or ALOG_PEER_UNIX */
	uint8_t bits;       /* prefix length */
};

/* "10.0.0.0/8", "192.0.2.7" (/32), "2001:db8::/32", "::1" (/128),
 * "[2001:db8::]/32", or "unix:" for every client of a unix socket (a
 * reverse proxy on the same host). IPv4-mapped IPv6 prefixes of at least 96 bits become
 * IPv4 ones, as peers do. Host bits set beyond the prefix are refused (a
 * typo more often than not). 0 or -EINVAL. */
int realip_parse_cidr(const char *s, struct realip_cidr *out);

/* Is p inside any of list[0..n)? A unix peer only in "unix:". */
bool realip_match(const struct realip_cidr *list, unsigned n, const struct alog_peer *p);

/* One node of a forwarding header: "192.0.2.1", "192.0.2.1:8080",
 * "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:8080". IPv4-mapped IPv6
 * becomes IPv4. true when s[0..n) is such an address. */
bool realip_parse_node(const char *s, size_t n, struct alog_peer *out);

/* The walk, fed one header field value at a time in the order the fields
 * appear (several X-Forwarded-For fields form one list, RFC 9110 §5.3). */
struct realip_walk {
	const struct realip_cidr *trusted;
	unsigned ntrusted;
	unsigned seen;            /* addresses and bad entries so far */
	bool stop;                /* a non-trusted entry was seen: `stop_*` below */
	bool stop_bad;            /* it was not an address */
	bool have_after;          /* an entry follows the stop (trusted by definition) */
	struct alog_peer first;   /* the left-most entry (when all are trusted) */
	struct alog_peer stop_at; /* the untrusted address */
	struct alog_peer after;   /* the first entry right of the stop */
};

void realip_walk_init(struct realip_walk *wk, const struct realip_cidr *trusted, unsigned n);

/* X-Forwarded-For: comma-separated nodes, OWS around them; empty list
 * elements are skipped. */
void realip_walk_xff(struct realip_walk *wk, const char *v, size_t n);

/* Forwarded: comma-separated elements of ';'-separated pairs; the for=
 * parameter (token or quoted-string, quoted-pairs undone) of each element
 * is its node. An element without for= is a bad entry; so is a malformed
 * element (the rest of that field value is then not read). */
void realip_walk_forwarded(struct realip_walk *wk, const char *v, size_t n);

/* The client found, into *out; false when the walk found nothing to go on
 * (no entries, or a bad right-most one): keep the peer. */
bool realip_walk_result(const struct realip_walk *wk, struct alog_peer *out);

#endif
