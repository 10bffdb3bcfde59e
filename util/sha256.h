/* SHA-256 (FIPS 180-4), for identities the library computes without a
 * crypto library: the lab's cross build links only cJSON. */
#ifndef CF_SHA256_H
#define CF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CF_SHA256_BYTES 32
#define CF_SHA256_HEX (2 * CF_SHA256_BYTES + 1)

struct cf_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void cf_sha256_init(struct cf_sha256 *s);
void cf_sha256_update(struct cf_sha256 *s, const void *data, size_t len);
/* The digest as 64 lower-case hex digits and a NUL. */
void cf_sha256_hex(struct cf_sha256 *s, char out[CF_SHA256_HEX]);

#endif
