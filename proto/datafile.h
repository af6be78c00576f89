/*
 * datafile.h: reading a data file of key -> value entries, shared by the
 * server (which builds its table from it) and evkv-bench (which checks
 * answers against it).
 *
 * Two formats: a JSON object (key -> any JSON value), or TSV lines
 * "key<TAB>value" where the value is taken as a string. Each entry is handed
 * over with its value already encoded the way answers carry it (Python's
 * json.dumps, see proto_dump_json). A UTF-8 byte-order mark at the start
 * of either is skipped. Errors name the file and the line (and the column,
 * for JSON).
 */
#ifndef EVKV_DATAFILE_H
#define EVKV_DATAFILE_H

#include <stddef.h>
#include <sys/uio.h>

typedef enum datafile_format {
    DATAFILE_AUTO = 0, /* by the file's extension: .json, or .tsv/.tab */
    DATAFILE_JSON,     /* one JSON object */
    DATAFILE_TSV,      /* key<TAB>value lines */
} datafile_format;

/* Where the entries go. */
typedef struct datafile_sink {
    /* Called before the first entry with estimates of the number of
     * entries and of their bytes. Called again if the reader starts over:
     * the sink then drops every entry it was given. Returns 0, or -1 (out
     * of memory). May be NULL. */
    int (*begin)(void *arg, size_t expected, size_t expected_bytes);
    /* begin, handing over the file's bytes, when the sink keeps them (the
     * server's table is built in them; may be NULL): bytes is an anonymous
     * mapping (mmap) of len + room bytes, the first len the file's, the
     * room unused, which the sink unmaps when done with it (also when it
     * returns -1). Entries then lie in the file's bytes, or outside them,
     * and each comes with `done`: the bytes from 0 to done are ones the
     * reader is done with, which the sink may overwrite. When the reader
     * must start over after this (a JSON file jansson must judge), it
     * reads the file again. parts is 1, or 2 when the entries come
     * through entry_part from two threads at once (a big TSV file, into a
     * sink with entry_part, on a machine with two cores or more). */
    int (*begin_in)(void *arg, size_t expected, char *bytes, size_t len, size_t room, int parts);
    /* Called for each entry; the value's encoding is the concatenation of
     * the nvalue pieces. Everything is borrowed for the call; done is
     * begin_in's (0 after a plain begin). Returns 0, 1 if the key was
     * already seen, -1 (out of memory), or 2 (after begin_in only: no room
     * left, the reader starts over without handing the bytes over). */
    int (*entry)(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done);
    /* entry, for part 0 (the file from its start) or part 1 (from a line
     * in its middle on) of a file parsed in two parts after begin_in:
     * called from two threads at once, one a part. On a return other
     * than 0 the other part stops too, and the file is read again the
     * plain way unless part 0 met the error (it names the line). May be
     * NULL: one part. */
    int (*entry_part)(void *arg, int part, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                      size_t done);
    /* Called as the file is read, before any entry, after each block:
     * done bytes of size so far. Returns 0 to go on, or -1 to give up (the
     * read fails: "load cancelled"). May be NULL. (The tests change the
     * file from here, between two blocks.) */
    int (*progress)(void *arg, size_t done, size_t size);
    void *arg;
} datafile_sink;

/* Parses "json", "tsv" or "auto". Returns 0, or -1 for anything else. */
int datafile_format_parse(const char *name, datafile_format *out);

/* The format path is read in: format itself unless DATAFILE_AUTO, else
 * the one its extension names, or DATAFILE_AUTO when it names none. */
datafile_format datafile_format_of(const char *path, datafile_format format);

/* Reads path into sink. Returns the number of entries, or -1 with a
 * message in errbuf. path must be a regular file (anything else is refused
 * without waiting on it), and not change while it is read: a file
 * truncated, grown or written to meanwhile is refused ("changed while it
 * was read"). A TSV file of 4 MiB or more, and a JSON one into a sink
 * with begin_in, is parsed while a thread of its own reads it: entries
 * may then be handed over before such a read fails, and the sink drops
 * them (datafile_read returns -1). Such a TSV file into a sink with
 * begin_in and entry_part is parsed in two parts at once, by this thread
 * and one more. Safe to call from several threads at once. */
long datafile_read(const char *path, datafile_format format, const datafile_sink *sink, char *errbuf, size_t errlen);

#endif
