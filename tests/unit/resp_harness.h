/*
 * resp_harness.h: what the tests of the RESP wing (test_resp_*.c) share:
 * the small table the replica sessions were captured against, and running
 * a request stream through resp_execute.
 */
#ifndef EVKV_TEST_RESP_HARNESS_H
#define EVKV_TEST_RESP_HARNESS_H

#include <stddef.h>

#include "resp.h"
#include "resp_commands.h"
#include "table.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* The keys the replica held: a -> 1, b -> hello, e -> x"y, u -> é,
 * n -> {"k": [1, 2]}, h?x -> q. */
table *make_table(void);

/* Answers every request in stream[0..len) on client c; returns the
 * replies, and the sum of the results in *sum (if not NULL). */
proto_buf run_stream(const resp_env *env, resp_client *c, const char *stream, size_t len, resp_result *sum);

/* Fails, showing where they part, unless got is want. */
void expect_bytes(const char *what, const char *got, size_t got_len, const char *want, size_t want_len);

/* Runs requests (RESP) on a fresh client with id 7 and compares the replies. */
void expect_session(const table *t, const char *requests, size_t rlen, const char *want, size_t wlen);

#define EXPECT(t, req, want) expect_session((t), LIT(req), LIT(want))

#endif
