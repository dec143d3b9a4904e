/* peer: the socket's peer, the PROXY header's client, the forwarded client. */
#include "peer.h"
#include "conn.h"
#include "proxy.h"
#include "realip.h"
#include "worker.h"

#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An IPv4 client of a dual-stack listener (or an IPv4-mapped address in a
 * PROXY header) is kept, and logged, as plain IPv4. */
static void set_v6(struct alog_peer *p, const uint8_t a[16])
{
	memset(p, 0, sizeof(*p));
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		p->family = ALOG_PEER_V4;
		memcpy(p->addr, a + 12, 4);
	} else {
		p->family = ALOG_PEER_V6;
		memcpy(p->addr, a, 16);
	}
}

static void set_v4(struct alog_peer *p, const void *a)
{
	memset(p, 0, sizeof(*p));
	p->family = ALOG_PEER_V4;
	memcpy(p->addr, a, 4);
}

void peer_accepted(struct worker *w, struct conn *c, const struct sockaddr *sa, unsigned lst)
{
	const struct listener *l = &w->srv->listen.l[lst];

	memset(&c->sock_peer, 0, sizeof(c->sock_peer));
	if (sa->sa_family == AF_INET6)
		set_v6(&c->sock_peer, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
	else if (sa->sa_family == AF_INET)
		set_v4(&c->sock_peer, &((const struct sockaddr_in *)sa)->sin_addr);
	else
		c->sock_peer.family = ALOG_PEER_UNIX;
	c->peer = c->sock_peer;
	c->lst = (uint8_t)lst;
	if (l->proxy)
		c->flags |= CF_PROXY;
}

static void proxy_error(struct worker *w, struct conn *c, const char *why)
{
	const struct listener *l = &w->srv->listen.l[c->lst];
	char addr[64];

	stat_add(&w->st.proxy_errors, 1);
	alog_peer_str(&c->sock_peer, addr, sizeof(addr));
	log_limited(&w->warn_proxy, w->now, LOG_WARN, "worker %u: %s on %s from %s: closed",
		    w->id, why, l->name, addr);
}

int peer_proxy_input(struct worker *w, struct conn *c)
{
	struct proxy_hdr h;

	if (!(c->flags & CF_PROXY))
		return 1;
	int n = proxy_parse(conn_in(w, c), c->in_len, w->cfg->max_proxy_header, &h);
	if (n == PROXY_NEED_MORE) {
		if (!(c->flags & CF_EOF) || c->in_len == 0)
			return 0; /* a connection that sent nothing is no error */
		proxy_error(w, c, "PROXY header cut short");
		return -1;
	}
	if (n < 0) {
		proxy_error(w, c, "no valid PROXY header");
		return -1;
	}
	c->flags &= (uint32_t)~CF_PROXY;
	if (h.has_addr && h.family == AF_INET)
		set_v4(&c->sock_peer, h.src);
	else if (h.has_addr && h.family == AF_INET6)
		set_v6(&c->sock_peer, h.src);
	else if (h.has_addr) { /* AF_UNIX */
		memset(&c->sock_peer, 0, sizeof(c->sock_peer));
		c->sock_peer.family = ALOG_PEER_UNIX;
	}
	c->peer = c->sock_peer;
	memmove(conn_in(w, c), conn_in(w, c) + n, c->in_len - (uint32_t)n);
	c->in_len -= (uint32_t)n;
	return 1;
}

bool peer_zc_ok(const struct worker *w, const struct conn *c)
{
	return w->srv->listen.l[c->lst].kind == LK_TCP;
}

void peer_proxy_timeout(struct worker *w, struct conn *c)
{
	if (c->in_len + c->held_count > 0)
		proxy_error(w, c, "PROXY header not complete in time");
}

void peer_request(struct worker *w, struct conn *c, const struct http_request *req)
{
	const struct config *cfg = w->cfg;
	struct realip_walk wk;

	c->peer = c->sock_peer;
	if (!req || !cfg->ntrusted || !realip_match(cfg->trusted, cfg->ntrusted, &c->sock_peer))
		return;
	const char *name = cfg->real_ip_header == REALIP_FORWARDED ? "forwarded" : "x-forwarded-for";
	size_t name_len = strlen(name);
	realip_walk_init(&wk, cfg->trusted, cfg->ntrusted);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct http_header *hd = &req->headers[i];
		if (hd->name.len != name_len || strncasecmp(hd->name.p, name, name_len) != 0)
			continue;
		if (cfg->real_ip_header == REALIP_FORWARDED)
			realip_walk_forwarded(&wk, hd->value.p, hd->value.len);
		else
			realip_walk_xff(&wk, hd->value.p, hd->value.len);
	}
	if (realip_walk_result(&wk, &c->peer))
		stat_add(&w->st.forwarded, 1);
}
