/* site: clean URLs, the single-page app fallback and error pages.
 *
 * Each step rewrites the scratch path and looks it up through serve.c,
 * like the target itself, so the statx, the open-file cache, pipelined
 * deferral and the confined open (RESOLVE_BENEATH, --follow-symlinks) all
 * apply to the pages as to any file. The order, for a GET or HEAD whose
 * path normalised and passed the dotfile rule:
 *
 *   target missing -> PATH.html (--clean-urls) -> --fallback PATH -> 404
 *   target is NAME.html (--clean-urls)         -> 308 to NAME
 *   an error answered for a parsed request     -> its --error-page
 *
 * Only a miss (ENOENT/ENOTDIR) goes on to the next step: a symlink out of
 * ROOT, a forbidden file or a directory answers as it did. */
#include "site.h"
#include "authgate.h"
#include "conn.h"
#include "serve.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "accept.h"
#include "auth.h"
#include "resp.h"
#include "sitepath.h"

/* A 401 keeps its page: the challenge always fits beside it. */
_Static_assert(sizeof(((struct scratch *)0)->page_extra) > AUTH_CHALLENGE_MAX + 2,
	       "WWW-Authenticate fits in page_extra");

static bool is_miss(int res)
{
	return res == -ENOENT || res == -ENOTDIR;
}

/* --clean-urls: look "about" up as "about.html". */
static bool try_clean(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);

	if (!w->cfg->clean_urls || (c->flags & CF_TRAILING) ||
	    !sitepath_clean_candidate(sc->path, c->base_len))
		return false;
	strcpy(sc->path + c->base_len, ".html"); /* the path has room for a suffix */
	c->flags |= CF_CLEAN;
	/* The file sent is NAME.html: an --auth-path naming it protects /NAME
	 * too (the gate repeats safely; false: answered or verifying). */
	if (authgate_check(w, c, conn_request(w, c), sc->path, strlen(sc->path)))
		serve_lookup(w, c);
	return true;
}

static void use_fallback(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);

	strcpy(sc->path, w->srv->site.fallback);
	c->flags = (c->flags | CF_FALLBACK) & (uint32_t)~CF_TRAILING;
	/* A fallback under an --auth-path needs credentials on every route. */
	if (authgate_check(w, c, conn_request(w, c), sc->path, strlen(sc->path)))
		serve_lookup(w, c);
}

/* --fallback: an app route ("/users/42") rather than a missing asset
 * ("/app.js"), from a client that takes HTML.
 *
 * statx follows symlinks anywhere, so its ENOENT may come from beyond a
 * symlink out of ROOT; answering those with the app but existing files
 * there with 404 would tell what exists outside. A confined O_PATH open
 * of the same path says first whether the miss lies inside ROOT (with
 * --follow-symlinks=always nothing is outside). */
static bool try_fallback(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);

	if (!w->srv->site.fallback || sitepath_has_ext(sc->path, c->base_len) ||
	    accept_type_q(conn_request(w, c), "text/html") <= 0)
		return false;
	if (w->cfg->follow_symlinks == FOLLOW_ALWAYS) {
		use_fallback(w, c);
		return true;
	}
	if (conn_defer(w, c))
		return true;
	sc->probe = w->how;
	sc->probe.flags = O_PATH | O_CLOEXEC;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	io_uring_prep_openat2(sqe, w->srv->rootfd, sc->path[0] ? sc->path : ".", &sc->probe);
	conn_tag(w, c, sqe, OP_OPEN);
	c->state = CS_OPEN;
	c->flags |= CF_PROBE;
	return true;
}

void site_probed(struct worker *w, struct conn *c, int res)
{
	c->flags &= (uint32_t)~CF_PROBE;
	/* There now: created since the statx; the app answers, as it would
	 * have a moment ago (a new lookup could meet the cached miss again). */
	if (res >= 0)
		worker_close_fd(w, res);
	if (res >= 0 || is_miss(res)) {
		use_fallback(w, c);
		return;
	}
	/* EXDEV, ELOOP: a symlink out of ROOT or refused, as for files. */
	conn_error(w, c, res == -EMFILE || res == -ENFILE || res == -ENOMEM ? 503
			 : res == -EACCES || res == -EPERM ? 403 : 404, false, NULL);
}

bool site_target(struct worker *w, struct conn *c, int res)
{
	struct scratch *sc = conn_scratch(w, c);
	bool file = res == 0 && S_ISREG(sc->stx.stx_mode);

	if (c->flags & (CF_ERRPAGE | CF_FALLBACK)) {
		if (file)
			return false;
		/* A missing page: the request's own 404 (an error page's
		 * failure: its original status, see site_error_page). */
		conn_error(w, c, 404, false, NULL);
		return true;
	}
	if (c->flags & CF_CLEAN) {
		if (file)
			return false;
		c->flags &= (uint32_t)~CF_CLEAN;
		sc->path[c->base_len] = '\0';
		if (!try_fallback(w, c))
			conn_error(w, c, 404, false, NULL);
		return true;
	}
	if (is_miss(res) && !(c->flags & CF_INDEX))
		return try_clean(w, c) || try_fallback(w, c);
	if (file && w->cfg->clean_urls && !(c->flags & (CF_INDEX | CF_TRAILING)) &&
	    sitepath_clean_url(sc->path, strlen(sc->path)) >= 0)
		c->flags |= CF_REDIRECT;
	return false;
}

void site_redirect(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);
	struct resp_conn rc = conn_resp_ctx(w, c);
	const char *in = conn_in(w, c);
	int keep = sitepath_clean_url(sc->path, strlen(sc->path));
	int len = resp_redirect_path(rbuf_addr(&w->bufs, c->buf), w->bufs.size - sizeof(*sc), 308,
				     sc->path, keep > 0 ? (size_t)keep : 0, in + c->q_off, c->q_len,
				     (c->flags & CF_HEAD) != 0, &rc);
	serve_send_redirect(w, c, 308, len);
}

bool site_error_page(struct worker *w, struct conn *c, int *status, const char **extra)
{
	struct scratch *sc = conn_scratch(w, c);

	if (!c->head_len) {
		/* No request to trust (bad syntax, a timeout): the built-in
		 * body, and no flag left over from an earlier page. */
		c->flags &= (uint32_t)~CF_ERRPAGE;
		return false;
	}
	if (c->flags & CF_ERRPAGE) {
		/* The page failed (missing, not a file, outside ROOT, out of
		 * descriptors): never a page for the page, but the status
		 * and headers it was for, with the built-in body. */
		c->flags &= (uint32_t)~CF_ERRPAGE;
		*status = sc->page_status;
		*extra = sc->page_extra[0] ? sc->page_extra : NULL;
		return false;
	}
	const char *page = sitepath_page_for(&w->srv->site, *status);
	size_t elen = *extra ? strlen(*extra) : 0;
	/* Too many header lines to keep: the built-in body still has them. */
	if (!page || elen >= sizeof(sc->page_extra) || c->file >= 0)
		return false;
	sc->page_status = (uint16_t)*status;
	if (elen)
		memcpy(sc->page_extra, *extra, elen);
	sc->page_extra[elen] = '\0';
	if (c->fce) { /* the target's entry (a 412 or 416 came after it) */
		fcache_put(&w->fcache, c->fce);
		c->fce = NULL;
	}
	c->flags &= (uint32_t)~(CF_INDEX | CF_TRAILING | CF_CLEAN | CF_FALLBACK | CF_REDIRECT |
				CF_PROBE);
	c->flags |= CF_ERRPAGE;
	c->enc = -1; /* the page as it is: no sidecar */
	c->enc_n = 0;
	strcpy(sc->path, page);
	serve_lookup(w, c);
	return true;
}

const struct resp_opts *site_fallback_opts(const struct resp_opts *base, struct resp_opts *tmp)
{
	*tmp = *base;
	tmp->cache_control = "no-cache";
	return tmp;
}
