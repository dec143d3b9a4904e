#include "url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int done(int n, char *out, size_t cap)
{
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

int url_for_listener(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN], zone[IF_NAMESIZE + 4] = "";

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		unsigned port = ntohs(a->sin_port);

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			return done(snprintf(out, cap, "http://127.0.0.1:%u/ (all IPv4 interfaces: "
					     "from elsewhere use this host's name or address)", port),
				    out, cap);
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		return done(snprintf(out, cap, "http://%s:%u/", host, port), out, cap);
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		unsigned port = ntohs(a->sin6_port);

		/* "::" with IPV6_V6ONLY off (listen.c) takes IPv4 too. */
		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			return done(snprintf(out, cap, "http://127.0.0.1:%u/ http://[::1]:%u/ (all "
					     "interfaces: from elsewhere use this host's name or "
					     "address)", port, port), out, cap);
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		if (a->sin6_scope_id) {
			char name[IF_NAMESIZE];
			if (if_indextoname(a->sin6_scope_id, name))
				snprintf(zone, sizeof(zone), "%%25%s", name);
			else
				snprintf(zone, sizeof(zone), "%%25%u", (unsigned)a->sin6_scope_id);
		}
		return done(snprintf(out, cap, "http://[%s%s]:%u/", host, zone, port), out, cap);
	}
	if (cap)
		out[0] = '\0';
	return -EAFNOSUPPORT;
}
