/*
 * buf.c: the byte buffers of proto/ (see buf.h): proto_inbuf, which a
 * decoder reads into, and proto_buf, which encoders append to. Both
 * protocols' codecs and the clients use them.
 */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

unsigned char *proto_inbuf_reserve(proto_inbuf *in, size_t len)
{
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->len -= in->pos;
        in->pos = 0;
    }
    if (in->buf == NULL || in->cap - in->len < len) { /* reserve(0) gets a buffer too */
        size_t want = in->cap ? in->cap : 4096;
        while (want - in->len < len) {
            if (want > SIZE_MAX / 2)
                return NULL;
            want *= 2;
        }
        unsigned char *nb = realloc(in->buf, want);
        if (nb == NULL)
            return NULL;
        in->buf = nb;
        in->cap = want;
    }
    return in->buf + in->len;
}

int proto_inbuf_append(proto_inbuf *in, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char *space = proto_inbuf_reserve(in, len);
    if (space == NULL)
        return -1;
    memcpy(space, buf, len);
    in->len += len;
    return 0;
}

void proto_inbuf_release(proto_inbuf *in)
{
    if (in->len == in->pos) {
        free(in->buf);
        memset(in, 0, sizeof(*in));
    }
}

char *proto_buf_grow(proto_buf *b, size_t len)
{
    if (b->failed)
        return NULL;
    size_t want = b->cap ? b->cap : 256;
    while (want - b->len < len) {
        if (want > SIZE_MAX / 2)
            goto fail;
        want *= 2;
    }
    char *nd = realloc(b->data, want);
    if (nd == NULL)
        goto fail;
    b->data = nd;
    b->cap = want;
    return b->data + b->len;
fail:
    b->failed = 1;
    return NULL;
}

int proto_buf_append(proto_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return b->failed ? -1 : 0; /* nothing to hold: a fresh buffer has no room yet, and needs none */
    char *p = proto_buf_reserve(b, len);
    if (p == NULL)
        return -1;
    memcpy(p, data, len);
    b->len += len;
    return 0;
}

void proto_buf_reset(proto_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

void proto_buf_free(proto_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
