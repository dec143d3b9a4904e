/* auth: Basic credentials, htpasswd files, prefixes, the challenge.
 *
 * Everything a client sends is bounded before it is decoded (1 KiB of
 * base64 at most), and decoding is strict: one spelling per credential,
 * so no two different headers mean the same user and password to us and
 * something else to a proxy in front. Hash formats are checked here, at
 * load, so a typo in the file is a startup error with its line number
 * rather than a user who can never log in. */
#include "auth.h"
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the Authorization value ------------------------------------------ */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int auth_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t pad = 0, o = 0;

	if (n == 0 || n % 4)
		return -1;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > cap)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int v[4];

		for (size_t k = 0; k < 4; k++) {
			v[k] = last && k >= 4 - pad ? 0 : b64_val((unsigned char)in[i + k]);
			if (v[k] < 0)
				return -1; /* '=' anywhere but the end lands here too */
		}
		/* The bits the padding leaves unused must be zero: "QQ==" is
		 * "A", "QR==" is not another spelling of it. */
		if (last && ((pad == 2 && (v[1] & 0xf)) || (pad == 1 && (v[2] & 0x3))))
			return -1;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		out[o++] = (uint8_t)(w >> 16);
		if (!last || pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (!last || pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (int)o;
}

int auth_parse_basic(const char *v, size_t n, char *buf, struct auth_cred *out)
{
	size_t i = 6;

	if (n > AUTH_VALUE_MAX)
		return AUTH_E_LONG;
	if (n < 6 || strncasecmp(v, "basic", 5) != 0 || v[5] != ' ')
		return AUTH_E_SCHEME;
	while (i < n && v[i] == ' ')
		i++;
	int len = auth_b64_decode(v + i, n - i, (uint8_t *)buf, AUTH_CRED_CAP);
	if (len < 0)
		return AUTH_E_BASE64;
	char *colon = memchr(buf, ':', (size_t)len);
	if (!colon)
		return AUTH_E_COLON;
	/* RFC 7617: no control characters in either; a NUL would also cut
	 * the password short on its way to crypt. */
	for (int k = 0; k < len; k++) {
		unsigned char c = (unsigned char)buf[k];
		if (c < 0x20 || c == 0x7f)
			return AUTH_E_CTL;
	}
	*colon = '\0';
	buf[len] = '\0';
	out->user = buf;
	out->user_len = (size_t)(colon - buf);
	out->pass = colon + 1;
	out->pass_len = (size_t)len - out->user_len - 1;
	return 0;
}

const char *auth_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case AUTH_E_SCHEME: return "not Basic";
	case AUTH_E_BASE64: return "bad base64";
	case AUTH_E_COLON: return "no ':' between user and password";
	case AUTH_E_LONG: return "over 1 KiB";
	case AUTH_E_CTL: return "control byte in user or password";
	default: return "unknown";
	}
}

/* ---- hash formats ------------------------------------------------------ */

/* crypt(3)'s base64 alphabet. */
static bool c64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* s[0..n) has at least min crypt64 characters up to the next '$' (or the
 * end); their count, or -1. */
static long c64_run(const char *s, size_t n, size_t min)
{
	size_t i = 0;

	while (i < n && s[i] != '$') {
		if (!c64(s[i]))
			return -1;
		i++;
	}
	return i >= min ? (long)i : -1;
}

static bool prefixed(const char *h, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(h, p, k) == 0;
}

/* $2b$NN$ + 22 salt + 31 hash characters. */
static bool bcrypt_ok(const char *h, size_t n)
{
	if (n != 60 || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && c64_run(h + 7, n - 7, 53) == 53;
}

/* $5$[rounds=N$]salt$hash, salt 1..16, hash of hlen characters. */
static bool shacrypt_ok(const char *h, size_t n, size_t hlen)
{
	size_t i = 3;

	if (prefixed(h + i, n - i, "rounds=")) {
		size_t d = 0;
		for (i += 7; i < n && h[i] >= '0' && h[i] <= '9'; i++)
			d++;
		if (d < 1 || d > 9 || i >= n || h[i] != '$')
			return false;
		i++;
	}
	long salt = c64_run(h + i, n - i, 1);
	if (salt < 0 || salt > 16 || i + (size_t)salt >= n)
		return false;
	i += (size_t)salt + 1;
	return n - i == hlen && c64_run(h + i, n - i, hlen) == (long)hlen;
}

/* $y$params$salt$hash, hash of 43 characters. */
static bool yescrypt_ok(const char *h, size_t n)
{
	size_t i = 3;

	for (int part = 0; part < 2; part++) {
		long k = c64_run(h + i, n - i, 1);
		if (k < 0 || i + (size_t)k >= n)
			return false;
		i += (size_t)k + 1;
	}
	return n - i == 43 && c64_run(h + i, n - i, 43) == 43;
}

static const char *check_hash(const char *h, size_t n)
{
	if (n == 0)
		return "no hash after the ':'";
	if (n > AUTH_HASH_MAX)
		return "hash longer than 255 bytes";
	if (prefixed(h, n, "$apr1$"))
		return "Apache MD5 ($apr1$) hashes are refused: use bcrypt (htpasswd -B)";
	if (prefixed(h, n, "$1$"))
		return "MD5-crypt ($1$) hashes are refused: use bcrypt, SHA-crypt or yescrypt";
	if (prefixed(h, n, "{SHA}"))
		return "SHA-1 ({SHA}) hashes are refused: use bcrypt (htpasswd -B)";
	if (prefixed(h, n, "$2a$") || prefixed(h, n, "$2x$"))
		return "bcrypt $2a$/$2x$ hashes are refused: rehash as $2b$ or $2y$";
	if (prefixed(h, n, "$2b$") || prefixed(h, n, "$2y$"))
		return bcrypt_ok(h, n) ? NULL : "malformed bcrypt hash";
	if (prefixed(h, n, "$5$"))
		return shacrypt_ok(h, n, 43) ? NULL : "malformed SHA-256-crypt hash";
	if (prefixed(h, n, "$6$"))
		return shacrypt_ok(h, n, 86) ? NULL : "malformed SHA-512-crypt hash";
	if (prefixed(h, n, "$y$"))
		return yescrypt_ok(h, n) ? NULL : "malformed yescrypt hash";
	if (h[0] != '$')
		return "plain-text and DES-crypt passwords are refused: use bcrypt (htpasswd -B)";
	return "unknown hash type (accepted: $2b$, $2y$, $5$, $6$, $y$)";
}

int auth_parse_line(const char *line, size_t n, struct auth_line *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == n || line[i] == '#')
		return AUTH_LINE_EMPTY;
	out->why = i ? "blank before the user name" : NULL;
	const char *colon = memchr(line, ':', n);
	if (!out->why && !colon)
		out->why = "no ':' between user and hash";
	if (out->why)
		return AUTH_LINE_BAD;
	out->user = line;
	out->user_len = (size_t)(colon - line);
	out->hash = colon + 1;
	out->hash_len = n - out->user_len - 1;
	if (out->user_len == 0)
		out->why = "empty user name";
	else if (out->user_len > AUTH_USER_MAX)
		out->why = "user name longer than 255 bytes";
	for (size_t k = 0; !out->why && k < out->user_len; k++)
		if ((unsigned char)line[k] < 0x20 || line[k] == 0x7f)
			out->why = "control byte in the user name";
	if (!out->why)
		out->why = check_hash(out->hash, out->hash_len);
	return out->why ? AUTH_LINE_BAD : AUTH_LINE_OK;
}

/* ---- the user table ----------------------------------------------------- */

static int name_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int r = memcmp(a, b, la < lb ? la : lb);

	return r ? r : la < lb ? -1 : la > lb;
}

static int user_cmp(const void *x, const void *y)
{
	const struct auth_user *a = x, *b = y;

	return name_cmp(a->name, a->name_len, b->name, b->name_len);
}

void auth_users_free(struct auth_users *u)
{
	if (!u)
		return;
	free(u->v);
	free(u->arena);
	free(u);
}

/* Every line into u->v, strings copied into the arena (len + 2 per line
 * is always enough: each entry is at most its line plus two NULs). */
static int collect(const char *text, size_t len, struct auth_users *u, unsigned *lineno,
		   char *why, size_t cap)
{
	size_t used = 0, alloc = 0;
	char *a = u->arena;

	*lineno = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		struct auth_line ln;

		++*lineno;
		int r = auth_parse_line(text + at, n, &ln);
		at += n + 1;
		if (r == AUTH_LINE_EMPTY)
			continue;
		if (r == AUTH_LINE_BAD) {
			snprintf(why, cap, "%s", ln.why);
			return -1;
		}
		if (used == AUTH_USERS_MAX) {
			snprintf(why, cap, "more than %u users", AUTH_USERS_MAX);
			return -1;
		}
		if (used == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			struct auth_user *v = realloc(u->v, alloc * sizeof(*v));
			if (!v) {
				snprintf(why, cap, "out of memory");
				return -1;
			}
			u->v = v;
		}
		struct auth_user *e = &u->v[used++];
		memcpy(a, ln.user, ln.user_len);
		a[ln.user_len] = '\0';
		e->name = a;
		e->name_len = (uint16_t)ln.user_len;
		a += ln.user_len + 1;
		memcpy(a, ln.hash, ln.hash_len);
		a[ln.hash_len] = '\0';
		e->hash = a;
		e->hash_len = (uint16_t)ln.hash_len;
		a += ln.hash_len + 1;
		e->line = *lineno;
	}
	u->n = (unsigned)used;
	return 0;
}

int auth_users_parse(const char *text, size_t len, struct auth_users **out, unsigned *line,
		     char *why, size_t cap)
{
	struct auth_users *u = calloc(1, sizeof(*u));
	size_t lines = 1;

	*out = NULL;
	*line = 0;
	if (len > AUTH_FILE_MAX) {
		snprintf(why, cap, "larger than %u bytes", AUTH_FILE_MAX);
		free(u);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (u)
		u->arena = malloc(len + 2 * lines);
	if (!u || !u->arena) {
		snprintf(why, cap, "out of memory");
		auth_users_free(u);
		return -1;
	}
	if (collect(text, len, u, line, why, cap)) {
		auth_users_free(u);
		return -1;
	}
	*line = 0;
	if (u->n == 0) {
		snprintf(why, cap, "no users");
		auth_users_free(u);
		return -1;
	}
	qsort(u->v, u->n, sizeof(*u->v), user_cmp);
	for (unsigned i = 1; i < u->n; i++) {
		const struct auth_user *p = &u->v[i - 1], *e = &u->v[i];
		if (user_cmp(p, e) == 0) {
			const struct auth_user *first = p->line < e->line ? p : e;
			const struct auth_user *later = p->line < e->line ? e : p;
			*line = later->line;
			snprintf(why, cap, "user '%.64s' already on line %u", later->name, first->line);
			auth_users_free(u);
			return -1;
		}
	}
	*out = u;
	return 0;
}

const struct auth_user *auth_users_find(const struct auth_users *u, const char *name, size_t n)
{
	size_t lo = 0, hi = u ? u->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct auth_user *e = &u->v[mid];
		int r = name_cmp(name, n, e->name, e->name_len);
		if (r == 0)
			return e;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- realm, challenge, prefixes, comparison ----------------------------- */

bool auth_realm_ok(const char *realm)
{
	size_t n = strlen(realm);

	if (n == 0 || n > AUTH_REALM_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)realm[i] < 0x20 || (unsigned char)realm[i] > 0x7e)
			return false;
	return true;
}

int auth_challenge(char *out, size_t cap, const char *realm)
{
	static const char head[] = "WWW-Authenticate: Basic realm=\"";
	static const char tail[] = "\", charset=\"UTF-8\"\r\n";
	size_t o = sizeof(head) - 1;

	if (cap < o)
		return -ENOSPC;
	memcpy(out, head, o);
	for (const char *p = realm; *p; p++) {
		if (o + 2 >= cap)
			return -ENOSPC;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\'; /* quoted-pair (RFC 9110 §5.6.4) */
		out[o++] = *p;
	}
	if (o + sizeof(tail) > cap)
		return -ENOSPC;
	memcpy(out + o, tail, sizeof(tail)); /* with its NUL */
	return (int)(o + sizeof(tail) - 1);
}

int auth_prefix_normalize(const char *prefix, char *out, size_t cap)
{
	bool trailing;

	return path_normalize(prefix, strlen(prefix), out, cap, &trailing);
}

bool auth_prefix_covers(const char *prefix, size_t plen, const char *path, size_t n)
{
	if (plen == 0)
		return true;
	if (n < plen || memcmp(path, prefix, plen) != 0)
		return false;
	return n == plen || path[plen] == '/';
}

bool auth_ct_equal(const char *a, size_t la, const char *b, size_t lb)
{
	volatile unsigned char d = la != lb;

	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)((i < la ? a[i] : 0) ^ b[i]);
	return d == 0;
}
