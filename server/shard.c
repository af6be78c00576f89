/*
 * shard.c: nutcracker's ring, from its YAML config (see shard.h).
 *
 * The YAML is read with libyaml, the parser nutcracker itself uses, rather
 * than by hand: quoting, flow style, comments and anchors all come out as
 * nutcracker sees them.
 */
#include "shard.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* twemproxy's nc_ketama.c constants. */
#define KETAMA_POINTS_PER_SERVER 160
#define KETAMA_MAX_HOSTLEN       273
/* A server without a name is named host:port, but for this port. */
#define KETAMA_DEFAULT_PORT 11211

void shard_free(shard *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nservers; i++)
        free(s->names[i]);
    free(s->names);
    free(s->weights);
    free(s->points);
    free(s->pool);
    free(s->name);
    free(s);
}

/* twemproxy's nc_atoi: digits only, else -1. */
static int nc_atoi(const char *p, size_t n)
{
    int value = 0;
    if (n == 0)
        return -1;
    for (; n--; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    return value < 0 ? -1 : value;
}

/* The last c in [start, p], or NULL (twemproxy's nc_strrchr). */
static const char *rfind(const char *p, const char *start, char c)
{
    for (; p >= start; p--)
        if (*p == c)
            return p;
    return NULL;
}

/* Parses a "host:port:weight [name]" (or "/path:weight [name]") line as
 * twemproxy's conf_add_server does, from the end: the name after the last
 * space, the weight after the last ':' before it, the port after the one
 * before that. Without a name, the server's name is "host:port", or just
 * "host" for port 11211. Returns 0, or -1 with err. */
static int parse_server(const char *line, size_t len, char **name_out, uint32_t *weight_out, char *err, size_t errlen)
{
    const char *start = line, *p = line + len - 1, *q;
    const char *name = NULL, *weight = NULL, *port = NULL;
    size_t namelen = 0, weightlen = 0, portlen = 0, addrlen;
    size_t delimlen = line[0] == '/' ? 2 : 3, k;
    const char delim[] = " ::";
    int w, portnum = 0;

    for (k = 0; k < sizeof(delim); k++) {
        q = len ? rfind(p, start, delim[k]) : NULL;
        if (q == NULL) {
            if (k == 0)
                continue;
            break;
        }
        if (k == 0) {
            name = q + 1;
            namelen = (size_t)(p - name + 1);
        } else if (k == 1) {
            weight = q + 1;
            weightlen = (size_t)(p - weight + 1);
        } else if (k == 2) {
            port = q + 1;
            portlen = (size_t)(p - port + 1);
        }
        p = q - 1;
    }
    if (k != delimlen) {
        snprintf(err, errlen, "server '%.*s' is not \"host:port:weight [name]\"", (int)len, line);
        return -1;
    }
    addrlen = (size_t)(p - start + 1);
    w = nc_atoi(weight, weightlen);
    if (w <= 0) {
        snprintf(err, errlen, "server '%.*s' has %s weight", (int)len, line, w == 0 ? "a zero" : "an invalid");
        return -1;
    }
    if (line[0] != '/') {
        portnum = nc_atoi(port, portlen);
        if (portnum < 1 || portnum > 65535) {
            snprintf(err, errlen, "server '%.*s' has an invalid port", (int)len, line);
            return -1;
        }
    }
    if (name == NULL) {
        name = start;
        namelen = portnum == KETAMA_DEFAULT_PORT ? addrlen : addrlen + 1 + portlen;
    }
    if ((*name_out = strndup(name, namelen)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *weight_out = (uint32_t)w;
    return 0;
}

/* nutcracker's server order: by name, shorter first, then bytewise
 * (conf_server_name_cmp, string_compare). */
typedef struct named_server {
    char *name;
    uint32_t weight;
} named_server;

static int server_cmp(const void *a, const void *b)
{
    const named_server *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly)
        return lx > ly ? 1 : -1;
    return strncmp(x->name, y->name, lx);
}

static int point_cmp(const void *a, const void *b)
{
    const shard_point *x = a, *y = b;
    return x->value == y->value ? 0 : x->value > y->value ? 1 : -1;
}

/* ketama's continuum, as twemproxy's ketama_update builds it with every
 * server live. Returns 0 or -1 (out of memory). */
static int build_ketama(shard *s)
{
    uint32_t total_weight = 0, nlive = (uint32_t)s->nservers;
    size_t cap = 0;

    for (size_t i = 0; i < s->nservers; i++)
        total_weight += s->weights[i];
    for (size_t i = 0; i < s->nservers; i++) {
        /* Single-precision float, the double 1e-10 and all, as in
         * ketama_update: the count is not always 160 per weight share. */
        float pct = (float)s->weights[i] / (float)total_weight;
        uint32_t per_server =
            (uint32_t)((floorf((float)(pct * KETAMA_POINTS_PER_SERVER / 4 * (float)nlive + 0.0000000001))) * 4);
        uint32_t per_hash = 4;

        if (s->npoints + per_server > cap) {
            size_t want = (s->npoints + per_server) * 2;
            shard_point *grown = realloc(s->points, want * sizeof(*grown));
            if (grown == NULL)
                return -1;
            s->points = grown;
            cap = want;
        }
        for (uint32_t pi = 1; pi <= per_server / per_hash; pi++) {
            char host[KETAMA_MAX_HOSTLEN];
            int n = snprintf(host, sizeof(host), "%s-%u", s->names[i], pi - 1);
            size_t hostlen = n < 0 ? 0 : (size_t)n >= sizeof(host) ? sizeof(host) - 1 : (size_t)n;
            for (uint32_t x = 0; x < per_hash; x++) {
                s->points[s->npoints].index = (uint32_t)i;
                s->points[s->npoints++].value = nc_ketama_point(host, hostlen, x);
            }
        }
    }
    qsort(s->points, s->npoints, sizeof(*s->points), point_cmp);
    return 0;
}

size_t shard_route(const shard *s, const char *key, size_t len)
{
    uint32_t hash;

    if (s->nservers == 1)
        return 0;
    if (s->has_hash_tag) {
        const char *start = memchr(key, s->hash_tag[0], len), *end;
        if (start != NULL) {
            end = memchr(start + 1, s->hash_tag[1], (size_t)(key + len - (start + 1)));
            if (end != NULL && end - start > 1) {
                key = start + 1;
                len = (size_t)(end - key);
            }
        }
    }
    hash = len == 0 ? 0 : s->hash(key, len);
    if (s->points == NULL) { /* modula: weight slots per server, in order */
        uint64_t total = 0, slot;
        for (size_t i = 0; i < s->nservers; i++)
            total += s->weights[i];
        slot = hash % total;
        for (size_t i = 0; i < s->nservers; i++) {
            if (slot < s->weights[i])
                return i;
            slot -= s->weights[i];
        }
        return 0;
    }
    if (s->npoints == 0)
        return 0;
    /* the first point at or past hash, wrapping round (ketama_dispatch) */
    size_t left = 0, right = s->npoints;
    while (left < right) {
        size_t middle = left + (right - left) / 2;
        if (s->points[middle].value < hash)
            left = middle + 1;
        else
            right = middle;
    }
    return s->points[right == s->npoints ? 0 : right].index;
}

int shard_owns(const shard *s, const char *key, size_t len)
{
    return shard_route(s, key, len) == s->self;
}

/* A scalar node's text, or NULL. */
static const char *scalar(yaml_node_t *n, size_t *len)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (len)
        *len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* Reads path into doc. It must be a regular file (a FIFO would hold up
 * the reload's thread, and the main thread at start). Returns 0 or -1. */
static int read_yaml(const char *path, yaml_document_t *doc, char *err, size_t errlen)
{
    yaml_parser_t parser;
    struct stat st;
    FILE *f = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc = -1;

    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read shard config %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read shard config %s: not a regular file", path);
    } else if ((f = fdopen(fd, "r")) == NULL) {
        snprintf(err, errlen, "cannot read shard config %s: %s", path, strerror(errno));
    }
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, doc)) {
        snprintf(err, errlen, "%s:%zu: %s %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "bad YAML", parser.context ? parser.context : "");
    } else if (yaml_document_get_root_node(doc) == NULL) {
        snprintf(err, errlen, "%s: no pools in it", path);
        yaml_document_delete(doc);
    } else {
        rc = 0;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

/* Fills s from the pool's mapping node. Returns 0 or -1 with err. */
static int read_pool(shard *s, yaml_document_t *doc, yaml_node_t *pool, const char *path, const char *name, char *err,
                     size_t errlen)
{
    yaml_node_t *servers = NULL;
    named_server *list = NULL;
    size_t n = 0, found = SIZE_MAX;
    int rc = -1;

    s->hash_name = "fnv1a_64";
    s->distribution = "ketama";
    if (pool->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: pool %s is not a mapping", path, s->pool);
        return -1;
    }
    for (yaml_node_pair_t *pr = pool->data.mapping.pairs.start; pr < pool->data.mapping.pairs.top; pr++) {
        const char *key = scalar(yaml_document_get_node(doc, pr->key), NULL), *value;
        yaml_node_t *vnode = yaml_document_get_node(doc, pr->value);
        size_t vlen = 0;
        if (key == NULL)
            continue;
        value = scalar(vnode, &vlen);
        if (strcmp(key, "servers") == 0) {
            servers = vnode;
        } else if (strcmp(key, "hash") == 0) {
            if (value == NULL || (s->hash = nc_hash_by_name(value)) == NULL) {
                snprintf(err, errlen,
                         "%s: pool %s: hash '%s' is not one of nutcracker's (one_at_a_time, md5, crc16, crc32, crc32a, "
                         "fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)",
                         path, s->pool, value ? value : "");
                return -1;
            }
        } else if (strcmp(key, "distribution") == 0) {
            if (value != NULL && strcmp(value, "ketama") == 0) {
                s->distribution = "ketama";
            } else if (value != NULL && strcmp(value, "modula") == 0) {
                s->distribution = "modula";
            } else if (value != NULL && strcmp(value, "random") == 0) {
                snprintf(err, errlen,
                         "%s: pool %s: distribution random sends a key to any server, not by the key: a table "
                         "cannot be sharded by it (use ketama or modula)",
                         path, s->pool);
                return -1;
            } else {
                snprintf(err, errlen, "%s: pool %s: distribution '%s' is not ketama or modula", path, s->pool,
                         value ? value : "");
                return -1;
            }
        } else if (strcmp(key, "hash_tag") == 0) {
            if (value == NULL || vlen != 2) {
                snprintf(err, errlen, "%s: pool %s: hash_tag must be two characters", path, s->pool);
                return -1;
            }
            memcpy(s->hash_tag, value, 2);
            s->has_hash_tag = 1;
        }
    }
    if (s->hash == NULL)
        s->hash = nc_hash_fnv1a_64;
    /* hash_name must outlive the document: take the static name */
    static const char *const hash_names[] = {"one_at_a_time", "md5",     "crc16",    "crc32", "crc32a", "fnv1_64",
                                             "fnv1a_64",      "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins"};
    for (size_t i = 0; i < sizeof(hash_names) / sizeof(hash_names[0]); i++)
        if (nc_hash_by_name(hash_names[i]) == s->hash)
            s->hash_name = hash_names[i];
    if (servers == NULL || servers->type != YAML_SEQUENCE_NODE ||
        servers->data.sequence.items.top == servers->data.sequence.items.start) {
        snprintf(err, errlen, "%s: pool %s has no servers", path, s->pool);
        return -1;
    }
    size_t cap = (size_t)(servers->data.sequence.items.top - servers->data.sequence.items.start);
    if ((list = calloc(cap, sizeof(*list))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (yaml_node_item_t *it = servers->data.sequence.items.start; it < servers->data.sequence.items.top; it++) {
        size_t len;
        const char *line = scalar(yaml_document_get_node(doc, *it), &len);
        char why[512];
        if (line == NULL || len == 0) {
            snprintf(err, errlen, "%s: pool %s: a server is not a \"host:port:weight [name]\" string", path, s->pool);
            goto done;
        }
        if (parse_server(line, len, &list[n].name, &list[n].weight, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: pool %s: %s", path, s->pool, why);
            goto done;
        }
        n++;
    }
    qsort(list, n, sizeof(*list), server_cmp);
    for (size_t i = 0; i + 1 < n; i++) {
        if (server_cmp(&list[i], &list[i + 1]) == 0) {
            snprintf(err, errlen, "%s: pool %s has two servers named %s", path, s->pool, list[i].name);
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            found = i;
    if (found == SIZE_MAX) {
        char names[256] = "";
        for (size_t i = 0; i < n && strlen(names) + strlen(list[i].name) + 8 < sizeof(names); i++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "", list[i].name);
        snprintf(err, errlen, "%s: pool %s has no server named %s (its servers: %s%s)", path, s->pool, name, names,
                 strlen(names) + 8 >= sizeof(names) ? ", ..." : "");
        goto done;
    }
    if ((s->names = calloc(n, sizeof(*s->names))) == NULL || (s->weights = calloc(n, sizeof(*s->weights))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        s->names[i] = list[i].name;
        s->weights[i] = list[i].weight;
        list[i].name = NULL;
    }
    s->nservers = n;
    s->self = found;
    if (strcmp(s->distribution, "ketama") == 0 && build_ketama(s) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; i < n; i++)
        free(list[i].name);
    free(list);
    return rc;
}

shard *shard_load(const char *path, const char *pool, const char *name, char *err, size_t errlen)
{
    yaml_document_t doc;
    yaml_node_t *root, *found = NULL;
    shard *s;
    size_t npools = 0;
    char pools[256] = "";

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (read_yaml(path, &doc, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    root = yaml_document_get_root_node(&doc);
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: not a nutcracker config (a mapping of pool names to pools)", path);
        goto fail;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        const char *key = scalar(yaml_document_get_node(&doc, pr->key), NULL);
        if (key == NULL)
            continue;
        npools++;
        if (strlen(pools) + strlen(key) + 8 < sizeof(pools))
            snprintf(pools + strlen(pools), sizeof(pools) - strlen(pools), "%s%s", npools > 1 ? ", " : "", key);
        if (pool ? strcmp(key, pool) == 0 : npools == 1) {
            found = yaml_document_get_node(&doc, pr->value);
            if ((s->pool = strdup(key)) == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        }
    }
    if (pool == NULL && npools > 1) {
        snprintf(err, errlen, "%s has %zu pools (%s): --shard-pool must name one", path, npools, pools);
        goto fail;
    }
    if (found == NULL) {
        if (pool)
            snprintf(err, errlen, "%s has no pool named %s (its pools: %s)", path, pool, pools);
        else
            snprintf(err, errlen, "%s: no pools in it", path);
        goto fail;
    }
    if ((s->name = strdup(name)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_pool(s, &doc, found, path, name, err, errlen) != 0)
        goto fail;
    yaml_document_delete(&doc);
    return s;
fail:
    yaml_document_delete(&doc);
    shard_free(s);
    return NULL;
}
