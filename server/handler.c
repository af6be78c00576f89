/*
 * handler.c: the outcomes' names and protected mode's test (see
 * handler.h).
 */
#include "handler.h"

#include <netinet/in.h>
#include <string.h>

#include "acl.h"

static const char *const outcome_names[OUTCOME_COUNT] = {
    "hit",   "miss",    "ping",    "stats",         "binary",         "bad-action", "bad-request", "bad-frame",
    "nomem", "msearch", "command", "command-error", "protocol-error", "auth",       "denied",
};

const char *handler_outcome_name(handler_outcome o)
{
    return o < OUTCOME_COUNT ? outcome_names[o] : "?";
}

int handler_peer_is_loopback(const struct sockaddr *peer)
{
    static const unsigned char ip6_loopback[16] = {[15] = 1};
    if (peer == NULL || peer->sa_family == AF_UNIX)
        return 1;
    if (peer->sa_family == AF_INET)
        return ((const struct sockaddr_in *)peer)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (peer->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)peer)->sin6_addr, ip6_loopback, 16) == 0;
    return 0;
}

int handler_protected_refuses(const protocol_env *env, const struct sockaddr *peer)
{
    const struct acl_set *acl = env->handler->acl;
    return env->protected_mode && acl != NULL && acl_default_nopass(acl) && !handler_peer_is_loopback(peer);
}
