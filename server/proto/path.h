/* path: turn the path of a request target into a path relative to the root.
 *
 * Percent-decoding and dot-segment removal happen here, before the kernel
 * sees the path; openat2(RESOLVE_BENEATH) then confines whatever is left
 * (symlinks). Decoding is done once, so "%252e" stays the literal "%2e". */
#ifndef RS_PATH_H
#define RS_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Decode src[0..len) (an origin-form path starting with '/', no query) into
 * dst, NUL-terminated, relative to the root: no leading '/', repeated '/'
 * merged, "." and ".." segments removed ("%2e", "%2E", "%2f" are decoded
 * first, so they count as dots and slashes). The root itself is "".
 * *trailing_slash is set when the decoded path ends in '/' or is the root.
 *
 * Returns the length of dst, or
 *   -EINVAL        src does not start with '/', malformed %-escape,
 *                  a decoded NUL or control byte (< 0x20, 0x7f),
 *                  or ".." that would climb above the root;
 *   -ENAMETOOLONG  the result (with its NUL) does not fit in cap.
 * A backslash is an ordinary byte (Linux file names may hold one). */
int path_normalize(const char *src, size_t len, char *dst, size_t cap,
		   bool *trailing_slash);

#endif
