/*
 * adapter.c: the Redis protocol (RESP2) behind a connection (see
 * protocol.h): proto/resp.c reads the requests, the rest of this wing
 * (dispatch.c and the command files) answers them as a read-only Redis
 * 7.0 replica would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "log.h"
#include "protocol.h"
#include "resp.h"
#include "resp_commands.h"

/* RESP in one worker: what the worker handed it, and the buffer replies
 * are built in (not shared between threads). */
typedef struct resp_wing {
    protocol_env env;
    /* What resp_execute reads: the worker's INFO figures and random
     * numbers, set once; the table and its cluster map, set before each
     * request (the worker moves to another dataset between two). */
    resp_env exec_env;
    proto_buf scratch;
} resp_wing;

static void *redis_wing_new(const protocol_env *env)
{
    resp_wing *r = calloc(1, sizeof(*r));
    if (r != NULL) {
        r->env = *env;
        r->exec_env = (resp_env){.server_info = env->server_info, .random = env->random, .arg = env->arg};
    }
    return r;
}

static void redis_wing_free(void *wing)
{
    resp_wing *r = wing;
    if (r == NULL)
        return;
    proto_buf_free(&r->scratch);
    free(r);
}

static void redis_wing_trim(void *wing)
{
    resp_wing *r = wing;
    handler_buf_trim(&r->scratch);
}

static void redis_init(conn_proto_state *st, void *wing, const proto_limits *limits, uint64_t id)
{
    resp_wing *r = wing;
    /* --max-content bounds a bulk argument as proto-max-bulk-len does, and
     * a whole request too, as it bounds a message of the guide's */
    resp_limits l = {RESP_DEFAULT_MAX_ARGS, limits->max_content, RESP_INLINE_MAX_SIZE,
                     limits->max_content + RESP_REQUEST_SLACK};
    resp_reader_init(&st->resp.reader, &l);
    resp_client_init(&st->resp.client, (long long)id);
    st->resp.client.max_queued_bytes = limits->max_content + RESP_REQUEST_SLACK; /* a transaction is one request */
    /* The users it answers to, as it connects: must it authenticate? Redis
     * bounds its first request too. (A new set, a reload's, cannot take a
     * client's user away here.) */
    acl_session_bind(&st->resp.client.auth, r->env.handler->acl);
    resp_reader_set_unauthenticated(&st->resp.reader, acl_session_pending(&st->resp.client.auth));
}

static void redis_free(conn_proto_state *st)
{
    resp_reader_free(&st->resp.reader);
    resp_client_free(&st->resp.client);
}

static void *redis_reserve(conn_proto_state *st, size_t min, size_t *space)
{
    void *p = resp_reader_reserve(&st->resp.reader, min);
    *space = resp_reader_space(&st->resp.reader);
    return p;
}

static int redis_commit(conn_proto_state *st, size_t n, struct evbuffer *out)
{
    (void)out;
    resp_reader_commit(&st->resp.reader, n);
    return 0;
}

/* The request for the debug log: its arguments, each cut and escaped. */
static void redis_describe(const resp_request *req, char *what, size_t whatlen)
{
    size_t used = 0;
    what[0] = '\0';
    for (size_t i = 0; i < req->argc && i < 4 && used + 1 < whatlen; i++) {
        char arg[200];
        log_escape(arg, sizeof(arg), req->argv[i], req->argv_len[i], 48);
        int n = snprintf(what + used, whatlen - used, "%s%s", i ? " " : "", arg);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (req->argc > 4 && used + 1 < whatlen)
        snprintf(what + used, whatlen - used, " (%zu arguments)", req->argc);
}

/* What access control did: a refusal counted, or a login, after which
 * Redis's tighter bounds on a request before AUTH are off. */
static void acl_done(conn_proto_state *st, protocol_counters *c, const resp_result *res)
{
    int what = res->acl;
    if (what == RESP_ACL_EXEC_DENIED) {
        COUNTER_ADD(c->acl_denied_cmd, res->exec_denied_cmd);
        COUNTER_ADD(c->acl_denied_key, res->exec_denied_key);
    } else if (what == RESP_ACL_DENIED_AUTH)
        COUNTER_ADD(c->acl_denied_auth, 1);
    else if (what == RESP_ACL_DENIED_CMD)
        COUNTER_ADD(c->acl_denied_cmd, 1);
    else if (what == RESP_ACL_DENIED_KEY)
        COUNTER_ADD(c->acl_denied_key, 1);
    resp_reader_set_unauthenticated(&st->resp.reader, acl_session_pending(&st->resp.client.auth));
}

/* After a reload: the client's user, found again in the new users.
 * Returns -1 when it is gone. */
static int redis_rebind(conn_proto_state *st, void *wing)
{
    resp_wing *r = wing;
    if (acl_session_bind(&st->resp.client.auth, r->env.handler->acl) != 0)
        return -1;
    resp_reader_set_unauthenticated(&st->resp.reader, acl_session_pending(&st->resp.client.auth));
    return 0;
}

/* A client certificate's user (--tls-auth-clients-user CN): logged in as
 * AUTH logs in, and Redis's tighter bounds before AUTH are off. */
static int redis_login_as(conn_proto_state *st, void *wing, const char *user, size_t len)
{
    (void)wing;
    const acl_user *u = acl_certificate_user(acl_session_users(&st->resp.client.auth), user, len);
    if (u == NULL)
        return 0;
    acl_session_login(&st->resp.client.auth, u);
    resp_reader_set_unauthenticated(&st->resp.reader, 0);
    return 1;
}

static conn_answer redis_answer(conn_proto_state *st, void *wing, struct evbuffer *out, handler_outcome *oc, char *what,
                                size_t whatlen)
{
    resp_wing *r = wing;
    resp_request req;
    resp_status s = resp_reader_next(&st->resp.reader, &req);
    proto_buf *b = &r->scratch;

    if (s == RESP_NEED_MORE)
        return CONN_NEED_MORE;
    proto_buf_reset(b);
    if (s == RESP_ERROR) {
        /* Redis answers a protocol error, then closes the connection. */
        *oc = OUTCOME_PROTOCOL_ERROR;
        if (what)
            snprintf(what, whatlen, "protocol error: %s", st->resp.reader.errstr);
        if (resp_encode_error(b, st->resp.reader.errstr, strlen(st->resp.reader.errstr)) != 0 ||
            evbuffer_add(out, b->data, b->len) != 0)
            return CONN_NOMEM;
        return CONN_BROKEN;
    }
    if (what)
        redis_describe(&req, what, whatlen);
    r->exec_env.table = r->env.handler->table;
    r->exec_env.cluster = r->env.handler->cluster;
    resp_result res;
    if (resp_execute(&r->exec_env, &st->resp.client, &req, b, &res) != 0 || evbuffer_add(out, b->data, b->len) != 0) {
        *oc = OUTCOME_NOMEM;
        return CONN_NOMEM;
    }
    COUNTER_ADD(r->env.counters->key_hits, res.hits);
    COUNTER_ADD(r->env.counters->key_misses, res.misses);
    COUNTER_ADD(r->env.counters->commands, res.commands);
    if (__builtin_expect(res.acl != 0, 0))
        acl_done(st, r->env.counters, &res);
    *oc = res.error ? OUTCOME_COMMAND_ERROR : OUTCOME_COMMAND;
    return res.close ? CONN_BROKEN : CONN_ANSWERED; /* QUIT: closed once the reply is sent */
}

static int redis_in_message(const conn_proto_state *st)
{
    return resp_reader_in_message(&st->resp.reader) && st->resp.reader.err == RESP_ERR_NONE;
}

static size_t redis_buffered(const conn_proto_state *st)
{
    return resp_reader_buffered(&st->resp.reader);
}

static void redis_release(conn_proto_state *st)
{
    resp_reader_release(&st->resp.reader);
}

/* A refusal or a timeout, as an error reply. */
static handler_outcome redis_error(void *wing, const char *why, struct evbuffer *out)
{
    resp_wing *r = wing;
    proto_buf *b = &r->scratch;
    proto_buf_reset(b);
    if (resp_encode_error(b, why, strlen(why)) != 0 || evbuffer_add(out, b->data, b->len) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_COMMAND_ERROR;
}

/* Protected mode (handler.h): networking.c's clientAcceptHandler writes
 * this, then closes. */
static const char denied[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    "from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you "
    "do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected "
    "mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then "
    "restarting the server. 3) If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only "
    "need to do one of the above things in order for the server to start accepting connections from the "
    "outside.\r\n";

static int redis_admit(void *wing, const struct sockaddr *peer, struct evbuffer *out)
{
    resp_wing *r = wing;
    if (!handler_protected_refuses(&r->env, peer))
        return 0;
    evbuffer_add_reference(out, denied, sizeof(denied) - 1, NULL, NULL);
    return 1;
}

const conn_protocol proto_resp = {
    .name = "resp",
    .tag = PROTOCOL_RESP,
    .wing_new = redis_wing_new,
    .wing_free = redis_wing_free,
    .wing_trim = redis_wing_trim,
    .init = redis_init,
    .free = redis_free,
    .reserve = redis_reserve,
    .commit = redis_commit,
    .answer = redis_answer,
    .in_message = redis_in_message,
    .buffered = redis_buffered,
    .release = redis_release,
    .rebind = redis_rebind,
    .login_as = redis_login_as,
    .admit = redis_admit,
    .error = redis_error,
};
