/*
 * protocol.h: what a connection asks of the protocol its listener speaks.
 *
 * conn.c reads bytes into the protocol's buffer, asks it to answer the
 * complete requests there, and sends what it queued; it knows nothing of
 * framing or answers. A protocol is a table of functions, chosen by the
 * listener, and a state of its own in each connection, the way memcached's
 * conn holds try_read_command. Below it, the bytes cross the socket through
 * the connection's transport (transport.h), which the protocol never sees.
 * The guide's protocol (guide/proto_guide.c), RESP2 (resp/adapter.c) and
 * --echo (guide/proto_echo.c) are the implementations; a new protocol is a
 * new wing behind this table.
 */
#ifndef EVKV_PROTOCOL_H
#define EVKV_PROTOCOL_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "handler.h"
#include "proto.h"
#include "resp.h"
#include "resp_commands.h"

/* A connection's protocol state: one member per protocol. */
typedef union conn_proto_state {
    struct {
        proto_decoder dec; /* the guide's header + JSON frames */
        acl_session auth;  /* its login (the auth action) */
    } guide;
    proto_inbuf echo;    /* --echo: where a read lands before it goes back */
    struct {
        resp_reader reader;
        resp_client client;
    } resp; /* RESP: the requests, and the client's own state */
} conn_proto_state;

/* What answering the next request did. */
typedef enum conn_answer {
    CONN_ANSWERED,  /* one request answered into out */
    CONN_NEED_MORE, /* no complete request buffered */
    CONN_BROKEN,    /* close once out is sent: it holds a broken stream's error answer, or QUIT's reply */
    CONN_NOMEM,     /* out of memory: close at once */
} conn_answer;

typedef struct conn_protocol {
    const char *name;
    protocol_tag tag; /* whose counters its answers go to */
    /* The protocol's state in one worker (its scratch buffers, what env
     * hands it), made once per listener; NULL when out of memory. Every
     * call below that takes a wing gets it. */
    void *(*wing_new)(const protocol_env *env);
    void (*wing_free)(void *wing);
    /* Once a second: frees the buffers a big answer grew past
     * HANDLER_BUF_KEEP. */
    void (*wing_trim)(void *wing);
    /* Sets up the state of connection id (unique in the server), in the
     * worker whose wing is given. */
    void (*init)(conn_proto_state *st, void *wing, const proto_limits *limits, uint64_t id);
    void (*free)(conn_proto_state *st);
    /* Room for a read of at least min bytes. Returns where it goes, with
     * its size in *space, or NULL when out of memory. */
    void *(*reserve)(conn_proto_state *st, size_t min, size_t *space);
    /* n bytes were read where reserve said. A protocol that answers bytes
     * as they come (echo) queues them in out now. Returns 0, or -1 when out
     * of memory. */
    int (*commit)(conn_proto_state *st, size_t n, struct evbuffer *out);
    /* Answers the next complete request buffered into out; *oc says how
     * (for the counters). With what not NULL (debug logging), also writes
     * there what the request was. */
    conn_answer (*answer)(conn_proto_state *st, void *wing, struct evbuffer *out, handler_outcome *oc, char *what,
                          size_t whatlen);
    /* Whether bytes of an unfinished request are buffered. */
    int (*in_message)(const conn_proto_state *st);
    /* Bytes buffered and not yet answered. */
    size_t (*buffered)(const conn_proto_state *st);
    /* Between requests: frees the input buffer, so that an idle connection
     * holds none. */
    void (*release)(conn_proto_state *st);
    /* The worker moved to new users (a reload): the connection finds its
     * user again. Returns 0, or -1 when its user is gone: it is closed at
     * once. NULL for a protocol without users. */
    int (*rebind)(conn_proto_state *st, void *wing);
    /* A client certificate names the user user[0..len) (--tls-auth-clients-user):
     * logs the connection in as that user if it is one and on, whatever its
     * passwords, as AUTH would. Returns 1 if so, 0 if not (it stays as it
     * was). NULL for a protocol without users. */
    int (*login_as)(conn_proto_state *st, void *wing, const char *user, size_t len);
    /* As a connection from peer is accepted: NULL, or a function that
     * returns 0 to serve it, or 1 after queueing in out why it is refused
     * (it is then closed once that is sent). */
    int (*admit)(void *wing, const struct sockaddr *peer, struct evbuffer *out);
    /* Queues an error answer saying why (a timeout, a refusal). */
    handler_outcome (*error)(void *wing, const char *why, struct evbuffer *out);
} conn_protocol;

extern const conn_protocol proto_guide; /* the guide's protocol: lookups */
extern const conn_protocol proto_echo;  /* --echo: whatever arrives goes back */
extern const conn_protocol proto_resp;  /* RESP2: a read-only Redis replica's commands */

#endif
