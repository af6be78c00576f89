/*
 * resp_reply.h: RESP2 replies read back, with no I/O: the other direction
 * of resp.h, for what reads a server's answers (evkv-bench; the Python
 * tests have the same reader in tests/integration/resp_reply.py).
 *
 * The reader does not buffer: the caller keeps the bytes (an evbuffer made
 * contiguous, a test's string) and asks what stands at p[0..n). It answers
 * as resp.h's request reader does: "here is one, taking k bytes", "need
 * more" (0: call again with more bytes from the same p) or "error, and here
 * is why" (-1, with errstr; the stream is broken, and asking again gives
 * the same error). What it returns points into p; nothing is copied.
 *
 * It reads what Redis writes and nothing looser: a type byte, a line ended
 * by "\r\n", numbers as resp_string2ll reads them, a bulk's bytes followed
 * by "\r\n". Bounds: a line's end must come within RESP_REPLY_LINE_MAX
 * bytes (whatever pieces the bytes arrive in), a bulk's length and an
 * array's count are at most RESP_REPLY_MAX_LEN.
 */
#ifndef EVKV_RESP_REPLY_H
#define EVKV_RESP_REPLY_H

#include <stddef.h>

#define RESP_REPLY_LINE_MAX   (64 * 1024) /* longest line, its "\r\n" included */
#define RESP_REPLY_MAX_LEN    (1LL << 30) /* largest bulk length or array count */
#define RESP_REPLY_ERRSTR_LEN 80

typedef enum resp_reply_type {
    RESP_REPLY_STATUS,    /* "+text\r\n": str, len */
    RESP_REPLY_ERROR,     /* "-text\r\n": str, len (the text after '-') */
    RESP_REPLY_INTEGER,   /* ":n\r\n": num */
    RESP_REPLY_BULK,      /* "$len\r\n" then len bytes and "\r\n": str, len */
    RESP_REPLY_NIL,       /* "$-1\r\n", the nil bulk */
    RESP_REPLY_ARRAY,     /* "*count\r\n" then count replies: num is count */
    RESP_REPLY_NIL_ARRAY, /* "*-1\r\n" */
} resp_reply_type;

/* One reply, or for an array its header. str is borrowed from the bytes
 * read and stays valid as long as they do. */
typedef struct resp_reply {
    resp_reply_type type;
    const char *str; /* STATUS, ERROR, BULK: the text or content, not NUL-terminated */
    size_t len;
    long long num; /* INTEGER: the value; ARRAY: the count */
} resp_reply;

/* Reads the reply at p[0..n) into *r; for an array only its header (its
 * elements follow it, each read by a call of its own). Returns the bytes
 * it takes (a bulk's content and final "\r\n" included), 0 if they are not
 * all there yet, or -1 if the bytes are not a RESP2 reply (errstr says
 * why). With 0, *need, if not NULL, is the fewest bytes from p that can
 * hold it: more than n, exact once a bulk's length is read. */
long resp_reply_read(const char *p, size_t n, resp_reply *r, size_t *need, char errstr[RESP_REPLY_ERRSTR_LEN]);

/* The length of the whole reply at p[0..n), the elements of its arrays and
 * theirs included, without keeping them; 0 and -1 as resp_reply_read. */
long resp_reply_span(const char *p, size_t n, char errstr[RESP_REPLY_ERRSTR_LEN]);

#endif
