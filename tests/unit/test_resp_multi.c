/*
 * test_resp_multi.c: unit tests of MULTI (server/resp/multi.c): queued
 * commands keep their own copies, lookups count inside EXEC, the queue's
 * bound.
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

/* Hits and misses count every key lookup, inside EXEC too; a queued
 * command keeps its own copy of its arguments. */
static void test_counts_and_queue(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_result res;
    resp_reader r;
    resp_request req;
    proto_buf out = {0};

    resp_client_init(&c, 1);
    proto_buf o = run_stream(&env, &c, LIT("*4\r\n$4\r\nmget\r\n$1\r\na\r\n$2\r\nzz\r\n$1\r\nb\r\n"), &res);
    assert_int_equal(res.hits, 2);
    assert_int_equal(res.misses, 1);
    proto_buf_free(&o);
    o = run_stream(&env, &c, LIT("*4\r\n$6\r\nexists\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nq\r\n"), &res);
    assert_int_equal(res.hits, 2);
    assert_int_equal(res.misses, 1);
    proto_buf_free(&o);

    /* MULTI; GET b; the reader's buffer is reused before EXEC */
    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_feed(&r, LIT("*1\r\n$5\r\nmulti\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n")), 0);
    while (resp_reader_next(&r, &req) == RESP_OK) {
        assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
        assert_int_equal(res.hits + res.misses, 0);
    }
    resp_reader_release(&r);
    assert_int_equal(resp_reader_feed(&r, LIT("*2\r\n$3\r\nGET\r\n$2\r\nzz\r\n*1\r\n$4\r\nexec\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
    assert_int_equal(res.hits, 1);
    assert_int_equal(res.misses, 1);
    expect_bytes("exec", out.data, out.len, LIT("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$5\r\nhello\r\n$-1\r\n"));
    assert_int_equal(c.in_multi, 0);
    assert_int_equal(c.nqueued, 0);
    resp_reader_free(&r);
    proto_buf_free(&out);

    /* a client freed in MULTI frees its queue (ASan checks) */
    o = run_stream(
        &env, &c,
        LIT("*1\r\n$5\r\nmulti\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n*3\r\n$6\r\nclient\r\n$7\r\nsetname\r\n$1\r\nx\r\n"),
        NULL);
    assert_int_equal(c.nqueued, 2);
    proto_buf_free(&o);
    resp_client_free(&c);
    table_free(t);
}

/* max_queued_bytes: the queue takes commands up to its bound; the one
 * that would go over is refused, and EXEC then aborts, as for any command
 * refused while queueing. DISCARD or EXEC empties it: a new transaction
 * starts from nothing. */
static void test_multi_queue_bound(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);
    c.max_queued_bytes = 1000;

    proto_buf out = run_stream(&env, &c, LIT("MULTI\r\n"), NULL);
    proto_buf_free(&out);
    size_t queued = 0;
    for (;;) {
        out = run_stream(&env, &c, LIT("GET a\r\n"), NULL);
        int ok = out.len == 9 && memcmp(out.data, "+QUEUED\r\n", 9) == 0;
        if (!ok) {
            expect_bytes("over the bound", out.data, out.len,
                         LIT("-ERR MULTI queue over 1000 bytes: the transaction will abort\r\n"));
            proto_buf_free(&out);
            break;
        }
        proto_buf_free(&out);
        queued++;
        assert_true(c.queued_bytes <= 1000);
        assert_true(queued < 1000);
    }
    assert_true(queued > 5);
    assert_int_equal(c.nqueued, queued);
    out = run_stream(&env, &c, LIT("EXEC\r\n"), NULL);
    expect_bytes("exec", out.data, out.len, LIT("-EXECABORT Transaction discarded because of previous errors.\r\n"));
    proto_buf_free(&out);
    assert_int_equal(c.queued_bytes, 0);
    out = run_stream(&env, &c, LIT("MULTI\r\nGET a\r\nEXEC\r\n"), NULL);
    expect_bytes("a new transaction", out.data, out.len, LIT("+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n"));
    proto_buf_free(&out);
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_queue),
        cmocka_unit_test(test_multi_queue_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
