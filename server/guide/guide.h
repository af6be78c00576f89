/*
 * guide.h: answering one request of the guide's protocol.
 *
 * Each action is one function in guide.c's action table. Answers are
 * appended to an evbuffer, encoded byte-identical to the reference server.
 */
#ifndef EVKV_GUIDE_H
#define EVKV_GUIDE_H

#include "handler.h"

/* Appends the answer to msg to out. */
handler_outcome guide_answer(handler_ctx *h, const proto_message *msg, struct evbuffer *out);

/* Appends a text/json answer {"result": "Error: <why>."}. */
handler_outcome guide_answer_error(handler_ctx *h, const char *why, struct evbuffer *out);

#endif
