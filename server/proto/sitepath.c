/* sitepath: fallback, error page and clean URL rules. Everything here runs
 * on normalised paths, so "%2e" or "a//b" need no second thought. */
#include "sitepath.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sitepath_normalize(const char *path, char *out, size_t cap)
{
	bool trailing = false;
	size_t n = strlen(path);

	if (n == 0 || path[0] != '/')
		return -EINVAL;
	/* The query and fragment of a URL have no meaning for a file. */
	if (memchr(path, '?', n) || memchr(path, '#', n))
		return -EINVAL;
	int r = path_normalize(path, n, out, cap, &trailing);
	if (r < 0)
		return r;
	return trailing ? -EINVAL : r; /* the root, or "/dir/": not a file */
}

/* "404" -> 404..404, "4xx" -> 400..499 (the x in either case). */
static int parse_code(const char *s, size_t n, unsigned *lo, unsigned *hi)
{
	if (n != 3 || (s[0] != '4' && s[0] != '5'))
		return -EINVAL;
	unsigned base = (unsigned)(s[0] - '0') * 100;
	if ((s[1] | 0x20) == 'x' && (s[2] | 0x20) == 'x') {
		*lo = base;
		*hi = base + 99;
		return 0;
	}
	if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
		return -EINVAL;
	*lo = *hi = base + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	return 0;
}

int sitepath_parse_page(const char *arg, struct sitepath_page *p)
{
	const char *eq = strchr(arg, '=');
	char tmp[4096];

	if (!eq || parse_code(arg, (size_t)(eq - arg), &p->lo, &p->hi))
		return -EINVAL;
	if (sitepath_normalize(eq + 1, tmp, sizeof(tmp)) < 0)
		return -EINVAL;
	p->path = eq + 1;
	p->arg = arg;
	return 0;
}

/* Normalise path into the store at *at; returns it, or NULL. */
static const char *keep(char **at, const char *path)
{
	size_t cap = strlen(path) + 1; /* normalising never lengthens a path */
	int r = sitepath_normalize(path, *at, cap);

	if (r < 0)
		return NULL;
	const char *s = *at;
	*at += r + 1;
	return s;
}

int sitepath_table_init(struct sitepath_table *t, const char *fallback,
			const struct sitepath_page *pages, size_t n)
{
	size_t size = 1;

	memset(t, 0, sizeof(*t));
	if (fallback && !fallback[0])
		fallback = NULL;
	if (fallback)
		size += strlen(fallback) + 1;
	for (size_t i = 0; i < n; i++)
		size += strlen(pages[i].path) + 1;
	t->store = malloc(size);
	if (!t->store)
		return -ENOMEM;
	char *at = t->store;
	if (fallback && !(t->fallback = keep(&at, fallback)))
		goto err;
	/* Groups first, so that exact codes given anywhere override them. */
	for (int exact = 0; exact < 2; exact++) {
		for (size_t i = 0; i < n; i++) {
			const struct sitepath_page *p = &pages[i];
			if ((p->lo == p->hi) != exact)
				continue;
			if (p->lo < SITEPATH_FIRST || p->hi > SITEPATH_LAST || p->lo > p->hi)
				goto err;
			const char *s = keep(&at, p->path);
			if (!s)
				goto err;
			for (unsigned st = p->lo; st <= p->hi; st++)
				t->page[st - SITEPATH_FIRST] = s;
		}
	}
	return 0;
err:
	sitepath_table_free(t);
	return -EINVAL;
}

void sitepath_table_free(struct sitepath_table *t)
{
	free(t->store);
	memset(t, 0, sizeof(*t));
}

const char *sitepath_page_for(const struct sitepath_table *t, int status)
{
	if (status < SITEPATH_FIRST || status > SITEPATH_LAST)
		return NULL;
	return t->page[status - SITEPATH_FIRST];
}

/* Start of the last segment of path[0..n). */
static size_t last_segment(const char *path, size_t n)
{
	size_t i = n;

	while (i > 0 && path[i - 1] != '/')
		i--;
	return i;
}

bool sitepath_has_ext(const char *path, size_t n)
{
	size_t s = last_segment(path, n);

	return n - s > 1 && memchr(path + s + 1, '.', n - s - 1) != NULL;
}

static bool ends_html(const char *path, size_t n)
{
	return n >= 5 && memcmp(path + n - 5, ".html", 5) == 0;
}

bool sitepath_clean_candidate(const char *path, size_t n)
{
	return n > 0 && !ends_html(path, n);
}

int sitepath_clean_url(const char *path, size_t n)
{
	size_t s = last_segment(path, n);

	size_t stem = n - s - 5;

	if (!ends_html(path, n) || n - s <= 5)
		return -1;
	/* "..html": "/dir/.." would name another place. */
	if (stem <= 2 && memcmp(path + s, "..", stem) == 0)
		return -1;
	if (n - s == 10 && memcmp(path + s, "index", 5) == 0)
		return (int)s; /* "docs/index.html" -> "/docs/" */
	return (int)(n - 5);
}
