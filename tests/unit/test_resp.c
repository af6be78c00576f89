/*
 * test_resp.c: unit tests of the RESP request reader and reply encoders.
 *
 * The cases live in resp-cases.txt (RESP_CASES, or argv[1]): a byte stream
 * and what the reader must make of it, written as RESP: every request as an
 * array of bulks, then "-ERR <errstr>\r\n" if the stream breaks (what Redis
 * answers before it closes). Every case is fed whole, one byte at a time
 * and split in two at every point, and must read the same each time. The
 * expectations follow Redis 7.0.15's networking.c and sds.c (sdssplitargs)
 * as resp.h describes; tests/integration/resp_differential.py asks a real Redis the
 * same questions. Limits, the reader's state and the encoders follow.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_file.h"
#include "resp.h"
#include "text.h"

#define LIT(s) (s), (sizeof(s) - 1)

static const char *cases_path = RESP_CASES;

#define ERR(text) "-ERR Protocol error: " text "\r\n"

/* Drains the reader into out as described above. Returns the status of the
 * last call. */
static resp_status drain(resp_reader *r, proto_buf *out)
{
    resp_request req;
    resp_status st;

    while ((st = resp_reader_next(r, &req)) == RESP_OK) {
        assert_true(req.argc >= 1);
        assert_int_equal(resp_encode_array(out, req.argc), 0);
        for (size_t i = 0; i < req.argc; i++)
            assert_int_equal(resp_encode_bulk(out, req.argv[i], req.argv_len[i]), 0);
    }
    if (st == RESP_ERROR) {
        assert_int_not_equal(r->err, RESP_ERR_NONE);
        assert_int_equal(resp_encode_error(out, r->errstr, strlen(r->errstr)), 0);
    } else {
        assert_int_equal(r->err, RESP_ERR_NONE);
    }
    return st;
}

/* Feeds in[0..len) in pieces: cut[0..ncut) are the split points (ascending);
 * byte_at_a_time overrides them. Appends what was read to out. */
static void read_split(const resp_limits *lim, const char *in, size_t len, const size_t *cut, size_t ncut,
                       int byte_at_a_time, proto_buf *out)
{
    resp_reader r;
    size_t from = 0, k = 0;
    int failed = 0;

    resp_reader_init(&r, lim);
    while (from < len) {
        size_t to = byte_at_a_time ? from + 1 : (k < ncut ? cut[k++] : len);
        if (to == from)
            continue;
        if (failed) {
            char saved[RESP_ERRSTR_LEN];
            memcpy(saved, r.errstr, sizeof(saved));
            size_t buffered = resp_reader_buffered(&r);
            assert_int_equal(resp_reader_feed(&r, in + from, to - from), 0);
            resp_request req;
            assert_int_equal(resp_reader_next(&r, &req), RESP_ERROR);
            assert_string_equal(r.errstr, saved); /* sticky, and ignores input */
            assert_int_equal(resp_reader_buffered(&r), buffered);
        } else {
            assert_int_equal(resp_reader_feed(&r, in + from, to - from), 0);
            failed = drain(&r, out) == RESP_ERROR;
        }
        from = to;
    }
    if (len == 0)
        drain(&r, out);
    resp_reader_free(&r);
}

/* Whether got holds exactly want[0..want_len). */
static int same(const proto_buf *got, const char *want, size_t want_len)
{
    return got->len == want_len && (want_len == 0 || memcmp(got->data, want, want_len) == 0);
}

static void check_output(const char *name, const char *how, const proto_buf *got, const char *want, size_t want_len)
{
    if (!same(got, want, want_len)) {
        print_error("case \"%s\" (%s): read %zu bytes, want %zu\n", name, how, got->len, want_len);
        fail();
    }
}

/* Reads one case whole, byte by byte and at every two-way split. */
static void check_case(const resp_limits *lim, const char *name, const char *in, size_t in_len, const char *want,
                       size_t want_len, int all_splits)
{
    proto_buf out = {0};

    read_split(lim, in, in_len, NULL, 0, 0, &out);
    check_output(name, "whole", &out, want, want_len);
    proto_buf_reset(&out);
    read_split(lim, in, in_len, NULL, 0, 1, &out);
    check_output(name, "byte by byte", &out, want, want_len);
    for (size_t cut = 1; all_splits && cut < in_len; cut++) {
        proto_buf_reset(&out);
        read_split(lim, in, in_len, &cut, 1, 0, &out);
        if (!same(&out, want, want_len)) {
            print_error("case \"%s\": split at %zu reads differently\n", name, cut);
            fail();
        }
    }
    proto_buf_free(&out);
}

static void test_cases(void **state)
{
    test_case *cases;
    size_t n = case_file_load(cases_path, &cases);
    (void)state;
    for (size_t i = 0; i < n; i++)
        check_case(NULL, cases[i].name, cases[i].in.data, cases[i].in.len, cases[i].out.data, cases[i].out.len, 1);
    case_file_free(cases, n);
}

/* The cases that read whole requests and leave nothing behind, back to
 * back as one stream, also split at every point. */
static void test_cases_pipelined(void **state)
{
    test_case *cases;
    size_t n = case_file_load(cases_path, &cases);
    proto_buf in = {0}, want = {0};
    (void)state;
    for (size_t i = 0; i < n; i++) {
        const test_case *c = &cases[i];
        if (c->out.len == 0 || memmem(c->out.data, c->out.len, "-ERR", 4) != NULL || strstr(c->name, "unchecked"))
            continue;
        proto_buf_append(&in, c->in.data, c->in.len);
        proto_buf_append(&want, c->out.data, c->out.len);
    }
    check_case(NULL, "all pipelined", in.data, in.len, want.data, want.len, 1);
    proto_buf_free(&in);
    proto_buf_free(&want);
    case_file_free(cases, n);
}

/* A string of n copies of c, then tail. Free it. */
static char *repeat(char c, size_t n, const char *tail, size_t *len)
{
    size_t tl = strlen(tail);
    char *s = malloc(n + tl + 1);
    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, tl + 1);
    *len = n + tl;
    return s;
}

/* An inline line of n bytes before its "\n", and what reading it gives
 * (one argument of n 'a's) or the error: a line over max is too big, an
 * argument over the limits' max_bulk is refused as a bulk that long. */
static void check_inline_line(const resp_limits *lim, size_t n, size_t max)
{
    size_t len;
    char *in = repeat('a', n, "\n", &len);
    proto_buf want = {0};
    if (n > max) {
        resp_encode_error(&want, LIT("Protocol error: too big inline request"));
    } else if (lim && n > lim->max_bulk) {
        resp_encode_error(&want, LIT("Protocol error: invalid bulk length"));
    } else {
        resp_encode_array(&want, 1);
        resp_encode_bulk(&want, in, n);
    }
    check_case(lim, "inline line", in, len, want.data, want.len, lim != NULL);
    proto_buf_free(&want);
    free(in);
}

static void test_limits_default(void **state)
{
    size_t len;
    (void)state;
    /* Redis's PROTO_INLINE_MAX_SIZE: a line's end among its first 64 KiB
     * + 1 bytes */
    check_inline_line(NULL, RESP_INLINE_MAX_SIZE, RESP_INLINE_MAX_SIZE);
    check_inline_line(NULL, RESP_INLINE_MAX_SIZE + 1, RESP_INLINE_MAX_SIZE);
    /* no end at all: an error once 64 KiB + 1 bytes are in */
    char *in = repeat('a', RESP_INLINE_MAX_SIZE, "", &len);
    check_case(NULL, "inline 64 KiB, no end", in, len, "", 0, 0);
    free(in);
    in = repeat('a', RESP_INLINE_MAX_SIZE + 1, "", &len);
    check_case(NULL, "inline 64 KiB + 1, no end", in, len, LIT(ERR("too big inline request")), 0);
    free(in);
    /* a NUL hides the end: the line grows until it is too big */
    in = repeat('a', RESP_INLINE_MAX_SIZE + 1, "", &len);
    in[3] = '\0';
    in[4] = '\n';
    check_case(NULL, "inline with a NUL", in, len, LIT(ERR("too big inline request")), 0);
    free(in);
    /* count lines: a multibulk count, then a bulk's */
    in = repeat('*', RESP_INLINE_MAX_SIZE + 1, "", &len);
    check_case(NULL, "mbulk count 64 KiB + 1", in, len, LIT(ERR("too big mbulk count string")), 0);
    free(in);
    in = repeat('1', RESP_INLINE_MAX_SIZE, "\r\n", &len);
    in[0] = '*';
    check_case(NULL, "mbulk count 64 KiB", in, len, LIT(ERR("invalid multibulk length")), 0);
    free(in);
    in = repeat('$', 4 + RESP_INLINE_MAX_SIZE + 1, "", &len);
    memcpy(in, "*1\r\n", 4);
    check_case(NULL, "bulk count 64 KiB", in, len - 1, "", 0, 0);
    check_case(NULL, "bulk count 64 KiB + 1", in, len, LIT(ERR("too big bulk count string")), 0);
    free(in);
}

static void test_limits_small(void **state)
{
    resp_limits lim = {.max_args = 3, .max_bulk = 5, .max_inline = 8};
    (void)state;
    for (size_t n = 1; n < 12; n++)
        check_inline_line(&lim, n, 8);
    check_case(&lim, "3 args", LIT("*3\r\n$1\r\na\r\n$1\r\nb\r\n$5\r\nccccc\r\n"),
               LIT("*3\r\n$1\r\na\r\n$1\r\nb\r\n$5\r\nccccc\r\n"), 1);
    check_case(&lim, "4 args", LIT("*4\r\n"), LIT(ERR("invalid multibulk length")), 1);
    check_case(&lim, "bulk of 6", LIT("*1\r\n$6\r\n"), LIT(ERR("invalid bulk length")), 1);
    /* inline requests have no argument limit but their length */
    check_case(&lim, "inline 4 args", LIT("a b c d\n"), LIT("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"), 1);
    check_case(&lim, "count line of 8", LIT("*0000003\r\n"), LIT(ERR("invalid multibulk length")), 1);
    check_case(&lim, "count line of 9", LIT("*00000003\r\n"), LIT(ERR("too big mbulk count string")), 1);
    check_case(&lim, "count line of 8, \\r last", LIT("*0000003\r"), LIT(""), 1);
    check_case(&lim, "bulk line of 9", LIT("*1\r\n$00000003\r\n"), LIT(ERR("too big bulk count string")), 1);
    /* max_request: a whole request of at most 24 bytes, refused at the
     * announcement of the bulk that takes it over, before its bytes */
    resp_limits req = {.max_args = 100, .max_bulk = 100, .max_inline = 100, .max_request = 24};
    check_case(&req, "request of 24", LIT("*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n"),
               LIT("*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n"), 1);
    check_case(&req, "request of 25", LIT("*2\r\n$3\r\nGET\r\n$6\r\n"), LIT(ERR("request over 24 bytes")), 1);
    check_case(&req, "many empty bulks", LIT("*100\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n"),
               LIT(ERR("request over 24 bytes")), 1);
    check_case(&req, "two requests of 24", LIT("*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n*2\r\n$3\r\nGET\r\n$5\r\nfghij\r\n"),
               LIT("*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n*2\r\n$3\r\nGET\r\n$5\r\nfghij\r\n"), 1);
    check_case(&lim, "bulk line of 8, more after", LIT("*1\r\n$0000001\r\nabcdefghijkl"),
               LIT(ERR("invalid bulk length")), 1);
}

/* An inline request obeys max_bulk and max_request as a multibulk one
 * does, with the same errors: an argument over max_bulk is an invalid
 * bulk length; a line over max_request bytes (its "\r\n" included) is
 * refused as soon as that many bytes are in without its end. */
static void test_limits_inline(void **state)
{
    resp_limits lim = {.max_args = 100, .max_bulk = 5, .max_inline = 100, .max_request = 24};
    (void)state;
    check_case(&lim, "argument of 5", LIT("ECHO abcde\r\n"), LIT("*2\r\n$4\r\nECHO\r\n$5\r\nabcde\r\n"), 1);
    check_case(&lim, "argument of 6", LIT("ECHO abcdef\r\n"), LIT(ERR("invalid bulk length")), 1);
    check_case(&lim, "argument of 6 first", LIT("abcdef x\n"), LIT(ERR("invalid bulk length")), 1);
    check_case(&lim, "quoted argument of 5", LIT("ECHO \"ab\\x41\\n\\\"\"\n"),
               LIT("*2\r\n$4\r\nECHO\r\n$5\r\nabA\n\"\r\n"), 1);
    check_case(&lim, "quoted argument of 6", LIT("ECHO 'abc\\'de'\n"), LIT(ERR("invalid bulk length")), 1);
    check_case(&lim, "request of 24", LIT("GET a b c d e f g h ij\r\n"),
               LIT("*10\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
                   "$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$2\r\nij\r\n"),
               1);
    check_case(&lim, "request of 25", LIT("GET a b c d e f g h i j\r\n"), LIT(ERR("request over 24 bytes")), 1);
    check_case(&lim, "24 bytes, no end yet", LIT("GET a b c d e f g h ij\r"), LIT(""), 1);
    check_case(&lim, "25 bytes, no end yet", LIT("MGET a b c d e f g h i j "), LIT(ERR("request over 24 bytes")), 1);
    check_case(&lim, "two requests of 24", LIT("ECHO abcde abcde abcde \nECHO abcde abcde abcde \n"),
               LIT("*4\r\n$4\r\nECHO\r\n$5\r\nabcde\r\n$5\r\nabcde\r\n$5\r\nabcde\r\n"
                   "*4\r\n$4\r\nECHO\r\n$5\r\nabcde\r\n$5\r\nabcde\r\n$5\r\nabcde\r\n"),
               1);
    /* a max_request past max_inline leaves Redis's line limit and words */
    resp_limits wide = {.max_args = 100, .max_bulk = 100, .max_inline = 8, .max_request = 100};
    check_case(&wide, "line of 9", LIT("aaaaaaaaa\n"), LIT(ERR("too big inline request")), 1);
    check_case(&wide, "line of 8", LIT("aaaaaaaa\n"), LIT("*1\r\n$8\r\naaaaaaaa\r\n"), 1);
}

/* The reader's state between requests: buffered, in_message, release. */
static void test_state(void **state)
{
    resp_reader r;
    resp_request req;
    (void)state;

    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_in_message(&r), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_NEED_MORE);
    assert_int_equal(resp_reader_feed(&r, LIT("*2\r\n$3\r\nGET\r\n$1\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_NEED_MORE);
    assert_int_equal(resp_reader_in_message(&r), 1);
    assert_int_equal(resp_reader_buffered(&r), 17);
    /* reading straight into the buffer, which may move */
    char *p = resp_reader_reserve(&r, 100000);
    assert_non_null(p);
    assert_true(resp_reader_space(&r) >= 100000);
    memcpy(p, "k\r\nPI", 5);
    resp_reader_commit(&r, 5);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(req.argc, 2);
    assert_int_equal(req.is_inline, 0);
    assert_memory_equal(req.argv[0], "GET", 3);
    assert_int_equal(req.argv_len[1], 1);
    assert_memory_equal(req.argv[1], "k", 1);
    assert_int_equal(resp_reader_buffered(&r), 2);
    assert_int_equal(resp_reader_next(&r, &req), RESP_NEED_MORE);
    assert_int_equal(resp_reader_in_message(&r), 1);
    resp_reader_release(&r); /* holds unread bytes: kept */
    assert_non_null(r.in.buf);
    assert_int_equal(resp_reader_feed(&r, LIT("NG\r\n\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(req.is_inline, 1);
    assert_int_equal(req.argc, 1);
    assert_memory_equal(req.argv[0], "PING", 4);
    assert_int_equal(resp_reader_next(&r, &req), RESP_NEED_MORE);
    assert_int_equal(resp_reader_in_message(&r), 0);
    assert_int_equal(resp_reader_buffered(&r), 0);
    resp_reader_release(&r);
    assert_null(r.in.buf);
    assert_null(r.argv);
    assert_int_equal(r.argcap, 0);
    /* an error is sticky and ignores what comes after */
    assert_int_equal(resp_reader_feed(&r, LIT("*1\r\n$-2\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_ERROR);
    assert_int_equal(r.err, RESP_ERR_BULK_LENGTH);
    assert_string_equal(r.errstr, "Protocol error: invalid bulk length");
    assert_int_equal(resp_reader_feed(&r, LIT("PING\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_ERROR);
    resp_reader_free(&r);
}

/* Bulk arguments are pointed to in the buffer, not copied; an inline word
 * is copied only when it has quotes. */
static void test_no_copy(void **state)
{
    resp_reader r;
    resp_request req;
    (void)state;

    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_feed(&r, LIT("*1\r\n$3\r\nabc\r\nGET \"k\" x\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_ptr_equal(req.argv[0], (const char *)r.in.buf + 8);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(req.argc, 3);
    assert_ptr_equal(req.argv[0], (const char *)r.in.buf + 13);
    assert_ptr_equal(req.argv[1], r.scratch);
    assert_ptr_equal(req.argv[2], (const char *)r.in.buf + 21);
    resp_reader_free(&r);
}

/* The encoders, byte for byte as Redis writes them. */
static void test_encoders(void **state)
{
    proto_buf b = {0};
    char num[RESP_NUMBER_MAX];
    (void)state;

    assert_int_equal(resp_encode_simple(&b, LIT("OK")), 0);
    assert_int_equal(resp_encode_error(&b, LIT("unknown command")), 0);
    assert_int_equal(resp_encode_error(&b, LIT("-READONLY You can't write against a read only replica.")), 0);
    assert_int_equal(resp_encode_error(&b, "", 0), 0);
    assert_int_equal(resp_encode_errorf(&b, "\r\nbad '%s'\n", "a\r\nb"), 0);
    assert_int_equal(resp_encode_integer(&b, 0), 0);
    assert_int_equal(resp_encode_integer(&b, -42), 0);
    assert_int_equal(resp_encode_integer(&b, INT64_MIN), 0);
    assert_int_equal(resp_encode_bulk(&b, LIT("a\r\nb")), 0);
    assert_int_equal(resp_encode_bulk(&b, "", 0), 0);
    assert_int_equal(resp_encode_null_bulk(&b), 0);
    assert_int_equal(resp_encode_array(&b, 3), 0);
    assert_int_equal(resp_encode_array(&b, 0), 0);
    assert_int_equal(resp_encode_null_array(&b), 0);
    static const char want[] = "+OK\r\n"
                               "-ERR unknown command\r\n"
                               "-READONLY You can't write against a read only replica.\r\n"
                               "-ERR \r\n"
                               "-ERR bad 'a  b'\r\n"
                               ":0\r\n"
                               ":-42\r\n"
                               ":-9223372036854775808\r\n"
                               "$4\r\na\r\nb\r\n"
                               "$0\r\n\r\n"
                               "$-1\r\n"
                               "*3\r\n"
                               "*0\r\n"
                               "*-1\r\n";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, sizeof(want) - 1);
    assert_int_equal(resp_format_number(num, '$', 1234567), 10);
    assert_memory_equal(num, "$1234567\r\n", 10);
    assert_int_equal(resp_format_number(num, '*', INT64_MIN), 23);
    assert_memory_equal(num, "*-9223372036854775808\r\n", 23);
    assert_int_equal(resp_format_number(num, ':', INT64_MAX), 22);
    assert_memory_equal(num, ":9223372036854775807\r\n", 22);
    assert_int_equal(resp_format_number(num, ':', 0), 4);
    assert_memory_equal(num, ":0\r\n", 4);
    assert_int_equal(resp_format_number(num, '$', -1), 5);
    assert_memory_equal(num, "$-1\r\n", 5);
    /* a long formatted error */
    proto_buf_reset(&b);
    char longs[600];
    memset(longs, 'x', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    assert_int_equal(resp_encode_errorf(&b, "%s", longs), 0);
    assert_int_equal(b.len, 5 + 599 + 2);
    proto_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cases_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),          cmocka_unit_test(test_cases_pipelined),
        cmocka_unit_test(test_limits_default), cmocka_unit_test(test_limits_small),
        cmocka_unit_test(test_limits_inline),  cmocka_unit_test(test_state),
        cmocka_unit_test(test_no_copy),        cmocka_unit_test(test_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
