/*
 * bench.h: what the parts of evkv-bench share, and nothing else includes.
 *
 * evkv-bench is split along its concerns: bench.c runs a measurement and
 * prints what it found (main), bench_options.c reads the command line,
 * bench_keys.c makes the keys to ask for and their expected answers,
 * bench_conn.c is the connection engine (one event loop per thread),
 * bench_check.c reads and checks answers, bench_cluster.c routes each key
 * to its slot's node (--cluster), and bench_report.c prints the results.
 * The types below are the state they pass to each other; the threads own
 * their bthread and bconns, and the keyset is read-only once the threads
 * start (--cluster's slot owners are atomics any thread updates on MOVED).
 */
#ifndef EVKV_BENCH_H
#define EVKV_BENCH_H

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "datafile.h"
#include "evkv_client.h"
#include "hash.h"
#include "histogram.h"
#include "proto.h"
#include "auth.h"
#include "uri.h"

#define NS_PER_SEC    UINT64_C(1000000000)
#define VALUE_UNKNOWN UINT32_MAX           /* bench_key: the answer is not known */
#define VALUE_MISS    (UINT32_MAX - 1)     /* bench_key: known not to be in the table */
#define MISS_FLAG     UINT32_C(0x80000000) /* inflight.key: a generated miss key */
#define MISS_PREFIX   "evkv-bench-miss-"

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,     /* every answer arrived and was right */
    EXIT_ERRORS = 1, /* at least one error: wrong answer, lost connection, no answer */
    EXIT_USAGE = 2,  /* bad options, unreadable key or data file, cannot resolve or connect */
};

typedef enum key_pattern { PATTERN_UNIFORM, PATTERN_ZIPF, PATTERN_SEQUENTIAL } key_pattern;
typedef enum bench_protocol { PROTOCOL_EVKV, PROTOCOL_RESP } bench_protocol;

typedef struct bench_options {
    const char *host, *port;
    const char *unix_path; /* -s, or a URI's socket path: instead of host and port */
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
    int retries; /* --retries: tries after the first of a request whose connection failed */
    bench_protocol protocol;
    int timeout_ms;          /* --timeout: each request's deadline, its retries included */
    size_t max_answer;       /* largest evkv answer content taken */
    int runs;                /* -x: how many times to run */
    int csv;                 /* --csv: one line per run on stdout instead of the table */
    int quiet;               /* -q: one summary line */
    int histogram;           /* the latency spectrum: 1 shown, 0 hidden, -1 for long runs */
    int mget;                /* --mget: keys per request (msearch, or MGET); 0: one key (search, or GET) */
    evkv_uri uri;            /* -u: host, port or unix_path point into it */
    int tls;                 /* --tls, or an evkvs:// URI */
    evkv_tls_config tls_cfg; /* --cacert, --cert, ... */
    evkv_auth auth;          /* what each connection logs in with (auth.h) */
    int cluster;             /* --cluster: each key to its slot's master (bench_cluster.c) */
    int guide_port_offset;   /* --guide-port-offset: a node's guide port less its RESP port */
    int offset_set;          /* --guide-port-offset given */
    int read_from_replicas;  /* --read-from-replicas: --cluster reads from replicas too */
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

/* What one run measured, summed over its threads. */
typedef struct bench_result {
    uint64_t requests, errors, retried, hits, misses; /* as bthread's */
    uint64_t moved;                                   /* --cluster: MOVED answers followed */
    uint64_t from[FROM_N];
    uint64_t bytes_in;    /* answer bytes received */
    uint64_t latency_sum; /* ns, for the mean */
    double elapsed;       /* seconds measured */
    int interrupted;      /* cut short by SIGINT */
    histogram hist;
    series_point *series; /* one per second measured: owned, free()d with the result */
    size_t nseries;
} bench_result;

struct bench_cluster;
struct bench_redirect;

typedef struct bench {
    bench_options opt;
    struct bench_cluster *cluster; /* --cluster: the slot map, or NULL */
    keyset ks;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char target[160];                   /* the server's name in messages (evkv_server_name) */
    uint64_t t_start, t_measure, t_end; /* monotonic ns; t_end 0 with -n */
    /* Read end of a pipe whose write end main closes to stop every thread
     * at once (SIGINT, or the server found unreachable). */
    int stop_fd;
    /* Set once any connection of the run is up; until then, a failed
     * connect means nothing listens: unreachable is set, with why, by the
     * first thread to see it, and the run stops. */
    atomic_int connected_once, unreachable;
    atomic_int tls_done_once; /* --tls: a handshake succeeded: a failed one is no reason to stop */
    char unreachable_why[512]; /* room for the target (160) and a TLS reason (256) */
    proto_buf auth_req;   /* the request each connection logs in with first (empty: none) */
    pthread_mutex_t lock; /* guards what follows */
    series_point *series;
    size_t nseries;     /* allocated */
    size_t series_used; /* up to the last second with requests or errors */
    histogram sofar;
    uint64_t sofar_requests;
    atomic_int threads_done;
} bench;

typedef struct inflight {
    uint64_t t_sched;
    uint64_t deadline; /* monotonic ns: --timeout from its first try, its retries included */
    uint32_t key;      /* index into the keyset, or MISS_FLAG | n for a miss key */
    uint32_t tries;    /* connections it was sent on (or connects made for it) */
} inflight;

struct bthread;

typedef struct bconn {
    struct bthread *th;
    evutil_socket_t fd; /* -1 when not connected */
    struct event *ev_read, *ev_write;
    struct evbuffer *in;  /* RESP replies not yet parsed */
    size_t resp_need;     /* bytes in must hold before its first reply can be whole (0: any) */
    struct evbuffer *out; /* requests not yet taken by the socket */
    struct event *timer;  /* open loop: next send; reconnect: retry */
    /* Fires at the oldest request's deadline or before (it is moved only
     * when it fires, not at every answer): conn_expire. */
    struct event *deadline_timer;
    proto_decoder dec;
    inflight *ring;  /* -P slots, a FIFO */
    uint32_t *mkeys; /* with --mget N: N keys for each ring slot (slot i's at i * N) */
    unsigned head, count;
    uint64_t next_sched; /* open loop */
    int connected;
    void *tls;          /* --tls: the connection's TLS (evkv_tls_new), or NULL */
    int tls_ready;      /* its handshake is done: requests may go */
    short tls_want;     /* the handshake waits for POLLIN or POLLOUT */
    int auth_pending;   /* its login request's answer is still to come, ahead of every other */
    int writing;        /* ev_write is added */
    int deadline_armed; /* deadline_timer is added */
    int pause_ms;       /* the last pause before a reconnect, doubled at each loss; 0 after an answer */
    char lost_why[160]; /* why the last connection (or connect) failed */
    int node;           /* --cluster: the node it talks to (an index into the map) */
    int readonly_pending; /* --cluster: READONLY sent to a replica, its +OK not read yet */
} bconn;

typedef struct bthread {
    bench *b;
    int id;
    pthread_t tid;
    struct event_base *base;
    bconn *conns;
    struct event *tick, *end_timer, *drain_timer, *stop;
    uint64_t rng;
    uint64_t seq; /* sequential pattern position */
    uint64_t quota, measured_issued;
    uint64_t inflight;
    int stopping;
    uint64_t requests, hits, misses; /* measured */
    uint64_t from[FROM_N];           /* measured, with two --data tables */
    int two_tables;                  /* b->ks.second != NULL: one load less per answer */
    uint64_t errors;                 /* warmup included: any error fails the run */
    uint64_t retried;                /* tries after a request's first (re-sends), warmup included */
    uint64_t last_answer;
    uint64_t t_read;                /* when the read being checked returned */
    uint64_t bytes_in, latency_sum; /* measured */
    histogram hist, interval;
    uint64_t interval_requests, interval_errors;
    size_t tick_index;
    proto_buf scratch, text;
    char first_error[256];
    /* --cluster: requests answered -MOVED, waiting for room on a
     * connection to their slot's owner (still counted in inflight). */
    struct bench_redirect *redirects;
    size_t nredirects, redirects_cap;
    uint64_t moved; /* MOVED answers followed, warmup included */
} bthread;

/* splitmix64 (proto/hash.h): small, fast, and good enough to pick keys. */
static inline uint64_t rng_next(uint64_t *s)
{
    return hash_splitmix64(s);
}

static inline double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* How many keys a request asks for. */
static inline int keys_per_request(const bench_options *o)
{
    return o->mget ? o->mget : 1;
}

/* Reads a --data key's text: borrowed from ks's arena. */
static inline const char *key_text(const keyset *ks, const bench_key *k)
{
    return ks->arena.data + k->key_off;
}

/* ---- bench_conn.c ---- */

/* The server refused c's login (answer, len bytes, is why): the run
 * stops, and main says why and exits 2, as for a server that cannot be
 * reached. */
void conn_auth_refused(bconn *c, const char *answer, size_t len);

/* ---- bench_options.c ---- */

/* Reads the command line into o (which holds the defaults). Prints --help
 * or --version and exits 0 for those. Returns 0, or -1 after saying why on
 * stderr. */
int bench_options_parse(int argc, char **argv, bench_options *o);
/* Resolves the server's address into b->addr. Returns 0, or -1 after
 * saying why on stderr. */
int bench_resolve(bench *b);

/* ---- bench_keys.c ---- */

/* Makes b->ks: the keys to ask for and, where known, their answers. On
 * error, b->ks is empty and err says why. */
int keyset_load(bench *b, char *err, size_t errlen);
void keyset_free(keyset *ks);

/* key_pick and key_get run for every request: inline, as they were when
 * evkv-bench was one file (a call each costs the bench ~15 instructions a
 * request, 1% of its own cost). */

/* Picks the next key: an index, or MISS_FLAG | n for a generated miss. */
static inline uint32_t key_pick(bthread *th)
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

/* The text of key k: borrowed from the keyset, or generated into buf for a
 * miss key. */
static inline const char *key_get(bthread *th, uint32_t k, char *buf, size_t buflen, size_t *len)
{
    if (k & MISS_FLAG) {
        *len = (size_t)snprintf(buf, buflen, MISS_PREFIX "%u", k & ~MISS_FLAG);
        return buf;
    }
    const bench_key *bk = &th->b->ks.keys[k];
    *len = bk->key_len;
    return key_text(&th->b->ks, bk);
}

/* ---- bench_conn.c ---- */

/* Counts n errors on th, and keeps the first one's description. */
void bench_error(bthread *th, uint64_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Closes c's connection; its requests in flight are counted failed. */
void conn_drop(bconn *c, const char *why);
/* Closes c's connection, lost (refused, closed, reset) with its requests
 * in flight: with --retries, those with tries left and time before their
 * deadline are kept, in order, to be re-sent first on a new connection
 * opened after a pause (each connection, or connect, is a try); the
 * others (all of them without --retries) are counted failed. */
void conn_lost(bconn *c, const char *why);
/* Sets up th (thread id of b's) with its event loop and connections.
 * Returns 0, or -1 (out of memory); thread_free frees what was made. */
int thread_setup(bench *b, bthread *th, int id);
/* A thread's body: runs th's event loop until its part is done. */
void *thread_main(void *arg);
void thread_free(bthread *th);
/* Adds key k's request to c's FIFO with the given schedule and deadline
 * (a request already counted in flight: one answered -MOVED elsewhere). */
void conn_enqueue(bconn *c, uint32_t k, uint64_t t_sched, uint64_t deadline);

/* ---- bench_cluster.c ---- */

/* --cluster: reads the slot map with CLUSTER SLOTS from b's address (any
 * node of the cluster) into b->cluster, and the slot of each key. Returns
 * 0, or -1 with err. bench_cluster_free frees it. */
int bench_cluster_load(bench *b, char *err, size_t errlen);
void bench_cluster_free(bench *b);
/* How many nodes connections go to (the masters, and with
 * --read-from-replicas their replicas): each thread connects -c times to
 * each. */
int bench_cluster_nodes(const bench *b);
/* The node of a thread's connection i. */
int bench_cluster_conn_node(const bench *b, int i);
/* c's connection is made: to a replica over RESP, READONLY goes first. */
void bench_cluster_conn_started(bconn *c);
/* The reply to READONLY at p[0..n): its length once whole (0 before), or
 * -1 (counted as an error) when it is not +OK. */
long bench_cluster_readonly_reply(bconn *c, const char *p, size_t n);
/* The address of the map's node (borrowed from b->cluster). */
const struct sockaddr *bench_cluster_addr(const bench *b, int node, socklen_t *len);
/* Picks the next key for c: one of the slots of c's node. */
uint32_t bench_cluster_pick(bconn *c);
/* The error reply msg (len bytes, without '-') to the request at the head
 * of c's FIFO: if it is MOVED to a node of the map, the slot's owner is
 * updated, the request taken off c's FIFO to go again to that node, and 1
 * returned; else 0 (an error to count). */
int bench_cluster_moved(bconn *c, const char *msg, size_t len);
/* The same for the guide protocol's answer msg ("Error: MOVED ..."). */
int bench_cluster_moved_evkv(bconn *c, const proto_message *msg);
/* Moves the requests waiting for c's node onto c's FIFO, while it has room. */
void bench_cluster_resend(bconn *c);

/* ---- bench_check.c ---- */

/* Feeds n bytes of evkv answers read on c, and checks each answer. */
void read_evkv(bconn *c, const char *data, size_t n);
/* Checks the RESP replies in in, draining those taken. */
void read_resp(bconn *c, struct evbuffer *in);

/* ---- bench_report.c ---- */

/* Nanoseconds as microseconds. */
double us(uint64_t ns);
/* Prints run (0-based) of the -x runs, as the options ask: the table (with
 * the latency spectrum for a long run), a --csv line (the header before
 * the first), or nothing for -q (report_aggregate prints its line) or with
 * the JSON on stdout. */
void report_run(FILE *out, const bench_options *o, int run, const bench_result *r);
/* After the runs: with -x, the median, min and max of each figure; -q's
 * one line. */
void report_aggregate(FILE *out, const bench_options *o, const bench_result *r, int n);
/* Writes the results of the n runs as JSON to o->json_path ("-": stdout).
 * Returns 0, or -1. */
int report_json(const bench *b, const bench_result *r, int n);

#endif
