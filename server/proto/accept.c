/* accept: Accept header matching.
 *
 * A field value is a comma-separated list of media ranges, each with
 * optional ";name=value" parameters; q says how welcome it is, from 0
 * (refused) to 1. Several Accept fields form one list. Nothing is copied:
 * elements are walked in place. */
#include "accept.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

int accept_param_q(const char *p, size_t n)
{
	for (size_t i = 0; i + 2 <= n; i++) {
		if (p[i] != ';')
			continue;
		size_t j = i + 1;
		while (j < n && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j + 2 > n || (p[j] | 0x20) != 'q' || p[j + 1] != '=')
			continue;
		j += 2;
		int q = 0, digits = 0;
		if (j < n && (p[j] == '0' || p[j] == '1'))
			q = (p[j++] - '0') * 1000;
		else
			return -1;
		if (j < n && p[j] == '.') {
			for (j++; j < n && p[j] >= '0' && p[j] <= '9' && digits < 3; j++, digits++)
				q += (p[j] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
		}
		return q > 1000 ? -1 : q;
	}
	return 1000;
}

/* One element of a list: the media range el[0..name) and its parameters
 * el[name..n). */
struct element {
	const char *el;
	size_t name, n;
};

/* Walk the elements of every Accept field; fn returns false to stop. */
static void each_element(const struct http_request *req, bool (*fn)(const struct element *, void *),
			 void *arg)
{
	for (uint32_t h = 0; h < req->nheaders; h++) {
		const struct http_header *hd = &req->headers[h];
		if (hd->name.len != 6 || strncasecmp(hd->name.p, "accept", 6) != 0)
			continue;
		const char *p = hd->value.p, *e = p + hd->value.len;
		while (p < e) {
			while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			struct element x = { p, 0, 0 };
			while (p < e && *p != ',')
				p++;
			x.n = (size_t)(p - x.el);
			while (x.name < x.n && x.el[x.name] != ';' && x.el[x.name] != ' ' &&
			       x.el[x.name] != '\t')
				x.name++;
			if (x.n && !fn(&x, arg))
				return;
		}
	}
}

struct exact {
	const char *type;
	size_t tlen;
	int q;
};

static bool find_exact(const struct element *x, void *arg)
{
	struct exact *m = arg;

	if (x->name != m->tlen || strncasecmp(x->el, m->type, m->tlen) != 0)
		return true;
	m->q = accept_param_q(x->el + x->name, x->n - x->name);
	return false;
}

int accept_q(const struct http_request *req, const char *type)
{
	struct exact m = { type, strlen(type), -1 };

	each_element(req, find_exact, &m);
	return m.q;
}

struct best {
	const char *type;
	size_t tlen, major; /* "text/html": 9 and 4 ("text") */
	int spec;           /* of the best match so far: 3 exact, 2 its family, 1 any, 0 none */
	int q;
};

/* How specifically el[0..n) names m's type: 0 when it does not match. */
static int specificity(const struct best *m, const char *el, size_t n)
{
	if (n == m->tlen && strncasecmp(el, m->type, n) == 0)
		return 3;
	if (n == m->major + 2 && strncasecmp(el, m->type, m->major + 1) == 0 && el[n - 1] == '*')
		return 2;
	if (n == 3 && memcmp(el, "*/*", 3) == 0)
		return 1;
	return 0;
}

static bool find_best(const struct element *x, void *arg)
{
	struct best *m = arg;
	int s = specificity(m, x->el, x->name);
	int q = s ? accept_param_q(x->el + x->name, x->n - x->name) : -1;

	if (q < 0 || s < m->spec)
		return true;
	if (s > m->spec || q > m->q)
		m->q = q;
	m->spec = s;
	return true;
}

int accept_type_q(const struct http_request *req, const char *type)
{
	const char *slash = strchr(type, '/');
	struct best m = { type, strlen(type), slash ? (size_t)(slash - type) : 0, 0, -1 };

	if (!http_find_header(req, "accept"))
		return 1000; /* RFC 9110 §12.5.1: no Accept, any type will do */
	each_element(req, find_best, &m);
	return m.q;
}
