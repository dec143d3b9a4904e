/* tlsctx: certificates load (or fail with a line naming the file), SNI
 * picks the pair naming the host, and in-memory handshakes (a BIO pair per
 * connection, no sockets) show the policy: TLS 1.3 and 1.2 only, ALPN
 * http/1.1 or none, the --tls-min floor, and a
 * connection keeping its set across a reload. Certificates come from the
 * openssl command line (exit 77 without it). */
#include "check.h"
#include "tlsctx.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

static char dir[64];

static const char *path(const char *name)
{
	static char bufs[8][128];
	static int i;
	char *p = bufs[i++ % 8];

	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

/* A self-signed certificate for `names` (SAN DNS list, comma-separated). */
static int make_cert(const char *stem, const char *alg, const char *names)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey %s -nodes -keyout %s.key -out %s.crt "
		 "-days 2 -subj /CN=%s -addext subjectAltName=%s >/dev/null 2>&1 && chmod 600 %s.key",
		 dir, alg, stem, stem, stem, names, stem);
	return system(cmd);
}

/* Drive both ends until the handshake completes (1), fails (0). */
static int handshake(SSL *c, SSL *s)
{
	BIO *bc, *bs;

	if (!BIO_new_bio_pair(&bc, 0, &bs, 0))
		return 0;
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	int cd = 0, sd = 0;
	for (int i = 0; i < 100 && !(cd && sd); i++) {
		if (!cd) {
			int r = SSL_do_handshake(c);
			if (r == 1)
				cd = 1;
			else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
				return 0;
		}
		if (!sd) {
			int r = SSL_do_handshake(s);
			if (r == 1)
				sd = 1;
			else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
				return 0;
		}
	}
	if (!(cd && sd))
		return 0;
	return 1;
}

static SSL_CTX *client_ctx(int minv, int maxv)
{
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_min_proto_version(cc, minv);
	SSL_CTX_set_max_proto_version(cc, maxv);
	if (minv < TLS1_2_VERSION)
		SSL_CTX_set_security_level(cc, 0); /* let the test offer TLS 1.1 */
	return cc;
}

static SSL *client(SSL_CTX *cc, const char *sni, const char *alpn, size_t alpn_len)
{
	SSL *c = SSL_new(cc);

	if (sni)
		SSL_set_tlsext_host_name(c, sni);
	if (alpn)
		SSL_set_alpn_protos(c, (const unsigned char *)alpn, (unsigned)alpn_len);
	return c;
}

static struct tlsctx_opts opts2(int minv)
{
	struct tlsctx_opts o = { .npairs = 2, .min_version = minv };

	o.pairs[0].cert = path("a.crt");
	o.pairs[0].key = path("a.key");
	o.pairs[1].cert = path("b.crt");
	o.pairs[1].key = path("b.key");
	return o;
}

static const char *peer_cn(SSL *c)
{
	static char cn[64];
	X509 *x = SSL_get1_peer_certificate(c);

	cn[0] = '\0';
	if (x) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
		X509_free(x);
	}
	return cn;
}

static void t_load_errors(void)
{
	struct tlsctx_opts o = opts2(TLS1_2_VERSION);
	struct tlsctx_set *set = NULL;
	char err[512], warn[256];

	o.pairs[1].key = path("a.key"); /* a's key with b's certificate */
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) < 0);
	CHECK(strstr(err, "does not match") != NULL);
	o = opts2(TLS1_2_VERSION);
	o.pairs[0].cert = path("missing.crt");
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) < 0);
	CHECK(strstr(err, "missing.crt") != NULL);
	o = opts2(TLS1_2_VERSION);
	o.npairs = 0;
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) < 0);
	/* A key others may read loads, with a warning. */
	chmod(path("b.key"), 0644);
	o = opts2(TLS1_2_VERSION);
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) == 0);
	CHECK(strstr(warn, "b.key") != NULL);
	chmod(path("b.key"), 0600);
	tlsctx_put(set);
}

static void t_pick(struct tlsctx_set *set)
{
	CHECK(tlsctx_count(set) == 2);
	CHECK(tlsctx_pick(set, "a.test") == 0);
	CHECK(tlsctx_pick(set, "www.b.test") == 1);
	CHECK(tlsctx_pick(set, "B.TEST") == 1);
	CHECK(tlsctx_pick(set, "x.y.b.test") == 0); /* a wildcard covers one label */
	CHECK(tlsctx_pick(set, "unknown.test") == 0);
	CHECK(tlsctx_pick(set, NULL) == 0);
}

static void t_handshakes(struct tlsctx_slot *slot)
{
	SSL_CTX *cc = client_ctx(TLS1_VERSION, TLS1_3_VERSION);
	SSL *c, *s;

	/* TLS 1.3, ALPN http/1.1 chosen from h2 + http/1.1, SNI for b. */
	c = client(cc, "www.b.test", "\x02h2\x08http/1.1", 12);
	s = tlsctx_ssl_new(slot);
	CHECK(handshake(c, s));
	CHECK(SSL_version(s) == TLS1_3_VERSION);
	const unsigned char *proto;
	unsigned plen;
	SSL_get0_alpn_selected(s, &proto, &plen);
	CHECK(plen == 8 && memcmp(proto, "http/1.1", 8) == 0);
	CHECK(strcmp(peer_cn(c), "b") == 0);
	SSL_free(c);
	SSL_free(s);

	/* Only h2 offered: the handshake succeeds without ALPN. */
	c = client(cc, NULL, "\x02h2", 3);
	s = tlsctx_ssl_new(slot);
	CHECK(handshake(c, s));
	SSL_get0_alpn_selected(s, &proto, &plen);
	CHECK(plen == 0);
	CHECK(strcmp(peer_cn(c), "a") == 0); /* no SNI: the default pair */
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);

	/* TLS 1.2 with an AEAD suite; TLS 1.1 refused. */
	cc = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	c = client(cc, "a.test", NULL, 0);
	s = tlsctx_ssl_new(slot);
	CHECK(handshake(c, s));
	CHECK(SSL_version(s) == TLS1_2_VERSION);
	CHECK(strstr(SSL_get_cipher_name(s), "GCM") || strstr(SSL_get_cipher_name(s), "CHACHA"));
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	cc = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
	c = client(cc, "a.test", NULL, 0);
	s = tlsctx_ssl_new(slot);
	CHECK(!handshake(c, s));
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	ERR_clear_error();
}

static void t_min13_and_reload(struct tlsctx_slot *slot)
{
	struct tlsctx_opts o = opts2(TLS1_3_VERSION);
	struct tlsctx_set *set;
	char err[512], warn[256];
	SSL_CTX *cc = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);

	/* A connection made before the reload keeps working after it. */
	SSL *c0 = client(cc, "a.test", NULL, 0), *s0 = tlsctx_ssl_new(slot);
	CHECK(handshake(c0, s0));
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) == 0);
	tlsctx_slot_swap(slot, set);
	char b[8] = { 0 };
	CHECK(SSL_write(s0, "hello", 5) == 5 && SSL_read(c0, b, sizeof(b)) == 5 &&
	      memcmp(b, "hello", 5) == 0);
	SSL_free(c0);
	SSL_free(s0);
	SSL_CTX_free(cc);

	/* The new set's floor is 1.3: a 1.2-only client is refused. */
	cc = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	SSL *c = client(cc, "a.test", NULL, 0), *s = tlsctx_ssl_new(slot);
	CHECK(!handshake(c, s));
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	ERR_clear_error();
}

int main(void)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		printf("SKIP: no openssl command\n");
		return 77;
	}
	strcpy(dir, "/tmp/rs-tlsctx-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	if (make_cert("a", "rsa:2048", "DNS:a.test") != 0 ||
	    make_cert("b", "ec -pkeyopt ec_paramgen_curve:P-256", "DNS:*.b.test,DNS:b.test") != 0) {
		fprintf(stderr, "openssl req failed\n");
		return 1;
	}
	t_load_errors();
	struct tlsctx_opts o = opts2(TLS1_2_VERSION);
	struct tlsctx_set *set = NULL;
	char err[512], warn[256];
	CHECK(tlsctx_load(&o, &set, err, sizeof(err), warn, sizeof(warn)) == 0);
	if (!set) {
		fprintf(stderr, "load: %s\n", err);
		return 1;
	}
	CHECK(warn[0] == '\0');
	t_pick(set);
	struct tlsctx_slot slot;
	tlsctx_slot_init(&slot, set);
	t_handshakes(&slot);
	t_min13_and_reload(&slot);
	tlsctx_slot_free(&slot);
	char rm[128];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return failures ? 1 : 0;
}
