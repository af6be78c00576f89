/*
 * guide.h: answering one request of the guide's protocol.
 *
 * Each action is one function in guide.c's action table. Answers are
 * appended to an evbuffer, encoded byte-identical to the reference server.
 */
#ifndef EVKV_GUIDE_H
#define EVKV_GUIDE_H

#include "acl_session.h"
#include "handler.h"

/* The guide's protocol in one worker: what the worker handed it, and the
 * scratch buffers its answers are built in (not shared between threads). */
typedef struct guide_wing {
    protocol_env env;
    proto_buf scratch; /* the answer being encoded */
    proto_buf text;    /* the result text of an answer being built */
    proto_buf encoded; /* that text, encoded as a JSON string */
} guide_wing;

/* A guide_wing answering from what env says (copied); NULL when out of
 * memory. env->counters must not be NULL. (conn_protocol.wing_new) */
void *guide_wing_new(const protocol_env *env);
/* Frees a guide_wing and its buffers; NULL is fine. */
void guide_wing_free(void *wing);
/* Frees the buffers a big answer grew past HANDLER_BUF_KEEP. */
void guide_wing_trim(void *wing);

/* Appends the answer to msg to out, for a connection logged in as auth
 * says (the auth action changes it; NULL: every right, as a server
 * without access control). */
handler_outcome guide_answer_as(guide_wing *g, acl_session *auth, const proto_message *msg, struct evbuffer *out);
/* The same, with every right. */
handler_outcome guide_answer(guide_wing *g, const proto_message *msg, struct evbuffer *out);

/* Appends a text/json answer {"result": "Error: <why>."}. wing is a
 * guide_wing (conn_protocol.error). */
handler_outcome guide_answer_error(void *wing, const char *why, struct evbuffer *out);

#endif
