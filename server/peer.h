/* peer: who the client of a connection and of each request is.
 *
 * The hooks conn.c calls where it accepts a connection, takes its first
 * input bytes and parses each request: the socket's peer, replaced by the
 * client a PROXY protocol header names (--proxy-protocol), replaced in
 * turn, per request, by the client a trusted proxy names in
 * X-Forwarded-For or Forwarded (--trusted-proxy). c->peer is the result:
 * the access log and anything that counts per client use it. */
#ifndef RS_PEER_H
#define RS_PEER_H

struct conn;
struct worker;
struct sockaddr;
struct http_request;

/* A connection accepted on listener lst from sa (AF_UNIX: "unix:"). */
void peer_accepted(struct worker *w, struct conn *c, const struct sockaddr *sa, unsigned lst);

/* Input arrived while c waits for its PROXY header: 1 when the header is
 * consumed (the input now starts with the client's own bytes) or none is
 * expected, 0 when more bytes are needed, -1 when the connection must be
 * closed (malformed, missing, too large, or cut short: counted). */
int peer_proxy_input(struct worker *w, struct conn *c);

/* The header timeout struck while c still waited for its PROXY header;
 * the caller closes c. Counted when some bytes had come. */
void peer_proxy_timeout(struct worker *w, struct conn *c);

/* A request head was parsed (req) or refused (NULL): its client is the
 * connection's, or the one a trusted proxy names in req. */
void peer_request(struct worker *w, struct conn *c, const struct http_request *req);

/* May c's socket take SEND_ZC? (Unix sockets refuse it.) */
#include <stdbool.h>
bool peer_zc_ok(const struct worker *w, const struct conn *c);

#endif
