/* realip: CIDR parsing and matching, address nodes, and the walk over
 * X-Forwarded-For and Forwarded that finds the client. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "realip.h"

static struct realip_cidr trusted[8];
static unsigned ntrusted;

static void trust(const char *cidr)
{
	CHECK(realip_parse_cidr(cidr, &trusted[ntrusted]) == 0);
	ntrusted++;
}

static struct alog_peer addr(const char *s)
{
	struct alog_peer p;

	memset(&p, 0, sizeof(p));
	CHECK(realip_parse_node(s, strlen(s), &p));
	return p;
}

static const char *show(const struct alog_peer *p)
{
	static char out[64];
	alog_peer_str(p, out, sizeof(out));
	return out;
}

/* The client for one header field (XFF or Forwarded), "-" for "keep the
 * peer". */
static const char *walk(int fwd, const char *v1, const char *v2)
{
	static char out[64];
	struct realip_walk wk;
	struct alog_peer p;

	realip_walk_init(&wk, trusted, ntrusted);
	(fwd ? realip_walk_forwarded : realip_walk_xff)(&wk, v1, strlen(v1));
	if (v2)
		(fwd ? realip_walk_forwarded : realip_walk_xff)(&wk, v2, strlen(v2));
	if (!realip_walk_result(&wk, &p))
		return "-";
	snprintf(out, sizeof(out), "%s", show(&p));
	return out;
}

#define WALK(fwd, v, want)                                                          \
	do {                                                                        \
		const char *got_ = walk(fwd, v, NULL);                               \
		if (strcmp(got_, want) != 0) {                                      \
			fprintf(stderr, "  %s [%s]: got %s, want %s\n",             \
				fwd ? "Forwarded" : "XFF", v, got_, want);           \
			failures++;                                                 \
		}                                                                   \
	} while (0)

static void test_cidr(void)
{
	struct realip_cidr c;
	struct alog_peer p;

	CHECK(realip_parse_cidr("10.0.0.0/8", &c) == 0 && c.bits == 8 && c.family == ALOG_PEER_V4);
	CHECK(realip_parse_cidr("0.0.0.0/0", &c) == 0 && c.bits == 0);
	CHECK(realip_parse_cidr("192.0.2.7", &c) == 0 && c.bits == 32);
	CHECK(realip_parse_cidr("2001:db8::/32", &c) == 0 && c.bits == 32 && c.family == ALOG_PEER_V6);
	CHECK(realip_parse_cidr("[2001:db8::]/32", &c) == 0 && c.bits == 32);
	CHECK(realip_parse_cidr("::1", &c) == 0 && c.bits == 128);
	CHECK(realip_parse_cidr("::/0", &c) == 0 && c.bits == 0);
	/* IPv4-mapped: an IPv4 CIDR, as peers are. */
	CHECK(realip_parse_cidr("::ffff:10.0.0.0/104", &c) == 0 && c.family == ALOG_PEER_V4 &&
	      c.bits == 8);
	CHECK(realip_parse_cidr("::ffff:10.0.0.0/95", &c) == -EINVAL);
	CHECK(realip_parse_cidr("10.0.0.1/8", &c) == -EINVAL);  /* host bits */
	CHECK(realip_parse_cidr("10.128.0.0/9", &c) == 0);
	CHECK(realip_parse_cidr("10.192.0.0/9", &c) == -EINVAL);
	CHECK(realip_parse_cidr("2001:db8::1/64", &c) == -EINVAL);
	CHECK(realip_parse_cidr("10.0.0.0/33", &c) == -EINVAL);
	CHECK(realip_parse_cidr("::/129", &c) == -EINVAL);
	CHECK(realip_parse_cidr("10.0.0.0/08", &c) == -EINVAL);
	CHECK(realip_parse_cidr("10.0.0.0/", &c) == -EINVAL);
	CHECK(realip_parse_cidr("/8", &c) == -EINVAL);
	CHECK(realip_parse_cidr("10.0.0.0/8 ", &c) == -EINVAL);
	CHECK(realip_parse_cidr("[10.0.0.0]/8", &c) == -EINVAL);
	CHECK(realip_parse_cidr("010.0.0.0/8", &c) == -EINVAL);

	ntrusted = 0;
	trust("10.0.0.0/8");
	trust("192.168.1.128/25");
	trust("2001:db8:1::/48");
	p = addr("10.255.0.1");
	CHECK(realip_match(trusted, ntrusted, &p));
	p = addr("11.0.0.1");
	CHECK(!realip_match(trusted, ntrusted, &p));
	p = addr("192.168.1.200");
	CHECK(realip_match(trusted, ntrusted, &p));
	p = addr("192.168.1.127");
	CHECK(!realip_match(trusted, ntrusted, &p));
	p = addr("2001:db8:1:ffff::1");
	CHECK(realip_match(trusted, ntrusted, &p));
	p = addr("2001:db8:2::1");
	CHECK(!realip_match(trusted, ntrusted, &p));
	p = addr("::ffff:10.1.2.3"); /* mapped: matched as IPv4 */
	CHECK(p.family == ALOG_PEER_V4 && realip_match(trusted, ntrusted, &p));
	memset(&p, 0, sizeof(p));
	p.family = ALOG_PEER_UNIX;
	CHECK(!realip_match(trusted, ntrusted, &p));
	CHECK(realip_parse_cidr("unix:", &c) == 0 && c.family == ALOG_PEER_UNIX);
	CHECK(realip_parse_cidr("unix:/x", &c) == -EINVAL);
	trusted[ntrusted++] = c;
	CHECK(realip_match(trusted, ntrusted, &p));
	p = addr("0.0.0.0");
	CHECK(!realip_match(&c, 1, &p)); /* "unix:" matches no address */
	ntrusted--;
	trust("0.0.0.0/0");
	p = addr("203.0.113.9");
	CHECK(realip_match(trusted, ntrusted, &p));
	p = addr("2001:db8:2::1");
	CHECK(!realip_match(trusted, ntrusted, &p)); /* an IPv4 CIDR never matches IPv6 */
}

static void test_nodes(void)
{
	struct alog_peer p;
	static const char *const good[] = {
		"192.0.2.1", "192.0.2.1:8080", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:0",
		"::ffff:192.0.2.1", "[::1]:65535",
	};
	static const char *const bad[] = {
		"", "unknown", "_hidden", "192.0.2", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:x",
		"[192.0.2.1]", "[2001:db8::1", "[2001:db8::1]:", "[2001:db8::1]x", "2001:db8::1:",
		"192.0.2.1 ", " 192.0.2.1", "1.2.3.4:5:6", "0x7f.0.0.1", "192.0.2.01", "[::1]:123456",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!realip_parse_node(good[i], strlen(good[i]), &p)) {
			fprintf(stderr, "  refused node '%s'\n", good[i]);
			failures++;
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (realip_parse_node(bad[i], strlen(bad[i]), &p)) {
			fprintf(stderr, "  accepted node '%s'\n", bad[i]);
			failures++;
		}
	CHECK(realip_parse_node("192.0.2.1:80", 9, &p) && strcmp(show(&p), "192.0.2.1") == 0);
	CHECK(realip_parse_node("[::ffff:1.2.3.4]:80", 19, &p) && strcmp(show(&p), "1.2.3.4") == 0);
	CHECK(realip_parse_node("1.2.3.4\0", 8, &p) == false); /* a NUL inside */
}

static void test_walk(void)
{
	ntrusted = 0;
	trust("10.0.0.0/8");
	trust("2001:db8::/32");

	/* Right-most untrusted. */
	WALK(0, "203.0.113.1", "203.0.113.1");
	WALK(0, "198.51.100.7, 203.0.113.1", "203.0.113.1");
	WALK(0, "198.51.100.7, 203.0.113.1, 10.0.0.2", "203.0.113.1");
	WALK(0, "198.51.100.7,203.0.113.1,10.0.0.2,10.0.0.3", "203.0.113.1");
	WALK(0, "  203.0.113.1  ,\t10.1.1.1 ", "203.0.113.1");
	WALK(0, "203.0.113.1:4711, [2001:db8::5]:80", "203.0.113.1");
	WALK(0, "2001:db9::1, 2001:db8::5", "2001:db9::1");
	/* All trusted: the left-most. */
	WALK(0, "10.0.0.9, 10.0.0.2", "10.0.0.9");
	/* A spoofed left part does not matter. */
	WALK(0, "1.1.1.1, 203.0.113.1", "203.0.113.1");
	/* Garbage stops the walk at the hop that wrote it. */
	WALK(0, "203.0.113.1, unknown, 10.0.0.2", "10.0.0.2");
	WALK(0, "203.0.113.1, unknown", "-");
	WALK(0, "203.0.113.1, 10.0.0.2 10.0.0.3", "-");
	/* Garbage left of the client does not. */
	WALK(0, "junk, 203.0.113.1", "203.0.113.1");
	/* Empty elements are skipped; an empty value says nothing. */
	WALK(0, "203.0.113.1,,", "203.0.113.1");
	WALK(0, " , ,", "-");
	WALK(0, "", "-");
	/* Several fields form one list, in order. */
	CHECK(strcmp(walk(0, "203.0.113.1", "198.51.100.7, 10.0.0.1"), "198.51.100.7") == 0);
	CHECK(strcmp(walk(0, "198.51.100.7, 10.0.0.1", "10.0.0.2"), "198.51.100.7") == 0);

	/* Forwarded (RFC 7239). */
	WALK(1, "for=203.0.113.1", "203.0.113.1");
	WALK(1, "for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60");
	WALK(1, "for=198.51.100.7, for=203.0.113.1;proto=https, for=10.0.0.2", "203.0.113.1");
	WALK(1, "For=\"[2001:db9::17]:4711\", for=10.0.0.2", "2001:db9::17");
	WALK(1, "for=\"203.0.113.1:80\"", "203.0.113.1");
	WALK(1, "proto=https;FOR=203.0.113.1", "203.0.113.1");
	WALK(1, "for=\"\\203.0.113.1\"", "203.0.113.1"); /* a quoted-pair */
	WALK(1, "for=10.0.0.9, for=10.0.0.2", "10.0.0.9");
	WALK(1, "for=unknown, for=10.0.0.2", "10.0.0.2");
	WALK(1, "for=_hidden", "-");
	WALK(1, "for=203.0.113.1, by=10.0.0.1", "-"); /* an element without for= */
	WALK(1, "for=203.0.113.1; for=198.51.100.1", "-"); /* two for= */
	/* A quoted comma is no separator. */
	WALK(1, "for=203.0.113.1;x=\"a,b\", for=10.0.0.2", "203.0.113.1");
	/* A malformed element is one bad entry; the next comma resynchronises. */
	WALK(1, "for=\"198.51.100.7, for=203.0.113.1", "203.0.113.1");
	WALK(1, "for=198.51.100.7, junk, for=10.0.0.2", "10.0.0.2");
	WALK(1, "for=198.51.100.7, =x, for=203.0.113.1", "203.0.113.1");
	WALK(1, "for=203.0.113.1,,", "203.0.113.1");
	WALK(1, "for=[2001:db9::1]", "-"); /* '[' is no token character */
	/* An over-long node is not an address. */
	WALK(1, "for=\"0123456789012345678901234567890123456789012345678901234567890123456789\"",
	     "-");
}

int main(void)
{
	test_cidr();
	test_nodes();
	test_walk();
	return failures ? 1 : 0;
}
