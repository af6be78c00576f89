/*
 * proto_resp.c: the Redis protocol (RESP2) behind a connection (see
 * protocol.h): proto/resp.c reads the requests, resp_commands.c answers
 * them as a read-only Redis 7.0 replica would.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "resp.h"

static void redis_init(conn_proto_state *st, const proto_limits *limits)
{
    resp_limits l = {RESP_DEFAULT_MAX_ARGS, limits->max_content, RESP_INLINE_MAX_SIZE};
    resp_reader_init(&st->resp.reader, &l);
}

static void redis_free(conn_proto_state *st)
{
    resp_reader_free(&st->resp.reader);
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

/* Until resp_commands.c answers them: PING and GET. */
static int redis_run(handler_ctx *h, const resp_request *req, proto_buf *b, int *error)
{
    *error = 0;
    if (req->argc == 1 && req->argv_len[0] == 4 && strncasecmp(req->argv[0], "ping", 4) == 0)
        return resp_encode_simple(b, "PONG", 4);
    if (req->argc == 2 && req->argv_len[0] == 3 && strncasecmp(req->argv[0], "get", 3) == 0) {
        const char *v;
        size_t len;
        if (table_lookup(h->table, req->argv[1], req->argv_len[1], &v, &len)) {
            COUNTER_ADD(h->resp_hits, 1);
            return resp_encode_bulk(b, v + 1, len - 2);
        }
        COUNTER_ADD(h->resp_misses, 1);
        return resp_encode_null_bulk(b);
    }
    *error = 1;
    return resp_encode_errorf(b, "unknown command '%.*s'", (int)req->argv_len[0], req->argv[0]);
}

static conn_answer redis_answer(conn_proto_state *st, handler_ctx *h, struct evbuffer *out, handler_outcome *oc,
                                char *what, size_t whatlen)
{
    resp_request req;
    resp_status s = resp_reader_next(&st->resp.reader, &req);
    proto_buf *b = &h->scratch;
    int error;

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
    if (redis_run(h, &req, b, &error) != 0 || evbuffer_add(out, b->data, b->len) != 0) {
        *oc = OUTCOME_NOMEM;
        return CONN_NOMEM;
    }
    *oc = error ? OUTCOME_COMMAND_ERROR : OUTCOME_COMMAND;
    return CONN_ANSWERED;
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
static handler_outcome redis_error(handler_ctx *h, const char *why, struct evbuffer *out)
{
    proto_buf *b = &h->scratch;
    proto_buf_reset(b);
    if (resp_encode_error(b, why, strlen(why)) != 0 || evbuffer_add(out, b->data, b->len) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_COMMAND_ERROR;
}

const conn_protocol proto_resp = {
    .name = "resp",
    .init = redis_init,
    .free = redis_free,
    .reserve = redis_reserve,
    .commit = redis_commit,
    .answer = redis_answer,
    .in_message = redis_in_message,
    .buffered = redis_buffered,
    .release = redis_release,
    .error = redis_error,
};
