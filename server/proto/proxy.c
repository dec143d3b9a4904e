/* proxy: PROXY protocol v1/v2 header parser.
 *
 * Every field parser below returns 0 (the field ends at *pp), PROXY_ERROR,
 * or PROXY_NEED_MORE when the bytes run out while what was seen is still a
 * valid beginning: the parse of a prefix of a header therefore never
 * contradicts the parse of the whole (the fuzzer checks exactly that). A
 * header is at most a few hundred bytes, so a call simply starts over
 * from the first byte instead of keeping a resume point. */
#include "proxy.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static const char v2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

/* buf[0..len) against the first bytes of lit: 0 whole match, NEED_MORE
 * when buf is a shorter prefix of it, ERROR otherwise. */
static int expect(const char *p, const char *end, const char *lit, size_t n)
{
	size_t have = (size_t)(end - p);

	if (memcmp(p, lit, have < n ? have : n) != 0)
		return PROXY_ERROR;
	return have < n ? PROXY_NEED_MORE : 0;
}

/* A decimal without leading zeros, at most `max`. */
static int number(const char **pp, const char *end, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0, nd = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (nd == 1 && v == 0)
			return PROXY_ERROR; /* "01" */
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return PROXY_ERROR;
		nd++;
		p++;
	}
	if (p == end)
		return PROXY_NEED_MORE;
	if (nd == 0)
		return PROXY_ERROR;
	*pp = p;
	*out = v;
	return 0;
}

static int ipv4(const char **pp, const char *end, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v;
		int r = number(pp, end, 255, &v);
		if (r)
			return r;
		out[i] = (uint8_t)v;
		if (i < 3) {
			if (**pp != '.')
				return PROXY_ERROR;
			(*pp)++;
		}
	}
	return 0;
}

/* The characters of an IPv6 literal, then inet_pton on a terminated copy. */
static int ipv6(const char **pp, const char *end, uint8_t out[16])
{
	char tmp[INET6_ADDRSTRLEN];
	const char *p = *pp;
	size_t n = 0;

	while (p < end && (strchr("0123456789abcdefABCDEF:.", *p) && *p)) {
		if (n == sizeof(tmp) - 1)
			return PROXY_ERROR;
		tmp[n++] = *p++;
	}
	if (p == end)
		return PROXY_NEED_MORE;
	tmp[n] = '\0';
	if (n == 0 || inet_pton(AF_INET6, tmp, out) != 1)
		return PROXY_ERROR;
	*pp = p;
	return 0;
}

static int space(const char **pp, const char *end)
{
	if (*pp == end)
		return PROXY_NEED_MORE;
	if (**pp != ' ')
		return PROXY_ERROR;
	(*pp)++;
	return 0;
}

static int crlf(const char **pp, const char *end)
{
	int r = expect(*pp, end, "\r\n", 2);

	if (r == 0)
		*pp += 2;
	return r;
}

/* "PROXY UNKNOWN" is done: anything printable up to the CRLF. */
static int v1_rest(const char **pp, const char *end)
{
	const char *p = *pp;

	while (p < end && *p != '\r') {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return PROXY_ERROR;
		p++;
	}
	*pp = p;
	return crlf(pp, end);
}

static int v1_body(const char *buf, const char *end, struct proxy_hdr *h)
{
	const char *p = buf;
	unsigned sport, dport;
	int r, six;

#define STEP(x) do { if ((r = (x)) != 0) return r; } while (0)
	STEP(expect(p, end, "PROXY ", 6));
	p += 6;
	int ru = expect(p, end, "UNKNOWN", 7);
	int r4 = expect(p, end, "TCP4 ", 5), r6 = expect(p, end, "TCP6 ", 5);
	if (ru == 0) {
		p += 7;
		if (p == end)
			return PROXY_NEED_MORE;
		if (*p == ' ')
			STEP(v1_rest(&p, end)); /* "the receiver must ignore" the rest */
		else
			STEP(crlf(&p, end));
		h->has_addr = 0;
		return (int)(p - buf);
	}
	if (r4 != 0 && r6 != 0)
		return ru == PROXY_NEED_MORE || r4 == PROXY_NEED_MORE || r6 == PROXY_NEED_MORE
			       ? PROXY_NEED_MORE : PROXY_ERROR;
	six = p[3] == '6';
	p += 5;
	memset(h->src, 0, sizeof(h->src));
	memset(h->dst, 0, sizeof(h->dst));
	STEP(six ? ipv6(&p, end, h->src) : ipv4(&p, end, h->src));
	STEP(space(&p, end));
	STEP(six ? ipv6(&p, end, h->dst) : ipv4(&p, end, h->dst));
	STEP(space(&p, end));
	STEP(number(&p, end, 65535, &sport));
	STEP(space(&p, end));
	STEP(number(&p, end, 65535, &dport));
	STEP(crlf(&p, end));
#undef STEP
	h->has_addr = 1;
	h->family = six ? AF_INET6 : AF_INET;
	h->sport = (uint16_t)sport;
	h->dport = (uint16_t)dport;
	return (int)(p - buf);
}

static int parse_v1(const char *buf, size_t len, struct proxy_hdr *out)
{
	struct proxy_hdr h = { .version = 1 };
	/* Never look past the longest line: the bound holds whatever follows. */
	size_t n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	int r = v1_body(buf, buf + n, &h);

	if (r == PROXY_NEED_MORE && n == PROXY_V1_MAX)
		return PROXY_ERROR; /* no CRLF within 107 bytes */
	if (r > 0)
		*out = h;
	return r;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* TLVs fill [p, end) exactly: type, 16-bit length, value. */
static int tlvs_ok(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (end - p < 3 || be16(p + 1) > end - p - 3)
			return 0;
		p += 3 + be16(p + 1);
	}
	return 1;
}

static int parse_v2(const char *buf, size_t len, size_t max, struct proxy_hdr *out)
{
	const uint8_t *b = (const uint8_t *)buf;
	struct proxy_hdr h = { .version = 2 };
	int r = expect(buf, buf + len, v2_sig, sizeof(v2_sig));
	size_t addr_len = 0;

	if (r)
		return r;
	if (len < 13)
		return PROXY_NEED_MORE;
	unsigned cmd = b[12] & 0x0f;
	if ((b[12] >> 4) != 2 || cmd > 1)
		return PROXY_ERROR; /* version 2; LOCAL (0) or PROXY (1) */
	if (len < 14)
		return PROXY_NEED_MORE;
	if (cmd == 1) {
		switch (b[13]) {
		case 0x00: addr_len = 0; break;  /* AF_UNSPEC: keep the real endpoints */
		case 0x11: addr_len = 12; h.family = AF_INET; break;
		case 0x21: addr_len = 36; h.family = AF_INET6; break;
		case 0x31: addr_len = 216; h.family = AF_UNIX; break;
		default: return PROXY_ERROR; /* datagrams, unknown families */
		}
	}
	if (len < PROXY_V2_MIN)
		return PROXY_NEED_MORE;
	size_t total = PROXY_V2_MIN + be16(b + 14);
	if (total > max || total < PROXY_V2_MIN + addr_len)
		return PROXY_ERROR;
	if (len < total)
		return PROXY_NEED_MORE;
	const uint8_t *a = b + PROXY_V2_MIN;
	h.has_addr = cmd == 1 && h.family != 0;
	if (h.family == AF_INET) {
		memcpy(h.src, a, 4);
		memcpy(h.dst, a + 4, 4);
		h.sport = be16(a + 8);
		h.dport = be16(a + 10);
	} else if (h.family == AF_INET6) {
		memcpy(h.src, a, 16);
		memcpy(h.dst, a + 16, 16);
		h.sport = be16(a + 32);
		h.dport = be16(a + 34);
	}
	/* LOCAL and AF_UNSPEC say: ignore the block. Otherwise the TLVs
	 * must be framed, so garbage after the addresses is not waved in. */
	if (h.has_addr && !tlvs_ok(a + addr_len, b + total))
		return PROXY_ERROR;
	*out = h;
	return (int)total;
}

int proxy_parse(const char *buf, size_t len, size_t max, struct proxy_hdr *out)
{
	if (len == 0)
		return PROXY_NEED_MORE;
	if (buf[0] == 'P')
		return parse_v1(buf, len, out);
	if (buf[0] == '\r')
		return parse_v2(buf, len, max, out);
	return PROXY_ERROR;
}
