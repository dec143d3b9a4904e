/* authgate: the Basic auth step of serve_request, on the worker.
 *
 * For a request under an --auth-path: no or malformed credentials -> 401
 * with the challenge; credentials verified lately by this worker (the
 * keyed-hash cache) -> through at once; a client over --auth-fail-limit
 * -> 429; otherwise the password goes to the pool (authpool.h) and the
 * connection waits in CS_AUTH holding no response buffer. When the result
 * comes back through the ring, the request is parsed and served again
 * from the start, this time with the verdict in c->auth. Pipelined
 * requests behind it wait in the input buffer, so order holds. */
#ifndef RS_AUTHGATE_H
#define RS_AUTHGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authcache.h"

struct worker;
struct conn;
struct http_request;
struct auth_users;

/* c->auth: the verdict on the request being answered. */
enum { AG_NONE = 0, AG_PASS = 1, AG_FAIL = 2 };

#define AUTHGATE_TAKE 64 /* results taken from the outbox at a time */

struct authgate {
	struct authpool *pool;
	const struct auth_users *users; /* the table this worker reads */
	uint32_t gen;                   /* its generation */
	struct authcache cache;
	uint64_t key[2][2];             /* SipHash keys: two halves of a 128-bit key */
	uint32_t idx[AUTHGATE_TAKE];
	struct conn *ready[AUTHGATE_TAKE];
};

/* Worker setup (only when the server has an auth pool): the cache, the
 * keys, and the READ on this worker's eventfd. 0 or -errno. */
int authgate_init(struct worker *w);

/* Worker teardown: no more reads of any table (the pool may free them). */
void authgate_free(struct worker *w);

/* The step itself, path being the normalized request path (n bytes):
 * true to go on with the lookup; false when the request was answered
 * (401, 429, 503), deferred behind a pipelined batch, or now waits for
 * its verification. */
bool authgate_check(struct worker *w, struct conn *c, const struct http_request *req,
		    const char *path, size_t n);

/* OP_AUTH: the eventfd was written (results, or a reload to adopt). */
void authgate_complete(struct worker *w, int res);

/* The user name of c's authenticated request into out (AUTH_USER_MAX + 1
 * bytes, NUL-terminated), for the access log: its length, 0 when none. */
size_t authgate_user(struct worker *w, struct conn *c, char *out);

#endif
