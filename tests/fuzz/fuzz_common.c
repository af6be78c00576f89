/*
 * fuzz_common.c: input splitting and reporting for the harnesses (see
 * fuzz_common.h).
 */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_input_init(fuzz_input *in, const uint8_t *data, size_t size)
{
    in->flags = 0;
    in->sizes = NULL;
    in->nsizes = in->next = 0;
    in->stream = data;
    in->len = 0;
    if (size == 0)
        return;
    size_t n = data[0] & 7;
    if (n > size - 1)
        n = size - 1;
    in->flags = data[0] >> 3;
    in->sizes = data + 1;
    in->nsizes = n;
    in->stream = data + 1 + n;
    in->len = size - 1 - n;
}

size_t fuzz_input_fragment(fuzz_input *in, size_t remaining)
{
    if (in->nsizes == 0)
        return remaining;
    size_t n = (size_t)in->sizes[in->next++ % in->nsizes] + 1;
    return n < remaining ? n : remaining;
}

uint8_t *fuzz_frames(fuzz_input *in)
{
    if (!(in->flags & FUZZ_FLAG_FRAMED))
        return NULL;
    /* at most one protoheader per two pieces, and the 0xff bytes go */
    uint8_t *out = malloc(in->len + 2 * (in->len / 2 + 1));
    size_t o = 0, i = 0;
    int header = 1;

    if (out == NULL)
        fuzz_fail("out of memory");
    while (i <= in->len) {
        const uint8_t *end = memchr(in->stream + i, 0xff, in->len - i);
        size_t n = end ? (size_t)(end - (in->stream + i)) : in->len - i;
        if (header) {
            size_t hl = n > 65535 ? 65535 : n; /* only past -max_len 65535 */
            out[o++] = (uint8_t)(hl >> 8);
            out[o++] = (uint8_t)hl;
        }
        memcpy(out + o, in->stream + i, n);
        o += n;
        i += n + 1;
        header = !header;
        if (end == NULL)
            break;
    }
    in->stream = out;
    in->len = o;
    return out;
}

void fuzz_limits(unsigned choice, proto_limits *lim)
{
    switch (choice & 3) {
    case 0:
        lim->max_header = PROTO_DEFAULT_MAX_HEADER;
        lim->max_content = PROTO_DEFAULT_MAX_CONTENT;
        break;
    case 1:
        lim->max_header = 120;
        lim->max_content = 60;
        break;
    case 2:
        lim->max_header = 65535;
        lim->max_content = 0;
        break;
    default:
        lim->max_header = 103;
        lim->max_content = 41;
        break;
    }
}

int fuzz_printable(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

void fuzz_print_bytes(const char *label, const void *p, size_t n)
{
    const unsigned char *s = p;
    fprintf(stderr, "%s (%zu bytes): \"", label, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "\"\n");
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("evkv fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
