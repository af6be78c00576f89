/*
 * command.h: what a Redis command's handler sees, inside server/resp/ only.
 *
 * dispatch.c finds a request's command in the generated table
 * (command_table.c), runs Redis's checks and calls the handler the table
 * names: one function per served command, declared here, defined in the
 * file of its concern as Redis splits them (keyspace.c as db.c and
 * t_string.c, connection.c as networking.c, multi.c, introspection.c as
 * config.c and server.c's COMMAND, info.c as server.c's INFO). Which
 * commands are served, with which handler and flags, is said once, in
 * commands.list: scripts/gen-resp-commands joins each to its handler.
 *
 * Redis reads most arguments as C strings (strcasecmp, %s): a NUL byte ends
 * them there. Where that shows in a reply or a decision, cstr_len() gives
 * the same cut.
 */
#ifndef EVKV_RESP_COMMAND_H
#define EVKV_RESP_COMMAND_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "cluster_map.h"
#include "resp_commands.h"

#define REDIS_VERSION "7.0.15"
#define NAME_MAX_LEN  64 /* longer command names are unknown to Redis anyway */

/* One resp_execute call's context. */
struct resp_exec {
    const resp_env *env;
    resp_client *c;
    proto_buf *out;
    resp_result *res;
};

/* A request's arguments (argv[0] is the command's name). */
struct resp_args {
    size_t argc;
    const char *const *argv;
    const size_t *len;
};

/* ---- small helpers (dispatch.c) ---- */

/* The length Redis sees when it reads an argument as a C string. */
static inline size_t cstr_len(const char *p, size_t n)
{
    const char *z = memchr(p, '\0', n);
    return z != NULL ? (size_t)(z - p) : n;
}

/* strcasecmp(arg, word) as Redis does it on an sds. */
static inline int arg_is(const resp_args *a, size_t i, const char *word)
{
    size_t n = cstr_len(a->argv[i], a->len[i]);
    return n == strlen(word) && strncasecmp(a->argv[i], word, n) == 0;
}

/* A NUL-terminated copy of argument i (the caller frees it), or NULL. */
char *resp_arg_dup(const resp_args *a, size_t i);

/* An error reply, as addReplyErrorFormat writes it: "-ERR text", or
 * "-text" when the text starts with '-'. These return 0, or -1 when out of
 * memory, as every handler does. */
int reply_error(resp_exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int reply_ok(resp_exec *x);
int reply_str_bulk(resp_exec *x, const char *s);
int reply_raw(resp_exec *x, const char *bytes, size_t len);
int reply_syntax_error(resp_exec *x); /* Redis's shared.syntaxerr */
int reply_not_integer(resp_exec *x);

/* ---- what the files of the wing give each other ---- */

/* The spec named name[0..len) (any case; "container|sub" too), or NULL
 * (dispatch.c). */
const resp_command_spec *resp_command_lookup(const char *name, size_t len);
/* The spec of the command a request names (its subcommand's for a
 * container given one), or NULL if Redis has no such command, as server.c's
 * lookupCommand (dispatch.c). */
const resp_command_spec *resp_command_find(const resp_args *a);
/* Runs a command whose checks passed: its handler, or the answer for a
 * command evkv does not serve (dispatch.c). */
int resp_command_run(resp_exec *x, const resp_command_spec *spec, const resp_args *a);

/* In a cluster (env->cluster set): the check processCommand runs before
 * a command with keys (getNodeByQuery): 0 to go on, or 1 with the error
 * (-MOVED, -CROSSSLOT, -CLUSTERDOWN) in msg (cluster.c). */
int resp_cluster_redirect(resp_exec *x, const resp_command_spec *spec, const resp_args *a, char *msg, size_t size);

/* Whether this node answers reads of the slots it serves on c: a master
 * always, a replica after READONLY. */
static inline int resp_cluster_reads_here(const cluster_map *m, const resp_client *c)
{
    return m->serving == m->myself || c->cluster_readonly;
}

/* GET in a cluster, of a key the table holds, where reads are answered
 * here: the key is then of this node's slots by construction (the node
 * loaded only those), so the value is the answer, with no slot to hash.
 * Returns 1 with the reply (the command and the hit counted), 0 with
 * nothing done (not held: the usual path decides, -MOVED or null), -1 out
 * of memory (keyspace.c). */
int resp_get_held(resp_exec *x, const resp_args *a);

/* The usual request in a cluster, one key of this node's own slots,
 * which needs no more check: 1, else 0 (ask resp_cluster_redirect). Inline,
 * as every request of a cluster node asks it. */
static inline int resp_cluster_own_key(const cluster_map *m, const resp_command_spec *spec, const resp_args *a)
{
    size_t k = (size_t)spec->key_range.first;
    return spec->key_range.first > 0 && spec->key_range.first == spec->key_range.last && k < a->argc &&
           m->owner[keyslot(a->argv[k], a->len[k])] == m->myself + 1;
}

/* MULTI's queue (multi.c): what queuing a request costs in queued_bytes;
 * queue a copy of it (0, or -1 when out of memory); leave the transaction,
 * its queue freed. */
size_t resp_multi_cost(const resp_args *a);
int resp_multi_queue(resp_client *c, const resp_args *a);
void resp_multi_discard(resp_client *c);

/* ---- the handlers, named by commands.list ---- */

/* keyspace.c */
int cmd_get(resp_exec *x, const resp_args *a);
int cmd_mget(resp_exec *x, const resp_args *a);
int cmd_exists(resp_exec *x, const resp_args *a);
int cmd_strlen(resp_exec *x, const resp_args *a);
int cmd_getrange(resp_exec *x, const resp_args *a);
int cmd_type(resp_exec *x, const resp_args *a);
int cmd_ttl(resp_exec *x, const resp_args *a);
int cmd_dbsize(resp_exec *x, const resp_args *a);
int cmd_randomkey(resp_exec *x, const resp_args *a);
int cmd_scan(resp_exec *x, const resp_args *a);
int cmd_keys(resp_exec *x, const resp_args *a);
/* reads of the other types, which no key holds (keyspace.c) */
int cmd_null_read(resp_exec *x, const resp_args *a);
int cmd_zero_read(resp_exec *x, const resp_args *a);
int cmd_array_read(resp_exec *x, const resp_args *a);
int cmd_lrange(resp_exec *x, const resp_args *a);
int cmd_hmget(resp_exec *x, const resp_args *a);
int cmd_smismember(resp_exec *x, const resp_args *a);

/* connection.c */
int cmd_ping(resp_exec *x, const resp_args *a);
int cmd_echo(resp_exec *x, const resp_args *a);
int cmd_select(resp_exec *x, const resp_args *a);
int cmd_quit(resp_exec *x, const resp_args *a);
int cmd_auth(resp_exec *x, const resp_args *a);
int cmd_client_setname(resp_exec *x, const resp_args *a);
int cmd_client_getname(resp_exec *x, const resp_args *a);
int cmd_client_id(resp_exec *x, const resp_args *a);
int cmd_hello(resp_exec *x, const resp_args *a);

/* multi.c */
int cmd_multi(resp_exec *x, const resp_args *a);
int cmd_exec(resp_exec *x, const resp_args *a);
int cmd_discard(resp_exec *x, const resp_args *a);
int cmd_watch(resp_exec *x, const resp_args *a);
int cmd_unwatch(resp_exec *x, const resp_args *a);
int cmd_reset(resp_exec *x, const resp_args *a);

/* introspection.c */
int cmd_command(resp_exec *x, const resp_args *a);
int cmd_command_count(resp_exec *x, const resp_args *a);
int cmd_command_info(resp_exec *x, const resp_args *a);
int cmd_command_docs(resp_exec *x, const resp_args *a);
int cmd_help(resp_exec *x, const resp_args *a);
int cmd_config_get(resp_exec *x, const resp_args *a);
int cmd_config_refused(resp_exec *x, const resp_args *a);
int cmd_role(resp_exec *x, const resp_args *a);
int cmd_slowlog_get(resp_exec *x, const resp_args *a);
int cmd_slowlog_len(resp_exec *x, const resp_args *a);
int cmd_slowlog_reset(resp_exec *x, const resp_args *a);
int cmd_latency_latest(resp_exec *x, const resp_args *a);
int cmd_latency_history(resp_exec *x, const resp_args *a);
int cmd_latency_reset(resp_exec *x, const resp_args *a);

/* acl_command.c */
int cmd_acl_whoami(resp_exec *x, const resp_args *a);
int cmd_acl_users(resp_exec *x, const resp_args *a);
int cmd_acl_list(resp_exec *x, const resp_args *a);
int cmd_acl_cat(resp_exec *x, const resp_args *a);

/* info.c */
int cmd_info(resp_exec *x, const resp_args *a);

/* cluster.c: Redis Cluster, with the map of resp_env.cluster */
int cmd_readonly(resp_exec *x, const resp_args *a);
int cmd_readwrite(resp_exec *x, const resp_args *a);
int cmd_asking(resp_exec *x, const resp_args *a);
int cmd_cluster_keyslot(resp_exec *x, const resp_args *a);
int cmd_cluster_myid(resp_exec *x, const resp_args *a);
int cmd_cluster_countkeysinslot(resp_exec *x, const resp_args *a);
int cmd_cluster_getkeysinslot(resp_exec *x, const resp_args *a);
int cmd_cluster_nodes(resp_exec *x, const resp_args *a);
int cmd_cluster_slots(resp_exec *x, const resp_args *a);
int cmd_cluster_shards(resp_exec *x, const resp_args *a);
int cmd_cluster_info(resp_exec *x, const resp_args *a);

#endif
