/*
 * load.h: building the server's table from a data file (the formats are
 * read by proto/datafile.c).
 */
#ifndef EVKV_LOAD_H
#define EVKV_LOAD_H

#include <stdatomic.h>
#include <stddef.h>

#include "datafile.h"
#include "shard.h"
#include "table.h"

/* Loads path into a new table (the caller frees it with table_free).
 * Returns NULL with a message in errbuf on any error; the message names
 * the file and, for a bad entry, its line. When cancel is not NULL, the
 * load gives up soon after *cancel becomes nonzero ("load cancelled"). */
table *load_file(const char *path, datafile_format format, const atomic_int *cancel, char *errbuf, size_t errlen);

/* load_file, keeping only the keys nutcracker routes to shard s (all of
 * them when s is NULL). *skipped, when not NULL, gets the number of
 * entries left out. s is borrowed for the call. threads: see
 * load_file_keep. */
table *load_file_shard(const char *path, datafile_format format, const shard *s, size_t *skipped,
                       const atomic_int *cancel, int threads, char *errbuf, size_t errlen);

/* Whether the load keeps key (1) or leaves it out (0): a shard's or a
 * cluster node's keys. arg is the predicate's own. Called from two
 * threads at once (a big TSV file is parsed in two parts): it must only
 * read. */
typedef int (*load_keep_fn)(const void *arg, const char *key, size_t len);

/* load_file, keeping only the keys keep(keep_arg, ...) says to (all of
 * them when keep is NULL); *skipped, when not NULL, gets the number left
 * out. keep_arg is borrowed for the call. threads: how many may parse the
 * file (2: a big TSV file in two parts at once, on two cores or more; 1:
 * a reload, which leaves the other cores to the workers). */
table *load_file_keep(const char *path, datafile_format format, load_keep_fn keep, const void *keep_arg,
                      size_t *skipped, const atomic_int *cancel, int threads, char *errbuf, size_t errlen);

#endif
