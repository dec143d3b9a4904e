/* fallback: RINGSERVE_DISABLE, a testing aid. It makes ringserve behave as
 * on a kernel without the named features, so that every fallback the
 * startup line can name runs (and is tested) on any machine:
 *
 *   RINGSERVE_DISABLE=defer_taskrun,cachestat ringserve ...
 *
 * main reads it once at start; the startup line repeats it so a run under
 * it is never mistaken for the kernel's own answer. */
#ifndef RS_FALLBACK_H
#define RS_FALLBACK_H

#include <stddef.h>

enum fallback_bit {
	FB_DEFER_TASKRUN = 1u << 0, /* ring without DEFER_TASKRUN: COOP_TASKRUN */
	FB_COOP_TASKRUN = 1u << 1,  /* ... nor COOP_TASKRUN: a plain ring */
	FB_PBUF_RING = 1u << 2,     /* no provided buffer ring: plain receives */
	FB_SEND_ZC = 1u << 3,       /* IORING_OP_SEND_ZC reported missing */
	FB_CACHESTAT = 1u << 4,     /* residency through mincore(2) */
	FB_DIOALIGN = 1u << 5,      /* statx without STATX_DIOALIGN */
	FB_KTLS = 1u << 6,          /* no kernel TLS: HTTPS encrypted in user space */
	FB_TLS_SEAL = 1u << 7,      /* user-space records written by OpenSSL, not stls */
	FB_TLS_OPEN = 1u << 8,      /* TLS 1.3 records read by SSL_read, not opened by stls */
};

/* Every accepted name, comma-separated, for --help and errors. */
extern const char fallback_names[];

/* A comma-separated list of names (empty: none) into a mask. 0, or
 * -EINVAL with the first unknown or empty word copied into bad. */
int fallback_parse(const char *spec, unsigned *mask, char *bad, size_t badlen);

/* The names in mask, comma-separated, in fallback_names order. */
void fallback_format(unsigned mask, char *out, size_t cap);

#endif
