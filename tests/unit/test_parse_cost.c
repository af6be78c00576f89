/*
 * test_parse_cost.c: proto_json_parse_cost must bound what jansson really
 * holds at its peak while parsing, or the server's memory bound per
 * message (PROTO_PARSE_MEMORY) would not hold.
 *
 * jansson allocates through a counting allocator here (each allocation
 * also charged 16 bytes of malloc's own overhead); shapes known to blow
 * up, and thousands of random documents, are parsed and their peak
 * compared with the price. And the bound's other side: every msearch
 * (a list of strings) up to a content limit fits that limit's bound,
 * while the shapes that blow up are still refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse_cost.h"
#include "proto.h"

static size_t live, peak;

static void *counting_malloc(size_t n)
{
    size_t *p = malloc(n + sizeof(size_t));
    if (p == NULL)
        return NULL;
    *p = n + 16;
    live += n + 16;
    if (live > peak)
        peak = live;
    return p + 1;
}

static void counting_free(void *ptr)
{
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)ptr - 1;
    live -= *p;
    free(p);
}

/* Parses doc with jansson; returns its peak, checked against the price. */
static size_t check_doc(const char *doc, size_t n)
{
    json_error_t err;
    live = peak = 0;
    json_t *j = json_loadb(doc, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    json_decref(j);
    size_t cost = proto_json_parse_cost(doc, n);
    if (peak > cost)
        fail_msg("%zu-byte document %.60s...: jansson peaked at %zu bytes, priced %zu", n, doc, peak, cost);
    return peak;
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * times + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * times, tail, tl + 1);
    *len = hl + ul * times + tl;
    return s;
}

static void test_known_shapes(void **state)
{
    static const struct {
        const char *head, *unit, *tail;
    } shapes[] = {
        {"[", "0,", "0]"},
        {"[", "{},", "{}]"},
        {"[", "[],", "[]]"},
        {"[", "\"\",", "\"\"]"},
        {"[", "true,", "null]"},
        {"[", "1.5e10,", "-0.0]"},
        {"{\"k", "x", "\": 1}"},
        {"[\"", "a", "\"]"},
        {"[\"", "\\u00e9", "\"]"},
        {"[", "{\"a\":[]},", "{}]"},
        {"[", "[", ""},
        {"", "[", "1"},
        {"[", "{\"a\":1,\"b\":2},", "0]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        for (size_t times = 1; times <= 30000; times *= 7) {
            size_t n;
            char *doc = repeat(shapes[i].head, shapes[i].unit, times, shapes[i].tail, &n);
            check_doc(doc, n);
            free(doc);
        }
    }
    /* objects with many distinct keys: the hashtable grows */
    char *doc = malloc(2000000);
    size_t n = 0;
    doc[n++] = '{';
    for (int k = 0; k < 50000; k++)
        n += (size_t)sprintf(doc + n, "%s\"key%d\":%d", k ? "," : "", k, k);
    doc[n++] = '}';
    check_doc(doc, n);
    free(doc);
}

/* Arrays whose table has just filled, or just grown: the moment jansson
 * holds the old table and the new one (a slot is priced at 24 bytes). */
static void test_arrays_at_their_growth(void **state)
{
    static const char *units[] = {"0,", "\"\",", "\"k\", ", "true,", "[],"};
    (void)state;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        for (size_t slots = 8; slots <= 131072; slots *= 2) {
            for (size_t extra = 0; extra <= 1; extra++) {
                size_t n;
                char *doc = repeat("[", units[i], slots + extra - 1, "0]", &n);
                check_doc(doc, n);
                free(doc);
            }
        }
    }
}

/* The request {"action": "msearch", "value": [...]} with the value's
 * elements unit, unit, ... as many as fit in max bytes (at least one). */
static char *msearch_filling(const char *unit, size_t max, size_t *len)
{
    static const char head[] = "{\"action\": \"msearch\", \"value\": [", tail[] = "\"\"]}";
    size_t times = 0, fixed = sizeof(head) - 1 + sizeof(tail) - 1;
    if (max > fixed)
        times = (max - fixed) / strlen(unit);
    return repeat(head, unit, times, tail, len);
}

/* An msearch of any keys, at any length up to the content limit, is priced
 * within that limit's bound: the lightest keys (empty strings, compact
 * or with Python's separators) are the heaviest for jansson. */
static void test_msearch_fits_its_limit(void **state)
{
    static const char *units[] = {
        "\"\",", "\"\", ", "\"k\", ", "\"key:000001\", ", "\"\\u00e9\",", "\"\xf0\x9f\x90\xb6\", "};
    static const size_t limits[] = {0, 100, 4096, 65536, PROTO_DEFAULT_MAX_CONTENT, 16 * 1024 * 1024};
    (void)state;
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            size_t n;
            char *doc = msearch_filling(units[u], limits[l], &n);
            size_t cost = proto_json_parse_cost(doc, n);
            if (n <= limits[l] && cost > proto_parse_memory(limits[l]))
                fail_msg("msearch of %s filling %zu bytes priced %zu, over the bound %zu", units[u], limits[l], cost,
                         proto_parse_memory(limits[l]));
            if (limits[l] <= PROTO_DEFAULT_MAX_CONTENT)
                check_doc(doc, n);
            free(doc);
        }
    }
}

/* What blows jansson up is still refused at the content limit: a list of
 * empty objects or arrays (jansson: over 80 and 48 bytes a byte) and a
 * deep nest. */
static void test_heavy_shapes_over_the_bound(void **state)
{
    static const char *units[] = {"{},", "[],", "{\"a\":{}},", "[[[[[[[["};
    (void)state;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t n;
        char *doc = msearch_filling(units[u], PROTO_DEFAULT_MAX_CONTENT, &n);
        size_t cost = proto_json_parse_cost(doc, n);
        if (cost <= proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT))
            fail_msg("%zu bytes of %s priced %zu, within the bound %zu", n, units[u], cost,
                     proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT));
        free(doc);
    }
}

static uint64_t rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) + 1442695040888963407u;
    return (unsigned)((rng_state >> 33) % n);
}

/* Appends a random JSON value to out. Once past cap, values stop growing;
 * the separators and closing brackets of the open levels still come (a
 * few hundred bytes at most), so out must have that much room past cap. */
static void gen(char *out, size_t *n, size_t cap, int depth)
{
    if (*n + 64 > cap)
        return;
    switch (depth > 6 ? rnd(4) : rnd(7)) {
    case 0: *n += (size_t)sprintf(out + *n, "%d", (int)rnd(100000) - 50000); break;
    case 1: *n += (size_t)sprintf(out + *n, "%u.%ue%d", rnd(1000), rnd(1000), (int)rnd(40) - 20); break;
    case 2: {
        out[(*n)++] = '"';
        unsigned len = rnd(40);
        for (unsigned i = 0; i < len; i++)
            out[(*n)++] = rnd(10) == 0 ? ' ' : (char)('a' + rnd(26));
        out[(*n)++] = '"';
        break;
    }
    case 3: *n += (size_t)sprintf(out + *n, "%s", rnd(3) == 0 ? "null" : rnd(2) ? "true" : "false"); break;
    case 4:
    case 5: {
        unsigned k = rnd(12);
        out[(*n)++] = '[';
        for (unsigned i = 0; i < k; i++) {
            if (i)
                out[(*n)++] = ',';
            gen(out, n, cap, depth + 1);
        }
        out[(*n)++] = ']';
        break;
    }
    default: {
        unsigned k = rnd(12);
        out[(*n)++] = '{';
        for (unsigned i = 0; i < k; i++) {
            if (i)
                out[(*n)++] = ',';
            *n += (size_t)sprintf(out + *n, "\"k%u\":", i);
            gen(out, n, cap, depth + 1);
        }
        out[(*n)++] = '}';
    }
    }
}

static void test_random_documents(void **state)
{
    static char doc[1 << 16];
    (void)state;
    for (int i = 0; i < 5000; i++) {
        size_t n = 0;
        gen(doc, &n, sizeof(doc) - 4096, 0);
        check_doc(doc, n);
    }
}

int main(void)
{
    json_set_alloc_funcs(counting_malloc, counting_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_shapes),
        cmocka_unit_test(test_random_documents),
        cmocka_unit_test(test_arrays_at_their_growth),
        cmocka_unit_test(test_msearch_fits_its_limit),
        cmocka_unit_test(test_heavy_shapes_over_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
