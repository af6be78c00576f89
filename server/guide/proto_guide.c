/*
 * proto_guide.c: the guide's header + JSON protocol behind a connection
 * (see protocol.h): proto/'s decoder frames the requests, guide.c
 * answers them.
 */
#include <stdio.h>

#include "acl.h"
#include "log.h"
#include "guide.h"
#include "protocol.h"

static void guide_init(conn_proto_state *st, void *wing, const proto_limits *limits, uint64_t id)
{
    guide_wing *g = wing;
    (void)id;
    proto_decoder_init(&st->guide.dec, limits);
    acl_session_init(&st->guide.auth);
    acl_session_bind(&st->guide.auth, g->env.handler->acl);
}

static int guide_rebind(conn_proto_state *st, void *wing)
{
    guide_wing *g = wing;
    return acl_session_bind(&st->guide.auth, g->env.handler->acl);
}

/* A client certificate's user (--tls-auth-clients-user CN): as the auth
 * action logs in. */
static int guide_login_as(conn_proto_state *st, void *wing, const char *user, size_t len)
{
    (void)wing;
    const acl_user *u = acl_certificate_user(acl_session_users(&st->guide.auth), user, len);
    if (u == NULL)
        return 0;
    acl_session_login(&st->guide.auth, u);
    return 1;
}

static void guide_free(conn_proto_state *st)
{
    proto_decoder_free(&st->guide.dec);
    acl_session_free(&st->guide.auth);
}

static void *guide_reserve(conn_proto_state *st, size_t min, size_t *space)
{
    void *p = proto_decoder_reserve(&st->guide.dec, min);
    *space = proto_decoder_space(&st->guide.dec);
    return p;
}

static int guide_commit(conn_proto_state *st, size_t n, struct evbuffer *out)
{
    (void)out;
    proto_decoder_commit(&st->guide.dec, n);
    return 0;
}

/* What a request was, for the debug log: its action and value cut to 48
 * bytes and escaped, or its kind and size. */
static void guide_describe(const proto_message *msg, char *what, size_t whatlen)
{
    if (msg->is_json) {
        proto_request req;
        char action[200] = "?", value[200] = "?";
        if (proto_request_parse(msg->content, msg->content_len, msg->parse_memory, &req) == 0) {
            log_escape(action, sizeof(action), req.action, req.action_len, 48);
            if (req.value_state == PROTO_VALUE_STRING)
                log_escape(value, sizeof(value), req.value, req.value_len, 48);
            snprintf(what, whatlen, "%s '%s'", action, value);
        } else {
            snprintf(what, whatlen, "text/json, %zu bytes", msg->content_len);
        }
        proto_request_free(&req);
    } else {
        snprintf(what, whatlen, "binary, %zu bytes", msg->content_len);
    }
}

static conn_answer guide_next(conn_proto_state *st, void *wing, struct evbuffer *out, handler_outcome *oc, char *what,
                              size_t whatlen)
{
    proto_message msg;
    guide_wing *g = wing;
    proto_status s = proto_decoder_next(&st->guide.dec, &msg);

    if (s == PROTO_NEED_MORE)
        return CONN_NEED_MORE;
    if (s == PROTO_ERROR) {
        /* Framing is lost: one error answer, then the connection closes. */
        guide_answer_error(wing, st->guide.dec.errstr, out);
        *oc = OUTCOME_BAD_FRAME;
        if (what)
            snprintf(what, whatlen, "bad frame: %s", st->guide.dec.errstr);
        return CONN_BROKEN;
    }
    *oc = guide_answer_as(g, &st->guide.auth, &msg, out);
    if (what)
        guide_describe(&msg, what, whatlen);
    return *oc == OUTCOME_NOMEM ? CONN_NOMEM : CONN_ANSWERED;
}

static int guide_in_message(const conn_proto_state *st)
{
    return proto_decoder_in_message(&st->guide.dec) && !st->guide.dec.err;
}

static size_t guide_buffered(const conn_proto_state *st)
{
    return proto_decoder_buffered(&st->guide.dec);
}

static void guide_release(conn_proto_state *st)
{
    proto_decoder_release(&st->guide.dec);
}

/* Protected mode (handler.h): the guide's error answer, saying what Redis's
 * -DENIED says, in evkv's words. */
static int guide_admit(void *wing, const struct sockaddr *peer, struct evbuffer *out)
{
    guide_wing *g = wing;
    if (!handler_protected_refuses(&g->env, peer))
        return 0;
    guide_answer_error(g,
                       "evkv is running in protected mode because protected mode is enabled and no password is "
                       "set for the default user. In this mode connections are only accepted from the loopback "
                       "interface. To serve other hosts, give the default user a password (--requirepass, or "
                       "--aclfile), or start the server with --protected-mode no, making sure it is not reachable "
                       "from the internet",
                       out);
    return 1;
}

const conn_protocol proto_guide = {
    .name = "guide",
    .tag = PROTOCOL_GUIDE,
    .wing_new = guide_wing_new,
    .wing_free = guide_wing_free,
    .wing_trim = guide_wing_trim,
    .init = guide_init,
    .free = guide_free,
    .reserve = guide_reserve,
    .commit = guide_commit,
    .answer = guide_next,
    .in_message = guide_in_message,
    .buffered = guide_buffered,
    .release = guide_release,
    .rebind = guide_rebind,
    .login_as = guide_login_as,
    .admit = guide_admit,
    .error = guide_answer_error,
};
