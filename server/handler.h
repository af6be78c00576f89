/*
 * handler.h: the protocol-neutral core of answering: the table a worker
 * answers from, its lookups, the outcomes counted, and what the worker
 * hands each protocol (protocol_env). Each protocol keeps its own state in
 * its wing (server/guide/, server/resp/) and encodes its own answers.
 */
#ifndef EVKV_HANDLER_H
#define EVKV_HANDLER_H

#include <event2/buffer.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

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
    OUTCOME_MSEARCH,        /* msearch: keys counted in protocol_counters */
    OUTCOME_COMMAND,        /* RESP: a command answered (keys counted in protocol_counters) */
    OUTCOME_COMMAND_ERROR,  /* RESP: an error reply (unknown command, arity, READONLY, ...) */
    OUTCOME_PROTOCOL_ERROR, /* RESP: the stream broke: the connection closes */
    OUTCOME_AUTH,           /* the guide's auth action, answered ok or not */
    OUTCOME_DENIED,         /* the guide's: refused by access control (not logged in, or outside the user's rules) */
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
    atomic_ullong acl_denied_auth;         /* passwords refused (RESP's AUTH, HELLO AUTH) */
    atomic_ullong acl_denied_cmd;          /* commands refused by a user's rules */
    atomic_ullong acl_denied_key;          /* requests refused for a key outside the user's patterns */
} protocol_counters;

/* What every protocol answers from, in one worker: the table is
 * borrowed, and the worker moves it to another only between two requests. */
struct acl_set;
struct cluster_map;

typedef struct handler_ctx {
    const table *table;
    const struct cluster_map *cluster; /* the table's Redis Cluster map (--cluster-config), or NULL */
    struct acl_set *acl;               /* the users (acl.h), moved with the table */
    int full_parser_only;              /* 1: parse every request with jansson (for tests) */
} handler_ctx;

struct resp_server_info;

/* What the worker hands each protocol's wing once (conn_protocol.wing_new):
 * all a wing needs from above the worker, so that none calls into it. */
typedef struct protocol_env {
    const handler_ctx *handler;  /* the table to answer from */
    protocol_counters *counters; /* the protocol's counters in this worker */
    /* Writes the stats action's JSON object to out (reset); returns 0 or
     * -1. NULL: stats answers an error. */
    int (*stats_json)(void *arg, proto_buf *out);
    /* Fills *info for a Redis client's INFO. NULL: all zero. */
    void (*server_info)(void *arg, struct resp_server_info *info);
    /* Protected mode: refuse peers off the loopback while the default
     * user has no password (protocol.h's admit). */
    int protected_mode;
    /* A pseudo-random number (RANDOMKEY). NULL: a fixed sequence. */
    uint64_t (*random)(void *arg);
    void *arg; /* passed to the three above */
} protocol_env;

/* Redis's islocalClient: a Unix socket, or a TCP peer at exactly
 * 127.0.0.1 or ::1 (not another 127.x address, nor ::ffff:127.0.0.1). */
int handler_peer_is_loopback(const struct sockaddr *peer);
/* Whether protected mode refuses peer: on, the default user without a
 * password, and a peer off the loopback. */
int handler_protected_refuses(const protocol_env *env, const struct sockaddr *peer);

/* Finds key in the table h answers from: 1 with *value pointing at its
 * value's JSON text (valid until the worker next moves to another table,
 * which it does only between two requests), or 0. */
static inline int handler_lookup(const handler_ctx *h, const char *key, size_t len, const char **value,
                                 size_t *value_len)
{
    return table_lookup(h->table, key, len, value, value_len);
}

/* The most a wing's scratch buffer keeps between requests: one that a big
 * answer grew past it is freed by the wing's trim (conn_protocol.wing_trim,
 * from the worker's once-a-second sweep; the next big answer grows it
 * again), so that one big answer does not hold its size for the life of
 * the worker. */
#define HANDLER_BUF_KEEP (1024 * 1024)
static inline void handler_buf_trim(proto_buf *b)
{
    if (b->cap > HANDLER_BUF_KEEP)
        proto_buf_free(b);
}

/* A short lowercase name for an outcome ("hit", "bad-frame", ...). */
const char *handler_outcome_name(handler_outcome o);

#endif
