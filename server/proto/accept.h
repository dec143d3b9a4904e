/* accept: the media ranges of the Accept header (RFC 9110 §12.5.1), for
 * the choices that depend on it: a listing as JSON or HTML, and whether a
 * missing page may be answered with the single-page app's HTML. */
#ifndef RS_ACCEPT_H
#define RS_ACCEPT_H

#include <stddef.h>

#include "http.h"

/* q-value of a "q=..." parameter in p[0..n) (the parameters after a media
 * range), in thousandths; 1000 when there is none, -1 when malformed. */
int accept_param_q(const char *p, size_t n);

/* The q (thousandths) of the first Accept element naming `type` exactly
 * ("application/json"), or -1 when none does. */
int accept_q(const struct http_request *req, const char *type);

/* The q (thousandths) the client gives the media type `type`
 * ("text/html"): that of the most specific range matching it (the type
 * itself, then its family, "text/" and a star, then any type), the highest
 * of equally specific ones; 1000 when the request has no Accept field, -1
 * when no range matches. Elements with a malformed q are ignored. */
int accept_type_q(const struct http_request *req, const char *type);

#endif
