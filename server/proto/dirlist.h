/* dirlist: directory listings (HTML and JSON) for directories without
 * index.html.
 *
 * Reading a directory has no io_uring opcode, so dirlist_read() uses
 * getdents64 and statx synchronously, bounded by max_entries; a listing is
 * not on the hot path of a file server. Memory is malloc'd per listing and
 * released by dirlist_free(). */
#ifndef RS_DIRLIST_H
#define RS_DIRLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct dirlist_entry {
	const char *name; /* NUL-terminated, inside dirlist.names */
	uint32_t name_len;
	bool is_dir;      /* a directory, or a symlink to one */
	uint64_t size;
	time_t mtime;
};

struct dirlist {
	struct dirlist_entry *entries;
	unsigned count;
	bool truncated;   /* more than max_entries existed */
	char *names;      /* arena for the names */
	size_t names_len, names_cap;
	unsigned cap;
};

/* Read directory `dirfd` (an fd opened O_RDONLY|O_DIRECTORY; not closed
 * here). Skips "." and "..", names starting with '.' unless show_dot, and
 * entries that cannot be stat'ed (vanished, dangling symlinks). Symlinks are
 * stat'ed through (the open of the target is confined anyway). Sorted:
 * directories first, then by name, case-insensitively (ASCII), ties by raw
 * bytes. 0 or -errno (*dl is usable and empty on error). */
int dirlist_read(int dirfd, struct dirlist *dl, unsigned max_entries, bool show_dot);

void dirlist_free(struct dirlist *dl);

/* Render a complete UTF-8 HTML page for URL path `url` (the decoded
 * directory path as the client sees it, starting and ending with '/'):
 * title and heading "Index of <url>" HTML-escaped, a "../" parent link
 * unless url is "/", one row per entry with its link (the name
 * percent-encoded per RFC 3986 path-segment rules, plus "/" for
 * directories), the name HTML-escaped for display (invalid UTF-8 bytes
 * shown as U+FFFD), size (bytes, "-" for directories) and mtime as
 * "YYYY-MM-DD HH:MM" UTC; a small inline stylesheet so it looks tidy; a
 * note when truncated. *out is malloc'd (caller frees), *len set. 0 or
 * -ENOMEM. */
int dirlist_html(const struct dirlist *dl, const char *url, size_t url_len,
		 char **out, size_t *len);

/* The same listing as JSON: {"path": url, "truncated": bool, "entries":
 * [{"name": ..., "type": "dir"|"file", "size": N, "mtime": unix_seconds,
 * "href": percent-encoded link}, ...]} with strings JSON-escaped (control
 * chars as \u00XX, invalid UTF-8 as U+FFFD). 0 or -ENOMEM. */
int dirlist_json(const struct dirlist *dl, const char *url, size_t url_len,
		 char **out, size_t *len);

#endif
