/* auth: HTTP Basic authentication, the pure parts (RFC 7617).
 *
 * The Authorization value (scheme, strict base64 token68, user:password),
 * htpasswd lines and files (which hashes are accepted, line numbers in
 * errors), the user table, segment-aware path prefixes, the
 * WWW-Authenticate challenge and a constant-time comparison. Nothing here
 * hashes a password: the engine does that off the ring (authpool.c). */
#ifndef RS_AUTH_H
#define RS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_VALUE_MAX 1024 /* longest Authorization value considered */
#define AUTH_CRED_CAP 768   /* its decoded user:password at most (1024 / 4 * 3) */
#define AUTH_USER_MAX 255
#define AUTH_PASS_MAX (AUTH_CRED_CAP - 1)
#define AUTH_HASH_MAX 255
#define AUTH_REALM_MAX 128
#define AUTH_FILE_MAX (16u << 20) /* bytes of an auth file */
#define AUTH_USERS_MAX 100000
#define AUTH_CHALLENGE_MAX (AUTH_REALM_MAX * 2 + 64)

/* Why an Authorization value was refused (every one gets 401). */
enum auth_err {
	AUTH_E_SCHEME = -1, /* not "Basic" followed by a space */
	AUTH_E_BASE64 = -2, /* not strict, padded, canonical base64 */
	AUTH_E_COLON = -3,  /* the decoded text has no ':' */
	AUTH_E_LONG = -4,   /* over AUTH_VALUE_MAX bytes */
	AUTH_E_CTL = -5,    /* a control byte (NUL included) in user or password */
};

struct auth_cred {
	const char *user, *pass; /* into the caller's buffer, NUL-terminated */
	size_t user_len, pass_len;
};

/* Decode strict base64 (RFC 4648 alphabet, '=' padding to a multiple of
 * 4, unused bits zero) from in[0..n) into out (cap bytes). Length, or -1. */
int auth_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* The value of an Authorization field (OWS already stripped), decoded into
 * buf (AUTH_CRED_CAP + 1 bytes: user and password each end in a NUL, the
 * ':' becomes one). 0, or an enum auth_err. The scheme is
 * case-insensitive; the user ends at the first ':' (RFC 7617 §2). */
int auth_parse_basic(const char *v, size_t n, char *buf, struct auth_cred *out);

/* "not Basic", ... for messages and tests. */
const char *auth_strerror(int err);

/* ---- htpasswd ---- */

enum { AUTH_LINE_OK = 0, AUTH_LINE_EMPTY = 1, AUTH_LINE_BAD = -1 };

struct auth_line {
	const char *user, *hash;   /* into the line */
	size_t user_len, hash_len;
	const char *why;           /* AUTH_LINE_BAD: the reason, a constant */
};

/* One line (no newline; a trailing CR and blanks are ignored): "user:hash"
 * with a bcrypt ($2b$, $2y$), SHA-crypt ($5$, $6$) or yescrypt ($y$) hash
 * whose format is checked; blank lines and '#' comments are EMPTY; plain
 * text, DES, MD5 ($1$, $apr1$), {SHA}, $2a$ and anything else are BAD. */
int auth_parse_line(const char *line, size_t n, struct auth_line *out);

struct auth_user {
	const char *name, *hash;  /* NUL-terminated, in the table's arena */
	uint16_t name_len, hash_len;
	uint32_t line;            /* in the file, for messages */
};

/* An immutable table, sorted by name. */
struct auth_users {
	struct auth_user *v;
	unsigned n;
	char *arena;
};

/* A whole file: every line through auth_parse_line, duplicate names
 * refused. 0 and *out (auth_users_free it), or -1 with *line (0: the
 * file as a whole) and the reason in why[0..cap). An empty table is
 * refused too ("no users"). */
int auth_users_parse(const char *text, size_t len, struct auth_users **out, unsigned *line,
		     char *why, size_t cap);
void auth_users_free(struct auth_users *u);
const struct auth_user *auth_users_find(const struct auth_users *u, const char *name, size_t n);

/* ---- site rules ---- */

/* A realm: 1 to AUTH_REALM_MAX printable ASCII bytes (it is quoted and
 * escaped in the challenge, so '"' and '\' are fine). */
bool auth_realm_ok(const char *realm);

/* "WWW-Authenticate: Basic realm="...", charset="UTF-8"\r\n" into out.
 * Length, or -ENOSPC (AUTH_CHALLENGE_MAX always fits a valid realm). */
int auth_challenge(char *out, size_t cap, const char *realm);

/* --auth-path PREFIX ("/private", "/a/b/") into its root-relative form as
 * path_normalize gives request paths ("private", "a/b"; "/" is ""), so the
 * two compare byte for byte. Length, or -EINVAL (not starting with '/',
 * '..' above the root, bad escape, control byte) / -ENAMETOOLONG. */
int auth_prefix_normalize(const char *prefix, char *out, size_t cap);

/* Is the normalized request path under the normalized prefix? By whole
 * segments: "private" covers "private" and "private/x", not "privateer";
 * "" covers everything. */
bool auth_prefix_covers(const char *prefix, size_t plen, const char *path, size_t n);

/* a[0..la) == b[0..lb) in time that depends only on lb (the stored
 * hash's length), never on where they differ. */
bool auth_ct_equal(const char *a, size_t la, const char *b, size_t lb);

#endif
