/*
 * test_resp_reply.c: unit tests of the RESP2 reply reader (resp_reply.h),
 * which evkv-bench reads every answer with.
 *
 * The cases live in resp-reply-cases.txt (RESP_REPLY_CASES, or argv[1]),
 * which tests/integration/test_resp_reply.py runs through the tests' Python
 * reader too. Each well-formed reply is read whole and from every shorter
 * prefix (as bytes arriving one at a time would be), which must say "need
 * more" with a need that grows towards the reply's length; what it reads
 * is written back as text and compared. Each malformed stream must give
 * its error as soon as the bytes show it, and the same error with any more
 * bytes. Needs, big bulks, deep nesting and the line limit follow.
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
#include "resp_reply.h"
#include "text.h"

static const char *cases_path = RESP_REPLY_CASES;

static void put(proto_buf *out, const char *s)
{
    assert_int_equal(proto_buf_append(out, s, strlen(s)), 0);
}

/* Writes the reply at p[0..n) as text to out ("bulk:abc", "[...]");
 * returns its length, 0 or -1 as resp_reply_read. */
static long render(const char *p, size_t n, proto_buf *out, char *errstr)
{
    static const char *const names[] = {
        [RESP_REPLY_STATUS] = "status:", [RESP_REPLY_ERROR] = "error:", [RESP_REPLY_INTEGER] = "int:",
        [RESP_REPLY_BULK] = "bulk:",     [RESP_REPLY_NIL] = "nil",      [RESP_REPLY_NIL_ARRAY] = "nil-array",
    };
    resp_reply r;
    long len = resp_reply_read(p, n, &r, NULL, errstr);
    char num[32];

    if (len <= 0)
        return len;
    if (r.type != RESP_REPLY_ARRAY) {
        put(out, names[r.type]);
        if (r.type == RESP_REPLY_INTEGER) {
            snprintf(num, sizeof(num), "%lld", r.num);
            put(out, num);
        } else if (r.type != RESP_REPLY_NIL && r.type != RESP_REPLY_NIL_ARRAY) {
            assert_int_equal(proto_buf_append(out, r.str, r.len), 0);
        }
        return len;
    }
    put(out, "[");
    for (long long i = 0; i < r.num; i++) {
        if (i > 0)
            put(out, ",");
        long l = render(p + len, n - (size_t)len, out, errstr);
        if (l <= 0)
            return l;
        len += l;
    }
    put(out, "]");
    return len;
}

/* Appends the bytes that line (escaped: \r \n \\ \xHH) stands for. */
static void unescape(const char *line, proto_buf *b)
{
    for (const char *p = line; *p != '\0' && *p != '\n'; p++) {
        char c = *p;
        if (c == '\\' && p[1] == 'x' && proto_hex_digit(p[2]) >= 0 && proto_hex_digit(p[3]) >= 0) {
            c = (char)(proto_hex_digit(p[2]) * 16 + proto_hex_digit(p[3]));
            p += 3;
        } else if (c == '\\') {
            if (p[1] != 'r' && p[1] != 'n' && p[1] != '\\')
                fail_msg("bad escape in \"%s\"", line);
            c = p[1] == 'r' ? '\r' : p[1] == 'n' ? '\n' : '\\';
            p++;
        }
        assert_int_equal(proto_buf_append(b, &c, 1), 0);
    }
}

/* A well-formed reply: read whole, followed by more, and from every prefix. */
static void check_good(const proto_buf *in, const proto_buf *want)
{
    const char *p = in->data;
    size_t n = in->len, need = 0, last_need = 0;
    char errstr[RESP_REPLY_ERRSTR_LEN];
    proto_buf text = {0}, more = {0};
    resp_reply r;

    if (render(p, n, &text, errstr) != (long)n || text.len != want->len || memcmp(text.data, want->data, text.len))
        fail_msg("\"%.*s\": read as \"%.*s\"", (int)n, p, (int)text.len, text.data);
    assert_int_equal(resp_reply_span(p, n, errstr), (long)n);
    assert_int_equal(proto_buf_append(&more, p, n), 0);
    assert_int_equal(proto_buf_append(&more, "+next\r\n", 7), 0);
    assert_int_equal(resp_reply_span(more.data, more.len, errstr), (long)n);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(resp_reply_span(p, k, errstr), 0);
        long l = resp_reply_read(p, k, &r, &need, errstr);
        if (l > 0) /* an array's header, whole before its elements */
            continue;
        assert_int_equal(l, 0);
        assert_true(need > k);
        assert_true(need >= last_need);
        last_need = need;
    }
    proto_buf_free(&text);
    proto_buf_free(&more);
}

/* A malformed stream: need more before its first shown_at bytes, then
 * the error want with every longer prefix. */
static void check_bad(const proto_buf *in, size_t shown_at, const char *want)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];

    if (shown_at > in->len)
        fail_msg("\"%.*s\": shown at %zu of %zu bytes", (int)in->len, in->data, shown_at, in->len);
    for (size_t k = 0; k <= in->len; k++) {
        long l = resp_reply_span(in->data, k, errstr);
        if (k < shown_at) {
            if (l != 0)
                fail_msg("\"%.*s\", %zu bytes: %ld, not 0", (int)in->len, in->data, k, l);
            continue;
        }
        if (l != -1)
            fail_msg("\"%.*s\", %zu bytes: %ld, not -1", (int)in->len, in->data, k, l);
        assert_string_equal(errstr, want);
    }
}

static void test_cases(void **state)
{
    (void)state;
    FILE *f = fopen(cases_path, "r");
    char line[4096];
    proto_buf in = {0}, want = {0};
    int ngood = 0, nbad = 0;

    if (f == NULL)
        fail_msg("cannot open %s", cases_path);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '<' && line[1] == ' ') {
            proto_buf_reset(&in);
            unescape(line + 2, &in);
        } else if (line[0] == '>' && line[1] == ' ') {
            proto_buf_reset(&want);
            unescape(line + 2, &want);
            check_good(&in, &want);
            ngood++;
        } else if (line[0] == '!' && line[1] == ' ') {
            char *end;
            size_t shown_at = strtoul(line + 2, &end, 10);
            proto_buf_reset(&want);
            unescape(end + 1, &want);
            assert_int_equal(proto_buf_append(&want, "", 1), 0);
            check_bad(&in, shown_at, want.data);
            nbad++;
        }
    }
    fclose(f);
    proto_buf_free(&in);
    proto_buf_free(&want);
    assert_true(ngood >= 10 && nbad >= 10); /* the file was read */
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

int main(int argc, char **argv)
{
    if (argc > 1)
        cases_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),      cmocka_unit_test(test_need_exact_for_bulk),
        cmocka_unit_test(test_big_bulk),   cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_line_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
