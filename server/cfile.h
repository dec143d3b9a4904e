/* cfile: the line syntax of the configuration file (--config), pure.
 *
 * One option per line, by its long name without the dashes:
 *
 *     # a comment; blank lines are ignored
 *     port = 8080
 *     cache-control = public, max-age=3600     # comment after a blank
 *     server-header = "my server # 1"          # quotes keep '#' and blanks
 *     charset = ""                             # an empty value
 *     dotfiles                                 # a flag: on
 *     no-pin = false                           # a flag written out
 *
 * Blanks (space, tab) around the name, '=' and the value are dropped. An
 * unquoted value runs to the end of the line or to a '#' that follows a
 * blank; a quoted one takes \" and \\ as its only escapes. Control bytes
 * (other than tab) are refused anywhere; a CR before the LF is dropped.
 * What a name or value means is config.c's business. */
#ifndef RS_CFILE_H
#define RS_CFILE_H

#include <stddef.h>

struct cfile_entry {
	const char *name;  /* NUL-terminated, in the caller's buffer */
	const char *value; /* NUL-terminated, or NULL for a name alone */
};

enum {
	CFILE_EMPTY = 0,  /* blank or comment */
	CFILE_ENTRY = 1,  /* *e filled */
	CFILE_E_CTRL = -1,
	CFILE_E_DASHES = -2,
	CFILE_E_NAME = -3,
	CFILE_E_NOEQ = -4,
	CFILE_E_NOVALUE = -5,
	CFILE_E_QUOTE = -6,
	CFILE_E_ESCAPE = -7,
	CFILE_E_TRAILING = -8,
};

/* Parse one line of len bytes (without its LF). buf has room for len + 2
 * bytes: the name and the value are written there. Returns CFILE_EMPTY,
 * CFILE_ENTRY or a CFILE_E_* code. */
int cfile_parse_line(const char *line, size_t len, char *buf, struct cfile_entry *e);

/* A one-line reason for a CFILE_E_* code. */
const char *cfile_strerror(int code);

/* Write value as cfile_parse_line reads it back: bare when it can be,
 * else quoted. Length written (NUL-terminated), -ENOSPC when out is too
 * small (2 * strlen + 3 always suffices), -EINVAL for a control byte. */
int cfile_quote(const char *value, char *out, size_t cap);

#endif
