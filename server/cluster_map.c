/*
 * cluster_map.c: a Redis Cluster map from a CLUSTER NODES file (see
 * cluster_map.h).
 */
#include "cluster_map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most nodes a map holds (owner[] keeps an index in 16 bits). */
#define MAX_NODES 10000
/* The most words on a line: a node's 8, then every slot alone, and some
 * migrating ones. */
#define MAX_WORDS (8 + KEYSLOT_COUNT + 64)

/* A map being read: the map, and each node's master id as written
 * (resolved once every line is read). */
typedef struct map_reader {
    cluster_map *m;
    char (*master_ids)[CLUSTER_ID_LEN + 1]; /* "" for "-" */
    size_t cap;
    char **words; /* a line's, MAX_WORDS of them */
    const char *path;
    int line;
    char *err;
    size_t errlen;
} map_reader;

__attribute__((format(printf, 2, 3))) static int fail(map_reader *r, const char *fmt, ...)
{
    va_list ap;
    int n = r->line > 0 ? snprintf(r->err, r->errlen, "%s:%d: ", r->path, r->line)
                        : snprintf(r->err, r->errlen, "%s: ", r->path);
    if (n < 0 || (size_t)n >= r->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

void cluster_map_free(cluster_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nnodes; i++) {
        free(m->nodes[i].ip);
        free(m->nodes[i].hostname);
    }
    free(m->nodes);
    free(m->path);
    free(m);
}

static int is_node_id(const char *s)
{
    return strlen(s) == CLUSTER_ID_LEN && strspn(s, "0123456789abcdefABCDEF") == CLUSTER_ID_LEN;
}

/* A whole number from min to max, all of s. Returns 0 or -1. */
static int parse_number(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

/* "ip:port@cport[,hostname]" into n. Returns 0, or -1 with the reason. */
static int parse_address(map_reader *r, cluster_node *n, char *addr)
{
    char *comma = strchr(addr, ','), *at, *colon;
    unsigned char buf[sizeof(struct in6_addr)];
    long long port, cport;

    if (comma) {
        *comma = '\0';
        if ((n->hostname = strdup(comma + 1)) == NULL)
            return fail(r, "out of memory");
    }
    at = strchr(addr, '@');
    colon = NULL; /* the last ':' before the '@': an IPv6 address holds some */
    for (char *p = addr; at && p < at; p++)
        if (*p == ':')
            colon = p;
    if (at == NULL || colon == NULL)
        return fail(r, "node %s: address '%s' is not ip:port@cport", n->id, addr);
    *at = *colon = '\0';
    if (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)
        return fail(r, "node %s: '%s' is not an IP address", n->id, addr);
    if (parse_number(colon + 1, 1, 65535, &port) != 0 || parse_number(at + 1, 0, 65535, &cport) != 0)
        return fail(r, "node %s: ports '%s@%s' are not from 1 to 65535", n->id, colon + 1, at + 1);
    n->port = (int)port;
    n->cport = (int)cport;
    if ((n->ip = strdup(addr)) == NULL)
        return fail(r, "out of memory");
    return 0;
}

/* The flags' words into n. Returns 0, or -1 with the reason. */
static int parse_flags(map_reader *r, cluster_node *n, char *flags)
{
    static const char *const ignored[] = {"myself", "fail?", "fail", "handshake", "noaddr", "noflags", "meet"};
    char *save = NULL;

    for (char *f = strtok_r(flags, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        if (strcmp(f, "master") == 0)
            n->flags |= CLUSTER_FLAG_MASTER;
        else if (strcmp(f, "slave") == 0)
            n->flags |= CLUSTER_FLAG_SLAVE;
        else if (strcmp(f, "nofailover") == 0)
            n->flags |= CLUSTER_FLAG_NOFAILOVER;
        else {
            while (i < sizeof(ignored) / sizeof(ignored[0]) && strcmp(f, ignored[i]) != 0)
                i++;
            if (i == sizeof(ignored) / sizeof(ignored[0]))
                return fail(r, "node %s: unknown flag '%s'", n->id, f);
        }
    }
    if ((n->flags & (CLUSTER_FLAG_MASTER | CLUSTER_FLAG_SLAVE)) == 0 ||
        (n->flags & (CLUSTER_FLAG_MASTER | CLUSTER_FLAG_SLAVE)) == (CLUSTER_FLAG_MASTER | CLUSTER_FLAG_SLAVE))
        return fail(r, "node %s: its flags must say master or slave", n->id);
    return 0;
}

/* One slot word ("5", "0-5460") of node index. Migrating and importing
 * slots ("[5->-id]", "[5-<-id]") are skipped. Returns 0, or -1. */
static int parse_slots(map_reader *r, size_t index, char *word)
{
    cluster_map *m = r->m;
    cluster_node *n = &m->nodes[index];
    char *dash = strchr(word, '-');
    long long from, to;

    if (word[0] == '[')
        return 0;
    if (dash)
        *dash = '\0';
    if (parse_number(word, 0, KEYSLOT_COUNT - 1, &from) != 0 ||
        (dash ? parse_number(dash + 1, 0, KEYSLOT_COUNT - 1, &to) : (to = from, 0)) != 0 || to < from)
        return fail(r, "node %s: '%s%s%s' is not a slot or range of slots from 0 to %d", n->id, word, dash ? "-" : "",
                    dash ? dash + 1 : "", KEYSLOT_COUNT - 1);
    if (n->flags & CLUSTER_FLAG_SLAVE)
        return fail(r, "node %s is a replica: it owns no slots", n->id);
    for (long long s = from; s <= to; s++) {
        if (m->owner[s] != 0)
            return fail(r, "slot %lld is owned by both %s and %s", s, m->nodes[m->owner[s] - 1].id, n->id);
        m->owner[s] = (uint16_t)(index + 1);
        n->nslots++;
        m->slots_owned++;
    }
    return 0;
}

/* Room for one more node. Returns its index, or -1 with the reason. */
static long add_node(map_reader *r)
{
    cluster_map *m = r->m;
    if (m->nnodes == MAX_NODES)
        return fail(r, "more than %d nodes", MAX_NODES);
    if (m->nnodes == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        cluster_node *nodes = realloc(m->nodes, cap * sizeof(*nodes));
        if (nodes == NULL)
            return fail(r, "out of memory");
        m->nodes = nodes;
        void *ids = realloc(r->master_ids, cap * sizeof(*r->master_ids));
        if (ids == NULL)
            return fail(r, "out of memory");
        r->master_ids = ids;
        r->cap = cap;
    }
    memset(&m->nodes[m->nnodes], 0, sizeof(m->nodes[0]));
    m->nodes[m->nnodes].master = -1;
    return (long)m->nnodes++;
}

/* One node's line, split into words. Returns 0, or -1 with the reason. */
static int parse_node(map_reader *r, char **w, size_t nw)
{
    long long epoch, ping;
    long index;
    cluster_node *n;

    if (nw < 8)
        return fail(r, "a node's line has at least 8 fields (id address flags master ping pong epoch link), not %zu",
                    nw);
    if (!is_node_id(w[0]))
        return fail(r, "'%s' is not a node id (40 hex digits)", w[0]);
    for (size_t i = 0; i < r->m->nnodes; i++)
        if (strcasecmp(r->m->nodes[i].id, w[0]) == 0)
            return fail(r, "node %s comes twice", w[0]);
    if ((index = add_node(r)) < 0)
        return -1;
    n = &r->m->nodes[index];
    memcpy(n->id, w[0], CLUSTER_ID_LEN + 1);
    if (parse_address(r, n, w[1]) != 0 || parse_flags(r, n, w[2]) != 0)
        return -1;
    if (strcmp(w[3], "-") != 0 && !is_node_id(w[3]))
        return fail(r, "node %s: its master '%s' is not - nor a node id", n->id, w[3]);
    if ((strcmp(w[3], "-") == 0) != !(n->flags & CLUSTER_FLAG_SLAVE))
        return fail(r, "node %s: a %s names %s", n->id, n->flags & CLUSTER_FLAG_SLAVE ? "replica" : "master",
                    n->flags & CLUSTER_FLAG_SLAVE ? "no master (-)" : "a master");
    snprintf(r->master_ids[index], sizeof(r->master_ids[index]), "%s", strcmp(w[3], "-") == 0 ? "" : w[3]);
    if (parse_number(w[4], 0, INT64_MAX, &ping) != 0 || parse_number(w[5], 0, INT64_MAX, &ping) != 0 ||
        parse_number(w[6], 0, INT64_MAX, &epoch) != 0)
        return fail(r, "node %s: ping, pong and epoch must be whole numbers", n->id);
    n->epoch = epoch;
    if (epoch > r->m->current_epoch)
        r->m->current_epoch = epoch;
    if (strcmp(w[7], "connected") != 0 && strcmp(w[7], "disconnected") != 0)
        return fail(r, "node %s: link state '%s' is not connected or disconnected", n->id, w[7]);
    for (size_t i = 8; i < nw; i++)
        if (parse_slots(r, (size_t)index, w[i]) != 0)
            return -1;
    return 0;
}

/* One line of the file. Returns 0, or -1 with the reason. */
static int parse_line(map_reader *r, char *line)
{
    char **w = r->words, *save = NULL;
    size_t nw = 0;

    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (nw == MAX_WORDS)
            return fail(r, "more than %d fields", MAX_WORDS);
        w[nw++] = t;
    }
    if (nw == 0 || w[0][0] == '#')
        return 0;
    if (strcmp(w[0], "vars") == 0) {
        for (size_t i = 1; i + 1 < nw; i += 2)
            if (strcmp(w[i], "currentEpoch") == 0 && parse_number(w[i + 1], 0, INT64_MAX, &r->m->current_epoch) != 0)
                return fail(r, "currentEpoch '%s' is not a whole number", w[i + 1]);
        return 0;
    }
    return parse_node(r, w, nw);
}

/* Every replica's master, found by id. Returns 0, or -1 with the reason. */
static int resolve_masters(map_reader *r)
{
    cluster_map *m = r->m;
    for (size_t i = 0; i < m->nnodes; i++) {
        if (r->master_ids[i][0] == '\0')
            continue;
        for (size_t j = 0; j < m->nnodes && m->nodes[i].master < 0; j++)
            if (strcasecmp(m->nodes[j].id, r->master_ids[i]) == 0)
                m->nodes[i].master = (int)j;
        if (m->nodes[i].master < 0)
            return fail(r, "replica %s names master %s, which is not in the map", m->nodes[i].id, r->master_ids[i]);
        if (!(m->nodes[m->nodes[i].master].flags & CLUSTER_FLAG_MASTER))
            return fail(r, "replica %s names %s, which is not a master", m->nodes[i].id, r->master_ids[i]);
    }
    return 0;
}

/* The first slots without an owner, as text ("100-199, 5000"). */
static void gaps_text(const cluster_map *m, char *out, size_t outlen)
{
    size_t len = 0, nranges = 0;

    out[0] = '\0';
    for (unsigned s = 0; s < KEYSLOT_COUNT; s++) {
        if (m->owner[s] != 0)
            continue;
        unsigned from = s;
        while (s + 1 < KEYSLOT_COUNT && m->owner[s + 1] == 0)
            s++;
        if (nranges++ == 4) {
            snprintf(out + len, outlen - len, ", ...");
            return;
        }
        int n = from == s ? snprintf(out + len, outlen - len, "%s%u", len ? ", " : "", from)
                          : snprintf(out + len, outlen - len, "%s%u-%u", len ? ", " : "", from, s);
        if (n < 0 || (size_t)n >= outlen - len)
            return;
        len += (size_t)n;
    }
}

/* The checks of the map as a whole. Returns 0, or -1 with the reason. */
static int check_map(map_reader *r, const char *myself)
{
    cluster_map *m = r->m;
    size_t i;
    char gaps[128];

    r->line = 0;
    if (m->nnodes == 0)
        return fail(r, "no nodes in the map");
    if (resolve_masters(r) != 0)
        return -1;
    for (i = 0; i < m->nnodes && strcasecmp(m->nodes[i].id, myself) != 0; i++)
        ;
    if (i == m->nnodes)
        return fail(r, "--cluster-myself %s is not a node of the map", myself);
    m->myself = i;
    m->serving = m->nodes[i].master >= 0 ? (size_t)m->nodes[i].master : i;
    if (m->full_coverage && m->slots_owned < KEYSLOT_COUNT) {
        gaps_text(m, gaps, sizeof(gaps));
        return fail(r, "slots %s have no owner (every slot needs one unless --cluster-require-full-coverage no)", gaps);
    }
    return 0;
}

/* Opens path for reading: a regular file only (a FIFO would block the
 * loader). Returns the stream, or NULL with the reason. */
static FILE *open_map(map_reader *r)
{
    struct stat st;
    FILE *f = NULL;
    int fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0)
        fail(r, "cannot read the cluster map: %s", strerror(errno));
    else if (!S_ISREG(st.st_mode))
        fail(r, "cannot read the cluster map: not a regular file");
    else if ((f = fdopen(fd, "r")) == NULL)
        fail(r, "cannot read the cluster map: %s", strerror(errno));
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

/* Reads every line of f into r. Returns 0, or -1 with the reason. */
static int read_lines(map_reader *r, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        r->line++;
        rc = parse_line(r, line);
    }
    if (rc == 0 && ferror(f)) {
        r->line = 0;
        rc = fail(r, "cannot read the cluster map: %s", strerror(errno));
    }
    free(line);
    return rc;
}

cluster_map *cluster_map_load(const char *path, const char *myself, int full_coverage, char *err, size_t errlen)
{
    map_reader r = {.path = path, .err = err, .errlen = errlen};
    FILE *f = NULL;

    if ((r.m = calloc(1, sizeof(*r.m))) == NULL || (r.m->path = strdup(path)) == NULL ||
        (r.words = malloc(MAX_WORDS * sizeof(*r.words))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r.m->full_coverage = full_coverage;
    if (!is_node_id(myself)) {
        snprintf(err, errlen, "--cluster-myself '%s' is not a node id (40 hex digits)", myself);
        goto fail;
    }
    if ((f = open_map(&r)) == NULL || read_lines(&r, f) != 0 || check_map(&r, myself) != 0)
        goto fail;
    fclose(f);
    free(r.master_ids);
    free(r.words);
    return r.m;
fail:
    if (f)
        fclose(f);
    free(r.master_ids);
    free(r.words);
    cluster_map_free(r.m);
    return NULL;
}

int cluster_map_serves(const cluster_map *m, const char *key, size_t len)
{
    return m->owner[keyslot(key, len)] == m->serving + 1;
}

void cluster_map_slots_text(const cluster_map *m, size_t node, char *out, size_t outlen)
{
    size_t len = 0;

    snprintf(out, outlen, "none");
    for (unsigned s = 0; s < KEYSLOT_COUNT; s++) {
        if (m->owner[s] != node + 1)
            continue;
        unsigned from = s;
        while (s + 1 < KEYSLOT_COUNT && m->owner[s + 1] == node + 1)
            s++;
        int n = from == s ? snprintf(out + len, outlen - len, "%s%u", len ? " " : "", from)
                          : snprintf(out + len, outlen - len, "%s%u-%u", len ? " " : "", from, s);
        if (n < 0 || (size_t)n >= outlen - len) {
            if (outlen > 4)
                memcpy(out + outlen - 4, "...", 4);
            return;
        }
        len += (size_t)n;
    }
}
