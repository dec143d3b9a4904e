/* https: first-byte sniffing, the plain 400, redirect targets, HSTS. */
#include "https.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int https_sniff(const unsigned char *p, size_t n)
{
	if (n == 0)
		return HTTPS_MORE;
	if (p[0] == 0x16) /* TLS record type: handshake */
		return HTTPS_TLS;
	if (p[0] >= 'A' && p[0] <= 'Z')
		return HTTPS_PLAIN;
	return HTTPS_GARBAGE;
}

int https_plain_400(char *out, size_t cap)
{
	static const char body[] = "400 Bad Request: this port speaks HTTPS; use https://\n";
	int n = snprintf(out, cap,
			 "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 sizeof(body) - 1, body);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

int https_host(const char *h, size_t n, char *out, size_t cap)
{
	size_t end;

	if (n == 0)
		return -EINVAL;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', n);
		if (!rb || rb == h + 1)
			return -EINVAL;
		end = (size_t)(rb - h) + 1;
		for (size_t i = 1; i + 1 < end; i++)
			if (!v6_char(h[i]))
				return -EINVAL;
	} else {
		end = 0;
		while (end < n && h[end] != ':') {
			if (!name_char(h[end]))
				return -EINVAL;
			end++;
		}
		if (end == 0)
			return -EINVAL;
	}
	/* What follows the host can only be ":digits" (or ":" alone). */
	if (end < n) {
		if (h[end] != ':')
			return -EINVAL;
		for (size_t i = end + 1; i < n; i++)
			if (h[i] < '0' || h[i] > '9')
				return -EINVAL;
	}
	if (end + 1 > cap)
		return -ENOSPC;
	for (size_t i = 0; i < end; i++)
		out[i] = (h[i] >= 'A' && h[i] <= 'Z') ? (char)(h[i] | 0x20) : h[i];
	out[end] = '\0';
	return (int)end;
}

int https_location(char *out, size_t cap, const char *host, size_t hlen, unsigned port,
		   const char *path, size_t plen, const char *query, size_t qlen)
{
	char h[256], p[8] = "";

	int r = https_host(host, hlen, h, sizeof(h));
	if (r < 0)
		return r == -ENOSPC ? -EINVAL : r;
	if (port != 443)
		snprintf(p, sizeof(p), ":%u", port & 0xffff);
	if (plen == 0) {
		path = "/";
		plen = 1;
	}
	if (plen > 1u << 20 || qlen > 1u << 20)
		return -ENOSPC;
	int n = snprintf(out, cap, "Location: https://%s%s%.*s%s%.*s\r\n", h, p, (int)plen, path,
			 qlen ? "?" : "", (int)qlen, qlen ? query : "");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int https_hsts(char *out, size_t cap, unsigned seconds)
{
	int n = snprintf(out, cap, "Strict-Transport-Security: max-age=%u\r\n", seconds);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
