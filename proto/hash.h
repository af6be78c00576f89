/*
 * hash.h: the small hashes that the server and the clients both use, one
 * copy of each, header-only so that they inline where they run per
 * request (evkv-bench picks every key with splitmix64).
 *
 *   splitmix64 (Steele, Lea and Flood; Vigna's constants): a random
 *   sequence from a 64-bit state, every state giving the next, with a
 *   good spread of bits. Not for secrets.
 *   FNV-1a, 32 bits (Fowler, Noll, Vo): a short name's hash, byte by byte;
 *   hash_fnv1a_32_step is one byte's step, for callers that widen or fold
 *   each byte their own way (nc_hash.c's twemproxy copy, a lowercasing
 *   lookup).
 */
#ifndef EVKV_HASH_H
#define EVKV_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SPLITMIX64_GAMMA UINT64_C(0x9e3779b97f4a7c15) /* 2^64 / the golden ratio, odd */
#define HASH_FNV32_OFFSET     UINT32_C(2166136261)
#define HASH_FNV32_PRIME      UINT32_C(16777619)

/* The next number of the sequence whose state is *state, which it advances. */
static inline uint64_t hash_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += HASH_SPLITMIX64_GAMMA);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* FNV-1a's step: h with one more byte (or widened byte) v. */
static inline uint32_t hash_fnv1a_32_step(uint32_t h, uint32_t v)
{
    return (h ^ v) * HASH_FNV32_PRIME;
}

/* FNV-1a over the bytes p[0..len), read as unsigned. */
static inline uint32_t hash_fnv1a_32(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint32_t h = HASH_FNV32_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = hash_fnv1a_32_step(h, s[i]);
    return h;
}

#endif
