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

#define KEYSLOT_COUNT 16384 /* Redis Cluster's slots, 0 to 16383 */

/* CRC16-XMODEM of len bytes at p (crc16("123456789") is 0x31c3). */
uint16_t keyslot_crc16(const void *p, size_t len);

/* The slot of key[0..len), as keyHashSlot. */
unsigned keyslot(const char *key, size_t len);

#endif
