/*
 * resp.h: the Redis protocol (RESP2), with no I/O.
 *
 * The request reader is fed bytes in any pieces and asked for the next
 * request, with the same shape as proto.h's decoder: it answers "here is
 * one" (argc/argv), "need more" or "error, and here is why". It reads what
 * Redis 7.0 reads, with Redis's limits and its error texts, matched against
 * Redis 7.0.15's source:
 *   - src/networking.c, processInputBuffer: a request starting with '*' is
 *     a multibulk request, anything else an inline one;
 *   - processMultibulkBuffer: "*<count>\r\n" then count times
 *     "$<len>\r\n<len bytes>\r\n". A count <= 0 is an empty request, skipped;
 *     a count over INT_MAX (Redis 6.2: over 1024*1024) is "invalid multibulk
 *     length". Redis looks for the '\r' of a count line and then takes the
 *     next byte as its '\n' without looking at it, and takes the 2 bytes after
 *     a bulk as its "\r\n" the same way: so does this reader;
 *   - processInlineBuffer: a line up to '\n' (a '\r' before it is dropped),
 *     split by sds.c's sdssplitargs: blanks separate words, "double quotes"
 *     take \n \r \t \b \a \xHH and \<any> escapes, 'single quotes' only \',
 *     a closing quote must be followed by a blank or the end of the line.
 *     An empty or blank line is skipped;
 *   - util.c's string2ll reads every count and length: no sign but '-', no
 *     leading zero, no blank, at most 20 characters.
 * Redis searches its query buffer with strchr, which stops at a NUL byte:
 * a NUL before the end of a count line or an inline line hides the end, and
 * the line then grows until it is too big. This reader does the same.
 *
 * Line limits: Redis checks PROTO_INLINE_MAX_SIZE (64 KiB) against what it
 * has buffered when a line's end is not there yet, so how long a line it
 * accepts depends on how the bytes arrived. This reader decides as Redis
 * does when the bytes arrive one at a time: a line whose end ('\n' for an
 * inline request, '\r' for a count) is not among its first max_inline + 1
 * bytes is too big. Every split of a stream then gives the same requests.
 *
 * Not reproduced: Redis's authentication limits (no auth here), its
 * client-query-buffer-limit (1 GB, a close without a reply: max_request
 * takes its place, with an error reply), and the master-client
 * exceptions. evkv's own: an inline request obeys max_request (a line
 * whose end is not among its first max_request bytes is refused as a
 * multibulk request over it is) and max_bulk (an argument longer is an
 * invalid bulk length, as it would be as a bulk); Redis bounds inline
 * requests by their 64 KiB only.
 *
 * The reply encoders write what Redis's addReply* functions write for a
 * RESP2 client. proto/PROTOCOL.md describes the commands evkv serves.
 */
#ifndef EVKV_RESP_H
#define EVKV_RESP_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

#include "buf.h"

#define RESP_INLINE_MAX_SIZE  (64 * 1024)                 /* Redis's PROTO_INLINE_MAX_SIZE */
#define RESP_DEFAULT_MAX_ARGS ((size_t)INT_MAX)           /* Redis 7.0's multibulk count limit */
#define RESP_DEFAULT_MAX_BULK ((size_t)512 * 1024 * 1024) /* Redis's proto-max-bulk-len default */
#define RESP_ERRSTR_LEN       64

typedef enum resp_status {
    RESP_ERROR = -1,    /* the stream is broken; errstr says why; final */
    RESP_NEED_MORE = 0, /* no complete request buffered yet */
    RESP_OK = 1,        /* one request read */
} resp_status;

/* Why a stream broke. Each value is one of Redis's protocol errors; errstr
 * holds its exact text (what Redis sends after "-ERR "). */
typedef enum resp_error {
    RESP_ERR_NONE = 0,
    RESP_ERR_INLINE_TOO_BIG,  /* "Protocol error: too big inline request" */
    RESP_ERR_UNBALANCED,      /* "Protocol error: unbalanced quotes in request" */
    RESP_ERR_MBULK_TOO_BIG,   /* "Protocol error: too big mbulk count string" */
    RESP_ERR_MBULK_LENGTH,    /* "Protocol error: invalid multibulk length" */
    RESP_ERR_BULK_TOO_BIG,    /* "Protocol error: too big bulk count string" */
    RESP_ERR_EXPECTED_DOLLAR, /* "Protocol error: expected '$', got 'c'" */
    RESP_ERR_BULK_LENGTH,     /* "Protocol error: invalid bulk length" */
    RESP_ERR_NOMEM,           /* "out of memory" (evkv's own; Redis aborts) */
    RESP_ERR_REQUEST_TOO_BIG, /* "Protocol error: request over N bytes" (evkv's own: max_request) */
    RESP_ERR_UNAUTH_MBULK,    /* "Protocol error: unauthenticated multibulk length" */
    RESP_ERR_UNAUTH_BULK,     /* "Protocol error: unauthenticated bulk length" */
} resp_error;

typedef struct resp_limits {
    size_t max_args;   /* largest multibulk count, <= INT_MAX (inline: no limit but the line's) */
    size_t max_bulk;   /* longest argument, bulk or inline (Redis's proto-max-bulk-len) */
    size_t max_inline; /* longest inline line or count line (PROTO_INLINE_MAX_SIZE) */
    /* Largest request, a multibulk one's count and length lines and an
     * inline one's line end included, or 0 for none, as in Redis (whose 1
     * GB client-query-buffer-limit closes without a reply). A multibulk
     * request that announces more is refused as soon as the bulk that
     * takes it over is announced, before its bytes; an inline one as soon
     * as more is buffered without its end. */
    size_t max_request;
} resp_limits;

/* One request. Every pointer is borrowed from the reader and stays valid
 * until the next resp_reader_feed/reserve/next/free call on it. */
typedef struct resp_request {
    size_t argc;             /* >= 1 */
    const char *const *argv; /* argc arguments, argv_len[i] bytes each, not NUL-terminated */
    const size_t *argv_len;
    int is_inline; /* 1 for an inline request, 0 for a multibulk one */
} resp_request;

typedef struct resp_reader {
    resp_limits limits;
    proto_inbuf in;      /* in.buf[in.pos..in.len) is unread; in.pos starts the request being read */
    int state;           /* private: which part is being read */
    size_t cur;          /* private: offset from in.pos of the next part of a multibulk request */
    size_t scanned;      /* private: bytes of the current line searched in vain */
    int line_nul;        /* private: a NUL hides the current line's end */
    long long args_left; /* private: bulks still to come */
    long long bulk_len;  /* private: the bulk being read, or -1 before its length line */
    size_t argc, argcap; /* arguments read, room in the arrays below */
    const char **argv;   /* owned arrays of argcap entries */
    size_t *argv_len;
    size_t *arg_off; /* private: a multibulk argument's offset from in.pos */
    char *scratch;   /* owned: inline arguments with quotes, unescaped */
    size_t scratch_cap;
    resp_error err; /* RESP_ERR_NONE until the stream breaks */
    char errstr[RESP_ERRSTR_LEN];
    /* While the client must still authenticate (resp_reader_set_unauthenticated):
     * limits.max_args and max_bulk are lowered to Redis's bounds before AUTH,
     * and these keep the real ones. */
    int unauthenticated;
    size_t auth_max_args, auth_max_bulk;
} resp_reader;

/* Redis's processMultibulkBuffer refuses, before AUTH, a multibulk request
 * of more than 10 arguments ("Protocol error: unauthenticated multibulk
 * length") and a bulk over 16384 bytes ("... unauthenticated bulk
 * length"): on turns those bounds on, off back off. They ride on the
 * reader's own limit checks, so that a reader with them off pays nothing. */
void resp_reader_set_unauthenticated(resp_reader *r, int on);

/* Sets up a reader with the given limits (NULL for Redis's defaults). */
void resp_reader_init(resp_reader *r, const resp_limits *limits);
/* Frees what the reader holds; it can be initialised again. */
void resp_reader_free(resp_reader *r);
/* Appends len bytes. Returns 0, or -1 when out of memory (the reader
 * fails). A failed reader ignores what it is fed. */
int resp_reader_feed(resp_reader *r, const void *buf, size_t len);
/* Room to read into directly: a pointer to at least len free bytes after the
 * buffered input (moving or growing the buffer, which ends the validity of
 * the last request), or NULL when out of memory (the reader fails). Then
 * resp_reader_commit the bytes actually written. */
void *resp_reader_reserve(resp_reader *r, size_t len);
void resp_reader_commit(resp_reader *r, size_t len);
/* Free bytes at the end of the buffer, without moving anything. */
size_t resp_reader_space(const resp_reader *r);
/* Frees the input buffer, the argument arrays and the scratch buffer if no
 * unread byte is buffered (an idle connection then costs no buffer); this
 * ends the validity of the last request. */
void resp_reader_release(resp_reader *r);
/* Redis's string2ll (util.c): s[0..slen) is a whole long long, written
 * with no '+', no leading zero and no blank, at most 20 characters.
 * Returns 1 with *value, or 0. What Redis reads counts, lengths and
 * numeric arguments with. */
int resp_string2ll(const char *s, size_t slen, long long *value);

/* Reads the next buffered request into *req, skipping empty ones. On
 * RESP_ERROR, errstr holds Redis's text; the reader stays failed. */
resp_status resp_reader_next(resp_reader *r, resp_request *req);
/* Bytes fed and not yet returned as a request (a multibulk request's bytes
 * count until the whole request is read). */
size_t resp_reader_buffered(const resp_reader *r);
/* Whether bytes of an unfinished request are buffered. */
int resp_reader_in_message(const resp_reader *r);

/* ---- replies, as Redis 7.0 writes them to a RESP2 client ---- */

/* Longest "<prefix><long long>\r\n". */
#define RESP_NUMBER_MAX 24

/* Writes "<prefix><n>\r\n" into out (not NUL-terminated); returns its
 * length. For headers of bulks and arrays sent without a copy. */
size_t resp_format_number(char out[RESP_NUMBER_MAX], char prefix, long long n);

/* Each appends one reply to b and returns 0, or -1 when out of memory. */
/* "+s\r\n" (addReplyStatusLength); s must hold no '\r' or '\n'. */
int resp_encode_simple(proto_buf *b, const char *s, size_t len);
/* "-ERR s\r\n", or "-s\r\n" when s starts with '-' (addReplyErrorLength);
 * s must hold no '\r' or '\n'. */
int resp_encode_error(proto_buf *b, const char *s, size_t len);
/* As addReplyErrorFormat: the formatted text with '\r' and '\n' trimmed
 * from both ends and turned into spaces inside, then as resp_encode_error. */
int resp_encode_errorf(proto_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list. */
int resp_encode_verrorf(proto_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* ":n\r\n" */
int resp_encode_integer(proto_buf *b, long long n);
/* "$len\r\n" p "\r\n" */
int resp_encode_bulk(proto_buf *b, const void *p, size_t len);
/* "$-1\r\n" (addReplyNull) */
int resp_encode_null_bulk(proto_buf *b);
/* "*n\r\n", followed by the caller's n replies */
int resp_encode_array(proto_buf *b, size_t n);
/* "*-1\r\n" (addReplyNullArray: EXEC after a failed WATCH, for one) */
int resp_encode_null_array(proto_buf *b);

#endif
