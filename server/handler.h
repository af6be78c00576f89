/*
 * handler.h: the protocol-neutral core of answering: the table a worker
 * answers from, its lookups, the stats, and the outcomes counted. Each
 * protocol encodes its own answers (server/guide/guide.c, server/resp/) from these.
 */
#ifndef EVKV_HANDLER_H
#define EVKV_HANDLER_H

#include <event2/buffer.h>
#include <stdatomic.h>

#include "proto.h"
#include "table.h"

/* Counters that one thread writes and any thread reads: relaxed atomics,
 * which are plain loads and stores on x86. */
#define COUNTER_ADD(c, n)                                                                                              \
    atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (n), memory_order_relaxed)
#define COUNTER_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* What an answer was, for logs and counters. */
typedef enum handler_outcome {
    OUTCOME_HIT = 0,        /* search found the key */
    OUTCOME_MISS,           /* search did not find the key */
    OUTCOME_PING,           /* ping: "pong" */
    OUTCOME_STATS,          /* stats: the server's counters */
    OUTCOME_BINARY,         /* a binary request, answered with its first bytes */
    OUTCOME_BAD_ACTION,     /* an action that does not exist */
    OUTCOME_BAD_REQUEST,    /* framing intact, content unusable */
    OUTCOME_BAD_FRAME,      /* framing lost: the connection closes */
    OUTCOME_NOMEM,          /* no answer could be built */
    OUTCOME_MSEARCH,        /* msearch: keys counted in handler_ctx */
    OUTCOME_COMMAND,        /* RESP: a command answered (keys counted in handler_ctx) */
    OUTCOME_COMMAND_ERROR,  /* RESP: an error reply (unknown command, arity, READONLY, ...) */
    OUTCOME_PROTOCOL_ERROR, /* RESP: the stream broke: the connection closes */
    OUTCOME_COUNT
} handler_outcome;

/* Whose requests an outcome counts among (conn_protocol.tag): each
 * protocol's outcomes are counted apart, whatever the outcome. */
typedef enum protocol_tag {
    PROTOCOL_GUIDE, /* the guide's protocol (and --echo's refusals) */
    PROTOCOL_RESP,  /* RESP2 */
    PROTOCOL_COUNT
} protocol_tag;

/* One protocol's counters in one worker. Only that worker writes them;
 * stats read them from any thread. */
typedef struct protocol_counters {
    atomic_ullong outcomes[OUTCOME_COUNT]; /* requests answered, by outcome (conn.c) */
    atomic_ullong key_hits, key_misses;    /* keys looked up by requests of many keys (msearch, RESP's) */
    atomic_ullong commands;                /* commands run, as Redis counts them (RESP's resp_result) */
} protocol_counters;

/* What a handler works with. One per event loop: scratch buffers are not
 * shared between threads. The table is borrowed. */
typedef struct handler_ctx {
    const table *table;
    int full_parser_only; /* 1: parse every request with jansson (for tests) */
    proto_buf scratch;    /* the answer being encoded */
    proto_buf text;       /* the result text of an answer being built */
    proto_buf encoded;    /* that text, encoded as a JSON string */
    /* Writes the stats action's JSON object to out; returns 0 or -1. NULL:
     * stats answers an error. */
    int (*stats)(void *arg, proto_buf *out);
    void *stats_arg;
    /* Keys looked up by requests of many keys (msearch, RESP), by the one
     * worker that owns h; stats reads them from any thread. */
    atomic_ullong msearch_hits, msearch_misses;
    atomic_ullong resp_hits, resp_misses;
    atomic_ullong resp_commands; /* RESP commands run, as Redis counts them (resp_result) */
} handler_ctx;

/* Finds key in the table h answers from: 1 with *value pointing at its
 * value's JSON text (valid until the worker next moves to another table,
 * which it does only between two requests), or 0. */
static inline int handler_lookup(const handler_ctx *h, const char *key, size_t len, const char **value,
                                 size_t *value_len)
{
    return table_lookup(h->table, key, len, value, value_len);
}

/* Writes the stats JSON object into out (reset first). Returns 0, or -1
 * when stats are not available or out of memory. */
int handler_stats(handler_ctx *h, proto_buf *out);

/* Frees the scratch buffers (not the table). */
void handler_ctx_free(handler_ctx *h);

/* The most a scratch buffer keeps between requests: one that a big answer
 * grew past it is freed by handler_ctx_trim. */
#define HANDLER_BUF_KEEP (1024 * 1024)
/* Frees the scratch buffers grown past HANDLER_BUF_KEEP, so that one big
 * answer does not hold its size for the life of the worker (the worker's
 * once-a-second sweep calls it; the next big answer grows them again). */
void handler_ctx_trim(handler_ctx *h);

/* A short lowercase name for an outcome ("hit", "bad-frame", ...). */
const char *handler_outcome_name(handler_outcome o);

#endif
