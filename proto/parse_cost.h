/*
 * parse_cost.h: a bound on the memory jansson may take to parse network
 * bytes, checked before it runs (parse_cost.c says why and how). The
 * guide's decoder holds every parse of a header or content to it.
 */
#ifndef EVKV_PARSE_COST_H
#define EVKV_PARSE_COST_H

#include <stddef.h>
#include <stdint.h>

/* Most memory parsing a JSON header or content may allocate, where max is
 * the most bytes the limits let it have (max_header or max_content): 48
 * bytes a byte, what a list of empty strings that fills max is priced at
 * (proto_json_parse_cost), so that every list of strings (an msearch) and
 * every lighter shape is parsed, at any length the limits allow. Shapes
 * heavier for jansson (a list of empty objects: over 80 bytes a byte at
 * its peak) are parsed while they fit. The bound is one of the limits:
 * it does not grow with the message, however small. */
#define PROTO_PARSE_PER_BYTE 48
static inline size_t proto_parse_memory(size_t max)
{
    const size_t base = 64 * 1024;
    return max > (SIZE_MAX - base) / PROTO_PARSE_PER_BYTE ? SIZE_MAX : base + PROTO_PARSE_PER_BYTE * max;
}

/* An upper bound on the memory jansson holds at its peak while parsing
 * data[0..n) (see parse_cost.c); a header or content priced over
 * proto_parse_memory(its limit) is refused without being parsed. */
size_t proto_json_parse_cost(const void *data, size_t n);

#endif
