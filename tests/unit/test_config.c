/* config: defaults, every option at and beyond its bounds, sizes, bind
 * addresses, operands, help/version, and one-line error messages. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static char *out_text, *err_text;

/* config_parse on a NULL-terminated argument list (argv[0] is added),
 * capturing what it writes. */
static int run(struct config *cfg, ...)
{
	char *argv[32];
	int argc = 0, r;
	size_t olen, elen;
	FILE *out, *err;
	va_list ap;

	argv[argc++] = (char *)"ringserve";
	va_start(ap, cfg);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	out = open_memstream(&out_text, &olen);
	err = open_memstream(&err_text, &elen);
	if (!out || !err)
		abort();
	r = config_parse(cfg, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* A usage error: status 2, nothing on out, exactly one line on err. */
static int one_error_line(int r)
{
	size_t n = strlen(err_text);
	const char *nl = strchr(err_text, '\n');

	if (r != 2 || out_text[0] || n == 0 || nl != err_text + n - 1 ||
	    strncmp(err_text, "ringserve: ", 11) != 0) {
		fprintf(stderr, "  r=%d err='%s'\n", r, err_text);
		return 0;
	}
	return 1;
}

#define REFUSED(r) CHECK(one_error_line(r))

static void test_defaults(void)
{
	struct config c;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	CHECK(run(&c, NULL) == 0);
	CHECK(out_text[0] == 0 && err_text[0] == 0);
	CHECK(strcmp(c.root, ".") == 0);
	CHECK(c.nbinds == 0); /* all interfaces, chosen by listen.c */
	CHECK(c.port == 8080);
	CHECK(c.unix_mode == 0660 && c.proxy_protocol == 0 && c.ntrusted == 0);
	CHECK(c.max_proxy_header == 2048 && c.real_ip_header == REALIP_XFF);
	CHECK(c.threads == (unsigned)(cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus));
	CHECK(c.ring_entries == 256);
	CHECK(c.max_conns == 0);
	CHECK(c.buf_count == 256);
	CHECK(c.buf_size == 64 * 1024);
	CHECK(c.pipe_count == 64);
	CHECK(c.pipe_size == 1024 * 1024);
	CHECK(c.max_header_size == 8 * 1024);
	CHECK(c.max_headers == 100);
	CHECK(c.max_line == 8 * 1024);
	CHECK(c.header_timeout == 10);
	CHECK(c.keepalive_timeout == 15);
	CHECK(c.send_timeout == 60);
	CHECK(c.linger_timeout == 2);
	CHECK(c.iowq_max == 64);
	CHECK(c.pin_cpus == 1);
}

struct numopt {
	const char *name;
	char shrt;
	uint64_t min, max;
	int size, pow2;
	size_t off;
	int wide;
	const char *extra; /* another option needed for max to stick */
};

#define U(f) offsetof(struct config, f), 0
#define S(f) offsetof(struct config, f), 1
#define K 1024ULL
#define M (1024ULL * 1024)

static const struct numopt nums[] = {
	{ "port", 'p', 0, 65535, 0, 0, U(port), NULL },
	{ "threads", 't', 1, 1024, 0, 0, U(threads), NULL },
	{ "ring-entries", 'q', 8, 32768, 0, 1, U(ring_entries), NULL },
	{ "max-connections", 'c', 0, 1048576, 0, 0, U(max_conns), NULL },
	{ "buffers", 0, 4, 65536, 0, 0, U(buf_count), NULL },
	{ "buffer-size", 0, 16 * K, 16 * M, 1, 0, S(buf_size), NULL },
	{ "pipes", 0, 0, 4096, 0, 0, U(pipe_count), NULL },
	{ "pipe-size", 0, 4 * K, 1024 * M, 1, 0, S(pipe_size), NULL },
	{ "max-header-size", 0, K, M, 1, 0, S(max_header_size), NULL },
	{ "max-headers", 0, 1, 128, 0, 0, U(max_headers), NULL },
	{ "max-line", 0, 256, M, 1, 0, S(max_line), "--max-header-size=1M" },
	{ "header-timeout", 0, 1, 3600, 0, 0, U(header_timeout), NULL },
	{ "keepalive-timeout", 0, 0, 3600, 0, 0, U(keepalive_timeout), NULL },
	{ "send-timeout", 0, 1, 3600, 0, 0, U(send_timeout), NULL },
	{ "linger-timeout", 0, 0, 60, 0, 0, U(linger_timeout), NULL },
	{ "iowq-max", 0, 1, 4096, 0, 0, U(iowq_max), NULL },
};

static uint64_t field(const struct config *c, const struct numopt *o)
{
	const char *p = (const char *)c + o->off;

	return o->wide ? *(const uint64_t *)p : *(const unsigned *)p;
}

/* --name=VAL, --name VAL and -x VAL all set the field to want. */
static int accepts(const struct numopt *o, const char *val, uint64_t want)
{
	struct config c;
	char eq[96], lng[64], shrt[3] = { '-', o->shrt, 0 };
	const char *x = o->extra ? o->extra : "--no-pin";
	int ok = 1;

	snprintf(eq, sizeof eq, "--%s=%s", o->name, val);
	snprintf(lng, sizeof lng, "--%s", o->name);
	ok &= run(&c, x, eq, NULL) == 0 && field(&c, o) == want && !err_text[0];
	ok &= run(&c, lng, val, x, NULL) == 0 && field(&c, o) == want;
	if (o->shrt)
		ok &= run(&c, shrt, val, x, NULL) == 0 && field(&c, o) == want;
	if (!ok)
		fprintf(stderr, "  --%s %s refused or misread: '%s'\n", o->name,
			val, err_text);
	return ok;
}

/* Refused with one line naming the option. */
static int refuses(const struct numopt *o, const char *val)
{
	struct config c;
	char eq[96], name[64];
	int ok;

	snprintf(eq, sizeof eq, "--%s=%s", o->name, val);
	snprintf(name, sizeof name, "--%s ", o->name);
	ok = one_error_line(run(&c, eq, NULL)) && strstr(err_text, name) &&
	     strstr(err_text, " from ");
	if (!ok)
		fprintf(stderr, "  --%s '%s' accepted or bad message\n", o->name, val);
	return ok;
}

static void test_numbers(void)
{
	static const char *const junk[] = {
		"", "abc", "12x", "-1", "+5", " 5", "5 ", "0x10", "1e3", "1.5",
		"99999999999999999999999",
	};
	char v[32];

	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		const struct numopt *o = &nums[i];

		snprintf(v, sizeof v, "%llu", (unsigned long long)o->min);
		CHECK(accepts(o, v, o->min));
		snprintf(v, sizeof v, "%llu", (unsigned long long)o->max);
		CHECK(accepts(o, v, o->max));
		if (o->min > 0) {
			snprintf(v, sizeof v, "%llu", (unsigned long long)o->min - 1);
			CHECK(refuses(o, v));
		}
		snprintf(v, sizeof v, "%llu", (unsigned long long)o->max + 1);
		CHECK(refuses(o, v));
		for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++)
			CHECK(refuses(o, junk[j]));
		if (o->size) {
			CHECK(refuses(o, "12Q"));
			CHECK(refuses(o, "99999999999G"));
		} else {
			CHECK(refuses(o, "1K")); /* counts take no suffix */
		}
	}
}

static void test_specifics(void)
{
	struct config c;
	const struct numopt *q = &nums[2], *bs = &nums[5];

	CHECK(run(&c, "-q", "100", NULL) == 2);
	CHECK(strcmp(err_text, "ringserve: --ring-entries must be a power of two "
		      "from 8 to 32768 (got '100')\n") == 0);
	CHECK(refuses(q, "65536"));
	CHECK(refuses(q, "4"));
	CHECK(refuses(q, "0"));
	CHECK(refuses(q, "257"));
	CHECK(accepts(q, "1024", 1024));
	CHECK(run(&c, "--buffer-size=1", NULL) == 2);
	CHECK(strcmp(err_text, "ringserve: --buffer-size must be a size from 16K "
		      "to 16M (got '1')\n") == 0);
	CHECK(run(&c, "-t", "0", NULL) == 2);
	CHECK(strcmp(err_text, "ringserve: --threads must be an integer from 1 "
		      "to 1024 (got '0')\n") == 0);
	CHECK(run(&c, "--send-timeout=0", NULL) == 2);
	CHECK(strstr(err_text, "from 1 to 3600 seconds") != NULL);
	CHECK(accepts(bs, "16K", 16 * K));
	CHECK(accepts(bs, "64k", 64 * K));
	CHECK(accepts(bs, "16M", 16 * M));
	CHECK(accepts(bs, "1MiB", M));
	CHECK(refuses(bs, "17M"));
	CHECK(accepts(&nums[7], "1G", 1024 * M));
	/* control bytes in a value do not break the one-line rule */
	CHECK(run(&c, "-p", "1\n2", NULL) == 2);
	CHECK(one_error_line(2) && strstr(err_text, "'1\\x0a2'"));
	/* max-line is capped to max-header-size */
	CHECK(run(&c, "--max-header-size=1K", NULL) == 0 && c.max_line == K);
	CHECK(run(&c, "--max-line=512", "--max-header-size=1K", NULL) == 0 &&
	      c.max_line == 512);
	CHECK(run(&c, "--max-line=2K", "--max-header-size=1K", NULL) == 0 &&
	      c.max_line == K);
	CHECK(run(&c, "--no-pin", NULL) == 0 && c.pin_cpus == 0);
	CHECK(run(&c, "--keepalive=0", NULL) == 0 && c.keepalive_timeout == 0);
	CHECK(run(&c, "-t4", "-q16", NULL) == 0 && c.threads == 4 &&
	      c.ring_entries == 16);
	CHECK(run(&c, "-p", "1", "-p", "2", NULL) == 0 && c.port == 2);
}

static void test_sizes(void)
{
	static const struct { const char *s; int r; uint64_t v; } t[] = {
		{ "0", 0, 0 },          { "123", 0, 123 },
		{ "64K", 0, 64 * K },   { "64k", 0, 64 * K },
		{ "8M", 0, 8 * M },     { "1G", 0, 1024 * M },
		{ "1KiB", 0, K },       { "1kib", 0, K },
		{ "2KB", 0, 2 * K },    { "3mB", 0, 3 * M },
		{ "100B", 0, 100 },     { "100b", 0, 100 },
		{ "16777215G", 0, 16777215ULL * 1024 * M },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999G", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
		{ "12Q", -EINVAL, 0 },  { "", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },    { "-1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },   { "1 ", -EINVAL, 0 },
		{ "1KK", -EINVAL, 0 },  { "1iB", -EINVAL, 0 },
		{ "1Ki", -EINVAL, 0 },  { "1KiBx", -EINVAL, 0 },
		{ "1BB", -EINVAL, 0 },  { "1T", -EINVAL, 0 },
		{ "1.5K", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "99999999999999999999999Q", -EINVAL, 0 },
	};

	CHECK(config_parse_size(NULL, &(uint64_t){ 0 }) == -EINVAL);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint64_t v = 7;
		int r = config_parse_size(t[i].s, &v);

		if (r != t[i].r || (r == 0 && v != t[i].v) || (r && v != 7)) {
			fprintf(stderr, "  size '%s': r=%d v=%llu\n", t[i].s, r,
				(unsigned long long)v);
			failures++;
		}
	}
}

static void test_bind(void)
{
	struct config c;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&c.binds[0].addr;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&c.binds[0].addr;
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
	static const char *const bad[] = {
		"", "localhost", "127.1", "1.2.3", "256.1.1.1", "[127.0.0.1]",
		"[::1", "::1]", "[]", "::g", "1.2.3.4:", "[::1]:", "1.2.3.4:65536",
		"[::1]:-1", "[::1]:+80", "1.2.3.4:8o", "1.2.3.4 :80", "::1:80:", "unix:",
		"unix:/tmp/a\nb", "unix:/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890",
		"fe80::1%", "fe80::1%no-such-if0", "fe80::1%99999999999",
		"[1111:2222:3333:4444:5555:6666:7777:8888%an-interface-name-too-long]",
	};

	CHECK(run(&c, "-b", "127.0.0.1", "-p", "80", NULL) == 0);
	CHECK(a4->sin_family == AF_INET && a4->sin_port == htons(80) &&
	      a4->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK(c.binds[0].len == sizeof(struct sockaddr_in) && c.nbinds == 1);
	CHECK(c.binds[0].str && strcmp(c.binds[0].str, "127.0.0.1") == 0);
	CHECK(run(&c, "-p", "81", "--bind=0.0.0.0", NULL) == 0);
	CHECK(a4->sin_family == AF_INET && a4->sin_port == htons(81) &&
	      a4->sin_addr.s_addr == 0);
	CHECK(run(&c, "-b", "::1", NULL) == 0);
	CHECK(a6->sin6_family == AF_INET6 && a6->sin6_port == htons(8080) &&
	      memcmp(&a6->sin6_addr, &lo6, sizeof lo6) == 0);
	CHECK(c.binds[0].len == sizeof(struct sockaddr_in6));
	CHECK(run(&c, "-b", "[::1]", "-p0", NULL) == 0);
	CHECK(a6->sin6_family == AF_INET6 && a6->sin6_port == 0 &&
	      memcmp(&a6->sin6_addr, &lo6, sizeof lo6) == 0);
	CHECK(strcmp(c.binds[0].str, "[::1]") == 0);
	CHECK(run(&c, "-b", "[::]", NULL) == 0 && a6->sin6_family == AF_INET6);
	CHECK(run(&c, "-b", "::ffff:10.0.0.1", NULL) == 0 &&
	      a6->sin6_family == AF_INET6);
	CHECK(run(&c, "-b", "fe80::1%7", NULL) == 0 && a6->sin6_scope_id == 7);
	if (if_nametoindex("lo")) {
		CHECK(run(&c, "-b", "[fe80::1%lo]", NULL) == 0 &&
		      a6->sin6_scope_id == if_nametoindex("lo"));
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = run(&c, "-b", bad[i], NULL);

		if (!one_error_line(r) || !strstr(err_text, "--bind must be an IPv4 or IPv6")) {
			fprintf(stderr, "  bind '%s' accepted\n", bad[i]);
			failures++;
		}
	}
}

/* Several -b, ADDR:PORT, unix:PATH, duplicates; the options of the
 * listeners and of the client address. */
static void test_listeners(void)
{
	struct config c;
	const struct sockaddr_in *b0 = (const struct sockaddr_in *)&c.binds[0].addr;
	const struct sockaddr_in6 *b1 = (const struct sockaddr_in6 *)&c.binds[1].addr;
	const struct sockaddr_un *b2 = (const struct sockaddr_un *)&c.binds[2].addr;

	CHECK(run(&c, "-b", "127.0.0.1:81", "-b", "[::1]", "-b", "unix:/run/x.sock", "-p", "90",
		  NULL) == 0);
	CHECK(c.nbinds == 3);
	CHECK(b0->sin_family == AF_INET && b0->sin_port == htons(81)); /* its own port */
	CHECK(b1->sin6_family == AF_INET6 && b1->sin6_port == htons(90)); /* -p, given after it */
	CHECK(b2->sun_family == AF_UNIX && strcmp(b2->sun_path, "/run/x.sock") == 0);
	CHECK(c.binds[2].len == offsetof(struct sockaddr_un, sun_path) + 12);
	CHECK(run(&c, "-b", "[fe80::1%1]:0", NULL) == 0 && b0->sin_port == 0);
	/* The same listener twice: usage error naming both. */
	REFUSED(run(&c, "-b", "127.0.0.1", "-b", "127.0.0.1:8080", NULL));
	CHECK(strstr(err_text, "'127.0.0.1:8080' names the same listener as '127.0.0.1'"));
	REFUSED(run(&c, "-b", "[::1]:80", "-b", "::1", "-p", "80", NULL));
	REFUSED(run(&c, "-b", "unix:/a", "-b", "unix:/a", NULL));
	/* Different ports, families or paths, and port 0 twice, are not. */
	CHECK(run(&c, "-b", "127.0.0.1:80", "-b", "127.0.0.1:81", "-b", "0.0.0.0:80", NULL) == 0);
	CHECK(run(&c, "-b", "unix:/a", "-b", "unix:/b", "-b", "127.0.0.1:0", "-b",
		  "127.0.0.1:0", NULL) == 0 && c.nbinds == 4);
	{
		char *argv[CONFIG_BINDS_MAX * 2 + 4], spec[CONFIG_BINDS_MAX + 1][24];
		int argc = 0;
		argv[argc++] = (char *)"ringserve";
		for (int i = 0; i <= CONFIG_BINDS_MAX; i++) {
			snprintf(spec[i], sizeof(spec[i]), "127.0.0.1:%d", 1000 + i);
			argv[argc++] = (char *)"-b";
			argv[argc++] = spec[i];
		}
		argv[argc] = NULL;
		FILE *null = fopen("/dev/null", "w");
		CHECK(config_parse(&c, argc - 2, argv, null, null) == 0 && c.nbinds == CONFIG_BINDS_MAX);
		CHECK(config_parse(&c, argc, argv, null, null) == 2);
		fclose(null);
	}

	CHECK(run(&c, "--unix-mode", "0600", NULL) == 0 && c.unix_mode == 0600);
	CHECK(run(&c, "--unix-mode", "777", NULL) == 0 && c.unix_mode == 0777);
	CHECK(run(&c, "--unix-mode=0", NULL) == 0 && c.unix_mode == 0);
	REFUSED(run(&c, "--unix-mode", "0800", NULL));
	CHECK(strstr(err_text, "--unix-mode must be an octal mode from 0 to 777"));
	REFUSED(run(&c, "--unix-mode", "1777", NULL));
	REFUSED(run(&c, "--unix-mode", "", NULL));
	REFUSED(run(&c, "--unix-mode", "06600", NULL));

	CHECK(run(&c, "--proxy-protocol", NULL) == 0 && c.proxy_protocol == 1);
	CHECK(run(&c, "--max-proxy-header", "232", NULL) == 0 && c.max_proxy_header == 232);
	CHECK(run(&c, "--max-proxy-header", "64K", "--max-header-size", "1M", NULL) == 0 &&
	      c.max_proxy_header == 65536);
	/* Capped to the request head's buffer, like --max-line. */
	CHECK(run(&c, "--max-proxy-header", "64K", NULL) == 0 && c.max_proxy_header == 8192);
	REFUSED(run(&c, "--max-proxy-header", "231", NULL));
	REFUSED(run(&c, "--max-proxy-header", "65537", NULL));

	CHECK(run(&c, "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1", "--trusted-proxy",
		  "[2001:db8::]/32", NULL) == 0 && c.ntrusted == 3);
	CHECK(c.trusted[0].family == ALOG_PEER_V4 && c.trusted[0].bits == 8 &&
	      c.trusted[0].addr[0] == 10);
	CHECK(c.trusted[1].family == ALOG_PEER_V6 && c.trusted[1].bits == 128);
	CHECK(c.trusted[2].bits == 32);
	static const char *const bad_cidr[] = {
		"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "10/8", "::1/129", "fe80::/08",
		"10.0.0.0/8/8", "example.com", "[10.0.0.0]/8", "10.0.0.0 /8", "::/-1",
	};
	for (size_t i = 0; i < sizeof bad_cidr / sizeof bad_cidr[0]; i++) {
		int r = run(&c, "--trusted-proxy", bad_cidr[i], NULL);
		if (!one_error_line(r) || !strstr(err_text, "--trusted-proxy must be")) {
			fprintf(stderr, "  --trusted-proxy '%s' accepted\n", bad_cidr[i]);
			failures++;
		}
	}
	CHECK(run(&c, "--real-ip-header", "forwarded", NULL) == 0 &&
	      c.real_ip_header == REALIP_FORWARDED);
	REFUSED(run(&c, "--real-ip-header", "x-real-ip", NULL));
}

static void test_operands(void)
{
	struct config c;
	char *argv[] = { (char *)"ringserve", (char *)"www", (char *)"-p",
			 (char *)"9", NULL };

	CHECK(run(&c, "/srv/www", NULL) == 0 && strcmp(c.root, "/srv/www") == 0);
	CHECK(run(&c, "/srv/www", "-p", "1", NULL) == 0 && c.port == 1 &&
	      strcmp(c.root, "/srv/www") == 0);
	CHECK(run(&c, "--", "-odd", NULL) == 0 && strcmp(c.root, "-odd") == 0);
	CHECK(run(&c, "/no/such/dir", NULL) == 0); /* existence is main's job */
	REFUSED(run(&c, "a", "b", NULL));
	CHECK(strstr(err_text, "'a' and 'b'") != NULL);
	REFUSED(run(&c, "a", "b", "c", NULL));
	/* a real argv, not our helper's */
	CHECK(config_parse(&c, 4, argv, stdout, stderr) == 0 && c.port == 9 &&
	      strcmp(c.root, "www") == 0);
}

static void test_help_version(void)
{
	struct config c;
	static const char *const names[] = {
		"--port", "--bind", "--threads", "--ring-entries",
		"--max-connections", "--buffers", "--buffer-size", "--pipes",
		"--pipe-size", "--max-header-size", "--max-headers", "--max-line",
		"--header-timeout", "--keepalive-timeout", "--send-timeout",
		"--linger-timeout", "--iowq-max", "--no-pin", "--help", "--version",
	};
	static const char *const defaults[] = {
		"default 8080", "default 256", "default 64K", "default 1M",
		"default 8K", "default 100", "default 10", "default 15",
		"default 60", "default 2", "default 64", "default 0",
	};

	CHECK(run(&c, "--help", NULL) == 1);
	CHECK(err_text[0] == 0 && strncmp(out_text, "Usage: ringserve", 16) == 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		CHECK(strstr(out_text, names[i]) != NULL);
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		CHECK(strstr(out_text, defaults[i]) != NULL);
	CHECK(run(&c, "-p", "1", "-h", "junk", "junk2", NULL) == 1);
	CHECK(run(&c, "-V", NULL) == 1);
	CHECK(strcmp(out_text, "ringserve " RS_VERSION "\n") == 0 && !err_text[0]);
	CHECK(run(&c, "--version", NULL) == 1);
	CHECK(strcmp(out_text, "ringserve 0.1.0\n") == 0);
}

static void test_bad_options(void)
{
	struct config c;

	REFUSED(run(&c, "--nope", NULL));
	CHECK(strstr(err_text, "'--nope'") != NULL);
	REFUSED(run(&c, "-x", NULL));
	CHECK(strstr(err_text, "'-x'") != NULL);
	REFUSED(run(&c, "--pipe=1", NULL));          /* ambiguous prefix */
	REFUSED(run(&c, "--no-pin=1", NULL));
	CHECK(strstr(err_text, "--no-pin takes no argument") != NULL);
	REFUSED(run(&c, "--help=x", NULL));
	REFUSED(run(&c, "-p", NULL));
	CHECK(strcmp(err_text, "ringserve: --port needs an argument: an integer "
		      "from 0 to 65535\n") == 0);
	REFUSED(run(&c, "--buffer-size", NULL));
	CHECK(strstr(err_text, "--buffer-size needs an argument: a size from 16K "
		     "to 16M") != NULL);
	REFUSED(run(&c, "--bind", NULL));
	REFUSED(run(&c, "--no-pin", "-q", NULL));
	/* an error inside an option cluster must not leak into the next call */
	REFUSED(run(&c, "-tx4", NULL));
	CHECK(run(&c, "-Vx", NULL) == 1);            /* -V seen first wins */
	REFUSED(run(&c, "-xV", NULL));
	CHECK(run(&c, "-q16", NULL) == 0 && c.ring_entries == 16 && !err_text[0]);
	REFUSED(run(&c, "-q", "100", "-t", "2", NULL));
	CHECK(run(&c, "-t", "2", NULL) == 0 && c.threads == 2);
}

/* Options added with the HTTP, cache, O_DIRECT and operations work. */
static void test_later_options(void)
{
	struct config c;

	CHECK(run(&c, NULL) == 0);
	CHECK(c.listing == 1 && c.precompressed == 1 && c.dotfiles == 0);
	CHECK(c.follow_symlinks == FOLLOW_INSIDE && strcmp(c.charset, "utf-8") == 0);
	CHECK(strcmp(c.server_header, "ringserve") == 0 && c.cache_control[0] == '\0');
	CHECK(c.sqpoll_idle == 0 && c.send_zc == 0 && c.transfer == TRANSFER_AUTO);
	CHECK(c.cache_entries == 4096 && c.direct_threshold == 8 * 1024 * 1024);
	CHECK(c.log_level == 2 && c.user[0] == '\0');

	CHECK(run(&c, "--no-listing", "--no-precompressed", "--dotfiles", NULL) == 0);
	CHECK(c.listing == 0 && c.precompressed == 0 && c.dotfiles == 1);
	CHECK(run(&c, "--no-precompressed", "--precompressed", NULL) == 0 && c.precompressed == 1);
	CHECK(run(&c, "--follow-symlinks=never", NULL) == 0 && c.follow_symlinks == FOLLOW_NEVER);
	CHECK(run(&c, "--follow-symlinks", "always", NULL) == 0 && c.follow_symlinks == FOLLOW_ALWAYS);
	REFUSED(run(&c, "--follow-symlinks=sometimes", NULL));
	CHECK(run(&c, "--transfer=direct", NULL) == 0 && c.transfer == TRANSFER_DIRECT);
	REFUSED(run(&c, "--transfer=mmap", NULL));
	CHECK(run(&c, "--log-level=debug", NULL) == 0 && c.log_level == 3);
	REFUSED(run(&c, "--log-level=loud", NULL));

	/* Optional arguments: alone they take the documented value. */
	CHECK(run(&c, "--sqpoll", NULL) == 0 && c.sqpoll_idle == 1000);
	CHECK(run(&c, "--sqpoll=20", NULL) == 0 && c.sqpoll_idle == 20);
	REFUSED(run(&c, "--sqpoll=abc", NULL));
	CHECK(run(&c, "--send-zc", NULL) == 0 && c.send_zc == 64 * 1024);
	CHECK(run(&c, "--send-zc=1M", NULL) == 0 && c.send_zc == 1024 * 1024);

	/* Header values cannot carry CR, LF or other control bytes. */
	CHECK(run(&c, "--server-header=", NULL) == 0 && c.server_header[0] == '\0');
	CHECK(run(&c, "--cache-control=max-age=60, public", NULL) == 0 &&
	      strcmp(c.cache_control, "max-age=60, public") == 0);
	REFUSED(run(&c, "--server-header=a\r\nSet-Cookie: x", NULL));
	REFUSED(run(&c, "--cache-control=a\nb", NULL));

	CHECK(run(&c, "--user=nobody", NULL) == 0 && strcmp(c.user, "nobody") == 0);
	REFUSED(run(&c, "--user=nobody", "--sqpoll", NULL));
}

/* --header, --cors, --cors-max-age: repeatable, checked whole, printed
 * back; each refusal is one line naming the option. */
static void test_site_headers(void)
{
	struct config c;

	CHECK(run(&c, NULL) == 0 && c.nheaders == 0 && c.ncors == 0 && c.cors_max_age == 7200);
	CHECK(run(&c, "--header", "X-Frame-Options: DENY", "--header=/assets/* Cache-Control: max-age=60",
		  NULL) == 0 && c.nheaders == 2);
	CHECK(strcmp(c.headers[0], "X-Frame-Options: DENY") == 0 &&
	      strcmp(c.headers[1], "/assets/* Cache-Control: max-age=60") == 0);
	static const char *const bad_header[] = {
		"", "X-A", "X A: b", "X-A:", "X-A: a\r\nSet-Cookie: x", "X-A: a\nb", "/only-glob",
		"Content-Length: 0", "Vary: Cookie", "Access-Control-Allow-Origin: *", "(x): y",
	};
	for (size_t i = 0; i < sizeof bad_header / sizeof bad_header[0]; i++) {
		int r = run(&c, "--header", bad_header[i], NULL);
		if (!one_error_line(r) || !strstr(err_text, "ringserve: --header '")) {
			fprintf(stderr, "  --header '%s' accepted\n", bad_header[i]);
			failures++;
		}
	}
	REFUSED(run(&c, "--header", NULL));
	CHECK(strstr(err_text, "--header needs an argument") != NULL);
	char *argv[2 * HDRS_MAX + 4];
	int argc = 0;
	argv[argc++] = (char *)"ringserve";
	for (int i = 0; i <= HDRS_MAX; i++) {
		argv[argc++] = (char *)"--header";
		argv[argc++] = (char *)"X-Many: 1";
	}
	argv[argc] = NULL;
	FILE *devnull = fopen("/dev/null", "w");
	char *etext = NULL;
	size_t elen = 0;
	FILE *e = open_memstream(&etext, &elen);
	CHECK(config_parse(&c, argc, argv, devnull, e) == 2);
	fclose(e);
	CHECK(strstr(etext, "--header may be given at most 64 times") != NULL);
	free(etext);
	CHECK(config_parse(&c, argc - 2, argv, devnull, devnull) == 0 && c.nheaders == HDRS_MAX);
	fclose(devnull);
	static char big[3][3000];
	for (int i = 0; i < 3; i++) {
		memcpy(big[i], "X-Big: ", 7);
		memset(big[i] + 7, 'v', sizeof(big[i]) - 8);
		big[i][sizeof(big[i]) - 1] = '\0';
	}
	CHECK(run(&c, "--header", big[0], "--header", big[1], NULL) == 0);
	REFUSED(run(&c, "--header", big[0], "--header", big[1], "--header", big[2], NULL));
	CHECK(strstr(err_text, "add up to more than 8192 bytes") != NULL);

	CHECK(run(&c, "--cors", NULL) == 0 && c.ncors == 1 && strcmp(c.cors[0], "*") == 0);
	CHECK(run(&c, "--cors=https://a.example", "--cors=http://localhost:8080", NULL) == 0 &&
	      c.ncors == 2 && strcmp(c.cors[1], "http://localhost:8080") == 0);
	static const char *const bad_cors[] = {
		"null", "https://a.example/", "a.example", "", "https://a.example:99999", "**",
	};
	for (size_t i = 0; i < sizeof bad_cors / sizeof bad_cors[0]; i++) {
		char arg[64];
		snprintf(arg, sizeof(arg), "--cors=%s", bad_cors[i]);
		int r = run(&c, arg, NULL);
		if (!one_error_line(r) || !strstr(err_text, "--cors must be")) {
			fprintf(stderr, "  %s accepted\n", arg);
			failures++;
		}
	}
	CHECK(run(&c, "--cors-max-age=0", NULL) == 0 && c.cors_max_age == 0);
	REFUSED(run(&c, "--cors-max-age=86401", NULL));

	/* The file takes them as lines, repeated; --check-config prints them back. */
	static const char text[] = "header = X-A: 1\nheader = \"/x/* X-B:  two words \"\n"
				   "cors\ncors = https://b.example\ncors-max-age = 60\n";
	CHECK(run(&c, NULL) == 0);
	CHECK(config_apply_text(&c, "t.conf", text, sizeof(text) - 1, stderr) == 0);
	CHECK(c.nheaders == 2 && strcmp(c.headers[1], "/x/* X-B:  two words ") == 0);
	CHECK(c.ncors == 2 && strcmp(c.cors[0], "*") == 0 && c.cors_max_age == 60);
	char *ptext = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&ptext, &plen);
	config_print(&c, pf);
	fclose(pf);
	CHECK(strstr(ptext, "\nheader = X-A: 1\n") != NULL);
	CHECK(strstr(ptext, "\nheader = \"/x/* X-B:  two words \"\n") != NULL);
	CHECK(strstr(ptext, "\ncors = *\ncors = https://b.example\n") != NULL);
	CHECK(strstr(ptext, "\ncors-max-age = 60\n") != NULL);
	free(ptext);
	config_free(&c);
	CHECK(run(&c, NULL) == 0);
	pf = open_memstream(&ptext, &plen);
	config_print(&c, pf);
	fclose(pf);
	CHECK(strstr(ptext, "\n# header: none\n") && strstr(ptext, "\n# cors: none\n"));
	free(ptext);
}

int main(void)
{
	test_site_headers();
	test_later_options();
	test_defaults();
	test_numbers();
	test_specifics();
	test_sizes();
	test_bind();
	test_listeners();
	test_operands();
	test_help_version();
	test_bad_options();
	free(out_text);
	free(err_text);
	if (failures)
		fprintf(stderr, "test_config: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
