/*
 * bench.c: evkv-bench, a load generator for evkv (and for Redis over RESP,
 * so both can be measured with one client on one machine).
 *
 * Each thread runs its own event loop with its own connections, keys,
 * counters and histograms; nothing is shared on the hot path. Once a second
 * each thread adds what it measured into a shared per-second series under a
 * mutex, from which the main thread prints progress and the report.
 *
 * Closed loop (-R 0): every connection keeps -P requests in flight.
 * Open loop (-R RATE): every connection has its own schedule, and a
 * request's latency runs from the moment it was *scheduled*, not from when
 * it went out: when the server stalls, the requests that should have gone
 * out meanwhile show the stall (coordinated omission, as wrk2 corrects it).
 *
 * Every answer is checked: its framing, and, where the table is known
 * (--data, or the built-in table), its exact bytes. With two --data files
 * (a server reloading from one to the other while it is measured), an
 * answer is right if either file gives it, and the report counts which.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datafile.h"
#include "evkv_client.h"
#include "histogram.h"
#include "proto.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

#define NS_PER_SEC    UINT64_C(1000000000)
#define VALUE_UNKNOWN UINT32_MAX           /* bench_key: the answer is not known */
#define VALUE_MISS    (UINT32_MAX - 1)     /* bench_key: known not to be in the table */
#define MISS_FLAG     UINT32_C(0x80000000) /* inflight.key: a generated miss key */
#define MISS_PREFIX   "evkv-bench-miss-"

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,     /* every answer arrived and was right */
    EXIT_ERRORS = 1, /* at least one error: wrong answer, lost connection, no answer */
    EXIT_USAGE = 2,  /* bad options, unreadable key or data file, cannot resolve */
};

typedef enum key_pattern { PATTERN_UNIFORM, PATTERN_ZIPF, PATTERN_SEQUENTIAL } key_pattern;
typedef enum bench_protocol { PROTOCOL_EVKV, PROTOCOL_RESP } bench_protocol;

typedef struct bench_options {
    const char *host, *port;
    int threads, conns, depth;
    double duration, warmup, rate;
    uint64_t requests; /* -n; 0 when -d */
    const char *keys_path, *json_path;
    const char *data_path[2]; /* --data, given once or twice */
    int ndata;
    datafile_format format;
    key_pattern pattern;
    double zipf_exp, miss_ratio;
    uint64_t seed;
    int reconnect;
    bench_protocol protocol;
    int timeout_ms;
    size_t max_answer; /* largest evkv answer content taken */
} bench_options;

/* A key, and what its answer must be. Offsets are into keyset.arena. */
typedef struct bench_key {
    size_t key_off, value_off;
    uint32_t key_len, value_len; /* or VALUE_UNKNOWN, VALUE_MISS */
} bench_key;

/* Which table a right answer came from, with two --data tables. */
enum answer_from {
    FROM_FIRST,  /* the first table's answer, not the second's */
    FROM_SECOND, /* the second table's answer, not the first's */
    FROM_BOTH,   /* both tables give this answer */
    FROM_N,
};

/* What the answer to a request must be. */
typedef enum expect {
    EXPECT_UNKNOWN = 0, /* not known: classified from the answer */
    EXPECT_HIT,         /* this exact value */
    EXPECT_MISS,        /* no match */
} expect;

typedef struct keyset {
    proto_buf arena;
    bench_key *keys;
    size_t n, cap;
    /* With two --data tables, keys[i] in the second table (value VALUE_MISS
     * if not in it); where both give the same answer, the value is keys[i]'s
     * own (same offset and length). NULL with one table. */
    bench_key *second;
    size_t second_cap;
    int table_known; /* every key not in the table is a miss */
    int raw_strings; /* store string values as their text (RESP), not JSON */
    double *zipf_cdf;
} keyset;

/* One second of the measurement, summed over the threads. */
typedef struct series_point {
    uint64_t requests, errors;
    histogram hist;
} series_point;

typedef struct bench {
    bench_options opt;
    keyset ks;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint64_t t_start, t_measure, t_end; /* monotonic ns; t_end 0 with -n */
    pthread_mutex_t lock;               /* guards what follows */
    series_point *series;
    size_t nseries;
    histogram sofar;
    uint64_t sofar_requests;
    atomic_int threads_done;
} bench;

typedef struct inflight {
    uint64_t t_sched;
    uint32_t key; /* index into the keyset, or MISS_FLAG | n for a miss key */
} inflight;

struct bthread;

typedef struct bconn {
    struct bthread *th;
    evutil_socket_t fd;   /* -1 when not connected */
    struct event *ev_read, *ev_write;
    struct evbuffer *in;  /* RESP replies not yet parsed */
    struct evbuffer *out; /* requests not yet taken by the socket */
    struct event *timer; /* open loop: next send; reconnect: retry */
    proto_decoder dec;
    inflight *ring; /* -P slots, a FIFO */
    unsigned head, count;
    uint64_t next_sched;    /* open loop */
    uint64_t last_progress; /* last answer, or the send that ended idleness */
    int connected;
    int writing; /* ev_write is added */
} bconn;

typedef struct bthread {
    bench *b;
    int id;
    pthread_t tid;
    struct event_base *base;
    bconn *conns;
    struct event *tick, *end_timer, *drain_timer;
    uint64_t rng;
    uint64_t seq; /* sequential pattern position */
    uint64_t quota, measured_issued;
    uint64_t inflight;
    int stopping;
    uint64_t requests, hits, misses; /* measured */
    uint64_t from[FROM_N];           /* measured, with two --data tables */
    int two_tables;                  /* b->ks.second != NULL: one load less per answer */
    uint64_t errors;                 /* warmup included: any error fails the run */
    uint64_t last_answer;
    histogram hist, interval;
    uint64_t interval_requests, interval_errors;
    size_t tick_index;
    proto_buf scratch, text;
    char first_error[256];
} bthread;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, fast, and good enough to pick keys. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- keys ---- */

/* Adds a key; value_len VALUE_UNKNOWN or VALUE_MISS when there is no value. */
static int keyset_add(keyset *ks, const char *key, size_t key_len, const char *value, size_t value_len)
{
    if (key_len >= MISS_FLAG || (value && value_len >= VALUE_MISS))
        return -1;
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 1024;
        bench_key *k = realloc(ks->keys, cap * sizeof(*k));
        if (k == NULL)
            return -1;
        ks->keys = k;
        ks->cap = cap;
    }
    bench_key *k = &ks->keys[ks->n++];
    k->key_off = ks->arena.len;
    k->key_len = (uint32_t)key_len;
    proto_buf_append(&ks->arena, key, key_len);
    k->value_off = ks->arena.len;
    k->value_len = (uint32_t)value_len;
    if (value == NULL)
        return ks->arena.failed ? -1 : 0;
    json_t *str = NULL;
    if (ks->raw_strings && value_len > 0 && value[0] == '"')
        str = json_loadb(value, value_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_string(str)) {
        /* Redis holds a string value as its text. */
        k->value_len = (uint32_t)json_string_length(str);
        proto_buf_append(&ks->arena, json_string_value(str), json_string_length(str));
    } else {
        proto_buf_append(&ks->arena, value, value_len);
    }
    json_decref(str);
    return ks->arena.failed ? -1 : 0;
}

static int sink_begin(void *arg, size_t expected, size_t expected_bytes)
{
    keyset *ks = arg;
    (void)expected;
    (void)expected_bytes;
    ks->n = 0; /* a reader starting over */
    proto_buf_reset(&ks->arena);
    return 0;
}

static int sink_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue)
{
    keyset *ks = arg;
    const char *v = value[0].iov_base;
    size_t vlen = value[0].iov_len;
    proto_buf joined = {0};
    if (nvalue > 1) {
        for (int i = 0; i < nvalue; i++)
            proto_buf_append(&joined, value[i].iov_base, value[i].iov_len);
        v = joined.data;
        vlen = joined.len;
    }
    int rc = joined.failed ? -1 : keyset_add(ks, key, key_len, v, vlen);
    proto_buf_free(&joined);
    return rc;
}

static const char *key_text(const keyset *ks, const bench_key *k)
{
    return ks->arena.data + k->key_off;
}

static const keyset *sort_ks; /* qsort has no context argument */

static int key_cmp(const void *a, const void *b)
{
    const bench_key *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(key_text(sort_ks, x), key_text(sort_ks, y), n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Finds key in a table sorted by key_cmp, or NULL. */
static const bench_key *keyset_find(const keyset *t, const char *key, size_t len)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const bench_key *m = &t->keys[mid];
        size_t l = m->key_len < len ? m->key_len : len;
        int c = memcmp(key_text(t, m), key, l);
        if (c == 0)
            c = (m->key_len > len) - (m->key_len < len);
        if (c == 0)
            return m;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A copy of t's keys sorted by key_cmp, for keyset_find. The copy borrows
 * t's arena: free only out->keys. Returns 0, or -1 (out of memory). */
static int keyset_sorted_copy(const keyset *t, keyset *out)
{
    *out = *t;
    out->keys = malloc((t->n ? t->n : 1) * sizeof(*out->keys));
    if (out->keys == NULL)
        return -1;
    memcpy(out->keys, t->keys, t->n * sizeof(*out->keys));
    sort_ks = out;
    qsort(out->keys, out->n, sizeof(*out->keys), key_cmp);
    return 0;
}

/* Adds key with its answers in two tables (sorted by key_cmp): the first's
 * in ks->keys, the second's in ks->second, each a value or VALUE_MISS.
 * Where the two answers are the same, the second entry is a copy of the
 * first, so that check_second tells them apart by offset and length. */
static int keyset_add_both(keyset *ks, const keyset *tables, const char *key, size_t len)
{
    const bench_key *v1 = keyset_find(&tables[0], key, len), *v2 = keyset_find(&tables[1], key, len);
    const char *d1 = v1 ? tables[0].arena.data + v1->value_off : NULL;
    const char *d2 = v2 ? tables[1].arena.data + v2->value_off : NULL;

    if (ks->n == ks->second_cap) {
        size_t cap = ks->second_cap ? ks->second_cap * 2 : 1024;
        bench_key *s = realloc(ks->second, cap * sizeof(*s));
        if (s == NULL)
            return -1;
        ks->second = s;
        ks->second_cap = cap;
    }
    if (keyset_add(ks, key, len, d1, v1 ? v1->value_len : VALUE_MISS) != 0)
        return -1;
    const bench_key *first = &ks->keys[ks->n - 1];
    bench_key *s = &ks->second[ks->n - 1];
    *s = *first;
    if (v2 == NULL) {
        s->value_len = VALUE_MISS;
    } else if (v1 == NULL || v1->value_len != v2->value_len || memcmp(d1, d2, v1->value_len) != 0) {
        s->value_off = ks->arena.len;
        s->value_len = v2->value_len;
        proto_buf_append(&ks->arena, d2, v2->value_len);
    }
    return ks->arena.failed ? -1 : 0;
}

static void keyset_free(keyset *ks)
{
    proto_buf_free(&ks->arena);
    free(ks->keys);
    free(ks->second);
    free(ks->zipf_cdf);
    memset(ks, 0, sizeof(*ks));
}

/* Reads --keys: one key per line. Where the table is known, each key gets
 * its value from it (or is known to be a miss); with two tables (ntables
 * 2, both known), its value in each. Tables are sorted by key_cmp. */
static int keyset_read_keys(keyset *ks, const keyset *tables, int ntables, const char *path, char *err, size_t errlen)
{
    const keyset *table = &tables[0];
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = -1;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        if (!proto_utf8_valid(line, (size_t)n)) {
            snprintf(err, errlen, "%s: line %zu: not valid UTF-8", path, lineno);
            goto done;
        }
        const bench_key *hit = table->table_known ? keyset_find(table, line, (size_t)n) : NULL;
        int added;
        if (ntables == 2)
            added = keyset_add_both(ks, tables, line, (size_t)n);
        else if (hit)
            added = keyset_add(ks, line, (size_t)n, table->arena.data + hit->value_off, hit->value_len);
        else
            added = keyset_add(ks, line, (size_t)n, NULL, table->table_known ? VALUE_MISS : VALUE_UNKNOWN);
        if (added != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto done;
        }
    }
    if (ks->n == 0) {
        snprintf(err, errlen, "%s: no keys", path);
        goto done;
    }
    rc = 0;
done:
    free(line);
    fclose(f);
    return rc;
}

/* Two tables (--data twice) into b->ks: the keys are --keys, or else every
 * key of the first table, then those of the second that the first lacks;
 * each carries its answer in both tables. */
static int keyset_merge(bench *b, const keyset *table, char *err, size_t errlen)
{
    keyset sorted[2];
    int rc = -1;

    memset(sorted, 0, sizeof(sorted));
    b->ks.table_known = 1;
    for (int i = 0; i < 2; i++)
        if (keyset_sorted_copy(&table[i], &sorted[i]) != 0)
            goto nomem;
    if (b->opt.keys_path) {
        rc = keyset_read_keys(&b->ks, sorted, 2, b->opt.keys_path, err, errlen);
        goto done;
    }
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < table[t].n; i++) {
            const bench_key *k = &table[t].keys[i];
            const char *key = key_text(&table[t], k);
            if (t == 1 && keyset_find(&sorted[0], key, k->key_len) != NULL)
                continue;
            if (keyset_add_both(&b->ks, sorted, key, k->key_len) != 0)
                goto nomem;
        }
    }
    rc = 0;
    goto done;
nomem:
    snprintf(err, errlen, "out of memory");
done:
    free(sorted[0].keys);
    free(sorted[1].keys);
    return rc;
}

/* Makes b->ks: the keys to ask for and, where known, their answers. On
 * error, b->ks is empty and err says why. */
static int keyset_load(bench *b, char *err, size_t errlen)
{
    const bench_options *o = &b->opt;
    int resp = o->protocol == PROTOCOL_RESP;
    keyset table[2] = {{.raw_strings = resp}, {.raw_strings = resp}};

    for (int i = 0; i < o->ndata; i++) {
        datafile_sink sink = {.begin = sink_begin, .entry = sink_entry, .arg = &table[i]};
        if (datafile_read(o->data_path[i], o->format, &sink, err, errlen) < 0)
            goto fail;
        table[i].table_known = 1;
    }
    if (o->ndata == 0 && !o->keys_path) {
        /* The server's built-in table, from PROTOCOL.md. */
        static const char *const builtin[][2] = {
            {"morpheus", "\"Follow the white rabbit. \xf0\x9f\x90\xb0\""},
            {"ring", "\"In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d\""},
            {"\xf0\x9f\x90\xb6", "\"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\""},
        };
        for (size_t i = 0; i < 3; i++)
            if (keyset_add(&table[0], builtin[i][0], strlen(builtin[i][0]), builtin[i][1], strlen(builtin[i][1])))
                goto nomem;
        table[0].table_known = 1;
    }
    if (o->ndata == 2) {
        if (keyset_merge(b, table, err, errlen) != 0)
            goto fail;
        keyset_free(&table[0]);
        keyset_free(&table[1]);
    } else if (o->keys_path) {
        if (table[0].table_known) {
            sort_ks = &table[0];
            qsort(table[0].keys, table[0].n, sizeof(*table[0].keys), key_cmp);
        }
        if (keyset_read_keys(&b->ks, table, 1, o->keys_path, err, errlen) != 0)
            goto fail;
        b->ks.table_known = table[0].table_known;
        keyset_free(&table[0]);
    } else {
        b->ks = table[0];
        table[0] = (keyset){0};
    }
    if (b->ks.n == 0) {
        if (o->ndata == 2)
            snprintf(err, errlen, "%s, %s: no keys", o->data_path[0], o->data_path[1]);
        else
            snprintf(err, errlen, "%s: no keys", o->ndata ? o->data_path[0] : "--keys");
        goto fail;
    }
    if (o->pattern == PATTERN_ZIPF) {
        b->ks.zipf_cdf = malloc(b->ks.n * sizeof(double));
        if (b->ks.zipf_cdf == NULL)
            goto nomem;
        double sum = 0;
        for (size_t i = 0; i < b->ks.n; i++)
            b->ks.zipf_cdf[i] = (sum += pow((double)(i + 1), -o->zipf_exp));
        for (size_t i = 0; i < b->ks.n; i++)
            b->ks.zipf_cdf[i] /= sum;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    keyset_free(&table[0]);
    keyset_free(&table[1]);
    keyset_free(&b->ks);
    return -1;
}

/* Picks the next key: an index, or MISS_FLAG | n for a generated miss. */
static uint32_t key_pick(bthread *th)
{
    const bench *b = th->b;
    const keyset *ks = &b->ks;

    if (b->opt.miss_ratio > 0 && rng_unit(&th->rng) < b->opt.miss_ratio)
        return MISS_FLAG | (uint32_t)(rng_next(&th->rng) & ~MISS_FLAG);
    switch (b->opt.pattern) {
    case PATTERN_SEQUENTIAL: return (uint32_t)((th->seq++ * (uint64_t)b->opt.threads + (uint64_t)th->id) % ks->n);
    case PATTERN_ZIPF: {
        double u = rng_unit(&th->rng);
        size_t lo = 0, hi = ks->n - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (ks->zipf_cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        return (uint32_t)lo;
    }
    default: return (uint32_t)(rng_next(&th->rng) % ks->n);
    }
}

/* The text of key k into buf (miss keys are generated). */
static const char *key_get(bthread *th, uint32_t k, char *buf, size_t buflen, size_t *len)
{
    if (k & MISS_FLAG) {
        *len = (size_t)snprintf(buf, buflen, MISS_PREFIX "%u", k & ~MISS_FLAG);
        return buf;
    }
    const bench_key *bk = &th->b->ks.keys[k];
    *len = bk->key_len;
    return key_text(&th->b->ks, bk);
}

/* ---- errors and stats ---- */

static void bench_error(bthread *th, uint64_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void bench_error(bthread *th, uint64_t n, const char *fmt, ...)
{
    th->errors += n;
    th->interval_errors += n;
    if (th->first_error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(th->first_error, sizeof(th->first_error), fmt, ap);
        va_end(ap);
    }
}

/* ---- connections ---- */

static void conn_issue(bconn *c);
static int conn_start(bconn *c);
static void conn_flush(bconn *c);
static void conn_close_socket(bconn *c);

static int may_issue(bthread *th, uint64_t t_sched)
{
    const bench *b = th->b;
    if (th->stopping)
        return 0;
    if (t_sched < b->t_measure)
        return 1; /* warmup: not counted */
    if (b->opt.requests)
        return th->measured_issued < th->quota;
    return 1;
}

static void thread_check_done(bthread *th)
{
    const bench *b = th->b;
    if (th->inflight != 0)
        return;
    if (th->stopping || (b->opt.requests && th->measured_issued >= th->quota))
        event_base_loopexit(th->base, NULL);
}

static void conn_send(bconn *c, uint32_t k, uint64_t t_sched)
{
    bthread *th = c->th;
    char buf[40];
    size_t len;
    const char *key = key_get(th, k, buf, sizeof(buf), &len);
    proto_buf *s = &th->scratch;

    proto_buf_reset(s);
    if (th->b->opt.protocol == PROTOCOL_RESP) {
        char head[48];
        proto_buf_append(s, head, (size_t)snprintf(head, sizeof(head), "*2\r\n$3\r\nGET\r\n$%zu\r\n", len));
        proto_buf_append(s, key, len);
        proto_buf_append(s, "\r\n", 2);
    } else {
        proto_encode_request(s, "search", 6, key, len);
    }
    evbuffer_add(c->out, s->data, s->len);
    if (c->count == 0)
        c->last_progress = t_sched;
    inflight *f = &c->ring[(c->head + c->count) % (unsigned)th->b->opt.depth];
    f->t_sched = t_sched;
    f->key = k;
    c->count++;
    th->inflight++;
    if (t_sched >= th->b->t_measure)
        th->measured_issued++;
}

/* Sends what is due: in a closed loop, until -P are in flight; in an open
 * loop, every request whose time has come (while fewer than -P are in
 * flight), then arms the timer for the next one. Requests written before
 * the connection is up wait in c->out until it is. With
 * --reconnect, a connection is opened for each request when it is due, so
 * its latency includes the connect. */
static void conn_issue(bconn *c)
{
    bthread *th = c->th;
    const bench *b = th->b;
    unsigned depth = (unsigned)b->opt.depth;
    int open_loop = b->opt.rate > 0;
    uint64_t now = now_ns();

    if (c->fd < 0 && !b->opt.reconnect)
        return; /* persistent and down: the retry timer brings it back */
    while (c->count < depth) {
        uint64_t t = open_loop ? c->next_sched : now;
        if (t > now || !may_issue(th, t))
            break;
        if (c->fd < 0 && conn_start(c) != 0)
            return;
        conn_send(c, key_pick(th), t);
        if (open_loop)
            c->next_sched += (uint64_t)(1e9 * b->opt.threads * b->opt.conns / b->opt.rate);
    }
    if (open_loop && c->count < depth && c->next_sched > now && !th->stopping) {
        uint64_t wait = c->next_sched - now;
        struct timeval tv = {(time_t)(wait / NS_PER_SEC), (suseconds_t)(wait % NS_PER_SEC / 1000)};
        evtimer_add(c->timer, &tv);
    }
    conn_flush(c);
}

/* Sets up c's decoder for a new connection, with the --max-answer limit. */
static void conn_decoder_init(bconn *c)
{
    proto_limits limits = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = c->th->b->opt.max_answer};
    proto_decoder_init(&c->dec, &limits);
}

/* Closes c's connection. Requests still in flight on it are counted as
 * sent and failed. */
static void conn_drop(bconn *c, const char *why)
{
    bthread *th = c->th;
    if (c->count)
        bench_error(th, c->count, "%s (%u requests unanswered)", why, c->count);
    for (unsigned i = 0; i < c->count; i++) {
        if (c->ring[(c->head + i) % (unsigned)th->b->opt.depth].t_sched >= th->b->t_measure) {
            th->requests++;
            th->interval_requests++;
        }
    }
    th->inflight -= c->count;
    c->count = 0;
    conn_close_socket(c);
    proto_decoder_free(&c->dec);
    conn_decoder_init(c);
    if (!th->stopping && !th->b->opt.reconnect) {
        /* A persistent connection comes back shortly (conn_timer_cb). */
        struct timeval retry = {0, 100 * 1000};
        evtimer_add(c->timer, &retry);
    }
}

/* What the answer for key k must be, by a table: keys is ks.keys, or
 * ks.second for the second --data table. For EXPECT_HIT and, over evkv,
 * for EXPECT_MISS, data and len give its exact content (in th->scratch).
 * Inlined into its two callers, so that the first table's stays as it was
 * before there could be a second. */
static inline __attribute__((always_inline)) expect expected_answer_in(bthread *th, const bench_key *keys, uint32_t k,
                                                                       const char **data, size_t *len)
{
    const bench *b = th->b;
    proto_buf *t = &th->text, *s = &th->scratch;
    const bench_key *bk = (k & MISS_FLAG) ? NULL : &keys[k];
    int resp = b->opt.protocol == PROTOCOL_RESP;
    expect e;

    if (bk && bk->value_len == VALUE_UNKNOWN)
        return EXPECT_UNKNOWN;
    if (bk == NULL && !b->ks.table_known)
        return EXPECT_UNKNOWN;
    e = bk && bk->value_len != VALUE_MISS ? EXPECT_HIT : EXPECT_MISS;
    proto_buf_reset(s);
    if (e == EXPECT_HIT) {
        if (!resp)
            proto_buf_append(s, "{\"result\": ", 11);
        proto_buf_append(s, b->ks.arena.data + bk->value_off, bk->value_len);
        if (!resp)
            proto_buf_append(s, "}", 1);
    } else if (!resp) {
        char buf[40];
        size_t klen;
        const char *key = key_get(th, k, buf, sizeof(buf), &klen);
        proto_buf_reset(t);
        proto_buf_append(t, "No match for '", 14);
        proto_buf_append(t, key, klen);
        proto_buf_append(t, "'.", 2);
        proto_buf_append(s, "{\"result\": ", 11);
        proto_dump_string(s, t->data, t->len);
        proto_buf_append(s, "}", 1);
    }
    if (s->failed)
        return EXPECT_UNKNOWN;
    *data = s->data;
    *len = s->len;
    return e;
}

/* What the answer for key k must be, by the (first) table. */
static expect expected_answer(bthread *th, uint32_t k, const char **data, size_t *len)
{
    return expected_answer_in(th, th->b->ks.keys, k, data, len);
}

/* With two --data tables (ks.second), decides an answer for key k, the
 * request at the head of c's FIFO: right if it is either table's answer.
 * first is what the first table expects, first_ok whether the answer is
 * that; content and len are the answer's (nil: a RESP nil reply). Counts
 * which table the answer came from. Returns what the matching table
 * expects (EXPECT_HIT or EXPECT_MISS), or EXPECT_UNKNOWN if neither gives
 * this answer. */
static expect check_second(bconn *c, uint32_t k, expect first, int first_ok, int nil, const char *content, size_t len)
{
    bthread *th = c->th;
    const bench *b = th->b;
    const bench_key *k1 = (k & MISS_FLAG) ? NULL : &b->ks.keys[k];
    const bench_key *k2 = (k & MISS_FLAG) ? NULL : &b->ks.second[k];
    enum answer_from from;
    expect e = first;

    if (k1 == NULL || (k1->value_off == k2->value_off && k1->value_len == k2->value_len)) {
        if (!first_ok)
            return EXPECT_UNKNOWN;
        from = FROM_BOTH;
    } else if (first_ok) {
        from = FROM_FIRST;
    } else {
        const char *edata = NULL;
        size_t elen = 0;
        int match;
        e = expected_answer_in(th, b->ks.second, k, &edata, &elen);
        if (nil)
            match = e == EXPECT_MISS; /* RESP's miss answer */
        else if (e == EXPECT_MISS && b->opt.protocol == PROTOCOL_RESP)
            match = 0; /* a value where the table has none */
        else
            match = e != EXPECT_UNKNOWN && len == elen && memcmp(content, edata, elen) == 0;
        if (!match)
            return EXPECT_UNKNOWN;
        from = FROM_SECOND;
    }
    if (c->ring[c->head].t_sched >= b->t_measure)
        th->from[from]++;
    return e;
}

/* Takes the oldest request off c's FIFO and counts its answer. */
static void conn_answered(bconn *c, int ok, int hit)
{
    bthread *th = c->th;
    inflight *f = &c->ring[c->head];
    uint64_t now = now_ns();

    c->head = (c->head + 1) % (unsigned)th->b->opt.depth;
    c->count--;
    th->inflight--;
    c->last_progress = now;
    if (f->t_sched >= th->b->t_measure) {
        uint64_t lat = now > f->t_sched ? now - f->t_sched : 0;
        th->requests++;
        th->interval_requests++;
        th->last_answer = now;
        histogram_record(&th->hist, lat);
        histogram_record(&th->interval, lat);
        if (ok && hit)
            th->hits++;
        else if (ok)
            th->misses++;
    }
}

/* Checks one evkv answer to the request at the head of the FIFO. */
static void check_evkv(bconn *c, const proto_message *msg)
{
    bthread *th = c->th;
    uint32_t k = c->ring[c->head].key;
    size_t elen = 0;
    const char *edata = NULL;
    expect e = expected_answer(th, k, &edata, &elen);
    char buf[40];
    size_t klen;
    const char *key = key_get(th, k, buf, sizeof(buf), &klen);

    if (!msg->is_json) {
        bench_error(th, 1, "answer for '%.*s' is not text/json", (int)klen, key);
        conn_answered(c, 0, 0);
        return;
    }
    if (e != EXPECT_UNKNOWN) {
        int ok = msg->content_len == elen && memcmp(msg->content, edata, elen) == 0;
        if (th->two_tables) {
            e = check_second(c, k, e, ok, 0, (const char *)msg->content, msg->content_len);
            ok = e != EXPECT_UNKNOWN;
        }
        if (!ok)
            bench_error(th, 1, "wrong answer for '%.*s': %.*s", (int)(klen > 40 ? 40 : klen), key,
                        (int)(msg->content_len > 80 ? 80 : msg->content_len), (const char *)msg->content);
        conn_answered(c, ok, e == EXPECT_HIT);
        return;
    }
    /* Not known: classify from the JSON. */
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, key, klen, &result);
    if (a == EVKV_ANSWER_ERROR)
        bench_error(th, 1, "error answer for '%.*s': %.*s", (int)(klen > 40 ? 40 : klen), key,
                    (int)(msg->content_len > 80 ? 80 : msg->content_len), (const char *)msg->content);
    conn_answered(c, a != EVKV_ANSWER_ERROR, a == EVKV_ANSWER_HIT);
    json_decref(result);
}

static void read_evkv(bconn *c, const char *data, size_t n)
{
    proto_message msg;

    proto_decoder_feed(&c->dec, data, n);
    for (;;) {
        proto_status st = proto_decoder_next(&c->dec, &msg);
        if (st == PROTO_NEED_MORE)
            return;
        if (st == PROTO_ERROR || c->count == 0) {
            char why[200];
            snprintf(why, sizeof(why), "bad answer framing: %s%s",
                     st == PROTO_ERROR ? c->dec.errstr : "an answer nobody asked for",
                     st == PROTO_ERROR ? evkv_decoder_hint(&c->dec) : "");
            if (c->count == 0)
                bench_error(c->th, 1, "%s", why);
            conn_drop(c, why);
            return;
        }
        check_evkv(c, &msg);
    }
}

/* Parses one RESP reply at the front of in. Returns 1 and drains it, 0 if
 * incomplete, -1 on a protocol error. */
static int read_resp_one(bconn *c, struct evbuffer *in)
{
    bthread *th = c->th;
    size_t avail = evbuffer_get_length(in);
    struct evbuffer_ptr eol = evbuffer_search(in, "\r\n", 2, NULL);

    if (eol.pos < 0)
        return avail > 1024 ? -1 : 0;
    size_t linelen = (size_t)eol.pos;
    unsigned char *p = evbuffer_pullup(in, (ssize_t)linelen + 2);
    uint32_t k = c->ring[c->head].key;
    size_t elen = 0;
    const char *edata = NULL;
    expect e = expected_answer(th, k, &edata, &elen);

    if (p[0] == '$') {
        long n = strtol((const char *)p + 1, NULL, 10);
        if (n == -1) {
            int ok = e != EXPECT_HIT;
            if (th->two_tables)
                ok = check_second(c, k, e, ok, 1, NULL, 0) != EXPECT_UNKNOWN;
            if (!ok)
                bench_error(th, 1, "nil answer for a key in the table");
            conn_answered(c, ok, 0);
            evbuffer_drain(in, linelen + 2);
            return 1;
        }
        if (n < 0 || n > (1 << 30))
            return -1;
        size_t total = linelen + 2 + (size_t)n + 2;
        if (avail < total)
            return 0;
        p = evbuffer_pullup(in, (ssize_t)total);
        const char *data = (const char *)p + linelen + 2;
        int ok = !(e == EXPECT_MISS || (e == EXPECT_HIT && ((size_t)n != elen || memcmp(data, edata, elen) != 0)));
        if (th->two_tables)
            ok = check_second(c, k, e, ok, 0, data, (size_t)n) != EXPECT_UNKNOWN;
        if (!ok)
            bench_error(th, 1, "wrong answer: %.*s", (int)(n > 80 ? 80 : n), data);
        conn_answered(c, ok, 1);
        evbuffer_drain(in, total);
        return 1;
    }
    if (p[0] == '-' || p[0] == '+' || p[0] == ':') {
        bench_error(th, 1, "unexpected reply: %.*s", (int)(linelen > 80 ? 80 : linelen), (const char *)p);
        conn_answered(c, 0, 0);
        evbuffer_drain(in, linelen + 2);
        return 1;
    }
    return -1;
}

static void read_resp(bconn *c, struct evbuffer *in)
{
    while (evbuffer_get_length(in) > 0) {
        if (c->count == 0) {
            conn_drop(c, "a reply nobody asked for");
            bench_error(c->th, 1, "a reply nobody asked for");
            return;
        }
        int rc = read_resp_one(c, in);
        if (rc == 0)
            return;
        if (rc < 0) {
            conn_drop(c, "bad RESP reply");
            return;
        }
    }
}

/* The connection failed or the server closed it. */
static void conn_failed(bconn *c, const char *why)
{
    if (c->count == 0 && !c->connected)
        bench_error(c->th, 1, "%s", why); /* a failed connect counts once */
    conn_drop(c, why);
    conn_issue(c);
    thread_check_done(c->th);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    bthread *th = c->th;
    char buf[65536];
    (void)what;

    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        char why[160];
        snprintf(why, sizeof(why), "%s", n == 0 ? "the server closed the connection" : strerror(errno));
        conn_failed(c, why);
        return;
    }
    if (th->b->opt.protocol == PROTOCOL_RESP) {
        evbuffer_add(c->in, buf, (size_t)n);
        read_resp(c, c->in);
    } else {
        read_evkv(c, buf, (size_t)n);
    }
    if (th->b->opt.reconnect && c->fd >= 0 && c->count == 0) {
        /* One request per connection: close without TIME_WAIT (RST), or a
         * long run would use up the ephemeral ports. */
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        conn_drop(c, "");
    }
    conn_issue(c);
    thread_check_done(th);
}

/* Writable: the connection is up (or failed), or the socket takes more of
 * the requests. */
static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    (void)what;

    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            char why[160];
            snprintf(why, sizeof(why), "connection error: %s", strerror(err));
            conn_failed(c, why);
            return;
        }
        c->connected = 1;
    }
    conn_flush(c);
}

/* Writes what the socket takes now; keeps the write event for the rest (or
 * for the connect). */
static void conn_flush(bconn *c)
{
    if (c->fd < 0)
        return;
    if (c->connected && evbuffer_get_length(c->out) > 0) {
        if (evbuffer_write(c->out, c->fd) < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            char why[160];
            snprintf(why, sizeof(why), "send: %s", strerror(errno));
            conn_failed(c, why);
            return;
        }
    }
    int want = !c->connected || evbuffer_get_length(c->out) > 0;
    if (want && !c->writing)
        event_add(c->ev_write, NULL);
    else if (!want && c->writing)
        event_del(c->ev_write);
    c->writing = want;
}

static void conn_close_socket(bconn *c)
{
    if (c->fd < 0)
        return;
    event_free(c->ev_read);
    event_free(c->ev_write);
    c->ev_read = c->ev_write = NULL;
    evutil_closesocket(c->fd);
    c->fd = -1;
    c->connected = 0;
    c->writing = 0;
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

/* Opens c's connection (the connect completes in the background; requests
 * queue in c->out meanwhile). Returns 0, or -1 (counted as an error). */
static int conn_start(bconn *c)
{
    bthread *th = c->th;
    const struct sockaddr *sa = (const struct sockaddr *)&th->b->addr;
    int one = 1;

    c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        bench_error(th, 1, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->connected = 0;
    c->writing = 0;
    c->ev_read = event_new(th->base, c->fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->ev_write = event_new(th->base, c->fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    if (c->ev_read == NULL || c->ev_write == NULL ||
        (connect(c->fd, sa, th->b->addrlen) != 0 && errno != EINPROGRESS)) {
        bench_error(th, 1, "connect: %s", strerror(errno));
        if (c->ev_read == NULL || c->ev_write == NULL) {
            if (c->ev_read)
                event_free(c->ev_read);
            if (c->ev_write)
                event_free(c->ev_write);
            evutil_closesocket(c->fd);
            c->fd = -1;
        } else {
            conn_close_socket(c);
        }
        return -1;
    }
    event_add(c->ev_read, NULL);
    event_add(c->ev_write, NULL); /* writable once connected */
    c->writing = 1;
    return 0;
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    (void)fd;
    (void)what;
    if (c->fd < 0 && !c->th->b->opt.reconnect && !c->th->stopping && conn_start(c) != 0)
        return;
    conn_issue(c);
}

/* ---- threads ---- */

static void thread_flush_interval(bthread *th)
{
    bench *b = th->b;
    pthread_mutex_lock(&b->lock);
    if (th->tick_index >= b->nseries) {
        size_t n = th->tick_index + 16;
        series_point *s = realloc(b->series, n * sizeof(*s));
        if (s != NULL) {
            for (size_t i = b->nseries; i < n; i++) {
                memset(&s[i], 0, sizeof(s[i]));
                histogram_init(&s[i].hist);
            }
            b->series = s;
            b->nseries = n;
        }
    }
    if (th->tick_index < b->nseries) {
        series_point *p = &b->series[th->tick_index];
        p->requests += th->interval_requests;
        p->errors += th->interval_errors;
        histogram_add(&p->hist, &th->interval);
        histogram_add(&b->sofar, &th->interval);
        b->sofar_requests += th->interval_requests;
    }
    pthread_mutex_unlock(&b->lock);
    th->tick_index++;
    th->interval_requests = th->interval_errors = 0;
    histogram_init(&th->interval);
}

static struct timeval tv_until(uint64_t t)
{
    uint64_t now = now_ns(), d = t > now ? t - now : 0;
    struct timeval tv = {(time_t)(d / NS_PER_SEC), (suseconds_t)(d % NS_PER_SEC / 1000)};
    return tv;
}

/* Once a second of the measurement: publish the interval, and give up on
 * a connection whose requests have had no answer for --timeout (it is
 * counted as failed and comes back). */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    uint64_t now = now_ns(), limit = (uint64_t)th->b->opt.timeout_ms * 1000000;
    (void)fd;
    (void)what;
    thread_flush_interval(th);
    for (int i = 0; i < th->b->opt.conns; i++) {
        bconn *c = &th->conns[i];
        if (c->count && now > c->last_progress + limit) {
            conn_drop(c, "no answer within --timeout");
            conn_issue(c);
        }
    }
    thread_check_done(th);
    struct timeval tv = tv_until(th->b->t_measure + (th->tick_index + 1) * NS_PER_SEC);
    evtimer_add(th->tick, &tv);
}

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    (void)fd;
    (void)what;
    th->stopping = 1;
    struct timeval tv = {th->b->opt.timeout_ms / 1000, (th->b->opt.timeout_ms % 1000) * 1000};
    evtimer_add(th->drain_timer, &tv);
    thread_check_done(th);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < th->b->opt.conns; i++)
        if (th->conns[i].count)
            conn_drop(&th->conns[i], "no answer before the timeout");
    event_base_loopexit(th->base, NULL);
}

static void *thread_main(void *arg)
{
    bthread *th = arg;
    bench *b = th->b;
    const bench_options *o = &b->opt;

    for (int i = 0; i < o->conns; i++) {
        bconn *c = &th->conns[i];
        int global = th->id * o->conns + i;
        if (o->rate > 0) {
            uint64_t interval = (uint64_t)(1e9 * o->threads * o->conns / o->rate);
            c->next_sched = b->t_start + interval * (uint64_t)global / (uint64_t)(o->threads * o->conns);
        }
        if (!o->reconnect)
            conn_start(c);
        conn_issue(c);
    }
    struct timeval tv = tv_until(b->t_measure + NS_PER_SEC);
    event_add(th->tick, &tv);
    if (b->t_end) {
        tv = tv_until(b->t_end);
        evtimer_add(th->end_timer, &tv);
    }
    event_base_dispatch(th->base);
    for (int i = 0; i < o->conns; i++)
        conn_drop(&th->conns[i], "stopped");
    thread_flush_interval(th);
    atomic_fetch_add(&b->threads_done, 1);
    return NULL;
}

static int thread_setup(bench *b, bthread *th, int id)
{
    const bench_options *o = &b->opt;
    struct event_config *cfg = event_config_new();

    memset(th, 0, sizeof(*th));
    th->b = b;
    th->id = id;
    th->two_tables = b->ks.second != NULL;
    th->rng = o->seed * UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)id + 1;
    histogram_init(&th->hist);
    histogram_init(&th->interval);
    if (o->requests)
        th->quota = o->requests / (uint64_t)o->threads + ((uint64_t)id < o->requests % (uint64_t)o->threads);
    /* Precise timers: an open loop's schedule is sub-millisecond. */
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    th->base = cfg ? event_base_new_with_config(cfg) : NULL;
    event_config_free(cfg);
    th->conns = calloc((size_t)o->conns, sizeof(*th->conns));
    for (int i = 0; th->conns && i < o->conns; i++)
        th->conns[i].fd = -1;
    if (th->base == NULL || th->conns == NULL)
        return -1;
    th->tick = evtimer_new(th->base, tick_cb, th);
    th->end_timer = evtimer_new(th->base, end_cb, th);
    th->drain_timer = evtimer_new(th->base, drain_cb, th);
    if (!th->tick || !th->end_timer || !th->drain_timer)
        return -1;
    for (int i = 0; i < o->conns; i++) {
        bconn *c = &th->conns[i];
        c->th = th;
        c->ring = calloc((size_t)o->depth, sizeof(*c->ring));
        c->timer = evtimer_new(th->base, conn_timer_cb, c);
        c->fd = -1;
        c->in = evbuffer_new();
        c->out = evbuffer_new();
        conn_decoder_init(c);
        if (c->ring == NULL || c->timer == NULL || c->in == NULL || c->out == NULL)
            return -1;
    }
    return 0;
}

static void thread_free(bthread *th)
{
    if (th->conns) {
        for (int i = 0; i < th->b->opt.conns; i++) {
            bconn *c = &th->conns[i];
            conn_close_socket(c);
            if (c->in)
                evbuffer_free(c->in);
            if (c->out)
                evbuffer_free(c->out);
            if (c->timer)
                event_free(c->timer);
            proto_decoder_free(&c->dec);
            free(c->ring);
        }
        free(th->conns);
    }
    if (th->tick)
        event_free(th->tick);
    if (th->end_timer)
        event_free(th->end_timer);
    if (th->drain_timer)
        event_free(th->drain_timer);
    if (th->base)
        event_base_free(th->base);
    proto_buf_free(&th->scratch);
    proto_buf_free(&th->text);
}

/* ---- report ---- */

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static const double report_pcts[] = {50, 90, 99, 99.9, 99.99};

static void report_table(FILE *out, uint64_t requests, uint64_t errors, uint64_t hits, uint64_t misses, double rps,
                         const histogram *h)
{
    fprintf(out, "%10s %8s %10s %10s %12s %9s %9s %9s %9s %9s %9s %9s\n", "requests", "errors", "hits", "misses",
            "req/s", "min(us)", "p50(us)", "p90(us)", "p99(us)", "p99.9", "p99.99", "max(us)");
    fprintf(out, "%10llu %8llu %10llu %10llu %12.1f %9.1f", (unsigned long long)requests, (unsigned long long)errors,
            (unsigned long long)hits, (unsigned long long)misses, rps, us(h->count ? h->min : 0));
    for (size_t i = 0; i < sizeof(report_pcts) / sizeof(report_pcts[0]); i++)
        fprintf(out, " %9.1f", us(histogram_percentile(h, report_pcts[i])));
    fprintf(out, " %9.1f\n", us(h->max));
}

/* With two --data tables: which table the right answers came from. Goes
 * before the table, which stays the last two lines. */
static void report_from(FILE *out, const bench_options *o, const uint64_t *from)
{
    fprintf(out, "answers matching only --data %s: %llu, only --data %s: %llu, both: %llu\n", o->data_path[0],
            (unsigned long long)from[FROM_FIRST], o->data_path[1], (unsigned long long)from[FROM_SECOND],
            (unsigned long long)from[FROM_BOTH]);
}

static int report_json(const bench *b, const char *path, uint64_t requests, uint64_t errors, uint64_t hits,
                       uint64_t misses, const uint64_t *from, double elapsed, const histogram *h)
{
    static const double dist[] = {0,  10,   20, 30,   40,    50,   60,    70,    75,     80,     85, 90,
                                  95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100};
    const bench_options *o = &b->opt;
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:b, s:s, s:f}", "host", o->host, "port", o->port,
                  "protocol", o->protocol == PROTOCOL_RESP ? "resp" : "evkv", "threads", o->threads, "connections",
                  o->conns, "depth", o->depth, "duration", o->duration, "warmup", o->warmup, "rate", o->rate,
                  "requests_limit", (json_int_t)o->requests, "reconnect", o->reconnect, "key_pattern",
                  o->pattern == PATTERN_ZIPF         ? "zipf"
                  : o->pattern == PATTERN_SEQUENTIAL ? "sequential"
                                                     : "uniform",
                  "miss_ratio", o->miss_ratio);
    json_t *res = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}", "requests", (json_int_t)requests, "errors",
                            (json_int_t)errors, "hits", (json_int_t)hits, "misses", (json_int_t)misses, "elapsed_s",
                            elapsed, "throughput", elapsed > 0 ? (double)requests / elapsed : 0.0);
    if (o->ndata > 0) {
        json_t *data = json_array();
        for (int i = 0; i < o->ndata; i++)
            json_array_append_new(data, json_string(o->data_path[i]));
        json_object_set_new(root, "data", data);
    }
    if (o->ndata == 2)
        json_object_set_new(res, "answers_from",
                            json_pack("{s:I, s:I, s:I}", "data1_only", (json_int_t)from[FROM_FIRST], "data2_only",
                                      (json_int_t)from[FROM_SECOND], "both", (json_int_t)from[FROM_BOTH]));
    json_t *lat = json_pack("{s:f, s:f}", "min", us(h->count ? h->min : 0), "max", us(h->max));
    for (size_t i = 0; i < sizeof(report_pcts) / sizeof(report_pcts[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%g", report_pcts[i]);
        json_object_set_new(lat, name, json_real(us(histogram_percentile(h, report_pcts[i]))));
    }
    json_t *d = json_array();
    for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++)
        json_array_append_new(
            d, json_pack("{s:f, s:f}", "percentile", dist[i], "latency_us", us(histogram_percentile(h, dist[i]))));
    json_t *series = json_array();
    for (size_t i = 0; i < b->nseries; i++) {
        const series_point *p = &b->series[i];
        if (p->requests == 0 && p->errors == 0 && i + 1 >= b->nseries)
            continue;
        json_array_append_new(series, json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "second", (json_int_t)i + 1,
                                                "requests", (json_int_t)p->requests, "errors", (json_int_t)p->errors,
                                                "p50_us", us(histogram_percentile(&p->hist, 50)), "p99_us",
                                                us(histogram_percentile(&p->hist, 99)), "max_us", us(p->hist.max)));
    }
    json_object_set_new(res, "latency_us", lat);
    json_object_set_new(res, "distribution", d);
    json_object_set_new(res, "series", series);
    json_object_set_new(res, "config", root);
    int rc = json_dump_file(res, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(res);
    return rc;
}

/* ---- options ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-bench [OPTIONS]\n"
            "Loads an evkv server (or Redis, with --protocol resp) with search requests and\n"
            "reports throughput and latency. Every answer is checked.\n"
            "\n"
            "Connection:\n"
            "  -h, --host HOST        server address (default %s)\n"
            "  -p, --port PORT        server port (default %s)\n"
            "      --protocol P       evkv (default) or resp (Redis GET)\n"
            "      --reconnect        a new connection for every request, as the guide's client\n"
            "      --timeout SECS     a connection with no whole answer for this long (bytes of\n"
            "                         one trickling in do not count) has its requests counted\n"
            "                         failed and is reconnected; also how long the end waits\n"
            "                         for the last answers (default 5)\n"
            "      --max-answer BYTES\n"
            "                         largest answer content taken (default %zu: 512 MiB);\n"
            "                         an answer announcing more is an error, refused unread\n"
            "Load shape:\n"
            "  -t, --threads N        threads, each with its own event loop (default 1)\n"
            "  -c, --connections N    connections per thread (default 50)\n"
            "  -P, --pipeline N       requests in flight per connection (default 1)\n"
            "  -d, --duration SECS    how long to measure (default 10)\n"
            "  -n, --requests N       measure exactly N requests instead\n"
            "      --warmup SECS      run this long first without counting (default 0)\n"
            "  -R, --rate N           open loop: N requests/s in all, latency counted from\n"
            "                         each request's scheduled time (default 0: closed loop)\n"
            "Keys:\n"
            "      --keys FILE        keys to ask for, one per line\n"
            "      --data FILE        the server's data file (JSON or TSV): its keys are\n"
            "                         asked for (unless --keys) and every answer is checked\n"
            "                         against its values. Given twice, for a server that\n"
            "                         reloads from one file to the other while measured:\n"
            "                         an answer is right if either file gives it (its value,\n"
            "                         or the miss answer for a key the file lacks), the keys\n"
            "                         of both files are asked for (unless --keys), and the\n"
            "                         report counts the answers matching only the first,\n"
            "                         only the second, or both\n"
            "      --format json|tsv  how to read --data (default: from its extension)\n"
            "      --key-pattern P    uniform (default), zipf or sequential\n"
            "      --zipf-exp X       zipf exponent (default 0.99)\n"
            "      --miss-ratio X     share of requests for keys not in the table (default 0)\n"
            "      --seed N           random seed (default 1)\n"
            "Output:\n"
            "      --json FILE        write the results, percentiles and a per-second series\n"
            "      --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Without --keys or --data, the keys are the server's built-in three.\n"
            "Latencies go into a log-linear histogram: percentiles are within 0.8%% of\n"
            "the true value. A progress line is printed each second when stderr is a\n"
            "terminal.\n"
            "\n"
            "Exit status:\n"
            "  0  every request was answered, and answered right\n"
            "  1  errors: a wrong or malformed answer, a request left unanswered (lost\n"
            "     connection, or none by the end), a failed connection attempt (the\n"
            "     first one is described on stderr)\n"
            "  2  bad usage, an unreadable key or data file, an unknown host\n",
            EVKV_DEFAULT_HOST, EVKV_DEFAULT_PORT, EVKV_DEFAULT_MAX_ANSWER);
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum {
    OPT_PROTOCOL = 256,
    OPT_RECONNECT,
    OPT_TIMEOUT,
    OPT_MAX_ANSWER,
    OPT_WARMUP,
    OPT_KEYS,
    OPT_DATA,
    OPT_FORMAT,
    OPT_PATTERN,
    OPT_ZIPF,
    OPT_MISS,
    OPT_SEED,
    OPT_JSON,
    OPT_HELP,
};

static int parse_options(int argc, char **argv, bench_options *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"protocol", required_argument, NULL, OPT_PROTOCOL},
        {"reconnect", no_argument, NULL, OPT_RECONNECT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-answer", required_argument, NULL, OPT_MAX_ANSWER},
        {"threads", required_argument, NULL, 't'},
        {"connections", required_argument, NULL, 'c'},
        {"pipeline", required_argument, NULL, 'P'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"rate", required_argument, NULL, 'R'},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"data", required_argument, NULL, OPT_DATA},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"key-pattern", required_argument, NULL, OPT_PATTERN},
        {"zipf-exp", required_argument, NULL, OPT_ZIPF},
        {"miss-ratio", required_argument, NULL, OPT_MISS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"json", required_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    long l;
    double d;

    while ((ch = getopt_long(argc, argv, "h:p:t:c:P:d:n:R:V", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (ch) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = optarg; break;
        case OPT_PROTOCOL:
            if (strcmp(optarg, "evkv") == 0)
                o->protocol = PROTOCOL_EVKV;
            else if (strcmp(optarg, "resp") == 0)
                o->protocol = PROTOCOL_RESP;
            else
                bad = "--protocol must be evkv or resp";
            break;
        case OPT_RECONNECT: o->reconnect = 1; break;
        case OPT_TIMEOUT:
            if (parse_double(optarg, 0.001, 3600, &d) == 0)
                o->timeout_ms = (int)(d * 1000);
            else
                bad = "--timeout must be seconds above 0";
            break;
        case OPT_MAX_ANSWER:
            if (evkv_parse_max_answer(optarg, &o->max_answer) != 0)
                bad = "--max-answer must be a whole number of bytes above 0";
            break;
        case 't':
            if (parse_int(optarg, 1, 256, &l) == 0)
                o->threads = (int)l;
            else
                bad = "-t must be 1 to 256";
            break;
        case 'c':
            if (parse_int(optarg, 1, 100000, &l) == 0)
                o->conns = (int)l;
            else
                bad = "-c must be 1 to 100000";
            break;
        case 'P':
            if (parse_int(optarg, 1, 65536, &l) == 0)
                o->depth = (int)l;
            else
                bad = "-P must be 1 to 65536";
            break;
        case 'd':
            if (parse_double(optarg, 0.001, 86400, &o->duration) != 0)
                bad = "-d must be seconds above 0";
            break;
        case 'n':
            if (parse_int(optarg, 1, LONG_MAX, &l) == 0)
                o->requests = (uint64_t)l;
            else
                bad = "-n must be a count above 0";
            break;
        case OPT_WARMUP:
            if (parse_double(optarg, 0, 86400, &o->warmup) != 0)
                bad = "--warmup must be seconds";
            break;
        case 'R':
            if (parse_double(optarg, 0, 1e9, &o->rate) != 0)
                bad = "-R must be a rate in requests per second (0: closed loop)";
            break;
        case OPT_KEYS: o->keys_path = optarg; break;
        case OPT_DATA:
            if (o->ndata < 2)
                o->data_path[o->ndata++] = optarg;
            else
                bad = "--data may be given at most twice";
            break;
        case OPT_FORMAT:
            if (datafile_format_parse(optarg, &o->format) != 0)
                bad = "--format must be json or tsv";
            break;
        case OPT_PATTERN:
            if (strcmp(optarg, "uniform") == 0)
                o->pattern = PATTERN_UNIFORM;
            else if (strcmp(optarg, "zipf") == 0)
                o->pattern = PATTERN_ZIPF;
            else if (strcmp(optarg, "sequential") == 0)
                o->pattern = PATTERN_SEQUENTIAL;
            else
                bad = "--key-pattern must be uniform, zipf or sequential";
            break;
        case OPT_ZIPF:
            if (parse_double(optarg, 0, 10, &o->zipf_exp) != 0)
                bad = "--zipf-exp must be from 0 to 10";
            break;
        case OPT_MISS:
            if (parse_double(optarg, 0, 1, &o->miss_ratio) != 0)
                bad = "--miss-ratio must be from 0 to 1";
            break;
        case OPT_SEED:
            if (parse_int(optarg, 0, LONG_MAX, &l) == 0)
                o->seed = (uint64_t)l;
            else
                bad = "--seed must be a number";
            break;
        case OPT_JSON: o->json_path = optarg; break;
        case OPT_HELP: usage(stdout); exit(EXIT_OK);
        case 'V': printf("evkv-bench %s\n", EVKV_VERSION); exit(EXIT_OK);
        default: bad = "";
        }
        if (bad) {
            if (*bad)
                fprintf(stderr, "evkv-bench: %s\n", bad);
            fprintf(stderr, "Try 'evkv-bench --help'.\n");
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "evkv-bench: unexpected argument '%s'\nTry 'evkv-bench --help'.\n", argv[optind]);
        return -1;
    }
    if (o->reconnect)
        o->depth = 1;
    return 0;
}

static int resolve(bench *b)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(b->opt.host, b->opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "evkv-bench: cannot resolve %s port %s: %s\n", b->opt.host, b->opt.port, gai_strerror(rc));
        return -1;
    }
    memcpy(&b->addr, res->ai_addr, res->ai_addrlen);
    b->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    bench b;
    bthread *threads;
    char err[512];
    int status = EXIT_OK;

    memset(&b, 0, sizeof(b));
    b.opt = (bench_options){.host = EVKV_DEFAULT_HOST,
                            .port = EVKV_DEFAULT_PORT,
                            .threads = 1,
                            .conns = 50,
                            .depth = 1,
                            .zipf_exp = 0.99,
                            .seed = 1,
                            .timeout_ms = 5000,
                            .max_answer = EVKV_DEFAULT_MAX_ANSWER};
    if (parse_options(argc, argv, &b.opt) != 0)
        return EXIT_USAGE;
    if (b.opt.requests == 0 && b.opt.duration == 0)
        b.opt.duration = 10;
    if (keyset_load(&b, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-bench: %s\n", err);
        return EXIT_USAGE;
    }
    if (resolve(&b) != 0)
        return EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&b.lock, NULL);
    histogram_init(&b.sofar);

    threads = calloc((size_t)b.opt.threads, sizeof(*threads));
    if (threads == NULL) {
        fprintf(stderr, "evkv-bench: out of memory\n");
        return EXIT_USAGE;
    }
    for (int i = 0; i < b.opt.threads; i++) {
        if (thread_setup(&b, &threads[i], i) != 0) {
            fprintf(stderr, "evkv-bench: out of memory\n");
            return EXIT_USAGE;
        }
    }
    b.t_start = now_ns();
    b.t_measure = b.t_start + (uint64_t)(b.opt.warmup * 1e9);
    if (b.opt.requests == 0)
        b.t_end = b.t_measure + (uint64_t)(b.opt.duration * 1e9);
    for (int i = 0; i < b.opt.threads; i++)
        pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]);

    /* Progress, once a second, when someone is watching. */
    int tty = isatty(STDERR_FILENO);
    for (size_t sec = 1; atomic_load(&b.threads_done) < b.opt.threads; sec++) {
        uint64_t wake = b.t_measure + sec * NS_PER_SEC + NS_PER_SEC / 20;
        while (now_ns() < wake && atomic_load(&b.threads_done) < b.opt.threads) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (!tty || atomic_load(&b.threads_done) == b.opt.threads)
            continue;
        pthread_mutex_lock(&b.lock);
        uint64_t reqs = sec - 1 < b.nseries ? b.series[sec - 1].requests : 0;
        uint64_t errs = 0;
        for (size_t i = 0; i < sec && i < b.nseries; i++)
            errs += b.series[i].errors;
        fprintf(stderr, "[%4zus] %10llu req/s   p99 so far %9.1f us   errors %llu\n", sec, (unsigned long long)reqs,
                us(histogram_percentile(&b.sofar, 99)), (unsigned long long)errs);
        pthread_mutex_unlock(&b.lock);
    }

    histogram total;
    uint64_t requests = 0, errors = 0, hits = 0, misses = 0, from[FROM_N] = {0}, last = b.t_measure;
    histogram_init(&total);
    for (int i = 0; i < b.opt.threads; i++) {
        bthread *th = &threads[i];
        pthread_join(th->tid, NULL);
        histogram_add(&total, &th->hist);
        requests += th->requests;
        errors += th->errors;
        hits += th->hits;
        misses += th->misses;
        for (int j = 0; j < FROM_N; j++)
            from[j] += th->from[j];
        if (th->last_answer > last)
            last = th->last_answer;
        if (th->first_error[0])
            fprintf(stderr, "evkv-bench: thread %d: %s\n", i, th->first_error);
    }
    double elapsed = (double)(last - b.t_measure) / 1e9;
    if (b.t_end && elapsed < b.opt.duration)
        elapsed = b.opt.duration;
    double rps = elapsed > 0 ? (double)requests / elapsed : 0;
    if (b.opt.ndata == 2)
        report_from(stdout, &b.opt, from);
    report_table(stdout, requests, errors, hits, misses, rps, &total);
    if (b.opt.json_path &&
        report_json(&b, b.opt.json_path, requests, errors, hits, misses, from, elapsed, &total) != 0) {
        fprintf(stderr, "evkv-bench: cannot write %s\n", b.opt.json_path);
        status = EXIT_USAGE;
    }
    if (errors)
        status = EXIT_ERRORS;

    for (int i = 0; i < b.opt.threads; i++)
        thread_free(&threads[i]);
    free(threads);
    free(b.series);
    keyset_free(&b.ks);
    pthread_mutex_destroy(&b.lock);
    return status;
}
