/*
 * glob.h: Redis's glob patterns (util.c's stringmatchlen), for KEYS, SCAN's
 * MATCH and CONFIG GET.
 */
#ifndef EVKV_RESP_GLOB_H
#define EVKV_RESP_GLOB_H

#include <stddef.h>

/* Whether s[0..slen) matches pattern[0..patlen) (* ? [a-z] [^x] \x), case
 * blind with nocase. The pattern must be NUL-terminated after patlen bytes:
 * Redis's matcher, which this one is, reads one byte past the end in two
 * places. */
int resp_glob_match(const char *pattern, size_t patlen, const char *s, size_t slen, int nocase);

/* Collapses each run of '*' in p (outside an escape) to one '*', in place,
 * and returns the new length: the same matches, but a pattern of a million
 * stars no longer costs a million steps for every key it is tried on. A
 * run inside a [class] is collapsed too, which leaves the class's set as it
 * was (a '*' stays in it). */
size_t resp_glob_collapse(char *p, size_t len);

#endif
