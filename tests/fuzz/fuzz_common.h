/*
 * fuzz_common.h: what the evkv libFuzzer harnesses share.
 *
 * A harness's input is split the way hiredis's reader fuzzing splits it:
 * the first byte holds a count n (its low 3 bits) and harness flags (the
 * rest); the next n bytes are fragment sizes (each byte + 1, used in turn);
 * what follows is the stream, fed to the decoder in fragments of those
 * sizes (all at once when n is 0). So one input explores one byte stream
 * under many splits, and the corpus stays plain bytes after a short prefix.
 *
 * With FUZZ_FLAG_FRAMED, the stream is first rewritten by fuzz_frames: it
 * is read as header and content pieces separated by 0xff bytes (a byte
 * JSON text never holds), and each header gets its protoheader computed.
 * A mutation inside a header then keeps the framing intact, where in a raw
 * stream it would need the 2-byte length fixed at the same time.
 */
#ifndef EVKV_FUZZ_COMMON_H
#define EVKV_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* The flag (in fuzz_input.flags) for a framed stream: see above. */
#define FUZZ_FLAG_FRAMED 16
/* fuzz_conn only: the connection speaks RESP (proto_resp) instead of the
 * guide's protocol, and the stream is sent as it is (FUZZ_FLAG_FRAMED is
 * then ignored). No other harness gives this bit a meaning. */
#define FUZZ_FLAG_RESP 8

typedef struct fuzz_input {
    unsigned flags;        /* the first byte's upper 5 bits */
    const uint8_t *sizes;  /* fragment sizes, each byte + 1 */
    size_t nsizes, next;   /* how many, and which comes next */
    const uint8_t *stream; /* the bytes to feed, borrowed from the input */
    size_t len;
} fuzz_input;

/* The libFuzzer entry point each harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits a fuzzer input as described above. */
void fuzz_input_init(fuzz_input *in, const uint8_t *data, size_t size);
/* The size of the next fragment, at most `remaining`. */
size_t fuzz_input_fragment(fuzz_input *in, size_t remaining);

/* Rewrites in->stream as frames when FUZZ_FLAG_FRAMED is set: pieces
 * H1 0xff C1 0xff H2 0xff C2 ... become len(H1) H1 C1 len(H2) H2 C2 ...
 * (each length 2 bytes big-endian). Returns the buffer to free (NULL when
 * the stream was left as it was). */
uint8_t *fuzz_frames(fuzz_input *in);

/* Decoder limits picked by two bits: the defaults, small ones, no content
 * at all, or exactly PROTOCOL.md's first example (103-byte header, 41-byte
 * content). */
void fuzz_limits(unsigned choice, proto_limits *lim);

/* Whether s is non-empty printable ASCII. */
int fuzz_printable(const char *s);

/* Reads one RESP2 reply (+ - : $ *, arrays nested) at p[0..len). Returns
 * 1 and sets *used to its size, 0 if p holds only the start of one, or -1
 * if p does not start a well-formed reply (then *errstr says why). */
int fuzz_resp_reply(const char *p, size_t len, size_t *used, const char **errstr);

/* Prints n bytes on stderr as a C string literal, after label. */
void fuzz_print_bytes(const char *label, const void *p, size_t n);

/* Prints the message (printf format) on stderr and aborts: libFuzzer saves
 * the input that got here. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
