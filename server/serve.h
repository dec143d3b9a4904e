/* serve: from a parsed request to the response it gets (path lookup,
 * index.html, listings, precompressed variants, preconditions, ranges). */
#ifndef RS_SERVE_H
#define RS_SERVE_H

#include "http.h"

struct worker;
struct conn;

/* Start answering req (complete in c's input buffer, head_len set). */
void serve_request(struct worker *w, struct conn *c, const struct http_request *req);

/* Look the scratch path up again as the request's target (a site step in
 * site.c rewrote it). */
void serve_lookup(struct worker *w, struct conn *c);

/* A redirect of `len` bytes (resp_redirect_*) in c's buffer, sent with
 * `status`; len < 0 (it did not fit) answers 414. */
void serve_send_redirect(struct worker *w, struct conn *c, unsigned status, int len);

/* A completion of a statx or open that serve_request started. */
void serve_complete(struct worker *w, struct conn *c, unsigned op, int res);

#endif
