/*
 * resp_harness.c: what the tests of the RESP wing share (resp_harness.h).
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

table *make_table(void)
{
    table *t = table_new(0, 0);
    assert_non_null(t);
    assert_int_equal(table_put(t, LIT("a"), LIT("1")), 0);
    assert_int_equal(table_put(t, LIT("b"), LIT("\"hello\"")), 0);
    assert_int_equal(table_put(t, LIT("e"), LIT("\"x\\\"y\"")), 0);
    assert_int_equal(table_put(t, LIT("u"), LIT("\"\\u00e9\"")), 0);
    assert_int_equal(table_put(t, LIT("n"), LIT("{\"k\": [1, 2]}")), 0);
    assert_int_equal(table_put(t, LIT("h?x"), LIT("\"q\"")), 0);
    return t;
}

/* Answers every request in stream[0..len) on client c; returns the
 * replies, and the sum of the results in *sum. */
proto_buf run_stream(const resp_env *env, resp_client *c, const char *stream, size_t len, resp_result *sum)
{
    resp_reader r;
    resp_request req;
    proto_buf out = {0};
    resp_result res, total = {0};

    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_feed(&r, stream, len), 0);
    while (resp_reader_next(&r, &req) == RESP_OK) {
        assert_int_equal(resp_execute(env, c, &req, &out, &res), 0);
        total.hits += res.hits;
        total.misses += res.misses;
        total.close |= res.close;
        total.error += res.error;
        total.commands += res.commands;
    }
    assert_int_equal(resp_reader_buffered(&r), 0);
    resp_reader_free(&r);
    if (sum != NULL)
        *sum = total;
    return out;
}

void expect_bytes(const char *what, const char *got, size_t got_len, const char *want, size_t want_len)
{
    if (got_len == want_len && memcmp(got, want, want_len) == 0)
        return;
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    fail_msg("%s: replies differ at byte %zu (got %zu bytes, want %zu)\n  got:  ...%.*s\n  want: ...%.*s", what, i,
             got_len, want_len, (int)((got_len - from) < 120 ? got_len - from : 120), got + from,
             (int)((want_len - from) < 120 ? want_len - from : 120), want + from);
}

/* Runs requests (RESP) on a fresh client with id 7 and compares the replies. */
void expect_session(const table *t, const char *requests, size_t rlen, const char *want, size_t wlen)
{
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 7);
    proto_buf out = run_stream(&env, &c, requests, rlen, NULL);
    expect_bytes(requests, out.data != NULL ? out.data : "", out.len, want, wlen);
    proto_buf_free(&out);
    resp_client_free(&c);
}
