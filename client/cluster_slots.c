/*
 * cluster_slots.c: CLUSTER SLOTS read and parsed, -MOVED parsed
 * (cluster_slots.h). The reply is read whole (resp_reply_span says when),
 * then walked with resp_reply_read: a slot range is [start, end, master,
 * replicas...], a node [ip, port, id, metadata...]; what follows the
 * fields taken (ids, Redis 7's metadata) is skipped whatever it holds.
 */
#include "cluster_slots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "resp_reply.h"

#define NOT_A_MAP "CLUSTER SLOTS answered something else than a slot map"

/* Sends CLUSTER SLOTS to sa and reads the whole reply into *buf
 * (malloc'd, *len bytes). Returns 0, or -1 with err. */
static int slots_request(const struct sockaddr *sa, socklen_t salen, const char *where, int timeout_ms, char **buf,
                         size_t *len, char *err, size_t errlen)
{
    static const char req[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    char errstr[RESP_REPLY_ERRSTR_LEN];
    size_t cap = 0, n = 0;
    char *p = NULL;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 || connect(fd, sa, salen) != 0 ||
        send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
        snprintf(err, errlen, "cannot ask %s for CLUSTER SLOTS: %s", where,
                 errno == EAGAIN ? "timed out" : strerror(errno));
        goto fail;
    }
    for (;;) {
        long span = resp_reply_span(p ? p : "", n, errstr);
        if (span > 0)
            break;
        if (span < 0) {
            snprintf(err, errlen, "%s: bad reply to CLUSTER SLOTS: %s", where, errstr);
            goto fail;
        }
        if (n == cap) {
            char *q = realloc(p, cap = cap ? 2 * cap : 65536);
            if (q == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            p = q;
        }
        ssize_t got = recv(fd, p + n, cap - n, 0);
        if (got <= 0) {
            snprintf(err, errlen, "%s: no whole reply to CLUSTER SLOTS: %s", where,
                     got == 0          ? "connection closed"
                     : errno == EAGAIN ? "timed out"
                                       : strerror(errno));
            goto fail;
        }
        n += (size_t)got;
    }
    close(fd);
    *buf = p;
    *len = n;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(p);
    return -1;
}

int cluster_slots_find(const cluster_slots *m, const char *name)
{
    for (int i = 0; i < m->nnodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0)
            return i;
    return -1;
}

int cluster_slots_add(cluster_slots *m, const char *ip, size_t iplen, long long port, char *err, size_t errlen)
{
    char name[sizeof(m->nodes[0].name)];

    if (iplen == 0 || iplen >= sizeof(m->nodes[0].ip) || memchr(ip, '\0', iplen) || port < 1 || port > 65535) {
        snprintf(err, errlen, "the cluster names a node with a bad address: '%.*s' port %lld",
                 (int)(iplen > 64 ? 64 : iplen), ip, port);
        return -1;
    }
    snprintf(name, sizeof(name), "%.*s:%lld", (int)iplen, ip, port);
    int i = cluster_slots_find(m, name);
    if (i >= 0)
        return i;
    if (m->nnodes == CLUSTER_SLOTS_MAX_NODES) {
        snprintf(err, errlen, "more than %d masters", CLUSTER_SLOTS_MAX_NODES);
        return -1;
    }
    cluster_slots_node *nd = &m->nodes[m->nnodes];
    memcpy(nd->ip, ip, iplen);
    nd->ip[iplen] = '\0';
    snprintf(nd->port, sizeof(nd->port), "%lld", port);
    memcpy(nd->name, name, strlen(name) + 1);
    nd->master = -1;
    return m->nnodes++;
}

/* Reads one element of p[0..n) at *at, of type want. Returns 0, or -1. */
static int slots_read(const char *p, size_t n, size_t *at, resp_reply_type want, resp_reply *r)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];
    long len = resp_reply_read(p + *at, n - *at, r, NULL, errstr);

    if (len <= 0 || r->type != want)
        return -1;
    *at += (size_t)len;
    return 0;
}

/* Skips count elements of p[0..n) from *at. Returns 0, or -1. */
static int slots_skip(const char *p, size_t n, size_t *at, long long count)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];

    for (long long i = 0; i < count; i++) {
        long len = resp_reply_span(p + *at, n - *at, errstr);
        if (len <= 0)
            return -1;
        *at += (size_t)len;
    }
    return 0;
}

/* One node of a slot range at *at: [ip, port, id, metadata...]. Returns
 * its index in m (added if new), or -1 with err. */
static int slots_node(cluster_slots *m, const char *p, size_t n, size_t *at, char *err, size_t errlen)
{
    resp_reply node, ip, port;

    if (slots_read(p, n, at, RESP_REPLY_ARRAY, &node) != 0 || node.num < 2 ||
        slots_read(p, n, at, RESP_REPLY_BULK, &ip) != 0 || slots_read(p, n, at, RESP_REPLY_INTEGER, &port) != 0 ||
        slots_skip(p, n, at, node.num - 2) != 0) {
        snprintf(err, errlen, NOT_A_MAP);
        return -1;
    }
    return cluster_slots_add(m, ip.str, ip.len, port.num, err, errlen);
}

/* One slot range at *at: [start, end, master, replicas...]. */
static int slots_range(cluster_slots *m, const char *p, size_t n, size_t *at, char *err, size_t errlen)
{
    resp_reply range, start, end;

    if (slots_read(p, n, at, RESP_REPLY_ARRAY, &range) != 0 || range.num < 3 ||
        slots_read(p, n, at, RESP_REPLY_INTEGER, &start) != 0 || slots_read(p, n, at, RESP_REPLY_INTEGER, &end) != 0) {
        snprintf(err, errlen, NOT_A_MAP);
        return -1;
    }
    if (start.num < 0 || end.num < start.num || end.num >= KEYSLOT_COUNT) {
        snprintf(err, errlen, "CLUSTER SLOTS names slots %lld-%lld", start.num, end.num);
        return -1;
    }
    int master = slots_node(m, p, n, at, err, errlen);
    if (master < 0)
        return -1;
    memset(m->owner + start.num, master, (size_t)(end.num - start.num + 1));
    for (long long i = 3; i < range.num; i++) {
        int replica = slots_node(m, p, n, at, err, errlen);
        if (replica < 0)
            return -1;
        if (replica != master)
            m->nodes[replica].master = master;
    }
    return 0;
}

int cluster_slots_parse(cluster_slots *m, const char *p, size_t n, char *err, size_t errlen)
{
    resp_reply top;
    char errstr[RESP_REPLY_ERRSTR_LEN];
    long len = resp_reply_read(p, n, &top, NULL, errstr);
    size_t at = len > 0 ? (size_t)len : 0;

    m->nnodes = 0;
    memset(m->owner, CLUSTER_SLOTS_NONE, sizeof(m->owner));
    if (len > 0 && top.type == RESP_REPLY_ERROR) {
        snprintf(err, errlen, "CLUSTER SLOTS: %.*s", (int)(top.len > 200 ? 200 : top.len), top.str);
        return -1;
    }
    if (len <= 0 || top.type != RESP_REPLY_ARRAY) {
        snprintf(err, errlen, NOT_A_MAP);
        return -1;
    }
    for (long long i = 0; i < top.num; i++)
        if (slots_range(m, p, n, &at, err, errlen) != 0)
            return -1;
    if (m->nnodes == 0) {
        snprintf(err, errlen, "CLUSTER SLOTS names no slot: the cluster serves nothing");
        return -1;
    }
    return 0;
}

int cluster_slots_fetch(const struct sockaddr *sa, socklen_t salen, const char *where, int timeout_ms, cluster_slots *m,
                        char *err, size_t errlen)
{
    char *reply = NULL;
    size_t n = 0;

    if (slots_request(sa, salen, where, timeout_ms, &reply, &n, err, errlen) != 0)
        return -1;
    int rc = cluster_slots_parse(m, reply, n, err, errlen);
    free(reply);
    return rc;
}

int cluster_slots_moved(const char *text, size_t len, unsigned *slot, char *name, size_t namelen)
{
    char *end;
    char buf[128];

    if (len < 7 || memcmp(text, "MOVED ", 6) != 0)
        return -1;
    len = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    long s = strtol(buf + 6, &end, 10);
    if (end == buf + 6 || *end != ' ' || s < 0 || s >= KEYSLOT_COUNT)
        return -1;
    /* The address ends at a space, or at the ':' before one (the guide's
     * "...: 'k' is another node's.") */
    char *addr = end + 1, *stop = strchr(addr, ' ');
    size_t alen = stop ? (size_t)(stop - addr) : strlen(addr);
    if (alen > 0 && stop && addr[alen - 1] == ':')
        alen--;
    if (alen == 0 || alen >= namelen)
        return -1;
    memcpy(name, addr, alen);
    name[alen] = '\0';
    *slot = (unsigned)s;
    return 0;
}
