/*
 * test_text.c: unit tests of the text helpers (proto/text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto_harness.h"
#include "text.h"

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        int valid;
    } cases[] = {
        {LIT(""), 1},
        {LIT("hello, world"), 1},
        {LIT("a\0b"), 1},
        {LIT("\x7f"), 1},
        {LIT("\xc2\x80"), 1},         /* U+0080 */
        {LIT("\xc3\xa9"), 1},         /* é */
        {LIT("\xdf\xbf"), 1},         /* U+07FF */
        {LIT("\xe0\xa0\x80"), 1},     /* U+0800 */
        {LIT("\xe2\x82\xac"), 1},     /* € */
        {LIT("\xed\x9f\xbf"), 1},     /* U+D7FF */
        {LIT("\xee\x80\x80"), 1},     /* U+E000 */
        {LIT("\xef\xbf\xbf"), 1},     /* U+FFFF */
        {LIT("\xf0\x90\x80\x80"), 1}, /* U+10000 */
        {LIT("\xf0\x9f\x90\xb0"), 1}, /* 🐰 */
        {LIT("\xf4\x8f\xbf\xbf"), 1}, /* U+10FFFF */
        {LIT("a\xf0\x9f\x90\xb6z\xc3\xa9"), 1},
        /* overlong */
        {LIT("\xc0\x80"), 0},
        {LIT("\xc0\xaf"), 0},
        {LIT("\xc1\xbf"), 0},
        {LIT("\xe0\x80\x80"), 0},
        {LIT("\xe0\x9f\xbf"), 0},
        {LIT("\xf0\x80\x80\x80"), 0},
        {LIT("\xf0\x8f\xbf\xbf"), 0},
        /* surrogates */
        {LIT("\xed\xa0\x80"), 0},
        {LIT("\xed\xbf\xbf"), 0},
        {LIT("\xed\xa0\xbd\xed\xb0\xb0"), 0}, /* CESU-8 pair */
        /* truncated */
        {LIT("\xc3"), 0},
        {LIT("\xe2\x82"), 0},
        {LIT("\xf0\x9f\x90"), 0},
        {LIT("\xc3z"), 0},
        {LIT("\xe2\x82z"), 0},
        {LIT("\xf0\x9f\x90z"), 0},
        /* beyond U+10FFFF and never-valid bytes */
        {LIT("\xf4\x90\x80\x80"), 0},
        {LIT("\xf5\x80\x80\x80"), 0},
        {LIT("\xf7\xbf\xbf\xbf"), 0},
        {LIT("\xf8\x88\x80\x80\x80"), 0},
        {LIT("\xfe"), 0},
        {LIT("\xff"), 0},
        /* lone continuation bytes */
        {LIT("\x80"), 0},
        {LIT("a\xbf"), 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (proto_utf8_valid(cases[i].s, cases[i].len) != cases[i].valid)
            fail_msg("case %zu: proto_utf8_valid says %d", i, !cases[i].valid);
    }
    /* a valid string cut anywhere inside a sequence is invalid */
    static const char rabbit[] = "\xf0\x9f\x90\xb0";
    for (size_t n = 1; n < 4; n++)
        assert_false(proto_utf8_valid(rabbit, n));
    /* the length is honoured: bytes past it are not read */
    assert_true(proto_utf8_valid("ab\xff", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
