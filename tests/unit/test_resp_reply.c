/*
 * test_resp_reply.c: unit tests of the RESP2 reply reader (resp_reply.h),
 * which evkv-bench reads every answer with.
 *
 * Each well-formed reply is read whole and from every shorter prefix (as
 * bytes arriving one at a time would be), which must say "need more" with
 * a need that grows towards the reply's length; what it reads is written
 * back as text and compared. Each malformed stream must give its error as
 * soon as the bytes show it, and the same error with any more bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_reply.h"

/* Writes the reply at p[0..n) as text into out ("bulk:abc", "[...]");
 * returns its length, 0 or -1 as resp_reply_read. */
static long render(const char *p, size_t n, char *out, size_t cap, char *errstr)
{
    resp_reply r;
    long len = resp_reply_read(p, n, &r, NULL, errstr);
    size_t o = strlen(out);

    if (len <= 0)
        return len;
    switch (r.type) {
    case RESP_REPLY_STATUS: snprintf(out + o, cap - o, "status:%.*s", (int)r.len, r.str); return len;
    case RESP_REPLY_ERROR: snprintf(out + o, cap - o, "error:%.*s", (int)r.len, r.str); return len;
    case RESP_REPLY_INTEGER: snprintf(out + o, cap - o, "int:%lld", r.num); return len;
    case RESP_REPLY_BULK: snprintf(out + o, cap - o, "bulk:%.*s", (int)r.len, r.str); return len;
    case RESP_REPLY_NIL: snprintf(out + o, cap - o, "nil"); return len;
    case RESP_REPLY_NIL_ARRAY: snprintf(out + o, cap - o, "nil-array"); return len;
    case RESP_REPLY_ARRAY: break;
    }
    snprintf(out + o, cap - o, "[");
    for (long long i = 0; i < r.num; i++) {
        if (i > 0)
            snprintf(out + strlen(out), cap - strlen(out), ",");
        long l = render(p + len, n - (size_t)len, out, cap, errstr);
        if (l <= 0)
            return l;
        len += l;
    }
    snprintf(out + strlen(out), cap - strlen(out), "]");
    return len;
}

static const struct {
    const char *in, *text;
} good[] = {
    {"+OK\r\n", "status:OK"},
    {"+\r\n", "status:"},
    {"-ERR unknown command 'x'\r\n", "error:ERR unknown command 'x'"},
    {":0\r\n", "int:0"},
    {":-42\r\n", "int:-42"},
    {":9223372036854775807\r\n", "int:9223372036854775807"},
    {"$0\r\n\r\n", "bulk:"},
    {"$5\r\nhello\r\n", "bulk:hello"},
    {"$4\r\na\r\nb\r\n", "bulk:a\r\nb"}, /* a bulk's bytes are any bytes */
    {"$-1\r\n", "nil"},
    {"*-1\r\n", "nil-array"},
    {"*0\r\n", "[]"},
    {"*3\r\n$1\r\na\r\n$-1\r\n:7\r\n", "[bulk:a,nil,int:7]"},
    {"*2\r\n*2\r\n+a\r\n-b\r\n*1\r\n*0\r\n", "[[status:a,error:b],[[]]]"},
    {"*2\r\n*-1\r\n$3\r\nxyz\r\n", "[nil-array,bulk:xyz]"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(good) / sizeof(good[0]); c++) {
        const char *in = good[c].in;
        size_t n = strlen(in);
        char errstr[RESP_REPLY_ERRSTR_LEN], text[256] = "";
        resp_reply r;
        size_t need = 0, last_need = 0;

        assert_int_equal(render(in, n, text, sizeof(text), errstr), (long)n);
        assert_string_equal(text, good[c].text);
        assert_int_equal(resp_reply_span(in, n, errstr), (long)n);
        /* Followed by more bytes: the same length. */
        char more[300];
        snprintf(more, sizeof(more), "%s+next\r\n", in);
        assert_int_equal(resp_reply_span(more, strlen(more), errstr), (long)n);
        /* Every prefix: need more, the need above the prefix and growing. */
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(resp_reply_span(in, k, errstr), 0);
            long l = resp_reply_read(in, k, &r, &need, errstr);
            if (l > 0) /* an array's header, whole before its elements */
                continue;
            assert_int_equal(l, 0);
            assert_true(need > k);
            assert_true(need >= last_need);
            last_need = need;
        }
    }
}

static void test_need_exact_for_bulk(void **state)
{
    (void)state;
    resp_reply r;
    size_t need = 0;
    char errstr[RESP_REPLY_ERRSTR_LEN];

    assert_int_equal(resp_reply_read("$5\r\nab", 6, &r, &need, errstr), 0);
    assert_int_equal(need, 11);
    assert_int_equal(resp_reply_read("$5\r", 3, &r, &need, errstr), 0);
    assert_int_equal(need, 4); /* the line's "\n" */
    assert_int_equal(resp_reply_read("", 0, &r, &need, errstr), 0);
    assert_int_equal(need, 1);
}

static void test_big_bulk(void **state)
{
    (void)state;
    size_t len = 3 * 1024 * 1024, hdr;
    char *buf = malloc(len + 32), errstr[RESP_REPLY_ERRSTR_LEN];
    resp_reply r;
    size_t need = 0;

    assert_non_null(buf);
    hdr = (size_t)sprintf(buf, "$%zu\r\n", len);
    memset(buf + hdr, 'v', len);
    memcpy(buf + hdr + len, "\r\n", 2);
    assert_int_equal(resp_reply_read(buf, hdr + len + 1, &r, &need, errstr), 0);
    assert_int_equal(need, hdr + len + 2);
    assert_int_equal(resp_reply_read(buf, hdr + len + 2, &r, NULL, errstr), (long)(hdr + len + 2));
    assert_int_equal(r.type, RESP_REPLY_BULK);
    assert_int_equal(r.len, len);
    assert_ptr_equal(r.str, buf + hdr); /* read in place */
    free(buf);

    /* The largest length is taken on its header alone; one more is not. */
    char line[64];
    snprintf(line, sizeof(line), "$%lld\r\n", RESP_REPLY_MAX_LEN);
    assert_int_equal(resp_reply_read(line, strlen(line), &r, &need, errstr), 0);
    assert_int_equal(need, strlen(line) + (size_t)RESP_REPLY_MAX_LEN + 2);
    snprintf(line, sizeof(line), "$%lld\r\n", RESP_REPLY_MAX_LEN + 1);
    assert_int_equal(resp_reply_read(line, strlen(line), &r, &need, errstr), -1);
    assert_string_equal(errstr, "bad bulk length in a reply: '1073741825'");
    snprintf(line, sizeof(line), "*%lld\r\n", RESP_REPLY_MAX_LEN + 1);
    assert_int_equal(resp_reply_span(line, strlen(line), errstr), -1);
    assert_string_equal(errstr, "bad array count in a reply: '1073741825'");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    enum { DEPTH = 10000 };
    char *buf = malloc(DEPTH * 4 + 8), errstr[RESP_REPLY_ERRSTR_LEN];
    size_t n = 0;

    assert_non_null(buf);
    for (int i = 0; i < DEPTH; i++) {
        memcpy(buf + n, "*1\r\n", 4);
        n += 4;
    }
    memcpy(buf + n, ":1\r\n", 4);
    n += 4;
    assert_int_equal(resp_reply_span(buf, n, errstr), (long)n);
    assert_int_equal(resp_reply_span(buf, n - 1, errstr), 0);
    free(buf);
}

static const struct {
    const char *in;
    size_t shown_at; /* the fewest bytes that show the error */
    const char *errstr;
} bad[] = {
    {"x", 1, "not a RESP2 reply: it starts with 'x'"},
    {"\x01", 1, "not a RESP2 reply: it starts with byte \\x01"},
    {"HTTP/1.1 400\r\n", 1, "not a RESP2 reply: it starts with 'H'"},
    {"+OK\rx", 5, "a reply line's '\\r' not followed by '\\n'"},
    {":12a\r\n", 6, "bad integer reply: '12a'"},
    {":\r\n", 3, "bad integer reply: ''"},
    {"$-2\r\n", 5, "bad bulk length in a reply: '-2'"},
    {"$05\r\n", 5, "bad bulk length in a reply: '05'"},
    {"$ 5\r\n", 5, "bad bulk length in a reply: ' 5'"},
    {"$+5\r\n", 5, "bad bulk length in a reply: '+5'"},
    {"$\r\n", 3, "bad bulk length in a reply: ''"},
    {"$3\r\nabcd\r\n", 9, "a bulk of 3 bytes not followed by \"\\r\\n\""},
    {"*x\r\n", 4, "bad array count in a reply: 'x'"},
    {"*-5\r\n", 5, "bad array count in a reply: '-5'"},
    {"*2\r\n:1\r\n?\r\n", 9, "not a RESP2 reply: it starts with '?'"},
    {"*1\r\n*1\r\n$1\r\nab\r\n", 15, "a bulk of 1 bytes not followed by \"\\r\\n\""},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
        const char *in = bad[c].in;
        size_t n = strlen(in);
        char errstr[RESP_REPLY_ERRSTR_LEN];

        for (size_t k = 0; k <= n; k++) {
            long l = resp_reply_span(in, k, errstr);
            if (k < bad[c].shown_at) {
                assert_int_equal(l, 0);
                continue;
            }
            if (l != -1)
                fail_msg("case %zu (%s), %zu bytes: %ld, not -1", c, in, k, l);
            assert_string_equal(errstr, bad[c].errstr);
        }
    }
}

/* A line's end must come within RESP_REPLY_LINE_MAX bytes, however the
 * bytes arrive. */
static void test_line_limit(void **state)
{
    (void)state;
    size_t max = RESP_REPLY_LINE_MAX;
    char *buf = malloc(max + 8), errstr[RESP_REPLY_ERRSTR_LEN];

    assert_non_null(buf);
    buf[0] = '+';
    memset(buf + 1, 's', max + 6);
    /* A line of exactly the limit, its "\r\n" included, is read. */
    memcpy(buf + max - 2, "\r\n", 2);
    assert_int_equal(resp_reply_span(buf, max, errstr), (long)max);
    assert_int_equal(resp_reply_span(buf, max - 1, errstr), 0);
    /* One byte longer is refused, with or without its end in sight. */
    memset(buf + 1, 's', max + 6);
    memcpy(buf + max - 1, "\r\n", 2);
    assert_int_equal(resp_reply_span(buf, max - 2, errstr), 0);
    assert_int_equal(resp_reply_span(buf, max - 1, errstr), -1);
    assert_string_equal(errstr, "a reply line longer than 65536 bytes");
    assert_int_equal(resp_reply_span(buf, max + 1, errstr), -1);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),     cmocka_unit_test(test_need_exact_for_bulk),
        cmocka_unit_test(test_big_bulk), cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_bad),      cmocka_unit_test(test_line_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
