/*
 * handler.c: the outcomes' names (see handler.h).
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
