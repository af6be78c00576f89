/*
 * auth.h: logging in to a server with access control (docs/security.md),
 * for evkv-cli and evkv-bench: which user and password (--user, -a/--pass,
 * a URI's USER:PASSWORD@, the EVKV_AUTH environment variable), and the
 * request that logs in, in the guide's protocol or in RESP.
 */
#ifndef EVKV_AUTH_H
#define EVKV_AUTH_H

#include "proto.h"
#include "uri.h"

typedef struct evkv_auth {
    const char *user;     /* NULL: none named ("default") */
    const char *password; /* NULL: do not log in */
} evkv_auth;

/* Picks the credentials: the options' (user_opt, pass_opt, NULL when not
 * given), else the URI's (uri may be NULL), else EVKV_AUTH for the
 * password, as redis-cli takes REDISCLI_AUTH. The strings are borrowed:
 * they stay valid while the options, uri and the environment do. */
void evkv_auth_pick(evkv_auth *a, const char *user_opt, const char *pass_opt, const evkv_uri *uri);

/* Appends the guide's auth request: {"action": "auth", "value": P} for
 * no user, else "value": {"user": U, "password": P}. Returns 0 or -1. */
int evkv_auth_request(proto_buf *b, const evkv_auth *a);
/* Appends RESP's AUTH [U] P. Returns 0 or -1. */
int evkv_auth_request_resp(proto_buf *b, const evkv_auth *a);

struct evkv_client;
/* Logs c in with a's credentials (nothing when a->password is NULL), in
 * the guide's protocol, within c's deadline. Returns 0, or -1 with c->err:
 * the server's refusal ("auth refused: invalid username-password pair or
 * user is disabled"), or why the exchange failed. */
int evkv_client_auth(struct evkv_client *c, const evkv_auth *a);

#endif
