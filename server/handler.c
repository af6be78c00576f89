/*
 * handler.c: what every protocol's answers are made of (see handler.h).
 */
#include "handler.h"

static const char *const outcome_names[OUTCOME_COUNT] = {
    "hit",       "miss",  "ping",    "stats",   "binary",        "bad-action",     "bad-request",
    "bad-frame", "nomem", "msearch", "command", "command-error", "protocol-error",
};

const char *handler_outcome_name(handler_outcome o)
{
    return o < OUTCOME_COUNT ? outcome_names[o] : "?";
}

void handler_ctx_free(handler_ctx *h)
{
    proto_buf_free(&h->scratch);
    proto_buf_free(&h->text);
    proto_buf_free(&h->encoded);
}

void handler_ctx_trim(handler_ctx *h)
{
    proto_buf *bufs[] = {&h->scratch, &h->text, &h->encoded};

    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        if (bufs[i]->cap > HANDLER_BUF_KEEP)
            proto_buf_free(bufs[i]);
}

int handler_stats(handler_ctx *h, proto_buf *out)
{
    proto_buf_reset(out);
    if (h->stats == NULL || h->stats(h->stats_arg, out) != 0 || out->failed)
        return -1;
    return 0;
}
