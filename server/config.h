/* config: command line -> struct config. Every limit is a flag. */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cors.h"
#include "hdrs.h"
#include "realip.h"
#include "sitepath.h"

#define RS_VERSION "0.1.0"

#define CONFIG_BINDS_MAX 32    /* -b given at most this often */
#define CONFIG_TRUSTED_MAX 64  /* --trusted-proxy given at most this often */
#define CONFIG_AUTH_PATHS_MAX 32 /* --auth-path given at most this often */
#define CONFIG_TLS_PAIRS_MAX 16 /* --tls-cert/--tls-key pairs (TLSCTX_PAIRS_MAX) */

/* One -b: an IP address (the port from -p unless it has its own) or
 * unix:PATH. */
struct config_bind {
	const char *str;           /* as given, for messages */
	struct sockaddr_storage addr; /* AF_INET, AF_INET6 (port filled in) or AF_UNIX */
	socklen_t len;
	int own_port;              /* ADDR:PORT: -p does not apply */
};

struct config {
	const char *config_file;   /* --config FILE, "" = none */
	int check_config;          /* --check-config: print the effective settings, exit */
	char *config_arena;        /* the file's names and values (config_free) */
	const char *root;          /* ROOT operand or --root, default "." */
	struct config_bind binds[CONFIG_BINDS_MAX]; /* -b, in order; none: all interfaces */
	unsigned nbinds;
	unsigned port;             /* -p, 0..65535, default 8080 (0: kernel picks) */
	unsigned threads;          /* -t, 1..1024, default online CPUs */
	unsigned ring_entries;     /* -q, power of two 8..32768, default 256 */
	unsigned max_conns;        /* -c, per worker, 1..1048576; 0 = derive from RLIMIT_NOFILE */
	unsigned buf_count;        /* --buffers, per worker, 4..65536, default 256 */
	uint64_t buf_size;         /* --buffer-size, 16K..16M, default 64K */
	unsigned pipe_count;       /* --pipes, per worker, 0..4096, default 64 (0 = no splice) */
	uint64_t pipe_size;        /* --pipe-size, 4K..1G (clamped to pipe-max-size at run time), default 1M */
	uint64_t max_header_size;  /* --max-header-size, 1K..1M, default 8K */
	unsigned max_headers;      /* --max-headers, 1..128, default 100 */
	uint64_t max_line;         /* --max-line, 256..max-header-size, default 8K (capped to max-header-size) */
	unsigned header_timeout;   /* --header-timeout SEC, 1..3600, default 10 */
	unsigned keepalive_timeout;/* --keepalive-timeout SEC, 0..3600, default 15 (0: no keep-alive) */
	unsigned send_timeout;     /* --send-timeout SEC, 1..3600, default 60 */
	unsigned linger_timeout;   /* --linger-timeout SEC, 0..60, default 2 */
	unsigned drain_timeout;    /* --drain-timeout SEC, 0..3600, default 30 */
	unsigned backlog;          /* --backlog, listen queue, 1..65535, default 4096 */
	unsigned recv_bufs;        /* --recv-buffers, provided buffers per worker, power of two 16..32768, default 1024 */
	uint64_t recv_buf_size;    /* --recv-buffer-size, 512..64K, default 4K */
	unsigned iowq_max;         /* --iowq-max, io-wq workers per ring, 1..4096, default 64 */
	int pin_cpus;              /* 1 unless --no-pin */

	/* HTTP behaviour */
	int listing;               /* 1 unless --no-listing: list directories without index.html */
	unsigned listing_max;      /* --listing-max-entries, 1..1000000, default 10000 */
	int precompressed;         /* --precompressed (default) / --no-precompressed */
	int dotfiles;              /* --dotfiles: serve and list names starting with '.' */
	unsigned follow_symlinks;  /* --follow-symlinks=never|inside|always, default inside */
	const char *charset;       /* --charset, default "utf-8"; "" = none */
	const char *cache_control; /* --cache-control VALUE, default none ("") */
	const char *server_header; /* --server-header VALUE, default "ringserve"; "" hides */
	unsigned max_ranges;       /* --max-ranges, 1..64, default 16 */

	/* open-file cache */
	unsigned cache_entries;    /* --cache-entries, per worker, 0..1048576, default 4096 (0: off) */
	unsigned cache_validity;   /* --cache-validity SEC, 0..3600, default 1 */
	uint64_t cache_file_size;  /* --cache-file-size, files up to this are kept in memory, 0..1M, default 16K */

	/* O_DIRECT for large cold files */
	uint64_t direct_threshold; /* --direct-threshold SIZE, 0 = never, default 8M */
	unsigned direct_depth;     /* --direct-depth N reads in flight per transfer, 1..16, default 16 */
	uint64_t direct_chunk;     /* --direct-chunk SIZE per read, 64K..8M, default 512K */
	unsigned direct_transfers; /* --direct-transfers N at once per worker, 0..1024, default 4 */

	unsigned sqpoll_idle;      /* --sqpoll[=IDLE_MS]: SQPOLL ring, 0 = off (default) */
	uint64_t send_zc;          /* --send-zc[=SIZE]: SEND_ZC for body chunks >= SIZE, 0 = off */
	unsigned transfer;         /* --transfer=auto|splice|read|direct|sendfile */
	uint64_t sendfile_min;     /* --sendfile-min SIZE, 0..1T, default 16K */
	uint64_t limit_rate;       /* --limit-rate RATE bytes/s per response body, 0..1T, 0 = none (default) */
	uint64_t limit_rate_after; /* --limit-rate-after SIZE sent unpaced first, 0..1T, default 0 */
	uint64_t turn_bytes;       /* --turn-bytes SIZE per sendfile body per loop turn, 0..1G (0: unbounded), default 1M */
	const char *user;          /* --user NAME: drop to this user after binding ("" = stay) */
	unsigned log_level;        /* --log-level=error|warn|info|debug, default info */

	/* operations */
	const char *access_log;    /* --access-log FILE, "-" = stdout, "" = off (default) */
	unsigned log_format;       /* --log-format=common|combined|json, default combined */
	uint64_t access_log_buf;   /* --access-log-buffer SIZE per batch, 4K..16M, default 64K */
	const char *metrics_str;   /* --metrics ADDR:PORT as given; NULL = off */
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_len;

	/* listeners and client addresses */
	unsigned unix_mode;        /* --unix-mode, octal 0..0777, default 0660 */
	int proxy_protocol;        /* --proxy-protocol: TCP listeners expect a PROXY header */
	uint64_t max_proxy_header; /* --max-proxy-header SIZE (v2 with TLVs), 232..64K, default 2K (capped) */
	struct realip_cidr trusted[CONFIG_TRUSTED_MAX]; /* --trusted-proxy CIDR, repeatable */
	unsigned ntrusted;
	unsigned real_ip_header;   /* --real-ip-header=x-forwarded-for|forwarded */

	/* response headers and CORS (hdrs.h, cors.h): the arguments, checked;
	 * main builds them into their sets */
	const char *headers[HDRS_MAX]; /* --header '[GLOB ]Name: value', repeatable */
	unsigned nheaders;
	const char *cors[CORS_MAX];    /* --cors[=ORIGIN] ("*" alone), repeatable */
	unsigned ncors;
	unsigned cors_max_age;     /* --cors-max-age SEC, 0..86400, default 7200 */
	/* HTTP Basic auth (server/authpool.c, authgate.c) */
	const char *auth_file;     /* --auth-file FILE of user:hash lines, "" = off (default) */
	const char *auth_realm;    /* --auth-realm NAME, printable ASCII, default "ringserve" */
	const char *auth_paths[CONFIG_AUTH_PATHS_MAX]; /* --auth-path PREFIX, repeatable */
	unsigned nauth_paths;      /* 0: everything needs credentials */
	unsigned auth_threads;     /* --auth-threads N verifying, 1..64, default 2 */
	unsigned auth_queue;       /* --auth-queue N waiting verifications, 1..65536, default 64 */
	unsigned auth_cache_ttl;   /* --auth-cache-ttl SEC, 0..86400, default 60 (0: no cache) */
	unsigned auth_cache_entries; /* --auth-cache-entries N per worker, 0..1048576, default 1024 */
	unsigned auth_fail_limit;  /* --auth-fail-limit N failures/minute/client, 0..1000000, default 10 */
	unsigned auth_fail_clients;/* --auth-fail-clients N clients tracked, 16..1048576, default 4096 */

	/* site paths (server/site.c) */
	const char *fallback;      /* --fallback PATH under ROOT for app routes, "" = off */
	struct sitepath_page error_pages[SITEPATH_PAGES_MAX]; /* --error-page CODE=PATH, repeatable */
	unsigned nerror_pages;
	int clean_urls;            /* --clean-urls: /about from about.html, which gets 308 */

	/* HTTPS (tls.c, tlsctx.c) */
	unsigned tls_port;         /* --tls-port PORT, 0..65535 (0: kernel picks) */
	int tls_on;                /* --tls-port was given: HTTPS listeners */
	int http_off;              /* -p off: no HTTP listener */
	int redirect_https;        /* --redirect-https: HTTP answers 308 to https:// */
	const char *tls_certs[CONFIG_TLS_PAIRS_MAX]; /* --tls-cert, in order */
	unsigned ntls_certs;
	const char *tls_keys[CONFIG_TLS_PAIRS_MAX];  /* --tls-key, paired by position */
	unsigned ntls_keys;
	unsigned tls_min;          /* --tls-min=1.2|1.3 (0 or 1), default 1.2 */
	unsigned hsts;             /* --hsts[=SECONDS], 0 = no header (default) */
	unsigned tls_hs_per_turn;  /* --tls-handshakes N, default 32 */
};

enum { REALIP_XFF = 0, REALIP_FORWARDED };

enum { LOGF_COMMON = 0, LOGF_COMBINED, LOGF_JSON };

enum { TRANSFER_AUTO = 0, TRANSFER_SPLICE, TRANSFER_READ, TRANSFER_DIRECT, TRANSFER_SENDFILE };

enum { FOLLOW_NEVER = 0, FOLLOW_INSIDE = 1, FOLLOW_ALWAYS = 2 };

/* Parse argv into cfg: defaults, then the --config file's lines (each as
 * if given as --name=value, in order, except for options the command line
 * names), then the command line. Help and version go to `out`,
 * errors to `err` as one line naming the option and its accepted range.
 * Returns 0 to run, 1 when help/version was printed (exit 0),
 * 2 on a usage error (exit 2). Uses getopt_long (resets optind). */
int config_parse(struct config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* Apply the text of a configuration file (cfile.h's syntax) to cfg as
 * --config does, every line in order; `file` names it in the one-line
 * error on `err` ("ringserve: FILE:LINE: reason"). 0, or 2 on an error.
 * cfg keeps pointers into memory this allocates: config_free(). */
int config_apply_text(struct config *cfg, const char *file, const char *text, size_t len,
		      FILE *err);

/* The settings in force, in the configuration file's syntax (a file that
 * gives them all back), for --check-config. */
void config_print(const struct config *cfg, FILE *out);

/* Free what config_parse or config_apply_text read from files. */
void config_free(struct config *cfg);

/* "123", "64K", "8M", "1G" (binary multiples, case-insensitive, optional
 * trailing 'B' or 'iB' e.g. "64KiB"). 0 or -EINVAL (syntax) / -ERANGE
 * (overflow). */
int config_parse_size(const char *s, uint64_t *out);

#endif
