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
#include <sys/uio.h>

typedef struct table table;

/* Returns a new empty table sized for about `expected` entries taking
 * about `expected_bytes` of keys and values (0 if not known), or NULL. */
table *table_new(size_t expected, size_t expected_bytes);
void table_free(table *t);
/* Gives back the arena's unused room once the table is built. */
void table_trim(table *t);

/* Adds key -> value, both copied. value is the entry's encoded JSON text.
 * Returns 0, 1 if the key is already present (nothing is changed), or -1
 * when out of memory. */
int table_put(table *t, const char *key, size_t key_len, const char *value, size_t value_len);
/* The same with the value in pieces, written one after the other. */
int table_put_iov(table *t, const char *key, size_t key_len, const struct iovec *value, int nvalue);

/* Finds key. On a hit, returns 1 and points *value at the encoded value
 * (borrowed: valid while the table lives); returns 0 on a miss. */
int table_lookup(const table *t, const char *key, size_t key_len, const char **value, size_t *value_len);

size_t table_size(const table *t);
/* Bytes held by the table (arena and index), for the start line and stats. */
size_t table_memory(const table *t);

/* The reference server's three entries. Returns a new table or NULL. */
table *table_builtin(void);

#endif
