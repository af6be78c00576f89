/*
 * text.h: what a byte string holds as text, with no I/O: UTF-8 validity,
 * one character's length, hexadecimal digits.
 */
#ifndef EVKV_TEXT_H
#define EVKV_TEXT_H

#include <stddef.h>

/* The value of the hexadecimal digit c (either case), or -1. */
int proto_hex_digit(int c);
/* Whether s[0..len) is valid UTF-8 (no surrogates, no overlongs). */
int proto_utf8_valid(const char *s, size_t len);
/* Length of the valid UTF-8 sequence (one character) at s, or 0. */
size_t proto_utf8_span(const char *s, size_t len);

#endif
