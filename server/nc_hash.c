/*
 * nc_hash.c: twemproxy 0.5.0's key hashes (see nc_hash.h). Each function
 * follows the one of the same name in twemproxy's src/hashkit/, with the
 * same integer widths and the same widening of key bytes; the comments say
 * where that departs from the textbook hash.
 */
#include "nc_hash.h"

#include "hash.h"

#include <string.h>

/* twemproxy widens a key byte from a plain char in these places. */
#define CHAR_U32(c) ((uint32_t)(char)(c))
#define CHAR_U64(c) ((uint64_t)(char)(c))

uint32_t nc_hash_one_at_a_time(const char *key, size_t len)
{
    uint32_t value = 0;

    while (len--) {
        value += CHAR_U32(*key++);
        value += value << 10;
        value ^= value >> 6;
    }
    value += value << 3;
    value ^= value >> 11;
    value += value << 15;
    return value;
}

/* MD5, as RFC 1321 defines it. */
static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const unsigned char md5_shift[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const unsigned char *p)
{
    uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3];

    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        unsigned s = md5_shift[(i / 16) * 4 + i % 4];
        uint32_t t = a + f + md5_k[i] + w[g];
        a = d;
        d = c;
        c = b;
        b += (t << s) | (t >> (32 - s));
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void nc_md5(const void *data, size_t len, unsigned char out[16])
{
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    const unsigned char *p = data;
    unsigned char tail[128];
    size_t rest = len % 64, ntail;
    uint64_t bits = (uint64_t)len * 8;

    for (size_t i = 0; i + 64 <= len; i += 64)
        md5_block(h, p + i);
    memset(tail, 0, sizeof(tail));
    memcpy(tail, p + len - rest, rest);
    tail[rest] = 0x80;
    ntail = rest + 1 + 8 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++)
        tail[ntail - 8 + i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < ntail; i += 64)
        md5_block(h, tail + i);
    for (int i = 0; i < 16; i++)
        out[i] = (unsigned char)(h[i / 4] >> (8 * (i % 4)));
}

uint32_t nc_ketama_point(const char *key, size_t len, unsigned alignment)
{
    unsigned char d[16];

    nc_md5(key, len, d);
    return (uint32_t)d[3 + alignment * 4] << 24 | (uint32_t)d[2 + alignment * 4] << 16 |
           (uint32_t)d[1 + alignment * 4] << 8 | d[alignment * 4];
}

uint32_t nc_hash_md5(const char *key, size_t len)
{
    return nc_ketama_point(key, len, 0);
}

/* CRC-16/XMODEM's table entry for byte i (twemproxy's crc16tab). */
static uint32_t crc16_entry(unsigned i)
{
    uint32_t v = (uint32_t)i << 8;
    for (int b = 0; b < 8; b++)
        v = v & 0x8000 ? (v << 1) ^ 0x1021 : v << 1;
    return v & 0xffff;
}

/* CRC-32's (reflected 0xedb88320) table entry for byte i (crc32tab). */
static uint32_t crc32_entry(unsigned i)
{
    uint32_t v = i;
    for (int b = 0; b < 8; b++)
        v = v & 1 ? (v >> 1) ^ 0xedb88320 : v >> 1;
    return v;
}

/* Not CRC-16 itself: twemproxy never cuts the register down to 16 bits,
 * so the bits shifted past them stay in the value returned (its low 16
 * bits are the CRC-16/XMODEM of the key). */
uint32_t nc_hash_crc16(const char *key, size_t len)
{
    uint32_t crc = 0;

    for (size_t x = 0; x < len; x++)
        crc = (crc << 8) ^ crc16_entry(((crc >> 8) ^ (uint32_t)(int)key[x]) & 0xff);
    return crc;
}

/* libmemcached's "crc": 15 bits of the CRC-32. */
uint32_t nc_hash_crc32(const char *key, size_t len)
{
    uint32_t crc = UINT32_MAX;

    for (size_t x = 0; x < len; x++)
        crc = (crc >> 8) ^ crc32_entry((unsigned)((crc ^ CHAR_U64(key[x])) & 0xff));
    return ((~crc) >> 16) & 0x7fff;
}

/* The whole CRC-32. */
uint32_t nc_hash_crc32a(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint32_t crc = ~0U;

    while (len--)
        crc = crc32_entry((crc ^ *p++) & 0xff) ^ (crc >> 8);
    return crc ^ ~0U;
}

#define FNV_64_INIT  UINT64_C(0xcbf29ce484222325)
#define FNV_64_PRIME UINT64_C(0x100000001b3)

uint32_t nc_hash_fnv1_64(const char *key, size_t len)
{
    uint64_t hash = FNV_64_INIT;

    for (size_t x = 0; x < len; x++) {
        hash *= FNV_64_PRIME;
        hash ^= CHAR_U64(key[x]);
    }
    return (uint32_t)hash;
}

/* Not FNV-1a 64: twemproxy runs it in 32 bits, from the 64-bit constants
 * cut down to 32. */
uint32_t nc_hash_fnv1a_64(const char *key, size_t len)
{
    uint32_t hash = (uint32_t)FNV_64_INIT;

    for (size_t x = 0; x < len; x++) {
        hash ^= CHAR_U32(key[x]);
        hash *= (uint32_t)FNV_64_PRIME;
    }
    return hash;
}

uint32_t nc_hash_fnv1_32(const char *key, size_t len)
{
    uint32_t hash = HASH_FNV32_OFFSET;

    for (size_t x = 0; x < len; x++) {
        hash *= HASH_FNV32_PRIME;
        hash ^= CHAR_U32(key[x]);
    }
    return hash;
}

/* FNV-1a (proto/hash.h), each byte widened as twemproxy widens it. */
uint32_t nc_hash_fnv1a_32(const char *key, size_t len)
{
    uint32_t hash = HASH_FNV32_OFFSET;

    for (size_t x = 0; x < len; x++)
        hash = hash_fnv1a_32_step(hash, CHAR_U32(key[x]));
    return hash;
}

#define GET16(d) ((uint32_t)((const unsigned char *)(d))[1] << 8 | (uint32_t)((const unsigned char *)(d))[0])

/* Paul Hsieh's SuperFastHash, but for the third byte of a 3-byte tail,
 * which twemproxy widens from a plain char. */
uint32_t nc_hash_hsieh(const char *key, size_t len)
{
    uint32_t hash = 0, tmp;
    size_t rem;

    if (len == 0 || key == NULL)
        return 0;
    rem = len & 3;
    len >>= 2;
    for (; len > 0; len--) {
        hash += GET16(key);
        tmp = (GET16(key + 2) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        key += 4;
        hash += hash >> 11;
    }
    switch (rem) {
    case 3:
        hash += GET16(key);
        hash ^= hash << 16;
        hash ^= CHAR_U32(key[2]) << 18;
        hash += hash >> 11;
        break;
    case 2:
        hash += GET16(key);
        hash ^= hash << 11;
        hash += hash >> 17;
        break;
    case 1:
        hash += (unsigned char)*key;
        hash ^= hash << 10;
        hash += hash >> 1;
        break;
    default: break;
    }
    hash ^= hash << 3;
    hash += hash >> 5;
    hash ^= hash << 4;
    hash += hash >> 17;
    hash ^= hash << 25;
    hash += hash >> 6;
    return hash;
}

/* MurmurHash2 with libmemcached's seed (0xdeadbeef times the length).
 * twemproxy reads the 4-byte blocks in the machine's byte order: so does
 * the memcpy here. */
uint32_t nc_hash_murmur(const char *key, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = (0xdeadbeef * (uint32_t)len) ^ (uint32_t)len;
    const unsigned char *data = (const unsigned char *)key;

    while (len >= 4) {
        uint32_t k;
        memcpy(&k, data, 4);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
        data += 4;
        len -= 4;
    }
    switch (len) {
    case 3: h ^= (uint32_t)data[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)data[1] << 8;  /* fall through */
    case 1:
        h ^= data[0];
        h *= m;
        break;
    default: break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

/* Bob Jenkins' lookup3 hashlittle, initval 13. twemproxy picks a word,
 * half-word or byte reading by the key's alignment; on a little-endian
 * machine all three give the byte reading's result, used here. */
uint32_t nc_hash_jenkins(const char *key, size_t len)
{
    const unsigned char *k = (const unsigned char *)key;
    uint32_t a, b, c;

    a = b = c = 0xdeadbeef + (uint32_t)len + 13;
    if (len == 0)
        return c;
    while (len > 12) {
        a += k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24;
        b += k[4] | (uint32_t)k[5] << 8 | (uint32_t)k[6] << 16 | (uint32_t)k[7] << 24;
        c += k[8] | (uint32_t)k[9] << 8 | (uint32_t)k[10] << 16 | (uint32_t)k[11] << 24;
        a -= c;
        a ^= ROT(c, 4);
        c += b;
        b -= a;
        b ^= ROT(a, 6);
        a += c;
        c -= b;
        c ^= ROT(b, 8);
        b += a;
        a -= c;
        a ^= ROT(c, 16);
        c += b;
        b -= a;
        b ^= ROT(a, 19);
        a += c;
        c -= b;
        c ^= ROT(b, 4);
        b += a;
        len -= 12;
        k += 12;
    }
    switch (len) {
    case 12: c += (uint32_t)k[11] << 24; /* fall through */
    case 11: c += (uint32_t)k[10] << 16; /* fall through */
    case 10: c += (uint32_t)k[9] << 8;   /* fall through */
    case 9: c += k[8];                   /* fall through */
    case 8: b += (uint32_t)k[7] << 24;   /* fall through */
    case 7: b += (uint32_t)k[6] << 16;   /* fall through */
    case 6: b += (uint32_t)k[5] << 8;    /* fall through */
    case 5: b += k[4];                   /* fall through */
    case 4: a += (uint32_t)k[3] << 24;   /* fall through */
    case 3: a += (uint32_t)k[2] << 16;   /* fall through */
    case 2: a += (uint32_t)k[1] << 8;    /* fall through */
    case 1: a += k[0]; break;
    default: break;
    }
    c ^= b;
    c -= ROT(b, 14);
    a ^= c;
    a -= ROT(c, 11);
    b ^= a;
    b -= ROT(a, 25);
    c ^= b;
    c -= ROT(b, 16);
    a ^= c;
    a -= ROT(c, 4);
    b ^= a;
    b -= ROT(a, 14);
    c ^= b;
    c -= ROT(b, 24);
    return c;
}

#define NC_HASH_NAME(kind, name) #name,
#define NC_HASH_FN(kind, name)   nc_hash_##name,
static const char *const hash_names[NC_HASH_COUNT] = {NC_HASH_LIST(NC_HASH_NAME)};
static const nc_hash_fn hash_fns[NC_HASH_COUNT] = {NC_HASH_LIST(NC_HASH_FN)};
#define NC_HASH_TEXT(kind, name) ", " #name
const char *const nc_hash_names_text = &(NC_HASH_LIST(NC_HASH_TEXT))[2]; /* past the first ", " */

const char *nc_hash_name(nc_hash_kind kind)
{
    return hash_names[kind];
}

nc_hash_fn nc_hash_function(nc_hash_kind kind)
{
    return hash_fns[kind];
}

int nc_hash_lookup(const char *name, nc_hash_kind *kind)
{
    for (int i = 0; i < NC_HASH_COUNT; i++)
        if (strcmp(hash_names[i], name) == 0) {
            *kind = (nc_hash_kind)i;
            return 0;
        }
    return -1;
}

nc_hash_fn nc_hash_by_name(const char *name)
{
    nc_hash_kind kind;
    return nc_hash_lookup(name, &kind) == 0 ? hash_fns[kind] : NULL;
}
