/*
 * test_json_write.c: unit tests of the JSON writer (proto/json_write.c): it
 * writes JSON as Python's json.dumps(ensure_ascii=False).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_write.h"
#include "proto_harness.h"

static void test_dump_string(void **state)
{
    (void)state;
    /* expectations from python3: json.dumps(s, ensure_ascii=False) */
    static const struct {
        const char *in;
        size_t in_len;
        const char *out;
        size_t out_len;
    } cases[] = {
        {LIT(""), LIT("\"\"")},
        {LIT("plain text"), LIT("\"plain text\"")},
        {LIT("\"\\\n\r\t\b\f"), LIT("\"\\\"\\\\\\n\\r\\t\\b\\f\"")},
        {LIT("\x01\x1f\x0b\x1b"), LIT("\"\\u0001\\u001f\\u000b\\u001b\"")},
        {LIT("a\0b"), LIT("\"a\\u0000b\"")},
        {LIT("\x7f/</script>"), LIT("\"\x7f/</script>\"")},
        {LIT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb0\xe2\x80\xa8\xf4\x8f\xbf\xbf"),
         LIT("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb0\xe2\x80\xa8\xf4\x8f\xbf\xbf\"")},
        {LIT("No match for 'a\"b\\c\n'."), LIT("\"No match for 'a\\\"b\\\\c\\n'.\"")},
        /* not UTF-8: U+FFFD, as bytes.decode("utf-8", "replace") */
        {LIT("a\xff"
             "b"),
         LIT("\"a\xef\xbf\xbd"
             "b\"")},
        {LIT("\x80"), LIT("\"\xef\xbf\xbd\"")},
        {LIT("\xc0\xaf"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("\xed\xa0\x80"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("\xf4\x90\x80\x80"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("x\xfe\n"), LIT("\"x\xef\xbf\xbd\\n\"")},
    };
    proto_buf b = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        proto_buf_reset(&b);
        assert_int_equal(proto_dump_string(&b, cases[i].in, cases[i].in_len), 0);
        assert_buf_equal(&b, cases[i].out, cases[i].out_len);
    }
    proto_buf_free(&b);
}

static void dump_expect(const json_t *v, const char *want)
{
    proto_buf b = {0};
    assert_int_equal(proto_dump_json(&b, v), 0);
    assert_buf_equal(&b, want, strlen(want));
    proto_buf_free(&b);
}

static void dump_text_expect(const char *json_text, const char *want)
{
    json_error_t jerr;
    json_t *v = json_loads(json_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", json_text, jerr.text);
    dump_expect(v, want);
    json_decref(v);
}

static void test_dump_json(void **state)
{
    (void)state;
    /* expectations from python3: json.dumps(json.loads(t), ensure_ascii=False) */
    dump_text_expect("{\"a\": [1, 2.5, {\"x\": null}]}", "{\"a\": [1, 2.5, {\"x\": null}]}");
    dump_text_expect("{\"z\":1,\"a\":2,\"m\":{\"y\":true,\"b\":false}}",
                     "{\"z\": 1, \"a\": 2, \"m\": {\"y\": true, \"b\": false}}");
    dump_text_expect("[ ]", "[]");
    dump_text_expect("{ }", "{}");
    dump_text_expect("[[[]], [{}], [1,[2,[3]]]]", "[[[]], [{}], [1, [2, [3]]]]");
    dump_text_expect("[true,false,null]", "[true, false, null]");
    dump_text_expect("[0, -1, 9223372036854775807, -9223372036854775808]",
                     "[0, -1, 9223372036854775807, -9223372036854775808]");
    dump_text_expect("\"\\u00e9\\n\\u0000\\ud83d\\udc30\\/\"", "\"\xc3\xa9\\n\\u0000\xf0\x9f\x90\xb0/\"");
    dump_text_expect("{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}",
                     "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}");
    dump_text_expect("1E2", "100.0");
    dump_text_expect("-2.50", "-2.5");

    /* reals as Python's repr(float) */
    static const struct {
        double v;
        const char *repr;
    } reals[] = {
        {0.1, "0.1"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {1.5, "1.5"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {123456789.125, "123456789.125"},
        {1e100, "1e+100"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {-1e-7, "-1e-07"},
        {1.0 / 3.0, "0.3333333333333333"},
        {2.0 / 3.0, "0.6666666666666666"},
        {9007199254740993.0, "9007199254740992.0"},
        {123.0, "123.0"},
        {1e22, "1e+22"},
        {1.5e-10, "1.5e-10"},
        {0.00012345, "0.00012345"},
        {9999999999999998.0, "9999999999999998.0"},
        {0.1 + 0.2, "0.30000000000000004"},
        {100.0, "100.0"},
        {-12345.678, "-12345.678"},
    };
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *r = json_real(reals[i].v);
        assert_non_null(r);
        dump_expect(r, reals[i].repr);
        json_decref(r);
    }

    /* insertion order is kept when built by hand */
    json_t *o = json_object();
    json_object_set_new(o, "b", json_integer(1));
    json_object_set_new(o, "a", json_array());
    json_array_append_new(json_object_get(o, "a"), json_real(0.5));
    json_array_append_new(json_object_get(o, "a"), json_stringn("x\0y", 3));
    json_object_set_new(o, "c", json_null());
    /* jansson cannot parse a key with NUL, but can hold one */
    json_object_setn_new(o, "k\0ey\t", 5, json_string("v"));
    dump_expect(o, "{\"b\": 1, \"a\": [0.5, \"x\\u0000y\"], \"c\": null, \"k\\u0000ey\\t\": \"v\"}");
    json_decref(o);
}

/* At some powers of two the rounding interval is lopsided, and the shortest
 * digits that read back lie on its wide side, not at the correctly rounded
 * digits: repr must still find them (46 of the 2098 powers of two). */
static void test_dump_real_powers_of_two(void **state)
{
    (void)state;
    /* expectations from python3: repr(2.0 ** e) */
    static const struct {
        int exp2;
        const char *repr;
    } cases[] = {
        {-24, "5.960464477539063e-08"},
        {-44, "5.684341886080802e-14"},
        {-97, "6.310887241768095e-30"},
        {89, "6.189700196426902e+26"},
        {-1017, "7.120236347223045e-307"},
        {896, "5.282945311356653e+269"},
        /* and some it gets right */
        {-1, "0.5"},
        {-1074, "5e-324"},
        {53, "9007199254740992.0"},
        {1023, "8.98846567431158e+307"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *r = json_real(ldexp(1.0, cases[i].exp2));
        dump_expect(r, cases[i].repr);
        json_decref(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_string),
        cmocka_unit_test(test_dump_json),
        cmocka_unit_test(test_dump_real_powers_of_two),
    };
    return cmocka_run_group_tests_name("json_write", tests, NULL, NULL);
}
