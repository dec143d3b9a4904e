/* proxy: the PROXY protocol header (HAProxy's v1 text and v2 binary forms)
 * that a load balancer sends before the first byte of the client's stream,
 * naming the client it accepted.
 *
 * Pure: no sockets, no allocation, no copies. Resumable in the sense of the
 * HTTP parser: call it again on the same, longer buffer until it returns a
 * length or an error. Incomplete input is checked as far as it goes, so a
 * client that sends HTTP (or anything) where a header belongs fails at its
 * first byte rather than at a size or time limit. */
#ifndef RS_PROXY_H
#define RS_PROXY_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX 107   /* the longest v1 line, CRLF included (the spec's bound) */
#define PROXY_V2_MIN 16    /* signature, version/command, family, length */
#define PROXY_V2_UNIX 232  /* a v2 header with two AF_UNIX addresses and no TLV */

#define PROXY_ERROR (-1)
#define PROXY_NEED_MORE (-2)

struct proxy_hdr {
	uint8_t version;   /* 1 or 2 */
	uint8_t has_addr;  /* 0: keep the connection's own endpoints (v1 UNKNOWN,
			    * v2 LOCAL, v2 PROXY with AF_UNSPEC) */
	uint8_t family;    /* with has_addr: AF_INET, AF_INET6 or AF_UNIX (v2 only;
			    * the addresses are then not kept) */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t sport, dport;    /* host order */
};

/* Parse a header at the start of buf[0..len). `max` bounds a v2 header
 * (16 + its length field, TLVs included); v1 is always bounded by
 * PROXY_V1_MAX. Returns the header's length (> 0: the client's bytes
 * follow it), PROXY_NEED_MORE when buf is a valid beginning of a header, or
 * PROXY_ERROR: not a header (missing), malformed, or larger than allowed.
 * *out is written only on success.
 *
 * Accepted: v1 "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (single spaces,
 * dotted quads without leading zeros, ports 0..65535 without leading
 * zeros) and "PROXY UNKNOWN[ anything printable]\r\n"; v2 LOCAL (whatever
 * follows is skipped), v2 PROXY over AF_UNSPEC or a stream transport of
 * AF_INET, AF_INET6 or AF_UNIX. TLVs after the addresses are skipped but
 * must be well framed. Datagram transports and unknown versions, commands
 * or families are errors. */
int proxy_parse(const char *buf, size_t len, size_t max, struct proxy_hdr *out);

#endif
