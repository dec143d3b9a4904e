/* siphash: SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit hash.
 *
 * For tables whose keys a client chooses (credentials, addresses): without
 * the random key no one can predict where an entry lands or forge two
 * inputs with the same hash. */
#ifndef RS_SIPHASH_H
#define RS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint64_t key[2], const void *data, size_t len);

#endif
