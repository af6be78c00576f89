/*
 * json_write.c: JSON as Python's json module writes it (see json_write.h),
 * byte for byte: the guide's encoder, the stats and the clients write
 * their JSON through it.
 */
#include "json_write.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "text.h"

#define BUF_LIT(b, s) proto_buf_append((b), (s), sizeof(s) - 1)

/* Eight bytes at a time: a word is plain when no byte has its top bit set,
 * is below 0x20, or equals '"' or '\\' (the classic "has a zero byte"
 * test, on the word and on its xor with each special byte). */
#define ONES        UINT64_C(0x0101010101010101)
#define HIGHS       UINT64_C(0x8080808080808080)
#define HAS_ZERO(v) (((v)-ONES) & ~(v)&HIGHS)

size_t proto_plain_span(const char *s, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    /* Sixteen bytes at a time where SSE2 is there (every x86-64): a byte
     * below 0x20 or with its top bit set is below 0x20 as a signed byte. A
     * data file's values are scanned here, a gigabyte of them in a big
     * load. */
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  del = _mm_set1_epi8(0x7f);
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i odd = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, quote)),
                                   _mm_or_si128(_mm_cmpeq_epi8(x, bslash), _mm_cmpeq_epi8(x, del)));
        int mask = _mm_movemask_epi8(odd);
        if (mask != 0)
            return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((w & HIGHS) || (((w - ONES * 0x20) & ~w & HIGHS)) || HAS_ZERO(w ^ (ONES * '"')) ||
            HAS_ZERO(w ^ (ONES * '\\')) || HAS_ZERO(w ^ (ONES * 0x7f)))
            break;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            break;
    }
    return i;
}

int proto_json_safe(const char *s, size_t len)
{
    size_t i = 0;
    while ((i += proto_plain_span(s + i, len - i)) < len) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c < 0x80 || (k = proto_utf8_span(s + i, len - i)) == 0)
            return 0; /* a control character, '"', '\\', DEL (safe, but rare) or not UTF-8 */
        i += k;
    }
    return 1;
}

int proto_dump_string(proto_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes copied as they are */

    BUF_LIT(b, "\"");
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        char esc[6];
        size_t esclen = 2, n = 1;

        if (c >= 0x20 && c != '"' && c != '\\') {
            if (c < 0x80 || (n = proto_utf8_span(s + i, len - i)) != 0) {
                i += n;
                continue;
            }
            n = 1; /* not UTF-8: written as U+FFFD, as Python's "replace" */
        }
        proto_buf_append(b, s + run, i - run);
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xf];
                esclen = 6;
            } else {
                memcpy(esc, "\xef\xbf\xbd", 3);
                esclen = 3;
            }
        }
        proto_buf_append(b, esc, esclen);
        i += n;
        run = i;
    }
    proto_buf_append(b, s + run, len - run);
    BUF_LIT(b, "\"");
    return b->failed ? -1 : 0;
}

/* Whether the decimal digits[0..n) x 10^exp10 (one digit before the point)
 * reads back as v. */
static int digits_round_trip(const char *digits, int n, int exp10, double v)
{
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%c.%.*se%d", digits[0], n - 1, digits + 1, exp10);
    return strtod(tmp, NULL) == fabs(v);
}

/* Finds the shortest digits that read back as v (> 0), as Python's repr
 * does (David Gay's shortest mode). At each length the correctly rounded
 * digits are tried first; when v lies on a tie or next to the edge of its
 * rounding interval they may miss it while their neighbour one unit in the
 * last place above or below hits it, so those are tried too. Returns the
 * number of digits; *exp10 is the exponent of the first one. */
static int shortest_digits(double v, char digits[20], int *exp10)
{
    char tmp[40];
    for (int n = 1; n <= 17; n++) {
        snprintf(tmp, sizeof(tmp), "%.*e", n - 1, v);
        /* tmp is d[.ddd]e[+-]XX */
        int k = 0;
        const char *p = tmp;
        for (; *p != 'e'; p++)
            if (*p != '.')
                digits[k++] = *p;
        int e = atoi(p + 1);
        if (digits_round_trip(digits, n, e, v)) {
            *exp10 = e;
            return n;
        }
        for (int dir = 1; dir >= -1; dir -= 2) {
            char d[20];
            int de = e, i = n - 1;
            memcpy(d, digits, (size_t)n);
            while (i >= 0) { /* add or take one unit in the last place */
                if (dir > 0 && d[i] == '9') {
                    d[i--] = '0';
                } else if (dir < 0 && d[i] == '0') {
                    d[i--] = '9';
                } else {
                    d[i] += (char)dir;
                    break;
                }
            }
            if (i < 0 && dir > 0) { /* 99..9 + 1 = 100..0 */
                d[0] = '1';
                de++;
            }
            if (i < 0 || d[0] == '0')
                continue; /* a shorter candidate, already tried */
            if (digits_round_trip(d, n, de, v)) {
                memcpy(digits, d, (size_t)n);
                *exp10 = de;
                return n;
            }
        }
    }
    snprintf(tmp, sizeof(tmp), "%.16e", v); /* unreachable: 17 digits always round-trip */
    digits[0] = tmp[0];
    memcpy(digits + 1, tmp + 2, 16);
    *exp10 = atoi(tmp + 19);
    return 17;
}

/* Writes v as Python's repr(float): the shortest digits that read back as
 * the same double, in fixed notation for exponents -4..15, else d.ddde+XX. */
static void dump_real(proto_buf *b, double v)
{
    char digits[20], out[48];
    int exp10, ndig;
    size_t o = 0;

    if (v == 0) {
        if (signbit(v))
            BUF_LIT(b, "-0.0");
        else
            BUF_LIT(b, "0.0");
        return;
    }
    if (v < 0)
        out[o++] = '-';
    ndig = shortest_digits(fabs(v), digits, &exp10);
    while (ndig > 1 && digits[ndig - 1] == '0')
        ndig--;

    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            memcpy(out + o, "0.", 2);
            o += 2;
            for (int i = 0; i < -exp10 - 1; i++)
                out[o++] = '0';
            memcpy(out + o, digits, (size_t)ndig);
            o += (size_t)ndig;
        } else {
            for (int i = 0; i <= exp10; i++)
                out[o++] = i < ndig ? digits[i] : '0';
            out[o++] = '.';
            if (ndig > exp10 + 1) {
                memcpy(out + o, digits + exp10 + 1, (size_t)(ndig - exp10 - 1));
                o += (size_t)(ndig - exp10 - 1);
            } else {
                out[o++] = '0';
            }
        }
    } else {
        out[o++] = digits[0];
        if (ndig > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(ndig - 1));
            o += (size_t)(ndig - 1);
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    proto_buf_append(b, out, o);
}

int proto_dump_json(proto_buf *b, const json_t *v)
{
    char num[32];

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int first = 1;
        BUF_LIT(b, "{");
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                BUF_LIT(b, ", ");
            first = 0;
            proto_dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            BUF_LIT(b, ": ");
            proto_dump_json(b, json_object_iter_value(it));
        }
        BUF_LIT(b, "}");
        break;
    }
    case JSON_ARRAY:
        BUF_LIT(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                BUF_LIT(b, ", ");
            proto_dump_json(b, json_array_get(v, i));
        }
        BUF_LIT(b, "]");
        break;
    case JSON_STRING: proto_dump_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        proto_buf_append(b, num, (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_REAL: dump_real(b, json_real_value(v)); break;
    case JSON_TRUE: BUF_LIT(b, "true"); break;
    case JSON_FALSE: BUF_LIT(b, "false"); break;
    case JSON_NULL: BUF_LIT(b, "null"); break;
    }
    return b->failed ? -1 : 0;
}
