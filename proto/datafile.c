/*
 * datafile.c: JSON and TSV data files (see datafile.h).
 *
 * A JSON file is parsed by jansson (duplicate keys rejected; \u0000
 * allowed in values, though jansson refuses it in keys) and each value is
 * encoded with proto_dump_json. A TSV file is read whole and split by
 * lines; the value after the first TAB is a string.
 */
#include "datafile.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int datafile_format_parse(const char *name, datafile_format *out)
{
    if (strcmp(name, "json") == 0)
        *out = DATAFILE_JSON;
    else if (strcmp(name, "tsv") == 0)
        *out = DATAFILE_TSV;
    else if (strcmp(name, "auto") == 0)
        *out = DATAFILE_AUTO;
    else
        return -1;
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int sink_begin(const datafile_sink *sink, size_t expected)
{
    return sink->begin ? sink->begin(sink->arg, expected) : 0;
}

static long read_json(const char *path, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    proto_buf enc = {0};
    long n = 0;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_cannot_open_file) /* no line: the text names the file */
            snprintf(errbuf, errlen, "%s", jerr.text);
        else
            snprintf(errbuf, errlen, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "%s: the top level must be a JSON object (key -> value)", path);
        goto fail;
    }
    if (sink_begin(sink, json_object_size(root)) != 0)
        goto nomem;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it), n++) {
        proto_buf_reset(&enc);
        if (proto_dump_json(&enc, json_object_iter_value(it)) != 0)
            goto nomem;
        /* jansson rejected duplicate keys already: entry() cannot return 1. */
        if (sink->entry(sink->arg, json_object_iter_key(it), json_object_iter_key_len(it), enc.data, enc.len) != 0)
            goto nomem;
    }
    proto_buf_free(&enc);
    json_decref(root);
    return n;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    proto_buf_free(&enc);
    json_decref(root);
    return -1;
}

static char *read_whole(const char *path, size_t *len, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nd = realloc(data, cap);
            if (nd == NULL) {
                snprintf(errbuf, errlen, "%s: out of memory", path);
                goto fail;
            }
            data = nd;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    *len = n;
    return data;
fail:
    fclose(f);
    free(data);
    return NULL;
}

static long read_tsv(const char *path, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    size_t len, lines = 1, lineno = 0;
    proto_buf enc = {0};
    long n = 0;
    char *data = read_whole(path, &len, errbuf, errlen);

    if (data == NULL)
        return -1;
    for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + len - p))) != NULL; p++)
        lines++;
    if (sink_begin(sink, lines) != 0)
        goto nomem;

    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        lineno++;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol == p) { /* blank lines are skipped */
            p = next;
            continue;
        }
        char *tab = memchr(p, '\t', (size_t)(eol - p));
        if (tab == NULL) {
            snprintf(errbuf, errlen, "%s: line %zu: no TAB between key and value", path, lineno);
            goto fail;
        }
        size_t klen = (size_t)(tab - p), vlen = (size_t)(eol - tab - 1);
        if (!proto_utf8_valid(p, klen) || !proto_utf8_valid(tab + 1, vlen)) {
            snprintf(errbuf, errlen, "%s: line %zu: not valid UTF-8", path, lineno);
            goto fail;
        }
        proto_buf_reset(&enc);
        if (proto_dump_string(&enc, tab + 1, vlen) != 0)
            goto nomem;
        int rc = sink->entry(sink->arg, p, klen, enc.data, enc.len);
        if (rc < 0)
            goto nomem;
        if (rc == 1) {
            snprintf(errbuf, errlen, "%s: line %zu: duplicate key '%.*s'", path, lineno, (int)(klen > 40 ? 40 : klen),
                     p);
            goto fail;
        }
        n++;
        p = next;
    }
    free(data);
    proto_buf_free(&enc);
    return n;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    free(data);
    proto_buf_free(&enc);
    return -1;
}

long datafile_read(const char *path, datafile_format format, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    if (format == DATAFILE_AUTO) {
        if (has_suffix(path, ".json"))
            format = DATAFILE_JSON;
        else if (has_suffix(path, ".tsv") || has_suffix(path, ".tab"))
            format = DATAFILE_TSV;
        else {
            snprintf(errbuf, errlen, "%s: cannot tell the format from the name: use --format json|tsv", path);
            return -1;
        }
    }
    return format == DATAFILE_JSON ? read_json(path, sink, errbuf, errlen) : read_tsv(path, sink, errbuf, errlen);
}
