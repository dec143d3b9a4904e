/* realip: trusted-proxy CIDRs and the forwarding-header walk. */
#include "realip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Literal s[0..n) (no brackets, no port) into *out; IPv4-mapped IPv6
 * becomes IPv4 so that one CIDR list covers a dual-stack listener. */
static bool literal(const char *s, size_t n, struct alog_peer *out)
{
	char tmp[INET6_ADDRSTRLEN];
	uint8_t a[16];

	if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, tmp, a) == 1) {
		memcpy(out->addr, a, 4);
		out->family = ALOG_PEER_V4;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, a) != 1)
		return false;
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		memcpy(out->addr, a + 12, 4);
		out->family = ALOG_PEER_V4;
	} else {
		memcpy(out->addr, a, 16);
		out->family = ALOG_PEER_V6;
	}
	return true;
}

/* 1..max digits of a decimal up to `limit`, the whole of s[0..n). */
static bool decimal(const char *s, size_t n, unsigned max_digits, unsigned limit, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > max_digits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > limit)
		return false;
	*out = v;
	return true;
}

bool realip_parse_node(const char *s, size_t n, struct alog_peer *out)
{
	unsigned port;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return false;
		size_t in = (size_t)(close - s - 1), rest = n - in - 2;
		if (!literal(s + 1, in, out) || !memchr(s + 1, ':', in))
			return false;
		return rest == 0 || (close[1] == ':' && decimal(close + 2, rest - 1, 5, 65535, &port));
	}
	const char *colon = memchr(s, ':', n);
	if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
		/* One colon: IPv4 with a port (an IPv6 literal has at least two). */
		size_t an = (size_t)(colon - s);
		return literal(s, an, out) && out->family == ALOG_PEER_V4 &&
		       memchr(s, '.', an) &&
		       decimal(colon + 1, n - an - 1, 5, 65535, &port);
	}
	return literal(s, n, out);
}

int realip_parse_cidr(const char *s, struct realip_cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct alog_peer a;
	unsigned bits;

	if (strcmp(s, "unix:") == 0) {
		memset(out, 0, sizeof(*out));
		out->family = ALOG_PEER_UNIX;
		return 0;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		if (!literal(s, n, &a) || !memchr(s, ':', n))
			return -EINVAL;
	} else if (!literal(s, n, &a)) {
		return -EINVAL;
	}
	/* An IPv4-mapped literal already became IPv4: its prefix counts 96
	 * bits less. A plain IPv4 literal keeps its own range. */
	bool mapped = a.family == ALOG_PEER_V4 && memchr(s, ':', n);
	unsigned max = a.family == ALOG_PEER_V4 && !mapped ? 32 : 128;
	if (!slash)
		bits = max;
	else if (!decimal(slash + 1, strlen(slash + 1), 3, max, &bits) ||
		 (slash[1] == '0' && slash[2] != '\0'))
		return -EINVAL;
	if (mapped) {
		if (bits < 96)
			return -EINVAL; /* a prefix wider than the mapped range */
		bits -= 96;
	}
	unsigned len = a.family == ALOG_PEER_V4 ? 4 : 16;
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
		uint8_t mask = (uint8_t)(keep ? 0xff << (8 - keep) : 0);
		if (a.addr[i] & (uint8_t)~mask)
			return -EINVAL; /* host bits set: "10.0.0.1/8" */
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, a.addr, len);
	out->family = a.family;
	out->bits = (uint8_t)bits;
	return 0;
}

static bool in_cidr(const struct realip_cidr *c, const struct alog_peer *p)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family != p->family)
		return false;
	if (c->family == ALOG_PEER_UNIX)
		return true;
	if (memcmp(c->addr, p->addr, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (p->addr[full] & mask);
}

bool realip_match(const struct realip_cidr *list, unsigned n, const struct alog_peer *p)
{
	for (unsigned i = 0; i < n; i++)
		if (in_cidr(&list[i], p))
			return true;
	return false;
}

/* ---- the walk ---------------------------------------------------------- */

void realip_walk_init(struct realip_walk *wk, const struct realip_cidr *trusted, unsigned n)
{
	memset(wk, 0, sizeof(*wk));
	wk->trusted = trusted;
	wk->ntrusted = n;
}

/* One entry, left to right: a (NULL for a bad entry). Walking right to
 * left, the answer hangs on the right-most entry that is not a trusted
 * address, so keep that one and what follows it. */
static void entry(struct realip_walk *wk, const struct alog_peer *a)
{
	bool trusted = a && realip_match(wk->trusted, wk->ntrusted, a);

	if (wk->seen++ == 0 && a)
		wk->first = *a;
	if (!trusted) {
		wk->stop = true;
		wk->stop_bad = !a;
		if (a)
			wk->stop_at = *a;
		wk->have_after = false;
	} else if (wk->stop && !wk->have_after) {
		wk->after = *a;
		wk->have_after = true;
	}
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..n) without surrounding OWS. */
static void trim(const char **s, size_t *n)
{
	while (*n && ows(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && ows((*s)[*n - 1]))
		(*n)--;
}

void realip_walk_xff(struct realip_walk *wk, const char *v, size_t n)
{
	const char *end = v + n;

	while (v <= end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *stop = comma ? comma : end;
		const char *s = v;
		size_t len = (size_t)(stop - v);
		struct alog_peer a;

		trim(&s, &len);
		if (len)
			entry(wk, realip_parse_node(s, len, &a) ? &a : NULL);
		if (!comma)
			break;
		v = comma + 1;
	}
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One forwarded-element from *pp: its for= node into node[] (unquoted).
 * Returns 1 with a node, 0 for an element without for=, 2 for an empty
 * element, -1 malformed; *pp ends at the ',' that ends the element, or at
 * end. */
static int fwd_element(const char **pp, const char *end, char *node, size_t cap, size_t *nlen)
{
	const char *p = *pp;
	int found = 0, pairs = 0;

	for (;;) {
		while (p < end && ows(*p))
			p++;
		if (p < end && *p == ';') { /* empty pair */
			p++;
			continue;
		}
		if (p == end || *p == ',')
			break;
		const char *name = p;
		pairs++;
		while (p < end && tchar((unsigned char)*p))
			p++;
		size_t name_len = (size_t)(p - name);
		if (!name_len || p == end || *p != '=')
			return -1;
		p++;
		bool is_for = name_len == 3 && (name[0] | 0x20) == 'f' && (name[1] | 0x20) == 'o' &&
			      (name[2] | 0x20) == 'r';
		size_t len = 0;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && ++p == end)
					return -1;
				if ((unsigned char)*p < 0x20 && *p != '\t')
					return -1;
				if (is_for && len < cap)
					node[len] = *p;
				len++;
			}
			if (p == end)
				return -1; /* unterminated */
			p++;
		} else {
			for (; p < end && tchar((unsigned char)*p); p++) {
				if (is_for && len < cap)
					node[len] = *p;
				len++;
			}
			if (!len)
				return -1;
		}
		if (is_for) {
			if (found)
				return -1; /* two for= in one element */
			found = 1;
			*nlen = len <= cap ? len : 0; /* too long: not an address */
		}
		while (p < end && ows(*p))
			p++;
		if (p < end && *p != ';' && *p != ',')
			return -1;
		if (p < end && *p == ';')
			p++;
	}
	*pp = p;
	return pairs ? found : 2;
}

void realip_walk_forwarded(struct realip_walk *wk, const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	char node[64];

	while (p < end) {
		const char *start = p;
		size_t nlen = 0;
		struct alog_peer a;
		int r = fwd_element(&p, end, node, sizeof(node), &nlen);

		if (r < 0) {
			/* Resynchronise at the next comma: the elements further
			 * right (nearer hops) were written by someone else. */
			const char *comma = memchr(start, ',', (size_t)(end - start));
			p = comma ? comma : end;
		}
		if (r == 1)
			entry(wk, nlen && realip_parse_node(node, nlen, &a) ? &a : NULL);
		else if (r != 2)
			entry(wk, NULL);
		if (p < end)
			p++; /* the comma */
	}
}

bool realip_walk_result(const struct realip_walk *wk, struct alog_peer *out)
{
	if (!wk->seen)
		return false;
	if (!wk->stop) {
		*out = wk->first;
		return true;
	}
	if (!wk->stop_bad) {
		*out = wk->stop_at;
		return true;
	}
	if (wk->have_after) {
		*out = wk->after;
		return true;
	}
	return false;
}
