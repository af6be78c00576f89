/*
 * test_resp_keyspace.c: unit tests of the keyspace commands
 * (server/resp/keyspace.c): values of every kind as GET and STRLEN send
 * them, SCAN over a few thousand keys, RANDOMKEY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_harness.h"

/* GET sends a string's bytes, unescaped, and other values' JSON text;
 * STRLEN is the length of what GET sends. */
static void test_value_kinds(void **state)
{
    (void)state;
    table *t = table_new(0, 0);
    assert_int_equal(table_put(t, LIT("plain"), LIT("\"Follow the white rabbit. \xf0\x9f\x90\xb0\"")), 0);
    assert_int_equal(table_put(t, LIT("empty"), LIT("\"\"")), 0);
    assert_int_equal(table_put(t, LIT("esc"), LIT("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000e\\u00e9\\u20ac\"")), 0);
    assert_int_equal(table_put(t, LIT("pair"), LIT("\"\\ud83d\\udc36!\"")), 0);
    assert_int_equal(table_put(t, LIT("lone"), LIT("\"\\ud83d\"")), 0);
    assert_int_equal(table_put(t, LIT("num"), LIT("-1.5e3")), 0);
    assert_int_equal(table_put(t, LIT("obj"), LIT("{\"a\": [1, \"x\\n\"], \"b\": null}")), 0);
    assert_int_equal(table_put(t, LIT("t"), LIT("true")), 0);
    assert_int_equal(table_put(t, LIT("nul"), LIT("null")), 0);

    EXPECT(t, "*2\r\n$3\r\nget\r\n$5\r\nplain\r\n*2\r\n$6\r\nstrlen\r\n$5\r\nplain\r\n",
           "$29\r\nFollow the white rabbit. \xf0\x9f\x90\xb0\r\n:29\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$5\r\nempty\r\n*2\r\n$6\r\nstrlen\r\n$5\r\nempty\r\n", "$0\r\n\r\n:0\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nesc\r\n*2\r\n$6\r\nstrlen\r\n$3\r\nesc\r\n",
           "$19\r\na\"b\\c/d\b\f\n\r\t\0e\xc3\xa9\xe2\x82\xac\r\n:19\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$4\r\npair\r\n*2\r\n$6\r\nstrlen\r\n$4\r\npair\r\n",
           "$5\r\n\xf0\x9f\x90\xb6!\r\n:5\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$4\r\nlone\r\n", "$3\r\n\xed\xa0\xbd\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nnum\r\n*2\r\n$6\r\nstrlen\r\n$3\r\nnum\r\n", "$6\r\n-1.5e3\r\n:6\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nobj\r\n", "$28\r\n{\"a\": [1, \"x\\n\"], \"b\": null}\r\n");
    EXPECT(t, "*4\r\n$4\r\nmget\r\n$1\r\nt\r\n$3\r\nnul\r\n$1\r\nx\r\n", "*3\r\n$4\r\ntrue\r\n$4\r\nnull\r\n$-1\r\n");
    EXPECT(t, "*2\r\n$4\r\ntype\r\n$3\r\nobj\r\n*2\r\n$3\r\nttl\r\n$3\r\nnum\r\n*2\r\n$4\r\npttl\r\n$1\r\nx\r\n",
           "+string\r\n:-1\r\n:-2\r\n");
    EXPECT(t, "*1\r\n$6\r\ndbsize\r\n", ":9\r\n");
    table_free(t);
}

/* Reads a SCAN reply: returns the next cursor, adds each key's count. */
static unsigned long parse_scan(const proto_buf *b, unsigned *seen, size_t nkeys)
{
    const char *p = b->data;
    assert_memory_equal(p, "*2\r\n$", 5);
    p += 5;
    size_t len = strtoul(p, (char **)&p, 10);
    p += 2;
    unsigned long cursor = strtoul(p, NULL, 10);
    p += len + 2;
    assert_int_equal(*p, '*');
    size_t n = strtoul(p + 1, (char **)&p, 10);
    p += 2;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(*p, '$');
        size_t klen = strtoul(p + 1, (char **)&p, 10);
        p += 2;
        assert_true(klen > 4 && memcmp(p, "key:", 4) == 0);
        size_t k = strtoul(p + 4, NULL, 10);
        assert_true(k < nkeys);
        seen[k]++;
        p += klen + 2;
    }
    assert_int_equal((size_t)(p - b->data), b->len);
    return cursor;
}

/* A full SCAN returns every key (here exactly once: the table never
 * changes) and ends with cursor 0, whatever COUNT; MATCH filters. */
static void test_scan_complete(void **state)
{
    (void)state;
    enum { NKEYS = 3000 };
    table *t = table_new(0, 0);
    char key[32], req[256];
    static unsigned seen[NKEYS];
    for (int i = 0; i < NKEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(table_put(t, key, (size_t)n, LIT("\"v\"")), 0);
    }
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);
    static const char *const counts[] = {NULL, "1", "7", "100", "100000"};
    for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
        memset(seen, 0, sizeof(seen));
        unsigned long cursor = 0;
        int calls = 0;
        do {
            char cur[24];
            int cl = snprintf(cur, sizeof(cur), "%lu", cursor);
            int n = counts[ci] == NULL
                        ? snprintf(req, sizeof(req), "*2\r\n$4\r\nscan\r\n$%d\r\n%s\r\n", cl, cur)
                        : snprintf(req, sizeof(req), "*4\r\n$4\r\nSCAN\r\n$%d\r\n%s\r\n$5\r\ncount\r\n$%zu\r\n%s\r\n",
                                   cl, cur, strlen(counts[ci]), counts[ci]);
            proto_buf out = run_stream(&env, &c, req, (size_t)n, NULL);
            cursor = parse_scan(&out, seen, NKEYS);
            proto_buf_free(&out);
            assert_true(++calls <= (int)table_slots(t) + 1);
        } while (cursor != 0);
        for (int i = 0; i < NKEYS; i++)
            assert_int_equal(seen[i], 1);
    }

    /* MATCH key:1?? returns key:100 .. key:199 over a full walk */
    memset(seen, 0, sizeof(seen));
    unsigned long cursor = 0;
    do {
        char cur[24];
        int cl = snprintf(cur, sizeof(cur), "%lu", cursor);
        int n =
            snprintf(req, sizeof(req), "*4\r\n$4\r\nscan\r\n$%d\r\n%s\r\n$5\r\nMATCH\r\n$7\r\nkey:1??\r\n", cl, cur);
        proto_buf out = run_stream(&env, &c, req, (size_t)n, NULL);
        cursor = parse_scan(&out, seen, NKEYS);
        proto_buf_free(&out);
    } while (cursor != 0);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(seen[i], i >= 100 && i < 200);

    /* a cursor past the end ends the walk */
    EXPECT(t, "*2\r\n$4\r\nscan\r\n$9\r\n999999999\r\n", "*2\r\n$1\r\n0\r\n*0\r\n");
    resp_client_free(&c);
    table_free(t);
}

static uint64_t fixed_random(void *arg)
{
    return *(uint64_t *)arg;
}

static void test_randomkey(void **state)
{
    (void)state;
    table *t = table_new(0, 0);
    uint64_t r = 12345;
    resp_env env = {t, NULL, fixed_random, &r, NULL};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$9\r\nrandomkey\r\n"), NULL);
    expect_bytes("empty", out.data, out.len, LIT("$-1\r\n"));
    proto_buf_free(&out);
    assert_int_equal(table_put(t, LIT("only"), LIT("1")), 0);
    for (r = 0; r < 64; r++) {
        out = run_stream(&env, &c, LIT("*1\r\n$9\r\nRANDOMKEY\r\n"), NULL);
        expect_bytes("one key", out.data, out.len, LIT("$4\r\nonly\r\n"));
        proto_buf_free(&out);
    }
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_kinds),
        cmocka_unit_test(test_scan_complete),
        cmocka_unit_test(test_randomkey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
