/*
 * test_proto_encode.c: unit tests of the guide codec's encoder
 * (proto/proto.c): it must reproduce PROTOCOL.md's examples byte for byte.
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

static int host_is_little(void)
{
    return strcmp(proto_host_byteorder(), "little") == 0;
}

static void test_encode_examples(void **state)
{
    (void)state;
    proto_buf b = {0};

    assert_true(strcmp(proto_host_byteorder(), "little") == 0 || strcmp(proto_host_byteorder(), "big") == 0);
    if (!host_is_little())
        skip(); /* the examples name "little" */

    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("morpheus")), 0);
    assert_buf_equal(&b, LIT(REQ_MORPHEUS));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("nope")), 0);
    assert_buf_equal(&b, LIT(REQ_NOPE));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("double"), LIT("x")), 0);
    assert_buf_equal(&b, LIT(REQ_DOUBLE));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("a\"b\\c\n")), 0);
    assert_buf_equal(&b, LIT(REQ_ESCAPED));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "binary/custom-client-binary-type", "binary", LIT("double12")), 0);
    assert_buf_equal(&b, LIT(REQ_BINARY));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "text/json", "utf-8",
                                          LIT("{\"result\": \"Follow the white rabbit. "
                                              "\xf0\x9f\x90\xb0\"}")),
                     0);
    assert_buf_equal(&b, LIT(ANS_MORPHEUS));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "binary/custom-server-binary-type", "binary",
                                          LIT("First 10 bytes of request: double12")),
                     0);
    assert_buf_equal(&b, LIT(ANS_BINARY));

    /* the header alone is the message without its content */
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_header(&b, "text/json", "utf-8", 41), 0);
    assert_buf_equal(&b, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1 - 41);

    /* appending after other bytes puts the protoheader in the right place */
    proto_buf_reset(&b);
    assert_int_equal(proto_buf_append(&b, LIT("xyz")), 0);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("morpheus")), 0);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("nope")), 0);
    assert_int_equal(b.len, 3 + sizeof(REQ_MORPHEUS) - 1 + sizeof(REQ_NOPE) - 1);
    assert_memory_equal(b.data, "xyz", 3);
    assert_memory_equal(b.data + 3, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1);
    assert_memory_equal(b.data + 3 + sizeof(REQ_MORPHEUS) - 1, REQ_NOPE, sizeof(REQ_NOPE) - 1);
    proto_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* Escapes in the header's strings, non-ASCII raw; a 2-byte length that
 * needs its high byte; a header over 65535 bytes is refused. */
static void test_encode_header_edges(void **state)
{
    (void)state;
    proto_buf b = {0};
    proto_decoder d;
    proto_message m;

    assert_int_equal(proto_encode_header(&b, "a\"b/\xc3\xa9", "x\ny", 0), 0);
    {
        char want[200];
        int n = snprintf(want, sizeof(want),
                         "{\"byteorder\": \"%s\", \"content-type\": \"a\\\"b/\xc3\xa9\", "
                         "\"content-encoding\": \"x\\ny\", \"content-length\": 0}",
                         proto_host_byteorder());
        assert_int_equal(b.len, (size_t)n + 2);
        assert_int_equal((unsigned char)b.data[0], 0);
        assert_int_equal((unsigned char)b.data[1], n);
        assert_memory_equal(b.data + 2, want, (size_t)n);
    }
    /* it decodes back */
    proto_decoder_init(&d, NULL);
    assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_string_equal(m.content_type, "a\"b/\xc3\xa9");
    assert_string_equal(m.content_encoding, "x\ny");
    assert_int_equal(m.content_len, 0);
    assert_string_equal(m.byteorder, proto_host_byteorder());
    proto_decoder_free(&d);

    /* a 1000-byte content type: the protoheader's high byte is used */
    char *ct = malloc(70001);
    assert_non_null(ct);
    memset(ct, 'c', 70000);
    ct[1000] = '\0';
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, ct, "binary", LIT("abc")), 0);
    size_t hl = ((size_t)(unsigned char)b.data[0] << 8) | (unsigned char)b.data[1];
    assert_int_equal(hl, b.len - 2 - 3);
    assert_true(hl > 1000 && hl < 1200);
    proto_limits lim = {.max_header = 65535, .max_content = 10};
    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_int_equal(strlen(m.content_type), 1000);
    assert_memory_equal(m.content, "abc", 3);
    proto_decoder_free(&d);

    /* over 65535 bytes: refused, the buffer left as it was */
    ct[1000] = 'c';
    ct[70000] = '\0';
    proto_buf_reset(&b);
    assert_int_equal(proto_buf_append(&b, LIT("keep")), 0);
    assert_int_equal(proto_encode_header(&b, ct, "binary", 1), -1);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    assert_int_equal(proto_encode_message(&b, ct, "binary", LIT("x")), -1);
    assert_int_equal(b.len, 4);
    free(ct);
    proto_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_examples),
        cmocka_unit_test(test_encode_header_edges),
    };
    return cmocka_run_group_tests_name("proto_encode", tests, NULL, NULL);
}
