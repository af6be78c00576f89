/*
 * test_parse.c: unit tests of the client programs' number parsers
 * (client/parse.c) and their error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

static void test_count(void **state)
{
    long long v = 7;
    char err[PARSE_ERR_LEN];
    (void)state;
    assert_int_equal(parse_count("1", 1, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1);
    assert_int_equal(parse_count("10", 1, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 10);
    assert_int_equal(parse_count("-1", -1, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -1);
    assert_int_equal(parse_count("007", 0, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 7);
    static const char *const bad[] = {
        "", "0", "11", "x", "1x", " 1", "+1", "1.5", "1e3", "-", "-1", ".5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        if (parse_count(bad[i], 1, 10, &v, err, sizeof(err)) == 0)
            fail_msg("'%s' taken", bad[i]);
        assert_int_equal(v, 42);
    }
    parse_count("x", 1, 10, &v, err, sizeof(err));
    assert_string_equal(err, "must be a whole number from 1 to 10, not 'x'");
    parse_count("0", 1, 10, &v, err, sizeof(err));
    assert_string_equal(err, "must be a whole number from 1 to 10, not '0'");
}

static void test_bytes(void **state)
{
    size_t v = 7;
    char err[PARSE_ERR_LEN];
    (void)state;
    assert_int_equal(parse_bytes("536870912", 1, SIZE_MAX, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 536870912);
    assert_int_equal(parse_bytes("18446744073709551615", 1, SIZE_MAX, &v, err, sizeof(err)), 0);
    assert_true(v == SIZE_MAX);
    static const char *const bad[] = {"", "0", "-1", " 1", "+1", "1k", "1K", "1.5", "18446744073709551616", "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        if (parse_bytes(bad[i], 1, SIZE_MAX, &v, err, sizeof(err)) == 0)
            fail_msg("'%s' taken", bad[i]);
        assert_int_equal(v, 42);
    }
    parse_bytes("1k", 1, 100, &v, err, sizeof(err));
    assert_string_equal(err, "must be a whole number of bytes from 1 to 100, not '1k'");
    /* No buffer: the answer alone. */
    assert_int_equal(parse_bytes("0", 1, 100, &v, NULL, 0), -1);
}

static void test_seconds(void **state)
{
    double v = 7;
    char err[PARSE_ERR_LEN];
    (void)state;
    assert_int_equal(parse_seconds("0.25", 0, 10, &v, err, sizeof(err)), 0);
    assert_true(v == 0.25);
    assert_int_equal(parse_seconds("2", 0, 10, &v, err, sizeof(err)), 0);
    assert_true(v == 2);
    assert_int_equal(parse_seconds("0", 0, 10, &v, err, sizeof(err)), 0);
    assert_true(v == 0);
    assert_int_equal(parse_seconds("1e-3", 0.001, 10, &v, err, sizeof(err)), 0);
    assert_true(v == 0.001);
    assert_int_equal(parse_seconds(".5", 0, 10, &v, err, sizeof(err)), 0);
    assert_true(v == 0.5);
    static const char *const bad[] = {"", "-1", "11", "soon", "nan", "inf", "0x1", " 1", "+1", "1s", "1e999", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        if (parse_seconds(bad[i], 0, 10, &v, err, sizeof(err)) == 0)
            fail_msg("'%s' taken", bad[i]);
        assert_true(v == 42);
    }
    parse_seconds("soon", 0.001, 86400, &v, err, sizeof(err));
    assert_string_equal(err, "must be a number of seconds from 0.001 to 86400, not 'soon'");
}

static void test_long_input_is_cut(void **state)
{
    long long v;
    char err[PARSE_ERR_LEN], in[200];
    (void)state;
    memset(in, 'x', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    assert_int_equal(parse_count(in, 1, 2, &v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "xxx...'"));
    assert_true(strlen(err) < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_long_input_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
