/* headers: the --header and --cors site rules on the engine's side.
 *
 * The rules themselves are pure (proto/hdrs.h, proto/cors.h); this module
 * builds them at startup, keeps what they decided for the request being
 * answered in its struct conn (hdrs_on, cors), answers OPTIONS, and hands
 * the decision to every response head through struct resp_conn. */
#ifndef RS_HEADERS_H
#define RS_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct config;
struct worker;
struct conn;
struct http_request;
struct resp_conn;

/* Build srv->hdrs and srv->cors from the (checked) options. 0 or -ENOMEM;
 * headers_free() either way. */
int headers_setup(struct server *srv, const struct config *cfg);
void headers_free(struct server *srv);

/* The CORS verdict for req, before anything about the target is decided
 * (errors carry CORS headers too); and OPTIONS, answered here with 204
 * whatever the target ("*" too), without a lookup, so a preflight never
 * needs credentials. True when the request is answered. */
bool headers_request(struct worker *w, struct conn *c, const struct http_request *req);

/* The --header rules for the normalised path (path_normalize's rel and
 * trailing slash). */
void headers_path(struct worker *w, struct conn *c, const char *rel, size_t len, bool trailing);

/* The site fields of rc for c's response (conn_resp_ctx). */
void headers_resp(const struct worker *w, const struct conn *c, struct resp_conn *rc);

#endif
