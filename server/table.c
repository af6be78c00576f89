/*
 * table.c: arena + open-addressing index (see table.h).
 *
 * An entry is [key_len][value_len << 2 | kind][key][value] in the arena,
 * the two lengths as LEB128 varints (a byte each for a key under 128
 * bytes, two for a value under 8 KiB): three bytes of overhead for a
 * typical entry where two u32s took eight. A slot holds 0 (empty) or the
 * entry's arena offset + 1 in its low 40 bits and 24 bits of the key's
 * hash above them, so most probes that would miss are rejected without
 * touching the arena. Linear probing over any number of slots (a key's
 * first slot is its hash scaled to the index, one multiplication), sized
 * once for the entries expected at a load factor of 2/3: 12 bytes of
 * index per key where a power of two at 1/2 took 16 to 32.
 *
 * The kind (table_kind) is decided once by table_put, so that a RESP GET
 * knows without looking whether the value's bytes need unescaping.
 *
 * Built in place (table_new_in), the arena is the data file's bytes: each
 * entry is written over the part of the file the reader is done with
 * ("the front"), or, while that part is too short for it, after the
 * file's bytes ("the tail", in room mapped for it). table_trim then moves
 * the tail down behind the front and gives back the rest, so that a load
 * needs about the table's own size, not the file's size and the table's.
 * Two threads can build one table in place at once, each from its own
 * stretch of the file (a part: its own front, its own chunks of the
 * room, its own pending slots); they fill the index with compare-and-swap,
 * and table_trim closes the gaps between their fronts and the tail.
 */
#define _GNU_SOURCE /* mremap */
#include "table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wire.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older C libraries do not name it */
#endif

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)
#define PENDING       64                 /* slots fetched ahead while building in place */
#define TAIL_CHUNK    ((size_t)64 << 10) /* the room a part takes at a time */
#define COUNT_CHUNK   4096               /* the most entries a part of two takes of the index at a time */
#define NO_FRONT      SIZE_MAX

/* One builder of a table built in place (table_new_in): the whole file,
 * or one of two parts of it. */
typedef struct part {
    size_t base, front;    /* its entries over the file's bytes: [base, front) (base NO_FRONT: none yet) */
    size_t tail, tail_end; /* its chunk of the room: the next byte, the end */
    size_t count, quota;   /* entries it added; of two parts, how many the index holds room for */
    struct pending {       /* entries written, their slots not yet filled (table_put_at) */
        uint64_t off, hash;
    } pending[PENDING];
    unsigned pending_head, npending; /* the next to fill, and how many */
    char pad[64];                    /* two parts' fields apart */
} part;

struct table {
    char *arena;        /* big_alloc'd, or the data file's bytes (table_new_in) */
    size_t map_len;     /* bytes mapped at arena */
    size_t region;      /* in place: the file's bytes; the tail starts here (0 once trimmed, or copied) */
    size_t tail;        /* not in place: bytes of entries from 0 on */
    int in_place;       /* the arena must not move: the reader holds pointers into it */
    int nparts;         /* in place: 1, or 2 building at once */
    size_t room_used;   /* in place: the room the parts took (atomic: __atomic builtins) */
    size_t index_taken; /* of two parts: the entries the index has given them room for (atomic) */
    uint64_t *slots;    /* big_alloc'd */
    size_t nslots;
    size_t count;
    part parts[2];
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

/* An index is written all over while it is built: its pages are faulted
 * in at once (MADV_POPULATE_WRITE, Linux 5.14) rather than one by one
 * under the build's random stores, where each first touch of a huge page
 * maps the shared zero page and then copies it on write (a quarter of a
 * 10M-key load's time went there). Where the kernel cannot, the pages come
 * as they are touched. */
static uint64_t *index_alloc(size_t nslots)
{
    size_t size = nslots * sizeof(uint64_t);
    uint64_t *slots = big_alloc(size);
    if (slots != NULL && size >= (2u << 20))
        (void)madvise(slots, size, MADV_POPULATE_WRITE);
    return slots;
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

/* The key's first slot: the hash's low 40 bits (not the tag's) as a
 * fraction of the index. */
static inline size_t slot_home(size_t nslots, uint64_t hash)
{
    return (size_t)(((unsigned __int128)(hash << (64 - SLOT_OFF_BITS)) * nslots) >> 64);
}

/* The rest of a varint whose first byte was v (>= 0x80). */
static const unsigned char *varint_rest(const unsigned char *p, uint64_t v, uint64_t *out)
{
    v &= 0x7f;
    for (int shift = 7;; shift += 7) {
        uint64_t b = *p++;
        v |= (b & 0x7f) << shift;
        if (b < 0x80)
            break;
    }
    *out = v;
    return p;
}

static inline const unsigned char *varint_get(const unsigned char *p, uint64_t *out)
{
    uint64_t v = *p++;
    if (v < 0x80) {
        *out = v;
        return p;
    }
    return varint_rest(p, v, out);
}

static size_t varint_put(char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (char)v;
    return n;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The entry in slot: its key (returned), key length and length word (the
 * value's length << 2 | its kind). */
static inline const char *entry_at(const table *t, uint64_t slot, size_t *klen, uint64_t *vword)
{
    const unsigned char *e = (const unsigned char *)t->arena + ((slot & SLOT_OFF_MASK) - 1);
    uint64_t k;
    e = varint_get(e, &k);
    e = varint_get(e, vword);
    *klen = (size_t)k;
    return (const char *)e;
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t slot_find(const table *t, const char *key, size_t key_len, uint64_t hash)
{
    uint64_t tag = slot_tag(hash);
    for (size_t i = slot_home(t->nslots, hash);; i = i + 1 == t->nslots ? 0 : i + 1) {
        uint64_t s = t->slots[i];
        if (s == 0)
            return i;
        if ((s & ~SLOT_OFF_MASK) == tag) {
            size_t klen;
            uint64_t vword;
            const char *k = entry_at(t, s, &klen, &vword);
            if (klen == key_len && memcmp(k, key, key_len) == 0)
                return i;
        }
    }
}

/* Slots for n entries at a load factor of 2/3. */
static size_t slots_for(size_t n)
{
    return n + n / 2 + 4;
}

/* Rebuilds the index with n slots (more than the entries). */
static int index_resize(table *t, size_t n)
{
    uint64_t *old = t->slots;
    size_t oldn = t->nslots;
    uint64_t *slots = index_alloc(n); /* zero-filled */

    if (slots == NULL)
        return -1;
    t->slots = slots;
    t->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i] == 0)
            continue;
        size_t klen;
        uint64_t vword;
        const char *k = entry_at(t, old[i], &klen, &vword);
        size_t j = slot_home(n, hash_key(k, klen));
        while (slots[j] != 0)
            j = j + 1 == n ? 0 : j + 1;
        slots[j] = old[i];
    }
    big_free(old, oldn * sizeof(*old));
    return 0;
}

static int index_grow(table *t)
{
    return index_resize(t, t->nslots * 2);
}

table *table_new(size_t expected, size_t expected_bytes)
{
    table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->nslots = slots_for(expected);
    t->slots = index_alloc(t->nslots);
    t->map_len = page_round(expected_bytes ? expected_bytes : 4096);
    t->arena = big_alloc(t->map_len);
    if (t->slots == NULL || t->arena == NULL) {
        table_free(t);
        return NULL;
    }
    return t;
}

table *table_new_in(char *bytes, size_t len, size_t room, size_t expected, int nparts)
{
    table *t = NULL;
    if (len + room > TABLE_ARENA_MAX) {
        big_free(bytes, len + room);
        errno = EFBIG;
        return NULL;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL)
        goto fail;
    t->nslots = slots_for(expected);
    if ((t->slots = index_alloc(t->nslots)) == NULL)
        goto fail;
    t->arena = bytes;
    t->map_len = len + room;
    t->region = len;
    t->in_place = 1;
    t->nparts = nparts == 2 ? 2 : 1;
    t->parts[0].base = t->parts[0].front = 0;
    t->parts[1].base = t->parts[1].front = NO_FRONT;
    return t;
fail:
    if (t)
        big_free(t->slots, t->nslots * sizeof(*t->slots));
    free(t);
    big_free(bytes, len + room);
    return NULL;
}

/* A gap this small between one stretch of entries and the next is left
 * in the arena rather than closed. */
#define GAP_KEPT ((size_t)64 << 10)

/* Closes the gaps between the stretches of entries of a table built in
 * place (part 0's front, part 1's, the room the parts used), moving each
 * down behind the one before and renumbering the slots that point into
 * it. Built from a file whose entries outgrow its lines (TSV: a value's
 * quotes), a front ends within an entry of where the next stretch
 * begins, and a move (the whole index read to renumber) is not worth
 * the bytes it saves: such a gap stays. */
static void close_gaps(table *t)
{
    size_t tail = __atomic_load_n(&t->room_used, __ATOMIC_RELAXED);
    struct stretch {
        size_t from, len, shift;
    } s[3];
    int n = 0;
    s[n++] = (struct stretch){0, t->parts[0].front, 0};
    if (t->nparts == 2 && t->parts[1].base != NO_FRONT)
        s[n++] = (struct stretch){t->parts[1].base, t->parts[1].front - t->parts[1].base, 0};
    if (tail > 0)
        s[n++] = (struct stretch){t->region, tail, 0};
    size_t end = s[0].len; /* where the entries so far end, once moved */
    int moved = 0;
    for (int k = 1; k < n; k++) {
        size_t gap = s[k].from - end;
        s[k].shift = gap >= GAP_KEPT ? gap : 0;
        if (s[k].shift) {
            memmove(t->arena + s[k].from - s[k].shift, t->arena + s[k].from, s[k].len);
            moved = 1;
        }
        end = s[k].from - s[k].shift + s[k].len;
    }
    for (size_t i = 0; moved && i < t->nslots; i++) {
        uint64_t off = (t->slots[i] & SLOT_OFF_MASK) - 1;
        for (int k = n - 1; t->slots[i] != 0 && k > 0; k--) {
            if (off >= s[k].from) {
                t->slots[i] -= s[k].shift;
                break;
            }
        }
    }
    t->tail = end; /* the entries' bytes from 0 */
    t->region = 0;
    t->in_place = 0;
}

void table_trim(table *t)
{
    table_settle(t);
    if (t->in_place)
        close_gaps(t);
    /* Of two parts, the index may have filled past the load factor
     * lookups are meant for (their estimate of the entries was short). */
    while (t->count > t->nslots / 4 * 3 && index_grow(t) == 0)
        ;
    /* An index sized for many more entries than came (a shard's or a
     * cluster node's share of a file: it was sized for all its lines) is
     * rebuilt for those that did. */
    if (t->nslots > 2 * slots_for(t->count) + 64)
        (void)index_resize(t, slots_for(t->count));
    size_t want = page_round(t->tail ? t->tail : 1);
    if (want < t->map_len) {
        char *a = mremap(t->arena, t->map_len, want, 0); /* shrinks in place */
        if (a != MAP_FAILED) {
            t->arena = a;
            t->map_len = want;
        }
    }
}

void table_free(table *t)
{
    if (t == NULL)
        return;
    big_free(t->arena, t->map_len);
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
    return table_put_at(t, key, key_len, value, nvalue, 0);
}

/* Where an entry of need bytes goes, in a table not built in place: at
 * the end of the arena, which grows. NULL when it cannot. */
static char *entry_append(table *t, size_t need)
{
    if (t->map_len - t->tail < need) {
        size_t cap = t->map_len ? t->map_len : 4096;
        while (cap - t->tail < need)
            cap *= 2;
        if (cap > TABLE_ARENA_MAX)
            return NULL;
        char *a = big_realloc(t->arena, t->map_len, cap);
        if (a == NULL)
            return NULL;
        t->arena = a;
        t->map_len = cap;
    }
    char *e = t->arena + t->tail;
    t->tail += need;
    return e;
}

/* Where part p's entry of need bytes goes, in a table built in place: its
 * front when the reader is done with enough of the file's bytes (done),
 * else its chunk of the room after them, taking another when that is
 * used up. NULL when the room is. */
static char *entry_room(table *t, part *p, size_t need, size_t done)
{
    if (p->base == NO_FRONT) /* part 1's first entry: its front begins there */
        p->base = p->front = done;
    if (p->front + need <= done) {
        char *e = t->arena + p->front;
        p->front += need;
        return e;
    }
    if (p->tail_end - p->tail < need) {
        size_t room = t->map_len - t->region, take;
        size_t at = __atomic_load_n(&t->room_used, __ATOMIC_RELAXED);
        do {
            take = need > TAIL_CHUNK ? need : TAIL_CHUNK;
            if (take > room - at)
                take = room - at;
            if (take < need)
                return NULL;
        } while (!__atomic_compare_exchange_n(&t->room_used, &at, at + take, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
        p->tail = t->region + at;
        p->tail_end = p->tail + take;
    }
    char *e = t->arena + p->tail;
    p->tail += need;
    return e;
}

/* Writes key -> value at e (hdr bytes of header, then the key and the
 * value's pieces). */
static void entry_write(char *e, size_t hdr, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                        size_t value_len)
{
    char *v = e + hdr + key_len, *q = v;
    memcpy(e + hdr, key, key_len);
    for (int k = 0; k < nvalue; k++) {
        memcpy(q, value[k].iov_base, value[k].iov_len);
        q += value[k].iov_len;
    }
    size_t n = varint_put(e, key_len);
    varint_put(e + n, (uint64_t)value_len << 2 | value_kind(v, value_len));
}

/* Indexes the entry at arena offset off (hash h): 0, or 1 if its key is
 * in the index already. */
static int entry_index(table *t, uint64_t off, uint64_t h)
{
    size_t klen;
    uint64_t vword;
    const char *k = entry_at(t, off + 1, &klen, &vword);
    size_t i = slot_find(t, k, klen, h);
    if (t->slots[i] != 0)
        return 1;
    t->slots[i] = slot_tag(h) | (off + 1);
    return 0;
}

/* entry_index while another part fills the index too: an empty slot is
 * taken by compare-and-swap, and one the other part took first is looked
 * at like any other (the same key, added by both: 1). The entry's bytes
 * are published with the slot (release) and seen with it (acquire). */
static int entry_index_shared(table *t, uint64_t off, uint64_t h)
{
    size_t klen, olen;
    uint64_t vword, tag = slot_tag(h), want = tag | (off + 1);
    const char *k = entry_at(t, off + 1, &klen, &vword);
    for (size_t i = slot_home(t->nslots, h);; i = i + 1 == t->nslots ? 0 : i + 1) {
        uint64_t s = __atomic_load_n(&t->slots[i], __ATOMIC_ACQUIRE);
        if (s == 0 && __atomic_compare_exchange_n(&t->slots[i], &s, want, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
            return 0;
        if ((s & ~SLOT_OFF_MASK) == tag) {
            const char *o = entry_at(t, s, &olen, &vword);
            if (olen == klen && memcmp(o, k, klen) == 0)
                return 1;
        }
    }
}

/* Indexes part p's oldest pending entry: 0, or 1 for a key present. */
static int pending_index(table *t, part *p)
{
    size_t j = (p->pending_head + PENDING - p->npending) % PENDING;
    p->npending--;
    if (t->nparts == 2)
        return entry_index_shared(t, p->pending[j].off, p->pending[j].hash);
    return entry_index(t, p->pending[j].off, p->pending[j].hash);
}

int table_settle(table *t)
{
    int dup = 0;
    for (int k = 0; k < 2; k++) {
        while (t->parts[k].npending > 0)
            dup |= pending_index(t, &t->parts[k]);
    }
    if (t->in_place && t->nparts == 2)
        t->count = t->parts[0].count + t->parts[1].count;
    return dup;
}

int table_put_at(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    return table_put_part(t, 0, key, key_len, value, nvalue, done);
}

/* The kind takes a length word's low 2 bits: its varint is as long
 * whatever the kind. */
static size_t entry_header(size_t key_len, size_t value_len)
{
    return varint_len(key_len) + varint_len((uint64_t)value_len << 2);
}

/* table_put_part into a table not built in place. */
static int put_appended(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                        size_t value_len)
{
    uint64_t h = hash_key(key, key_len);
    size_t i = slot_find(t, key, key_len, h);
    if (t->slots[i] != 0)
        return 1;
    if (t->count + 1 > t->nslots / 4 * 3) {
        if (index_grow(t) != 0)
            return -1;
        i = slot_find(t, key, key_len, h);
    }
    size_t hdr = entry_header(key_len, value_len);
    char *e = entry_append(t, hdr + key_len + value_len);
    if (e == NULL)
        return -1;
    entry_write(e, hdr, key, key_len, value, nvalue, value_len);
    t->count++;
    t->slots[i] = slot_tag(h) | ((uint64_t)(e - t->arena) + 1);
    return 0;
}

int table_put_part(table *t, int part_no, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                   size_t done)
{
    size_t value_len = 0;
    for (int i = 0; i < nvalue; i++)
        value_len += value[i].iov_len;
    if (key_len > TABLE_KEY_MAX || value_len > TABLE_VALUE_MAX)
        return -1;
    if (!t->in_place)
        return put_appended(t, key, key_len, value, nvalue, value_len);

    part *p = &t->parts[part_no];
    if (t->nparts == 1 && p->count + 1 > t->nslots / 4 * 3) {
        if (index_grow(t) != 0)
            return -1;
    } else if (t->nparts == 2 && p->count + 1 > p->quota) {
        /* the index cannot grow while two parts fill it: past nine
         * tenths, the file is read again the plain way */
        size_t most = t->nslots / 10 * 9, take = most / 16 < COUNT_CHUNK ? most / 16 + 1 : COUNT_CHUNK;
        size_t at = __atomic_fetch_add(&t->index_taken, take, __ATOMIC_RELAXED);
        if (at + take > most)
            return 2;
        p->quota += take;
    }
    size_t hdr = entry_header(key_len, value_len);
    char *e = entry_room(t, p, hdr + key_len + value_len, done);
    if (e == NULL)
        return 2;
    entry_write(e, hdr, key, key_len, value, nvalue, value_len);
    p->count++;
    if (t->nparts == 1)
        t->count++;
    /* Built in place, from a file of millions of keys: the index is far
     * bigger than the caches, and each entry's slot is a miss. The slot is
     * fetched now and filled PENDING entries later, when it has arrived;
     * a key found twice then is reported late (2: the file is read again
     * the plain way, which says where). */
    uint64_t h = hash_key(key, key_len);
    __builtin_prefetch(&t->slots[slot_home(t->nslots, h)], 1);
    int dup = p->npending == PENDING ? pending_index(t, p) : 0;
    p->pending[p->pending_head].off = (uint64_t)(e - t->arena);
    p->pending[p->pending_head].hash = h;
    p->pending_head = (p->pending_head + 1) % PENDING;
    p->npending++;
    return dup ? 2 : 0;
}

/* Finds key: 1 with *value at its value and *vword its length word (the
 * length << 2 | the kind), or 0. */
static inline int entry_find(const table *t, const char *key, size_t key_len, const char **value, uint64_t *vword)
{
    size_t i = slot_find(t, key, key_len, hash_key(key, key_len));
    if (t->slots[i] == 0)
        return 0;
    size_t klen;
    const char *k = entry_at(t, t->slots[i], &klen, vword);
    *value = k + klen;
    return 1;
}

int table_lookup(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len)
{
    uint64_t vword;
    if (!entry_find(t, key, key_len, value, &vword))
        return 0;
    *value_len = (size_t)(vword >> 2);
    return 1;
}

int table_get(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len, table_kind *kind)
{
    uint64_t vword;
    if (!entry_find(t, key, key_len, value, &vword))
        return 0;
    *value_len = (size_t)(vword >> 2);
    *kind = (table_kind)(vword & 3);
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
    uint64_t vword;
    *key = entry_at(t, t->slots[slot], key_len, &vword);
    return 1;
}

int table_random_key(const table *t, uint64_t r, const char **key, size_t *key_len)
{
    if (t->count == 0)
        return 0;
    /* The walk ends: count > 0. */
    for (size_t i = (size_t)(((unsigned __int128)r * t->nslots) >> 64);; i = i + 1 == t->nslots ? 0 : i + 1) {
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
    return sizeof(*t) + t->map_len + t->nslots * sizeof(*t->slots);
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
