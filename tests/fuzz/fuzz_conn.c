/*
 * fuzz_conn.c: a whole connection, through the server's own connection
 * code (server/conn.c) and a real event loop.
 *
 * The stream (see fuzz_common.h: fragment sizes, framed mode) is what a
 * client sends over a socketpair, fragment by fragment, the loop turning
 * between fragments; then the client half-closes. Everything the server
 * sends back must decode as well-formed answers (at most one per frame
 * sent, plus one error), the server must end by closing, and nothing may
 * leak or touch freed memory (ASan).
 *
 * With FUZZ_FLAG_RESP (fuzz_common.h) the connection speaks RESP
 * (proto_resp) and the stream goes out as it is: then everything the
 * server sends must read as whole, well-formed RESP2 replies, with the
 * same checks on closing, and as many of them as the bytes sent call for:
 * the harness reads what it sent with its own resp_reader and runs it
 * through resp_execute on a client of its own, which says which requests
 * get a reply and where the connection ends (QUIT, an HTTP line, a
 * protocol error and its reply).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "protocol.h"
#include "transport.h"
#include "worker.h"
#include "table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static server_options opt;
static server srv;
static worker wk;
static table *shadow; /* the built-in table again, for resp_expected */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    opt.host = "fuzz";
    opt.port = "0";
    opt.limits.max_header = PROTO_DEFAULT_MAX_HEADER;
    opt.limits.max_content = 4096;
    opt.max_conns = 16;
    opt.max_output = 2048; /* small: backpressure is exercised */
    opt.threads = 1;
    table *builtin = table_builtin();
    dataset *d = builtin ? dataset_new(builtin, "built-in", NULL, 0) : NULL;
    if (d == NULL || server_init(&srv, &opt, d, &wk, 1) != 0 || worker_init(&wk, &srv, 0) != 0)
        fuzz_fail("cannot set up the worker");
    shadow = table_builtin();
    if (shadow == NULL)
        fuzz_fail("cannot build the table");
    return 0;
}

/* The client's side: the guide's decoder, or in RESP mode the bytes
 * received and not yet read as whole replies. */
typedef struct client_side {
    int resp;
    proto_decoder guide;
    proto_buf replies;
    size_t nreplies; /* whole replies read */
} client_side;

/* RESP: how many replies the server owes for the len bytes sent, read
 * with the server's limits (server/resp/adapter.c) and answered on a client of
 * this harness's own. */
static size_t resp_expected(const uint8_t *sent, size_t len)
{
    resp_limits lim = {RESP_DEFAULT_MAX_ARGS, opt.limits.max_content, RESP_INLINE_MAX_SIZE,
                       opt.limits.max_content + RESP_REQUEST_SLACK};
    resp_env env = {shadow, NULL, NULL, NULL, NULL};
    resp_reader r;
    resp_client c;
    resp_request req;
    resp_result res;
    resp_status st;
    proto_buf out = {0};
    size_t n = 0;

    resp_reader_init(&r, &lim);
    resp_client_init(&c, 1);
    c.max_queued_bytes = opt.limits.max_content + RESP_REQUEST_SLACK;
    if (len > 0 && resp_reader_feed(&r, sent, len) != 0)
        fuzz_fail("out of memory");
    while ((st = resp_reader_next(&r, &req)) == RESP_OK) {
        proto_buf_reset(&out);
        if (resp_execute(&env, &c, &req, &out, &res) != 0)
            fuzz_fail("out of memory");
        n += out.len > 0;
        if (res.close)
            break;
    }
    if (st == RESP_ERROR)
        n++; /* the protocol error's reply */
    proto_buf_free(&out);
    resp_client_free(&c);
    resp_reader_free(&r);
    return n;
}

/* RESP: reads the whole replies received and drops them; a malformed one
 * fails. What is left is the start of a reply still coming. */
static void read_replies(proto_buf *replies, size_t *nreplies)
{
    size_t pos = 0, used;
    const char *why;
    int st;
    while (pos < replies->len && (st = fuzz_resp_reply(replies->data + pos, replies->len - pos, &used, &why)) != 0) {
        if (st < 0) {
            fuzz_print_bytes("the rest", replies->data + pos, replies->len - pos);
            fuzz_fail("the server sent a malformed reply: %s", why);
        }
        pos += used;
        ++*nreplies;
    }
    memmove(replies->data, replies->data + pos, replies->len - pos);
    replies->len -= pos;
}

/* Reads what the server sent so far into the client's side. Returns 1
 * once the server has closed. */
static int client_read(int fd, client_side *cl)
{
    char buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            if (!cl->resp)
                proto_decoder_feed(&cl->guide, buf, (size_t)n);
            else if (proto_buf_append(&cl->replies, buf, (size_t)n) != 0)
                fuzz_fail("out of memory");
            else
                read_replies(&cl->replies, &cl->nreplies);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return 1;
        return 0;
    }
}

/* The guide's answers: whole frames of the content types the server sends. */
static void check_guide(proto_decoder *client)
{
    proto_message m;
    proto_status st;
    while ((st = proto_decoder_next(client, &m)) == PROTO_OK) {
        if (!m.is_json && strcmp(m.content_type, "binary/custom-server-binary-type") != 0)
            fuzz_fail("an answer of content type %s", m.content_type);
    }
    if (st == PROTO_ERROR)
        fuzz_fail("the server's answers do not frame: %s", client->errstr);
    if (proto_decoder_in_message(client))
        fuzz_fail("the server's last answer is cut short");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    int sv[2];
    client_side client = {0};

    fuzz_input_init(&in, data, size);
    client.resp = (in.flags & FUZZ_FLAG_RESP) != 0;
    uint8_t *framed = client.resp ? NULL : fuzz_frames(&in);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        fuzz_fail("socketpair: %s", strerror(errno));
    struct sockaddr_storage addr = {.ss_family = AF_UNIX};
    /* the worker's own endpoints, with its wings */
    conn_endpoint ep = wk.listeners[client.resp ? LISTENER_RESP : LISTENER_MAIN].ep;
    conn_new(&wk.conns, sv[0], (struct sockaddr *)&addr, &ep);
    proto_decoder_init(&client.guide, NULL);

    int closed = 0;
    size_t pos = 0;
    while (pos < in.len && !closed) {
        size_t n = fuzz_input_fragment(&in, in.len - pos);
        ssize_t k = send(sv[1], in.stream + pos, n, MSG_NOSIGNAL);
        if (k > 0)
            pos += (size_t)k;
        else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            break; /* the server closed on us */
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        closed = client_read(sv[1], &client);
    }
    shutdown(sv[1], SHUT_WR);
    for (int turn = 0; turn < 1000 && !closed; turn++) {
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        closed = client_read(sv[1], &client);
    }
    if (!closed)
        fuzz_fail("the server did not close a connection whose client had finished");

    if (client.resp && client.replies.len > 0) {
        fuzz_print_bytes("the rest", client.replies.data, client.replies.len);
        fuzz_fail("the server's last reply is cut short");
    }
    if (client.resp) {
        size_t want = resp_expected(in.stream, pos);
        if (client.nreplies != want)
            fuzz_fail("the server sent %zu replies for requests that call for %zu", client.nreplies, want);
    }
    if (!client.resp)
        check_guide(&client.guide);
    proto_decoder_free(&client.guide);
    proto_buf_free(&client.replies);
    close(sv[1]);
    free(framed);
    /* A connection the server closed first lingers until it sees its
     * client gone: the next turns of the loop read that. */
    for (int turn = 0; turn < 100 && wk.conns.list != NULL; turn++)
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
    if (wk.conns.list != NULL)
        fuzz_fail("a connection outlived its client");
    return 0;
}
