/*
 * multi.c: Redis's transactions (multi.c): MULTI queues copies of the
 * requests that follow (dispatch.c decides what is queued), EXEC runs
 * them (each checked against its user's rules again first, as Redis
 * does), DISCARD and RESET drop them. WATCH never fails an EXEC: the table
 * does not change under a connection.
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "command.h"

static void queue_clear(resp_client *c)
{
    for (size_t i = 0; i < c->nqueued; i++) {
        for (size_t j = 0; j < c->queue[i].argc; j++)
            free(c->queue[i].argv[j]);
        free(c->queue[i].argv);
        free(c->queue[i].argv_len);
    }
    free(c->queue);
    c->queue = NULL;
    c->nqueued = c->queue_cap = 0;
}

void resp_multi_discard(resp_client *c)
{
    queue_clear(c);
    c->queued_bytes = 0;
    c->in_multi = 0;
    c->multi_dirty = 0;
}

/* What queuing a costs: its bytes, and the allocations that hold them. */
size_t resp_multi_cost(const resp_args *a)
{
    size_t n = sizeof(resp_queued) + 2 * a->argc * sizeof(void *);
    for (size_t i = 0; i < a->argc; i++)
        n += a->len[i] + 1 + 2 * sizeof(void *);
    return n;
}

int resp_multi_queue(resp_client *c, const resp_args *a)
{
    if (c->nqueued == c->queue_cap) {
        size_t cap = c->queue_cap ? 2 * c->queue_cap : 4;
        resp_queued *q = realloc(c->queue, cap * sizeof(*q));
        if (q == NULL)
            return -1;
        c->queue = q;
        c->queue_cap = cap;
    }
    resp_queued *q = &c->queue[c->nqueued];
    q->argc = 0;
    q->argv = calloc(a->argc, sizeof(*q->argv));
    q->argv_len = calloc(a->argc, sizeof(*q->argv_len));
    if (q->argv == NULL || q->argv_len == NULL)
        goto fail;
    for (size_t i = 0; i < a->argc; i++) {
        q->argv[i] = malloc(a->len[i] + 1);
        if (q->argv[i] == NULL)
            goto fail;
        memcpy(q->argv[i], a->argv[i], a->len[i]);
        q->argv[i][a->len[i]] = '\0';
        q->argv_len[i] = a->len[i];
        q->argc++;
    }
    c->nqueued++;
    c->queued_bytes += resp_multi_cost(a);
    return 0;
fail:
    for (size_t i = 0; i < q->argc; i++)
        free(q->argv[i]);
    free(q->argv);
    free(q->argv_len);
    return -1;
}

int cmd_multi(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (x->c->in_multi)
        return reply_error(x, "MULTI calls can not be nested");
    x->c->in_multi = 1;
    return reply_ok(x);
}

int cmd_discard(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (!x->c->in_multi)
        return reply_error(x, "DISCARD without MULTI");
    resp_multi_discard(x->c);
    return reply_ok(x);
}

/* execCommand checks each queued command against its user's rules again,
 * which a reload may have changed since MULTI: a refused one gets Redis's
 * reply in its place, the others run. Returns 1 when refused (-1 when out
 * of memory), 0 when it may run. */
static int exec_refuses(resp_exec *x, const resp_command_spec *spec, const resp_args *a)
{
    size_t keypos = 0;
    if (!x->c->auth.restricted)
        return 0;
    int r = acl_check_command(acl_session_user(&x->c->auth), spec, a->argc, a->argv, a->len, &keypos);
    if (r == ACL_OK)
        return 0;
    x->res->acl = RESP_ACL_EXEC_DENIED; /* each counted, as Redis 7.2's addACLLogEntry counts them */
    if (r == ACL_DENIED_CMD)
        x->res->exec_denied_cmd++;
    else
        x->res->exec_denied_key++;
    return reply_error(x,
                       "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                       "call. This command is no longer allowed for the following reason: %s",
                       r == ACL_DENIED_CMD ? "no permission to execute the command or subcommand"
                                           : "no permission to touch the specified keys") == 0
               ? 1
               : -1;
}

int cmd_exec(resp_exec *x, const resp_args *a)
{
    (void)a;
    resp_client *c = x->c;
    if (!c->in_multi)
        return reply_error(x, "EXEC without MULTI");
    if (c->multi_dirty) {
        resp_multi_discard(c);
        return reply_error(x, "-EXECABORT Transaction discarded because of previous errors.");
    }
    /* The queue is taken out first: a queued MULTI or EXEC would not be
     * queued (they run at once), so none can touch it while it runs. */
    resp_queued *queue = c->queue;
    size_t n = c->nqueued;
    c->queue = NULL;
    c->nqueued = c->queue_cap = 0;
    c->in_multi = 0;
    int rc = resp_encode_array(x->out, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        resp_args qa = {queue[i].argc, (const char *const *)queue[i].argv, queue[i].argv_len};
        const resp_command_spec *spec = resp_command_find(&qa);
        int refused = exec_refuses(x, spec, &qa);
        rc = refused < 0 ? -1 : refused ? 0 : resp_command_run(x, spec, &qa);
    }
    c->queue = queue;
    c->nqueued = c->queue_cap = n;
    resp_multi_discard(c);
    return rc;
}

int cmd_watch(resp_exec *x, const resp_args *a)
{
    (void)a;
    /* The table never changes: a watched key is never touched. */
    if (x->c->in_multi)
        return reply_error(x, "WATCH inside MULTI is not allowed");
    return reply_ok(x);
}

/* RESET: out of MULTI, no name (the rest of what Redis resets has one
 * value only here). */
int cmd_reset(resp_exec *x, const resp_args *a)
{
    (void)a;
    resp_multi_discard(x->c);
    free(x->c->name);
    x->c->name = NULL;
    x->c->cluster_readonly = 0;
    /* clientSetDefaultAuth: back to "default", logged in if it needs no password */
    acl_session_reset(&x->c->auth);
    x->res->acl = RESP_ACL_LOGIN;
    return resp_encode_simple(x->out, "RESET", 5);
}

int cmd_unwatch(resp_exec *x, const resp_args *a)
{
    (void)a;
    return reply_ok(x);
}
