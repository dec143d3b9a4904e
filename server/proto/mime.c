/* mime: extension -> media type.
 *
 * The file is read whole into one buffer that then becomes the string arena:
 * tokens are NUL-terminated and lower-cased in place, and the hash slots
 * point into it. Two allocations per load, none per lookup, and the table
 * is immutable once loaded, so workers share it without locks. */
#include "mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIME_FILE "/etc/mime.types"
#define MIME_EXT_MAX 32                 /* longer extensions: MIME_DEFAULT */
#define MIME_FILE_MAX (64u << 20)       /* refuse absurd files */

struct mime_entry {
	const char *ext;   /* lower-case, NUL-terminated; NULL: empty slot */
	const char *type;
	uint32_t hash;
	uint32_t len;
};

/* Used when the system file is missing (minimal containers often lack the
 * media-types package). Types follow IANA registrations. */
static const char *const builtin[][2] = {
	{ "html", "text/html" },          { "htm", "text/html" },
	{ "css", "text/css" },            { "js", "text/javascript" },
	{ "mjs", "text/javascript" },     { "json", "application/json" },
	{ "txt", "text/plain" },          { "xml", "application/xml" },
	{ "svg", "image/svg+xml" },       { "png", "image/png" },
	{ "jpg", "image/jpeg" },          { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },           { "webp", "image/webp" },
	{ "avif", "image/avif" },         { "ico", "image/vnd.microsoft.icon" },
	{ "pdf", "application/pdf" },     { "zip", "application/zip" },
	{ "gz", "application/gzip" },     { "tar", "application/x-tar" },
	{ "mp4", "video/mp4" },           { "webm", "video/webm" },
	{ "mp3", "audio/mpeg" },          { "ogg", "audio/ogg" },
	{ "wav", "audio/wav" },           { "woff", "font/woff" },
	{ "woff2", "font/woff2" },        { "ttf", "font/ttf" },
	{ "otf", "font/otf" },            { "wasm", "application/wasm" },
	{ "md", "text/markdown" },        { "csv", "text/csv" },
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* FNV-1a over the lower-cased bytes: short keys, no seed needed because
 * the keys come from a trusted local file, not from clients. */
static uint32_t hash_ext(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)lower(s[i])) * 16777619u;
	return h;
}

static int alloc_slots(struct mime_table *t, size_t keys)
{
	size_t n = 16;

	while (n < keys * 2)  /* load factor <= 1/2 keeps probes short */
		n <<= 1;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->nslots = n;
	return 0;
}

/* ext must already be lower-case. The first mapping of an extension wins,
 * so the order of the file decides, as with other servers' types files. */
static void insert(struct mime_table *t, const char *ext, size_t len,
		   const char *type)
{
	uint32_t h = hash_ext(ext, len);
	size_t mask = t->nslots - 1, i = h & mask;

	for (; t->slots[i].ext; i = (i + 1) & mask) {
		const struct mime_entry *e = &t->slots[i];

		if (e->hash == h && e->len == len && memcmp(e->ext, ext, len) == 0)
			return;
	}
	t->slots[i] = (struct mime_entry){ ext, type, h, (uint32_t)len };
	t->count++;
}

static int load_builtin(struct mime_table *t)
{
	size_t n = sizeof(builtin) / sizeof(builtin[0]);

	if (alloc_slots(t, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		insert(t, builtin[i][0], strlen(builtin[i][0]), builtin[i][1]);
	t->builtin = 1;
	return 0;
}

/* Whole file into a NUL-terminated heap buffer. Read until EOF rather than
 * trusting st_size, which is 0 for pipes and procfs-like files. */
static int read_all(const char *path, char **out, size_t *outlen)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len + 1 >= cap || !buf) {
			if (buf)
				cap *= 2;
			if (cap > MIME_FILE_MAX) {
				r = -EFBIG;
				goto err;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto err;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
err:
	close(fd);
	free(buf);
	return r;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Upper bound on the number of extensions: the number of tokens. */
static size_t count_tokens(const char *p, size_t len)
{
	size_t n = 0;
	int in = 0;

	for (size_t i = 0; i < len; i++) {
		int sep = is_space(p[i]) || p[i] == '\n';

		n += !sep && !in;
		in = !sep;
	}
	return n;
}

/* Next token on the current line: returns its length and sets *tok, or 0 at
 * the end of the line. *pos is left on the delimiter. '#' starts a comment
 * that runs to the end of the line. */
static size_t next_token(char *buf, size_t len, size_t *pos, char **tok)
{
	size_t i = *pos, start;

	while (i < len && is_space(buf[i]))
		i++;
	if (i < len && buf[i] == '#')
		while (i < len && buf[i] != '\n')
			i++;
	start = i;
	while (i < len && !is_space(buf[i]) && buf[i] != '\n' && buf[i] != '\0')
		i++;
	*pos = i;
	*tok = buf + start;
	return i - start;
}

static void skip_line(const char *buf, size_t len, size_t *pos)
{
	while (*pos < len && buf[*pos] != '\n')
		(*pos)++;
	if (*pos < len)
		(*pos)++;
}

/* Terminate the token in place and tell whether the line continues. When
 * it does not, *pos is left at the start of the next line. A stray NUL
 * ends the useful part of a line. */
static int cut(char *buf, size_t len, size_t *pos)
{
	char d = *pos < len ? buf[*pos] : '\n';

	if (*pos < len)
		buf[(*pos)++] = '\0';
	if (d == '\0')
		skip_line(buf, len, pos);
	return d != '\n' && d != '\0';
}

/* One line "type ext ext ...", consumed through its newline. Lines whose first word is not a type
 * (no '/') are ignored, as are extensions too long to ever be looked up. */
static void parse_line(struct mime_table *t, char *buf, size_t len, size_t *pos)
{
	char *type, *ext;
	size_t n = next_token(buf, len, pos, &type);
	int more;

	if (n == 0 || !memchr(type, '/', n)) {
		skip_line(buf, len, pos);
		return;
	}
	more = cut(buf, len, pos);
	while (more && (n = next_token(buf, len, pos, &ext)) > 0) {
		more = cut(buf, len, pos);
		if (n > MIME_EXT_MAX)
			continue;
		for (size_t i = 0; i < n; i++)
			ext[i] = lower(ext[i]);
		insert(t, ext, n, type);
	}
	if (more)  /* ended on trailing blanks or a comment */
		skip_line(buf, len, pos);
}

static void parse_text(struct mime_table *t, char *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len)
		parse_line(t, buf, len, &pos);
}

/* Takes ownership of buf. */
static int load_text(struct mime_table *t, char *buf, size_t len)
{
	if (alloc_slots(t, count_tokens(buf, len))) {
		free(buf);
		return -ENOMEM;
	}
	t->strings = buf;
	t->strings_len = len + 1;
	parse_text(t, buf, len);
	return 0;
}

int mime_load(struct mime_table *t, const char *file)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	memset(t, 0, sizeof(*t));
	r = read_all(file ? file : MIME_FILE, &buf, &len);
	if (r == 0)
		r = load_text(t, buf, len);
	if (r == 0 && t->count > 0)
		return 0;
	/* A file without a single mapping would make everything
	 * application/octet-stream; treat it like a missing one. */
	if (r == 0)
		r = -ENODATA;
	mime_free(t);
	return load_builtin(t) ? -ENOMEM : r;
}

/* Case-insensitive in ASCII only: strncasecmp() would follow the locale. */
static int same_ext(const char *lc, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lc[i] != lower(s[i]))
			return 0;
	return 1;
}

/* The extension of the last path segment: after its last '.', unless that
 * dot starts the name (".bashrc" has none). NULL when there is none. */
static const char *find_ext(const char *name, size_t len, size_t *elen)
{
	size_t i = len, dot = len;

	while (i > 0 && name[i - 1] != '/') {
		i--;
		if (name[i] == '.' && dot == len)
			dot = i;
	}
	if (dot == len || dot == i)
		return NULL;
	*elen = len - dot - 1;
	return name + dot + 1;
}

const char *mime_lookup(const struct mime_table *t, const char *name, size_t len)
{
	size_t elen = 0, mask, i;
	const char *ext = find_ext(name, len, &elen);
	uint32_t h;

	if (!ext || elen == 0 || elen > MIME_EXT_MAX || t->nslots == 0)
		return MIME_DEFAULT;
	h = hash_ext(ext, elen);
	mask = t->nslots - 1;
	for (i = h & mask; t->slots[i].ext; i = (i + 1) & mask) {
		const struct mime_entry *e = &t->slots[i];

		if (e->hash != h || e->len != elen)
			continue;
		if (same_ext(e->ext, ext, elen))
			return e->type;
	}
	return MIME_DEFAULT;
}

void mime_free(struct mime_table *t)
{
	free(t->slots);
	free(t->strings);
	memset(t, 0, sizeof(*t));
}
