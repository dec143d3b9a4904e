/* serve: from a parsed request to the response it gets.
 *
 *   path -> statx (through index.html for directories, or a listing)
 *        -> statx of precompressed sidecars the client accepts, best first
 *        -> preconditions (304/412) -> Range (206/416) -> head
 *        -> openat2 (confined) -> conn_start_body().
 * Every lookup is an SQE; only listings read the directory synchronously
 * (io_uring has no getdents). */
#include "serve.h"
#include "conn.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "accept.h"
#include "authgate.h"
#include "cond.h"
#include "dirlist.h"
#include "hdate.h"
#include "headers.h"
#include "log.h"
#include "path.h"
#include "range.h"
#include "resp.h"
#include "site.h"
#include "tls.h"
#include "https.h"

static int errno_status(int err)
{
	switch (-err) {
	case ENOENT:
	case ENOTDIR:
	case EXDEV:  /* a symlink leaving the root (RESOLVE_BENEATH) */
	case ELOOP:  /* a symlink where none may be followed */
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case ENAMETOOLONG:
		return 414;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	default:
		return 500;
	}
}

/* Any segment starting with '.' (".git/config", "a/.env"). */
static bool has_dot_segment(const char *p)
{
	while (p) {
		if (*p == '.')
			return true;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return false;
}

static size_t head_cap(struct worker *w)
{
	return w->bufs.size - sizeof(struct scratch);
}

static char *buf_of(struct worker *w, struct conn *c)
{
	return rbuf_addr(&w->bufs, c->buf);
}

static void submit_statx(struct worker *w, struct conn *c, struct statx *dst, unsigned op)
{
	struct scratch *sc = conn_scratch(w, c);
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);
	int flags = w->cfg->follow_symlinks == FOLLOW_NEVER ? AT_SYMLINK_NOFOLLOW : 0;

	io_uring_prep_statx(sqe, w->srv->rootfd, sc->path[0] ? sc->path : ".", flags,
			    STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_MTIME, dst);
	conn_tag(w, c, sqe, op);
	c->state = CS_STAT;
}

_Static_assert(FCACHE_ETAG_MAX >= RESP_ETAG_MAX, "cached ETags fit");
_Static_assert(sizeof(((struct fcache_entry *)0)->last_modified) > HDATE_LEN, "dates fit");

static void on_target(struct worker *w, struct conn *c, int res, struct fcache_entry *e);
static void on_sidecar(struct worker *w, struct conn *c, int res, struct fcache_entry *e);

/* What a fresh cache entry knows, in the shape statx would have given. */
static void stx_from_entry(struct statx *st, const struct fcache_entry *e)
{
	st->stx_mode = (uint16_t)(e->kind == FC_DIR ? S_IFDIR | 0755 : S_IFREG | 0644);
	st->stx_size = e->size;
	st->stx_ino = e->ino;
	st->stx_mtime.tv_sec = e->mtime.tv_sec;
	st->stx_mtime.tv_nsec = (uint32_t)e->mtime.tv_nsec;
}

/* Record what statx said about path/coding (files, directories, and for
 * ENOENT/ENOTDIR the fact that nothing is there). */
static struct fcache_entry *remember(struct worker *w, const char *path, unsigned coding,
				     int res, const struct statx *st)
{
	unsigned kind;
	struct timespec mt = { 0, 0 };

	if (res == -ENOENT || res == -ENOTDIR)
		kind = FC_NONE;
	else if (res == 0 && S_ISREG(st->stx_mode))
		kind = FC_FILE;
	else if (res == 0 && S_ISDIR(st->stx_mode) && coding == 0)
		kind = FC_DIR;
	else
		return NULL;
	if (kind != FC_NONE) {
		mt.tv_sec = st->stx_mtime.tv_sec;
		mt.tv_nsec = st->stx_mtime.tv_nsec;
	}
	return fcache_update(&w->fcache, path, strlen(path), coding, kind,
			     kind == FC_NONE ? 0 : st->stx_size, kind == FC_NONE ? 0 : st->stx_ino,
			     mt, w->now);
}

/* The scratch path (as `coding`) into *dst: a fresh cache entry, returned,
 * or NULL and a statx submitted with tag `op`. */
static struct fcache_entry *lookup(struct worker *w, struct conn *c, unsigned coding,
				   struct statx *dst, unsigned op)
{
	const char *path = conn_scratch(w, c)->path;
	bool fresh;
	struct fcache_entry *e = fcache_find(&w->fcache, path, strlen(path), coding, w->now, &fresh);

	stat_add(e && fresh ? &w->st.cache_hits : &w->st.cache_misses, 1);
	if (!e || !fresh) {
		if (!conn_defer(w, c))
			submit_statx(w, c, dst, op);
		return NULL;
	}
	stx_from_entry(dst, e);
	return e;
}

static void lookup_target(struct worker *w, struct conn *c)
{
	struct fcache_entry *e = lookup(w, c, 0, &conn_scratch(w, c)->stx, OP_STATX);

	if (e)
		on_target(w, c, e->kind == FC_NONE ? -ENOENT : 0, e);
}

/* --redirect-https: every request on the HTTP listener gets a 308 to the
 * same path and query on HTTPS, the host from Host (checked: no header
 * can be injected); without a usable Host, 400. */
static void redirect_https(struct worker *w, struct conn *c, const struct http_request *req)
{
	char loc[PATH_CAP + 512];
	int n = https_location(loc, sizeof(loc), req->host.p, req->host.len,
			       listen_tls_port(&w->srv->listen), req->path.p, req->path.len,
			       req->query.p, req->query.len);

	if (n < 0)
		conn_error(w, c, n == -ENOSPC ? 414 : 400, true, NULL);
	else
		conn_error(w, c, 308, false, loc);
}

void serve_lookup(struct worker *w, struct conn *c)
{
	lookup_target(w, c);
}

/* The site rules, in order: OPTIONS/CORS preflight (no credentials
 * needed) -> path normalisation, dotfile rule -> basic auth (before any
 * lookup: nothing about files is revealed before authentication) ->
 * lookup -> on a miss: clean URLs (.html), then SPA fallback -> on an
 * error status: custom error page -> on success: extra headers and CORS
 * headers added to the head. The miss and error-page steps are site.c's,
 * called from on_target() and conn_error(). Before all of them, on the
 * HTTP listener of --redirect-https: the 308 to HTTPS. */
void serve_request(struct worker *w, struct conn *c, const struct http_request *req)
{
	const struct config *cfg = w->cfg;
	struct scratch *sc;

	c->flags &= (uint32_t)~(CF_KEEPALIVE | CF_HEAD | CF_HTTP10 | CF_INDEX | CF_TRAILING |
				CF_CLEAN | CF_FALLBACK | CF_ERRPAGE | CF_REDIRECT | CF_PROBE);
	if (req->keep_alive && cfg->keepalive_timeout > 0 && !w->draining)
		c->flags |= CF_KEEPALIVE;
	if (req->minor == 0)
		c->flags |= CF_HTTP10;
	if (req->method == HTTP_M_HEAD)
		c->flags |= CF_HEAD;
	if (!conn_take_buf(w, c))
		return;
	if (req->has_content_length && req->content_length > cfg->max_header_size) {
		conn_error(w, c, 413, true, NULL);
		return;
	}
	c->discard = req->has_content_length ? req->content_length : 0;
	if (cfg->redirect_https && !c->tls) {
		redirect_https(w, c, req);
		return;
	}
	if (headers_request(w, c, req)) /* CORS verdict; OPTIONS answered */
		return;
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
		conn_error(w, c, req->method == HTTP_M_UNKNOWN ? 501 : 405, false, NULL);
		return;
	}
	if (req->path.len == 0) {
		conn_error(w, c, 400, true, NULL);
		return;
	}
	sc = conn_scratch(w, c);
	bool trailing = false;
	int n = path_normalize(req->path.p, req->path.len, sc->path, PATH_CAP, &trailing);
	if (n < 0) {
		conn_error(w, c, n == -ENAMETOOLONG ? 414 : 400, true, NULL);
		return;
	}
	if (!cfg->dotfiles && has_dot_segment(sc->path)) {
		conn_error(w, c, 404, false, NULL);
		return;
	}
	headers_path(w, c, sc->path, (size_t)n, trailing);
	if (!authgate_check(w, c, req, sc->path, (size_t)n))
		return; /* 401/429/503, or waiting for the password's verification */
	if (trailing)
		c->flags |= CF_TRAILING;
	c->tgt_off = (uint32_t)(req->path.p - conn_in(w, c));
	c->tgt_len = req->path.len;
	c->q_off = req->query.len ? (uint32_t)(req->query.p - conn_in(w, c)) : 0;
	c->q_len = req->query.len;
	c->enc = -1;
	c->enc_n = c->enc_i = 0;
	if (cfg->precompressed) {
		enum cond_coding order[CODING_COUNT];
		c->enc_n = (uint8_t)cond_accept_codings(req, order);
		for (unsigned i = 0; i < c->enc_n; i++)
			c->enc_order[i] = (uint8_t)order[i];
	}
	c->base_len = (uint16_t)n;
	c->fce = NULL;
	lookup_target(w, c);
}

/* ---- directories ---------------------------------------------------- */

void serve_send_redirect(struct worker *w, struct conn *c, unsigned status, int len)
{
	if (len < 0) {
		conn_error(w, c, 414, false, NULL); /* the Location did not fit */
		return;
	}
	conn_set_status(w, c, status, 0);
	conn_send_whole(w, c, (size_t)len);
}

static void redirect_slash(struct worker *w, struct conn *c)
{
	struct resp_conn rc = conn_resp_ctx(w, c);
	char *in = conn_in(w, c);
	int len = resp_redirect_slash(buf_of(w, c), head_cap(w), in + c->tgt_off, c->tgt_len,
				      in + c->q_off, c->q_len,
				      (c->flags & CF_HEAD) != 0, &rc);
	serve_send_redirect(w, c, 301, len);
}

/* "?format=json" among the query's parameters, or an Accept header that
 * prefers application/json (by q) to text/html. */
static bool want_json(struct worker *w, struct conn *c, const struct http_request *req)
{
	const char *q = conn_in(w, c) + c->q_off;
	size_t left = c->q_len;

	while (left > 0) {
		size_t n = 0;
		while (n < left && q[n] != '&')
			n++;
		if (n == 11 && memcmp(q, "format=json", 11) == 0)
			return true;
		q += n + (n < left);
		left -= n + (n < left);
	}
	int json = accept_q(req, "application/json");
	return json > 0 && json > accept_q(req, "text/html");
}

static int read_listing(struct worker *w, const char *rel, struct dirlist *dl)
{
	struct open_how how = w->how;

	memset(dl, 0, sizeof(*dl)); /* the caller frees it on every path */
	how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	int fd = (int)syscall(SYS_openat2, w->srv->rootfd, rel[0] ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return -errno;
	int ret = dirlist_read(fd, dl, w->cfg->listing_max, w->cfg->dotfiles);
	close(fd);
	return ret;
}

static void send_listing(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);
	struct dirlist dl;
	char url[PATH_CAP + 4];

	if (conn_defer(w, c))
		return;
	sc->path[c->base_len] = '\0'; /* drop "/index.html" */
	int ret = read_listing(w, sc->path, &dl);
	if (ret < 0) {
		dirlist_free(&dl);
		conn_error(w, c, errno_status(ret), false, NULL);
		return;
	}
	int ulen = snprintf(url, sizeof(url), "/%s%s", sc->path, sc->path[0] ? "/" : "");
	bool json = want_json(w, c, conn_request(w, c));
	size_t len = 0;
	ret = json ? dirlist_json(&dl, url, (size_t)ulen, &c->heap, &len)
		   : dirlist_html(&dl, url, (size_t)ulen, &c->heap, &len);
	dirlist_free(&dl);
	if (ret < 0 || len > UINT32_MAX) {
		conn_error(w, c, 500, false, NULL);
		return;
	}
	c->heap_len = (uint32_t)len;
	struct resp_conn rc = conn_resp_ctx(w, c);
	int h = resp_generated_head(buf_of(w, c), head_cap(w),
				    json ? "application/json" : "text/html; charset=utf-8", len, &rc);
	if (h < 0) {
		conn_error(w, c, 500, false, NULL);
		return;
	}
	c->send_len = (uint32_t)h;
	conn_set_status(w, c, 200, (size_t)h);
	conn_send_heap(w, c);
}

/* ---- files ------------------------------------------------------------ */

static bool older(const struct statx *a, const struct statx *b)
{
	return a->stx_mtime.tv_sec < b->stx_mtime.tv_sec ||
	       (a->stx_mtime.tv_sec == b->stx_mtime.tv_sec && a->stx_mtime.tv_nsec < b->stx_mtime.tv_nsec);
}

static void try_sidecar(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);

	strcpy(sc->path + c->base_len, cond_coding_suffix((enum cond_coding)c->enc_order[c->enc_i]));
	struct fcache_entry *e = lookup(w, c, 1u + c->enc_order[c->enc_i], &sc->alt, OP_STATX_ALT);
	if (e)
		on_sidecar(w, c, e->kind == FC_NONE ? -ENOENT : 0, e);
}

/* OP_OPEN: the file to send. OP_OPEN_DIR: a directory, opened only to
 * prove it lies inside the root before redirecting to it. */
static void on_open(struct worker *w, struct conn *c, unsigned op, int res);

/* The file is open (proven inside the root): send it, or the 308 to its
 * clean URL (site.c). */
static void opened(struct worker *w, struct conn *c)
{
	if (c->flags & CF_REDIRECT)
		site_redirect(w, c);
	else
		conn_start_body(w, c);
}

static void open_file(struct worker *w, struct conn *c, unsigned op)
{
	struct scratch *sc = conn_scratch(w, c);

	if (op == OP_OPEN && c->fce && c->fce->fd >= 0) {
		c->file = c->fce->fd; /* already open, already proven confined */
		c->flags |= CF_FILE_CACHED;
		opened(w, c);
		return;
	}
	if (conn_defer(w, c))
		return;
	struct io_uring_sqe *sqe = ring_sqe(&w->ring);

	/* An ordinary descriptor: sendfile needs one. */
	io_uring_prep_openat2(sqe, w->srv->rootfd, sc->path[0] ? sc->path : ".",
			      op == OP_OPEN ? &w->how : &w->how_dir);
	conn_tag(w, c, sqe, op);
	c->state = CS_OPEN;
}

/* The target's Content-Type, looked up the first time a head needs it: a
 * 200 from a kept head (resp_tail) never does. */
static const char *target_type(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);

	if (!sc->type)
		sc->type = resp_content_type(mime_lookup(&w->srv->mime, sc->path, c->base_len),
					     w->cfg->charset, sc->ctype, sizeof(sc->ctype));
	return sc->type;
}

/* Range -> the spans to send and what the head says about them; false when
 * the response was answered here (416). */
static bool apply_range(struct worker *w, struct conn *c, const struct http_request *req,
			const struct cond_validators *v, struct resp_body *b)
{
	struct scratch *sc = conn_scratch(w, c);
	const struct http_header *rh = req->method == HTTP_M_GET ? http_find_header(req, "range") : NULL;
	unsigned n = 0;
	char extra[64];

	if (!rh || !cond_if_range(req, v))
		return true;
	switch (range_parse(rh->value.p, rh->value.len, sc->size, sc->spans, w->cfg->max_ranges, &n)) {
	case RANGE_UNSATISFIABLE:
		snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)sc->size);
		conn_error(w, c, 416, false, extra);
		return false;
	case RANGE_OK:
		range_request_order(rh->value.p, rh->value.len, sc->size, sc->spans, n);
		b->status = 206;
		c->off = sc->spans[0].start;
		c->end = sc->spans[0].end;
		c->nparts = (uint8_t)n;
		if (n == 1) {
			b->start = c->off;
			b->end = c->end;
			b->length = c->end - c->off;
		} else {
			b->boundary = w->boundary;
			b->length = range_multipart_length(w->boundary, target_type(w, c), sc->spans,
							   n, sc->size);
		}
		return true;
	default:
		return true;
	}
}

/* A hit on a small file's bytes: head and body leave in one send, with no
 * open and no read (the entry's earlier open proved it confined). */
static bool send_cached(struct worker *w, struct conn *c)
{
	struct fcache_entry *e = c->fce;
	size_t head = c->send_len;

	if (!e || !e->has_data || c->nparts > 1 || w->cfg->transfer != TRANSFER_AUTO)
		return false;
	uint64_t len = c->nparts ? c->end - c->off : 0;
	/* A lone request for a larger body: sendfile copies nothing (not
	 * into a socket OpenSSL encrypts for: there memory is cheaper than
	 * a read). */
	if (len >= w->cfg->sendfile_min && !conn_pipelined(c) && !tls_user(c))
		return false;
	if (head + len > w->bufs.size)
		return false;
	if (len)
		c->spath = SP_CACHE;
	conn_send_mem(w, c, head, e->data + c->off, len, e);
	return true;
}

/* The representation is chosen (the file or a sidecar): preconditions,
 * ranges, head; then open it if a body is to be sent. */
static void decide(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);
	const struct statx *st = c->enc >= 0 ? &sc->alt : &sc->stx;
	const struct http_request *req = conn_request(w, c);
	struct resp_file f = {
		.size = st->stx_size,
		.ino = st->stx_ino,
		.mtime = { st->stx_mtime.tv_sec, st->stx_mtime.tv_nsec },
		.encoding = c->enc >= 0 ? cond_coding_name((enum cond_coding)c->enc) : NULL,
		/* Any file may gain a sidecar: caches must key on the coding. */
		.vary = w->cfg->precompressed != 0,
		.vary_accept = (c->flags & CF_FALLBACK) != 0, /* chosen by Accept */
	};
	char etag[RESP_ETAG_MAX], lm[HDATE_LEN + 1];
	struct fcache_entry *e = c->fce; /* describes st when set */

	/* Validators are formatted once per cached file, not per request. */
	if (e && !e->has_validators) {
		resp_etag(e->etag, &f);
		hdate_format(f.mtime.tv_sec, e->last_modified);
		e->has_validators = true;
	}
	f.etag = e ? e->etag : etag;
	f.last_modified = e ? e->last_modified : lm;
	if (!e) {
		resp_etag(etag, &f);
		hdate_format(f.mtime.tv_sec, lm);
	}
	struct cond_validators v = { f.etag, strlen(f.etag), f.mtime.tv_sec };
	struct resp_body b = { 200, f.size, 0, f.size, NULL };

	sc->size = f.size;
	c->off = 0;
	c->end = f.size;
	c->part = 0;
	c->nparts = f.size ? 1 : 0;
	enum cond_result cr = cond_evaluate(req, &v);
	if (cr == COND_PRECONDITION_FAILED) {
		conn_error(w, c, 412, false, NULL);
		return;
	}
	if (cr == COND_NOT_MODIFIED) {
		b.status = 304;
		c->nparts = 0;
	} else if (!apply_range(w, c, req, &v, &b)) {
		return;
	}
	struct resp_conn rc = conn_resp_ctx(w, c);
	struct resp_opts fallback_opts;
	if (c->flags & CF_FALLBACK)
		rc.opts = site_fallback_opts(rc.opts, &fallback_opts);
	/* A fallback's head differs from the file's own (Vary, options). */
	struct resp_tail *kept = e && !(c->flags & CF_FALLBACK) ? &e->tail : NULL;
	if (!kept || b.status != 200 || !resp_tail_ok(kept, &rc))
		f.type = target_type(w, c);
	int len = resp_file_head_kept(buf_of(w, c), head_cap(w), &f, &b, &rc, kept);
	conn_set_status(w, c, b.status, len > 0 ? (size_t)len : 0);
	if (len >= 0 && b.boundary) {
		int n = range_part_head(buf_of(w, c) + len, head_cap(w) - (size_t)len, w->boundary,
					target_type(w, c), &sc->spans[0], sc->size, 1);
		len = n < 0 ? n : len + n;
	}
	if (len < 0) {
		conn_error(w, c, 500, false, NULL);
		return;
	}
	c->send_len = (uint32_t)len;
	if (c->flags & CF_HEAD)
		c->nparts = 0;
	if (send_cached(w, c))
		return;
	/* Opened even when no body follows (HEAD, 304, empty): statx follows
	 * symlinks anywhere, and only the confined open proves the file is
	 * inside the root before anything about it is told. */
	open_file(w, c, OP_OPEN);
}

/* An error page (site.c): sent with the status it was chosen for and the
 * headers given with it, as it is: no preconditions, no ranges. */
static void send_page(struct worker *w, struct conn *c)
{
	struct scratch *sc = conn_scratch(w, c);
	struct resp_conn rc = conn_resp_ctx(w, c);
	uint64_t size = sc->stx.stx_size;
	int len = resp_page_head(buf_of(w, c), head_cap(w), sc->page_status, target_type(w, c), size,
				 sc->page_extra[0] ? sc->page_extra : NULL, &rc);

	if (len < 0) {
		conn_error(w, c, 500, false, NULL); /* the built-in body, original status */
		return;
	}
	sc->size = size;
	c->off = 0;
	c->end = size;
	c->part = 0;
	c->nparts = size && !(c->flags & CF_HEAD) ? 1 : 0;
	c->send_len = (uint32_t)len;
	conn_set_status(w, c, sc->page_status, (size_t)len);
	if (send_cached(w, c))
		return;
	open_file(w, c, OP_OPEN);
}

/* The target's statx result (e: the cache entry it came from, or NULL
 * when it came from the kernel and is to be remembered). */
static void on_target(struct worker *w, struct conn *c, int res, struct fcache_entry *e)
{
	struct scratch *sc = conn_scratch(w, c);
	const struct statx *st = &sc->stx;

	if (!e)
		e = remember(w, sc->path, 0, res, st);
	if (site_target(w, c, res)) /* clean URLs, fallback, pages */
		return;
	if (res < 0) {
		if ((c->flags & CF_INDEX) && res == -ENOENT) {
			if (w->cfg->listing)
				send_listing(w, c);
			else
				conn_error(w, c, 403, false, NULL);
			return;
		}
		conn_error(w, c, errno_status(res), false, NULL);
		return;
	}
	if (S_ISDIR(st->stx_mode) && !(c->flags & CF_INDEX)) {
		if (!(c->flags & CF_TRAILING)) {
			open_file(w, c, OP_OPEN_DIR);
			return;
		}
		strcpy(sc->path + c->base_len, c->base_len ? "/index.html" : "index.html");
		c->flags |= CF_INDEX;
		lookup_target(w, c);
		return;
	}
	if (!S_ISREG(st->stx_mode)) {
		conn_error(w, c, S_ISDIR(st->stx_mode) ? 403 : 404, false, NULL);
		return;
	}
	if ((c->flags & CF_TRAILING) && !(c->flags & CF_INDEX)) {
		conn_error(w, c, 404, false, NULL); /* "file.txt/" */
		return;
	}
	sc->type = NULL; /* target_type(), when a head needs it */
	c->base_len = (uint16_t)strlen(sc->path);
	if (e) {
		fcache_get(e); /* pinned: sidecar lookups may evict meanwhile */
		c->fce = e;
	}
	if (c->flags & CF_ERRPAGE) {
		send_page(w, c);
		return;
	}
	if (c->flags & CF_REDIRECT) {
		open_file(w, c, OP_OPEN); /* confined before its name is told */
		return;
	}
	if (c->enc_n) {
		try_sidecar(w, c);
		return;
	}
	decide(w, c);
}

/* A sidecar is used when it is a regular file not older than the original
 * (a stale .gz must never hide a newer file). */
static void on_sidecar(struct worker *w, struct conn *c, int res, struct fcache_entry *e)
{
	struct scratch *sc = conn_scratch(w, c);

	if (!e)
		e = remember(w, sc->path, 1u + c->enc_order[c->enc_i], res, &sc->alt);
	if (res == 0 && S_ISREG(sc->alt.stx_mode) && !older(&sc->alt, &sc->stx)) {
		c->enc = (int8_t)c->enc_order[c->enc_i];
		if (c->fce)
			fcache_put(&w->fcache, c->fce); /* the target is not what is sent */
		c->fce = e;
		if (e)
			fcache_get(e);
		decide(w, c);
		return;
	}
	sc->path[c->base_len] = '\0';
	if (++c->enc_i < c->enc_n)
		try_sidecar(w, c);
	else
		decide(w, c);
}

/* Out of descriptors: the request gets 503; say so at most once a
 * second per worker, however many requests hit it. */
static void warn_exhausted(struct worker *w, int res)
{
	if (res == -EMFILE || res == -ENFILE)
		log_limited(&w->warn_open, w->now, LOG_WARN, "worker %u: open: %s (answering 503)",
			    w->id, strerror(-res));
}

static void on_open(struct worker *w, struct conn *c, unsigned op, int res)
{
	warn_exhausted(w, res);
	if (c->flags & CF_PROBE) {
		site_probed(w, c, res);
		return;
	}
	if (res < 0) {
		conn_error(w, c, errno_status(res), false, NULL);
		return;
	}
	c->file = res; /* closed when the response is done, unless the cache keeps it */
	if (op == OP_OPEN && c->fce && c->fce->fd < 0 && !c->fce->dead) {
		c->fce->fd = res;
		c->flags |= CF_FILE_CACHED;
	}
	if (op == OP_OPEN_DIR)
		redirect_slash(w, c);
	else
		opened(w, c);
}

void serve_complete(struct worker *w, struct conn *c, unsigned op, int res)
{
	switch (op) {
	case OP_STATX:
		on_target(w, c, res, NULL);
		break;
	case OP_STATX_ALT:
		on_sidecar(w, c, res, NULL);
		break;
	case OP_OPEN:
	case OP_OPEN_DIR:
		on_open(w, c, op, res);
		break;
	}
}
