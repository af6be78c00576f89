/*
 * stats.h: the stats action's answer and INFO's figures, read from every
 * worker's counters (stats.c).
 */
#ifndef EVKV_STATS_H
#define EVKV_STATS_H

#include "proto.h"
#include "resp_commands.h"
#include "worker.h"

/* Both are handed to the protocols through protocol_env (server_init sets
 * them in the server, each worker passes them on), so that no wing calls
 * into this file. */

/* Writes the stats action's JSON object (docs/operations.md) for the server w
 * is part of. Returns 0 or -1. */
int server_stats_json(void *w, proto_buf *out);
/* Fills info for a Redis client's INFO from the server w (a worker) is
 * part of: protocol_env's (and resp_env's) server_info. */
void stats_resp_info(void *w, resp_server_info *info);

#endif
