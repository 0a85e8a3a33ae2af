/*-------------------------------------------------------------------------
 *
 * sha256.h
 *		A small SHA-256 (FIPS 180-4) for agent_guard_lint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGL_SHA256_H
#define AGL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct AglSha256
{
	uint32_t	h[8];
	uint64_t	len;			/* bytes hashed so far */
	uint8_t		buf[64];
	size_t		used;			/* bytes in buf */
} AglSha256;

extern void agl_sha256_init(AglSha256 *s);
extern void agl_sha256_update(AglSha256 *s, const void *data, size_t len);
extern void agl_sha256_final(AglSha256 *s, uint8_t out[32]);
/* Lowercase hex digest of data into hex (65 bytes, NUL-terminated). */
extern void agl_sha256_hex(const void *data, size_t len, char hex[65]);

#endif							/* AGL_SHA256_H */
