/*
 * test_table.c: unit tests of the lookup table (table_new/put/lookup/size).
 *
 * The builtin table, duplicates, enough keys to grow the index many times,
 * and keys that only a binary-safe comparison tells apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

#define LIT(s) (s), (sizeof(s) - 1)

static void expect_hit(const table *t, const char *key, size_t key_len, const char *want, size_t want_len)
{
    const char *v = NULL;
    size_t vlen = 0;
    if (table_lookup(t, key, key_len, &v, &vlen) != 1)
        fail_msg("key '%.*s' (%zu bytes) not found", (int)key_len, key, key_len);
    assert_int_equal(vlen, want_len);
    assert_memory_equal(v, want, want_len);
}

static void expect_miss(const table *t, const char *key, size_t key_len)
{
    const char *v = NULL;
    size_t vlen = 0;
    if (table_lookup(t, key, key_len, &v, &vlen) != 0)
        fail_msg("key '%.*s' (%zu bytes) found", (int)key_len, key, key_len);
}

static void test_builtin(void **state)
{
    (void)state;
    table *t = table_builtin();

    assert_non_null(t);
    assert_int_equal(table_size(t), 3);
    expect_hit(t, LIT("morpheus"), LIT("\"Follow the white rabbit. \xf0\x9f\x90\xb0\""));
    expect_hit(t, LIT("ring"), LIT("\"In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d\""));
    expect_hit(t, LIT("\xf0\x9f\x90\xb6"), LIT("\"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\""));
    expect_miss(t, LIT("nope"));
    expect_miss(t, LIT("Morpheus"));
    expect_miss(t, LIT("morpheus "));
    expect_miss(t, LIT("morpheu"));
    expect_miss(t, "morpheus", 9); /* with its NUL */
    expect_miss(t, LIT(""));
    assert_true(table_memory(t) > 0);
    table_free(t);
    table_free(NULL);
}

static void test_empty(void **state)
{
    (void)state;
    table *t = table_new(0, 0);

    assert_non_null(t);
    assert_int_equal(table_size(t), 0);
    expect_miss(t, LIT(""));
    expect_miss(t, LIT("anything"));
    table_free(t);
}

static void test_duplicate(void **state)
{
    (void)state;
    table *t = table_new(4, 0);

    assert_int_equal(table_put(t, LIT("k"), LIT("\"first\"")), 0);
    assert_int_equal(table_put(t, LIT("k"), LIT("\"second\"")), 1);
    assert_int_equal(table_put(t, LIT("k"), LIT("")), 1);
    assert_int_equal(table_size(t), 1);
    expect_hit(t, LIT("k"), LIT("\"first\""));
    assert_int_equal(table_put(t, LIT("k2"), LIT("\"second\"")), 0);
    assert_int_equal(table_size(t), 2);
    table_free(t);
}

/* Starting from the smallest index, 100000 keys force many grows; every key
 * keeps its value, and keys never put are missed. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 100000 };
    table *t = table_new(0, 0);
    char key[32], val[48];
    size_t mem_before = table_memory(t);

    assert_non_null(t);
    for (int i = 0; i < N; i++) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        int vl = snprintf(val, sizeof(val), "\"value %d\"", i * 7);
        assert_int_equal(table_put(t, key, (size_t)kl, val, (size_t)vl), 0);
    }
    assert_int_equal(table_size(t), N);
    assert_true(table_memory(t) > mem_before + N * 8);
    for (int i = 0; i < N; i++) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        int vl = snprintf(val, sizeof(val), "\"value %d\"", i * 7);
        expect_hit(t, key, (size_t)kl, val, (size_t)vl);
    }
    for (int i = N; i < 2 * N; i++) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        expect_miss(t, key, (size_t)kl);
    }
    expect_miss(t, LIT("key-"));
    expect_miss(t, LIT("key-0 "));
    expect_miss(t, LIT("key-00"));
    /* re-putting any of them is a duplicate, and changes nothing */
    for (int i = 0; i < N; i += 997) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(table_put(t, key, (size_t)kl, LIT("0")), 1);
    }
    assert_int_equal(table_size(t), N);
    expect_hit(t, LIT("key-0"), LIT("\"value 0\""));
    table_free(t);
}

/* Sized up front: no grow needed, same answers. */
static void test_presized(void **state)
{
    (void)state;
    enum { N = 5000 };
    table *t = table_new(N, 0);
    char key[32];

    for (int i = 0; i < N; i++) {
        int kl = snprintf(key, sizeof(key), "%08x", (unsigned)i * 2654435761u);
        assert_int_equal(table_put(t, key, (size_t)kl, key, (size_t)kl), 0);
    }
    for (int i = 0; i < N; i++) {
        int kl = snprintf(key, sizeof(key), "%08x", (unsigned)i * 2654435761u);
        expect_hit(t, key, (size_t)kl, key, (size_t)kl);
    }
    assert_int_equal(table_size(t), N);
    table_free(t);
}

static void test_binary_keys(void **state)
{
    (void)state;
    table *t = table_new(2, 0);

    /* length 0 and NUL bytes */
    assert_int_equal(table_put(t, "", 0, LIT("\"empty\"")), 0);
    assert_int_equal(table_put(t, "\0", 1, LIT("\"nul\"")), 0);
    assert_int_equal(table_put(t, "\0\0", 2, LIT("\"nulnul\"")), 0);
    assert_int_equal(table_put(t, LIT("a\0b"), LIT("\"a0b\"")), 0);
    assert_int_equal(table_put(t, LIT("a\0c"), LIT("\"a0c\"")), 0);
    assert_int_equal(table_put(t, LIT("a"), LIT("\"a\"")), 0);
    assert_int_equal(table_put(t, LIT("a\0"), LIT("\"a0\"")), 0);
    /* differ only after the first 8 bytes, or only in length */
    assert_int_equal(table_put(t, LIT("abcdefgh1"), LIT("\"1\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefgh2"), LIT("\"2\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefgh"), LIT("\"8\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefgh\0"), LIT("\"8+nul\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefghijklmnoX"), LIT("\"X\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefghijklmnoY"), LIT("\"Y\"")), 0);
    assert_int_equal(table_put(t, LIT("abcdefghijklmnopq"), LIT("\"q\"")), 0);
    assert_int_equal(table_put(t, LIT("\xff\xfe\x80\x00\x01zzzz"), LIT("\"bin\"")), 0);
    /* an empty value */
    assert_int_equal(table_put(t, LIT("novalue"), "", 0), 0);
    assert_int_equal(table_size(t), 16);

    expect_hit(t, "", 0, LIT("\"empty\""));
    expect_hit(t, "\0", 1, LIT("\"nul\""));
    expect_hit(t, "\0\0", 2, LIT("\"nulnul\""));
    expect_hit(t, LIT("a\0b"), LIT("\"a0b\""));
    expect_hit(t, LIT("a\0c"), LIT("\"a0c\""));
    expect_hit(t, LIT("a"), LIT("\"a\""));
    expect_hit(t, LIT("a\0"), LIT("\"a0\""));
    expect_hit(t, LIT("abcdefgh1"), LIT("\"1\""));
    expect_hit(t, LIT("abcdefgh2"), LIT("\"2\""));
    expect_hit(t, LIT("abcdefgh"), LIT("\"8\""));
    expect_hit(t, LIT("abcdefgh\0"), LIT("\"8+nul\""));
    expect_hit(t, LIT("abcdefghijklmnoX"), LIT("\"X\""));
    expect_hit(t, LIT("abcdefghijklmnoY"), LIT("\"Y\""));
    expect_hit(t, LIT("abcdefghijklmnopq"), LIT("\"q\""));
    expect_hit(t, LIT("\xff\xfe\x80\x00\x01zzzz"), LIT("\"bin\""));
    expect_hit(t, LIT("novalue"), "", 0);

    expect_miss(t, "\0\0\0", 3);
    expect_miss(t, LIT("a\0d"));
    expect_miss(t, LIT("abcdefgh3"));
    expect_miss(t, LIT("abcdefghijklmnoZ"));
    expect_miss(t, LIT("abcdefghijklmnop"));
    expect_miss(t, LIT("\xff\xfe\x80\x00\x01zzzy"));
    assert_int_equal(table_put(t, "", 0, LIT("\"again\"")), 1);
    assert_int_equal(table_put(t, LIT("a\0b"), LIT("\"again\"")), 1);
    table_free(t);
}

/* Values are returned byte for byte, including large ones. */
static void test_large_value(void **state)
{
    (void)state;
    enum { LEN = 200000 };
    static char big[LEN];
    table *t = table_new(1, 0);

    for (size_t i = 0; i < LEN; i++)
        big[i] = (char)(i * 31 + 7);
    assert_int_equal(table_put(t, LIT("small"), LIT("1")), 0);
    assert_int_equal(table_put(t, LIT("big"), big, LEN), 0);
    assert_int_equal(table_put(t, big, 5000, LIT("\"long key\"")), 0);
    expect_hit(t, LIT("small"), LIT("1"));
    expect_hit(t, LIT("big"), big, LEN);
    expect_hit(t, big, 5000, LIT("\"long key\""));
    expect_miss(t, big, 4999);
    table_free(t);
}

/* A value given in pieces is stored joined; a table sized for many bytes
 * and trimmed keeps every entry. */
static void test_iov_and_trim(void **state)
{
    (void)state;
    table *t = table_new(1000, 64 << 20);
    assert_non_null(t);
    struct iovec v[3] = {{"\"", 1}, {"middle", 6}, {"\"", 1}};
    assert_int_equal(table_put_iov(t, LIT("k"), v, 3), 0);
    assert_int_equal(table_put_iov(t, LIT("k"), v, 3), 1);
    char key[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        assert_int_equal(table_put(t, key, strlen(key), key, strlen(key)), 0);
    }
    size_t before = table_memory(t);
    table_trim(t);
    assert_true(table_memory(t) < before);
    expect_hit(t, LIT("k"), LIT("\"middle\""));
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        expect_hit(t, key, strlen(key), key, strlen(key));
    }
    /* still growable after the trim */
    assert_int_equal(table_put(t, LIT("after"), LIT("trim")), 0);
    expect_hit(t, LIT("after"), LIT("trim"));
    table_free(t);
}

static void expect_kind(const table *t, const char *key, table_kind want, size_t want_len)
{
    const char *v = NULL;
    size_t vlen = 0;
    table_kind kind = TABLE_JSON;
    if (table_get(t, key, strlen(key), &v, &vlen, &kind) != 1)
        fail_msg("key '%s' not found", key);
    assert_int_equal(kind, want);
    assert_int_equal(vlen, want_len);
    /* the guide's lookup sees the same value with no kind bits in its length */
    size_t vlen2 = 0;
    assert_int_equal(table_lookup(t, key, strlen(key), &v, &vlen2), 1);
    assert_int_equal(vlen2, want_len);
}

/* Each value's kind is decided by table_put, whole or in pieces. */
static void test_kinds(void **state)
{
    (void)state;
    table *t = table_new(8, 0);
    struct iovec parts[] = {{"\"a\\", 3}, {"nb\"", 3}};

    assert_int_equal(table_put(t, LIT("raw"), LIT("\"plain \xf0\x9f\x90\xb0\"")), 0);
    assert_int_equal(table_put(t, LIT("empty"), LIT("\"\"")), 0);
    assert_int_equal(table_put(t, LIT("esc"), LIT("\"a\\\"b\"")), 0);
    assert_int_equal(table_put_iov(t, LIT("iov"), parts, 2), 0);
    assert_int_equal(table_put(t, LIT("num"), LIT("42")), 0);
    assert_int_equal(table_put(t, LIT("obj"), LIT("{\"a\": 1}")), 0);
    assert_int_equal(table_put(t, LIT("quote"), LIT("\"")), 0);
    assert_int_equal(table_put(t, LIT("none"), LIT("")), 0);
    expect_kind(t, "raw", TABLE_STRING_RAW, 12);
    expect_kind(t, "empty", TABLE_STRING_RAW, 2);
    expect_kind(t, "esc", TABLE_STRING_ESCAPED, 6);
    expect_kind(t, "iov", TABLE_STRING_ESCAPED, 6);
    expect_kind(t, "num", TABLE_JSON, 2);
    expect_kind(t, "obj", TABLE_JSON, 8);
    expect_kind(t, "quote", TABLE_JSON, 1);
    expect_kind(t, "none", TABLE_JSON, 0);
    table_free(t);
}

/* A walk over the slots sees every key once; a random pick finds a key. */
static void test_slots_and_random(void **state)
{
    (void)state;
    table *t = table_new(0, 0);
    const char *k;
    size_t klen;
    char key[16];

    assert_int_equal(table_random_key(t, 12345, &k, &klen), 0);
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(table_put(t, key, (size_t)n, LIT("1")), 0);
    }
    size_t seen = 0;
    for (size_t s = 0; s < table_slots(t) + 3; s++) {
        if (table_slot_key(t, s, &k, &klen)) {
            seen++;
            assert_true(klen >= 2 && k[0] == 'k');
        }
    }
    assert_int_equal(seen, 1000);
    for (uint64_t r = 0; r < 100; r++) {
        assert_int_equal(table_random_key(t, r * UINT64_C(0x9e3779b97f4a7c15), &k, &klen), 1);
        assert_int_equal(k[0], 'k');
    }
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),     cmocka_unit_test(test_empty),
        cmocka_unit_test(test_duplicate),   cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_presized),    cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_large_value), cmocka_unit_test(test_iov_and_trim),
        cmocka_unit_test(test_kinds),       cmocka_unit_test(test_slots_and_random),
    };
    return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
