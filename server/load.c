/*
 * load.c: JSON and TSV data files into a table (see load.h).
 *
 * A JSON file is parsed by jansson (duplicates rejected, \u0000 allowed) and
 * each value is stored encoded the way answers carry it. A TSV file is read
 * whole and split by lines; the value after the first TAB is a string.
 */
#include "load.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int load_format_parse(const char *name, load_format *out)
{
    if (strcmp(name, "json") == 0)
        *out = LOAD_FORMAT_JSON;
    else if (strcmp(name, "tsv") == 0)
        *out = LOAD_FORMAT_TSV;
    else if (strcmp(name, "auto") == 0)
        *out = LOAD_FORMAT_AUTO;
    else
        return -1;
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static table *load_json(const char *path, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    proto_buf enc = {0};
    table *t = NULL;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {
        snprintf(errbuf, errlen, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "%s: the top level must be a JSON object (key -> value)", path);
        goto fail;
    }
    t = table_new(json_object_size(root));
    if (t == NULL)
        goto nomem;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        proto_buf_reset(&enc);
        if (proto_dump_json(&enc, json_object_iter_value(it)) != 0)
            goto nomem;
        /* jansson rejected duplicate keys already; put cannot return 1. */
        if (table_put(t, key, key_len, enc.data, enc.len) != 0)
            goto nomem;
    }
    proto_buf_free(&enc);
    json_decref(root);
    return t;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    proto_buf_free(&enc);
    json_decref(root);
    table_free(t);
    return NULL;
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
        snprintf(errbuf, errlen, "%s: read error", path);
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

static table *load_tsv(const char *path, char *errbuf, size_t errlen)
{
    size_t len, lines = 0;
    proto_buf enc = {0};
    table *t = NULL;
    char *data = read_whole(path, &len, errbuf, errlen);

    if (data == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    t = table_new(lines + 1);
    if (t == NULL)
        goto nomem;

    size_t lineno = 0;
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
        int rc = table_put(t, p, klen, enc.data, enc.len);
        if (rc < 0)
            goto nomem;
        if (rc == 1) {
            snprintf(errbuf, errlen, "%s: line %zu: duplicate key '%.*s'", path, lineno,
                     (int)(klen > 40 ? 40 : klen), p);
            goto fail;
        }
        p = next;
    }
    free(data);
    proto_buf_free(&enc);
    return t;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    free(data);
    proto_buf_free(&enc);
    table_free(t);
    return NULL;
}

table *load_file(const char *path, load_format format, char *errbuf, size_t errlen)
{
    if (format == LOAD_FORMAT_AUTO) {
        if (has_suffix(path, ".json"))
            format = LOAD_FORMAT_JSON;
        else if (has_suffix(path, ".tsv") || has_suffix(path, ".tab"))
            format = LOAD_FORMAT_TSV;
        else {
            snprintf(errbuf, errlen, "%s: cannot tell the format from the name: use --format json|tsv",
                     path);
            return NULL;
        }
    }
    return format == LOAD_FORMAT_JSON ? load_json(path, errbuf, errlen) : load_tsv(path, errbuf, errlen);
}
