/* hdrs: the --header rules, headers a site adds to its responses.
 *
 * A rule is 'Name: value' (every path) or 'GLOB Name: value' (the paths the
 * glob matches; a glob is the first word, and starts with '/'). Rules are
 * parsed and checked once, at startup, into a set holding each rule's
 * finished "Name: value\r\n" line; per request, hdrs_select() picks the
 * rules for the path (one bit each) and hdrs_write() copies their lines
 * into the response head. Nothing is allocated per request.
 *
 * Globs match the decoded, normalised request path ("/a b/x.js" for
 * "/a%20b/./x.js"; a directory as "/dir/"), byte for byte and
 * case-sensitively: '*' matches any run of bytes inside one segment (no
 * '/'), '**' any run across segments, '?' one byte other than '/'; a '**'
 * between two slashes also matches no segment at all (so "/assets/" "**"
 * "/x.js" also matches "/assets/x.js"). Every other byte stands for
 * itself (README.md has examples).
 *
 * When rules of one header name but different globs all match a path, one
 * glob wins: a rule with a glob wins over a rule without, and of two
 * globs the one given later wins (so the narrower one goes last). Rules
 * of one name and one glob (several Link lines) are all sent. */
#ifndef RS_HDRS_H
#define RS_HDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HDRS_MAX 64          /* rules: one bit each in a uint64_t */
#define HDRS_SPEC_MAX 4096   /* bytes of one --header argument */
#define HDRS_GLOB_MAX 256    /* bytes of a glob */
#define HDRS_TEXT_MAX 8192   /* every rule's line together: a head must fit a buffer */

/* Built-in headers a rule's name replaces: the head leaves its own out. */
enum {
	HDRS_R_SERVER = 1u << 0,
	HDRS_R_CACHE_CONTROL = 1u << 1,
	HDRS_R_NOSNIFF = 1u << 2, /* X-Content-Type-Options */
};

/* One argument, parsed: spans into it. */
struct hdrs_spec {
	const char *glob;   /* NULL: every path */
	size_t glob_len;
	const char *name;
	size_t name_len;
	const char *value;  /* leading and trailing blanks dropped */
	size_t value_len;
	unsigned replaces;  /* HDRS_R_* */
};

/* Parse and check one --header argument. Refused (-EINVAL, *why set to a
 * short reason): a name that is not an RFC 9110 token or is not followed
 * by ':', an empty value, control bytes (CR, LF, NUL...) in the value or
 * the glob, a glob over HDRS_GLOB_MAX bytes, an argument over
 * HDRS_SPEC_MAX bytes, and the names whose value ringserve computes for
 * each response (Content-Length, Content-Type, ETag, Vary, Connection...,
 * and Access-Control-*, which come from --cors). */
int hdrs_parse(const char *arg, struct hdrs_spec *out, const char **why);

/* s[0..n) is a non-empty RFC 9110 token. */
bool hdrs_is_token(const char *s, size_t n);

/* Does path[0..plen) match glob[0..glen)? In O(plen * glen) time, whatever
 * the input (no backtracking). */
bool hdrs_glob_match(const char *glob, size_t glen, const char *path, size_t plen);

struct hdrs_rule {
	const char *glob;    /* into the set's text; NULL: every path */
	uint16_t glob_len;
	const char *line;    /* "Name: value\r\n" */
	uint16_t line_len;
	unsigned replaces;
	uint64_t peers;      /* rules with the same glob (itself included) */
	uint64_t shadow;     /* rules of the same name that win over this one */
};

struct hdrs_set {
	struct hdrs_rule rule[HDRS_MAX];
	unsigned n;
	char *text;          /* the lines and globs, one allocation */
};

/* Build the set from n arguments (each passed hdrs_parse). 0, -EINVAL
 * (a bad argument, or more than HDRS_MAX), -E2BIG (the lines add up to
 * more than HDRS_TEXT_MAX), -ENOMEM. An empty set needs no hdrs_free but
 * takes it. */
int hdrs_init(struct hdrs_set *set, const char *const *args, unsigned n);
void hdrs_free(struct hdrs_set *set);

/* Bytes of "Name: value\r\n" for a parsed argument. */
size_t hdrs_line_len(const struct hdrs_spec *s);

/* The rules that apply to the root-relative path rel[0..len) (as
 * path_normalize gives it: "" for the root, no leading '/'), matched as
 * "/" + rel, + "/" when `trailing` and rel is not the root. */
uint64_t hdrs_select(const struct hdrs_set *set, const char *rel, size_t len, bool trailing);

/* HDRS_R_* of the selected rules. */
unsigned hdrs_replaces(const struct hdrs_set *set, uint64_t on);

/* The selected rules' lines, in the order given, into out. Bytes written
 * or -ENOSPC (nothing is then guaranteed about out). */
int hdrs_write(const struct hdrs_set *set, uint64_t on, char *out, size_t cap);

#endif
