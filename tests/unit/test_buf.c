/*
 * test_buf.c: unit tests of the byte buffer (proto/buf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

#define LIT(s) (s), (sizeof(s) - 1)

static void test_buf(void **state)
{
    (void)state;
    proto_buf b = {0};
    char big[10000];

    memset(big, 'q', sizeof(big));
    for (int i = 0; i < 50; i++)
        assert_int_equal(proto_buf_append(&b, big, sizeof(big)), 0);
    assert_int_equal(b.len, 50 * sizeof(big));
    assert_true(b.cap >= b.len);
    assert_int_equal(proto_buf_append(&b, NULL, 0), 0);
    proto_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(proto_buf_append(&b, LIT("ab")), 0);
    assert_memory_equal(b.data, "ab", 2);
    proto_buf_free(&b);
    proto_buf_free(&b); /* freeing twice is harmless */
}

/* Appending nothing succeeds, on a fresh buffer too, and leaves it empty. */
static void test_buf_append_nothing(void **state)
{
    proto_buf b = {0};
    (void)state;
    assert_int_equal(proto_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.failed, 0);
    assert_int_equal(proto_buf_append(&b, "ab", 2), 0);
    assert_int_equal(proto_buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 2);
    proto_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_nothing),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
