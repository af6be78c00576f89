/*
 * test_resp_connection.c: unit tests of the connection commands
 * (server/resp/connection.c): QUIT, an HTTP request, and the results a
 * command gives its caller's counters.
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

/* QUIT answers +OK and asks for a close, in MULTI too; an HTTP request is
 * closed with no answer, as Redis does. */
static void test_quit(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_result res;

    resp_client_init(&c, 1);
    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$4\r\nquit\r\n"), &res);
    assert_int_equal(res.close, 1);
    expect_bytes("quit", out.data, out.len, LIT("+OK\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nQUIT\r\n"), &res);
    assert_int_equal(res.close, 1);
    expect_bytes("multi quit", out.data, out.len, LIT("+OK\r\n+OK\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$4\r\nPOST\r\n$1\r\n/\r\n"), &res);
    assert_int_equal(res.close, 1);
    assert_int_equal(out.len, 0);
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$3\r\nget\r\n$1\r\nb\r\n"), &res);
    assert_int_equal(res.close, 0);
    assert_int_equal(res.error, 0);
    proto_buf_free(&out);

    /* errors are flagged for the caller's counters; EXEC's array is not one */
    resp_client_free(&c);
    resp_client_init(&c, 2);
    out = run_stream(
        &env, &c,
        LIT("*1\r\n$3\r\nfoo\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$5\r\nmulti\r\n"
            "*1\r\n$3\r\nfoo\r\n*1\r\n$4\r\nexec\r\n*1\r\n$5\r\nmulti\r\n*1\r\n$3\r\nfoo\r\n*1\r\n$7\r\ndiscard\r\n"),
        &res);
    assert_int_equal(res.error, 5);
    assert_int_equal(res.commands, 4); /* multi, exec, multi, discard */
    proto_buf_free(&out);
    out = run_stream(&env, &c,
                     LIT("*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nping\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n*1\r\n$4\r\nexec\r\n"),
                     &res);
    assert_int_equal(res.commands, 4); /* multi, exec, ping, get */
    assert_int_equal(res.error, 0);
    proto_buf_free(&out);
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
