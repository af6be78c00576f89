/*
 * introspection.c: what a client asks about the server rather than the
 * keys: COMMAND (COUNT, INFO, DOCS) from the generated table, each
 * container's HELP, CONFIG GET from a fixed list (config.c), ROLE, and
 * SLOWLOG and LATENCY as a Redis with nothing logged. INFO has info.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "glob.h"

/* COMMAND with no subcommand: the served commands' entries. */
int cmd_command(resp_exec *x, const resp_args *a)
{
    (void)a;
    size_t n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++)
        n += resp_command_specs[i].info != NULL && strchr(resp_command_specs[i].name, '|') == NULL;
    int rc = resp_encode_array(x->out, n);
    for (size_t i = 0; i < resp_command_nspecs && rc == 0; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        if (s->info != NULL && strchr(s->name, '|') == NULL)
            rc = reply_raw(x, s->info, s->info_len);
    }
    return rc;
}

int cmd_command_count(resp_exec *x, const resp_args *a)
{
    (void)a;
    long long n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++)
        n += resp_command_specs[i].info != NULL && strchr(resp_command_specs[i].name, '|') == NULL;
    return resp_encode_integer(x->out, n);
}

int cmd_command_info(resp_exec *x, const resp_args *a)
{
    if (a->argc == 2)
        return cmd_command(x, a);
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++) {
        const resp_command_spec *s = resp_command_lookup(a->argv[i], a->len[i]);
        rc = s != NULL && s->info != NULL ? reply_raw(x, s->info, s->info_len) : resp_encode_null_bulk(x->out);
    }
    return rc;
}

int cmd_command_docs(resp_exec *x, const resp_args *a)
{
    size_t n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        if (a->argc == 2 ? s->docs != NULL && strchr(s->name, '|') == NULL : 0)
            n++;
    }
    for (size_t i = 2; i < a->argc; i++) {
        const resp_command_spec *s = resp_command_lookup(a->argv[i], a->len[i]);
        n += s != NULL && s->docs != NULL;
    }
    int rc = resp_encode_array(x->out, 2 * n);
    if (a->argc == 2) {
        for (size_t i = 0; i < resp_command_nspecs && rc == 0; i++) {
            const resp_command_spec *s = &resp_command_specs[i];
            if (s->docs != NULL && strchr(s->name, '|') == NULL)
                rc = reply_raw(x, s->docs, s->docs_len);
        }
    }
    for (size_t i = 2; i < a->argc && rc == 0; i++) {
        const resp_command_spec *s = resp_command_lookup(a->argv[i], a->len[i]);
        if (s != NULL && s->docs != NULL)
            rc = reply_raw(x, s->docs, s->docs_len);
    }
    return rc;
}

/* X HELP for the containers evkv serves: Redis's text as it is. */
int cmd_help(resp_exec *x, const resp_args *a)
{
    const resp_command_spec *s = resp_command_lookup(a->argv[0], a->len[0]);
    return reply_raw(x, s->help, s->help_len);
}

/* CONFIG GET: a fixed list of harmless answers (what redis-benchmark and
 * redis_exporter ask), matched as Redis matches: a name with no glob
 * character exactly (any case), a pattern with stringmatch nocase. */
static const char *const config_values[][2] = {
    {"appendonly", "no"},
    {"databases", "1"},
    {"maxclients", "10000"},
    {"maxmemory", "0"},
    {"maxmemory-policy", "noeviction"},
    {"replica-read-only", "yes"},
    {"save", ""},
    {"slave-read-only", "yes"},
    {"timeout", "0"},
};
#define NCONFIG (sizeof(config_values) / sizeof(config_values[0]))

int cmd_config_get(resp_exec *x, const resp_args *a)
{
    /* Redis answers an exact name with the name as asked (its case), a
     * pattern's matches with their own names. */
    size_t asked[NCONFIG] = {0}; /* argument index + 1 of an exact match, or 0 */
    int match[NCONFIG] = {0};
    size_t n = 0;
    for (size_t i = 2; i < a->argc; i++) {
        size_t len = cstr_len(a->argv[i], a->len[i]);
        char *p = resp_arg_dup(a, i);
        if (p == NULL)
            return -1;
        int glob = strpbrk(p, "[*?") != NULL;
        for (size_t k = 0; k < NCONFIG; k++) {
            const char *name = config_values[k][0];
            if (match[k])
                continue;
            if (glob ? resp_glob_match(p, len, name, strlen(name), 1)
                     : strlen(name) == len && strcasecmp(p, name) == 0) {
                match[k] = 1;
                asked[k] = glob ? 0 : i + 1;
                n++;
            }
        }
        free(p);
    }
    int rc = resp_encode_array(x->out, 2 * n);
    for (size_t k = 0; k < NCONFIG && rc == 0; k++) {
        if (!match[k])
            continue;
        if (asked[k])
            rc = resp_encode_bulk(x->out, a->argv[asked[k] - 1], cstr_len(a->argv[asked[k] - 1], a->len[asked[k] - 1]));
        else
            rc = reply_str_bulk(x, config_values[k][0]);
        rc |= reply_str_bulk(x, config_values[k][1]);
    }
    return rc;
}

/* CONFIG SET, RESETSTAT, REWRITE: evkv's settings come from its options. */
int cmd_config_refused(resp_exec *x, const resp_args *a)
{
    return reply_error(x, "evkv does not change its configuration: CONFIG %.*s is not supported",
                       (int)cstr_len(a->argv[1], a->len[1]), a->argv[1]);
}

/* ---- SLOWLOG and LATENCY: evkv keeps neither log, so it answers as a
 * Redis with nothing logged (redis_exporter asks both at every scrape). */

int cmd_latency_latest(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_array(x->out, 0);
}

int cmd_latency_history(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_array(x->out, 0);
}

int cmd_latency_reset(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_integer(x->out, 0);
}

int cmd_slowlog_get(resp_exec *x, const resp_args *a)
{
    long long count;
    if (a->argc > 3) {
        size_t n = cstr_len(a->argv[1], a->len[1]);
        return reply_error(x, "unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.",
                           (int)(n < 128 ? n : 128), a->argv[1]);
    }
    /* getRangeLongFromObjectOrReply: one message for every bad count */
    if (a->argc == 3 && (!resp_string2ll(a->argv[2], a->len[2], &count) || count < -1 || count > LONG_MAX))
        return reply_error(x, "count should be greater than or equal to -1");
    return resp_encode_array(x->out, 0);
}

int cmd_slowlog_len(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_integer(x->out, 0);
}

int cmd_slowlog_reset(resp_exec *x, const resp_args *a)
{
    (void)a;
    return reply_ok(x);
}

/* ROLE: a master with no replica, as INFO's replication section says. */
int cmd_role(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (resp_encode_array(x->out, 3) != 0 || resp_encode_bulk(x->out, "master", 6) != 0 ||
        resp_encode_integer(x->out, 0) != 0)
        return -1;
    return resp_encode_array(x->out, 0);
}
