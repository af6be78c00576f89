/*
 * dispatch.c: one RESP request in, its reply bytes out (see
 * resp_commands.h).
 *
 * resp_execute finds the command in the generated table (command_table.c)
 * through a hashed index built once, runs Redis's checks in
 * processCommand's order, queues it under MULTI or runs the handler its
 * table entry names; a command of Redis's that has none gets the answer
 * resp_commands.h documents. The reply helpers every handler uses are here
 * too.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "command.h"
#include "hash.h"

/* ---- replies and arguments ---- */

int reply_error(resp_exec *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = resp_encode_verrorf(x->out, fmt, ap);
    va_end(ap);
    return rc;
}

int reply_ok(resp_exec *x)
{
    return resp_encode_simple(x->out, "OK", 2);
}

int reply_str_bulk(resp_exec *x, const char *s)
{
    return resp_encode_bulk(x->out, s, strlen(s));
}

int reply_raw(resp_exec *x, const char *bytes, size_t len)
{
    return proto_buf_append(x->out, bytes, len);
}

int reply_syntax_error(resp_exec *x)
{
    return reply_error(x, "syntax error");
}

int reply_not_integer(resp_exec *x)
{
    return reply_error(x, "value is not an integer or out of range");
}

char *resp_arg_dup(const resp_args *a, size_t i)
{
    char *s = malloc(a->len[i] + 1);
    if (s != NULL) {
        memcpy(s, a->argv[i], a->len[i]);
        s[a->len[i]] = '\0';
    }
    return s;
}

/* ---- finding a command by its name ----
 * Every name in resp_command_specs goes into an open-addressing index,
 * built once and then only read, by any thread: a request's command is
 * found by one hash of its name, lowercased on the way, and one compare,
 * where a binary search of 366 names would take nine. Each spec holds its
 * handler: the generator joined them (commands.list). */

#define INDEX_SLOTS 1024 /* a power of two, over twice the names */

typedef struct command_entry {
    const resp_command_spec *spec; /* NULL: an empty slot */
    size_t len;                    /* strlen(spec->name) */
} command_entry;

static command_entry command_index[INDEX_SLOTS];
static pthread_once_t command_index_once = PTHREAD_ONCE_INIT;

static void command_index_build(void)
{
    if (resp_command_nspecs > INDEX_SLOTS / 2)
        abort(); /* INDEX_SLOTS must grow with Redis's command table */
    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *spec = &resp_command_specs[i];
        size_t len = strlen(spec->name);
        uint32_t slot = hash_fnv1a_32(spec->name, len) & (INDEX_SLOTS - 1); /* names are lowercase */
        while (command_index[slot].spec != NULL)
            slot = (slot + 1) & (INDEX_SLOTS - 1);
        command_index[slot] = (command_entry){spec, len};
    }
}

/* The index entry for name[0..len) in any case, or NULL. A NUL byte ends
 * a name for Redis (a C string), so a name holding one is no command. */
static const command_entry *command_find(const char *name, size_t len)
{
    char lower[2 * NAME_MAX_LEN + 2];
    uint32_t h = HASH_FNV32_OFFSET;

    if (len >= sizeof(lower))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '\0')
            return NULL;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        lower[i] = (char)c;
        h = hash_fnv1a_32_step(h, c);
    }
    pthread_once(&command_index_once, command_index_build);
    for (uint32_t slot = h & (INDEX_SLOTS - 1);; slot = (slot + 1) & (INDEX_SLOTS - 1)) {
        const command_entry *e = &command_index[slot];
        if (e->spec == NULL)
            return NULL;
        if (e->len == len && memcmp(e->spec->name, lower, len) == 0)
            return e;
    }
}

const resp_command_spec *resp_command_lookup(const char *name, size_t len)
{
    const command_entry *e = command_find(name, len);
    return e ? e->spec : NULL;
}

const resp_command_spec *resp_command_find(const resp_args *a)
{
    /* "container|sub" names a subcommand only inside COMMAND INFO/DOCS */
    if (memchr(a->argv[0], '|', a->len[0]) != NULL)
        return NULL;
    const resp_command_spec *s = resp_command_lookup(a->argv[0], a->len[0]);
    if (s == NULL || a->argc == 1 || !(s->flags & RESP_CMD_CONTAINER))
        return s;
    char full[2 * NAME_MAX_LEN + 2];
    size_t n = strlen(s->name);
    if (a->len[1] > NAME_MAX_LEN)
        return NULL;
    memcpy(full, s->name, n);
    full[n] = '|';
    memcpy(full + n + 1, a->argv[1], a->len[1]);
    return resp_command_lookup(full, n + 1 + a->len[1]);
}

int resp_command_run(resp_exec *x, const resp_command_spec *spec, const resp_args *a)
{
    x->res->commands++;
    if (spec->fn != NULL)
        return spec->fn(x, a);
    return reply_error(x, "evkv does not serve the '%s' command", spec->name);
}

/* server.c's rejectCommand: the error, and under MULTI the transaction is
 * flagged to abort; an EXEC refused ends the transaction. */
static int reject(resp_exec *x, const resp_command_spec *spec, const char *msg)
{
    if (x->c->in_multi)
        x->c->multi_dirty = 1;
    if (spec != NULL && spec->fn == cmd_exec) {
        resp_multi_discard(x->c);
        if (msg[0] == '-')
            msg++;
        return reply_error(x, "-EXECABORT Transaction discarded because of: %s", msg);
    }
    return reply_error(x, "%s", msg);
}

/* server.c's commandCheckExistence: the text naming what is unknown. */
static void unknown_text(const resp_args *a, char *msg, size_t size)
{
    size_t n0 = cstr_len(a->argv[0], a->len[0]);
    if (memchr(a->argv[0], '|', a->len[0]) == NULL && resp_command_lookup(a->argv[0], a->len[0]) != NULL) {
        /* a container, its subcommand unknown */
        char upper[NAME_MAX_LEN + 1];
        size_t i;
        for (i = 0; i < n0 && i < NAME_MAX_LEN; i++)
            upper[i] = (char)toupper((unsigned char)a->argv[0][i]);
        upper[i] = '\0';
        size_t n1 = cstr_len(a->argv[1], a->len[1]);
        snprintf(msg, size, "unknown subcommand '%.*s'. Try %s HELP.", (int)(n1 < 128 ? n1 : 128), a->argv[1], upper);
        return;
    }
    int len = snprintf(msg, size, "unknown command '%.*s', with args beginning with: ", (int)(n0 < 128 ? n0 : 128),
                       a->argv[0]);
    size_t argslen = 0;
    for (size_t i = 1; i < a->argc && argslen < 128; i++) {
        size_t n = cstr_len(a->argv[i], a->len[i]);
        if (n > 128 - argslen)
            n = 128 - argslen;
        int w = snprintf(msg + len, size - (size_t)len, "'%.*s' ", (int)n, a->argv[i]);
        len += w;
        argslen += (size_t)w;
    }
}

void resp_client_init(resp_client *c, long long id)
{
    memset(c, 0, sizeof(*c));
    c->id = id;
    acl_session_init(&c->auth);
}

void resp_client_free(resp_client *c)
{
    free(c->name);
    c->name = NULL;
    resp_multi_discard(c);
    acl_session_free(&c->auth);
}

/* processCommand's NOPERM: the user's rules refuse spec with these
 * arguments. Returns 1 with the refusal replied (or -1 when out of
 * memory), 0 when allowed. */
static int acl_refuse(resp_exec *x, const resp_command_spec *spec, const resp_args *a)
{
    char msg[128];
    size_t keypos = 0;
    int r = acl_check_command(acl_session_user(&x->c->auth), spec, a->argc, a->argv, a->len, &keypos);
    if (r == ACL_OK)
        return 0;
    if (r == ACL_DENIED_CMD) {
        x->res->acl = RESP_ACL_DENIED_CMD;
        snprintf(msg, sizeof(msg), "-NOPERM this user has no permissions to run the '%s' command", spec->name);
    } else {
        x->res->acl = RESP_ACL_DENIED_KEY;
        snprintf(msg, sizeof(msg), "-NOPERM this user has no permissions to access one of the keys used as arguments");
    }
    return reject(x, spec, msg) == 0 ? 1 : -1;
}

/* processCommand's checks for a client with access control: NOAUTH,
 * then "not allowed inside a transaction" (which comes between), then
 * NOPERM. Returns 1 with the refusal replied (-1 when out of memory), 0
 * when the command may go on. One flag keeps a client without any of them
 * (logged in, every right) off this path. */
static int acl_gate(resp_exec *x, const resp_command_spec *spec, const resp_args *a)
{
    const char *msg = NULL;
    if (!x->c->auth.authenticated && !(spec->flags & RESP_CMD_NO_AUTH))
        msg = "-NOAUTH Authentication required.";
    else if (x->c->in_multi && (spec->flags & RESP_CMD_NO_MULTI))
        msg = "Command not allowed inside a transaction";
    if (msg != NULL)
        return reject(x, spec, msg) == 0 ? 1 : -1;
    return acl_refuse(x, spec, a);
}

/* resp_execute, made twice by the compiler: with clustered a constant,
 * the copy without a cluster map has no trace of its check, so that a
 * request to a server outside a cluster costs what it did. */
static inline __attribute__((always_inline)) int execute(const resp_env *env, resp_client *c, const resp_request *req,
                                                         proto_buf *out, resp_result *res, int clustered)
{
    resp_exec x = {env, c, out, res};
    resp_args a = {req->argc, req->argv, req->argv_len};
    char msg[128 * 2 + 512];

    memset(res, 0, sizeof(*res));
    size_t start = out->len;
    /* server.c's defence against HTTP requests: close with no reply. */
    if ((a.len[0] == 5 && strncasecmp(a.argv[0], "host:", 5) == 0) ||
        (a.len[0] == 4 && strncasecmp(a.argv[0], "post", 4) == 0)) {
        res->close = 1;
        return 0;
    }
    const resp_command_spec *spec = resp_command_find(&a);
    int rc, refused = 0;
    if (spec == NULL) {
        unknown_text(&a, msg, sizeof(msg));
        rc = reject(&x, NULL, msg);
    } else if ((spec->arity > 0 && (size_t)spec->arity != a.argc) || (long long)a.argc < -(long long)spec->arity) {
        snprintf(msg, sizeof(msg), "wrong number of arguments for '%s' command", spec->name);
        rc = reject(&x, spec, msg);
    } else if (__builtin_expect(c->auth.restricted, 0) && (refused = acl_gate(&x, spec, &a)) != 0) {
        rc = refused > 0 ? 0 : -1;
    } else if (c->in_multi && (spec->flags & RESP_CMD_NO_MULTI)) {
        rc = reject(&x, spec, "Command not allowed inside a transaction");
    } else if (clustered && spec->fn == cmd_get && !c->in_multi && resp_cluster_reads_here(env->cluster, c) &&
               (rc = resp_get_held(&x, &a)) != 0) {
        rc = rc < 0 ? -1 : 0; /* a GET of a key held here: answered */
    } else if (clustered && !resp_cluster_own_key(env->cluster, spec, &a) &&
               resp_cluster_redirect(&x, spec, &a, msg, sizeof(msg))) {
        /* processCommand: EXEC discards the transaction, with no EXECABORT */
        if (spec->fn == cmd_exec)
            resp_multi_discard(c);
        else if (c->in_multi)
            c->multi_dirty = 1;
        rc = reply_error(&x, "%s", msg);
    } else if (spec->flags & RESP_CMD_WRITE) {
        rc = reject(&x, spec, "-READONLY You can't write against a read only replica.");
    } else if (c->in_multi && !(spec->flags & RESP_CMD_TXN_CONTROL)) {
        if (c->max_queued_bytes > 0 && resp_multi_cost(&a) > c->max_queued_bytes - c->queued_bytes) {
            snprintf(msg, sizeof(msg), "MULTI queue over %zu bytes: the transaction will abort", c->max_queued_bytes);
            rc = reject(&x, spec, msg);
        } else {
            rc = resp_multi_queue(c, &a) == 0 ? resp_encode_simple(out, "QUEUED", 6) : -1;
        }
    } else {
        rc = resp_command_run(&x, spec, &a);
    }
    if (rc != 0 || out->failed)
        return -1;
    res->error = out->len > start && out->data[start] == '-';
    return 0;
}

int resp_execute(const resp_env *env, resp_client *c, const resp_request *req, proto_buf *out, resp_result *res)
{
    if (env->cluster != NULL)
        return execute(env, c, req, out, res, 1);
    return execute(env, c, req, out, res, 0);
}
