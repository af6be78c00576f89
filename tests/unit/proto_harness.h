/*
 * proto_harness.h: what the tests of proto/ (test_proto*.c, test_json_write.c)
 * share: PROTOCOL.md's examples as bytes, and checks of what the guide
 * codec's decoder and request parsers make of them.
 */
#ifndef EVKV_TEST_PROTO_HARNESS_H
#define EVKV_TEST_PROTO_HARNESS_H

#include <stddef.h>

#include "proto.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ---- PROTOCOL.md's examples, as bytes ---- */

#define HDR_JSON(n)                                                                                                    \
    "{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": "                              \
    "\"utf-8\", \"content-length\": " n "}"

#define REQ_MORPHEUS "\x00g" HDR_JSON("41") "{\"action\": \"search\", \"value\": \"morpheus\"}"
#define REQ_NOPE     "\x00g" HDR_JSON("37") "{\"action\": \"search\", \"value\": \"nope\"}"
#define REQ_DOUBLE   "\x00g" HDR_JSON("34") "{\"action\": \"double\", \"value\": \"x\"}"
#define REQ_BINARY                                                                                                     \
    "\x00~{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", "                        \
    "\"content-encoding\": \"binary\", \"content-length\": 8}double12"
#define REQ_ESCAPED  "\x00g" HDR_JSON("42") "{\"action\": \"search\", \"value\": \"a\\\"b\\\\c\\n\"}"
#define ANS_MORPHEUS "\x00g" HDR_JSON("43") "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}"
#define ANS_BINARY                                                                                                     \
    "\x00\x7f{\"byteorder\": \"little\", \"content-type\": \"binary/custom-server-binary-type\", "                     \
    "\"content-encoding\": \"binary\", \"content-length\": 35}First 10 bytes of request: double12"

typedef struct example {
    const char *name;
    const char *bytes;
    size_t len;
    const char *content_type;
    const char *content_encoding;
    int is_json;
    const char *content;
    size_t content_len;
    const char *action; /* for JSON: the parsed content's fields */
    const char *value;
    size_t value_len;
} example;

extern const example examples[];
extern const size_t nexamples;
#define NEXAMPLES nexamples

/* Flags the decoder used to parse content before proto_request_parse
 * existed; answers are still checked with them. */
#define CONTENT_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* What a server with the default limits lets a request's parse take. */
#define DEFAULT_PARSE_MEMORY proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT)

/* Whether errstr is printable ASCII only. */
void assert_printable(const char *errstr);

/* Parses content as a request with both parsers, which must agree; returns
 * proto_request_parse's result, its request left in *req (free it). */
int request_parse_both(const void *content, size_t len, proto_request *req);

/* Asserts that content is refused as a request, with errstr containing
 * want (printable ASCII only), by both parsers. */
void assert_request_error(const void *content, size_t len, const char *want);

/* Asserts that content parses as a JSON value of the given type. */
void assert_content_json(const void *content, size_t len, json_type type);

/* Asserts that m is the message ex stands for. */
void check_message(const example *ex, const proto_message *m);

/* Sets up a decoder with the given limits; full: jansson reads every
 * header (the fast path off). */
void decoder_init_mode(proto_decoder *d, const proto_limits *limits, int full);

/* Appends a message with a raw header (protoheader computed) and content. */
void append_frame(proto_buf *b, const char *header, const void *content, size_t content_len);

/* Appends a message with the reference client's text/json header. */
void append_json_frame(proto_buf *b, const void *content, size_t content_len);

/* Asserts that b holds exactly want (and did not fail). */
void assert_buf_equal(const proto_buf *b, const char *want, size_t want_len);

#endif
