#include "fallback.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} names[] = {
	{ "defer_taskrun", FB_DEFER_TASKRUN },
	{ "coop_taskrun", FB_COOP_TASKRUN },
	{ "pbuf_ring", FB_PBUF_RING },
	{ "send_zc", FB_SEND_ZC },
	{ "cachestat", FB_CACHESTAT },
	{ "dioalign", FB_DIOALIGN },
	{ "ktls", FB_KTLS },
	{ "tls_seal", FB_TLS_SEAL },
	{ "tls_open", FB_TLS_OPEN },
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

const char fallback_names[] = "defer_taskrun,coop_taskrun,pbuf_ring,send_zc,cachestat,dioalign,ktls,tls_seal,tls_open";

int fallback_parse(const char *spec, unsigned *mask, char *bad, size_t badlen)
{
	unsigned m = 0;

	if (!spec || !*spec) {
		*mask = 0;
		return 0;
	}
	for (const char *w = spec;; w++) {
		size_t len = strcspn(w, ",");
		size_t i;

		for (i = 0; i < NNAMES; i++)
			if (strlen(names[i].name) == len && strncmp(names[i].name, w, len) == 0)
				break;
		if (i == NNAMES) {
			/* The word goes into a one-line message: cut and no
			 * control bytes. */
			size_t n = len < badlen - 1 ? len : badlen - 1;
			for (size_t k = 0; k < n; k++)
				bad[k] = (unsigned char)w[k] < 0x20 || w[k] == 0x7f ? '?' : w[k];
			bad[n] = '\0';
			return -EINVAL;
		}
		m |= names[i].bit;
		w += len;
		if (!*w)
			break;
	}
	*mask = m;
	return 0;
}

void fallback_format(unsigned mask, char *out, size_t cap)
{
	size_t n = 0;

	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < NNAMES && cap; i++) {
		if (!(mask & names[i].bit))
			continue;
		int r = snprintf(out + n, cap - n, "%s%s", n ? "," : "", names[i].name);
		if (r < 0 || (size_t)r >= cap - n) {
			out[n] = '\0'; /* whole names only */
			return;
		}
		n += (size_t)r;
	}
}
