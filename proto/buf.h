/*
 * buf.h: the byte buffers of proto/, with no I/O. A decoder (the guide's,
 * proto.h, and RESP's, resp.h) reads into a proto_inbuf; encoders (the
 * guide's, RESP's replies, the JSON writer) append to a proto_buf. Both
 * protocols and the clients share them.
 */
#ifndef EVKV_BUF_H
#define EVKV_BUF_H

#include <stddef.h>

/* The input buffer a decoder of proto/ reads into: buf[pos..len) is
 * unread, cap bytes are allocated. */
typedef struct proto_inbuf {
    unsigned char *buf;
    size_t len, pos, cap;
} proto_inbuf;

/* Makes room for len more bytes after buf[len), dropping the consumed bytes
 * first (the unread ones move to buf[0]). Returns where the new bytes go, or
 * NULL when out of memory (the buffer is unchanged but for the move). */
unsigned char *proto_inbuf_reserve(proto_inbuf *in, size_t len);
/* Appends len bytes. Returns 0 or -1 (out of memory). */
int proto_inbuf_append(proto_inbuf *in, const void *buf, size_t len);
/* Frees the buffer if it holds no unread byte. */
void proto_inbuf_release(proto_inbuf *in);

/* A growable byte buffer for an encoder. Zero-initialise before use. */
typedef struct proto_buf {
    char *data;
    size_t len, cap;
    int failed; /* set once an allocation failed; appends are then no-ops */
} proto_buf;

/* The slow path of proto_buf_reserve: grows the buffer. */
char *proto_buf_grow(proto_buf *b, size_t len);
/* Makes room for len more bytes after data[len). Returns where they go
 * (the caller writes them, then adds to len), or NULL when out of memory
 * or the buffer had failed (it is then failed). */
static inline char *proto_buf_reserve(proto_buf *b, size_t len)
{
    if (b->failed || b->cap - b->len < len)
        return proto_buf_grow(b, len);
    return b->data + b->len;
}

/* Appends len bytes. Returns 0, or -1 when out of memory or the buffer
 * had failed. */
int proto_buf_append(proto_buf *b, const void *data, size_t len);
void proto_buf_reset(proto_buf *b);
void proto_buf_free(proto_buf *b);

#endif
