/*
 * test_load.c: unit tests of load_file (and so of proto/datafile.c) and datafile_format_parse.
 *
 * Each test writes its data file into a fresh temporary directory (mkdtemp),
 * loads it, and checks the table or the error message: errors must name the
 * file and the line.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "load.h"
#include "json_write.h"
#include "proto.h"
#include "table.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* The temporary directory and the files written into it. */
typedef struct fixture {
    char dir[64];
    char *files[16];
    int nfiles;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/evkv-load-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < f->nfiles; i++) {
        unlink(f->files[i]);
        free(f->files[i]);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Writes data to <dir>/<name>; returns the path (owned by the fixture). */
static const char *write_file(fixture *f, const char *name, const char *data, size_t len)
{
    size_t n = strlen(f->dir) + strlen(name) + 2;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    assert_true(f->nfiles < (int)(sizeof(f->files) / sizeof(f->files[0])));
    f->files[f->nfiles++] = path;
    return path;
}

static void expect_hit(const table *t, const char *key, size_t key_len, const char *want, size_t want_len)
{
    const char *v = NULL;
    size_t vlen = 0;
    if (table_lookup(t, key, key_len, &v, &vlen) != 1)
        fail_msg("key '%.*s' not found", (int)key_len, key);
    if (vlen != want_len || memcmp(v, want, want_len) != 0)
        fail_msg("key '%.*s': value '%.*s', want '%.*s'", (int)key_len, key, (int)vlen, v, (int)want_len, want);
}

static void expect_miss(const table *t, const char *key, size_t key_len)
{
    const char *v;
    size_t vlen;
    assert_int_equal(table_lookup(t, key, key_len, &v, &vlen), 0);
}

/* Loads path expecting failure; the message must hold each NULL-ended
 * substring. */
static void expect_error(const char *path, datafile_format format, ...)
{
    char err[512];
    va_list ap;
    const char *want;

    memset(err, 0, sizeof(err));
    table *t = load_file(path, format, NULL, err, sizeof(err));
    if (t != NULL) {
        table_free(t);
        fail_msg("%s: loaded, want an error", path);
    }
    va_start(ap, format);
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (strstr(err, want) == NULL) {
            va_end(ap);
            fail_msg("error \"%s\" lacks \"%s\"", err, want);
        }
    }
    va_end(ap);
}

static table *load_ok(const char *path, datafile_format format)
{
    char err[512] = "";
    table *t = load_file(path, format, NULL, err, sizeof(err));
    if (t == NULL)
        fail_msg("%s: %s", path, err);
    return t;
}

/* ---- JSON ---- */

static void test_json_good(void **state)
{
    fixture *f = *state;
    /* expectations from python3: json.dumps(v, ensure_ascii=False) */
    static const char data[] = "{\"a\": [1, 2.5, {\"x\": null}], \"s\": \"caf\\u00e9\\n\\t\\\"q\\\"/\", \"i\": -3,\n"
                               " \"big\": 12345678901234, \"f\": 1e16, \"g\": 0.1, \"h\": 1E2, \"t\": true,\n"
                               " \"fa\": false, \"n\": null, \"o\": {\"z\": 1, \"b\": [true]}, \"e\": [], \"eo\": {},\n"
                               " \"nul\": \"v\\u0000w\", \"\": \"empty key\", \"\\ud83d\\udc36\": \"dog\",\n"
                               " \"esc\": \"\\u001f\\u007f\", \"raw\": \"\xf0\x9f\x90\xb0\"}\n";
    const char *path = write_file(f, "good.json", LIT(data));
    table *t = load_ok(path, DATAFILE_AUTO);

    assert_int_equal(table_size(t), 18);
    expect_hit(t, LIT("a"), LIT("[1, 2.5, {\"x\": null}]"));
    expect_hit(t, LIT("s"), LIT("\"caf\xc3\xa9\\n\\t\\\"q\\\"/\""));
    expect_hit(t, LIT("i"), LIT("-3"));
    expect_hit(t, LIT("big"), LIT("12345678901234"));
    expect_hit(t, LIT("f"), LIT("1e+16"));
    expect_hit(t, LIT("g"), LIT("0.1"));
    expect_hit(t, LIT("h"), LIT("100.0"));
    expect_hit(t, LIT("t"), LIT("true"));
    expect_hit(t, LIT("fa"), LIT("false"));
    expect_hit(t, LIT("n"), LIT("null"));
    expect_hit(t, LIT("o"), LIT("{\"z\": 1, \"b\": [true]}"));
    expect_hit(t, LIT("e"), LIT("[]"));
    expect_hit(t, LIT("eo"), LIT("{}"));
    expect_hit(t, LIT("nul"), LIT("\"v\\u0000w\""));
    expect_hit(t, LIT(""), LIT("\"empty key\""));
    expect_hit(t, LIT("\xf0\x9f\x90\xb6"), LIT("\"dog\""));
    expect_hit(t, LIT("esc"), LIT("\"\\u001f\x7f\""));
    expect_hit(t, LIT("raw"), LIT("\"\xf0\x9f\x90\xb0\""));
    expect_miss(t, LIT("nul\0"));
    expect_miss(t, LIT("x"));
    table_free(t);

    /* an explicit format overrides the name */
    path = write_file(f, "data.txt", LIT("{\"k\": \"v\"}"));
    t = load_ok(path, DATAFILE_JSON);
    expect_hit(t, LIT("k"), LIT("\"v\""));
    table_free(t);

    /* an empty object is an empty table */
    path = write_file(f, "empty.json", LIT("{}"));
    t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 0);
    table_free(t);
}

static void test_json_bad(void **state)
{
    fixture *f = *state;
    const char *path;

    path = write_file(f, "syntax.json", LIT("{\n  \"a\": 1,\n  \"b\" 2\n}\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 3", NULL);

    path = write_file(f, "array.json", LIT("[\"a\", \"b\"]\n"));
    expect_error(path, DATAFILE_AUTO, path, "top level must be a JSON object", NULL);

    path = write_file(f, "string.json", LIT("\"a\"\n"));
    expect_error(path, DATAFILE_JSON, path, NULL);

    path = write_file(f, "dup.json", LIT("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 3", "duplicate", NULL);

    path = write_file(f, "utf8.json", LIT("{\"a\": 1,\n \"b\": \"\xff\"}\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", NULL);

    path = write_file(f, "trailing.json", LIT("{\"a\": 1}\n{\"b\": 2}\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", NULL);

    /* jansson 2.14 cannot hold a key with a NUL byte: it says so, with the line */
    path = write_file(f, "nulkey.json", LIT("{\"a\": 1,\n \"b\\u0000c\": 2}\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", "NUL byte in object key", NULL);

    path = write_file(f, "empty2.json", LIT(""));
    expect_error(path, DATAFILE_AUTO, path, NULL);
}

/* ---- TSV ---- */

static void test_tsv_good(void **state)
{
    fixture *f = *state;
    static const char data[] = "morpheus\tFollow the white rabbit. \xf0\x9f\x90\xb0\r\n"
                               "\r\n"
                               "\n"
                               "tabbed\tone\ttwo\t\r\n"
                               "quote\tsays \"hi\" \\ back/slash\n"
                               "empty\t\n"
                               "\tempty key\n"
                               "ctl\ta\x01"
                               "b\x7f\n"
                               "cr\tmid\rdle\n"
                               "\xf0\x9f\x90\xb6\t\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\n"
                               "last\tno newline";
    const char *path = write_file(f, "good.tsv", LIT(data));
    table *t = load_ok(path, DATAFILE_AUTO);

    assert_int_equal(table_size(t), 9);
    expect_hit(t, LIT("morpheus"), LIT("\"Follow the white rabbit. \xf0\x9f\x90\xb0\""));
    expect_hit(t, LIT("tabbed"), LIT("\"one\\ttwo\\t\""));
    expect_hit(t, LIT("quote"), LIT("\"says \\\"hi\\\" \\\\ back/slash\""));
    expect_hit(t, LIT("empty"), LIT("\"\""));
    expect_hit(t, LIT(""), LIT("\"empty key\""));
    expect_hit(t, LIT("ctl"), LIT("\"a\\u0001b\x7f\""));
    expect_hit(t, LIT("cr"), LIT("\"mid\\rdle\""));
    expect_hit(t, LIT("\xf0\x9f\x90\xb6"), LIT("\"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\""));
    expect_hit(t, LIT("last"), LIT("\"no newline\""));
    expect_miss(t, LIT("morpheus\r"));
    expect_miss(t, LIT("tabbed\tone"));
    table_free(t);

    /* .tab is TSV too; an explicit format overrides the name */
    path = write_file(f, "x.tab", LIT("k\tv\n"));
    t = load_ok(path, DATAFILE_AUTO);
    expect_hit(t, LIT("k"), LIT("\"v\""));
    table_free(t);
    path = write_file(f, "x.json.txt", LIT("k\tv\r\n"));
    t = load_ok(path, DATAFILE_TSV);
    expect_hit(t, LIT("k"), LIT("\"v\""));
    table_free(t);

    /* empty files and blank lines only: an empty table */
    path = write_file(f, "empty.tsv", LIT(""));
    t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 0);
    table_free(t);
    path = write_file(f, "blank.tsv", LIT("\n\r\n\n"));
    t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 0);
    table_free(t);
}

/* Enough lines that the reader and the table both grow. */
static void test_tsv_large(void **state)
{
    fixture *f = *state;
    enum { N = 60000 };
    size_t cap = (size_t)N * 64, len = 0;
    char *data = malloc(cap);
    char key[32], val[48];

    assert_non_null(data);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(data + len, cap - len, "key%d\tvalue number %d, padded out a bit\n", i, i);
    const char *path = write_file(f, "large.tsv", data, len);
    free(data);
    table *t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), N);
    for (int i = 0; i < N; i += 7) {
        int kl = snprintf(key, sizeof(key), "key%d", i);
        int vl = snprintf(val, sizeof(val), "\"value number %d, padded out a bit\"", i);
        expect_hit(t, key, (size_t)kl, val, (size_t)vl);
    }
    table_free(t);
}

static void test_tsv_bad(void **state)
{
    fixture *f = *state;
    const char *path;

    path = write_file(f, "notab.tsv", LIT("a\t1\nb\t2\nno tab here\nd\t4\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 3", "no TAB", NULL);

    /* blank lines still count */
    path = write_file(f, "notab2.tsv", LIT("a\t1\n\n\r\nbad\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 4", NULL);

    path = write_file(f, "badutf8.tsv", LIT("a\t1\nb\t2\nc\tbad \xff value\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 3", "UTF-8", NULL);

    path = write_file(f, "badutf8key.tsv", LIT("a\t1\n\xc0\xaf\t2\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", "UTF-8", NULL);

    path = write_file(f, "surrogate.tsv", LIT("a\t\xed\xa0\x80\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 1", "UTF-8", NULL);

    path = write_file(f, "dup.tsv", LIT("a\t1\nb\t2\n\ndupkey\t3\ndupkey\t4\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 5", "duplicate key 'dupkey'", NULL);

    /* "a" and "a\r" are the same key once CRLF is stripped */
    path = write_file(f, "dupcr.tsv", LIT("a\t1\r\na\t2\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", "duplicate", NULL);
}

/* ---- paths and formats ---- */

static void test_missing_and_unknown(void **state)
{
    fixture *f = *state;
    char path[128];

    snprintf(path, sizeof(path), "%s/missing.tsv", f->dir);
    expect_error(path, DATAFILE_AUTO, path, "No such file", NULL);
    snprintf(path, sizeof(path), "%s/missing.json", f->dir);
    expect_error(path, DATAFILE_AUTO, path, "No such file", NULL);
    {
        /* no made-up position ("line -1") for a file that never opened */
        char err[512] = "";
        assert_null(load_file(path, DATAFILE_AUTO, NULL, err, sizeof(err)));
        if (strstr(err, "line -1") != NULL)
            fail_msg("error \"%s\" names line -1", err);
    }
    snprintf(path, sizeof(path), "%s/missing.txt", f->dir);
    expect_error(path, DATAFILE_JSON, path, NULL);

    const char *p = write_file(f, "data.txt", LIT("k\tv\n"));
    expect_error(p, DATAFILE_AUTO, p, "cannot tell the format", NULL);
    p = write_file(f, "data", LIT("{}"));
    expect_error(p, DATAFILE_AUTO, p, "cannot tell the format", NULL);
    p = write_file(f, "json", LIT("{}"));
    expect_error(p, DATAFILE_AUTO, p, "cannot tell the format", NULL);
    /* a directory named like a data file */
    snprintf(path, sizeof(path), "%s", f->dir);
    expect_error(path, DATAFILE_JSON, path, NULL);
}

/* A sink that counts: a reader that starts over calls begin again. */
typedef struct counting_sink {
    int begins;
    long entries;
} counting_sink;

static int count_begin(void *arg, size_t expected, size_t expected_bytes)
{
    counting_sink *cs = arg;
    (void)expected;
    (void)expected_bytes;
    cs->begins++;
    cs->entries = 0;
    return 0;
}

static int count_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    counting_sink *cs = arg;
    (void)done;
    (void)key;
    (void)key_len;
    (void)value;
    (void)nvalue;
    cs->entries++;
    return 0;
}

static void test_json_reader_hands_over(void **state)
{
    fixture *f = *state;
    /* Things the small reader leaves to jansson, whose error (with line and
     * column) is the one given: a duplicate key, a top-level array,
     * trailing bytes, a trailing comma, a leading zero, a bad escape. */
    static const char *const docs[] = {
        "{\"a\": 1, \"a\": 2}", "[1, 2]", "{\"a\": 1} x", "{\"a\": 1,}", "{\"a\": 01}", "{\"a\": \"\\x\"}",
    };
    char name[32], err[512];
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        snprintf(name, sizeof(name), "handover%zu.json", i);
        const char *path = write_file(f, name, docs[i], strlen(docs[i]));
        table *t = load_file(path, DATAFILE_AUTO, NULL, err, sizeof(err));
        if (t != NULL || strstr(err, path) == NULL || (i != 1 && strstr(err, "line 1") == NULL))
            fail_msg("doc %zu: %s", i, t ? "loaded" : err);
    }
    /* and the duplicate is named as such */
    const char *path = write_file(f, "dup.json", docs[0], strlen(docs[0]));
    assert_null(load_file(path, DATAFILE_AUTO, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "duplicate"));
}

/* JSON files are read by a small reader of evkv's own, which hands anything
 * it does not expect to jansson. Whatever path a file takes, every entry
 * must be what jansson's parse, written with proto_dump_json, gives. */
static void test_json_reader_matches_jansson(void **state)
{
    fixture *f = *state;
    static const char *const docs[] = {
        "{}",
        " \r\n\t{ } \n",
        "{\"a\":\"b\"}",
        "{\"plain\": \"text\", \"utf8\": \"\xc3\xa9\xf0\x9f\x90\xb0\", \"del\": \"a\x7f\"}",
        "{\"esc\": \"q\\\"b\\\\n\\nt\\tu\\u00e9s\\ud83d\\ude00/\\/\", \"k\\u00e9y\": 1}",
        ("{\"n\": 0, \"neg\": -12, \"big\": 9007199254740993, \"f\": 1.5, \"e\": 1e100, \"z\": -0.0, "
         "\"small\": 1E-7, \"t\": true, \"fa\": false, \"nu\": null}"), /* one document on two lines */
        "{\"nested\": {\"a\": [1, {\"b\": \"]}\\\"[{\"}], \"c\": {}}, \"arr\": [], \"s\": \"}\"}",
        "{\n\t\"spaced\"\t:\r\n [ 1 ,\n 2 ] ,\n\"x\" : \"y\" \n}\n",
        "{\"nul in value\": \"a\\u0000b\", \"ctl\": \"\\u0001\\u001f\"}",
        "{\"\": \"empty key\", \"empty value\": \"\"}",
    };
    char name[32];
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        snprintf(name, sizeof(name), "doc%zu.json", i);
        const char *path = write_file(f, name, docs[i], strlen(docs[i]));
        char err[512] = "";
        table *t = load_file(path, DATAFILE_AUTO, NULL, err, sizeof(err));
        if (t == NULL)
            fail_msg("doc %zu: %s", i, err);
        /* All of these are for the small reader: jansson would start over. */
        counting_sink cs = {0};
        datafile_sink sink = {.begin = count_begin, .entry = count_entry, .arg = &cs};
        assert_int_equal(datafile_read(path, DATAFILE_JSON, &sink, err, sizeof(err)), (long)table_size(t));
        if (cs.begins != 1)
            fail_msg("doc %zu went to jansson", i);
        json_error_t jerr;
        json_t *root = json_loads(docs[i], JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        assert_non_null(root);
        assert_int_equal(table_size(t), json_object_size(root));
        for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
            proto_buf want = {0};
            const char *got;
            size_t got_len;
            assert_int_equal(proto_dump_json(&want, json_object_iter_value(it)), 0);
            if (!table_lookup(t, json_object_iter_key(it), json_object_iter_key_len(it), &got, &got_len))
                fail_msg("doc %zu: key '%s' missing", i, json_object_iter_key(it));
            if (got_len != want.len || memcmp(got, want.data, want.len) != 0)
                fail_msg("doc %zu: key '%s': got %.*s, want %.*s", i, json_object_iter_key(it), (int)got_len, got,
                         (int)want.len, want.data);
            proto_buf_free(&want);
        }
        json_decref(root);
        table_free(t);
    }
}

/* ---- a UTF-8 byte-order mark ---- */

#define BOM "\xef\xbb\xbf"

/* A file saved by a Windows editor starts with a byte-order mark: it is
 * skipped (Python's utf-8-sig), in TSV and in both JSON readers, and the
 * errors name the lines and columns they would without it. */
static void test_byte_order_mark(void **state)
{
    fixture *f = *state;
    char err[512], err_bom[512];

    const char *path = write_file(f, "bom.tsv", LIT(BOM "alpha\t1\r\n" BOM "beta\t2\r\n"));
    table *t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 2);
    expect_hit(t, LIT("alpha"), LIT("\"1\""));
    expect_miss(t, LIT(BOM "alpha"));
    expect_hit(t, LIT(BOM "beta"), LIT("\"2\"")); /* not at the start: a key's bytes, as utf-8-sig keeps it */
    table_free(t);

    path = write_file(f, "bomonly.tsv", LIT(BOM));
    t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 0);
    table_free(t);

    path = write_file(f, "badbom.tsv", LIT(BOM "alpha\t1\nno tab\n"));
    expect_error(path, DATAFILE_AUTO, path, "line 2", "no TAB", NULL);

    /* JSON, taken by the small reader */
    path = write_file(f, "bom.json", LIT(BOM "{\"alpha\": \"1\", \"beta\": [2]}\n"));
    t = load_ok(path, DATAFILE_AUTO);
    assert_int_equal(table_size(t), 2);
    expect_hit(t, LIT("alpha"), LIT("\"1\""));
    expect_hit(t, LIT("beta"), LIT("[2]"));
    table_free(t);
    counting_sink cs = {0};
    datafile_sink sink = {.begin = count_begin, .entry = count_entry, .arg = &cs};
    assert_int_equal(datafile_read(path, DATAFILE_AUTO, &sink, err, sizeof(err)), 2);
    assert_int_equal(cs.begins, 1); /* jansson was not needed */

    /* JSON handed to jansson: the same errors, lines and columns as
     * without the mark */
    static const char *const bad[] = {
        "{\"a\": 1,\n \"a\": 2}\n",  /* a duplicate key: the small reader hands over */
        "{\"a\" 1}\n",               /* line 1: the column counts from after the mark */
        "{\"a\": 1,\n\n \"b\" 2}\n", /* line 3 */
        "",                          /* the mark alone: an empty file */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[32], with_bom[64];
        snprintf(name, sizeof(name), "bad%zu.json", i);
        const char *plain = write_file(f, name, bad[i], strlen(bad[i]));
        snprintf(name, sizeof(name), "bad%zu-bom.json", i);
        snprintf(with_bom, sizeof(with_bom), BOM "%s", bad[i]);
        const char *bom = write_file(f, name, with_bom, strlen(with_bom));
        assert_null(load_file(plain, DATAFILE_AUTO, NULL, err, sizeof(err)));
        assert_null(load_file(bom, DATAFILE_AUTO, NULL, err_bom, sizeof(err_bom)));
        /* the same message after the path */
        if (strcmp(err + strlen(plain), err_bom + strlen(bom)) != 0)
            fail_msg("doc %zu: \"%s\" but with a BOM \"%s\"", i, err, err_bom);
    }
}

/* ---- a file that changes while it is read ---- */

/* How the progress hook changes the file, the first time it is called. */
typedef enum change {
    CHANGE_NONE,     /* leaves it alone */
    CHANGE_TRUNCATE, /* truncates it to truncate_to bytes, as ": > file" or cp would */
    CHANGE_APPEND,   /* appends a line */
    CHANGE_REWRITE,  /* writes other bytes over the first ones: the same size, a new mtime */
    CHANGE_CANCEL,   /* changes nothing, but gives the load up */
} change;

typedef struct changing_sink {
    counting_sink count;
    const char *path;
    change change;
    off_t truncate_to;
    int calls;
} changing_sink;

static int changing_begin(void *arg, size_t expected, size_t expected_bytes)
{
    return count_begin(&((changing_sink *)arg)->count, expected, expected_bytes);
}

static int changing_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                          size_t done)
{
    return count_entry(&((changing_sink *)arg)->count, key, key_len, value, nvalue, done);
}

static int changing_progress(void *arg, size_t done, size_t size)
{
    changing_sink *cs = arg;
    (void)done;
    (void)size;
    if (cs->calls++ > 0)
        return 0;
    switch (cs->change) {
    case CHANGE_NONE: break;
    case CHANGE_TRUNCATE: assert_int_equal(truncate(cs->path, cs->truncate_to), 0); break;
    case CHANGE_APPEND: {
        FILE *fp = fopen(cs->path, "ab");
        assert_non_null(fp);
        assert_true(fputs("appended\tline\n", fp) >= 0);
        assert_int_equal(fclose(fp), 0);
        break;
    }
    case CHANGE_REWRITE: {
        /* An explicit mtime: the change must not depend on the clock having
         * ticked since the file was written. */
        struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
        int fd = open(cs->path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "XXXX", 4, 0), 4);
        assert_int_equal(futimens(fd, times), 0);
        assert_int_equal(close(fd), 0);
        break;
    }
    case CHANGE_CANCEL: return -1;
    }
    return 0;
}

/* datafile_read reads in blocks, calling the sink's progress hook after
 * each: the hook changes the file under it at a known point, and the read
 * must fail cleanly, before any entry is handed over. */
static void test_file_changed_while_read(void **state)
{
    fixture *f = *state;
    enum { N = 100000 }; /* about 3 MB: several blocks */
    size_t cap = (size_t)N * 40, len = 0;
    char *data = malloc(cap);
    static const struct {
        change change;
        const char *error; /* NULL: it loads */
    } cases[] = {
        {CHANGE_NONE, NULL},
        {CHANGE_TRUNCATE, "changed while it was read (it ended after 1048576 of its "},
        {CHANGE_APPEND, "changed while it was read (it grew past its "},
        {CHANGE_REWRITE, "changed while it was read (written to meanwhile)"},
        {CHANGE_CANCEL, "load cancelled"},
    };

    assert_non_null(data);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(data + len, cap - len, "key%06d\tvalue %d\n", i, i);
    assert_true(len > 2 * (1 << 20));
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char name[32], err[512] = "";
        snprintf(name, sizeof(name), "changing%zu.tsv", c);
        const char *path = write_file(f, name, data, len);
        changing_sink cs = {.path = path, .change = cases[c].change, .truncate_to = 100};
        datafile_sink sink = {
            .begin = changing_begin, .entry = changing_entry, .progress = changing_progress, .arg = &cs};
        long n = datafile_read(path, DATAFILE_AUTO, &sink, err, sizeof(err));
        if (cases[c].error == NULL) {
            if (n != N)
                fail_msg("case %zu: %ld entries (%s), want %d", c, n, err, N);
            assert_true(cs.calls > 2);
            continue;
        }
        if (n != -1 || strstr(err, path) != err || strstr(err, cases[c].error) == NULL)
            fail_msg("case %zu: %ld entries, error \"%s\", want \"%s\"", c, n, err, cases[c].error);
        assert_int_equal(cs.count.begins, 0); /* nothing was handed over */
        assert_int_equal(cs.count.entries, 0);
    }
    free(data);
}

/* The hook is called once more when the last block is in: a file of one
 * block, emptied then, is caught by the checks made after the read. */
static void test_file_changed_after_the_last_block(void **state)
{
    fixture *f = *state;
    const char *path = write_file(f, "small.tsv", LIT("a\t1\nb\t2\n"));
    char err[512] = "";
    changing_sink cs = {.path = path, .change = CHANGE_TRUNCATE, .truncate_to = 0};
    datafile_sink sink = {.begin = changing_begin, .entry = changing_entry, .progress = changing_progress, .arg = &cs};

    assert_int_equal(datafile_read(path, DATAFILE_AUTO, &sink, err, sizeof(err)), -1);
    if (strstr(err, "changed while it was read (its size went from 8 to 0 bytes)") == NULL)
        fail_msg("error \"%s\"", err);
    assert_int_equal(cs.calls, 1);
    assert_int_equal(cs.count.begins, 0);
}

static void test_format_parse(void **state)
{
    (void)state;
    datafile_format fmt = DATAFILE_TSV;

    assert_int_equal(datafile_format_parse("json", &fmt), 0);
    assert_int_equal(fmt, DATAFILE_JSON);
    assert_int_equal(datafile_format_parse("tsv", &fmt), 0);
    assert_int_equal(fmt, DATAFILE_TSV);
    assert_int_equal(datafile_format_parse("auto", &fmt), 0);
    assert_int_equal(fmt, DATAFILE_AUTO);
    fmt = DATAFILE_TSV;
    assert_int_equal(datafile_format_parse("", &fmt), -1);
    assert_int_equal(datafile_format_parse("JSON", &fmt), -1);
    assert_int_equal(datafile_format_parse("xml", &fmt), -1);
    assert_int_equal(datafile_format_parse("json ", &fmt), -1);
    assert_int_equal(datafile_format_parse("tab", &fmt), -1);
    assert_int_equal(fmt, DATAFILE_TSV); /* untouched on error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_good, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_json_bad, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tsv_good, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tsv_large, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tsv_bad, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_unknown, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_json_reader_matches_jansson, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_json_reader_hands_over, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_byte_order_mark, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_file_changed_while_read, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_file_changed_after_the_last_block, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_format_parse),
    };
    return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
