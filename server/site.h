/* site: the site-path steps of a request, wired between serve.c's lookups:
 * clean URLs and the single-page app fallback when the target is missing,
 * the 308 from "about.html" to its clean URL, and error pages for the
 * errors conn_error() answers. The rules are pure (proto/sitepath.c,
 * proto/accept.c); here they pick the path the scratch looks up next.
 *
 * Flags on the connection say which step a lookup belongs to:
 * CF_CLEAN (PATH.html), CF_FALLBACK (--fallback), CF_ERRPAGE (a page of
 * --error-page); CF_REDIRECT marks a file to redirect once it is proven
 * confined, CF_PROBE the open that proves a miss confined before the
 * fallback answers it. serve_request() clears them for every request. */
#ifndef RS_SITE_H
#define RS_SITE_H

#include <stdbool.h>

struct worker;
struct conn;
struct resp_opts;

/* The target's lookup gave res (0 or -errno; its statx in the scratch):
 * true when a site step took the request over (another lookup was
 * started, or the error was answered), false to go on as serve.c does.
 * May set CF_REDIRECT on a file found under its ".html" name. */
bool site_target(struct worker *w, struct conn *c, int res);

/* The confined O_PATH open of a missing target (OP_OPEN with CF_PROBE)
 * completed with res: the fallback, or the error a symlink out of ROOT
 * (or a refused path) gets. */
void site_probed(struct worker *w, struct conn *c, int res);

/* The 308 to the clean URL of the file in the scratch path (the file was
 * opened: it lies inside ROOT). */
void site_redirect(struct worker *w, struct conn *c);

/* conn_error()'s hook, c's response buffer taken: true when the page
 * --error-page names for *status is being looked up instead, to be sent
 * with that status and *extra (both saved in the scratch). When the page
 * then fails, conn_error() is called again and this puts the original
 * *status and *extra back for the built-in body. Requests that did not
 * parse (c->head_len == 0) always get the built-in body. */
bool site_error_page(struct worker *w, struct conn *c, int *status, const char **extra);

/* Header settings for a fallback response: base with
 * "Cache-Control: no-cache" (the app's shell must be revalidated), in tmp. */
const struct resp_opts *site_fallback_opts(const struct resp_opts *base, struct resp_opts *tmp);

#endif
