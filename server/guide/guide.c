/*
 * guide.c: the guide's protocol's answers (see guide.h).
 *
 * A text/json request {"action": A, "value": V} is dispatched by name
 * through the action table below; anything else is a binary request. Error
 * answers say what was wrong in words a client author can act on. Lookups
 * go to the table (handler_lookup); the stats answer comes from above the
 * worker through the wing's protocol_env.
 */
#include "guide.h"

#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "cluster_map.h"
#include "json_write.h"
#include "wire.h"

#define LIT(s)        s, sizeof(s) - 1
#define RESULT_PREFIX "{\"result\": "

void *guide_wing_new(const protocol_env *env)
{
    guide_wing *g = calloc(1, sizeof(*g));
    if (g != NULL)
        g->env = *env;
    return g;
}

void guide_wing_free(void *wing)
{
    guide_wing *g = wing;
    if (g == NULL)
        return;
    proto_buf_free(&g->scratch);
    proto_buf_free(&g->text);
    proto_buf_free(&g->encoded);
    free(g);
}

void guide_wing_trim(void *wing)
{
    guide_wing *g = wing;
    handler_buf_trim(&g->scratch);
    handler_buf_trim(&g->text);
    handler_buf_trim(&g->encoded);
}

/* Sends {"result": <encoded>} as a text/json answer. */
static int send_result_json(guide_wing *g, const char *encoded, size_t len, struct evbuffer *out)
{
    proto_buf *b = &g->scratch;
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
static int send_result_text(guide_wing *g, const char *prefix, const char *s, size_t len, const char *suffix,
                            struct evbuffer *out)
{
    proto_buf *t = &g->text, *enc = &g->encoded;

    proto_buf_reset(t);
    proto_buf_reset(enc);
    proto_buf_append(t, prefix, strlen(prefix));
    proto_buf_append(t, s, len);
    proto_buf_append(t, suffix, strlen(suffix));
    if (t->failed || proto_dump_string(enc, t->data, t->len) != 0)
        return -1;
    return send_result_json(g, enc->data, enc->len, out);
}

handler_outcome guide_answer_error(void *wing, const char *why, struct evbuffer *out)
{
    guide_wing *g = wing;
    if (send_result_text(g, "Error: ", why, strlen(why), ".", out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BAD_REQUEST;
}

/* In a Redis Cluster, a key this node does not serve (another node's
 * slot, or no node's): sends the error naming its owner (wire.h) and
 * returns 1, with its outcome in *oc; else 0. Asked only for a key the
 * table lacks: a key it holds is this node's by construction. The guide's
 * protocol has no redirection: the error says where to ask. */
static int cluster_elsewhere(guide_wing *g, const char *key, size_t key_len, struct evbuffer *out, handler_outcome *oc)
{
    const cluster_map *m = g->env.handler->cluster;
    char head[128];

    if (m == NULL)
        return 0;
    unsigned slot = keyslot(key, key_len);
    int owner = cluster_map_owner(m, slot);
    if (owner == (int)m->serving)
        return 0;
    if (owner < 0)
        snprintf(head, sizeof(head), WIRE_CLUSTERDOWN_PREFIX "%u: '", slot);
    else
        snprintf(head, sizeof(head), WIRE_MOVED_PREFIX "%u %s:%d: '", slot, m->nodes[owner].ip, m->nodes[owner].port);
    *oc = send_result_text(g, head, key, key_len, owner < 0 ? WIRE_CLUSTERDOWN_SUFFIX : WIRE_MOVED_SUFFIX, out) != 0
              ? OUTCOME_NOMEM
              : OUTCOME_BAD_REQUEST;
    return 1;
}

static handler_outcome action_search(guide_wing *g, const char *key, size_t key_len, struct evbuffer *out)
{
    const char *enc;
    size_t enc_len;
    handler_outcome oc;

    if (handler_lookup(g->env.handler, key, key_len, &enc, &enc_len)) {
        if (send_result_json(g, enc, enc_len, out) != 0)
            return OUTCOME_NOMEM;
        return OUTCOME_HIT;
    }
    if (cluster_elsewhere(g, key, key_len, out, &oc))
        return oc;
    if (send_result_text(g, WIRE_MISS_PREFIX, key, key_len, WIRE_MISS_SUFFIX, out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_MISS;
}

static handler_outcome action_ping(guide_wing *g, const char *value, size_t value_len, struct evbuffer *out)
{
    (void)value;
    (void)value_len;
    if (send_result_json(g, LIT("\"pong\""), out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_PING;
}

static handler_outcome action_stats(guide_wing *g, const char *value, size_t value_len, struct evbuffer *out)
{
    proto_buf *b = &g->encoded;
    (void)value;
    (void)value_len;

    if (g->env.stats_json == NULL)
        return guide_answer_error(g, "stats are not available here", out);
    proto_buf_reset(b);
    if (g->env.stats_json(g->env.arg, b) != 0 || b->failed || send_result_json(g, b->data, b->len, out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_STATS;
}

/* msearch: {"result": [v1, null, ...]}, each vi the JSON text search
 * answers with for its key, null for a miss; every key looked up in the
 * one table g answers from. */
static handler_outcome action_msearch(guide_wing *g, const proto_request *req, struct evbuffer *out)
{
    json_t *keys = req->json ? json_object_get(req->json, "value") : NULL;
    proto_buf *b = &g->encoded;
    size_t i;
    json_t *key;

    if (req->value_state == PROTO_VALUE_MISSING)
        return guide_answer_error(g, "request lacks 'value'", out);
    if (!json_is_array(keys))
        return guide_answer_error(g, "'value' must be a list of strings", out);
    json_array_foreach(keys, i, key)
    {
        if (!json_is_string(key))
            return guide_answer_error(g, "'value' must be a list of strings", out);
    }
    proto_buf_reset(b);
    proto_buf_append(b, LIT("["));
    json_array_foreach(keys, i, key)
    {
        const char *enc;
        size_t enc_len;
        handler_outcome oc;
        if (i > 0)
            proto_buf_append(b, LIT(", "));
        if (handler_lookup(g->env.handler, json_string_value(key), json_string_length(key), &enc, &enc_len)) {
            COUNTER_ADD(g->env.counters->key_hits, 1);
            proto_buf_append(b, enc, enc_len);
        } else if (cluster_elsewhere(g, json_string_value(key), json_string_length(key), out, &oc)) {
            return oc; /* the whole request: a key of another node is no miss */
        } else {
            COUNTER_ADD(g->env.counters->key_misses, 1);
            proto_buf_append(b, LIT("null"));
        }
    }
    proto_buf_append(b, LIT("]"));
    if (b->failed || send_result_json(g, b->data, b->len, out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_MSEARCH;
}

/* The actions a text/json request may name. An action that needs a value
 * gets the request's "value", already checked to be a string; the others
 * ignore it, whatever it is. */
#define ACTION(name, fn, needs_value)                                                                                  \
    {                                                                                                                  \
        name, sizeof(name) - 1, fn, needs_value                                                                        \
    }
static const struct action {
    const char *name;
    size_t name_len;
    handler_outcome (*fn)(guide_wing *g, const char *value, size_t value_len, struct evbuffer *out);
    int needs_value;
} actions[] = {
    ACTION("search", action_search, 1),
    ACTION("ping", action_ping, 0),
    ACTION("stats", action_stats, 0),
};

/* ---- access control (docs/security.md): the auth action, and the
 * checks a connection with access control goes through ---- */

#define WRONGPASS "invalid username-password pair or user is disabled"

/* The user and password of an auth request: value is the password of
 * "default", or {"user": U, "password": P} ("user" may be left out).
 * Returns 0, or -1 with the error answered. */
static int auth_credentials(guide_wing *g, const proto_request *req, const char **user, size_t *ulen, const char **pass,
                            size_t *plen, struct evbuffer *out)
{
    json_t *v = req->json ? json_object_get(req->json, "value") : NULL;
    json_t *ju = json_object_get(v, "user"), *jp = json_object_get(v, "password");
    *user = "default";
    *ulen = 7;
    if (req->value_state == PROTO_VALUE_STRING) {
        *pass = req->value;
        *plen = req->value_len;
        return 0;
    }
    if (json_is_object(v) && json_is_string(jp) && (ju == NULL || json_is_string(ju))) {
        if (ju != NULL) {
            *user = json_string_value(ju);
            *ulen = json_string_length(ju);
        }
        *pass = json_string_value(jp);
        *plen = json_string_length(jp);
        return 0;
    }
    guide_answer_error(
        g,
        req->value_state == PROTO_VALUE_MISSING
            ? "request lacks 'value'"
            : "'value' must be the password, or an object with a \"password\" string and a \"user\" string",
        out);
    return -1;
}

/* auth: logs the connection in, as Redis's AUTH does. */
static handler_outcome action_auth(guide_wing *g, acl_session *auth, const proto_request *req, struct evbuffer *out)
{
    const char *user, *pass;
    size_t ulen, plen;
    if (auth_credentials(g, req, &user, &ulen, &pass, &plen, out) != 0)
        return OUTCOME_AUTH;
    acl_set *users = auth ? acl_session_users(auth) : acl_set_open();
    int named = req->value_state != PROTO_VALUE_STRING;
    if (!named && acl_default_nopass(users)) {
        guide_answer_error(g, "auth with a password alone, but the default user has no password", out);
        return OUTCOME_AUTH;
    }
    const acl_user *u = acl_authenticate(users, user, ulen, pass, plen);
    if (u == NULL) {
        COUNTER_ADD(g->env.counters->acl_denied_auth, 1);
        guide_answer_error(g, WRONGPASS, out);
        return OUTCOME_AUTH;
    }
    if (auth != NULL)
        acl_session_login(auth, u);
    if (send_result_json(g, LIT("\"ok\""), out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_AUTH;
}

/* The Redis command whose rules an action goes by. */
typedef struct action_kin {
    const char *action, *command;
    int keys; /* its value names keys */
} action_kin;

/* An action's kin, or NULL for none (an action that does not exist: its
 * own error follows). */
static const action_kin *action_command(const proto_request *req)
{
    static const action_kin kin[] = {
        {"search", "get", 1}, {"msearch", "mget", 1}, {"ping", "ping", 0}, {"stats", "info", 0}};
    for (size_t i = 0; i < sizeof(kin) / sizeof(kin[0]); i++)
        if (strlen(kin[i].action) == req->action_len && memcmp(kin[i].action, req->action, req->action_len) == 0)
            return &kin[i];
    return NULL;
}

/* Whether a key of the request is outside the user's patterns: search's
 * value, msearch's strings (what is not a string gets its own error). */
static int keys_denied(const acl_user *u, const proto_request *req)
{
    if (req->value_state == PROTO_VALUE_STRING)
        return !acl_check_read_key(u, req->value, req->value_len);
    json_t *keys = req->json ? json_object_get(req->json, "value") : NULL, *key;
    size_t i;
    json_array_foreach(keys, i, key)
    {
        if (json_is_string(key) && !acl_check_read_key(u, json_string_value(key), json_string_length(key)))
            return 1;
    }
    return 0;
}

/* processCommand's checks for the guide: logged in, then the user's
 * rules for the action's Redis kin, then its keys. Returns
 * OUTCOME_DENIED with the refusal answered, or OUTCOME_COUNT to go on. */
static handler_outcome gate(guide_wing *g, const acl_session *auth, const proto_request *req, struct evbuffer *out)
{
    const action_kin *kin = action_command(req);
    const char *why = NULL;
    if (!auth->authenticated) {
        why = "authentication required: send the auth action first";
    } else if (kin != NULL && !acl_user_may_run(auth->user, kin->command)) {
        COUNTER_ADD(g->env.counters->acl_denied_cmd, 1);
        if (send_result_text(g, "Error: this user has no permissions to run the '", req->action, req->action_len,
                             "' action.", out) != 0)
            return OUTCOME_NOMEM;
        return OUTCOME_DENIED;
    } else if (kin != NULL && kin->keys && keys_denied(auth->user, req)) {
        COUNTER_ADD(g->env.counters->acl_denied_key, 1);
        why = "this user has no permissions to access one of the keys used as arguments";
    }
    if (why == NULL)
        return OUTCOME_COUNT;
    return guide_answer_error(g, why, out) == OUTCOME_NOMEM ? OUTCOME_NOMEM : OUTCOME_DENIED;
}

static int is_auth(const proto_request *req)
{
    return req->action_len == 4 && memcmp(req->action, "auth", 4) == 0;
}

static handler_outcome dispatch(guide_wing *g, acl_session *auth, const proto_request *req, struct evbuffer *out)
{
    if (auth != NULL && __builtin_expect(auth->restricted, 0) && !is_auth(req)) {
        handler_outcome o = gate(g, auth, req, out);
        if (o != OUTCOME_COUNT)
            return o;
    }
    if (req->action_len == 7 && memcmp(req->action, "msearch", 7) == 0)
        return action_msearch(g, req, out); /* its value is a list */
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (actions[i].name_len != req->action_len || memcmp(actions[i].name, req->action, req->action_len) != 0)
            continue;
        if (!actions[i].needs_value)
            return actions[i].fn(g, NULL, 0, out);
        if (req->value_state == PROTO_VALUE_MISSING)
            return guide_answer_error(g, "request lacks 'value'", out);
        if (req->value_state == PROTO_VALUE_NOT_STRING)
            return guide_answer_error(g, "'value' must be a string", out);
        return actions[i].fn(g, req->value, req->value_len, out);
    }
    if (is_auth(req)) /* after the table: the lookups' path is not made longer */
        return action_auth(g, auth, req, out);
    if (send_result_text(g, "Error: invalid action '", req->action, req->action_len, "'.", out) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BAD_ACTION;
}

static handler_outcome answer_json(guide_wing *g, acl_session *auth, const proto_message *msg, struct evbuffer *out)
{
    proto_request req;
    handler_outcome o;

    int rc = g->env.handler->full_parser_only
                 ? proto_request_parse_full(msg->content, msg->content_len, msg->parse_memory, &req)
                 : proto_request_parse(msg->content, msg->content_len, msg->parse_memory, &req);
    if (rc != 0)
        o = guide_answer_error(g, req.errstr, out);
    else
        o = dispatch(g, auth, &req, out);
    proto_request_free(&req);
    return o;
}

static handler_outcome answer_binary(guide_wing *g, const proto_message *msg, struct evbuffer *out)
{
    static const char prefix[] = WIRE_BINARY_PREFIX;
    size_t n = msg->content_len < WIRE_BINARY_ECHOED ? msg->content_len : WIRE_BINARY_ECHOED;
    proto_buf *b = &g->scratch;

    proto_buf_reset(b);
    proto_encode_header(b, "binary/custom-server-binary-type", "binary", sizeof(prefix) - 1 + n);
    proto_buf_append(b, prefix, sizeof(prefix) - 1);
    proto_buf_append(b, msg->content, n);
    if (b->failed || evbuffer_add(out, b->data, b->len) != 0)
        return OUTCOME_NOMEM;
    return OUTCOME_BINARY;
}

handler_outcome guide_answer_as(guide_wing *g, acl_session *auth, const proto_message *msg, struct evbuffer *out)
{
    if (!msg->is_json) {
        /* a binary request names no key: it needs a login, nothing more */
        if (auth != NULL && !auth->authenticated)
            return guide_answer_error(g, "authentication required: send the auth action first", out) == OUTCOME_NOMEM
                       ? OUTCOME_NOMEM
                       : OUTCOME_DENIED;
        return answer_binary(g, msg, out);
    }
    return answer_json(g, auth, msg, out);
}

handler_outcome guide_answer(guide_wing *g, const proto_message *msg, struct evbuffer *out)
{
    return guide_answer_as(g, NULL, msg, out);
}
