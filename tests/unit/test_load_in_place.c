/*
 * test_load_in_place.c: load_file builds its table in the data file's own
 * bytes, and a big TSV file is parsed while a thread reads it. Each case
 * loads a file that way and the plain way (datafile_read into a table that
 * copies every entry) and compares the two tables key by key: the same
 * values, the same kinds, the same errors. Files are made to push each
 * path: entries that do not fit over the bytes read (escapes), more than
 * the room kept for them (the load starts over and copies), duplicates
 * found late, errors at a big file's last line, CRLF, blank lines, a BOM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "load.h"
#include "table.h"

static char tmpdir[64];
static char written[16][128]; /* the files, removed at the end */
static int nwritten;

static int dir_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/evkv-inplace-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < nwritten; i++)
        unlink(written[i]);
    return rmdir(tmpdir);
}

/* A growing text, for the files. */
typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n + 64;
        t->data = realloc(t->data, t->cap);
        assert_non_null(t->data);
    }
}

/* Writes t to <tmpdir>/name; returns the path. */
static const char *write_text(const char *name, const text *t)
{
    char want[128], *path = NULL;
    snprintf(want, sizeof(want), "%s/%s", tmpdir, name);
    for (int i = 0; i < nwritten && path == NULL; i++)
        path = strcmp(written[i], want) == 0 ? written[i] : NULL; /* written again */
    if (path == NULL) {
        assert_true(nwritten < 16);
        path = written[nwritten++];
        snprintf(path, sizeof(written[0]), "%s", want);
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(t->data, 1, t->len, fp), t->len);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* The plain way: every entry copied into a table of its own. */
static int copy_begin(void *arg, size_t expected, size_t expected_bytes)
{
    table **t = arg;
    table_free(*t);
    *t = table_new(expected, expected_bytes);
    return *t ? 0 : -1;
}

static int copy_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    (void)done;
    return table_put_iov(*(table **)arg, key, key_len, value, nvalue);
}

static table *load_copying(const char *path, char *err, size_t errlen)
{
    table *t = NULL;
    datafile_sink sink = {.begin = copy_begin, .entry = copy_entry, .arg = &t};
    if (datafile_read(path, DATAFILE_AUTO, &sink, err, errlen) < 0) {
        table_free(t);
        return NULL;
    }
    return t ? t : table_new(0, 0);
}

/* Loads path both ways: the same table, or the same error (returned in
 * err, "" when it loads). Returns the table built in place, or NULL. */
static table *load_both(const char *path, char *err, size_t errlen)
{
    char err_copy[512] = "";
    table *in = load_file(path, DATAFILE_AUTO, NULL, err, errlen);
    table *copy = load_copying(path, err_copy, sizeof(err_copy));

    if (in == NULL || copy == NULL) {
        if (in != NULL || copy != NULL || strcmp(err, err_copy) != 0)
            fail_msg("%s: in place \"%s\", copying \"%s\"", path, in ? "loaded" : err, copy ? "loaded" : err_copy);
        return NULL;
    }
    err[0] = '\0';
    assert_int_equal(table_size(in), table_size(copy));
    for (size_t s = 0; s < table_slots(copy); s++) {
        const char *k, *v1, *v2;
        size_t klen, l1, l2;
        table_kind k1, k2;
        if (!table_slot_key(copy, s, &k, &klen))
            continue;
        assert_int_equal(table_get(copy, k, klen, &v1, &l1, &k1), 1);
        if (table_get(in, k, klen, &v2, &l2, &k2) != 1)
            fail_msg("%s: key '%.*s' missing in place", path, (int)klen, k);
        if (l1 != l2 || memcmp(v1, v2, l1) != 0 || k1 != k2)
            fail_msg("%s: key '%.*s': '%.*s' in place, '%.*s' copied", path, (int)klen, k, (int)l2, v2, (int)l1, v1);
    }
    table_free(copy);
    return in;
}

/* Entries that outgrow their lines (escapes) land after the file's bytes,
 * then move behind the others; CRLF, blank lines and a BOM as ever. */
static void test_escapes_crlf_bom(void **state)
{
    (void)state;
    text t = {0};
    char err[512];
    add(&t, "\xef\xbb\xbf");
    for (int i = 0; i < 3000; i++) {
        switch (i % 5) {
        case 0: add(&t, "k%d\tplain %d\n", i, i); break;
        case 1: add(&t, "k%d\t\"q\\\\%d\x01\x02\x03\"\r\n", i, i); break;
        case 2: add(&t, "\n"); break;
        case 3: add(&t, "k%d\t\xc3\xa9t\xc3\xa9 %d\t(tab)\n", i, i); break;
        default: add(&t, "k\xe2\x82\xac%d\t\n", i); break;
        }
    }
    add(&t, "last\tno newline\r");
    table *in = load_both(write_text("mixed.tsv", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), 3000 / 5 * 4 + 1);
    table_free(in);

    /* JSON: values the small reader writes out again, and plain ones */
    t.len = 0;
    add(&t, "{");
    for (int i = 0; i < 3000; i++)
        add(&t, "%s\"k%d\": %s", i ? ",\n  " : "\n  ", i,
            i % 3 == 0   ? "\"plain\""
            : i % 3 == 1 ? "[1, {\"a\":\"\\u00e9\\n\"}, 2.50]"
                         : "\"esc\\\"aped\\t\"");
    add(&t, "\n}\n");
    in = load_both(write_text("mixed.json", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), 3000);
    table_free(in);
    free(t.data);
}

/* Values six times their size once escaped: more than the room kept after
 * the file's bytes, so the load starts over and copies, with the same
 * outcome. */
static void test_room_used_up(void **state)
{
    (void)state;
    text t = {0};
    char err[512];
    for (int i = 0; i < 50000; i++) {
        add(&t, "key%d\t", i);
        for (int j = 0; j < 100; j++)
            add(&t, "\x01");
        add(&t, "\n");
    }
    assert_true(t.len > ((size_t)4 << 20)); /* read by a thread */
    table *in = load_both(write_text("escapes.tsv", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), 50000);
    table_free(in);
    free(t.data);
}

/* A big file, parsed while it is read: every key, a lean table, and an
 * error at its last line or a key twice named as for a small file. */
static void test_big_file(void **state)
{
    (void)state;
    enum { N = 200000 };
    text t = {0};
    char err[512];
    size_t data_bytes = 0;

    for (int i = 0; i < N; i++) {
        size_t before = t.len;
        add(&t, "key:%09d\tsome value of a few tens of bytes, number %d\n", i, i);
        data_bytes += t.len - before - 2; /* the key's and value's bytes */
    }
    assert_true(t.len > ((size_t)4 << 20));
    table *in = load_both(write_text("big.tsv", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), N);
    /* At most 24 bytes a key over the keys' and values' bytes, index
     * included (pages rounded up). */
    if (table_memory(in) > data_bytes + (size_t)N * 24 + (8u << 10))
        fail_msg("%zu bytes for %zu bytes of data and %d keys", table_memory(in), data_bytes, N);
    table_free(in);

    size_t whole = t.len;
    add(&t, "no tab on the last line\n");
    assert_null(load_both(write_text("big-bad.tsv", &t), err, sizeof(err)));
    if (strstr(err, ": line 200001: no TAB between key and value") == NULL)
        fail_msg("error \"%s\"", err);
    t.len = whole;
    add(&t, "key:000000007\tagain\n");
    assert_null(load_both(write_text("big-dup.tsv", &t), err, sizeof(err)));
    if (strstr(err, ": line 200001: duplicate key 'key:000000007'") == NULL)
        fail_msg("error \"%s\"", err);
    free(t.data);
}

/* A big JSON file, parsed while it is read, values spread over lines
 * among them: every entry, and errors as the plain way gives them. */
static void test_big_json(void **state)
{
    (void)state;
    enum { N = 100000 };
    text t = {0};
    char err[512];

    add(&t, "\xef\xbb\xbf{\n");
    for (int i = 0; i < N; i++) {
        if (i % 1000 == 7)
            add(&t, "  \"key:%09d\":\n    {\n      \"list\": [\n        %d,\n        \"x\"\n      ]\n    },\n", i, i);
        else
            add(&t, "  \"key:%09d\": \"some value of a few tens of bytes, number %d\",\n", i, i);
    }
    size_t whole = t.len;
    add(&t, "  \"last\": true\n}\n");
    assert_true(t.len > ((size_t)4 << 20));
    table *in = load_both(write_text("big.json", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), N + 1);
    table_free(in);

    t.len = whole;
    add(&t, "  \"last\": tru\n}\n");
    assert_null(load_both(write_text("big-bad.json", &t), err, sizeof(err)));
    if (strstr(err, "line ") == NULL)
        fail_msg("error \"%s\"", err);
    free(t.data);
}

/* A JSON file with a key twice: jansson words the error, on the file read
 * again after its bytes were handed over. */
static void test_json_duplicate(void **state)
{
    (void)state;
    text t = {0};
    char err[512];
    add(&t, "{");
    for (int i = 0; i < 5000; i++)
        add(&t, "\"k%d\": \"v\",\n", i);
    add(&t, "\"k17\": 1}");
    assert_null(load_both(write_text("dup.json", &t), err, sizeof(err)));
    if (strstr(err, "line 5001") == NULL || strstr(err, "duplicate object key") == NULL)
        fail_msg("error \"%s\"", err);
    free(t.data);
}

/* A key twice, then a bad line before the duplicate was indexed: the
 * error named is the first in the file, as the plain way names it. */
static void test_duplicate_then_error(void **state)
{
    (void)state;
    text t = {0};
    char err[512];
    add(&t, "a\t1\nb\t2\na\t3\nno tab\n");
    assert_null(load_both(write_text("dup-bad.tsv", &t), err, sizeof(err)));
    if (strstr(err, ": line 3: duplicate key 'a'") == NULL)
        fail_msg("error \"%s\"", err);
    free(t.data);
}

/* A big TSV file is parsed in two parts at once, the second from the line
 * after its middle: whatever the middle falls on (a line's first byte, its
 * newline, the BOM's offset), every entry is loaded once, and an error in
 * either half is named at its line. */
static void test_two_parts_split(void **state)
{
    (void)state;
    enum { N = 150000 }; /* lines of 32 bytes: 4.8 MB, read by a thread */
    text t = {0};
    char err[512];

    for (int shift = 0; shift <= 33; shift += shift == 2 ? 29 : 1) {
        t.len = 0;
        if (shift & 1)
            add(&t, "\xef\xbb\xbf");
        add(&t, "first\t%.*s\n", shift, "................................................");
        for (int i = 0; i < N; i++)
            add(&t, "key:%09d\tvalue number %07d\n", i, i);
        assert_true(t.len > ((size_t)4 << 20));
        table *in = load_both(write_text("split.tsv", &t), err, sizeof(err));
        assert_non_null(in);
        assert_int_equal(table_size(in), N + 1);
        table_free(in);
    }

    /* an error in the first half, and one in the second */
    for (int at = N / 4; at < N; at += N / 2) {
        t.len = 0;
        for (int i = 0; i < N; i++)
            add(&t, i == at ? "key:%09d value number %07d\n" : "key:%09d\tvalue number %07d\n", i, i);
        assert_null(load_both(write_text("split-bad.tsv", &t), err, sizeof(err)));
        char want[64];
        snprintf(want, sizeof(want), ": line %d: no TAB between key and value", at + 1);
        if (strstr(err, want) == NULL)
            fail_msg("error \"%s\", not at line %d", err, at + 1);
    }

    /* one line from before the middle to the end, with no newline: the
     * second part has no line of its own */
    t.len = 0;
    for (int i = 0; i < N / 3; i++)
        add(&t, "key:%09d\tvalue number %07d\n", i, i);
    add(&t, "long\t");
    while (t.len < (size_t)N * 32)
        add(&t, "a long value, ");
    table *in = load_both(write_text("split-long.tsv", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), N / 3 + 1);
    table_free(in);
    free(t.data);
}

/* A file whose first lines are long and the rest short: the index, sized
 * from the lines of the first blocks read, fills up while two parts add
 * to it (it cannot grow then), and the file is read again the plain way,
 * with the same outcome. */
static void test_two_parts_index_full(void **state)
{
    (void)state;
    text t = {0};
    char err[512];
    int n = 0;

    for (; t.len < ((size_t)2 << 20); n++)
        add(&t, "long:%d\t%02000d\n", n, n);
    for (; t.len < ((size_t)9 << 19); n++)
        add(&t, "k%d\tv\n", n);
    table *in = load_both(write_text("index-full.tsv", &t), err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), n);
    table_free(in);
    free(t.data);
}

/* Keys kept by a predicate (--shard, --cluster-config): of two parts each
 * leaves out its own, the table holds exactly the others with their
 * values, and the room the others took in the file (a gap of about half
 * of each part) and in the index is given back. */
static int keep_even(const void *arg, const char *key, size_t len)
{
    (void)arg;
    return (key[len - 1] - '0') % 2 == 0;
}

static int keep_first_half(const void *arg, const char *key, size_t len)
{
    (void)len;
    return atoi(key + 4) < *(const int *)arg;
}

static void test_two_parts_kept(void **state)
{
    (void)state;
    enum { N = 200000 };
    text t = {0};
    char err[512];
    size_t skipped = 0, data_bytes = 0;
    int half = N / 2;

    for (int i = 0; i < N; i++) {
        size_t before = t.len;
        add(&t, "key:%09d\tsome value of a few tens of bytes, number %d\n", i, i);
        data_bytes += t.len - before - 2;
    }
    const char *path = write_text("kept.tsv", &t);
    table *in = load_file_keep(path, DATAFILE_TSV, keep_even, NULL, &skipped, NULL, 2, err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), N / 2);
    assert_int_equal(skipped, N / 2);
    for (int i = 0; i < N; i++) {
        char key[16], want[64];
        const char *v;
        size_t vlen;
        snprintf(key, sizeof(key), "key:%09d", i);
        int found = table_lookup(in, key, strlen(key), &v, &vlen);
        assert_int_equal(found, i % 2 == 0);
        if (found) {
            snprintf(want, sizeof(want), "\"some value of a few tens of bytes, number %d\"", i);
            if (vlen != strlen(want) || memcmp(v, want, vlen) != 0)
                fail_msg("%s: '%.*s'", key, (int)vlen, v);
        }
    }
    /* at most 24 bytes a kept key over their bytes: the index too is
     * sized for the keys kept, not the file's lines */
    if (table_memory(in) > data_bytes / 2 + (size_t)N / 2 * 24 + (8u << 10))
        fail_msg("%zu bytes for %zu bytes of data kept", table_memory(in), data_bytes / 2);
    table_free(in);

    /* every key of the second part left out */
    in = load_file_keep(path, DATAFILE_TSV, keep_first_half, &half, &skipped, NULL, 2, err, sizeof(err));
    assert_non_null(in);
    assert_int_equal(table_size(in), half);
    assert_int_equal(skipped, N - half);
    const char *v;
    size_t vlen;
    assert_int_equal(table_lookup(in, "key:000000000", 13, &v, &vlen), 1);
    assert_int_equal(table_lookup(in, "key:000099999", 13, &v, &vlen), 1);
    assert_int_equal(table_lookup(in, "key:000100000", 13, &v, &vlen), 0);
    table_free(in);
    free(t.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_crlf_bom),
        cmocka_unit_test(test_room_used_up),
        cmocka_unit_test(test_big_file),
        cmocka_unit_test(test_big_json),
        cmocka_unit_test(test_json_duplicate),
        cmocka_unit_test(test_duplicate_then_error),
        cmocka_unit_test(test_two_parts_split),
        cmocka_unit_test(test_two_parts_kept),
        cmocka_unit_test(test_two_parts_index_full),
    };
    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
