#include "listen.h"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	return 0;
}

static int open_one(struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, zero = 0;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto err;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* "::" serves IPv4 too unless the admin's sysctl says otherwise. */
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)ss, len))
		goto err;
	return fd;
err:;
	int e = -errno;
	close(fd);
	return e;
}

int listen_open(const struct config *cfg, unsigned port, unsigned *bound)
{
	struct sockaddr_storage ss = cfg->bind_addr;
	socklen_t len = cfg->bind_len;
	int fd;

	set_port(&ss, port);
	fd = open_one(&ss, len);
	if (fd == -EAFNOSUPPORT && !cfg->bind_str) {
		/* No IPv6 on this host: all interfaces means all IPv4 ones. */
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		memset(&ss, 0, sizeof(ss));
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		set_port(&ss, port);
		fd = open_one(&ss, sizeof(*in));
	}
	if (fd < 0)
		return fd;
	struct sockaddr_storage got;
	socklen_t glen = sizeof(got);
	getsockname(fd, (struct sockaddr *)&got, &glen);
	*bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
						 : ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

void listen_describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &slen)) {
		snprintf(out, len, "?");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
	}
}
