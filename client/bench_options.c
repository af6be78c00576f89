/*
 * bench_options.c: evkv-bench's command line: --help, the options, and the
 * server's address.
 */
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "bench.h"
#include "evkv_client.h"
#include "parse.h"
#include "uri.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

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
            "  -s, --socket PATH      the Unix domain socket PATH instead of TCP\n"
            "  -u, --uri URI          the server as a URI, instead of -h/-p/-s (default\n"
            "                         port %s; %%XX escapes are decoded, an IPv6 zone\n"
            "                         is %%25):\n"
            "                           evkv://[USER[:PASSWORD]@]HOST[:PORT]\n"
            "                           evkv://[IPV6][:PORT], evkv://[fe80::1%%25eth0]:PORT\n"
            "                           evkv+unix:///PATH, unix:///PATH, unix:/PATH\n"
            "                           evkvs://[USER[:PASSWORD]@]HOST[:PORT] (TLS, as --tls)\n"
            "      --tls              speak TLS (the server's --tls-port, or with --protocol\n"
            "                         resp its --resp-tls-port or Redis's tls-port); the\n"
            "                         server's certificate must chain to a CA and name the\n"
            "                         host (or --sni); the handshakes count in the run\n"
            "      --cacert FILE, --cacertdir DIR\n"
            "                         CA certificates for the server's (default: the\n"
            "                         system's)\n"
            "      --cert FILE, --key FILE\n"
            "                         the client's certificate and key, for a server that\n"
            "                         asks for one\n"
            "      --sni NAME         the server name sent and checked instead of the host\n"
            "      --insecure         do not check the server's certificate\n"
            "      --user NAME        log in as NAME (default: the \"default\" user)\n"
            "  -a, --pass PASSWORD    log in with PASSWORD first on each connection (the\n"
            "                         auth action, or AUTH with --protocol resp); also from\n"
            "                         the URI, or EVKV_AUTH in the environment; a refusal\n"
            "                         stops the run (exit 2)\n"
            "      --protocol P       evkv (default) or resp (Redis GET)\n"
            "      --cluster          a Redis Cluster (evkv nodes with --cluster-config, or\n"
            "                         Redis): the slot map is read with CLUSTER SLOTS from\n"
            "                         the node given (a master or a replica), -c\n"
            "                         connections go from each thread to each master, each\n"
            "                         key to its slot's master; a -MOVED answer updates\n"
            "                         the slot and the request goes again to the node it\n"
            "                         names (counted: \"MOVED answers followed\"). One key a\n"
            "                         request (no --mget), TCP without --tls\n"
            "      --guide-port-offset N\n"
            "                         --cluster over the guide protocol (without --protocol\n"
            "                         resp): each node's guide port is its RESP port (the\n"
            "                         one the map names) plus N; the map is read at the\n"
            "                         port given less N, and the guide's \"Error: MOVED\"\n"
            "                         answers are followed\n"
            "      --read-from-replicas\n"
            "                         with --cluster, -c connections to each replica too\n"
            "                         (over RESP, READONLY first): a slot's keys are read\n"
            "                         from its master and its replicas, as redis-py's\n"
            "                         read_from_replicas=True\n"
            "      --reconnect        a new connection for every request, as the guide's\n"
            "                         client makes\n"
            "      --timeout SECS     each request's deadline, its retries included: a\n"
            "                         request with no whole answer SECS after its first\n"
            "                         try (bytes trickling in do not count) fails, is not\n"
            "                         sent again, and its connection is closed and made\n"
            "                         anew (its other requests are tried again); checked\n"
            "                         to the millisecond. The end of a run waits this\n"
            "                         long at most for the last answers (default 5;\n"
            "                         decimals: 0.3)\n"
            "      --retries N        try a request again, on a new connection, when its\n"
            "                         connection failed before its whole answer came\n"
            "                         (connect refused, closed, reset, a send error), up\n"
            "                         to N times while its --timeout leaves time, before\n"
            "                         any new request (default 3; 0: never); every try\n"
            "                         counts, connects included. Tries pause 10 ms,\n"
            "                         doubling up to 200 ms. A wrong answer or an error\n"
            "                         answer is not retried. The report counts the tries\n"
            "                         after the first (retried)\n"
            "      --max-answer BYTES\n"
            "                         largest answer content taken (default %zu:\n"
            "                         512 MiB); an answer announcing more is an error,\n"
            "                         refused unread\n"
            "Load shape:\n"
            "  -t, --threads N        threads, each with its own event loop (default 1)\n"
            "  -c, --connections N    connections per thread (default 50)\n"
            "  -P, --pipeline N       requests in flight per connection (default 1)\n"
            "  -d, --duration SECS    how long to measure (default 10)\n"
            "  -n, --requests N       measure exactly N requests instead\n"
            "      --warmup SECS      run this long first without counting (default 0)\n"
            "  -R, --rate N           open loop: N requests/s in all, latency counted from\n"
            "                         each request's scheduled time (default 0: closed loop)\n"
            "      --mget N           N keys in each request (1 to 10000), as msearch, or\n"
            "                         as MGET with --protocol resp (default: one key, as\n"
            "                         search or GET); each key's answer is checked, and a\n"
            "                         wrong one makes the answer wrong. requests and\n"
            "                         errors count requests, hits and misses count keys,\n"
            "                         and the report adds keys per request and keys/s\n"
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
            "Runs and output:\n"
            "  -x, --runs N           run N times, print each run and the median, min and\n"
            "                         max of each figure (default 1)\n"
            "      --json FILE        also write the results, percentiles and a per-second\n"
            "                         series as JSON to FILE (-: to stdout, instead of the\n"
            "                         table)\n"
            "      --csv              one line per run, after a header line, instead of the\n"
            "                         table\n"
            "  -q, --quiet            one summary line\n"
            "      --hide-histogram   leave out the latency spectrum (50%% to 99.999%%), shown\n"
            "                         for runs of 5 s or more\n"
            "      --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Without --keys or --data, the keys are the server's built-in three.\n"
            "Latencies go into a log-linear histogram: percentiles are within 0.8%% of\n"
            "the true value. KB/s counts the answers' bytes (1 KB: 1024 bytes). A progress\n"
            "line is printed each second when stderr is a terminal. The first Ctrl-C\n"
            "(SIGINT) stops measuring and prints the results of what ran; a second one\n"
            "ends evkv-bench at once.\n"
            "\n"
            "Exit status:\n"
            "  0  every request was answered, and answered right\n"
            "  1  errors: a wrong or malformed answer, a request left unanswered (out of\n"
            "     time, its --retries spent, or none by the end), a\n"
            "     failed connection attempt with no request to retry (the first error\n"
            "     is described on stderr)\n"
            "  2  bad usage, an unreadable key or data file, an unknown host, nothing\n"
            "     listening (no connection could be made: nothing is measured), with\n"
            "     --cluster no slot map (CLUSTER SLOTS refused or unreadable)\n",
            EVKV_DEFAULT_HOST, EVKV_DEFAULT_PORT, EVKV_DEFAULT_PORT, EVKV_DEFAULT_MAX_ANSWER);
}

/* The option's number from optarg, by the shared parsers (parse.h). Each
 * returns NULL, or msg saying "NAME must be ..., not 'ARG'" (opt_fail
 * puts the name before the parser's err). */
static const char *opt_fail(const char *name, const char *err, char *msg, size_t len)
{
    snprintf(msg, len, "%s %s", name, err);
    return msg;
}

static const char *opt_int(const char *name, int min, int max, int *out, char *msg, size_t len)
{
    char err[PARSE_ERR_LEN];
    long long n;
    if (parse_count(optarg, min, max, &n, err, sizeof(err)) != 0)
        return opt_fail(name, err, msg, len);
    *out = (int)n;
    return NULL;
}

static const char *opt_u64(const char *name, long long min, uint64_t *out, char *msg, size_t len)
{
    char err[PARSE_ERR_LEN];
    long long n;
    if (parse_count(optarg, min, LLONG_MAX, &n, err, sizeof(err)) != 0)
        return opt_fail(name, err, msg, len);
    *out = (uint64_t)n;
    return NULL;
}

static const char *opt_seconds(const char *name, double min, double max, double *out, char *msg, size_t len)
{
    char err[PARSE_ERR_LEN];
    return parse_seconds(optarg, min, max, out, err, sizeof(err)) == 0 ? NULL : opt_fail(name, err, msg, len);
}

static const char *opt_bytes(const char *name, size_t min, size_t max, size_t *out, char *msg, size_t len)
{
    char err[PARSE_ERR_LEN];
    return parse_bytes(optarg, min, max, out, err, sizeof(err)) == 0 ? NULL : opt_fail(name, err, msg, len);
}

/* The index of optarg among the n words; if it is none of them, *bad =
 * why and the index was is returned. */
static int opt_choice(const char *const *words, int n, int was, const char *why, const char **bad)
{
    for (int i = 0; i < n; i++)
        if (strcmp(optarg, words[i]) == 0)
            return i;
    *bad = why;
    return was;
}

/* A number that is not seconds (a rate, a ratio, an exponent): read as
 * parse_seconds reads any decimal number, with what it is in the message. */
static const char *opt_number(const char *name, double min, double max, const char *what, double *out, char *msg,
                              size_t len)
{
    if (parse_seconds(optarg, min, max, out, NULL, 0) == 0)
        return NULL;
    snprintf(msg, len, "%s must be %s, not '%.40s'", name, what, optarg);
    return msg;
}

enum {
    OPT_PROTOCOL = 256,
    OPT_RECONNECT,
    OPT_TIMEOUT,
    OPT_RETRIES,
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
    OPT_CSV,
    OPT_HIDE_HISTOGRAM,
    OPT_MGET,
    OPT_USER,
    OPT_HELP,
    OPT_TLS,
    OPT_CACERT, /* the EVKV_TLS_OPTIONS, in evkv_tls_config_set's order */
    OPT_CACERTDIR,
    OPT_CERT,
    OPT_KEY,
    OPT_SNI,
    OPT_INSECURE,
    OPT_CLUSTER,
    OPT_GUIDE_PORT_OFFSET,
    OPT_READ_FROM_REPLICAS,
};

static const struct option longopts[] = {
    {"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"socket", required_argument, NULL, 's'},
    {"uri", required_argument, NULL, 'u'},
    {"user", required_argument, NULL, OPT_USER},
    {"pass", required_argument, NULL, 'a'},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"reconnect", no_argument, NULL, OPT_RECONNECT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"max-answer", required_argument, NULL, OPT_MAX_ANSWER},
    {"threads", required_argument, NULL, 't'},
    {"connections", required_argument, NULL, 'c'},
    {"pipeline", required_argument, NULL, 'P'},
    {"duration", required_argument, NULL, 'd'},
    {"requests", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"rate", required_argument, NULL, 'R'},
    {"mget", required_argument, NULL, OPT_MGET},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"data", required_argument, NULL, OPT_DATA},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"key-pattern", required_argument, NULL, OPT_PATTERN},
    {"zipf-exp", required_argument, NULL, OPT_ZIPF},
    {"miss-ratio", required_argument, NULL, OPT_MISS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"json", required_argument, NULL, OPT_JSON},
    {"csv", no_argument, NULL, OPT_CSV},
    {"quiet", no_argument, NULL, 'q'},
    {"hide-histogram", no_argument, NULL, OPT_HIDE_HISTOGRAM},
    {"runs", required_argument, NULL, 'x'},
    {"help", no_argument, NULL, OPT_HELP},
    {"tls", no_argument, NULL, OPT_TLS},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cacertdir", required_argument, NULL, OPT_CACERTDIR},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"sni", required_argument, NULL, OPT_SNI},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"cluster", no_argument, NULL, OPT_CLUSTER},
    {"guide-port-offset", required_argument, NULL, OPT_GUIDE_PORT_OFFSET},
    {"read-from-replicas", no_argument, NULL, OPT_READ_FROM_REPLICAS},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* How the command line named the server, checked once it is all read. */
typedef struct server_args {
    const char *uri;         /* --uri, or NULL */
    int host_set;            /* --host or --port given */
    const char *tls_option;  /* the first of --cacert, --cert, ... given, or NULL */
    const char *user, *pass; /* --user, -a/--pass, or NULL */
} server_args;

/* One of the TLS options into o (srv notes the first given). Returns
 * NULL, or "" for an option getopt did not know. */
static const char *parse_tls_option(int ch, bench_options *o, server_args *srv)
{
    if (ch == OPT_TLS) {
        o->tls = 1;
        return NULL;
    }
    if (ch < OPT_CACERT || ch >= OPT_CACERT + EVKV_TLS_OPTIONS)
        return "";
    const char *name = evkv_tls_config_set(&o->tls_cfg, ch - OPT_CACERT, optarg);
    if (srv->tls_option == NULL)
        srv->tls_option = name;
    return NULL;
}

/* Reads one option ch (getopt_long's answer) into o and srv. Returns NULL,
 * or why the option is wrong ("" when getopt_long has said it), perhaps
 * written into msg (len bytes). Prints --help or --version and exits 0
 * for those. */
static const char *parse_option(int ch, bench_options *o, server_args *srv, char *msg, size_t len)
{
    /* In the order of their enums. */
    static const char *const protocols[] = {"evkv", "resp"};
    static const char *const patterns[] = {"uniform", "zipf", "sequential"};
    const char *bad = NULL;
    double d;

    switch (ch) {
    case 'h':
        o->host = optarg;
        srv->host_set = 1;
        break;
    case 'p':
        o->port = optarg;
        srv->host_set = 1;
        break;
    case 's': o->unix_path = optarg; break;
    case 'u': srv->uri = optarg; break;
    case OPT_USER: srv->user = optarg; break;
    case 'a': srv->pass = optarg; break;
    case OPT_PROTOCOL:
        o->protocol =
            (bench_protocol)opt_choice(protocols, 2, (int)o->protocol, "--protocol must be evkv or resp", &bad);
        break;
    case OPT_RECONNECT: o->reconnect = 1; break;
    case OPT_CLUSTER: o->cluster = 1; break;
    case OPT_READ_FROM_REPLICAS: o->read_from_replicas = 1; break;
    case OPT_GUIDE_PORT_OFFSET:
        bad = opt_int("--guide-port-offset", -65535, 65535, &o->guide_port_offset, msg, len);
        o->offset_set = 1;
        break;
    case OPT_TIMEOUT:
        if ((bad = opt_seconds("--timeout", 0.001, 3600, &d, msg, len)) == NULL)
            o->timeout_ms = (int)(d * 1000);
        break;
    case OPT_RETRIES: bad = opt_int("--retries", 0, 1000, &o->retries, msg, len); break;
    case OPT_MAX_ANSWER: bad = opt_bytes("--max-answer", 1, SIZE_MAX, &o->max_answer, msg, len); break;
    case 't': bad = opt_int("-t", 1, 256, &o->threads, msg, len); break;
    case 'c': bad = opt_int("-c", 1, 100000, &o->conns, msg, len); break;
    case 'P': bad = opt_int("-P", 1, 65536, &o->depth, msg, len); break;
    case 'd': bad = opt_seconds("-d", 0.001, 86400, &o->duration, msg, len); break;
    case 'n': bad = opt_u64("-n", 1, &o->requests, msg, len); break;
    case OPT_WARMUP: bad = opt_seconds("--warmup", 0, 86400, &o->warmup, msg, len); break;
    case 'R':
        bad = opt_number("-R", 0, 1e9, "requests per second from 0 (closed loop) to 1e9", &o->rate, msg, len);
        break;
    case OPT_MGET: bad = opt_int("--mget", 1, 10000, &o->mget, msg, len); break;
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
        o->pattern = (key_pattern)opt_choice(patterns, 3, (int)o->pattern,
                                             "--key-pattern must be uniform, zipf or sequential", &bad);
        break;
    case OPT_ZIPF: bad = opt_number("--zipf-exp", 0, 10, "a number from 0 to 10", &o->zipf_exp, msg, len); break;
    case OPT_MISS: bad = opt_number("--miss-ratio", 0, 1, "a share from 0 to 1", &o->miss_ratio, msg, len); break;
    case OPT_SEED: bad = opt_u64("--seed", 0, &o->seed, msg, len); break;
    case OPT_JSON: o->json_path = optarg; break;
    case OPT_CSV: o->csv = 1; break;
    case 'q': o->quiet = 1; break;
    case OPT_HIDE_HISTOGRAM: o->histogram = 0; break;
    case 'x': bad = opt_int("-x", 1, 1000, &o->runs, msg, len); break;
    case OPT_HELP: usage(stdout); exit(EXIT_OK);
    case 'V': printf("evkv-bench %s\n", EVKV_VERSION); exit(EXIT_OK);
    default: bad = parse_tls_option(ch, o, srv);
    }
    return bad;
}

/* Checks how the server is named (-h/-p, -s or -u) and where the reports
 * go, and reads a --uri into o. Returns 0, or -1 after saying why on
 * stderr. */
static int check_server(bench_options *o, const server_args *srv)
{
    char msg[PARSE_ERR_LEN + 64];
    const char *conflict = NULL;

    if (srv->uri && (srv->host_set || o->unix_path))
        conflict = "--uri names the server: give it without --host, --port or --socket";
    else if (o->unix_path && srv->host_set)
        conflict = "--socket cannot go with --host or --port";
    else if (o->unix_path && o->unix_path[0] == '\0')
        conflict = "--socket needs a path";
    else if (o->csv && o->json_path && strcmp(o->json_path, "-") == 0)
        conflict = "--csv and --json - cannot both write to stdout";
    if (conflict) {
        fprintf(stderr, "evkv-bench: %s\nTry 'evkv-bench --help'.\n", conflict);
        return -1;
    }
    if (srv->uri) {
        if (evkv_uri_parse(srv->uri, &o->uri, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "evkv-bench: bad URI '%s': %s\n", srv->uri, msg);
            return -1;
        }
        o->tls |= o->uri.is_tls;
        if (o->uri.is_unix) {
            o->unix_path = o->uri.path;
        } else {
            o->host = o->uri.host;
            o->port = o->uri.port;
        }
    }
    evkv_auth_pick(&o->auth, srv->user, srv->pass, srv->uri && !o->uri.is_unix ? &o->uri : NULL);
    if (srv->user && o->auth.password == NULL) {
        fprintf(stderr, "evkv-bench: --user needs a password: -a/--pass, the URI's, or EVKV_AUTH\n");
        return -1;
    }
    return 0;
}

/* --cluster: checks what goes with it, once the server is named. Returns
 * 0, or -1 after saying why. */
static int check_cluster(const bench_options *o)
{
    const char *conflict = NULL;

    if (o->read_from_replicas && !o->cluster)
        conflict = "--read-from-replicas goes with --cluster";
    else if (o->offset_set && (!o->cluster || o->protocol != PROTOCOL_EVKV))
        conflict = "--guide-port-offset goes with --cluster over the guide protocol (not --protocol resp)";
    else if (!o->cluster)
        return 0;
    else if (o->protocol == PROTOCOL_EVKV && !o->offset_set)
        conflict = "--cluster over the guide protocol needs --guide-port-offset N: the slot map names each "
                   "node's RESP port, and its guide port is that plus N";
    else if (o->mget)
        conflict = "--cluster sends one key a request: --mget's keys would cross slots";
    else if (o->unix_path || o->tls)
        conflict = "--cluster is for plain TCP: the map names TCP addresses (no --socket, no --tls)";
    if (conflict) {
        fprintf(stderr, "evkv-bench: %s\nTry 'evkv-bench --help'.\n", conflict);
        return -1;
    }
    return 0;
}

/* --tls: checks the TLS options go with it, and sets the client's TLS up
 * (the files are read now). Returns 0, or -1 after saying why. */
static int check_tls(const bench_options *o, const server_args *srv)
{
    char err[512];

    err[0] = '\0';
    if (!o->tls && srv->tls_option)
        snprintf(err, sizeof(err), "%s goes with --tls (or an evkvs:// URI)", srv->tls_option);
    else if (o->tls && o->unix_path)
        snprintf(err, sizeof(err), "--tls is for TCP: a Unix domain socket speaks plain text");
    else if (o->tls && (o->tls_cfg.cert == NULL) != (o->tls_cfg.key == NULL))
        snprintf(err, sizeof(err), "--cert and --key go together");
    if (err[0]) {
        fprintf(stderr, "evkv-bench: %s\nTry 'evkv-bench --help'.\n", err);
        return -1;
    }
    if (o->tls && evkv_client_tls_setup(&o->tls_cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-bench: %s\n", err);
        return -1;
    }
    return 0;
}

int bench_options_parse(int argc, char **argv, bench_options *o)
{
    server_args srv = {0};
    char msg[PARSE_ERR_LEN + 64];
    int ch;

    while ((ch = getopt_long(argc, argv, "h:p:s:u:a:t:c:P:d:n:R:x:qV", longopts, NULL)) != -1) {
        const char *bad = parse_option(ch, o, &srv, msg, sizeof(msg));
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
    if (check_server(o, &srv) != 0 || check_cluster(o) != 0 || check_tls(o, &srv) != 0)
        return -1;
    if (o->reconnect)
        o->depth = 1;
    return 0;
}

int bench_resolve(bench *b)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;

    if (b->opt.unix_path) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&b->addr;
        if (strlen(b->opt.unix_path) >= sizeof(sun->sun_path)) {
            fprintf(stderr, "evkv-bench: %s: a socket path is at most %zu bytes\n", b->opt.unix_path,
                    sizeof(sun->sun_path) - 1);
            return -1;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, b->opt.unix_path, strlen(b->opt.unix_path) + 1);
        b->addrlen = sizeof(*sun);
        evkv_server_name(b->target, sizeof(b->target), NULL, NULL, b->opt.unix_path);
        return 0;
    }
    evkv_server_name(b->target, sizeof(b->target), b->opt.host, b->opt.port, NULL);
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
