/*
 * acl_command.c: the ACL subcommands a read-only server answers, as
 * Redis's aclCommand answers them: WHOAMI, USERS, LIST (passwords hashed)
 * and CAT. The users come from the ACL file or --requirepass (acl.h);
 * SETUSER, DELUSER, LOAD, SAVE and the rest change or write them, which
 * evkv does not (a reload reads the file again).
 */
#include <ctype.h>

#include "acl.h"
#include "command.h"

int cmd_acl_whoami(resp_exec *x, const resp_args *a)
{
    size_t len;
    const char *name = acl_user_name(acl_session_user(&x->c->auth), &len);
    (void)a;
    return resp_encode_bulk(x->out, name, len);
}

int cmd_acl_users(resp_exec *x, const resp_args *a)
{
    (void)a;
    return acl_reply_users(acl_session_users(&x->c->auth), x->out);
}

int cmd_acl_list(resp_exec *x, const resp_args *a)
{
    (void)a;
    return acl_reply_list(acl_session_users(&x->c->auth), x->out);
}

int cmd_acl_cat(resp_exec *x, const resp_args *a)
{
    if (a->argc == 2)
        return acl_reply_categories(x->out);
    if (a->argc > 3) {
        /* addReplySubcommandSyntaxError: the subcommand as typed, the command in capitals */
        char upper[NAME_MAX_LEN + 1];
        size_t n0 = cstr_len(a->argv[0], a->len[0]), n1 = cstr_len(a->argv[1], a->len[1]), i;
        for (i = 0; i < n0 && i < NAME_MAX_LEN; i++)
            upper[i] = (char)toupper((unsigned char)a->argv[0][i]);
        upper[i] = '\0';
        return reply_error(x, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                           (int)(n1 < 128 ? n1 : 128), a->argv[1], upper);
    }
    int rc = acl_reply_category(a->argv[2], cstr_len(a->argv[2], a->len[2]), x->out);
    if (rc > 0) {
        size_t n = cstr_len(a->argv[2], a->len[2]);
        return reply_error(x, "Unknown category '%.*s'", (int)(n < 128 ? n : 128), a->argv[2]);
    }
    return rc;
}
