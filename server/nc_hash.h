/*
 * nc_hash.h: the key hashes of twemproxy (nutcracker) 0.5.0, bit for bit,
 * for --shard (shard.c) to pick the keys nutcracker sends to this server.
 *
 * Each is a copy of the arithmetic in twemproxy's src/hashkit/, quirks
 * included: several read the key as `const char *` and widen each byte
 * from a plain char, so a byte above 0x7f counts as negative where char is
 * signed (x86-64, and so Debian's amd64 nutcracker) and as positive where
 * it is unsigned (arm64). They do the same here, on the same platform:
 * what matters is agreeing with the nutcracker built for it.
 */
#ifndef EVKV_NC_HASH_H
#define EVKV_NC_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t (*nc_hash_fn)(const char *key, size_t len);

/* nutcracker's hashes, as its `hash:` key names them, in twemproxy's
 * order (hashkit.h's HASH_CODEC): the one list of their names, from
 * which the kinds, the name table and the function table are made. Each
 * X(KIND, name) is the hash nc_hash_<name>. */
#define NC_HASH_LIST(X)                                                                                                \
    X(ONE_AT_A_TIME, one_at_a_time)                                                                                    \
    X(MD5, md5)                                                                                                        \
    X(CRC16, crc16)                                                                                                    \
    X(CRC32, crc32)                                                                                                    \
    X(CRC32A, crc32a)                                                                                                  \
    X(FNV1_64, fnv1_64)                                                                                                \
    X(FNV1A_64, fnv1a_64) /* nutcracker's default */                                                                   \
    X(FNV1_32, fnv1_32)                                                                                                \
    X(FNV1A_32, fnv1a_32)                                                                                              \
    X(HSIEH, hsieh)                                                                                                    \
    X(MURMUR, murmur)                                                                                                  \
    X(JENKINS, jenkins)

/* A hash of NC_HASH_LIST: NC_HASH_FNV1A_64, ... */
typedef enum nc_hash_kind {
#define NC_HASH_KIND(kind, name) NC_HASH_##kind,
    NC_HASH_LIST(NC_HASH_KIND)
#undef NC_HASH_KIND
        NC_HASH_COUNT /* not a hash: how many there are */
} nc_hash_kind;

uint32_t nc_hash_one_at_a_time(const char *key, size_t len);
uint32_t nc_hash_md5(const char *key, size_t len);
uint32_t nc_hash_crc16(const char *key, size_t len);
uint32_t nc_hash_crc32(const char *key, size_t len);
uint32_t nc_hash_crc32a(const char *key, size_t len);
uint32_t nc_hash_fnv1_64(const char *key, size_t len);
uint32_t nc_hash_fnv1a_64(const char *key, size_t len);
uint32_t nc_hash_fnv1_32(const char *key, size_t len);
uint32_t nc_hash_fnv1a_32(const char *key, size_t len);
uint32_t nc_hash_hsieh(const char *key, size_t len);
uint32_t nc_hash_murmur(const char *key, size_t len);
uint32_t nc_hash_jenkins(const char *key, size_t len);

/* A kind's name in nutcracker's config ("fnv1a_64"; static), and its hash. */
const char *nc_hash_name(nc_hash_kind kind);
nc_hash_fn nc_hash_function(nc_hash_kind kind);
/* The kind nutcracker's `hash:` names name: 0 with *kind, or -1. */
int nc_hash_lookup(const char *name, nc_hash_kind *kind);
/* The hash nutcracker's `hash:` names name ("fnv1a_64", ...), or NULL. */
nc_hash_fn nc_hash_by_name(const char *name);
/* Every name, in order: "one_at_a_time, md5, ..., jenkins" (for messages). */
extern const char *const nc_hash_names_text;

/* The MD5 digest of data (RFC 1321), into out. */
void nc_md5(const void *data, size_t len, unsigned char out[16]);

/* ketama's point value: the alignment'th (0 to 3) little-endian word of
 * key's MD5 digest (twemproxy's ketama_hash). */
uint32_t nc_ketama_point(const char *key, size_t len, unsigned alignment);

#endif
