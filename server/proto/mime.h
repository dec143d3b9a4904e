/* mime: file extension -> media type, from /etc/mime.types (Debian's
 * media-types package), with a small built-in table when the file is absent.
 * Loaded once at start; read-only afterwards, so workers share it freely. */
#ifndef RS_MIME_H
#define RS_MIME_H

#include <stddef.h>

struct mime_entry;

struct mime_table {
	struct mime_entry *slots; /* open-addressing hash, power-of-two size */
	size_t nslots;
	size_t count;
	char *strings;            /* one arena holding every string */
	size_t strings_len;
	int builtin;              /* 1 when the built-in fallback was used */
};

#define MIME_DEFAULT "application/octet-stream"

/* Load `file` (NULL means /etc/mime.types). When it cannot be read, the
 * built-in table is loaded instead and -errno of the failure is returned
 * (the table is usable either way). 0 on success. -ENOMEM is the only
 * failure that leaves the table empty. */
int mime_load(struct mime_table *t, const char *file);

/* Media type for the file name or path `name` (len bytes) by its last
 * extension, case-insensitive; MIME_DEFAULT when unknown or none. */
const char *mime_lookup(const struct mime_table *t, const char *name, size_t len);

void mime_free(struct mime_table *t);

#endif
