/*
 * parse_cost.c: a bound on what parsing one message may allocate (see
 * parse_cost.h).
 *
 * jansson builds a tree many times the size of its input for some shapes
 * (an array of empty objects takes over 80 bytes per input byte). It cannot
 * be refused memory halfway through a parse (its lexer then goes on with a
 * buffer it failed to grow), so the bound is checked before it runs: one
 * pass over the bytes prices what jansson would allocate at most for them
 * (proto_json_parse_cost), and a message priced over its budget
 * (proto_parse_memory of the largest message the limits allow) is refused
 * without being parsed. The prices are generous upper bounds of jansson
 * 2.14's allocations; tests/unit/test_parse_cost.c checks them against what
 * jansson really holds at its peak. */
#include "parse_cost.h"

#define COST_BASE     1024 /* the parse itself: lexer buffer, error text */
#define COST_OBJECT   512  /* '{': the object, its first hashtable */
#define COST_ARRAY    256  /* '[': the array, its first table of 8 slots */
#define COST_MEMBER   192  /* ',' in an object: a pair, and the hashtable's growth */
#define COST_SLOT     32   /* ',' in an array: a slot, and the table's growth (old and new) */
#define COST_TOKEN    96   /* a string, number or literal */
#define COST_PER_BYTE 5    /* a string's bytes: lexer buffer growth (old + new), copy */
/* The depth to which a ',' is known to be in an array: jansson stops at
 * JSON_PARSER_MAX_DEPTH; deeper, a ',' is priced as an object's. */
#define COST_DEPTH 2048

size_t proto_json_parse_cost(const void *data, size_t n)
{
    const unsigned char *p = data, *end = p + n;
    size_t cost = COST_BASE, depth = 0;
    unsigned char in_array[COST_DEPTH / 8] = {0}; /* a bit per open container: 1 for an array */

    while (p < end) {
        unsigned char c = *p++;
        switch (c) {
        case '{':
        case '[':
            cost += c == '{' ? COST_OBJECT : COST_ARRAY;
            if (depth < COST_DEPTH) {
                in_array[depth / 8] &= (unsigned char)~(1u << depth % 8);
                in_array[depth / 8] |= (unsigned char)((c == '[') << depth % 8);
            }
            depth++;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            if (depth > 0 && depth <= COST_DEPTH && (in_array[(depth - 1) / 8] >> ((depth - 1) % 8) & 1))
                cost += COST_SLOT;
            else
                cost += COST_MEMBER;
            break;
        case '"': {
            const unsigned char *start = p;
            while (p < end && *p != '"')
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            cost += COST_TOKEN + COST_PER_BYTE * (size_t)(p - start);
            p++;
            break;
        }
        default:
            if ((c >= '0' && c <= '9') || c == '-' || (c >= 'a' && c <= 'z')) {
                cost += COST_TOKEN;
                while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '.' || *p == '+' ||
                                   *p == '-' || *p == 'E'))
                    p++;
            }
        }
    }
    return cost;
}
