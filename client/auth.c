/*
 * auth.c: the credentials and the requests that log in (see auth.h).
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evkv_client.h"
#include "json_write.h"

void evkv_auth_pick(evkv_auth *a, const char *user_opt, const char *pass_opt, const evkv_uri *uri)
{
    a->user = user_opt;
    a->password = pass_opt;
    if (a->user == NULL && uri != NULL && uri->user[0] != '\0')
        a->user = uri->user;
    if (a->password == NULL && uri != NULL && uri->has_password)
        a->password = uri->password;
    if (a->password == NULL)
        a->password = getenv("EVKV_AUTH");
}

int evkv_auth_request(proto_buf *b, const evkv_auth *a)
{
    proto_buf content = {0};
    static const char head[] = "{\"action\": \"auth\", \"value\": ";
    proto_buf_append(&content, head, sizeof(head) - 1);
    if (a->user != NULL) {
        proto_buf_append(&content, "{\"user\": ", 9);
        proto_dump_string(&content, a->user, strlen(a->user));
        proto_buf_append(&content, ", \"password\": ", 14);
    }
    proto_dump_string(&content, a->password, strlen(a->password));
    proto_buf_append(&content, a->user != NULL ? "}}" : "}", a->user != NULL ? 2 : 1);
    int rc = content.failed ? -1 : proto_encode_message(b, "text/json", "utf-8", content.data, content.len);
    proto_buf_free(&content);
    return rc;
}

static void bulk(proto_buf *b, const char *s)
{
    char head[32];
    size_t n = strlen(s);
    proto_buf_append(b, head, (size_t)snprintf(head, sizeof(head), "$%zu\r\n", n));
    proto_buf_append(b, s, n);
    proto_buf_append(b, "\r\n", 2);
}

int evkv_auth_request_resp(proto_buf *b, const evkv_auth *a)
{
    proto_buf_append(b, a->user != NULL ? "*3\r\n" : "*2\r\n", 4);
    bulk(b, "AUTH");
    if (a->user != NULL)
        bulk(b, a->user);
    bulk(b, a->password);
    return b->failed ? -1 : 0;
}

int evkv_client_auth(evkv_client *c, const evkv_auth *a)
{
    proto_buf req = {0};
    proto_message msg;
    json_t *result = NULL;
    int rc = -1;

    if (a->password == NULL)
        return 0;
    if (evkv_auth_request(&req, a) != 0) {
        snprintf(c->err, sizeof(c->err), "out of memory");
        goto done;
    }
    if (evkv_client_exchange(c, req.data, req.len, &msg) != 0)
        goto done;
    evkv_answer_classify(&msg, "", 0, &result);
    if (json_is_string(result) && strcmp(json_string_value(result), "ok") == 0) {
        rc = 0;
    } else {
        const char *why = json_is_string(result) ? json_string_value(result) : "not an answer to auth";
        if (strncmp(why, "Error: ", 7) == 0)
            why += 7;
        snprintf(c->err, sizeof(c->err), "auth refused: %s", why);
        c->gone = 0;
    }
done:
    json_decref(result);
    proto_buf_free(&req);
    return rc;
}
