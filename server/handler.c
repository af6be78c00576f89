/*
 * handler.c: the actions (see handler.h).
 *
 * A text/json request {"action": A, "value": V} is dispatched by name
 * through the action table below; anything else is a binary request. Error
 * answers say what was wrong in words a client author can act on.
 */
#include "handler.h"

#include <string.h>

#define LIT(s)        s, sizeof(s) - 1
#define RESULT_PREFIX "{\"result\": "

static const char *const outcome_names[OUTCOME_COUNT] = {
    "hit", "miss", "binary", "bad-action", "bad-request", "bad-frame", "nomem",
};

const char *handler_outcome_name(handler_outcome o)
{
    return o < OUTCOME_COUNT ? outcome_names[o] : "?";
}

void handler_ctx_free(handler_ctx *h)
{
    proto_buf_free(&h->scratch);
    proto_buf_free(&h->text);
}

/* Sends {"result": <encoded>} as a text/json answer. */
static int send_result_json(handler_ctx *h, const char *encoded, size_t len, struct evbuffer *out)
{
    proto_buf *b = &h->scratch;
    proto_buf_reset(b);
    proto_encode_header(b, "text/json", "utf-8", sizeof(RESULT_PREFIX) - 1 + len + 1);
    proto_buf_append(b, LIT(RESULT_PREFIX));
    proto_buf_append(b, encoded, len);
    proto_buf_append(b, LIT("}"));
    if (b->failed)
        return -1;
    return evbuffer_add(out, b->data, b->len);
}

/* Sends {"result": "<prefix><s><suffix>"}, the text escaped as JSON. */
static int send_result_text(handler_ctx *h, const char *prefix, const char *s, size_t len, const char *suffix,
                            struct evbuffer *out)
{
    proto_buf *t = &h->text;
    proto_buf enc = {0};
    int rc = -1;

    proto_buf_reset(t);
    proto_buf_append(t, prefix, strlen(prefix));
    proto_buf_append(t, s, len);
    proto_buf_append(t, suffix, strlen(suffix));
    if (!t->failed && proto_dump_string(&enc, t->data, t->len) == 0)
        rc = send_result_json(h, enc.data, enc.len, out);
    proto_buf_free(&enc);
    return rc;
}

handler_outcome handler_answer_error(handler_ctx *h, const char *why, struct evbuffer *out)
{
    if (send_result_text(h, "Error: ", why, strlen(why), ".", out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BAD_REQUEST;
}

static handler_outcome action_search(handler_ctx *h, const json_t *value, struct evbuffer *out)
{
    const char *key = json_string_value(value), *enc;
    size_t key_len = json_string_length(value), enc_len;

    if (table_lookup(h->table, key, key_len, &enc, &enc_len)) {
        if (send_result_json(h, enc, enc_len, out) != 0)
            return OUTCOME_NOMEM;
        return OUTCOME_HIT;
    }
    if (send_result_text(h, "No match for '", key, key_len, "'.", out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_MISS;
}

/* The actions a text/json request may name. Each takes the request's
 * "value", already checked to be a string. */
static const struct action {
    const char *name;
    handler_outcome (*fn)(handler_ctx *h, const json_t *value, struct evbuffer *out);
} actions[] = {
    {"search", action_search},
};

static handler_outcome answer_json(handler_ctx *h, const proto_message *msg, struct evbuffer *out)
{
    const json_t *req = msg->json, *action, *value;

    if (req == NULL)
        return handler_answer_error(h, msg->content_errstr, out);
    if (!json_is_object(req))
        return handler_answer_error(h, "request content must be a JSON object", out);
    action = json_object_get(req, "action");
    if (action == NULL)
        return handler_answer_error(h, "request lacks 'action'", out);
    if (!json_is_string(action))
        return handler_answer_error(h, "'action' must be a string", out);

    const char *name = json_string_value(action);
    size_t name_len = json_string_length(action);
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (strlen(actions[i].name) != name_len || memcmp(actions[i].name, name, name_len) != 0)
            continue;
        value = json_object_get(req, "value");
        if (value == NULL)
            return handler_answer_error(h, "request lacks 'value'", out);
        if (!json_is_string(value))
            return handler_answer_error(h, "'value' must be a string", out);
        return actions[i].fn(h, value, out);
    }
    if (send_result_text(h, "Error: invalid action '", name, name_len, "'.", out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BAD_ACTION;
}

static handler_outcome answer_binary(handler_ctx *h, const proto_message *msg, struct evbuffer *out)
{
    static const char prefix[] = "First 10 bytes of request: ";
    size_t n = msg->content_len < 10 ? msg->content_len : 10;
    proto_buf *b = &h->scratch;

    proto_buf_reset(b);
    proto_encode_header(b, "binary/custom-server-binary-type", "binary", sizeof(prefix) - 1 + n);
    proto_buf_append(b, prefix, sizeof(prefix) - 1);
    proto_buf_append(b, msg->content, n);
    if (b->failed || evbuffer_add(out, b->data, b->len) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BINARY;
}

handler_outcome handler_answer(handler_ctx *h, const proto_message *msg, struct evbuffer *out)
{
    return msg->is_json ? answer_json(h, msg, out) : answer_binary(h, msg, out);
}
