/*
 * resp_commands.h: Redis commands over the table, with no I/O.
 *
 * resp_execute turns one parsed RESP2 request (resp.h) into its reply bytes,
 * byte-identical to what a read-only Redis 7.0.15 replica answers for the
 * same request, errors included. It knows nothing of connections, workers
 * or sockets: the caller keeps one resp_client per connection, fills a
 * resp_env, and sends what lands in the proto_buf.
 *
 * Checks run in Redis's order (server.c, processCommand): unknown command or
 * subcommand, arity, NOAUTH, "not allowed inside a transaction", NOPERM
 * (the user's commands, then keys), in a Redis Cluster (env->cluster) the
 * redirection (-MOVED, -CROSSSLOT, -CLUSTERDOWN: server/resp/cluster.c),
 * READONLY for a write command, then MULTI queueing, then the command. The
 * names, arities and flags of every Redis command come from
 * command_table.c, written by scripts/gen-resp-commands from a real Redis
 * 7.0.15.
 *
 * The commands served are listed once, with their handlers and flags, in
 * server/resp/commands.list: the generator joins each to its handler in
 * the table and writes the list into proto/PROTOCOL.md, which says what
 * each answers. COMMAND, COMMAND COUNT, INFO and DOCS list exactly those.
 * They answer as Redis does, but: a value is a string: GET sends a JSON
 * string's bytes, unescaped, and any other JSON value's text; STRLEN and
 * GETRANGE work on those bytes. No key has a TTL; there is one database
 * (0); AUTH, HELLO AUTH, ACL and the checks NOAUTH and NOPERM answer as
 * Redis with the same users (acl.h: --requirepass, --aclfile); WATCH never fails an EXEC (the table does not change
 * under a connection: a reload swaps in a new one); SLOWLOG and LATENCY
 * answer as a Redis with nothing logged; reads of hashes, lists, sets and
 * sorted sets answer as Redis does for an absent key when the table lacks
 * the key, and with Redis's WRONGTYPE error when it holds it (it holds
 * strings only).
 *
 * Every other Redis command:
 *   - a write command (Redis's "write" flag) with valid arity gets Redis's
 *     "-READONLY You can't write against a read only replica.";
 *   - anything else (SUBSCRIBE, EVAL, CLUSTER MEET, CLIENT LIST, CONFIG SET,
 *     COMMAND GETKEYS, ...) gets "-ERR evkv does not serve the 'name'
 *     command" (the full name: "client|list"), or for CONFIG SET, RESETSTAT
 *     and REWRITE "-ERR evkv does not change its configuration: CONFIG <sub>
 *     is not supported". COMMAND INFO of such a command answers as of a
 *     command Redis does not know (a null), COMMAND DOCS leaves it out.
 * proto/PROTOCOL.md ("What evkv does not reproduce") lists every deliberate
 * difference from a Redis replica.
 */
#ifndef EVKV_RESP_COMMANDS_H
#define EVKV_RESP_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "acl_session.h"
#include "proto.h"
#include "resp.h"
#include "table.h"

/* Server figures for INFO, filled by the caller's callback. Counters are
 * the whole server's, not one connection's. Strings are borrowed for the
 * duration of the call; NULL reads as "". */
typedef struct resp_server_info {
    const char *evkv_version;    /* evkv's own version, in "# Evkv" */
    long long pid;               /* process id */
    long long uptime_seconds;    /* since the server started */
    int threads;                 /* worker threads, in "# Evkv" */
    int tcp_port;                /* the RESP listener's port */
    long long connected_clients; /* open connections, all listeners */
    long long maxclients;        /* --max-conns */
    long long total_connections_received;
    long long total_commands_processed; /* requests answered, all protocols */
    long long rejected_connections;
    double instantaneous_ops_per_sec;
    long long keyspace_hits;      /* lookups that found their key */
    long long keyspace_misses;    /* lookups that did not */
    size_t used_memory;           /* bytes allocated (the table's and the rest) */
    size_t used_memory_rss;       /* resident set size, bytes */
    const char *table_source;     /* the loaded file, or "builtin" */
    const char *table_format;     /* the file's format */
    double table_load_seconds;    /* how long the last load took */
    long long table_loaded_at;    /* unix time of the last load */
    const char *shard_name;       /* --shard's server name, or NULL, in "# Evkv" */
    const char *shard_pool;       /* its nutcracker pool */
    long long shard_ring_servers; /* servers in the pool's ring (0: no --shard) */
    long long reloads;            /* successful reloads since start */
    long long reload_failures;
    long long acl_denied_auth; /* AUTH and HELLO AUTH refused (Redis 7.2's acl_access_denied_auth) */
    long long acl_denied_cmd;  /* commands refused by a user's rules */
    long long acl_denied_key;  /* commands refused for a key outside the user's patterns */
    long long acl_denied_tls_cert; /* client certificates whose CN named no enabled user (Redis 8.6's name) */
    long long guide_requests; /* requests answered over the guide's protocol */
    long long resp_requests;  /* requests answered over RESP (refused ones too) */
} resp_server_info;

struct acl_set;
struct acl_user;

/* What resp_execute reads from the server. Borrowed for one call. */
struct cluster_map;

typedef struct resp_env {
    const table *table; /* the table to answer from; never NULL */
    /* Fills *info for INFO (info is zeroed first). NULL: all zero. */
    void (*server_info)(void *arg, resp_server_info *info);
    /* A random 64-bit number, for RANDOMKEY. NULL: a fixed sequence. */
    uint64_t (*random)(void *arg);
    void *arg; /* passed to both callbacks */
    /* --cluster-config's map: a Redis Cluster node's checks and commands;
     * NULL: no cluster (CLUSTER answers "cluster support disabled"). */
    const struct cluster_map *cluster;
} resp_env;

/* One request queued by MULTI, copied (the reader's buffer moves on). */
typedef struct resp_queued {
    size_t argc;
    char **argv; /* argc owned copies, each NUL-terminated after argv_len[i] bytes */
    size_t *argv_len;
} resp_queued;

/* A connection's Redis state. Init with resp_client_init, free with
 * resp_client_free; the caller needs to read only id and name. */
typedef struct resp_client {
    long long id;       /* CLIENT ID, HELLO's id: unique per server, set by the caller */
    char *name;         /* CLIENT SETNAME's name (owned), or NULL */
    int in_multi;       /* between MULTI and EXEC/DISCARD */
    int multi_dirty;    /* a command was refused while queueing: EXEC aborts */
    resp_queued *queue; /* the commands queued since MULTI (owned) */
    size_t nqueued, queue_cap;
    size_t queued_bytes; /* what the queue holds, its bookkeeping counted */
    /* Set by the caller after init: the most a MULTI queue may hold, in
     * queued_bytes (0: no limit, as in Redis). A command that would go
     * over is refused with an error, and EXEC then aborts. */
    size_t max_queued_bytes;
    int cluster_readonly; /* READONLY: a replica answers reads of its master's slots */
    /* Its login (acl_session.h): the caller binds it to the server's users
     * as the connection opens and after a reload. */
    acl_session auth;
} resp_client;

/* RESP's bounds from --max-content (the adapter sets them): a request, and
 * a MULTI queue, hold at most --max-content bytes and this much more (the
 * count line, a command name and the length lines around one argument of
 * --max-content bytes). */
#define RESP_REQUEST_SLACK 4096

/* What one resp_execute did, for the caller's counters. */
typedef struct resp_result {
    size_t hits;     /* key lookups that found the key (GET, MGET, EXISTS, ... inside EXEC too) */
    size_t misses;   /* key lookups that did not */
    size_t commands; /* commands run, as Redis's total_commands_processed counts: not a refused
                      * or a queued one; EXEC and each command it runs */
    int error;       /* the reply is an error reply (EXEC's array is not, whatever it holds) */
    int close;       /* close the connection once the reply is sent (QUIT); the reply may be empty */
    int acl;         /* RESP_ACL_*: what access control did, or 0 */
    size_t exec_denied_cmd, exec_denied_key; /* EXEC's queued commands refused by rules changed since MULTI */
} resp_result;

enum {
    RESP_ACL_DENIED_AUTH = 1, /* AUTH or HELLO AUTH refused a user and password */
    RESP_ACL_DENIED_CMD,      /* -NOPERM for the command */
    RESP_ACL_DENIED_KEY,      /* -NOPERM for a key */
    RESP_ACL_LOGIN,           /* AUTH or HELLO AUTH logged the client in, or RESET out */
    RESP_ACL_EXEC_DENIED,     /* EXEC refused queued commands (resp_result's exec_denied_*) */
};

void resp_client_init(resp_client *c, long long id);
/* Frees the name and the queued commands; the client can be initialised
 * again. */
void resp_client_free(resp_client *c);

/* Appends the reply to req (argc >= 1, as resp_reader_next gives it) to out
 * and fills *res (zeroed first). Returns 0, or -1 when out of memory (out
 * may hold part of a reply: close the connection). req is borrowed for the
 * call only: MULTI copies what it queues. One reply per call, even for
 * EXEC (one array); QUIT and an HTTP request ("POST", "Host:") set
 * res->close, the latter with no reply at all, as Redis closes them.
 * Thread-safe for distinct clients: env->table is only read. */
int resp_execute(const resp_env *env, resp_client *c, const resp_request *req, proto_buf *out, resp_result *res);

/* ---- the generated command table (command_table.c) ---- */

#define RESP_CMD_WRITE        1  /* Redis's "write" flag: READONLY on a replica */
#define RESP_CMD_NO_MULTI     2  /* "no_multi": refused inside MULTI */
#define RESP_CMD_CONTAINER    4  /* has subcommands ("name|sub" entries follow) */
#define RESP_CMD_TXN_CONTROL  8  /* runs at once inside MULTI, never queued (EXEC, DISCARD, ...) */
#define RESP_CMD_REFUSED      16 /* its handler refuses it: not served, not in COMMAND */
#define RESP_CMD_NO_AUTH      32 /* "no_auth": runs before AUTH, and whatever the user's rules (AUTH, HELLO) */
#define RESP_CMD_MOVABLE_KEYS 64 /* "movablekeys": keys found by its arguments, not by key specs or keys */

/* Where a command's keys are, as Redis 7's key specs say (COMMAND INFO's
 * tenth element): where the search begins, then how keys are found from
 * there. The ACL checks read them (acl.c), as Redis's
 * getKeysUsingKeySpecs does. */
enum { RESP_BS_UNKNOWN, RESP_BS_INDEX, RESP_BS_KEYWORD };
enum { RESP_FK_UNKNOWN, RESP_FK_RANGE, RESP_FK_KEYNUM };
#define RESP_KEY_READ           1  /* "access": the key's value is read (%R~ patterns allow it) */
#define RESP_KEY_WRITE          2  /* "insert", "delete" or "update" (%W~ patterns allow it) */
#define RESP_KEY_NOT_KEY        4  /* not a key (a name the command only mentions) */
#define RESP_KEY_INCOMPLETE     8  /* Redis's code may find more keys than the spec */
#define RESP_KEY_VARIABLE_FLAGS 16 /* the access depends on other arguments */

typedef struct resp_key_spec {
    unsigned flags;       /* RESP_KEY_* */
    int bs_type;          /* RESP_BS_* */
    int bs_index;         /* INDEX: the first key's position; KEYWORD: where the search starts (< 0: from the end) */
    const char *keyword;  /* KEYWORD: the keyword the keys follow */
    int fk_type;          /* RESP_FK_* */
    int fk_a, fk_b, fk_c; /* RANGE: lastkey, keystep, limit; KEYNUM: keynumidx, firstkey, keystep */
} resp_key_spec;

/* Where a command's keys are, as COMMAND INFO's legacy triple: arguments
 * first to last (-1: the last argument, -2: the one before, ...), every
 * step-th; first 0: none. */
typedef struct resp_key_range {
    signed char first, last, step;
} resp_key_range;

/* A command's handler (command.h): appends the reply, returns 0, or -1
 * when out of memory. */
typedef struct resp_exec resp_exec;
typedef struct resp_args resp_args;
typedef int (*resp_command_fn)(resp_exec *x, const resp_args *a);

typedef struct resp_command_spec {
    const char *name;         /* lower case; "container|sub" for a subcommand */
    int arity;                /* Redis's: n exactly, or -n for at least n (the name counts) */
    unsigned flags;           /* RESP_CMD_* */
    resp_key_range key_range; /* where its keys are, for Redis Cluster's checks */
    resp_command_fn fn;       /* the handler commands.list names, or NULL: evkv does not serve it */
    /* For the commands evkv serves (a container: one of its subcommands),
     * Redis's exact bytes, else NULL, 0. */
    const char *info; /* COMMAND INFO's entry (one array) */
    size_t info_len;
    const char *docs; /* COMMAND DOCS's name and map (two replies) */
    size_t docs_len;
    const char *help; /* the container's HELP reply */
    size_t help_len;
    unsigned categories;       /* its ACL categories: bit j is acl.c's category j (ACL CAT's order) */
    const resp_key_spec *keys; /* its key specs, or NULL */
    size_t nkeys;
} resp_command_spec;

/* Sorted by name, bytewise. */
extern const resp_command_spec resp_command_specs[];
extern const size_t resp_command_nspecs;

#endif
