/*
 * table.c: arena + open-addressing index (see table.h).
 *
 * An entry is [u32 key_len][u32 value_len][key][value] in the arena. A slot
 * holds 0 (empty) or the entry's arena offset + 1 in its low 40 bits and 24
 * bits of the key's hash above them, so most probes that would miss are
 * rejected without touching the arena. Linear probing, load factor <= 1/2.
 *
 * The top 2 bits of value_len hold the value's table_kind, decided once by
 * table_put so that a RESP GET knows without looking whether the value's
 * bytes need unescaping; a lookup masks them off (one AND on the hot path).
 */
#define _GNU_SOURCE /* mremap */
#include "table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wire.h"

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)
#define ENTRY_HDR     8
#define VLEN_BITS     30
#define VLEN_MASK     ((UINT32_C(1) << VLEN_BITS) - 1)

struct table {
    char *arena; /* big_alloc'd */
    size_t arena_len, arena_cap;
    uint64_t *slots; /* big_alloc'd */
    size_t nslots;   /* a power of two */
    size_t count;
};

/* The arena and the index are mapped directly and asked for transparent
 * huge pages: loading a million entries then takes hundreds of page faults
 * instead of tens of thousands (each costly in a virtual machine), and a
 * lookup's random probe into the index misses the TLB far less. A mapping
 * grows in place or moves without a copy (mremap). */
static void *big_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (size >= (2u << 20))
        madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

static void *big_realloc(void *p, size_t old, size_t size)
{
    if (p == NULL)
        return big_alloc(size);
    void *q = mremap(p, old, size, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (size >= (2u << 20))
        madvise(q, size, MADV_HUGEPAGE);
#endif
    return q;
}

static void big_free(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size);
}

static size_t page_round(size_t n)
{
    return (n + 4095) & ~(size_t)4095;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t hash_key(const char *p, size_t n)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)n;
    uint64_t k;
    while (n >= 8) {
        memcpy(&k, p, 8);
        h = (h ^ mix64(k)) * UINT64_C(0x9fb21c651e98df25);
        p += 8;
        n -= 8;
    }
    k = 0;
    memcpy(&k, p, n);
    return mix64(h ^ k);
}

static uint64_t slot_tag(uint64_t hash)
{
    return (hash >> SLOT_OFF_BITS) << SLOT_OFF_BITS;
}

static const char *entry_at(const table *t, uint64_t slot, uint32_t *klen, uint32_t *vlen)
{
    const char *e = t->arena + ((slot & SLOT_OFF_MASK) - 1);
    memcpy(klen, e, 4);
    memcpy(vlen, e + 4, 4);
    return e + ENTRY_HDR;
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t slot_find(const table *t, const char *key, size_t key_len, uint64_t hash)
{
    size_t mask = t->nslots - 1;
    uint64_t tag = slot_tag(hash);
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        uint64_t s = t->slots[i];
        if (s == 0)
            return i;
        if ((s & ~SLOT_OFF_MASK) == tag) {
            uint32_t klen, vlen;
            const char *k = entry_at(t, s, &klen, &vlen);
            if (klen == key_len && memcmp(k, key, key_len) == 0)
                return i;
        }
    }
}

static int index_grow(table *t)
{
    size_t n = t->nslots * 2;
    uint64_t *old = t->slots;
    size_t oldn = t->nslots;
    uint64_t *slots = big_alloc(n * sizeof(*slots)); /* zero-filled */

    if (slots == NULL)
        return -1;
    t->slots = slots;
    t->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i] == 0)
            continue;
        uint32_t klen, vlen;
        const char *k = entry_at(t, old[i], &klen, &vlen);
        uint64_t h = hash_key(k, klen);
        size_t j = (size_t)h & (n - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n - 1);
        slots[j] = old[i];
    }
    big_free(old, oldn * sizeof(*old));
    return 0;
}

table *table_new(size_t expected, size_t expected_bytes)
{
    table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->nslots = 16;
    while (t->nslots / 2 < expected)
        t->nslots *= 2;
    t->slots = big_alloc(t->nslots * sizeof(*t->slots));
    t->arena_cap = page_round(expected_bytes ? expected_bytes : 4096);
    t->arena = big_alloc(t->arena_cap);
    if (t->slots == NULL || t->arena == NULL) {
        table_free(t);
        return NULL;
    }
    return t;
}

void table_trim(table *t)
{
    size_t want = page_round(t->arena_len ? t->arena_len : 1);
    if (want < t->arena_cap) {
        char *a = mremap(t->arena, t->arena_cap, want, 0); /* shrinks in place */
        if (a != MAP_FAILED) {
            t->arena = a;
            t->arena_cap = want;
        }
    }
}

void table_free(table *t)
{
    if (t == NULL)
        return;
    big_free(t->arena, t->arena_cap);
    big_free(t->slots, t->nslots * sizeof(*t->slots));
    free(t);
}

/* What a RESP reply must do with an encoded value (see table_kind). */
static table_kind value_kind(const char *v, size_t n)
{
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return TABLE_JSON;
    return memchr(v + 1, '\\', n - 2) == NULL ? TABLE_STRING_RAW : TABLE_STRING_ESCAPED;
}

int table_put(table *t, const char *key, size_t key_len, const char *value, size_t value_len)
{
    struct iovec v = {(void *)value, value_len};
    return table_put_iov(t, key, key_len, &v, 1);
}

int table_put_iov(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue)
{
    size_t value_len = 0;
    for (int i = 0; i < nvalue; i++)
        value_len += value[i].iov_len;
    if (key_len > UINT32_MAX || value_len > VLEN_MASK)
        return -1;
    uint64_t h = hash_key(key, key_len);
    size_t i = slot_find(t, key, key_len, h);
    if (t->slots[i] != 0)
        return 1;

    size_t need = ENTRY_HDR + key_len + value_len;
    if (t->arena_cap - t->arena_len < need) {
        size_t cap = t->arena_cap ? t->arena_cap : 4096;
        while (cap - t->arena_len < need)
            cap *= 2;
        if (cap > SLOT_OFF_MASK)
            return -1;
        char *a = big_realloc(t->arena, t->arena_cap, cap);
        if (a == NULL)
            return -1;
        t->arena = a;
        t->arena_cap = cap;
    }
    char *e = t->arena + t->arena_len;
    uint32_t kl = (uint32_t)key_len;
    memcpy(e, &kl, 4);
    memcpy(e + ENTRY_HDR, key, key_len);
    char *v = e + ENTRY_HDR + key_len, *p = v;
    for (int k = 0; k < nvalue; k++) {
        memcpy(p, value[k].iov_base, value[k].iov_len);
        p += value[k].iov_len;
    }
    uint32_t vl = (uint32_t)value_len | (uint32_t)value_kind(v, value_len) << VLEN_BITS;
    memcpy(e + 4, &vl, 4);
    t->slots[i] = slot_tag(h) | (uint64_t)(t->arena_len + 1);
    t->arena_len += need;
    t->count++;
    if (t->count * 2 > t->nslots && index_grow(t) != 0)
        return -1;
    return 0;
}

/* Finds key: 1 with *value at its value and *vlen its length word (the
 * length and the kind), or 0. */
static inline int entry_find(const table *t, const char *key, size_t key_len, const char **value, uint32_t *vlen)
{
    size_t i = slot_find(t, key, key_len, hash_key(key, key_len));
    if (t->slots[i] == 0)
        return 0;
    uint32_t klen;
    const char *k = entry_at(t, t->slots[i], &klen, vlen);
    *value = k + klen;
    return 1;
}

int table_lookup(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len)
{
    uint32_t vlen;
    if (!entry_find(t, key, key_len, value, &vlen))
        return 0;
    *value_len = vlen & VLEN_MASK;
    return 1;
}

int table_get(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len, table_kind *kind)
{
    uint32_t vlen;
    if (!entry_find(t, key, key_len, value, &vlen))
        return 0;
    *value_len = vlen & VLEN_MASK;
    *kind = (table_kind)(vlen >> VLEN_BITS);
    return 1;
}

size_t table_slots(const table *t)
{
    return t->nslots;
}

int table_slot_key(const table *t, size_t slot, const char **key, size_t *key_len)
{
    if (slot >= t->nslots || t->slots[slot] == 0)
        return 0;
    uint32_t klen, vlen;
    *key = entry_at(t, t->slots[slot], &klen, &vlen);
    *key_len = klen;
    return 1;
}

int table_random_key(const table *t, uint64_t r, const char **key, size_t *key_len)
{
    if (t->count == 0)
        return 0;
    /* The walk ends: count > 0. */
    for (size_t i = (size_t)r & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
        if (table_slot_key(t, i, key, key_len))
            return 1;
    }
}

size_t table_size(const table *t)
{
    return t->count;
}

size_t table_memory(const table *t)
{
    return sizeof(*t) + t->arena_cap + t->nslots * sizeof(*t->slots);
}

table *table_builtin(void)
{
#define ENTRY(key, value) {key, value},
    static const char *const entries[][2] = {WIRE_BUILTIN_TABLE(ENTRY)};
#undef ENTRY
    table *t = table_new(sizeof(entries) / sizeof(entries[0]), 0);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        if (table_put(t, entries[i][0], strlen(entries[i][0]), entries[i][1], strlen(entries[i][1])) != 0) {
            table_free(t);
            return NULL;
        }
    }
    return t;
}
