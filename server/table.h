/*
 * table.h: the in-memory lookup table.
 *
 * Keys and values live in one arena (which can be the data file's own
 * bytes, see table_new_in); an open-addressing index of 8-byte slots, about
 * 12 bytes a key, points into it. Values are stored already encoded as the JSON text
 * that goes into an answer ({"result": <value>}), so a hit costs no encoding.
 * A table is built once (table_put), then only read: a thread or a queued
 * answer may read it for as long as it is not freed.
 */
#ifndef EVKV_TABLE_H
#define EVKV_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct table table;

/* A table's bounds: a value's encoding under 1 GiB, a key under 4 GiB,
 * and an arena (each entry's key, value and 2 to 10 bytes of lengths;
 * built in place, the data file's bytes and the room after them) under
 * 1 TiB, which its slots' 40-bit offsets can address. */
#define TABLE_VALUE_MAX ((size_t)(1u << 30) - 1)
#define TABLE_KEY_MAX   ((size_t)UINT32_MAX)
#define TABLE_ARENA_MAX ((size_t)((UINT64_C(1) << 40) - 1))

/* Returns a new empty table sized for about `expected` entries taking
 * about `expected_bytes` of keys and values (0 if not known), or NULL. */
table *table_new(size_t expected, size_t expected_bytes);
void table_free(table *t);
/* Returns a new empty table built in bytes, for about `expected` entries:
 * bytes is an anonymous mapping (mmap) of len + room bytes, the first len
 * a data file's, which the table takes over (table_free unmaps it; so
 * does this function when it fails, returning NULL). Entries are added
 * with table_put_at, whose `done` says how many of the len bytes the
 * reader is done with: an entry is written over those when it fits, else
 * in the room after them. A table in place cannot grow its arena: when the
 * room is used up, table_put_at returns 2. table_trim ends the building. */
table *table_new_in(char *bytes, size_t len, size_t room, size_t expected, int nparts);
/* nparts 2: two threads build the table at once, each adding the entries
 * of its own stretch of the bytes with table_put_part (part 0 from the
 * start, part 1 from further on: its first entry's `done` is where its
 * stretch begins). The index cannot grow then: past 9/10 full,
 * table_put_part returns 2. */
/* (With errno EFBIG when len + room is over TABLE_ARENA_MAX.) */
/* Gives back the arena's unused room once the table is built (and, built
 * in place, what is left of the file's bytes). */
void table_trim(table *t);

/* What an entry's encoded value is, decided when it is added: a RESP reply
 * sends a string's bytes and any other value's JSON text. */
typedef enum table_kind {
    TABLE_STRING_RAW = 0,     /* a JSON string without escapes: its bytes lie between the quotes */
    TABLE_STRING_ESCAPED = 1, /* a JSON string with backslash escapes: its bytes need unescaping */
    TABLE_JSON = 2,           /* any other JSON value (number, object, list, true/false/null) */
} table_kind;

/* Adds key -> value, both copied. value is the entry's encoded JSON text.
 * Returns 0, 1 if the key is already present (nothing is changed), or -1
 * when out of memory or when the value is 1 GiB or longer. */
int table_put(table *t, const char *key, size_t key_len, const char *value, size_t value_len);
/* The same with the value in pieces, written one after the other. */
int table_put_iov(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue);
/* table_put_iov into a table built in place (table_new_in): the key and
 * the value's pieces lie at or after offset done of its bytes, or outside
 * them. A table built in place indexes an entry a few entries later (see
 * table_settle), so a key already present is found late: it returns 2,
 * which also means no room is left for the entry; the table is then to be
 * built again the plain way (table_new), which says which key. On a table
 * not built in place, done is ignored. */
int table_put_at(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done);
/* table_put_at for part part (0 or 1) of a table built in two parts. */
int table_put_part(table *t, int part, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                   size_t done);
/* Indexes the entries table_put_at left pending: 0, or 1 if one of their
 * keys was present already (the table must not be served then). Of two
 * parts, called once both are done. */
int table_settle(table *t);

/* Finds key. On a hit, returns 1 and points *value at the encoded value
 * (borrowed: valid while the table lives); returns 0 on a miss. */
int table_lookup(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len);

/* table_lookup that also tells the value's kind, for RESP replies. */
int table_get(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len, table_kind *kind);

/* Iteration, for SCAN: slots are numbered 0 .. table_slots() - 1 and a
 * table never changes once built, so a walk over slot numbers sees every
 * key exactly once. table_slot_key returns 1 and points *key at the key
 * (borrowed) if the slot holds an entry, else 0 (also past the end). */
size_t table_slots(const table *t);
int table_slot_key(const table *t, size_t slot, const char **key, size_t *key_len);
/* Some key chosen from r (a random number), for RANDOMKEY: returns 1 and
 * points *key at it (borrowed), or 0 if the table is empty. Keys after a
 * long run of empty slots are likelier; every key can be chosen. */
int table_random_key(const table *t, uint64_t r, const char **key, size_t *key_len);

size_t table_size(const table *t);
/* Bytes held by the table (arena and index), for the start line and stats. */
size_t table_memory(const table *t);

/* The reference server's three entries. Returns a new table or NULL. */
table *table_builtin(void);

#endif
