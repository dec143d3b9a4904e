/* fuzz_auth: the Authorization value, strict base64, htpasswd lines and
 * whole files, and prefixes.
 *
 * The whole input is an Authorization value (exactly sized copy): it is
 * refused with one of the known codes, or it decodes to a user without a
 * ':' and a password without control bytes that encode back to the very
 * same token (one spelling per credential). Every base64 decode that
 * succeeds re-encodes to its input. Each line goes to auth_parse_line
 * (exactly sized): an accepted one has a user of 1..255 bytes without ':'
 * or control bytes and a hash inside the line; the whole input as a file
 * is refused with a reason, or gives a sorted table in which every user is
 * found. The first line, as an --auth-path, normalizes or is refused, and
 * prefix matching agrees with a plain reference on the second line. A
 * violated invariant abort()s. */
#include "auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQUIRE(c)                                                           \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = B64[w >> 18 & 63];
		out[o++] = B64[w >> 12 & 63];
		out[o++] = i + 1 < n ? B64[w >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? B64[w & 63] : '=';
	}
	return o;
}

static void check_b64(const char *in, size_t n)
{
	uint8_t out[AUTH_CRED_CAP];
	char back[AUTH_VALUE_MAX + 4];

	if (n > AUTH_VALUE_MAX)
		return;
	int len = auth_b64_decode(in, n, out, sizeof(out));
	if (len < 0)
		return;
	REQUIRE((size_t)len <= n / 4 * 3);
	REQUIRE(encode(out, (size_t)len, back) == n && memcmp(back, in, n) == 0);
}

static void check_basic(const char *v, size_t n)
{
	char buf[AUTH_CRED_CAP + 1], tok[AUTH_VALUE_MAX + 8];
	struct auth_cred cr;
	int r = auth_parse_basic(v, n, buf, &cr);

	REQUIRE(r == 0 || r == AUTH_E_SCHEME || r == AUTH_E_BASE64 || r == AUTH_E_COLON ||
		r == AUTH_E_LONG || r == AUTH_E_CTL);
	REQUIRE(strcmp(auth_strerror(r), "unknown") != 0);
	if (n > AUTH_VALUE_MAX)
		REQUIRE(r == AUTH_E_LONG);
	if (r)
		return;
	REQUIRE(n >= 6 && strncasecmp(v, "basic ", 6) == 0);
	REQUIRE(cr.user == buf && cr.pass == buf + cr.user_len + 1);
	REQUIRE(cr.user[cr.user_len] == '\0' && cr.pass[cr.pass_len] == '\0');
	REQUIRE(cr.user_len + cr.pass_len + 1 <= AUTH_CRED_CAP);
	REQUIRE(!memchr(cr.user, ':', cr.user_len));
	for (size_t i = 0; i < cr.user_len + 1 + cr.pass_len; i++) {
		unsigned char c = (unsigned char)buf[i];
		REQUIRE(i == cr.user_len || (c >= 0x20 && c != 0x7f));
	}
	/* Encode user:pass again: the token after the spaces, byte for byte. */
	buf[cr.user_len] = ':';
	size_t t = encode((const uint8_t *)buf, cr.user_len + 1 + cr.pass_len, tok);
	size_t i = 6;
	while (i < n && v[i] == ' ')
		i++;
	REQUIRE(n - i == t && memcmp(v + i, tok, t) == 0);
}

static void check_line(const char *s, size_t n)
{
	char *copy = malloc(n ? n : 1);
	struct auth_line ln;

	memcpy(copy, s, n);
	int r = auth_parse_line(copy, n, &ln);
	REQUIRE(r == AUTH_LINE_OK || r == AUTH_LINE_EMPTY || r == AUTH_LINE_BAD);
	if (r == AUTH_LINE_BAD)
		REQUIRE(ln.why && ln.why[0]);
	if (r == AUTH_LINE_OK) {
		REQUIRE(!ln.why && ln.user == copy && ln.user_len >= 1 && ln.user_len <= AUTH_USER_MAX);
		REQUIRE(!memchr(ln.user, ':', ln.user_len));
		for (size_t i = 0; i < ln.user_len; i++)
			REQUIRE((unsigned char)ln.user[i] >= 0x20 && ln.user[i] != 0x7f);
		REQUIRE(ln.hash == copy + ln.user_len + 1 && ln.hash_len >= 1 &&
			ln.hash_len <= AUTH_HASH_MAX && ln.hash + ln.hash_len <= copy + n);
		REQUIRE(ln.hash[0] == '$');
	}
	free(copy);
}

static void check_file(const char *text, size_t n)
{
	struct auth_users *u;
	unsigned line;
	char why[256];

	if (auth_users_parse(text, n, &u, &line, why, sizeof(why))) {
		REQUIRE(!u && why[0]);
		return;
	}
	REQUIRE(u && u->n >= 1);
	for (unsigned i = 0; i < u->n; i++) {
		const struct auth_user *e = &u->v[i];
		REQUIRE(strlen(e->name) == e->name_len && strlen(e->hash) == e->hash_len);
		REQUIRE(auth_users_find(u, e->name, e->name_len) == e);
		if (i)
			REQUIRE(strcmp(u->v[i - 1].name, e->name) != 0 || u->v[i - 1].name_len != e->name_len);
	}
	auth_users_free(u);
}

static void check_prefix(const char *a, size_t an, const char *b, size_t bn)
{
	char *pre = malloc(an + 1), norm[1100];

	memcpy(pre, a, an);
	pre[an] = '\0';
	int k = an <= 1024 ? auth_prefix_normalize(pre, norm, sizeof(norm)) : -1;
	free(pre);
	if (k < 0)
		return;
	REQUIRE((size_t)k == strlen(norm) && (k == 0 || (norm[0] != '/' && norm[k - 1] != '/')));
	bool want = k == 0 || (bn >= (size_t)k && memcmp(b, norm, (size_t)k) == 0 &&
			       (bn == (size_t)k || b[k] == '/'));
	REQUIRE(auth_prefix_covers(norm, (size_t)k, b, bn) == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	const char *lines[2] = { "", "" };
	size_t lens[2] = { 0, 0 };
	int nl = 0;

	memcpy(buf, data, size);
	check_basic(buf, size);
	check_b64(buf, size);
	if (size > 6)
		check_b64(buf + 6, size - 6);
	for (size_t at = 0; at <= size;) {
		const char *e = memchr(buf + at, '\n', size - at);
		size_t n = e ? (size_t)(e - (buf + at)) : size - at;
		check_line(buf + at, n);
		if (nl < 2) {
			lines[nl] = buf + at;
			lens[nl++] = n;
		}
		at += n + 1;
	}
	check_file(buf, size);
	check_prefix(lines[0], lens[0], lines[1], lens[1]);
	free(buf);
	return 0;
}
