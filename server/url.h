/* url: what a person can open in a browser for a listening address, for
 * the end of the startup line. */
#ifndef RS_URL_H
#define RS_URL_H

#include <stddef.h>
#include <sys/socket.h>

/* For a listener's bound address (getsockname): "http://127.0.0.1:8080/",
 * "http://[::1]:8080/", an IPv6 zone as "%25" (RFC 6874); a wildcard gives
 * the loopback URLs and a note that other hosts use this host's name.
 * Length written, or -ENOSPC or -EAFNOSUPPORT (out is then empty). */
int url_for_listener(const struct sockaddr *sa, socklen_t len, char *out, size_t cap);

#endif
