#include "cfile.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool ctrl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Quoted value from s[i] (the opening quote) into out: the index after
 * the closing quote, or a CFILE_E_* code. */
static long quoted(const char *s, size_t n, size_t i, char *out)
{
	size_t o = 0;

	for (i++; i < n; i++) {
		if (s[i] == '"') {
			out[o] = '\0';
			return (long)i + 1;
		}
		if (s[i] == '\\') {
			if (i + 1 == n)
				return CFILE_E_QUOTE;
			if (s[i + 1] != '"' && s[i + 1] != '\\')
				return CFILE_E_ESCAPE;
			i++;
		}
		out[o++] = s[i];
	}
	return CFILE_E_QUOTE;
}

int cfile_parse_line(const char *s, size_t n, char *buf, struct cfile_entry *e)
{
	size_t i = 0, start, end;

	if (n && s[n - 1] == '\r')
		n--;
	for (size_t k = 0; k < n; k++)
		if (ctrl((unsigned char)s[k]))
			return CFILE_E_CTRL;
	while (i < n && blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return CFILE_EMPTY;
	if (s[i] == '-' && i + 1 < n && s[i + 1] == '-')
		return CFILE_E_DASHES;
	start = i;
	while (i < n && !blank(s[i]) && s[i] != '=')
		if (!name_char(s[i++]))
			return CFILE_E_NAME;
	if (i == start || s[start] == '-')
		return CFILE_E_NAME;
	memcpy(buf, s + start, i - start);
	buf[i - start] = '\0';
	e->name = buf;
	e->value = NULL;
	buf += i - start + 1;
	while (i < n && blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return CFILE_ENTRY; /* a name alone (a comment needs the blank before it) */
	if (s[i] != '=')
		return CFILE_E_NOEQ;
	i++;
	while (i < n && blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return CFILE_E_NOVALUE;
	if (s[i] == '"') {
		long r = quoted(s, n, i, buf);
		if (r < 0)
			return (int)r;
		for (i = (size_t)r; i < n && blank(s[i]); i++)
			;
		if (i < n && s[i] != '#')
			return CFILE_E_TRAILING;
		e->value = buf;
		return CFILE_ENTRY;
	}
	start = i;
	for (end = i; i < n; i++) {
		if (s[i] == '#' && blank(s[i - 1]))
			break;
		if (!blank(s[i]))
			end = i + 1;
	}
	memcpy(buf, s + start, end - start);
	buf[end - start] = '\0';
	e->value = buf;
	return CFILE_ENTRY;
}

const char *cfile_strerror(int code)
{
	switch (code) {
	case CFILE_E_CTRL: return "control character in the line";
	case CFILE_E_DASHES: return "write the option name without the leading '--'";
	case CFILE_E_NAME: return "an option name is lower-case letters, digits and '-'";
	case CFILE_E_NOEQ: return "expected '=' after the option name";
	case CFILE_E_NOVALUE: return "no value after '=' (write \"\" for an empty one)";
	case CFILE_E_QUOTE: return "unterminated quoted value";
	case CFILE_E_ESCAPE: return "in a quoted value only \\\" and \\\\ are escapes";
	case CFILE_E_TRAILING: return "text after the closing quote";
	default: return "syntax error";
	}
}

/* Bare unless that would read back differently: empty, a leading quote or
 * '#', blanks at either end, or a blank then '#' inside. */
static bool needs_quotes(const char *v, size_t n)
{
	if (n == 0 || v[0] == '"' || v[0] == '#' || blank(v[0]) || blank(v[n - 1]))
		return true;
	for (size_t i = 1; i < n; i++)
		if (v[i] == '#' && blank(v[i - 1]))
			return true;
	return false;
}

int cfile_quote(const char *v, char *out, size_t cap)
{
	size_t n = strlen(v), o = 0;

	for (size_t i = 0; i < n; i++)
		if (ctrl((unsigned char)v[i]))
			return -EINVAL;
	if (!needs_quotes(v, n)) {
		if (n + 1 > cap)
			return -ENOSPC;
		memcpy(out, v, n + 1);
		return (int)n;
	}
	if (cap < 3)
		return -ENOSPC;
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		bool esc = v[i] == '"' || v[i] == '\\';
		if (o + esc + 1 + 2 > cap) /* the byte, the closing quote, the NUL */
			return -ENOSPC;
		if (esc)
			out[o++] = '\\';
		out[o++] = v[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return (int)o;
}
