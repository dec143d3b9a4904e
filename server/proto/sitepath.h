/* sitepath: the pure rules behind --fallback, --error-page and --clean-urls.
 *
 * Request paths here are those of path_normalize(): relative to ROOT, no
 * leading '/', "" for the root itself. Configured paths ("/index.html")
 * are normalised the same way once, at startup. */
#ifndef RS_SITEPATH_H
#define RS_SITEPATH_H

#include <stdbool.h>
#include <stddef.h>

#define SITEPATH_FIRST 400 /* error pages exist for the statuses 400..599 */
#define SITEPATH_LAST 599
#define SITEPATH_PAGES_MAX 64 /* --error-page given at most this often */

/* One --error-page CODE=PATH: the statuses lo..hi it covers (one status,
 * or a hundred for "4xx"/"5xx"), PATH as given, and the whole argument. */
struct sitepath_page {
	unsigned lo, hi;
	const char *path;
	const char *arg;
};

/* A PATH under ROOT as the options give it ("/index.html",
 * "/errors/404.html") into out as path_normalize() writes it: it must start
 * with '/', name a file (not end in '/', not be the root) and decode
 * without climbing above ROOT. Length, or -EINVAL / -ENAMETOOLONG. */
int sitepath_normalize(const char *path, char *out, size_t cap);

/* --error-page CODE=PATH: CODE is 400..599 (three digits), "4xx" or "5xx";
 * PATH as sitepath_normalize() takes it. Fills *p (p->path points into
 * arg). 0 or -EINVAL. */
int sitepath_parse_page(const char *arg, struct sitepath_page *p);

/* What the options name, normalised: the fallback and the page of each
 * error status (an exact CODE wins over its group, whatever the order). */
struct sitepath_table {
	const char *fallback;  /* NULL: no fallback */
	const char *page[SITEPATH_LAST - SITEPATH_FIRST + 1];
	char *store;           /* the strings, one allocation */
};

/* Build t from a fallback PATH ("" or NULL: none) and n pages, each
 * already accepted by sitepath_parse_page(). 0, -EINVAL for a path
 * sitepath_normalize() refuses, -ENOMEM. */
int sitepath_table_init(struct sitepath_table *t, const char *fallback,
			const struct sitepath_page *pages, size_t n);
void sitepath_table_free(struct sitepath_table *t);

/* The page for `status`, or NULL (the built-in body). */
const char *sitepath_page_for(const struct sitepath_table *t, int status);

/* The last segment of path[0..n) has a file extension: a '.' after its
 * first byte ("app.js", "v1.2"; not "users", ".config" or the root). */
bool sitepath_has_ext(const char *path, size_t n);

/* --clean-urls: a missing path[0..n) may be served from path + ".html":
 * it is not the root and does not end in ".html" already. */
bool sitepath_clean_candidate(const char *path, size_t n);

/* --clean-urls: a file requested by a name ending in ".html" is redirected
 * to its clean URL, "/" + path[0..k): k for "about.html" is 5 ("/about"),
 * for "docs/index.html" 5 ("/docs/"), for "index.html" 0 ("/"). -1 when
 * the name has no clean URL (no ".html"; ".html", "..html" or "...html",
 * whose stem would be empty or a dot segment). */
int sitepath_clean_url(const char *path, size_t n);

#endif
