/*
 * json_write.h: JSON written as Python's json.dumps(..., ensure_ascii=False)
 * writes it, byte for byte, into a proto_buf. The guide's encoder, the
 * server's stats and the clients write their JSON with it.
 */
#ifndef EVKV_JSON_WRITE_H
#define EVKV_JSON_WRITE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/* Appends s (len bytes of UTF-8) as a JSON string, quoted and escaped as
 * Python's json module does with ensure_ascii=False. Bytes that are not valid
 * UTF-8 are written as \ufffd. Returns 0 or -1 (out of memory). */
int proto_dump_string(proto_buf *b, const char *s, size_t len);
/* Appends v as Python's json.dumps(v, ensure_ascii=False) writes it.
 * Returns 0 or -1 (out of memory). */
int proto_dump_json(proto_buf *b, const json_t *v);

/* Length of the longest prefix of s made of printable ASCII other than
 * '"' and '\\': bytes that JSON and Python's json write as they are. */
size_t proto_plain_span(const char *s, size_t len);
/* Whether s is valid UTF-8 that a JSON string holds as it is: then its
 * encoding (proto_dump_string) is s between two quotes. */
int proto_json_safe(const char *s, size_t len);

#endif
