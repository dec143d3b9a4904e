/* auth: the Authorization value, base64, htpasswd lines and files, the
 * user table, prefixes, the challenge, constant-time comparison; SipHash
 * against the reference vectors; the verified cache and the failure
 * limiter; the --auth-* options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alog.h"
#include "auth.h"
#include "authcache.h"
#include "authlim.h"
#include "check.h"
#include "config.h"
#include "siphash.h"

static const char BCRYPT[] = "$2b$04$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7e";
static const char SHA256[] = "$5$XsvFAMZpBSP/A96V$2zYcI/wSG9O8j8Akf2s1qeZFXSxV.1AaTLWs1jhP4MB";
static const char SHA256R[] = "$5$rounds=10000$EclfiVuWnCKyhi4F$z9a0vcsYIg2rSN8ZRiNJtDM5Rh79iJaalnNpjq6D.e0";
static const char SHA512[] = "$6$W71Moxc2YViGY/F6$eNNWAm2.R18.i8cGWLd8wIZ0f5v24gbDkKu6qnvj76bfdXBHr."
			     "tCsmPCWuOgZ.IRZmcw/y7dGJNxGQz4MDO2X0";
static const char YESCRYPT[] = "$y$j9T$fHSgua/7z0h14nrZZrhFY/$fuw09b395urU.i.qa51efCIZw.iPj9oPlpz2ygQhMD8";

static int basic(const char *v, struct auth_cred *cr, char *buf)
{
	return auth_parse_basic(v, strlen(v), buf, cr);
}

static void test_b64(void)
{
	uint8_t out[16];

	CHECK(auth_b64_decode("QQ==", 4, out, sizeof(out)) == 1 && out[0] == 'A');
	CHECK(auth_b64_decode("QUI=", 4, out, sizeof(out)) == 2 && memcmp(out, "AB", 2) == 0);
	CHECK(auth_b64_decode("QUJD", 4, out, sizeof(out)) == 3 && memcmp(out, "ABC", 3) == 0);
	CHECK(auth_b64_decode("+/+/", 4, out, sizeof(out)) == 3 && out[0] == 0xfb && out[2] == 0xbf);
	CHECK(auth_b64_decode("", 0, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("QQ", 2, out, sizeof(out)) == -1);     /* unpadded */
	CHECK(auth_b64_decode("QQ=", 3, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("QR==", 4, out, sizeof(out)) == -1);   /* bits left set */
	CHECK(auth_b64_decode("QUJ=", 4, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("Q===", 4, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("====", 4, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("QQ==QQ==", 8, out, sizeof(out)) == -1); /* padding inside */
	CHECK(auth_b64_decode("Q=Q=", 4, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("QU-_", 4, out, sizeof(out)) == -1);   /* base64url */
	CHECK(auth_b64_decode("QU I", 4, out, sizeof(out)) == -1);
	CHECK(auth_b64_decode("QUJDQUJD", 8, out, 5) == -1);         /* too large for cap */
	CHECK(auth_b64_decode("QUJDQUJD", 8, out, 6) == 6);
}

static void test_basic(void)
{
	char buf[AUTH_CRED_CAP + 1];
	struct auth_cred cr;

	/* "Aladdin:open sesame" (RFC 7617 §2) */
	CHECK(basic("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &cr, buf) == 0);
	CHECK(cr.user_len == 7 && strcmp(cr.user, "Aladdin") == 0);
	CHECK(cr.pass_len == 11 && strcmp(cr.pass, "open sesame") == 0);
	CHECK(basic("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &cr, buf) == 0);
	CHECK(basic("BASIC    QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &cr, buf) == 0);
	/* user "a", password "b:c": the first colon splits */
	CHECK(basic("Basic YTpiOmM=", &cr, buf) == 0 && strcmp(cr.user, "a") == 0 &&
	      strcmp(cr.pass, "b:c") == 0);
	/* ":" alone: empty user, empty password, both well formed */
	CHECK(basic("Basic Og==", &cr, buf) == 0 && cr.user_len == 0 && cr.pass_len == 0);
	/* UTF-8 is fine: "ü:ö" */
	CHECK(basic("Basic w7w6w7Y=", &cr, buf) == 0 && cr.user_len == 2 && cr.pass_len == 2);

	CHECK(basic("Bearer abc", &cr, buf) == AUTH_E_SCHEME);
	CHECK(basic("Basic", &cr, buf) == AUTH_E_SCHEME);
	CHECK(basic("Basic\tYTpi", &cr, buf) == AUTH_E_SCHEME);
	CHECK(basic("BasicYTpi", &cr, buf) == AUTH_E_SCHEME);
	CHECK(basic("Basi YTpi", &cr, buf) == AUTH_E_SCHEME);
	CHECK(basic("Basic ", &cr, buf) == AUTH_E_BASE64);
	CHECK(basic("Basic YTpi!", &cr, buf) == AUTH_E_BASE64);
	CHECK(basic("Basic YTpi YTpi", &cr, buf) == AUTH_E_BASE64);
	CHECK(basic("Basic YWJj", &cr, buf) == AUTH_E_COLON);         /* "abc" */
	CHECK(basic("Basic YQA6Yg==", &cr, buf) == AUTH_E_CTL);       /* "a\0:b" */
	CHECK(basic("Basic YTpiAA==", &cr, buf) == AUTH_E_CTL);       /* "a:b\0" */
	CHECK(basic("Basic YTpiCg==", &cr, buf) == AUTH_E_CTL);       /* "a:b\n" */
	CHECK(strcmp(auth_strerror(AUTH_E_COLON), "no ':' between user and password") == 0);

	/* 1 KiB of value is the limit; the largest one decodes into buf. */
	char big[AUTH_VALUE_MAX + 8];
	memcpy(big, "Basic ", 6);
	for (size_t i = 6; i + 4 <= sizeof(big); i += 4)
		memcpy(big + i, "QUJD", 4); /* "ABC"... */
	memcpy(big + 6, "YTpi", 4); /* "a:b" first */
	big[AUTH_VALUE_MAX] = '\0';
	/* 1018 base64 characters: not a multiple of 4 */
	CHECK(auth_parse_basic(big, AUTH_VALUE_MAX, buf, &cr) == AUTH_E_BASE64);
	big[6 + 1016] = '\0';
	CHECK(auth_parse_basic(big, 6 + 1016, buf, &cr) == 0 && cr.user_len == 1 &&
	      cr.pass_len == 762 - 2);
	big[6 + 1016] = 'Q';
	CHECK(auth_parse_basic(big, AUTH_VALUE_MAX + 1, buf, &cr) == AUTH_E_LONG);
	CHECK(auth_parse_basic(big, AUTH_VALUE_MAX + 4, buf, &cr) == AUTH_E_LONG);
}

static int line(const char *s, struct auth_line *ln)
{
	return auth_parse_line(s, strlen(s), ln);
}

static void refused(const char *s, const char *why_part)
{
	struct auth_line ln;
	int r = line(s, &ln);

	if (r != AUTH_LINE_BAD || !ln.why || !strstr(ln.why, why_part)) {
		fprintf(stderr, "  line '%s': r=%d why=%s (want '%s')\n", s, r,
			ln.why ? ln.why : "-", why_part);
		failures++;
	}
}

static void accepted(const char *user, const char *hash)
{
	char s[512];
	struct auth_line ln;

	snprintf(s, sizeof(s), "%s:%s", user, hash);
	int r = line(s, &ln);
	if (r != AUTH_LINE_OK || ln.user_len != strlen(user) || ln.hash_len != strlen(hash) ||
	    memcmp(ln.hash, hash, ln.hash_len) != 0) {
		fprintf(stderr, "  line '%s' refused: %s\n", s, ln.why ? ln.why : "-");
		failures++;
	}
}

static void test_lines(void)
{
	struct auth_line ln;
	char s[512];

	accepted("alice", BCRYPT);
	accepted("bob", SHA256);
	accepted("bob", SHA256R);
	accepted("carol", SHA512);
	accepted("dave", YESCRYPT);
	accepted("ünïcode user", YESCRYPT);
	snprintf(s, sizeof(s), "y:%s", BCRYPT);
	s[4] = 'y'; /* $2y$ */
	CHECK(line(s, &ln) == AUTH_LINE_OK);
	snprintf(s, sizeof(s), "alice:%s \t\r", BCRYPT); /* CRLF files, trailing blanks */
	CHECK(line(s, &ln) == AUTH_LINE_OK && ln.hash_len == strlen(BCRYPT));

	CHECK(line("", &ln) == AUTH_LINE_EMPTY);
	CHECK(line("   \r", &ln) == AUTH_LINE_EMPTY);
	CHECK(line("# alice:plain", &ln) == AUTH_LINE_EMPTY);
	CHECK(line("  # indented comment", &ln) == AUTH_LINE_EMPTY);

	refused("alice:secret", "plain-text");
	refused("alice:abCDefghijk12", "DES");
	refused("alice:$apr1$abc$0123456789012345678901", "$apr1$");
	refused("alice:$1$abc$0123456789012345678901", "MD5-crypt");
	refused("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "{SHA}");
	refused("alice:$2a$04$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7e", "$2a$");
	refused("alice:$7$CU..../....salt$hash", "unknown hash type");
	refused("alice:$gy$j9T$salt$hash", "unknown hash type");
	refused("alice", "no ':'");
	refused(":$2b$04$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7e", "empty user");
	refused("alice:", "no hash");
	refused(" alice:x", "blank before");
	refused("al\x01ice:$y$j9T$fHSgua/7z0h14nrZZrhFY/$fuw09b395urU.i.qa51efCIZw.iPj9oPlpz2ygQhMD8",
		"control byte");
	/* malformed hashes of accepted types */
	refused("a:$2b$04$short", "malformed bcrypt");
	refused("a:$2b$03$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7e", "malformed bcrypt");
	refused("a:$2b$32$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7e", "malformed bcrypt");
	refused("a:$2b$04$MmsyQK3.NMjYiBHCoF/NJOBY12k9N.6EXOUJwozMwdy39a7e0SD7!", "malformed bcrypt");
	refused("a:$5$salt$short", "malformed SHA-256");
	refused("a:$5$$2zYcI/wSG9O8j8Akf2s1qeZFXSxV.1AaTLWs1jhP4MB", "malformed SHA-256");
	refused("a:$5$rounds=$XsvFAMZpBSP/A96V$2zYcI/wSG9O8j8Akf2s1qeZFXSxV.1AaTLWs1jhP4MB",
		"malformed SHA-256");
	refused("a:$5$XsvFAMZpBSP/A96V$2zYcI/wSG9O8j8Akf2s1qeZFXSxV.1AaTLWs1jhP4MB:extra",
		"malformed SHA-256");
	refused("a:$6$W71Moxc2YViGY/F6$eNNWAm2", "malformed SHA-512");
	refused("a:$y$j9T$salt$short", "malformed yescrypt");
	refused("a:$y$$fHSgua/7z0h14nrZZrhFY/$fuw09b395urU.i.qa51efCIZw.iPj9oPlpz2ygQhMD8",
		"malformed yescrypt");
	refused("a:$y$j9T$fuw09b395urU.i.qa51efCIZw.iPj9oPlpz2ygQhMD8", "malformed yescrypt");
	char longuser[300];
	memset(longuser, 'u', 256);
	longuser[256] = '\0';
	snprintf(s, sizeof(s), "%s:%s", longuser, BCRYPT);
	refused(s, "longer than 255");
}

static void test_users(void)
{
	char text[2048], why[256];
	struct auth_users *u;
	unsigned ln;

	snprintf(text, sizeof(text), "# users\ncarol:%s\r\nalice:%s\n\nbob:%s", SHA512, BCRYPT, YESCRYPT);
	CHECK(auth_users_parse(text, strlen(text), &u, &ln, why, sizeof(why)) == 0 && u && u->n == 3);
	if (u) {
		const struct auth_user *a = auth_users_find(u, "alice", 5);
		CHECK(a && a->line == 3 && strcmp(a->hash, BCRYPT) == 0 && a->hash_len == strlen(BCRYPT));
		CHECK(auth_users_find(u, "bob", 3) && auth_users_find(u, "bob", 3)->line == 5);
		CHECK(auth_users_find(u, "carol", 5) && auth_users_find(u, "carol", 5)->line == 2);
		CHECK(!auth_users_find(u, "alic", 4) && !auth_users_find(u, "alicee", 6));
		CHECK(!auth_users_find(u, "", 0) && !auth_users_find(u, "Alice", 5));
		auth_users_free(u);
	}
	snprintf(text, sizeof(text), "alice:%s\nbob:%s\nalice:%s\n", BCRYPT, SHA256, SHA512);
	CHECK(auth_users_parse(text, strlen(text), &u, &ln, why, sizeof(why)) == -1 && !u);
	CHECK(ln == 3 && strcmp(why, "user 'alice' already on line 1") == 0);
	snprintf(text, sizeof(text), "alice:%s\n\nbob:$apr1$x$y\n", BCRYPT);
	CHECK(auth_users_parse(text, strlen(text), &u, &ln, why, sizeof(why)) == -1);
	CHECK(ln == 3 && strstr(why, "$apr1$") != NULL);
	CHECK(auth_users_parse("# nobody\n\n", 10, &u, &ln, why, sizeof(why)) == -1);
	CHECK(ln == 0 && strcmp(why, "no users") == 0);
	CHECK(auth_users_parse("", 0, &u, &ln, why, sizeof(why)) == -1 && ln == 0);
	CHECK(auth_users_find(NULL, "a", 1) == NULL);
}

static void test_site_rules(void)
{
	char out[AUTH_CHALLENGE_MAX], norm[64];

	CHECK(auth_realm_ok("ringserve") && auth_realm_ok("My \"site\" \\ 1") && auth_realm_ok(" "));
	CHECK(!auth_realm_ok("") && !auth_realm_ok("tab\there") && !auth_realm_ok("caf\xc3\xa9"));
	char r128[AUTH_REALM_MAX + 2];
	memset(r128, 'r', sizeof(r128));
	r128[AUTH_REALM_MAX] = '\0';
	CHECK(auth_realm_ok(r128));
	r128[AUTH_REALM_MAX] = 'r';
	r128[AUTH_REALM_MAX + 1] = '\0';
	CHECK(!auth_realm_ok(r128));

	CHECK(auth_challenge(out, sizeof(out), "ringserve") > 0);
	CHECK(strcmp(out, "WWW-Authenticate: Basic realm=\"ringserve\", charset=\"UTF-8\"\r\n") == 0);
	CHECK(auth_challenge(out, sizeof(out), "a\"b\\c") > 0);
	CHECK(strcmp(out, "WWW-Authenticate: Basic realm=\"a\\\"b\\\\c\", charset=\"UTF-8\"\r\n") == 0);
	memset(r128, '"', AUTH_REALM_MAX);
	r128[AUTH_REALM_MAX] = '\0';
	CHECK(auth_challenge(out, sizeof(out), r128) == (int)strlen(out));
	CHECK(auth_challenge(out, 20, "ringserve") == -ENOSPC);
	CHECK(auth_challenge(out, 50, "ringserve") == -ENOSPC);

	CHECK(auth_prefix_normalize("/private", norm, sizeof(norm)) == 7 && strcmp(norm, "private") == 0);
	CHECK(auth_prefix_normalize("/private/", norm, sizeof(norm)) == 7);
	CHECK(auth_prefix_normalize("//a//b/", norm, sizeof(norm)) == 3 && strcmp(norm, "a/b") == 0);
	CHECK(auth_prefix_normalize("/a/./b/../c", norm, sizeof(norm)) == 3 && strcmp(norm, "a/c") == 0);
	CHECK(auth_prefix_normalize("/my%20dir", norm, sizeof(norm)) == 6 && strcmp(norm, "my dir") == 0);
	CHECK(auth_prefix_normalize("/", norm, sizeof(norm)) == 0 && norm[0] == '\0');
	CHECK(auth_prefix_normalize("private", norm, sizeof(norm)) == -EINVAL);
	CHECK(auth_prefix_normalize("", norm, sizeof(norm)) == -EINVAL);
	CHECK(auth_prefix_normalize("/../etc", norm, sizeof(norm)) == -EINVAL);
	CHECK(auth_prefix_normalize("/a%zz", norm, sizeof(norm)) == -EINVAL);
	CHECK(auth_prefix_normalize("/a\x01", norm, sizeof(norm)) == -EINVAL);

	CHECK(auth_prefix_covers("private", 7, "private", 7));
	CHECK(auth_prefix_covers("private", 7, "private/x", 9));
	CHECK(auth_prefix_covers("private", 7, "private/a/b.txt", 15));
	CHECK(!auth_prefix_covers("private", 7, "privateer", 9));
	CHECK(!auth_prefix_covers("private", 7, "privat", 6));
	CHECK(!auth_prefix_covers("private", 7, "", 0));
	CHECK(!auth_prefix_covers("private", 7, "pub/private", 11));
	CHECK(auth_prefix_covers("a/b", 3, "a/b/c", 5) && !auth_prefix_covers("a/b", 3, "a/bc", 4));
	CHECK(auth_prefix_covers("", 0, "", 0) && auth_prefix_covers("", 0, "anything/x", 10));

	CHECK(auth_ct_equal("abc", 3, "abc", 3));
	CHECK(!auth_ct_equal("abd", 3, "abc", 3) && !auth_ct_equal("ab", 2, "abc", 3));
	CHECK(!auth_ct_equal("abcd", 4, "abc", 3) && !auth_ct_equal("", 0, "a", 1));
	CHECK(auth_ct_equal("", 0, "", 0));
}

static void test_siphash(void)
{
	/* The reference vectors: key 00..0f, messages 00, 00 01, ... */
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(siphash24(key, msg, 1) == 0x74f839c593dc67fdull);
	CHECK(siphash24(key, msg, 8) == 0x93f5f5799a932462ull);
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	uint64_t other[2] = { key[0] ^ 1, key[1] };
	CHECK(siphash24(other, msg, 15) != siphash24(key, msg, 15));
}

static void test_cache(void)
{
	struct authcache c;
	uint64_t k[2] = { 0x1234, 0x5678 }, k2[2] = { 0x1234, 0x5679 };

	CHECK(authcache_init(&c, 16, 60) == 0 && c.mask == 15);
	CHECK(!authcache_hit(&c, k, 1000));
	authcache_put(&c, k, 1000);
	CHECK(authcache_hit(&c, k, 1000) && authcache_hit(&c, k, 60999));
	CHECK(!authcache_hit(&c, k, 61000)); /* the ttl counts from the verification */
	CHECK(!authcache_hit(&c, k2, 2000)); /* all 128 bits must match */
	authcache_put(&c, k, 50000);
	CHECK(authcache_hit(&c, k, 100000));
	/* Five keys in one set of four: the one expiring first goes. */
	authcache_free(&c);
	CHECK(authcache_init(&c, 4, 10) == 0 && c.mask == 3);
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t ki[2] = { i << 8, i };
		authcache_put(&c, ki, 1000 + i);
	}
	int present = 0;
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t ki[2] = { i << 8, i };
		present += authcache_hit(&c, ki, 1005);
	}
	uint64_t k0[2] = { 0, 0 }, k4[2] = { 4 << 8, 4 };
	CHECK(present == 4 && !authcache_hit(&c, k0, 1005) && authcache_hit(&c, k4, 1005));
	authcache_free(&c);
	/* Off: no entries, or no ttl. */
	CHECK(authcache_init(&c, 0, 60) == 0);
	authcache_put(&c, k, 1);
	CHECK(!authcache_hit(&c, k, 1));
	CHECK(authcache_init(&c, 16, 0) == 0);
	authcache_put(&c, k, 1);
	CHECK(!authcache_hit(&c, k, 1));
	authcache_free(&c);
	CHECK(authcache_init(&c, 5, 1) == 0 && c.mask == 7);
	authcache_free(&c);
}

static void test_limiter(void)
{
	struct authlim l;

	CHECK(authlim_init(&l, 64, 3, 60000) == 0);
	CHECK(authlim_wait(&l, 7, 1000) == 0);
	authlim_fail(&l, 7, 1000);
	authlim_fail(&l, 7, 2000);
	CHECK(authlim_wait(&l, 7, 2000) == 0);
	authlim_fail(&l, 7, 3000);
	CHECK(authlim_wait(&l, 7, 3000) == 58000);  /* the window started at 1000 */
	CHECK(authlim_wait(&l, 8, 3000) == 0);      /* others are not affected */
	CHECK(authlim_wait(&l, 7, 60999) == 1);
	CHECK(authlim_wait(&l, 7, 61000) == 0);     /* the window passed */
	authlim_fail(&l, 7, 61000);                 /* a new window: one failure */
	CHECK(authlim_wait(&l, 7, 61000) == 0);
	authlim_free(&l);
	/* A full set drops its oldest window. */
	CHECK(authlim_init(&l, 4, 1, 60000) == 0);
	for (uint64_t k = 0; k < 4; k++)
		authlim_fail(&l, k << 8, 100 + k);
	CHECK(authlim_wait(&l, 0, 200) > 0);
	authlim_fail(&l, 9 << 8, 200);
	CHECK(authlim_wait(&l, 0, 200) == 0 && authlim_wait(&l, 1 << 8, 200) > 0 &&
	      authlim_wait(&l, 9 << 8, 200) > 0);
	authlim_free(&l);
	CHECK(authlim_init(&l, 4, 0, 60000) == 0); /* limit 0: off */
	for (int i = 0; i < 100; i++)
		authlim_fail(&l, 1, 100);
	CHECK(authlim_wait(&l, 1, 100) == 0);
	authlim_free(&l);
}

/* ---- options ---- */

static char *err_text;

static int run(struct config *cfg, int argc, char **argv)
{
	size_t elen;
	FILE *err;
	char *out_text = NULL;
	size_t olen;
	FILE *out = open_memstream(&out_text, &olen);

	free(err_text);
	err = open_memstream(&err_text, &elen);
	int r = config_parse(cfg, argc, argv, out, err);
	fclose(err);
	fclose(out);
	free(out_text);
	return r;
}

#define RUN(cfg, ...)                                                                   \
	({                                                                              \
		char *a_[] = { (char *)"ringserve", __VA_ARGS__, NULL };                \
		run(cfg, (int)(sizeof(a_) / sizeof(a_[0])) - 1, a_);                    \
	})

/* Refused with exit 2 and one line naming the option. */
static void bad(struct config *c, const char *opt, const char *value)
{
	char *a[] = { (char *)"ringserve", (char *)opt, (char *)value, NULL };
	int r = run(c, 3, a);
	const char *nl = strchr(err_text, '\n');

	if (r != 2 || !strstr(err_text, opt) || !nl || nl[1]) {
		fprintf(stderr, "  %s '%s': r=%d err='%s'\n", opt, value, r, err_text);
		failures++;
	}
}

static void test_options(void)
{
	struct config c;

	CHECK(RUN(&c, (char *)"-p", (char *)"1") == 0);
	CHECK(c.auth_file[0] == '\0' && strcmp(c.auth_realm, "ringserve") == 0 && c.nauth_paths == 0);
	CHECK(c.auth_threads == 2 && c.auth_queue == 64 && c.auth_cache_ttl == 60 &&
	      c.auth_cache_entries == 1024 && c.auth_fail_limit == 10 && c.auth_fail_clients == 4096);
	CHECK(RUN(&c, (char *)"--auth-file", (char *)"/etc/htpasswd", (char *)"--auth-realm",
		  (char *)"Team \"A\"", (char *)"--auth-path", (char *)"/private", (char *)"--auth-path",
		  (char *)"/a/b/", (char *)"--auth-threads", (char *)"64", (char *)"--auth-queue",
		  (char *)"1", (char *)"--auth-cache-ttl", (char *)"0", (char *)"--auth-cache-entries",
		  (char *)"0", (char *)"--auth-fail-limit", (char *)"0", (char *)"--auth-fail-clients",
		  (char *)"16") == 0);
	CHECK(strcmp(c.auth_file, "/etc/htpasswd") == 0 && strcmp(c.auth_realm, "Team \"A\"") == 0);
	CHECK(c.nauth_paths == 2 && strcmp(c.auth_paths[1], "/a/b/") == 0);
	CHECK(c.auth_threads == 64 && c.auth_queue == 1 && c.auth_cache_ttl == 0 &&
	      c.auth_cache_entries == 0 && c.auth_fail_limit == 0 && c.auth_fail_clients == 16);

	bad(&c, "--auth-realm", "");
	bad(&c, "--auth-realm", "caf\xc3\xa9");
	bad(&c, "--auth-realm", "tab\there");
	bad(&c, "--auth-file", "a\nb");
	bad(&c, "--auth-path", "private");
	bad(&c, "--auth-path", "");
	bad(&c, "--auth-path", "/../x");
	bad(&c, "--auth-path", "/%zz");
	bad(&c, "--auth-threads", "0");
	bad(&c, "--auth-threads", "65");
	bad(&c, "--auth-queue", "0");
	bad(&c, "--auth-queue", "65537");
	bad(&c, "--auth-cache-ttl", "86401");
	bad(&c, "--auth-cache-ttl", "-1");
	bad(&c, "--auth-cache-entries", "1048577");
	bad(&c, "--auth-fail-limit", "1000001");
	bad(&c, "--auth-fail-clients", "15");
	bad(&c, "--auth-fail-clients", "x");
	CHECK(strstr(err_text, "--auth-fail-clients must be an integer from 16 to 1048576") != NULL);

	/* 32 prefixes, not 33. */
	char *argv[2 + 2 * 33];
	int argc = 0;
	argv[argc++] = (char *)"ringserve";
	for (int i = 0; i < 33; i++) {
		argv[argc++] = (char *)"--auth-path";
		argv[argc++] = (char *)"/p";
	}
	argv[argc] = NULL;
	CHECK(run(&c, argc - 2, argv) == 0 && c.nauth_paths == 32);
	CHECK(run(&c, argc, argv) == 2 && strstr(err_text, "--auth-path may be given at most 32 times"));

	/* The config file: repeated lines, printed back the same. */
	static const char text[] = "auth-file = /etc/ringserve/htpasswd\nauth-path = /a\n"
				   "auth-path = \"/b c\"\nauth-realm = \"x y\"\n";
	struct config d;
	memset(&d, 0, sizeof(d));
	CHECK(RUN(&d, (char *)"-p", (char *)"1") == 0);
	CHECK(config_apply_text(&d, "t.conf", text, sizeof(text) - 1, stderr) == 0);
	CHECK(d.nauth_paths == 2 && strcmp(d.auth_paths[1], "/b c") == 0);
	char *printed = NULL;
	size_t plen;
	FILE *f = open_memstream(&printed, &plen);
	config_print(&d, f);
	fclose(f);
	CHECK(strstr(printed, "auth-path = /a\nauth-path = /b c\n") != NULL);
	CHECK(strstr(printed, "auth-realm = x y\n") != NULL);
	CHECK(strstr(printed, "auth-file = /etc/ringserve/htpasswd\n") != NULL);
	free(printed);
	config_free(&d);
	CHECK(RUN(&d, (char *)"-p", (char *)"1") == 0);
	printed = NULL;
	f = open_memstream(&printed, &plen);
	config_print(&d, f);
	fclose(f);
	CHECK(strstr(printed, "# auth-path: everything\n") != NULL);
	free(printed);
	FILE *e = fopen("/dev/null", "w");
	CHECK(config_apply_text(&d, "t.conf", "auth-path = nope\n", 17, e) == 2);
	fclose(e);
	config_free(&d);
}

/* The user in the access log: %u in CLF (escaped, unquoted), remote_user
 * in JSON only when there is one. */
static void test_log_user(void)
{
	struct alog_peer v4 = { { 127, 0, 0, 1 }, 0 };
	struct alog_entry e = { .peer = &v4, .req = "GET / HTTP/1.1", .req_len = 14, .status = 200 };
	char out[4096];
	size_t n;

	n = alog_format(out, sizeof(out), LOGF_COMMON, &e, "T", "I");
	out[n] = '\0';
	CHECK(strcmp(out, "127.0.0.1 - - [T] \"GET / HTTP/1.1\" 200 -\n") == 0);
	n = alog_format(out, sizeof(out), LOGF_JSON, &e, "T", "I");
	out[n] = '\0';
	CHECK(strstr(out, "remote_user") == NULL);
	e.user = "bob";
	e.user_len = 3;
	n = alog_format(out, sizeof(out), LOGF_COMBINED, &e, "T", "I");
	out[n] = '\0';
	CHECK(strcmp(out, "127.0.0.1 - bob [T] \"GET / HTTP/1.1\" 200 - \"-\" \"-\"\n") == 0);
	e.user = "b o\"b]\xc3\xa9";
	e.user_len = strlen(e.user);
	n = alog_format(out, sizeof(out), LOGF_COMMON, &e, "T", "I");
	out[n] = '\0';
	static const char want[] = "127.0.0.1 - b\\x20o\\x22b\\x5D\\xC3\\xA9 [T] \"GET";
	CHECK(strncmp(out, want, sizeof(want) - 1) == 0);
	n = alog_format(out, sizeof(out), LOGF_JSON, &e, "T", "I");
	out[n] = '\0';
	CHECK(strstr(out, "\"remote_addr\":\"127.0.0.1\",\"remote_user\":\"b o\\\"b]\\u00C3\\u00A9\","
			  "\"request\":") != NULL);
}

int main(void)
{
	test_log_user();
	test_b64();
	test_basic();
	test_lines();
	test_users();
	test_site_rules();
	test_siphash();
	test_cache();
	test_limiter();
	test_options();
	free(err_text);
	return failures ? 1 : 0;
}
