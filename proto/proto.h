/*
 * proto.h: the guide's codec, the header+JSON protocol of "Socket
 * Programming in Python", with no I/O.
 *
 * A message is a 2-byte big-endian protoheader (the JSON header's length),
 * a JSON header object naming byteorder, content-type, content-encoding and
 * content-length, then the content. proto/PROTOCOL.md is the contract:
 * the framing, the actions, the exact bytes.
 *
 * The decoder is fed bytes in any pieces and asked for the next message, as
 * hiredis's reader is: it answers "here is one", "need more" or "error, and
 * here is why". A decoder that failed stays failed: framing is lost and the
 * stream cannot be resynchronised.
 *
 * The encoder writes messages byte-identical to the reference Python server:
 * json.dumps(..., ensure_ascii=False) with ", " and ": " separators.
 */
#ifndef EVKV_PROTO_H
#define EVKV_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"        /* proto_buf, proto_inbuf */
#include "parse_cost.h" /* proto_parse_memory: the bound on parsing a message */

#define PROTO_PROTOHEADER_LEN     2
#define PROTO_DEFAULT_MAX_HEADER  8192          /* bytes of JSON header */
#define PROTO_DEFAULT_MAX_CONTENT (1024 * 1024) /* bytes of content */
#define PROTO_ERRSTR_LEN          160

typedef enum proto_status {
    PROTO_ERROR = -1,    /* the stream is broken; errstr says why; final */
    PROTO_NEED_MORE = 0, /* no complete message buffered yet */
    PROTO_OK = 1,        /* one message decoded */
} proto_status;

/* Why a stream broke (framing lost) or why a message's content is unusable
 * (framing intact). Each value is one class of client mistake. */
typedef enum proto_error {
    PROTO_ERR_NONE = 0,
    PROTO_ERR_HEADER_TOO_LONG,   /* protoheader names more than max_header */
    PROTO_ERR_HEADER_JSON,       /* header is not valid UTF-8 JSON */
    PROTO_ERR_HEADER_NOT_OBJECT, /* header is JSON but not an object */
    PROTO_ERR_HEADER_KEY,        /* a required key is missing or mistyped */
    PROTO_ERR_CONTENT_LENGTH,    /* content-length not an integer >= 0 */
    PROTO_ERR_CONTENT_TOO_LONG,  /* content-length over max_content */
    PROTO_ERR_ENCODING,          /* text/json with an encoding other than utf-8 */
    PROTO_ERR_CONTENT_JSON,      /* text/json content is not valid UTF-8 JSON */
    PROTO_ERR_NOMEM,             /* out of memory */
} proto_error;

typedef struct proto_limits {
    size_t max_header;  /* largest JSON header accepted, <= 65535 */
    size_t max_content; /* largest content-length accepted */
} proto_limits;

/* One decoded message. Every pointer is borrowed from the decoder and stays
 * valid until the next proto_decoder_feed/next/free call on it. The content
 * is not parsed: see proto_request_parse for a request's. */
typedef struct proto_message {
    const char *byteorder;        /* "little" or "big" */
    const char *content_type;     /* any string; "text/json" is JSON */
    const char *content_encoding; /* "utf-8" (any case, or "utf8") for JSON */
    int is_json;                  /* content_type is "text/json" */
    const unsigned char *content; /* content_len bytes, not NUL-terminated */
    size_t content_len;
    size_t parse_memory; /* the most parsing the content may take: proto_parse_memory(max_content) */
} proto_message;

/* Longest content-type or content-encoding the header fast path copies. */
#define PROTO_FAST_STRING_MAX 63

typedef struct proto_decoder {
    proto_limits limits;
    int full_parser_only; /* set to 1 to parse every header with jansson */
    proto_inbuf in;       /* buffered input: in.buf[in.pos..in.len) is unread */
    size_t hdr_len;       /* JSON header length, once the protoheader is in */
    size_t body_len;      /* content-length, once the header is parsed */
    int state;            /* private: which part is being read */
    /* The current message's header fields: pointers into `header` (parsed
     * by jansson, owned) or, for the fast path, into the arrays below. */
    json_t *header;
    const char *byteorder, *content_type, *content_encoding;
    size_t content_type_len;
    char fast_type[PROTO_FAST_STRING_MAX + 1], fast_encoding[PROTO_FAST_STRING_MAX + 1];
    proto_error err; /* PROTO_ERR_NONE until the stream breaks */
    char errstr[PROTO_ERRSTR_LEN];
} proto_decoder;

/* Sets up a decoder with the given limits (NULL for the defaults). */
void proto_decoder_init(proto_decoder *d, const proto_limits *limits);
/* Frees what the decoder holds; it can be initialised again. */
void proto_decoder_free(proto_decoder *d);
/* Appends len bytes. Returns 0, or -1 when out of memory (the decoder fails). */
int proto_decoder_feed(proto_decoder *d, const void *buf, size_t len);
/* Room to read into directly: returns a pointer to at least len free bytes
 * at the end of the buffered input (moving or growing the buffer, which
 * ends the validity of the last message), or NULL when out of memory (the
 * decoder fails). Then proto_decoder_commit the bytes actually written. */
void *proto_decoder_reserve(proto_decoder *d, size_t len);
void proto_decoder_commit(proto_decoder *d, size_t len);
/* Free bytes at the end of the buffer, without moving anything. */
size_t proto_decoder_space(const proto_decoder *d);
/* Frees the input buffer if it holds no unread byte (an idle connection
 * then costs no buffer); the next reserve or feed allocates it again. */
void proto_decoder_release(proto_decoder *d);
/* Decodes the next buffered message into *msg. */
proto_status proto_decoder_next(proto_decoder *d, proto_message *msg);
/* Bytes fed but not yet consumed: those of a message's header count as
 * consumed once the header is parsed, while its content is awaited. */
size_t proto_decoder_buffered(const proto_decoder *d);
/* Whether bytes of an unfinished message are buffered. */
int proto_decoder_in_message(const proto_decoder *d);

/* Whether "value" of a request is usable. */
typedef enum proto_value_state {
    PROTO_VALUE_STRING = 0, /* a string: value/value_len */
    PROTO_VALUE_MISSING,    /* no "value" key */
    PROTO_VALUE_NOT_STRING, /* "value" is not a string */
} proto_value_state;

/* A text/json request's content, parsed: {"action": A, "value": V}. */
typedef struct proto_request {
    const char *action; /* A, action_len bytes of UTF-8 (may hold NULs) */
    size_t action_len;
    const char *value; /* V, when value_state is PROTO_VALUE_STRING */
    size_t value_len;
    proto_value_state value_state;
    json_t *json; /* the parse tree when jansson ran, owned */
    char errstr[PROTO_ERRSTR_LEN];
} proto_request;

/* Parses a text/json request's content. Returns 0 with req filled: its
 * strings are borrowed from content or from req->json, valid until
 * proto_request_free and while content lives. Returns -1 with req->errstr
 * when the content is not valid JSON, not an object, or has no string
 * "action", or when jansson would need more than max_memory for it (a
 * message's parse_memory), which is checked before it runs. jansson is
 * the authority: the reference client's exact layout with plain strings is
 * read directly, to the same result jansson would give, and everything
 * else goes through jansson. */
int proto_request_parse(const void *content, size_t len, size_t max_memory, proto_request *req);
/* The same through jansson alone (for the differential fuzzer). */
int proto_request_parse_full(const void *content, size_t len, size_t max_memory, proto_request *req);
/* Frees what a parse holds. Safe on a zeroed or failed request. */
void proto_request_free(proto_request *req);

/* The byte order this host would name in a header: "little" or "big". */
const char *proto_host_byteorder(void);

/* Appends the protoheader and JSON header of a message whose content is
 * content_length bytes. Returns 0 or -1 (out of memory, or a header over
 * 65535 bytes). */
int proto_encode_header(proto_buf *b, const char *content_type, const char *content_encoding, size_t content_length);
/* Appends a whole message: header, then the content. */
int proto_encode_message(proto_buf *b, const char *content_type, const char *content_encoding, const void *content,
                         size_t content_len);
/* Appends a text/json request {"action": A, "value": V} as the reference
 * client sends it. */
int proto_encode_request(proto_buf *b, const char *action, size_t action_len, const char *value, size_t value_len);

#endif
