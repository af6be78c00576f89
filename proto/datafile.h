/*
 * datafile.h: reading a data file of key -> value entries, shared by the
 * server (which builds its table from it) and evkv-bench (which checks
 * answers against it).
 *
 * Two formats: a JSON object (key -> any JSON value), or TSV lines
 * "key<TAB>value" where the value is taken as a string. Each entry is handed
 * over with its value already encoded the way answers carry it (Python's
 * json.dumps, see proto_dump_json). Errors name the file and the line (and
 * the column, for JSON).
 */
#ifndef EVKV_DATAFILE_H
#define EVKV_DATAFILE_H

#include <stddef.h>

typedef enum datafile_format {
    DATAFILE_AUTO = 0, /* by the file's extension: .json, or .tsv/.tab */
    DATAFILE_JSON,     /* one JSON object */
    DATAFILE_TSV,      /* key<TAB>value lines */
} datafile_format;

/* Where the entries go. */
typedef struct datafile_sink {
    /* Called once before the first entry with an upper bound on the number
     * of entries. Returns 0, or -1 (out of memory). May be NULL. */
    int (*begin)(void *arg, size_t expected);
    /* Called for each entry; key and value are borrowed for the call.
     * Returns 0, 1 if the key was already seen, or -1 (out of memory). */
    int (*entry)(void *arg, const char *key, size_t key_len, const char *value, size_t value_len);
    void *arg;
} datafile_sink;

/* Parses "json", "tsv" or "auto". Returns 0, or -1 for anything else. */
int datafile_format_parse(const char *name, datafile_format *out);

/* Reads path into sink. Returns the number of entries, or -1 with a
 * message in errbuf. */
long datafile_read(const char *path, datafile_format format, const datafile_sink *sink, char *errbuf, size_t errlen);

#endif
