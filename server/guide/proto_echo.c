/*
 * proto_echo.c: --echo behind a connection (see protocol.h): whatever
 * arrives is queued back as it is, the moment it is read. There are no
 * requests, so nothing is ever in a message; backpressure (--max-output)
 * and the closes are conn.c's, as for any protocol.
 */
#include <stdlib.h>

#include "guide.h"
#include "protocol.h"

static void echo_init(conn_proto_state *st, void *wing, const proto_limits *limits, uint64_t id)
{
    (void)wing;
    (void)limits;
    (void)id;
    st->echo = (proto_inbuf){0};
}

static void echo_free(conn_proto_state *st)
{
    free(st->echo.buf);
    st->echo = (proto_inbuf){0};
}

static void *echo_reserve(conn_proto_state *st, size_t min, size_t *space)
{
    void *p = proto_inbuf_reserve(&st->echo, min);
    *space = st->echo.cap - st->echo.len;
    return p;
}

static int echo_commit(conn_proto_state *st, size_t n, struct evbuffer *out)
{
    int rc = evbuffer_add(out, st->echo.buf + st->echo.len, n);
    st->echo.len = st->echo.pos = 0; /* the same room serves the next read */
    return rc;
}

static conn_answer echo_answer(conn_proto_state *st, void *wing, struct evbuffer *out, handler_outcome *oc, char *what,
                               size_t whatlen)
{
    (void)st;
    (void)wing;
    (void)out;
    (void)oc;
    (void)what;
    (void)whatlen;
    return CONN_NEED_MORE;
}

static int echo_in_message(const conn_proto_state *st)
{
    (void)st;
    return 0;
}

static size_t echo_buffered(const conn_proto_state *st)
{
    (void)st;
    return 0;
}

static void echo_release(conn_proto_state *st)
{
    proto_inbuf_release(&st->echo);
}

const conn_protocol proto_echo = {
    .name = "echo",
    .tag = PROTOCOL_GUIDE,
    .wing_new = guide_wing_new, /* for its refusals, worded as the guide's */
    .wing_free = guide_wing_free,
    .wing_trim = guide_wing_trim,
    .init = echo_init,
    .free = echo_free,
    .reserve = echo_reserve,
    .commit = echo_commit,
    .answer = echo_answer,
    .in_message = echo_in_message,
    .buffered = echo_buffered,
    .release = echo_release,
    .error = guide_answer_error, /* a refusal, as the guide protocol words it */
};
