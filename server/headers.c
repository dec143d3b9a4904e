/* headers: --header and --cors applied to requests (contract in headers.h). */
#include "headers.h"
#include "conn.h"
#include "worker.h"

#include "cors.h"
#include "hdrs.h"
#include "resp.h"

int headers_setup(struct server *srv, const struct config *cfg)
{
	/* Only -ENOMEM can fail: config.c checked every argument. */
	int r = hdrs_init(&srv->hdrs, cfg->headers, cfg->nheaders);

	if (r == 0)
		r = cors_init(&srv->cors, cfg->cors, cfg->ncors, cfg->cors_max_age);
	return r;
}

void headers_free(struct server *srv)
{
	hdrs_free(&srv->hdrs);
	cors_free(&srv->cors);
}

/* 204 with Allow; a preflight gets its own CORS lines instead of those of
 * an ordinary response. */
static void answer_options(struct worker *w, struct conn *c, bool preflight, int safe)
{
	char lines[1024];
	const char *extra = NULL;
	struct resp_conn rc = conn_resp_ctx(w, c);

	if (preflight) {
		int n = cors_preflight_lines(&w->srv->cors, c->cors, safe, lines, sizeof(lines) - 1);
		if (n > 0) {
			lines[n] = '\0';
			extra = lines;
		}
		rc.cors = NULL;
	}
	int len = resp_options(rbuf_addr(&w->bufs, c->buf), w->bufs.size - sizeof(struct scratch),
			       extra, &rc);
	if (len < 0) {
		conn_error(w, c, 500, false, NULL);
		return;
	}
	conn_set_status(w, c, 204, (size_t)len);
	conn_send_whole(w, c, (size_t)len);
}

bool headers_request(struct worker *w, struct conn *c, const struct http_request *req)
{
	bool preflight;
	int safe;

	c->cors = (uint8_t)cors_request(&w->srv->cors, req, &preflight, &safe);
	if (req->method != HTTP_M_OPTIONS)
		return false;
	answer_options(w, c, preflight, safe);
	return true;
}

void headers_path(struct worker *w, struct conn *c, const char *rel, size_t len, bool trailing)
{
	if (w->srv->hdrs.n)
		c->hdrs_on = hdrs_select(&w->srv->hdrs, rel, len, trailing);
}

void headers_resp(const struct worker *w, const struct conn *c, struct resp_conn *rc)
{
	rc->hdrs = c->hdrs_on ? &w->srv->hdrs : NULL;
	rc->hdrs_on = c->hdrs_on;
	rc->cors = cors_lines(&w->srv->cors, c->cors);
}
