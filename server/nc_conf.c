/*
 * nc_conf.c: nutcracker's config file, read as nutcracker reads it (see
 * nc_conf.h).
 *
 * The file is read with libyaml, the parser nutcracker uses, in two
 * passes, as twemproxy's conf_validate_tokens and then its
 * conf_validate_structure and conf_parse (here one pass over the events,
 * each checked for the structure and then taken). Neither builds the
 * document in memory: a pathological file (thousands of nested flow
 * brackets, which libyaml's loader takes quadratic time over) is refused
 * at its first bracket, and one nested past a pool's keys at its third
 * level. Both passes check *cancel before each token or event, and the
 * input callback before each block libyaml reads, so that a stop gives a
 * reload up at once.
 */
#include "nc_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#include "nc_hash.h"

/* twemproxy's nc_conf.h: the root mapping is depth 1, a pool's keys 2. */
#define CONF_ROOT_DEPTH 1
#define CONF_MAX_DEPTH  (CONF_ROOT_DEPTH + 1)
/* A server without a name is named host:port, but for this port. */
#define KETAMA_DEFAULT_PORT 11211

/* How a key's value is checked: the conf_set_* function nutcracker has
 * for it. */
typedef enum {
    KIND_LISTEN, /* conf_set_listen: "host:port" or "/path [permissions]" */
    KIND_HASH,   /* conf_set_hash: one of its hashes (nc_hash_kind) */
    KIND_TAG,    /* conf_set_hashtag: two characters */
    KIND_DIST,   /* conf_set_distribution: an nc_dist */
    KIND_NUM,    /* conf_set_num: digits */
    KIND_BOOL,   /* conf_set_bool: true or false */
    KIND_STRING, /* conf_set_string: anything */
    KIND_SERVER, /* conf_add_server: one "host:port:weight [name]" each */
} key_kind;

/* nutcracker's conf_commands, in its order; servers last (it has no
 * values[] slot). */
static const struct {
    const char *name;
    key_kind kind;
} keys[NC_CONF_KEYS + 1] = {
    {"listen", KIND_LISTEN},
    {"hash", KIND_HASH},
    {"hash_tag", KIND_TAG},
    {"distribution", KIND_DIST},
    {"timeout", KIND_NUM},
    {"backlog", KIND_NUM},
    {"client_connections", KIND_NUM},
    {"redis", KIND_BOOL},
    {"tcpkeepalive", KIND_BOOL},
    {"redis_auth", KIND_STRING},
    {"redis_db", KIND_NUM},
    {"preconnect", KIND_BOOL},
    {"auto_eject_hosts", KIND_BOOL},
    {"server_connections", KIND_NUM},
    {"server_retry_timeout", KIND_NUM},
    {"server_failure_limit", KIND_NUM},
    {"servers", KIND_SERVER},
};

/* One pass over the file, and what the event pass has seen so far. */
typedef struct reader {
    const char *path;
    FILE *f;
    const atomic_int *cancel;
    int cancelled; /* the input callback saw *cancel */
    yaml_parser_t parser;
    int parser_ready;
    char *err;
    size_t errlen;
    /* conf_validate_structure's state */
    int depth, seq, documents;
    unsigned count[CONF_MAX_DEPTH + 1];
    /* conf_parse's: the pools so far, the key awaiting its value (or a
     * list's key, while in its list) */
    nc_conf *conf;
    const char *key;
    size_t key_index;
    int in_list;
} reader;

static int fail(reader *r, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(reader *r, size_t line, const char *fmt, ...)
{
    va_list ap;
    int n =
        line ? snprintf(r->err, r->errlen, "%s:%zu: ", r->path, line) : snprintf(r->err, r->errlen, "%s: ", r->path);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int cancelled(const reader *r)
{
    return r->cancel && atomic_load_explicit(r->cancel, memory_order_relaxed);
}

/* libyaml's input: the file, block by block, until a stop says cancel. */
static int read_input(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
    reader *r = data;
    if (cancelled(r)) {
        r->cancelled = 1;
        return 0;
    }
    *size_read = fread(buffer, 1, size, r->f);
    return !ferror(r->f);
}

/* Starts a pass from the top of the file. Returns 0, or -1 with err. */
static int pass_start(reader *r)
{
    if (r->parser_ready)
        yaml_parser_delete(&r->parser);
    r->parser_ready = 0;
    if (fseek(r->f, 0, SEEK_SET) != 0)
        return fail(r, 0, "%s", strerror(errno));
    if (!yaml_parser_initialize(&r->parser))
        return fail(r, 0, "out of memory");
    yaml_parser_set_input(&r->parser, read_input, r);
    r->parser_ready = 1;
    return 0;
}

/* libyaml could not go on: a YAML error, the file, or a stop. */
static int yaml_failed(reader *r)
{
    if (r->cancelled || cancelled(r))
        return fail(r, 0, "cancelled");
    if (r->parser.error == YAML_READER_ERROR && ferror(r->f))
        return fail(r, 0, "cannot read: %s", strerror(errno));
    return fail(r, r->parser.problem_mark.line + 1, "%s%s%s", r->parser.problem ? r->parser.problem : "bad YAML",
                r->parser.context ? " " : "", r->parser.context ? r->parser.context : "");
}

/* What conf_validate_tokens refuses, in words, or NULL if nutcracker takes
 * the token. */
static const char *token_refused(yaml_token_type_t type)
{
    switch (type) {
    case YAML_STREAM_START_TOKEN:
    case YAML_STREAM_END_TOKEN:
    case YAML_BLOCK_SEQUENCE_START_TOKEN:
    case YAML_BLOCK_MAPPING_START_TOKEN:
    case YAML_BLOCK_END_TOKEN:
    case YAML_BLOCK_ENTRY_TOKEN:
    case YAML_KEY_TOKEN:
    case YAML_VALUE_TOKEN:
    case YAML_SCALAR_TOKEN: return NULL;
    case YAML_VERSION_DIRECTIVE_TOKEN: return "a %YAML directive";
    case YAML_TAG_DIRECTIVE_TOKEN: return "a %TAG directive";
    case YAML_DOCUMENT_START_TOKEN: return "a document start (---)";
    case YAML_DOCUMENT_END_TOKEN: return "a document end (...)";
    case YAML_FLOW_SEQUENCE_START_TOKEN:
    case YAML_FLOW_SEQUENCE_END_TOKEN: return "flow style (a [...] list)";
    case YAML_FLOW_MAPPING_START_TOKEN:
    case YAML_FLOW_MAPPING_END_TOKEN: return "flow style (a {...} mapping)";
    case YAML_FLOW_ENTRY_TOKEN: return "flow style (a ',' between entries)";
    case YAML_ALIAS_TOKEN: return "an alias (*name)";
    case YAML_ANCHOR_TOKEN: return "an anchor (&name)";
    case YAML_TAG_TOKEN: return "a tag (!...)";
    default: return "a token nutcracker does not know";
    }
}

/* conf_validate_tokens: block style only. Returns 0, or -1 with err. */
static int check_tokens(reader *r)
{
    yaml_token_t token;
    int done = 0;

    if (pass_start(r) != 0)
        return -1;
    while (!done) {
        if (cancelled(r))
            return fail(r, 0, "cancelled");
        if (!yaml_parser_scan(&r->parser, &token))
            return yaml_failed(r);
        const char *why = token_refused(token.type);
        size_t line = token.start_mark.line + 1;
        done = token.type == YAML_STREAM_END_TOKEN;
        yaml_token_delete(&token);
        if (why)
            return fail(r, line,
                        "%s, which nutcracker refuses: it reads one document of `key: value` lines and `- item` "
                        "lists, without flow style, anchors, aliases, tags or directives",
                        why);
    }
    return 0;
}

/* twemproxy's nc_atoi: digits only, else -1; an int that overflows wraps,
 * as it does there (done here in unsigned arithmetic, which may wrap). */
static int nc_atoi(const char *p, size_t n)
{
    uint32_t value = 0;
    if (n == 0)
        return -1;
    for (; n--; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10u + (uint32_t)(*p - '0');
    }
    return value > INT32_MAX ? -1 : (int)value;
}

static int nc_valid_port(int port)
{
    return port >= 1 && port <= 65535;
}

/* The last c in [start, p], or NULL (twemproxy's nc_strrchr). */
static const char *rfind(const char *p, const char *start, char c)
{
    for (; p >= start; p--)
        if (*p == c)
            return p;
    return NULL;
}

/* conf_set_listen: "host:port", or "/path [octal permissions]". The host
 * is resolved as nutcracker resolves it when it is an address; a name is
 * not looked up (see nc_conf.h). Returns NULL, or why it is refused. */
static const char *check_listen(const char *value)
{
    size_t len = strlen(value);
    const char *q;

    if (value[0] == '/') {
        q = rfind(value + len - 1, value, ' ');
        if (q != NULL) {
            errno = 0;
            long perm = strtol(q + 1, NULL, 8);
            if (errno || (mode_t)perm > 0777)
                return "has an invalid file permission in \"socket_path permission\"";
            len = (size_t)(q - value);
        }
        return len >= sizeof(((struct sockaddr_un *)NULL)->sun_path) ? "has a socket path too long" : NULL;
    }
    q = rfind(value + len - 1, value, ':');
    if (q == NULL)
        return "is not \"hostname:port\"";
    if (!nc_valid_port(nc_atoi(q + 1, len - (size_t)(q + 1 - value))))
        return "has an invalid port in \"hostname:port\"";
    char host[INET6_ADDRSTRLEN + 64], port[16];
    struct addrinfo hints, *res = NULL;
    size_t hostlen = (size_t)(q - value);
    if (hostlen > 0 && memchr(value, ':', hostlen) == NULL && strspn(value, "0123456789.") < hostlen)
        return NULL; /* a name */
    if (hostlen >= sizeof(host))
        return "has a host that is not an IPv4 or IPv6 address";
    memcpy(host, value, hostlen);
    host[hostlen] = '\0';
    snprintf(port, sizeof(port), "%d", nc_atoi(q + 1, len - (size_t)(q + 1 - value)));
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return "has a host that is not an IPv4 or IPv6 address";
    freeaddrinfo(res);
    return NULL;
}

/* conf_add_server: "host:port:weight [name]" (or "/path:weight [name]"),
 * parsed from the end: the name after the last space, the weight after
 * the last ':' before it, the port after the one before that. Returns
 * NULL with *out filled (out->name allocated), or why it is refused. */
static const char *parse_server(const char *line, nc_conf_server *out)
{
    size_t len = strlen(line), delimlen = line[0] == '/' ? 2 : 3, k;
    const char *start = line, *p = line + len - 1, *q, *name = NULL, *weight = NULL, *port = NULL;
    size_t namelen = 0, weightlen = 0, portlen = 0;
    const char delim[] = " ::";
    int w, portnum = 0;

    for (k = 0; k < sizeof(delim); k++) {
        q = rfind(p, start, delim[k]);
        if (q == NULL) {
            if (k == 0)
                continue; /* the name is optional */
            break;
        }
        if (k == 0)
            name = q + 1, namelen = (size_t)(p - name + 1);
        else if (k == 1)
            weight = q + 1, weightlen = (size_t)(p - weight + 1);
        else if (k == 2)
            port = q + 1, portlen = (size_t)(p - port + 1);
        p = q - 1;
    }
    if (k != delimlen)
        return "is not \"host:port:weight [name]\" (or \"/path:weight [name]\")";
    w = nc_atoi(weight, weightlen);
    if (w <= 0)
        return w == 0 ? "has a zero weight" : "has an invalid weight";
    if (line[0] != '/') {
        portnum = nc_atoi(port, portlen);
        if (!nc_valid_port(portnum))
            return "has an invalid port";
    }
    if (name == NULL) {
        size_t addrlen = (size_t)(p - start + 1);
        name = start;
        namelen = portnum == KETAMA_DEFAULT_PORT ? addrlen : addrlen + 1 + portlen;
    }
    if ((out->name = strndup(name, namelen)) == NULL)
        return "out of memory";
    out->weight = (uint32_t)w;
    return NULL;
}

static const char *const dist_names[NC_DIST_COUNT] = {
    [NC_DIST_KETAMA] = "ketama",
    [NC_DIST_MODULA] = "modula",
    [NC_DIST_RANDOM] = "random",
};

const char *nc_dist_name(nc_dist dist)
{
    return dist_names[dist];
}

int nc_dist_lookup(const char *name, nc_dist *dist)
{
    for (int i = 0; i < NC_DIST_COUNT; i++)
        if (strcmp(dist_names[i], name) == 0) {
            *dist = (nc_dist)i;
            return 0;
        }
    return -1;
}

/* Checks value by its key's kind. Returns NULL, or why it is refused (a
 * static text, or one written in buf). */
static const char *check_value(key_kind kind, const char *value, char *buf, size_t buflen)
{
    nc_hash_kind hash;
    nc_dist dist;
    switch (kind) {
    case KIND_LISTEN: return check_listen(value);
    case KIND_HASH:
        if (nc_hash_lookup(value, &hash) == 0)
            return NULL;
        snprintf(buf, buflen, "is not one of nutcracker's (%s)", nc_hash_names_text);
        return buf;
    case KIND_TAG: return strlen(value) == 2 ? NULL : "is not two characters";
    case KIND_DIST:
        if (nc_dist_lookup(value, &dist) == 0)
            return NULL;
        snprintf(buf, buflen, "is not %s, %s or %s", nc_dist_name(NC_DIST_KETAMA), nc_dist_name(NC_DIST_MODULA),
                 nc_dist_name(NC_DIST_RANDOM));
        return buf;
    case KIND_NUM: return nc_atoi(value, strlen(value)) < 0 ? "is not a number" : NULL;
    case KIND_BOOL: return strcmp(value, "true") == 0 || strcmp(value, "false") == 0 ? NULL : "is not true or false";
    default: return NULL;
    }
}

/* conf_handler: the pool's key takes value (a list's item for servers).
 * Returns 0, or -1 with err. */
static int take_value(reader *r, size_t line, const char *value)
{
    nc_conf_pool *pool = &r->conf->pools[r->conf->npools - 1];
    size_t i = r->key_index;
    const char *why;
    char why_buf[160];

    if (keys[i].kind == KIND_SERVER) {
        nc_conf_server *grown = realloc(pool->servers, (pool->nservers + 1) * sizeof(*grown));
        if (grown == NULL)
            return fail(r, line, "out of memory");
        pool->servers = grown;
        if ((why = parse_server(value, &pool->servers[pool->nservers])) != NULL)
            return fail(r, line, "pool %s: server '%s' %s", pool->name, value, why);
        pool->nservers++;
        return 0;
    }
    if (pool->values[i] != NULL)
        return fail(r, line, "pool %s: %s is given twice", pool->name, keys[i].name);
    if ((why = check_value(keys[i].kind, value, why_buf, sizeof(why_buf))) != NULL)
        return fail(r, line, "pool %s: %s '%s' %s", pool->name, keys[i].name, value, why);
    if ((pool->values[i] = strdup(value)) == NULL)
        return fail(r, line, "out of memory");
    return 0;
}

/* A scalar, as conf_parse takes it: a pool's name, a key, or a value (a
 * list's item). Returns 0, or -1 with err. */
static int take_scalar(reader *r, size_t line, const char *text, size_t len)
{
    const char *what = r->depth == CONF_ROOT_DEPTH ? "pool name" : r->key ? "value" : "key";
    if (len == 0)
        return fail(r, line, "an empty %s: nutcracker takes none", what);
    if (memchr(text, '\0', len) != NULL)
        return fail(r, line, "a NUL character in a %s", what);
    if (r->depth == CONF_ROOT_DEPTH) {
        nc_conf_pool *grown = realloc(r->conf->pools, (r->conf->npools + 1) * sizeof(*grown));
        if (grown == NULL)
            return fail(r, line, "out of memory");
        r->conf->pools = grown;
        memset(&grown[r->conf->npools], 0, sizeof(*grown));
        if ((grown[r->conf->npools++].name = strdup(text)) == NULL)
            return fail(r, line, "out of memory");
        return 0;
    }
    if (r->key == NULL) {
        size_t i = 0;
        while (i < NC_CONF_KEYS + 1 && strcmp(keys[i].name, text) != 0)
            i++;
        if (i == NC_CONF_KEYS + 1)
            return fail(r, line,
                        "pool %s: unknown key '%s' (nutcracker's: listen, hash, hash_tag, distribution, "
                        "timeout, backlog, client_connections, redis, tcpkeepalive, redis_auth, redis_db, "
                        "preconnect, auto_eject_hosts, server_connections, server_retry_timeout, "
                        "server_failure_limit, servers)",
                        r->conf->pools[r->conf->npools - 1].name, text);
        r->key = keys[i].name;
        r->key_index = i;
        return 0;
    }
    int rc = take_value(r, line, text);
    if (!r->in_list)
        r->key = NULL; /* a list's key stays for its next item */
    return rc;
}

/* One event, checked as conf_validate_structure checks it, then taken as
 * conf_parse takes it. Returns 0, or -1 with err. */
static int take_event(reader *r, const yaml_event_t *ev)
{
    size_t line = ev->start_mark.line + 1;
    const char *pool = r->conf->npools ? r->conf->pools[r->conf->npools - 1].name : "";

    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_DOCUMENT_END_EVENT: return 0;
    case YAML_DOCUMENT_START_EVENT:
        return ++r->documents > 1 ? fail(r, line, "a second YAML document: nutcracker reads one") : 0;
    case YAML_MAPPING_START_EVENT:
        if (r->depth == CONF_ROOT_DEPTH && r->count[r->depth] != 1)
            return fail(r, line, "a mapping where nutcracker expects a pool's name");
        if (r->depth >= CONF_MAX_DEPTH)
            return fail(r, line, "pool %s: nested deeper than nutcracker reads (a key takes a value or a list)", pool);
        r->depth++;
        return 0;
    case YAML_MAPPING_END_EVENT:
        if (r->depth == CONF_MAX_DEPTH && !r->seq)
            return fail(r, line, "pool %s has no list (servers: a list of \"host:port:weight [name]\")", pool);
        r->seq = 0;
        r->count[--r->depth] = 0;
        return 0;
    case YAML_SEQUENCE_START_EVENT:
        if (r->seq)
            return fail(r, line, "pool %s has a second list: nutcracker takes one (servers)", pool);
        if (r->depth != CONF_MAX_DEPTH || r->count[r->depth] != 1)
            return fail(r, line, "a list where nutcracker expects %s",
                        r->depth == 0                 ? "a mapping of pool names to pools"
                        : r->depth == CONF_ROOT_DEPTH ? "a pool (a mapping of its keys)"
                                                      : "a key");
        r->seq = r->in_list = 1;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
        r->count[r->depth] = 0;
        r->key = NULL;
        r->in_list = 0;
        return 0;
    case YAML_SCALAR_EVENT:
        if (r->depth <= 0 || r->depth > CONF_MAX_DEPTH)
            return fail(r, line, "not a nutcracker config (a mapping of pool names to pools)");
        if (r->depth == CONF_ROOT_DEPTH && r->count[r->depth] != 0)
            return fail(r, line, "pool %s is not a mapping of its keys", pool);
        if (r->depth == CONF_MAX_DEPTH && r->count[r->depth] == 2)
            r->count[r->depth] = 0; /* a "key: value" done */
        r->count[r->depth]++;
        return take_scalar(r, line, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    default: return fail(r, line, "YAML nutcracker does not read");
    }
}

/* conf_validate_structure and conf_parse, over the events. Returns 0, or
 * -1 with err. */
static int read_events(reader *r)
{
    yaml_event_t ev;
    int done = 0, rc = 0;

    if (pass_start(r) != 0)
        return -1;
    while (rc == 0 && !done) {
        if (cancelled(r))
            return fail(r, 0, "cancelled");
        if (!yaml_parser_parse(&r->parser, &ev))
            return yaml_failed(r);
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = take_event(r, &ev);
        yaml_event_delete(&ev);
    }
    if (rc == 0 && r->documents == 0)
        return fail(r, 0, "no pools in it");
    return rc;
}

/* nutcracker's server order, by name: shorter first, then bytewise
 * (conf_server_name_cmp, string_compare). */
static int server_cmp(const void *a, const void *b)
{
    const nc_conf_server *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly)
        return lx > ly ? 1 : -1;
    return memcmp(x->name, y->name, lx);
}

/* conf_validate_pool and conf_post_validate. Returns 0, or -1 with err. */
static int check_pools(reader *r)
{
    const nc_conf *c = r->conf;
    for (size_t i = 0; i < c->npools; i++) {
        nc_conf_pool *p = &c->pools[i];
        const char *conns = nc_conf_get(p, "server_connections"), *redis = nc_conf_get(p, "redis");
        if (nc_conf_get(p, "listen") == NULL)
            return fail(r, 0, "pool %s has no listen: (nutcracker requires it)", p->name);
        if (conns && nc_atoi(conns, strlen(conns)) == 0)
            return fail(r, 0, "pool %s: server_connections cannot be 0", p->name);
        if (nc_conf_get(p, "redis_auth") && (redis == NULL || strcmp(redis, "true") != 0))
            return fail(r, 0, "pool %s: redis_auth is only for a pool with redis: true", p->name);
        if (p->nservers == 0)
            return fail(r, 0, "pool %s has no servers", p->name);
        qsort(p->servers, p->nservers, sizeof(*p->servers), server_cmp);
        for (size_t k = 0; k + 1 < p->nservers; k++)
            if (server_cmp(&p->servers[k], &p->servers[k + 1]) == 0)
                return fail(r, 0, "pool %s has two servers named %s", p->name, p->servers[k].name);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->pools[j].name, p->name) == 0)
                return fail(r, 0, "two pools named %s", p->name);
            if (strcmp(nc_conf_get(&c->pools[j], "listen"), nc_conf_get(p, "listen")) == 0)
                return fail(r, 0, "pools %s and %s listen on the same address %s", c->pools[j].name, p->name,
                            nc_conf_get(p, "listen"));
        }
    }
    return 0;
}

/* Opens path for reading. It must be a regular file (a FIFO would hold up
 * the reload's thread, and the main thread at start). */
static FILE *open_regular(const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0)
        snprintf(err, errlen, "cannot read shard config %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(err, errlen, "cannot read shard config %s: not a regular file", path);
    else if ((f = fdopen(fd, "r")) == NULL)
        snprintf(err, errlen, "cannot read shard config %s: %s", path, strerror(errno));
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

nc_conf *nc_conf_load(const char *path, const atomic_int *cancel, char *err, size_t errlen)
{
    reader r;

    memset(&r, 0, sizeof(r));
    r.path = path;
    r.cancel = cancel;
    r.err = err;
    r.errlen = errlen;
    if ((r.f = open_regular(path, err, errlen)) == NULL)
        return NULL;
    if ((r.conf = calloc(1, sizeof(*r.conf))) == NULL)
        fail(&r, 0, "out of memory");
    else if (check_tokens(&r) != 0 || read_events(&r) != 0 || check_pools(&r) != 0) {
        nc_conf_free(r.conf);
        r.conf = NULL;
    }
    if (r.parser_ready)
        yaml_parser_delete(&r.parser);
    fclose(r.f);
    return r.conf;
}

void nc_conf_free(nc_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->npools; i++) {
        nc_conf_pool *p = &c->pools[i];
        free(p->name);
        for (size_t k = 0; k < NC_CONF_KEYS; k++)
            free(p->values[k]);
        for (size_t k = 0; k < p->nservers; k++)
            free(p->servers[k].name);
        free(p->servers);
    }
    free(c->pools);
    free(c);
}

const char *nc_conf_get(const nc_conf_pool *p, const char *key)
{
    for (size_t i = 0; i < NC_CONF_KEYS; i++)
        if (strcmp(keys[i].name, key) == 0)
            return p->values[i];
    return NULL;
}
