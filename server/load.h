/*
 * load.h: building a table from a data file.
 *
 * Two formats: a JSON object (key -> any JSON value), or TSV lines
 * "key<TAB>value" where the value is taken as a string. Keys must be unique
 * and valid UTF-8. Errors name the file and the line (and column for JSON).
 */
#ifndef EVKV_LOAD_H
#define EVKV_LOAD_H

#include <stddef.h>

#include "table.h"

typedef enum load_format {
    LOAD_FORMAT_AUTO = 0, /* by the file's extension: .json, or .tsv/.tab */
    LOAD_FORMAT_JSON,     /* one JSON object */
    LOAD_FORMAT_TSV,      /* key<TAB>value lines */
} load_format;

/* Parses "json" or "tsv" (or "auto"). Returns 0, or -1 for anything else. */
int load_format_parse(const char *name, load_format *out);

/* Loads path into a new table (the caller frees it with table_free).
 * Returns NULL with a message in errbuf on any error. */
table *load_file(const char *path, load_format format, char *errbuf, size_t errlen);

#endif
