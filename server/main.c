/*
 * main.c: evkv-server's options, listener, signals and event loop.
 *
 * One event loop serves every connection. SIGINT and SIGTERM arrive as
 * libevent signal events: the listener closes, requests already received
 * are answered, and the loop ends once every answer is sent (or after a
 * grace period). A second signal stops at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,      /* stopped by a signal after sending the answers in flight */
    EXIT_RUNTIME = 1, /* could not listen or run, or a second signal forced the stop */
    EXIT_USAGE = 2,   /* bad options or a bad data file */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-server [OPTIONS] [HOST PORT]\n"
            "Answers key lookups over the evkv protocol (the header + JSON protocol of the\n"
            "\"Socket Programming in Python\" guide's app-server), keeping connections open.\n"
            "\n"
            "Options:\n"
            "  -H, --host HOST          address to listen on (default 127.0.0.1; ::1 for IPv6)\n"
            "  -p, --port PORT          TCP port (default 65432; 0 picks a free one, shown\n"
            "                           in the start line)\n"
            "  -d, --data FILE          serve the table in FILE instead of the built-in one:\n"
            "                           a JSON object (key -> any JSON value) or TSV lines\n"
            "                           key<TAB>value\n"
            "  -f, --format json|tsv    how to read FILE (default: from its extension,\n"
            "                           .json or .tsv/.tab)\n"
            "  -e, --echo               raw echo mode: send back whatever arrives\n"
            "      --max-header BYTES   largest JSON header accepted (default %d, at most 65535)\n"
            "      --max-content BYTES  largest content accepted (default %d)\n"
            "  -v, --verbose            log every connection and request on stderr\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "HOST PORT given as two arguments work as --host HOST --port PORT, as with the\n"
            "guide's app-server.py.\n"
            "\n"
            "Signals: SIGINT or SIGTERM stops accepting, answers the requests already\n"
            "received, then exits; a second one exits at once.\n"
            "\n"
            "Exit status:\n"
            "  0  stopped by SIGINT/SIGTERM after sending the answers in flight\n"
            "  1  could not listen (address in use, ...) or a second signal forced the stop\n"
            "  2  bad usage, or a data file that could not be loaded (nothing was served)\n",
            PROTO_DEFAULT_MAX_HEADER, PROTO_DEFAULT_MAX_CONTENT);
}

void server_format_addr(char *out, size_t outlen, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "local");
    }
}

/* Parses a byte count in [min, max]. Returns 0 or -1. */
static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int port_valid(const char *s)
{
    size_t v;
    return parse_size(s, 0, 65535, &v) == 0;
}

static void server_stop_now(server *srv)
{
    event_base_loopbreak(srv->base);
}

void server_conns_drained(server *srv)
{
    event_base_loopexit(srv->base, NULL);
}

static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    server *srv = arg;
    (void)fd;
    (void)what;
    fprintf(stderr, "evkv-server: %zu connection(s) still had answers unsent after %d s; closing them\n", srv->nconns,
            SERVER_STOP_GRACE_SECONDS);
    server_stop_now(srv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    server *srv = arg;
    (void)what;

    if (srv->stopping) {
        srv->forced_stop = 1;
        server_stop_now(srv);
        return;
    }
    srv->stop_signal = (int)sig;
    srv->stopping = 1;
    if (srv->listener) {
        evconnlistener_free(srv->listener);
        srv->listener = NULL;
    }
    struct timeval grace = {SERVER_STOP_GRACE_SECONDS, 0};
    evtimer_add(srv->stop_timer, &grace);
    conn_stop_all(srv);
    if (srv->nconns == 0)
        server_conns_drained(srv);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int addrlen, void *arg)
{
    (void)l;
    conn_new(arg, fd, addr, addrlen);
}

static void listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->listener)
        evconnlistener_enable(srv->listener);
}

/* accept() failed. Out of descriptors, libevent would call this again on
 * every loop turn and spin the CPU: pause accepting for a moment instead. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    server *srv = arg;
    int err = EVUTIL_SOCKET_ERROR();
    static const struct timeval pause = {0, 100 * 1000};

    fprintf(stderr, "evkv-server: accept: %s\n", evutil_socket_error_to_string(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        evconnlistener_disable(l);
        event_base_once(srv->base, -1, EV_TIMEOUT, listener_resume_cb, srv, &pause);
    }
}

static int server_listen(server *srv, char *where, size_t wherelen)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(srv->opt->host, srv->opt->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "evkv-server: %s: %s\n", srv->opt->host, gai_strerror(rc));
        return -1;
    }
    srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
                                            LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
                                            res->ai_addr, (int)res->ai_addrlen);
    if (srv->listener == NULL) {
        fprintf(stderr, "evkv-server: cannot listen on %s port %s: %s\n", srv->opt->host, srv->opt->port,
                strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);

    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &sslen);
    server_format_addr(where, wherelen, (struct sockaddr *)&ss);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { OPT_MAX_HEADER = 256, OPT_MAX_CONTENT };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"data", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"echo", no_argument, NULL, 'e'},
        {"max-header", required_argument, NULL, OPT_MAX_HEADER},
        {"max-content", required_argument, NULL, OPT_MAX_CONTENT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    server_options opt = {
        .host = "127.0.0.1",
        .port = "65432",
        .limits = {PROTO_DEFAULT_MAX_HEADER, PROTO_DEFAULT_MAX_CONTENT},
    };
    server srv;
    table *tbl = NULL;
    char where[80], source[512];
    int ch, status = EXIT_RUNTIME;

    while ((ch = getopt_long(argc, argv, "H:p:d:f:evhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = optarg; break;
        case 'd': opt.data = optarg; break;
        case 'f':
            if (datafile_format_parse(optarg, &opt.format) != 0) {
                fprintf(stderr, "evkv-server: --format must be json or tsv, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'e': opt.echo = 1; break;
        case OPT_MAX_HEADER:
            if (parse_size(optarg, 16, 65535, &opt.limits.max_header) != 0) {
                fprintf(stderr, "evkv-server: --max-header must be a byte count from 16 to 65535\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_MAX_CONTENT:
            if (parse_size(optarg, 0, (size_t)1 << 40, &opt.limits.max_content) != 0) {
                fprintf(stderr, "evkv-server: --max-content must be a byte count\n");
                return EXIT_USAGE;
            }
            break;
        case 'v': opt.verbose = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("evkv-server %s\n", EVKV_VERSION); return EXIT_OK;
        default: fprintf(stderr, "Try 'evkv-server --help'.\n"); return EXIT_USAGE;
        }
    }
    if (argc - optind == 2) {
        opt.host = argv[optind];
        opt.port = argv[optind + 1];
    } else if (argc - optind != 0) {
        fprintf(stderr, "evkv-server: expected no arguments or HOST PORT\nTry 'evkv-server --help'.\n");
        return EXIT_USAGE;
    }
    if (!port_valid(opt.port)) {
        fprintf(stderr, "evkv-server: port must be a number from 0 to 65535, not '%s'\n", opt.port);
        return EXIT_USAGE;
    }

    if (opt.echo) {
        snprintf(source, sizeof(source), "echo mode");
    } else if (opt.data) {
        char err[512];
        double t0 = now_seconds();
        tbl = load_file(opt.data, opt.format, err, sizeof(err));
        if (tbl == NULL) {
            fprintf(stderr, "evkv-server: %s\n", err);
            return EXIT_USAGE;
        }
        snprintf(source, sizeof(source), "%zu keys from %s, loaded in %.2f s", table_size(tbl), opt.data,
                 now_seconds() - t0);
    } else {
        tbl = table_builtin();
        if (tbl == NULL) {
            fprintf(stderr, "evkv-server: out of memory\n");
            return EXIT_RUNTIME;
        }
        snprintf(source, sizeof(source), "%zu keys, built-in table", table_size(tbl));
    }

    signal(SIGPIPE, SIG_IGN);
    memset(&srv, 0, sizeof(srv));
    srv.opt = &opt;
    srv.handler.table = tbl;
    srv.base = event_base_new();
    if (srv.base == NULL) {
        fprintf(stderr, "evkv-server: cannot create the event loop\n");
        goto done;
    }
    srv.sig_int = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
    srv.sig_term = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
    srv.stop_timer = evtimer_new(srv.base, stop_timer_cb, &srv);
    if (!srv.sig_int || !srv.sig_term || !srv.stop_timer || evsignal_add(srv.sig_int, NULL) != 0 ||
        evsignal_add(srv.sig_term, NULL) != 0) {
        fprintf(stderr, "evkv-server: cannot set up signal handling\n");
        goto done;
    }
    if (server_listen(&srv, where, sizeof(where)) != 0)
        goto done;

    fprintf(stderr, "evkv-server: listening on %s (%s)\n", where, source);
    event_base_dispatch(srv.base);
    fprintf(stderr, "evkv-server: stopped%s%s after %llu requests\n", srv.stop_signal ? " on " : "",
            srv.stop_signal == SIGINT    ? "SIGINT"
            : srv.stop_signal == SIGTERM ? "SIGTERM"
                                         : "",
            (unsigned long long)srv.requests);
    status = srv.forced_stop ? EXIT_RUNTIME : EXIT_OK;

done:
    while (srv.conns)
        conn_close(srv.conns);
    if (srv.listener)
        evconnlistener_free(srv.listener);
    if (srv.sig_int)
        event_free(srv.sig_int);
    if (srv.sig_term)
        event_free(srv.sig_term);
    if (srv.stop_timer)
        event_free(srv.stop_timer);
    if (srv.base)
        event_base_free(srv.base);
    handler_ctx_free(&srv.handler);
    table_free(tbl);
    return status;
}
