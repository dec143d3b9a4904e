/* config: the command line.
 *
 * One table describes every option: getopt_long's arrays, the range checks,
 * the error messages and the help text are all generated from it, so they
 * cannot disagree. Numbers are parsed by hand because strtoul() accepts
 * leading blanks, signs ("-1" wraps to ULONG_MAX) and base prefixes. */
#include "config.h"
#include "auth.h"
#include "cfile.h"
#include "fallback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PROG "ringserve"
#define KIB 1024ULL
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * 1024 * 1024)

enum kind {
	K_UINT,    /* decimal integer */
	K_SIZE,    /* byte count with optional K/M/G */
	K_POW2,    /* decimal integer, power of two */
	K_STR,     /* header-safe text (no control bytes), stored as const char * */
	K_ENUM,    /* one word of spec.choices, stored as its index */
	K_ADDRPORT,/* ADDR:PORT for a side listener (--metrics) */
	K_OCTAL,   /* octal integer (a file mode) */
	K_CIDR,    /* --trusted-proxy, appended to a list */
	K_HEADER,  /* --header, appended to a list */
	K_CORS,    /* --cors, appended to a list; "*" when given alone */
	K_PREFIX,  /* --auth-path, appended to a list */
	K_PATH,    /* a file under ROOT, "/..." (sitepath_normalize), or "" for none */
	K_ERRPAGE, /* --error-page CODE=PATH, appended to a list */
	K_FILES,   /* --tls-cert/--tls-key: a path appended to a list */
	K_BIND,    /* address; appended to a list; kinds up to here take an argument */
	K_FLAG,    /* no argument: stores spec.min into an int field */
	K_HELP,
	K_VERSION,
};

/* Long-only options get values above any char. */
enum {
	O_BUFFERS = 256, O_BUFSIZE, O_PIPES, O_PIPESIZE, O_MAXHDRSIZE,
	O_MAXHDRS, O_MAXLINE, O_HDRTO, O_KATO, O_SENDTO, O_LINGERTO, O_IOWQ,
	O_BACKLOG, O_RECVBUFS, O_RECVBUFSIZE, O_DRAINTO, O_NOLISTING, O_LISTMAX,
	O_PRECOMP, O_NOPRECOMP, O_DOTFILES, O_FOLLOW, O_CHARSET, O_CACHECTL,
	O_SERVERHDR, O_MAXRANGES, O_CACHEENT, O_CACHEVAL, O_CACHEFILE,
	O_DTHRESH, O_DDEPTH, O_DCHUNK, O_DXFERS, O_SQPOLL, O_SENDZC, O_TRANSFER, O_USER, O_LOGLEVEL,
	O_NOPIN, O_ACCESSLOG, O_LOGFORMAT, O_LOGBUF, O_METRICS, O_SFMIN,
	O_CONFIG, O_CHECKCONF, O_ROOT,
	O_UNIXMODE, O_PROXYPROTO, O_MAXPROXYHDR, O_TRUSTED, O_REALIPHDR,
	O_LIMITRATE, O_LIMITAFTER, O_TURNBYTES,
	O_HEADER, O_CORS, O_CORSMAXAGE,
	O_AUTHFILE, O_AUTHREALM, O_AUTHPATH, O_AUTHTHREADS, O_AUTHQUEUE, O_AUTHTTL,
	O_AUTHCACHE, O_AUTHFAIL, O_AUTHFAILTAB,
	O_FALLBACK, O_ERRPAGE, O_CLEANURLS,
	O_TLSPORT, O_TLSCERT, O_TLSKEY, O_TLSMIN, O_HSTS, O_REDIRHTTPS, O_TLSHS,
};

struct spec {
	int val;             /* short option char or O_* */
	const char *name;    /* long name */
	enum kind kind;
	uint64_t min, max;
	size_t off;          /* field in struct config */
	int wide;            /* field is uint64_t, else unsigned */
	const char *arg;     /* metavariable in the help */
	const char *help;
	const char *choices; /* K_ENUM: "a|b|c"; K_UINT/K_SIZE: when set, the
			      * argument is optional and this is its value
			      * when left out ("--sqpoll" = "--sqpoll=1000") */
};

#define U(f) offsetof(struct config, f), 0
#define S(f) offsetof(struct config, f), 1
#define P(f) offsetof(struct config, f), 2 /* const char * */
#define NONE 0, 0

static const struct spec specs[] = {
	{ O_CONFIG, "config", K_STR, 0, 4096, P(config_file), "FILE",
	  "read options from FILE first ('name = value' lines); the command line wins", NULL },
	{ O_CHECKCONF, "check-config", K_FLAG, 1, 0, U(check_config), NULL,
	  "check options and FILE, print the settings in force and exit", NULL },
	{ O_ROOT, "root", K_STR, 0, 4096, P(root), "DIR",
	  "serve the files under DIR, like the ROOT operand", NULL },
	{ 'p', "port", K_UINT, 0, 65535, U(port), "PORT",
	  "TCP port; 0 lets the kernel pick; off: no HTTP listener (HTTPS only)", NULL },
	{ 'b', "bind", K_BIND, 0, 0, NONE, "ADDR",
	  "listen on ADDR (IPv4, IPv6, [IPv6]; :PORT overrides -p) or unix:PATH; repeatable", NULL },
	{ 't', "threads", K_UINT, 1, 1024, U(threads), "N",
	  "worker threads, one ring each", NULL },
	{ 'q', "ring-entries", K_POW2, 8, 32768, U(ring_entries), "N",
	  "submission queue entries per ring", NULL },
	{ 'c', "max-connections", K_UINT, 0, 1048576, U(max_conns), "N",
	  "connections per worker (0: from RLIMIT_NOFILE)", NULL },
	{ O_BUFFERS, "buffers", K_UINT, 4, 65536, U(buf_count), "N",
	  "registered buffers per worker", NULL },
	{ O_BUFSIZE, "buffer-size", K_SIZE, 16 * KIB, 16 * MIB, S(buf_size), "SIZE",
	  "size of each registered buffer", NULL },
	{ O_PIPES, "pipes", K_UINT, 0, 4096, U(pipe_count), "N",
	  "splice pipes per worker (0: no splice)", NULL },
	{ O_PIPESIZE, "pipe-size", K_SIZE, 4 * KIB, GIB, S(pipe_size), "SIZE",
	  "capacity of each pipe (clamped to pipe-max-size)", NULL },
	{ O_MAXHDRSIZE, "max-header-size", K_SIZE, KIB, MIB, S(max_header_size),
	  "SIZE", "largest request head", NULL },
	{ O_MAXHDRS, "max-headers", K_UINT, 1, 128, U(max_headers), "N",
	  "most header fields in a request", NULL },
	{ O_MAXLINE, "max-line", K_SIZE, 256, MIB, S(max_line), "SIZE",
	  "longest line, at most --max-header-size", NULL },
	{ O_HDRTO, "header-timeout", K_UINT, 1, 3600, U(header_timeout), "SEC",
	  "time to receive a request head", NULL },
	{ O_KATO, "keepalive-timeout", K_UINT, 0, 3600, U(keepalive_timeout),
	  "SEC", "idle time between requests (0: no keep-alive)", NULL },
	{ O_SENDTO, "send-timeout", K_UINT, 1, 3600, U(send_timeout), "SEC",
	  "time without send progress before closing", NULL },
	{ O_LINGERTO, "linger-timeout", K_UINT, 0, 60, U(linger_timeout), "SEC",
	  "time to drain a closing connection", NULL },
	{ O_DRAINTO, "drain-timeout", K_UINT, 0, 3600, U(drain_timeout), "SEC",
	  "on SIGTERM/SIGINT, time to finish responses in flight", NULL },
	{ O_BACKLOG, "backlog", K_UINT, 1, 65535, U(backlog), "N",
	  "listen queue length per worker", NULL },
	{ O_RECVBUFS, "recv-buffers", K_POW2, 16, 32768, U(recv_bufs), "N",
	  "provided receive buffers per worker", NULL },
	{ O_RECVBUFSIZE, "recv-buffer-size", K_SIZE, 512, 64 * KIB, S(recv_buf_size),
	  "SIZE", "size of each receive buffer", NULL },
	{ O_IOWQ, "iowq-max", K_UINT, 1, 4096, U(iowq_max), "N",
	  "io-wq worker threads per ring", NULL },
	{ O_NOPIN, "no-pin", K_FLAG, 0, 0, U(pin_cpus), NULL,
	  "do not pin worker threads to CPUs", NULL },
	{ O_NOLISTING, "no-listing", K_FLAG, 0, 0, U(listing), NULL,
	  "answer 403 for directories without index.html", NULL },
	{ O_LISTMAX, "listing-max-entries", K_UINT, 1, 1000000, U(listing_max), "N",
	  "most entries shown in a directory listing", NULL },
	{ O_PRECOMP, "precompressed", K_FLAG, 1, 0, U(precompressed), NULL,
	  "serve FILE.br/.zst/.gz when the client accepts it (default)", NULL },
	{ O_NOPRECOMP, "no-precompressed", K_FLAG, 0, 0, U(precompressed), NULL,
	  "never serve precompressed sidecar files", NULL },
	{ O_DOTFILES, "dotfiles", K_FLAG, 1, 0, U(dotfiles), NULL,
	  "serve and list names starting with '.' (refused by default)", NULL },
	{ O_FOLLOW, "follow-symlinks", K_ENUM, 0, 2, U(follow_symlinks), "WHEN",
	  "follow symlinks never, inside ROOT only, or always",
	  "never|inside|always" },
	{ O_CHARSET, "charset", K_STR, 0, 64, P(charset), "NAME",
	  "charset added to text/*, JSON and JavaScript types (\"\": none)", NULL },
	{ O_CACHECTL, "cache-control", K_STR, 0, 256, P(cache_control), "VALUE",
	  "Cache-Control header for 200/206/304 (\"\": none)", NULL },
	{ O_SERVERHDR, "server-header", K_STR, 0, 128, P(server_header), "VALUE",
	  "Server header value (\"\": no Server header)", NULL },
	{ O_MAXRANGES, "max-ranges", K_UINT, 1, 64, U(max_ranges), "N",
	  "most parts in a multipart range response", NULL },
	{ O_CACHEENT, "cache-entries", K_UINT, 0, 1048576, U(cache_entries), "N",
	  "open-file cache entries per worker (0: no cache)", NULL },
	{ O_CACHEVAL, "cache-validity", K_UINT, 0, 3600, U(cache_validity), "SEC",
	  "how long a cached file is trusted before a statx rechecks it", NULL },
	{ O_CACHEFILE, "cache-file-size", K_SIZE, 0, MIB, S(cache_file_size), "SIZE",
	  "files up to this size are kept in memory (0: none)", NULL },
	{ O_DTHRESH, "direct-threshold", K_SIZE, 0, 1024 * GIB, S(direct_threshold), "SIZE",
	  "files this large not in the page cache are read with O_DIRECT (0: never)", NULL },
	{ O_DDEPTH, "direct-depth", K_UINT, 1, 16, U(direct_depth), "N",
	  "O_DIRECT reads in flight per transfer", NULL },
	{ O_DCHUNK, "direct-chunk", K_SIZE, 64 * KIB, 8 * MIB, S(direct_chunk), "SIZE",
	  "bytes per O_DIRECT read", NULL },
	{ O_DXFERS, "direct-transfers", K_UINT, 0, 1024, U(direct_transfers), "N",
	  "O_DIRECT transfers at once per worker (more fall back to buffered)", NULL },
	{ O_SQPOLL, "sqpoll", K_UINT, 0, 60000, U(sqpoll_idle), "IDLE_MS",
	  "kernel submission thread per ring, idling after IDLE_MS (0: off)", "1000" },
	{ O_SENDZC, "send-zc", K_SIZE, 0, 1024 * MIB, S(send_zc), "SIZE",
	  "zero-copy sends for body chunks of at least SIZE (0: off)", "64K" },
	{ O_LOGLEVEL, "log-level", K_ENUM, 0, 3, U(log_level), "LEVEL",
	  "messages on stderr up to this level", "error|warn|info|debug" },
	{ O_ACCESSLOG, "access-log", K_STR, 0, 4096, P(access_log), "FILE",
	  "append one line per request to FILE (\"-\": stdout; \"\": off)", NULL },
	{ O_LOGFORMAT, "log-format", K_ENUM, 0, 2, U(log_format), "FORMAT",
	  "access log line format", "common|combined|json" },
	{ O_LOGBUF, "access-log-buffer", K_SIZE, 4 * KIB, 16 * MIB, S(access_log_buf), "SIZE",
	  "access log batch per worker (4 in rotation), written when full or each 250 ms", NULL },
	{ O_METRICS, "metrics", K_ADDRPORT, 0, 0, NONE, "ADDR:PORT",
	  "serve Prometheus metrics on this address (e.g. 127.0.0.1:9100)", NULL },
	{ O_UNIXMODE, "unix-mode", K_OCTAL, 0, 0777, U(unix_mode), "MODE",
	  "permissions of unix:PATH sockets (owned by --user when given)", NULL },
	{ O_PROXYPROTO, "proxy-protocol", K_FLAG, 1, 0, U(proxy_protocol), NULL,
	  "TCP listeners expect a PROXY protocol v1/v2 header naming the client", NULL },
	{ O_MAXPROXYHDR, "max-proxy-header", K_SIZE, 232, 64 * KIB, S(max_proxy_header), "SIZE",
	  "largest PROXY v2 header, TLVs included, at most --max-header-size (v1: 107 bytes)", NULL },
	{ O_TRUSTED, "trusted-proxy", K_CIDR, 0, CONFIG_TRUSTED_MAX, NONE, "CIDR",
	  "take the client from --real-ip-header when the peer is in CIDR (unix: for unix sockets); repeatable", NULL },
	{ O_REALIPHDR, "real-ip-header", K_ENUM, 0, 1, U(real_ip_header), "NAME",
	  "header a trusted proxy names the client in", "x-forwarded-for|forwarded" },
	{ O_USER, "user", K_STR, 0, 64, P(user), "NAME",
	  "after binding, switch to this user and its groups (needs root)", NULL },
	{ O_LIMITRATE, "limit-rate", K_SIZE, 0, 1024 * GIB, S(limit_rate), "RATE",
	  "most bytes per second of each response body (0: no limit)", NULL },
	{ O_LIMITAFTER, "limit-rate-after", K_SIZE, 0, 1024 * GIB, S(limit_rate_after), "SIZE",
	  "body bytes sent at full speed before --limit-rate applies", NULL },
	{ O_TURNBYTES, "turn-bytes", K_SIZE, 0, GIB, S(turn_bytes), "SIZE",
	  "bytes a sendfile body sends per loop turn before yielding (0: no bound)", NULL },
	{ O_HEADER, "header", K_HEADER, 0, HDRS_MAX, NONE, "HEADER",
	  "add 'Name: value' to file, listing and redirect responses ('GLOB Name: value': where"
	  " GLOB matches the path)", NULL },
	{ O_CORS, "cors", K_CORS, 0, CORS_MAX, NONE, "ORIGIN",
	  "let pages from ORIGIN (scheme://host[:port]; alone: from anywhere) read the files",
	  NULL },
	{ O_CORSMAXAGE, "cors-max-age", K_UINT, 0, 86400, U(cors_max_age), "SEC",
	  "how long browsers may keep a preflight's answer", NULL },
	{ O_AUTHFILE, "auth-file", K_STR, 0, 4096, P(auth_file), "FILE",
	  "HTTP Basic auth: user:hash lines (bcrypt, SHA-crypt, yescrypt); SIGHUP reloads", NULL },
	{ O_AUTHREALM, "auth-realm", K_STR, 1, AUTH_REALM_MAX, P(auth_realm), "NAME",
	  "realm named in the WWW-Authenticate challenge", NULL },
	{ O_AUTHPATH, "auth-path", K_PREFIX, 0, CONFIG_AUTH_PATHS_MAX, NONE, "PREFIX",
	  "only paths under PREFIX need credentials (whole segments); repeatable", NULL },
	{ O_AUTHTHREADS, "auth-threads", K_UINT, 1, 64, U(auth_threads), "N",
	  "threads verifying passwords, off the workers' rings", NULL },
	{ O_AUTHQUEUE, "auth-queue", K_UINT, 1, 65536, U(auth_queue), "N",
	  "verifications waiting for a thread; more get 503", NULL },
	{ O_AUTHTTL, "auth-cache-ttl", K_UINT, 0, 86400, U(auth_cache_ttl), "SEC",
	  "a verified user and password pass again without hashing for SEC (0: always hash)", NULL },
	{ O_AUTHCACHE, "auth-cache-entries", K_UINT, 0, 1048576, U(auth_cache_entries), "N",
	  "verified credentials remembered per worker, as keyed hashes (0: none)", NULL },
	{ O_AUTHFAIL, "auth-fail-limit", K_UINT, 0, 1000000, U(auth_fail_limit), "N",
	  "failed logins a minute per client before 429 (0: no limit)", NULL },
	{ O_AUTHFAILTAB, "auth-fail-clients", K_UINT, 16, 1048576, U(auth_fail_clients), "N",
	  "clients whose failures are counted at once (the oldest are forgotten)", NULL },
	{ O_FALLBACK, "fallback", K_PATH, 0, 4096, P(fallback), "PATH",
	  "send PATH with 200 for a missing path without extension asked for as HTML (apps)", NULL },
	{ O_ERRPAGE, "error-page", K_ERRPAGE, 0, SITEPATH_PAGES_MAX, NONE, "CODE=PATH",
	  "send PATH as the body of error CODE (404, 4xx, 5xx...); repeatable", NULL },
	{ O_CLEANURLS, "clean-urls", K_FLAG, 1, 0, U(clean_urls), NULL,
	  "serve /about from about.html; /about.html gets 308 to /about", NULL },
	{ O_TLSPORT, "tls-port", K_UINT, 0, 65535, U(tls_port), "PORT",
	  "HTTPS listener on the -b addresses (0 lets the kernel pick); none unless given", NULL },
	{ O_TLSCERT, "tls-cert", K_FILES, 0, CONFIG_TLS_PAIRS_MAX, NONE, "FILE",
	  "PEM certificate (and chain) for HTTPS; repeatable, paired with --tls-key in order", NULL },
	{ O_TLSKEY, "tls-key", K_FILES, 0, CONFIG_TLS_PAIRS_MAX, NONE, "FILE",
	  "PEM private key of the --tls-cert at the same position; repeatable", NULL },
	{ O_TLSMIN, "tls-min", K_ENUM, 0, 1, U(tls_min), "VERSION",
	  "oldest TLS version accepted", "1.2|1.3" },
	{ O_HSTS, "hsts", K_UINT, 0, 1000000000, U(hsts), "SECONDS",
	  "Strict-Transport-Security max-age on HTTPS responses (0: none)", "31536000" },
	{ O_REDIRHTTPS, "redirect-https", K_FLAG, 1, 0, U(redirect_https), NULL,
	  "the HTTP listener answers every request with 308 to the same target on HTTPS", NULL },
	{ O_TLSHS, "tls-handshakes", K_UINT, 1, 65536, U(tls_hs_per_turn), "N",
	  "TLS handshake steps per worker per loop turn (more wait a turn)", NULL },
	{ O_SFMIN, "sendfile-min", K_SIZE, 0, 1024 * GIB, S(sendfile_min), "SIZE",
	  "bodies this large in the page cache go by sendfile from the worker", NULL },
	{ O_TRANSFER, "transfer", K_ENUM, 0, 4, U(transfer), "PATH",
	  "force how bodies are sent (auto picks by size and residency)",
	  "auto|splice|read|direct|sendfile" },
	{ 'h', "help", K_HELP, 0, 0, NONE, NULL, "print this help and exit", NULL },
	{ 'V', "version", K_VERSION, 0, 0, NONE, NULL,
	  "print the version and exit", NULL },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static const struct spec *spec_of(int val)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (specs[i].val == val)
			return &specs[i];
	return NULL;
}

/* The table's offsets come from offsetof, so the fields are aligned. */
static void *field_ptr(struct config *cfg, const struct spec *sp)
{
	return (char *)cfg + sp->off;
}

static uint64_t get_field(const struct config *cfg, const struct spec *sp)
{
	const void *p = (const char *)cfg + sp->off;

	return sp->wide ? *(const uint64_t *)p : *(const unsigned *)p;
}

/* The i-th word of an enum's choices, for the help text. */
static const char *enum_word(const struct spec *sp, uint64_t i)
{
	static char word[32];
	const char *w = sp->choices;

	while (i-- > 0 && strchr(w, '|'))
		w = strchr(w, '|') + 1;
	size_t len = strcspn(w, "|");
	snprintf(word, sizeof(word), "%.*s", (int)len, w);
	return word;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

static void set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->config_file = "";
	cfg->root = ".";
	/* No -b: "::" with IPV6_V6ONLY off, serving both families (listen
	 * code falls back to 0.0.0.0 when the host has no IPv6). */
	cfg->port = 8080;
	cfg->threads = online_cpus();
	cfg->ring_entries = 256;
	cfg->max_conns = 0;
	cfg->buf_count = 256;
	cfg->buf_size = 64 * KIB;
	cfg->pipe_count = 64;
	cfg->pipe_size = MIB;
	cfg->max_header_size = 8 * KIB;
	cfg->max_headers = 100;
	cfg->max_line = 8 * KIB;
	cfg->header_timeout = 10;
	cfg->keepalive_timeout = 15;
	cfg->send_timeout = 60;
	cfg->linger_timeout = 2;
	cfg->drain_timeout = 30;
	cfg->backlog = 4096;
	cfg->recv_bufs = 1024;
	cfg->recv_buf_size = 4 * KIB;
	cfg->iowq_max = 64;
	cfg->pin_cpus = 1;
	cfg->listing = 1;
	cfg->listing_max = 10000;
	cfg->precompressed = 1;
	cfg->follow_symlinks = FOLLOW_INSIDE;
	cfg->charset = "utf-8";
	cfg->cache_control = "";
	cfg->server_header = "ringserve";
	cfg->max_ranges = 16;
	cfg->cache_entries = 4096;
	cfg->cache_validity = 1;
	cfg->cache_file_size = 16 * KIB;
	cfg->direct_threshold = 8 * MIB;
	cfg->direct_depth = 16;
	cfg->direct_chunk = 512 * KIB;
	cfg->direct_transfers = 4;
	cfg->sqpoll_idle = 0;
	cfg->send_zc = 0;
	cfg->transfer = TRANSFER_AUTO;
	cfg->sendfile_min = 16 * KIB;
	cfg->limit_rate = 0;
	cfg->limit_rate_after = 0;
	cfg->turn_bytes = 1024 * KIB;
	cfg->user = "";
	cfg->log_level = 2; /* info */
	cfg->access_log = "";
	cfg->log_format = LOGF_COMBINED;
	cfg->access_log_buf = 64 * KIB;
	cfg->unix_mode = 0660;
	cfg->max_proxy_header = 2 * KIB;
	cfg->real_ip_header = REALIP_XFF;
	cfg->cors_max_age = 7200;
	cfg->auth_file = "";
	cfg->auth_realm = "ringserve";
	cfg->auth_threads = 2;
	cfg->auth_queue = 64;
	cfg->auth_cache_ttl = 60;
	cfg->auth_cache_entries = 1024;
	cfg->auth_fail_limit = 10;
	cfg->auth_fail_clients = 4096;
	cfg->fallback = "";
	cfg->tls_hs_per_turn = 32;
}

/* ---- numbers ---- */

static int parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int over = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		over |= v > (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return over ? -ERANGE : 0;
}

static int parse_uint(const char *s, uint64_t *out)
{
	int r = parse_digits(&s, out);

	if (r == -EINVAL || *s != '\0')
		return -EINVAL;
	return r;
}

/* Suffix -> multiplier: "", "B", "K", "KB", "KiB" (any case), same for
 * M and G. 0 when the suffix is not one of those. */
static uint64_t suffix_mult(const char *s)
{
	uint64_t m;

	switch (*s | 0x20) {
	case 'k': m = KIB; break;
	case 'm': m = MIB; break;
	case 'g': m = GIB; break;
	case 'b': return s[1] == '\0' ? 1 : 0;
	default: return *s == '\0' ? 1 : 0;
	}
	s++;
	if ((*s | 0x20) == 'i')  /* "Ki" must go on to "KiB" */
		s++;
	else if (*s == '\0')
		return m;
	if ((*s | 0x20) != 'b')
		return 0;
	return s[1] == '\0' ? m : 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, m;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(&s, &v);
	if (r == -EINVAL)
		return r;
	m = suffix_mult(s);
	if (m == 0)
		return -EINVAL;  /* a bad suffix beats overflow: it is a typo */
	if (r == -ERANGE || v > UINT64_MAX / m)
		return -ERANGE;
	*out = v * m;
	return 0;
}

/* ---- messages ---- */

/* Sizes print with the largest exact binary suffix: 8K, 16M, 1G. */
static void fmt_size(char *buf, size_t n, uint64_t v)
{
	static const char sfx[] = "KMG";
	int i = -1;

	while (i < 2 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else
		snprintf(buf, n, "%llu%c", (unsigned long long)v, sfx[i]);
}

static void fmt_value(char *buf, size_t n, const struct spec *sp, uint64_t v)
{
	if (sp->kind == K_SIZE)
		fmt_size(buf, n, v);
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* "an integer from 1 to 1024" and friends, for errors and help alike. */
static void fmt_range(char *buf, size_t n, const struct spec *sp)
{
	char lo[32], hi[32];

	if (sp->kind == K_BIND) {
		snprintf(buf, n, "an IPv4 or IPv6 address, ADDR:PORT, [IPv6]:PORT or unix:PATH");
		return;
	}
	if (sp->kind == K_FILES) {
		snprintf(buf, n, "a file name");
		return;
	}
	if (sp->kind == K_CIDR) {
		snprintf(buf, n, "an IPv4 or IPv6 address or CIDR (10.0.0.0/8, ::1/128) or unix:");
		return;
	}
	if (sp->kind == K_HEADER) {
		snprintf(buf, n, "'Name: value' or 'GLOB Name: value'");
		return;
	}
	if (sp->kind == K_CORS) {
		snprintf(buf, n, "* or an origin such as https://example.com or http://localhost:8080");
		return;
	}
	if (sp->kind == K_PREFIX) {
		snprintf(buf, n, "a path of at most 1024 bytes starting with '/' (no '..' above it)");
		return;
	}
	if (sp->val == O_AUTHREALM) {
		snprintf(buf, n, "printable ASCII text of 1 to %d bytes", AUTH_REALM_MAX);
		return;
	}
	if (sp->kind == K_PATH) {
		snprintf(buf, n, "a file under ROOT starting with '/' (\"\": none)");
		return;
	}
	if (sp->kind == K_ERRPAGE) {
		snprintf(buf, n, "CODE=/PATH with CODE from 400 to 599, 4xx or 5xx and PATH a file under ROOT");
		return;
	}
	if (sp->kind == K_OCTAL) {
		snprintf(buf, n, "an octal mode from 0 to %llo", (unsigned long long)sp->max);
		return;
	}
	if (sp->kind == K_ADDRPORT) {
		snprintf(buf, n, "ADDR:PORT with an IPv4 or [IPv6] address and a port from 1 to 65535");
		return;
	}
	if (sp->kind == K_ENUM) {
		snprintf(buf, n, "one of %s", sp->choices);
		return;
	}
	if (sp->kind == K_STR) {
		snprintf(buf, n, "text of at most %llu bytes without control characters",
			 (unsigned long long)sp->max);
		return;
	}
	fmt_value(lo, sizeof lo, sp, sp->min);
	fmt_value(hi, sizeof hi, sp, sp->max);
	snprintf(buf, n, "%s from %s to %s%s",
		 sp->kind == K_SIZE ? "a size" :
		 sp->kind == K_POW2 ? "a power of two" : "an integer",
		 lo, hi, sp->arg && strcmp(sp->arg, "SEC") == 0 ? " seconds" : "");
}

/* User text inside a one-line message: control bytes escaped and long
 * arguments cut, so the message stays one line. */
static void put_quoted(FILE *f, const char *s)
{
	size_t i;

	fputc('\'', f);
	for (i = 0; s[i] && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputs(s[i] ? "'..." : "'", f);
}

static int bad_value(FILE *err, const struct spec *sp, const char *arg)
{
	char range[96];

	fmt_range(range, sizeof range, sp);
	fprintf(err, PROG ": --%s must be %s (got ", sp->name, range);
	put_quoted(err, arg);
	fputs(")\n", err);
	return 2;
}

/* A repeatable option given once more than it may be. */
static int too_often(FILE *err, const char *name, unsigned long long max)
{
	fprintf(err, PROG ": --%s may be given at most %llu times\n", name, max);
	return 2;
}

/* The text list a repeatable option appends to (--header, --cors,
 * --auth-path, --tls-cert, --tls-key), its count in *n; NULL for others. */
static const char **text_list(struct config *cfg, const struct spec *sp, unsigned **n)
{
	*n = NULL;
	switch (sp->val) {
	case O_HEADER:
		*n = &cfg->nheaders;
		return cfg->headers;
	case O_CORS:
		*n = &cfg->ncors;
		return cfg->cors;
	case O_AUTHPATH:
		*n = &cfg->nauth_paths;
		return cfg->auth_paths;
	case O_TLSCERT:
		*n = &cfg->ntls_certs;
		return cfg->tls_certs;
	case O_TLSKEY:
		*n = &cfg->ntls_keys;
		return cfg->tls_keys;
	default:
		return NULL;
	}
}

static int missing_arg(FILE *err, const struct spec *sp)
{
	char range[96];

	fmt_range(range, sizeof range, sp);
	fprintf(err, PROG ": --%s needs an argument: %s\n", sp->name, range);
	return 2;
}

/* getopt_long returned '?'. With opterr = 0 glibc leaves optopt = 0 for an
 * unknown or ambiguous long option (optind already past it), the option's
 * value for a flag given "=ARG", or the unknown short option char. */
static int bad_option(FILE *err, char **argv)
{
	const struct spec *sp = optopt ? spec_of(optopt) : NULL;

	if (sp) {
		fprintf(err, PROG ": --%s takes no argument\n", sp->name);
	} else if (optopt) {
		char opt[3] = { '-', (char)optopt, '\0' };

		fputs(PROG ": unknown option ", err);
		put_quoted(err, opt);
		fputs(" (see --help)\n", err);
	} else {
		fputs(PROG ": unknown or ambiguous option ", err);
		put_quoted(err, argv[optind - 1]);
		fputs(" (see --help)\n", err);
	}
	return 2;
}

static bool optional_arg(const struct spec *sp)
{
	return ((sp->kind == K_UINT || sp->kind == K_SIZE) && sp->choices) || sp->kind == K_CORS;
}

static void usage(FILE *out)
{
	struct config def;
	char left[48], range[96], dflt[48];

	set_defaults(&def);
	fputs("Usage: " PROG " [OPTION]... [ROOT]\n"
	      "Serve the files under ROOT (default: the current directory) "
	      "over HTTP/1.1.\n\n", out);
	for (size_t i = 0; i < NSPECS; i++) {
		const struct spec *sp = &specs[i];

		snprintf(left, sizeof left, "%c%c%c --%s%s%s%s",
			 sp->val < 256 ? '-' : ' ', sp->val < 256 ? sp->val : ' ',
			 sp->val < 256 ? ',' : ' ', sp->name,
			 optional_arg(sp) ? "[=" : sp->arg ? "=" : "", sp->arg ? sp->arg : "",
			 optional_arg(sp) ? "]" : "");
		fprintf(out, "  %-30s %s\n", left, sp->help);
		if (sp->kind > K_BIND)
			continue;
		if (sp->kind == K_BIND) {
			fprintf(out, "  %-30s   default :: (all interfaces) or 0.0.0.0, at most "
				"%d times\n", "", CONFIG_BINDS_MAX);
			continue;
		}
		if (sp->kind == K_CIDR || sp->kind == K_FILES) {
			fprintf(out, "  %-30s   default none, at most %llu times\n", "",
				(unsigned long long)sp->max);
			continue;
		}
		if (sp->kind == K_HEADER || sp->kind == K_CORS) {
			fprintf(out, "  %-30s   default none, at most %llu times%s\n", "",
				(unsigned long long)sp->max, sp->kind == K_CORS ? ", alone means *" : "");
			continue;
		}
		if (sp->kind == K_PREFIX) {
			fprintf(out, "  %-30s   default everything, at most %llu times\n", "",
				(unsigned long long)sp->max);
			continue;
		}
		if (sp->kind == K_ERRPAGE) {
			fprintf(out, "  %-30s   default none, at most %llu times\n", "",
				(unsigned long long)sp->max);
			continue;
		}
		if (sp->kind == K_PATH) {
			fprintf(out, "  %-30s   default \"%s\" (none)\n", "",
				*(const char *const *)((const char *)&def + sp->off));
			continue;
		}
		if (sp->kind == K_OCTAL) {
			fprintf(out, "  %-30s   octal 0 to %llo, default %04o\n", "",
				(unsigned long long)sp->max, (unsigned)get_field(&def, sp));
			continue;
		}
		if (sp->kind == K_ADDRPORT) {
			fprintf(out, "  %-30s   default off\n", "");
			continue;
		}
		if (sp->kind == K_STR) {
			fprintf(out, "  %-30s   default \"%s\"\n", "",
				*(const char *const *)((const char *)&def + sp->off));
			continue;
		}
		if (sp->kind == K_ENUM) {
			fprintf(out, "  %-30s   %s, default %s\n", "", sp->choices,
				enum_word(sp, get_field(&def, sp)));
			continue;
		}
		fmt_range(range, sizeof range, sp);
		fmt_value(dflt, sizeof dflt, sp, get_field(&def, sp));
		fprintf(out, "  %-30s   %s, default %s%s%s%s\n", "", range, dflt,
			sp->val == 't' ? " (CPUs)" :
			sp->off == offsetof(struct config, max_line) ?
			" (capped)" : "",
			optional_arg(sp) ? ", alone means " : "",
			optional_arg(sp) ? sp->choices : "");
	}
	fputs("\nSIZE accepts K, M and G suffixes (powers of 1024), e.g. 64K, "
	      "8M, 1GiB.\n", out);
	fputs("\nConfiguration file:\n"
	      "  --config FILE reads one option a line, by its long name without the dashes:\n"
	      "  'port = 80', 'root = /srv/www', 'cache-control = public, max-age=3600'.\n"
	      "  Blanks around '=' are dropped; '#' starts a comment at the start of a line\n"
	      "  or after a blank; double quotes keep blanks and '#' (\\\" and \\\\ escape);\n"
	      "  an empty value is written \"\". A flag is its name alone or 'name = true'\n"
	      "  ('name = false' undoes it); an option with an optional value may stand\n"
	      "  alone too. Lines apply in order, as options would; then the command line\n"
	      "  applies, and an option it names replaces every value the file gave that\n"
	      "  option. --check-config prints the result in this syntax and exits 0, or\n"
	      "  prints FILE:LINE and the reason and exits 2.\n", out);
	fputs("\nEnvironment:\n"
	      "  RINGSERVE_DISABLE=NAME,... is a testing aid, read once at start: behave as\n"
	      "  on a kernel without the named features, so that each fallback the startup\n"
	      "  line can name runs here (the startup line then says RINGSERVE_DISABLE).\n"
	      "  NAME is one of: ", out);
	for (const char *n = fallback_names; *n; n++) {
		if (*n == ',')
			fputs(", ", out);
		else
			fputc(*n, out);
	}
	fputs(".\n", out);
}

/* One "name = value" line; a value that cannot be written (a control
 * byte, which set_string refuses anyway) becomes a comment. */
static void print_str(FILE *out, const char *name, const char *v)
{
	char q[2 * 4096 + 8];

	if (cfile_quote(v, q, sizeof(q)) < 0)
		fprintf(out, "# %s: not printable\n", name);
	else
		fprintf(out, "%s = %s\n", name, q);
}

/* A trusted CIDR as --trusted-proxy takes it back. */
static void print_cidr(FILE *out, const char *name, const struct realip_cidr *c)
{
	char a[INET6_ADDRSTRLEN];

	if (c->family == ALOG_PEER_UNIX) {
		fprintf(out, "%s = unix:\n", name);
		return;
	}
	inet_ntop(c->family == ALOG_PEER_V4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	fprintf(out, "%s = %s/%u\n", name, a, c->bits);
}

void config_print(const struct config *cfg, FILE *out)
{
	char v[48];

	fputs("# " PROG " " RS_VERSION ": the settings in force (defaults, then the "
	      "--config file, then the command line)\n", out);
	for (size_t i = 0; i < NSPECS; i++) {
		const struct spec *sp = &specs[i];

		if (sp->val == O_CONFIG || sp->val == O_CHECKCONF)
			continue;
		switch (sp->kind) {
		case K_UINT:
		case K_SIZE:
		case K_POW2:
			if (sp->val == 'p' && cfg->http_off) {
				fprintf(out, "%s = off\n", sp->name);
				break;
			}
			if (sp->val == O_TLSPORT && !cfg->tls_on) {
				fprintf(out, "# %s: off\n", sp->name);
				break;
			}
			fmt_value(v, sizeof(v), sp, get_field(cfg, sp));
			fprintf(out, "%s = %s\n", sp->name, v);
			break;
		case K_ENUM:
			fprintf(out, "%s = %s\n", sp->name, enum_word(sp, get_field(cfg, sp)));
			break;
		case K_STR:
			print_str(out, sp->name, *(const char *const *)((const char *)cfg + sp->off));
			break;
		case K_FLAG:
			fprintf(out, "%s = %s\n", sp->name,
				*(const int *)((const char *)cfg + sp->off) == (int)sp->min ? "true"
											 : "false");
			break;
		case K_BIND:
			for (unsigned k = 0; k < cfg->nbinds; k++)
				print_str(out, sp->name, cfg->binds[k].str);
			if (!cfg->nbinds)
				fprintf(out, "# %s: all interfaces (:: or 0.0.0.0)\n", sp->name);
			break;
		case K_CIDR:
			for (unsigned k = 0; k < cfg->ntrusted; k++)
				print_cidr(out, sp->name, &cfg->trusted[k]);
			if (!cfg->ntrusted)
				fprintf(out, "# %s: none\n", sp->name);
			break;
		case K_HEADER:
		case K_CORS:
		case K_FILES:
		case K_PREFIX: {
			unsigned *nv;
			/* text_list only finds the list; nothing is written. */
			const char **list = text_list((struct config *)cfg, sp, &nv);
			for (unsigned k = 0; k < *nv; k++)
				print_str(out, sp->name, list[k]);
			if (!*nv)
				fprintf(out, "# %s: %s\n", sp->name,
					sp->kind == K_PREFIX ? "everything" : "none");
			break;
		}
		case K_PATH:
			print_str(out, sp->name, *(const char *const *)((const char *)cfg + sp->off));
			break;
		case K_ERRPAGE:
			for (unsigned k = 0; k < cfg->nerror_pages; k++)
				print_str(out, sp->name, cfg->error_pages[k].arg);
			if (!cfg->nerror_pages)
				fprintf(out, "# %s: none\n", sp->name);
			break;
		case K_OCTAL:
			fprintf(out, "%s = %04llo\n", sp->name, (unsigned long long)get_field(cfg, sp));
			break;
		case K_ADDRPORT:
			if (cfg->metrics_str)
				print_str(out, sp->name, cfg->metrics_str);
			else
				fprintf(out, "# %s: off\n", sp->name);
			break;
		case K_HELP:
		case K_VERSION:
			break;
		default:
			fprintf(out, "# %s: not shown\n", sp->name);
		}
	}
}

/* ---- option handlers ---- */

/* Header values come from these strings: refuse anything that could break
 * a header line. */
static int set_string(struct config *cfg, const struct spec *sp, const char *arg)
{
	size_t n = strlen(arg);

	if (n > sp->max || (sp->val == O_AUTHREALM && !auth_realm_ok(arg)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)arg[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -EINVAL;
	}
	*(const char **)field_ptr(cfg, sp) = arg;
	return 0;
}

/* A file under ROOT for a site rule: refused here, at startup, unless
 * it normalises to a file name, so a typo never waits for a request. */
static int set_path(struct config *cfg, const struct spec *sp, const char *arg)
{
	char norm[4096];

	if (arg[0] && sitepath_normalize(arg, norm, sizeof(norm)) < 0)
		return -EINVAL;
	return set_string(cfg, sp, arg);
}

static int add_error_page(struct config *cfg, const struct spec *sp, const char *arg, FILE *err)
{
	struct sitepath_page p;

	if (cfg->nerror_pages == sp->max) {
		return too_often(err, sp->name, sp->max);
	}
	/* No control bytes get through: PATH must normalise, CODE is digits. */
	if (sitepath_parse_page(arg, &p))
		return bad_value(err, sp, arg);
	for (unsigned i = 0; i < cfg->nerror_pages; i++) {
		if (cfg->error_pages[i].lo == p.lo && cfg->error_pages[i].hi == p.hi) {
			fprintf(err, PROG ": --%s: ", sp->name);
			put_quoted(err, arg);
			fputs(" names the same status as ", err);
			put_quoted(err, cfg->error_pages[i].arg);
			fputs("\n", err);
			return 2;
		}
	}
	cfg->error_pages[cfg->nerror_pages++] = p;
	return 0;
}

static int set_enum(struct config *cfg, const struct spec *sp, const char *arg)
{
	const char *w = sp->choices;
	size_t n = strlen(arg);

	for (unsigned i = 0; *w; i++) {
		size_t len = strcspn(w, "|");
		if (len == n && strncmp(w, arg, n) == 0) {
			*(unsigned *)field_ptr(cfg, sp) = i;
			return 0;
		}
		w += len + (w[len] == '|');
	}
	return -EINVAL;
}

static int parse_scope(const char *s, uint32_t *id)
{
	uint64_t v;

	if (parse_uint(s, &v) == 0)
		*id = v <= UINT32_MAX ? (uint32_t)v : 0;
	else
		*id = if_nametoindex(s);
	return *id ? 0 : -EINVAL;
}

/* IPv4 dotted quad (inet_pton: no "127.1" shorthands), or IPv6 with an
 * optional [brackets] and %scope (interface name or index). */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *pct;
	size_t n = strlen(s);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
		return 0;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	pct = strchr(buf, '%');
	if (pct)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, buf, &a6->sin6_addr) != 1)
		return -EINVAL;
	if (pct && parse_scope(pct, &a6->sin6_scope_id))
		return -EINVAL;
	a6->sin6_family = AF_INET6;
	*len = sizeof(*a6);
	return 0;
}

/* "127.0.0.1:9100", "[::1]:9100": the port follows the last colon, which
 * for IPv6 must come after the closing bracket. */
static int parse_addr_port(const char *s, unsigned min_port, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 4];
	uint64_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || parse_uint(colon + 1, &port) ||
	    port < min_port || port > 65535)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strchr(host, ':') && host[0] != '[')
		return -EINVAL; /* bare IPv6: ambiguous, brackets required */
	if (parse_addr(host, ss, len))
		return -EINVAL;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* -b: "unix:PATH", an address (the port comes from -p), or ADDR:PORT
 * ("127.0.0.1:80", "[::1]:80"; a bare IPv6 literal never has a port). */
static int parse_bind(const char *s, struct config_bind *b)
{
	memset(b, 0, sizeof(*b));
	b->str = s;
	if (strncmp(s, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&b->addr;
		size_t n = strlen(s + 5);

		if (n == 0 || n >= sizeof(un->sun_path))
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[5 + i] < 0x20 || s[5 + i] == 0x7f)
				return -EINVAL; /* it is printed in one-line messages */
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s + 5, n + 1);
		b->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		b->own_port = 1;
		return 0;
	}
	if (parse_addr(s, &b->addr, &b->len) == 0)
		return 0;
	if (parse_addr_port(s, 0, &b->addr, &b->len) == 0) {
		b->own_port = 1;
		return 0;
	}
	return -EINVAL;
}

/* Two -b that name the same socket. Port 0 asks for a fresh port each
 * time, so it never repeats. */
static bool same_bind(const struct config_bind *a, const struct config_bind *b)
{
	if (a->addr.ss_family != b->addr.ss_family)
		return false;
	if (a->addr.ss_family == AF_UNIX)
		return strcmp(((const struct sockaddr_un *)&a->addr)->sun_path,
			      ((const struct sockaddr_un *)&b->addr)->sun_path) == 0;
	if (a->addr.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->addr, *y = (const void *)&b->addr;
		return x->sin_port && x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)&a->addr, *y = (const void *)&b->addr;
	return x->sin6_port && x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* --header: checked whole here, so that a bad one exits 2 with the
 * reason; main builds the lines (hdrs_init). */
static int add_header(struct config *cfg, const struct spec *sp, const char *arg, FILE *err)
{
	struct hdrs_spec h;
	const char *why;

	if (cfg->nheaders == sp->max) {
		return too_often(err, sp->name, sp->max);
	}
	if (hdrs_parse(arg, &h, &why)) {
		fprintf(err, PROG ": --%s ", sp->name);
		put_quoted(err, arg);
		fprintf(err, ": %s\n", why);
		return 2;
	}
	size_t total = hdrs_line_len(&h);
	for (unsigned k = 0; k < cfg->nheaders; k++)
		if (hdrs_parse(cfg->headers[k], &h, NULL) == 0)
			total += hdrs_line_len(&h);
	if (total > HDRS_TEXT_MAX) {
		fprintf(err, PROG ": --%s lines add up to more than %d bytes\n", sp->name,
			HDRS_TEXT_MAX);
		return 2;
	}
	cfg->headers[cfg->nheaders++] = arg;
	return 0;
}

static int add_cors(struct config *cfg, const struct spec *sp, const char *arg, FILE *err)
{
	char origin[CORS_ORIGIN_MAX + 1];

	if (cfg->ncors == sp->max) {
		return too_often(err, sp->name, sp->max);
	}
	if (cors_normalize(arg, origin, sizeof(origin)) < 0)
		return bad_value(err, sp, arg);
	cfg->cors[cfg->ncors++] = arg;
	return 0;
}

/* "660", "0660": 1 to 4 octal digits. */
static int parse_octal(const char *s, uint64_t max, unsigned *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -EINVAL;
		v = v * 8 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int set_number(struct config *cfg, const struct spec *sp, const char *arg)
{
	uint64_t v;
	int r = sp->kind == K_SIZE ? config_parse_size(arg, &v)
				   : parse_uint(arg, &v);

	if (r || v < sp->min || v > sp->max || (sp->kind == K_POW2 && !is_pow2(v)))
		return -EINVAL;
	if (sp->wide)
		*(uint64_t *)field_ptr(cfg, sp) = v;
	else
		*(unsigned *)field_ptr(cfg, sp) = (unsigned)v;
	return 0;
}

/* 0 to go on, 1 after help/version, 2 after an error message. */
static int handle(struct config *cfg, int c, char **argv, FILE *out, FILE *err)
{
	const struct spec *sp;

	if (c == '?')
		return bad_option(err, argv);
	if (c == ':')
		return missing_arg(err, spec_of(optopt));
	sp = spec_of(c);
	switch (sp->kind) {
	case K_HELP:
		usage(out);
		return 1;
	case K_VERSION:
		fputs(PROG " " RS_VERSION "\n", out);
		return 1;
	case K_FLAG:
		*(int *)field_ptr(cfg, sp) = (int)sp->min;
		return 0;
	case K_STR:
		return set_string(cfg, sp, optarg) ? bad_value(err, sp, optarg) : 0;
	case K_ENUM:
		return set_enum(cfg, sp, optarg) ? bad_value(err, sp, optarg) : 0;
	case K_BIND:
		if (cfg->nbinds == CONFIG_BINDS_MAX) {
			return too_often(err, "bind", CONFIG_BINDS_MAX);
		}
		if (parse_bind(optarg, &cfg->binds[cfg->nbinds]))
			return bad_value(err, sp, optarg);
		cfg->nbinds++;
		return 0;
	case K_CIDR:
		if (cfg->ntrusted == sp->max) {
			return too_often(err, sp->name, sp->max);
		}
		if (realip_parse_cidr(optarg, &cfg->trusted[cfg->ntrusted]))
			return bad_value(err, sp, optarg);
		cfg->ntrusted++;
		return 0;
	case K_HEADER:
		return add_header(cfg, sp, optarg, err);
	case K_CORS:
		return add_cors(cfg, sp, optarg ? optarg : "*", err);
	case K_PREFIX: {
		char norm[1024 + 1];
		if (cfg->nauth_paths == sp->max) {
			return too_often(err, sp->name, sp->max);
		}
		if (strlen(optarg) > 1024 || auth_prefix_normalize(optarg, norm, sizeof(norm)) < 0)
			return bad_value(err, sp, optarg);
		cfg->auth_paths[cfg->nauth_paths++] = optarg;
		return 0;
	}
	case K_PATH:
		return set_path(cfg, sp, optarg) ? bad_value(err, sp, optarg) : 0;
	case K_ERRPAGE:
		return add_error_page(cfg, sp, optarg, err);
	case K_FILES: {
		unsigned *nv;
		const char **v = text_list(cfg, sp, &nv);
		if (*nv == sp->max) {
			return too_often(err, sp->name, sp->max);
		}
		if (!optarg[0] || strlen(optarg) > 4096)
			return bad_value(err, sp, optarg);
		v[(*nv)++] = optarg;
		return 0;
	}
	case K_OCTAL:
		if (parse_octal(optarg, sp->max, (unsigned *)field_ptr(cfg, sp)))
			return bad_value(err, sp, optarg);
		return 0;
	case K_ADDRPORT:
		if (parse_addr_port(optarg, 1, &cfg->metrics_addr, &cfg->metrics_len))
			return bad_value(err, sp, optarg);
		cfg->metrics_str = optarg;
		return 0;
	default: {
		const char *v = optarg ? optarg : sp->choices;
		if (sp->val == 'p') /* -p off: no HTTP listener (HTTPS only) */
			cfg->http_off = strcmp(v, "off") == 0;
		if (sp->val == 'p' && cfg->http_off)
			return 0;
		if (sp->val == O_TLSPORT)
			cfg->tls_on = 1;
		return set_number(cfg, sp, v) ? bad_value(err, sp, v) : 0;
	}
	}
}

static void build_getopt(struct option *lo, char *so)
{
	*so++ = ':';  /* report a missing argument as ':', not '?' */
	for (size_t i = 0; i < NSPECS; i++) {
		int arg = specs[i].kind <= K_BIND;

		lo[i] = (struct option){ specs[i].name,
					 optional_arg(&specs[i]) ? optional_argument :
					 arg ? required_argument : no_argument,
					 NULL, specs[i].val };
		if (specs[i].val < 256) {
			*so++ = (char)specs[i].val;
			if (arg)
				*so++ = ':';
		}
	}
	*so = '\0';
	lo[NSPECS] = (struct option){ NULL, 0, NULL, 0 };
}

static int parse_options(struct config *cfg, int argc, char **argv,
			 FILE *out, FILE *err)
{
	struct option lo[NSPECS + 1];
	char so[2 * NSPECS + 2];
	int saved = opterr, c, r = 0;

	build_getopt(lo, so);
	/* optind = 0 makes glibc reinitialise fully (not just rewind), so
	 * calls after an aborted parse start clean. */
	optind = 0;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, so, lo, NULL)) != -1)
		r = handle(cfg, c, argv, out, err);
	opterr = saved;
	return r;
}

/* ---- the configuration file ---- */

/* Options named on the command line (by spec index) and the --config
 * file among them: a first getopt pass that only looks. */
struct cmdline_scan {
	bool seen[NSPECS];
	const char *file;
	bool help;  /* --help or --version: no file is read */
};

static void scan_command_line(int argc, char **argv, struct cmdline_scan *sc)
{
	struct option lo[NSPECS + 1];
	char so[2 * NSPECS + 2];
	int saved = opterr, c;

	memset(sc, 0, sizeof(*sc));
	build_getopt(lo, so);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct spec *sp = c == '?' || c == ':' ? NULL : spec_of(c);

		if (!sp)
			continue; /* the real pass reports it */
		sc->seen[sp - specs] = true;
		if (sp->val == O_CONFIG)
			sc->file = optarg;
		sc->help |= sp->kind == K_HELP || sp->kind == K_VERSION;
	}
	opterr = saved;
}

static const struct spec *spec_named(const char *name)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (strcmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

/* "ringserve: FILE:LINE: " and the reason, on one line. */
static int file_error(FILE *err, const char *file, unsigned line, const char *fmt, const char *a)
{
	/* file passed set_string: no control bytes to escape. */
	fprintf(err, PROG ": %s:%u: ", file, line);
	fprintf(err, fmt, a);
	fputc('\n', err);
	return 2;
}

/* One name = value through the option's own handler, as if given as
 * --name=value: handle() reads getopt's optarg, so it is set here.
 * Messages go to msg, to be prefixed with FILE:LINE. */
static int apply_entry(struct config *cfg, const struct spec *sp, char *value, FILE *msg)
{
	if (sp->kind == K_FLAG && value) {
		if (strcmp(value, "false") == 0) {
			/* The flag's opposite: its field holds 0 or 1. */
			*(int *)field_ptr(cfg, sp) = !sp->min;
			return 0;
		}
		if (strcmp(value, "true") != 0) {
			fprintf(msg, "--%s is a flag: write '%s', '%s = true' or '%s = false' (got ",
				sp->name, sp->name, sp->name, sp->name);
			put_quoted(msg, value);
			fputc(')', msg);
			return 2;
		}
	}
	if (!value && sp->kind <= K_BIND && !optional_arg(sp))
		return missing_arg(msg, sp);
	optarg = value;
	return handle(cfg, sp->val, NULL, NULL, msg);
}

/* Arenas hold the names and values of every file applied to a config, so
 * that string options can point into them; each starts with the address
 * of the one before. */
static char *new_arena(struct config *cfg, size_t size)
{
	char *a = malloc(sizeof(char *) + size);

	if (!a)
		return NULL;
	memcpy(a, &cfg->config_arena, sizeof(char *));
	cfg->config_arena = a;
	return a + sizeof(char *);
}

void config_free(struct config *cfg)
{
	char *a = cfg->config_arena;

	while (a) {
		char *prev;
		memcpy(&prev, a, sizeof(prev));
		free(a);
		a = prev;
	}
	cfg->config_arena = NULL;
}

/* Apply every line of text in order; an option the command line names
 * (skip) is only checked, on a copy, since the command line wins. */
static int apply_text(struct config *cfg, const char *file, const char *text, size_t len,
		      const bool *skip, FILE *err)
{
	size_t lines = 1;
	char *mbuf = NULL;
	size_t mlen = 0;
	int r = 0;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	/* Each line's name and value fit in its length plus two NULs. */
	char *arena = new_arena(cfg, len + 2 * lines);
	FILE *msg = open_memstream(&mbuf, &mlen);
	if (!arena || !msg) {
		if (msg)
			fclose(msg);
		free(mbuf);
		fprintf(err, PROG ": out of memory reading the config file\n");
		return 2;
	}
	unsigned lineno = 0;
	for (size_t at = 0; at <= len && r == 0;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		struct cfile_entry e;
		const struct spec *sp;

		lineno++;
		int k = cfile_parse_line(text + at, n, arena, &e);
		at += n + 1;
		if (k == CFILE_EMPTY)
			continue;
		if (k < 0) {
			r = file_error(err, file, lineno, "%s", cfile_strerror(k));
			break;
		}
		arena += strlen(e.name) + 1 + (e.value ? strlen(e.value) + 1 : 0);
		sp = spec_named(e.name);
		if (!sp) {
			r = file_error(err, file, lineno, "unknown option '%s' (see --help)", e.name);
			break;
		}
		if (sp->kind == K_HELP || sp->kind == K_VERSION || sp->val == O_CONFIG ||
		    sp->val == O_CHECKCONF) {
			r = file_error(err, file, lineno, "'%s' is for the command line only", e.name);
			break;
		}
		struct config scratch;
		struct config *dst = cfg;
		if (skip && skip[sp - specs]) {
			scratch = *cfg;
			dst = &scratch;
		}
		if (apply_entry(dst, sp, (char *)e.value, msg)) {
			fflush(msg);
			/* handle()'s messages start with the program's name and
			 * end with a newline: keep what is between. */
			const char *m = mbuf;
			size_t ml = mlen;
			if (ml >= sizeof(PROG ": ") - 1 && memcmp(m, PROG ": ", sizeof(PROG ": ") - 1) == 0) {
				m += sizeof(PROG ": ") - 1;
				ml -= sizeof(PROG ": ") - 1;
			}
			while (ml && m[ml - 1] == '\n')
				ml--;
			char one[512];
			snprintf(one, sizeof(one), "%.*s", (int)ml, m);
			r = file_error(err, file, lineno, "%s", one);
		}
	}
	fclose(msg);
	free(mbuf);
	return r;
}

int config_apply_text(struct config *cfg, const char *file, const char *text, size_t len,
		      FILE *err)
{
	return apply_text(cfg, file, text, len, NULL, err);
}

/* --config FILE: a regular file, read whole (its values stay in the
 * arena for the life of cfg). Missing or unreadable is a usage error. */
static int apply_file(struct config *cfg, const struct cmdline_scan *sc, FILE *err)
{
	const struct spec *sp = spec_of(O_CONFIG);
	struct stat st;
	char *text = NULL;
	size_t len = 0, cap;
	int fd, r;

	if (set_string(cfg, sp, sc->file))
		return bad_value(err, sp, sc->file);
	if (!sc->file[0])
		return 0;
	fd = open(sc->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		fputs(PROG ": --config ", err);
		put_quoted(err, sc->file);
		fprintf(err, ": %s\n", e ? strerror(e) : "not a regular file");
		return 2;
	}
	/* st_size is a hint (the file may grow while read): read to EOF. */
	cap = (size_t)st.st_size + 1;
	text = malloc(cap);
	while (text) {
		if (len + 1 == cap) {
			char *t = realloc(text, 2 * cap);
			if (!t) {
				free(text);
				text = NULL;
				break;
			}
			text = t;
			cap *= 2;
		}
		ssize_t n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(text);
			close(fd);
			fputs(PROG ": --config ", err);
			put_quoted(err, sc->file);
			fprintf(err, ": %s\n", strerror(e));
			return 2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!text) {
		close(fd);
		fprintf(err, PROG ": out of memory reading the config file\n");
		return 2;
	}
	close(fd);
	r = apply_text(cfg, sc->file, text, len, sc->seen, err);
	free(text);
	return r;
}

/* An HTTP listener on the HTTPS port: with SO_REUSEPORT both would bind
 * and the kernel would split the clients between them. */
static bool tls_port_clash(const struct config *cfg)
{
	if (!cfg->tls_on || cfg->http_off || !cfg->tls_port)
		return false;
	if (!cfg->nbinds)
		return cfg->port == cfg->tls_port;
	for (unsigned i = 0; i < cfg->nbinds; i++) {
		const struct sockaddr_storage *ss = &cfg->binds[i].addr;
		unsigned port = ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
			      : ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
							  : 0;
		if (port == cfg->tls_port)
			return true;
	}
	return false;
}

/* The HTTPS options only make sense together. */
static int tls_check(const struct config *cfg, FILE *err)
{
	const char *msg = NULL;

	if (cfg->ntls_certs != cfg->ntls_keys)
		msg = cfg->ntls_certs > cfg->ntls_keys ? "--tls-cert needs a --tls-key for each certificate"
						       : "--tls-key needs a --tls-cert for each key";
	else if (cfg->tls_on && !cfg->ntls_certs)
		msg = "--tls-port needs --tls-cert and --tls-key";
	else if (!cfg->tls_on && cfg->ntls_certs)
		msg = "--tls-cert needs --tls-port";
	else if (!cfg->tls_on && cfg->redirect_https)
		msg = "--redirect-https needs --tls-port";
	else if (!cfg->tls_on && cfg->http_off)
		msg = "--port off needs --tls-port (nothing would listen)";
	else if (cfg->http_off && cfg->redirect_https)
		msg = "--redirect-https needs the HTTP listener (not --port off)";
	else if (tls_port_clash(cfg))
		msg = "--tls-port must differ from the HTTP port (-p, or a -b ADDR:PORT)";
	if (msg)
		fprintf(err, PROG ": %s\n", msg);
	return msg ? 2 : 0;
}

int config_parse(struct config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
	struct cmdline_scan sc;
	int r;

	set_defaults(cfg);
	/* The file first, then the whole command line over it. */
	scan_command_line(argc, argv, &sc);
	if (sc.file && !sc.help) {
		r = apply_file(cfg, &sc, err);
		if (r)
			return r;
	}
	r = parse_options(cfg, argc, argv, out, err);
	if (r)
		return r;
	if (argc - optind > 1) {
		fputs(PROG ": only one ROOT may be given (got ", err);
		put_quoted(err, argv[optind]);
		fputs(" and ", err);
		put_quoted(err, argv[optind + 1]);
		fputs(argc - optind > 2 ? " and more)\n" : ")\n", err);
		return 2;
	}
	if (optind < argc && sc.seen[spec_of(O_ROOT) - specs]) {
		fputs(PROG ": ROOT given twice (--root and ", err);
		put_quoted(err, argv[optind]);
		fputs(")\n", err);
		return 2;
	}
	if (optind < argc)
		cfg->root = argv[optind];
	if (cfg->max_line > cfg->max_header_size)
		cfg->max_line = cfg->max_header_size;
	if (cfg->sqpoll_idle && cfg->user[0]) {
		/* The SQPOLL thread keeps the credentials of the ring's creator. */
		fputs(PROG ": --sqpoll cannot be combined with --user\n", err);
		return 2;
	}
	/* The PROXY header waits in the request's input buffer. */
	if (cfg->max_proxy_header > cfg->max_header_size)
		cfg->max_proxy_header = cfg->max_header_size;
	/* -p applies to every -b without a port of its own, wherever it
	 * stands on the line. */
	for (unsigned i = 0; i < cfg->nbinds; i++) {
		struct config_bind *b = &cfg->binds[i];
		if (b->own_port)
			continue;
		if (b->addr.ss_family == AF_INET)
			((struct sockaddr_in *)&b->addr)->sin_port = htons((uint16_t)cfg->port);
		else
			((struct sockaddr_in6 *)&b->addr)->sin6_port = htons((uint16_t)cfg->port);
	}
	if (tls_check(cfg, err))
		return 2;
	for (unsigned i = 0; i < cfg->nbinds; i++)
		for (unsigned j = 0; j < i; j++)
			if (same_bind(&cfg->binds[i], &cfg->binds[j])) {
				fputs(PROG ": --bind ", err);
				put_quoted(err, cfg->binds[i].str);
				fputs(" names the same listener as ", err);
				put_quoted(err, cfg->binds[j].str);
				fputs("\n", err);
				return 2;
			}
	return 0;
}
