/*
 * table.h: the in-memory lookup table.
 *
 * Keys and values live in one arena; an open-addressing index of 8-byte
 * slots points into it. Values are stored already encoded as the JSON text
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

/* Returns a new empty table sized for about `expected` entries taking
 * about `expected_bytes` of keys and values (0 if not known), or NULL. */
table *table_new(size_t expected, size_t expected_bytes);
void table_free(table *t);
/* Gives back the arena's unused room once the table is built. */
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
