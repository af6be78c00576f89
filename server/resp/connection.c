/*
 * connection.c: the commands about the connection itself, as Redis's
 * networking.c and server.c answer them: PING, ECHO, SELECT, QUIT, AUTH,
 * CLIENT ID/GETNAME/SETNAME and HELLO (RESP2 only). AUTH and HELLO AUTH
 * check a user's password against the users of acl.h; the ACL command
 * shows them (acl_command.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "command.h"

int cmd_ping(resp_exec *x, const resp_args *a)
{
    if (a->argc > 2)
        return reply_error(x, "wrong number of arguments for 'ping' command");
    if (a->argc == 1)
        return resp_encode_simple(x->out, "PONG", 4);
    return resp_encode_bulk(x->out, a->argv[1], a->len[1]);
}

int cmd_echo(resp_exec *x, const resp_args *a)
{
    return resp_encode_bulk(x->out, a->argv[1], a->len[1]);
}

int cmd_select(resp_exec *x, const resp_args *a)
{
    long long id;
    if (!resp_string2ll(a->argv[1], a->len[1], &id))
        return reply_not_integer(x);
    if (id < INT_MIN || id > INT_MAX)
        return reply_error(x, "value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
    if (id != 0 && x->env->cluster)
        return reply_error(x, "SELECT is not allowed in cluster mode");
    if (id != 0)
        return reply_error(x, "DB index is out of range");
    return reply_ok(x);
}

int cmd_quit(resp_exec *x, const resp_args *a)
{
    (void)a;
    x->res->close = 1;
    return reply_ok(x);
}

/* ACLAuthenticateUser: logs the client in as user a[u] with password
 * a[u + 1] (user NULL: "default"). Returns 1 when logged in, 0 when
 * refused (counted as Redis 7.2 counts acl_access_denied_auth). */
static int authenticate(resp_exec *x, const char *user, size_t ulen, const char *pass, size_t plen)
{
    const acl_user *u = acl_authenticate(acl_session_users(&x->c->auth), user, ulen, pass, plen);
    if (u == NULL) {
        x->res->acl = RESP_ACL_DENIED_AUTH;
        return 0;
    }
    acl_session_login(&x->c->auth, u);
    x->res->acl = RESP_ACL_LOGIN;
    return 1;
}

#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled."

int cmd_auth(resp_exec *x, const resp_args *a)
{
    if (a->argc > 3)
        return reply_syntax_error(x);
    if (a->argc == 2 && acl_default_nopass(acl_session_users(&x->c->auth)))
        return reply_error(x, "AUTH <password> called without any password configured for the default "
                              "user. Are you sure your configuration is correct?");
    int ok = a->argc == 2 ? authenticate(x, "default", 7, a->argv[1], a->len[1])
                          : authenticate(x, a->argv[1], a->len[1], a->argv[2], a->len[2]);
    return ok ? reply_ok(x) : reply_error(x, WRONGPASS);
}

/* networking.c's clientSetNameOrReply: "" removes the name. Returns 0 when
 * the name is set, 1 when it is refused (the error is replied), -1 when out
 * of memory. */
static int set_name(resp_exec *x, const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '!' || name[i] > '~')
            return reply_error(x, "Client names cannot contain spaces, newlines or special characters.") == 0 ? 1 : -1;
    }
    char *copy = NULL;
    if (len > 0) {
        copy = malloc(len + 1);
        if (copy == NULL)
            return -1;
        memcpy(copy, name, len);
        copy[len] = '\0';
    }
    free(x->c->name);
    x->c->name = copy;
    return 0;
}

int cmd_client_setname(resp_exec *x, const resp_args *a)
{
    int rc = set_name(x, a->argv[2], a->len[2]);
    return rc != 0 ? (rc > 0 ? 0 : -1) : reply_ok(x);
}

int cmd_client_getname(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (x->c->name == NULL)
        return resp_encode_null_bulk(x->out);
    return reply_str_bulk(x, x->c->name);
}

int cmd_client_id(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_integer(x->out, x->c->id);
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]], RESP2 only. */
int cmd_hello(resp_exec *x, const resp_args *a)
{
    size_t next = 1;
    if (a->argc >= 2) {
        long long ver;
        if (!resp_string2ll(a->argv[1], a->len[1], &ver))
            return reply_error(x, "Protocol version is not an integer or out of range");
        /* Redis takes 2 and 3; evkv speaks RESP2 only and answers 3 as
         * Redis answers a version it does not know. */
        if (ver != 2)
            return reply_error(x, "-NOPROTO unsupported protocol version");
        next = 2;
    }
    for (size_t j = next; j < a->argc; j++) {
        size_t more = a->argc - 1 - j;
        if (arg_is(a, j, "auth") && more >= 2) {
            if (!authenticate(x, a->argv[j + 1], a->len[j + 1], a->argv[j + 2], a->len[j + 2]))
                return reply_error(x, WRONGPASS);
            j += 2;
        } else if (arg_is(a, j, "setname") && more) {
            int rc = set_name(x, a->argv[j + 1], a->len[j + 1]);
            if (rc != 0)
                return rc > 0 ? 0 : -1;
            j++;
        } else {
            return reply_error(x, "Syntax error in HELLO option '%.*s'", (int)cstr_len(a->argv[j], a->len[j]),
                               a->argv[j]);
        }
    }
    if (!x->c->auth.authenticated)
        return reply_error(x, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                              "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
                              "the RESP protocol version at the same time");
    int rc = resp_encode_array(x->out, 14);
    rc |= reply_str_bulk(x, "server") | reply_str_bulk(x, "redis");
    rc |= reply_str_bulk(x, "version") | reply_str_bulk(x, REDIS_VERSION);
    rc |= reply_str_bulk(x, "proto") | resp_encode_integer(x->out, 2);
    rc |= reply_str_bulk(x, "id") | resp_encode_integer(x->out, x->c->id);
    rc |= reply_str_bulk(x, "mode") | reply_str_bulk(x, "standalone");
    rc |= reply_str_bulk(x, "role") | reply_str_bulk(x, "replica");
    rc |= reply_str_bulk(x, "modules") | resp_encode_array(x->out, 0);
    return rc ? -1 : 0;
}
