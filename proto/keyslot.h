/*
 * keyslot.h: Redis Cluster's hash slot of a key, for the server (which
 * keeps only its slots' keys, and answers -MOVED for the others) and the
 * clients (which route a key to its slot's node).
 *
 * A key's slot is CRC16 (the XMODEM variant: polynomial 0x1021, initial 0,
 * no reflection) of the key, modulo 16384, as Redis's cluster.c
 * keyHashSlot computes it: when the key holds a '{' and, after it, a '}'
 * with at least one byte between them, only those bytes (the hash tag)
 * are hashed, so that "{user1}.a" and "{user1}.b" share a slot. "{}" (an
 * empty tag) or a '{' with no '}' after it hashes the whole key.
 */
#ifndef EVKV_KEYSLOT_H
#define EVKV_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KEYSLOT_COUNT 16384 /* Redis Cluster's slots, 0 to 16383 */

/* CRC16-XMODEM of len bytes at p (crc16("123456789") is 0x31c3). */
uint16_t keyslot_crc16(const void *p, size_t len);

/* CRC16-XMODEM by tables, for the inline keyslot below (keyslot.c):
 * entry [k][b] is the CRC of the byte b followed by k zero bytes. */
extern uint16_t keyslot_slices[8][256];

static inline uint16_t keyslot_crc16_step(uint16_t crc, unsigned char byte)
{
    return (uint16_t)((crc << 8) ^ keyslot_slices[0][((crc >> 8) ^ byte) & 0xff]);
}

/* Eight bytes at b folded into crc with eight lookups (slicing by 8). */
static inline uint16_t keyslot_crc16_eight(uint16_t crc, const unsigned char *b)
{
    return keyslot_slices[7][b[0] ^ (crc >> 8)] ^ keyslot_slices[6][b[1] ^ (crc & 0xff)] ^ keyslot_slices[5][b[2]] ^
           keyslot_slices[4][b[3]] ^ keyslot_slices[3][b[4]] ^ keyslot_slices[2][b[5]] ^ keyslot_slices[1][b[6]] ^
           keyslot_slices[0][b[7]];
}

/* Whether any of the eight bytes at b is a '{' (the classic test for a
 * zero byte, on the bytes xor '{'). */
static inline int keyslot_has_brace(const unsigned char *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    v ^= 0x7b7b7b7b7b7b7b7bULL;
    return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
}

/* keyslot's rest once key[open] is found to be its first '{', crc being
 * the CRC of the bytes before it (keyslot.c). */
unsigned keyslot_tagged(const char *key, size_t len, size_t open, uint16_t crc);

/* The slot of key[0..len), as keyHashSlot. Inline, as a cluster node
 * hashes every request's key: one pass for the usual key, with no '{',
 * its CRC computed as it is read. */
static inline unsigned keyslot(const char *key, size_t len)
{
    const unsigned char *b = (const unsigned char *)key;
    uint16_t crc = 0;
    size_t i = 0;

    for (; i + 8 <= len && !keyslot_has_brace(b + i); i += 8)
        crc = keyslot_crc16_eight(crc, b + i);
    for (; i < len; i++) {
        if (b[i] == '{')
            return keyslot_tagged(key, len, i, crc);
        crc = keyslot_crc16_step(crc, b[i]);
    }
    return crc & (KEYSLOT_COUNT - 1);
}

#endif
